package capconf

import (
	"io"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// OS is the part of the running machine's System that needs no NSS: the
// rules files are checked and read with plain system calls (no poller,
// nothing left behind in the host). Users and groups come from the C
// library's NSS, through internal/nss in the module, its helper and gocap
// alike; a System adds them to OS.
type OS struct {
	// Owner is the uid that must own the drop-in directory and its files,
	// and that gocap check expects to own the main file: 0, root, in the
	// module and the commands. Tests that do not run as root give their
	// own.
	Owner uint32
}

// PathError is an error of a system call on a file, worded as io/fs's
// PathError is: capconf does not link io/fs, which would bring the time
// package and its start-up work into every process that loads the module.
type PathError struct {
	Op, Path string
	Err      error
}

func (e *PathError) Error() string { return e.Op + " " + e.Path + ": " + e.Err.Error() }

// Unwrap returns the system call's error, a syscall.Errno.
func (e *PathError) Unwrap() error { return e.Err }

// UnknownUserError is the error of LookupUser for a name NSS does not
// know; its text is os/user's.
type UnknownUserError string

func (e UnknownUserError) Error() string { return "user: unknown user " + string(e) }

// FileID is what a check saw of a rules file: which file it is (device
// and inode), its type and mode, and its owner. A file read later is the
// one that was checked only if it has the same FileID.
type FileID struct {
	Dev, Ino uint64
	Mode     uint32 // type and permission bits, as st_mode
	UID, GID uint32
	Rdev     uint64 // for a device: which one
}

func fileID(st *syscall.Stat_t) FileID {
	return FileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino), Mode: uint32(st.Mode), UID: st.Uid, GID: st.Gid, Rdev: uint64(st.Rdev)}
}

// dropInRule is why the drop-in checks exist, for the messages that
// refuse one; README and pam_gocap(8) give the long form.
const dropInRule = "a drop-in directory and its files must be owned by root and writable by no one else"

// refuseConfig says why the main rules file, with this status, is not
// read, or "" if it is: it must be a regular file (or the null device)
// that others cannot write, as upstream libcap requires. Its owner and
// group are left to MainFileWarnings, as pam_cap.so reads such a file.
func refuseConfig(id FileID) string {
	switch id.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		if id.Mode&0o002 != 0 {
			return "world-writable"
		}
		return ""
	case syscall.S_IFCHR:
		if isNullDevice(id.Rdev) {
			return ""
		}
	}
	return notRegular(id.Mode)
}

// refuseDropIn says why a drop-in file, with this status, is not read, or
// "" if it is: it must be a regular file (not a link to one), owned by
// owner and writable by nobody else, as sudo requires of sudoers.d.
func refuseDropIn(id FileID, owner uint32) string {
	if id.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return notRegular(id.Mode)
	}
	return refuseOwnerAndMode(id, owner)
}

// refuseDropInDir says why the drop-in directory, with this status, is not
// trusted, or "" if it is: owned by owner and writable by nobody else.
func refuseDropInDir(id FileID, owner uint32) string {
	if id.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		return "not a directory"
	}
	return refuseOwnerAndMode(id, owner)
}

func refuseOwnerAndMode(id FileID, owner uint32) string {
	var why string
	switch {
	case id.UID != owner:
		why = sprintf("owned by uid %d, not %s", int(id.UID), ownerName(owner))
	case id.Mode&0o002 != 0:
		why = sprintf("world-writable (mode %s)", modeText(id.Mode))
	case id.Mode&0o020 != 0:
		why = sprintf("writable by group %d (mode %s)", int(id.GID), modeText(id.Mode))
	default:
		return ""
	}
	return why + ": " + dropInRule
}

// MainFileWarnings says what gocap check warns of in the main rules file
// checked as id, which the module reads all the same (as pam_cap.so
// does): an owner other than root, or a group that may write it. Either
// can change who gets which capabilities.
func (o OS) MainFileWarnings(id FileID) []string {
	if id.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return nil
	}
	var warnings []string
	if id.UID != o.Owner {
		warnings = append(warnings, sprintf("owned by uid %d, not %s: pam_gocap and pam_cap.so read it, but its owner can "+
			"change who gets which capabilities", int(id.UID), ownerName(o.Owner)))
	}
	if id.Mode&0o022 == 0o020 {
		warnings = append(warnings, sprintf("writable by group %d (mode %s): pam_gocap and pam_cap.so read it, but every "+
			"member of that group can change who gets which capabilities", int(id.GID), modeText(id.Mode)))
	}
	return warnings
}

// PathWarnings says what gocap check warns of in the directories that
// opening path goes through, following symbolic links as an open does:
// one whose owner is not root (nor Owner), or that group or others may
// write, lets them put another file in the place of the one checked, a
// sticky bit notwithstanding where the entry is theirs. readBy says who
// reads path all the same, for the message. The last component itself is
// left to the other checks.
func (o OS) PathWarnings(path, readBy string) []string {
	return dirWarnings(dirsOnPath(path), o.Owner, readBy)
}

func dirWarnings(dirs []dirOnPath, owner uint32, readBy string) []string {
	var warnings []string
	for _, d := range dirs {
		var why string
		switch {
		case d.uid != 0 && d.uid != owner:
			why = sprintf("is owned by uid %d, not %s: %s, but its owner", int(d.uid), ownerName(owner), readBy)
		case d.mode&0o002 != 0:
			why = sprintf("is world-writable (mode %s): %s, but anyone", modeText(d.mode), readBy)
		case d.mode&0o020 != 0:
			why = sprintf("is writable by group %d (mode %s): %s, but every member of that group", int(d.gid), modeText(d.mode), readBy)
		default:
			continue
		}
		warnings = append(warnings, "directory "+d.path+" on its resolved path "+why+" can put another file in its place")
	}
	return warnings
}

type dirOnPath struct {
	path     string
	uid, gid uint32
	mode     uint32
}

// maxLinks is how many symbolic links a lookup follows, as the kernel's.
const maxLinks = 40

// dirsOnPath lists, each once and in order, the directories in which a
// lookup of path looks a name up, following symbolic links (the last
// component's too); it stops where a lookup fails.
func dirsOnPath(path string) []dirOnPath {
	var dirs []dirOnPath
	seen := map[string]bool{}
	cur := "/"
	if path == "" || path[0] != '/' {
		wd, err := syscall.Getwd()
		if err != nil {
			return nil
		}
		cur = wd
	}
	rest := strings.Split(path, "/")
	for links := 0; len(rest) > 0; {
		name := rest[0]
		rest = rest[1:]
		switch name {
		case "", ".":
			continue
		case "..":
			if i := strings.LastIndexByte(cur, '/'); i > 0 {
				cur = cur[:i]
			} else {
				cur = "/"
			}
			continue
		}
		var st syscall.Stat_t
		if !seen[cur] {
			seen[cur] = true
			if retry(func() error { return syscall.Lstat(cur, &st) }) != nil {
				return dirs
			}
			dirs = append(dirs, dirOnPath{cur, st.Uid, st.Gid, st.Mode})
		}
		next := cur + "/" + name
		if cur == "/" {
			next = "/" + name
		}
		if retry(func() error { return syscall.Lstat(next, &st) }) != nil {
			return dirs
		}
		if st.Mode&syscall.S_IFMT != syscall.S_IFLNK {
			cur = next
			continue
		}
		if links++; links > maxLinks {
			return dirs
		}
		buf := make([]byte, 4096)
		n, err := syscall.Readlink(next, buf)
		if err != nil || n <= 0 || n == len(buf) {
			return dirs
		}
		target := string(buf[:n])
		if target[0] == '/' {
			cur = "/"
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return dirs
}

func ownerName(uid uint32) string {
	if uid == 0 {
		return "root"
	}
	return sprintf("uid %d", int(uid))
}

// modeText is the permission bits in octal, as ls -l's numbers: "2775".
func modeText(mode uint32) string {
	s := strconv.FormatUint(uint64(mode&0o7777), 8)
	for len(s) < 4 {
		s = "0" + s
	}
	return s
}

// notRegular names a file type that is not read as rules.
func notRegular(mode uint32) string {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFREG:
		return ""
	case syscall.S_IFLNK:
		return "a symbolic link, not a regular file"
	case syscall.S_IFCHR, syscall.S_IFBLK:
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

// refused is the error for a file that is not read, and why.
func refused(path, why string) error {
	return errorf("%s: %s: %w", path, why, ErrRefused)
}

// CheckConfig checks the main rules file at path without opening it, so
// that a FIFO or a device is never opened: following a symbolic link, as
// pam_cap.so's fopen does, it must be a regular file that others cannot
// write (or the null device).
func (OS) CheckConfig(path string) (FileID, error) {
	var st syscall.Stat_t
	if err := retry(func() error { return syscall.Stat(path, &st) }); err != nil {
		return FileID{}, &PathError{Op: "stat", Path: path, Err: err}
	}
	id := fileID(&st)
	if why := refuseConfig(id); why != "" {
		return id, refused(path, why)
	}
	return id, nil
}

// OpenConfig opens the main rules file at path, which CheckConfig found to
// be id, without blocking or taking a controlling terminal, and refuses
// it unless the opened file is still that one and still passes.
func (OS) OpenConfig(path string, id FileID) (io.ReadCloser, error) {
	fd, err := openRetry(func() (int, error) {
		return syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC|syscall.O_NOCTTY, 0)
	})
	if err != nil {
		return nil, &PathError{Op: "open", Path: path, Err: err}
	}
	if err := sameFile(fd, path, id, refuseConfig); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return fdFile(fd), nil
}

// sameFile refuses the file open at fd unless it is the file id names,
// unchanged, and still passes refuse.
func sameFile(fd int, path string, id FileID, refuse func(FileID) string) error {
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return &PathError{Op: "stat", Path: path, Err: err}
	}
	now := fileID(&st)
	if why := refuse(now); why != "" {
		return refused(path, why)
	}
	if now != id {
		return refused(path, "not the file that was checked (it changed or was replaced while being read)")
	}
	return nil
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

// OpenDropIns opens the drop-in directory dir and lists its rules files:
// the names that end in ".conf" and do not start with "." (so never a
// hidden file, dpkg's "x.conf.dpkg-new" or an editor's "x.conf~"), in
// byte order of name. A missing directory gives nil and no error.
// Anything but a directory, or one that is not owned by o.Owner or that
// others can write, is refused; the checks are made on the opened
// directory, and its files are checked and read through it, so neither a
// symlink nor a rename can lead past them. The directory holds one
// descriptor until Close, and each file one while it is read.
func (o OS) OpenDropIns(dir string) (DropInDir, error) {
	fd, err := openRetry(func() (int, error) {
		return syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	})
	switch {
	case err == syscall.ENOENT:
		return nil, nil
	case err == syscall.ENOTDIR:
		return nil, refused(dir, refuseDropInDir(FileID{}, 0))
	case err != nil:
		return nil, &PathError{Op: "open", Path: dir, Err: err}
	}
	d := &osDropInDir{fd: fd, dir: dir, owner: o.Owner}
	if err := d.list(); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return d, nil
}

// osDropInDir is an opened drop-in directory.
type osDropInDir struct {
	fd    int
	dir   string
	owner uint32
	names []string // the rules files, in the order they are read
}

func (d *osDropInDir) list() error {
	var st syscall.Stat_t
	if err := syscall.Fstat(d.fd, &st); err != nil {
		return &PathError{Op: "stat", Path: d.dir, Err: err}
	}
	if why := refuseDropInDir(fileID(&st), d.owner); why != "" {
		return refused(d.dir, why)
	}
	var names []string
	buf := make([]byte, 4096)
	for {
		n, err := syscall.ReadDirent(d.fd, buf)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return &PathError{Op: "readdirent", Path: d.dir, Err: err}
		}
		if n <= 0 {
			break
		}
		_, _, names = syscall.ParseDirent(buf[:n], -1, names)
	}
	for _, name := range names {
		if strings.HasSuffix(name, ".conf") && !strings.HasPrefix(name, ".") {
			d.names = append(d.names, name)
		}
	}
	sort.Strings(d.names)
	return nil
}

func (d *osDropInDir) Paths() []string {
	paths := make([]string, len(d.names))
	for i, name := range d.names {
		paths[i] = d.dir + "/" + name
	}
	return paths
}

// Check looks at the file itself, not where a symbolic link leads, and
// opens nothing.
func (d *osDropInDir) Check(i int) (FileID, error) {
	path := d.dir + "/" + d.names[i]
	var st syscall.Stat_t
	if err := retry(func() error { return fstatat(d.fd, d.names[i], &st, atSymlinkNoFollow) }); err != nil {
		return FileID{}, &PathError{Op: "stat", Path: path, Err: err}
	}
	id := fileID(&st)
	if why := refuseDropIn(id, d.owner); why != "" {
		return id, refused(path, why)
	}
	return id, nil
}

// Open opens the file without following a symbolic link, blocking or
// taking a controlling terminal.
func (d *osDropInDir) Open(i int, id FileID) (io.ReadCloser, error) {
	path := d.dir + "/" + d.names[i]
	fd, err := openRetry(func() (int, error) {
		return syscall.Openat(d.fd, d.names[i], syscall.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC|syscall.O_NOCTTY, 0)
	})
	if err == syscall.ELOOP {
		return nil, refused(path, notRegular(syscall.S_IFLNK))
	}
	if err != nil {
		return nil, &PathError{Op: "open", Path: path, Err: err}
	}
	refuse := func(id FileID) string { return refuseDropIn(id, d.owner) }
	if err := sameFile(fd, path, id, refuse); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return fdFile(fd), nil
}

func (d *osDropInDir) Close() error { return syscall.Close(d.fd) }

// atSymlinkNoFollow is AT_SYMLINK_NOFOLLOW, the same on every Linux.
const atSymlinkNoFollow = 0x100

// fstatat is fstatat(2), which the syscall package keeps to itself on
// most architectures.
func fstatat(dirfd int, name string, st *syscall.Stat_t, flags int) error {
	p, err := syscall.BytePtrFromString(name)
	if err != nil {
		return err
	}
	_, _, errno := syscall.Syscall6(sysFstatat, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(st)), uintptr(flags), 0, 0)
	if errno != 0 {
		return errno
	}
	return nil
}

// retry runs a system call again while a signal interrupts it.
func retry(call func() error) error {
	for {
		if err := call(); err != syscall.EINTR {
			return err
		}
	}
}

func openRetry(call func() (int, error)) (int, error) {
	for {
		fd, err := call()
		if err != syscall.EINTR {
			return fd, err
		}
	}
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
