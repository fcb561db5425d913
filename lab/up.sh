#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# lab/up.sh: build the three-namespace lab and start grogso in it.
#
#   client1 (eth0) ── eth4 [gw: grogso] eth5 ── (eth0) client2
#
# The clients send with TSO/GSO/USO off (unless --client-tso on), so
# segments reach grogso as they would from a wire; the kernel in gw neither forwards nor holds addresses,
# and its GRO is off on eth4/eth5: grogso is the only path and the only GRO.
# --io kernel builds the same lab with the kernel of gw forwarding instead
# (addresses on eth4/eth5, ip_forward on, GRO on eth5 unless --kernel-gro
# off): the comparison, on exactly the same wiring.
# Run as root; running it again rebuilds the lab from scratch.
set -euo pipefail

usage() {
	cat <<EOF
usage: lab/up.sh [--prefix P] [--io packet|tap|vm|kernel] [--mode route|bridge]
                 [--gso auto|offload|software] [--kernel-drop on|off]
                 [--kernel-gro on|off] [--client-tso on|off]
                 [--steer rps|none|split] [--grogso PATH] [-- GROGSO_ARGS...]
  --io packet  grogso --lan packet:eth4 --wan packet:eth5 (default)
  --io tap     bridges brlan={eth4,tlan} brwan={eth5,twan}; grogso on the taps
  --io vm      grogso's taps become eth0 of client1/client2 (clients keep TSO)
  --io kernel  no grogso: the kernel in gw routes (route mode only)
  --kernel-drop  packet io: a tc ingress filter on eth4/eth5 drops every
               frame after grogso's socket has its copy, so the kernel of gw
               does not also run it through ip_rcv (default on)
  --kernel-gro io kernel: GRO (and UDP forwarding GRO) on eth5 (default on)
  --client-tso on: the clients send with TSO/GSO/USO on, as virtual
               machines do, so super-packets reach gw (default off: the
               segments a wire would carry; --io vm is always on)
  --grogso     the grogso to run; default: \$GROGSO, else the source tree's
               (brought up to date, or built in build/lab, as the other lab
               scripts do)
  --steer rps  receive packet steering on every veth of the lab, so each
               flow is received in order (default; see below); none: off;
               split: the same, steered to every CPU but CPU 0, and grogso
               on CPU 0 only (--cpu 0): grogso and the kernel's receive
               work side by side, whichever way the flow hash falls
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
kdrop=on
kgro=on
ctso=off
steer=rps
grogso=${GROGSO:-}
extra=()

while [ $# -gt 0 ]; do
	case $1 in
	--prefix) prefix=${2?}; shift 2 ;;
	--io) io=${2?}; shift 2 ;;
	--mode) mode=${2?}; shift 2 ;;
	--gso) gso=${2?}; shift 2 ;;
	--kernel-drop) kdrop=${2?}; shift 2 ;;
	--kernel-gro) kgro=${2?}; shift 2 ;;
	--client-tso) ctso=${2?}; shift 2 ;;
	--steer) steer=${2?}; shift 2 ;;
	--grogso) grogso=${2?}; shift 2 ;;
	--) shift; extra=("$@"); break ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done
case $io in packet | tap | vm | kernel) ;; *) die "--io must be packet, tap, vm or kernel" ;; esac
case $mode in route | bridge) ;; *) die "--mode must be route or bridge" ;; esac
case $gso in auto | offload | software) ;; *) die "--gso must be auto, offload or software" ;; esac
case $kdrop in on | off) ;; *) die "--kernel-drop must be on or off" ;; esac
case $kgro in on | off) ;; *) die "--kernel-gro must be on or off" ;; esac
case $ctso in on | off) ;; *) die "--client-tso must be on or off" ;; esac
[ "$io" = vm ] && ctso=on
case $steer in rps | none | split) ;; *) die "--steer must be rps, none or split" ;; esac
[ "$steer" = split ] && [ "$(nproc)" -lt 2 ] && die "--steer split needs two CPUs or more"
[ "$io" = kernel ] && [ "$mode" != route ] && die "--io kernel is route mode only"
[ "$(id -u)" = 0 ] || die "must run as root"
if [ "$io" != kernel ]; then
	if [ -z "$grogso" ]; then
		# in a subshell: lib.sh's helpers stay out of this script
		grogso=$(. "$here/lib.sh" && lab_grogso) ||
			die "no grogso binary: use --grogso PATH or set GROGSO"
	fi
	[ -x "$grogso" ] || die "$grogso is not executable"
	grogso=$(cd "$(dirname "$grogso")" && pwd)/$(basename "$grogso")
fi

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
if [ "$io" = kernel ]; then
	# the comparison: the kernel of gw routes, IPv6 included
	ip netns exec "$gw" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1
else
	# gw: no kernel forwarding, no IPv6 on anything made there (no DAD,
	# RS or MLD of its own crossing grogso)
	ip netns exec "$gw" sysctl -qw net.ipv4.ip_forward=0 \
		net.ipv6.conf.all.forwarding=0 net.ipv6.conf.default.disable_ipv6=1 \
		net.ipv6.conf.all.disable_ipv6=1
fi

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
if [ "$io" = kernel ]; then
	ip -n "$gw" addr add 198.18.1.1/24 dev eth4
	ip -n "$gw" addr add 2001:db8:1::1/64 dev eth4 nodad
	ip -n "$gw" addr add 198.19.1.1/24 dev eth5
	ip -n "$gw" addr add 2001:db8:2::1/64 dev eth5 nodad
	# GRO where the traffic of the measurements (client2 -> client1)
	# comes in, as lab/bench.sh's kernel-gro row
	[ "$kgro" = on ] && ip netns exec "$gw" ethtool -K eth5 gro on \
		rx-udp-gro-forwarding on >/dev/null
fi
if [ "$io" = packet ] && [ "$kdrop" = on ]; then
	# Packet taps (grogso's socket) run in __netif_receive_skb_core
	# before tc ingress: a filter there that drops everything spares the
	# kernel of gw ip_rcv, a route lookup and the drop for every frame
	# grogso already has.  This kernel has neither cls_matchall nor
	# act_gact: a one-instruction classic BPF program in direct-action
	# mode returns TC_ACT_SHOT (2).
	for i in eth4 eth5; do
		ip netns exec "$gw" tc qdisc add dev "$i" clsact &&
			ip netns exec "$gw" tc filter add dev "$i" ingress bpf \
				bytecode '1,6 0 0 2,' da ||
			die "--kernel-drop on: cannot add the tc ingress drop on $i"
	done
fi

# Receive order.  A veth with GRO (NAPI) off hands every frame it is given
# to netif_rx, which queues it on the backlog of the CPU that sent it.  A
# sender that migrates between CPUs (iperf3 does, on two cores, every few
# milliseconds) leaves frames on two backlogs that two CPUs then drain in
# parallel: the flow arrives reordered (mismatch:seq in grogso's flush
# counters, out-of-order queueing and retransmits at client1).  The kernel
# path with GRO on eth5 has NAPI and one ring there, so it is not hit the
# same way, and the comparison would not be fair.  Receive packet steering
# (the same mask on the rx queue of every veth of the lab, kernel path
# included) picks the backlog by flow hash instead of by sending CPU: one
# flow, one CPU, in order, and different flows still spread.
# --steer split steers the same way, to every CPU but CPU 0, where grogso
# runs.
case $steer in
rps) mask=$(printf %x $(((1 << $(nproc)) - 1))) ;;
split) mask=$(printf %x $(((1 << $(nproc)) - 2))) ;;
esac
rps() { # NS DEV
	ip netns exec "$1" sh -c "echo $mask > /sys/class/net/$2/queues/rx-0/rps_cpus" ||
		die "cannot set rps_cpus on $2 in $1"
}
if [ "$steer" != none ]; then
	if [ "$io" != vm ]; then
		rps "$gw" eth4
		rps "$gw" eth5
	fi
fi

if [ "$io" != kernel ]; then
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
	[ "$steer" = split ] && args+=(--cpu 0)
	args+=("${extra[@]}")

	# grogso.pid is grogso itself: run.sh execs ip, which execs grogso;
	# the shell around it waits and keeps the exit status for down.sh
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
	grep -q 'forwarding' "$dir/grogso.err" ||
		die "grogso did not come up (see $dir/grogso.err)"
fi

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
	if [ "$steer" = split ]; then
		rps "$gw" tlan
		rps "$gw" twan
	fi
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
		if [ "$ctso" = on ]; then
			ip netns exec "$ns" ethtool -K eth0 gro off >/dev/null 2>&1 || true
		else
			ip netns exec "$ns" ethtool -K eth0 tso off gso off \
				tx-udp-segmentation off gro off >/dev/null 2>&1 || true
		fi
		[ "$steer" != none ] && rps "$ns" eth0
	fi
	# grogso's taps: what it writes is received there, on the CPUs of
	# the kernel rather than in grogso's system call
	[ "$io" = vm ] && [ "$steer" = split ] && rps "$ns" eth0
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
if [ "$io" = kernel ]; then
	[ "$ok" = 1 ] || die "ping $c1 -> $peer through the kernel failed"
	echo "lab up: $c1 -- $gw (kernel routing, GRO $kgro on eth5, clients' TSO $ctso) -- $c2"
	exit 0
fi
[ "$ok" = 1 ] || die "ping $c1 -> $peer failed (see $dir/grogso.err)"
echo "lab up: $c1 -- $gw (grogso $io, $mode, gso $gso, pid $(cat "$dir/grogso.pid")) -- $c2; state in $dir"
