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

say "grogso demo: the lab notes' GRO/GSO experiment, WAN -> LAN ($mode mode, $io ports)"
lab_install "${LAB_BUILD_PKGS[@]}" "${LAB_RUN_PKGS[@]}"
say "== packages: all there"
grogso=$(lab_grogso) || exit 1
say "== grogso: $grogso"

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
		if [ "$lab_started" = 1 ]; then
			"$LAB_DIR/down.sh" --prefix "$P" >/dev/null 2>&1 || true
		fi
		rm -rf "$work"
		[ "$rc" -ge 128 ] && say "interrupted: lab $P removed"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

lab_started=1
printf '== lab: '
"$LAB_DIR/up.sh" --prefix "$P" --io "$io" --mode "$mode" --gso "$gso" \
	--grogso "$grogso" | sed 's/; state in .*//' || die "lab/up.sh failed"
[ -s "$state/grogso.pid" ] || die "lab/up.sh failed"
dst=198.18.1.2   # client1, in route and in bridge mode
if ! lab_wait_ping "$P" "$dst"; then
	[ -f "$state/grogso.err" ] && tail -n 20 "$state/grogso.err" >&2
	die "client2 cannot reach client1 ($dst) through grogso"
fi

# The UDP socket of iperf3 -s in client1 receives an aggregate that
# crossed whole as a burst of datagrams: give it room where the host
# allows (iperf3 fails when it cannot get the size it asked for).
rmax=$(ip netns exec "$c1" cat /proc/sys/net/core/rmem_max 2>/dev/null || echo 0)
wmax=$(ip netns exec "$c1" cat /proc/sys/net/core/wmem_max 2>/dev/null || echo 0)
uwin=()
[ "$rmax" -ge 2097152 ] && [ "$wmax" -ge 2097152 ] && uwin=(-w 2M)

ip netns exec "$c1" iperf3 -s >/dev/null 2>&1 &
pids+=($!)
# Every UDP datagram (to see each ID) but only the large TCP packets.
ip netns exec "$c1" tcpdump -ni eth0 -s 128 -w "$work/client1.pcap" \
	'ip and (udp port 5201 or (tcp and greater 1515))' 2>"$work/tcpdump.err" &
tcpdump_pid=$!
pids+=("$tcpdump_pid")
for _ in $(seq 50); do
	ip netns exec "$c1" ss -ltn 2>/dev/null | grep -q ':5201 ' &&
		grep -q 'listening on' "$work/tcpdump.err" && break
	sleep 0.1
done
sleep 0.5

say "== iperf3 client2 -> client1: TCP ${secs} s, then UDP -l 600 -b 200M ${secs} s; tcpdump in client1"
ip netns exec "$c2" iperf3 -c "$dst" -t "$secs" -J >"$work/tcp.json" ||
	warn "iperf3 TCP failed (see below)"
ip netns exec "$c2" iperf3 -c "$dst" -u -l 600 -b 200M "${uwin[@]}" -t "$secs" \
	-J >"$work/udp.json" || warn "iperf3 UDP failed (see below)"
sleep 0.5
ip netns exec "$c1" cat /proc/net/snmp >"$work/snmp" 2>/dev/null || true
kill -INT "$tcpdump_pid" 2>/dev/null || true
wait "$tcpdump_pid" 2>/dev/null || true

# The aggregate log is buffered: stop grogso (it writes out everything,
# and stats.json, at exit), or with --keep ask it to reopen the log,
# which writes out what it holds.
if [ "$keep" = 1 ]; then
	pid=$(lab_grogso_pid "$P") && kill -HUP "$pid" 2>/dev/null || true
	sleep 0.5
else
	lab_stop_grogso "$P"
fi
cp "$state/agg.json" "$work/agg.json" 2>/dev/null || : >"$work/agg.json"
cp "$state/stats.json" "$work/stats.json" 2>/dev/null || : >"$work/stats.json"
# the large packets as tcpdump prints them, the TCP ones (sent first) first
{
	tcpdump -nv -t -S -r "$work/client1.pcap" -c 2 'tcp and greater 1515' 2>/dev/null || true
	tcpdump -nv -t -S -r "$work/client1.pcap" -c 2 'udp and greater 1515' 2>/dev/null || true
} >"$work/big.txt"

case "$io" in
packet) path="client2 eth0 --> eth5 [gw: grogso on AF_PACKET] eth4 --> eth0 client1" ;;
tap) path="client2 --> eth5-brwan-twan [gw: grogso on TAP] tlan-brlan-eth4 --> client1" ;;
vm) path="client2 eth0=TAP --> [gw: grogso] --> TAP=eth0 client1 (clients keep TSO)" ;;
esac

echo "=============================================================================="
printf '%s mode, %s ports, --gso=%s:  %s\n' "$mode" "$io" "$gso" "$path"

python3 - "$work" "$gso" <<EOF
$LAB_PY_PCAP
$LAB_PY_AGG
import collections, json, os, sys

work, gso_opt = sys.argv[1], sys.argv[2]

def iperf(name):
    try:
        with open(os.path.join(work, name)) as f:
            j = json.load(f)
    except (OSError, ValueError):
        return {}, "no output"
    return j.get("end", {}), j.get("error", "")

def snmp_udp(field):
    try:
        lines = [l.split() for l in open(os.path.join(work, "snmp")) if l.startswith("Udp:")]
        return int(lines[1][lines[0].index(field)])
    except (OSError, ValueError, IndexError):
        return 0

ports = {}
try:
    for line in open(os.path.join(work, "stats.json")):
        try:
            s = json.loads(line)
            ports[s.get("port")] = s
        except ValueError:
            pass
except OSError:
    pass

tcp, tcp_err = iperf("tcp.json")
udp, udp_err = iperf("udp.json")
print()
print("Throughput, as iperf3 in client1 received it")
if "sum_received" in tcp:
    print("  TCP  %7.2f Gbit/s" % (tcp["sum_received"]["bits_per_second"] / 1e9))
else:
    print("  TCP  failed: %s" % (tcp_err or "no result"))
if "sum" in udp:
    s = udp["sum"]
    lost = s.get("lost_percent", 0)
    rx = s["bits_per_second"] * (1 - lost / 100)
    line = "  UDP  %7.1f Mbit/s of %.1f sent, %.2f%% lost" % (
        rx / 1e6, s["bits_per_second"] / 1e6, lost)
    rcvbuf = snmp_udp("RcvbufErrors")
    if lost > 0 and rcvbuf:
        line += " (%d overflowed client1's socket buffer)" % rcvbuf
    print(line)
else:
    print("  UDP  failed: %s" % (udp_err or "no result"))

def pct(part, whole):
    """A share in whole percent, "<1" rather than 0 when there is some."""
    p = 100 * part // whole
    return str(p) if p or not part else "<1"

recs = list(read_agg(os.path.join(work, "agg.json")))
gro = [r for r in recs if r.get("ev") == "gro"]
gso = [r for r in recs if r.get("ev") == "gso"]
why = {"none": "sender's TSO"}
print()
print("Aggregates in grogso's log    count  mean segs  max segs  mean bytes  ended by")
for proto in ("tcp4", "udp4", "tcp6", "udp6"):
    g = [r for r in gro if r.get("proto") == proto]
    if not g:
        continue
    segs = [r["segs"] for r in g]
    fl = collections.Counter(r.get("flush", "?") for r in g).most_common(2)
    print("  %-24s %8d  %9.1f  %8d  %10.0f  %s" % (
        proto, len(g), sum(segs) / len(segs), max(segs),
        sum(r["bytes"] for r in g) / len(g),
        ", ".join("%s %s%%" % (why.get(k, k), pct(v, len(g))) for k, v in fl)))
if not gro:
    print("  none (is the aggregate log empty?  see grogso.err)")
lan = ports.get("lan", {})
if lan:
    drops = sum(v for k, v in ports.get("lan", {}).get("drop", {}).items()
                if k not in ("control", "local", "other-host")) + \
            sum(v for k, v in ports.get("wan", {}).get("drop", {}).items()
                if k not in ("control", "local", "other-host"))
    print("  out of eth4: %d super-packets offloaded whole, %d segmented by grogso;"
          " %d frames dropped" % (lan.get("gso_offload", 0), lan.get("gso_software", 0), drops))

# The UDP flow as client1 captured it, in order: (ID, IP length).
udp_pk = [(r[7], r[9]) for r in read_pcap(os.path.join(work, "client1.pcap"))
          if r[2] == 17 and r[6] == 5201]
ug = [r for r in gro if r.get("proto") == "udp4" and r.get("dport") == 5201]
sw = [r for r in gso if r.get("proto") == "udp4" and r.get("dport") == 5201]

def seen(a, cur, by):
    """What client1 received for aggregate a, looking from index cur."""
    first, n = a["ipid_first"], a["segs"]
    if a.get("ipid_mode") == "fixed":
        want = [first] * n
    else:
        want = [(first + i) & 0xffff for i in range(n)]
    for i in range(cur, min(len(udp_pk), cur + 20000)):
        if udp_pk[i][0] != first:
            continue
        if udp_pk[i][1] == a["bytes"]:
            return "whole: 1 x %d B, id %d (not segmented)" % (udp_pk[i][1], first), i + 1
        got = []
        j = i
        while j < len(udp_pk) and len(got) < n and udp_pk[j][0] == want[len(got)]:
            got.append(udp_pk[j])
            j += 1
        sizes = sorted(set(p[1] for p in got))
        txt = "%s, %d x %s B (%s)" % (ids(got[0][0], got[-1][0]), len(got),
                                     "/".join(str(s) for s in sizes), by or "kernel GSO")
        if len(got) < n:
            txt += ", %d missing" % (n - len(got))
        return txt, j
    return "not captured", cur

print()
print("First UDP aggregates (600-byte datagrams, 628 B each, IDs +1 each)")
print("   #  segs  IDs in               ID kept  IDs after GSO, as client1 got them")
cur = 0
swi = 0
for k, a in enumerate(ug[:6], 1):
    by = ""
    for m in range(swi, min(len(sw), swi + 64)):
        if sw[m].get("ipid_out") == a["ipid_out"] and sw[m].get("sport") == a["sport"]:
            by = "grogso GSO"
            swi = m + 1
            break
    txt, cur = seen(a, cur, by)
    print("  %2d  %4d  %-19s  %7d  %s" % (
        k, a["segs"], ids(a["ipid_first"], a["ipid_last"]) + " " + a.get("ipid_mode", ""),
        a["ipid_out"], txt))
if not ug:
    print("  (no UDP aggregates in the log)")

big = [l.rstrip() for l in open(os.path.join(work, "big.txt")) if l.strip()]
print()
if big:
    print("Large packets in client1 (tcpdump -nv -r client1.pcap 'greater 1515'):")
    for l in big:
        l = "  " + l.strip() if l.startswith("IP") else "      " + l.strip()
        print(l if len(l) <= 92 else l[:89] + "...")
    if gso_opt != "software":
        print("One IP header each, with the ID of the first segment.  lab/demo.sh --gso software:")
        print("grogso segments them itself and client1 gets the original datagrams and IDs back.")
else:
    print("No large packets in client1: grogso segmented every aggregate itself, so client1")
    print("got 628-byte datagrams and MSS-sized TCP segments, with the IDs shown above.")
EOF
