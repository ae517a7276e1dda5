package captrace

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// tracefs is the tracing filesystem, found mounted or mounted by us.
type tracefs struct {
	dir     string
	mount   int      // the fd of our own mount (-1: found mounted), closed at close
	cleanup *os.File // tells the process removeAtExit started that we are done
}

// The capability event and the two scheduler events that let a trace
// follow a process tree and name its programs.
const (
	capEvent  = "capability/cap_capable"
	forkEvent = "sched/sched_process_fork"
	execEvent = "sched/sched_process_exec"
	exitEvent = "sched/sched_process_exit"
)

// openTracefs finds tracefs mounted, or makes a mount of its own that is
// attached nowhere: fsmount gives a file descriptor for it, which this
// process alone holds and reaches its files through, in /proc/self/fd.
// No mount namespace, not even this process's, ever shows it, and the
// kernel lets it go with the last descriptor, when gocap ends or is
// killed, SIGKILL included. (Mounting on a directory, even a private one,
// would leave it mounted after a SIGKILL; and never on
// /sys/kernel/tracing, where another trace may find it and lose it.)
func openTracefs() (*tracefs, error) {
	for _, dir := range []string{"/sys/kernel/tracing", "/sys/kernel/debug/tracing"} {
		_, err := os.Stat(dir + "/events")
		if err == nil {
			return checkEvent(&tracefs{dir: dir, mount: -1})
		}
		if errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("reading %s needs root", dir)
		}
	}
	fd, err := mountDetached()
	switch {
	case errors.Is(err, unix.EPERM):
		return nil, errors.New("cannot mount tracefs: this needs root (CAP_SYS_ADMIN)")
	case errors.Is(err, unix.ENODEV):
		return nil, errors.New("this kernel has no tracefs (CONFIG_TRACING)")
	case err != nil:
		return nil, fmt.Errorf("cannot mount tracefs: %w", err)
	}
	return checkEvent(&tracefs{dir: fmt.Sprintf("/proc/self/fd/%d", fd), mount: fd})
}

// mountDetached makes a tracefs mount that is attached nowhere and
// returns its file descriptor.
func mountDetached() (int, error) {
	ctx, err := unix.Fsopen("tracefs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, err
	}
	defer unix.Close(ctx)
	if err := unix.FsconfigCreate(ctx); err != nil {
		return -1, err
	}
	return unix.Fsmount(ctx, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
}

func checkEvent(fs *tracefs) (*tracefs, error) {
	if _, err := os.Stat(filepath.Join(fs.dir, "events", capEvent)); err != nil {
		fs.close()
		if errors.Is(err, os.ErrPermission) {
			return nil, fmt.Errorf("cannot read %s: this needs root", fs.dir)
		}
		return nil, errors.New("this kernel has no capability:cap_capable trace event (Linux 6.14 added it)")
	}
	return fs, nil
}

// close lets go of the mount openTracefs made.
func (fs *tracefs) close() {
	if fs.cleanup != nil {
		fs.cleanup.Close()
		fs.cleanup = nil
	}
	if fs.mount >= 0 {
		unix.Close(fs.mount)
		fs.mount = -1
	}
}

// eventID is the number perf_event_open knows an event by.
func (fs *tracefs) eventID(event string) (uint64, error) {
	data, err := os.ReadFile(filepath.Join(fs.dir, "events", event, "id"))
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(data)), 10, 64)
}

// fieldOffsets reads where an event's fields are in its record, from its
// format file: they move between kernel versions.
func (fs *tracefs) fieldOffsets(event string) (map[string]int16, error) {
	f, err := os.Open(filepath.Join(fs.dir, "events", event, "format"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseFormat(f)
}

var formatField = regexp.MustCompile(`^\s*field:.*?(\w+)(\[\d*\])?;\s*offset:(\d+);`)

func parseFormat(f *os.File) (map[string]int16, error) {
	offsets := map[string]int16{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := formatField.FindStringSubmatch(sc.Text()); m != nil {
			off, err := strconv.ParseInt(m[3], 10, 16)
			if err != nil {
				return nil, fmt.Errorf("%s: offset %s", f.Name(), m[3])
			}
			offsets[m[1]] = int16(off)
		}
	}
	return offsets, sc.Err()
}

// instanceName names the tracefs instance a gocap makes by its pid and pid
// namespace, so that a later gocap in the same namespace can remove those
// whose maker died without cleaning up (SIGKILL).
func instanceName(pid int) string {
	return fmt.Sprintf("gocap-trace-%d-%d", pid, pidNamespace())
}

func pidNamespace() uint64 {
	var st syscall.Stat_t
	syscall.Stat("/proc/self/ns/pid", &st)
	return st.Ino
}

// removeStaleInstances removes instances made by gocap processes of this
// pid namespace that no longer run. One still in use cannot be removed
// (EBUSY), whoever made it.
func (fs *tracefs) removeStaleInstances() {
	entries, _ := os.ReadDir(filepath.Join(fs.dir, "instances"))
	for _, e := range entries {
		var pid int
		var ns uint64
		if n, _ := fmt.Sscanf(e.Name(), "gocap-trace-%d-%d", &pid, &ns); n != 2 || e.Name() != instanceName(pid) {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			os.Remove(filepath.Join(fs.dir, "instances", e.Name()))
		}
	}
}

// CleanupCommand is the hidden command by which the program that uses
// captrace runs Cleanup: a tracepoint trace starts the running executable
// with it, so that program's main must pass it on (gocap's does).
const CleanupCommand = "__trace-cleanup"

// removeAtExit starts a process that removes the instance name once this
// process is done with it, however it ends: one killed with SIGKILL
// cannot remove its instance, which would go on holding its buffers. The
// process is in a session of its own, out of reach of the signals a
// terminal sends gocap's process group. It is best effort: a later trace
// removes what a dead one left (removeStaleInstances).
func (fs *tracefs) removeAtExit(name string) {
	self, err := os.Executable()
	if err != nil {
		return
	}
	done, tell, err := os.Pipe()
	if err != nil {
		return
	}
	defer done.Close()
	cmd := exec.Command(self, CleanupCommand, fs.dir, name)
	cmd.Args[0] = "gocap"
	cmd.Stdin = done
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if fs.mount >= 0 {
		// Its own copy of our mount, as its fd 3, where fs.dir points.
		fd, err := unix.FcntlInt(uintptr(fs.mount), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			tell.Close()
			return
		}
		mount := os.NewFile(uintptr(fd), "tracefs")
		defer mount.Close()
		cmd.Args[2] = "/proc/self/fd/3"
		cmd.ExtraFiles = []*os.File{mount}
	}
	if err := cmd.Start(); err != nil {
		tell.Close()
		return
	}
	go cmd.Wait()
	fs.cleanup = tell
}

// Cleanup is the process removeAtExit starts: TRACEFS INSTANCE. It waits
// until standard input ends, when the tracing process is done or gone,
// and then removes the instance if it is there (trying for 5 s while the
// kernel still holds it).
func Cleanup(args []string) int {
	var pid int
	var ns uint64
	if len(args) != 2 || (args[0] != "/proc/self/fd/3" && args[0] != "/sys/kernel/tracing" && args[0] != "/sys/kernel/debug/tracing") {
		return 2
	}
	if n, _ := fmt.Sscanf(args[1], "gocap-trace-%d-%d", &pid, &ns); n != 2 || args[1] != instanceName(pid) {
		return 2
	}
	io.Copy(io.Discard, os.Stdin)
	dir := filepath.Join(args[0], "instances", args[1])
	for i := 0; i < 500; i++ { // EBUSY while the kernel lets go of it
		switch err := syscall.Rmdir(dir); err {
		case nil, syscall.ENOENT:
			return 0
		case syscall.EBUSY:
			time.Sleep(10 * time.Millisecond)
		default:
			return 1
		}
	}
	return 1
}
