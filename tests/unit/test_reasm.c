/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * reasm: datagrams for grogso put back together by Linux's rules.  A
 * whole datagram is built with frames.h, cut into fragment frames here,
 * fed in various orders, and what comes out is compared byte for byte
 * with the datagram as it was before it was cut.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "grogso/reasm.h"
#include "frames.h"

#define NS_PER_S 1000000000ull
#define WHOLE_PAY 3000                  /* UDP payload of the test datagram */

struct env {
	struct pkt_pool pool;
	struct reasm *r;
	uint8_t whole[4096];            /* the datagram before it was cut */
	size_t whole_len;
	int v6;
};

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The test datagram: UDP with WHOLE_PAY bytes, IPv4 without DF, ID
 * 0x4242, or IPv6. */
static void build_whole(struct env *e, int v6)
{
	struct frame_spec s;

	frame_spec_init(&s, v6, 17);
	s.df = 0;
	s.ipid = 0x4242;
	s.pay_len = WHOLE_PAY;
	e->v6 = v6;
	e->whole_len = frame_build(&s, e->whole, sizeof(e->whole));
	assert_true(e->whole_len > 0);
}

/*
 * Feed the fragment of the test datagram holding payload bytes [@off,
 * @off + @n) (payload: what follows the IP header), more to come if
 * @mf; IPv4 with DF if @df and TOS/traffic class ECN bits @ecn.
 */
static enum reasm_result feed(struct env *e, uint32_t off, uint32_t n, int mf,
			      int df, uint8_t ecn, uint64_t now, struct pkt **out,
			      uint32_t *ptr)
{
	uint32_t hl = e->v6 ? 40 : 20, have = (uint32_t)e->whole_len - 14 - hl;
	uint8_t b[4096 + 8], pay[4096];
	enum reasm_result res;
	struct pkt *p;
	size_t len;

	/* past the datagram's end (a fragment claiming more): zeros */
	assert_true(n <= sizeof(pay));
	memset(pay, 0, n);
	if (off < have)
		memcpy(pay, e->whole + 14 + hl + off, n < have - off ? n : have - off);

	memcpy(b, e->whole, 14);
	if (!e->v6) {
		memcpy(b + 14, e->whole + 14, 20);
		put16(b + 16, 20 + n);
		put16(b + 20, (off / 8) | (mf ? 0x2000u : 0) | (df ? 0x4000u : 0));
		b[15] = (uint8_t)((b[15] & ~3) | ecn);
		put16(b + 24, 0);
		put16(b + 24, frame_csum(b + 14, 20, 0));
		memcpy(b + 34, pay, n);
		len = 34 + n;
	} else {
		memcpy(b + 14, e->whole + 14, 40);
		b[15] = (uint8_t)((b[15] & ~0x30) | (ecn << 4));
		put16(b + 18, 8 + n);
		b[20] = 44;
		b[54] = e->whole[20];
		b[55] = 0;
		put16(b + 56, off | (mf ? 1u : 0));
		memcpy(b + 58, "\x12\x34\x56\x78", 4);
		memcpy(b + 62, pay, n);
		len = 62 + n;
	}
	p = frame_copy_pkt(&e->pool, b, len);
	assert_non_null(p);
	res = reasm_input(e->r, p, e->v6 ? 54 : 0, 6, 0, now, out, ptr);
	pkt_free(&e->pool, p);
	return res;
}

static enum reasm_result feed_simple(struct env *e, uint32_t off, uint32_t n,
				     int mf, struct pkt **out)
{
	uint32_t ptr;

	return feed(e, off, n, mf, 0, 0, NS_PER_S, out, &ptr);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	assert_int_equal(pkt_pool_init(&e->pool, 8 * REASM_QUEUES + 64), 0);
	e->r = reasm_create(&e->pool);
	assert_non_null(e->r);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;

	reasm_destroy(e->r);
	/* every buffer back: nothing leaked */
	assert_int_equal(e->pool.nfree, e->pool.count);
	pkt_pool_destroy(&e->pool);
	free(e);
	return 0;
}

/* The datagram that came out is the one that was cut, byte for byte. */
static void assert_whole(struct env *e, struct pkt *out)
{
	assert_non_null(out);
	assert_int_equal(out->len, e->whole_len);
	assert_memory_equal(out->data, e->whole, e->whole_len);
	pkt_free(&e->pool, out);
}

static void test_in_order_gives_the_datagram_back(void **state)
{
	struct env *e = *state;
	uint32_t pay = WHOLE_PAY + 8;   /* UDP header and payload */
	struct pkt *out;
	int v6;

	for (v6 = 0; v6 <= 1; v6++) {
		build_whole(e, v6);
		assert_int_equal(feed_simple(e, 0, 1480, 1, &out), REASM_HELD);
		assert_null(out);
		assert_int_equal(feed_simple(e, 1480, 1480, 1, &out), REASM_HELD);
		assert_int_equal(feed_simple(e, 2960, pay - 2960, 0, &out),
				 REASM_DONE);
		assert_whole(e, out);
		assert_int_equal(reasm_next_expiry(e->r), 0);
	}
}

static void test_any_order_with_duplicates_gives_the_datagram_back(void **state)
{
	struct env *e = *state;
	uint32_t pay = WHOLE_PAY + 8;
	struct pkt *out;
	int v6;

	for (v6 = 0; v6 <= 1; v6++) {
		build_whole(e, v6);
		/* last first, then the middle twice: the second is a
		 * duplicate inside its run, dropped alone */
		assert_int_equal(feed_simple(e, 2000, pay - 2000, 0, &out),
				 REASM_HELD);
		assert_int_equal(feed_simple(e, 1000, 1000, 1, &out), REASM_HELD);
		assert_int_equal(feed_simple(e, 1000, 1000, 1, &out), REASM_DUP);
		assert_int_equal(feed_simple(e, 1000, 504, 1, &out), REASM_DUP);
		assert_int_equal(feed_simple(e, 0, 1000, 1, &out), REASM_DONE);
		assert_whole(e, out);
	}
}

static void test_overlap_ends_the_datagram(void **state)
{
	struct env *e = *state;
	struct pkt *out;

	build_whole(e, 0);
	assert_int_equal(feed_simple(e, 0, 1480, 1, &out), REASM_HELD);
	/* begins inside what is held and goes past it */
	assert_int_equal(feed_simple(e, 1000, 1480, 1, &out), REASM_OVERLAP);
	assert_int_equal(reasm_next_expiry(e->r), 0);
	/* what comes next starts a new datagram */
	assert_int_equal(feed_simple(e, 1480, 1480, 1, &out), REASM_HELD);
	assert_int_not_equal(reasm_next_expiry(e->r), 0);
}

/* Runs that touch are not joined: a copy of two of them overlaps. */
static void test_duplicate_across_runs_is_an_overlap(void **state)
{
	struct env *e = *state;
	struct pkt *out;

	build_whole(e, 1);
	assert_int_equal(feed_simple(e, 0, 800, 1, &out), REASM_HELD);
	assert_int_equal(feed_simple(e, 1600, 800, 1, &out), REASM_HELD);
	/* into the gap: a run of its own between the two */
	assert_int_equal(feed_simple(e, 800, 800, 1, &out), REASM_HELD);
	assert_int_equal(feed_simple(e, 400, 800, 1, &out), REASM_OVERLAP);
	/* whereas one appended at the end joins the last run */
	assert_int_equal(feed_simple(e, 0, 800, 1, &out), REASM_HELD);
	assert_int_equal(feed_simple(e, 800, 800, 1, &out), REASM_HELD);
	assert_int_equal(feed_simple(e, 400, 800, 1, &out), REASM_DUP);
}

static void test_fragments_that_disagree_end_the_datagram(void **state)
{
	struct env *e = *state;
	uint32_t pay = WHOLE_PAY + 8;
	struct pkt *out;

	build_whole(e, 0);
	/* a last fragment ending before bytes already held */
	assert_int_equal(feed_simple(e, 1480, 1480, 1, &out), REASM_HELD);
	assert_int_equal(feed_simple(e, 0, 1480, 0, &out), REASM_BROKEN);
	/* two last fragments with different ends */
	assert_int_equal(feed_simple(e, 2960, pay - 2960, 0, &out), REASM_HELD);
	assert_int_equal(feed_simple(e, 2960, 8, 0, &out), REASM_BROKEN);
	/* a fragment past a known end */
	assert_int_equal(feed_simple(e, 1480, 1480, 0, &out), REASM_HELD);
	assert_int_equal(feed_simple(e, 2960, 8, 1, &out), REASM_BROKEN);
	/* IPv4: an unfinished fragment under 8 bytes is cut to nothing */
	assert_int_equal(feed_simple(e, 0, 7, 1, &out), REASM_BROKEN);
	assert_int_equal(reasm_next_expiry(e->r), 0);
}

static void test_ipv6_parameter_problems(void **state)
{
	struct env *e = *state;
	uint32_t ptr = 0;
	struct pkt *out;

	build_whole(e, 1);
	/* more to come, but not a multiple of 8: the payload length */
	assert_int_equal(feed(e, 0, 1001, 1, 0, 0, NS_PER_S, &out, &ptr),
			 REASM_PARAMPROB);
	assert_int_equal(ptr, 4);
	/* past 65535: the fragment offset field */
	assert_int_equal(feed(e, 65528, 16, 0, 0, 0, NS_PER_S, &out, &ptr),
			 REASM_PARAMPROB);
	assert_int_equal(ptr, 42);
	assert_int_equal(reasm_next_expiry(e->r), 0);
}

/* IPv4 cuts an unfinished fragment to a multiple of 8 and goes on. */
static void test_ipv4_odd_fragment_cut_to_eight(void **state)
{
	struct env *e = *state;
	uint32_t pay = WHOLE_PAY + 8;
	struct pkt *out;

	build_whole(e, 0);
	assert_int_equal(feed_simple(e, 0, 1003, 1, &out), REASM_HELD);
	assert_int_equal(feed_simple(e, 1000, pay - 1000, 0, &out), REASM_DONE);
	assert_whole(e, out);
}

static void test_ecn_merged_as_linux(void **state)
{
	struct env *e = *state;
	uint32_t pay = WHOLE_PAY + 8, ptr;
	struct pkt *out;
	int v6;

	for (v6 = 0; v6 <= 1; v6++) {
		build_whole(e, v6);
		/* ECT(0) and CE: the datagram is CE */
		assert_int_equal(feed(e, 0, 1480, 1, 0, 2, 0, &out, &ptr),
				 REASM_HELD);
		assert_int_equal(feed(e, 1480, pay - 1480, 0, 0, 3, 0, &out, &ptr),
				 REASM_DONE);
		assert_non_null(out);
		if (v6)
			assert_int_equal((out->data[15] >> 4) & 3, 3);
		else
			assert_int_equal(out->data[15] & 3, 3);
		pkt_free(&e->pool, out);
		/* not ECN-capable and ECT(1): refused */
		assert_int_equal(feed(e, 0, 1480, 1, 0, 0, 0, &out, &ptr),
				 REASM_HELD);
		assert_int_equal(feed(e, 1480, pay - 1480, 0, 0, 1, 0, &out, &ptr),
				 REASM_FAILED);
		assert_null(out);
	}
}

static void test_df_kept_only_when_the_largest_had_it(void **state)
{
	struct env *e = *state;
	uint32_t pay = WHOLE_PAY + 8, ptr;
	struct pkt *out;

	build_whole(e, 0);
	assert_int_equal(feed(e, 0, 1480, 1, 1, 0, 0, &out, &ptr), REASM_HELD);
	assert_int_equal(feed(e, 1480, pay - 1480, 0, 1, 0, 0, &out, &ptr),
			 REASM_DONE);
	assert_int_equal(rd16(out->data + 20), 0x4000);
	/* and the header checksum follows */
	assert_int_equal(frame_csum(out->data + 14, 20, 0), 0);
	pkt_free(&e->pool, out);
	/* the large one without DF, the small one with it */
	assert_int_equal(feed(e, 0, 2000, 1, 0, 0, 0, &out, &ptr), REASM_HELD);
	assert_int_equal(feed(e, 2000, pay - 2000, 0, 1, 0, 0, &out, &ptr),
			 REASM_DONE);
	assert_int_equal(rd16(out->data + 20), 0);
	pkt_free(&e->pool, out);
}

static void test_expiry_gives_back_the_first_fragment(void **state)
{
	struct env *e = *state;
	struct pkt *out, *head;
	unsigned int port = 9;
	int v6;

	reasm_set_timeouts(e->r, 2 * NS_PER_S, 3 * NS_PER_S);
	for (v6 = 0; v6 <= 1; v6++) {
		uint32_t hl = v6 ? 62 : 34;

		build_whole(e, v6);
		assert_int_equal(feed_simple(e, 1480, 1480, 1, &out), REASM_HELD);
		assert_int_equal(feed_simple(e, 0, 1480, 1, &out), REASM_HELD);
		/* the time runs from the first fragment to come, which
		 * came at 1 s */
		assert_int_equal(reasm_next_expiry(e->r),
				 (v6 ? 4 : 3) * NS_PER_S);
		assert_int_equal(reasm_expire(e->r, (v6 ? 4 : 3) * NS_PER_S - 1,
					      &head, &port), 0);
		assert_int_equal(reasm_expire(e->r, (v6 ? 4 : 3) * NS_PER_S,
					      &head, &port), 1);
		assert_int_equal(port, 0);
		/* the first fragment exactly as it came */
		assert_non_null(head);
		assert_int_equal(head->len, hl + 1480);
		assert_memory_equal(head->data, e->whole, 14);
		assert_int_equal(rd16(head->data + (v6 ? 56 : 20)),
				 v6 ? 1 : 0x2000);
		assert_memory_equal(head->data + hl, e->whole + (v6 ? 54 : 34),
				    1480);
		pkt_free(&e->pool, head);
		assert_int_equal(reasm_expire(e->r, 10 * NS_PER_S, &head, &port),
				 0);
		/* without its first fragment: no quote */
		assert_int_equal(feed_simple(e, 1480, 1480, 1, &out), REASM_HELD);
		assert_int_equal(reasm_expire(e->r, 10 * NS_PER_S, &head, &port),
				 1);
		assert_null(head);
	}
}

/* An IPv4 first fragment cut to a multiple of 8 comes back cut, its
 * header as it came. */
static void test_expiry_gives_back_a_cut_fragment_cut(void **state)
{
	struct env *e = *state;
	struct pkt *out, *head;
	unsigned int port;

	build_whole(e, 0);
	assert_int_equal(feed_simple(e, 0, 1003, 1, &out), REASM_HELD);
	assert_int_equal(reasm_expire(e->r, 100 * NS_PER_S, &head, &port), 1);
	assert_non_null(head);
	assert_int_equal(head->len, 34 + 1000);
	assert_int_equal(head->l3_off, 14);
	assert_int_equal(rd16(head->data + 16), 20 + 1003);
	assert_int_equal(frame_csum(head->data + 14, 20, 0), 0);
	assert_memory_equal(head->data + 34, e->whole + 34, 1000);
	pkt_free(&e->pool, head);
}

/* 64 fragments of other datagrams from the same source between two of
 * one datagram: it starts again, what it held dropped (Linux's
 * ipfrag_max_dist); 63 do not. */
static void test_ipv4_overtaken_64_times_starts_again(void **state)
{
	struct env *e = *state;
	uint32_t pay = WHOLE_PAY + 8;
	struct pkt *out;
	int round, i;

	build_whole(e, 0);
	for (round = 63; round <= 64; round++) {
		assert_int_equal(feed_simple(e, 0, 1480, 1, &out), REASM_HELD);
		put16(e->whole + 18, 0x1111);   /* another datagram */
		for (i = 0; i < round; i++)
			feed_simple(e, 1480, 1480, 1, &out);
		put16(e->whole + 18, 0x4242);
		if (round == 63) {
			assert_int_equal(feed_simple(e, 1480, pay - 1480, 0, &out),
					 REASM_DONE);
			assert_whole(e, out);
			continue;
		}
		/* the last fragment finds nothing held but itself... */
		assert_int_equal(feed_simple(e, 1480, pay - 1480, 0, &out),
				 REASM_HELD);
		/* ...and the first, sent again, completes the datagram */
		assert_int_equal(feed_simple(e, 0, 1480, 1, &out), REASM_DONE);
		assert_whole(e, out);
	}
	/* IPv6 has no such limit */
	build_whole(e, 1);
	assert_int_equal(feed_simple(e, 0, 1448, 1, &out), REASM_HELD);
	e->whole[14 + 39] ^= 1;         /* the same source, elsewhere */
	for (i = 0; i < 100; i++)
		feed_simple(e, 1448, 1448, 1, &out);
	e->whole[14 + 39] ^= 1;
	assert_int_equal(feed_simple(e, 1448, pay - 1448, 0, &out), REASM_DONE);
	assert_whole(e, out);
}

static void test_queues_bounded(void **state)
{
	struct env *e = *state;
	struct pkt *out;
	int i;

	build_whole(e, 0);
	for (i = 0; i < REASM_QUEUES; i++) {
		put16(e->whole + 18, (uint32_t)i);      /* a datagram per ID */
		assert_int_equal(feed_simple(e, 0, 1480, 1, &out), REASM_HELD);
	}
	put16(e->whole + 18, 0xffff);
	assert_int_equal(feed_simple(e, 0, 1480, 1, &out), REASM_NO_ROOM);
	/* one held datagram goes on as before */
	put16(e->whole + 18, 3);
	assert_int_equal(feed_simple(e, 1480, 8, 0, &out), REASM_DONE);
	assert_non_null(out);
	assert_int_equal(out->len, 34 + 1488);
	pkt_free(&e->pool, out);
}

/* A small pool: reassembly holds no more than an eighth of it. */
static void test_queues_bounded_by_the_pool(void **state)
{
	struct pkt_pool pool;
	struct reasm *r;
	struct pkt *p, *out;
	uint32_t ptr;
	uint8_t b[100];
	int i;

	(void)state;
	assert_int_equal(pkt_pool_init(&pool, 80), 0);
	r = reasm_create(&pool);
	assert_non_null(r);
	memset(b, 0, sizeof(b));
	memcpy(b + 12, "\x08\x00\x45\x00\x00\x30", 6);   /* 48 bytes */
	b[20] = 0x20;                   /* MF, offset 0 */
	b[22] = 64;
	b[23] = 17;
	b[26] = 10;
	b[30] = 10;
	for (i = 0; i < 11; i++) {
		b[19] = (uint8_t)i;     /* a datagram per ID */
		put16(b + 24, 0);
		put16(b + 24, frame_csum(b + 14, 20, 0));
		p = frame_copy_pkt(&pool, b, 14 + 48);
		assert_non_null(p);
		assert_int_equal(reasm_input(r, p, 0, 0, 0, 0, &out, &ptr),
				 i < 10 ? REASM_HELD : REASM_NO_ROOM);
		pkt_free(&pool, p);
	}
	assert_int_equal(pool.nfree, 70);
	reasm_destroy(r);
	assert_int_equal(pool.nfree, 80);
	pkt_pool_destroy(&pool);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_in_order_gives_the_datagram_back),
		T(test_any_order_with_duplicates_gives_the_datagram_back),
		T(test_overlap_ends_the_datagram),
		T(test_duplicate_across_runs_is_an_overlap),
		T(test_fragments_that_disagree_end_the_datagram),
		T(test_ipv6_parameter_problems),
		T(test_ipv4_odd_fragment_cut_to_eight),
		T(test_ecn_merged_as_linux),
		T(test_df_kept_only_when_the_largest_had_it),
		T(test_expiry_gives_back_the_first_fragment),
		T(test_expiry_gives_back_a_cut_fragment_cut),
		T(test_ipv4_overtaken_64_times_starts_again),
		T(test_queues_bounded),
		T(test_queues_bounded_by_the_pool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
