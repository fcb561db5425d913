/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * log: messages for people (stderr, levels) and the aggregate log (one
 * record per aggregate and per software segmentation, text or JSON
 * lines, written through a buffer).
 */
#ifndef GROGSO_LOG_H
#define GROGSO_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "grogso/gso.h"
#include "grogso/pkt.h"

/* ---- messages ---- */

enum log_level { LOG_LVL_ERR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

void log_set_level(int level);
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* a MAC address in a message: "..." MAC_FMT "...", MAC_ARGS(mac) */
#define MAC_FMT "%02x:%02x:%02x:%02x:%02x:%02x"
#define MAC_ARGS(m) (m)[0], (m)[1], (m)[2], (m)[3], (m)[4], (m)[5]

/* ---- the aggregate log ---- */

enum log_format { LOG_FMT_TEXT = 0, LOG_FMT_JSON };

#define LOG_AGG_BUF 65536               /* flushed when full, on log_agg_flush, at close */

struct log_agg {
	int fd;                         /* -1: disabled */
	int own_fd;                     /* close it on log_agg_close */
	enum log_format fmt;
	size_t used;
	char *path;                     /* for reopen; NULL for stdout */
	char buf[LOG_AGG_BUF];
};

/*
 * Open the log at @path ("-" for stdout; NULL disables it).  Returns 0 or
 * a negative errno.
 */
int log_agg_open(struct log_agg *l, const char *path, enum log_format fmt);

/* Reopen the same path (SIGHUP, after logrotate).  Returns 0 or -errno. */
int log_agg_reopen(struct log_agg *l);

/*
 * One "gro" record for aggregate @p (p->agg filled by GRO) that arrived on
 * @port.  @t_ns is the monotonic time.  Only aggregates of two or more
 * segments are logged.
 */
void log_agg_gro(struct log_agg *l, uint64_t t_ns, const char *port,
		 const struct pkt *p);

/* One "gso" record: @p was segmented in software into @r. */
void log_agg_gso(struct log_agg *l, uint64_t t_ns, const char *port,
		 const struct pkt *p, const struct gso_result *r);

/* Write out what is buffered.  Returns 0 or -errno. */
int log_agg_flush(struct log_agg *l);
void log_agg_close(struct log_agg *l);

/*
 * Format the flow of @p as the log does ("src", "dst", ports, proto); used
 * by the record writers and by the tests.  Returns the proto name
 * ("tcp4", "tcp6", "udp4", "udp6") or "other".
 */
const char *log_proto_name(const struct pkt *p);

#endif
