// Command pam_gocap is pam_gocap.so, a PAM module that gives users
// capabilities at login from /etc/security/capability.conf, as libcap's
// pam_cap.so does. Build it with go build -buildmode=c-shared.
//
// The entry points are C (exports.c). The one Go function here, called by
// them, turns the C request into a capconf.Request and the decision into
// its text form; users and groups come from internal/nss, as in the helper
// and gocap. At load, init only tells start.c that the runtime has
// started; no goroutine is started.
package main

/*
#cgo CFLAGS: -Wall -Wextra
#cgo LDFLAGS: -lpam
#include <stdlib.h>
#include "decision.h"
#include "start.h"
*/
import "C"

import (
	"unsafe"

	"pam_gocap/capconf"
	"pam_gocap/internal/nss"
)

// The C enums in decision.h must number things as capconf does: each of
// these fails to compile if one drifts.
var (
	_ = [1]int{}[C.GOCAP_SETCRED-int(capconf.SetCred)]
	_ = [1]int{}[C.GOCAP_USER_MISSING-int(capconf.UserMissing)]
	_ = [1]int{}[C.GOCAP_USER_CONV_AGAIN-int(capconf.UserConvAgain)]
	_ = [1]int{}[C.GOCAP_INCOMPLETE-int(capconf.Incomplete)]
	_ = [1]int{}[C.GOCAP_AUTH_ERR-int(capconf.AuthErr)]
	_ = [1]int{}[C.GOCAP_SUCCESS-int(capconf.Success)]
	_ = [1]int{}[C.GOCAP_DEFER_IAB-int(capconf.DeferIAB)]
	_ = [1]int{}[C.GOCAP_APPLY_IAB-int(capconf.ApplyIAB)]
	_ = [1]int{}[C.GOCAP_CLEAR_INH-int(capconf.ClearInh)]
	_ = [1]int{}[C.GOCAP_ANSWER_VERSION-capconf.AnswerVersion]
)

// gocap_decide decides for the module in the process where the Go runtime
// started. It returns the answer text in memory from malloc; the caller
// frees it. A panic grants nothing.
//
//export gocap_decide
func gocap_decide(entry, status C.int, user *C.char, argc C.int, argv **C.char) (answer *C.char) {
	defer func() {
		if r := recover(); r != nil {
			answer = C.CString(capconf.Failure("internal error: " + panicText(r)).Encode())
		}
	}()
	req := capconf.Request{
		Entry:  capconf.Entry(entry),
		Status: capconf.UserStatus(status),
		User:   C.GoString(user),
		Argv:   goStrings(argc, argv),
	}
	return C.CString(capconf.Decide(req, nss.OS{}).Encode())
}

// init, the last of the library's to run, lets the constructor in start.c
// give the host back what the runtime changed while it started.
func init() { C.gocap_runtime_started() }

func goStrings(argc C.int, argv **C.char) []string {
	if argc <= 0 || argv == nil {
		return nil
	}
	out := make([]string, argc)
	for i, p := range unsafe.Slice(argv, int(argc)) {
		out[i] = C.GoString(p)
	}
	return out
}

// panicText is what fmt.Sprint gives for the values panics carry.
func panicText(r any) string {
	switch v := r.(type) {
	case error:
		return v.Error()
	case string:
		return v
	}
	return "panic"
}

func main() {}
