# SPDX-License-Identifier: GPL-2.0-or-later
#
# lab/scapy-python.sh (sourced, POSIX sh): scapy_python prints the first
# python3 that can import scapy, or returns 1.  A user's python3 (a
# virtualenv, say) may not see Debian's python3-scapy, so the system's
# is tried too.
scapy_python() {
	for py in python3 /usr/bin/python3; do
		if command -v "$py" >/dev/null 2>&1 &&
		    "$py" -c 'import scapy.all' >/dev/null 2>&1; then
			command -v "$py"
			return 0
		fi
	done
	return 1
}
