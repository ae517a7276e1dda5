#!/usr/bin/env bash
# bench.sh: measure pam_gocap.so against pam_cap.so, the Go floor and no
# module, and write BENCHMARKS.md. Run by make bench, after make has built
# the module, the floor and the test host.
set -euo pipefail
cd "$(dirname "$0")/.."
out=BENCHMARKS.md
${CC:-cc} -O2 -Wall -Wextra -Werror -shared -fPIC -o build/probe.so bench/c/probe.c -ldl
bash docker/run.sh bench | grep -E '^(ssh|sshsession) ' >build/bench-ssh.txt
table=$(go run ./bench -gocap pam_gocap.so -floor build/bench/pam_floor.so -pamhost build/test/pamhost \
	-probe build/probe.so -ssh build/bench-ssh.txt)
{
	echo "# Benchmarks"
	echo
	echo "Measured by \`make bench\` (bench/bench.sh, bench/main.go, docker/scenarios.sh sshbench)"
	echo "on $(date -u +%Y-%m-%d), $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1),"
	echo "Linux $(uname -r), $(go version | cut -d' ' -f3), Debian's pam_cap.so from libpam-cap $(dpkg-query -W -f '${Version}' libpam-cap)."
	echo "The four stacks run interleaved, in turn, and each figure is a median. The Go floor is"
	echo "bench/floor: a Go c-shared module built as pam_gocap.so is, with its start-up (start.c),"
	echo "whose entry points return PAM_IGNORE (from Go, where Go may run). Every stack ends with"
	echo "pam_permit.so; \"no module\" is pam_permit.so alone."
	echo
	echo "$table"
	echo
	cat bench/limits.md
} >$out
cat $out
