package capconf

import (
	"errors"
	"fmt"
	"kernel.org/pub/linux/libs/security/libcap/cap"
	"slices"
	"strings"
	"testing"
)

const (
	chown  = 1 << 0
	netRaw = 1 << 13
	sysNic = 1 << 23
	setpcp = 1 << 8
)

func TestParseIAB(t *testing.T) {
	tests := []struct {
		name, text string
		want       IAB
	}{
		{"empty", "", IAB{}},
		{"one name", "cap_net_raw", IAB{Inh: netRaw}},
		{"letter case is ignored", "CAP_Net_Raw", IAB{Inh: netRaw}},
		{"percent is inheritable", "%cap_net_raw", IAB{Inh: netRaw}},
		{"caret is inheritable and ambient", "^cap_sys_nice", IAB{Inh: sysNic, Amb: sysNic}},
		{"bang drops from bounding only", "!cap_setpcap", IAB{Bound: setpcp}},
		{"bang and percent", "!%cap_setpcap", IAB{Inh: setpcp, Bound: setpcp}},
		{"bang and caret", "!^cap_sys_nice", IAB{Inh: sysNic, Amb: sysNic, Bound: sysNic}},
		{"list", "cap_chown,^cap_sys_nice,!cap_setpcap", IAB{Inh: chown | sysNic, Amb: sysNic, Bound: setpcp}},
		{"decimal", "13", IAB{Inh: netRaw}},
		{"hex as strtoul", "0xd", IAB{Inh: netRaw}},
		{"octal as strtoul", "015", IAB{Inh: netRaw}},
		{"highest number", "63", IAB{Inh: 1 << 63}},
		{"trailing comma, as libcap", "cap_net_raw,", IAB{Inh: netRaw}},
		{"dangling prefix, as libcap", "cap_net_raw,!", IAB{Inh: netRaw}},
		{"repeated prefixes", "!!^cap_chown", IAB{Inh: chown, Amb: chown, Bound: chown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIAB(tt.text)
			if err != nil {
				t.Fatalf("ParseIAB(%q): %v", tt.text, err)
			}
			if got != tt.want {
				t.Fatalf("ParseIAB(%q) = %+v, want %+v", tt.text, got, tt.want)
			}
		})
	}
}

func TestParseIABErrors(t *testing.T) {
	tests := []struct {
		text, want string
		offset     int
	}{
		{"cap_net_rw", `unknown capability "cap_net_rw" (did you mean cap_net_raw?)`, 0},
		{"net_raw", `unknown capability "net_raw" (did you mean cap_net_raw?)`, 0},
		{"cap_chown,cap_bogus_thing", `unknown capability "cap_bogus_thing"`, 10},
		{"cap_net_raw=ie", `unexpected "=" after "cap_net_raw": IAB text is a comma-separated list with no spaces, such as cap_net_raw,^cap_sys_nice`, 11},
		{"cap_net_raw, cap_chown", `unexpected space after "cap_net_raw,": IAB text is a comma-separated list with no spaces, such as cap_net_raw,^cap_sys_nice`, 12},
		{"cap_net_raw,,cap_chown", `unknown capability ""`, 12},
		{"all", `"all" stands alone: it cannot be part of a list or written in capitals`, 0},
		{"none,cap_chown", `"none" stands alone: it cannot be part of a list or written in capitals`, 0},
		{"cap_chown,ALL", `"ALL" stands alone: it cannot be part of a list or written in capitals`, 10},
		{"64", `capability number "64" is out of range (0 to 63)`, 0},
		{"99999999999999999999999", `capability number "99999999999999999999999" is out of range (0 to 63)`, 0},
		{"08", `unexpected "8" after "0": IAB text is a comma-separated list with no spaces, such as cap_net_raw,^cap_sys_nice`, 1},
		{"+1", `unknown capability "+1"`, 0},
		{"cap_net_raw2", `unexpected "2" after "cap_net_raw": IAB text is a comma-separated list with no spaces, such as cap_net_raw,^cap_sys_nice`, 11},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			_, err := ParseIAB(tt.text)
			var ie *IABError
			if !errors.As(err, &ie) {
				t.Fatalf("ParseIAB(%q) error = %v, want an *IABError", tt.text, err)
			}
			if ie.Msg != tt.want || ie.Offset != tt.offset {
				t.Fatalf("ParseIAB(%q) error = %q at %d, want %q at %d", tt.text, ie.Msg, ie.Offset, tt.want, tt.offset)
			}
		})
	}
}

func TestIABStringRoundTrip(t *testing.T) {
	tests := []struct{ text, want string }{
		{"", ""},
		{"CAP_NET_RAW", "cap_net_raw"},
		{"^cap_sys_nice,cap_chown", "cap_chown,^cap_sys_nice"},
		{"!cap_setpcap", "!cap_setpcap"},
		{"!%cap_setpcap", "!%cap_setpcap"},
		{"!^cap_setpcap", "!^cap_setpcap"},
		{"0x3f,41", "41,63"},
	}
	for _, tt := range tests {
		v, err := ParseIAB(tt.text)
		if err != nil {
			t.Fatalf("ParseIAB(%q): %v", tt.text, err)
		}
		if got := v.String(); got != tt.want {
			t.Errorf("ParseIAB(%q).String() = %q, want %q", tt.text, got, tt.want)
		}
		again, err := ParseIAB(v.String())
		if err != nil || again != v {
			t.Errorf("ParseIAB(%q) = %+v, %v; want %+v", v.String(), again, err, v)
		}
	}
}

func FuzzParseIAB(f *testing.F) {
	for _, s := range []string{"cap_net_raw", "^cap_sys_nice,!%cap_setpcap", "0x1f,010,", "!", "CAP_CHOWN,,", "64"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		v, err := ParseIAB(text)
		if err != nil {
			var ie *IABError
			if !errors.As(err, &ie) || ie.Offset < 0 || ie.Offset > len(text) {
				t.Fatalf("ParseIAB(%q): error %v has no offset within the text", text, err)
			}
			return
		}
		again, err := ParseIAB(v.String())
		if err != nil || again != v {
			t.Fatalf("round trip of %q: %q gives %+v, %v; want %+v", text, v.String(), again, err, v)
		}
		// Where libcap's Go parser accepts the text too, it must read the
		// same vectors, but for the listed difference: a number with a
		// leading zero is octal here, as in libcap's C parser (which
		// pam_cap.so uses), and decimal in Go's. (Go's parser refuses what
		// else we accept: capitals, hex, a trailing comma or prefix.) Go's
		// IAB shows no bit past the running kernel's last capability, so
		// those bits (which the module refuses to apply) are left out.
		theirs, err := cap.IABFromText(text)
		if err != nil || hasLeadingZero(text) {
			return
		}
		var want IAB
		for c := cap.Value(0); c < 64; c++ {
			bit := uint64(1) << c
			for _, vec := range []struct {
				which cap.Vector
				into  *uint64
			}{{cap.Inh, &want.Inh}, {cap.Amb, &want.Amb}, {cap.Bound, &want.Bound}} {
				if on, _ := theirs.GetVector(vec.which, c); on {
					*vec.into |= bit
				}
			}
		}
		known := uint64(1)<<cap.MaxBits() - 1
		if got := (IAB{v.Inh & known, v.Amb & known, v.Bound & known}); got != want {
			t.Fatalf("ParseIAB(%q) = %+v; libcap's IABFromText reads %+v", text, got, want)
		}
	})
}

// hasLeadingZero reports whether the text names a capability by a number
// written with a leading zero ("010"), which libcap's C and Go parsers read
// differently.
func hasLeadingZero(text string) bool {
	for _, f := range strings.Split(text, ",") {
		f = strings.TrimLeft(f, "!^%")
		if len(f) > 1 && f[0] == '0' && isDigit(f[1]) {
			return true
		}
	}
	return false
}

func TestLeadingZeroIsOctal(t *testing.T) {
	if v, err := ParseIAB("010"); err != nil || v.Inh != 1<<8 {
		t.Fatalf("ParseIAB(010) = %+v, %v; want cap 8, as libcap's C parser reads it", v, err)
	}
}

func ExampleParseIAB() {
	v, err := ParseIAB("CAP_NET_RAW,^cap_sys_nice,!cap_setpcap")
	fmt.Println(v, err)
	_, err = ParseIAB("cap_net_rw")
	fmt.Println(err)
	// Output:
	// !cap_setpcap,cap_net_raw,^cap_sys_nice <nil>
	// unknown capability "cap_net_rw" (did you mean cap_net_raw?)
}

// CapNames lists what IAB.String names for an Inheritable set, and an
// empty list, not nil, for none.
func TestCapNames(t *testing.T) {
	for _, v := range []uint64{1, 1<<13 | 1<<2, 1<<41 - 1, 1 << 45, 1<<63 | 1} {
		if got, want := CapNames(v), strings.Split(IAB{Inh: v}.String(), ","); !slices.Equal(got, want) {
			t.Errorf("CapNames(%#x) = %q, want %q", v, got, want)
		}
	}
	if got := CapNames(0); got == nil || len(got) != 0 {
		t.Errorf("CapNames(0) = %#v, want []string{}", got)
	}
}
