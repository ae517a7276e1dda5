/*
 * pamhost: a minimal C PAM application for pam_gocap's tests, standing in
 * for login, su and sshd. It runs one PAM transaction per invocation from a
 * private service directory and prints what happened, one "key value" line
 * per step, so that tests can compare modules.
 *
 *   pamhost -d CONFDIR -s SERVICE [-u USER] [-c again|fail] OP...
 *
 * OPs, in order:
 *   auth            pam_authenticate
 *   setcred:FLAG    pam_setcred with establish|reinit|refresh|delete
 *   caps            this thread's Inheritable, Ambient, Bounding, keepcaps
 *   end:STATUS      pam_end with success|silent (PAM_SUCCESS|PAM_DATA_SILENT)
 *                   |fail (PAM_AUTH_ERR|SILENT)
 *   fork:N          N times in a row: authenticate here, then fork a child
 *                   that runs setcred:establish, end:silent and caps, and
 *                   wait for it at most 30 s (prints "child I timeout")
 *   threads:U1,U2,..:ROUNDS  one thread per user, each running ROUNDS whole
 *                   transactions (auth, setcred, caps, end) at once
 *   soak:N:S1,S2,..:U1,U2,..  N whole transactions in a row, rotating
 *                   services and users; prints resident memory, the C
 *                   heap in use (mallinfo2), open descriptors and threads
 *                   after every 1000th and the last
 *   bench:N         N whole transactions (start, auth, setcred, end) after
 *                   100 untimed ones; prints microseconds per transaction
 *   signals         install handlers for SIGCHLD, SIGINT, SIGTERM, SIGHUP,
 *                   SIGALRM and SIGPIPE, run auth, setcred and end, and print
 *                   every signal whose handler was replaced or whose flags
 *                   changed
 *   fork-end        as su does after setcred: fork a child that calls
 *                   end:silent and prints its caps ("child caps ..."),
 *                   and wait for it; the parent's handle stays open
 *   clone:N         as fork:N, but each child is made by a raw
 *                   clone(CLONE_NEWPID) system call: no atfork handler runs,
 *                   and the child is pid 1 of a new pid namespace
 *   state           print what the module could change in this process:
 *                   every resource limit, the environment (pointers and
 *                   text), this thread's signal mask and alternate stack,
 *                   the number of threads
 *   nofile:SOFT:HARD, as:BYTES  set RLIMIT_NOFILE or RLIMIT_AS (soft and hard)
 *   hostile         leave descriptors 3 to 9 open without close-on-exec,
 *                   ignore SIGINT and signal 32 (glibc's own, which its
 *                   sigaction refuses), block SIGUSR1 and SIGTERM, and reap every
 *                   child in a SIGCHLD handler (waitpid(-1)); at the end,
 *                   print how many children that handler reaped
 *   unshare-user    try unshare(CLONE_NEWUSER) and print the result
 *   altstack        give this thread an alternate signal stack of its own
 *   fill, unfill    open /dev/null until no descriptor is left; close them
 *   drop:N          drop capability N from this thread's Bounding set
 *   secbits:N       set this thread's securebits to N (PR_SET_SECUREBITS)
 *   refuse-prctl:OPTION:ARG2[:ARG3]  make the kernel refuse
 *                   prctl(OPTION, ARG2[, ARG3]) in this thread, with EPERM
 *                   (a seccomp filter), and nothing else: a failure past
 *                   what a module can check first
 *   full            give this thread the full, mixed starting state:
 *                   Inheritable cap_chown,cap_kill,cap_net_raw,cap_sys_nice,
 *                   Ambient cap_kill,cap_sys_nice, cap_mknod dropped from
 *                   Bounding, keepcaps on
 *   memory          (starts the handle, which loads the modules) wait 200 ms
 *                   for the host to settle, then print its private dirty
 *                   memory (smaps_rollup), resident memory and threads
 *   cases:FILE      one transaction per line of FILE, "SERVICE USER FLAG
 *                   START" (FLAG as for setcred, START empty or full), each
 *                   on a new thread: authenticate (then pam_end), then in a
 *                   second handle setcred:FLAG, caps, end:silent, caps; every
 *                   line printed starts "case N "
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <malloc.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

static const char *confdir, *service, *user, *conv_mode = "";

static const char *code(int rc)
{
    static char buf[32];
    switch (rc) {
    case PAM_SUCCESS: return "SUCCESS";
    case PAM_IGNORE: return "IGNORE";
    case PAM_AUTH_ERR: return "AUTH_ERR";
    case PAM_INCOMPLETE: return "INCOMPLETE";
    case PAM_PERM_DENIED: return "PERM_DENIED";
    case PAM_CONV_AGAIN: return "CONV_AGAIN";
    case PAM_SYSTEM_ERR: return "SYSTEM_ERR";
    case PAM_USER_UNKNOWN: return "USER_UNKNOWN";
    case PAM_CRED_ERR: return "CRED_ERR";
    }
    snprintf(buf, sizeof buf, "%d", rc);
    return buf;
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
    (void)msg; (void)data;
    if (strcmp(conv_mode, "again") == 0)
        return PAM_CONV_AGAIN;
    if (strcmp(conv_mode, "fail") == 0)
        return PAM_CONV_ERR;
    *resp = calloc((size_t)n, sizeof **resp);
    return *resp ? PAM_SUCCESS : PAM_BUF_ERR;
}

/* caps prints the calling thread's vectors as /proc reports them. */
static void caps(FILE *out, const char *prefix)
{
    char line[256], text[1024] = "";
    FILE *f = fopen("/proc/thread-self/status", "r");
    while (f && fgets(line, sizeof line, f)) {
        unsigned long long v;
        char name[16];
        if (sscanf(line, "Cap%15[A-Za-z]: %llx", name, &v) == 2 &&
            (!strcmp(name, "Inh") || !strcmp(name, "Amb") || !strcmp(name, "Bnd"))) {
            size_t l = strlen(text);
            snprintf(text + l, sizeof text - l, " %s=%016llx", name, v);
        }
    }
    if (f)
        fclose(f);
    fprintf(out, "%scaps%s keep=%d\n", prefix, text, prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
    fflush(out);
}

static int setcred_flag(const char *name)
{
    if (!strcmp(name, "establish")) return PAM_ESTABLISH_CRED;
    if (!strcmp(name, "reinit")) return PAM_REINITIALIZE_CRED;
    if (!strcmp(name, "refresh")) return PAM_REFRESH_CRED;
    if (!strcmp(name, "delete")) return PAM_DELETE_CRED;
    fprintf(stderr, "pamhost: unknown setcred flag %s\n", name);
    exit(2);
}

static int end_status(const char *name)
{
    if (!strcmp(name, "success")) return PAM_SUCCESS;
    if (!strcmp(name, "silent")) return PAM_SUCCESS | PAM_DATA_SILENT;
    if (!strcmp(name, "fail")) return PAM_AUTH_ERR | PAM_DATA_SILENT;
    fprintf(stderr, "pamhost: unknown end status %s\n", name);
    exit(2);
}

static pam_handle_t *start(const char *who)
{
    static const struct pam_conv c = { conv, NULL };
    pam_handle_t *pamh = NULL;
    int rc = pam_start_confdir(service, who, &c, confdir, &pamh);
    if (rc != PAM_SUCCESS) {
        fprintf(stderr, "pamhost: pam_start_confdir: %s\n", code(rc));
        exit(2);
    }
    return pamh;
}

/* full gives the calling thread a starting state with something in every
 * vector, so that what a module replaces, clears or leaves shows. */
static void full(void)
{
    const unsigned long long inh = 1ULL << CAP_CHOWN | 1ULL << CAP_KILL | 1ULL << CAP_NET_RAW | 1ULL << CAP_SYS_NICE;
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    if (syscall(SYS_capget, &h, d) != 0)
        goto fail;
    d[0].inheritable = (unsigned)inh;
    d[1].inheritable = (unsigned)(inh >> 32);
    if (syscall(SYS_capset, &h, d) != 0 || prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_KILL, 0, 0) != 0 ||
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_NICE, 0, 0) != 0 ||
        prctl(PR_CAPBSET_DROP, CAP_MKNOD, 0, 0, 0) != 0 || prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0)
        goto fail;
    return;
fail:
    perror("pamhost: full");
    exit(2);
}

struct one_case {
    int n;
    char service[256], user[64], flag[16], start[8];
};

static void *run_case(void *arg)
{
    struct one_case *k = arg;
    char prefix[32];
    snprintf(prefix, sizeof prefix, "case %d ", k->n);
    if (!strcmp(k->start, "full"))
        full();
    service = k->service;
    pam_handle_t *pamh = start(k->user);
    printf("%sauthenticate %s\n", prefix, code(pam_authenticate(pamh, 0)));
    pam_end(pamh, PAM_SUCCESS);
    pamh = start(k->user);
    printf("%ssetcred %s\n", prefix, code(pam_setcred(pamh, setcred_flag(k->flag))));
    caps(stdout, prefix);
    pam_end(pamh, PAM_SUCCESS | PAM_DATA_SILENT);
    caps(stdout, prefix);
    return NULL;
}

/* cases runs the transactions listed in path, one thread each, in turn. */
static void cases(const char *path)
{
    char line[512];
    FILE *f = fopen(path, "r");
    struct one_case k = { 0 };
    if (f == NULL) {
        perror(path);
        exit(2);
    }
    while (fgets(line, sizeof line, f)) {
        pthread_t t;
        if (sscanf(line, "%255s %63s %15s %7s", k.service, k.user, k.flag, k.start) != 4) {
            fprintf(stderr, "pamhost: bad case line %s", line);
            exit(2);
        }
        pthread_create(&t, NULL, run_case, &k);
        pthread_join(t, NULL);
        k.n++;
    }
    fclose(f);
}

/* wait_child waits for pid at most 30 s, well past the helper's deadline;
 * returns 0, or -1 on timeout. */
static int wait_child(pid_t pid)
{
    for (int i = 0; i < 30000; i++) {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return 0;
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

static volatile sig_atomic_t reaped;

/* child_transaction is what a session child does: setcred, pam_end as the
 * process that goes on as the user, and report. */
static void child_transaction(pam_handle_t *pamh, int i)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "child %d ", i);
    int rc = pam_setcred(pamh, PAM_ESTABLISH_CRED);
    pam_end(pamh, PAM_SUCCESS | PAM_DATA_SILENT);
    printf("child %d setcred %s\n", i, code(rc));
    if (reaped)
        printf("child %d reaped %d\n", i, (int)reaped);
    caps(stdout, prefix);
}

/* fork_children authenticates in this process before every fork, so that
 * the module's Go heap is at a different point in each child: a child that
 * ran Go would sooner or later need a garbage collection, and hang. */
static void fork_children(pam_handle_t *pamh, int n, int raw_clone)
{
    for (int i = 0; i < n; i++) {
        printf("authenticate %s\n", code(pam_authenticate(pamh, 0)));
        fflush(stdout);
        pid_t pid = raw_clone ? (pid_t)syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, NULL, NULL, NULL, NULL) : fork();
        if (pid == 0) {
            if (raw_clone)
                printf("child %d pid %d\n", i, (int)getpid());
            child_transaction(pamh, i);
            _exit(0);
        }
        if (pid < 0 || wait_child(pid) != 0) {
            printf("child %d timeout\n", i);
            fflush(stdout);
        }
    }
}

struct worker {
    pthread_t tid;
    const char *user;
    int rounds;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    for (int r = 0; r < w->rounds; r++) {
        pam_handle_t *pamh = start(w->user);
        char prefix[128];
        int a = pam_authenticate(pamh, 0);
        int s = pam_setcred(pamh, PAM_ESTABLISH_CRED);
        snprintf(prefix, sizeof prefix, "thread %s %d %s %s ", w->user, r, code(a), code(s));
        caps(stdout, prefix);
        pam_end(pamh, PAM_SUCCESS);
    }
    return NULL;
}

static void threads(const char *spec)
{
    char *users = strdup(spec), *colon = strrchr(users, ':');
    int rounds = colon ? atoi(colon + 1) : 1, n = 0;
    struct worker ws[64];
    if (colon)
        *colon = '\0';
    for (char *save, *u = strtok_r(users, ",", &save); u && n < 64; u = strtok_r(NULL, ",", &save))
        ws[n++] = (struct worker){ .user = u, .rounds = rounds };
    for (int i = 0; i < n; i++)
        pthread_create(&ws[i].tid, NULL, work, &ws[i]);
    for (int i = 0; i < n; i++)
        pthread_join(ws[i].tid, NULL);
}

/* status_kb reads a "Name:   N kB" (or plain N) field of /proc/self/status. */
/* proc_field reads the number after "NAME:" in a /proc file, -1 if none. */
static long proc_field(const char *path, const char *name)
{
    char line[256];
    long v = -1;
    size_t n = strlen(name);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, name, n) && line[n] == ':')
            v = atol(line + n + 1);
    if (f)
        fclose(f);
    return v;
}

static long status_field(const char *name)
{
    return proc_field("/proc/self/status", name);
}

static int open_fds(void)
{
    int n = 0;
    DIR *d = opendir("/proc/self/fd");
    while (d && readdir(d))
        n++;
    if (d)
        closedir(d);
    return n - 3; /* ".", ".." and the directory itself */
}

static void soak(const char *spec)
{
    char *copy = strdup(spec), *save;
    int n = atoi(strtok_r(copy, ":", &save));
    char *services = strtok_r(NULL, ":", &save), *users = strtok_r(NULL, ":", &save);
    const char *svc[16], *usr[16];
    int ns = 0, nu = 0;
    for (char *s2, *t = strtok_r(services, ",", &s2); t && ns < 16; t = strtok_r(NULL, ",", &s2))
        svc[ns++] = t;
    for (char *s2, *t = strtok_r(users, ",", &s2); t && nu < 16; t = strtok_r(NULL, ",", &s2))
        usr[nu++] = t;
    const char *keep = service;
    for (int i = 1; i <= n; i++) {
        service = svc[i % ns];
        pam_handle_t *pamh = start(usr[i % nu]);
        pam_authenticate(pamh, 0);
        pam_setcred(pamh, PAM_ESTABLISH_CRED);
        pam_end(pamh, PAM_SUCCESS);
        if (i % 1000 == 0 || i == n)
            printf("soak %d rss_kb=%ld heap=%zu fds=%d threads=%ld\n", i, status_field("VmRSS"), mallinfo2().uordblks,
                   open_fds(), status_field("Threads"));
    }
    service = keep;
    free(copy);
}

static void bench(int n)
{
    struct timespec t0, t1;
    for (int i = -100; i < n; i++) {
        if (i == 0)
            clock_gettime(CLOCK_MONOTONIC, &t0);
        pam_handle_t *pamh = start(user);
        pam_authenticate(pamh, 0);
        pam_setcred(pamh, PAM_ESTABLISH_CRED);
        pam_end(pamh, PAM_SUCCESS);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3 / n;
    printf("bench %d us_per_transaction=%.1f\n", n, us);
}

/* refuse_prctl installs, on this thread (and what it starts), a seccomp
 * filter that fails prctl(option, arg2) (and arg3, if not -1) with EPERM
 * and lets everything else through. Only the arguments' low 32 bits are
 * compared (little-endian layout). */
static void refuse_prctl(long option, long arg2, long arg3)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_prctl, 0, 6),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)option, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)arg2, arg3 < 0 ? 3 : 0, 2),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[2])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)arg3, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    };
    struct sock_fprog prog = { sizeof f / sizeof f[0], f };
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) {
        perror("pamhost: refuse-prctl");
        exit(2);
    }
}

static void on_signal(int sig) { (void)sig; }

/* state prints what loading and using the module could change. */

static void memory(void)
{
    usleep(200000);
    printf("memory private_dirty_kb=%ld rss_kb=%ld threads=%ld\n", proc_field("/proc/self/smaps_rollup", "Private_Dirty"), status_field("VmRSS"),
           status_field("Threads"));
}

static void state(const char *when)
{
    extern char **environ;
    for (int r = 0; r < RLIM_NLIMITS; r++) {
        struct rlimit l;
        getrlimit(r, &l);
        printf("%s rlimit %d %llu %llu\n", when, r, (unsigned long long)l.rlim_cur, (unsigned long long)l.rlim_max);
    }
    for (char **e = environ; e && *e; e++)
        printf("%s env %p %s\n", when, (void *)*e, *e);
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, NULL, &mask);
    printf("%s mask", when);
    for (int s = 1; s < 65; s++)
        if (sigismember(&mask, s) == 1)
            printf(" %d", s);
    stack_t ss;
    sigaltstack(NULL, &ss);
    printf("\n%s altstack flags=%d size=%zu\n", when, ss.ss_flags, ss.ss_size);
    printf("%s threads %ld\n", when, status_field("Threads"));
}

static int filled[1 << 16], nfilled;

/* fill uses up every descriptor the soft limit allows. */
static void fill(void)
{
    int fd;
    while (nfilled < (int)(sizeof filled / sizeof filled[0]) && (fd = open("/dev/null", O_RDONLY)) >= 0)
        filled[nfilled++] = fd;
}

static void unfill(void)
{
    while (nfilled > 0)
        close(filled[--nfilled]);
}

static void set_limit(int resource, const char *spec)
{
    struct rlimit l;
    char *colon;
    l.rlim_cur = strtoull(spec, &colon, 10);
    l.rlim_max = *colon == ':' ? strtoull(colon + 1, NULL, 10) : l.rlim_cur;
    if (setrlimit(resource, &l) != 0) {
        perror("pamhost: setrlimit");
        exit(2);
    }
}

static void reap_all(int sig)
{
    (void)sig;
    int saved = errno;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        reaped++;
    errno = saved;
}

/* hostile sets up a host that is careless in every way a helper could
 * inherit: open descriptors, an ignored and two blocked signals, and a
 * SIGCHLD handler that reaps every child it hears of. */
static void hostile(void)
{
    for (int fd = 3; fd < 10; fd++)
        if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDONLY) != fd)
            exit(2);
    signal(SIGINT, SIG_IGN);
    unsigned long ign[8] = { (unsigned long)SIG_IGN }; /* x86_64 and arm64 layout */
    syscall(SYS_rt_sigaction, 32, ign, NULL, (size_t)8);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = reap_all;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
}

static void signals(void)
{
    static const int mine[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGALRM, SIGPIPE };
    struct sigaction before[65], after[65], sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    for (size_t i = 0; i < sizeof mine / sizeof mine[0]; i++)
        sigaction(mine[i], &sa, NULL);
    for (int s = 1; s < 65; s++)
        sigaction(s, NULL, &before[s]);
    pam_handle_t *pamh = start(user);
    printf("authenticate %s\n", code(pam_authenticate(pamh, 0)));
    printf("setcred %s\n", code(pam_setcred(pamh, PAM_ESTABLISH_CRED)));
    pam_end(pamh, PAM_SUCCESS);
    for (int s = 1; s < 65; s++) {
        sigaction(s, NULL, &after[s]);
        int added = after[s].sa_flags & ~before[s].sa_flags, removed = before[s].sa_flags & ~after[s].sa_flags;
        if (after[s].sa_handler != before[s].sa_handler)
            printf("signal %d handler replaced\n", s);
        else if (added == SA_ONSTACK && !removed)
            printf("signal %d SA_ONSTACK added\n", s);
        else if (added || removed)
            printf("signal %d flags +%#x -%#x\n", s, added, removed);
    }
    printf("signals checked\n");
}

int main(int argc, char **argv)
{
    int opt;
    while ((opt = getopt(argc, argv, "d:s:u:c:")) != -1) {
        switch (opt) {
        case 'd': confdir = optarg; break;
        case 's': service = optarg; break;
        case 'u': user = optarg; break;
        case 'c': conv_mode = optarg; break;
        default: return 2;
        }
    }
    if (!confdir || !service) {
        fprintf(stderr, "usage: pamhost -d CONFDIR -s SERVICE [-u USER] [-c again|fail] OP...\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    pam_handle_t *pamh = NULL;
    for (int i = optind; i < argc; i++) {
        const char *op = argv[i], *arg = strchr(op, ':');
        arg = arg ? arg + 1 : "";
        if (!strncmp(op, "threads:", 8)) {
            threads(arg);
            continue;
        }
        if (!strncmp(op, "soak:", 5)) {
            soak(arg);
            continue;
        }
        if (!strncmp(op, "bench:", 6)) {
            bench(atoi(arg));
            continue;
        }
        if (!strcmp(op, "signals")) {
            signals();
            continue;
        }
        if (!strcmp(op, "state")) {
            state(pamh == NULL ? "before" : "after");
            continue;
        }
        if (!strncmp(op, "nofile:", 7) || !strncmp(op, "as:", 3)) {
            set_limit(op[0] == 'n' ? RLIMIT_NOFILE : RLIMIT_AS, arg);
            continue;
        }
        if (!strcmp(op, "hostile")) {
            hostile();
            continue;
        }
        if (!strncmp(op, "cases:", 6)) {
            cases(arg);
            continue;
        }
        if (!strncmp(op, "drop:", 5)) {
            if (prctl(PR_CAPBSET_DROP, atoi(arg), 0, 0, 0) != 0) {
                perror("pamhost: drop");
                return 2;
            }
            continue;
        }
        if (!strncmp(op, "secbits:", 8)) {
            if (prctl(PR_SET_SECUREBITS, strtoul(arg, NULL, 0), 0, 0, 0) != 0) {
                perror("pamhost: secbits");
                return 2;
            }
            continue;
        }
        if (!strncmp(op, "refuse-prctl:", 13)) {
            long o = -1, a2 = -1, a3 = -1;
            if (sscanf(arg, "%ld:%ld:%ld", &o, &a2, &a3) < 2) {
                fprintf(stderr, "pamhost: bad %s\n", op);
                return 2;
            }
            refuse_prctl(o, a2, a3);
            continue;
        }
        if (!strcmp(op, "full")) {
            full();
            continue;
        }
        if (!strcmp(op, "altstack")) {
            stack_t ss = { .ss_sp = malloc(65536), .ss_size = 65536 };
            sigaltstack(&ss, NULL);
            continue;
        }
        if (!strcmp(op, "fill") || !strcmp(op, "unfill")) {
            op[0] == 'f' ? fill() : unfill();
            continue;
        }
        if (!strcmp(op, "unshare-user")) {
            printf("unshare-user %s\n", unshare(CLONE_NEWUSER) == 0 ? "ok" : strerror(errno));
            continue;
        }
        if (pamh == NULL)
            pamh = start(user);
        if (!strcmp(op, "auth"))
            printf("authenticate %s\n", code(pam_authenticate(pamh, 0)));
        else if (!strncmp(op, "setcred:", 8))
            printf("setcred %s\n", code(pam_setcred(pamh, setcred_flag(arg))));
        else if (!strcmp(op, "caps"))
            caps(stdout, "");
        else if (!strcmp(op, "memory"))
            memory();
        else if (!strncmp(op, "end:", 4)) {
            printf("end %s\n", code(pam_end(pamh, end_status(arg))));
            pamh = NULL;
        } else if (!strncmp(op, "fork:", 5))
            fork_children(pamh, atoi(arg), 0);
        else if (!strcmp(op, "fork-end")) {
            pid_t pid = fork();
            if (pid == 0) {
                pam_end(pamh, PAM_SUCCESS | PAM_DATA_SILENT);
                caps(stdout, "child ");
                _exit(0);
            }
            if (pid < 0 || wait_child(pid) != 0)
                printf("child timeout\n");
        } else if (!strncmp(op, "clone:", 6))
            fork_children(pamh, atoi(arg), 1);
        else {
            fprintf(stderr, "pamhost: unknown op %s\n", op);
            return 2;
        }
    }
    if (pamh)
        pam_end(pamh, PAM_SUCCESS);
    if (reaped)
        printf("host reaped %d\n", (int)reaped);
    return 0;
}
