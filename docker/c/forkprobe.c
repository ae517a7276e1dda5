/*
 * forkprobe forks; the child starts a thread, and the thread opens the raw
 * ICMP socket. A trace that follows only the process it started, or only
 * main threads, misses the check. Exits as the thread's socket() did:
 * 0 when it worked, 1 when it was refused.
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

static void *open_raw(void *result)
{
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    *(int *)result = fd < 0 ? errno : 0;
    if (fd >= 0)
        close(fd);
    return NULL;
}

int main(void)
{
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        pthread_t t;
        int result = -1;
        if (pthread_create(&t, NULL, open_raw, &result) != 0 || pthread_join(t, NULL) != 0)
            _exit(2);
        printf("raw socket in a thread of a child: %s\n", result ? strerror(result) : "ok");
        _exit(result ? 1 : 0);
    }
    int status;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return 2;
    return WEXITSTATUS(status);
}
