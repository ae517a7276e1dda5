package captrace

import (
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// su-rawprobe.trace is trace_pipe text from this package's tracefs
// settings, recorded while su (pid 26046) started sh as nobody (26047),
// which ran rawprobe (26048): rawprobe's raw socket was refused.
func TestParseRecordedTrace(t *testing.T) {
	f, err := os.Open("testdata/su-rawprobe.trace")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := parseTrace(f)
	if err != nil {
		t.Fatal(err)
	}
	events := p.events
	// Each header line is a record (276 lines, 224 of them stack lines),
	// and nothing in it is untrusted.
	if p.untrusted != "" || p.records != 52 {
		t.Errorf("%d records, untrusted %q", p.records, p.untrusted)
	}
	type count struct{ checks, granted, stacks int }
	byCap := map[int]*count{}
	var forks, execs []string
	for _, ev := range events {
		switch ev.Kind {
		case Check:
			c := byCap[ev.Cap]
			if c == nil {
				c = &count{}
				byCap[ev.Cap] = c
			}
			c.checks++
			if ev.Granted {
				c.granted++
			}
			if ev.Stack != nil {
				c.stacks++
				if ev.Granted {
					t.Errorf("a granted check got a stack: %+v", ev)
				}
			}
		case Fork:
			forks = append(forks, strings.Join([]string{ev.Comm, strconv.Itoa(ev.Pid), strconv.Itoa(ev.Child)}, " "))
		case Exec:
			execs = append(execs, strconv.Itoa(ev.Pid)+" "+ev.Filename)
		}
	}
	want := map[int]count{1: {1, 0, 1}, 2: {1, 0, 1}, 13: {1, 0, 1}, 21: {19, 0, 19}, 29: {2, 2, 0}, 6: {1, 1, 0}, 7: {1, 1, 0}}
	for c, w := range want {
		if got := byCap[c]; got == nil || *got != w {
			t.Errorf("cap %d: got %+v, want %+v", c, got, w)
		}
	}
	if len(byCap) != len(want) {
		t.Errorf("capabilities seen: %d, want %d", len(byCap), len(want))
	}
	if w := []string{"su 26046 26047", "sh 26047 26048"}; !reflect.DeepEqual(forks, w) {
		t.Errorf("forks %q, want %q", forks, w)
	}
	if w := []string{"26047 /bin/sh", "26048 /tmp/rawprobe"}; !reflect.DeepEqual(execs, w) {
		t.Errorf("execs %q, want %q", execs, w)
	}
	// The raw socket check, with its stack, belongs to rawprobe.
	progs := Programs(events)
	for i, ev := range events {
		if ev.Kind == Check && ev.Cap == 13 {
			if progs[i] != "/tmp/rawprobe" {
				t.Errorf("cap_net_raw asked by %q", progs[i])
			}
			if a, where := Classify(ev.Stack); a != Audited || where != "inet_create" {
				t.Errorf("cap_net_raw: %v %q, stack %q", a, where, ev.Stack)
			}
		}
		if ev.Kind == Check && ev.Cap == 21 {
			if a, _ := Classify(ev.Stack); a != NoAudit {
				t.Errorf("cap_sys_admin from %q: %v", ev.Stack, a)
			}
		}
	}
}

func TestParseStackOfInterleavedPids(t *testing.T) {
	text := `
               a-10   [000] ..... 1.000001: cap_capable: cred 0, target_ns 0, capable_ns 0, cap 13, ret -1
               b-11   [001] ..... 1.000002: cap_capable: cred 0, target_ns 0, capable_ns 0, cap 12, ret -1
               b-11   [001] ..... 1.000003: <stack trace>
 => trace_event_raw_event_cap_capable
 => cap_capable
 => security_capable
 => ns_capable
 => dev_ioctl
               a-10   [000] ..... 1.000004: <stack trace>
 => trace_event_raw_event_cap_capable
 => cap_capable
 => security_capable
 => ns_capable
 => inet_create
               a-10   [000] 1.000005: sched_process_exec: filename=/opt/my prog pid=10 old_pid=10
`
	p, err := parseTrace(strings.NewReader(strings.TrimPrefix(text, "\n")))
	if err != nil || p.untrusted != "" {
		t.Fatal(err, p.untrusted)
	}
	events := p.events
	if len(events) != 3 {
		t.Fatalf("%d events: %+v", len(events), events)
	}
	if _, w := Classify(events[0].Stack); w != "inet_create" {
		t.Errorf("pid 10's stack: %q", events[0].Stack)
	}
	if _, w := Classify(events[1].Stack); w != "dev_ioctl" {
		t.Errorf("pid 11's stack: %q", events[1].Stack)
	}
	if events[2].Filename != "/opt/my prog" {
		t.Errorf("filename %q (the flags column is optional, a space is part of a name)", events[2].Filename)
	}
	if p, _ := parseTrace(strings.NewReader("  x-1 [000] ..... 1.0: cap_capable: cap ?, ret\n")); p.untrusted == "" || len(p.events) != 0 {
		t.Error("a cap_capable line without cap and ret was accepted")
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		stack []string
		audit Audit
		where string
	}{
		{nil, Unknown, ""},
		{[]string{"bpf_trace_run5", "security_capable"}, Unknown, ""},
		{[]string{"cap_capable", "security_vm_enough_memory_mm", "do_brk_flags"}, NoAudit, "security_vm_enough_memory_mm"},
		{[]string{"cap_capable", "security_capable", "ns_capable_noaudit", "proc_pid_permission"}, NoAudit, "ns_capable_noaudit"},
		{[]string{"cap_capable", "security_capable", "has_capability_noaudit"}, NoAudit, "has_capability_noaudit"},
		{[]string{"cap_capable", "security_capable", "__ptrace_may_access"}, PathChoice, "__ptrace_may_access"},
		{[]string{"cap_capable", "security_capable", "ns_capable_setid", "__sys_setuid"}, PathChoice, "__sys_setuid"},
		{[]string{"cap_capable", "cap_capset", "security_capset"}, PathChoice, "cap_capset"},
		{[]string{"perf_trace_cap_capable", "cap_capable", "security_capable", "ns_capable", "inet_create"}, Audited, "inet_create"},
		{[]string{"cap_capable", "security_capable", "capable_wrt_inode_uidgid", "generic_permission"}, Audited, "generic_permission"},
		{[]string{"cap_capable", "security_capable", "capable", "do_foo.isra.0"}, Audited, "do_foo"},
		{[]string{"cap_capable", "security_capable", "capable"}, Audited, ""},
	} {
		a, w := Classify(tc.stack)
		if a != tc.audit || w != tc.where {
			t.Errorf("Classify(%q) = %v %q, want %v %q", tc.stack, a, w, tc.audit, tc.where)
		}
	}
}

func TestPrograms(t *testing.T) {
	events := []Event{
		{Kind: Check, Pid: 1, Comm: "gocap", Cap: 21},    // the seed, in execve: its new program's
		{Kind: Exec, Pid: 1, Filename: "/bin/sh"},        //
		{Kind: Fork, Pid: 1, Child: 2},                   // sh forks
		{Kind: Check, Pid: 2, Comm: "sh", Cap: 13},       // the child, before its exec: sh
		{Kind: Exec, Pid: 2, Filename: "/usr/bin/ping"},  //
		{Kind: Fork, Pid: 2, Child: 3},                   // a thread of ping
		{Kind: Check, Pid: 3, Comm: "ping", Cap: 13},     // ping
		{Kind: Check, Pid: 9, Comm: "orphan", Cap: 12},   // never exec'd nor forked from a known task
		{Kind: Check, Pid: 1, Comm: "sh", Cap: 1},        // sh again
		{Kind: Exec, Pid: 3, Filename: "/usr/libexec/x"}, // exec in the thread
		{Kind: Check, Pid: 3, Comm: "x", Cap: 2},         // now x
	}
	got := Programs(events)
	want := []string{"/bin/sh", "", "", "/bin/sh", "", "", "/usr/bin/ping", "orphan", "/bin/sh", "", "/usr/libexec/x"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestParseFormat(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "format")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`name: sched_process_exec
ID: 365
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:__data_loc char[] filename;	offset:8;	size:4;	signed:0;
	field:pid_t pid;	offset:12;	size:4;	signed:1;
	field:char comm[16];	offset:16;	size:16;	signed:0;
`)
	f.Seek(0, 0)
	got, err := parseFormat(f)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int16{"common_type": 0, "common_pid": 4, "filename": 8, "pid": 12, "comm": 16}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// cpu0.stats and cpu1.stats are per_cpu/cpuN/stats of an instance whose
// 8 KiB buffer took a second of sched_switch events unread.
func TestParseLost(t *testing.T) {
	total := 0
	for _, f := range []string{"testdata/cpu0.stats", "testdata/cpu1.stats"} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n, err := parseLost(string(data))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		total += n
	}
	if total != 720+420 {
		t.Errorf("lost %d, want %d", total, 720+420)
	}
	for _, tc := range []struct {
		name, stats string
		lost        int
		fails       bool
	}{
		{"none lost", "entries: 3\noverrun: 0\ncommit overrun: 0\ndropped events: 0\n", 0, false},
		{"all three count", "overrun: 5\ncommit overrun: 2\ndropped events: 1\nread events: 40\n", 8, false},
		{"no counts at all", "entries: 3\nbytes: 10\n", 0, true},
		{"not a number", "overrun: many\n", 0, true},
	} {
		n, err := parseLost(tc.stats)
		if (err != nil) != tc.fails || n != tc.lost {
			t.Errorf("%s: %d, %v; want %d, failure %v", tc.name, n, err, tc.lost, tc.fails)
		}
	}
}

func TestBufferKB(t *testing.T) {
	for cpus, want := range map[int]int{0: 16384, 1: 16384, 2: 16384, 4: 16384, 8: 8192, 16: 4096, 256: 4096} {
		if got := bufferKB(cpus); got != want {
			t.Errorf("bufferKB(%d) = %d, want %d", cpus, got, want)
		}
	}
}

// Stacks as BPF gives them where the kernel hides its addresses: the
// calibration's two mappings (a writable one, mprotect making one
// writable) share the tracepoint's frames, cap_capable and the accounting
// function, then part; its capset is the same whoever calls it.
func TestResolveStackWithoutSymbols(t *testing.T) {
	const tp, capable, account, capset = 0xffffffffa0001000, 0xffffffffa0002000, 0xffffffffa0003000, 0xffffffffa0005000
	mmapStack := []uint64{tp, capable, account, 0xffffffffa0010000, 0xffffffffa0020000}
	mprotectStack := []uint64{tp, capable, account, 0xffffffffa0030000, 0xffffffffa0040000}
	capsetStack := []uint64{tp, capable, capset, 0xffffffffa0070000}
	prefix := sharedFrames(mmapStack, mprotectStack)
	if want := []uint64{tp, capable, account}; !reflect.DeepEqual(prefix, want) {
		t.Fatalf("shared frames %x, want %x", prefix, want)
	}
	known := []knownStack{
		{21, prefix, []string{"cap_capable", "security_vm_enough_memory_mm"}},
		{8, capsetStack, []string{"cap_capable", "cap_capset"}},
		{7, nil, []string{"cap_capable", "__sys_setuid"}}, // not caught: matches nothing
	}
	for _, tc := range []struct {
		name  string
		ips   []uint64
		audit Audit
	}{
		{"the same mmap", mmapStack, NoAudit},
		{"brk, another caller", []uint64{tp, capable, account, 0xffffffffa0050000}, NoAudit},
		{"capset", capsetStack, PathChoice},
		{"a raw socket", []uint64{tp, capable, 0xffffffffa0004000, 0xffffffffa0060000}, Unknown},
		{"shorter than the shared frames", []uint64{tp, capable}, Unknown},
	} {
		a, _ := Classify(resolveStack(tc.ips, nil, known))
		if a != tc.audit {
			t.Errorf("%s: %v, want %v", tc.name, a, tc.audit)
		}
	}
	// Without a calibration, nothing is known.
	if s := resolveStack(mmapStack, nil, nil); s != nil {
		t.Errorf("uncalibrated: %q", s)
	}
	// With symbols, the frames are named.
	syms := kallsyms{{tp, "perf_trace_run_bpf_submit"}, {capable, "cap_capable"}, {account, "security_vm_enough_memory_mm"}, {0xffffffffa0004000, "security_capable"}}
	if a, where := Classify(resolveStack(mmapStack, syms, nil)); a != NoAudit || where != "security_vm_enough_memory_mm" {
		t.Errorf("with symbols: %v %q", a, where)
	}
	for _, tc := range []struct {
		name string
		a, b []uint64
	}{
		{"the same stack twice", mmapStack, mmapStack},
		{"one frame shared", []uint64{tp, 1}, []uint64{tp, 2}},
		{"one a prefix of the other", mmapStack[:3], mmapStack},
		{"one missing", nil, mmapStack},
	} {
		if p := sharedFrames(tc.a, tc.b); p != nil {
			t.Errorf("%s: shared frames %x, want none", tc.name, p)
		}
	}
}

func TestProbablyHarmless(t *testing.T) {
	for _, tc := range []struct {
		name string
		ev   Event
		exit int
		want bool
	}{
		{"cap_sys_admin, no stack, exit 0", Event{Kind: Check, Cap: 21}, 0, true},
		{"the command failed", Event{Kind: Check, Cap: 21}, 1, false},
		{"another capability", Event{Kind: Check, Cap: 13}, 0, false},
		{"granted", Event{Kind: Check, Cap: 21, Granted: true}, 0, false},
		{"a stack that names nothing known", Event{Kind: Check, Cap: 21, Stack: []string{"x"}}, 0, false},
		{"not a check", Event{Kind: Fork, Cap: 21}, 0, false},
	} {
		if got := ProbablyHarmless(tc.ev, tc.exit, 0); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	// Where the calibration could not learn a capability's unneeded
	// checks, a denial of it with no stack is unknown whatever the exit.
	const sysAdmin, setuid = 1 << 21, 1 << 7
	for _, tc := range []struct {
		name         string
		ev           Event
		exit         int
		uncalibrated uint64
		want         bool
	}{
		{"cap_sys_admin uncalibrated, the command failed", Event{Kind: Check, Cap: 21}, 1, sysAdmin, true},
		{"cap_setuid uncalibrated, the command failed", Event{Kind: Check, Cap: 7}, 1, setuid, true},
		{"another one uncalibrated", Event{Kind: Check, Cap: 21}, 1, setuid, false},
		{"uncalibrated, but granted", Event{Kind: Check, Cap: 21, Granted: true}, 1, sysAdmin, false},
		{"uncalibrated, but a stack with names", Event{Kind: Check, Cap: 21, Stack: []string{"x"}}, 1, sysAdmin, false},
		{"a capability past 63", Event{Kind: Check, Cap: 64}, 1, ^uint64(0), false},
	} {
		if got := ProbablyHarmless(tc.ev, tc.exit, tc.uncalibrated); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// recordedStacks is a BPF trace recorded as raw stacks (captrace/testdata/
// bpf-*.json): the calibration's stacks by the function they stand for,
// and denied checks' stacks, with the kernel's names where they were kept.
type recordedStacks struct {
	Calibration    map[string][]uint64
	Checks         []recordedCheck
	IteratorChecks []recordedCheck `json:"iterator_checks"`
}

type recordedCheck struct {
	Cap    int
	Frames []uint64
	Names  []string
}

func readRecordedStacks(t *testing.T, file string) recordedStacks {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var rec recordedStacks
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	return rec
}

// bpf-raw-stacks.json is what the BPF method recorded while a probe ran as
// nobody (capset, setuid and setgid to its own ids, a raw socket, sh's
// path walk and every mapping before): the calibration's stacks and each
// denied check's, as addresses (made relative), with the names
// /proc/kallsyms gave them. Without the names, the calibration must tell
// apart exactly the checks the names say a program goes on without.
func TestRecordedRawStacks(t *testing.T) {
	rec := readRecordedStacks(t, "testdata/bpf-raw-stacks.json")
	var known []knownStack
	for fn, frames := range rec.Calibration {
		known = append(known, knownStack{recordedCaps[fn], frames, []string{"cap_capable", fn}})
	}
	told := map[Audit]int{}
	for i, c := range rec.Checks {
		wantAudit, wantWhere := Classify(c.Names)
		a, where := Classify(resolveStack(c.Frames, nil, known))
		told[a]++
		switch {
		case wantAudit == NoAudit || wantAudit == PathChoice:
			if a != wantAudit || where != wantWhere {
				t.Errorf("check %d (cap %d, %q): %v %q without names, want %v %q", i, c.Cap, c.Names, a, where, wantAudit, wantWhere)
			}
		case a != Unknown:
			t.Errorf("check %d (cap %d, %q): %v %q without names, want unknown", i, c.Cap, c.Names, a, where)
		}
	}
	if want := map[Audit]int{NoAudit: 22, PathChoice: 3, Unknown: 13}; !reflect.DeepEqual(told, want) {
		t.Errorf("told %v, want %v", told, want)
	}
}

// The recorded trace with the exec of a program whose path holds
// newlines, as trace_pipe prints it (filename=%s raw): the red team's
// path, which forges the exec of /usr/bin/tee and a denied
// cap_dac_override and ends in a bare line; the same with every forged
// line a record's header; and a bare newline. The kernel handed over the
// 52 records of su-rawprobe.trace in each. None may be trusted, and
// none fails the trace.
func TestForgedExecUntrusted(t *testing.T) {
	for _, tc := range []struct {
		file   string
		forged bool // the forged exec of /usr/bin/tee is among the events
		lines  bool // a line that is no record's tells
	}{
		{"testdata/forged-exec.trace", true, true},
		{"testdata/forged-exec-headers.trace", true, false},
		{"testdata/newline-exec.trace", false, true},
	} {
		f, err := os.Open(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		p, err := parseTrace(f)
		f.Close()
		if err != nil {
			t.Errorf("%s: the trace fails: %v", tc.file, err)
			continue
		}
		forged := false
		for _, ev := range p.events {
			forged = forged || ev.Kind == Exec && ev.Filename == "/usr/bin/tee"
		}
		if forged != tc.forged || (p.untrusted != "") != tc.lines {
			t.Errorf("%s: forged exec parsed %v, untrusted line %q", tc.file, forged, p.untrusted)
		}
		if why := untrusted(p, 52, false); why == "" {
			t.Errorf("%s: trusted", tc.file)
		}
	}
	// A task named "=> cap_capable\n" (15 bytes, as prctl sets it),
	// whose check follows a stack: its name's first line poses as one
	// more frame of that stack, and the record still counts one header.
	f, _ := os.Open("testdata/comm-newline.trace")
	if p, _ := parseTrace(f); p.untrusted == "" || untrusted(p, 53, false) == "" {
		t.Errorf("a command name with a newline: trusted (%d records)", p.records)
	}
	f.Close()
	f, _ = os.Open("testdata/su-rawprobe.trace")
	defer f.Close()
	p, _ := parseTrace(f)
	if untrusted(p, 52, false) != "" || untrusted(p, 51, false) == "" {
		t.Errorf("the recorded trace: %q, with a record less %q", untrusted(p, 52, false), untrusted(p, 51, false))
	}
	// Text cut at gocap's bound holds fewer records than the kernel
	// handed over, never more.
	if untrusted(p, 60, true) != "" || untrusted(p, 51, true) == "" || untrusted(p, 60, false) == "" {
		t.Errorf("cut text: %q, %q, %q", untrusted(p, 60, true), untrusted(p, 51, true), untrusted(p, 60, false))
	}
}

func TestParseRead(t *testing.T) {
	n, err := parseRead("entries: 0\noverrun: 0\nread events: 1234\n")
	if n != 1234 || err != nil {
		t.Errorf("%d, %v", n, err)
	}
	if _, err := parseRead("entries: 0\n"); err == nil {
		t.Error("no read events count accepted")
	}
}

// The capabilities of the recorded calibration's checks.
var recordedCaps = map[string]int{"security_vm_enough_memory_mm": 21, "cap_capset": 8, "__sys_setuid": 7, "__sys_setgid": 6}

// A calibration that failed (a busy machine: one of its checks not caught
// twice alike) leaves its stacks out. On the recorded checks, each of its
// capabilities' denials is then unknown, left out of what the command
// needs even when it exited non-zero, and nothing else changes: the
// raw socket's cap_net_raw still counts. With every stack learnt, a
// cap_sys_admin check that is not the accounting's still counts.
func TestRecordedRawStacksUncalibrated(t *testing.T) {
	rec := readRecordedStacks(t, "testdata/bpf-raw-stacks.json")
	// needed is the capabilities of the recorded checks a command that
	// exited 1 needed, with the calibration's stacks but missed.
	needed := func(missed string) []int {
		var known []knownStack
		for fn, frames := range rec.Calibration {
			if fn == missed {
				frames = nil
			}
			known = append(known, knownStack{recordedCaps[fn], frames, []string{"cap_capable", fn}})
		}
		caps := map[int]bool{}
		for _, c := range rec.Checks {
			ev := Event{Kind: Check, Cap: c.Cap, Stack: resolveStack(c.Frames, nil, known)}
			if a, _ := Classify(ev.Stack); (a == Unknown || a == Audited) && !ProbablyHarmless(ev, 1, uncalibrated(known)) {
				caps[c.Cap] = true
			}
		}
		var out []int
		for c := range caps {
			out = append(out, c)
		}
		sort.Ints(out)
		return out
	}
	// Every stack learnt: the path walk's DAC checks and the raw socket.
	if got, want := needed(""), []int{1, 2, 13}; !reflect.DeepEqual(got, want) {
		t.Errorf("calibrated: needed %v, want %v", got, want)
	}
	for _, missed := range []string{"security_vm_enough_memory_mm", "cap_capset", "__sys_setuid", "__sys_setgid"} {
		if got, want := needed(missed), []int{1, 2, 13}; !reflect.DeepEqual(got, want) {
			t.Errorf("%s not learnt: needed %v, want %v", missed, got, want)
		}
	}
	// What the old rule did with the accounting's stack not learnt: the
	// mappings' cap_sys_admin counted as needed by a command that failed.
	var known []knownStack
	for fn, frames := range rec.Calibration {
		if fn != "security_vm_enough_memory_mm" {
			known = append(known, knownStack{recordedCaps[fn], frames, []string{"cap_capable", fn}})
		}
	}
	if u := uncalibrated(append(known, knownStack{21, nil, nil})); u != 1<<21 {
		t.Errorf("uncalibrated %#x, want cap_sys_admin's bit", u)
	}
	admin := 0
	for _, c := range rec.Checks {
		ev := Event{Kind: Check, Cap: c.Cap, Stack: resolveStack(c.Frames, nil, known)}
		if c.Cap == 21 && !ProbablyHarmless(ev, 1, 0) {
			admin++
		}
	}
	if admin != 22 {
		t.Errorf("without the rule, %d cap_sys_admin checks count, want the 22 mappings'", admin)
	}
	// An unshare -n's check (a cap_sys_admin stack that is not the
	// accounting's) counts when the calibration learnt everything.
	unshare := Event{Kind: Check, Cap: 21, Stack: resolveStack([]uint64{11252979, 11273211, 999, 19243265, 304}, nil, known)}
	if ProbablyHarmless(unshare, 1, 0) {
		t.Error("unshare's cap_sys_admin left out with every stack learnt")
	}
}

// bpf-iterator-stacks.json is what the BPF method recorded on a machine
// where another trace attached to the tracepoint after gocap's calibration:
// the calibration's stacks (no other probe: the tracepoint called the BPF
// programs' directly), and the accounting checks a chown made after (the
// tracepoint's iterator then in between: one frame more, innermost). They
// counted as needed, and cap_sys_admin was suggested; they are the
// accounting's whichever of the two had the iterator's frame.
func TestRecordedIteratorFrame(t *testing.T) {
	rec := readRecordedStacks(t, "testdata/bpf-iterator-stacks.json")
	iterator := rec.IteratorChecks[0].Frames[0]
	learn := func(withIterator bool) []knownStack {
		c := map[string][]uint64{}
		for fn, frames := range rec.Calibration {
			if withIterator {
				frames = append([]uint64{iterator}, frames...)
			}
			c[fn] = frames
		}
		accounting := sharedFrames(c["mapped"], c["protected"])
		if accounting == nil {
			t.Fatal("the recorded mappings share no frames")
		}
		return []knownStack{
			{21, accounting, []string{"cap_capable", "security_vm_enough_memory_mm"}},
			{8, c["cap_capset"], []string{"cap_capable", "cap_capset"}},
			{7, c["__sys_setuid"], []string{"cap_capable", "__sys_setuid"}},
			{6, c["__sys_setgid"], []string{"cap_capable", "__sys_setgid"}},
		}
	}
	for _, learntWith := range []bool{false, true} {
		known := learn(learntWith)
		for _, checkWith := range []bool{true, false} {
			for i, c := range rec.IteratorChecks {
				frames := c.Frames
				if !checkWith {
					frames = frames[1:]
				}
				if a, where := Classify(resolveStack(frames, nil, known)); a != NoAudit || where != "security_vm_enough_memory_mm" {
					t.Errorf("learnt with the iterator %v, check %d with it %v: %v %q, want the accounting's noaudit", learntWith, i, checkWith, a, where)
				}
			}
			capset := rec.Calibration["cap_capset"]
			if checkWith {
				capset = append([]uint64{iterator}, capset...)
			}
			if a, _ := Classify(resolveStack(capset, nil, known)); a != PathChoice {
				t.Errorf("learnt with the iterator %v, capset with it %v: %v, want a path choice", learntWith, checkWith, a)
			}
		}
		// Another cap_sys_admin check (unshare's: security_capable, then
		// callers the calibration never saw) stays unknown, and so does
		// an accounting stack behind more than the iterator's one frame.
		unshare := []uint64{iterator, 11252979, 11273211, 3603258, 999, 19243265, 304}
		if s := resolveStack(unshare, nil, known); s != nil {
			t.Errorf("learnt with the iterator %v: unshare's stack named %q", learntWith, s)
		}
		deeper := append([]uint64{1, 2}, rec.IteratorChecks[0].Frames[1:]...)
		if s := resolveStack(deeper, nil, known); s != nil {
			t.Errorf("learnt with the iterator %v: two unknown frames before cap_capable's named %q", learntWith, s)
		}
	}
}
