package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/msteinert/pam/v2"

	"pam_gocap/capconf"
)

// gocap explain and the module must decide the same for every user of
// every testdata config: explain's vectors are compared with the ones the
// module leaves on a real thread.
func TestExplainAgreesWithModule(t *testing.T) {
	e := newEnv(t)
	bin := os.Getenv("PAM_GOCAP_GOCAP")
	if bin == "" {
		t.Fatal("PAM_GOCAP_GOCAP is not set; run `make test`")
	}
	files, _ := filepath.Glob("../capconf/testdata/*.conf")
	files = append(files, e.conf("main.conf", mainConf))
	users := []string{"alice", "bob", "carol", "dave", "erin", "root"}
	for i, file := range files {
		abs, _ := filepath.Abs(file)
		svc := fmt.Sprintf("explain%d", i)
		e.service(svc, gocapModule(), "config="+abs)
		for _, u := range users {
			out, err := exec.Command(bin, "explain", u, "--config", abs, "--format", "json").Output()
			if err != nil {
				t.Fatalf("gocap explain %s --config %s: %v", u, abs, err)
			}
			var ex struct {
				Authenticate, Setcred string
				Inheritable, Ambient  []string
				BoundingDrop          []string `json:"bounding_drop"`
			}
			if err := json.Unmarshal(out, &ex); err != nil {
				t.Fatal(err)
			}
			got := e.transact(svc, u, pam.EstablishCred)
			want := outcome{
				Auth:    strings.TrimPrefix(ex.Authenticate, "PAM_"),
				Setcred: strings.TrimPrefix(ex.Setcred, "PAM_"),
				Caps: threadCaps{
					Inh: vector(t, ex.Inheritable),
					Amb: vector(t, ex.Ambient),
					Bnd: baseline.Bnd &^ vector(t, ex.BoundingDrop),
				},
			}
			if got != want {
				t.Errorf("%s, user %s: module %+v, explain %+v", filepath.Base(file), u, got, want)
			}
		}
	}
}

// vector turns capability names back into a bit mask.
func vector(t *testing.T, names []string) uint64 {
	if len(names) == 0 {
		return 0
	}
	v, err := capconf.ParseIAB(strings.Join(names, ","))
	if err != nil {
		t.Fatal(err)
	}
	return v.Inh
}
