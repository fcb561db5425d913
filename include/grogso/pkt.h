/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pkt: packet buffers from a fixed pool, and the parsed view of a frame.
 *
 * Every buffer is large enough for the biggest aggregate (65535 bytes of
 * IP datagram plus L2), so any aggregate can be made linear in its head's
 * own buffer.  GRO does not copy, though: it chains the buffers of the
 * segments it merges behind the head as fragments (DESIGN.md
 * "Performance": the super-packet as an iovec of the received buffers).
 * The pool is one mapping made at start; pages are touched only as they
 * are used.
 *
 * A packet may also borrow its bytes: data then points outside buf, into
 * a receive ring the kernel filled (a slot of its own, or a block that
 * holds many frames), and p->borrow at the pkt_lend that counts who
 * still reads that slot or block.  The last to let go (a packet freed or
 * copied into buf by pkt_unborrow, or the ring's reader) sets the ring's
 * status word to 0, which gives it back to the kernel.  Code that writes
 * past the frame or counts on buf's headroom unborrows first.
 *
 * A packet is linear when frag_first is NULL: all of its frame is at
 * data/len.  A head with fragments holds its headers and its own payload
 * at data/len (the linear part) and the rest of the frame in the
 * fragments, in order; code that reads payload past the linear part
 * either walks the chain (pkt_iov, the checksum helpers, gso_segment) or
 * calls pkt_linearize first.
 */
#ifndef GROGSO_PKT_H
#define GROGSO_PKT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "grogso/stats.h"

#define PKT_HEADROOM 64                 /* vnet header (12) + a VLAN tag, aligned */
#define PKT_DATA_MAX (65535 + 18 + 256) /* IP datagram + Ethernet/VLAN + slack */
#define PKT_BUF_SIZE (PKT_HEADROOM + PKT_DATA_MAX)

#define ETH_HLEN_ 14
#define VLAN_HLEN_ 4                    /* an 802.1Q tag */
#define VLAN_VID_MASK 0x0fff            /* the VLAN ID in the tag's TCI */
#define IPV6_HLEN_ 40                   /* the fixed IPv6 header */
#define ETHTYPE_IPV4 0x0800
#define ETHTYPE_ARP 0x0806
#define ETHTYPE_VLAN 0x8100
#define ETHTYPE_IPV6 0x86dd

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

enum pkt_l3 { PKT_L3_NONE = 0, PKT_L3_IPV4, PKT_L3_IPV6, PKT_L3_ARP };

/* What is known about the L4 checksum. */
enum pkt_csum {
	PKT_CSUM_UNKNOWN = 0,           /* must be verified in software */
	PKT_CSUM_VALID,                 /* verified, or DATA_VALID from the kernel */
	PKT_CSUM_PARTIAL,               /* field holds the pseudo-header sum (NEEDS_CSUM) */
	PKT_CSUM_BAD,                   /* verified and wrong */
};

/* IPv4 ID handling of an aggregate. */
enum pkt_ipid_mode {
	PKT_IPID_NONE = 0,              /* IPv6: no ID */
	PKT_IPID_SINGLE,                /* one segment: nothing decided */
	PKT_IPID_INC,                   /* head, head+1, ... */
	PKT_IPID_FIXED,                 /* all equal */
};

/* What GRO learnt while building an aggregate; read by the log and GSO. */
struct pkt_agg {
	uint16_t segs;                  /* segments merged (1 for a plain packet) */
	uint16_t ipid_first, ipid_last; /* IDs of the first and last segment */
	uint8_t ipid_mode;              /* enum pkt_ipid_mode */
	uint8_t flush;                  /* enum flush_reason */
};

/* A ring slot or block lent to packets (see the top). */
struct pkt_lend {
	uint32_t *status;               /* the kernel's status word for it */
	uint32_t refs;                  /* packets (and the reader) using it */
};

/* struct pkt's l4_bad: routers forward such datagrams, GRO leaves them */
#define PKT_L4_TRUNC 1                  /* TCP/UDP header past the IP payload */
#define PKT_L4_DOFF 2                   /* TCP data offset under 5 */
#define PKT_L4_ULEN 3                   /* UDP length under 8 or past the payload */

/* struct pkt's opt_flags */
#define PKT_OPT_SEEN 0x01               /* the options were taken in */
#define PKT_OPT_RR_ADDR 0x02            /* record route: a slot was filled */
#define PKT_OPT_TS_ADDR 0x04            /* timestamp: an address was filled */
#define PKT_OPT_TS_TIME 0x08            /* timestamp: a time was filled */

struct pkt {
	uint8_t *data;                  /* Ethernet frame (inside buf) */
	uint32_t len;                   /* bytes at data: the linear part */
	uint32_t frag_bytes;            /* bytes of frame in the fragments */
	uint8_t *buf;                   /* PKT_BUF_SIZE bytes */
	struct pkt *next;               /* free list, queues */
	struct pkt_lend *borrow;        /* data is in a ring: who lent it */

	/*
	 * Fragment chain of an aggregate (NULL/0 on a linear packet and on
	 * every free buffer).  A fragment is a pool buffer whose data/len
	 * are narrowed to the bytes it adds to the frame; only data, len
	 * and frag_next mean anything on it.
	 */
	struct pkt *frag_first, *frag_last;
	struct pkt *frag_next;          /* on a fragment: the next one */
	uint16_t frag_count;            /* fragments behind this head */

	/* parsed by pkt_parse; offsets from data */
	uint16_t l3_off;
	uint16_t l4_off;                /* L4 header (TCP, UDP, ICMP...); 0 if none */
	uint16_t pay_off;               /* TCP/UDP payload */
	uint16_t ethertype;             /* inner, after a VLAN tag */
	uint16_t vlan_tci;
	uint8_t has_vlan;
	uint8_t l3;                     /* enum pkt_l3 */
	uint8_t l4_proto;               /* IP protocol / IPv6 next header of L4 */
	uint8_t csum;                   /* enum pkt_csum */
	uint8_t ip_frag;                /* IPv4 MF/offset, or IPv6 fragment header */
	uint8_t ip_opts;                /* IPv4 options present */
	uint8_t ip_pad;                 /* trailing bytes after the IP datagram */
	uint8_t ipv6_ext;               /* IPv6 walked Routing/DstOpts headers */
	uint8_t ipv6_ext_other;         /* IPv6 ext header GRO does not walk */
	uint8_t l4_bad;                 /* PKT_L4_*: a TCP/UDP header that does
					 * not hold together (l4_off 0) */
	/* IPv4 options as route mode took them in (Linux's struct
	 * ip_options): offsets of record route, timestamp and CIPSO in
	 * the IP header (0: none), and PKT_OPT_* */
	uint8_t opt_rr, opt_ts, opt_cipso, opt_flags;

	/* super-packet state: set by vnet_check (input) or by GRO */
	uint16_t gso_size;              /* 0: a plain packet */
	uint8_t gso_type;               /* VNET_GSO_* including the ECN bit */
	struct pkt_agg agg;

	uint32_t port;                  /* ingress port index */
	uint64_t ts_ns;                 /* receive time (replay: capture time) */
};

struct pkt_pool {
	struct pkt *pkts;
	uint8_t *mem;
	size_t mem_len;
	struct pkt *free;
	uint32_t count;
	uint32_t nfree;
};

/*
 * Make a pool of @count buffers.  Returns 0 or -ENOMEM.  The only
 * allocation the data path makes.
 */
int pkt_pool_init(struct pkt_pool *pool, uint32_t count);
void pkt_pool_destroy(struct pkt_pool *pool);

/* Wire packets @p stands for: its segments when it is a super-packet. */
static inline uint32_t pkt_wire_segs(const struct pkt *p)
{
	return p->gso_size && p->agg.segs > 1 ? p->agg.segs : 1;
}

/* A buffer with data at the headroom and len 0, or NULL when empty. */
static inline struct pkt *pkt_alloc(struct pkt_pool *pool)
{
	struct pkt *p = pool->free;

	if (!p)
		return NULL;
	pool->free = p->next;
	pool->nfree--;
	p->next = NULL;
	p->data = p->buf + PKT_HEADROOM;
	p->len = 0;
	return p;
}

/* Free head @p's fragments and leave it linear (pkt_free's slow path). */
void pkt_frags_free(struct pkt_pool *pool, struct pkt *p);

/*
 * Bytes before data a borrowing packet keeps when pkt_unborrow copies it:
 * the received vnet header, and room for the one written on the way out.
 */
#define PKT_BORROW_HEAD 16

/* Let go of the slot or block @p borrows; the last one out gives it back
 * to the kernel (status 0).  @p's bytes must not be read after this. */
static inline void pkt_lend_put(struct pkt_lend *l)
{
	if (--l->refs == 0)
		__atomic_store_n(l->status, 0u, __ATOMIC_RELEASE);
}

static inline void pkt_give_back(struct pkt *p)
{
	pkt_lend_put(p->borrow);
	p->borrow = NULL;
}

/*
 * Copy the bytes @p borrows, with PKT_BORROW_HEAD bytes before them, into
 * its own buffer and give the slot back; data then points into buf at
 * the headroom.  Nothing to do when @p borrows nothing.
 */
void pkt_unborrow(struct pkt *p);

/* Give @p back to the pool, with its fragments if it has any. */
static inline void pkt_free(struct pkt_pool *pool, struct pkt *p)
{
	if (p->frag_first)
		pkt_frags_free(pool, p);
	if (p->borrow)
		pkt_give_back(p);
	p->next = pool->free;
	pool->free = p;
	pool->nfree++;
}

/* Bytes of the whole frame: the linear part and the fragments. */
static inline uint32_t pkt_frame_len(const struct pkt *p)
{
	return p->len + p->frag_bytes;
}

/*
 * Append buffer @frag to head @p's chain as the frame bytes @frag->data
 * .. +@frag->len (the caller narrows them first).  @frag must be linear
 * and is owned by @p from now on.
 */
static inline void pkt_frag_append(struct pkt *p, struct pkt *frag)
{
	frag->frag_next = NULL;
	if (p->frag_last)
		p->frag_last->frag_next = frag;
	else
		p->frag_first = frag;
	p->frag_last = frag;
	p->frag_bytes += frag->len;
	p->frag_count++;
}

/* A queue of packets, oldest first, linked through their next field. */
struct pkt_queue {
	struct pkt *head, *tail;
	uint32_t len;
};

static inline void pkt_queue_push(struct pkt_queue *q, struct pkt *p)
{
	p->next = NULL;
	if (q->tail)
		q->tail->next = p;
	else
		q->head = p;
	q->tail = p;
	q->len++;
}

/* Take the oldest packet off @q; NULL when it is empty. */
static inline struct pkt *pkt_queue_pop(struct pkt_queue *q)
{
	struct pkt *p = q->head;

	if (p) {
		q->head = p->next;
		if (!q->head)
			q->tail = NULL;
		q->len--;
		p->next = NULL;
	}
	return p;
}

/*
 * Make @p linear: copy its fragments' bytes behind the linear part (the
 * buffer has room for any IP datagram), give the fragments back to @pool
 * and clear the chain.  Nothing to do on a linear packet.  Returns 0, or
 * -ENOSPC when the frame would not fit the buffer (the chain is then
 * left as it was).
 */
int pkt_linearize(struct pkt *p, struct pkt_pool *pool);

/*
 * Describe the whole frame of @p in @iov (room for @max): the linear
 * part, then one entry per fragment; empty pieces are left out.  For
 * writev/sendmsg; an offloaded aggregate needs 1 + p->frag_count
 * entries, one more for a vnet header in front.  Returns the number of
 * entries used, or -ENOSPC when @max is too small.
 */
int pkt_iov(const struct pkt *p, struct iovec *iov, int max);

/*
 * Copy frame bytes [@off, @off + @len) of @p, across the chain, to @out.
 * Returns 0, or -EINVAL when the range is past the frame.
 */
int pkt_copy_bits(const struct pkt *p, uint32_t off, void *out, uint32_t len);

/*
 * Parse and validate the frame at p->data/p->len: L2 (one VLAN tag),
 * IPv4/IPv6, TCP/UDP.  Fills the offsets and flags above, resets the
 * super-packet state and p->csum to PKT_CSUM_UNKNOWN.  Returns DROP_NONE,
 * or the reason the frame is malformed (runt, truncated, IHL < 5, bad
 * IPv4 header checksum, lengths past the frame, TCP doff < 5, bad UDP
 * length).  A frame that is neither IPv4 nor IPv6 is not malformed: it
 * parses with l3 = NONE (or ARP).
 */
enum drop_reason pkt_parse(struct pkt *p);

/*
 * A frame pkt_parse refused with @why may still be a sound Ethernet
 * frame whose IP header is broken: a bridge, which does not look at IP,
 * passes it on (so does Linux's, its GRO letting the frame by).  For
 * such a reason, make @p a frame parsed to L2 only (l3 NONE, nothing
 * above read) and return the pass reason to count it under; else
 * return PASS_NONE and leave @p alone.
 */
enum pass_reason pkt_l2_only(struct pkt *p, enum drop_reason why);

/*
 * L3 datagram length (IPv4 total length, IPv6 payload length + 40); for
 * a frame that is neither, the bytes after l3_off.  Inline: GRO and GSO
 * ask for it on every packet.
 */
static inline uint32_t pkt_ip_len(const struct pkt *p)
{
	const uint8_t *ip = p->data + p->l3_off;

	switch (p->l3) {
	case PKT_L3_IPV4:
		return (uint32_t)ip[2] << 8 | ip[3];
	case PKT_L3_IPV6:
		return ((uint32_t)ip[4] << 8 | ip[5]) + IPV6_HLEN_;
	default:
		return pkt_frame_len(p) - p->l3_off;
	}
}

/* TCP/UDP payload bytes. */
static inline uint32_t pkt_payload_len(const struct pkt *p)
{
	return p->l3_off + pkt_ip_len(p) - p->pay_off;
}

/*
 * Verify the L4 checksum in software and set p->csum to VALID or BAD.
 * Like pkt_csum_complete, it sums across the fragment chain.
 * With @accept_partial, a field equal to the pseudo-header sum (a capture
 * taken on a host with checksum offload) gives PARTIAL instead of BAD.
 * A UDP/IPv4 checksum of 0 (none) counts as VALID.  Returns p->csum.
 */
enum pkt_csum pkt_l4_csum_verify(struct pkt *p, int accept_partial);

/*
 * Make the L4 checksum complete in place if it is partial (p->csum
 * PARTIAL), then mark it VALID.  Returns 0 or -EINVAL.
 */
int pkt_csum_complete(struct pkt *p);

/*
 * Write the partial (pseudo-header) L4 checksum for the current lengths
 * and mark p->csum PARTIAL.
 */
void pkt_csum_set_partial(struct pkt *p);

#endif
