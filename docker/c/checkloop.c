/*
 * checkloop asks the kernel for a capability N times (default 1000000) as
 * fast as it can: setpriority to a higher priority (cap_sys_nice, denied
 * to a user) and a writable mapping (cap_sys_admin, noaudit) in turn. It
 * exits 0: a program whose checks outnumber what a trace keeps.
 */
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    for (long i = 0; i < n; i++) {
        if (i % 2 == 0) {
            setpriority(PRIO_PROCESS, 0, -5);
            continue;
        }
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p != MAP_FAILED)
            munmap(p, 4096);
    }
    return 0;
}
