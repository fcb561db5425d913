/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
