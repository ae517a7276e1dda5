package capconf

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func groupsOf(names ...string) Groups {
	return func() ([]string, error) { return names, nil }
}

func TestFindRule(t *testing.T) {
	tests := []struct {
		name, conf, user string
		groups           []string
		wantLine         int // 0: no rule
		wantCaps         string
	}{
		{"exact user", "cap_net_raw alice\n", "alice", nil, 1, "cap_net_raw"},
		{"other user", "cap_net_raw alice\n", "bob", nil, 0, ""},
		{"wildcard", "cap_chown *\n", "bob", nil, 1, "cap_chown"},
		{"group", "cap_net_raw @netops\n", "bob", []string{"bob", "netops"}, 1, "cap_net_raw"},
		{"group needs @ (CVE-2025-1390)", "cap_net_raw netops\n", "bob", []string{"netops"}, 0, ""},
		{"@ token is not a user", "cap_net_raw @bob\n", "bob", []string{"users"}, 0, ""},
		{"first match wins", "cap_chown bob\ncap_net_raw *\n", "bob", nil, 1, "cap_chown"},
		{"later tokens", "cap_chown carol  dave\tbob\n", "bob", nil, 1, "cap_chown"},
		{"comments and blanks", "# cap_chown bob\n\n   \n\t#x\ncap_net_raw bob\n", "bob", nil, 5, "cap_net_raw"},
		{"hash inside a line is a token", "cap_chown carol #bob\n", "bob", nil, 0, ""},
		{"CRLF line ends", "cap_chown alice\r\ncap_net_raw bob\r\n", "bob", nil, 2, "cap_net_raw"},
		{"no final newline", "cap_net_raw bob", "bob", nil, 1, "cap_net_raw"},
		{"caps field alone", "cap_net_raw\ncap_chown bob\n", "bob", nil, 2, "cap_chown"},
		{"user prefix is not user", "cap_chown bobby\n", "bob", nil, 0, ""},
		{"empty file", "", "bob", nil, 0, ""},
		// Lines that cannot name the user are passed over unsplit.
		{"passed-over lines keep their numbers", "cap_chown carol\ncap_chown dave\ncap_net_raw bob\n", "bob", nil, 3, "cap_net_raw"},
		{"user in the caps field only", "bob carol\n", "bob", nil, 0, ""},
		{"star inside a token", "cap_chown carol*\n", "bob", nil, 0, ""},
		{"user inside a longer token", "cap_chown xbobx\ncap_net_raw bob\n", "bob", nil, 2, "cap_net_raw"},
		{"empty user", "cap_chown carol\n", "", nil, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rule, err := FindRule("capability.conf", strings.NewReader(tt.conf), tt.user, groupsOf(tt.groups...))
			if err != nil {
				t.Fatalf("FindRule: %v", err)
			}
			if tt.wantLine == 0 {
				if rule != nil {
					t.Fatalf("FindRule matched line %d, want no match", rule.Line)
				}
				return
			}
			if rule == nil || rule.Line != tt.wantLine || rule.Caps.Text != tt.wantCaps {
				t.Fatalf("FindRule = %+v, want line %d caps %q", rule, tt.wantLine, tt.wantCaps)
			}
		})
	}
}

func TestFindRuleLoadsGroupsOnlyForGroupTokens(t *testing.T) {
	calls := 0
	groups := func() ([]string, error) { calls++; return []string{"netops"}, nil }
	if _, err := FindRule("c", strings.NewReader("cap_chown alice\ncap_net_raw bob\n"), "bob", groups); err != nil {
		t.Fatal(err)
	}
	if calls != 0 {
		t.Fatalf("groups looked up %d times for a file with no @group, want 0", calls)
	}
	conf := "cap_chown @a\ncap_chown @b\ncap_net_raw @netops\n"
	if r, _ := FindRule("c", strings.NewReader(conf), "bob", groups); r == nil || r.Line != 3 || calls != 1 {
		t.Fatalf("got rule %+v after %d group look-ups, want line 3 after 1", r, calls)
	}
}

// A line the reader refuses stops the search: no later rule may grant in
// its place, since nobody can tell whom the refused line was for.
func TestFindRuleFailsClosed(t *testing.T) {
	long := "cap_chown " + strings.Repeat("x", MaxLineLength) + " bob\n"
	tests := []struct {
		name, conf, want string
	}{
		{"long line", long + "cap_net_raw *\n", fmt.Sprintf("capability.conf:1:1: line is longer than %d bytes; it is ignored and so is the rest of the file", MaxLineLength)},
		{"long line without newline", "cap_chown alice\n" + strings.Repeat("y", 3*MaxLineLength), fmt.Sprintf("capability.conf:2:1: line is longer than %d bytes; it is ignored and so is the rest of the file", MaxLineLength)},
		{"NUL byte", "cap_chown alice\ncap_chown bob\x00\ncap_net_raw *\n", "capability.conf:2:14: NUL byte in line; it is ignored and so is the rest of the file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rule, err := FindRule("capability.conf", strings.NewReader(tt.conf), "bob", groupsOf())
			var le *LineError
			if rule != nil || !errors.As(err, &le) || err.Error() != tt.want {
				t.Fatalf("FindRule = %+v, %v; want no rule and %q", rule, err, tt.want)
			}
		})
	}
	// The longest line allowed is still read whole.
	ok := "cap_chown " + strings.Repeat("x", MaxLineLength-len("cap_chown  bob")) + " bob\n"
	if r, err := FindRule("c", strings.NewReader(ok), "bob", groupsOf()); err != nil || r == nil {
		t.Fatalf("line of exactly MaxLineLength: %+v, %v; want a match", r, err)
	}
}

// render prints what Parse found, one line per fact, for golden files.
func render(rules []*Rule, crlf []int, errs []*LineError) string {
	var b strings.Builder
	for _, r := range rules {
		fmt.Fprintf(&b, "rule %d: %q@%d", r.Line, r.Caps.Text, r.Caps.Col)
		for _, w := range r.Who {
			fmt.Fprintf(&b, " %q@%d", w.Text, w.Col)
		}
		b.WriteByte('\n')
	}
	for _, l := range crlf {
		fmt.Fprintf(&b, "crlf %d\n", l)
	}
	for _, e := range errs {
		fmt.Fprintf(&b, "error %v\n", e)
	}
	return b.String()
}

func TestParseGolden(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.conf")
	if len(files) == 0 {
		t.Fatal("no testdata/*.conf")
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			f, err := os.Open(file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rules, crlf, errs, err := Parse(filepath.Base(file), f)
			if err != nil {
				t.Fatal(err)
			}
			got := render(rules, crlf, errs)
			golden := strings.TrimSuffix(file, ".conf") + ".golden"
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Fatalf("Parse(%s):\n%s\nwant:\n%s", file, got, want)
			}
		})
	}
}

// FuzzFindRule checks that the search agrees with a full Parse: the rule
// found is the first parsed rule naming the user, and a refused line is
// never passed over.
func FuzzFindRule(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.conf")
	for _, file := range files {
		// Small seeds only: the mutator works on every byte of a seed, and
		// the long-line file (70 KB) would take a run's whole time.
		if data, _ := os.ReadFile(file); len(data) < 4096 {
			f.Add(string(data), "alice")
		}
	}
	f.Add("cap_chown\t@wheel bob\r\n#\n", "bob")
	f.Add("none *\n\x00\n", "x")
	f.Fuzz(func(t *testing.T, conf, user string) {
		groups := []string{"wheel", "netops"}
		rule, err := FindRule("c", strings.NewReader(conf), user, groupsOf(groups...))
		// An independent reading: split the whole text, stop at the first
		// refused line.
		line, refused := splitFindRule(conf, user, groups)
		switch {
		case refused != (err != nil):
			t.Fatalf("FindRule error %v; the plain splitter refuses a line: %v", err, refused)
		case rule == nil && line != 0, rule != nil && rule.Line != line:
			t.Fatalf("FindRule = %+v; the plain splitter matches line %d", rule, line)
		}
		rules, _, errs, perr := Parse("c", strings.NewReader(conf))
		if perr != nil {
			t.Fatal(perr)
		}
		var want *Rule
		for _, r := range rules {
			if len(errs) > 0 && errs[0].Line < r.Line {
				break
			}
			if names(r, user, groups) {
				want = r
				break
			}
		}
		switch {
		case want != nil && (err != nil || rule == nil || rule.Line != want.Line):
			t.Fatalf("FindRule = %+v, %v; want line %d", rule, err, want.Line)
		case want == nil && rule != nil:
			t.Fatalf("FindRule matched line %d; Parse finds no rule before any error", rule.Line)
		case want == nil && len(errs) > 0 && err == nil:
			t.Fatalf("FindRule passed over refused line %d", errs[0].Line)
		}
	})
}

// splitFindRule finds the first line naming user the plainest way: split
// the text into lines and fields, skip blanks and comments, stop at a line
// over MaxLineLength or with a NUL. It returns the line number (0 for
// none) and whether a refused line stopped it.
func splitFindRule(conf, user string, groups []string) (int, bool) {
	lines := strings.Split(conf, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, l := range lines {
		l = strings.TrimSuffix(l, "\r")
		if len(l) > MaxLineLength || strings.IndexByte(l, 0) >= 0 {
			return 0, true
		}
		f := strings.FieldsFunc(l, func(r rune) bool { return r == ' ' || r == '\t' })
		if len(f) == 0 || f[0][0] == '#' {
			continue
		}
		if names(&Rule{Who: tokens(f[1:])}, user, groups) {
			return i + 1, false
		}
	}
	return 0, false
}

func tokens(words []string) []Token {
	var t []Token
	for _, w := range words {
		t = append(t, Token{Text: w})
	}
	return t
}

// names is the matching rule spelled out plainly, for the fuzz target.
func names(r *Rule, user string, groups []string) bool {
	for _, w := range r.Who {
		if w.Text == "*" || w.Text == user {
			return true
		}
		for _, g := range groups {
			if w.Text == "@"+g {
				return true
			}
		}
	}
	return false
}

func ExampleFindRule() {
	conf := `# who gets what
cap_net_raw       alice @netops
none              *
`
	rule, _ := FindRule("capability.conf", strings.NewReader(conf), "bob", groupsOf("bob", "netops"))
	fmt.Println(rule.Pos(), rule.Caps.Text)
	// Output: capability.conf:2 cap_net_raw
}

// BenchmarkFindRuleLongFile is make bench's 50,000-line row in Go alone:
// the rule for the user is the file's last line.
func BenchmarkFindRuleLongFile(b *testing.B) {
	var conf strings.Builder
	for i := 0; i < 49999; i++ {
		fmt.Fprintf(&conf, "cap_chown benchuser%d\n", i)
	}
	conf.WriteString("cap_net_raw root\n")
	text := conf.String()
	b.SetBytes(int64(len(text)))
	for i := 0; i < b.N; i++ {
		rule, err := FindRule("c", strings.NewReader(text), "root", groupsOf())
		if err != nil || rule == nil || rule.Line != 50000 {
			b.Fatalf("FindRule = %+v, %v; want line 50000", rule, err)
		}
	}
}
