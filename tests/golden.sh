#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Golden replay tests: tests/data/gen_golden.py writes input captures and
# the frames grogso must write for them (computed from the GRO/GSO rules,
# not by grogso); every case is replayed and the output frames compared
# byte for byte (timestamps are not compared).  With tshark present, the
# outputs that should be checksum-clean are also checked by tshark.
# Every case is then run again through the daemon in bridge mode with
# pcap ports (the input at the WAN port), which must write the same
# frames at the LAN port and none at the WAN port.  Last,
# tests/data/pcap_ports.py runs route mode on pcap ports: neighbours
# learnt and resolved by ARP, GRO then offload or software GSO,
# --gro-hold-us (also with too few --buffers for what it holds), TTL
# expiry and a port's mtu=, every frame written and
# its time compared with frames scapy builds from the rules.
#
# Environment (set by make check): GROGSO, top_srcdir.
# Exit 77 (skipped) without python3 + scapy.

: "${top_srcdir:=$(dirname "$0")/..}"
: "${GROGSO:=./grogso}"

. "$top_srcdir/lab/scapy-python.sh"
if ! PY=$(scapy_python); then
	echo "golden: python3 with scapy not found (Debian: python3-scapy); skipped"
	exit 77
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/grogso-golden.XXXXXX") || exit 99
trap 'rm -rf "$dir"' EXIT INT TERM

"$PY" "$top_srcdir/tests/data/gen_golden.py" "$dir" || {
	echo "golden: gen_golden.py failed"
	exit 99
}

# compare the raw frames of two pcaps; prints the first difference
compare() {
	"$PY" - "$1" "$2" <<'EOF'
import struct, sys

def frames(path):
    data = open(path, "rb").read()
    if len(data) < 24:
        raise SystemExit("%s: not a pcap file" % path)
    m = struct.unpack("<I", data[:4])[0]
    end = "<" if m in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    off, out = 24, []
    while off + 16 <= len(data):
        caplen = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        out.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    return out

exp, got = frames(sys.argv[1]), frames(sys.argv[2])
for i, (e, g) in enumerate(zip(exp, got)):
    if e != g:
        at = next((j for j in range(min(len(e), len(g))) if e[j] != g[j]),
                  min(len(e), len(g)))
        print("frame %d differs at byte %d (expected %d bytes, got %d)"
              % (i + 1, at, len(e), len(g)))
        print("  expected %s" % e[max(0, at - 8):at + 8].hex())
        print("  got      %s" % g[max(0, at - 8):at + 8].hex())
        sys.exit(1)
if len(exp) != len(got):
    print("expected %d frames, got %d" % (len(exp), len(got)))
    sys.exit(1)
EOF
}

have_tshark=0
command -v tshark >/dev/null 2>&1 && have_tshark=1

fail=0
tab=$(printf '\t')
while IFS="$tab" read -r name clean args; do
	[ -n "$name" ] || continue
	in="$dir/$name.in.pcap"
	out="$dir/$name.out.pcap"
	# $args is a list of words on purpose
	# shellcheck disable=SC2086
	"$GROGSO" replay $args "$in" "$out" 2>"$dir/$name.err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "FAIL $name: grogso replay $args exited $rc"
		sed 's/^/    /' "$dir/$name.err"
		fail=1
		continue
	fi
	if ! compare "$dir/$name.expected.pcap" "$out" >"$dir/$name.cmp"; then
		echo "FAIL $name ($args): output differs"
		sed 's/^/    /' "$dir/$name.cmp"
		fail=1
		continue
	fi
	if [ "$have_tshark" = 1 ] && [ "$clean" = 1 ]; then
		bad=$(tshark -r "$out" -o tcp.check_checksum:TRUE \
			-o udp.check_checksum:TRUE -o ip.check_checksum:TRUE \
			-Y 'tcp.checksum.status == "Bad" || udp.checksum.status == "Bad" || ip.checksum.status == "Bad"' \
			2>/dev/null)
		if [ -n "$bad" ]; then
			echo "FAIL $name: tshark reports bad checksums"
			echo "$bad" | sed 's/^/    /'
			fail=1
			continue
		fi
	fi
	echo "ok   $name $args"

	# the daemon in bridge mode with pcap ports runs the same engine:
	# the case in at the WAN, the same frames out at the LAN, none back
	# shellcheck disable=SC2086
	"$GROGSO" --mode=bridge $args --lan "pcap:,$dir/$name.lan.pcap" \
		--wan "pcap:$in,$dir/$name.wan.pcap" 2>"$dir/$name.err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "FAIL $name: grogso with pcap ports, $args, exited $rc"
		sed 's/^/    /' "$dir/$name.err"
		fail=1
		continue
	fi
	if ! compare "$dir/$name.expected.pcap" "$dir/$name.lan.pcap" \
		>"$dir/$name.cmp"; then
		echo "FAIL $name ($args): pcap ports: the LAN's output differs"
		sed 's/^/    /' "$dir/$name.cmp"
		fail=1
		continue
	fi
	if [ "$(wc -c <"$dir/$name.wan.pcap")" -ne 24 ]; then
		echo "FAIL $name: pcap ports: frames written back to the WAN"
		fail=1
		continue
	fi
	echo "ok   $name $args (pcap ports, bridge mode)"
done <"$dir/cases.txt"

mkdir "$dir/route" &&
	"$PY" "$top_srcdir/tests/data/pcap_ports.py" "$GROGSO" "$dir/route" ||
	fail=1

exit "$fail"
