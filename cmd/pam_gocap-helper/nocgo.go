//go:build !cgo || osusergo

package main

// The helper finds users and groups through the C library's NSS, as the
// module does: without cgo, or with the osusergo tag, it would read only
// /etc/passwd and /etc/group and miss directory users and groups.
var _ = pam_gocap_needs_cgo_and_NSS__build_with_CGO_ENABLED_1_and_without_osusergo
