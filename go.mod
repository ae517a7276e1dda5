module pam_gocap

go 1.22

require kernel.org/pub/linux/libs/security/libcap/cap v1.2.78

require (
	github.com/msteinert/pam/v2 v2.1.0 // indirect
	kernel.org/pub/linux/libs/security/libcap/psx v1.2.78 // indirect
)
