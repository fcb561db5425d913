#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# lab/bench.sh: throughput and CPU of TCP and UDP from client2 to client1
# (WAN -> LAN) through
#   kernel-nogro   the kernel of gw routing, GRO off on eth5
#   kernel-gro     the kernel of gw routing, GRO (+ UDP forwarding GRO) on eth5
#   kernel-tso     the kernel of gw routing, the clients sending with TSO on
#                  (super-packets, as virtual machines send): what the vm
#                  rows compare with; only with --io vm
#   fwd            grogso --gro=off --gso=software (a plain forwarder)
#   gro-sw         grogso, GRO and software GSO
#   gro-offload    grogso, GRO and offload to the kernel
#   gro-blocks     the same, AF_PACKET ports only, receiving through a
#                  ring of blocks (--packet-ring=blocks) instead of the
#                  default ring of slots
#   bridge         grogso in bridge mode, GRO and offload (what routing
#                  costs is gro-offload against this row)
# the grogso rows with AF_PACKET and with TAP ports, and with --io vm with
# TAP ports that are the clients' own NICs (lab/up.sh --io vm:
# super-packets from the clients' TSO straight into grogso, as from a
# virtual machine).  Every lab is built by lab/up.sh (the same wiring,
# steering and sender settings; only --io, --mode and grogso's flags
# differ) and all of them are up at once; the runs go round-robin (every
# row once, then every row again, ...), so a load that comes and goes on
# the machine hits every row alike.  Medians of N runs.  CPU: grogso's
# utime+stime (/proc/PID/stat), and for every row the softirq time of the
# whole machine (/proc/stat), in seconds per GB delivered.  Latency at
# light load: before each TCP run, the mean round trip of 20 pings 20 ms
# apart (what a ring of blocks costs shows there).  Writes bench.csv,
# rtt.csv, bench.txt and, with gnuplot, bench.png.
#
# Placement (--steer, the same for every row): rps, the default, steers
# the receive work of every interface of the lab over all CPUs by flow
# hash; split steers it to every CPU but CPU 0 and runs grogso there
# only (--cpu 0).  iperf3 is left to the scheduler either way: pinning
# it next to grogso would also squeeze the kernel rows onto one CPU.
#
# Run as root:  lab/bench.sh [--runs N] [--time S] [--udp-len B]
#                            [--io "packet tap"] [--configs "..."]
#                            [--steer split|rps] [--out DIR]
set -euo pipefail

. "$(dirname "$0")/lib.sh"

all_configs="kernel-nogro kernel-gro kernel-tso fwd gro-sw gro-offload gro-blocks bridge"

usage() {
	cat <<USAGE
usage: lab/bench.sh [--runs N] [--time S] [--udp-len B] [--io "packet tap"]
                    [--configs "ROW..."] [--steer split|rps] [--out DIR]

  --runs     runs per measurement, the median is reported [3]
  --time     seconds per iperf3 run [5]
  --udp-len  UDP payload (iperf3 -u -b 0 -l B) [1400]
  --io       grogso port kinds to measure: packet, tap, vm [packet tap]
  --configs  rows to measure [$all_configs]
             (kernel-tso only with --io vm, gro-blocks only with packet)
  --steer    rps: receive work spread over all CPUs by flow hash;
             split: receive work on all CPUs but CPU 0, grogso on CPU 0 [rps]
  --out      where bench.csv, bench.txt and bench.png go [./bench-out]
USAGE
}

runs=3 secs=5 ulen=1400 ios="packet tap" out=bench-out configs=$all_configs
steer=rps
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs=${2:?}; shift ;;
	--time) secs=${2:?}; shift ;;
	--udp-len) ulen=${2:?}; shift ;;
	--io) ios=${2:?}; shift ;;
	--configs) configs=${2:?}; shift ;;
	--steer) steer=${2:?}; shift ;;
	--out) out=${2:?}; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
for c in $configs; do
	case " $all_configs " in *" $c "*) ;; *) die "--configs: unknown row '$c'" ;; esac
done
case $steer in split | rps) ;; *) die "--steer must be rps or split" ;; esac
for io in $ios; do
	case $io in packet | tap | vm) ;; *) die "--io: packet, tap or vm, not '$io'" ;; esac
done

lab_need_root
lab_install "${LAB_RUN_PKGS[@]}"
grogso=$(lab_grogso) || exit 1
mkdir -p "$out"
out=$(cd "$out" && pwd)
csv=$out/bench.csv
echo "config,io,proto,run,gbps,bytes,grogso_cpu_s,softirq_s,busy_s,steal_s" >"$csv"
rttcsv=$out/rtt.csv
echo "config,io,run,rtt_ms" >"$rttcsv"
hz=$(getconf CLK_TCK)

# The rows, "CONFIG IO", each with a lab of its own and an iperf3 server.
rows=()
for c in $configs; do
	case $c in
	kernel-tso) case " $ios " in *" vm "*) rows+=("$c kernel") ;; esac ;;
	kernel-*) rows+=("$c kernel") ;;
	gro-blocks) case " $ios " in *" packet "*) rows+=("$c packet") ;; esac ;;
	*) for io in $ios; do rows+=("$c $io"); done ;;
	esac
done
declare -A pfx srv
cleanup() {
	local k
	for k in "${!pfx[@]}"; do
		[ -n "${srv[$k]:-}" ] && kill "${srv[$k]}" 2>/dev/null
		"$LAB_DIR/down.sh" --prefix "${pfx[$k]}" >/dev/null 2>&1
	done
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

n=0
for row in "${rows[@]}"; do
	read -r c io <<<"$row"
	n=$((n + 1))
	pfx[$row]=bn$$-$n-
	g=()
	case $c in
	kernel-nogro) a=(--io kernel --kernel-gro off) ;;
	kernel-gro) a=(--io kernel --kernel-gro on) ;;
	kernel-tso) a=(--io kernel --kernel-gro on --client-tso on) ;;
	fwd) a=(--io "$io" --gso software) g=(--gro=off) ;;
	gro-sw) a=(--io "$io" --gso software) ;;
	gro-offload) a=(--io "$io" --gso offload) ;;
	gro-blocks) a=(--io "$io" --gso offload) g=(--packet-ring=blocks) ;;
	bridge) a=(--io "$io" --mode bridge --gso offload) ;;
	esac
	step "$c, $io: lab/up.sh ${a[*]}${g[*]:+ -- ${g[*]}}"
	"$LAB_DIR/up.sh" --prefix "${pfx[$row]}" --grogso "$grogso" --steer "$steer" \
		"${a[@]}" -- "${g[@]}" || die "lab/up.sh failed for $c $io"
	lab_wait_ping "${pfx[$row]}" 198.18.1.2 || die "$c $io: client1 unreachable"
	ip netns exec "${pfx[$row]}client1" iperf3 -s >/dev/null 2>&1 &
	srv[$row]=$!
done
sleep 0.5

# the machine's CPU ticks, all CPUs summed: "softirq busy steal", where
# busy is everything but idle, iowait and steal (time the hypervisor gave
# to someone else: on a shared host it comes and goes, and a run that
# lost much of it runs slower without costing more CPU per byte)
cpu_ticks() {
	awk '$1 == "cpu" { print $8, $2 + $3 + $4 + $7 + $8, $9; exit }' /proc/stat
}
secs_of() { # TICKS_BEFORE TICKS_AFTER: the seconds between
	awk -v a="$1" -v b="$2" -v hz="$hz" 'BEGIN { print (b - a) / hz }'
}
proc_ticks() {  # utime + stime of PID, 0 when there is none
	if [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ]; then
		sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
	else
		echo 0
	fi
}

step "$runs x $secs s per row and protocol, round-robin"
for r in $(seq "$runs"); do
	for row in "${rows[@]}"; do
		read -r c io <<<"$row"
		P=${pfx[$row]}
		pid=$(lab_grogso_pid "$P" || true)
		# light load: the mean round trip of pings 20 ms apart
		rtt=$(ip netns exec "${P}client2" ping -q -c 20 -i 0.02 -W 1 198.18.1.2 |
			awk -F/ '/^rtt/ { print $5 }')
		echo "$c,$io,$r,${rtt:-nan}" >>"$rttcsv"
		for proto in tcp udp; do
			json=$(mktemp)
			read -r s0 u0 t0 < <(cpu_ticks)
			p0=$(proc_ticks "$pid")
			if [ "$proto" = tcp ]; then
				ip netns exec "${P}client2" iperf3 -c 198.18.1.2 -t "$secs" -J >"$json" || true
			else
				ip netns exec "${P}client2" iperf3 -c 198.18.1.2 -u -b 0 -l "$ulen" \
					-t "$secs" -J >"$json" || true
			fi
			read -r s1 u1 t1 < <(cpu_ticks)
			p1=$(proc_ticks "$pid")
			line=$(python3 - "$json" <<'PY'
import json, sys
try:
    e = json.load(open(sys.argv[1]))["end"]
    r = e.get("sum_received") or e["sum"]
    print("%.4f,%d" % (r["bits_per_second"] / 1e9, r["bytes"]))
except Exception:
    print("0,0")
PY
)
			rm -f "$json"
			cpu="$(secs_of "$p0" "$p1"),$(secs_of "$s0" "$s1")"
			cpu+=",$(secs_of "$u0" "$u1"),$(secs_of "$t0" "$t1")"
			echo "$c,$io,$proto,$r,$line,$cpu" >>"$csv"
			printf '  run %d  %-12s %-6s %-3s %s Gbit/s\n' "$r" "$c" "$io" "$proto" "${line%%,*}"
		done
	done
done

# ---- the table ----
python3 - "$csv" "$hz" "$steer" "$rttcsv" >"$out/bench.txt" <<'EOF'
import csv, math, statistics, sys

rows = list(csv.DictReader(open(sys.argv[1])))
hz = int(sys.argv[2])
steer = sys.argv[3]
rtts = list(csv.DictReader(open(sys.argv[4])))

def rtt(config, io):
    v = [float(r["rtt_ms"]) for r in rtts
         if (r["config"], r["io"]) == (config, io) and
         not math.isnan(float(r["rtt_ms"]))]
    return statistics.median(v) if v else float("nan")
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
print("medians of %d runs; CPU in seconds per GB delivered; placement: %s" %
      (max(int(r["run"]) for r in rows), steer) if rows else "no results")
print("%-13s %-6s | %-34s | %-34s | %s" % ("", "", "TCP", "UDP", "ping"))
print("%-13s %-6s | %7s %6s %9s %9s | %7s %6s %9s %9s | %6s" % (
    "config", "ports", "Gbit/s", "x kgro", "cpu s/GB", "sirq s/GB",
    "Gbit/s", "x kgro", "cpu s/GB", "sirq s/GB", "ms"))
for config, io in keys:
    cells = []
    for p in ("tcp", "udp"):
        g = med(config, io, p, "gbps")
        ratio = "%6.2f" % (g / base[p]) if base[p] else "%6s" % "-"
        cpu = per_gb(config, io, p, "softirq_s" if io == "kernel" else "grogso_cpu_s")
        sirq = per_gb(config, io, p, "softirq_s")
        cells.append("%7.2f %s %9.3f %9.3f" % (g, ratio, cpu, sirq))
    print("%-13s %-6s | %s | %s | %6.3f" % (config, io, cells[0], cells[1],
                                             rtt(config, io)))
print()
# what each row costs the whole machine, steal left out: on a shared host
# the throughput of a run follows the CPU the hypervisor left it, the CPU
# spent per GB much less so
def gb_of(r):
    return float(r["bytes"]) / 1e9
def busy_gb(config, io, proto):
    v = [float(r["busy_s"]) / gb_of(r) for r in rows
         if (r["config"], r["io"], r["proto"]) == (config, io, proto) and gb_of(r)]
    return statistics.median(v) if v else float("nan")
def steal(config, io, proto):
    v = [float(r["steal_s"]) / (float(r["busy_s"]) + float(r["steal_s"]))
         for r in rows if (r["config"], r["io"], r["proto"]) == (config, io, proto)
         and float(r["busy_s"]) + float(r["steal_s"]) > 0]
    return 100 * statistics.median(v) if v else float("nan")
kb = {p: busy_gb("kernel-gro", "kernel", p) for p in ("tcp", "udp")}
print("%-13s %-6s | %-27s | %s" % ("", "", "TCP", "UDP"))
print("%-13s %-6s | %9s %8s %8s | %9s %8s %8s" % (
    "config", "ports", "busy s/GB", "x kgro", "steal %",
    "busy s/GB", "x kgro", "steal %"))
for config, io in keys:
    cells = []
    for p in ("tcp", "udp"):
        b = busy_gb(config, io, p)
        x = kb[p] / b if b and not math.isnan(b) and not math.isnan(kb[p]) else float("nan")
        cells.append("%9.3f %8.2f %8.1f" % (b, x, steal(config, io, p)))
    print("%-13s %-6s | %s | %s" % (config, io, cells[0], cells[1]))
print()
print("busy s/GB: CPU time of the whole machine (every CPU, all namespaces; idle,")
print("  iowait and steal left out) per GB delivered; x kgro: kernel-gro's busy s/GB")
print("  over the row's, the throughput ratio the rows would have if the CPU were")
print("  all there was to it; steal %: the share of CPU time the hypervisor took.")
print()
print("cpu s/GB: grogso's user+system time; for the kernel rows, softirq time.")
print("sirq s/GB: softirq time of the whole machine (all namespaces) in the same run.")
print("x kgro: throughput relative to kernel-gro (the kernel forwarding with GRO on eth5).")
print("ping ms: mean round trip client2 -> client1 of 20 pings 20 ms apart, before each TCP run.")
grorows = [(c, io) for c, io in keys if c in ("gro-offload", "gro-blocks")]
# what a row is measured against: the kernel with the same traffic
def ref(io):
    return "kernel-tso" if io == "vm" else "kernel-gro"
if any(io == "vm" for c, io in keys):
    print("vm rows: the clients send super-packets (TSO on), into grogso's TAPs as")
    print("  their NICs; kernel-tso: the kernel routing the same, its ratio is theirs.")
for c, io in grorows:
    for p in ("tcp", "udp"):
        off = med(c, io, p, "gbps")
        parts = []
        for other, what in ((ref(io), ref(io)), ("fwd", "fwd"), ("bridge", "bridge")):
            oio = "kernel" if other.startswith("kernel") else io
            o = med(other, oio, p, "gbps")
            if o:
                parts.append("%.2f x %s" % (off / o, what))
        if parts:
            print("%s %s %s: %s" % (c, io, p.upper(), ", ".join(parts)))
# the same ratio run by run: the two were measured seconds apart, so a
# load that comes and goes on the machine cancels out of each pair
def by_run(config, io, proto):
    return {r["run"]: float(r["gbps"]) for r in rows
            if (r["config"], r["io"], r["proto"]) == (config, io, proto)}
for c, io in grorows:
    for p in ("tcp", "udp"):
        a, b = by_run(c, io, p), by_run(ref(io), "kernel", p)
        q = sorted(a[k] / b[k] for k in a if b.get(k))
        if q:
            print("%s %s %s / %s, run by run: median %.2f "
                  "(%.2f .. %.2f over %d runs)" %
                  (c, io, p.upper(), ref(io), statistics.median(q), q[0],
                   q[-1], len(q)))
def cost_by_run(config, io, proto):
    return {r["run"]: float(r["busy_s"]) / gb_of(r) for r in rows
            if (r["config"], r["io"], r["proto"]) == (config, io, proto) and gb_of(r)}
for c, io in grorows:
    for p in ("tcp", "udp"):
        a, b = cost_by_run(c, io, p), cost_by_run(ref(io), "kernel", p)
        q = sorted(b[k] / a[k] for k in a if b.get(k) and a[k])
        if q:
            print("%s %s %s / %s by CPU per GB, run by run: median %.2f "
                  "(%.2f .. %.2f over %d runs)" %
                  (c, io, p.upper(), ref(io), statistics.median(q), q[0],
                   q[-1], len(q)))
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
