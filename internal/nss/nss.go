//go:build cgo

// Package nss looks users and groups up through the C library's NSS
// (getpwnam_r, getgrouplist, getgrgid_r, getgrnam_r), so that LDAP, sssd
// and the rest work, for the module, its helper and gocap alike: all three
// classify a user the same way. It links no fmt or reflect, which would be
// memory in every process that loads the module.
//
// NSS answers "no such user" by returning 0 with no entry; that is
// capconf.UnknownUserError. Anything else it returns is an error, and the
// decision fails closed: ENOENT, ESRCH, EBADF and EPERM too, which
// getpwnam(3) lists as "not found" on some systems, since glibc returns
// them when a service could not be asked (ENOENT for a service whose file
// is missing, say), not when it said no. (os/user takes ENOENT as an
// unknown user.) A buffer too small (ERANGE) is doubled, up to 1 MiB, as
// os/user does.
package nss

/*
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

#define GOCAP_NSS_MAX_BUFFER (1 << 20)

// gocap_again says whether a lookup that returned e is asked again: after
// EINTR, and after ERANGE with *size doubled while it stays within
// GOCAP_NSS_MAX_BUFFER.
static int gocap_again(int e, size_t *size)
{
    if (e == ERANGE && *size < GOCAP_NSS_MAX_BUFFER) {
        *size *= 2;
        return 1;
    }
    return e == EINTR;
}

// gocap_getpw looks up the user called name: its uid, gid, home directory
// and login shell (copies from malloc, which the caller frees). It returns
// 0, -1 when NSS says there is no such user, or an errno.
static int gocap_getpw(const char *name, uid_t *uid, gid_t *gid, char **home, char **shell)
{
    for (size_t size = 1024;;) {
        struct passwd pw, *found = NULL;
        char *buf = malloc(size);
        if (buf == NULL)
            return ENOMEM;
        int e = getpwnam_r(name, &pw, buf, size, &found);
        if (e == 0 && found != NULL) {
            *uid = pw.pw_uid;
            *gid = pw.pw_gid;
            *home = strdup(pw.pw_dir ? pw.pw_dir : "");
            *shell = strdup(pw.pw_shell ? pw.pw_shell : "");
            if (*home == NULL || *shell == NULL) {
                free(*home);
                free(*shell);
                e = ENOMEM;
            }
        }
        free(buf);
        if (gocap_again(e, &size))
            continue;
        return e != 0 ? e : found != NULL ? 0 : -1;
    }
}

// gocap_getgr looks up the group called name, or with a NULL name the
// group gid, and gives its name (a copy from malloc, which the caller
// frees) if name_out is not NULL. It returns 0, -1 when NSS says there is
// no such group, or an errno.
static int gocap_getgr(const char *name, gid_t gid, char **name_out)
{
    for (size_t size = 1024;;) {
        struct group gr, *found = NULL;
        char *buf = malloc(size);
        if (buf == NULL)
            return ENOMEM;
        int e = name ? getgrnam_r(name, &gr, buf, size, &found) : getgrgid_r(gid, &gr, buf, size, &found);
        if (e == 0 && found != NULL && name_out != NULL) {
            *name_out = strdup(gr.gr_name);
            e = *name_out ? 0 : ENOMEM;
        }
        free(buf);
        if (gocap_again(e, &size))
            continue;
        return e != 0 ? e : found != NULL ? 0 : -1;
    }
}

// gocap_grouplist gives the user's gids (primary and supplementary) in
// memory from malloc, which the caller frees. getgrouplist says only that
// the list did not fit, with the size it needs; anything else is EIO.
static int gocap_grouplist(const char *name, gid_t gid, gid_t **out, int *n)
{
    int size = 64;
    for (;;) {
        gid_t *list = malloc(size * sizeof *list);
        if (list == NULL)
            return ENOMEM;
        int got = size;
        if (getgrouplist(name, gid, list, &got) >= 0) {
            *out = list, *n = got;
            return 0;
        }
        free(list);
        if (got <= size || got > 65536)
            return EIO;
        size = got;
    }
}
*/
import "C"

import (
	"syscall"
	"unsafe"

	"pam_gocap/capconf"
)

// User is what NSS says of a user.
type User struct {
	UID, GID uint32
	Home     string
	Shell    string // /bin/sh when the database names none, as login has it
}

// LookupUser finds the user called name, as getpwnam_r does. The error
// is capconf.UnknownUserError when NSS says there is no such user, and an
// *Error when it could not say.
func LookupUser(name string) (User, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var uid C.uid_t
	var gid C.gid_t
	var home, shell *C.char
	switch e := C.gocap_getpw(cname, &uid, &gid, &home, &shell); {
	case e == -1:
		return User{}, capconf.UnknownUserError(name)
	case e != 0:
		return User{}, lookupError("lookup username "+name, e)
	}
	defer C.free(unsafe.Pointer(home))
	defer C.free(unsafe.Pointer(shell))
	u := User{UID: uint32(uid), GID: uint32(gid), Home: C.GoString(home), Shell: C.GoString(shell)}
	if u.Shell == "" {
		u.Shell = "/bin/sh"
	}
	return u, nil
}

// GroupIDs lists the gids of the user called name whose primary group is
// gid, as getgrouplist does.
func GroupIDs(name string, gid uint32) ([]uint32, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var list *C.gid_t
	var n C.int
	if e := C.gocap_grouplist(cname, C.gid_t(gid), &list, &n); e != 0 {
		return nil, lookupError("getgrouplist "+name, e)
	}
	defer C.free(unsafe.Pointer(list))
	ids := make([]uint32, 0, int(n))
	for _, g := range unsafe.Slice(list, int(n)) {
		ids = append(ids, uint32(g))
	}
	return ids, nil
}

// GroupName gives the name of group gid, and false for a gid NSS does not
// name.
func GroupName(gid uint32) (string, bool, error) {
	var name *C.char
	switch e := C.gocap_getgr(nil, C.gid_t(gid), &name); {
	case e == -1:
		return "", false, nil
	case e != 0:
		return "", false, lookupError("lookup groupid", e)
	}
	defer C.free(unsafe.Pointer(name))
	return C.GoString(name), true, nil
}

// LookupGroup reports whether NSS knows the group called name.
func LookupGroup(name string) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	switch e := C.gocap_getgr(cname, 0, nil); {
	case e == -1:
		return &Error{"user: unknown group " + name, nil}
	case e != 0:
		return lookupError("lookup groupname "+name, e)
	}
	return nil
}

func lookupError(what string, e C.int) error {
	errno := syscall.Errno(e)
	return &Error{"user: " + what + ": " + errno.Error(), errno}
}
