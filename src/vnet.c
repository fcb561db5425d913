/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vnet: read, check and write the virtio-net header.
 *
 * The checks mirror what virtio_net_hdr_to_skb() and the GSO handlers
 * behind it (tcp_gso_segment, __udp_gso_segment) refuse in Linux, so a
 * header grogso accepts is one the kernel would accept too, and a header
 * grogso writes is never one the kernel refuses.
 */
#include <errno.h>
#include <string.h>

#include "grogso/pkt.h"
#include "grogso/vnet.h"

#define VNET_GSO_SIZE_BY_FRAGS 0xffff   /* GSO_BY_FRAGS: not from userspace */
#define VNET_TCP_CSUM_OFF 16
#define VNET_UDP_CSUM_OFF 6

static inline uint16_t get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

int vnet_read(struct vnet_hdr *h, const uint8_t *buf, size_t len,
	      size_t hlen)
{
	if ((hlen != VNET_HDR_LEN && hlen != VNET_HDR_LEN_LEGACY) || len < hlen)
		return -EINVAL;
	h->flags = buf[0];
	h->gso_type = buf[1];
	h->hdr_len = get_le16(buf + 2);
	h->gso_size = get_le16(buf + 4);
	h->csum_start = get_le16(buf + 6);
	h->csum_offset = get_le16(buf + 8);
	h->num_buffers = hlen == VNET_HDR_LEN ? get_le16(buf + 10) : 0;
	return 0;
}

void vnet_write(const struct vnet_hdr *h, uint8_t *buf, size_t hlen)
{
	buf[0] = h->flags;
	buf[1] = h->gso_type;
	put_le16(buf + 2, h->hdr_len);
	put_le16(buf + 4, h->gso_size);
	put_le16(buf + 6, h->csum_start);
	put_le16(buf + 8, h->csum_offset);
	if (hlen >= VNET_HDR_LEN)
		put_le16(buf + 10, h->num_buffers);
}

static int is_tcp_udp(const struct pkt *p)
{
	return p->l4_off && (p->l3 == PKT_L3_IPV4 || p->l3 == PKT_L3_IPV6) &&
	       (p->l4_proto == IPPROTO_TCP_ || p->l4_proto == IPPROTO_UDP_);
}

/* Does the GSO type name the packet's IP version and L4 protocol? */
static int gso_matches(uint8_t gso, const struct pkt *p)
{
	switch (gso) {
	case VNET_GSO_TCPV4:
		return p->l3 == PKT_L3_IPV4 && p->l4_proto == IPPROTO_TCP_;
	case VNET_GSO_TCPV6:
		return p->l3 == PKT_L3_IPV6 && p->l4_proto == IPPROTO_TCP_;
	case VNET_GSO_UDP_L4:
		return p->l4_proto == IPPROTO_UDP_;
	default:
		return 0;
	}
}

/* The checksum rules, GSO or not (virtio_net_hdr_to_skb, and the
 * csum_start check tcp_gso_segment/__udp_gso_segment added for
 * CVE-2024-43897). */
static enum drop_reason check_csum(const struct vnet_hdr *h,
				   const struct pkt *p)
{
	uint16_t want;

	if (!(h->flags & VNET_F_NEEDS_CSUM))
		return DROP_NONE;
	if (!is_tcp_udp(p) || p->ip_frag)
		return DROP_VNET_CSUM_START;
	want = p->l4_proto == IPPROTO_TCP_ ? VNET_TCP_CSUM_OFF :
					      VNET_UDP_CSUM_OFF;
	if (h->csum_offset != want)
		return DROP_VNET_CSUM_OFFSET;
	if (h->csum_start != p->l4_off ||
	    (uint32_t)h->csum_start + h->csum_offset + 2 > p->len)
		return DROP_VNET_CSUM_START;
	return DROP_NONE;
}

enum drop_reason vnet_check(const struct vnet_hdr *h, struct pkt *p)
{
	uint8_t gso = h->gso_type & (uint8_t)~VNET_GSO_ECN;
	enum drop_reason r;
	uint32_t payload;

	/* only the types virtio_net_hdr_from_skb emits; UFO and the
	 * tunnel types (0x20, 0x40) are refused, as is ECN on no type */
	if (gso != VNET_GSO_TCPV4 && gso != VNET_GSO_TCPV6 &&
	    gso != VNET_GSO_UDP_L4 &&
	    !(gso == VNET_GSO_NONE && h->gso_type == VNET_GSO_NONE))
		return DROP_VNET_GSO_TYPE;
	if (gso != VNET_GSO_NONE) {
		if (h->gso_size == 0 || h->gso_size == VNET_GSO_SIZE_BY_FRAGS)
			return DROP_VNET_GSO_SIZE;
		if (gso == VNET_GSO_UDP_L4) {
			if (h->gso_type & VNET_GSO_ECN)
				return DROP_VNET_ECN_UDP;
			if (!(h->flags & VNET_F_NEEDS_CSUM))
				return DROP_VNET_UDP_CSUM;
		}
	}
	r = check_csum(h, p);
	if (r != DROP_NONE)
		return r;

	if (gso != VNET_GSO_NONE) {
		if (p->l3 != PKT_L3_IPV4 && p->l3 != PKT_L3_IPV6)
			return DROP_VNET_PROTO;
		if (p->ip_frag || p->ip_opts || p->ipv6_ext_other ||
		    !p->l4_off)
			return DROP_VNET_GSO_BAD;
		if (!gso_matches(gso, p))
			return DROP_VNET_PROTO;
		payload = pkt_payload_len(p);
		if (gso == VNET_GSO_UDP_L4 &&
		    payload > (uint32_t)h->gso_size * VNET_UDP_MAX_SEGS)
			return DROP_VNET_UDP_SEGS;
	} else {
		payload = 0;
	}

	if (h->flags & VNET_F_NEEDS_CSUM)
		p->csum = PKT_CSUM_PARTIAL;
	else if (h->flags & VNET_F_DATA_VALID)
		p->csum = PKT_CSUM_VALID;
	else
		p->csum = PKT_CSUM_UNKNOWN;

	/* "Too small packets are not really GSO ones" (virtio_net_hdr_to_skb) */
	if (gso != VNET_GSO_NONE && payload > h->gso_size) {
		p->gso_size = h->gso_size;
		p->gso_type = h->gso_type;
		p->agg.segs = (uint16_t)((payload + h->gso_size - 1) /
					 h->gso_size);
	} else {
		p->gso_size = 0;
		p->gso_type = VNET_GSO_NONE;
		p->agg.segs = 1;
	}
	return DROP_NONE;
}

void vnet_from_pkt(struct vnet_hdr *h, const struct pkt *p, int offload)
{
	int tcp = p->l4_proto == IPPROTO_TCP_;

	memset(h, 0, sizeof(*h));
	if (!offload || !is_tcp_udp(p))
		return;
	if (p->gso_size && pkt_payload_len(p) > p->gso_size) {
		/* the type follows the headers, not what was stored, so a
		 * header never contradicts the packet it describes */
		if (!tcp)
			h->gso_type = VNET_GSO_UDP_L4;
		else if (p->l3 == PKT_L3_IPV4)
			h->gso_type = VNET_GSO_TCPV4;
		else
			h->gso_type = VNET_GSO_TCPV6;
		if (tcp)
			h->gso_type |= p->gso_type & VNET_GSO_ECN;
		h->gso_size = p->gso_size;
		h->hdr_len = p->pay_off;
	} else if (p->csum != PKT_CSUM_PARTIAL) {
		return;
	}
	/* Linux always sends USO with NEEDS_CSUM; so does grogso for TSO */
	h->flags = VNET_F_NEEDS_CSUM;
	h->csum_start = p->l4_off;
	h->csum_offset = tcp ? VNET_TCP_CSUM_OFF : VNET_UDP_CSUM_OFF;
}
