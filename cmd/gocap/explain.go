package main

import (
	"fmt"
	"io"
	"strings"

	"pam_gocap/capconf"
	"pam_gocap/internal/quote"
)

// Explanation is what gocap explain finds out about a user.
type Explanation struct {
	User         string       `json:"user"`
	UID          string       `json:"uid,omitempty"`
	GID          string       `json:"gid,omitempty"`
	Groups       []string     `json:"groups"`
	Known        bool         `json:"known"`
	Config       string       `json:"config"`
	Rule         *ruleJSON    `json:"rule"`
	Authenticate string       `json:"authenticate"`
	Setcred      string       `json:"setcred"`
	Action       string       `json:"action"` // nothing, clear, apply, defer
	IAB          string       `json:"iab"`
	Inheritable  []string     `json:"inheritable"`
	Ambient      []string     `json:"ambient"`
	BoundingDrop []string     `json:"bounding_drop"`
	KeepCaps     bool         `json:"keepcaps"`
	Notes        []string     `json:"notes"`
	File         *fileOutcome `json:"file,omitempty"`
	Session      *session     `json:"session,omitempty"`
}

// session is what reaches the session that a known host (--service)
// starts for the user, which is not always what setcred set: see sessionFor.
type session struct {
	Service     string   `json:"service"`
	Inheritable []string `json:"inheritable"`
	Ambient     []string `json:"ambient"`
	Why         string   `json:"why,omitempty"`
}

type ruleJSON struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Caps string `json:"caps"`
	Who  string `json:"who"`
}

type fileOutcome struct {
	Path      string   `json:"path"`
	Caps      string   `json:"caps"`
	Permitted []string `json:"permitted"`
	Effective []string `json:"effective"`
}

func runExplain(argv []string, stdout, stderr io.Writer, sys system) int {
	o, code := parseOptions("explain", argv, stdout, stderr, "config", "args", "file", "format", "service")
	if o == nil {
		return code
	}
	if len(o.positional) != 1 {
		fmt.Fprintln(stderr, "gocap explain: give one USER")
		return 2
	}
	ex, err := explain(o.positional[0], moduleArgv(o.args, o.config), o.file, sys)
	if err == nil && o.service != "" {
		ex.Session, err = sessionFor(o.service, ex)
	}
	if err != nil {
		fmt.Fprintf(stderr, "gocap explain: %v\n", err)
		return 2
	}
	writeReport(stdout, o.format, ex)
	return 0
}

var resultNames = map[capconf.Result]string{
	capconf.Success: "PAM_SUCCESS", capconf.Ignore: "PAM_IGNORE",
	capconf.AuthErr: "PAM_AUTH_ERR", capconf.Incomplete: "PAM_INCOMPLETE",
}

// explain asks capconf.Decide, as the module does, what authenticate and
// setcred do for user with these module arguments, and with a program path
// what that program gets when the user's session runs it.
func explain(user string, argv []string, program string, sys system) (*Explanation, error) {
	args := capconf.ParseArgs(argv)
	ex := &Explanation{User: user, Config: args.Config, Groups: []string{}}
	if groups, err := sys.LookupUser(user); err == nil {
		ex.Known = true
		names, _ := groups() // an error here shows in the decision's notes
		ex.Groups = append(ex.Groups, names...)
		ex.UID, ex.GID, _ = sys.UserID(user)
	}
	// "debug" only adds the reasoning to the notes; it changes no decision.
	withDebug := append(append([]string{}, argv...), "debug")
	auth := capconf.Decide(capconf.Request{Entry: capconf.Authenticate, User: user, Argv: withDebug}, sys)
	cred := capconf.Decide(capconf.Request{Entry: capconf.SetCred, User: user, Argv: withDebug}, sys)
	ex.Authenticate = resultNames[auth.Result]
	for _, l := range cred.Logs {
		ex.Notes = append(ex.Notes, l.Text)
	}
	if r := cred.Rule; r != nil {
		var who []string
		for _, w := range r.Who {
			who = append(who, w.Text)
		}
		ex.Rule = &ruleJSON{r.File, r.Line, r.Caps.Text, strings.Join(who, " ")}
	}
	// What the thread will have after setcred, as far as the module sets it;
	// where it sets nothing the host's own vectors stay, assumed empty here
	// (login, su and sshd run with empty Inheritable and Ambient sets).
	var after capconf.IAB
	switch cred.Action {
	case capconf.NoAction:
		ex.Action, ex.Setcred = "nothing", resultNames[cred.Result]
	case capconf.ClearInh:
		ex.Action, ex.Setcred = "clear", "PAM_SUCCESS"
	case capconf.ApplyIAB:
		ex.Action, ex.Setcred, after = "apply", "PAM_SUCCESS", cred.IAB
	case capconf.DeferIAB:
		ex.Action, ex.Setcred, after = "defer", "PAM_IGNORE", cred.IAB
	}
	ex.IAB = cred.IAB.String()
	ex.KeepCaps = cred.KeepCaps
	ex.Inheritable = capconf.CapNames(after.Inh)
	ex.Ambient = capconf.CapNames(after.Amb)
	ex.BoundingDrop = capconf.CapNames(after.Bound)
	if program != "" {
		fc, err := sys.FileCaps(program)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", program, err)
		}
		// capabilities(7): a program with file capabilities loses the
		// Ambient set; P' = (fI & pI) | (fP & B), E' = fE ? P' : 0.
		bounding := sys.Bounding() &^ after.Bound
		p := fc.Inheritable&after.Inh | fc.Permitted&bounding
		var e uint64
		if fc.Effective {
			e = p
		}
		ex.File = &fileOutcome{program, fc.Text, capconf.CapNames(p), capconf.CapNames(e)}
	}
	return ex, nil
}

// sessionFor says what reaches the session that service starts, as
// measured in the Docker harness for su, login and sshd (README, "Ambient
// capabilities"): each switches to the user's uid after setcred, which
// clears Ambient; su and login then call pam_end(PAM_DATA_SILENT) in the
// session process, which applies a deferred IAB (if keepcaps kept the
// capabilities that needs); sshd never does.
func sessionFor(service string, ex *Explanation) (*session, error) {
	s := &session{Service: service, Inheritable: []string{}, Ambient: []string{}}
	switch service {
	case "su", "login", "sshd":
	default:
		return nil, fmt.Errorf("--service is su, login or sshd, the hosts whose handling of capabilities is known, not %q", service)
	}
	switch {
	case ex.Action == "apply":
		s.Inheritable = ex.Inheritable
		if len(ex.Ambient) > 0 {
			s.Why = fmt.Sprintf("the kernel clears Ambient when %s switches to the user's uid; "+
				"only keepcaps and defer carry it, in su or login", service)
		}
	case ex.Action == "defer" && service == "sshd":
		s.Why = "sshd never calls pam_end in the session process, so a deferred IAB is never applied there"
	case ex.Action == "defer" && !ex.KeepCaps:
		s.Why = fmt.Sprintf("without keepcaps %s has no capabilities left after the switch to the user's uid, "+
			"so pam_end cannot apply the deferred IAB", service)
	case ex.Action == "defer":
		s.Inheritable, s.Ambient = ex.Inheritable, ex.Ambient
		s.Why = fmt.Sprintf("%s applies the deferred IAB at pam_end(PAM_DATA_SILENT) in the session process, "+
			"after the switch to the user's uid", service)
	}
	return s, nil
}

// writeText prints the explanation for a terminal. The names come from
// NSS (a directory's user and group names), the rule's file and the
// command line, so each is escaped (quote.Terminal): a name with an
// escape sequence in it prints as text and does nothing to root's
// terminal. The notes are capconf's log lines, which quote the names in
// them but not the file's path: quote.Line escapes what is left.
func (ex *Explanation) writeText(w io.Writer) {
	t := quote.Terminal
	list := func(v []string) string {
		if len(v) == 0 {
			return "(none)"
		}
		return strings.Join(v, ",")
	}
	if ex.Known {
		fmt.Fprintf(w, "user          %s (uid %s, gid %s)\n", t(ex.User), ex.UID, ex.GID)
		groups := make([]string, len(ex.Groups))
		for i, g := range ex.Groups {
			groups[i] = t(g)
		}
		fmt.Fprintf(w, "groups        %s (from NSS)\n", strings.Join(groups, " "))
	} else {
		fmt.Fprintf(w, "user          %s: unknown to NSS, so no rule can name it\n", t(ex.User))
	}
	if ex.Rule != nil {
		fmt.Fprintf(w, "rule          %s:%d: %s  %s\n", t(ex.Rule.File), ex.Rule.Line, t(ex.Rule.Caps), t(ex.Rule.Who))
	} else {
		fmt.Fprintf(w, "rule          none in %s\n", t(ex.Config))
	}
	fmt.Fprintf(w, "authenticate  %s\n", ex.Authenticate)
	switch ex.Action {
	case "nothing":
		fmt.Fprintf(w, "setcred       %s, changes nothing\n", ex.Setcred)
	case "clear":
		fmt.Fprintf(w, "setcred       %s, empties the Inheritable and Ambient sets\n", ex.Setcred)
	case "apply":
		fmt.Fprintf(w, "setcred       %s, applies IAB %q\n", ex.Setcred, ex.IAB)
	case "defer":
		fmt.Fprintf(w, "setcred       %s, keeps IAB %q for pam_end(PAM_SUCCESS|PAM_DATA_SILENT)\n", ex.Setcred, ex.IAB)
	}
	if ex.Action == "apply" || ex.Action == "defer" {
		fmt.Fprintf(w, "  Inheritable %s\n", list(ex.Inheritable))
		fmt.Fprintf(w, "  Ambient     %s\n", list(ex.Ambient))
		fmt.Fprintf(w, "  Bounding    drops %s\n", list(ex.BoundingDrop))
		fmt.Fprintf(w, "  keepcaps    %v\n", ex.KeepCaps)
	}
	if ex.File != nil {
		fmt.Fprintf(w, "program       %s: %s\n", t(ex.File.Path), t(ex.File.Caps))
		fmt.Fprintf(w, "  Permitted   %s\n", list(ex.File.Permitted))
		fmt.Fprintf(w, "  Effective   %s\n", list(ex.File.Effective))
	}
	if s := ex.Session; s != nil {
		fmt.Fprintf(w, "session       what %s's session gets: Inheritable %s, Ambient %s\n", s.Service, list(s.Inheritable), list(s.Ambient))
		if s.Why != "" {
			fmt.Fprintf(w, "  why         %s\n", s.Why)
		}
	}
	for _, n := range ex.Notes {
		fmt.Fprintf(w, "note          %s\n", quote.Line(n))
	}
}
