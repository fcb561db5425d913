#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# lab/up.sh: build the three-namespace lab and start grogso in it.
#
#   client1 (eth0) ── eth4 [gw: grogso] eth5 ── (eth0) client2
#
# The clients send with TSO/GSO/USO off, so segments reach grogso as they
# would from a wire; the kernel in gw neither forwards nor holds addresses,
# and its GRO is off on eth4/eth5: grogso is the only path and the only GRO.
# Run as root; running it again rebuilds the lab from scratch.
set -euo pipefail

usage() {
	cat <<EOF
usage: lab/up.sh [--prefix P] [--io packet|tap|vm] [--mode route|bridge]
                 [--gso auto|offload|software] [--grogso PATH] [-- GROGSO_ARGS...]
  --io packet  grogso --lan packet:eth4 --wan packet:eth5 (default)
  --io tap     bridges brlan={eth4,tlan} brwan={eth5,twan}; grogso on the taps
  --io vm      grogso's taps become eth0 of client1/client2 (clients keep TSO)
State: \${GROGSO_LAB_DIR:-/run/grogso-lab}/\${P:-default}/ (grogso.pid, grogso.err,
agg.json, stats.json).  lab/down.sh [--prefix P] removes it all.
EOF
}

die() {
	echo "up.sh: $*" >&2
	exit 1
}

here=$(cd "$(dirname "$0")" && pwd)
prefix=""
io=packet
mode=route
gso=auto
grogso=${GROGSO:-}
extra=()

while [ $# -gt 0 ]; do
	case $1 in
	--prefix) prefix=${2?}; shift 2 ;;
	--io) io=${2?}; shift 2 ;;
	--mode) mode=${2?}; shift 2 ;;
	--gso) gso=${2?}; shift 2 ;;
	--grogso) grogso=${2?}; shift 2 ;;
	--) shift; extra=("$@"); break ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
case $io in packet | tap | vm) ;; *) die "--io must be packet, tap or vm" ;; esac
case $mode in route | bridge) ;; *) die "--mode must be route or bridge" ;; esac
case $gso in auto | offload | software) ;; *) die "--gso must be auto, offload or software" ;; esac
[ "$(id -u)" = 0 ] || die "must run as root"
if [ -z "$grogso" ]; then
	grogso=$(command -v grogso) || die "no grogso binary: use --grogso PATH or set GROGSO"
fi
[ -x "$grogso" ] || die "$grogso is not executable"
grogso=$(cd "$(dirname "$grogso")" && pwd)/$(basename "$grogso")

c1=${prefix}client1
gw=${prefix}gw
c2=${prefix}client2
dir=${GROGSO_LAB_DIR:-/run/grogso-lab}/${prefix:-default}

# idempotent: whatever a previous run left goes first
"$here/down.sh" --prefix "$prefix" >/dev/null 2>&1 || true
mkdir -p "$dir"

for ns in "$c1" "$gw" "$c2"; do
	ip netns add "$ns"
	ip -n "$ns" link set lo up
done
# gw: no kernel forwarding, no IPv6 on anything made there (no DAD, RS
# or MLD of its own crossing grogso)
ip netns exec "$gw" sysctl -qw net.ipv4.ip_forward=0 \
	net.ipv6.conf.all.forwarding=0 net.ipv6.conf.default.disable_ipv6=1 \
	net.ipv6.conf.all.disable_ipv6=1

if [ "$io" != vm ]; then
	ip link add eth0 netns "$c1" type veth peer name eth4 netns "$gw"
	ip link add eth0 netns "$c2" type veth peer name eth5 netns "$gw"
	for i in eth4 eth5; do
		ip -n "$gw" link set "$i" mtu 1500 up
		# rx off: a frame without a checksum status is checked by
		# grogso instead of being trusted as CHECKSUM_UNNECESSARY
		ip netns exec "$gw" ethtool -K "$i" gro off rx-gro-list off \
			rx-udp-gro-forwarding off rx off >/dev/null 2>&1 || true
	done
fi

case $io in
packet) lan=packet:eth4 wan=packet:eth5 ;;
*) lan=tap:tlan wan=tap:twan ;;
esac
args=(--mode "$mode" --gso "$gso" --lan "$lan" --wan "$wan"
	--log-aggregates "$dir/agg.json" --log-format json
	--stats-json "$dir/stats.json" -v)
if [ "$mode" = route ]; then
	args+=(--lan-addr 198.18.1.1/24 --lan-addr 2001:db8:1::1/64
		--wan-addr 198.19.1.1/24 --wan-addr 2001:db8:2::1/64)
fi
args+=("${extra[@]}")

# grogso.pid is grogso itself: run.sh execs ip, which execs grogso; the
# shell around it waits and keeps the exit status for down.sh
{
	echo '#!/bin/bash'
	echo "echo \$\$ > $(printf %q "$dir/grogso.pid")"
	printf 'exec'
	printf ' %q' ip netns exec "$gw" "$grogso" "${args[@]}"
	printf ' </dev/null >%q 2>%q\n' "$dir/grogso.out" "$dir/grogso.err"
} >"$dir/run.sh"
rm -f "$dir/grogso.status"
setsid bash -c 'bash "$1/run.sh"; echo $? > "$1/grogso.status"' _ "$dir" \
	</dev/null >/dev/null 2>&1 &

for _ in $(seq 100); do
	grep -q 'forwarding' "$dir/grogso.err" 2>/dev/null && break
	if [ -f "$dir/grogso.status" ]; then
		cat "$dir/grogso.err" >&2
		die "grogso exited with status $(cat "$dir/grogso.status")"
	fi
	sleep 0.1
done
grep -q 'forwarding' "$dir/grogso.err" || die "grogso did not come up (see $dir/grogso.err)"

case $io in
tap)
	# with br_netfilter the bridges would run iptables and validate
	# (and drop) malformed IP: they must be plain wires
	for t in iptables ip6tables arptables; do
		ip netns exec "$gw" sysctl -qw "net.bridge.bridge-nf-call-$t=0" \
			>/dev/null 2>&1 || true
	done
	for n in lan wan; do
		ip -n "$gw" link add "br$n" type bridge
		ip -n "$gw" link set "t$n" master "br$n"
		ip -n "$gw" link set "br$n" up
	done
	ip -n "$gw" link set eth4 master brlan
	ip -n "$gw" link set eth5 master brwan
	;;
vm)
	ip -n "$gw" link set tlan netns "$c1"
	ip -n "$gw" link set twan netns "$c2"
	ip -n "$c1" link set tlan name eth0
	ip -n "$c2" link set twan name eth0
	;;
esac

n=0
for ns in "$c1" "$c2"; do
	n=$((n + 1))
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0
	ip -n "$ns" link set eth0 mtu 1500 up
	if [ "$io" = vm ]; then
		# a VM's virtio NIC: super-packets straight into grogso
		ip netns exec "$ns" ethtool -K eth0 gro off >/dev/null 2>&1 || true
	else
		ip netns exec "$ns" ethtool -K eth0 tso off gso off \
			tx-udp-segmentation off gro off >/dev/null 2>&1 || true
	fi
	if [ "$mode" = route ]; then
		ip -n "$ns" addr add "198.1$((7 + n)).1.2/24" dev eth0
		ip -n "$ns" addr add "2001:db8:$n::2/64" dev eth0 nodad
		ip -n "$ns" route add default via "198.1$((7 + n)).1.1"
		ip -n "$ns" -6 route add default via "2001:db8:$n::1"
	else
		ip -n "$ns" addr add "198.18.1.$((n + 1))/24" dev eth0
		ip -n "$ns" addr add "2001:db8:1::$((n + 1))/64" dev eth0 nodad
	fi
done

if [ "$mode" = route ]; then peer=198.19.1.2; else peer=198.18.1.3; fi
ok=0
for _ in 1 2 3 4 5; do
	if ip netns exec "$c1" ping -c 1 -W 1 "$peer" >/dev/null 2>&1; then
		ok=1
		break
	fi
done
[ "$ok" = 1 ] || die "ping $c1 -> $peer failed (see $dir/grogso.err)"
echo "lab up: $c1 -- $gw (grogso $io, $mode, gso $gso, pid $(cat "$dir/grogso.pid")) -- $c2; state in $dir"
