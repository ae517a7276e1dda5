#!/bin/sh
# Image set-up for the LDAP client: NSS order, local users and groups,
# ssh keys for directory users, and the rules.
set -eu
sed -i -e 's/^passwd:.*/passwd:         files ldap/' -e 's/^group:.*/group:          files ldap/' /etc/nsswitch.conf
chmod 0600 /etc/nslcd.conf
chown root:nslcd /etc/nslcd.conf
# lena: a local user in the directory group dirops; lou: a local user in a
# local group; dora: a directory user also in that local group.
groupadd -g 2300 localops
useradd -m -s /bin/bash -u 2200 lena
useradd -m -s /bin/bash -u 2201 -G localops lou
sed -i 's/^localops:x:2300:lou$/localops:x:2300:lou,dora/' /etc/group
for u in lena lou; do
	ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_$u
	install -d -o $u -g $u -m 0700 /home/$u/.ssh
	install -o $u -g $u -m 0600 /root/.ssh/id_$u.pub /home/$u/.ssh/authorized_keys
done
# Directory users' homes, by number: the directory is not there at build time.
for entry in dirk:3001 diana:3002 dora:3003; do
	u=${entry%:*} id=${entry#*:}
	ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_$u
	install -d -o $id -g $id -m 0700 /home/$u /home/$u/.ssh
	install -o $id -g $id -m 0600 /root/.ssh/id_$u.pub /home/$u/.ssh/authorized_keys
done
# su run by root stops at pam_rootok, before common-auth.
sed -i '1i auth optional pam_gocap.so' /etc/pam.d/su
cat >/etc/security/capability.conf <<'CONF'
cap_net_raw    @dirops
cap_sys_nice   @localops
none           *
CONF
