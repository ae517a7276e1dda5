// Command floor is the do-nothing Go PAM module that make bench measures
// pam_gocap.so against: built exactly as pam_gocap.so is (c-shared, the
// same version script and linker flags), its two entry points return
// PAM_IGNORE and nothing else runs. What it costs a host is the Go
// runtime's own floor.
package main

// #define PAM_IGNORE 25
import "C"

//export pam_sm_authenticate
func pam_sm_authenticate(pamh, flags, argc, argv C.long) C.int { return C.PAM_IGNORE }

//export pam_sm_setcred
func pam_sm_setcred(pamh, flags, argc, argv C.long) C.int { return C.PAM_IGNORE }

func main() {}
