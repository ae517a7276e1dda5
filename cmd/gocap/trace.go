package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"pam_gocap/capconf"
	"pam_gocap/captrace"
)

// Exit codes of gocap trace when the command did not run, as timeout(1)
// and env(1) have them; otherwise it exits as the command did.
const (
	exitTraceFailed = 125
	exitCannotRun   = 126
	exitNotFound    = 127
)

// launchCommand is the hidden command that the traced process starts as:
// it takes the user's credentials and capabilities, says it is ready, waits
// until the trace is armed and then execs the command, so that the trace
// sees everything the command does and nothing gocap does.
const launchCommand = "__trace-launch"

func init() {
	// The launcher must exec from its main thread, whose tid is its pid,
	// the task the trace follows; and its capabilities are set there.
	if len(os.Args) > 1 && os.Args[1] == launchCommand {
		runtime.LockOSThread()
	}
}

type traceOptions struct {
	user, via, format, config, args, service, output string
	command                                          []string
}

func parseTraceOptions(argv []string, stderr io.Writer) (*traceOptions, bool) {
	o := &traceOptions{}
	fs := flag.NewFlagSet("gocap trace", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.user, "user", "", "run the command as this user, as a login would")
	fs.StringVar(&o.via, "via", "", "tracepoint or bpf")
	fs.StringVar(&o.format, "format", "text", "text or json")
	fs.StringVar(&o.config, "config", "", "rules file")
	fs.StringVar(&o.args, "args", "", "module arguments")
	fs.StringVar(&o.service, "service", "login", "su, login or sshd")
	fs.StringVar(&o.output, "o", "", "write the report to this file instead of standard error")
	if err := fs.Parse(argv); err != nil {
		fmt.Fprintf(stderr, "gocap trace: %v\n", err)
		return nil, false
	}
	o.command = fs.Args()
	switch {
	case len(o.command) == 0:
		fmt.Fprintln(stderr, "gocap trace: give the command to run after --")
	case o.format != "text" && o.format != "json":
		fmt.Fprintf(stderr, "gocap trace: --format is text or json, not %q\n", o.format)
	case o.service != "su" && o.service != "login" && o.service != "sshd":
		fmt.Fprintf(stderr, "gocap trace: --service is su, login or sshd, not %q\n", o.service)
	case o.via != "" && !slices.Contains(captrace.Methods, o.via):
		fmt.Fprintf(stderr, "gocap trace: --via is %s, not %q\n", strings.Join(captrace.Methods, " or "), o.via)
	default:
		return o, true
	}
	return nil, false
}

// launch is what the traced process does as the user: the credentials and
// capabilities of a login, then exec.
type launch struct {
	uid, gid    int
	groups      []int
	inh, amb    uint64
	boundDrop   uint64
	asUser      bool
	path        string
	args, env   []string
	description string       // "as alice" or ""
	explained   *Explanation // with --user: what pam_gocap gives the user
}

func runTrace(argv []string, stdout, stderr io.Writer, sys system) int {
	o, ok := parseTraceOptions(argv, stderr)
	if !ok {
		return 2
	}
	l, code := prepareLaunch(o, stderr, sys)
	if l == nil {
		return code
	}
	t, err := captrace.Open(o.via)
	if err != nil {
		fmt.Fprintf(stderr, "gocap trace: %v\n", err)
		return exitTraceFailed
	}
	defer t.Close()
	// A Ctrl-C reaches the command from the terminal; gocap waits for it to
	// end and then reports. Other signals are passed on to the command.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	status, err := traceRun(t, l, sigs)
	if err != nil {
		fmt.Fprintf(stderr, "gocap trace: %v\n", err)
		return exitTraceFailed
	}
	events, err := t.Stop()
	if err != nil {
		fmt.Fprintf(stderr, "gocap trace: %v\n", err)
		return exitTraceFailed
	}
	rep := buildReport(o, l, t.Method(), status, events, t.Lost())
	out := stderr
	if o.output != "" {
		f, err := os.Create(o.output)
		if err != nil {
			fmt.Fprintf(stderr, "gocap trace: %v\n", err)
			return exitTraceFailed
		}
		defer f.Close()
		out = f
	}
	writeReport(out, o.format, rep)
	return status
}

// prepareLaunch finds the command and, with --user, what a login gives the
// user. It returns nil and the exit code when that fails.
func prepareLaunch(o *traceOptions, stderr io.Writer, sys system) (*launch, int) {
	path, err := exec.LookPath(o.command[0])
	if err != nil {
		fmt.Fprintf(stderr, "gocap trace: %v\n", err)
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return nil, exitNotFound
		}
		return nil, exitCannotRun
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	l := &launch{path: path, args: o.command, env: os.Environ()}
	if o.user == "" {
		return l, 0
	}
	u, err := user.Lookup(o.user)
	if err != nil {
		fmt.Fprintf(stderr, "gocap trace: %v\n", err)
		return nil, exitTraceFailed
	}
	l.asUser, l.description = true, "as "+o.user
	l.uid, _ = strconv.Atoi(u.Uid)
	l.gid, _ = strconv.Atoi(u.Gid)
	gids, err := u.GroupIds()
	if err != nil {
		fmt.Fprintf(stderr, "gocap trace: groups of %s: %v\n", o.user, err)
		return nil, exitTraceFailed
	}
	for _, g := range gids {
		n, _ := strconv.Atoi(g)
		l.groups = append(l.groups, n)
	}
	ex, err := explain(o.user, moduleArgv(o.args, o.config), "", sys)
	if err == nil {
		ex.Session, err = sessionFor(o.service, ex)
	}
	l.explained = ex
	if err != nil {
		fmt.Fprintf(stderr, "gocap trace: %v\n", err)
		return nil, exitTraceFailed
	}
	l.inh, l.amb = namesToBits(ex.Session.Inheritable), namesToBits(ex.Session.Ambient)
	if ex.Action == "apply" || l.inh != 0 {
		l.boundDrop = namesToBits(ex.BoundingDrop)
	}
	home := u.HomeDir
	l.env = setEnv(l.env, "HOME="+home, "USER="+o.user, "LOGNAME="+o.user)
	return l, 0
}

func namesToBits(names []string) uint64 {
	if len(names) == 0 {
		return 0
	}
	iab, _ := capconf.ParseIAB(strings.Join(names, ","))
	return iab.Inh
}

func setEnv(env []string, vars ...string) []string {
	for _, v := range vars {
		name, _, _ := strings.Cut(v, "=")
		out := env[:0:0]
		for _, e := range env {
			if !strings.HasPrefix(e, name+"=") {
				out = append(out, e)
			}
		}
		env = append(out, v)
	}
	return env
}

// traceRun starts the launcher, arms the trace on it, lets it exec the
// command and waits for the command; it returns the command's exit code
// (128+N for a signal, as a shell has it).
func traceRun(t captrace.Tracer, l *launch, sigs <-chan os.Signal) (int, error) {
	goR, goW, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer goR.Close()
	defer goW.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return 0, err
	}
	defer readyR.Close()
	self, err := os.Executable()
	if err != nil {
		return 0, err
	}
	marker := "nomarker"
	if t.Marker() != nil {
		marker = "marker"
	}
	cmd := exec.Command(self, append([]string{launchCommand, l.encode(), marker, "--", l.path}, l.args...)...)
	cmd.Args[0] = "gocap"
	cmd.Env = l.env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{goR, readyW, t.Marker()} // fds 3, 4, 5
	if err := cmd.Start(); err != nil {
		readyW.Close()
		return 0, err
	}
	readyW.Close()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var b [1]byte
	if n, _ := readyR.Read(b[:]); n != 1 {
		<-exited
		return 0, fmt.Errorf("the process to trace could not start as %s", strings.TrimPrefix(l.description, "as "))
	}
	if err := t.Arm(cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		<-exited
		return 0, err
	}
	goW.Write([]byte{'g'})
	goW.Close()
	for {
		select {
		case sig := <-sigs:
			if sig != syscall.SIGINT && sig != syscall.SIGQUIT { // those come from the terminal
				cmd.Process.Signal(sig)
			}
		case <-exited:
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			if ws.Signaled() {
				return 128 + int(ws.Signal()), nil
			}
			return ws.ExitStatus(), nil
		}
	}
}

// encode gives the launcher its instructions as one argument.
func (l *launch) encode() string {
	if !l.asUser {
		return "caller"
	}
	groups := make([]string, len(l.groups))
	for i, g := range l.groups {
		groups[i] = strconv.Itoa(g)
	}
	return fmt.Sprintf("%d:%d:%s:%x:%x:%x", l.uid, l.gid, strings.Join(groups, ","), l.inh, l.amb, l.boundDrop)
}

// runLaunch is the traced process before it execs: SPEC marker|nomarker --
// PATH ARGV0 ARGS...; fd 3 says go, fd 4 is told when it is ready, fd 5 is
// the trace's marker.
func runLaunch(argv []string, stderr io.Writer) int {
	if len(argv) < 5 || argv[2] != "--" {
		fmt.Fprintln(stderr, "gocap: "+launchCommand+" is gocap trace's own")
		return 2
	}
	if argv[0] != "caller" {
		if err := becomeUser(argv[0]); err != nil {
			fmt.Fprintf(stderr, "gocap trace: %v\n", err)
			return exitTraceFailed
		}
	}
	if argv[1] == "marker" {
		if _, err := unix.Write(5, []byte(captrace.SeedMarker(os.Getpid()))); err != nil {
			fmt.Fprintf(stderr, "gocap trace: marker: %v\n", err)
			return exitTraceFailed
		}
		unix.Close(5)
	}
	// What the exec needs is made now, before the trace is armed.
	path, err1 := syscall.BytePtrFromString(argv[3])
	args, err2 := syscall.SlicePtrFromStrings(argv[4:])
	env, err3 := syscall.SlicePtrFromStrings(os.Environ())
	if err := errors.Join(err1, err2, err3); err != nil {
		fmt.Fprintf(stderr, "gocap trace: %s: %v\n", argv[3], err)
		return exitCannotRun
	}
	if err := restoreNofile(); err != nil {
		fmt.Fprintf(stderr, "gocap trace: the limit on open files: %v\n", err)
		return exitTraceFailed
	}
	syscall.CloseOnExec(3)
	if errno := readyWaitExec(path, &args[0], &env[0]); errno != 0 {
		fmt.Fprintf(stderr, "gocap trace: %s: %v\n", argv[3], errno)
		return exitCannotRun
	}
	return exitTraceFailed // the trace was not armed
}

// readyWaitExec says ready on fd 4, waits for the go-ahead on fd 3 and
// execs. The trace is armed in that wait, on this thread, so from the
// first system call to the exec nothing else may run here: the runtime's
// own requests (a new thread's stack, a larger heap) would be counted as
// the command's. So the calls are raw (the scheduler never learns of
// them), the arguments were made beforehand, and the function cannot grow
// its stack. It returns 0 when the go-ahead did not come, else why the
// exec failed.
//
//go:nosplit
func readyWaitExec(path *byte, argv, envp **byte) syscall.Errno {
	b := [1]byte{'r'}
	syscall.RawSyscall(syscall.SYS_WRITE, 4, uintptr(unsafe.Pointer(&b[0])), 1)
	syscall.RawSyscall(syscall.SYS_CLOSE, 4, 0, 0)
	if n, _, _ := syscall.RawSyscall(syscall.SYS_READ, 3, uintptr(unsafe.Pointer(&b[0])), 1); n != 1 {
		return 0
	}
	_, _, errno := syscall.RawSyscall(syscall.SYS_EXECVE, uintptr(unsafe.Pointer(path)),
		uintptr(unsafe.Pointer(argv)), uintptr(unsafe.Pointer(envp)))
	return errno
}

// becomeUser does what a login does between pam_setcred and the user's
// shell, on this thread (the one that execs): the session's Inheritable
// set and Bounding drops, the user's groups and ids, then the Ambient set,
// which only survives the switch because keepcaps is set for it.
func becomeUser(spec string) error {
	var uid, gid int
	var groups string
	var inh, amb, bound uint64
	f := strings.Split(spec, ":")
	if len(f) != 6 {
		return fmt.Errorf("bad launch spec %q", spec)
	}
	uid, _ = strconv.Atoi(f[0])
	gid, _ = strconv.Atoi(f[1])
	groups = f[2]
	inh, _ = strconv.ParseUint(f[3], 16, 64)
	amb, _ = strconv.ParseUint(f[4], 16, 64)
	bound, _ = strconv.ParseUint(f[5], 16, 64)
	for bit := 0; bit < 64; bit++ {
		if bound&(1<<bit) != 0 {
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(bit), 0, 0, 0); err != nil {
				return fmt.Errorf("dropping capability %d from the Bounding set: %w", bit, err)
			}
		}
	}
	if err := setInheritable(inh); err != nil {
		return err
	}
	if amb != 0 {
		if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
			return err
		}
	}
	var gids []int
	for _, g := range strings.Split(groups, ",") {
		if n, err := strconv.Atoi(g); err == nil {
			gids = append(gids, n)
		}
	}
	if err := syscall.Setgroups(gids); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("setgid: %w", err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("setuid: %w", err)
	}
	for bit := 0; bit < 64; bit++ {
		if amb&(1<<bit) != 0 {
			if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(bit), 0, 0); err != nil {
				return fmt.Errorf("raising capability %d in the Ambient set: %w", bit, err)
			}
		}
	}
	return nil
}

// setInheritable sets this thread's Inheritable set, keeping the rest.
func setInheritable(inh uint64) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	data[0].Inheritable, data[1].Inheritable = uint32(inh), uint32(inh>>32)
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("setting the Inheritable set: %w", err)
	}
	return nil
}

// The report.

type traceReport struct {
	Command      []string    `json:"command"`
	Program      string      `json:"program"`
	User         string      `json:"user,omitempty"`
	Via          string      `json:"via"`
	ExitCode     int         `json:"exit_code"`
	Capabilities []capUse    `json:"capabilities"`
	Denied       []string    `json:"denied"`
	Suggest      *suggestion `json:"suggest,omitempty"`
	// LostEvents is how many events the kernel could not hand over: a
	// trace that lost any suggests nothing.
	LostEvents int `json:"lost_events"`
}

type capUse struct {
	Name    string `json:"name"`
	Checks  int    `json:"checks"`
	Granted int    `json:"granted"`
	Denied  int    `json:"denied"`
	NoAudit int    `json:"denied_noaudit"` // denials made noaudit
	// PathChoice counts denials the kernel asked for only to choose how
	// much to allow: setuid to one's own ids still works without them.
	PathChoice int      `json:"denied_path_choice"`
	Programs   []string `json:"programs"`
	Where      []string `json:"where"` // kernel functions that asked and were denied
	// Needed is whether a denial was a real permission check (or one that
	// could not be told apart), so that the program went without it.
	Needed bool `json:"needed"`
	// Unknown counts cap_sys_admin denials with no kernel stack to tell
	// by, in a command that exited 0: probably the noaudit check of a
	// mapping, never suggested.
	Unknown int `json:"denied_unknown"`
}

type suggestion struct {
	ConfFile string    `json:"capability_conf_file"`
	ConfLine string    `json:"capability_conf_line"`
	Before   string    `json:"before,omitempty"`  // FILE:LINE of the rule that names the user now
	Already  string    `json:"already,omitempty"` // FILE:LINE of a rule that gives all of it already
	Setcap   []setcaps `json:"setcap"`
}

type setcaps struct {
	Program  string `json:"program"`
	ForUser  string `json:"for_user"`
	ForAll   string `json:"for_everyone"`
	IsScript bool   `json:"script,omitempty"`
}

func buildReport(o *traceOptions, l *launch, via string, status int, events []captrace.Event, lost int) *traceReport {
	rep := &traceReport{Command: o.command, Program: l.path, User: o.user, Via: via, ExitCode: status,
		Capabilities: []capUse{}, Denied: []string{}, LostEvents: lost}
	programs := captrace.Programs(events)
	byCap := map[int]*capUse{}
	neededBy := map[string][]int{} // program -> capabilities it was denied
	var progs []string             // those programs, in the order of their first denial
	for i, ev := range events {
		if ev.Kind != captrace.Check {
			continue
		}
		u := byCap[ev.Cap]
		if u == nil {
			u = &capUse{Name: capconf.CapName(uint(ev.Cap)), Programs: []string{}, Where: []string{}}
			byCap[ev.Cap] = u
		}
		u.Checks++
		prog := resolveProgram(programs[i])
		u.Programs = addUnique(u.Programs, prog)
		if ev.Granted {
			u.Granted++
			continue
		}
		u.Denied++
		audit, where := captrace.Classify(ev.Stack)
		if where != "" {
			u.Where = addUnique(u.Where, where)
		}
		switch audit {
		case captrace.NoAudit:
			u.NoAudit++
			continue
		case captrace.PathChoice:
			u.PathChoice++
			continue
		case captrace.Unknown:
			if captrace.ProbablyHarmless(ev, status) {
				u.Unknown++
				continue
			}
		}
		u.Needed = true
		if neededBy[prog] == nil {
			progs = append(progs, prog)
		}
		if !slices.Contains(neededBy[prog], ev.Cap) {
			neededBy[prog] = append(neededBy[prog], ev.Cap)
		}
	}
	var caps []int
	for c := range byCap {
		caps = append(caps, c)
	}
	sort.Ints(caps)
	var needed uint64
	for _, c := range caps {
		rep.Capabilities = append(rep.Capabilities, *byCap[c])
		if byCap[c].Needed {
			rep.Denied = append(rep.Denied, byCap[c].Name)
			needed |= 1 << uint(c)
		}
	}
	if needed == 0 || lost > 0 {
		return rep
	}
	rep.Suggest = suggest(o, l.explained, needed, progs, neededBy)
	return rep
}

// suggest writes the capability.conf line and the setcap commands for the
// programs that were denied, in the order they were first denied (not by
// path, which would make the order depend on where a program lives). The
// first rule that names a user wins, so when one names the user now, the
// line goes before it and keeps what it gives.
func suggest(o *traceOptions, ex *Explanation, needed uint64, progs []string, neededBy map[string][]int) *suggestion {
	s := &suggestion{ConfFile: capconf.ParseArgs(nil).Config}
	if o.config != "" {
		s.ConfFile = o.config
	}
	who, caps := "USER", capconf.IAB{Inh: needed}.String()
	if o.user != "" {
		who = o.user
		if ex != nil && ex.Rule != nil {
			at := fmt.Sprintf("%s:%d", ex.Rule.File, ex.Rule.Line)
			iab, err := capconf.ParseIAB(ex.Rule.Caps)
			switch {
			case err == nil && needed&^iab.Inh == 0:
				s.Already = at // only the programs lack their file capabilities
			case err == nil:
				s.Before, caps = at, ex.Rule.Caps+","+capconf.IAB{Inh: needed &^ iab.Inh}.String()
			default: // "none"
				s.Before = at
			}
		}
	}
	s.ConfLine = caps + " " + who
	for _, p := range progs {
		sort.Ints(neededBy[p])
		var names []string
		for _, c := range neededBy[p] {
			names = append(names, capconf.CapName(uint(c)))
		}
		list := strings.Join(names, ",")
		s.Setcap = append(s.Setcap, setcaps{Program: p,
			ForUser: fmt.Sprintf("setcap %s=ie %s", list, p), ForAll: fmt.Sprintf("setcap %s=ep %s", list, p),
			IsScript: isScript(p)})
	}
	return s
}

// resolveProgram makes a path from exec absolute and follows symlinks, for
// setcap, which acts on the file itself.
func resolveProgram(p string) string {
	if !strings.Contains(p, "/") {
		return p // a comm: the task never exec'd while traced
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	return p
}

func isScript(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	var b [2]byte
	n, _ := io.ReadFull(f, b[:])
	return n == 2 && string(b[:]) == "#!"
}

func addUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func (r *traceReport) writeText(w io.Writer) {
	who := ""
	if r.User != "" {
		who = " as " + r.User
	}
	fmt.Fprintf(w, "gocap trace: %s%s, via %s: exit %d\n", strings.Join(r.Command, " "), who, r.Via, r.ExitCode)
	if len(r.Capabilities) == 0 && r.LostEvents == 0 {
		fmt.Fprintln(w, "no capability checks")
		return
	}
	fmt.Fprintf(w, "\n%-22s %7s %8s %7s  %s\n", "capability", "checks", "granted", "denied", "asked by")
	for _, u := range r.Capabilities {
		by := strings.Join(u.Programs, ", ")
		if len(u.Where) > 0 {
			by += " (" + strings.Join(u.Where, ", ") + ")"
		}
		switch {
		case u.Denied == 0:
		case u.NoAudit == u.Denied:
			by += ": noaudit, the program went on without it"
		case u.PathChoice == u.Denied:
			by += ": only to choose a path, the call works without it"
		case u.NoAudit+u.PathChoice+u.Unknown > 0:
			by += fmt.Sprintf(": %d of %d denials needed", u.Denied-u.NoAudit-u.PathChoice-u.Unknown, u.Denied)
		}
		if u.Unknown > 0 {
			by += fmt.Sprintf("; %d unknown, probably harmless (no kernel stack to tell a noaudit check by, and the command exited 0)", u.Unknown)
		}
		fmt.Fprintf(w, "%-22s %7d %8d %7d  %s\n", u.Name, u.Checks, u.Granted, u.Denied, by)
	}
	fmt.Fprintln(w)
	if r.LostEvents > 0 {
		fmt.Fprintf(w, "the trace lost %d events (the machine was too busy to read them in time): it suggests nothing, as the check that mattered may be among them; run it again on a quieter machine\n", r.LostEvents)
		return
	}
	if r.Suggest == nil {
		fmt.Fprintln(w, "nothing needed was denied")
		return
	}
	s := r.Suggest
	user := r.User
	if user == "" {
		user = "USER"
	}
	fmt.Fprintf(w, "denied where it mattered: %s\n", strings.Join(r.Denied, ", "))
	fmt.Fprintf(w, "to give them to %s alone, as a login does with pam_gocap:\n", user)
	if s.Already != "" {
		fmt.Fprintf(w, "  %s already gives %s %s\n", s.Already, user, strings.Join(r.Denied, ","))
	} else if s.Before != "" {
		fmt.Fprintf(w, "  %s, before line %s (the rule that names %s now): %s\n",
			s.ConfFile, s.Before[strings.LastIndex(s.Before, ":")+1:], user, s.ConfLine)
	} else {
		fmt.Fprintf(w, "  %s: %s\n", s.ConfFile, s.ConfLine)
	}
	for _, c := range s.Setcap {
		fmt.Fprintf(w, "  %s\n", c.ForUser)
	}
	fmt.Fprintln(w, "or to every user of the program:")
	for _, c := range s.Setcap {
		fmt.Fprintf(w, "  %s\n", c.ForAll)
	}
	for _, c := range s.Setcap {
		if c.IsScript {
			fmt.Fprintf(w, "note: %s is a script; file capabilities on a script do nothing, the interpreter reads it\n", c.Program)
		}
	}
}
