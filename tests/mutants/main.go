// Command mutants checks that the test suite catches the mistakes that
// matter: it applies each deliberate bug below, one at a time, to a scratch
// copy of the tree, runs the unit tests and the module tests that should
// catch it, and prints "N killed, N survived". make mutants runs it (as
// root, like the module tests); it is not part of make test. With an
// argument, only the mutants whose names contain it run.
package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// A mutant is one deliberate bug: in file, old becomes new. old must occur
// exactly once, so that a change elsewhere cannot make a mutant silently
// vanish.
type mutant struct {
	name, file, old, new string
}

var mutants = []mutant{
	{"Inheritable OR-ed with the old set instead of replaced", "exports.c",
		"    set_inheritable(work, inh);\n", "    set_inheritable(work, inh | inheritable(before));\n"},
	{"none a no-op", "exports.c",
		"    set_inheritable(d, 0);\n    return thread_caps(d, 1);\n", "    (void)d;\n    return 0;\n"},
	{"Ambient never cleared", "exports.c",
		"    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0) {", "    if (0) {"},
	{"Bounding drop skipped", "exports.c",
		"if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0) {", "if (0) {"},
	{"an IAB half applied: nothing put back after a failure", "exports.c",
		"f->restored = restore_caps(before, ambient_changed, old_amb, bits);", "f->restored = 1;"},
	{"an IAB half applied: SECBIT_NO_CAP_AMBIENT_RAISE not checked first", "exports.c",
		"else if (amb != 0 && secbits > 0 && (secbits & SECBIT_NO_CAP_AMBIENT_RAISE))", "else if (0)"},
	{"the last matching rule instead of the first", "capconf/conf.go",
		"\t\t\tif string(tok) == \"*\" || string(tok) == user {\n\t\t\t\treturn rd.rule(), nil\n\t\t\t}",
		"\t\t\tif string(tok) == \"*\" || string(tok) == user {\n\t\t\t\tlast = rd.rule()\n\t\t\t\tbreak\n\t\t\t}"},
	{"a group matched without @ (CVE-2025-1390)", "capconf/conf.go",
		"\t\t\tif tok[0] != '@' {\n\t\t\t\tcontinue\n\t\t\t}",
		"\t\t\tif tok[0] != '@' {\n\t\t\t\ttok = append([]byte{'@'}, tok...)\n\t\t\t}"},
	{"the answer text leaked on every call", "exports.c",
		"    int rc = act(pamh, answer, len);\n    free(answer);\n", "    int rc = act(pamh, answer, len);\n"},
	{"default= applied after a refused file", "capconf/decide.go",
		"\tcase err != nil:\n\t\treturn // fail closed", "\tcase err != nil && !d.args.HasDefault:\n\t\treturn // fail closed"},
	{"the answer parser takes any action", "exports.c",
		"digit(&p, GOCAP_NO_ACTION, GOCAP_DEFER_IAB, &a->action)", "digit(&p, 0, 9, &a->action)"},
	{"the helper keeps the host's descriptors", "exports.c",
		"    if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) != 0)\n#endif\n    { /* Linux before 5.11 */",
		"    if (0)\n#endif\n    { /* Linux before 5.11 */"},
	{"fork detection by pid and atfork only", "start.c",
		"return runtime_page != NULL && *runtime_page == 1 && !forked", "return !forked"},
	{"the open-file limit left raised", "start.c",
		"            setrlimit(r, &host_rlimits[r]);", "            (void)0;"},
	{"ownership: a drop-in or its directory that a group can write is read", "capconf/system.go",
		"\tcase id.Mode&0o020 != 0:\n", "\tcase id.Mode&0o000 != 0:\n"},
	{"ownership: a drop-in or its directory that a user owns is read", "capconf/system.go",
		"\tcase id.UID != owner:\n", "\tcase false:\n"},
	{"ownership: a drop-in's link followed when it is checked", "capconf/system.go",
		"fstatat(d.fd, d.names[i], &st, atSymlinkNoFollow)", "fstatat(d.fd, d.names[i], &st, 0)"},
	{"default= for a user NSS does not know without checking the files", "capconf/decide.go",
		"\t\tif !d.args.HasDefault {\n\t\t\treturn nil, nil\n", "\t\tif true {\n\t\t\treturn nil, nil\n"},
}

// The "last match" mutant needs its variable and its return.
var companions = map[string][][2]string{
	"the last matching rule instead of the first": {
		{"\tgroupsLoaded := false\n", "\tgroupsLoaded := false\n\tvar last *Rule\n"},
		{"\t\t\tif err == io.EOF {\n\t\t\t\treturn nil, nil\n", "\t\t\tif err == io.EOF {\n\t\t\t\treturn last, nil\n"},
	},
}

// The module tests that should catch these, quick ones first.
const moduleTests = "TestModuleArgumentsAndReturnCodes|TestModuleConfigFileChecks|TestDifferencesFromPamCap|" +
	"TestHostAfterLoad|TestHelperStartsClean|TestAnswerParserIsStrict|TestCloneChildren|" +
	"TestLogs|TestExplainAgreesWithModule|TestSameAsPamCap|TestLongRunningHost|TestIABAllOrNothing|" +
	"TestDropInOwnership|TestDropInNotOpenedUnlessRegular|TestRefusedConfigGrantsUnknownUserNothing|TestManyDropInsFewDescriptors"

func main() {
	root, _ := os.Getwd()
	killed, survived := 0, 0
	for _, m := range mutants {
		if len(os.Args) > 1 && !strings.Contains(m.name, os.Args[1]) {
			continue
		}
		start := time.Now()
		caught, err := run(root, m)
		switch {
		case err != nil:
			fmt.Fprintf(os.Stderr, "mutants: %s: %v\n", m.name, err)
			os.Exit(2)
		case caught != "":
			killed++
			fmt.Printf("killed   %-55s by %s (%.0fs)\n", m.name, caught, time.Since(start).Seconds())
		default:
			survived++
			fmt.Printf("SURVIVED %-55s (%.0fs)\n", m.name, time.Since(start).Seconds())
		}
	}
	fmt.Printf("%d killed, %d survived\n", killed, survived)
	if survived > 0 {
		os.Exit(1)
	}
}

// run applies m to a scratch copy of the tree and returns what caught it,
// or "" if nothing did.
func run(root string, m mutant) (string, error) {
	scratch, err := os.MkdirTemp("", "pam_gocap-mutant")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(scratch)
	if out, err := exec.Command("sh", "-c", `git ls-files -co --exclude-standard | tar -cf - -T - | tar -C "$0" -xf -`, scratch).CombinedOutput(); err != nil {
		return "", fmt.Errorf("copying the tree: %v\n%s", err, out)
	}
	path := filepath.Join(scratch, m.file)
	src, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	for _, r := range append([][2]string{{m.old, m.new}}, companions[m.name]...) {
		if n := bytes.Count(src, []byte(r[0])); n != 1 {
			return "", fmt.Errorf("%s holds %q %d times, want once: update the mutant", m.file, r[0], n)
		}
		src = bytes.Replace(src, []byte(r[0]), []byte(r[1]), 1)
	}
	if err := os.WriteFile(path, src, 0o644); err != nil {
		return "", err
	}
	steps := []struct{ name, cmd string }{
		{"the build", "make -s all"},
		{"make test-unit", "make -s test-unit"},
		{"the module tests", "make -s test-module TESTFLAGS='-failfast -run " + "\"" + moduleTests + "\"'"},
	}
	for _, s := range steps {
		cmd := exec.Command("sh", "-c", s.cmd)
		cmd.Dir = scratch
		out, err := cmd.CombinedOutput()
		if err != nil {
			return s.name + firstFailure(out), nil
		}
	}
	return "", nil
}

// firstFailure names the first failing test in go test's output.
func firstFailure(out []byte) string {
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == "---" && f[1] == "FAIL:" {
			return " (" + f[2] + ")"
		}
	}
	return ""
}
