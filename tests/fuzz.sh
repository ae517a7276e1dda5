#!/usr/bin/env bash
# fuzz.sh TIME TARGET...: run each capconf fuzz target for TIME, with
# minimizing bounded so that a found input cannot eat the run, and print
# how many inputs each target ran. A crasher is kept by go test under
# capconf/testdata/fuzz and runs with the unit tests from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:?usage: fuzz.sh TIME TARGET...}
shift
mkdir -p build
for target in "$@"; do
	log=build/fuzz-$target.log
	if ! CGO_ENABLED=0 go test -run '^$' -fuzz "^$target\$" -fuzztime "$time" -fuzzminimizetime 10s ./capconf >"$log" 2>&1; then
		cat "$log"
		exit 1
	fi
	execs=$(sed -n 's/.*execs: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
	echo "fuzz: $target ran ${execs:-0} inputs in $time"
done
