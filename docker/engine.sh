#!/usr/bin/env bash
# engine.sh start|stop: make sure a Docker engine answers, starting dockerd
# (from Debian's docker.io, see scripts/deps.sh) when none does; "start" prints
# "started" when it started one. "stop" stops the daemon whose pid "start"
# kept in $STATE, so callers call it only when they started it.
set -euo pipefail
STATE=${PAM_GOCAP_DOCKERD_STATE:-/run/pam_gocap-dockerd.pid}

start() {
	if docker info >/dev/null 2>&1; then
		return 0
	fi
	echo "docker: starting dockerd" >&2
	dockerd >/var/log/pam_gocap-dockerd.log 2>&1 &
	echo $! >"$STATE"
	echo started
	for _ in $(seq 60); do
		docker info >/dev/null 2>&1 && return 0
		sleep 1
	done
	echo "docker: dockerd did not answer within 60 s; see /var/log/pam_gocap-dockerd.log" >&2
	return 1
}

stop() {
	[ -f "$STATE" ] || return 0
	local pid
	pid=$(cat "$STATE")
	rm -f "$STATE"
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 1
	done
	kill -9 "$pid" 2>/dev/null || true
}

"${1:?usage: engine.sh start|stop}"
