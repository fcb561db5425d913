/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench/engine: in-process speed of the core (GRO, GSO, checksum, the
 * aggregate log), with the targets of DESIGN.md "Performance" printed
 * next to each result.
 * Not a test: numbers depend on the machine.  See bench/README.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grogso/csum.h"
#include "grogso/gro.h"
#include "grogso/gso.h"
#include "grogso/log.h"
#include "grogso/pkt.h"
#include "grogso/stats.h"
#include "../tests/unit/frames.h"
#include "common.h"

#define BENCH_BATCH 64                  /* frames per rx batch, then a flush */
#define BENCH_MSS 1448
#define BENCH_MIN_NS 300000000ull       /* run every GSO and csum row at least 0.3 s */
#define BENCH_GRO_NS 600000000ull       /* a GRO row in all (as its two 0.3 s loops were) */
#define BENCH_ROUNDS 10                 /* GRO rows take turns, a slice each */
#define BENCH_WARM_PAIRS 128            /* per slice, not counted: each half goes twice round 4096 flows */
#define BENCH_MAX_PAIRS 150000          /* samples a row keeps: 0.6 s of 4 us pairs */
#define BENCH_POOL 512
#define BENCH_GSO_PAY (BENCH_MSS * 45)  /* 65160 bytes: the largest multiple that fits */

struct bench_flow {
	uint8_t frame[14 + 20 + 20 + BENCH_MSS];
	uint32_t len;
	uint32_t seq;
	uint16_t id;
};

struct bench_ctx {
	struct pkt_pool *pool;
	uint64_t aggs, segs;
};

static struct pkt_pool pool;
static struct bench_flow *flows;
static struct gso_seg gsegs[64];
static volatile uint64_t sink;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void flows_init(uint32_t n)
{
	struct frame_spec s;
	uint32_t i;

	for (i = 0; i < n; i++) {
		frame_spec_init(&s, 0, 6);
		s.sport = (uint16_t)(10000 + i % 50000);
		s.dport = (uint16_t)(5201 + i / 50000);
		s.src[3] = (uint8_t)(2 + i / 50000);
		s.ipid = (uint16_t)(i * 7);
		s.seq = i * 0x10000u;
		s.pay_len = BENCH_MSS;
		s.pay_seed = (uint8_t)i;
		flows[i].len = (uint32_t)frame_build(&s, flows[i].frame,
						     sizeof(flows[i].frame));
		flows[i].seq = s.seq;
		flows[i].id = s.ipid;
	}
}

/*
 * The next frame of flow @f into @p: the template, then the sequence
 * number and IP ID advanced with incremental checksum updates, as a
 * sender's next segment would carry them.
 */
static void next_frame(struct pkt *p, struct bench_flow *f)
{
	uint8_t *ip, *th;
	uint32_t seq = f->seq + BENCH_MSS;
	uint16_t id = (uint16_t)(f->id + 1), c;

	memcpy(p->data, f->frame, f->len);
	p->len = f->len;
	ip = p->data + 14;
	th = ip + 20;
	c = get_be16(ip + 10);
	put_be16(ip + 10, csum_replace16(c, get_be16(ip + 4), id));
	put_be16(ip + 4, id);
	c = get_be16(th + 16);
	c = csum_replace16(c, get_be16(th + 4), (uint16_t)(seq >> 16));
	c = csum_replace16(c, get_be16(th + 6), (uint16_t)seq);
	put_be16(th + 16, c);
	put_be32(th + 4, seq);
	memcpy(f->frame, p->data, 14 + 20 + 20);
	f->seq = seq;
	f->id = id;
}

static void emit_free(void *arg, struct pkt *p)
{
	struct bench_ctx *c = arg;

	c->aggs++;
	c->segs += p->agg.segs;
	pkt_free(c->pool, p);
}

/* The next frame of the stream at flow *@j into a pool buffer, parsed. */
static struct pkt *frame_in(uint32_t nflows, uint32_t *j)
{
	struct pkt *p = pkt_alloc(&pool);

	if (!p) {
		fprintf(stderr, "pool empty\n");
		exit(1);
	}
	next_frame(p, &flows[*j]);
	if (++*j == nflows)
		*j = 0;
	if (pkt_parse(p) != DROP_NONE) {
		fprintf(stderr, "bad frame\n");
		exit(1);
	}
	return p;
}

/*
 * The baseline half of a pair: BENCH_BATCH frames copied and parsed,
 * their buffers held until the batch ends, as a port's rx batch holds
 * them, then freed.
 */
static void batch_base(uint32_t nflows, uint32_t *j)
{
	struct pkt *held[BENCH_BATCH];
	uint32_t k;

	for (k = 0; k < BENCH_BATCH; k++) {
		held[k] = frame_in(nflows, j);
		sink += held[k]->pay_off;
	}
	for (k = 0; k < BENCH_BATCH; k++)
		pkt_free(&pool, held[k]);
}

/* The GRO half: the same copy and parse, each frame into gro_receive,
 * then gro_flush_all(FLUSH_BATCH); the emit callback frees. */
static void batch_gro(struct gro_table *t, uint32_t nflows, uint32_t *j,
		      uint8_t csum, uint64_t *pkts)
{
	struct pkt *p;
	uint32_t k;

	for (k = 0; k < BENCH_BATCH; k++) {
		p = frame_in(nflows, j);
		p->csum = csum;
		gro_receive(t, p, (*pkts)++);
	}
	gro_flush_all(t, FLUSH_BATCH);
}

/* One GRO row: its samples, one per pair, and what it emitted. */
struct gro_row {
	char name[40];
	uint32_t nflows;
	uint8_t csum;                   /* p->csum given to gro_receive */
	int stats;                      /* count into a stats_port, as the daemon does */
	int32_t *tb, *tg;               /* ns of each baseline, GRO batch */
	int32_t *td;                    /* tg - tb (bench_pairs_summary) */
	size_t n;
	uint64_t aggs, segs;
};

/*
 * One slice of row @r: BENCH_WARM_PAIRS pairs not counted, then timed
 * pairs (a baseline batch, then a GRO batch, each timed on its own) for
 * BENCH_GRO_NS / BENCH_ROUNDS.  Both halves take the same 64 buffers
 * from the pool and copy from the same flow templates; the baseline's
 * stream starts half way through the flows, so the two halves copy
 * templates last used equally long ago (see bench/README).
 */
static void gro_slice(struct gro_row *r)
{
	struct bench_ctx ctx = { .pool = &pool };
	static struct stats_port st;
	struct gro_config cfg;
	struct gro_table *t;
	uint64_t t0, t1, t2, start, pkts = 0;
	uint32_t jg = 0, jb = r->nflows / 2;
	size_t i;

	flows_init(r->nflows);
	gro_config_default(&cfg);
	t = gro_create(&cfg, &pool, r->stats ? &st : NULL, emit_free, &ctx);
	if (!t) {
		fprintf(stderr, "gro_create failed\n");
		exit(1);
	}
	for (i = 0; i < BENCH_WARM_PAIRS; i++) {
		batch_base(r->nflows, &jb);
		batch_gro(t, r->nflows, &jg, r->csum, &pkts);
	}
	ctx.aggs = ctx.segs = 0;
	start = t2 = now_ns();
	/* the limit first: a row may come back with its arrays full */
	while (r->n < BENCH_MAX_PAIRS &&
	       t2 - start < BENCH_GRO_NS / BENCH_ROUNDS) {
		t0 = now_ns();
		batch_base(r->nflows, &jb);
		t1 = now_ns();
		batch_gro(t, r->nflows, &jg, r->csum, &pkts);
		t2 = now_ns();
		r->tb[r->n] = (int32_t)(t1 - t0);
		r->tg[r->n] = (int32_t)(t2 - t1);
		r->n++;
	}
	gro_destroy(t);
	r->aggs += ctx.aggs;
	r->segs += ctx.segs;
}

/* the sample arrays of a row; -1 (said) when out of memory */
static int row_alloc(struct gro_row *r)
{
	r->tb = calloc(BENCH_MAX_PAIRS, sizeof(*r->tb));
	r->tg = calloc(BENCH_MAX_PAIRS, sizeof(*r->tg));
	r->td = calloc(BENCH_MAX_PAIRS, sizeof(*r->td));
	if (!r->tb || !r->tg || !r->td) {
		fprintf(stderr, "out of memory\n");
		return -1;
	}
	return 0;
}

static double run_gso(int offload)
{
	struct gso_opts o = { .ipid = GSO_IPID_AUTO, .csum_offload = offload };
	struct frame_spec s;
	struct pkt *p;
	uint64_t t0, el, nsegs = 0;
	int i, r;

	frame_spec_init(&s, 0, 6);
	s.pay_len = BENCH_GSO_PAY;
	p = frame_pkt(&pool, &s);
	if (!p) {
		fprintf(stderr, "cannot build the super-packet\n");
		exit(1);
	}
	p->gso_size = BENCH_MSS;
	p->gso_type = VNET_GSO_TCPV4;
	p->agg.ipid_mode = PKT_IPID_INC;
	t0 = now_ns();
	do {
		for (i = 0; i < 256; i++) {
			r = gso_segment(p, &o, gsegs, 64, NULL);
			if (r < 0) {
				fprintf(stderr, "gso_segment: %d\n", r);
				exit(1);
			}
			nsegs += (uint64_t)r;
			sink += gsegs[r - 1].hdr[50];
		}
		el = now_ns() - t0;
	} while (el < BENCH_MIN_NS);
	pkt_free(&pool, p);
	return (double)el / (double)nsegs;
}

/* Rows whose name contains this (argv[1]), or all: for profiling one. */
static const char *only;

static int want_row(const char *row)
{
	return !only || strstr(row, only);
}

static double run_csum(size_t len)
{
	static uint8_t buf[65536];
	uint64_t t0, el, bytes = 0, s = 0;
	size_t i;

	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 131 + 7);
	t0 = now_ns();
	do {
		for (i = 0; i < 1024; i++) {
			s = csum_partial(buf, len, s);
			bytes += len;
		}
		el = now_ns() - t0;
	} while (el < BENCH_MIN_NS);
	sink += s;
	return (double)bytes / (double)el;      /* bytes per ns = GB/s */
}

/*
 * ns per "gro" record: log_agg_gro of one 45-segment TCP aggregate (IPv4
 * or IPv6) in @fmt into a log opened on /dev/null, so the write() of each
 * full buffer is counted as the daemon pays it.  The time advances by
 * 1.000123 s a record, so the seconds and micro digits change.
 */
static double run_log(int v6, enum log_format fmt)
{
	static struct log_agg log;
	struct frame_spec s;
	struct pkt *p;
	uint64_t t0, el, n = 0, t_ns = 1000000000ull;
	int i, err;

	err = log_agg_open(&log, "/dev/null", fmt);
	if (err) {
		fprintf(stderr, "log_agg_open /dev/null: %d\n", err);
		exit(1);
	}
	frame_spec_init(&s, v6, 6);
	s.pay_len = 0;
	p = frame_pkt(&pool, &s);
	if (!p) {
		fprintf(stderr, "cannot build the aggregate\n");
		exit(1);
	}
	/* the log reads the header only: the aggregate's IP length, IDs
	 * and flush reason as GRO would leave them */
	if (v6)
		put_be16(p->data + p->l3_off + 4, 20 + 45 * BENCH_MSS);
	else
		put_be16(p->data + p->l3_off + 2, 20 + 20 + 45 * BENCH_MSS);
	p->gso_size = BENCH_MSS;
	p->agg.segs = 45;
	p->agg.ipid_first = 1000;
	p->agg.ipid_last = 1044;
	p->agg.ipid_mode = v6 ? PKT_IPID_NONE : PKT_IPID_INC;
	p->agg.flush = FLUSH_SEGS;
	t0 = now_ns();
	do {
		for (i = 0; i < 256; i++) {
			log_agg_gro(&log, t_ns, "lan", p);
			t_ns += 1000123000ull;
		}
		n += 256;
		el = now_ns() - t0;
	} while (el < BENCH_MIN_NS);
	sink += log.used;
	log_agg_close(&log);
	pkt_free(&pool, p);
	return (double)el / (double)n;
}

int main(int argc, char **argv)
{
	static const uint32_t nflows[] = { 1, 16, 256, 4096 };
	static struct gro_row rows[9];
	struct gro_row *r;
	char cpu[128], target[48], q[32];
	double total, base, gro[3], gro1 = 0;
	size_t i, nrows = 0, round;
	int v;

	only = argc > 1 ? argv[1] : NULL;
	if (pkt_pool_init(&pool, BENCH_POOL)) {
		fprintf(stderr, "pkt_pool_init: out of memory\n");
		return 1;
	}
	flows = calloc(4096, sizeof(*flows));
	if (!flows)
		return 1;
	for (v = 0; v < 2; v++) {
		for (i = 0; i < sizeof(nflows) / sizeof(nflows[0]); i++) {
			r = &rows[nrows];
			snprintf(r->name, sizeof(r->name), "gro %4u flow%s csum %s",
				 nflows[i], nflows[i] > 1 ? "s" : " ",
				 v ? "verified" : "valid");
			if (!want_row(r->name))
				continue;
			r->nflows = nflows[i];
			r->csum = v ? PKT_CSUM_UNKNOWN : PKT_CSUM_VALID;
			if (row_alloc(r))
				return 1;
			nrows++;
		}
	}
	/* the daemon's GRO counts flushes, passes and the histogram of
	 * segments per aggregate: the 1-flow row again with a stats_port */
	r = &rows[nrows];
	snprintf(r->name, sizeof(r->name), "gro    1 flow  csum valid stats");
	if (want_row(r->name)) {
		r->nflows = 1;
		r->csum = PKT_CSUM_VALID;
		r->stats = 1;
		if (row_alloc(r))
			return 1;
		nrows++;
	}
	bench_cpu_model(cpu, sizeof(cpu));
	printf("grogso engine benchmark\ncpu: %s\n", cpu);
	printf("GRO: TCP/IPv4, MSS %d, batches of %d frames then gro_flush_all;\n"
	       "     copy+parse = memcpy of a per-flow template + seq/ID patch + pkt_parse (baseline)\n"
	       "     baseline and GRO batches alternate, each timed; ns/packet:\n"
	       "     total, copy+parse = median batch; gro = median of (GRO - baseline)\n"
	       "     per pair, q1..q3 its quartiles\n\n", BENCH_MSS, BENCH_BATCH);

	/* the rows take turns, so that all of them see the same spells of
	 * load on a shared machine */
	for (round = 0; round < BENCH_ROUNDS; round++)
		for (i = 0; i < nrows; i++)
			gro_slice(&rows[i]);

	if (nrows)
		printf("%-34s %10s %10s %10s %9s %13s  %s\n", "row", "total",
		       "copy+parse", "gro", "segs/agg", "gro q1..q3",
		       "target (gro)");
	for (i = 0; i < nrows; i++) {
		r = &rows[i];
		bench_pairs_summary(r->tb, r->tg, r->td, r->n, BENCH_BATCH,
				    &total, &base, gro);
		if (r->csum == PKT_CSUM_VALID && r->nflows == 1) {
			if (!r->stats)
				gro1 = gro[1];
			snprintf(target, sizeof(target), "<= 30 ns/pkt");
		} else if (r->csum == PKT_CSUM_VALID && r->nflows == 4096) {
			snprintf(target, sizeof(target),
				 "<= 60 ns/pkt (2x 1 flow: %.1f)", 2 * gro1);
		} else {
			snprintf(target, sizeof(target), "-");
		}
		snprintf(q, sizeof(q), "%.1f..%.1f", gro[0], gro[2]);
		/* the columns up to segs/agg as before: bench/compare.sh
		 * reads them by position */
		printf("%-34s %7.1f ns %7.1f ns %7.1f ns %9.1f %13s  %s\n",
		       r->name, total, base, gro[1],
		       r->aggs ? (double)r->segs / (double)r->aggs : 0, q, target);
		free(r->tb);
		free(r->tg);
		free(r->td);
	}

	printf("\n%-34s %10s  %s\n", "row", "value", "target");
	if (want_row("gso 64KB tcp4 mss 1448 offload"))
		printf("%-34s %7.1f ns  %s\n", "gso 64KB tcp4 mss 1448 offload",
		       run_gso(1), "<= 60 ns/seg");
	if (want_row("gso 64KB tcp4 mss 1448 sw csum"))
		printf("%-34s %7.1f ns  %s\n", "gso 64KB tcp4 mss 1448 sw csum",
		       run_gso(0), "-");
	if (want_row("csum_partial 1500 B"))
		printf("%-34s %7.2f GB/s  %s\n", "csum_partial 1500 B",
		       run_csum(1500), ">= 10 GB/s");
	if (want_row("csum_partial 64 KB"))
		printf("%-34s %7.2f GB/s  %s\n", "csum_partial 64 KB",
		       run_csum(65536), ">= 10 GB/s");

	if (want_row("log gro record tcp4 json"))
		printf("%-34s %7.1f ns  %s\n", "log gro record tcp4 json",
		       run_log(0, LOG_FMT_JSON), "-");
	if (want_row("log gro record tcp4 text"))
		printf("%-34s %7.1f ns  %s\n", "log gro record tcp4 text",
		       run_log(0, LOG_FMT_TEXT), "-");
	if (want_row("log gro record tcp6 json"))
		printf("%-34s %7.1f ns  %s\n", "log gro record tcp6 json",
		       run_log(1, LOG_FMT_JSON), "-");

	free(flows);
	pkt_pool_destroy(&pool);
	return 0;
}
