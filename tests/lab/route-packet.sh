#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Route mode end to end: grogso between client1 and client2 on AF_PACKET
# ports (ROUTE_IO=tap: on TAPs bridged to the veths, see route-tap.sh).
# Checks what only the whole daemon shows: forwarding both ways for IPv4
# and IPv6, ping to grogso's own addresses, ICMP time-exceeded from the
# ingress address, host-unreachable after ARP gives up, frag-needed /
# packet-too-big with the egress MTU, IPv4 fragmentation, and TCP.
# Exit 77 (skipped) without root, namespaces or a grogso binary.
set -u

io=${ROUTE_IO:-packet}
top=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
grogso=${GROGSO:-${top_builddir:-$top}/grogso}
P=rt$$
c1=${P}client1
c2=${P}client2
gw=${P}gw
fails=0

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root"; exit 77; }
[ -x "$grogso" ] || { echo "SKIP: no grogso at $grogso"; exit 77; }
command -v ip >/dev/null && command -v ping >/dev/null ||
	{ echo "SKIP: needs iproute2 and ping"; exit 77; }
ip netns add "${P}probe" 2>/dev/null || { echo "SKIP: no network namespaces"; exit 77; }
ip netns del "${P}probe"

cleanup() { "$top/lab/down.sh" --prefix "$P" >/dev/null 2>&1 || true; }
trap cleanup EXIT

check() {
	local what=$1 pattern=$2 out
	shift 2
	out=$("$@" 2>&1)
	if printf '%s\n' "$out" | grep -q -- "$pattern"; then
		echo "ok: $what"
	else
		echo "FAIL: $what (wanted /$pattern/)"
		printf '%s\n' "$out" | sed 's/^/    /'
		fails=$((fails + 1))
	fi
}

"$top/lab/up.sh" --prefix "$P" --io "$io" --mode route --grogso "$grogso" ||
	{ echo "FAIL: lab did not come up"; exit 1; }
in1() { ip netns exec "$c1" "$@"; }

check "ipv4 across" " 0% packet loss" in1 ping -c 3 -i 0.2 -W 1 198.19.1.2
check "ipv6 across" " 0% packet loss" in1 ping -6 -c 3 -i 0.2 -W 1 2001:db8:2::2
check "ping lan address" " 0% packet loss" in1 ping -c 1 -W 1 198.18.1.1
check "ping wan address from lan" " 0% packet loss" in1 ping -c 1 -W 1 198.19.1.1
check "ping6 lan address" " 0% packet loss" in1 ping -6 -c 1 -W 1 2001:db8:1::1
check "ttl 1: time exceeded from the lan address" \
	"From 198.18.1.1 .*Time to live exceeded" in1 ping -c 1 -t 1 -W 1 198.19.1.2
check "hop limit 1: time exceeded from the lan address" \
	"From 2001:db8:1::1 .*Time exceeded" in1 ping -6 -c 1 -t 1 -W 1 2001:db8:2::2
check "unresolved neighbour: host unreachable" \
	"Destination Host Unreachable" in1 ping -c 1 -W 5 198.19.1.77

ip -n "$gw" link set eth5 mtu 1400
ip -n "$c2" link set eth0 mtu 1400
[ "$io" = tap ] && ip -n "$gw" link set twan mtu 1400
sleep 0.5
check "DF too big: frag needed with the egress MTU" \
	"Frag needed and DF set (mtu = 1400)" in1 ping -c 1 -W 1 -M do -s 1450 198.19.1.2
check "no DF: fragmented and answered" \
	" 0% packet loss" in1 ping -c 2 -i 0.2 -W 1 -M dont -s 1450 198.19.1.2
check "ipv6 too big: packet too big with the egress MTU" \
	"Packet too big: mtu=1400" in1 ping -6 -c 1 -W 1 -s 1450 2001:db8:2::2
ip -n "$gw" link set eth5 mtu 1500
ip -n "$c2" link set eth0 mtu 1500
[ "$io" = tap ] && ip -n "$gw" link set twan mtu 1500

if command -v iperf3 >/dev/null; then
	ip netns exec "$c2" iperf3 -s -1 -D >/dev/null 2>&1
	sleep 0.5
	check "tcp through route mode" "receiver" \
		in1 timeout 30 iperf3 -c 198.19.1.2 -t 2
fi

[ "$fails" = 0 ] || { echo "$fails check(s) failed; grogso said:"; \
	tail -40 "${GROGSO_LAB_DIR:-/run/grogso-lab}/$P/grogso.err"; exit 1; }
exit 0
