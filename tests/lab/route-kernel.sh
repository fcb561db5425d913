#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Route mode against Linux's forwarding where the frame-for-frame
# comparison (lab/kernel-diff.sh) does not look: the limits on ICMP
# errors, redirects, and what waits for a next hop.  Two routers side by
# side, each between a sender namespace (WAN) and a LAN end with MTU
# 1400: the kernel forwarding (its sysctls at their defaults) and grogso
# on packet ports (its defaults).  Both routers' WAN ports, and both
# senders, have the same MACs, so what they send can be compared byte
# for byte.  The same frames go to each, and what comes back is counted.
# Limits, bursts of 20, each from a host of its own:
#   ttl4      TTL 1                      time exceeded           6
#   again4    3 more TTL 1 from ttl4's host, 1.3 s later             1
#   noroute4  to a network with no route net unreachable         2
#   big4      DF, over the LAN MTU       fragmentation needed   20
#   ttl6, noroute6, big6: the same for IPv6                 6, 6, 20
# Redirects (10.9/16 and 2001:db8:9::/48 go back out of the WAN, through
# 198.19.1.20 and 2001:db8:2::20, which the senders answer for):
#   redir4    12 to 10.9.0.1             one redirect, via .20          1
#   after4    then 5 with TTL 1 from the same host: time exceeded   0
#             (a redirect to a host new to Linux empties its budget)
#   redir6    one from ::15 to ::14 (on the WAN link), then 10 from
#             ::13: redirects, 5 a destination after the first, with
#             ::14's MAC                                            5
#   global6   10 to 2001:db8:9::1: none, the gateway is not link-local  0
#   redirll6  2001:db8:8::/48 goes through the sender's own link-local
#             address (fe80::53:ff:fe00:1%wan): one from ::16, then 10
#             from ::17: redirects naming that address, with its MAC   5
#   fwdll6    and the same 10 forwarded to it, hop limit lowered       10
# The neighbour queue:
#   queue4    200 datagrams of 1400 bytes (the LAN MTU) from a UDP
#             socket to 198.18.1.7, which answers ARP only once all
#             are sent: the newest that reach it                    92
# Asserts that both routers give those counts, that the redirects (and
# the datagrams through the link-local gateway) are the same bytes (but
# for the IPv4 ID and header checksum), and that grogso's stats.json
# counts what it sent and held back.  Last, grogso started beside the
# kernel router warns that the kernel forwards and holds addresses there
# (and in its own namespace it does not).
# Exit 77 (skipped) without root, namespaces, tools, or GROGSO_SKIP_LAB=1.
set -u
LAB_PREFIX=rk$$
. "$(dirname "$0")/lib.sh"
lab_require
twin_begin
twin_wire k $(seq 10 17) 20
twin_wire g $(seq 10 17) 20
# the routers, and a route back out of the WAN through each kind of
# gateway
twin_routers -- --route 10.9.0.0/16,198.19.1.20 \
	--route 2001:db8:9::/48,2001:db8:2::20 \
	--route 2001:db8:8::/48,fe80::53:ff:fe00:1%wan
ip -n "${P}rk" route add 10.9.0.0/16 via 198.19.1.20
ip -n "${P}rk" route add 2001:db8:9::/48 via 2001:db8:2::20
ip -n "${P}rk" route add 2001:db8:8::/48 via fe80::53:ff:fe00:1 dev w0
# the senders, known at once (grogso answers from the frame's source)
smac=$(ip netns exec "${P}sk" cat /sys/class/net/s0/address)
for i in 10 11 12 13 16 17; do
	ip -n "${P}rk" neigh replace "198.19.1.$i" lladdr "$smac" dev w0 nud permanent
	ip -n "${P}rk" neigh replace "2001:db8:2::$i" lladdr "$smac" dev w0 nud permanent
done
sleep 1
kill -0 "$GPID" 2>/dev/null || { cat "$WORK/grogso.err"; fail "grogso did not start"; }

# bursts NS ROUTER_MAC: the cases above; prints "case count [digest]"
bursts() {
	ip netns exec "$1" "$PY" - "$2" <<'EOF'
import hashlib, socket, sys, time
from scapy.all import Ether, IP, IPv6, UDP, Raw, ICMP, ICMPv6TimeExceeded, \
    ICMPv6DestUnreach, ICMPv6PacketTooBig, ICMPv6ND_Redirect

rmac = sys.argv[1]
with open("/sys/class/net/s0/address") as f:
    smac = f.read().strip()
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("s0", 0))
s.settimeout(0.05)

def frames(kind, src, n):
    out = []
    for i in range(n):
        u = UDP(sport=20000 + i, dport=9)
        if kind == "ttl4":
            p = IP(src=src, dst="198.18.1.2", ttl=1) / u / Raw(b"t" * 20)
        elif kind == "noroute4":
            p = IP(src=src, dst="203.0.113.9") / u / Raw(b"n" * 20)
        elif kind == "big4":
            p = IP(src=src, dst="198.18.1.2", flags="DF") / u / Raw(b"b" * 1450)
        elif kind == "redir4":
            p = IP(src=src, dst="10.9.0.1") / u / Raw(b"r" * 30)
        elif kind == "ttl6":
            p = IPv6(src=src, dst="2001:db8:1::2", hlim=1) / u / Raw(b"t" * 20)
        elif kind == "noroute6":
            p = IPv6(src=src, dst="2001:db8:77::9") / u / Raw(b"n" * 20)
        elif kind == "big6":
            p = IPv6(src=src, dst="2001:db8:1::2") / u / Raw(b"b" * 1450)
        elif kind == "redir6":
            p = IPv6(src=src, dst="2001:db8:2::14") / u / Raw(b"r" * 30)
        elif kind == "redirll6":
            p = IPv6(src=src, dst="2001:db8:8::1") / u / Raw(b"l" * 30)
        else:
            p = IPv6(src=src, dst="2001:db8:9::1") / u / Raw(b"g" * 30)
        out.append(bytes(Ether(src=smac, dst=rmac) / p))
    return out

def is_error(e):
    if IP in e and ICMP in e:
        return e[ICMP].type in (3, 11)
    return IPv6 in e and (ICMPv6TimeExceeded in e or ICMPv6DestUnreach in e
                          or ICMPv6PacketTooBig in e)

def is_redirect(e):
    return (IP in e and ICMP in e and e[ICMP].type == 5) or \
        ICMPv6ND_Redirect in e

def collect(src, want, until, every=None):
    got = []
    while time.time() < until:
        try:
            b = s.recv(4096)
        except socket.timeout:
            continue
        e = Ether(b)
        if every:
            every(b, e)
        dst = e[IP].dst if IP in e else e[IPv6].dst if IPv6 in e else None
        if dst == src and want(e):
            if IP in e:     # the IPv4 ID and header checksum are the router's
                b = b[:18] + b"\0\0" + b[20:24] + b"\0\0" + b[26:]
            got.append(b)
    return got

def burst(name, kind, src, n, want=is_error, digest=False, every=None):
    fs = frames(kind, src, n)
    collect(src, want, time.time() + 0.1)     # nothing stale
    t = time.time()
    for f in fs:
        s.send(f)
    got = collect(src, want, time.time() + 0.5, every)
    line = "%s %d" % (name, len(got))
    if digest:
        line += " " + hashlib.sha256(b"".join(got)).hexdigest()[:16]
    print(line, flush=True)
    return t

t = burst("ttl4", "ttl4", "198.19.1.10", 20)
time.sleep(max(0, t + 1.3 - time.time()))
burst("again4", "ttl4", "198.19.1.10", 3)
burst("noroute4", "noroute4", "198.19.1.11", 20)
burst("big4", "big4", "198.19.1.12", 20)
burst("ttl6", "ttl6", "2001:db8:2::10", 20)
burst("noroute6", "noroute6", "2001:db8:2::11", 20)
burst("big6", "big6", "2001:db8:2::12", 20)
burst("redir4", "redir4", "198.19.1.13", 12, is_redirect, True)
burst("after4", "ttl4", "198.19.1.13", 5)
# both routers learn ::14 first, so that their redirects carry its MAC
for f in frames("redir6", "2001:db8:2::15", 1):
    s.send(f)
collect("2001:db8:2::15", is_redirect, time.time() + 0.3)
burst("redir6", "redir6", "2001:db8:2::13", 10, is_redirect, True)
burst("global6", "global6", "2001:db8:2::11", 10, is_redirect)
# through the link-local gateway, known to both routers first
for f in frames("redirll6", "2001:db8:2::16", 1):
    s.send(f)
collect("2001:db8:2::16", is_redirect, time.time() + 0.3)
fwd = []
def forwarded(b, e):
    if e.src == rmac and IPv6 in e and e[IPv6].dst == "2001:db8:8::1":
        fwd.append(b)
burst("redirll6", "redirll6", "2001:db8:2::17", 10, is_redirect, True, forwarded)
print("fwdll6 %d %s" % (len(fwd), hashlib.sha256(b"".join(fwd)).hexdigest()[:16]))
EOF
}

want="ttl4 6
again4 1
noroute4 2
big4 20
ttl6 6
noroute6 6
big6 20
redir4 1
after4 0
redir6 5
global6 0
redirll6 5
fwdll6 10
queue4 92"
kmac=$(ip netns exec "${P}rk" cat /sys/class/net/w0/address)
gmac=$(ip netns exec "${P}rg" cat /sys/class/net/w0/address)
# queue NS_SENDER NS_LAN: 200 datagrams of 1400 bytes from a UDP socket
# to 198.18.1.7, whose address NS_LAN takes only once they are sent;
# prints "queue4 N", N the datagrams that reach it.  (Linux counts what
# it holds in its skbs' truesize, which depends on who made them: 92 of
# these from a UDP socket across a veth; of the same frames written to
# a packet socket, 67.)
queue() {
	ip netns exec "$2" "$PY" - >"$WORK/queue.n" <<'EOF' &
import socket, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.setsockopt(socket.SOL_SOCKET, 33, 1 << 23)    # SO_RCVBUFFORCE: room for all
s.bind(("e0", 0))
s.settimeout(0.1)
got, end = set(), time.time() + 5
while time.time() < end:
    try:
        b, a = s.recvfrom(2048)
    except socket.timeout:
        continue
    # arriving (not the port unreachable going back) UDP to .7
    dport = int.from_bytes(b[36:38], "big")
    if a[2] != socket.PACKET_OUTGOING and b[23] == 17 and \
            b[30:34] == bytes([198, 18, 1, 7]) and 30000 <= dport < 30200:
        got.add(dport)
print(len(got))
EOF
	local rx=$!
	sleep 0.5
	# all sent before the address is there: they wait in the router
	# until its second ARP request, a second after the first
	ip netns exec "$1" "$PY" - <<'EOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(200):
    s.sendto(b"q" * 1372, ("198.18.1.7", 30000 + i))
EOF
	ip -n "$2" addr add 198.18.1.7/24 dev e0
	wait "$rx"
	echo "queue4 $(cat "$WORK/queue.n")"
}

kernel=$(bursts "${P}sk" "$kmac"; queue "${P}sk" "${P}lk")
ours=$(bursts "${P}sg" "$gmac"; queue "${P}sg" "${P}lg")
fails=0
twin_compare "$want" "$kernel" "$ours" redirects
twin_stop
# sent back out of the WAN port and held back: the errors above, and
# the redirects (with ::15's and ::16's first ones; 11 of redir4 in the
# 40 ms after the first, 5 of redir6 over ::14's budget, 5 of redirll6
# over 2001:db8:8::1's); 108 datagrams of queue4 pushed out
"$PY" - "$WORK/stats.json" <<'EOF' || fails=1
import json, sys
ports = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
wan = [p for p in ports if p["port"] == "wan"]
if len(wan) != 1:
    print("FAIL: no one WAN port in", [p["port"] for p in ports])
    sys.exit(1)
keys = ("icmp_sent", "icmp_limited_host", "icmp_limited_global",
        "redirects", "redirects_limited")
got = tuple(wan[0][k] for k in keys) + (wan[0]["drop"].get("neigh-queue", 0),)
print("grogso's WAN port: " + ", ".join("%s %d" % kv for kv in
                                        zip(keys + ("neigh-queue",), got)))
if got != (61, 67, 0, 13, 21, 108):
    print("FAIL: wanted 61, 67, 0, 13, 21, 108")
    sys.exit(1)
EOF
# grogso's router namespace is set up as it should be: no warning that
# the kernel forwards or holds addresses there; started in the kernel
# router's namespace, it says both
if grep -E "routed twice|the kernel holds" "$WORK/grogso.err"; then
	echo "FAIL: warnings about a kernel that neither forwards nor holds addresses"
	fails=1
fi
timeout -s INT 2 ip netns exec "${P}rk" "$GROGSO" --mode=route --lan packet:l0 \
	--wan packet:w0 --lan-addr 198.18.1.1/24 --wan-addr 198.19.1.1/24 \
	>/dev/null 2>"$WORK/k.err"
for w in "w0: the kernel forwards IPv4 here too" \
	"w0: the kernel forwards IPv6 too" \
	"w0: the kernel holds 198.19.1.1/24 here" \
	"l0: the kernel holds 2001:db8:1::1/64 here"; do
	grep -q "$w" "$WORK/k.err" || { echo "FAIL: no warning '$w'"; fails=1; }
done
[ "$fails" = 0 ] || { cat "$WORK/k.err"; exit 1; }
ok "ICMP limits, redirects and the neighbour queue as Linux's; the kernel's routing is warned of"
