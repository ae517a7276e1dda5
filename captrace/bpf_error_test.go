package captrace

import (
	"fmt"
	"testing"

	"golang.org/x/sys/unix"
)

// A refused BPF call is one line that says so, whatever the library
// wrapped around it; other errors are left as they are.
func TestBPFError(t *testing.T) {
	for _, tc := range []struct {
		in   error
		want string
	}{
		{fmt.Errorf("creating map: map create: %w (MEMLOCK may be too low, consider rlimit.RemoveMemlock)", unix.EPERM),
			"BPF refused: operation not permitted (needs root, or CAP_BPF and CAP_PERFMON; a lockdown or seccomp may forbid it)"},
		{fmt.Errorf("attaching to sched/sched_process_exec: %w", unix.EPERM),
			"BPF refused: operation not permitted (needs root, or CAP_BPF and CAP_PERFMON; a lockdown or seccomp may forbid it)"},
		{fmt.Errorf("loading: %w", unix.EINVAL), "loading: invalid argument"},
	} {
		if got := bpfError(tc.in).Error(); got != tc.want {
			t.Errorf("bpfError(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
