#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/lab/port-errors.sh: ports grogso must refuse, each with status 1
# and one message naming the problem and the way out, before a frame
# moves: both ports on one interface (under one name, or a name and an
# altname of it), loopback and a layer-3 TUN as packet ports, an
# existing veth or TUN as a TAP, a TAP another process holds, a missing
# interface, and no privileges.  Then a persistent TAP made with
# ip tuntap is taken and left in place at exit, and a bridge port is
# taken with a warning.  All in a namespace of its own.
#
# Run by make check as root; skipped (77) otherwise.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
lab_require

NS=${LAB_PREFIX}perr
trap 'ip netns del "$NS" 2>/dev/null; lab_cleanup' EXIT
ip netns add "$NS" || fail "ip netns add $NS"
in_ns() { ip netns exec "$NS" "$@"; }
in_ns ip link set lo up
in_ns ip link add va type veth peer name vb || fail "veth"
in_ns ip link property add dev va altname va-alt ||
	fail "ip link property add altname"
in_ns ip tuntap add dev tn0 mode tun || fail "ip tuntap add tun"
in_ns ip tuntap add dev tp0 mode tap || fail "ip tuntap add tap"

n=0
bad=0
# expect PATTERN ARGS...: grogso ARGS exits 1 at once with one line on
# stderr that matches the extended regular expression PATTERN
expect() {
	local pat=$1 rc lines
	shift
	n=$((n + 1))
	timeout 10 ip netns exec "$NS" "$GROGSO" --mode=bridge "$@" \
		>"$WORK/out" 2>"$WORK/err" </dev/null
	rc=$?
	lines=$(grep -vc '^grogso: warning' "$WORK/err")
	if [ "$rc" -ne 1 ]; then
		echo "FAIL: grogso $*: status $rc, not 1"
		bad=1
	elif [ "$lines" -ne 1 ] || ! grep -Eq -e "$pat" "$WORK/err"; then
		echo "FAIL: grogso $*: expected one line matching '$pat', got:"
		sed 's/^/  | /' "$WORK/err"
		bad=1
	else
		ok "$* -> $(grep -v '^grogso: warning' "$WORK/err")"
	fi
}

expect '--lan and --wan are the same interface, va: ' --lan va --wan packet:va
expect '--lan and --wan are the same interface, x: ' --lan tap:x --wan tap:x
expect '--lan and --wan are the same interface, va: ' --lan va --wan tap:va
expect '--lan and --wan are the same interface, va \(ifindex [0-9]+\)' \
	--lan va --wan va-alt
expect 'lan: lo is not an Ethernet interface \(loopback\).*use a veth' \
	--lan lo --wan vb
expect 'wan: tn0 is not an Ethernet interface \(layer 3 only' \
	--lan va --wan tn0
expect 'lan: tap vb: Invalid argument \(an interface of that name exists and is not a single-queue TAP; packet:vb would' \
	--lan tap:vb --wan va
expect 'wan: tap tn0: Invalid argument \(an interface of that name exists and is not a single-queue TAP\)$' \
	--lan va --wan tap:tn0
expect 'lan: no interface nosuch0 in this network namespace \(ip link lists them; tap:nosuch0 would create a TAP\)' \
	--lan nosuch0 --wan vb

# a TAP another process holds: hold tp0 with a grogso of our own
ip netns exec "$NS" "$GROGSO" -v --mode=bridge --lan tap:tp0 --wan vb \
	>"$WORK/holder.out" 2>"$WORK/holder.err" &
holder=$!
LAB_BGPIDS+=("$holder")
for _ in $(seq 50); do
	grep -q forwarding "$WORK/holder.err" && break
	sleep 0.1
done
grep -q forwarding "$WORK/holder.err" || fail "the holding grogso did not start"
expect 'lan: tap tp0: Device or resource busy \(another process has this TAP open\)' \
	--lan tap:tp0 --wan va
kill -TERM "$holder"
wait "$holder"
rc=$?
[ "$rc" = 0 ] || fail "the holding grogso exited with $rc"
# a persistent TAP stays after the grogso that took it
in_ns ip link show tp0 >/dev/null 2>&1 ||
	fail "persistent TAP tp0 is gone after grogso exited"
ok "persistent TAP tp0 taken and left in place"

# a bridge port: accepted, with a warning that the bridge forwards too
in_ns ip link add br9 type bridge || fail "ip link add bridge"
in_ns ip link set vb master br9 || fail "ip link set vb master br9"
n=$((n + 1))
timeout -s TERM 1 ip netns exec "$NS" "$GROGSO" --mode=bridge --lan va \
	--wan vb >"$WORK/out" 2>"$WORK/err" </dev/null
grep -q "^grogso: warning: wan: vb is enslaved to br9: if that is a bridge, the kernel forwards its frames too, beside grogso (ip link set vb nomaster)$" \
	"$WORK/err" || {
	echo "FAIL: vb in bridge br9: no warning; stderr:"
	sed 's/^/  | /' "$WORK/err"
	bad=1
}
grep -q "^port wan" "$WORK/err" ||
	{ echo "FAIL: vb in bridge br9: grogso did not run"; bad=1; }
[ "$bad" = 1 ] || ok "vb in bridge br9: warned, ran"
in_ns ip link set vb nomaster

# without privileges
if command -v setpriv >/dev/null; then
	nobody() {
		in_ns setpriv --reuid=65534 --regid=65534 --clear-groups \
			--inh-caps=-all "$@"
	}
	expect_nobody() {
		local pat=$1 rc
		shift
		n=$((n + 1))
		nobody "$GROGSO" --mode=bridge "$@" >"$WORK/out" 2>"$WORK/err" \
			</dev/null
		rc=$?
		if [ "$rc" -ne 1 ] || [ "$(wc -l <"$WORK/err")" -ne 1 ] ||
		   ! grep -Eq -e "$pat" "$WORK/err"; then
			echo "FAIL: unprivileged grogso $*: status $rc, stderr:"
			sed 's/^/  | /' "$WORK/err"
			bad=1
		else
			ok "unprivileged $* -> $(cat "$WORK/err")"
		fi
	}
	expect_nobody 'lan: AF_PACKET socket: Operation not permitted \(packet ports need root, or CAP_NET_RAW\)' \
		--lan va --wan vb
	expect_nobody 'lan: /dev/net/tun: Permission denied \(TAP ports need root, or CAP_NET_ADMIN\)' \
		--lan tap:t9 --wan vb
else
	echo "setpriv not installed: the unprivileged cases are left out"
fi

[ "$bad" = 0 ] || fail "some of $n cases"
echo "PASS: $n cases"
