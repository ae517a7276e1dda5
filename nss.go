package main

/*
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>

// gocap_nss looks up the user called name ('u': its gid into gid_out), the
// group called name ('g'), or with a NULL name the group gid (its name
// copied into out). It returns 0, -1 when NSS does not know it, or an
// errno. The buffer grows on ERANGE, as os/user's does.
static int gocap_nss(int kind, const char *name, gid_t gid, gid_t *gid_out, char *out, size_t outsize)
{
    for (size_t size = 1024;;) {
        struct passwd pw, *pwr = NULL;
        struct group gr, *grr = NULL;
        char *buf = malloc(size);
        if (!buf)
            return ENOMEM;
        int e = kind == 'u' ? getpwnam_r(name, &pw, buf, size, &pwr)
                : name      ? getgrnam_r(name, &gr, buf, size, &grr)
                            : getgrgid_r(gid, &gr, buf, size, &grr);
        if (pwr && gid_out)
            *gid_out = pw.pw_gid;
        if (grr && out && outsize > 0) {
            size_t len = 0;
            while (gr.gr_name[len] && len + 1 < outsize) {
                out[len] = gr.gr_name[len];
                len++;
            }
            out[len] = 0;
        }
        int found = pwr != NULL || grr != NULL;
        free(buf);
        if (e == ERANGE && size < (1 << 20)) {
            size *= 2;
            continue;
        }
        if (e == EINTR)
            continue;
        return e ? e : found ? 0 : -1;
    }
}

// gocap_grouplist gives the user's gids (primary and supplementary) in
// memory from malloc, which the caller frees.
static int gocap_grouplist(const char *name, gid_t gid, gid_t **out, int *n)
{
    int size = 64;
    for (;;) {
        gid_t *list = malloc(size * sizeof *list);
        if (!list)
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

// moduleSystem is capconf.OS with users and groups from NSS through the C
// library directly, as getpwnam_r, getgrouplist and getgr*_r: the module
// does not link os/user, and fmt and reflect behind it.
type moduleSystem struct{ capconf.OS }

func (moduleSystem) LookupUser(name string) (capconf.Groups, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var gid C.gid_t
	switch e := C.gocap_nss('u', cname, 0, &gid, nil, 0); {
	case e == -1:
		return nil, capconf.UnknownUserError(name)
	case e != 0:
		return nil, lookupError("user: lookup username "+name, e)
	}
	return func() ([]string, error) {
		cname := C.CString(name)
		defer C.free(unsafe.Pointer(cname))
		var list *C.gid_t
		var n C.int
		if e := C.gocap_grouplist(cname, gid, &list, &n); e != 0 {
			return nil, lookupError("user: getgrouplist "+name, e)
		}
		defer C.free(unsafe.Pointer(list))
		var names []string
		var buf [256]C.char
		for _, g := range unsafe.Slice(list, int(n)) {
			switch e := C.gocap_nss('g', nil, g, nil, &buf[0], C.size_t(len(buf))); {
			case e == -1:
				continue // a gid with no name matches no @group, as in pam_cap.so
			case e != 0:
				return nil, lookupError("user: lookup groupid", e)
			}
			names = append(names, C.GoString(&buf[0]))
		}
		return names, nil
	}, nil
}

func (moduleSystem) LookupGroup(name string) error {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	switch e := C.gocap_nss('g', cname, 0, nil, nil, 0); {
	case e == -1:
		return &nssError{"user: unknown group " + name, nil}
	case e != 0:
		return lookupError("user: lookup groupname "+name, e)
	}
	return nil
}

type nssError struct {
	msg string
	err error
}

func (e *nssError) Error() string { return e.msg }
func (e *nssError) Unwrap() error { return e.err }

func lookupError(what string, e C.int) error {
	errno := syscall.Errno(e)
	return &nssError{what + ": " + errno.Error(), errno}
}
