package quote

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTerminal(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "/usr/bin/ping", "/usr/bin/ping"},
		{"space and quote", "/home/a b/it's", "/home/a b/it's"},
		{"UTF-8", "/home/zoë/✓", "/home/zoë/✓"},
		{"ESC", "/tmp/\x1b]0;owned\x07x", `/tmp/\x1b]0;owned\x07x`},
		{"newline and CR", "a\nb\rc", `a\x0ab\x0dc`},
		{"DEL", "a\x7f", `a\x7f`},
		{"C1 CSI as UTF-8", "a\u009b31m", `a\u009b31m`},
		{"C1 CSI as a byte", "a\x9b31m", `a\x9b31m`},
		{"not UTF-8", "\xff\xfe", `\xff\xfe`},
		{"bidi override", "evil\u202egnp.exe", `evil\u202egnp.exe`},
		{"line separator", "a\u2028b", `a\u2028b`},
		{"backslash", `a\x1b`, `a\\x1b`},
		{"NUL", "a\x00", `a\x00`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Terminal(tc.in); got != tc.want {
				t.Errorf("Terminal(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// Line escapes what Terminal does but the backslash: a line that quoted
// its names with %q keeps their escapes as they are.
func TestLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`/etc/x:1: user "al\x1bice" matched`, `/etc/x:1: user "al\x1bice" matched`},
		{"/etc/x\x1b[2J:1: user \"alice\"", `/etc/x\x1b[2J:1: user "alice"`},
		{"a\u202eb\xff\x9b", `a\u202eb\xff\x9b`},
	} {
		if got := Line(tc.in); got != tc.want {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestShell(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		ok             bool
	}{
		{"plain", "/usr/local/bin/rawprobe-plain", "/usr/local/bin/rawprobe-plain", true},
		{"capabilities", "cap_net_raw,cap_sys_admin=ie", "'cap_net_raw,cap_sys_admin=ie'", true},
		{"empty", "", "''", true},
		{"semicolon", "/home/u/x;chmod u+s /bin/bash;#/raw", "'/home/u/x;chmod u+s /bin/bash;#/raw'", true},
		{"single quote", "/home/u/it's", `'/home/u/it'\''s'`, true},
		{"dollar and backquote", "/tmp/$(id)`id`", "'/tmp/$(id)`id`'", true},
		{"tilde", "~root", "'~root'", true},
		{"backslash", `/tmp/a\b`, `'/tmp/a\b'`, true},
		{"UTF-8", "/home/zoë", "'/home/zoë'", true},
		{"ESC", "/tmp/\x1b[2J", "", false},
		{"newline", "/tmp/a\nrm -rf /", "", false},
		{"C1", "/tmp/\u009b", "", false},
		{"not UTF-8", "/tmp/\xff", "", false},
		{"bidi", "/tmp/\u202e", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Shell(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("Shell(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// Pasted into a real shell, every quoted word is exactly the word.
func TestShellRunsExactly(t *testing.T) {
	words := []string{"/home/u/x;chmod u+s /bin/bash;#/raw", "it's", `a\b\\c`, "$HOME", "`id`", "*", "a b", "-n", "\"", "!x", "#", "~", "x=y", "zoë"}
	checkInShell(t, words)
}

// checkInShell runs printf '%s\0' with each word quoted by Shell in sh and
// wants back exactly the words.
func checkInShell(t *testing.T, words []string) {
	t.Helper()
	line := `printf '%s\0'`
	for _, w := range words {
		q, ok := Shell(w)
		if !ok {
			t.Fatalf("Shell(%q) refused", w)
		}
		line += " " + q
	}
	out, err := exec.Command("sh", "-c", line).Output()
	if err != nil {
		t.Fatalf("sh -c %q: %v", line, err)
	}
	if got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00"); strings.Join(got, "\x00") != strings.Join(words, "\x00") {
		t.Errorf("sh -c %q gave %q, want %q", line, got, words)
	}
}

func TestWords(t *testing.T) {
	got := Words([]string{"sh", "-c", "echo hi; id", "\x1b[2J"})
	if want := `sh -c 'echo hi; id' \x1b[2J`; got != want {
		t.Errorf("Words = %q, want %q", got, want)
	}
}

func TestJSON(t *testing.T) {
	in := map[string]string{"p": "a\x1b\x7f\u009b\u0085zoë\u2028\u202e"}
	raw, _ := json.Marshal(in)
	safe := JSON(raw)
	for _, r := range string(safe) {
		if r < 0x20 || r == 0x7f || hidden(r) {
			t.Errorf("%q holds %U", safe, r)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(safe, &back); err != nil || back["p"] != in["p"] {
		t.Errorf("read back %q (%v) from %s, want %q", back["p"], err, safe, in["p"])
	}
}

// unescape reads Terminal's output back: \\, \xNN and \uNNNN.
func unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return "", fmt.Errorf("lone backslash at the end of %q", s)
		}
		switch s[i+1] {
		case '\\':
			b.WriteByte('\\')
			i++
		case 'x':
			n, err := strconv.ParseUint(s[i+2:i+4], 16, 8)
			if err != nil {
				return "", err
			}
			b.WriteByte(byte(n))
			i += 3
		case 'u':
			n, err := strconv.ParseUint(s[i+2:i+6], 16, 32)
			if err != nil {
				return "", err
			}
			b.WriteRune(rune(n))
			i += 5
		default:
			return "", fmt.Errorf("unknown escape in %q", s)
		}
	}
	return b.String(), nil
}

// Terminal's output never holds what acts on a terminal and reads back as
// its input; Shell's word, when given, holds nothing Terminal would change
// but backslashes, and sh reads it back as the input.
func FuzzQuote(f *testing.F) {
	for _, s := range []string{"/usr/bin/ping", "/home/u/x;chmod u+s /bin/bash;#/raw", "\x1b]0;x\x07", "it's", "a\\b", "\xff", "\u009b", "\u202e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		term := Terminal(s)
		if !utf8.ValidString(term) || !printable(term) {
			t.Fatalf("Terminal(%q) = %q, which a terminal acts on", s, term)
		}
		if back, err := unescape(term); err != nil || back != s {
			t.Fatalf("Terminal(%q) = %q reads back as %q (%v)", s, term, back, err)
		}
		if line := Line(s); !utf8.ValidString(line) || !printable(line) {
			t.Fatalf("Line(%q) = %q, which a terminal acts on", s, line)
		}
		q, ok := Shell(s)
		if ok != printable(s) {
			t.Fatalf("Shell(%q) ok=%v", s, ok)
		}
		if !ok {
			return
		}
		if !printable(q) {
			t.Fatalf("Shell(%q) = %q, which a terminal acts on", s, q)
		}
		checkInShell(t, []string{s})
	})
}
