package captrace

import (
	"bytes"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/cilium/ebpf/ringbuf"
)

// fakeRing hands out n records of recSize bytes, then says it was flushed.
type fakeRing struct{ n int }

func (f *fakeRing) ReadInto(rec *ringbuf.Record) error {
	if f.n == 0 {
		return ringbuf.ErrFlushed
	}
	f.n--
	if cap(rec.RawSample) < recSize {
		rec.RawSample = make([]byte, recSize)
	}
	rec.RawSample = rec.RawSample[:recSize]
	rec.RawSample[0] = byte(f.n)
	return nil
}

// heapAfter is the live heap after f, once collected.
func heapAfter(f func()) uint64 {
	var ms runtime.MemStats
	f()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// A program that makes checks in a loop makes more records than a trace
// keeps: the rest are counted, not kept.
func TestKeptRecordsBound(t *testing.T) {
	tests := []struct {
		name           string
		limit, records int
		kept, dropped  int
	}{
		{"under the bound", 1000, 999, 999, 0},
		{"at the bound", 1000, 1000, 1000, 0},
		{"past the bound", 1000, 1001, 1000, 1},
		{"far past the bound", 1000, 2_000_000, 1000, 1_999_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &keptRecords{limit: tt.limit}
			before := heapAfter(func() {})
			after := heapAfter(func() {
				if err := k.readFrom(&fakeRing{n: tt.records}); err != nil {
					t.Fatal(err)
				}
			})
			if len(k.kept) != tt.kept || k.dropped != tt.dropped {
				t.Errorf("kept %d, dropped %d; want %d, %d", len(k.kept), k.dropped, tt.kept, tt.dropped)
			}
			// Keeping all 2,000,000 would hold 80 MB and more.
			if grown := int64(after) - int64(before); grown > 1<<20 {
				t.Errorf("the heap grew by %d bytes for %d records kept", grown, len(k.kept))
			}
			// Each kept record is a copy, not the reader's reused buffer.
			for i, r := range k.kept {
				if want := byte(tt.records - 1 - i); r[0] != want {
					t.Fatalf("record %d starts with %d, want %d", i, r[0], want)
				}
			}
		})
	}
	if (&keptRecords{}).readFrom(&fakeRing{}) != nil || maxRecords < 200_000 {
		t.Errorf("maxRecords = %d: a loaded run's 200,000 checks must fit", maxRecords)
	}
}

// A denied check as trace_pipe writes it, with a stack of three frames.
const deniedText = "              sh-26047   [001] ..... 10726.881699: cap_capable: cred 000000009b261558, target_ns 00000000501a8370, capable_ns 0000000000000000, cap 21, ret -1\n" +
	"              sh-26047   [001] ..... 10726.881729: <stack trace>\n" +
	" => trace_event_raw_event_cap_capable\n => cap_capable\n => security_vm_enough_memory_mm\n"

// The tracepoint reader keeps whole events up to its bounds, however the
// pipe's reads cut the text, and counts the events past them.
func TestKeptTextBound(t *testing.T) {
	tests := []struct {
		name                string
		maxEvents, maxBytes int
		checks              int
		chunk               int // bytes a read gives
		whole, cut, dropped int // events kept with their stacks, with part of it; events lost (the cut one too)
	}{
		{"under both", 10, 1 << 20, 9, 64 << 10, 9, 0, 0},
		{"at the event bound", 10, 1 << 20, 10, 7, 10, 0, 0},
		{"past the event bound", 10, 1 << 20, 25, 100, 10, 0, 15},
		{"blank lines are no events", 10, 1 << 20, 0, 1, 0, 0, 0},
		{"past the byte bound", 1000, 3*len(deniedText) + 10, 5, 1, 3, 0, 2},
		{"a stack cut by the byte bound", 1000, 3*len(deniedText) - 10, 5, 33, 2, 1, 1 + 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := &keptText{maxEvents: tt.maxEvents, maxBytes: tt.maxBytes}
			text := []byte(strings.Repeat(deniedText, tt.checks))
			if tt.checks == 0 {
				text = []byte(strings.Repeat("\n", 25))
			}
			for len(text) > 0 {
				n := min(tt.chunk, len(text))
				k.write(text[:n])
				text = text[n:]
			}
			k.end()
			if k.kept.Len() > tt.maxBytes {
				t.Errorf("kept %d bytes, more than %d", k.kept.Len(), tt.maxBytes)
			}
			p, err := parseTrace(strings.NewReader(k.kept.String()))
			if err != nil {
				t.Fatal(err)
			}
			events, whole := p.events, 0
			for _, ev := range events {
				if len(ev.Stack) == 3 {
					whole++
				}
			}
			if whole != tt.whole || len(events)-whole != tt.cut || k.dropped != tt.dropped {
				t.Errorf("%d events with whole stacks, %d with part, %d dropped; want %d, %d, %d",
					whole, len(events)-whole, k.dropped, tt.whole, tt.cut, tt.dropped)
			}
		})
	}
}

// A line longer than any the kernel writes for an event is not kept, and
// counts as lost with everything after it.
func TestKeptTextLongLine(t *testing.T) {
	k := &keptText{}
	k.write([]byte(deniedText))
	k.write(bytes.Repeat([]byte("x"), maxTraceLine+1))
	k.write([]byte("\n" + deniedText))
	k.end()
	if k.kept.String() != deniedText || k.dropped != 2 {
		t.Errorf("kept %q, dropped %d; want the first check, 2", k.kept.String(), k.dropped)
	}
}

// The recorded trace goes through whole, as before the bounds.
func TestKeptTextRecordedTrace(t *testing.T) {
	data, err := os.ReadFile("testdata/su-rawprobe.trace")
	if err != nil {
		t.Fatal(err)
	}
	k := &keptText{}
	for len(data) > 0 {
		n := min(4096, len(data))
		k.write(data[:n])
		data = data[n:]
	}
	k.end()
	want, _ := os.ReadFile("testdata/su-rawprobe.trace")
	if k.kept.String() != string(want) || k.dropped != 0 {
		t.Errorf("kept %d of %d bytes, dropped %d", k.kept.Len(), len(want), k.dropped)
	}
}
