/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "grogso/csum.h"
#include "grogso/pkt.h"
#include "grogso/vnet.h"
#include "frames.h"

static struct pkt_pool pool;

static int setup(void **state)
{
	(void)state;
	return pkt_pool_init(&pool, 4) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	pkt_pool_destroy(&pool);
	return 0;
}

/* A parsed frame: @v6, @proto, @pay bytes of payload, partial checksum. */
static struct pkt *mk(int v6, uint8_t proto, uint32_t pay)
{
	struct frame_spec s;
	struct pkt *p;

	frame_spec_init(&s, v6, proto);
	s.pay_len = pay;
	s.partial_l4_csum = 1;
	p = frame_pkt(&pool, &s);
	assert_non_null(p);
	return p;
}

static struct pkt *mk_spec(const struct frame_spec *s)
{
	struct pkt *p = frame_pkt(&pool, s);

	assert_non_null(p);
	return p;
}

/* The header Linux would give for @p as a @gso super-packet. */
static struct vnet_hdr good_hdr(const struct pkt *p, uint8_t gso,
				uint16_t gso_size)
{
	struct vnet_hdr h = {
		.flags = VNET_F_NEEDS_CSUM,
		.gso_type = gso,
		.hdr_len = p->pay_off,
		.gso_size = gso_size,
		.csum_start = p->l4_off,
		.csum_offset = p->l4_proto == 6 ? 16 : 6,
	};

	return h;
}

static void test_read_12_bytes_little_endian(void **state)
{
	static const uint8_t b[12] = {
		0x01, 0x81, 0x36, 0x00, 0xa8, 0x05, 0x22, 0x00,
		0x10, 0x00, 0x02, 0x01,
	};
	struct vnet_hdr h;

	(void)state;
	assert_int_equal(vnet_read(&h, b, sizeof(b), 12), 0);
	assert_int_equal(h.flags, 0x01);
	assert_int_equal(h.gso_type, 0x81);
	assert_int_equal(h.hdr_len, 54);
	assert_int_equal(h.gso_size, 1448);
	assert_int_equal(h.csum_start, 34);
	assert_int_equal(h.csum_offset, 16);
	assert_int_equal(h.num_buffers, 0x0102);

	assert_int_equal(vnet_read(&h, b, sizeof(b), 10), 0);
	assert_int_equal(h.csum_offset, 16);
	assert_int_equal(h.num_buffers, 0);

	assert_int_equal(vnet_read(&h, b, 11, 12), -EINVAL);
	assert_int_equal(vnet_read(&h, b, 9, 10), -EINVAL);
	assert_int_equal(vnet_read(&h, b, 12, 11), -EINVAL);
}

static void test_write_12_and_10_bytes_exact(void **state)
{
	static const uint8_t want[12] = {
		0x01, 0x05, 0x3e, 0x00, 0xb4, 0x05, 0x36, 0x00,
		0x06, 0x00, 0x01, 0x00,
	};
	struct vnet_hdr h = {
		.flags = 1, .gso_type = 5, .hdr_len = 62, .gso_size = 1460,
		.csum_start = 54, .csum_offset = 6, .num_buffers = 1,
	};
	uint8_t b[14];

	(void)state;
	memset(b, 0xee, sizeof(b));
	vnet_write(&h, b, 12);
	assert_memory_equal(b, want, 12);
	assert_int_equal(b[12], 0xee);

	memset(b, 0xee, sizeof(b));
	vnet_write(&h, b, 10);
	assert_memory_equal(b, want, 10);
	assert_int_equal(b[10], 0xee);
	assert_int_equal(b[11], 0xee);
}

static void expect_drop(struct pkt *p, const struct vnet_hdr *h,
			enum drop_reason r)
{
	assert_string_equal(stats_drop_name(vnet_check(h, p)),
			    stats_drop_name(r));
}

static void test_reject_unknown_gso_type_and_tunnel_bits(void **state)
{
	static const uint8_t bad[] = { 0x02, 0x03, 0x06, 0x21, 0x44, 0x80,
				       0x83, 0x7f };
	struct pkt *p = mk(0, 6, 4000);
	struct vnet_hdr h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad); i++) {
		h = good_hdr(p, bad[i], 1448);
		expect_drop(p, &h, DROP_VNET_GSO_TYPE);
	}
	pkt_free(&pool, p);
}

static void test_reject_gso_size_zero_and_by_frags(void **state)
{
	struct pkt *p = mk(0, 6, 4000);
	struct vnet_hdr h = good_hdr(p, VNET_GSO_TCPV4, 0);

	(void)state;
	expect_drop(p, &h, DROP_VNET_GSO_SIZE);
	h.gso_size = 0xffff;
	expect_drop(p, &h, DROP_VNET_GSO_SIZE);
	h.gso_size = 0xfffe;
	expect_drop(p, &h, DROP_NONE);
	pkt_free(&pool, p);
}

static void test_reject_ecn_on_udp(void **state)
{
	struct pkt *p = mk(0, 17, 4000);
	struct vnet_hdr h = good_hdr(p, VNET_GSO_UDP_L4 | VNET_GSO_ECN, 1000);

	(void)state;
	expect_drop(p, &h, DROP_VNET_ECN_UDP);
	pkt_free(&pool, p);
}

static void test_reject_udp_l4_without_needs_csum(void **state)
{
	struct pkt *p = mk(1, 17, 4000);
	struct vnet_hdr h = good_hdr(p, VNET_GSO_UDP_L4, 1000);

	(void)state;
	h.flags = 0;
	expect_drop(p, &h, DROP_VNET_UDP_CSUM);
	h.flags = VNET_F_DATA_VALID;
	expect_drop(p, &h, DROP_VNET_UDP_CSUM);
	pkt_free(&pool, p);
}

static void test_reject_csum_offset(void **state)
{
	struct pkt *t = mk(0, 6, 4000), *u = mk(0, 17, 4000);
	struct vnet_hdr h;

	(void)state;
	h = good_hdr(t, VNET_GSO_TCPV4, 1448);
	h.csum_offset = 6;
	expect_drop(t, &h, DROP_VNET_CSUM_OFFSET);
	h.gso_type = 0;         /* plain packets too */
	h.gso_size = 0;
	expect_drop(t, &h, DROP_VNET_CSUM_OFFSET);
	h = good_hdr(u, VNET_GSO_UDP_L4, 1000);
	h.csum_offset = 16;
	expect_drop(u, &h, DROP_VNET_CSUM_OFFSET);
	pkt_free(&pool, t);
	pkt_free(&pool, u);
}

static void test_reject_csum_start(void **state)
{
	struct frame_spec s;
	struct pkt *p = mk(0, 6, 4000), *icmp;
	struct vnet_hdr h = good_hdr(p, VNET_GSO_TCPV4, 1448);

	(void)state;
	h.csum_start = 24;      /* passes the kernel's first check only */
	expect_drop(p, &h, DROP_VNET_CSUM_START);
	h.csum_start = 35;
	expect_drop(p, &h, DROP_VNET_CSUM_START);
	h.csum_start = 400;
	h.gso_type = 0;
	expect_drop(p, &h, DROP_VNET_CSUM_START);
	pkt_free(&pool, p);

	/* NEEDS_CSUM on something that has no TCP/UDP checksum */
	frame_spec_init(&s, 0, 17);
	icmp = mk_spec(&s);
	icmp->data[23] = 1;
	put_be16(icmp->data + 24, 0);
	put_be16(icmp->data + 24, frame_csum(icmp->data + 14, 20, 0));
	assert_int_equal(pkt_parse(icmp), DROP_NONE);
	h = good_hdr(icmp, 0, 0);
	h.csum_offset = 2;
	expect_drop(icmp, &h, DROP_VNET_CSUM_START);
	h.csum_offset = 6;
	expect_drop(icmp, &h, DROP_VNET_CSUM_START);
	put_be16(icmp->data + 12, ETHTYPE_ARP);
	assert_int_equal(pkt_parse(icmp), DROP_NONE);
	expect_drop(icmp, &h, DROP_VNET_CSUM_START);
	pkt_free(&pool, icmp);
}

static void test_reject_gso_type_against_headers(void **state)
{
	struct pkt *t4 = mk(0, 6, 4000), *t6 = mk(1, 6, 4000);
	struct pkt *u4 = mk(0, 17, 4000);
	struct vnet_hdr h;

	(void)state;
	h = good_hdr(t4, VNET_GSO_TCPV6, 1448);
	expect_drop(t4, &h, DROP_VNET_PROTO);
	h = good_hdr(t6, VNET_GSO_TCPV4, 1448);
	expect_drop(t6, &h, DROP_VNET_PROTO);
	h = good_hdr(u4, VNET_GSO_TCPV4, 1448);
	expect_drop(u4, &h, DROP_VNET_PROTO);
	h = good_hdr(t4, VNET_GSO_UDP_L4, 1448);
	expect_drop(t4, &h, DROP_VNET_PROTO);
	/* without NEEDS_CSUM the type is still checked */
	h = good_hdr(t4, VNET_GSO_TCPV6, 1448);
	h.flags = 0;
	expect_drop(t4, &h, DROP_VNET_PROTO);
	put_be16(t4->data + 12, ETHTYPE_ARP);
	assert_int_equal(pkt_parse(t4), DROP_NONE);
	h.gso_type = VNET_GSO_TCPV4;
	expect_drop(t4, &h, DROP_VNET_PROTO);
	pkt_free(&pool, t4);
	pkt_free(&pool, t6);
	pkt_free(&pool, u4);
}

static void test_reject_gso_on_options_fragments_ext(void **state)
{
	static const uint8_t nop4[4] = { 1, 1, 1, 0 };
	static const uint8_t hbh[8] = { 0 };
	struct frame_spec s;
	struct vnet_hdr h;
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 4000;
	s.ip_opts = nop4;
	s.ip_opts_len = 4;
	p = mk_spec(&s);
	h = good_hdr(p, VNET_GSO_TCPV4, 1448);
	expect_drop(p, &h, DROP_VNET_GSO_BAD);
	pkt_free(&pool, p);

	frame_spec_init(&s, 0, 6);
	s.pay_len = 4000;
	s.df = 0;
	s.frag = 0x2000;
	p = mk_spec(&s);
	h = good_hdr(p, VNET_GSO_TCPV4, 1448);
	h.flags = 0;
	expect_drop(p, &h, DROP_VNET_GSO_BAD);
	pkt_free(&pool, p);

	frame_spec_init(&s, 1, 6);
	s.pay_len = 4000;
	s.ext = hbh;
	s.ext_len = 8;
	s.ext_type = 0;
	p = mk_spec(&s);
	h = good_hdr(p, VNET_GSO_TCPV6, 1448);
	h.flags = 0;
	expect_drop(p, &h, DROP_VNET_GSO_BAD);
	pkt_free(&pool, p);
}

static void test_reject_more_than_128_udp_segments(void **state)
{
	struct pkt *p = mk(0, 17, 1290);
	struct vnet_hdr h = good_hdr(p, VNET_GSO_UDP_L4, 10);

	(void)state;
	expect_drop(p, &h, DROP_VNET_UDP_SEGS);
	pkt_free(&pool, p);
	p = mk(0, 17, 1280);
	h = good_hdr(p, VNET_GSO_UDP_L4, 10);
	assert_int_equal(vnet_check(&h, p), DROP_NONE);
	assert_int_equal(p->agg.segs, 128);
	pkt_free(&pool, p);
}

static void test_accept_tso4_sets_gso_state(void **state)
{
	struct pkt *p = mk(0, 6, 4000);
	struct vnet_hdr h = good_hdr(p, VNET_GSO_TCPV4, 1448);

	(void)state;
	h.hdr_len = 154;        /* the kernel's linear length: ignored */
	assert_int_equal(vnet_check(&h, p), DROP_NONE);
	assert_int_equal(p->csum, PKT_CSUM_PARTIAL);
	assert_int_equal(p->gso_size, 1448);
	assert_int_equal(p->gso_type, VNET_GSO_TCPV4);
	assert_int_equal(p->agg.segs, 3);
	pkt_free(&pool, p);
}

static void test_accept_tso6_ecn_and_uso6(void **state)
{
	struct pkt *t = mk(1, 6, 2896), *u = mk(1, 17, 3001);
	struct vnet_hdr h;

	(void)state;
	h = good_hdr(t, VNET_GSO_TCPV6 | VNET_GSO_ECN, 1448);
	assert_int_equal(vnet_check(&h, t), DROP_NONE);
	assert_int_equal(t->gso_type, VNET_GSO_TCPV6 | VNET_GSO_ECN);
	assert_int_equal(t->agg.segs, 2);
	h = good_hdr(u, VNET_GSO_UDP_L4, 1000);
	assert_int_equal(vnet_check(&h, u), DROP_NONE);
	assert_int_equal(u->gso_type, VNET_GSO_UDP_L4);
	assert_int_equal(u->agg.segs, 4);
	pkt_free(&pool, t);
	pkt_free(&pool, u);
}

static void test_accept_tso_without_needs_csum(void **state)
{
	struct frame_spec s;
	struct pkt *p;
	struct vnet_hdr h;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 3000;
	p = mk_spec(&s);
	h = good_hdr(p, VNET_GSO_TCPV4, 1448);
	h.flags = 0;
	assert_int_equal(vnet_check(&h, p), DROP_NONE);
	assert_int_equal(p->csum, PKT_CSUM_UNKNOWN);
	assert_int_equal(p->agg.segs, 3);
	pkt_free(&pool, p);
}

static void test_plain_flags_set_csum_state(void **state)
{
	struct pkt *p = mk(0, 17, 100);
	struct vnet_hdr h = { 0 };

	(void)state;
	assert_int_equal(vnet_check(&h, p), DROP_NONE);
	assert_int_equal(p->csum, PKT_CSUM_UNKNOWN);
	assert_int_equal(p->gso_size, 0);
	h.flags = VNET_F_DATA_VALID;
	assert_int_equal(vnet_check(&h, p), DROP_NONE);
	assert_int_equal(p->csum, PKT_CSUM_VALID);
	h = good_hdr(p, 0, 0);
	assert_int_equal(vnet_check(&h, p), DROP_NONE);
	assert_int_equal(p->csum, PKT_CSUM_PARTIAL);
	assert_int_equal(p->agg.segs, 1);
	pkt_free(&pool, p);
}

static void test_gso_with_small_payload_becomes_plain(void **state)
{
	struct pkt *p = mk(0, 6, 1448);
	struct vnet_hdr h = good_hdr(p, VNET_GSO_TCPV4, 1448);

	(void)state;
	assert_int_equal(vnet_check(&h, p), DROP_NONE);
	assert_int_equal(p->gso_size, 0);
	assert_int_equal(p->gso_type, 0);
	assert_int_equal(p->agg.segs, 1);
	assert_int_equal(p->csum, PKT_CSUM_PARTIAL);
	pkt_free(&pool, p);

	p = mk(1, 17, 10);
	h = good_hdr(p, VNET_GSO_UDP_L4, 1200);
	assert_int_equal(vnet_check(&h, p), DROP_NONE);
	assert_int_equal(p->gso_size, 0);
	assert_int_equal(p->agg.segs, 1);
	pkt_free(&pool, p);
}

static void test_from_pkt_super_packet_exact_bytes(void **state)
{
	static const uint8_t want[12] = {
		0x01, 0x81, 0x36, 0x00, 0xa8, 0x05, 0x22, 0x00,
		0x10, 0x00, 0x00, 0x00,
	};
	struct pkt *p = mk(0, 6, 4000);
	struct vnet_hdr h;
	uint8_t b[12];

	(void)state;
	p->csum = PKT_CSUM_PARTIAL;
	p->gso_size = 1448;
	p->gso_type = VNET_GSO_TCPV4 | VNET_GSO_ECN;
	vnet_from_pkt(&h, p, 1);
	vnet_write(&h, b, sizeof(b));
	assert_memory_equal(b, want, sizeof(b));

	/* what grogso writes, grogso (and Linux) reads back the same way */
	assert_int_equal(vnet_check(&h, p), DROP_NONE);
	assert_int_equal(p->gso_size, 1448);
	assert_int_equal(p->agg.segs, 3);
	pkt_free(&pool, p);
}

static void test_from_pkt_uso_vlan_exact_bytes(void **state)
{
	static const uint8_t want[12] = {
		0x01, 0x05, 0x42, 0x00, 0xe8, 0x03, 0x3a, 0x00,
		0x06, 0x00, 0x00, 0x00,
	};
	struct frame_spec s;
	struct vnet_hdr h;
	struct pkt *p;
	uint8_t b[12];

	(void)state;
	frame_spec_init(&s, 1, 17);
	s.vlan = 1;
	s.pay_len = 3000;
	p = mk_spec(&s);
	pkt_csum_set_partial(p);
	p->gso_size = 1000;
	p->gso_type = VNET_GSO_UDP_L4 | VNET_GSO_ECN;   /* ECN never on UDP */
	vnet_from_pkt(&h, p, 1);
	vnet_write(&h, b, sizeof(b));
	assert_memory_equal(b, want, sizeof(b));
	pkt_free(&pool, p);
}

static void test_from_pkt_plain_partial_needs_csum_only(void **state)
{
	static const uint8_t want[12] = {
		0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x22, 0x00,
		0x10, 0x00, 0x00, 0x00,
	};
	static const uint8_t zero[12] = { 0 };
	struct pkt *p = mk(0, 6, 1000);
	struct vnet_hdr h;
	uint8_t b[12];

	(void)state;
	p->csum = PKT_CSUM_PARTIAL;
	vnet_from_pkt(&h, p, 1);
	vnet_write(&h, b, sizeof(b));
	assert_memory_equal(b, want, sizeof(b));

	/* GSO state whose payload fits one segment: no GSO type */
	p->gso_size = 1000;
	p->gso_type = VNET_GSO_TCPV4;
	vnet_from_pkt(&h, p, 1);
	vnet_write(&h, b, sizeof(b));
	assert_memory_equal(b, want, sizeof(b));

	/* without offload: all zero, whatever the packet */
	p->gso_size = 100;
	vnet_from_pkt(&h, p, 0);
	vnet_write(&h, b, sizeof(b));
	assert_memory_equal(b, zero, sizeof(b));

	/* complete checksum, no GSO: nothing to say */
	p->gso_size = 0;
	p->csum = PKT_CSUM_VALID;
	vnet_from_pkt(&h, p, 1);
	vnet_write(&h, b, sizeof(b));
	assert_memory_equal(b, zero, sizeof(b));
	pkt_free(&pool, p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_12_bytes_little_endian),
		cmocka_unit_test(test_write_12_and_10_bytes_exact),
		cmocka_unit_test(test_reject_unknown_gso_type_and_tunnel_bits),
		cmocka_unit_test(test_reject_gso_size_zero_and_by_frags),
		cmocka_unit_test(test_reject_ecn_on_udp),
		cmocka_unit_test(test_reject_udp_l4_without_needs_csum),
		cmocka_unit_test(test_reject_csum_offset),
		cmocka_unit_test(test_reject_csum_start),
		cmocka_unit_test(test_reject_gso_type_against_headers),
		cmocka_unit_test(test_reject_gso_on_options_fragments_ext),
		cmocka_unit_test(test_reject_more_than_128_udp_segments),
		cmocka_unit_test(test_accept_tso4_sets_gso_state),
		cmocka_unit_test(test_accept_tso6_ecn_and_uso6),
		cmocka_unit_test(test_accept_tso_without_needs_csum),
		cmocka_unit_test(test_plain_flags_set_csum_state),
		cmocka_unit_test(test_gso_with_small_payload_becomes_plain),
		cmocka_unit_test(test_from_pkt_super_packet_exact_bytes),
		cmocka_unit_test(test_from_pkt_uso_vlan_exact_bytes),
		cmocka_unit_test(test_from_pkt_plain_partial_needs_csum_only),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
