/*
 * nssfail: an NSS service for pam_gocap's tests that fails in the ways a
 * directory can, for users named for it. tests/main_test.go mounts it, in
 * the tests' mount namespace only, in place of glibc's libnss_hesiod.so.2
 * (which nothing here uses), and adds "hesiod" to the passwd line of the
 * namespace's nsswitch.conf, so that the module, its helper and gocap all
 * meet it through getpwnam_r:
 *
 *   nss-eio     the service is unavailable: EIO
 *   nss-enoent  the service is unavailable: ENOENT (as glibc's files
 *               service is when its file is missing)
 *   nss-erange  the buffer is always too small: ERANGE
 *   nss-big     ERANGE until the buffer has 64 KiB, then a user (uid
 *               2400, gid 2005)
 *   anyone else not found
 */
#include <errno.h>
#include <nss.h>
#include <pwd.h>
#include <string.h>

static char *put(char **buf, const char *s)
{
    char *p = strcpy(*buf, s);
    *buf += strlen(s) + 1;
    return p;
}

enum nss_status _nss_hesiod_getpwnam_r(const char *name, struct passwd *pw, char *buf, size_t buflen, int *errnop)
{
    if (!strcmp(name, "nss-eio") || !strcmp(name, "nss-enoent")) {
        *errnop = name[5] == 'i' ? EIO : ENOENT;
        return NSS_STATUS_UNAVAIL;
    }
    if (!strcmp(name, "nss-erange") || (!strcmp(name, "nss-big") && buflen < 65536)) {
        *errnop = ERANGE;
        return NSS_STATUS_TRYAGAIN;
    }
    if (!strcmp(name, "nss-big")) {
        pw->pw_name = put(&buf, name);
        pw->pw_passwd = put(&buf, "x");
        pw->pw_uid = 2400;
        pw->pw_gid = 2005;
        pw->pw_gecos = put(&buf, "");
        pw->pw_dir = put(&buf, "/nonexistent");
        pw->pw_shell = put(&buf, "/bin/sh");
        return NSS_STATUS_SUCCESS;
    }
    *errnop = ENOENT;
    return NSS_STATUS_NOTFOUND;
}
