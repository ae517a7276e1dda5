#!/usr/bin/env bash
# run.sh [test|trace|demo|bench|ldap|build] [RELEASE]: build the test image
# for Debian RELEASE (bookworm, the default, or trixie; also
# PAM_GOCAP_RELEASE) and run the scenarios (test), gocap trace's scenarios in
# a container that may trace (trace), the demo, the ssh login timing and
# what an open session costs (bench) in a container, or the directory-groups scenario (ldap) with a slapd
# container beside two clients, one with nslcd and one with sssd; build
# builds the package inside RELEASE with its own Go and gcc. Counts end
# with "MODE (RELEASE): N passed, N failed". Starts a Docker engine if none
# runs, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-test}
release=${2:-${PAM_GOCAP_RELEASE:-bookworm}}
case $release in
bookworm | trixie) ;;
*) echo "run.sh: unknown release $release (bookworm or trixie)" >&2; exit 2 ;;
esac
case $mode in
test | trace | ldap | demo | bench | build) ;;
*) echo "run.sh: unknown mode $mode (test, trace, ldap, demo, bench, build)" >&2; exit 2 ;;
esac
base=debian:$release-slim
name=pam-gocap-$mode-$release-$$
# Per release, so that two releases' runs keep their contexts and logs apart.
out=build/docker/$release
ctx=$out/ctx-$mode
# Image names: PAM_GOCAP_IMAGES sets their prefix, so that two checkouts can
# run their harnesses side by side without taking each other's images.
img=${PAM_GOCAP_IMAGES:-pam-gocap}

started=
cleanup() {
	docker rm -f "$name" "$name-directory" "$name-sssd" "$name-differences" "$name-noaddr" >/dev/null 2>&1 || true
	docker network rm "$name" >/dev/null 2>&1 || true
	[ -z "$started" ] || bash docker/engine.sh stop
}
trap cleanup EXIT
bash scripts/deps.sh build docker
started=$(bash docker/engine.sh start)
bash docker/base-image.sh "$base"
mkdir -p "$out"

# Debian's docker.io has no buildx: the classic builder, its deprecation
# notice kept out of sight unless the build fails.
build() { # build IMAGE DOCKERFILE CONTEXT
	DOCKER_BUILDKIT=0 docker build -q --network host --build-arg "BASE=$base" \
		--build-arg "TEST_IMAGE=$img/test-$release" -t "$1" -f "$2" "$3" >/dev/null 2>"$out/build-$mode.err" ||
		{ cat "$out/build-$mode.err" >&2; exit 1; }
}
# counts MODE LOG...: the sum of the logs' "N passed, N failed" lines.
counts() {
	local m=$1
	shift
	cat "$@" | awk -v m="$m" -v r="$release" '/^[0-9]+ passed, [0-9]+ failed$/ { p += $1; f += $3 }
		END { printf "%s (%s): %d passed, %d failed\n", m, r, p, f }'
}

# build: the package from this tree, built inside RELEASE by its own
# golang-go and gcc, offline, from the host's module cache (read-only).
# Debian 12's Go (1.19) is older than go.mod's.
if [ "$mode" = build ]; then
	[ "$release" != bookworm ] || { echo "run.sh: build needs Go 1.24: trixie, not bookworm" >&2; exit 2; }
	build "$img/build-$release" docker/Dockerfile.build docker
	status=0
	docker run --rm --name "$name" --network none \
		-v "$PWD:/src:ro" -v "$(go env GOMODCACHE):/gomodcache:ro" \
		"$img/build-$release" /src/docker/debian-build.sh | tee "$out/build.log" || status=1
	counts build "$out/build.log"
	exit $status
fi

# The package: PAM_GOCAP_DEB when a driver (releases.sh) built it once for
# every run, or built here.
deb=${PAM_GOCAP_DEB:-}
if [ -z "$deb" ]; then
	make -s deb
	deb=$(ls build/pam-gocap_*.deb)
fi
rm -rf "$ctx" && mkdir -p "$ctx"
cp docker/setup.sh docker/scenarios.sh docker/trace-scenarios.sh docker/trace-programs.sh docker/trace-hostile.sh \
	docker/checks.sh docker/demo.sh "$ctx/"
cp "$deb" "$ctx/pam-gocap.deb"
${CC:-cc} -O2 -Wall -o "$ctx/rawprobe" docker/c/rawprobe.c
${CC:-cc} -O2 -Wall -pthread -o "$ctx/forkprobe" docker/c/forkprobe.c
${CC:-cc} -O2 -Wall -o "$ctx/deferhost" docker/c/deferhost.c -lpam
${CC:-cc} -O2 -Wall -o "$ctx/fakehelper" tests/c/fakehelper.c
${CC:-cc} -O2 -Wall -o "$ctx/bind80" docker/c/bind80.c
${CC:-cc} -O2 -Wall -o "$ctx/mmapload" docker/c/mmapload.c
${CC:-cc} -O2 -Wall -o "$ctx/checkloop" docker/c/checkloop.c
${CC:-cc} -O2 -Wall -o "$ctx/tiocsti" docker/c/tiocsti.c
${CC:-cc} -O2 -Wall -o "$ctx/nobpf" docker/c/nobpf.c
build "$img/test-$release" docker/Dockerfile "$ctx"

# ldap: a directory container and two clients on a private network, one
# with nslcd and one with sssd.
if [ "$mode" = ldap ]; then
	build "$img/directory-$release" docker/ldap/Dockerfile.directory docker/ldap
	rm -rf "$out/ctx-ldap-clients" && cp -r docker/ldap "$out/ctx-ldap-clients"
	build "$img/ldap-client-$release" docker/ldap/Dockerfile.client "$out/ctx-ldap-clients"
	build "$img/sssd-client-$release" docker/ldap/Dockerfile.sssd "$out/ctx-ldap-clients"
	docker network create "$name" >/dev/null
	directory_up() {
		for _ in $(seq 60); do
			docker logs "$name-directory" 2>&1 | grep -q "directory ready" && return 0
			sleep 1
		done
		echo "ldap: the directory did not start" >&2
		docker logs "$name-directory" >&2
		return 1
	}
	docker run -d --name "$name-directory" --network "$name" --network-alias directory "$img/directory-$release" >/dev/null
	docker run -d --name "$name" --network "$name" --hostname gocap-ldap --cap-add SYS_NICE "$img/ldap-client-$release" sleep infinity >/dev/null
	docker run -d --name "$name-sssd" --network "$name" --hostname gocap-sssd --cap-add SYS_NICE "$img/sssd-client-$release" sleep infinity >/dev/null
	directory_up
	docker exec "$name" sh -c 'rsyslogd && nslcd && /usr/sbin/sshd'
	docker exec "$name-sssd" sh -c 'rsyslogd && sssd -D && /usr/sbin/sshd'
	# phase PHASE: both clients' scenarios for PHASE, side by side.
	phase() {
		docker exec "$name" /opt/pam-gocap-test/ldap-scenarios.sh "$1" nslcd >"$out/ldap-$1.log" 2>&1 &
		local nslcd=$!
		docker exec "$name-sssd" /opt/pam-gocap-test/ldap-scenarios.sh "$1" sssd >"$out/sssd-$1.log" 2>&1 &
		local sssd=$!
		local s=0
		wait $nslcd || s=1
		wait $sssd || s=1
		sed "s/^/nslcd $release: /" "$out/ldap-$1.log"
		sed "s/^/sssd $release: /" "$out/sssd-$1.log"
		return $s
	}
	status=0
	phase up || status=1
	docker stop -t 1 "$name-directory" >/dev/null
	phase down || status=1
	docker logs "$name-directory" >/dev/null 2>&1
	docker start "$name-directory" >/dev/null
	sleep 2
	directory_up
	phase back || status=1
	counts ldap "$out"/ldap-{up,down,back}.log "$out"/sssd-{up,down,back}.log
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
			"$img/test-$release" sleep infinity >/dev/null
		docker exec "$n" sh -c 'rsyslogd && /usr/sbin/sshd'
	}
	trace_container "$name" --cap-add SYSLOG
	trace_container "$name-noaddr"
	status=0
	docker exec "$name" /opt/pam-gocap-test/trace-scenarios.sh | tee "$out/trace.log" || status=1
	docker exec "$name" /opt/pam-gocap-test/trace-programs.sh | tee "$out/trace-programs.log" || status=1
	docker exec "$name-noaddr" /opt/pam-gocap-test/trace-programs.sh | tee "$out/trace-programs-noaddr.log" || status=1
	docker exec "$name" /opt/pam-gocap-test/trace-hostile.sh | tee "$out/trace-hostile.log" || status=1
	counts trace "$out"/trace{,-programs,-programs-noaddr,-hostile}.log
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
docker run -d --name "$name" --hostname gocap-test --cap-add SYS_NICE "${extra[@]}" "$img/test-$release" sleep infinity >/dev/null
docker exec "$name" sh -c 'rsyslogd && /usr/sbin/sshd && setcap cap_net_raw=ie /usr/local/bin/rawprobe'
case $mode in
test)
	status=0
	for step in pam_gocap.so pam_cap.so compare uninstall; do
		docker exec "$name" /opt/pam-gocap-test/scenarios.sh $step | tee "$out/test-$step.log" || status=1
	done
	# The README's differences from pam_cap.so, against this release's
	# pam_cap.so: the module tests that pin them (tests/differential_test.go),
	# built here, in a container of the image that may unshare and mount.
	[ -n "${PAM_GOCAP_DEB:-}" ] ||
		make -s "$PWD/build/test/pam_gocap.so" "$PWD/build/test/pam_gocap-helper" "$PWD/build/test/pamhost" "$PWD/build/test/libnss_nssfail.so.2"
	go test -c -o "$out/tests.test" ./tests
	docker run --rm --name "$name-differences" --cap-add SYS_ADMIN --security-opt apparmor=unconfined \
		-v "$PWD/build/test:$PWD/build/test:ro" -v "$PWD/$out/tests.test:/usr/local/bin/tests.test:ro" \
		-e PAM_GOCAP_BUILD="$PWD/build/test" "$img/test-$release" \
		tests.test -test.run 'DifferencesFromPamCap|LogsDifferFromPamCap' -test.v 2>&1 |
		awk '{ print } /^ *--- PASS/ { p++ } /^ *--- FAIL/ { f++ }
			END { printf "%d passed, %d failed\n", p, f; exit f > 0 || p == 0 }' | tee "$out/test-differences.log" || status=1
	counts docker "$out"/test-{pam_gocap.so,pam_cap.so,compare,uninstall,differences}.log
	exit $status
	;;
demo) docker exec "$name" /opt/pam-gocap-test/demo.sh ;;
bench) docker exec "$name" /opt/pam-gocap-test/scenarios.sh sshbench ;;
esac
