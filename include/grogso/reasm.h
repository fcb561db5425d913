/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * reasm: reassembly of IPv4 and IPv6 datagrams addressed to grogso, by
 * the rules of Linux's local delivery (ip_defrag, ipv6_frag_rcv and the
 * queue they share, inet_frag_queue_insert).
 *
 * A datagram in pieces is a queue, keyed as Linux keys it: IPv4 by
 * source, destination, ID and protocol; IPv6 by source, destination and
 * ID, and the port too when the destination is link-local or multicast.
 * Each queue holds one pool buffer, into which every fragment's payload
 * is copied at its offset, and the headers of the first fragment; the
 * fragments themselves go back to the caller at once.  What Linux
 * checks, reasm checks in the same order, so the same fragments are
 * kept, refused as duplicates, or end their whole datagram:
 *
 *  - a last fragment that ends before bytes already held, or elsewhere
 *    than an earlier last fragment said; a fragment past a known end;
 *    a fragment of no bytes (an IPv4 fragment with more to come is cut
 *    to a multiple of 8 first, an IPv6 one must be one);
 *  - a fragment that overlaps what is held (RFC 5722, applied to IPv4
 *    too), unless it lies inside one "run" of fragments that arrived
 *    back to back, which makes it a duplicate, dropped on its own.
 *
 * An IPv4 datagram that 64 fragments of other datagrams from its source
 * overtook between two of its own starts again, what it held dropped.
 *
 * A complete datagram gets the first fragment's headers with its
 * length, the ECN bits of all its fragments (a mix of ECN-capable and
 * not is refused) and, IPv4, DF when the largest fragment had it; IPv6
 * loses its fragment header.  A queue lives for a fixed time from its
 * first fragment (Linux: 30 s for IPv4, 60 s for IPv6); when it
 * expires, reasm gives back the first fragment, if it came, for the
 * "reassembly time exceeded" error.
 *
 * Pure: no I/O, time passed in.
 */
#ifndef GROGSO_REASM_H
#define GROGSO_REASM_H

#include <stdint.h>

#include "grogso/pkt.h"

#define REASM_QUEUES 64                 /* datagrams in pieces at once (and no
					 * more than an eighth of the pool) */
#define REASM_RUNS 256                  /* gaps a datagram may have */
#define REASM_HDR_MAX 512               /* L2 + IP headers of a first fragment */
#define REASM_TIMEOUT4_NS 30000000000ull /* net.ipv4.ipfrag_time */
#define REASM_TIMEOUT6_NS 60000000000ull /* net.ipv6.ip6frag_time */
#define REASM_MAX_DIST 64               /* net.ipv4.ipfrag_max_dist */

enum reasm_result {
	REASM_HELD = 0,                 /* kept; the datagram is not whole yet */
	REASM_DONE,                     /* *out is the whole datagram */
	REASM_DUP,                      /* bytes already held: dropped alone */
	REASM_BROKEN,                   /* does not fit the others: the datagram
					 * is dropped (queue and all) */
	REASM_OVERLAP,                  /* overlaps what is held: as BROKEN */
	REASM_FAILED,                   /* whole but refused: too long for its
					 * length field, or an ECN mix */
	REASM_NO_ROOM,                  /* no queue, buffer, run or header room */
	REASM_PARAMPROB,                /* IPv6: answer with a parameter problem
					 * pointing at *pointer */
};

struct reasm;

/* A reassembler taking buffers from @pool.  NULL when memory runs out. */
struct reasm *reasm_create(struct pkt_pool *pool);

/* Give every held buffer back to the pool and free @r. */
void reasm_destroy(struct reasm *r);

/* How long a datagram may take to arrive whole, per family. */
void reasm_set_timeouts(struct reasm *r, uint64_t v4_ns, uint64_t v6_ns);

/*
 * Take in fragment @p (parsed; IPv4 with MF or an offset, or IPv6 whose
 * fragment header is at @frag_off from p->data, named by the byte at
 * @nh_off from the IPv6 header) that arrived on @port.  @p's bytes are
 * copied; it stays the caller's.  On REASM_DONE, *out is a new pool
 * buffer with the whole datagram behind the first fragment's Ethernet
 * header, parsed, with the options state (opt_*) the first fragment
 * had when it came, as errors about it echo them: the caller's to
 * free.  On
 * REASM_PARAMPROB, *pointer is the offset from the IPv6 header that
 * Linux's parameter problem names.
 */
enum reasm_result reasm_input(struct reasm *r, const struct pkt *p,
			      uint32_t frag_off, uint32_t nh_off,
			      unsigned int port, uint64_t now,
			      struct pkt **out, uint32_t *pointer);

/*
 * End one datagram whose time is up at @now.  Returns 0 when none is
 * due, else 1 with *port the port of its last fragment and *head the
 * first fragment as it arrived (a new pool buffer, parsed and with its
 * options state, as *out above; NULL when the first fragment never came
 * or no buffer was free) for the caller to quote and free.
 */
int reasm_expire(struct reasm *r, uint64_t now, struct pkt **head,
		 unsigned int *port);

/* When the next datagram's time is up, or 0 when none is held. */
uint64_t reasm_next_expiry(const struct reasm *r);

#endif
