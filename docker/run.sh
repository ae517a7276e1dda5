#!/usr/bin/env bash
# run.sh [test|demo|bench]: build the test image and run the scenarios
# (test), the demo, or the ssh login timing (bench) in a container. Starts a Docker engine if none runs, and stops
# what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-test}
name=pam-gocap-$mode-$$
ctx=build/docker

started=
cleanup() {
	docker rm -f "$name" >/dev/null 2>&1 || true
	[ -z "$started" ] || bash docker/engine.sh stop
}
trap cleanup EXIT
started=$(bash docker/engine.sh start)
bash docker/base-image.sh debian:bookworm-slim

make -s deb
rm -rf $ctx && mkdir -p $ctx
cp docker/setup.sh docker/scenarios.sh docker/demo.sh $ctx/
cp build/pam-gocap_*.deb $ctx/pam-gocap.deb
${CC:-cc} -O2 -Wall -o $ctx/rawprobe docker/c/rawprobe.c
${CC:-cc} -O2 -Wall -o $ctx/deferhost docker/c/deferhost.c -lpam
# Debian's docker.io has no buildx: the classic builder, its deprecation
# notice kept out of sight unless the build fails.
DOCKER_BUILDKIT=0 docker build -q --network host -t pam-gocap/test -f docker/Dockerfile $ctx >/dev/null 2>build/docker-build.err ||
	{ cat build/docker-build.err >&2; exit 1; }

# SYS_NICE joins Docker's default capabilities for the ^cap_sys_nice cases.
docker run -d --name "$name" --hostname gocap-test --cap-add SYS_NICE pam-gocap/test sleep infinity >/dev/null
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
