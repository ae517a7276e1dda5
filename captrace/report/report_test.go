package report

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"pam_gocap/captrace"
)

// files are program files as a test has them: capabilities and #! lines
// by path, and errors for paths that cannot be read.
type files struct {
	caps   map[string]FileCaps
	interp map[string]string
	errs   map[string]error
	unsafe map[string]string
}

func (f files) Caps(p string) (FileCaps, error)   { return f.caps[p], f.errs[p] }
func (f files) Interpreter(p string) string       { return f.interp[p] }
func (f files) Resolve(p string) (string, string) { return p, f.unsafe[p] }

const all = 1<<41 - 1 // every capability of this kernel, as gocap's Bounding set

var (
	socket = []string{"cap_capable", "security_capable", "ns_capable", "inet_create"}
	mmap   = []string{"cap_capable", "security_vm_enough_memory_mm", "__mmap_region"}
	perm   = []string{"cap_capable", "security_capable", "capable_wrt_inode_uidgid", "generic_permission"}
	settod = []string{"cap_capable", "security_capable", "capable", "do_settimeofday64"}
)

// run is one program's events: it execs path, then makes checks.
func run(path string, checks ...captrace.Event) []captrace.Event {
	evs := []captrace.Event{{Kind: captrace.Exec, Pid: 10, Comm: "x", Filename: path}}
	for _, c := range checks {
		c.Kind, c.Pid = captrace.Check, 10
		evs = append(evs, c)
	}
	return evs
}

func denied(c int, stack []string) captrace.Event { return captrace.Event{Cap: c, Stack: stack} }
func granted(c int) captrace.Event                { return captrace.Event{Cap: c, Granted: true} }

func TestBuild(t *testing.T) {
	tcpdump := files{caps: map[string]FileCaps{"/usr/bin/tcpdump": {Permitted: 1 << 13, Effective: true}}}
	for _, tc := range []struct {
		name string
		in   Input
		// What must show: the denied and impossible capabilities, the
		// capability.conf line, the setcap commands (for the user, for
		// everyone) and the Ambient line, "" for none.
		denied, impossible []string
		conf               string
		setcap             []string
		ambient            string
		check              func(t *testing.T, r *Report)
	}{
		{
			name:   "plain",
			in:     Input{User: "dave", Events: run("/usr/bin/ping", denied(13, socket), denied(21, mmap))},
			denied: []string{"cap_net_raw"}, conf: "cap_net_raw dave",
			setcap: []string{"setcap cap_net_raw=ie /usr/bin/ping", "setcap cap_net_raw=ep /usr/bin/ping"},
		},
		{
			// tcpdump has cap_net_raw=ep already and now needs
			// cap_dac_override: the commands keep cap_net_raw.
			name:   "union with the file's capabilities",
			in:     Input{User: "dave", Events: run("/usr/bin/tcpdump", denied(1, perm)), Files: tcpdump},
			denied: []string{"cap_dac_override"}, conf: "cap_dac_override dave",
			setcap: []string{"setcap 'cap_net_raw=ep cap_dac_override=ie' /usr/bin/tcpdump",
				""},
			check: func(t *testing.T, r *Report) {
				if r.Suggest.Setcap[0].Current != "cap_net_raw=ep" {
					t.Errorf("current %q", r.Suggest.Setcap[0].Current)
				}
			},
		},
		{
			name: "current capabilities unreadable",
			in: Input{User: "dave", Events: run("/usr/bin/tcpdump", denied(1, perm)),
				Files: files{errs: map[string]error{"/usr/bin/tcpdump": errors.New("not a regular file")}}},
			denied: []string{"cap_dac_override"}, conf: "cap_dac_override dave", setcap: []string{"", ""},
			check: func(t *testing.T, r *Report) {
				if !strings.Contains(r.Suggest.Setcap[0].Unsafe, "not a regular file") {
					t.Errorf("unsafe %q", r.Suggest.Setcap[0].Unsafe)
				}
			},
		},
		{
			// A path the user can change (a directory of theirs, a
			// symlink of theirs) may name another file when root
			// pastes the command: no setcap, a copy to install instead.
			name: "a path the user can change",
			in: Input{User: "dave", Events: run("/home/dave/bin/ping", denied(13, socket)),
				Files: files{unsafe: map[string]string{"/home/dave/bin/ping": "/home/dave belongs to uid 1000"}}},
			denied: []string{"cap_net_raw"}, conf: "cap_net_raw dave", setcap: []string{"", ""},
			check: func(t *testing.T, r *Report) {
				c := r.Suggest.Setcap[0]
				if !strings.Contains(c.Unsafe, "uid 1000") || c.Install != "install -o root -g root -m 0755 /home/dave/bin/ping /usr/local/bin/ping" {
					t.Errorf("unsafe %q, install %q", c.Unsafe, c.Install)
				}
			},
		},
		{
			// A trace whose text a name of the command's made events up
			// in suggests nothing.
			name: "untrusted", in: Input{User: "dave", Untrusted: "forged", Events: run("/usr/bin/tee", denied(1, perm))},
			denied: []string{"cap_dac_override"},
			check: func(t *testing.T, r *Report) {
				if r.Suggest != nil || r.Untrusted != "forged" {
					t.Errorf("suggest %+v, untrusted %q", r.Suggest, r.Untrusted)
				}
			},
		},
		{
			// A relative path was relative to the task's directory,
			// which the trace does not tell: never taken from gocap's.
			name: "a relative path", in: Input{User: "dave", Events: run("./tee", denied(2, perm))},
			denied: []string{"cap_dac_read_search"}, conf: "cap_dac_read_search dave", setcap: []string{"", ""},
			check: func(t *testing.T, r *Report) {
				if c := r.Suggest.Setcap[0]; !strings.Contains(c.Unsafe, "relative") || c.Install != "" {
					t.Errorf("unsafe %q, install %q", c.Unsafe, c.Install)
				}
			},
		},
		{
			// cap_sys_ptrace on a program anyone runs is anyone's
			// root: only the command for the one user.
			name: "root-equivalent", in: Input{User: "dave", Events: run("/usr/bin/strace", denied(19, perm))},
			denied: []string{"cap_sys_ptrace"}, conf: "cap_sys_ptrace dave", setcap: []string{"setcap cap_sys_ptrace=ie /usr/bin/strace", ""},
			check: func(t *testing.T, r *Report) {
				if c := r.Suggest.Setcap[0]; !reflect.DeepEqual(c.NotForAll, []string{"cap_sys_ptrace"}) {
					t.Errorf("not for all %q", c.NotForAll)
				}
			},
		},
		{
			// date -s in a session without cap_sys_time: impossible,
			// not suggested, and the line keeps only what is possible.
			name: "outside the Bounding set",
			in: Input{User: "dave", Bounding: all &^ (1 << 25),
				Events: run("/usr/bin/date", denied(25, settod), denied(13, socket))},
			denied: []string{"cap_net_raw", "cap_sys_time"}, impossible: []string{"cap_sys_time"},
			conf:   "cap_net_raw dave",
			setcap: []string{"setcap cap_net_raw=ie /usr/bin/date", "setcap cap_net_raw=ep /usr/bin/date"},
		},
		{
			name: "dropped by the rule",
			in: Input{User: "dave", Rule: &Rule{File: "c.conf", Line: 4, Caps: "cap_net_raw,!cap_sys_time"},
				Events: run("/usr/bin/date", denied(25, settod))},
			denied: []string{"cap_sys_time"}, impossible: []string{"cap_sys_time"},
		},
		{
			name:   "only impossible",
			in:     Input{User: "dave", Bounding: 1 << 13, Events: run("/usr/bin/date", denied(25, settod))},
			denied: []string{"cap_sys_time"}, impossible: []string{"cap_sys_time"},
		},
		{
			// cat /etc/shadow: generic_permission asks for
			// cap_dac_read_search, then cap_dac_override.
			name:   "the narrower of two",
			in:     Input{User: "dave", Events: run("/usr/bin/cat", denied(2, perm), denied(1, perm))},
			denied: []string{"cap_dac_read_search"}, conf: "cap_dac_read_search dave",
			setcap: []string{"setcap cap_dac_read_search=ie /usr/bin/cat", ""},
			check: func(t *testing.T, r *Report) {
				if u := r.Capabilities[0]; u.Name != "cap_dac_override" || u.Either != 1 || u.Needed {
					t.Errorf("cap_dac_override %+v", u)
				}
			},
		},
		{
			// Where the session has no cap_dac_read_search, the other.
			name: "the other of two",
			in: Input{User: "dave", Bounding: all &^ (1 << 2),
				Events: run("/usr/bin/cat", denied(2, perm), denied(1, perm))},
			denied: []string{"cap_dac_override"}, conf: "cap_dac_override dave",
			setcap: []string{"setcap cap_dac_override=ie /usr/bin/cat", ""},
			check: func(t *testing.T, r *Report) {
				if u := r.Capabilities[1]; u.Name != "cap_dac_read_search" || u.Either != 1 || u.Needed {
					t.Errorf("cap_dac_read_search %+v", u)
				}
			},
		},
		{
			name: "the other of two, dropped by the rule",
			in: Input{User: "dave", Rule: &Rule{File: "c.conf", Line: 1, Caps: "!cap_dac_read_search"},
				Events: run("/usr/bin/cat", denied(2, perm), denied(1, perm))},
			denied: []string{"cap_dac_override"}, conf: "!cap_dac_read_search,cap_dac_override dave",
			setcap: []string{"setcap cap_dac_override=ie /usr/bin/cat", ""},
		},
		{
			name:   "the narrower of two, without stacks",
			in:     Input{User: "dave", Events: run("/usr/bin/cat", denied(2, nil), denied(1, nil))},
			denied: []string{"cap_dac_read_search"}, conf: "cap_dac_read_search dave",
			setcap: []string{"setcap cap_dac_read_search=ie /usr/bin/cat", ""},
		},
		{
			// A write asks for cap_dac_override alone; after a read
			// check another check came between.
			name:   "cap_dac_override alone",
			in:     Input{User: "dave", Events: run("/usr/bin/touch", denied(2, perm), denied(21, mmap), denied(1, perm))},
			denied: []string{"cap_dac_override", "cap_dac_read_search"}, conf: "cap_dac_override,cap_dac_read_search dave",
			setcap: []string{"setcap cap_dac_override,cap_dac_read_search=ie /usr/bin/touch",
				""},
		},
		{
			// A search of /root, then a file created there: the write
			// needs cap_dac_override, which does for the search too.
			name:   "cap_dac_override needed anyway",
			in:     Input{User: "dave", Events: run("/usr/bin/touch", denied(2, perm), denied(1, perm), denied(21, mmap), denied(1, perm))},
			denied: []string{"cap_dac_override"}, conf: "cap_dac_override dave",
			setcap: []string{"setcap cap_dac_override=ie /usr/bin/touch", ""},
		},
		{
			// bash's builtin kill: no setcap on bash, an Ambient rule.
			name: "a shell",
			in: Input{User: "dave", Rule: &Rule{File: "c.conf", Line: 2, Caps: "cap_net_raw"},
				Events: run("/usr/bin/bash", denied(5, []string{"cap_capable", "security_capable", "ns_capable", "kill_ok_by_cred"}))},
			denied: []string{"cap_kill"}, conf: "cap_net_raw,cap_kill dave", setcap: []string{"", ""},
			ambient: "^cap_kill,cap_net_raw dave",
			check: func(t *testing.T, r *Report) {
				if c := r.Suggest.Setcap[0]; !c.General || c.Script || r.Suggest.Before != "c.conf:2" || r.Suggest.Ambient.Args != "keepcaps defer" {
					t.Errorf("%+v %+v", c, r.Suggest)
				}
			},
		},
		{
			name:   "an interpreter, versioned",
			in:     Input{User: "dave", Events: run("/usr/bin/python3.11", denied(13, socket))},
			denied: []string{"cap_net_raw"}, conf: "cap_net_raw dave", setcap: []string{"", ""}, ambient: "^cap_net_raw dave",
		},
		{
			name: "a script",
			in: Input{User: "dave", Events: run("/home/dave/bind.py", denied(10, nil)),
				Files: files{interp: map[string]string{"/home/dave/bind.py": "python3"}}},
			denied: []string{"cap_net_bind_service"}, conf: "cap_net_bind_service dave", setcap: []string{"", ""},
			ambient: "^cap_net_bind_service dave",
			check: func(t *testing.T, r *Report) {
				if c := r.Suggest.Setcap[0]; !c.Script || !c.General || c.Interpreter != "python3" {
					t.Errorf("%+v", c)
				}
			},
		},
		{
			// The exec of a file dave may not run: the launcher's
			// checks, no exec, nothing suggested.
			name: "a failed exec",
			in: Input{User: "dave", ExitCode: 126, Events: []captrace.Event{
				{Kind: captrace.Check, Pid: 10, Comm: "gocap", Cap: 1, Stack: perm}}},
			denied: []string{"cap_dac_override"},
			check: func(t *testing.T, r *Report) {
				if !r.ExecFailed {
					t.Error("exec not failed")
				}
			},
		},
		{
			name: "a refused config",
			in: Input{User: "dave", ConfRefused: "/etc/security/capability.conf: writable by others: refused",
				Events: run("/usr/bin/ping", denied(13, socket))},
			denied: []string{"cap_net_raw"},
			check: func(t *testing.T, r *Report) {
				if r.ConfRefused == "" {
					t.Error("not refused")
				}
			},
		},
		{
			// BPF without the kernel's addresses: a cap_sys_admin denial
			// with no stack, in a command that exited 0, is probably a
			// mapping's noaudit check; in one that failed it may be why.
			name:   "no stacks, exit 0",
			in:     Input{User: "dave", Events: run("/usr/bin/ping", denied(13, nil), denied(21, nil), denied(21, nil))},
			denied: []string{"cap_net_raw"}, conf: "cap_net_raw dave",
			setcap: []string{"setcap cap_net_raw=ie /usr/bin/ping", "setcap cap_net_raw=ep /usr/bin/ping"},
			check: func(t *testing.T, r *Report) {
				if u := r.Capabilities[1]; u.Unknown != 2 || u.Needed {
					t.Errorf("cap_sys_admin %+v", u)
				}
			},
		},
		{
			name:   "no stacks, exit 1",
			in:     Input{User: "dave", ExitCode: 1, Events: run("/usr/bin/unshare", denied(21, nil))},
			denied: []string{"cap_sys_admin"}, conf: "cap_sys_admin dave",
			setcap: []string{"setcap cap_sys_admin=ie /usr/bin/unshare", ""},
		},
		{
			name:   "lost events",
			in:     Input{User: "dave", Lost: 3, Events: run("/usr/bin/ping", denied(13, socket))},
			denied: []string{"cap_net_raw"},
		},
		{
			// As root every check is granted: what a user would be
			// denied is suggested, but cap_sys_admin, which every
			// mapping asks for, is unknown.
			name:   "as root",
			in:     Input{Events: run("/usr/bin/ping", granted(13), granted(21), granted(21))},
			denied: []string{"cap_net_raw"}, conf: "cap_net_raw USER",
			setcap: []string{"setcap cap_net_raw=ie /usr/bin/ping", "setcap cap_net_raw=ep /usr/bin/ping"},
			check: func(t *testing.T, r *Report) {
				if !r.AsRoot || r.Capabilities[1].Unknown != 2 || r.Capabilities[1].Needed {
					t.Errorf("%+v", r)
				}
			},
		},
		{
			// Without kernel addresses a calibration that failed leaves
			// the mappings' checks with no stack: in a command that failed
			// (chown as dave), they are unknown, and only cap_chown is
			// suggested; the report names what was not learnt.
			name: "uncalibrated, the command failed",
			in: Input{User: "dave", ExitCode: 1, Uncalibrated: 1 << 21,
				Events: run("/usr/bin/chown", denied(21, nil), denied(0, nil), denied(21, nil))},
			denied: []string{"cap_chown"}, conf: "cap_chown dave",
			setcap: []string{"setcap cap_chown=ie /usr/bin/chown", ""},
			check: func(t *testing.T, r *Report) {
				if !reflect.DeepEqual(r.Uncalibrated, []string{"cap_sys_admin"}) || r.Capabilities[1].Unknown != 2 || r.Capabilities[1].Needed {
					t.Errorf("%+v", r)
				}
			},
		},
		{
			// The same with every stack learnt: a cap_sys_admin denial
			// with no known stack (unshare -n's) is needed.
			name:   "calibrated, the command failed",
			in:     Input{User: "dave", ExitCode: 1, Events: run("/usr/bin/unshare", denied(21, nil))},
			denied: []string{"cap_sys_admin"}, conf: "cap_sys_admin dave",
			setcap: []string{"setcap cap_sys_admin=ie /usr/bin/unshare", ""},
			check: func(t *testing.T, r *Report) {
				if r.Uncalibrated != nil {
					t.Errorf("uncalibrated %q", r.Uncalibrated)
				}
			},
		},
		{
			name:   "as a user, granted",
			in:     Input{User: "dave", Events: run("/usr/bin/ping", granted(13))},
			denied: []string{},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.in.Files == nil {
				tc.in.Files = files{}
			}
			if tc.in.Bounding == 0 {
				tc.in.Bounding = all
			}
			r := Build(tc.in)
			if tc.impossible == nil {
				tc.impossible = []string{}
			}
			if !reflect.DeepEqual(r.Denied, tc.denied) || !reflect.DeepEqual(r.Impossible, tc.impossible) {
				t.Errorf("denied %q, impossible %q; want %q, %q", r.Denied, r.Impossible, tc.denied, tc.impossible)
			}
			var conf, ambient string
			var setcap []string
			if s := r.Suggest; s != nil {
				conf = s.ConfLine
				for _, c := range s.Setcap {
					setcap = append(setcap, c.ForUser, c.ForAll)
				}
				if s.Ambient != nil {
					ambient = s.Ambient.ConfLine
				}
			}
			if conf != tc.conf || !reflect.DeepEqual(setcap, tc.setcap) || ambient != tc.ambient {
				t.Errorf("suggested %q, %q, ambient %q; want %q, %q, %q", conf, setcap, ambient, tc.conf, tc.setcap, tc.ambient)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestFileCapsString(t *testing.T) {
	for _, tc := range []struct {
		f    FileCaps
		want string
	}{
		{FileCaps{}, ""},
		{FileCaps{Permitted: 1 << 13, Effective: true}, "cap_net_raw=ep"},
		{FileCaps{Permitted: 1 << 13, Inheritable: 1<<13 | 1<<1, Effective: true}, "cap_dac_override=ie cap_net_raw=eip"},
		{FileCaps{Permitted: 1 << 13}, "cap_net_raw=p"},
	} {
		if got := tc.f.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestGeneralPurpose(t *testing.T) {
	for p, want := range map[string]bool{
		"/usr/bin/bash": true, "/bin/sh": true, "/usr/bin/python3.11": true, "/usr/bin/perl5.36.0": true,
		"/usr/bin/busybox": true, "/usr/bin/env": true, "/usr/bin/ping": false, "/usr/sbin/tcpdump": false,
		"/usr/bin/nice": false, "/usr/bin/bashful": false, "/usr/bin/ip": false,
	} {
		if got := GeneralPurpose(p); got != want {
			t.Errorf("GeneralPurpose(%s) = %v", p, got)
		}
	}
}

// A trace of ping as dave, who has no rule yet.
func ExampleBuild() {
	r := Build(Input{
		User: "dave", ConfFile: "/etc/security/capability.conf", Bounding: all, Files: files{},
		Events: []captrace.Event{
			{Kind: captrace.Exec, Pid: 7, Comm: "ping", Filename: "/usr/bin/ping"},
			{Kind: captrace.Check, Pid: 7, Comm: "ping", Cap: 13, Stack: socket},
		},
	})
	fmt.Println(r.Denied)
	fmt.Println(r.Suggest.ConfLine)
	fmt.Println(r.Suggest.Setcap[0].ForUser)
	// Output:
	// [cap_net_raw]
	// cap_net_raw dave
	// setcap cap_net_raw=ie /usr/bin/ping
}

// resolveCounter counts the lookups of each path.
type resolveCounter struct {
	files
	n map[string]int
}

func (r resolveCounter) Resolve(p string) (string, string) {
	r.n[p]++
	return r.files.Resolve(p)
}

// A program's file is looked up once, however many checks it made: the
// lookup walks a path the user may change, as root.
func TestResolveOncePerProgram(t *testing.T) {
	counter := resolveCounter{files{}, map[string]int{}}
	events := run("/usr/bin/ping", denied(13, socket), denied(13, socket), granted(21))
	events = append(events, run("/usr/bin/cat", denied(2, perm), denied(1, perm))...)
	for i := range events[4:] {
		events[4+i].Pid = 11
	}
	r := Build(Input{User: "dave", Bounding: all, Files: counter, Events: events})
	if want := map[string]int{"/usr/bin/ping": 1, "/usr/bin/cat": 1}; !maps.Equal(counter.n, want) {
		t.Errorf("lookups %v, want %v", counter.n, want)
	}
	if !slices.Equal(r.Denied, []string{"cap_dac_read_search", "cap_net_raw"}) {
		t.Errorf("denied %v", r.Denied)
	}
}
