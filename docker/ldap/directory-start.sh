#!/bin/sh
# Start slapd, add the seed entries (again after a restart: existing ones
# are skipped), and stay in the foreground with it.
set -eu
# The ldapi socket's directory: Debian 12's package leaves it in the image,
# Debian 13's leaves it to systemd-tmpfiles, which a container does not run.
install -d -o openldap -g openldap /run/slapd
slapd -h 'ldap:/// ldapi:///' -u openldap -g openldap
for _ in $(seq 50); do
	ldapsearch -x -H ldap://127.0.0.1/ -b dc=gocap,dc=test -s base >/dev/null 2>&1 && break
	sleep 0.2
done
ldapadd -c -x -H ldap://127.0.0.1/ -D cn=admin,dc=gocap,dc=test -w admin-secret -f /opt/seed.ldif >/dev/null 2>&1 || true
echo "directory ready"
exec tail -f /dev/null
