/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * replay: the engine driven from a capture.
 *
 * Frames are read with their capture times and cut into batches the way
 * a NAPI poll would see them: a gap longer than --batch-gap-us, or
 * --batch frames, ends a batch and flushes GRO.  What GRO releases is
 * written as the egress would send it: whole (with a complete checksum,
 * as a peer would see an offloaded super-packet) or segmented by GSO.
 * Every written frame carries the capture time of the input frame that
 * caused its emission, so the output is a deterministic function of the
 * input and the options.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grogso/gro.h"
#include "grogso/gso.h"
#include "grogso/log.h"
#include "grogso/pkt.h"
#include "grogso/replay.h"
#include "grogso/stats.h"

#define REPLAY_SNAPLEN 262144           /* tcpdump's default; an aggregate is < 64 KiB */
#define REPLAY_PORT "in"                /* the port name in the log and the stats */
#define REPLAY_MAX_SEGS GRO_MAX_SEGS    /* GRO never builds more */

struct replay {
	const struct config *c;
	const char *in_name, *out_name;
	struct pkt_pool pool;
	struct gro_table *gro;
	struct stats_port st;
	struct log_agg log;
	pcap_t *in;
	pcap_t *dead;
	pcap_dumper_t *out;
	struct timeval now;             /* capture time of the frame being handled */
	uint64_t now_ns;
	struct gso_seg *segs;
	uint8_t *scratch;               /* one linearised segment */
	uint64_t frames_in, bytes_in;
	uint64_t frames_out, bytes_out;
	uint64_t batches;
	uint64_t hold_ns;               /* --gro-hold-us: batch ends do not flush */
	uint64_t hold_due;              /* when the oldest held aggregate expires; 0: none */
};

static void write_frame(struct replay *r, const uint8_t *data, uint32_t len)
{
	struct pcap_pkthdr h;

	h.ts = r->now;
	h.caplen = len;
	h.len = len;
	pcap_dump((u_char *)r->out, &h, data);
	r->frames_out++;
	r->bytes_out += len;
	r->st.tx_pkts++;
	r->st.tx_bytes += len;
}

/* The output stands for an egress like a veth: TSO, and IDs may stay
 * fixed (tx-tcp-mangleid-segmentation). */
static int want_software_gso(const struct config *c, const struct pkt *p)
{
	if (c->gso == CONFIG_GSO_SOFTWARE)
		return 1;
	return gso_fixed_here(c->gso_fixed, p, 1);
}

static void segment_and_write(struct replay *r, struct pkt *p)
{
	struct gso_opts o = { .ipid = config_gso_ipid(r->c), .csum_offload = 0 };
	struct gso_result res;
	int n, i;

	memset(&res, 0, sizeof(res));
	n = gso_segment(p, &o, r->segs, REPLAY_MAX_SEGS, &res);
	if (n == -EXDEV && !pkt_linearize(p, &r->pool))
		/* fragments off the segment boundaries: cut it linear */
		n = gso_segment(p, &o, r->segs, REPLAY_MAX_SEGS, &res);
	if (n <= 0) {
		log_debug("%s: aggregate of %u segments could not be segmented (%d)",
			  r->in_name, p->agg.segs, n);
		r->st.drop[DROP_GSO_ERROR]++;
		return;
	}
	log_agg_gso(&r->log, r->now_ns, REPLAY_PORT, p, &res);
	r->st.gso_software++;
	for (i = 0; i < n; i++) {
		int len = gso_seg_linearize(&r->segs[i], r->scratch, PKT_DATA_MAX);

		if (len < 0) {
			r->st.drop[DROP_GSO_ERROR]++;
			continue;
		}
		write_frame(r, r->scratch, (uint32_t)len);
		r->st.gso_segs++;
	}
}

/* GRO's emit callback, and the path of every packet GRO is not asked about. */
static void replay_emit(void *ctx, struct pkt *p)
{
	struct replay *r = ctx;

	if (p->agg.segs > 1) {
		log_agg_gro(&r->log, r->now_ns, REPLAY_PORT, p);
		if (p->gso_size && pkt_payload_len(p) > p->gso_size &&
		    want_software_gso(r->c, p)) {
			segment_and_write(r, p);
			goto out;
		}
		/* what the peer of an offloading egress receives: the
		 * super-packet whole, its checksum filled in */
		if (p->csum == PKT_CSUM_PARTIAL && pkt_csum_complete(p)) {
			r->st.drop[DROP_GSO_ERROR]++;
			goto out;
		}
		if (p->gso_size && pkt_payload_len(p) > p->gso_size)
			r->st.gso_offload++;
		/* a capture record is one buffer: gather the fragments (the
		 * copy a port avoids by writing them with pkt_iov) */
		if (pkt_linearize(p, &r->pool)) {
			r->st.drop[DROP_GSO_ERROR]++;
			goto out;
		}
	}
	/* a packet GRO left alone goes out exactly as it came in */
	write_frame(r, p->data, p->len);
out:
	pkt_free(&r->pool, p);
}

static void end_batch(struct replay *r)
{
	/* with a hold time the timer, not the batch, ends aggregates */
	if (r->gro && !r->hold_ns)
		gro_flush_all(r->gro, FLUSH_BATCH);
	r->batches++;
}

/*
 * The daemon's hold timer, driven by capture time: before a frame at
 * @t_ns is handled, aggregates held longer than the hold time go out
 * (FLUSH_TIMER), stamped with the last frame's time.
 */
static void hold_expire(struct replay *r, uint64_t t_ns)
{
	uint64_t oldest;

	if (!r->hold_due || t_ns < r->hold_due)
		return;
	oldest = gro_flush_older(r->gro, t_ns - r->hold_ns);
	r->hold_due = oldest ? oldest + r->hold_ns : 0;
}

/* Arm the timer when a frame left an aggregate held and none was. */
static void hold_arm(struct replay *r)
{
	uint64_t oldest;

	if (!r->hold_ns || r->hold_due || !gro_held(r->gro))
		return;
	/* flushes nothing (nothing started before 0); gives the oldest */
	oldest = gro_flush_older(r->gro, 0);
	r->hold_due = oldest ? oldest + r->hold_ns : 0;
}

/*
 * libpcap reports a short record as text only; keep the numbers when it
 * has the known shape so the message reads like the caplen < len case.
 */
static void report_read_error(struct replay *r, uint64_t n)
{
	const char *e = pcap_geterr(r->in);
	unsigned int want, got;

	if (sscanf(e, "truncated dump file; tried to read %u captured bytes, only got %u",
		   &want, &got) == 2)
		log_err("%s: record %llu truncated (caplen %u of %u bytes)",
			r->in_name, (unsigned long long)n, got, want);
	else
		log_err("%s: record %llu: %s", r->in_name,
			(unsigned long long)n, e);
}

static void handle_frame(struct replay *r, const struct pcap_pkthdr *h,
			 const uint8_t *data)
{
	enum pass_reason pass;
	enum drop_reason why;
	struct pkt *p;

	r->frames_in++;
	r->bytes_in += h->caplen;
	r->st.rx_pkts++;
	r->st.rx_bytes += h->caplen;
	if (h->caplen > PKT_DATA_MAX) {
		/* larger than any IP datagram with its L2 header */
		r->st.drop[DROP_IP_LEN]++;
		return;
	}
	p = pkt_alloc(&r->pool);
	if (!p) {
		r->st.drop[DROP_NO_BUFFER]++;
		return;
	}
	memcpy(p->data, data, h->caplen);
	p->len = h->caplen;
	p->port = 0;
	p->ts_ns = r->now_ns;
	why = pkt_parse(p);
	/* as a bridge: a broken IP header goes through as it came */
	pass = pkt_l2_only(p, why);
	if (pass != PASS_NONE) {
		r->st.pass[pass]++;
		replay_emit(r, p);
		return;
	}
	if (why != DROP_NONE) {
		r->st.drop[why]++;
		log_debug("%s: record %llu dropped: %s", r->in_name,
			  (unsigned long long)r->frames_in, stats_drop_name(why));
		pkt_free(&r->pool, p);
		return;
	}
	if (r->gro) {
		gro_receive(r->gro, p, r->now_ns);
		hold_arm(r);
	} else {
		r->st.pass[PASS_GRO_OFF]++;
		replay_emit(r, p);
	}
}

/* Returns 0 at the end of the input, or -EIO after printing why not. */
static int read_all(struct replay *r)
{
	const struct config *c = r->c;
	struct pcap_pkthdr *h;
	const u_char *data;
	uint32_t in_batch = 0;
	int rc;

	while ((rc = pcap_next_ex(r->in, &h, &data)) == 1) {
		uint64_t n = r->frames_in + 1;
		uint64_t t_ns = (uint64_t)h->ts.tv_sec * 1000000000u +
				(uint64_t)h->ts.tv_usec * 1000u;

		if (h->caplen < h->len) {
			log_err("%s: record %llu truncated (caplen %u of %u bytes)",
				r->in_name, (unsigned long long)n, h->caplen,
				h->len);
			return -EIO;
		}
		/* the batch that ended is flushed at its last frame's time */
		if (in_batch &&
		    (in_batch >= c->batch ||
		     (t_ns > r->now_ns &&
		      t_ns - r->now_ns > (uint64_t)c->batch_gap_us * 1000u))) {
			end_batch(r);
			in_batch = 0;
		}
		if (r->gro)
			hold_expire(r, t_ns);
		r->now = h->ts;
		r->now_ns = t_ns;
		handle_frame(r, h, data);
		in_batch++;
	}
	if (rc != PCAP_ERROR_BREAK) {
		report_read_error(r, r->frames_in + 1);
		return -EIO;
	}
	if (r->gro)
		gro_flush_all(r->gro, FLUSH_EXIT);
	if (in_batch)
		r->batches++;
	return 0;
}

static int open_input(struct replay *r)
{
	char err[PCAP_ERRBUF_SIZE];
	FILE *f;
	int dlt;

	/* opened here so a missing file reads "IN: No such file ..." once */
	if (!strcmp(r->in_name, "-")) {
		f = stdin;
	} else {
		f = fopen(r->in_name, "rb");
		if (!f) {
			log_err("%s: %s", r->in_name, strerror(errno));
			return -errno;
		}
	}
	err[0] = '\0';
	r->in = pcap_fopen_offline_with_tstamp_precision(f,
			PCAP_TSTAMP_PRECISION_MICRO, err);
	if (!r->in) {
		log_err("%s: %s", r->in_name, err[0] ? err : "not a capture file");
		if (f != stdin)
			fclose(f);
		return -EINVAL;
	}
	dlt = pcap_datalink(r->in);
	if (dlt != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(dlt);

		if (name)
			log_err("%s: link type %s is not Ethernet", r->in_name, name);
		else
			log_err("%s: link type %d is not Ethernet", r->in_name, dlt);
		return -EINVAL;
	}
	return 0;
}

static int open_output(struct replay *r)
{
	r->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB,
			REPLAY_SNAPLEN, PCAP_TSTAMP_PRECISION_MICRO);
	if (!r->dead) {
		log_err("%s: cannot set up the capture writer", r->out_name);
		return -ENOMEM;
	}
	r->out = pcap_dump_open(r->dead, r->out_name);
	if (!r->out) {
		/* libpcap's message already names the file */
		log_err("%s", pcap_geterr(r->dead));
		return -EIO;
	}
	return 0;
}

static int setup(struct replay *r)
{
	const struct config *c = r->c;
	int err;

	err = pkt_pool_init(&r->pool, c->buffers);
	if (err) {
		log_err("cannot allocate %u packet buffers: %s", c->buffers,
			strerror(-err));
		return err;
	}
	r->segs = calloc(REPLAY_MAX_SEGS, sizeof(*r->segs));
	r->scratch = malloc(PKT_DATA_MAX);
	if (!r->segs || !r->scratch) {
		log_err("out of memory");
		return -ENOMEM;
	}
	if (c->gro_on) {
		r->gro = gro_create(&c->gro, &r->pool, &r->st, replay_emit, r);
		if (!r->gro) {
			log_err("cannot create the GRO table (--gro-flows=%u)",
				c->gro.max_flows);
			return -ENOMEM;
		}
	}
	err = log_agg_open(&r->log, c->log_path, c->log_fmt);
	if (err) {
		log_err("%s: %s", c->log_path, strerror(-err));
		return err;
	}
	err = open_input(r);
	if (err)
		return err;
	return open_output(r);
}

static void print_summary(const struct replay *r)
{
	const struct stats_port *s = &r->st;

	fprintf(stderr, "grogso: replay %s -> %s\n", r->in_name, r->out_name);
	fprintf(stderr, "  frames in %llu (%llu bytes), out %llu (%llu bytes), "
		"batches %llu\n",
		(unsigned long long)r->frames_in, (unsigned long long)r->bytes_in,
		(unsigned long long)r->frames_out, (unsigned long long)r->bytes_out,
		(unsigned long long)r->batches);
	fprintf(stderr, "  aggregates %llu, %.2f segments per aggregate\n",
		(unsigned long long)s->aggs,
		s->aggs ? (double)s->agg_segs / (double)s->aggs : 0.0);
	fprintf(stderr, "  written whole %llu, segmented %llu into %llu frames, "
		"drops %llu\n",
		(unsigned long long)s->gso_offload,
		(unsigned long long)s->gso_software,
		(unsigned long long)s->gso_segs,
		(unsigned long long)stats_drops_total(s));
	stats_print(stderr, REPLAY_PORT, s, 0);
}

static int write_stats_json(const struct replay *r, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	int bad;

	if (!f) {
		log_err("%s: %s", path, strerror(errno));
		return -errno;
	}
	stats_print(f, REPLAY_PORT, &r->st, 1);
	bad = ferror(f);
	if (f != stdout)
		bad |= fclose(f);
	else
		bad |= fflush(f);
	if (bad) {
		log_err("%s: write error", path);
		return -EIO;
	}
	return 0;
}

static int finish_output(struct replay *r)
{
	FILE *f = pcap_dump_file(r->out);
	int bad;

	bad = pcap_dump_flush(r->out) || ferror(f);
	pcap_dump_close(r->out);
	r->out = NULL;
	if (bad) {
		log_err("%s: write error", r->out_name);
		return -EIO;
	}
	return 0;
}

int replay_run(const struct config *c)
{
	struct replay *r;
	int err, status = 1;

	/* the context holds the log buffer: keep it off the stack */
	r = calloc(1, sizeof(*r));
	if (!r) {
		log_err("out of memory");
		return 1;
	}
	r->c = c;
	r->in_name = c->in_path;
	r->out_name = c->out_path;
	r->hold_ns = (uint64_t)c->gro_hold_us * 1000u;
	r->log.fd = -1;
	err = setup(r);
	if (!err)
		err = read_all(r);
	if (!err)
		err = finish_output(r);
	if (!err && c->stats_json)
		err = write_stats_json(r, c->stats_json);
	if (!err) {
		if (log_agg_flush(&r->log))
			log_warn("%s: could not write the aggregate log",
				 c->log_path);
		print_summary(r);
		status = 0;
	}

	if (r->out)
		pcap_dump_close(r->out);
	if (r->dead)
		pcap_close(r->dead);
	if (r->in)
		pcap_close(r->in);
	log_agg_close(&r->log);
	if (r->gro)
		gro_destroy(r->gro);
	if (r->pool.pkts)
		pkt_pool_destroy(&r->pool);
	free(r->segs);
	free(r->scratch);
	free(r);
	return status;
}
