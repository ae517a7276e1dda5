// Command pam_gocap-helper makes pam_gocap.so's decision in a fresh process,
// for module calls in a process forked from the one where the module's Go
// runtime started, where Go cannot run. The module runs it with an empty
// environment as
//
//	pam_gocap-helper VERSION ENTRY STATUS USER [MODULE-ARG...]
//
// and reads the answer (capconf.Answer.Encode) from its standard output.
// It is not meant to be run by hand; gocap explain answers the same
// question for people.
package main

import (
	"fmt"
	"os"
	"strconv"

	"pam_gocap/capconf"
	"pam_gocap/internal/nss"
)

func main() {
	os.Stdout.WriteString(answer(os.Args[1:]).Encode())
}

func answer(args []string) (a capconf.Answer) {
	defer func() {
		if r := recover(); r != nil {
			a = capconf.Failure(fmt.Sprint("helper internal error: ", r))
		}
	}()
	if len(args) < 4 {
		return capconf.Failure("helper: too few arguments")
	}
	if args[0] != strconv.Itoa(capconf.AnswerVersion) {
		return capconf.Failure(fmt.Sprintf("helper speaks version %d, module asked for %q", capconf.AnswerVersion, args[0]))
	}
	entry, err1 := strconv.Atoi(args[1])
	status, err2 := strconv.Atoi(args[2])
	if err1 != nil || err2 != nil {
		return capconf.Failure("helper: bad request")
	}
	req := capconf.Request{
		Entry:  capconf.Entry(entry),
		Status: capconf.UserStatus(status),
		User:   args[3],
		Argv:   args[4:],
	}
	return capconf.Decide(req, nss.OS{})
}
