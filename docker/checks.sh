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
# pid_of USER NAME: the pid of USER's process NAME, started in the
# background: waited for (10 s at most), as su and a loaded machine may
# take longer than any fixed sleep to get it to exec NAME.
pid_of() {
	local p
	for _ in $(seq 100); do
		p=$(pgrep -u "$1" -x "$2") && { echo "$p"; return; }
		sleep 0.1
	done
	echo "pid_of: no process $2 of $1's after 10 s" >&2
}
# in_log TEXT: /var/log/auth.log holds a line with TEXT, waited for (10 s
# at most): rsyslog writes what the module logged after the PAM call has
# returned, later still on a loaded machine.
in_log() {
	for _ in $(seq 100); do
		grep -qF -- "$1" /var/log/auth.log && return 0
		sleep 0.1
	done
	return 1
}
# wait_for FILE: FILE, which a command started in the background writes
# once it runs, is there (10 s at most). gocap trace starts its command
# only once the trace is armed (a BPF calibration before it), which no
# fixed sleep outlasts on a loaded machine.
wait_for() {
	for _ in $(seq 100); do
		[ -s "$1" ] && return 0
		sleep 0.1
	done
	echo "wait_for: no $1 after 10 s" >&2
	return 1
}
# ms_since T0: milliseconds since T0, a `date +%s%N`.
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }
# For expect: spawn_login starts login and waits for its prompt. Debian
# 13's login (util-linux's) closes the terminal and opens it again before
# it prompts; when expect reads the terminal in that moment, login dies of
# SIGHUP (a third of the starts here). So expect waits half a second before
# it reads, and starts login again, up to 10 times, if it died all the same.
SPAWN_LOGIN='proc spawn_login {} {
	global spawn_id
	for {set i 0} {$i < 10} {incr i} {
		spawn login
		after 500
		set prompted 0
		expect {
			"login: " { set prompted 1 }
			eof { catch wait }
		}
		if {$prompted} return
	}
	puts "login ended before its prompt 10 times"
	exit 1
}'
