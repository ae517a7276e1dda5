/*
 * The C half of pam_gocap.so: the PAM entry points and everything that must
 * not be Go.
 *
 * Go decides (capconf.Decide); C applies. Go may only run in the process
 * where its runtime started, which is the one that loaded this library. In
 * a child forked after that (sshd runs pam_setcred in its session child,
 * su-like hosts call pam_end in theirs) the Go runtime's threads are gone
 * and calling Go hangs, so there the same decision is made by exec'ing the
 * helper, and its answer is read from a pipe. Capabilities belong to the
 * calling thread, so they are set here with raw capset and prctl on exactly
 * that thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <security/pam_modules.h>
#include <security/pam_ext.h>

#include "decision.h"
#include "_cgo_export.h"

#ifndef PAM_GOCAP_HELPER
#define PAM_GOCAP_HELPER "/usr/libexec/pam_gocap/pam_gocap-helper"
#endif
#define HELPER_TIMEOUT_MS 10000
#define ANSWER_MAX (64 * 1024)
#define DEFER_KEY "pam_gocap_iab"

/* The process that loaded us, where the Go runtime runs, and whether this
 * process is a fork of it. Both are checked: the pid catches clone() and
 * vfork-style children, the fork handler a recycled pid. */
static pid_t runtime_pid;
static volatile sig_atomic_t forked;

static void note_fork(void) { forked = 1; }

/* The host's SIGPIPE disposition from before the Go runtime existed. */
static struct sigaction host_sigpipe;

/* Runs before the Go runtime's own constructor (prioritized constructors
 * come first), so what it sees is the host's. */
__attribute__((constructor(101))) static void note_host(void)
{
    runtime_pid = getpid();
    pthread_atfork(NULL, NULL, note_fork);
    sigaction(SIGPIPE, NULL, &host_sigpipe);
}

/* Runs after the Go runtime's constructor: wait for the runtime to finish
 * starting, then give SIGPIPE back to the host. In a library the runtime
 * installs a SIGPIPE handler that forwards to the host's; that would turn a
 * host's SIG_IGN into a handler, which exec resets to default for the
 * host's children. Our Go code writes to no pipe, so the runtime needs no
 * SIGPIPE of its own. SA_ONSTACK stays, as the runtime sets it on every
 * handler: a signal may arrive while a thread runs on a goroutine stack. */
__attribute__((constructor)) static void restore_host_sigpipe(void)
{
    struct sigaction sa = host_sigpipe;
    gocap_runtime_ready();
    if (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)
        sa.sa_flags |= SA_ONSTACK;
    sigaction(SIGPIPE, &sa, NULL);
}

static int go_may_run(void) { return !forked && getpid() == runtime_pid; }

/* ---- capabilities of the calling thread ---- */

typedef struct __user_cap_data_struct capdata[_LINUX_CAPABILITY_U32S_3];

static int thread_caps(capdata d, int write)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    return syscall(write ? SYS_capset : SYS_capget, &h, d);
}

static uint64_t inheritable(const capdata d) { return d[0].inheritable | (uint64_t)d[1].inheritable << 32; }
static uint64_t permitted(const capdata d) { return d[0].permitted | (uint64_t)d[1].permitted << 32; }

static void set_inheritable(capdata d, uint64_t v)
{
    d[0].inheritable = (uint32_t)v;
    d[1].inheritable = (uint32_t)(v >> 32);
}

/* The number of capabilities the kernel knows, as libcap's cap_max_bits. */
static int kernel_cap_bits(void)
{
    int n = 0;
    while (n < 64 && prctl(PR_CAPBSET_READ, n, 0, 0, 0) >= 0)
        n++;
    return n;
}

/* apply_iab sets the calling thread's Inheritable set to inh, its Ambient
 * set to amb and drops bound from its Bounding set, as libcap's
 * cap_iab_set_proc does, raising CAP_SETPCAP in Effective only while
 * needed. Returns 0, or -1 with errno set. */
static int apply_iab(uint64_t inh, uint64_t amb, uint64_t bound)
{
    capdata now, work;
    if (thread_caps(now, 0) != 0)
        return -1;
    int bits = kernel_cap_bits();
    int need_setpcap = (inh & ~(inheritable(now) | permitted(now))) != 0;
    for (int c = 0; c < bits; c++)
        if ((bound >> c & 1) && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
            need_setpcap = 1;
    set_inheritable(now, inh);
    memcpy(work, now, sizeof work);
    if (need_setpcap)
        work[CAP_TO_INDEX(CAP_SETPCAP)].effective |= CAP_TO_MASK(CAP_SETPCAP);
    if (thread_caps(work, 1) != 0)
        return -1;
    int ret = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    for (int c = bits; ret == 0 && c-- > 0;) {
        if (amb >> c & 1)
            ret = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0);
        if (ret == 0 && (bound >> c & 1) && prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
            ret = prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
    }
    int saved = errno;
    if (thread_caps(now, 1) != 0 && ret == 0)
        return -1; /* Effective could not be lowered again */
    errno = saved;
    return ret == 0 ? 0 : -1;
}

/* clear_inheritable is "none": empty Inheritable, which empties Ambient,
 * and leaves Bounding alone. */
static int clear_inheritable(void)
{
    capdata d;
    if (thread_caps(d, 0) != 0)
        return -1;
    set_inheritable(d, 0);
    return thread_caps(d, 1);
}

/* ---- defer: apply at pam_end, in whatever process calls it ---- */

struct deferred_iab {
    uint64_t inh, amb, bound;
};

/* apply_deferred is the pam_set_data cleanup. Like pam_cap.so it applies
 * the IAB only for pam_end(PAM_SUCCESS | PAM_DATA_SILENT), which is how a
 * host says "this is the process that goes on as the user". It is plain C,
 * so it is safe in a forked child. */
static void apply_deferred(pam_handle_t *pamh, void *data, int status)
{
    struct deferred_iab *d = data;
    int rc = status & ~(PAM_DATA_REPLACE | PAM_DATA_SILENT);
    if (!(status & PAM_DATA_REPLACE) && (status & PAM_DATA_SILENT) && rc == PAM_SUCCESS &&
        apply_iab(d->inh, d->amb, d->bound) != 0)
        pam_syslog(pamh, LOG_ERR, "deferred IAB not applied: %m");
    free(d);
}

/* ---- asking the helper, in a forked child ---- */

static long long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000LL + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* read_answer reads fd to its end, within the deadline and ANSWER_MAX. */
static char *read_answer(pam_handle_t *pamh, int fd)
{
    char *buf = malloc(ANSWER_MAX + 1);
    size_t len = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (buf == NULL)
        return NULL;
    for (;;) {
        long long left = HELPER_TIMEOUT_MS - ms_since(&t0);
        struct pollfd p = { fd, POLLIN, 0 };
        int n = left > 0 ? poll(&p, 1, (int)left) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            pam_syslog(pamh, LOG_ERR, "helper gave no answer within %d ms", HELPER_TIMEOUT_MS);
            break;
        }
        ssize_t r = read(fd, buf + len, ANSWER_MAX - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0) {
            buf[len] = '\0';
            return buf;
        }
        if (r < 0 || (len += (size_t)r) == ANSWER_MAX) {
            pam_syslog(pamh, LOG_ERR, "helper answer unreadable or too long");
            break;
        }
    }
    free(buf);
    return NULL;
}

/* ask_helper runs the helper with the request on its command line and an
 * empty environment, and returns its answer (malloc'ed) or NULL. The helper
 * is opened first and checked on the open file, then executed from that
 * file, so it cannot be swapped in between. */
static char *ask_helper(pam_handle_t *pamh, int entry, int status, const char *user, int argc,
                        const char **argv)
{
    char *answer = NULL;
    struct stat st;
    int exe = open(PAM_GOCAP_HELPER, O_PATH | O_CLOEXEC);
    if (exe < 0) {
        pam_syslog(pamh, LOG_ERR, "cannot open helper %s: %m", PAM_GOCAP_HELPER);
        return NULL;
    }
    if (fstat(exe, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 ||
        (st.st_mode & (S_IWGRP | S_IWOTH))) {
        pam_syslog(pamh, LOG_ERR, "helper %s is not a regular file owned and only writable by root; not run",
                   PAM_GOCAP_HELPER);
        close(exe);
        return NULL;
    }
    char version[16], e[16], s[16];
    snprintf(version, sizeof version, "%d", GOCAP_ANSWER_VERSION);
    snprintf(e, sizeof e, "%d", entry);
    snprintf(s, sizeof s, "%d", status);
    const char **hargv = calloc((size_t)argc + 6, sizeof *hargv);
    int fds[2] = { -1, -1 };
    if (hargv == NULL || pipe2(fds, O_CLOEXEC) != 0) {
        pam_syslog(pamh, LOG_ERR, "cannot prepare helper: %m");
        goto out;
    }
    hargv[0] = PAM_GOCAP_HELPER;
    hargv[1] = version;
    hargv[2] = e;
    hargv[3] = s;
    hargv[4] = user != NULL ? user : "";
    for (int i = 0; i < argc; i++)
        hargv[5 + i] = argv[i];

    pid_t pid = fork();
    if (pid < 0) {
        pam_syslog(pamh, LOG_ERR, "cannot fork helper: %m");
        goto out;
    }
    if (pid == 0) {
        /* Only async-signal-safe calls from here to exec. Move the pipe and
         * /dev/null above the standard descriptors before placing them,
         * since the host may have closed 0, 1 or 2. */
        char *envp[] = { NULL };
        sigset_t none;
        int w = fcntl(fds[1], F_DUPFD_CLOEXEC, 3);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        int hi = null >= 0 ? fcntl(null, F_DUPFD_CLOEXEC, 3) : -1;
        if (w < 0 || hi < 0 || dup2(w, 1) < 0 || dup2(hi, 0) < 0 || dup2(hi, 2) < 0)
            _exit(127);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        fexecve(exe, (char *const *)hargv, envp);
        _exit(127);
    }
    close(fds[1]);
    fds[1] = -1;
    answer = read_answer(pamh, fds[0]);
    if (answer == NULL)
        kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ; /* ECHILD when the host ignores SIGCHLD: the answer still counts */
out:
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    free(hargv);
    close(exe);
    return answer;
}

/* ---- acting on the answer ---- */

static int pam_result(int r)
{
    switch (r) {
    case GOCAP_SUCCESS:
        return PAM_SUCCESS;
    case GOCAP_AUTH_ERR:
        return PAM_AUTH_ERR;
    case GOCAP_INCOMPLETE:
        return PAM_INCOMPLETE;
    }
    return PAM_IGNORE;
}

/* act logs the answer's messages, applies its action to this thread and
 * returns the PAM code. Anything malformed grants nothing. */
static int act(pam_handle_t *pamh, char *answer)
{
    int version = 0, result, action, keepcaps, fields = 0;
    unsigned long long inh, amb, bound;
    char *save = NULL;
    for (char *line = strtok_r(answer, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        int prio, off = 0;
        if (sscanf(line, "pam_gocap %d", &version) == 1)
            continue;
        if (version == GOCAP_ANSWER_VERSION && sscanf(line, "log %d %n", &prio, &off) == 1 && off > 0)
            pam_syslog(pamh, prio, "%s", line + off);
        else if (version == GOCAP_ANSWER_VERSION)
            fields = sscanf(line, "answer %d %d %llx %llx %llx %d", &result, &action, &inh, &amb, &bound,
                            &keepcaps);
    }
    if (fields != 6) {
        pam_syslog(pamh, LOG_ERR, "no valid decision (answer version %d, want %d); nothing granted", version,
                   GOCAP_ANSWER_VERSION);
        return PAM_IGNORE;
    }
    switch (action) {
    case GOCAP_CLEAR_INH:
        if (clear_inheritable() != 0) {
            pam_syslog(pamh, LOG_ERR, "clearing the Inheritable set failed: %m");
            return PAM_IGNORE;
        }
        return PAM_SUCCESS;
    case GOCAP_APPLY_IAB:
        if (apply_iab(inh, amb, bound) != 0) {
            pam_syslog(pamh, LOG_ERR, "applying the IAB failed: %m");
            return PAM_IGNORE;
        }
        if (keepcaps)
            prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
        return PAM_SUCCESS;
    case GOCAP_DEFER_IAB: {
        struct deferred_iab *d = malloc(sizeof *d);
        if (d == NULL || pam_set_data(pamh, DEFER_KEY, d, apply_deferred) != PAM_SUCCESS) {
            pam_syslog(pamh, LOG_ERR, "cannot keep the IAB for pam_end");
            free(d);
            return PAM_IGNORE;
        }
        d->inh = inh;
        d->amb = amb;
        d->bound = bound;
        if (keepcaps)
            prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
        return PAM_IGNORE;
    }
    }
    return pam_result(result);
}

static int run(pam_handle_t *pamh, int entry, int status, const char *user, int argc, const char **argv)
{
    char *answer = go_may_run() ? gocap_decide(entry, status, (char *)user, argc, (char **)argv)
                                : ask_helper(pamh, entry, status, user, argc, argv);
    if (answer == NULL) {
        pam_syslog(pamh, LOG_ERR, "no decision; nothing granted");
        return PAM_IGNORE;
    }
    int rc = act(pamh, answer);
    free(answer);
    return rc;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    const char *user = NULL;
    int rc = pam_get_user(pamh, &user, NULL);
    int status = rc == PAM_SUCCESS ? GOCAP_USER_KNOWN : rc == PAM_CONV_AGAIN ? GOCAP_USER_CONV_AGAIN
                                                                             : GOCAP_USER_MISSING;
    (void)flags;
    return run(pamh, GOCAP_AUTHENTICATE, status, status == GOCAP_USER_KNOWN ? user : NULL, argc, argv);
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    const void *user = NULL;
    if (!(flags & (PAM_ESTABLISH_CRED | PAM_REINITIALIZE_CRED)))
        return PAM_IGNORE;
    int rc = pam_get_item(pamh, PAM_USER, &user);
    int known = rc == PAM_SUCCESS && user != NULL && *(const char *)user != '\0';
    return run(pamh, GOCAP_SETCRED, known ? GOCAP_USER_KNOWN : GOCAP_USER_MISSING, known ? user : NULL, argc,
               argv);
}
