/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_parse: the first 12 bytes are a virtio-net header, the rest an
 * Ethernet frame.  Parse, check the header, and complete a partial
 * checksum the way the data path does; nothing may read or write
 * outside the frame.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grogso/csum.h"
#include "grogso/pkt.h"
#include "grogso/vnet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pkt_pool pool;
	static int ready;
	struct vnet_hdr h, out;
	struct pkt *p;
	uint8_t *copy;

	if (!ready) {
		if (pkt_pool_init(&pool, 1))
			abort();
		ready = 1;
	}
	if (vnet_read(&h, data, size, VNET_HDR_LEN))
		return 0;
	data += VNET_HDR_LEN;
	size -= VNET_HDR_LEN;
	if (size > PKT_DATA_MAX)
		return 0;

	p = pkt_alloc(&pool);
	/* a heap copy of exactly the frame, so ASan sees any overrun
	 * instead of the slack of the pool buffer */
	copy = malloc(size ? size : 1);
	if (!p || !copy)
		abort();
	memcpy(copy, data, size);
	p->data = copy;
	p->len = (uint32_t)size;

	if (pkt_parse(p) == DROP_NONE) {
		if (p->l4_off)
			(void)pkt_l4_csum_verify(p, 1);
		if (vnet_check(&h, p) == DROP_NONE) {
			if (h.flags & VNET_F_NEEDS_CSUM) {
				/* vnet_check let it through: it must fit */
				if (pkt_csum_complete(p) != 0)
					abort();
			}
			vnet_from_pkt(&out, p, 1);
			if (out.flags & VNET_F_NEEDS_CSUM) {
				p->csum = PKT_CSUM_PARTIAL;
				pkt_csum_set_partial(p);
			}
		}
	}
	p->data = p->buf + PKT_HEADROOM;
	pkt_free(&pool, p);
	free(copy);
	return 0;
}
