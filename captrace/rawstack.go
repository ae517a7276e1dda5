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
// with (nil if it could not learn them), and the functions they stand for,
// innermost first, for Classify; cap is the capability the check is of.
type knownStack struct {
	cap    int
	frames []uint64
	names  []string
}

// uncalibrated is the capabilities (a bit each) of the known stacks whose
// frames the calibration could not learn: a check of one of those with a
// stack that begins with no known one may be a check that programs go on
// without, and cannot be told from one they need.
func uncalibrated(known []knownStack) uint64 {
	var caps uint64
	for _, k := range known {
		if len(k.frames) == 0 {
			caps |= 1 << uint(k.cap)
		}
	}
	return caps
}

// Uncalibrated is the capabilities (a bit each) whose unneeded checks t
// could not learn to tell apart: without the kernel's addresses, the BPF
// method's calibration may fail (a busy machine), and a denial of one of
// them whose stack is unknown is then unknown, never suggested. It is 0
// when stacks are named by the kernel's symbols, and for the tracepoint
// method, which has no stacks.
func Uncalibrated(t Tracer) uint64 {
	if c, ok := t.(interface{ uncalibrated() uint64 }); ok {
		return c.uncalibrated()
	}
	return 0
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
		if beginsWith(ips, k.frames) {
			return k.names
		}
	}
	return nil
}

// iteratorFrames is how many frames a stack may have inside cap_capable's:
// the tracepoint calls its one probe (the BPF programs' own) directly, but
// while another is attached too (a tracefs instance with the event on,
// another trace's) through the tracepoint's iterator, one frame more. The
// same check's stack then begins with a frame of the iterator's, and a
// stack learnt while another was attached has that frame where a check's
// made after has none. Probes come and go as other traces start and end
// on the machine (two CI lanes side by side): a check's stack is matched
// either way.
const iteratorFrames = 1

// beginsWith is whether ips begins with frames, either of them past up to
// iteratorFrames frames of their own, and at least two frames (the one in
// cap_capable and its caller's) still to compare.
func beginsWith(ips, frames []uint64) bool {
	for i := 0; i <= iteratorFrames && i < len(ips); i++ {
		for j := 0; j <= iteratorFrames && len(frames)-j >= 2; j++ {
			if hasPrefix(ips[i:], frames[j:]) {
				return true
			}
		}
	}
	return false
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
