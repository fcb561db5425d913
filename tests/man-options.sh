#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/man-options.sh: man/grogso.8 and `grogso --help` name the same
# options, and mandoc -Tlint finds nothing worse than a STYLE note.
#
# Long options are taken from every "--name" in the help text and every
# ".Fl -name" in the man page; short options from "-x," / "-x " in the
# help and ".Fl x" in the man page.  Run by `make check` (GROGSO and
# top_srcdir come from the environment) or by hand from the top of a
# build: GROGSO=./grogso tests/man-options.sh
set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
GROGSO=${GROGSO:-./grogso}
man=$top_srcdir/man/grogso.8

fail=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/man-options.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

if [ ! -f "$man" ]; then
	echo "man-options: $man not found" >&2
	exit 99
fi
if [ ! -x "$GROGSO" ]; then
	echo "man-options: $GROGSO is not built (set GROGSO)" >&2
	exit 99
fi

if ! "$GROGSO" --help >"$tmp/help" 2>&1; then
	echo "man-options: '$GROGSO --help' did not exit 0" >&2
	cat "$tmp/help" >&2
	fail=1
fi

# Long options.
grep -oE -- '(^|[^[:alnum:]-])--[a-z][a-z0-9-]*' "$tmp/help" |
	sed 's/.*--//' | sort -u >"$tmp/help.long"
grep -oE 'Fl -[a-z][a-z0-9-]*' "$man" |
	sed 's/^Fl -//' | sort -u >"$tmp/man.long"

# Short options: "-h," or "-h " in the help, ".Fl h" in the man page.
grep -oE -- '(^|[[:space:]])-[[:alpha:]]([,[:space:]]|$)' "$tmp/help" |
	sed 's/^[[:space:]]*-//; s/[,[:space:]]*$//' | sort -u >"$tmp/help.short"
grep -oE 'Fl [[:alpha:]]( |$)' "$man" |
	sed 's/^Fl //; s/ $//' | sort -u >"$tmp/man.short"

if [ ! -s "$tmp/help.long" ]; then
	echo "man-options: no --options found in '$GROGSO --help'" >&2
	fail=1
fi

report() {	# kind, only-in-a file, where a, where b
	if [ -s "$2" ]; then
		echo "man-options: $1 in $3 but not in $4:" >&2
		sed 's/^/    /' "$2" >&2
		fail=1
	fi
}

comm -23 "$tmp/help.long" "$tmp/man.long" | sed 's/^/--/' >"$tmp/only-help"
comm -13 "$tmp/help.long" "$tmp/man.long" | sed 's/^/--/' >"$tmp/only-man"
report "long options" "$tmp/only-help" "--help" "man/grogso.8"
report "long options" "$tmp/only-man" "man/grogso.8" "--help"

comm -23 "$tmp/help.short" "$tmp/man.short" | sed 's/^/-/' >"$tmp/only-help"
comm -13 "$tmp/help.short" "$tmp/man.short" | sed 's/^/-/' >"$tmp/only-man"
report "short options" "$tmp/only-help" "--help" "man/grogso.8"
report "short options" "$tmp/only-man" "man/grogso.8" "--help"

# mandoc: -Wwarning leaves out STYLE notes and keeps everything worse.
if command -v mandoc >/dev/null 2>&1; then
	mandoc -Tlint -Wwarning "$man" >"$tmp/lint" 2>&1
	if [ -s "$tmp/lint" ]; then
		echo "man-options: mandoc -Tlint:" >&2
		sed 's/^/    /' "$tmp/lint" >&2
		fail=1
	fi
else
	echo "man-options: mandoc not installed, lint skipped"
fi

if [ "$fail" -eq 0 ]; then
	echo "man-options: $(wc -l <"$tmp/man.long") long and" \
		"$(wc -l <"$tmp/man.short") short options agree"
fi
exit "$fail"
