#!/usr/bin/env bash
# base-image.sh IMAGE: make sure the Debian base image IMAGE (the
# Dockerfiles' FROM, debian:RELEASE-slim for bookworm or trixie) exists. Where a registry answers it is pulled; where
# none does, debootstrap builds it from the apt mirror this machine is
# already configured with, and docker import loads it under that name.
set -euo pipefail
image=${1:?usage: base-image.sh debian:RELEASE-slim}
release=${image#debian:}
release=${release%-slim}
case $release in
bookworm | trixie) ;;
*) echo "base-image: $image is not debian:bookworm-slim or debian:trixie-slim" >&2; exit 2 ;;
esac
docker image inspect "$image" >/dev/null 2>&1 && exit 0
timeout 60 docker pull -q "$image" >/dev/null 2>&1 && exit 0

# The first Debian mirror in this machine's apt sources (deb822 or
# one-line format).
mirror=$(
	{ grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources || true
	  grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list || true
	} | awk '$1 == "URIs:" { print $2; next }
	         { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; break } }' |
	grep -v -e security -e updates | head -n 1 || true
)
[ -n "$mirror" ] || { echo "base-image: no Debian mirror in the apt sources" >&2; exit 1; }
root=$(mktemp -d)
# debootstrap mounts /proc and /sys (and may bind /dev) inside the root
# while it installs, and leaves them mounted when it fails: unmount
# whatever is below the root, deepest first, and never let rm cross into
# another file system.
cleanup() {
	awk -v r="$root" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/self/mounts | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf --one-file-system "$root"
}
trap cleanup EXIT
echo "base-image: debootstrap $release from the configured mirror" >&2
debootstrap --variant=minbase "$release" "$root" "$mirror" >/dev/null
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" --one-file-system -c . | docker import - "$image" >/dev/null
echo "base-image: $image ready" >&2
