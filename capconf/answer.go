package capconf

import (
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// AnswerVersion numbers the text form of an Answer. The C side of the
// module refuses any other, so a helper from another build fails closed.
const AnswerVersion = 2

// Encode gives the Answer as the text the module's C side reads, the same
// whether Go ran in the host or in the helper:
//
//	pam_gocap 2
//	log <priority> <message>            (any number)
//	audit <what is granted>             (at most one)
//	answer <result> <action> <inh> <amb> <bound> <keepcaps>
//
// result and action are the numbers of Result and Action, the three
// vectors are hexadecimal and keepcaps is 0 or 1. Messages are cut to one
// printable line.
func (a Answer) Encode() string {
	// One buffer, of the text's exact size, and no sprintf: every
	// allocation of a decision may touch a page of its own in the process.
	n := len("pam_gocap ") + decimalLen(AnswerVersion) + 1
	for _, l := range a.Logs {
		n += len("log  \n") + decimalLen(uint64(l.Priority)) + printableLen(l.Text)
	}
	if a.Audit != "" {
		n += len("audit \n") + printableLen(a.Audit)
	}
	n += len("answer     \n") + decimalLen(uint64(a.Result)) + decimalLen(uint64(a.Action)) + 1
	for _, v := range [...]uint64{a.IAB.Inh, a.IAB.Amb, a.IAB.Bound} {
		n += hexLen(v)
	}
	b := make([]byte, 0, n)
	b = append(b, "pam_gocap "...)
	b = strconv.AppendInt(b, AnswerVersion, 10)
	b = append(b, '\n')
	for _, l := range a.Logs {
		b = append(b, "log "...)
		b = strconv.AppendInt(b, int64(l.Priority), 10)
		b = append(b, ' ')
		b = appendPrintable(b, l.Text)
		b = append(b, '\n')
	}
	if a.Audit != "" {
		b = append(b, "audit "...)
		b = appendPrintable(b, a.Audit)
		b = append(b, '\n')
	}
	keep := int64(0)
	if a.KeepCaps {
		keep = 1
	}
	b = append(b, "answer "...)
	b = strconv.AppendInt(b, int64(a.Result), 10)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(a.Action), 10)
	for _, v := range [...]uint64{a.IAB.Inh, a.IAB.Amb, a.IAB.Bound} {
		b = append(b, ' ')
		b = strconv.AppendUint(b, v, 16)
	}
	b = append(b, ' ')
	b = strconv.AppendInt(b, keep, 10)
	b = append(b, '\n')
	return unsafe.String(unsafe.SliceData(b), len(b)) // b is not written again
}

// printableLen is the length of appendPrintable's text for s.
func printableLen(s string) int {
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			n += utf8.RuneLen(utf8.RuneError)
		} else if r < 0x20 || r == 0x7f {
			n++
		} else {
			n += size
		}
		i += size
	}
	return n
}

// decimalLen and hexLen are the lengths of v in decimal and hexadecimal.
func decimalLen(v uint64) int {
	n := 1
	for ; v >= 10; v /= 10 {
		n++
	}
	return n
}

func hexLen(v uint64) int {
	n := 1
	for ; v >= 16; v >>= 4 {
		n++
	}
	return n
}

// appendPrintable appends s to b with each control character replaced by
// '?', and each byte that is not UTF-8 by U+FFFD, as strings.Map does.
func appendPrintable(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r < 0x20 || r == 0x7f:
			b = append(b, '?')
		case r == utf8.RuneError && size == 1:
			b = utf8.AppendRune(b, utf8.RuneError)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

// Failure is the Answer for a decision that could not be made: it grants
// nothing, returns PAM_IGNORE and logs why.
func Failure(why string) Answer {
	return Answer{Result: Ignore, Logs: []LogLine{{LogErr, why + "; nothing granted"}}}
}
