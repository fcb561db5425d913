/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench/engine: in-process speed of the core (GRO, GSO, checksum), with
 * the targets of DESIGN.md "Performance" printed next to each result.
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
#include "grogso/pkt.h"
#include "../tests/unit/frames.h"

#define BENCH_BATCH 64                  /* frames per rx batch, then a flush */
#define BENCH_MSS 1448
#define BENCH_MIN_NS 300000000ull       /* run every row at least 0.3 s */
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

static void cpu_model(char *out, size_t cap)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[256];
	char *v;

	snprintf(out, cap, "unknown");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "model name", 10))
			continue;
		v = strchr(line, ':');
		if (!v)
			break;
		v += 1 + (v[1] == ' ');
		v[strcspn(v, "\n")] = 0;
		snprintf(out, cap, "%s", v);
		break;
	}
	fclose(f);
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

/*
 * Feed batches of BENCH_BATCH frames, flow j % @nflows for the j-th,
 * with a flush after each batch.  With @gro 0 only the copy and parse
 * run (the baseline subtracted from the GRO row), and the batch's
 * buffers are held until the batch ends, as a port's rx batch holds
 * them: both runs then write into the same rotating set of buffers, and
 * the difference is GRO's own work, not a smaller cache footprint of
 * the baseline.  Returns ns/packet.
 */
static double run_gro(uint32_t nflows, int gro, uint8_t csum,
		      double *segs_per_agg)
{
	struct bench_ctx ctx = { .pool = &pool };
	struct gro_config cfg;
	struct gro_table *t = NULL;
	struct pkt *p, *held[BENCH_BATCH];
	uint64_t t0, el, pkts = 0;
	uint32_t j = 0, k;

	flows_init(nflows);
	gro_config_default(&cfg);
	t = gro_create(&cfg, &pool, NULL, emit_free, &ctx);
	if (!t) {
		fprintf(stderr, "gro_create failed\n");
		exit(1);
	}
	t0 = now_ns();
	do {
		for (k = 0; k < BENCH_BATCH; k++) {
			p = pkt_alloc(&pool);
			if (!p) {
				fprintf(stderr, "pool empty\n");
				exit(1);
			}
			next_frame(p, &flows[j]);
			if (++j == nflows)
				j = 0;
			if (pkt_parse(p) != DROP_NONE) {
				fprintf(stderr, "bad frame\n");
				exit(1);
			}
			if (gro) {
				p->csum = csum;
				gro_receive(t, p, pkts);
			} else {
				sink += p->pay_off;
				held[k] = p;
			}
			pkts++;
		}
		if (gro) {
			gro_flush_all(t, FLUSH_BATCH);
		} else {
			for (k = 0; k < BENCH_BATCH; k++)
				pkt_free(&pool, held[k]);
		}
		el = now_ns() - t0;
	} while (el < BENCH_MIN_NS);
	gro_destroy(t);
	if (segs_per_agg)
		*segs_per_agg = ctx.aggs ? (double)ctx.segs / (double)ctx.aggs : 0;
	return (double)el / (double)pkts;
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

int main(int argc, char **argv)
{
	static const uint32_t nflows[] = { 1, 16, 256, 4096 };
	char cpu[128], target[48];
	double base, total, spa, gro1 = 0;
	size_t i;
	int v;

	only = argc > 1 ? argv[1] : NULL;
	if (pkt_pool_init(&pool, BENCH_POOL)) {
		fprintf(stderr, "pkt_pool_init: out of memory\n");
		return 1;
	}
	flows = calloc(4096, sizeof(*flows));
	if (!flows)
		return 1;
	cpu_model(cpu, sizeof(cpu));
	printf("grogso engine benchmark\ncpu: %s\n", cpu);
	printf("GRO: TCP/IPv4, MSS %d, batches of %d frames then gro_flush_all;\n"
	       "     copy+parse = memcpy of a per-flow template + seq/ID patch + pkt_parse (baseline)\n"
	       "     gro = total - copy+parse\n\n", BENCH_MSS, BENCH_BATCH);

	printf("%-34s %10s %10s %10s %9s  %s\n", "row", "total", "copy+parse",
	       "gro", "segs/agg", "target (gro)");
	for (v = 0; v < 2; v++) {
		uint8_t cs = v ? PKT_CSUM_UNKNOWN : PKT_CSUM_VALID;

		for (i = 0; i < sizeof(nflows) / sizeof(nflows[0]); i++) {
			char row[64];

			snprintf(row, sizeof(row), "gro %4u flow%s csum %s",
				 nflows[i], nflows[i] > 1 ? "s" : " ",
				 v ? "verified" : "valid");
			if (!want_row(row))
				continue;
			base = run_gro(nflows[i], 0, cs, NULL);
			total = run_gro(nflows[i], 1, cs, &spa);
			if (!v && i == 0) {
				gro1 = total - base;
				snprintf(target, sizeof(target), "<= 30 ns/pkt");
			} else if (!v && nflows[i] == 4096) {
				snprintf(target, sizeof(target),
					 "<= 60 ns/pkt (2x 1 flow: %.1f)", 2 * gro1);
			} else {
				snprintf(target, sizeof(target), "-");
			}
			printf("%-34s %7.1f ns %7.1f ns %7.1f ns %9.1f  %s\n", row,
			       total, base, total - base, spa, target);
		}
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

	free(flows);
	pkt_pool_destroy(&pool);
	return 0;
}
