package capconf

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"

	"kernel.org/pub/linux/libs/security/libcap/cap"
)

// sprintf and errorf give what fmt gives for the verbs and types this
// package uses.
func TestFormatLikeFmt(t *testing.T) {
	err := errors.New("boom")
	for _, tc := range []struct {
		format string
		args   []any
	}{
		{"%s:%d:%d: %s", []any{"f.conf", 3, 14, "msg"}},
		{"unknown capability %q (did you mean %s?)", []any{"cap_net_rw\x00\"é", "cap_net_raw"}},
		{"answer %d %d %x %x %x %d\n", []any{1, 2, uint64(0x2000), uint64(0), uint64(1 << 40), 0}},
		{"%v; nothing granted to user %q, not even default=", []any{err, "alice"}},
		{"applying IAB %q for user %q", []any{IAB{Inh: 1 << 13}, "bob"}},
		{"100%% %s", []any{"sure"}},
	} {
		if got, want := sprintf(tc.format, tc.args...), fmt.Sprintf(tc.format, tc.args...); got != want {
			t.Errorf("sprintf(%q) = %q, fmt says %q", tc.format, got, want)
		}
	}
	e := errorf("%s: %s: %w", "/etc/x", "world-writable", ErrRefused)
	if e.Error() != "/etc/x: world-writable: refused" || !errors.Is(e, ErrRefused) || errors.Is(e, fs.ErrNotExist) {
		t.Errorf("errorf: %q, Is(ErrRefused) %v", e, errors.Is(e, ErrRefused))
	}
}

// The module's own table of names is libcap's.
func TestCapNamesAreLibcaps(t *testing.T) {
	if len(capNames) != int(cap.NamedCount) {
		t.Errorf("%d names here, libcap has %d", len(capNames), cap.NamedCount)
	}
	for c := cap.Value(0); c < 64; c++ {
		if got, want := CapName(uint(c)), c.String(); got != want {
			t.Errorf("capability %d: %q here, %q in libcap", c, got, want)
		}
	}
}
