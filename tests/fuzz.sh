#!/usr/bin/env bash
# fuzz.sh TIME TARGET...: run each fuzz target for TIME, in the package
# whose tests have it, with minimizing bounded so that a found input cannot
# eat the run, and print how many inputs each target ran. A crasher is kept
# by go test under that package's testdata/fuzz and runs with the unit
# tests from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
time=${1:?usage: fuzz.sh TIME TARGET...}
shift
mkdir -p build
listing() { if [ -d "$1" ]; then ls "$1" | sort; fi; }
for target in "$@"; do
	log=build/fuzz-$target.log
	pkg=$(dirname "$(grep -rl --include='*_test.go' "^func $target(" . | head -n 1)")
	corpus=$pkg/testdata/fuzz/$target
	before=$(listing "$corpus")
	if ! CGO_ENABLED=0 go test -run '^$' -fuzz "^$target\$" -fuzztime "$time" -fuzzminimizetime 10s "$pkg" >"$log" 2>&1; then
		# Go before 1.27 can report the end of -fuzztime itself as a
		# failure, "context deadline exceeded" with no failing input
		# (go.dev/issue/75804). A real failure always writes its input
		# to the corpus directory; anything else still fails here.
		if [ "$(listing "$corpus")" = "$before" ] &&
			grep -qx '    context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
			echo "fuzz: $target: the Go toolchain's end-of-fuzztime race (go.dev/issue/75804), no failing input"
		else
			cat "$log"
			exit 1
		fi
	fi
	execs=$(sed -n 's/.*execs: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
	echo "fuzz: $target ran ${execs:-0} inputs in $time"
done
