#!/usr/bin/env bash
# deps.sh GROUP...: make sure the Debian packages a make target needs are
# installed. This is the one list of them. Each group is checked with
# dpkg-query; apt-get runs only for what is missing, so a second run costs
# one dpkg-query. Not root, it names the command to run and fails.
#
#   build    the module, the helper, gocap, the man pages and the .deb
#   test     the module tests (pam_cap.so side by side, unshare) and lintian
#   docker   a Docker engine and debootstrap for the base image
#   bench    pamtester, for whole-process timings beside pam_cap.so
set -euo pipefail

declare -A group=(
	[build]="make gcc libc6-dev libpam0g-dev"
	[test]="libpam-cap util-linux lintian man-db"
	[docker]="docker.io debootstrap"
	[bench]="pamtester libpam-cap"
)

want=()
for g in "$@"; do
	[ -n "${group[$g]:-}" ] || { echo "deps.sh: unknown group $g (build, test, docker, bench)" >&2; exit 2; }
	want+=(${group[$g]})
done
command -v dpkg-query >/dev/null || exit 0 # not Debian: nothing to check with

missing=()
for p in "${want[@]}"; do
	[ "$(dpkg-query -W -f '${db:Status-Status}' "$p" 2>/dev/null)" = installed ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "pam_gocap: missing packages; as root run: apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "pam_gocap: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
