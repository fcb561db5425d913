#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# lab/bench.sh: throughput and CPU of TCP and UDP from client2 to client1
# (WAN -> LAN) through
#   kernel-nogro   the kernel forwarding, GRO off on eth5
#   kernel-gro     the kernel forwarding, GRO (+ UDP forwarding GRO) on eth5
#   fwd            grogso --gro=off --gso=software (a plain forwarder)
#   gro-sw         grogso, GRO and software GSO
#   gro-offload    grogso, GRO and offload to the kernel
# the grogso rows with AF_PACKET and with TAP ports.  N runs each, medians.
# CPU: grogso's utime+stime (/proc/PID/stat), and for every row the
# softirq time of the whole machine (/proc/stat), in seconds per GB
# delivered.  Writes bench.csv, bench.txt and, with gnuplot, bench.png.
#
# Run as root:  lab/bench.sh [--runs N] [--time S] [--udp-len B]
#                            [--io "packet tap"] [--only kernel|grogso]
#                            [--out DIR]
set -euo pipefail

. "$(dirname "$0")/lib.sh"

usage() {
	cat <<EOF
usage: lab/bench.sh [--runs N] [--time S] [--udp-len B] [--io "packet tap"]
                    [--only kernel|grogso] [--out DIR]

  --runs     runs per measurement, the median is reported [3]
  --time     seconds per iperf3 run [5]
  --udp-len  UDP payload (iperf3 -u -b 0 -l B) [1400]
  --io       grogso port kinds to measure [packet tap]
  --only     only the kernel rows or only the grogso rows
  --out      where bench.csv, bench.txt and bench.png go [./bench-out]
EOF
}

runs=3 secs=5 ulen=1400 ios="packet tap" only= out=bench-out
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs=${2:?}; shift ;;
	--time) secs=${2:?}; shift ;;
	--udp-len) ulen=${2:?}; shift ;;
	--io) ios=${2:?}; shift ;;
	--only) only=${2:?}; shift ;;
	--out) out=${2:?}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

lab_need_root
lab_install "${LAB_RUN_PKGS[@]}"
[ "$only" = kernel ] || { grogso=$(lab_grogso) || exit 1; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
csv=$out/bench.csv
echo "config,io,proto,run,gbps,bytes,grogso_cpu_s,softirq_s" >"$csv"

hz=$(getconf CLK_TCK)
P=   # the namespace prefix of the lab being measured
kind=none
srv=

teardown() {
	if [ -n "$srv" ]; then
		kill "$srv" 2>/dev/null || true
		wait "$srv" 2>/dev/null || true
		srv=
	fi
	case "$kind" in
	kernel) kfwd_down "$P" ;;
	grogso) "$LAB_DIR/down.sh" --prefix "$P" >/dev/null 2>&1 || true ;;
	esac
	kind=none
}
trap 'teardown' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

softirq_ticks() { awk '$1 == "cpu" { print $8; exit }' /proc/stat; }
proc_ticks() {  # utime + stime of PID, 0 when there is none
	if [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ]; then
		sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
	else
		echo 0
	fi
}

start_server() {
	ip netns exec "${P}client1" iperf3 -s >/dev/null 2>&1 &
	srv=$!
	for _ in $(seq 50); do
		ip netns exec "${P}client1" ss -ltn 2>/dev/null | grep -q ':5201 ' && return 0
		sleep 0.1
	done
	die "iperf3 server did not start"
}

# measure CONFIG IO: all runs of TCP and UDP on the lab that is up.
measure() {
	local config=$1 io=$2 proto r pid s0 s1 p0 p1 json line
	pid=
	[ "$kind" = grogso ] && pid=$(lab_grogso_pid "$P")
	for proto in tcp udp; do
		for r in $(seq "$runs"); do
			json=$(mktemp)
			s0=$(softirq_ticks) p0=$(proc_ticks "$pid")
			if [ "$proto" = tcp ]; then
				ip netns exec "${P}client2" iperf3 -c 198.18.1.2 -t "$secs" -J >"$json" || true
			else
				ip netns exec "${P}client2" iperf3 -c 198.18.1.2 -u -b 0 -l "$ulen" \
					-t "$secs" -J >"$json" || true
			fi
			s1=$(softirq_ticks) p1=$(proc_ticks "$pid")
			line=$(python3 - "$json" <<'EOF'
import json, sys
try:
    e = json.load(open(sys.argv[1]))["end"]
    r = e.get("sum_received") or e["sum"]
    print("%.4f,%d" % (r["bits_per_second"] / 1e9, r["bytes"]))
except Exception:
    print("0,0")
EOF
)
			rm -f "$json"
			echo "$config,$io,$proto,$r,$line,$(awk -v a="$p0" -v b="$p1" -v hz="$hz" \
				'BEGIN { print (b - a) / hz }'),$(awk -v a="$s0" -v b="$s1" -v hz="$hz" \
				'BEGIN { print (b - a) / hz }')" >>"$csv"
			printf '  %-12s %-6s %-3s run %d: %s Gbit/s\n' "$config" "$io" "$proto" "$r" "${line%%,*}"
		done
	done
}

n=0
if [ "$only" != grogso ]; then
	for config in kernel-nogro kernel-gro; do
		n=$((n + 1)) P=bk$$n kind=kernel
		step "$config"
		kfwd_up "$P" || die "kernel-forwarding lab failed"
		[ "$config" = kernel-gro ] && kfwd_gro "$P" on
		lab_wait_ping "$P" 198.18.1.2 || die "no path through the kernel"
		start_server
		measure "$config" kernel
		teardown
	done
fi
if [ "$only" != kernel ]; then
	for io in $ios; do
		for config in fwd gro-sw gro-offload; do
			n=$((n + 1)) P=bg$$n kind=grogso
			case "$config" in
			fwd) gso=software extra=(--gro=off) ;;
			gro-sw) gso=software extra=() ;;
			gro-offload) gso=offload extra=() ;;
			esac
			step "$config, $io ports"
			"$LAB_DIR/up.sh" --prefix "$P" --io "$io" --gso "$gso" \
				--grogso "$grogso" -- "${extra[@]}" || die "lab/up.sh failed"
			lab_wait_ping "$P" 198.18.1.2 || die "no path through grogso"
			start_server
			measure "$config" "$io"
			teardown
		done
	done
fi

# ---- the table ----
python3 - "$csv" "$hz" >"$out/bench.txt" <<'EOF'
import csv, statistics, sys

rows = list(csv.DictReader(open(sys.argv[1])))
hz = int(sys.argv[2])
keys = []
for r in rows:
    k = (r["config"], r["io"])
    if k not in keys:
        keys.append(k)

def med(config, io, proto, field):
    v = [float(r[field]) for r in rows
         if (r["config"], r["io"], r["proto"]) == (config, io, proto)]
    return statistics.median(v) if v else 0.0

def per_gb(config, io, proto, field):
    b = med(config, io, proto, "bytes")
    return med(config, io, proto, field) / (b / 1e9) if b else float("nan")

base = {p: med("kernel-gro", "kernel", p, "gbps") for p in ("tcp", "udp")}
print("medians of %d runs; CPU in seconds per GB delivered" %
      max(int(r["run"]) for r in rows) if rows else "no results")
print("%-13s %-6s | %-34s | %-34s" % ("", "", "TCP", "UDP"))
print("%-13s %-6s | %7s %6s %9s %9s | %7s %6s %9s %9s" % (
    "config", "ports", "Gbit/s", "x kgro", "cpu s/GB", "sirq s/GB",
    "Gbit/s", "x kgro", "cpu s/GB", "sirq s/GB"))
for config, io in keys:
    cells = []
    for p in ("tcp", "udp"):
        g = med(config, io, p, "gbps")
        ratio = g / base[p] if base[p] else float("nan")
        cpu = per_gb(config, io, p, "softirq_s" if io == "kernel" else "grogso_cpu_s")
        sirq = per_gb(config, io, p, "softirq_s")
        cells.append("%7.2f %6.2f %9.3f %9.3f" % (g, ratio, cpu, sirq))
    print("%-13s %-6s | %s | %s" % (config, io, cells[0], cells[1]))
print()
print("cpu s/GB: grogso's user+system time; for the kernel rows, softirq time.")
print("sirq s/GB: softirq time of the whole machine (all namespaces) in the same run.")
print("x kgro: throughput relative to kernel-gro (the kernel forwarding with GRO on eth5).")
EOF
cat "$out/bench.txt"

if command -v gnuplot >/dev/null 2>&1; then
	python3 - "$csv" >"$out/bench.dat" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
keys = []
for r in rows:
    k = (r["config"], r["io"])
    if k not in keys:
        keys.append(k)
for c, io in keys:
    m = [statistics.median([float(r["gbps"]) for r in rows
                            if (r["config"], r["io"], r["proto"]) == (c, io, p)] or [0])
         for p in ("tcp", "udp")]
    label = c if io == "kernel" else "%s/%s" % (c, io)
    print('"%s" %.3f %.3f' % (label, m[0], m[1]))
EOF
	gnuplot <<EOF
set terminal pngcairo size 1000,500 noenhanced
set output "$out/bench.png"
set title "grogso lab: client2 -> client1 throughput (median of $runs runs)"
set ylabel "Gbit/s"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -30
set key top right
set grid ytics
set yrange [0:*]
plot "$out/bench.dat" using 2:xtic(1) title "TCP", "" using 3 title "UDP -l $ulen"
EOF
	say "chart: $out/bench.png"
fi
say "raw numbers: $csv"
