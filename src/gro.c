/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gro: receive aggregation with the merge rules of Linux 6.18.
 *
 * One table per ingress port.  A flow is held as one head packet; every
 * segment merged into it is chained behind it as a fragment narrowed to
 * its payload (the frag_list of skb_gro_receive_list, and DESIGN.md's
 * "iovec of the received buffers"), so merging copies no payload and
 * nothing is allocated per packet.  When the pool runs low the payload
 * is copied onto the end of the aggregate instead and the segment's
 * buffer goes back at once, so held aggregates cannot starve receive.
 * Flow
 * entries come from a fixed array made in gro_create, found through a
 * chained hash and kept on an age list (oldest first) for the timer, for
 * gro_flush_all and for evicting when the table is full.
 */
#include <stdlib.h>
#include <string.h>

#include "grogso/csum.h"
#include "grogso/gro.h"
#include "grogso/pkt.h"
#include "grogso/stats.h"
#include "grogso/vnet.h"

#define IPV4_DF 0x4000
#define IPV4_RESERVED 0x8000            /* "evil bit": inet_gro_receive refuses it */
#define IPV6_HLEN 40
#define TCP_HLEN_MIN 20
#define UDP_HLEN 8
/* TCP flags that close an aggregate after merging (tcp_gro_receive) */
#define TCP_FINAL (TCP_FIN | TCP_PSH)
/* TCP flags that keep a segment out of GRO altogether; CWR is here because
 * 6.18 neither masks it in the flag-word compare nor lets it be held */
#define TCP_NOGRO (TCP_SYN | TCP_RST | TCP_URG | TCP_CWR)

#define GRO_KEY_WORDS 7                 /* the key as 64-bit words */

/*
 * What makes two packets one flow: the Ethernet header, the VLAN tag,
 * the addresses, the L4 protocol and ports, and the IPv6 flow label
 * (gro_list_prepare, inet_gro_receive, ipv6_gro_receive, tcp_gro_lookup).
 * Packed into words in registers (make_key), so the per-packet hash and
 * compare never load back bytes just stored one by one (a store-forward
 * stall per word):
 *   w[0]  MAC bytes 0-7
 *   w[1]  MAC bytes 8-11, VLAN TCI, has_vlan, l3
 *   w[2]  L4 protocol, IPv6 flow label, the two ports
 *   w[3]  IPv4: source and destination; IPv6: source bytes 0-7
 *   w[4]  IPv6: source bytes 8-15 (IPv4: 0)
 *   w[5]  IPv6: destination bytes 0-7 (IPv4: 0)
 *   w[6]  IPv6: destination bytes 8-15 (IPv4: 0)
 * Words are in host order: they are only hashed and compared.  l3 in
 * w[1] keeps IPv4 and IPv6 keys apart.
 */
struct gro_key {
	uint64_t w[GRO_KEY_WORDS];
};

/*
 * One held aggregate: everything GRO needs to know about it besides the
 * head's own bytes (the counterpart of Linux's NAPI_GRO_CB).
 */
struct gro_flow {
	struct gro_key key;
	uint32_t hash;
	struct gro_flow *hnext;         /* hash chain; free list when unused */
	struct gro_flow *older, *newer; /* age list */
	struct pkt *head;
	uint64_t start_ns;              /* receive time of the head */
	uint32_t pay_total;             /* payload bytes merged so far */
	uint16_t mss;                   /* head payload: the aggregate's gso_size */
	uint16_t count;                 /* segments */
	uint16_t ipid_head, ipid_last;
	uint8_t ipid_mode;              /* enum pkt_ipid_mode */
};

struct gro_table {
	struct gro_config cfg;
	struct pkt_pool *pool;
	struct stats_port *stats;
	gro_emit_fn emit;
	void *ctx;

	struct gro_flow *flows;         /* cfg.max_flows entries */
	struct gro_flow **buckets;
	uint32_t bucket_mask;
	struct gro_flow *free;
	struct gro_flow *oldest, *newest;
	uint32_t held;
	uint32_t copy_below;            /* cfg.copy_below, resolved */
};

void gro_config_default(struct gro_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->max_flows = GRO_DEFAULT_FLOWS;
	cfg->max_ip_len = GRO_MAX_IP_LEN;
	cfg->max_segs = GRO_MAX_SEGS;
	cfg->protos = GRO_PROTO_ALL;
	cfg->udp_fixed_merge = 1;
	cfg->accept_partial = 0;
}

struct gro_table *gro_create(const struct gro_config *cfg,
			     struct pkt_pool *pool, struct stats_port *stats,
			     gro_emit_fn emit, void *ctx)
{
	struct gro_table *t;
	uint32_t nb, i;

	if (!cfg || !pool || !emit || cfg->max_flows == 0 ||
	    cfg->max_flows > (1u << 24) ||
	    cfg->max_ip_len < 68 || cfg->max_ip_len > GRO_MAX_IP_LEN ||
	    cfg->max_segs < 2 || cfg->max_segs > GRO_MAX_SEGS)
		return NULL;

	/* at least twice as many buckets as flows keeps the chains short */
	for (nb = 2; nb < 2 * cfg->max_flows; nb <<= 1)
		;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->flows = calloc(cfg->max_flows, sizeof(*t->flows));
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (!t->flows || !t->buckets) {
		gro_destroy(t);
		return NULL;
	}
	t->cfg = *cfg;
	t->pool = pool;
	t->stats = stats;
	t->emit = emit;
	t->ctx = ctx;
	t->bucket_mask = nb - 1;
	t->copy_below = cfg->copy_below;
	if (!t->copy_below) {
		t->copy_below = pool->count / GRO_COPY_POOL_DIV;
		if (t->copy_below < GRO_COPY_SEGS_MUL * cfg->max_segs)
			t->copy_below = GRO_COPY_SEGS_MUL * cfg->max_segs;
		/* a small pool still gets zero-copy merging for half of it */
		if (t->copy_below > pool->count / 2)
			t->copy_below = pool->count / 2;
	}
	for (i = cfg->max_flows; i-- > 0;) {
		t->flows[i].hnext = t->free;
		t->free = &t->flows[i];
	}
	return t;
}

void gro_destroy(struct gro_table *t)
{
	struct gro_flow *f;

	if (!t)
		return;
	/* held heads belong to the pool; give them back rather than leak */
	for (f = t->oldest; f; f = f->newer)
		pkt_free(t->pool, f->head);
	free(t->buckets);
	free(t->flows);
	free(t);
}

uint32_t gro_held(const struct gro_table *t)
{
	return t->held;
}

/* ---- packet field accessors ---- */

static uint8_t *l3(const struct pkt *p)
{
	return p->data + p->l3_off;
}

static uint8_t *l4(const struct pkt *p)
{
	return p->data + p->l4_off;
}

static uint32_t tcp_hlen(const struct pkt *p)
{
	return (uint32_t)(l4(p)[12] >> 4) * 4;
}

static uint16_t ip4_id(const struct pkt *p)
{
	return get_be16(l3(p) + 4);
}

static int is_v4(const struct pkt *p)
{
	return p->l3 == PKT_L3_IPV4;
}

static int is_tcp(const struct pkt *p)
{
	return p->l4_proto == IPPROTO_TCP_;
}

/* IPv6 traffic class: bits 4..11 of the first word */
static uint8_t ip6_tclass(const struct pkt *p)
{
	return (uint8_t)(get_be16(l3(p)) >> 4);
}

/* ---- flow key and hash ---- */

static int has_flow_key(const struct pkt *p)
{
	return (p->l3 == PKT_L3_IPV4 || p->l3 == PKT_L3_IPV6) && p->l4_off &&
	       (p->l4_proto == IPPROTO_TCP_ || p->l4_proto == IPPROTO_UDP_);
}

static uint64_t load64(const uint8_t *b)
{
	uint64_t v;

	memcpy(&v, b, sizeof(v));
	return v;
}

static uint32_t load32(const uint8_t *b)
{
	uint32_t v;

	memcpy(&v, b, sizeof(v));
	return v;
}

static void make_key(struct gro_key *k, const struct pkt *p)
{
	const uint8_t *ip = l3(p);
	uint64_t w2 = (uint64_t)p->l4_proto | (uint64_t)load32(l4(p)) << 32;

	k->w[0] = load64(p->data);
	k->w[1] = (uint64_t)load32(p->data + 8) |
		  (uint64_t)p->vlan_tci << 32 |
		  (uint64_t)p->has_vlan << 48 | (uint64_t)p->l3 << 56;
	if (is_v4(p)) {
		k->w[2] = w2;
		k->w[3] = load64(ip + 12);      /* saddr, daddr */
		k->w[4] = k->w[5] = k->w[6] = 0;
	} else {
		k->w[2] = w2 | (uint64_t)(get_be32(ip) & 0xfffff) << 8;
		k->w[3] = load64(ip + 8);
		k->w[4] = load64(ip + 16);
		k->w[5] = load64(ip + 24);
		k->w[6] = load64(ip + 32);
	}
}

/*
 * Each key word times its own odd constant, summed, then one
 * multiply-xorshift to carry the high bits down to the bucket index.
 * The products are independent, so this is a few cycles where a
 * word-by-word chain of multiplies was dozens, and still spreads the few
 * fields that differ between flows over the buckets.
 */
static uint32_t key_hash(const struct gro_key *k)
{
	static const uint64_t mul[GRO_KEY_WORDS] = {
		0x9e3779b97f4a7c15ull, 0xbf58476d1ce4e5b9ull,
		0x94d049bb133111ebull, 0xff51afd7ed558ccdull,
		0xc4ceb9fe1a85ec53ull, 0x2545f4914f6cdd1dull,
		0xd6e8feb86659fd93ull,
	};
	uint64_t h = 0;
	int i;

	for (i = 0; i < GRO_KEY_WORDS; i++)
		h += k->w[i] * mul[i];
	h ^= h >> 32;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 29;
	return (uint32_t)h;
}

static int key_equal(const struct gro_key *a, const struct gro_key *b)
{
	uint64_t d = 0;
	int i;

	/* no early exit: one flow's packets match in every word anyway */
	for (i = 0; i < GRO_KEY_WORDS; i++)
		d |= a->w[i] ^ b->w[i];
	return d == 0;
}

static struct gro_flow *flow_lookup(struct gro_table *t,
				    const struct gro_key *k, uint32_t hash)
{
	struct gro_flow *f;

	for (f = t->buckets[hash & t->bucket_mask]; f; f = f->hnext)
		if (f->hash == hash && key_equal(&f->key, k))
			return f;
	return NULL;
}

static void flow_unlink(struct gro_table *t, struct gro_flow *f)
{
	struct gro_flow **pp = &t->buckets[f->hash & t->bucket_mask];

	while (*pp != f)
		pp = &(*pp)->hnext;
	*pp = f->hnext;

	if (f->older)
		f->older->newer = f->newer;
	else
		t->oldest = f->newer;
	if (f->newer)
		f->newer->older = f->older;
	else
		t->newest = f->older;

	f->head = NULL;
	f->older = f->newer = NULL;
	f->hnext = t->free;
	t->free = f;
	t->held--;
}

/* ---- completing an aggregate ---- */

/*
 * Rewrite the head's lengths and checksums for what was merged into it:
 * inet_gro_complete / ipv6_gro_complete for L3, tcp4_gro_complete,
 * tcp_gro_complete and udp_gro_complete for L4.  The IPv4 ID, TTL and
 * TOS stay the head's.
 */
static void finalise(struct gro_flow *f)
{
	struct pkt *p = f->head;
	uint8_t *ip = l3(p);
	uint32_t ip_len = pkt_frame_len(p) - p->l3_off;

	if (is_v4(p)) {
		uint16_t old = get_be16(ip + 2);

		put_be16(ip + 2, (uint16_t)ip_len);
		/* the header was verified by pkt_parse, so an incremental
		 * update stays exact (csum_replace2 in inet_gro_complete) */
		put_be16(ip + 10, csum_replace16(get_be16(ip + 10), old,
						 (uint16_t)ip_len));
	} else {
		put_be16(ip + 4, (uint16_t)(ip_len - IPV6_HLEN));
	}
	if (!is_tcp(p))
		put_be16(l4(p) + 4, (uint16_t)(pkt_frame_len(p) - p->l4_off));
	/* the L4 checksum becomes the pseudo-header sum, to be completed by
	 * whoever sends it (CHECKSUM_PARTIAL) */
	pkt_csum_set_partial(p);

	p->gso_size = f->mss;
	if (is_tcp(p))
		/* no ECN bit: a CWR segment is never held (6.18 rules) */
		p->gso_type = is_v4(p) ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6;
	else
		p->gso_type = VNET_GSO_UDP_L4;
}

/* Emit @p as a completed aggregate of @segs segments, counted for @reason. */
static void emit_agg(struct gro_table *t, struct pkt *p, uint16_t segs,
		     enum flush_reason reason)
{
	p->agg.flush = (uint8_t)reason;
	/* counts flush[reason] for single packets too, and the histogram */
	if (t->stats)
		stats_count_agg(t->stats, segs, reason);
	t->emit(t->ctx, p);
}

static void flow_flush(struct gro_table *t, struct gro_flow *f,
		       enum flush_reason reason)
{
	struct pkt *p = f->head;
	uint16_t segs = f->count;

	p->agg.segs = segs;
	if (is_v4(p)) {
		p->agg.ipid_first = f->ipid_head;
		p->agg.ipid_last = f->ipid_last;
		p->agg.ipid_mode = segs >= 2 ? f->ipid_mode : PKT_IPID_SINGLE;
	} else {
		p->agg.ipid_first = p->agg.ipid_last = 0;
		p->agg.ipid_mode = PKT_IPID_NONE;
	}
	if (segs >= 2)
		finalise(f);
	/* unlink before emitting, so the callback sees a consistent table */
	flow_unlink(t, f);
	emit_agg(t, p, segs, reason);
}

void gro_flush_all(struct gro_table *t, enum flush_reason reason)
{
	while (t->oldest)
		flow_flush(t, t->oldest, reason);
}

uint64_t gro_flush_older(struct gro_table *t, uint64_t before_ns)
{
	while (t->oldest && t->oldest->start_ns < before_ns)
		flow_flush(t, t->oldest, FLUSH_TIMER);
	return t->oldest ? t->oldest->start_ns : 0;
}

/* ---- classification ---- */

/*
 * Why @p cannot take part in GRO at all, or PASS_NONE.  These are the
 * bypasses of inet_gro_receive / ipv6_gro_receive, the checksum
 * validation of tcp4_gro_receive / udp4_gro_receive, the flag and length
 * rules of tcp_gro_receive and the header rules of
 * udp_gro_receive_segment.
 */
static enum pass_reason classify(struct gro_table *t, struct pkt *p)
{
	uint32_t want;

	if (p->l3 != PKT_L3_IPV4 && p->l3 != PKT_L3_IPV6)
		return PASS_NOT_IP;
	if (p->ip_frag ||
	    (is_v4(p) && (get_be16(l3(p) + 6) & IPV4_RESERVED)))
		return PASS_IP_FRAG;
	if (p->ipv6_ext_other)
		return PASS_IPV6_EXT;
	if (!has_flow_key(p))
		return PASS_PROTO;
	if (is_tcp(p))
		want = is_v4(p) ? GRO_PROTO_TCP4 : GRO_PROTO_TCP6;
	else
		want = is_v4(p) ? GRO_PROTO_UDP4 : GRO_PROTO_UDP6;
	if (!(t->cfg.protos & want))
		return PASS_PROTO;
	if (p->ip_opts)
		return PASS_IP_OPTS;
	if (p->ip_pad)
		return PASS_IP_PAD;
	if (p->gso_size)
		return PASS_GSO_IN;

	if (!is_tcp(p)) {
		/* zero checksum: "for symmetry with GSO"; a length that is
		 * not the IP payload (or no payload): padded or malicious */
		if (get_be16(l4(p) + 6) == 0)
			return PASS_UDP_CSUM0;
		if (get_be16(l4(p) + 4) != p->l3_off + pkt_ip_len(p) - p->l4_off ||
		    pkt_payload_len(p) == 0)
			return PASS_UDP_LEN;
	}

	if (p->csum == PKT_CSUM_UNKNOWN)
		pkt_l4_csum_verify(p, t->cfg.accept_partial);
	if (p->csum != PKT_CSUM_VALID && p->csum != PKT_CSUM_PARTIAL)
		return PASS_L4_CSUM;

	if (is_tcp(p)) {
		if (l4(p)[13] & TCP_NOGRO)
			return PASS_TCP_FLAGS;
		/* (len - 1) >= mss in tcp_gro_receive: empty never merges */
		if (pkt_payload_len(p) == 0)
			return PASS_TCP_EMPTY;
	}
	return PASS_NONE;
}

/* ---- merging ---- */

/*
 * The IPv4 ID rule of inet_gro_flush (6.18): the second segment decides
 * between fixed (same ID) and incrementing (head + count); every later
 * one must follow.  Fixed is allowed whatever DF.
 */
static int ipid_ok(const struct gro_flow *f, uint16_t id, uint8_t *mode)
{
	uint16_t off = (uint16_t)(id - f->ipid_head);

	if (f->count == 1) {
		if (off == 0)
			*mode = PKT_IPID_FIXED;
		else if (off == 1)
			*mode = PKT_IPID_INC;
		else
			return 0;
		return 1;
	}
	*mode = f->ipid_mode;
	if (f->ipid_mode == PKT_IPID_FIXED)
		return off == 0;
	return off == f->count;
}

/* IPv4 against the head: inet_gro_flush. */
static enum flush_reason ip4_mismatch(struct gro_table *t,
				      const struct gro_flow *f,
				      const struct pkt *p, uint8_t *mode)
{
	const uint8_t *h = l3(f->head), *n = l3(p);
	enum flush_reason r;

	r = h[8] != n[8] ? FLUSH_TTL :
	    h[1] != n[1] ? FLUSH_TOS :
	    ((get_be16(h + 6) ^ get_be16(n + 6)) & IPV4_DF) ? FLUSH_DF :
	    !ipid_ok(f, ip4_id(p), mode) ? FLUSH_IPID :
	    FLUSH_NONE;
	if (r == FLUSH_NONE && *mode == PKT_IPID_FIXED && !is_tcp(p) &&
	    !t->cfg.udp_fixed_merge) {
		/* GSO cannot give a UDP aggregate its fixed ID back on a
		 * Linux egress, so the user asked us to leave such flows */
		if (t->stats)
			t->stats->pass[PASS_UDP_FIXED]++;
		r = FLUSH_IPID;
	}
	return r;
}

/*
 * Whether @n bytes (a multiple of 4: TCP options, IPv6 extension
 * headers) differ.  Usually 0 or 12 bytes: cheaper inline than a call.
 */
static int words_differ(const uint8_t *a, const uint8_t *b, uint32_t n)
{
	uint32_t x, y, d = 0, i;

	for (i = 0; i + 4 <= n; i += 4) {
		memcpy(&x, a + i, 4);
		memcpy(&y, b + i, 4);
		d |= x ^ y;
	}
	return d != 0;
}

/* IPv6 against the head: ipv6_gro_flush, plus the walked extension
 * headers that ipv6_gro_receive requires byte-identical. */
static enum flush_reason ip6_mismatch(const struct gro_flow *f,
				      const struct pkt *p)
{
	const struct pkt *h = f->head;
	uint32_t hext = (uint32_t)(h->l4_off - h->l3_off - IPV6_HLEN);
	uint32_t next = (uint32_t)(p->l4_off - p->l3_off - IPV6_HLEN);

	return ip6_tclass(h) != ip6_tclass(p) ? FLUSH_TOS :
	       l3(h)[7] != l3(p)[7] ? FLUSH_TTL :
	       (hext != next || l3(h)[6] != l3(p)[6] ||
		words_differ(l3(h) + IPV6_HLEN, l3(p) + IPV6_HLEN, hext)) ?
	       FLUSH_OPTS :
	       FLUSH_NONE;
}

/* TCP against the head: tcp_gro_receive. */
static enum flush_reason tcp_mismatch(const struct gro_flow *f,
				      const struct pkt *p, uint32_t len)
{
	const uint8_t *h = l4(f->head), *n = l4(p);
	uint32_t hlen = tcp_hlen(f->head);

	return get_be32(h + 8) != get_be32(n + 8) ? FLUSH_ACK :
	       /* 4th word: doff, flags except FIN/PSH, window */
	       (h[12] != n[12] ||
		((h[13] ^ n[13]) & (uint8_t)~TCP_FINAL) ||
		get_be16(h + 14) != get_be16(n + 14)) ? FLUSH_FLAGS :
	       words_differ(h + TCP_HLEN_MIN, n + TCP_HLEN_MIN,
			    hlen - TCP_HLEN_MIN) ? FLUSH_OPTS :
	       get_be32(n + 4) != get_be32(h + 4) + f->pay_total ? FLUSH_SEQ :
	       len > f->mss ? FLUSH_LEN :
	       FLUSH_NONE;
}

/* Everything that keeps @p out of @f's aggregate, or FLUSH_NONE. */
static enum flush_reason mismatch(struct gro_table *t,
				  const struct gro_flow *f,
				  const struct pkt *p, uint32_t len,
				  uint8_t *mode)
{
	enum flush_reason r;

	*mode = f->ipid_mode;
	r = is_v4(p) ? ip4_mismatch(t, f, p, mode) : ip6_mismatch(f, p);
	if (r != FLUSH_NONE)
		return r;
	if (is_tcp(p))
		return tcp_mismatch(f, p, len);
	/* udp_gro_receive_segment: a larger datagram starts anew */
	return len > f->mss ? FLUSH_LEN : FLUSH_NONE;
}

/*
 * Make @p the head of a new aggregate, or emit it alone when its own
 * flags end an aggregate at once (PSH/FIN with nothing held: the final
 * flush of tcp_gro_receive).
 */
static void flow_start(struct gro_table *t, struct pkt *p,
		       const struct gro_key *k, uint32_t hash, uint64_t now_ns)
{
	struct gro_flow *f, **b;
	uint32_t len = pkt_payload_len(p);

	if (is_tcp(p) && (l4(p)[13] & TCP_FINAL)) {
		p->agg.segs = 1;
		emit_agg(t, p, 1, (l4(p)[13] & TCP_FIN) ? FLUSH_FIN : FLUSH_PSH);
		return;
	}
	if (!t->free)
		/* never drop: make room by completing the oldest */
		flow_flush(t, t->oldest, FLUSH_FULL);
	f = t->free;
	t->free = f->hnext;

	f->key = *k;
	f->hash = hash;
	b = &t->buckets[hash & t->bucket_mask];
	f->hnext = *b;
	*b = f;
	f->newer = NULL;
	f->older = t->newest;
	if (t->newest)
		t->newest->newer = f;
	else
		t->oldest = f;
	t->newest = f;
	t->held++;

	f->head = p;
	f->start_ns = now_ns;
	f->pay_total = len;
	f->mss = (uint16_t)len;
	f->count = 1;
	if (is_v4(p)) {
		f->ipid_head = f->ipid_last = ip4_id(p);
		f->ipid_mode = PKT_IPID_SINGLE;
	} else {
		f->ipid_head = f->ipid_last = 0;
		f->ipid_mode = PKT_IPID_NONE;
	}
}

/*
 * Append @p's payload to the aggregate (skb_gro_receive): chain @p's
 * buffer, narrowed to the payload, or copy the payload onto the last
 * piece and free @p when the pool is low.  Either way every piece but
 * the last holds whole segments, which gso_segment relies on to point
 * each segment into one piece.
 */
static void flow_merge(struct gro_table *t, struct gro_flow *f,
		       struct pkt *p, uint32_t len, uint8_t mode)
{
	struct pkt *h = f->head, *tail;
	const uint8_t *pay = p->data + p->pay_off;

	f->pay_total += len;
	f->count++;
	f->ipid_mode = mode;
	if (is_v4(p))
		f->ipid_last = ip4_id(p);
	if (is_tcp(p))
		/* tcp_gro_receive ORs the final flags into the head */
		l4(h)[13] |= l4(p)[13] & TCP_FINAL;

	if (t->pool->nfree >= t->copy_below)
		goto chain;
	tail = h->frag_last ? h->frag_last : h;
	/* every buffer holds a whole IP datagram and a fragment starts no
	 * later than the head's payload, so this only guards a bug */
	if (len > (size_t)(tail->buf + PKT_BUF_SIZE - (tail->data + tail->len)))
		goto chain;
	memcpy(tail->data + tail->len, pay, len);
	tail->len += len;
	if (tail != h)
		h->frag_bytes += len;
	pkt_free(t->pool, p);
	return;
chain:
	p->data += p->pay_off;
	p->len = len;
	pkt_frag_append(h, p);
}

void gro_receive(struct gro_table *t, struct pkt *p, uint64_t now_ns)
{
	enum pass_reason pass;
	enum flush_reason r;
	struct gro_flow *f;
	struct gro_key k;
	uint32_t hash, len;
	uint8_t mode, flags;

	pass = classify(t, p);
	if (pass != PASS_NONE) {
		if (t->stats)
			t->stats->pass[pass]++;
		/* never let a packet overtake its flow's held aggregate
		 * (stricter than Linux, which may reorder here) */
		if (has_flow_key(p)) {
			make_key(&k, p);
			f = flow_lookup(t, &k, key_hash(&k));
			if (f) {
				r = (is_tcp(p) && (l4(p)[13] & TCP_CWR)) ?
				    FLUSH_CWR : FLUSH_PASS;
				flow_flush(t, f, r);
			}
		}
		if (pass != PASS_GSO_IN)
			p->agg.flush = FLUSH_NONE;
		t->emit(t->ctx, p);
		return;
	}

	make_key(&k, p);
	hash = key_hash(&k);
	f = flow_lookup(t, &k, hash);
	if (!f) {
		flow_start(t, p, &k, hash, now_ns);
		return;
	}

	len = pkt_payload_len(p);
	r = mismatch(t, f, p, len, &mode);
	if (r == FLUSH_NONE &&
	    pkt_frame_len(f->head) - f->head->l3_off + len > t->cfg.max_ip_len)
		/* skb_gro_receive: -E2BIG */
		r = FLUSH_SIZE;
	if (r != FLUSH_NONE) {
		flow_flush(t, f, r);
		flow_start(t, p, &k, hash, now_ns);
		return;
	}

	flags = is_tcp(p) ? l4(p)[13] : 0;
	flow_merge(t, f, p, len, mode);

	/* out_check_final in tcp_gro_receive; the smaller final datagram
	 * and UDP_GRO_CNT_MAX in udp_gro_receive_segment */
	r = (flags & TCP_FIN) ? FLUSH_FIN :
	    (flags & TCP_PSH) ? FLUSH_PSH :
	    len < f->mss ? FLUSH_SHORT :
	    f->count >= t->cfg.max_segs ? FLUSH_SEGS :
	    FLUSH_NONE;
	if (r != FLUSH_NONE)
		flow_flush(t, f, r);
}
