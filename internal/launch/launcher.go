package launch

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"pam_gocap/captrace"
	"pam_gocap/internal/quote"
)

// Main is the launcher, the traced process before it execs: CREDENTIALS
// marker|nomarker DIR|- -- PATH ARGV0 ARGS...; fd 3 says go, fd 4 is told
// when it is ready, fd 5 is the trace's marker. It returns only when the
// command could not be run.
func Main(argv []string, stderr io.Writer) int {
	if len(argv) < 6 || argv[3] != "--" {
		fmt.Fprintln(stderr, "gocap: "+Command+" is gocap trace's own")
		return 2
	}
	spec, marker, dir, path, args := argv[0], argv[1], argv[2], argv[4], argv[5:]
	if spec != "caller" {
		s, err := decodeCredentials(spec)
		if err == nil {
			err = becomeUser(s)
		}
		if err != nil {
			fmt.Fprintf(stderr, "gocap trace: %v\n", err)
			return ExitFailed
		}
	}
	// As the user, as login does: a home the user cannot enter is the
	// user's business, and the command starts in / then.
	if dir != "-" {
		if err := os.Chdir(dir); err != nil {
			fmt.Fprintf(stderr, "gocap trace: warning: %s, starting in /\n", quote.Terminal(err.Error()))
			if err := os.Chdir("/"); err != nil {
				fmt.Fprintf(stderr, "gocap trace: %v\n", err)
				return ExitFailed
			}
		}
	}
	if marker == "marker" {
		if _, err := unix.Write(5, []byte(captrace.SeedMarker(os.Getpid()))); err != nil {
			fmt.Fprintf(stderr, "gocap trace: marker: %v\n", err)
			return ExitFailed
		}
		unix.Close(5)
	}
	// What the exec needs is made now, before the trace is armed.
	pathp, err1 := syscall.BytePtrFromString(path)
	argp, err2 := syscall.SlicePtrFromStrings(args)
	envp, err3 := syscall.SlicePtrFromStrings(os.Environ())
	if err := errors.Join(err1, err2, err3); err != nil {
		fmt.Fprintf(stderr, "gocap trace: %s: %v\n", quote.Terminal(path), err)
		return ExitCannotRun
	}
	if err := restoreNofile(); err != nil {
		fmt.Fprintf(stderr, "gocap trace: the limit on open files: %v\n", err)
		return ExitFailed
	}
	// Nothing of root's but what gocap gives: a descriptor root's shell
	// or gocap's caller left open (a file of root's, a socket) is closed
	// at the exec, as sudo's closefrom does. Those the launcher still
	// needs, 3 and 4, stay open until then.
	if err := closeOnExecFrom(3); err != nil {
		fmt.Fprintf(stderr, "gocap trace: closing inherited files: %v\n", err)
		return ExitFailed
	}
	if errno := readyWaitExec(pathp, &argp[0], &envp[0]); errno != 0 {
		fmt.Fprintf(stderr, "gocap trace: %s: %v\n", quote.Terminal(path), errno)
		return ExitCannotRun
	}
	return ExitFailed // the trace was not armed
}

// closeRangeCloexec is linux/close_range.h's CLOSE_RANGE_CLOEXEC, which
// golang.org/x/sys does not name.
const closeRangeCloexec = 1 << 2

// closeOnExecFrom marks every descriptor from low up close-on-exec:
// close_range(2) with CLOSE_RANGE_CLOEXEC (Linux 5.11), or each one
// listed in /proc/self/fd where the kernel lacks it.
func closeOnExecFrom(low int) error {
	err := unix.CloseRange(uint(low), ^uint(0), closeRangeCloexec)
	if err != unix.ENOSYS && err != unix.EINVAL {
		return err
	}
	return closeOnExecListed(low)
}

// closeOnExecListed is closeOnExecFrom without close_range(2).
func closeOnExecListed(low int) error {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(-1)
	d.Close() // its own descriptor is close-on-exec already
	if err != nil {
		return err
	}
	for _, name := range names {
		fd, err := strconv.Atoi(name)
		if err != nil || fd < low {
			continue
		}
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_SETFD, unix.FD_CLOEXEC); err != nil && err != unix.EBADF {
			return err
		}
	}
	return nil
}

// readyWaitExec says ready on fd 4, waits for the go-ahead on fd 3 and
// execs. The trace is armed in that wait, on this thread, so from the
// first system call to the exec nothing else may run here: the runtime's
// own requests (a new thread's stack, a larger heap) would be counted as
// the command's. So the calls are raw (the scheduler never learns of
// them), the arguments were made beforehand, and the function cannot grow
// its stack. It returns 0 when the go-ahead did not come, else why the
// exec failed.
//
//go:nosplit
func readyWaitExec(path *byte, argv, envp **byte) syscall.Errno {
	b := [1]byte{'r'}
	syscall.RawSyscall(syscall.SYS_WRITE, 4, uintptr(unsafe.Pointer(&b[0])), 1)
	syscall.RawSyscall(syscall.SYS_CLOSE, 4, 0, 0)
	if n, _, _ := syscall.RawSyscall(syscall.SYS_READ, 3, uintptr(unsafe.Pointer(&b[0])), 1); n != 1 {
		return 0
	}
	_, _, errno := syscall.RawSyscall(syscall.SYS_EXECVE, uintptr(unsafe.Pointer(path)),
		uintptr(unsafe.Pointer(argv)), uintptr(unsafe.Pointer(envp)))
	return errno
}

// becomeUser does what a login does between pam_setcred and the user's
// shell, on this thread (the one that execs): the session's Inheritable
// set and Bounding drops, the user's groups and ids, then the Ambient set,
// which only survives the switch because keepcaps is set for it.
func becomeUser(s *Spec) error {
	for bit := 0; bit < 64; bit++ {
		if s.BoundDrop&(1<<bit) != 0 {
			if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(bit), 0, 0, 0); err != nil {
				return fmt.Errorf("dropping capability %d from the Bounding set: %w", bit, err)
			}
		}
	}
	if err := setInheritable(s.Inh); err != nil {
		return err
	}
	if s.Amb != 0 {
		if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
			return err
		}
	}
	if err := syscall.Setgroups(s.Groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setgid(s.GID); err != nil {
		return fmt.Errorf("setgid: %w", err)
	}
	if err := syscall.Setuid(s.UID); err != nil {
		return fmt.Errorf("setuid: %w", err)
	}
	for bit := 0; bit < 64; bit++ {
		if s.Amb&(1<<bit) != 0 {
			if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(bit), 0, 0); err != nil {
				return fmt.Errorf("raising capability %d in the Ambient set: %w", bit, err)
			}
		}
	}
	return nil
}

// setInheritable sets this thread's Inheritable set, keeping the rest.
func setInheritable(inh uint64) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	data[0].Inheritable, data[1].Inheritable = uint32(inh), uint32(inh>>32)
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("setting the Inheritable set: %w", err)
	}
	return nil
}
