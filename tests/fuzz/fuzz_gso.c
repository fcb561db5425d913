/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for gso: the first 12 bytes are a virtio-net header,
 * the rest an Ethernet frame.  The frame is segmented twice: once with
 * the header's gso_size/gso_type forced onto the parsed packet (so
 * gso_segment's own checks see nonsense), once only if vnet_check
 * accepts it, as the daemon would.  Every segment is linearised and
 * checked to point inside the frame.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grogso/gso.h"
#include "grogso/pkt.h"
#include "grogso/vnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t buf[PKT_BUF_SIZE];
static uint8_t out[PKT_DATA_MAX + GSO_HDR_MAX];
static struct gso_seg segs[GSO_MAX_SEGS];

static void cut(const struct pkt *p, uint8_t variant)
{
	struct gso_opts o = {
		.ipid = (enum gso_ipid)(variant % 3),
		.csum_offload = variant & 4,
	};
	struct gso_result res;
	uint32_t max = (variant & 8) ? 2 : GSO_MAX_SEGS;
	int n, i, len;

	n = gso_segment(p, &o, segs, max, &res);
	if (n <= 0)
		return;
	if ((uint32_t)n != res.nsegs || (uint32_t)n != gso_count(p))
		abort();
	for (i = 0; i < n; i++) {
		const struct gso_seg *s = &segs[i];

		if (s->hdr_len > GSO_HDR_MAX || s->pay < p->data ||
		    s->pay + s->pay_len > p->data + p->len ||
		    (s->pay_len == 0 && n > 1) || s->pay_len > p->gso_size)
			abort();
		len = gso_seg_linearize(s, out, sizeof(out));
		if (len != (int)(s->hdr_len + s->pay_len))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnet_hdr h;
	struct pkt p;
	uint8_t variant;

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
	cut(&p, variant);

	if (pkt_parse(&p) != DROP_NONE)
		return 0;
	if (vnet_check(&h, &p) != DROP_NONE || !p.gso_size)
		return 0;
	cut(&p, variant);
	return 0;
}
