/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_fwd: drive a route-mode forwarder with a sequence of frames.
 *
 * The router is the one of tests/unit/test_fwd.c: LAN 198.18.1.1/24 and
 * 2001:db8:1::1/64, WAN 198.19.1.1/24 and 2001:db8:2::1/64; IPv4 default
 * via 198.19.1.254, 10.0.0.0/8 via 198.18.1.254, 2001:db8:99::/48 via
 * 2001:db8:2::fe and 2001:db8:88::/48 via fe80::1 on the WAN.  Redirects
 * are on and the ICMP limits let every error out, so every error path
 * runs.
 *
 * Input: records of
 *   ctl (1 byte) | length (2 bytes, big-endian) | frame (length bytes).
 * ctl bit 0 is the ingress port (0 LAN, 1 WAN); bit 1 runs the neighbour
 * timer after the frame; bits 2-4 advance the clock by that many times
 * 300 ms before it; bit 5 sets the WAN MTU to 1280 (else 1500) before it,
 * so the fragmentation and too-big paths run.  Bit 6 rewrites the frame's
 * IPv4 header checksum and bit 7 its TCP, UDP, ICMP or ICMPv6 checksum
 * (when that header follows the IP header directly) before it is parsed,
 * so mutated headers, options and messages get past the checks that a
 * router makes first.
 *
 * Every packet fwd sends must be sane: not empty, inside its buffer, no
 * larger than PKT_DATA_MAX with its fragment chain, on port 0 or 1, and
 * an untagged IPv4 or IPv6 frame must describe exactly the bytes after
 * its Ethernet header (an IPv4 one with a header checksum that
 * verifies).  Nothing fwd holds may outlive the input: the forwarder is
 * made afresh for each one, and destroying it must give every buffer
 * back to the pool.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "grogso/config.h"
#include "grogso/csum.h"
#include "grogso/fwd.h"
#include "grogso/pkt.h"
#include "grogso/stats.h"

#define FUZZ_POOL 256
#define FUZZ_PROTO_ICMP 1
#define FUZZ_PROTO_ICMPV6 58
#define FUZZ_NS_PER_MS 1000000ull
#define FUZZ_START_NS (10 * 1000 * FUZZ_NS_PER_MS)
/* CLOCK_REALTIME less CLOCK_MONOTONIC: some afternoon in 2023 */
#define FUZZ_WALLCLOCK_NS 1700000000123456789ll

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct pkt_pool pool;
static struct config cfg;
static struct fwd_port_info ports[FWD_NPORTS];
static struct stats_port st[FWD_NPORTS];

static void prefix(struct config_prefix *p, const char *s, uint8_t plen)
{
	memset(p, 0, sizeof(*p));
	p->family = strchr(s, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(p->family, s, p->addr) != 1)
		abort();
	p->plen = plen;
}

static void route(const char *dst, uint8_t plen, const char *gw,
		  enum config_gw_side side)
{
	struct config_route *r = &cfg.routes[cfg.n_routes++];

	prefix(&r->dst, dst, plen);
	r->gw_family = r->dst.family;
	if (inet_pton(r->gw_family, gw, r->gw) != 1)
		abort();
	r->has_gw = 1;
	r->gw_side = side;
}

static void setup(void)
{
	static const uint8_t lan_mac[6] = { 0x02, 0, 0, 0, 0x01, 0x04 };
	static const uint8_t wan_mac[6] = { 0x02, 0, 0, 0, 0x01, 0x05 };

	if (pkt_pool_init(&pool, FUZZ_POOL))
		abort();
	cfg.mode = CONFIG_MODE_ROUTE;
	prefix(&cfg.lan_addr[cfg.n_lan_addr++], "198.18.1.1", 24);
	prefix(&cfg.lan_addr[cfg.n_lan_addr++], "2001:db8:1::1", 64);
	prefix(&cfg.wan_addr[cfg.n_wan_addr++], "198.19.1.1", 24);
	prefix(&cfg.wan_addr[cfg.n_wan_addr++], "2001:db8:2::1", 64);
	route("0.0.0.0", 0, "198.19.1.254", CONFIG_GW_SIDE_ANY);
	route("10.0.0.0", 8, "198.18.1.254", CONFIG_GW_SIDE_ANY);
	route("2001:db8:99::", 48, "2001:db8:2::fe", CONFIG_GW_SIDE_ANY);
	route("2001:db8:88::", 48, "fe80::1", CONFIG_GW_SIDE_WAN);
	/* no per-host limit and a global one never reached */
	cfg.icmp_ratelimit_ms = 0;
	cfg.icmp6_ratelimit_ms = 0;
	cfg.icmp_msgs_per_sec = 1000000;
	cfg.icmp_msgs_burst = 1000000;
	cfg.redirects = 1;
	cfg.reasm_timeout4_s = 30;
	cfg.reasm_timeout6_s = 60;
	memcpy(ports[FWD_PORT_LAN].mac, lan_mac, 6);
	memcpy(ports[FWD_PORT_WAN].mac, wan_mac, 6);
	ports[FWD_PORT_LAN].mtu = 1500;
	ports[FWD_PORT_WAN].mtu = 1500;
}

/* The L4 checksum field of @proto: its offset, or -1 for none we fix. */
static int l4_csum_off(uint8_t proto, uint32_t l4len)
{
	int off;

	switch (proto) {
	case IPPROTO_TCP_:
		off = 16;
		break;
	case IPPROTO_UDP_:
		off = 6;
		break;
	case FUZZ_PROTO_ICMP:
	case FUZZ_PROTO_ICMPV6:
		off = 2;
		break;
	default:
		return -1;
	}
	return l4len >= (uint32_t)off + 2 ? off : -1;
}

/* Write the checksum field at @off of the @len bytes at @l4 for the sum
 * @sum of what else it covers. */
static void l4_csum_write(uint8_t *l4, uint32_t len, int off, uint8_t proto,
			  uint64_t sum)
{
	uint16_t c;

	put_be16(l4 + off, 0);
	c = csum_finish(csum_partial(l4, len, sum));
	if (proto == IPPROTO_UDP_ && !c)
		c = 0xffff;
	put_be16(l4 + off, c);
}

/*
 * Make the checksums of the raw frame @d/@len right: the IPv4 header's
 * when @ip, the L4 header's when @l4.  Only what lies inside the frame
 * and the IP length is touched; anything else is left as it is.
 */
static void fix_csums(uint8_t *d, uint32_t len, int ip, int l4)
{
	uint32_t l3 = ETH_HLEN_, hl, tot;
	uint64_t sum;
	uint16_t type;
	uint8_t proto;
	int off;

	if (len < ETH_HLEN_)
		return;
	type = get_be16(d + 12);
	if (type == ETHTYPE_VLAN) {
		if (len < ETH_HLEN_ + VLAN_HLEN_)
			return;
		type = get_be16(d + 16);
		l3 += VLAN_HLEN_;
	}
	if (type == ETHTYPE_IPV4) {
		if (len < l3 + 20)
			return;
		hl = (uint32_t)(d[l3] & 0x0f) * 4;
		if (hl < 20 || len < l3 + hl)
			return;
		tot = get_be16(d + l3 + 2);
		proto = d[l3 + 9];
		/* a fragment holds only part of what its checksum covers */
		if (l4 && tot >= hl && len >= l3 + tot &&
		    !(get_be16(d + l3 + 6) & 0x3fff)) {
			off = l4_csum_off(proto, tot - hl);
			/* ICMP sums no pseudo-header */
			sum = proto == FUZZ_PROTO_ICMP ? 0 :
			      csum_pseudo4(d + l3 + 12, d + l3 + 16, proto,
					   tot - hl);
			if (off >= 0)
				l4_csum_write(d + l3 + hl, tot - hl, off,
					      proto, sum);
		}
		if (ip) {
			put_be16(d + l3 + 10, 0);
			put_be16(d + l3 + 10, csum_ip4_header(d + l3, hl));
		}
	} else if (type == ETHTYPE_IPV6 && l4) {
		if (len < l3 + IPV6_HLEN_)
			return;
		tot = get_be16(d + l3 + 4);
		if (len < l3 + IPV6_HLEN_ + tot)
			return;
		proto = d[l3 + 6];
		off = l4_csum_off(proto, tot);
		sum = csum_pseudo6(d + l3 + 8, d + l3 + 24, proto, tot);
		if (off >= 0)
			l4_csum_write(d + l3 + IPV6_HLEN_, tot, off, proto,
				      sum);
	}
}

/* The fragment chain behind @p adds up to what its head says. */
static void check_chain(const struct pkt *p)
{
	const struct pkt *f;
	uint32_t bytes = 0, n = 0;

	for (f = p->frag_first; f; f = f->frag_next) {
		if (!f->len)
			abort();
		bytes += f->len;
		n++;
	}
	if (bytes != p->frag_bytes || n != p->frag_count)
		abort();
}

/* An untagged IPv4 or IPv6 frame describes exactly its bytes. */
static void check_ip(const struct pkt *p)
{
	uint32_t l3_len = pkt_frame_len(p) - ETH_HLEN_;
	const uint8_t *ip = p->data + ETH_HLEN_;
	uint32_t hl;

	if (p->len < ETH_HLEN_)
		abort();
	switch (get_be16(p->data + 12)) {
	case ETHTYPE_IPV4:
		/* the header must be in the linear part */
		if (p->len < ETH_HLEN_ + 20 || ip[0] >> 4 != 4)
			abort();
		hl = (uint32_t)(ip[0] & 0x0f) * 4;
		if (hl < 20 || p->len < ETH_HLEN_ + hl)
			abort();
		if (csum_ip4_header(ip, hl) != 0)
			abort();
		if (get_be16(ip + 2) != l3_len)
			abort();
		break;
	case ETHTYPE_IPV6:
		if (p->len < ETH_HLEN_ + IPV6_HLEN_ || ip[0] >> 4 != 6)
			abort();
		if ((uint32_t)get_be16(ip + 4) + IPV6_HLEN_ != l3_len)
			abort();
		break;
	default:
		break;
	}
}

static void check_tx(void *ctx, unsigned int port, struct pkt *p)
{
	(void)ctx;
	if (port >= FWD_NPORTS || !p->len)
		abort();
	if (p->borrow || p->data < p->buf ||
	    p->data + p->len > p->buf + PKT_BUF_SIZE)
		abort();
	check_chain(p);
	if (pkt_frame_len(p) > PKT_DATA_MAX)
		abort();
	check_ip(p);
	pkt_free(&pool, p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct stats_port *stp[FWD_NPORTS] = { &st[0], &st[1] };
	struct fwd_port_info wan;
	uint64_t now = FUZZ_START_NS;
	struct fwd *f;
	size_t off;

	if (!ready) {
		setup();
		ready = 1;
	}
	memset(st, 0, sizeof(st));
	/* fwd_create keeps its own copy of the ports */
	f = fwd_create(&cfg, ports, &pool, stp, check_tx, NULL);
	if (!f)
		abort();
	fwd_set_wallclock(f, FUZZ_WALLCLOCK_NS);
	wan = ports[FWD_PORT_WAN];

	for (off = 0; off + 3 <= size;) {
		uint8_t ctl = data[off];
		size_t len = get_be16(data + off + 1);
		unsigned int in = ctl & 1;
		struct pkt *p;

		off += 3;
		if (len > size - off)
			len = size - off;
		now += (uint64_t)((ctl >> 2) & 7) * 300 * FUZZ_NS_PER_MS;
		wan.mtu = (ctl & 0x20) ? 1280 : 1500;
		fwd_set_port(f, FWD_PORT_WAN, &wan);
		if (len <= PKT_DATA_MAX) {
			p = pkt_alloc(&pool);
			if (p) {
				memcpy(p->data, data + off, len);
				p->len = (uint32_t)len;
				fix_csums(p->data, p->len, ctl & 0x40,
					  ctl & 0x80);
				if (pkt_parse(p) == DROP_NONE)
					fwd_input(f, in, p, now);
				else
					pkt_free(&pool, p);
			}
		}
		off += len;
		if (ctl & 2)
			(void)fwd_timer(f, now);
	}
	/* fwd has no call that empties its neighbour queues: destroying
	 * it must free what it still holds */
	fwd_destroy(f);
	if (pool.nfree != pool.count)
		abort();
	return 0;
}
