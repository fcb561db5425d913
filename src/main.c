/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * main: read the command line, then run the daemon or a replay.  The
 * only place grogso exits.
 */
#include "grogso/config.h"
#include "grogso/log.h"
#include "grogso/loop.h"
#include "grogso/replay.h"

int main(int argc, char **argv)
{
	static struct config c;         /* routes and addresses: keep it off the stack */
	int err;

	err = config_parse(&c, argc, argv);
	if (err > 0)
		return 0;
	if (err < 0)
		return 1;
	log_set_level(LOG_LVL_WARN + c.verbose);
	if (c.cmd == CONFIG_CMD_REPLAY)
		return replay_run(&c);
	return loop_run(&c);
}
