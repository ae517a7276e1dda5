package launch

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"syscall"
	"time"
)

// Process is a process left running in the command's session.
type Process struct {
	Pid  int
	Comm string
}

// linger waits up to d for the processes of session sid (what the
// command started and left running) to end, passing on sigs to the
// session's process group as Run does, and returns those still running.
func linger(sid int, d time.Duration, sigs <-chan os.Signal) []Process {
	deadline := time.After(d)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		left := sessionProcesses(sid)
		if len(left) == 0 {
			return nil
		}
		select {
		case sig := <-sigs:
			syscall.Kill(-sid, sig.(syscall.Signal))
		case <-tick.C:
		case <-deadline:
			return left
		}
	}
}

// sessionProcesses lists the live processes (not zombies) of session sid
// in /proc, in pid order.
func sessionProcesses(sid int) []Process {
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []Process
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue // it ended
		}
		// pid (comm) state ppid pgrp session ...; comm may hold ')'.
		open, end := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
		if open < 0 || end < open {
			continue
		}
		f := bytes.Fields(data[end+1:])
		if len(f) < 4 || string(f[0]) == "Z" || string(f[3]) != strconv.Itoa(sid) {
			continue
		}
		pid, _ := strconv.Atoi(string(bytes.TrimSpace(data[:open])))
		out = append(out, Process{Pid: pid, Comm: string(data[open+1 : end])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pid < out[j].Pid })
	return out
}
