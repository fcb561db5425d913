#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/run.sh: install what the build and the tests need, build grogso
# with warnings as errors, run `make check` (unit, golden and, as root,
# the lab tests), then build again with AddressSanitizer and
# UndefinedBehaviorSanitizer and run the unit, script and live lab tests
# under them, and, when clang is there, run each fuzz harness for a while.
#
# Usage (as root on Debian 12, from the top of a clone):  tests/run.sh
# Environment: NO_INSTALL=1 skips apt-get; FUZZ_SECONDS (default 60, 0 = no
# fuzzing); JOBS (default: number of CPUs).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=${JOBS:-$(nproc)}
fuzz_seconds=${FUZZ_SECONDS:-60}

step() { printf '\n==== %s\n' "$*"; }

packages=(
	build-essential autoconf automake libtool pkg-config
	libev-dev libmnl-dev libpcap-dev libcmocka-dev
	python3 python3-scapy tshark mandoc
	iproute2 iputils-ping iperf3 tcpdump ethtool
	clang libclang-rt-14-dev
)

if [ "${NO_INSTALL:-0}" != 1 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "tests/run.sh: installing packages needs root (or set NO_INSTALL=1)" >&2
		exit 1
	fi
	step "installing packages"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

step "autoreconf"
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi

step "build with -Werror"
rm -rf build/werror
mkdir -p build/werror
(cd build/werror && ../../configure -q --enable-werror && make -s -j"$jobs")

step "make check (unit, golden, man page, lab)"
(cd build/werror && make -j"$jobs" check) || {
	for f in build/werror/tests/*.log build/werror/tests/*/*.log; do
		[ -f "$f" ] || continue
		case "$f" in *test-suite.log) ;; *) grep -q '^FAIL\|^ERROR' "${f%.log}.trs" 2>/dev/null || continue ;; esac
		echo "---- $f"; tail -n 60 "$f"
	done
	exit 1
}

step "make distcheck (lab tests skipped)"
(cd build/werror && GROGSO_SKIP_LAB=1 make -s distcheck >distcheck.log 2>&1) || {
	tail -n 80 build/werror/distcheck.log; exit 1
}
echo "distcheck: ok"

# the daemon's reports land in files (its stderr is the lab's), among
# them leaks found when a lab stops it: any file there is a failure
step "unit, script and live lab tests under ASan + UBSan"
rm -rf build/sanitize
mkdir -p build/sanitize/reports
san=$top/build/sanitize/reports
(cd build/sanitize && ../../configure -q --enable-sanitize && make -s -j"$jobs" &&
	ASAN_OPTIONS=detect_leaks=1:log_path=$san/asan \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$san/ubsan \
	make -j"$jobs" check-sanitize) || {
	tail -n 60 build/sanitize/test-suite.log 2>/dev/null
	head -n 60 "$san"/* 2>/dev/null
	exit 1
}
if [ -n "$(ls -A "$san")" ]; then
	echo "sanitizer reports:"
	head -n 60 "$san"/*
	exit 1
fi

if [ "$fuzz_seconds" -gt 0 ] && command -v clang >/dev/null; then
	step "fuzzing, ${fuzz_seconds}s per harness"
	rm -rf build/fuzz
	mkdir -p build/fuzz
	harnesses=(parse gro gso fwd reasm)
	(cd build/fuzz && ../../configure -q --enable-fuzz CC=clang && make -s -j"$jobs" \
		"${harnesses[@]/#/tests/fuzz/fuzz_}")
	pids=()
	for h in "${harnesses[@]}"; do
		mkdir -p "build/fuzz/corpus-$h"
		build/fuzz/tests/fuzz/fuzz_$h -max_total_time="$fuzz_seconds" -max_len=9000 \
			-print_final_stats=1 "build/fuzz/corpus-$h" >"build/fuzz/fuzz_$h.log" 2>&1 &
		pids+=($!)
	done
	fail=0
	for i in "${!harnesses[@]}"; do
		h=${harnesses[$i]}
		if wait "${pids[$i]}"; then
			echo "fuzz_$h: $(grep -m1 'stat::number_of_executed_units' "build/fuzz/fuzz_$h.log" || echo done)"
		else
			echo "fuzz_$h: FAILED"; tail -n 40 "build/fuzz/fuzz_$h.log"; fail=1
		fi
	done
	[ "$fail" = 0 ] || exit 1
fi

step "all tests passed"
