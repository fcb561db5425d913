/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * GRO engine tests: every case of the Linux GRO selftest table with the
 * 6.18 expectations (as lists of payload sizes, like the selftest's
 * receiver), the UDP rules, the lab notes' IPv4 ID scenario, and the
 * exact bytes of finished super-packets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "grogso/csum.h"
#include "grogso/gro.h"
#include "grogso/pkt.h"
#include "grogso/stats.h"
#include "grogso/vnet.h"
#include "frames.h"

#define POOL_PKTS 512
#define SINK_MAX 1024
#define P 100                           /* the selftest's PAYLOAD_LEN */
#define NOL4 0xffffffffu                /* emitted packet without TCP/UDP payload view */

struct sink {
	struct pkt *p[SINK_MAX];
	uint16_t frags[SINK_MAX];       /* fragments it came with */
	unsigned int n;
	int keep_chain;                 /* leave aggregates as GRO emitted them */
};

static struct pkt_pool pool;
static struct stats_port st;
static struct sink sink;
static struct gro_table *gt;
static struct gro_config gcfg;
static uint64_t now;

/* The chain of @p is consistent: counts and byte totals agree. */
static void assert_chain(const struct pkt *p)
{
	const struct pkt *f;
	uint32_t bytes = 0, n = 0;

	for (f = p->frag_first; f; f = f->frag_next) {
		assert_true(f->len > 0);
		bytes += f->len;
		n++;
		if (!f->frag_next)
			assert_ptr_equal(f, p->frag_last);
	}
	assert_int_equal(n, p->frag_count);
	assert_int_equal(bytes, p->frag_bytes);
	if (!n)
		assert_null(p->frag_last);
}

/*
 * Keep what GRO emits.  Aggregates come as a head and a chain of
 * fragments; the checks below look at whole frames, so the chain is
 * recorded and then made linear (keep_chain leaves it for the tests of
 * the chain itself).
 */
static void collect(void *ctx, struct pkt *p)
{
	struct sink *s = ctx;

	assert_true(s->n < SINK_MAX);
	assert_chain(p);
	/* a packet GRO did not merge is always linear */
	if (p->agg.segs < 2)
		assert_null(p->frag_first);
	s->frags[s->n] = p->frag_count;
	if (!s->keep_chain)
		assert_int_equal(pkt_linearize(p, &pool), 0);
	s->p[s->n++] = p;
}

static void sink_clear(void)
{
	unsigned int i;

	for (i = 0; i < sink.n; i++)
		pkt_free(&pool, sink.p[i]);
	sink.n = 0;
}

static void table_open(const struct gro_config *cfg)
{
	if (gt)
		gro_destroy(gt);
	gcfg = *cfg;
	gt = gro_create(&gcfg, &pool, &st, collect, &sink);
	assert_non_null(gt);
}

static int setup(void **state)
{
	struct gro_config cfg;

	(void)state;
	if (pkt_pool_init(&pool, POOL_PKTS))
		return -1;
	memset(&st, 0, sizeof(st));
	sink.n = 0;
	sink.keep_chain = 0;
	now = 1000;
	gt = NULL;
	gro_config_default(&cfg);
	table_open(&cfg);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	gro_flush_all(gt, FLUSH_EXIT);
	sink_clear();
	gro_destroy(gt);
	gt = NULL;
	/* every buffer came back: nothing leaked, nothing freed twice */
	assert_int_equal(pool.nfree, pool.count);
	pkt_pool_destroy(&pool);
	return 0;
}

/* ---- sending ---- */

static void send_spec(const struct frame_spec *s)
{
	struct pkt *p = frame_pkt(&pool, s);

	assert_non_null(p);
	gro_receive(gt, p, now++);
}

static struct frame_spec tcp_spec(int v6)
{
	struct frame_spec s;

	frame_spec_init(&s, v6, IPPROTO_TCP_);
	return s;
}

static struct frame_spec udp_spec(int v6)
{
	struct frame_spec s;

	frame_spec_init(&s, v6, IPPROTO_UDP_);
	return s;
}

/* Send @len bytes at stream offset @off; the IPv4 ID advances per send,
 * as a connected Linux socket's would. */
static void tcp_send(struct frame_spec *s, uint32_t off, uint32_t len)
{
	s->seq = 1000 + off;
	s->pay_stream_off = off;
	s->pay_len = len;
	send_spec(s);
	s->ipid++;
}

static void tcp_send_flags(struct frame_spec *s, uint32_t off, uint32_t len,
			   uint8_t flags)
{
	uint8_t old = s->tcp_flags;

	s->tcp_flags = flags;
	tcp_send(s, off, len);
	s->tcp_flags = old;
}

/* The selftest ends every case with a bare FIN, then the batch ends. */
static void tcp_finish(struct frame_spec *s, uint32_t off)
{
	tcp_send_flags(s, off, 0, TCP_ACK | TCP_FIN);
	gro_flush_all(gt, FLUSH_BATCH);
}

static void udp_send(struct frame_spec *s, uint32_t len)
{
	s->pay_len = len;
	send_spec(s);
	s->pay_stream_off += len;
	s->ipid++;
}

/* ---- checking ---- */

static uint32_t emitted_payload(const struct pkt *p)
{
	if (!p->pay_off)
		return NOL4;
	/* the header must describe exactly the bytes in the frame */
	assert_int_equal(p->l3_off + pkt_ip_len(p), pkt_frame_len(p));
	return pkt_payload_len(p);
}

static void expect_sizes(const uint32_t *exp, unsigned int n)
{
	char got[2048];
	size_t o = 0;
	unsigned int i;
	int ok = sink.n == n;

	for (i = 0; i < sink.n; i++) {
		uint32_t v = emitted_payload(sink.p[i]);

		if (i < n && v != exp[i])
			ok = 0;
		if (o < sizeof(got) - 16)
			o += (size_t)snprintf(got + o, sizeof(got) - o, "%s%d",
					      i ? "," : "", (int)v);
	}
	if (!ok) {
		print_error("emitted [%s], expected %u packets\n", got, n);
		fail();
	}
}

#define EXPECT(...)                                                     \
	expect_sizes((const uint32_t[]){ __VA_ARGS__ },                 \
		     (unsigned int)(sizeof((const uint32_t[]){ __VA_ARGS__ }) / \
				    sizeof(uint32_t)))

/* Payload of @p is stream bytes [@off, @off + len) of @seed. */
static void assert_stream(const struct pkt *p, uint32_t off, uint8_t seed)
{
	uint32_t i, len = pkt_payload_len(p);

	for (i = 0; i < len; i++)
		if (p->data[p->pay_off + i] != frame_pay_byte(off + i, seed))
			fail_msg("payload byte %u differs", i);
}

/* A packet GRO did not merge is the frame that came in, byte for byte. */
static void assert_frame(const struct pkt *p, const struct frame_spec *s)
{
	static uint8_t want[PKT_DATA_MAX];
	size_t len = frame_build(s, want, sizeof(want));

	assert_int_equal(p->len, len);
	assert_memory_equal(p->data, want, len);
	assert_int_equal(p->agg.segs, 1);
	assert_int_equal(p->gso_size, 0);
}

/* The folded pseudo-header sum Linux leaves for CHECKSUM_PARTIAL,
 * computed here without csum.c. */
static uint16_t pseudo_fold(const struct pkt *p)
{
	const uint8_t *ip = p->data + p->l3_off;
	uint32_t l4len = p->len - p->l4_off;
	uint32_t s;

	if (p->l3 == PKT_L3_IPV4)
		s = (uint16_t)~frame_csum(ip + 12, 8, 0);
	else
		s = (uint16_t)~frame_csum(ip + 8, 32, 0);
	s += p->l4_proto + (l4len >> 16) + (l4len & 0xffff);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/*
 * @p carries the pseudo-header sum in its L4 checksum field, and
 * completing it the way a NIC would gives a valid checksum.
 */
static void assert_partial_completes(const struct pkt *p)
{
	static uint8_t l4c[PKT_DATA_MAX];
	uint32_t l4len = p->len - p->l4_off;
	size_t field = p->l4_proto == IPPROTO_TCP_ ? 16 : 6;

	assert_int_equal(p->csum, PKT_CSUM_PARTIAL);
	assert_int_equal(get_be16(p->data + p->l4_off + field), pseudo_fold(p));
	/* a NIC sums from the L4 header to the end over the stored field */
	memcpy(l4c, p->data + p->l4_off, l4len);
	put_be16(l4c + field, frame_csum(p->data + p->l4_off, l4len, 0));
	assert_int_equal(frame_csum(l4c, l4len, pseudo_fold(p)), 0);
}

/* ==== the Linux GRO selftest table (6.18) ==== */

static void data_same(int v6)
{
	struct frame_spec s = tcp_spec(v6);

	tcp_send(&s, 0, P);
	tcp_send(&s, P, P);
	tcp_finish(&s, 2 * P);
	EXPECT(2 * P, 0);
	assert_stream(sink.p[0], 0, 0);
	assert_int_equal(sink.p[0]->agg.segs, 2);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_PASS);
}

static void data_lrg_sml(int v6)
{
	struct frame_spec s = tcp_spec(v6);

	tcp_send(&s, 0, P);
	tcp_send(&s, P, P / 2);
	tcp_finish(&s, P + P / 2);
	EXPECT(P + P / 2, 0);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_SHORT);
	assert_int_equal(sink.p[0]->gso_size, P);
}

static void data_lrg_1byte(int v6)
{
	struct frame_spec s = tcp_spec(v6);

	tcp_send(&s, 0, P);
	tcp_send(&s, P, 1);
	tcp_finish(&s, P + 1);
	EXPECT(P + 1, 0);
	assert_stream(sink.p[0], 0, 0);
}

static void data_sml_lrg(int v6)
{
	struct frame_spec s = tcp_spec(v6);

	tcp_send(&s, 0, P / 2);
	tcp_send(&s, P / 2, P);
	tcp_finish(&s, P / 2 + P);
	EXPECT(P / 2, P, 0);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_LEN);
}

static void data_burst(int v6)
{
	struct frame_spec s = tcp_spec(v6);

	tcp_send(&s, 0, P);
	tcp_send(&s, P, P);
	/* the selftest's 100 ms gap: the batch (or the hold timer) ends */
	gro_flush_all(gt, FLUSH_BATCH);
	tcp_send(&s, 2 * P, P);
	tcp_send(&s, 3 * P, P);
	tcp_finish(&s, 4 * P);
	EXPECT(2 * P, 2 * P, 0);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_BATCH);
}

static void ack(int v6)
{
	struct frame_spec s = tcp_spec(v6);

	tcp_send(&s, 0, 0);
	tcp_send(&s, 0, 0);
	s.ack++;
	tcp_send(&s, 0, 0);
	tcp_finish(&s, 0);
	EXPECT(0, 0, 0, 0);
	assert_int_equal(st.pass[PASS_TCP_EMPTY], 4);
	assert_int_equal(gro_held(gt), 0);
}

static void flags_psh(int v6)
{
	struct frame_spec s = tcp_spec(v6);

	tcp_send(&s, 0, P);
	tcp_send(&s, P, P);
	tcp_send_flags(&s, 2 * P, P, TCP_ACK | TCP_PSH);
	tcp_send(&s, 3 * P, P);
	tcp_send(&s, 4 * P, P);
	tcp_finish(&s, 5 * P);
	EXPECT(3 * P, 2 * P, 0);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_PSH);
	/* PSH of the merged segment is ORed into the super-packet */
	assert_true(sink.p[0]->data[sink.p[0]->l4_off + 13] & TCP_PSH);
	assert_false(sink.p[1]->data[sink.p[1]->l4_off + 13] & TCP_PSH);
}

/* P, P, a bare SYN/RST/URG segment, P, P: [2P, 0, 2P] */
static void flags_one(int v6, uint8_t flag)
{
	struct frame_spec s = tcp_spec(v6);

	tcp_send(&s, 0, P);
	tcp_send(&s, P, P);
	tcp_send_flags(&s, 2 * P, 0, (uint8_t)(TCP_ACK | flag));
	tcp_send(&s, 2 * P, P);
	tcp_send(&s, 3 * P, P);
	tcp_finish(&s, 4 * P);
	EXPECT(2 * P, 0, 2 * P, 0);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_PASS);
	assert_int_equal(st.pass[PASS_TCP_FLAGS], 1);
}

static void flags_syn(int v6)
{
	flags_one(v6, TCP_SYN);
}

static void flags_rst(int v6)
{
	flags_one(v6, TCP_RST);
}

static void flags_urg(int v6)
{
	flags_one(v6, TCP_URG);
}

static void flags_cwr(int v6)
{
	struct frame_spec s = tcp_spec(v6);

	tcp_send(&s, 0, P);
	tcp_send_flags(&s, P, P, TCP_ACK | TCP_CWR);
	tcp_send_flags(&s, 2 * P, P, TCP_ACK | TCP_CWR);
	tcp_send(&s, 3 * P, P);
	tcp_send(&s, 4 * P, P);
	tcp_finish(&s, 5 * P);
	/* 6.18: a CWR segment flushes and goes alone */
	EXPECT(P, P, P, 2 * P, 0);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_CWR);
	assert_int_equal(st.flush[FLUSH_CWR], 1);
	assert_int_equal(st.pass[PASS_TCP_FLAGS], 2);
}

static void tcp_csum(int v6)
{
	struct frame_spec s = tcp_spec(v6);

	tcp_send(&s, 0, P);
	s.bad_l4_csum = 1;
	tcp_send(&s, P, P);
	s.bad_l4_csum = 0;
	tcp_finish(&s, 2 * P);
	/* stricter than Linux: the held segment goes first */
	EXPECT(P, P, 0);
	assert_int_equal(st.pass[PASS_L4_CSUM], 1);
	assert_int_equal(sink.p[1]->csum, PKT_CSUM_BAD);
}

static void tcp_seq(int v6)
{
	struct frame_spec s = tcp_spec(v6);

	tcp_send(&s, 0, P);
	tcp_send(&s, P + 1, P);
	tcp_finish(&s, 2 * P + 1);
	EXPECT(P, P, 0);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_SEQ);
}

static const uint8_t ts0[12] = { 1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0 };
static const uint8_t ts100[12] = { 1, 1, 8, 10, 0, 0, 0, 100, 0, 0, 0, 0 };
/* the same option laid out differently: TS first, NOPs after */
static const uint8_t ts100_late_nop[12] = { 8, 10, 0, 0, 0, 100, 0, 0, 0, 0, 1, 1 };
static const uint8_t ts100_mid_nop[12] = { 1, 8, 10, 0, 0, 0, 100, 0, 0, 0, 0, 1 };

static void tcp_ts(int v6)
{
	struct frame_spec s = tcp_spec(v6);

	s.tcp_opts_len = 12;
	s.tcp_opts = ts0;
	tcp_send(&s, 0, P);
	tcp_send(&s, P, P);
	s.tcp_opts = ts100;
	tcp_send(&s, 2 * P, P);
	s.tcp_opts = ts100_late_nop;
	tcp_send(&s, 3 * P, P);
	s.tcp_opts = ts100_mid_nop;
	tcp_send(&s, 4 * P, P);
	tcp_finish(&s, 5 * P);
	EXPECT(2 * P, P, P, P, 0);
	assert_int_equal(sink.p[1]->agg.flush, FLUSH_OPTS);
	assert_int_equal(sink.p[2]->agg.flush, FLUSH_OPTS);
}

static void tcp_opt(int v6)
{
	static const uint8_t wscale[4] = { 1, 3, 3, 7 };
	struct frame_spec s = tcp_spec(v6);

	s.tcp_opts_len = 12;
	s.tcp_opts = ts0;
	tcp_send(&s, 0, P);
	tcp_send(&s, P, P);
	s.tcp_opts_len = 4;
	s.tcp_opts = wscale;
	tcp_send(&s, 2 * P, P);
	tcp_finish(&s, 3 * P);
	EXPECT(2 * P, P, 0);
	/* a different data offset is a different 4th header word */
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_FLAGS);
}

static void ip_ecn(int v6)
{
	struct frame_spec s = tcp_spec(v6);

	tcp_send(&s, 0, P);
	s.tos = 0x01;
	tcp_send(&s, P, P);
	tcp_finish(&s, 2 * P);
	EXPECT(P, P, 0);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_TOS);
}

static void ip_tos(int v6)
{
	struct frame_spec s = tcp_spec(v6);

	tcp_send(&s, 0, P);
	s.tos = v6 ? 0xf0 : 0x04;
	tcp_send(&s, P, P);
	tcp_finish(&s, 2 * P);
	EXPECT(P, P, 0);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_TOS);
}

static void ip_ttl(int v6)
{
	struct frame_spec s = tcp_spec(v6);

	tcp_send(&s, 0, P);
	s.ttl = 7;
	tcp_send(&s, P, P);
	tcp_finish(&s, 2 * P);
	EXPECT(P, P, 0);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_TTL);
}

static void test_selftest_ip_opt(void **state)
{
	/* IPv4 timestamp option, padded to 12 bytes */
	static const uint8_t tsopt[12] = { 0x44, 12, 5, 0 };
	struct frame_spec s = tcp_spec(0);

	(void)state;
	tcp_send(&s, 0, P);
	s.ip_opts = tsopt;
	s.ip_opts_len = sizeof(tsopt);
	tcp_send(&s, P, P);
	s.ip_opts_len = 0;
	tcp_send(&s, 2 * P, P);
	tcp_finish(&s, 3 * P);
	EXPECT(P, P, P, 0);
	assert_int_equal(st.pass[PASS_IP_OPTS], 1);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_PASS);
}

static void test_selftest_ip_frag4(void **state)
{
	struct frame_spec s = tcp_spec(0);

	(void)state;
	tcp_send(&s, 0, P);
	s.frag = 0x2000;        /* MF */
	tcp_send(&s, P, P);
	s.frag = 0;
	tcp_finish(&s, 2 * P);
	EXPECT(P, P, 0);
	assert_int_equal(st.pass[PASS_IP_FRAG], 1);
}

static void test_selftest_ip_frag6(void **state)
{
	static const uint8_t fraghdr[8] = { 0, 0, 0, 1, 0, 0, 0, 42 };
	struct frame_spec s = tcp_spec(1);

	(void)state;
	tcp_send(&s, 0, P);
	tcp_send(&s, P, P);
	gro_flush_all(gt, FLUSH_BATCH); /* the selftest sleeps here */
	s.ext = fraghdr;
	s.ext_len = 8;
	s.ext_type = 44;
	tcp_send(&s, 2 * P, P);
	s.ext_len = 0;
	tcp_send(&s, 3 * P, P);
	tcp_finish(&s, 4 * P);
	EXPECT(2 * P, NOL4, P, 0);
	assert_int_equal(st.pass[PASS_IP_FRAG], 1);
}

/* IDs @a, @b[, @c] with or without DF */
static void ipid_case(int df, int n, const uint16_t *ids)
{
	struct frame_spec s = tcp_spec(0);
	int i;

	s.df = df;
	for (i = 0; i < n; i++) {
		s.ipid = ids[i];
		tcp_send(&s, (uint32_t)i * P, P);
	}
	s.ipid = (uint16_t)(ids[n - 1] + 1);
	tcp_finish(&s, (uint32_t)n * P);
}

static void test_selftest_ip_id_df1_inc(void **state)
{
	(void)state;
	ipid_case(1, 2, (const uint16_t[]){ 8, 9 });
	EXPECT(2 * P, 0);
	assert_int_equal(sink.p[0]->agg.ipid_mode, PKT_IPID_INC);
	assert_int_equal(sink.p[0]->agg.ipid_first, 8);
	assert_int_equal(sink.p[0]->agg.ipid_last, 9);
}

static void test_selftest_ip_id_df1_fixed(void **state)
{
	(void)state;
	ipid_case(1, 2, (const uint16_t[]){ 8, 8 });
	EXPECT(2 * P, 0);
	assert_int_equal(sink.p[0]->agg.ipid_mode, PKT_IPID_FIXED);
}

static void test_selftest_ip_id_df0_inc(void **state)
{
	(void)state;
	ipid_case(0, 2, (const uint16_t[]){ 8, 9 });
	EXPECT(2 * P, 0);
	assert_int_equal(sink.p[0]->agg.ipid_mode, PKT_IPID_INC);
}

static void test_selftest_ip_id_df0_fixed_merges_on_618(void **state)
{
	(void)state;
	ipid_case(0, 2, (const uint16_t[]){ 8, 8 });
	EXPECT(2 * P, 0);
	assert_int_equal(sink.p[0]->agg.ipid_mode, PKT_IPID_FIXED);
	assert_int_equal(get_be16(sink.p[0]->data + sink.p[0]->l3_off + 4), 8);
}

static void test_selftest_ip_id_df1_inc_fixed(void **state)
{
	(void)state;
	ipid_case(1, 3, (const uint16_t[]){ 8, 9, 9 });
	EXPECT(2 * P, P, 0);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_IPID);
	assert_int_equal(sink.p[1]->agg.ipid_mode, PKT_IPID_SINGLE);
}

static void test_selftest_ip_id_df1_fixed_inc(void **state)
{
	(void)state;
	ipid_case(1, 3, (const uint16_t[]){ 8, 8, 9 });
	EXPECT(2 * P, P, 0);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_IPID);
	assert_int_equal(sink.p[0]->agg.ipid_mode, PKT_IPID_FIXED);
}

static void test_ipid_wraps_mod_65536(void **state)
{
	(void)state;
	ipid_case(1, 3, (const uint16_t[]){ 0xfffe, 0xffff, 0 });
	EXPECT(3 * P, 0);
	assert_int_equal(sink.p[0]->agg.ipid_first, 0xfffe);
	assert_int_equal(sink.p[0]->agg.ipid_last, 0);
}

static void test_ipid_gap_ends_aggregate(void **state)
{
	(void)state;
	ipid_case(1, 3, (const uint16_t[]){ 1, 5, 9 });
	EXPECT(P, P, P, 0);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_IPID);
}

static void test_df_change_ends_aggregate(void **state)
{
	struct frame_spec s = tcp_spec(0);

	(void)state;
	tcp_send(&s, 0, P);
	s.df = 0;
	tcp_send(&s, P, P);
	tcp_finish(&s, 2 * P);
	EXPECT(P, P, 0);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_DF);
}

static const uint8_t dstopts_a[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };
static const uint8_t dstopts_b[8] = { 0, 0, 1, 4, 0, 0, 0, 1 };

static void test_selftest_ip_v6ext_same(void **state)
{
	struct frame_spec s = tcp_spec(1);

	(void)state;
	s.ext = dstopts_a;
	s.ext_len = 8;
	s.ext_type = 60;
	tcp_send(&s, 0, P);
	tcp_send(&s, P, P);
	tcp_finish(&s, 2 * P);
	EXPECT(2 * P, 0);
	/* the super-packet keeps the extension header in front of TCP */
	assert_int_equal(sink.p[0]->l4_off - sink.p[0]->l3_off, 48);
	assert_int_equal(get_be16(sink.p[0]->data + sink.p[0]->l3_off + 4),
			 8 + 20 + 2 * P);
	assert_partial_completes(sink.p[0]);
}

static void test_selftest_ip_v6ext_diff(void **state)
{
	struct frame_spec s = tcp_spec(1);

	(void)state;
	s.ext = dstopts_a;
	s.ext_len = 8;
	s.ext_type = 60;
	tcp_send(&s, 0, P);
	s.ext = dstopts_b;
	tcp_send(&s, P, P);
	tcp_finish(&s, 2 * P);
	EXPECT(P, P, 0);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_OPTS);
}

/* Segments of 4096 bytes of frame, as in the selftest. */
static void large(int v6, int rem_extra)
{
	struct frame_spec s = tcp_spec(v6);
	uint32_t l3h = v6 ? 40 : 20;
	uint32_t mss = 4096 - 14 - l3h - 20;
	uint32_t max_pay = GRO_MAX_IP_LEN - l3h - 20;
	uint32_t n = max_pay / mss, rem = max_pay % mss, i;

	for (i = 0; i < n; i++)
		tcp_send(&s, i * mss, mss);
	tcp_send(&s, n * mss, rem + (uint32_t)rem_extra);
	tcp_send(&s, (n + 1) * mss, rem + (uint32_t)rem_extra);
	gro_flush_all(gt, FLUSH_BATCH);
	if (!rem_extra) {
		EXPECT(max_pay, rem);
		/* exactly 65535 bytes of IP datagram */
		assert_int_equal(sink.p[0]->len - sink.p[0]->l3_off, 65535);
		assert_int_equal(sink.p[0]->agg.flush, FLUSH_SHORT);
	} else {
		EXPECT(max_pay - rem, rem + 1, rem + 1);
		assert_int_equal(sink.p[0]->agg.flush, FLUSH_SIZE);
	}
	assert_int_equal(sink.p[0]->gso_size, mss);
	assert_stream(sink.p[0], 0, 0);
	assert_partial_completes(sink.p[0]);
}

static void large_max(int v6)
{
	large(v6, 0);
}

static void large_rem(int v6)
{
	large(v6, 1);
}

static void single(int v6)
{
	struct frame_spec s = tcp_spec(v6);
	struct frame_spec first;

	first = s;
	first.pay_len = P;
	tcp_send(&s, 0, P);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(P);
	assert_frame(sink.p[0], &first);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_BATCH);
	assert_int_equal(sink.p[0]->agg.ipid_mode,
			 v6 ? PKT_IPID_NONE : PKT_IPID_SINGLE);
	assert_int_equal(st.flush[FLUSH_BATCH], 1);
}

/* N flows interleaved, the second packet of each with PSH. */
static void capacity(int v6)
{
	struct frame_spec s[64];
	unsigned int i;

	for (i = 0; i < 64; i++) {
		s[i] = tcp_spec(v6);
		s[i].sport = (uint16_t)(30000 + i);
		s[i].pay_seed = (uint8_t)i;
		tcp_send(&s[i], 0, 2 * P);
	}
	assert_int_equal(gro_held(gt), 64);
	for (i = 0; i < 64; i++)
		tcp_send_flags(&s[i], 2 * P, 2 * P, TCP_ACK | TCP_PSH);
	assert_int_equal(gro_held(gt), 0);
	assert_int_equal(sink.n, 64);
	for (i = 0; i < 64; i++) {
		assert_int_equal(emitted_payload(sink.p[i]), 4 * P);
		assert_int_equal(sink.p[i]->agg.segs, 2);
		assert_int_equal(get_be16(sink.p[i]->data + sink.p[i]->l4_off),
				 30000 + i);
		assert_stream(sink.p[i], 0, (uint8_t)i);
	}
}

#define BOTH(fn)                                                        \
	static void test_selftest_##fn##_v4(void **state)               \
	{                                                               \
		(void)state;                                            \
		fn(0);                                                  \
	}                                                               \
	static void test_selftest_##fn##_v6(void **state)               \
	{                                                               \
		(void)state;                                            \
		fn(1);                                                  \
	}

BOTH(data_same)
BOTH(data_lrg_sml)
BOTH(data_lrg_1byte)
BOTH(data_sml_lrg)
BOTH(data_burst)
BOTH(ack)
BOTH(flags_psh)
BOTH(flags_syn)
BOTH(flags_rst)
BOTH(flags_urg)
BOTH(flags_cwr)
BOTH(tcp_csum)
BOTH(tcp_seq)
BOTH(tcp_ts)
BOTH(tcp_opt)
BOTH(ip_ecn)
BOTH(ip_tos)
BOTH(ip_ttl)
BOTH(large_max)
BOTH(large_rem)
BOTH(single)
BOTH(capacity)

/* ==== more TCP rules ==== */

static void test_tcp_psh_closes_aggregate(void **state)
{
	struct frame_spec s = tcp_spec(0);

	(void)state;
	tcp_send(&s, 0, P);
	tcp_send_flags(&s, P, P, TCP_ACK | TCP_PSH);
	/* emitted without waiting for the batch to end */
	EXPECT(2 * P);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_PSH);
	assert_int_equal(gro_held(gt), 0);
}

static void test_tcp_fin_merges_and_closes(void **state)
{
	struct frame_spec s = tcp_spec(0);

	(void)state;
	tcp_send(&s, 0, P);
	tcp_send_flags(&s, P, P, TCP_ACK | TCP_FIN);
	EXPECT(2 * P);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_FIN);
	assert_true(sink.p[0]->data[sink.p[0]->l4_off + 13] & TCP_FIN);
}

static void test_tcp_psh_without_head_goes_alone(void **state)
{
	struct frame_spec s = tcp_spec(0), first;

	(void)state;
	s.tcp_flags = TCP_ACK | TCP_PSH;
	first = s;
	tcp_send(&s, 0, P);
	EXPECT(P);
	assert_frame(sink.p[0], &first);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_PSH);
	assert_int_equal(gro_held(gt), 0);
}

static void test_tcp_mismatched_psh_segment_goes_alone(void **state)
{
	struct frame_spec s = tcp_spec(0);

	(void)state;
	tcp_send(&s, 0, P);
	s.ttl = 9;
	tcp_send_flags(&s, P, P, TCP_ACK | TCP_PSH);
	EXPECT(P, P);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_TTL);
	assert_int_equal(sink.p[1]->agg.flush, FLUSH_PSH);
	assert_int_equal(gro_held(gt), 0);
}

static void test_tcp_ack_change_ends_aggregate(void **state)
{
	struct frame_spec s = tcp_spec(0);

	(void)state;
	tcp_send(&s, 0, P);
	s.ack += 1;
	tcp_send(&s, P, P);
	tcp_finish(&s, 2 * P);
	EXPECT(P, P, 0);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_ACK);
}

static void test_tcp_window_change_ends_aggregate(void **state)
{
	struct frame_spec s = tcp_spec(1);

	(void)state;
	tcp_send(&s, 0, P);
	s.win = 513;
	tcp_send(&s, P, P);
	tcp_finish(&s, 2 * P);
	EXPECT(P, P, 0);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_FLAGS);
}

static void test_tcp_ece_must_match_head(void **state)
{
	struct frame_spec s = tcp_spec(0);

	(void)state;
	tcp_send_flags(&s, 0, P, TCP_ACK | TCP_ECE);
	tcp_send_flags(&s, P, P, TCP_ACK | TCP_ECE);
	tcp_send(&s, 2 * P, P);
	tcp_finish(&s, 3 * P);
	EXPECT(2 * P, P, 0);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_FLAGS);
}

static void test_tcp_segment_cap_flushes(void **state)
{
	struct gro_config cfg;
	struct frame_spec s = tcp_spec(0);
	uint32_t i;

	(void)state;
	gro_config_default(&cfg);
	cfg.max_segs = 4;
	table_open(&cfg);
	for (i = 0; i < 6; i++)
		tcp_send(&s, i * P, P);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(4 * P, 2 * P);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_SEGS);
}

/* ==== exact bytes of finished super-packets ==== */

static void test_tcp4_aggregate_exact_bytes(void **state)
{
	static uint8_t want[4096];
	struct frame_spec s = tcp_spec(0), first;
	const struct pkt *p;
	const uint8_t *ip, *th;
	size_t hlen;
	uint32_t i;

	(void)state;
	s.ipid = 0x1234;
	s.pay_seed = 9;
	first = s;
	first.pay_len = P;
	tcp_send(&s, 0, P);
	tcp_send(&s, P, P);
	tcp_send(&s, 2 * P, P);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(3 * P);
	p = sink.p[0];
	ip = p->data + 14;
	th = ip + 20;

	assert_int_equal(p->len, 14 + 20 + 20 + 3 * P);
	assert_int_equal(get_be16(ip + 2), 20 + 20 + 3 * P);
	assert_int_equal(frame_csum(ip, 20, 0), 0);   /* header checksum valid */
	assert_int_equal(get_be16(ip + 4), 0x1234);   /* the head's ID */
	assert_int_equal(get_be16(th + 16), pseudo_fold(p));
	assert_partial_completes(p);

	/* everything else is the head's header, byte for byte */
	hlen = 14 + 20 + 20;
	assert_int_equal(frame_build(&first, want, sizeof(want)), hlen + P);
	put_be16(want + 14 + 2, (uint16_t)(20 + 20 + 3 * P));
	put_be16(want + 14 + 10, 0);
	put_be16(want + 14 + 10, frame_csum(want + 14, 20, 0));
	put_be16(want + 34 + 16, get_be16(th + 16));
	assert_memory_equal(p->data, want, hlen);
	for (i = 0; i < 3 * P; i++)
		assert_int_equal(p->data[hlen + i], frame_pay_byte(i, 9));

	assert_int_equal(p->gso_size, P);
	assert_int_equal(p->gso_type, VNET_GSO_TCPV4);
	assert_int_equal(p->csum, PKT_CSUM_PARTIAL);
	assert_int_equal(p->agg.segs, 3);
	assert_int_equal(p->agg.ipid_first, 0x1234);
	assert_int_equal(p->agg.ipid_last, 0x1236);
	assert_int_equal(p->agg.ipid_mode, PKT_IPID_INC);
	assert_int_equal(p->agg.flush, FLUSH_BATCH);
	assert_int_equal(st.flush[FLUSH_BATCH], 1);
	assert_int_equal(st.aggs, 1);
	assert_int_equal(st.segs_hist[3], 1);
}

/* Every byte of @p's payload, across its chain, is stream bytes from
 * @off of @seed. */
static void assert_chain_stream(const struct pkt *p, uint32_t off,
				uint8_t seed)
{
	const struct pkt *f;
	uint32_t i;

	for (i = p->pay_off; i < p->len; i++, off++)
		assert_int_equal(p->data[i], frame_pay_byte(off, seed));
	for (f = p->frag_first; f; f = f->frag_next)
		for (i = 0; i < f->len; i++, off++)
			assert_int_equal(f->data[i], frame_pay_byte(off, seed));
}

static void test_merge_chains_segment_buffers(void **state)
{
	struct frame_spec s = tcp_spec(0);
	struct iovec iov[4];
	const struct pkt *p;
	uint32_t hlen = 14 + 20 + 20;

	(void)state;
	sink.keep_chain = 1;
	s.pay_seed = 3;
	tcp_send(&s, 0, P);
	tcp_send(&s, P, P);
	tcp_send(&s, 2 * P, P - 1);
	EXPECT(3 * P - 1);
	p = sink.p[0];
	/* the head keeps its own frame; each merged segment's buffer follows,
	 * narrowed to its payload: no byte was copied */
	assert_int_equal(p->len, hlen + P);
	assert_int_equal(p->frag_count, 2);
	assert_int_equal(p->frag_first->len, P);
	assert_int_equal(p->frag_last->len, P - 1);
	assert_int_equal(pkt_frame_len(p), hlen + 3 * P - 1);
	assert_int_equal(p->l3_off + pkt_ip_len(p), pkt_frame_len(p));
	assert_chain_stream(p, 0, 3);
	/* the merged buffers stay out of the pool until the head is freed */
	assert_int_equal(pool.nfree, pool.count - 3);
	assert_int_equal(pkt_iov(p, iov, 4), 3);
	assert_ptr_equal(iov[0].iov_base, p->data);
	assert_int_equal(iov[0].iov_len, hlen + P);
	assert_ptr_equal(iov[2].iov_base, p->frag_last->data);
	/* the partial checksum completes over the chain as over the bytes */
	assert_int_equal(pkt_csum_complete(sink.p[0]), 0);
	assert_int_equal(pkt_l4_csum_verify(sink.p[0], 0), PKT_CSUM_VALID);
	assert_int_equal(pkt_linearize(sink.p[0], &pool), 0);
	assert_int_equal(pool.nfree, pool.count - 1);
	assert_int_equal(pkt_l4_csum_verify(sink.p[0], 0), PKT_CSUM_VALID);
	assert_stream(sink.p[0], 0, 3);
}

static void test_low_pool_merges_by_copy(void **state)
{
	struct gro_config cfg;
	struct frame_spec s = tcp_spec(1);
	const struct pkt *p;

	(void)state;
	gro_config_default(&cfg);
	cfg.copy_below = POOL_PKTS + 1;         /* always short of buffers */
	table_open(&cfg);
	sink.keep_chain = 1;
	s.pay_seed = 5;
	tcp_send(&s, 0, P);
	tcp_send(&s, P, P);
	tcp_send(&s, 2 * P, P);
	/* copied into the head's buffer at once, as before zero-copy */
	assert_int_equal(pool.nfree, pool.count - 1);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(3 * P);
	p = sink.p[0];
	assert_null(p->frag_first);
	assert_int_equal(p->len, 14 + 40 + 20 + 3 * P);
	assert_stream(p, 0, 5);
	assert_partial_completes(p);
}

/*
 * Segments that borrow their bytes from ring slots: short of buffers, GRO
 * would copy a segment's payload behind the last piece, but a slot has no
 * room behind its frame, so it chains instead and writes nothing past a
 * frame; freeing the aggregate gives every slot back.
 */
static void test_borrowed_segments_chain_when_copying(void **state)
{
	enum { SLOT = 2048, MAC = 76, N = 3 };
	static uint8_t ring[N][SLOT] __attribute__((aligned(64)));
	static struct pkt_lend lend[N];
	struct gro_config cfg;
	struct frame_spec s = tcp_spec(0);
	struct pkt *p;
	uint32_t ends[N];
	unsigned int i;
	size_t k;

	(void)state;
	gro_config_default(&cfg);
	cfg.copy_below = POOL_PKTS + 1;         /* always short of buffers */
	table_open(&cfg);
	sink.keep_chain = 1;
	s.pay_seed = 9;
	for (i = 0; i < N; i++) {
		s.seq = 1000 + i * P;
		s.pay_stream_off = i * P;
		s.pay_len = P;
		p = frame_pkt(&pool, &s);
		assert_non_null(p);
		s.ipid++;
		memset(ring[i], 0xcc, SLOT);
		*(uint32_t *)(void *)ring[i] = 1;
		memcpy(ring[i] + MAC, p->data, p->len);
		p->data = ring[i] + MAC;
		lend[i].status = (uint32_t *)(void *)ring[i];
		lend[i].refs = 1;
		p->borrow = &lend[i];
		ends[i] = MAC + p->len;
		gro_receive(gt, p, now++);
	}
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(N * P);
	p = sink.p[0];
	assert_int_equal(p->frag_count, N - 1);
	assert_chain_stream(p, 0, 9);
	for (i = 0; i < N; i++) {
		assert_int_equal(*(uint32_t *)(void *)ring[i], 1);
		for (k = ends[i]; k < SLOT; k++)
			assert_int_equal(ring[i][k], 0xcc);
	}
	sink_clear();
	for (i = 0; i < N; i++)
		assert_int_equal(*(uint32_t *)(void *)ring[i], 0);
	assert_int_equal(pool.nfree, pool.count);
}

static void test_pool_running_low_copies_onto_last_fragment(void **state)
{
	struct gro_config cfg;
	struct frame_spec s = tcp_spec(0);
	struct pkt *hog[POOL_PKTS];
	const struct pkt *p;
	unsigned int nhog = 0, i;

	(void)state;
	gro_config_default(&cfg);
	cfg.copy_below = 128;
	table_open(&cfg);
	sink.keep_chain = 1;
	s.pay_seed = 11;
	tcp_send(&s, 0, P);
	while (pool.nfree > 131)
		hog[nhog++] = pkt_alloc(&pool);
	/* 130, 129, 128 free when the next three arrive: chained; then
	 * below the mark: copied onto the last fragment, in order */
	for (i = 1; i < 6; i++)
		tcp_send(&s, i * P, P);
	assert_int_equal(pool.nfree, 128);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(6 * P);
	p = sink.p[0];
	assert_int_equal(p->frag_count, 3);
	assert_int_equal(p->frag_first->len, P);
	assert_int_equal(p->frag_last->len, 3 * P);
	assert_int_equal(p->frag_bytes, 5 * P);
	assert_chain_stream(p, 0, 11);
	while (nhog)
		pkt_free(&pool, hog[--nhog]);
}

static void test_tcp6_aggregate_lengths_and_type(void **state)
{
	struct frame_spec s = tcp_spec(1);
	const struct pkt *p;

	(void)state;
	s.flowlabel = 0x12345;
	tcp_send(&s, 0, P);
	tcp_send(&s, P, P);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(2 * P);
	p = sink.p[0];
	assert_int_equal(get_be16(p->data + 14 + 4), 20 + 2 * P);
	assert_int_equal(get_be32(p->data + 14) & 0xfffff, 0x12345);
	assert_int_equal(p->gso_type, VNET_GSO_TCPV6);
	assert_int_equal(p->agg.ipid_mode, PKT_IPID_NONE);
	assert_partial_completes(p);
}

static void test_udp6_aggregate_lengths_and_type(void **state)
{
	struct frame_spec s = udp_spec(1);
	const struct pkt *p;

	(void)state;
	udp_send(&s, 600);
	udp_send(&s, 600);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(1200);
	p = sink.p[0];
	assert_int_equal(get_be16(p->data + 14 + 4), 8 + 1200);
	assert_int_equal(get_be16(p->data + 54 + 4), 8 + 1200);
	assert_int_equal(p->gso_type, VNET_GSO_UDP_L4);
	assert_int_equal(p->gso_size, 600);
	assert_stream(p, 0, 0);
	assert_partial_completes(p);
}

/* ==== UDP ==== */

static void test_udp_same_size_merges(void **state)
{
	struct frame_spec s = udp_spec(0);

	(void)state;
	udp_send(&s, 600);
	udp_send(&s, 600);
	udp_send(&s, 600);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(1800);
	assert_int_equal(sink.p[0]->agg.segs, 3);
	assert_int_equal(get_be16(sink.p[0]->data + 34 + 4), 8 + 1800);
	assert_stream(sink.p[0], 0, 0);
}

static void test_udp_smaller_merges_and_closes(void **state)
{
	struct frame_spec s = udp_spec(0);

	(void)state;
	udp_send(&s, 600);
	udp_send(&s, 600);
	udp_send(&s, 300);
	udp_send(&s, 600);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(1500, 600);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_SHORT);
	assert_int_equal(sink.p[0]->gso_size, 600);
}

static void test_udp_larger_starts_new_aggregate(void **state)
{
	struct frame_spec s = udp_spec(1);

	(void)state;
	udp_send(&s, 300);
	udp_send(&s, 600);
	udp_send(&s, 600);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(300, 1200);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_LEN);
}

static void test_udp_64_segment_cap(void **state)
{
	struct frame_spec s = udp_spec(0);
	int i;

	(void)state;
	s.ipid = 100;
	for (i = 0; i < 70; i++)
		udp_send(&s, 100);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(6400, 600);
	assert_int_equal(sink.p[0]->agg.segs, 64);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_SEGS);
	assert_int_equal(get_be16(sink.p[0]->data + 14 + 2), 6428);
	assert_int_equal(sink.p[1]->agg.segs, 6);
	assert_int_equal(get_be16(sink.p[1]->data + 14 + 4), 164);
}

static void test_udp_64k_cap(void **state)
{
	struct frame_spec s = udp_spec(0);
	int i;

	(void)state;
	s.ipid = 300;
	for (i = 0; i < 50; i++)
		udp_send(&s, 1400);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(46 * 1400, 4 * 1400);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_SIZE);
	assert_int_equal(get_be16(sink.p[0]->data + 14 + 2), 64428);
	assert_int_equal(get_be16(sink.p[1]->data + 14 + 4), 346);
	assert_stream(sink.p[0], 0, 0);
	assert_stream(sink.p[1], 46 * 1400, 0);
}

static void test_udp_zero_checksum_passes(void **state)
{
	struct frame_spec s = udp_spec(0), z;

	(void)state;
	udp_send(&s, 600);
	s.zero_udp_csum = 1;
	z = s;
	z.pay_len = 600;
	udp_send(&s, 600);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(600, 600);
	assert_int_equal(st.pass[PASS_UDP_CSUM0], 1);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_PASS);
	assert_frame(sink.p[1], &z);
}

static void test_udp_fixed_id_merged_by_default(void **state)
{
	struct frame_spec s = udp_spec(0);

	(void)state;
	s.df = 0;
	s.ipid = 20;
	udp_send(&s, 600);
	s.ipid = 20;
	udp_send(&s, 600);
	s.ipid = 20;
	udp_send(&s, 600);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(1800);
	assert_int_equal(sink.p[0]->agg.ipid_mode, PKT_IPID_FIXED);
	assert_int_equal(sink.p[0]->agg.ipid_first, 20);
	assert_int_equal(sink.p[0]->agg.ipid_last, 20);
}

static void test_udp_fixed_id_passed_when_asked(void **state)
{
	struct gro_config cfg;
	struct frame_spec s = udp_spec(0);
	int i;

	(void)state;
	gro_config_default(&cfg);
	cfg.udp_fixed_merge = 0;
	table_open(&cfg);
	for (i = 0; i < 3; i++) {
		s.ipid = 30;
		udp_send(&s, 600);
	}
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(600, 600, 600);
	assert_int_equal(st.pass[PASS_UDP_FIXED], 2);
	assert_int_equal(st.flush[FLUSH_IPID], 2);
	for (i = 0; i < 3; i++)
		assert_int_equal(sink.p[i]->agg.segs, 1);

	/* incrementing UDP still merges */
	sink_clear();
	s.ipid = 40;
	udp_send(&s, 600);
	udp_send(&s, 600);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(1200);
}

static void test_udp_length_shorter_than_ip_payload_passes(void **state)
{
	static uint8_t f[256];
	struct frame_spec s = udp_spec(0);
	struct pkt *p;
	size_t len;

	(void)state;
	s.pay_len = 40;
	len = frame_build(&s, f, sizeof(f));
	/* UDP length 8 + 20 inside a 48-byte UDP datagram area */
	put_be16(f + 34 + 4, 28);
	p = pkt_alloc(&pool);
	memcpy(p->data, f, len);
	p->len = (uint32_t)len;
	assert_int_equal(pkt_parse(p), DROP_NONE);
	gro_receive(gt, p, now++);
	assert_int_equal(st.pass[PASS_UDP_LEN], 1);
	assert_int_equal(sink.n, 1);
	assert_memory_equal(sink.p[0]->data, f, len);
}

/*
 * A TCP or UDP header that does not hold together is passed on as it is,
 * as Linux's GRO lets it through to be forwarded: a TCP data offset of 2,
 * a UDP length past the datagram, a TCP header cut short.
 */
static void test_broken_l4_headers_pass(void **state)
{
	static uint8_t f[256];
	struct frame_spec s;
	struct pkt *p;
	size_t len;
	int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		frame_spec_init(&s, 0, i == 1 ? IPPROTO_UDP_ : IPPROTO_TCP_);
		s.pay_len = 20;
		len = frame_build(&s, f, sizeof(f));
		if (i == 0)
			f[34 + 12] = 0x20;              /* data offset 2 */
		else if (i == 1)
			put_be16(f + 34 + 4, 200);      /* UDP length */
		else
			len = 34 + 10;                  /* 10 bytes of TCP */
		put_be16(f + 16, (uint16_t)(len - 14));
		put_be16(f + 24, 0);
		put_be16(f + 24, frame_csum(f + 14, 20, 0));
		p = pkt_alloc(&pool);
		memcpy(p->data, f, len);
		p->len = (uint32_t)len;
		assert_int_equal(pkt_parse(p), DROP_NONE);
		gro_receive(gt, p, now++);
		assert_int_equal(sink.n, (unsigned int)i + 1);
		assert_memory_equal(sink.p[i]->data, f, len);
	}
	assert_int_equal(st.pass[PASS_TCP_DOFF], 1);
	assert_int_equal(st.pass[PASS_UDP_LEN], 1);
	assert_int_equal(st.pass[PASS_L4_TRUNC], 1);
}

/* The lab notes: 600-byte datagrams with IDs 1, 2, 3 | 4, 5, 6. */
static void test_lab_udp_ids_1_2_3_then_4_5_6(void **state)
{
	struct frame_spec s = udp_spec(0);
	unsigned int i;

	(void)state;
	s.ipid = 1;
	udp_send(&s, 600);
	udp_send(&s, 600);
	udp_send(&s, 600);
	gro_flush_all(gt, FLUSH_BATCH);
	udp_send(&s, 600);
	udp_send(&s, 600);
	udp_send(&s, 600);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(1800, 1800);
	for (i = 0; i < 2; i++) {
		const struct pkt *p = sink.p[i];

		assert_int_equal(get_be16(p->data + 14 + 4), 1 + 3 * i);
		assert_int_equal(get_be16(p->data + 14 + 2), 1828);
		assert_int_equal(frame_csum(p->data + 14, 20, 0), 0);
		assert_int_equal(p->agg.ipid_first, 1 + 3 * i);
		assert_int_equal(p->agg.ipid_last, 3 + 3 * i);
		assert_int_equal(p->agg.ipid_mode, PKT_IPID_INC);
		assert_int_equal(p->agg.flush, FLUSH_BATCH);
		assert_int_equal(p->gso_size, 600);
		assert_int_equal(p->gso_type, VNET_GSO_UDP_L4);
		assert_stream(p, 1800 * i, 0);
	}
}

/* ==== ordering, table, checksums, passes ==== */

static void test_pass_flushes_own_flow_only(void **state)
{
	struct frame_spec a = tcp_spec(0), b = tcp_spec(0);

	(void)state;
	b.sport = 40001;
	tcp_send(&a, 0, P);
	tcp_send(&b, 0, P);
	tcp_send(&a, P, P);
	a.bad_l4_csum = 1;
	tcp_send(&a, 2 * P, P);
	/* a's aggregate first, then a's bad segment; b stays held */
	EXPECT(2 * P, P);
	assert_int_equal(get_be16(sink.p[0]->data + 34), 40000);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_PASS);
	assert_int_equal(sink.p[1]->csum, PKT_CSUM_BAD);
	assert_int_equal(gro_held(gt), 1);
}

/*
 * The flow of the previous packet is tried before the table: it must
 * never take another flow's segment, whichever flow came last and after
 * a flush has freed and handed out its entry again.
 */
static void test_last_flow_shortcut_keeps_flows_apart(void **state)
{
	struct frame_spec a = tcp_spec(0), b = tcp_spec(0);

	(void)state;
	b.sport = 40001;
	b.pay_seed = 9;
	tcp_send(&a, 0, P);
	tcp_send(&a, P, P);
	tcp_send(&b, 0, P);
	tcp_send(&a, 2 * P, P);
	tcp_send(&b, P, P);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(3 * P, 2 * P);
	assert_int_equal(get_be16(sink.p[0]->data + 34), 40000);
	assert_int_equal(get_be16(sink.p[1]->data + 34), 40001);
	sink_clear();

	tcp_send(&b, 2 * P, P);
	tcp_send(&a, 3 * P, P);
	tcp_send(&b, 3 * P, P);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(2 * P, P);
	assert_int_equal(get_be16(sink.p[0]->data + 34), 40001);
	assert_int_equal(get_be16(sink.p[1]->data + 34), 40000);
	assert_int_equal(sink.p[0]->agg.segs, 2);
	assert_int_equal(sink.p[1]->agg.segs, 1);
	assert_int_equal(gro_held(gt), 0);
}

static void test_table_full_flushes_oldest(void **state)
{
	struct gro_config cfg;
	struct frame_spec s[5];
	unsigned int i;

	(void)state;
	gro_config_default(&cfg);
	cfg.max_flows = 4;
	table_open(&cfg);
	for (i = 0; i < 5; i++) {
		s[i] = tcp_spec(i & 1);
		s[i].sport = (uint16_t)(50000 + i);
		tcp_send(&s[i], 0, P);
	}
	assert_int_equal(gro_held(gt), 4);
	assert_int_equal(sink.n, 1);
	assert_int_equal(get_be16(sink.p[0]->data + sink.p[0]->l4_off), 50000);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_FULL);
	/* the flows still held keep merging */
	for (i = 1; i < 5; i++)
		tcp_send(&s[i], P, P);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(P, 2 * P, 2 * P, 2 * P, 2 * P);
	for (i = 1; i < 5; i++)
		assert_int_equal(get_be16(sink.p[i]->data + sink.p[i]->l4_off),
				 50000 + i);
	assert_int_equal(st.flush[FLUSH_FULL], 1);
	sink_clear();
	assert_int_equal(pool.nfree, pool.count);
}

/*
 * An IPv4 flow stores only the key words that count for IPv4, so the
 * entry it takes over from an IPv6 flow keeps that flow's other words:
 * they must not make the IPv6 flow match it later, nor the IPv4 flow
 * the entry the IPv6 flow takes back.
 */
static void test_entry_reused_by_other_family_keeps_flows_apart(void **state)
{
	struct gro_config cfg;
	struct frame_spec a = tcp_spec(1), b = tcp_spec(0);

	(void)state;
	gro_config_default(&cfg);
	cfg.max_flows = 1;
	table_open(&cfg);
	b.pay_seed = 9;
	tcp_send(&a, 0, P);
	tcp_send(&b, 0, P);             /* a emitted: full */
	tcp_send(&a, P, P);             /* b emitted, a starts again */
	tcp_send(&a, 2 * P, P);         /* and merges */
	tcp_send(&b, P, P);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(P, P, 2 * P, P);
	assert_int_equal(sink.p[0]->l3, PKT_L3_IPV6);
	assert_int_equal(sink.p[1]->l3, PKT_L3_IPV4);
	assert_int_equal(sink.p[2]->l3, PKT_L3_IPV6);
	assert_int_equal(sink.p[3]->l3, PKT_L3_IPV4);
	assert_stream(sink.p[2], P, a.pay_seed);
	assert_stream(sink.p[3], P, b.pay_seed);
	assert_int_equal(sink.p[2]->agg.flush, FLUSH_FULL);
	assert_int_equal(sink.p[3]->agg.flush, FLUSH_BATCH);
	assert_int_equal(st.flush[FLUSH_FULL], 3);
}

static void test_flush_all_emits_oldest_first(void **state)
{
	struct frame_spec s[3];
	unsigned int i;

	(void)state;
	for (i = 0; i < 3; i++) {
		s[i] = udp_spec(0);
		s[i].dport = (uint16_t)(7000 - i);
		udp_send(&s[i], 100 + i);
	}
	gro_flush_all(gt, FLUSH_EXIT);
	EXPECT(100, 101, 102);
	assert_int_equal(st.flush[FLUSH_EXIT], 3);
}

static void test_flush_older_uses_head_time(void **state)
{
	struct frame_spec a = tcp_spec(0), b = tcp_spec(0);
	struct pkt *p;

	(void)state;
	b.sport = 1;
	a.pay_len = P;
	b.pay_len = P;
	p = frame_pkt(&pool, &a);
	gro_receive(gt, p, 100);
	p = frame_pkt(&pool, &b);
	gro_receive(gt, p, 200);
	a.seq += P;
	a.ipid++;
	p = frame_pkt(&pool, &a);
	gro_receive(gt, p, 300);        /* merging does not renew the head */
	assert_int_equal(gro_flush_older(gt, 150), 200);
	EXPECT(2 * P);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_TIMER);
	assert_int_equal(gro_flush_older(gt, 201), 0);
	assert_int_equal(gro_held(gt), 0);
}

static void test_flush_oldest_one_at_a_time(void **state)
{
	struct frame_spec a = tcp_spec(0), b = tcp_spec(0);

	(void)state;
	b.sport = 1;
	a.pay_len = P;
	b.pay_len = 2 * P;
	gro_receive(gt, frame_pkt(&pool, &b), 200);
	gro_receive(gt, frame_pkt(&pool, &a), 100);
	/* the age list goes by arrival; the head's time is what it reports */
	assert_int_equal(gro_oldest_ns(gt), 200);
	assert_int_equal(gro_flush_oldest(gt, FLUSH_FULL), 1);
	EXPECT(2 * P);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_FULL);
	assert_int_equal(gro_held(gt), 1);
	assert_int_equal(gro_oldest_ns(gt), 100);
	assert_int_equal(gro_flush_oldest(gt, FLUSH_FULL), 1);
	assert_int_equal(gro_flush_oldest(gt, FLUSH_FULL), 0);
	assert_int_equal(gro_oldest_ns(gt), 0);
	assert_int_equal(st.flush[FLUSH_FULL], 2);
}

static void test_bad_checksum_segment_not_merged(void **state)
{
	struct frame_spec s = tcp_spec(0);

	(void)state;
	tcp_send(&s, 0, P);
	s.bad_l4_csum = 1;
	tcp_send(&s, P, P);
	s.bad_l4_csum = 0;
	tcp_send(&s, 2 * P, P);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(P, P, P);
	assert_int_equal(st.pass[PASS_L4_CSUM], 1);
}

static void test_partial_checksum_merged_when_accepted(void **state)
{
	struct gro_config cfg;
	struct frame_spec s = tcp_spec(0), first;

	(void)state;
	s.partial_l4_csum = 1;
	first = s;
	first.pay_len = P;
	/* default: a pseudo-header sum is a bad checksum */
	tcp_send(&s, 0, P);
	EXPECT(P);
	assert_int_equal(st.pass[PASS_L4_CSUM], 1);
	sink_clear();

	gro_config_default(&cfg);
	cfg.accept_partial = 1;
	table_open(&cfg);
	tcp_send(&s, P, P);
	tcp_send(&s, 2 * P, P);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(2 * P);
	assert_partial_completes(sink.p[0]);

	/* a partial head left alone keeps its bytes */
	sink_clear();
	first.seq = 1000 + 3 * P;
	first.pay_stream_off = 3 * P;
	first.ipid = s.ipid;
	tcp_send(&s, 3 * P, P);
	gro_flush_all(gt, FLUSH_BATCH);
	assert_frame(sink.p[0], &first);
	assert_int_equal(sink.p[0]->csum, PKT_CSUM_PARTIAL);
}

static void test_checksum_valid_from_vnet_is_trusted(void **state)
{
	struct frame_spec s = tcp_spec(0);
	struct pkt *p;

	(void)state;
	tcp_send(&s, 0, P);
	/* a wrong checksum marked DATA_VALID by the kernel is not rechecked */
	s.bad_l4_csum = 1;
	s.seq = 1000 + P;
	s.pay_stream_off = P;
	p = frame_pkt(&pool, &s);
	p->csum = PKT_CSUM_VALID;
	gro_receive(gt, p, now++);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(2 * P);
}

static void test_gso_input_passes_untouched(void **state)
{
	struct frame_spec s = tcp_spec(0), big;
	struct pkt *p;

	(void)state;
	tcp_send(&s, 0, P);
	big = s;
	big.seq = 1000 + P;
	big.pay_stream_off = P;
	big.pay_len = 3 * P;
	p = frame_pkt(&pool, &big);
	p->gso_size = P;
	p->gso_type = VNET_GSO_TCPV4;
	p->agg.segs = 3;
	p->csum = PKT_CSUM_VALID;
	gro_receive(gt, p, now++);
	EXPECT(P, 3 * P);
	assert_int_equal(st.pass[PASS_GSO_IN], 1);
	assert_int_equal(sink.p[1]->gso_size, P);
	assert_int_equal(sink.p[1]->agg.segs, 3);
	assert_int_equal(sink.p[0]->agg.flush, FLUSH_PASS);
	assert_int_equal(sink.p[0]->agg.segs, 1);
}

static void test_not_candidates_pass_with_reason(void **state)
{
	struct gro_config cfg;
	struct frame_spec s = udp_spec(0);
	struct pkt *p;

	(void)state;
	/* ARP */
	p = pkt_alloc(&pool);
	memset(p->data, 0, 60);
	put_be16(p->data + 12, ETHTYPE_ARP);
	p->len = 60;
	assert_int_equal(pkt_parse(p), DROP_NONE);
	gro_receive(gt, p, now++);
	assert_int_equal(st.pass[PASS_NOT_IP], 1);

	/* Ethernet padding after the datagram */
	s.trailer = 6;
	udp_send(&s, 10);
	s.trailer = 0;
	assert_int_equal(st.pass[PASS_IP_PAD], 1);

	/* IPv6 Hop-by-Hop is not walked */
	s = tcp_spec(1);
	s.ext = dstopts_a;
	s.ext_len = 8;
	s.ext_type = 0;
	tcp_send(&s, 0, P);
	assert_int_equal(st.pass[PASS_IPV6_EXT], 1);

	/* protocol switched off */
	gro_config_default(&cfg);
	cfg.protos = GRO_PROTO_TCP4 | GRO_PROTO_TCP6;
	table_open(&cfg);
	s = udp_spec(0);
	udp_send(&s, 100);
	udp_send(&s, 100);
	assert_int_equal(st.pass[PASS_PROTO], 2);
	assert_int_equal(gro_held(gt), 0);
	assert_int_equal(sink.n, 5);
}

static void test_flows_differ_by_vlan_and_flowlabel(void **state)
{
	struct frame_spec a = tcp_spec(0), b = tcp_spec(0);
	struct frame_spec c = tcp_spec(1), d = tcp_spec(1);

	(void)state;
	a.vlan = 1;
	a.vlan_tci = 10;
	b.vlan = 1;
	b.vlan_tci = 11;
	c.flowlabel = 1;
	d.flowlabel = 2;
	tcp_send(&a, 0, P);
	tcp_send(&b, 0, P);
	tcp_send(&c, 0, P);
	tcp_send(&d, 0, P);
	assert_int_equal(gro_held(gt), 4);
	tcp_send(&a, P, P);
	tcp_send(&b, P, P);
	tcp_send(&c, P, P);
	tcp_send(&d, P, P);
	gro_flush_all(gt, FLUSH_BATCH);
	EXPECT(2 * P, 2 * P, 2 * P, 2 * P);
	assert_int_equal(sink.p[0]->vlan_tci, 10);
	assert_int_equal(get_be16(sink.p[0]->data + 18 + 2), 20 + 20 + 2 * P);
}

static void test_bad_config_rejected(void **state)
{
	struct gro_config cfg;

	(void)state;
	gro_config_default(&cfg);
	cfg.max_flows = 0;
	assert_null(gro_create(&cfg, &pool, NULL, collect, &sink));
	gro_config_default(&cfg);
	cfg.max_segs = GRO_MAX_SEGS + 1;
	assert_null(gro_create(&cfg, &pool, NULL, collect, &sink));
	gro_config_default(&cfg);
	cfg.max_ip_len = GRO_MAX_IP_LEN + 1;
	assert_null(gro_create(&cfg, &pool, NULL, collect, &sink));
}

static void test_stats_may_be_null(void **state)
{
	struct gro_config cfg;
	struct gro_table *t;
	struct frame_spec s = tcp_spec(0);
	struct pkt *p;

	(void)state;
	gro_config_default(&cfg);
	t = gro_create(&cfg, &pool, NULL, collect, &sink);
	assert_non_null(t);
	p = frame_pkt(&pool, &s);
	gro_receive(t, p, 1);
	s.seq += P;
	s.ipid++;
	s.pay_stream_off = P;
	p = frame_pkt(&pool, &s);
	gro_receive(t, p, 2);
	s.bad_l4_csum = 1;
	p = frame_pkt(&pool, &s);
	gro_receive(t, p, 3);
	gro_flush_all(t, FLUSH_BATCH);
	gro_destroy(t);
	EXPECT(2 * P, P);
}

#define SELFTEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define BOTH_T(fn) SELFTEST(test_selftest_##fn##_v4), SELFTEST(test_selftest_##fn##_v6)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH_T(data_same),
		BOTH_T(data_lrg_sml),
		BOTH_T(data_lrg_1byte),
		BOTH_T(data_sml_lrg),
		BOTH_T(data_burst),
		BOTH_T(ack),
		BOTH_T(flags_psh),
		BOTH_T(flags_syn),
		BOTH_T(flags_rst),
		BOTH_T(flags_urg),
		BOTH_T(flags_cwr),
		BOTH_T(tcp_csum),
		BOTH_T(tcp_seq),
		BOTH_T(tcp_ts),
		BOTH_T(tcp_opt),
		BOTH_T(ip_ecn),
		BOTH_T(ip_tos),
		BOTH_T(ip_ttl),
		SELFTEST(test_selftest_ip_opt),
		SELFTEST(test_selftest_ip_frag4),
		SELFTEST(test_selftest_ip_frag6),
		SELFTEST(test_selftest_ip_id_df1_inc),
		SELFTEST(test_selftest_ip_id_df1_fixed),
		SELFTEST(test_selftest_ip_id_df0_inc),
		SELFTEST(test_selftest_ip_id_df0_fixed_merges_on_618),
		SELFTEST(test_selftest_ip_id_df1_inc_fixed),
		SELFTEST(test_selftest_ip_id_df1_fixed_inc),
		SELFTEST(test_selftest_ip_v6ext_same),
		SELFTEST(test_selftest_ip_v6ext_diff),
		BOTH_T(large_max),
		BOTH_T(large_rem),
		BOTH_T(single),
		BOTH_T(capacity),
		SELFTEST(test_ipid_wraps_mod_65536),
		SELFTEST(test_ipid_gap_ends_aggregate),
		SELFTEST(test_df_change_ends_aggregate),
		SELFTEST(test_tcp_psh_closes_aggregate),
		SELFTEST(test_tcp_fin_merges_and_closes),
		SELFTEST(test_tcp_psh_without_head_goes_alone),
		SELFTEST(test_tcp_mismatched_psh_segment_goes_alone),
		SELFTEST(test_tcp_ack_change_ends_aggregate),
		SELFTEST(test_tcp_window_change_ends_aggregate),
		SELFTEST(test_tcp_ece_must_match_head),
		SELFTEST(test_tcp_segment_cap_flushes),
		SELFTEST(test_tcp4_aggregate_exact_bytes),
		SELFTEST(test_merge_chains_segment_buffers),
		SELFTEST(test_low_pool_merges_by_copy),
		SELFTEST(test_borrowed_segments_chain_when_copying),
		SELFTEST(test_pool_running_low_copies_onto_last_fragment),
		SELFTEST(test_tcp6_aggregate_lengths_and_type),
		SELFTEST(test_udp6_aggregate_lengths_and_type),
		SELFTEST(test_udp_same_size_merges),
		SELFTEST(test_udp_smaller_merges_and_closes),
		SELFTEST(test_udp_larger_starts_new_aggregate),
		SELFTEST(test_udp_64_segment_cap),
		SELFTEST(test_udp_64k_cap),
		SELFTEST(test_udp_zero_checksum_passes),
		SELFTEST(test_udp_fixed_id_merged_by_default),
		SELFTEST(test_udp_fixed_id_passed_when_asked),
		SELFTEST(test_udp_length_shorter_than_ip_payload_passes),
		SELFTEST(test_broken_l4_headers_pass),
		SELFTEST(test_lab_udp_ids_1_2_3_then_4_5_6),
		SELFTEST(test_pass_flushes_own_flow_only),
		SELFTEST(test_last_flow_shortcut_keeps_flows_apart),
		SELFTEST(test_table_full_flushes_oldest),
		SELFTEST(test_entry_reused_by_other_family_keeps_flows_apart),
		SELFTEST(test_flush_all_emits_oldest_first),
		SELFTEST(test_flush_older_uses_head_time),
		SELFTEST(test_flush_oldest_one_at_a_time),
		SELFTEST(test_bad_checksum_segment_not_merged),
		SELFTEST(test_partial_checksum_merged_when_accepted),
		SELFTEST(test_checksum_valid_from_vnet_is_trusted),
		SELFTEST(test_gso_input_passes_untouched),
		SELFTEST(test_not_candidates_pass_with_reason),
		SELFTEST(test_flows_differ_by_vlan_and_flowlabel),
		SELFTEST(test_bad_config_rejected),
		SELFTEST(test_stats_may_be_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
