#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Every drop and pass reason (the one list in include/grogso/stats.h)
# and every counter of struct stats_port is explained in the COUNTERS
# section of man/grogso.8, and the section names nothing else as a
# reason: a reason added to the code without its line in the man page,
# or left in the man page after it went, fails here.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
hdr=$top_srcdir/include/grogso/stats.h
man=$top_srcdir/man/grogso.8
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# the reasons of one X-macro list: X(NAME, "name")
reasons() {
	sed -n "/^#define $1(X)/,/^\$/p" "$hdr" |
		grep -o 'X([A-Z0-9_]*, "[^"]*")' | sed 's/.*"\(.*\)")/\1/' | sort
}
# the .It Cm entries of the man page's list introduced by ".It Va $1"
documented() {
	awk -v want="$1" '
		/^\.Sh / { in_sec = ($2 == "COUNTERS") }
		!in_sec { next }
		/^\.It Va / { cur = $3; depth = 0 }
		/^\.Bl / { depth++ }
		/^\.El/ { depth--; if (depth == 0 && cur == want) cur = "" }
		cur == want && depth == 1 && /^\.It Cm / { print $3 }
	' "$man" | sort
}
check() { # LIST FIELD
	reasons "$1" >"$tmp/code"
	documented "$2" >"$tmp/man"
	[ -s "$tmp/code" ] || { echo "man-counters: no $1 in $hdr"; fail=1; return; }
	if ! cmp -s "$tmp/code" "$tmp/man"; then
		echo "man-counters: $2 reasons differ (< code, > man page):"
		diff "$tmp/code" "$tmp/man" | grep '^[<>]' | sed 's/^/    /'
		fail=1
	else
		echo "man-counters: $(wc -l <"$tmp/code") $2 reasons documented"
	fi
}
check STATS_DROP_LIST drop
check STATS_PASS_LIST pass

# the scalar counters: fields of struct stats_port
sed -n '/^struct stats_port {/,/^};/p' "$hdr" | grep -o 'uint64_t [a-z_, ]*' |
	sed 's/uint64_t //; s/,/\n/g' | tr -d ' ' | grep -v '^$' |
	grep -v '^\(segs_hist\|drop\|pass\|flush\)$' | sort >"$tmp/fields"
while read -r f; do
	awk '/^\.Sh / { s = ($2 == "COUNTERS") } s && /^\.It Va /' "$man" |
		grep -qw -- "$f" || { echo "man-counters: counter $f not in COUNTERS"; fail=1; }
done <"$tmp/fields"
[ "$fail" = 0 ] && echo "man-counters: $(wc -l <"$tmp/fields") counters documented"
exit "$fail"
