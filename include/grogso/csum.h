/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * csum: the internet checksum (RFC 1071), pseudo-headers, incremental
 * update (RFC 1624) and completion of partial checksums.
 *
 * Sums are carried unfolded in 64 bits (csum_partial) and folded to 16
 * bits only at the end.  Every 16-bit checksum value in this interface is
 * the big-endian field read as a number (get_be16) and is written back with
 * put_be16; a running sum folds to such a value whatever the host order.
 */
#ifndef GROGSO_CSUM_H
#define GROGSO_CSUM_H

#include <stddef.h>
#include <stdint.h>

/*
 * Add @len bytes at @buf to the running sum @sum.  @buf may have any
 * alignment.  The bytes are summed as if they started at an even offset;
 * a caller that appends a block at an odd offset uses csum_block_add().
 */
uint64_t csum_partial(const void *buf, size_t len, uint64_t sum);

/* Reference implementation: 16 bits at a time, for the tests. */
uint64_t csum_partial_ref(const void *buf, size_t len, uint64_t sum);

/*
 * Internal, for the tests only: csum_partial through one given path,
 * whatever the length and the CPU would pick.  csum_partial_portable() is
 * the plain C path every CPU can run.  csum_partial_avx2() is the x86_64
 * AVX2 path and may be called only when csum_avx2_usable() returns 1 (the
 * build has it and the CPU and OS support it); in builds without it, it
 * is the portable path.
 */
uint64_t csum_partial_portable(const void *buf, size_t len, uint64_t sum);
uint64_t csum_partial_avx2(const void *buf, size_t len, uint64_t sum);
int csum_avx2_usable(void);

/* Fold a running sum to 16 bits (not inverted). */
static inline uint16_t csum_fold(uint64_t sum)
{
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffu) + (sum >> 16);
	sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)sum;
}

/* The checksum field value for a running sum: the inverted fold. */
static inline uint16_t csum_finish(uint64_t sum)
{
	return (uint16_t)~csum_fold(sum);
}

/* Add the sum of a block that starts at byte offset @off of the data. */
static inline uint64_t csum_block_add(uint64_t sum, uint64_t block,
				      size_t off)
{
	if (off & 1) {
		uint16_t f = csum_fold(block);
		block = (uint16_t)((f << 8) | (f >> 8));
	}
	return sum + block;
}

/*
 * Pseudo-header sums.  @saddr/@daddr point at the addresses in the packet
 * (4 or 16 bytes); @l4len is the TCP/UDP length in host order.
 */
uint64_t csum_pseudo4(const uint8_t *saddr, const uint8_t *daddr,
		      uint8_t proto, uint32_t l4len);
uint64_t csum_pseudo6(const uint8_t *saddr, const uint8_t *daddr,
		      uint8_t proto, uint32_t l4len);

/* IPv4 header checksum of @ihl_bytes at @iph (the field itself included:
 * write 0 there first when computing, or compare the result with 0 when
 * verifying). */
uint16_t csum_ip4_header(const uint8_t *iph, size_t ihl_bytes);

/*
 * RFC 1624 eqn. 3: the new checksum field after a 16-bit word of the
 * covered data changes from @old to @new (values as get_be16 reads them).
 */
static inline uint16_t csum_replace16(uint16_t check, uint16_t old,
				      uint16_t new_)
{
	uint32_t s = (uint16_t)~check;
	s += (uint16_t)~old;
	s += new_;
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/*
 * Complete a partial (NEEDS_CSUM) checksum in place: the 16-bit field at
 * @frame + @start + @offset holds the folded pseudo-header sum; sum
 * everything from @start to @len and store the inverted result.  When
 * @udp is set a result of 0 is stored as 0xffff.  Returns 0, or -EINVAL
 * when the offsets do not fit @len.
 */
int csum_complete(uint8_t *frame, size_t len, size_t start, size_t offset,
		  int udp);

/* Read and write a big-endian 16/32-bit field anywhere. */
static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

static inline void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
