package capconf

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// The reader reads into its own buffer, as bufio.Reader did: however the
// file's bytes arrive (one at a time, a few at a time, the last ones with
// io.EOF), lines that cross the buffer's end, lines longer than the buffer
// and lines over MaxLineLength read the same.
func TestReaderHowBytesArrive(t *testing.T) {
	var b strings.Builder
	for _, n := range []int{0, 1, 10, readBufferSize - 20, readBufferSize - 1, readBufferSize, readBufferSize + 1, 3 * readBufferSize, 100} {
		b.WriteString("cap_chown " + strings.Repeat("u", n) + " alice\r\n")
		b.WriteString("# comment\n\ncap_net_raw\t@netops  bob\n")
	}
	plain := b.String()
	for name, text := range map[string]string{
		"plain":             plain,
		"no newline at end": plain + "cap_kill carol",
		"line over limit":   plain + "cap_kill " + strings.Repeat("x", MaxLineLength) + " carol\ncap_kill dave\n",
		"NUL":               plain + "cap_kill \x00 carol\ncap_kill dave",
	} {
		rules, crlf, errs, err := Parse("f", strings.NewReader(text))
		if err != nil || len(rules) == 0 {
			t.Fatalf("%s: Parse: %d rules, %v", name, len(rules), err)
		}
		for how, r := range map[string]io.Reader{
			"one byte": iotest.OneByteReader(strings.NewReader(text)),
			"half":     iotest.HalfReader(strings.NewReader(text)),
			"data+EOF": iotest.DataErrReader(strings.NewReader(text)),
		} {
			r2, c2, e2, err2 := Parse("f", r)
			if err2 != nil || !reflect.DeepEqual(r2, rules) || !reflect.DeepEqual(c2, crlf) || !reflect.DeepEqual(e2, errs) {
				t.Errorf("%s, %s: Parse gives %d rules, CRLF %v, %v, %v; read whole: %d rules, CRLF %v, %v", name, how,
					len(r2), c2, e2, err2, len(rules), crlf, errs)
			}
		}
	}
}

// A read error ends the reading with that error; a reader that returns
// nothing, and no error, again and again ends it with io.ErrNoProgress.
func TestReaderErrors(t *testing.T) {
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("cap_chown alice\ncap_kill bo"), iotest.ErrReader(boom))
	rules, _, _, err := Parse("f", r)
	if err != boom || len(rules) != 1 {
		t.Errorf("Parse with a failing read: %d rules, %v; want 1 and boom", len(rules), err)
	}
	if _, err := FindRule("f", emptyReads{}, "alice", nil); err != io.ErrNoProgress {
		t.Errorf("FindRule with empty reads: %v, want io.ErrNoProgress", err)
	}
}

type emptyReads struct{}

func (emptyReads) Read([]byte) (int, error) { return 0, nil }
