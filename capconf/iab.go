package capconf

import (
	"strconv"
	"strings"
)

// IAB is a capability tuple as pam_cap applies it: the bits to put in the
// Inheritable set, the bits to raise in the Ambient set, and the bits to
// drop from the Bounding set. Bit n stands for capability n.
type IAB struct {
	Inh, Amb, Bound uint64
}

// maxCapBits is the number of capability bits the text form can name,
// as in libcap (__CAP_MAXBITS).
const maxCapBits = 64

// IABError reports where IAB text stops making sense.
type IABError struct {
	Offset int // byte offset in the text, from 0
	Msg    string
}

func (e *IABError) Error() string { return e.Msg }

// ParseIAB reads IAB text the way libcap's C cap_iab_from_text does, which
// is what pam_cap.so uses: comma-separated capability names (any letter
// case) or numbers (decimal, 0x hex or 0 octal, below 64), each optionally
// prefixed by any mix of '%' (inheritable), '^' (inheritable and ambient)
// and '!' (drop from bounding). A bare name means inheritable. As in
// libcap, a trailing comma or a trailing lone prefix is accepted.
func ParseIAB(text string) (IAB, error) {
	var v IAB
	for i := 0; i < len(text); i++ {
		var inh, amb, bound bool
		for ; i < len(text) && strings.IndexByte("!^%", text[i]) >= 0; i++ {
			switch text[i] {
			case '!':
				bound = true
			case '^':
				inh, amb = true, true
			case '%':
				inh = true
			}
		}
		if i == len(text) {
			break // libcap accepts a dangling prefix
		}
		if !inh && !bound {
			inh = true
		}
		c, end, err := lookupCap(text, i)
		if err != nil {
			return IAB{}, err
		}
		bit := uint64(1) << c
		if inh {
			v.Inh |= bit
		}
		if amb {
			v.Amb |= bit
		}
		if bound {
			v.Bound |= bit
		}
		i = end
		if i == len(text) {
			break
		}
		if text[i] != ',' {
			return IAB{}, unexpected(text, i)
		}
	}
	return v, nil
}

// lookupCap reads one capability name or number starting at text[i] and
// returns its value and the offset just past it.
func lookupCap(text string, i int) (uint, int, error) {
	word := text[i:]
	if j := strings.IndexByte(word, ','); j >= 0 {
		word = word[:j]
	}
	if text[i] == ' ' || text[i] == '\t' {
		return 0, 0, unexpected(text, i)
	}
	if isDigit(text[i]) {
		n, end := strtoul(text, i)
		if n >= maxCapBits {
			return 0, 0, &IABError{i, sprintf("capability number %q is out of range (0 to %d)", text[i:end], maxCapBits-1)}
		}
		return uint(n), end, nil
	}
	end := i
	for end < len(text) && (isAlpha(text[end]) || text[end] == '_') {
		end++
	}
	name := strings.ToLower(text[i:end])
	c, known := capNumber(name)
	if name == "all" || name == "none" {
		return 0, 0, &IABError{i, sprintf("%q stands alone: it cannot be part of a list or written in capitals", word)}
	}
	if end == i || !known {
		msg := sprintf("unknown capability %q", word)
		if s := suggestCap(word); s != "" {
			msg += sprintf(" (did you mean %s?)", s)
		}
		return 0, 0, &IABError{i, msg}
	}
	return uint(c), end, nil
}

// unexpected reports the byte at text[i] as out of place.
func unexpected(text string, i int) *IABError {
	what := sprintf("%q", text[i:i+1])
	if text[i] == ' ' || text[i] == '\t' {
		what = "space"
	}
	return &IABError{i, sprintf("unexpected %s after %q: IAB text is a comma-separated list with no spaces, such as cap_net_raw,^cap_sys_nice", what, text[:i])}
}

// strtoul mirrors C strtoul(s, &end, 0) for text starting with a digit:
// 0x hex, 0 octal, otherwise decimal. Overflow saturates.
func strtoul(text string, i int) (uint64, int) {
	base := uint64(10)
	switch {
	case text[i] == '0' && i+2 < len(text) && (text[i+1] == 'x' || text[i+1] == 'X') && hexVal(text[i+2]) < 16:
		base, i = 16, i+2
	case text[i] == '0':
		base = 8
	}
	var n uint64
	for ; i < len(text) && hexVal(text[i]) < base; i++ {
		if n > (^uint64(0)-hexVal(text[i]))/base {
			n = ^uint64(0)
			continue
		}
		n = n*base + hexVal(text[i])
	}
	return n, i
}

func hexVal(b byte) uint64 {
	switch {
	case '0' <= b && b <= '9':
		return uint64(b - '0')
	case 'a' <= b && b <= 'f':
		return uint64(b-'a') + 10
	case 'A' <= b && b <= 'F':
		return uint64(b-'A') + 10
	}
	return 99
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }
func isAlpha(b byte) bool { return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' }

// String gives the canonical IAB text, as libcap's cap_iab_to_text does:
// capabilities in numeric order, '!' for a bounding drop, '^' for ambient
// and '%' for inheritable only where a '!' would otherwise hide it.
func (v IAB) String() string {
	var room [512]byte // every name fits, with its prefixes: one allocation, the text's
	b := room[:0]
	for c := uint(0); c < maxCapBits; c++ {
		bit := uint64(1) << c
		i, a, nb := v.Inh&bit != 0, v.Amb&bit != 0, v.Bound&bit != 0
		if !i && !a && !nb {
			continue
		}
		if len(b) > 0 {
			b = append(b, ',')
		}
		if nb {
			b = append(b, '!')
		}
		if a {
			b = append(b, '^')
		} else if nb && i {
			b = append(b, '%')
		}
		b = appendCapName(b, c)
	}
	return string(b)
}

// suggestCap returns the known capability name closest to word, or "" if
// none is close enough to be a likely typo.
func suggestCap(word string) string {
	w := strings.ToLower(word)
	best, bestDist := "", 3
	for _, name := range capNames {
		if w == strings.TrimPrefix(name, "cap_") {
			return name
		}
		if n := len(w) - len(name); n >= bestDist || -n >= bestDist {
			continue // the distance is at least the difference in length
		}
		if d := editDistance(w, name); d < bestDist {
			best, bestDist = name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// capNames are the capabilities' names, by number, as libcap's cap package
// has them (a test compares the two). The module keeps its own copy so that
// it does not link that package, and psx and fmt behind it, into every
// process that loads it.
var capNames = [...]string{
	"cap_chown", "cap_dac_override", "cap_dac_read_search", "cap_fowner", "cap_fsetid", "cap_kill",
	"cap_setgid", "cap_setuid", "cap_setpcap", "cap_linux_immutable", "cap_net_bind_service",
	"cap_net_broadcast", "cap_net_admin", "cap_net_raw", "cap_ipc_lock", "cap_ipc_owner",
	"cap_sys_module", "cap_sys_rawio", "cap_sys_chroot", "cap_sys_ptrace", "cap_sys_pacct",
	"cap_sys_admin", "cap_sys_boot", "cap_sys_nice", "cap_sys_resource", "cap_sys_time",
	"cap_sys_tty_config", "cap_mknod", "cap_lease", "cap_audit_write", "cap_audit_control",
	"cap_setfcap", "cap_mac_override", "cap_mac_admin", "cap_syslog", "cap_wake_alarm",
	"cap_block_suspend", "cap_audit_read", "cap_perfmon", "cap_bpf", "cap_checkpoint_restore",
}

// capNumber gives the number of the capability called name (lower case):
// a search of capNames rather than a map, which would be built, on the
// heap, in every process that loads the module.
func capNumber(name string) (uint, bool) {
	for i, n := range capNames {
		if n == name {
			return uint(i), true
		}
	}
	return 0, false
}

// CapName names capability c, or gives its number when it has no name.
func CapName(c uint) string {
	if c < uint(len(capNames)) {
		return capNames[c]
	}
	return strconv.FormatUint(uint64(c), 10)
}

// CapNames lists the capabilities in v by name (CapName), lowest first;
// never nil, so that JSON says [] for none.
func CapNames(v uint64) []string {
	names := []string{}
	for c := uint(0); c < maxCapBits; c++ {
		if v&(1<<c) != 0 {
			names = append(names, CapName(c))
		}
	}
	return names
}

func appendCapName(b []byte, c uint) []byte {
	if c < uint(len(capNames)) {
		return append(b, capNames[c]...)
	}
	return strconv.AppendUint(b, uint64(c), 10)
}
