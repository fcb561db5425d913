/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * csum: the internet checksum.
 *
 * The fast path adds the data as native-order 64-bit words.  Because the
 * ones' complement sum is the same modulo 0xffff whatever the word width
 * (2^16 == 1 mod 0xffff), and byte order only swaps the two bytes of the
 * folded result (RFC 1071 section 2(B)), a block is summed natively,
 * folded to 16 bits, swapped to the big-endian reading on little-endian
 * hosts and only then added to the caller's running sum.  The running
 * sum therefore always folds to the value get_be16 would read.
 */
#include <errno.h>
#include <string.h>

#include "grogso/csum.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define CSUM_HOST_LE 1
#else
#define CSUM_HOST_LE 0
#endif

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

/* Fold a native-order sum to 16 bits and give its big-endian reading. */
static inline uint64_t native_to_be(uint64_t s)
{
	uint16_t f = csum_fold(s);

	if (CSUM_HOST_LE)
		f = (uint16_t)((f << 8) | (f >> 8));
	return f;
}

/* Add with the end-around carry so a running sum never loses a bit. */
static inline uint64_t add_carry(uint64_t a, uint64_t b)
{
	uint64_t r = a + b;

	return r + (r < a);
}

/* The last 0..7 bytes, zero-padded as if the data went on with zeros. */
static inline uint64_t load_tail(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	memcpy(&v, p, n);
	return v;
}

#ifdef __SIZEOF_INT128__
/*
 * Four 128-bit accumulators: each 64-bit add becomes add+adc, and four
 * independent chains keep the carry dependency off the critical path.
 */
static uint64_t sum_native(const uint8_t *p, size_t len)
{
	unsigned __int128 a0 = 0, a1 = 0, a2 = 0, a3 = 0, t;
	uint64_t lo, hi;

	while (len >= 64) {
		a0 += load64(p);
		a1 += load64(p + 8);
		a2 += load64(p + 16);
		a3 += load64(p + 24);
		a0 += load64(p + 32);
		a1 += load64(p + 40);
		a2 += load64(p + 48);
		a3 += load64(p + 56);
		p += 64;
		len -= 64;
	}
	while (len >= 8) {
		a0 += load64(p);
		p += 8;
		len -= 8;
	}
	if (len)
		a1 += load_tail(p, len);

	t = a0 + a1;            /* each below 2^(64+58): no overflow */
	t += a2;
	t += a3;
	lo = (uint64_t)t;
	hi = (uint64_t)(t >> 64);
	return add_carry(lo, hi);
}
#else
/* Without 128-bit integers: 32-bit halves into 64-bit sums. */
static uint64_t sum_native(const uint8_t *p, size_t len)
{
	uint64_t s0 = 0, s1 = 0, w;

	while (len >= 32) {
		w = load64(p);
		s0 += w & 0xffffffffu;
		s1 += w >> 32;
		w = load64(p + 8);
		s0 += w & 0xffffffffu;
		s1 += w >> 32;
		w = load64(p + 16);
		s0 += w & 0xffffffffu;
		s1 += w >> 32;
		w = load64(p + 24);
		s0 += w & 0xffffffffu;
		s1 += w >> 32;
		p += 32;
		len -= 32;
		/* 2^32 iterations would be needed to overflow: fine for size_t */
	}
	while (len >= 8) {
		w = load64(p);
		s0 += w & 0xffffffffu;
		s1 += w >> 32;
		p += 8;
		len -= 8;
	}
	if (len) {
		w = load_tail(p, len);
		s0 += w & 0xffffffffu;
		s1 += w >> 32;
	}
	return add_carry(s0, s1);
}
#endif

uint64_t csum_partial(const void *buf, size_t len, uint64_t sum)
{
	if (!len)
		return sum;
	return add_carry(sum, native_to_be(sum_native(buf, len)));
}

uint64_t csum_partial_ref(const void *buf, size_t len, uint64_t sum)
{
	const uint8_t *p = buf;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += get_be16(p + i);
	if (len & 1)
		sum += (uint64_t)p[len - 1] << 8;
	return sum;
}

uint64_t csum_pseudo4(const uint8_t *saddr, const uint8_t *daddr,
		      uint8_t proto, uint32_t l4len)
{
	uint64_t s;

	s = (uint64_t)get_be16(saddr) + get_be16(saddr + 2);
	s += (uint64_t)get_be16(daddr) + get_be16(daddr + 2);
	return s + proto + l4len;
}

uint64_t csum_pseudo6(const uint8_t *saddr, const uint8_t *daddr,
		      uint8_t proto, uint32_t l4len)
{
	uint64_t s = 0;
	int i;

	for (i = 0; i < 16; i += 4) {
		s += get_be32(saddr + i);
		s += get_be32(daddr + i);
	}
	/* the 32-bit length splits into two 16-bit words; the fold adds them */
	return s + proto + l4len;
}

uint16_t csum_ip4_header(const uint8_t *iph, size_t ihl_bytes)
{
	return csum_finish(csum_partial(iph, ihl_bytes, 0));
}

int csum_complete(uint8_t *frame, size_t len, size_t start, size_t offset,
		  int udp)
{
	uint16_t c;

	if (start > len || offset > len - start || len - start - offset < 2)
		return -EINVAL;
	c = csum_finish(csum_partial(frame + start, len - start, 0));
	/* RFC 768: a computed zero is sent as all ones (0 means "none") */
	if (udp && c == 0)
		c = 0xffff;
	put_be16(frame + start + offset, c);
	return 0;
}
