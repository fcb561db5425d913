#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Route mode offline, through pcap ports: cases with their expected frames.

    pcap_ports.py GROGSO DIR

Each case writes lan-in.pcap and wan-in.pcap, runs

    GROGSO --lan pcap:lan-in.pcap,lan-out.pcap \\
           --wan pcap:wan-in.pcap,wan-out.pcap --lan-addr ... OPTIONS

and compares what grogso wrote on each port with the frames expected,
built here by scapy from the rules (ARP replies and requests, TTL less
one, the aggregate of DESIGN.md kept whole or cut back into its
segments), not by grogso.  Record times are compared too: the clock of a
pcap run is the time of the record at hand.  Exits 1 at the first case
that differs, printing where.
"""

import os
import struct
import subprocess
import sys

from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, Raw, wrpcap

GL, GW = "02:00:00:00:00:01", "02:00:00:00:00:02"   # grogso's, by default
HL, HW = "02:00:00:00:01:0a", "02:00:00:00:02:14"   # the hosts'
AL, AW = "192.168.1.1", "198.51.100.1"              # grogso's addresses
IL, IW = "192.168.1.10", "198.51.100.20"            # the hosts'
T0 = 1700000000                                     # seconds
BCAST = "ff:ff:ff:ff:ff:ff"
ADDRS = ["--lan-addr", AL + "/24", "--wan-addr", AW + "/24"]
SEG = 1000


def at(us, pkt):
    """@pkt stamped T0 + @us microseconds; times are kept as integers."""
    pkt.time = T0 + us / 1e6
    pkt.us = us
    return pkt


def arp_ask(smac, sip, tip, us):
    return at(us, Ether(src=smac, dst=BCAST) /
              ARP(op=1, hwsrc=smac, psrc=sip, hwdst="00:00:00:00:00:00",
                  pdst=tip))


def arp_reply(smac, sip, dmac, dip, us):
    return at(us, Ether(src=smac, dst=dmac) /
              ARP(op=2, hwsrc=smac, psrc=sip, hwdst=dmac, pdst=dip))


def payload(i):
    return bytes((i * 7 + j) & 0xff for j in range(SEG))


def tcp_seg(i, ttl, src_mac, dst_mac, us):
    return at(us, Ether(src=src_mac, dst=dst_mac) /
              IP(src=IL, dst=IW, id=100 + i, flags="DF", ttl=ttl) /
              TCP(sport=40000, dport=5201, seq=1000 + SEG * i, ack=1,
                  flags="A") / Raw(payload(i)))


def tcp_whole(n, us):
    """The aggregate of n segments, routed and written whole."""
    return at(us, Ether(src=GW, dst=HW) /
              IP(src=IL, dst=IW, id=100, flags="DF", ttl=63) /
              TCP(sport=40000, dport=5201, seq=1000, ack=1, flags="A") /
              Raw(b"".join(payload(i) for i in range(n))))


def read_pcap(path):
    data = open(path, "rb").read()
    if len(data) < 24 or struct.unpack("<I", data[:4])[0] != 0xa1b2c3d4:
        raise SystemExit("%s: not a little-endian microsecond pcap" % path)
    off, out = 24, []
    while off + 16 <= len(data):
        sec, usec, caplen = struct.unpack("<III", data[off:off + 12])
        out.append(((sec - T0) * 1000000 + usec, data[off + 16:off + 16 + caplen]))
        off += 16 + caplen
    return out


def ip4_csum_ok(hdr):
    s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s == 0xffff


def compare(case, port, expected, got, masks):
    """masks: frame index -> byte offsets whose value is not compared."""
    for i, (e, g) in enumerate(zip(expected, got)):
        eb, skip = bytes(e), masks.get(i, ())
        gb = g[1]
        if len(eb) == len(gb):
            gb = bytes(eb[j] if j in skip else gb[j] for j in range(len(gb)))
        if eb != gb:
            j = next((j for j in range(min(len(eb), len(gb)))
                      if eb[j] != gb[j]), min(len(eb), len(gb)))
            print("FAIL %s: %s frame %d differs at byte %d (expected %d "
                  "bytes, got %d)\n  expected %s\n  got      %s" %
                  (case, port, i + 1, j, len(eb), len(gb),
                   eb[max(0, j - 8):j + 8].hex(), gb[max(0, j - 8):j + 8].hex()))
            return False
        if e.us != g[0]:
            print("FAIL %s: %s frame %d written at +%d us, expected +%d us" %
                  (case, port, i + 1, g[0], e.us))
            return False
    if len(expected) != len(got):
        print("FAIL %s: %s: expected %d frames, got %d" %
              (case, port, len(expected), len(got)))
        return False
    return True


def run(grogso, d, case, lan_in, wan_in, opts, lan_exp, wan_exp, masks=None,
        check=None, wan_extra="", says=None):
    cd = os.path.join(d, case)
    os.makedirs(cd, exist_ok=True)
    p = lambda n: os.path.join(cd, n)
    wrpcap(p("lan-in.pcap"), lan_in, linktype=1)
    wrpcap(p("wan-in.pcap"), wan_in, linktype=1)
    argv = [grogso, "--lan", "pcap:%s,%s" % (p("lan-in.pcap"), p("lan-out.pcap")),
            "--wan", "pcap:%s,%s%s" % (p("wan-in.pcap"), p("wan-out.pcap"),
                                       wan_extra),
            "--stats-json", p("stats.json")] + ADDRS + opts
    r = subprocess.run(argv, stderr=subprocess.PIPE, text=True)
    if r.returncode:
        print("FAIL %s: %s exited %d\n%s" % (case, " ".join(argv),
                                            r.returncode, r.stderr))
        return False
    if says and says not in r.stderr:
        print("FAIL %s: grogso did not say \"%s\":\n%s" % (case, says, r.stderr))
        return False
    masks = masks or {}
    lan, wan = read_pcap(p("lan-out.pcap")), read_pcap(p("wan-out.pcap"))
    ok = (compare(case, "lan", lan_exp, lan, masks.get("lan", {})) and
          compare(case, "wan", wan_exp, wan, masks.get("wan", {})))
    if ok and check:
        ok = check(case, lan, wan)
    if ok:
        print("ok %s" % case)
    return ok


def main():
    grogso, d = sys.argv[1], sys.argv[2]
    ok = True

    # Neighbours learnt from the hosts' own requests for grogso's
    # addresses (answered), then 4 TCP segments in one batch: one
    # aggregate, routed once, written whole (offload) or cut again.
    prime_w = [arp_ask(HW, IW, AW, 0)]
    prime_l = [arp_ask(HL, IL, AL, 1000)]
    segs = [tcp_seg(i, 64, HL, GL, 2000) for i in range(4)]
    rep_l = [arp_reply(GL, AL, HL, IL, 1000)]
    rep_w = [arp_reply(GW, AW, HW, IW, 0)]
    ok &= run(grogso, d, "route-offload", prime_l + segs, prime_w, [],
              rep_l, rep_w + [tcp_whole(4, 2000)])
    ok &= run(grogso, d, "route-software", prime_l + segs, prime_w,
              ["--gso=software"], rep_l,
              rep_w + [tcp_seg(i, 63, GW, HW, 2000) for i in range(4)])
    ok &= run(grogso, d, "route-gro-off", prime_l + segs, prime_w,
              ["--gro=off"], rep_l,
              rep_w + [tcp_seg(i, 63, GW, HW, 2000) for i in range(4)])

    # No neighbour for the WAN host yet: grogso asks (at the time of the
    # segments), holds the aggregate, and sends it when the answer
    # arrives 500 us later, stamped with the answer's time.
    answer = [arp_reply(HW, IW, GW, AW, 2500)]
    ok &= run(grogso, d, "route-resolve", prime_l + segs, answer, [],
              rep_l, [arp_ask(GW, AW, IW, 2000), tcp_whole(4, 2500)])

    # --gro-hold-us: the aggregate is held past its batch and goes out
    # when the hold expires (+300 us), before a later frame at +5000.
    # That frame is for another MAC: dropped, and a hint given.
    late = [tcp_seg(9, 64, HL, "02:00:00:00:00:99", 5000)]
    ok &= run(grogso, d, "route-hold", prime_l + segs + late, prime_w,
              ["--gro-hold-us=300"], rep_l, rep_w + [tcp_whole(4, 2300)],
              says="lan: 1 frames were for other MACs than grogso's "
                   "02:00:00:00:00:01 (dropped, other-host)")

    # --buffers=16 against 300 flows held 1 s (--gro-hold-us): the
    # oldest aggregates are completed early to make room, so all 300
    # datagrams go out, in the order they came
    flows = [at(2000, Ether(src=HL, dst=GL) /
                IP(src=IL, dst=IW, id=1000 + k, flags="DF", ttl=64) /
                UDP(sport=20000 + k, dport=9) / Raw(bytes(100)))
             for k in range(300)]
    routed = []
    for f in flows:
        g = f.copy()
        g[Ether].src, g[Ether].dst, g[IP].ttl = GW, HW, 63
        del g[IP].chksum
        routed.append(at(2000, Ether(bytes(g))))
    ok &= run(grogso, d, "route-buffers", prime_l + flows, prime_w,
              ["--buffers=16", "--gro-hold-us=1000000"], rep_l, rep_w + routed)

    # TTL 1: time exceeded back to the sender, quoting the datagram as it
    # came.  The IPv4 ID of the error is grogso's choice (not compared);
    # its header checksum must hold.
    dgram = at(3000, Ether(src=HL, dst=GL) /
               IP(src=IL, dst=IW, id=200, ttl=1) /
               UDP(sport=3333, dport=33434) / Raw(b"x" * 32))
    err = at(3000, Ether(src=GL, dst=HL) /
             IP(src=AL, dst=IL, tos=0xc0, ttl=64, id=0) /
             ICMP(type=11, code=0) / Raw(bytes(dgram[IP])))

    def err_csum(case, lan, wan):
        hdr = lan[1][1][14:34]
        if not ip4_csum_ok(hdr):
            print("FAIL %s: the error's IPv4 header checksum is wrong" % case)
            return False
        return True

    ok &= run(grogso, d, "route-ttl", prime_l + [dgram], [], [], rep_l + [err],
              [], masks={"lan": {1: (18, 19, 24, 25)}}, check=err_csum)

    # mtu= on the WAN port: a DF datagram too large for it is refused
    # with fragmentation needed, quoting 576 bytes' worth of it; the
    # aggregate of 1000-byte segments still fits and goes out whole.
    big = at(3000, Ether(src=HL, dst=GL) /
             IP(src=IL, dst=IW, id=300, flags="DF", ttl=64) /
             UDP(sport=3333, dport=9) / Raw(bytes(1422)))
    need = at(3000, Ether(src=GL, dst=HL) /
              IP(src=AL, dst=IL, tos=0xc0, ttl=64, id=0) /
              ICMP(type=3, code=4, nexthopmtu=1400) /
              Raw(bytes(big[IP])[:576 - 28]))
    ok &= run(grogso, d, "route-mtu", prime_l + segs + [big], prime_w, [],
              rep_l + [need], rep_w + [tcp_whole(4, 2000)],
              masks={"lan": {1: (18, 19, 24, 25)}}, check=err_csum,
              wan_extra=",mtu=1400")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
