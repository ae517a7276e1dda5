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
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <security/pam_modules.h>
#include <security/pam_ext.h>

#include "decision.h"
#include "start.h"
#include "_cgo_export.h"

#ifndef PAM_GOCAP_HELPER
#define PAM_GOCAP_HELPER "/usr/libexec/pam_gocap/pam_gocap-helper"
#endif
#define HELPER_TIMEOUT_MS 10000
/* How long the guard waits for a helper it killed at the deadline. */
#define REAP_MARGIN_MS 1000
#define ANSWER_MAX (64 * 1024)
#define STDERR_KEEP 256
#define DEFER_KEY "pam_gocap_iab"
#ifndef P_PIDFD
#define P_PIDFD 3
#endif
/* The answer version as text, for the parser: GOCAP_TEXT2 expands the
 * number before GOCAP_TEXT quotes it. */
#define GOCAP_TEXT(x) #x
#define GOCAP_TEXT2(x) GOCAP_TEXT(x)
#define GOCAP_ANSWER_VERSION_TEXT GOCAP_TEXT2(GOCAP_ANSWER_VERSION)
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

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

/* The number of capabilities the kernel knows, as libcap's cap_max_bits:
 * the first one PR_CAPBSET_READ refuses, found by bisection (6 calls), as
 * capconf's OS.CapBits finds it. */
static int kernel_cap_bits(void)
{
    int lo = 0, hi = 64; /* PR_CAPBSET_READ accepts lo and refuses hi */
    if (prctl(PR_CAPBSET_READ, 0, 0, 0, 0) < 0)
        return 0;
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (prctl(PR_CAPBSET_READ, mid, 0, 0, 0) >= 0)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

/* What apply_iab could not do: why (with errno), how many Bounding drops
 * it had made (they cannot be undone), and whether the rest was put back. */
struct iab_failure {
    const char *why;
    int err, dropped, restored;
};

/* restore_caps puts the thread's Inheritable and Effective sets back to
 * before and, if ambient_changed, its Ambient set to amb. Returns 1 if it
 * could. */
static int restore_caps(capdata before, int ambient_changed, uint64_t amb, int bits)
{
    int ok = thread_caps(before, 1) == 0;
    if (ambient_changed && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
        ok = 0;
    for (int c = 0; ambient_changed && c < bits; c++)
        if ((amb >> c & 1) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0)
            ok = 0;
    return ok;
}

/* apply_iab sets the calling thread's Inheritable set to inh, its Ambient
 * set to amb and drops bound from its Bounding set, all or nothing:
 * returns 0, or -1 with *f filled and the thread as it was.
 *
 * libcap's cap_iab_set_proc (libcap/cap_proc.c, 2.78) sets Inheritable,
 * clears Ambient, then raises Ambient and drops Bounding bits one
 * capability at a time, and on a failure only lowers Effective again: a
 * refused Ambient raise leaves the new Inheritable set and some Bounding
 * bits dropped. Ours keeps libcap's result, and its rule that an
 * Inheritable bit must be in the Bounding set before the drops (so
 * "^!cap_x" works, as in pam_cap.so), but not its failures:
 *
 * - Everything that can refuse is checked first, on the state read here:
 *   CAP_SETPCAP for a drop or a new Inheritable bit, Inheritable within
 *   Bounding, SECBIT_NO_CAP_AMBIENT_RAISE, each Ambient bit in Permitted
 *   and the new Inheritable set.
 * - Then the steps that can be undone: Inheritable raised to old | new,
 *   then Ambient. Bounding drops, which cannot be undone, come last, once
 *   everything else holds. Dropping first would make both a failure after
 *   it impossible to undo (capset refuses an Inheritable bit that is in
 *   neither the Inheritable nor the Bounding set, so an old Inheritable
 *   bit also dropped could not come back) and "^!cap_x" impossible.
 * - Last, Inheritable is lowered to the new set, which cannot fail.
 * - A failure past the checks (which the kernel should not give) puts
 *   Inheritable, Effective and Ambient back as they were; only the drops
 *   made before it stay, and *f says how many.
 *
 * CAP_SETPCAP is raised in Effective only while needed, as libcap does. */
static int apply_iab(uint64_t inh, uint64_t amb, uint64_t bound, struct iab_failure *f)
{
    capdata before, work;
    uint64_t bset = 0, old_amb = 0;
    int ambient_changed = 0;
    memset(f, 0, sizeof *f);
    f->restored = 1;
    if (thread_caps(before, 0) != 0) {
        f->why = "reading the thread's capabilities failed";
        f->err = errno;
        return -1;
    }
    int bits = kernel_cap_bits();
    for (int c = 0; c < bits; c++) {
        if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
            bset |= 1ULL << c;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0) == 1)
            old_amb |= 1ULL << c;
    }
    uint64_t perm = permitted(before), old_inh = inheritable(before), drops = bound & bset;
    int secbits = prctl(PR_GET_SECUREBITS, 0, 0, 0, 0);
    int need_setpcap = drops != 0 || (inh & ~(old_inh | perm)) != 0;
    if (need_setpcap && !(perm & 1ULL << CAP_SETPCAP))
        f->why = "CAP_SETPCAP is not in the Permitted set";
    else if (inh & ~(old_inh | bset))
        f->why = "an Inheritable capability is not in the Bounding set";
    else if (amb != 0 && secbits > 0 && (secbits & SECBIT_NO_CAP_AMBIENT_RAISE))
        f->why = "SECBIT_NO_CAP_AMBIENT_RAISE is set";
    else if (amb & ~(perm & inh))
        f->why = "an Ambient capability is not in both the Permitted and the Inheritable set";
    if (f->why != NULL) {
        f->err = EPERM;
        return -1;
    }

    memcpy(work, before, sizeof work);
    if (need_setpcap) {
        work[CAP_TO_INDEX(CAP_SETPCAP)].effective |= CAP_TO_MASK(CAP_SETPCAP);
        if (thread_caps(work, 1) != 0) {
            f->why = "raising CAP_SETPCAP failed";
            goto undo;
        }
    }
    set_inheritable(work, old_inh | inh);
    if (thread_caps(work, 1) != 0) {
        f->why = "setting the Inheritable set failed";
        goto undo;
    }
    ambient_changed = 1;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {
        f->why = "clearing the Ambient set failed";
        goto undo;
    }
    for (int c = 0; c < bits; c++)
        if ((amb >> c & 1) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0) {
            f->why = "raising an Ambient capability failed";
            goto undo;
        }
    for (int c = 0; c < bits; c++)
        if (drops >> c & 1) {
            if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0) {
                f->why = "dropping a Bounding capability failed";
                goto undo;
            }
            f->dropped++;
        }
    /* Lowering Inheritable to inh keeps amb, which is within it. */
    memcpy(work, before, sizeof work);
    set_inheritable(work, inh);
    if (thread_caps(work, 1) == 0)
        return 0;
    f->why = "setting the Inheritable set failed";
undo:
    f->err = errno;
    f->restored = restore_caps(before, ambient_changed, old_amb, bits);
    errno = f->err;
    return -1;
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

/* log_iab_failure says why what (applying the IAB) failed, and that
 * nothing was granted, with the audit text of what would have been. */
static void log_iab_failure(pam_handle_t *pamh, const char *what, const struct iab_failure *f, const char *audit,
                            size_t audit_len)
{
    char dropped[96] = "";
    if (f->dropped > 0)
        snprintf(dropped, sizeof dropped, " (but for %d Bounding drop%s, which cannot be undone)", f->dropped,
                 f->dropped == 1 ? "" : "s");
    pam_syslog(pamh, LOG_ERR, "%s failed: %s: %s; %s%s; nothing granted: %.*s", what, f->why, strerror(f->err),
               f->restored ? "capabilities left as they were" : "putting the capabilities back failed too", dropped,
               (int)audit_len, audit);
}

/* ---- defer: apply at pam_end, in whatever process calls it ---- */

struct deferred_iab {
    uint64_t inh, amb, bound;
    /* Set once a process applies the IAB. Shared with every process
     * forked after setcred, so that su's parent, which ends PAM after its
     * child applied the IAB, knows it reached the session. */
    volatile int *applied;
    char audit[]; /* what is granted, for the audit line; "" with quiet */
};

/* apply_deferred is the pam_set_data cleanup. Like pam_cap.so it applies
 * the IAB only for pam_end(PAM_SUCCESS | PAM_DATA_SILENT), which is how a
 * host says "this is the process that goes on as the user". It is plain C,
 * so it is safe in a forked child. pam_end runs no module, so pam_syslog
 * prefixes only "PAM": the lines name the module and service themselves. */
static void apply_deferred(pam_handle_t *pamh, void *data, int status)
{
    struct deferred_iab *d = data;
    const void *service = NULL;
    int rc = status & ~(PAM_DATA_REPLACE | PAM_DATA_SILENT);
    if (pam_get_item(pamh, PAM_SERVICE, &service) != PAM_SUCCESS || service == NULL)
        service = "?";
    if (status & PAM_DATA_REPLACE) {
        /* a second setcred in this transaction keeps the new IAB instead */
    } else if ((status & PAM_DATA_SILENT) && rc == PAM_SUCCESS) {
        struct iab_failure f;
        if (apply_iab(d->inh, d->amb, d->bound, &f) != 0) {
            char what[128];
            snprintf(what, sizeof what, "pam_gocap(%.64s:setcred): deferred IAB", (const char *)service);
            log_iab_failure(pamh, what, &f, d->audit, strlen(d->audit));
        } else {
            *d->applied = 1;
            if (d->audit[0] != '\0')
                pam_syslog(pamh, LOG_INFO, "pam_gocap(%s:setcred): grant %s deferred", (const char *)service,
                           d->audit);
        }
    } else if (!*d->applied) {
        pam_syslog(pamh, LOG_WARNING,
                   "pam_gocap(%s:setcred): deferred IAB never applied: the host ended PAM without PAM_DATA_SILENT, "
                   "and no process it forked applied it (sshd never does); nothing reached the session: %s",
                   (const char *)service, d->audit[0] != '\0' ? d->audit : "(quiet)");
    }
    munmap((void *)d->applied, sizeof *d->applied);
    free(d);
}

/* ---- asking the helper, in a forked child ---- */

static long long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000LL + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* The helper runs two processes below the calling thread. The guard is a
 * clone with exit signal 0 that never execs: the host gets no SIGCHLD for
 * it, and its waitpid(-1) cannot reap it. The guard starts the helper as
 * its own child (exec makes any child's exit signal SIGCHLD again, so the
 * helper must not be the host's), reads its answer, kills it if it is late,
 * reaps it, and leaves all of that here, in memory it shares with the
 * calling thread, which waits for it (CLONE_VFORK). Descriptors are opened
 * in the guard's own table, so the host's is never touched but for the
 * helper file opened to check it. */
struct spawn {
    int exe;          /* the checked helper, opened by the calling thread */
    char **argv;
    char *stack;      /* the helper child's stack */
    size_t stack_size;
    int out, err, null; /* the helper's 1, 2 and 0, in the guard's table */
    char *answer;     /* ANSWER_MAX + 1 bytes */
    char err_text[STDERR_KEEP + 1];
    ssize_t len;      /* from read_helper, or -3: it closed its pipes but was not reaped by the deadline */
    int unreaped;     /* killed, but not gone within REAP_MARGIN_MS: left unreaped */
    int failed_errno; /* the guard could not prepare or start the helper */
    int exec_errno;   /* the helper child could not exec */
    siginfo_t status;
};

/* reset_signals puts every signal back to its default action, glibc's own
 * two (32 and 33) included, which its sigaction refuses to touch: an
 * ignored signal would stay ignored across exec. The system call is given
 * an all-zero struct, which reads as SIG_DFL, no flags and an empty mask
 * in every architecture's layout. */
static void reset_signals(void)
{
    unsigned long dfl[8] = { 0 };
    for (int sig = 1; sig < NSIG; sig++)
        syscall(SYS_rt_sigaction, sig, dfl, NULL, (size_t)8);
}

/* helper_child runs in the helper's process until exec, on its own stack,
 * sharing memory with the guard, with default signal actions. Only system
 * calls: it makes /dev/null and the pipes its 0, 1 and 2, closes
 * everything else at exec, unblocks signals and runs the checked helper
 * file with an empty environment. */
static int helper_child(void *arg)
{
    struct spawn *s = arg;
    sigset_t none;
    /* Lift each descriptor above 2 before placing it, since the host may
     * have closed 0, 1 or 2 and a pipe may be one of them. */
    int in = fcntl(s->null, F_DUPFD_CLOEXEC, 3), out = fcntl(s->out, F_DUPFD_CLOEXEC, 3),
        err = fcntl(s->err, F_DUPFD_CLOEXEC, 3);
    if (in < 0 || out < 0 || err < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
        goto fail;
#ifdef SYS_close_range
    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0)
#endif
    { /* Linux before 5.11 */
        struct rlimit nofile;
        rlim_t max = getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < 65536 ? nofile.rlim_cur : 65536;
        for (int fd = 3; fd < (int)max; fd++)
            fcntl(fd, F_SETFD, FD_CLOEXEC);
    }
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    char *envp[] = { NULL };
    syscall(SYS_execveat, s->exe, "", s->argv, envp, AT_EMPTY_PATH);
fail:
    s->exec_errno = errno;
    _exit(127);
}

/* start_child clones fn on stack as a process sharing our memory and waits
 * until it has exec'd or exited (CLONE_VFORK), with exit_signal as its
 * exit signal. It returns the pid and a pidfd (-1 on Linux before 5.2),
 * or -1. */
static pid_t start_child(int (*fn)(void *), char *stack, size_t size, int exit_signal, void *arg, int *pidfd)
{
    int flags = CLONE_VM | CLONE_VFORK | exit_signal;
    *pidfd = -1;
    pid_t pid = clone(fn, stack + size, flags | CLONE_PIDFD, arg, pidfd);
    if (pid < 0 && errno == EINVAL)
        pid = clone(fn, stack + size, flags, arg);
    return pid;
}

/* reap waits for a child of ours, by pidfd where there is one. */
static siginfo_t reap(pid_t pid, int pidfd)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    while ((pidfd >= 0 ? waitid(P_PIDFD, pidfd, &si, WEXITED | __WALL)
                       : waitid(P_PID, pid, &si, WEXITED | __WALL)) != 0 && errno == EINTR)
        ;
    return si;
}

/* reap_within reaps the child into *si if it can within ms, and says
 * whether it did. It never blocks in waitid: a child that has exited can
 * still be kept from its parent (by a tracer that does not let go), and
 * its pidfd then reads as exited while waitid would wait; that is retried
 * every 10 ms until the time is up. */
static int reap_within(pid_t pid, int pidfd, long long ms, siginfo_t *si)
{
    struct timespec t0, tick = { 0, 10 * 1000000 };
    int seen_exit = 0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        memset(si, 0, sizeof *si);
        int r = pidfd >= 0 ? waitid(P_PIDFD, pidfd, si, WEXITED | WNOHANG | __WALL)
                           : waitid(P_PID, pid, si, WEXITED | WNOHANG | __WALL);
        if (r == 0 && si->si_pid != 0)
            return 1;
        if (r != 0 && errno != EINTR)
            return 0;
        long long left = ms - ms_since(&t0);
        if (left <= 0)
            return 0;
        if (pidfd < 0 || seen_exit) {
            nanosleep(&tick, NULL);
        } else {
            struct pollfd p = { pidfd, POLLIN, 0 };
            seen_exit = poll(&p, 1, (int)left) > 0;
        }
    }
}

/* read_helper reads the helper's answer (at most ANSWER_MAX bytes) and the
 * start of its standard error until both pipes close, within the deadline
 * counted from t0. Returns the answer's length, -1 on time out, or -2
 * when the answer is too long. */
static ssize_t read_helper(struct spawn *s, const struct timespec *t0)
{
    size_t len = 0, elen = 0;
    int open_fds = 2;
    struct pollfd p[2] = { { s->out, POLLIN, 0 }, { s->err, POLLIN, 0 } };
    while (open_fds > 0) {
        long long left = HELPER_TIMEOUT_MS - ms_since(t0);
        int n = left > 0 ? poll(p, 2, (int)left) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        for (int i = 0; i < 2; i++) {
            char sink[512];
            if (p[i].fd < 0 || p[i].revents == 0)
                continue;
            char *dst = i == 0 ? s->answer + len : elen < STDERR_KEEP ? s->err_text + elen : sink;
            size_t room = i == 0 ? ANSWER_MAX - len : elen < STDERR_KEEP ? STDERR_KEEP - elen : sizeof sink;
            ssize_t r = read(p[i].fd, dst, room);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                p[i].fd = -1;
                open_fds--;
            } else if (i == 0 && (len += (size_t)r) == ANSWER_MAX) {
                return -2;
            } else if (i == 1 && dst != sink) {
                elen += (size_t)r;
            }
        }
    }
    s->err_text[elen] = '\0';
    return (ssize_t)len;
}

/* helper_guard is the guard process: everything between the calling
 * thread and the helper. It runs with every signal blocked and, first of
 * all, every action back to default, so that no host handler can run in
 * it.
 *
 * The deadline is hard: the helper must have closed its pipes and exited
 * within HELPER_TIMEOUT_MS of its start, or it is killed and its answer,
 * if any, is not used. A killed helper gets REAP_MARGIN_MS more to be
 * gone; one that is not (stuck in uninterruptible sleep, or held by a
 * tracer) is left unreaped: the guard exits, and the helper, its orphan,
 * is reaped by init (or the host's nearest subreaper) whenever it dies.
 * So the calling thread, which waits only for the guard, never waits more
 * than HELPER_TIMEOUT_MS + REAP_MARGIN_MS. */
static int helper_guard(void *arg)
{
    struct spawn *s = arg;
    struct timespec t0;
    int out[2], err[2], pidfd;
    reset_signals();
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 ||
        (s->null = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0) {
        s->failed_errno = errno;
        _exit(1);
    }
    s->out = out[1];
    s->err = err[1];
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = start_child(helper_child, s->stack, s->stack_size, SIGCHLD, s, &pidfd);
    if (pid < 0) {
        s->failed_errno = errno;
        _exit(1);
    }
    close(out[1]);
    close(err[1]);
    s->out = out[0];
    s->err = err[0];
    s->len = s->exec_errno != 0 ? 0 : read_helper(s, &t0);
    if (s->len == -2 || !reap_within(pid, pidfd, HELPER_TIMEOUT_MS - ms_since(&t0), &s->status)) {
        if (pidfd < 0 || syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) != 0)
            kill(pid, SIGKILL); /* not reaped yet, so still ours */
        if (s->len >= 0)
            s->len = -3;
        s->unreaped = !reap_within(pid, pidfd, REAP_MARGIN_MS, &s->status);
    }
    _exit(0);
}

/* open_helper opens the helper and checks it on the open file, which is
 * then what runs, so it cannot be swapped in between: a regular file owned
 * by root that nobody else can write, and an ELF program, not a script. */
static int open_helper(pam_handle_t *pamh)
{
    struct stat st;
    unsigned char magic[4];
    int exe = open(PAM_GOCAP_HELPER, O_RDONLY | O_CLOEXEC);
    if (exe < 0) {
        pam_syslog(pamh, LOG_ERR, "helper %s cannot be opened: %m; nothing granted", PAM_GOCAP_HELPER);
        return -1;
    }
    if (fstat(exe, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
        pam_syslog(pamh, LOG_ERR, "helper %s is not a regular file owned and only writable by root; not run; nothing granted",
                   PAM_GOCAP_HELPER);
    } else if (pread(exe, magic, 4, 0) != 4 || memcmp(magic, "\177ELF", 4) != 0) {
        pam_syslog(pamh, LOG_ERR, "helper %s is not an ELF program (a script?); not run; nothing granted",
                   PAM_GOCAP_HELPER);
    } else {
        return exe;
    }
    close(exe);
    return -1;
}

/* log_helper_failure says in one line why the helper gave no answer. */
static void log_helper_failure(pam_handle_t *pamh, struct spawn *s)
{
    const siginfo_t *si = &s->status;
    char *err = s->err_text;
    err[strcspn(err, "\n")] = '\0';
    if (s->failed_errno != 0)
        pam_syslog(pamh, LOG_ERR, "helper %s cannot be started: %s; nothing granted", PAM_GOCAP_HELPER,
                   strerror(s->failed_errno));
    else if (s->exec_errno != 0)
        pam_syslog(pamh, LOG_ERR, "helper %s cannot be run: %s; nothing granted", PAM_GOCAP_HELPER,
                   strerror(s->exec_errno));
    else if (s->len < 0) {
        char unreaped[96] = "";
        if (s->unreaped)
            snprintf(unreaped, sizeof unreaped, ", but not gone %d ms later: left for init to reap", REAP_MARGIN_MS);
        if (s->len == -2)
            pam_syslog(pamh, LOG_ERR, "helper %s answer is longer than %d bytes; killed%s; nothing granted",
                       PAM_GOCAP_HELPER, ANSWER_MAX, unreaped);
        else
            pam_syslog(pamh, LOG_ERR, "helper %s %s within %d ms; killed%s; nothing granted", PAM_GOCAP_HELPER,
                       s->len == -1 ? "gave no answer" : "closed its pipes but was not gone", HELPER_TIMEOUT_MS,
                       unreaped);
    }
    else if (si->si_code == CLD_KILLED || si->si_code == CLD_DUMPED)
        pam_syslog(pamh, LOG_ERR, "helper %s killed by signal %d (%s)%s%s; nothing granted", PAM_GOCAP_HELPER,
                   si->si_status, strsignal(si->si_status), *err ? ": " : "", err);
    else
        pam_syslog(pamh, LOG_ERR, "helper %s exited %d%s%s; nothing granted", PAM_GOCAP_HELPER, si->si_status,
                   *err ? ": " : "", err);
}

/* ask_helper runs the helper with the request on its command line and
 * returns its answer (malloc'ed) and its length, or NULL after logging why
 * there is none. */
static char *ask_helper(pam_handle_t *pamh, int entry, int status, const char *user, int argc,
                        const char **argv, size_t *answer_len)
{
    const size_t stack_size = 64 * 1024;
    char version[16], e[16], st[16];
    struct spawn s;
    memset(&s, 0, sizeof s);
    s.answer = malloc(ANSWER_MAX + 1);
    s.argv = calloc((size_t)argc + 6, sizeof *s.argv);
    /* Two stacks: the guard's, and the helper child's while the guard waits. */
    char *stacks = mmap(NULL, 2 * stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (s.answer == NULL || s.argv == NULL || stacks == MAP_FAILED) {
        pam_syslog(pamh, LOG_ERR, "helper %s cannot be prepared: %m; nothing granted", PAM_GOCAP_HELPER);
        goto fail;
    }
    if ((s.exe = open_helper(pamh)) < 0)
        goto fail;
    snprintf(version, sizeof version, "%d", GOCAP_ANSWER_VERSION);
    snprintf(e, sizeof e, "%d", entry);
    snprintf(st, sizeof st, "%d", status);
    s.argv[0] = PAM_GOCAP_HELPER;
    s.argv[1] = version;
    s.argv[2] = e;
    s.argv[3] = st;
    s.argv[4] = (char *)(user != NULL ? user : "");
    for (int i = 0; i < argc; i++)
        s.argv[5 + i] = (char *)argv[i];
    s.stack = stacks + stack_size;
    s.stack_size = stack_size;

    sigset_t all, old;
    int pidfd;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t guard = start_child(helper_guard, stacks, stack_size, 0, &s, &pidfd);
    int saved = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(s.exe);
    if (guard < 0) {
        s.failed_errno = saved;
    } else {
        reap(guard, pidfd);
        if (pidfd >= 0)
            close(pidfd);
    }
    if (s.failed_errno == 0 && s.exec_errno == 0 && s.len >= 0 && s.status.si_code == CLD_EXITED &&
        s.status.si_status == 0) {
        *answer_len = (size_t)s.len;
        s.answer[s.len] = '\0';
        goto out;
    }
    log_helper_failure(pamh, &s);
fail:
    free(s.answer);
    s.answer = NULL;
out:
    if (stacks != MAP_FAILED)
        munmap(stacks, 2 * stack_size);
    free(s.argv);
    return s.answer;
}

/* ---- reading the answer ---- */

struct answer {
    int result, action, keepcaps;
    uint64_t inh, amb, bound;
    const char *audit; /* the audit line's text, up to its newline, or "" */
    size_t audit_len;
};

/* digit reads one decimal digit from lo to hi at *p. */
static int digit(const char **p, int lo, int hi, int *v)
{
    if (**p < '0' + lo || **p > '0' + hi)
        return -1;
    *v = *(*p)++ - '0';
    return 0;
}

/* hex reads a vector as Go's %x writes it: 1 to 16 lower-case digits, no
 * sign, no leading zero but in "0". */
static int hex(const char **p, uint64_t *v)
{
    const char *s = *p;
    int n = 0;
    *v = 0;
    for (; (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f'); s++, n++)
        *v = *v << 4 | (uint64_t)(*s <= '9' ? *s - '0' : *s - 'a' + 10);
    if (n == 0 || n > 16 || (n > 1 && **p == '0'))
        return -1;
    *p = s;
    return 0;
}

static int space(const char **p) { return *(*p)++ == ' ' ? 0 : -1; }

/* text reads the rest of a line of printable text, up to its newline. */
static int text_line(const char **p)
{
    for (; **p != '\n'; (*p)++)
        if (**p == '\0' || (unsigned char)**p < 0x20 || **p == 0x7f)
            return -1;
    (*p)++;
    return 0;
}

/* parse_answer checks that text is exactly what capconf.Answer.Encode
 * writes (a version line, log lines, at most one audit line, one answer
 * line, each ending in a newline, nothing else) and fills a. It returns
 * NULL, or why the answer is refused, with the line number in *line. */
static const char *parse_answer(const char *text, size_t len, int cap_bits, struct answer *a, int *line)
{
    static const char version[] = "pam_gocap " GOCAP_ANSWER_VERSION_TEXT "\n";
    const char *p = text, *end = text + len;
    *line = 1;
    if (strlen(text) != len)
        return "NUL byte";
    if (strncmp(p, version, sizeof version - 1) != 0)
        return "not version " GOCAP_ANSWER_VERSION_TEXT;
    for (p += sizeof version - 1, (*line)++; p < end && strncmp(p, "log ", 4) == 0; (*line)++) {
        int prio;
        p += 4;
        if (digit(&p, LOG_EMERG, LOG_DEBUG, &prio) != 0 || space(&p) != 0)
            return "bad log priority";
        if (text_line(&p) != 0)
            return "control byte in a log message";
    }
    a->audit = "";
    a->audit_len = 0;
    if (strncmp(p, "audit ", 6) == 0) {
        a->audit = p + 6;
        if (text_line(&p) != 0)
            return "control byte in the audit line";
        a->audit_len = (size_t)(p - 1 - a->audit);
        (*line)++;
    }
    if (strncmp(p, "answer ", 7) != 0)
        return "no answer line";
    p += 7;
    if (digit(&p, GOCAP_IGNORE, GOCAP_INCOMPLETE, &a->result) != 0 || space(&p) != 0)
        return "unknown result";
    if (digit(&p, GOCAP_NO_ACTION, GOCAP_DEFER_IAB, &a->action) != 0 || space(&p) != 0)
        return "unknown action";
    if (hex(&p, &a->inh) != 0 || space(&p) != 0 || hex(&p, &a->amb) != 0 || space(&p) != 0 || hex(&p, &a->bound) != 0 ||
        space(&p) != 0)
        return "bad capability vector";
    if (digit(&p, 0, 1, &a->keepcaps) != 0)
        return "keepcaps is not 0 or 1";
    if (*p++ != '\n' || p != end)
        return "more after the answer line";
    if (cap_bits < 64 && ((a->inh | a->amb | a->bound) >> cap_bits) != 0)
        return "capability past the kernel's last";
    return NULL;
}

/* log_answer passes the answer's log lines to pam_syslog. */
static void log_answer(pam_handle_t *pamh, char *text)
{
    char *save = NULL;
    for (char *l = strtok_r(text, "\n", &save); l != NULL; l = strtok_r(NULL, "\n", &save))
        if (strncmp(l, "log ", 4) == 0)
            pam_syslog(pamh, l[4] - '0', "%s", l + 6);
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

/* act checks the answer, logs its messages, applies its action to this
 * thread and returns the PAM code. Anything malformed grants nothing. */
static int act(pam_handle_t *pamh, char *text, size_t len)
{
    struct answer a;
    int line;
    const char *bad = parse_answer(text, len, kernel_cap_bits(), &a, &line);
    if (bad != NULL) {
        pam_syslog(pamh, LOG_ERR, "decision refused: line %d: %s; nothing granted", line, bad);
        return PAM_IGNORE;
    }
    int audit_len = (int)a.audit_len;
    log_answer(pamh, text);
    switch (a.action) {
    case GOCAP_CLEAR_INH:
        if (clear_inheritable() != 0) {
            pam_syslog(pamh, LOG_ERR, "clearing the Inheritable set failed: %m; not granted: %.*s", audit_len, a.audit);
            return PAM_IGNORE;
        }
        if (audit_len > 0)
            pam_syslog(pamh, LOG_INFO, "grant %.*s", audit_len, a.audit);
        return PAM_SUCCESS;
    case GOCAP_APPLY_IAB: {
        struct iab_failure f;
        if (apply_iab(a.inh, a.amb, a.bound, &f) != 0) {
            log_iab_failure(pamh, "applying the IAB", &f, a.audit, a.audit_len);
            return PAM_IGNORE;
        }
        if (a.keepcaps)
            prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
        if (audit_len > 0)
            pam_syslog(pamh, LOG_INFO, "grant %.*s", audit_len, a.audit);
        return PAM_SUCCESS;
    }
    case GOCAP_DEFER_IAB: {
        struct deferred_iab *d = malloc(sizeof *d + a.audit_len + 1);
        void *page = mmap(NULL, sizeof *d->applied, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (d == NULL || page == MAP_FAILED) {
            pam_syslog(pamh, LOG_ERR, "cannot keep the IAB for pam_end: %m; nothing granted");
            free(d);
            if (page != MAP_FAILED)
                munmap(page, sizeof *d->applied);
            return PAM_IGNORE;
        }
        d->applied = page;
        d->inh = a.inh;
        d->amb = a.amb;
        d->bound = a.bound;
        memcpy(d->audit, a.audit, a.audit_len);
        d->audit[a.audit_len] = '\0';
        if (pam_set_data(pamh, DEFER_KEY, d, apply_deferred) != PAM_SUCCESS) {
            pam_syslog(pamh, LOG_ERR, "cannot keep the IAB for pam_end; nothing granted");
            munmap(page, sizeof *d->applied);
            free(d);
            return PAM_IGNORE;
        }
        if (a.keepcaps)
            prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
        return PAM_IGNORE;
    }
    }
    return pam_result(a.result);
}

static int run(pam_handle_t *pamh, int entry, int status, const char *user, int argc, const char **argv)
{
    size_t len = 0;
    char *answer = NULL;
    if (go_may_run()) {
        answer = gocap_decide(entry, status, (char *)user, argc, (char **)argv);
        len = strlen(answer); /* Go's C.CString: the text has no NUL */
    } else if ((answer = ask_helper(pamh, entry, status, user, argc, argv, &len)) == NULL) {
        return PAM_IGNORE; /* ask_helper said why */
    }
    int rc = act(pamh, answer, len);
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
