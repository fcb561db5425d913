#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# lab/down.sh [--prefix P]: stop grogso (SIGTERM, then wait for it to
# write out what it holds), report its exit status, delete the lab's
# namespaces and state directory.  Safe to run when nothing is up.
# Exits 1 when grogso exited with a non-zero status.
set -uo pipefail

prefix=""
while [ $# -gt 0 ]; do
	case $1 in
	--prefix) prefix=${2?}; shift 2 ;;
	-h | --help) echo "usage: lab/down.sh [--prefix P]"; exit 0 ;;
	*) echo "usage: lab/down.sh [--prefix P]" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "down.sh: must run as root" >&2; exit 1; }

dir=${GROGSO_LAB_DIR:-/run/grogso-lab}/${prefix:-default}
rc=0

# only a pid that still runs grogso: the file may be stale
running() {
	[ -n "$1" ] && grep -q grogso "/proc/$1/cmdline" 2>/dev/null
}

pid=$(cat "$dir/grogso.pid" 2>/dev/null || true)
if running "$pid"; then
	kill -TERM "$pid"
	for _ in $(seq 100); do
		running "$pid" || break
		sleep 0.1
	done
	if running "$pid"; then
		echo "down.sh: grogso (pid $pid) did not exit in 10 s: killing it" >&2
		kill -KILL "$pid" 2>/dev/null
		rc=1
	fi
fi
if [ -n "$pid" ]; then
	# the shell that waited for grogso writes its status just after
	for _ in $(seq 20); do
		[ -f "$dir/grogso.status" ] && break
		sleep 0.05
	done
	if [ -f "$dir/grogso.status" ]; then
		st=$(cat "$dir/grogso.status")
		echo "grogso exited with status $st"
		[ "$st" = 0 ] || rc=1
	fi
fi

for ns in "${prefix}client1" "${prefix}gw" "${prefix}client2"; do
	ip netns del "$ns" 2>/dev/null || true
done
rm -rf "$dir"
exit "$rc"
