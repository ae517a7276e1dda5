package capconf

import (
	"strings"
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
	var b strings.Builder
	b.WriteString(sprintf("pam_gocap %d\n", AnswerVersion))
	for _, l := range a.Logs {
		b.WriteString(sprintf("log %d %s\n", int(l.Priority), printable(l.Text)))
	}
	if a.Audit != "" {
		b.WriteString(sprintf("audit %s\n", printable(a.Audit)))
	}
	keep := 0
	if a.KeepCaps {
		keep = 1
	}
	b.WriteString(sprintf("answer %d %d %x %x %x %d\n", int(a.Result), int(a.Action), a.IAB.Inh, a.IAB.Amb, a.IAB.Bound, keep))
	return b.String()
}

// printable replaces control bytes so a message stays one syslog line.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// Failure is the Answer for a decision that could not be made: it grants
// nothing, returns PAM_IGNORE and logs why.
func Failure(why string) Answer {
	return Answer{Result: Ignore, Logs: []LogLine{{LogErr, why + "; nothing granted"}}}
}
