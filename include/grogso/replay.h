/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * replay: `grogso replay IN.pcap OUT.pcap`, the engine driven from a
 * capture, offline and deterministic.
 */
#ifndef GROGSO_REPLAY_H
#define GROGSO_REPLAY_H

#include "grogso/config.h"

/* Run the replay described by @c.  Returns the exit status (0 or 1). */
int replay_run(const struct config *c);

#endif
