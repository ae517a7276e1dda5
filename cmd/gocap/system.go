package main

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"

	"kernel.org/pub/linux/libs/security/libcap/cap"

	"pam_gocap/capconf"
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
