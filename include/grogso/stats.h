/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stats: the reason lists (drop, pass, flush) and the per-port counters.
 *
 * Each list is declared once here; the enum, the counter arrays and the
 * names printed in the summary, the JSON stats and the aggregate log all
 * come from it.
 */
#ifndef GROGSO_STATS_H
#define GROGSO_STATS_H

#include <stdint.h>
#include <stdio.h>

/*
 * Drops: the packet is not forwarded.  X(enum suffix, "name")
 */
#define STATS_DROP_LIST(X)                                              \
	X(RUNT, "runt")                 /* shorter than an Ethernet header */ \
	X(VLAN_TRUNC, "vlan-truncated")                                 \
	X(IP_TRUNC, "ip-truncated")     /* IP header past the frame */  \
	X(IP_VERSION, "ip-version")                                     \
	X(IP_IHL, "ip-ihl")             /* IPv4 IHL < 5 */               \
	X(IP_LEN, "ip-len")             /* IP length past the frame or < header */ \
	X(IP_CSUM, "ip-csum")           /* bad IPv4 header checksum */   \
	X(VNET_SHORT, "vnet-short")     /* frame shorter than the vnet header */ \
	X(VNET_GSO_TYPE, "vnet-gso-type") /* unknown type or tunnel bits */ \
	X(VNET_GSO_SIZE, "vnet-gso-size") /* gso_size 0 or 0xffff */     \
	X(VNET_ECN_UDP, "vnet-ecn-udp")                                 \
	X(VNET_UDP_CSUM, "vnet-udp-no-csum") /* UDP_L4 without NEEDS_CSUM */ \
	X(VNET_UDP_SEGS, "vnet-udp-segs") /* more than 128 UDP segments */ \
	X(VNET_CSUM_OFFSET, "vnet-csum-offset") /* not 16 (TCP) / 6 (UDP) */ \
	X(VNET_CSUM_START, "vnet-csum-start") /* not the parsed L4 header */ \
	X(VNET_PROTO, "vnet-proto")     /* gso_type vs IP version / L4 */ \
	X(VNET_GSO_BAD, "vnet-gso-malformed") /* GSO on a fragment, options, ... */ \
	X(NO_BUFFER, "no-buffer")       /* packet pool empty */          \
	X(RING_FULL, "ring-full")       /* the kernel found the rx ring full */ \
	X(QUEUE_FULL, "queue-full")     /* egress queue full */          \
	X(LINK_DOWN, "link-down")                                       \
	X(MTU, "mtu")                   /* non-GSO frame over the egress MTU */ \
	X(TX_ERROR, "tx-error")         /* the kernel refused the frame */ \
	X(GSO_ERROR, "gso-error")       /* could not be segmented */     \
	X(NOT_IP, "not-ip")             /* route mode: not IPv4/IPv6/ARP */ \
	X(NO_ROUTE, "no-route")                                         \
	X(TTL, "ttl-exceeded")                                          \
	X(NEIGH, "neigh-unresolved")    /* next hop did not answer */    \
	X(NEIGH_QUEUE, "neigh-queue")   /* pushed out while it resolved */ \
	X(FRAG_DF, "frag-needed")       /* too big with DF set / IPv6 */ \
	X(CONTROL, "control")           /* ARP/NDP/ICMP handled or refused */ \
	X(LOCAL, "local")               /* addressed to grogso, consumed */ \
	X(OTHER_HOST, "other-host")     /* route mode: not our MAC */ \
	X(MARTIAN, "martian")           /* route mode: impossible address (RFC 1812 5.3.7) */ \
	X(IP_OPTIONS, "ip-options")     /* route mode: IPv4 or hop-by-hop options Linux refuses */ \
	X(REASM, "reasm")               /* route mode: a fragment for grogso refused */ \
	X(VLAN, "vlan")                 /* route mode: tagged, VLAN ID not 0 */

/*
 * Passes: forwarded, but not offered to GRO.  The reason GRO left it.
 */
#define STATS_PASS_LIST(X)                                              \
	X(GRO_OFF, "gro-off")                                           \
	X(NOT_IP, "not-ip")                                             \
	X(PROTO, "proto")               /* not TCP/UDP, or protocol not enabled */ \
	X(IP_OPTS, "ip-options")                                        \
	X(IP_FRAG, "ip-fragment")                                       \
	X(IP_PAD, "ip-padding")         /* IP length shorter than the frame */ \
	X(IPV6_EXT, "ipv6-ext")         /* extension header GRO does not walk */ \
	X(L4_CSUM, "l4-csum")           /* bad TCP/UDP checksum */       \
	X(TCP_FLAGS, "tcp-flags")       /* SYN, RST, URG or ECE..: not mergeable */ \
	X(TCP_EMPTY, "tcp-empty")       /* no payload */                 \
	X(UDP_CSUM0, "udp-csum-zero")                                   \
	X(L4_TRUNC, "l4-truncated")     /* TCP/UDP header past the IP payload */ \
	X(TCP_DOFF, "tcp-doff")         /* TCP data offset < 5 */        \
	X(UDP_LEN, "udp-len")           /* UDP length != IP payload, or < 8 */ \
	X(UDP_FIXED, "udp-fixed-id")    /* --gro-udp-fixed-id=pass */    \
	X(GSO_IN, "gso-input")          /* arrived as a super-packet */  \
	/* bridge mode and replay: an IP header a router would drop */  \
	X(IP_TRUNC, "ip-truncated")                                     \
	X(IP_VERSION, "ip-version")                                     \
	X(IP_IHL, "ip-ihl")                                             \
	X(IP_LEN, "ip-len")                                             \
	X(IP_CSUM, "ip-csum")

/*
 * Flushes: why an aggregate was completed.
 */
#define STATS_FLUSH_LIST(X)                                             \
	X(BATCH, "batch")               /* end of an rx batch */         \
	X(TIMER, "timer")               /* --gro-hold-us expired */      \
	X(EXIT, "exit")                 /* shutdown / end of file */     \
	X(PSH, "psh")                                                   \
	X(FIN, "fin")                                                   \
	X(CWR, "cwr")                                                   \
	X(SHORT, "short")               /* shorter segment closed it */  \
	X(SIZE, "size")                 /* next segment would pass max size */ \
	X(SEGS, "segs")                 /* segment limit reached */      \
	X(FULL, "full")                 /* table full: oldest flushed */ \
	X(PASS, "pass")                 /* a packet of the flow bypassed GRO */ \
	X(TTL, "mismatch:ttl")                                          \
	X(TOS, "mismatch:tos")          /* TOS / traffic class, ECN included */ \
	X(DF, "mismatch:df")                                            \
	X(IPID, "mismatch:ipid")                                        \
	X(ACK, "mismatch:ack")                                          \
	X(FLAGS, "mismatch:flags")      /* 4th TCP word: doff, flags, window */ \
	X(OPTS, "mismatch:opts")                                        \
	X(SEQ, "mismatch:seq")                                          \
	X(LEN, "mismatch:len")          /* larger segment */             \
	X(FLOWLABEL, "mismatch:flowlabel")

#define STATS_ENUM_DROP(n, s) DROP_##n,
#define STATS_ENUM_PASS(n, s) PASS_##n,
#define STATS_ENUM_FLUSH(n, s) FLUSH_##n,

enum drop_reason { DROP_NONE = 0, STATS_DROP_LIST(STATS_ENUM_DROP) DROP__MAX };
enum pass_reason { PASS_NONE = 0, STATS_PASS_LIST(STATS_ENUM_PASS) PASS__MAX };
enum flush_reason { FLUSH_NONE = 0, STATS_FLUSH_LIST(STATS_ENUM_FLUSH) FLUSH__MAX };

/* Histogram of segments per aggregate: bucket i counts aggregates of i segments. */
#define STATS_SEGS_BUCKETS 65

struct stats_port {
	uint64_t rx_pkts, rx_bytes;
	uint64_t rx_gso;                /* super-packets received (a peer's TSO/USO) */
	uint64_t rx_held_copy;          /* ring frames copied out: held past their batch */
	uint64_t tx_pkts, tx_bytes;
	uint64_t aggs;                  /* aggregates of two or more segments */
	uint64_t agg_segs;              /* segments inside those aggregates */
	uint64_t gso_offload;           /* super-packets handed to the kernel */
	uint64_t gso_software;          /* super-packets segmented by grogso */
	uint64_t gso_segs;              /* segments grogso wrote from those */
	uint64_t gso_kernel_sw;         /* over the egress gso_max_size */
	/* route mode: what fwd sent itself, counted on the port it left by */
	uint64_t icmp_sent;             /* ICMP/ICMPv6 errors */
	uint64_t icmp_limited_host;     /* errors held back: per-host limit */
	uint64_t icmp_limited_global;   /* errors held back: limit over all */
	uint64_t redirects;             /* ICMP redirects and NDP redirects */
	uint64_t redirects_limited;     /* held back by their own limits */
	uint64_t resets;                /* TCP resets from our addresses */
	uint64_t reasm;                 /* datagrams for us reassembled */
	uint64_t reasm_timeouts;        /* datagrams for us that never came whole */
	uint64_t solicits;              /* ARP requests and neighbour solicitations */
	uint64_t frags;                 /* IPv4 fragments, and IPv6 ones of
					 * grogso's own packets */
	uint64_t gso_frag;              /* DF-clear aggregates segmented to be
					 * fragmented (ip_finish_output_gso) */
	uint64_t gso_frag_segs;         /* segments those gave */
	uint64_t segs_hist[STATS_SEGS_BUCKETS];
	uint64_t drop[DROP__MAX];
	uint64_t pass[PASS__MAX];
	uint64_t flush[FLUSH__MAX];
};

/* Names as printed and as written in JSON; "none" for the zero value. */
const char *stats_drop_name(enum drop_reason r);
const char *stats_pass_name(enum pass_reason r);
const char *stats_flush_name(enum flush_reason r);

/* Count one aggregate of @segs segments completed for @reason. */
void stats_count_agg(struct stats_port *s, unsigned int segs,
		     enum flush_reason reason);

uint64_t stats_drops_total(const struct stats_port *s);

/*
 * Print @s as indented text (@json == 0) or as one JSON object (@json != 0)
 * named @name.  Zero counters are left out of the text form.
 */
void stats_print(FILE *f, const char *name, const struct stats_port *s,
		 int json);

#endif
