// Package nss gives capconf.OS users and groups from os/user, which asks
// the C library's NSS when built with cgo, for the commands (gocap and the
// helper); the module asks the C library itself (nss.go).
package nss

import (
	"errors"
	"os/user"

	"pam_gocap/capconf"
)

// OS is the running machine's capconf.System.
type OS struct{ capconf.OS }

// LookupUser finds name through NSS, as getpwnam does.
func (OS) LookupUser(name string) (capconf.Groups, error) {
	u, err := user.Lookup(name)
	var unknown user.UnknownUserError
	if errors.As(err, &unknown) {
		return nil, capconf.UnknownUserError(name)
	}
	if err != nil {
		return nil, err
	}
	return func() ([]string, error) {
		ids, err := u.GroupIds() // getgrouplist: primary and supplementary
		if err != nil {
			return nil, err
		}
		names := make([]string, 0, len(ids))
		for _, id := range ids {
			g, err := user.LookupGroupId(id)
			var unknown user.UnknownGroupIdError
			switch {
			case errors.As(err, &unknown):
				continue // a gid with no name matches no @group, as in pam_cap.so
			case err != nil:
				return nil, err
			}
			names = append(names, g.Name)
		}
		return names, nil
	}, nil
}

// LookupGroup finds a group by name through NSS, as getgrnam does.
func (OS) LookupGroup(name string) error {
	_, err := user.LookupGroup(name)
	return err
}
