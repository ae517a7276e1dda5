#!/bin/bash
# debian-build.sh: inside the build image (docker/Dockerfile.build), build
# the package from the tree mounted at /src (read-only) with the release's
# own golang-go and gcc, offline, from the host's module cache mounted at
# /gomodcache (read-only). Ends with "N passed, N failed".
set -u
. /src/docker/checks.sh
export GOMODCACHE=/gomodcache GOPROXY=off GOTOOLCHAIN=local GOCACHE=/tmp/gocache GOFLAGS=-mod=mod
check "go is Debian's golang-go" "$(dpkg -S "$(readlink -f "$(command -v go)")" 2>/dev/null | cut -d: -f1)" \
	"golang-$(go env GOVERSION | sed -E 's/^go([0-9]+\.[0-9]+).*/\1/')-go"
echo "toolchain: $(go version), $(gcc --version | head -n 1)"
mkdir -p /tmp/src
tar -C /src --exclude=./build --exclude=./.git -c . | tar -C /tmp/src -x
rm -f /tmp/src/pam_gocap.so /tmp/src/pam_gocap-helper /tmp/src/gocap
cd /tmp/src
out=$(go mod tidy -diff 2>&1) && ok "go mod tidy -diff: clean" || bad "go mod tidy -diff:"$'\n'"$out"
out=$(go vet ./... 2>&1) && ok "go vet ./... (every package and its tests)" || bad "go vet:"$'\n'"$out"
if out=$(make -s deb 2>&1); then
	ok "make deb"
else
	bad "make deb:"$'\n'"$out"
	summary
fi
deb=$(ls build/pam-gocap_*.deb)
for f in "./usr/lib/$(gcc -print-multiarch)/security/pam_gocap.so" ./usr/libexec/pam_gocap/pam_gocap-helper ./usr/sbin/gocap; do
	dpkg-deb -c "$deb" | awk '{ print $6 }' | grep -qxF "$f" && ok "$deb holds $f" || bad "$deb lacks $f"
done
check "pam_gocap.so exports pam_sm_authenticate and pam_sm_setcred, nothing else" \
	"$(nm -D --defined-only pam_gocap.so | awk '$2 == "T" { print $3 }' | sort | paste -sd' ')" \
	"pam_sm_authenticate pam_sm_setcred"
check "gocap check on the shipped example" "$(./gocap check capability.conf.example >/dev/null 2>&1; echo $?)" 0
summary
