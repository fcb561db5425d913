#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# lab/throughput.sh: TCP throughput client2 -> client1 (iperf3, one
# stream, senders with TSO/GSO off) through, side by side in one run:
#   kernel   the kernel of gw routing, GRO on its ingress veth (eth5)
#   fwd      grogso --gro=off --gso=software: a plain forwarder
#   gro-sw   grogso, GRO and software GSO
#   gro-off  grogso, GRO and GSO offload to the kernel
# Every lab is built by lab/up.sh with the same options (only --io and
# the grogso arguments differ), all are up at once, and the runs go
# round-robin (kernel, fwd, gro-sw, gro-off, kernel, ...) so that a load
# that comes and goes on the machine hits every path alike.  Prints the
# medians, the retransmits, the segments client1 had to queue out of
# order, grogso's CPU per GB, and the two ratios the issue asks for:
# gro-off / kernel (target >= 0.6) and gro-off / fwd (target >= 2).
#
# Run as root:  lab/throughput.sh [--runs N] [--time S] [--io packet|tap]
#                                 [--grogso PATH] [--out DIR]
#                                 [-- UP_ARGS...]   (e.g. --steer none)
set -euo pipefail

. "$(dirname "$0")/lib.sh"

usage() {
	cat <<EOF
usage: lab/throughput.sh [--runs N] [--time S] [--io packet|tap]
                         [--paths "kernel fwd gro-sw gro-off"]
                         [--grogso PATH] [--out DIR] [-- UP_ARGS...]
  --runs   runs per path, the median is reported [3]
  --time   seconds per iperf3 run [10]
  --io     grogso's ports [packet]
  --paths  which paths to measure [kernel fwd gro-sw gro-off]
  --out    where throughput.csv and throughput.txt go [./throughput-out]
  UP_ARGS  passed to every lab/up.sh (--steer, --kernel-drop)
EOF
}

runs=3 secs=10 io=packet out=throughput-out
paths="kernel fwd gro-sw gro-off"
upargs=()
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs=${2:?}; shift ;;
	--time) secs=${2:?}; shift ;;
	--io) io=${2:?}; shift ;;
	--paths) paths=${2:?}; shift ;;
	--grogso) GROGSO=${2:?}; shift ;;
	--out) out=${2:?}; shift ;;
	--) shift; upargs=("$@"); break ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

lab_need_root
lab_install "${LAB_RUN_PKGS[@]}"
grogso=$(lab_grogso) || exit 1
mkdir -p "$out"
out=$(cd "$out" && pwd)
csv=$out/throughput.csv
echo "path,run,gbps,retrans,ofo,grogso_cpu_s,bytes" >"$csv"
hz=$(getconf CLK_TCK)

declare -A pfx srv
base=tp$$
cleanup() {
	local p
	for p in $paths; do
		[ -n "${srv[$p]:-}" ] && kill "${srv[$p]}" 2>/dev/null
		[ -n "${pfx[$p]:-}" ] &&
			"$LAB_DIR/down.sh" --prefix "${pfx[$p]}" >/dev/null 2>&1
	done
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for p in $paths; do
	pfx[$p]=$base${p//-/}
	case $p in
	kernel) a=(--io kernel) g=() ;;
	fwd) a=(--io "$io" --gso software) g=(--gro=off) ;;
	gro-sw) a=(--io "$io" --gso software) g=() ;;
	gro-off) a=(--io "$io" --gso offload) g=() ;;
	*) die "unknown path $p" ;;
	esac
	step "$p: lab/up.sh ${a[*]} ${upargs[*]} -- ${g[*]}"
	"$LAB_DIR/up.sh" --prefix "${pfx[$p]}" --grogso "$grogso" "${a[@]}" \
		"${upargs[@]}" -- "${g[@]}" || die "lab/up.sh failed for $p"
	lab_wait_ping "${pfx[$p]}" 198.18.1.2 || die "$p: no path"
	ip netns exec "${pfx[$p]}client1" iperf3 -s >/dev/null 2>&1 &
	srv[$p]=$!
done
sleep 0.5

proc_ticks() { # utime + stime of PID, 0 when there is none
	if [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ]; then
		sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
	else
		echo 0
	fi
}
ofo() { # segments client1 queued out of order so far
	ip netns exec "$1client1" awk '/^TcpExt:/ { if (!h) { split($0, k); h = 1 }
		else { for (i = 2; i <= NF; i++) if (k[i] == "TCPOFOQueue") print $i } }' \
		/proc/net/netstat
}

step "$runs x $secs s per path, round-robin"
for r in $(seq "$runs"); do
	for p in $paths; do
		P=${pfx[$p]}
		pid=$(lab_grogso_pid "$P" || true)
		json=$(mktemp)
		o0=$(ofo "$P") t0=$(proc_ticks "$pid")
		ip netns exec "${P}client2" iperf3 -c 198.18.1.2 -t "$secs" -J \
			>"$json" || true
		o1=$(ofo "$P") t1=$(proc_ticks "$pid")
		line=$(python3 - "$json" <<'EOF'
import json, sys
try:
    e = json.load(open(sys.argv[1]))["end"]
    print("%.4f,%d,%d" % (e["sum_received"]["bits_per_second"] / 1e9,
                          e["sum_sent"].get("retransmits", 0),
                          e["sum_received"]["bytes"]))
except Exception:
    print("0,0,0")
EOF
)
		rm -f "$json"
		IFS=, read -r gbps rtx bytes <<<"$line"
		cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN { print (b - a) / hz }')
		echo "$p,$r,$gbps,$rtx,$((o1 - o0)),$cpu,$bytes" >>"$csv"
		printf '  run %d %-8s %6s Gbit/s  retrans %5s  ofo %6s\n' \
			"$r" "$p" "$gbps" "$rtx" "$((o1 - o0))"
	done
done

python3 - "$csv" >"$out/throughput.txt" <<'EOF'
import csv, statistics, sys

rows = list(csv.DictReader(open(sys.argv[1])))
paths = []
for r in rows:
    if r["path"] not in paths:
        paths.append(r["path"])

def med(p, f):
    v = [float(r[f]) for r in rows if r["path"] == p]
    return statistics.median(v) if v else float("nan")

n = max(int(r["run"]) for r in rows)
print("TCP client2 -> client1, medians of %d runs" % n)
print("%-8s %8s %8s %8s %8s %9s  %s" % ("path", "Gbit/s", "min", "max",
      "retrans", "ofo", "grogso cpu s/GB"))
for p in paths:
    v = [float(r["gbps"]) for r in rows if r["path"] == p]
    b = med(p, "bytes")
    cpu = med(p, "grogso_cpu_s") / (b / 1e9) if b and p != "kernel" else float("nan")
    print("%-8s %8.2f %8.2f %8.2f %8d %9d  %.3f" % (p, med(p, "gbps"), min(v),
          max(v), med(p, "retrans"), med(p, "ofo"), cpu))
g = {p: med(p, "gbps") for p in paths}
if "gro-off" in g:
    if "kernel" in g and g["kernel"]:
        print("gro-off / kernel = %.2f (target >= 0.6)" % (g["gro-off"] / g["kernel"]))
    if "fwd" in g and g["fwd"]:
        print("gro-off / fwd    = %.2f (target >= 2)" % (g["gro-off"] / g["fwd"]))
EOF
echo
cat "$out/throughput.txt"
say "raw numbers: $csv"
