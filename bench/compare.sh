#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/compare.sh: build and run bench/engine (grogso) and bench/dpdk
# (DPDK librte_gro/librte_gso) one after the other and print one table
# with the ratio grogso / DPDK per row (below 1: grogso is faster).
#
# usage: bench/compare.sh [-b builddir] [-n runs] [-c cpu]
#   -b DIR  use (and update with make) this configured build directory;
#           default: configure in a temporary directory, removed at exit
#   -n N    run each program N times, alternating, and keep each row's
#           smallest value (default 1)
#   -c CPU  pin both programs to CPU with taskset (default: the last CPU;
#           -c none: no pinning)
#
# Needs libdpdk-dev (pkg-config libdpdk) at configure time for bench/dpdk.

set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=
runs=1
cpu=
tmp=

usage() {
	echo "usage: $0 [-b builddir] [-n runs] [-c cpu|none]" >&2
	exit 2
}

while getopts b:n:c:h opt; do
	case $opt in
	b) builddir=$OPTARG ;;
	n) runs=$OPTARG ;;
	c) cpu=$OPTARG ;;
	*) usage ;;
	esac
done
case $runs in
''|*[!0-9]*|0) usage ;;
esac

cleanup() {
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

tmp=$(mktemp -d "${TMPDIR:-/tmp}/grogso-compare.XXXXXX")
if [ -z "$builddir" ]; then
	builddir=$tmp/build
	mkdir "$builddir"
	echo "configuring in $builddir" >&2
	(cd "$builddir" && "$srcdir/configure" -q) >&2
fi
[ -f "$builddir/Makefile" ] || { echo "$0: $builddir is not configured" >&2; exit 1; }

jobs=$(nproc 2>/dev/null || echo 1)
have_engine=1
have_dpdk=1
make -s -C "$builddir" -j"$jobs" bench/engine >&2 || {
	echo "$0: bench/engine did not build; grogso columns stay empty" >&2
	have_engine=0
}
make -s -C "$builddir" -j"$jobs" bench/dpdk >&2 || {
	echo "$0: bench/dpdk did not build (configure found no libdpdk?);" \
		"DPDK columns stay empty" >&2
	have_dpdk=0
}
[ $have_engine = 1 ] || [ $have_dpdk = 1 ] || exit 1

pin=
if [ "$cpu" != none ] && command -v taskset >/dev/null 2>&1; then
	[ -n "$cpu" ] || cpu=$(( $(nproc) - 1 ))
	pin="taskset -c $cpu"
else
	cpu=none
fi

i=1
while [ "$i" -le "$runs" ]; do
	echo "run $i/$runs (cpu $cpu)" >&2
	if [ $have_engine = 1 ]; then
		$pin "$builddir/bench/engine" > "$tmp/engine.$i"
	fi
	if [ $have_dpdk = 1 ]; then
		$pin "$builddir/bench/dpdk" > "$tmp/dpdk.$i"
	fi
	i=$((i + 1))
done

[ -f "$tmp/engine.1" ] && sed -n '1,2p' "$tmp/engine.1"
[ -f "$tmp/dpdk.1" ] && sed -n '1,3p' "$tmp/dpdk.1"
echo "runs: $runs, cpu: $cpu, smallest value per row kept"
echo

set --
for f in "$tmp"/engine.* "$tmp"/dpdk.*; do
	[ -f "$f" ] && set -- "$@" "$f"
done

# Rows are keyed by their first 34 characters, which both programs print
# with "%-34s".  bench/engine GRO rows: total ns base ns gro ns segs/agg
# q1..q3 target; GSO rows: value ns.  bench/dpdk GRO rows: mode total ns
# base ns gro ns in/out q1..q3; GSO rows: mode value ns.
awk -v have_engine=$have_engine '
function key(line) {
	k = substr(line, 1, 34)
	sub(/ +$/, "", k)
	return k
}
function keep_min(arr, k, v) {
	if (!(k in arr) || v + 0 < arr[k] + 0)
		arr[k] = v
}
FNR == 1 { engine = FILENAME ~ /\/engine\.[0-9]+$/ }
/^gro / || /^gso / {
	k = key($0)
	n = split(substr($0, 35), f, " ")
	if (engine) {
		if ($1 == "gro") {
			keep_min(g_gro, k, f[5])
			g_merge[k] = f[7]
		} else {
			keep_min(g_gso, k, f[1])
		}
		next
	}
	m = f[1]
	if (!((k, m) in seen)) {
		seen[k, m] = 1
		order[++rows] = k SUBSEP m
	}
	if ($1 == "gro") {
		keep_min(d_val, k SUBSEP m, f[6])
		d_merge[k, m] = f[8]
	} else {
		keep_min(d_val, k SUBSEP m, f[2])
	}
}
END {
	printf "%-34s %-9s %9s %9s %8s %8s %8s\n", "row", "DPDK mode",
	       "grogso", "DPDK", "ratio", "merge g", "merge D"
	for (i = 1; i <= rows; i++) {
		split(order[i], km, SUBSEP)
		k = km[1]; m = km[2]
		gso = k ~ /^gso /
		g = gso ? ((k in g_gso) ? g_gso[k] : "") : ((k in g_gro) ? g_gro[k] : "")
		d = d_val[k, m]
		ratio = (g != "" && d + 0 > 0) ? sprintf("%.2f", g / d) : "-"
		line = sprintf("%-34s %-9s %9s %9s %8s", k, m,
			       g == "" ? "-" : sprintf("%.1f", g),
			       sprintf("%.1f", d), ratio)
		if (!gso)
			line = line sprintf(" %8s %8s",
					    (k in g_merge) ? g_merge[k] : "-",
					    d_merge[k, m])
		print line
	}
	if (rows == 0)
		for (k in g_gro)
			printf "%-34s %-9s %9.1f\n", k, "-", g_gro[k]
}
' "$@"

cat <<'EOF'

ns per packet (gro rows) or per output segment (gso rows); ratio = grogso / DPDK.
grogso gro = bench/engine "gro", DPDK gro = bench/dpdk "gro": both the median,
over alternating pairs of 64-frame batches each timed alone, of (GRO batch -
baseline batch); the baselines are grogso's copy+parse and DPDK's mbuf
alloc + copy + rte_net_get_ptype + free (see bench/README).
merge g / merge D = packets in / packets out (bench/engine segs/agg, bench/dpdk in/out).
"csum verified": grogso GRO verifies each TCP checksum; for DPDK the application
does it with rte_ipv4_udptcp_cksum_verify() before GRO (librte_gro never checks).
DPDK modes and GSO variants: see the notes at the end of bench/dpdk's output.
EOF
