package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"pam_gocap/capconf"
	"pam_gocap/captrace"
	"pam_gocap/internal/launch"
	"pam_gocap/internal/nss"
	"pam_gocap/internal/quote"
)

// Exit codes of gocap trace when the command did not run, as timeout(1)
// and env(1) have them; otherwise it exits as the command did.
const (
	exitTraceFailed = launch.ExitFailed
	exitCannotRun   = launch.ExitCannotRun
	exitNotFound    = 127
)

type traceOptions struct {
	user, via, format, config, args, service, output string
	keepEnv                                          []string
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
	fs.Func("keep-env", "keep this variable of gocap's environment (with --user)", func(name string) error {
		if !launch.ValidName(name) {
			return fmt.Errorf("%s is not the name of a variable", quote.Terminal(name))
		}
		o.keepEnv = append(o.keepEnv, name)
		return nil
	})
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
	case len(o.keepEnv) > 0 && o.user == "":
		fmt.Fprintln(stderr, "gocap trace: --keep-env applies with --user (without, the command has gocap's environment)")
	default:
		return o, true
	}
	return nil, false
}

func runTrace(argv []string, stdout, stderr io.Writer, sys system) int {
	o, ok := parseTraceOptions(argv, stderr)
	if !ok {
		return 2
	}
	spec, ex, code := prepareLaunch(o, stderr, sys)
	if spec == nil {
		return code
	}
	// The report file is opened before the command runs, so that nothing
	// the command does to its path changes which file gocap writes.
	out := stderr
	if o.output != "" {
		f, err := openReport(o.output)
		if err != nil {
			fmt.Fprintf(stderr, "gocap trace: %v\n", err)
			return exitTraceFailed
		}
		defer f.Close()
		out = f
	}
	t, err := captrace.Open(o.via)
	if err != nil {
		fmt.Fprintf(stderr, "gocap trace: %v\n", err)
		return exitTraceFailed
	}
	defer t.Close()
	// The command has a session of its own: gocap passes on the signals
	// that end a command (a Ctrl-C it gets from its own terminal
	// included), waits for it to end and then reports.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	status, err := launch.Run(spec, t, sigs)
	if err != nil {
		if errors.Is(err, launch.ErrNotStarted) && o.user != "" {
			err = fmt.Errorf("%w as %s", err, quote.Terminal(o.user))
		}
		fmt.Fprintf(stderr, "gocap trace: %v\n", err)
		return exitTraceFailed
	}
	events, err := t.Stop()
	if err != nil {
		fmt.Fprintf(stderr, "gocap trace: %v\n", err)
		return exitTraceFailed
	}
	writeReport(out, o.format, buildReport(o, spec.Path, ex, t.Method(), status, events, t.Lost()))
	return status
}

// openReport opens the report file for writing as root does it for a
// user it does not trust: never through a symlink (O_NOFOLLOW), never
// stalled by a FIFO (O_NONBLOCK), and only a regular file with no other
// name, which could be a file of root's. It is emptied once it is known
// to be such a file.
func openReport(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o644)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("%s: a symlink; the report is written to a file, never through a link", quote.Terminal(path))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", quote.Terminal(path), err)
	}
	f := os.NewFile(uintptr(fd), path)
	var st unix.Stat_t
	err = unix.Fstat(fd, &st)
	switch {
	case err != nil:
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		err = errors.New("not a regular file")
	case st.Nlink > 1:
		err = fmt.Errorf("a file with %d names (hard links); the report is written to a file of its own", st.Nlink)
	default:
		err = unix.Ftruncate(fd, 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", quote.Terminal(path), err)
	}
	return f, nil
}

// prepareLaunch finds the command and, with --user, what a login gives the
// user and the environment it starts with. It returns nil and the exit
// code when that fails.
func prepareLaunch(o *traceOptions, stderr io.Writer, sys system) (*launch.Spec, *Explanation, int) {
	path, err := exec.LookPath(o.command[0])
	if err != nil {
		fmt.Fprintf(stderr, "gocap trace: %s\n", quote.Terminal(err.Error()))
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return nil, nil, exitNotFound
		}
		return nil, nil, exitCannotRun
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	// Without --user the command is root's own: it runs with gocap's
	// environment, in gocap's directory, as a command run by time(1) does.
	spec := &launch.Spec{Path: path, Args: o.command, Env: os.Environ()}
	if o.user == "" {
		return spec, nil, 0
	}
	u, err := nss.LookupUser(o.user)
	if err != nil {
		fmt.Fprintf(stderr, "gocap trace: %s\n", quote.Terminal(err.Error()))
		return nil, nil, exitTraceFailed
	}
	spec.AsUser = true
	spec.UID, spec.GID = int(u.UID), int(u.GID)
	gids, err := nss.GroupIDs(o.user, u.GID)
	if err != nil {
		fmt.Fprintf(stderr, "gocap trace: groups of %s: %v\n", quote.Terminal(o.user), err)
		return nil, nil, exitTraceFailed
	}
	for _, g := range gids {
		spec.Groups = append(spec.Groups, int(g))
	}
	ex, err := explain(o.user, moduleArgv(o.args, o.config), "", sys)
	if err == nil {
		ex.Session, err = sessionFor(o.service, ex)
	}
	if err != nil {
		fmt.Fprintf(stderr, "gocap trace: %v\n", err)
		return nil, nil, exitTraceFailed
	}
	spec.Inh, spec.Amb = namesToBits(ex.Session.Inheritable), namesToBits(ex.Session.Ambient)
	if ex.Action == "apply" || spec.Inh != 0 {
		spec.BoundDrop = namesToBits(ex.BoundingDrop)
	}
	acct := launch.Account{Name: o.user, Home: u.Home, Shell: u.Shell}
	spec.Env, spec.Dir = launch.LoginEnv(acct, os.Environ(), o.keepEnv), u.Home
	if spec.Dir == "" {
		spec.Dir = "/"
	}
	return spec, ex, 0
}

func namesToBits(names []string) uint64 {
	if len(names) == 0 {
		return 0
	}
	iab, _ := capconf.ParseIAB(strings.Join(names, ","))
	return iab.Inh
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
	Program string `json:"program"`
	// The commands, empty when the path cannot be quoted so that pasting
	// the command runs it and nothing else; Unsafe then says why.
	ForUser  string `json:"for_user"`
	ForAll   string `json:"for_everyone"`
	Unsafe   string `json:"unsafe,omitempty"`
	IsScript bool   `json:"script,omitempty"`
}

func buildReport(o *traceOptions, program string, ex *Explanation, via string, status int, events []captrace.Event, lost int) *traceReport {
	rep := &traceReport{Command: o.command, Program: program, User: o.user, Via: via, ExitCode: status,
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
	rep.Suggest = suggest(o, ex, needed, progs, neededBy)
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
		c := setcaps{Program: p, IsScript: isScript(p)}
		if q, ok := quote.Shell(p); !strings.HasPrefix(p, "/") {
			c.Unsafe = "the program is known by its command name only, not by a path"
		} else if !ok {
			c.Unsafe = "the path holds characters that no quoting makes safe to paste (control characters, or bytes that are not UTF-8)"
		} else {
			c.ForUser, c.ForAll = "setcap "+list+"=ie "+q, "setcap "+list+"=ep "+q
		}
		s.Setcap = append(s.Setcap, c)
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

// isScript is whether the file at p starts with #!. The path is the
// traced user's to change, so it is opened as root can safely open such a
// path: not through a symlink, not waiting on a FIFO or a device, and
// read only when it is a regular file.
func isScript(p string) bool {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return false
	}
	var b [2]byte
	n, _ := unix.Pread(fd, b[:], 0)
	return n == 2 && string(b[:]) == "#!"
}

func addUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// writeText writes the report for a human. Everything in it that came
// from outside (the command, paths, command names, the user's name) is
// escaped for the terminal, and every command in it is quoted to paste.
func (r *traceReport) writeText(w io.Writer) {
	user := "USER"
	who := ""
	if r.User != "" {
		user = quote.Terminal(r.User)
		who = " as " + user
	}
	fmt.Fprintf(w, "gocap trace: %s%s, via %s: exit %d\n", quote.Words(r.Command), who, r.Via, r.ExitCode)
	if len(r.Capabilities) == 0 && r.LostEvents == 0 {
		fmt.Fprintln(w, "no capability checks")
		return
	}
	fmt.Fprintf(w, "\n%-22s %7s %8s %7s  %s\n", "capability", "checks", "granted", "denied", "asked by")
	for _, u := range r.Capabilities {
		by := terminalList(u.Programs)
		if len(u.Where) > 0 {
			by += " (" + terminalList(u.Where) + ")"
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
	conf := quote.Terminal(s.ConfFile)
	fmt.Fprintf(w, "denied where it mattered: %s\n", strings.Join(r.Denied, ", "))
	fmt.Fprintf(w, "to give them to %s alone, as a login does with pam_gocap:\n", user)
	if s.Already != "" {
		fmt.Fprintf(w, "  %s already gives %s %s\n", quote.Terminal(s.Already), user, strings.Join(r.Denied, ","))
	} else if s.Before != "" {
		fmt.Fprintf(w, "  %s, before line %s (the rule that names %s now): %s\n",
			conf, s.Before[strings.LastIndex(s.Before, ":")+1:], user, quote.Terminal(s.ConfLine))
	} else {
		fmt.Fprintf(w, "  %s: %s\n", conf, quote.Terminal(s.ConfLine))
	}
	for _, c := range s.Setcap {
		if c.Unsafe == "" {
			fmt.Fprintf(w, "  %s\n", c.ForUser)
		}
	}
	fmt.Fprintln(w, "or to every user of the program:")
	for _, c := range s.Setcap {
		if c.Unsafe == "" {
			fmt.Fprintf(w, "  %s\n", c.ForAll)
		}
	}
	for _, c := range s.Setcap {
		if c.Unsafe != "" {
			fmt.Fprintf(w, "no setcap command for %s: %s\n", quote.Terminal(c.Program), c.Unsafe)
		}
		if c.IsScript {
			fmt.Fprintf(w, "note: %s is a script; file capabilities on a script do nothing, the interpreter reads it\n", quote.Terminal(c.Program))
		}
	}
}

// terminalList joins names from outside, each escaped for the terminal.
func terminalList(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = quote.Terminal(n)
	}
	return strings.Join(out, ", ")
}
