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
#include "frames.h"

static struct pkt_pool pool;

static int setup(void **state)
{
	(void)state;
	return pkt_pool_init(&pool, 8) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	pkt_pool_destroy(&pool);
	return 0;
}

/* Build @s into a fresh buffer without parsing it. */
static struct pkt *build(const struct frame_spec *s)
{
	struct pkt *p = pkt_alloc(&pool);

	assert_non_null(p);
	p->len = (uint32_t)frame_build(s, p->data, PKT_DATA_MAX);
	assert_true(p->len > 0);
	return p;
}

/* Recompute the IPv4 header checksum after the test damaged a field. */
static void fix_ip4_csum(struct pkt *p, size_t l3)
{
	uint8_t *ip = p->data + l3;
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;

	put_be16(ip + 10, 0);
	put_be16(ip + 10, frame_csum(ip, ihl, 0));
}

static enum drop_reason parse_built(const struct frame_spec *s,
				    struct pkt **out)
{
	struct pkt *p = build(s);

	*out = p;
	return pkt_parse(p);
}

static void test_pool_hands_out_every_buffer_once(void **state)
{
	struct pkt_pool pl;
	struct pkt *p[4];
	int i;

	(void)state;
	assert_int_equal(pkt_pool_init(&pl, 4), 0);
	assert_int_equal(pl.nfree, 4);
	for (i = 0; i < 4; i++) {
		p[i] = pkt_alloc(&pl);
		assert_non_null(p[i]);
		assert_ptr_equal(p[i]->data, p[i]->buf + PKT_HEADROOM);
		assert_int_equal(p[i]->len, 0);
		/* every byte of the buffer is writable */
		memset(p[i]->buf, 0xa5, PKT_BUF_SIZE);
	}
	assert_null(pkt_alloc(&pl));
	assert_int_equal(pl.nfree, 0);
	for (i = 1; i < 4; i++)
		assert_true(p[i]->buf >= p[i - 1]->buf + PKT_BUF_SIZE ||
			    p[i]->buf + PKT_BUF_SIZE <= p[i - 1]->buf);
	pkt_free(&pl, p[2]);
	assert_ptr_equal(pkt_alloc(&pl), p[2]);
	for (i = 0; i < 4; i++)
		pkt_free(&pl, p[i]);
	assert_int_equal(pl.nfree, 4);
	pkt_pool_destroy(&pl);
	assert_int_equal(pkt_pool_init(&pl, 0), -EINVAL);
}

static void test_parse_tcp4_offsets_and_reset_state(void **state)
{
	struct frame_spec s;
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.ipid = 0xbeef;
	p = build(&s);
	/* leftovers of a previous use must not survive */
	p->gso_size = 1448;
	p->gso_type = 1;
	p->csum = PKT_CSUM_VALID;
	p->agg.segs = 9;
	p->ipv6_ext_other = 1;
	assert_int_equal(pkt_parse(p), DROP_NONE);
	assert_int_equal(p->l3, PKT_L3_IPV4);
	assert_int_equal(p->ethertype, ETHTYPE_IPV4);
	assert_int_equal(p->l3_off, 14);
	assert_int_equal(p->l4_off, 34);
	assert_int_equal(p->pay_off, 54);
	assert_int_equal(p->l4_proto, 6);
	assert_int_equal(pkt_ip_len(p), 140);
	assert_int_equal(pkt_payload_len(p), 100);
	assert_int_equal(p->has_vlan, 0);
	assert_int_equal(p->ip_frag | p->ip_opts | p->ip_pad, 0);
	assert_int_equal(p->ipv6_ext | p->ipv6_ext_other, 0);
	assert_int_equal(p->gso_size, 0);
	assert_int_equal(p->gso_type, 0);
	assert_int_equal(p->csum, PKT_CSUM_UNKNOWN);
	assert_int_equal(p->agg.segs, 1);
	assert_int_equal(p->agg.ipid_first, 0xbeef);
	assert_int_equal(p->agg.ipid_last, 0xbeef);
	assert_int_equal(p->agg.ipid_mode, PKT_IPID_SINGLE);
	pkt_free(&pool, p);
}

static void test_parse_udp6_offsets(void **state)
{
	struct frame_spec s;
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 1, 17);
	s.pay_len = 33;
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	assert_int_equal(p->l3, PKT_L3_IPV6);
	assert_int_equal(p->l4_off, 54);
	assert_int_equal(p->pay_off, 62);
	assert_int_equal(p->l4_proto, 17);
	assert_int_equal(pkt_ip_len(p), 40 + 8 + 33);
	assert_int_equal(pkt_payload_len(p), 33);
	assert_int_equal(p->agg.ipid_mode, PKT_IPID_NONE);
	pkt_free(&pool, p);
}

static void test_parse_vlan_records_tci(void **state)
{
	struct frame_spec s;
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 0, 17);
	s.vlan = 1;
	s.vlan_tci = 0x2064;
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	assert_int_equal(p->has_vlan, 1);
	assert_int_equal(p->vlan_tci, 0x2064);
	assert_int_equal(p->ethertype, ETHTYPE_IPV4);
	assert_int_equal(p->l3_off, 18);
	assert_int_equal(p->l4_off, 38);
	assert_int_equal(p->pay_off, 46);
	pkt_free(&pool, p);
}

static void test_parse_runt_and_vlan_truncated(void **state)
{
	struct frame_spec s;
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 0, 6);
	p = build(&s);
	p->len = 13;
	assert_int_equal(pkt_parse(p), DROP_RUNT);
	p->len = 0;
	assert_int_equal(pkt_parse(p), DROP_RUNT);
	pkt_free(&pool, p);

	s.vlan = 1;
	p = build(&s);
	p->len = 17;
	assert_int_equal(pkt_parse(p), DROP_VLAN_TRUNC);
	p->len = 18;            /* tag complete, IPv4 header missing */
	assert_int_equal(pkt_parse(p), DROP_IP_TRUNC);
	pkt_free(&pool, p);
}

static void test_parse_non_ip_is_not_an_error(void **state)
{
	struct frame_spec s;
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 0, 6);
	p = build(&s);
	put_be16(p->data + 12, ETHTYPE_ARP);
	assert_int_equal(pkt_parse(p), DROP_NONE);
	assert_int_equal(p->l3, PKT_L3_ARP);
	put_be16(p->data + 12, 0x88cc);         /* LLDP */
	assert_int_equal(pkt_parse(p), DROP_NONE);
	assert_int_equal(p->l3, PKT_L3_NONE);
	assert_int_equal(p->l4_off, 0);
	p->len = 14;
	assert_int_equal(pkt_parse(p), DROP_NONE);
	pkt_free(&pool, p);
}

static void test_parse_ipv4_header_errors(void **state)
{
	struct frame_spec s;
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 0, 6);
	p = build(&s);

	p->len = 14 + 19;
	assert_int_equal(pkt_parse(p), DROP_IP_TRUNC);
	p->len = 154;

	p->data[14] = 0x55;     /* version 5 */
	assert_int_equal(pkt_parse(p), DROP_IP_VERSION);
	p->data[14] = 0x44;     /* IHL 4 */
	fix_ip4_csum(p, 14);
	assert_int_equal(pkt_parse(p), DROP_IP_IHL);
	p->data[14] = 0x4f;     /* 60-byte header in a 40-byte frame */
	p->len = 14 + 40;
	assert_int_equal(pkt_parse(p), DROP_IP_TRUNC);
	p->data[14] = 0x45;
	p->len = 154;
	fix_ip4_csum(p, 14);
	assert_int_equal(pkt_parse(p), DROP_NONE);

	put_be16(p->data + 16, 19);     /* total length < header */
	fix_ip4_csum(p, 14);
	assert_int_equal(pkt_parse(p), DROP_IP_LEN);
	put_be16(p->data + 16, 141);    /* one byte past the frame */
	fix_ip4_csum(p, 14);
	assert_int_equal(pkt_parse(p), DROP_IP_LEN);
	put_be16(p->data + 16, 140);
	fix_ip4_csum(p, 14);
	p->data[24] ^= 0x01;            /* damage the header checksum */
	assert_int_equal(pkt_parse(p), DROP_IP_CSUM);
	pkt_free(&pool, p);
}

static void test_parse_ipv4_options_fragment_padding(void **state)
{
	static const uint8_t nop4[4] = { 1, 1, 1, 0 };
	struct frame_spec s;
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.ip_opts = nop4;
	s.ip_opts_len = 4;
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	assert_int_equal(p->ip_opts, 1);
	assert_int_equal(p->l4_off, 38);
	assert_int_equal(p->pay_off, 58);
	pkt_free(&pool, p);

	/* first fragment: L4 header is there */
	frame_spec_init(&s, 0, 17);
	s.df = 0;
	s.frag = 0x2000;
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	assert_int_equal(p->ip_frag, 1);
	assert_int_equal(p->l4_off, 34);
	/* its UDP length covers the whole datagram, not this fragment */
	put_be16(p->data + 38, 3000);
	assert_int_equal(pkt_parse(p), DROP_NONE);
	pkt_free(&pool, p);

	/* later fragment: no L4 header */
	s.frag = 0x0010;
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	assert_int_equal(p->ip_frag, 1);
	assert_int_equal(p->l4_off, 0);
	pkt_free(&pool, p);

	frame_spec_init(&s, 0, 6);
	s.trailer = 6;
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	assert_int_equal(p->ip_pad, 1);
	assert_int_equal(pkt_ip_len(p), 140);
	assert_int_equal(pkt_payload_len(p), 100);
	pkt_free(&pool, p);
}

static void test_parse_ipv6_header_errors(void **state)
{
	struct frame_spec s;
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 1, 6);
	p = build(&s);
	p->len = 14 + 39;
	assert_int_equal(pkt_parse(p), DROP_IP_TRUNC);
	p->len = 14 + 40 + 120;
	p->data[14] = 0x40;
	assert_int_equal(pkt_parse(p), DROP_IP_VERSION);
	p->data[14] = 0x60;
	put_be16(p->data + 18, 121);
	assert_int_equal(pkt_parse(p), DROP_IP_LEN);
	put_be16(p->data + 18, 0);      /* jumbogram: not walked */
	assert_int_equal(pkt_parse(p), DROP_NONE);
	assert_int_equal(p->ipv6_ext_other, 1);
	assert_int_equal(p->l4_off, 0);
	pkt_free(&pool, p);
}

static void test_parse_ipv6_walks_dstopts_and_routing(void **state)
{
	uint8_t ext[16] = { 0 };
	struct frame_spec s;
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 1, 6);
	s.ext = ext;
	s.ext_len = 16;
	s.ext_type = 60;
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	assert_int_equal(p->ipv6_ext, 1);
	assert_int_equal(p->ipv6_ext_other, 0);
	assert_int_equal(p->l4_proto, 6);
	assert_int_equal(p->l4_off, 14 + 40 + 16);
	assert_int_equal(p->pay_off, 14 + 40 + 16 + 20);
	assert_int_equal(pkt_payload_len(p), 100);

	/* Routing in front of the Destination Options */
	s.ext_type = 43;
	pkt_free(&pool, p);
	p = build(&s);
	p->data[54 + 0] = 60;
	p->data[54 + 1] = 0;
	p->data[54 + 8] = 6;
	p->data[54 + 9] = 0;
	assert_int_equal(pkt_parse(p), DROP_NONE);
	assert_int_equal(p->ipv6_ext, 1);
	assert_int_equal(p->l4_off, 70);

	/* an extension header claiming more than the datagram holds */
	p->data[54 + 9] = 200;
	assert_int_equal(pkt_parse(p), DROP_NONE);
	assert_int_equal(p->ipv6_ext_other, 1);
	assert_int_equal(p->l4_off, 0);
	pkt_free(&pool, p);
}

static void test_parse_ipv6_fragment_and_hbh_stop_the_walk(void **state)
{
	uint8_t ext[8] = { 0 };
	struct frame_spec s;
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 1, 17);
	s.ext = ext;
	s.ext_len = 8;
	s.ext_type = 44;
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	assert_int_equal(p->ip_frag, 1);
	assert_int_equal(p->l4_off, 0);
	pkt_free(&pool, p);

	s.ext_type = 0;
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	assert_int_equal(p->ipv6_ext_other, 1);
	assert_int_equal(p->ip_frag, 0);
	assert_int_equal(p->l4_off, 0);
	pkt_free(&pool, p);
}

static void test_parse_tcp_header_errors(void **state)
{
	struct frame_spec s;
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 0;
	p = build(&s);
	/* IP datagram ends one byte into the TCP header's last word */
	put_be16(p->data + 16, 20 + 19);
	fix_ip4_csum(p, 14);
	p->len = 14 + 39;
	assert_int_equal(pkt_parse(p), DROP_L4_TRUNC);
	put_be16(p->data + 16, 40);
	fix_ip4_csum(p, 14);
	p->len = 54;
	p->data[46] = 0x40;     /* doff 4 */
	assert_int_equal(pkt_parse(p), DROP_TCP_DOFF);
	p->data[46] = 0x60;     /* doff 6: options past the datagram */
	assert_int_equal(pkt_parse(p), DROP_L4_TRUNC);
	p->data[46] = 0x50;
	assert_int_equal(pkt_parse(p), DROP_NONE);
	assert_int_equal(pkt_payload_len(p), 0);
	pkt_free(&pool, p);
}

static void test_parse_udp_header_errors(void **state)
{
	struct frame_spec s;
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 0, 17);
	s.pay_len = 10;
	p = build(&s);
	put_be16(p->data + 16, 20 + 7);
	fix_ip4_csum(p, 14);
	assert_int_equal(pkt_parse(p), DROP_L4_TRUNC);
	put_be16(p->data + 16, 20 + 18);
	fix_ip4_csum(p, 14);
	put_be16(p->data + 38, 7);
	assert_int_equal(pkt_parse(p), DROP_UDP_LEN);
	put_be16(p->data + 38, 19);
	assert_int_equal(pkt_parse(p), DROP_UDP_LEN);
	/* shorter than the IP payload is legal */
	put_be16(p->data + 38, 12);
	assert_int_equal(pkt_parse(p), DROP_NONE);
	assert_int_equal(p->pay_off, 42);
	pkt_free(&pool, p);
}

static void test_parse_other_l4_sets_offsets(void **state)
{
	struct frame_spec s;
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 0, 17);
	p = build(&s);
	p->data[23] = 1;        /* ICMP */
	fix_ip4_csum(p, 14);
	assert_int_equal(pkt_parse(p), DROP_NONE);
	assert_int_equal(p->l4_proto, 1);
	assert_int_equal(p->l4_off, 34);
	assert_int_equal(p->pay_off, 34);
	pkt_free(&pool, p);
}

static void check_verify(int v6, uint8_t proto)
{
	struct frame_spec s;
	struct pkt *p;

	frame_spec_init(&s, v6, proto);
	s.pay_len = 301;        /* odd: the padded last byte counts */
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	assert_int_equal(pkt_l4_csum_verify(p, 0), PKT_CSUM_VALID);
	assert_int_equal(p->csum, PKT_CSUM_VALID);
	p->data[p->len - 1] ^= 0x10;
	assert_int_equal(pkt_l4_csum_verify(p, 1), PKT_CSUM_BAD);
	pkt_free(&pool, p);

	s.bad_l4_csum = 1;
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	assert_int_equal(pkt_l4_csum_verify(p, 0), PKT_CSUM_BAD);
	pkt_free(&pool, p);

	s.bad_l4_csum = 0;
	s.partial_l4_csum = 1;
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	assert_int_equal(pkt_l4_csum_verify(p, 0), PKT_CSUM_BAD);
	assert_int_equal(pkt_l4_csum_verify(p, 1), PKT_CSUM_PARTIAL);
	pkt_free(&pool, p);

	s.partial_l4_csum = 0;
	s.trailer = 5;          /* padding is not part of the sum */
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	p->data[p->len - 1] = 0x77;
	assert_int_equal(pkt_l4_csum_verify(p, 0), PKT_CSUM_VALID);
	pkt_free(&pool, p);
}

static void test_csum_verify_good_bad_partial(void **state)
{
	(void)state;
	check_verify(0, 6);
	check_verify(0, 17);
	check_verify(1, 6);
	check_verify(1, 17);
}

static void test_csum_verify_udp_zero(void **state)
{
	struct frame_spec s;
	struct pkt *p;

	(void)state;
	frame_spec_init(&s, 0, 17);
	s.zero_udp_csum = 1;
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	assert_int_equal(pkt_l4_csum_verify(p, 0), PKT_CSUM_VALID);
	pkt_free(&pool, p);
	/* IPv6 has no "no checksum" */
	frame_spec_init(&s, 1, 17);
	p = build(&s);
	put_be16(p->data + 54 + 6, 0);
	assert_int_equal(pkt_parse(p), DROP_NONE);
	assert_int_equal(pkt_l4_csum_verify(p, 1), PKT_CSUM_BAD);
	pkt_free(&pool, p);
}

/* Partial -> complete and complete -> partial give frames.c's bytes. */
static void check_partial_roundtrip(int v6, uint8_t proto, uint32_t trailer)
{
	struct frame_spec s;
	struct pkt *full, *part;

	frame_spec_init(&s, v6, proto);
	s.pay_len = 777;
	s.trailer = trailer;
	assert_int_equal(parse_built(&s, &full), DROP_NONE);
	s.partial_l4_csum = 1;
	assert_int_equal(parse_built(&s, &part), DROP_NONE);
	assert_memory_not_equal(full->data, part->data, full->len);

	pkt_csum_set_partial(full);
	assert_int_equal(full->csum, PKT_CSUM_PARTIAL);
	assert_memory_equal(full->data, part->data, full->len);

	part->csum = PKT_CSUM_PARTIAL;
	assert_int_equal(pkt_csum_complete(part), 0);
	assert_int_equal(part->csum, PKT_CSUM_VALID);
	s.partial_l4_csum = 0;
	frame_build(&s, full->data, PKT_DATA_MAX);
	assert_memory_equal(full->data, part->data, full->len);
	pkt_free(&pool, full);
	pkt_free(&pool, part);
}

static void test_csum_partial_and_complete_match_builder(void **state)
{
	(void)state;
	check_partial_roundtrip(0, 6, 0);
	check_partial_roundtrip(0, 17, 0);
	check_partial_roundtrip(1, 6, 0);
	check_partial_roundtrip(1, 17, 3);
}

static void test_csum_complete_leaves_other_states_alone(void **state)
{
	struct frame_spec s;
	struct pkt *p;
	uint8_t copy[200];

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.bad_l4_csum = 1;
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	memcpy(copy, p->data, p->len);
	assert_int_equal(pkt_csum_complete(p), 0);      /* UNKNOWN: no-op */
	assert_memory_equal(copy, p->data, p->len);
	assert_int_equal(p->csum, PKT_CSUM_UNKNOWN);
	pkt_free(&pool, p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_hands_out_every_buffer_once),
		cmocka_unit_test(test_parse_tcp4_offsets_and_reset_state),
		cmocka_unit_test(test_parse_udp6_offsets),
		cmocka_unit_test(test_parse_vlan_records_tci),
		cmocka_unit_test(test_parse_runt_and_vlan_truncated),
		cmocka_unit_test(test_parse_non_ip_is_not_an_error),
		cmocka_unit_test(test_parse_ipv4_header_errors),
		cmocka_unit_test(test_parse_ipv4_options_fragment_padding),
		cmocka_unit_test(test_parse_ipv6_header_errors),
		cmocka_unit_test(test_parse_ipv6_walks_dstopts_and_routing),
		cmocka_unit_test(test_parse_ipv6_fragment_and_hbh_stop_the_walk),
		cmocka_unit_test(test_parse_tcp_header_errors),
		cmocka_unit_test(test_parse_udp_header_errors),
		cmocka_unit_test(test_parse_other_l4_sets_offsets),
		cmocka_unit_test(test_csum_verify_good_bad_partial),
		cmocka_unit_test(test_csum_verify_udp_zero),
		cmocka_unit_test(test_csum_partial_and_complete_match_builder),
		cmocka_unit_test(test_csum_complete_leaves_other_states_alone),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
