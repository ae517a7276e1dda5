package tests

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// capsLine is how pamhost prints a thread's vectors, after a prefix.
var capsLine = regexp.MustCompile(`caps Inh=([0-9a-f]{16}) Bnd=([0-9a-f]{16}) Amb=([0-9a-f]{16}) keep=(\d)$`)

func parseCaps(t *testing.T, line string) (threadCaps, bool) {
	t.Helper()
	m := capsLine.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("not a caps line: %q", line)
	}
	hex := func(s string) uint64 { v, _ := strconv.ParseUint(s, 16, 64); return v }
	return threadCaps{Inh: hex(m[1]), Bnd: hex(m[2]), Amb: hex(m[3])}, m[4] == "1"
}

func TestIncompleteWhenUserNotYetAvailable(t *testing.T) {
	e := newEnv(t)
	e.service("svc", gocapModule(), "config="+e.conf("c.conf", mainConf))
	out := strings.Join(e.pamhostConv("svc", "again", "auth"), "\n")
	if out != "authenticate INCOMPLETE" {
		t.Fatalf("pamhost: %q, want authenticate INCOMPLETE", out)
	}
}

// The module is loaded and used in the parent; setcred and pam_end then run
// in forked children, where Go must not run. Every child must finish, with
// the right vectors, both when setcred applies the IAB and when pam_end does.
func TestForkedChildren(t *testing.T) {
	e := newEnv(t)
	conf := e.conf("c.conf", mainConf)
	children := 2000
	tests := []struct {
		name    string
		args    []string
		setcred string
		want    threadCaps
		keep    bool
	}{
		{"setcred applies", nil, "SUCCESS", threadCaps{capSysNice, capSysNice, baseline.Bnd &^ capSetpcap}, false},
		{"pam_end applies with defer", []string{"defer", "keepcaps"}, "PERM_DENIED", threadCaps{capSysNice, capSysNice, baseline.Bnd &^ capSetpcap}, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := fmt.Sprintf("fork%d", i)
			e.service(svc, gocapModule(), append([]string{"config=" + conf}, tt.args...)...)
			lines := e.pamhost(svc, "bob", fmt.Sprintf("fork:%d", children))
			checkChildren(t, lines, children, tt.setcred, tt.want, tt.keep)
		})
	}
}

// Two threads of one C host authenticate different users at once: each
// ends every round with its own user's IAB and nothing of the other's.
func TestThreadsKeepTheirOwnCapabilities(t *testing.T) {
	e := newEnv(t)
	e.service("svc", gocapModule(), "config="+e.conf("c.conf", mainConf))
	const rounds = 200
	lines := e.pamhost("svc", "", fmt.Sprintf("threads:alice,bob:%d", rounds))
	want := map[string]threadCaps{
		"alice": {capNetRaw, 0, baseline.Bnd},
		"bob":   {capSysNice, capSysNice, baseline.Bnd &^ capSetpcap},
	}
	count := map[string]int{}
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 5 || f[0] != "thread" || f[3] != "SUCCESS" || f[4] != "SUCCESS" {
			t.Fatalf("unexpected line %q", l)
		}
		got, _ := parseCaps(t, l)
		if got != want[f[1]] {
			t.Fatalf("%s round %s: %+v, want %+v", f[1], f[2], got, want[f[1]])
		}
		count[f[1]]++
	}
	if count["alice"] != rounds || count["bob"] != rounds {
		t.Fatalf("rounds seen: %v, want %d each", count, rounds)
	}
}

func (e *env) pamhostConv(service, mode string, ops ...string) []string {
	return e.pamhost(service, "", append([]string{"-c", mode}, ops...)...)
}

func TestLogs(t *testing.T) {
	e := newEnv(t)
	conf := e.conf("log.conf", "cap_net_raw alice\ncap_net_rw bob\n")
	ww := e.conf("ww.conf", "cap_net_raw alice\n")
	os.Chmod(ww, 0o666)
	e.service("logsvc", gocapModule(), "config="+conf, "debug", "frobnicate")
	e.service("logww", gocapModule(), "config="+ww)
	e.service("logdefer", gocapModule(), "config="+conf, "defer", "keepcaps")
	e.service("logquiet", gocapModule(), "config="+conf, "quiet")
	e.service("logdefault", gocapModule(), "config="+conf, "default=none")
	e.service("lognotapplied", gocapModule(), "config="+conf, "defer", "keepcaps")
	e.pamhost("logsvc", "alice", "auth", "setcred:establish")
	e.pamhost("logsvc", "bob", "fork:1")
	e.pamhost("logww", "alice", "auth")
	e.pamhost("logdefer", "alice", "auth", "fork:1")
	e.pamhost("logquiet", "alice", "setcred:establish")
	e.pamhost("logdefault", "dave", "setcred:establish")
	e.pamhost("lognotapplied", "alice", "setcred:establish", "end:success")
	tests := []struct{ name, want string }{
		{"debug says which line matched", `pam_gocap(logsvc:auth): ` + conf + `:1: user "alice" matched "cap_net_raw"`},
		{"debug says what was applied", `pam_gocap(logsvc:setcred): ` + conf + `:1: applying IAB "cap_net_raw" for user "alice"`},
		{"unknown argument", `pam_gocap(logsvc:auth): unknown argument "frobnicate" ignored`},
		{"typo, from the helper in a forked child", `pam_gocap(logsvc:setcred): ` + conf + `:2:1: unknown capability "cap_net_rw" (did you mean cap_net_raw?); nothing applied for user "bob"`},
		{"world-writable file", `pam_gocap(logww:auth): ` + ww + `: world-writable: refused`},
		{"audit line for a rule", `pam_gocap(logsvc:setcred): grant user="alice" iab=cap_net_raw from="` + conf + `:1"`},
		{"audit line for default=", `pam_gocap(logdefault:setcred): grant user="dave" iab=none from=default=`},
		{"audit line for a deferred IAB, in the forked child at pam_end", `pam_gocap(logdefer:setcred): grant user="alice" iab=cap_net_raw from="` + conf + `:1" deferred`},
		{"a deferred IAB that no process applied", `pam_gocap(lognotapplied:setcred): deferred IAB never applied: the host ended PAM without ` +
			`PAM_DATA_SILENT, and no process it forked applied it (sshd never does); nothing reached the session: user="alice" iab=cap_net_raw from="` + conf + `:1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := logsContaining(t, tt.want); len(got) == 0 {
				syslogMu.Lock()
				defer syslogMu.Unlock()
				t.Fatalf("no syslog line contains %q; have:\n%s", tt.want, strings.Join(syslog, "\n"))
			}
		})
	}
}

// quiet turns the audit line off, and a setcred that grants nothing logs
// none.
func TestNoAuditLine(t *testing.T) {
	e := newEnv(t)
	conf := e.conf("c.conf", "cap_net_raw alice\nall carol\n")
	e.service("noaudit-quiet", gocapModule(), "config="+conf, "quiet")
	e.service("noaudit", gocapModule(), "config="+conf)
	e.pamhost("noaudit-quiet", "alice", "setcred:establish")
	e.pamhost("noaudit", "carol", "setcred:establish")
	e.pamhost("noaudit", "frank", "setcred:establish")
	e.pamhost("noaudit", "alice", "setcred:establish") // the one line expected
	if got := logsContaining(t, `pam_gocap(noaudit:setcred): grant user="alice"`); len(got) != 1 {
		t.Fatalf("audit lines for alice: %q, want one", got)
	}
	syslogMu.Lock()
	defer syslogMu.Unlock()
	for _, l := range syslog {
		if strings.Contains(l, "noaudit-quiet") || (strings.Contains(l, "(noaudit:") && !strings.Contains(l, `user="alice"`)) {
			t.Errorf("unexpected line %q", l)
		}
	}
}

// As su does: setcred in the parent, pam_end(PAM_DATA_SILENT) in the child
// that goes on as the user (which applies the deferred IAB), pam_end in the
// parent after. The parent knows the child applied it and says nothing.
func TestDeferredAppliedInChildIsNotReported(t *testing.T) {
	e := newEnv(t)
	e.service("sulike", gocapModule(), "config="+e.conf("c.conf", mainConf), "defer", "keepcaps")
	lines := e.pamhost("sulike", "alice", "setcred:establish", "fork-end", "end:success")
	if got, _ := parseCaps(t, strings.TrimPrefix(findLine(t, lines, "child caps"), "child ")); got.Inh != capNetRaw {
		t.Fatalf("the child's vectors: %q", lines)
	}
	if got := logsContaining(t, `pam_gocap(sulike:setcred): grant user="alice" iab=cap_net_raw`); len(got) != 1 {
		t.Fatalf("grant lines: %q, want one", got)
	}
	syslogMu.Lock()
	defer syslogMu.Unlock()
	for _, l := range syslog {
		if strings.Contains(l, "sulike") && strings.Contains(l, "never applied") {
			t.Fatalf("the parent reported an IAB its child applied: %q", l)
		}
	}
}
