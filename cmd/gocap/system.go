package main

import (
	"errors"
	"fmt"
	"os"
	"path"
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

// fileCaps are a file's capabilities, as trace's report has them, and
// as libcap writes them (Text).
type fileCaps struct {
	report.FileCaps
	Text string
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
	if root := nsRoot(set); root != 0 {
		return fileCaps{Text: fmt.Sprintf("%s for the user namespace whose root is uid %d (rootid=%d), none in this one", set.String(), root, root)}, nil
	}
	return fileCaps{vectors(set), set.String()}, nil
}

// nsRoot is the root uid of the user namespace a file's capabilities were
// set for (revision 3, "rootid"), 0 when they are this namespace's: the
// kernel gives them as revision 2 to a reader in the namespace whose root
// they name. Others' are ignored at exec here.
func nsRoot(set *cap.Set) int {
	root, err := set.GetNSOwner()
	if err != nil {
		return 0
	}
	return root
}

// vectors are the sets of a file's capabilities that libcap read.
func vectors(set *cap.Set) report.FileCaps {
	var f report.FileCaps
	for v := cap.Value(0); v < 64; v++ {
		if on, _ := set.GetFlag(cap.Permitted, v); on {
			f.Permitted |= 1 << v
		}
		if on, _ := set.GetFlag(cap.Inheritable, v); on {
			f.Inheritable |= 1 << v
		}
		if on, _ := set.GetFlag(cap.Effective, v); on {
			f.Effective = true
		}
	}
	return f
}

func (osSystem) IsRegularFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// programFiles reads what gocap trace's report needs of the programs the
// command ran. Their paths are the traced user's to change, so each is
// opened as root can safely open such a path: never through a symlink,
// never waiting on a FIFO or a device (a file is opened with O_PATH, which
// opens nothing, and reopened for reading only once it is a regular file),
// and read only when it is a regular file.
type programFiles struct{}

// maxExecName is the longest exec'd name a trace record holds whole (the
// BPF method keeps 255 bytes): a name that long may have been cut.
const maxExecName = 255

// walkPath opens the file at the absolute path p with O_PATH, one
// component at a time with O_NOFOLLOW, so that no symlink is followed
// unawares. With trusted, a symlink is followed only when root owns it
// and, as every directory on the way, a directory that only root can
// write holds it, and the file and each directory must be root's and
// writable by nobody else: a path the traced user cannot change, so that
// it names tomorrow the file it names now. It gives the O_PATH descriptor
// of the file and its path with no symlink in it; without trusted, any
// symlink is an error. It refuses paths under /proc, /dev and /sys (the
// magic links of /proc would name gocap's own files).
func walkPath(p string, trusted bool) (int, string, error) {
	if !strings.HasPrefix(p, "/") {
		return -1, "", errors.New("the path is relative to the directory the process that ran it was in, which the trace does not tell")
	}
	for hops := 0; ; hops++ {
		if hops > 40 {
			return -1, "", errors.New("too many symlinks")
		}
		p = path.Clean(p)
		for _, pseudo := range []string{"/proc", "/dev", "/sys"} {
			if p == pseudo || strings.HasPrefix(p, pseudo+"/") {
				return -1, "", fmt.Errorf("the path is under %s: it names no file of its own that setcap could act on", pseudo)
			}
		}
		fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, "", err
		}
		parts := strings.Split(p[1:], "/")
		next := ""
		for i, name := range parts {
			where := "/" + strings.Join(parts[:i+1], "/")
			var st unix.Stat_t
			if err := unix.Fstat(fd, &st); err != nil {
				unix.Close(fd)
				return -1, "", err
			}
			if trusted {
				if err := rootOnly(&st, "/"+strings.Join(parts[:i], "/")); err != nil {
					unix.Close(fd)
					return -1, "", err
				}
			}
			nfd, err := unix.Openat(fd, name, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			unix.Close(fd)
			if err != nil {
				return -1, "", fmt.Errorf("%s: %w", where, err)
			}
			fd = nfd
			if err := unix.Fstat(fd, &st); err != nil {
				unix.Close(fd)
				return -1, "", err
			}
			switch st.Mode & unix.S_IFMT {
			case unix.S_IFLNK:
				if !trusted {
					unix.Close(fd)
					return -1, "", fmt.Errorf("%s is a symlink", where)
				}
				if st.Uid != 0 {
					unix.Close(fd)
					return -1, "", fmt.Errorf("%s is a symlink of uid %d, who can point it elsewhere", where, st.Uid)
				}
				buf := make([]byte, unix.PathMax)
				n, err := unix.Readlinkat(fd, "", buf)
				unix.Close(fd)
				if err != nil {
					return -1, "", fmt.Errorf("%s: %w", where, err)
				}
				target := string(buf[:n])
				if !strings.HasPrefix(target, "/") {
					target = "/" + strings.Join(parts[:i], "/") + "/" + target
				}
				next = target + "/" + strings.Join(parts[i+1:], "/")
			case unix.S_IFDIR:
				if i == len(parts)-1 {
					unix.Close(fd)
					return -1, "", fmt.Errorf("%s is a directory", where)
				}
			case unix.S_IFREG:
				if i != len(parts)-1 {
					unix.Close(fd)
					return -1, "", fmt.Errorf("%s: not a directory", where)
				}
				if trusted {
					if err := rootOnly(&st, where); err != nil {
						unix.Close(fd)
						return -1, "", err
					}
				}
				var fs unix.Statfs_t
				if err := unix.Fstatfs(fd, &fs); err != nil || fs.Type == unix.PROC_SUPER_MAGIC || fs.Type == unix.SYSFS_MAGIC {
					unix.Close(fd)
					return -1, "", fmt.Errorf("%s is not a file on a disk's file system", where)
				}
				return fd, p, nil
			default:
				unix.Close(fd)
				return -1, "", fmt.Errorf("%s is not a regular file", where)
			}
			if next != "" {
				break
			}
		}
		if next == "" {
			return -1, "", errors.New("no file")
		}
		p = next
	}
}

// rootOnly says what is wrong when a file or directory is not root's, or
// is writable by its group or by others: then someone else can change
// it, or replace what it holds.
func rootOnly(st *unix.Stat_t, where string) error {
	if st.Uid != 0 {
		return fmt.Errorf("%s belongs to uid %d, who can replace it", where, st.Uid)
	}
	if st.Mode&0o022 != 0 {
		return fmt.Errorf("%s is writable by its group or by others (mode %04o), who can replace what it holds", where, st.Mode&0o7777)
	}
	return nil
}

// openProgram opens path for reading as a user's file, and only a regular
// file: opened with O_PATH through no symlink, and reopened for reading
// through /proc/self/fd only when it is a regular file, so that no FIFO
// and no device is ever opened.
func openProgram(path string) (int, error) {
	pfd, _, err := walkPath(path, false)
	if err != nil {
		return -1, err
	}
	defer unix.Close(pfd)
	return unix.Open("/proc/self/fd/"+strconv.Itoa(pfd), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
}

func (programFiles) Caps(path string) (report.FileCaps, error) {
	fd, err := openProgram(path)
	if err != nil {
		return report.FileCaps{}, err
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	set, err := cap.GetFd(f)
	if errors.Is(err, syscall.ENODATA) {
		return report.FileCaps{}, nil
	}
	if err != nil {
		return report.FileCaps{}, err
	}
	if root := nsRoot(set); root != 0 {
		// setcap would replace them with capabilities of this namespace.
		return report.FileCaps{}, fmt.Errorf("they are set for the user namespace whose root is uid %d (rootid=%d)", root, root)
	}
	return vectors(set), nil
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

// Resolve gives the file that a path a task exec'd names, with root's
// symlinks followed, when it is provably that file and only root can
// change it; otherwise the path as it is and why setcap should not name
// it. Nothing is taken relative to gocap's own directory or process.
func (programFiles) Resolve(p string) (string, string) {
	if !strings.Contains(p, "/") {
		return p, "the program is known by its command name only, not by a path"
	}
	if len(p) >= maxExecName {
		return p, fmt.Sprintf("the path is %d bytes or longer, as long as a trace record holds, so it may have been cut", maxExecName)
	}
	fd, real, err := walkPath(p, true)
	if err != nil {
		return p, "it is not provably the file that ran, one that only root can change: " + err.Error()
	}
	unix.Close(fd)
	return real, ""
}
