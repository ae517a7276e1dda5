//go:build linux && (386 || arm || mips || mipsle)

package capconf

import "syscall"

// syscall.Stat_t is struct stat64 on these.
const sysFstatat = syscall.SYS_FSTATAT64
