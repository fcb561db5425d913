#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# grogso's GRO, and its GRO then GSO, against the running kernel's, frame
# for frame (tests/lab/gro_kernel.py says how).  In a namespace of its
# own, asserts:
#  1. for every case (TCP and UDP over IPv4 and IPv6: trains, flag, header,
#     ID, option, length and sequence changes, interleaved flows, size and
#     segment limits, padding), flow by flow:
#     a. grogso replay --gso=offload writes the same frames as the kernel
#        passes up after GRO, byte for byte, with the same gso_size;
#     b. grogso replay --gso=software --gso-ipid=linux writes the same
#        frames as the kernel's GSO makes of its aggregates when it
#        forwards them to a veth without segmentation offloads;
#     c. where grogso differs from Linux on purpose (the man page's
#        CAVEATS: a frame GRO does not merge overtakes the held segments
#        of its flow in Linux, not in grogso; Linux does not cap TCP
#        aggregates at 64 segments), it differs exactly so;
#  2. the comparison of aggregates sees a difference: with
#     --gro-max-segs=4 grogso cuts a train of 10 the kernel merges whole;
#  3. so does the comparison of segments: with --gso-ipid=increment grogso
#     gives a fixed-ID UDP aggregate its fixed ID back, where Linux
#     numbers the datagrams up.
# grogso follows the rules of Linux 6.18; on another kernel the test is
# skipped, unless GROGSO_KGRO_ANY=1 (then it shows where the two differ).
set -u
. "$(dirname "$0")/lib.sh"

[ "${GROGSO_SKIP_LAB:-0}" = 1 ] && skip "GROGSO_SKIP_LAB=1"
[ "$(id -u)" = 0 ] || skip "needs root"
[ -n "${GROGSO:-}" ] && [ -x "$GROGSO" ] || skip "GROGSO is not set to a built grogso"
command -v ethtool >/dev/null || skip "ethtool not installed"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
kver=$(uname -r)
case $kver in
6.18 | 6.18.* | 6.18-* | 6.18+*) ;;
*) [ "${GROGSO_KGRO_ANY:-0}" = 1 ] ||
	skip "grogso follows Linux 6.18's GRO, this is $kver (GROGSO_KGRO_ANY=1 runs it anyway)" ;;
esac
PY=
for py in python3 /usr/bin/python3; do
	if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import scapy.all' >/dev/null 2>&1; then
		PY=$(command -v "$py")
		break
	fi
done
[ -n "$PY" ] || skip "python3 with scapy not found (Debian: python3-scapy)"

NS=${LAB_PREFIX}kgro
WORK=$(mktemp -d "${TMPDIR:-/tmp}/grogso-kgro.XXXXXX") || exit 99
trap 'ip netns del "$NS" 2>/dev/null; rm -rf "$WORK"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ip netns add "$NS" 2>/dev/null || skip "ip netns does not work here"

script=$top_srcdir/tests/lab/gro_kernel.py
bin=$(cd "$(dirname "$GROGSO")" && pwd)/$(basename "$GROGSO")

ip netns exec "$NS" "$PY" "$script" "$bin" "$WORK"
rc=$?
[ $rc = 77 ] && skip "the kernel has no TAP with NAPI"
[ $rc = 0 ] || fail "1: grogso's GRO differs from the kernel's (above)"
ok "1: every case as the kernel, aggregates and segments, byte for byte, or different as documented"

out=$(ip netns exec "$NS" "$PY" "$script" --grogso-arg=--gro-max-segs=4 \
	"$bin" "$WORK" tcp4-train)
rc=$?
echo "$out" | sed 's/^/  | /'
[ $rc = 1 ] && echo "$out" | grep -q '^FAIL tcp4-train' ||
	fail "2: a grogso that cuts at 4 segments was not told apart (exit $rc)"
ok "2: the comparison fails when grogso's GRO is made to differ"

out=$(ip netns exec "$NS" "$PY" "$script" --grogso-arg=--gso-ipid=increment \
	"$bin" "$WORK" udp4-id-fixed)
rc=$?
echo "$out" | grep -E '^(FAIL|ok)' | sed 's/^/  | /'
[ $rc = 1 ] && echo "$out" | grep -q '^  GSO: .* frame 1 differs at byte 19' ||
	fail "3: a grogso that keeps fixed UDP IDs was not told apart from Linux (exit $rc)"
ok "3: the comparison fails when grogso's GSO is made to differ"
exit 0
