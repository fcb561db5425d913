/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bench/dpdk: the workloads of bench/engine run through DPDK's librte_gro
 * and librte_gso (Debian 12: DPDK 22.11), in one process without
 * hugepages or NICs, so that bench/compare.sh can put the two side by
 * side.  Not a test and not part of the router; the notes it prints say
 * what each row measures.
 *
 * Frames are the same as bench/engine's (tests/unit/frames.c templates,
 * sequence number and IP ID advanced per frame with incremental checksum
 * updates), and so is the way a GRO row is timed: interleaved pairs of a
 * baseline burst (mbufs filled, then freed) and a GRO burst (the same
 * fill, then GRO, flush and freeing the outputs), each burst timed on its
 * own; the gro column is the median of the per-pair differences.  The
 * rows take turns in slices, as bench/engine's do.  See bench/README.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_gro.h>
#include <rte_gso.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_net.h>
#include <rte_tcp.h>
#include <rte_version.h>

#include "grogso/csum.h"
#include "../tests/unit/frames.h"
#include "common.h"

#define BENCH_BATCH 64                  /* frames per rx burst, then a flush */
#define BENCH_MSS 1448
#define BENCH_MIN_NS 300000000ull       /* run every GSO row at least 0.3 s */
#define BENCH_GRO_NS 600000000ull       /* a GRO row in all, as in bench/engine */
#define BENCH_ROUNDS 10                 /* GRO rows take turns, a slice each */
#define BENCH_WARM_PAIRS 128            /* per slice, not counted: each half goes twice round 4096 flows */
#define BENCH_MAX_PAIRS 150000          /* samples a row keeps, as in bench/engine */
#define BENCH_FRAME (14 + 20 + 20 + BENCH_MSS)
#define BENCH_GSO_SEGS 45               /* 45 x 1448: the largest multiple under 64 KB */
#define BENCH_GSO_PAY (BENCH_MSS * BENCH_GSO_SEGS)
#define BENCH_MBUFS 8191                /* rx bursts, GSO headers; 2^n - 1 suits the ring */
#define BENCH_CTX_FLOWS 64              /* ctx tables: 64 x 64 = 4096 slots */
#define BENCH_CTX_ITEMS 64

enum gro_mode { MODE_BURST = 0, MODE_BURST_FIX, MODE_CTX };

static const char *const mode_names[] = { "burst", "burst+fix", "ctx" };

enum gso_work { GSO_SEG = 0, GSO_SEG_HDR, GSO_SEG_SW };

struct bench_flow {
	uint8_t frame[BENCH_FRAME];
	uint32_t len;
	uint32_t seq;
	uint16_t id;
};

/* One GRO row: its samples, one per pair, and the packets in and out. */
struct gro_row {
	uint32_t nflows;
	enum gro_mode mode;
	int verify;                     /* software TCP checksum check before GRO */
	int32_t *tb, *tg;               /* ns of each baseline, GRO burst */
	int32_t *td;                    /* tg - tb (bench_pairs_summary) */
	size_t n;
	uint64_t in, out, bad;
};

/* Tables for the burst modes (on the stack of each call) and the ctx. */
static const struct rte_gro_param gro_param = {
	.gro_types = RTE_GRO_TCP_IPV4,
	.max_flow_num = BENCH_CTX_FLOWS,
	.max_item_per_flow = BENCH_CTX_ITEMS,
	.socket_id = 0,
};

static struct rte_mempool *mb_pool, *big_pool, *ind_pool;
static struct bench_flow *flows;
static volatile uint64_t sink;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "bench/dpdk: %s\n", what);
	exit(1);
}

/* The same flows as bench/engine's flows_init(). */
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
 * The next frame of flow @f into mbuf @m: the template with sequence
 * number and IP ID advanced (checksums updated incrementally), then the
 * software header parse that gives GRO its packet_type and lengths.
 */
static void next_frame(struct rte_mbuf *m, struct bench_flow *f)
{
	struct rte_net_hdr_lens hl;
	uint32_t seq = f->seq + BENCH_MSS;
	uint16_t id = (uint16_t)(f->id + 1), c;
	uint8_t *d, *ip, *th;

	d = rte_pktmbuf_mtod(m, uint8_t *);
	memcpy(d, f->frame, f->len);
	m->data_len = (uint16_t)f->len;
	m->pkt_len = f->len;
	ip = d + 14;
	th = ip + 20;
	c = get_be16(ip + 10);
	put_be16(ip + 10, csum_replace16(c, get_be16(ip + 4), id));
	put_be16(ip + 4, id);
	c = get_be16(th + 16);
	c = csum_replace16(c, get_be16(th + 4), (uint16_t)(seq >> 16));
	c = csum_replace16(c, get_be16(th + 6), (uint16_t)seq);
	put_be16(th + 16, c);
	put_be32(th + 4, seq);
	memcpy(f->frame, d, 14 + 20 + 20);
	f->seq = seq;
	f->id = id;

	m->packet_type = rte_net_get_ptype(m, &hl, RTE_PTYPE_L2_MASK |
					   RTE_PTYPE_L3_MASK | RTE_PTYPE_L4_MASK);
	m->l2_len = hl.l2_len;
	m->l3_len = hl.l3_len;
	m->l4_len = hl.l4_len;
}

/* Software TCP checksum check; returns the frames kept (bad ones freed). */
static uint16_t verify_burst(struct rte_mbuf **m, uint16_t n, uint64_t *bad)
{
	const struct rte_ipv4_hdr *ip;
	uint16_t i, k = 0;

	for (i = 0; i < n; i++) {
		ip = rte_pktmbuf_mtod_offset(m[i], const struct rte_ipv4_hdr *,
					     m[i]->l2_len);
		if (rte_ipv4_udptcp_cksum_verify(ip, (const uint8_t *)ip +
						 m[i]->l3_len)) {
			rte_pktmbuf_free(m[i]);
			(*bad)++;
			continue;
		}
		m[k++] = m[i];
	}
	return k;
}

/*
 * What an application adds so that an aggregate can go to a TSO port:
 * IPv4 header checksum, TCP pseudo-header sum, TSO flags and the MSS.
 */
static void fix_aggregates(struct rte_mbuf **m, uint16_t n)
{
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;
	uint16_t i;

	for (i = 0; i < n; i++) {
		if (m[i]->nb_segs < 2)
			continue;
		ip = rte_pktmbuf_mtod_offset(m[i], struct rte_ipv4_hdr *,
					     m[i]->l2_len);
		th = (struct rte_tcp_hdr *)((uint8_t *)ip + m[i]->l3_len);
		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		m[i]->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_TCP_SEG;
		m[i]->tso_segsz = BENCH_MSS;
		th->cksum = rte_ipv4_phdr_cksum(ip, m[i]->ol_flags);
	}
}

/*
 * A burst of BENCH_BATCH mbufs from the pool, filled with the next frames
 * of the stream at flow *@j (flow j % @nflows for the j-th frame).
 */
static void fill_burst(struct rte_mbuf **m, uint32_t nflows, uint32_t *j)
{
	uint32_t k;

	if (rte_pktmbuf_alloc_bulk(mb_pool, m, BENCH_BATCH))
		die("mbuf pool empty");
	for (k = 0; k < BENCH_BATCH; k++) {
		next_frame(m[k], &flows[*j]);
		if (++*j == nflows)
			*j = 0;
	}
}

/* The baseline half of a pair: a burst filled, then all of it freed. */
static void batch_base(uint32_t nflows, uint32_t *j)
{
	struct rte_mbuf *m[BENCH_BATCH];

	fill_burst(m, nflows, j);
	sink += m[0]->l4_len;
	rte_pktmbuf_free_bulk(m, BENCH_BATCH);
}

/*
 * The GRO half: the same fill, the checksum check for "csum verified"
 * rows, GRO in row @r's mode (@ctx for MODE_CTX) and its flush, then the
 * outputs freed.  Counts packets into *@in and *@out.
 */
static void batch_gro(struct gro_row *r, void *ctx, uint32_t *j,
		      uint64_t *in, uint64_t *out)
{
	struct rte_mbuf *m[BENCH_BATCH], *fl[BENCH_BATCH];
	uint16_t n = BENCH_BATCH, nf;

	fill_burst(m, r->nflows, j);
	*in += BENCH_BATCH;
	if (r->verify)
		n = verify_burst(m, n, &r->bad);
	switch (r->mode) {
	case MODE_BURST:
	case MODE_BURST_FIX:
		n = rte_gro_reassemble_burst(m, n, &gro_param);
		if (r->mode == MODE_BURST_FIX)
			fix_aggregates(m, n);
		break;
	case MODE_CTX:
		n = rte_gro_reassemble(m, n, ctx);
		nf = rte_gro_timeout_flush(ctx, 0, RTE_GRO_TCP_IPV4, fl,
					   BENCH_BATCH);
		*out += nf;
		rte_pktmbuf_free_bulk(fl, nf);
		break;
	}
	*out += n;
	rte_pktmbuf_free_bulk(m, n);
}

/*
 * One slice of row @r, as bench/engine's gro_slice(): a fresh context
 * (ctx mode) and fresh flows, BENCH_WARM_PAIRS pairs not counted, then
 * timed pairs (a baseline burst, then a GRO burst, each timed on its own)
 * for BENCH_GRO_NS / BENCH_ROUNDS.  Both halves take their mbufs from the
 * same pool and copy from the same flow templates; the baseline's stream
 * starts half way through the flows (see bench/README).
 */
static void gro_slice(struct gro_row *r)
{
	uint64_t t0, t1, t2, start, in = 0, out = 0;
	uint32_t jg = 0, jb = r->nflows / 2;
	void *ctx = NULL;
	size_t i;

	flows_init(r->nflows);
	if (r->mode == MODE_CTX) {
		ctx = rte_gro_ctx_create(&gro_param);
		if (!ctx)
			die("rte_gro_ctx_create failed");
	}
	for (i = 0; i < BENCH_WARM_PAIRS; i++) {
		batch_base(r->nflows, &jb);
		batch_gro(r, ctx, &jg, &in, &out);
	}
	in = out = 0;
	start = now_ns();
	while (r->n < BENCH_MAX_PAIRS) {
		t0 = now_ns();
		batch_base(r->nflows, &jb);
		t1 = now_ns();
		batch_gro(r, ctx, &jg, &in, &out);
		t2 = now_ns();
		r->tb[r->n] = (int32_t)(t1 - t0);
		r->tg[r->n] = (int32_t)(t2 - t1);
		r->n++;
		if (t2 - start >= BENCH_GRO_NS / BENCH_ROUNDS)
			break;
	}
	if (ctx)
		rte_gro_ctx_destroy(ctx);
	if (r->bad)
		die("a frame failed the TCP checksum check");
	r->in += in;
	r->out += out;
}

static struct rte_mbuf *gso_input(int chained)
{
	static uint8_t frame[14 + 20 + 20 + BENCH_GSO_PAY];
	struct frame_spec s;
	struct rte_mbuf *head, *m;
	size_t len, off, chunk;

	frame_spec_init(&s, 0, 6);
	s.pay_len = BENCH_GSO_PAY;
	len = frame_build(&s, frame, sizeof(frame));
	if (!len)
		die("cannot build the super-packet");
	/* linear: one buffer; chained: headers + 1448 bytes, then 1448 per mbuf */
	head = NULL;
	chunk = chained ? 14 + 20 + 20 + BENCH_MSS : len;
	for (off = 0; off < len; off += chunk) {
		if (off)
			chunk = BENCH_MSS;
		m = rte_pktmbuf_alloc(chained ? mb_pool : big_pool);
		if (!m || !rte_pktmbuf_append(m, (uint16_t)chunk))
			die("cannot allocate the super-packet");
		memcpy(rte_pktmbuf_mtod(m, uint8_t *), frame + off, chunk);
		if (!head)
			head = m;
		else if (rte_pktmbuf_chain(head, m))
			die("cannot chain the super-packet");
	}
	if (!head || head->pkt_len != len)
		die("super-packet has the wrong length");
	head->l2_len = 14;
	head->l3_len = 20;
	head->l4_len = 20;
	head->packet_type = RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4 |
			    RTE_PTYPE_L4_TCP;
	head->tso_segsz = BENCH_MSS;
	return head;
}

static void gso_seg_csum(struct rte_mbuf *m, enum gso_work work)
{
	struct rte_ipv4_hdr *ip;
	struct rte_tcp_hdr *th;

	ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, m->l2_len);
	th = (struct rte_tcp_hdr *)((uint8_t *)ip + m->l3_len);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	if (work == GSO_SEG_HDR) {
		th->cksum = rte_ipv4_phdr_cksum(ip, 0);
	} else {
		th->cksum = 0;
		th->cksum = rte_ipv4_udptcp_cksum_mbuf(m, ip, m->l2_len +
						       m->l3_len);
	}
}

/* Compare segment @i, checksums completed, with the frame it should be. */
static void gso_check(struct rte_mbuf *m, uint32_t i)
{
	static uint8_t want[BENCH_FRAME], got[BENCH_FRAME];
	struct frame_spec s;
	const void *p;
	size_t len;

	frame_spec_init(&s, 0, 6);
	s.pay_len = BENCH_MSS;
	s.seq += i * BENCH_MSS;
	s.ipid = (uint16_t)(s.ipid + i);
	s.pay_stream_off = i * BENCH_MSS;
	len = frame_build(&s, want, sizeof(want));
	if (m->pkt_len != len)
		die("GSO segment has the wrong length");
	gso_seg_csum(m, GSO_SEG_SW);
	p = rte_pktmbuf_read(m, 0, (uint32_t)len, got);
	if (!p || memcmp(p, want, len))
		die("GSO segment differs from the expected frame");
}

/* Returns ns per output segment. */
static double run_gso(int chained, enum gso_work work)
{
	struct rte_gso_ctx g = {
		.direct_pool = mb_pool,
		.indirect_pool = ind_pool,
		.flag = 0,
		.gso_types = RTE_ETH_TX_OFFLOAD_TCP_TSO,
		.gso_size = BENCH_FRAME,
	};
	struct rte_mbuf *pkt, *out[64];
	uint64_t t0, el, nsegs = 0, iters = 0;
	int i, r;

	pkt = gso_input(chained);
	t0 = now_ns();
	do {
		pkt->ol_flags = RTE_MBUF_F_TX_TCP_SEG | RTE_MBUF_F_TX_IPV4 |
				RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_TCP_CKSUM;
		r = rte_gso_segment(pkt, &g, out, 64);
		if (r != BENCH_GSO_SEGS) {
			fprintf(stderr, "bench/dpdk: rte_gso_segment: %d\n", r);
			exit(1);
		}
		if (!iters++)
			for (i = 0; i < r; i++)
				gso_check(out[i], (uint32_t)i);
		else if (work != GSO_SEG)
			for (i = 0; i < r; i++)
				gso_seg_csum(out[i], work);
		sink += out[r - 1]->pkt_len;
		rte_pktmbuf_free_bulk(out, (unsigned int)r);
		nsegs += (uint64_t)r;
		el = now_ns() - t0;
	} while (el < BENCH_MIN_NS);
	if (rte_mbuf_refcnt_read(pkt) != 1)
		die("super-packet still referenced after freeing the segments");
	rte_pktmbuf_free(pkt);
	return (double)el / (double)nsegs;
}

/* Where EAL puts its runtime directory for this user, as EAL decides it. */
static void eal_run_base(char *out, size_t cap)
{
	const char *x = getenv("XDG_RUNTIME_DIR");

	if (getuid() == 0)
		snprintf(out, cap, "/var/run/dpdk");
	else
		snprintf(out, cap, "%s/dpdk", x ? x : "/tmp");
}

/* Remove the runtime directory EAL made (and its parent if we made it). */
static void eal_rundir_remove(const char *dir, const char *base, int base_existed)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d;

	d = opendir(dir);
	if (d) {
		while ((e = readdir(d))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			unlink(path);
		}
		closedir(d);
		rmdir(dir);
	}
	if (!base_existed)
		rmdir(base);
}

static void print_gro_row(struct gro_row *r)
{
	char row[64], q[32];
	double total, base, gro[3];

	bench_pairs_summary(r->tb, r->tg, r->td, r->n, BENCH_BATCH, &total,
			    &base, gro);
	snprintf(row, sizeof(row), "gro %4u flow%s csum %s", r->nflows,
		 r->nflows > 1 ? "s" : " ", r->verify ? "verified" : "valid");
	snprintf(q, sizeof(q), "%.1f..%.1f", gro[0], gro[2]);
	/* the same columns as bench/engine's after the mode: bench/compare.sh
	 * reads them by position */
	printf("%-34s %-9s %7.1f ns %7.1f ns %7.1f ns %7.1f %13s\n", row,
	       mode_names[r->mode], total, base, gro[1],
	       r->out ? (double)r->in / (double)r->out : 0, q);
	fflush(stdout);
}

static void print_notes(void)
{
	printf("\nWhat each row does (%s):\n"
	       "  base       baseline burst: rte_pktmbuf_alloc_bulk(64) + memcpy of the\n"
	       "             frame into the mbuf + seq/ID patch + rte_net_get_ptype (sets\n"
	       "             packet_type, l2/l3/l4_len, which GRO needs), then\n"
	       "             rte_pktmbuf_free_bulk of all 64.  Median burst, per packet.\n"
	       "  total      GRO burst: the same alloc and fill + GRO + flush + freeing\n"
	       "             the outputs.  Median burst, per packet.\n"
	       "  gro        median of (GRO burst - baseline burst) over the pairs, each\n"
	       "             burst timed on its own, the two alternating (as bench/engine);\n"
	       "             not total - base.  q1..q3: quartiles of those differences.\n"
	       "  burst      rte_gro_reassemble_burst() per 64-frame burst (tables on\n"
	       "             the stack, flushed before it returns), outputs freed.\n"
	       "  burst+fix  burst + what an application must add to send an aggregate\n"
	       "             to a TSO port: IPv4 header checksum, TCP pseudo-header sum,\n"
	       "             TX_TCP_SEG + tso_segsz (the library leaves the IPv4 and TCP\n"
	       "             checksums stale and records no MSS).\n"
	       "  ctx        rte_gro_reassemble() per burst into a context (%u flows x\n"
	       "             %u items) + rte_gro_timeout_flush(ctx, 0) after each burst.\n"
	       "  csum valid     librte_gro never reads or checks a checksum: GRO only.\n"
	       "  csum verified  the application checks every TCP checksum with\n"
	       "             rte_ipv4_udptcp_cksum_verify() before GRO (counted in gro).\n"
	       "  in/out     packets in / packets out.  22.11 merges ACK-only segments\n"
	       "             (no PSH/FIN), checks no TTL/TOS, and chains mbufs (payload\n"
	       "             not copied).  At 256 and 4096 flows no 64-frame burst holds\n"
	       "             two frames of one flow, so nothing can merge.\n"
	       "  gso        rte_gso_segment(), gso_size %d (MSS %d + 54 bytes of\n"
	       "             headers), direct pool + indirect pool (data room 0): each\n"
	       "             segment is a header mbuf + an indirect mbuf into the input;\n"
	       "             it rewrites IPv4 total length and ID and TCP seq/flags and\n"
	       "             computes no checksum.  Freeing the 45 segments is timed.\n"
	       "    offload  rte_gso_segment only (checksums left to the NIC).\n"
	       "    +hdr     + per segment IPv4 header checksum and TCP pseudo-header\n"
	       "             sum, the state grogso's offload segments are in.\n"
	       "    sw       + per segment IPv4 header checksum and full TCP checksum\n"
	       "             (rte_ipv4_udptcp_cksum_mbuf over the 2-mbuf segment).\n"
	       "    linear   input is one 65214-byte mbuf (as bench/engine's);\n"
	       "    chain    input is a 45-mbuf chain (what librte_gro produces).\n"
	       "  The segments of each row's first GSO call are checked byte for\n"
	       "  byte against frame_build() (headers, payload, checksums); that\n"
	       "  call is timed with the rest, the check in place of its checksum\n"
	       "  work: one call among thousands.\n",
	       rte_version(), BENCH_CTX_FLOWS, BENCH_CTX_ITEMS, BENCH_FRAME,
	       BENCH_MSS);
}

int main(void)
{
	static const uint32_t nflows[] = { 1, 16, 256, 4096 };
	static const enum gro_mode modes[] = { MODE_BURST, MODE_BURST_FIX,
					       MODE_CTX };
	char prefix[64], base_dir[PATH_MAX], run_dir[PATH_MAX], cpu[128];
	char *eal_argv[16];
	static struct gro_row rows[24];
	struct gro_row *r;
	struct stat st;
	int eal_argc = 0, v, base_existed;
	size_t i, k, nrows = 0, round;

	snprintf(prefix, sizeof(prefix), "--file-prefix=grogso-bench-%d",
		 (int)getpid());
	eal_argv[eal_argc++] = "bench/dpdk";
	eal_argv[eal_argc++] = "--no-huge";
	eal_argv[eal_argc++] = "--no-pci";
	eal_argv[eal_argc++] = "--no-shconf";
	eal_argv[eal_argc++] = "-m";
	eal_argv[eal_argc++] = "256";
	eal_argv[eal_argc++] = "-l";
	eal_argv[eal_argc++] = "0";
	eal_argv[eal_argc++] = "--no-telemetry";
	eal_argv[eal_argc++] = "--log-level=lib.eal:error";
	eal_argv[eal_argc++] = prefix;
	eal_argv[eal_argc] = NULL;

	bench_cpu_model(cpu, sizeof(cpu));
	printf("DPDK librte_gro/librte_gso benchmark (%s)\ncpu: %s\nEAL:",
	       rte_version(), cpu);
	for (v = 1; v < eal_argc; v++)
		printf(" %s", eal_argv[v]);
	printf("\n");
	fflush(stdout);

	eal_run_base(base_dir, sizeof(base_dir));
	base_existed = stat(base_dir, &st) == 0;
	if (rte_eal_init(eal_argc, eal_argv) < 0) {
		fprintf(stderr, "bench/dpdk: rte_eal_init: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	snprintf(run_dir, sizeof(run_dir), "%s", rte_eal_get_runtime_dir());

	mb_pool = rte_pktmbuf_pool_create("bench_mb", BENCH_MBUFS, 256, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	big_pool = rte_pktmbuf_pool_create("bench_big", 3, 0, 0, UINT16_MAX, 0);
	ind_pool = rte_pktmbuf_pool_create("bench_ind", BENCH_MBUFS, 256, 0, 0, 0);
	flows = calloc(4096, sizeof(*flows));
	if (!mb_pool || !big_pool || !ind_pool || !flows)
		die("out of memory (mempools)");

	for (v = 0; v < 2; v++) {
		for (i = 0; i < sizeof(nflows) / sizeof(nflows[0]); i++) {
			for (k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
				r = &rows[nrows++];
				r->nflows = nflows[i];
				r->mode = modes[k];
				r->verify = v;
				r->tb = calloc(BENCH_MAX_PAIRS, sizeof(*r->tb));
				r->tg = calloc(BENCH_MAX_PAIRS, sizeof(*r->tg));
				r->td = calloc(BENCH_MAX_PAIRS, sizeof(*r->td));
				if (!r->tb || !r->tg || !r->td)
					die("out of memory");
			}
		}
	}
	printf("GRO: TCP/IPv4, MSS %d, bursts of %d frames, flushed after each burst;\n"
	       "     base = mbuf alloc + copy + seq/ID patch + rte_net_get_ptype + free\n"
	       "     baseline and GRO bursts alternate, each timed; ns/packet:\n"
	       "     total, base = median burst; gro = median of (GRO - baseline)\n"
	       "     per pair, q1..q3 its quartiles\n\n", BENCH_MSS, BENCH_BATCH);
	fflush(stdout);

	/* the rows take turns, as bench/engine's do */
	for (round = 0; round < BENCH_ROUNDS; round++)
		for (i = 0; i < nrows; i++)
			gro_slice(&rows[i]);

	printf("%-34s %-9s %10s %10s %10s %7s %13s\n", "row", "mode", "total",
	       "base", "gro", "in/out", "gro q1..q3");
	for (i = 0; i < nrows; i++) {
		print_gro_row(&rows[i]);
		free(rows[i].tb);
		free(rows[i].tg);
		free(rows[i].td);
	}

	printf("\n%-34s %-9s %10s\n", "row", "mode", "value");
	printf("%-34s %-9s %7.1f ns\n", "gso 64KB tcp4 mss 1448 offload",
	       "linear", run_gso(0, GSO_SEG));
	printf("%-34s %-9s %7.1f ns\n", "gso 64KB tcp4 mss 1448 offload",
	       "lin+hdr", run_gso(0, GSO_SEG_HDR));
	printf("%-34s %-9s %7.1f ns\n", "gso 64KB tcp4 mss 1448 sw csum",
	       "linear", run_gso(0, GSO_SEG_SW));
	printf("%-34s %-9s %7.1f ns\n", "gso 64KB tcp4 mss 1448 offload",
	       "chain", run_gso(1, GSO_SEG));
	printf("%-34s %-9s %7.1f ns\n", "gso 64KB tcp4 mss 1448 offload",
	       "chain+hdr", run_gso(1, GSO_SEG_HDR));
	printf("%-34s %-9s %7.1f ns\n", "gso 64KB tcp4 mss 1448 sw csum",
	       "chain", run_gso(1, GSO_SEG_SW));
	print_notes();

	free(flows);
	rte_mempool_free(ind_pool);
	rte_mempool_free(big_pool);
	rte_mempool_free(mb_pool);
	rte_eal_cleanup();
	eal_rundir_remove(run_dir, base_dir, base_existed);
	return 0;
}
