package capconf

import (
	"strconv"
	"unicode/utf8"
)

// The audit line's fields that come from outside the module (the user
// name, the rules file's path) are quoted, so that one line is one grant
// whatever a name holds, and cut, so that the fields after them stay inside
// one syslog message (rsyslog's default limit is 8 KiB, header included).
// pam_gocap(8) gives the format as a contract.
const (
	maxAuditUser = 256  // bytes of the user name kept
	maxAuditFrom = 1024 // bytes of FILE:LINE kept
)

// auditText is the audit line's text for a grant of iab (canonical IAB
// text, or "none") to user from a rule at where (FILE:LINE), or from
// default= when where is "":
//
//	user="NAME" iab=IAB from="FILE:LINE"
//	user="NAME" iab=IAB from=default=
func auditText(user, iab, where string) string {
	// Built in one buffer, on the stack unless the names are long: one
	// allocation, the text's.
	var room [256]byte
	b := append(room[:0], "user="...)
	b = appendQuoted(b, user, maxAuditUser)
	b = append(b, " iab="...)
	b = append(b, iab...)
	b = append(b, " from="...)
	if where == "" {
		b = append(b, "default="...)
	} else {
		b = appendQuoted(b, where, maxAuditFrom)
	}
	return string(b)
}

// quoteField quotes s for the audit line: between double quotes, with `"`
// and `\` escaped by a backslash, a byte that is not UTF-8 or is an ASCII
// control as \xHH, and a character that is not printable (C1 controls,
// U+2028 and U+2029, other separators and format characters) as \uHHHH or
// \UHHHHHHHH; every other character as itself. The text between the
// quotes is then free of quotes, controls and line breaks, and reads back
// with Go's strconv.Unquote. When s is longer than max bytes, its first
// max bytes (to a character boundary) are quoted and "..." follows the
// closing quote, where no name can put it.
func quoteField(s string, max int) string {
	return string(appendQuoted(make([]byte, 0, len(s)+8), s, max))
}

// appendQuoted appends quoteField(s, max) to b.
func appendQuoted(b []byte, s string, max int) []byte {
	cut := false
	if len(s) > max {
		n := max
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s, cut = s[:n], true
	}
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1, r < 0x20, r == 0x7f:
			b = append(b, '\\', 'x', hex[s[i]>>4], hex[s[i]&0xf])
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < utf8.RuneSelf || strconv.IsPrint(r):
			b = append(b, s[i:i+size]...)
		case r <= 0xffff:
			b = append(b, '\\', 'u')
			for shift := 12; shift >= 0; shift -= 4 {
				b = append(b, hex[r>>shift&0xf])
			}
		default:
			b = append(b, '\\', 'U')
			for shift := 28; shift >= 0; shift -= 4 {
				b = append(b, hex[r>>shift&0xf])
			}
		}
		i += size
	}
	b = append(b, '"')
	if cut {
		b = append(b, "..."...)
	}
	return b
}
