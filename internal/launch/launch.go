// Package launch starts the command gocap trace traces, as root lends a
// command to another user: in a session of its own, on a pseudo-terminal
// of its own when gocap has a terminal (and with no controlling terminal
// otherwise), with a login's environment, in the user's home, with the
// credentials and capabilities a login gives. The command can neither
// inject into root's terminal nor read from it, sees none of root's
// environment, and nothing it leaves running holds root's terminal.
//
// The process that becomes the command is gocap itself, run again as the
// hidden command Command (the launcher): it takes the user's credentials,
// says it is ready, waits while the trace is armed on it and then execs
// the command, so that the trace sees everything the command does and
// nothing of gocap's.
//
// It is a package of its own, apart from gocap's flags and reports and
// from captrace (which records a process tree, whoever started it),
// because all of it is about what root hands the command; internal,
// because the launcher's arguments are gocap's own protocol.
package launch

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Command is the hidden gocap command the launcher runs as; gocap's main
// passes os.Args[2:] to Main when os.Args[1] is Command.
const Command = "__trace-launch"

func init() {
	// The launcher must exec from its main thread, whose tid is its pid,
	// the task the trace follows; and its capabilities are set there.
	if len(os.Args) > 1 && os.Args[1] == Command {
		runtime.LockOSThread()
	}
}

// Exit codes when the command did not run, as timeout(1) and env(1) have
// them.
const (
	ExitFailed    = 125
	ExitCannotRun = 126
)

// ErrNotStarted is Run's error when the launcher ended before it was
// ready: it could not become the user (and said why on its standard
// error).
var ErrNotStarted = errors.New("the process to trace could not start")

// Spec is what the launcher does: as whom, with what, where.
type Spec struct {
	Path string   // the program, an absolute path
	Args []string // its arguments, the name it is run by first
	Env  []string // its whole environment
	Dir  string   // the directory it starts in; "" keeps gocap's
	// With AsUser, the credentials and capabilities of a login: ids and
	// groups, the Inheritable and Ambient sets, and the Bounding set's
	// drops. Without, the command runs as gocap does.
	AsUser              bool
	UID, GID            int
	Groups              []int
	Inh, Amb, BoundDrop uint64
	// StdoutToStderr sends the command's standard output to gocap's
	// standard error, so that gocap's own can carry a report whole.
	StdoutToStderr bool
	// Linger is how long Run waits, once the command has exited, for the
	// rest of its session (what it started in the background) to end.
	Linger time.Duration
}

// Result is how the command ended.
type Result struct {
	// Status is the command's exit code (128+N for a signal, as a shell
	// has it).
	Status int
	// StillRunning are processes the command started (in its session,
	// or out of it with setsid) still running when Run stopped waiting
	// for them.
	StillRunning []Process
}

// Tracer is the part of a captrace.Tracer the launch needs.
type Tracer interface {
	Marker() *os.File
	Arm(pid int) error
}

// Run starts the launcher, arms t on it, lets it exec the command and
// waits for the command and then, up to s.Linger, for the rest of its
// session, relaying the terminal and passing on sigs.
func Run(s *Spec, t Tracer, sigs <-chan os.Signal) (Result, error) {
	goR, goW, err := os.Pipe()
	if err != nil {
		return Result{}, err
	}
	defer goR.Close()
	defer goW.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return Result{}, err
	}
	defer readyR.Close()
	self, err := os.Executable()
	if err != nil {
		return Result{}, err
	}
	marker := "nomarker"
	if t.Marker() != nil {
		marker = "marker"
	}
	dir := s.Dir
	if dir == "" {
		dir = "-"
	}
	cmd := exec.Command(self, append([]string{Command, s.encode(), marker, dir, "--", s.Path}, s.Args...)...)
	cmd.Args[0] = "gocap"
	cmd.Env = s.Env
	term, err := openTerminal(s)
	if err != nil {
		return Result{}, err
	}
	defer term.close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = term.files[0], term.files[1], term.files[2]
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if term.pty != nil {
		cmd.SysProcAttr.Setctty, cmd.SysProcAttr.Ctty = true, term.ctty
	}
	cmd.ExtraFiles = []*os.File{goR, readyW, t.Marker()} // fds 3, 4, 5
	// What the command starts and leaves behind is adopted by gocap when
	// its parent dies, even in a session of its own (setsid), so that
	// linger finds it; gocap's own children before the start are not the
	// command's.
	mine := children()
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		readyW.Close()
		return Result{}, fmt.Errorf("becoming the subreaper of the command's processes: %w", err)
	}
	if err := cmd.Start(); err != nil {
		readyW.Close()
		return Result{}, err
	}
	readyW.Close()
	term.started()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var b [1]byte
	if n, _ := readyR.Read(b[:]); n != 1 {
		<-exited
		term.finish()
		return Result{}, ErrNotStarted
	}
	if err := t.Arm(cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		<-exited
		term.finish()
		return Result{}, err
	}
	goW.Write([]byte{'g'})
	goW.Close()
	for {
		select {
		case sig := <-sigs:
			// The command is in a session of its own, out of reach of
			// what the caller's terminal sends gocap's process group:
			// its process group gets it as it would from a terminal.
			syscall.Kill(-cmd.Process.Pid, sig.(syscall.Signal))
		case <-exited:
			r := Result{Status: exitStatus(cmd.ProcessState.Sys().(syscall.WaitStatus))}
			r.StillRunning = linger(cmd.Process.Pid, mine, s.Linger, sigs)
			term.finish()
			return r, nil
		}
	}
}

// exitStatus is a wait status as a shell has it: 128+N for signal N.
func exitStatus(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// encode gives the launcher its credentials as one argument.
func (s *Spec) encode() string {
	if !s.AsUser {
		return "caller"
	}
	groups := make([]string, len(s.Groups))
	for i, g := range s.Groups {
		groups[i] = strconv.Itoa(g)
	}
	return fmt.Sprintf("%d:%d:%s:%x:%x:%x", s.UID, s.GID, strings.Join(groups, ","), s.Inh, s.Amb, s.BoundDrop)
}

// decodeCredentials reads what encode wrote for a user.
func decodeCredentials(spec string) (*Spec, error) {
	f := strings.Split(spec, ":")
	if len(f) != 6 {
		return nil, fmt.Errorf("bad launch spec %q", spec)
	}
	s := &Spec{AsUser: true}
	var errs [5]error
	s.UID, errs[0] = strconv.Atoi(f[0])
	s.GID, errs[1] = strconv.Atoi(f[1])
	s.Inh, errs[2] = strconv.ParseUint(f[3], 16, 64)
	s.Amb, errs[3] = strconv.ParseUint(f[4], 16, 64)
	s.BoundDrop, errs[4] = strconv.ParseUint(f[5], 16, 64)
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("bad launch spec %q: %w", spec, err)
	}
	for _, g := range strings.Split(f[2], ",") {
		if g == "" {
			continue
		}
		n, err := strconv.Atoi(g)
		if err != nil {
			return nil, fmt.Errorf("bad launch spec %q: %w", spec, err)
		}
		s.Groups = append(s.Groups, n)
	}
	return s, nil
}
