#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The README's recipe: traffic recorded in the lab, run again offline on
# pcap ports with the MACs the live grogso had.  Route mode over AF_PACKET
# ports; tcpdump records what reaches gw's eth4 and eth5 (-Q in, whole
# frames) and what grogso sends out of eth4 (-Q out) while client2 pings
# client1 and sends 300 UDP datagrams of 600 bytes with DF.  Asserts:
#  1. offline (grogso --lan=pcap:...,mac=LIVE --wan=pcap:...,mac=LIVE,
#     the lab's addresses) exits 0 and writes to its LAN every datagram
#     the live grogso wrote: the same UDP payload bytes, in aggregates of
#     several datagrams (the offline log has gro records), each with TTL
#     63 and from the live LAN MAC to client1's MAC, and the pings;
#  2. with the default MACs instead, the recorded frames are for other
#     MACs: none routed, and the warning names mac=.
# Exit 77 (skipped) without root, namespaces, tools, or GROGSO_SKIP_LAB=1.
set -u
LAB_PREFIX=of$$
. "$(dirname "$0")/lib.sh"
lab_require

lab_up --io packet --mode route >/dev/null || fail "the lab did not come up"
lan_mac=$(sed -n 's/^grogso: lan: .* MAC \([0-9a-f:]\{17\}\) .*/\1/p' "$LAB_DIR/grogso.err")
wan_mac=$(sed -n 's/^grogso: wan: .* MAC \([0-9a-f:]\{17\}\) .*/\1/p' "$LAB_DIR/grogso.err")
[ -n "$lan_mac" ] && [ -n "$wan_mac" ] || fail "no MACs in grogso's start message"

# record: whole frames (the lab's lab_capture cuts them to 96 bytes)
for rec in "eth4 in lan-in" "eth5 in wan-in" "eth4 out lan-live"; do
	set -- $rec
	# not through in_gw: $! must be tcpdump, for lab_capture_stop;
	# --immediate-mode: a ring block not yet handed over when tcpdump is
	# stopped would be lost with the frames in it
	ip netns exec "$GW" tcpdump -i "$1" -Q "$2" -s 0 -B 16384 -U \
		--immediate-mode -w "$WORK/$3.pcap" 2>"$WORK/$3.err" &
	LAB_BGPIDS+=($!)
done
for f in lan-in wan-in lan-live; do
	for _ in $(seq 50); do
		grep -q listening "$WORK/$f.err" 2>/dev/null && break
		sleep 0.05
	done
done
# the clients ask for their gateway's MAC, recorded: what teaches the
# offline grogso theirs (the live one may have known them already)
in_c1 ip neigh flush all
in_c2 ip neigh flush all
in_c1 ping -c 1 198.18.1.1 >/dev/null || fail "ping client1 -> its gateway"
in_c2 ping -c 1 198.19.1.1 >/dev/null || fail "ping client2 -> its gateway"
in_c2 ping -c 3 -i 0.2 198.18.1.2 >/dev/null || fail "ping client2 -> client1"
in_c2 python3 - <<'EOF'
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 2)          # IP_MTU_DISCOVER: DF
for i in range(300):
    s.sendto(bytes([i & 0xff]) * 600, ("198.18.1.2", 9999))
    if i % 30 == 29:
        time.sleep(0.01)
EOF
lab_capture_stop
[ "$(lab_stop)" = 0 ] || fail "the live grogso did not exit 0"

# 1: offline with the live MACs
"$GROGSO" --lan="pcap:$WORK/lan-in.pcap,$WORK/lan-out.pcap,mac=$lan_mac" \
	--wan="pcap:$WORK/wan-in.pcap,$WORK/wan-out.pcap,mac=$wan_mac" \
	--lan-addr=198.18.1.1/24 --lan-addr=2001:db8:1::1/64 \
	--wan-addr=198.19.1.1/24 --wan-addr=2001:db8:2::1/64 \
	--log-aggregates="$WORK/agg.json" --log-format=json \
	2>"$WORK/offline.err" || {
	cat "$WORK/offline.err"
	fail "1: grogso on the recorded captures did not exit 0"
}
python3 - "$WORK" "$lan_mac" <<'EOF' || fail "1: the offline run did not route what the live one did"
import json, struct, sys
work, lan_mac = sys.argv[1], bytes.fromhex(sys.argv[2].replace(":", ""))

def frames(path):
    data, out, off = open(path, "rb").read(), [], 24
    end = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    while off + 16 <= len(data):
        n = struct.unpack_from(end + "I", data, off + 8)[0]
        out.append(data[off + 16:off + 16 + n])
        off += 16 + n
    return out

def udp_bytes(fs, check):
    total = 0
    for f in fs:
        if f[12:14] != b"\x08\x00" or f[23] != 17:
            continue
        ihl = (f[14] & 15) * 4
        if struct.unpack_from("!H", f, 14 + ihl + 2)[0] != 9999:
            continue
        if check and (f[22] != 63 or f[6:12] != lan_mac):
            sys.exit("a datagram left with TTL %d from %s" % (f[22], f[6:12].hex()))
        total += struct.unpack_from("!H", f, 16)[0] - ihl - 8
    return total

def pings(fs):
    return sum(1 for f in fs if f[12:14] == b"\x08\x00" and f[23] == 1 and
               f[14 + (f[14] & 15) * 4] == 8)

live, off = frames(work + "/lan-live.pcap"), frames(work + "/lan-out.pcap")
aggs = sum(1 for l in open(work + "/agg.json")
           if l.strip() and json.loads(l)["ev"] == "gro" and
           json.loads(l)["dport"] == 9999)
lb, ob = udp_bytes(live, False), udp_bytes(off, True)
print("UDP payload to client1: live %d bytes in %d frames, offline %d in %d "
      "(%d aggregates); pings live %d, offline %d" %
      (lb, len(live), ob, len(off), aggs, pings(live), pings(off)))
sys.exit(not (lb == 300 * 600 and ob == lb and aggs > 0 and
              pings(off) == pings(live) == 3))
EOF
ok "1: the recorded traffic routed offline as live: every datagram and ping, in aggregates"

# 2: the default MACs: the recorded frames are for the live grogso's
"$GROGSO" --lan="pcap:$WORK/lan-in.pcap,$WORK/lan-out2.pcap" \
	--wan="pcap:$WORK/wan-in.pcap,$WORK/wan-out2.pcap" \
	--lan-addr=198.18.1.1/24 --wan-addr=198.19.1.1/24 \
	--stats-json="$WORK/stats2.json" 2>"$WORK/offline2.err" ||
	fail "2: grogso with the default MACs did not exit 0"
grep -q "wan: [0-9]* frames were for other MACs than grogso's 02:00:00:00:00:02 .*mac=" \
	"$WORK/offline2.err" || {
	cat "$WORK/offline2.err"
	fail "2: no warning about frames for other MACs"
}
python3 - "$WORK/stats2.json" <<'EOF' || fail "2: frames for the live MACs were routed"
import json, sys
ports = {json.loads(l)["port"]: json.loads(l) for l in open(sys.argv[1]) if l.strip()}
# 300 datagrams and 3 pings for the live WAN MAC, each counted (also
# those GRO merged: an aggregate counts as its datagrams)
sys.exit(ports["lan"]["tx_pkts"] > 1 or ports["wan"]["drop"].get("other-host", 0) < 303)
EOF
ok "2: with grogso's default MACs nothing is routed, and the warning names mac="
exit 0
