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
 *
 * Two ways to sum a block: portable C (sum_native), and on x86_64 CPUs
 * with AVX2 a vector loop (sum_avx2) for blocks of CSUM_AVX2_MIN bytes
 * and more.  Both give the same folded value; the tests compare each with
 * csum_partial_ref.
 */
#include <errno.h>
#include <string.h>

#include "grogso/csum.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define CSUM_HOST_LE 1
#else
#define CSUM_HOST_LE 0
#endif

/* gcc and clang on x86_64: an AVX2 path, chosen per call (see have_avx2) */
#if defined(__x86_64__) && defined(__GNUC__)
#define CSUM_AVX2 1
#include <immintrin.h>
#else
#define CSUM_AVX2 0
#endif

/*
 * Below this many bytes csum_partial stays on the scalar path: there the
 * vector set-up and reduction cost more than they save (measured on a
 * Xeon, the two break even near 256 bytes).
 */
#define CSUM_AVX2_MIN 256

/* From this many bytes the portable path sums in four chains. */
#define CSUM_BLOCKS_MIN 64

/*
 * Bytes per vector pass before the lanes are reduced: each lane must see
 * fewer than 2^32 additions (see sum_avx2_blocks); 64 KB is far below
 * that, a reduction per 64 KB costs nothing, and the tests can cross it.
 * A multiple of the 128-byte loop step.
 */
#define CSUM_AVX2_CHUNK 65536

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t load32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint16_t load16(const uint8_t *p)
{
	uint16_t v;

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

/*
 * The last 0..7 bytes, as if the data went on with zeros.  Only the sum
 * modulo 0xffff matters, so the pieces are added instead of assembled into
 * one word: a native 32- or 16-bit load at an even offset weighs its bytes
 * as the 64-bit word would.  The odd last byte is the first of its pair.
 */
static inline uint64_t sum_tail(const uint8_t *p, size_t n)
{
	uint64_t s = 0;

	if (n & 4) {
		s += load32(p);
		p += 4;
	}
	if (n & 2) {
		s += load16(p);
		p += 2;
	}
	if (n & 1)
		s += CSUM_HOST_LE ? *p : (uint64_t)*p << 8;
	return s;
}

/*
 * A short stretch, or what is left after the blocks: 64-bit words into one
 * sum with a count of its wrap-arounds (a lost 2^64 is worth 1 modulo
 * 0xffff), then the tail.  Compilers turn "s += w; c += s < w" into add
 * and adc.
 */
static inline uint64_t sum_words(const uint8_t *p, size_t len)
{
	uint64_t s = 0, c = 0, w;

	for (; len >= 8; len -= 8, p += 8) {
		w = load64(p);
		s += w;
		c += s < w;
	}
	/* c is below len / 8 and the tail below 2^33: their sum cannot wrap */
	return add_carry(s, c + sum_tail(p, len));
}

/*
 * @s plus whole 32-byte blocks (@len a multiple of 32): four sums and four
 * counts as in sum_words, so that the carries of one do not hold up the
 * next.  Each count stays below len / 8, so their sum cannot wrap.
 */
static uint64_t sum_blocks32(const uint8_t *p, size_t len, uint64_t s)
{
	uint64_t s0 = s, s1 = 0, s2 = 0, s3 = 0;
	uint64_t c0 = 0, c1 = 0, c2 = 0, c3 = 0, w;

	for (; len; len -= 32, p += 32) {
		w = load64(p);
		s0 += w;
		c0 += s0 < w;
		w = load64(p + 8);
		s1 += w;
		c1 += s1 < w;
		w = load64(p + 16);
		s2 += w;
		c2 += s2 < w;
		w = load64(p + 24);
		s3 += w;
		c3 += s3 < w;
	}
	s = add_carry(s0, s1);
	s = add_carry(s, s2);
	s = add_carry(s, s3);
	return add_carry(s, c0 + c1 + c2 + c3);
}

/*
 * The portable path, any length.  Below CSUM_BLOCKS_MIN (headers of 8 to
 * 60 bytes) only sum_words runs: the four chains cost more to reduce than
 * they save there.  The blocks come last so that the header path is a
 * leaf that saves no registers.
 */
static uint64_t sum_native(const uint8_t *p, size_t len)
{
	size_t n = len >= CSUM_BLOCKS_MIN ? len & ~(size_t)31 : 0;
	uint64_t s = sum_words(p + n, len - n);

	return n ? sum_blocks32(p, n, s) : s;
}

#if CSUM_AVX2
/* 32 bytes at any alignment: loadu, through void * as no __m256i is there */
__attribute__((target("avx2")))
static inline __m256i load256(const uint8_t *p)
{
	return _mm256_loadu_si256((const void *)p);
}

/*
 * @len bytes, a multiple of 32, in 64-bit lanes.  Each lane keeps two sums
 * of its words w: W, the plain sum modulo 2^64, and H, the exact sum of
 * the high halves w >> 32.  The exact sum of the low halves is then
 * W - H * 2^32 modulo 2^64, as long as it stays below 2^64: fewer than
 * 2^32 additions per lane, which CSUM_AVX2_CHUNK ensures.  That is one
 * shift and two adds per 32 bytes; the halves only meet in the reduction,
 * as 2^32 is worth 1 modulo 0xffff.
 *
 * It calls nothing, so the compiler's vzeroupper at the return cleans the
 * upper halves for SSE code after it.  (gcc 12 leaves out the vzeroupper
 * before a call that IPA register allocation knows keeps the vector
 * registers, such as one into the scalar code of this file.)
 */
__attribute__((target("avx2")))
static uint64_t sum_avx2_blocks(const uint8_t *p, size_t len)
{
	const __m256i zero = _mm256_setzero_si256();
	__m256i w0, h0, w1, h1, v, lo, t;
	__m128i u;
	uint64_t s = 0;
	size_t n;

	while (len) {
		n = len < CSUM_AVX2_CHUNK ? len : CSUM_AVX2_CHUNK;
		len -= n;
		w0 = h0 = w1 = h1 = zero;
		for (; n >= 128; n -= 128, p += 128) {
			v = load256(p);
			w0 = _mm256_add_epi64(w0, v);
			h0 = _mm256_add_epi64(h0, _mm256_srli_epi64(v, 32));
			v = load256(p + 32);
			w1 = _mm256_add_epi64(w1, v);
			h1 = _mm256_add_epi64(h1, _mm256_srli_epi64(v, 32));
			v = load256(p + 64);
			w0 = _mm256_add_epi64(w0, v);
			h0 = _mm256_add_epi64(h0, _mm256_srli_epi64(v, 32));
			v = load256(p + 96);
			w1 = _mm256_add_epi64(w1, v);
			h1 = _mm256_add_epi64(h1, _mm256_srli_epi64(v, 32));
		}
		for (; n; n -= 32, p += 32) {
			v = load256(p);
			w0 = _mm256_add_epi64(w0, v);
			h0 = _mm256_add_epi64(h0, _mm256_srli_epi64(v, 32));
		}
		w0 = _mm256_add_epi64(w0, w1);
		h0 = _mm256_add_epi64(h0, h1);
		lo = _mm256_sub_epi64(w0, _mm256_slli_epi64(h0, 32));

		/* the four 32-bit halves of lo and h0: each lane below 2^34 */
		t = _mm256_add_epi64(_mm256_blend_epi32(lo, zero, 0xaa),
				     _mm256_srli_epi64(lo, 32));
		t = _mm256_add_epi64(t, _mm256_blend_epi32(h0, zero, 0xaa));
		t = _mm256_add_epi64(t, _mm256_srli_epi64(h0, 32));
		u = _mm_add_epi64(_mm256_castsi256_si128(t),
				  _mm256_extracti128_si256(t, 1));
		s = add_carry(s, (uint64_t)_mm_cvtsi128_si64(u) +
				 (uint64_t)_mm_extract_epi64(u, 1));
	}
	return s;
}

/* Any length: whole 32-byte blocks in vectors, the rest on the scalar path. */
static uint64_t sum_avx2(const uint8_t *p, size_t len)
{
	size_t n = len & ~(size_t)31;

	return add_carry(sum_avx2_blocks(p, n), sum_words(p + n, len - n));
}

/*
 * __builtin_cpu_supports reads the feature word that libgcc (or
 * compiler-rt) fills in once, in a constructor, from CPUID and XGETBV: it
 * reports AVX2 only when the OS also saves the YMM registers.  Asking it
 * on every call is one load and a test, and leaves the core without any
 * state of its own.  Before that constructor has run the word is zero,
 * which picks the portable path: slower, never wrong.
 */
static inline int have_avx2(void)
{
	return __builtin_cpu_supports("avx2");
}
#endif

uint64_t csum_partial_portable(const void *buf, size_t len, uint64_t sum)
{
	if (!len)
		return sum;
	return add_carry(sum, native_to_be(sum_native(buf, len)));
}

uint64_t csum_partial_avx2(const void *buf, size_t len, uint64_t sum)
{
#if CSUM_AVX2
	if (!len)
		return sum;
	return add_carry(sum, native_to_be(sum_avx2(buf, len)));
#else
	return csum_partial_portable(buf, len, sum);
#endif
}

int csum_avx2_usable(void)
{
#if CSUM_AVX2
	return have_avx2() != 0;
#else
	return 0;
#endif
}

uint64_t csum_partial(const void *buf, size_t len, uint64_t sum)
{
#if CSUM_AVX2
	if (len >= CSUM_AVX2_MIN && have_avx2())
		return csum_partial_avx2(buf, len, sum);
#endif
	return csum_partial_portable(buf, len, sum);
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
