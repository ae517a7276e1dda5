module pam_gocap

go 1.24

require (
	github.com/cilium/ebpf v0.17.3
	github.com/cpuguy83/go-md2man/v2 v2.0.7
	github.com/msteinert/pam/v2 v2.1.0
	golang.org/x/sys v0.30.0
	kernel.org/pub/linux/libs/security/libcap/cap v1.2.78
)

require (
	github.com/russross/blackfriday/v2 v2.1.0 // indirect
	kernel.org/pub/linux/libs/security/libcap/psx v1.2.78 // indirect
)
