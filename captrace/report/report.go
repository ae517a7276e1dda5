// Package report turns the capability checks that gocap trace recorded
// into what the traced command was denied and what to configure so that
// it is not: a capability.conf line and setcap commands that work when
// applied. It does no I/O: the program files it asks about are read
// through Files, so that it is tested on recorded events, as capconf is on
// recorded rules files.
package report

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"pam_gocap/capconf"
	"pam_gocap/captrace"
	"pam_gocap/internal/quote"
)

// Input is what a trace found and what the report needs to know of the
// session the command ran in.
type Input struct {
	Command  []string
	Program  string // the command's program, an absolute path
	User     string // the user it ran as; "" for root's own run
	Via      string
	ExitCode int
	Events   []captrace.Event
	// Lost is how many events the kernel could not hand over.
	Lost int
	// Untrusted is why the events cannot be trusted (names the command
	// chose made some up), "" when they can.
	Untrusted string
	// Uncalibrated is the capabilities (a bit each) whose unneeded checks
	// the trace could not learn to tell apart (captrace.Uncalibrated).
	Uncalibrated uint64
	// ConfFile is the capability.conf the module reads; ConfRefused, when
	// not "", why the module would not read it (or a drop-in file).
	ConfFile, ConfRefused string
	// Rule is the rule that names User now, nil when none does.
	Rule *Rule
	// Bounding is the Bounding set a login starts from (gocap's own);
	// the rule's ! drops are taken from it.
	Bounding uint64
	// StillRunning are the command's processes still running when gocap
	// stopped waiting for them.
	StillRunning []Process
	Files        Files
}

// Rule is a capability.conf rule: where it is and its capabilities.
type Rule struct {
	File string
	Line int
	Caps string
}

// Process is a process of the command's that outlived it.
type Process struct {
	Pid  int    `json:"pid"`
	Comm string `json:"comm"`
}

// Files reads what the report needs of a program file. The paths come from
// what the traced command exec'd, so an implementation running as root
// opens them as it would a file of the user's.
type Files interface {
	// Caps gives the file capabilities a program has now (none: the zero
	// FileCaps and a nil error).
	Caps(path string) (FileCaps, error)
	// Interpreter gives the program named on a script's #! line, "" when
	// path is not a script.
	Interpreter(path string) string
	// Resolve gives the file that a path a task exec'd names, for
	// setcap, which acts on the file itself, when it is provably the
	// file that ran and one only root can change (so that it is still
	// that file when the command is pasted); otherwise the path as it
	// is and why no setcap should name it. A command name (a task that
	// never exec'd) stays as it is.
	Resolve(path string) (real, unsafe string)
}

// FileCaps are a program's file capabilities, as setcap sets them.
type FileCaps struct {
	Permitted, Inheritable uint64
	Effective              bool
}

// Report is what gocap trace prints, as text or as JSON.
type Report struct {
	Command      []string `json:"command"`
	Program      string   `json:"program"`
	User         string   `json:"user,omitempty"`
	Via          string   `json:"via"`
	ExitCode     int      `json:"exit_code"`
	Capabilities []CapUse `json:"capabilities"`
	// Denied are the capabilities the command went without where it
	// mattered (those outside the session's Bounding set included).
	Denied []string `json:"denied"`
	// LostEvents is how many events the kernel could not hand over: a
	// trace that lost any suggests nothing.
	LostEvents int `json:"lost_events"`
	// Untrusted is why the trace cannot be trusted (a name of the
	// command's made up events): then nothing is suggested.
	Untrusted string `json:"untrusted,omitempty"`
	// Uncalibrated are the capabilities whose checks that programs are
	// denied without needing them the trace could not learn to tell
	// apart (without kernel addresses, on a busy machine): their denials
	// with no known stack are counted unknown, never suggested, so a
	// command that does need one of them is not told so.
	Uncalibrated []string `json:"uncalibrated,omitempty"`
	// ExecFailed is that the command itself never ran: its exec was
	// refused, and the checks are the refusal's.
	ExecFailed bool `json:"exec_failed,omitempty"`
	// ConfRefused is why the module would not read the rules file: then
	// nothing is suggested, as no line there would be read.
	ConfRefused string `json:"config_refused,omitempty"`
	// AsRoot is that the command ran as root, who was granted every
	// check; Capabilities then count what a user would be denied.
	AsRoot bool `json:"as_root,omitempty"`
	// Impossible are denied capabilities outside the session's Bounding
	// set: no rule and no setcap can give them there.
	Impossible []string `json:"impossible"`
	// StillRunning are processes of the command's that had not ended
	// when the trace stopped; what they did after is not in it.
	StillRunning []Process   `json:"still_running,omitempty"`
	Suggest      *Suggestion `json:"suggest,omitempty"`
}

// CapUse is what the trace saw of one capability.
type CapUse struct {
	Name    string `json:"name"`
	Checks  int    `json:"checks"`
	Granted int    `json:"granted"`
	Denied  int    `json:"denied"`
	NoAudit int    `json:"denied_noaudit"` // denials made noaudit
	// PathChoice counts denials the kernel asked for only to choose how
	// much to allow: setuid to one's own ids still works without them.
	PathChoice int `json:"denied_path_choice"`
	// Either counts denials of one of cap_dac_read_search and
	// cap_dac_override that the kernel asked for one after the other for
	// the same access, where either would have done: the other is
	// suggested (cap_dac_read_search, the narrower, where the session's
	// Bounding set has it).
	Either int `json:"denied_other_suffices"`
	// Unknown counts cap_sys_admin checks that cannot be told apart
	// from the noaudit check every mapping makes: denials with no kernel
	// stack in a command that exited 0, and for root every grant (a
	// granted check has no stack); and any denial with no known stack of
	// a capability in Uncalibrated. Never suggested.
	Unknown  int      `json:"denied_unknown"`
	Programs []string `json:"programs"`
	Where    []string `json:"where"` // kernel functions that asked and were denied
	// Needed is whether a denial (for root, a grant) was a real
	// permission check, or one that could not be told apart, so that
	// the program went without it.
	Needed bool `json:"needed"`
}

// Suggestion is what to configure so that the command gets what it was
// denied, each way applied on top of what there is.
type Suggestion struct {
	ConfFile string `json:"capability_conf_file"`
	ConfLine string `json:"capability_conf_line"`
	Before   string `json:"before,omitempty"`  // FILE:LINE of the rule that names the user now
	Already  string `json:"already,omitempty"` // FILE:LINE of a rule that gives all of it already
	// Ambient is the rule that gives the capabilities to whatever the
	// user's session runs, for programs no setcap should be put on.
	Ambient *Ambient  `json:"ambient,omitempty"`
	Setcap  []Setcaps `json:"setcap"`
}

// Ambient is an Ambient rule and the module arguments it needs.
type Ambient struct {
	ConfLine string `json:"capability_conf_line"`
	Args     string `json:"module_args"`
}

// Setcaps are the setcap commands for one program.
type Setcaps struct {
	Program string `json:"program"`
	// Current is the file capabilities the program has now, which the
	// commands keep.
	Current string `json:"current,omitempty"`
	// The commands, empty when there is a reason (Unsafe, Script,
	// General) not to put capabilities on the program.
	ForUser string `json:"for_user"`
	ForAll  string `json:"for_everyone"`
	// Unsafe says why no command is given: the path cannot be quoted so
	// that pasting the command runs it and nothing else, or its current
	// capabilities cannot be read.
	Unsafe string `json:"unsafe,omitempty"`
	// Install, with Unsafe, copies the program to where only root can
	// change it, for a setcap on the copy.
	Install string `json:"install_copy,omitempty"`
	// NotForAll are the root-equivalent capabilities for which no
	// command for every user of the program is given: on a program
	// anyone can run, each is anyone's way to root.
	NotForAll []string `json:"not_for_everyone,omitempty"`
	// Script is that the program is a script (file capabilities on it do
	// nothing); Interpreter, the program its #! line names.
	Script      bool   `json:"script,omitempty"`
	Interpreter string `json:"interpreter,omitempty"`
	// General is that the program (or the script's interpreter) runs
	// whatever it is given: capabilities on it are everyone's who can
	// run it, for anything.
	General bool `json:"general_purpose,omitempty"`
}

const (
	capDACOverride   = 1
	capDACReadSearch = 2
	capSysAdmin      = 21
)

// Build makes the report of in.
func Build(in Input) *Report {
	rep := &Report{Command: in.Command, Program: in.Program, User: in.User, Via: in.Via, ExitCode: in.ExitCode,
		Capabilities: []CapUse{}, Denied: []string{}, Impossible: []string{}, LostEvents: in.Lost,
		ConfRefused: in.ConfRefused, AsRoot: in.User == "", StillRunning: in.StillRunning, Untrusted: in.Untrusted}
	if in.Uncalibrated != 0 {
		rep.Uncalibrated = capconf.CapNames(in.Uncalibrated)
	}
	programs := captrace.Programs(in.Events)
	var ruleIAB capconf.IAB
	if in.Rule != nil {
		ruleIAB, _ = capconf.ParseIAB(in.Rule.Caps) // "all", "none": no drops
	}
	bounding := in.Bounding &^ ruleIAB.Bound
	// Of each pair, the check that is not needed: cap_dac_override's,
	// unless the program needs cap_dac_override anyway (a write), which
	// does for both, or cap_dac_read_search is outside the Bounding set
	// and cap_dac_override is not.
	pairs := dacPairs(in.Events)
	overrideAnyway := map[string]bool{}
	for i, ev := range in.Events {
		if _, paired := pairs[i]; ev.Kind == captrace.Check && ev.Cap == capDACOverride && !ev.Granted && !paired {
			if audit, _ := captrace.Classify(ev.Stack); audit == captrace.Audited || audit == captrace.Unknown {
				overrideAnyway[programs[i]] = true
			}
		}
	}
	other := map[int]bool{}
	for second, first := range pairs {
		if overrideAnyway[programs[first]] || bounding&(1<<capDACReadSearch) == 0 && bounding&(1<<capDACOverride) != 0 {
			other[first] = true
		} else {
			other[second] = true
		}
	}
	// Each program's file is looked up once, however many checks it made
	// (up to a trace's 300,000): as root, through its path, which the
	// user may change between two lookups.
	type file struct{ real, why string }
	resolved := map[string]file{}
	byCap := map[int]*CapUse{}
	unsafe := map[string]string{}   // program -> why no setcap may name it
	neededBy := map[string]uint64{} // program -> capabilities it went without
	var progs []string              // those programs, in the order of their first denial
	for i, ev := range in.Events {
		if ev.Kind != captrace.Check {
			continue
		}
		u := byCap[ev.Cap]
		if u == nil {
			u = &CapUse{Name: capconf.CapName(uint(ev.Cap)), Programs: []string{}, Where: []string{}}
			byCap[ev.Cap] = u
		}
		u.Checks++
		f, ok := resolved[programs[i]]
		if !ok {
			f.real, f.why = in.Files.Resolve(programs[i])
			resolved[programs[i]] = f
		}
		prog, why := f.real, f.why
		if why != "" {
			unsafe[prog] = why
		}
		u.Programs = addUnique(u.Programs, prog)
		if ev.Granted {
			u.Granted++
			// Root is granted every check; a user without capabilities
			// would be denied each, and with no stack for a granted
			// check the mappings' cap_sys_admin cannot be told apart.
			if in.User != "" {
				continue
			}
			if ev.Cap == capSysAdmin {
				u.Unknown++
				continue
			}
		} else {
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
				if captrace.ProbablyHarmless(ev, in.ExitCode, in.Uncalibrated) {
					u.Unknown++
					continue
				}
			}
			if other[i] {
				u.Either++
				continue
			}
		}
		u.Needed = true
		if neededBy[prog] == 0 {
			progs = append(progs, prog)
		}
		neededBy[prog] |= 1 << uint(ev.Cap)
	}
	rep.ExecFailed = execFailed(in.Events)
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
	rep.Impossible = capconf.CapNames(needed &^ bounding)
	needed &= bounding
	if needed == 0 || in.Lost > 0 || in.Untrusted != "" || rep.ExecFailed || in.ConfRefused != "" {
		return rep
	}
	for _, p := range progs {
		neededBy[p] &= bounding
	}
	rep.Suggest = suggest(in, needed, progs, neededBy, unsafe)
	return rep
}

// execFailed is whether the trace saw checks but never an exec: the
// launcher's exec of the command was refused, and its checks are that
// refusal's, not the command's.
func execFailed(events []captrace.Event) bool {
	checks := false
	for _, ev := range events {
		switch ev.Kind {
		case captrace.Exec:
			return false
		case captrace.Check:
			checks = true
		}
	}
	return checks
}

// dacPairs finds the denied checks of cap_dac_override that a task made
// right after a denied check of cap_dac_read_search for the same access
// (the same function asked, when the stacks tell): generic_permission asks
// for cap_dac_read_search first for a read or a directory search, then
// cap_dac_override, and either would have done. It maps the index of the
// second check to that of the first.
func dacPairs(events []captrace.Event) map[int]int {
	pairs := map[int]int{}
	last := map[int]int{} // pid -> index of its last check
	for i, ev := range events {
		if ev.Kind != captrace.Check {
			continue
		}
		prev, ok := last[ev.Pid]
		last[ev.Pid] = i
		if !ok || ev.Granted || ev.Cap != capDACOverride {
			continue
		}
		p := events[prev]
		if p.Granted || p.Cap != capDACReadSearch {
			continue
		}
		_, w1 := captrace.Classify(p.Stack)
		_, w2 := captrace.Classify(ev.Stack)
		if w1 == w2 {
			pairs[i] = prev
		}
	}
	return pairs
}

// suggest writes the capability.conf line and the setcap commands for the
// programs that were denied, in the order they were first denied (not by
// path, which would make the order depend on where a program lives). The
// first rule that names a user wins, so when one names the user now, the
// line goes before it and keeps what it gives.
func suggest(in Input, needed uint64, progs []string, neededBy map[string]uint64, unsafe map[string]string) *Suggestion {
	s := &Suggestion{ConfFile: in.ConfFile}
	who := "USER"
	if in.User != "" {
		who = in.User
	}
	// The rule that names the user now keeps what it gives (its text as
	// it is), and gets what was denied on top.
	line := func(ambient bool) string {
		var iab capconf.IAB
		var err error
		if in.Rule != nil {
			iab, err = capconf.ParseIAB(in.Rule.Caps)
		}
		switch {
		case in.Rule == nil || err != nil: // none, or "none", "all"
			add := capconf.IAB{Inh: needed}
			if ambient {
				add.Amb = needed
			}
			return add.String() + " " + who
		case ambient:
			iab.Inh, iab.Amb = iab.Inh|needed, iab.Amb|needed
			return iab.String() + " " + who
		}
		return in.Rule.Caps + "," + capconf.IAB{Inh: needed &^ iab.Inh}.String() + " " + who
	}
	s.ConfLine = line(false)
	if in.Rule != nil {
		at := fmt.Sprintf("%s:%d", in.Rule.File, in.Rule.Line)
		iab, err := capconf.ParseIAB(in.Rule.Caps)
		if err == nil && needed&^iab.Inh == 0 {
			s.Already = at // only the programs lack their file capabilities
		} else {
			s.Before = at
		}
	}
	risky := false
	for _, p := range progs {
		c := setcapsFor(p, neededBy[p], unsafe[p], in.Files)
		risky = risky || c.Script || c.General
		s.Setcap = append(s.Setcap, c)
	}
	if risky {
		s.Ambient = &Ambient{ConfLine: line(true), Args: "keepcaps defer"}
	}
	return s
}

// setcapsFor writes the setcap commands that give program p the
// capabilities need on top of those it has, or says why there are none.
func setcapsFor(p string, need uint64, unsafe string, files Files) Setcaps {
	c := Setcaps{Program: p}
	q, quotable := quote.Shell(p)
	switch {
	case !strings.Contains(p, "/"):
		c.Unsafe = "the program is known by its command name only, not by a path"
		return c
	case !strings.HasPrefix(p, "/"):
		c.Unsafe = "the path is relative to the directory the process that ran it was in, which the trace does not tell"
		return c
	case !quotable:
		c.Unsafe = "the path holds characters that no quoting makes safe to paste (control characters, or bytes that are not UTF-8)"
		return c
	}
	if interp := files.Interpreter(p); interp != "" {
		c.Script, c.Interpreter, c.General = true, interp, GeneralPurpose(interp)
		return c
	}
	if GeneralPurpose(p) {
		c.General = true
		return c
	}
	if unsafe != "" {
		c.Unsafe = unsafe
		dest, _ := quote.Shell("/usr/local/bin/" + path.Base(p))
		c.Install = "install -o root -g root -m 0755 " + q + " " + dest
		return c
	}
	cur, err := files.Caps(p)
	if err != nil {
		c.Unsafe = "its file capabilities now cannot be read, and setcap would replace them: " + err.Error()
		return c
	}
	c.Current = cur.String()
	forUser := cur
	forUser.Inheritable |= need
	forUser.Effective = true
	forAll := cur
	forAll.Permitted |= need
	forAll.Effective = true
	c.ForUser = "setcap " + quoteWord(forUser.String()) + " " + q
	if need&rootEquivalent != 0 {
		c.NotForAll = capconf.CapNames(need & rootEquivalent)
		return c
	}
	c.ForAll = "setcap " + quoteWord(forAll.String()) + " " + q
	return c
}

// rootEquivalent are the capabilities that give whoever has them a way
// to root's other powers (reading or writing any file, any process,
// setting ids, loading modules): on a program every user can run, each
// would be every user's way to root.
var rootEquivalent = func() uint64 {
	var v uint64
	for _, c := range []int{1, 2, 21, 19, 7, 6, 0, 3, 31, 16, 17} {
		v |= 1 << c
	}
	return v
}()

// quoteWord quotes capability text (names, '=', flags) for the shell
// when it has more than one clause.
func quoteWord(s string) string {
	if strings.Contains(s, " ") {
		return "'" + s + "'"
	}
	return s
}

// String is the capabilities as setcap takes them: one clause for each
// set of flags, "" for none.
func (f FileCaps) String() string {
	var clauses []string
	for _, g := range []struct {
		bits         uint64
		flags, plain string // with and without the effective bit
	}{
		{f.Permitted &^ f.Inheritable, "ep", "p"},
		{f.Inheritable &^ f.Permitted, "ie", "i"},
		{f.Permitted & f.Inheritable, "eip", "ip"},
	} {
		if g.bits == 0 {
			continue
		}
		flags := g.plain
		if f.Effective {
			flags = g.flags
		}
		clauses = append(clauses, capconf.IAB{Inh: g.bits}.String()+"="+flags)
	}
	return strings.Join(clauses, " ")
}

// generalPurpose are programs that run what they are given (shells,
// interpreters, the programs that run another): capabilities on one are
// anyone's who can run it, for any use. Versioned names (python3.11)
// match their base.
var generalPurpose = []string{
	"sh", "bash", "dash", "zsh", "ksh", "ksh93", "mksh", "csh", "tcsh", "fish", "ash", "busybox",
	"python", "pypy", "perl", "ruby", "lua", "luajit", "php", "node", "nodejs", "tclsh", "wish",
	"awk", "gawk", "mawk", "nawk", "guile", "env", "xargs", "find", "vim", "vi", "emacs",
	"gdb", "expect",
}

// GeneralPurpose is whether the program at path runs whatever it is given.
func GeneralPurpose(p string) bool {
	base := strings.TrimRight(path.Base(p), "0123456789.")
	return slices.Contains(generalPurpose, base) || slices.Contains(generalPurpose, path.Base(p))
}

func addUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
