/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Tests for gso: every segment is compared byte for byte with the frame
 * frames.c builds for it on its own (its own checksum code, not csum.c).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "grogso/csum.h"
#include "grogso/gso.h"
#include "grogso/pkt.h"
#include "frames.h"

#define MAX_SEGS 128

static struct pkt_pool pool;
static struct gso_seg segs[MAX_SEGS];
static uint8_t out[PKT_DATA_MAX];
static uint8_t want[PKT_DATA_MAX];

static const uint8_t tcp_ts_opts[12] = {
	1, 1, 8, 10, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
};
static const uint8_t dstopts[8] = { 0, 0, 1, 4, 0, 0, 0, 0 };

static int setup(void **state)
{
	(void)state;
	return pkt_pool_init(&pool, 64);
}

static int teardown(void **state)
{
	(void)state;
	pkt_pool_destroy(&pool);
	return 0;
}

static uint8_t gso_type_of(const struct frame_spec *s)
{
	if (s->proto == 17)
		return VNET_GSO_UDP_L4;
	return s->v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4;
}

/* A super-packet: one frame carrying @s->pay_len bytes, marked for GSO. */
static struct pkt *super_pkt(const struct frame_spec *s, uint16_t mss,
			     uint8_t ipid_mode)
{
	struct pkt *p = frame_pkt(&pool, s);

	assert_non_null(p);
	p->gso_size = mss;
	p->gso_type = gso_type_of(s);
	p->agg.ipid_mode = ipid_mode;
	p->agg.segs = (uint16_t)((s->pay_len + mss - 1) / mss);
	return p;
}

/* The frame segment @i should be, built independently by frames.c. */
static size_t expected_seg(const struct frame_spec *s, uint16_t mss,
			   uint32_t i, uint32_t n, int fixed, int partial)
{
	struct frame_spec e = *s;
	uint32_t off = i * mss;

	e.pay_len = i == n - 1 ? s->pay_len - off : mss;
	e.pay_stream_off = s->pay_stream_off + off;
	e.seq = s->seq + off;
	e.ipid = fixed ? s->ipid : (uint16_t)(s->ipid + i);
	e.partial_l4_csum = partial;
	if (i != n - 1)
		e.tcp_flags &= (uint8_t)~(TCP_FIN | TCP_PSH);
	if (i != 0)
		e.tcp_flags &= (uint8_t)~TCP_CWR;
	return frame_build(&e, want, sizeof(want));
}

/*
 * Segment the super-packet of @s and compare each segment with its
 * independently built frame.  Returns the segment count.
 */
static int check_segments(const struct frame_spec *s, uint16_t mss,
			  uint8_t ipid_mode, enum gso_ipid policy, int fixed,
			  int offload)
{
	struct gso_opts o = { .ipid = policy, .csum_offload = offload };
	struct gso_result res;
	struct pkt *p = super_pkt(s, mss, ipid_mode);
	uint32_t n = (s->pay_len + mss - 1) / mss, i;
	int r, len;
	size_t wlen;

	memset(&res, 0xa5, sizeof(res));
	r = gso_segment(p, &o, segs, MAX_SEGS, &res);
	assert_int_equal(r, (int)n);
	assert_int_equal(res.nsegs, n);
	assert_int_equal(gso_count(p), n);
	for (i = 0; i < n; i++) {
		wlen = expected_seg(s, mss, i, n, fixed, offload);
		assert_true(wlen > 0);
		assert_ptr_equal(segs[i].pay, p->data + p->pay_off + i * mss);
		assert_int_equal(segs[i].partial, !!offload);
		len = gso_seg_linearize(&segs[i], out, sizeof(out));
		assert_int_equal(len, (int)wlen);
		assert_memory_equal(out, want, wlen);
	}
	if (!s->v6) {
		assert_int_equal(res.ipid_first, s->ipid);
		assert_int_equal(res.ipid_last,
				 fixed ? s->ipid : (uint16_t)(s->ipid + n - 1));
		assert_int_equal(res.ipid_fixed, fixed);
	} else {
		assert_int_equal(res.ipid_fixed, 0);
	}
	pkt_free(&pool, p);
	return r;
}

static void test_tcp4_segments_equal_original_frames(void **state)
{
	struct frame_spec s;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 1448 * 3;
	s.ipid = 100;
	assert_int_equal(check_segments(&s, 1448, PKT_IPID_INC,
					GSO_IPID_INCREMENT, 0, 0), 3);
}

static void test_tcp4_64k_super_packet(void **state)
{
	struct frame_spec s;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 65535 - 40;         /* largest IPv4 datagram */
	s.seq = 0xfffff000;             /* sequence wraps inside */
	assert_int_equal(check_segments(&s, 1448, PKT_IPID_INC,
					GSO_IPID_AUTO, 0, 0), 46);
}

static void test_tcp4_last_segment_carries_remainder(void **state)
{
	struct frame_spec s;
	struct gso_opts o = { 0 };
	struct pkt *p;
	int r;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 3 * 1000 + 1;
	assert_int_equal(check_segments(&s, 1000, PKT_IPID_INC,
					GSO_IPID_AUTO, 0, 0), 4);
	p = super_pkt(&s, 1000, PKT_IPID_INC);
	r = gso_segment(p, &o, segs, MAX_SEGS, NULL);
	assert_int_equal(r, 4);
	assert_int_equal(segs[0].pay_len, 1000);
	assert_int_equal(segs[3].pay_len, 1);
	/* IPv4 total length of the last: 20 + 20 + 1 */
	assert_int_equal(get_be16(segs[3].hdr + 14 + 2), 41);
	pkt_free(&pool, p);
}

static void test_tcp4_ipid_increment_policy(void **state)
{
	struct frame_spec s;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 500 * 4;
	s.ipid = 7;
	/* INCREMENT overrides what GRO found */
	check_segments(&s, 500, PKT_IPID_FIXED, GSO_IPID_INCREMENT, 0, 0);
}

static void test_tcp4_ipid_fixed_policy(void **state)
{
	struct frame_spec s;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 500 * 4;
	s.ipid = 7;
	check_segments(&s, 500, PKT_IPID_INC, GSO_IPID_FIXED, 1, 0);
}

static void test_tcp4_ipid_auto_keeps_fixed_aggregate(void **state)
{
	struct frame_spec s;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 500 * 4;
	s.ipid = 0;
	check_segments(&s, 500, PKT_IPID_FIXED, GSO_IPID_AUTO, 1, 0);
}

/* gso_fixed_here for one aggregate; the packet goes back to the pool. */
static int fixed_here(int v6, uint8_t proto, int df, uint8_t ipid_mode,
		      enum gso_fixed how, int whole_ok)
{
	struct frame_spec s;
	struct pkt *p;
	int r;

	frame_spec_init(&s, v6, proto);
	s.pay_len = 500 * 4;
	s.df = df;
	p = super_pkt(&s, 500, ipid_mode);
	r = gso_fixed_here(how, p, whole_ok);
	pkt_free(&pool, p);
	return r;
}

static void test_fixed_id_segmented_where_linux_would(void **state)
{
	(void)state;
	/* TCP/IPv4 with fixed IDs: whole only to a device that keeps IDs
	 * fixed, and only with DF */
	assert_int_equal(fixed_here(0, 6, 1, PKT_IPID_FIXED, GSO_FIXED_LINUX, 1), 0);
	assert_int_equal(fixed_here(0, 6, 0, PKT_IPID_FIXED, GSO_FIXED_LINUX, 1), 1);
	assert_int_equal(fixed_here(0, 6, 1, PKT_IPID_FIXED, GSO_FIXED_LINUX, 0), 1);
	/* incrementing IDs, UDP and IPv6 go as any aggregate */
	assert_int_equal(fixed_here(0, 6, 0, PKT_IPID_INC, GSO_FIXED_LINUX, 0), 0);
	assert_int_equal(fixed_here(0, 17, 0, PKT_IPID_FIXED, GSO_FIXED_LINUX, 0), 0);
	assert_int_equal(fixed_here(1, 6, 0, PKT_IPID_NONE, GSO_FIXED_LINUX, 0), 0);
	/* the other two choices do not look at the egress */
	assert_int_equal(fixed_here(0, 6, 0, PKT_IPID_FIXED, GSO_FIXED_OFFLOAD, 0), 0);
	assert_int_equal(fixed_here(0, 17, 1, PKT_IPID_FIXED, GSO_FIXED_SOFTWARE, 1), 1);
	assert_int_equal(fixed_here(0, 6, 1, PKT_IPID_INC, GSO_FIXED_SOFTWARE, 1), 0);
}

static void test_tcp4_ipid_auto_increments_otherwise(void **state)
{
	struct frame_spec s;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 500 * 4;
	s.ipid = 300;
	check_segments(&s, 500, PKT_IPID_INC, GSO_IPID_AUTO, 0, 0);
	check_segments(&s, 500, PKT_IPID_SINGLE, GSO_IPID_AUTO, 0, 0);
}

static void test_tcp4_ipid_increment_wraps(void **state)
{
	struct frame_spec s;
	struct gso_opts o = { .ipid = GSO_IPID_INCREMENT };
	struct gso_result res;
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 300;
	s.ipid = 0xffff;
	check_segments(&s, 100, PKT_IPID_INC, GSO_IPID_INCREMENT, 0, 0);
	p = super_pkt(&s, 100, PKT_IPID_INC);
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, &res), 3);
	assert_int_equal(get_be16(segs[0].hdr + 18), 0xffff);
	assert_int_equal(get_be16(segs[1].hdr + 18), 0x0000);
	assert_int_equal(get_be16(segs[2].hdr + 18), 0x0001);
	assert_int_equal(res.ipid_last, 1);
	pkt_free(&pool, p);
}

static void test_tcp_fin_psh_only_on_last_cwr_only_on_first(void **state)
{
	struct frame_spec s;
	struct gso_opts o = { 0 };
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 300;
	s.tcp_flags = TCP_ACK | TCP_PSH | TCP_FIN | TCP_CWR;
	check_segments(&s, 100, PKT_IPID_INC, GSO_IPID_AUTO, 0, 0);
	p = super_pkt(&s, 100, PKT_IPID_INC);
	p->gso_type |= VNET_GSO_ECN;
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), 3);
	assert_int_equal(segs[0].hdr[14 + 20 + 13], TCP_ACK | TCP_CWR);
	assert_int_equal(segs[1].hdr[14 + 20 + 13], TCP_ACK);
	assert_int_equal(segs[2].hdr[14 + 20 + 13], TCP_ACK | TCP_PSH | TCP_FIN);
	/* sequence numbers step by the segment size */
	assert_int_equal(get_be32(segs[0].hdr + 14 + 20 + 4), 1000);
	assert_int_equal(get_be32(segs[1].hdr + 14 + 20 + 4), 1100);
	assert_int_equal(get_be32(segs[2].hdr + 14 + 20 + 4), 1200);
	pkt_free(&pool, p);
}

static void test_tcp4_options_copied_to_every_segment(void **state)
{
	struct frame_spec s;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.tcp_opts = tcp_ts_opts;
	s.tcp_opts_len = sizeof(tcp_ts_opts);
	s.pay_len = 1436 * 5 + 17;
	check_segments(&s, 1436, PKT_IPID_INC, GSO_IPID_AUTO, 0, 0);
}

static void test_tcp4_vlan_tagged(void **state)
{
	struct frame_spec s;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.vlan = 1;
	s.vlan_tci = 0x2064;
	s.pay_len = 1448 * 2 + 5;
	s.tcp_flags = TCP_ACK | TCP_PSH;
	check_segments(&s, 1448, PKT_IPID_INC, GSO_IPID_AUTO, 0, 0);
	check_segments(&s, 1448, PKT_IPID_FIXED, GSO_IPID_AUTO, 1, 1);
}

static void test_tcp4_df_off_and_tos_copied(void **state)
{
	struct frame_spec s;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.df = 0;
	s.tos = 0x2b;
	s.ttl = 3;
	s.pay_len = 2000;
	check_segments(&s, 700, PKT_IPID_INC, GSO_IPID_AUTO, 0, 0);
}

static void test_tcp6_segments_equal_original_frames(void **state)
{
	struct frame_spec s;

	(void)state;
	frame_spec_init(&s, 1, 6);
	s.flowlabel = 0xabcde;
	s.tos = 0x10;
	s.pay_len = 1428 * 4 + 99;
	s.tcp_flags = TCP_ACK | TCP_PSH;
	check_segments(&s, 1428, PKT_IPID_NONE, GSO_IPID_AUTO, 0, 0);
}

static void test_tcp6_ext_header_counted_in_payload_len(void **state)
{
	struct frame_spec s;
	struct gso_opts o = { 0 };
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 1, 6);
	s.ext = dstopts;
	s.ext_len = sizeof(dstopts);
	s.ext_type = 60;
	s.pay_len = 250;
	check_segments(&s, 100, PKT_IPID_NONE, GSO_IPID_AUTO, 0, 0);
	check_segments(&s, 100, PKT_IPID_NONE, GSO_IPID_AUTO, 0, 1);
	p = super_pkt(&s, 100, PKT_IPID_NONE);
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), 3);
	assert_int_equal(segs[0].hdr_len, 14 + 40 + 8 + 20);
	assert_int_equal(get_be16(segs[0].hdr + 14 + 4), 8 + 20 + 100);
	assert_int_equal(get_be16(segs[2].hdr + 14 + 4), 8 + 20 + 50);
	pkt_free(&pool, p);
}

static void test_udp4_segments_equal_original_frames(void **state)
{
	struct frame_spec s;

	(void)state;
	frame_spec_init(&s, 0, 17);
	s.pay_len = 600 * 3;
	s.ipid = 1;
	check_segments(&s, 600, PKT_IPID_INC, GSO_IPID_AUTO, 0, 0);
	s.pay_len = 600 * 2 + 300;
	check_segments(&s, 600, PKT_IPID_INC, GSO_IPID_AUTO, 0, 0);
}

static void test_udp4_fixed_id_given_back(void **state)
{
	struct frame_spec s;

	(void)state;
	frame_spec_init(&s, 0, 17);
	s.pay_len = 600 * 3;
	s.ipid = 20;
	s.df = 0;
	check_segments(&s, 600, PKT_IPID_FIXED, GSO_IPID_AUTO, 1, 0);
}

/* --gso-ipid=linux: Linux renumbers a fixed-ID UDP aggregate ... */
static void test_udp4_linux_policy_renumbers_fixed_id(void **state)
{
	struct frame_spec s;

	(void)state;
	frame_spec_init(&s, 0, 17);
	s.pay_len = 600 * 3;
	s.ipid = 20;
	check_segments(&s, 600, PKT_IPID_FIXED, GSO_IPID_LINUX, 0, 0);
}

/* ... but keeps a fixed-ID TCP aggregate fixed (SKB_GSO_TCP_FIXEDID) */
static void test_tcp4_linux_policy_keeps_fixed_id(void **state)
{
	struct frame_spec s;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 500 * 4;
	s.ipid = 30;
	check_segments(&s, 500, PKT_IPID_FIXED, GSO_IPID_LINUX, 1, 0);
	check_segments(&s, 500, PKT_IPID_INC, GSO_IPID_LINUX, 0, 0);
}

static void test_udp6_segments_equal_original_frames(void **state)
{
	struct frame_spec s;

	(void)state;
	frame_spec_init(&s, 1, 17);
	s.pay_len = 1200 * 5 + 1;
	check_segments(&s, 1200, PKT_IPID_NONE, GSO_IPID_AUTO, 0, 0);
	check_segments(&s, 1200, PKT_IPID_NONE, GSO_IPID_AUTO, 0, 1);
}

/* Folded, not inverted, sum of the UDP/IPv4 segment 0 of @s with check 0. */
static uint16_t udp4_seg0_sum(const struct frame_spec *s, uint16_t mss)
{
	struct frame_spec e = *s;
	uint8_t ph[12];
	size_t len;
	uint32_t sum;

	e.pay_len = mss;
	e.zero_udp_csum = 1;
	len = frame_build(&e, want, sizeof(want));
	memcpy(ph, want + 14 + 12, 8);
	ph[8] = 0;
	ph[9] = 17;
	ph[10] = (uint8_t)((8 + mss) >> 8);
	ph[11] = (uint8_t)(8 + mss);
	sum = (uint16_t)~frame_csum(ph, sizeof(ph), 0);
	return (uint16_t)~frame_csum(want + 34, len - 34, sum);
}

static void test_udp_computed_zero_csum_sent_as_ffff(void **state)
{
	struct frame_spec s;
	struct gso_opts o = { 0 };
	struct pkt *p;
	uint16_t sum, need;

	(void)state;
	frame_spec_init(&s, 0, 17);
	s.pay_len = 400 * 3;
	s.sport = 0;
	/* choose the source port that makes segment 0 sum to 0xffff */
	sum = udp4_seg0_sum(&s, 400);
	need = (uint16_t)(0xffff - sum);
	s.sport = need ? need : 0xffff;
	assert_int_equal(udp4_seg0_sum(&s, 400), 0xffff);

	p = super_pkt(&s, 400, PKT_IPID_INC);
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), 3);
	assert_int_equal(get_be16(segs[0].hdr + 34 + 6), 0xffff);
	pkt_free(&pool, p);
	check_segments(&s, 400, PKT_IPID_INC, GSO_IPID_AUTO, 0, 0);
}

static void test_csum_offload_leaves_pseudo_header_sum(void **state)
{
	struct frame_spec s;
	struct gso_opts o = { .csum_offload = 1 };
	struct pkt *p;
	uint16_t ps;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 1448 * 3 + 100;
	check_segments(&s, 1448, PKT_IPID_INC, GSO_IPID_AUTO, 0, 1);
	frame_spec_init(&s, 0, 17);
	s.pay_len = 1000;
	check_segments(&s, 300, PKT_IPID_INC, GSO_IPID_AUTO, 0, 1);
	frame_spec_init(&s, 1, 6);
	s.pay_len = 1000;
	check_segments(&s, 300, PKT_IPID_NONE, GSO_IPID_AUTO, 0, 1);

	/* the value itself: 198.19.1.2 -> 198.18.1.2, TCP, 20 + 300 */
	frame_spec_init(&s, 0, 6);
	s.pay_len = 600;
	p = super_pkt(&s, 300, PKT_IPID_INC);
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), 2);
	ps = (uint16_t)csum_fold(0xc613 + 0x0102 + 0xc612 + 0x0102 + 6 + 320);
	assert_int_equal(get_be16(segs[1].hdr + 34 + 16), ps);
	pkt_free(&pool, p);
}

static void test_input_csum_state_does_not_matter(void **state)
{
	struct frame_spec s;
	struct gso_opts o = { 0 };
	struct pkt *p;
	uint8_t first[2][2000];
	int k, len;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 3000;
	for (k = 0; k < 2; k++) {
		s.partial_l4_csum = k;
		p = super_pkt(&s, 1448, PKT_IPID_INC);
		p->csum = k ? PKT_CSUM_PARTIAL : PKT_CSUM_VALID;
		assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), 3);
		len = gso_seg_linearize(&segs[0], first[k], sizeof(first[k]));
		assert_int_equal(len, 14 + 20 + 20 + 1448);
		pkt_free(&pool, p);
	}
	assert_memory_equal(first[0], first[1], 14 + 20 + 20 + 1448);
}

static void test_super_packet_not_changed(void **state)
{
	struct frame_spec s;
	struct gso_opts o = { 0 };
	struct pkt *p;
	static uint8_t before[8192];

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 5000;
	s.tcp_flags = TCP_ACK | TCP_PSH;
	p = super_pkt(&s, 1448, PKT_IPID_INC);
	memcpy(before, p->data, p->len);
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), 4);
	assert_memory_equal(before, p->data, p->len);
	pkt_free(&pool, p);
}

static void test_rejects_payload_within_one_segment(void **state)
{
	struct frame_spec s;
	struct gso_opts o = { 0 };
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 1448;
	p = super_pkt(&s, 1448, PKT_IPID_INC);
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), -EINVAL);
	assert_int_equal(gso_count(p), 1);
	p->gso_size = 0;
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), -EINVAL);
	pkt_free(&pool, p);
}

static void test_rejects_gso_type_not_matching_packet(void **state)
{
	static const uint8_t bad_tcp4[] = {
		VNET_GSO_TCPV6, VNET_GSO_UDP_L4, VNET_GSO_UDP, VNET_GSO_NONE,
		0x02, 0x41,
	};
	static const uint8_t bad_udp4[] = {
		VNET_GSO_TCPV4, VNET_GSO_TCPV6, VNET_GSO_UDP,
		VNET_GSO_UDP_L4 | VNET_GSO_ECN,
	};
	struct frame_spec s;
	struct gso_opts o = { 0 };
	struct pkt *p;
	size_t i;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 3000;
	p = super_pkt(&s, 1000, PKT_IPID_INC);
	for (i = 0; i < sizeof(bad_tcp4); i++) {
		p->gso_type = bad_tcp4[i];
		assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), -EINVAL);
	}
	p->gso_type = VNET_GSO_TCPV4 | VNET_GSO_ECN;
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), 3);
	pkt_free(&pool, p);

	frame_spec_init(&s, 0, 17);
	s.pay_len = 3000;
	p = super_pkt(&s, 1000, PKT_IPID_INC);
	for (i = 0; i < sizeof(bad_udp4); i++) {
		p->gso_type = bad_udp4[i];
		assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), -EINVAL);
	}
	pkt_free(&pool, p);

	frame_spec_init(&s, 1, 6);
	s.pay_len = 3000;
	p = super_pkt(&s, 1000, PKT_IPID_NONE);
	p->gso_type = VNET_GSO_TCPV4;
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), -EINVAL);
	pkt_free(&pool, p);
}

static void test_rejects_inconsistent_offsets(void **state)
{
	struct frame_spec s;
	struct gso_opts o = { 0 };
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 3000;
	p = super_pkt(&s, 1000, PKT_IPID_INC);

	p->pay_off = (uint16_t)(p->len + 1);
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), -EINVAL);
	p->pay_off = 14 + 20 + 20;

	p->l4_off = 0;
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), -EINVAL);
	p->l4_off = 14 + 20;

	p->len = 14 + 20 + 20 + 2000;   /* IP length past the frame */
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), -EINVAL);
	p->len = 14 + 20 + 20 + 3000;

	p->data[14 + 20 + 12] = 0x60;   /* doff 6 against a 20-byte header */
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), -EINVAL);
	p->data[14 + 20 + 12] = 0x50;

	p->data[14] = 0x46;             /* IHL 6 against l4_off */
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), -EINVAL);
	p->data[14] = 0x45;

	p->ip_frag = 1;
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), -EINVAL);
	p->ip_frag = 0;

	p->l3 = PKT_L3_ARP;
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), -EINVAL);
	p->l3 = PKT_L3_IPV4;

	o.ipid = (enum gso_ipid)9;
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), -EINVAL);
	o.ipid = GSO_IPID_AUTO;

	assert_int_equal(gso_segment(NULL, &o, segs, MAX_SEGS, NULL), -EINVAL);
	assert_int_equal(gso_segment(p, NULL, segs, MAX_SEGS, NULL), -EINVAL);
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), 3);
	pkt_free(&pool, p);
}

static void test_enospc_when_max_too_small(void **state)
{
	struct frame_spec s;
	struct gso_opts o = { 0 };
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 3001;
	p = super_pkt(&s, 1000, PKT_IPID_INC);
	assert_int_equal(gso_count(p), 4);
	assert_int_equal(gso_segment(p, &o, segs, 3, NULL), -ENOSPC);
	assert_int_equal(gso_segment(p, &o, segs, 4, NULL), 4);
	pkt_free(&pool, p);
}

static void test_seg_linearize_exact_and_enospc(void **state)
{
	struct gso_seg s;
	static const uint8_t pay[5] = { 9, 8, 7, 6, 5 };
	uint8_t buf[16];

	(void)state;
	memset(&s, 0, sizeof(s));
	s.hdr_len = 3;
	s.hdr[0] = 1;
	s.hdr[1] = 2;
	s.hdr[2] = 3;
	s.pay = pay;
	s.pay_len = sizeof(pay);
	assert_int_equal(gso_seg_linearize(&s, buf, 7), -ENOSPC);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(gso_seg_linearize(&s, buf, 8), 8);
	assert_memory_equal(buf, ((const uint8_t[]){ 1, 2, 3, 9, 8, 7, 6, 5, 0 }), 9);
}

/* ---- super-packets as fragment chains (what GRO emits) ---- */

/*
 * Cut linear super-packet @p into a chain: the linear part keeps
 * @head_pay payload bytes, then one fragment per entry of @sizes (the
 * last takes the rest).
 */
static void split(struct pkt *p, uint32_t head_pay, const uint32_t *sizes,
		  unsigned int n)
{
	uint32_t off = p->pay_off + head_pay, len;
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct pkt *f = pkt_alloc(&pool);

		assert_non_null(f);
		len = i == n - 1 ? p->len - off : sizes[i];
		f->data += 3;
		memcpy(f->data, p->data + off, len);
		f->len = len;
		memset(p->data + off, 0xee, len);  /* must not be read */
		pkt_frag_append(p, f);
		off += len;
	}
	p->len = p->pay_off + head_pay;
}

/* @pay with its @len bytes lies inside one piece of @p's chain. */
static int in_one_piece(const struct pkt *p, const uint8_t *pay, uint32_t len)
{
	const struct pkt *f;

	if (pay >= p->data && pay + len <= p->data + p->len)
		return 1;
	for (f = p->frag_first; f; f = f->frag_next)
		if (pay >= f->data && pay + len <= f->data + f->len)
			return 1;
	return 0;
}

static void check_chain_segments(const struct frame_spec *s, uint16_t mss,
				 uint32_t head_pay, const uint32_t *sizes,
				 unsigned int nsizes, int offload)
{
	struct gso_opts o = { .ipid = GSO_IPID_AUTO, .csum_offload = offload };
	struct pkt *p = super_pkt(s, mss, PKT_IPID_INC);
	uint32_t n = (s->pay_len + mss - 1) / mss, i;
	size_t wlen;
	int len;

	split(p, head_pay, sizes, nsizes);
	assert_int_equal(gso_count(p), n);
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), (int)n);
	for (i = 0; i < n; i++) {
		wlen = expected_seg(s, mss, i, n, 0, offload);
		assert_true(in_one_piece(p, segs[i].pay, segs[i].pay_len));
		len = gso_seg_linearize(&segs[i], out, sizeof(out));
		assert_int_equal(len, (int)wlen);
		assert_memory_equal(out, want, wlen);
	}
	pkt_free(&pool, p);
	assert_int_equal(pool.nfree, pool.count);
}

static void test_chain_one_fragment_per_segment(void **state)
{
	static const uint32_t seg[] = { 1000, 1000, 1000, 0 };
	struct frame_spec s;
	int v6, udp, off;

	(void)state;
	for (v6 = 0; v6 < 2; v6++)
		for (udp = 0; udp < 2; udp++)
			for (off = 0; off < 2; off++) {
				frame_spec_init(&s, v6, udp ? 17 : 6);
				s.pay_len = 4 * 1000 + 321;
				/* GRO's shape: head payload, then one segment each */
				check_chain_segments(&s, 1000, 1000, seg, 4, off);
			}
}

static void test_chain_pieces_of_several_segments(void **state)
{
	/* what GRO leaves when the pool ran low part way: whole segments
	 * copied onto the last piece */
	static const uint32_t mixed[] = { 700, 2100, 0 };
	static const uint32_t all[] = { 0 };
	struct frame_spec s;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 7 * 700 + 1;
	s.tcp_flags |= TCP_PSH;
	check_chain_segments(&s, 700, 1400, mixed, 3, 0);
	/* a head with nothing but headers */
	frame_spec_init(&s, 1, 17);
	s.pay_len = 5 * 300;
	check_chain_segments(&s, 300, 0, all, 1, 0);
	check_chain_segments(&s, 300, 0, all, 1, 1);
}

static void test_chain_off_segment_boundaries_needs_linearize(void **state)
{
	static const uint32_t skew[] = { 1000, 0 };
	struct gso_opts o = { .ipid = GSO_IPID_AUTO, .csum_offload = 0 };
	struct frame_spec s;
	struct pkt *p;
	uint32_t i;
	size_t wlen;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 3000;
	p = super_pkt(&s, 1000, PKT_IPID_INC);
	split(p, 999, skew, 2);
	assert_int_equal(gso_count(p), 3);
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), -EXDEV);
	assert_int_equal(pkt_linearize(p, &pool), 0);
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), 3);
	for (i = 0; i < 3; i++) {
		wlen = expected_seg(&s, 1000, i, 3, 0, 0);
		assert_int_equal(gso_seg_linearize(&segs[i], out, sizeof(out)),
				 (int)wlen);
		assert_memory_equal(out, want, wlen);
	}
	pkt_free(&pool, p);
	assert_int_equal(pool.nfree, pool.count);
}

static void test_chain_shorter_than_its_ip_length_rejected(void **state)
{
	static const uint32_t seg[] = { 0 };
	struct gso_opts o = { .ipid = GSO_IPID_AUTO, .csum_offload = 0 };
	struct frame_spec s;
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 0, 17);
	s.pay_len = 2000;
	p = super_pkt(&s, 1000, PKT_IPID_INC);
	split(p, 1000, seg, 1);
	p->frag_last->len--;
	p->frag_bytes--;
	assert_int_equal(gso_segment(p, &o, segs, MAX_SEGS, NULL), -EINVAL);
	pkt_free(&pool, p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp4_segments_equal_original_frames),
		cmocka_unit_test(test_fixed_id_segmented_where_linux_would),
		cmocka_unit_test(test_tcp4_64k_super_packet),
		cmocka_unit_test(test_tcp4_last_segment_carries_remainder),
		cmocka_unit_test(test_tcp4_ipid_increment_policy),
		cmocka_unit_test(test_tcp4_ipid_fixed_policy),
		cmocka_unit_test(test_tcp4_ipid_auto_keeps_fixed_aggregate),
		cmocka_unit_test(test_tcp4_ipid_auto_increments_otherwise),
		cmocka_unit_test(test_tcp4_ipid_increment_wraps),
		cmocka_unit_test(test_tcp_fin_psh_only_on_last_cwr_only_on_first),
		cmocka_unit_test(test_tcp4_options_copied_to_every_segment),
		cmocka_unit_test(test_tcp4_vlan_tagged),
		cmocka_unit_test(test_tcp4_df_off_and_tos_copied),
		cmocka_unit_test(test_tcp6_segments_equal_original_frames),
		cmocka_unit_test(test_tcp6_ext_header_counted_in_payload_len),
		cmocka_unit_test(test_udp4_segments_equal_original_frames),
		cmocka_unit_test(test_udp4_fixed_id_given_back),
		cmocka_unit_test(test_udp4_linux_policy_renumbers_fixed_id),
		cmocka_unit_test(test_tcp4_linux_policy_keeps_fixed_id),
		cmocka_unit_test(test_udp6_segments_equal_original_frames),
		cmocka_unit_test(test_udp_computed_zero_csum_sent_as_ffff),
		cmocka_unit_test(test_csum_offload_leaves_pseudo_header_sum),
		cmocka_unit_test(test_input_csum_state_does_not_matter),
		cmocka_unit_test(test_super_packet_not_changed),
		cmocka_unit_test(test_rejects_payload_within_one_segment),
		cmocka_unit_test(test_rejects_gso_type_not_matching_packet),
		cmocka_unit_test(test_rejects_inconsistent_offsets),
		cmocka_unit_test(test_enospc_when_max_too_small),
		cmocka_unit_test(test_seg_linearize_exact_and_enospc),
		cmocka_unit_test(test_chain_one_fragment_per_segment),
		cmocka_unit_test(test_chain_pieces_of_several_segments),
		cmocka_unit_test(test_chain_off_segment_boundaries_needs_linearize),
		cmocka_unit_test(test_chain_shorter_than_its_ip_length_rejected),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
