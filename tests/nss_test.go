package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The module in the host, its helper in a forked child (as sshd runs it)
// and gocap explain look users up with the same code (internal/nss), so
// they classify every NSS answer the same way: an NSS error fails closed,
// not even default=, ENOENT included (os/user, which the helper and
// explain used, took ENOENT for an unknown user and gave default=); a
// buffer too small is grown; only "no such user" lets default= apply.
func TestOneNSSPath(t *testing.T) {
	e := newEnv(t)
	bin := os.Getenv("PAM_GOCAP_GOCAP")
	if bin == "" {
		t.Fatal("PAM_GOCAP_GOCAP is not set; run `make test`")
	}
	conf := e.conf("c.conf", "cap_net_raw nss-big\n")
	// autoauth: so that the forked child's setcred, after authenticate in
	// the same transaction, is judged alone.
	e.service("onenss", gocapModule(), "config="+conf, "default=cap_kill", "autoauth")
	tests := []struct {
		user, setcred string
		inh           uint64
		log           string
	}{
		{"nss-eio", "IGNORE", 0, `looking up user "nss-eio": user: lookup username nss-eio: input/output error; nothing granted`},
		{"nss-enoent", "IGNORE", 0, `looking up user "nss-enoent": user: lookup username nss-enoent: no such file or directory; nothing granted`},
		{"nss-erange", "IGNORE", 0, `looking up user "nss-erange": user: lookup username nss-erange: numerical result out of range; nothing granted`},
		{"nss-big", "SUCCESS", capNetRaw, ""},
		{"nss-ghost", "SUCCESS", capKill, ""},
	}
	// libpam turns a lone PAM_IGNORE into PAM_PERM_DENIED.
	pamCode := map[string]string{"IGNORE": "PERM_DENIED", "SUCCESS": "SUCCESS"}
	for _, tt := range tests {
		t.Run(tt.user, func(t *testing.T) {
			host, _ := e.pamhostRun(hostRun{limit: time.Minute}, "onenss", tt.user, "setcred:establish", "caps")
			if got := findLine(t, host, "setcred "); got != "setcred "+pamCode[tt.setcred] {
				t.Errorf("module in the host: %q, want setcred %s", got, pamCode[tt.setcred])
			}
			if got, _ := parseCaps(t, findLine(t, host, "caps ")); got.Inh != tt.inh {
				t.Errorf("module in the host: Inheritable %#x, want %#x", got.Inh, tt.inh)
			}
			child, _ := e.pamhostRun(hostRun{limit: time.Minute}, "onenss", tt.user, "fork:1")
			checkChildren(t, child[1:], 1, pamCode[tt.setcred], threadCaps{tt.inh, 0, baseline.Bnd}, false)
			out, err := exec.Command(bin, "explain", tt.user, "--config", conf, "--args", "default=cap_kill autoauth", "--format", "json").Output()
			if err != nil {
				t.Fatalf("gocap explain %s: %v", tt.user, err)
			}
			var ex struct {
				Setcred     string
				Inheritable []string
				Notes       []string
			}
			if err := json.Unmarshal(out, &ex); err != nil {
				t.Fatal(err)
			}
			if ex.Setcred != "PAM_"+tt.setcred || vector(t, ex.Inheritable) != tt.inh {
				t.Errorf("gocap explain: setcred %s, Inheritable %q; want PAM_%s, %#x", ex.Setcred, ex.Inheritable, tt.setcred, tt.inh)
			}
			if tt.log == "" {
				return
			}
			if !strings.Contains(strings.Join(ex.Notes, "\n"), tt.log) {
				t.Errorf("gocap explain's notes %q, want %q", ex.Notes, tt.log)
			}
			if len(logsContaining(t, "pam_gocap(onenss:setcred): "+tt.log)) < 2 {
				t.Errorf("no log line %q from both the module in the host and the helper", tt.log)
			}
		})
	}
}
