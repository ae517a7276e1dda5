package capconf

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestQuoteField(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "alice", `"alice"`},
		{"spaces and equals signs", "evil user=alice iab=cap_sys_admin", `"evil user=alice iab=cap_sys_admin"`},
		{"quote and backslash", `a"b\c`, `"a\"b\\c"`},
		{"ASCII controls", "a\nb\r\x00\x1b\x7f", `"a\x0ab\x0d\x00\x1b\x7f"`},
		{"C1 controls", "a\u0085b\u009bc", `"a\u0085b\u009bc"`},
		{"line and paragraph separators", "a\u2028b\u2029c", `"a\u2028b\u2029c"`},
		{"a bidi override and a zero-width space", "a\u202eb\u200bc", `"a\u202eb\u200bc"`},
		{"not UTF-8", "a\xffb\xc2", `"a\xffb\xc2"`},
		{"printable non-ASCII kept", "jürgen", `"jürgen"`},
		{"a format character past U+FFFF", "a\U000e0001", `"a\U000e0001"`},
		{"cut at the limit", strings.Repeat("x", 300), `"` + strings.Repeat("x", 256) + `"...`},
		{"cut on a character boundary", strings.Repeat("x", 255) + "ü", `"` + strings.Repeat("x", 255) + `"...`},
		{"exactly the limit", strings.Repeat("x", 256), `"` + strings.Repeat("x", 256) + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quoteField(tt.in, maxAuditUser); got != tt.want {
				t.Fatalf("quoteField(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// The exploit of issue 22: a user name that holds the audit line's own
// fields. The line must still hold three fields, and the first user= must
// read back as the whole name.
func TestAuditTextHostileName(t *testing.T) {
	name := `evil user=alice iab=cap_sys_admin from="/etc/security/capability.conf:9"` + "\n\u2028x"
	got := auditText(name, "cap_net_raw", "/etc/security/capability.conf:1")
	want := `user="evil user=alice iab=cap_sys_admin from=\"/etc/security/capability.conf:9\"\x0a\u2028x" iab=cap_net_raw from="/etc/security/capability.conf:1"`
	if got != want {
		t.Fatalf("auditText = %s\nwant       %s", got, want)
	}
}

// Whatever the name, the quoted field reads back (with Go's own string
// syntax) as the name, or the start of it when cut, and holds nothing
// that could end a line or the field early.
func FuzzQuoteField(f *testing.F) {
	for _, s := range []string{"alice", "a\"b\\c\n", "\u2028\u0085\xff", strings.Repeat("é", 200)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := quoteField(s, maxAuditUser)
		body, cut := strings.CutSuffix(q, "...")
		got, err := strconv.Unquote(body)
		switch {
		case err != nil:
			t.Fatalf("quoteField(%q) = %s: %v", s, q, err)
		case cut != (len(s) > maxAuditUser):
			t.Fatalf("quoteField(%q) = %s: cut %v for %d bytes", s, q, cut, len(s))
		case cut && (!strings.HasPrefix(s, got) || len(got) > maxAuditUser || len(got) < maxAuditUser-utf8.UTFMax):
			t.Fatalf("quoteField(%q) = %s: %q is not the first %d bytes", s, q, got, maxAuditUser)
		case !cut && got != s:
			t.Fatalf("quoteField(%q) reads back as %q", s, got)
		case len(q) > 4*maxAuditUser+5:
			t.Fatalf("quoteField(%q): %d bytes", s, len(q))
		}
		inside := body[1 : len(body)-1]
		if strings.ContainsAny(inside, "\n\r\x00\u2028\u2029\u0085") {
			t.Fatalf("quoteField(%q) = %s: a line break inside", s, q)
		}
		for i := 0; i < len(inside); i++ {
			switch inside[i] {
			case '\\':
				i++
			case '"':
				t.Fatalf("quoteField(%q) = %s: a quote inside", s, q)
			}
		}
	})
}
