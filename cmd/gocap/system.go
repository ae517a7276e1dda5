package main

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
	"kernel.org/pub/linux/libs/security/libcap/cap"

	"pam_gocap/capconf"
	"pam_gocap/captrace/report"
	"pam_gocap/internal/nss"
)

// system is what gocap asks of the machine; tests give a fake one.
type system interface {
	capconf.System
	// UserID gives a user's uid and primary gid.
	UserID(name string) (uid, gid string, err error)
	// Bounding is this process's Bounding set: what a login can hand out.
	Bounding() uint64
	// FileCaps gives the file capabilities of a program: permitted,
	// inheritable, and whether it has the effective bit.
	FileCaps(path string) (fileCaps, error)
	// IsRegularFile reports whether path is a regular file (following
	// symlinks).
	IsRegularFile(path string) bool
	// MainFileWarnings says what is wrong, though the module reads it,
	// with the main rules file checked as id.
	MainFileWarnings(id capconf.FileID) []string
	// PathWarnings says what is wrong, though the module reads path, with
	// the directories on its resolved path.
	PathWarnings(path, readBy string) []string
}

type fileCaps struct {
	Text                 string
	Permitted, Inherited uint64
	Effective            bool
}

type osSystem struct{ nss.OS }

func (osSystem) UserID(name string) (string, string, error) {
	u, err := nss.LookupUser(name)
	if err != nil {
		return "", "", err
	}
	return strconv.FormatUint(uint64(u.UID), 10), strconv.FormatUint(uint64(u.GID), 10), nil
}

func (osSystem) Bounding() uint64 {
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			b, _ := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return b
		}
	}
	return 0
}

func (osSystem) FileCaps(path string) (fileCaps, error) {
	set, err := cap.GetFile(path)
	if errors.Is(err, syscall.ENODATA) {
		if _, err := os.Stat(path); err != nil {
			return fileCaps{}, err
		}
		return fileCaps{Text: "no file capabilities"}, nil
	}
	if err != nil {
		return fileCaps{}, err
	}
	fc := fileCaps{Text: set.String()}
	for v := cap.Value(0); v < 64; v++ {
		if on, _ := set.GetFlag(cap.Permitted, v); on {
			fc.Permitted |= 1 << v
		}
		if on, _ := set.GetFlag(cap.Inheritable, v); on {
			fc.Inherited |= 1 << v
		}
		if on, _ := set.GetFlag(cap.Effective, v); on {
			fc.Effective = true
		}
	}
	return fc, nil
}

func (osSystem) IsRegularFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// programFiles reads what gocap trace's report needs of the programs the
// command ran. Their paths are the traced user's to change, so each is
// opened as root can safely open such a path: never through a symlink,
// never waiting on a FIFO or a device, and read only when it is a
// regular file.
type programFiles struct{}

// openProgram opens path for reading as a user's file, and only a regular
// file.
func openProgram(path string) (int, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return -1, errors.New("not a regular file")
	}
	return fd, nil
}

func (programFiles) Caps(path string) (report.FileCaps, error) {
	fd, err := openProgram(path)
	if err != nil {
		return report.FileCaps{}, err
	}
	defer unix.Close(fd)
	buf := make([]byte, 64)
	n, err := unix.Fgetxattr(fd, "security.capability", buf)
	if errors.Is(err, unix.ENODATA) {
		return report.FileCaps{}, nil
	}
	if err != nil {
		return report.FileCaps{}, err
	}
	return report.ParseFileCaps(buf[:n])
}

func (programFiles) Interpreter(path string) string {
	fd, err := openProgram(path)
	if err != nil {
		return ""
	}
	defer unix.Close(fd)
	buf := make([]byte, 256)
	n, _ := unix.Pread(fd, buf, 0)
	line, _, _ := strings.Cut(string(buf[:max(n, 0)]), "\n")
	rest, ok := strings.CutPrefix(line, "#!")
	if !ok {
		return ""
	}
	if f := strings.Fields(rest); len(f) > 0 {
		// "#!/usr/bin/env python3" runs python3.
		if filepath.Base(f[0]) == "env" && len(f) > 1 && !strings.HasPrefix(f[1], "-") {
			return f[1]
		}
		return f[0]
	}
	return "#!"
}

func (programFiles) Resolve(p string) string {
	if !strings.Contains(p, "/") {
		return p // a comm: the task never exec'd while traced
	}
	if abs, err := filepath.Abs(p); err == nil {
		p = abs
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	return p
}
