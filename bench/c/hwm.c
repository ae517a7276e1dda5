/* hwm.so, preloaded into a measured program: at exit it writes the
 * process's peak resident memory since exec (VmHWM) to standard error, as
 * "VmHWM: N kB". ru_maxrss cannot tell it: it also counts the forking
 * parent's memory from before exec. */
#include <stdio.h>
#include <string.h>

__attribute__((destructor)) static void report_hwm(void)
{
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0)
            fputs(line, stderr);
    if (f)
        fclose(f);
}
