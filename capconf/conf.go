package capconf

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"sync/atomic"
	"unsafe"
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
func (r *Rule) Pos() string {
	var room [20]byte
	return r.File + ":" + string(strconv.AppendInt(room[:0], int64(r.Line), 10))
}

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
// It reads into a buffer of its own, one allocation with the reader, rather
// than through a bufio.Reader: in a process that loads the module, each Go
// size class a decision allocates from first takes a fresh span of the
// heap, which the process then keeps (bench/limits.md).
type reader struct {
	file   string
	src    io.Reader
	start  int    // buf[start:end] is read and not yet returned
	end    int    // (reads go to buf[end:])
	err    error  // the last read's error, returned after buf[start:end]
	long   []byte // a line longer than buf, put together
	line   int
	crlf   bool     // the current line ended in "\r\n"
	fields [][]byte // fields of the current line, valid until the next call
	cols   []int
	// With onlyUser, next passes over the lines that cannot name user
	// without splitting them: most lines of a long file name other users.
	onlyUser bool
	user     []byte
	// Room for the fields and columns of short lines, so that these
	// need no allocation of their own.
	fieldRoom [8][]byte
	colRoom   [8]int
	buf       [readBufferSize]byte
}

// readBufferSize makes a reader, with the 8 bytes the heap puts before an
// object this large that holds pointers, 4 KiB: a size class of its own.
const readBufferSize = 4096 - 448

// spareReader keeps one reader between decisions: in a host that runs
// many transactions it is most of what a decision allocates, and every
// garbage collection it causes is time the host waits.
var spareReader atomic.Pointer[reader]

func newReader(file string, r io.Reader) *reader {
	rd := spareReader.Swap(nil)
	if rd == nil {
		rd = new(reader)
	}
	rd.file, rd.src = file, r
	rd.fields, rd.cols = rd.fieldRoom[:0], rd.colRoom[:0]
	return rd
}

// release keeps the reader for the next one; it is not used after.
func (r *reader) release() {
	*r = reader{}
	spareReader.Store(r)
}

// errBufferFull is bufio.ErrBufferFull for reader.readSlice.
var errBufferFull = errors.New("buffer full")

// readSlice reads up to and including the next '\n', as bufio.Reader's
// ReadSlice does: the bytes returned are valid until the next read; with
// errBufferFull when the buffer filled first (they are then the whole
// buffer), and with the read's error, once, at the end of what was read.
func (r *reader) readSlice() ([]byte, error) {
	for empty := 0; ; {
		if i := bytes.IndexByte(r.buf[r.start:r.end], '\n'); i >= 0 {
			text := r.buf[r.start : r.start+i+1]
			r.start += i + 1
			return text, nil
		}
		if r.err != nil {
			text, err := r.buf[r.start:r.end], r.err
			r.start, r.err = r.end, nil
			return text, err
		}
		if r.start == 0 && r.end == len(r.buf) {
			r.start = r.end
			return r.buf[:], errBufferFull
		}
		if r.start > 0 {
			r.end = copy(r.buf[:], r.buf[r.start:r.end])
			r.start = 0
		}
		n, err := r.src.Read(r.buf[r.end:])
		if n < 0 || n > len(r.buf)-r.end {
			n, err = 0, errors.New("capconf: invalid count from Read")
		}
		r.end += n
		switch {
		case err != nil:
			r.err = err
		case n > 0:
			empty = 0
		default:
			if empty++; empty >= 100 {
				r.err = io.ErrNoProgress
			}
		}
	}
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
	text, err := r.readSlice()
	if len(text) == 0 && err == io.EOF {
		return nil, io.EOF
	}
	r.line++
	if err == errBufferFull {
		r.long = append(r.long[:0], text...)
		for err == errBufferFull && len(r.long) <= MaxLineLength+len("\r\n") {
			text, err = r.readSlice()
			r.long = append(r.long, text...)
		}
		for err == errBufferFull {
			_, err = r.readSlice()
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
	// The reader only reads the name: a view of it, not a copy.
	rd.onlyUser, rd.user = true, unsafe.Slice(unsafe.StringData(user), len(user))
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
