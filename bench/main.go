// Command bench measures pam_gocap.so next to Debian's pam_cap.so and a
// stack with no capability module, in one run, and prints Markdown table
// rows. make bench runs it (as root: it writes and removes three files in
// /etc/pam.d for pamtester, which has no private service directory).
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

var (
	gocap   = flag.String("gocap", "pam_gocap.so", "pam_gocap.so to measure")
	pamCap  = flag.String("pamcap", "/lib/x86_64-linux-gnu/security/pam_cap.so", "pam_cap.so to compare with")
	pamhost = flag.String("pamhost", "build/test/pamhost", "the C test host")
	runs    = flag.Int("runs", 80, "pamtester runs per stack, half timed, half measuring memory")
	user    = flag.String("user", "root", "user the rules name")
	hwm     = flag.String("hwm", "build/hwm.so", "the preload library that reports peak memory (bench/c/hwm.c)")
)

type stack struct{ name, module string }

func main() {
	flag.Parse()
	log.SetFlags(0)
	gocapAbs, _ := filepath.Abs(*gocap)
	hwmAbs, _ := filepath.Abs(*hwm)
	stacks := []stack{{"pam_gocap.so", gocapAbs}, {"pam_cap.so", *pamCap}, {"no capability module", ""}}
	dir, err := os.MkdirTemp("", "pam_gocap-bench")
	check(err)
	defer os.RemoveAll(dir)
	small := write(dir, "small.conf", fmt.Sprintf("cap_net_raw %s\nnone *\n", *user))
	var big strings.Builder
	for i := 0; i < 49999; i++ {
		fmt.Fprintf(&big, "cap_chown benchuser%d\n", i)
	}
	fmt.Fprintf(&big, "cap_net_raw %s\n", *user)
	large := write(dir, "large.conf", big.String())

	// Whole process: pamtester, interleaved, median wall time and peak RSS.
	wall := map[string][]float64{}
	rss := map[string][]float64{}
	for i, s := range stacks {
		svc := fmt.Sprintf("pam_gocap-bench-%d", i)
		path := "/etc/pam.d/" + svc
		check(os.WriteFile(path, []byte(serviceLine(s, small)), 0o644))
		defer os.Remove(path)
	}
	for r := 0; r < *runs; r++ {
		for k := range stacks {
			i := (k + r) % len(stacks) // rotate who goes first
			s := stacks[i]
			cmd := exec.Command("pamtester", fmt.Sprintf("pam_gocap-bench-%d", i), *user, "authenticate", "setcred")
			if r%2 == 1 { // every other run measures memory; the preload is not timed
				cmd.Env = append(os.Environ(), "LD_PRELOAD="+hwmAbs)
			}
			t0 := time.Now()
			out, err := cmd.CombinedOutput()
			if err != nil {
				log.Fatalf("pamtester with %s: %v\n%s", s.name, err, out)
			}
			if r%2 == 0 {
				wall[s.name] = append(wall[s.name], float64(time.Since(t0).Microseconds())/1000)
				continue
			}
			var kb float64
			if _, err := fmt.Sscanf(string(out[strings.Index(string(out), "VmHWM:"):]), "VmHWM: %f kB", &kb); err != nil {
				log.Fatalf("no VmHWM from pamtester: %q", out)
			}
			rss[s.name] = append(rss[s.name], kb)
		}
	}
	// In one process: microseconds per start/authenticate/setcred/end.
	inproc := map[string][]float64{}
	inprocLarge := map[string][]float64{}
	for i, s := range stacks {
		os.MkdirAll(filepath.Join(dir, "pam.d"), 0o755)
		write(filepath.Join(dir, "pam.d"), fmt.Sprintf("small%d", i), serviceLine(s, small))
		write(filepath.Join(dir, "pam.d"), fmt.Sprintf("large%d", i), serviceLine(s, large))
	}
	for r := 0; r < 5; r++ {
		for i, s := range stacks {
			inproc[s.name] = append(inproc[s.name], hostBench(dir, fmt.Sprintf("small%d", i), 2000))
			if s.module != "" {
				inprocLarge[s.name] = append(inprocLarge[s.name], hostBench(dir, fmt.Sprintf("large%d", i), 20))
			}
		}
	}

	g, c := stacks[0].name, stacks[1].name
	row := func(what string, m map[string][]float64, unit string, div float64, goal string) {
		gv, cv := median(m[g])/div, median(m[c])/div
		none := "n/a"
		if v, ok := m[stacks[2].name]; ok {
			none = fmt.Sprintf("%.2f %s", median(v)/div, unit)
		}
		fmt.Printf("| %s | %.2f %s | %.2f %s | %s | %.2fx | %s |\n", what, gv, unit, cv, unit, none, gv/cv, goal)
	}
	fmt.Println("| measure | pam_gocap.so | pam_cap.so | no module | pam_gocap / pam_cap | goal |")
	fmt.Println("| --- | --- | --- | --- | --- | --- |")
	row(fmt.Sprintf("pamtester authenticate setcred, median wall of %d runs", *runs/2), wall, "ms", 1, "1.25x")
	row("in one process, per pam_start/authenticate/setcred/pam_end (median of 5 x 2000)", inproc, "µs", 1, "1.0x")
	row("same, 50,000-line config matching on its last line (median of 5 x 20)", inprocLarge, "µs", 1, "1.0x")
	row("peak resident memory of pamtester (median)", rss, "MiB", 1024, "+1.5 MiB")
	fmt.Printf("\nPeak memory difference: %+.2f MiB.\n", (median(rss[g])-median(rss[c]))/1024)
}

func serviceLine(s stack, conf string) string {
	if s.module == "" {
		return "auth optional pam_permit.so\n"
	}
	return fmt.Sprintf("auth optional %s config=%s\n", s.module, conf)
}

func hostBench(dir, service string, n int) float64 {
	out, err := exec.Command(*pamhost, "-d", filepath.Join(dir, "pam.d"), "-s", service, "-u", *user, fmt.Sprintf("bench:%d", n)).Output()
	if err != nil {
		log.Fatalf("pamhost %s: %v", service, err)
	}
	var count int
	var us float64
	if _, err := fmt.Sscanf(string(out), "bench %d us_per_transaction=%f", &count, &us); err != nil {
		log.Fatalf("pamhost %s: %q", service, out)
	}
	return us
}

func write(dir, name, text string) string {
	p := filepath.Join(dir, name)
	check(os.WriteFile(p, []byte(text), 0o644))
	return p
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
