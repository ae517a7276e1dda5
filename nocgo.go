//go:build !cgo || osusergo

package main

// pam_gocap.so is C entry points around Go, and finds users and groups
// through the C library's NSS: it cannot be built without cgo, nor with
// the osusergo tag (which would read only /etc/passwd and /etc/group).
var _ = pam_gocap_needs_cgo_and_NSS__build_with_CGO_ENABLED_1_and_without_osusergo
