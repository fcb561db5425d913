#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Compare grogso's GRO, and its GRO then GSO, with the running kernel's.

    kernel_diff.py [--grogso-arg=ARG]... [--random=N [--seed=S]]
                   [--live=tap|packet|pcap [--mode=bridge|route [--lan-mtu=N]]]
                   GROGSO WORKDIR [CASE...]
    kernel_diff.py [--grogso-arg=ARG]... --pcap=FILE [--batch=N]
                   [--batch-gap-us=N] [--live=tap|packet|pcap [--mode=...]]
                   GROGSO WORKDIR

Run as root inside a network namespace of its own: lab/kernel-diff.sh
makes one and runs this in it.  Every case is a short train of
frames, one batch.  --random=N adds N random trains (see random_flow);
the case random:S:I is train I of seed S, built again.  With --pcap the
frames of FILE are cut into batches as grogso replay cuts them (at N
frames, 64 by default, or at a gap of more than N microseconds, 100 by
default), and the comparison is printed flow by flow; this takes about
150 ms per batch.

The kernel gets it through a TAP device opened with IFF_NAPI: a write is
received by the TAP's NAPI instance, which runs napi_gro_receive.
gro_flush_timeout on the TAP makes the end of each poll complete only the
aggregates of an earlier jiffy, and the timer completes the rest, so a
train written within one jiffy is aggregated as one NAPI poll would
aggregate it.  The TAP is in a bridge with two veths.  One has no TSO and
no UDP segmentation offload, so the bridge's transmit there segments
every aggregate in software (Linux's GSO).  The other has TSO and USO,
and takes whole what Linux hands such a device whole: not a fixed-ID TCP
aggregate without DF, nor any fixed-ID TCP aggregate where its TSO may
not keep IDs fixed (--live tap: as a TAP's).  Two AF_PACKET sockets with
PACKET_VNET_HDR read what reached the veths' peers (with gso_size and the
checksum state).

grogso gets the same train as a capture in which every frame of a batch
has the same time and batches are a second apart, so `grogso replay
--batch=4096` cuts the same batches; twice, both with --gso-ipid=linux
(the IDs Linux gives what it segments): with --gso=offload it writes
every aggregate whole that Linux would hand a device whole, with
--gso=software it segments them all again.  --grogso-arg adds an option to
both command lines (the test uses it to check that a difference is seen).
With --live the grogso side is the daemon instead (see Live; with
--live=pcap the daemon offline on pcap ports, see Offline), a train or
a batch of a capture at a time.  --mode=route (with --live) compares
grogso's route mode with the kernel's forwarding: both route the trains
to a next hop (see route_wiring), and the aggregates are captured as
routed, on a veth with TSO behind the kernel's router.  --lan-mtu=N
gives the LAN links of both routers the MTU N: what is too big is then
fragmented (IPv4 without DF; the fragments past the first are compared
as flows of their own, by addresses, protocol and ID) or refused with an
ICMP error (nothing comes out); the CAVEATS cases are skipped.  In route
mode the ICMP errors each router sends back are compared too, byte for
byte but for the IPv4 ID (and the header checksum it changes); the
kernel's ICMP rate limits and automatic flow labels are off.

Then, flow by flow (the kernel completes what is held at the end in the
order of its hash buckets, so only the order within a flow is defined),
the lists of frames must be equal byte for byte: the aggregates, with the
same gso_size, and the segments.  The kernel leaves the TCP or UDP
checksum partial (the pseudo-header sum, with NEEDS_CSUM) where replay
writes it complete, as a peer would receive it; the harness completes the
kernel's before comparing (and the partial checksums of frames replay
passes on untouched).  Frames whose checksum is partial when they go in
(captured behind a sender with checksum offload) are written to the TAP
with NEEDS_CSUM, which is how replay takes them (--checksum=lenient).  It also puts back the VLAN tags the kernel
moved out of the frames (they come as PACKET_AUXDATA); the trains of
tagged frames are skipped on a kernel that does not aggregate them
(built without 802.1Q support).  The CAVEATS cases are where grogso differs
from Linux on purpose; each has its own check that the aggregates differ
exactly as the man page says.

A train whose writes straddle a tick of CLOCK_MONOTONIC_COARSE (which
moves with jiffies) is written again; a case, or a batch of a capture,
counts once two trains written within one tick gave the same frames.
"""

import ctypes
import fcntl
import json
import logging
import os
import random
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import time

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
# after quieting scapy's warnings about the namespace's lone loopback
from scapy.all import (ARP, IP, TCP, UDP, Ether, ICMPv6ND_NS,  # noqa: E402
                       ICMPv6NDOptSrcLLAddr, IPOption_NOP, IPv6,
                       IPv6ExtHdrDestOpt, PcapReader, Raw, Scapy_Exception,
                       rdpcap)

TUNSETIFF = 0x400454CA
IFF_TAP, IFF_NO_PI, IFF_NAPI, IFF_VNET_HDR = 0x0002, 0x1000, 0x0010, 0x4000
SOL_PACKET, PACKET_AUXDATA, PACKET_STATISTICS, PACKET_VNET_HDR = 263, 8, 6, 15
SO_RCVBUFFORCE = 33
CAPTURE_BUF = 256 << 20                 # bytes a capture socket may hold
TP_STATUS_VLAN_VALID, TP_STATUS_VLAN_TPID_VALID = 0x10, 0x40
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
CLOCK_MONOTONIC_COARSE = 6
VNET_F_NEEDS_CSUM = 1
DLT_EN10MB = 1
OTHER = ("other",)                      # the flow of a frame that is not TCP or UDP

TAP, BRIDGE = "kgro0", "kgrobr"
VETH, PEER = "kgso0", "kgso1"
FLUSH_TIMEOUT_NS = 10_000_000           # gro_flush_timeout: 10 ms
QUIET_S = 0.02                          # no frame for this long: all are in
SMAC, DMAC = "02:00:00:00:00:05", "02:00:00:00:00:04"
SRC4, DST4 = "198.19.1.2", "198.18.1.2"
SRC6, DST6 = "2001:db8:2::2", "2001:db8:1::2"
TS = [("NOP", None), ("NOP", None), ("Timestamp", (1000, 2000))]

# --mode=route: both routers take the trains on the WAN side (the kernel's
# TAP has the address DMAC, grogso's port its own) and send them to a next
# hop on a link of their own on the LAN side
AGG, AGG_PEER = "kagg0", "kagg1"        # the kernel's LAN veth with TSO
WAN_ADDRS = ("198.19.1.1/24", "2001:db8:2::1/64")
LAN_ADDRS = ("192.0.2.1/24", "2001:db8:9::1/64")
NEXT_HOPS = ("192.0.2.2", "2001:db8:9::2")
ROUTES = (("198.18.1.0/24", NEXT_HOPS[0]), ("2001:db8:1::/64", NEXT_HOPS[1]))
KERNEL_LAN_MAC, NEXT_HOP_MAC = "02:00:00:00:01:04", "02:00:00:00:01:02"
CLONE_NEWNET = 0x40000000


def payload(n, seed):
    return bytes((seed * 7 + i) & 0xFF for i in range(n))


# ---- the cases ------------------------------------------------------------


def flow(n, size, each, l3, ip_of, l4, l4_of, dstopt=False):
    """n frames of one flow: l3 (IP or IPv6) with the header fields
    ip_of(i), then l4 (TCP or UDP) with l4_of(sent), sent being the
    payload bytes before; each(i, ip, l4, d) may edit frame i."""
    out, sent = [], 0
    for i in range(n):
        ip, hdr, d = ip_of(i), l4_of(sent), dict(len=size)
        if each:
            each(i, ip, hdr, d)
        net = l3(**ip) / IPv6ExtHdrDestOpt() if dstopt else l3(**ip)
        out.append(Ether(src=SMAC, dst=DMAC) / net / l4(**hdr) /
                   Raw(payload(d["len"], i)))
        sent += d["len"]
    return out


def ip4_of(ipid, idstep, df):
    return lambda i: dict(src=SRC4, dst=DST4, id=(ipid + i * idstep) & 0xFFFF,
                          flags="DF" if df else 0, ttl=64, tos=0)


def ip6_of(label):
    return lambda i: dict(src=SRC6, dst=DST6, hlim=64, fl=label, tc=0)


def tcp_of(sport, seq, opts):
    return lambda sent: dict(sport=sport, dport=5201, seq=seq + sent, ack=7, flags="A",
                             window=502, options=list(opts))


def tcp4(n, mss=1448, seq=1, sport=40000, ipid=100, idstep=1, df=True,
         opts=TS, each=None):
    """n segments of one TCP/IPv4 flow; each(i, ip, tcp, data) may edit one."""
    return flow(n, mss, each, IP, ip4_of(ipid, idstep, df), TCP, tcp_of(sport, seq, opts))


def tcp6(n, mss=1428, sport=40100, each=None, dstopt=False, opts=TS):
    return flow(n, mss, each, IPv6, ip6_of(0x12345), TCP, tcp_of(sport, 1, opts),
                dstopt)


def udp4(n, size=600, sport=41000, ipid=1, idstep=1, df=True, each=None):
    return flow(n, size, each, IP, ip4_of(ipid, idstep, df), UDP,
                lambda sent: dict(sport=sport, dport=5201))


def udp6(n, size=600, sport=41100, each=None, dstopt=False):
    return flow(n, size, each, IPv6, ip6_of(7), UDP,
                lambda sent: dict(sport=sport, dport=5201), dstopt)


def at(k, fn):
    """an `each` that applies fn(ip, tcp, d) to segment k and the ones after"""
    def each(i, ip, tcp, d):
        if i >= k:
            fn(ip, tcp, d)
    return each


def only(k, fn):
    def each(i, ip, tcp, d):
        if i == k:
            fn(ip, tcp, d)
    return each


def setf(obj, key, val):
    obj[key] = val


def padded(frames, to=60):
    """Ethernet padding, as a wire adds it to short frames: bytes after
    the IP datagram (added to the bytes, since scapy would count them in
    the IP and UDP lengths)"""
    return [Ether(bytes(f) + b"\0" * (to - len(f))) if len(f) < to else f
            for f in frames]


def tagged(frames, vid, tpid=0x8100):
    """the frames with an 802.1Q tag (or 802.1ad with tpid 0x88a8)"""
    return [Ether(bytes(f)[:12] + struct.pack("!HH", tpid, vid) + bytes(f)[12:])
            for f in frames]


def partial(frames):
    """the frames with the TCP or UDP checksum left partial (the
    pseudo-header sum), as a sender with checksum offload hands them on"""
    out = []
    for f in frames:
        b = bytearray(bytes(f))
        h = headers(bytes(b))
        struct.pack_into("!H", b, h[3] + (16 if h[0] == 6 else 6), pseudo_sum(h))
        out.append(Ether(bytes(b)))
    return out


def interleave(*flows):
    out = []
    for i in range(max(len(f) for f in flows)):
        out += [f[i] for f in flows if i < len(f)]
    return out


CASES = {
    "tcp4-train": lambda: tcp4(10),
    "tcp4-max-size": lambda: tcp4(50),
    "tcp4-mss-536": lambda: tcp4(40, mss=536),
    "tcp4-psh": lambda: tcp4(6, each=only(2, lambda ip, t, d: setf(t, "flags", "PA"))),
    "tcp4-fin": lambda: tcp4(4, each=only(3, lambda ip, t, d: setf(t, "flags", "FA"))),
    "tcp4-urg": lambda: tcp4(5, each=only(2, lambda ip, t, d: setf(t, "flags", "UA"))),
    "tcp4-cwr": lambda: tcp4(6, each=only(3, lambda ip, t, d: setf(t, "flags", "CA"))),
    "tcp4-ece": lambda: tcp4(6, each=at(3, lambda ip, t, d: setf(t, "flags", "EA"))),
    "tcp4-ttl": lambda: tcp4(6, each=at(3, lambda ip, t, d: setf(ip, "ttl", 63))),
    "tcp4-tos": lambda: tcp4(6, each=at(3, lambda ip, t, d: setf(ip, "tos", 0x10))),
    "tcp4-ecn-ce": lambda: tcp4(6, each=only(2, lambda ip, t, d: setf(ip, "tos", 3))),
    "tcp4-ack": lambda: tcp4(6, each=at(3, lambda ip, t, d: setf(t, "ack", 9))),
    "tcp4-window": lambda: tcp4(6, each=at(3, lambda ip, t, d: setf(t, "window", 503))),
    "tcp4-tsval": lambda: tcp4(6, each=at(3, lambda ip, t, d: setf(
        t, "options", [("NOP", None), ("NOP", None), ("Timestamp", (1001, 2000))]))),
    "tcp4-no-options": lambda: tcp4(8, opts=[]),
    "tcp4-short-then-long": lambda: tcp4(
        6, each=only(2, lambda ip, t, d: setf(d, "len", 1000))),
    "tcp4-long-after-short": lambda: tcp4(
        5, each=only(0, lambda ip, t, d: setf(d, "len", 1000))),
    "tcp4-seq-gap": lambda: tcp4(6, each=at(3, lambda ip, t, d: setf(
        t, "seq", t["seq"] + 1448))),
    "tcp4-pure-ack": lambda: tcp4(6, each=only(3, lambda ip, t, d: setf(d, "len", 0))),
    "tcp4-id-fixed-df": lambda: tcp4(6, idstep=0),
    "tcp4-id-fixed-nodf": lambda: tcp4(6, idstep=0, df=False),
    "tcp4-id-jump": lambda: tcp4(6, each=at(3, lambda ip, t, d: setf(
        ip, "id", ip["id"] + 50))),
    "tcp4-id-fixed-then-inc": lambda: tcp4(6, idstep=0, each=lambda i, ip, t, d: setf(
        ip, "id", 100 + i if i >= 3 else 100)),
    "tcp4-df-change": lambda: tcp4(6, each=at(3, lambda ip, t, d: setf(ip, "flags", 0))),
    "tcp4-id-wrap": lambda: tcp4(6, ipid=0xFFFD),
    "tcp4-two-flows": lambda: interleave(tcp4(8), tcp4(8, sport=40001, ipid=900)),
    "tcp4-csum-partial": lambda: partial(tcp4(8)),
    "tcp4-syn": lambda: tcp4(6, each=only(3, lambda ip, t, d: setf(t, "flags", "SA"))),
    "tcp4-rst": lambda: tcp4(5, each=only(2, lambda ip, t, d: setf(t, "flags", "RA"))),
    "tcp4-reorder": lambda: [f for i, f in sorted(
        enumerate(tcp4(6)), key=lambda x: (x[0] != 3, x[0]))],
    "tcp4-tiny-padded": lambda: padded(tcp4(6, mss=2, opts=[])),
    "tcp4-vlan": lambda: tagged(tcp4(10), 10),
    "tcp4-two-vlans": lambda: interleave(tagged(tcp4(6), 10), tagged(tcp4(6), 20)),
    "tcp4-vlan-prio": lambda: tagged(tcp4(6), 10)[:3] + tagged(tcp4(6), 0x2000 | 10)[3:],
    "tcp4-vlan-lone": lambda: interleave(tcp4(6), tagged(tcp4(1, sport=40002), 10)),
    "tcp6-train": lambda: tcp6(10),
    "tcp6-max-size": lambda: tcp6(50),
    "tcp6-psh": lambda: tcp6(6, each=only(2, lambda ip, t, d: setf(t, "flags", "PA"))),
    "tcp6-hlim": lambda: tcp6(6, each=at(3, lambda ip, t, d: setf(ip, "hlim", 63))),
    "tcp6-flowlabel": lambda: tcp6(6, each=at(3, lambda ip, t, d: setf(ip, "fl", 0x54321))),
    "tcp6-tclass": lambda: tcp6(6, each=at(3, lambda ip, t, d: setf(ip, "tc", 0x10))),
    "tcp6-dstopts": lambda: tcp6(8, mss=1420, dstopt=True),
    "tcp6-csum-partial": lambda: partial(tcp6(8)),
    "udp4-train": lambda: udp4(8),
    "udp4-short-last": lambda: udp4(6, each=only(5, lambda ip, t, d: setf(d, "len", 300))),
    "udp4-long-after-short": lambda: udp4(
        5, each=only(1, lambda ip, t, d: setf(d, "len", 300))),
    "udp4-id-fixed": lambda: udp4(6, idstep=0),
    "udp4-id-fixed-nodf": lambda: udp4(6, idstep=0, df=False),
    "udp4-ttl": lambda: udp4(6, each=at(3, lambda ip, t, d: setf(ip, "ttl", 63))),
    "udp4-many": lambda: udp4(120, size=500),
    "udp4-tiny-padded": lambda: padded(udp4(6, size=4)),
    "udp4-no-csum": lambda: [f.__class__(bytes(f)[:40] + b"\0\0" + bytes(f)[42:])
                             for f in udp4(6)],
    "udp4-vlan": lambda: tagged(udp4(8), 10),
    "udp4-csum-partial": lambda: partial(udp4(8)),
    "udp6-train": lambda: udp6(8),
    "udp6-dstopts": lambda: udp6(8, dstopt=True),
}

# the cases that need the kernel to aggregate VLAN-tagged frames
VLAN_GRO = {"tcp4-vlan", "tcp4-two-vlans", "tcp4-vlan-prio", "udp4-vlan"}


# Where grogso differs from Linux on purpose (CAVEATS in the man page):
# each case comes with a check that the difference is the one documented.
def overtaken(refused, what):
    """a frame GRO does not merge (`what`, found by refused(packet)) in the
    middle of a train: Linux passes it up at once, ahead of the segments
    it holds; grogso sends the held aggregate first.  Otherwise the same
    frames."""
    def check(kgro, gout):
        k = [f for f, _ in kgro]
        if sorted(k) != sorted(gout):
            return ["not the same frames in another order"]
        j = next((i for i, f in enumerate(gout) if refused(Ether(f))), None)
        if j is None or j == 0:
            return ["grogso did not send the frame with %s after an aggregate" % what]
        want = gout[:j - 1] + [gout[j], gout[j - 1]] + gout[j + 1:]
        if k != want:
            return ["the kernel's order %s is not grogso's %s with the frame with %s "
                    "first" % ([len(f) for f in k], [len(f) for f in gout], what)]
        return []
    return check


def capped(kgro, gout):
    """80 segments of 100 bytes: Linux limits TCP aggregates by size only
    and merges all 80; grogso stops at --gro-max-segs, 64"""
    ks = [-(-l4_payload(f) // gs) if gs else 1 for f, gs in kgro]
    gs = [-(-l4_payload(f) // 100) for f in gout]
    if ks != [80] or gs != [64, 16]:
        return ["segments per aggregate: kernel %s (80 expected), grogso %s "
                "(64 16 expected)" % (ks, gs)]
    return []


MANY_FLOWS = 80                         # more than Linux holds at once: 8 x 8


def many_flows():
    """three segments of each of 80 flows, the flows taking turns"""
    return interleave(*[tcp4(3, sport=43000 + k, ipid=1000 * k)
                        for k in range(MANY_FLOWS)])


def crowded(kgro, gout):
    """Linux holds at most 8 aggregates in each of its 8 buckets and
    completes the oldest of a full bucket for a new flow, so with 80
    flows held at once some are cut; grogso's table holds them all"""
    gs = [-(-l4_payload(f) // 1448) for f in gout]
    ks = [-(-l4_payload(f) // gs) if gs else 1 for f, gs in kgro]
    if gs != [3] * MANY_FLOWS:
        return ["grogso: segments per aggregate %s, not %d x 3" % (gs, MANY_FLOWS)]
    if len(ks) <= MANY_FLOWS or sum(ks) != 3 * MANY_FLOWS:
        return ["the kernel: %d frames of %d segments; more than %d frames of %d "
                "expected" % (len(ks), sum(ks), MANY_FLOWS, 3 * MANY_FLOWS)]
    return []


def ip_options_at(k):
    def each(i, ip, tcp, d):
        if i == k:
            ip["options"] = [IPOption_NOP()] * 4
    return each


BAD_CSUM = 0x1234                       # not the segment's checksum


def bad_tcp_csum_at(k):
    def each(i, ip, tcp, d):
        if i == k:
            tcp["chksum"] = BAD_CSUM
    return each


def udp_no_csum_at(k):
    def each(i, ip, udp, d):
        if i == k:
            udp["chksum"] = 0
    return each


def fragment_at(k):
    def each(i, ip, tcp, d):
        if i == k:
            ip["flags"] = "MF"
    return each


CAVEATS = {
    "tcp4-ip-options-overtake": (
        lambda: tcp4(6, mss=1440, each=ip_options_at(3)),
        overtaken(lambda p: p[IP].ihl > 5, "IP options")),
    "tcp4-fragment-overtake": (
        lambda: tcp4(6, mss=1440, each=fragment_at(3)),
        overtaken(lambda p: p[IP].flags.MF, "MF set")),
    "tcp4-bad-csum-overtake": (
        lambda: tcp4(6, each=bad_tcp_csum_at(3)),
        overtaken(lambda p: p[TCP].chksum == BAD_CSUM, "a bad TCP checksum")),
    "udp4-no-csum-overtake": (
        lambda: udp4(6, each=udp_no_csum_at(3)),
        overtaken(lambda p: p[UDP].chksum == 0, "no UDP checksum")),
    "udp4-padded-overtake": (
        lambda: padded(udp4(6, each=only(3, lambda ip, u, d: setf(d, "len", 4)))),
        # the short datagram (route mode forwards it without its padding)
        overtaken(lambda p: p[UDP].len == 8 + 4, "padding")),
    "tcp4-gro-max-segs": (lambda: tcp4(80, mss=100), capped),
    "tcp4-many-flows": (many_flows, crowded),
}


# ---- random trains ---------------------------------------------------------
#
# Trains the built-in cases do not think of: one to three flows of random
# kinds and sizes, each with a few changes of the kinds the cases make
# one at a time (flags, TTL, TOS and ECN, ACK, window, options, sequence,
# length, ID, DF, flow label, checksums left partial), interleaved at
# random and now and then two frames swapped.  Never what CAVEATS lists
# (IP options, fragments, bad or zero checksums, UDP behind held
# datagrams of its flow in a padded frame, over 64 segments).
# Train I of seed S is its own random stream: the case "random:S:I"
# builds it again.

RANDOM_FRAMES = 60                      # at most, in a train


def random_flow(rnd, kind, sport, n):
    """n frames of a flow of `kind` (tcp4, tcp6, udp4, udp6) and the
    changes made, in words"""
    v4, tcp = kind.endswith("4"), kind.startswith("tcp")
    tiny = rnd.random() < 0.1
    if tiny:
        size = rnd.randint(1, 6)
    elif tcp:
        size = rnd.choice((1448 if v4 else 1428, 1000, 536, 100, rnd.randint(1, 1448)))
    else:
        size = rnd.choice((600, 1400, 64, rnd.randint(1, 1472)))
    dstopt = not v4 and rnd.random() < 0.15
    # the largest payload a 1514-byte frame carries (with the timestamp
    # option, which a tiny flow may gain on the way)
    room = 1500 - (20 if v4 else 40) - (8 if dstopt else 0) - (32 if tcp else 8)
    size = min(size, room)
    ipid = rnd.choice((1, 100, 0xFFFE, rnd.randint(0, 0xFFFF)))
    idstep = 0 if (v4 and rnd.random() < 0.25) else 1
    df = not v4 or rnd.random() < 0.8
    notes = ["%s sport %d: %d x %d bytes%s%s%s" % (
        kind, sport, n, size, ", fixed ID" if v4 and not idstep else "",
        "" if df else ", no DF", ", Destination Options" if dstopt else "")]
    # an IPv4 UDP datagram in a frame padded to 60 bytes, one with less
    # than 18 bytes of payload, overtakes the held ones of its flow in
    # Linux (CAVEATS): a flow of such datagrams has none held, and other
    # flows have none that small
    shortest = 18 if kind == "udp4" and size >= 18 else 1
    kinds = ["ttl", "tos", "ce", "short"]
    if shortest > 1 or kind != "udp4":
        kinds += ["long"]
    if v4:
        kinds += ["idjump", "idrepeat", "df"]
    else:
        kinds += ["flowlabel"]
    if tcp:
        kinds += ["psh", "fin", "urg", "cwr", "ece", "syn", "rst", "ack", "window",
                  "tsval", "noopts", "gap", "retrans", "empty"]
    plan = {}
    for i in range(n):
        if rnd.random() < 0.12:
            plan[i] = (rnd.choice(kinds), rnd.random() < 0.5)
    state = {"ip": {}, "l4": {}, "seq": 0, "id": 0}
    last = {}

    def each(i, ip, l4, d):
        if v4:
            ip["id"] = (ip["id"] + state["id"]) & 0xFFFF
        if tcp:
            l4["seq"] += state["seq"]
        ip.update(state["ip"])
        l4.update(state["l4"])
        if i in plan:
            what, keep = plan[i]
            ipc, l4c = {}, {}
            if what == "ttl":
                ipc["ttl" if v4 else "hlim"] = 63
            elif what == "tos":
                ipc["tos" if v4 else "tc"] = 0x10
            elif what == "ce":
                ipc["tos" if v4 else "tc"] = 3
            elif what == "flowlabel":
                ipc["fl"] = 0x54321
            elif what == "df":
                ipc["flags"] = 0 if df else "DF"
            elif what == "short" and size > shortest:
                d["len"] = rnd.randint(shortest, size - 1)
            elif what == "long" and size < room:
                d["len"] = rnd.randint(size + 1, room)
            elif what == "idjump":
                state["id"] += 50
                ip["id"] = (ip["id"] + 50) & 0xFFFF
            elif what == "idrepeat" and "id" in last:
                ip["id"] = last["id"]
            elif what in ("psh", "fin", "urg", "cwr", "ece", "syn", "rst"):
                l4c["flags"] = {"psh": "PA", "fin": "FA", "urg": "UA", "cwr": "CA",
                                "ece": "EA", "syn": "SA", "rst": "RA"}[what]
            elif what == "ack":
                l4c["ack"] = 7 + 1448 * rnd.randint(1, 4)
            elif what == "window":
                l4c["window"] = 503
            elif what == "tsval":
                l4c["options"] = [("NOP", None), ("NOP", None),
                                  ("Timestamp", (1001 + i, 2000))]
            elif what == "noopts":
                l4c["options"] = []
            elif what == "gap":
                state["seq"] += 1448
                l4["seq"] += 1448
            elif what == "retrans" and "len" in last:
                l4["seq"] -= last["len"]
            elif what == "empty":
                d["len"] = 0
            else:
                what = None
            if what:
                ip.update(ipc)
                l4.update(l4c)
                if keep and (ipc or l4c):
                    state["ip"].update(ipc)
                    state["l4"].update(l4c)
                notes.append("%s at %d%s" % (what, i, " on" if keep and (ipc or l4c) else ""))
        last["id"] = ip.get("id")
        last["len"] = d["len"]

    opts = [] if tiny else TS
    if kind == "tcp4":
        frames = tcp4(n, mss=size, sport=sport, ipid=ipid, idstep=idstep, df=df,
                      opts=opts, each=each)
    elif kind == "tcp6":
        frames = tcp6(n, mss=size, sport=sport, opts=opts, each=each, dstopt=dstopt)
    elif kind == "udp4":
        frames = udp4(n, size=size, sport=sport, ipid=ipid, idstep=idstep, df=df,
                      each=each)
    else:
        frames = udp6(n, size=size, sport=sport, each=each, dstopt=dstopt)
    if rnd.random() < 0.2:
        frames = partial(frames)
        notes.append("checksums partial")
    elif rnd.random() < 0.1:
        k = rnd.randrange(n)
        frames[k] = partial([frames[k]])[0]
        notes.append("checksum partial at %d" % k)
    if tiny:
        frames = padded(frames)
    return frames, notes


def random_train(seed, i):
    """(frames, notes): train i of seed"""
    rnd = random.Random("%s:%d" % (seed, i))
    flows, notes, left = [], [], RANDOM_FRAMES
    for k in range(rnd.randint(1, 3)):
        if left < 1:
            break
        n = rnd.randint(1, min(40, left))
        left -= n
        f, nt = random_flow(rnd, rnd.choice(("tcp4", "tcp6", "udp4", "udp6")),
                            42000 + k, n)
        flows.append([bytes(x) for x in f])
        notes += nt
    # interleaved at random, each flow in its order
    out = []
    while any(flows):
        f = rnd.choice([f for f in flows if f])
        out.append(f.pop(0))
    assert all(len(f) <= 1514 for f in out), "a random frame over 1514 bytes"
    for _ in range(2):
        if len(out) > 1 and rnd.random() < 0.15:
            j = rnd.randrange(len(out) - 1)
            out[j], out[j + 1] = out[j + 1], out[j]
            notes.append("frames %d and %d swapped" % (j, j + 1))
    return out, notes


def is_random(name):
    parts = name.split(":")
    return len(parts) == 3 and parts[0] == "random" and parts[2].isdigit()


def ext_over_mtu(frame, mtu):
    """an IPv6 datagram with extension headers, longer than mtu by 40
    bytes at most: Linux 6.18 leaves the fixed header out when it checks
    an aggregate of such segments against the MTU, and forwards it
    (CAVEATS); grogso refuses it, as a segment that long is refused"""
    h = headers(frame)
    if h is None or frame[12:14] != b"\x86\xdd":
        return False
    ip_len = h[4] - 14
    return h[3] > 14 + 40 and mtu < ip_len <= mtu + 40


def random_case(name):
    """the train of a case named random:SEED:I"""
    _, seed, i = name.split(":")
    return random_train(seed, int(i))


# ---- the kernel's side ----------------------------------------------------


def sh(cmd):
    subprocess.run(cmd, shell=True, check=True)


def capture(dev):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    # room for a whole batch of aggregates: the default buffer holds about
    # three of 64 KiB, and what does not fit is dropped (see lost())
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, CAPTURE_BUF)
    s.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
    s.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)     # the VLAN tag the kernel took
    s.bind((dev, 0))
    return s


def netns_name():
    """the name of this process's network namespace if it was made with
    `ip netns add`, else None"""
    me = os.stat("/proc/self/ns/net").st_ino
    try:
        names = os.listdir("/run/netns")
    except OSError:
        return None
    for n in names:
        try:
            if os.stat(os.path.join("/run/netns", n)).st_ino == me:
                return n
        except OSError:
            pass
    return None


def in_netns(name, fn):
    """fn() run in the network namespace `name` (a socket it opens stays
    there)"""
    libc = ctypes.CDLL(None, use_errno=True)
    home = os.open("/proc/self/ns/net", os.O_RDONLY)
    there = os.open(os.path.join("/run/netns", name), os.O_RDONLY)
    try:
        if libc.setns(there, CLONE_NEWNET):
            raise OSError(ctypes.get_errno(), "setns %s" % name)
        try:
            return fn()
        finally:
            if libc.setns(home, CLONE_NEWNET):
                raise OSError(ctypes.get_errno(), "setns back")
    finally:
        os.close(home)
        os.close(there)


def open_lab(route=False, keep_ids=True, lan_mtu=None):
    """the TAP with NAPI, and behind it two veths in a bridge: one without
    segmentation offloads, one with TSO and USO (keep_ids: whose TSO may
    keep IPv4 IDs fixed, tx-tcp-mangleid-segmentation, as a veth's does
    and a TAP's does not).  Returns the TAP's fd, a capture of the
    aggregates (on the peer of the veth with TSO: what the kernel hands
    such a device whole) and a capture of the segments (on the other
    peer).  Bridge mode: the TAP is in the bridge; route mode: the kernel
    routes from the TAP to the bridge (see route_wiring).  Learning off,
    the bridge floods every frame to both veths"""
    if not netns_name():
        print("kernel_diff.py sets up devices and sysctls of its own: run it in a "
              "network namespace of its own, made with ip netns (lab/kernel-diff.sh "
              "does that)")
        sys.exit(2)
    fd = os.open("/dev/net/tun", os.O_RDWR)
    try:
        fcntl.ioctl(fd, TUNSETIFF,
                    struct.pack("16sH", TAP.encode(),
                                IFF_TAP | IFF_NO_PI | IFF_NAPI | IFF_VNET_HDR))
    except OSError as e:
        print("SKIP: TUNSETIFF with IFF_NAPI: %s" % e)
        sys.exit(77)
    if not route:
        sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
           "net.ipv6.conf.default.disable_ipv6=1")
    # with br_netfilter, a bridge runs IP frames through checks of the
    # IP layer first, which cut their Ethernet padding: not the bridge's
    # own forwarding, which is what is compared
    for f in ("iptables", "ip6tables", "arptables"):
        path = "/proc/sys/net/bridge/bridge-nf-call-" + f
        if os.path.exists(path):
            with open(path, "w") as fh:
                fh.write("0")
    with open("/sys/class/net/%s/gro_flush_timeout" % TAP, "w") as f:
        f.write(str(FLUSH_TIMEOUT_NS))
    sh("ethtool -K %s gro on rx-gro-list off rx-udp-gro-forwarding on >/dev/null" % TAP)
    # left from an earlier run in this namespace (the TAP goes with its fd)
    subprocess.run("ip link del %s; ip link del %s; ip link del %s" % (BRIDGE, VETH, AGG),
                   shell=True, stderr=subprocess.DEVNULL)
    sh("ip link add %s type bridge" % BRIDGE)
    for dev, peer in ((VETH, PEER), (AGG, AGG_PEER)):
        sh("ip link add %s type veth peer name %s" % (dev, peer))
        sh("ethtool -K %s gro off >/dev/null" % peer)
    sh("ethtool -K %s tso off tx-udp-segmentation off >/dev/null" % VETH)
    sh("ethtool -K %s tso on tx-udp-segmentation on >/dev/null" % AGG)
    # on its own: "tso" sets every TCP segmentation feature, this one too
    sh("ethtool -K %s tx-tcp-mangleid-segmentation %s >/dev/null" %
       (AGG, "on" if keep_ids else "off"))
    # a capture has both directions on one wire: a bridge that learnt the
    # addresses on one port would not flood them to the others
    for dev in (VETH, AGG) if route else (TAP, VETH, AGG):
        sh("ip link set %s master %s && ip link set %s type bridge_slave learning off"
           % (dev, BRIDGE, dev))
    for dev in (TAP, VETH, PEER, AGG, AGG_PEER, BRIDGE):
        sh("ip link set %s up" % dev)
    if route:
        # before the routes, which take their MTU from the device
        if lan_mtu:
            for dev in (VETH, PEER, AGG, AGG_PEER, BRIDGE):
                sh("ip link set %s mtu %d" % (dev, lan_mtu))
        route_wiring()
    # route mode: the ICMP errors the kernel sends back out of the TAP
    return fd, capture(AGG_PEER), capture(PEER), capture(TAP) if route else None


def route_wiring():
    """the kernel routes from the TAP (the WAN side: the address DMAC
    and WAN_ADDRS) to the bridge (the LAN side: KERNEL_LAN_MAC and
    LAN_ADDRS), through NEXT_HOPS, permanent neighbours at NEXT_HOP_MAC"""
    sh("sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 "
       "net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0")
    sh("ip link set %s address %s" % (TAP, DMAC))
    sh("ip link set %s address %s" % (BRIDGE, KERNEL_LAN_MAC))
    for dev, addrs in ((TAP, WAN_ADDRS), (BRIDGE, LAN_ADDRS)):
        for a in addrs:
            sh("ip addr add %s dev %s%s" % (a, dev, " nodad" if ":" in a else ""))
    for nh in NEXT_HOPS:
        sh("ip neigh replace %s lladdr %s dev %s nud permanent" % (nh, NEXT_HOP_MAC, BRIDGE))
    # the senders, for the ICMP errors back; no rate limit on them (the
    # default lets 6 through, then one a second, to one host)
    for src in (SRC4, SRC6):
        sh("ip neigh replace %s lladdr %s dev %s nud permanent" % (src, SMAC, TAP))
    sh("sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0")
    # and no flow label on them that Linux draws from a hash of the flow
    # (grogso sends 0)
    sh("sysctl -qw net.ipv6.auto_flowlabels=0")
    for prefix, nh in ROUTES:
        sh("ip route replace %s via %s" % (prefix, nh))


def lost(s):
    """frames the kernel dropped for a capture since the last call"""
    return struct.unpack("=II", s.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8))[1]


def drain(s, wait, outgoing=False):
    """(data, tag) of every frame received (or with outgoing, sent) until
    `wait` s pass without one; tag is the 4 bytes of the VLAN tag the
    kernel moved out of the frame into the auxiliary data, or empty"""
    got = []
    while True:
        r, _, _ = select.select([s], [], [], wait)
        if not r:
            return got
        d, anc, _, addr = s.recvmsg(1 << 17, socket.CMSG_SPACE(20))
        if (addr[2] == PACKET_OUTGOING) != outgoing:
            continue
        tag = b""
        for level, kind, aux in anc:
            if level == SOL_PACKET and kind == PACKET_AUXDATA and len(aux) >= 20:
                status, tci, tpid = (struct.unpack_from("=I", aux)[0],
                                     *struct.unpack_from("=HH", aux, 16))
                if status & TP_STATUS_VLAN_VALID:
                    if not status & TP_STATUS_VLAN_TPID_VALID:
                        tpid = 0x8100
                    tag = struct.pack("!HH", tpid, tci)
        got.append((d, tag))


def ones_sum(b):
    if len(b) & 1:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def complete_csum(frame, start, off):
    """fill in a partial checksum: fold the bytes from start over the
    pseudo-header sum the field already holds"""
    b = bytearray(frame)
    c = (~ones_sum(bytes(b[start:]))) & 0xFFFF
    if c == 0 and off == 6:
        c = 0xFFFF                      # UDP sends a zero sum as all ones
    struct.pack_into("!H", b, start + off, c)
    return bytes(b)


def icmp_errors(s, outgoing, our_mac=None):
    """the ICMP and ICMPv6 errors among the frames a capture got (or
    sent), each with what legitimately differs between two routers made
    the same: the IPv4 ID and with it the header checksum zeroed, and
    the source MAC our_mac (a router's WAN MAC) put as DMAC, the
    kernel's; sorted, since errors about different flows come in no
    defined order"""
    return error_frames([d[10:] for d, _ in drain(s, QUIET_S, outgoing)], our_mac)


def error_frames(frames, our_mac=None):
    """icmp_errors of a list of frames (without virtio-net headers)"""
    out = []
    for f in frames:
        if f[12:14] == b"\x08\x00" and len(f) >= 35 and f[23] == 1 and f[34] in (3, 11, 12):
            f = f[:18] + b"\0\0" + f[20:24] + b"\0\0" + f[26:]
        elif not (f[12:14] == b"\x86\xdd" and len(f) >= 55 and f[20] == 58 and
                  f[54] in (1, 2, 3, 4)):
            continue
        if our_mac and f[6:12] == our_mac:
            f = f[:6] + mac_bytes(DMAC) + f[12:]
        out.append(f)
    return sorted(out)


def received(s, wait):
    """(frame, gso_size) of what a capture got: checksums completed and
    VLAN tags put back where they were"""
    out = []
    for d, tag in drain(s, wait):
        flags, gso_type, _, gso_size, cstart, coff = struct.unpack("<BBHHHH", d[:10])
        frame = d[10:]
        if flags & VNET_F_NEEDS_CSUM:
            frame = complete_csum(frame, cstart, coff)
        frame = frame[:12] + tag + frame[12:]
        if flow_of(frame) != OTHER:     # e.g. the bridge's own frames
            out.append((frame, gso_size if gso_type else 0))
    return out


def clear(socks):
    """empty captures and their loss counters before a train"""
    for c in socks:
        drain(c, 0)
        lost(c)


def collect(socks, what):
    """received() of each capture once the train is through; a frame
    a capture lost is an error"""
    out = tuple(received(c, QUIET_S) for c in socks)
    drops = sum(lost(c) for c in socks)
    if drops:
        raise RuntimeError("the captures of %s lost %d frames" % (what, drops))
    return out


def kernel_once(lab, frames):
    """write one train within a tick: what reached the veth with TSO (the
    aggregates) and the one without (GRO, then GSO); None if a tick came
    in between"""
    fd, gro_s, gso_s, icmp_s = lab
    frames = [vnet_hdr(f) + f for f in frames]
    clear((gro_s, gso_s))
    if icmp_s:
        drain(icmp_s, 0, True)
    t = time.clock_gettime_ns(CLOCK_MONOTONIC_COARSE)
    while time.clock_gettime_ns(CLOCK_MONOTONIC_COARSE) == t:
        pass
    t0 = time.clock_gettime_ns(CLOCK_MONOTONIC_COARSE)
    for f in frames:
        os.write(fd, f)
    t1 = time.clock_gettime_ns(CLOCK_MONOTONIC_COARSE)
    time.sleep(FLUSH_TIMEOUT_NS * 2e-9)
    out = collect((gro_s, gso_s), "the kernel's output (a batch of %d)" % len(frames))
    out += (icmp_errors(icmp_s, True) if icmp_s else [],)
    return out if t0 == t1 else None


def kernel(lab, frames):
    """what the kernel makes of a train: written until two writes within
    one tick each gave the same frames (a busy or stolen CPU can still
    delay a write past the flush timer)"""
    last = None
    for _ in range(12):
        out = kernel_once(lab, frames)
        if out is None:
            continue
        if out == last:
            return out
        last = out
    raise RuntimeError("the kernel did not give the same frames twice")


def kernel_batches(lab, batches):
    """every batch as kernel() takes a case, each completed by the flush
    timer before the next"""
    gro, gso = [], []
    for batch in batches:
        out = kernel(lab, batch)
        gro += out[0]
        gso += out[1]
    return gro, gso


def cut(pkts, batch, gap_us):
    """replay's batches: at `batch` frames or a gap over gap_us"""
    out, last = [], None
    for p in pkts:
        t = float(p.time)
        if not out or len(out[-1]) >= batch or t - last > gap_us * 1e-6:
            out.append([])
        out[-1].append(bytes(p.original or p))     # the bytes as captured
        last = t
    return out


def pcap_main(binary, extra, work, path, batch, gap_us, live_io, route, lan_mtu):
    try:
        with PcapReader(path) as r:
            linktype = r.linktype
        pkts = rdpcap(path)
    except (OSError, Scapy_Exception) as e:
        print("%s: %s" % (path, e))
        return 2
    if linktype != DLT_EN10MB:
        print("%s: link type %d; only Ethernet captures (1) can be written to a TAP"
              % (path, linktype))
        return 2
    batches = cut(pkts, batch, gap_us)
    if route:
        # to the router, whatever the capture's MAC
        batches = [[mac_bytes(DMAC) + f[6:] for f in b] for b in batches]
    nframes = sum(len(b) for b in batches)
    print("%s: %d frames in %d batches" % (path, nframes, len(batches)))
    kgro, kgso = kernel_batches(open_lab(route, live_io != "tap", lan_mtu), batches)
    lout = {mode: [] for mode in MODES}
    if live_io:
        live = (Offline(binary, extra, work, route, lan_mtu) if live_io == "pcap" else
                Live(binary, extra, work, live_io, route, lan_mtu))
        try:
            for b in batches:
                for mode, out in zip(MODES, live.run(b)):
                    lout[mode] += out
        finally:
            live.close()
    bad = 0
    for mode, kout in (("gro", kgro), ("gso", kgso)):
        if live_io:
            gout, sizes = [f for f, _ in lout[mode]], live.sizes(mode, lout[mode], True)
        else:
            gout, sizes = grogso(binary, extra, work, "pcap", batches, mode)
        errs = compare(kout, gout, sizes if mode == "gro" else None)
        gout = [f for f in gout if flow_of(f) != OTHER]
        what = ("aggregates (GRO; --gso=offload)" if mode == "gro" else
                "segments (GRO then GSO; --gso=software --gso-ipid=linux)")
        print("%s: the kernel %d TCP and UDP frames, grogso %d: %s" % (
            what, len(kout), len(gout), "the same, byte for byte" if not errs
            else "%d differences" % len(errs)))
        for e in errs:
            print("  " + e)
        bad += len(errs)
    flows = {}
    for f, gs in kgro:
        flows.setdefault(flow_of(f), []).append(-(-l4_payload(f) // gs) if gs else 1)
    for fl, segs in flows.items():
        if fl != OTHER:
            print("  %s: the kernel's segments per aggregate: %s" % (
                " ".join(map(str, fl)), " ".join(map(str, segs[:40])) +
                (" ..." if len(segs) > 40 else "")))
    return 1 if bad else 0


# ---- grogso's side --------------------------------------------------------


# what replay is asked for, beside the GRO options: aggregates whole, or
# segmented again; what is segmented (all, or in "gro" what Linux would
# not hand a device whole or what is too big for the MTU) with the IDs
# Linux's GSO gives it
MODES = {"gro": ["--gso=offload", "--gso-ipid=linux"],
         "gso": ["--gso=software", "--gso-ipid=linux"]}


def write_pcap(path, records):
    """records: (seconds, frame); classic pcap, microseconds, Ethernet"""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, DLT_EN10MB))
        for t, frame in records:
            us = round(t * 1e6)
            f.write(struct.pack("<IIII", us // 1000000, us % 1000000, len(frame),
                                len(frame)))
            f.write(frame)


def read_pcap(path):
    """the frames of a classic pcap (what grogso replay writes)"""
    data = open(path, "rb").read()
    magic = data[:4]
    end = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    out, off = [], 24
    while off + 16 <= len(data):
        caplen = struct.unpack_from(end + "I", data, off + 8)[0]
        out.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    return out


def grogso(binary, extra, work, name, batches, mode):
    base = os.path.join(work, "%s.%s" % (name, mode))
    inp, outp, logp = base + ".in.pcap", base + ".out.pcap", base + ".log"
    for f in (outp, logp):          # the log is appended to
        if os.path.exists(f):
            os.unlink(f)
    write_pcap(inp, [(1000.0 + k, f) for k, batch in enumerate(batches) for f in batch])
    r = subprocess.run([binary, "replay", "--batch=4096", "--log-aggregates=" + logp,
                        "--log-format=json"] + MODES[mode] + extra + [inp, outp],
                       capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError("grogso replay: exit %d: %s" % (r.returncode, r.stderr))
    # a frame replay leaves alone keeps a partial checksum as it came,
    # where the kernel marks it NEEDS_CSUM: completed, as the kernel's are
    return [completed(f) for f in read_pcap(outp)], logged_sizes(logp)


def logged_sizes(logp, sizes=None):
    """the gso_size of every aggregate grogso wrote whole, by its JSON
    aggregate log: the ones GRO made, less those then segmented (a "gso"
    record each); added to sizes when given"""
    sizes = {} if sizes is None else sizes
    for line in open(logp):
        r = json.loads(line) if line.strip() else {}
        if r.get("ev") not in ("gro", "gso") or r["segs"] < 2:
            continue
        key = (r["proto"][:3].upper(), r["src"], r["dst"], r["sport"], r["dport"])
        if r["ev"] == "gro":
            sizes.setdefault(key, []).append(r["gso_size"])
        else:
            sizes[key].remove(r["gso_size"])
    return sizes


# ---- grogso live ------------------------------------------------------------

LIVE_HOLD_US = 100_000                  # a train is written well within it
PR_SET_PDEATHSIG = 1


def die_with_parent():
    """in the child: SIGTERM when this script ends, however it ends"""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def mode_args(route):
    """grogso's options for bridge mode, or for route mode with the
    kernel's addresses and routes (see route_wiring) and no per-host
    limit on ICMP errors, as on the kernel side (tests/lab/route-kernel.sh
    compares the limits themselves)"""
    if not route:
        return ["--mode=bridge"]
    return (["--mode=route"] + ["--wan-addr=" + a for a in WAN_ADDRS] +
            ["--lan-addr=" + a for a in LAN_ADDRS] +
            ["--route=%s,%s" % r for r in ROUTES] +
            ["--icmp-ratelimit=0", "--icmp6-ratelimit=0"])


class Live:
    """grogso running, twice: one writing aggregates whole (--gso=offload),
    one segmenting them.  io "tap": on two TAPs; a train is sent out of
    the kernel on the WAN TAP (so grogso reads it from the TAP) and what
    grogso writes to the LAN TAP is captured there.  io "packet": on
    AF_PACKET sockets on two veths; the train is sent into the WAN veth's
    peer and captured at the LAN veth's peer.  Captures keep the
    virtio-net header (gso_size, partial checksums).  --gro-hold-us keeps
    every aggregate until a rule ends it or the train is long over, so the
    batches grogso happens to read make no difference: what comes out is
    what one batch gives.

    Bridge mode, or route mode (route=True) with the kernel's addresses,
    routes and next hops (see route_wiring).  In route mode the LAN ends
    (the LAN veth's peer, or the LAN TAP itself) move to a namespace of
    their own, this one's name with "l" added, where they hold NEXT_HOPS
    at NEXT_HOP_MAC: the kernel there answers grogso's ARP and neighbour
    solicitations, and drops what grogso routes to it (it does not
    forward).  Trains go to grogso's WAN MAC, and what comes out must come
    from its LAN MAC, both as its start message gives them; that MAC is
    then put where the kernel's (KERNEL_LAN_MAC) is, and the rest compared
    byte for byte."""

    def __init__(self, binary, extra, work, io, route=False, lan_mtu=None):
        self.procs, self.tx, self.rx, self.wan = [], {}, {}, {}
        self.route, self.lan_ns, self.mac = route, None, {}
        if route:
            self.lan_ns = netns_name() + "l"
            subprocess.run(["ip", "netns", "del", self.lan_ns], stderr=subprocess.DEVNULL)
            sh("ip netns add %s" % self.lan_ns)
        for k, mode in enumerate(MODES):
            wan, lan = "kdw%d" % k, "kdl%d" % k
            send, recv = wan, lan
            if io == "packet":
                send, recv = wan + "p", lan + "p"
                for dev, peer in ((wan, send), (lan, recv)):
                    subprocess.run("ip link del %s" % dev, shell=True,
                                   stderr=subprocess.DEVNULL)
                    sh("ip link add %s type veth peer name %s" % (dev, peer))
                    sh("ethtool -K %s gro off >/dev/null" % dev)
                    if lan_mtu and dev == lan:
                        sh("ip link set %s mtu %d && ip link set %s mtu %d" %
                           (dev, lan_mtu, peer, lan_mtu))
                    sh("ip link set %s up && ip link set %s up" % (dev, peer))
                    if route:
                        # this namespace's kernel routes too (the other
                        # side of the comparison): not what grogso reads.
                        # tc ingress runs after packet sockets; the
                        # program returns TC_ACT_SHOT
                        sh("tc qdisc add dev %s clsact && tc filter add dev %s ingress "
                           "bpf bytecode '1,6 0 0 2,' da" % (dev, dev))
                        # and for IPv4 (forwarding is per interface) say
                        # so: grogso warns of a kernel that forwards here
                        sh("sysctl -qw net.ipv4.conf.%s.forwarding=0" % dev)
            errpath = os.path.join(work, "live.%s.err" % mode)
            cmd = [binary, "-v", "--wan=%s:%s" % (io, wan), "--lan=%s:%s" % (io, lan),
                   "--gro-hold-us=%d" % LIVE_HOLD_US] + MODES[mode] + extra
            cmd += mode_args(route)
            with open(errpath, "w") as err:
                self.procs.append(subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                                   stdout=subprocess.DEVNULL,
                                                   stderr=err, preexec_fn=die_with_parent))
            up = re.compile(r"^grogso: forwarding ", re.M)
            for _ in range(100):
                with open(errpath) as f:
                    text = f.read()
                if up.search(text) or self.procs[-1].poll() is not None:
                    break
                time.sleep(0.05)
            if not up.search(text):
                self.close()
                raise RuntimeError("%s did not come up:\n%s" % (" ".join(cmd), text))
            # one FIFO: a qdisc with bands would reorder frames by TOS
            sh("tc qdisc replace dev %s root pfifo" % send)
            t = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
            t.setsockopt(SOL_PACKET, PACKET_VNET_HDR, 1)
            t.bind((send, 0))
            self.tx[mode] = t
            if route:
                self.mac[mode] = {}
                for port in ("wan", "lan"):
                    m = re.search(r"^grogso: %s: \S+ ifindex \d+ MAC ([0-9a-f:]{17})" % port,
                                  text, re.M)
                    if not m:
                        self.close()
                        raise RuntimeError("no MAC for %s in grogso's start message:\n%s"
                                           % (port, text))
                    self.mac[mode][port] = mac_bytes(m.group(1))
                # what grogso sends back out of its WAN port: ICMP errors
                self.wan[mode] = capture(send)
                if lan_mtu and io == "tap":
                    # while grogso sees the TAP's events: before it moves
                    sh("ip link set %s mtu %d" % (recv, lan_mtu))
                self.rx[mode] = self.next_hop(recv)
            else:
                self.rx[mode] = capture(recv)
        if route:
            self.resolve()

    def next_hop(self, dev):
        """dev becomes the next hop, in the LAN namespace; a capture on it"""
        ns = self.lan_ns
        sh("ip link set %s netns %s" % (dev, ns))
        sh("ip -n %s link set %s address %s" % (ns, dev, NEXT_HOP_MAC))
        for nh, plen in zip(NEXT_HOPS, (24, 64)):
            sh("ip -n %s addr add %s/%d dev %s%s" % (ns, nh, plen, dev,
                                                      " nodad" if plen == 64 else ""))
        sh("ip -n %s link set %s up" % (ns, dev))
        return in_netns(ns, lambda: capture(dev))

    def resolve(self):
        """one datagram of each family through each grogso, until they come
        out: the next hops are resolved before the first train (grogso
        holds only a few packets for a neighbour it is resolving)"""
        probes = [bytes(f) for f in udp4(1, sport=9) + udp6(1, sport=9)]
        for _ in range(10):
            out = self.run(probes, hold=False)
            if all(len(o) == len(probes) for o in out[:2]):
                return
            time.sleep(0.5)
        raise RuntimeError("grogso did not route to the next hops %s: they answered "
                           "no ARP or neighbour solicitation?" % " ".join(NEXT_HOPS))

    def run(self, frames, hold=True):
        """(aggregates, segments): what grogso wrote for the train, each
        as (frame, gso_size) as received() gives the kernel's; in route
        mode also the ICMP errors each grogso sent back, by mode"""
        clear(self.rx.values())
        for mode in MODES:
            if self.route:
                drain(self.wan[mode], 0)
                # the senders make themselves known (a request to grogso
                # teaches it the requester, as it teaches Linux), so that
                # errors to them need no resolving
                for f in SENDER_HELLO:
                    self.tx[mode].send(bytes(10) + f)
            for f in frames:
                if self.route:
                    f = self.mac[mode]["wan"] + f[6:]
                self.tx[mode].send(vnet_hdr(f) + f)
        time.sleep(LIVE_HOLD_US * 2e-6 if hold else 0.2)
        out = collect([self.rx[mode] for mode in MODES], "grogso's output")
        if not self.route:
            return out
        errors = {mode: icmp_errors(self.wan[mode], False, self.mac[mode]["wan"])
                  for mode in MODES}
        # grogso's MAC where the kernel's is; another stays, a difference
        ours = mac_bytes(KERNEL_LAN_MAC)
        return tuple([(f[:6] + ours + f[12:] if f[6:12] == self.mac[mode]["lan"] else f, gs)
                      for f, gs in o] for mode, o in zip(MODES, out)) + (errors,)

    def sizes(self, mode, pairs, every=False):
        """the gso_size of the aggregates among captured pairs"""
        return sizes_of(pairs)

    def close(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            p.wait()
        if self.lan_ns:
            subprocess.run(["ip", "netns", "del", self.lan_ns], stderr=subprocess.DEVNULL)


# grogso's MACs on pcap ports (its defaults)
PCAP_MAC = {"lan": "02:00:00:00:00:01", "wan": "02:00:00:00:00:02"}

# the next hops make themselves known to grogso on pcap ports, as the
# senders do (SENDER_HELLO): it learns them from their requests
NEXT_HOP_HELLO = [
    bytes(Ether(src=NEXT_HOP_MAC, dst="ff:ff:ff:ff:ff:ff") /
          ARP(op=1, hwsrc=NEXT_HOP_MAC, psrc=NEXT_HOPS[0],
              pdst=LAN_ADDRS[0].split("/")[0])),
    bytes(Ether(src=NEXT_HOP_MAC, dst="33:33:ff:00:00:01") /
          IPv6(src=NEXT_HOPS[1], dst="ff02::1:ff00:1", hlim=255) /
          ICMPv6ND_NS(tgt=LAN_ADDRS[1].split("/")[0]) /
          ICMPv6NDOptSrcLLAddr(lladdr=NEXT_HOP_MAC)),
]


def neighbour_talk(f):
    """ARP, or ICMPv6 neighbour discovery (types 133 to 137)"""
    return (f[12:14] == b"\x08\x06" or
            (f[12:14] == b"\x86\xdd" and len(f) > 54 and f[20] == 58 and
             133 <= f[54] <= 137))


def ip_len(f):
    """the IP datagram length of an Ethernet frame (past VLAN tags), or 0"""
    off = 12
    while f[off:off + 2] in (b"\x81\x00", b"\x88\xa8"):
        off += 4
    if f[off:off + 2] == b"\x08\x00":
        return struct.unpack_from("!H", f, off + 4)[0]
    if f[off:off + 2] == b"\x86\xdd":
        return 40 + struct.unpack_from("!H", f, off + 6)[0]
    return 0


def written_sizes(logp, frames):
    """the gso_size of the aggregates among frames grogso wrote: each
    frame of a flow as long as one of its logged aggregates (two or more
    segments) is that aggregate, written whole.  Route mode may refuse an
    aggregate, or fragment it, after its record: a capture without
    virtio-net headers says nothing else of it."""
    recs, sizes = {}, {}
    for line in open(logp):
        r = json.loads(line) if line.strip() else {}
        if r.get("ev") == "gro" and r["segs"] >= 2:
            key = (r["proto"][:3].upper(), r["src"], r["dst"], r["sport"], r["dport"])
            recs.setdefault(key, []).append((r["bytes"], r["gso_size"]))
    for f in frames:
        if flow_of(f) == OTHER:
            continue
        key, n = flow_of(f)[:5], ip_len(f)
        for i, (b, gs) in enumerate(recs.get(key, [])):
            if b == n:
                sizes.setdefault(key, []).append(gs)
                del recs[key][i]
                break
    return sizes


class Offline:
    """grogso offline on pcap ports (--live=pcap), twice per train as Live
    runs it: the train in at the WAN port, all at one time (one batch),
    held by --gro-hold-us as Live holds it, what grogso writes at the LAN
    port compared.  In route mode the senders and the next hops first
    make themselves known (SENDER_HELLO, NEXT_HOP_HELLO), grogso's
    answers to them are left out, the ICMP errors it writes at the WAN
    port are compared, and its LAN MAC is put where the kernel's is.
    With --lan-mtu the LAN port gets that mtu=.  The gso_size of what is
    written whole comes from the aggregate log, as for replay."""

    def __init__(self, binary, extra, work, route=False, lan_mtu=None):
        self.binary, self.extra, self.work = binary, extra, work
        self.route, self.lan_mtu, self.n = route, lan_mtu, 0
        self.last, self.every = {}, {mode: {} for mode in MODES}

    def run(self, frames, hold=True):
        self.n += 1
        outs, errors = [], {}
        for mode in MODES:
            base = os.path.join(self.work, "offline%d.%s" % (self.n, mode))
            p = {k: "%s.%s.pcap" % (base, k) for k in ("lan", "wan", "lanout", "wanout")}
            logp = base + ".log"
            wan, lan = [], []
            if self.route:
                wan = [(1000.0, f) for f in SENDER_HELLO]
                lan = [(1000.0, f) for f in NEXT_HOP_HELLO]
                frames_in = [mac_bytes(PCAP_MAC["wan"]) + f[6:] for f in frames]
            else:
                frames_in = frames
            wan += [(1000.001, f) for f in frames_in]
            write_pcap(p["wan"], wan)
            write_pcap(p["lan"], lan)
            if os.path.exists(logp):
                os.unlink(logp)
            mtu = ",mtu=%d" % self.lan_mtu if self.lan_mtu else ""
            cmd = [self.binary, "--batch=4096", "--gro-hold-us=%d" % LIVE_HOLD_US,
                   "--log-aggregates=" + logp, "--log-format=json",
                   "--lan=pcap:%s,%s%s" % (p["lan"], p["lanout"], mtu),
                   "--wan=pcap:%s,%s" % (p["wan"], p["wanout"])] + MODES[mode] + self.extra
            cmd += mode_args(self.route)
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode:
                raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd), r.returncode,
                                                        r.stderr))
            # a frame GRO passes keeps a partial checksum as it came (a
            # capture has no NEEDS_CSUM): completed, as for replay
            out = [completed(f) for f in read_pcap(p["lanout"]) if not neighbour_talk(f)]
            if self.route:
                ours, lan_mac = mac_bytes(KERNEL_LAN_MAC), mac_bytes(PCAP_MAC["lan"])
                out = [f[:6] + ours + f[12:] if f[6:12] == lan_mac else f for f in out]
                errors[mode] = error_frames(read_pcap(p["wanout"]),
                                            mac_bytes(PCAP_MAC["wan"]))
            outs.append([(f, 0) for f in out])
            self.last[mode] = written_sizes(logp, out)
            for key, gs in self.last[mode].items():
                self.every[mode].setdefault(key, []).extend(gs)
        return tuple(outs) + ((errors,) if self.route else ())

    def sizes(self, mode, pairs, every=False):
        """the gso_size of the aggregates of the last run (every: of all)"""
        return self.every[mode] if every else self.last[mode]

    def close(self):
        pass


def mac_bytes(text):
    return bytes.fromhex(text.replace(":", ""))


# An ARP request and a neighbour solicitation from the senders of the
# trains, for the router's WAN addresses
SENDER_HELLO = [
    bytes(Ether(src=SMAC, dst="ff:ff:ff:ff:ff:ff") /
          ARP(op=1, hwsrc=SMAC, psrc=SRC4, pdst=WAN_ADDRS[0].split("/")[0])),
    bytes(Ether(src=SMAC, dst="33:33:ff:00:00:01") /
          IPv6(src=SRC6, dst="ff02::1:ff00:1", hlim=255) /
          ICMPv6ND_NS(tgt=WAN_ADDRS[1].split("/")[0]) / ICMPv6NDOptSrcLLAddr(lladdr=SMAC)),
]


def sizes_of(pairs):
    """the gso_size of every aggregate among captured (frame, gso_size)
    pairs, per address and port pair, as grogso() gives them"""
    sizes = {}
    for f, gs in pairs:
        if gs and flow_of(f) != OTHER:
            sizes.setdefault(flow_of(f)[:5], []).append(gs)
    return sizes


# ---- comparing ------------------------------------------------------------



def headers(frame):
    """(proto, src, dst, l4 offset, IP end, more) of an IPv4 or IPv6
    frame (src and dst as bytes; more: its VLAN IDs, and for IPv6 the flow
    label, which sets GRO's flows apart too), or None (not IP, or a
    fragment past the first).  struct, not scapy: this runs per frame."""
    try:
        et, off, vlans = frame[12:14], 14, ()
        while et in (b"\x81\x00", b"\x88\xa8"):
            vlans += (struct.unpack_from("!H", frame, off)[0] & 0xFFF,)
            et, off = frame[off + 2:off + 4], off + 4
        if et == b"\x08\x00":
            if struct.unpack_from("!H", frame, off + 6)[0] & 0x1FFF:
                return None
            end = off + struct.unpack_from("!H", frame, off + 2)[0]
            return (frame[off + 9], frame[off + 12:off + 16], frame[off + 16:off + 20],
                    off + (frame[off] & 15) * 4, end, vlans)
        if et == b"\x86\xdd":
            end = off + 40 + struct.unpack_from("!H", frame, off + 4)[0]
            proto, l4 = frame[off + 6], off + 40
            while proto in (0, 43, 60):     # hop-by-hop, routing, destination
                proto, l4 = frame[l4], l4 + (frame[l4 + 1] + 1) * 8
            label = "label %#x" % (struct.unpack_from("!I", frame, off)[0] & 0xFFFFF)
            return (proto, frame[off + 8:off + 24], frame[off + 24:off + 40], l4, end,
                    vlans + (label,))
    except (IndexError, struct.error):
        pass
    return None


def pseudo_sum(h):
    """the folded pseudo-header sum of the headers() of a frame"""
    proto, src, dst, l4, end, _ = h
    return ones_sum(src + dst + struct.pack("!HH", proto, end - l4))


def later_fragment(frame):
    """("FRAG", src, dst, protocol, ID) of an untagged IPv4 fragment past
    the first (--lan-mtu: a router fragments), else None"""
    if frame[12:14] != b"\x08\x00" or len(frame) < 34:
        return None
    if not struct.unpack_from("!H", frame, 20)[0] & 0x1FFF:
        return None
    return ("FRAG", socket.inet_ntop(socket.AF_INET, frame[26:30]),
            socket.inet_ntop(socket.AF_INET, frame[30:34]), frame[23],
            struct.unpack_from("!H", frame, 18)[0])


def parse(frame):
    """(flow, L4 payload length) of an Ethernet frame; flow is (TCP|UDP,
    src, dst, sport, dport, VLAN IDs..., IPv6 flow label), a fragment's
    (see later_fragment), or OTHER for anything else"""
    h = headers(frame)
    if h is None:
        return later_fragment(frame) or OTHER, 0
    if h[0] not in (6, 17) or len(frame) < h[3] + (20 if h[0] == 6 else 8):
        return OTHER, 0
    proto, src, dst, l4, end, more = h
    fam = socket.AF_INET if len(src) == 4 else socket.AF_INET6
    sport, dport = struct.unpack_from("!HH", frame, l4)
    flow = ("TCP" if proto == 6 else "UDP", socket.inet_ntop(fam, src),
            socket.inet_ntop(fam, dst), sport, dport) + more
    return flow, end - l4 - ((frame[l4 + 12] >> 4) * 4 if proto == 6 else 8)


def completed(frame):
    """the frame with a partial TCP or UDP checksum completed"""
    flags, _, _, _, start, off = struct.unpack("<BBHHHH", vnet_hdr(frame))
    return complete_csum(frame, start, off) if flags & VNET_F_NEEDS_CSUM else frame


def vnet_hdr(frame):
    """the virtio-net header to write a frame with: NEEDS_CSUM when its
    TCP or UDP checksum is partial (the field holds the pseudo-header sum,
    as frames sent through a veth with checksum offload do), so that the
    kernel takes it as replay --checksum=lenient does; else none"""
    h = headers(frame)
    none = bytes(10)
    if h is None or h[0] not in (6, 17):
        return none
    proto, src, dst, l4, end, _ = h
    off = 16 if proto == 6 else 6
    if end > len(frame) or end < l4 + off + 2:
        return none
    field = struct.unpack_from("!H", frame, l4 + off)[0]
    pseudo = pseudo_sum(h)
    if ones_sum(pseudo.to_bytes(2, "big") + frame[l4:end]) == 0xFFFF or field != pseudo:
        return none                     # valid, or not partial either
    return struct.pack("<BBHHHH", VNET_F_NEEDS_CSUM, 0, 0, 0, l4, off)


def flow_of(frame):
    return parse(frame)[0]


def l4_payload(frame):
    return parse(frame)[1]


def describe(frame):
    return Ether(frame).summary() + " (%d bytes)" % len(frame)


def first_diff(a, b):
    for i in range(min(len(a), len(b))):
        if a[i] != b[i]:
            return i
    return min(len(a), len(b))


def compare(kout, gout, sizes):
    """kout: (frame, gso_size) the kernel gave; gout: grogso's frames;
    sizes: the gso_size of grogso's aggregates per address and port pair
    (see sizes_of), None when they were not written whole"""
    errs = []
    kf, gf = {}, {}
    for frame, gso_size in kout:
        kf.setdefault(flow_of(frame), []).append((frame, gso_size))
    for frame in gout:
        if flow_of(frame) != OTHER:
            gf.setdefault(flow_of(frame), []).append(frame)
    if sorted(kf, key=repr) != sorted(gf, key=repr):
        errs.append("flows differ: kernel %s, grogso %s" % (
            sorted(kf, key=repr), sorted(gf, key=repr)))
        return errs
    for fl in kf:
        k, g = kf[fl], gf[fl]
        if len(k) != len(g):
            errs.append("%s: the kernel gave %d frames, grogso %d: kernel %s; grogso %s" % (
                fl, len(k), len(g), [len(x[0]) for x in k], [len(x) for x in g]))
            continue
        for i, ((kfr, _), gfr) in enumerate(zip(k, g)):
            if kfr != gfr:
                at = first_diff(kfr, gfr)
                errs.append("%s frame %d differs at byte %d:\n  kernel %s\n    %s\n"
                            "  grogso %s\n    %s" % (
                                fl, i, at, describe(kfr), kfr[at:at + 16].hex(),
                                describe(gfr), gfr[at:at + 16].hex()))
    if sizes is not None:
        # per address and port pair: grogso's log names flows without
        # their VLAN or flow label
        ks = sizes_of(kout)
        for key in {fl[:5] for fl in kf}:
            if sorted(sizes.get(key, [])) != sorted(ks.get(key, [])):
                errs.append("%s: gso_size kernel %s, grogso %s" % (
                    key, ks.get(key, []), sizes.get(key, [])))
    return errs


def main():
    args = sys.argv[1:]
    opt = {"--pcap": None, "--batch": "64", "--batch-gap-us": "100",
           "--random": None, "--seed": None, "--live": None, "--mode": "bridge",
           "--lan-mtu": None}
    extra, rest = [], []
    for a in args:
        k, _, v = a.partition("=")
        if k == "--grogso-arg":
            extra.append(v)
        elif k in opt:
            opt[k] = v
        else:
            rest.append(a)
    args = rest
    if len(args) < 2 or (opt["--pcap"] and len(args) > 2):
        print(__doc__)
        return 2
    binary, work = args[0], args[1]
    if opt["--live"] not in (None, "tap", "packet", "pcap"):
        print("--live=%s: tap, packet or pcap" % opt["--live"])
        return 2
    if opt["--mode"] not in ("bridge", "route"):
        print("--mode=%s: bridge or route" % opt["--mode"])
        return 2
    route = opt["--mode"] == "route"
    if route and not opt["--live"]:
        print("--mode=route needs --live: grogso replay does not route")
        return 2
    lan_mtu = opt["--lan-mtu"]
    if lan_mtu is not None:
        if not route or not lan_mtu.isdigit() or not 1280 <= int(lan_mtu) <= 1500:
            print("--lan-mtu=%s: with --mode=route, 1280 to 1500" % lan_mtu)
            return 2
        lan_mtu = int(lan_mtu)
    if opt["--pcap"]:
        return pcap_main(binary, extra, work, opt["--pcap"], int(opt["--batch"]),
                         int(opt["--batch-gap-us"]), opt["--live"], route, lan_mtu)
    names = args[2:]
    if opt["--random"] is not None:
        if not opt["--random"].isdigit():
            print("--random=%s: the number of trains, a count" % opt["--random"])
            return 2
        seed = opt["--seed"] or "%d" % int.from_bytes(os.urandom(4), "big")
        if ":" in seed:
            print("--seed=%s: a seed has no colon" % seed)
            return 2
        print("%s random trains, seed %s (case random:%s:I builds train I again)"
              % (opt["--random"], seed, seed))
        names += ["random:%s:%d" % (seed, i) for i in range(int(opt["--random"]))]
    elif not names:
        names = list(CASES) + list(CAVEATS)
    for name in names:
        if name not in CASES and name not in CAVEATS and not is_random(name):
            print("unknown case %s; the cases: %s, and random:SEED:I" % (
                name, " ".join(list(CASES) + list(CAVEATS))))
            return 2
    # a TAP's TSO does not keep IDs fixed: grogso knows, the kernel's
    # device for the aggregates must be the same
    lab = open_lab(route, opt["--live"] != "tap", lan_mtu)
    live = (Offline(binary, extra, work, route, lan_mtu) if opt["--live"] == "pcap" else
            Live(binary, extra, work, opt["--live"], route, lan_mtu) if opt["--live"] else
            None)
    try:
        return run_cases(binary, extra, work, names, lab, live, lan_mtu)
    finally:
        if live:
            live.close()


def run_cases(binary, extra, work, names, lab, live, lan_mtu=None):
    failed = skipped = 0
    vlan_gro = None
    for name in names:
        if name in VLAN_GRO and live and live.route:
            print("skipped %s: route mode routes no VLAN-tagged frame" % name)
            skipped += 1
            continue
        if name in VLAN_GRO:
            if vlan_gro is None:
                # a kernel without 802.1Q support (CONFIG_VLAN_8021Q) has
                # no GRO for tagged frames at all: nothing to compare with
                vlan_gro = len(kernel(lab, [bytes(f) for f in tagged(tcp4(2), 10)])[0]) == 1
            if not vlan_gro:
                print("skipped %s: this kernel does not aggregate VLAN-tagged frames "
                      "(built without 802.1Q support?)" % name)
                skipped += 1
                continue
        notes = []
        if name in CAVEATS and lan_mtu:
            # each check looks for its frames as they go out at MTU 1500
            print("skipped %s: a CAVEATS case, checked without --lan-mtu" % name)
            skipped += 1
            continue
        if name in CAVEATS:
            build, check = CAVEATS[name]
            frames = [bytes(f) for f in build()]
        elif name in CASES:
            frames, check = [bytes(f) for f in CASES[name]()], None
        else:
            (frames, notes), check = random_case(name), None
        if lan_mtu and any(ext_over_mtu(f, lan_mtu) for f in frames):
            print("skipped %s: IPv6 with extension headers up to 40 bytes over "
                  "the MTU (CAVEATS)" % name)
            skipped += 1
            continue
        kgro, kgso, kicmp = kernel(lab, frames)
        errs = []
        if live:
            lrun = live.run(frames)
            lout = dict(zip(MODES, lrun))
            if live.route:
                for mode, gicmp in lrun[2].items():
                    if gicmp != kicmp:
                        errs.append("%s: ICMP errors differ: kernel %s; grogso %s" % (
                            mode.upper(), [describe(f) for f in kicmp],
                            [describe(f) for f in gicmp]))
                        if len(gicmp) == len(kicmp):
                            for k, g in zip(kicmp, gicmp):
                                at = first_diff(k, g)
                                if at < max(len(k), len(g)):
                                    errs.append("  first at byte %d: kernel %s, grogso %s"
                                                % (at, k[at:at + 16].hex(), g[at:at + 16].hex()))
        if check:
            gout = ([f for f, _ in lout["gro"]] if live else
                    grogso(binary, extra, work, name, [frames], "gro")[0])
            errs += ["documented difference: %s" % e for e in check(kgro, gout)]
        else:
            for mode, kout in (("gro", kgro), ("gso", kgso)):
                if live:
                    gout, sizes = [f for f, _ in lout[mode]], live.sizes(mode, lout[mode])
                else:
                    gout, sizes = grogso(binary, extra, work, name, [frames], mode)
                errs += ["%s: %s" % (mode.upper(), e)
                         for e in compare(kout, gout, sizes if mode == "gro" else None)]
        segs = " ".join("%d" % -(-l4_payload(f) // gs) if gs else "1" for f, gs in kgro[:40])
        segs += " ..." if len(kgro) > 40 else ""
        what = "%d frames in; GRO: %d out, segments %s; GRO+GSO: %d out" % (
            len(frames), len(kgro), segs, len(kgso))
        if kicmp:
            what += "; ICMP errors back: %d" % len(kicmp)
        if check and not errs:
            what += "; grogso differs as documented"
        if errs:
            failed += 1
            print("FAIL %s (%s)" % (name, what))
            for e in notes:
                print("  train: " + e)
            for e in errs:
                print("  " + e)
        elif not notes:
            print("ok %s: %s" % (name, what))
    print("%d of %d cases as the kernel, or different as documented%s" % (
        len(names) - failed - skipped, len(names) - skipped,
        "; %d skipped" % skipped if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
