// Package captrace records the capability checks that the kernel makes for
// one process tree, from the capability:cap_capable trace event, through
// tracefs or through a BPF program attached to that event.
//
// Both methods give the same stream of events: capability checks, forks
// and execs of the traced tasks, in the order the kernel made them. Pids
// are the kernel's global thread ids; they only tie events together.
package captrace

import "strings"

// Event is one thing a traced task did: a capability check (Kind Check), a
// new task (Fork: Pid made Child) or a new program (Exec: Pid now runs
// Filename).
type Event struct {
	Kind     Kind
	Pid      int
	Comm     string
	Cap      int      // Check: the capability number
	Granted  bool     // Check: the kernel said yes
	Stack    []string // Check, denied only: kernel functions, innermost first; nil if unknown
	Child    int      // Fork
	Filename string   // Exec: the path as execve was given it
}

// Kind says what an Event is.
type Kind int

// The kinds of Event.
const (
	Check Kind = iota
	Fork
	Exec
)

// Audit says whether a denied check mattered to the kernel: checks made
// "noaudit" only choose a path (the memory accounting check for
// cap_sys_admin on every mmap is one), and the program goes on without the
// capability.
type Audit int

// The values of Audit.
const (
	Unknown Audit = iota // no kernel stack to tell by
	Audited              // a real permission check
	NoAudit              // made with CAP_OPT_NOAUDIT
	// PathChoice is a check whose denial still lets the call succeed in a
	// narrower way: setuid to one's own ids, capset within what one has, a
	// ptrace access check that may be noaudit.
	PathChoice
)

// ProbablyHarmless says whether a denied check with no kernel stack to
// tell by can be left out of what a command needs: a check of one of the
// capabilities in uncalibrated (a bit each: those whose unneeded checks
// the trace could not learn to tell apart, see Uncalibrated), or a
// cap_sys_admin check in a command that went on to exit 0. Every writable
// mapping asks for cap_sys_admin noaudit, so without stacks most such
// denials are those; a command that needed cap_sys_admin and went without
// would most often fail.
func ProbablyHarmless(ev Event, exitCode int, uncalibrated uint64) bool {
	if ev.Kind != Check || ev.Granted || ev.Stack != nil || ev.Cap < 0 || ev.Cap >= 64 {
		return false
	}
	return uncalibrated&(1<<uint(ev.Cap)) != 0 || ev.Cap == capSysAdmin && exitCode == 0
}

// capabilityAPI are the kernel's wrappers between a caller and cap_capable;
// the first frame past them is where the check was made.
var capabilityAPI = map[string]bool{
	"security_capable": true, "ns_capable": true, "ns_capable_setid": true,
	"capable": true, "has_ns_capability": true, "has_capability": true,
	"file_ns_capable": true, "capable_wrt_inode_uidgid": true,
	"ns_capable_common": true, "sk_ns_capable": true, "sk_capable": true,
	"sk_net_capable": true, "netlink_ns_capable": true, "netlink_capable": true,
	"netlink_net_capable": true, "privileged_wrt_inode_uidgid": true,
	"inode_owner_or_capable": true, "bpf_capable": true, "perfmon_capable": true,
	"checkpoint_restore_ns_capable": true,
}

// noAuditCallers ask with CAP_OPT_NOAUDIT. security_vm_enough_memory_mm
// stands for cap_vm_enough_memory, which the kernel inlines into it.
var noAuditCallers = map[string]bool{
	"ns_capable_noaudit": true, "has_ns_capability_noaudit": true,
	"has_capability_noaudit": true, "cap_vm_enough_memory": true,
	"security_vm_enough_memory_mm": true, "__vm_enough_memory": true,
}

// pathChoosers ask for a capability to decide how much to allow, and
// allow the unprivileged case without it: the set*id calls (to one's own
// ids), capset (cap_inh_is_capped, within one's own sets), and ptrace
// access checks (noaudit for PTRACE_MODE_NOAUDIT).
var pathChoosers = map[string]bool{
	"__sys_setuid": true, "__sys_setgid": true, "__sys_setreuid": true, "__sys_setregid": true,
	"__sys_setresuid": true, "__sys_setresgid": true, "__sys_setfsuid": true, "__sys_setfsgid": true,
	"cap_capset": true, "cap_inh_is_capped": true, "__ptrace_may_access": true, "ptrace_has_cap": true,
}

// Classify tells from a denied check's kernel stack whether it was made
// noaudit, and names the kernel function that asked (empty if unknown).
func Classify(stack []string) (Audit, string) {
	i := 0
	for i < len(stack) && stack[i] != "cap_capable" {
		i++
	}
	if i == len(stack) {
		return Unknown, ""
	}
	for _, fn := range stack[i+1:] {
		fn, _, _ = strings.Cut(fn, ".") // drop .isra.0 and the like
		switch {
		case noAuditCallers[fn]:
			return NoAudit, fn
		case pathChoosers[fn]:
			return PathChoice, fn
		case !capabilityAPI[fn]:
			return Audited, fn
		}
	}
	return Audited, ""
}

// Programs follows forks and execs to say which program each check was
// made by: a new task runs its parent's program until it execs. Checks
// that a task makes before its first known program (the traced command's
// own exec) belong to the program it then execs.
func Programs(events []Event) []string {
	program := map[int]string{}
	pending := map[int][]int{} // pid -> indexes of checks waiting for an exec
	out := make([]string, len(events))
	for i, ev := range events {
		switch ev.Kind {
		case Check:
			if p, ok := program[ev.Pid]; ok {
				out[i] = p
			} else {
				pending[ev.Pid] = append(pending[ev.Pid], i)
			}
		case Fork:
			if p, ok := program[ev.Pid]; ok {
				program[ev.Child] = p
			}
		case Exec:
			program[ev.Pid] = ev.Filename
			for _, j := range pending[ev.Pid] {
				out[j] = ev.Filename
			}
			delete(pending, ev.Pid)
		}
	}
	for _, idx := range pending { // never exec'd: name them by comm
		for _, j := range idx {
			out[j] = events[j].Comm
		}
	}
	return out
}
