/*
 * rawprobe opens a raw ICMP socket, which needs CAP_NET_RAW and has no
 * unprivileged fallback (unlike ping, which can use ICMP datagram sockets).
 * Given cap_net_raw=ie, it works exactly for users whose session carries
 * cap_net_raw in its Inheritable set.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (fd < 0) {
        printf("raw socket: %s\n", strerror(errno));
        return 1;
    }
    close(fd);
    printf("raw socket: ok\n");
    return 0;
}
