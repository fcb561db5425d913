/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "grogso/csum.h"

#define MAX_LEN 9001
#define MAX_ALIGN 8

static uint8_t rnd_buf[MAX_LEN + MAX_ALIGN + 8];

/* xorshift32 with a fixed seed: the same data on every run */
static uint32_t rnd_state;

static uint32_t rnd(void)
{
	uint32_t x = rnd_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	rnd_state = x;
	return x;
}

static void rnd_fill(uint8_t *b, size_t len, uint32_t seed)
{
	size_t i;

	rnd_state = seed;
	for (i = 0; i < len; i++)
		b[i] = (uint8_t)rnd();
}

/* A frame captured with checksum offload: the TCP field (offset 50) holds
 * the pseudo-header sum 0x8e4b; the complete checksum is 0xffd7.
 * 198.19.1.2:40000 -> 198.18.1.2:5201, PSH|ACK, payload "grogso!". */
static const uint8_t tcp4_partial[61] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00, 0x05,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x2f, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06,
	0x9a, 0x6b, 0xc6, 0x13, 0x01, 0x02, 0xc6, 0x12, 0x01, 0x02, 0x9c, 0x40,
	0x14, 0x51, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x01, 0x50, 0x18,
	0x02, 0x00, 0x8e, 0x4b, 0x00, 0x00, 0x67, 0x72, 0x6f, 0x67, 0x73, 0x6f,
	0x21,
};

/* The same flow over UDP: field (offset 40) 0x8e4a, complete 0x55cb. */
static const uint8_t udp4_partial[49] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00, 0x05,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x23, 0x12, 0x40, 0x40, 0x00, 0x40, 0x11,
	0x9a, 0x60, 0xc6, 0x13, 0x01, 0x02, 0xc6, 0x12, 0x01, 0x02, 0x9c, 0x40,
	0x14, 0x51, 0x00, 0x0f, 0x8e, 0x4a, 0x67, 0x72, 0x6f, 0x67, 0x73, 0x6f,
	0x21,
};

typedef uint64_t (*partial_fn)(const void *, size_t, uint64_t);

/* csum_partial and each path behind it: the AVX2 one only where it runs */
static const struct path {
	const char *name;
	partial_fn fn;
	int (*usable)(void);
} paths[] = {
	{ "csum_partial", csum_partial, NULL },
	{ "portable", csum_partial_portable, NULL },
	{ "avx2", csum_partial_avx2, csum_avx2_usable },
};

#define NPATHS (sizeof(paths) / sizeof(paths[0]))

static int path_usable(const struct path *pa)
{
	return !pa->usable || pa->usable();
}

/* Every usable path against the reference, for every length up to @max
 * and every alignment of @b. */
static void check_paths(const uint8_t *b, size_t max, const char *what)
{
	size_t i, a, len;

	for (i = 0; i < NPATHS; i++) {
		if (!path_usable(&paths[i]))
			continue;
		for (a = 0; a < MAX_ALIGN; a++) {
			for (len = 0; len <= max; len++) {
				uint16_t fast = csum_fold(paths[i].fn(b + a, len, 0));
				uint16_t ref = csum_fold(csum_partial_ref(b + a, len, 0));

				if (fast != ref)
					fail_msg("%s, %s: align %zu len %zu: %04x != %04x",
						 paths[i].name, what, a, len,
						 fast, ref);
			}
		}
	}
}

static void test_partial_matches_reference_every_length_and_alignment(void **state)
{
	(void)state;
	rnd_fill(rnd_buf, sizeof(rnd_buf), 0x9e3779b9u);
	check_paths(rnd_buf, MAX_LEN, "random");
}

/* All ones carries out of every add: each path's carry handling shows. */
static void test_partial_carries_every_length_and_alignment(void **state)
{
	size_t i;

	(void)state;
	memset(rnd_buf, 0xff, sizeof(rnd_buf));
	check_paths(rnd_buf, 2048, "all ones");
	/* 32-bit halves of all ones next to words that wrap them over */
	for (i = 0; i < sizeof(rnd_buf); i++)
		rnd_buf[i] = (i & 4) ? 0x00 : 0xff;
	rnd_buf[5] = 0x01;
	check_paths(rnd_buf, 2048, "ones and zeros");
}

/* The AVX2 path reduces its lanes every 64 KB: cross that more than once,
 * at lengths around the boundaries. */
static void test_partial_matches_reference_past_64k(void **state)
{
	static uint8_t big[3 * 65536 + 4096 + MAX_ALIGN];
	static const size_t lens[] = {
		65535, 65536, 65537, 65536 + 31, 65536 + 32, 65536 + 129,
		2 * 65536 - 1, 2 * 65536 + 7, 3 * 65536 + 4095, 3 * 65536 + 4096,
	};
	size_t i, j, a;

	(void)state;
	for (j = 0; j < 2; j++) {
		if (j == 0)
			rnd_fill(big, sizeof(big), 77);
		else
			memset(big, 0xff, sizeof(big));
		for (i = 0; i < NPATHS; i++) {
			if (!path_usable(&paths[i]))
				continue;
			for (a = 0; a < MAX_ALIGN; a++) {
				size_t k;

				for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++)
					if (csum_fold(paths[i].fn(big + a, lens[k], 0)) !=
					    csum_fold(csum_partial_ref(big + a, lens[k], 0)))
						fail_msg("%s: align %zu len %zu",
							 paths[i].name, a, lens[k]);
			}
		}
	}
}

/*
 * 64 bytes whose native 64-bit words, in the portable path's four chains
 * (word i goes to chain i mod 4), sum to all ones with one wrap pending:
 * adding the wrap count without the end-around carry would give 0 instead
 * of 1 (0x0100 as the big-endian reading on a little-endian host).
 */
static void test_partial_keeps_carry_of_wrap_counts(void **state)
{
	static const uint64_t w[8] = { ~0ull, ~0ull - 1, 0, 0, 2, 0, 0, 0 };
	static const uint16_t one = 1;
	uint8_t b[sizeof(w)], o[2];
	size_t i;

	(void)state;
	memcpy(b, w, sizeof(b));
	memcpy(o, &one, sizeof(o));
	assert_int_equal(csum_fold(csum_partial_ref(b, sizeof(b), 0)),
			 get_be16(o));
	for (i = 0; i < NPATHS; i++) {
		if (!path_usable(&paths[i]))
			continue;
		assert_int_equal(csum_fold(paths[i].fn(b, sizeof(b), 0)),
				 get_be16(o));
	}
}

/* Each length in a buffer that ends where the data ends, so that a read
 * past the end shows under ASan (the other tests have slack after it). */
static void test_partial_reads_only_its_bytes(void **state)
{
	size_t i, a, len;

	(void)state;
	for (len = 1; len <= 1100; len++) {
		for (a = 0; a < 2; a++) {
			uint8_t *b = malloc(len + a);

			assert_non_null(b);
			rnd_fill(b, len + a, (uint32_t)len);
			for (i = 0; i < NPATHS; i++) {
				if (!path_usable(&paths[i]))
					continue;
				assert_int_equal(csum_fold(paths[i].fn(b + a, len, 0)),
						 csum_fold(csum_partial_ref(b + a, len, 0)));
			}
			free(b);
		}
	}
}

static void test_avx2_path_runs_where_cpu_has_it(void **state)
{
	(void)state;
#if defined(__x86_64__) && defined(__GNUC__)
	/* src/csum.c builds the path under this same condition; where the
	 * CPU has AVX2 it must run, or the tests above compare nothing new */
	assert_int_equal(csum_avx2_usable(), !!__builtin_cpu_supports("avx2"));
#endif
	if (!csum_avx2_usable())
		skip();
}

static void test_partial_adds_incoming_sum(void **state)
{
	size_t i, len;

	(void)state;
	rnd_fill(rnd_buf, sizeof(rnd_buf), 7);
	for (i = 0; i < NPATHS; i++) {
		if (!path_usable(&paths[i]))
			continue;
		for (len = 0; len < 600; len++) {
			uint64_t init = 0x12345678abcdull + len;

			assert_int_equal(csum_fold(paths[i].fn(rnd_buf + 3, len, init)),
					 csum_fold(csum_partial_ref(rnd_buf + 3, len, init)));
			/* a running sum near the top must not lose its carry */
			init = ~0ull - len;
			assert_int_equal(csum_fold(paths[i].fn(rnd_buf + 3, len, init)),
					 csum_fold(csum_partial_ref(rnd_buf + 3, len, 0) +
						   csum_fold(init)));
		}
	}
}

static void test_partial_folds_big_endian(void **state)
{
	static const uint8_t b[4] = { 0x12, 0x34, 0x00, 0x01 };
	static const uint8_t odd[3] = { 0x01, 0x02, 0xab };

	(void)state;
	assert_int_equal(csum_fold(csum_partial(b, 4, 0)), 0x1235);
	/* an odd last byte is the high byte of a zero-padded word */
	assert_int_equal(csum_fold(csum_partial(odd, 3, 0)), 0xac02);
	assert_int_equal(csum_fold(csum_partial(odd, 0, 0x42)), 0x42);
}

static void test_partial_all_ones_folds_to_ffff(void **state)
{
	uint8_t b[1500];

	(void)state;
	memset(b, 0xff, sizeof(b));
	assert_int_equal(csum_fold(csum_partial(b, sizeof(b), 0)), 0xffff);
	assert_int_equal(csum_fold(csum_partial_ref(b, sizeof(b), 0)), 0xffff);
	memset(b, 0, sizeof(b));
	assert_int_equal(csum_fold(csum_partial(b, sizeof(b), 0)), 0);
}

static void test_partial_chains_at_even_offsets(void **state)
{
	size_t n, m;

	(void)state;
	rnd_fill(rnd_buf, sizeof(rnd_buf), 99);
	for (n = 0; n <= 200; n += 2) {
		for (m = 0; m <= 131; m++) {
			uint64_t s = csum_partial(rnd_buf + 1, n, 0);

			s = csum_partial(rnd_buf + 1 + n, m, s);
			assert_int_equal(csum_fold(s),
					 csum_fold(csum_partial(rnd_buf + 1, n + m, 0)));
		}
	}
}

static void test_block_add_handles_odd_offset(void **state)
{
	size_t n, m;

	(void)state;
	rnd_fill(rnd_buf, sizeof(rnd_buf), 1234);
	for (n = 1; n < 64; n++) {
		for (m = 0; m < 64; m++) {
			uint64_t s = csum_partial(rnd_buf, n, 0);
			uint64_t blk = csum_partial(rnd_buf + n, m, 0);

			s = csum_block_add(s, blk, n);
			assert_int_equal(csum_fold(s),
					 csum_fold(csum_partial_ref(rnd_buf, n + m, 0)));
		}
	}
}

static void test_fold_end_around_carry(void **state)
{
	(void)state;
	assert_int_equal(csum_fold(0), 0);
	assert_int_equal(csum_fold(0xffff), 0xffff);
	assert_int_equal(csum_fold(0x10000), 0x0001);
	assert_int_equal(csum_fold(0x1fffe), 0xffff);
	assert_int_equal(csum_fold(0xffffffffffffffffull), 0xffff);
	assert_int_equal(csum_fold(0x0001000200030004ull), 0x000a);
	assert_int_equal(csum_finish(0x1fffe), 0x0000);
}

static void test_replace16_rfc1624_zero_corner(void **state)
{
	(void)state;
	/* RFC 1624 section 3: the sum of the other words is 0xcd7a; 0x5555
	 * becomes 0x3285.  Recomputation gives 0x0000; eqn. 2 would give
	 * 0xffff. */
	assert_int_equal(csum_replace16(0xdd2f, 0x5555, 0x3285), 0x0000);
	/* and back */
	assert_int_equal(csum_replace16(0x0000, 0x3285, 0x5555), 0xdd2f);
	/* no change, no change */
	assert_int_equal(csum_replace16(0x1234, 0xabcd, 0xabcd), 0x1234);
}

static void test_replace16_matches_recomputation(void **state)
{
	uint8_t h[20];
	int i;

	(void)state;
	rnd_state = 42;
	for (i = 0; i < 20000; i++) {
		size_t w = (rnd() % 10) * 2;
		uint16_t old, new_, check;

		if (w == 10)
			continue;       /* the checksum field itself */
		rnd_fill(h, sizeof(h), (uint32_t)i + 1);
		h[10] = h[11] = 0;
		put_be16(h + 10, csum_ip4_header(h, 20));
		check = get_be16(h + 10);
		old = get_be16(h + w);
		new_ = (uint16_t)rnd();
		if (i % 7 == 0)
			new_ = (uint16_t)~old;
		put_be16(h + w, new_);
		h[10] = h[11] = 0;
		assert_int_equal(csum_replace16(check, old, new_),
				 csum_ip4_header(h, 20));
	}
}

static void test_pseudo4_hand_computed(void **state)
{
	static const uint8_t s[4] = { 198, 19, 1, 2 };
	static const uint8_t d[4] = { 198, 18, 1, 2 };

	(void)state;
	/* c613 + 0102 + c612 + 0102 + 0006 + 001b = 0x18e4a -> 0x8e4b */
	assert_int_equal(csum_fold(csum_pseudo4(s, d, 6, 27)), 0x8e4b);
	assert_int_equal(csum_fold(csum_pseudo4(s, d, 17, 15)), 0x8e4a);
}

static void test_pseudo6_hand_computed(void **state)
{
	static const uint8_t s[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 2 };
	static const uint8_t d[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 2 };

	(void)state;
	/* 2001+0db8+0002+0002 + 2001+0db8+0001+0002 + 0001+2345 + 0011
	 * = 0x7ed0: the 32-bit length counts as two words */
	assert_int_equal(csum_fold(csum_pseudo6(s, d, 17, 0x12345)), 0x7ed0);
}

static void test_ip4_header_checksum(void **state)
{
	uint8_t h[20];

	(void)state;
	memcpy(h, tcp4_partial + 14, 20);
	assert_int_equal(csum_ip4_header(h, 20), 0);   /* verifies */
	h[10] = h[11] = 0;
	assert_int_equal(csum_ip4_header(h, 20), 0x9a6b);
	h[8] = 63;      /* TTL */
	assert_int_equal(csum_ip4_header(h, 20), 0x9b6b);
}

static void test_complete_tcp_known_frame(void **state)
{
	uint8_t f[sizeof(tcp4_partial)];

	(void)state;
	memcpy(f, tcp4_partial, sizeof(f));
	assert_int_equal(csum_complete(f, sizeof(f), 34, 16, 0), 0);
	assert_int_equal(f[50], 0xff);
	assert_int_equal(f[51], 0xd7);
	/* nothing else touched */
	assert_memory_equal(f, tcp4_partial, 50);
	assert_memory_equal(f + 52, tcp4_partial + 52, sizeof(f) - 52);
	/* the completed segment verifies */
	assert_int_equal(csum_finish(csum_partial(f + 34, sizeof(f) - 34,
			 csum_pseudo4(f + 26, f + 30, 6, 27))), 0);
}

static void test_complete_udp_known_frame(void **state)
{
	uint8_t f[sizeof(udp4_partial)];

	(void)state;
	memcpy(f, udp4_partial, sizeof(f));
	assert_int_equal(csum_complete(f, sizeof(f), 34, 6, 1), 0);
	assert_int_equal(f[40], 0x55);
	assert_int_equal(f[41], 0xcb);
}

static void test_complete_udp_zero_becomes_ffff(void **state)
{
	uint8_t f[48], g[48];

	(void)state;
	/* 14 bytes of UDP "grog" 0xea3c: its checksum computes to 0 */
	memcpy(f, udp4_partial, 42);
	put_be16(f + 16, 34);
	put_be16(f + 38, 14);
	put_be16(f + 40, 0x8e49);
	memcpy(f + 42, "grog\xea\x3c", 6);
	memcpy(g, f, sizeof(g));
	assert_int_equal(csum_complete(f, sizeof(f), 34, 6, 1), 0);
	assert_int_equal(get_be16(f + 40), 0xffff);
	/* TCP has no "no checksum" value: 0 stays 0 */
	assert_int_equal(csum_complete(g, sizeof(g), 34, 6, 0), 0);
	assert_int_equal(get_be16(g + 40), 0x0000);
}

static void test_complete_rejects_offsets_past_frame(void **state)
{
	uint8_t f[sizeof(tcp4_partial)];

	(void)state;
	memcpy(f, tcp4_partial, sizeof(f));
	assert_int_equal(csum_complete(f, sizeof(f), 34, 26, 0), -EINVAL);
	assert_int_equal(csum_complete(f, sizeof(f), 60, 0, 0), -EINVAL);
	assert_int_equal(csum_complete(f, sizeof(f), 62, 0, 0), -EINVAL);
	assert_int_equal(csum_complete(f, sizeof(f), 34, SIZE_MAX - 10, 0),
			 -EINVAL);
	assert_memory_equal(f, tcp4_partial, sizeof(f));
	/* the last two bytes are a valid place for the field */
	assert_int_equal(csum_complete(f, sizeof(f), 34, 25, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_partial_matches_reference_every_length_and_alignment),
		cmocka_unit_test(test_partial_carries_every_length_and_alignment),
		cmocka_unit_test(test_partial_matches_reference_past_64k),
		cmocka_unit_test(test_partial_keeps_carry_of_wrap_counts),
		cmocka_unit_test(test_partial_reads_only_its_bytes),
		cmocka_unit_test(test_avx2_path_runs_where_cpu_has_it),
		cmocka_unit_test(test_partial_adds_incoming_sum),
		cmocka_unit_test(test_partial_folds_big_endian),
		cmocka_unit_test(test_partial_all_ones_folds_to_ffff),
		cmocka_unit_test(test_partial_chains_at_even_offsets),
		cmocka_unit_test(test_block_add_handles_odd_offset),
		cmocka_unit_test(test_fold_end_around_carry),
		cmocka_unit_test(test_replace16_rfc1624_zero_corner),
		cmocka_unit_test(test_replace16_matches_recomputation),
		cmocka_unit_test(test_pseudo4_hand_computed),
		cmocka_unit_test(test_pseudo6_hand_computed),
		cmocka_unit_test(test_ip4_header_checksum),
		cmocka_unit_test(test_complete_tcp_known_frame),
		cmocka_unit_test(test_complete_udp_known_frame),
		cmocka_unit_test(test_complete_udp_zero_becomes_ffff),
		cmocka_unit_test(test_complete_rejects_offsets_past_frame),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
