package capconf

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"sync"
)

// MaxLineLength is the longest line, in bytes without its line end, that
// capability.conf may hold. pam_cap.so reads 4095 bytes at a time and so
// parses the rest of a longer line as a rule of its own; we refuse such a
// line instead, and generously: a line of several thousand user names fits.
const MaxLineLength = 64 << 10

// Token is one whitespace-separated field of a line, with the byte column
// (from 1) where it starts.
type Token struct {
	Text string
	Col  int
}

// Rule is a line of capability.conf that is neither blank nor a comment: a
// capability field and the users and groups it is for.
type Rule struct {
	File string
	Line int
	Caps Token
	Who  []Token
}

// Pos gives the rule's place as "file:line".
func (r *Rule) Pos() string { return sprintf("%s:%d", r.File, r.Line) }

// LineError is a problem at a place in a file.
type LineError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *LineError) Error() string {
	return sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// reader splits capability.conf into lines and fields without copying, so
// that finding the rule for a user in a long file allocates almost nothing.
type reader struct {
	file   string
	br     *bufio.Reader
	long   []byte // a line longer than br's buffer, put together
	line   int
	crlf   bool     // the current line ended in "\r\n"
	fields [][]byte // fields of the current line, valid until the next call
	cols   []int
	// With onlyUser, next passes over the lines that cannot name user
	// without splitting them: most lines of a long file name other users.
	onlyUser bool
	user     []byte
}

// readBuffers keeps the readers' 4 KiB buffers between decisions: in a
// host that runs many transactions they are most of what a decision
// allocates, and every garbage collection they cause is time the host
// waits.
var readBuffers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 4096) }}

func newReader(file string, r io.Reader) *reader {
	br := readBuffers.Get().(*bufio.Reader)
	br.Reset(r)
	return &reader{file: file, br: br}
}

// release gives the reader's buffer back; the reader is not used after.
func (r *reader) release() {
	r.br.Reset(nil)
	readBuffers.Put(r.br)
	r.br = nil
}

// next moves to the next line that holds a rule. It returns io.EOF at the
// end, a *LineError for a line it refuses to read (after which it may be
// called again), or an I/O error.
func (r *reader) next() error {
	for {
		text, err := r.readLine()
		if err != nil {
			return err
		}
		if r.onlyUser && !mayName(text, r.user) {
			continue
		}
		r.split(text)
		if len(r.fields) == 0 || r.fields[0][0] == '#' {
			continue
		}
		return nil
	}
}

// readLine returns the next line without its line end. Most lines fit the
// reader's small buffer; a longer one is put together in r.long, up to the
// limit, and the rest of a line over the limit is skipped unread.
func (r *reader) readLine() ([]byte, error) {
	text, err := r.br.ReadSlice('\n')
	if len(text) == 0 && err == io.EOF {
		return nil, io.EOF
	}
	r.line++
	if errors.Is(err, bufio.ErrBufferFull) {
		r.long = append(r.long[:0], text...)
		for errors.Is(err, bufio.ErrBufferFull) && len(r.long) <= MaxLineLength+len("\r\n") {
			text, err = r.br.ReadSlice('\n')
			r.long = append(r.long, text...)
		}
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = r.br.ReadSlice('\n')
		}
		text = r.long
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	// Byte tests, not bytes.TrimSuffix: this runs for every line of the file.
	if n := len(text); n > 0 && text[n-1] == '\n' {
		text = text[:n-1]
	}
	r.crlf = len(text) > 0 && text[len(text)-1] == '\r'
	if r.crlf {
		text = text[:len(text)-1]
	}
	if len(text) > MaxLineLength {
		return nil, r.errorf(1, "line is longer than %d bytes; it is ignored and so is the rest of the file", MaxLineLength)
	}
	if i := bytes.IndexByte(text, 0); i >= 0 {
		return nil, r.errorf(i+1, "NUL byte in line; it is ignored and so is the rest of the file")
	}
	return text, nil
}

// mayName reports whether a line may hold a token that names user: user
// itself, "*" or an "@group". When it says no, no field of the line does.
func mayName(line, user []byte) bool {
	return bytes.IndexByte(line, '*') >= 0 || bytes.IndexByte(line, '@') >= 0 || bytes.Contains(line, user)
}

// split cuts a line into fields at spaces and tabs, as pam_cap.so does.
func (r *reader) split(text []byte) {
	r.fields, r.cols = r.fields[:0], r.cols[:0]
	for i := 0; i < len(text); {
		if text[i] == ' ' || text[i] == '\t' {
			i++
			continue
		}
		start := i
		for i < len(text) && text[i] != ' ' && text[i] != '\t' {
			i++
		}
		r.fields = append(r.fields, text[start:i])
		r.cols = append(r.cols, start+1)
	}
}

// rule copies the current line out as a Rule.
func (r *reader) rule() *Rule {
	rule := &Rule{File: r.file, Line: r.line, Caps: Token{string(r.fields[0]), r.cols[0]}}
	for i, f := range r.fields[1:] {
		rule.Who = append(rule.Who, Token{string(f), r.cols[i+1]})
	}
	return rule
}

func (r *reader) errorf(col int, format string, args ...any) *LineError {
	return &LineError{File: r.file, Line: r.line, Col: col, Msg: sprintf(format, args...)}
}

// Groups lists the names of a user's groups, primary and supplementary. It
// is called at most once, and only when a rule names a group. An error
// means the list cannot be had, and so no rule can be trusted to be the
// first that names the user.
type Groups func() ([]string, error)

// FindRule returns the first rule in the file read from r that names user,
// as pam_cap.so picks it: "*" matches everyone, a token equal to the user
// name matches that user, and "@name" matches members of group name. A
// token without "@" never matches a group. It returns nil and no error when
// no rule matches. A line it refuses to read stops the search with that
// line's *LineError, so that a broken line never lets a later, more
// generous rule apply in its place; so does an error from groups.
func FindRule(file string, r io.Reader, user string, groups Groups) (*Rule, error) {
	return findRule(file, r, user, groups, func(string, int) {})
}

// findRule is FindRule that also tells missed about each "@group" token it
// compared with the user's groups without a match, with its line.
func findRule(file string, r io.Reader, user string, groups Groups, missed func(group string, line int)) (*Rule, error) {
	rd := newReader(file, r)
	defer rd.release()
	rd.onlyUser, rd.user = true, []byte(user)
	var groupNames []string
	groupsLoaded := false
	for {
		if err := rd.next(); err != nil {
			if err == io.EOF {
				return nil, nil
			}
			return nil, err
		}
		for _, tok := range rd.fields[1:] {
			if string(tok) == "*" || string(tok) == user {
				return rd.rule(), nil
			}
			if tok[0] != '@' {
				continue
			}
			if !groupsLoaded {
				var err error
				if groupNames, err = groups(); err != nil {
					return nil, errorf("%s:%d: listing the groups of user %q: %w", file, rd.line, user, err)
				}
				groupsLoaded = true
			}
			for _, g := range groupNames {
				if string(tok[1:]) == g {
					return rd.rule(), nil
				}
			}
			missed(string(tok[1:]), rd.line)
		}
	}
}

// readWhole reads a rules file to its end and returns the first line it
// refuses to read, or an I/O error: the check a file passes, for a user no
// rule can name, before default= applies.
func readWhole(file string, r io.Reader) error {
	rd := newReader(file, r)
	defer rd.release()
	for {
		if _, err := rd.readLine(); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

// Parse reads a whole capability.conf and returns its rules and every line
// it refuses, in line order. name is used in positions.
func Parse(name string, r io.Reader) (rules []*Rule, crlfLines []int, errs []*LineError, err error) {
	rd := newReader(name, r)
	defer rd.release()
	for {
		e := rd.next()
		var le *LineError
		switch {
		case e == io.EOF:
			return rules, crlfLines, errs, nil
		case errors.As(e, &le):
			errs = append(errs, le)
			continue
		case e != nil:
			return rules, crlfLines, errs, e
		}
		if rd.crlf {
			crlfLines = append(crlfLines, rd.line)
		}
		rules = append(rules, rd.rule())
	}
}
