package captrace

// Where the kernel hides its addresses (kptr_restrict, or no CAP_SYSLOG),
// a BPF stack is numbers that name nothing. The checks that most programs
// are denied without needing the capability can still be told apart: gocap
// makes them itself and remembers their stacks. Those are the noaudit
// cap_sys_admin check that memory accounting makes on every writable
// private mapping, whose stacks begin with the same frames whichever call
// maps the memory (so it is made from two callers, and the frames they
// share are kept), and the path choices of capset and the set*id calls,
// whose stacks are the same whoever makes the call.

// A knownStack is the frames a calibration found a check's stacks to begin
// with, and the functions they stand for, innermost first, for Classify.
type knownStack struct {
	frames []uint64
	names  []string
}

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
// them, it is a known stack's names when it begins with that stack's
// frames, and unknown (nil) otherwise.
func resolveStack(ips []uint64, syms kallsyms, known []knownStack) []string {
	if len(syms) > 0 {
		out := make([]string, len(ips))
		for i, ip := range ips {
			out[i] = syms.name(ip)
		}
		return out
	}
	for _, k := range known {
		if len(k.frames) > 0 && hasPrefix(ips, k.frames) {
			return k.names
		}
	}
	return nil
}

func hasPrefix(ips, prefix []uint64) bool {
	if len(ips) < len(prefix) {
		return false
	}
	for i, ip := range prefix {
		if ips[i] != ip {
			return false
		}
	}
	return true
}
