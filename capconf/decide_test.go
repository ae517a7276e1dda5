package capconf

import (
	"errors"
	"fmt"
	"io"
	"os/user"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// fakeSystem serves rules files from memory and knows a few users.
type fakeSystem struct {
	files     map[string]string // path: content; missing paths do not exist
	users     map[string][]string
	openFiles *openCount // if not nil, counts what is open
}

// CheckConfig refuses a file whose content is "WORLD-WRITABLE"; one whose
// content is "CHANGED" passes, but OpenConfig finds another file there.
func (s fakeSystem) CheckConfig(path string) (FileID, error) {
	data, ok := s.files[path]
	switch {
	case !ok:
		return FileID{}, &PathError{Op: "stat", Path: path, Err: syscall.ENOENT}
	case data == "WORLD-WRITABLE":
		return FileID{}, fmt.Errorf("%s: world-writable: %w", path, ErrRefused)
	}
	return fakeID(path), nil
}

func (s fakeSystem) OpenConfig(path string, id FileID) (io.ReadCloser, error) {
	if s.files[path] == "CHANGED" || id != fakeID(path) {
		return nil, fmt.Errorf("%s: not the file that was checked: %w", path, ErrRefused)
	}
	s.openFiles.add(1)
	return fakeFile{strings.NewReader(s.files[path]), s.openFiles}, nil
}

// fakeID is a fake file's identity: its path's length and last byte.
func fakeID(path string) FileID {
	return FileID{Dev: 1, Ino: uint64(len(path))<<8 | uint64(path[len(path)-1])}
}

// openCount counts a fake system's open files and directories, and the
// most that were open at once.
type openCount struct{ now, most int }

func (c *openCount) add(n int) {
	if c == nil {
		return
	}
	c.now += n
	c.most = max(c.most, c.now)
}

type fakeFile struct {
	io.Reader
	count *openCount
}

func (f fakeFile) Close() error { f.count.add(-1); return nil }

func (s fakeSystem) LookupGroup(name string) error {
	for _, groups := range s.users {
		for _, g := range groups {
			if g == name {
				return nil
			}
		}
	}
	return user.UnknownGroupError(name)
}

// errNSS stands for NSS failing (a directory down, descriptors exhausted):
// the fake gives it for user "nss-down", and for the groups of "groups-down".
var errNSS = errors.New("too many open files")

func (s fakeSystem) LookupUser(name string) (Groups, error) {
	switch name {
	case "nss-down":
		return nil, errNSS
	case "groups-down":
		return func() ([]string, error) { return nil, errNSS }, nil
	}
	groups, ok := s.users[name]
	if !ok {
		return nil, UnknownUserError(name)
	}
	return groupsOf(groups...), nil
}

// OpenDropIns lists the fake files under dir whose names end in ".conf",
// in byte order; a dir whose content is "WORLD-WRITABLE" is refused, and
// so are files in it as CheckConfig and OpenConfig refuse them.
func (s fakeSystem) OpenDropIns(dir string) (DropInDir, error) {
	if s.files[dir] == "WORLD-WRITABLE" {
		return nil, fmt.Errorf("%s: world-writable: %w", dir, ErrRefused)
	}
	var paths []string
	for p := range s.files {
		if strings.HasPrefix(p, dir+"/") && strings.HasSuffix(p, ".conf") {
			paths = append(paths, p)
		}
	}
	if paths == nil {
		return nil, nil
	}
	sort.Strings(paths)
	s.openFiles.add(1)
	return fakeDir{s, paths}, nil
}

type fakeDir struct {
	sys   fakeSystem
	paths []string
}

func (d fakeDir) Paths() []string             { return d.paths }
func (d fakeDir) Check(i int) (FileID, error) { return d.sys.CheckConfig(d.paths[i]) }
func (d fakeDir) Open(i int, id FileID) (io.ReadCloser, error) {
	return d.sys.OpenConfig(d.paths[i], id)
}
func (d fakeDir) Close() error { d.sys.openFiles.add(-1); return nil }

// CapBits is the kernel of the machine these tests were written on.
func (s fakeSystem) CapBits() int { return 41 }

var testSystem = fakeSystem{
	files: map[string]string{
		DefaultConfig:  "cap_net_raw alice\n^cap_sys_nice,!cap_setpcap @admins\nall carol\nnone dave\ncap_net_rw erin\n",
		"/star.conf":   "cap_chown *\n",
		"/ww.conf":     "WORLD-WRITABLE",
		"/long.conf":   "cap_chown alice\ncap_net_raw " + strings.Repeat("x", MaxLineLength) + "\ncap_net_raw *\n",
		"/empty.conf":  "",
		"/groups.conf": "cap_chown @ghosts\ncap_net_raw @admins @ghosts\nnone *\n",
		"/past.conf":   "cap_chown,40 alice\n!63 bob\n^41 carol\n",
		// drop-ins: /d.conf, then /d.conf.d/*.conf in byte order
		"/d.conf":                     "cap_chown alice\n",
		"/d.conf.d/10-net.conf":       "cap_net_raw bob @admins\n",
		"/d.conf.d/20-nice.conf":      "cap_sys_nice bob carol\n",
		"/d.conf.d/99-default.conf":   "none *\n",
		"/star.conf.d/50-late.conf":   "cap_net_raw alice\n",
		"/ww-in.conf":                 "cap_chown alice\n",
		"/ww-in.conf.d/10-ww.conf":    "WORLD-WRITABLE",
		"/ww-in.conf.d/20-ok.conf":    "cap_net_raw bob\n",
		"/wwdir.conf":                 "cap_chown alice\n",
		"/wwdir.conf.d":               "WORLD-WRITABLE",
		"/nomain.conf.d/10-only.conf": "cap_net_raw bob\n",
		"/changed.conf":               "cap_chown alice\n",
		"/changed.conf.d/10-c.conf":   "CHANGED",
	},
	users: map[string][]string{
		"alice": {"alice"}, "bob": {"bob", "admins"}, "carol": {"carol"},
		"dave": {"dave"}, "erin": {"erin"}, "frank": {"frank"},
	},
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name   string
		req    Request
		result Result
		action Action
		iab    IAB
		keep   bool
		logs   []string
	}{
		// authenticate
		{name: "auth listed user", req: Request{Entry: Authenticate, User: "alice"}, result: Success},
		{name: "auth group member", req: Request{Entry: Authenticate, User: "bob"}, result: Success},
		{name: "auth unlisted user", req: Request{Entry: Authenticate, User: "frank"}, result: Ignore},
		{name: "auth unknown user", req: Request{Entry: Authenticate, User: "nobody-here"}, result: Ignore},
		{name: "auth line with bad caps still matches", req: Request{Entry: Authenticate, User: "erin"}, result: Success},
		{name: "auth user not available yet", req: Request{Entry: Authenticate, Status: UserConvAgain, Argv: []string{"autoauth"}}, result: Incomplete},
		{name: "auth autoauth", req: Request{Entry: Authenticate, User: "frank", Argv: []string{"autoauth"}}, result: Success},
		{name: "auth autoauth without user", req: Request{Entry: Authenticate, Status: UserMissing, Argv: []string{"autoauth"}}, result: Success},
		{name: "auth no user", req: Request{Entry: Authenticate, Status: UserMissing}, result: AuthErr},
		{name: "auth wildcard", req: Request{Entry: Authenticate, User: "frank", Argv: []string{"config=/star.conf"}}, result: Success},
		{name: "auth missing config", req: Request{Entry: Authenticate, User: "alice", Argv: []string{"config=/nope"}}, result: Ignore},
		{name: "auth world-writable config", req: Request{Entry: Authenticate, User: "frank", Argv: []string{"config=/ww.conf"}}, result: Ignore,
			logs: []string{"3 /ww.conf: world-writable: refused; nothing granted, not even default="}},
		{name: "auth default= does not count", req: Request{Entry: Authenticate, User: "frank", Argv: []string{"default=cap_chown"}}, result: Ignore},
		{name: "unknown argument is logged", req: Request{Entry: Authenticate, User: "alice", Argv: []string{"bogus", "debug=1"}}, result: Success,
			logs: []string{`3 unknown argument "bogus" ignored`, `3 unknown argument "debug=1" ignored`}},

		// setcred
		{name: "setcred listed user", req: Request{Entry: SetCred, User: "alice"}, action: ApplyIAB, iab: IAB{Inh: netRaw}},
		{name: "setcred group member", req: Request{Entry: SetCred, User: "bob"}, action: ApplyIAB, iab: IAB{Inh: sysNic, Amb: sysNic, Bound: setpcp},
			logs: []string{"4 " + ambientWarning}},
		{name: "setcred all", req: Request{Entry: SetCred, User: "carol"}, result: Success},
		{name: "setcred none", req: Request{Entry: SetCred, User: "dave"}, action: ClearInh},
		{name: "setcred bad caps grants nothing", req: Request{Entry: SetCred, User: "erin"}, result: Ignore,
			logs: []string{`3 /etc/security/capability.conf:5:1: unknown capability "cap_net_rw" (did you mean cap_net_raw?); nothing applied for user "erin"`}},
		{name: "setcred unlisted user", req: Request{Entry: SetCred, User: "frank"}, result: Ignore},
		{name: "setcred no user", req: Request{Entry: SetCred, Status: UserMissing}, result: AuthErr},
		{name: "setcred empty user", req: Request{Entry: SetCred, User: ""}, result: AuthErr},
		{name: "setcred keepcaps", req: Request{Entry: SetCred, User: "alice", Argv: []string{"keepcaps"}}, action: ApplyIAB, iab: IAB{Inh: netRaw}, keep: true},
		{name: "setcred keepcaps not for none", req: Request{Entry: SetCred, User: "dave", Argv: []string{"keepcaps"}}, action: ClearInh},
		{name: "setcred keepcaps not for all", req: Request{Entry: SetCred, User: "carol", Argv: []string{"keepcaps"}}, result: Success},
		{name: "setcred defer", req: Request{Entry: SetCred, User: "alice", Argv: []string{"defer", "keepcaps"}}, action: DeferIAB, iab: IAB{Inh: netRaw}, keep: true},
		{name: "setcred defer does not defer none", req: Request{Entry: SetCred, User: "dave", Argv: []string{"defer"}}, action: ClearInh},
		{name: "setcred default for unlisted", req: Request{Entry: SetCred, User: "frank", Argv: []string{"default=cap_chown"}}, action: ApplyIAB, iab: IAB{Inh: chown}},
		{name: "setcred default for unknown user", req: Request{Entry: SetCred, User: "ghost", Argv: []string{"default=cap_chown"}}, action: ApplyIAB, iab: IAB{Inh: chown}},
		{name: "setcred no default for unknown user after a refused config", req: Request{Entry: SetCred, User: "ghost", Argv: []string{"config=/ww.conf", "default=cap_chown"}}, result: Ignore,
			logs: []string{"3 /ww.conf: world-writable: refused; nothing granted, not even default="}},
		{name: "setcred no default for unknown user after a refused drop-in", req: Request{Entry: SetCred, User: "ghost", Argv: []string{"config=/ww-in.conf", "default=cap_chown"}}, result: Ignore,
			logs: []string{"3 /ww-in.conf.d/10-ww.conf: world-writable: refused; nothing granted, not even default="}},
		{name: "setcred no default for unknown user after a missing config", req: Request{Entry: SetCred, User: "ghost", Argv: []string{"config=/nope", "default=cap_chown"}}, result: Ignore,
			logs: []string{"3 stat /nope: no such file or directory; nothing granted, not even default="}},
		{name: "setcred no default for unknown user after a line that cannot be read", req: Request{Entry: SetCred, User: "ghost", Argv: []string{"config=/long.conf", "default=cap_chown"}}, result: Ignore,
			logs: []string{fmt.Sprintf(`3 /long.conf:2:1: line is longer than %d bytes; it is ignored and so is the rest of the file; nothing granted to user "ghost", not even default=`, MaxLineLength)}},
		{name: "setcred unknown user without default= checks nothing", req: Request{Entry: SetCred, User: "ghost", Argv: []string{"config=/ww.conf"}}, result: Ignore},
		{name: "setcred empty default clears", req: Request{Entry: SetCred, User: "frank", Argv: []string{"default="}}, action: ApplyIAB},
		{name: "setcred default none", req: Request{Entry: SetCred, User: "frank", Argv: []string{"default=none"}}, action: ClearInh},
		{name: "setcred bad default", req: Request{Entry: SetCred, User: "frank", Argv: []string{"default=cap_bogus"}}, result: Ignore,
			logs: []string{`3 argument default=cap_bogus: unknown capability "cap_bogus"; nothing applied for user "frank"`}},
		{name: "setcred default ignored under wildcard", req: Request{Entry: SetCred, User: "frank", Argv: []string{"config=/star.conf", "default=cap_net_raw"}}, action: ApplyIAB, iab: IAB{Inh: chown}},
		{name: "setcred world-writable fails closed", req: Request{Entry: SetCred, User: "alice", Argv: []string{"config=/ww.conf", "default=cap_chown"}}, result: Ignore,
			logs: []string{"3 /ww.conf: world-writable: refused; nothing granted, not even default="}},
		{name: "setcred missing config with default= fails closed", req: Request{Entry: SetCred, User: "frank", Argv: []string{"config=/nope", "default=cap_chown"}}, result: Ignore,
			logs: []string{"3 stat /nope: no such file or directory; nothing granted, not even default="}},
		{name: "setcred missing config without default= is quiet", req: Request{Entry: SetCred, User: "alice", Argv: []string{"config=/nope"}}, result: Ignore},
		{name: "setcred NSS error fails closed", req: Request{Entry: SetCred, User: "nss-down", Argv: []string{"config=/star.conf", "default=cap_chown"}}, result: Ignore,
			logs: []string{`3 looking up user "nss-down": too many open files; nothing granted`}},
		{name: "setcred groups error fails closed", req: Request{Entry: SetCred, User: "groups-down", Argv: []string{"config=/groups.conf", "default=cap_chown"}}, result: Ignore,
			logs: []string{`3 /groups.conf:1: listing the groups of user "groups-down": too many open files; nothing granted to user "groups-down", not even default=`}},
		{name: "setcred groups not needed before a user rule", req: Request{Entry: SetCred, User: "groups-down", Argv: []string{"config=/star.conf"}}, action: ApplyIAB, iab: IAB{Inh: chown}},
		{name: "setcred last known capability applies", req: Request{Entry: SetCred, User: "alice", Argv: []string{"config=/past.conf"}}, action: ApplyIAB, iab: IAB{Inh: chown | 1<<40}},
		{name: "setcred bounding drop past the kernel's last", req: Request{Entry: SetCred, User: "bob", Argv: []string{"config=/past.conf"}}, result: Ignore,
			logs: []string{`3 /past.conf:2: capability 63 is past the last one this kernel knows (40); nothing applied for user "bob"`}},
		{name: "setcred ambient past the kernel's last", req: Request{Entry: SetCred, User: "carol", Argv: []string{"config=/past.conf"}}, result: Ignore,
			logs: []string{`3 /past.conf:3: capability 41 is past the last one this kernel knows (40); nothing applied for user "carol"`}},
		{name: "setcred default past the kernel's last", req: Request{Entry: SetCred, User: "frank", Argv: []string{"default=50"}}, result: Ignore,
			logs: []string{`3 default=50: capability 50 is past the last one this kernel knows (40); nothing applied for user "frank"`}},
		{name: "setcred long line before match fails closed", req: Request{Entry: SetCred, User: "frank", Argv: []string{"config=/long.conf", "default=cap_chown"}}, result: Ignore,
			logs: []string{fmt.Sprintf(`3 /long.conf:2:1: line is longer than %d bytes; it is ignored and so is the rest of the file; nothing granted to user "frank", not even default=`, MaxLineLength)}},
		{name: "setcred long line after match is not read", req: Request{Entry: SetCred, User: "alice", Argv: []string{"config=/long.conf"}}, action: ApplyIAB, iab: IAB{Inh: chown}},
		{name: "setcred empty config", req: Request{Entry: SetCred, User: "alice", Argv: []string{"config=/empty.conf"}}, result: Ignore},
		{name: "a group NSS does not know is logged", req: Request{Entry: SetCred, User: "frank", Argv: []string{"config=/groups.conf"}}, action: ClearInh,
			logs: []string{`4 /groups.conf:1: group "ghosts" is unknown to NSS (a typo, or its directory cannot be reached), so its rule does not apply to user "frank"`}},
		{name: "an unknown group before the matching rule is logged too", req: Request{Entry: Authenticate, User: "bob", Argv: []string{"config=/groups.conf"}}, result: Success,
			logs: []string{`4 /groups.conf:1: group "ghosts" is unknown to NSS (a typo, or its directory cannot be reached), so its rule does not apply to user "bob"`}},
		{name: "later config= wins", req: Request{Entry: SetCred, User: "frank", Argv: []string{"config=/empty.conf", "config=/star.conf"}}, action: ApplyIAB, iab: IAB{Inh: chown}},

		// drop-ins
		{name: "the main file first", req: Request{Entry: SetCred, User: "alice", Argv: []string{"config=/d.conf"}}, action: ApplyIAB, iab: IAB{Inh: chown}},
		{name: "then drop-ins in byte order of name", req: Request{Entry: SetCred, User: "bob", Argv: []string{"config=/d.conf"}}, action: ApplyIAB, iab: IAB{Inh: netRaw}},
		{name: "a group in a drop-in", req: Request{Entry: SetCred, User: "bob", Argv: []string{"config=/d.conf"}}, action: ApplyIAB, iab: IAB{Inh: netRaw}},
		{name: "a later drop-in", req: Request{Entry: SetCred, User: "carol", Argv: []string{"config=/d.conf"}}, action: ApplyIAB, iab: IAB{Inh: sysNic}},
		{name: "the last drop-in catches the rest", req: Request{Entry: SetCred, User: "frank", Argv: []string{"config=/d.conf", "default=cap_chown"}}, action: ClearInh},
		{name: "a * in the main file shadows the drop-ins", req: Request{Entry: SetCred, User: "alice", Argv: []string{"config=/star.conf"}}, action: ApplyIAB, iab: IAB{Inh: chown}},
		{name: "nodropins reads the main file alone", req: Request{Entry: SetCred, User: "bob", Argv: []string{"config=/d.conf", "nodropins"}}, result: Ignore},
		{name: "a refused drop-in fails closed", req: Request{Entry: SetCred, User: "bob", Argv: []string{"config=/ww-in.conf", "default=cap_chown"}}, result: Ignore,
			logs: []string{"3 /ww-in.conf.d/10-ww.conf: world-writable: refused; nothing granted, not even default="}},
		{name: "a refused drop-in fails closed for a user of the main file too", req: Request{Entry: SetCred, User: "alice", Argv: []string{"config=/ww-in.conf"}}, result: Ignore,
			logs: []string{"3 /ww-in.conf.d/10-ww.conf: world-writable: refused; nothing granted, not even default="}},
		{name: "a refused drop-in directory fails closed", req: Request{Entry: SetCred, User: "alice", Argv: []string{"config=/wwdir.conf"}}, result: Ignore,
			logs: []string{"3 /wwdir.conf.d: world-writable: refused; nothing granted, not even default="}},
		{name: "a drop-in replaced after its check fails closed", req: Request{Entry: SetCred, User: "bob", Argv: []string{"config=/changed.conf"}}, result: Ignore,
			logs: []string{"3 /changed.conf.d/10-c.conf: not the file that was checked: refused; nothing granted, not even default="}},
		{name: "drop-ins without the main file", req: Request{Entry: SetCred, User: "bob", Argv: []string{"config=/nomain.conf"}}, action: ApplyIAB, iab: IAB{Inh: netRaw}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(tt.req, testSystem)
			var logs []string
			for _, l := range got.Logs {
				logs = append(logs, fmt.Sprintf("%d %s", l.Priority, l.Text))
			}
			if got.Result != tt.result || got.Action != tt.action || got.IAB != tt.iab || got.KeepCaps != tt.keep {
				t.Errorf("Decide = result %d action %d IAB %q keepcaps %v; want %d %d %q %v",
					got.Result, got.Action, got.IAB, got.KeepCaps, tt.result, tt.action, tt.iab, tt.keep)
			}
			if !reflect.DeepEqual(logs, tt.logs) {
				t.Errorf("logs = %q, want %q", logs, tt.logs)
			}
		})
	}
}

// Any number of drop-ins takes two descriptors at most: the directory,
// and the one file being read. Every file is checked before any is read:
// a refused last file fails the decision for a user of the first.
func TestDecideManyDropIns(t *testing.T) {
	sys := fakeSystem{files: map[string]string{"/many.conf": "cap_chown alice\n"}, users: testSystem.users, openFiles: &openCount{}}
	for i := 0; i < 1101; i++ {
		sys.files[fmt.Sprintf("/many.conf.d/%04d.conf", i)] = fmt.Sprintf("cap_kill nobody%d\n", i)
	}
	sys.files["/many.conf.d/1100.conf"] = "cap_net_raw bob\n"
	got := Decide(Request{Entry: SetCred, User: "bob", Argv: []string{"config=/many.conf"}}, sys)
	if got.Action != ApplyIAB || got.IAB != (IAB{Inh: netRaw}) || sys.openFiles.most != 2 || sys.openFiles.now != 0 {
		t.Fatalf("bob: action %d IAB %q, %d open at most, %d left open; want cap_net_raw, 2, 0", got.Action, got.IAB, sys.openFiles.most, sys.openFiles.now)
	}
	sys.files["/many.conf.d/1100.conf"] = "WORLD-WRITABLE"
	got = Decide(Request{Entry: SetCred, User: "alice", Argv: []string{"config=/many.conf"}}, sys)
	if got.Action != NoAction || got.Result != Ignore || sys.openFiles.now != 0 {
		t.Fatalf("alice with the last drop-in refused: result %d action %d, %d left open; want nothing granted, 0", got.Result, got.Action, sys.openFiles.now)
	}
}

func TestDecideDebugLogs(t *testing.T) {
	got := Decide(Request{Entry: SetCred, User: "bob", Argv: []string{"debug"}}, testSystem)
	want := []LogLine{
		{LogDebug, `/etc/security/capability.conf:2: user "bob" matched "^cap_sys_nice,!cap_setpcap"`},
		{LogDebug, `/etc/security/capability.conf:2: applying IAB "!cap_setpcap,^cap_sys_nice" for user "bob"`},
		{LogWarning, ambientWarning},
	}
	if !reflect.DeepEqual(got.Logs, want) {
		t.Fatalf("logs = %q, want %q", got.Logs, want)
	}
	quiet := Decide(Request{Entry: SetCred, User: "bob"}, testSystem)
	if !reflect.DeepEqual(quiet.Logs, want[2:]) {
		t.Fatalf("without debug: logs = %q, want only the Ambient warning", quiet.Logs)
	}
}

// ambientWarning is what setcred logs for bob's "^cap_sys_nice" without defer.
const ambientWarning = `/etc/security/capability.conf:2: Ambient cap_sys_nice for user "bob" will not reach the session: ` +
	`the kernel clears Ambient when the host switches to the user's uid; only Inheritable does (Ambient needs keepcaps ` +
	`and defer, in a host that ends PAM in the session process, as su and login do and sshd does not)`

// The audit text: what setcred grants, to whom, from where; none when
// nothing is granted or with quiet.
func TestDecideAudit(t *testing.T) {
	tests := []struct {
		name, user string
		args       []string
		want       string
	}{
		{"a rule", "alice", nil, `user="alice" iab=cap_net_raw from="/etc/security/capability.conf:1"`},
		{"a group rule, canonical text", "bob", nil, `user="bob" iab=!cap_setpcap,^cap_sys_nice from="/etc/security/capability.conf:2"`},
		{"none", "dave", nil, `user="dave" iab=none from="/etc/security/capability.conf:4"`},
		{"all grants nothing", "carol", nil, ""},
		{"default=", "frank", []string{"default=cap_chown"}, `user="frank" iab=cap_chown from=default=`},
		{"default=none", "frank", []string{"default=none"}, `user="frank" iab=none from=default=`},
		{"deferred", "alice", []string{"defer"}, `user="alice" iab=cap_net_raw from="/etc/security/capability.conf:1"`},
		{"quiet", "alice", []string{"quiet"}, ""},
		{"a rule that does not parse", "erin", nil, ""},
		{"a refused file", "alice", []string{"config=/ww.conf", "default=cap_chown"}, ""},
		{"no rule, no default", "frank", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Decide(Request{Entry: SetCred, User: tt.user, Argv: tt.args}, testSystem).Audit; got != tt.want {
				t.Fatalf("Audit = %q, want %q", got, tt.want)
			}
		})
	}
	if a := Decide(Request{Entry: Authenticate, User: "alice"}, testSystem); a.Audit != "" {
		t.Fatalf("authenticate grants nothing, but Audit = %q", a.Audit)
	}
}

func TestParseArgs(t *testing.T) {
	got := ParseArgs([]string{"debug", "keepcaps", "autoauth", "defer", "config=/a", "config=/b", "default=", "Debug"})
	want := Args{Debug: true, KeepCaps: true, AutoAuth: true, Defer: true, Config: "/b", HasDefault: true, Unknown: []string{"Debug"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseArgs = %+v, want %+v", got, want)
	}
	if got := ParseArgs(nil); got.Config != DefaultConfig || got.HasDefault {
		t.Fatalf("ParseArgs(nil) = %+v, want the default config and no default=", got)
	}
}

func FuzzParseArgs(f *testing.F) {
	f.Add("debug\x00config=/x\x00default=^cap_chown\x00zz")
	f.Fuzz(func(t *testing.T, joined string) {
		argv := strings.Split(joined, "\x00")
		a := ParseArgs(argv)
		known := 0
		for _, arg := range argv {
			switch {
			case arg == "debug", arg == "keepcaps", arg == "autoauth", arg == "defer",
				strings.HasPrefix(arg, "config="), strings.HasPrefix(arg, "default="):
				known++
			}
		}
		if known+len(a.Unknown) != len(argv) {
			t.Fatalf("ParseArgs(%q): %d known + %d unknown != %d arguments", argv, known, len(a.Unknown), len(argv))
		}
		// Whatever the arguments, a decision is made without panicking,
		// and its text form has exactly one answer line.
		enc := Decide(Request{Entry: SetCred, User: "alice", Argv: argv}, testSystem).Encode()
		if strings.Count(enc, "\nanswer ") != 1 || !strings.HasPrefix(enc, fmt.Sprintf("pam_gocap %d\n", AnswerVersion)) {
			t.Fatalf("Encode = %q", enc)
		}
	})
}

func TestAnswerEncode(t *testing.T) {
	a := Answer{Result: Success, Action: ApplyIAB, IAB: IAB{Inh: netRaw | sysNic, Amb: sysNic, Bound: setpcp}, KeepCaps: true,
		Logs: []LogLine{{LogErr, "line one\nforged line"}, {LogDebug, "tab\there"}}, Audit: "user=a\nb iab=x from=y"}
	want := "pam_gocap 2\nlog 3 line one?forged line\nlog 7 tab?here\naudit user=a?b iab=x from=y\nanswer 1 2 802000 800000 100 1\n"
	if got := a.Encode(); got != want {
		t.Fatalf("Encode = %q, want %q", got, want)
	}
}

// Encode's text is what fmt and strings.Map gave before it built the text
// itself: each control character '?', each byte that is not UTF-8 U+FFFD,
// every other character as it is.
func TestAnswerEncodeAsFmt(t *testing.T) {
	printable := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return '?'
			}
			return r
		}, s)
	}
	for _, text := range []string{"", "plain", "\x00\x1f\x7f\x80\xff", "caf\xc3\xa9 \xc3", "\u2028\ufffd\U0001f600\xed\xa0\x80", "\r\n\t"} {
		a := Answer{Result: Incomplete, Action: DeferIAB, IAB: IAB{Inh: 1 << 63, Amb: 0, Bound: 0xabc},
			Logs: []LogLine{{LogWarning, text}, {LogInfo, text + text}}, Audit: text + "x"}
		want := fmt.Sprintf("pam_gocap %d\nlog 4 %s\nlog 6 %s\naudit %s\nanswer 3 3 %x 0 abc 0\n",
			AnswerVersion, printable(text), printable(text+text), printable(text+"x"), uint64(1<<63))
		if got := a.Encode(); got != want {
			t.Errorf("Encode of %q = %q, want %q", text, got, want)
		}
	}
}

func ExampleDecide() {
	sys := fakeSystem{
		files: map[string]string{DefaultConfig: "cap_net_raw @netops\nnone *\n"},
		users: map[string][]string{"alice": {"alice", "netops"}},
	}
	a := Decide(Request{Entry: SetCred, User: "alice"}, sys)
	fmt.Print(a.Encode())
	// Output:
	// pam_gocap 2
	// audit user="alice" iab=cap_net_raw from="/etc/security/capability.conf:1"
	// answer 0 2 2000 0 0 0
}
