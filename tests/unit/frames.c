/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "frames.h"

uint16_t frame_csum(const uint8_t *b, size_t len, uint32_t init)
{
	uint64_t s = init;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		s += (uint32_t)b[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static uint32_t sum_bytes(const uint8_t *b, size_t len)
{
	return (uint16_t)~frame_csum(b, len, 0);
}

void frame_spec_init(struct frame_spec *s, int v6, uint8_t proto)
{
	static const uint8_t smac[6] = { 0x02, 0, 0, 0, 0, 0x05 };
	static const uint8_t dmac[6] = { 0x02, 0, 0, 0, 0, 0x04 };
	static const uint8_t src4[4] = { 198, 19, 1, 2 };
	static const uint8_t dst4[4] = { 198, 18, 1, 2 };
	static const uint8_t src6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 2 };
	static const uint8_t dst6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2 };

	memset(s, 0, sizeof(*s));
	s->v6 = v6;
	s->proto = proto;
	memcpy(s->smac, smac, 6);
	memcpy(s->dmac, dmac, 6);
	if (v6) {
		memcpy(s->src, src6, 16);
		memcpy(s->dst, dst6, 16);
	} else {
		memcpy(s->src, src4, 4);
		memcpy(s->dst, dst4, 4);
	}
	s->sport = 40000;
	s->dport = 5201;
	s->ipid = 1;
	s->df = 1;
	s->ttl = 64;
	s->seq = 1000;
	s->ack = 1;
	s->tcp_flags = 0x10;
	s->win = 512;
	s->pay_len = 100;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

size_t frame_build(const struct frame_spec *s, uint8_t *out, size_t cap)
{
	size_t l2 = s->vlan ? 18 : 14;
	size_t l3h = s->v6 ? 40u + s->ext_len : 20u + s->ip_opts_len;
	size_t l4h = s->proto == 6 ? 20u + s->tcp_opts_len : 8u;
	size_t l4len = l4h + s->pay_len;
	size_t total = l2 + l3h + l4len + s->trailer;
	uint8_t *ip = out + l2, *l4 = ip + l3h;
	uint32_t ps, i;
	size_t csum_field;
	uint16_t c;

	if (total > cap)
		return 0;
	memset(out, 0, total);
	memcpy(out, s->dmac, 6);
	memcpy(out + 6, s->smac, 6);
	if (s->vlan) {
		put16(out + 12, 0x8100);
		put16(out + 14, s->vlan_tci);
	}
	put16(out + l2 - 2, s->v6 ? 0x86dd : 0x0800);

	if (s->v6) {
		put32(ip, 6u << 28 | (uint32_t)s->tos << 20 | (s->flowlabel & 0xfffff));
		put16(ip + 4, (uint16_t)(s->ext_len + l4len));
		ip[6] = s->ext_len ? s->ext_type : s->proto;
		ip[7] = s->ttl;
		memcpy(ip + 8, s->src, 16);
		memcpy(ip + 24, s->dst, 16);
		if (s->ext_len) {
			memcpy(ip + 40, s->ext, s->ext_len);
			ip[40] = s->proto;
			if (s->ext_type != 44)
				ip[41] = (uint8_t)(s->ext_len / 8 - 1);
		}
	} else {
		ip[0] = (uint8_t)(0x40 | (l3h / 4));
		ip[1] = s->tos;
		put16(ip + 2, (uint16_t)(l3h + l4len));
		put16(ip + 4, s->ipid);
		put16(ip + 6, (uint16_t)((s->df ? 0x4000 : 0) | s->frag));
		ip[8] = s->ttl;
		ip[9] = s->proto;
		memcpy(ip + 12, s->src, 4);
		memcpy(ip + 16, s->dst, 4);
		if (s->ip_opts_len)
			memcpy(ip + 20, s->ip_opts, s->ip_opts_len);
		put16(ip + 10, frame_csum(ip, l3h, 0));
	}

	put16(l4, s->sport);
	put16(l4 + 2, s->dport);
	if (s->proto == 6) {
		put32(l4 + 4, s->seq);
		put32(l4 + 8, s->ack);
		l4[12] = (uint8_t)((l4h / 4) << 4);
		l4[13] = s->tcp_flags;
		put16(l4 + 14, s->win);
		if (s->tcp_opts_len)
			memcpy(l4 + 20, s->tcp_opts, s->tcp_opts_len);
		csum_field = 16;
	} else {
		put16(l4 + 4, (uint16_t)l4len);
		csum_field = 6;
	}
	for (i = 0; i < s->pay_len; i++)
		l4[l4h + i] = frame_pay_byte(s->pay_stream_off + i, s->pay_seed);

	if (s->v6)
		ps = sum_bytes(ip + 8, 32);
	else
		ps = sum_bytes(ip + 12, 8);
	ps += s->proto + (uint32_t)l4len;
	if (s->partial_l4_csum) {
		uint32_t f = ps;

		while (f >> 16)
			f = (f & 0xffff) + (f >> 16);
		put16(l4 + csum_field, (uint16_t)f);
	} else if (s->proto == 17 && s->zero_udp_csum) {
		put16(l4 + csum_field, 0);
	} else {
		c = frame_csum(l4, l4len, ps);
		if (s->proto == 17 && c == 0)
			c = 0xffff;
		if (s->bad_l4_csum)
			c = (uint16_t)(c ^ 0x5a5a);
		put16(l4 + csum_field, c);
	}
	return total;
}

struct pkt *frame_copy_pkt(struct pkt_pool *pool, const uint8_t *b,
			   size_t len)
{
	struct pkt *p;

	if (len > PKT_DATA_MAX)
		return NULL;
	p = pkt_alloc(pool);
	if (!p)
		return NULL;
	memcpy(p->data, b, len);
	p->len = (uint32_t)len;
	if (pkt_parse(p) != DROP_NONE) {
		pkt_free(pool, p);
		return NULL;
	}
	return p;
}

struct pkt *frame_pkt(struct pkt_pool *pool, const struct frame_spec *s)
{
	struct pkt *p = pkt_alloc(pool);

	if (!p)
		return NULL;
	p->len = (uint32_t)frame_build(s, p->data, PKT_DATA_MAX);
	if (!p->len || pkt_parse(p) != DROP_NONE) {
		pkt_free(pool, p);
		return NULL;
	}
	return p;
}
