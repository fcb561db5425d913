/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log: messages for people and the aggregate log.
 *
 * The aggregate log sits next to the data path: a record is formatted
 * into a stack line and appended to a fixed buffer, and the buffer goes
 * out in one write() when it fills, on log_agg_flush and at close.  A
 * disabled log (fd -1) costs one comparison per record.
 */
#include <arpa/inet.h>
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

#define LOG_LINE_MAX 512                /* one record: addresses, names, numbers */
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

/* What a record says about a packet's flow and IPv4 header. */
struct rec_flow {
	const char *proto;
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	uint16_t sport, dport;
	int v4;
	int df;
	uint16_t ipid;                  /* the ID the packet itself carries */
};

static void rec_flow_fill(struct rec_flow *f, const struct pkt *p)
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
static void agg_append(struct log_agg *l, const char *line, int len)
{
	if (len <= 0)
		return;
	if ((size_t)len > sizeof(l->buf) - l->used)
		log_agg_flush(l);
	if ((size_t)len > sizeof(l->buf))
		return;
	memcpy(l->buf + l->used, line, (size_t)len);
	l->used += (size_t)len;
}

/* Port names come from the command line: escape what JSON requires. */
static void json_str(char *out, size_t cap, const char *s)
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

/* "%llu.%06llu" of a nanosecond time, truncated to microseconds. */
static void fmt_time(char *out, size_t cap, uint64_t t_ns)
{
	snprintf(out, cap, "%llu.%06llu",
		 (unsigned long long)(t_ns / 1000000000u),
		 (unsigned long long)(t_ns % 1000000000u / 1000u));
}

/* "198.19.1.2:40000" or "[2001:db8::2]:40000" */
static void fmt_endpoint(char *out, size_t cap, const struct rec_flow *f,
			 const char *addr, uint16_t port)
{
	snprintf(out, cap, f->v4 ? "%s:%u" : "[%s]:%u", addr, port);
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

static void agg_record(struct log_agg *l, uint64_t t_ns, const char *port,
		       const struct rec_flow *f, const struct rec *r)
{
	char line[LOG_LINE_MAX], ts[32], pname[96];
	int n;

	fmt_time(ts, sizeof(ts), t_ns);
	if (l->fmt == LOG_FMT_JSON) {
		json_str(pname, sizeof(pname), port);
		n = snprintf(line, sizeof(line),
			     "{\"ev\":\"%s\",\"t\":%s,\"port\":\"%s\","
			     "\"proto\":\"%s\",\"src\":\"%s\",\"dst\":\"%s\","
			     "\"sport\":%u,\"dport\":%u,\"segs\":%u,"
			     "\"bytes\":%u,\"gso_size\":%u,\"df\":%s,",
			     r->ev, ts, pname, f->proto, f->src, f->dst,
			     f->sport, f->dport, r->segs, r->bytes,
			     r->gso_size, f->df ? "true" : "false");
		/* IPv6 has no ID: null, so a script never mistakes it for 0 */
		if (n > 0 && (size_t)n < sizeof(line)) {
			if (f->v4)
				n += snprintf(line + n, sizeof(line) - (size_t)n,
					      "\"ipid_first\":%u,\"ipid_last\":%u,"
					      "\"ipid_mode\":\"%s\",\"ipid_out\":%u,",
					      r->ipid_first, r->ipid_last,
					      r->mode, f->ipid);
			else
				n += snprintf(line + n, sizeof(line) - (size_t)n,
					      "\"ipid_first\":null,\"ipid_last\":null,"
					      "\"ipid_mode\":\"none\",\"ipid_out\":null,");
		}
		if (n > 0 && (size_t)n < sizeof(line))
			n += snprintf(line + n, sizeof(line) - (size_t)n,
				      "\"flush\":\"%s\"}\n", r->flush);
	} else {
		char src[INET6_ADDRSTRLEN + 8], dst[INET6_ADDRSTRLEN + 8];
		char id[64];

		fmt_endpoint(src, sizeof(src), f, f->src, f->sport);
		fmt_endpoint(dst, sizeof(dst), f, f->dst, f->dport);
		/* gro: the IDs that came in -> the one the aggregate carries;
		 * gso: the aggregate's ID -> the IDs written */
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
		n = snprintf(line, sizeof(line),
			     "%s %s %s  %s %s > %s segs=%u bytes=%u "
			     "gso_size=%u %s flush=%s\n",
			     ts, port ? port : "-", r->ev, f->proto, src, dst,
			     r->segs, r->bytes, r->gso_size, id, r->flush);
	}
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	agg_append(l, line, n);
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
