/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "frames.h"
#include "grogso/csum.h"
#include "grogso/log.h"

struct fixture {
	struct pkt_pool pool;
	struct log_agg log;
	char path[64];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int fd;

	if (!f || pkt_pool_init(&f->pool, 8))
		return -1;
	strcpy(f->path, "/tmp/grogso-test-log.XXXXXX");
	fd = mkstemp(f->path);
	if (fd < 0)
		return -1;
	close(fd);
	f->log.fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char old[80];

	log_agg_close(&f->log);
	snprintf(old, sizeof(old), "%s.1", f->path);
	unlink(old);
	unlink(f->path);
	pkt_pool_destroy(&f->pool);
	free(f);
	return 0;
}

static char *slurp(const char *path)
{
	static char buf[LOG_AGG_BUF * 3];
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

/* The lab notes' first aggregate: 3 x 600 bytes of UDP, IDs 1..3, DF. */
static struct pkt *udp_aggregate(struct fixture *f)
{
	struct frame_spec s;
	struct pkt *p;

	frame_spec_init(&s, 0, IPPROTO_UDP_);
	s.pay_len = 1800;
	s.ipid = 1;
	p = frame_pkt(&f->pool, &s);
	assert_non_null(p);
	p->gso_size = 600;
	p->agg.segs = 3;
	p->agg.ipid_first = 1;
	p->agg.ipid_last = 3;
	p->agg.ipid_mode = PKT_IPID_INC;
	p->agg.flush = FLUSH_BATCH;
	return p;
}

#define T_NS 12345678901ull             /* 12.345678 s */

static const char udp_json[] =
	"{\"ev\":\"gro\",\"t\":12.345678,\"port\":\"lan\",\"proto\":\"udp4\","
	"\"src\":\"198.19.1.2\",\"dst\":\"198.18.1.2\",\"sport\":40000,"
	"\"dport\":5201,\"segs\":3,\"bytes\":1828,\"gso_size\":600,"
	"\"df\":true,\"ipid_first\":1,\"ipid_last\":3,\"ipid_mode\":\"inc\","
	"\"ipid_out\":1,\"flush\":\"batch\"}\n";

static const char udp_text[] =
	"12.345678 lan gro  udp4 198.19.1.2:40000 > 198.18.1.2:5201 segs=3 "
	"bytes=1828 gso_size=600 df=1 id=1..3 inc -> 1 flush=batch\n";

static void test_json_gro_record_has_the_fixed_fields(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(log_agg_open(&f->log, f->path, LOG_FMT_JSON), 0);
	log_agg_gro(&f->log, T_NS, "lan", udp_aggregate(f));
	assert_int_equal(log_agg_flush(&f->log), 0);
	assert_string_equal(slurp(f->path), udp_json);
}

static void test_text_gro_record_reads_as_one_line(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(log_agg_open(&f->log, f->path, LOG_FMT_TEXT), 0);
	log_agg_gro(&f->log, T_NS, "lan", udp_aggregate(f));
	assert_int_equal(log_agg_flush(&f->log), 0);
	assert_string_equal(slurp(f->path), udp_text);
}

static void test_gso_record_gives_the_ids_written(void **state)
{
	struct fixture *f = *state;
	struct gso_result r = { .nsegs = 3, .ipid_first = 7, .ipid_last = 7,
				.ipid_fixed = 1 };
	struct pkt *p = udp_aggregate(f);

	/* a fixed-ID aggregate (head ID 1 kept), flushed by a short segment */
	p->agg.ipid_first = 1;
	p->agg.ipid_last = 1;
	p->agg.ipid_mode = PKT_IPID_FIXED;
	p->agg.flush = FLUSH_SHORT;
	r.ipid_first = 1;
	r.ipid_last = 1;
	assert_int_equal(log_agg_open(&f->log, f->path, LOG_FMT_JSON), 0);
	log_agg_gso(&f->log, T_NS, "wan", p, &r);
	log_agg_close(&f->log);
	assert_string_equal(slurp(f->path),
		"{\"ev\":\"gso\",\"t\":12.345678,\"port\":\"wan\",\"proto\":\"udp4\","
		"\"src\":\"198.19.1.2\",\"dst\":\"198.18.1.2\",\"sport\":40000,"
		"\"dport\":5201,\"segs\":3,\"bytes\":1828,\"gso_size\":600,"
		"\"df\":true,\"ipid_first\":1,\"ipid_last\":1,\"ipid_mode\":\"fixed\","
		"\"ipid_out\":1,\"flush\":\"short\"}\n");

	assert_int_equal(log_agg_open(&f->log, f->path, LOG_FMT_TEXT), 0);
	r.ipid_first = 1;
	r.ipid_last = 3;
	r.ipid_fixed = 0;
	log_agg_gso(&f->log, T_NS, "wan", p, &r);
	log_agg_close(&f->log);
	assert_non_null(strstr(slurp(f->path),
		"12.345678 wan gso  udp4 198.19.1.2:40000 > 198.18.1.2:5201 "
		"segs=3 bytes=1828 gso_size=600 df=1 id=1 -> 1..3 inc flush=short\n"));
}

static void test_ipv6_record_carries_no_id(void **state)
{
	struct fixture *f = *state;
	struct frame_spec s;
	struct pkt *p;

	frame_spec_init(&s, 1, IPPROTO_TCP_);
	s.pay_len = 2000;
	p = frame_pkt(&f->pool, &s);
	assert_non_null(p);
	p->gso_size = 1000;
	p->agg.segs = 2;
	p->agg.ipid_mode = PKT_IPID_NONE;
	p->agg.flush = FLUSH_PSH;
	assert_int_equal(log_agg_open(&f->log, f->path, LOG_FMT_JSON), 0);
	log_agg_gro(&f->log, 1000, "lan", p);
	log_agg_close(&f->log);
	assert_string_equal(slurp(f->path),
		"{\"ev\":\"gro\",\"t\":0.000001,\"port\":\"lan\",\"proto\":\"tcp6\","
		"\"src\":\"2001:db8:2::2\",\"dst\":\"2001:db8:1::2\",\"sport\":40000,"
		"\"dport\":5201,\"segs\":2,\"bytes\":2060,\"gso_size\":1000,"
		"\"df\":false,\"ipid_first\":null,\"ipid_last\":null,"
		"\"ipid_mode\":\"none\",\"ipid_out\":null,\"flush\":\"psh\"}\n");

	assert_int_equal(log_agg_open(&f->log, f->path, LOG_FMT_TEXT), 0);
	log_agg_gro(&f->log, 1000, "lan", p);
	log_agg_close(&f->log);
	assert_non_null(strstr(slurp(f->path),
		"0.000001 lan gro  tcp6 [2001:db8:2::2]:40000 > [2001:db8:1::2]:5201 "
		"segs=2 bytes=2060 gso_size=1000 id=none flush=psh\n"));
}

static void test_single_segment_is_not_logged(void **state)
{
	struct fixture *f = *state;
	struct pkt *p = udp_aggregate(f);

	p->agg.segs = 1;
	assert_int_equal(log_agg_open(&f->log, f->path, LOG_FMT_JSON), 0);
	log_agg_gro(&f->log, T_NS, "lan", p);
	log_agg_close(&f->log);
	assert_string_equal(slurp(f->path), "");
}

static void test_nothing_is_written_before_flush(void **state)
{
	struct fixture *f = *state;
	struct pkt *p = udp_aggregate(f);
	int i;

	assert_int_equal(log_agg_open(&f->log, f->path, LOG_FMT_JSON), 0);
	for (i = 0; i < 10; i++)
		log_agg_gro(&f->log, T_NS, "lan", p);
	assert_int_equal(file_size(f->path), 0);
	assert_int_equal(f->log.used, 10 * strlen(udp_json));
	assert_int_equal(log_agg_flush(&f->log), 0);
	assert_int_equal(file_size(f->path), 10 * strlen(udp_json));
	assert_int_equal(f->log.used, 0);
}

static void test_full_buffer_goes_out_in_whole_records(void **state)
{
	struct fixture *f = *state;
	struct pkt *p = udp_aggregate(f);
	size_t rec = strlen(udp_json), per_buf = LOG_AGG_BUF / rec, i;
	off_t size;

	assert_int_equal(log_agg_open(&f->log, f->path, LOG_FMT_JSON), 0);
	for (i = 0; i < per_buf; i++)
		log_agg_gro(&f->log, T_NS, "lan", p);
	assert_int_equal(file_size(f->path), 0);
	/* the record that does not fit pushes the buffer out first */
	log_agg_gro(&f->log, T_NS, "lan", p);
	size = file_size(f->path);
	assert_int_equal(size, per_buf * rec);
	assert_int_equal(f->log.used, rec);
	/* close writes the rest */
	log_agg_close(&f->log);
	assert_int_equal(file_size(f->path), (per_buf + 1) * rec);
	assert_int_equal(f->log.fd, -1);
}

static void test_reopen_follows_a_rotated_file(void **state)
{
	struct fixture *f = *state;
	struct pkt *p = udp_aggregate(f);
	char old[80];

	snprintf(old, sizeof(old), "%s.1", f->path);
	assert_int_equal(log_agg_open(&f->log, f->path, LOG_FMT_TEXT), 0);
	log_agg_gro(&f->log, T_NS, "lan", p);
	assert_int_equal(rename(f->path, old), 0);
	/* what was buffered belongs to the old file */
	assert_int_equal(log_agg_reopen(&f->log), 0);
	log_agg_gro(&f->log, T_NS, "wan", p);
	log_agg_close(&f->log);
	assert_string_equal(slurp(old), udp_text);
	assert_non_null(strstr(slurp(f->path), " wan gro  udp4 "));
}

static void test_disabled_log_costs_nothing_and_fails_nothing(void **state)
{
	struct fixture *f = *state;
	struct gso_result r = { .nsegs = 3 };
	struct pkt *p = udp_aggregate(f);

	assert_int_equal(log_agg_open(&f->log, NULL, LOG_FMT_JSON), 0);
	assert_int_equal(f->log.fd, -1);
	log_agg_gro(&f->log, T_NS, "lan", p);
	log_agg_gso(&f->log, T_NS, "lan", p, &r);
	assert_int_equal(f->log.used, 0);
	assert_int_equal(log_agg_flush(&f->log), 0);
	assert_int_equal(log_agg_reopen(&f->log), 0);
	log_agg_close(&f->log);
}

static void test_open_reports_errno(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(log_agg_open(&f->log, "/nonexistent-dir/log",
				      LOG_FMT_TEXT), -ENOENT);
	assert_int_equal(f->log.fd, -1);
}

static void test_json_port_name_is_escaped(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(log_agg_open(&f->log, f->path, LOG_FMT_JSON), 0);
	log_agg_gro(&f->log, T_NS, "a\"b\\c", udp_aggregate(f));
	log_agg_close(&f->log);
	assert_non_null(strstr(slurp(f->path), "\"port\":\"a\\\"b\\\\c\""));
}

static void test_proto_names(void **state)
{
	struct fixture *f = *state;
	struct frame_spec s;
	struct pkt *p;

	frame_spec_init(&s, 0, IPPROTO_TCP_);
	p = frame_pkt(&f->pool, &s);
	assert_string_equal(log_proto_name(p), "tcp4");
	pkt_free(&f->pool, p);
	frame_spec_init(&s, 1, IPPROTO_UDP_);
	p = frame_pkt(&f->pool, &s);
	assert_string_equal(log_proto_name(p), "udp6");
	p->l3 = PKT_L3_ARP;
	assert_string_equal(log_proto_name(p), "other");
	pkt_free(&f->pool, p);
}

/*
 * ---- the reference: the record writers as src/log.c had them ----
 *
 * src/log.c formats records with appenders of its own; until then it
 * used snprintf and inet_ntop, as below (kept verbatim but for the
 * names and for returning the line instead of appending it).  The
 * differential tests run every record through both and want the same
 * bytes, and the same records dropped.
 */

#define REF_LINE_MAX 512

struct ref_flow {
	const char *proto;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	uint16_t sport, dport;
	int v4;
	int df;
	uint16_t ipid;
};

static void ref_flow_fill(struct ref_flow *f, const struct pkt *p)
{
	const uint8_t *ip = p->data + p->l3_off;

	memset(f, 0, sizeof(*f));
	f->proto = log_proto_name(p);
	if (p->l3 == PKT_L3_IPV4) {
		f->v4 = 1;
		f->df = !!(ip[6] & 0x40);
		f->ipid = get_be16(ip + 4);
		inet_ntop(AF_INET, ip + 12, f->src, sizeof(f->src));
		inet_ntop(AF_INET, ip + 16, f->dst, sizeof(f->dst));
	} else if (p->l3 == PKT_L3_IPV6) {
		inet_ntop(AF_INET6, ip + 8, f->src, sizeof(f->src));
		inet_ntop(AF_INET6, ip + 24, f->dst, sizeof(f->dst));
	}
	if (p->l4_off) {
		f->sport = get_be16(p->data + p->l4_off);
		f->dport = get_be16(p->data + p->l4_off + 2);
	}
}

static const char *ref_ipid_mode_name(unsigned int mode)
{
	switch (mode) {
	case PKT_IPID_SINGLE:
		return "single";
	case PKT_IPID_INC:
		return "inc";
	case PKT_IPID_FIXED:
		return "fixed";
	default:
		return "none";
	}
}

static void ref_json_str(char *out, size_t cap, const char *s)
{
	size_t o = 0;

	for (; s && *s && o + 7 < cap; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			out[o++] = '\\';
			out[o++] = (char)ch;
		} else if (ch < 0x20) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", ch);
		} else {
			out[o++] = (char)ch;
		}
	}
	out[o] = '\0';
}

static void ref_fmt_time(char *out, size_t cap, uint64_t t_ns)
{
	snprintf(out, cap, "%llu.%06llu",
		 (unsigned long long)(t_ns / 1000000000u),
		 (unsigned long long)(t_ns % 1000000000u / 1000u));
}

static void ref_fmt_endpoint(char *out, size_t cap, const struct ref_flow *f,
			     const char *addr, uint16_t port)
{
	snprintf(out, cap, f->v4 ? "%s:%u" : "[%s]:%u", addr, port);
}

struct ref_rec {
	const char *ev;
	uint32_t segs;
	uint32_t bytes;
	uint16_t gso_size;
	uint16_t ipid_first, ipid_last;
	const char *mode;
	const char *flush;
};

/* The record into @line (REF_LINE_MAX); its length, 0 if it is dropped. */
static size_t ref_record(char *line, enum log_format fmt, uint64_t t_ns,
			 const char *port, const struct ref_flow *f,
			 const struct ref_rec *r)
{
	char ts[32], pname[96];
	int n;

	ref_fmt_time(ts, sizeof(ts), t_ns);
	if (fmt == LOG_FMT_JSON) {
		ref_json_str(pname, sizeof(pname), port);
		n = snprintf(line, REF_LINE_MAX,
			     "{\"ev\":\"%s\",\"t\":%s,\"port\":\"%s\","
			     "\"proto\":\"%s\",\"src\":\"%s\",\"dst\":\"%s\","
			     "\"sport\":%u,\"dport\":%u,\"segs\":%u,"
			     "\"bytes\":%u,\"gso_size\":%u,\"df\":%s,",
			     r->ev, ts, pname, f->proto, f->src, f->dst,
			     f->sport, f->dport, r->segs, r->bytes,
			     r->gso_size, f->df ? "true" : "false");
		if (n > 0 && (size_t)n < REF_LINE_MAX) {
			if (f->v4)
				n += snprintf(line + n, REF_LINE_MAX - (size_t)n,
					      "\"ipid_first\":%u,\"ipid_last\":%u,"
					      "\"ipid_mode\":\"%s\",\"ipid_out\":%u,",
					      r->ipid_first, r->ipid_last,
					      r->mode, f->ipid);
			else
				n += snprintf(line + n, REF_LINE_MAX - (size_t)n,
					      "\"ipid_first\":null,\"ipid_last\":null,"
					      "\"ipid_mode\":\"none\",\"ipid_out\":null,");
		}
		if (n > 0 && (size_t)n < REF_LINE_MAX)
			n += snprintf(line + n, REF_LINE_MAX - (size_t)n,
				      "\"flush\":\"%s\"}\n", r->flush);
	} else {
		char src[INET6_ADDRSTRLEN + 8], dst[INET6_ADDRSTRLEN + 8];
		char id[64];

		ref_fmt_endpoint(src, sizeof(src), f, f->src, f->sport);
		ref_fmt_endpoint(dst, sizeof(dst), f, f->dst, f->dport);
		if (!f->v4)
			snprintf(id, sizeof(id), "id=none");
		else if (r->ev[1] == 'r')
			snprintf(id, sizeof(id), "df=%d id=%u..%u %s -> %u",
				 f->df, r->ipid_first, r->ipid_last, r->mode,
				 f->ipid);
		else
			snprintf(id, sizeof(id), "df=%d id=%u -> %u..%u %s",
				 f->df, f->ipid, r->ipid_first, r->ipid_last,
				 r->mode);
		n = snprintf(line, REF_LINE_MAX,
			     "%s %s %s  %s %s > %s segs=%u bytes=%u "
			     "gso_size=%u %s flush=%s\n",
			     ts, port ? port : "-", r->ev, f->proto, src, dst,
			     r->segs, r->bytes, r->gso_size, id, r->flush);
	}
	if (n < 0 || (size_t)n >= REF_LINE_MAX)
		return 0;
	return (size_t)n;
}

static size_t ref_gro(char *line, enum log_format fmt, uint64_t t_ns,
		      const char *port, const struct pkt *p)
{
	struct ref_flow f;
	struct ref_rec r;

	if (p->agg.segs < 2)
		return 0;
	ref_flow_fill(&f, p);
	r.ev = "gro";
	r.segs = p->agg.segs;
	r.bytes = pkt_ip_len(p);
	r.gso_size = p->gso_size;
	r.ipid_first = p->agg.ipid_first;
	r.ipid_last = p->agg.ipid_last;
	r.mode = ref_ipid_mode_name(p->agg.ipid_mode);
	r.flush = stats_flush_name((enum flush_reason)p->agg.flush);
	return ref_record(line, fmt, t_ns, port, &f, &r);
}

static size_t ref_gso(char *line, enum log_format fmt, uint64_t t_ns,
		      const char *port, const struct pkt *p,
		      const struct gso_result *res)
{
	struct ref_flow f;
	struct ref_rec r;

	ref_flow_fill(&f, p);
	r.ev = "gso";
	r.segs = res->nsegs;
	r.bytes = pkt_ip_len(p);
	r.gso_size = p->gso_size;
	r.ipid_first = res->ipid_first;
	r.ipid_last = res->ipid_last;
	if (!f.v4)
		r.mode = "none";
	else if (res->nsegs < 2)
		r.mode = "single";
	else
		r.mode = res->ipid_fixed ? "fixed" : "inc";
	r.flush = stats_flush_name((enum flush_reason)p->agg.flush);
	return ref_record(line, fmt, t_ns, port, &f, &r);
}

/*
 * ---- the differential tests ----
 *
 * Each case is a packet whose headers and p->agg are written straight
 * (the log reads nothing else), a time and a port name.  It goes to
 * log_agg_gro and, with a gso_result, to log_agg_gso, in both formats,
 * each into a log on /dev/null whose buffer is compared with the
 * reference's line before it is written out.
 */

struct diff {
	struct log_agg log[2];          /* [LOG_FMT_TEXT], [LOG_FMT_JSON] */
	struct pkt *p4, *p6;            /* TCP/IPv4 and TCP/IPv6 frames */
	unsigned long records;          /* compared, both formats */
	unsigned long written;          /* of those, records the reference kept */
	size_t longest;                 /* longest record written */
	uint64_t rng;
};

static struct diff dif;

static void diff_begin(struct fixture *f)
{
	struct frame_spec s;

	memset(&dif, 0, sizeof(dif));
	dif.rng = 0x9e3779b97f4a7c15ull;
	assert_int_equal(log_agg_open(&dif.log[LOG_FMT_TEXT], "/dev/null",
				      LOG_FMT_TEXT), 0);
	assert_int_equal(log_agg_open(&dif.log[LOG_FMT_JSON], "/dev/null",
				      LOG_FMT_JSON), 0);
	frame_spec_init(&s, 0, IPPROTO_TCP_);
	dif.p4 = frame_pkt(&f->pool, &s);
	frame_spec_init(&s, 1, IPPROTO_TCP_);
	dif.p6 = frame_pkt(&f->pool, &s);
	assert_non_null(dif.p4);
	assert_non_null(dif.p6);
}

static void diff_end(struct fixture *f)
{
	log_agg_close(&dif.log[LOG_FMT_TEXT]);
	log_agg_close(&dif.log[LOG_FMT_JSON]);
	pkt_free(&f->pool, dif.p4);
	pkt_free(&f->pool, dif.p6);
}

/* xorshift64*: the same cases on every run */
static uint64_t rnd(void)
{
	dif.rng ^= dif.rng >> 12;
	dif.rng ^= dif.rng << 25;
	dif.rng ^= dif.rng >> 27;
	return dif.rng * 0x2545f4914f6cdd1dull;
}

/* A number of 0 to @bits bits, so that every digit count comes up. */
static uint64_t rnd_bits(unsigned int bits)
{
	unsigned int b = (unsigned int)(rnd() % (bits + 1));

	return b ? rnd() >> (64 - b) : 0;
}

/* Log @p (and, with @res, its segmentation) in both formats; fail on the
 * first byte that differs from the reference. */
static void diff_check(uint64_t t_ns, const char *port, const struct pkt *p,
		       const struct gso_result *res)
{
	char want[REF_LINE_MAX];
	struct log_agg *l;
	size_t before, got, n;
	int fmt, gso;

	for (gso = 0; gso <= !!res; gso++) {
		for (fmt = LOG_FMT_TEXT; fmt <= LOG_FMT_JSON; fmt++) {
			l = &dif.log[fmt];
			if (l->used > LOG_AGG_BUF / 2)
				assert_int_equal(log_agg_flush(l), 0);
			before = l->used;
			if (gso) {
				n = ref_gso(want, (enum log_format)fmt, t_ns,
					    port, p, res);
				log_agg_gso(l, t_ns, port, p, res);
			} else {
				n = ref_gro(want, (enum log_format)fmt, t_ns,
					    port, p);
				log_agg_gro(l, t_ns, port, p);
			}
			got = l->used - before;
			if (got != n || memcmp(l->buf + before, want, n))
				fail_msg("record %lu (%s, %s) differs:\n"
					 "want %zu bytes: %.*s\n"
					 "got  %zu bytes: %.*s", dif.records,
					 gso ? "gso" : "gro",
					 fmt == LOG_FMT_JSON ? "json" : "text",
					 n, (int)n, want, got, (int)got,
					 l->buf + before);
			dif.records++;
			if (n)
				dif.written++;
			if (n > dif.longest)
				dif.longest = n;
		}
	}
}

static void set_ports(struct pkt *p, uint16_t sport, uint16_t dport)
{
	put_be16(p->data + p->l4_off, sport);
	put_be16(p->data + p->l4_off + 2, dport);
}

/* IPv4 addresses, the ID the packet carries, the flags byte, total length. */
static void set_ip4(struct pkt *p, const uint8_t *src, const uint8_t *dst,
		    uint16_t id, uint8_t flags, uint16_t len)
{
	uint8_t *ip = p->data + p->l3_off;

	put_be16(ip + 2, len);
	put_be16(ip + 4, id);
	ip[6] = flags;
	memcpy(ip + 12, src, 4);
	memcpy(ip + 16, dst, 4);
}

/* IPv6 addresses as eight words each, and the payload length. */
static void set_ip6(struct pkt *p, const uint16_t *src, const uint16_t *dst,
		    uint16_t plen)
{
	uint8_t *ip = p->data + p->l3_off;
	int i;

	put_be16(ip + 4, plen);
	for (i = 0; i < 8; i++) {
		put_be16(ip + 8 + 2 * i, src[i]);
		put_be16(ip + 24 + 2 * i, dst[i]);
	}
}

static const uint16_t edge16[] = {
	0, 1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 32767, 32768, 65534, 65535,
};

static const uint32_t edge32[] = {
	0, 1, 2, 9, 10, 99, 100, 999, 1000, 9999, 10000, 65535, 65536, 99999,
	100000, 999999, 1000000, 9999999, 10000000, 99999999, 100000000,
	999999999, 1000000000, 4294967294u, 4294967295u,
};

static const uint64_t edge_t[] = {
	0, 1, 999, 1000, 1999, 999999, 1000000, 999999000, 999999999,
	1000000000, 1000000999, 1000001000, 1999999999, 9999999999,
	10000000000, 12345678901, 100000000000999999, 999999999999999999,
	1000000000000000000, 10000000000000000000u, 18446744072999999999u,
	18446744073000000000u, 18446744073709551615u,
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void test_records_match_reference_on_edge_numbers(void **state)
{
	struct fixture *f = *state;
	static const uint8_t a4[4] = { 198, 19, 1, 2 }, b4[4] = { 198, 18, 1, 2 };
	static const uint16_t a6[8] = { 0x2001, 0xdb8, 2, 0, 0, 0, 0, 2 };
	static const uint16_t b6[8] = { 0x2001, 0xdb8, 1, 0, 0, 0, 0, 2 };
	struct gso_result res;
	struct pkt *p;
	size_t i, j, n = NELEM(edge16);
	uint32_t segs;
	int v6;

	diff_begin(f);
	for (v6 = 0; v6 < 2; v6++) {
		p = v6 ? dif.p6 : dif.p4;
		p->agg.ipid_mode = v6 ? PKT_IPID_NONE : PKT_IPID_INC;
		p->agg.flush = FLUSH_BATCH;
		p->agg.segs = 2;
		/* ports, IDs, lengths, gso_size: every edge with every other */
		for (i = 0; i < n; i++) {
			for (j = 0; j < n; j++) {
				set_ports(p, edge16[i], edge16[j]);
				if (v6)
					set_ip6(p, a6, b6, edge16[j]);
				else
					set_ip4(p, a4, b4, edge16[i],
						(uint8_t)(j & 1 ? 0x40 : 0),
						edge16[j]);
				p->gso_size = edge16[(i + j) % n];
				p->agg.ipid_first = edge16[j];
				p->agg.ipid_last = edge16[i];
				res.nsegs = edge32[(i + j) % NELEM(edge32)];
				res.ipid_first = edge16[i];
				res.ipid_last = edge16[j];
				res.ipid_fixed = (uint8_t)(i & 1);
				diff_check(edge_t[(i * n + j) % NELEM(edge_t)],
					   "lan", p, &res);
			}
		}
		/* every segment count an aggregate can have, and 0 and 1,
		 * which are not logged */
		for (segs = 0; segs <= 65535; segs++) {
			p->agg.segs = (uint16_t)segs;
			diff_check(T_NS, "wan", p, NULL);
		}
		/* segment counts of a segmentation, which are 32 bits */
		for (i = 0; i < NELEM(edge32); i++) {
			res.nsegs = edge32[i];
			diff_check(T_NS, "wan", p, &res);
		}
		/* times: micro parts 0 and 999999, seconds of every length */
		for (i = 0; i < NELEM(edge_t); i++) {
			diff_check(edge_t[i], "lan", p, NULL);
			for (j = 0; j < 20; j++)
				diff_check(edge_t[i] + rnd_bits(64), "lan", p,
					   NULL);
		}
	}
	diff_end(f);
	assert_true(dif.written > 65000);
}

static void test_records_match_reference_on_every_reason_and_mode(void **state)
{
	struct fixture *f = *state;
	struct gso_result res = { .ipid_first = 7, .ipid_last = 9 };
	static const uint32_t nsegs[] = { 0, 1, 2, 45 };
	unsigned int kind, flush, mode, i, fixed;
	struct pkt *p;

	diff_begin(f);
	/* tcp4, udp4, tcp6, udp6, IPv4 ICMP, IPv4 without L4, ARP, no L3 */
	for (kind = 0; kind < 8; kind++) {
		p = kind == 2 || kind == 3 ? dif.p6 : dif.p4;
		p->l4_proto = kind == 1 || kind == 3 ? IPPROTO_UDP_ : IPPROTO_TCP_;
		if (kind == 4)
			p->l4_proto = 1;
		if (kind == 5)
			p->l4_off = 0;
		if (kind == 6)
			p->l3 = PKT_L3_ARP;
		if (kind == 7)
			p->l3 = PKT_L3_NONE;
		p->agg.segs = 3;
		p->agg.ipid_first = 100;
		p->agg.ipid_last = 102;
		/* past the list too: "?" and "none" */
		for (flush = 0; flush <= FLUSH__MAX + 1; flush++) {
			for (mode = 0; mode <= PKT_IPID_FIXED + 1; mode++) {
				p->agg.flush = (uint8_t)flush;
				p->agg.ipid_mode = (uint8_t)mode;
				diff_check(T_NS, "lan", p, NULL);
			}
			for (i = 0; i < NELEM(nsegs); i++) {
				for (fixed = 0; fixed < 2; fixed++) {
					res.nsegs = nsegs[i];
					res.ipid_fixed = (uint8_t)fixed;
					diff_check(T_NS, "wan", p, &res);
				}
			}
		}
		p->agg.flush = 255;
		p->agg.ipid_mode = 255;
		diff_check(T_NS, "lan", p, &res);
		/* as frame_pkt parsed them */
		p->l3 = p == dif.p6 ? PKT_L3_IPV6 : PKT_L3_IPV4;
		p->l4_off = (uint16_t)(p->l3_off + (p == dif.p6 ? 40 : 20));
		p->l4_proto = IPPROTO_TCP_;
	}
	diff_end(f);
}

/* Word i of an address with a zero word for each clear bit of @mask. */
static void words_of_mask(uint16_t *w, unsigned int mask, unsigned int fill)
{
	static const uint16_t fillers[] = {
		0xffff, 1, 0xf, 0x10, 0xff, 0x100, 0xfff, 0x1000, 0xabcd,
	};
	unsigned int i;

	for (i = 0; i < 8; i++)
		w[i] = mask & (0x80u >> i) ?
		       fillers[(fill + i) % NELEM(fillers)] : 0;
}

static void test_ipv6_addresses_match_inet_ntop(void **state)
{
	struct fixture *f = *state;
	/* the last 32 bits after ::ffff: and after six zero words */
	static const uint16_t low[][2] = {
		{ 0, 0 }, { 0, 1 }, { 1, 0 }, { 0xc633, 0x6407 },
		{ 0xffff, 0xffff }, { 0x0a00, 0x0001 }, { 0x100, 0x100 },
	};
	struct pkt *p = NULL;
	uint16_t src[8], dst[8];
	unsigned int mask, fill, i, w5;

	diff_begin(f);
	p = dif.p6;
	p->agg.segs = 2;
	p->agg.flush = FLUSH_PSH;
	/* zero runs of every length at every place, src and dst each */
	for (mask = 0; mask < 256; mask++) {
		for (fill = 0; fill < 9; fill++) {
			words_of_mask(src, mask, fill);
			words_of_mask(dst, mask ^ 0xff, fill);
			set_ip6(p, src, dst, 1000);
			diff_check(T_NS, "lan", p, NULL);
		}
	}
	/* IPv4-mapped, IPv4-compatible and their near misses */
	for (i = 0; i < NELEM(low); i++) {
		for (w5 = 0; w5 < 4; w5++) {
			memset(src, 0, sizeof(src));
			memset(dst, 0, sizeof(dst));
			src[5] = (uint16_t[]){ 0xffff, 0, 0xfffe, 1 }[w5];
			src[6] = low[i][0];
			src[7] = low[i][1];
			dst[4] = 1;
			dst[5] = 0xffff;
			dst[6] = low[i][1];
			dst[7] = low[i][0];
			set_ip6(p, src, dst, 1000);
			diff_check(T_NS, "lan", p, NULL);
			src[0] = 0x64;          /* not all zero before: plain hex */
			dst[4] = 0;
			set_ip6(p, src, dst, 1000);
			diff_check(T_NS, "lan", p, NULL);
		}
	}
	/* random words, half of them zero */
	for (i = 0; i < 20000; i++) {
		for (fill = 0; fill < 8; fill++) {
			src[fill] = rnd() & 1 ? 0 : (uint16_t)rnd_bits(16);
			dst[fill] = rnd() & 1 ? 0 : (uint16_t)rnd_bits(16);
		}
		set_ip6(p, src, dst, (uint16_t)rnd());
		diff_check(T_NS, "lan", p, NULL);
	}
	diff_end(f);
}

static void test_ipv4_addresses_match_inet_ntop(void **state)
{
	struct fixture *f = *state;
	uint8_t src[4], dst[4];
	struct pkt *p;
	unsigned int pos, b;

	diff_begin(f);
	p = dif.p4;
	p->agg.segs = 2;
	p->agg.ipid_mode = PKT_IPID_FIXED;
	/* every byte value in every place */
	for (pos = 0; pos < 4; pos++) {
		for (b = 0; b < 256; b++) {
			memset(src, 0, sizeof(src));
			memset(dst, 0xff, sizeof(dst));
			src[pos] = (uint8_t)b;
			dst[pos] = (uint8_t)(255 - b);
			dst[(pos + 1) % 4] = (uint8_t)b;
			set_ip4(p, src, dst, (uint16_t)b, 0x40, 1500);
			diff_check(T_NS, "lan", p, NULL);
		}
	}
	diff_end(f);
}

static void test_port_names_match_reference(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = {
		NULL, "", "lan", "a\"b\\c", "\x01", "\x1f", " ", "\x7f",
		"\xc3\xa9t\xc3\xa9", "tab\there", "new\nline", "\"\\\"\\",
		"\xff\x80", "\x1b[0m",
	};
	char name[700];
	size_t i, len, k;
	int v6;

	diff_begin(f);
	dif.p4->agg.segs = 2;
	dif.p6->agg.segs = 65535;
	for (v6 = 0; v6 < 2; v6++) {
		struct pkt *p = v6 ? dif.p6 : dif.p4;

		for (i = 0; i < NELEM(names); i++)
			diff_check(T_NS, names[i], p, NULL);
		/* JSON cuts the escaped name short of 96 bytes: names of
		 * plain, two-byte and six-byte escapes crossing it at each
		 * offset */
		for (k = 0; k < 4; k++) {
			for (len = 0; len < 120; len++) {
				for (i = 0; i < len; i++)
					name[i] = k == 0 ? 'x' : k == 1 ? '"' :
						  k == 2 ? '\x01' :
						  "x\"\x01\\y"[i % 5];
				name[len] = '\0';
				diff_check(T_NS, name, p, NULL);
			}
		}
		/* a text record of 512 bytes or more is dropped whole */
		for (len = 300; len < sizeof(name); len++) {
			memset(name, 'p', len);
			name[len] = '\0';
			diff_check(UINT64_MAX, name, p, NULL);
			diff_check(0, name, p, NULL);
		}
	}
	diff_end(f);
	/* both sides of the limit were reached */
	assert_int_equal(dif.longest, REF_LINE_MAX - 1);
	assert_true(dif.written < dif.records);
}

static void test_random_records_match_reference(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = {
		"lan", "wan", NULL, "", "eth0.100", "a\"b", "\x01\x02",
	};
	char name[40];
	uint8_t src4[4], dst4[4];
	uint16_t src6[8], dst6[8];
	struct gso_result res;
	struct pkt *p;
	const char *port;
	uint64_t t_ns;
	unsigned int i, k;
	uint16_t len;

	diff_begin(f);
	for (i = 0; i < 50000; i++) {
		p = rnd() & 1 ? dif.p6 : dif.p4;
		len = (uint16_t)rnd_bits(16);
		if (p == dif.p6) {
			for (k = 0; k < 8; k++) {
				src6[k] = rnd() % 3 ? 0 : (uint16_t)rnd_bits(16);
				dst6[k] = rnd() % 3 ? 0 : (uint16_t)rnd_bits(16);
			}
			if (rnd() % 8 == 0) {   /* ::ffff:a.b.c.d */
				memset(src6, 0, 10);
				src6[5] = 0xffff;
			}
			set_ip6(p, src6, dst6, len);
		} else {
			for (k = 0; k < 4; k++) {
				src4[k] = (uint8_t)rnd_bits(8);
				dst4[k] = (uint8_t)rnd_bits(8);
			}
			set_ip4(p, src4, dst4, (uint16_t)rnd_bits(16),
				(uint8_t)rnd(), len);
		}
		set_ports(p, (uint16_t)rnd_bits(16), (uint16_t)rnd_bits(16));
		p->gso_size = (uint16_t)rnd_bits(16);
		p->agg.segs = (uint16_t)rnd_bits(16);
		p->agg.ipid_first = (uint16_t)rnd_bits(16);
		p->agg.ipid_last = (uint16_t)rnd_bits(16);
		p->agg.ipid_mode = (uint8_t)(rnd() % 5);
		p->agg.flush = (uint8_t)(rnd() % (FLUSH__MAX + 2));
		res.nsegs = (uint32_t)rnd_bits(32);
		res.ipid_first = (uint16_t)rnd_bits(16);
		res.ipid_last = (uint16_t)rnd_bits(16);
		res.ipid_fixed = (uint8_t)(rnd() & 1);
		t_ns = rnd_bits(64);
		if (rnd() & 1) {
			port = names[rnd() % NELEM(names)];
		} else {
			k = (unsigned int)(rnd() % sizeof(name));
			name[k] = '\0';
			while (k--)
				name[k] = (char)(1 + rnd() % 255);
			port = name;
		}
		diff_check(t_ns, port, p, &res);
	}
	diff_end(f);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_json_gro_record_has_the_fixed_fields),
		T(test_text_gro_record_reads_as_one_line),
		T(test_gso_record_gives_the_ids_written),
		T(test_ipv6_record_carries_no_id),
		T(test_single_segment_is_not_logged),
		T(test_nothing_is_written_before_flush),
		T(test_full_buffer_goes_out_in_whole_records),
		T(test_reopen_follows_a_rotated_file),
		T(test_disabled_log_costs_nothing_and_fails_nothing),
		T(test_open_reports_errno),
		T(test_json_port_name_is_escaped),
		T(test_proto_names),
		T(test_records_match_reference_on_edge_numbers),
		T(test_records_match_reference_on_every_reason_and_mode),
		T(test_ipv6_addresses_match_inet_ntop),
		T(test_ipv4_addresses_match_inet_ntop),
		T(test_port_names_match_reference),
		T(test_random_records_match_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
