#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# lab/demo.sh: the lab notes' experiment in one command.  Installs what is
# missing, builds grogso if needed, brings up client1 - gw (grogso) -
# client2, sends iperf3 TCP and UDP (-l 600) from client2 to client1
# (WAN -> LAN), captures in client1, and prints one screen: throughput,
# aggregates, what happened to the IPv4 IDs of the first UDP aggregates,
# and the large packets client1 received.  Removes the lab on exit.
#
# Run as root from the top of a clone (Debian 12):  lab/demo.sh
set -euo pipefail

. "$(dirname "$0")/lib.sh"

usage() {
	cat <<EOF
usage: lab/demo.sh [--io packet|tap|vm] [--mode route|bridge]
                   [--gso auto|offload|software] [--time S] [--keep]

  --io     how grogso reaches the namespaces' interfaces [packet]
  --mode   route or bridge [route]
  --gso    passed to grogso: auto, offload or software [auto]
  --time   seconds of each iperf3 run [5]
  --keep   leave the lab up (and the capture in the work directory)

Environment: GROGSO=path uses that binary instead of building one;
NO_INSTALL=1 skips apt-get.
EOF
}

io=packet mode=route gso=auto secs=5 keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--io) io=${2:?}; shift ;;
	--io=*) io=${1#*=} ;;
	--mode) mode=${2:?}; shift ;;
	--mode=*) mode=${1#*=} ;;
	--gso) gso=${2:?}; shift ;;
	--gso=*) gso=${1#*=} ;;
	--time) secs=${2:?}; shift ;;
	--time=*) secs=${1#*=} ;;
	--keep) keep=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
case "$io" in packet | tap | vm) ;; *) die "--io: packet, tap or vm" ;; esac
case "$mode" in route | bridge) ;; *) die "--mode: route or bridge" ;; esac
case "$gso" in auto | offload | software) ;; *) die "--gso: auto, offload or software" ;; esac

lab_need_root

step "packages"
lab_install "${LAB_BUILD_PKGS[@]}" "${LAB_RUN_PKGS[@]}"

step "grogso"
grogso=$(lab_grogso) || exit 1
say "using $grogso"

P=demo$$
c1=${P}client1 c2=${P}client2
state=$(lab_state "$P")
work=$(mktemp -d /tmp/grogso-demo.XXXXXX)
pids=()
lab_started=0

cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [ "$keep" = 1 ]; then
		say ""
		say "lab left up (prefix $P); remove it with: lab/down.sh --prefix $P"
		say "captures and iperf3 results in $work"
	else
		[ "$lab_started" = 1 ] && "$LAB_DIR/down.sh" --prefix "$P" >/dev/null 2>&1
		rm -rf "$work"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step "lab: $mode mode, $io ports, --gso=$gso (prefix $P)"
lab_started=1
"$LAB_DIR/up.sh" --prefix "$P" --io "$io" --mode "$mode" --gso "$gso" \
	--grogso "$grogso" || die "lab/up.sh failed"
dst=198.18.1.2
if ! lab_wait_ping "$P" "$dst"; then
	[ -f "$state/grogso.err" ] && tail -n 20 "$state/grogso.err" >&2
	die "client2 cannot reach client1 ($dst) through grogso"
fi

ip netns exec "$c1" iperf3 -s >/dev/null 2>&1 &
pids+=($!)
# Every UDP datagram (to see each ID) but only the large TCP packets.
ip netns exec "$c1" tcpdump -ni eth0 -s 128 -w "$work/client1.pcap" \
	'ip and (udp port 5201 or (tcp and greater 1515))' 2>"$work/tcpdump.err" &
tcpdump_pid=$!
pids+=("$tcpdump_pid")
for _ in $(seq 50); do
	ip netns exec "$c1" ss -ltn 2>/dev/null | grep -q ':5201 ' && break
	sleep 0.1
done
sleep 1         # tcpdump needs a moment before it captures

step "iperf3 TCP, ${secs} s, client2 -> client1"
ip netns exec "$c2" iperf3 -c "$dst" -t "$secs" -J >"$work/tcp.json" ||
	warn "iperf3 TCP failed"
step "iperf3 UDP -l 600 -b 200M, ${secs} s, client2 -> client1"
ip netns exec "$c2" iperf3 -c "$dst" -u -l 600 -b 200M -t "$secs" -J >"$work/udp.json" ||
	warn "iperf3 UDP failed"
sleep 0.5
kill -INT "$tcpdump_pid" 2>/dev/null || true
wait "$tcpdump_pid" 2>/dev/null || true

# The aggregate log is buffered: stop grogso (it flushes at exit), or with
# --keep ask it to reopen the log, which writes out what it holds.
if [ "$keep" = 1 ]; then
	pid=$(lab_grogso_pid "$P") && kill -HUP "$pid" 2>/dev/null || true
	sleep 0.5
else
	lab_stop_grogso "$P"
fi
cp "$state/agg.json" "$work/agg.json" 2>/dev/null || : >"$work/agg.json"

echo
echo "=========================================================================="
printf 'grogso demo: %s mode, %s ports, --gso=%s, %s s per run\n' "$mode" "$io" "$gso" "$secs"
printf '%s\n' "client2 --> [eth5  gw: grogso  eth4] --> client1 (tcpdump -s 128)"

python3 - "$work" <<EOF
$LAB_PY_PCAP
$LAB_PY_AGG
import collections, json, os, sys

work = sys.argv[1]

def iperf(name):
    try:
        with open(os.path.join(work, name)) as f:
            return json.load(f).get("end", {})
    except (OSError, ValueError):
        return {}

tcp, udp = iperf("tcp.json"), iperf("udp.json")
print()
if "sum_received" in tcp:
    print("TCP   %6.2f Gbit/s received" % (tcp["sum_received"]["bits_per_second"] / 1e9))
else:
    print("TCP   (no result)")
if "sum" in udp:
    s = udp["sum"]
    rx = udp.get("sum_received", {}).get("bits_per_second")
    if rx is None:
        rx = s["bits_per_second"] * (1 - s.get("lost_percent", 0) / 100)
    print("UDP   %6.1f Mbit/s received of %.1f sent, %.2f%% lost (600-byte datagrams)"
          % (rx / 1e6, s["bits_per_second"] / 1e6, s.get("lost_percent", 0)))
else:
    print("UDP   (no result)")

recs = list(read_agg(os.path.join(work, "agg.json")))
gro = [r for r in recs if r.get("ev") == "gro"]
gso = [r for r in recs if r.get("ev") == "gso"]
print()
print("Aggregates grogso built (agg.json, two or more segments each):")
print("  proto  aggregates  mean segs  max segs  mean bytes  most common flush")
for proto in ("tcp4", "udp4", "tcp6", "udp6"):
    g = [r for r in gro if r.get("proto") == proto]
    if not g:
        continue
    segs = [r["segs"] for r in g]
    fl = collections.Counter(r.get("flush", "?") for r in g).most_common(2)
    print("  %-5s  %10d  %9.1f  %8d  %10.0f  %s" % (
        proto, len(g), sum(segs) / len(segs), max(segs),
        sum(r["bytes"] for r in g) / len(g),
        ", ".join("%s %d%%" % (k, 100 * v // len(g)) for k, v in fl)))
if not gro:
    print("  none (is the aggregate log empty?  see grogso.err)")
if gso:
    print("  grogso segmented %d aggregates itself (gso records)" % len(gso))

# The UDP flow as client1 captured it, in order: (ID, IP length).
udp_pk = [(r[7], r[9]) for r in read_pcap(os.path.join(work, "client1.pcap"))
          if r[2] == 17 and r[6] == 5201]
ug = [r for r in gro if r.get("proto") == "udp4" and r.get("dport") == 5201]
sw = [r for r in gso if r.get("proto") == "udp4" and r.get("dport") == 5201]

def seen(a, cur):
    """What client1 received for aggregate a, looking from index cur."""
    first, n = a["ipid_first"], a["segs"]
    if a.get("ipid_mode") == "fixed":
        want = [first] * n
    else:
        want = [(first + i) & 0xffff for i in range(n)]
    for i in range(cur, min(len(udp_pk), cur + 20000)):
        if udp_pk[i][0] != first:
            continue
        if udp_pk[i][1] == a["bytes"] and n > 1:
            return "id %d, 1 x %d B (whole)" % (first, udp_pk[i][1]), i + 1
        got = []
        j = i
        while j < len(udp_pk) and len(got) < n and udp_pk[j][0] == want[len(got)]:
            got.append(udp_pk[j])
            j += 1
        sizes = sorted(set(p[1] for p in got))
        txt = "%s, %d x %s B" % (ids(got[0][0], got[-1][0]), len(got),
                                "/".join(str(s) for s in sizes))
        if len(got) < n:
            txt += " (%d missing)" % (n - len(got))
        return txt, j
    return "not captured", cur

print()
print("First UDP aggregates (iperf3 -u -l 600: 628-byte datagrams, IDs +1 each):")
print("   #  segs  bytes  IDs in              ID kept  segmented by        client1 received")
cur = 0
swi = 0
for k, a in enumerate(ug[:8], 1):
    by = "offload"
    for m in range(swi, min(len(sw), swi + 64)):
        if sw[m].get("ipid_out") == a["ipid_out"] and sw[m].get("sport") == a["sport"]:
            by = "grogso " + ids(sw[m]["ipid_first"], sw[m]["ipid_last"])
            swi = m + 1
            break
    txt, cur = seen(a, cur)
    print("  %2d  %4d  %5d  %-18s  %7d  %-18s  %s" % (
        k, a["segs"], a["bytes"], ids(a["ipid_first"], a["ipid_last"]) + " " + a.get("ipid_mode", ""),
        a["ipid_out"], by, txt))
if not ug:
    print("  (no UDP aggregates in agg.json)")
EOF

echo
echo "Large packets in client1 (tcpdump -nv -r client1.pcap 'greater 1515'):"
big=$(tcpdump -nv -r "$work/client1.pcap" 'udp and greater 1515' 2>/dev/null | head -n 6 || true)
bigt=$(tcpdump -nv -r "$work/client1.pcap" 'tcp and greater 1515' 2>/dev/null | head -n 4 || true)
if [ -z "$big$bigt" ]; then
	echo "  none: the aggregates were segmented before client1 (software GSO), so it"
	echo "  got 628-byte datagrams and MSS-sized TCP segments, IDs as in the table."
else
	printf '%s\n' "$big" "$bigt" | sed '/^$/d; s/^/  /' | cut -c1-100
	echo "  (one IP header, the first datagram's ID; 'bad cksum' is expected:"
	echo "   offloaded aggregates carry the pseudo-header sum only)"
fi
