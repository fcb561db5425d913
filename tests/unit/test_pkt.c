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

/* What a bridge passes: broken IP headers, as L2-only frames with their
 * pass reason; not frames broken below IP, nor sound ones. */
static void test_l2_only_for_broken_ip_headers(void **state)
{
	static const enum drop_reason passed[] = {
		DROP_IP_TRUNC, DROP_IP_VERSION, DROP_IP_IHL, DROP_IP_LEN,
		DROP_IP_CSUM,
	};
	static const enum pass_reason as[] = {
		PASS_IP_TRUNC, PASS_IP_VERSION, PASS_IP_IHL, PASS_IP_LEN,
		PASS_IP_CSUM,
	};
	struct frame_spec s;
	struct pkt *p;
	size_t i;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.vlan = 1;
	s.vlan_tci = 7;
	p = build(&s);
	p->data[18 + 10] ^= 0x01;       /* the IPv4 header checksum */
	assert_int_equal(pkt_parse(p), DROP_IP_CSUM);
	assert_int_equal(pkt_l2_only(p, DROP_IP_CSUM), PASS_IP_CSUM);
	assert_int_equal(p->l3, PKT_L3_NONE);
	assert_int_equal(p->l4_off, 0);
	assert_int_equal(p->pay_off, 0);
	assert_int_equal(p->gso_size, 0);
	assert_int_equal(p->csum, PKT_CSUM_UNKNOWN);
	/* the tag stays: the frame leaves tagged as it came */
	assert_int_equal(p->has_vlan, 1);
	assert_int_equal(p->vlan_tci, 7);
	assert_int_equal(p->l3_off, 18);
	assert_int_equal(p->ethertype, 0x0800);
	for (i = 0; i < sizeof(passed) / sizeof(passed[0]); i++)
		assert_int_equal(pkt_l2_only(p, passed[i]), as[i]);
	assert_int_equal(pkt_l2_only(p, DROP_NONE), PASS_NONE);
	assert_int_equal(pkt_l2_only(p, DROP_RUNT), PASS_NONE);
	assert_int_equal(pkt_l2_only(p, DROP_VLAN_TRUNC), PASS_NONE);
	assert_int_equal(pkt_l2_only(p, DROP_VNET_GSO_TYPE), PASS_NONE);
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
	/* a router forwards these: parsed, but with no TCP header */
	assert_int_equal(pkt_parse(p), DROP_NONE);
	assert_int_equal(p->l4_bad, PKT_L4_TRUNC);
	assert_int_equal(p->l4_off, 0);
	put_be16(p->data + 16, 40);
	fix_ip4_csum(p, 14);
	p->len = 54;
	p->data[46] = 0x40;     /* doff 4 */
	assert_int_equal(pkt_parse(p), DROP_NONE);
	assert_int_equal(p->l4_bad, PKT_L4_DOFF);
	p->data[46] = 0x60;     /* doff 6: options past the datagram */
	assert_int_equal(pkt_parse(p), DROP_NONE);
	assert_int_equal(p->l4_bad, PKT_L4_TRUNC);
	p->data[46] = 0x50;
	assert_int_equal(pkt_parse(p), DROP_NONE);
	assert_int_equal(p->l4_bad, 0);
	assert_int_equal(p->l4_off, 34);
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
	assert_int_equal(pkt_parse(p), DROP_NONE);
	assert_int_equal(p->l4_bad, PKT_L4_TRUNC);
	put_be16(p->data + 16, 20 + 18);
	fix_ip4_csum(p, 14);
	put_be16(p->data + 38, 7);
	assert_int_equal(pkt_parse(p), DROP_NONE);
	assert_int_equal(p->l4_bad, PKT_L4_ULEN);
	put_be16(p->data + 38, 19);
	assert_int_equal(pkt_parse(p), DROP_NONE);
	assert_int_equal(p->l4_bad, PKT_L4_ULEN);
	assert_int_equal(p->l4_off, 0);
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

/* ---- fragment chains ---- */

/*
 * Cut linear @p into a chain: the linear part keeps @head bytes, then one
 * fragment per entry of @sizes (the last takes what is left).  Each
 * fragment's bytes start at an odd address, to catch alignment
 * assumptions.
 */
static void split(struct pkt *p, uint32_t head, const uint32_t *sizes,
		  unsigned int n)
{
	uint32_t off = head, len;
	unsigned int i;

	assert_true(head <= p->len);
	for (i = 0; i < n; i++) {
		struct pkt *f = pkt_alloc(&pool);

		assert_non_null(f);
		len = i == n - 1 ? p->len - off : sizes[i];
		assert_true(off + len <= p->len);
		f->data += 1;
		memcpy(f->data, p->data + off, len);
		f->len = len;
		memset(p->data + off, 0xee, len);  /* must not be read */
		pkt_frag_append(p, f);
		off += len;
	}
	p->len = head;
}

/* Bytes of @p's whole frame, gathered by hand. */
static uint32_t gather(const struct pkt *p, uint8_t *out)
{
	const struct pkt *f;
	uint32_t n = p->len;

	memcpy(out, p->data, p->len);
	for (f = p->frag_first; f; f = f->frag_next) {
		memcpy(out + n, f->data, f->len);
		n += f->len;
	}
	return n;
}

static void test_chain_free_returns_every_fragment(void **state)
{
	static const uint32_t sizes[] = { 100, 200, 0 };
	struct frame_spec s;
	struct pkt *p, *q[8];
	unsigned int n = 0;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 1000;
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	split(p, 54 + 10, sizes, 3);
	assert_int_equal(p->frag_count, 3);
	assert_int_equal(pool.nfree, pool.count - 4);
	pkt_free(&pool, p);
	assert_int_equal(pool.nfree, pool.count);
	/* buffers come back without a chain, whatever they were */
	while (n < 8 && (q[n] = pkt_alloc(&pool)) != NULL) {
		assert_null(q[n]->frag_first);
		assert_null(q[n]->frag_last);
		assert_null(q[n]->frag_next);
		assert_int_equal(q[n]->frag_bytes, 0);
		assert_int_equal(q[n]->frag_count, 0);
		n++;
	}
	assert_int_equal(n, pool.count);
	while (n)
		pkt_free(&pool, q[--n]);
}

static void test_linearize_gives_the_frame_back(void **state)
{
	static uint8_t want[2048], got[2048];
	static const uint32_t sizes[] = { 333, 1, 0 };
	struct frame_spec s;
	struct pkt *p;
	uint32_t len;

	(void)state;
	frame_spec_init(&s, 1, 17);
	s.pay_len = 1001;
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	len = p->len;
	memcpy(want, p->data, len);
	split(p, 62 + 5, sizes, 3);
	assert_int_equal(pkt_frame_len(p), len);
	assert_int_equal(gather(p, got), len);
	assert_memory_equal(got, want, len);
	assert_int_equal(pkt_ip_len(p), len - 14);

	assert_int_equal(pkt_linearize(p, &pool), 0);
	assert_null(p->frag_first);
	assert_null(p->frag_last);
	assert_int_equal(p->frag_bytes, 0);
	assert_int_equal(p->frag_count, 0);
	assert_int_equal(p->len, len);
	assert_memory_equal(p->data, want, len);
	assert_int_equal(pool.nfree, pool.count - 1);
	/* a linear packet: nothing to do */
	assert_int_equal(pkt_linearize(p, &pool), 0);
	assert_int_equal(p->len, len);
	pkt_free(&pool, p);
}

static void test_linearize_refuses_what_does_not_fit(void **state)
{
	struct pkt *p, *f;

	(void)state;
	p = pkt_alloc(&pool);
	f = pkt_alloc(&pool);
	/* a head whose linear part ends 100 bytes before the buffer does */
	p->data = p->buf + PKT_BUF_SIZE - 150;
	p->len = 50;
	f->len = 101;
	pkt_frag_append(p, f);
	assert_int_equal(pkt_linearize(p, &pool), -ENOSPC);
	assert_ptr_equal(p->frag_first, f);
	assert_int_equal(p->len, 50);
	f->len = 100;
	p->frag_bytes = 100;
	assert_int_equal(pkt_linearize(p, &pool), 0);
	assert_int_equal(p->len, 150);
	pkt_free(&pool, p);
	assert_int_equal(pool.nfree, pool.count);
}

static void test_iov_describes_the_whole_frame(void **state)
{
	static const uint32_t sizes[] = { 10, 20, 0 };
	struct iovec iov[4];
	struct frame_spec s;
	struct pkt *p;
	uint32_t len;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 100;
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	len = p->len;
	/* linear: one entry */
	assert_int_equal(pkt_iov(p, iov, 1), 1);
	assert_ptr_equal(iov[0].iov_base, p->data);
	assert_int_equal(iov[0].iov_len, len);
	assert_int_equal(pkt_iov(p, iov, 0), -ENOSPC);

	split(p, 54, sizes, 3);
	assert_int_equal(pkt_iov(p, iov, 3), -ENOSPC);
	assert_int_equal(pkt_iov(p, iov, 4), 4);
	assert_int_equal(iov[0].iov_len, 54);
	assert_ptr_equal(iov[1].iov_base, p->frag_first->data);
	assert_int_equal(iov[1].iov_len, 10);
	assert_int_equal(iov[2].iov_len, 20);
	assert_ptr_equal(iov[3].iov_base, p->frag_last->data);
	assert_int_equal(iov[3].iov_len, len - 54 - 30);
	/* an empty piece takes no entry */
	p->frag_first->frag_next->len = 0;
	p->frag_bytes -= 20;
	assert_int_equal(pkt_iov(p, iov, 3), 3);
	assert_ptr_equal(iov[2].iov_base, p->frag_last->data);
	pkt_free(&pool, p);
}

static void test_copy_bits_across_the_chain(void **state)
{
	static uint8_t want[512], got[512];
	static const uint32_t sizes[] = { 7, 13, 0 };
	struct frame_spec s;
	struct pkt *p;
	uint32_t len, off;

	(void)state;
	frame_spec_init(&s, 0, 17);
	s.pay_len = 200;
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	len = p->len;
	memcpy(want, p->data, len);
	split(p, 49, sizes, 3);
	for (off = 0; off < len; off += 5) {
		memset(got, 0, sizeof(got));
		assert_int_equal(pkt_copy_bits(p, off, got, len - off), 0);
		assert_memory_equal(got, want + off, len - off);
		assert_int_equal(pkt_copy_bits(p, 0, got, off), 0);
		assert_memory_equal(got, want, off);
	}
	assert_int_equal(pkt_copy_bits(p, len, got, 0), 0);
	assert_int_equal(pkt_copy_bits(p, len, got, 1), -EINVAL);
	assert_int_equal(pkt_copy_bits(p, 1, got, len), -EINVAL);
	pkt_free(&pool, p);
}

/*
 * The checksum of a chain is the checksum of its bytes, whatever the
 * pieces: odd head, odd and even fragments, a one-byte fragment,
 * padding in the last one.
 */
static void check_chain_csum(int v6, uint8_t proto, uint32_t pay,
			     uint32_t head, const uint32_t *sizes,
			     unsigned int n, uint32_t trailer)
{
	static uint8_t want[4096];
	struct frame_spec s;
	struct pkt *p;
	uint32_t len;

	frame_spec_init(&s, v6, proto);
	s.pay_len = pay;
	s.trailer = trailer;
	/* verify: good, then one payload byte in the last fragment wrong */
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	split(p, p->pay_off + head, sizes, n);
	assert_int_equal(pkt_l4_csum_verify(p, 0), PKT_CSUM_VALID);
	p->frag_last->data[0] ^= 0x40;
	assert_int_equal(pkt_l4_csum_verify(p, 0), PKT_CSUM_BAD);
	pkt_free(&pool, p);

	/* complete: the field a linear completion writes */
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	len = p->len;
	memcpy(want, p->data, len);
	pkt_free(&pool, p);
	s.partial_l4_csum = 1;
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	split(p, p->pay_off + head, sizes, n);
	assert_int_equal(pkt_l4_csum_verify(p, 1), PKT_CSUM_PARTIAL);
	assert_int_equal(pkt_csum_complete(p), 0);
	assert_int_equal(p->csum, PKT_CSUM_VALID);
	assert_int_equal(pkt_linearize(p, &pool), 0);
	assert_int_equal(p->len, len);
	assert_memory_equal(p->data, want, len);
	pkt_free(&pool, p);
	assert_int_equal(pool.nfree, pool.count);
}

static void test_csum_over_fragments_with_odd_lengths(void **state)
{
	static const uint32_t odd[] = { 301, 1, 2, 0 };
	static const uint32_t even[] = { 300, 500, 0 };
	static const uint32_t one[] = { 0 };

	(void)state;
	check_chain_csum(0, 6, 1001, 1, odd, 4, 0);
	check_chain_csum(0, 6, 1000, 0, even, 3, 0);
	check_chain_csum(0, 17, 999, 3, odd, 4, 0);
	check_chain_csum(1, 6, 1448, 77, one, 1, 0);
	check_chain_csum(1, 17, 1003, 1, odd, 4, 5);
	check_chain_csum(0, 17, 1002, 2, even, 3, 4);
}

/* ---- packets that borrow a ring slot ---- */

#define SLOT_SIZE 2048
#define SLOT_MAC 76                     /* where the kernel puts the frame */

static uint8_t ring[4][SLOT_SIZE] __attribute__((aligned(64)));
static struct pkt_lend lends[4];

/* Status word of slot @i, as the kernel's tpacket2_hdr has it. */
static uint32_t *slot_status(unsigned int i)
{
	return (uint32_t *)(void *)ring[i];
}

/*
 * Move linear @p's frame into slot @i, with a recognisable header in the
 * PKT_BORROW_HEAD bytes before it, and make @p borrow the slot.
 */
static void borrow_slot(struct pkt *p, unsigned int i)
{
	uint8_t *at = ring[i] + SLOT_MAC;

	assert_true(p->len <= SLOT_SIZE - SLOT_MAC);
	memset(ring[i], 0, SLOT_SIZE);
	*slot_status(i) = 1;                 /* TP_STATUS_USER */
	memset(at - PKT_BORROW_HEAD, 0xa0 + i, PKT_BORROW_HEAD);
	memcpy(at, p->data, p->len);
	memset(p->data, 0xee, p->len);       /* must not be read */
	p->data = at;
	lends[i].status = slot_status(i);
	lends[i].refs = 1;
	p->borrow = &lends[i];
}

static void test_borrow_free_gives_the_slot_back(void **state)
{
	struct frame_spec s;
	struct pkt *p, *q;

	(void)state;
	frame_spec_init(&s, 0, 6);
	s.pay_len = 500;
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	borrow_slot(p, 0);
	assert_int_equal(*slot_status(0), 1);
	pkt_free(&pool, p);
	assert_int_equal(*slot_status(0), 0);
	assert_int_equal(pool.nfree, pool.count);
	/* the buffer comes back borrowing nothing, data in its own buf */
	q = pkt_alloc(&pool);
	assert_ptr_equal(q, p);
	assert_null(q->borrow);
	assert_ptr_equal(q->data, q->buf + PKT_HEADROOM);
	pkt_free(&pool, q);
}

/*
 * Several packets borrowing from one block, which the ring's reader also
 * holds: the block goes back to the kernel with the last of them to let
 * go, in whichever order they do, and not before.
 */
static void test_block_goes_back_with_the_last_borrower(void **state)
{
	static const unsigned int orders[3][3] = {
		{ 0, 1, 2 }, { 2, 1, 0 }, { 1, 2, 0 },
	};
	struct frame_spec s;
	struct pkt *p[2];
	unsigned int o, k, i;

	(void)state;
	for (o = 0; o < 3; o++) {
		*slot_status(0) = 1;                 /* TP_STATUS_USER */
		lends[0].status = slot_status(0);
		lends[0].refs = 1;                   /* the reader */
		for (i = 0; i < 2; i++) {
			frame_spec_init(&s, 0, 6);
			s.pay_len = 100 + i;
			assert_int_equal(parse_built(&s, &p[i]), DROP_NONE);
			/* both frames in the same block, one behind the other */
			memcpy(ring[0] + SLOT_MAC + i * 400, p[i]->data,
			       p[i]->len);
			p[i]->data = ring[0] + SLOT_MAC + i * 400;
			p[i]->borrow = &lends[0];
			lends[0].refs++;
		}
		for (k = 0; k < 3; k++) {
			assert_int_equal(*slot_status(0), 1);
			i = orders[o][k];
			if (i == 2)
				pkt_lend_put(&lends[0]);     /* the reader moves on */
			else if (o == 2 && i == 1)
				pkt_unborrow(p[i]);          /* copied, not freed */
			else
				pkt_free(&pool, p[i]);
		}
		assert_int_equal(*slot_status(0), 0);
		assert_int_equal(lends[0].refs, 0);
		if (o == 2)
			pkt_free(&pool, p[1]);
		assert_int_equal(pool.nfree, pool.count);
	}
}

static void test_unborrow_copies_frame_and_header(void **state)
{
	static uint8_t want[2048];
	uint8_t head[PKT_BORROW_HEAD];
	struct frame_spec s;
	struct pkt *p;
	uint32_t len;

	(void)state;
	frame_spec_init(&s, 1, 17);
	s.pay_len = 777;
	assert_int_equal(parse_built(&s, &p), DROP_NONE);
	len = p->len;
	memcpy(want, p->data, len);
	borrow_slot(p, 1);
	memset(head, 0xa1, sizeof(head));
	pkt_unborrow(p);
	assert_null(p->borrow);
	assert_int_equal(*slot_status(1), 0);
	assert_ptr_equal(p->data, p->buf + PKT_HEADROOM);
	assert_int_equal(p->len, len);
	/* the kernel may refill the slot now: the copy is ours */
	memset(ring[1], 0x55, SLOT_SIZE);
	assert_memory_equal(p->data, want, len);
	assert_memory_equal(p->data - PKT_BORROW_HEAD, head, sizeof(head));
	assert_int_equal(pkt_parse(p), DROP_NONE);
	/* once more: nothing to do */
	pkt_unborrow(p);
	assert_ptr_equal(p->data, p->buf + PKT_HEADROOM);
	pkt_free(&pool, p);
	assert_int_equal(pool.nfree, pool.count);
}

/*
 * A head and two fragments, each borrowing a slot: linearizing copies
 * the frame into the head's own buffer and gives all three slots back;
 * freeing a borrowed chain gives them back too.
 */
static void test_borrowed_chain_linearize_and_free(void **state)
{
	static uint8_t want[2048];
	struct frame_spec s;
	struct pkt *p, *f[2];
	uint32_t len, off = 100;
	unsigned int i, round;

	(void)state;
	for (round = 0; round < 2; round++) {
		frame_spec_init(&s, 0, 6);
		s.pay_len = 1200;
		assert_int_equal(parse_built(&s, &p), DROP_NONE);
		len = p->len;
		memcpy(want, p->data, len);
		for (i = 0; i < 2; i++) {
			f[i] = pkt_alloc(&pool);
			assert_non_null(f[i]);
			f[i]->len = i ? len - off - 300 : 300;
			memcpy(f[i]->data, p->data + off + i * 300, f[i]->len);
			borrow_slot(f[i], 1 + i);
		}
		p->len = off;
		borrow_slot(p, 0);
		pkt_frag_append(p, f[0]);
		pkt_frag_append(p, f[1]);
		assert_int_equal(pkt_frame_len(p), len);
		if (round == 0) {
			assert_int_equal(pkt_linearize(p, &pool), 0);
			assert_null(p->borrow);
			assert_ptr_equal(p->data, p->buf + PKT_HEADROOM);
			assert_int_equal(p->len, len);
			for (i = 0; i < 3; i++) {
				assert_int_equal(*slot_status(i), 0);
				memset(ring[i], 0x55, SLOT_SIZE);
			}
			assert_memory_equal(p->data, want, len);
			assert_int_equal(pool.nfree, pool.count - 1);
		} else {
			for (i = 0; i < 3; i++)
				assert_int_equal(*slot_status(i), 1);
		}
		pkt_free(&pool, p);
		/* round 0: slots the kernel refilled are not touched again */
		for (i = 0; i < 3; i++)
			assert_int_equal(*slot_status(i),
					 round ? 0 : 0x55555555u);
		assert_int_equal(pool.nfree, pool.count);
	}
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
		cmocka_unit_test(test_l2_only_for_broken_ip_headers),
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
		cmocka_unit_test(test_chain_free_returns_every_fragment),
		cmocka_unit_test(test_linearize_gives_the_frame_back),
		cmocka_unit_test(test_linearize_refuses_what_does_not_fit),
		cmocka_unit_test(test_iov_describes_the_whole_frame),
		cmocka_unit_test(test_copy_bits_across_the_chain),
		cmocka_unit_test(test_csum_over_fragments_with_odd_lengths),
		cmocka_unit_test(test_borrow_free_gives_the_slot_back),
		cmocka_unit_test(test_block_goes_back_with_the_last_borrower),
		cmocka_unit_test(test_unborrow_copies_frame_and_header),
		cmocka_unit_test(test_borrowed_chain_linearize_and_free),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
