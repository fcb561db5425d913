#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# grogso replay, pcap ports and the command line on bad input: every
# case must exit with status 1 and one message line that names the file
# or the option.
# A crash (status >= 128) or a zero status fails the test.
#
# Environment (set by make check): GROGSO.  Exit 77 without python3.

: "${GROGSO:=./grogso}"

command -v python3 >/dev/null 2>&1 || {
	echo "replay-errors: python3 not found; skipped"
	exit 77
}

dir=$(mktemp -d "${TMPDIR:-/tmp}/grogso-errors.XXXXXX") || exit 99
trap 'rm -rf "$dir"' EXIT INT TERM

# the inputs, written with struct only (no scapy needed)
python3 - "$dir" <<'EOF' || exit 99
import struct, sys
d = sys.argv[1]

def hdr(linktype):
    return struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, linktype)

def rec(frame, caplen=None, length=None):
    caplen = len(frame) if caplen is None else caplen
    length = len(frame) if length is None else length
    return struct.pack("<IIII", 1700000000, 0, caplen, length) + frame[:caplen]

eth = bytes(range(14)) + bytes(46)              # 60 bytes, not IP
raw_ip = bytes([0x45]) + bytes(19)
open(d + "/ok.pcap", "wb").write(hdr(1) + rec(eth) + rec(eth))
open(d + "/raw.pcap", "wb").write(hdr(101) + rec(raw_ip))
# the second record's header promises 60 bytes, the file ends after 10
open(d + "/short.pcap", "wb").write(hdr(1) + rec(eth) + rec(eth)[:26])
# a record that was cut at capture time
open(d + "/snap.pcap", "wb").write(hdr(1) + rec(eth) + rec(eth, 40, 60))
open(d + "/garbage.pcap", "wb").write(bytes((i * 37 + 11) & 0xff
                                            for i in range(1000)))
open(d + "/empty.pcap", "wb").write(b"")
EOF

fail=0
n=0

# expect PATTERN ARGS...: status 1, one line on stderr matching PATTERN
expect() {
	pat=$1
	shift
	n=$((n + 1))
	"$GROGSO" "$@" >"$dir/out" 2>"$dir/err" </dev/null
	rc=$?
	lines=$(wc -l <"$dir/err")
	if [ "$rc" -ge 128 ]; then
		echo "FAIL: grogso $*: crashed (status $rc)"
		fail=1
	elif [ "$rc" -ne 1 ]; then
		echo "FAIL: grogso $*: status $rc, expected 1"
		fail=1
	elif [ "$lines" -ne 1 ]; then
		echo "FAIL: grogso $*: $lines lines on stderr, expected 1"
		sed 's/^/    /' "$dir/err"
		fail=1
	elif ! grep -q -- "$pat" "$dir/err"; then
		echo "FAIL: grogso $*: message does not match '$pat'"
		sed 's/^/    /' "$dir/err"
		fail=1
	else
		echo "ok   grogso $*: $(cat "$dir/err")"
	fi
}

o=$dir/o.pcap

# files
expect "^grogso: $dir/missing.pcap: No such file" replay "$dir/missing.pcap" "$o"
expect "^grogso: $dir/raw.pcap: link type .* is not Ethernet" replay "$dir/raw.pcap" "$o"
expect "^grogso: $dir/short.pcap: record 2 truncated" replay "$dir/short.pcap" "$o"
expect "^grogso: $dir/snap.pcap: record 2 truncated (caplen 40 of 60 bytes)" replay "$dir/snap.pcap" "$o"
expect "^grogso: $dir/garbage.pcap: " replay "$dir/garbage.pcap" "$o"
expect "^grogso: $dir/empty.pcap: " replay "$dir/empty.pcap" "$o"
expect "$dir/nodir/o.pcap" replay "$dir/ok.pcap" "$dir/nodir/o.pcap"
expect "^grogso: $dir/nodir/log: " replay --log-aggregates="$dir/nodir/log" "$dir/ok.pcap" "$o"

# pcap ports
b=--mode=bridge
w="--wan=pcap:,$dir/w.pcap"
expect "^grogso: --lan pcap:.* and --wan lo: .*both ports must be pcap or neither" $b "--lan=pcap:$dir/ok.pcap,$o" --wan=lo
expect "^grogso: lan: pcap:$dir/ok.pcap: expected pcap:IN,OUT" $b "--lan=pcap:$dir/ok.pcap" "$w"
expect "^grogso: lan: .*: OUT, the capture to write, is required" $b "--lan=pcap:$dir/ok.pcap," "$w"
expect "^grogso: lan: .*: bad option \"mtu=20\"" $b "--lan=pcap:$dir/ok.pcap,$o,mtu=20" "$w"
expect "^grogso: lan: .*: bad option \"mac=02:00\"" $b "--lan=pcap:$dir/ok.pcap,$o,mac=02:00" "$w"
expect "^grogso: lan: .*: bad option \"mac=01:00:5e:00:00:01\"" $b "--lan=pcap:$dir/ok.pcap,$o,mac=01:00:5e:00:00:01" "$w"
expect "^grogso: lan: .*: bad option \"speed=10\"" $b "--lan=pcap:$dir/ok.pcap,$o,speed=10" "$w"
expect "^grogso: lan: $dir/missing.pcap: No such file" $b "--lan=pcap:$dir/missing.pcap,$o" "$w"
expect "^grogso: lan: $dir/raw.pcap: link type .* is not Ethernet" $b "--lan=pcap:$dir/raw.pcap,$o" "$w"
expect "^grogso: lan: $dir/garbage.pcap: " $b "--lan=pcap:$dir/garbage.pcap,$o" "$w"
expect "^grogso: lan: $dir/nodir/o.pcap: " $b "--lan=pcap:$dir/ok.pcap,$dir/nodir/o.pcap" "$w"
cp "$dir/ok.pcap" "$dir/ok2.pcap"
expect "^grogso: lan: $dir/ok2.pcap is also an input: give each capture a file of its own" $b "--lan=pcap:$dir/ok2.pcap,$dir/ok2.pcap" "$w"
expect "^grogso: lan: $dir/ok2.pcap is also an input" $b "--lan=pcap:,$dir/ok2.pcap" "--wan=pcap:$dir/ok2.pcap,$dir/w.pcap"
expect "^grogso: wan: $dir/w.pcap is also the other port's output" $b "--lan=pcap:$dir/ok.pcap,$dir/w.pcap" "$w"
cmp -s "$dir/ok.pcap" "$dir/ok2.pcap" || {
	echo "FAIL: an input named as an output was written over"
	fail=1
}
expect "^grogso: wan: $dir/short.pcap: record 2: truncated" $b "--lan=pcap:$dir/ok.pcap,$o" "--wan=pcap:$dir/short.pcap,$dir/w.pcap"
expect "^grogso: wan: $dir/snap.pcap: record 2 truncated (caplen 40 of 60 bytes)" $b "--lan=pcap:$dir/ok.pcap,$o" "--wan=pcap:$dir/snap.pcap,$dir/w.pcap"

# arguments
expect "^grogso: replay: expected IN.pcap OUT.pcap" replay
expect "^grogso: replay: expected IN.pcap OUT.pcap" replay "$dir/ok.pcap"
expect "^grogso: replay: expected IN.pcap OUT.pcap" replay a b c
expect "^grogso: --lan and --wan are required" --mode=bridge
expect "^grogso: --lan and --wan are required" --lan=packet:eth4
expect "^grogso: route mode needs .*--lan-addr.*--wan-addr" --lan=packet:eth4 --wan=packet:eth5
expect "^grogso: unexpected argument 'foo'" foo

# option values
expect "^grogso: --gro: 'maybe': expected on or off" replay --gro=maybe a b
expect "^grogso: --gro-proto: 'tcp,sctp': expected" replay --gro-proto=tcp,sctp a b
expect "^grogso: --gro-proto: '': expected" replay --gro-proto= a b
expect "^grogso: --gro-max-size: '70000': expected a number from 1 to 65535" replay --gro-max-size=70000 a b
expect "^grogso: --gro-max-segs: '1': expected a number from 2 to 64" replay --gro-max-segs=1 a b
expect "^grogso: --gro-max-segs: '65': expected" replay --gro-max-segs=65 a b
expect "^grogso: --gro-flows: '-1': expected" replay --gro-flows=-1 a b
expect "^grogso: --gro-udp-fixed-id: 'drop': expected pass or merge" replay --gro-udp-fixed-id=drop a b
expect "^grogso: --gro-hold-us: '10ms': expected" replay --gro-hold-us=10ms a b
expect "^grogso: --gso: 'hw': expected auto, offload or software" replay --gso=hw a b
expect "^grogso: --gso-ipid: 'random': expected" replay --gso-ipid=random a b
expect "^grogso: --gso-fixed-id: 'kernel': expected linux, offload or software" replay --gso-fixed-id=kernel a b
expect "^grogso: --log-format: 'xml': expected text or json" replay --log-format=xml a b
expect "^grogso: --stats-interval: 'x': expected" replay --stats-interval=x a b
expect "^grogso: --batch: '0': expected a number from 1 to 4096" replay --batch=0 a b
expect "^grogso: --batch-gap-us: ' 5': expected" replay "--batch-gap-us= 5" a b
expect "^grogso: --checksum: 'none': expected lenient or strict" replay --checksum=none a b
expect "^grogso: --mode: 'nat': expected route or bridge" --mode=nat
expect "^grogso: --lan: 'tpa:eth4': expected packet:IF, tap:NAME, IF or pcap:IN,OUT" --lan=tpa:eth4
expect "^grogso: --lan: 'a234567890123456': expected" --lan=a234567890123456
expect "^grogso: --wan: 'tap:': expected" --wan=tap:
expect "^grogso: --tap-offload: 'yes': expected on or off" --tap-offload=yes
expect "^grogso: --packet-ring: 'mmap': expected slots, blocks or off" --packet-ring=mmap
expect "^grogso: --kernel-gro: 'on': expected warn or off" --kernel-gro=on
expect "^grogso: --buffers: '8': expected a number from 16" --buffers=8
expect "^grogso: --queue-len: '99999999999': expected" --queue-len=99999999999
expect "^grogso: --lan-addr: '198.18.1.1': expected" --lan-addr=198.18.1.1
expect "^grogso: --lan-addr: '198.18.1.1/33': expected" --lan-addr=198.18.1.1/33
expect "^grogso: --wan-addr: 'wan': expected" --wan-addr=wan
expect "^grogso: --route: 'default': expected PREFIX,GATEWAY" --route=default
expect "^grogso: --route: '10.0.0.0/8,2001:db8::1': expected" --route=10.0.0.0/8,2001:db8::1
expect "^grogso: --route: 'default,gw': expected" --route=default,gw
expect "^grogso: --lan: expected a value" --lan
expect "^grogso: unknown or misused option '--no-such'" --no-such
expect "^grogso: unknown option '-x'" -x

echo "$n cases"
exit "$fail"
