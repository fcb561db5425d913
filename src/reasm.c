/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * reasm: reassembly of datagrams for grogso (see reasm.h for the rules).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "grogso/csum.h"
#include "grogso/reasm.h"

#define IP_MAXLEN 65535                 /* IPv4 total length, IPv6 payload length */
#define IP4_DF 0x4000
#define IP4_MF 0x2000
#define IP4_OFF_MASK 0x1fff
#define IP6_FRAG_HLEN 8
#define IP6_FRAG_OFF_MASK 0xfff8
#define IP6_FRAG_MF 0x0001

#define Q_FIRST_IN 1                    /* the fragment at offset 0 came */
#define Q_LAST_IN 2                     /* the fragment with no more after it came */

/* Which ECN codepoints a datagram's fragments carried, as Linux's
 * IPFRAG_ECN_* bits: 1 << codepoint */
#define ECN_NOT_ECT 0x01
#define ECN_ECT_1 0x02
#define ECN_ECT_0 0x04
#define ECN_CE 0x08
#define ECN_REFUSE 0xff

/*
 * Where a queue's payload sits in its buffer: after room for an Ethernet
 * header and an IPv6 header with 216 bytes of extension headers, so that
 * completing a datagram moves no payload in the usual case; and with
 * room after it for the longest payload any datagram has.
 */
#define PAY_AT (PKT_HEADROOM + ETH_HLEN_ + IPV6_HLEN_ + 216)
#define PAY_CAP ((uint32_t)PKT_BUF_SIZE - PAY_AT)
_Static_assert(PKT_BUF_SIZE - PAY_AT >= IP_MAXLEN,
	       "a queue's buffer holds the longest payload");
_Static_assert(PKT_BUF_SIZE >= ETH_HLEN_ + VLAN_HLEN_ + IPV6_HLEN_ + IP_MAXLEN,
	       "a whole datagram fits, however long its headers");

/* Fragments that arrived back to back, [start, end) of the payload:
 * Linux's "run", inside which a fragment is a duplicate. */
struct run {
	uint32_t start, end;
};

struct queue {
	uint8_t used;
	uint8_t v4;
	uint8_t proto;                  /* IPv4: part of the key */
	uint8_t flags;                  /* Q_* */
	uint8_t ecn;                    /* ECN_* bits seen */
	uint8_t opt_rr, opt_ts, opt_cipso, opt_flags; /* of the first fragment */
	uint32_t id;
	uint32_t iif;                   /* IPv6 link-local/multicast: port + 1 */
	uint8_t src[16], dst[16];
	uint32_t len;                   /* payload length as known so far */
	uint32_t meat;                  /* payload bytes held */
	uint32_t max_size, max_df_size; /* largest fragment, largest with DF */
	uint32_t head_len;              /* payload bytes of the first fragment */
	uint32_t hdr_len;               /* bytes in hdr: L2 + IP header(s), IPv6
					 * through the fragment header */
	uint32_t l3_off;                /* IP header in hdr */
	uint32_t nh_off;                /* IPv6: the byte naming the fragment
					 * header, from the IPv6 header */
	unsigned int port;              /* of the last fragment (Linux's iif) */
	uint64_t expires;
	uint32_t others;                /* IPv4: fragments from the same source
					 * to other datagrams since this one's
					 * last (Linux's inet_peer rid) */
	struct pkt *buf;                /* payload at PAY_AT */
	uint32_t nruns;
	struct run run[REASM_RUNS];     /* by offset */
	uint8_t hdr[REASM_HDR_MAX];
};

struct reasm {
	struct pkt_pool *pool;
	uint64_t tmo4, tmo6;
	uint32_t nq, max_q;             /* datagrams held, and the most */
	struct queue q[REASM_QUEUES];
};

struct reasm *reasm_create(struct pkt_pool *pool)
{
	struct reasm *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->pool = pool;
	/* a flood of fragments must not starve the forwarding path of
	 * buffers: an eighth of the pool at most */
	r->max_q = pool->count / 8 < REASM_QUEUES ? pool->count / 8 :
		   REASM_QUEUES;
	r->tmo4 = REASM_TIMEOUT4_NS;
	r->tmo6 = REASM_TIMEOUT6_NS;
	return r;
}

static void queue_free(struct reasm *r, struct queue *q)
{
	if (q->buf)
		pkt_free(r->pool, q->buf);
	q->buf = NULL;
	q->used = 0;
	r->nq--;
}

void reasm_destroy(struct reasm *r)
{
	unsigned int i;

	if (!r)
		return;
	for (i = 0; i < REASM_QUEUES; i++)
		if (r->q[i].used)
			queue_free(r, &r->q[i]);
	free(r);
}

void reasm_set_timeouts(struct reasm *r, uint64_t v4_ns, uint64_t v6_ns)
{
	r->tmo4 = v4_ns;
	r->tmo6 = v6_ns;
}

/* The ECN bits a whole datagram gets (Linux's ip_frag_ecn_table):
 * CE when one fragment had it and the others were ECN-capable; a mix
 * of capable and not is refused. */
static uint8_t ecn_merge(uint8_t seen)
{
	if ((seen & ECN_NOT_ECT) && (seen & ~ECN_NOT_ECT))
		return ECN_REFUSE;
	if ((seen & ECN_CE) && (seen & (ECN_ECT_0 | ECN_ECT_1)))
		return 3;
	return 0;
}

static struct queue *queue_find(struct reasm *r, int v4, uint32_t id,
				uint8_t proto, uint32_t iif,
				const uint8_t *src, const uint8_t *dst)
{
	size_t alen = v4 ? 4 : 16;
	unsigned int i;

	for (i = 0; i < REASM_QUEUES; i++) {
		struct queue *q = &r->q[i];

		if (q->used && q->v4 == v4 && q->id == id &&
		    q->proto == proto && q->iif == iif &&
		    !memcmp(q->src, src, alen) && !memcmp(q->dst, dst, alen))
			return q;
	}
	return NULL;
}

static struct queue *queue_new(struct reasm *r, int v4, uint32_t id,
			       uint8_t proto, uint32_t iif, const uint8_t *src,
			       const uint8_t *dst, uint64_t now)
{
	size_t alen = v4 ? 4 : 16;
	struct queue *q = NULL;
	unsigned int i;

	if (r->nq >= r->max_q)
		return NULL;
	for (i = 0; i < REASM_QUEUES && !q; i++)
		if (!r->q[i].used)
			q = &r->q[i];
	if (!q)
		return NULL;
	memset(q, 0, offsetof(struct queue, run));
	q->buf = pkt_alloc(r->pool);
	if (!q->buf)
		return NULL;
	q->used = 1;
	r->nq++;
	q->v4 = (uint8_t)v4;
	q->id = id;
	q->proto = proto;
	q->iif = iif;
	memcpy(q->src, src, alen);
	memcpy(q->dst, dst, alen);
	/* the time runs from the first fragment and is never extended */
	q->expires = now + (v4 ? r->tmo4 : r->tmo6);
	return q;
}

/*
 * IPv4 fragment for @q from @src: ip_frag_too_far.  Every other
 * datagram from the same source counts one more fragment that came in
 * between; when 64 (net.ipv4.ipfrag_max_dist) or more came between two
 * fragments of @q, it is taken for one whose remaining fragments are
 * lost, and begins again (ip_frag_reinit): what it held is dropped and
 * its time starts anew, though the sizes of the largest fragments
 * (with and without DF) stay, as in Linux.
 */
static void too_far(struct reasm *r, struct queue *q, const uint8_t *src,
		    uint64_t now)
{
	unsigned int i;

	for (i = 0; i < REASM_QUEUES; i++) {
		struct queue *o = &r->q[i];

		if (o != q && o->used && o->v4 && !memcmp(o->src, src, 4))
			o->others++;
	}
	if (q->nruns && q->others >= REASM_MAX_DIST) {
		q->flags = 0;
		q->len = 0;
		q->meat = 0;
		q->nruns = 0;
		q->ecn = 0;
		q->expires = now + r->tmo4;
	}
	q->others = 0;
}

enum insert { INS_OK, INS_DUP, INS_OVERLAP, INS_FULL };

/*
 * Add [start, end) to q's runs as Linux's inet_frag_queue_insert does:
 * past the last fragment it extends the last run when it begins where
 * that ends, or starts a run of its own after a gap (and overlaps when
 * it begins earlier); below that it is a duplicate when it lies inside
 * one run, an overlap when it touches any other way, else a run of its
 * own, never joined to its neighbours.
 */
static enum insert runs_insert(struct queue *q, uint32_t start, uint32_t end)
{
	struct run *last = q->nruns ? &q->run[q->nruns - 1] : NULL;
	uint32_t lo = 0, hi = q->nruns, i;

	if (!last || end > last->end) {
		if (last && start < last->end)
			return INS_OVERLAP;
		if (last && start == last->end) {
			last->end = end;
			return INS_OK;
		}
		if (q->nruns == REASM_RUNS)
			return INS_FULL;
		q->run[q->nruns].start = start;
		q->run[q->nruns].end = end;
		q->nruns++;
		return INS_OK;
	}
	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;
		const struct run *c = &q->run[mid];

		if (end <= c->start)
			hi = mid;
		else if (start >= c->end)
			lo = mid + 1;
		else if (start >= c->start && end <= c->end)
			return INS_DUP;
		else
			return INS_OVERLAP;
	}
	if (q->nruns == REASM_RUNS)
		return INS_FULL;
	for (i = q->nruns; i > lo; i--)
		q->run[i] = q->run[i - 1];
	q->run[lo].start = start;
	q->run[lo].end = end;
	q->nruns++;
	return INS_OK;
}

/* Hand over q's buffer, made into the frame @start bytes into it and
 * @len long, parsed and with the first fragment's options state. */
static struct pkt *take_buf(struct reasm *r, struct queue *q, uint32_t start,
			    uint32_t len)
{
	struct pkt *p = q->buf;

	q->buf = NULL;
	p->data = p->buf + start;
	p->len = len;
	if (pkt_parse(p) != DROP_NONE) {
		/* cannot happen: the headers were parsed once already */
		pkt_free(r->pool, p);
		return NULL;
	}
	p->opt_rr = q->opt_rr;
	p->opt_ts = q->opt_ts;
	p->opt_cipso = q->opt_cipso;
	p->opt_flags = q->opt_flags;
	return p;
}

/*
 * Put @hlen bytes of headers from q->hdr in front of the payload; when
 * they are longer than the room before it, move the first @plen bytes
 * of payload back to make room.  Returns where the frame starts.
 */
static uint32_t place_headers(struct queue *q, uint32_t hlen, uint32_t plen)
{
	uint8_t *b = q->buf->buf;

	if (hlen <= PAY_AT) {
		memcpy(b + PAY_AT - hlen, q->hdr, hlen);
		return PAY_AT - hlen;
	}
	memmove(b + hlen, b + PAY_AT, plen);
	memcpy(b, q->hdr, hlen);
	return 0;
}

/* The whole datagram of @q (ip_frag_reasm, ip6_frag_reasm), or NULL
 * when it is refused. */
static struct pkt *finish(struct reasm *r, struct queue *q)
{
	uint8_t ecn = ecn_merge(q->ecn), *ip;
	uint32_t start, hlen, l3;

	if (ecn == ECN_REFUSE)
		return NULL;
	l3 = q->l3_off;
	if (q->v4) {
		hlen = q->hdr_len;
		if (hlen - l3 + q->len > IP_MAXLEN)
			return NULL;
		start = place_headers(q, hlen, q->len);
		ip = q->buf->buf + start + l3;
		put_be16(ip + 2, (uint16_t)(hlen - l3 + q->len));
		ip[1] |= ecn;
		/* DF only when the largest fragment had it: a datagram
		 * made of a large DF-clear fragment and a small DF one must
		 * not be taken for one that may not be fragmented */
		put_be16(ip + 6, q->max_df_size == q->max_size ? IP4_DF : 0);
		put_be16(ip + 10, 0);
		put_be16(ip + 10, csum_ip4_header(ip, hlen - l3));
	} else {
		/* without the fragment header, whose next header takes its
		 * place in the header before it */
		hlen = q->hdr_len - IP6_FRAG_HLEN;
		if (hlen - l3 - IPV6_HLEN_ + q->len > IP_MAXLEN)
			return NULL;
		start = place_headers(q, hlen, q->len);
		ip = q->buf->buf + start + l3;
		ip[q->nh_off] = q->hdr[hlen];
		put_be16(ip + 4, (uint16_t)(hlen - l3 - IPV6_HLEN_ + q->len));
		ip[1] |= (uint8_t)(ecn << 4);
	}
	return take_buf(r, q, start, hlen + q->len);
}

enum reasm_result reasm_input(struct reasm *r, const struct pkt *p,
			      uint32_t frag_off, uint32_t nh_off,
			      unsigned int port, uint64_t now,
			      struct pkt **out, uint32_t *pointer)
{
	const uint8_t *ip = p->data + p->l3_off;
	int v4 = p->l3 == PKT_L3_IPV4, more;
	uint32_t offset, end, pay, id, iif = 0, n, fragsize = 0;
	uint8_t proto = 0, ecn;
	enum reasm_result res;
	struct queue *q;

	*out = NULL;
	if (v4) {
		uint32_t hl = (uint32_t)(ip[0] & 0x0f) * 4;
		uint16_t fo = get_be16(ip + 6);

		offset = (uint32_t)(fo & IP4_OFF_MASK) * 8;
		more = (fo & IP4_MF) != 0;
		pay = p->l3_off + hl;
		end = offset + pkt_ip_len(p) - hl;
		/* ip_frag_queue: cut to a multiple of 8 */
		if (more && (end & 7))
			end &= ~7u;
		id = get_be16(ip + 4);
		proto = ip[9];
		ecn = ip[1] & 3;
	} else {
		const uint8_t *fh = p->data + frag_off;
		uint16_t fo = get_be16(fh + 2);

		offset = fo & IP6_FRAG_OFF_MASK;
		more = (fo & IP6_FRAG_MF) != 0;
		pay = frag_off + IP6_FRAG_HLEN;
		end = offset + p->l3_off + pkt_ip_len(p) - pay;
		/* ip6_frag_queue's two parameter problems */
		if (end > IP_MAXLEN) {
			*pointer = frag_off - p->l3_off + 2;
			return REASM_PARAMPROB;
		}
		if (more && (end & 7)) {
			*pointer = 4;           /* the payload length */
			return REASM_PARAMPROB;
		}
		id = get_be32(fh + 4);
		/* a multicast or link-local destination: per port */
		if (ip[24] == 0xff || (ip[24] == 0xfe && (ip[25] & 0xc0) == 0x80))
			iif = port + 1;
		ecn = (uint8_t)((get_be32(ip) >> 20) & 3);
	}
	if (offset == 0 && pay > REASM_HDR_MAX)
		return REASM_NO_ROOM;

	q = queue_find(r, v4, id, proto, iif, ip + (v4 ? 12 : 8),
		       ip + (v4 ? 16 : 24));
	if (!q)
		q = queue_new(r, v4, id, proto, iif, ip + (v4 ? 12 : 8),
			      ip + (v4 ? 16 : 24), now);
	if (!q)
		return REASM_NO_ROOM;

	/* ip_frag_queue / ip6_frag_queue, in their order */
	if (v4)
		too_far(r, q, ip + 12, now);
	if (!more) {
		/* the end: nothing held may lie past it, and an earlier
		 * last fragment must have said the same */
		if (end < q->len || ((q->flags & Q_LAST_IN) && end != q->len))
			goto broken;
		q->flags |= Q_LAST_IN;
		q->len = end;
	} else if (end > q->len) {
		if (q->flags & Q_LAST_IN)
			goto broken;
		q->len = end;
	}
	if (end == offset)
		goto broken;
	switch (runs_insert(q, offset, end)) {
	case INS_DUP:
		return REASM_DUP;
	case INS_OVERLAP:
		queue_free(r, q);
		return REASM_OVERLAP;
	case INS_FULL:
		queue_free(r, q);
		return REASM_NO_ROOM;
	case INS_OK:
		break;
	}

	n = end - offset;
	if (offset < PAY_CAP)
		pkt_copy_bits(p, pay, q->buf->buf + PAY_AT + offset,
			      n < PAY_CAP - offset ? n : PAY_CAP - offset);
	q->port = port;
	q->meat += n;
	q->ecn |= (uint8_t)(1u << ecn);
	if (offset == 0) {
		q->flags |= Q_FIRST_IN;
		pkt_copy_bits(p, 0, q->hdr, pay);
		q->hdr_len = pay;
		q->l3_off = p->l3_off;
		q->nh_off = nh_off;
		q->head_len = n;
		q->opt_rr = p->opt_rr;
		q->opt_ts = p->opt_ts;
		q->opt_cipso = p->opt_cipso;
		q->opt_flags = p->opt_flags;
	}
	if (v4) {
		fragsize = n + (pay - p->l3_off);
		if (fragsize > q->max_size)
			q->max_size = fragsize;
		if ((get_be16(ip + 6) & IP4_DF) && fragsize > q->max_df_size)
			q->max_df_size = fragsize;
	}
	if (q->flags != (Q_FIRST_IN | Q_LAST_IN) || q->meat != q->len)
		return REASM_HELD;
	*out = finish(r, q);
	res = *out ? REASM_DONE : REASM_FAILED;
	queue_free(r, q);
	return res;

broken:
	queue_free(r, q);
	return REASM_BROKEN;
}

/*
 * The first fragment of @q as Linux holds it when the time is up: its
 * headers as they came, and its payload (still in place), cut to a
 * multiple of 8 if it was.  A cut IPv4 fragment is shorter than its
 * total length says: it is parsed with a length that fits, which is
 * then put back, so that the quote of its error takes what the frame
 * holds, as Linux's does.
 */
static struct pkt *head_frag(struct reasm *r, struct queue *q)
{
	uint32_t start = place_headers(q, q->hdr_len, q->head_len);
	uint8_t *ip = q->buf->buf + start + q->l3_off, saved[4];
	uint32_t hl = q->hdr_len - q->l3_off;
	int cut = q->v4 && get_be16(ip + 2) != hl + q->head_len;
	struct pkt *p;

	if (cut) {
		memcpy(saved, ip + 2, 2);
		memcpy(saved + 2, ip + 10, 2);
		put_be16(ip + 2, (uint16_t)(hl + q->head_len));
		put_be16(ip + 10, 0);
		put_be16(ip + 10, csum_ip4_header(ip, hl));
	}
	p = take_buf(r, q, start, q->hdr_len + q->head_len);
	if (p && cut) {
		memcpy(ip + 2, saved, 2);
		memcpy(ip + 10, saved + 2, 2);
	}
	return p;
}

int reasm_expire(struct reasm *r, uint64_t now, struct pkt **head,
		 unsigned int *port)
{
	unsigned int i;

	*head = NULL;
	for (i = 0; i < REASM_QUEUES; i++) {
		struct queue *q = &r->q[i];

		if (!q->used || q->expires > now)
			continue;
		*port = q->port;
		if (q->flags & Q_FIRST_IN)
			*head = head_frag(r, q);
		queue_free(r, q);
		return 1;
	}
	return 0;
}

uint64_t reasm_next_expiry(const struct reasm *r)
{
	uint64_t next = 0;
	unsigned int i;

	for (i = 0; i < REASM_QUEUES; i++)
		if (r->q[i].used && (!next || r->q[i].expires < next))
			next = r->q[i].expires;
	return next;
}
