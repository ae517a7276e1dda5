/*
 * tiocsti pushes its argument and a newline into the input of its
 * terminal with TIOCSTI, as if typed there: into standard input's terminal
 * and into /dev/tty, its controlling terminal. Run by gocap trace as a
 * user, whatever it pushes must reach no terminal of root's. It prints how
 * many bytes each push took.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int push(int fd, const char *text)
{
    int n = 0;
    for (const char *p = text; *p; p++)
        if (ioctl(fd, TIOCSTI, p) == 0)
            n++;
    char nl = '\n';
    if (ioctl(fd, TIOCSTI, &nl) == 0)
        n++;
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: tiocsti TEXT\n");
        return 2;
    }
    printf("stdin: %d bytes\n", push(0, argv[1]));
    int tty = open("/dev/tty", O_RDWR);
    printf("/dev/tty: %d bytes\n", tty < 0 ? -1 : push(tty, argv[1]));
    return 0;
}
