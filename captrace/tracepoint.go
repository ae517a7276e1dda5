package captrace

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// tracepointTracer records through a tracefs instance of its own: its
// settings, buffer and pid filter are not the machine's, which it never
// touches, nor another trace's.
type tracepointTracer struct {
	fs     *tracefs
	dir    string
	marker *os.File
	pipe   int // trace_pipe, non-blocking; -1 when closed
	stop   chan struct{}
	done   sync.WaitGroup
	text   keptText
	lost   int
	// untrusted is why the text read cannot be trusted, "" when it can.
	untrusted string
	err       error
}

func openTracepoint(fs *tracefs) (*tracepointTracer, error) {
	fs.removeStaleInstances()
	t := &tracepointTracer{fs: fs, dir: filepath.Join(fs.dir, "instances", instanceName(os.Getpid())), pipe: -1}
	// The remover first, so that the instance is never without one.
	fs.removeAtExit(filepath.Base(t.dir))
	if err := os.Mkdir(t.dir, 0o700); err != nil {
		fs.close()
		return nil, fmt.Errorf("cannot make a tracefs instance: %w", err)
	}
	err := t.write("options/event-fork", "1")
	if err == nil {
		err = t.write("buffer_size_kb", strconv.Itoa(bufferKB(runtime.NumCPU())))
	}
	if err == nil {
		// The kernel stack of each denied check tells noaudit checks apart.
		err = t.write("events/"+capEvent+"/trigger", "stacktrace if ret != 0")
	}
	if err == nil {
		t.marker, err = os.OpenFile(filepath.Join(t.dir, "trace_marker"), os.O_WRONLY, 0)
	}
	if err != nil {
		t.Close()
		return nil, err
	}
	return t, nil
}

// bufferKB sizes the instance's buffer, which the kernel gives every CPU:
// 16 MiB a CPU held the 200,000 checks (with their stacks) of two
// mmap-heavy programs on 2 CPUs busy with other work, where 4 MiB lost a
// quarter of them, as trace_pipe's text is slower to read than the kernel
// makes it. Many CPUs share 64 MiB, with 4 MiB at least.
func bufferKB(cpus int) int {
	return min(16<<10, max(4<<10, (64<<10)/max(cpus, 1)))
}

func (t *tracepointTracer) Method() string   { return "tracepoint" }
func (t *tracepointTracer) Marker() *os.File { return t.marker }

func (t *tracepointTracer) write(file, value string) error {
	f, err := os.OpenFile(filepath.Join(t.dir, file), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(t.dir, file), err)
	}
	return nil
}

var markLine = regexp.MustCompile(`^\s*.*-(\d+)\s+\[\d+\].*: tracing_mark_write: (.*)$`)

// Arm finds the kernel's pid for pid from its marker (the pids in a trace
// are the kernel's, not those of a pid namespace), follows it and starts
// recording.
func (t *tracepointTracer) Arm(pid int) error {
	data, err := os.ReadFile(filepath.Join(t.dir, "trace"))
	if err != nil {
		return err
	}
	kpid := 0
	for _, line := range strings.Split(string(data), "\n") {
		if m := markLine.FindStringSubmatch(line); m != nil && m[2]+"\n" == SeedMarker(pid) {
			kpid, _ = strconv.Atoi(m[1])
		}
	}
	if kpid == 0 {
		return fmt.Errorf("process %d wrote no marker to %s", pid, t.marker.Name())
	}
	if err := t.write("set_event_pid", strconv.Itoa(kpid)); err != nil {
		return err
	}
	if err := t.write("trace", ""); err != nil { // drop the marker
		return err
	}
	t.pipe, err = syscall.Open(filepath.Join(t.dir, "trace_pipe"), syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("trace_pipe: %w", err)
	}
	for _, ev := range []string{forkEvent, execEvent, capEvent} {
		if err := t.write("events/"+ev+"/enable", "1"); err != nil {
			return err
		}
	}
	t.stop = make(chan struct{})
	t.done.Add(1)
	go t.read()
	return nil
}

// read copies trace_pipe until told to stop and the pipe is empty.
func (t *tracepointTracer) read() {
	defer t.done.Done()
	buf := make([]byte, 64<<10)
	stopping := false
	for {
		n, err := syscall.Read(t.pipe, buf)
		switch {
		case n > 0:
			t.text.write(buf[:n])
		case err == syscall.EAGAIN || err == syscall.EINTR || n == 0:
			if stopping {
				t.text.end()
				return
			}
			select {
			case <-t.stop:
				stopping = true
			case <-time.After(20 * time.Millisecond):
			}
		default:
			t.err = fmt.Errorf("trace_pipe: %w", err)
			return
		}
	}
}

func (t *tracepointTracer) Stop() ([]Event, error) {
	if t.stop == nil {
		return nil, errors.New("not armed")
	}
	err := t.write("tracing_on", "0")
	close(t.stop)
	t.done.Wait()
	t.stop = nil
	if err == nil {
		err = t.err
	}
	read := 0
	if err == nil {
		t.lost, read, err = t.readLost()
	}
	if err != nil {
		return nil, err
	}
	t.lost += t.text.dropped
	text := t.text.kept.String()
	t.text.kept.Reset()
	p, err := parseTrace(strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	t.untrusted = untrusted(p, read, t.text.full)
	return p.events, nil
}

// untrusted says why the text of a trace whose buffer handed over read
// records cannot be trusted, "" when it can: a line that is no record's,
// or more records in the text than the kernel handed over (a forged
// header line in a name). Where the text was cut (full: what was not kept
// is lost, and suggests nothing already), it holds fewer.
func untrusted(p parsed, read int, full bool) string {
	if p.untrusted != "" {
		return p.untrusted
	}
	if p.records > read || !full && p.records != read {
		return fmt.Sprintf("its text holds %d records where the kernel handed over %d: a name with a newline in it made up the rest", p.records, read)
	}
	return ""
}

func (t *tracepointTracer) Lost() int { return t.lost }

// maxTraceText bounds the trace_pipe text a trace keeps, beside
// maxRecords events: a denied check's line and stack take about 600
// bytes, so that the 200,000 checks of a loaded run fit.
const maxTraceText = 128 << 20

// maxTraceLine is longer than any line the kernel writes for our events
// (an exec's file name is at most PATH_MAX); a longer one is not kept.
const maxTraceLine = 64 << 10

// keptText holds the first lines of trace_pipe's text, up to maxRecords
// events and maxTraceText bytes, and counts the events of the rest: a
// line that is not a stack's ("<stack trace>", " => fn") is an event.
type keptText struct {
	maxEvents, maxBytes int // maxRecords and maxTraceText where 0
	kept                strings.Builder
	events              int // kept
	dropped             int // events not kept
	full                bool
	line                []byte // the line being read, up to maxTraceLine
	long                bool   // the line being read is longer: not kept
}

// write takes the next bytes of trace_pipe.
func (k *keptText) write(p []byte) {
	if k.maxEvents == 0 {
		k.maxEvents, k.maxBytes = maxRecords, maxTraceText
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		part := p
		if i >= 0 {
			part, p = p[:i+1], p[i+1:]
		} else {
			p = nil
		}
		if len(k.line)+len(part) > maxTraceLine {
			k.long, k.line = true, k.line[:0]
		}
		if !k.long {
			k.line = append(k.line, part...)
		}
		if i >= 0 {
			k.endLine()
		}
	}
}

// end takes a last line that has no newline.
func (k *keptText) end() {
	if len(k.line) > 0 || k.long {
		k.endLine()
	}
}

func (k *keptText) endLine() {
	line, long := k.line, k.long
	k.line, k.long = k.line[:0], false
	isEvent := long || len(bytes.TrimSpace(line)) > 0 &&
		!bytes.HasPrefix(line, []byte(" => ")) && !bytes.Contains(line, []byte("<stack trace>"))
	if isEvent && !k.full && (long || k.events >= k.maxEvents || k.kept.Len()+len(line) > k.maxBytes) {
		// Nothing after it is kept either: a stack after a lost event
		// would be given to an earlier one.
		k.full = true
	}
	switch {
	case k.full && isEvent:
		k.dropped++
	case k.full:
	case k.kept.Len()+len(line) > k.maxBytes: // a stack line: its event is cut, so lost
		k.full = true
		k.dropped++
	default:
		k.kept.Write(line)
		if isEvent {
			k.events++
		}
	}
}

// Untrusted is why the trace's text cannot be trusted, "" when it can.
func (t *tracepointTracer) Untrusted() string { return t.untrusted }

// readLost adds up what the instance's buffer lost on every CPU, and the
// records read from it.
func (t *tracepointTracer) readLost() (int, int, error) {
	files, err := filepath.Glob(filepath.Join(t.dir, "per_cpu", "cpu*", "stats"))
	if err != nil || len(files) == 0 {
		return 0, 0, fmt.Errorf("%s: no per-CPU buffer statistics", t.dir)
	}
	lost, read := 0, 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return 0, 0, err
		}
		n, err := parseLost(string(data))
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", f, err)
		}
		r, err := parseRead(string(data))
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", f, err)
		}
		lost += n
		read += r
	}
	return lost, read, nil
}

// parseRead reads the count of records read from a per_cpu/cpuN/stats
// file ("read events"): what trace_pipe handed over.
func parseRead(stats string) (int, error) {
	for _, line := range strings.Split(stats, "\n") {
		if v, ok := strings.CutPrefix(line, "read events:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			if err != nil {
				return 0, fmt.Errorf("read events: %q is not a count", strings.TrimSpace(v))
			}
			return n, nil
		}
	}
	return 0, errors.New("no read events count")
}

// parseLost reads a per_cpu/cpuN/stats file: the events overwritten
// before they were read ("overrun"), those the writer itself overwrote
// ("commit overrun") and those refused for want of room ("dropped
// events"). The buffer overwrites when full, so overrun is the one that
// counts when the reader falls behind.
func parseLost(stats string) (int, error) {
	lost, seen := 0, 0
	for _, line := range strings.Split(stats, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		switch name {
		case "overrun", "commit overrun", "dropped events":
			n, err := strconv.Atoi(strings.TrimSpace(value))
			if err != nil {
				return 0, fmt.Errorf("%s: %q is not a count", name, strings.TrimSpace(value))
			}
			lost += n
			seen++
		}
	}
	if seen == 0 {
		return 0, errors.New("no overrun count")
	}
	return lost, nil
}

func (t *tracepointTracer) Close() {
	if t.stop != nil {
		close(t.stop)
		t.done.Wait()
		t.stop = nil
	}
	if t.pipe >= 0 {
		syscall.Close(t.pipe)
		t.pipe = -1
	}
	if t.marker != nil {
		t.marker.Close()
		t.marker = nil
	}
	if t.dir != "" {
		t.write("events/enable", "0")
		for i := 0; i < 50 && os.Remove(t.dir) != nil; i++ { // EBUSY while the kernel lets go of it
			time.Sleep(10 * time.Millisecond)
		}
		t.dir = ""
	}
	t.fs.close()
}

// A trace_pipe line: "COMM-PID [CPU] FLAGS SECONDS: WHAT", where the flags
// column may be absent; stack lines follow a "<stack trace>" line.
var (
	traceLine = regexp.MustCompile(`^\s*(.*)-(\d+)\s+\[\d+\]\s+(?:\S+\s+)?\d+\.\d+: (.*)$`)
	capFields = regexp.MustCompile(`\bcap (-?\d+), ret (-?\d+)`)
	forkChild = regexp.MustCompile(`\bchild_pid=(\d+)$`)
	execFile  = regexp.MustCompile(`^filename=(.*) pid=(\d+) old_pid=\d+$`)
	lostLine  = regexp.MustCompile(`^CPU:\d+ \[LOST \d+ EVENTS\]$`)
)

// parsed is what parseTrace read: the events, how many records their
// text held (one header line each), and why the text cannot be trusted,
// "" when it can.
type parsed struct {
	events    []Event
	records   int
	untrusted string
}

// parseTrace reads trace_pipe text into events. A stack belongs to the
// last denied check of the same pid.
//
// The kernel prints the strings of an event raw: an exec'd file name or
// a command name with a newline in it would split its record's text into
// lines of the traced user's choosing, forged events among them. Such
// text is never trusted, and it is told apart from the kernel's own:
// every line must be a record's header line, or a stack line under a
// "<stack trace>" header (or another stack line); a header's command
// name must fill the 16 bytes the kernel pads it to; an exec line must
// end in its own pid. Any other line is a record's text cut by a newline, and
// a forged header line makes one more record than the kernel handed
// over, which Stop compares with the kernel's count of records read.
func parseTrace(r io.Reader) (parsed, error) {
	var p parsed
	lastDenied := map[int]int{} // pid -> index in events
	stackOf := -1               // the event the stack lines being read belong to
	inStack := false            // the line before was "<stack trace>" or a stack line
	poison := func(why, line string) {
		if p.untrusted == "" {
			p.untrusted = fmt.Sprintf("%s: %q", why, line)
		}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if fn, ok := strings.CutPrefix(line, " => "); ok {
			if !inStack {
				poison("a stack line under no stack", line)
				continue
			}
			if stackOf >= 0 {
				p.events[stackOf].Stack = append(p.events[stackOf].Stack, strings.TrimSpace(fn))
			}
			continue
		}
		stackOf, inStack = -1, false
		if lostLine.MatchString(line) {
			continue // counted from the buffer's statistics
		}
		m := traceLine.FindStringSubmatch(line)
		if m == nil {
			poison("a line that is no record's", line)
			continue
		}
		// The kernel pads the command name to 16 bytes ("%16s-%d"), and
		// a name has 15 at most: one cut by a newline leaves a shorter
		// header line, and its first part posing as a stack line.
		if loc := traceLine.FindStringSubmatchIndex(line); loc[3] != 16 {
			poison("a record's header cut by a newline in its command name", line)
			continue
		}
		p.records++
		pid, _ := strconv.Atoi(m[2])
		ev := Event{Pid: pid, Comm: m[1]}
		what, args, _ := strings.Cut(m[3], ": ")
		switch what {
		case "cap_capable":
			f := capFields.FindStringSubmatch(args)
			if f == nil {
				poison("a cap_capable event without cap and ret", line)
				continue
			}
			ev.Kind = Check
			ev.Cap, _ = strconv.Atoi(f[1])
			ev.Granted = f[2] == "0"
			if !ev.Granted {
				lastDenied[pid] = len(p.events)
			}
		case "sched_process_fork":
			f := forkChild.FindStringSubmatch(args)
			if f == nil {
				poison("a fork event without child_pid", line)
				continue
			}
			ev.Kind = Fork
			ev.Child, _ = strconv.Atoi(f[1])
		case "sched_process_exec":
			f := execFile.FindStringSubmatch(args)
			if f == nil || f[2] != m[2] {
				poison("an exec event cut by a newline in its file name", line)
				continue
			}
			ev.Kind, ev.Filename = Exec, f[1]
		case "<stack trace>":
			inStack = true
			if i, ok := lastDenied[pid]; ok {
				stackOf = i
				delete(lastDenied, pid)
			}
			continue
		default:
			continue
		}
		p.events = append(p.events, ev)
	}
	return p, sc.Err()
}
