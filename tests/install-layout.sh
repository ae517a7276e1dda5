#!/usr/bin/env bash
# make install DESTDIR=... lays out the tree the README describes, keeps an
# existing capability.conf, and make uninstall removes exactly what install
# put and nothing else.
set -euo pipefail
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
make -s install DESTDIR="$root" PREFIX=/usr PAMDIR=/usr/lib/security >/dev/null
want="etc/security/capability.conf
usr/lib/security/pam_gocap.so
usr/libexec/pam_gocap/pam_gocap-helper
usr/sbin/gocap
usr/share/man/man8/gocap.8.gz
usr/share/man/man8/pam_gocap.8.gz
usr/share/pam-configs/gocap
usr/share/pam-gocap/capability.conf.example"
got=$(cd "$root" && find . -type f | sed 's|^\./||' | sort)
[ "$got" = "$want" ] || { echo "install laid out:"; echo "$got"; echo "want:"; echo "$want"; exit 1; }
[ "$(stat -c %a "$root/usr/libexec/pam_gocap/pam_gocap-helper")" = 755 ] || { echo "helper mode"; exit 1; }
strings "$root/usr/lib/security/pam_gocap.so" >"$root/strings"
grep -qx /usr/libexec/pam_gocap/pam_gocap-helper "$root/strings" && rm "$root/strings" ||
	{ echo "the module does not name the installed helper"; exit 1; }

# An administrator's file survives install and uninstall.
echo "cap_chown admin-wrote-this" >"$root/etc/security/capability.conf"
make -s install DESTDIR="$root" PREFIX=/usr PAMDIR=/usr/lib/security >/dev/null
grep -q admin-wrote-this "$root/etc/security/capability.conf" || { echo "install replaced capability.conf"; exit 1; }
make -s uninstall DESTDIR="$root" PREFIX=/usr PAMDIR=/usr/lib/security >/dev/null
left=$(cd "$root" && find . -type f | sed 's|^\./||')
[ "$left" = etc/security/capability.conf ] || { echo "uninstall left: $left"; exit 1; }
echo "install-layout: ok"
