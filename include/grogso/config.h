/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * config: the command line.  One option table serves the daemon and
 * `grogso replay`; --help and the man page list the same options.
 */
#ifndef GROGSO_CONFIG_H
#define GROGSO_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "grogso/gro.h"
#include "grogso/gso.h"
#include "grogso/log.h"

#define CONFIG_MAX_ADDRS 8              /* per side, IPv4 and IPv6 together */
#define CONFIG_MAX_ROUTES 64
#define CONFIG_CPU_MAX 1023             /* CPU_SETSIZE - 1 */

enum config_cmd { CONFIG_CMD_DAEMON = 0, CONFIG_CMD_REPLAY };
enum config_mode { CONFIG_MODE_ROUTE = 0, CONFIG_MODE_BRIDGE };
enum config_gso {
	CONFIG_GSO_AUTO = 0,            /* offload where the egress accepts it */
	CONFIG_GSO_OFFLOAD,
	CONFIG_GSO_SOFTWARE,
};
/* --gso-ipid */
enum config_gso_ipid {
	CONFIG_IPID_INCREMENT = 0,      /* head+i; aggregates GRO found fixed stay fixed */
	CONFIG_IPID_FIXED,              /* every segment carries the head's ID */
	CONFIG_IPID_LINUX,              /* as Linux 6.18: fixed kept for TCP only */
};
enum config_kernel_gro { CONFIG_KGRO_WARN = 0, CONFIG_KGRO_OFF };
/* how packet ports receive: recvmmsg, a ring of slots, a ring of blocks */
enum config_packet_ring {
	CONFIG_RING_OFF = 0, CONFIG_RING_SLOTS, CONFIG_RING_BLOCKS,
};

struct config_prefix {
	int family;                     /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	uint8_t plen;
};

enum config_gw_side {
	CONFIG_GW_SIDE_ANY = 0,         /* the connected prefix it is on says */
	CONFIG_GW_SIDE_LAN,             /* GATEWAY%lan */
	CONFIG_GW_SIDE_WAN,             /* GATEWAY%wan */
};

struct config_route {
	struct config_prefix dst;       /* plen 0 for "default" */
	uint8_t gw[16];
	int gw_family;
	int has_gw;
	enum config_gw_side gw_side;
};

struct config {
	enum config_cmd cmd;
	int verbose;

	/* GRO */
	int gro_on;
	struct gro_config gro;
	uint32_t gro_hold_us;

	/* GSO */
	enum config_gso gso;
	enum config_gso_ipid gso_ipid;
	enum gso_fixed gso_fixed;

	/* logs and stats */
	const char *log_path;           /* --log-aggregates */
	enum log_format log_fmt;
	const char *stats_json;
	uint32_t stats_interval;        /* seconds, 0 = off */

	/* replay */
	const char *in_path, *out_path;
	uint32_t batch;                 /* frames per batch */
	uint32_t batch_gap_us;
	int checksum_strict;

	/* daemon */
	enum config_mode mode;
	const char *lan, *wan;          /* port specs */
	int tap_offload;
	int packet_ring;                /* enum config_packet_ring */
	uint32_t packet_ring_frames;    /* full-size frames that ring holds */
	int cpu;                        /* --cpu, or -1 */
	enum config_kernel_gro kernel_gro;
	uint32_t buffers;               /* packet pool size */
	uint32_t queue_len;             /* per-port tx queue */
	struct config_prefix lan_addr[CONFIG_MAX_ADDRS];
	int n_lan_addr;
	struct config_prefix wan_addr[CONFIG_MAX_ADDRS];
	int n_wan_addr;
	struct config_route routes[CONFIG_MAX_ROUTES];
	int n_routes;
	/* route mode: limits on ICMP errors, as Linux's sysctls */
	uint32_t icmp_ratelimit_ms;     /* per host, IPv4 */
	uint32_t icmp6_ratelimit_ms;    /* per host, IPv6 */
	uint32_t icmp_msgs_per_sec;     /* over all hosts */
	uint32_t icmp_msgs_burst;
	int redirects;                  /* send ICMP/NDP redirects */
	uint32_t reasm_timeout4_s;      /* a datagram for us may take this long */
	uint32_t reasm_timeout6_s;      /* to arrive whole, IPv4 and IPv6 */
};

/* The GSO ID policy --gso-ipid asks for. */
static inline enum gso_ipid config_gso_ipid(const struct config *c)
{
	switch (c->gso_ipid) {
	case CONFIG_IPID_FIXED:
		return GSO_IPID_FIXED;
	case CONFIG_IPID_LINUX:
		return GSO_IPID_LINUX;
	case CONFIG_IPID_INCREMENT:
	default:
		return GSO_IPID_AUTO;
	}
}

/*
 * Parse argv into @c (defaults first).  Returns 0, 1 when --help or
 * --version was printed (exit 0), or -EINVAL after printing a one-line
 * error that names the option and what it accepts (exit 1).
 */
int config_parse(struct config *c, int argc, char **argv);

void config_usage(FILE *f);

/* Parse "198.18.1.1/24", "2001:db8::1/64" or "default". Returns 0 or -EINVAL. */
int config_parse_prefix(const char *s, struct config_prefix *p, int allow_default);

#endif
