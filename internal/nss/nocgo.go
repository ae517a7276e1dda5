//go:build !cgo

package nss

import "errors"

// Without cgo there is no NSS: every look-up fails, so every decision
// fails closed. The module and its helper refuse to build without cgo
// (nocgo.go in each); this is for the pure-Go build of gocap's unit tests.
func noCgo(what string) error {
	return &Error{"user: " + what + ": built without cgo, NSS cannot be asked", errors.ErrUnsupported}
}

// User is what NSS says of a user.
type User struct {
	UID, GID uint32
	Home     string
	Shell    string
}

// LookupUser fails without cgo.
func LookupUser(name string) (User, error) { return User{}, noCgo("lookup username " + name) }

// GroupIDs fails without cgo.
func GroupIDs(name string, gid uint32) ([]uint32, error) { return nil, noCgo("getgrouplist " + name) }

// GroupName fails without cgo.
func GroupName(gid uint32) (string, bool, error) { return "", false, noCgo("lookup groupid") }

// LookupGroup fails without cgo.
func LookupGroup(name string) error { return noCgo("lookup groupname " + name) }
