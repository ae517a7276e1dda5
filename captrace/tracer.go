package captrace

import (
	"errors"
	"fmt"
	"os"
)

// A Tracer records the events of one process tree. Use: Open, start the
// process paused, have it write SeedMarker to Marker (when there is one),
// Arm with its pid, let it run, Stop when it has exited, Close.
type Tracer interface {
	// Method is "tracepoint" or "bpf".
	Method() string
	// Marker is where the process to trace writes SeedMarker(its pid)
	// before Arm; nil when the method needs no marker.
	Marker() *os.File
	// Arm starts recording what the paused process pid (as this process
	// sees pids) and every task it starts from now on do.
	Arm(pid int) error
	// Stop ends the recording and returns the events in the order the
	// kernel made them.
	Stop() ([]Event, error)
	// Lost is how many events the kernel made for the trace but could not
	// hand over (its buffer was full), as counted at Stop: a trace that
	// lost any may lack the one check that mattered.
	Lost() int
	// Untrusted is why the recorded events cannot be trusted (a name
	// the traced command chose made up events), "" when they can: a
	// trace that cannot be trusted suggests nothing.
	Untrusted() string
	// Close puts back what Open changed; it may be called more than once,
	// and after a failed Arm or Stop.
	Close()
}

// SeedMarker is the text the process to trace writes to Marker.
func SeedMarker(pid int) string { return fmt.Sprintf("gocap-trace-seed %d\n", pid) }

// Methods are the values Open takes for via, besides "" (the first that
// works, in this order). BPF comes first: its records are binary and read
// as fast as the kernel makes them, where trace_pipe's text falls behind
// under load (two mmap-heavy programs on 2 busy CPUs: BPF lost none of
// 200,000 checks, tracepoint with 4 MiB a CPU a quarter; three, 750,000
// checks: BPF none, tracepoint with 16 MiB a CPU a third).
var Methods = []string{"bpf", "tracepoint"}

// Open prepares a trace by the method via, or with "" by the first of
// Methods that works.
func Open(via string) (Tracer, error) {
	methods := []string{via}
	switch via {
	case "":
		methods = Methods
	case "tracepoint", "bpf":
	default:
		return nil, fmt.Errorf("unknown method %q (tracepoint or bpf)", via)
	}
	var errs []error
	for _, m := range methods {
		// Each attempt gets its own tracefs: a failed one unmounts what it
		// mounted.
		fs, err := openTracefs()
		if err != nil {
			return nil, err
		}
		var t Tracer
		if m == "tracepoint" {
			t, err = openTracepoint(fs)
		} else {
			t, err = openBPF(fs)
		}
		if err == nil {
			return t, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}
