#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# lab/ipid.sh: the lab notes' IPv4 ID experiment, with variations.  Exact
# UDP datagrams (IDs, DF, sizes chosen here) are sent from client2 with a
# raw socket, first through grogso, then through a gateway where the
# kernel forwards with its own GRO (ethtool -K eth5 gro on
# rx-udp-gro-forwarding on) and segments again on eth4.  For each case it
# prints what grogso's aggregates carried in and out (agg.json), what the
# kernel's aggregates looked like (capture on gw eth5, after GRO), and
# what client1 received in both cases.
#
# Run as root:  lab/ipid.sh [--io packet|tap] [--gso software|offload|auto]
#               [--only grogso|kernel] [--keep]
set -euo pipefail

. "$(dirname "$0")/lib.sh"

usage() {
	cat <<EOF
usage: lab/ipid.sh [--io packet|tap|vm] [--gso software|offload|auto]
                   [--only grogso|kernel] [--keep]

  --io     grogso's ports [packet]
  --gso    grogso's --gso [software: client1 sees the segments it wrote]
  --only   run one side only
  --keep   keep the captures (the labs are removed anyway)
EOF
}

io=packet gso=software only= keep=0
while [ $# -gt 0 ]; do
	case "$1" in
	--io) io=${2:?}; shift ;;
	--io=*) io=${1#*=} ;;
	--gso) gso=${2:?}; shift ;;
	--gso=*) gso=${1#*=} ;;
	--only) only=${2:?}; shift ;;
	--only=*) only=${1#*=} ;;
	--keep) keep=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done

HOLD_US=10000   # grogso --gro-hold-us; the kernel gets the same gro_flush_timeout

lab_need_root
lab_install "${LAB_RUN_PKGS[@]}"
[ "$only" = kernel ] || { grogso=$(lab_grogso) || exit 1; }

P=ipid$$
K=ipk$$
work=$(mktemp -d /tmp/grogso-ipid.XXXXXX)
pids=()
up=0 kup=0

cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	[ "$up" = 1 ] && "$LAB_DIR/down.sh" --prefix "$P" >/dev/null 2>&1
	[ "$kup" = 1 ] && "$LAB_DIR/down.sh" --prefix "$K" >/dev/null 2>&1
	if [ "$keep" = 1 ]; then say "captures in $work"; else rm -rf "$work"; fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The cases: name, DF, then groups of "ID[:payload]" separated by "|"
# (a pause between groups).  One UDP destination port per case.
CASES='
A 1 1 2 3 | 4 5 6
B 1 1 2 3 7 8 9
C 0 20 20 20
D 1 30 30 30
E 1 10 11 12:300 13 14
'

# send NS: send the cases from client2 of namespace prefix NS.
send() {
	ip netns exec "${1}client2" python3 - "$CASES" <<'EOF'
import socket, struct, sys, time

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

src, dst = "198.19.1.2", "198.18.1.2"
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for n, line in enumerate(l for l in sys.argv[1].splitlines() if l.strip()):
    w = line.split()
    df, groups = int(w[1]), " ".join(w[2:]).split("|")
    dport = 7001 + n
    for g in groups:
        for tok in g.split():
            ipid, _, plen = tok.partition(":")
            ipid, plen = int(ipid), int(plen or 600)
            data = bytes((ipid + i) & 0xff for i in range(plen))
            ulen = 8 + plen
            ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, ulen)
            c = csum(ph + struct.pack("!HHHH", 40000, dport, ulen, 0) + data) or 0xffff
            udp = struct.pack("!HHHH", 40000, dport, ulen, c) + data
            ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, ipid,
                             0x4000 if df else 0, 64, 17, 0,
                             socket.inet_aton(src), socket.inet_aton(dst))
            ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
            s.sendto(ip + udp, (dst, 0))
        time.sleep(0.2)
    time.sleep(0.3)
EOF
}

# capture NS IF FILE: tcpdump of the test datagrams in namespace NS.
capture() {
	ip netns exec "$1" tcpdump -ni "$2" -s 128 -w "$3" 'udp dst portrange 7001-7005' 2>/dev/null &
	pids+=($!)
	sleep 1
}

stop_captures() {
	local pid
	sleep 0.5
	for pid in "${pids[@]}"; do kill -INT "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	pids=()
}

if [ "$only" != kernel ]; then
	step "grogso: route mode, $io ports, --gso=$gso --gro-hold-us=$HOLD_US"
	up=1
	"$LAB_DIR/up.sh" --prefix "$P" --io "$io" --mode route --gso "$gso" \
		--grogso "$grogso" -- --gro-hold-us="$HOLD_US" || die "lab/up.sh failed"
	lab_wait_ping "$P" 198.18.1.2 || die "client1 unreachable through grogso"
	capture "${P}client1" eth0 "$work/g-client1.pcap"
	send "$P"
	stop_captures
	lab_stop_grogso "$P"
	cp "$(lab_state "$P")/agg.json" "$work/agg.json" 2>/dev/null || : >"$work/agg.json"
	"$LAB_DIR/down.sh" --prefix "$P" >/dev/null 2>&1 || true
	up=0
fi

if [ "$only" != grogso ]; then
	step "kernel: ip_forward, eth5 gro + rx-udp-gro-forwarding, gro_flush_timeout ${HOLD_US} us"
	kup=1
	"$LAB_DIR/up.sh" --prefix "$K" --io kernel --kernel-gro on >/dev/null ||
		die "could not build the kernel-forwarding lab"
	ip netns exec "${K}gw" sh -c "echo $((HOLD_US * 1000)) >/sys/class/net/eth5/gro_flush_timeout;
		echo 1 >/sys/class/net/eth5/napi_defer_hard_irqs"
	# Segment on the way out, so client1 shows what kernel GSO gave back.
	ip netns exec "${K}gw" ethtool -K eth4 tx-udp-segmentation off tso off >/dev/null
	lab_wait_ping "$K" 198.18.1.2 || die "client1 unreachable through the kernel"
	capture "${K}gw" eth5 "$work/k-eth5.pcap"
	capture "${K}client1" eth0 "$work/k-client1.pcap"
	send "$K"
	stop_captures
	"$LAB_DIR/down.sh" --prefix "$K" >/dev/null 2>&1 || true
	kup=0
fi

echo
echo "=========================================================================="
echo "IPv4 IDs through GRO and GSO: grogso and the kernel (Linux $(uname -r))"
echo "UDP 600-byte payloads from client2 to client1 unless marked :size;"
echo "'|' is a 200 ms pause.  Aggregates are held ${HOLD_US} us by both."
python3 - "$work" "$CASES" <<EOF
$LAB_PY_PCAP
$LAB_PY_AGG
import os, sys

work, cases = sys.argv[1], [l for l in sys.argv[2].splitlines() if l.strip()]
what = {
    "A": "consecutive IDs, a pause after 3",
    "B": "an ID gap (3 -> 7)",
    "C": "fixed ID",
    "D": "fixed ID",
    "E": "a short datagram (300 B) in the middle",
}

def pk(name, dport):
    f = os.path.join(work, name)
    if not os.path.exists(f):
        return None
    return [(r[7], r[9]) for r in read_pcap(f) if r[6] == dport]

def show(p):
    if p is None:
        return "(not run)"
    if not p:
        return "nothing"
    lens = set(l for _, l in p)
    if len(lens) == 1:
        return "%s  (%d B each)" % (" ".join(str(i) for i, _ in p), p[0][1])
    return "  ".join("%d/%dB" % (i, l) for i, l in p)

def aggs(p):
    if p is None:
        return "(not run)"
    big = ["id %d %d B (%d segs)" % (i, l, -(-(l - 28) // 600)) for i, l in p if l > 628]
    return ", ".join(big) if big else "no aggregate"

recs = list(read_agg(os.path.join(work, "agg.json")))
ran_g = os.path.exists(os.path.join(work, "g-client1.pcap"))
for n, line in enumerate(cases):
    w = line.split()
    dport = 7001 + n
    print()
    print("%s  %s, DF=%s:  sent %s" % (w[0], what.get(w[0], ""), w[1], " ".join(w[2:])))
    if ran_g:
        g = [r for r in recs if r.get("dport") == dport]
        gro = [r for r in g if r.get("ev") == "gro"]
        gso = [r for r in g if r.get("ev") == "gso"]
        txt = ["%s %s -> id %s, %d B, flush %s" % (ids(r["ipid_first"], r["ipid_last"]),
               r.get("ipid_mode"), r["ipid_out"], r["bytes"], r.get("flush")) for r in gro]
        print("   grogso GRO   " + ("; ".join(txt) if txt else "no aggregate"))
        if gso:
            print("   grogso GSO   wrote " + "; ".join(ids(r["ipid_first"], r["ipid_last"]) for r in gso))
        print("   client1 got  " + show(pk("g-client1.pcap", dport)))
    kp = pk("k-eth5.pcap", dport)
    if kp is not None:
        print("   kernel GRO   " + aggs(kp) + "   (gw eth5, after GRO)")
        print("   client1 got  " + show(pk("k-client1.pcap", dport)) + "   (after kernel GSO)")
EOF
