/*
 * deferhost SERVICE USER: what libcap's sucap does. It authenticates and
 * establishes credentials as root, forks, and in the child becomes USER and
 * then calls pam_end(PAM_SUCCESS | PAM_DATA_SILENT), the point where a
 * module given "defer" applies its IAB, Ambient bits included (they survive
 * only when set after the change of user, with keepcaps). The child then
 * runs a shell that prints its capabilities.
 */
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>

static int conv(int n, const struct pam_message **m, struct pam_response **r, void *d)
{
    (void)m; (void)d;
    *r = calloc((size_t)n, sizeof **r);
    return *r ? PAM_SUCCESS : PAM_BUF_ERR;
}

int main(int argc, char **argv)
{
    static const struct pam_conv c = { conv, NULL };
    pam_handle_t *pamh;
    if (argc != 3) {
        fprintf(stderr, "usage: deferhost SERVICE USER\n");
        return 2;
    }
    struct passwd *pw = getpwnam(argv[2]);
    if (!pw || pam_start(argv[1], argv[2], &c, &pamh) != PAM_SUCCESS)
        return 2;
    int a = pam_authenticate(pamh, 0);
    int s = pam_setcred(pamh, PAM_ESTABLISH_CRED);
    printf("authenticate %d setcred %d\n", a, s);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        if (initgroups(pw->pw_name, pw->pw_gid) || setgid(pw->pw_gid) || setuid(pw->pw_uid))
            _exit(3);
        pam_end(pamh, PAM_SUCCESS | PAM_DATA_SILENT);
        execl("/bin/sh", "sh", "-c", "grep -E '^Cap(Inh|Amb|Eff)' /proc/self/status", (char *)NULL);
        _exit(4);
    }
    int status;
    waitpid(pid, &status, 0);
    pam_end(pamh, PAM_SUCCESS);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 5;
}
