package capconf

import (
	"io"
	"io/fs"
	"sort"
	"strings"
	"syscall"
)

// OS is the part of the running machine's System that needs no NSS: the
// rules file is read with plain system calls (no poller, nothing left
// behind in the host). Users and groups come from the C library's NSS,
// through internal/nss in the module, its helper and gocap alike; a
// System adds them to OS.
type OS struct{}

// UnknownUserError is the error of LookupUser for a name NSS does not
// know; its text is os/user's.
type UnknownUserError string

func (e UnknownUserError) Error() string { return "user: unknown user " + string(e) }

// OpenConfig opens path without blocking or taking a controlling terminal
// and refuses anything but a regular file that others cannot write, or the
// null device. The checks are made on the opened file, so a symlink cannot
// lead past them.
func (OS) OpenConfig(path string) (io.ReadCloser, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC|syscall.O_NOCTTY, 0)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		syscall.Close(fd)
		return nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if refusal := refuseConfig(st); refusal != "" {
		syscall.Close(fd)
		return nil, errorf("%s: %s: %w", path, refusal, ErrRefused)
	}
	return fdFile(fd), nil
}

// refuseConfig says why a file with this status is not read as rules, or
// "" if it is fine.
func refuseConfig(st syscall.Stat_t) string {
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		if st.Mode&0o002 != 0 {
			return "world-writable"
		}
		return ""
	case syscall.S_IFCHR:
		if isNullDevice(st.Rdev) {
			return ""
		}
		return "a device, not a regular file"
	case syscall.S_IFDIR:
		return "a directory, not a regular file"
	case syscall.S_IFIFO:
		return "a FIFO, not a regular file"
	case syscall.S_IFSOCK:
		return "a socket, not a regular file"
	}
	return "not a regular file"
}

// isNullDevice reports whether a device number is /dev/null's (1, 3).
func isNullDevice(rdev uint64) bool {
	major := (rdev>>8)&0xfff | (rdev>>32)&^0xfff
	minor := rdev&0xff | (rdev>>12)&^0xff
	return major == 1 && minor == 3
}

// CapBits asks the kernel how many capabilities it knows, as libcap's
// cap_max_bits does: the first capability PR_CAPBSET_READ refuses.
func (OS) CapBits() int {
	lo, hi := 0, 64 // PR_CAPBSET_READ accepts lo and refuses hi
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_CAPBSET_READ, uintptr(mid), 0); errno == 0 {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// DropIns lists dir's rules files: the names that end in ".conf" and do
// not start with "." (so never a hidden file, dpkg's "x.conf.dpkg-new" or
// an editor's "x.conf~"), in byte order of name, as paths. A missing
// directory has none. Anything but a directory, or one that others can
// write, is refused; the checks are made on the opened directory, so a
// symlink cannot lead past them. Read with plain system calls.
func (OS) DropIns(dir string) ([]string, error) {
	var fd int
	var err error
	for {
		fd, err = syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
		if err != syscall.EINTR {
			break
		}
	}
	switch {
	case err == syscall.ENOENT:
		return nil, nil
	case err == syscall.ENOTDIR:
		return nil, errorf("%s: not a directory: %w", dir, ErrRefused)
	case err != nil:
		return nil, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: dir, Err: err}
	}
	if st.Mode&0o002 != 0 {
		return nil, errorf("%s: world-writable: %w", dir, ErrRefused)
	}
	var names []string
	buf := make([]byte, 4096)
	for {
		n, err := syscall.ReadDirent(fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "readdirent", Path: dir, Err: err}
		}
		if n <= 0 {
			break
		}
		_, _, names = syscall.ParseDirent(buf[:n], -1, names)
	}
	var paths []string
	for _, name := range names {
		if strings.HasSuffix(name, ".conf") && !strings.HasPrefix(name, ".") {
			paths = append(paths, dir+"/"+name)
		}
	}
	sort.Strings(paths)
	return paths, nil
}

// fdFile reads a file descriptor with plain system calls.
type fdFile int

func (f fdFile) Read(p []byte) (int, error) {
	for {
		n, err := syscall.Read(int(f), p)
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return 0, err
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

func (f fdFile) Close() error { return syscall.Close(int(f)) }
