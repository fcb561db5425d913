/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_gro: drive one GRO table with a sequence of frames.
 *
 * Input: two bytes of table configuration, then records of
 *   ctl (1 byte) | length (2 bytes, big-endian) | frame (length bytes).
 * ctl bits 0-1 set what is known about the L4 checksum (unknown, valid,
 * partial, bad), as vnet_check would; bit 2 marks the frame as a
 * super-packet; bit 3 ends the batch after it (gro_flush_all); bit 4
 * runs the hold timer; bits 5-7 advance the clock.
 *
 * Every emitted packet must still parse, its IP header must describe
 * exactly the bytes in its frame (linear part and fragment chain), an
 * aggregate must respect the size and segment limits and its chain must
 * add up, and every buffer must be back in the pool at the end of the
 * input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grogso/csum.h"
#include "grogso/gro.h"
#include "grogso/pkt.h"
#include "grogso/stats.h"

#define FUZZ_POOL 48

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pkt_pool pool;
static struct pkt *scratch;
static struct gro_config cfg;

static void check_chain(const struct pkt *p)
{
	const struct pkt *f;
	uint32_t bytes = 0, n = 0;

	for (f = p->frag_first; f; f = f->frag_next) {
		bytes += f->len;
		n++;
	}
	if (bytes != p->frag_bytes || n != p->frag_count ||
	    (p->agg.segs < 2 && n))
		abort();
}

static void check_emitted(void *ctx, struct pkt *p)
{
	(void)ctx;
	check_chain(p);
	if (pkt_frame_len(p) > PKT_DATA_MAX)
		abort();
	/* GRO's aggregates carry a flush reason; a passed super-packet does not */
	if (p->agg.segs >= 2 && p->agg.flush != FLUSH_NONE) {
		if (p->l3_off + pkt_ip_len(p) != pkt_frame_len(p) ||
		    pkt_ip_len(p) > cfg.max_ip_len ||
		    p->agg.segs > cfg.max_segs || !p->gso_size ||
		    p->csum != PKT_CSUM_PARTIAL ||
		    pkt_payload_len(p) <= p->gso_size)
			abort();
		/* the super-packet is still a well-formed frame */
		if (pkt_copy_bits(p, 0, scratch->data, pkt_frame_len(p)))
			abort();
		scratch->len = pkt_frame_len(p);
		if (pkt_parse(scratch) != DROP_NONE ||
		    scratch->pay_off != p->pay_off)
			abort();
		/* completing the checksum over the chain and over the same
		 * bytes made linear must agree */
		scratch->csum = PKT_CSUM_PARTIAL;
		if (pkt_csum_complete(scratch) || pkt_csum_complete(p) ||
		    memcmp(scratch->data + p->l4_off, p->data + p->l4_off,
			   p->pay_off - p->l4_off))
			abort();
	}
	pkt_free(&pool, p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct stats_port st;
	static int ready;
	struct gro_table *t;
	uint64_t now = 1;
	size_t off;

	if (!ready) {
		if (pkt_pool_init(&pool, FUZZ_POOL))
			abort();
		scratch = pkt_alloc(&pool);
		ready = 1;
	}
	if (size < 2)
		return 0;

	gro_config_default(&cfg);
	cfg.max_flows = 1u + (data[0] & 7);
	cfg.max_segs = 2u + (data[1] & 63) % (GRO_MAX_SEGS - 1);
	cfg.udp_fixed_merge = !(data[0] & 0x08);
	cfg.accept_partial = !!(data[0] & 0x10);
	cfg.protos = (data[0] & 0x20) ? (uint32_t)(data[1] >> 4) : GRO_PROTO_ALL;
	if (data[0] & 0x40)
		cfg.max_ip_len = 1500;
	t = gro_create(&cfg, &pool, &st, check_emitted, NULL);
	if (!t)
		abort();

	for (off = 2; off + 3 <= size;) {
		uint8_t ctl = data[off];
		size_t len = get_be16(data + off + 1);
		struct pkt *p;

		off += 3;
		if (len > size - off)
			len = size - off;
		p = pkt_alloc(&pool);
		if (!p)
			abort();        /* GRO chains only above copy_below */
		memcpy(p->data, data + off, len);
		p->len = (uint32_t)len;
		off += len;
		now += (uint64_t)(ctl >> 5) * 1000;
		if (pkt_parse(p) != DROP_NONE) {
			pkt_free(&pool, p);
			continue;
		}
		p->csum = ctl & 3;
		if ((ctl & 4) && p->pay_off) {
			p->gso_size = 1;
			p->agg.segs = 2;
		}
		gro_receive(t, p, now);
		if (gro_held(t) > cfg.max_flows)
			abort();
		if (ctl & 8)
			gro_flush_all(t, FLUSH_BATCH);
		if (ctl & 16)
			(void)gro_flush_older(t, now);
	}
	gro_flush_all(t, FLUSH_EXIT);
	if (gro_held(t) != 0)
		abort();
	gro_destroy(t);
	if (pool.nfree != pool.count - 1)
		abort();
	return 0;
}
