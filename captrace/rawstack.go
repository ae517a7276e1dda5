package captrace

// Where the kernel hides its addresses (kptr_restrict, or no CAP_SYSLOG),
// a BPF stack is numbers that name nothing. One check can still be told
// apart, the one that matters most: the noaudit cap_sys_admin check that
// memory accounting makes on every writable private mapping. Its stack
// begins with the same frames, whichever call maps the memory; gocap makes
// that check itself from two callers and keeps the frames they share.

// accountingStack is what a stack that begins with the memory accounting
// check's frames is named, for Classify.
var accountingStack = []string{"cap_capable", "security_vm_enough_memory_mm"}

// sharedFrames is the frames two stacks begin with, or nil unless the two
// part after them (two callers of one function) after two frames at least.
func sharedFrames(a, b []uint64) []uint64 {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	if n < 2 || n == len(a) || n == len(b) {
		return nil
	}
	return append([]uint64(nil), a[:n]...)
}

// resolveStack names a stack's frames by the kernel's symbols; without
// them, it is the memory accounting check's when it begins with the frames
// noAudit holds, and unknown (nil) otherwise.
func resolveStack(ips []uint64, syms kallsyms, noAudit []uint64) []string {
	if len(syms) > 0 {
		out := make([]string, len(ips))
		for i, ip := range ips {
			out[i] = syms.name(ip)
		}
		return out
	}
	if len(noAudit) == 0 || len(ips) < len(noAudit) {
		return nil
	}
	for i, ip := range noAudit {
		if ips[i] != ip {
			return nil
		}
	}
	return accountingStack
}
