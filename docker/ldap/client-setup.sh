#!/bin/sh
# client-setup.sh nslcd|sssd: image set-up for an LDAP client, with NSS
# asking the directory through nslcd (libnss-ldapd) or sssd (libnss-sss)
# after the local files: NSS order, local users and groups, ssh keys for
# directory users, and the rules.
set -eu
CLIENT=${1:?usage: client-setup.sh nslcd|sssd}
case $CLIENT in
nslcd)
	source=ldap
	chmod 0600 /etc/nslcd.conf
	chown root:nslcd /etc/nslcd.conf
	;;
sssd)
	source=sss
	chown root:root /etc/sssd/sssd.conf
	chmod 0600 /etc/sssd/sssd.conf
	# NSS only, as on the nslcd client: logins here use keys, and the
	# question is which groups a user has, not how the user authenticates.
	pam-auth-update --package --remove sss
	;;
esac
sed -i -e "s/^passwd:.*/passwd:         files $source/" -e "s/^group:.*/group:          files $source/" /etc/nsswitch.conf
# lena: a local user in the directory group dirops; lou: a local user in a
# local group; dora: a directory user also in that local group; liam: a
# local user in the directory group contractors.
groupadd -g 2300 localops
useradd -m -s /bin/bash -u 2200 lena
useradd -m -s /bin/bash -u 2201 -G localops lou
useradd -m -s /bin/bash -u 2202 liam
sed -i 's/^localops:x:2300:lou$/localops:x:2300:lou,dora/' /etc/group
for u in lena lou liam; do
	ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_$u
	install -d -o $u -g $u -m 0700 /home/$u/.ssh
	install -o $u -g $u -m 0600 /root/.ssh/id_$u.pub /home/$u/.ssh/authorized_keys
done
# Directory users' homes, by number: the directory is not there at build time.
for entry in dirk:3001 diana:3002 dora:3003 cora:3004 uma:3005 cody:3006; do
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
# Denying by a directory group, before a rule for everyone: the README's
# advice. pamtester runs it (service "deny"); the audit line says what applied.
cat >/etc/security/deny.conf <<'CONF'
none           @contractors
cap_net_raw    *
CONF
echo 'auth required pam_gocap.so config=/etc/security/deny.conf' >/etc/pam.d/deny
