#!/usr/bin/env bash
# The module and its helper refuse to build without cgo or with the
# osusergo tag, and say why; with cgo they build.
set -euo pipefail
cd "$(dirname "$0")/.."
for pkg in . ./cmd/pam_gocap-helper; do
	for setting in "CGO_ENABLED=0" "CGO_ENABLED=1 GOFLAGS=-tags=osusergo"; do
		if out=$(env $setting go build -o /dev/null "$pkg" 2>&1); then
			echo "build-constraints: $pkg built with $setting"
			exit 1
		fi
		grep -q "pam_gocap_needs_cgo_and_NSS" <<<"$out" || { echo "build-constraints: $pkg with $setting: $out"; exit 1; }
	done
	CGO_ENABLED=1 go build -o /dev/null "$pkg"
done
echo "build-constraints: 4 refused builds, 2 builds"
