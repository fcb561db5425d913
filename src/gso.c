/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gso: cut a TCP/UDP super-packet into wire-sized segments.
 *
 * Everything that is the same for every segment is worked out once per
 * super-packet: a header template with the per-segment fields zeroed and
 * the partial sums over it (IPv4 header, L4 header, pseudo-header without
 * its length).  A segment then costs one header copy, a handful of field
 * writes and, without checksum offload, one csum_partial over its payload
 * slice.  The payload itself is never copied: a segment points into the
 * linear part of the super-packet or into one of its fragments.
 */
#include <errno.h>
#include <string.h>

#include "grogso/csum.h"
#include "grogso/gso.h"

#define GSO_IP4_HLEN 20
#define GSO_IP6_HLEN 40
#define GSO_TCP_HLEN 20
#define GSO_UDP_HLEN 8

/* Field offsets inside the headers. */
#define IP4_TOTLEN 2
#define IP4_ID 4
#define IP4_CHECK 10
#define IP4_SADDR 12
#define IP4_DADDR 16
#define IP6_PLEN 4
#define IP6_SADDR 8
#define IP6_DADDR 24
#define TCP_SEQ 4
#define TCP_FLAGS 13
#define TCP_CHECK 16
#define UDP_LEN 4
#define UDP_CHECK 6

/* What one super-packet's segments share; filled by gso_prepare(). */
struct gso_ctx {
	const uint8_t *frame;
	uint32_t pay_len;               /* whole payload of the super-packet */
	uint32_t nsegs;
	uint16_t mss;
	uint16_t hlen;                  /* all headers: L2 + L3 (+ext) + L4 */
	uint16_t l3;                    /* offsets into the frame */
	uint16_t l4;
	uint16_t l4_hlen;
	uint16_t ip_extra;              /* IPv6: ext headers inside payload_len */
	uint8_t v4;
	uint8_t tcp;
	uint8_t tcp_flags;              /* of the super-packet */
	uint32_t seq;
	uint16_t ipid;
	uint64_t ip4_sum;               /* IPv4 header, tot_len/id/check zeroed */
	uint64_t ph_sum;                /* pseudo-header without its length */
	uint64_t l4_sum;                /* L4 header, seq/flags/len/check zeroed */
	uint8_t tmpl[GSO_HDR_MAX];
};

/*
 * Check that @p is a super-packet gso_segment can cut and fill @c.
 * Never trusts the offsets: a fuzzer or a bad vnet header may hand
 * anything.  The gso_type checks mirror tcp_gso_segment and
 * __udp_gso_segment (the type must name this protocol; the payload must
 * be larger than one segment).  Returns 0 or -EINVAL.
 */
static int gso_prepare(const struct pkt *p, struct gso_ctx *c)
{
	const uint8_t *f = p->data;
	uint32_t ip_len, l3h;
	uint8_t type = p->gso_type & (uint8_t)~VNET_GSO_ECN;
	int ecn = !!(p->gso_type & VNET_GSO_ECN);

	if (!f || !p->gso_size || p->ip_frag)
		return -EINVAL;
	if (p->l3 != PKT_L3_IPV4 && p->l3 != PKT_L3_IPV6)
		return -EINVAL;
	if (p->l3_off < ETH_HLEN_ || p->l4_off <= p->l3_off ||
	    p->pay_off <= p->l4_off || p->pay_off > p->len ||
	    p->pay_off > GSO_HDR_MAX)
		return -EINVAL;

	c->v4 = p->l3 == PKT_L3_IPV4;
	switch (type) {
	case VNET_GSO_TCPV4:
		if (!c->v4 || p->l4_proto != IPPROTO_TCP_)
			return -EINVAL;
		break;
	case VNET_GSO_TCPV6:
		if (c->v4 || p->l4_proto != IPPROTO_TCP_)
			return -EINVAL;
		break;
	case VNET_GSO_UDP_L4:
		if (ecn || p->l4_proto != IPPROTO_UDP_)
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	c->tcp = p->l4_proto == IPPROTO_TCP_;

	c->frame = f;
	c->l3 = p->l3_off;
	c->l4 = p->l4_off;
	c->hlen = p->pay_off;
	c->l4_hlen = (uint16_t)(p->pay_off - p->l4_off);
	l3h = (uint32_t)p->l4_off - p->l3_off;

	if (c->v4) {
		if (l3h < GSO_IP4_HLEN || (f[c->l3] >> 4) != 4 ||
		    (uint32_t)(f[c->l3] & 0x0f) * 4 != l3h)
			return -EINVAL;
		ip_len = get_be16(f + c->l3 + IP4_TOTLEN);
		c->ip_extra = 0;
	} else {
		if (l3h < GSO_IP6_HLEN || (f[c->l3] >> 4) != 6)
			return -EINVAL;
		/* a jumbogram (payload_len 0) fails the length checks below */
		ip_len = GSO_IP6_HLEN + (uint32_t)get_be16(f + c->l3 + IP6_PLEN);
		c->ip_extra = (uint16_t)(l3h - GSO_IP6_HLEN);
	}
	if ((uint32_t)c->l3 + ip_len > pkt_frame_len(p) ||
	    (uint32_t)c->l3 + ip_len < c->hlen)
		return -EINVAL;

	if (c->tcp) {
		if (c->l4_hlen < GSO_TCP_HLEN ||
		    (uint32_t)(f[c->l4 + 12] >> 4) * 4 != c->l4_hlen)
			return -EINVAL;
	} else if (c->l4_hlen != GSO_UDP_HLEN) {
		return -EINVAL;
	}

	c->pay_len = (uint32_t)c->l3 + ip_len - c->hlen;
	c->mss = p->gso_size;
	if (c->pay_len <= c->mss)
		return -EINVAL;         /* not a super-packet */
	c->nsegs = (c->pay_len + c->mss - 1) / c->mss;
	return 0;
}

/*
 * Build the header template and the sums every segment starts from.
 * The pseudo-header takes the addresses of the IP header itself, as
 * tcp_gso_segment and __udp_gso_segment do when they finish a checksum.
 */
static void gso_template(struct gso_ctx *c)
{
	uint8_t *t = c->tmpl;
	uint8_t *ip, *l4;
	uint8_t proto = c->tcp ? IPPROTO_TCP_ : IPPROTO_UDP_;
	uint64_t sum;

	memcpy(t, c->frame, c->hlen);
	ip = t + c->l3;
	l4 = t + c->l4;

	if (c->v4) {
		c->ipid = get_be16(ip + IP4_ID);
		put_be16(ip + IP4_TOTLEN, 0);
		put_be16(ip + IP4_ID, 0);
		put_be16(ip + IP4_CHECK, 0);
		c->ip4_sum = csum_partial(ip, (size_t)(c->l4 - c->l3), 0);
		sum = csum_pseudo4(ip + IP4_SADDR, ip + IP4_DADDR, proto, 0);
	} else {
		c->ipid = 0;
		c->ip4_sum = 0;
		sum = csum_pseudo6(ip + IP6_SADDR, ip + IP6_DADDR, proto, 0);
	}

	if (c->tcp) {
		c->seq = get_be32(l4 + TCP_SEQ);
		c->tcp_flags = l4[TCP_FLAGS];
		put_be32(l4 + TCP_SEQ, 0);
		l4[TCP_FLAGS] = 0;
		put_be16(l4 + TCP_CHECK, 0);
	} else {
		c->seq = 0;
		c->tcp_flags = 0;
		put_be16(l4 + UDP_LEN, 0);
		put_be16(l4 + UDP_CHECK, 0);
	}
	c->ph_sum = sum;
	c->l4_sum = csum_partial(l4, c->l4_hlen, 0);
}

uint32_t gso_count(const struct pkt *p)
{
	struct gso_ctx c;

	if (gso_prepare(p, &c))
		return 1;
	return c.nsegs;
}

/*
 * Where the payload is read: a piece (the linear part, then each
 * fragment) and the bytes left in it.
 */
struct gso_cursor {
	const struct pkt *head, *piece;
	const uint8_t *at;
	uint32_t room;
};

/*
 * The next @len payload bytes, which must lie in one piece; NULL when
 * they straddle two (a chain GRO did not build).
 */
static const uint8_t *cursor_take(struct gso_cursor *k, uint32_t len)
{
	const uint8_t *at;

	while (k->room < len) {
		/* only an exhausted piece may be left behind */
		if (k->room)
			return NULL;
		k->piece = k->piece == k->head ? k->head->frag_first :
						 k->piece->frag_next;
		if (!k->piece)
			return NULL;
		k->at = k->piece->data;
		k->room = k->piece->len;
	}
	at = k->at;
	k->at += len;
	k->room -= len;
	return at;
}

int gso_segment(const struct pkt *p, const struct gso_opts *o,
		struct gso_seg *segs, uint32_t max, struct gso_result *res)
{
	struct gso_cursor cur;
	struct gso_ctx c;
	uint32_t i, off, len, l4_len, last;
	uint16_t id, check;
	uint64_t sum;
	int fixed, err;

	if (!p || !o || !segs)
		return -EINVAL;
	err = gso_prepare(p, &c);
	if (err)
		return err;
	if (c.nsegs > max)
		return -ENOSPC;
	gso_template(&c);

	switch (o->ipid) {
	case GSO_IPID_INCREMENT:
		fixed = 0;
		break;
	case GSO_IPID_FIXED:
		fixed = 1;
		break;
	case GSO_IPID_AUTO:
		fixed = p->agg.ipid_mode == PKT_IPID_FIXED;
		break;
	case GSO_IPID_LINUX:
		/* inet_gso_segment honours only SKB_GSO_TCP_FIXEDID, which
		 * tcp4_gro_complete alone sets */
		fixed = p->agg.ipid_mode == PKT_IPID_FIXED &&
			p->l4_proto == IPPROTO_TCP_;
		break;
	default:
		return -EINVAL;
	}
	fixed = fixed && c.v4;

	cur.head = cur.piece = p;
	cur.at = p->data + c.hlen;
	cur.room = p->len - c.hlen;
	last = c.nsegs - 1;
	for (i = 0, off = 0; i < c.nsegs; i++, off += c.mss) {
		struct gso_seg *s = &segs[i];
		uint8_t *ip = s->hdr + c.l3, *l4 = s->hdr + c.l4;

		len = i == last ? c.pay_len - off : c.mss;
		l4_len = c.l4_hlen + len;
		memcpy(s->hdr, c.tmpl, c.hlen);
		s->hdr_len = c.hlen;
		s->pay = cursor_take(&cur, len);
		if (!s->pay)
			return -EXDEV;
		s->pay_len = len;
		s->partial = !!o->csum_offload;

		if (c.v4) {
			/* inet_gso_segment: ID per segment, then tot_len and the header checksum */
			id = fixed ? c.ipid : (uint16_t)(c.ipid + i);
			put_be16(ip + IP4_TOTLEN, (uint16_t)(c.l4 - c.l3 + l4_len));
			put_be16(ip + IP4_ID, id);
			check = csum_finish(c.ip4_sum + (c.l4 - c.l3 + l4_len) + id);
			put_be16(ip + IP4_CHECK, check);
		} else {
			/* ipv6_gso_segment: payload_len covers the walked ext headers */
			put_be16(ip + IP6_PLEN, (uint16_t)(c.ip_extra + l4_len));
		}

		/* pseudo-header with this segment's length */
		sum = c.ph_sum + l4_len;
		if (c.tcp) {
			/* tcp_gso_segment: FIN/PSH only on the last, CWR only on the first */
			uint32_t seq = c.seq + (uint32_t)(i * (uint32_t)c.mss);
			uint8_t fl = c.tcp_flags;

			if (i != last)
				fl &= (uint8_t)~(TCP_FIN | TCP_PSH);
			if (i != 0)
				fl &= (uint8_t)~TCP_CWR;
			put_be32(l4 + TCP_SEQ, seq);
			l4[TCP_FLAGS] = fl;
			if (o->csum_offload) {
				put_be16(l4 + TCP_CHECK, csum_fold(sum));
				continue;
			}
			sum += c.l4_sum + (seq >> 16) + (seq & 0xffff) + fl;
			sum = csum_partial(s->pay, len, sum);
			put_be16(l4 + TCP_CHECK, csum_finish(sum));
		} else {
			/* __udp_gso_segment: own length, checksum over own slice */
			put_be16(l4 + UDP_LEN, (uint16_t)l4_len);
			if (o->csum_offload) {
				put_be16(l4 + UDP_CHECK, csum_fold(sum));
				continue;
			}
			sum += c.l4_sum + l4_len;
			sum = csum_partial(s->pay, len, sum);
			check = csum_finish(sum);
			/* RFC 768: a computed 0 goes out as all ones */
			put_be16(l4 + UDP_CHECK, check ? check : 0xffff);
		}
	}

	if (res) {
		res->nsegs = c.nsegs;
		res->ipid_first = c.ipid;
		res->ipid_last = fixed ? c.ipid : (uint16_t)(c.ipid + last);
		res->ipid_fixed = (uint8_t)fixed;
		if (!c.v4)
			res->ipid_last = 0;
	}
	return (int)c.nsegs;
}

int gso_seg_linearize(const struct gso_seg *s, uint8_t *out, size_t cap)
{
	size_t n;

	if (!s || !out)
		return -EINVAL;
	n = (size_t)s->hdr_len + s->pay_len;
	if (n > cap || s->hdr_len > GSO_HDR_MAX)
		return -ENOSPC;
	memcpy(out, s->hdr, s->hdr_len);
	if (s->pay_len)
		memcpy(out + s->hdr_len, s->pay, s->pay_len);
	return (int)n;
}

int gso_fixed_here(enum gso_fixed how, const struct pkt *p, int whole_ok)
{
	if (p->agg.ipid_mode != PKT_IPID_FIXED || how == GSO_FIXED_OFFLOAD)
		return 0;
	if (how == GSO_FIXED_SOFTWARE)
		return 1;
	if (p->l3 != PKT_L3_IPV4 || p->l4_proto != IPPROTO_TCP_)
		return 0;
	return whole_ok <= 0 || !(p->data[p->l3_off + 6] & 0x40);  /* DF */
}
