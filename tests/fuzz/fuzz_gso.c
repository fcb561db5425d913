/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for gso: the first 12 bytes are a virtio-net header,
 * the rest an Ethernet frame.  The frame is segmented twice: once with
 * the header's gso_size/gso_type forced onto the parsed packet (so
 * gso_segment's own checks see nonsense), once only if vnet_check
 * accepts it, as the daemon would.  Every segment is linearised and
 * checked to point inside the frame.  Header bit 6 of num_buffers also
 * cuts the frame as a fragment chain of one segment per piece (as GRO
 * builds it), which must give exactly the linear result; bit 7 skews the
 * pieces off the segment boundaries, which must give -EXDEV.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grogso/gso.h"
#include "grogso/pkt.h"
#include "grogso/vnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FRAGS 64

static uint8_t buf[PKT_BUF_SIZE];
static uint8_t fbuf[PKT_BUF_SIZE];
static struct pkt frags[FUZZ_FRAGS];
static uint8_t out[PKT_DATA_MAX + GSO_HDR_MAX];
static struct gso_seg segs[GSO_MAX_SEGS];

/* @pay .. +@len inside one piece of @p's frame */
static int in_frame(const struct pkt *p, const uint8_t *pay, uint32_t len)
{
	const struct pkt *f;

	if (pay >= p->data && pay + len <= p->data + p->len)
		return 1;
	for (f = p->frag_first; f; f = f->frag_next)
		if (pay >= f->data && pay + len <= f->data + f->len)
			return 1;
	return 0;
}

/* Cut @p; returns the segment count (or the error) and a digest of the
 * segments' bytes in @digest. */
static int cut(const struct pkt *p, uint8_t variant, uint64_t *digest)
{
	struct gso_opts o = {
		.ipid = (enum gso_ipid)(variant % 3),
		.csum_offload = variant & 4,
	};
	struct gso_result res;
	uint32_t max = (variant & 8) ? 2 : GSO_MAX_SEGS;
	int n, i, len;

	uint64_t h = 0xcbf29ce484222325ull;
	int k;

	n = gso_segment(p, &o, segs, max, &res);
	*digest = 0;
	if (n <= 0)
		return n;
	if ((uint32_t)n != res.nsegs || (uint32_t)n != gso_count(p))
		abort();
	for (i = 0; i < n; i++) {
		const struct gso_seg *s = &segs[i];

		if (s->hdr_len > GSO_HDR_MAX ||
		    !in_frame(p, s->pay, s->pay_len) ||
		    (s->pay_len == 0 && n > 1) || s->pay_len > p->gso_size)
			abort();
		len = gso_seg_linearize(s, out, sizeof(out));
		if (len != (int)(s->hdr_len + s->pay_len))
			abort();
		for (k = 0; k < len; k++)
			h = (h ^ out[k]) * 0x100000001b3ull;
		h = (h ^ (uint64_t)len) * 0x100000001b3ull;
	}
	*digest = h;
	return n;
}

/*
 * Cut @p again as a chain: the payload in pieces of gso_size (the last
 * takes the rest), the first one byte short with @skew.  The linear cut
 * gave @n and @digest.
 */
static void cut_chain(const struct pkt *p, uint8_t variant, int n,
		      uint64_t digest, int skew)
{
	struct pkt c = *p;
	uint32_t off, len, left, i;
	uint64_t d;
	int r;

	if (n <= 0 || p->pay_off > p->len || !p->gso_size ||
	    (skew && (p->gso_size < 2 || p->len - p->pay_off <= p->gso_size)))
		return;
	off = p->pay_off + (skew ? p->gso_size - 1u : p->gso_size);
	if (off > p->len)
		return;
	c.len = off;
	left = p->len - off;
	memcpy(fbuf + PKT_HEADROOM, p->data + off, left);
	for (i = 0, off = 0; left; i++) {
		len = i == FUZZ_FRAGS - 1 || left < p->gso_size ? left :
								 p->gso_size;
		memset(&frags[i], 0, sizeof(frags[i]));
		frags[i].buf = fbuf;
		frags[i].data = fbuf + PKT_HEADROOM + off;
		frags[i].len = len;
		pkt_frag_append(&c, &frags[i]);
		off += len;
		left -= len;
	}
	r = cut(&c, variant, &d);
	if (skew ? r != -EXDEV : (r != n || d != digest))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnet_hdr h;
	struct pkt p;
	uint64_t digest;
	uint8_t variant;
	int n;

	if (size < VNET_HDR_LEN + 1 || size - VNET_HDR_LEN > PKT_DATA_MAX)
		return 0;
	if (vnet_read(&h, data, size, VNET_HDR_LEN))
		return 0;
	/* num_buffers means nothing on input: borrow it to pick options */
	variant = (uint8_t)h.num_buffers;

	memset(&p, 0, sizeof(p));
	p.buf = buf;
	p.data = buf + PKT_HEADROOM;
	p.len = (uint32_t)(size - VNET_HDR_LEN);
	memcpy(p.data, data + VNET_HDR_LEN, p.len);
	if (pkt_parse(&p) != DROP_NONE)
		return 0;

	p.gso_size = h.gso_size;
	p.gso_type = h.gso_type;
	p.agg.ipid_mode = (uint8_t)(variant >> 4) & 3;
	n = cut(&p, variant, &digest);
	if (variant & 0x40)
		cut_chain(&p, variant, n, digest, !!(variant & 0x80));

	if (pkt_parse(&p) != DROP_NONE)
		return 0;
	if (vnet_check(&h, &p) != DROP_NONE || !p.gso_size)
		return 0;
	n = cut(&p, variant, &digest);
	if (variant & 0x40)
		cut_chain(&p, variant, n, digest, !!(variant & 0x80));
	return 0;
}
