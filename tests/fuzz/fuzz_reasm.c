/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for reasm.  The input is a run of 8-byte records,
 * each a fragment of one of a few datagrams (IPv4 or IPv6, with IPv4
 * options or an IPv6 destination options header of any length in front
 * of the fragment header), at any offset or where the datagram's last
 * fragment ended, of any length, with or without more to come, DF and
 * ECN bits, and a step of the clock.  The payload
 * byte at offset k of datagram d is always pat(d, k), so whatever order,
 * overlap or nonsense comes in, a datagram reasm completes must be well
 * formed (lengths, IPv4 header checksum, no fragment left) and hold
 * exactly the pattern; a first fragment given back on expiry must be one
 * as it came; and at the end every buffer must be back in the pool.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grogso/csum.h"
#include "grogso/pkt.h"
#include "grogso/reasm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_POOL 128
#define FUZZ_MAX_PAY 2000               /* payload bytes of one fragment */
#define MS 1000000ull

static struct pkt_pool pool;

static uint8_t pat(unsigned int d, uint32_t k)
{
	return (uint8_t)(d * 31u + k * 7u + (k >> 8));
}

/* The datagram's payload from byte @from of @p's frame, checked. */
static void check_payload(const struct pkt *p, uint32_t from, unsigned int d,
			  uint32_t len)
{
	uint32_t k;

	if (from + len > p->len)
		abort();
	for (k = 0; k < len; k++)
		if (p->data[from + k] != pat(d, k))
			abort();
}

/*
 * Where the payload of @p starts (after the fragment header, if
 * @frag), and which datagram it belongs to (*d).  Aborts on a header
 * that cannot be one the harness built.
 */
static uint32_t payload_at(const struct pkt *p, int frag, unsigned int *d)
{
	const uint8_t *ip = p->data + 14;
	uint32_t at;

	if (p->l3 == PKT_L3_IPV4) {
		*d = get_be16(ip + 4);
		return 14 + (uint32_t)(ip[0] & 0x0f) * 4;
	}
	if (p->l3 != PKT_L3_IPV6)
		abort();
	at = 40;
	if (ip[6] == 60)
		at += ((uint32_t)ip[41] + 1) * 8;
	if (ip[at == 40 ? 6 : 40] != (frag ? 44 : 17))
		abort();
	if (!frag) {
		/* the ID went with the fragment header: any of ours */
		*d = 0;
		return 14 + at;
	}
	*d = get_be32(ip + at + 4);
	if (ip[at] != 17 || *d > 3)
		abort();
	return 14 + at + 8;
}

static void check_whole(const struct pkt *p, unsigned int dgram)
{
	const uint8_t *ip = p->data + 14;
	unsigned int d;
	uint32_t at, hl;
	uint8_t h[60];

	if (p->frag_first || p->borrow || pkt_ip_len(p) != p->len - 14)
		abort();
	at = payload_at(p, 0, &d);
	if (p->l3 == PKT_L3_IPV4) {
		hl = at - 14;
		if (get_be16(ip + 6) & 0x3fff)
			abort();
		memcpy(h, ip, hl);
		put_be16(h + 10, 0);
		if (csum_ip4_header(h, hl) != get_be16(ip + 10))
			abort();
	} else {
		d = dgram;
	}
	check_payload(p, at, d, p->len - at);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	static uint8_t frame[14 + 60 + 8 + 2048 + FUZZ_MAX_PAY];
	static int ready;
	uint32_t next[2][4] = { { 0 } };
	struct reasm *r;
	uint64_t now = 0;
	size_t i;

	if (!ready) {
		if (pkt_pool_init(&pool, FUZZ_POOL))
			abort();
		ready = 1;
	}
	r = reasm_create(&pool);
	if (!r)
		abort();
	reasm_set_timeouts(r, 30000 * MS, 60000 * MS);
	for (i = 0; i + 8 <= size; i += 8) {
		const uint8_t *c = data + i;
		int v6 = c[0] & 1, mf = (c[0] >> 3) & 1;
		unsigned int d = (c[0] >> 1) & 3, port;
		uint32_t off = (uint32_t)(get_be16(c + 1) & 0x1fff) * 8;
		uint32_t n = get_be16(c + 3) % (FUZZ_MAX_PAY + 1), hl, l3, k;
		uint32_t *nx = &next[v6][d];
		uint32_t ext = (c[5] & 0x3f) ? ((uint32_t)(c[5] & 0x3f) + 1) * 8 : 0;
		uint32_t ptr, fo = 0, len;
		enum reasm_result res;
		struct pkt *p, *out, *head;
		uint8_t *ip;

		/* bit 7 of the offset: go on where the last fragment of
		 * the datagram ended; bit 6: a whole number of 8 bytes */
		if (c[1] & 0x80)
			off = *nx & ~7u;        /* offsets are in 8s */
		if (c[1] & 0x40)
			n &= ~7u;
		*nx = off + (mf ? n & ~7u : n);
		now += (uint64_t)c[6] * 100 * MS;
		while (reasm_expire(r, now, &head, &port)) {
			unsigned int hd;
			uint32_t at;

			if (!head)
				continue;
			/* a first fragment as it came (an IPv4 one cut to a
			 * multiple of 8, its length field as it was) */
			at = payload_at(head, 1, &hd);
			if (head->l3 == PKT_L3_IPV4 &&
			    !(get_be16(head->data + 20) & 0x2000))
				abort();
			check_payload(head, at, hd, head->len - at);
			pkt_free(&pool, head);
		}
		memcpy(frame, mac, 12);
		ip = frame + 14;
		if (!v6) {
			uint32_t olen = (uint32_t)(c[7] & 7) * 4;

			if (!off && !mf)
				continue;       /* not a fragment */
			frame[12] = 0x08;
			frame[13] = 0x00;
			hl = 20 + olen;
			memset(ip, 0, hl);
			memset(ip + 20, 1, olen);       /* NOPs */
			ip[0] = (uint8_t)(0x40 | hl / 4);
			ip[1] = (uint8_t)((c[0] >> 5) & 3);
			put_be16(ip + 2, (uint16_t)(hl + n));
			put_be16(ip + 4, (uint16_t)d);
			put_be16(ip + 6, (uint16_t)(off / 8 | (mf ? 0x2000 : 0) |
						    ((c[0] & 0x10) ? 0x4000 : 0)));
			ip[8] = 64;
			ip[9] = (c[7] & 8) ? 6 : 17;
			ip[12] = 10;
			ip[16] = 10;
			ip[19] = 1;
			put_be16(ip + 10, csum_ip4_header(ip, hl));
		} else {
			frame[12] = 0x86;
			frame[13] = 0xdd;
			memset(ip, 0, 40 + ext + 8);
			put_be32(ip, 6u << 28 | (uint32_t)((c[0] >> 5) & 3) << 20);
			put_be16(ip + 4, (uint16_t)(ext + 8 + n));
			ip[6] = ext ? 60 : 44;
			ip[7] = 64;
			ip[8] = 0xfe;
			ip[9] = 0x80;
			ip[24] = 0x20;
			ip[39] = 1;
			if (ext) {
				ip[40] = 44;
				ip[41] = (uint8_t)(ext / 8 - 1);
				ip[42] = 1;             /* PadN over the rest */
				ip[43] = (uint8_t)(ext - 4);
			}
			fo = 14 + 40 + ext;
			frame[fo] = 17;
			put_be16(frame + fo + 2, (uint16_t)(off | mf));
			put_be32(frame + fo + 4, d);
			hl = 40 + ext + 8;
		}
		l3 = 14 + hl;
		for (k = 0; k < n; k++)
			frame[l3 + k] = pat(d, off + k);
		len = l3 + n;
		p = pkt_alloc(&pool);
		if (!p)
			abort();        /* only reasm holds buffers: it leaked */
		memcpy(p->data, frame, len);
		p->len = len;
		if (pkt_parse(p) != DROP_NONE) {
			pkt_free(&pool, p);
			continue;
		}
		res = reasm_input(r, p, fo, ext ? 40 : 6, c[7] >> 7, now, &out,
				  &ptr);
		pkt_free(&pool, p);
		if ((res == REASM_DONE) != (out != NULL))
			abort();
		if (res == REASM_PARAMPROB && (!v6 || ptr >= len - 14))
			abort();
		if (out) {
			check_whole(out, d);
			pkt_free(&pool, out);
		}
	}
	reasm_destroy(r);
	if (pool.nfree != pool.count)
		abort();
	return 0;
}
