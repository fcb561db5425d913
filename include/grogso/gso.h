/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gso: software segmentation of TCP/UDP super-packets over IPv4/IPv6.
 *
 * A segment is described, not copied: its headers are written into the
 * descriptor and its payload points into the super-packet (its linear
 * part or one of its fragments), so a port writes it with one iovec pair
 * and pcap output linearises it.
 */
#ifndef GROGSO_GSO_H
#define GROGSO_GSO_H

#include <stddef.h>
#include <stdint.h>

#include "grogso/pkt.h"
#include "grogso/vnet.h"

#define GSO_HDR_MAX 192                 /* Ethernet+VLAN, IPv6 + walked ext headers, TCP 60 */
#define GSO_MAX_SEGS 65535              /* one per payload byte at worst */

enum gso_ipid {
	GSO_IPID_AUTO = 0,              /* increment, but keep an aggregate GRO found fixed */
	GSO_IPID_INCREMENT,             /* head + i, as Linux does */
	GSO_IPID_FIXED,                 /* all equal to the head's */
	GSO_IPID_LINUX,                 /* as Linux 6.18: AUTO for TCP (SKB_GSO_TCP_FIXEDID),
					 * INCREMENT for UDP (no fixed-ID flag for UDP) */
};

/* --gso-fixed-id: who segments an aggregate whose IPv4 IDs were fixed */
enum gso_fixed {
	GSO_FIXED_LINUX = 0,            /* grogso, where Linux would not offload it */
	GSO_FIXED_OFFLOAD,              /* the kernel, as any other aggregate */
	GSO_FIXED_SOFTWARE,             /* grogso, always */
};

/*
 * Whether aggregate @p, about to be offloaded, is to be segmented here
 * instead because of its fixed IDs: the virtio-net header cannot say
 * "fixed ID", so a kernel that segments it would renumber.  With
 * GSO_FIXED_LINUX, as Linux 6.18 decides it at its egress: only TCP has
 * a fixed-ID GSO type (UDP aggregates go as any other), and a device
 * takes one whole only if it may keep IDs fixed (@whole_ok: TSO with
 * tx-tcp-mangleid-segmentation) and DF is set (gso_features_check turns
 * that off for a datagram that may be fragmented).  Elsewhere Linux
 * segments it in software, fixed IDs and all.
 */
int gso_fixed_here(enum gso_fixed how, const struct pkt *p, int whole_ok);

struct gso_seg {
	const uint8_t *pay;             /* payload inside the super-packet */
	uint32_t pay_len;
	uint16_t hdr_len;
	uint8_t partial;                /* L4 checksum left as the pseudo-header sum */
	uint8_t hdr[GSO_HDR_MAX];
};

struct gso_opts {
	enum gso_ipid ipid;
	int csum_offload;               /* leave L4 checksums partial (NEEDS_CSUM) */
};

/* What a segmentation produced, for the log. */
struct gso_result {
	uint32_t nsegs;
	uint16_t ipid_first, ipid_last;
	uint8_t ipid_fixed;
};

/*
 * Cut super-packet @p (p->gso_size set, payload > gso_size) into segments
 * at @segs (room for @max).  Headers are rebuilt per segment: IP lengths,
 * IPv4 ID by policy and header checksum, TCP sequence and FIN/PSH on the
 * last only, CWR on the first only, UDP length, L4 checksum complete (or
 * partial with @o->csum_offload; a computed UDP checksum of 0 becomes
 * 0xffff).  @p itself is not changed; the descriptors point into it, so
 * it must outlive them.  Returns the segment count, or -EINVAL (not a
 * super-packet, bad headers), -ENOSPC (@max too small) or -EXDEV (a
 * segment's payload would straddle two pieces of @p's fragment chain:
 * GRO never builds such a chain, but a caller that may hand one calls
 * pkt_linearize and tries again).
 */
int gso_segment(const struct pkt *p, const struct gso_opts *o,
		struct gso_seg *segs, uint32_t max, struct gso_result *res);

/* Segments @p would give. */
uint32_t gso_count(const struct pkt *p);

/* Copy segment @s as one frame into @out (room for @cap); returns its length or -ENOSPC. */
int gso_seg_linearize(const struct gso_seg *s, uint8_t *out, size_t cap);

#endif
