package capconf

import "strings"

// DefaultConfig is where pam_cap.so, and so pam_gocap, reads its rules.
const DefaultConfig = "/etc/security/capability.conf"

// Args are the module arguments of pam_cap.so, which pam_gocap takes too.
type Args struct {
	Debug    bool // log what the module decides, at LOG_DEBUG
	KeepCaps bool // set PR_SET_KEEPCAPS once an IAB is applied or deferred
	AutoAuth bool // authenticate always succeeds
	Defer    bool // apply the IAB at pam_end instead of at setcred
	Quiet    bool // no audit line for what setcred applies
	// NoDropIns reads the config file alone, not the FILE.d directory.
	NoDropIns bool
	Config    string // the rules file
	Default   string // IAB for users no rule names; "" when not given
	// HasDefault tells "default=" (an empty IAB) from no default at all.
	HasDefault bool
	Unknown    []string // arguments pam_cap.so does not know, in order
}

// ParseArgs reads module arguments as pam_cap.so does: later ones win, and
// unknown ones are collected, not fatal.
func ParseArgs(argv []string) Args {
	a := Args{Config: DefaultConfig}
	for _, arg := range argv {
		switch {
		case arg == "debug":
			a.Debug = true
		case arg == "keepcaps":
			a.KeepCaps = true
		case arg == "autoauth":
			a.AutoAuth = true
		case arg == "defer":
			a.Defer = true
		case arg == "quiet":
			a.Quiet = true
		case arg == "nodropins":
			a.NoDropIns = true
		case strings.HasPrefix(arg, "config="):
			a.Config = arg[len("config="):]
		case strings.HasPrefix(arg, "default="):
			a.Default, a.HasDefault = arg[len("default="):], true
		default:
			a.Unknown = append(a.Unknown, arg)
		}
	}
	return a
}
