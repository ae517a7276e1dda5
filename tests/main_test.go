// Package tests runs pam_gocap.so through the real libpam, in a Go host
// (msteinert/pam) and in a C host (pamhost.c), and side by side with
// Debian's pam_cap.so. It needs root and the test build that
// `make test-module` makes; it changes nothing on the machine: the test
// binary runs itself again in a private mount namespace where /etc/passwd
// and /etc/group carry the test users, NSS asks a failing service
// (tests/c/nssfail.c) after them, and /dev is a fresh tmpfs whose /dev/log
// is read by the tests.
package tests

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test users: uid, primary group, supplementary groups.
var testUsers = []struct {
	name, primary string
	uid           int
	groups        []string
}{
	{"alice", "alice", 2001, nil},
	{"bob", "bob", 2002, []string{"netops"}},
	{"carol", "netops", 2003, nil},
	{"dave", "dave", 2004, []string{"admins"}},
	{"erin", "erin", 2005, nil},
	// t0..t7 each get one capability, for the threads test.
	{"t0", "t0", 2010, nil}, {"t1", "t1", 2011, nil}, {"t2", "t2", 2012, nil}, {"t3", "t3", 2013, nil},
	{"t4", "t4", 2014, nil}, {"t5", "t5", 2015, nil}, {"t6", "t6", 2016, nil}, {"t7", "t7", 2017, nil},
	// names at the usual 32-byte limit of useradd and groupadd
	{longName, longGroup, 2020, nil},
}

const (
	longName  = "u2345678901234567890123456789012"
	longGroup = "g2345678901234567890123456789012"
)

// Users whose names attack the audit line (tests/audit_test.go): NSS
// files allow any byte in a name but a colon and a newline.
var hostileUsers = []string{
	"evil user=alice iab=cap_sys_admin from=/etc/security/capability.conf;9", // no colon in a passwd name
	"q\"uote\\ c1\u0085 ls\u2028 ps\u2029 bidi\u202e ctl\x01\x1b nonutf8\xff",
	strings.Repeat("long", 9000/4) + " iab=cap_sys_admin",
}

var testGroups = map[string]int{"alice": 2001, "bob": 2002, "dave": 2004, "erin": 2005, "netops": 2100, "admins": 2101,
	"t0": 2010, "t1": 2011, "t2": 2012, "t3": 2013, "t4": 2014, "t5": 2015, "t6": 2016, "t7": 2017, longGroup: 2020}

// stress is set by `make stress`: the full counts instead of CI's.
var stress = os.Getenv("PAM_GOCAP_STRESS") != ""

func count(ci, full int) int {
	if stress {
		return full
	}
	return ci
}

const nsScript = `set -e
mount --bind "$PAM_GOCAP_ETC/passwd" /etc/passwd
mount --bind "$PAM_GOCAP_ETC/group" /etc/group
mount --bind "$PAM_GOCAP_ETC/nsswitch.conf" /etc/nsswitch.conf
mount --bind "$PAM_GOCAP_BUILD/libnss_nssfail.so.2" "$PAM_GOCAP_NSS_SLOT"
mount -t tmpfs -o mode=755 tmpfs /dev
mknod -m 666 /dev/null c 1 3
mknod -m 666 /dev/zero c 1 5
mknod -m 444 /dev/urandom c 1 9
exec "$@"`

var (
	buildDir string // the test build: pam_gocap.so, pam_gocap-helper, pamhost
	syslogMu sync.Mutex
	syslog   []string
)

func TestMain(m *testing.M) {
	if os.Getuid() != 0 {
		fmt.Fprintln(os.Stderr, "tests: the module tests need root (mount namespaces, capabilities, setuid hosts); run `make test` as root")
		os.Exit(1)
	}
	buildDir = os.Getenv("PAM_GOCAP_BUILD")
	if buildDir == "" {
		fmt.Fprintln(os.Stderr, "tests: PAM_GOCAP_BUILD is not set; run `make test`")
		os.Exit(2)
	}
	if os.Getenv("PAM_GOCAP_ETC") == "" {
		os.Exit(reexecInNamespace())
	}
	if err := listenSyslog(); err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// reexecInNamespace runs this test binary again under unshare with the
// test users' passwd and group files, and returns its exit code.
func reexecInNamespace() int {
	etc, err := os.MkdirTemp("", "pam_gocap-etc")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		return 2
	}
	defer os.RemoveAll(etc)
	passwd, _ := os.ReadFile("/etc/passwd")
	group, _ := os.ReadFile("/etc/group")
	members := map[string][]string{}
	for _, u := range testUsers {
		passwd = fmt.Appendf(passwd, "%s:x:%d:%d::/nonexistent:/bin/sh\n", u.name, u.uid, testGroups[u.primary])
		for _, g := range u.groups {
			members[g] = append(members[g], u.name)
		}
	}
	for i, name := range hostileUsers {
		passwd = fmt.Appendf(passwd, "%s:x:%d:%d::/nonexistent:/bin/sh\n", name, 2200+i, testGroups["erin"])
	}
	for name, gid := range testGroups {
		group = fmt.Appendf(group, "%s:x:%d:%s\n", name, gid, strings.Join(members[name], ","))
	}
	group = append(group, extraGroups()...)
	os.WriteFile(filepath.Join(etc, "passwd"), passwd, 0o644)
	os.WriteFile(filepath.Join(etc, "group"), group, 0o644)
	slot, nsswitch, err := nssFailSetup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		return 2
	}
	os.WriteFile(filepath.Join(etc, "nsswitch.conf"), nsswitch, 0o644)
	args := append([]string{"--mount", "--propagation", "private", "/bin/sh", "-c", nsScript, "sh"}, os.Args...)
	cmd := exec.Command("unshare", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "PAM_GOCAP_ETC="+etc, "PAM_GOCAP_NSS_SLOT="+slot)
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		fmt.Fprintln(os.Stderr, "tests:", err)
		return 2
	}
	return 0
}

// nssFailSetup finds where glibc loads its hesiod NSS service from, which
// the namespace replaces with tests/c/nssfail.c, and gives this machine's
// nsswitch.conf with that service last on the passwd line.
func nssFailSetup() (slot string, nsswitch []byte, err error) {
	for _, p := range []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
		"/usr/lib/aarch64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"} {
		if real, err := filepath.EvalSymlinks(filepath.Join(p, "libnss_hesiod.so.2")); err == nil {
			slot = real
			break
		}
	}
	if slot == "" {
		return "", nil, fmt.Errorf("libnss_hesiod.so.2 not found: the NSS tests mount their failing service in its place")
	}
	conf, err := os.ReadFile("/etc/nsswitch.conf")
	if err != nil {
		return "", nil, err
	}
	lines := strings.Split(string(conf), "\n")
	found := false
	for i, l := range lines {
		if f := strings.Fields(l); len(f) > 0 && f[0] == "passwd:" {
			lines[i], found = l+" hesiod", true
		}
	}
	if !found {
		return "", nil, fmt.Errorf("/etc/nsswitch.conf has no passwd line")
	}
	return slot, []byte(strings.Join(lines, "\n")), nil
}

// extraGroups puts erin in many groups, for the hostile-input tests.
func extraGroups() []byte {
	var b []byte
	for i := 0; i < manyGroups; i++ {
		b = fmt.Appendf(b, "g%04d:x:%d:erin\n", i, 30000+i)
	}
	return b
}

const manyGroups = 1000

// listenSyslog reads /dev/log (private to the namespace) into syslog.
func listenSyslog() error {
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: "/dev/log", Net: "unixgram"})
	if err != nil {
		return err
	}
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			syslogMu.Lock()
			syslog = append(syslog, string(buf[:n]))
			syslogMu.Unlock()
		}
	}()
	return nil
}

// logsContaining waits briefly for syslog lines containing every one of
// the substrings and returns the lines holding the first.
func logsContaining(t *testing.T, subs ...string) []string {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		var found []string
		all := true
		syslogMu.Lock()
		for _, s := range subs {
			hit := false
			for _, l := range syslog {
				if strings.Contains(l, s) {
					hit = true
					if s == subs[0] {
						found = append(found, l)
					}
				}
			}
			all = all && hit
		}
		syslogMu.Unlock()
		if all || time.Now().After(deadline) {
			return found
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// env is a private PAM service directory and the files the tests write.
type env struct {
	t   *testing.T
	dir string
}

func newEnv(t *testing.T) *env {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "pam.d"), 0o755)
	return &env{t, dir}
}

// conf writes a rules file and returns its path.
func (e *env) conf(name, text string) string {
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// service writes a PAM service file holding the module, as the only auth
// module and "required", so that its return code shows through (libpam
// turns a lone PAM_IGNORE into PAM_PERM_DENIED).
func (e *env) service(name, module string, args ...string) {
	line := fmt.Sprintf("auth required %s %s\n", module, strings.Join(args, " "))
	if err := os.WriteFile(filepath.Join(e.dir, "pam.d", name), []byte(line), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) confDir() string { return filepath.Join(e.dir, "pam.d") }

func gocapModule() string { return filepath.Join(buildDir, "pam_gocap.so") }

// pamCapModule is Debian's pam_cap.so from libpam-cap.
func pamCapModule(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/lib/x86_64-linux-gnu/security/pam_cap.so", "/usr/lib/x86_64-linux-gnu/security/pam_cap.so",
		"/lib/security/pam_cap.so", "/usr/lib/security/pam_cap.so"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("pam_cap.so not found: install libpam-cap")
	return ""
}

// pamhost runs the C host and returns its output lines; a run that takes
// longer than pamhostLimit fails the test as a hang.
func (e *env) pamhost(service, user string, ops ...string) []string {
	e.t.Helper()
	return e.pamhostWithin(pamhostLimit, service, user, ops...)
}

// pamhostLimit is far above any run here, so that only a hang reaches it.
const pamhostLimit = 10 * time.Minute

// pamhostWithin runs the C host under a deadline, with an empty
// environment, and fails the test on a hang or an error.
func (e *env) pamhostWithin(d time.Duration, service, user string, ops ...string) []string {
	e.t.Helper()
	out, _ := e.pamhostRun(hostRun{limit: d}, service, user, ops...)
	return out
}

// hostRun says how to run the C host: its environment, a command to run
// it under (such as unshare), its deadline (pamhostLimit if zero), and
// whether it may exit with an error.
type hostRun struct {
	env     []string
	wrapper []string
	limit   time.Duration
	mayFail bool
}

// pamhostRun runs the C host and returns its output lines and what it
// wrote to standard error. A run past its deadline fails the test as a
// hang; so does an error, unless the run may fail.
func (e *env) pamhostRun(r hostRun, service, user string, ops ...string) ([]string, string) {
	e.t.Helper()
	args := []string{"-d", e.confDir(), "-s", service}
	if user != "" {
		args = append(args, "-u", user)
	}
	args = append(append(append(r.wrapper, filepath.Join(buildDir, "pamhost")), args...), ops...)
	if r.limit == 0 {
		r.limit = pamhostLimit
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = append([]string{}, r.env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		e.t.Fatalf("pamhost %v: no answer within %v", ops, r.limit)
	}
	if err != nil && !r.mayFail {
		e.t.Fatalf("pamhost %v: %v\n%s%s", ops, err, out, stderr.String())
	}
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, stderr.String()
}
