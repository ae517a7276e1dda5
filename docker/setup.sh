#!/bin/sh
# Runs once while the test image is built: install pam_gocap the way an
# administrator would, and make the users, groups and services the
# scenarios use.
set -eu
T=/opt/pam-gocap-test

dpkg -i $T/pam-gocap.deb
# libpam-cap's own profile is on by default; the scenarios choose the module.
pam-auth-update --package --disable capability
pam-auth-update --package --enable gocap

install -m 0755 $T/rawprobe $T/forkprobe $T/bind80 $T/mmapload $T/checkloop $T/deferhost $T/fakehelper /usr/local/bin/

groupadd -g 2100 netops
useradd -m -s /bin/bash -u 2001 alice
useradd -m -s /bin/bash -u 2002 -G netops bob
useradd -m -s /bin/bash -u 2003 carol
useradd -m -s /bin/bash -u 2004 dave
useradd -m -s /bin/bash -u 2005 -g netops erin
for u in alice bob carol dave erin; do echo "$u:secret-$u"; done | chpasswd

cat >/etc/security/capability.conf <<'CONF'
# pam_gocap test rules
cap_net_raw               alice
cap_net_raw,cap_sys_nice  @netops
none                      carol
CONF

# sshd on 127.0.0.1: public keys, and passwords only through PAM
# (keyboard-interactive), so that pam_authenticate runs for those.
mkdir -p /run/sshd /root/.ssh
ssh-keygen -A >/dev/null
cat >/etc/ssh/sshd_config.d/pam_gocap-test.conf <<'SSHD'
ListenAddress 127.0.0.1
UsePAM yes
KbdInteractiveAuthentication yes
PasswordAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
SSHD
for u in alice bob carol dave erin; do
	ssh-keygen -q -t ed25519 -N '' -f /root/.ssh/id_$u
	install -d -o $u -g "$(id -gn $u)" -m 0700 /home/$u/.ssh
	install -o $u -g "$(id -gn $u)" -m 0600 /root/.ssh/id_$u.pub /home/$u/.ssh/authorized_keys
done
printf 'Host 127.0.0.1\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n' >/root/.ssh/config

# Containers cannot set the audit login uid.
sed -i 's/^session\s\+required\s\+pam_loginuid.so/session optional pam_loginuid.so/' /etc/pam.d/sshd /etc/pam.d/login
# No kernel log in a container.
sed -i '/imklog/s/^/#/' /etc/rsyslog.conf
