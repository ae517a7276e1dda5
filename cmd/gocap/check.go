package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"kernel.org/pub/linux/libs/security/libcap/cap"

	"pam_gocap/capconf"
	"pam_gocap/internal/quote"
)

// Finding is one problem in a rules file. Line 0 is the whole file.
type Finding struct {
	File     string `json:"file"`
	Line     int    `json:"line"`
	Col      int    `json:"col"`
	Severity string `json:"severity"` // "error" or "warning"
	Message  string `json:"message"`
}

func (f Finding) String() string {
	if f.Line == 0 {
		return fmt.Sprintf("%s: %s: %s", f.File, f.Severity, f.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", f.File, f.Line, f.Col, f.Severity, f.Message)
}

func runCheck(argv []string, stdout, stderr io.Writer, sys system) int {
	o, code := parseOptions("check", argv, stdout, stderr, "args", "format")
	if o == nil {
		return code
	}
	if len(o.positional) > 1 {
		fmt.Fprintln(stderr, "gocap check: one FILE at most")
		return 2
	}
	path := capconf.DefaultConfig
	if len(o.positional) == 1 {
		path = o.positional[0]
	}
	findings, err := check(path, capconf.ParseArgs(moduleArgs(o.args)), sys)
	if err != nil {
		fmt.Fprintf(stderr, "gocap check: %v\n", err)
		return 2
	}
	errCount := 0
	for _, f := range findings {
		if f.Severity == "error" {
			errCount++
		}
	}
	if o.format == "json" {
		out := struct {
			File     string    `json:"file"`
			Errors   int       `json:"errors"`
			Warnings int       `json:"warnings"`
			Findings []Finding `json:"findings"`
		}{path, errCount, len(findings) - errCount, findings}
		if out.Findings == nil {
			out.Findings = []Finding{}
		}
		writeJSON(stdout, out)
	} else {
		// The messages quote the tokens they name, but not the paths.
		for _, f := range findings {
			fmt.Fprintln(stdout, quote.Line(f.String()))
		}
	}
	if errCount > 0 {
		return 1
	}
	return 0
}

// check reads the rules file at path, and the drop-in files in path.d
// after it (unless args say nodropins), as pam_gocap would, and returns
// every problem in them, file by file in the order they are read and by
// line within each. args are the module arguments the file is used with.
// The error is for a main file that cannot be read at all.
func check(path string, args capconf.Args, sys system) ([]Finding, error) {
	c := checker{mainPath: path, args: args, sys: sys, users: map[string]place{}, groups: map[string]place{}}
	err := c.file(path, func() (io.ReadCloser, error) {
		id, err := sys.CheckConfig(path)
		if err != nil {
			return nil, err
		}
		for _, w := range sys.MainFileWarnings(id) {
			c.add(0, 0, "warning", w)
		}
		for _, w := range sys.PathWarnings(path, "pam_gocap and pam_cap.so read it") {
			c.add(0, 0, "warning", w)
		}
		return sys.OpenConfig(path, id)
	})
	if err != nil {
		return nil, err
	}
	files := []string{path}
	if !args.NoDropIns {
		files = append(files, c.dropIns(path+".d")...)
	}
	c.denyByGroup()
	c.sortFindings(files)
	c.path = path
	c.moduleArgs()
	return c.findings, nil
}

// dropIns checks the drop-in directory and its files as the module does,
// and returns the directory's path and then theirs, in the order read.
func (c *checker) dropIns(path string) []string {
	dir, err := c.sys.OpenDropIns(path)
	if err != nil {
		c.path = path
		c.fileError("pam_gocap grants nothing while this directory is refused: %v", err)
		return []string{path}
	}
	if dir == nil {
		return nil
	}
	defer dir.Close()
	c.path = path
	for _, w := range c.sys.PathWarnings(path, "pam_gocap reads the drop-ins in it") {
		c.add(0, 0, "warning", w)
	}
	for i, file := range dir.Paths() {
		err := c.file(file, func() (io.ReadCloser, error) {
			id, err := dir.Check(i)
			if err != nil {
				return nil, err
			}
			return dir.Open(i, id)
		})
		if err != nil {
			c.path = file
			c.fileError("%v", err)
		}
	}
	return append([]string{path}, dir.Paths()...)
}

// file checks one rules file of the set, opened by open, and sorts its
// findings by line.
func (c *checker) file(path string, open func() (io.ReadCloser, error)) error {
	c.path = path
	from := len(c.findings)
	defer func() {
		mine := c.findings[from:]
		sort.SliceStable(mine, func(i, j int) bool {
			a, b := mine[i], mine[j]
			return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
		})
	}()
	f, err := open()
	if errors.Is(err, capconf.ErrRefused) {
		what := "pam_gocap ignores this file"
		if path != c.mainPath {
			what = "pam_gocap grants nothing while this drop-in file is refused"
		}
		c.fileError("%s: %v", what, err)
		if !c.sys.IsRegularFile(path) {
			return nil
		}
		f, err = os.Open(path) // writable by others: report what is in it too
	}
	if err != nil {
		return err
	}
	defer f.Close()
	rules, crlf, lineErrs, err := capconf.Parse(path, f)
	if err != nil {
		return err
	}
	for _, e := range lineErrs {
		c.add(e.Line, e.Col, "error", e.Msg)
	}
	if len(crlf) > 0 {
		c.add(crlf[0], 1, "warning", fmt.Sprintf("CRLF line ends (%d lines): pam_gocap reads them, but pam_cap.so never matches the last name of such a line", len(crlf)))
	}
	for _, r := range rules {
		c.rule(r)
	}
	return nil
}

type checker struct {
	path     string // the file being checked
	mainPath string // the config file, first of the set
	args     capconf.Args
	sys      system
	findings []Finding
	users    map[string]place // user name: where it is first named
	groups   map[string]place
	star     place        // the first line with "*"
	rules    []placedRule // every rule of the set, in the order read
}

// placedRule is a rule and the file of the set it is in.
type placedRule struct {
	file string
	rule *capconf.Rule
}

// place is a line of a file of the set; the zero place is none.
type place struct {
	file string
	line int
}

// ref names a place as seen from the file being checked: "line 4", or
// "FILE:4" in another file.
func (c *checker) ref(p place) string {
	if p.file == c.path {
		return fmt.Sprintf("line %d", p.line)
	}
	return fmt.Sprintf("%s:%d", p.file, p.line)
}

func (c *checker) add(line, col int, severity, msg string) {
	c.findings = append(c.findings, Finding{c.path, line, col, severity, msg})
}

func (c *checker) fileError(format string, args ...any) {
	c.add(0, 0, "error", fmt.Sprintf(format, args...))
}

func (c *checker) rule(r *capconf.Rule) {
	c.rules = append(c.rules, placedRule{c.path, r})
	if c.star.line > 0 {
		c.add(r.Line, 1, "warning", fmt.Sprintf("never matches: %s already matches every user", c.ref(c.star)))
		return
	}
	c.caps(r)
	if len(r.Who) == 0 {
		c.add(r.Line, 1, "warning", "no user or group: this line never matches")
		return
	}
	live := false
	for _, w := range r.Who {
		if c.who(r, w) {
			live = true
		}
	}
	if !live {
		c.add(r.Line, 1, "warning", "never matches: every user and group it names is matched earlier")
	}
}

// caps checks a rule's capability field.
func (c *checker) caps(r *capconf.Rule) {
	text := r.Caps.Text
	if text == "all" || text == "none" {
		return
	}
	iab, err := capconf.ParseIAB(text)
	if err != nil {
		var ie *capconf.IABError
		errors.As(err, &ie)
		c.add(r.Line, r.Caps.Col+ie.Offset, "error", err.Error())
		return
	}
	if last := text[len(text)-1]; last == ',' || strings.IndexByte("!^%", last) >= 0 {
		if spaceAfterComma(r) {
			c.add(r.Line, r.Who[0].Col, "error", fmt.Sprintf("space after a comma: %q is read as a user name, not a capability", r.Who[0].Text))
			return
		}
		c.add(r.Line, r.Caps.Col+len(text)-1, "warning", fmt.Sprintf("IAB ends with %q: libcap accepts it, but it is likely a mistake", text[len(text)-1:]))
	}
	if outside := (iab.Inh | iab.Amb) &^ c.sys.Bounding(); outside != 0 {
		c.add(r.Line, r.Caps.Col, "warning", fmt.Sprintf("not in this system's bounding set, so it cannot be granted: %s", capconf.IAB{Inh: outside}))
	}
}

// who checks one user token and says whether it can still match.
func (c *checker) who(r *capconf.Rule, w capconf.Token) bool {
	switch {
	case w.Text == "*":
		c.star = place{c.path, r.Line}
		return true
	case strings.HasPrefix(w.Text, "@"):
		name := w.Text[1:]
		if first, seen := c.groups[name]; seen {
			c.add(r.Line, w.Col, "warning", fmt.Sprintf("group %q never matches here: %s names it first", name, c.ref(first)))
			return false
		}
		c.groups[name] = place{c.path, r.Line}
		if err := c.sys.LookupGroup(name); err != nil {
			c.add(r.Line, w.Col, "warning", fmt.Sprintf("group %q is unknown to NSS", name))
		}
		return true
	}
	if first, seen := c.users[w.Text]; seen {
		c.add(r.Line, w.Col, "warning", fmt.Sprintf("user %q never matches here: %s names it first", w.Text, c.ref(first)))
		return false
	}
	c.users[w.Text] = place{c.path, r.Line}
	switch _, err := c.sys.LookupUser(w.Text); {
	case err == nil, spaceAfterComma(r) && w == r.Who[0]:
	case isCapName(w.Text):
		c.add(r.Line, w.Col, "warning", fmt.Sprintf("%q is a capability, not a user: capabilities go in the first field, joined by commas", w.Text))
	default:
		msg := fmt.Sprintf("user %q is unknown to NSS", w.Text)
		if err := c.sys.LookupGroup(w.Text); err == nil {
			msg += fmt.Sprintf("; there is a group %q: write @%s", w.Text, w.Text)
		}
		c.add(r.Line, w.Col, "warning", msg)
	}
	return true
}

// moduleArgs checks the module arguments given with --args.
func (c *checker) moduleArgs() {
	for _, a := range c.args.Unknown {
		c.fileError("unknown module argument %q: pam_gocap ignores it", a)
	}
	if !c.args.HasDefault {
		return
	}
	if d := c.args.Default; d != "all" && d != "none" {
		if _, err := capconf.ParseIAB(d); err != nil {
			c.fileError("module argument default=%s: %v", d, err)
		}
	}
	if c.star.line > 0 {
		c.path = c.star.file
		c.add(c.star.line, 1, "warning", fmt.Sprintf("default=%s is never used: this line matches every user", c.args.Default))
	}
}

// spaceAfterComma reports a rule such as "cap_a, cap_b alice", which pam_cap
// reads as the IAB "cap_a," for the users "cap_b" and "alice".
func spaceAfterComma(r *capconf.Rule) bool {
	return strings.HasSuffix(r.Caps.Text, ",") && len(r.Who) > 0 && isCapName(r.Who[0].Text)
}

func isCapName(s string) bool {
	_, err := cap.FromName(strings.ToLower(s))
	return err == nil && !isNumber(s)
}

func isNumber(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

// denyByGroup warns about a rule that denies by group ("none @g", or only
// "!" drops) when a later rule would give members of the group more: "*",
// a user NSS places in the group, or else default=. Such a rule denies
// only while NSS can tell who is in the group; when it cannot (the
// group's directory out of reach, and no cache that knows), the rule does
// not match and the later one applies.
func (c *checker) denyByGroup() {
	for i, d := range c.rules {
		if drops, denies := capconf.Denies(d.rule.Caps.Text); denies {
			c.path = d.file
			for _, w := range d.rule.Who {
				group, isGroup := strings.CutPrefix(w.Text, "@")
				if !isGroup {
					continue
				}
				if instead := c.grantsGroupMore(c.rules[i+1:], group, drops); instead != "" {
					c.add(d.rule.Line, w.Col, "warning", fmt.Sprintf("%q for group %q holds only while NSS can tell who is in it: "+
						"when it cannot (its directory out of reach), %s instead; deny by user name, or grant by group",
						d.rule.Caps.Text, group, instead))
				}
			}
		}
		if hasStar(d.rule) {
			return // nothing after it matches
		}
	}
}

// grantsGroupMore names the first of later that would give a member of
// group more than a rule dropping drops (capconf.GrantsMore), such as
// `line 4 gives them "cap_net_raw"` (as seen from c.path), or default=
// when no later rule names every user; "" when none would.
func (c *checker) grantsGroupMore(later []placedRule, group string, drops uint64) string {
	for _, l := range later {
		matches := hasStar(l.rule)
		for _, w := range l.rule.Who {
			if !matches && !strings.HasPrefix(w.Text, "@") && c.inGroup(w.Text, group) {
				matches = true
			}
		}
		if matches && capconf.GrantsMore(l.rule.Caps.Text, drops) {
			return fmt.Sprintf("%s gives them %q", c.ref(place{l.file, l.rule.Line}), l.rule.Caps.Text)
		}
		if hasStar(l.rule) {
			return ""
		}
	}
	if c.args.HasDefault && capconf.GrantsMore(c.args.Default, drops) {
		return fmt.Sprintf("the module argument default=%s applies", c.args.Default)
	}
	return ""
}

// inGroup reports whether NSS places user in group now.
func (c *checker) inGroup(user, group string) bool {
	groups, err := c.sys.LookupUser(user)
	if err != nil {
		return false
	}
	names, err := groups()
	if err != nil {
		return false
	}
	for _, n := range names {
		if n == group {
			return true
		}
	}
	return false
}

func hasStar(r *capconf.Rule) bool {
	for _, w := range r.Who {
		if w.Text == "*" {
			return true
		}
	}
	return false
}

// sortFindings orders the findings by file, in the order files are read
// (a file not among them, the drop-in directory, first), then by line.
func (c *checker) sortFindings(files []string) {
	order := map[string]int{}
	for i, f := range files {
		order[f] = i + 1
	}
	sort.SliceStable(c.findings, func(i, j int) bool {
		a, b := c.findings[i], c.findings[j]
		if order[a.File] != order[b.File] {
			return order[a.File] < order[b.File]
		}
		return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
	})
}
