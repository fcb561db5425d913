/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config: the command line.
 *
 * One table describes every option: getopt_long's table is built from
 * it and config_usage prints it, so --help cannot drift from the parser.
 * The man page lists the same options (tests/man-options.sh compares).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "grogso/config.h"
#include "grogso/log.h"

#define PORT_NAME_MAX 15                /* IFNAMSIZ - 1 */
#define BUFFERS_SLACK 64                /* pool margin for control replies and pcap output */

enum opt_id {
	OPT_HELP = 'h',
	OPT_VERSION = 'V',
	OPT_VERBOSE = 'v',
	OPT_GRO = 256,
	OPT_GRO_PROTO,
	OPT_GRO_MAX_SIZE,
	OPT_GRO_MAX_SEGS,
	OPT_GRO_FLOWS,
	OPT_GRO_UDP_FIXED_ID,
	OPT_GRO_HOLD_US,
	OPT_GSO,
	OPT_GSO_IPID,
	OPT_GSO_FIXED_ID,
	OPT_LOG_AGGREGATES,
	OPT_LOG_FORMAT,
	OPT_STATS_JSON,
	OPT_STATS_INTERVAL,
	OPT_BATCH,
	OPT_BATCH_GAP_US,
	OPT_CHECKSUM,
	OPT_MODE,
	OPT_LAN,
	OPT_WAN,
	OPT_TAP_OFFLOAD,
	OPT_PACKET_RING,
	OPT_PACKET_RING_FRAMES,
	OPT_CPU,
	OPT_KERNEL_GRO,
	OPT_BUFFERS,
	OPT_QUEUE_LEN,
	OPT_LAN_ADDR,
	OPT_WAN_ADDR,
	OPT_ROUTE,
	OPT_ICMP_RATELIMIT,
	OPT_ICMP6_RATELIMIT,
	OPT_ICMP_MSGS_PER_SEC,
	OPT_ICMP_MSGS_BURST,
	OPT_REDIRECTS,
	OPT_REASM_TIMEOUT,
};

struct opt_desc {
	const char *name;
	int has_arg;
	int id;
	const char *arg;                /* placeholder in --help */
	const char *help;               /* with the default in brackets */
};

static const struct opt_desc opts[] = {
	{ "help", no_argument, OPT_HELP, NULL, "print this help and exit" },
	{ "version", no_argument, OPT_VERSION, NULL, "print the version and exit" },
	{ "verbose", no_argument, OPT_VERBOSE, NULL, "more messages (repeat for debug)" },
	{ "gro", required_argument, OPT_GRO, "on|off", "receive aggregation [on]" },
	{ "gro-proto", required_argument, OPT_GRO_PROTO, "LIST",
	  "aggregate these: tcp4,tcp6,udp4,udp6,tcp,udp,all [all]" },
	{ "gro-max-size", required_argument, OPT_GRO_MAX_SIZE, "N",
	  "largest aggregate, IP bytes, 1..65535 [65535]" },
	{ "gro-max-segs", required_argument, OPT_GRO_MAX_SEGS, "N",
	  "segments per aggregate, 2..64 [64]" },
	{ "gro-flows", required_argument, OPT_GRO_FLOWS, "N",
	  "aggregates held at once per port [4096]" },
	{ "gro-udp-fixed-id", required_argument, OPT_GRO_UDP_FIXED_ID, "pass|merge",
	  "fixed-ID UDP flows: leave alone or merge [merge]" },
	{ "gro-hold-us", required_argument, OPT_GRO_HOLD_US, "N",
	  "hold aggregates across batches up to N us, 0 = no [0]" },
	{ "gso", required_argument, OPT_GSO, "auto|offload|software",
	  "who segments on egress [auto]" },
	{ "gso-ipid", required_argument, OPT_GSO_IPID, "increment|fixed|linux",
	  "IPv4 IDs of software segments [increment]" },
	{ "gso-fixed-id", required_argument, OPT_GSO_FIXED_ID,
	  "linux|offload|software", "who segments fixed-ID aggregates [linux]" },
	{ "log-aggregates", required_argument, OPT_LOG_AGGREGATES, "FILE",
	  "log every aggregate to FILE, - = stdout [off]" },
	{ "log-format", required_argument, OPT_LOG_FORMAT, "text|json",
	  "aggregate log format [text]" },
	{ "stats-json", required_argument, OPT_STATS_JSON, "FILE",
	  "write counters as JSON to FILE [off]" },
	{ "stats-interval", required_argument, OPT_STATS_INTERVAL, "S",
	  "write the counters every S seconds, 0 = at exit only [0]" },
	{ "batch", required_argument, OPT_BATCH, "N",
	  "frames per receive batch, 1..4096 [64]" },
	{ "batch-gap-us", required_argument, OPT_BATCH_GAP_US, "N",
	  "replay and pcap ports: a gap over N us ends a batch [100]" },
	{ "checksum", required_argument, OPT_CHECKSUM, "lenient|strict",
	  "replay and pcap ports: lenient takes offloaded (partial) checksums as good [lenient]" },
	{ "mode", required_argument, OPT_MODE, "route|bridge",
	  "forwarding mode [route]" },
	{ "lan", required_argument, OPT_LAN, "PORT",
	  "LAN port: packet:IF, tap:NAME, IF or pcap:IN,OUT [required]" },
	{ "wan", required_argument, OPT_WAN, "PORT",
	  "WAN port, as --lan [required]" },
	{ "tap-offload", required_argument, OPT_TAP_OFFLOAD, "on|off",
	  "negotiate TSO/USO on TAP ports [on]" },
	{ "packet-ring", required_argument, OPT_PACKET_RING, "slots|blocks|off",
	  "receive via a ring of slots, of blocks (faster; frames wait up "
	  "to 1 ms) or recvmmsg [slots]" },
	{ "packet-ring-frames", required_argument, OPT_PACKET_RING_FRAMES, "N",
	  "frames the receive ring of a packet port holds, 64..262144 [4096]" },
	{ "cpu", required_argument, OPT_CPU, "N",
	  "run on CPU N only [wherever the scheduler puts it]" },
	{ "kernel-gro", required_argument, OPT_KERNEL_GRO, "warn|off",
	  "kernel GRO on a packet port: warn, or turn it off [warn]" },
	{ "buffers", required_argument, OPT_BUFFERS, "N",
	  "packet buffers [2 x (gro-flows + queue-len + batch) + 64]" },
	{ "queue-len", required_argument, OPT_QUEUE_LEN, "N",
	  "transmit queue per port, 1..65536 [256]" },
	{ "lan-addr", required_argument, OPT_LAN_ADDR, "CIDR",
	  "route mode: LAN address, repeatable [none]" },
	{ "wan-addr", required_argument, OPT_WAN_ADDR, "CIDR",
	  "route mode: WAN address, repeatable [none]" },
	{ "route", required_argument, OPT_ROUTE, "PREFIX,GATEWAY[%lan|%wan]",
	  "route mode: static route, PREFIX may be default, repeatable [none]" },
	{ "icmp-ratelimit", required_argument, OPT_ICMP_RATELIMIT, "MS",
	  "route mode: ICMP errors to a host: 6, then 1 per MS ms; 0: no limit [1000]" },
	{ "icmp6-ratelimit", required_argument, OPT_ICMP6_RATELIMIT, "MS",
	  "route mode: the same for ICMPv6 errors [100]" },
	{ "icmp-msgs-per-sec", required_argument, OPT_ICMP_MSGS_PER_SEC, "N",
	  "route mode: ICMP and ICMPv6 errors a second, all hosts [1000]" },
	{ "icmp-msgs-burst", required_argument, OPT_ICMP_MSGS_BURST, "N",
	  "route mode: the most of those sent at once [50]" },
	{ "redirects", required_argument, OPT_REDIRECTS, "on|off",
	  "route mode: redirect hosts to a better first hop [on]" },
	{ "reasm-timeout", required_argument, OPT_REASM_TIMEOUT, "S",
	  "route mode: give up on a datagram for grogso still in pieces "
	  "after S seconds [30 IPv4, 60 IPv6]" },
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

void config_usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: grogso [OPTIONS] --lan=PORT --wan=PORT\n"
		"       grogso replay [OPTIONS] IN.pcap OUT.pcap\n"
		"\n"
		"options (defaults in brackets):\n");
	for (i = 0; i < N_OPTS; i++) {
		char left[64];
		const struct opt_desc *o = &opts[i];

		if (o->id < 256)
			snprintf(left, sizeof(left), "-%c, --%s", o->id, o->name);
		else
			snprintf(left, sizeof(left), "    --%s=%s", o->name, o->arg);
		fprintf(f, "  %-41s %s\n", left, o->help);
	}
}

static const char *opt_name(int id)
{
	size_t i;

	for (i = 0; i < N_OPTS; i++)
		if (opts[i].id == id)
			return opts[i].name;
	return "?";
}

/* The one error line every bad value gets. */
static int bad_value(int id, const char *val, const char *expected)
{
	log_err("--%s: '%s': expected %s", opt_name(id), val, expected);
	return -EINVAL;
}

static int parse_u32(int id, const char *s, uint32_t min, uint32_t max,
		     uint32_t *out)
{
	char expected[64];
	unsigned long v;
	char *end;

	snprintf(expected, sizeof(expected), "a number from %u to %u", min, max);
	/* strtoul takes a sign and leading blanks: refuse both */
	if (*s < '0' || *s > '9')
		return bad_value(id, s, expected);
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return bad_value(id, s, expected);
	*out = (uint32_t)v;
	return 0;
}

/* Index of @s in the NULL-terminated @words, or a bad-value error. */
static int parse_word(int id, const char *s, const char *const *words,
		      const char *expected, int *out)
{
	int i;

	for (i = 0; words[i]; i++) {
		if (!strcmp(s, words[i])) {
			*out = i;
			return 0;
		}
	}
	return bad_value(id, s, expected);
}

static int parse_proto_list(const char *s, uint32_t *out)
{
	static const struct {
		const char *name;
		uint32_t bits;
	} names[] = {
		{ "tcp4", GRO_PROTO_TCP4 }, { "tcp6", GRO_PROTO_TCP6 },
		{ "udp4", GRO_PROTO_UDP4 }, { "udp6", GRO_PROTO_UDP6 },
		{ "tcp", GRO_PROTO_TCP4 | GRO_PROTO_TCP6 },
		{ "udp", GRO_PROTO_UDP4 | GRO_PROTO_UDP6 },
		{ "all", GRO_PROTO_ALL },
	};
	const char *expected = "a comma list of tcp4,tcp6,udp4,udp6,tcp,udp,all";
	const char *p = s;
	uint32_t bits = 0;

	for (;;) {
		size_t len = strcspn(p, ","), i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strlen(names[i].name) == len &&
			    !strncmp(p, names[i].name, len))
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			return bad_value(OPT_GRO_PROTO, s, expected);
		bits |= names[i].bits;
		if (!p[len])
			break;
		p += len + 1;
	}
	*out = bits;
	return 0;
}

static void mask_host_bits(struct config_prefix *p)
{
	size_t len = p->family == AF_INET ? 4 : 16, i;

	for (i = 0; i < len; i++) {
		unsigned int keep = p->plen > i * 8 ? p->plen - i * 8 : 0;

		if (keep < 8)
			p->addr[i] &= (uint8_t)(0xff00u >> keep);
	}
}

int config_parse_prefix(const char *s, struct config_prefix *p,
			int allow_default)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	unsigned int max;
	size_t alen;

	memset(p, 0, sizeof(*p));
	if (allow_default && !strcmp(s, "default")) {
		/* the family follows from the gateway (--route) */
		p->family = AF_UNSPEC;
		return 0;
	}
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (!alen || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, p->addr) == 1) {
		p->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, buf, p->addr) == 1) {
		p->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	p->plen = (uint8_t)max;
	if (slash) {
		const char *n = slash + 1;
		unsigned long v;
		char *end;

		if (*n < '0' || *n > '9')
			return -EINVAL;
		v = strtoul(n, &end, 10);
		if (*end || v > max)
			return -EINVAL;
		p->plen = (uint8_t)v;
	}
	return 0;
}

static int parse_addr(int id, const char *s, struct config_prefix *arr,
		      int *n)
{
	const char *expected = "ADDRESS/PREFIXLEN, IPv4 or IPv6";

	if (*n >= CONFIG_MAX_ADDRS) {
		log_err("--%s: '%s': at most %d addresses per side",
			opt_name(id), s, CONFIG_MAX_ADDRS);
		return -EINVAL;
	}
	/* an address without a length would give no connected route */
	if (!strchr(s, '/') || config_parse_prefix(s, &arr[*n], 0))
		return bad_value(id, s, expected);
	(*n)++;
	return 0;
}

/*
 * GATEWAY%lan or GATEWAY%wan: the side the gateway is on.  An IPv6
 * link-local gateway needs it (no prefix of ours says where it is, and
 * fe80::1 may be a router on both links); on any other it is checked
 * against the connected prefix the gateway is on.
 */
static int parse_gateway(const char *s, struct config_route *r)
{
	static const char *const sides[] = { "lan", "wan" };
	char buf[INET6_ADDRSTRLEN];
	const char *pct = strchr(s, '%');
	size_t alen = pct ? (size_t)(pct - s) : strlen(s);
	int i;

	if (alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	memset(r->gw, 0, sizeof(r->gw));
	if (inet_pton(AF_INET, buf, r->gw) == 1)
		r->gw_family = AF_INET;
	else if (inet_pton(AF_INET6, buf, r->gw) == 1)
		r->gw_family = AF_INET6;
	else
		return -EINVAL;
	r->gw_side = CONFIG_GW_SIDE_ANY;
	if (!pct)
		return 0;
	for (i = 0; i < 2; i++)
		if (!strcmp(pct + 1, sides[i]))
			r->gw_side = i ? CONFIG_GW_SIDE_WAN : CONFIG_GW_SIDE_LAN;
	return r->gw_side == CONFIG_GW_SIDE_ANY ? -EINVAL : 0;
}

static int parse_route(struct config *c, const char *s)
{
	const char *expected = "PREFIX,GATEWAY with PREFIX an IPv4/IPv6 prefix "
			       "or default, and GATEWAY an address of its family "
			       "(%lan or %wan after it: the side it is on; "
			       "needed for a link-local one)";
	char pfx[INET6_ADDRSTRLEN + 8];
	char gw[INET6_ADDRSTRLEN];
	struct config_route *r;
	const char *comma = strchr(s, ',');

	if (c->n_routes >= CONFIG_MAX_ROUTES) {
		log_err("--route: '%s': at most %d routes", s, CONFIG_MAX_ROUTES);
		return -EINVAL;
	}
	if (!comma || (size_t)(comma - s) >= sizeof(pfx))
		return bad_value(OPT_ROUTE, s, expected);
	memcpy(pfx, s, (size_t)(comma - s));
	pfx[comma - s] = '\0';
	r = &c->routes[c->n_routes];
	memset(r, 0, sizeof(*r));
	if (parse_gateway(comma + 1, r) ||
	    config_parse_prefix(pfx, &r->dst, 1))
		return bad_value(OPT_ROUTE, s, expected);
	if (r->dst.family == AF_UNSPEC)
		r->dst.family = r->gw_family;   /* default: 0.0.0.0/0 or ::/0 */
	else if (r->dst.family != r->gw_family)
		return bad_value(OPT_ROUTE, s, expected);
	inet_ntop(r->gw_family, r->gw, gw, sizeof(gw));
	if (r->gw_family == AF_INET6 && r->gw[0] == 0xfe &&
	    (r->gw[1] & 0xc0) == 0x80 && r->gw_side == CONFIG_GW_SIDE_ANY) {
		log_err("--route: '%s': gateway %s is link-local: say on which "
			"side, as %s%%wan or %s%%lan", s, gw, gw, gw);
		return -EINVAL;
	}
	/* a route names a network; host bits would never match a lookup */
	mask_host_bits(&r->dst);
	r->has_gw = 1;
	c->n_routes++;
	return 0;
}

static int parse_port(int id, const char *s, const char **out)
{
	static const char *const kinds[] = { "packet:", "tap:" };
	const char *expected = "packet:IF, tap:NAME, IF or pcap:IN,OUT";
	size_t i, len = strlen(s);

	/* port_pcap reads the rest: file names have no length limit here */
	if (!strncmp(s, "pcap:", 5) && len > 5) {
		*out = s;
		return 0;
	}

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		size_t k = strlen(kinds[i]);

		if (strncmp(s, kinds[i], k))
			continue;
		if (len == k)
			break;
		/* interface names are limited by the kernel */
		if (len - k > PORT_NAME_MAX)
			break;
		*out = s;
		return 0;
	}
	/* a bare interface name means packet:IF; anything with a kind
	 * separator or a path in it is a typo, not an interface */
	if (i == sizeof(kinds) / sizeof(kinds[0]) && len &&
	    len <= PORT_NAME_MAX && !strpbrk(s, ":/ \t")) {
		*out = s;
		return 0;
	}
	return bad_value(id, s, expected);
}

static void config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->cmd = CONFIG_CMD_DAEMON;
	c->gro_on = 1;
	gro_config_default(&c->gro);
	c->gro.max_flows = GRO_DEFAULT_FLOWS;
	c->gro.max_ip_len = GRO_MAX_IP_LEN;
	c->gro.max_segs = GRO_MAX_SEGS;
	c->gro.protos = GRO_PROTO_ALL;
	c->gro.udp_fixed_merge = 1;
	c->gso = CONFIG_GSO_AUTO;
	c->gso_ipid = CONFIG_IPID_INCREMENT;
	c->log_fmt = LOG_FMT_TEXT;
	c->batch = 64;
	c->batch_gap_us = 100;
	c->mode = CONFIG_MODE_ROUTE;
	c->tap_offload = 1;
	c->packet_ring = CONFIG_RING_SLOTS;
	c->packet_ring_frames = 4096;
	c->cpu = -1;
	c->kernel_gro = CONFIG_KGRO_WARN;
	c->queue_len = 256;
	/* Linux's defaults: net.ipv4.icmp_ratelimit, net.ipv6.icmp.ratelimit,
	 * net.ipv4.icmp_msgs_per_sec, net.ipv4.icmp_msgs_burst */
	c->icmp_ratelimit_ms = 1000;
	c->icmp6_ratelimit_ms = 100;
	c->icmp_msgs_per_sec = 1000;
	c->icmp_msgs_burst = 50;
	c->redirects = 1;
	/* net.ipv4.ipfrag_time, net.ipv6.ip6frag_time */
	c->reasm_timeout4_s = 30;
	c->reasm_timeout6_s = 60;
}

static const char *const on_off[] = { "off", "on", NULL };
static const char *const ring_kinds[] = { "off", "slots", "blocks", NULL };

static int parse_one(struct config *c, int id, const char *arg)
{
	static const char *const udp_fixed[] = { "pass", "merge", NULL };
	static const char *const gso[] = { "auto", "offload", "software", NULL };
	static const char *const ipid[] = { "increment", "fixed", "linux", NULL };
	static const char *const fixed_id[] = { "linux", "offload", "software",
						NULL };
	static const char *const fmt[] = { "text", "json", NULL };
	static const char *const csum[] = { "lenient", "strict", NULL };
	static const char *const mode[] = { "route", "bridge", NULL };
	static const char *const kgro[] = { "warn", "off", NULL };
	uint32_t w32;
	int w, err = 0;

	switch (id) {
	case OPT_VERBOSE:
		c->verbose++;
		break;
	case OPT_GRO:
		err = parse_word(id, arg, on_off, "on or off", &c->gro_on);
		break;
	case OPT_GRO_PROTO:
		err = parse_proto_list(arg, &c->gro.protos);
		break;
	case OPT_GRO_MAX_SIZE:
		err = parse_u32(id, arg, 1, GRO_MAX_IP_LEN, &c->gro.max_ip_len);
		break;
	case OPT_GRO_MAX_SEGS:
		err = parse_u32(id, arg, 2, GRO_MAX_SEGS, &c->gro.max_segs);
		break;
	case OPT_GRO_FLOWS:
		err = parse_u32(id, arg, 1, 1u << 20, &c->gro.max_flows);
		break;
	case OPT_GRO_UDP_FIXED_ID:
		err = parse_word(id, arg, udp_fixed, "pass or merge",
				 &c->gro.udp_fixed_merge);
		break;
	case OPT_GRO_HOLD_US:
		err = parse_u32(id, arg, 0, 10000000, &c->gro_hold_us);
		break;
	case OPT_GSO:
		err = parse_word(id, arg, gso, "auto, offload or software", &w);
		c->gso = (enum config_gso)w;
		break;
	case OPT_GSO_IPID:
		err = parse_word(id, arg, ipid, "increment, fixed or linux", &w);
		c->gso_ipid = (enum config_gso_ipid)w;
		break;
	case OPT_GSO_FIXED_ID:
		err = parse_word(id, arg, fixed_id, "linux, offload or software",
				 &w);
		c->gso_fixed = (enum gso_fixed)w;
		break;
	case OPT_LOG_AGGREGATES:
		if (!*arg)
			return bad_value(id, arg, "a file name or -");
		c->log_path = arg;
		break;
	case OPT_LOG_FORMAT:
		err = parse_word(id, arg, fmt, "text or json", &w);
		c->log_fmt = (enum log_format)w;
		break;
	case OPT_STATS_JSON:
		if (!*arg)
			return bad_value(id, arg, "a file name or -");
		c->stats_json = arg;
		break;
	case OPT_STATS_INTERVAL:
		err = parse_u32(id, arg, 0, 86400, &c->stats_interval);
		break;
	case OPT_BATCH:
		err = parse_u32(id, arg, 1, 4096, &c->batch);
		break;
	case OPT_BATCH_GAP_US:
		err = parse_u32(id, arg, 0, 60000000, &c->batch_gap_us);
		break;
	case OPT_CHECKSUM:
		err = parse_word(id, arg, csum, "lenient or strict",
				 &c->checksum_strict);
		break;
	case OPT_MODE:
		err = parse_word(id, arg, mode, "route or bridge", &w);
		c->mode = (enum config_mode)w;
		break;
	case OPT_LAN:
		err = parse_port(id, arg, &c->lan);
		break;
	case OPT_WAN:
		err = parse_port(id, arg, &c->wan);
		break;
	case OPT_TAP_OFFLOAD:
		err = parse_word(id, arg, on_off, "on or off", &c->tap_offload);
		break;
	case OPT_PACKET_RING:
		err = parse_word(id, arg, ring_kinds, "slots, blocks or off",
				 &c->packet_ring);
		break;
	case OPT_PACKET_RING_FRAMES:
		err = parse_u32(id, arg, 64, 262144, &c->packet_ring_frames);
		break;
	case OPT_CPU:
		err = parse_u32(id, arg, 0, CONFIG_CPU_MAX, &w32);
		c->cpu = (int)w32;
		break;
	case OPT_KERNEL_GRO:
		err = parse_word(id, arg, kgro, "warn or off", &w);
		c->kernel_gro = (enum config_kernel_gro)w;
		break;
	case OPT_BUFFERS:
		err = parse_u32(id, arg, 16, 1u << 20, &c->buffers);
		break;
	case OPT_QUEUE_LEN:
		err = parse_u32(id, arg, 1, 65536, &c->queue_len);
		break;
	case OPT_LAN_ADDR:
		err = parse_addr(id, arg, c->lan_addr, &c->n_lan_addr);
		break;
	case OPT_WAN_ADDR:
		err = parse_addr(id, arg, c->wan_addr, &c->n_wan_addr);
		break;
	case OPT_ROUTE:
		err = parse_route(c, arg);
		break;
	case OPT_ICMP_RATELIMIT:
		err = parse_u32(id, arg, 0, 3600000, &c->icmp_ratelimit_ms);
		break;
	case OPT_ICMP6_RATELIMIT:
		err = parse_u32(id, arg, 0, 3600000, &c->icmp6_ratelimit_ms);
		break;
	case OPT_ICMP_MSGS_PER_SEC:
		err = parse_u32(id, arg, 0, 1000000000, &c->icmp_msgs_per_sec);
		break;
	case OPT_ICMP_MSGS_BURST:
		err = parse_u32(id, arg, 0, 1000000000, &c->icmp_msgs_burst);
		break;
	case OPT_REDIRECTS:
		err = parse_word(id, arg, on_off, "on or off", &c->redirects);
		break;
	case OPT_REASM_TIMEOUT:
		err = parse_u32(id, arg, 1, 3600, &c->reasm_timeout4_s);
		c->reasm_timeout6_s = c->reasm_timeout4_s;
		break;
	default:
		err = -EINVAL;
		break;
	}
	return err;
}

/* Rules between options, checked once everything is read. */
static int check_config(struct config *c, int nargs, char **args)
{
	if (c->cmd == CONFIG_CMD_REPLAY) {
		if (nargs != 2) {
			log_err("replay: expected IN.pcap OUT.pcap (see grogso --help)");
			return -EINVAL;
		}
		c->in_path = args[0];
		c->out_path = args[1];
		return 0;
	}
	if (nargs) {
		log_err("unexpected argument '%s' (see grogso --help)", args[0]);
		return -EINVAL;
	}
	if (!c->lan || !c->wan) {
		log_err("--lan and --wan are required (see grogso --help)");
		return -EINVAL;
	}
	if (c->mode == CONFIG_MODE_ROUTE) {
		if (!c->n_lan_addr || !c->n_wan_addr) {
			log_err("route mode needs at least one --lan-addr and one "
				"--wan-addr (or --mode=bridge)");
			return -EINVAL;
		}
	} else if (c->n_lan_addr || c->n_wan_addr || c->n_routes) {
		log_warn("bridge mode ignores --lan-addr, --wan-addr and --route");
		c->n_lan_addr = 0;
		c->n_wan_addr = 0;
		c->n_routes = 0;
	}
	return 0;
}

int config_parse(struct config *c, int argc, char **argv)
{
	struct option lopts[N_OPTS + 1];
	size_t i;
	int ch, err, nargs;
	char **args;

	config_defaults(c);
	memset(lopts, 0, sizeof(lopts));
	for (i = 0; i < N_OPTS; i++) {
		lopts[i].name = opts[i].name;
		lopts[i].has_arg = opts[i].has_arg;
		lopts[i].val = opts[i].id;
	}
	/* 0 restarts GNU getopt, so config_parse may run more than once */
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":hVv", lopts, NULL)) != -1) {
		const char *bad = argv[optind - 1];

		switch (ch) {
		case OPT_HELP:
			config_usage(stdout);
			return 1;
		case OPT_VERSION:
			printf("grogso %s\n", PACKAGE_VERSION);
			return 1;
		case ':':
			log_err("%s: expected a value (see grogso --help)", bad);
			return -EINVAL;
		case '?':
			/* a long option's own text names it best, even when
			 * the fault is an argument it does not take */
			if (strncmp(bad, "--", 2) && optopt > 0 && optopt < 256)
				log_err("unknown option '-%c' (see grogso --help)",
					optopt);
			else
				log_err("unknown or misused option '%s' (see grogso --help)",
					bad);
			return -EINVAL;
		default:
			err = parse_one(c, ch, optarg);
			if (err)
				return err;
			break;
		}
	}
	args = argv + optind;
	nargs = argc - optind;
	if (nargs && !strcmp(args[0], "replay")) {
		c->cmd = CONFIG_CMD_REPLAY;
		args++;
		nargs--;
	}
	err = check_config(c, nargs, args);
	if (err)
		return err;
	c->gro.accept_partial = !c->checksum_strict;
	if (!c->buffers)
		c->buffers = 2 * (c->gro.max_flows + c->queue_len + c->batch) +
			     BUFFERS_SLACK;
	return 0;
}
