#!/bin/sh
# demo.sh: log two users in over ssh and show what their shells got.
set -eu
echo "## /etc/security/capability.conf"
grep -v '^#' /etc/security/capability.conf
echo
echo "## /usr/local/bin/rawprobe opens a raw ICMP socket; its file capabilities:"
getcap /usr/local/bin/rawprobe
for u in alice carol; do
	echo
	echo "## ssh $u@127.0.0.1, password through PAM; the shell runs: grep CapInh, capsh --decode, rawprobe"
	sshpass -p "secret-$u" ssh -o PubkeyAuthentication=no -o PreferredAuthentications=keyboard-interactive \
		"$u@127.0.0.1" 'grep CapInh /proc/self/status; /usr/sbin/capsh --decode=$(sed -n "s/^CapInh:\t//p" /proc/self/status); rawprobe' || true
done
