// Command bench measures pam_gocap.so against Debian's pam_cap.so, a
// do-nothing Go module built from this tree (the floor: the Go runtime's own
// cost; bench/floor) and no capability module (pam_permit.so alone), all in
// one run with the stacks interleaved, and prints the Markdown table of
// BENCHMARKS.md. make bench runs it as root: pamtester has no private
// service directory, so it writes and removes four files in /etc/pam.d.
package main

import (
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

var (
	gocap   = flag.String("gocap", "pam_gocap.so", "pam_gocap.so to measure")
	floor   = flag.String("floor", "build/bench/pam_floor.so", "the do-nothing Go module")
	pamCap  = flag.String("pamcap", "/lib/x86_64-linux-gnu/security/pam_cap.so", "pam_cap.so to compare with")
	pamhost = flag.String("pamhost", "build/test/pamhost", "the C test host")
	runs    = flag.Int("runs", 41, "pamtester runs per stack and measure")
	user    = flag.String("user", "root", "user the rules name")
	probe   = flag.String("probe", "build/probe.so", "the preload library that reports peak memory and the PAM calls' times (bench/c/probe.c)")
	ssh     = flag.String("ssh", "", "file with the ssh figures of docker/scenarios.sh sshbench")
)

type stack struct{ key, name, module string }

// The stacks, in the table's column order.
var stacks = []stack{
	{"none", "no module (pam_permit.so)", ""},
	{"pamcap", "pam_cap.so", ""},
	{"floor", "Go floor", ""},
	{"gocap", "pam_gocap.so", ""},
}

type samples map[string][]float64 // stack key -> values

func main() {
	flag.Parse()
	log.SetFlags(0)
	abs := func(p string) string { a, _ := filepath.Abs(p); return a }
	stacks[1].module, stacks[2].module, stacks[3].module = *pamCap, abs(*floor), abs(*gocap)
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
	pamd := filepath.Join(dir, "pam.d")
	check(os.MkdirAll(pamd, 0o755))
	for _, s := range stacks {
		svc := "pam_gocap-bench-" + s.key
		check(os.WriteFile("/etc/pam.d/"+svc, []byte(serviceText(s, small)), 0o644))
		defer os.Remove("/etc/pam.d/" + svc)
		write(pamd, "small-"+s.key, serviceText(s, small))
		write(pamd, "large-"+s.key, serviceText(s, large))
	}

	wall, peak := samples{}, samples{}
	phases := make([]samples, len(phaseNames))
	for i := range phases {
		phases[i] = samples{}
	}
	dirtyLoad, dirtyTx, threads := samples{}, samples{}, samples{}
	inproc, inprocLarge := samples{}, samples{}
	for r := 0; r < *runs; r++ {
		for k := range stacks {
			s := stacks[(k+r)%len(stacks)] // rotate who goes first
			wall[s.key] = append(wall[s.key], pamtester(s))
			kb, us := probed(s)
			peak[s.key] = append(peak[s.key], kb)
			for i := range us {
				phases[i][s.key] = append(phases[i][s.key], us[i])
			}
			if r%2 == 0 {
				l, t, th := memory(pamd, s)
				dirtyLoad[s.key] = append(dirtyLoad[s.key], l)
				dirtyTx[s.key] = append(dirtyTx[s.key], t)
				threads[s.key] = append(threads[s.key], th)
			}
			if r%8 == 0 {
				inproc[s.key] = append(inproc[s.key], hostBench(pamd, "small-"+s.key, 2000))
				if s.key == "pamcap" || s.key == "gocap" {
					inprocLarge[s.key] = append(inprocLarge[s.key], hostBench(pamd, "large-"+s.key, 20))
				}
			}
		}
	}

	fmt.Println("| measure | no module | pam_cap.so | Go floor | pam_gocap.so | pam_gocap vs | goal | met |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- |")
	ratio := func(what string, m samples, unit, format, base string, goal float64) {
		cells := cellsOf(m, unit, format)
		r := median(m["gocap"]) / median(m[base])
		fmt.Printf("| %s | %s | %.2fx %s | %.2fx | %s |\n", what, cells, r, stackName(base), goal, met(r <= goal))
	}
	diff := func(what string, m samples, goalKB float64) {
		cells := cellsOf(m, "KiB", "%.0f")
		d := median(m["gocap"]) - median(m["floor"])
		fmt.Printf("| %s | %s | %+.0f KiB Go floor | +%.0f KiB | %s |\n", what, cells, d, goalKB, met(d <= goalKB))
	}
	info := func(what string, m samples, unit, format string) {
		fmt.Printf("| %s | %s | | | |\n", what, cellsOf(m, unit, format))
	}
	ratio(fmt.Sprintf("whole process: pamtester authenticate setcred, ms (median of %d)", *runs), wall, "", "%.2f", "floor", 1.05)
	diff(fmt.Sprintf("private dirty memory after load, KiB (median of %d)", len(dirtyLoad["gocap"])), dirtyLoad, 128)
	diff("private dirty memory after a transaction, KiB", dirtyTx, 128)
	ratio(fmt.Sprintf("in one process: pam_start/authenticate/setcred/pam_end, µs (median of %d x 2000)", len(inproc["gocap"])), inproc, "", "%.1f", "pamcap", 1.0)
	ratio(fmt.Sprintf("same, 50,000-line config matching on its last line, µs (median of %d x 20)", len(inprocLarge["gocap"])), inprocLarge, "", "%.0f", "pamcap", 1.0)
	for i, name := range phaseNames {
		info(fmt.Sprintf("whole process: time in %s, µs", name), phases[i], "", "%.0f")
	}
	info("peak resident memory of pamtester, KiB", peak, "", "%.0f")
	info("threads after load", threads, "", "%.0f")
	if *ssh != "" {
		sessions := sshRows(*ssh)
		fmt.Println()
		fmt.Print(sessions)
	}
}

func stackName(key string) string {
	for _, s := range stacks {
		if s.key == key {
			return s.name
		}
	}
	return key
}

func cellsOf(m samples, unit, format string) string {
	var cells []string
	for _, s := range stacks {
		if v, ok := m[s.key]; ok {
			cells = append(cells, fmt.Sprintf(format, median(v)))
		} else {
			cells = append(cells, "n/a")
		}
	}
	return strings.Join(cells, " | ")
}

func met(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

// sshRows reads the lines of docker/scenarios.sh sshbench: "ssh MODULE
// MICROSECONDS..." (every login's time, interleaved) and "sshsession MODULE
// SESSIONS PSS_ANON PSS_FILE THREADS" (per session, one line a round). It
// prints the login time's row of the first table and returns the
// per-session table.
func sshRows(path string) string {
	data, err := os.ReadFile(path)
	check(err)
	wall, anon, file, threads := samples{}, samples{}, samples{}, samples{}
	sessions := 0
	keys := map[string]string{"none": "none", "pam_cap.so": "pamcap", "pam_floor.so": "floor", "pam_gocap.so": "gocap"}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || keys[f[1]] == "" {
			continue
		}
		key := keys[f[1]]
		nums := make([]float64, len(f)-2)
		for i, v := range f[2:] {
			if _, err := fmt.Sscan(v, &nums[i]); err != nil {
				log.Fatalf("%s: bad line %q", path, line)
			}
		}
		switch {
		case f[0] == "ssh":
			for _, us := range nums {
				wall[key] = append(wall[key], us/1000)
			}
		case f[0] == "sshsession" && len(nums) == 4:
			sessions = int(nums[0])
			anon[key] = append(anon[key], nums[1])
			file[key] = append(file[key], nums[2])
			threads[key] = append(threads[key], nums[3])
		}
	}
	for _, s := range stacks {
		if len(wall[s.key]) == 0 || len(anon[s.key]) == 0 {
			log.Fatalf("%s: no ssh figures for %s", path, s.name)
		}
	}
	r := median(wall["gocap"]) / median(wall["pamcap"])
	fmt.Printf("| ssh public-key login in the Docker harness, ms (median of %d, each checked) | %s | %.2fx pam_cap.so | 1.05x | %s |\n",
		len(wall["gocap"]), cellsOf(wall, "", "%.1f"), r, met(r <= 1.05))

	var b strings.Builder
	fmt.Fprintf(&b, "What an ssh session costs while it is open: %d public-key sessions of one user open at once in the\n", sessions)
	fmt.Fprintf(&b, "Docker harness (Debian 12's sshd), Pss_Anon and Pss_File of smaps_rollup and the threads of each\n")
	fmt.Fprintf(&b, "session's `sshd: alice` processes (the [priv] monitor, which loaded the module, and the session's\n")
	fmt.Fprintf(&b, "process it forked) summed and divided by the sessions, the median of %d rounds.\n\n", len(anon["gocap"]))
	b.WriteString("| module | Pss_Anon per session, KiB | Pss_File per session, KiB | threads per session |\n")
	b.WriteString("| --- | --- | --- | --- |\n")
	for _, s := range stacks {
		fmt.Fprintf(&b, "| %s | %.0f | %.0f | %.1f |\n", s.name, median(anon[s.key]), median(file[s.key]), median(threads[s.key]))
	}
	over := func(key, base string) (kib, th float64) {
		return median(anon[key]) - median(anon[base]), median(threads[key]) - median(threads[base])
	}
	d, _ := over("gocap", "floor")
	fmt.Fprintf(&b, "\npam_gocap.so over the Go floor: %+.0f KiB of Pss_Anon per session (goal: +64 KiB; met: %s).\n", d, met(d <= 64))
	fl, flt := over("floor", "pamcap")
	gc, gct := over("gocap", "pamcap")
	fmt.Fprintf(&b, "On a host with 1,000 sessions open, the Go floor costs %.0f MiB of anonymous memory and about %.0f threads\n", fl*1000/1024, math.Round(flt*100)*10)
	fmt.Fprintf(&b, "more than pam_cap.so, and pam_gocap.so %.0f MiB and about %.0f threads more, for as long as the sessions last.\n", gc*1000/1024, math.Round(gct*100)*10)
	return b.String()
}

// serviceText is the auth stack: the module, optional, then pam_permit.so,
// which every stack has, so that the floor's PAM_IGNORE still succeeds.
func serviceText(s stack, conf string) string {
	if s.module == "" {
		return "auth required pam_permit.so\n"
	}
	return fmt.Sprintf("auth optional %s config=%s\nauth required pam_permit.so\n", s.module, conf)
}

// pamtester runs one whole process and returns its wall time in ms.
func pamtester(s stack) float64 {
	t0 := time.Now()
	out, err := pamtesterCmd(s, nil).CombinedOutput()
	took := float64(time.Since(t0).Microseconds()) / 1000
	checkPamtester(s, out, err)
	return took
}

// The PAM calls that probed times, in the order of its report.
var phaseNames = [4]string{"pam_start", "pam_authenticate", "pam_setcred", "pam_end"}

// probed runs one whole process with the probe preloaded and returns its
// peak resident memory in KiB and the time of each PAM call in µs.
func probed(s stack) (kb float64, us [len(phaseNames)]float64) {
	p, _ := filepath.Abs(*probe)
	out, err := pamtesterCmd(s, []string{"LD_PRELOAD=" + p}).CombinedOutput()
	checkPamtester(s, out, err)
	text := string(out)
	i, j := strings.Index(text, "VmHWM:"), strings.Index(text, "phases ")
	if i < 0 || j < 0 {
		log.Fatalf("no probe report from pamtester: %q", out)
	}
	if n, _ := fmt.Sscanf(text[i:], "VmHWM: %f kB", &kb); n != 1 {
		log.Fatalf("bad probe report from pamtester: %q", text[i:])
	}
	if n, _ := fmt.Sscanf(text[j:], "phases start=%f authenticate=%f setcred=%f end=%f", &us[0], &us[1], &us[2], &us[3]); n != 4 {
		log.Fatalf("bad probe report from pamtester: %q", text[j:])
	}
	return kb, us
}

func pamtesterCmd(s stack, env []string) *exec.Cmd {
	cmd := exec.Command("pamtester", "pam_gocap-bench-"+s.key, *user, "authenticate", "setcred")
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

func checkPamtester(s stack, out []byte, err error) {
	if err != nil || !strings.Contains(string(out), "successfully") {
		log.Fatalf("pamtester with %s: %v\n%s", s.name, err, out)
	}
}

// memory starts a transaction in the C host: private dirty memory after
// pam_start loaded the modules, after authenticate and setcred, and the
// threads after load.
func memory(pamd string, s stack) (load, tx, threads float64) {
	out, err := exec.Command(*pamhost, "-d", pamd, "-s", "small-"+s.key, "-u", *user,
		"memory", "auth", "setcred:establish", "memory").Output()
	if err != nil {
		log.Fatalf("pamhost memory %s: %v", s.name, err)
	}
	var got [][3]float64
	for _, line := range strings.Split(string(out), "\n") {
		var v [3]float64
		if n, _ := fmt.Sscanf(line, "memory private_dirty_kb=%f rss_kb=%f threads=%f", &v[0], &v[1], &v[2]); n == 3 {
			got = append(got, v)
		}
	}
	if len(got) != 2 {
		log.Fatalf("pamhost memory %s: %q", s.name, out)
	}
	return got[0][0], got[1][0], got[0][2]
}

func hostBench(pamd, service string, n int) float64 {
	out, err := exec.Command(*pamhost, "-d", pamd, "-s", service, "-u", *user, fmt.Sprintf("bench:%d", n)).Output()
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
