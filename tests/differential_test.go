package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// diffOps: authenticate in one transaction, then setcred and pam_end(silent)
// in another (libpam judges setcred by a cached authenticate result within
// one), printing the thread's vectors after each.
var diffOps = []string{"auth", "end:success", "setcred:establish", "caps", "end:silent", "caps"}

// Both modules run the same configs, arguments and users through the same C
// host; everything they print must be the same.
func TestSameAsPamCap(t *testing.T) {
	e := newEnv(t)
	pamCap := pamCapModule(t)
	configs := map[string]string{
		"names":   "CAP_NET_RAW alice\n0x17,^cap_sys_nice,!CAP_SETPCAP @netops\ncap_chown, dave\n!cap_setpcap,%cap_chown erin\n",
		"words":   "all alice\nnone bob\ncap_bogus carol\nNONE dave\nAll erin\n",
		"cve":     "cap_net_raw netops\ncap_chown *\n",
		"numbers": "13,014 alice\n40 bob\n64 carol\n08 dave\n+1 erin\n",
		"empty":   "",
		"devnull": "/dev/null",
	}
	argSets := [][]string{nil, {"keepcaps"}, {"defer", "keepcaps"}, {"autoauth"},
		{"default=cap_sys_nice"}, {"default=none"}, {"default=^cap_chown", "defer"}}
	users := []string{"alice", "bob", "carol", "dave", "erin", "root", "no-such-user"}
	cases := 0
	for cname, text := range configs {
		path := text
		if text != "/dev/null" {
			path = e.conf(cname+".conf", text)
		}
		for ai, args := range argSets {
			all := append([]string{"config=" + path}, args...)
			svc := fmt.Sprintf("%s-%d", cname, ai)
			e.service(svc+"-gocap", gocapModule(), all...)
			e.service(svc+"-pamcap", pamCap, all...)
			for _, user := range users {
				ours := strings.Join(e.pamhost(svc+"-gocap", user, diffOps...), "\n")
				theirs := strings.Join(e.pamhost(svc+"-pamcap", user, diffOps...), "\n")
				if ours != theirs {
					t.Errorf("config %s, args %q, user %s:\npam_gocap:\n%s\npam_cap:\n%s", cname, args, user, ours, theirs)
				}
				cases++
			}
		}
	}
	t.Logf("%d cases agree", cases)
}

// Where we differ from Debian 12's pam_cap.so on purpose, both sides are
// pinned down, one case per row of the README's table, so that the table
// stays true.
func TestDifferencesFromPamCap(t *testing.T) {
	e := newEnv(t)
	pamCap := pamCapModule(t)
	// pam_cap reads 4095 bytes at a time: the tail of this line becomes a
	// rule of its own and gives alice cap_net_raw, which nobody wrote as a
	// capability. We read the line whole: alice is a user of cap_chown.
	head := "cap_chown "
	long := e.conf("long.conf", head+strings.Repeat("x", 4095-len(head))+" cap_net_raw alice\n")
	ww := e.conf("ww.conf", "cap_net_raw alice\n")
	os.Chmod(ww, 0o666)
	crlf := e.conf("crlf.conf", "cap_net_raw alice\r\n")
	dir := filepath.Join(e.dir, "dir.conf")
	os.Mkdir(dir, 0o755)
	past := e.conf("past.conf", "cap_net_raw,63 alice\n")
	type side struct {
		setcred string
		inh     uint64 // alice's Inheritable set after setcred
	}
	tests := []struct {
		name          string
		args          []string
		ours, pamCaps side
	}{
		{"line longer than 4095 bytes", []string{"config=" + long}, side{"SUCCESS", capChown}, side{"SUCCESS", capNetRaw}},
		{"CRLF line ends", []string{"config=" + crlf}, side{"SUCCESS", capNetRaw}, side{"PERM_DENIED", 0}},
		{"world-writable file, with default=", []string{"config=" + ww, "default=cap_chown"}, side{"PERM_DENIED", 0}, side{"SUCCESS", capNetRaw}},
		{"a directory as the file, with default=", []string{"config=" + dir, "default=cap_chown"}, side{"PERM_DENIED", 0}, side{"SUCCESS", capChown}},
		{"missing file, with default=", []string{"config=" + dir + "/none", "default=cap_chown"}, side{"PERM_DENIED", 0}, side{"SUCCESS", capChown}},
		{"capability past the kernel's last", []string{"config=" + past}, side{"PERM_DENIED", 0}, side{"SUCCESS", capNetRaw}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range []struct {
				module string
				want   side
			}{{gocapModule(), tt.ours}, {pamCap, tt.pamCaps}} {
				svc := fmt.Sprintf("d%d-%s", i, filepath.Base(s.module))
				e.service(svc, s.module, tt.args...)
				lines := e.pamhost(svc, "alice", "setcred:establish", "caps")
				got, _ := parseCaps(t, lines[len(lines)-1])
				if lines[0] != "setcred "+s.want.setcred || got.Inh != s.want.inh {
					t.Errorf("%s: %q, Inheritable %#x; want setcred %s, Inheritable %#x",
						filepath.Base(s.module), lines[0], got.Inh, s.want.setcred, s.want.inh)
				}
			}
		})
	}
}
