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

// Process is a process left running by the command.
type Process struct {
	Pid  int
	Comm string
}

// linger waits up to d for what the command started and left running to
// end, passing on sigs to the session's process group as Run does, and
// returns those still running. What it left running is the processes of
// session sid, those that gocap adopted as their subreaper (orphans, a
// process that called setsid among them) but for gocap's own children
// before the start (mine), and what either of them started.
func linger(sid int, mine map[int]bool, d time.Duration, sigs <-chan os.Signal) []Process {
	deadline := time.After(d)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	// /proc is read one process at a time: a process can be missed as
	// its parent ends and it moves to gocap. So nothing is left only when
	// two readings a tick apart find nothing.
	empty := 0
	for {
		left := leftRunning(sid, mine)
		if len(left) > 0 {
			empty = 0
		} else if empty++; empty == 2 {
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

// procStat is what linger needs of a /proc/PID/stat.
type procStat struct {
	pid, ppid, session int
	comm               string
	zombie             bool
}

// processes reads every process's /proc/PID/stat.
func processes() []procStat {
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []procStat
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
		if len(f) < 4 {
			continue
		}
		pid, err1 := strconv.Atoi(string(bytes.TrimSpace(data[:open])))
		ppid, err2 := strconv.Atoi(string(f[1]))
		session, err3 := strconv.Atoi(string(f[3]))
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		out = append(out, procStat{pid: pid, ppid: ppid, session: session, comm: string(data[open+1 : end]), zombie: string(f[0]) == "Z"})
	}
	return out
}

// children lists gocap's own children now.
func children() map[int]bool {
	self := os.Getpid()
	out := map[int]bool{}
	for _, p := range processes() {
		if p.ppid == self {
			out[p.pid] = true
		}
	}
	return out
}

// leftRunning lists, in pid order, the live processes (not zombies) of
// session sid, gocap's children not in mine, and their descendants. It
// reaps those of gocap's children that are zombies, orphans of the
// command's it adopted.
func leftRunning(sid int, mine map[int]bool) []Process {
	self := os.Getpid()
	all := processes()
	left := map[int]bool{}
	for _, p := range all {
		switch {
		case p.session == sid:
			left[p.pid] = true
		case p.ppid == self && !mine[p.pid]:
			left[p.pid] = true
			if p.zombie {
				var ws syscall.WaitStatus
				syscall.Wait4(p.pid, &ws, syscall.WNOHANG, nil)
			}
		}
	}
	for added := true; added; {
		added = false
		for _, p := range all {
			if left[p.ppid] && !left[p.pid] {
				left[p.pid], added = true, true
			}
		}
	}
	var out []Process
	for _, p := range all {
		if left[p.pid] && !p.zombie {
			out = append(out, Process{Pid: p.pid, Comm: p.comm})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pid < out[j].Pid })
	return out
}
