#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Route mode end to end over AF_PACKET ports (IO=tap: over TAP ports
# bridged to the veths, see route-tap.sh).  One grogso run; asserts:
#  1. ping and ping6 across, and to both gateway addresses;
#  2. TTL / hop limit 1 gets time-exceeded from the ingress address: from
#     198.19.1.1 / 2001:db8:2::1 for client2, 198.18.1.1 / 2001:db8:1::1
#     for client1; an unresolvable next hop gets host-unreachable;
#  3. 100 MiB over TCP each way, IPv4 and IPv6, arrive intact (sha256),
#     and agg.json holds multi-segment gro records for all four flows;
#  4. UDP iperf3 -l 600 client2 -> client1: gro records keep the first ID
#     (ipid_out == ipid_first) and continue the flow's ID sequence;
#  5. WAN MTU 1492 (eth5 and client2, as on PPPoE), LAN 1500: TCP client1
#     -> client2 completes by path MTU discovery (frag-needed / packet-too-
#     big with mtu 1492 seen by client1, counted in stats.json), and UDP
#     without DF is merged by GRO, segmented and fragmented by grogso and
#     arrives whole, every datagram's content checked;
#  6. SIGTERM: exit status 0.
# Packet ports receive through a ring of blocks (--packet-ring=blocks);
# bridge-packet.sh runs mostly on the default ring of slots.
# Exit 77 (skipped) without root, namespaces, tools, or GROGSO_SKIP_LAB=1.
set -u
LAB_PREFIX=rt$$
. "$(dirname "$0")/lib.sh"
IO=${IO:-${ROUTE_IO:-packet}}
lab_require

fails=0

# check WHAT PATTERN CMD...: CMD's output matches PATTERN (counted, not fatal)
check() {
	local what=$1 pattern=$2 out

	shift 2
	out=$("$@" 2>&1)
	if printf '%s\n' "$out" | grep -q -- "$pattern"; then
		ok "$what"
	else
		echo "FAIL: $what (wanted /$pattern/)"
		printf '%s\n' "$out" | sed 's/^/    /'
		fails=$((fails + 1))
	fi
}

bad() {
	echo "FAIL: $*"
	fails=$((fails + 1))
}

# xfer FROM_NS TO_NS ADDR PORT FILE: send FILE over TCP from FROM_NS to a
# receiver on ADDR:PORT in TO_NS; succeed when it arrives intact.  Prints
# the rate.
xfer() {
	local from=$1 to=$2 addr=$3 port=$4 file=$5 res=$WORK/recv.$4
	local want got srv t0 t1

	ip netns exec "$to" timeout 90 python3 - "$addr" "$port" "$res" <<'EOF' &
import hashlib, socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
c, _ = s.accept()
h, n = hashlib.sha256(), 0
while True:
    b = c.recv(1 << 20)
    if not b:
        break
    h.update(b)
    n += len(b)
c.close()
open(sys.argv[3], "w").write("%s %d\n" % (h.hexdigest(), n))
EOF
	srv=$!
	t0=$(date +%s.%N)
	ip netns exec "$from" timeout 90 python3 - "$addr" "$port" "$file" <<'EOF' ||
import socket, sys, time
for _ in range(100):
    try:
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
        break
    except OSError:
        time.sleep(0.05)
else:
    sys.exit("cannot connect")
with open(sys.argv[3], "rb") as f:
    s.sendfile(f)
s.shutdown(socket.SHUT_WR)
s.recv(1)
s.close()
EOF
		{ kill "$srv" 2>/dev/null; wait "$srv"; return 1; }
	wait "$srv" || return 1
	t1=$(date +%s.%N)
	want="$(sha256sum <"$file" | cut -d' ' -f1) $(stat -c %s "$file")"
	got=$(cat "$res")
	[ "$want" = "$got" ] || { echo "sent $want, received $got"; return 1; }
	python3 -c 'import sys; print("%.0f Mbit/s" % (int(sys.argv[1]) * 8 / 1e6 / (float(sys.argv[3]) - float(sys.argv[2]))))' \
		"$(stat -c %s "$file")" "$t0" "$t1"
}

# wan_mtu N: the WAN link's MTU in gw (and grogso's TAP) and at client2
wan_mtu() {
	in_gw ip link set eth5 mtu "$1"
	[ "$IO" = tap ] && in_gw ip link set twan mtu "$1"
	in_c2 ip link set eth0 mtu "$1"
	sleep 0.5       # grogso learns it over netlink
}

ring=()
[ "$IO" = packet ] && ring=(-- --packet-ring=blocks)
lab_up --io "$IO" --mode route "${ring[@]}" >/dev/null

# ---- 1: reachability ----
check "1: ipv4 across" " 0% packet loss" in_c1 ping -c 3 -i 0.2 -W 1 198.19.1.2
check "1: ipv6 across" " 0% packet loss" in_c1 ping -6 -c 3 -i 0.2 -W 1 2001:db8:2::2
check "1: ipv4 back" " 0% packet loss" in_c2 ping -c 2 -i 0.2 -W 1 198.18.1.2
check "1: ipv6 back" " 0% packet loss" in_c2 ping -6 -c 2 -i 0.2 -W 1 2001:db8:1::2
check "1: ping lan address" " 0% packet loss" in_c1 ping -c 1 -W 1 198.18.1.1
check "1: ping wan address from lan" " 0% packet loss" in_c1 ping -c 1 -W 1 198.19.1.1
check "1: ping wan address from wan" " 0% packet loss" in_c2 ping -c 1 -W 1 198.19.1.1
check "1: ping6 lan address" " 0% packet loss" in_c1 ping -6 -c 1 -W 1 2001:db8:1::1
check "1: ping6 wan address" " 0% packet loss" in_c2 ping -6 -c 1 -W 1 2001:db8:2::1
check "1: ping6 wan address from lan" " 0% packet loss" in_c1 ping -6 -c 1 -W 1 2001:db8:2::1

# ---- 2: ICMP errors come from the ingress side ----
check "2: ttl 1 from client2: time exceeded from 198.19.1.1" \
	"From 198.19.1.1 .*Time to live exceeded" in_c2 ping -c 1 -t 1 -W 1 198.18.1.2
check "2: hop limit 1 from client2: time exceeded from 2001:db8:2::1" \
	"From 2001:db8:2::1 .*Time exceeded" in_c2 ping -6 -c 1 -t 1 -W 1 2001:db8:1::2
check "2: ttl 1 from client1: time exceeded from 198.18.1.1" \
	"From 198.18.1.1 .*Time to live exceeded" in_c1 ping -c 1 -t 1 -W 1 198.19.1.2
check "2: hop limit 1 from client1: time exceeded from 2001:db8:1::1" \
	"From 2001:db8:1::1 .*Time exceeded" in_c1 ping -6 -c 1 -t 1 -W 1 2001:db8:2::2
# a traceroute-style UDP probe: the error's source, read from the socket's
# error queue (IP_RECVERR), must be the WAN address
check "2: udp probe with ttl 1 from client2: error from 198.19.1.1" \
	"offender 198.19.1.1 type 11 code 0" in_c2 timeout 5 python3 -c '
import select, socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, 1)
s.setsockopt(socket.IPPROTO_IP, 11, 1)          # IP_RECVERR
s.connect(("198.18.1.2", 33434))
s.send(b"probe")
select.select([], [], [s], 2)
_, anc, _, _ = s.recvmsg(512, 512, socket.MSG_ERRQUEUE)
for lvl, typ, d in anc:
    if lvl == socket.IPPROTO_IP and typ == 11:  # IP_RECVERR
        # struct sock_extended_err, then the offender sockaddr_in
        _, origin, etype, ecode = struct.unpack("IBBB", d[:7])
        print("offender %s type %d code %d" %
              (socket.inet_ntoa(d[16 + 4:16 + 8]), etype, ecode))'
check "2: unresolved neighbour: host unreachable" \
	"Destination Host Unreachable" in_c1 ping -c 1 -W 5 198.19.1.77

# ---- 3: 100 MiB each way, IPv4 and IPv6 ----
data=$(lab_data 100)
r=$(xfer "$C2" "$C1" 198.18.1.2 9100 "$data") &&
	ok "3: 100 MiB tcp4 client2 -> client1 intact ($r)" ||
	bad "3: tcp4 client2 -> client1 not intact: $r"
r=$(xfer "$C1" "$C2" 198.19.1.2 9101 "$data") &&
	ok "3: 100 MiB tcp4 client1 -> client2 intact ($r)" ||
	bad "3: tcp4 client1 -> client2 not intact: $r"
r=$(xfer "$C2" "$C1" 2001:db8:1::2 9102 "$data") &&
	ok "3: 100 MiB tcp6 client2 -> client1 intact ($r)" ||
	bad "3: tcp6 client2 -> client1 not intact: $r"
r=$(xfer "$C1" "$C2" 2001:db8:2::2 9103 "$data") &&
	ok "3: 100 MiB tcp6 client1 -> client2 intact ($r)" ||
	bad "3: tcp6 client1 -> client2 not intact: $r"

# ---- 4: UDP -l 600 WAN -> LAN (records checked after the stop) ----
in_c1 timeout 20 iperf3 -s -1 -B 198.18.1.2 -p 5211 >/dev/null 2>&1 &
srv=$!
lab_wait_listen "$C1" 5211 || bad "4: the iperf3 server did not start"
r=$(in_c2 timeout 15 iperf3 -c 198.18.1.2 -p 5211 -u -l 600 -b 300M -t 3 2>&1 |
	grep -E "receiver|sender" | tail -1)
wait $srv &&
	ok "4: iperf3 udp -l 600 client2 -> client1:${r#*sec}" ||
	bad "4: iperf3 udp did not complete: $r"

# ---- 5: WAN MTU 1492 ----
wan_mtu 1492
# eth5 segments in software what it is handed, as a wire would carry it:
# else the veth takes a GSO packet whole, and client2's capture could not
# tell an aggregate of 1500-byte segments from one of segments that fit
in_gw ethtool -K eth5 tso off gso off tx-udp-segmentation off >/dev/null 2>&1
lab_capture "$C1" eth0 "$WORK/ptb.pcap" \
	'(icmp and icmp[0] = 3 and icmp[1] = 4) or (icmp6 and ip6[40] = 2)' ||
	fail "tcpdump did not start"
# everything client1 sends client2 but TCP, fragments included: nothing
# may arrive over the MTU
lab_capture "$C2" eth0 "$WORK/frag.pcap" \
	'ip and src 198.18.1.2 and (udp or (ip[6:2] & 0x3fff) != 0)' ||
	fail "tcpdump did not start"
# UDP without DF: bursts of one size (GRO merges them: 1500-byte datagrams
# give gso_size 1472) in 1400..1472 bytes; each payload is a function of
# its sequence number, so the receiver checks every byte
in_c2 timeout 30 python3 - >"$WORK/udp.out" <<'EOF' &
import hashlib, socket, struct
def body(seq, n):
    d = hashlib.sha256(struct.pack("!I", seq)).digest()
    return (struct.pack("!I", seq) + d * (n // 32 + 1))[:n]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
s.bind(("198.19.1.2", 9106))
s.settimeout(3)
got, badn = set(), 0
try:
    while True:
        b = s.recv(4096)
        seq = struct.unpack("!I", b[:4])[0]
        if b == body(seq, len(b)) and 1400 <= len(b) <= 1472:
            got.add(seq)
        else:
            badn += 1
except socket.timeout:
    pass
print(len(got), badn)
EOF
rcv=$!
lab_wait_listen "$C2" 9106 udp || bad "5: the UDP receiver did not start"
sent=$(in_c1 timeout 30 python3 - <<'EOF'
import hashlib, socket, struct, time
def body(seq, n):
    d = hashlib.sha256(struct.pack("!I", seq)).digest()
    return (struct.pack("!I", seq) + d * (n // 32 + 1))[:n]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, 10, 0)  # IP_MTU_DISCOVER = IP_PMTUDISC_DONT: no DF
s.connect(("198.19.1.2", 9106))
seq = 0
for rnd in range(60):
    for size in (1472, 1400, 1472, 1436, 1472, 1464, 1471):
        for _ in range(12):
            s.send(body(seq, size))
            seq += 1
        time.sleep(0.002)
print(seq)
EOF
) || bad "5: udp sender failed"
wait $rcv
read -r got badn <"$WORK/udp.out"
if [ -n "${sent:-}" ] && [ "${badn:-1}" = 0 ] && [ "${got:-0}" -eq "$sent" ]; then
	ok "5: udp without DF: all $sent datagrams (1400..1472 bytes) arrived whole"
else
	bad "5: udp without DF: sent ${sent:-?}, received ${got:-?} intact, ${badn:-?} damaged"
fi
# client2 advertises the MSS of a 1500-byte path, as a server behind a
# 1500-byte link would: only frag-needed / packet-too-big can then tell
# client1's TCP of the 1492 bottleneck
in_c2 ip route change default via 198.19.1.1 advmss 1460
in_c2 ip -6 route change default via 2001:db8:2::1 advmss 1440
small=$(lab_data 20)
r=$(xfer "$C1" "$C2" 198.19.1.2 9104 "$small") &&
	ok "5: tcp4 client1 -> client2 over WAN MTU 1492 intact ($r)" ||
	bad "5: tcp4 over WAN MTU 1492 not intact: $r"
r=$(xfer "$C1" "$C2" 2001:db8:2::2 9105 "$small") &&
	ok "5: tcp6 client1 -> client2 over WAN MTU 1492 intact ($r)" ||
	bad "5: tcp6 over WAN MTU 1492 not intact: $r"

# client1 may know the path MTU by now: then ping says so itself
check "5: ping with DF: frag needed, mtu 1492" \
	"mtu = 1492\|mtu=1492" in_c1 ping -c 1 -W 1 -M do -s 1472 198.19.1.2
check "5: ping without DF: fragmented and answered" \
	" 0% packet loss" in_c1 ping -c 2 -i 0.2 -W 1 -M dont -s 1472 198.19.1.2
lab_capture_stop
python3 - "$WORK/ptb.pcap" <<'EOF' || bad "5: client1 saw no frag-needed / packet-too-big with mtu 1492"
import struct, sys
d = open(sys.argv[1], "rb").read()
end = ">" if d[:4] == b"\xa1\xb2\xc3\xd4" else "<"
off, v4, v6 = 24, set(), set()
while off + 16 <= len(d):
    _, _, incl, _ = struct.unpack(end + "IIII", d[off:off + 16])
    f = d[off + 16:off + 16 + incl]
    off += 16 + incl
    if f[12:14] == b"\x08\x00" and len(f) >= 42 and f[34] == 3 and f[35] == 4:
        v4.add(struct.unpack("!H", f[40:42])[0])
    elif f[12:14] == b"\x86\xdd" and len(f) >= 62 and f[54] == 2:
        v6.add(struct.unpack("!I", f[58:62])[0])
print("frag-needed mtu %s, packet-too-big mtu %s" % (sorted(v4), sorted(v6)))
sys.exit(v4 != {1492} or v6 != {1492})
EOF
python3 - "$WORK/frag.pcap" <<'EOF' || bad "5: client2 received frames over the 1492 MTU, or no fragments"
import struct, sys
d = open(sys.argv[1], "rb").read()
end = ">" if d[:4] == b"\xa1\xb2\xc3\xd4" else "<"
off, n, nfrag, mx = 24, 0, 0, 0
while off + 16 <= len(d):
    _, _, incl, orig = struct.unpack(end + "IIII", d[off:off + 16])
    f = d[off + 16:off + 16 + incl]
    off += 16 + incl
    n += 1
    mx = max(mx, orig)
    nfrag += len(f) >= 22 and (struct.unpack("!H", f[20:22])[0] & 0x3fff) != 0
print("client2: %d frames from client1, %d of them fragments, longest %d bytes"
      % (n, nfrag, mx))
sys.exit(nfrag == 0 or mx > 1492 + 14)
EOF
wan_mtu 1500

# ---- 6: stop, then read the logs ----
st=$(lab_stop)
[ "$st" = 0 ] && ok "6: grogso exited with status 0" || bad "6: grogso exit status $st"

python3 - "$LAB_DIR/agg.json" "$LAB_DIR/stats.json" <<'EOF' || fails=$((fails + 1))
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
stats = {}
for l in open(sys.argv[2]):
    if l.strip():
        r = json.loads(l)
        stats[r["port"]] = r
gro = [r for r in recs if r["ev"] == "gro" and r["segs"] > 1]
bad = 0

def fail(msg):
    global bad
    print("FAIL:", msg)
    bad = 1

# 3: multi-segment aggregates of every transfer
for proto, port, dport in (("tcp4", "wan", 9100), ("tcp4", "lan", 9101),
                           ("tcp6", "wan", 9102), ("tcp6", "lan", 9103)):
    n = [r for r in gro if r["proto"] == proto and r["dport"] == dport]
    where = sorted(set(r["port"] for r in n))
    if not n:
        fail("3: no gro records of several segments for %s port %d" % (proto, dport))
    else:
        print("ok: 3: %s to port %d: %d gro records, up to %d segments, on %s" %
              (proto, dport, len(n), max(r["segs"] for r in n), where))

# 4: the ID pattern of the UDP flow: 1,2,3 -> 1, then 4,5,6 -> 4.  Only
# records of two or more segments are logged, so a gap between records is
# the datagrams that went through alone (a batch of one): never backwards,
# never overlapping
flow = [r for r in gro if r["proto"] == "udp4" and r["dport"] == 5211]
joined = 0
for r in flow:
    if r["ipid_out"] != r["ipid_first"] or r["ipid_mode"] != "inc" or \
       (r["ipid_last"] - r["ipid_first"]) % 65536 != r["segs"] - 1:
        fail("4: record does not keep its first ID: %s" % r)
        break
for a, b in zip(flow, flow[1:]):
    gap = (b["ipid_first"] - a["ipid_last"] - 1) % 65536
    if gap >= 32768:
        fail("4: ID sequence goes back between %s and %s" % (a, b))
        break
    joined += gap == 0
if not flow or not joined:
    fail("4: udp -l 600: %d records, %d directly continuing" % (len(flow), joined))
else:
    print("ok: 4: udp -l 600: %d gro records (%d segments), ipid_out == ipid_first, "
          "%d of %d continue the previous record's IDs directly" %
          (len(flow), sum(r["segs"] for r in flow), joined, len(flow) - 1))

# 5: PMTU discovery counted; DF-clear aggregates over the MTU segmented
fn = stats["lan"]["drop"].get("frag-needed", 0)
if fn <= 0:
    fail("5: stats.json lan drop frag-needed is %d" % fn)
else:
    print("ok: 5: stats.json: lan drop frag-needed %d" % fn)
u = [r for r in gro if r["proto"] == "udp4" and r["dport"] == 9106 and
     r["gso_size"] == 1472 and not r["df"]]
sw = stats["wan"].get("gso_software", 0)
if not u or sw <= 0:
    fail("5: udp without DF: %d gro records with gso_size 1472, wan gso_software %d"
         % (len(u), sw))
else:
    print("ok: 5: udp without DF: %d aggregates of 1500-byte datagrams "
          "(up to %d segments), %d segmented by grogso for the 1492 MTU" %
          (len(u), max(r["segs"] for r in u), sw))
sys.exit(bad)
EOF

[ "$fails" = 0 ] || {
	echo "$fails check(s) failed; grogso said:"
	tail -40 "$LAB_DIR/grogso.err" 2>/dev/null
	exit 1
}
echo "PASS"
exit 0
