/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "grogso/stats.h"

/* Output of one stats_print() call; freed by the caller. */
static char *print_to_string(const char *name, const struct stats_port *s,
			     int json)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	stats_print(f, name, s, json);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	assert_int_equal(strlen(buf), len);
	return buf;
}

static void assert_print(const char *name, const struct stats_port *s,
			 int json, const char *expect)
{
	char *out = print_to_string(name, s, json);

	assert_string_equal(out, expect);
	free(out);
}

/* ---- a small JSON checker: enough to reject what a printf can get wrong */

#define JSON_TOP_MAX 40

struct json {
	const char *p;
	int depth;
	/* keys of the outermost object, in order */
	char top[JSON_TOP_MAX][24];
	int ntop;
};

static int json_value(struct json *j);

static void json_ws(struct json *j)
{
	while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
		j->p++;
}

static int is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* Copies the decoded ASCII part of the string to @out (may be NULL). */
static int json_string(struct json *j, char *out, size_t outlen)
{
	size_t n = 0;

	if (*j->p++ != '"')
		return -1;
	for (;;) {
		unsigned char c = (unsigned char)*j->p++;

		if (c == '"')
			break;
		if (c < 0x20)
			return -1;      /* raw control char, or end of input */
		if (c == '\\') {
			c = (unsigned char)*j->p++;
			if (c == 'u') {
				int i;

				for (i = 0; i < 4; i++)
					if (!is_hex(*j->p++))
						return -1;
				c = '?';
			} else if (!strchr("\"\\/bfnrt", c) || !c) {
				return -1;
			}
		}
		if (out && n + 1 < outlen)
			out[n++] = (char)c;
	}
	if (out)
		out[n] = '\0';
	return 0;
}

static int json_number(struct json *j)
{
	const char *start = j->p;

	if (*j->p == '-')
		j->p++;
	if (*j->p == '0')
		j->p++;
	else if (*j->p >= '1' && *j->p <= '9')
		while (*j->p >= '0' && *j->p <= '9')
			j->p++;
	else
		return -1;
	if (*j->p == '.') {
		j->p++;
		if (!(*j->p >= '0' && *j->p <= '9'))
			return -1;
		while (*j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	return j->p > start ? 0 : -1;
}

/* Objects also reject duplicate keys: two reasons sharing a name. */
static int json_object(struct json *j)
{
	char keys[128][24];
	int nkeys = 0, i, top = j->depth == 0;

	j->p++;
	j->depth++;
	json_ws(j);
	if (*j->p == '}') {
		j->p++;
		j->depth--;
		return 0;
	}
	for (;;) {
		char key[24];

		json_ws(j);
		if (json_string(j, key, sizeof(key)))
			return -1;
		for (i = 0; i < nkeys; i++)
			if (!strcmp(keys[i], key))
				return -1;
		if (nkeys < 128)
			strcpy(keys[nkeys++], key);
		if (top && j->ntop < JSON_TOP_MAX)
			strcpy(j->top[j->ntop++], key);
		json_ws(j);
		if (*j->p++ != ':')
			return -1;
		if (json_value(j))
			return -1;
		json_ws(j);
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p++ != '}')
			return -1;
		j->depth--;
		return 0;
	}
}

static int json_value(struct json *j)
{
	json_ws(j);
	if (*j->p == '{')
		return json_object(j);
	if (*j->p == '"')
		return json_string(j, NULL, 0);
	return json_number(j);
}

/* 0 if @text is exactly one JSON object (and whitespace). */
static int json_check(const char *text, struct json *j)
{
	memset(j, 0, sizeof(*j));
	j->p = text;
	json_ws(j);
	if (*j->p != '{' || json_object(j))
		return -1;
	json_ws(j);
	return *j->p ? -1 : 0;
}

static void test_json_checker_rejects_bad_json(void **state)
{
	struct json j;

	(void)state;
	assert_int_equal(json_check("{\"a\":1,\"b\":{\"c\":2}}\n", &j), 0);
	assert_int_equal(json_check("{\"a\":1,}", &j), -1);
	assert_int_equal(json_check("{\"a\":1,\"a\":2}", &j), -1);
	assert_int_equal(json_check("{\"a\":01}", &j), -1);
	assert_int_equal(json_check("{\"a\n\":1}", &j), -1);
	assert_int_equal(json_check("{\"a\\x\":1}", &j), -1);
	assert_int_equal(json_check("{\"a\":1", &j), -1);
	assert_int_equal(json_check("{\"a\":1}}", &j), -1);
}

/* ---- names */

static void assert_names_distinct(const char *(*name)(int), int max)
{
	int i, k;

	for (i = 1; i < max; i++) {
		const char *a = name(i);

		assert_non_null(a);
		assert_true(a[0] != '\0');
		assert_string_not_equal(a, "none");
		assert_string_not_equal(a, "?");
		/* printed bare inside JSON strings: no escaping needed */
		assert_null(strpbrk(a, "\"\\ \t\n"));
		for (k = 1; k < i; k++)
			assert_string_not_equal(a, name(k));
	}
}

static const char *drop_name(int r)
{
	return stats_drop_name((enum drop_reason)r);
}

static const char *pass_name(int r)
{
	return stats_pass_name((enum pass_reason)r);
}

static const char *flush_name(int r)
{
	return stats_flush_name((enum flush_reason)r);
}

static void test_drop_names_distinct_nonempty(void **state)
{
	(void)state;
	assert_names_distinct(drop_name, DROP__MAX);
}

static void test_pass_names_distinct_nonempty(void **state)
{
	(void)state;
	assert_names_distinct(pass_name, PASS__MAX);
}

static void test_flush_names_distinct_nonempty(void **state)
{
	(void)state;
	assert_names_distinct(flush_name, FLUSH__MAX);
}

static void test_zero_reason_is_none(void **state)
{
	(void)state;
	assert_string_equal(stats_drop_name(DROP_NONE), "none");
	assert_string_equal(stats_pass_name(PASS_NONE), "none");
	assert_string_equal(stats_flush_name(FLUSH_NONE), "none");
}

/* The enum and the names come from one list: first and last line up. */
static void test_names_follow_the_list(void **state)
{
	(void)state;
	assert_string_equal(stats_drop_name(DROP_RUNT), "runt");
	assert_string_equal(stats_drop_name(DROP_VNET_UDP_CSUM),
			    "vnet-udp-no-csum");
	assert_string_equal(stats_drop_name(DROP_OTHER_HOST), "other-host");
	assert_string_equal(stats_pass_name(PASS_GRO_OFF), "gro-off");
	assert_string_equal(stats_pass_name(PASS_GSO_IN), "gso-input");
	assert_string_equal(stats_flush_name(FLUSH_BATCH), "batch");
	assert_string_equal(stats_flush_name(FLUSH_TTL), "mismatch:ttl");
	assert_string_equal(stats_flush_name(FLUSH_FLOWLABEL),
			    "mismatch:flowlabel");
}

static void test_out_of_range_names_are_question_mark(void **state)
{
	(void)state;
	assert_string_equal(stats_drop_name(DROP__MAX), "?");
	assert_string_equal(stats_drop_name((enum drop_reason)UINT_MAX), "?");
	assert_string_equal(stats_pass_name(PASS__MAX), "?");
	assert_string_equal(stats_pass_name((enum pass_reason)INT_MAX), "?");
	assert_string_equal(stats_flush_name(FLUSH__MAX), "?");
	assert_string_equal(stats_flush_name((enum flush_reason)UINT_MAX), "?");
}

/* ---- stats_count_agg */

static void test_count_agg_two_segs_is_an_aggregate(void **state)
{
	struct stats_port s;

	(void)state;
	memset(&s, 0, sizeof(s));
	stats_count_agg(&s, 2, FLUSH_PSH);
	assert_int_equal(s.aggs, 1);
	assert_int_equal(s.agg_segs, 2);
	assert_int_equal(s.segs_hist[2], 1);
	assert_int_equal(s.flush[FLUSH_PSH], 1);

	stats_count_agg(&s, 5, FLUSH_PSH);
	stats_count_agg(&s, 5, FLUSH_TIMER);
	assert_int_equal(s.aggs, 3);
	assert_int_equal(s.agg_segs, 12);
	assert_int_equal(s.segs_hist[2], 1);
	assert_int_equal(s.segs_hist[5], 2);
	assert_int_equal(s.flush[FLUSH_PSH], 2);
	assert_int_equal(s.flush[FLUSH_TIMER], 1);
}

/* A lone segment is flushed and histogrammed but is not an aggregate. */
static void test_count_agg_single_seg_not_an_aggregate(void **state)
{
	struct stats_port s;

	(void)state;
	memset(&s, 0, sizeof(s));
	stats_count_agg(&s, 1, FLUSH_BATCH);
	assert_int_equal(s.aggs, 0);
	assert_int_equal(s.agg_segs, 0);
	assert_int_equal(s.segs_hist[1], 1);
	assert_int_equal(s.flush[FLUSH_BATCH], 1);
}

static void test_count_agg_64_and_more_in_last_bucket(void **state)
{
	struct stats_port s;

	(void)state;
	memset(&s, 0, sizeof(s));
	stats_count_agg(&s, 63, FLUSH_SEGS);
	assert_int_equal(s.segs_hist[63], 1);
	assert_int_equal(s.segs_hist[STATS_SEGS_BUCKETS - 1], 0);

	stats_count_agg(&s, 64, FLUSH_SEGS);
	stats_count_agg(&s, 65, FLUSH_SIZE);
	stats_count_agg(&s, 1000, FLUSH_SIZE);
	assert_int_equal(STATS_SEGS_BUCKETS - 1, 64);
	assert_int_equal(s.segs_hist[64], 3);
	assert_int_equal(s.segs_hist[63], 1);
	/* the sum is exact even when the bucket is not */
	assert_int_equal(s.aggs, 4);
	assert_int_equal(s.agg_segs, 63 + 64 + 65 + 1000);
	assert_int_equal(s.flush[FLUSH_SEGS], 2);
	assert_int_equal(s.flush[FLUSH_SIZE], 2);
}

/* A guard right after the struct catches writes past the counter arrays. */
struct guarded {
	struct stats_port s;
	uint64_t guard[8];
};

static void assert_guard_clean(const struct guarded *g)
{
	size_t i;

	for (i = 0; i < sizeof(g->guard) / sizeof(g->guard[0]); i++)
		assert_int_equal(g->guard[i], 0);
}

static void test_count_agg_out_of_range_reason_ignored(void **state)
{
	struct guarded g;
	int i;

	(void)state;
	memset(&g, 0, sizeof(g));
	stats_count_agg(&g.s, 3, FLUSH__MAX);
	stats_count_agg(&g.s, 3, (enum flush_reason)(FLUSH__MAX + 1));
	stats_count_agg(&g.s, UINT_MAX, (enum flush_reason)UINT_MAX);
	assert_guard_clean(&g);
	for (i = 0; i < FLUSH__MAX; i++)
		assert_int_equal(g.s.flush[i], 0);
	/* the aggregate itself still counts */
	assert_int_equal(g.s.aggs, 3);
	assert_int_equal(g.s.segs_hist[3], 2);
	assert_int_equal(g.s.segs_hist[64], 1);
	assert_int_equal(g.s.agg_segs, 6 + (uint64_t)UINT_MAX);
}

/* ---- stats_drops_total */

static void test_drops_total_sums_every_reason(void **state)
{
	struct stats_port s;
	uint64_t want = 0;
	int i;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(stats_drops_total(&s), 0);
	for (i = 1; i < DROP__MAX; i++) {
		s.drop[i] = (uint64_t)i * 1000;
		want += (uint64_t)i * 1000;
	}
	/* counted elsewhere, not drops */
	s.pass[PASS_PROTO] = 7;
	s.rx_pkts = 99;
	assert_int_equal(stats_drops_total(&s), want);

	memset(&s, 0, sizeof(s));
	s.drop[DROP_RUNT] = 1;
	s.drop[DROP_OTHER_HOST] = UINT64_C(1) << 40;
	assert_int_equal(stats_drops_total(&s), (UINT64_C(1) << 40) + 1);
}

/* ---- text form */

static void test_text_zero_port_prints_only_name(void **state)
{
	struct stats_port s;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_print("eth0", &s, 0, "port eth0\n");
}

static void fill_known(struct stats_port *s)
{
	memset(s, 0, sizeof(*s));
	s->rx_pkts = 10;
	s->rx_bytes = 15000;
	s->rx_gso = 2;
	s->tx_pkts = 4;
	s->gso_kernel_sw = 1;
	stats_count_agg(s, 2, FLUSH_PSH);
	stats_count_agg(s, 2, FLUSH_PSH);
	stats_count_agg(s, 70, FLUSH_TTL);
	s->drop[DROP_RUNT] = 3;
	s->drop[DROP_NEIGH] = 1;
	s->pass[PASS_L4_CSUM] = 2;
}

static void test_text_shows_nonzero_counters_by_name(void **state)
{
	struct stats_port s;

	(void)state;
	fill_known(&s);
	assert_print("eth0", &s, 0,
		     "port eth0\n"
		     "  rx_pkts                10\n"
		     "  rx_bytes               15000\n"
		     "  rx_gso                 2\n"
		     "  tx_pkts                4\n"
		     "  aggs                   3\n"
		     "  agg_segs               74\n"
		     "  gso_kernel_sw          1\n"
		     "  segs_per_agg           24.67\n"
		     "  segments per aggregate:\n"
		     "     2                   2\n"
		     "    64+                  1\n"
		     "  drop:\n"
		     "    runt                 3\n"
		     "    neigh-unresolved     1\n"
		     "  pass:\n"
		     "    l4-csum              2\n"
		     "  flush:\n"
		     "    psh                  2\n"
		     "    mismatch:ttl         1\n");
}

/* A port with only drops has no aggregate or pass/flush section at all. */
static void test_text_leaves_empty_groups_out(void **state)
{
	struct stats_port s;
	char *out;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.drop[DROP_TX_ERROR] = 5;
	out = print_to_string("tap1", &s, 0);
	assert_string_equal(out,
			    "port tap1\n"
			    "  drop:\n"
			    "    tx-error             5\n");
	assert_null(strstr(out, "none"));
	free(out);
}

/* ---- JSON form */

static void test_json_zero_port_has_every_key(void **state)
{
	struct stats_port s;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_print("eth0", &s, 1,
		     "{\"port\":\"eth0\",\"rx_pkts\":0,\"rx_bytes\":0,\"rx_gso\":0,"
		     "\"rx_held_copy\":0,"
		     "\"tx_pkts\":0,\"tx_bytes\":0,\"aggs\":0,\"agg_segs\":0,"
		     "\"gso_offload\":0,\"gso_software\":0,\"gso_segs\":0,"
		     "\"gso_kernel_sw\":0,\"icmp_sent\":0,"
		     "\"icmp_limited_host\":0,\"icmp_limited_global\":0,"
		     "\"redirects\":0,\"redirects_limited\":0,\"resets\":0,"
		     "\"reasm\":0,\"reasm_timeouts\":0,"
		     "\"solicits\":0,\"frags\":0,\"gso_frag\":0,"
		     "\"gso_frag_segs\":0,\"segs_hist\":{},\"drop\":{},"
		     "\"pass\":{},\"flush\":{}}\n");
}

static void test_json_known_counters_exact(void **state)
{
	struct stats_port s;
	struct json j;
	char *out;

	(void)state;
	fill_known(&s);
	out = print_to_string("eth0", &s, 1);
	assert_string_equal(out,
			    "{\"port\":\"eth0\",\"rx_pkts\":10,\"rx_bytes\":15000,"
			    "\"rx_gso\":2,\"rx_held_copy\":0,\"tx_pkts\":4,"
			    "\"tx_bytes\":0,\"aggs\":3,"
			    "\"agg_segs\":74,\"gso_offload\":0,"
			    "\"gso_software\":0,\"gso_segs\":0,"
			    "\"gso_kernel_sw\":1,\"icmp_sent\":0,"
			    "\"icmp_limited_host\":0,\"icmp_limited_global\":0,"
			    "\"redirects\":0,\"redirects_limited\":0,\"resets\":0,"
			    "\"reasm\":0,\"reasm_timeouts\":0,"
			    "\"solicits\":0,\"frags\":0,\"gso_frag\":0,"
			    "\"gso_frag_segs\":0,"
			    "\"segs_hist\":{\"2\":2,\"64\":1},"
			    "\"drop\":{\"runt\":3,\"neigh-unresolved\":1},"
			    "\"pass\":{\"l4-csum\":2},"
			    "\"flush\":{\"psh\":2,\"mismatch:ttl\":1}}\n");
	assert_int_equal(json_check(out, &j), 0);
	free(out);
}

static const char *const top_keys[] = {
	"port", "rx_pkts", "rx_bytes", "rx_gso", "rx_held_copy", "tx_pkts",
	"tx_bytes", "aggs",
	"agg_segs", "gso_offload", "gso_software", "gso_segs",
	"gso_kernel_sw", "icmp_sent", "icmp_limited_host",
	"icmp_limited_global", "redirects", "redirects_limited", "resets",
	"reasm", "reasm_timeouts", "solicits", "frags", "gso_frag", "gso_frag_segs", "segs_hist", "drop",
	"pass",
	"flush",
};

/*
 * Every counter non-zero and the largest values: the output parses, keys
 * are in the documented order and no section repeats a key.
 */
static void test_json_all_counters_valid_json(void **state)
{
	struct stats_port s;
	struct json j;
	char *out;
	size_t i;

	(void)state;
	memset(&s, 0xff, sizeof(s));
	out = print_to_string("eth0", &s, 1);
	assert_int_equal(json_check(out, &j), 0);
	assert_int_equal(j.ntop, sizeof(top_keys) / sizeof(top_keys[0]));
	for (i = 0; i < sizeof(top_keys) / sizeof(top_keys[0]); i++)
		assert_string_equal(j.top[i], top_keys[i]);
	assert_non_null(strstr(out, "\"rx_pkts\":18446744073709551615,"));
	assert_non_null(strstr(out, "\"1\":18446744073709551615,"));
	assert_non_null(strstr(out, "\"64\":18446744073709551615}"));
	assert_null(strstr(out, "\"0\":"));
	assert_null(strstr(out, "none"));
	for (i = 1; i < DROP__MAX; i++)
		assert_non_null(strstr(out, drop_name((int)i)));
	for (i = 1; i < FLUSH__MAX; i++)
		assert_non_null(strstr(out, flush_name((int)i)));
	free(out);
}

static void test_json_escapes_port_name(void **state)
{
	struct stats_port s;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_print("a\"b\\c\nd\x01\x1f\x7f/\xc3\xa9", &s, 1,
		     "{\"port\":\"a\\\"b\\\\c\\u000ad\\u0001\\u001f\x7f/\xc3\xa9\","
		     "\"rx_pkts\":0,\"rx_bytes\":0,\"rx_gso\":0,\"rx_held_copy\":0,"
		     "\"tx_pkts\":0,\"tx_bytes\":0,\"aggs\":0,\"agg_segs\":0,"
		     "\"gso_offload\":0,\"gso_software\":0,\"gso_segs\":0,"
		     "\"gso_kernel_sw\":0,\"icmp_sent\":0,"
		     "\"icmp_limited_host\":0,\"icmp_limited_global\":0,"
		     "\"redirects\":0,\"redirects_limited\":0,\"resets\":0,"
		     "\"reasm\":0,\"reasm_timeouts\":0,"
		     "\"solicits\":0,\"frags\":0,\"gso_frag\":0,"
		     "\"gso_frag_segs\":0,\"segs_hist\":{},\"drop\":{},"
		     "\"pass\":{},\"flush\":{}}\n");
}

/* Every byte 1..255 in the name still gives one valid object. */
static void test_json_any_port_name_valid_json(void **state)
{
	struct stats_port s;
	struct json j;
	char name[256];
	char *out;
	int i;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.drop[DROP_MTU] = 1;
	for (i = 1; i < 256; i++)
		name[i - 1] = (char)i;
	name[255] = '\0';
	out = print_to_string(name, &s, 1);
	assert_int_equal(json_check(out, &j), 0);
	assert_string_equal(j.top[0], "port");
	assert_non_null(strstr(out, ",\"drop\":{\"mtu\":1},"));
	free(out);

	out = print_to_string("", &s, 1);
	assert_int_equal(json_check(out, &j), 0);
	assert_non_null(strstr(out, "{\"port\":\"\",\"rx_pkts\":0,"));
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_checker_rejects_bad_json),
		cmocka_unit_test(test_drop_names_distinct_nonempty),
		cmocka_unit_test(test_pass_names_distinct_nonempty),
		cmocka_unit_test(test_flush_names_distinct_nonempty),
		cmocka_unit_test(test_zero_reason_is_none),
		cmocka_unit_test(test_names_follow_the_list),
		cmocka_unit_test(test_out_of_range_names_are_question_mark),
		cmocka_unit_test(test_count_agg_two_segs_is_an_aggregate),
		cmocka_unit_test(test_count_agg_single_seg_not_an_aggregate),
		cmocka_unit_test(test_count_agg_64_and_more_in_last_bucket),
		cmocka_unit_test(test_count_agg_out_of_range_reason_ignored),
		cmocka_unit_test(test_drops_total_sums_every_reason),
		cmocka_unit_test(test_text_zero_port_prints_only_name),
		cmocka_unit_test(test_text_shows_nonzero_counters_by_name),
		cmocka_unit_test(test_text_leaves_empty_groups_out),
		cmocka_unit_test(test_json_zero_port_has_every_key),
		cmocka_unit_test(test_json_known_counters_exact),
		cmocka_unit_test(test_json_all_counters_valid_json),
		cmocka_unit_test(test_json_escapes_port_name),
		cmocka_unit_test(test_json_any_port_name_valid_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
