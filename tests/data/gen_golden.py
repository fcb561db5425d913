#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Write the golden replay cases for grogso into a directory.

    gen_golden.py DIR

For every case DIR gets NAME.in.pcap (the input), NAME.expected.pcap
(the frames grogso must write, in order) and one line in DIR/cases.txt:

    NAME<TAB>CSUM_CLEAN<TAB>OPTIONS

CSUM_CLEAN is 1 when every checksum in the expected output is valid (the
mix case carries a deliberately bad segment through).

The expected frames are built here from the GRO/GSO rules of DESIGN.md,
by an oracle that shares no code with grogso: scapy computes lengths
and checksums, the rules are written out below.  Everything is
deterministic: fixed addresses, times and payload bytes.
"""

import os
import struct
import sys

from scapy.all import ARP, ICMP, IP, IPv6, TCP, UDP, Ether, Raw

SMAC = "02:00:00:00:00:05"
DMAC = "02:00:00:00:00:04"
SRC4, DST4 = "198.19.1.2", "198.18.1.2"
SRC6, DST6 = "2001:db8:2::2", "2001:db8:1::2"
T0 = 1700000000.0               # capture time of the first frame, seconds
STEP = 10e-6                    # within a batch (--batch-gap-us defaults to 100)

TCP_FIN, TCP_PSH = 0x01, 0x08


def pay(off, n, seed=0):
    """Payload bytes of a stream: byte i depends on its stream offset."""
    return bytes(((off + i) * 7 + seed + ((off + i) >> 8)) & 0xff
                 for i in range(n))


# ---- pcap, written and read by hand so the byte layout is ours ----

def write_pcap(path, frames):
    """frames: list of (time in seconds, bytes). Microsecond, Ethernet."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, 1))
        for t, b in frames:
            us = int(round(t * 1e6))
            f.write(struct.pack("<IIII", us // 1000000, us % 1000000,
                                len(b), len(b)))
            f.write(b)


def read_pcap(path):
    """The frames of a pcap file (any byte order, us or ns), as bytes."""
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    if magic in (0xa1b2c3d4, 0xa1b23c4d):
        end = "<"
    elif magic in (0xd4c3b2a1, 0x4d3cb2a1):
        end = ">"
    else:
        raise ValueError("%s: not a pcap file" % path)
    off, out = 24, []
    while off + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        out.append(data[off:off + caplen])
        off += caplen
    return out


# ---- frame builders ----

def tcp4(seq, n, ipid, flags="A", sport=40000, pay_off=None, opts=None,
         ttl=64, bad_csum=False):
    p = (Ether(src=SMAC, dst=DMAC) /
         IP(src=SRC4, dst=DST4, id=ipid, flags="DF", ttl=ttl) /
         TCP(sport=sport, dport=5201, seq=seq, ack=1, flags=flags,
             window=512, options=opts or []) /
         Raw(pay(seq if pay_off is None else pay_off, n)))
    b = bytes(p)
    if bad_csum:
        p = Ether(b)
        p[TCP].chksum ^= 0x5a5a
        b = bytes(p)
    return b


def tcp6(seq, n, flags="A"):
    p = (Ether(src=SMAC, dst=DMAC) /
         IPv6(src=SRC6, dst=DST6, fl=0x12345, hlim=64) /
         TCP(sport=40000, dport=5201, seq=seq, ack=1, flags=flags,
             window=512) /
         Raw(pay(seq, n)))
    return bytes(p)


def udp4(ipid, n, off, sport=40000):
    p = (Ether(src=SMAC, dst=DMAC) /
         IP(src=SRC4, dst=DST4, id=ipid, flags="DF", ttl=64) /
         UDP(sport=sport, dport=5201) /
         Raw(pay(off, n, seed=3)))
    return bytes(p)


# ---- the oracle: GRO and GSO rules applied with scapy ----

def gro(frames):
    """One aggregate from segments GRO merges (DESIGN.md "GRO rules").

    The head's headers stay (MACs, IPv4 ID, TTL, TOS, TCP options, flow
    label); IP length and IPv4 header checksum are rewritten; TCP gets
    the OR of FIN/PSH of all segments; UDP length covers all payload; the
    L4 checksum is complete (as an offloading egress's peer sees it).
    """
    pkts = [Ether(f) for f in frames]
    agg = pkts[0].copy()
    l4 = TCP if TCP in agg else UDP
    data = b"".join(bytes(p[l4].payload) for p in pkts)
    if IP in agg:
        agg[IP].len = None
        agg[IP].chksum = None
    else:
        agg[IPv6].plen = None
    if l4 is TCP:
        fp = 0
        for p in pkts:
            fp |= int(p[TCP].flags) & (TCP_FIN | TCP_PSH)
        agg[TCP].flags = int(agg[TCP].flags) | fp
    else:
        agg[UDP].len = None
    agg[l4].chksum = None           # scapy: a computed UDP 0 becomes 0xffff
    agg[l4].remove_payload()
    agg[l4].add_payload(Raw(data))
    return bytes(agg)


def renumber(frames, first):
    """GSO with incrementing IDs: segment i carries first + i."""
    out = []
    for i, f in enumerate(frames):
        p = Ether(f)
        p[IP].id = (first + i) & 0xffff
        p[IP].chksum = None
        out.append(bytes(p))
    return out


def timed(frames, gaps=None):
    """Capture times: STEP apart, plus gaps[i] seconds before frame i."""
    t, out = T0, []
    for i, f in enumerate(frames):
        if i:
            t += STEP
        if gaps and i in gaps:
            t += gaps[i]
        out.append((t, f))
    return out


# ---- the cases ----

def case_tcp4():
    # 10 x 1448 with timestamps, IDs 100..109, PSH on the last: one aggregate
    ts = [("NOP", None), ("NOP", None), ("Timestamp", (1000, 2000))]
    segs = [tcp4(1000 + i * 1448, 1448, 100 + i,
                 flags="PA" if i == 9 else "A", opts=ts) for i in range(10)]
    return segs


def case_udp4():
    # the lab notes: 600-byte datagrams, IDs 1..6, 1 ms between 3 and 4
    return [udp4(1 + i, 600, i * 600) for i in range(6)]


def case_tcp6():
    # 7 x 1000 and a short 500 that merges and closes the aggregate
    segs = [tcp6(5000 + i * 1000, 1000) for i in range(7)]
    segs.append(tcp6(5000 + 7 * 1000, 500))
    return segs


def case_mix():
    arp = bytes(Ether(src=SMAC, dst="ff:ff:ff:ff:ff:ff") /
                ARP(op=1, hwsrc=SMAC, psrc=SRC4, pdst="198.19.1.1"))
    icmp = bytes(Ether(src=SMAC, dst=DMAC) /
                 IP(src=SRC4, dst=DST4, id=50, flags="DF") /
                 ICMP(type=8, id=1, seq=1) / Raw(pay(0, 56)))
    syn = tcp4(999, 0, 10, flags="S", sport=40001)
    d1 = tcp4(1000, 1000, 11, sport=40001)
    d2 = tcp4(2000, 1000, 12, sport=40001)
    bad = tcp4(3000, 1000, 13, sport=40001, bad_csum=True)
    d4 = tcp4(4000, 1000, 14, sport=40001)
    d5 = tcp4(5000, 1000, 15, flags="PA", sport=40001)
    single = tcp4(70000, 300, 200, sport=40002)
    inp = [arp, icmp, syn, d1, d2, bad, d4, d5, single]
    # ARP, ICMP and SYN pass with nothing held; the bad segment passes
    # after its flow's aggregate is flushed (no reordering); d4+d5 close
    # on PSH; the lone segment of the second flow leaves at end of file
    # exactly as it came
    exp = [arp, icmp, syn, gro([d1, d2]), bad, gro([d4, d5]), single]
    return inp, exp


def case_broken_ip():
    """IP headers a router would drop: a bridge (and replay) passes the
    frames on as they came, at once, beside a flow that aggregates"""
    d1 = tcp4(1000, 1000, 21, sport=40004)
    d2 = tcp4(2000, 1000, 22, flags="PA", sport=40004)
    ok = bytearray(tcp4(9000, 100, 30, sport=40005))
    csum = bytearray(ok)
    csum[24] ^= 0x55                  # IPv4 header checksum
    ihl = bytearray(ok)
    ihl[14] = 0x44                    # IHL 4
    trunc = bytes(ok[:14 + 12])       # 12 bytes of IP header
    longer = bytearray(ok)
    longer[16:18] = (1000).to_bytes(2, "big")   # length past the frame
    longer[24:26] = b"\0\0"
    c = sum(int.from_bytes(longer[i:i + 2], "big") for i in range(14, 34, 2))
    while c > 0xffff:
        c = (c & 0xffff) + (c >> 16)
    longer[24:26] = (~c & 0xffff).to_bytes(2, "big")
    version = bytearray(ok)
    version[14] = 0x65                # IPv6's version in an IPv4 frame
    bad = [bytes(csum), bytes(ihl), trunc, bytes(longer), bytes(version)]
    inp = [d1, bad[0], d2] + bad[1:]
    # d1 is held while the first broken frame goes by; d2 (PSH) closes
    # the aggregate
    exp = [bad[0], gro([d1, d2])] + bad[1:]
    return inp, exp


def case_udp_fixed():
    # fixed ID 0 with DF, as an unconnected PMTUDISC_DO socket sends
    return [udp4(0, 500, i * 500, sport=40003) for i in range(3)]


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: gen_golden.py DIR\n")
        return 2
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    cases = []

    def add(name, inp, exp, args="", clean=1):
        write_pcap(os.path.join(out, name + ".in.pcap"), inp)
        write_pcap(os.path.join(out, name + ".expected.pcap"),
                   [(T0, f) for f in exp])
        cases.append("%s\t%d\t%s" % (name, clean, args))

    t = case_tcp4()
    add("tcp4", timed(t), [gro(t)])
    add("tcp4-software", timed(t), t, "--gso=software")
    add("tcp4-gro-off", timed(t), t, "--gro=off")

    u = case_udp4()
    ut = timed(u, {3: 1e-3})
    add("udp4", ut, [gro(u[:3]), gro(u[3:])])
    add("udp4-software", ut, u, "--gso=software")
    # held across the 1 ms gap, the six make one aggregate
    add("udp4-hold", ut, [gro(u)], "--gro-hold-us=5000")
    # held 500 us: the timer ends the first three before the fourth
    add("udp4-hold-short", ut, [gro(u[:3]), gro(u[3:])], "--gro-hold-us=500")
    add("udp4-batch2", timed(u), [gro(u[0:2]), gro(u[2:4]), gro(u[4:6])],
        "--batch=2")

    s6 = case_tcp6()
    add("tcp6", timed(s6), [gro(s6)])
    add("tcp6-software", timed(s6), s6, "--gso=software")

    inp, exp = case_mix()
    add("mix", timed(inp), exp, clean=0)

    inp, exp = case_broken_ip()
    add("broken-ip", timed(inp), exp, clean=0)
    add("broken-ip-gro-off", timed(inp), inp, "--gro=off", clean=0)

    f = case_udp_fixed()
    add("udp4-fixed", timed(f), [gro(f)])
    # the fixed ID survives grogso's own segmentation...
    add("udp4-fixed-software", timed(f), f, "--gso=software")
    add("udp4-fixed-id-software", timed(f), f, "--gso-fixed-id=software")
    # ...and is renumbered as Linux renumbers UDP
    add("udp4-fixed-linux", timed(f), renumber(f, 0),
        "--gso=software --gso-ipid=linux")

    with open(os.path.join(out, "cases.txt"), "w") as fh:
        fh.write("\n".join(cases) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
