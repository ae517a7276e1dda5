/*
 * mmapload maps and unmaps one private writable page N times (default
 * 100000), then exits 0. Each map is accounted memory, for which the
 * kernel asks for CAP_SYS_ADMIN noaudit: a program that makes many
 * capability checks, to load a trace with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 100000;
    for (long i = 0; i < n; i++) {
        void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            perror("mmap");
            return 1;
        }
        munmap(p, 4096);
    }
    return 0;
}
