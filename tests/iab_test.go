package tests

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// secbitNoCapAmbientRaise is SECBIT_NO_CAP_AMBIENT_RAISE.
const secbitNoCapAmbientRaise = 1 << 6

// Applying an IAB is all or nothing. When the host has set
// SECBIT_NO_CAP_AMBIENT_RAISE, the rule "^cap_kill,!cap_chown" cannot be
// applied: before, Inheritable got cap_kill and Bounding kept cap_chown.
// Now the module sees it before it changes anything, and says so; the
// thread ends as it started, in the host, in a forked child (the helper)
// and at pam_end (defer).
func TestIABAllOrNothing(t *testing.T) {
	e := newEnv(t)
	conf := e.conf("c.conf", "^cap_kill,!cap_chown alice\n^cap_net_raw,!cap_chown,!cap_kill bob\n")
	secbits := fmt.Sprintf("secbits:%d", secbitNoCapAmbientRaise)
	audit := func(user, iab string) string {
		return fmt.Sprintf(`nothing granted: user="%s" iab=%s from="%s:%d"`, user, iab, conf, map[string]int{"alice": 1, "bob": 2}[user])
	}
	tests := []struct {
		name, user string
		args, ops  []string
		dropped    uint64 // Bounding drops made before the failure: they stay
		log        string
	}{
		{"SECBIT_NO_CAP_AMBIENT_RAISE, in the host", "alice", nil,
			[]string{secbits, "caps", "setcred:establish", "caps"}, 0,
			"applying the IAB failed: SECBIT_NO_CAP_AMBIENT_RAISE is set: Operation not permitted; capabilities left as they were; " +
				audit("alice", "!cap_chown,^cap_kill")},
		{"SECBIT_NO_CAP_AMBIENT_RAISE, from a full start", "alice", nil,
			[]string{"full", secbits, "caps", "setcred:establish", "caps"}, 0,
			"applying the IAB failed: SECBIT_NO_CAP_AMBIENT_RAISE is set"},
		{"SECBIT_NO_CAP_AMBIENT_RAISE, in a forked child", "alice", nil,
			[]string{secbits, "caps", "fork:1"}, 0,
			"applying the IAB failed: SECBIT_NO_CAP_AMBIENT_RAISE is set"},
		{"SECBIT_NO_CAP_AMBIENT_RAISE, deferred to pam_end", "alice", []string{"defer"},
			[]string{secbits, "caps", "setcred:establish", "end:silent", "caps"}, 0,
			"deferred IAB failed: SECBIT_NO_CAP_AMBIENT_RAISE is set: Operation not permitted; capabilities left as they were; " +
				audit("alice", "!cap_chown,^cap_kill")},
		// Refusals the module cannot see coming (a seccomp filter here).
		// An Ambient raise comes before any Bounding drop: Inheritable and
		// Ambient are put back and nothing is dropped.
		{"the kernel refuses an Ambient raise, from an empty start", "bob", nil,
			[]string{"refuse-prctl:47:2:13", "caps", "setcred:establish", "caps"}, 0,
			"applying the IAB failed: raising an Ambient capability failed: Operation not permitted; capabilities left as they were; " +
				audit("bob", "!cap_chown,!cap_kill,^cap_net_raw")},
		{"the kernel refuses an Ambient raise, from a full start", "bob", nil,
			[]string{"full", "refuse-prctl:47:2:13", "caps", "setcred:establish", "caps"}, 0,
			"applying the IAB failed: raising an Ambient capability failed: Operation not permitted; capabilities left as they were; " +
				audit("bob", "!cap_chown,!cap_kill,^cap_net_raw")},
		// A refused Bounding drop: the drop of cap_chown, made before it,
		// cannot be undone, and the log says so; the rest is put back.
		{"the kernel refuses a Bounding drop", "bob", nil,
			[]string{"full", "refuse-prctl:24:5", "caps", "setcred:establish", "caps"}, capChown,
			"applying the IAB failed: dropping a Bounding capability failed: Operation not permitted; capabilities left as they were " +
				"(but for 1 Bounding drop, which cannot be undone); " + audit("bob", "!cap_chown,!cap_kill,^cap_net_raw")},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := fmt.Sprintf("allornothing%d", i)
			e.service(svc, gocapModule(), append([]string{"config=" + conf}, tt.args...)...)
			lines, _ := e.pamhostRun(hostRun{limit: time.Minute}, svc, tt.user, tt.ops...)
			var before, after []string
			for _, l := range lines {
				switch {
				case strings.HasPrefix(l, "caps ") && before == nil:
					before = append(before, l)
				case strings.HasPrefix(l, "caps "), strings.HasPrefix(l, "child 0 caps "):
					after = append(after, l)
				case strings.Contains(l, "setcred ") && !strings.HasSuffix(l, " PERM_DENIED"):
					t.Fatalf("%q: setcred granted", lines)
				}
			}
			if len(before) != 1 || len(after) != 1 {
				t.Fatalf("no vectors before and after in %q", lines)
			}
			b, bk := parseCaps(t, before[0])
			a, ak := parseCaps(t, after[0])
			b.Bnd &^= tt.dropped
			if a != b || ak != bk {
				t.Fatalf("vectors before %+v keep=%v, after %+v keep=%v: the IAB was half applied", b, bk, a, ak)
			}
			if want := "pam_gocap(" + svc + ":setcred): "; len(logsContaining(t, tt.log, want)) == 0 {
				syslogMu.Lock()
				defer syslogMu.Unlock()
				t.Fatalf("no log line %q; have:\n%s", tt.log, strings.Join(syslog, "\n"))
			}
		})
	}
}
