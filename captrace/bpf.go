package captrace

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"
)

// bpfTracer records with BPF programs of tracepoint type on the same
// events, written here in BPF assembly so that no compiler is needed. Its
// maps are its own: another trace has its own programs and maps.
//
// The programs share a map of followed tasks (kernel thread ids). The task
// to trace is known only by its pid in our pid namespace: the first event
// of that task after Arm adds it (the "seed"), and a fork event adds each
// task a followed one starts; an exit event removes a task, so that a
// reused pid is not followed.
type bpfTracer struct {
	fs        *tracefs
	tracked   *ebpf.Map // kernel tid -> 1
	state     *ebpf.Map // [0]: seed pid in our namespace (0: not armed), [1]: seeded
	ring      *ebpf.Map
	stacks    *ebpf.Map
	lost      *ebpf.Map // [0]: records the ring buffer had no room for, and denied checks' stacks the stack map had none for
	calib     *ebpf.Map // [0]: the tid (our namespace) whose check to catch, [1]: its stack id, [2]: of which capability
	syms      kallsyms
	known     []knownStack // where syms is empty
	progs     []*ebpf.Program
	perf      []int
	rd        *ringbuf.Reader
	done      sync.WaitGroup
	records   keptRecords
	lostCount int
	err       error
}

// The record every program sends, in the ring buffer:
//
//	0 kind  4 tid  8 cap|child  12 ret  16 stack id  20 pad  24 comm[16]  40 filename[256] (exec)
const (
	recKind, recTid, recArg, recRet, recStack, recComm, recFile = 0, 4, 8, 12, 16, 24, 40
	recSize, execRecSize, fileSize, stackDepth                  = 40, 296, 256, 64
)

func openBPF(fs *tracefs) (_ *bpfTracer, err error) {
	// Every failure below returns nil: the deferred Close must see the
	// tracer, not the nil being returned.
	t := &bpfTracer{fs: fs}
	defer func() {
		if err != nil {
			t.Close()
		}
	}()
	newMap := func(spec *ebpf.MapSpec) *ebpf.Map {
		if err != nil {
			return nil
		}
		var m *ebpf.Map
		m, err = ebpf.NewMap(spec)
		return m
	}
	t.tracked = newMap(&ebpf.MapSpec{Name: "gocap_tracked", Type: ebpf.Hash, KeySize: 4, ValueSize: 4, MaxEntries: 16384})
	t.state = newMap(&ebpf.MapSpec{Name: "gocap_state", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	t.ring = newMap(&ebpf.MapSpec{Name: "gocap_events", Type: ebpf.RingBuf, MaxEntries: 8 << 20})
	t.lost = newMap(&ebpf.MapSpec{Name: "gocap_lost", Type: ebpf.Array, KeySize: 4, ValueSize: 8, MaxEntries: 1})
	t.stacks = newMap(&ebpf.MapSpec{Name: "gocap_stacks", Type: ebpf.StackTrace, KeySize: 4, ValueSize: 8 * stackDepth, MaxEntries: 4096})
	t.calib = newMap(&ebpf.MapSpec{Name: "gocap_calib", Type: ebpf.Array, KeySize: 4, ValueSize: 12, MaxEntries: 1})
	if err != nil {
		return nil, bpfError(err)
	}
	var ns unix.Stat_t
	if err := unix.Stat("/proc/self/ns/pid", &ns); err != nil {
		return nil, err
	}
	// The kernel's dev_t of the nsfs, not the one stat encodes.
	nsDev := uint64(unix.Major(ns.Dev))<<20 | uint64(unix.Minor(ns.Dev))
	ids := map[string]uint64{}
	for _, ev := range []string{capEvent, forkEvent, execEvent, exitEvent} {
		if ids[ev], err = fs.eventID(ev); err != nil {
			return nil, err
		}
	}
	capOff, err := t.offsets(capEvent, "cap", "ret")
	if err != nil {
		return nil, err
	}
	forkOff, err := t.offsets(forkEvent, "child_pid")
	if err != nil {
		return nil, err
	}
	execOff, err := t.offsets(execEvent, "filename")
	if err != nil {
		return nil, err
	}
	seed := t.seedOrFollowed(nsDev, ns.Ino)
	programs := []struct {
		event string
		insns asm.Instructions
	}{
		{capEvent, append(seed, t.checkRecord(capOff["cap"], capOff["ret"])...)},
		{forkEvent, append(t.seedOrFollowed(nsDev, ns.Ino), t.forkRecord(forkOff["child_pid"])...)},
		{execEvent, append(t.seedOrFollowed(nsDev, ns.Ino), t.execRecord(execOff["filename"])...)},
		{exitEvent, t.forget()},
		{capEvent, t.calibration(nsDev, ns.Ino, capOff["cap"])},
	}
	for _, p := range programs {
		prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
			Name: "gocap_" + strings.Split(p.event, "/")[1], Type: ebpf.TracePoint,
			License: "GPL", Instructions: p.insns,
		})
		if err != nil {
			return nil, bpfError(fmt.Errorf("loading the %s program: %w", p.event, err))
		}
		t.progs = append(t.progs, prog)
		fd, err := attachTracepoint(ids[p.event], prog)
		if err != nil {
			return nil, bpfError(fmt.Errorf("attaching to %s: %w", p.event, err))
		}
		t.perf = append(t.perf, fd)
	}
	if t.rd, err = ringbuf.NewReader(t.ring); err != nil {
		return nil, err
	}
	// Without the kernel's addresses a stack is numbers: learn which
	// numbers are the checks a program goes on without, by making them.
	if t.syms = loadKallsyms(); len(t.syms) == 0 {
		t.known = t.calibrate()
	}
	t.done.Add(1)
	go t.read()
	return t, nil
}

// bpfError says in one line that BPF was refused, without the library's
// guesses (a low MEMLOCK limit) that do not apply.
func bpfError(err error) error {
	if errors.Is(err, unix.EPERM) {
		return fmt.Errorf("BPF refused: %w (needs root, or CAP_BPF and CAP_PERFMON; a lockdown or seccomp may forbid it)", unix.EPERM)
	}
	return err
}

func (t *bpfTracer) offsets(event string, fields ...string) (map[string]int16, error) {
	all, err := t.fs.fieldOffsets(event)
	if err != nil {
		return nil, err
	}
	for _, f := range fields {
		if _, ok := all[f]; !ok {
			return nil, fmt.Errorf("%s has no field %s", event, f)
		}
	}
	return all, nil
}

// attachTracepoint runs prog at every event id, on every CPU.
func attachTracepoint(id uint64, prog *ebpf.Program) (int, error) {
	attr := unix.PerfEventAttr{Type: unix.PERF_TYPE_TRACEPOINT, Config: id, Sample: 1, Wakeup: 1}
	attr.Size = uint32(binary.Size(attr))
	fd, err := unix.PerfEventOpen(&attr, -1, 0, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		return -1, err
	}
	if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_SET_BPF, prog.FD()); err != nil {
		unix.Close(fd)
		return -1, err
	}
	if err := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_ENABLE, 0); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// seedOrFollowed starts a program: it keeps the context in R6, stores the
// current kernel tid at fp-4 and goes on only if that task is followed, or
// is the armed seed (which it then follows). Otherwise it jumps to "out".
func (t *bpfTracer) seedOrFollowed(nsDev, nsIno uint64) asm.Instructions {
	insns := append(asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1)}, t.currentTaskKey()...)
	insns = append(insns,
		asm.FnMapLookupElem.Call(),
		asm.JNE.Imm(asm.R0, 0, "followed"),
	)
	// Armed, not yet seeded, and this is the seed?
	insns = append(insns, armedThread(t.state, -8)...)
	insns = append(insns,
		asm.LoadMem(asm.R1, asm.R7, 4, asm.Word),
		asm.JNE.Imm(asm.R1, 0, "out"),
	)
	insns = append(insns, ourThread(nsDev, nsIno)...)
	insns = append(insns, asm.StoreImm(asm.R7, 4, 1, asm.Word))
	insns = append(insns, t.follow(-4)...)
	return append(insns,
		asm.Ja.Label("followed"),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("followed"),
	)
}

// follow adds the kernel tid at fp+key to the followed tasks.
func (t *bpfTracer) follow(key int16) asm.Instructions {
	return asm.Instructions{
		asm.StoreImm(asm.RFP, -12, 1, asm.Word),
		asm.LoadMapPtr(asm.R1, t.tracked.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, int32(key)),
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, -12),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnMapUpdateElem.Call(),
	}
}

// record starts a record at fp-base: kind, the kernel tid from fp-4, and
// the task's comm.
func record(base int16, kind int32) asm.Instructions {
	return asm.Instructions{
		asm.StoreImm(asm.RFP, base+recKind, int64(kind), asm.Word),
		asm.LoadMem(asm.R1, asm.RFP, -4, asm.Word),
		asm.StoreMem(asm.RFP, base+recTid, asm.R1, asm.Word),
		asm.StoreImm(asm.RFP, base+recArg, 0, asm.DWord),
		asm.StoreImm(asm.RFP, base+recStack, -1, asm.DWord),
		asm.Mov.Reg(asm.R1, asm.RFP),
		asm.Add.Imm(asm.R1, int32(base+recComm)),
		asm.Mov.Imm(asm.R2, 16),
		asm.FnGetCurrentComm.Call(),
	}
}

// send puts size bytes at fp-base into the ring buffer and ends; when the
// buffer has no room, it counts the record as lost. fp-24 is free in every
// program (records end there).
func (t *bpfTracer) send(base int16, size int32) asm.Instructions {
	return append(asm.Instructions{
		asm.LoadMapPtr(asm.R1, t.ring.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, int32(base)),
		asm.Mov.Imm(asm.R3, size),
		asm.Mov.Imm(asm.R4, 0),
		asm.FnRingbufOutput.Call(),
		asm.JEq.Imm(asm.R0, 0, "sent"),
	}, append(t.countLost("sent"),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("sent"),
		asm.Return(),
	)...)
}

// countLost adds one to the count of lost records, then goes on at label.
// It uses fp-24, free in every program (records end there), and R0-R5.
func (t *bpfTracer) countLost(label string) asm.Instructions {
	return asm.Instructions{
		asm.StoreImm(asm.RFP, -24, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, t.lost.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -24),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, label),
		asm.Mov.Imm(asm.R1, 1),
		asm.StoreXAdd(asm.R0, asm.R1, asm.DWord),
		asm.Ja.Label(label),
	}
}

const base = -64 // a record's place on the stack, below seedOrFollowed's

func (t *bpfTracer) checkRecord(capOff, retOff int16) asm.Instructions {
	insns := record(base, int32(Check))
	insns = append(insns,
		asm.LoadMem(asm.R1, asm.R6, capOff, asm.Word),
		asm.StoreMem(asm.RFP, base+recArg, asm.R1, asm.Word),
		asm.LoadMem(asm.R7, asm.R6, retOff, asm.Word),
		asm.StoreMem(asm.RFP, base+recRet, asm.R7, asm.Word),
		asm.JEq.Imm32(asm.R7, 0, "send"),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.LoadMapPtr(asm.R2, t.stacks.FD()),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnGetStackid.Call(),
		asm.StoreMem(asm.RFP, base+recStack, asm.R0, asm.Word),
		// A denied check whose stack could not be kept (the map full, a
		// hash taken) counts as lost: unknown, it could be suggested.
		asm.JSGE.Imm(asm.R0, 0, "send"),
	)
	insns = append(insns, t.countLost("send")...)
	s := t.send(base, recSize)
	s[0] = s[0].WithSymbol("send")
	return append(insns, s...)
}

func (t *bpfTracer) forkRecord(childOff int16) asm.Instructions {
	insns := record(base, int32(Fork))
	insns = append(insns,
		asm.LoadMem(asm.R1, asm.R6, childOff, asm.Word),
		asm.StoreMem(asm.RFP, base+recArg, asm.R1, asm.Word),
		asm.StoreMem(asm.RFP, -8, asm.R1, asm.Word),
	)
	insns = append(insns, t.follow(-8)...)
	return append(insns, t.send(base, recSize)...)
}

const execBase = -320

func (t *bpfTracer) execRecord(fileOff int16) asm.Instructions {
	insns := record(execBase, int32(Exec))
	insns = append(insns,
		// filename is a __data_loc: its offset in the record in the low 16 bits
		asm.LoadMem(asm.R3, asm.R6, fileOff, asm.Word),
		asm.And.Imm(asm.R3, 0xffff),
		asm.Add.Reg(asm.R3, asm.R6),
		asm.Mov.Reg(asm.R1, asm.RFP),
		asm.Add.Imm(asm.R1, execBase+recFile),
		asm.Mov.Imm(asm.R2, fileSize),
		asm.FnProbeReadKernelStr.Call(),
	)
	return append(insns, t.send(execBase, execRecSize)...)
}

// forget stops following an exiting task.
func (t *bpfTracer) forget() asm.Instructions {
	return append(t.currentTaskKey(),
		asm.FnMapDeleteElem.Call(),
		asm.Mov.Imm(asm.R0, 0),
		asm.Return(),
	)
}

// currentTaskKey stores the current kernel tid at fp-4 and sets R1 and R2
// to the tracked map and that key, ready for a map call.
func (t *bpfTracer) currentTaskKey() asm.Instructions {
	return asm.Instructions{
		asm.FnGetCurrentPidTgid.Call(),
		asm.StoreMem(asm.RFP, -4, asm.R0, asm.Word),
		asm.LoadMapPtr(asm.R1, t.tracked.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, -4),
	}
}

func (t *bpfTracer) Method() string   { return "bpf" }
func (t *bpfTracer) Marker() *os.File { return nil }

func (t *bpfTracer) Arm(pid int) error {
	var state [8]byte
	binary.NativeEndian.PutUint32(state[:], uint32(pid))
	return t.state.Put(uint32(0), state[:])
}

func (t *bpfTracer) read() {
	defer t.done.Done()
	t.err = t.records.readFrom(t.rd)
}

// maxRecords bounds the records (checks, forks, execs) a trace keeps, and
// so its memory: a few hundred bytes each until the report is made. A loaded
// run of the program table makes about 200,000; a program that makes
// checks in a loop makes millions, and what it makes past the bound is
// counted as lost, so that the report suggests nothing. gocap(8) says so.
const maxRecords = 300_000

// keptRecords holds the first records of a trace and counts the rest.
type keptRecords struct {
	limit   int // maxRecords where 0
	kept    [][]byte
	dropped int
}

// recordSource is the ring buffer's reader, as keptRecords reads it.
type recordSource interface {
	ReadInto(*ringbuf.Record) error
}

// readFrom keeps records from src until it is flushed or closed; nil then.
func (k *keptRecords) readFrom(src recordSource) error {
	if k.limit == 0 {
		k.limit = maxRecords
	}
	var rec ringbuf.Record // reused: a record past the bound costs nothing
	for {
		if err := src.ReadInto(&rec); err != nil {
			if errors.Is(err, ringbuf.ErrFlushed) || errors.Is(err, ringbuf.ErrClosed) {
				return nil
			}
			return err
		}
		if len(k.kept) >= k.limit {
			k.dropped++
			continue
		}
		k.kept = append(k.kept, bytes.Clone(rec.RawSample))
	}
}

func (t *bpfTracer) Stop() ([]Event, error) {
	t.detach()
	t.rd.Flush() // the reader gets what is left, then ErrFlushed
	t.done.Wait()
	if t.err != nil {
		return nil, t.err
	}
	var lost uint64
	if err := t.lost.Lookup(uint32(0), &lost); err != nil {
		return nil, fmt.Errorf("reading the count of lost records: %w", err)
	}
	t.lostCount = int(lost) + t.records.dropped
	records := t.records.kept
	t.records.kept = nil // freed as the events are made
	events := make([]Event, 0, len(records))
	stacks := map[uint32][]string{} // a stack id is one stack for the trace's life
	for i, r := range records {
		records[i] = nil
		if len(r) < recSize {
			return nil, fmt.Errorf("short BPF record (%d bytes)", len(r))
		}
		u32 := func(off int) uint32 { return binary.NativeEndian.Uint32(r[off:]) }
		ev := Event{Kind: Kind(u32(recKind)), Pid: int(u32(recTid)), Comm: cString(r[recComm : recComm+16])}
		switch ev.Kind {
		case Check:
			ev.Cap, ev.Granted = int(int32(u32(recArg))), u32(recRet) == 0
			if id := int32(u32(recStack)); !ev.Granted && id >= 0 {
				stack, ok := stacks[uint32(id)]
				if !ok {
					stack = t.stack(uint32(id))
					stacks[uint32(id)] = stack
				}
				ev.Stack = stack
			}
		case Fork:
			ev.Child = int(u32(recArg))
		case Exec:
			if len(r) >= execRecSize {
				ev.Filename = cString(r[recFile : recFile+fileSize])
			}
		}
		events = append(events, ev)
	}
	return events, nil
}

func (t *bpfTracer) Lost() int { return t.lostCount }

// Untrusted is "": BPF's records are binary, with each name in a field of
// its own, which no name can spill out of.
func (t *bpfTracer) Untrusted() string { return "" }

// stack names the functions of a stack, or without the kernel's
// addresses, says whether it is the memory accounting check's; nil when
// unknown.
func (t *bpfTracer) stack(id uint32) []string {
	ips := t.rawStack(id)
	if ips == nil {
		return nil
	}
	return resolveStack(ips, t.syms, t.known)
}

// rawStack is the addresses of a stack, innermost first; nil if the
// stack map has none by that id.
func (t *bpfTracer) rawStack(id uint32) []uint64 {
	buf := make([]byte, 8*stackDepth)
	if err := t.stacks.Lookup(id, buf); err != nil {
		return nil
	}
	var ips []uint64
	for i := 0; i < stackDepth; i++ {
		ip := binary.NativeEndian.Uint64(buf[8*i:])
		if ip == 0 {
			break
		}
		ips = append(ips, ip)
	}
	return ips
}

// calibration is the program that catches the stack of the first check
// of the capability calib[2] by the thread whose tid (in our pid
// namespace) calib[0] holds, into calib[1] (-1 until then).
func (t *bpfTracer) calibration(nsDev, nsIno uint64, capOff int16) asm.Instructions {
	insns := asm.Instructions{asm.Mov.Reg(asm.R6, asm.R1)}
	insns = append(insns, armedThread(t.calib, -4)...)
	insns = append(insns,
		asm.LoadMem(asm.R1, asm.R6, capOff, asm.Word),
		asm.LoadMem(asm.R2, asm.R7, 8, asm.Word),
		asm.JNE.Reg(asm.R1, asm.R2, "out"),
	)
	insns = append(insns, ourThread(nsDev, nsIno)...)
	return append(insns,
		// Only the first check after arming.
		asm.LoadMem(asm.R1, asm.R7, 4, asm.Word),
		asm.JNE.Imm32(asm.R1, -1, "out"),
		asm.Mov.Reg(asm.R1, asm.R6),
		asm.LoadMapPtr(asm.R2, t.stacks.FD()),
		asm.Mov.Imm(asm.R3, 0),
		asm.FnGetStackid.Call(),
		asm.StoreMem(asm.R7, 4, asm.R0, asm.Word),
		asm.Mov.Imm(asm.R0, 0).WithSymbol("out"),
		asm.Return(),
	)
}

// armedThread looks up entry 0 of m, whose first word is the tid (in our
// pid namespace) of the thread it is armed for, with the key at fp+key:
// it goes to "out" when nothing is armed, and else leaves the entry's
// address in R7 and the tid in R8.
func armedThread(m *ebpf.Map, key int16) asm.Instructions {
	return asm.Instructions{
		asm.StoreImm(asm.RFP, key, 0, asm.Word),
		asm.LoadMapPtr(asm.R1, m.FD()),
		asm.Mov.Reg(asm.R2, asm.RFP),
		asm.Add.Imm(asm.R2, int32(key)),
		asm.FnMapLookupElem.Call(),
		asm.JEq.Imm(asm.R0, 0, "out"),
		asm.Mov.Reg(asm.R7, asm.R0),
		asm.LoadMem(asm.R8, asm.R7, 0, asm.Word),
		asm.JEq.Imm(asm.R8, 0, "out"),
	}
}

// ourThread goes to "out" unless the current task's tid in our pid
// namespace (nsDev, nsIno) is R8. It uses fp-16 to fp-9.
func ourThread(nsDev, nsIno uint64) asm.Instructions {
	return asm.Instructions{
		asm.LoadImm(asm.R1, int64(nsDev), asm.DWord),
		asm.LoadImm(asm.R2, int64(nsIno), asm.DWord),
		asm.Mov.Reg(asm.R3, asm.RFP),
		asm.Add.Imm(asm.R3, -16),
		asm.Mov.Imm(asm.R4, 8),
		asm.FnGetNsCurrentPidTgid.Call(),
		asm.JNE.Imm(asm.R0, 0, "out"),
		asm.LoadMem(asm.R1, asm.RFP, -16, asm.Word), // our namespace's tid
		asm.JNE.Reg(asm.R1, asm.R8, "out"),
	}
}

// The capabilities the calibration's checks are of.
const (
	capSetgid   = 6
	capSetuid   = 7
	capSetpcap  = 8
	capSysAdmin = 21
)

// calibrate makes, on one thread, the checks that programs are denied
// without needing the capability, and returns their stacks: the memory
// accounting's (from two callers, a writable mapping and a mapping made
// writable, keeping the frames they share), capset's and setuid's and
// setgid's to one's own ids. Each is made until two stacks in a row agree;
// a check it could not catch so is left out.
func (t *bpfTracer) calibrate() []knownStack {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// No collection either: it may shrink this goroutine's stack, and
	// growing it again maps memory.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	tid := unix.Gettid()
	// From the arming to the check, only raw system calls on this thread:
	// the Go runtime's own (a new heap span maps memory) would be caught
	// instead. So the map is armed by a raw bpf(2) with what it needs
	// made beforehand.
	key, arm := new(uint32), new([12]byte)
	attr := &bpfMapElemAttr{mapFD: uint32(t.calib.FD()),
		key: uint64(uintptr(unsafe.Pointer(key))), value: uint64(uintptr(unsafe.Pointer(arm)))}
	mmapPage := func(prot uintptr) uintptr {
		p, _, errno := unix.RawSyscall6(unix.SYS_MMAP, 0, 4096, prot, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uintptr(0), 0)
		if errno != 0 {
			return 0
		}
		return p
	}
	// catch makes a check by do until it gives the same stack twice in a
	// row, four times at most, and returns that stack (nil if none).
	catch := func(capability int, do func()) []uint64 {
		var last []uint64
		for range 4 {
			binary.NativeEndian.PutUint32(arm[:], uint32(tid))
			binary.NativeEndian.PutUint32(arm[4:], ^uint32(0))
			binary.NativeEndian.PutUint32(arm[8:], uint32(capability))
			if _, _, errno := unix.RawSyscall(unix.SYS_BPF, bpfMapUpdateElem, uintptr(unsafe.Pointer(attr)), unsafe.Sizeof(*attr)); errno != 0 {
				return nil
			}
			do()
			var got [12]byte
			if t.calib.Lookup(uint32(0), got[:]) != nil {
				return nil
			}
			var stack []uint64
			if id := int32(binary.NativeEndian.Uint32(got[4:])); id >= 0 {
				stack = t.rawStack(uint32(id))
			}
			if stack != nil && slices.Equal(stack, last) {
				return stack
			}
			last = stack
		}
		return nil
	}
	var accounting []uint64
	for range 3 { // a mapping of the runtime's caught for the mprotect is the same as the first
		mapped := catch(capSysAdmin, func() {
			if p := mmapPage(unix.PROT_READ | unix.PROT_WRITE); p != 0 {
				unix.RawSyscall(unix.SYS_MUNMAP, p, 4096, 0)
			}
		})
		protected := catch(capSysAdmin, func() {
			if p := mmapPage(unix.PROT_READ); p != 0 { // not accounted: read-only
				unix.RawSyscall(unix.SYS_MPROTECT, p, 4096, unix.PROT_READ|unix.PROT_WRITE)
				unix.RawSyscall(unix.SYS_MUNMAP, p, 4096, 0)
			}
		})
		if accounting = sharedFrames(mapped, protected); accounting != nil {
			break
		}
	}
	hdr := &unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := new([2]unix.CapUserData)
	capset := catch(capSetpcap, func() {
		// The sets as they are: a capset that changes nothing.
		if _, _, e := unix.RawSyscall(unix.SYS_CAPGET, uintptr(unsafe.Pointer(hdr)), uintptr(unsafe.Pointer(&data[0])), 0); e == 0 {
			unix.RawSyscall(unix.SYS_CAPSET, uintptr(unsafe.Pointer(hdr)), uintptr(unsafe.Pointer(&data[0])), 0)
		}
	})
	// To its own ids, on this thread alone: nothing changes.
	setuid := catch(capSetuid, func() {
		uid, _, _ := unix.RawSyscall(unix.SYS_GETEUID, 0, 0, 0)
		unix.RawSyscall(unix.SYS_SETUID, uid, 0, 0)
	})
	setgid := catch(capSetgid, func() {
		gid, _, _ := unix.RawSyscall(unix.SYS_GETEGID, 0, 0, 0)
		unix.RawSyscall(unix.SYS_SETGID, gid, 0, 0)
	})
	runtime.KeepAlive(key)
	runtime.KeepAlive(arm)
	t.calib.Put(uint32(0), make([]byte, 12))
	return []knownStack{
		{capSysAdmin, accounting, []string{"cap_capable", "security_vm_enough_memory_mm"}},
		{capSetpcap, capset, []string{"cap_capable", "cap_capset"}},
		{capSetuid, setuid, []string{"cap_capable", "__sys_setuid"}},
		{capSetgid, setgid, []string{"cap_capable", "__sys_setgid"}},
	}
}

// uncalibrated is the capabilities whose stacks calibrate could not learn,
// where stacks are numbers.
func (t *bpfTracer) uncalibrated() uint64 {
	if len(t.syms) > 0 {
		return 0
	}
	return uncalibrated(t.known)
}

// bpfMapElemAttr is bpf(2)'s attribute for BPF_MAP_UPDATE_ELEM.
type bpfMapElemAttr struct {
	mapFD uint32
	_     uint32
	key   uint64
	value uint64
	flags uint64
}

const bpfMapUpdateElem = 2

func (t *bpfTracer) detach() {
	for _, fd := range t.perf {
		unix.Close(fd)
	}
	t.perf = nil
}

func (t *bpfTracer) Close() {
	t.detach()
	if t.rd != nil {
		t.rd.Close()
		t.done.Wait()
		t.rd = nil
	}
	for _, p := range t.progs {
		p.Close()
	}
	t.progs = nil
	for _, m := range []*ebpf.Map{t.tracked, t.state, t.ring, t.stacks, t.lost, t.calib} {
		if m != nil {
			m.Close()
		}
	}
	t.tracked, t.state, t.ring, t.stacks, t.lost, t.calib = nil, nil, nil, nil, nil, nil
	t.fs.close()
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// kallsyms is the kernel's text symbols, sorted by address.
type kallsyms []ksym

type ksym struct {
	addr uint64
	name string
}

// loadKallsyms reads /proc/kallsyms; it is empty where the kernel hides
// its addresses (kptr_restrict), and stacks are then unknown.
func loadKallsyms() kallsyms {
	f, err := os.Open("/proc/kallsyms")
	if err != nil {
		return nil
	}
	defer f.Close()
	var syms kallsyms
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 3 || (fields[1] != "t" && fields[1] != "T") {
			continue
		}
		addr, err := strconv.ParseUint(fields[0], 16, 64)
		if err != nil || addr == 0 {
			continue
		}
		syms = append(syms, ksym{addr, fields[2]})
	}
	sort.Slice(syms, func(i, j int) bool { return syms[i].addr < syms[j].addr })
	return syms
}

func (s kallsyms) name(ip uint64) string {
	i := sort.Search(len(s), func(i int) bool { return s[i].addr > ip })
	if i == 0 {
		return fmt.Sprintf("0x%x", ip)
	}
	return s[i-1].name
}
