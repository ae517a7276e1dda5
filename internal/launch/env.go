package launch

import "strings"

// LoginPath is the PATH a login-like environment has: util-linux's su and
// runuser give a user other than root this one.
const LoginPath = "/usr/local/bin:/usr/bin:/bin"

// Account is what a login environment is made from: the user's name,
// home and shell, from the user database.
type Account struct {
	Name, Home, Shell string
}

// LoginEnv is the environment su - and runuser -l start a user's shell
// with: HOME, USER, LOGNAME, SHELL, a plain PATH and the caller's TERM,
// and nothing else of the caller's environment (its tokens, its PWD)
// but the variables named in keep, which the caller asked for.
func LoginEnv(a Account, caller []string, keep []string) []string {
	env := []string{"HOME=" + a.Home, "USER=" + a.Name, "LOGNAME=" + a.Name, "SHELL=" + a.Shell, "PATH=" + LoginPath}
	if term, ok := lookup(caller, "TERM"); ok && safeTerm(term) {
		env = append(env, "TERM="+term)
	}
	for _, name := range keep {
		if v, ok := lookup(caller, name); ok {
			env = set(env, name+"="+v)
		}
	}
	return env
}

// safeTerm is a terminal type name, which programs use to find a file:
// no path, no control characters.
func safeTerm(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-+._", r)) {
			return false
		}
	}
	return true
}

// ValidName is whether name can be an environment variable's name.
func ValidName(name string) bool {
	if name == "" || name[0] >= '0' && name[0] <= '9' {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

func lookup(env []string, name string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// set replaces or adds a NAME=VALUE.
func set(env []string, v string) []string {
	name, _, _ := strings.Cut(v, "=")
	for i, e := range env {
		if strings.HasPrefix(e, name+"=") {
			env[i] = v
			return env
		}
	}
	return append(env, v)
}
