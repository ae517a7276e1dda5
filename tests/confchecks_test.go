package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"pam_gocap/internal/opens"
)

// Who may write the rules, through the real module in the C host: the
// drop-in directory and its files must be owned by root and writable by
// no one else; whatever is refused grants nothing to anyone, not even
// default= to a user NSS does not know; a drop-in that is not a regular
// file is never opened; any number of drop-ins fits in a few descriptors.

// dropInRule ends every refusal of a drop-in for its owner or mode.
const dropInRule = "a drop-in directory and its files must be owned by root and writable by no one else: refused"

// setcredCaps runs setcred in the C host, with ops before it, and returns
// setcred's code and the thread's vectors after.
func (e *env) setcredCaps(service, user string, ops ...string) (string, threadCaps) {
	e.t.Helper()
	lines := e.pamhost(service, user, append(ops, "setcred:establish", "caps")...)
	caps, _ := parseCaps(e.t, findLine(e.t, lines, "caps "))
	return strings.TrimPrefix(findLine(e.t, lines, "setcred "), "setcred "), caps
}

// shared lets the test users reach the test's directory.
func (e *env) shared() {
	e.t.Helper()
	for _, d := range []string{filepath.Dir(e.dir), e.dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			e.t.Fatal(err)
		}
	}
}

// asUser runs a shell script as uid, with primary group gid and the
// supplementary groups, as a user would.
func asUser(t *testing.T, uid, gid uint32, groups []uint32, script string, args ...string) {
	t.Helper()
	cmd := exec.Command("/bin/sh", append([]string{"-c", script, "sh"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid, Groups: groups}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("as uid %d: %s: %v\n%s", uid, script, err, out)
	}
}

// gocapCheck runs gocap check on a rules file and returns what it printed.
func gocapCheck(t *testing.T, conf string) string {
	t.Helper()
	bin := os.Getenv("PAM_GOCAP_GOCAP")
	if bin == "" {
		t.Fatal("PAM_GOCAP_GOCAP is not set; run `make test`")
	}
	out, _ := exec.Command(bin, "check", conf).Output()
	return string(out)
}

// The review's reproductions: a member of the group that may write the
// drop-in directory gives himself capabilities, or so does the user who
// owns a drop-in. Each is refused, for every user, logged with the path
// and the reason, and gocap check says the same in the same words.
func TestDropInOwnership(t *testing.T) {
	e := newEnv(t)
	e.shared()
	const dave, admins = 2004, 2101 // dave is a member of admins
	bnd := baseline.Bnd

	// capability.conf.d root:admins 2775, written by dave.
	gwDirConf := e.conf("gwdir.conf", "cap_net_raw alice\n")
	gwDir := gwDirConf + ".d"
	os.Mkdir(gwDir, 0o755)
	os.Chown(gwDir, 0, admins)
	os.Chmod(gwDir, 0o775|os.ModeSetgid)
	asUser(t, dave, dave, []uint32{admins}, `printf '%s\n' '^cap_dac_override,^cap_chown dave' >"$1"`, gwDir+"/10-mallory.conf")

	// A root-owned drop-in root:admins 0664 in a root 0755 directory,
	// which dave edits.
	gwFileConf := e.conf("gwfile.conf", "cap_net_raw alice\n")
	os.Mkdir(gwFileConf+".d", 0o755)
	gwFile := gwFileConf + ".d/10-team.conf"
	os.WriteFile(gwFile, []byte("cap_kill carol\n"), 0o644)
	os.Chown(gwFile, 0, admins)
	os.Chmod(gwFile, 0o664)
	asUser(t, dave, dave, []uint32{admins}, `printf '%s\n' 'cap_chown dave' >>"$1"`, gwFile)

	// A drop-in owned by dave in a root 0755 directory.
	ownedConf := e.conf("owned.conf", "cap_net_raw alice\n")
	os.Mkdir(ownedConf+".d", 0o755)
	owned := ownedConf + ".d/10-dave.conf"
	os.WriteFile(owned, []byte("cap_chown dave\n"), 0o644)
	os.Chown(owned, dave, dave)

	tests := []struct {
		name, conf, refusal string
	}{
		{"a drop-in directory its group can write", gwDirConf, gwDir + ": writable by group 2101 (mode 2775): " + dropInRule},
		{"a drop-in its group can write", gwFileConf, gwFile + ": writable by group 2101 (mode 0664): " + dropInRule},
		{"a drop-in a user owns", ownedConf, owned + ": owned by uid 2004, not root: " + dropInRule},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := fmt.Sprintf("owner%d", i)
			e.service(svc, gocapModule(), "config="+tt.conf, "default=cap_kill")
			for _, user := range []string{"dave", "alice", "ghost"} {
				if code, caps := e.setcredCaps(svc, user); code == "SUCCESS" || caps != (threadCaps{0, 0, bnd}) {
					t.Errorf("%s: setcred %s, %+v; want nothing granted", user, code, caps)
				}
			}
			if len(logsContaining(t, "pam_gocap("+svc+":setcred): "+tt.refusal+"; nothing granted, not even default=")) == 0 {
				t.Errorf("no log line with %q", tt.refusal)
			}
			if out := gocapCheck(t, tt.conf); !strings.Contains(out, ": error: pam_gocap grants nothing while this ") ||
				!strings.Contains(out, tt.refusal+"\n") {
				t.Errorf("gocap check %s:\n%s\nwant the refusal %q", tt.conf, out, tt.refusal)
			}
		})
	}
}

// A drop-in that is a FIFO or a device, or a link to one, is refused
// without being opened: opening a device can do anything its driver
// does. inotify sees every open.
func TestDropInNotOpenedUnlessRegular(t *testing.T) {
	e := newEnv(t)
	fifo := filepath.Join(e.dir, "fifo")
	device := filepath.Join(e.dir, "zero")
	if err := unix.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mknod(device, unix.S_IFCHR|0o644, int(unix.Mkdev(1, 5))); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, target, refusal string // target "": the drop-in is a FIFO itself
	}{
		{"a link to a FIFO", fifo, "a symbolic link, not a regular file"},
		{"a link to a device", device, "a symbolic link, not a regular file"},
		{"a FIFO", "", "a FIFO, not a regular file"},
	}
	for i, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			conf := e.conf(fmt.Sprintf("c%d.conf", i), "cap_net_raw alice\n")
			os.Mkdir(conf+".d", 0o755)
			dropIn := conf + ".d/10-x.conf"
			watched := tt.target
			if tt.target == "" {
				unix.Mkfifo(dropIn, 0o644)
				watched = dropIn
			} else {
				os.Symlink(tt.target, dropIn)
			}
			opened := opens.Watch(t, watched)
			svc := fmt.Sprintf("notopened%d", i)
			e.service(svc, gocapModule(), "config="+conf)
			if code, caps := e.setcredCaps(svc, "alice"); code == "SUCCESS" || caps.Inh != 0 {
				t.Errorf("alice: setcred %s, %+v; want nothing granted", code, caps)
			}
			if opened() {
				t.Errorf("%s was opened", watched)
			}
			want := "pam_gocap(" + svc + ":setcred): " + dropIn + ": " + tt.refusal + ": refused; nothing granted, not even default="
			if len(logsContaining(t, want)) == 0 {
				t.Errorf("no log line %q", want)
			}
		})
	}
}

// The review's reproduction: a world-writable capability.conf and
// default=cap_net_raw gave ghost, a user NSS does not know, cap_net_raw.
// default= applies only when every file was read.
func TestRefusedConfigGrantsUnknownUserNothing(t *testing.T) {
	e := newEnv(t)
	bnd := baseline.Bnd
	ww := e.conf("ww.conf", "cap_chown alice\n")
	os.Chmod(ww, 0o666)
	wwIn := e.conf("wwin.conf", "cap_chown alice\n")
	os.Mkdir(wwIn+".d", 0o755)
	os.WriteFile(wwIn+".d/10-x.conf", []byte("cap_chown bob\n"), 0o644)
	os.Chmod(wwIn+".d/10-x.conf", 0o646)
	long := e.conf("long.conf", "cap_chown "+strings.Repeat("u", 70000)+"\n")
	good := e.conf("good.conf", "cap_chown alice\n")
	tests := []struct {
		name, conf, code string
		inh              uint64
	}{
		{"world-writable main file", ww, "", 0},
		{"world-writable drop-in", wwIn, "", 0},
		{"a line that cannot be read", long, "", 0},
		{"every file read", good, "SUCCESS", capNetRaw},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := fmt.Sprintf("ghost%d", i)
			e.service(svc, gocapModule(), "config="+tt.conf, "default=cap_net_raw")
			code, caps := e.setcredCaps(svc, "ghost")
			if caps != (threadCaps{tt.inh, 0, bnd}) || (tt.code == "SUCCESS") != (code == "SUCCESS") {
				t.Errorf("ghost: setcred %s, %+v; want Inheritable %x", code, caps, tt.inh)
			}
		})
	}
	if len(logsContaining(t, "pam_gocap(ghost0:setcred): "+ww+": world-writable: refused; nothing granted, not even default=")) == 0 {
		t.Errorf("no log line for the refused file")
	}
}

// The review's reproduction: 1,101 drop-ins under a limit of 1,024 open
// files refused everyone, as every file was kept open at once. Files are
// checked all, then read one at a time.
func TestManyDropInsFewDescriptors(t *testing.T) {
	e := newEnv(t)
	conf := e.conf("many.conf", "cap_net_raw alice\n")
	os.Mkdir(conf+".d", 0o755)
	for i := 0; i < 1100; i++ {
		os.WriteFile(fmt.Sprintf("%s.d/%04d.conf", conf, i), []byte(fmt.Sprintf("cap_kill nobody%d\n", i)), 0o644)
	}
	os.WriteFile(conf+".d/1100.conf", []byte("cap_chown bob\n"), 0o644)
	e.service("many", gocapModule(), "config="+conf)
	for user, want := range map[string]uint64{"alice": capNetRaw, "bob": capChown} {
		if code, caps := e.setcredCaps("many", user, "nofile:1024:1024"); code != "SUCCESS" || caps.Inh != want {
			t.Errorf("%s under 1,024 open files: setcred %s, %+v; want Inheritable %x", user, code, caps, want)
		}
	}
}
