#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Route mode with grogso's TAPs moved into client1 and client2 as their
# eth0 (lab/up.sh --io vm: a hypervisor or vrouter and its VMs' NICs).
# The clients keep TSO, so their kernels hand grogso super-packets.
# Asserts, for --gso offload and then --gso software:
#  1. after the move, ping across and to both gateway addresses;
#  2. 100 MiB client2 -> client1 over IPv4 and IPv6 arrive intact;
#  3. the senders' super-packets reach grogso whole (rx_gso of the WAN
#     port in stats.json);
#  4. offload: client1 receives frames over 1514 bytes; software: none;
#  5. SIGTERM: exit status 0.
set -u
. "$(dirname "$0")/lib.sh"
lab_require

data=$(lab_data 100)

for gso in offload software; do
	lab_up --io vm --mode route --gso "$gso" >/dev/null
	for dst in 198.18.1.2 198.18.1.1 198.19.1.1; do
		in_c2 ping -c 1 -W 2 "$dst" >/dev/null || fail "1 ($gso): ping $dst from client2"
	done
	in_c2 ping -6 -c 1 -W 2 2001:db8:1::2 >/dev/null || fail "1 ($gso): ping6 across"
	ok "1 ($gso): ping and ping6 across the moved TAPs"

	lab_capture "$C1" eth0 "$WORK/vm-$gso.pcap" tcp port 9000 ||
		fail "tcpdump did not start"
	lab_transfer "$data" 198.18.1.2 9000 || fail "2 ($gso): 100 MiB over IPv4 not intact"
	lab_capture_stop
	lab_transfer "$data" 2001:db8:1::2 9001 || fail "2 ($gso): 100 MiB over IPv6 not intact"
	ok "2 ($gso): 100 MiB client2 -> client1 intact, IPv4 and IPv6"

	read -r max n < <(lab_pcap_max "$WORK/vm-$gso.pcap")
	if [ "$gso" = offload ]; then
		[ "$max" -gt 1514 ] || fail "4: offload: longest frame at client1 $max bytes"
	else
		[ "$max" -le 1514 ] || fail "4: software: a frame of $max bytes reached client1"
		[ "$n" -gt 1000 ] || fail "4: software: only $n frames captured"
	fi
	ok "4 ($gso): longest frame at client1 $max bytes ($n frames)"

	st=$(lab_stop)
	[ "$st" = 0 ] || fail "5 ($gso): grogso exited with status $st"
	ok "5 ($gso): SIGTERM, exit status 0"
	python3 - "$LAB_DIR/stats.json" <<'EOF' || fail "3 ($gso): no super-packets from client2's TSO"
import json, sys
wan = [json.loads(l) for l in open(sys.argv[1]) if '"wan"' in l][0]
print("wan rx_gso %d of %d frames" % (wan.get("rx_gso", 0), wan["rx_pkts"]))
sys.exit(wan.get("rx_gso", 0) < 100)
EOF
	ok "3 ($gso): client2's super-packets reached grogso whole"
	"$top_srcdir/lab/down.sh" --prefix "$LAB_PREFIX" >/dev/null
done
echo "PASS"
exit 0
