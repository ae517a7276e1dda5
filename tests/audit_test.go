package tests

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// auditField is one key=value of an audit line, read as pam_gocap(8) says:
// a value is a bare word, or a quoted string that "..." may follow to say
// it was cut.
type auditField struct {
	key, value string
	cut        bool
}

// parseAudit reads the fields after "grant " by the contract in
// pam_gocap(8) alone, and returns what follows them ("deferred" or "").
func parseAudit(s string) ([]auditField, string, error) {
	var fields []auditField
	for s != "" {
		eq, sp := strings.IndexByte(s, '='), strings.IndexByte(s, ' ')
		if eq < 0 || (sp >= 0 && sp < eq) {
			return fields, s, nil // not a field: the words after them
		}
		f := auditField{key: s[:eq]}
		s = s[eq+1:]
		if !strings.HasPrefix(s, `"`) {
			f.value, s, _ = strings.Cut(s, " ")
			fields = append(fields, f)
			continue
		}
		var b []byte
		for i := 1; ; i++ {
			if i >= len(s) {
				return nil, "", errors.New("no closing quote")
			}
			c := s[i]
			if c < 0x20 || c == 0x7f {
				return nil, "", fmt.Errorf("control byte %#x inside quotes", c)
			}
			if c == '"' {
				s = s[i+1:]
				break
			}
			if c != '\\' {
				b = append(b, c)
				continue
			}
			if i+1 >= len(s) {
				return nil, "", errors.New("backslash at the end")
			}
			switch e := s[i+1]; e {
			case '"', '\\':
				b = append(b, e)
				i++
			case 'x', 'u', 'U':
				n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
				if i+2+n > len(s) {
					return nil, "", errors.New("short escape")
				}
				v, err := strconv.ParseUint(s[i+2:i+2+n], 16, 32)
				if err != nil {
					return nil, "", err
				}
				if e == 'x' {
					b = append(b, byte(v))
				} else {
					b = utf8.AppendRune(b, rune(v))
				}
				i += 1 + n
			default:
				return nil, "", fmt.Errorf("unknown escape \\%c", e)
			}
		}
		f.value = string(b)
		s, f.cut = strings.CutPrefix(s, "...")
		fields = append(fields, f)
		if s != "" {
			if s[0] != ' ' {
				return nil, "", fmt.Errorf("%q after a quoted value", s)
			}
			s = s[1:]
		}
	}
	return fields, "", nil
}

// documentedAudit is the regular expression pam_gocap(8) gives.
var documentedAudit = regexp.MustCompile(`grant user="((?:[^"\\]|\\.)*)"(\.\.\.)? iab=([^ ]*) from=("(?:[^"\\]|\\.)*"|default=)`)

// A user name that holds the audit line's own fields, quotes, controls,
// C1 and Unicode line separators, or 9 KB, gives one grant line that a
// parser following pam_gocap(8) reads back as exactly that user (the
// start of it, marked cut, for the long name) and the IAB granted, inside
// one syslog message, through the module in the host and through the
// helper in a forked child.
func TestAuditLineHostileNames(t *testing.T) {
	e := newEnv(t)
	conf := e.conf("c.conf", "cap_net_raw *\n")
	for i, name := range hostileUsers {
		for _, how := range []string{"host", "helper"} {
			t.Run(fmt.Sprintf("%d %s", i, how), func(t *testing.T) {
				svc := fmt.Sprintf("audit%d%s", i, how)
				e.service(svc, gocapModule(), "config="+conf)
				ops := []string{"setcred:establish", "caps"}
				if how == "helper" {
					ops = []string{"fork:1"}
				}
				lines := e.pamhost(svc, name, ops...)
				if got, _ := parseCaps(t, lines[len(lines)-1][strings.Index(lines[len(lines)-1], "caps"):]); got.Inh != capNetRaw {
					syslogMu.Lock()
					defer syslogMu.Unlock()
					t.Fatalf("not granted: %q\n%s", lines, strings.Join(syslog, "\n"))
				}
				prefix := "pam_gocap(" + svc + ":setcred): grant "
				logged := logsContaining(t, prefix)
				if len(logged) != 1 {
					t.Fatalf("grant lines: %q, want one", logged)
				}
				line := logged[0]
				if len(line) > 8192 {
					t.Fatalf("the syslog message is %d bytes, past rsyslog's 8 KiB", len(line))
				}
				fields, rest, err := parseAudit(line[strings.Index(line, prefix)+len(prefix):])
				if err != nil {
					t.Fatalf("%q: %v", line, err)
				}
				var keys []string
				for _, f := range fields {
					keys = append(keys, f.key)
				}
				if strings.Join(keys, " ") != "user iab from" || rest != "" {
					t.Fatalf("fields %q then %q in %q", keys, rest, line)
				}
				user, iab, from := fields[0], fields[1], fields[2]
				wantCut := len(name) > 256
				switch {
				case user.cut != wantCut:
					t.Fatalf("user cut %v, want %v: %q", user.cut, wantCut, line)
				case !wantCut && user.value != name, wantCut && (len(user.value) != 256 || !strings.HasPrefix(name, user.value)):
					t.Fatalf("user reads back as %q, want %q", user.value, name)
				case iab.value != "cap_net_raw" || iab.cut:
					t.Fatalf("iab reads back as %q", iab.value)
				case from.value != conf+":1" || from.cut:
					t.Fatalf("from reads back as %q", from.value)
				}
				if m := documentedAudit.FindStringSubmatch(line); m == nil || m[3] != "cap_net_raw" || (m[2] != "") != wantCut {
					t.Fatalf("pam_gocap(8)'s expression reads %q from %q", m, line)
				}
			})
		}
	}
}
