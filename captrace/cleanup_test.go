package captrace

import (
	"os"
	"path/filepath"
	"testing"
)

// Cleanup removes only a gocap instance of this pid namespace in a tracefs
// it knows: anything else is refused before it waits, and left in place.
func TestCleanupRefuses(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "instances", instanceName(os.Getpid()))
	if err := os.MkdirAll(victim, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		nil,
		{dir, instanceName(os.Getpid())},        // not a tracefs
		{"/sys/kernel/tracing", "../../../tmp"}, // not an instance name
		{"/sys/kernel/tracing", "gocap-trace-1-1"},                 // another pid namespace's
		{"/proc/self/fd/3", instanceName(os.Getpid()) + "/../x"},   // a path
		{"/sys/kernel/tracing", instanceName(os.Getpid()), "more"}, // too many
	} {
		if got := Cleanup(args); got != 2 {
			t.Errorf("Cleanup(%q) = %d, want 2", args, got)
		}
	}
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("the directory went: %v", err)
	}
}
