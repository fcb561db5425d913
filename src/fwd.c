/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fwd: the forwarding step.
 *
 * Bridge mode hands every frame to the other port untouched.  Route mode
 * is a small IPv4/IPv6 router: it owns the addresses given on the command
 * line (and an EUI-64 link-local address per port), answers ARP, NDP and
 * ping for them, resolves next hops itself and forwards once per
 * aggregate: one route lookup, one TTL decrement, one MAC rewrite.
 *
 * Replies to a received frame (ARP replies, NAs, echo replies, ICMP
 * errors) go back out of the ingress port to the frame's Ethernet source:
 * that is the previous hop toward the sender, so answering never waits
 * for neighbour resolution.  Forwarded packets use the neighbour table.
 *
 * Nothing here allocates after fwd_create: routes, addresses and
 * neighbours are fixed arrays, and every generated packet comes from the
 * shared pool.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "grogso/csum.h"
#include "grogso/fwd.h"
#include "grogso/gso.h"
#include "grogso/log.h"
#include "grogso/reasm.h"

#define FWD_ADDRS_MAX CONFIG_MAX_ADDRS  /* per port, besides the link-local one */
#define FWD_ROUTES_MAX (CONFIG_MAX_ROUTES + FWD_NPORTS * CONFIG_MAX_ADDRS) /* static + connected */
#define FWD_NEIGH_MAX 256               /* both links together; a lab has a handful */
#define FWD_NEIGH_HASH 256              /* buckets, a power of two */
/* Held per unresolved neighbour: Linux's unres_qlen_bytes, counted in
 * skb truesize (see truesize()); the oldest go first. */
#define FWD_NEIGH_QBYTES 212992
#define FWD_NEIGH_TRIES 3               /* solicitations before giving up (Linux mcast_solicit) */
#define FWD_NEIGH_RETRANS_NS 1000000000ull      /* RFC 4861 RETRANS_TIMER */
#define FWD_NEIGH_REACHABLE_NS 30000000000ull   /* RFC 4861 REACHABLE_TIME */
#define FWD_NEIGH_DELAY_NS 5000000000ull        /* DELAY_FIRST_PROBE_TIME */
#define FWD_NS 1000000000ull
/* ICMP error limits, Linux's (net/ipv4/icmp.c, net/ipv4/inetpeer.c) */
#define FWD_PEERS 4096                  /* hosts whose error budget is kept */
#define FWD_PEER_WAYS 8                 /* slots one host may hash to */
#define FWD_PEER_BURST 6                /* XRLIM_BURST_FACTOR */
#define FWD_PEER_NEW_NS (60 * FWD_NS)   /* a new host is as if idle this long */
#define FWD_RT_ERROR_COST_NS FWD_NS     /* net.ipv4.route.error_cost */
#define FWD_RT_ERROR_BURST_NS (5 * FWD_NS) /* net.ipv4.route.error_burst */
#define FWD_GLOBAL_STEP_NS (FWD_NS / 50) /* HZ / 50: finest refill of the global bucket */
/* IPv4 redirects, Linux's net.ipv4.route.redirect_{load,number,silence} */
#define FWD_REDIRECT_LOAD_NS (FWD_NS / 50)
#define FWD_REDIRECT_NUMBER 9
#define FWD_REDIRECT_SILENCE_NS (FWD_REDIRECT_LOAD_NS << (FWD_REDIRECT_NUMBER + 1))
#define FWD_ICMP4_MAX 576               /* RFC 1812 4.3.2.3: error datagram <= 576 bytes */
#define FWD_ICMP6_MAX 1280              /* RFC 4443 2.4(c): <= the IPv6 minimum MTU */
#define FWD_TTL_OUT 64                  /* TTL / hop limit of packets grogso originates */
#define FWD_MTU_DEFAULT 1500            /* a port that did not say */
/* Segments of an aggregate fwd cuts itself before fragmenting: enough for
 * 64 KiB in 256-byte pieces, so any egress MTU over ~300 bytes; a smaller
 * gso_size is refused (gso-error) rather than sized for. */
#define FWD_GSO_SEGS_MAX (65535 / 256 + 1)

#define ARP_LEN 28                      /* Ethernet/IPv4 ARP (RFC 826) */
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2
#define IPV4_HLEN 20
#define IPV6_HLEN 40
#define IP4_DF 0x4000
#define IP4_MF 0x2000
#define IP4_OFF_MASK 0x1fff
#define IP4_TOS_ICMP_ERR 0xc0           /* RFC 1812 4.3.2.5: precedence 6 */
#define IP4_TOS_ERR_KEEP 0x1e           /* bits of the datagram's TOS Linux keeps (RT_TOS) */

#define IPPROTO_ICMP_ 1
#define IPPROTO_IGMP_ 2
#define IPPROTO_NONE6_ 59               /* IPv6: no next header */
#define IPPROTO_PIM_ 103
#define IPPROTO_UDPLITE_ 136
#define IPPROTO_ICMPV6_ 58
#define IP6_NEXT_HOPOPTS 0
#define IP6_NEXT_ROUTING 43
#define IP6_NEXT_FRAGMENT 44
#define IP6_NEXT_DSTOPTS 60
#define IP6_NEXT_AUTH 51
#define IP6_FRAG_HLEN 8
#define IP6_FRAG_OFF_MF 0xfff9          /* offset and M: both 0 in an atomic fragment */
#define IP6_EXT_WALK_MAX 8              /* bound the walk on hostile chains */

#define ICMP_ECHOREPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_NET_UNREACH 0
#define ICMP_HOST_UNREACH 1
#define ICMP_PROT_UNREACH 2
#define ICMP_PORT_UNREACH 3
#define ICMP_FRAG_NEEDED 4
#define ICMP_SOURCE_QUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_REDIR_HOST 1
#define ICMP_ECHO 8
#define ICMP_TIMESTAMP 13
#define ICMP_TIMESTAMPREPLY 14
#define ICMP_TIME_EXCEEDED 11
#define ICMP_EXC_FRAGTIME 1
#define ICMP_PARAMETERPROB 12

#define ICMP6_DEST_UNREACH 1
#define ICMP6_NOROUTE 0
#define ICMP6_BEYOND_SCOPE 2
#define ICMP6_ADDR_UNREACH 3
#define ICMP6_PORT_UNREACH 4
#define ICMP6_PKT_TOOBIG 2
#define ICMP6_TIME_EXCEED 3
#define ICMP6_EXC_FRAGTIME 1
#define ICMP6_PARAMPROB 4
#define ICMP6_HDR_FIELD 0
#define ICMP6_UNK_NEXTHDR 1
#define ICMP6_UNK_OPTION 2
#define ICMP6_HDR_INCOMP 3              /* RFC 8200 4.5: first fragment short of its headers */
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129
#define ND_NEIGHBOR_SOLICIT 135
#define ND_NEIGHBOR_ADVERT 136
#define ND_REDIRECT 137
#define ND_REDIRECT_LEN 40              /* type to destination (RFC 4861 4.5) */
#define ND_OPT_REDIRECTED_HDR 4
#define ND_HOP_LIMIT 255                /* RFC 4861 7.1: proves the sender is on-link */
#define ND_MSG_LEN 24                   /* NS/NA without options */
#define ND_OPT_SLLA 1
#define ND_OPT_TLLA 2
#define ND_NA_ROUTER 0x80
#define ND_NA_SOLICITED 0x40
#define ND_NA_OVERRIDE 0x20

struct fwd_addr {
	int family;
	uint8_t addr[16];
	uint8_t plen;
};

struct fwd_route {
	int family;
	uint8_t prefix[16];             /* masked to plen */
	uint8_t plen;
	uint8_t has_gw;
	uint8_t gw[16];
	unsigned int port;
};

struct fwd_neigh {
	uint8_t state;                  /* enum fwd_neigh_state; REACHABLE decays lazily */
	uint8_t port;
	uint8_t tries;                  /* solicitations sent in this round */
	uint32_t qbytes;                /* their truesize, as Linux counts */
	int family;
	int32_t hnext;                  /* next index in the bucket, -1 ends */
	uint8_t addr[16];
	uint8_t mac[6];
	uint64_t confirmed;             /* last proof of reachability */
	uint64_t next_retry;            /* next solicitation or give-up time, 0: none */
	struct pkt_queue q;             /* held while INCOMPLETE, in arrival order */
};

/*
 * A host ICMP messages went to, as Linux's inet_peer: the budget of its
 * ICMP limit and the state of its redirects, which share the time of
 * last use.
 */
struct fwd_peer {
	int family;                     /* 0: free */
	uint8_t addr[16];
	uint32_t n_redirects;           /* sent since the last silence */
	uint64_t tokens;                /* budget, in ns */
	int64_t last;                   /* ns; before 0 for a new host */
};

struct fwd {
	enum config_mode mode;
	struct fwd_port_info port[FWD_NPORTS];
	struct fwd_addr addr[FWD_NPORTS][FWD_ADDRS_MAX];
	unsigned int naddr[FWD_NPORTS];
	uint8_t ll[FWD_NPORTS][16];     /* fe80::/64 EUI-64 from the port MAC */
	struct fwd_route route[FWD_ROUTES_MAX]; /* longest prefix first */
	unsigned int nroute;
	struct fwd_neigh neigh[FWD_NEIGH_MAX];
	int32_t bucket[FWD_NEIGH_HASH];
	uint64_t next_deadline;
	/* ICMP error limits: over all hosts (icmp_global_allow), then per
	 * destination host (inet_peer_xrlim_allow) */
	int64_t icmp_credit;            /* errors; may go below zero */
	uint64_t icmp_stamp;            /* last refill */
	int icmp_stamped;               /* icmp_stamp is set */
	uint32_t icmp_per_sec, icmp_burst;
	uint64_t icmp4_tmo, icmp6_tmo;  /* ns of budget one error costs a host */
	int redirects;                  /* --redirects */
	struct fwd_peer *peer;          /* FWD_PEERS, FWD_PEER_WAYS to a set */
	uint32_t held, held_max;        /* packets held by all neighbours */
	uint16_t ip_id;                 /* IPv4 ID of packets grogso originates */
	uint32_t ip6_frag_id;           /* ID of the IPv6 fragments it cuts */
	struct reasm *reasm;            /* datagrams for us, in pieces */
	int64_t wall_off_ns;            /* CLOCK_REALTIME - the time we are given */
	enum gso_ipid gso_ipid;         /* --gso-ipid, for the segments we cut */
	struct gso_seg *segs;           /* FWD_GSO_SEGS_MAX, for gso_frag_output */
	fwd_gso_log_fn gso_log;

	struct pkt_pool *pool;
	struct stats_port *stats[FWD_NPORTS];
	fwd_tx_fn tx;
	void *ctx;
};

static const uint8_t mac_bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t mac_all_nodes[6] = { 0x33, 0x33, 0, 0, 0, 1 };
static const uint8_t ip6_all_nodes[16] = { 0xff, 0x02, [15] = 1 };
static const uint8_t ip6_all_routers[16] = { 0xff, 0x02, [15] = 2 };

/* ---- small helpers ---- */

static size_t alen(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

static int prefix_match(const uint8_t *a, const uint8_t *pfx, unsigned int plen)
{
	unsigned int full = plen / 8, rem = plen % 8;
	uint8_t mask;

	if (memcmp(a, pfx, full))
		return 0;
	if (!rem)
		return 1;
	mask = (uint8_t)(0xff << (8 - rem));
	return ((a[full] ^ pfx[full]) & mask) == 0;
}

static void prefix_mask(uint8_t *a, size_t len, unsigned int plen)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (plen >= 8) {
			plen -= 8;
		} else {
			a[i] &= (uint8_t)(0xff << (8 - plen));
			plen = 0;
		}
	}
}

static int is_zero(const uint8_t *a, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (a[i])
			return 0;
	return 1;
}

/* 0/8, 127/8, 224/4 and 240/4: never the source of a packet we forward
 * or answer (RFC 1812 5.3.7 martian filtering). */
static int ip4_bad_src(const uint8_t *a)
{
	return a[0] == 0 || a[0] == 127 || a[0] >= 224;
}

/* Multicast, class E, limited broadcast, 0/8 and loopback: not forwarded. */
static int ip4_bad_dst(const uint8_t *a)
{
	return a[0] == 0 || a[0] == 127 || a[0] >= 224;
}

static int ip6_mcast(const uint8_t *a)
{
	return a[0] == 0xff;
}

static int ip6_ll(const uint8_t *a)
{
	return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

static int ip6_loopback(const uint8_t *a)
{
	return is_zero(a, 15) && a[15] == 1;
}

/* ff02::1:ffXX:XXXX, RFC 4291 2.7.1 */
static void ip6_solnode(uint8_t *out, const uint8_t *a)
{
	memset(out, 0, 16);
	out[0] = 0xff;
	out[1] = 0x02;
	out[11] = 0x01;
	out[12] = 0xff;
	memcpy(out + 13, a + 13, 3);
}

static int ip6_is_solnode_of(const uint8_t *grp, const uint8_t *a)
{
	uint8_t s[16];

	ip6_solnode(s, a);
	return !memcmp(s, grp, 16);
}

/* RFC 4291 appendix A: modified EUI-64 from a 48-bit MAC. */
static void ip6_ll_from_mac(uint8_t *out, const uint8_t *mac)
{
	memset(out, 0, 16);
	out[0] = 0xfe;
	out[1] = 0x80;
	out[8] = mac[0] ^ 0x02;
	out[9] = mac[1];
	out[10] = mac[2];
	out[11] = 0xff;
	out[12] = 0xfe;
	out[13] = mac[3];
	out[14] = mac[4];
	out[15] = mac[5];
}

static void count(struct fwd *f, unsigned int port, enum drop_reason r)
{
	f->stats[port]->drop[r]++;
}

/* A super-packet counts as the frames it stands for, as rx_pkts does. */
static void drop(struct fwd *f, unsigned int port, struct pkt *p,
		 enum drop_reason r)
{
	f->stats[port]->drop[r] += pkt_wire_segs(p);
	pkt_free(f->pool, p);
}

static void set_deadline(struct fwd *f, uint64_t t)
{
	if (!f->next_deadline || t < f->next_deadline)
		f->next_deadline = t;
}

/* ---- addresses and routes ---- */

/* Our address @a on @port (configured or link-local), or NULL. */
static const uint8_t *port_owns(const struct fwd *f, unsigned int port,
				int family, const uint8_t *a)
{
	unsigned int i;

	for (i = 0; i < f->naddr[port]; i++) {
		const struct fwd_addr *x = &f->addr[port][i];

		if (x->family == family && !memcmp(x->addr, a, alen(family)))
			return x->addr;
	}
	if (family == AF_INET6 && !memcmp(f->ll[port], a, 16))
		return f->ll[port];
	return NULL;
}

/*
 * Whether @a is ours for local delivery on @in: any configured address of
 * either port (the weak host model Linux uses, so the WAN address answers
 * ping from the LAN), but only the ingress port's link-local one.
 */
static int owns_for_input(const struct fwd *f, unsigned int in, int family,
			  const uint8_t *a)
{
	if (family == AF_INET6 && ip6_ll(a))
		return port_owns(f, in, family, a) != NULL;
	return port_owns(f, 0, family, a) || port_owns(f, 1, family, a);
}

/* @a is one of our IPv4 addresses, on either port. */
static int ip4_ours(const struct fwd *f, const uint8_t *a)
{
	return port_owns(f, 0, AF_INET, a) || port_owns(f, 1, AF_INET, a);
}

/*
 * @a is the broadcast address of one of our IPv4 prefixes shorter than
 * /31 (on either port: Linux keeps them in one local table).
 */
static int ip4_subnet_bcast(const struct fwd *f, const uint8_t *a)
{
	unsigned int port, i;

	for (port = 0; port < FWD_NPORTS; port++)
		for (i = 0; i < f->naddr[port]; i++) {
			const struct fwd_addr *x = &f->addr[port][i];
			uint32_t mask;

			if (x->family != AF_INET || x->plen >= 31)
				continue;
			mask = x->plen ? ~0u << (32 - x->plen) : 0;
			if ((get_be32(a) | mask) == 0xffffffffu &&
			    (get_be32(a) & mask) == (get_be32(x->addr) & mask))
				return 1;
		}
	return 0;
}

/*
 * The subnet-router anycast address (RFC 4291 2.6.1) of one of our IPv6
 * prefixes shorter than /127 on @port, which Linux takes as its own
 * while it forwards: answered on either port (ip6_subnet_anycast), as
 * Linux's anycast routes are in its one local table, but resolved by
 * neighbour discovery only on its own.
 */
static int port_anycast(const struct fwd *f, unsigned int port,
			const uint8_t *a)
{
	unsigned int i;

	for (i = 0; i < f->naddr[port]; i++) {
		const struct fwd_addr *x = &f->addr[port][i];
		uint8_t any[16];

		if (x->family != AF_INET6 || x->plen >= 127)
			continue;
		memcpy(any, x->addr, 16);
		prefix_mask(any, 16, x->plen);
		if (!memcmp(any, a, 16))
			return 1;
	}
	return 0;
}

static int ip6_subnet_anycast(const struct fwd *f, const uint8_t *a)
{
	return port_anycast(f, 0, a) || port_anycast(f, 1, a);
}

/* @a is inside a prefix configured on @port (IPv6 link-local: any port). */
static int on_link(const struct fwd *f, unsigned int port, int family,
		   const uint8_t *a)
{
	unsigned int i;

	if (family == AF_INET6 && ip6_ll(a))
		return 1;
	for (i = 0; i < f->naddr[port]; i++) {
		const struct fwd_addr *x = &f->addr[port][i];

		if (x->family == family && prefix_match(a, x->addr, x->plen))
			return 1;
	}
	return 0;
}

/*
 * The address to send from on @port toward @dst: one on the same prefix
 * first, then the first configured one, then (IPv6) the link-local one,
 * which is also the only choice toward a link-local destination (RFC 6724
 * rule 2, simplified).  NULL when the port has no IPv4 address.
 */
static const uint8_t *port_src(const struct fwd *f, unsigned int port,
			       int family, const uint8_t *dst)
{
	const uint8_t *first = NULL;
	unsigned int i;

	if (family == AF_INET6 && ip6_ll(dst))
		return f->ll[port];
	for (i = 0; i < f->naddr[port]; i++) {
		const struct fwd_addr *x = &f->addr[port][i];

		if (x->family != family)
			continue;
		if (prefix_match(dst, x->addr, x->plen))
			return x->addr;
		if (!first)
			first = x->addr;
	}
	if (first)
		return first;
	return family == AF_INET6 ? f->ll[port] : NULL;
}

/* ICMP errors come from the ingress port; the other port's address when
 * the ingress port has none of the family. */
static const uint8_t *error_src(const struct fwd *f, unsigned int in,
				int family, const uint8_t *dst)
{
	const uint8_t *s = port_src(f, in, family, dst);

	return s ? s : port_src(f, in ^ 1u, family, dst);
}

static const struct fwd_route *route_lookup(const struct fwd *f, int family,
					    const uint8_t *dst)
{
	unsigned int i;

	/* the table is sorted by prefix length, so the first hit is the
	 * longest match */
	for (i = 0; i < f->nroute; i++) {
		const struct fwd_route *r = &f->route[i];

		if (r->family == family && prefix_match(dst, r->prefix, r->plen))
			return r;
	}
	return NULL;
}

/* Is @src a host on the link of @port (a connected route there)? */
static int src_onlink(const struct fwd *f, unsigned int port, int family,
		      const uint8_t *src)
{
	const struct fwd_route *r = route_lookup(f, family, src);

	return r && !r->has_gw && r->port == port;
}

static int route_add(struct fwd *f, int family, const uint8_t *pfx,
		     uint8_t plen, const uint8_t *gw, unsigned int port)
{
	struct fwd_route r;
	unsigned int i;

	if (f->nroute == FWD_ROUTES_MAX)
		return -ENOSPC;
	memset(&r, 0, sizeof(r));
	r.family = family;
	memcpy(r.prefix, pfx, alen(family));
	prefix_mask(r.prefix, alen(family), plen);
	r.plen = plen;
	r.port = port;
	if (gw) {
		r.has_gw = 1;
		memcpy(r.gw, gw, alen(family));
	}
	/* insert after every route at least as specific: a stable sort, so
	 * among equal prefixes the first configured wins */
	for (i = f->nroute; i > 0 && f->route[i - 1].plen < plen; i--)
		f->route[i] = f->route[i - 1];
	f->route[i] = r;
	f->nroute++;
	return 0;
}

static int prefix_ok(const struct config_prefix *p)
{
	if (p->family == AF_INET)
		return p->plen <= 32;
	if (p->family == AF_INET6)
		return p->plen <= 128;
	return 0;
}

static int setup_addrs(struct fwd *f, unsigned int port,
		       const struct config_prefix *a, int n)
{
	int i;

	if (n < 0 || n > FWD_ADDRS_MAX) {
		log_err("fwd: too many addresses on port %u", port);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		struct fwd_addr *x = &f->addr[port][i];

		if (!prefix_ok(&a[i])) {
			log_err("fwd: bad address family or prefix length");
			return -EINVAL;
		}
		x->family = a[i].family;
		memcpy(x->addr, a[i].addr, 16);
		x->plen = a[i].plen;
		if (route_add(f, x->family, x->addr, x->plen, NULL, port))
			return -ENOSPC;
	}
	f->naddr[port] = (unsigned int)n;
	return 0;
}

static int setup_routes(struct fwd *f, const struct config *c)
{
	char buf[INET6_ADDRSTRLEN];
	int i;

	if (c->n_routes < 0 || c->n_routes > CONFIG_MAX_ROUTES)
		return -EINVAL;
	for (i = 0; i < c->n_routes; i++) {
		const struct config_route *cr = &c->routes[i];
		const struct fwd_route *via;
		unsigned int port;

		if (!prefix_ok(&cr->dst)) {
			log_err("fwd: route %d: bad prefix", i + 1);
			return -EINVAL;
		}
		if (!cr->has_gw) {
			log_err("fwd: route %d: a gateway is needed", i + 1);
			return -EINVAL;
		}
		inet_ntop(cr->dst.family, cr->gw, buf, sizeof(buf));
		if (cr->gw_side != CONFIG_GW_SIDE_ANY &&
		    cr->gw_side != CONFIG_GW_SIDE_LAN &&
		    cr->gw_side != CONFIG_GW_SIDE_WAN) {
			log_err("fwd: route %d: bad side for gateway %s", i + 1, buf);
			return -EINVAL;
		}
		port = cr->gw_side == CONFIG_GW_SIDE_WAN ? FWD_PORT_WAN
							 : FWD_PORT_LAN;
		if (cr->dst.family == AF_INET6 && ip6_ll(cr->gw)) {
			/* on the link of the side named (Linux: via
			 * fe80::1 dev IF) */
			if (cr->gw_side == CONFIG_GW_SIDE_ANY) {
				log_err("fwd: route %d: link-local gateway %s "
					"needs a side (%%lan or %%wan)", i + 1, buf);
				return -EINVAL;
			}
			if (route_add(f, AF_INET6, cr->dst.addr, cr->dst.plen,
				      cr->gw, port))
				return -ENOSPC;
			continue;
		}
		/* only connected routes are in the table yet: the gateway
		 * must be on one of them (no recursive next hops) */
		via = route_lookup(f, cr->dst.family, cr->gw);
		if (!via || via->has_gw) {
			log_err("fwd: route %d: gateway %s is not on a LAN or WAN prefix",
				i + 1, buf);
			return -EINVAL;
		}
		if (cr->gw_side != CONFIG_GW_SIDE_ANY && via->port != port) {
			log_err("fwd: route %d: gateway %s is on a %s prefix, not %s",
				i + 1, buf, via->port == FWD_PORT_WAN ? "WAN" : "LAN",
				port == FWD_PORT_WAN ? "WAN" : "LAN");
			return -EINVAL;
		}
		if (route_add(f, cr->dst.family, cr->dst.addr, cr->dst.plen,
			      cr->gw, via->port))
			return -ENOSPC;
	}
	return 0;
}

/* ---- IPv4 options, as Linux's net/ipv4/ip_options.c ---- */

#define IPOPT_END 0
#define IPOPT_NOOP 1
#define IPOPT_RR 7
#define IPOPT_TIMESTAMP 68
#define IPOPT_LSRR 131
#define IPOPT_CIPSO 134
#define IPOPT_SSRR 137
#define IPOPT_RA 148
#define IPOPT_TS_TSONLY 0
#define IPOPT_TS_TSANDADDR 1
#define IPOPT_TS_PRESPEC 3
#define IP4_OPTS_MAX 40

/* Milliseconds since midnight UT, as inet_current_timestamp. */
static uint32_t ip4_midtime(const struct fwd *f, uint64_t now)
{
	int64_t t = (int64_t)now + f->wall_off_ns;

	return t < 0 ? 0 : (uint32_t)((uint64_t)t / 1000000u % 86400000u);
}

/*
 * Not an address of a host elsewhere (Linux's inet_addr_type is not
 * RTN_UNICAST): 0/8, multicast, the limited broadcast, loopback (the
 * namespace's lo holds 127/8), and our addresses and subnet broadcasts.
 */
static int ip4_not_unicast(const struct fwd *f, const uint8_t *a)
{
	return a[0] == 0 || a[0] == 127 || (a[0] >= 224 && a[0] < 240) ||
	       get_be32(a) == 0xffffffffu || ip4_ours(f, a) ||
	       ip4_subnet_bcast(f, a);
}

/* Our address on @port toward @key (else on the other port), as the
 * preferred source of a route; zeros when there is none. */
static const uint8_t *ip4_route_src(const struct fwd *f, unsigned int port,
				    const uint8_t *key)
{
	static const uint8_t none[4];
	const uint8_t *s = port_src(f, port, AF_INET, key);

	if (!s)
		s = port_src(f, port ^ 1u, AF_INET, key);
	return s ? s : none;
}

/*
 * Linux's fib_compute_spec_dst: the address a datagram that came in on
 * @in is answered from (@local: it was for us, so its destination).
 */
static const uint8_t *ip4_spec_dst(const struct fwd *f, unsigned int in,
				   const uint8_t *ip, int local)
{
	const struct fwd_route *r;

	if (local)
		return ip + 16;
	r = route_lookup(f, AF_INET, ip + 12);
	if (!r)
		return ip4_route_src(f, in, ip + 12);
	return ip4_route_src(f, r->port, r->has_gw ? r->gw : ip + 12);
}

/*
 * The checks of a route or timestamp option's head: the first of its
 * kind (@seen: one came before), @minlen bytes long at least, its
 * pointer @minptr at least.  The offset a parameter problem points at,
 * or 0.
 */
static int ip4_opt_head(const uint8_t *o, uint32_t off, uint32_t olen,
			int seen, uint32_t minlen, uint32_t minptr)
{
	if (seen)
		return (int)off;
	if (olen < minlen)
		return (int)off + 1;
	if (o[2] < minptr)
		return (int)off + 2;
	return 0;
}

/*
 * Linux's ip_options_compile on a datagram taken in on @in (@local: for
 * us): every option is checked, and filled in place as a router fills
 * it on the way in (the address toward the source in record route and
 * timestamp-with-address, the time in timestamps, an overflow counted,
 * zeroes after an end of list); the header checksum is left as it was,
 * as in Linux, to be made again on output.  What was found goes into
 * @p's opt_* fields.  Returns 0, -1 for a source route (refused, as
 * with accept_source_route 0), or the offset in the header of the byte
 * a parameter problem points at.
 */
static int ip4_opts_input(const struct fwd *f, unsigned int in,
			  struct pkt *p, int local, uint64_t now)
{
	uint8_t *ip = p->data + p->l3_off;
	uint32_t hl = (uint32_t)(ip[0] & 0x0f) * 4, off = IPV4_HLEN;
	const uint8_t *spec = ip4_spec_dst(f, in, ip, local);
	int srr = 0, pp;

	p->opt_flags = PKT_OPT_SEEN;
	while (off < hl) {
		uint8_t *o = ip + off, *tp = NULL;
		uint32_t olen;

		if (o[0] == IPOPT_END) {
			memset(o, 0, hl - off);
			break;
		}
		if (o[0] == IPOPT_NOOP) {
			off++;
			continue;
		}
		if (hl - off < 2)
			return (int)off;
		olen = o[1];
		if (olen < 2 || olen > hl - off)
			return (int)off;
		switch (o[0]) {
		case IPOPT_SSRR:
		case IPOPT_LSRR:
			pp = ip4_opt_head(o, off, olen, 0, 3, 4);
			if (pp)
				return pp;
			if (srr)                /* RFC 1812 5.2.4.1 */
				return (int)off;
			srr = 1;
			break;
		case IPOPT_RR:
			pp = ip4_opt_head(o, off, olen, p->opt_rr, 3, 4);
			if (pp)
				return pp;
			if (o[2] <= olen) {
				if (o[2] + 3u > olen)
					return (int)off + 2;
				memcpy(o + o[2] - 1, spec, 4);
				o[2] += 4;
				p->opt_flags |= PKT_OPT_RR_ADDR;
			}
			p->opt_rr = (uint8_t)off;
			break;
		case IPOPT_TIMESTAMP:
			pp = ip4_opt_head(o, off, olen, p->opt_ts, 4, 5);
			if (pp)
				return pp;
			if (o[2] > olen) {
				/* full: count the hop (not for prespecified) */
				unsigned int over = o[3] >> 4;

				if ((o[3] & 0x0f) != IPOPT_TS_PRESPEC) {
					if (over == 15)
						return (int)off + 3;
					o[3] = (uint8_t)((o[3] & 0x0f) | ((over + 1) << 4));
				}
			} else if (o[2] + 3u > olen) {
				return (int)off + 2;
			} else if ((o[3] & 0x0f) == IPOPT_TS_TSONLY) {
				tp = o + o[2] - 1;
				p->opt_flags |= PKT_OPT_TS_TIME;
				o[2] += 4;
			} else if ((o[3] & 0x0f) == IPOPT_TS_TSANDADDR ||
				   (o[3] & 0x0f) == IPOPT_TS_PRESPEC) {
				if (o[2] + 7u > olen)
					return (int)off + 2;
				if ((o[3] & 0x0f) == IPOPT_TS_TSANDADDR) {
					memcpy(o + o[2] - 1, spec, 4);
					p->opt_flags |= PKT_OPT_TS_ADDR;
				} else if (!ip4_not_unicast(f, o + o[2] - 1)) {
					/* an entry for another router */
					p->opt_ts = (uint8_t)off;
					break;
				}
				tp = o + o[2] + 3;
				p->opt_flags |= PKT_OPT_TS_TIME;
				o[2] += 8;
			}
			if (tp)
				put_be32(tp, ip4_midtime(f, now));
			p->opt_ts = (uint8_t)off;
			break;
		case IPOPT_RA:
			if (olen < 4)
				return (int)off + 1;
			break;
		case IPOPT_CIPSO:
			if (p->opt_cipso)
				return (int)off;
			p->opt_cipso = (uint8_t)off;
			/* cipso_v4_validate, with no CIPSO DOI configured (none
			 * is until netlabelctl adds one): refused, pointing at
			 * the length when it is short, else at the DOI */
			return (int)off + (olen < 8 ? 1 : 2);
		default:
			break;
		}
		off += olen;
	}
	return srr ? -1 : 0;
}

/*
 * Linux's ip_forward_options, once @p's TTL is lowered and it leaves by
 * route @r: the record route slot filled on the way in gets the address
 * it leaves from, and the header checksum is made again.
 */
static void ip4_opts_forward(const struct fwd *f, struct pkt *p,
			     const struct fwd_route *r)
{
	uint8_t *ip = p->data + p->l3_off;

	if (p->opt_flags & PKT_OPT_RR_ADDR) {
		uint8_t *o = ip + p->opt_rr;

		memcpy(o + o[2] - 5,
		       ip4_route_src(f, r->port, r->has_gw ? r->gw : ip + 16), 4);
	}
	put_be16(ip + 10, 0);
	put_be16(ip + 10, csum_ip4_header(ip, (size_t)(ip[0] & 0x0f) * 4));
}

/*
 * Linux's ip_options_echo and ip_options_build: the options of a reply
 * from @src to @p (an ICMP error, an echo reply), written at @out (room
 * for IP4_OPTS_MAX): @p's record route and timestamp with this hop's
 * slot filled again, for the reply, and its CIPSO option, padded to 4
 * bytes.  Returns their length: 0 when @p was not taken in with
 * options, -1 when a slot has no room, where Linux sends nothing.
 */
static int ip4_opts_echo(const struct fwd *f, const struct pkt *p,
			 uint8_t *out, const uint8_t *src, uint64_t now)
{
	const uint8_t *ip = p->data + p->l3_off;
	uint32_t n = 0;

	if (!(p->opt_flags & PKT_OPT_SEEN))
		return 0;
	if (p->opt_rr) {
		uint8_t *d = out + n;
		uint32_t olen = ip[p->opt_rr + 1], soff = ip[p->opt_rr + 2];

		memcpy(d, ip + p->opt_rr, olen);
		if ((p->opt_flags & PKT_OPT_RR_ADDR) && soff <= olen) {
			if (soff + 3 > olen)
				return -1;
			d[2] = (uint8_t)(soff + 4);
			memcpy(d + d[2] - 5, src, 4);
		}
		n += olen;
	}
	if (p->opt_ts) {
		uint8_t *d = out + n;
		uint32_t olen = ip[p->opt_ts + 1], soff = ip[p->opt_ts + 2];
		int addr = 0, time = 0;

		memcpy(d, ip + p->opt_ts, olen);
		if (soff <= olen) {
			if (p->opt_flags & PKT_OPT_TS_ADDR) {
				if (soff + 3 > olen)
					return -1;
				addr = 1;
				soff += 4;
			}
			if (p->opt_flags & PKT_OPT_TS_TIME) {
				if (soff + 3 > olen)
					return -1;
				if ((d[3] & 0x0f) != IPOPT_TS_PRESPEC) {
					time = 1;
					soff += 4;
				} else if (soff + 7 <= olen &&
					   ip4_not_unicast(f, d + soff - 1)) {
					time = 1;
					soff += 8;
				}
			}
			d[2] = (uint8_t)soff;
		}
		if (addr)
			memcpy(d + d[2] - 9, src, 4);
		if (time)
			put_be32(d + d[2] - 5, ip4_midtime(f, now));
		n += olen;
	}
	if (p->opt_cipso) {
		uint32_t olen = ip[p->opt_cipso + 1];

		memcpy(out + n, ip + p->opt_cipso, olen);
		n += olen;
	}
	while (n & 3)
		out[n++] = IPOPT_END;
	return (int)n;
}

/* ---- generated packets ---- */

/*
 * The limit over all hosts, as Linux's icmp_global_allow: while credit
 * is left an error may go; at none, the credit is topped up by
 * icmp_per_sec for the time since the last top-up (at most a second,
 * and not before 20 ms have passed), up to icmp_burst.  The credit is
 * spent by the caller once the host's limit has let the error through.
 */
static int icmp_global_allow(struct fwd *f, uint64_t now)
{
	uint64_t delta = FWD_NS;
	int64_t incr;

	if (f->icmp_credit > 0)
		return 1;
	if (f->icmp_stamped)
		delta = now > f->icmp_stamp ? now - f->icmp_stamp : 0;
	if (delta > FWD_NS)
		delta = FWD_NS;
	if (delta < FWD_GLOBAL_STEP_NS)
		return 0;
	incr = (int64_t)((uint64_t)f->icmp_per_sec * delta / FWD_NS);
	if (!incr)
		return 0;
	f->icmp_stamp = now;
	f->icmp_stamped = 1;
	f->icmp_credit += incr;
	if (f->icmp_credit > (int64_t)f->icmp_burst)
		f->icmp_credit = f->icmp_burst;
	return 1;
}

/*
 * The entry of host @addr, made when there is none: a new host has no
 * budget and was last seen a minute ago (inet_getpeer), so that its
 * first top-up fills the budget.  A full set gives up its entry used
 * longest ago; a host whose budget has refilled loses nothing by that.
 */
static struct fwd_peer *peer_get(struct fwd *f, int family,
				 const uint8_t *addr, uint64_t now)
{
	size_t len = alen(family), i;
	uint32_t h = 2166136261u;
	struct fwd_peer *set, *p, *old = NULL;

	for (i = 0; i < len; i++)
		h = (h ^ addr[i]) * 16777619u;
	h ^= (uint32_t)family;
	set = &f->peer[(h % (FWD_PEERS / FWD_PEER_WAYS)) * FWD_PEER_WAYS];
	for (i = 0; i < FWD_PEER_WAYS; i++) {
		p = &set[i];
		if (p->family == family && !memcmp(p->addr, addr, len))
			return p;
		if (!old || !p->family ||
		    (old->family && p->last < old->last))
			old = p;
	}
	memset(old, 0, sizeof(*old));
	old->family = family;
	memcpy(old->addr, addr, len);
	old->last = (int64_t)now - (int64_t)FWD_PEER_NEW_NS;
	return old;
}

/*
 * Take @cost from host @p's budget, topped up first by the time since it
 * last was, to at most @cap (inet_peer_xrlim_allow: @cost is the
 * ratelimit, @cap six of them).  0 when the budget is short.
 */
static int peer_take(struct fwd_peer *p, uint64_t cost, uint64_t cap,
		     uint64_t now)
{
	if ((int64_t)now > p->last) {
		p->tokens += (uint64_t)((int64_t)now - p->last);
		p->last = (int64_t)now;
		if (p->tokens > cap)
			p->tokens = cap;
	}
	if (p->tokens < cost)
		return 0;
	p->tokens -= cost;
	return 1;
}

/*
 * The ICMP messages Linux limits: those of net.ipv4.icmp_ratemask (by
 * default destination unreachable, source quench, time exceeded,
 * parameter problem), but never fragmentation needed, which path MTU
 * discovery depends on.  Redirects and echo replies are not limited.
 */
static int icmp4_limited(uint8_t type, uint8_t code)
{
	if (type == ICMP_DEST_UNREACH && code == ICMP_FRAG_NEEDED)
		return 0;
	return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH ||
	       type == ICMP_TIME_EXCEEDED || type == ICMP_PARAMETERPROB;
}

/*
 * Linux's ip_rt_send_redirect: a host that goes on sending through a
 * router that redirects it gets redirects at growing intervals (the
 * first at once, then after 40 ms, 80 ms, ... since the last), 9 at
 * most, then none until it has drawn none for 20.48 s.  The count lives
 * in the host's entry beside the ICMP budget; a silence empties that
 * budget too, and every redirect sent, or held back after the ninth,
 * marks the entry used now.
 */
static int redirect_allow(struct fwd *f, const uint8_t *src, uint64_t now)
{
	struct fwd_peer *p = peer_get(f, AF_INET, src, now);
	int64_t t = (int64_t)now;

	if (t > p->last + (int64_t)FWD_REDIRECT_SILENCE_NS) {
		p->tokens = 0;
		p->n_redirects = 0;
	}
	if (p->n_redirects >= FWD_REDIRECT_NUMBER) {
		p->last = t;
		return 0;
	}
	if (p->n_redirects &&
	    t <= p->last + (int64_t)(FWD_REDIRECT_LOAD_NS << p->n_redirects))
		return 0;
	p->last = t;
	p->n_redirects++;
	return 1;
}

/*
 * May an error (of a type Linux limits) go to host @dst out of @port?
 * Linux 6.18's order: the global limit first, then the host's; the
 * global credit is spent only when the host's let it through, one error
 * at a time (Linux takes 0, 1 or 2 at random, 1 on average).
 */
static int icmp_allow(struct fwd *f, unsigned int port, int family,
		      const uint8_t *dst, uint64_t now)
{
	uint64_t tmo = family == AF_INET6 ? f->icmp6_tmo : f->icmp4_tmo;

	if (!icmp_global_allow(f, now)) {
		f->stats[port]->icmp_limited_global++;
		return 0;
	}
	/* a ratelimit of 0 lets every error through, but zeroes the
	 * host's budget as Linux does */
	if (!peer_take(peer_get(f, family, dst, now), tmo,
		       FWD_PEER_BURST * tmo, now)) {
		f->stats[port]->icmp_limited_host++;
		return 0;
	}
	f->icmp_credit--;
	return 1;
}

/*
 * Linux's ip_error, before it sends the unreachable for a datagram
 * without a route: a budget of its own (a second an error, five at
 * most), kept in the same entry of the source host as the ICMP limit,
 * so each such error costs that host twice.
 */
static int rt_error_allow(struct fwd *f, unsigned int port,
			  const uint8_t *src, uint64_t now)
{
	struct fwd_peer *p = peer_get(f, AF_INET, src, now);

	if ((int64_t)now > p->last)
		p->tokens += (uint64_t)((int64_t)now - p->last);
	if (p->tokens > FWD_RT_ERROR_BURST_NS)
		p->tokens = FWD_RT_ERROR_BURST_NS;
	p->last = (int64_t)now;
	if (p->tokens < FWD_RT_ERROR_COST_NS) {
		f->stats[port]->icmp_limited_host++;
		return 0;
	}
	p->tokens -= FWD_RT_ERROR_COST_NS;
	return 1;
}

/* A buffer for a packet grogso originates; the miss is counted on @port. */
static struct pkt *gen_alloc(struct fwd *f, unsigned int port)
{
	struct pkt *q = pkt_alloc(f->pool);

	if (!q)
		count(f, port, DROP_NO_BUFFER);
	return q;
}

static uint32_t port_mtu(const struct fwd *f, unsigned int port);
static void frag4_output(struct fwd *f, unsigned int port, struct pkt *p,
			 uint32_t mtu, uint64_t now);
static void frag6_output(struct fwd *f, unsigned int port, struct pkt *p,
			 uint32_t mtu, uint64_t now);

/*
 * Send packet @q that grogso made out of @port.  An echo reply to a
 * datagram that came in fragments may be longer than the link: it
 * leaves in fragments, as Linux's ip_fragment and ip6_fragment cut it.
 */
static void gen_send(struct fwd *f, unsigned int port, struct pkt *q,
		     uint64_t now)
{
	uint32_t mtu = port_mtu(f, port);

	if (pkt_parse(q) != DROP_NONE) {
		/* cannot happen with the builders below; never send it */
		drop(f, port, q, DROP_CONTROL);
		return;
	}
	q->port = port;
	q->ts_ns = now;
	if (pkt_ip_len(q) > mtu && q->l3 == PKT_L3_IPV4)
		frag4_output(f, port, q, mtu, now);
	else if (pkt_ip_len(q) > mtu && q->l3 == PKT_L3_IPV6)
		frag6_output(f, port, q, mtu, now);
	else
		f->tx(f->ctx, port, q);
}

/*
 * Ethernet header of a reply to @p leaving @port: to @dmac (NULL: the
 * frame's source), from the port's MAC; untagged, as fwd_input takes
 * nothing tagged.  Returns the header length.
 */
static uint32_t eth_reply(const struct fwd *f, unsigned int port,
			  const struct pkt *p, const uint8_t *dmac,
			  uint8_t *out, uint16_t type)
{
	memcpy(out, dmac ? dmac : p->data + 6, 6);
	memcpy(out + 6, f->port[port].mac, 6);
	put_be16(out + 12, type);
	return ETH_HLEN_;
}

/* An IPv4 header at @ip, with @optlen bytes of options (a multiple of
 * 4) already in place after it. */
static void ip4_hdr(uint8_t *ip, uint8_t tos, uint32_t tot, uint16_t id,
		    uint8_t proto, const uint8_t *src, const uint8_t *dst,
		    uint32_t optlen)
{
	ip[0] = (uint8_t)(0x40 | ((IPV4_HLEN + optlen) / 4));
	ip[1] = tos;
	put_be16(ip + 2, (uint16_t)tot);
	put_be16(ip + 4, id);
	put_be16(ip + 6, 0);
	ip[8] = FWD_TTL_OUT;
	ip[9] = proto;
	put_be16(ip + 10, 0);
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
	put_be16(ip + 10, csum_ip4_header(ip, IPV4_HLEN + optlen));
}

static void ip6_hdr(uint8_t *ip, uint32_t vtcfl, uint32_t plen, uint8_t next,
		    uint8_t hop, const uint8_t *src, const uint8_t *dst)
{
	put_be32(ip, vtcfl);
	put_be16(ip + 4, (uint16_t)plen);
	ip[6] = next;
	ip[7] = hop;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
}

/* ICMPv6 checksum over the pseudo-header of the IPv6 header at @ip. */
static void icmp6_csum(uint8_t *ip, uint8_t *icmp, uint32_t len)
{
	uint64_t s = csum_pseudo6(ip + 8, ip + 24, IPPROTO_ICMPV6_, len);

	put_be16(icmp + 2, 0);
	put_be16(icmp + 2, csum_finish(csum_partial(icmp, len, s)));
}

static void icmp4_csum(uint8_t *icmp, uint32_t len)
{
	put_be16(icmp + 2, 0);
	put_be16(icmp + 2, csum_finish(csum_partial(icmp, len, 0)));
}

/* RFC 1812 4.3.2.7 / RFC 792: the types that are errors. */
static int icmp4_is_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/*
 * Walk @p's IPv6 extension headers to the upper-layer header.  Returns
 * its offset from p->data with *proto set (and, if @field is not NULL,
 * *field the offset from the IPv6 header of the byte that names it), or
 * 0 when the chain is truncated or too long.  *frag is the offset field
 * (offset and M flag) of the last fragment header passed, 0 for none; a
 * fragment with a non-zero offset, whose upper-layer header is
 * elsewhere, ends the walk with 0 returned.
 */
static uint32_t ip6_upper(const struct pkt *p, uint8_t *proto, uint16_t *frag,
			  uint32_t *field)
{
	const uint8_t *ip = p->data + p->l3_off;
	uint32_t off = p->l3_off + IPV6_HLEN, at = 6;
	uint32_t end = p->l3_off + pkt_ip_len(p);
	uint8_t next = ip[6];
	int n;

	/* headers are always in the linear part; an aggregate's payload
	 * may not be, so never walk into it */
	if (end > p->len)
		end = p->len;
	if (off > end)
		return 0;

	*frag = 0;
	for (n = 0; n < IP6_EXT_WALK_MAX; n++) {
		switch (next) {
		case IP6_NEXT_HOPOPTS:
		case IP6_NEXT_ROUTING:
		case IP6_NEXT_DSTOPTS:
			if (end - off < 8)
				return 0;
			next = p->data[off];
			at = off - p->l3_off;
			off += ((uint32_t)p->data[off + 1] + 1) * 8;
			if (off > end)
				return 0;
			break;
		case IP6_NEXT_FRAGMENT:
			if (end - off < 8)
				return 0;
			*frag = get_be16(p->data + off + 2);
			if (*frag & 0xfff8)
				return 0;
			next = p->data[off];
			at = off - p->l3_off;
			off += 8;
			break;
		default:
			*proto = next;
			if (field)
				*field = at;
			return off;
		}
	}
	return 0;
}

/*
 * Copy the first @len bytes of @p's IP datagram to @out for an ICMP
 * error.  An aggregate's payload may lie in its fragment chain, past the
 * linear part, so the copy walks the chain (skb_copy_bits in Linux's
 * icmp_send).  Returns 0; on a range past the frame, which the parser
 * rules out, frees the half-built error @q and returns -EINVAL.
 */
static int quote(struct fwd *f, const struct pkt *p, uint8_t *out,
		 uint32_t len, struct pkt *q)
{
	if (!pkt_copy_bits(p, p->l3_off, out, len))
		return 0;
	pkt_free(f->pool, q);
	return -EINVAL;
}

/*
 * ICMP error about @p (which arrived on @in) back to its source:
 * @type/@code, and @info: the MTU of fragmentation-needed (RFC 1191),
 * the gateway of a redirect (host byte order).  Quotes as
 * much of the datagram as fits 576 bytes (RFC 1812 4.3.2.3, as Linux
 * does).  Not sent (RFC 1812 4.3.2.7) about an ICMP error, a non-first
 * fragment, a link-layer broadcast or multicast, a multicast or broadcast
 * destination, or a source that names no single host; and not more often
 * than the rate limit allows.
 */
static void icmp4_error(struct fwd *f, unsigned int in, const struct pkt *p,
			uint8_t type, uint8_t code, uint32_t info, uint64_t now)
{
	const uint8_t *ip = p->data + p->l3_off;
	uint32_t hl = (uint32_t)(ip[0] & 0x0f) * 4;
	uint32_t ip_len = pkt_ip_len(p), qlen, l2;
	uint8_t *o, *icmp, opts[IP4_OPTS_MAX];
	const uint8_t *src;
	struct pkt *q;
	int olen;

	if (p->data[0] & 1)
		return;
	if (get_be16(ip + 6) & IP4_OFF_MASK)
		return;
	if (ip4_bad_src(ip + 12) || ip4_bad_dst(ip + 16))
		return;
	if (ip[9] == IPPROTO_ICMP_ &&
	    (ip_len <= hl || icmp4_is_error(ip[hl])))
		return;
	/* about a datagram for us, from the address it was sent to, as
	 * Linux's icmp_send; else from the ingress port */
	src = ip4_ours(f, ip + 16) ? ip + 16 : error_src(f, in, AF_INET, ip + 12);
	if (!src)
		return;
	/* the datagram's options, echoed as Linux echoes them */
	olen = ip4_opts_echo(f, p, opts, src, now);
	if (olen < 0)
		return;
	if (icmp4_limited(type, code) &&
	    !icmp_allow(f, in, AF_INET, ip + 12, now))
		return;
	q = gen_alloc(f, in);
	if (!q)
		return;
	/* as much as the frame holds (Linux quotes skb->len bytes: less
	 * than the datagram's length for a first fragment reassembly cut
	 * to a multiple of 8) */
	qlen = ip_len;
	if (qlen > pkt_frame_len(p) - p->l3_off)
		qlen = pkt_frame_len(p) - p->l3_off;
	if (qlen > FWD_ICMP4_MAX - IPV4_HLEN - (uint32_t)olen - 8)
		qlen = FWD_ICMP4_MAX - IPV4_HLEN - (uint32_t)olen - 8;
	l2 = eth_reply(f, in, p, NULL, q->data, ETHTYPE_IPV4);
	o = q->data + l2;
	memcpy(o + IPV4_HLEN, opts, (size_t)olen);
	icmp = o + IPV4_HLEN + olen;
	icmp[0] = type;
	icmp[1] = code;
	if (type == ICMP_DEST_UNREACH && info > 0xffff)
		info = 0xffff;
	put_be32(icmp + 4, info);
	if (quote(f, p, icmp + 8, qlen, q))
		return;
	icmp4_csum(icmp, 8 + qlen);
	ip4_hdr(o, IP4_TOS_ICMP_ERR | (ip[1] & IP4_TOS_ERR_KEEP),
		IPV4_HLEN + (uint32_t)olen + 8 + qlen, f->ip_id++,
		IPPROTO_ICMP_, src, ip + 12, (uint32_t)olen);
	q->len = l2 + IPV4_HLEN + (uint32_t)olen + 8 + qlen;
	if (type == ICMP_REDIRECT)
		f->stats[in]->redirects++;
	else
		f->stats[in]->icmp_sent++;
	gen_send(f, in, q, now);
}

/*
 * ICMPv6 error about @p back to its source, with @info (the MTU of a
 * packet-too-big).  Quotes as much as fits 1280 bytes.  Not sent (RFC 4443
 * 2.4(e)) about an ICMPv6 error, a multicast destination or link-layer
 * multicast, or an unspecified or multicast source.  Unlike IPv4, a
 * fragment that is not the first gets its error too (Linux's
 * is_ineligible cannot tell what it carries, so lets it be).
 * Packet-too-big is exempt from the rate limit, as in Linux's
 * icmpv6_xrlim_allow: path MTU discovery depends on it.
 */
static void icmp6_error(struct fwd *f, unsigned int in, const struct pkt *p,
			uint8_t type, uint8_t code, uint32_t info, uint64_t now)
{
	const uint8_t *ip = p->data + p->l3_off;
	uint32_t ip_len = pkt_ip_len(p), qlen, l2, up;
	const uint8_t *src;
	uint8_t *o, *icmp, proto = 0;
	struct pkt *q;
	uint16_t frag;
	/* RFC 4443 2.4(e.3): an option whose type asks for it is reported
	 * even to a multicast destination */
	int any_dst = type == ICMP6_PARAMPROB && code == ICMP6_UNK_OPTION &&
		      info < ip_len && (ip[info] & 0xc0) == 0x80;

	if (((p->data[0] & 1) || ip6_mcast(ip + 24)) && !any_dst)
		return;
	if (ip6_mcast(ip + 8) || is_zero(ip + 8, 16))
		return;
	/* an ICMPv6 error is not answered, nor an ICMPv6 header that is
	 * not there; but one that fragmentation left out might be any
	 * message, and Linux's is_ineligible lets it be */
	up = ip6_upper(p, &proto, &frag, NULL);
	if (up && proto == IPPROTO_ICMPV6_ &&
	    (up >= p->l3_off + ip_len ? !frag : p->data[up] < 128))
		return;
	if (type != ICMP6_PKT_TOOBIG &&
	    !icmp_allow(f, in, AF_INET6, ip + 8, now))
		return;
	q = gen_alloc(f, in);
	if (!q)
		return;
	/* as in icmp4_error (Linux's icmp6_send: our unicast or anycast
	 * address) */
	if (owns_for_input(f, in, AF_INET6, ip + 24) ||
	    ip6_subnet_anycast(f, ip + 24))
		src = ip + 24;
	else
		src = error_src(f, in, AF_INET6, ip + 8);
	qlen = ip_len;
	if (qlen > FWD_ICMP6_MAX - IPV6_HLEN - 8)
		qlen = FWD_ICMP6_MAX - IPV6_HLEN - 8;
	l2 = eth_reply(f, in, p, NULL, q->data, ETHTYPE_IPV6);
	o = q->data + l2;
	ip6_hdr(o, 6u << 28, 8 + qlen, IPPROTO_ICMPV6_, FWD_TTL_OUT, src,
		ip + 8);
	icmp = o + IPV6_HLEN;
	icmp[0] = type;
	icmp[1] = code;
	put_be32(icmp + 4, info);
	if (quote(f, p, icmp + 8, qlen, q))
		return;
	icmp6_csum(o, icmp, 8 + qlen);
	q->len = l2 + IPV6_HLEN + 8 + qlen;
	f->stats[in]->icmp_sent++;
	gen_send(f, in, q, now);
}

static void icmp_error(struct fwd *f, unsigned int in, const struct pkt *p,
		       uint8_t type4, uint8_t code4, uint8_t type6,
		       uint8_t code6, uint32_t info, uint64_t now)
{
	if (p->l3 == PKT_L3_IPV4)
		icmp4_error(f, in, p, type4, code4, info, now);
	else
		icmp6_error(f, in, p, type6, code6, info, now);
}

/* ---- output: MAC rewrite and IPv4 fragmentation ---- */

/* L3 length of the largest packet @p puts on the wire: an aggregate is
 * judged by its segments (headers + gso_size), as skb_gso_validate_network_len. */
static uint32_t wire_ip_len(const struct pkt *p)
{
	uint32_t len = pkt_ip_len(p);

	if (p->gso_size && p->pay_off > p->l3_off) {
		uint32_t seg = (uint32_t)(p->pay_off - p->l3_off) + p->gso_size;

		if (seg < len)
			len = seg;
	}
	return len;
}

static uint32_t port_mtu(const struct fwd *f, unsigned int port)
{
	return f->port[port].mtu ? f->port[port].mtu : FWD_MTU_DEFAULT;
}

/*
 * Options not marked "copied" appear in the first fragment only; later
 * ones get NOPs in their place, keeping the header length (RFC 791, as
 * Linux's ip_options_fragment does).
 */
static void ip4_opts_for_later_frags(uint8_t *hdr, uint32_t hl)
{
	uint32_t off = IPV4_HLEN, olen;

	while (off < hl) {
		uint8_t type = hdr[off];

		if (type == 0)          /* end of option list */
			break;
		if (type == 1) {        /* NOP */
			off++;
			continue;
		}
		if (off + 1 >= hl)
			break;
		olen = hdr[off + 1];
		if (olen < 2 || off + olen > hl)
			break;
		if (!(type & 0x80))
			memset(hdr + off, 1, olen);
		off += olen;
	}
}

/*
 * Cut the IPv4 datagram @p (DF clear, MACs already written) into
 * fragments that fit @mtu and send them out of @port (RFC 791): payload in
 * multiples of 8 bytes, MF on all but the last (which keeps the
 * original's MF: @p may be a fragment itself), offsets continuing the
 * original's.  All or nothing: when the pool cannot hold every fragment
 * none is sent.
 */
static void frag4_output(struct fwd *f, unsigned int port, struct pkt *p,
			 uint32_t mtu, uint64_t now)
{
	const uint8_t *ip = p->data + p->l3_off;
	uint32_t hl = (uint32_t)(ip[0] & 0x0f) * 4;
	uint32_t ip_len = pkt_ip_len(p), pay = ip_len - hl;
	uint32_t chunk, nfrag, i, done, l2 = p->l3_off;
	uint16_t frag = get_be16(ip + 6);
	uint32_t off0 = (uint32_t)(frag & IP4_OFF_MASK) * 8;
	uint8_t later[60];

	if (mtu < hl + 8) {
		drop(f, p->port, p, DROP_MTU);
		return;
	}
	/* the copies below read the payload from the linear part */
	if (pkt_linearize(p, f->pool)) {
		drop(f, p->port, p, DROP_GSO_ERROR);
		return;
	}
	/* fragments cannot carry a partial checksum: finish it first */
	if (pkt_csum_complete(p)) {
		drop(f, p->port, p, DROP_GSO_ERROR);
		return;
	}
	chunk = (mtu - hl) & ~7u;
	nfrag = (pay + chunk - 1) / chunk;
	if (f->pool->nfree < nfrag) {
		drop(f, p->port, p, DROP_NO_BUFFER);
		return;
	}
	memcpy(later, ip, hl);
	ip4_opts_for_later_frags(later, hl);
	for (i = 0, done = 0; i < nfrag; i++, done += chunk) {
		struct pkt *q = pkt_alloc(f->pool);
		uint32_t n = pay - done < chunk ? pay - done : chunk;
		uint16_t fo = (uint16_t)((off0 + done) / 8);
		uint8_t *o;

		memcpy(q->data, p->data, l2);
		o = q->data + l2;
		memcpy(o, i ? later : ip, hl);
		memcpy(o + hl, ip + hl + done, n);
		if (i + 1 < nfrag)
			fo |= IP4_MF;
		else
			fo |= frag & IP4_MF;
		put_be16(o + 2, (uint16_t)(hl + n));
		put_be16(o + 6, fo);
		put_be16(o + 10, 0);
		put_be16(o + 10, csum_ip4_header(o, hl));
		q->len = l2 + hl + n;
		f->stats[port]->frags++;
		gen_send(f, port, q, now);
	}
	pkt_free(f->pool, p);
}

/*
 * Cut IPv6 packet @p that grogso made (no extension headers) into
 * fragments that fit @mtu and send them out of @port, as Linux's
 * ip6_fragment: payload in multiples of 8 bytes behind a fragment
 * header (1448 bytes at MTU 1500), one ID for all.  Linux draws the ID
 * from a hash of the addresses; grogso counts.  All or nothing, as
 * frag4_output.
 */
static void frag6_output(struct fwd *f, unsigned int port, struct pkt *p,
			 uint32_t mtu, uint64_t now)
{
	const uint8_t *ip = p->data + p->l3_off;
	uint32_t pay = pkt_ip_len(p) - IPV6_HLEN, l2 = p->l3_off;
	uint32_t chunk, nfrag, i, done, id = ++f->ip6_frag_id;

	if (mtu < IPV6_HLEN + IP6_FRAG_HLEN + 8) {
		drop(f, p->port, p, DROP_MTU);
		return;
	}
	chunk = (mtu - IPV6_HLEN - IP6_FRAG_HLEN) & ~7u;
	nfrag = (pay + chunk - 1) / chunk;
	if (f->pool->nfree < nfrag) {
		drop(f, p->port, p, DROP_NO_BUFFER);
		return;
	}
	for (i = 0, done = 0; i < nfrag; i++, done += chunk) {
		struct pkt *q = pkt_alloc(f->pool);
		uint32_t n = pay - done < chunk ? pay - done : chunk;
		uint8_t *o, *fh;

		memcpy(q->data, p->data, l2 + IPV6_HLEN);
		o = q->data + l2;
		put_be16(o + 4, (uint16_t)(IP6_FRAG_HLEN + n));
		o[6] = IP6_NEXT_FRAGMENT;
		fh = o + IPV6_HLEN;
		fh[0] = ip[6];
		fh[1] = 0;
		put_be16(fh + 2, (uint16_t)(done | (i + 1 < nfrag)));
		put_be32(fh + 4, id);
		memcpy(fh + IP6_FRAG_HLEN, ip + IPV6_HLEN + done, n);
		q->len = l2 + IPV6_HLEN + IP6_FRAG_HLEN + n;
		f->stats[port]->frags++;
		gen_send(f, port, q, now);
	}
	pkt_free(f->pool, p);
}

/*
 * A DF-clear IPv4 aggregate (MACs written) whose segments do not fit
 * @mtu: cut it into its segments and fragment each as a plain datagram,
 * as Linux's ip_finish_output_gso does (skb_gso_segment, then
 * ip_fragment per segment).  Passed on whole, it would put datagrams
 * over the MTU on the link (a veth peer even accepts them; a real link
 * drops them).  Every segment is built into its own buffer, so the
 * fragmenting reads linear memory; checksums are completed, since
 * fragments cannot carry a partial one.  IDs follow --gso-ipid as on
 * the egress: an aggregate GRO found fixed keeps its one ID, which is
 * safe because each segment's fragments leave back to back.  All or
 * nothing, like frag4_output: when the pool cannot hold every fragment,
 * none is sent.
 */
static void gso_frag_output(struct fwd *f, unsigned int port, struct pkt *p,
			    uint32_t mtu, uint64_t now)
{
	struct gso_opts o = { .ipid = f->gso_ipid, .csum_offload = 0 };
	uint32_t hl = (uint32_t)(p->data[p->l3_off] & 0x0f) * 4;
	uint32_t seg_ip, chunk, nfrag, i;
	struct gso_result res;
	int n;

	if (mtu < hl + 8) {
		drop(f, p->port, p, DROP_MTU);
		return;
	}
	n = gso_segment(p, &o, f->segs, FWD_GSO_SEGS_MAX, &res);
	if (n < 0 && n != -ENOSPC && p->frag_first) {
		/* a chain gso_segment cannot walk (a segment across two
		 * pieces): one copy makes it linear */
		if (!pkt_linearize(p, f->pool))
			n = gso_segment(p, &o, f->segs, FWD_GSO_SEGS_MAX, &res);
	}
	if (n <= 0) {
		drop(f, p->port, p, DROP_GSO_ERROR);
		return;
	}
	/* the first segment is the largest: it sizes the fragment count */
	seg_ip = f->segs[0].hdr_len - p->l3_off + f->segs[0].pay_len;
	chunk = (mtu - hl) & ~7u;
	nfrag = seg_ip > mtu ? (seg_ip - hl + chunk - 1) / chunk : 1;
	if (f->pool->nfree < (uint32_t)n * nfrag + 1) {
		drop(f, p->port, p, DROP_NO_BUFFER);
		return;
	}
	f->stats[port]->gso_frag++;
	f->stats[port]->gso_frag_segs += (uint64_t)n;
	if (f->gso_log)
		f->gso_log(f->ctx, port, p, &res);
	f->stats[port]->gso_software++;
	f->stats[port]->gso_segs += (uint64_t)n;
	for (i = 0; i < (uint32_t)n; i++) {
		struct pkt *q = pkt_alloc(f->pool);
		int len = gso_seg_linearize(&f->segs[i], q->data, PKT_DATA_MAX);

		if (len < 0) {
			pkt_free(f->pool, q);
			count(f, p->port, DROP_GSO_ERROR);
			continue;
		}
		q->len = (uint32_t)len;
		if (pkt_parse(q) != DROP_NONE) {
			/* cannot happen: gso_segment wrote valid headers */
			pkt_free(f->pool, q);
			count(f, p->port, DROP_GSO_ERROR);
			continue;
		}
		q->port = p->port;
		q->ts_ns = p->ts_ns;
		q->csum = PKT_CSUM_VALID;
		if (pkt_ip_len(q) > mtu)
			frag4_output(f, port, q, mtu, now);
		else
			f->tx(f->ctx, port, q);         /* a short last segment */
	}
	pkt_free(f->pool, p);
}

static void neigh_output(struct fwd *f, struct fwd_neigh *n, struct pkt *p,
			 uint64_t now)
{
	uint32_t mtu = port_mtu(f, n->port);

	memcpy(p->data, n->mac, 6);
	memcpy(p->data + 6, f->port[n->port].mac, 6);
	/* ip4_input let only DF-clear datagrams through over the MTU */
	if (p->l3 == PKT_L3_IPV4 && wire_ip_len(p) > mtu &&
	    !(get_be16(p->data + p->l3_off + 6) & IP4_DF)) {
		if (p->gso_size && pkt_payload_len(p) > p->gso_size)
			gso_frag_output(f, n->port, p, mtu, now);
		else
			frag4_output(f, n->port, p, mtu, now);
		return;
	}
	f->tx(f->ctx, n->port, p);
}

/* ---- the neighbour table ---- */

static uint32_t neigh_hash(unsigned int port, int family, const uint8_t *a)
{
	uint32_t h = 2166136261u ^ port ^ ((uint32_t)family << 8);
	size_t i;

	for (i = 0; i < alen(family); i++)
		h = (h ^ a[i]) * 16777619u;     /* FNV-1a */
	return h & (FWD_NEIGH_HASH - 1);
}

static struct fwd_neigh *neigh_find(const struct fwd *f, unsigned int port,
				    int family, const uint8_t *a)
{
	int32_t i = f->bucket[neigh_hash(port, family, a)];

	while (i >= 0) {
		const struct fwd_neigh *n = &f->neigh[i];

		if (n->port == port && n->family == family &&
		    !memcmp(n->addr, a, alen(family)))
			return (struct fwd_neigh *)n;
		i = n->hnext;
	}
	return NULL;
}

/* REACHABLE turns STALE by itself once the confirmation is old. */
static enum fwd_neigh_state neigh_state(const struct fwd_neigh *n,
					uint64_t now)
{
	if (n->state == FWD_NEIGH_REACHABLE &&
	    now >= n->confirmed + FWD_NEIGH_REACHABLE_NS)
		return FWD_NEIGH_STALE;
	return (enum fwd_neigh_state)n->state;
}

static void neigh_unlink(struct fwd *f, struct fwd_neigh *n)
{
	int32_t idx = (int32_t)(n - f->neigh);
	int32_t *pp = &f->bucket[neigh_hash(n->port, n->family, n->addr)];

	while (*pp >= 0 && *pp != idx)
		pp = &f->neigh[*pp].hnext;
	if (*pp == idx)
		*pp = n->hnext;
	n->state = FWD_NEIGH_NONE;
	n->next_retry = 0;
	n->hnext = -1;
}

/*
 * A new entry for @a: a free slot, else the stale entry confirmed longest
 * ago that is neither resolving nor probing.  NULL when all are busy.
 */
static struct fwd_neigh *neigh_alloc(struct fwd *f, unsigned int port,
				     int family, const uint8_t *a,
				     uint64_t now)
{
	struct fwd_neigh *n = NULL, *victim = NULL;
	uint32_t h;
	int i;

	for (i = 0; i < FWD_NEIGH_MAX; i++) {
		struct fwd_neigh *x = &f->neigh[i];

		if (x->state == FWD_NEIGH_NONE) {
			n = x;
			break;
		}
		if (neigh_state(x, now) == FWD_NEIGH_STALE && !x->next_retry &&
		    (!victim || x->confirmed < victim->confirmed))
			victim = x;
	}
	if (!n) {
		if (!victim)
			return NULL;
		neigh_unlink(f, victim);
		n = victim;
	}
	memset(n, 0, sizeof(*n));
	n->port = (uint8_t)port;
	n->family = family;
	memcpy(n->addr, a, alen(family));
	h = neigh_hash(port, family, a);
	n->hnext = f->bucket[h];
	f->bucket[h] = (int32_t)(n - f->neigh);
	return n;
}

/*
 * Ask for @n's link-layer address: an ARP request (RFC 826) or a Neighbor
 * Solicitation (RFC 4861 7.2.2), broadcast / to the solicited-node group
 * while resolving, unicast to the known address while probing a stale
 * entry (Linux's NUD_PROBE).
 */
static void neigh_solicit(struct fwd *f, struct fwd_neigh *n, uint64_t now)
{
	unsigned int port = n->port;
	const uint8_t *src = port_src(f, port, n->family, n->addr);
	const uint8_t *mac = f->port[port].mac;
	int unicast = n->state == FWD_NEIGH_PROBE;
	struct pkt *q;
	uint8_t *o;

	if (!src)
		return;
	q = gen_alloc(f, port);
	if (!q)
		return;
	o = q->data;
	memcpy(o + 6, mac, 6);
	if (n->family == AF_INET) {
		uint8_t *a = o + ETH_HLEN_;

		memcpy(o, unicast ? n->mac : mac_bcast, 6);
		put_be16(o + 12, ETHTYPE_ARP);
		put_be16(a, 1);                 /* Ethernet */
		put_be16(a + 2, ETHTYPE_IPV4);
		a[4] = 6;
		a[5] = 4;
		put_be16(a + 6, ARP_OP_REQUEST);
		memcpy(a + 8, mac, 6);
		memcpy(a + 14, src, 4);
		memset(a + 18, 0, 6);
		memcpy(a + 24, n->addr, 4);
		q->len = ETH_HLEN_ + ARP_LEN;
	} else {
		uint8_t *ip = o + ETH_HLEN_, *icmp = ip + IPV6_HLEN;
		uint8_t dst[16];

		if (unicast) {
			memcpy(dst, n->addr, 16);
			memcpy(o, n->mac, 6);
		} else {
			ip6_solnode(dst, n->addr);
			o[0] = 0x33;            /* RFC 2464 7: 33:33 + low 32 bits */
			o[1] = 0x33;
			memcpy(o + 2, dst + 12, 4);
		}
		put_be16(o + 12, ETHTYPE_IPV6);
		ip6_hdr(ip, 6u << 28, ND_MSG_LEN + 8, IPPROTO_ICMPV6_,
			ND_HOP_LIMIT, src, dst);
		memset(icmp, 0, ND_MSG_LEN + 8);
		icmp[0] = ND_NEIGHBOR_SOLICIT;
		memcpy(icmp + 8, n->addr, 16);
		icmp[24] = ND_OPT_SLLA;
		icmp[25] = 1;
		memcpy(icmp + 26, mac, 6);
		icmp6_csum(ip, icmp, ND_MSG_LEN + 8);
		q->len = ETH_HLEN_ + IPV6_HLEN + ND_MSG_LEN + 8;
	}
	f->stats[port]->solicits++;
	gen_send(f, port, q, now);
}

/*
 * Linux's truesize of one frame of @len bytes as a host's UDP socket
 * makes it (ip_append_data, __alloc_skb): the IP datagram plus 31 bytes
 * of room, aligned to 64, plus 320 of shared info, in the 576-byte head
 * cache or the power of two kmalloc takes; plus 256 for the sk_buff.
 * A veth carries it unchanged: 832 for a 106-byte frame, 2304 for one
 * of 1514, as measured on 6.18.
 */
static uint32_t frame_truesize(uint32_t len)
{
	uint32_t data = ((len - 14 + 31 + 63) & ~63u) + 320, k = 1024;

	if (data <= 576)
		return 576 + 256;
	while (k < data)
		k <<= 1;
	return k + 256;
}

/* What Linux would count @p as against unres_qlen_bytes (an estimate:
 * the real figure depends on who made the skb); an aggregate as its
 * segments. */
static uint32_t truesize(const struct pkt *p)
{
	uint32_t len = pkt_frame_len(p), segs, last;

	if (!p->gso_size || len <= p->pay_off + p->gso_size)
		return frame_truesize(len);
	segs = (len - p->pay_off) / p->gso_size;
	last = (len - p->pay_off) % p->gso_size;
	return segs * frame_truesize(p->pay_off + p->gso_size) +
	       (last ? frame_truesize(p->pay_off + last) : 0);
}

/* Take what @n holds off it: its packets, in arrival order. */
static struct pkt *neigh_unqueue(struct fwd *f, struct fwd_neigh *n)
{
	struct pkt *p = n->q.head;

	f->held -= n->q.len;
	memset(&n->q, 0, sizeof(n->q));
	n->qbytes = 0;
	return p;
}

/*
 * Hold @p for @n while it resolves, as Linux's neigh_queue: when the
 * bytes held would pass unres_qlen_bytes, the oldest are dropped first.
 * All neighbours together hold at most a quarter of the buffers, so
 * that receiving never runs dry; past that, the oldest of @n go too, and
 * @p itself when @n holds nothing.
 */
static void neigh_queue(struct fwd *f, struct fwd_neigh *n, struct pkt *p)
{
	uint32_t ts = truesize(p);

	while (n->q.head && (n->qbytes + ts > FWD_NEIGH_QBYTES ||
			    f->held >= f->held_max)) {
		struct pkt *old = pkt_queue_pop(&n->q);

		n->qbytes -= truesize(old);
		f->held--;
		drop(f, old->port, old, DROP_NEIGH_QUEUE);
	}
	if (f->held >= f->held_max) {
		drop(f, p->port, p, DROP_NEIGH_QUEUE);
		return;
	}
	pkt_queue_push(&n->q, p);
	n->qbytes += ts;
	f->held++;
}

static void neigh_release(struct fwd *f, struct fwd_neigh *n, uint64_t now)
{
	struct pkt *p = neigh_unqueue(f, n);

	while (p) {
		struct pkt *next = p->next;

		p->next = NULL;
		neigh_output(f, n, p, now);
		p = next;
	}
}

/*
 * Resolution failed: drop what was held, and tell each sender the host is
 * unreachable (RFC 1812 4.3.3.1 / RFC 4443 3.1 code 3), as Linux's
 * neigh_invalidate does through the error report of each queued packet.
 */
static void neigh_fail(struct fwd *f, struct fwd_neigh *n, uint64_t now)
{
	struct pkt *p = neigh_unqueue(f, n);

	while (p) {
		struct pkt *next = p->next;

		p->next = NULL;
		/* Linux takes IPv4 options in again before it answers
		 * (ipv4_send_dest_unreach): this hop fills one more slot,
		 * and options it now finds wrong mean no answer at all */
		if (p->l3 == PKT_L3_IPV4 && p->ip_opts) {
			p->opt_rr = 0;
			p->opt_ts = 0;
			p->opt_cipso = 0;
			p->opt_flags = 0;
			if (ip4_opts_input(f, p->port, p, 0, now) > 0) {
				drop(f, p->port, p, DROP_NEIGH);
				p = next;
				continue;
			}
		}
		icmp_error(f, p->port, p, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH,
			   ICMP6_DEST_UNREACH, ICMP6_ADDR_UNREACH, 0, now);
		drop(f, p->port, p, DROP_NEIGH);
		p = next;
	}
	neigh_unlink(f, n);
}

/*
 * What was learnt about @a on @port: its MAC, and whether that proves
 * reachability (@reachable: a reply to us) or only says where it is (a
 * request, a gratuitous ARP, an unsolicited NA: STALE, as RFC 4861
 * 7.2.3/7.2.5 and Linux's neigh_update).  A new entry only with @create.
 * An entry that was resolving sends what it held.
 */
static void neigh_learn(struct fwd *f, unsigned int port, int family,
			const uint8_t *a, const uint8_t *mac, int reachable,
			int create, uint64_t now)
{
	struct fwd_neigh *n = neigh_find(f, port, family, a);
	int changed;

	if (!n) {
		if (!create)
			return;
		n = neigh_alloc(f, port, family, a, now);
		if (!n)
			return;
		memcpy(n->mac, mac, 6);
		n->state = FWD_NEIGH_STALE;
	}
	changed = memcmp(n->mac, mac, 6) != 0;
	memcpy(n->mac, mac, 6);
	if (reachable) {
		n->state = FWD_NEIGH_REACHABLE;
		n->confirmed = now;
		n->next_retry = 0;
		n->tries = 0;
	} else if (changed || n->state == FWD_NEIGH_INCOMPLETE) {
		n->state = FWD_NEIGH_STALE;
		n->next_retry = 0;
		n->tries = 0;
	}
	if (n->q.head)
		neigh_release(f, n, now);
}

/* Send @p (MACs not yet written) to next hop @nh on @port. */
static void neigh_send(struct fwd *f, unsigned int port, int family,
		       const uint8_t *nh, struct pkt *p, uint64_t now)
{
	struct fwd_neigh *n = neigh_find(f, port, family, nh);

	if (!n) {
		n = neigh_alloc(f, port, family, nh, now);
		if (!n) {
			drop(f, p->port, p, DROP_NEIGH);
			return;
		}
		n->state = FWD_NEIGH_INCOMPLETE;
		n->tries = 1;
		n->next_retry = now + FWD_NEIGH_RETRANS_NS;
		set_deadline(f, n->next_retry);
		neigh_solicit(f, n, now);
	}
	switch (neigh_state(n, now)) {
	case FWD_NEIGH_INCOMPLETE:
		neigh_queue(f, n, p);
		return;
	case FWD_NEIGH_STALE:
		/* use it, and check in 5 s that it is still there, unless
		 * something confirms it meanwhile (RFC 4861 7.3.3, Linux's
		 * NUD_DELAY; forwarding confirms nothing, so Linux probes) */
		n->state = FWD_NEIGH_DELAY;
		n->tries = 0;
		n->next_retry = now + FWD_NEIGH_DELAY_NS;
		set_deadline(f, n->next_retry);
		break;
	default:
		break;
	}
	neigh_output(f, n, p, now);
}

/* ---- ARP ---- */

static void arp_reply(struct fwd *f, unsigned int in, const struct pkt *p,
		      const uint8_t *a, uint64_t now)
{
	struct pkt *q = gen_alloc(f, in);
	uint32_t l2;
	uint8_t *o;

	if (!q)
		return;
	l2 = eth_reply(f, in, p, a + 8, q->data, ETHTYPE_ARP);
	o = q->data + l2;
	memcpy(o, a, 6);                        /* htype, ptype, hlen, plen */
	put_be16(o + 6, ARP_OP_REPLY);
	memcpy(o + 8, f->port[in].mac, 6);
	memcpy(o + 14, a + 24, 4);              /* the address asked for */
	memcpy(o + 18, a + 8, 6);
	memcpy(o + 24, a + 14, 4);
	q->len = l2 + ARP_LEN;
	gen_send(f, in, q, now);
}

static void arp_input(struct fwd *f, unsigned int in, struct pkt *p,
		      uint64_t now)
{
	const uint8_t *a = p->data + p->l3_off;
	const uint8_t *sha, *spa, *tpa;
	uint16_t op;
	int learn;

	if (p->len < (uint32_t)p->l3_off + ARP_LEN || get_be16(a) != 1 ||
	    get_be16(a + 2) != ETHTYPE_IPV4 || a[4] != 6 || a[5] != 4) {
		drop(f, in, p, DROP_CONTROL);
		return;
	}
	op = get_be16(a + 6);
	sha = a + 8;
	spa = a + 14;
	tpa = a + 24;
	if ((op != ARP_OP_REQUEST && op != ARP_OP_REPLY) || (sha[0] & 1) ||
	    ip4_ours(f, spa)) {
		/* a group sender address, or someone using ours */
		drop(f, in, p, DROP_CONTROL);
		return;
	}
	/* 0.0.0.0 is an RFC 5227 probe: answer it, learn nothing */
	learn = !is_zero(spa, 4) && on_link(f, in, AF_INET, spa);
	if (ip4_ours(f, tpa)) {
		/* any address of ours, on either port, as Linux answers
		 * (arp_ignore 0).  RFC 826: the target merges the sender; a
		 * reply to us proves it reachable */
		if (learn)
			neigh_learn(f, in, AF_INET, spa, sha,
				    op == ARP_OP_REPLY, 1, now);
		if (op == ARP_OP_REQUEST)
			arp_reply(f, in, p, a, now);
		drop(f, in, p, DROP_LOCAL);
		return;
	}
	if (!memcmp(spa, tpa, 4)) {
		/* gratuitous: an announcement, taken as a hint (STALE) */
		if (learn) {
			neigh_learn(f, in, AF_INET, spa, sha, 0, 1, now);
			drop(f, in, p, DROP_LOCAL);
		} else {
			drop(f, in, p, DROP_CONTROL);
		}
		return;
	}
	/* someone else's question: RFC 826 still refreshes a known sender */
	if (learn)
		neigh_learn(f, in, AF_INET, spa, sha, 0, 0, now);
	drop(f, in, p, DROP_OTHER_HOST);
}

/* ---- ICMP and NDP to us ---- */

/* ICMP to us: echo and timestamp requests answered, the rest dropped. */
static void icmp4_input(struct fwd *f, unsigned int in, struct pkt *p,
			uint64_t now)
{
	const uint8_t *ip = p->data + p->l3_off;
	uint32_t hl = (uint32_t)(ip[0] & 0x0f) * 4;
	uint32_t ilen = pkt_ip_len(p) - hl, l2;
	const uint8_t *icmp = ip + hl;
	uint8_t *o, opts[IP4_OPTS_MAX];
	struct pkt *q;
	int olen;

	/* ICMP is never merged, so a chained packet here is not an echo;
	 * the checksum below reads the linear part only.  Linux answers
	 * echo and timestamp requests (the latter with 4 bytes at least) */
	if (p->frag_first || ilen < 8 ||
	    (icmp[0] != ICMP_ECHO && (icmp[0] != ICMP_TIMESTAMP || ilen < 12)) ||
	    csum_finish(csum_partial(icmp, ilen, 0)) != 0 ||
	    ip4_bad_src(ip + 12)) {
		/* other ICMP to us is not ours to act on */
		drop(f, in, p, DROP_CONTROL);
		return;
	}
	if (icmp[0] == ICMP_TIMESTAMP)
		ilen = 20;
	/* the options come back as Linux's icmp_reply echoes them */
	olen = ip4_opts_echo(f, p, opts, ip + 16, now);
	q = olen < 0 ? NULL : gen_alloc(f, in);
	if (q) {
		uint32_t hlen = IPV4_HLEN + (uint32_t)olen;

		l2 = eth_reply(f, in, p, NULL, q->data, ETHTYPE_IPV4);
		o = q->data + l2;
		/* RFC 792: same data, type 0; the TOS is kept, as Linux's
		 * icmp_reply does */
		memcpy(o + IPV4_HLEN, opts, (size_t)olen);
		ip4_hdr(o, ip[1], hlen + ilen, f->ip_id++, IPPROTO_ICMP_,
			ip + 16, ip + 12, (uint32_t)olen);
		if (icmp[0] == ICMP_ECHO) {
			memcpy(o + hlen, icmp, ilen);
			o[hlen] = ICMP_ECHOREPLY;
		} else {
			/* icmp_timestamp: the originate time back, then the
			 * time received and sent, ms since midnight UT */
			memcpy(o + hlen, icmp, 12);
			o[hlen] = ICMP_TIMESTAMPREPLY;
			put_be32(o + hlen + 12, ip4_midtime(f, now));
			put_be32(o + hlen + 16, ip4_midtime(f, now));
		}
		o[hlen + 1] = 0;
		icmp4_csum(o + hlen, ilen);
		/* Linux sums the reply starting from all ones (as
		 * csum_partial_copy_nocheck does), so one whose bytes are all
		 * zero carries 0x0000 where the sum from zero gives 0xffff */
		if (get_be16(o + hlen + 2) == 0xffff)
			put_be16(o + hlen + 2, 0);
		q->len = l2 + hlen + ilen;
		gen_send(f, in, q, now);
	}
	drop(f, in, p, DROP_LOCAL);
}

/*
 * The checksum of the TCP, UDP or UDP-Lite header at @up (from p->data)
 * of a datagram for us, checked as Linux checks it before it answers:
 * one the kernel left partial counts as good; UDP over the length its
 * header gives, 0 meaning none over IPv4 and refused over IPv6; UDP-Lite
 * (RFC 3828) never 0, over the bytes its coverage field names (0: all,
 * else 8 up to the datagram's length) with the whole length in the
 * pseudo-header.
 */
static int l4_csum_ok(const struct pkt *p, uint32_t up, uint8_t proto)
{
	const uint8_t *ip = p->data + p->l3_off, *u = p->data + up;
	uint32_t end = p->l3_off + pkt_ip_len(p), len, cov;
	int v4 = p->l3 == PKT_L3_IPV4;
	uint64_t sum;

	if (end > p->len || up + 8 > end)
		return 0;
	if (p->csum == PKT_CSUM_PARTIAL)
		return 1;
	len = cov = end - up;
	if (proto == IPPROTO_UDP_) {
		if (!get_be16(u + 6))
			return v4;
		len = cov = get_be16(u + 4);
		if (len < 8 || len > end - up)
			return 0;
	} else if (proto == IPPROTO_UDPLITE_) {
		cov = get_be16(u + 4);
		if (!get_be16(u + 6) || (cov && (cov < 8 || cov > len)))
			return 0;
		if (!cov)
			cov = len;
	}
	sum = v4 ? csum_pseudo4(ip + 12, ip + 16, proto, len) :
		   csum_pseudo6(ip + 8, ip + 24, proto, len);
	return csum_finish(csum_partial(u, cov, sum)) == 0;
}

/*
 * Linux's tcp_v4_send_reset and tcp_v6_send_reset, for a segment to one
 * of our unicast addresses, where nothing listens: none to a reset, to a
 * malformed segment or to one with a bad checksum; else a reset with no
 * options and window 0, whose seq is the segment's ack when it had ACK,
 * or which acks its seq + SYN + FIN + payload.  From the address the
 * segment was for, TOS or traffic class kept but for ECN, TTL or hop
 * limit 64; IPv4 with DF and ID 0 (as Linux's reply socket sends), its
 * options echoed.
 */
static void tcp_reset(struct fwd *f, unsigned int in, const struct pkt *p,
		      uint32_t up, uint64_t now)
{
	const uint8_t *ip = p->data + p->l3_off, *th = p->data + up;
	uint32_t avail = p->l3_off + pkt_ip_len(p) - up, thl, l2, hlen;
	int v4 = p->l3 == PKT_L3_IPV4, olen = 0;
	uint8_t *o, *t;
	struct pkt *q;

	if (avail < 20 || (th[13] & TCP_RST))
		return;
	thl = (uint32_t)(th[12] >> 4) * 4;
	if (thl < 20 || thl > avail || !l4_csum_ok(p, up, IPPROTO_TCP_))
		return;
	q = gen_alloc(f, in);
	if (!q)
		return;
	l2 = eth_reply(f, in, p, NULL, q->data, v4 ? ETHTYPE_IPV4 : ETHTYPE_IPV6);
	o = q->data + l2;
	if (v4) {
		olen = ip4_opts_echo(f, p, o + IPV4_HLEN, ip + 16, now);
		if (olen < 0) {
			pkt_free(f->pool, q);
			return;
		}
	}
	hlen = v4 ? IPV4_HLEN + (uint32_t)olen : IPV6_HLEN;
	t = o + hlen;
	memset(t, 0, 20);
	memcpy(t, th + 2, 2);
	memcpy(t + 2, th, 2);
	t[12] = 5 << 4;
	if (th[13] & TCP_ACK) {
		memcpy(t + 4, th + 8, 4);
		t[13] = TCP_RST;
	} else {
		put_be32(t + 8, get_be32(th + 4) + !!(th[13] & TCP_SYN) +
			 !!(th[13] & TCP_FIN) + (avail - thl));
		t[13] = TCP_RST | TCP_ACK;
	}
	if (v4) {
		ip4_hdr(o, ip[1] & 0xfc, hlen + 20, 0, IPPROTO_TCP_, ip + 16,
			ip + 12, (uint32_t)olen);
		put_be16(o + 6, IP4_DF);
		put_be16(o + 10, 0);
		put_be16(o + 10, csum_ip4_header(o, hlen));
		put_be16(t + 16, csum_finish(csum_partial(t, 20,
			 csum_pseudo4(ip + 16, ip + 12, IPPROTO_TCP_, 20))));
	} else {
		ip6_hdr(o, (6u << 28) | ((get_be32(ip) & 0x0fc00000u)), 20,
			IPPROTO_TCP_, FWD_TTL_OUT, ip + 24, ip + 8);
		put_be16(t + 16, csum_finish(csum_partial(t, 20,
			 csum_pseudo6(ip + 24, ip + 8, IPPROTO_TCP_, 20))));
	}
	q->len = l2 + hlen + 20;
	f->stats[in]->resets++;
	gen_send(f, in, q, now);
}

/*
 * A datagram for us (not ICMP, not a fragment) of protocol @proto at @up
 * (from p->data): nothing listens, so Linux says so: a TCP reset (from
 * a unicast address of ours, not the subnet-router anycast one), a port
 * unreachable (which also ends a traceroute) when the UDP or UDP-Lite
 * checksum is good, and for a protocol it has no handler for a protocol
 * unreachable (IPv4) or a parameter problem pointing at @field, the
 * next header field that names it (IPv6).  IGMP, PIM and IPv6's "no
 * next header" have handlers, which answer nothing here.  Consumes @p.
 */
static void local_l4(struct fwd *f, unsigned int in, struct pkt *p,
		     uint32_t up, uint8_t proto, uint32_t field, uint64_t now)
{
	const uint8_t *ip = p->data + p->l3_off;
	int v4 = p->l3 == PKT_L3_IPV4;

	if (proto == IPPROTO_PIM_ ||
	    proto == (v4 ? IPPROTO_IGMP_ : IPPROTO_NONE6_)) {
		/* handled, silently */
	} else if (proto == IPPROTO_TCP_) {
		if (v4 || owns_for_input(f, in, AF_INET6, ip + 24))
			tcp_reset(f, in, p, up, now);
	} else if (proto == IPPROTO_UDP_ || proto == IPPROTO_UDPLITE_) {
		if (l4_csum_ok(p, up, proto))
			icmp_error(f, in, p, ICMP_DEST_UNREACH,
				   ICMP_PORT_UNREACH, ICMP6_DEST_UNREACH,
				   ICMP6_PORT_UNREACH, 0, now);
	} else if (v4) {
		icmp4_error(f, in, p, ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, 0,
			    now);
	} else {
		icmp6_error(f, in, p, ICMP6_PARAMPROB, ICMP6_UNK_NEXTHDR, field,
			    now);
	}
	drop(f, in, p, DROP_LOCAL);
}

/*
 * End the datagrams in pieces whose time is up at @now: "fragment
 * reassembly time exceeded" to the sender, quoting the first fragment,
 * when it came (ip_expire, ip6frag_expire_frag_queue).  From the timer,
 * and before a fragment is taken in, since Linux's timer would have
 * ended its datagram already.
 */
static void reasm_expire_due(struct fwd *f, uint64_t now)
{
	unsigned int port;
	struct pkt *head;

	while (reasm_expire(f->reasm, now, &head, &port)) {
		f->stats[port]->reasm_timeouts++;
		if (!head)
			continue;
		head->port = port;
		head->ts_ns = now;
		icmp_error(f, port, head, ICMP_TIME_EXCEEDED, ICMP_EXC_FRAGTIME,
			   ICMP6_TIME_EXCEED, ICMP6_EXC_FRAGTIME, 0, now);
		pkt_free(f->pool, head);
	}
}

/*
 * Hand fragment @p for us to the reassembler (its IPv6 fragment header
 * at @frag_off, named by the byte at @nh_off from the IPv6 header).
 * Returns the whole datagram when @p completed it (@p is freed: from
 * here on the datagram stands for it in the counters), else NULL with
 * @p consumed: held, which counts as taken in ("local"), or dropped
 * with its reason ("reasm"): a duplicate, the end of its datagram, or
 * refused with the parameter problem Linux sends.
 */
static struct pkt *reasm_take(struct fwd *f, unsigned int in, struct pkt *p,
			      uint32_t frag_off, uint32_t nh_off, uint64_t now)
{
	struct pkt *whole;
	uint32_t ptr = 0;

	reasm_expire_due(f, now);
	switch (reasm_input(f->reasm, p, frag_off, nh_off, in, now, &whole,
			    &ptr)) {
	case REASM_HELD:
		set_deadline(f, reasm_next_expiry(f->reasm));
		drop(f, in, p, DROP_LOCAL);
		return NULL;
	case REASM_DONE:
		f->stats[in]->reasm++;
		whole->port = in;
		whole->ts_ns = now;
		pkt_free(f->pool, p);
		return whole;
	case REASM_PARAMPROB:
		icmp6_error(f, in, p, ICMP6_PARAMPROB, ICMP6_HDR_FIELD, ptr,
			    now);
		break;
	default:
		break;
	}
	drop(f, in, p, DROP_REASM);
	return NULL;
}

static void local4_input(struct fwd *f, unsigned int in, struct pkt *p,
			 uint64_t now)
{
	const uint8_t *ip;
	uint32_t up;

	/* whole datagrams only, as Linux's ip_local_deliver */
	if (p->ip_frag) {
		p = reasm_take(f, in, p, 0, 0, now);
		if (!p)
			return;
	}
	ip = p->data + p->l3_off;
	up = p->l3_off + (uint32_t)(ip[0] & 0x0f) * 4;
	if (ip[9] == IPPROTO_ICMP_) {
		icmp4_input(f, in, p, now);
		return;
	}
	local_l4(f, in, p, up, ip[9], 0, now);
}

/*
 * The link-layer address option @type in the NDP options at @opt (@len
 * bytes), or NULL.  *bad is set when an option has length 0, which
 * makes the message invalid (RFC 4861 4.6).
 */
static const uint8_t *nd_lladdr(const uint8_t *opt, uint32_t len, uint8_t type,
				int *bad)
{
	const uint8_t *found = NULL;
	uint32_t olen;

	*bad = 0;
	while (len >= 2) {
		olen = (uint32_t)opt[1] * 8;
		if (!olen || olen > len) {
			*bad = 1;
			return NULL;
		}
		if (opt[0] == type && olen >= 8 && !found)
			found = opt + 2;
		opt += olen;
		len -= olen;
	}
	return found;
}

/* Neighbor Advertisement for our @target to @dst / @dmac (RFC 4861 7.2.4). */
static void na_send(struct fwd *f, unsigned int in, const struct pkt *p,
		    const uint8_t *target, const uint8_t *dst,
		    const uint8_t *dmac, int solicited, int override,
		    int tlla, uint64_t now)
{
	uint32_t len = ND_MSG_LEN + (tlla ? 8 : 0), l2;
	struct pkt *q = gen_alloc(f, in);
	uint8_t *ip, *icmp;

	if (!q)
		return;
	l2 = eth_reply(f, in, p, dmac, q->data, ETHTYPE_IPV6);
	ip = q->data + l2;
	icmp = ip + IPV6_HLEN;
	/* from the target when it is an address of ours; for an anycast
	 * one, from the port's address toward @dst (ndisc_send_na) */
	ip6_hdr(ip, 6u << 28, len, IPPROTO_ICMPV6_, ND_HOP_LIMIT,
		port_owns(f, in, AF_INET6, target) ? target :
		port_src(f, in, AF_INET6, dst), dst);
	memset(icmp, 0, len);
	icmp[0] = ND_NEIGHBOR_ADVERT;
	/* Router: grogso forwards */
	icmp[4] = ND_NA_ROUTER | (override ? ND_NA_OVERRIDE : 0) |
		  (solicited ? ND_NA_SOLICITED : 0);
	memcpy(icmp + 8, target, 16);
	if (tlla) {
		icmp[24] = ND_OPT_TLLA;
		icmp[25] = 1;
		memcpy(icmp + 26, f->port[in].mac, 6);
	}
	icmp6_csum(ip, icmp, len);
	q->len = l2 + IPV6_HLEN + len;
	gen_send(f, in, q, now);
}

static void ns_input(struct fwd *f, unsigned int in, struct pkt *p,
		     const uint8_t *icmp, uint32_t ilen, uint64_t now)
{
	const uint8_t *ip = p->data + p->l3_off;
	const uint8_t *target = icmp + 8, *slla;
	int bad, own, mcast, dad = is_zero(ip + 8, 16);

	/* RFC 4861 7.1.1 validity checks */
	if (ip[7] != ND_HOP_LIMIT || icmp[1] != 0 || ilen < ND_MSG_LEN ||
	    ip6_mcast(target)) {
		drop(f, in, p, DROP_CONTROL);
		return;
	}
	slla = nd_lladdr(icmp + ND_MSG_LEN, ilen - ND_MSG_LEN, ND_OPT_SLLA,
			 &bad);
	if (bad || (dad && (slla || !ip6_is_solnode_of(ip + 24, target)))) {
		drop(f, in, p, DROP_CONTROL);
		return;
	}
	/* an address of this port (IPv6 keeps them apart, unlike ARP),
	 * or the subnet-router anycast address of one of its prefixes */
	own = port_owns(f, in, AF_INET6, target) != NULL;
	if (!own && !port_anycast(f, in, target)) {
		drop(f, in, p, DROP_OTHER_HOST);
		return;
	}
	if (dad) {
		/* RFC 4861 7.2.4: a duplicate address detection probe is
		 * answered to all-nodes, not solicited */
		na_send(f, in, p, target, ip6_all_nodes, mac_all_nodes, 0,
			own, 1, now);
	} else {
		/* RFC 4861 7.2.3: the sender's address goes into the table */
		if (slla && on_link(f, in, AF_INET6, ip + 8))
			neigh_learn(f, in, AF_INET6, ip + 8, slla, 0, 1, now);
		/* as Linux's ndisc_recv_ns: Override for our own address
		 * asked by multicast; our link-layer address only when
		 * asked by multicast (a unicast question, a neighbour
		 * checking an entry, already has it) */
		mcast = ip6_mcast(ip + 24);
		na_send(f, in, p, target, ip + 8, slla, 1, own && mcast, mcast,
			now);
	}
	drop(f, in, p, DROP_LOCAL);
}

static void na_input(struct fwd *f, unsigned int in, struct pkt *p,
		     const uint8_t *icmp, uint32_t ilen, uint64_t now)
{
	const uint8_t *ip = p->data + p->l3_off;
	const uint8_t *target = icmp + 8, *tlla;
	struct fwd_neigh *n;
	int bad, solicited = (icmp[4] & ND_NA_SOLICITED) != 0;

	/* RFC 4861 7.1.2 validity checks */
	if (ip[7] != ND_HOP_LIMIT || icmp[1] != 0 || ilen < ND_MSG_LEN ||
	    ip6_mcast(target) || (solicited && ip6_mcast(ip + 24))) {
		drop(f, in, p, DROP_CONTROL);
		return;
	}
	tlla = nd_lladdr(icmp + ND_MSG_LEN, ilen - ND_MSG_LEN, ND_OPT_TLLA,
			 &bad);
	if (bad || port_owns(f, in, AF_INET6, target)) {
		drop(f, in, p, DROP_CONTROL);
		return;
	}
	n = neigh_find(f, in, AF_INET6, target);
	if (!n) {
		/* untracked: kept when on-link, like Linux with
		 * accept_untracked_na = 2 */
		if (tlla && on_link(f, in, AF_INET6, target))
			neigh_learn(f, in, AF_INET6, target, tlla, 0, 1, now);
		drop(f, in, p, DROP_LOCAL);
		return;
	}
	if (!tlla) {
		/* RFC 4861 7.2.5: without an address it can only confirm */
		if (n->state != FWD_NEIGH_INCOMPLETE && solicited)
			neigh_learn(f, in, AF_INET6, target, n->mac, 1, 0, now);
		drop(f, in, p, DROP_LOCAL);
		return;
	}
	if (n->state != FWD_NEIGH_INCOMPLETE &&
	    !(icmp[4] & ND_NA_OVERRIDE) && memcmp(tlla, n->mac, 6)) {
		/* RFC 4861 7.2.5: no override, different address: the
		 * known one stands, but is no longer confirmed */
		if (n->state == FWD_NEIGH_REACHABLE)
			n->state = FWD_NEIGH_STALE;
		drop(f, in, p, DROP_LOCAL);
		return;
	}
	neigh_learn(f, in, AF_INET6, target, tlla, solicited, 0, now);
	drop(f, in, p, DROP_LOCAL);
}

static void echo6_input(struct fwd *f, unsigned int in, struct pkt *p,
			const uint8_t *icmp, uint32_t ilen, uint64_t now)
{
	const uint8_t *ip = p->data + p->l3_off;
	struct pkt *q;
	uint8_t *o;
	uint32_t l2;

	/* a group here is one we are in: Linux answers a ping to it
	 * (icmpv6_echo_ignore_multicast 0), as to an address of ours */
	if (ip6_mcast(ip + 8) || is_zero(ip + 8, 16)) {
		drop(f, in, p, DROP_CONTROL);
		return;
	}
	q = gen_alloc(f, in);
	if (q) {
		l2 = eth_reply(f, in, p, NULL, q->data, ETHTYPE_IPV6);
		o = q->data + l2;
		/* traffic class and flow label are kept, as Linux's
		 * icmpv6_echo_reply does; to a group or a subnet-router
		 * anycast address it answers from a unicast one toward the
		 * sender (anycast_src_echo_reply off) */
		ip6_hdr(o, get_be32(ip), ilen, IPPROTO_ICMPV6_, FWD_TTL_OUT,
			owns_for_input(f, in, AF_INET6, ip + 24) ? ip + 24 :
			error_src(f, in, AF_INET6, ip + 8), ip + 8);
		memcpy(o + IPV6_HLEN, icmp, ilen);
		o[IPV6_HLEN] = ICMP6_ECHO_REPLY;
		icmp6_csum(o, o + IPV6_HLEN, ilen);
		q->len = l2 + IPV6_HLEN + ilen;
		gen_send(f, in, q, now);
	}
	drop(f, in, p, DROP_LOCAL);
}

/* ---- IPv6 options headers, as Linux's ip6_parse_tlv ---- */

#define IP6_TLV_PAD1 0
#define IP6_TLV_PADN 1
#define IP6_TLV_RA 5
#define IP6_TLV_CALIPSO 7
#define IP6_TLV_IOAM 49
#define IP6_TLV_JUMBO 0xc2
#define IP6_TLV_OPTS_MAX 8              /* net.ipv6.max_{hbh,dst}_opts_number */

/*
 * Check the options header at @hdr (from the IPv6 header) of @p as Linux
 * does (ip6_parse_tlv): padding of at most 7 bytes, all zero; at most 8
 * other options; an option it does not know as its two high bits say
 * (skip, drop, or drop with a parameter problem, to a multicast
 * destination too or not).  In the hop-by-hop header (@hbh), which
 * Linux reads before it routes, it knows these: a router alert 2 bytes
 * long; a jumbo payload option, refused (IPv6 lengths here are never
 * 0); CALIPSO, refused (no CALIPSO domain set up); IOAM, ignored (not
 * enabled) but for its alignment.  In destination options (read only
 * by the destination) it knows none.  Returns 0 when the datagram goes
 * on, or -1 when it was refused (a parameter problem sent where Linux
 * sends one).
 */
static int ip6_tlv_input(struct fwd *f, unsigned int in, const struct pkt *p,
			 uint32_t hdr, int hbh, uint64_t now)
{
	const uint8_t *ip = p->data + p->l3_off;
	uint32_t avail = pkt_ip_len(p), len, off, optlen, i;
	int pad = 0, count = 0;

	if (avail > p->len - p->l3_off)
		avail = p->len - p->l3_off;
	if (avail < hdr + 8)
		return -1;
	len = ((uint32_t)ip[hdr + 1] + 1) * 8;
	if (avail < hdr + len)
		return -1;
	off = hdr + 2;
	len -= 2;
	while (len > 0) {
		const uint8_t *o = ip + off;

		if (o[0] == IP6_TLV_PAD1) {
			if (++pad > 7)
				return -1;
			off++;
			len--;
			continue;
		}
		if (len < 2 || (optlen = (uint32_t)o[1] + 2) > len)
			return -1;
		if (o[0] == IP6_TLV_PADN) {
			/* RFC 8200 4.2: to align to 8, so 7 at most; RFC
			 * 4942 2.1.9.5: zeroes */
			pad += (int)optlen;
			if (pad > 7)
				return -1;
			for (i = 2; i < optlen; i++)
				if (o[i])
					return -1;
			goto next;
		}
		if (++count > IP6_TLV_OPTS_MAX)
			return -1;
		/* in destination options no type is known */
		switch (hbh ? (int)o[0] : -1) {
		case IP6_TLV_RA:
			if (o[1] != 2)
				return -1;
			break;
		case IP6_TLV_IOAM:
			if (off & 3)
				return -1;
			break;
		case IP6_TLV_JUMBO:
			if (o[1] != 4 || (off & 3) != 2)
				return -1;
			icmp6_error(f, in, p, ICMP6_PARAMPROB, ICMP6_HDR_FIELD,
				    get_be32(o + 2) <= 0xffff ? off + 2 : off,
				    now);
			return -1;
		case IP6_TLV_CALIPSO:
			return -1;
		default:
			switch (o[0] >> 6) {
			case 0:                 /* skip it */
				break;
			case 1:                 /* drop */
				return -1;
			case 3:                 /* drop, and say so unless multicast */
				if (ip6_mcast(ip + 24))
					return -1;
				/* fall through */
			default:                /* drop, and say so */
				icmp6_error(f, in, p, ICMP6_PARAMPROB,
					    ICMP6_UNK_OPTION, off, now);
				return -1;
			}
			break;
		}
		pad = 0;
next:
		off += optlen;
		len -= optlen;
	}
	return 0;
}

/*
 * The extension headers of @p, for us, one by one as Linux's handlers
 * take them on the way up (hop-by-hop options were checked on the way
 * in): destination options as ip6_tlv_input says; a routing header is
 * dropped when the destination is a group, and so is a segment routing
 * or RPL one (seg6_enabled and rpl_seg_enabled at 0); any other with
 * segments left is not ours to follow: a parameter problem pointing at
 * its type (type 0 is deprecated).  The walk ends at the upper-layer
 * header or at a fragment header, but goes on past the header of an
 * atomic fragment (offset 0, no more to come) once when @pass_atomic,
 * setting *atomic.  Returns -1 when @p was refused; else 0, with *frag
 * the offset from p->data of the fragment header it ended at (0: none)
 * and *nh_off the offset from the IPv6 header of the byte naming it.
 */
static int ip6_local_ext(struct fwd *f, unsigned int in, const struct pkt *p,
			 int pass_atomic, uint32_t *frag, uint32_t *nh_off,
			 int *atomic, uint64_t now)
{
	const uint8_t *ip = p->data + p->l3_off;
	uint32_t end = pkt_ip_len(p), off = IPV6_HLEN, at = 6;
	uint8_t next = ip[6];
	int n;

	*frag = 0;
	*atomic = 0;
	if (end > p->len - p->l3_off)
		end = p->len - p->l3_off;
	for (n = 0; n < IP6_EXT_WALK_MAX; n++) {
		if (next == IP6_NEXT_FRAGMENT) {
			if (!pass_atomic || *atomic ||
			    end - off < IP6_FRAG_HLEN ||
			    (get_be16(ip + off + 2) & IP6_FRAG_OFF_MF)) {
				*frag = p->l3_off + off;
				*nh_off = at;
				return 0;
			}
			*atomic = 1;
			at = off;
			next = ip[off];
			off += IP6_FRAG_HLEN;
			continue;
		}
		if (next != IP6_NEXT_HOPOPTS && next != IP6_NEXT_DSTOPTS &&
		    next != IP6_NEXT_ROUTING)
			return 0;
		if (end - off < 8 || end - off < ((uint32_t)ip[off + 1] + 1) * 8)
			return 0;       /* ip6_upper refuses it */
		if (next == IP6_NEXT_DSTOPTS &&
		    ip6_tlv_input(f, in, p, off, 0, now))
			return -1;
		if (next == IP6_NEXT_ROUTING) {
			if (ip6_mcast(ip + 24) || ip[off + 2] == 3 ||
			    ip[off + 2] == 4)
				return -1;
			if (ip[off + 3]) {
				icmp6_error(f, in, p, ICMP6_PARAMPROB,
					    ICMP6_HDR_FIELD, off + 2, now);
				return -1;
			}
		}
		at = off;
		next = ip[off];
		off += ((uint32_t)ip[off + 1] + 1) * 8;
	}
	return 0;
}

/*
 * Whether the first fragment @p lacks part of its upper-layer header
 * (RFC 8200 4.5), as Linux 6.18's ipv6frag_thdr_truncated judges it:
 * the extension headers are walked as ipv6_skip_exthdr walks them (a
 * chain cut short, or one that ends in "no next header", is not
 * judged), then TCP needs 20 bytes, UDP and ICMPv6 8, anything else 1.
 */
static int ip6_frag_thdr_truncated(const struct pkt *p)
{
	const uint8_t *ip = p->data + p->l3_off;
	uint32_t end = pkt_ip_len(p), off = IPV6_HLEN, need;
	uint8_t next = ip[6];

	for (;;) {
		if (next == IP6_NEXT_FRAGMENT) {
			if (off + 4 > end)
				return 0;
			if (get_be16(ip + off + 2) & ~7u)
				return 0;       /* not a first fragment */
			next = ip[off];
			off += IP6_FRAG_HLEN;
		} else if (next == IP6_NEXT_HOPOPTS ||
			   next == IP6_NEXT_ROUTING ||
			   next == IP6_NEXT_DSTOPTS) {
			if (off + 2 > end)
				return 0;
			next = ip[off];
			off += ((uint32_t)ip[off + 1] + 1) * 8;
		} else if (next == IP6_NEXT_AUTH) {
			if (off + 2 > end)
				return 0;
			next = ip[off];
			off += ((uint32_t)ip[off + 1] + 2) * 4;
		} else if (next == IPPROTO_NONE6_) {
			return 0;
		} else {
			break;
		}
	}
	need = next == IPPROTO_TCP_ ? 20 :
	       next == IPPROTO_UDP_ || next == IPPROTO_ICMPV6_ ? 8 : 1;
	return off + need > end;
}

/*
 * A datagram for us, from its extension headers on.  @fragmented: it
 * was reassembled, or came as an atomic fragment (Linux's
 * IP6SKB_FRAGMENTED), which a further fragment header may not follow
 * and neighbour discovery may not be (RFC 6980).
 */
static void local6_input(struct fwd *f, unsigned int in, struct pkt *p,
			 int fragmented, uint64_t now)
{
	const uint8_t *ip = p->data + p->l3_off;
	uint32_t end = p->l3_off + pkt_ip_len(p), up, ilen, fo, nh_off = 0;
	uint32_t field = 0;
	const uint8_t *icmp;
	uint16_t frag;
	uint8_t proto = 0;
	int atomic;

	if (ip6_local_ext(f, in, p, !fragmented, &fo, &nh_off, &atomic, now)) {
		drop(f, in, p, DROP_IP_OPTIONS);
		return;
	}
	/* a fragment header: ipv6_frag_rcv, in its order */
	fragmented |= atomic;
	if (fo && (fragmented || fo + IP6_FRAG_HLEN > end)) {
		/* a second fragment header, or one cut short */
		icmp6_error(f, in, p, ICMP6_PARAMPROB, ICMP6_HDR_FIELD,
			    fo - p->l3_off, now);
		drop(f, in, p, DROP_REASM);
		return;
	}
	if (fo && ip6_frag_thdr_truncated(p)) {
		icmp6_error(f, in, p, ICMP6_PARAMPROB, ICMP6_HDR_INCOMP, 0,
			    now);
		drop(f, in, p, DROP_REASM);
		return;
	}
	if (fo) {
		p = reasm_take(f, in, p, fo, nh_off, now);
		if (p)
			local6_input(f, in, p, 1, now);
		return;
	}
	up = ip6_upper(p, &proto, &frag, &field);
	if (!up || (frag & 0xfff8)) {
		drop(f, in, p, DROP_CONTROL);
		return;
	}
	if (proto != IPPROTO_ICMPV6_) {
		if (ip6_mcast(ip + 24)) {
			drop(f, in, p, DROP_OTHER_HOST);
			return;
		}
		local_l4(f, in, p, up, proto, field, now);
		return;
	}
	ilen = end - up;
	icmp = p->data + up;
	/* as in icmp4_input: ICMPv6 is never merged, so never chained */
	if (p->frag_first || ilen < 8 || csum_finish(csum_partial(icmp, ilen,
			csum_pseudo6(ip + 8, ip + 24, IPPROTO_ICMPV6_, ilen)))) {
		drop(f, in, p, DROP_CONTROL);
		return;
	}
	/* neighbour discovery in fragments is refused (RFC 6980, Linux's
	 * ndisc_suppress_frag_ndisc) */
	if (fragmented && (icmp[0] == ND_NEIGHBOR_SOLICIT ||
			   icmp[0] == ND_NEIGHBOR_ADVERT)) {
		drop(f, in, p, DROP_CONTROL);
		return;
	}
	switch (icmp[0]) {
	case ND_NEIGHBOR_SOLICIT:
		ns_input(f, in, p, icmp, ilen, now);
		return;
	case ND_NEIGHBOR_ADVERT:
		na_input(f, in, p, icmp, ilen, now);
		return;
	case ICMP6_ECHO_REQUEST:
		echo6_input(f, in, p, icmp, ilen, now);
		return;
	default:
		/* RS, RA, redirects, errors, replies: not acted upon */
		drop(f, in, p, DROP_CONTROL);
		return;
	}
}

/* ---- forwarding ---- */

static void ip4_input(struct fwd *f, unsigned int in, struct pkt *p,
		      uint64_t now)
{
	uint8_t *ip = p->data + p->l3_off;
	const struct fwd_route *r = NULL;
	uint32_t mtu;
	uint16_t old;
	int local = owns_for_input(f, in, AF_INET, ip + 16);

	/* Linux's fib_validate_source: a datagram from an address of ours
	 * is a martian, whether for us, broadcast or routed */
	if (local) {
		if (ip4_ours(f, ip + 12)) {
			drop(f, in, p, DROP_MARTIAN);
			return;
		}
		goto options;
	}
	if (ip4_bad_src(ip + 12) || ip4_bad_dst(ip + 16)) {
		drop(f, in, p, DROP_MARTIAN);
		return;
	}
	if (ip4_subnet_bcast(f, ip + 16)) {
		/* a broadcast route: Linux takes it in and, with nothing
		 * listening, answers nothing (no port unreachable to a
		 * broadcast, echo requests to one ignored by default) */
		drop(f, in, p, ip4_ours(f, ip + 12) ? DROP_MARTIAN : DROP_LOCAL);
		return;
	}
	/* route before TTL, in Linux's order (ip_route_input, then
	 * ip_forward) */
	r = route_lookup(f, AF_INET, ip + 16);
	if (!r) {
		if (rt_error_allow(f, in, ip + 12, now))
			icmp4_error(f, in, p, ICMP_DEST_UNREACH,
				    ICMP_NET_UNREACH, 0, now);
		drop(f, in, p, DROP_NO_ROUTE);
		return;
	}
	if (ip4_ours(f, ip + 12)) {
		drop(f, in, p, DROP_MARTIAN);
		return;
	}
options:
	/* options once routed, as ip_rcv_finish takes them (an error about
	 * the datagram from here on quotes them as filled in) */
	if (p->ip_opts) {
		int pp = ip4_opts_input(f, in, p, local, now);

		if (pp > 0)
			icmp4_error(f, in, p, ICMP_PARAMETERPROB, 0,
				    (uint32_t)pp << 24, now);
		if (pp) {
			drop(f, in, p, DROP_IP_OPTIONS);
			return;
		}
	}
	if (local) {
		local4_input(f, in, p, now);
		return;
	}
	if (ip[8] <= 1) {
		icmp4_error(f, in, p, ICMP_TIME_EXCEEDED, 0, 0, now);
		drop(f, in, p, DROP_TTL);
		return;
	}
	mtu = port_mtu(f, r->port);
	if (wire_ip_len(p) > mtu) {
		if (get_be16(ip + 6) & IP4_DF) {
			icmp4_error(f, in, p, ICMP_DEST_UNREACH,
				    ICMP_FRAG_NEEDED, mtu, now);
			drop(f, in, p, DROP_FRAG_DF);
			return;
		}
		/* DF clear: fragmented on output once the next hop is known
		 * (an aggregate segmented first, see gso_frag_output) */
	}
	/* RFC 1624 incremental update of the word holding TTL and protocol */
	old = get_be16(ip + 8);
	ip[8]--;
	put_be16(ip + 10, csum_replace16(get_be16(ip + 10), old,
					 get_be16(ip + 8)));
	/* back out of the port it came in by, from a host on that link:
	 * tell the host the better first hop, as ip_forward does (after
	 * the decrement, so the quote shows the new TTL) */
	if (r->port == in && f->redirects && src_onlink(f, in, AF_INET, ip + 12)) {
		if (redirect_allow(f, ip + 12, now))
			icmp4_error(f, in, p, ICMP_REDIRECT, ICMP_REDIR_HOST,
				    get_be32(r->has_gw ? r->gw : ip + 16), now);
		else
			f->stats[in]->redirects_limited++;
	}
	/* the options as they leave, then their checksum (Linux's
	 * ip_forward_finish: after the redirect) */
	if (p->ip_opts)
		ip4_opts_forward(f, p, r);
	neigh_send(f, r->port, AF_INET, r->has_gw ? r->gw : ip + 16, p, now);
}

/* Groups we listen to on @port: all-nodes, all-routers, and the
 * solicited-node group of each of our addresses there, anycast ones
 * included. */
static int ip6_group_ours(const struct fwd *f, unsigned int port,
			  const uint8_t *g)
{
	unsigned int i;

	if (!memcmp(g, ip6_all_nodes, 16) || !memcmp(g, ip6_all_routers, 16))
		return 1;
	if (ip6_is_solnode_of(g, f->ll[port]))
		return 1;
	for (i = 0; i < f->naddr[port]; i++) {
		const struct fwd_addr *x = &f->addr[port][i];
		uint8_t any[16];

		if (x->family != AF_INET6)
			continue;
		if (ip6_is_solnode_of(g, x->addr))
			return 1;
		/* and that of the prefix's subnet-router anycast address */
		memcpy(any, x->addr, 16);
		prefix_mask(any, 16, x->plen);
		if (x->plen < 127 && ip6_is_solnode_of(g, any))
			return 1;
	}
	return 0;
}

/*
 * Linux's IPv6 redirect (ip6_forward, then ndisc_send_redirect) for @p,
 * which goes back out of @in by route @r: limited to 6, then one a
 * second, for the destination, and the same for the source; sent only
 * when the better first hop is the destination itself or a link-local
 * router, and the source is on the link.  From the port's link-local
 * address with hop limit 255: the target and the destination, the
 * target's MAC when it is known, and as much of @p as Linux puts in its
 * redirected-header option (its length plus 8, at most 1200, rounded
 * down to 8 bytes, of which 8 are the option's own header: a datagram
 * whose length is not a multiple of 8 loses its last bytes).
 */
static void redirect6(struct fwd *f, unsigned int in, const struct pkt *p,
		      const struct fwd_route *r, uint64_t now)
{
	const uint8_t *ip = p->data + p->l3_off;
	const uint8_t *target = r->has_gw ? r->gw : ip + 24;
	const struct fwd_neigh *n;
	uint32_t rd_len, len, l2;
	uint8_t *o, *icmp, *opt;
	struct pkt *q;
	int dst_ok;

	/* the destination's budget is spent even when no redirect could
	 * go (as Linux's, which looks at the rest afterwards) */
	dst_ok = peer_take(peer_get(f, AF_INET6, ip + 24, now), FWD_NS,
			   FWD_PEER_BURST * FWD_NS, now);

	if (memcmp(target, ip + 24, 16) && !ip6_ll(target))
		return;
	if (!ip6_ll(ip + 8) && !src_onlink(f, in, AF_INET6, ip + 8))
		return;
	if (!dst_ok || !peer_take(peer_get(f, AF_INET6, ip + 8, now), FWD_NS,
		       FWD_PEER_BURST * FWD_NS, now)) {
		f->stats[in]->redirects_limited++;
		return;
	}
	q = gen_alloc(f, in);
	if (!q)
		return;
	rd_len = pkt_ip_len(p) + 8;
	if (rd_len > FWD_ICMP6_MAX - IPV6_HLEN - ND_REDIRECT_LEN)
		rd_len = FWD_ICMP6_MAX - IPV6_HLEN - ND_REDIRECT_LEN;
	rd_len &= ~7u;
	n = neigh_find(f, in, AF_INET6, target);
	len = ND_REDIRECT_LEN + rd_len;
	if (n && neigh_state(n, now) != FWD_NEIGH_NONE &&
	    neigh_state(n, now) != FWD_NEIGH_INCOMPLETE)
		len += 8;
	else
		n = NULL;
	l2 = eth_reply(f, in, p, NULL, q->data, ETHTYPE_IPV6);
	o = q->data + l2;
	ip6_hdr(o, 6u << 28, len, IPPROTO_ICMPV6_, ND_HOP_LIMIT, f->ll[in],
		ip + 8);
	icmp = o + IPV6_HLEN;
	memset(icmp, 0, ND_REDIRECT_LEN);
	icmp[0] = ND_REDIRECT;
	memcpy(icmp + 8, target, 16);
	memcpy(icmp + 24, ip + 24, 16);
	opt = icmp + ND_REDIRECT_LEN;
	if (n) {
		opt[0] = ND_OPT_TLLA;
		opt[1] = 1;
		memcpy(opt + 2, n->mac, 6);
		opt += 8;
	}
	memset(opt, 0, 8);
	opt[0] = ND_OPT_REDIRECTED_HDR;
	opt[1] = (uint8_t)(rd_len / 8);
	if (quote(f, p, opt + 8, rd_len - 8, q))
		return;
	icmp6_csum(o, icmp, len);
	q->len = l2 + IPV6_HLEN + len;
	f->stats[in]->redirects++;
	gen_send(f, in, q, now);
}

static void ip6_input(struct fwd *f, unsigned int in, struct pkt *p,
		      int l2_mcast, uint64_t now)
{
	uint8_t *ip = p->data + p->l3_off;
	const uint8_t *src = ip + 8, *dst = ip + 24;
	const struct fwd_route *r;
	uint32_t mtu;

	/* hop-by-hop options come first, before the route (ip6_rcv_core) */
	if (ip[6] == IP6_NEXT_HOPOPTS &&
	    ip6_tlv_input(f, in, p, IPV6_HLEN, 1, now)) {
		drop(f, in, p, DROP_IP_OPTIONS);
		return;
	}
	if (ip6_mcast(dst)) {
		if (ip6_group_ours(f, in, dst))
			local6_input(f, in, p, 0, now);
		else
			drop(f, in, p, DROP_OTHER_HOST);
		return;
	}
	if (l2_mcast) {
		/* a unicast packet in a group frame is not ours to route */
		drop(f, in, p, DROP_OTHER_HOST);
		return;
	}
	if (owns_for_input(f, in, AF_INET6, dst) || ip6_subnet_anycast(f, dst)) {
		local6_input(f, in, p, 0, now);
		return;
	}
	if (ip6_mcast(src) || is_zero(src, 16) || ip6_loopback(src) ||
	    ip6_loopback(dst) || ip6_ll(dst)) {
		drop(f, in, p, DROP_MARTIAN);
		return;
	}
	r = route_lookup(f, AF_INET6, dst);
	if (!r) {
		icmp6_error(f, in, p, ICMP6_DEST_UNREACH, ICMP6_NOROUTE, 0, now);
		drop(f, in, p, DROP_NO_ROUTE);
		return;
	}
	if (ip[7] <= 1) {
		icmp6_error(f, in, p, ICMP6_TIME_EXCEED, 0, 0, now);
		drop(f, in, p, DROP_TTL);
		return;
	}
	/* in ip6_forward's order: back out of the same port, a redirect
	 * (quoting the hop limit as it came); to another link, a link-local
	 * source must not cross (RFC 4291 2.5.6) */
	if (r->port == in) {
		if (f->redirects)
			redirect6(f, in, p, r, now);
	} else if (ip6_ll(src)) {
		icmp6_error(f, in, p, ICMP6_DEST_UNREACH, ICMP6_BEYOND_SCOPE,
			    0, now);
		drop(f, in, p, DROP_MARTIAN);
		return;
	}
	mtu = port_mtu(f, r->port);
	if (wire_ip_len(p) > mtu) {
		/* RFC 8200 5: routers never fragment IPv6 */
		icmp6_error(f, in, p, ICMP6_PKT_TOOBIG, 0, mtu, now);
		drop(f, in, p, DROP_FRAG_DF);
		return;
	}
	ip[7]--;
	neigh_send(f, r->port, AF_INET6, r->has_gw ? r->gw : dst, p, now);
}

/* ---- the interface ---- */

struct fwd *fwd_create(const struct config *c,
		       const struct fwd_port_info ports[FWD_NPORTS],
		       struct pkt_pool *pool, struct stats_port *stats[FWD_NPORTS],
		       fwd_tx_fn tx, void *ctx)
{
	struct fwd *f;
	unsigned int i;

	if (!c || !ports || !pool || !stats || !tx) {
		log_err("fwd: missing configuration");
		return NULL;
	}
	for (i = 0; i < FWD_NPORTS; i++) {
		if (!stats[i]) {
			log_err("fwd: missing counters for port %u", i);
			return NULL;
		}
	}
	f = calloc(1, sizeof(*f));
	if (!f) {
		log_err("fwd: out of memory");
		return NULL;
	}
	f->mode = c->mode;
	f->pool = pool;
	f->tx = tx;
	f->ctx = ctx;
	f->icmp_per_sec = c->icmp_msgs_per_sec;
	f->icmp_burst = c->icmp_msgs_burst;
	f->icmp4_tmo = (uint64_t)c->icmp_ratelimit_ms * 1000000u;
	f->icmp6_tmo = (uint64_t)c->icmp6_ratelimit_ms * 1000000u;
	f->redirects = c->redirects;
	f->ip_id = 1;
	f->ip6_frag_id = 0;
	f->held_max = pool->count / 4;
	f->gso_ipid = config_gso_ipid(c);
	for (i = 0; i < FWD_NPORTS; i++) {
		f->stats[i] = stats[i];
		fwd_set_port(f, i, &ports[i]);
	}
	for (i = 0; i < FWD_NEIGH_HASH; i++)
		f->bucket[i] = -1;
	for (i = 0; i < FWD_NEIGH_MAX; i++)
		f->neigh[i].hnext = -1;
	if (f->mode == CONFIG_MODE_BRIDGE)
		return f;
	f->segs = calloc(FWD_GSO_SEGS_MAX, sizeof(*f->segs));
	f->peer = calloc(FWD_PEERS, sizeof(*f->peer));
	f->reasm = reasm_create(pool);
	if (!f->segs || !f->peer || !f->reasm) {
		log_err("fwd: out of memory");
		fwd_destroy(f);
		return NULL;
	}
	if (setup_addrs(f, FWD_PORT_LAN, c->lan_addr, c->n_lan_addr) ||
	    setup_addrs(f, FWD_PORT_WAN, c->wan_addr, c->n_wan_addr) ||
	    setup_routes(f, c)) {
		fwd_destroy(f);
		return NULL;
	}
	reasm_set_timeouts(f->reasm, (uint64_t)c->reasm_timeout4_s * FWD_NS,
			   (uint64_t)c->reasm_timeout6_s * FWD_NS);
	return f;
}

void fwd_set_gso_log(struct fwd *f, fwd_gso_log_fn fn)
{
	f->gso_log = fn;
}

void fwd_set_wallclock(struct fwd *f, int64_t realtime_offset_ns)
{
	f->wall_off_ns = realtime_offset_ns;
}

void fwd_destroy(struct fwd *f)
{
	unsigned int i;

	if (!f)
		return;
	for (i = 0; i < FWD_NEIGH_MAX; i++) {
		struct pkt *p = f->neigh[i].q.head;

		while (p) {
			struct pkt *next = p->next;

			pkt_free(f->pool, p);
			p = next;
		}
	}
	reasm_destroy(f->reasm);
	free(f->segs);
	free(f->peer);
	free(f);
}

void fwd_set_port(struct fwd *f, unsigned int port,
		  const struct fwd_port_info *info)
{
	if (port >= FWD_NPORTS)
		return;
	f->port[port] = *info;
	ip6_ll_from_mac(f->ll[port], info->mac);
}

/* The 802.1Q tag out of @p's head; the offsets follow. */
static void vlan_strip(struct pkt *p)
{
	memmove(p->data + VLAN_HLEN_, p->data, 12);
	p->data += VLAN_HLEN_;
	p->len -= VLAN_HLEN_;
	p->l3_off -= VLAN_HLEN_;
	if (p->l4_off)
		p->l4_off -= VLAN_HLEN_;
	if (p->pay_off)
		p->pay_off -= VLAN_HLEN_;
	p->has_vlan = 0;
	p->vlan_tci = 0;
}

void fwd_input(struct fwd *f, unsigned int in_port, struct pkt *p,
	       uint64_t now_ns)
{
	const uint8_t *dmac = p->data;
	int bcast, mcast;

	if (in_port >= FWD_NPORTS) {
		pkt_free(f->pool, p);
		return;
	}
	if (f->mode == CONFIG_MODE_BRIDGE) {
		f->tx(f->ctx, in_port ^ 1u, p);
		return;
	}
	p->port = in_port;
	p->next = NULL;
	if (p->len < ETH_HLEN_) {
		drop(f, in_port, p, DROP_RUNT);
		return;
	}
	bcast = !memcmp(dmac, mac_bcast, 6);
	mcast = !bcast && (dmac[0] & 1);
	if (!bcast && !mcast && memcmp(dmac, f->port[in_port].mac, 6)) {
		drop(f, in_port, p, DROP_OTHER_HOST);
		return;
	}
	if (p->has_vlan) {
		/* the ports have no VLAN interfaces: as Linux, take a
		 * priority tag (VLAN 0) as none, and nothing else tagged */
		if (p->vlan_tci & VLAN_VID_MASK) {
			drop(f, in_port, p, DROP_VLAN);
			return;
		}
		vlan_strip(p);
	}
	/* a router forwards the datagram, not the padding of a short
	 * frame after it (Linux trims it on input too) */
	if (p->ip_pad && !p->frag_bytes) {
		p->len = p->l3_off + pkt_ip_len(p);
		p->ip_pad = 0;
	}
	switch (p->l3) {
	case PKT_L3_ARP:
		if (mcast)
			drop(f, in_port, p, DROP_OTHER_HOST);
		else
			arp_input(f, in_port, p, now_ns);
		return;
	case PKT_L3_IPV4:
		/* grogso neither routes multicast nor takes part in DHCP */
		if (bcast || mcast)
			drop(f, in_port, p, DROP_OTHER_HOST);
		else
			ip4_input(f, in_port, p, now_ns);
		return;
	case PKT_L3_IPV6:
		if (bcast || (mcast && (dmac[0] != 0x33 || dmac[1] != 0x33)))
			drop(f, in_port, p, DROP_OTHER_HOST);
		else
			ip6_input(f, in_port, p, mcast, now_ns);
		return;
	default:
		drop(f, in_port, p, DROP_NOT_IP);
		return;
	}
}

uint64_t fwd_timer(struct fwd *f, uint64_t now_ns)
{
	uint64_t next = 0;
	int i;

	if (f->mode == CONFIG_MODE_BRIDGE)
		return 0;
	reasm_expire_due(f, now_ns);
	next = reasm_next_expiry(f->reasm);
	for (i = 0; i < FWD_NEIGH_MAX; i++) {
		struct fwd_neigh *n = &f->neigh[i];

		if (n->state == FWD_NEIGH_NONE || !n->next_retry)
			continue;
		if (n->next_retry <= now_ns) {
			if (n->tries >= FWD_NEIGH_TRIES) {
				/* a stale entry that stopped answering is
				 * forgotten (Linux: PROBE -> FAILED); the next
				 * packet resolves it afresh */
				if (n->state == FWD_NEIGH_INCOMPLETE)
					neigh_fail(f, n, now_ns);
				else
					neigh_unlink(f, n);
				continue;
			}
			/* the end of DELAY: probing begins, by unicast */
			if (n->state == FWD_NEIGH_DELAY)
				n->state = FWD_NEIGH_PROBE;
			n->tries++;
			n->next_retry = now_ns + FWD_NEIGH_RETRANS_NS;
			neigh_solicit(f, n, now_ns);
		}
		if (!next || n->next_retry < next)
			next = n->next_retry;
	}
	f->next_deadline = next;
	return next;
}

uint64_t fwd_next_deadline(const struct fwd *f)
{
	return f->next_deadline;
}

void fwd_get_counters(const struct fwd *f, struct fwd_counters *out)
{
	unsigned int i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < FWD_NPORTS; i++) {
		const struct stats_port *s = f->stats[i];

		out->icmp_sent += s->icmp_sent;
		out->icmp_limited_host += s->icmp_limited_host;
		out->icmp_limited_global += s->icmp_limited_global;
		out->solicits += s->solicits;
		out->frags += s->frags;
		out->gso_frag += s->gso_frag;
		out->gso_frag_segs += s->gso_frag_segs;
	}
}

enum fwd_neigh_state fwd_neigh_get(const struct fwd *f, unsigned int port,
				   int family, const uint8_t *addr,
				   uint8_t mac[6], uint64_t now_ns)
{
	const struct fwd_neigh *n;

	if (port >= FWD_NPORTS)
		return FWD_NEIGH_NONE;
	n = neigh_find(f, port, family, addr);
	if (!n)
		return FWD_NEIGH_NONE;
	if (mac)
		memcpy(mac, n->mac, 6);
	return neigh_state(n, now_ns);
}
