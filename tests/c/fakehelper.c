/*
 * fakehelper stands in for pam_gocap-helper in a test build of the module
 * (build/test/fake), so that tests can make the helper fail in every way
 * and see what it inherits. It reads ARGV0.script, one command a line, in
 * order:
 *
 *   report PATH   write what this process has to PATH: its open
 *                 descriptors and what they are, and its signal sets from
 *                 /proc/self/status
 *   stderr TEXT   write TEXT and a newline to standard error
 *   sleep N       sleep N seconds
 *   print TEXT    write TEXT and a newline to standard output
 *   close         close standard output and standard error (the pipes)
 *   traced N      start a process that attaches to this one with ptrace
 *                 and holds it N seconds without waiting for it: once this
 *                 one exits, its parent cannot reap it until then
 *   kill N        send itself signal N
 *   exit N        exit with status N
 *   answer        copy the rest of the script, byte for byte, to standard
 *                 output, and exit 0
 *   exec PATH     run PATH with this program's arguments (to wrap the real
 *                 helper after a report)
 */
#include <dirent.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The descriptors this process was started with, before it opened any. */
static char inherited[8192];

static void note_inherited(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    size_t len = 0;
    while (d && (e = readdir(d)) != NULL && len < sizeof inherited - 300) {
        char link[300], target[256];
        ssize_t n;
        if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
            continue;
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        n = readlink(link, target, sizeof target - 1);
        target[n > 0 ? n : 0] = '\0';
        len += (size_t)snprintf(inherited + len, sizeof inherited - len, "fd %s %s\n", e->d_name, target);
    }
    if (d)
        closedir(d);
}

/* traced starts the tracer and returns once it has attached. */
static void traced(int seconds)
{
    int ready[2];
    pid_t self = getpid();
    char c;
    if (pipe(ready) != 0)
        exit(94);
    if (fork() == 0) {
        close(ready[0]);
        if (ptrace(PTRACE_SEIZE, self, NULL, NULL) != 0)
            _exit(95);
        close(ready[1]);
        sleep((unsigned)seconds);
        _exit(0);
    }
    close(ready[1]);
    if (read(ready[0], &c, 1) != 0)
        exit(96);
    close(ready[0]);
}

static void report(const char *path)
{
    FILE *out = fopen(path, "w"), *status = fopen("/proc/self/status", "r");
    char line[256];
    if (!out || !status)
        exit(90);
    fputs(inherited, out);
    while (fgets(line, sizeof line, status))
        if (!strncmp(line, "Sig", 3) || !strncmp(line, "ShdPnd", 6))
            fputs(line, out);
    fclose(status);
    fclose(out);
}

int main(int argc, char **argv)
{
    char path[4096], line[4096];
    (void)argc;
    note_inherited();
    snprintf(path, sizeof path, "%s.script", argv[0]);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 91;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *arg = strchr(line, ' ');
        arg = arg ? arg + 1 : "";
        if (!strncmp(line, "report ", 7))
            report(arg);
        else if (!strncmp(line, "stderr ", 7))
            fprintf(stderr, "%s\n", arg);
        else if (!strncmp(line, "print ", 6))
            printf("%s\n", arg), fflush(stdout);
        else if (!strncmp(line, "traced ", 7))
            traced(atoi(arg));
        else if (!strcmp(line, "close"))
            fclose(stdout), fclose(stderr);
        else if (!strncmp(line, "sleep ", 6))
            sleep((unsigned)atoi(arg));
        else if (!strncmp(line, "kill ", 5))
            kill(getpid(), atoi(arg));
        else if (!strncmp(line, "exit ", 5))
            return atoi(arg);
        else if (!strncmp(line, "exec ", 5)) {
            execv(arg, argv);
            return 93;
        }
        else if (!strcmp(line, "answer")) {
            size_t n;
            while ((n = fread(line, 1, sizeof line, f)) > 0)
                fwrite(line, 1, n, stdout);
            return 0;
        } else
            return 92;
    }
    return 0;
}
