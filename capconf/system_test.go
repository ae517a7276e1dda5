package capconf

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"pam_gocap/internal/opens"
)

// The checks themselves, over what a stat says: no files, no root.
func TestRefusals(t *testing.T) {
	const (
		reg = unix.S_IFREG
		dir = unix.S_IFDIR
	)
	rule := ": " + dropInRule
	tests := []struct {
		name         string
		id           FileID
		main, dropIn string // why refuseConfig and refuseDropIn refuse it
		dropInDir    string // why refuseDropInDir does
		mainWarnings []string
	}{
		{"root's 0644 file", FileID{Mode: reg | 0o644}, "", "", "not a directory", nil},
		{"root's 0755 directory", FileID{Mode: dir | 0o755}, "a directory, not a regular file", "a directory, not a regular file", "", nil},
		{"group-writable file", FileID{Mode: reg | 0o664, GID: 50}, "", "writable by group 50 (mode 0664)" + rule, "not a directory", []string{
			"writable by group 50 (mode 0664): pam_gocap and pam_cap.so read it, but every member of that group can change who gets which capabilities"}},
		{"group-writable setgid directory", FileID{Mode: dir | 0o2775, GID: 1001}, "a directory, not a regular file", "a directory, not a regular file",
			"writable by group 1001 (mode 2775)" + rule, nil},
		{"world-writable file", FileID{Mode: reg | 0o666}, "world-writable", "world-writable (mode 0666)" + rule, "not a directory", nil},
		{"world-writable sticky directory", FileID{Mode: dir | 0o1777}, "a directory, not a regular file", "a directory, not a regular file",
			"world-writable (mode 1777)" + rule, nil},
		{"a user's file", FileID{Mode: reg | 0o644, UID: 2005}, "", "owned by uid 2005, not root" + rule, "not a directory", []string{
			"owned by uid 2005, not root: pam_gocap and pam_cap.so read it, but its owner can change who gets which capabilities"}},
		{"a user's directory", FileID{Mode: dir | 0o755, UID: 2005}, "a directory, not a regular file", "a directory, not a regular file",
			"owned by uid 2005, not root" + rule, nil},
		{"a symbolic link", FileID{Mode: unix.S_IFLNK | 0o777}, "a symbolic link, not a regular file", "a symbolic link, not a regular file", "not a directory", nil},
		{"a FIFO", FileID{Mode: unix.S_IFIFO | 0o644}, "a FIFO, not a regular file", "a FIFO, not a regular file", "not a directory", nil},
		{"the null device", FileID{Mode: unix.S_IFCHR | 0o666, Rdev: unix.Mkdev(1, 3)}, "", "a device, not a regular file", "not a directory", nil},
		{"another device", FileID{Mode: unix.S_IFCHR | 0o666, Rdev: unix.Mkdev(1, 5)}, "a device, not a regular file", "a device, not a regular file", "not a directory", nil},
		{"a block device", FileID{Mode: unix.S_IFBLK | 0o660}, "a device, not a regular file", "a device, not a regular file", "not a directory", nil},
		{"a socket", FileID{Mode: unix.S_IFSOCK | 0o755}, "a socket, not a regular file", "a socket, not a regular file", "not a directory", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := refuseConfig(tt.id); got != tt.main {
				t.Errorf("refuseConfig = %q, want %q", got, tt.main)
			}
			if got := refuseDropIn(tt.id, 0); got != tt.dropIn {
				t.Errorf("refuseDropIn = %q, want %q", got, tt.dropIn)
			}
			if got := refuseDropInDir(tt.id, 0); got != tt.dropInDir {
				t.Errorf("refuseDropInDir = %q, want %q", got, tt.dropInDir)
			}
			if got := (OS{}).MainFileWarnings(tt.id); !reflect.DeepEqual(got, tt.mainWarnings) {
				t.Errorf("MainFileWarnings = %q, want %q", got, tt.mainWarnings)
			}
		})
	}
}

// testOS is OS with the test's own uid as the owner drop-ins must have, so
// that these tests run without root too.
var testOS = OS{Owner: uint32(os.Getuid())}

func TestOpenDropIns(t *testing.T) {
	dir := t.TempDir()
	d := filepath.Join(dir, "capability.conf.d")
	os.Mkdir(d, 0o755)
	for _, name := range []string{"2-b.conf", "10-a.conf", ".hidden.conf", "x.conf.dpkg-new", "x.conf.dpkg-old", "y.conf~", "z.txt", "README"} {
		os.WriteFile(filepath.Join(d, name), nil, 0o644)
	}
	got, err := testOS.OpenDropIns(d)
	if err != nil {
		t.Fatal(err)
	}
	defer got.Close()
	want := []string{d + "/10-a.conf", d + "/2-b.conf"} // byte order: "1" < "2"
	if !reflect.DeepEqual(got.Paths(), want) {
		t.Fatalf("Paths = %q; want %q", got.Paths(), want)
	}
	if got, err := testOS.OpenDropIns(filepath.Join(dir, "missing.d")); got != nil || err != nil {
		t.Fatalf("a missing directory: %v, %v; want none, no error", got, err)
	}
	refused := map[string]string{}
	for name, mode := range map[string]os.FileMode{"ww.d": 0o777, "gw.d": 0o775, "setgid-gw.d": 0o775 | os.ModeSetgid} {
		p := filepath.Join(dir, name)
		os.Mkdir(p, 0o755)
		os.Chmod(p, mode)
		refused[p] = map[string]string{"ww.d": "world-writable (mode 0777)", "gw.d": "writable by group",
			"setgid-gw.d": "writable by group " + strconv.Itoa(os.Getegid()) + " (mode 2775)"}[name]
	}
	os.Symlink(filepath.Join(dir, "ww.d"), filepath.Join(dir, "link.d"))
	refused[filepath.Join(dir, "link.d")] = "world-writable"
	os.WriteFile(filepath.Join(dir, "file.d"), nil, 0o644)
	refused[filepath.Join(dir, "file.d")] = "not a directory"
	if os.Getuid() == 0 {
		p := filepath.Join(dir, "users.d")
		os.Mkdir(p, 0o755)
		os.Chown(p, 2005, 0)
		refused[p] = "owned by uid 2005, not root"
	}
	for p, why := range refused {
		if _, err := testOS.OpenDropIns(p); !errors.Is(err, ErrRefused) || !strings.HasPrefix(err.Error(), p+": "+why) {
			t.Errorf("OpenDropIns(%s): %v, want it refused: %s", p, err, why)
		}
	}
}

// A drop-in is checked without being opened, and read only if what is
// opened is the file that was checked.
func TestDropInChecks(t *testing.T) {
	d := filepath.Join(t.TempDir(), "c.conf.d")
	os.Mkdir(d, 0o755)
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(d, name)
		os.WriteFile(p, []byte(text), 0o600)
		os.Chmod(p, mode)
		return p
	}
	write("10-good.conf", "cap_chown alice\n", 0o644)
	write("20-gw.conf", "cap_chown alice\n", 0o664)
	write("30-ww.conf", "cap_chown alice\n", 0o646)
	target := write("target", "cap_chown alice\n", 0o644)
	os.Symlink(target, filepath.Join(d, "40-link.conf"))
	fifo := filepath.Join(d, "fifo")
	unix.Mkfifo(fifo, 0o644)
	os.Symlink(fifo, filepath.Join(d, "50-link-to-fifo.conf"))
	unix.Mkfifo(filepath.Join(d, "60-fifo.conf"), 0o644)
	if os.Getuid() == 0 {
		os.Chown(write("70-users.conf", "cap_chown alice\n", 0o644), 2005, 2005)
	}
	opened := opens.Watch(t, fifo)
	fifoOpened := opens.Watch(t, filepath.Join(d, "60-fifo.conf"))

	dir, err := testOS.OpenDropIns(d)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	want := map[string]string{
		"10-good.conf":         "",
		"20-gw.conf":           "writable by group",
		"30-ww.conf":           "world-writable (mode 0646)",
		"40-link.conf":         "a symbolic link, not a regular file",
		"50-link-to-fifo.conf": "a symbolic link, not a regular file",
		"60-fifo.conf":         "a FIFO, not a regular file",
		"70-users.conf":        "owned by uid 2005, not root",
	}
	for i, p := range dir.Paths() {
		name := filepath.Base(p)
		id, err := dir.Check(i)
		why, ok := want[name]
		switch {
		case !ok:
			t.Errorf("%s listed", p)
		case why == "" && err != nil:
			t.Errorf("Check(%s): %v, want it to pass", name, err)
		case why != "" && (!errors.Is(err, ErrRefused) || !strings.HasPrefix(err.Error(), p+": "+why)):
			t.Errorf("Check(%s): %v, want it refused: %s", name, err, why)
		case why == "":
			f, err := dir.Open(i, id)
			if err != nil {
				t.Fatalf("Open(%s): %v", name, err)
			}
			data, _ := io.ReadAll(f)
			f.Close()
			if string(data) != "cap_chown alice\n" {
				t.Errorf("Open(%s) read %q", name, data)
			}
		}
	}
	if opened() || fifoOpened() {
		t.Errorf("a FIFO was opened (through a link %v, itself %v): it must be refused unopened", opened(), fifoOpened())
	}
}

// What is read must be what was checked: a file replaced, or made
// writable, after its check is refused.
func TestDropInChangedAfterCheck(t *testing.T) {
	d := filepath.Join(t.TempDir(), "c.conf.d")
	os.Mkdir(d, 0o755)
	for _, name := range []string{"10-replaced.conf", "20-chmod.conf"} {
		os.WriteFile(filepath.Join(d, name), []byte("cap_chown alice\n"), 0o644)
	}
	dir, err := testOS.OpenDropIns(d)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	var ids []FileID
	for i := range dir.Paths() {
		id, err := dir.Check(i)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	os.WriteFile(filepath.Join(d, "new"), []byte("cap_sys_admin alice\n"), 0o644)
	os.Rename(filepath.Join(d, "new"), filepath.Join(d, "10-replaced.conf"))
	os.Chmod(filepath.Join(d, "20-chmod.conf"), 0o664)
	for i, why := range []string{"not the file that was checked", "writable by group"} {
		if f, err := dir.Open(i, ids[i]); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), why) {
			if f != nil {
				f.Close()
			}
			t.Errorf("Open(%s): %v, want it refused: %s", dir.Paths()[i], err, why)
		}
	}
	// A symbolic link put in the checked file's place is not followed.
	os.Remove(filepath.Join(d, "10-replaced.conf"))
	os.Symlink("20-chmod.conf", filepath.Join(d, "10-replaced.conf"))
	if _, err := dir.Open(0, ids[0]); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "a symbolic link") {
		t.Errorf("Open of a link in a checked file's place: %v, want it refused", err)
	}
}

// The main file follows a symbolic link, as pam_cap.so's fopen does, but
// never opens what is not a regular file or the null device.
func TestMainFileChecks(t *testing.T) {
	dir := t.TempDir()
	path := func(name string) string { return filepath.Join(dir, name) }
	os.WriteFile(path("good.conf"), []byte("cap_chown alice\n"), 0o644)
	os.WriteFile(path("gw.conf"), []byte("cap_chown alice\n"), 0o644)
	os.Chmod(path("gw.conf"), 0o664)
	os.WriteFile(path("ww.conf"), nil, 0o644)
	os.Chmod(path("ww.conf"), 0o666)
	os.Symlink(path("good.conf"), path("link.conf"))
	unix.Mkfifo(path("fifo"), 0o644)
	os.Symlink(path("fifo"), path("link-to-fifo.conf"))
	os.Mkdir(path("dir.conf"), 0o755)
	opened := opens.Watch(t, path("fifo"))
	tests := []struct{ path, why, text string }{
		{path("good.conf"), "", "cap_chown alice\n"},
		{path("gw.conf"), "", "cap_chown alice\n"}, // gocap check warns
		{path("link.conf"), "", "cap_chown alice\n"},
		{"/dev/null", "", ""},
		{path("ww.conf"), "world-writable", ""},
		{path("link-to-fifo.conf"), "a FIFO, not a regular file", ""},
		{path("dir.conf"), "a directory, not a regular file", ""},
	}
	for _, tt := range tests {
		id, err := testOS.CheckConfig(tt.path)
		if tt.why != "" {
			if !errors.Is(err, ErrRefused) || err.Error() != tt.path+": "+tt.why+": refused" {
				t.Errorf("CheckConfig(%s): %v, want it refused: %s", tt.path, err, tt.why)
			}
			continue
		}
		if err != nil {
			t.Errorf("CheckConfig(%s): %v", tt.path, err)
			continue
		}
		f, err := testOS.OpenConfig(tt.path, id)
		if err != nil {
			t.Errorf("OpenConfig(%s): %v", tt.path, err)
			continue
		}
		data, _ := io.ReadAll(f)
		f.Close()
		if string(data) != tt.text {
			t.Errorf("%s: read %q, want %q", tt.path, data, tt.text)
		}
	}
	if opened() {
		t.Errorf("the FIFO behind link-to-fifo.conf was opened")
	}
	id, _ := testOS.CheckConfig(path("link.conf"))
	os.Remove(path("link.conf"))
	os.Symlink(path("gw.conf"), path("link.conf"))
	if _, err := testOS.OpenConfig(path("link.conf"), id); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "not the file that was checked") {
		t.Errorf("OpenConfig after the link changed: %v, want it refused", err)
	}
}

// A directory on the main file's resolved path that someone other than
// root may write lets them put another file in its place: a warning.
func TestDirWarnings(t *testing.T) {
	const dir, readBy = unix.S_IFDIR, "pam_gocap and pam_cap.so read it"
	tests := []struct {
		name  string
		d     dirOnPath
		owner uint32
		want  string
	}{
		{"root's 0755", dirOnPath{"/etc", 0, 0, dir | 0o755}, 0, ""},
		{"the owner's 0755", dirOnPath{"/home/t", 1000, 1000, dir | 0o755}, 1000, ""},
		{"root's, when another owner is expected", dirOnPath{"/etc", 0, 0, dir | 0o755}, 1000, ""},
		{"a user's 0755", dirOnPath{"/home/u", 2005, 2005, dir | 0o755}, 0,
			"directory /home/u on its resolved path is owned by uid 2005, not root: " + readBy + ", but its owner can put another file in its place"},
		{"world-writable sticky", dirOnPath{"/srv/shared", 0, 0, dir | 0o1777}, 0,
			"directory /srv/shared on its resolved path is world-writable (mode 1777): " + readBy + ", but anyone can put another file in its place"},
		{"world-writable", dirOnPath{"/srv/shared", 0, 0, dir | 0o777}, 0,
			"directory /srv/shared on its resolved path is world-writable (mode 0777): " + readBy + ", but anyone can put another file in its place"},
		{"group-writable setgid", dirOnPath{"/srv/cfg", 0, 50, dir | 0o2775}, 0,
			"directory /srv/cfg on its resolved path is writable by group 50 (mode 2775): " + readBy + ", but every member of that group can put another file in its place"},
		{"a user's and world-writable: the owner first", dirOnPath{"/home/u", 2005, 2005, dir | 0o777}, 0,
			"directory /home/u on its resolved path is owned by uid 2005, not root: " + readBy + ", but its owner can put another file in its place"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			if tt.want != "" {
				want = []string{tt.want}
			}
			if got := dirWarnings([]dirOnPath{tt.d}, tt.owner, readBy); !reflect.DeepEqual(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
}

// The directories a lookup goes through: those on the way to a link and
// those on the way to its target, each once, ".." after a link from where
// the link led.
func TestDirsOnPath(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"etc/security", "srv/shared/sub", "srv/other"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	os.WriteFile(filepath.Join(root, "srv/shared/cap.conf"), nil, 0o644)
	os.Symlink(root+"/srv/shared/cap.conf", root+"/etc/security/abs.conf")
	os.Symlink("../../srv/shared/cap.conf", root+"/etc/security/rel.conf")
	os.Symlink("shared/sub", root+"/srv/link")
	os.Symlink("loop", root+"/etc/loop")
	tests := []struct {
		name, path string
		want       []string // under root
	}{
		{"no link", "etc/security/x.conf", []string{"", "/etc", "/etc/security"}},
		{"an absolute link", "etc/security/abs.conf", []string{"", "/etc", "/etc/security", "/srv", "/srv/shared"}},
		{"a relative link", "etc/security/rel.conf", []string{"", "/etc", "/etc/security", "/srv", "/srv/shared"}},
		{"a linked directory, then ..", "srv/link/../../other/x", []string{"", "/srv", "/srv/shared", "/srv/other"}},
		{"a missing directory", "etc/none/x.conf", []string{"", "/etc"}},
		{"a loop", "etc/loop", []string{"", "/etc"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, d := range dirsOnPath(root + "/" + tt.path) {
				if rel, ok := strings.CutPrefix(d.path, root); ok {
					got = append(got, rel)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	// Each directory's status is its own.
	if err := unix.Chmod(root+"/srv/shared", 0o1777); err != nil {
		t.Fatal(err)
	}
	var mode uint32
	for _, d := range dirsOnPath(root + "/etc/security/abs.conf") {
		if d.path == root+"/srv/shared" {
			mode = d.mode
		}
	}
	if mode != unix.S_IFDIR|0o1777 {
		t.Errorf("/srv/shared's mode: %o, want %o", mode, unix.S_IFDIR|0o1777)
	}
}
