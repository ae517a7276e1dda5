/* probe.so, preloaded into pamtester: at exit it writes to standard error
 * the process's peak resident memory since exec, as "VmHWM: N kB", and how
 * long each PAM call took, as "phases start=N authenticate=N setcred=N
 * end=N" in microseconds. ru_maxrss cannot tell the peak: it also counts
 * the forking parent's memory from before exec. The calls are libpam's,
 * found past this library with RTLD_NEXT. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <security/pam_appl.h>

enum { START, AUTHENTICATE, SETCRED, END, PHASES };
static double took_us[PHASES];

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

/* TIMED(phase, name, args...) calls libpam's name(args...), adds the time it
 * took to phase, and returns what it returned. */
#define TIMED(phase, name, ...)                                  \
    do {                                                         \
        static typeof(&name) real;                               \
        if (real == NULL)                                        \
            real = (typeof(&name))dlsym(RTLD_NEXT, #name);       \
        double t0 = now_us();                                    \
        int rc = real(__VA_ARGS__);                              \
        took_us[phase] += now_us() - t0;                         \
        return rc;                                               \
    } while (0)

int pam_start(const char *service, const char *user, const struct pam_conv *conv, pam_handle_t **pamh)
{
    TIMED(START, pam_start, service, user, conv, pamh);
}

int pam_authenticate(pam_handle_t *pamh, int flags) { TIMED(AUTHENTICATE, pam_authenticate, pamh, flags); }
int pam_setcred(pam_handle_t *pamh, int flags) { TIMED(SETCRED, pam_setcred, pamh, flags); }
int pam_end(pam_handle_t *pamh, int status) { TIMED(END, pam_end, pamh, status); }

__attribute__((destructor)) static void report(void)
{
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            fputs(line, stderr);
    if (f)
        fclose(f);
    fprintf(stderr, "phases start=%.0f authenticate=%.0f setcred=%.0f end=%.0f\n", took_us[START],
            took_us[AUTHENTICATE], took_us[SETCRED], took_us[END]);
}
