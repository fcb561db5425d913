/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log: messages for people and the aggregate log.
 *
 * The aggregate log sits next to the data path: a record is formatted
 * into a stack line and appended to a fixed buffer, and the buffer goes
 * out in one write() when it fills, on log_agg_flush and at close.  A
 * disabled log (fd -1) costs one comparison per record.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "grogso/csum.h"
#include "grogso/log.h"
#include "grogso/stats.h"

#define LOG_MSG_MAX 1024                /* one message for people */

static int log_level = LOG_LVL_WARN;

void log_set_level(int level)
{
	log_level = level;
}

/*
 * Format the whole message first so it reaches stderr in one write and
 * does not interleave with the summary or a second process.
 */
static void log_vmsg(int level, const char *tag, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void log_vmsg(int level, const char *tag, const char *fmt, va_list ap)
{
	char msg[LOG_MSG_MAX];
	int n;

	if (level > log_level)
		return;
	n = snprintf(msg, sizeof(msg), "grogso: %s", tag);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return;
	vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
	fprintf(stderr, "%s\n", msg);
}

void log_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_ERR, "", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_WARN, "warning: ", fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_INFO, "", fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LOG_LVL_DEBUG, "debug: ", fmt, ap);
	va_end(ap);
}

/* ---- the aggregate log ---- */

/* Write all of @len bytes; returns 0 or -errno. */
static int write_all(int fd, const char *b, size_t len)
{
	while (len) {
		ssize_t n = write(fd, b, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

static int open_path(const char *path)
{
	/* append: a log rotated under us or shared with a previous run is
	 * extended, never truncated */
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	return fd < 0 ? -errno : fd;
}

int log_agg_open(struct log_agg *l, const char *path, enum log_format fmt)
{
	int fd;

	l->fd = -1;
	l->own_fd = 0;
	l->fmt = fmt;
	l->used = 0;
	l->path = NULL;
	if (!path)
		return 0;
	if (!strcmp(path, "-")) {
		l->fd = STDOUT_FILENO;
		return 0;
	}
	l->path = strdup(path);
	if (!l->path)
		return -ENOMEM;
	fd = open_path(path);
	if (fd < 0) {
		free(l->path);
		l->path = NULL;
		return fd;
	}
	l->fd = fd;
	l->own_fd = 1;
	return 0;
}

int log_agg_flush(struct log_agg *l)
{
	int err;

	if (l->fd < 0 || !l->used)
		return 0;
	err = write_all(l->fd, l->buf, l->used);
	/* drop what could not be written rather than retry it forever */
	l->used = 0;
	return err;
}

int log_agg_reopen(struct log_agg *l)
{
	int err, fd;

	if (l->fd < 0 || !l->path)
		return 0;
	err = log_agg_flush(l);
	fd = open_path(l->path);
	if (fd < 0)
		return fd;
	if (l->own_fd)
		close(l->fd);
	l->fd = fd;
	l->own_fd = 1;
	return err;
}

void log_agg_close(struct log_agg *l)
{
	log_agg_flush(l);
	if (l->own_fd && l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	l->own_fd = 0;
	free(l->path);
	l->path = NULL;
}

const char *log_proto_name(const struct pkt *p)
{
	int v6;

	if (p->l3 == PKT_L3_IPV4)
		v6 = 0;
	else if (p->l3 == PKT_L3_IPV6)
		v6 = 1;
	else
		return "other";
	if (!p->l4_off)
		return "other";
	if (p->l4_proto == IPPROTO_TCP_)
		return v6 ? "tcp6" : "tcp4";
	if (p->l4_proto == IPPROTO_UDP_)
		return v6 ? "udp6" : "udp4";
	return "other";
}

/*
 * ---- the record writers ----
 *
 * A record is written by the small appenders below, not by snprintf and
 * inet_ntop: at 5 Gbit/s the printf machinery cost more CPU than GRO.
 * The bytes are those "%u", "%06u" and inet_ntop give (tests/unit/
 * test_log.c keeps the snprintf version and compares the two).  Each
 * put_* writes at @o without a bound and returns the end of what it
 * wrote; agg_record makes sure the line has room.
 */

static const char digit_pairs[200] =
	"0001020304050607080910111213141516171819"
	"2021222324252627282930313233343536373839"
	"4041424344454647484950515253545556575859"
	"6061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

static const char hex_digits[16] = "0123456789abcdef";

static char *put_mem(char *o, const void *s, size_t n)
{
	memcpy(o, s, n);
	return o + n;
}

/* A string literal: its length is known at compile time. */
#define put_lit(o, lit) put_mem((o), (lit), sizeof(lit) - 1)

static char *put_str(char *o, const char *s)
{
	return put_mem(o, s, strlen(s));
}

/* @v in decimal, as "%llu": at most 20 bytes. */
static char *put_dec(char *o, uint64_t v)
{
	char *end, *w;
	uint64_t rest = v;
	size_t n = 1;

	for (; rest >= 100; rest /= 100)
		n += 2;
	if (rest >= 10)
		n++;
	end = w = o + n;
	/* two digits at a time from the right */
	while (v >= 100) {
		uint64_t q = v / 100;

		w -= 2;
		memcpy(w, digit_pairs + 2 * (v - 100 * q), 2);
		v = q;
	}
	if (v >= 10)
		memcpy(w - 2, digit_pairs + 2 * v, 2);
	else
		w[-1] = (char)('0' + v);
	return end;
}

/* @v < 1000000 in six digits, as "%06u". */
static char *put_dec6(char *o, uint32_t v)
{
	memcpy(o, digit_pairs + 2 * (v / 10000), 2);
	memcpy(o + 2, digit_pairs + 2 * (v / 100 % 100), 2);
	memcpy(o + 4, digit_pairs + 2 * (v % 100), 2);
	return o + 6;
}

/* "12.345678": seconds and microseconds (truncated) of @t_ns. */
static char *put_time(char *o, uint64_t t_ns)
{
	o = put_dec(o, t_ns / 1000000000u);
	*o++ = '.';
	return put_dec6(o, (uint32_t)(t_ns % 1000000000u / 1000u));
}

/* "198.19.1.2": at most 15 bytes. */
static char *put_ipv4(char *o, const uint8_t *a)
{
	o = put_dec(o, a[0]);
	*o++ = '.';
	o = put_dec(o, a[1]);
	*o++ = '.';
	o = put_dec(o, a[2]);
	*o++ = '.';
	return put_dec(o, a[3]);
}

/* @w in lower-case hex without leading zeros, as "%x". */
static char *put_hex16(char *o, unsigned int w)
{
	int shift = w >= 0x1000 ? 12 : w >= 0x100 ? 8 : w >= 0x10 ? 4 : 0;

	for (; shift >= 0; shift -= 4)
		*o++ = hex_digits[(w >> shift) & 0xf];
	return o;
}

/*
 * @a as inet_ntop(AF_INET6) prints it, at most 45 bytes: RFC 5952
 * (words in lower-case hex without leading zeros, the longest run of two
 * or more zero words as "::", the first of equal runs, and
 * "::ffff:198.19.1.2" for IPv4-mapped), plus one rule of inet_ntop's
 * own: exactly six leading zero words also print the last 32 bits as a
 * dotted quad ("::198.19.1.2", and so "::1:0" is "::0.1.0.0").
 */
static char *put_ipv6(char *o, const uint8_t *a)
{
	unsigned int w[8], i, run = 0, best = 0, best_len = 0;

	for (i = 0; i < 8; i++) {
		w[i] = (unsigned int)a[2 * i] << 8 | a[2 * i + 1];
		run = w[i] ? 0 : run + 1;
		if (run > best_len) {
			best_len = run;
			best = i + 1 - run;
		}
	}
	if (best_len < 2)
		best_len = 0;
	for (i = 0; i < 8; i++) {
		if (best_len && i >= best && i < best + best_len) {
			if (i == best)
				*o++ = ':';
			continue;
		}
		if (i)
			*o++ = ':';
		if (i == 6 && best_len && best == 0 &&
		    (best_len == 6 || (best_len == 5 && w[5] == 0xffff)))
			return put_ipv4(o, a + 12);
		o = put_hex16(o, w[i]);
	}
	if (best_len && best + best_len == 8)
		*o++ = ':';
	return o;
}

/* JSON port names: escaping stops 7 bytes short of this */
#define LOG_PORT_JSON_CUT 96

/*
 * Port names come from the command line: escape what JSON requires.  A
 * long name is cut once 89 bytes are written (at most 94 with the last
 * escape), where the log has always cut it.
 */
static char *put_json_str(char *o, const char *s)
{
	const char *start = o;

	for (; s && *s && (size_t)(o - start) + 7 < LOG_PORT_JSON_CUT; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			*o++ = '\\';
			*o++ = (char)ch;
		} else if (ch < 0x20) {
			o = put_lit(o, "\\u00");
			*o++ = hex_digits[ch >> 4];
			*o++ = hex_digits[ch & 0xf];
		} else {
			*o++ = (char)ch;
		}
	}
	return o;
}

/* What a record says about a packet's flow and IPv4 header. */
struct rec_flow {
	const char *proto;
	const uint8_t *src, *dst;       /* in the IP header; NULL if not IP */
	uint16_t sport, dport;
	int v4, v6;
	int df;
	uint16_t ipid;                  /* the ID the packet itself carries */
};

static void rec_flow_fill(struct rec_flow *f, const struct pkt *p)
{
	const uint8_t *ip = p->data + p->l3_off;

	f->proto = log_proto_name(p);
	f->src = f->dst = NULL;
	f->v4 = f->v6 = 0;
	f->df = 0;
	f->ipid = 0;
	f->sport = f->dport = 0;
	if (p->l3 == PKT_L3_IPV4) {
		f->v4 = 1;
		f->df = !!(ip[6] & 0x40);
		f->ipid = get_be16(ip + 4);
		f->src = ip + 12;
		f->dst = ip + 16;
	} else if (p->l3 == PKT_L3_IPV6) {
		f->v6 = 1;
		f->src = ip + 8;
		f->dst = ip + 24;
	}
	if (p->l4_off) {
		f->sport = get_be16(p->data + p->l4_off);
		f->dport = get_be16(p->data + p->l4_off + 2);
	}
}

/* An address of @f; nothing for a packet that is not IP. */
static char *put_addr(char *o, const struct rec_flow *f, const uint8_t *a)
{
	if (f->v4)
		return put_ipv4(o, a);
	if (f->v6)
		return put_ipv6(o, a);
	return o;
}

/* "198.19.1.2:40000" or "[2001:db8::2]:40000" ("[]:0" if not IP) */
static char *put_endpoint(char *o, const struct rec_flow *f, const uint8_t *a,
			  uint16_t port)
{
	if (f->v4) {
		o = put_ipv4(o, a);
	} else {
		*o++ = '[';
		o = put_addr(o, f, a);
		*o++ = ']';
	}
	*o++ = ':';
	return put_dec(o, port);
}

static const char *ipid_mode_name(unsigned int mode)
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

/*
 * Append @len bytes of one record.  A full buffer is written out first,
 * so records are never split across writes.
 */
static void agg_append(struct log_agg *l, const char *line, size_t len)
{
	if (len > sizeof(l->buf) - l->used)
		log_agg_flush(l);
	if (len > sizeof(l->buf))
		return;
	memcpy(l->buf + l->used, line, len);
	l->used += len;
}

/* The fields both record kinds share; @ev is "gro" or "gso". */
struct rec {
	const char *ev;
	uint32_t segs;
	uint32_t bytes;
	uint16_t gso_size;
	uint16_t ipid_first, ipid_last;
	const char *mode;
	const char *flush;
};

/*
 * A record is at most LOG_LINE_MAX - 1 bytes; a longer one is dropped
 * whole.  It is built in a line of LOG_LINE_ROOM bytes: the strings
 * whose length is not fixed (the text port name, the names of the event,
 * protocol, ID mode and flush reason) are measured first and the record
 * dropped if they alone reach LOG_LINE_MAX; all the rest (field names,
 * numbers, addresses, the JSON port name cut to 94 bytes) takes less than
 * 460 bytes.
 */
#define LOG_LINE_MAX 512
#define LOG_LINE_ROOM (2 * LOG_LINE_MAX)

static char *put_json(char *o, uint64_t t_ns, const char *port,
		      const struct rec_flow *f, const struct rec *r)
{
	o = put_lit(o, "{\"ev\":\"");
	o = put_str(o, r->ev);
	o = put_lit(o, "\",\"t\":");
	o = put_time(o, t_ns);
	o = put_lit(o, ",\"port\":\"");
	o = put_json_str(o, port);
	o = put_lit(o, "\",\"proto\":\"");
	o = put_str(o, f->proto);
	o = put_lit(o, "\",\"src\":\"");
	o = put_addr(o, f, f->src);
	o = put_lit(o, "\",\"dst\":\"");
	o = put_addr(o, f, f->dst);
	o = put_lit(o, "\",\"sport\":");
	o = put_dec(o, f->sport);
	o = put_lit(o, ",\"dport\":");
	o = put_dec(o, f->dport);
	o = put_lit(o, ",\"segs\":");
	o = put_dec(o, r->segs);
	o = put_lit(o, ",\"bytes\":");
	o = put_dec(o, r->bytes);
	o = put_lit(o, ",\"gso_size\":");
	o = put_dec(o, r->gso_size);
	if (f->df)
		o = put_lit(o, ",\"df\":true,");
	else
		o = put_lit(o, ",\"df\":false,");
	/* IPv6 has no ID: null, so a script never mistakes it for 0 */
	if (f->v4) {
		o = put_lit(o, "\"ipid_first\":");
		o = put_dec(o, r->ipid_first);
		o = put_lit(o, ",\"ipid_last\":");
		o = put_dec(o, r->ipid_last);
		o = put_lit(o, ",\"ipid_mode\":\"");
		o = put_str(o, r->mode);
		o = put_lit(o, "\",\"ipid_out\":");
		o = put_dec(o, f->ipid);
		*o++ = ',';
	} else {
		o = put_lit(o, "\"ipid_first\":null,\"ipid_last\":null,"
			    "\"ipid_mode\":\"none\",\"ipid_out\":null,");
	}
	o = put_lit(o, "\"flush\":\"");
	o = put_str(o, r->flush);
	return put_lit(o, "\"}\n");
}

static char *put_text(char *o, uint64_t t_ns, const char *port,
		      const struct rec_flow *f, const struct rec *r)
{
	o = put_time(o, t_ns);
	*o++ = ' ';
	o = put_str(o, port ? port : "-");
	*o++ = ' ';
	o = put_str(o, r->ev);
	o = put_lit(o, "  ");
	o = put_str(o, f->proto);
	*o++ = ' ';
	o = put_endpoint(o, f, f->src, f->sport);
	o = put_lit(o, " > ");
	o = put_endpoint(o, f, f->dst, f->dport);
	o = put_lit(o, " segs=");
	o = put_dec(o, r->segs);
	o = put_lit(o, " bytes=");
	o = put_dec(o, r->bytes);
	o = put_lit(o, " gso_size=");
	o = put_dec(o, r->gso_size);
	*o++ = ' ';
	/* gro: the IDs that came in -> the one the aggregate carries;
	 * gso: the aggregate's ID -> the IDs written */
	if (!f->v4) {
		o = put_lit(o, "id=none");
	} else {
		o = put_lit(o, "df=");
		*o++ = f->df ? '1' : '0';
		o = put_lit(o, " id=");
		if (r->ev[1] == 'r') {
			o = put_dec(o, r->ipid_first);
			o = put_lit(o, "..");
			o = put_dec(o, r->ipid_last);
			*o++ = ' ';
			o = put_str(o, r->mode);
			o = put_lit(o, " -> ");
			o = put_dec(o, f->ipid);
		} else {
			o = put_dec(o, f->ipid);
			o = put_lit(o, " -> ");
			o = put_dec(o, r->ipid_first);
			o = put_lit(o, "..");
			o = put_dec(o, r->ipid_last);
			*o++ = ' ';
			o = put_str(o, r->mode);
		}
	}
	o = put_lit(o, " flush=");
	o = put_str(o, r->flush);
	*o++ = '\n';
	return o;
}

static void agg_record(struct log_agg *l, uint64_t t_ns, const char *port,
		       const struct rec_flow *f, const struct rec *r)
{
	char line[LOG_LINE_ROOM], *end;
	size_t strs;

	strs = strlen(r->ev) + strlen(f->proto) + strlen(r->mode) +
	       strlen(r->flush);
	if (l->fmt != LOG_FMT_JSON && port)
		strs += strlen(port);
	if (strs >= LOG_LINE_MAX)
		return;
	if (l->fmt == LOG_FMT_JSON)
		end = put_json(line, t_ns, port, f, r);
	else
		end = put_text(line, t_ns, port, f, r);
	if ((size_t)(end - line) >= LOG_LINE_MAX)
		return;
	agg_append(l, line, (size_t)(end - line));
}

void log_agg_gro(struct log_agg *l, uint64_t t_ns, const char *port,
		 const struct pkt *p)
{
	struct rec_flow f;
	struct rec r;

	if (l->fd < 0 || p->agg.segs < 2)
		return;
	rec_flow_fill(&f, p);
	r.ev = "gro";
	r.segs = p->agg.segs;
	r.bytes = pkt_ip_len(p);
	r.gso_size = p->gso_size;
	r.ipid_first = p->agg.ipid_first;
	r.ipid_last = p->agg.ipid_last;
	r.mode = ipid_mode_name(p->agg.ipid_mode);
	r.flush = stats_flush_name((enum flush_reason)p->agg.flush);
	agg_record(l, t_ns, port, &f, &r);
}

void log_agg_gso(struct log_agg *l, uint64_t t_ns, const char *port,
		 const struct pkt *p, const struct gso_result *res)
{
	struct rec_flow f;
	struct rec r;

	if (l->fd < 0)
		return;
	rec_flow_fill(&f, p);
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
	agg_record(l, t_ns, port, &f, &r);
}
