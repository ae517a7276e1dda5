//go:build linux && (arm64 || riscv64)

package capconf

import "syscall"

const sysFstatat = syscall.SYS_FSTATAT
