package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pam_gocap/capconf"
)

// A rule that denies by group warns when a later rule gives the group's
// members more: that later rule is what they get when NSS cannot place
// them in the group. fakeSystem puts bob and carol in netops.
func TestCheckDenyByGroup(t *testing.T) {
	const tail = " instead; deny by user name, or grant by group"
	holds := func(caps, group string) string {
		return "warning: \"" + caps + "\" for group \"" + group + "\" holds only while NSS can tell who is in it: " +
			"when it cannot (its directory out of reach), "
	}
	for _, tc := range []struct {
		name   string
		conf   string
		dropin string // capability.conf.d/99-default.conf, if not empty
		args   string
		want   []string // the warnings about denying by group, without the file name
	}{
		{name: "none before a rule for everyone", conf: "none @netops\ncap_net_raw *\n",
			want: []string{":1:6: " + holds("none", "netops") + `line 2 gives them "cap_net_raw"` + tail}},
		{name: "drops only before a member's rule", conf: "!cap_sys_admin @netops\ncap_chown carol\n",
			want: []string{":1:16: " + holds("!cap_sys_admin", "netops") + `line 2 gives them "cap_chown"` + tail}},
		{name: "the first later rule that gives more", conf: "none @netops\nnone bob\ncap_chown alice\ncap_sys_nice bob\ncap_net_raw *\n",
			want: []string{":1:6: " + holds("none", "netops") + `line 4 gives them "cap_sys_nice"` + tail}},
		{name: "each group of the rule", conf: "none @netops @staff alice\ncap_net_raw *\n",
			want: []string{":1:6: " + holds("none", "netops") + `line 2 gives them "cap_net_raw"` + tail,
				":1:14: " + holds("none", "staff") + `line 2 gives them "cap_net_raw"` + tail}},
		{name: "none keeps what a drop drops", conf: "!cap_sys_admin @netops\nnone *\n",
			want: []string{":1:16: " + holds("!cap_sys_admin", "netops") + `line 2 gives them "none"` + tail}},
		{name: "default= for users no later rule names", conf: "none @netops\ncap_chown alice\n", args: "default=cap_net_raw",
			want: []string{":1:6: " + holds("none", "netops") + "the module argument default=cap_net_raw applies" + tail}},
		{name: "a later rule in a drop-in file", conf: "none @netops\n", dropin: "cap_net_raw *\n",
			want: []string{":1:6: " + holds("none", "netops") + `DIR/capability.conf.d/99-default.conf:1 gives them "cap_net_raw"` + tail}},
		{name: "a rule for a user outside the group", conf: "none @netops\ncap_chown alice\n"},
		{name: "none after none", conf: "none @netops\nnone *\n"},
		{name: "the same drops after", conf: "!cap_sys_admin @netops\n!cap_sys_admin,!cap_chown *\n"},
		{name: "default= behind a rule for everyone", conf: "none @netops\nnone *\n", args: "default=cap_net_raw"},
		{name: "granting by group", conf: "cap_net_raw @netops\nnone *\n"},
		{name: "denying by user name", conf: "none bob carol\ncap_net_raw *\n"},
		{name: "a denial that never matches", conf: "cap_chown *\nnone @netops\ncap_net_raw *\n"},
		{name: "all is not a denial", conf: "all @netops\ncap_net_raw *\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "capability.conf")
			if err := os.WriteFile(path, []byte(tc.conf), 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.dropin != "" {
				if err := os.Mkdir(path+".d", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(path+".d", "99-default.conf"), []byte(tc.dropin), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			findings, err := check(path, capconf.ParseArgs(moduleArgs(tc.args)), fakeSystem{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range findings {
				if s := f.String(); strings.Contains(s, "holds only while NSS") {
					got = append(got, strings.ReplaceAll(strings.TrimPrefix(s, path), dir, "DIR"))
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
