package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"pam_gocap/capconf"
	"pam_gocap/captrace"
	"pam_gocap/captrace/report"
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

// traceLinger is how long gocap trace waits, once the command has exited,
// for what it left running in its session.
const traceLinger = 3 * time.Second

// parseTraceOptions reads gocap trace's flags; without options it returns
// the exit code: 0 for --help (usage printed on stdout), 2 for a usage
// error.
func parseTraceOptions(argv []string, stdout, stderr io.Writer) (*traceOptions, int) {
	o := &traceOptions{}
	fs := flag.NewFlagSet("gocap trace", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.user, "user", "", "run the command as this user, as a login would")
	fs.StringVar(&o.via, "via", "", "tracepoint or bpf")
	fs.StringVar(&o.format, "format", "text", "text or json")
	fs.StringVar(&o.config, "config", "", "rules file")
	fs.StringVar(&o.args, "args", "", "module arguments")
	fs.StringVar(&o.service, "service", "login", "su, login or sshd")
	fs.StringVar(&o.output, "o", "", "write the report to this file (- for standard output) instead of standard error")
	fs.Func("keep-env", "keep this variable of gocap's environment (with --user)", func(name string) error {
		if !launch.ValidName(name) {
			return fmt.Errorf("%s is not the name of a variable", quote.Terminal(name))
		}
		o.keepEnv = append(o.keepEnv, name)
		return nil
	})
	if err := fs.Parse(argv); errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, usage)
		return nil, 0
	} else if err != nil {
		fmt.Fprintf(stderr, "gocap trace: %v\n", err)
		return nil, 2
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
		return o, 0
	}
	return nil, 2
}

func runTrace(argv []string, stdout, stderr io.Writer, sys system) int {
	o, code := parseTraceOptions(argv, stdout, stderr)
	if o == nil {
		return code
	}
	spec, ex, code := prepareLaunch(o, stderr, sys)
	if spec == nil {
		return code
	}
	// The report file is opened before the command runs, so that nothing
	// the command does to its path changes which file gocap writes. With
	// "-o -" the report is gocap's standard output, and the command's
	// goes to standard error, so that the report reads whole from a pipe.
	out := stderr
	switch o.output {
	case "":
	case "-":
		out, spec.StdoutToStderr = stdout, true
	default:
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

	spec.Linger = traceLinger
	res, err := launch.Run(spec, t, sigs)
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
	in := reportInput(o, spec.Path, ex, sys)
	in.Via, in.ExitCode, in.Events, in.Lost, in.Untrusted = t.Method(), res.Status, events, t.Lost(), t.Untrusted()
	in.Uncalibrated = captrace.Uncalibrated(t)
	for _, p := range res.StillRunning {
		in.StillRunning = append(in.StillRunning, report.Process{Pid: p.Pid, Comm: p.Comm})
	}
	separateReport(out)
	writeReport(out, o.format, traceText{report.Build(in)})
	return res.Status
}

// reportSeparator ends the command's output where the report follows it
// on a terminal: the command can write text that looks like a report,
// but not after this line (its relay has ended, and the terminal was
// reset after it).
const reportSeparator = "---------- gocap trace: the command's output ends here; gocap's report follows ----------"

// separateReport writes reportSeparator when the report goes to a
// terminal, where the command's output went before it.
func separateReport(out io.Writer) {
	if f, ok := out.(*os.File); ok {
		if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err == nil {
			fmt.Fprintln(f, reportSeparator)
		}
	}
}

// reportInput is what the report needs to know besides the trace: the
// rules file the module reads and whether it would, the rule that names
// the user, and the Bounding set a login starts from.
func reportInput(o *traceOptions, program string, ex *Explanation, sys system) report.Input {
	argv := moduleArgv(o.args, o.config)
	in := report.Input{Command: o.command, Program: program, User: o.user,
		ConfFile: capconf.ParseArgs(argv).Config, Bounding: sys.Bounding(), Files: programFiles{}}
	if err := capconf.Refused(argv, sys); err != nil {
		in.ConfRefused = err.Error()
	}
	if ex != nil && ex.Rule != nil {
		in.Rule = &report.Rule{File: ex.Rule.File, Line: ex.Rule.Line, Caps: ex.Rule.Caps}
	}
	return in
}

// openReport opens the report file for writing as root does it for a
// user it does not trust: never through a symlink, in any component of
// the path (a directory of the user's can be a link to /etc), never
// stalled by a FIFO (O_NONBLOCK), and only a regular file with no other
// name, which could be a file of root's. It is emptied once it is known
// to be such a file.
func openReport(path string) (*os.File, error) {
	fd, err := openNoSymlinks(path, unix.O_WRONLY|unix.O_CREAT|unix.O_NONBLOCK|unix.O_CLOEXEC, 0o644)
	if errors.Is(err, unix.ELOOP) {
		return nil, fmt.Errorf("%s: a symlink on the path; the report is written to a file, never through a link", quote.Terminal(path))
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

// openNoSymlinks opens path with flags, failing with ELOOP when any of
// its components is a symlink: openat2(2) with RESOLVE_NO_SYMLINKS (Linux
// 5.6), or where the kernel lacks it, a walk that opens each directory
// with O_NOFOLLOW.
func openNoSymlinks(path string, flags int, mode uint32) (int, error) {
	fd, err := unix.Openat2(unix.AT_FDCWD, path, &unix.OpenHow{Flags: uint64(flags), Mode: uint64(mode),
		Resolve: unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS})
	if err != unix.ENOSYS {
		return fd, err
	}
	return walkNoSymlinks(path, flags, mode)
}

// walkNoSymlinks is openNoSymlinks without openat2: each directory on the
// path is opened from the one before with O_NOFOLLOW|O_DIRECTORY, and the
// file from the last with O_NOFOLLOW, so that no component is followed
// if it is a link (ELOOP, or ENOTDIR for a directory's: told apart by
// lstat, which says ELOOP for a link as openat2 does).
func walkNoSymlinks(path string, flags int, mode uint32) (int, error) {
	dir := unix.AT_FDCWD
	if strings.HasPrefix(path, "/") {
		d, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, err
		}
		dir = d
	}
	closeDir := func() {
		if dir != unix.AT_FDCWD {
			unix.Close(dir)
		}
	}
	names := strings.FieldsFunc(path, func(r rune) bool { return r == '/' })
	if len(names) == 0 || strings.HasSuffix(path, "/") {
		closeDir()
		return -1, unix.EISDIR
	}
	for _, name := range names[:len(names)-1] {
		next, err := unix.Openat(dir, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err == unix.ENOTDIR {
			var st unix.Stat_t
			if unix.Fstatat(dir, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Mode&unix.S_IFMT == unix.S_IFLNK {
				err = unix.ELOOP
			}
		}
		closeDir()
		if err != nil {
			return -1, err
		}
		dir = next
	}
	fd, err := unix.Openat(dir, names[len(names)-1], flags|unix.O_NOFOLLOW, mode)
	closeDir()
	return fd, err
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
	// A user NSS does not know is a usage error, as for runuser.
	if _, err := sys.LookupUser(o.user); errors.As(err, new(capconf.UnknownUserError)) {
		fmt.Fprintf(stderr, "gocap trace: %s\n", quote.Terminal(err.Error()))
		return nil, nil, 2
	}
	u, err := nss.LookupUser(o.user)
	if err != nil {
		fmt.Fprintf(stderr, "gocap trace: %s\n", quote.Terminal(err.Error()))
		if errors.As(err, new(capconf.UnknownUserError)) {
			return nil, nil, 2
		}
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

// traceText is a trace's report, with its text form.
type traceText struct{ *report.Report }

// writeText writes the report for a human. Everything in it that came
// from outside (the command, paths, command names, the user's name) is
// escaped for the terminal, and every command in it is quoted to paste.
func (r traceText) writeText(w io.Writer) {
	user := "USER"
	who := ""
	if r.User != "" {
		user = quote.Terminal(r.User)
		who = " as " + user
	}
	fmt.Fprintf(w, "gocap trace: %s%s, via %s: exit %d\n", quote.Words(r.Command), who, r.Via, r.ExitCode)
	if r.ConfRefused != "" {
		fmt.Fprintf(w, "pam_gocap refuses the rules: %s; it reads no rule there, so nothing is suggested (see gocap check)\n",
			quote.Terminal(r.ConfRefused))
	}
	if r.Untrusted != "" {
		fmt.Fprintf(w, "the trace cannot be trusted: %s; it suggests nothing, as the command may have made up the checks below (a file or command name with a newline in it); run it again with --via bpf\n", quote.Terminal(r.Untrusted))
	}
	if r.ExecFailed {
		fmt.Fprintln(w, "the command never ran: its exec was refused (the checks below are the refusal's, and nothing is suggested from them)")
	}
	for _, p := range r.StillRunning {
		fmt.Fprintf(w, "still running when the trace stopped: pid %d (%s); what it did after is not in the trace\n", p.Pid, quote.Terminal(p.Comm))
	}
	if len(r.Uncalibrated) > 0 {
		fmt.Fprintf(w, "without the kernel's addresses, gocap could not learn the stacks of the %s checks that programs go on without (the machine was busy): their denials are unknown here, never suggested, so a command that needs one of them is not told so; run it again on a quieter machine\n",
			strings.Join(r.Uncalibrated, ", "))
	}
	if len(r.Capabilities) == 0 && r.LostEvents == 0 {
		fmt.Fprintln(w, "no capability checks")
		return
	}
	if r.AsRoot {
		fmt.Fprintln(w, "run as root, which is granted every check: a user without capabilities would be denied each check granted here")
	}
	fmt.Fprintf(w, "\n%-22s %7s %8s %7s  %s\n", "capability", "checks", "granted", "denied", "asked by")
	for _, u := range r.Capabilities {
		by := terminalList(u.Programs)
		if len(u.Where) > 0 {
			by += " (" + terminalList(u.Where) + ")"
		}
		skipped := u.NoAudit + u.PathChoice + u.Either
		if u.Denied > 0 {
			skipped += u.Unknown
		}
		switch {
		case u.Denied == 0:
		case u.NoAudit == u.Denied:
			by += ": noaudit, the program went on without it"
		case u.PathChoice == u.Denied:
			by += ": only to choose a path, the call works without it"
		case u.Either == u.Denied && u.Name == "cap_dac_override":
			by += ": right after cap_dac_read_search, which does as well (the kernel asks for it first)"
		case u.Either == u.Denied:
			by += ": cap_dac_override, asked for next, does as well (and this session can have it)"
		case skipped > 0:
			by += fmt.Sprintf(": %d of %d denials needed", u.Denied-skipped, u.Denied)
		}
		switch {
		case u.Unknown > 0 && u.Granted > 0 && u.Denied == 0:
			by += fmt.Sprintf("; %d unknown, probably harmless (every mapping asks for it noaudit, and a granted check has no kernel stack to tell by)", u.Unknown)
		case u.Unknown > 0 && slices.Contains(r.Uncalibrated, u.Name):
			by += fmt.Sprintf("; %d unknown (no kernel stack to tell a check it goes on without by, see above)", u.Unknown)
		case u.Unknown > 0:
			by += fmt.Sprintf("; %d unknown, probably harmless (no kernel stack to tell a noaudit check by, and the command exited 0)", u.Unknown)
		}
		fmt.Fprintf(w, "%-22s %7d %8d %7d  %s\n", u.Name, u.Checks, u.Granted, u.Denied, by)
	}
	fmt.Fprintln(w)
	if r.LostEvents > 0 {
		fmt.Fprintf(w, "the trace lost %d events (the machine was too busy to read them in time): it suggests nothing, as the check that mattered may be among them; run it again on a quieter machine\n", r.LostEvents)
		return
	}
	if len(r.Denied) == 0 {
		fmt.Fprintln(w, "nothing needed was denied")
		return
	}
	fmt.Fprintf(w, "denied where it mattered: %s\n", strings.Join(r.Denied, ", "))
	if len(r.Impossible) > 0 {
		fmt.Fprintf(w, "not possible in this session: %s is outside its Bounding set (gocap's own, less the rule's drops); no rule or setcap can give it there\n",
			strings.Join(r.Impossible, ", "))
	}
	s := r.Suggest
	if s == nil {
		return
	}
	conf := quote.Terminal(s.ConfFile)
	// The Inheritable line serves only with a setcap: where every program
	// is one to put none on, the Ambient rule below stands alone.
	if s.Ambient == nil || slices.ContainsFunc(s.Setcap, func(c report.Setcaps) bool { return c.ForUser != "" }) {
		fmt.Fprintf(w, "to give them to %s alone, as a login does with pam_gocap:\n", user)
		if s.Already != "" {
			fmt.Fprintf(w, "  %s already gives %s all of them\n", quote.Terminal(s.Already), user)
		} else if s.Before != "" {
			fmt.Fprintf(w, "  %s, before line %s (the rule that names %s now): %s\n",
				conf, lineOf(s.Before), user, quote.Terminal(s.ConfLine))
		} else {
			fmt.Fprintf(w, "  %s: %s\n", conf, quote.Terminal(s.ConfLine))
		}
	}
	for _, c := range s.Setcap {
		if c.ForUser != "" {
			fmt.Fprintf(w, "  %s\n", c.ForUser)
		}
	}
	for i, c := range s.Setcap {
		if c.ForAll == "" {
			continue
		}
		if !slices.ContainsFunc(s.Setcap[:i], func(c report.Setcaps) bool { return c.ForAll != "" }) {
			fmt.Fprintln(w, "or to every user of the program:")
		}
		fmt.Fprintf(w, "  %s\n", c.ForAll)
	}
	for _, c := range s.Setcap {
		if len(c.NotForAll) > 0 {
			fmt.Fprintf(w, "no setcap command for every user of %s: %s would let anyone who can run it reach root's other powers (any file, any process, or any id)\n",
				quote.Terminal(c.Program), strings.Join(c.NotForAll, ", "))
		}
	}
	for _, c := range s.Setcap {
		prog := quote.Terminal(c.Program)
		switch {
		case c.Unsafe != "":
			fmt.Fprintf(w, "no setcap command for %s: %s\n", prog, quote.Terminal(c.Unsafe))
			if c.Install != "" {
				fmt.Fprintf(w, "  instead, as root, install a copy that only root can change, once you have checked that the file there now is the program you mean (the user can change it), and give the copy the capabilities with setcap:\n    %s\n", c.Install)
			}
		case c.Script:
			fmt.Fprintf(w, "no setcap command for %s: a script; file capabilities on a script do nothing (its interpreter %s reads it)", prog, quote.Terminal(c.Interpreter))
			if c.General {
				fmt.Fprint(w, ", and on the interpreter they would be every script's")
			}
			fmt.Fprintln(w)
		case c.General:
			fmt.Fprintf(w, "no setcap command for %s: it runs whatever it is given (a shell, an interpreter), so capabilities on it would serve any use by anyone who can run it\n", prog)
		}
	}
	if a := s.Ambient; a != nil {
		fmt.Fprintln(w, "instead, for those:")
		fmt.Fprintln(w, "  a wrapper: a small program that does only the privileged step, given the capability with setcap")
		where := conf
		// The rule that names the user now (Before or Already, never
		// both) would match first.
		if at := cmp.Or(s.Before, s.Already); at != "" {
			where += ", before line " + lineOf(at)
		}
		fmt.Fprintf(w, "  or an Ambient rule, which every program of %s's session inherits: %s: %s\n", user, where, quote.Terminal(a.ConfLine))
		fmt.Fprintf(w, "    with the module arguments %s, in a host that ends PAM in the session process (su, login; not sshd)\n", a.Args)
	}
}

// lineOf is the line of a report's "FILE:LINE".
func lineOf(pos string) string { return pos[strings.LastIndex(pos, ":")+1:] }

// terminalList joins names from outside, each escaped for the terminal.
func terminalList(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = quote.Terminal(n)
	}
	return strings.Join(out, ", ")
}
