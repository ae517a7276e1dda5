#!/bin/bash
# scenarios.sh MODULE|compare|uninstall: the harness's scenarios, run inside
# the test container with MODULE (pam_gocap.so or pam_cap.so) in su, login,
# sshd and the test services; then "compare" compares the two runs and
# "uninstall" removes the package and checks that logins still work. Every check is an assertion; what both modules must
# agree on goes to /tmp/results-MODULE for `scenarios.sh compare`.
# Ends with "N passed, N failed" and a non-zero exit on any failure.
set -u
export DEBIAN_FRONTEND=noninteractive
MODULE=${1:?usage: scenarios.sh pam_gocap.so|pam_cap.so|compare|uninstall|sshbench}
. "$(dirname "$0")/checks.sh"
# use_module MODULE: enable MODULE's pam-auth-update profile, disable the other.
use_module() {
	case $1 in
	pam_gocap.so) pam-auth-update --package --disable capability && pam-auth-update --package --enable gocap ;;
	pam_cap.so) pam-auth-update --package --disable gocap && pam-auth-update --package --enable capability ;;
	esac
}

declare -A WANT=([alice]=0000000000002000 [bob]=0000000000802000 [erin]=0000000000802000
	[carol]=0000000000000000 [dave]=0000000000000000)

# su run by a user (not root, so pam_rootok does not end the stack):
# alice becomes bob with bob's password, and runs CMD.
su_as_alice_to_bob() {
	expect -c "
		set timeout 15
		spawn su - alice -c {su bob -c '$1'}
		expect \"Password: \" { send \"secret-bob\r\" }
		expect eof" | tr -d '\r' | tail -n 1
}

# After everything else: with pam_gocap enabled in common-auth, remove the
# package; logins through common-auth must go on working.
if [ "$MODULE" = uninstall ]; then
	sed -i '/pam_gocap.so\|pam_cap.so/d' /etc/pam.d/su
	use_module pam_gocap.so
	grep -q "^auth.*pam_gocap.so" /etc/pam.d/common-auth && ok "pam_gocap is in common-auth before dpkg -r" ||
		bad "pam_gocap is not in common-auth before dpkg -r"
	check "su from alice to bob with pam_gocap" "$(su_as_alice_to_bob 'grep CapInh /proc/self/status' | inh)" "${WANT[bob]}"
	dpkg -r pam-gocap >/dev/null 2>&1 && ok "dpkg -r pam-gocap" || bad "dpkg -r pam-gocap failed"
	grep -rq pam_gocap /etc/pam.d/common-* && bad "pam_gocap still in common-*" || ok "pam-auth-update took pam_gocap out of common-*"
	[ ! -e /usr/libexec/pam_gocap/pam_gocap-helper ] && [ -z "$(find / -xdev -name pam_gocap.so 2>/dev/null)" ] &&
		ok "module and helper removed" || bad "module or helper left behind"
	check "su from alice to bob still works" "$(su_as_alice_to_bob 'echo in')" in
	check "ssh still works" "$(timeout 20 sshpass -p secret-alice ssh -o PubkeyAuthentication=no \
		-o PreferredAuthentications=keyboard-interactive alice@127.0.0.1 'echo in' 2>&1)" in
	summary
fi

# For make bench: public-key logins of alice with each module (pam_gocap.so,
# pam_cap.so, the Go floor pam_floor.so, or none) on the bind mount
# $BENCH_MODULES, added to sshd's auth stack after common-auth (where
# pam-auth-update puts pam_gocap.so), the modules interleaved login by login,
# each login's output checked; then, in rounds, $SESSIONS concurrent
# sessions per module and what they cost: Pss_Anon and Pss_File from
# smaps_rollup and the threads of every `sshd: alice` process (the [priv]
# monitor, which loaded the module, and the session's process it forked),
# summed and divided by the sessions. Pss splits the monitor's
# copy-on-write pages between it and its child, so the sum counts them
# once. The modules are not read from Docker's overlay file system, where
# a library's file pages count as private dirty memory. LOGINS, SESSIONS
# and ROUNDS set the counts. Prints "ssh MODULE US..." and "sshsession
# MODULE SESSIONS PSS_ANON_KIB PSS_FILE_KIB THREADS" per round.
if [ "$MODULE" = sshbench ]; then
	BENCH_MODULES=${BENCH_MODULES:-/opt/pam-gocap-bench}
	SESSIONS=${SESSIONS:-6}
	ROUNDS=${ROUNDS:-3}
	LOGINS=${LOGINS:-21}
	mods=(pam_gocap.so pam_cap.so pam_floor.so none)
	for m in "${mods[@]}"; do
		[ $m = none ] || [ -f "$BENCH_MODULES/$m" ] || { echo "sshbench: no $BENCH_MODULES/$m" >&2; exit 1; }
	done
	pam-auth-update --package --disable gocap capability
	bench_module() { # bench_module MODULE: MODULE alone in sshd's auth stack
		sed -i '/pam-gocap-bench/d' /etc/pam.d/sshd
		[ "$1" = none ] || sed -i "/^@include common-auth/a auth optional $BENCH_MODULES/$1 # pam-gocap-bench" /etc/pam.d/sshd
	}
	alice_sshd() { pgrep -f '^sshd: alice' || true; }
	declare -A times
	for n in $(seq "$LOGINS"); do
		for k in 0 1 2 3; do
			m=${mods[$(((n + k) % 4))]}
			bench_module $m
			t0=$(date +%s%N)
			out=$(timeout 20 ssh -i /root/.ssh/id_alice -o BatchMode=yes alice@127.0.0.1 'echo in')
			t=$((($(date +%s%N) - t0) / 1000))
			[ "$out" = in ] || { echo "sshbench: login with $m failed: $out" >&2; exit 1; }
			times[$m]="${times[$m]:-} $t"
		done
	done
	for m in "${mods[@]}"; do
		echo "ssh $m${times[$m]:-}"
	done
	for r in $(seq "$ROUNDS"); do
		for k in 0 1 2 3; do
			m=${mods[$(((r + k) % 4))]}
			bench_module $m
			for _ in $(seq 100); do [ -z "$(alice_sshd)" ] && break; sleep 0.1; done
			[ -z "$(alice_sshd)" ] || { echo "sshbench: sessions of alice left over before $m" >&2; exit 1; }
			clients=()
			for s in $(seq "$SESSIONS"); do
				timeout 120 ssh -i /root/.ssh/id_alice -o BatchMode=yes alice@127.0.0.1 'echo ready; sleep 100' >/tmp/session.$s &
				clients+=($!)
			done
			for _ in $(seq 200); do
				[ "$(cat /tmp/session.* | grep -c ready)" = "$SESSIONS" ] && break
				sleep 0.1
			done
			sleep 1
			pids=$(alice_sshd)
			procs=$(echo $pids | wc -w)
			[ "$procs" = $((2 * SESSIONS)) ] ||
				{ echo "sshbench: $procs sshd processes of alice for $SESSIONS sessions with $m" >&2; exit 1; }
			# shellcheck disable=SC2086
			sums=$(cd /proc && awk '/^Pss_Anon:/ { a += $2 } /^Pss_File:/ { f += $2 } /^Threads:/ { t += $2 }
				END { print a, f, t }' $(for p in $pids; do echo $p/smaps_rollup $p/status; done))
			kill "${clients[@]}" 2>/dev/null || true
			wait 2>/dev/null || true
			rm -f /tmp/session.*
			echo "sshsession $m $SESSIONS $(echo $sums | awk -v n="$SESSIONS" '{ printf "%.0f %.0f %.2f", $1 / n, $2 / n, $3 / n }')"
		done
	done
	sed -i '/pam-gocap-bench/d' /etc/pam.d/sshd
	exit 0
fi

if [ "$MODULE" = compare ]; then
	if out=$(diff /tmp/results-pam_cap.so /tmp/results-pam_gocap.so); then
		ok "pam_gocap.so and pam_cap.so agree on $(wc -l </tmp/results-pam_gocap.so) results"
	else
		bad "pam_gocap.so and pam_cap.so differ (< pam_cap, > pam_gocap):"$'\n'"$out"
	fi
	summary
fi

RESULTS=/tmp/results-$MODULE
: >"$RESULTS"
record() { echo "$1 = $2" >>"$RESULTS"; }
short=${MODULE%.so}

use_module "$MODULE"
grep -q "^auth.*$MODULE" /etc/pam.d/common-auth && ok "$short: pam-auth-update put it in common-auth" ||
	bad "$short: not in common-auth"
# su run by root stops at pam_rootok, before common-auth: the module goes
# first in /etc/pam.d/su as well.
sed -i '/pam_gocap.so\|pam_cap.so/d' /etc/pam.d/su
sed -i "1i auth optional $MODULE" /etc/pam.d/su

declare -A PROBE=([alice]=ok [bob]=ok [erin]=ok [carol]="Operation not permitted" [dave]="Operation not permitted")

# 1. pamtester, every argument, listed, group, wildcard-less and unknown
# users: each run's exit code, for alice bob erin carol dave nosuchuser.
# authenticate succeeds for users a rule names (carol's rule is "none"),
# or for all with autoauth; setcred succeeds when it applied something,
# so not with defer (but "none" is never deferred) and not for users no
# rule names (unless default= names them, and authenticate let them by).
declare -A PT=([none]="0 0 0 0 1 1" [autoauth]="0 0 0 0 1 1" [keepcaps]="0 0 0 0 1 1"
	[defer]="1 1 1 0 1 1" [default=cap_chown]="0 0 0 0 1 1" [debug]="0 0 0 0 1 1")
i=0
for args in none autoauth keepcaps defer default=cap_chown debug; do
	echo "auth required $MODULE ${args#none}" >/etc/pam.d/pt$i
	codes=
	for u in alice bob erin carol dave nosuchuser; do
		out=$(pamtester pt$i $u authenticate setcred 2>&1)
		code=$?
		codes="$codes $code"
		record "pamtester [$args] $u" "$code $(echo $out)"
	done
	check "$short: pamtester [$args] exit codes for alice bob erin carol dave nosuchuser" "${codes# }" "${PT[$args]}"
	i=$((i + 1))
done
# The shipped example (all comments: nobody is named) and a wildcard rule.
printf 'cap_chown *\n' >/etc/security/star.conf
echo "auth required $MODULE config=/usr/share/pam-gocap/capability.conf.example" >/etc/pam.d/pt-example
echo "auth required $MODULE config=/etc/security/star.conf" >/etc/pam.d/pt-star
for u in alice dave; do
	record "pamtester example $u" "$(pamtester pt-example $u authenticate 2>&1 | tr '\n' ' ')"
	record "pamtester star $u" "$(pamtester pt-star $u authenticate setcred 2>&1 | tr '\n' ' ')"
done
check "$short: pamtester, example config names nobody" "$(pamtester pt-example alice authenticate >/dev/null 2>&1; echo $?)" 1
check "$short: pamtester, * names everybody" "$(pamtester pt-star dave authenticate >/dev/null 2>&1; echo $?)" 0
check "$short: pamtester listed user" "$(pamtester pt0 alice authenticate >/dev/null 2>&1; echo $?)" 0
check "$short: pamtester unlisted user" "$(pamtester pt0 dave authenticate >/dev/null 2>&1; echo $?)" 1
check "$short: pamtester autoauth" "$(pamtester pt1 dave authenticate >/dev/null 2>&1; echo $?)" 0

# 2 and 5. su: the shell's Inheritable set, and the capped raw-socket probe.
for u in alice bob erin carol dave; do
	out=$(su - $u -c 'grep CapInh /proc/self/status; rawprobe')
	check "$short: su $u CapInh" "$(echo "$out" | inh)" "${WANT[$u]}"
	check "$short: su $u rawprobe" "$(echo "$out" | sed -n 's/^raw socket: //p')" "${PROBE[$u]}"
	record "su $u" "$(echo $out)"
done

# 3 and 5. console login on a pseudo-terminal, with a password.
for u in alice carol; do
	out=$(expect -c "$SPAWN_LOGIN
		set timeout 15
		spawn_login
		send \"$u\r\"
		expect \"Password: \" { send \"secret-$u\r\" }
		expect -re {\\\$ $} { send \"grep CapInh /proc/self/status; rawprobe; exit\r\" }
		expect eof" | tr -d '\r')
	check "$short: login $u CapInh" "$(echo "$out" | inh)" "${WANT[$u]}"
	check "$short: login $u rawprobe" "$(echo "$out" | sed -n 's/^raw socket: //p')" "${PROBE[$u]}"
	record "login $u" "$(echo "$out" | inh)"
done

# 4 and 5. sshd: 20 public-key and 20 keyboard-interactive logins, each
# within 5 s with the right CapInh; then other users once each.
ssh_once() { # ssh_once METHOD USER -> "ms CapInh probe"
	local t0 out
	t0=$(date +%s%N)
	if [ "$1" = publickey ]; then
		out=$(timeout 20 ssh -i /root/.ssh/id_$2 -o BatchMode=yes -o PreferredAuthentications=publickey \
			$2@127.0.0.1 'grep CapInh /proc/self/status; rawprobe' 2>&1)
	else
		out=$(timeout 20 sshpass -p secret-$2 ssh -o PubkeyAuthentication=no \
			-o PreferredAuthentications=keyboard-interactive $2@127.0.0.1 'grep CapInh /proc/self/status; rawprobe' 2>&1)
	fi
	echo "$(ms_since $t0) $(echo "$out" | inh) $(echo "$out" | sed -n 's/^raw socket: //p' | tr ' ' _)"
}
for method in publickey keyboard-interactive; do
	good=0 slowest=0
	for n in $(seq 20); do
		read -r ms got probe < <(ssh_once $method alice)
		[ "$ms" -gt "$slowest" ] && slowest=$ms
		if [ "$ms" -lt 5000 ] && [ "$got" = "${WANT[alice]}" ] && [ "$probe" = ok ]; then
			good=$((good + 1))
		else
			echo "  $method login $n: ${ms} ms, CapInh '$got', probe '$probe'"
		fi
	done
	check "$short: 20 $method ssh logins under 5 s with CapInh and probe (slowest ${slowest} ms)" $good 20
done
for u in bob carol erin; do
	read -r ms got probe < <(ssh_once keyboard-interactive $u)
	check "$short: ssh $u CapInh" "$got" "${WANT[$u]}"
	check "$short: ssh $u rawprobe" "${probe//_/ }" "${PROBE[$u]}"
	record "ssh $u" "$got ${probe//_/ }"
done

# 6. defer + keepcaps + ambient: pam_end(PAM_SUCCESS|PAM_DATA_SILENT) in a
# forked child after setuid, as sucap does.
printf '^cap_sys_nice bob\ncap_net_raw alice\n' >/etc/security/ambient.conf
echo "auth required $MODULE defer keepcaps config=/etc/security/ambient.conf" >/etc/pam.d/deferhost
out=$(deferhost deferhost bob)
check "$short: deferred ambient for bob" "$(echo "$out" | sed -n 's/^CapAmb:\s*//p')" 0000000000800000
check "$short: deferred ambient is effective in bob's shell" "$(echo "$out" | sed -n 's/^CapEff:\s*//p')" 0000000000800000
record "deferhost bob" "$(echo $out)"
out=$(deferhost deferhost alice)
check "$short: deferred inheritable for alice" "$(echo "$out" | inh)" 0000000000002000
record "deferhost alice" "$(echo $out)"

# 6b. What reaches the session of su, login and sshd from "^cap_net_raw
# bob", with no arguments, keepcaps, keepcaps defer, and defer alone: the
# README's Ambient table, which gocap explain --service repeats.
printf '^cap_net_raw bob\n' >/etc/security/ambient-table.conf
session_caps() { # session_caps HOST -> "Inh only", "Inh + Amb" or "nothing"
	local out
	case $1 in
	su) out=$(su - bob -c 'grep -E "^Cap(Inh|Amb)" /proc/self/status') ;;
	login) out=$(expect -c "$SPAWN_LOGIN
		set timeout 15
		spawn_login
		send \"bob\r\"
		expect \"Password: \" { send \"secret-bob\r\" }
		expect -re {\\\$ $} { send \"grep -E '^Cap(Inh|Amb)' /proc/self/status; exit\r\" }
		expect eof" | tr -d '\r') ;;
	sshd) out=$(timeout 20 ssh -i /root/.ssh/id_bob -o BatchMode=yes bob@127.0.0.1 'grep -E "^Cap(Inh|Amb)" /proc/self/status') ;;
	esac
	local i a
	i=$(echo "$out" | sed -n 's/^CapInh:\s*//p' | tail -n 1)
	a=$(echo "$out" | sed -n 's/^CapAmb:\s*//p' | tail -n 1)
	case "$i $a" in
	"0000000000002000 0000000000002000") echo "Inh + Amb" ;;
	"0000000000002000 0000000000000000") echo "Inh only" ;;
	"0000000000000000 0000000000000000") echo nothing ;;
	*) echo "unexpected: CapInh '$i' CapAmb '$a'" ;;
	esac
}
declare -A AMBIENT=([su,none]="Inh only" [su,keepcaps]="Inh only" [su,keepcaps_defer]="Inh + Amb" [su,defer]=nothing
	[login,none]="Inh only" [login,keepcaps]="Inh only" [login,keepcaps_defer]="Inh + Amb" [login,defer]=nothing
	[sshd,none]="Inh only" [sshd,keepcaps]="Inh only" [sshd,keepcaps_defer]=nothing [sshd,defer]=nothing)
# pam-auth-update leaves a hand-edited common-auth alone: keep the
# original and put it back after.
cp /etc/pam.d/common-auth /tmp/common-auth.orig
for args in none keepcaps keepcaps_defer defer; do
	a="config=/etc/security/ambient-table.conf ${args#none}"
	a=${a//_/ }
	cp /tmp/common-auth.orig /etc/pam.d/common-auth
	sed -i "s|^\(auth.*$MODULE\).*|\1 $a|" /etc/pam.d/common-auth
	sed -i "1s|.*|auth optional $MODULE $a|" /etc/pam.d/su
	for host in su login sshd; do
		got=$(session_caps $host)
		check "$short: ^cap_net_raw through $host with [${args//_/ }]: $got" "$got" "${AMBIENT[$host,$args]}"
		record "ambient $host [$args]" "$got"
	done
done
cp /tmp/common-auth.orig /etc/pam.d/common-auth
sed -i "1s|.*|auth optional $MODULE|" /etc/pam.d/su

# 7. The helper as it starts in sshd's session child: a wrapper (the
# tests' fake helper) writes down what it inherited, then runs the real one.
if [ "$MODULE" = pam_gocap.so ]; then
	H=/usr/libexec/pam_gocap/pam_gocap-helper
	mv $H $H.real
	install -m 0755 /usr/local/bin/fakehelper $H
	printf 'report /tmp/sshd-helper.txt\nexec %s.real\n' $H >$H.script
	rm -f /tmp/sshd-helper.txt
	read -r ms got probe < <(ssh_once publickey alice)
	check "$short: ssh login through the wrapped helper" "$got $probe" "${WANT[alice]} ok"
	check "$short: the helper's descriptors in sshd" \
		"$(awk '$1 == "fd" { sub(/:.*/, "", $3); printf "%s %s,", $2, $3 }' /tmp/sshd-helper.txt)" "0 /dev/null,1 pipe,2 pipe,"
	check "$short: the helper's blocked, ignored and caught signals in sshd" \
		"$(awk '/^Sig(Blk|Ign|Cgt):/ { print $2 }' /tmp/sshd-helper.txt | sort -u)" 0000000000000000
	sed 's/^/  helper in sshd: /' /tmp/sshd-helper.txt
	mv $H.real $H
	rm -f $H.script
fi

# 8. logs: with debug, the matching line; with a typo, file and line.
if [ "$MODULE" = pam_gocap.so ]; then
	echo "auth required pam_gocap.so debug" >/etc/pam.d/dbg
	printf 'cap_chown bob\ncap_net_rw alice\n' >/etc/security/typo.conf
	echo "auth required pam_gocap.so config=/etc/security/typo.conf" >/etc/pam.d/typo
	pamtester dbg alice authenticate >/dev/null 2>&1
	pamtester typo alice authenticate setcred >/dev/null 2>&1
	in_log 'pam_gocap(dbg:auth): /etc/security/capability.conf:2: user "alice" matched "cap_net_raw"' &&
		ok "log: debug names the matching line" || bad "log: no debug line in /var/log/auth.log"
	in_log 'pam_gocap(typo:setcred): /etc/security/typo.conf:2:1: unknown capability "cap_net_rw" (did you mean cap_net_raw?)' &&
		ok "log: a typo is logged with file and line" || bad "log: no typo error in /var/log/auth.log"
	in_log 'pam_gocap(sshd:setcred): grant user="alice" iab=cap_net_raw from="/etc/security/capability.conf:2"' &&
		ok "log: an sshd login's grant is on record" || bad "log: no grant line for alice's ssh login"
	# "su -" is PAM service su-l, which includes su.
	in_log 'pam_gocap(su-l:setcred): grant user="carol" iab=none from="/etc/security/capability.conf:4"' &&
		ok "log: su's grant of none is on record" || bad "log: no grant line for carol's su"
	in_log 'pam_gocap(deferhost:setcred): grant user="bob" iab=^cap_sys_nice from="/etc/security/ambient.conf:1" deferred' &&
		ok "log: a deferred grant is on record" || bad "log: no deferred grant line for bob"

	# 9. The audit line through su and rsyslog, for users whose names
	# attack it (useradd refuses such names; NSS's files do not): one
	# holding the line's own fields, and one of 9 KB that would push iab=
	# past rsyslog's 8 KiB message.
	evil='evil user=alice iab=cap_sys_admin from=/etc/security/capability.conf;9'
	long=$(printf 'long%.0s' $(seq 2250))
	cp /etc/passwd /tmp/passwd.orig
	cp /etc/shadow /tmp/shadow.orig
	printf '%s:x:2200:2100::/tmp:/bin/sh\n%s:x:2201:2100::/tmp:/bin/sh\n' "$evil" "$long" >>/etc/passwd
	printf '%s:*:19000:0:99999:7:::\n%s:*:19000:0:99999:7:::\n' "$evil" "$long" >>/etc/shadow
	sed -i "1s|.*|auth optional $MODULE config=/etc/security/star.conf|" /etc/pam.d/su
	check "$short: su to a user named with the audit line's fields" \
		"$(su "$evil" -c 'grep CapInh /proc/self/status' | inh)" 0000000000000001
	check "$short: su to a user with a 9 KB name" "$(su "$long" -c 'grep CapInh /proc/self/status' | inh)" 0000000000000001
	sed -i "1s|.*|auth optional $MODULE|" /etc/pam.d/su
	cp /tmp/passwd.orig /etc/passwd
	cp /tmp/shadow.orig /etc/shadow
	in_log "pam_gocap(su:setcred): grant user=\"$evil\" iab=cap_chown from=\"/etc/security/star.conf:1\"" &&
		ok "log: the hostile name is quoted, one field" || bad "log: no quoted grant line for the hostile name"
	in_log "pam_gocap(su:setcred): grant user=\"${long:0:256}\"... iab=cap_chown from=\"/etc/security/star.conf:1\"" &&
		ok "log: the 9 KB name is cut, and iab= and from= stay in rsyslog's message" || bad "log: no cut grant line for the 9 KB name"
fi

# 9. Who may write the rules: capability.conf.d and its files must be
# root's and writable by no one else, or nobody gets anything; a drop-in
# that is not a regular file is never opened; default= never follows a
# refused file; 1,101 drop-ins fit under a limit of 1,024 open files.
# pam_cap.so reads no drop-ins.
if [ "$MODULE" = pam_gocap.so ]; then
	D=/etc/security/capability.conf.d
	RULE="a drop-in directory and its files must be owned by root and writable by no one else: refused"
	capinh() { su - "$1" -c 'grep -E "^Cap(Inh|Amb)" /proc/self/status' | sed -n 's/^Cap\(Inh\|Amb\):\s*//p' | tr '\n' ' '; }
	logged() { in_log "$1"; }
	groupadd cfgadm && usermod -aG cfgadm dave

	# a. root:cfgadm 2775, and dave, a member, writes himself a drop-in.
	install -d -o root -g cfgadm -m 2775 $D
	su dave -c "printf '%s\n' '^cap_dac_override,^cap_chown dave' >$D/10-mallory.conf"
	check "$short: a drop-in dave wrote in a directory cfgadm can write: dave gets nothing" "$(capinh dave)" "0000000000000000 0000000000000000 "
	check "$short: ... and nor does alice" "$(capinh alice)" "0000000000000000 0000000000000000 "
	why="$D: writable by group $(getent group cfgadm | cut -d: -f3) (mode 2775): $RULE"
	logged "pam_gocap(su-l:setcred): $why; nothing granted, not even default=" &&
		ok "log: the group-writable directory, and why" || bad "log: no line for the group-writable directory"
	gocap check >/tmp/check.out 2>&1
	grep -qF "$D: error: pam_gocap grants nothing while this directory is refused: $why" /tmp/check.out &&
		ok "gocap check: the group-writable directory, in the module's words" || bad "gocap check: $(cat /tmp/check.out)"

	# b. a drop-in dave owns, in root's 0755 directory.
	rm -rf $D && install -d -m 0755 $D
	install -o dave -g dave -m 0644 /dev/null $D/10-dave.conf && echo 'cap_chown dave' >$D/10-dave.conf
	check "$short: a drop-in dave owns: dave gets nothing" "$(capinh dave)" "0000000000000000 0000000000000000 "
	logged "pam_gocap(su-l:setcred): $D/10-dave.conf: owned by uid 2004, not root: $RULE; nothing granted, not even default=" &&
		ok "log: the drop-in dave owns, and why" || bad "log: no line for the drop-in dave owns"
	gocap check >/tmp/check.out 2>&1
	grep -qF "$D/10-dave.conf: owned by uid 2004, not root: $RULE" /tmp/check.out &&
		ok "gocap check: the drop-in dave owns, in the module's words" || bad "gocap check: $(cat /tmp/check.out)"

	# c. a drop-in that links to a FIFO: a writer waiting on the FIFO
	# would go on if anything opened it for reading.
	rm -rf $D && install -d -m 0755 $D
	rm -f /tmp/cap.fifo /tmp/fifo-opened && mkfifo -m 0644 /tmp/cap.fifo && ln -s /tmp/cap.fifo $D/10-fifo.conf
	timeout 30 sh -c 'exec 3>/tmp/cap.fifo; echo opened >/tmp/fifo-opened' &
	writer=$!
	check "$short: a drop-in linked to a FIFO: alice gets nothing" "$(capinh alice)" "0000000000000000 0000000000000000 "
	sleep 1
	[ ! -e /tmp/fifo-opened ] && ok "the FIFO behind a drop-in was never opened" || bad "the FIFO behind a drop-in was opened"
	kill $writer 2>/dev/null
	wait $writer 2>/dev/null
	logged "pam_gocap(su-l:setcred): $D/10-fifo.conf: a symbolic link, not a regular file: refused" &&
		ok "log: the drop-in that is a link" || bad "log: no line for the drop-in that is a link"

	# d. a world-writable file and default=: ghost, whom NSS does not
	# know, gets nothing.
	rm -rf $D
	install -m 0666 /etc/security/capability.conf /etc/security/ww.conf && chmod 0666 /etc/security/ww.conf
	echo "auth required pam_gocap.so config=/etc/security/ww.conf default=cap_net_raw" >/etc/pam.d/ghost
	pamtester ghost ghost setcred >/dev/null 2>&1
	rc=$?
	check "$short: world-writable config and default=: setcred for ghost, unknown to NSS, grants nothing (pamtester's exit code)" $rc 1
	logged "pam_gocap(ghost:setcred): /etc/security/ww.conf: world-writable: refused; nothing granted, not even default=" &&
		ok "log: the world-writable file" || bad "log: no line for the world-writable file"
	# What is not logged cannot be waited for: a second for a grant line
	# that rsyslog would write after the refusal's.
	sleep 1
	grep -q "pam_gocap(ghost:setcred): grant" /var/log/auth.log && bad "ghost was granted something" || ok "no grant for ghost"

	# e. 1,101 drop-ins under a limit of 1,024 open files.
	install -d -m 0755 $D
	for i in $(seq -w 0 1099); do echo "cap_kill nobody$i" >$D/$i.conf; done
	echo 'cap_chown dave' >$D/1100.conf
	check "$short: 1,101 drop-ins under ulimit -n 1024: dave's rule in the last" "$(ulimit -n 1024 && capinh dave)" "0000000000000001 0000000000000000 "
	check "$short: 1,101 drop-ins under ulimit -n 1024: alice's in the main file" "$(ulimit -n 1024 && capinh alice)" "${WANT[alice]} 0000000000000000 "

	rm -rf $D /etc/security/ww.conf /etc/pam.d/ghost /tmp/cap.fifo /tmp/check.out
	gpasswd -d dave cfgadm >/dev/null && groupdel cfgadm
fi
summary
