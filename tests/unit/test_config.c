/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "grogso/config.h"

static struct config cfg;

/* Parse a NULL-terminated word list; argv[0] is supplied. */
static int parse_words(const char *const *words)
{
	char *argv[64];
	int argc = 0;

	argv[argc++] = (char *)"grogso";
	while (*words && argc < 63)
		argv[argc++] = (char *)*words++;
	argv[argc] = NULL;
	return config_parse(&cfg, argc, argv);
}

#define PARSE(...) parse_words((const char *const[]){ __VA_ARGS__, NULL })

/* A daemon command line that passes the cross-option checks. */
#define DAEMON "--lan=packet:eth4", "--wan=packet:eth5", \
	"--lan-addr=198.18.1.1/24", "--wan-addr=198.19.1.1/24"

/* config_parse reports to stderr/stdout; keep test output readable. */
static int quiet(int fd)
{
	int saved = dup(fd), null = open("/dev/null", O_WRONLY);

	dup2(null, fd);
	close(null);
	return saved;
}

static void loud(int fd, int saved)
{
	fflush(NULL);
	dup2(saved, fd);
	close(saved);
}

static int parse_quiet(const char *const *words)
{
	int e = quiet(2), o = quiet(1), r;

	r = parse_words(words);
	loud(1, o);
	loud(2, e);
	return r;
}

#define PARSE_Q(...) parse_quiet((const char *const[]){ __VA_ARGS__, NULL })

static void test_defaults_are_the_documented_ones(void **state)
{
	(void)state;
	assert_int_equal(PARSE(DAEMON), 0);
	assert_int_equal(cfg.cmd, CONFIG_CMD_DAEMON);
	assert_int_equal(cfg.verbose, 0);
	assert_int_equal(cfg.gro_on, 1);
	assert_int_equal(cfg.gro.protos, GRO_PROTO_ALL);
	assert_int_equal(cfg.gro.max_ip_len, 65535);
	assert_int_equal(cfg.gro.max_segs, 64);
	assert_int_equal(cfg.gro.max_flows, 4096);
	assert_int_equal(cfg.gro.udp_fixed_merge, 1);
	assert_int_equal(cfg.gro.accept_partial, 1);
	assert_int_equal(cfg.gro_hold_us, 0);
	assert_int_equal(cfg.gso, CONFIG_GSO_AUTO);
	assert_int_equal(cfg.gso_ipid, CONFIG_IPID_INCREMENT);
	assert_int_equal(cfg.gso_fixed, GSO_FIXED_LINUX);
	assert_null(cfg.log_path);
	assert_int_equal(cfg.log_fmt, LOG_FMT_TEXT);
	assert_null(cfg.stats_json);
	assert_int_equal(cfg.stats_interval, 0);
	assert_int_equal(cfg.batch, 64);
	assert_int_equal(cfg.batch_gap_us, 100);
	assert_int_equal(cfg.checksum_strict, 0);
	assert_int_equal(cfg.mode, CONFIG_MODE_ROUTE);
	assert_string_equal(cfg.lan, "packet:eth4");
	assert_string_equal(cfg.wan, "packet:eth5");
	assert_int_equal(cfg.tap_offload, 1);
	assert_int_equal(cfg.packet_ring, CONFIG_RING_SLOTS);
	assert_int_equal(cfg.packet_ring_frames, 4096);
	assert_int_equal(cfg.cpu, -1);
	assert_int_equal(cfg.kernel_gro, CONFIG_KGRO_WARN);
	assert_int_equal(cfg.queue_len, 256);
	assert_int_equal(cfg.buffers, 2 * (4096 + 256 + 64) + 64);
	assert_int_equal(cfg.n_routes, 0);
	/* Linux 6.18's ICMP sysctls */
	assert_int_equal(cfg.icmp_ratelimit_ms, 1000);
	assert_int_equal(cfg.icmp6_ratelimit_ms, 100);
	assert_int_equal(cfg.icmp_msgs_per_sec, 1000);
	assert_int_equal(cfg.icmp_msgs_burst, 50);
}

static void test_replay_is_chosen_by_the_first_word(void **state)
{
	(void)state;
	assert_int_equal(PARSE("replay", "--gro=off", "in.pcap", "out.pcap"), 0);
	assert_int_equal(cfg.cmd, CONFIG_CMD_REPLAY);
	assert_int_equal(cfg.gro_on, 0);
	assert_string_equal(cfg.in_path, "in.pcap");
	assert_string_equal(cfg.out_path, "out.pcap");

	/* options before the word and "-" for a path work too */
	assert_int_equal(PARSE("--batch=8", "replay", "-", "o.pcap"), 0);
	assert_int_equal(cfg.cmd, CONFIG_CMD_REPLAY);
	assert_int_equal(cfg.batch, 8);
	assert_string_equal(cfg.in_path, "-");

	/* replay needs no ports and no addresses */
	assert_null(cfg.lan);
}

static void test_replay_needs_exactly_two_paths(void **state)
{
	(void)state;
	assert_int_equal(PARSE_Q("replay"), -EINVAL);
	assert_int_equal(PARSE_Q("replay", "a"), -EINVAL);
	assert_int_equal(PARSE_Q("replay", "a", "b", "c"), -EINVAL);
}

static void test_daemon_needs_lan_and_wan(void **state)
{
	(void)state;
	assert_int_equal(PARSE_Q("--mode=bridge"), -EINVAL);
	assert_int_equal(PARSE_Q("--mode=bridge", "--lan=tap:t0"), -EINVAL);
	assert_int_equal(PARSE_Q("--mode=bridge", "--wan=tap:t0"), -EINVAL);
	assert_int_equal(PARSE("--mode=bridge", "--lan=tap:t0",
			       "--wan=packet:eth5"), 0);
	assert_int_equal(PARSE_Q(DAEMON, "stray"), -EINVAL);
}

static void test_route_mode_needs_an_address_per_side(void **state)
{
	(void)state;
	assert_int_equal(PARSE_Q("--lan=packet:eth4", "--wan=packet:eth5"), -EINVAL);
	assert_int_equal(PARSE_Q("--lan=packet:eth4", "--wan=packet:eth5",
				 "--lan-addr=198.18.1.1/24"), -EINVAL);
	assert_int_equal(PARSE_Q("--lan=packet:eth4", "--wan=packet:eth5",
				 "--wan-addr=198.19.1.1/24"), -EINVAL);
}

static void test_bridge_mode_drops_addresses_and_routes(void **state)
{
	(void)state;
	assert_int_equal(PARSE_Q(DAEMON, "--mode=bridge",
				 "--route=default,198.19.1.254"), 0);
	assert_int_equal(cfg.mode, CONFIG_MODE_BRIDGE);
	assert_int_equal(cfg.n_lan_addr, 0);
	assert_int_equal(cfg.n_wan_addr, 0);
	assert_int_equal(cfg.n_routes, 0);
}

static void test_gro_proto_list_combines_names(void **state)
{
	(void)state;
	assert_int_equal(PARSE(DAEMON, "--gro-proto=tcp4"), 0);
	assert_int_equal(cfg.gro.protos, GRO_PROTO_TCP4);
	assert_int_equal(PARSE(DAEMON, "--gro-proto=udp,tcp6"), 0);
	assert_int_equal(cfg.gro.protos,
			 GRO_PROTO_UDP4 | GRO_PROTO_UDP6 | GRO_PROTO_TCP6);
	assert_int_equal(PARSE(DAEMON, "--gro-proto=tcp"), 0);
	assert_int_equal(cfg.gro.protos, GRO_PROTO_TCP4 | GRO_PROTO_TCP6);
	assert_int_equal(PARSE(DAEMON, "--gro-proto=udp6,all"), 0);
	assert_int_equal(cfg.gro.protos, GRO_PROTO_ALL);

	assert_int_equal(PARSE_Q(DAEMON, "--gro-proto="), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--gro-proto=tcp,"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--gro-proto=tcp4,,udp4"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--gro-proto=TCP"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--gro-proto=tcp44"), -EINVAL);
}

static void test_numbers_are_range_checked(void **state)
{
	(void)state;
	assert_int_equal(PARSE(DAEMON, "--gro-max-size=1"), 0);
	assert_int_equal(cfg.gro.max_ip_len, 1);
	assert_int_equal(PARSE(DAEMON, "--gro-max-size=65535"), 0);
	assert_int_equal(PARSE_Q(DAEMON, "--gro-max-size=0"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--gro-max-size=65536"), -EINVAL);

	assert_int_equal(PARSE(DAEMON, "--gro-max-segs=2"), 0);
	assert_int_equal(cfg.gro.max_segs, 2);
	assert_int_equal(PARSE_Q(DAEMON, "--gro-max-segs=1"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--gro-max-segs=65"), -EINVAL);

	assert_int_equal(PARSE(DAEMON, "--gro-flows=16", "--queue-len=10",
			       "--batch=4"), 0);
	assert_int_equal(cfg.gro.max_flows, 16);
	assert_int_equal(cfg.queue_len, 10);
	assert_int_equal(cfg.batch, 4);
	/* the pool follows the sizes it must hold */
	assert_int_equal(cfg.buffers, 2 * (16 + 10 + 4) + 64);
	assert_int_equal(PARSE(DAEMON, "--buffers=1000"), 0);
	assert_int_equal(cfg.buffers, 1000);

	assert_int_equal(PARSE(DAEMON, "--gro-hold-us=250", "--stats-interval=5",
			       "--batch-gap-us=0"), 0);
	assert_int_equal(cfg.gro_hold_us, 250);
	assert_int_equal(cfg.stats_interval, 5);
	assert_int_equal(cfg.batch_gap_us, 0);

	assert_int_equal(PARSE(DAEMON, "--packet-ring-frames=64"), 0);
	assert_int_equal(cfg.packet_ring_frames, 64);
	assert_int_equal(PARSE(DAEMON, "--packet-ring-frames=262144"), 0);
	assert_int_equal(cfg.packet_ring_frames, 262144);
	assert_int_equal(PARSE(DAEMON, "--cpu=0"), 0);
	assert_int_equal(cfg.cpu, 0);
	assert_int_equal(PARSE(DAEMON, "--cpu=1023"), 0);
	assert_int_equal(cfg.cpu, 1023);
	assert_int_equal(PARSE_Q(DAEMON, "--cpu=1024"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--cpu=-1"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--packet-ring-frames=63"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--packet-ring-frames=262145"),
			 -EINVAL);

	assert_int_equal(PARSE(DAEMON, "--icmp-ratelimit=0",
			       "--icmp6-ratelimit=3600000",
			       "--icmp-msgs-per-sec=0", "--icmp-msgs-burst=7"), 0);
	assert_int_equal(cfg.icmp_ratelimit_ms, 0);
	assert_int_equal(cfg.icmp6_ratelimit_ms, 3600000);
	assert_int_equal(cfg.icmp_msgs_per_sec, 0);
	assert_int_equal(cfg.icmp_msgs_burst, 7);
	assert_int_equal(PARSE_Q(DAEMON, "--icmp-ratelimit=3600001"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--icmp-msgs-burst=-1"), -EINVAL);

	/* signs, blanks, units, overflow and empty strings are refused */
	assert_int_equal(PARSE_Q(DAEMON, "--batch=-1"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--batch=+1"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--batch= 1"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--batch=1k"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--batch="), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--batch=0"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--queue-len=18446744073709551617"),
			 -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--buffers=15"), -EINVAL);
}

static void test_word_options_take_their_words(void **state)
{
	(void)state;
	assert_int_equal(PARSE(DAEMON, "--gro=off", "--gro-udp-fixed-id=pass",
			       "--gso=software", "--gso-ipid=linux",
			       "--gso-fixed-id=software", "--log-format=json",
			       "--checksum=strict", "--tap-offload=off",
			       "--packet-ring=off", "--kernel-gro=off", "-v",
			       "--verbose"), 0);
	assert_int_equal(cfg.gro_on, 0);
	assert_int_equal(cfg.gro.udp_fixed_merge, 0);
	assert_int_equal(cfg.gso, CONFIG_GSO_SOFTWARE);
	assert_int_equal(cfg.gso_ipid, CONFIG_IPID_LINUX);
	assert_int_equal(cfg.gso_fixed, GSO_FIXED_SOFTWARE);
	assert_int_equal(cfg.log_fmt, LOG_FMT_JSON);
	assert_int_equal(cfg.checksum_strict, 1);
	assert_int_equal(cfg.gro.accept_partial, 0);
	assert_int_equal(cfg.tap_offload, 0);
	assert_int_equal(cfg.packet_ring, CONFIG_RING_OFF);
	assert_int_equal(cfg.kernel_gro, CONFIG_KGRO_OFF);
	assert_int_equal(cfg.verbose, 2);

	assert_int_equal(PARSE(DAEMON, "--packet-ring=blocks"), 0);
	assert_int_equal(cfg.packet_ring, CONFIG_RING_BLOCKS);
	assert_int_equal(PARSE(DAEMON, "--packet-ring=slots"), 0);
	assert_int_equal(cfg.packet_ring, CONFIG_RING_SLOTS);
	assert_int_equal(PARSE_Q(DAEMON, "--packet-ring=on"), -EINVAL);

	assert_int_equal(PARSE(DAEMON, "--gso=offload", "--gso-ipid=fixed"), 0);
	assert_int_equal(cfg.gso, CONFIG_GSO_OFFLOAD);
	assert_int_equal(cfg.gso_ipid, CONFIG_IPID_FIXED);

	assert_int_equal(PARSE_Q(DAEMON, "--gro=yes"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--gso=kernel"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--gso-ipid=inc"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--log-format=JSON"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--mode=nat"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--kernel-gro=on"), -EINVAL);
}

static void test_files_are_kept_as_given(void **state)
{
	(void)state;
	assert_int_equal(PARSE(DAEMON, "--log-aggregates=-",
			       "--stats-json=/tmp/s.json"), 0);
	assert_string_equal(cfg.log_path, "-");
	assert_string_equal(cfg.stats_json, "/tmp/s.json");
	assert_int_equal(PARSE_Q(DAEMON, "--log-aggregates="), -EINVAL);
}

static void test_ports_need_a_kind(void **state)
{
	(void)state;
	assert_int_equal(PARSE("--lan=tap:grogso0", "--wan=packet:eth5",
			       "--mode=bridge"), 0);
	assert_string_equal(cfg.lan, "tap:grogso0");
	/* a pcap port keeps its whole spec, paths of any length included;
	 * port_pcap reads it (and the loop refuses one beside a live port) */
	assert_int_equal(PARSE("--lan=pcap:/x/a-rather-long-name.pcap,/x/o.pcap",
			       "--wan=pcap:,/x/w.pcap", "--mode=bridge"), 0);
	assert_string_equal(cfg.lan, "pcap:/x/a-rather-long-name.pcap,/x/o.pcap");
	assert_int_equal(PARSE_Q("--lan=pcap:", "--wan=packet:eth5",
				 "--mode=bridge"), -EINVAL);
	/* a bare interface name is a packet port */
	assert_int_equal(PARSE("--lan=eth4", "--wan=packet:eth5",
			       "--mode=bridge"), 0);
	assert_string_equal(cfg.lan, "eth4");
	assert_int_equal(PARSE_Q("--lan=tpa:eth4", "--wan=packet:eth5",
				 "--mode=bridge"), -EINVAL);
	assert_int_equal(PARSE_Q("--lan=./x.pcap", "--wan=packet:eth5",
				 "--mode=bridge"), -EINVAL);
	assert_int_equal(PARSE_Q("--lan=", "--wan=packet:eth5",
				 "--mode=bridge"), -EINVAL);
	assert_int_equal(PARSE_Q("--lan=packet:", "--wan=packet:eth5",
				 "--mode=bridge"), -EINVAL);
	/* longer than IFNAMSIZ - 1 */
	assert_int_equal(PARSE_Q("--lan=packet:a234567890123456",
				 "--wan=packet:eth5", "--mode=bridge"), -EINVAL);
}

static void test_addresses_need_a_prefix_length(void **state)
{
	uint8_t want6[16];

	(void)state;
	assert_int_equal(PARSE(DAEMON, "--lan-addr=2001:db8:1::1/64"), 0);
	assert_int_equal(cfg.n_lan_addr, 2);
	assert_int_equal(cfg.lan_addr[0].family, AF_INET);
	assert_int_equal(cfg.lan_addr[0].plen, 24);
	assert_memory_equal(cfg.lan_addr[0].addr, "\xc6\x12\x01\x01", 4);
	assert_int_equal(cfg.lan_addr[1].family, AF_INET6);
	assert_int_equal(cfg.lan_addr[1].plen, 64);
	inet_pton(AF_INET6, "2001:db8:1::1", want6);
	assert_memory_equal(cfg.lan_addr[1].addr, want6, 16);

	assert_int_equal(PARSE_Q(DAEMON, "--lan-addr=198.18.1.1"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--lan-addr=198.18.1.1/33"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--wan-addr=::1/129"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--wan-addr=198.19.1.1/"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--wan-addr=198.19.1/24"), -EINVAL);
}

static void test_addresses_are_limited_per_side(void **state)
{
	const char *words[CONFIG_MAX_ADDRS + 8];
	char addrs[CONFIG_MAX_ADDRS + 1][32];
	int i, n = 0;

	(void)state;
	words[n++] = "--lan=packet:eth4";
	words[n++] = "--wan=packet:eth5";
	words[n++] = "--wan-addr=198.19.1.1/24";
	for (i = 0; i < CONFIG_MAX_ADDRS; i++) {
		snprintf(addrs[i], sizeof(addrs[i]), "--lan-addr=10.0.0.%d/8", i + 1);
		words[n++] = addrs[i];
	}
	words[n] = NULL;
	assert_int_equal(parse_words(words), 0);
	assert_int_equal(cfg.n_lan_addr, CONFIG_MAX_ADDRS);
	snprintf(addrs[i], sizeof(addrs[i]), "--lan-addr=10.0.0.%d/8", i + 1);
	words[n++] = addrs[i];
	words[n] = NULL;
	assert_int_equal(parse_quiet(words), -EINVAL);
}

static void test_routes_take_prefix_and_gateway(void **state)
{
	uint8_t gw6[16];

	(void)state;
	assert_int_equal(PARSE(DAEMON, "--route=default,198.19.1.254",
			       "--route=default,2001:db8:2::fe",
			       "--route=203.0.113.77/24,198.19.1.253"), 0);
	assert_int_equal(cfg.n_routes, 3);
	/* default follows the gateway's family */
	assert_int_equal(cfg.routes[0].dst.family, AF_INET);
	assert_int_equal(cfg.routes[0].dst.plen, 0);
	assert_int_equal(cfg.routes[0].has_gw, 1);
	assert_memory_equal(cfg.routes[0].gw, "\xc6\x13\x01\xfe", 4);
	assert_int_equal(cfg.routes[1].dst.family, AF_INET6);
	assert_int_equal(cfg.routes[1].dst.plen, 0);
	inet_pton(AF_INET6, "2001:db8:2::fe", gw6);
	assert_memory_equal(cfg.routes[1].gw, gw6, 16);
	/* host bits of a route are cleared */
	assert_int_equal(cfg.routes[2].dst.plen, 24);
	assert_memory_equal(cfg.routes[2].dst.addr, "\xcb\x00\x71\x00", 4);

	assert_int_equal(PARSE_Q(DAEMON, "--route=default"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--route=10.0.0.0/8,2001:db8::1"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--route=2001:db8::/32,10.0.0.1"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--route=default,gateway"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--route=,10.0.0.1"), -EINVAL);
}

static void test_routes_take_a_side_for_the_gateway(void **state)
{
	uint8_t gw6[16];

	(void)state;
	assert_int_equal(PARSE(DAEMON, "--route=default,fe80::1%wan",
			       "--route=2001:db8:7::/48,fe80::7%lan",
			       "--route=10.0.0.0/8,198.18.1.254%lan",
			       "--route=default,198.19.1.254"), 0);
	assert_int_equal(cfg.n_routes, 4);
	assert_int_equal(cfg.routes[0].dst.family, AF_INET6);
	assert_int_equal(cfg.routes[0].gw_side, CONFIG_GW_SIDE_WAN);
	inet_pton(AF_INET6, "fe80::1", gw6);
	assert_memory_equal(cfg.routes[0].gw, gw6, 16);
	assert_int_equal(cfg.routes[1].gw_side, CONFIG_GW_SIDE_LAN);
	assert_int_equal(cfg.routes[1].dst.plen, 48);
	assert_int_equal(cfg.routes[2].gw_side, CONFIG_GW_SIDE_LAN);
	assert_memory_equal(cfg.routes[2].gw, "\xc6\x12\x01\xfe", 4);
	assert_int_equal(cfg.routes[3].gw_side, CONFIG_GW_SIDE_ANY);

	/* a link-local gateway is on both links until told */
	assert_int_equal(PARSE_Q(DAEMON, "--route=default,fe80::1"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--route=default,fe80::1%eth0"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--route=default,fe80::1%"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--route=default,fe80::1%wanx"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--route=default,%wan"), -EINVAL);
}

static void test_prefix_parser_bounds(void **state)
{
	struct config_prefix p;

	(void)state;
	assert_int_equal(config_parse_prefix("198.18.1.0/24", &p, 0), 0);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.plen, 24);
	assert_int_equal(config_parse_prefix("198.18.1.7", &p, 0), 0);
	assert_int_equal(p.plen, 32);
	assert_int_equal(config_parse_prefix("::/0", &p, 0), 0);
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.plen, 0);
	assert_int_equal(config_parse_prefix("default", &p, 1), 0);
	assert_int_equal(p.plen, 0);
	assert_int_equal(config_parse_prefix("default", &p, 0), -EINVAL);
	assert_int_equal(config_parse_prefix("", &p, 0), -EINVAL);
	assert_int_equal(config_parse_prefix("/24", &p, 0), -EINVAL);
	assert_int_equal(config_parse_prefix("1.2.3.4/-1", &p, 0), -EINVAL);
	assert_int_equal(config_parse_prefix("1.2.3.4/24x", &p, 0), -EINVAL);
}

static void test_help_and_version_ask_for_exit_zero(void **state)
{
	(void)state;
	assert_int_equal(PARSE_Q("--help"), 1);
	assert_int_equal(PARSE_Q("-h"), 1);
	assert_int_equal(PARSE_Q("--version"), 1);
	assert_int_equal(PARSE_Q("-V"), 1);
	/* help wins over missing required options */
	assert_int_equal(PARSE_Q("replay", "-h"), 1);
}

static void test_unknown_and_incomplete_options_fail(void **state)
{
	(void)state;
	assert_int_equal(PARSE_Q(DAEMON, "--no-such-option"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "-x"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--lan"), -EINVAL);
	assert_int_equal(PARSE_Q(DAEMON, "--help=1"), -EINVAL);
}

static void test_usage_shows_every_default(void **state)
{
	static const char *const want[] = {
		"--gro=on|off", "[on]", "--gro-max-size=N", "[65535]",
		"--gro-max-segs=N", "[64]", "--gro-flows=N", "[4096]",
		"--gro-udp-fixed-id=pass|merge", "[merge]", "--gro-hold-us=N",
		"--gso=auto|offload|software", "[auto]", "[increment]",
		"--gso-fixed-id=linux|offload|software", "[linux]", "[text]",
		"--batch=N", "--batch-gap-us=N", "[100]", "[lenient]",
		"[route]", "--kernel-gro=warn|off", "[warn]",
		"--packet-ring=slots|blocks|off", "[slots]", "--queue-len=N",
		"[256]", "--route=PREFIX,GATEWAY[%lan|%wan]", "--lan-addr=CIDR",
	};
	char buf[8192];
	size_t n, i;
	FILE *f = tmpfile();

	(void)state;
	assert_non_null(f);
	config_usage(f);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(buf, want[i]))
			fail_msg("usage lacks %s", want[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_the_documented_ones),
		cmocka_unit_test(test_replay_is_chosen_by_the_first_word),
		cmocka_unit_test(test_replay_needs_exactly_two_paths),
		cmocka_unit_test(test_daemon_needs_lan_and_wan),
		cmocka_unit_test(test_route_mode_needs_an_address_per_side),
		cmocka_unit_test(test_bridge_mode_drops_addresses_and_routes),
		cmocka_unit_test(test_gro_proto_list_combines_names),
		cmocka_unit_test(test_numbers_are_range_checked),
		cmocka_unit_test(test_word_options_take_their_words),
		cmocka_unit_test(test_files_are_kept_as_given),
		cmocka_unit_test(test_ports_need_a_kind),
		cmocka_unit_test(test_addresses_need_a_prefix_length),
		cmocka_unit_test(test_addresses_are_limited_per_side),
		cmocka_unit_test(test_routes_take_prefix_and_gateway),
		cmocka_unit_test(test_routes_take_a_side_for_the_gateway),
		cmocka_unit_test(test_prefix_parser_bounds),
		cmocka_unit_test(test_help_and_version_ask_for_exit_zero),
		cmocka_unit_test(test_unknown_and_incomplete_options_fail),
		cmocka_unit_test(test_usage_shows_every_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
