package tests

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/msteinert/pam/v2"
)

// Capability bits used below.
const (
	capChown   = 1 << 0
	capKill    = 1 << 5
	capSetpcap = 1 << 8
	capNetRaw  = 1 << 13
	capSysNice = 1 << 23
	capMknod   = 1 << 27
)

// threadCaps is one thread's capability vectors as /proc shows them.
type threadCaps struct {
	Inh, Amb, Bnd uint64
}

func readThreadCaps(t *testing.T, path string) threadCaps {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c threadCaps
	for _, line := range strings.Split(string(data), "\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v, _ := strconv.ParseUint(strings.TrimSpace(val), 16, 64)
		switch name {
		case "CapInh":
			c.Inh = v
		case "CapAmb":
			c.Amb = v
		case "CapBnd":
			c.Bnd = v
		}
	}
	return c
}

// moduleCode names what the module returned, seen through a stack where it
// is the only, required, module.
func moduleCode(err error) string {
	switch {
	case err == nil:
		return "SUCCESS"
	case errors.Is(err, pam.ErrPermDenied):
		return "IGNORE"
	case errors.Is(err, pam.ErrAuth):
		return "AUTH_ERR"
	case errors.Is(err, pam.ErrIncomplete):
		return "INCOMPLETE"
	}
	return err.Error()
}

// outcome is what one transaction did: the module's codes and the vectors
// of the thread that ran it.
type outcome struct {
	Auth, Setcred string
	Caps          threadCaps
	Keep          bool
}

// transact runs authenticate in one PAM transaction and setcred(flags) in
// another, and reads the thread's vectors. Two transactions, because libpam
// judges setcred by the module's cached authenticate result within one.
// All runs on an OS thread of its own that is thrown away after, so that
// no capability change outlives the case.
func (e *env) transact(service, user string, flags pam.Flags) outcome {
	return e.transactFrom(false, service, user, flags)
}

// transactFrom is transact, on a thread that starts from the full state
// (fullStart) when full is true.
func (e *env) transactFrom(full bool, service, user string, flags pam.Flags) outcome {
	e.t.Helper()
	var o outcome
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		if full {
			if err = setFullStart(); err != nil {
				return
			}
		}
		conv := pam.ConversationFunc(func(pam.Style, string) (string, error) {
			return "", errors.New("no conversation here")
		})
		var tx *pam.Transaction
		if tx, err = pam.StartConfDir(service, user, conv, e.confDir()); err != nil {
			return
		}
		o.Auth = moduleCode(tx.Authenticate(0))
		tx.End()
		if tx, err = pam.StartConfDir(service, user, conv, e.confDir()); err != nil {
			return
		}
		o.Setcred = moduleCode(tx.SetCred(flags))
		o.Caps = readThreadCaps(e.t, "/proc/thread-self/status")
		o.Keep = getKeepCaps()
		err = tx.End()
	}()
	<-done
	if err != nil {
		e.t.Fatalf("transaction for %q: %v", user, err)
	}
	return o
}

// fullStart is a starting state with something in every vector, so that
// what a module replaces, clears or leaves alone shows: Inheritable
// cap_chown, cap_kill, cap_net_raw and cap_sys_nice, Ambient cap_kill and
// cap_sys_nice, cap_mknod dropped from Bounding, and keepcaps on (as
// pamhost's "full").
var fullStart = threadCaps{Inh: capChown | capKill | capNetRaw | capSysNice, Amb: capKill | capSysNice, Bnd: baseline.Bnd &^ capMknod}

// setFullStart gives the calling thread fullStart, with raw system calls
// on this thread only.
func setFullStart() error {
	const (
		prCapAmbient, prCapAmbientRaise = 47, 2
		prCapbsetDrop, prSetKeepcaps    = 24, 8
		linuxCapabilityVersion3         = 0x20080522
	)
	hdr := struct{ version, pid uint32 }{linuxCapabilityVersion3, 0}
	var data [2]struct{ effective, permitted, inheritable uint32 }
	if _, _, e := syscall.RawSyscall(syscall.SYS_CAPGET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data)), 0); e != 0 {
		return e
	}
	data[0].inheritable, data[1].inheritable = uint32(fullStart.Inh), uint32(fullStart.Inh>>32)
	if _, _, e := syscall.RawSyscall(syscall.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data)), 0); e != 0 {
		return e
	}
	for _, c := range []uintptr{5, 23} { // cap_kill, cap_sys_nice
		if _, _, e := syscall.RawSyscall6(syscall.SYS_PRCTL, prCapAmbient, prCapAmbientRaise, c, 0, 0, 0); e != 0 {
			return e
		}
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prCapbsetDrop, 27, 0); e != 0 { // cap_mknod
		return e
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetKeepcaps, 1, 0); e != 0 {
		return e
	}
	return nil
}

// getKeepCaps is prctl(PR_GET_KEEPCAPS) for the calling thread.
func getKeepCaps() bool {
	const prGetKeepCaps = 7
	r, _, _ := syscall.RawSyscall(syscall.SYS_PRCTL, prGetKeepCaps, 0, 0)
	return r == 1
}

// baseline is the Bounding set every thread here starts with.
var baseline = func() threadCaps {
	c := threadCaps{}
	data, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapBnd:"); ok {
			c.Bnd, _ = strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	return c
}()

const mainConf = `# test rules
cap_net_raw              alice
^cap_sys_nice,!cap_setpcap @netops
none                     dave
cap_net_rw               erin
`

func TestModuleArgumentsAndReturnCodes(t *testing.T) {
	e := newEnv(t)
	conf := e.conf("capability.conf", mainConf)
	star := e.conf("star.conf", "cap_chown *\n")
	all := e.conf("all.conf", "all *\n")
	bnd := baseline.Bnd
	tests := []struct {
		name  string
		args  []string
		user  string
		flags pam.Flags
		want  outcome
	}{
		{"listed user", nil, "alice", pam.EstablishCred, outcome{"SUCCESS", "SUCCESS", threadCaps{capNetRaw, 0, bnd}, false}},
		{"supplementary group", nil, "bob", pam.EstablishCred, outcome{"SUCCESS", "SUCCESS", threadCaps{capSysNice, capSysNice, bnd &^ capSetpcap}, false}},
		{"primary group", nil, "carol", pam.EstablishCred, outcome{"SUCCESS", "SUCCESS", threadCaps{capSysNice, capSysNice, bnd &^ capSetpcap}, false}},
		{"none", nil, "dave", pam.EstablishCred, outcome{"SUCCESS", "SUCCESS", threadCaps{0, 0, bnd}, false}},
		{"unknown capability grants nothing", nil, "erin", pam.EstablishCred, outcome{"SUCCESS", "IGNORE", threadCaps{0, 0, bnd}, false}},
		{"unlisted user", nil, "root", pam.EstablishCred, outcome{"IGNORE", "IGNORE", threadCaps{0, 0, bnd}, false}},
		{"unknown user", nil, "no-such-user", pam.EstablishCred, outcome{"IGNORE", "IGNORE", threadCaps{0, 0, bnd}, false}},
		{"no user", nil, "", pam.EstablishCred, outcome{"AUTH_ERR", "AUTH_ERR", threadCaps{0, 0, bnd}, false}},
		{"reinitialize", nil, "alice", pam.ReinitializeCred, outcome{"SUCCESS", "SUCCESS", threadCaps{capNetRaw, 0, bnd}, false}},
		{"refresh is not handled", nil, "alice", pam.RefreshCred, outcome{"SUCCESS", "IGNORE", threadCaps{0, 0, bnd}, false}},
		{"delete is not handled", nil, "alice", pam.DeleteCred, outcome{"SUCCESS", "IGNORE", threadCaps{0, 0, bnd}, false}},
		{"wildcard", []string{"config=" + star}, "root", pam.EstablishCred, outcome{"SUCCESS", "SUCCESS", threadCaps{capChown, 0, bnd}, false}},
		{"all leaves things alone", []string{"config=" + all}, "alice", pam.EstablishCred, outcome{"SUCCESS", "SUCCESS", threadCaps{0, 0, bnd}, false}},
		{"autoauth", []string{"autoauth"}, "root", pam.EstablishCred, outcome{"SUCCESS", "IGNORE", threadCaps{0, 0, bnd}, false}},
		{"autoauth without user", []string{"autoauth"}, "", pam.EstablishCred, outcome{"SUCCESS", "AUTH_ERR", threadCaps{0, 0, bnd}, false}},
		{"keepcaps", []string{"keepcaps"}, "alice", pam.EstablishCred, outcome{"SUCCESS", "SUCCESS", threadCaps{capNetRaw, 0, bnd}, true}},
		{"keepcaps not for none", []string{"keepcaps"}, "dave", pam.EstablishCred, outcome{"SUCCESS", "SUCCESS", threadCaps{0, 0, bnd}, false}},
		{"default for unlisted", []string{"default=cap_chown"}, "root", pam.EstablishCred, outcome{"IGNORE", "SUCCESS", threadCaps{capChown, 0, bnd}, false}},
		{"default ignored under a wildcard", []string{"config=" + star, "default=cap_net_raw"}, "root", pam.EstablishCred, outcome{"SUCCESS", "SUCCESS", threadCaps{capChown, 0, bnd}, false}},
		{"defer stores and ignores", []string{"defer", "keepcaps"}, "alice", pam.EstablishCred, outcome{"SUCCESS", "IGNORE", threadCaps{0, 0, bnd}, true}},
		{"missing config", []string{"config=/nonexistent"}, "alice", pam.EstablishCred, outcome{"IGNORE", "IGNORE", threadCaps{0, 0, bnd}, false}},
		{"debug changes nothing", []string{"debug"}, "alice", pam.EstablishCred, outcome{"SUCCESS", "SUCCESS", threadCaps{capNetRaw, 0, bnd}, false}},
		{"unknown argument is ignored", []string{"frobnicate"}, "alice", pam.EstablishCred, outcome{"SUCCESS", "SUCCESS", threadCaps{capNetRaw, 0, bnd}, false}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := fmt.Sprintf("case%d", i)
			args := tt.args
			if !strings.Contains(strings.Join(args, " "), "config=") {
				args = append([]string{"config=" + conf}, args...)
			}
			e.service(svc, gocapModule(), args...)
			if got := e.transact(svc, tt.user, tt.flags); got != tt.want {
				t.Fatalf("from empty sets: got  %+v\nwant %+v", got, tt.want)
			}
			if got, want := e.transactFrom(true, svc, tt.user, tt.flags), fromFull(tt.want, tt.args); got != want {
				t.Fatalf("from the full state: got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// fromFull is what a case that gives want from empty sets gives from
// fullStart. What setcred applies replaces Inheritable and Ambient ("none"
// empties both) and drops from Bounding; with nothing applied (PAM_IGNORE,
// or "all"), the full state stays. keepcaps is on from the start.
func fromFull(want outcome, args []string) outcome {
	full := want
	full.Keep = true
	applied := want.Setcred == "SUCCESS" && !strings.Contains(strings.Join(args, " "), "all.conf")
	if !applied {
		full.Caps = fullStart
		return full
	}
	full.Caps.Bnd = fullStart.Bnd &^ (baseline.Bnd &^ want.Caps.Bnd)
	return full
}

func TestModuleConfigFileChecks(t *testing.T) {
	e := newEnv(t)
	bnd := baseline.Bnd
	ww := e.conf("ww.conf", "cap_net_raw alice\n")
	if err := os.Chmod(ww, 0o646); err != nil {
		t.Fatal(err)
	}
	os.Symlink(ww, e.dir+"/link-to-ww.conf")
	good := e.conf("good.conf", "cap_net_raw alice\n")
	os.Symlink(good, e.dir+"/link-to-good.conf")
	long := e.conf("long.conf", "cap_chown "+strings.Repeat("u", 70000)+" alice\ncap_net_raw *\n")
	crlf := e.conf("crlf.conf", "cap_chown bob\r\ncap_net_raw alice\r\n")
	os.Mkdir(e.dir+"/dir.conf", 0o755)
	tests := []struct {
		name, conf string
		want       outcome
	}{
		{"world-writable file fails closed", ww, outcome{"IGNORE", "IGNORE", threadCaps{0, 0, bnd}, false}},
		{"symlink to world-writable file fails closed", e.dir + "/link-to-ww.conf", outcome{"IGNORE", "IGNORE", threadCaps{0, 0, bnd}, false}},
		{"symlink to a good file is read", e.dir + "/link-to-good.conf", outcome{"SUCCESS", "SUCCESS", threadCaps{capNetRaw, 0, bnd}, false}},
		{"/dev/null is an empty file", "/dev/null", outcome{"IGNORE", "SUCCESS", threadCaps{capChown, 0, bnd}, false}},
		{"a directory fails closed", e.dir + "/dir.conf", outcome{"IGNORE", "IGNORE", threadCaps{0, 0, bnd}, false}},
		{"a missing file fails closed when there is a default=", e.dir + "/none.conf", outcome{"IGNORE", "IGNORE", threadCaps{0, 0, bnd}, false}},
		{"long line fails closed", long, outcome{"IGNORE", "IGNORE", threadCaps{0, 0, bnd}, false}},
		{"CRLF line ends", crlf, outcome{"SUCCESS", "SUCCESS", threadCaps{capNetRaw, 0, bnd}, false}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := fmt.Sprintf("file%d", i)
			// default= shows whether the file was taken as empty (the
			// default applies) or failed closed (nothing applies).
			e.service(svc, gocapModule(), "config="+tt.conf, "default=cap_chown")
			if got := e.transact(svc, "alice", pam.EstablishCred); got != tt.want {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// Drop-in files through the real module: the main file, then
// FILE.d/*.conf in byte order of name, first match winning across them;
// hidden files and dpkg's leftovers skipped; nodropins reads the main file
// alone; a refused drop-in fails the whole decision, for users of the main
// file too.
func TestDropInsThroughTheModule(t *testing.T) {
	e := newEnv(t)
	conf := e.conf("cap.conf", "cap_chown alice\n")
	d := conf + ".d"
	os.Mkdir(d, 0o755)
	for name, text := range map[string]string{
		"10-net.conf":        "cap_net_raw bob @netops\n",
		"20-nice.conf":       "cap_sys_nice bob carol dave\n",
		".hidden.conf":       "cap_kill dave\n",
		"15-x.conf.dpkg-new": "cap_kill dave\n",
		"15-x.conf~":         "cap_kill dave\n",
		"99-default.conf":    "none *\n",
	} {
		os.WriteFile(filepath.Join(d, name), []byte(text), 0o644)
	}
	refusedMain := e.conf("ww.conf", "cap_chown alice\n")
	os.Mkdir(refusedMain+".d", 0o755)
	os.WriteFile(refusedMain+".d/50-ww.conf", []byte("cap_net_raw bob\n"), 0o666)
	os.Chmod(refusedMain+".d/50-ww.conf", 0o666)
	bnd := baseline.Bnd
	tests := []struct {
		name string
		args []string
		user string
		want outcome
	}{
		{"the main file first", []string{"config=" + conf}, "alice", outcome{"SUCCESS", "SUCCESS", threadCaps{capChown, 0, bnd}, false}},
		{"then the drop-ins in byte order", []string{"config=" + conf}, "bob", outcome{"SUCCESS", "SUCCESS", threadCaps{capNetRaw, 0, bnd}, false}},
		{"a group rule in a drop-in", []string{"config=" + conf}, "carol", outcome{"SUCCESS", "SUCCESS", threadCaps{capNetRaw, 0, bnd}, false}},
		{"hidden and dpkg files skipped", []string{"config=" + conf}, "dave", outcome{"SUCCESS", "SUCCESS", threadCaps{capSysNice, 0, bnd}, false}},
		{"the last drop-in catches the rest", []string{"config=" + conf, "default=cap_chown"}, "root", outcome{"SUCCESS", "SUCCESS", threadCaps{0, 0, bnd}, false}},
		{"nodropins", []string{"config=" + conf, "nodropins"}, "bob", outcome{"IGNORE", "IGNORE", threadCaps{0, 0, bnd}, false}},
		{"a refused drop-in fails closed", []string{"config=" + refusedMain}, "alice", outcome{"IGNORE", "IGNORE", threadCaps{0, 0, bnd}, false}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := fmt.Sprintf("dropin%d", i)
			e.service(svc, gocapModule(), tt.args...)
			if got := e.transact(svc, tt.user, pam.EstablishCred); got != tt.want {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
	for _, want := range []string{
		`pam_gocap(dropin1:setcred): grant user="bob" iab=cap_net_raw from="` + d + `/10-net.conf:1"`,
		"pam_gocap(dropin6:setcred): " + refusedMain + ".d/50-ww.conf: world-writable (mode 0666): " + dropInRule + "; nothing granted, not even default=",
	} {
		if len(logsContaining(t, want)) == 0 {
			t.Errorf("no log line %q", want)
		}
	}
}
