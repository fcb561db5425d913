/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * loop: the daemon.  Opens the ports, wires them to GRO, forwarding and
 * egress in one libev loop, handles signals and stats.
 */
#ifndef GROGSO_LOOP_H
#define GROGSO_LOOP_H

#include "grogso/config.h"

/* Run until SIGINT/SIGTERM.  Returns the exit status (0 or 1). */
int loop_run(const struct config *c);

#endif
