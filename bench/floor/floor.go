// Command floor is the do-nothing Go PAM module that make bench measures
// pam_gocap.so against: built exactly as pam_gocap.so is (c-shared, the
// same version script and linker flags), with pam_gocap.so's start-up
// (start.c: the host's GO... settings hidden and the runtime's own given,
// the host's limits and SIGPIPE given back) and entry points in C that,
// where Go may run, call one Go function returning PAM_IGNORE, and
// elsewhere (a forked child) return PAM_IGNORE. What it costs a host is
// what any Go PAM module costs.
package main

// #include "start.h"
import "C"

const pamIgnore = 25

func init() { C.gocap_runtime_started() }

//export floor_answer
func floor_answer() C.int { return pamIgnore }

func main() {}
