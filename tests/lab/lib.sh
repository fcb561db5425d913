# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/lab/lib.sh: helpers for the lab tests (sourced).  A test needs
# root, network namespaces and /dev/net/tun, else it is skipped (77).
# Each run gets its own namespace prefix and state directory and tears
# them down on exit, whatever happens.
#
# Environment: GROGSO (the binary), top_srcdir (the source tree);
# KEEP_WORK=1 keeps the test's work directory (under /tmp) for a look.

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
LAB_PREFIX=${LAB_PREFIX:-g$$}
export GROGSO_LAB_DIR=${GROGSO_LAB_DIR:-/run/grogso-lab}
LAB_DIR=$GROGSO_LAB_DIR/$LAB_PREFIX
C1=${LAB_PREFIX}client1
GW=${LAB_PREFIX}gw
C2=${LAB_PREFIX}client2
LAB_BGPIDS=()

skip() {
	echo "SKIP: $*"
	exit 77
}

fail() {
	echo "FAIL: $*"
	if [ -f "$LAB_DIR/grogso.err" ]; then
		echo "--- grogso.err (last lines)"
		tail -n 30 "$LAB_DIR/grogso.err"
	fi
	exit 1
}

ok() {
	echo "ok: $*"
}

lab_cleanup() {
	local p

	for p in "${LAB_BGPIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	"$top_srcdir/lab/down.sh" --prefix "$LAB_PREFIX" >/dev/null 2>&1
	[ -n "${WORK:-}" ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$WORK"
}

lab_require() {
	local t

	[ "${GROGSO_SKIP_LAB:-0}" = 1 ] && skip "GROGSO_SKIP_LAB=1"
	[ "$(id -u)" = 0 ] || skip "needs root"
	[ -n "${GROGSO:-}" ] && [ -x "$GROGSO" ] || skip "GROGSO is not set to a built grogso"
	for t in ip ping ethtool tcpdump iperf3 python3 sha256sum; do
		command -v "$t" >/dev/null || skip "$t not installed"
	done
	ip netns add "${LAB_PREFIX}probe" 2>/dev/null || skip "ip netns does not work here"
	ip netns del "${LAB_PREFIX}probe"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	python3 -c 'import fcntl, os
fd = os.open("/dev/net/tun", os.O_RDWR)' 2>/dev/null || skip "/dev/net/tun cannot be opened"
	WORK=$(mktemp -d /tmp/grogso-lab.XXXXXX)
	trap lab_cleanup EXIT
}

# lab_up ARGS...: lab/up.sh with this run's prefix and binary
lab_up() {
	"$top_srcdir/lab/up.sh" --prefix "$LAB_PREFIX" --grogso "$GROGSO" "$@" ||
		fail "lab/up.sh $*"
}

# twin_begin: the start of a test of a kernel router and grogso side by
# side (after lab_require): python with scapy in $PY, the namespace list
# NSES that twin_wire fills, and a cleanup on exit that stops grogso
# ($GPID) and removes them
twin_begin() {
	. "$top_srcdir/lab/scapy-python.sh"
	PY=$(scapy_python) || skip "no python3 with scapy (Debian: python3-scapy)"
	P=$LAB_PREFIX
	NSES=()
	trap twin_cleanup EXIT
}

twin_cleanup() {
	local n

	[ -n "${GPID:-}" ] && kill "$GPID" 2>/dev/null
	for n in "${NSES[@]}"; do
		ip netns del "$n" 2>/dev/null
	done
	lab_cleanup
}

# twin_routers SYSCTL... -- GROGSO_ARG...: the kernel router in ${P}rk
# (198.19.1.1/24 and 2001:db8:2::1/64 on w0, 198.18.1.1/24 and
# 2001:db8:1::1/64 on l0, forwarding, and the sysctls given) and grogso
# in ${P}rg with the same addresses and the arguments given, its stats
# in $WORK/stats.json, its messages in $WORK/grogso.err, its pid in
# GPID; the kernel there holds no address and does not forward
twin_routers() {
	local sysctls=()

	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		sysctls+=("$1")
		shift
	done
	shift
	ip -n "${P}rk" addr add 198.19.1.1/24 dev w0
	ip -n "${P}rk" addr add 2001:db8:2::1/64 dev w0 nodad
	ip -n "${P}rk" addr add 198.18.1.1/24 dev l0
	ip -n "${P}rk" addr add 2001:db8:1::1/64 dev l0 nodad
	ip netns exec "${P}rk" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 "${sysctls[@]}" || fail "sysctl"
	ip netns exec "${P}rg" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.w0.disable_ipv6=1 net.ipv6.conf.l0.disable_ipv6=1
	ip netns exec "${P}rg" "$GROGSO" --mode=route --lan packet:l0 \
		--wan packet:w0 --lan-addr 198.18.1.1/24 \
		--lan-addr 2001:db8:1::1/64 --wan-addr 198.19.1.1/24 \
		--wan-addr 2001:db8:2::1/64 "$@" \
		--stats-json "$WORK/stats.json" 2>"$WORK/grogso.err" &
	GPID=$!
}

# twin_compare WANT KERNEL OURS WHAT: both routers' lines ("case count
# ...") side by side; sets fails=1 unless both give the counts WANT and
# the same lines (WHAT names what else they hold)
twin_compare() {
	echo "case kernel grogso"
	paste -d' ' <(printf '%s\n' "$2") <(printf '%s\n' "$3" | cut -d' ' -f2-)
	[ "$(printf '%s\n' "$2" | cut -d' ' -f1-2)" = "$1" ] ||
		{ echo "FAIL: the kernel's counts are not Linux 6.18's"; fails=1; }
	[ "$(printf '%s\n' "$3" | cut -d' ' -f1-2)" = "$1" ] ||
		{ echo "FAIL: grogso's counts differ"; fails=1; }
	[ "$2" = "$3" ] || { echo "FAIL: the $4 differ"; fails=1; }
}

# twin_stop: stop grogso with SIGTERM; it must exit 0
twin_stop() {
	local rc

	kill -TERM "$GPID"
	wait "$GPID"
	rc=$?
	GPID=
	[ "$rc" = 0 ] || { cat "$WORK/grogso.err"; fail "grogso exited with $rc"; }
}

# twin_wire X HOST...: one side of a test that puts a kernel router and
# grogso side by side (X is k or g): namespaces ${LAB_PREFIX}sX (a
# sender, s0), ${LAB_PREFIX}rX (the router, w0 and l0) and
# ${LAB_PREFIX}lX (a LAN end, e0), added to the caller's NSES.  Both
# sides' s0 and w0 have the same MACs, so that what the routers send can
# be compared byte for byte.  The sender holds 198.19.1.HOST/24 and
# 2001:db8:2::HOST/64 for each HOST and sends to 198.18.1.0/24 through
# 198.19.1.1 (known at once); the LAN end holds 198.18.1.2/24 and
# 2001:db8:1::2/64; the LAN link has MTU 1400.
twin_wire() {
	local s=${LAB_PREFIX}s$1 r=${LAB_PREFIX}r$1 l=${LAB_PREFIX}l$1 i

	shift
	for i in "$s" "$r" "$l"; do
		ip netns add "$i" || fail "ip netns add $i"
		NSES+=("$i")
		ip -n "$i" link set lo up
	done
	ip link add s0 netns "$s" address 02:53:00:00:00:01 type veth \
		peer name w0 netns "$r" address 02:57:00:00:00:01 || fail "veth"
	ip link add e0 netns "$l" type veth peer name l0 netns "$r" || fail "veth"
	ip -n "$r" link set l0 mtu 1400
	ip -n "$l" link set e0 mtu 1400
	for i in "$@"; do
		ip -n "$s" addr add "198.19.1.$i/24" dev s0
		ip -n "$s" addr add "2001:db8:2::$i/64" dev s0 nodad
	done
	ip -n "$l" addr add 198.18.1.2/24 dev e0
	ip -n "$l" addr add 2001:db8:1::2/64 dev e0 nodad
	ip -n "$s" link set s0 up
	ip -n "$l" link set e0 up
	ip -n "$r" link set w0 up
	ip -n "$r" link set l0 up
	ip -n "$s" route add 198.18.1.0/24 via 198.19.1.1 || fail "route"
	ip -n "$s" neigh replace 198.19.1.1 lladdr 02:57:00:00:00:01 dev s0 \
		nud permanent
}

in_c1() { ip netns exec "$C1" "$@"; }
in_c2() { ip netns exec "$C2" "$@"; }
in_gw() { ip netns exec "$GW" "$@"; }

# lab_stop: SIGTERM grogso and wait for it; prints its exit status
lab_stop() {
	local pid i

	pid=$(cat "$LAB_DIR/grogso.pid")
	kill -TERM "$pid" 2>/dev/null
	for i in $(seq 100); do
		[ -f "$LAB_DIR/grogso.status" ] && break
		sleep 0.1
	done
	cat "$LAB_DIR/grogso.status" 2>/dev/null || echo timeout
}

# lab_data MB: a file of MB random megabytes (made once per run)
lab_data() {
	[ -f "$WORK/data.$1" ] ||
		head -c "$(($1 << 20))" /dev/urandom >"$WORK/data.$1"
	echo "$WORK/data.$1"
}

# lab_transfer FILE DST_ADDR PORT: send FILE over TCP from client2 to
# DST_ADDR:PORT in client1; succeed when it arrives intact
lab_transfer() {
	local file=$1 addr=$2 port=$3 want got

	in_c1 timeout 60 python3 - "$addr" "$port" "$WORK/recv.sha" <<'EOF' &
import hashlib, socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
c, _ = s.accept()
h, n = hashlib.sha256(), 0
while True:
    b = c.recv(1 << 20)
    if not b:
        break
    h.update(b)
    n += len(b)
open(sys.argv[3], "w").write("%s %d\n" % (h.hexdigest(), n))
EOF
	local srv=$!
	in_c2 timeout 60 python3 - "$addr" "$port" "$file" <<'EOF' || return 1
import socket, sys, time
for _ in range(100):
    try:
        s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
        break
    except OSError:
        time.sleep(0.05)
else:
    sys.exit("cannot connect")
with open(sys.argv[3], "rb") as f:
    s.sendfile(f)
s.shutdown(socket.SHUT_WR)
s.recv(1)
s.close()
EOF
	wait "$srv" || return 1
	want="$(sha256sum <"$file" | cut -d' ' -f1) $(stat -c %s "$file")"
	got=$(cat "$WORK/recv.sha")
	[ "$want" = "$got" ] || { echo "sent $want, received $got"; return 1; }
}

# lab_wait_listen NS PORT [udp]: wait up to 5 s until a socket in NS
# listens on PORT (TCP, or UDP); 1 if none does.  A server started in the
# background is not ready at once, least of all on a loaded machine.
lab_wait_listen() {
	local ns=$1 port=$2 opt=-Hltn

	[ "${3:-}" = udp ] && opt=-Hlun
	for _ in $(seq 100); do
		[ -n "$(ip netns exec "$ns" ss $opt "sport = :$port" 2>/dev/null)" ] &&
			return 0
		sleep 0.05
	done
	return 1
}

# lab_iperf SECONDS DST_ADDR [IPERF_ARGS...]: iperf3 from client2 to
# client1; prints the receiver's bits per second
lab_iperf() {
	local secs=$1 addr=$2

	shift 2
	in_c1 timeout $((secs + 15)) iperf3 -s -1 -B "$addr" >/dev/null 2>&1 &
	local srv=$!
	lab_wait_listen "$C1" 5201 || { wait "$srv"; return 1; }
	in_c2 timeout $((secs + 10)) iperf3 -c "$addr" -t "$secs" -J "$@" \
		>"$WORK/iperf.json" || { wait "$srv"; return 1; }
	wait "$srv"
	python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["end"]
print(int((r.get("sum_received") or r["sum"])["bits_per_second"]))' "$WORK/iperf.json"
}

# lab_capture NS IF FILE FILTER...: tcpdump in the background (headers only)
lab_capture() {
	local ns=$1 dev=$2 file=$3

	shift 3
	ip netns exec "$ns" tcpdump -i "$dev" -s 96 -B 16384 -U -w "$file" \
		"$@" 2>"$file.err" &
	LAB_BGPIDS+=($!)
	for _ in $(seq 50); do
		grep -q listening "$file.err" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# lab_capture_stop: stop every capture and wait until the files are written
lab_capture_stop() {
	local p

	sleep 0.3
	for p in "${LAB_BGPIDS[@]}"; do
		kill -INT "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	LAB_BGPIDS=()
}

# lab_pcap_max FILE: the longest frame (on-wire length) in a capture
lab_pcap_max() {
	python3 - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
end = ">" if d[:4] == b"\xa1\xb2\xc3\xd4" else "<"
off, mx, n = 24, 0, 0
while off + 16 <= len(d):
    _, _, incl, orig = struct.unpack(end + "IIII", d[off:off + 16])
    mx = max(mx, orig)
    n += 1
    off += 16 + incl
print(mx, n)
EOF
}

# lab_stats_balanced FILE: rx = tx of the other port + drops, both ways
lab_stats_balanced() {
	python3 - "$1" <<'EOF'
import json, sys
ports = {}
for line in open(sys.argv[1]):
    if line.strip():
        r = json.loads(line)
        ports[r["port"]] = r
bad = 0
for a, b in (("lan", "wan"), ("wan", "lan")):
    rx, tx = ports[a]["rx_pkts"], ports[b]["tx_pkts"]
    drops = sum(ports[a]["drop"].values())
    ok = rx == tx + drops
    bad |= not ok
    print("%s -> %s: rx %d = tx %d + drops %d: %s" %
          (a, b, rx, tx, drops, "ok" if ok else "MISMATCH"))
sys.exit(bad)
EOF
}
