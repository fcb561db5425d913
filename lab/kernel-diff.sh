#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# lab/kernel-diff.sh: put frames through the running kernel's GRO (and its
# GSO after it) and through grogso (replay, or the daemon with --live),
# and compare what comes out, flow by flow, byte for byte.
# lab/kernel_diff.py does the work, in a network namespace this script
# makes and removes again.
#
#   lab/kernel-diff.sh [CASE...]        the built-in cases (all by default)
#   lab/kernel-diff.sh --pcap FILE [--batch N] [--batch-gap-us N]
#                                       the frames of a capture, cut into
#                                       batches as grogso replay cuts them
#   lab/kernel-diff.sh --random N [--seed S] [CASE...]
#                                       N random trains (and the CASEs
#                                       named); train I of seed S is the
#                                       CASE random:S:I
#   --live tap|packet|pcap  grogso runs as the daemon (on TAPs, on
#                      AF_PACKET sockets on veths, or offline on pcap
#                      ports) instead of replay, holding aggregates
#                      (--gro-hold-us) until each train or batch is in
#   --mode bridge|route  with --live: bridge mode (the default), or route
#                      mode against the kernel's forwarding, each router
#                      sending to a next hop that answers ARP and NDP
#   --lan-mtu N        with --mode route: the LAN links' MTU (1280..1500):
#                      what is too big is fragmented or refused with ICMP
#   --grogso-arg ARG (repeatable) adds ARG to grogso's options.
#
# Run as root.  Needs python3 with scapy and ethtool.  Exit 0 when
# everything is as the kernel does it (or, for the cases of the man page's
# CAVEATS, different exactly as documented), 1 otherwise, 77 when it
# cannot run here (no python3 with scapy, no TAP with NAPI).
set -euo pipefail

. "$(dirname "$0")/lib.sh"

usage() {
	sed -n '4,32p' "$0" | sed 's/^# \{0,1\}//'
}

py_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--pcap) py_args+=("--pcap=$(realpath "${2:?}")"); shift ;;
	--batch) py_args+=("--batch=${2:?}"); shift ;;
	--batch-gap-us) py_args+=("--batch-gap-us=${2:?}"); shift ;;
	--grogso-arg) py_args+=("--grogso-arg=${2:?}"); shift ;;
	--random) py_args+=("--random=${2:?}"); shift ;;
	--seed) py_args+=("--seed=${2:?}"); shift ;;
	--live) py_args+=("--live=${2:?}"); shift ;;
	--mode) py_args+=("--mode=${2:?}"); shift ;;
	--lan-mtu) py_args+=("--lan-mtu=${2:?}"); shift ;;
	-h | --help) usage; exit 0 ;;
	-*) usage >&2; exit 2 ;;
	*) break ;;
	esac
	shift
done

lab_need_root
lab_install python3 python3-scapy ethtool iproute2
grogso=$(lab_grogso) || exit 1
. "$LAB_DIR/scapy-python.sh"
if ! PY=$(scapy_python); then
	warn "python3 with scapy not found (Debian: python3-scapy)"
	exit 77
fi

ns=kdiff$$
work=$(mktemp -d "${TMPDIR:-/tmp}/grogso-kdiff.XXXXXX")
# kernel_diff.py makes "${ns}l" for the next hops of --mode route
trap 'ip netns del "$ns" 2>/dev/null; ip netns del "${ns}l" 2>/dev/null || true; rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
ip netns add "$ns"
ip netns exec "$ns" "$PY" "$LAB_DIR/kernel_diff.py" "${py_args[@]}" \
	"$(realpath "$grogso")" "$work" "$@"
