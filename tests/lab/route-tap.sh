#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Route mode end to end on TAP ports (brlan = eth4 + tlan, brwan = eth5 +
# twan): the same checks as route-packet.sh.
IO=tap exec "$(dirname "$0")/route-packet.sh"
