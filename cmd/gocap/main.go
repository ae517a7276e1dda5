// Command gocap checks capability.conf and explains what a user gets from
// it, with the same code that pam_gocap.so decides with.
//
//	gocap check [FILE] [--args "MODULE ARGS"] [--format text|json]
//	gocap explain USER [--config FILE] [--args "MODULE ARGS"] [--file PATH] [--service su|login|sshd] [--format text|json]
//	gocap trace [--user USER [--keep-env NAME]...] [--via tracepoint|bpf] [--format text|json] [-o FILE|-] -- CMD [ARGS...]
//	gocap --version
//	gocap help
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"pam_gocap/captrace"
	"pam_gocap/internal/launch"
	"pam_gocap/internal/quote"
)

// version is set at build time (-ldflags -X main.version=...).
var version = "devel"

const usage = `usage:
  gocap check [FILE] [--args "MODULE ARGS"] [--format text|json]
      Report every problem in FILE (default /etc/security/capability.conf),
      as FILE:LINE:COL: error|warning: message. Exit 0 when there is no
      error, 1 when there is, 2 on a usage or I/O problem.
  gocap explain USER [--config FILE] [--args "MODULE ARGS"] [--file PATH] [--service su|login|sshd] [--format text|json]
      Show USER's groups, the rule that names USER, what pam_gocap's
      authenticate and setcred do, with --file what a program with file
      capabilities at PATH gets after USER's shell runs it, and with
      --service what reaches the session that su, login or sshd starts.
  gocap trace [--user USER [--keep-env NAME]...] [--via tracepoint|bpf] [--format text|json] [-o FILE|-] -- CMD [ARGS...]
      Run CMD (as USER, with what a login gives USER and a login's
      environment in USER's home, when given; --keep-env keeps a variable)
      in a session of its own, on a pseudo-terminal of its own when gocap
      has a terminal, and record every capability check that CMD and what
      it starts make, until CMD exits; then report them to standard error
      (or FILE; with -o -, to standard output, CMD's standard output then
      going to standard error), with the capability.conf line and setcap
      commands for what was denied. Exit as CMD did; 125 when the trace
      failed, 126 or 127 when CMD could not run, 2 on a usage problem.
      Also --config FILE, --args "MODULE ARGS" and --service
      su|login|sshd, as for explain.
  gocap --version
  gocap help, or -h or --help after any command
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, osSystem{}))
}

// run is gocap with its arguments, output streams and system; it returns
// the exit code.
func run(args []string, stdout, stderr io.Writer, sys system) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	case "--version", "-version", "version":
		fmt.Fprintf(stdout, "gocap %s\n", version)
		return 0
	case "check":
		return runCheck(args[1:], stdout, stderr, sys)
	case "explain":
		return runExplain(args[1:], stdout, stderr, sys)
	case "trace":
		return runTrace(args[1:], stdout, stderr, sys)
	case launch.Command:
		return launch.Main(args[1:], stderr)
	case captrace.CleanupCommand:
		return captrace.Cleanup(args[1:])
	}
	fmt.Fprintf(stderr, "gocap: unknown command %q\n%s", args[0], usage)
	return 2
}

// options are the flags both commands take; positional arguments may come
// before or after them.
type options struct {
	config, args, file, format, service string
	positional                          []string
}

// parseOptions reads the flags of check or explain; without options it
// returns the exit code: 0 for --help (usage printed on stdout), 2 for a
// usage error.
func parseOptions(cmd string, args []string, stdout, stderr io.Writer, allowed ...string) (*options, int) {
	o := &options{format: "text"}
	fs := flag.NewFlagSet("gocap "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&o.config, "config", "", "rules file")
	fs.StringVar(&o.args, "args", "", "module arguments, as in the PAM service file")
	fs.StringVar(&o.file, "file", "", "program with file capabilities")
	fs.StringVar(&o.format, "format", "text", "text or json")
	fs.StringVar(&o.service, "service", "", "su, login or sshd: say what reaches that host's session")
	for len(args) > 0 {
		if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return nil, 0
		} else if err != nil {
			fmt.Fprintf(stderr, "gocap %s: %v\n", cmd, err)
			return nil, 2
		}
		args = fs.Args()
		if len(args) > 0 {
			o.positional = append(o.positional, args[0])
			args = args[1:]
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name := range set {
		if !slices.Contains(allowed, name) {
			fmt.Fprintf(stderr, "gocap %s: --%s does not apply here\n", cmd, name)
			return nil, 2
		}
	}
	if o.format != "text" && o.format != "json" {
		fmt.Fprintf(stderr, "gocap %s: --format is text or json, not %q\n", cmd, o.format)
		return nil, 2
	}
	return o, 0
}

// writeJSON writes v as indented JSON, as every --format json does, with
// the control characters a terminal acts on escaped.
func writeJSON(w io.Writer, v any) {
	data, _ := json.MarshalIndent(v, "", "  ")
	w.Write(quote.JSON(append(data, '\n')))
}

// writeReport writes what explain and trace found, in the format asked for.
func writeReport(w io.Writer, format string, r interface{ writeText(io.Writer) }) {
	if format == "json" {
		writeJSON(w, r)
	} else {
		r.writeText(w)
	}
}

// moduleArgs splits --args as libpam splits a service file line.
func moduleArgs(s string) []string { return strings.Fields(s) }

// moduleArgv is --args with --config as the module's config= argument.
func moduleArgv(args, config string) []string {
	argv := moduleArgs(args)
	if config != "" {
		argv = append(argv, "config="+config)
	}
	return argv
}
