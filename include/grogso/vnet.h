/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vnet: the virtio-net header that TAP (IFF_VNET_HDR) and AF_PACKET
 * (PACKET_VNET_HDR) put in front of every frame.
 *
 * Offsets in the header count from the start of the Ethernet frame.  On
 * read, hdr_len is never trusted (the kernel reports the linear length);
 * the headers are parsed instead (pkt_parse) and checked against the
 * header here (vnet_check).  On write, exactly what current Linux
 * produces: csum_start = L4 header, csum_offset 16 or 6, NEEDS_CSUM
 * always for UDP_L4, no GSO type on a single-segment packet.
 */
#ifndef GROGSO_VNET_H
#define GROGSO_VNET_H

#include <stddef.h>
#include <stdint.h>

#include "grogso/stats.h"

struct pkt;

#define VNET_HDR_LEN 12                 /* virtio_net_hdr_mrg_rxbuf; TUNSETVNETHDRSZ 12 */
#define VNET_HDR_LEN_LEGACY 10          /* struct virtio_net_hdr */

#define VNET_F_NEEDS_CSUM 0x01
#define VNET_F_DATA_VALID 0x02

#define VNET_GSO_NONE 0x00
#define VNET_GSO_TCPV4 0x01
#define VNET_GSO_UDP 0x03               /* UFO: refused here */
#define VNET_GSO_TCPV6 0x04
#define VNET_GSO_UDP_L4 0x05
#define VNET_GSO_ECN 0x80

#define VNET_UDP_MAX_SEGS 128           /* UDP_MAX_SEGMENTS in Linux >= 6.11 */

struct vnet_hdr {                       /* host order */
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
};

/*
 * Read a header of @hlen bytes (10 or 12) from @buf of @len bytes.
 * Returns 0, or -EINVAL when @len < @hlen.  Little-endian fields, as both
 * TAP (without TUNSETVNETBE) and AF_PACKET use on little-endian hosts.
 */
int vnet_read(struct vnet_hdr *h, const uint8_t *buf, size_t len,
	      size_t hlen);

/* Write @h as @hlen bytes (10 or 12) to @buf. */
void vnet_write(const struct vnet_hdr *h, uint8_t *buf, size_t hlen);

/*
 * Check a received header against the parsed packet @p (pkt_parse done).
 * Returns DROP_NONE when the frame may be used, or the drop reason of the
 * first rule it breaks (the must-reject list of DESIGN.md).  On success
 * it sets p->csum from the flags and p->gso_size/gso_type/segs when the
 * packet is a real super-packet; a GSO header on a packet whose payload
 * fits in one segment is cleared (Linux treats it as a plain packet).
 */
enum drop_reason vnet_check(const struct vnet_hdr *h, struct pkt *p);

/*
 * Fill @h for sending @p as it is.  With @offload, a super-packet gets
 * its GSO type and size and a partial checksum gets NEEDS_CSUM; without,
 * the header is all zero (the caller must have completed the checksum
 * and segmented the packet).  A super-packet sent with @offload must
 * carry the partial checksum (pkt_csum_set_partial): the header says
 * NEEDS_CSUM and the kernel's segmentation starts from that sum.
 */
void vnet_from_pkt(struct vnet_hdr *h, const struct pkt *p, int offload);

#endif
