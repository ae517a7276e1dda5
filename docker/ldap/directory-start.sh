#!/bin/sh
# Start slapd, add the seed entries (again after a restart: existing ones
# are skipped), and stay in the foreground with it.
set -eu
slapd -h 'ldap:/// ldapi:///' -u openldap -g openldap
for _ in $(seq 50); do
	ldapsearch -x -H ldap://127.0.0.1/ -b dc=gocap,dc=test -s base >/dev/null 2>&1 && break
	sleep 0.2
done
ldapadd -c -x -H ldap://127.0.0.1/ -D cn=admin,dc=gocap,dc=test -w admin-secret -f /opt/seed.ldif >/dev/null 2>&1 || true
echo "directory ready"
exec tail -f /dev/null
