/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * frames: a small frame builder for the tests and the benchmark.  It
 * computes its checksums with its own plain code, independent of csum.c.
 */
#ifndef GROGSO_TEST_FRAMES_H
#define GROGSO_TEST_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "grogso/pkt.h"

struct frame_spec {
	int v6;                         /* IPv6 instead of IPv4 */
	uint8_t proto;                  /* 6 or 17 */
	uint8_t smac[6], dmac[6];
	uint8_t src[16], dst[16];       /* first 4 bytes for IPv4 */
	uint16_t sport, dport;
	int vlan;                       /* add an 802.1Q tag */
	uint16_t vlan_tci;
	/* IPv4 */
	uint16_t ipid;
	int df;
	uint8_t ttl;                    /* also the IPv6 hop limit */
	uint8_t tos;                    /* also the IPv6 traffic class */
	uint16_t frag;                  /* raw MF|offset bits (no DF) */
	const uint8_t *ip_opts;         /* IPv4 options, multiple of 4 */
	uint8_t ip_opts_len;
	/* IPv6 */
	uint32_t flowlabel;
	const uint8_t *ext;             /* one extension header, e.g. DSTOPTS */
	uint8_t ext_len;                /* multiple of 8 */
	uint8_t ext_type;               /* 60 DSTOPTS, 43 routing, 44 fragment, 0 HBH */
	/* TCP */
	uint32_t seq, ack;
	uint8_t tcp_flags;
	uint16_t win;
	const uint8_t *tcp_opts;        /* multiple of 4 */
	uint8_t tcp_opts_len;
	/* payload: byte i is frame_pay_byte(pay_stream_off + i, pay_seed) */
	uint32_t pay_len;
	uint32_t pay_stream_off;
	uint8_t pay_seed;
	/* damage */
	int bad_l4_csum;                /* flip the L4 checksum */
	int zero_udp_csum;              /* UDP checksum 0 (IPv4) */
	int partial_l4_csum;            /* pseudo-header sum only, as with offload */
	uint32_t trailer;               /* bytes of padding after the IP datagram */
};

static inline uint8_t frame_pay_byte(uint32_t off, uint8_t seed)
{
	return (uint8_t)(off * 7u + seed + (off >> 8));
}

/* Defaults: TCP over IPv4 198.19.1.2:40000 -> 198.18.1.2:5201, DF, TTL 64,
 * ACK, window 512, seq 1000, ack 1, 100 bytes of payload. */
void frame_spec_init(struct frame_spec *s, int v6, uint8_t proto);

/* Build the frame into @out; returns its length, or 0 if @cap is too small. */
size_t frame_build(const struct frame_spec *s, uint8_t *out, size_t cap);

/* Allocate from @pool, build, pkt_parse; NULL if the pool is empty or the
 * parse fails. */
struct pkt *frame_pkt(struct pkt_pool *pool, const struct frame_spec *s);

/* Copy the @len bytes of frame @b into a buffer from @pool and pkt_parse
 * it; NULL if the pool is empty, the frame too long or the parse fails. */
struct pkt *frame_copy_pkt(struct pkt_pool *pool, const uint8_t *b,
			   size_t len);

/* A plain RFC 1071 checksum, folded and inverted. */
uint16_t frame_csum(const uint8_t *b, size_t len, uint32_t init);

#endif
