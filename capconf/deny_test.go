package capconf

import "testing"

func TestDenies(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		drops      uint64
		ok         bool
	}{
		{"none", "none", 0, true},
		{"all keeps everything", "all", 0, false},
		{"one drop", "!cap_sys_admin", 1 << 21, true},
		{"two drops", "!cap_sys_admin,!cap_net_raw", 1<<21 | 1<<13, true},
		{"a grant", "cap_net_raw", 0, false},
		{"a drop and a grant", "!cap_sys_admin,cap_net_raw", 0, false},
		{"inheritable and dropped", "!%cap_net_raw", 0, false},
		{"ambient", "^cap_net_raw", 0, false},
		{"does not parse", "cap_net_rw", 0, false},
		{"empty", "", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			drops, ok := Denies(tc.text)
			if drops != tc.drops || ok != tc.ok {
				t.Errorf("Denies(%q) = %#x, %v; want %#x, %v", tc.text, drops, ok, tc.drops, tc.ok)
			}
		})
	}
}

func TestGrantsMore(t *testing.T) {
	const sysAdmin = 1 << 21
	for _, tc := range []struct {
		name  string
		text  string
		drops uint64
		want  bool
	}{
		{"a capability after none", "cap_net_raw", 0, true},
		{"ambient after none", "^cap_sys_nice", 0, true},
		{"all after none", "all", 0, true},
		{"none after none", "none", 0, false},
		{"none keeps what a drop drops", "none", sysAdmin, true},
		{"the same drop", "!cap_sys_admin", sysAdmin, false},
		{"more drops", "!cap_sys_admin,!cap_net_raw", sysAdmin, false},
		{"another drop keeps this one", "!cap_net_raw", sysAdmin, true},
		{"the same drop and a capability", "!cap_sys_admin,cap_chown", sysAdmin, true},
		{"does not parse", "cap_net_rw", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := GrantsMore(tc.text, tc.drops); got != tc.want {
				t.Errorf("GrantsMore(%q, %#x) = %v, want %v", tc.text, tc.drops, got, tc.want)
			}
		})
	}
}
