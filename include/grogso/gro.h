/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gro: receive aggregation with Linux 6.18's rules, one table per ingress
 * port.
 *
 * Packets go in one at a time (gro_receive) after pkt_parse and, for
 * ports with a vnet header, vnet_check.  Packets come out, in order,
 * through the emit callback: completed aggregates (p->agg.segs > 1,
 * p->gso_size set, L4 checksum partial) and packets GRO left alone
 * (p->agg.segs == 1, always linear).  A flow's held aggregate is always
 * emitted before any later packet of that flow, so no flow is reordered.
 *
 * An aggregate is normally not linear: the merged segments' buffers
 * follow the head as fragments (see pkt.h), so whoever reads its payload
 * walks the chain or calls pkt_linearize, and whoever writes it uses
 * pkt_iov.  Its headers are all in the linear part.
 */
#ifndef GROGSO_GRO_H
#define GROGSO_GRO_H

#include <stdint.h>

#include "grogso/pkt.h"
#include "grogso/stats.h"

#define GRO_MAX_IP_LEN 65535            /* IPv4 total length field; IPv6 payload + 40 */
#define GRO_MAX_SEGS 64                 /* UDP_GRO_CNT_MAX; also our TCP cap */
#define GRO_DEFAULT_FLOWS 4096
#define GRO_COPY_POOL_DIV 8             /* auto copy_below: 1/8 of the pool, */
#define GRO_COPY_SEGS_MUL 2             /* or two full aggregates if more */

#define GRO_PROTO_TCP4 0x1
#define GRO_PROTO_TCP6 0x2
#define GRO_PROTO_UDP4 0x4
#define GRO_PROTO_UDP6 0x8
#define GRO_PROTO_ALL 0xf

struct gro_table;

/*
 * Called for every packet GRO releases.  The callee owns @p from then on
 * (it must free it to the pool or pass it on).
 */
typedef void (*gro_emit_fn)(void *ctx, struct pkt *p);

struct gro_config {
	uint32_t max_flows;             /* aggregates held at once */
	uint32_t max_ip_len;            /* <= GRO_MAX_IP_LEN */
	uint32_t max_segs;              /* 2..GRO_MAX_SEGS */
	uint32_t protos;                /* GRO_PROTO_* */
	int udp_fixed_merge;            /* merge fixed-ID UDP (Linux 6.18) */
	int accept_partial;             /* pcap: pseudo-header sum = offloaded */
	/*
	 * Merge by copying the payload into the aggregate (and freeing the
	 * segment's buffer) instead of chaining the buffer, while the pool
	 * has fewer free buffers than this, so held aggregates cannot
	 * starve receive.  0: automatic, the larger of pool/8 and 2 x
	 * max_segs, at most half the pool.
	 */
	uint32_t copy_below;
};

void gro_config_default(struct gro_config *cfg);

/*
 * Make a table.  @stats gets the pass and flush counters and the
 * aggregate histogram; it may be NULL.  Returns NULL on a bad config or
 * when memory runs out (the only allocation; done at start).
 */
struct gro_table *gro_create(const struct gro_config *cfg,
			     struct pkt_pool *pool, struct stats_port *stats,
			     gro_emit_fn emit, void *ctx);
void gro_destroy(struct gro_table *t);

/*
 * Offer one parsed packet.  It is merged into a held aggregate, held as
 * the head of a new one, or emitted (after the flow's held aggregate).
 * @now_ns is the receive time, used by gro_flush_older.
 */
void gro_receive(struct gro_table *t, struct pkt *p, uint64_t now_ns);

/* Emit every held aggregate, oldest first, with @reason. */
void gro_flush_all(struct gro_table *t, enum flush_reason reason);

/*
 * Emit the aggregates started before @before_ns (FLUSH_TIMER).  Returns
 * the start time of the oldest aggregate still held, or 0 when none is.
 */
uint64_t gro_flush_older(struct gro_table *t, uint64_t before_ns);

/*
 * Emit the oldest held aggregate with @reason, if any is held.  Returns
 * 1 when one was emitted, 0 when none was held.
 */
int gro_flush_oldest(struct gro_table *t, enum flush_reason reason);

/* The start time of the oldest aggregate held, or 0 when none is. */
uint64_t gro_oldest_ns(const struct gro_table *t);

/* Aggregates held now. */
uint32_t gro_held(const struct gro_table *t);

#endif
