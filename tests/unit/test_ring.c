/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The receive rings of packet ports, walked in memory laid out as the
 * kernel lays it out: which frames come back, where their bytes are, and
 * when each slot or block goes back to the kernel (its status word set
 * to 0).  port_packet.c is compiled in here, its netlink calls stubbed:
 * the lab tests run the same code against the kernel, this one reaches
 * the orders of events a lab run cannot choose (a read that stops in the
 * middle of a block, a packet held past its batch, frees in any order).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/port_packet.c"

int nl_link_get(const char *name, struct nl_link *l)
{
	(void)name;
	(void)l;
	return -ENODEV;
}

int nl_features_get(const char *ifname, const char *const *names,
		    unsigned int n, int *on)
{
	(void)ifname;
	(void)names;
	(void)n;
	(void)on;
	return -ENODEV;
}

int nl_features_set(const char *ifname, const char *const *names,
		    const int *on, unsigned int n)
{
	(void)ifname;
	(void)names;
	(void)on;
	(void)n;
	return -ENODEV;
}

#define BLOCK 8192u
#define NBLOCKS 3u
#define SLOTS 4u
#define BATCH 8u
#define MAC3 92u                        /* where this kernel puts the frame */
#define MAC2 76u

static uint8_t mem[NBLOCKS * BLOCK] __attribute__((aligned(4096)));
static struct pkt_lend lend[NBLOCKS > SLOTS ? NBLOCKS : SLOTS];
static struct pkt_loan lent[BATCH];
static struct pkt_pool pool;
static struct stats_port st;
static struct port pt;

static int setup(void **state)
{
	(void)state;
	return pkt_pool_init(&pool, 32) ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	pkt_pool_destroy(&pool);
	return 0;
}

/* A port reading a ring of @n units of @size bytes at mem. */
static void port_init(int blocks, uint32_t size, uint32_t n)
{
	uint32_t i;

	assert_true(n <= sizeof(lend) / sizeof(lend[0]));
	assert_true((size_t)size * n <= sizeof(mem));
	memset(mem, 0, sizeof(mem));
	memset(&pt, 0, sizeof(pt));
	memset(&st, 0, sizeof(st));
	pt.fd = -1;
	pt.pool = &pool;
	pt.stats = &st;
	pt.batch = BATCH;
	pt.u.packet.ring = mem;
	pt.u.packet.ring_len = (size_t)size * n;
	pt.u.packet.ring_blocks = blocks;
	pt.u.packet.unit_size = size;
	pt.u.packet.unit_nr = n;
	pt.u.packet.lend = lend;
	pt.u.packet.lent = lent;
	for (i = 0; i < n; i++) {
		uint8_t *u = mem + (size_t)i * size;

		lend[i].refs = 0;
		lend[i].status = blocks ?
			&((struct tpacket_block_desc *)(void *)u)->hdr.bh1.block_status :
			&((struct tpacket2_hdr *)(void *)u)->tp_status;
	}
}

/* Frame number @k: @len bytes, each (k + offset) & 0xff. */
static void fill(uint8_t *at, uint32_t len, unsigned int k)
{
	uint32_t i;

	for (i = 0; i < len; i++)
		at[i] = (uint8_t)(k + i);
}

static void assert_frame(const struct pkt *p, uint32_t len, unsigned int k)
{
	uint32_t i;

	assert_int_equal(p->len, len);
	for (i = 0; i < len; i++)
		if (p->data[i] != (uint8_t)(k + i))
			fail_msg("frame %u: byte %u is %u", k, i, p->data[i]);
}

/* Hand block @b to the reader with @n frames of @len bytes, numbered
 * from @k; frame @vlan_at (or none, -1) carries tag 0x0123. */
static void block_fill(unsigned int b, unsigned int n, uint32_t len,
		       unsigned int k, int vlan_at)
{
	uint8_t *base = mem + (size_t)b * BLOCK;
	struct tpacket_block_desc *bd = (void *)base;
	uint32_t off = 48, step = (MAC3 + len + 7) & ~7u;
	unsigned int i;

	assert_true(off + n * step <= BLOCK);
	bd->hdr.bh1.num_pkts = n;
	bd->hdr.bh1.offset_to_first_pkt = off;
	for (i = 0; i < n; i++, off += step) {
		struct tpacket3_hdr *h = (void *)(base + off);

		memset(h, 0, sizeof(*h));
		h->tp_next_offset = i + 1 < n ? step : 0;
		h->tp_snaplen = h->tp_len = len;
		h->tp_mac = MAC3;
		h->tp_status = TP_STATUS_USER;
		if ((int)i == vlan_at) {
			h->tp_status |= TP_STATUS_VLAN_VALID;
			h->hv1.tp_vlan_tci = 0x0123;
		}
		memset(base + off + MAC3 - VNET_HDR_LEN_LEGACY, 0,
		       VNET_HDR_LEN_LEGACY);
		fill(base + off + MAC3, len, k + i);
	}
	__atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_USER,
			 __ATOMIC_RELEASE);
}

static uint32_t block_status(unsigned int b)
{
	return ((struct tpacket_block_desc *)(void *)(mem + (size_t)b * BLOCK))
		->hdr.bh1.block_status;
}

static void free_all(struct pkt **p, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		pkt_free(&pool, p[i]);
}

/*
 * Reads that stop inside a block: the block stays the reader's, and goes
 * back only once the reader is past it and its last packet is freed.
 */
static void test_blocks_read_across_batches(void **state)
{
	struct pkt *p[BATCH];
	unsigned int i;
	int n;

	(void)state;
	port_init(1, BLOCK, NBLOCKS);
	block_fill(0, 5, 300, 0, -1);
	block_fill(1, 2, 300, 5, -1);

	n = packet_rx(&pt, p, 3);
	assert_int_equal(n, 3);
	for (i = 0; i < 3; i++) {
		assert_frame(p[i], 300, i);
		/* forwarded where they lie */
		assert_true(p[i]->data > mem && p[i]->data < mem + BLOCK);
	}
	free_all(p, 3);
	packet_rx_done(&pt);
	assert_int_equal(block_status(0), TP_STATUS_USER);  /* the reader's */
	assert_int_equal(st.rx_held_copy, 0);

	n = packet_rx(&pt, p, 3);
	assert_int_equal(n, 3);
	assert_frame(p[0], 300, 3);
	assert_frame(p[1], 300, 4);
	assert_frame(p[2], 300, 5);
	/* the reader is past block 0, its frames 3 and 4 still out */
	assert_int_equal(block_status(0), TP_STATUS_USER);
	pkt_free(&pool, p[1]);
	assert_int_equal(block_status(0), TP_STATUS_USER);
	pkt_free(&pool, p[0]);
	assert_int_equal(block_status(0), 0);
	pkt_free(&pool, p[2]);
	packet_rx_done(&pt);
	assert_int_equal(block_status(1), TP_STATUS_USER);

	/* the last frame of block 1; block 2 is still the kernel's */
	n = packet_rx(&pt, p, BATCH);
	assert_int_equal(n, 1);
	assert_frame(p[0], 300, 6);
	assert_int_equal(block_status(1), TP_STATUS_USER);
	pkt_free(&pool, p[0]);
	assert_int_equal(block_status(1), 0);
	packet_rx_done(&pt);
	assert_int_equal(packet_rx(&pt, p, BATCH), 0);
	assert_int_equal(pool.nfree, pool.count);

	/* the ring wraps: block 2, then block 0 again */
	block_fill(2, 1, 60, 7, -1);
	block_fill(0, 1, 60, 8, -1);
	n = packet_rx(&pt, p, BATCH);
	assert_int_equal(n, 2);
	assert_frame(p[0], 60, 7);
	assert_frame(p[1], 60, 8);
	free_all(p, 2);
	packet_rx_done(&pt);
	assert_int_equal(block_status(2), 0);
	assert_int_equal(block_status(0), 0);
	assert_int_equal(st.rx_pkts, 0);        /* nothing dropped */
}

/*
 * A packet still held when its batch is done is copied out; the others
 * are not, and the block goes back once the reader has left it.
 */
static void test_blocks_held_packet_is_copied_out(void **state)
{
	struct pkt *p[BATCH];
	int n;

	(void)state;
	port_init(1, BLOCK, NBLOCKS);
	block_fill(0, 3, 1000, 20, -1);
	n = packet_rx(&pt, p, BATCH);
	assert_int_equal(n, 3);
	assert_int_equal(block_status(0), TP_STATUS_USER);
	pkt_free(&pool, p[0]);
	pkt_free(&pool, p[2]);
	/* p[1] is held (GRO under --gro-hold-us, a neighbour to resolve) */
	packet_rx_done(&pt);
	assert_int_equal(st.rx_held_copy, 1);
	assert_null(p[1]->borrow);
	assert_true(p[1]->data >= p[1]->buf &&
		    p[1]->data < p[1]->buf + PKT_BUF_SIZE);
	assert_int_equal(block_status(0), 0);
	/* the kernel may write the block again: the copy is the packet's */
	memset(mem, 0x77, BLOCK);
	assert_frame(p[1], 1000, 21);
	pkt_free(&pool, p[1]);
	assert_int_equal(pool.nfree, pool.count);
}

/* A tagged frame is copied with its tag put back after the MACs. */
static void test_blocks_vlan_tag_put_back(void **state)
{
	struct pkt *p[BATCH];
	uint8_t want[200];
	int n;

	(void)state;
	port_init(1, BLOCK, NBLOCKS);
	block_fill(0, 2, 200, 40, 1);
	n = packet_rx(&pt, p, BATCH);
	assert_int_equal(n, 2);
	assert_frame(p[0], 200, 40);
	assert_non_null(p[0]->borrow);
	assert_null(p[1]->borrow);
	fill(want, sizeof(want), 41);
	assert_int_equal(p[1]->len, 204);
	assert_memory_equal(p[1]->data, want, 12);
	assert_int_equal(p[1]->data[12], 0x81);
	assert_int_equal(p[1]->data[13], 0x00);
	assert_int_equal(p[1]->data[14], 0x01);
	assert_int_equal(p[1]->data[15], 0x23);
	assert_memory_equal(p[1]->data + 16, want + 12, 188);
	free_all(p, 2);
	packet_rx_done(&pt);
	assert_int_equal(block_status(0), 0);
}

/* Slots: each goes back when its packet is freed, at once when copied. */
static void test_slots_go_back_one_by_one(void **state)
{
	struct pkt *p[BATCH];
	struct tpacket2_hdr *h;
	unsigned int i;
	int n;

	(void)state;
	port_init(0, 2048, SLOTS);
	for (i = 0; i < 3; i++) {
		h = (void *)(mem + (size_t)i * 2048);
		h->tp_snaplen = h->tp_len = 500;
		h->tp_mac = MAC2;
		h->tp_status = TP_STATUS_USER |
			       (i == 2 ? TP_STATUS_VLAN_VALID : 0);
		h->tp_vlan_tci = 7;
		fill((uint8_t *)h + MAC2, 500, 60 + i);
	}
	n = packet_rx(&pt, p, BATCH);
	assert_int_equal(n, 3);
	assert_frame(p[0], 500, 60);
	assert_frame(p[1], 500, 61);
	/* the tagged one was copied, its slot already the kernel's */
	assert_int_equal(p[2]->len, 504);
	assert_int_equal(*lend[2].status, 0);
	assert_int_equal(*lend[0].status, TP_STATUS_USER);
	pkt_free(&pool, p[1]);
	assert_int_equal(*lend[1].status, 0);
	assert_int_equal(*lend[0].status, TP_STATUS_USER);
	packet_rx_done(&pt);
	assert_int_equal(st.rx_held_copy, 1);
	assert_int_equal(*lend[0].status, 0);
	assert_frame(p[0], 500, 60);
	free_all(p, 1);
	pkt_free(&pool, p[2]);
	assert_int_equal(pool.nfree, pool.count);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks_read_across_batches),
		cmocka_unit_test(test_blocks_held_packet_is_copied_out),
		cmocka_unit_test(test_blocks_vlan_tag_put_back),
		cmocka_unit_test(test_slots_go_back_one_by_one),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
