#!/bin/bash
# ldap-scenarios.sh up|down|back: @group rules for users and groups from an
# LDAP directory, inside the LDAP client container, with the directory up,
# stopped, and started again (docker/run.sh ldap moves between phases).
set -u
. "$(dirname "$0")/checks.sh"
PHASE=${1:?usage: ldap-scenarios.sh up|down|back}
NET_RAW=0000000000002000 SYS_NICE=0000000000800000 NONE=0000000000000000
# nslcd's bind_timelimit: no login may wait longer than that, plus the
# second a login takes here anyway.
LIMIT_MS=3000

members() { getent group "$1" | cut -d: -f4 | tr , '\n' | sort | paste -sd, -; }

ssh_caps() { # ssh_caps USER -> "ms CapInh"
	local t0 out
	t0=$(date +%s%N)
	out=$(timeout 20 ssh -i /root/.ssh/id_$1 -o BatchMode=yes $1@127.0.0.1 'grep CapInh /proc/self/status' 2>&1)
	echo "$(ms_since $t0) $(echo "$out" | inh)"
}
login_is() { # login_is USER WANT: an ssh login within the limit, with CapInh WANT
	local ms got
	read -r ms got < <(ssh_caps $1)
	check "$PHASE: ssh $1 CapInh" "$got" "$2"
	[ "$ms" -lt $LIMIT_MS ] && ok "$PHASE: ssh $1 took $ms ms" || bad "$PHASE: ssh $1 took $ms ms, over $LIMIT_MS"
}

case $PHASE in
up)
	check "getent group dirops lists the directory's members" "$(members dirops)" "dirk,dora,lena"
	login_is dirk $NET_RAW
	login_is dora $NET_RAW
	login_is lena $NET_RAW
	login_is diana $NONE
	login_is lou $SYS_NICE
	check "up: su dirk CapInh" "$(su - dirk -c 'grep CapInh /proc/self/status' | inh)" $NET_RAW
	check "up: su diana CapInh" "$(su - diana -c 'grep CapInh /proc/self/status' | inh)" $NONE
	check "up: gocap explain dirk names the @dirops line" "$(gocap explain dirk | sed -n 's/^rule *//p')" \
		"/etc/security/capability.conf:1: cap_net_raw  @dirops"
	;;
down)
	# The first lookup finds the directory gone, within nslcd's time limits;
	# once nslcd has given up on it (reconnect_retrytime), lookups answer at
	# once and the logins below are timed against LIMIT_MS.
	getent passwd dirk >/dev/null && bad "down: the directory still answers" || ok "down: the directory is gone"
	sleep 5
	login_is lou $SYS_NICE
	# lena is local, dirops is the directory's: her group rule grants nothing.
	login_is lena $NONE
	sleep 1
	grep -F 'pam_gocap(' /var/log/auth.log | grep -F 'group "dirops" is unknown to NSS' | grep -qF 'user "lena"' &&
		ok "down: the module logged why lena's group rule did not apply" || bad "down: no log line about dirops and lena"
	t0=$(date +%s%N)
	su - dirk -c true >/dev/null 2>&1 && bad "down: su dirk worked" || ok "down: su dirk refused"
	ms=$(ms_since $t0)
	[ "$ms" -lt $LIMIT_MS ] && ok "down: su dirk gave up after $ms ms" || bad "down: su dirk took $ms ms"
	;;
back)
	for _ in $(seq 30); do getent group dirops >/dev/null && break; sleep 1; done
	check "back: getent group dirops" "$(members dirops)" "dirk,dora,lena"
	login_is lena $NET_RAW
	login_is dirk $NET_RAW
	;;
esac
summary
