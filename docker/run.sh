#!/usr/bin/env bash
# run.sh [test|trace|demo|bench|ldap]: build the test image and run the scenarios
# (test), gocap trace's scenarios in a container that may trace (trace), the demo, the ssh login timing and what an open session costs (bench) in a container, or the
# directory-groups scenario (ldap) with a slapd container beside a client. Starts a Docker engine if none runs, and stops
# what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-test}
name=pam-gocap-$mode-$$
ctx=build/docker
# Image names: PAM_GOCAP_IMAGES sets their prefix, so that two checkouts can
# run their harnesses side by side without taking each other's images.
img=${PAM_GOCAP_IMAGES:-pam-gocap}

started=
cleanup() {
	docker rm -f "$name" "$name-directory" "$name-noaddr" >/dev/null 2>&1 || true
	docker network rm "$name" >/dev/null 2>&1 || true
	[ -z "$started" ] || bash docker/engine.sh stop
}
trap cleanup EXIT
bash scripts/deps.sh build docker
started=$(bash docker/engine.sh start)
bash docker/base-image.sh debian:bookworm-slim

make -s deb
rm -rf $ctx && mkdir -p $ctx
cp docker/setup.sh docker/scenarios.sh docker/trace-scenarios.sh docker/trace-hostile.sh docker/trace-programs.sh docker/checks.sh docker/demo.sh $ctx/
cp build/pam-gocap_*.deb $ctx/pam-gocap.deb
${CC:-cc} -O2 -Wall -o $ctx/rawprobe docker/c/rawprobe.c
${CC:-cc} -O2 -Wall -pthread -o $ctx/forkprobe docker/c/forkprobe.c
${CC:-cc} -O2 -Wall -o $ctx/bind80 docker/c/bind80.c
${CC:-cc} -O2 -Wall -o $ctx/mmapload docker/c/mmapload.c
${CC:-cc} -O2 -Wall -o $ctx/deferhost docker/c/deferhost.c -lpam
${CC:-cc} -O2 -Wall -o $ctx/fakehelper tests/c/fakehelper.c
${CC:-cc} -O2 -Wall -o $ctx/tiocsti docker/c/tiocsti.c
${CC:-cc} -O2 -Wall -o $ctx/nobpf docker/c/nobpf.c
# Debian's docker.io has no buildx: the classic builder, its deprecation
# notice kept out of sight unless the build fails.
build() { # build IMAGE DOCKERFILE CONTEXT
	DOCKER_BUILDKIT=0 docker build -q --network host --build-arg "TEST_IMAGE=$img/test" -t "$1" -f "$2" "$3" >/dev/null 2>build/docker-build.err ||
		{ cat build/docker-build.err >&2; exit 1; }
}
build "$img/test" docker/Dockerfile $ctx

# ldap: a directory container and a client on a private network.
if [ "$mode" = ldap ]; then
	build "$img/directory" docker/ldap/Dockerfile.directory docker/ldap
	cp docker/checks.sh docker/ldap/
	build "$img/ldap-client" docker/ldap/Dockerfile.client docker/ldap
	rm docker/ldap/checks.sh
	docker network create "$name" >/dev/null
	directory_up() {
		for _ in $(seq 60); do
			docker logs "$name-directory" 2>&1 | grep -q "directory ready" && return 0
			sleep 1
		done
		echo "ldap: the directory did not start" >&2
		return 1
	}
	docker run -d --name "$name-directory" --network "$name" --network-alias directory "$img/directory" >/dev/null
	docker run -d --name "$name" --network "$name" --hostname gocap-ldap --cap-add SYS_NICE "$img/ldap-client" sleep infinity >/dev/null
	directory_up
	docker exec "$name" sh -c 'rsyslogd && nslcd && /usr/sbin/sshd'
	status=0
	docker exec "$name" /opt/pam-gocap-test/ldap-scenarios.sh up | tee build/ldap-up.log || status=1
	docker stop -t 1 "$name-directory" >/dev/null
	docker exec "$name" /opt/pam-gocap-test/ldap-scenarios.sh down | tee build/ldap-down.log || status=1
	docker logs "$name-directory" >/dev/null 2>&1
	docker start "$name-directory" >/dev/null
	sleep 2
	directory_up
	docker exec "$name" /opt/pam-gocap-test/ldap-scenarios.sh back | tee build/ldap-back.log || status=1
	cat build/ldap-up.log build/ldap-down.log build/ldap-back.log |
		awk '/ passed, .* failed$/ { p += $1; f += $3 } END { printf "ldap: %d passed, %d failed\n", p, f }'
	exit $status
fi

# trace: tracefs and BPF need SYS_ADMIN and no seccomp or AppArmor profile
# (Docker here refuses --privileged); SYSLOG shows kernel addresses, for
# BPF's stacks. ICMP datagram sockets are off, so ping needs cap_net_raw,
# and ports below 1024 need cap_net_bind_service. The program table needs
# the capabilities it grants in the Bounding set (NET_ADMIN, SYS_NICE,
# DAC_READ_SEARCH), and runs again in a second container without SYSLOG.
if [ "$mode" = trace ]; then
	trace_container() { # trace_container NAME [--cap-add SYSLOG]
		local n=$1
		shift
		docker run -d --name "$n" --hostname gocap-trace --cap-add SYS_ADMIN "$@" \
			--cap-add NET_ADMIN --cap-add SYS_NICE --cap-add DAC_READ_SEARCH \
			--security-opt seccomp=unconfined --security-opt apparmor=unconfined \
			--sysctl net.ipv4.ping_group_range="1 0" --sysctl net.ipv4.ip_unprivileged_port_start=1024 \
			"$img/test" sleep infinity >/dev/null
		docker exec "$n" sh -c 'rsyslogd && /usr/sbin/sshd'
	}
	trace_container "$name" --cap-add SYSLOG
	trace_container "$name-noaddr"
	status=0
	docker exec "$name" /opt/pam-gocap-test/trace-scenarios.sh | tee build/docker-trace.log || status=1
	docker exec "$name" /opt/pam-gocap-test/trace-programs.sh | tee build/docker-trace-programs.log || status=1
	docker exec "$name-noaddr" /opt/pam-gocap-test/trace-programs.sh | tee build/docker-trace-programs-noaddr.log || status=1
	docker exec "$name" /opt/pam-gocap-test/trace-hostile.sh | tee build/docker-trace-hostile.log || status=1
	cat build/docker-trace.log build/docker-trace-programs.log build/docker-trace-programs-noaddr.log build/docker-trace-hostile.log |
		awk '/ passed, .* failed$/ { p += $1; f += $3 } END { printf "trace: %d passed, %d failed\n", p, f }'
	exit $status
fi

# SYS_NICE joins Docker's default capabilities for the ^cap_sys_nice cases.
# bench reads the smaps of alice's sshd processes, which needs SYS_PTRACE,
# and loads the modules it compares from a bind mount of this machine's
# file system: on Docker's overlay a library's file pages count as private
# dirty memory. pam_cap.so is this machine's, as in the rest of make bench.
extra=()
if [ "$mode" = bench ]; then
	make -s pam_gocap.so build/bench/pam_floor.so
	rm -rf build/bench/modules && mkdir -p build/bench/modules
	cp pam_gocap.so build/bench/pam_floor.so "${PAM_CAP:-/lib/x86_64-linux-gnu/security/pam_cap.so}" build/bench/modules/
	extra=(--cap-add SYS_PTRACE -v "$PWD/build/bench/modules:/opt/pam-gocap-bench:ro")
fi
docker run -d --name "$name" --hostname gocap-test --cap-add SYS_NICE "${extra[@]}" "$img/test" sleep infinity >/dev/null
docker exec "$name" sh -c 'rsyslogd && /usr/sbin/sshd && setcap cap_net_raw=ie /usr/local/bin/rawprobe'
case $mode in
test)
	status=0
	docker exec "$name" /opt/pam-gocap-test/scenarios.sh pam_gocap.so | tee build/docker-gocap.log || status=1
	docker exec "$name" /opt/pam-gocap-test/scenarios.sh pam_cap.so | tee build/docker-pamcap.log || status=1
	docker exec "$name" /opt/pam-gocap-test/scenarios.sh compare | tee build/docker-compare.log || status=1
	docker exec "$name" /opt/pam-gocap-test/scenarios.sh uninstall | tee build/docker-uninstall.log || status=1
	cat build/docker-gocap.log build/docker-pamcap.log build/docker-compare.log build/docker-uninstall.log |
		awk '/ passed, .* failed$/ { p += $1; f += $3 } END { printf "docker: %d passed, %d failed\n", p, f }'
	exit $status
	;;
demo) docker exec "$name" /opt/pam-gocap-test/demo.sh ;;
bench) docker exec "$name" /opt/pam-gocap-test/scenarios.sh sshbench ;;
esac
