/*
 * bind80 binds a TCP socket to port 80, which needs CAP_NET_BIND_SERVICE
 * below net.ipv4.ip_unprivileged_port_start.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(void)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(80), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        printf("bind port 80: %s\n", strerror(errno));
        return 1;
    }
    close(fd);
    printf("bind port 80: ok\n");
    return 0;
}
