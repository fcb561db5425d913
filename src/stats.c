/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stats: reason names and the per-port summary, as text or JSON.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>

#include "grogso/stats.h"

#define STATS_NAME(n, s) s,

static const char *const drop_names[DROP__MAX] = {
	"none", STATS_DROP_LIST(STATS_NAME)
};
static const char *const pass_names[PASS__MAX] = {
	"none", STATS_PASS_LIST(STATS_NAME)
};
static const char *const flush_names[FLUSH__MAX] = {
	"none", STATS_FLUSH_LIST(STATS_NAME)
};

const char *stats_drop_name(enum drop_reason r)
{
	return (unsigned int)r < DROP__MAX ? drop_names[r] : "?";
}

const char *stats_pass_name(enum pass_reason r)
{
	return (unsigned int)r < PASS__MAX ? pass_names[r] : "?";
}

const char *stats_flush_name(enum flush_reason r)
{
	return (unsigned int)r < FLUSH__MAX ? flush_names[r] : "?";
}

void stats_count_agg(struct stats_port *s, unsigned int segs,
		     enum flush_reason reason)
{
	/* the last bucket gathers everything larger (TCP may pass 64) */
	unsigned int b = segs < STATS_SEGS_BUCKETS ? segs :
						     STATS_SEGS_BUCKETS - 1;

	s->segs_hist[b]++;
	if ((unsigned int)reason < FLUSH__MAX)
		s->flush[reason]++;
	if (segs >= 2) {
		s->aggs++;
		s->agg_segs += segs;
	}
}

uint64_t stats_drops_total(const struct stats_port *s)
{
	uint64_t t = 0;
	int i;

	for (i = 1; i < DROP__MAX; i++)
		t += s->drop[i];
	return t;
}

struct scalar {
	const char *name;
	size_t off;
};

#define SCALAR(f) { #f, offsetof(struct stats_port, f) }

static const struct scalar scalars[] = {
	SCALAR(rx_pkts), SCALAR(rx_bytes), SCALAR(rx_gso),
	SCALAR(rx_held_copy), SCALAR(tx_pkts), SCALAR(tx_bytes),
	SCALAR(aggs), SCALAR(agg_segs), SCALAR(gso_offload),
	SCALAR(gso_software), SCALAR(gso_segs), SCALAR(gso_kernel_sw),
	SCALAR(icmp_sent), SCALAR(icmp_limited_host),
	SCALAR(icmp_limited_global), SCALAR(redirects),
	SCALAR(redirects_limited), SCALAR(resets), SCALAR(reasm),
	SCALAR(reasm_timeouts), SCALAR(solicits), SCALAR(frags),
	SCALAR(gso_frag), SCALAR(gso_frag_segs),
};

static uint64_t scalar_get(const struct stats_port *s, const struct scalar *c)
{
	return *(const uint64_t *)(const void *)((const char *)s + c->off);
}

/* Port names come from the command line: escape them for JSON. */
static void json_string(FILE *f, const char *str)
{
	const unsigned char *c;

	fputc('"', f);
	for (c = (const unsigned char *)str; *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(f, "\\%c", *c);
		else if (*c < 0x20)
			fprintf(f, "\\u%04x", *c);
		else
			fputc(*c, f);
	}
	fputc('"', f);
}

/* One JSON map of the non-zero entries of @v, named by @names. */
static void json_map(FILE *f, const char *key, const uint64_t *v, int n,
		     const char *const *names)
{
	int i, first = 1;

	fprintf(f, ",\"%s\":{", key);
	for (i = 1; i < n; i++) {
		if (!v[i])
			continue;
		fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",", names[i],
			v[i]);
		first = 0;
	}
	fputc('}', f);
}

static void print_json(FILE *f, const char *name, const struct stats_port *s)
{
	size_t i;
	int first = 1;

	fputs("{\"port\":", f);
	json_string(f, name);
	for (i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++)
		fprintf(f, ",\"%s\":%" PRIu64, scalars[i].name,
			scalar_get(s, &scalars[i]));
	fputs(",\"segs_hist\":{", f);
	for (i = 1; i < STATS_SEGS_BUCKETS; i++) {
		if (!s->segs_hist[i])
			continue;
		fprintf(f, "%s\"%zu\":%" PRIu64, first ? "" : ",", i,
			s->segs_hist[i]);
		first = 0;
	}
	fputc('}', f);
	json_map(f, "drop", s->drop, DROP__MAX, drop_names);
	json_map(f, "pass", s->pass, PASS__MAX, pass_names);
	json_map(f, "flush", s->flush, FLUSH__MAX, flush_names);
	fputs("}\n", f);
}

static void text_group(FILE *f, const char *title, const uint64_t *v, int n,
		       const char *const *names)
{
	int i, any = 0;

	for (i = 1; i < n; i++)
		any |= v[i] != 0;
	if (!any)
		return;
	fprintf(f, "  %s:\n", title);
	for (i = 1; i < n; i++)
		if (v[i])
			fprintf(f, "    %-20s %" PRIu64 "\n", names[i], v[i]);
}

static void print_text(FILE *f, const char *name, const struct stats_port *s)
{
	size_t i;
	int any = 0;

	fprintf(f, "port %s\n", name);
	for (i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
		uint64_t v = scalar_get(s, &scalars[i]);

		if (v)
			fprintf(f, "  %-22s %" PRIu64 "\n", scalars[i].name, v);
	}
	if (s->aggs)
		fprintf(f, "  %-22s %.2f\n", "segs_per_agg",
			(double)s->agg_segs / (double)s->aggs);
	for (i = 1; i < STATS_SEGS_BUCKETS; i++)
		any |= s->segs_hist[i] != 0;
	if (any) {
		fputs("  segments per aggregate:\n", f);
		for (i = 1; i < STATS_SEGS_BUCKETS; i++)
			if (s->segs_hist[i])
				fprintf(f, "    %2zu%s %18" PRIu64 "\n", i,
					i == STATS_SEGS_BUCKETS - 1 ? "+" : " ",
					s->segs_hist[i]);
	}
	text_group(f, "drop", s->drop, DROP__MAX, drop_names);
	text_group(f, "pass", s->pass, PASS__MAX, pass_names);
	text_group(f, "flush", s->flush, FLUSH__MAX, flush_names);
}

void stats_print(FILE *f, const char *name, const struct stats_port *s,
		 int json)
{
	if (json)
		print_json(f, name, s);
	else
		print_text(f, name, s);
}
