#!/usr/bin/env bash
# releases.sh [RELEASE...]: make docker-test. The whole harness (run.sh's
# test, trace and ldap) on each Debian release (bookworm and trixie by
# default), one lane per release side by side, and the package built inside
# trixie by its own toolchain (run.sh build) in the last lane. Each run's
# output goes to build/docker/RELEASE/MODE.out; the counts, each naming its
# release, are printed at the end, with the output of any run that failed.
# Traces run one at a time: tracefs instances are global to the kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
releases=("$@")
[ ${#releases[@]} -gt 0 ] || releases=(bookworm trixie)
started=
trap '[ -z "$started" ] || bash docker/engine.sh stop' EXIT
bash scripts/deps.sh build docker
started=$(bash docker/engine.sh start)
for r in "${releases[@]}"; do
	bash docker/base-image.sh "debian:$r-slim"
	mkdir -p "build/docker/$r"
done
# Built once, here: every lane installs this .deb (PAM_GOCAP_DEB) and
# runs the differences tests against this test build.
make -s deb "$PWD/build/test/pam_gocap.so" "$PWD/build/test/pam_gocap-helper" "$PWD/build/test/pamhost" "$PWD/build/test/libnss_nssfail.so.2"
cp build/pam-gocap_*.deb build/docker/pam-gocap.deb
export PAM_GOCAP_DEB=$PWD/build/docker/pam-gocap.deb

# job RELEASE MODE: one run.sh run, timed, its output kept; the lane goes
# on after a failure, so that every count is printed.
job() {
	local t0=$SECONDS lock=()
	[ "$2" = trace ] && lock=(flock build/docker/trace.lock)
	"${lock[@]}" bash docker/run.sh "$2" "$1" >"build/docker/$1/$2.out" 2>&1
	local s=$?
	echo "$2 ($1): $((SECONDS - t0)) s" >>"build/docker/$1/times"
	return $s
}
lane() { # lane RELEASE MODE...
	local r=$1 s=0
	shift
	: >"build/docker/$r/times"
	for m in "$@"; do job "$r" "$m" || s=1; done
	return $s
}
t0=$SECONDS
pids=()
last=$((${#releases[@]} - 1))
for i in "${!releases[@]}"; do
	r=${releases[$i]}
	# Lanes start on different modes, so that their traces need not wait.
	modes=(test trace ldap)
	[ $((i % 2)) = 1 ] && modes=(trace test ldap)
	[ "$i" = "$last" ] && [ "$r" = trixie ] && modes+=(build)
	lane "$r" "${modes[@]}" &
	pids+=($!)
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done

for r in "${releases[@]}"; do
	for f in build/docker/$r/*.out; do
		grep -q '^[a-z]* ([a-z]*): [0-9]* passed, 0 failed$' "$f" || { echo "== $f"; cat "$f"; }
	done
done
for r in "${releases[@]}"; do
	cat "build/docker/$r/times"
done
echo "docker-test: $((SECONDS - t0)) s for ${releases[*]}"
for r in "${releases[@]}"; do
	grep -h '^[a-z]* ([a-z]*): [0-9]* passed, [0-9]* failed$' build/docker/$r/*.out || echo "$r: no counts"
done
exit $status
