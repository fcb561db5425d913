/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pkt: the buffer pool and the frame parser.
 *
 * The parser is the first thing that touches bytes from the outside, so
 * every offset it derives is checked against the frame length before it
 * is used; the rest of grogso relies on the offsets it leaves behind.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "grogso/csum.h"
#include "grogso/pkt.h"

#define IPV4_HLEN_MIN 20
#define IPV6_HLEN 40
#define TCP_HLEN_MIN 20
#define UDP_HLEN 8

#define IPV4_MF 0x2000
#define IPV4_OFFSET_MASK 0x1fff

#define IPV6_NEXT_HOPOPTS 0
#define IPV6_NEXT_ROUTING 43
#define IPV6_NEXT_FRAGMENT 44
#define IPV6_NEXT_DSTOPTS 60
#define IPV6_EXT_WALK_MAX 8     /* bound the walk on hostile chains */

int pkt_pool_init(struct pkt_pool *pool, uint32_t count)
{
	size_t len = (size_t)count * PKT_BUF_SIZE;
	void *mem;
	uint32_t i;

	memset(pool, 0, sizeof(*pool));
	if (!count)
		return -EINVAL;
	/* NORESERVE: buffers are sized for 64 KiB aggregates but most stay
	 * small; only the pages actually written are backed */
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		return -ENOMEM;
	pool->pkts = calloc(count, sizeof(*pool->pkts));
	if (!pool->pkts) {
		munmap(mem, len);
		return -ENOMEM;
	}
	pool->mem = mem;
	pool->mem_len = len;
	pool->count = count;
	/* thread the free list so the first buffer is handed out first */
	for (i = count; i-- > 0;) {
		struct pkt *p = &pool->pkts[i];

		p->buf = pool->mem + (size_t)i * PKT_BUF_SIZE;
		p->data = p->buf + PKT_HEADROOM;
		pkt_free(pool, p);
	}
	return 0;
}

void pkt_pool_destroy(struct pkt_pool *pool)
{
	if (pool->mem)
		munmap(pool->mem, pool->mem_len);
	free(pool->pkts);
	memset(pool, 0, sizeof(*pool));
}

void pkt_frags_free(struct pkt_pool *pool, struct pkt *p)
{
	struct pkt *f = p->frag_first, *n, *free = pool->free;
	uint32_t nfree = pool->nfree;

	/* a free buffer carries no chain, so pkt_alloc need not clear one */
	p->frag_first = p->frag_last = NULL;
	p->frag_bytes = 0;
	p->frag_count = 0;
	/* pkt_free for each, with the list head and count kept in locals
	 * (a store through f->next could otherwise alias them) */
	for (; f; f = n) {
		n = f->frag_next;
		f->frag_next = NULL;
		if (f->borrow)
			pkt_give_back(f);
		if (f->frag_first) {
			/* a fragment is linear by contract; stay safe anyway */
			pool->free = free;
			pool->nfree = nfree;
			pkt_frags_free(pool, f);
			free = pool->free;
			nfree = pool->nfree;
		}
		f->next = free;
		free = f;
		nfree++;
	}
	pool->free = free;
	pool->nfree = nfree;
}

void pkt_unborrow(struct pkt *p)
{
	uint8_t *to = p->buf + PKT_HEADROOM;

	if (!p->borrow)
		return;
	memcpy(to - PKT_BORROW_HEAD, p->data - PKT_BORROW_HEAD,
	       PKT_BORROW_HEAD + p->len);
	p->data = to;
	pkt_give_back(p);
}

int pkt_linearize(struct pkt *p, struct pkt_pool *pool)
{
	const struct pkt *f;
	uint8_t *at;
	size_t room;

	if (!p->frag_first)
		return 0;
	/* the fragments' bytes go behind the head's, in its own buffer */
	pkt_unborrow(p);
	room = (size_t)(p->buf + PKT_BUF_SIZE - (p->data + p->len));
	if (p->frag_bytes > room)
		return -ENOSPC;
	at = p->data + p->len;
	for (f = p->frag_first; f; f = f->frag_next) {
		memcpy(at, f->data, f->len);
		at += f->len;
	}
	p->len += p->frag_bytes;
	pkt_frags_free(pool, p);
	return 0;
}

int pkt_iov(const struct pkt *p, struct iovec *iov, int max)
{
	const struct pkt *f;
	int n = 0;

	if (p->len) {
		if (n == max)
			return -ENOSPC;
		iov[n].iov_base = p->data;
		iov[n].iov_len = p->len;
		n++;
	}
	for (f = p->frag_first; f; f = f->frag_next) {
		if (!f->len)
			continue;
		if (n == max)
			return -ENOSPC;
		iov[n].iov_base = f->data;
		iov[n].iov_len = f->len;
		n++;
	}
	return n;
}

int pkt_copy_bits(const struct pkt *p, uint32_t off, void *out, uint32_t len)
{
	const struct pkt *f = p;
	uint8_t *to = out;
	uint32_t n;

	if (off > pkt_frame_len(p) || len > pkt_frame_len(p) - off)
		return -EINVAL;
	/* the head is the first piece, its fragments the rest */
	for (f = p; len; f = f == p ? p->frag_first : f->frag_next) {
		if (off >= f->len) {
			off -= f->len;
			continue;
		}
		n = f->len - off < len ? f->len - off : len;
		memcpy(to, f->data + off, n);
		to += n;
		len -= n;
		off = 0;
	}
	return 0;
}

static void reset_state(struct pkt *p)
{
	p->l3_off = 0;
	p->l4_off = 0;
	p->pay_off = 0;
	p->ethertype = 0;
	p->vlan_tci = 0;
	p->has_vlan = 0;
	p->l3 = PKT_L3_NONE;
	p->l4_proto = 0;
	p->csum = PKT_CSUM_UNKNOWN;
	p->ip_frag = 0;
	p->ip_opts = 0;
	p->ip_pad = 0;
	p->ipv6_ext = 0;
	p->ipv6_ext_other = 0;
	p->l4_bad = 0;
	p->opt_rr = 0;
	p->opt_ts = 0;
	p->opt_cipso = 0;
	p->opt_flags = 0;
	p->gso_size = 0;
	p->gso_type = 0;
	memset(&p->agg, 0, sizeof(p->agg));
	p->agg.segs = 1;
	p->agg.ipid_mode = PKT_IPID_NONE;
}

/*
 * TCP/UDP header inside the IP datagram that ends at @ip_end.  Sets
 * l4_off/pay_off; a header that does not hold together leaves them 0
 * and says why in l4_bad: a router forwards the datagram all the same
 * (nothing above IP looks at it), and GRO passes it by.
 */
static void parse_l4(struct pkt *p, uint32_t off, uint32_t ip_end)
{
	const uint8_t *l4 = p->data + off;
	uint32_t room = ip_end - off;
	uint8_t bad = 0;

	switch (p->l4_proto) {
	case IPPROTO_TCP_: {
		uint32_t doff;

		if (room < TCP_HLEN_MIN) {
			bad = PKT_L4_TRUNC;
			break;
		}
		doff = (uint32_t)(l4[12] >> 4) * 4;
		if (doff < TCP_HLEN_MIN)
			bad = PKT_L4_DOFF;
		else if (doff > room)
			bad = PKT_L4_TRUNC;
		else
			p->pay_off = (uint16_t)(off + doff);
		break;
	}
	case IPPROTO_UDP_: {
		uint16_t ulen;

		if (room < UDP_HLEN) {
			bad = PKT_L4_TRUNC;
			break;
		}
		ulen = get_be16(l4 + 4);
		/* shorter than the IP payload is legal (GRO will not merge it);
		 * a first fragment holds only the start of the datagram */
		if (ulen < UDP_HLEN || (ulen > room && !p->ip_frag))
			bad = PKT_L4_ULEN;
		else
			p->pay_off = (uint16_t)(off + UDP_HLEN);
		break;
	}
	default:
		p->pay_off = (uint16_t)off;
		break;
	}
	p->l4_bad = bad;
	if (!bad)
		p->l4_off = (uint16_t)off;
}

static enum drop_reason parse_ipv4(struct pkt *p)
{
	const uint8_t *ip = p->data + p->l3_off;
	uint32_t avail = p->len - p->l3_off;
	uint32_t ihl, tot_len;
	uint16_t frag;

	if (avail < IPV4_HLEN_MIN)
		return DROP_IP_TRUNC;
	if ((ip[0] >> 4) != 4)
		return DROP_IP_VERSION;
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	if (ihl < IPV4_HLEN_MIN)
		return DROP_IP_IHL;
	if (ihl > avail)
		return DROP_IP_TRUNC;
	tot_len = get_be16(ip + 2);
	if (tot_len < ihl || tot_len > avail)
		return DROP_IP_LEN;
	if (csum_ip4_header(ip, ihl) != 0)
		return DROP_IP_CSUM;

	p->l3 = PKT_L3_IPV4;
	p->l4_proto = ip[9];
	p->ip_opts = ihl > IPV4_HLEN_MIN;
	p->ip_pad = tot_len < avail;
	p->agg.ipid_first = p->agg.ipid_last = get_be16(ip + 4);
	p->agg.ipid_mode = PKT_IPID_SINGLE;
	frag = get_be16(ip + 6);
	p->ip_frag = (frag & (IPV4_MF | IPV4_OFFSET_MASK)) != 0;
	/* a non-first fragment carries no L4 header */
	if (frag & IPV4_OFFSET_MASK)
		return DROP_NONE;
	parse_l4(p, p->l3_off + ihl, p->l3_off + tot_len);
	return DROP_NONE;
}

/* Extension headers other than Routing, Fragment and Destination Options. */
static int ipv6_other_ext(uint8_t next)
{
	switch (next) {
	case IPV6_NEXT_HOPOPTS:
	case 51:        /* AH */
	case 135:       /* Mobility */
	case 139:       /* HIP */
	case 140:       /* Shim6 */
	case 253:       /* experimental (RFC 3692) */
	case 254:
		return 1;
	default:
		return 0;
	}
}

static enum drop_reason parse_ipv6(struct pkt *p)
{
	const uint8_t *ip = p->data + p->l3_off;
	uint32_t avail = p->len - p->l3_off;
	uint32_t plen, off, end, hlen;
	uint8_t next;
	int n;

	if (avail < IPV6_HLEN)
		return DROP_IP_TRUNC;
	if ((ip[0] >> 4) != 6)
		return DROP_IP_VERSION;
	plen = get_be16(ip + 4);
	if (plen + IPV6_HLEN > avail)
		return DROP_IP_LEN;

	p->l3 = PKT_L3_IPV6;
	p->ip_pad = plen + IPV6_HLEN < avail;
	next = ip[6];
	if (plen == 0) {
		/* jumbogram (RFC 2675) or nothing at all: not ours to walk */
		p->ipv6_ext_other = 1;
		p->l4_proto = next;
		return DROP_NONE;
	}
	off = p->l3_off + IPV6_HLEN;
	end = p->l3_off + IPV6_HLEN + plen;
	for (n = 0;; n++) {
		if (next == IPV6_NEXT_ROUTING || next == IPV6_NEXT_DSTOPTS) {
			/* ipv6_gro_receive walks exactly these two */
			if (n >= IPV6_EXT_WALK_MAX || end - off < 8) {
				p->ipv6_ext_other = 1;
				p->l4_proto = next;
				return DROP_NONE;
			}
			hlen = ((uint32_t)p->data[off + 1] + 1) * 8;
			if (hlen > end - off) {
				p->ipv6_ext_other = 1;
				p->l4_proto = next;
				return DROP_NONE;
			}
			p->ipv6_ext = 1;
			next = p->data[off];
			off += hlen;
			continue;
		}
		if (next == IPV6_NEXT_FRAGMENT) {
			p->ip_frag = 1;
			p->l4_proto = next;
			return DROP_NONE;
		}
		break;
	}
	p->l4_proto = next;
	if (ipv6_other_ext(next)) {
		/* Hop-by-Hop, AH, ...: ipv6_gro_receive does not walk them */
		p->ipv6_ext_other = 1;
		return DROP_NONE;
	}
	parse_l4(p, off, end);
	return DROP_NONE;
}

enum drop_reason pkt_parse(struct pkt *p)
{
	uint16_t type;

	reset_state(p);
	if (p->len < ETH_HLEN_)
		return DROP_RUNT;
	type = get_be16(p->data + 12);
	p->l3_off = ETH_HLEN_;
	if (type == ETHTYPE_VLAN) {
		if (p->len < ETH_HLEN_ + VLAN_HLEN_)
			return DROP_VLAN_TRUNC;
		p->has_vlan = 1;
		p->vlan_tci = get_be16(p->data + 14);
		type = get_be16(p->data + 16);
		p->l3_off = ETH_HLEN_ + VLAN_HLEN_;
	}
	p->ethertype = type;
	switch (type) {
	case ETHTYPE_IPV4:
		return parse_ipv4(p);
	case ETHTYPE_IPV6:
		return parse_ipv6(p);
	case ETHTYPE_ARP:
		p->l3 = PKT_L3_ARP;
		return DROP_NONE;
	default:
		return DROP_NONE;
	}
}

enum pass_reason pkt_l2_only(struct pkt *p, enum drop_reason why)
{
	uint16_t l3_off = p->l3_off, type = p->ethertype, tci = p->vlan_tci;
	uint8_t has_vlan = p->has_vlan;
	enum pass_reason pass;

	switch (why) {
	case DROP_IP_TRUNC:
		pass = PASS_IP_TRUNC;
		break;
	case DROP_IP_VERSION:
		pass = PASS_IP_VERSION;
		break;
	case DROP_IP_IHL:
		pass = PASS_IP_IHL;
		break;
	case DROP_IP_LEN:
		pass = PASS_IP_LEN;
		break;
	case DROP_IP_CSUM:
		pass = PASS_IP_CSUM;
		break;
	default:
		return PASS_NONE;
	}
	reset_state(p);
	p->l3_off = l3_off;
	p->ethertype = type;
	p->vlan_tci = tci;
	p->has_vlan = has_vlan;
	return pass;
}

static int l4_is_tcp_udp(const struct pkt *p)
{
	return p->l4_off && (p->l4_proto == IPPROTO_TCP_ ||
			     p->l4_proto == IPPROTO_UDP_);
}

/* Offset of the TCP/UDP checksum field from the L4 header. */
static uint32_t l4_csum_field(const struct pkt *p)
{
	return p->l4_proto == IPPROTO_TCP_ ? 16 : 6;
}

/*
 * Add frame bytes [@off, @off + @len) of @p to @sum, across the chain.
 * Each piece is summed on its own and added at its offset from @off, so
 * a piece of odd length shifts the next by a byte (csum_block_add).
 * The caller has checked that the range is inside the frame.
 */
static uint64_t sum_frame(const struct pkt *p, uint32_t off, uint32_t len,
			  uint64_t sum)
{
	const struct pkt *f;
	uint32_t n, done;

	/* the linear part: the whole range for a linear packet */
	n = off < p->len ? p->len - off : 0;
	if (n > len)
		n = len;
	if (n)
		sum = csum_partial(p->data + off, n, sum);
	done = n;
	off = off > p->len ? off - p->len : 0;
	for (f = p->frag_first; f && done < len; f = f->frag_next) {
		if (off >= f->len) {
			off -= f->len;
			continue;
		}
		n = f->len - off;
		if (n > len - done)
			n = len - done;
		sum = csum_block_add(sum, csum_partial(f->data + off, n, 0),
				     done);
		done += n;
		off = 0;
	}
	return sum;
}

/* Pseudo-header sum for the L4 bytes from l4_off to the IP end. */
static uint64_t pseudo_sum(const struct pkt *p, uint32_t l4len)
{
	const uint8_t *ip = p->data + p->l3_off;

	if (p->l3 == PKT_L3_IPV4)
		return csum_pseudo4(ip + 12, ip + 16, p->l4_proto, l4len);
	return csum_pseudo6(ip + 8, ip + 24, p->l4_proto, l4len);
}

enum pkt_csum pkt_l4_csum_verify(struct pkt *p, int accept_partial)
{
	uint32_t l4len, ip_end;
	uint16_t field;
	uint64_t ps;

	if (!l4_is_tcp_udp(p) || p->ip_frag) {
		p->csum = PKT_CSUM_BAD;
		return p->csum;
	}
	ip_end = p->l3_off + pkt_ip_len(p);
	/* pkt_parse checked this for a frame it saw; an aggregate's lengths
	 * were rewritten since, so check the chain really holds them */
	if (ip_end > pkt_frame_len(p) || ip_end < p->l4_off + 8u ||
	    p->l4_off + l4_csum_field(p) + 2 > p->len) {
		p->csum = PKT_CSUM_BAD;
		return p->csum;
	}
	l4len = ip_end - p->l4_off;
	field = get_be16(p->data + p->l4_off + l4_csum_field(p));
	if (p->l4_proto == IPPROTO_UDP_ && p->l3 == PKT_L3_IPV4 && field == 0) {
		p->csum = PKT_CSUM_VALID;       /* RFC 768: no checksum */
		return p->csum;
	}
	ps = pseudo_sum(p, l4len);
	if (csum_finish(sum_frame(p, p->l4_off, l4len, ps)) == 0)
		p->csum = PKT_CSUM_VALID;
	else if (accept_partial && field == csum_fold(ps))
		p->csum = PKT_CSUM_PARTIAL;
	else
		p->csum = PKT_CSUM_BAD;
	return p->csum;
}

int pkt_csum_complete(struct pkt *p)
{
	uint32_t ip_end, field;
	uint16_t c;
	int err;

	if (p->csum != PKT_CSUM_PARTIAL)
		return 0;
	if (!l4_is_tcp_udp(p))
		return -EINVAL;
	ip_end = p->l3_off + pkt_ip_len(p);
	if (!p->frag_first) {
		if (ip_end > p->len)
			return -EINVAL;
		err = csum_complete(p->data, ip_end, p->l4_off,
				    l4_csum_field(p),
				    p->l4_proto == IPPROTO_UDP_);
		if (err)
			return err;
		p->csum = PKT_CSUM_VALID;
		return 0;
	}
	/* csum_complete across the chain: the field (in the linear part,
	 * with the headers) holds the pseudo-header sum and is summed too */
	field = p->l4_off + l4_csum_field(p);
	if (ip_end > pkt_frame_len(p) || field + 2 > p->len ||
	    field + 2 > ip_end)
		return -EINVAL;
	c = csum_finish(sum_frame(p, p->l4_off, ip_end - p->l4_off, 0));
	/* RFC 768: a computed zero is sent as all ones (0 means "none") */
	if (p->l4_proto == IPPROTO_UDP_ && c == 0)
		c = 0xffff;
	put_be16(p->data + field, c);
	p->csum = PKT_CSUM_VALID;
	return 0;
}

void pkt_csum_set_partial(struct pkt *p)
{
	uint32_t l4len;

	if (!l4_is_tcp_udp(p))
		return;
	l4len = p->l3_off + pkt_ip_len(p) - p->l4_off;
	/* as Linux leaves CHECKSUM_PARTIAL: the folded, uninverted
	 * pseudo-header sum (tcp_v4_send_check / udp4_hwcsum) */
	put_be16(p->data + p->l4_off + l4_csum_field(p),
		 csum_fold(pseudo_sum(p, l4len)));
	p->csum = PKT_CSUM_PARTIAL;
}
