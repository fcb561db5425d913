#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/lab/link-events.sh: grogso while its links go down, come back and
# go away.
#   packet ports: with eth4 down, pings to client1 are dropped and counted
#     as link-down and grogso stays idle (a link going down leaves an
#     error on the socket that the ring never reads; it must not wake
#     grogso again and again); with eth4 up again they get through; when
#     client1's namespace goes, eth4 goes with it and grogso stops with
#     status 1, its counters written; so it does when eth5 is moved to
#     another namespace.
#   TAP ports: the same down and up on the TAP in gw.
#   vm: a TAP moved to client1 is followed there; the drops at a moved
#     TAP's full queue are counted as ring-full; when client1's
#     namespace goes, the TAP is deleted and grogso stops with status 1.
#   vm link: the link of a TAP moved to client1, as client1 sets it
#     (grogso hears client1's link events): down there, grogso says so
#     and drops what goes out there as link-down; up again, pings get
#     through; a new MTU there is told; the TAP deleted there, grogso
#     stops with status 1 at once.
#
# Run by make check as root; skipped (77) otherwise.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
lab_require

hz=$(getconf CLK_TCK)

# cpu_ticks PID: its utime + stime
cpu_ticks() {
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# pings N: how many of N pings from client2 reach client1 and come back
pings() {
	in_c2 ping -n -q -c "$1" -i 0.2 -W 1 198.18.1.2 2>/dev/null |
		awk '/received/ { print $4 }'
}

# wait_pings: until a ping gets through (5 s at the most)
wait_pings() {
	local _
	for _ in $(seq 10); do
		[ "$(pings 1)" = 1 ] && return 0
		sleep 0.4
	done
	return 1
}

# idle_while_down DEV: DEV down in gw; pings dropped; grogso idle
idle_while_down() {
	local dev=$1 pid t0 t1 got
	pid=$(cat "$LAB_DIR/grogso.pid")
	t0=$(cpu_ticks "$pid")
	in_gw ip link set "$dev" down
	got=$(pings 5)
	sleep 1
	t1=$(cpu_ticks "$pid")
	[ "$got" = 0 ] || fail "$dev down: $got of 5 pings got through"
	# about 2 s of wall time went by; a spinning grogso takes all of it
	[ $((t1 - t0)) -lt $((hz / 2)) ] ||
		fail "$dev down: grogso used $((t1 - t0)) ticks of CPU in 2 s (idle expected)"
	ok "$dev down: 5 pings dropped, grogso used $((t1 - t0)) ticks in 2 s"
	in_gw ip link set "$dev" up
	wait_pings || fail "$dev up again: pings do not get through"
	t0=$(cpu_ticks "$pid")
	sleep 1
	t1=$(cpu_ticks "$pid")
	[ $((t1 - t0)) -lt $((hz / 4)) ] ||
		fail "$dev up again: grogso used $((t1 - t0)) ticks in an idle second"
	ok "$dev up again: pings get through, grogso idle ($((t1 - t0)) ticks in 1 s)"
}

# log_count PATTERN: how many lines of grogso's messages match
log_count() {
	grep -c -e "$1" "$LAB_DIR/grogso.err"
}

# log_grows PATTERN N: until more than N lines match (2 s at the most)
log_grows() {
	local _
	for _ in $(seq 20); do
		[ "$(log_count "$1")" -gt "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# gone_stops WHAT CMD...: after CMD, grogso exits 1 with a message
# matching WHAT
gone_stops() {
	local pat=$1 _ st
	shift
	"$@"
	for _ in $(seq 50); do
		[ -f "$LAB_DIR/grogso.status" ] && break
		sleep 0.1
	done
	st=$(cat "$LAB_DIR/grogso.status" 2>/dev/null || echo "still running")
	[ "$st" = 1 ] || fail "$*: grogso status $st, not 1"
	grep -q -e "$pat" "$LAB_DIR/grogso.err" ||
		fail "no message '$pat' in grogso.err"
	[ -s "$LAB_DIR/stats.json" ] || fail "no stats.json written"
	ok "$*: grogso stopped with status 1: $(grep -e "$pat" "$LAB_DIR/grogso.err")"
}

link_down_drops() {
	python3 -c '
import json, sys
print(sum(json.loads(l)["drop"].get("link-down", 0)
          for l in open(sys.argv[1]) if l.strip()))' "$LAB_DIR/stats.json"
}

# ---- packet ports ----
lab_up --io packet
wait_pings || fail "packet: no ping through grogso"
idle_while_down eth4
gone_stops "lan: eth4 was deleted: grogso stops" ip netns del "$C1"
n=$(link_down_drops)
[ "$n" -ge 5 ] || fail "packet: $n frames counted as link-down, 5 pings at least"
ok "packet: $n frames counted as link-down"
"$top_srcdir/lab/down.sh" --prefix "$LAB_PREFIX" >/dev/null
# moved away: its socket cannot follow
lab_up --io packet
wait_pings || fail "packet: no ping through grogso"
gone_stops "wan: eth5 was moved to another namespace, where its socket cannot follow: grogso stops" \
	ip -n "$GW" link set eth5 netns "$C2"
"$top_srcdir/lab/down.sh" --prefix "$LAB_PREFIX" >/dev/null

# ---- TAP ports ----
lab_up --io tap
wait_pings || fail "tap: no ping through grogso"
idle_while_down tlan
"$top_srcdir/lab/down.sh" --prefix "$LAB_PREFIX" >/dev/null ||
	fail "tap: grogso did not exit 0 on SIGTERM"

# ---- TAPs moved into the clients ----
lab_up --io vm
wait_pings || fail "vm: no ping through grogso"
grep -q "lan: tap tlan left this namespace; going on" "$LAB_DIR/grogso.err" ||
	fail "vm: the move of tlan was not noticed"
# the queue of a TAP that went to client2 (its eth0), overflowed while
# grogso is stopped: counted as ring-full, read where the TAP is now
pid=$(cat "$LAB_DIR/grogso.pid")
kill -STOP "$pid"
in_c2 python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(20000):
    s.sendto(bytes(100), ("198.18.1.2", 9))'
kill -CONT "$pid"
sleep 0.3
dropped=$(in_c2 cat /sys/class/net/eth0/statistics/tx_dropped)
[ "$dropped" -gt 0 ] || fail "vm: client2's burst did not overflow twan's queue"
gone_stops "lan: tap tlan was deleted: grogso stops" ip netns del "$C1"
full=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["port"] == "wan":
        print(r["drop"].get("ring-full", 0))' "$LAB_DIR/stats.json")
[ "$full" = "$dropped" ] ||
	fail "vm: wan ring-full $full, twan (client2's eth0) dropped $dropped"
ok "vm: the moved TAP's queue drops counted as ring-full ($full)"
"$top_srcdir/lab/down.sh" --prefix "$LAB_PREFIX" >/dev/null

# ---- the link of a TAP moved into client1, set there ----
lab_up --io vm
wait_pings || fail "vm link: no ping through grogso"
# the move itself closed tlan here first: count from now on
n=$(log_count "lan: tlan: link down")
in_c1 ip link set eth0 down
log_grows "lan: tlan: link down" "$n" ||
	fail "vm link: eth0 down in client1, grogso did not say lan's link went down"
got=$(pings 5)
[ "$got" = 0 ] || fail "vm link: eth0 down in client1: $got of 5 pings got through"
ok "vm link: eth0 down in client1: grogso says so, 5 pings dropped"
n=$(log_count "lan: tlan: link up")
in_c1 ip link set eth0 up
# the link going down took client1's route back with it
in_c1 ip route replace default via 198.18.1.1
log_grows "lan: tlan: link up" "$n" ||
	fail "vm link: eth0 up in client1, grogso did not say lan's link is up"
wait_pings || fail "vm link: eth0 up again in client1: pings do not get through"
ok "vm link: eth0 up again in client1: grogso says so, pings get through"
in_c1 ip link set eth0 mtu 1400
log_grows "lan: tlan: MTU 1500 -> 1400" 0 ||
	fail "vm link: eth0's MTU 1400 in client1 not told"
ok "vm link: eth0's MTU 1400 in client1 told"
gone_stops "lan: tap tlan was deleted: grogso stops" ip -n "$C1" link del eth0
# counted on the port they came in by: client2's pings, on wan
n=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["port"] == "wan":
        print(r["drop"].get("link-down", 0))' "$LAB_DIR/stats.json")
[ "$n" -ge 5 ] || fail "vm link: $n frames for lan counted as link-down, 5 pings at least"
ok "vm link: $n frames for lan counted as link-down"
"$top_srcdir/lab/down.sh" --prefix "$LAB_PREFIX" >/dev/null
echo "PASS"
