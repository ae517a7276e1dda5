// Package opens tells a test whether anything opened a file: the checks
// that a refused drop-in, a FIFO or a device is never opened.
package opens

import (
	"testing"

	"golang.org/x/sys/unix"
)

// Watch reports, through the function it returns, whether anything
// opened path since the call: inotify tells of every open, of a FIFO or
// a device too.
func Watch(t testing.TB, path string) func() bool {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if _, err := unix.InotifyAddWatch(fd, path, unix.IN_OPEN); err != nil {
		t.Fatal(err)
	}
	return func() bool {
		n, err := unix.Read(fd, make([]byte, 4096))
		return err == nil && n > 0
	}
}
