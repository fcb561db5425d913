#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Route mode against Linux's forwarding, one odd frame (or datagram in
# fragments) at a time: neighbour solicitations and ARP requests, IP
# options, IPv6 options and routing headers, TCP and UDP headers that do
# not hold together, broadcast and anycast destinations, our own address
# as a source, what is sent to the router itself (TCP, UDP, UDP-Lite,
# protocols with and without a handler), and datagrams in fragments (for
# the router: reassembled, refused or left to time out; passing through:
# errors about a fragment that is not the first).  Two routers side by
# side, as in route-kernel.sh: the kernel forwarding (ICMP rate limits
# and automatic flow labels off, reassembly timeouts 1 s, its other
# sysctls at their defaults) and grogso on packet ports
# (--icmp-ratelimit=0 --icmp6-ratelimit=0 --reasm-timeout=1).  Each
# case's frames go from the sender to each router; what comes back to the
# sender (not counting what a router asks of its own accord:
# solicitations, ARP requests, MLD) and what reaches the LAN end within
# 350 ms (1.2 s for the one solicitation Linux answers after a random
# delay, 1.7 s for a reassembly timeout) is counted and compared byte for
# byte (but for the IPv4 ID and header checksum of the ICMP messages the
# routers make, the ID of the IPv6 fragments they cut, the times in
# timestamp options, which must be within 10 s of the sender's clock, and
# the checksum of an IPv6 TCP reset, which Linux hands to the veth
# unfinished and which must be right in grogso's).  The counts Linux 6.18
# gives, "back/to the LAN", are in the table at the end.
# Exit 77 (skipped) without root, namespaces, tools, or GROGSO_SKIP_LAB=1.
set -u
LAB_PREFIX=re$$
. "$(dirname "$0")/lib.sh"
lab_require
twin_begin
twin_wire k 10
twin_wire g 10
twin_routers net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 \
	net.ipv6.auto_flowlabels=0 net.ipv4.ipfrag_time=1 \
	net.ipv6.ip6frag_time=1 -- --icmp-ratelimit=0 --icmp6-ratelimit=0 \
	--reasm-timeout=1
# the senders' stacks know the router for good: they ask it nothing
# during the probes (its answers to them would be counted)
for x in k g; do
	for a in 2001:db8:2::1 fe80::57:ff:fe00:1; do
		ip -n "${P}s$x" neigh replace "$a" lladdr 02:57:00:00:00:01 \
			dev s0 nud permanent
	done
done
# both routers learn the LAN end and the sender before the probes
for x in k g; do
	ip netns exec "${P}l$x" ping -c1 -W2 198.18.1.1 >/dev/null
	ip netns exec "${P}l$x" ping -c1 -W2 2001:db8:1::1 >/dev/null
	ip netns exec "${P}s$x" ping -c1 -W2 198.19.1.1 >/dev/null
	ip netns exec "${P}s$x" ping -c1 -W2 2001:db8:2::1 >/dev/null
done
kill -0 "$GPID" 2>/dev/null || { cat "$WORK/grogso.err"; fail "grogso did not start"; }
# Linux has a PIM handler, which takes PIM in silently as grogso does,
# only when built for multicast routing (CONFIG_IP_PIMSM_V2); without
# one it answers with a protocol unreachable, and the case is left out
PIM=1
kcfg=$( (zcat /proc/config.gz || cat "/boot/config-$(uname -r)") 2>/dev/null)
if [ -n "$kcfg" ] && ! grep -q '^CONFIG_IP_PIMSM_V2=y' <<<"$kcfg"; then
	PIM=0
	echo "note: this kernel has no PIM handler: the pim case is left out"
fi
export PIM

# probes X: send every case from ${P}sX to its router, one at a time,
# while the LAN end captures; leaves $WORK/back.X (JSON: each case, its
# time window and the frames that came back) and $WORK/lan.X (each frame
# the LAN end received: time, bytes)
probes() {
	local x=$1

	ip netns exec "${P}l$x" "$PY" - "$WORK/lan.$x" <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("e0", 0))
s.settimeout(0.1)
# UDP port 9 taken, so that what reaches this end draws no port
# unreachable back through the router
sinks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM),
         socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)]
sinks[1].setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
for k in sinks:
    k.bind(("", 9))
out, end = [], time.time() + 60
while time.time() < end:
    try:
        b, a = s.recvfrom(4096)
    except socket.timeout:
        continue
    if a[2] == socket.PACKET_OUTGOING:
        if b[12:14] == b"\x88\xb5":
            break
        continue
    # neither ARP, neighbour discovery nor multicast (MLD, IGMP)
    if b[0] & 1 or b[12:14] == b"\x08\x06" or \
            (b[12:14] == b"\x86\xdd" and b[20] == 58 and b[54] >= 130):
        continue
    # the MACs of the LAN link are not the same on both sides
    out.append("%.6f %s\n" % (time.time(), b[12:].hex()))
open(sys.argv[1], "w").write("".join(out))
EOF
	local lan=$!
	sleep 1
	ip netns exec "${P}s$x" "$PY" - "$WORK/back.$x" <<'EOF'
import json, os, socket, sys, time
from scapy.all import (Ether, IP, IPv6, UDP, TCP, ICMP, Raw, IPOption,
                       IPOption_RR, IPOption_LSRR, IPOption_Router_Alert,
                       ICMPv6EchoRequest, IPv6ExtHdrHopByHop, RouterAlert,
                       HBHOptUnknown, ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, ARP,
                       IPv6ExtHdrDestOpt, IPv6ExtHdrRouting,
                       IPv6ExtHdrSegmentRouting, IPv6ExtHdrFragment)

rmac, smac = "02:57:00:00:00:01", "02:53:00:00:00:01"
S4, S6 = "198.19.1.10", "2001:db8:2::10"


def u():
    return UDP(sport=1, dport=9) / Raw(b"x" * 20)


def opt(raw):
    return [IPOption(raw)]


def hbh(otype):
    return IPv6ExtHdrHopByHop(options=[HBHOptUnknown(otype=otype, optdata=b"ab")])


def dst(otype):
    return IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=otype, optdata=b"ab")])


def ns(target, mcast=True, slla=True):
    """a neighbour solicitation for target: to its solicited-node group,
    or to it (a neighbour checking its entry)"""
    b = socket.inet_pton(socket.AF_INET6, target)
    grp = "ff02::1:ff%02x:%02x%02x" % (b[13], b[14], b[15])
    p = Ether(src=smac, dst="33:33:ff:%02x:%02x:%02x" % (b[13], b[14], b[15])
              if mcast else rmac) / \
        IPv6(src=S6, dst=grp if mcast else target, hlim=255) / ICMPv6ND_NS(tgt=target)
    return p / ICMPv6NDOptSrcLLAddr(lladdr=smac) if slla else p


def ns_frag(target):
    """a neighbour solicitation behind an atomic fragment header"""
    b = bytearray(bytes(ns(target)))
    b[18:20] = (int.from_bytes(b[18:20], "big") + 8).to_bytes(2, "big")
    nh, b[20] = b[20], 44
    return Ether(bytes(b[:54]) + bytes([nh, 0, 0, 0, 0, 0, 0, 10]) +
                 bytes(b[54:]))


def arp(spa, tpa):
    return Ether(src=smac, dst="ff:ff:ff:ff:ff:ff") / \
        ARP(op=1, hwsrc=smac, psrc=spa, pdst=tpa)


def cut(p, pieces, ecn=(), df=False):
    """IP datagram p as fragment frames, one per (offset, bytes, more)
    in pieces; ecn gives the ECN bits of each, df sets IPv4's DF"""
    b = bytes(p)
    v6 = b[0] >> 4 == 6
    hl = 40 if v6 else (b[0] & 15) * 4
    out = []
    for i, (off, n, more) in enumerate(pieces):
        h = bytearray(b[:hl])
        e = ecn[i] if i < len(ecn) else 0
        data = b[hl + off:hl + off + n]
        data += bytes(n - len(data))
        if v6:
            h[1] = (h[1] & 0xcf) | e << 4
            h[4:6] = (8 + n).to_bytes(2, "big")
            fh = bytes([h[6], 0]) + (off | more).to_bytes(2, "big") + \
                bytes.fromhex("00c0ffee")
            h[6] = 44
            out.append(Ether(src=smac, dst=rmac, type=0x86dd) /
                       Raw(bytes(h) + fh + data))
        else:
            h[1] = (h[1] & 0xfc) | e
            h[2:4] = (hl + n).to_bytes(2, "big")
            h[6:8] = (off // 8 | more << 13 | df << 14).to_bytes(2, "big")
            h[10:12] = b"\0\0"
            c = sum(int.from_bytes(h[j:j + 2], "big") for j in range(0, hl, 2))
            while c > 0xffff:
                c = (c & 0xffff) + (c >> 16)
            h[10:12] = (~c & 0xffff).to_bytes(2, "big")
            out.append(Ether(src=smac, dst=rmac, type=0x0800) /
                       Raw(bytes(h) + data))
    return out


def far(a, b, n):
    """a's first fragment, n copies of b's, then the rest of a"""
    a, b = cut(a, THREE), cut(b, THREE)
    return a[:1] + b[:1] * n + a[1:]


def ping4(ident):
    return IP(src=S4, dst="198.19.1.1", id=ident) / \
        ICMP(id=ident, seq=1) / Raw(bytes(range(256)) * 11 + b"e" * 184)


def ping6(ident):
    return IPv6(src=S6, dst="2001:db8:2::1") / \
        ICMPv6EchoRequest(id=ident, seq=1, data=bytes(range(256)) * 11 + b"e" * 184)


def udp_to(dst, ident=0):
    return (IPv6(src=S6, dst=dst) if ":" in dst else IP(src=S4, dst=dst, id=ident)) / \
        UDP(sport=7, dport=9) / Raw(b"u" * 2000)


THREE = [(0, 1480, 1), (1480, 1480, 1), (2960, 48, 0)]
THREE6 = [(0, 1448, 1), (1448, 1448, 1), (2896, 112, 0)]
TWO = [(0, 1480, 1), (1480, 528, 0)]
TWO6 = [(0, 1448, 1), (1448, 560, 0)]
RR3 = [IPOption_RR(routers=["0.0.0.0"] * 3)]
CASES = [
    # neighbour discovery and ARP (whole frames)
    ("ns", ns("2001:db8:2::1")),
    ("ns-unicast", ns("2001:db8:2::1", False)),
    ("ns-unicast-bare", ns("2001:db8:2::1", False, False)),
    # (Linux answers this one after a random time of up to 0.8 s)
    ("ns-anycast", ns("2001:db8:2::")),
    ("ns-anycast-lan", ns("2001:db8:1::")),
    ("ns-lan-addr", ns("2001:db8:1::1")),
    ("arp", arp(S4, "198.19.1.1")),
    ("arp-lan-addr", arp(S4, "198.18.1.1")),
    ("arp-off-link", arp("10.99.0.1", "198.19.1.1")),
    ("arp-ours", arp("198.18.1.1", "198.19.1.1")),
    # IPv4 options on the way through
    ("rr", IP(src=S4, dst="198.18.1.2", options=RR3) / u()),
    ("rr-full", IP(src=S4, dst="198.18.1.2",
                   options=opt(b"\x07\x07\x08\x0a\x00\x00\x01\x00")) / u()),
    ("ts-only", IP(src=S4, dst="198.18.1.2",
                   options=opt(b"\x44\x0c\x05\x00" + bytes(8))) / u()),
    ("ts-addr", IP(src=S4, dst="198.18.1.2",
                   options=opt(b"\x44\x14\x05\x01" + bytes(16))) / u()),
    ("ts-prespec", IP(src=S4, dst="198.18.1.2", options=opt(
        b"\x44\x14\x05\x03" + bytes([198, 18, 1, 1]) + bytes(4) +
        bytes([198, 19, 1, 1]) + bytes(4))) / u()),
    ("ts-full", IP(src=S4, dst="198.18.1.2",
                   options=opt(b"\x44\x0c\x0d\x20" + bytes(8))) / u()),
    ("end-junk", IP(src=S4, dst="198.18.1.2",
                    options=opt(b"\x01\x00\x55\x66")) / u()),
    ("ra", IP(src=S4, dst="198.18.1.2", options=[IPOption_Router_Alert()]) / u()),
    ("lsrr", IP(src=S4, dst="198.18.1.2",
                options=[IPOption_LSRR(routers=["198.18.1.2"])]) / u()),
    ("rr-len0", IP(src=S4, dst="198.18.1.2",
                   options=opt(b"\x07\x00\x00\x00")) / u()),
    ("cipso", IP(src=S4, dst="198.18.1.2",
                 options=opt(b"\x86\x08\x00\x00\x00\x01\x00\x00")) / u()),
    ("rr-ttl1", IP(src=S4, dst="198.18.1.2", ttl=1, options=RR3) / u()),
    ("echo-rr", IP(src=S4, dst="198.19.1.1", options=RR3) / ICMP()),
    # to a LAN host that never answers: host unreachable after 3 s,
    # with the options taken in again first
    ("rr-unresolved", IP(src=S4, dst="198.18.1.99", options=RR3) / u()),
    ("ts-unresolved", IP(src=S4, dst="198.18.1.98",
                         options=opt(b"\x44\x14\x05\x01" + bytes(16))) / u()),
    # TCP and UDP headers that do not hold together: routed all the same
    ("tcp-doff", IP(src=S4, dst="198.18.1.2") /
     TCP(sport=1, dport=9, flags="A", dataofs=2) / Raw(b"d" * 8)),
    ("tcp-short", IP(src=S4, dst="198.18.1.2", proto=6) / Raw(b"t" * 10)),
    ("udp-long", IP(src=S4, dst="198.18.1.2") /
     UDP(sport=1, dport=9, len=200) / Raw(b"x" * 20)),
    ("udp6-len4", IPv6(src=S6, dst="2001:db8:1::2") /
     UDP(sport=1, dport=9, len=4) / Raw(b"x" * 20)),
    ("tcp-doff-local", IP(src=S4, dst="198.19.1.1") /
     TCP(sport=1, dport=9, flags="S", dataofs=2) / Raw(b"d" * 8)),
    ("udp-long-local", IP(src=S4, dst="198.19.1.1") /
     UDP(sport=1, dport=9, len=200) / Raw(b"x" * 20)),
    # addresses
    ("bcast-lan", IP(src=S4, dst="198.18.1.255") / u()),
    ("bcast-ping", IP(src=S4, dst="198.19.1.255") / ICMP()),
    ("src-ours", IP(src="198.19.1.1", dst="198.18.1.2") / u()),
    ("anycast-echo", IPv6(src=S6, dst="2001:db8:1::") /
     ICMPv6EchoRequest(id=1, seq=1)),
    # pings to groups: all nodes (from a global and a link-local
    # address), all routers, and all nodes over IPv4 (ignored)
    ("echo-all-nodes", Ether(src=smac, dst="33:33:00:00:00:01") /
     IPv6(src=S6, dst="ff02::1") / ICMPv6EchoRequest(id=2, seq=1)),
    ("echo-all-nodes-ll", Ether(src=smac, dst="33:33:00:00:00:01") /
     IPv6(src="fe80::53:ff:fe00:1", dst="ff02::1") / ICMPv6EchoRequest(id=3, seq=1)),
    ("echo-all-routers", Ether(src=smac, dst="33:33:00:00:00:02") /
     IPv6(src=S6, dst="ff02::2") / ICMPv6EchoRequest(id=4, seq=1)),
    ("echo-all-hosts4", Ether(src=smac, dst="01:00:5e:00:00:01") /
     IP(src=S4, dst="224.0.0.1") / ICMP()),
    ("anycast-udp", IPv6(src=S6, dst="2001:db8:1::") / u()),
    ("anycast-tcp", IPv6(src=S6, dst="2001:db8:1::") /
     TCP(sport=1, dport=9, flags="S", seq=7)),
    # for the router itself
    ("echo-zero", IP(src=S4, dst="198.18.1.1") / ICMP()),
    ("timestamp", IP(src=S4, dst="198.19.1.1") /
     ICMP(type=13, id=7, seq=1, ts_ori=0x01020304, ts_rx=0, ts_tx=0)),
    ("udp", IP(src=S4, dst="198.18.1.1") / u()),
    ("udp-badsum", IP(src=S4, dst="198.19.1.1") /
     UDP(sport=1, dport=9, chksum=0x1234) / Raw(b"x" * 20)),
    ("udp6", IPv6(src=S6, dst="2001:db8:1::1") / u()),
    ("udp6-nosum", IPv6(src=S6, dst="2001:db8:2::1") /
     UDP(sport=1, dport=9, chksum=0) / Raw(b"x" * 20)),
    ("tcp-syn", IP(src=S4, dst="198.19.1.1", tos=0x23) /
     TCP(sport=1, dport=9, flags="SF", seq=7) / Raw(b"abc")),
    ("tcp-ack", IP(src=S4, dst="198.19.1.1") /
     TCP(sport=1, dport=9, flags="A", seq=7, ack=5555) / Raw(b"abcde")),
    ("tcp-rst", IP(src=S4, dst="198.19.1.1") / TCP(sport=1, dport=9, flags="R")),
    ("tcp-badsum", IP(src=S4, dst="198.19.1.1") /
     TCP(sport=1, dport=9, flags="S", chksum=0x1234)),
    ("tcp-rr", IP(src=S4, dst="198.19.1.1",
                  options=[IPOption_RR(routers=["0.0.0.0"] * 2)]) /
     TCP(sport=1, dport=9, flags="S", seq=7)),
    ("tcp6-syn", IPv6(src=S6, dst="2001:db8:2::1") /
     TCP(sport=1, dport=9, flags="S", seq=1000)),
    ("tcp6-ack", IPv6(src=S6, dst="2001:db8:2::1", tc=0x23) /
     TCP(sport=1, dport=9, flags="A", seq=7, ack=99)),
    ("proto253", IP(src=S4, dst="198.19.1.1", proto=253) / Raw(b"p" * 20)),
    ("igmp", IP(src=S4, dst="198.19.1.1", proto=2) / Raw(b"p" * 8)),
    ("pim", IP(src=S4, dst="198.19.1.1", proto=103) / Raw(b"p" * 20)),
    ("udplite-bad", IP(src=S4, dst="198.19.1.1", proto=136) / Raw(b"p" * 20)),
    ("nh253", IPv6(src=S6, dst="2001:db8:2::1", nh=253) / Raw(b"p" * 20)),
    ("nh59", IPv6(src=S6, dst="2001:db8:2::1", nh=59) / Raw(b"p" * 20)),
    # hop-by-hop options
    ("hbh-ra", IPv6(src=S6, dst="2001:db8:1::2") /
     IPv6ExtHdrHopByHop(options=[RouterAlert()]) / u()),
    ("hbh-skip", IPv6(src=S6, dst="2001:db8:1::2") / hbh(0x1e) / u()),
    ("hbh-drop", IPv6(src=S6, dst="2001:db8:1::2") / hbh(0x47) / u()),
    ("hbh-icmp", IPv6(src=S6, dst="2001:db8:1::2") / hbh(0x87) / u()),
    ("hbh-icmp-mc", IPv6(src=S6, dst="ff0e::1") / hbh(0x87) / u()),
    # destination options and routing headers: only the destination
    # reads them
    ("dst-fwd", IPv6(src=S6, dst="2001:db8:1::2") / dst(0x87) / u()),
    ("dst-skip", IPv6(src=S6, dst="2001:db8:2::1") / dst(0x1e) / u()),
    ("dst-drop", IPv6(src=S6, dst="2001:db8:2::1") / dst(0x47) / u()),
    ("dst-icmp", IPv6(src=S6, dst="2001:db8:2::1") / dst(0x87) / u()),
    ("rh0", IPv6(src=S6, dst="2001:db8:2::1") /
     IPv6ExtHdrRouting(type=0, segleft=1, addresses=["2001:db8:1::2"]) / u()),
    ("rh0-done", IPv6(src=S6, dst="2001:db8:2::1") /
     IPv6ExtHdrRouting(type=0, segleft=0, addresses=["2001:db8:1::2"]) / u()),
    ("srh-done", IPv6(src=S6, dst="2001:db8:2::1") /
     IPv6ExtHdrSegmentRouting(addresses=["2001:db8:2::1"], segleft=0) / u()),
    # datagrams for the router in fragments: reassembled, answered
    # (a reply longer than the link in fragments), refused, or left to
    # time out (after 1 s in both routers)
    ("frag-echo", cut(ping4(0x101), THREE)),
    ("frag-echo-rev", cut(ping4(0x102), THREE)[::-1]),
    ("frag-echo-dup", cut(ping4(0x103), THREE + [(1480, 1480, 1)])[::-1]),
    ("frag-echo-odd", cut(ping4(0x104), [(0, 1003, 1), (1000, 1480, 1),
                                         (2480, 528, 0)])),
    ("frag-echo-ce", cut(ping4(0x105), THREE, ecn=(2, 3, 2))),
    ("frag-echo-ecnmix", cut(ping4(0x106), THREE, ecn=(0, 1, 0))),
    ("frag-overlap", cut(ping4(0x107), [(1480, 1480, 1), (0, 1480, 1),
                                        (1000, 1000, 1)])),
    ("frag-last-short", cut(ping4(0x108), [(1480, 1480, 1), (8, 1000, 0)])),
    ("frag-udp", cut(udp_to("198.19.1.1", 0x109), TWO)),
    ("frag-udp-df", cut(udp_to("198.19.1.1", 0x10a), TWO, df=True)),
    ("frag-tcp", cut(IP(src=S4, dst="198.19.1.1", id=0x10b) /
                     TCP(sport=7, dport=9, flags="S", seq=5) / Raw(b"t" * 2000),
                     [(0, 1480, 1), (1480, 540, 0)])),
    ("frag-timeout", cut(udp_to("198.19.1.1", 0x10c), TWO)[:1]),
    ("frag-timeout-odd", cut(udp_to("198.19.1.1", 0x10d), [(0, 301, 1)])),
    ("frag-timeout-later", cut(udp_to("198.19.1.1", 0x10e), TWO)[1:]),
    # 63 and 64 fragments of another datagram (B, left to time out) from
    # the same source between two of a ping (net.ipv4.ipfrag_max_dist)
    ("frag-63-between-timeout", far(ping4(0x110), ping4(0x111), 63)),
    ("frag-64-between-timeout", far(ping4(0x112), ping4(0x113), 64)),
    ("frag6-echo", cut(ping6(0x201), THREE6)),
    ("frag6-echo-rev", cut(ping6(0x202), THREE6)[::-1]),
    ("frag6-echo-ce", cut(ping6(0x203), THREE6, ecn=(1, 3, 3))),
    ("frag6-overlap", cut(ping6(0x204), [(0, 1448, 1), (1440, 1448, 1)])),
    ("frag6-udp", cut(udp_to("2001:db8:2::1"), TWO6)),
    ("frag6-odd", cut(udp_to("2001:db8:2::1"), [(0, 1001, 1)])),
    ("frag6-toolong", cut(udp_to("2001:db8:2::1"), [(65528, 16, 0)])),
    ("frag6-no-l4", cut(udp_to("2001:db8:2::1"), [(0, 4, 1)])),
    ("frag6-timeout", cut(ping6(0x205), THREE6)[:1]),
    ("frag6-timeout-later", cut(ping6(0x206), THREE6)[2:]),
    ("frag6-atomic-udp", IPv6(src=S6, dst="2001:db8:2::1") /
     IPv6ExtHdrFragment(id=7) / u()),
    ("frag6-atomic-echo", IPv6(src=S6, dst="2001:db8:2::1") /
     IPv6ExtHdrFragment(id=8) / ICMPv6EchoRequest(id=5, seq=1)),
    ("frag6-atomic-ns", ns_frag("2001:db8:2::1")),
    # passing through: errors about a fragment that is not the first
    # are for IPv6 only (RFC 1812 4.3.2.7 keeps IPv4 quiet)
    ("frag-later-ttl1", cut(IP(src=S4, dst="198.18.1.2", ttl=1) / u() /
                            Raw(b"l" * 2000), TWO)[1:]),
    ("frag6-later-hlim1", cut(IPv6(src=S6, dst="2001:db8:1::2", hlim=1) /
                              u() / Raw(b"l" * 2000), TWO6)[1:]),
    # a first fragment that holds none of its ICMPv6 header: it might be
    # an error or not, and Linux answers it
    ("frag6-icmp-cut-hlim1", IPv6(src=S6, dst="2001:db8:1::2", hlim=1, nh=44) /
     Raw(bytes([58, 0, 0, 1, 0, 0, 0, 7]))),
    ("frag6-nested", cut(IPv6(src=S6, dst="2001:db8:2::1") /
                         IPv6ExtHdrFragment(id=9) / u() / Raw(b"n" * 2000),
                         [(0, 1448, 1), (1448, 588, 0)])),
]
if os.environ.get("PIM") == "0":
    CASES = [c for c in CASES if c[0] != "pim"]
WAIT = {"ns-anycast": 1.2}
WAIT.update((name, 1.7) for name, _ in CASES if "timeout" in name)
WAIT.update((name, 3.7) for name, _ in CASES if "unresolved" in name)

router = bytes.fromhex(rmac.replace(":", ""))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind(("s0", 0))
s.settimeout(0.02)
marks = []
for name, p in CASES:
    t0 = time.time()
    for f in p if isinstance(p, list) else [p]:
        s.send(bytes(f if Ether in f else Ether(src=smac, dst=rmac) / f))
    back = []
    while time.time() < t0 + WAIT.get(name, 0.35):
        try:
            b, a = s.recvfrom(4096)
        except socket.timeout:
            continue
        # but for neighbour advertisements and ARP replies, not what a
        # router says of its own accord (solicitations, MLD, requests)
        if a[2] == socket.PACKET_OUTGOING or b[6:12] != router or \
                b[0] & 1 or (b[12:14] == b"\x08\x06" and b[21] != 2) or \
                (b[12:14] == b"\x86\xdd" and b[20] == 58 and b[54] >= 130
                 and b[54] != 136):
            continue
        back.append(b.hex())
    marks.append((name, t0, time.time(), back))
json.dump(marks, open(sys.argv[1], "w"))
EOF
	# the end of the capture: a frame of a type nobody routes
	ip netns exec "${P}l$x" python3 -c 'import socket
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("e0", 0))
s.send(b"\xff" * 6 + b"\x02" * 6 + b"\x88\xb5" + bytes(46))'
	wait "$lan"
}

# result X: a line for each case, "case back/lan digest", the digest over
# the frames as compared (see the top)
result() {
	"$PY" - "$WORK/back.$1" "$WORK/lan.$1" "$1" <<'EOF'
import hashlib, json, sys, time
from scapy.all import Ether, TCP

marks = json.load(open(sys.argv[1]))
lan = [l.split() for l in open(sys.argv[2])]
ours = sys.argv[3] == "g"


def csum(b):
    s = sum(int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2))
    while s > 0xffff:
        s = (s & 0xffff) + (s >> 16)
    return s


def mask_times(b, off, end, now_ms):
    """zero the times of a timestamp option among the IPv4 options at
    b[off:end], each checked to be within 10 s of now; True if any"""
    found = False
    while off < end and b[off] != 0:
        if b[off] == 1:
            off += 1
            continue
        olen = b[off + 1]
        if b[off] == 68 and olen >= 4:
            step = 4 if b[off + 3] & 15 == 0 else 8
            at = off + step
            while at + 4 <= off + b[off + 2] - 1:
                v = int.from_bytes(b[at:at + 4], "big")
                if v and abs(v - now_ms) > 10000:
                    b += b"BAD-TIME"
                b[at:at + 4] = bytes(4)
                found = True
                at += step
        off += max(olen, 2)
    return found


def norm(raw, t, lan=False):
    """the frame as compared (a LAN frame without its MACs)"""
    b = bytearray(bytes(12) + raw if lan else raw)
    n = len(b)
    if b[12:14] == b"\x08\x00":
        hl = (b[14] & 15) * 4
        if csum(b[14:14 + hl]) != 0xffff:
            b += b"BAD-IP-CSUM"
        # times in a timestamp option: within 10 s of the capture
        now_ms = (t % 86400) * 1000
        mask_times(b, 34, 14 + hl, now_ms)
        ic = 14 + hl
        if b[23] == 1 and b[ic] in (3, 11, 12) and len(b) > ic + 28:
            # an error quoting a header with times in it: the times
            # masked there too, with the checksums they go into (the
            # ICMP one checked first)
            q = ic + 8
            if csum(bytes(b[ic:n]) + bytes((n - ic) % 2)) != 0xffff:
                b += b"BAD-ICMP-CSUM"
            if mask_times(b, q + 20, q + (b[q] & 15) * 4, now_ms):
                b[ic + 2:ic + 4] = b"\0\0"
                b[q + 10:q + 12] = b"\0\0"
        b[24:26] = b"\0\0"
        first = int.from_bytes(b[20:22], "big") & 0x1fff == 0
        if b[23] == 1:          # the router's own ICMP: its ID
            b[18:20] = b"\0\0"
            ic = 14 + hl
            if first and b[ic] == 14:   # a timestamp reply: its two times
                for at in (ic + 12, ic + 16):
                    v = int.from_bytes(b[at:at + 4], "big")
                    if abs(v - now_ms) > 10000:
                        b += b"BAD-TIME"
                    b[at:at + 4] = bytes(4)
                b[ic + 2:ic + 4] = b"\0\0"
    elif b[12:14] == b"\x86\xdd" and b[20] == 44 and not lan:
        b[58:62] = bytes(4)     # the ID of the router's own fragments
    elif b[12:14] == b"\x86\xdd" and b[20] == 6:
        e = Ether(bytes(b))
        got = e[TCP].chksum
        del e[TCP].chksum
        want = Ether(bytes(e))[TCP].chksum
        if got != want:
            # Linux hands the veth the pseudo-header sum (CHECKSUM_PARTIAL)
            b[70:72] = want.to_bytes(2, "big")
            if ours:
                b += b"BAD-TCP-CSUM"
    return bytes(b)


for name, t0, t1, back in marks:
    b = [norm(bytes.fromhex(h), t0) for h in back]
    got = [norm(bytes.fromhex(h), float(t), True) for t, h in lan
           if t0 <= float(t) < t1]
    d = hashlib.sha256(b"|".join(b) + b"||" + b"|".join(got)).hexdigest()[:12]
    print("%s %d/%d %s" % (name, len(b), len(got), d))
EOF
}

probes k
probes g
kernel=$(result k)
ours=$(result g)
# what Linux 6.18 gives: back to the sender / on to the LAN
want="ns 1/0
ns-unicast 1/0
ns-unicast-bare 1/0
ns-anycast 1/0
ns-anycast-lan 0/0
ns-lan-addr 0/0
arp 1/0
arp-lan-addr 1/0
arp-off-link 1/0
arp-ours 0/0
rr 0/1
rr-full 0/1
ts-only 0/1
ts-addr 0/1
ts-prespec 0/1
ts-full 0/1
end-junk 0/1
ra 0/1
lsrr 0/0
rr-len0 1/0
cipso 1/0
rr-ttl1 1/0
echo-rr 1/0
rr-unresolved 1/0
ts-unresolved 1/0
tcp-doff 0/1
tcp-short 0/1
udp-long 0/1
udp6-len4 0/1
tcp-doff-local 0/0
udp-long-local 0/0
bcast-lan 0/0
bcast-ping 0/0
src-ours 0/0
anycast-echo 1/0
echo-all-nodes 1/0
echo-all-nodes-ll 1/0
echo-all-routers 1/0
echo-all-hosts4 0/0
anycast-udp 1/0
anycast-tcp 0/0
echo-zero 1/0
timestamp 1/0
udp 1/0
udp-badsum 0/0
udp6 1/0
udp6-nosum 0/0
tcp-syn 1/0
tcp-ack 1/0
tcp-rst 0/0
tcp-badsum 0/0
tcp-rr 1/0
tcp6-syn 1/0
tcp6-ack 1/0
proto253 1/0
igmp 0/0
pim 0/0
udplite-bad 0/0
nh253 1/0
nh59 0/0
hbh-ra 0/1
hbh-skip 0/1
hbh-drop 0/0
hbh-icmp 1/0
hbh-icmp-mc 1/0
dst-fwd 0/1
dst-skip 1/0
dst-drop 0/0
dst-icmp 1/0
rh0 1/0
rh0-done 1/0
srh-done 0/0
frag-echo 3/0
frag-echo-rev 3/0
frag-echo-dup 3/0
frag-echo-odd 3/0
frag-echo-ce 3/0
frag-echo-ecnmix 0/0
frag-overlap 0/0
frag-last-short 0/0
frag-udp 1/0
frag-udp-df 1/0
frag-tcp 1/0
frag-timeout 1/0
frag-timeout-odd 1/0
frag-timeout-later 0/0
frag-63-between-timeout 4/0
frag-64-between-timeout 1/0
frag6-echo 3/0
frag6-echo-rev 3/0
frag6-echo-ce 3/0
frag6-overlap 0/0
frag6-udp 1/0
frag6-odd 1/0
frag6-toolong 1/0
frag6-no-l4 1/0
frag6-timeout 1/0
frag6-timeout-later 0/0
frag6-atomic-udp 1/0
frag6-atomic-echo 1/0
frag6-atomic-ns 0/0
frag-later-ttl1 0/0
frag6-later-hlim1 1/0
frag6-icmp-cut-hlim1 1/0
frag6-nested 1/0"
[ "$PIM" = 1 ] || want=$(grep -v '^pim ' <<<"$want")
fails=0
twin_compare "$want" "$kernel" "$ours" frames
twin_stop
"$PY" - "$WORK/stats.json" <<'EOF' || fails=1
import json, sys
ports = {p["port"]: p for p in (json.loads(l) for l in open(sys.argv[1]) if l.strip())}
wan = ports["wan"]
got = (wan["resets"], wan["drop"].get("ip-options", 0), wan["reasm"],
       wan["reasm_timeouts"], wan["drop"].get("reasm", 0))
print("grogso's WAN port: resets %d, ip-options %d, reassembled %d, "
      "timed out %d, fragments refused %d" % got)
if got != (6, 10, 14, 8, 134):
    print("FAIL: wanted 6, 10, 14, 8 and 134")
    sys.exit(1)
EOF
[ "$fails" = 0 ] || exit 1
ok "odd datagrams routed, refused and answered as by Linux"
