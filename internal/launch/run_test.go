package launch

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The test binary is the launcher too, as gocap is: Run starts
// os.Executable() with Command.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == Command {
		os.Exit(Main(os.Args[2:], os.Stderr))
	}
	os.Exit(m.Run())
}

// noTerminal gives the test /dev/null for gocap's standard streams, so
// that Run finds no terminal even when the tests run on one.
func noTerminal(t *testing.T) {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	saved := [3]*os.File{os.Stdin, os.Stdout, os.Stderr}
	os.Stdin, os.Stdout, os.Stderr = null, null, null
	t.Cleanup(func() {
		os.Stdin, os.Stdout, os.Stderr = saved[0], saved[1], saved[2]
		null.Close()
	})
}

// armed is a trace that needs no marker and records nothing.
type armed struct{ pid int }

func (a *armed) Marker() *os.File  { return nil }
func (a *armed) Arm(pid int) error { a.pid = pid; return nil }

// Without a terminal, the command runs in a session of its own with no
// controlling terminal, with exactly the environment and directory given,
// and its exit status or signal comes back.
func TestRunSessionEnvDir(t *testing.T) {
	noTerminal(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	script := `read -r pid comm state ppid pgrp session tty rest </proc/$$/stat
echo "$pid $session $tty" >"$OUT"; env | sort >>"$OUT"; pwd >>"$OUT"`
	a := &armed{}
	res, err := Run(&Spec{Path: "/bin/sh", Args: []string{"sh", "-c", script}, Env: []string{"OUT=" + out, "A=1"}, Dir: dir}, a, nil)
	code := res.Status
	if err != nil || code != 0 {
		t.Fatalf("Run: %d, %v", code, err)
	}
	data, _ := os.ReadFile(out)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	f := strings.Fields(lines[0])
	if len(f) != 3 || f[0] != f[1] || f[2] != "0" || f[0] != strconv.Itoa(a.pid) {
		t.Errorf("pid, session, tty: %q; want a session of its own (pid %d) and no terminal", lines[0], a.pid)
	}
	var env []string
	for _, l := range lines[1 : len(lines)-1] {
		if !strings.HasPrefix(l, "PWD=") { // sh sets it
			env = append(env, l)
		}
	}
	if got := strings.Join(env, " "); got != "A=1 OUT="+out {
		t.Errorf("environment %q", got)
	}
	if got := lines[len(lines)-1]; got != dir {
		t.Errorf("directory %q, want %q", got, dir)
	}
}

func TestRunExitCodes(t *testing.T) {
	noTerminal(t)
	for _, tc := range []struct {
		script string
		want   int
	}{{"exit 7", 7}, {"kill -TERM $$", 128 + int(syscall.SIGTERM)}} {
		res, err := Run(&Spec{Path: "/bin/sh", Args: []string{"sh", "-c", tc.script}}, &armed{}, nil)
		code := res.Status
		if err != nil || code != tc.want {
			t.Errorf("%s: %d, %v; want %d", tc.script, code, err, tc.want)
		}
	}
}

// What the command leaves running in its session is waited for up to
// Linger, and named when it outlives that.
func TestRunStillRunning(t *testing.T) {
	noTerminal(t)
	for _, tc := range []struct {
		name   string
		script string
		want   []string
	}{
		{"ends in time", "sleep 0.3 & exit 0", nil},
		{"outlives the wait", "sleep 3 & exit 0", []string{"sleep"}},
		{"a session of its own", "setsid sleep 3 & sleep 3 & exit 0", []string{"sleep", "sleep"}},
		{"orphaned twice", "(setsid sh -c 'sleep 3 & exit 0' &); exit 0", []string{"sleep"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A child of gocap's own, started before, is not the command's.
			own := exec.Command("sleep", "3")
			if err := own.Start(); err != nil {
				t.Fatal(err)
			}
			defer own.Wait()
			defer own.Process.Kill()
			res, err := Run(&Spec{Path: "/bin/sh", Args: []string{"sh", "-c", tc.script}, Linger: time.Second}, &armed{}, nil)
			if err != nil || res.Status != 0 {
				t.Fatalf("Run: %+v, %v", res, err)
			}
			var got []string
			for _, p := range res.StillRunning {
				got = append(got, p.Comm)
				syscall.Kill(p.Pid, syscall.SIGKILL)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("still running %q, want %q", got, tc.want)
			}
		})
	}
}

// With a terminal (a pty of the test's, standing for root's), the command
// gets a pty of its own, with the terminal's size, as the controlling
// terminal of its own session; what it writes is relayed, and the
// terminal's settings are put back.
func TestRunOnPty(t *testing.T) {
	master, slave, err := openPTY()
	if err != nil {
		t.Fatal(err)
	}
	defer master.Close()
	defer slave.Close()
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 33, Col: 77}); err != nil {
		t.Fatal(err)
	}
	before, err := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	rootTTY, _ := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", slave.Fd()))
	saved := [3]*os.File{os.Stdin, os.Stdout, os.Stderr}
	os.Stdin, os.Stdout, os.Stderr = slave, slave, slave
	defer func() { os.Stdin, os.Stdout, os.Stderr = saved[0], saved[1], saved[2] }()
	var relayed strings.Builder
	done := make(chan struct{})
	go func() {
		io.Copy(&relayed, master)
		close(done)
	}()
	out := filepath.Join(t.TempDir(), "out")
	script := `tty >"$OUT"; stty size >>"$OUT"
read -r pid comm state ppid pgrp session tty rest </proc/$$/stat; echo "$pid $session" >>"$OUT"; printf 'relayed-text\033[8m'`
	a := &armed{}
	res, err := Run(&Spec{Path: "/bin/sh", Args: []string{"sh", "-c", script}, Env: []string{"OUT=" + out}}, a, nil)
	code := res.Status
	if err != nil || code != 0 {
		t.Fatalf("Run: %d, %v", code, err)
	}
	after, _ := unix.IoctlGetTermios(int(slave.Fd()), unix.TCGETS)
	if *after != *before {
		t.Errorf("the terminal's settings were not put back:\n%+v\n%+v", after, before)
	}
	data, _ := os.ReadFile(out)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 3 {
		t.Fatalf("the command wrote %q", data)
	}
	if !strings.HasPrefix(lines[0], "/dev/pts/") || lines[0] == rootTTY {
		t.Errorf("the command's terminal is %q; want a pty other than %s", lines[0], rootTTY)
	}
	if lines[1] != "33 77" {
		t.Errorf("the command's terminal size is %q, want 33 77", lines[1])
	}
	if f := strings.Fields(lines[2]); len(f) != 2 || f[0] != f[1] || f[0] != strconv.Itoa(a.pid) {
		t.Errorf("pid and session %q: want a session of its own (pid %d)", lines[2], a.pid)
	}
	os.Stdin, os.Stdout, os.Stderr = saved[0], saved[1], saved[2]
	slave.Close()
	master.SetReadDeadline(time.Now().Add(2 * time.Second))
	<-done
	// What the command left set (here, concealed text) is undone, on a
	// line of its own, once the relay has ended.
	if want := "relayed-text\x1b[8m" + terminalReset + "\r\n"; !strings.HasSuffix(relayed.String(), want) {
		t.Errorf("relayed %q, want the command's output and then %q", relayed.String(), want)
	}
}

// A descriptor gocap inherited without close-on-exec (root's shell's
// `exec 7</etc/shadow`) does not reach the command: it has 0, 1 and 2.
func TestRunInheritedFiles(t *testing.T) {
	noTerminal(t)
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("root's"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, fd := range []int{7, 77} {
		opened, err := unix.Open(secret, unix.O_RDONLY, 0) // no O_CLOEXEC
		if err != nil {
			t.Fatal(err)
		}
		if opened != fd {
			if err := unix.Dup2(opened, fd); err != nil {
				t.Fatal(err)
			}
			unix.Close(opened)
		}
		t.Cleanup(func() { unix.Close(fd) })
	}
	out := filepath.Join(dir, "out")
	// The shell lists its descriptors with builtins alone: a pipeline
	// would hold pipes of its own in it while the list is read.
	list := `n=0 l=; while [ $n -lt 1024 ]; do [ -L /proc/$$/fd/$n ] && l="$l$n "; n=$((n + 1)); done; printf %s "$l" >"$OUT"`
	res, err := Run(&Spec{Path: "/bin/sh", Args: []string{"sh", "-c", list},
		Env: []string{"OUT=" + out}}, &armed{}, nil)
	if err != nil || res.Status != 0 {
		t.Fatalf("Run: %+v, %v", res, err)
	}
	if data, _ := os.ReadFile(out); string(data) != "0 1 2 " {
		t.Errorf("the command's descriptors: %q, want 0 1 2", data)
	}
}

// Where the kernel lacks close_range(2), each descriptor listed in
// /proc/self/fd from the lowest given up is marked close-on-exec.
func TestCloseOnExecListed(t *testing.T) {
	var fds []int
	for i := 0; i < 3; i++ {
		fd, err := unix.Open(os.DevNull, unix.O_RDONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		fds = append(fds, fd)
	}
	if err := closeOnExecListed(fds[1]); err != nil {
		t.Fatal(err)
	}
	for i, fd := range fds {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
		if got, want := err == nil && flags&unix.FD_CLOEXEC != 0, i > 0; got != want {
			t.Errorf("fd %d: close-on-exec %v, want %v (%v)", fd, got, want, err)
		}
	}
}
