package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"

	"pam_gocap/capconf"
	"pam_gocap/captrace/report"
	"pam_gocap/internal/quote"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// fakeSystem reads real files but knows only its own users and groups, has
// a fixed Bounding set (all but cap_sys_resource) and fixed file caps.
// The files must be owned by the user the tests run as, not root, so
// that they run without root too.
type fakeSystem struct{ capconf.OS }

var testOS = capconf.OS{Owner: uint32(os.Getuid())}

// evil is a user whose name, and whose group's, a directory could hold:
// an escape sequence that sets the terminal's title, one that clears it.
const evil, evilGroup = "ev\x1b]0;owned\x07il", "ops\x1b[2J"

var fakeUsers = map[string][]string{"alice": {"alice"}, "bob": {"bob", "netops"}, "carol": {"netops"}, "erin": {"erin"},
	evil: {evilGroup}}
var fakeGroups = map[string]bool{"alice": true, "bob": true, "erin": true, "netops": true, evilGroup: true}

func (fakeSystem) LookupUser(name string) (capconf.Groups, error) {
	g, ok := fakeUsers[name]
	if !ok {
		return nil, capconf.UnknownUserError(name)
	}
	return func() ([]string, error) { return g, nil }, nil
}

func (fakeSystem) LookupGroup(name string) error {
	if !fakeGroups[name] {
		return user.UnknownGroupError(name)
	}
	return nil
}

// PathWarnings is the real one for the directories under the temporary
// directory, where the tests make theirs: the ones above it (/tmp is
// world-writable) and a checkout's are not the test's to judge.
func (f fakeSystem) PathWarnings(path, readBy string) []string {
	var kept []string
	for _, w := range f.OS.PathWarnings(path, readBy) {
		if strings.HasPrefix(w, "directory "+os.TempDir()+"/") {
			kept = append(kept, w)
		}
	}
	return kept
}

func (fakeSystem) UserID(name string) (string, string, error) { return "2001", "2001", nil }
func (fakeSystem) Bounding() uint64                           { return (1<<41 - 1) &^ (1 << 24) }

func (fakeSystem) FileCaps(path string) (fileCaps, error) {
	switch path {
	case "/usr/local/bin/ping-netops":
		return fileCaps{report.FileCaps{Inheritable: 1 << 13, Effective: true}, "cap_net_raw=ei"}, nil
	case "/usr/local/bin/chown-p":
		return fileCaps{report.FileCaps{Permitted: 1 << 0, Effective: true}, "cap_chown=ep"}, nil
	}
	return fileCaps{}, &fs.PathError{Op: "getxattr", Path: path, Err: fs.ErrNotExist}
}

func (fakeSystem) IsRegularFile(path string) bool { return osSystem{}.IsRegularFile(path) }

// gocap runs the command and returns its output, errors and exit code.
func gocap(args ...string) (string, string, int) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut, fakeSystem{testOS})
	return out.String(), errOut.String(), code
}

// argsOf reads "# gocap-args: ..." from a file's first line.
func argsOf(t *testing.T, path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(data), "\n")
	args, _ := strings.CutPrefix(first, "# gocap-args: ")
	if args == first {
		return ""
	}
	return args
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		os.WriteFile(path, []byte(got), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Fatalf("%s differs; got:\n%s\nwant:\n%s", path, got, want)
	}
}

// Every message of gocap check, with its exit code, against testdata.
func TestCheckGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.conf")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			out, errOut, code := gocap("check", file, "--args", argsOf(t, file))
			golden(t, strings.TrimSuffix(file, ".conf")+".golden", fmt.Sprintf("%sexit %d\n%s", out, code, errOut))
		})
	}
}

func TestCheckJSON(t *testing.T) {
	out, _, code := gocap("check", "--format", "json", "testdata/unknown.conf")
	golden(t, "testdata/unknown.json", out)
	var v struct {
		File             string
		Errors, Warnings int
		Findings         []Finding
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || code != 1 || v.Errors != 2 || len(v.Findings) != v.Errors+v.Warnings {
		t.Fatalf("JSON %+v, err %v, exit %d", v, err, code)
	}
	out, _, code = gocap("check", "testdata/clean.conf", "--format", "json")
	if code != 0 || !strings.Contains(out, `"findings": []`) {
		t.Fatalf("clean file: exit %d, %s", code, out)
	}
}

func TestCheckRefusedFiles(t *testing.T) {
	dir := t.TempDir()
	ww := filepath.Join(dir, "ww.conf")
	os.WriteFile(ww, []byte("cap_net_rw alice\n"), 0o644)
	os.Chmod(ww, 0o666)
	tests := []struct {
		name, path, want string
		code             int
	}{
		{"world-writable", ww, ww + ": error: pam_gocap ignores this file: " + ww + ": world-writable: refused\n" +
			ww + `:1:1: error: unknown capability "cap_net_rw" (did you mean cap_net_raw?)` + "\n", 1},
		{"directory", dir, dir + ": error: pam_gocap ignores this file: " + dir + ": a directory, not a regular file: refused\n", 1},
		{"/dev/null is fine", "/dev/null", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, code := gocap("check", tt.path)
			if out != tt.want || code != tt.code {
				t.Fatalf("got exit %d:\n%s\nwant exit %d:\n%s", code, out, tt.code, tt.want)
			}
		})
	}
}

// The drop-in directory and its files must be owned by root and writable
// by no one else; gocap check says so in the module's words. The main
// file is refused only when world-writable, as pam_cap.so reads it, but
// gocap check warns of a group that may write it or an owner not root.
func TestCheckOwnershipAndModes(t *testing.T) {
	dir := t.TempDir()
	file := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(text), 0o600)
		os.Chmod(p, mode)
		return p
	}
	gwMain := file("gw.conf", "cap_net_raw alice\n", 0o664)
	gwDirMain := file("gwdir.conf", "cap_net_raw alice\n", 0o644)
	gwDir := filepath.Join(dir, "gwdir.conf.d")
	file("gwdir.conf.d/10-x.conf", "cap_chown bob\n", 0o644)
	os.Chmod(gwDir, 0o775|os.ModeSetgid)
	gwIn := file("gwin.conf", "cap_net_raw alice\n", 0o644)
	gwInFile := file("gwin.conf.d/10-x.conf", "cap_chown bob\n", 0o664)
	linkMain := file("link.conf", "cap_net_raw alice\n", 0o644)
	target := file("target", "cap_chown bob\n", 0o644)
	os.Mkdir(linkMain+".d", 0o755)
	os.Symlink(target, linkMain+".d/10-link.conf")
	rule := "a drop-in directory and its files must be owned by root and writable by no one else"
	tests := []struct {
		name, path, want string
		code             int
	}{
		{"group-writable main file: a warning", gwMain, gwMain + ": warning: writable by group " + gid(t, gwMain) +
			" (mode 0664): pam_gocap and pam_cap.so read it, but every member of that group can change who gets which capabilities\n", 0},
		{"group-writable drop-in directory", gwDirMain, gwDir + ": error: pam_gocap grants nothing while this directory is refused: " +
			gwDir + ": writable by group " + gid(t, gwDir) + " (mode 2775): " + rule + ": refused\n", 1},
		{"group-writable drop-in", gwIn, gwInFile + ": error: pam_gocap grants nothing while this drop-in file is refused: " +
			gwInFile + ": writable by group " + gid(t, gwInFile) + " (mode 0664): " + rule + ": refused\n", 1},
		{"symlinked drop-in", linkMain, linkMain + ".d/10-link.conf: error: pam_gocap grants nothing while this drop-in file is refused: " +
			linkMain + ".d/10-link.conf: a symbolic link, not a regular file: refused\n", 1},
	}
	if os.Getuid() == 0 {
		usersMain := file("users.conf", "cap_net_raw alice\n", 0o644)
		usersIn := file("users.conf.d/10-x.conf", "cap_chown bob\n", 0o644)
		os.Chown(usersMain, 2005, 2005)
		os.Chown(usersIn, 2005, 2005)
		tests = append(tests, struct {
			name, path, want string
			code             int
		}{"a user's main file and drop-in", usersMain, usersMain + ": warning: owned by uid 2005, not root: pam_gocap and pam_cap.so read it, " +
			"but its owner can change who gets which capabilities\n" + usersIn + ": error: pam_gocap grants nothing while this drop-in file is refused: " +
			usersIn + ": owned by uid 2005, not root: " + rule + ": refused\n", 1})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run([]string{"check", tt.path}, &out, &errOut, fakeSystem{testOS})
			if out.String() != tt.want || code != tt.code {
				t.Fatalf("got exit %d:\n%s\nwant exit %d:\n%s", code, out.String(), tt.code, tt.want)
			}
		})
	}
}

// A directory on the resolved path of the main file or of the drop-in
// directory that others may write, or that is not root's, lets them put
// another file in its place: gocap check warns, as the module reads them.
func TestCheckPathDirectories(t *testing.T) {
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	mkdir := func(name string, mode uint32) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mkdir("etc", 0o755)
	shared := mkdir("srv/shared", 0o1777)
	write("srv/shared/cap.conf", "cap_net_raw alice\n")
	linked := filepath.Join(dir, "etc/linked.conf")
	os.Symlink(shared+"/cap.conf", linked)
	gw := mkdir("gw", 0o2775)
	gwMain := mkdir("gw/security", 0o755) + "/capability.conf"
	write("gw/security/capability.conf", "cap_net_raw alice\n")
	mkdir("gw/security/capability.conf.d", 0o755)
	write("gw/security/capability.conf.d/10-x.conf", "cap_chown bob\n")
	mkdir("plain/security/capability.conf.d", 0o755)
	plain := write("plain/security/capability.conf", "cap_net_raw alice\n")
	g := gid(t, gw)
	main := ": pam_gocap and pam_cap.so read it, but "
	tests := []struct{ name, path, want string }{
		{"the main file linked into a world-writable directory", linked, linked + ": warning: directory " + shared +
			" on its resolved path is world-writable (mode 1777)" + main + "anyone can put another file in its place\n"},
		{"a group-writable directory above the main file and the drop-ins", gwMain,
			gwMain + ": warning: directory " + gw + " on its resolved path is writable by group " + g + " (mode 2775)" + main +
				"every member of that group can put another file in its place\n" +
				gwMain + ".d: warning: directory " + gw + " on its resolved path is writable by group " + g +
				" (mode 2775): pam_gocap reads the drop-ins in it, but every member of that group can put another file in its place\n"},
		{"root's directories (or the test's), 0755", plain, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run([]string{"check", tt.path}, &out, &errOut, fakeSystem{testOS})
			if out.String() != tt.want || code != 0 {
				t.Fatalf("got exit %d:\n%s%s\nwant exit 0:\n%s", code, out.String(), errOut.String(), tt.want)
			}
		})
	}
}

// gid is the group of a file, as a number.
func gid(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(fi.Sys().(*syscall.Stat_t).Gid)
}

func TestUsageAndIOErrors(t *testing.T) {
	tests := []struct {
		args    []string
		code    int
		errText string
	}{
		{nil, 2, "usage:"},
		{[]string{"frob"}, 2, `gocap: unknown command "frob"`},
		{[]string{"check", "/nonexistent/capability.conf"}, 2, "gocap check: stat /nonexistent/capability.conf: no such file or directory"},
		{[]string{"check", "a", "b"}, 2, "gocap check: one FILE at most"},
		{[]string{"check", "--file", "x"}, 2, "gocap check: --file does not apply here"},
		{[]string{"check", "--format", "xml", "testdata/clean.conf"}, 2, `gocap check: --format is text or json, not "xml"`},
		{[]string{"explain"}, 2, "gocap explain: give one USER"},
		{[]string{"explain", "alice", "--service", "cron"}, 2, `gocap explain: --service is su, login or sshd, the hosts whose handling of capabilities is known, not "cron"`},
		{[]string{"explain", "alice", "--file", "/nonexistent"}, 2, "gocap explain: /nonexistent: getxattr /nonexistent: file does not exist"},
		{[]string{"check", "--bogus"}, 2, "gocap check: flag provided but not defined: -bogus"},
	}
	for _, tt := range tests {
		out, errOut, code := gocap(tt.args...)
		if code != tt.code || !strings.HasPrefix(errOut, tt.errText) || out != "" {
			t.Errorf("gocap %q: exit %d, stdout %q, stderr %q; want exit %d, stderr starting %q", tt.args, code, out, errOut, tt.code, tt.errText)
		}
	}
	if out, _, code := gocap("--version"); code != 0 || out != "gocap devel\n" {
		t.Errorf("--version: %q, exit %d", out, code)
	}
	if out, _, code := gocap("help"); code != 0 || !strings.HasPrefix(out, "usage:") {
		t.Errorf("help: %q, exit %d", out, code)
	}
}

func TestExplainGolden(t *testing.T) {
	conf := "../../capconf/testdata/basic.conf"
	tests := []struct {
		name string
		args []string
	}{
		{"alice-ping", []string{"explain", "alice", "--config", conf, "--file", "/usr/local/bin/ping-netops"}},
		{"bob-keepcaps-defer", []string{"explain", "--config", conf, "--args", "keepcaps defer", "bob"}},
		{"erin-none", []string{"explain", "erin", "--config", conf, "--file", "/usr/local/bin/ping-netops"}},
		{"mallory-unknown", []string{"explain", "mallory", "--config", conf, "--args", "default=cap_chown"}},
		{"alice-chown-permitted", []string{"explain", "alice", "--config", conf, "--file", "/usr/local/bin/chown-p"}},
		{"dropin-bob", []string{"explain", "bob", "--config", "testdata/dropins.conf"}},
		{"ambient-sshd", []string{"explain", "bob", "--config", "testdata/ambient.conf", "--service", "sshd"}},
		{"ambient-su-keepcaps-defer", []string{"explain", "bob", "--config", "testdata/ambient.conf", "--args", "keepcaps defer", "--service", "su"}},
		{"ambient-sshd-keepcaps-defer", []string{"explain", "bob", "--config", "testdata/ambient.conf", "--args", "keepcaps defer", "--service", "sshd"}},
		{"ambient-login-defer", []string{"explain", "bob", "--config", "testdata/ambient.conf", "--args", "defer", "--service", "login"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := gocap(tt.args...)
			if code != 0 || errOut != "" {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			golden(t, "testdata/explain-"+tt.name+".golden", out)
		})
	}
}

// A name from NSS, a rule's text and a path print as text: not one byte
// of them acts on root's terminal.
func TestExplainEscapesNames(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "capability.conf\x1b[1A")
	if err := os.WriteFile(conf, []byte("cap_net_raw  @"+evilGroup+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{evil, "mallory\x1b[2J"} {
		out, errOut, code := gocap("explain", user, "--config", conf, "--file", "/usr/local/bin/ping-netops")
		if code != 0 || errOut != "" {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		if strings.ContainsAny(out, "\x1b\x07") {
			t.Errorf("a control character reached the output:\n%q", out)
		}
		if !strings.Contains(out, quote.Terminal(user)) {
			t.Errorf("the user's name, escaped, is missing:\n%s", out)
		}
	}
	out, _, _ := gocap("explain", evil, "--config", conf)
	for _, want := range []string{`groups        ops\x1b[2J (from NSS)`, `capability.conf\x1b[1A:1: cap_net_raw  @ops\x1b[2J`} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

// gocap check prints a file's path as text too, and the tokens it quotes
// keep their one escape.
func TestCheckEscapesPaths(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "capability.conf\x1b[1A")
	if err := os.WriteFile(conf, []byte("cap_bogus\x1b]0;x\x07  alice\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code := gocap("check", conf)
	if code != 1 || strings.ContainsAny(out, "\x1b\x07") {
		t.Fatalf("exit %d, want 1 and no control character in:\n%q", code, out)
	}
	want := `capability.conf\x1b[1A:1:1: error: unknown capability "cap_bogus\x1b]0;x\a"`
	if !strings.Contains(out, want) {
		t.Errorf("missing %s in:\n%s", want, out)
	}
}

func TestExplainJSON(t *testing.T) {
	out, _, code := gocap("explain", "alice", "--config", "../../capconf/testdata/basic.conf", "--file", "/usr/local/bin/ping-netops", "--format", "json")
	var ex Explanation
	if err := json.Unmarshal([]byte(out), &ex); err != nil || code != 0 {
		t.Fatalf("exit %d, %v: %s", code, err, out)
	}
	want := Explanation{
		User: "alice", UID: "2001", GID: "2001", Groups: []string{"alice"}, Known: true,
		Config:       "../../capconf/testdata/basic.conf",
		Rule:         &ruleJSON{"../../capconf/testdata/basic.conf", 2, "cap_net_raw", "alice @netops"},
		Authenticate: "PAM_SUCCESS", Setcred: "PAM_SUCCESS", Action: "apply", IAB: "cap_net_raw",
		Inheritable: []string{"cap_net_raw"}, Ambient: []string{}, BoundingDrop: []string{},
		Notes: []string{
			`../../capconf/testdata/basic.conf:2: user "alice" matched "cap_net_raw"`,
			`../../capconf/testdata/basic.conf:2: applying IAB "cap_net_raw" for user "alice"`,
		},
		File: &fileOutcome{"/usr/local/bin/ping-netops", "cap_net_raw=ei", []string{"cap_net_raw"}, []string{"cap_net_raw"}},
	}
	if !reflect.DeepEqual(ex, want) {
		t.Fatalf("got  %+v\nwant %+v", ex, want)
	}
}
