package capconf

import (
	"errors"
	"io"
	"math/bits"
	"strings"
	"syscall"
)

// Entry is the PAM entry point being decided for.
type Entry int

const (
	Authenticate Entry = iota // pam_sm_authenticate
	SetCred                   // pam_sm_setcred, with PAM_ESTABLISH_CRED or PAM_REINITIALIZE_CRED
)

// UserStatus is what the host said when the module asked for the user name.
type UserStatus int

const (
	UserKnown     UserStatus = iota // the name is in Request.User
	UserConvAgain                   // pam_get_user returned PAM_CONV_AGAIN
	UserMissing                     // no user name could be had
)

// Request is everything the module passes from its PAM handle to Decide.
type Request struct {
	Entry  Entry
	Status UserStatus
	User   string
	Argv   []string // module arguments
}

// Result is the PAM return code to give, named rather than numbered so that
// this package needs no libpam.
type Result int

const (
	Ignore     Result = iota // PAM_IGNORE
	Success                  // PAM_SUCCESS
	AuthErr                  // PAM_AUTH_ERR
	Incomplete               // PAM_INCOMPLETE
)

// Action is what the module must do to the calling thread's capabilities.
type Action int

const (
	NoAction Action = iota // leave everything as it is
	ClearInh               // "none": empty Inheritable (and so Ambient); then PAM_SUCCESS, or PAM_IGNORE if that fails
	ApplyIAB               // apply IAB; then PAM_SUCCESS, or PAM_IGNORE if that fails
	DeferIAB               // keep IAB for pam_end; PAM_IGNORE
)

// Priority is a syslog priority, as pam_syslog takes it.
type Priority int

// The syslog priorities the module uses.
const (
	LogErr     Priority = 3
	LogWarning Priority = 4
	LogInfo    Priority = 6
	LogDebug   Priority = 7
)

// LogLine is a message for pam_syslog.
type LogLine struct {
	Priority Priority
	Text     string
}

// Answer is the module's decision. Result is the return code unless the
// Action says otherwise.
type Answer struct {
	Result   Result
	Action   Action
	IAB      IAB
	KeepCaps bool // after ApplyIAB succeeds or DeferIAB, set PR_SET_KEEPCAPS
	Logs     []LogLine
	// Audit says what the Action grants, whom to and where from, as
	// `user="NAME" iab=TEXT from="FILE:LINE"` (or "from=default="), with
	// NAME and FILE quoted and cut as pam_gocap(8) says: the module logs
	// it at LOG_INFO as "grant ..." once the action has taken effect.
	// Empty with the quiet argument, and when nothing is granted.
	Audit string
	// Rule is the rule that named the user, nil if none did. It is for
	// explaining the decision and is not part of the encoded answer.
	Rule *Rule
}

// System is what Decide needs from the machine.
type System interface {
	// CheckConfig checks the main rules file without opening it and says
	// which file it checked. An error wrapping ErrRefused means the file
	// exists but must be ignored; one wrapping syscall.ENOENT means there
	// is none.
	CheckConfig(path string) (FileID, error)
	// OpenConfig opens the main rules file that CheckConfig found to be
	// id; an error wrapping ErrRefused means it is not that file any more.
	OpenConfig(path string, id FileID) (io.ReadCloser, error)
	// LookupUser reports whether the user exists and how to list the
	// names of the user's groups.
	LookupUser(name string) (Groups, error)
	// LookupGroup reports whether NSS knows the group.
	LookupGroup(name string) error
	// CapBits is how many capabilities the running kernel knows.
	CapBits() int
	// OpenDropIns opens the drop-in directory dir. A missing directory
	// gives nil and no error; an error wrapping ErrRefused means the
	// directory must not be trusted.
	OpenDropIns(dir string) (DropInDir, error)
}

// DropInDir is an opened drop-in directory: its rules files are checked,
// then read, through it.
type DropInDir interface {
	// Paths lists the rules files, in the order they are read.
	Paths() []string
	// Check checks the i'th file without opening it and says which file
	// it checked; an error wrapping ErrRefused means it must be ignored.
	Check(i int) (FileID, error)
	// Open opens the i'th file, which Check found to be id; an error
	// wrapping ErrRefused means it is not that file any more.
	Open(i int, id FileID) (io.ReadCloser, error)
	// Close lets the directory go.
	Close() error
}

// ErrRefused marks a rules file that pam_gocap will not read.
var ErrRefused = errors.New("refused")

// Decide makes the decision pam_cap.so would make for req, with the
// differences the README lists, and says what to log on the way.
func Decide(req Request, sys System) Answer {
	d := decider{args: ParseArgs(req.Argv), sys: sys, user: req.User}
	for _, arg := range d.args.Unknown {
		d.logf(LogErr, "unknown argument %q ignored", arg)
	}
	switch req.Entry {
	case Authenticate:
		d.answer.Result = d.authenticate(req.Status)
	case SetCred:
		d.setcred(req.Status)
	}
	return d.answer
}

type decider struct {
	args   Args
	sys    System
	user   string
	answer Answer
}

func (d *decider) logf(p Priority, format string, args ...any) {
	d.answer.Logs = append(d.answer.Logs, LogLine{p, sprintf(format, args...)})
}

// debugf logs at LOG_DEBUG with the debug argument. Calls with arguments
// check d.args.Debug themselves and call logf: the arguments, each put in
// an interface, would cost allocations without it.
func (d *decider) debugf(format string, args ...any) {
	if d.args.Debug {
		d.logf(LogDebug, format, args...)
	}
}

func (d *decider) authenticate(status UserStatus) Result {
	switch {
	case status == UserConvAgain:
		d.debugf("user name not available yet")
		return Incomplete
	case d.args.AutoAuth:
		d.debugf("autoauth: success")
		return Success
	case status != UserKnown:
		d.debugf("no user name")
		return AuthErr
	}
	rule, _ := d.findRule()
	if rule == nil {
		return Ignore
	}
	return Success
}

func (d *decider) setcred(status UserStatus) {
	if status != UserKnown || d.user == "" {
		d.debugf("no user name")
		d.answer.Result = AuthErr
		return
	}
	d.answer.Result = Ignore
	rule, err := d.findRule()
	caps, where, from := "", "", "" // from: the rule's position for the audit line, "" for default=
	switch {
	case err != nil:
		return // fail closed: findRule said why; nothing, not even default=
	case rule != nil:
		caps, where = rule.Caps.Text, rule.Pos()
		from = where
	case d.args.HasDefault:
		caps, where = d.args.Default, "default="+d.args.Default
		if d.args.Debug {
			d.logf(LogDebug, "no rule for user %q: using default=%s", d.user, caps)
		}
	default:
		return
	}
	switch caps {
	case "all":
		if d.args.Debug {
			d.logf(LogDebug, "%s: \"all\": capabilities of user %q left as they are", where, d.user)
		}
		d.answer.Result = Success
		return
	case "none":
		if d.args.Debug {
			d.logf(LogDebug, "%s: \"none\": clearing the Inheritable set for user %q", where, d.user)
		}
		d.answer.Action = ClearInh
		d.audit("none", from)
		return
	}
	iab, err := ParseIAB(caps)
	if err != nil {
		pos := "argument default=" + caps
		if rule != nil {
			var ie *IABError
			errors.As(err, &ie)
			pos = sprintf("%s:%d", where, rule.Caps.Col+ie.Offset)
		}
		d.logf(LogErr, "%s: %v; nothing applied for user %q", pos, err, d.user)
		return
	}
	if known := d.sys.CapBits(); known < 64 {
		if past := (iab.Inh | iab.Amb | iab.Bound) >> known; past != 0 {
			d.logf(LogErr, "%s: capability %d is past the last one this kernel knows (%d); nothing applied for user %q",
				where, known+bits.TrailingZeros64(past), known-1, d.user)
			return
		}
	}
	d.answer.IAB, d.answer.KeepCaps = iab, d.args.KeepCaps
	d.audit(iab.String(), from)
	if d.args.Defer {
		if d.args.Debug {
			d.logf(LogDebug, "%s: IAB %q for user %q deferred to pam_end", where, iab.String(), d.user)
		}
		d.answer.Action = DeferIAB
		return
	}
	if d.args.Debug {
		d.logf(LogDebug, "%s: applying IAB %q for user %q", where, iab.String(), d.user)
	}
	d.answer.Action = ApplyIAB
	if iab.Amb != 0 {
		d.logf(LogWarning, "%s: Ambient %s for user %q will not reach the session: the kernel clears Ambient when the host "+
			"switches to the user's uid; only Inheritable does (Ambient needs keepcaps and defer, in a host that ends PAM "+
			"in the session process, as su and login do and sshd does not)", where, IAB{Inh: iab.Amb}, d.user)
	}
}

// audit fills Answer.Audit for what setcred grants, unless quiet.
func (d *decider) audit(iab, from string) {
	if !d.args.Quiet {
		d.answer.Audit = auditText(d.user, iab, from)
	}
}

// missedGroup is an "@group" token that did not name the user.
type missedGroup struct {
	name, file string
	line       int
}

// hasMissed reports whether group is in missed already.
func hasMissed(missed []missedGroup, group string) bool {
	for _, m := range missed {
		if m.name == group {
			return true
		}
	}
	return false
}

// groupList asks lookup for the user's groups once, when first needed.
type groupList struct {
	lookup Groups
	names  []string
	err    error
	loaded bool
}

func (g *groupList) get() ([]string, error) {
	if !g.loaded {
		g.loaded = true
		g.names, g.err = g.lookup()
	}
	return g.names, g.err
}

// maxMissedGroups bounds the group look-ups made to explain a miss: the
// first this many distinct groups passed over are looked up.
const maxMissedGroups = 8

// checkMissedGroups logs the groups of rules that did not apply to the user
// because NSS does not know them at all: a typo, or a directory that cannot
// be reached, in which case its members get nothing from those rules.
func (d *decider) checkMissedGroups(missed []missedGroup) {
	for _, m := range missed {
		if err := d.sys.LookupGroup(m.name); err != nil {
			d.logf(LogWarning, "%s:%d: group %q is unknown to NSS (a typo, or its directory cannot be reached), so its rule does not apply to user %q", m.file, m.line, m.name, d.user)
		}
	}
}

// errFailClosed ends a decision that grants nothing, not even default=,
// after findRule has logged why.
var errFailClosed = errors.New("fail closed")

// findRule finds the user's rule, in the config file and then in its
// drop-in files, first match winning. It returns a nil rule and a nil
// error when none applies, and logs what it found. An error means the
// rules cannot be trusted (a refused, unreadable or missing file or
// drop-in directory, or NSS failing for a reason other than an unknown
// user): the caller grants nothing, not even default=.
func (d *decider) findRule() (*Rule, error) {
	lookup, err := d.sys.LookupUser(d.user)
	var unknown UnknownUserError
	unknownUser := errors.As(err, &unknown)
	switch {
	case unknownUser:
		if d.args.Debug {
			d.logf(LogDebug, "user %q is unknown to NSS: no rule applies", d.user)
		}
		if !d.args.HasDefault {
			return nil, nil
		}
		// default= applies only if every file passes its checks and
		// reads whole, as for a user no rule names.
	case err != nil:
		d.logf(LogErr, "looking up user %q: %v; nothing granted", d.user, err)
		return nil, errFailClosed
	}
	set, err := d.checkFiles()
	if set.dir != nil {
		defer set.dir.Close()
	}
	if err != nil {
		d.logf(LogErr, "%v; nothing granted, not even default=", err)
		return nil, errFailClosed
	}
	// The user's groups are looked up once at most, whatever the files.
	g := groupList{lookup: lookup}
	var missed []missedGroup
	for i, path := range set.paths {
		if i == 0 && !set.hasMain {
			continue // no main file, and no default=: the drop-ins alone
		}
		f, err := set.open(d.sys, i)
		if err != nil {
			d.logf(LogErr, "%v; nothing granted, not even default=", err)
			return nil, errFailClosed
		}
		var rule *Rule
		if unknownUser {
			err = readWhole(path, f)
		} else {
			rule, err = findRule(path, f, d.user, g.get, func(group string, line int) {
				if len(missed) < maxMissedGroups && !hasMissed(missed, group) {
					missed = append(missed, missedGroup{group, path, line})
				}
			})
		}
		f.Close()
		if err != nil {
			d.checkMissedGroups(missed)
			d.logf(LogErr, "%v; nothing granted to user %q, not even default=", err, d.user)
			return nil, err
		}
		if rule != nil {
			d.checkMissedGroups(missed)
			if d.args.Debug {
				d.logf(LogDebug, "%s: user %q matched %q", rule.Pos(), d.user, rule.Caps.Text)
			}
			d.answer.Rule = rule
			return rule, nil
		}
	}
	d.checkMissedGroups(missed)
	if d.args.Debug {
		d.logf(LogDebug, "%s: no rule for user %q", strings.Join(set.paths, ", "), d.user)
	}
	return nil, nil
}

// ruleFiles is the set of rules files of a decision, every one checked.
type ruleFiles struct {
	paths   []string // the main file, then the drop-ins
	ids     []FileID // what was checked of each
	hasMain bool     // false when there is no main file
	dir     DropInDir
}

// checkFiles checks every file of the set without opening any, so that
// one that is refused fails the whole decision, wherever the user's rule
// is; files are then opened one at a time, so that any number of them
// takes two descriptors at most.
func (d *decider) checkFiles() (ruleFiles, error) {
	set := ruleFiles{paths: []string{d.args.Config}, ids: []FileID{{}}, hasMain: true}
	id, err := d.sys.CheckConfig(d.args.Config)
	switch {
	case errors.Is(err, syscall.ENOENT) && !d.args.HasDefault:
		if d.args.Debug {
			d.logf(LogDebug, "%v: no rules", err)
		}
		set.hasMain = false
	case err != nil:
		return set, err
	}
	set.ids[0] = id
	if d.args.NoDropIns {
		return set, nil
	}
	if set.dir, err = d.sys.OpenDropIns(d.args.Config + ".d"); err != nil || set.dir == nil {
		return set, err
	}
	for i, path := range set.dir.Paths() {
		id, err := set.dir.Check(i)
		if err != nil {
			return set, err
		}
		set.paths, set.ids = append(set.paths, path), append(set.ids, id)
	}
	return set, nil
}

// open opens the i'th file of the set, which must be the file checked.
func (s ruleFiles) open(sys System, i int) (io.ReadCloser, error) {
	if i == 0 {
		return sys.OpenConfig(s.paths[0], s.ids[0])
	}
	return s.dir.Open(i-1, s.ids[i])
}

// Refused says why the module would not read the rules files that the
// module arguments argv name (the main file, its drop-in directory and
// files), as an error wrapping ErrRefused; nil when it would read them.
func Refused(argv []string, sys System) error {
	d := decider{args: ParseArgs(argv), sys: sys}
	set, err := d.checkFiles()
	if set.dir != nil {
		set.dir.Close()
	}
	if errors.Is(err, ErrRefused) {
		return err
	}
	return nil
}
