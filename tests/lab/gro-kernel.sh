#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# grogso's GRO, and its GRO then GSO, against the running kernel's, frame
# for frame, through lab/kernel-diff.sh (lab/kernel_diff.py says how; each
# run makes a namespace of its own and removes it).  Asserts:
#  1. for every built-in case (TCP and UDP over IPv4 and IPv6: trains,
#     flag, header, ID, option, length and sequence changes, interleaved
#     flows, size and segment limits, padding, partial checksums, a
#     VLAN tag; the trains of tagged frames only where the kernel
#     aggregates them), flow by flow:
#     a. grogso replay --gso=offload writes the same frames as the kernel,
#        after GRO, hands a veth with TSO (whole, but a fixed-ID TCP
#        aggregate without DF segmented), byte for byte, with the same
#        gso_size;
#     b. grogso replay --gso=software --gso-ipid=linux writes the same
#        frames as the kernel's GSO makes of its aggregates when it
#        forwards them to a veth without segmentation offloads;
#     c. where grogso differs from Linux on purpose (the man page's
#        CAVEATS: a frame Linux turns away before looking for its flow,
#        with IP options, MF set or a bad TCP checksum, overtakes the
#        segments Linux holds, not those grogso holds, and so does a UDP
#        datagram with a zero checksum or with padding; Linux does not cap
#        TCP aggregates at 64 segments; with 80 flows taking turns Linux
#        aggregates nothing, grogso all), it differs exactly so;
#  2. the comparison of aggregates sees a difference: with
#     --gro-max-segs=4 grogso cuts a train of 10 the kernel merges whole;
#  3. so does the comparison of segments: with --gso-ipid=increment grogso
#     gives a fixed-ID UDP aggregate its fixed ID back, where Linux
#     numbers the datagrams up;
#  4. a capture (--pcap): tests/data/udp4.in.pcap, two batches of three
#     datagrams, comes out of both the same, as two aggregates of three;
#  5. real traffic: 3000 frames of iperf3 TCP and 2000 of iperf3 UDP,
#     captured at eth5 of the lab's gw (both directions, the partial
#     checksums of veth), come out of both the same, with aggregates of
#     more than one segment among them;
#  6. 100 random trains (lab/kernel-diff.sh --random, seed 1: up to three
#     interleaved flows with random changes, none of them CAVEATS) come
#     out of both the same;
#  7. 1 holds for grogso running as the daemon too (--live), on TAP ports
#     and on AF_PACKET ports (bridge mode, the ring of slots, frames read
#     from the kernel with their virtio-net header and written with it),
#     and offline on pcap ports (the train in a capture, what grogso
#     writes to the other), and there too --gro-max-segs=4 is told apart;
#  8. 7 holds in route mode too, against the kernel's forwarding (lab/
#     kernel-diff.sh --mode route: TTL, MACs, padding and VLAN tags as
#     Linux routes them; where the aggregates go whole), also with an MTU
#     of 1400 on the LAN links (--lan-mtu: refused with ICMP, or
#     fragmented, byte for byte as Linux fragments; the ICMP errors sent
#     back are the same too, but for the IPv4 ID), and there
#     --gso-fixed-id=offload is told apart: the kernel segments a fixed-ID
#     TCP aggregate without DF where that grogso hands it on whole; route
#     mode on pcap ports too, with the MTU of 1400 on the LAN port.
# grogso follows the rules of Linux 6.18; on another kernel the test is
# skipped, unless GROGSO_KGRO_ANY=1 (then it shows where the two differ).
set -u
. "$(dirname "$0")/lib.sh"

lab_require
kver=$(uname -r)
case $kver in
6.18 | 6.18.* | 6.18-* | 6.18+*) ;;
*) [ "${GROGSO_KGRO_ANY:-0}" = 1 ] ||
	skip "grogso follows Linux 6.18's GRO, this is $kver (GROGSO_KGRO_ANY=1 runs it anyway)" ;;
esac

bin=$(cd "$(dirname "$GROGSO")" && pwd)/$(basename "$GROGSO")
kdiff() { # ARGS...: lab/kernel-diff.sh, its output in $out, its status in $rc
	out=$(NO_INSTALL=1 GROGSO=$bin "$top_srcdir/lab/kernel-diff.sh" "$@" 2>&1)
	rc=$?
	[ $rc = 77 ] && { echo "$out"; skip "lab/kernel-diff.sh cannot run here"; }
	return 0
}

kdiff
echo "$out"
[ $rc = 0 ] || fail "1: grogso's GRO or GSO differs from the kernel's (above)"
ok "1: every case as the kernel, aggregates and segments, byte for byte, or different as documented"

kdiff --grogso-arg --gro-max-segs=4 tcp4-train
echo "$out" | sed 's/^/  | /'
[ $rc = 1 ] && echo "$out" | grep -q '^FAIL tcp4-train' ||
	fail "2: a grogso that cuts at 4 segments was not told apart (exit $rc)"
ok "2: the comparison fails when grogso's GRO is made to differ"

kdiff --grogso-arg --gso-ipid=increment udp4-id-fixed
echo "$out" | grep -E '^(FAIL|ok)' | sed 's/^/  | /'
[ $rc = 1 ] && echo "$out" | grep -q '^  GSO: .* frame 1 differs at byte 19' ||
	fail "3: a grogso that keeps fixed UDP IDs was not told apart from Linux (exit $rc)"
ok "3: the comparison fails when grogso's GSO is made to differ"

kdiff --pcap "$top_srcdir/tests/data/udp4.in.pcap"
echo "$out" | sed 's/^/  | /'
[ $rc = 0 ] && [ "$(echo "$out" | grep -c 'the same, byte for byte')" = 2 ] &&
	echo "$out" | grep -q "segments per aggregate: 3 3$" ||
	fail "4: the capture did not come out of both the same (exit $rc)"
ok "4: a capture in two batches, the same from both"

lab_up --io packet --mode route --gso offload >/dev/null
for what in tcp udp; do
	n=3000 filter=tcp args=(-b 1G)
	[ $what = udp ] && n=2000 filter=udp args=(-u -b 200M -l 1200)
	in_gw tcpdump -i eth5 -s 0 -c "$n" -U -w "$WORK/$what.pcap" "$filter" \
		2>"$WORK/$what.err" &
	LAB_BGPIDS+=($!)
	for _ in $(seq 50); do
		grep -q listening "$WORK/$what.err" 2>/dev/null && break
		sleep 0.05
	done
	lab_iperf 1 198.18.1.2 "${args[@]}" >/dev/null || fail "5: iperf3 $what"
	lab_capture_stop
	kdiff --pcap "$WORK/$what.pcap"
	if [ $rc = 0 ] && [ "$(echo "$out" | grep -c 'the same, byte for byte')" = 2 ]; then
		echo "$out" | cut -c1-160 | sed 's/^/  | /'
	else
		echo "$out" | sed 's/^/  | /'
		fail "5: the $what capture did not come out of both the same (exit $rc)"
	fi
	echo "$out" | grep -q "segments per aggregate:.* [2-9]" ||
		fail "5: no aggregate in the $what capture"
done
ok "5: real TCP and UDP traffic of the lab, the same from both"

kdiff --random 100 --seed 1
echo "$out" | grep -v '^  train' | cut -c1-200 | sed 's/^/  | /'
[ $rc = 0 ] && echo "$out" | grep -q '^100 of 100 cases as the kernel' ||
	fail "6: random trains came out of grogso and the kernel differently (exit $rc)"
ok "6: 100 random trains, the same from both"

# live_cases CHECK MODE: every case through grogso running in MODE
live_cases() {
	local io
	for io in tap packet pcap; do
		kdiff --live "$io" --mode "$2"
		echo "$out" | grep -v '^ok' | sed 's/^/  | /'
		[ $rc = 0 ] && echo "$out" | grep -q '^[0-9]* of [0-9]* cases as the kernel' &&
			! echo "$out" | grep -q '^FAIL' ||
			fail "$1: grogso's $2 mode on $io ports differs from the kernel (exit $rc)"
		ok "$1: every case through grogso's $2 mode on $io ports, as the kernel"
	done
}

live_cases 7 bridge
kdiff --live packet --grogso-arg --gro-max-segs=4 tcp4-train
[ $rc = 1 ] && echo "$out" | grep -q '^FAIL tcp4-train' ||
	fail "7: a live grogso that cuts at 4 segments was not told apart (exit $rc)"
ok "7: the live comparison fails when grogso's GRO is made to differ"
kdiff --live pcap --grogso-arg --gro-max-segs=4 tcp4-train
[ $rc = 1 ] && echo "$out" | grep -q '^FAIL tcp4-train' ||
	fail "7: a grogso on pcap ports that cuts at 4 segments was not told apart (exit $rc)"
ok "7: so does the comparison on pcap ports"

live_cases 8 route
for io in packet pcap; do
	kdiff --live $io --mode route --lan-mtu 1400
	echo "$out" | grep -v '^ok\|^skipped' | sed 's/^/  | /'
	[ $rc = 0 ] && echo "$out" | grep -q '^ok tcp4-id-fixed-nodf: .*GRO: 12 out' &&
		echo "$out" | grep -q '^ok tcp4-train: .*ICMP errors back: 1$' &&
		! echo "$out" | grep -q '^FAIL' ||
		fail "8: with an MTU of 1400, grogso's route mode on $io ports differs from the kernel's (exit $rc)"
	ok "8: every case routed on $io ports to links of MTU 1400, as the kernel routes it (fragments too)"
done
kdiff --live packet --mode route --grogso-arg --gso-fixed-id=offload tcp4-id-fixed-nodf
echo "$out" | sed 's/^/  | /'
[ $rc = 1 ] && echo "$out" | grep -q "the kernel gave 6 frames, grogso 1" ||
	fail "8: a grogso that offloads what Linux segments was not told apart (exit $rc)"
ok "8: the route comparison fails when grogso offloads a fixed-ID aggregate Linux segments"
exit 0
