//go:build cgo

package launch

/*
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

// login_shell copies name's shell from the user database, through NSS as
// getpwnam does, into buf; 0 when name or its shell is unknown.
static int login_shell(const char *name, char *out, size_t outlen)
{
	struct passwd pw, *res = NULL;
	char buf[16384];
	if (getpwnam_r(name, &pw, buf, sizeof buf, &res) != 0 || res == NULL || pw.pw_shell == NULL)
		return 0;
	if (strlen(pw.pw_shell) >= outlen)
		return 0;
	strcpy(out, pw.pw_shell);
	return 1;
}
*/
import "C"

import "unsafe"

// LoginShell is name's login shell from the user database, or /bin/sh
// when it names none, as login has it.
func LoginShell(name string) string {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	var out [4096]C.char
	if C.login_shell(cname, &out[0], C.size_t(len(out))) == 0 || out[0] == 0 {
		return "/bin/sh"
	}
	return C.GoString(&out[0])
}
