package nss

import "pam_gocap/capconf"

// OS is the running machine's capconf.System: capconf.OS, with users and
// groups from this package.
type OS struct{ capconf.OS }

// LookupUser finds name through NSS and lists the names of its groups,
// primary and supplementary, on demand.
func (OS) LookupUser(name string) (capconf.Groups, error) {
	u, err := LookupUser(name)
	if err != nil {
		return nil, err
	}
	return func() ([]string, error) {
		ids, err := GroupIDs(name, u.GID)
		if err != nil {
			return nil, err
		}
		names := make([]string, 0, len(ids))
		for _, id := range ids {
			g, ok, err := GroupName(id)
			switch {
			case err != nil:
				return nil, err
			case ok: // a gid with no name matches no @group, as in pam_cap.so
				names = append(names, g)
			}
		}
		return names, nil
	}, nil
}

// LookupGroup reports whether NSS knows the group called name.
func (OS) LookupGroup(name string) error { return LookupGroup(name) }

// Error is a look-up that NSS could not answer, or a group it does not
// know.
type Error struct {
	msg string
	err error
}

func (e *Error) Error() string { return e.msg }
func (e *Error) Unwrap() error { return e.err }
