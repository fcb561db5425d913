#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Bridge mode over TAP ports: the same assertions as bridge-packet.sh,
# with grogso on taps enslaved to bridges brlan={eth4,tlan} and
# brwan={eth5,twan} in gw.
IO=tap exec bash "$(dirname "$0")/bridge-packet.sh"
