/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fwd: the forwarding step between GRO and egress.  Bridge mode sends a
 * frame out of the other port unchanged; route mode routes IPv4/IPv6
 * between the LAN and WAN ports with ARP, NDP and ICMP, once per aggregate.
 *
 * Pure: packets in, packets out through the tx callback, time passed in.
 */
#ifndef GROGSO_FWD_H
#define GROGSO_FWD_H

#include <stdint.h>

#include "grogso/config.h"
#include "grogso/gso.h"
#include "grogso/pkt.h"
#include "grogso/stats.h"

#define FWD_PORT_LAN 0
#define FWD_PORT_WAN 1
#define FWD_NPORTS 2

/*
 * Hand @p to egress port @port.  The callee owns @p (writes it, segments
 * it, queues it or drops and frees it).
 */
typedef void (*fwd_tx_fn)(void *ctx, unsigned int port, struct pkt *p);

/*
 * Told about every aggregate fwd segments itself (to fragment it), so the
 * aggregate log can write its "gso" record as the egress does.
 */
typedef void (*fwd_gso_log_fn)(void *ctx, unsigned int port,
			       const struct pkt *p, const struct gso_result *r);

struct fwd_port_info {
	uint8_t mac[6];
	uint32_t mtu;                   /* L3 MTU of the egress link */
};

struct fwd;

/*
 * Make the forwarder for @c (mode, addresses, routes).  @ports gives each
 * port's MAC and MTU; @stats the per-port counters where drops are
 * counted (the ingress port's).  Returns NULL on a bad configuration
 * (after log_err naming it) or when memory runs out.
 */
struct fwd *fwd_create(const struct config *c,
		       const struct fwd_port_info ports[FWD_NPORTS],
		       struct pkt_pool *pool, struct stats_port *stats[FWD_NPORTS],
		       fwd_tx_fn tx, void *ctx);
void fwd_destroy(struct fwd *f);

/* Register @fn (called with the tx callback's ctx); NULL turns it off. */
void fwd_set_gso_log(struct fwd *f, fwd_gso_log_fn fn);

/* Update a port's MTU or MAC after a netlink event. */
void fwd_set_port(struct fwd *f, unsigned int port,
		  const struct fwd_port_info *info);

/*
 * The wall clock, as its offset from the time fwd_input and fwd_timer
 * are given (CLOCK_REALTIME less CLOCK_MONOTONIC): route mode writes it
 * into IPv4 timestamp options, as Linux does.  0 until set.
 */
void fwd_set_wallclock(struct fwd *f, int64_t realtime_offset_ns);

/*
 * Forward @p (parsed, possibly an aggregate) that arrived on @in_port.
 * @p is consumed: sent through tx, queued while its next hop resolves,
 * answered (ARP, NDP, ping) or dropped and counted with a reason.
 */
void fwd_input(struct fwd *f, unsigned int in_port, struct pkt *p,
	       uint64_t now_ns);

/*
 * Timers: neighbour retries and expiry.  Returns the time of the next
 * event, or 0 when nothing is pending.
 */
uint64_t fwd_timer(struct fwd *f, uint64_t now_ns);

/* ---- inspection (tests, stats dump, the loop's timer) ---- */

enum fwd_neigh_state {
	FWD_NEIGH_NONE = 0,
	FWD_NEIGH_INCOMPLETE,           /* resolving: packets held, solicitations sent */
	FWD_NEIGH_REACHABLE,            /* confirmed in the last 30 s */
	FWD_NEIGH_STALE,                /* known, unconfirmed: used, probed on use */
	FWD_NEIGH_PROBE,                /* stale and being checked by unicast */
	FWD_NEIGH_DELAY,                /* stale, used: checked 5 s later */
};

/* What fwd originated, summed over the ports (each port's are in its
 * struct stats_port). */
struct fwd_counters {
	uint64_t icmp_sent;             /* ICMP/ICMPv6 errors sent */
	uint64_t icmp_limited_host;     /* errors a host's limit held back */
	uint64_t icmp_limited_global;   /* errors the limit over all held back */
	uint64_t solicits;              /* ARP requests and NS sent */
	uint64_t frags;                 /* IPv4 fragments sent */
	uint64_t gso_frag;              /* DF-clear IPv4 aggregates whose segments
					 * exceed the egress MTU: segmented here,
					 * then fragmented (ip_finish_output_gso) */
	uint64_t gso_frag_segs;         /* segments those gave */
};

/*
 * Earliest pending timer deadline, or 0.  Cheap: call it after fwd_input
 * to (re)arm the timer; it may be earlier than needed, never later.
 */
uint64_t fwd_next_deadline(const struct fwd *f);

void fwd_get_counters(const struct fwd *f, struct fwd_counters *out);

/*
 * State of neighbour @addr (@family AF_INET/AF_INET6) on @port as of
 * @now_ns, with its MAC copied to @mac (may be NULL) when there is an
 * entry.  FWD_NEIGH_NONE when there is none.
 */
enum fwd_neigh_state fwd_neigh_get(const struct fwd *f, unsigned int port,
				   int family, const uint8_t *addr,
				   uint8_t mac[6], uint64_t now_ns);

#endif
