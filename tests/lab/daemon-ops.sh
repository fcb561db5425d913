#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/lab/daemon-ops.sh: what an operator does to a running grogso.
#   SIGHUP: the aggregate log, moved away, is opened again under its
#     name; records before the signal stay in the old file, records
#     after it go to the new one, none lost.
#   SIGUSR1 prints the counters; --stats-interval prints them by itself.
#   --kernel-gro: with warn (the default) kernel GRO left on is named in
#     a warning; with off grogso turns rx-gro and rx-udp-gro-forwarding
#     off on its ports while it runs and turns them back on at exit.
#   --cpu: grogso runs on that CPU only; one it may not use is refused.
#   --buffers: a pool of 16 buffers against a burst of 300 datagrams of
#     300 flows held 200 ms: the oldest aggregates are completed early
#     (flush "full") to make room, so all 300 arrive, none is dropped
#     for want of a buffer, and the books balance.
#
# Run by make check as root; skipped (77) otherwise.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
lab_require

# burst N: N UDP datagrams of 600 bytes from client2 to client1, one
# flow, sent back to back (held by --gro-hold-us, they make an aggregate)
burst() {
	in_c2 python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[1])):
    s.sendto(bytes(600), ("198.18.1.2", 9999))
EOF
}

# records FILE: the gro records in an aggregate log
records() {
	if [ -e "$1" ]; then
		grep -c '"ev":"gro"' "$1"
	else
		echo 0
	fi
}

# at_least N CMD...: CMD prints a number of N or more
at_least() {
	local n=$1
	shift
	[ "$("$@")" -ge "$n" ]
}

# stats_blocks: how many times the counters were printed so far
stats_blocks() {
	grep -c '^port lan$' "$LAB_DIR/grogso.err"
}

# wait_for CMD...: until CMD succeeds (5 s at the most)
wait_for() {
	local _
	for _ in $(seq 50); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

lab_up --io packet -- --gro-hold-us=20000 --stats-interval=1
pid=$(cat "$LAB_DIR/grogso.pid")
log=$LAB_DIR/agg.json

# ---- SIGHUP ----
burst 3
wait_for at_least 1 records "$log" ||
	fail "no gro record for a burst of 3 datagrams"
mv "$log" "$log.1"
kill -HUP "$pid"
wait_for test -e "$log" || fail "SIGHUP: $log not opened again"
before=$(records "$log.1")
burst 3
sleep 0.5
burst 3
wait_for at_least 2 records "$log" ||
	fail "SIGHUP: $(records "$log") records in the new log, 2 expected"
[ "$(records "$log.1")" = "$before" ] ||
	fail "SIGHUP: the old log grew after the signal"
ok "SIGHUP: $before record(s) in the moved log, $(records "$log") in the new one"

# ---- SIGUSR1 and --stats-interval ----
n0=$(stats_blocks)
sleep 3.5
n1=$(stats_blocks)
[ $((n1 - n0)) -ge 2 ] ||
	fail "--stats-interval=1: counters printed $((n1 - n0)) times in 3.5 s"
ok "--stats-interval=1: counters printed $((n1 - n0)) times in 3.5 s"
lab_stop >/dev/null
# without the interval: only the signal prints them
"$top_srcdir/lab/down.sh" --prefix "$LAB_PREFIX" >/dev/null
lab_up --io packet
pid=$(cat "$LAB_DIR/grogso.pid")
n0=$(stats_blocks)
kill -USR1 "$pid"
wait_for at_least $((n0 + 1)) stats_blocks || fail "SIGUSR1: no counters printed"
kill -0 "$pid" || fail "SIGUSR1: grogso is gone"
ok "SIGUSR1: counters printed, grogso still running"
[ "$(lab_stop)" = 0 ] || fail "grogso did not exit 0 on SIGTERM"

# ---- --cpu ----
"$top_srcdir/lab/down.sh" --prefix "$LAB_PREFIX" >/dev/null
cpu=$(($(nproc) - 1))
lab_up --io packet -- --cpu=$cpu
pid=$(cat "$LAB_DIR/grogso.pid")
allowed=$(awk '$1 == "Cpus_allowed_list:" { print $2 }' "/proc/$pid/status")
[ "$allowed" = "$cpu" ] || fail "--cpu=$cpu: grogso may run on CPUs $allowed"
ok "--cpu=$cpu: grogso runs on CPU $allowed only"
# refused before it opens a port
ip netns exec "$GW" "$GROGSO" --mode=bridge --lan eth4 --wan eth5 --cpu=1000 \
	>"$WORK/cpu.out" 2>"$WORK/cpu.err"
st=$?
[ "$st" = 1 ] && grep -q "^grogso: --cpu=1000: CPU 1000 is not one grogso may run on here" \
	"$WORK/cpu.err" || fail "--cpu=1000: status $st, $(cat "$WORK/cpu.err")"
ok "--cpu=1000: refused: $(head -1 "$WORK/cpu.err")"
"$top_srcdir/lab/down.sh" --prefix "$LAB_PREFIX" >/dev/null

# ---- --buffers ----
lab_up --io packet --mode bridge -- --buffers=16 --gro-hold-us=200000
in_c1 timeout 10 python3 - "$WORK/got" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
# room for the whole burst: it leaves grogso at once (SO_RCVBUFFORCE)
s.setsockopt(socket.SOL_SOCKET, 33, 4 << 20)
s.bind(("198.18.1.2", 9999))
s.settimeout(2)
n = 0
try:
    while True:
        s.recv(2048)
        n += 1
except socket.timeout:
    pass
open(sys.argv[1], "w").write("%d\n" % n)
EOF
rcv=$!
sleep 0.5
in_c2 python3 -c '
import socket
for i in range(300):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("198.18.1.3", 20000 + i))
    s.sendto(bytes(600), ("198.18.1.2", 9999))
    s.close()'
wait "$rcv"
got=$(cat "$WORK/got")
[ "$(lab_stop)" = 0 ] || fail "--buffers=16: grogso did not exit 0"
python3 - "$LAB_DIR/stats.json" "$got" <<'EOF' || fail "--buffers=16: held aggregates starved a burst of 300 datagrams"
import json, sys
ports = {json.loads(l)["port"]: json.loads(l) for l in open(sys.argv[1]) if l.strip()}
wan, lan, got = ports["wan"], ports["lan"], int(sys.argv[2])
nobuf = wan["drop"].get("no-buffer", 0)
full = wan["flush"].get("full", 0)
print("client1 got %d of 300; wan rx %d, no-buffer %d, flushed full %d; "
      "lan tx %d" % (got, wan["rx_pkts"], nobuf, full, lan["tx_pkts"]))
sys.exit(not (got == 300 and nobuf == 0 and full >= 300 - 16))
EOF
lab_stats_balanced "$LAB_DIR/stats.json" || fail "--buffers=16: rx != tx + drops"
ok "--buffers=16: oldest aggregates completed to make room, all 300 delivered"

# ---- --kernel-gro ----
# feature STATE: rx-gro and rx-udp-gro-forwarding of eth4 and eth5 in gw
features() {
	local dev
	for dev in eth4 eth5; do
		in_gw ethtool -k "$dev" | awk -v d="$dev" '
			$1 == "generic-receive-offload:" { g = $2 }
			$1 == "rx-udp-gro-forwarding:" { u = $2 }
			END { printf "%s:%s/%s ", d, g, u }'
	done
}
in_gw ethtool -K eth4 gro on rx-udp-gro-forwarding on
in_gw ethtool -K eth5 gro on rx-udp-gro-forwarding on
on="eth4:on/on eth5:on/on "
off="eth4:off/off eth5:off/off "
[ "$(features)" = "$on" ] || fail "cannot turn kernel GRO on: $(features)"

ip netns exec "$GW" "$GROGSO" --mode=bridge --lan eth4 --wan eth5 \
	>"$WORK/warn.out" 2>"$WORK/warn.err" &
gpid=$!
LAB_BGPIDS+=("$gpid")
wait_for grep -q "wan: eth5: kernel rx-gro, rx-udp-gro-forwarding are on" \
	"$WORK/warn.err" || fail "--kernel-gro=warn: no warning naming the features"
[ "$(features)" = "$on" ] || fail "--kernel-gro=warn changed them: $(features)"
kill -TERM "$gpid"
wait "$gpid" || fail "--kernel-gro=warn: grogso did not exit 0"
ok "--kernel-gro=warn: warned, left them on"

ip netns exec "$GW" "$GROGSO" -v --mode=bridge --kernel-gro=off --lan eth4 --wan eth5 \
	>"$WORK/off.out" 2>"$WORK/off.err" &
gpid=$!
LAB_BGPIDS+=("$gpid")
wait_for grep -q "forwarding" "$WORK/off.err" || fail "--kernel-gro=off: grogso did not start"
[ "$(features)" = "$off" ] ||
	fail "--kernel-gro=off: while running: $(features), expected $off"
kill -TERM "$gpid"
wait "$gpid" || fail "--kernel-gro=off: grogso did not exit 0"
[ "$(features)" = "$on" ] ||
	fail "--kernel-gro=off: after exit: $(features), expected $on"
ok "--kernel-gro=off: off while running ($off), back on at exit"
echo PASS
