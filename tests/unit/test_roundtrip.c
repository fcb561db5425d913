/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The core property (DESIGN.md "GSO rules"): GRO followed by GSO gives
 * back the original frames byte for byte and in order per flow, for TCP
 * and UDP over IPv4 and IPv6, with incrementing or fixed IPv4 IDs.
 *
 * Random flows from a fixed seed are built with frames.c, offered to a
 * GRO table, and every aggregate it emits is segmented with
 * GSO_IPID_AUTO and software checksums, as the daemon's software path
 * does.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "grogso/csum.h"
#include "grogso/gro.h"
#include "grogso/gso.h"
#include "grogso/pkt.h"
#include "frames.h"

#define RT_MAX_FLOWS 8
#define RT_MAX_FRAMES_PER_FLOW 70       /* past GRO_MAX_SEGS, so caps are hit */
#define RT_MAX_FRAMES (RT_MAX_FLOWS * RT_MAX_FRAMES_PER_FLOW)
#define RT_FRAME_MAX 1600
#define RT_BUF (RT_MAX_FRAMES * RT_FRAME_MAX)

struct rt_rec {
	uint32_t off, len;
	uint16_t flow;
};

struct rt_log {
	uint8_t buf[RT_BUF];
	uint32_t used;
	struct rt_rec rec[RT_MAX_FRAMES];
	uint32_t n;
	int overflow;
};

struct rt_ctx {
	struct pkt_pool *pool;
	struct rt_log *out;
	uint32_t aggregates;            /* emitted with segs >= 2 */
	uint32_t gso_errors;
	uint32_t csum_errors;
};

static struct pkt_pool pool;
static struct rt_log in_log, out_log;
static struct gso_seg segs[256];
static uint64_t rng_state;
/* aggregates GRO built partly by copying (pool low) and wholly by copying */
static uint32_t rt_mixed, rt_copied;

static uint32_t rnd(void)
{
	/* xorshift64*: fixed seed, reproducible */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return (uint32_t)((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

static uint32_t rnd_range(uint32_t lo, uint32_t hi)
{
	return lo + rnd() % (hi - lo + 1);
}

static int setup(void **state)
{
	(void)state;
	return pkt_pool_init(&pool, 1024);
}

static int teardown(void **state)
{
	(void)state;
	pkt_pool_destroy(&pool);
	return 0;
}

/* Flows are told apart by source port: 40000 + flow index. */
static uint16_t flow_of(const uint8_t *frame, const struct pkt *p)
{
	return (uint16_t)(get_be16(frame + p->l4_off) - 40000);
}

static void log_add(struct rt_log *l, const uint8_t *frame, uint32_t len,
		    uint16_t flow)
{
	if (l->n == RT_MAX_FRAMES || l->used + len > RT_BUF) {
		l->overflow = 1;
		return;
	}
	memcpy(l->buf + l->used, frame, len);
	l->rec[l->n].off = l->used;
	l->rec[l->n].len = len;
	l->rec[l->n].flow = flow;
	l->used += len;
	l->n++;
}

static void emit(void *arg, struct pkt *p)
{
	struct rt_ctx *c = arg;
	struct gso_opts o = { .ipid = GSO_IPID_AUTO, .csum_offload = 0 };
	uint8_t frame[RT_FRAME_MAX];
	uint16_t flow = flow_of(p->data, p);
	int n, i, len;

	if (p->gso_size && p->agg.segs >= 2) {
		c->aggregates++;
		if (!p->frag_count)
			rt_copied++;
		else if (p->frag_count < p->agg.segs - 1)
			rt_mixed++;
		n = gso_segment(p, &o, segs, sizeof(segs) / sizeof(segs[0]),
				NULL);
		if (n < 0) {
			c->gso_errors++;
		} else {
			for (i = 0; i < n; i++) {
				len = gso_seg_linearize(&segs[i], frame,
							sizeof(frame));
				if (len < 0) {
					c->gso_errors++;
					break;
				}
				log_add(c->out, frame, (uint32_t)len, flow);
			}
		}
		/* written whole instead, the chain's checksum completes to a
		 * valid one (what the offload peer checks) */
		if (pkt_csum_complete(p) ||
		    pkt_l4_csum_verify(p, 0) != PKT_CSUM_VALID)
			c->csum_errors++;
	} else {
		/* the software egress path completes what GRO left partial */
		if (p->csum == PKT_CSUM_PARTIAL)
			pkt_csum_complete(p);
		log_add(c->out, p->data, p->len, flow);
	}
	pkt_free(c->pool, p);
}

struct rt_flow {
	struct frame_spec s;
	uint32_t nframes, sent;
	uint16_t mss, last_len;
	int fixed_id;
};

static void flow_init(struct rt_flow *f, uint16_t idx)
{
	int v6 = rnd() & 1;
	uint8_t proto = (rnd() & 1) ? 6 : 17;

	frame_spec_init(&f->s, v6, proto);
	f->s.sport = (uint16_t)(40000 + idx);
	f->s.dport = (uint16_t)rnd_range(1, 65535);
	f->s.ipid = (uint16_t)rnd();
	f->s.df = rnd() & 1;
	f->s.ttl = (uint8_t)rnd_range(1, 255);
	f->s.tos = (uint8_t)(rnd() & 0xfc);
	f->s.seq = rnd();
	f->s.ack = rnd();
	f->s.win = (uint16_t)rnd();
	f->s.pay_seed = (uint8_t)rnd();
	f->s.flowlabel = rnd() & 0xfffff;
	if ((rnd() & 7) == 0) {
		f->s.vlan = 1;
		f->s.vlan_tci = (uint16_t)rnd_range(1, 4094);
	}
	f->fixed_id = !v6 && (rnd() & 3) == 0;
	f->mss = (uint16_t)rnd_range(1, 1448);
	f->last_len = (uint16_t)rnd_range(1, f->mss);
	f->nframes = rnd_range(1, RT_MAX_FRAMES_PER_FLOW);
	f->sent = 0;
}

/* Build the next frame of @f into a pool buffer and the input log. */
static struct pkt *flow_next(struct rt_flow *f, uint16_t idx)
{
	struct frame_spec s = f->s;
	uint32_t off = f->sent * f->mss;
	struct pkt *p;

	s.pay_len = f->sent == f->nframes - 1 ? f->last_len : f->mss;
	s.pay_stream_off = off;
	s.seq = f->s.seq + off;
	s.ipid = f->fixed_id ? f->s.ipid : (uint16_t)(f->s.ipid + f->sent);
	if (s.proto == 6 && f->sent == f->nframes - 1 && (rnd() & 1))
		s.tcp_flags |= TCP_PSH;
	f->sent++;
	p = frame_pkt(&pool, &s);
	assert_non_null(p);
	log_add(&in_log, p->data, p->len, idx);
	if (rnd() & 1)
		p->csum = PKT_CSUM_VALID;       /* as the kernel marks it */
	return p;
}

/* Compare the output with the input per flow, in order. */
static void check_logs(uint32_t nflows)
{
	uint32_t f, i, j;

	assert_false(in_log.overflow);
	assert_false(out_log.overflow);
	assert_int_equal(out_log.n, in_log.n);
	for (f = 0; f < nflows; f++) {
		for (i = 0, j = 0;; i++, j++) {
			while (i < in_log.n && in_log.rec[i].flow != f)
				i++;
			while (j < out_log.n && out_log.rec[j].flow != f)
				j++;
			if (i == in_log.n || j == out_log.n) {
				assert_int_equal(i, in_log.n);
				assert_int_equal(j, out_log.n);
				break;
			}
			assert_int_equal(out_log.rec[j].len, in_log.rec[i].len);
			assert_memory_equal(out_log.buf + out_log.rec[j].off,
					    in_log.buf + in_log.rec[i].off,
					    in_log.rec[i].len);
		}
	}
}

/*
 * One trial: @nflows random flows, frames interleaved at random, a batch
 * flush every @batch frames (0: only at the end).  Returns the number of
 * aggregates GSO cut.
 */
static uint32_t trial(uint32_t nflows, uint32_t batch)
{
	struct rt_flow flows[RT_MAX_FLOWS];
	struct rt_ctx ctx = { .pool = &pool, .out = &out_log };
	struct gro_config cfg;
	struct gro_table *t;
	uint32_t left = 0, k, f, fed = 0;
	uint32_t nfree = pool.nfree;

	in_log.n = in_log.used = 0;
	out_log.n = out_log.used = 0;
	in_log.overflow = out_log.overflow = 0;
	for (f = 0; f < nflows; f++) {
		flow_init(&flows[f], (uint16_t)f);
		left += flows[f].nframes;
	}

	gro_config_default(&cfg);
	t = gro_create(&cfg, &pool, NULL, emit, &ctx);
	assert_non_null(t);
	while (left) {
		/* pick the k-th flow that still has frames */
		k = rnd() % nflows;
		while (flows[k].sent == flows[k].nframes)
			k = (k + 1) % nflows;
		gro_receive(t, flow_next(&flows[k], (uint16_t)k), fed);
		left--;
		fed++;
		if (batch && fed % batch == 0)
			gro_flush_all(t, FLUSH_BATCH);
	}
	gro_flush_all(t, FLUSH_EXIT);
	assert_int_equal(gro_held(t), 0);
	gro_destroy(t);

	assert_int_equal(ctx.gso_errors, 0);
	assert_int_equal(ctx.csum_errors, 0);
	assert_int_equal(pool.nfree, nfree);
	check_logs(nflows);
	return ctx.aggregates;
}

static void test_roundtrip_single_flows(void **state)
{
	uint32_t i, aggs = 0;

	(void)state;
	rng_state = 0x9e3779b97f4a7c15ull;
	for (i = 0; i < 3000; i++)
		aggs += trial(1, 0);
	/* the property means nothing if GRO never merged */
	assert_true(aggs > 1000);
}

static void test_roundtrip_interleaved_flows(void **state)
{
	uint32_t i, aggs = 0;

	(void)state;
	rng_state = 0x0123456789abcdefull;
	for (i = 0; i < 500; i++)
		aggs += trial(rnd_range(2, RT_MAX_FLOWS), 0);
	assert_true(aggs > 500);
}

static void test_roundtrip_with_batch_flushes(void **state)
{
	uint32_t i, aggs = 0;

	(void)state;
	rng_state = 0xfeedfacecafebeefull;
	for (i = 0; i < 500; i++)
		aggs += trial(rnd_range(1, RT_MAX_FLOWS), rnd_range(1, 64));
	assert_true(aggs > 100);
}

/*
 * With the pool near GRO's copy mark (automatic: 128 of 1024 buffers),
 * aggregates switch between chaining and copying part way, and every
 * mix must still come back byte for byte.
 */
static void test_roundtrip_under_pool_pressure(void **state)
{
	static struct pkt *hog[1024];
	uint32_t i, aggs = 0, nhog = 0;

	(void)state;
	rng_state = 0x5eed5eed5eed5eedull;
	rt_mixed = rt_copied = 0;
	while (pool.nfree > 128 + 24)
		hog[nhog++] = pkt_alloc(&pool);
	for (i = 0; i < 300; i++)
		aggs += trial(rnd_range(1, RT_MAX_FLOWS), 0);
	while (nhog)
		pkt_free(&pool, hog[--nhog]);
	assert_true(aggs > 100);
	assert_true(rt_mixed > 10);
	assert_true(rt_copied > 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_single_flows),
		cmocka_unit_test(test_roundtrip_interleaved_flows),
		cmocka_unit_test(test_roundtrip_with_batch_flushes),
		cmocka_unit_test(test_roundtrip_under_pool_pressure),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
