//go:build cgo

package launch

/*
#include <sys/resource.h>

// The Go runtime raises the soft limit on open files as it starts, and
// gives its children the old one back only through syscall.Exec and
// os/exec. The launcher execs the command with a raw system call, so it
// keeps the limit it started with here, before the runtime.
static struct rlimit start_nofile;
static int start_nofile_known;

__attribute__((constructor)) static void save_start_nofile(void)
{
	start_nofile_known = getrlimit(RLIMIT_NOFILE, &start_nofile) == 0;
}

static int get_start_nofile(struct rlimit *r)
{
	*r = start_nofile;
	return start_nofile_known;
}
*/
import "C"

import "syscall"

// restoreNofile puts back the soft limit on open files that this process
// started with. (Without cgo, in the unit tests' build, nofile_nocgo.go
// leaves it as the runtime set it.)
func restoreNofile() error {
	var start C.struct_rlimit
	if C.get_start_nofile(&start) == 0 {
		return nil
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	lim.Cur = uint64(start.rlim_cur)
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
}
