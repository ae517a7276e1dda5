// Package quote makes text that came from outside safe to print for a
// human: Terminal escapes it so that no byte of it acts on the terminal,
// and Shell quotes a word so that a command pasted into a shell gets
// exactly that word. gocap trace prints paths, command names and
// arguments of programs it must not trust, and suggests commands that
// root pastes.
package quote

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Terminal returns s with everything that could act on a terminal, or be
// mistaken for something else, escaped as Go escapes it in a string
// literal: C0 and C1 control characters and DEL (\x1b, \u009b), bytes
// that are not UTF-8 (\xff), the characters that reorder or hide text
// (bidirectional controls, line and paragraph separators: \u202e), and
// the backslash itself (\\), so that two strings never print alike.
func Terminal(s string) string {
	if !needsEscape(s) {
		return s
	}
	return escape(s, true)
}

// Line is Terminal for a line of gocap's own that quotes (as %q does)
// the names in it but may hold other text from outside, such as a path:
// it escapes the same characters but the backslash, which the quoting
// put there.
func Line(s string) string {
	if printable(s) {
		return s
	}
	return escape(s, false)
}

func escape(s string, backslash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\' && backslash:
			b.WriteString(`\\`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsEscape(s string) bool { return strings.Contains(s, `\`) || !printable(s) }

// printable is whether s is UTF-8 with nothing that acts on a terminal or
// hides text.
func printable(s string) bool {
	for i, r := range s {
		if r < 0x20 || r == 0x7f || hidden(r) {
			return false
		}
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return false
			}
		}
	}
	return true
}

// hidden is a character past ASCII that a terminal acts on or that
// changes how the text around it shows.
func hidden(r rune) bool {
	return (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Bidi_Control, r) ||
		r == '\u2028' || r == '\u2029'
}

// Shell returns s as one word of a POSIX shell command line: as it is
// when it holds only characters no shell treats specially, else in single
// quotes (a ' inside as '\”). ok is false when no quoting makes s safe
// to paste: it is safe only if it holds no control
// characters (a newline would end the command, ESC would change what the
// terminal shows), no bytes that are not UTF-8 and no characters that hide
// text: nothing Terminal escapes but the backslash. When ok is false the
// caller must not suggest the command.
func Shell(s string) (quoted string, ok bool) {
	if s == "" {
		return "''", true
	}
	if !printable(s) {
		return "", false
	}
	plain := true
	for _, r := range s {
		if !plainShell(r) {
			plain = false
			break
		}
	}
	if plain {
		return s, true
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'", true
}

// plainShell is a character that means itself to every POSIX shell
// wherever it is in a word (not ~ or =, which mean more at its start).
func plainShell(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
		strings.ContainsRune("_@%+:,./-", r)
}

// Words is a command line for a human to read: each word shell-quoted
// when it can be, else escaped for the terminal.
func Words(words []string) string {
	out := make([]string, len(words))
	for i, w := range words {
		if q, ok := Shell(w); ok {
			out[i] = q
		} else {
			out[i] = Terminal(w)
		}
	}
	return strings.Join(out, " ")
}

// JSON makes JSON text from encoding/json safe for a terminal too: it
// leaves the control characters below 0x20 escaped as the encoder did and
// escapes DEL, the C1 controls and the characters that reorder text,
// which the encoder passes through, as \u escapes. They can only be inside strings, where JSON allows the
// escape, so the value read back is the same.
func JSON(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == 0x7f || hidden(r) {
			if out == nil {
				out = append(make([]byte, 0, len(b)+16), b[:i]...)
			}
			out = fmt.Appendf(out, `\u%04x`, r)
		} else if out != nil {
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	if out == nil {
		return b
	}
	return out
}
