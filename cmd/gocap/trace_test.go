package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"pam_gocap/captrace"
	"pam_gocap/captrace/report"
	"pam_gocap/internal/launch"
	"pam_gocap/internal/opens"
)

// The events of a traced sh that runs a threaded probe: the probe's raw
// socket is refused, sh's path walk is refused cap_dac_read_search, every
// mmap asks for cap_sys_admin noaudit, sh is granted cap_setuid and asks
// for cap_setgid only to choose a path.
func probeEvents(probe string) []captrace.Event {
	socket := []string{"trace_event_raw_event_cap_capable", "cap_capable", "security_capable", "ns_capable", "inet_create"}
	mmap := []string{"cap_capable", "security_vm_enough_memory_mm", "__mmap_region"}
	walk := []string{"cap_capable", "security_capable", "capable_wrt_inode_uidgid", "generic_permission"}
	setgid := []string{"cap_capable", "security_capable", "ns_capable_setid", "__sys_setgid"}
	return []captrace.Event{
		{Kind: captrace.Check, Pid: 50, Comm: "gocap", Cap: 21, Stack: mmap},
		{Kind: captrace.Exec, Pid: 50, Comm: "sh", Filename: "/opt/tool"},
		{Kind: captrace.Check, Pid: 50, Comm: "sh", Cap: 2, Stack: walk},
		{Kind: captrace.Check, Pid: 50, Comm: "sh", Cap: 7, Granted: true},
		{Kind: captrace.Check, Pid: 50, Comm: "sh", Cap: 6, Stack: setgid},
		{Kind: captrace.Fork, Pid: 50, Comm: "sh", Child: 51},
		{Kind: captrace.Exec, Pid: 51, Comm: "probe", Filename: probe},
		{Kind: captrace.Check, Pid: 51, Comm: "probe", Cap: 21, Stack: mmap},
		{Kind: captrace.Fork, Pid: 51, Comm: "probe", Child: 52},
		{Kind: captrace.Check, Pid: 52, Comm: "probe", Cap: 13, Stack: socket},
		{Kind: captrace.Check, Pid: 52, Comm: "probe", Cap: 13, Stack: socket},
	}
}

// testFiles are program files with no file capabilities, at the paths
// the events name; scripts are read from testdata.
type testFiles struct{}

func (testFiles) Caps(string) (report.FileCaps, error) { return report.FileCaps{}, nil }
func (testFiles) Interpreter(p string) string          { return programFiles{}.Interpreter(p) }
func (testFiles) Resolve(p string) (string, string)    { return p, "" }

func traceReport(t *testing.T, o *traceOptions, events []captrace.Event, format string) string {
	t.Helper()
	var ex *Explanation
	sys := fakeSystem{testOS}
	if o.user != "" {
		var err error
		if ex, err = explain(o.user, moduleArgv(o.args, o.config), "", sys); err != nil {
			t.Fatal(err)
		}
	}
	in := reportInput(o, "/opt/tool", ex, sys)
	in.Via, in.ExitCode, in.Events, in.Files = "tracepoint", 1, events, testFiles{}
	var out bytes.Buffer
	writeReport(&out, format, traceText{report.Build(in)})
	return out.String()
}

// The report names what was denied, keeps noaudit checks out of the
// suggestions, and merges the capability.conf line with the user's rule.
func TestTraceReportGolden(t *testing.T) {
	probe, _ := filepath.Abs("testdata/probe-script")
	for _, tc := range []struct {
		name string
		o    traceOptions
	}{
		{"trace-caller", traceOptions{command: []string{"sh", "-c", "probe"}}},
		// alice's rule in clean.conf (line 1, for @netops too) gives
		// cap_net_raw already: the new line goes before it, for alice
		// alone, with what it gave and what was denied.
		{"trace-alice", traceOptions{user: "alice", config: "testdata/clean.conf", command: []string{"sh", "-c", "probe"}}},
		{"trace-alice-net-raw", traceOptions{user: "alice", config: "testdata/clean.conf", command: []string{"probe"}}},
		{"trace-erin", traceOptions{user: "erin", config: "testdata/clean.conf", command: []string{"sh", "-c", "probe"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			events := probeEvents(probe)
			if tc.o.command[0] == "probe" { // only the probe, which alice's rule covers
				events = events[6:]
			}
			got := strings.ReplaceAll(traceReport(t, &tc.o, events, "text"), probe, "PROBE")
			golden(t, "testdata/"+tc.name+".golden", got)
		})
	}
}

func TestTraceReportJSON(t *testing.T) {
	o := &traceOptions{user: "erin", config: "testdata/clean.conf", command: []string{"sh"}}
	var rep report.Report
	if err := json.Unmarshal([]byte(traceReport(t, o, probeEvents("/opt/probe"), "json")), &rep); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep.Denied, []string{"cap_dac_read_search", "cap_net_raw"}) {
		t.Errorf("denied %q", rep.Denied)
	}
	s := rep.Suggest
	if s == nil || s.ConfLine != "cap_dac_read_search,cap_net_raw erin" || s.Before != "testdata/clean.conf:3" {
		t.Fatalf("suggestion %+v", s)
	}
	var cmds []string
	for _, c := range s.Setcap {
		cmds = append(cmds, c.ForUser, c.ForAll)
	}
	// In the order of the first denial: /opt/sh's path walk came first.
	// cap_dac_read_search is root's power to read any file: no command
	// gives it to every user of /opt/tool.
	want := []string{"setcap cap_dac_read_search=ie /opt/tool", "",
		"setcap cap_net_raw=ie /opt/probe", "setcap cap_net_raw=ep /opt/probe"}
	if !reflect.DeepEqual(cmds, want) {
		t.Errorf("setcap %q, want %q", cmds, want)
	}
	for _, u := range rep.Capabilities {
		if u.Name == "cap_sys_admin" && (u.Needed || u.NoAudit != 2 || u.Denied != 2) {
			t.Errorf("noaudit cap_sys_admin: %+v", u)
		}
		if u.Name == "cap_setgid" && (u.Needed || u.PathChoice != 1 || u.Denied != 1 || u.Where[0] != "__sys_setgid") {
			t.Errorf("path choice cap_setgid: %+v", u)
		}
		if u.Name == "cap_net_raw" && (!u.Needed || u.Checks != 2 || !reflect.DeepEqual(u.Programs, []string{"/opt/probe"})) {
			t.Errorf("cap_net_raw: %+v", u)
		}
	}
}

// Nothing denied but noaudit checks: no suggestion.
// CI once failed because the setcap lines were sorted by path and the
// checkout's path sorted before /opt: where a program lives must not change
// the order, which is that of the first denial.
func TestTraceSetcapOrderIgnoresPaths(t *testing.T) {
	o := &traceOptions{user: "erin", config: "testdata/clean.conf", command: []string{"sh"}}
	for _, probe := range []string{"/a/probe", "/zz/probe"} {
		var rep report.Report
		if err := json.Unmarshal([]byte(traceReport(t, o, probeEvents(probe), "json")), &rep); err != nil {
			t.Fatal(err)
		}
		if s := rep.Suggest; s == nil || len(s.Setcap) != 2 || s.Setcap[0].Program != "/opt/tool" || s.Setcap[1].Program != probe {
			t.Errorf("probe at %s: setcap %+v, want /opt/tool then %s", probe, rep.Suggest, probe)
		}
	}
}

func TestTraceReportNothingNeeded(t *testing.T) {
	events := probeEvents("/opt/probe")[:2]
	got := traceReport(t, &traceOptions{command: []string{"true"}}, events, "text")
	if !strings.Contains(got, "nothing needed was denied") || strings.Contains(got, "setcap") {
		t.Errorf("report:\n%s", got)
	}
	got = traceReport(t, &traceOptions{command: []string{"true"}}, nil, "text")
	if !strings.HasSuffix(got, "no capability checks\n") {
		t.Errorf("report:\n%s", got)
	}
}

// A script gets a note: file capabilities on it do nothing.
func TestTraceReportScript(t *testing.T) {
	probe, _ := filepath.Abs("testdata/probe-script")
	got := traceReport(t, &traceOptions{command: []string{"probe"}}, probeEvents(probe), "text")
	if !strings.Contains(got, "no setcap command for "+probe+": a script; file capabilities on a script do nothing (its interpreter /bin/sh reads it), and on the interpreter they would be every script's") ||
		!strings.Contains(got, "or an Ambient rule") {
		t.Errorf("report:\n%s", got)
	}
}

func TestTraceUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"trace"}, 2, "give the command to run after --"},
		{[]string{"trace", "--via", "kprobe", "--", "true"}, 2, "--via is bpf or tracepoint"},
		{[]string{"trace", "--format", "xml", "--", "true"}, 2, "--format is text or json"},
		{[]string{"trace", "--", "/nonexistent/cmd"}, 127, "/nonexistent/cmd"},
		{[]string{"trace", "--", "no-such-command-here"}, 127, "executable file not found"},
		{[]string{"trace", "--", "./testdata"}, 126, "testdata"},
		{[]string{"trace", "--user", "mallory", "--", "true"}, 2, "mallory"},
		{[]string{"trace", "--user", "alice", "--service", "cron", "--", "true"}, 2, "--service is su, login or sshd"},
		{[]string{launch.Command, "x"}, 2, "gocap trace's own"},
		{[]string{"trace", "--keep-env", "AWS_SECRET_ACCESS_KEY", "--", "true"}, 2, "--keep-env applies with --user"},
		{[]string{"trace", "--user", "alice", "--keep-env", "A=B", "--", "true"}, 2, "A=B is not the name of a variable"},
	} {
		_, errOut, code := gocap(tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("gocap %q: exit %d, %q; want %d and %q", tc.args, code, errOut, tc.code, tc.msg)
		}
	}
}

// Paths and command names are the traced user's to choose: the report
// prints them escaped, quotes them in setcap commands, and suggests no
// command for a path that cannot be pasted safely.
func TestTraceReportHostilePaths(t *testing.T) {
	semicolon := "/home/u/x;chmod u+s /bin/bash;#/raw"
	escape := "/home/u/\x1b]0;owned\x07\x1b[2J\u009b31m"
	events := []captrace.Event{
		{Kind: captrace.Exec, Pid: 50, Comm: "x;id", Filename: semicolon},
		{Kind: captrace.Check, Pid: 50, Comm: "x;id", Cap: 13},
		{Kind: captrace.Fork, Pid: 50, Comm: "x;id", Child: 51},
		{Kind: captrace.Exec, Pid: 51, Comm: "\x1b[2Jx", Filename: escape},
		{Kind: captrace.Check, Pid: 51, Comm: "\x1b[2Jx", Cap: 13},
		{Kind: captrace.Check, Pid: 52, Comm: "\x1b[31mcomm", Cap: 12},
	}
	o := &traceOptions{command: []string{"sh", "-c", "x\x1b[2J"}}
	text := traceReport(t, o, events, "text")
	if i := strings.IndexFunc(text, func(r rune) bool { return r != '\n' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)) }); i >= 0 {
		t.Errorf("the text report holds %q at %d:\n%s", text[i], i, text)
	}
	for _, want := range []string{
		`gocap trace: sh -c x\x1b[2J, via tracepoint`,
		"  setcap cap_net_raw=ie '" + semicolon + "'\n",
		"  setcap cap_net_raw=ep '" + semicolon + "'\n",
		`no setcap command for /home/u/\x1b]0;owned\x07\x1b[2J\u009b31m: the path holds characters`,
		`no setcap command for \x1b[31mcomm: the program is known by its command name only`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the text report lacks %q:\n%s", want, text)
		}
	}
	if n := strings.Count(text, "setcap cap_"); n != 2 {
		t.Errorf("%d setcap commands, want 2 (for %s only):\n%s", n, semicolon, text)
	}
	js := traceReport(t, o, events, "json")
	if i := strings.IndexFunc(js, func(r rune) bool { return r != '\n' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)) }); i >= 0 {
		t.Errorf("the JSON report holds %q at %d", js[i], i)
	}
	var rep report.Report
	if err := json.Unmarshal([]byte(js), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Suggest.Setcap) != 3 || rep.Suggest.Setcap[1].Program != escape || rep.Suggest.Setcap[1].ForUser != "" || rep.Suggest.Setcap[1].Unsafe == "" {
		t.Errorf("setcap %+v", rep.Suggest.Setcap)
	}
}

// Reading a program's #! line or its file capabilities opens only a
// regular file, never through a symlink, and a FIFO in the program's place
// cannot make it wait.
func TestProgramFilesOpenSafely(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "script")
	os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755)
	os.Symlink(script, filepath.Join(dir, "link"))
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		want bool
	}{{"script", true}, {"link", false}, {"fifo", false}, {".", false}, {"missing", false}} {
		done := make(chan bool, 1)
		go func() {
			_, err := programFiles{}.Caps(filepath.Join(dir, tc.name))
			done <- programFiles{}.Interpreter(filepath.Join(dir, tc.name)) == "/bin/sh" && err == nil
		}()
		select {
		case got := <-done:
			if got != tc.want {
				t.Errorf("%s: read %v, want %v", tc.name, got, tc.want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("reading %s hangs", tc.name)
		}
	}
}

// The report file: a regular file of its own, emptied; a symlink, a FIFO,
// a directory or a second name of a file are refused, and the file they
// lead to is untouched.
func TestOpenReport(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	os.WriteFile(victim, []byte("root's"), 0o600)
	os.Symlink(victim, filepath.Join(dir, "link"))
	os.Link(victim, filepath.Join(dir, "hardlink"))
	syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644)
	os.WriteFile(filepath.Join(dir, "old"), []byte("an old report"), 0o644)
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("root's"), 0o600)
	os.Symlink(".", filepath.Join(dir, "linkdir"))
	for _, tc := range []struct{ name, err string }{
		{"new", ""},
		{"old", ""},
		{"link", "a symlink on the path; the report is written to a file, never through a link"},
		{"linkdir/secret", "a symlink on the path"},
		{"linkdir/new", "a symlink on the path"},
		{"hardlink", "a file with 2 names"},
		{"fifo", "no such device or address"}, // O_NONBLOCK: no reader, no wait
		{".", "is a directory"},
	} {
		path := filepath.Join(dir, tc.name)
		done := make(chan error, 1)
		go func() {
			f, err := openReport(path)
			if err == nil {
				_, err = f.WriteString("report")
				f.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if tc.err == "" {
				if data, _ := os.ReadFile(path); err != nil || string(data) != "report" {
					t.Errorf("%s: %v, %q", tc.name, err, data)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want %q", tc.name, err, tc.err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("openReport(%s) hangs", tc.name)
		}
	}
	for _, f := range []string{victim, secret} {
		if data, _ := os.ReadFile(f); string(data) != "root's" {
			t.Errorf("%s, behind a link, became %q", f, data)
		}
	}
}

// Without openat2, the walk refuses a symlink in any component as openat2
// does (ELOOP), and opens what has none, by an absolute or relative path.
func TestWalkNoSymlinks(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "file"), []byte("x"), 0o644)
	os.Symlink("sub", filepath.Join(dir, "linkdir"))
	os.Symlink("sub/file", filepath.Join(dir, "linkfile"))
	t.Chdir(dir)
	for _, tc := range []struct {
		path string
		err  error
	}{
		{filepath.Join(dir, "sub", "file"), nil},
		{"sub/file", nil},
		{"./sub/../sub//file", nil},
		{filepath.Join(dir, "sub", "new"), nil},
		{filepath.Join(dir, "linkdir", "file"), unix.ELOOP},
		{filepath.Join(dir, "linkdir", "new"), unix.ELOOP},
		{"linkdir/file", unix.ELOOP},
		{filepath.Join(dir, "linkfile"), unix.ELOOP},
		{filepath.Join(dir, "sub", "file", "x"), unix.ENOTDIR},
		{filepath.Join(dir, "sub"), unix.EISDIR},
	} {
		fd, err := walkNoSymlinks(tc.path, unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
		if err == nil {
			unix.Close(fd)
		}
		if err != tc.err {
			t.Errorf("%s: %v, want %v", tc.path, err, tc.err)
		}
	}
	if _, err := os.Lstat(filepath.Join(dir, "sub", "new")); err != nil {
		t.Errorf("a path with no link: %v", err)
	}
}

// --help and -h print the usage on standard output and exit 0, for every
// command; what follows -- is the traced command's own.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"check", "--help"}, {"explain", "-h"}, {"explain", "alice", "--help"},
		{"trace", "--help"}, {"trace", "-h", "--", "true"}, {"trace", "--user", "alice", "--help"},
	} {
		out, errOut, code := gocap(args...)
		if code != 0 || !strings.HasPrefix(out, "usage:\n") || errOut != "" {
			t.Errorf("gocap %q: exit %d, stdout %.40q, stderr %q; want 0 and the usage on stdout", args, code, out, errOut)
		}
	}
}

// A trace that lost events suggests nothing and says why; checks with no
// stack to tell by are reported as unknown, probably harmless.
func TestTraceReportLostAndUnknown(t *testing.T) {
	o := &traceOptions{user: "erin", config: "testdata/clean.conf", command: []string{"sh", "-c", "probe"}}
	var ex *Explanation
	sys := fakeSystem{testOS}
	ex, err := explain(o.user, moduleArgv(o.args, o.config), "", sys)
	if err != nil {
		t.Fatal(err)
	}
	var noStacks []captrace.Event
	for _, ev := range probeEvents("/opt/probe") {
		ev.Stack = nil
		noStacks = append(noStacks, ev)
	}
	for _, tc := range []struct {
		name   string
		events []captrace.Event
		lost   int
		want   []string
		absent string
		exit   int
		uncal  uint64
	}{
		{"lost", probeEvents("/opt/probe"), 42, []string{"the trace lost 42 events", "cap_net_raw"}, "setcap", 0, 0},
		{"lost, no checks", nil, 3, []string{"the trace lost 3 events"}, "no capability checks", 0, 0},
		{"no stacks", noStacks, 0, []string{"2 unknown, probably harmless", "setcap cap_net_raw=ie /opt/probe"}, "cap_sys_admin=", 0, 0},
		// A calibration that did not learn the accounting's stack: the
		// command failed, and cap_sys_admin is still not suggested.
		{"uncalibrated", noStacks, 0, []string{"could not learn the stacks of the cap_sys_admin checks", "2 unknown (no kernel stack",
			"setcap cap_net_raw=ie /opt/probe"}, "cap_sys_admin=", 1, 1 << 21},
	} {
		in := reportInput(o, "/opt/tool", ex, sys)
		in.Via, in.ExitCode, in.Events, in.Lost, in.Files = "bpf", tc.exit, tc.events, tc.lost, testFiles{}
		in.Uncalibrated = tc.uncal
		var out bytes.Buffer
		writeReport(&out, "text", traceText{report.Build(in)})
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s: no %q in:\n%s", tc.name, w, out.String())
			}
		}
		if strings.Contains(out.String(), tc.absent) {
			t.Errorf("%s: %q in:\n%s", tc.name, tc.absent, out.String())
		}
		out.Reset()
		writeReport(&out, "json", traceText{report.Build(in)})
		var back map[string]any
		if err := json.Unmarshal(out.Bytes(), &back); err != nil || back["lost_events"] != float64(tc.lost) || (tc.lost > 0 && back["suggest"] != nil) {
			t.Errorf("%s: json %s", tc.name, out.String())
		}
	}
}

// Resolve names a file for setcap only when it is provably the file that
// ran and only root can change it: never a relative path (gocap's own
// directory is not the task's), /dev/fd or /proc/self (gocap's own files),
// a path through a symlink or a directory the user owns or a group can
// write, or a name as long as a trace record holds (maybe cut); a
// root-owned copy under a directory of root's passes, also through
// root's own symlink.
func TestResolveOnlyRootsFiles(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root, to own files as root and as a user")
	}
	root, err := os.MkdirTemp("/usr/local", ".gocap-test-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(root)
	os.Chmod(root, 0o755)
	mk := func(p string, mode os.FileMode, uid int) string {
		p = filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("\x7fELF"), mode); err != nil {
			t.Fatal(err)
		}
		os.Chmod(p, mode)
		os.Chown(p, uid, uid)
		return p
	}
	tool := mk("bin/tool", 0o755, 0)
	os.Symlink("bin/tool", filepath.Join(root, "rootlink"))
	user := mk("home/alice/tool", 0o755, 0)
	os.Chown(filepath.Dir(user), 1000, 1000)
	gw := mk("shared/tool", 0o755, 0)
	os.Chmod(filepath.Dir(gw), 0o775)
	userFile := mk("bin/mine", 0o755, 1000)
	os.Symlink(filepath.Join(root, "bin"), filepath.Join(root, "userlink"))
	os.Lchown(filepath.Join(root, "userlink"), 1000, 1000)
	fd, _ := os.Open(tool)
	defer fd.Close()
	long := filepath.Join(root, "bin", strings.Repeat("x", 255-len(root)-len("/bin/")))
	if len(long) != 255 {
		t.Fatalf("long name of %d bytes", len(long))
	}
	os.Symlink(tool, long)
	for _, tc := range []struct {
		path, want, why string
	}{
		{tool, tool, ""},
		{filepath.Join(root, "rootlink"), tool, ""},
		{"bin/tool", "bin/tool", "relative"},
		{"./tool", "./tool", "relative"},
		{"tool", "tool", "command name"},
		{fmt.Sprintf("/dev/fd/%d", fd.Fd()), "", "under /dev"},
		{"/proc/self/exe", "", "under /proc"},
		{fmt.Sprintf("/proc/self/fd/%d", fd.Fd()), "", "under /proc"},
		{filepath.Join(root, "userlink/tool"), "", "symlink of uid 1000"},
		{user, "", "belongs to uid 1000"},
		{userFile, "", "belongs to uid 1000"},
		{gw, "", "writable by its group"},
		{long, "", "255 bytes"},
		{"/tmp/tool", "", "writable by its group or by others"},
		{"/dev/null", "", "under /dev"},
	} {
		got, why := programFiles{}.Resolve(tc.path)
		if tc.want == "" {
			tc.want = tc.path
		}
		if got != tc.want || (tc.why == "") != (why == "") || !strings.Contains(why, tc.why) {
			t.Errorf("%s: %q, %q; want %q, %q", tc.path, got, why, tc.want, tc.why)
		}
	}
}

// Reading a program opens nothing but a regular file: a FIFO or a device
// in its place is opened with O_PATH only, which opens nothing (a writer
// waiting on the FIFO finds no reader), then left.
func TestProgramFilesOpenNoDevice(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o666); err != nil {
		t.Fatal(err)
	}
	dev := filepath.Join(dir, "null")
	if err := unix.Mknod(dev, unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		t.Fatal(err)
	}
	os.Symlink("/dev/ptmx", filepath.Join(dir, "ptmx"))
	// inotify sees every open of the directory's files but O_PATH's.
	opened := opens.Watch(t, dir)
	for _, p := range []string{fifo, dev, filepath.Join(dir, "ptmx"), "/dev/ptmx"} {
		if fd, err := openProgram(p); err == nil {
			unix.Close(fd)
			t.Errorf("%s opened", p)
		}
		if _, err := (programFiles{}).Caps(p); err == nil {
			t.Errorf("%s read", p)
		}
	}
	if opened() {
		t.Errorf("a FIFO or a device was opened")
	}
	// The watch works: reading a regular file is seen.
	os.WriteFile(filepath.Join(dir, "tool"), []byte("#!/bin/sh\n"), 0o755)
	opened()
	if (programFiles{}).Interpreter(filepath.Join(dir, "tool")) != "/bin/sh" {
		t.Error("the regular file is not read")
	}
	if !opened() {
		t.Error("inotify saw no open of the regular file")
	}
}

// unsafeFiles are testFiles whose /home path is the user's to change.
type unsafeFiles struct{ testFiles }

func (unsafeFiles) Resolve(p string) (string, string) {
	if strings.HasPrefix(p, "/home/") {
		return p, "it is not provably the file that ran, one that only root can change: /home/dave belongs to uid 2004, who can replace it"
	}
	return p, ""
}

// The text report says why a program gets no setcap and which copy to
// install instead, and that an untrusted trace suggests nothing.
func TestTraceReportUnsafeAndUntrusted(t *testing.T) {
	perm := []string{"cap_capable", "security_capable", "capable_wrt_inode_uidgid", "generic_permission"}
	socket := []string{"cap_capable", "security_capable", "ns_capable", "inet_create"}
	events := []captrace.Event{
		{Kind: captrace.Exec, Pid: 50, Comm: "raw", Filename: "/home/dave/bin/raw"},
		{Kind: captrace.Check, Pid: 50, Comm: "raw", Cap: 13, Stack: socket},
		{Kind: captrace.Check, Pid: 50, Comm: "raw", Cap: 1, Stack: perm},
	}
	write := func(untrusted string) string {
		in := reportInput(&traceOptions{user: "dave", command: []string{"raw"}}, "/home/dave/bin/raw", nil, fakeSystem{testOS})
		in.Via, in.ExitCode, in.Events, in.Files, in.Untrusted = "tracepoint", 1, events, unsafeFiles{}, untrusted
		var out bytes.Buffer
		writeReport(&out, "text", traceText{report.Build(in)})
		return out.String()
	}
	got := write("")
	for _, want := range []string{
		"no setcap command for /home/dave/bin/raw: it is not provably the file that ran, one that only root can change: /home/dave belongs to uid 2004, who can replace it\n",
		"\n    install -o root -g root -m 0755 /home/dave/bin/raw /usr/local/bin/raw\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "  setcap ") {
		t.Errorf("a setcap command:\n%s", got)
	}
	got = write("forged")
	if !strings.Contains(got, "the trace cannot be trusted: forged; it suggests nothing") || strings.Contains(got, "capability.conf:") {
		t.Errorf("untrusted:\n%s", got)
	}
}

// On a terminal, the report follows a line that says the command's output
// ended; in a file or a pipe, it is the report alone.
func TestSeparateReport(t *testing.T) {
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	sfd, _, errno := unix.Syscall(unix.SYS_IOCTL, master.Fd(), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	if errno != 0 {
		t.Fatalf("TIOCGPTPEER: %v", errno)
	}
	terminal := os.NewFile(sfd, "pty")
	defer terminal.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "report"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var buf bytes.Buffer
	for _, w := range []io.Writer{file, &buf, terminal} {
		separateReport(w)
	}
	if data, _ := os.ReadFile(file.Name()); len(data) != 0 || buf.Len() != 0 {
		t.Errorf("a file got %q, a buffer %q; want nothing", data, buf.String())
	}
	// The line reaches the master in pieces (the terminal's output
	// processing writes the text, then "\r\n" for the newline), and a read
	// may return before the last: read up to the line's end.
	read := make(chan string, 1)
	go func() {
		var got []byte
		for !bytes.HasSuffix(got, []byte("\n")) {
			piece := make([]byte, 512)
			n, err := master.Read(piece)
			got = append(got, piece[:max(n, 0)]...)
			if err != nil {
				break
			}
		}
		read <- string(got)
	}()
	select {
	case got := <-read:
		if want := reportSeparator + "\r\n"; got != want {
			t.Errorf("the terminal got %q, want %q", got, want)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("the terminal got no line")
	}
}

// A program's file capabilities, as libcap reads them from the
// descriptor gocap opened: revision 2 and 3 attributes, and none.
// Setting security.capability takes root.
func TestProgramCaps(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("setting security.capability takes root")
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		attr []byte
		want report.FileCaps
	}{
		// setcap cap_net_raw=ep: revision 2, effective.
		{"v2", []byte{1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, report.FileCaps{Permitted: 1 << 13, Effective: true}},
		// cap_dac_override=i, cap_checkpoint_restore (40)=p: revision 3, root uid 0.
		{"v3", []byte{0, 0, 0, 3, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, report.FileCaps{Inheritable: 1 << 1, Permitted: 1 << 40}},
		{"none", nil, report.FileCaps{}},
	} {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, []byte("\x7fELF"), 0o755); err != nil {
			t.Fatal(err)
		}
		if tc.attr != nil {
			if err := unix.Setxattr(p, "security.capability", tc.attr, 0); err != nil {
				t.Fatal(err)
			}
		}
		got, err := programFiles{}.Caps(p)
		if err != nil || got != tc.want {
			t.Errorf("%s: %+v, %v; want %+v", tc.name, got, err, tc.want)
		}
	}
	// Set for the user namespace whose root is uid 1000 (revision 3,
	// rootid 1000, as setcap in a user's own namespace sets them): they
	// do nothing at an exec here, trace writes no setcap that would make
	// them this namespace's, and explain says the program gets none.
	p := filepath.Join(dir, "rootid")
	if err := os.WriteFile(p, []byte("\x7fELF"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(p, "security.capability", []byte{1, 0, 0, 3, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xe8, 3, 0, 0}, 0); err != nil {
		t.Fatal(err)
	}
	if got, err := (programFiles{}).Caps(p); err == nil || !strings.Contains(err.Error(), "uid 1000") {
		t.Errorf("rootid 1000: %+v, %v; want an error naming uid 1000", got, err)
	}
	fc, err := osSystem{}.FileCaps(p)
	if err != nil || fc.FileCaps != (report.FileCaps{}) || !strings.Contains(fc.Text, "rootid=1000") {
		t.Errorf("explain's rootid 1000: %+v, %v; want no capabilities, and the text naming rootid=1000", fc, err)
	}
}
