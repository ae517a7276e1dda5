/*
 * The host before and after the Go runtime starts, for a Go library that a
 * host loads with dlopen: pam_gocap.so, and the Go floor that make bench
 * measures it against (bench/floor builds this file too), since what it
 * costs or saves belongs to any Go PAM module.
 *
 * Before the runtime starts, the host's resource limits, SIGPIPE
 * disposition and GO... settings are noted and the settings hidden; the
 * runtime starts on a thread of its own; the library's constructor waits
 * until package main's init has run, without entering Go itself, and then
 * gives the host back what the runtime changed.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "start.h"

/* The process that loaded us, where the Go runtime runs. A child, however
 * it was made, must not run Go: its runtime threads are gone. Three checks:
 * a page with MADV_WIPEONFORK reads zero in any child that does not share
 * our memory (fork, vfork-less clone, clone(CLONE_NEWPID), with or without
 * atfork handlers); the pid catches children that do share it; the atfork
 * flag a child that somehow has both. Without MADV_WIPEONFORK (Linux before
 * 4.14) the page stays unset and the module always uses the helper. */
static pid_t runtime_pid;
static volatile sig_atomic_t forked;
static volatile unsigned char *runtime_page;

static void note_fork(void) { forked = 1; }

/* What the host had before the Go runtime started: SIGPIPE's disposition,
 * every resource limit, and the pointers of its start-up environment. */
static struct sigaction host_sigpipe;
static struct rlimit host_rlimits[RLIM_NLIMITS];
static char **host_env;       /* the array the runtime reads: argv[argc+1] on */
static char **hidden_env;     /* the entries hidden from it, in order */
static size_t hidden_count;
static char hidden_placeholder[] = "";
/* The runtime's settings, each read from a slot of the start-up
 * environment while the runtime starts.
 * GOMAXPROCS=1: one P. The module's Go code runs only on its caller's
 * thread and starts no goroutine, and each further P costs memory in
 * every host (its cache, a GC worker) and, since Go 1.25, a check of the
 * cgroup's CPU limit.
 * GODEBUG=profstackdepth=0: no stack buffers for the memory, block and
 * mutex profilers in each M; the library never profiles. */
static char setting_procs[] = "GOMAXPROCS=1";
static char setting_debug[] = "GODEBUG=profstackdepth=0";
static char *const runtime_settings[] = { setting_procs, setting_debug };
#define SETTINGS (sizeof runtime_settings / sizeof runtime_settings[0])
static char **setting_slot[SETTINGS]; /* where the runtime reads them */
static char *setting_orig[SETTINGS];  /* what those slots held */

/* hide_go_settings keeps the runtime from reading its settings (GODEBUG,
 * GOGC, GOMAXPROCS, GOTRACEBACK, GOMEMLIMIT...) from the environment of
 * whoever started the host: in setuid su that is the invoking user. The
 * runtime reads the start-up environment that follows argv, so every
 * GO... entry there is swapped, in place, for an empty string that the
 * runtime skips; the array keeps its length, since the runtime finds auxv
 * after its end. Slots (hidden ones first, then the first entries) hold
 * our own settings, runtime_settings, meanwhile; an environment with
 * fewer entries than settings gets the first ones. restore_go_settings
 * puts the same pointers back. */
static void hide_go_settings(int argc, char **argv)
{
    if (argv == NULL || argc < 0)
        return;
    host_env = argv + argc + 1;
    size_t n = 0;
    for (char **e = host_env; *e != NULL; e++)
        n += strncmp(*e, "GO", 2) == 0;
    if (n > 0 && (hidden_env = calloc(n, sizeof *hidden_env)) != NULL)
        for (char **e = host_env; *e != NULL; e++)
            if (strncmp(*e, "GO", 2) == 0) {
                hidden_env[hidden_count++] = *e;
                *e = hidden_placeholder;
            }
    if (n > 0 && hidden_env == NULL)
        return; /* nothing hidden: no setting of ours either */
    size_t used = 0;
    for (char **e = host_env; *e != NULL && used < SETTINGS; e++)
        if (*e == hidden_placeholder)
            setting_slot[used++] = e;
    for (char **e = host_env; *e != NULL && used < SETTINGS; e++)
        if (*e != hidden_placeholder)
            setting_slot[used++] = e;
    for (size_t i = 0; i < used; i++) {
        setting_orig[i] = *setting_slot[i];
        *setting_slot[i] = runtime_settings[i];
    }
}

static void restore_go_settings(void)
{
    size_t i = 0;
    for (size_t j = 0; j < SETTINGS; j++) {
        if (setting_slot[j] != NULL && *setting_slot[j] == runtime_settings[j])
            *setting_slot[j] = setting_orig[j];
        setting_slot[j] = NULL;
    }
    for (char **e = host_env; hidden_count > 0 && *e != NULL && i < hidden_count; e++)
        if (*e == hidden_placeholder)
            *e = hidden_env[i++];
    free(hidden_env);
    hidden_env = NULL;
    hidden_count = 0;
}

/* Runs before the Go runtime's own constructor (prioritized constructors
 * come first), so what it sees is the host's. glibc passes constructors
 * the process's argc and argv, as it does the runtime's. */
__attribute__((constructor(101))) static void note_host(int argc, char **argv)
{
    runtime_pid = getpid();
    pthread_atfork(NULL, NULL, note_fork);
    void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page != MAP_FAILED && madvise(page, 4096, MADV_WIPEONFORK) == 0) {
        runtime_page = page;
        *runtime_page = 1;
    }
    sigaction(SIGPIPE, NULL, &host_sigpipe);
    for (int r = 0; r < RLIM_NLIMITS; r++)
        getrlimit(r, &host_rlimits[r]);
    hide_go_settings(argc, argv);
}

/* The runtime starts on a thread of its own and runs every package's init
 * there; package main's, the last, calls gocap_runtime_started. Waiting for
 * that here, rather than with a call into Go, keeps the host's thread out
 * of the runtime until the module's first decision: a thread that calls Go
 * gets an M of the runtime's, a signal stack and a spare M for the next
 * such thread, which a host that never asks the module (sshd's monitor for
 * a public-key login) would keep for nothing. */
static pthread_mutex_t started_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t started_cond = PTHREAD_COND_INITIALIZER;
static int started;

int gocap_runtime_started(void)
{
    pthread_mutex_lock(&started_lock);
    started = 1;
    pthread_cond_broadcast(&started_cond);
    pthread_mutex_unlock(&started_lock);
    return 0;
}

/* Runs after the Go runtime's constructor: wait for the runtime to finish
 * starting, then give the host back what the runtime changed. The runtime
 * raises the soft RLIMIT_NOFILE to the hard limit, which every session
 * started from the host would inherit (select() breaks past FD_SETSIZE):
 * every limit that changed is set back. In a library the runtime installs
 * a SIGPIPE handler that forwards to the host's; that would turn a host's
 * SIG_IGN into a handler, which exec resets to default for the host's
 * children. Our Go code writes to no pipe, so the runtime needs no SIGPIPE
 * of its own. SA_ONSTACK stays, as the runtime sets it on every handler: a
 * signal may arrive while a thread runs on a goroutine stack. */
__attribute__((constructor)) static void restore_host(void)
{
    struct sigaction sa = host_sigpipe;
    pthread_mutex_lock(&started_lock);
    while (!started)
        pthread_cond_wait(&started_cond, &started_lock);
    pthread_mutex_unlock(&started_lock);
    restore_go_settings();
    for (int r = 0; r < RLIM_NLIMITS; r++) {
        struct rlimit now;
        if (getrlimit(r, &now) == 0 &&
            (now.rlim_cur != host_rlimits[r].rlim_cur || now.rlim_max != host_rlimits[r].rlim_max))
            setrlimit(r, &host_rlimits[r]);
    }
    if (sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN)
        sa.sa_flags |= SA_ONSTACK;
    sigaction(SIGPIPE, &sa, NULL);
}

int go_may_run(void)
{
    return runtime_page != NULL && *runtime_page == 1 && !forked && getpid() == runtime_pid;
}
