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
 * chained hash (with a bitmap of busy buckets) and kept on an age list
 * (oldest first) for the timer, for gro_flush_all and for evicting when
 * the table is full.
 *
 * The per-packet path is written for its common case, a burst of one
 * flow: classify reads what it needs from the packet once (struct
 * gro_cb), the flow of the previous packet is tried before the hash
 * table, the key is hashed and compared as 64-bit words (four for IPv4),
 * and what the merge path rarely needs (passing a packet by, starting a
 * flow, completing an aggregate) is kept out of line.  The other common
 * case, many flows with a packet each per batch, starts and completes a
 * flow per packet, so that path does only what a single needs:
 * flow_start takes the payload length, flags and ID from gro_cb instead
 * of the packet and stores only the key words that count; the entry
 * keeps the head's p->agg whole, so starting and completing each write
 * it in one store; completing the oldest (flush_all, the timer, a full
 * table) skips the general unlink; a flow leaving its bucket empty only
 * clears the bucket's bit; and an entry going free keeps the links that
 * nothing reads until it is used again.  On the merge path the header
 * fields that must equal the head's are compared as masked 64-bit words
 * (IPv4 TOS/DF/TTL, TCP ACK and flag word), and which rule failed is
 * worked out field by field only when one did; the usual IPv4 ID, TCP
 * options and closing checks are tried first.  None of this changes which
 * packets merge or why not: every rule is checked as before, and the
 * reason is the first failing one in the same order.
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
#define TCPOLEN_TSTAMP_ALIGNED 12       /* NOP, NOP, timestamps (Linux name) */
/* TCP flags that close an aggregate after merging (tcp_gro_receive) */
#define TCP_FINAL (TCP_FIN | TCP_PSH)
/* TCP flags that keep a segment out of GRO altogether; CWR is here because
 * 6.18 neither masks it in the flag-word compare nor lets it be held */
#define TCP_NOGRO (TCP_SYN | TCP_RST | TCP_URG | TCP_CWR)

/* Kept out of gro_receive, so that its merge path keeps its values in
 * registers instead of spilling them around calls it rarely makes. */
#define GRO_NOINLINE __attribute__((noinline))

#define GRO_FLOW_ALIGN 64               /* a cache line: a flow entry is two */
#define GRO_KEY_WORDS 7                 /* the key as 64-bit words */
#define GRO_KEY_WORDS_V4 4              /* an IPv4 key counts w[0..3] only */

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
 *   w[4]  IPv6: source bytes 8-15 (IPv4: unused)
 *   w[5]  IPv6: destination bytes 0-7 (IPv4: unused)
 *   w[6]  IPv6: destination bytes 8-15 (IPv4: unused)
 * Words are in host order: they are only hashed and compared.  l3 in
 * w[1] keeps IPv4 and IPv6 keys apart, so once w[1] matches both keys
 * are IPv4 or both IPv6: an IPv4 key is made, stored, hashed and
 * compared as its first GRO_KEY_WORDS_V4 words only, and whatever an
 * entry holds in w[4..6] from an earlier IPv6 flow cannot make an IPv6
 * key match it (w[1] already differs).
 */
struct gro_key {
	uint64_t w[GRO_KEY_WORDS];
};

/*
 * One held aggregate: everything GRO needs to know about it besides the
 * head's own bytes (the counterpart of Linux's NAPI_GRO_CB).
 */
struct gro_flow {
	/* first cache line: what a merge reads and writes, then the key
	 * words of an IPv4 flow (w[4..6] open the second line) */
	struct pkt *head;
	uint32_t hash;
	uint32_t pay_total;             /* payload bytes merged so far */
	/*
	 * The head's p->agg as it will be emitted (flush aside, which stays
	 * 0 here): segs, the IDs of the head (ipid_first) and of the last
	 * segment, the ID mode.  Kept whole, so that starting a flow and
	 * completing one each store it at once.
	 */
	struct pkt_agg agg;
	uint16_t mss;                   /* head payload: the aggregate's gso_size */
	uint16_t l3_off, l4_off;        /* the head's, for its headers */
	struct gro_key key;
	/* second line: the lists, touched when a flow starts and ends */
	struct gro_flow *hnext;         /* hash chain; free list when unused */
	struct gro_flow **hprev;        /* what points at this entry in its chain */
	struct gro_flow *older, *newer; /* age list */
	uint64_t start_ns;              /* receive time of the head */
} __attribute__((aligned(GRO_FLOW_ALIGN)));

/*
 * What GRO reads from the packet in hand more than once, read once by
 * classify and passed down (the per-packet half of NAPI_GRO_CB).
 */
struct gro_cb {
	uint8_t *ip;                    /* L3 header */
	uint8_t *th;                    /* TCP/UDP header */
	uint32_t len;                   /* TCP/UDP payload bytes */
	uint8_t v4;                     /* IPv4, else IPv6 */
	uint8_t tcp;                    /* TCP, else UDP */
	uint8_t flags;                  /* TCP flags; 0 for UDP */
};

struct gro_table {
	struct gro_config cfg;
	struct pkt_pool *pool;
	struct stats_port *stats;
	gro_emit_fn emit;
	void *ctx;

	struct gro_flow *flows;         /* cfg.max_flows entries */
	struct gro_flow **buckets;
	/*
	 * One bit per bucket, set while it holds a flow (Linux's
	 * gro_bitmask, per bucket).  A packet of a new flow then learns so
	 * from this small, always cached map instead of loading its bucket
	 * from a large array, and linking and unlinking only store to the
	 * buckets.  A bucket whose bit is clear is never read, so the last
	 * flow leaving one leaves its stale pointer there.
	 */
	uint64_t *busy;
	uint32_t bucket_mask;
	struct gro_flow *free;
	struct gro_flow *oldest, *newest;
	/*
	 * The flow the last packet was merged into or started: a burst of
	 * one flow finds it with one key compare and no hash.  Only a
	 * shortcut to what flow_lookup would find (keys are unique in the
	 * table); cleared when that flow is unlinked.
	 */
	struct gro_flow *last;
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
	/* aligned, so that a flow's entry is exactly its two lines */
	t->flows = aligned_alloc(GRO_FLOW_ALIGN,
				 cfg->max_flows * sizeof(*t->flows));
	if (t->flows)
		memset(t->flows, 0, cfg->max_flows * sizeof(*t->flows));
	t->buckets = calloc(nb, sizeof(*t->buckets));
	t->busy = calloc((nb + 63) / 64, sizeof(*t->busy));   /* 64 a word */
	if (!t->flows || !t->buckets || !t->busy) {
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
	free(t->busy);
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

/* Header fields, read through a pointer to the header. */
static uint32_t tcp_hlen(const uint8_t *th)
{
	return (uint32_t)(th[12] >> 4) * 4;
}

static uint16_t ip4_id(const uint8_t *ip)
{
	return get_be16(ip + 4);
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
static uint8_t ip6_tclass(const uint8_t *ip)
{
	return (uint8_t)(get_be16(ip) >> 4);
}

/* The head's L3 and L4 headers. */
static uint8_t *flow_l3(const struct gro_flow *f)
{
	return f->head->data + f->l3_off;
}

static uint8_t *flow_l4(const struct gro_flow *f)
{
	return f->head->data + f->l4_off;
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

/*
 * Fill @k from @p, whose L3 and L4 headers are at @ip and @th.  Returns
 * the words that count: GRO_KEY_WORDS_V4 for IPv4 (w[4..6] are left
 * unset: nothing reads past the words that count), GRO_KEY_WORDS for
 * IPv6.
 */
static inline uint32_t make_key(struct gro_key *k, const struct pkt *p,
				const uint8_t *ip, const uint8_t *th)
{
	uint64_t w2 = (uint64_t)p->l4_proto | (uint64_t)load32(th) << 32;
	/* p->l3 is IPv4 or IPv6 (the callers check): each branch puts its
	 * own as a constant */
	uint64_t w1 = (uint64_t)load32(p->data + 8) |
		      (uint64_t)p->vlan_tci << 32 |
		      (uint64_t)p->has_vlan << 48;

	k->w[0] = load64(p->data);
	if (is_v4(p)) {
		k->w[1] = w1 | (uint64_t)PKT_L3_IPV4 << 56;
		k->w[2] = w2;
		k->w[3] = load64(ip + 12);      /* saddr, daddr */
		return GRO_KEY_WORDS_V4;
	}
	k->w[1] = w1 | (uint64_t)PKT_L3_IPV6 << 56;
	k->w[2] = w2 | (uint64_t)(get_be32(ip) & 0xfffff) << 8;
	k->w[3] = load64(ip + 8);
	k->w[4] = load64(ip + 16);
	k->w[5] = load64(ip + 24);
	k->w[6] = load64(ip + 32);
	return GRO_KEY_WORDS;
}

/*
 * Each key word times its own odd constant, summed, then one
 * multiply-xorshift to carry the high bits down to the bucket index.
 * The products are independent, so this is a few cycles where a
 * word-by-word chain of multiplies was dozens, and still spreads the few
 * fields that differ between flows over the buckets.  Only the first
 * @nw words are read: an IPv4 key's others are not set.
 */
static inline uint32_t key_hash(const struct gro_key *k, uint32_t nw)
{
	uint64_t h;

	h = k->w[0] * 0x9e3779b97f4a7c15ull + k->w[1] * 0xbf58476d1ce4e5b9ull +
	    k->w[2] * 0x94d049bb133111ebull + k->w[3] * 0xff51afd7ed558ccdull;
	if (nw > GRO_KEY_WORDS_V4)
		h += k->w[4] * 0xc4ceb9fe1a85ec53ull +
		     k->w[5] * 0x2545f4914f6cdd1dull +
		     k->w[6] * 0xd6e8feb86659fd93ull;
	h ^= h >> 32;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 29;
	return (uint32_t)h;
}

/* Whether stored key @a equals @b, whose first @nw words count. */
static int key_equal(const struct gro_key *a, const struct gro_key *b,
		     uint32_t nw)
{
	/* one OR, no early exit: one flow's packets match in every word */
	uint64_t d = (a->w[0] ^ b->w[0]) | (a->w[1] ^ b->w[1]) |
		     (a->w[2] ^ b->w[2]) | (a->w[3] ^ b->w[3]);

	if (nw > GRO_KEY_WORDS_V4)
		d |= (a->w[4] ^ b->w[4]) | (a->w[5] ^ b->w[5]) |
		     (a->w[6] ^ b->w[6]);
	return d == 0;
}

/* Bucket @i's bit in the busy map. */
static int bucket_busy(const struct gro_table *t, uint32_t i)
{
	return (t->busy[i / 64] >> (i % 64)) & 1;
}

static void bucket_mark(struct gro_table *t, uint32_t i, int busy)
{
	if (busy)
		t->busy[i / 64] |= 1ull << (i % 64);
	else
		t->busy[i / 64] &= ~(1ull << (i % 64));
}

/* The held flow of key @k (@nw words, hash @hash), or NULL. */
static inline struct gro_flow *flow_lookup(struct gro_table *t,
					   const struct gro_key *k,
					   uint32_t nw, uint32_t hash)
{
	uint32_t i = hash & t->bucket_mask;
	struct gro_flow *f;

	if (!bucket_busy(t, i))
		return NULL;
	for (f = t->buckets[i]; f; f = f->hnext)
		if (f->hash == hash && key_equal(&f->key, k, nw))
			return f;
	return NULL;
}

/*
 * Take @f, already off the age list, out of its hash chain and put it
 * on the free list.  A free entry's head and age links are never read
 * (flow_start sets them), so they are left as they are.
 */
static inline void flow_release(struct gro_table *t, struct gro_flow *f)
{
	uint32_t i = f->hash & t->bucket_mask;

	if (f->hnext)
		f->hnext->hprev = f->hprev;
	if (!f->hnext && f->hprev == &t->buckets[i])
		/* it was the only one: the bucket is not read again until
		 * flow_start stores to it, so only its bit is cleared */
		bucket_mark(t, i, 0);
	else
		*f->hprev = f->hnext;

	if (t->last == f)
		t->last = NULL;
	f->hnext = t->free;
	t->free = f;
	t->held--;
}

/* Take @f off the table wherever it is on the age list. */
static void flow_unlink(struct gro_table *t, struct gro_flow *f)
{
	if (f->older)
		f->older->newer = f->newer;
	else
		t->oldest = f->newer;
	if (f->newer)
		f->newer->older = f->older;
	else
		t->newest = f->older;
	flow_release(t, f);
}

/* Take @f, the oldest, off the table: flush_all, the timer, a full table. */
static inline void flow_unlink_oldest(struct gro_table *t, struct gro_flow *f)
{
	t->oldest = f->newer;
	if (f->newer)
		f->newer->older = NULL;
	else
		t->newest = NULL;
	flow_release(t, f);
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

/* Write what GRO learnt into @f's head and complete it; returns the head. */
static inline struct pkt *flow_complete(struct gro_flow *f)
{
	struct pkt *p = f->head;

	/* the flow has it right for either family (flow_start: SINGLE for
	 * IPv4, NONE and 0 for IPv6; a merge decides INC or FIXED), so
	 * nothing is read back from the head, which may have left the cache
	 * since it arrived */
	p->agg = f->agg;
	if (f->agg.segs >= 2)
		finalise(f);
	return p;
}

/* Emit @f's aggregate, for @reason; @f may be anywhere on the age list. */
static GRO_NOINLINE void flow_flush(struct gro_table *t, struct gro_flow *f,
				    enum flush_reason reason)
{
	struct pkt *p = flow_complete(f);
	uint16_t segs = f->agg.segs;

	/* unlink before emitting, so the callback sees a consistent table */
	flow_unlink(t, f);
	emit_agg(t, p, segs, reason);
}

/* flow_flush of the oldest flow: what flush_all and the timer do, in a
 * loop, for every held flow. */
static inline void flow_flush_oldest(struct gro_table *t,
				     enum flush_reason reason)
{
	struct gro_flow *f = t->oldest;
	struct pkt *p = flow_complete(f);
	uint16_t segs = f->agg.segs;

	flow_unlink_oldest(t, f);
	emit_agg(t, p, segs, reason);
}

void gro_flush_all(struct gro_table *t, enum flush_reason reason)
{
	while (t->oldest)
		flow_flush_oldest(t, reason);
}

uint64_t gro_flush_older(struct gro_table *t, uint64_t before_ns)
{
	while (t->oldest && t->oldest->start_ns < before_ns)
		flow_flush_oldest(t, FLUSH_TIMER);
	return t->oldest ? t->oldest->start_ns : 0;
}

int gro_flush_oldest(struct gro_table *t, enum flush_reason reason)
{
	if (!t->oldest)
		return 0;
	flow_flush_oldest(t, reason);
	return 1;
}

uint64_t gro_oldest_ns(const struct gro_table *t)
{
	return t->oldest ? t->oldest->start_ns : 0;
}

/* ---- classification ---- */

/*
 * Why @p cannot take part in GRO at all, or PASS_NONE.  These are the
 * bypasses of inet_gro_receive / ipv6_gro_receive, the checksum
 * validation of tcp4_gro_receive / udp4_gro_receive, the flag and length
 * rules of tcp_gro_receive and the header rules of
 * udp_gro_receive_segment.  On the way it fills @cb, which is complete
 * when it returns PASS_NONE.
 */
static enum pass_reason classify(struct gro_table *t, struct pkt *p,
				 struct gro_cb *cb)
{
	uint32_t want, ip_end;

	cb->v4 = p->l3 == PKT_L3_IPV4;
	if (!cb->v4 && p->l3 != PKT_L3_IPV6)
		return PASS_NOT_IP;
	cb->ip = l3(p);
	if (p->ip_frag || (cb->v4 && (get_be16(cb->ip + 6) & IPV4_RESERVED)))
		return PASS_IP_FRAG;
	if (p->ipv6_ext_other)
		return PASS_IPV6_EXT;
	/* a TCP or UDP header that does not hold together */
	if (p->l4_bad)
		return p->l4_bad == PKT_L4_DOFF ? PASS_TCP_DOFF :
		       p->l4_bad == PKT_L4_ULEN ? PASS_UDP_LEN : PASS_L4_TRUNC;
	cb->tcp = p->l4_proto == IPPROTO_TCP_;
	if (!p->l4_off || (!cb->tcp && p->l4_proto != IPPROTO_UDP_))
		return PASS_PROTO;
	if (t->cfg.protos != GRO_PROTO_ALL) {
		/* the default allows all: no need to work out which */
		if (cb->tcp)
			want = cb->v4 ? GRO_PROTO_TCP4 : GRO_PROTO_TCP6;
		else
			want = cb->v4 ? GRO_PROTO_UDP4 : GRO_PROTO_UDP6;
		if (!(t->cfg.protos & want))
			return PASS_PROTO;
	}
	if (p->ip_opts)
		return PASS_IP_OPTS;
	if (p->ip_pad)
		return PASS_IP_PAD;
	if (p->gso_size)
		return PASS_GSO_IN;

	/* pkt_ip_len, knowing which IP version this is */
	ip_end = p->l3_off + (cb->v4 ? get_be16(cb->ip + 2) :
			      get_be16(cb->ip + 4) + (uint32_t)IPV6_HLEN);
	cb->th = l4(p);
	cb->len = ip_end - p->pay_off;
	cb->flags = 0;
	if (!cb->tcp) {
		/* zero checksum: "for symmetry with GSO"; a length that is
		 * not the IP payload (or no payload): padded or malicious */
		if (get_be16(cb->th + 6) == 0)
			return PASS_UDP_CSUM0;
		if (get_be16(cb->th + 4) != ip_end - p->l4_off || cb->len == 0)
			return PASS_UDP_LEN;
	}

	if (p->csum == PKT_CSUM_UNKNOWN)
		pkt_l4_csum_verify(p, t->cfg.accept_partial);
	if (p->csum != PKT_CSUM_VALID && p->csum != PKT_CSUM_PARTIAL)
		return PASS_L4_CSUM;

	if (cb->tcp) {
		cb->flags = cb->th[13];
		if (cb->flags & TCP_NOGRO)
			return PASS_TCP_FLAGS;
		/* (len - 1) >= mss in tcp_gro_receive: empty never merges */
		if (cb->len == 0)
			return PASS_TCP_EMPTY;
	}
	return PASS_NONE;
}

/* ---- merging ---- */

/*
 * The bytes that must be equal for a merge, as masks over load64 of
 * eight header bytes (so the same whatever the host order).  IPv4 from
 * byte 1: TOS, then the DF bit of byte 6, then TTL (inet_gro_flush).
 * TCP from byte 8: the ACK, then the 4th word (data offset, flags other
 * than FIN/PSH, window): the tcp_flag_word compare of tcp_gro_receive.
 */
static const uint8_t ip4_same_mask[8] = {
	0xff, 0, 0, 0, 0, IPV4_DF >> 8, 0, 0xff
};
static const uint8_t tcp_same_mask[8] = {
	0xff, 0xff, 0xff, 0xff, 0xff, (uint8_t)~TCP_FINAL, 0xff, 0xff
};

/*
 * The IPv4 ID rule of inet_gro_flush (6.18): the second segment decides
 * between fixed (same ID) and incrementing (head + count); every later
 * one must follow.  Fixed is allowed whatever DF.
 */
static int ipid_ok(const struct gro_flow *f, uint16_t id, uint8_t *mode)
{
	uint16_t off = (uint16_t)(id - f->agg.ipid_first);

	/* the usual case first: incrementing, and this is the next ID
	 * (segs is at least 2 here: a single has mode SINGLE) */
	if (f->agg.ipid_mode == PKT_IPID_INC && off == f->agg.segs) {
		*mode = PKT_IPID_INC;
		return 1;
	}
	if (f->agg.segs == 1) {
		if (off == 0)
			*mode = PKT_IPID_FIXED;
		else if (off == 1)
			*mode = PKT_IPID_INC;
		else
			return 0;
		return 1;
	}
	*mode = f->agg.ipid_mode;
	if (f->agg.ipid_mode == PKT_IPID_FIXED)
		return off == 0;
	return off == f->agg.segs;
}

/* IPv4 against the head: inet_gro_flush. */
static enum flush_reason ip4_mismatch(struct gro_table *t,
				      const struct gro_flow *f,
				      const struct gro_cb *cb, uint8_t *mode)
{
	const uint8_t *h = flow_l3(f), *n = cb->ip;
	enum flush_reason r;

	/* TOS, DF and TTL compared at once; which one differs is only
	 * asked when one does */
	if (!((load64(h + 1) ^ load64(n + 1)) & load64(ip4_same_mask)))
		r = !ipid_ok(f, ip4_id(n), mode) ? FLUSH_IPID : FLUSH_NONE;
	else
		r = h[8] != n[8] ? FLUSH_TTL :
		    h[1] != n[1] ? FLUSH_TOS :
		    FLUSH_DF;
	if (r == FLUSH_NONE && *mode == PKT_IPID_FIXED && !cb->tcp &&
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

	if (n == TCPOLEN_TSTAMP_ALIGNED)
		/* the usual TCP options: two loads each, no loop */
		return ((load64(a) ^ load64(b)) |
			(load32(a + 8) ^ load32(b + 8))) != 0;
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
				      const struct gro_cb *cb)
{
	const uint8_t *h = flow_l3(f), *n = cb->ip;
	uint32_t hext = (uint32_t)(f->l4_off - f->l3_off - IPV6_HLEN);
	uint32_t next = (uint32_t)(cb->th - n - IPV6_HLEN);

	return ip6_tclass(h) != ip6_tclass(n) ? FLUSH_TOS :
	       h[7] != n[7] ? FLUSH_TTL :
	       (hext != next || h[6] != n[6] ||
		words_differ(h + IPV6_HLEN, n + IPV6_HLEN, hext)) ?
	       FLUSH_OPTS :
	       FLUSH_NONE;
}

/* TCP against the head: tcp_gro_receive. */
static enum flush_reason tcp_mismatch(const struct gro_flow *f,
				      const struct gro_cb *cb)
{
	const uint8_t *h = flow_l4(f), *n = cb->th;

	/* the ACK and the 4th word compared at once (tcp_same_mask);
	 * which one differs is only asked when one does */
	if ((load64(h + 8) ^ load64(n + 8)) & load64(tcp_same_mask))
		return get_be32(h + 8) != get_be32(n + 8) ? FLUSH_ACK :
		       FLUSH_FLAGS;
	/* the data offsets are equal (4th word): options only when the
	 * head's says more than TCP_HLEN_MIN */
	return (tcp_hlen(h) > TCP_HLEN_MIN &&
		words_differ(h + TCP_HLEN_MIN, n + TCP_HLEN_MIN,
			     tcp_hlen(h) - TCP_HLEN_MIN)) ? FLUSH_OPTS :
	       get_be32(n + 4) != get_be32(h + 4) + f->pay_total ? FLUSH_SEQ :
	       cb->len > f->mss ? FLUSH_LEN :
	       FLUSH_NONE;
}

/* Everything that keeps the packet of @cb out of @f's aggregate, or
 * FLUSH_NONE. */
static enum flush_reason mismatch(struct gro_table *t,
				  const struct gro_flow *f,
				  const struct gro_cb *cb, uint8_t *mode)
{
	enum flush_reason r;

	*mode = f->agg.ipid_mode;
	r = cb->v4 ? ip4_mismatch(t, f, cb, mode) : ip6_mismatch(f, cb);
	if (r != FLUSH_NONE)
		return r;
	if (cb->tcp)
		return tcp_mismatch(f, cb);
	/* udp_gro_receive_segment: a larger datagram starts anew */
	return cb->len > f->mss ? FLUSH_LEN : FLUSH_NONE;
}

/* Make room in a full table: the oldest aggregate is emitted. */
static GRO_NOINLINE void flow_flush_full(struct gro_table *t)
{
	flow_flush_oldest(t, FLUSH_FULL);
}

/*
 * Make @p the head of a new aggregate with key @k (@nw words, hash
 * @hash), or emit it alone when its own flags end an aggregate at once
 * (PSH/FIN with nothing held: the final flush of tcp_gro_receive).
 */
static void flow_start(struct gro_table *t, struct pkt *p,
		       const struct gro_cb *cb, const struct gro_key *k,
		       uint32_t nw, uint32_t hash, uint64_t now_ns)
{
	struct gro_flow *f, **b;
	uint32_t i;

	/* cb->flags is 0 for UDP */
	if (cb->flags & TCP_FINAL) {
		p->agg.segs = 1;
		emit_agg(t, p, 1, (cb->flags & TCP_FIN) ? FLUSH_FIN : FLUSH_PSH);
		return;
	}
	if (!t->free)
		/* never drop: make room by completing the oldest */
		flow_flush_full(t);
	f = t->free;
	t->free = f->hnext;

	/* the words that count (make_key) */
	f->key.w[0] = k->w[0];
	f->key.w[1] = k->w[1];
	f->key.w[2] = k->w[2];
	f->key.w[3] = k->w[3];
	if (nw > GRO_KEY_WORDS_V4) {
		f->key.w[4] = k->w[4];
		f->key.w[5] = k->w[5];
		f->key.w[6] = k->w[6];
	}
	f->hash = hash;
	i = hash & t->bucket_mask;
	b = &t->buckets[i];
	if (bucket_busy(t, i)) {
		f->hnext = *b;
		f->hnext->hprev = &f->hnext;
	} else {
		/* empty: nothing to load from the bucket */
		f->hnext = NULL;
		bucket_mark(t, i, 1);
	}
	*b = f;
	f->hprev = b;
	f->newer = NULL;
	f->older = t->newest;
	if (t->newest)
		t->newest->newer = f;
	else
		t->oldest = f;
	t->newest = f;
	t->held++;
	t->last = f;

	f->head = p;
	f->l3_off = p->l3_off;
	f->l4_off = p->l4_off;
	f->start_ns = now_ns;
	f->pay_total = cb->len;
	f->mss = (uint16_t)cb->len;
	if (cb->v4) {
		uint16_t id = ip4_id(cb->ip);

		f->agg = (struct pkt_agg){ .segs = 1, .ipid_first = id,
					   .ipid_last = id,
					   .ipid_mode = PKT_IPID_SINGLE };
	} else {
		f->agg = (struct pkt_agg){ .segs = 1,
					   .ipid_mode = PKT_IPID_NONE };
	}
}

/*
 * The held flow of key @k (@nw words) when it is not the previous
 * packet's: looked up by hash and remembered as the last flow, or NULL
 * after @p started a new one.  Out of line: a burst of one flow comes
 * here once per aggregate.
 */
static GRO_NOINLINE struct gro_flow *
flow_find_or_start(struct gro_table *t, struct pkt *p,
		   const struct gro_cb *cb, const struct gro_key *k,
		   uint32_t nw, uint64_t now_ns)
{
	uint32_t hash = key_hash(k, nw);
	struct gro_flow *f = flow_lookup(t, k, nw, hash);

	if (f)
		t->last = f;
	else
		flow_start(t, p, cb, k, nw, hash, now_ns);
	return f;
}

/*
 * Append @p's payload to the aggregate (skb_gro_receive): chain @p's
 * buffer, narrowed to the payload, or copy the payload onto the last
 * piece and free @p when the pool is low.  Either way every piece but
 * the last holds whole segments, which gso_segment relies on to point
 * each segment into one piece.
 */
static void flow_merge(struct gro_table *t, struct gro_flow *f,
		       struct pkt *p, const struct gro_cb *cb, uint8_t mode)
{
	struct pkt *h = f->head, *tail;
	uint32_t len = cb->len;
	uint8_t *pay = p->data + p->pay_off;

	f->pay_total += len;
	f->agg.segs++;
	f->agg.ipid_mode = mode;
	if (cb->v4)
		f->agg.ipid_last = ip4_id(cb->ip);
	if (cb->flags & TCP_FINAL)
		/* tcp_gro_receive ORs the final flags into the head */
		flow_l4(f)[13] |= cb->flags & TCP_FINAL;

	if (t->pool->nfree >= t->copy_below)
		goto chain;
	tail = h->frag_last ? h->frag_last : h;
	/* a frame in the receive ring has no room behind it (the end of its
	 * slot, or the next frame of its block); every buffer holds a
	 * whole IP datagram and a fragment starts no later than the head's
	 * payload, so the second test only guards a bug */
	if (tail->borrow ||
	    len > (size_t)(tail->buf + PKT_BUF_SIZE - (tail->data + tail->len)))
		goto chain;
	memcpy(tail->data + tail->len, pay, len);
	tail->len += len;
	if (tail != h)
		h->frag_bytes += len;
	pkt_free(t->pool, p);
	return;
chain:
	p->data = pay;
	p->len = len;
	pkt_frag_append(h, p);
}

/*
 * A packet GRO leaves alone (@pass says why): after its flow's held
 * aggregate, if any.  Out of line: it keeps gro_receive's merge path
 * short.
 */
static GRO_NOINLINE void
gro_pass(struct gro_table *t, struct pkt *p, enum pass_reason pass)
{
	enum flush_reason r;
	struct gro_flow *f;
	struct gro_key k;
	uint32_t nw;

	if (t->stats)
		t->stats->pass[pass]++;
	/* never let a packet overtake its flow's held aggregate
	 * (stricter than Linux, which may reorder here) */
	if (has_flow_key(p)) {
		nw = make_key(&k, p, l3(p), l4(p));
		f = flow_lookup(t, &k, nw, key_hash(&k, nw));
		if (f) {
			r = (is_tcp(p) && (l4(p)[13] & TCP_CWR)) ?
			    FLUSH_CWR : FLUSH_PASS;
			flow_flush(t, f, r);
		}
	}
	if (pass != PASS_GSO_IN)
		p->agg.flush = FLUSH_NONE;
	t->emit(t->ctx, p);
}

void gro_receive(struct gro_table *t, struct pkt *p, uint64_t now_ns)
{
	enum pass_reason pass;
	enum flush_reason r;
	struct gro_flow *f;
	struct gro_key k;
	struct gro_cb cb;
	uint32_t nw;
	uint8_t mode;

	pass = classify(t, p, &cb);
	if (pass != PASS_NONE) {
		gro_pass(t, p, pass);
		return;
	}

	nw = make_key(&k, p, cb.ip, cb.th);
	f = t->last;
	/* the word count from cb.v4 rather than nw: the compiler keeps
	 * the one in a register and the other on the stack */
	if (!f || !key_equal(&f->key, &k,
			     cb.v4 ? GRO_KEY_WORDS_V4 : GRO_KEY_WORDS)) {
		f = flow_find_or_start(t, p, &cb, &k, nw, now_ns);
		if (!f)
			return;
	}

	r = mismatch(t, f, &cb, &mode);
	if (r == FLUSH_NONE &&
	    pkt_frame_len(f->head) - f->head->l3_off + cb.len > t->cfg.max_ip_len)
		/* skb_gro_receive: -E2BIG */
		r = FLUSH_SIZE;
	if (r != FLUSH_NONE) {
		/* @p starts the flow's next aggregate */
		flow_flush(t, f, r);
		flow_find_or_start(t, p, &cb, &k, nw, now_ns);
		return;
	}

	flow_merge(t, f, p, &cb, mode);

	/* out_check_final in tcp_gro_receive; the smaller final datagram
	 * and UDP_GRO_CNT_MAX in udp_gro_receive_segment */
	if (!(cb.flags & TCP_FINAL) && cb.len >= f->mss &&
	    f->agg.segs < t->cfg.max_segs)
		return;         /* the usual case: the aggregate stays open */
	r = (cb.flags & TCP_FIN) ? FLUSH_FIN :
	    (cb.flags & TCP_PSH) ? FLUSH_PSH :
	    cb.len < f->mss ? FLUSH_SHORT :
	    f->agg.segs >= t->cfg.max_segs ? FLUSH_SEGS :
	    FLUSH_NONE;
	if (r != FLUSH_NONE)
		flow_flush(t, f, r);
}
