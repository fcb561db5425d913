# SPDX-License-Identifier: GPL-2.0-or-later
#
# lab/lib.sh: helpers shared by lab/demo.sh, lab/bench.sh and lab/ipid.sh.
# Sourced, not run.  lab/up.sh and lab/down.sh build and remove the lab
# with grogso in it; this file adds what the three scripts need around
# them: packages, finding or building grogso, and small Python readers
# for pcap files and the aggregate log.  (lab/up.sh --io kernel builds the
# kernel-forwarding lab the scripts compare with.)

LAB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_TOP=$(cd "$LAB_DIR/.." && pwd)
LAB_STATE_ROOT=${GROGSO_LAB_DIR:-/run/grogso-lab}

LAB_BUILD_PKGS=(autoconf automake libtool pkg-config gcc make
	libev-dev libmnl-dev libpcap-dev libcmocka-dev)
LAB_RUN_PKGS=(iproute2 iputils-ping iperf3 tcpdump ethtool python3)

say() { printf '%s\n' "$*"; }
step() { printf '\n== %s\n' "$*"; }
warn() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }
die() { warn "$*"; exit 1; }

lab_need_root() {
	[ "$(id -u)" -eq 0 ] || die "run me as root (namespaces, raw sockets, apt-get)"
}

# lab_install PKG...: apt-get install what is missing (NO_INSTALL=1 skips).
lab_install() {
	local missing=() p
	[ "${NO_INSTALL:-0}" = 1 ] && return 0
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	command -v apt-get >/dev/null || die "missing packages: ${missing[*]} (no apt-get here)"
	say "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq || die "apt-get update failed"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		die "apt-get install ${missing[*]} failed"
}

# lab_grogso: print the path of a grogso binary, building one when there
# is none.  Order: $GROGSO, an in-tree build, build/lab/grogso (either
# made up to date first); otherwise configure and make in build/lab
# (in-tree when the tree is configured).
lab_grogso() {
	local b=$LAB_TOP/build/lab
	if [ -n "${GROGSO:-}" ]; then
		[ -x "$GROGSO" ] || die "GROGSO=$GROGSO is not executable"
		printf '%s\n' "$GROGSO"; return 0
	fi
	local log=$LAB_TOP/build/lab-build.log
	mkdir -p "$LAB_TOP/build"
	local d
	for d in "$LAB_TOP" "$b"; do
		[ -x "$d/grogso" ] || continue
		# the sources may have changed since it was built (make has
		# nothing to do otherwise)
		if [ -f "$d/config.status" ]; then
			make -C "$d" -j"$(nproc)" grogso >"$log" 2>&1 || {
				tail -n 20 "$log" >&2
				die "bringing $d/grogso up to date failed (see $log)"
			}
		fi
		printf '%s\n' "$d/grogso"
		return 0
	done
	say "building grogso (log: $log)" >&2
	(
		cd "$LAB_TOP" || exit 1
		[ -x configure ] || autoreconf -fi || exit 1
		if [ -f config.status ]; then
			make -j"$(nproc)" grogso || exit 1
		else
			mkdir -p "$b" && cd "$b" &&
			"$LAB_TOP/configure" -q && make -j"$(nproc)" grogso || exit 1
		fi
	) >"$log" 2>&1 || { tail -n 20 "$log" >&2; die "building grogso failed (see $log)"; }
	if [ -x "$LAB_TOP/grogso" ]; then printf '%s\n' "$LAB_TOP/grogso"
	else printf '%s\n' "$b/grogso"; fi
}

# lab_state P: the state directory lab/up.sh uses for prefix P.
lab_state() { printf '%s/%s\n' "$LAB_STATE_ROOT" "${1:-default}"; }

# lab_grogso_pid P: the pid of grogso in lab P, or nothing.
lab_grogso_pid() {
	local f; f=$(lab_state "$1")/grogso.pid
	[ -s "$f" ] && cat "$f"
}

# lab_stop_grogso P: SIGTERM grogso of lab P and wait until it is gone,
# so that agg.json and stats.json are complete.
lab_stop_grogso() {
	local pid i
	pid=$(lab_grogso_pid "$1") || return 0
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	warn "grogso ($pid) still running 5 s after SIGTERM"
}

# lab_wait_ping P DST: ping DST from client2 of lab P until it answers
# (route mode: grogso has to resolve both sides first), at most ~10 s.
lab_wait_ping() {
	local i ping=ping
	case "$2" in *:*) ping="ping -6" ;; esac
	for i in $(seq 10); do
		ip netns exec "${1}client2" $ping -c 1 -W 1 "$2" >/dev/null 2>&1 && return 0
	done
	return 1
}

# ---- Python helpers, pasted into the scripts' python3 programs ----

# read_pcap(path) yields (ts, frame_len, proto, src, dst, sport, dport,
# ipid, df, iplen) for IPv4 TCP/UDP frames of an Ethernet capture (ipid
# and df are None for IPv6).
LAB_PY_PCAP='
import struct, socket

def read_pcap(path):
    with open(path, "rb") as f:
        gh = f.read(24)
        if len(gh) < 24:
            return
        magic = struct.unpack("<I", gh[:4])[0]
        if magic in (0xa1b2c3d4, 0xa1b23c4d):
            e = "<"
        else:
            e = ">"
        nano = magic == 0xa1b23c4d or magic == 0x4d3cb2a1
        while True:
            rh = f.read(16)
            if len(rh) < 16:
                return
            sec, frac, caplen, wirelen = struct.unpack(e + "IIII", rh)
            d = f.read(caplen)
            ts = sec + frac / (1e9 if nano else 1e6)
            if len(d) < 14:
                continue
            off = 12
            et = struct.unpack("!H", d[off:off + 2])[0]
            if et == 0x8100 and len(d) >= 18:
                off += 4
                et = struct.unpack("!H", d[off:off + 2])[0]
            off += 2
            if et == 0x0800 and len(d) >= off + 20:
                ihl = (d[off] & 15) * 4
                iplen, ipid, frag = struct.unpack("!HHH", d[off + 2:off + 8])
                proto = d[off + 9]
                src = socket.inet_ntop(socket.AF_INET, d[off + 12:off + 16])
                dst = socket.inet_ntop(socket.AF_INET, d[off + 16:off + 20])
                l4 = off + ihl
                df = bool(frag & 0x4000)
            elif et == 0x86dd and len(d) >= off + 40:
                iplen = struct.unpack("!H", d[off + 4:off + 6])[0] + 40
                proto = d[off + 6]
                src = socket.inet_ntop(socket.AF_INET6, d[off + 8:off + 24])
                dst = socket.inet_ntop(socket.AF_INET6, d[off + 24:off + 40])
                l4 = off + 40
                ipid = df = None
            else:
                continue
            if proto not in (6, 17) or len(d) < l4 + 4:
                continue
            sport, dport = struct.unpack("!HH", d[l4:l4 + 4])
            yield (ts, wirelen, proto, src, dst, sport, dport, ipid, df, iplen)
'

# read_agg(path) yields the records of a JSON aggregate log as dicts,
# skipping lines that do not parse (a log cut short by a crash).
LAB_PY_AGG='
import json

def read_agg(path):
    try:
        f = open(path)
    except OSError:
        return
    with f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                yield json.loads(line)
            except ValueError:
                continue

def ids(a, b):
    """IDs a..b as text, with the wrap at 65535."""
    if a is None:
        return "-"
    return str(a) if a == b else "%d..%d" % (a, b)
'
