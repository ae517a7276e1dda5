# checks.sh: assertions for the scenario scripts, sourced by them. Every
# check counts; summary prints "N passed, N failed" and exits non-zero on
# any failure.
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }
check() { # check NAME GOT WANT
	if [ "$2" = "$3" ]; then ok "$1"; else bad "$1: got '$2', want '$3'"; fi
}
summary() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
	exit
}
inh() { sed -n 's/^CapInh:\s*//p'; }
# ms_since T0: milliseconds since T0, a `date +%s%N`.
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
