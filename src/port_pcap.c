/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * port_pcap: a port made of two capture files, for running the whole
 * router (route mode with ARP, NDP and ICMP, or bridge mode) offline.
 *
 * "pcap:IN,OUT[,mtu=N][,mac=M]": frames are read from IN (empty: none
 * arrive) and what grogso sends out of the port is written to OUT.  The
 * loop drives both pcap ports by capture time (loop_run_offline): the
 * clock is the time of the frame being handled, so a run is a function of
 * the captures and the options.  The port stands for an egress like a
 * veth: it takes super-packets (written whole, their checksum filled in,
 * as a capture on the receiving side of an offloading device shows them)
 * and IDs of fixed-ID TCP aggregates may stay fixed.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "grogso/csum.h"
#include "grogso/log.h"
#include "grogso/port.h"

#define PCAP_SNAPLEN 262144             /* tcpdump's default; a frame is < 64 KiB */

/* Split "IN,OUT[,key=value...]" into its parts; returns 0 or -EINVAL. */
static int pcap_parse(struct port *pt, const char *spec, char *in, char *out,
		      size_t room)
{
	const char *f[4], *end;
	size_t len[4];
	unsigned int n = 0, i;
	unsigned int m[6];
	char extra;

	while (n < 4) {
		end = strchr(spec, ',');
		f[n] = spec;
		len[n] = end ? (size_t)(end - spec) : strlen(spec);
		n++;
		if (!end)
			break;
		spec = end + 1;
	}
	if (n < 2 || spec[len[n - 1]] == ',') {
		log_err("%s: pcap:%s: expected pcap:IN,OUT[,mtu=N][,mac=M]",
			pt->name, pt->u.pcap.spec);
		return -EINVAL;
	}
	if (len[0] >= room || len[1] >= room || !len[1]) {
		log_err("%s: pcap:%s: %s", pt->name, pt->u.pcap.spec, len[1] ?
			"file name too long" : "OUT, the capture to write, is "
			"required (IN may be empty)");
		return -EINVAL;
	}
	memcpy(in, f[0], len[0]);
	in[len[0]] = '\0';
	memcpy(out, f[1], len[1]);
	out[len[1]] = '\0';
	for (i = 2; i < n; i++) {
		char kv[32];
		unsigned long v;
		char *e;

		if (len[i] >= sizeof(kv))
			goto bad;
		memcpy(kv, f[i], len[i]);
		kv[len[i]] = '\0';
		if (!strncmp(kv, "mtu=", 4)) {
			errno = 0;
			v = strtoul(kv + 4, &e, 10);
			if (errno || *e || e == kv + 4 || v < 68 || v > 65535)
				goto bad;
			pt->caps.mtu = (uint32_t)v;
		} else if (!strncmp(kv, "mac=", 4) &&
			   sscanf(kv + 4, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0],
				  &m[1], &m[2], &m[3], &m[4], &m[5],
				  &extra) == 6 && !(m[0] & 1)) {
			/* a unicast address: grogso's own on this port */
			for (v = 0; v < 6; v++)
				pt->caps.mac[v] = (uint8_t)m[v];
		} else {
			goto bad;
		}
		continue;
bad:
		log_err("%s: pcap:%s: bad option \"%.*s\": mtu=68..65535 or "
			"mac=xx:xx:xx:xx:xx:xx (unicast)", pt->name,
			pt->u.pcap.spec,
			(int)len[i], f[i]);
		return -EINVAL;
	}
	return 0;
}

static int pcap_open_in(struct port *pt, const char *path)
{
	char err[PCAP_ERRBUF_SIZE];
	FILE *f;
	int dlt;

	/* opened here, so that every message names the file once */
	f = fopen(path, "rb");
	if (!f) {
		log_err("%s: %s: %s", pt->name, path, strerror(errno));
		return -errno;
	}
	err[0] = '\0';
	pt->u.pcap.in = pcap_fopen_offline_with_tstamp_precision(f,
			PCAP_TSTAMP_PRECISION_MICRO, err);
	if (!pt->u.pcap.in) {
		log_err("%s: %s: %s", pt->name, path,
			err[0] ? err : "not a capture file");
		fclose(f);
		return -EINVAL;
	}
	if (fstat(fileno(f), &pt->u.pcap.in_st))
		memset(&pt->u.pcap.in_st, 0, sizeof(pt->u.pcap.in_st));
	dlt = pcap_datalink(pt->u.pcap.in);
	if (dlt != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(dlt);

		log_err("%s: %s: link type %s%s is not Ethernet", pt->name,
			path, name ? name : "", name ? "" : "?");
		return -EINVAL;
	}
	return 0;
}

static int pcap_port_open(struct port *pt, const struct config *c)
{
	char in[4096], out[4096];
	int err;

	(void)c;
	/* a made-up, locally administered MAC: 02:00:00:00:00:01 (lan),
	 * :02 (wan), unless mac= says otherwise */
	pt->caps.mac[0] = 0x02;
	pt->caps.mac[5] = (uint8_t)(pt->index + 1);
	pt->caps.mtu = 1500;
	err = pcap_parse(pt, pt->u.pcap.spec, in, out, sizeof(in));
	if (err)
		return err;
	pt->vnet_len = VNET_HDR_LEN;
	pt->caps.gso = 1;
	pt->caps.csum = 1;
	/* written whole whatever their size: nothing segments them */
	pt->caps.gso_max_size = PKT_DATA_MAX;
	pt->link_up = 1;
	pt->u.pcap.frame = malloc(PKT_DATA_MAX);
	if (!pt->u.pcap.frame) {
		log_err("%s: out of memory", pt->name);
		return -ENOMEM;
	}
	if (in[0]) {
		pt->u.pcap.in_name = strdup(in);
		if (!pt->u.pcap.in_name) {
			log_err("%s: out of memory", pt->name);
			return -ENOMEM;
		}
		err = pcap_open_in(pt, in);
		if (err)
			return err;
	}
	/* written by port_pcap_open_out, once every input is open */
	pt->u.pcap.out_name = strdup(out);
	if (!pt->u.pcap.out_name) {
		log_err("%s: out of memory", pt->name);
		return -ENOMEM;
	}
	return 0;
}

/* @a and @b are one file (@b: 0 when there is none). */
static int same_file(const struct stat *a, const struct stat *b)
{
	return b->st_ino && a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

int port_pcap_open_out(struct port *pt, const struct port *other)
{
	const char *out = pt->u.pcap.out_name;
	struct stat st;

	/* opening truncates: an input, or the other port's output, would
	 * be lost */
	if (!stat(out, &st) &&
	    (same_file(&st, &pt->u.pcap.in_st) ||
	     same_file(&st, &other->u.pcap.in_st) ||
	     same_file(&st, &other->u.pcap.out_st))) {
		log_err("%s: %s is also %s: give each capture a file of its "
			"own", pt->name, out,
			same_file(&st, &other->u.pcap.out_st) ?
			"the other port's output" : "an input");
		return -EINVAL;
	}
	pt->u.pcap.dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB,
			PCAP_SNAPLEN, PCAP_TSTAMP_PRECISION_MICRO);
	if (!pt->u.pcap.dead) {
		log_err("%s: %s: cannot set up the capture writer", pt->name,
			out);
		return -ENOMEM;
	}
	pt->u.pcap.out = pcap_dump_open(pt->u.pcap.dead, out);
	if (!pt->u.pcap.out) {
		log_err("%s: %s", pt->name, pcap_geterr(pt->u.pcap.dead));
		return -EIO;
	}
	if (fstat(fileno(pcap_dump_file(pt->u.pcap.out)), &pt->u.pcap.out_st))
		memset(&pt->u.pcap.out_st, 0, sizeof(pt->u.pcap.out_st));
	log_info("%s: pcap: reading %s, writing %s; MAC " MAC_FMT " MTU %u "
		 "(takes super-packets, writes them whole)", pt->name,
		 pt->u.pcap.in_name ? pt->u.pcap.in_name : "nothing", out,
		 MAC_ARGS(pt->caps.mac), pt->caps.mtu);
	return 0;
}

int port_pcap_next(struct port *pt, uint64_t *t_ns)
{
	struct pcap_pkthdr *h;
	const u_char *data;
	int rc;

	if (!pt->u.pcap.in)
		return 0;
	if (!pt->u.pcap.has_next) {
		rc = pcap_next_ex(pt->u.pcap.in, &h, &data);
		if (rc == PCAP_ERROR_BREAK) {
			pcap_close(pt->u.pcap.in);
			pt->u.pcap.in = NULL;
			return 0;
		}
		pt->u.pcap.records++;
		if (rc != 1) {
			log_err("%s: %s: record %llu: %s", pt->name,
				pt->u.pcap.in_name,
				(unsigned long long)pt->u.pcap.records,
				pcap_geterr(pt->u.pcap.in));
			return -EIO;
		}
		if (h->caplen < h->len) {
			log_err("%s: %s: record %llu truncated (caplen %u of "
				"%u bytes)", pt->name, pt->u.pcap.in_name,
				(unsigned long long)pt->u.pcap.records,
				h->caplen, h->len);
			return -EIO;
		}
		pt->u.pcap.next_h = h;
		pt->u.pcap.next_data = data;
		pt->u.pcap.has_next = 1;
	}
	*t_ns = (uint64_t)pt->u.pcap.next_h->ts.tv_sec * 1000000000u +
		(uint64_t)pt->u.pcap.next_h->ts.tv_usec * 1000u;
	return 1;
}

/* The record port_pcap_next found, in a buffer, with a blank vnet header. */
static int pcap_rx(struct port *pt, struct pkt **pkts, unsigned int max)
{
	const struct pcap_pkthdr *h = pt->u.pcap.next_h;
	struct pkt *p;

	if (!max || !pt->u.pcap.has_next)
		return 0;
	pt->u.pcap.has_next = 0;
	if (h->caplen > PKT_DATA_MAX) {
		/* larger than any IP datagram with its L2 header */
		pt->stats->rx_pkts++;
		pt->stats->drop[DROP_IP_LEN]++;
		return 0;
	}
	p = pkt_alloc(pt->pool);
	if (!p) {
		pt->stats->rx_pkts++;
		pt->stats->drop[DROP_NO_BUFFER]++;
		return 0;
	}
	memset(p->data - VNET_HDR_LEN, 0, VNET_HDR_LEN);
	memcpy(p->data, pt->u.pcap.next_data, h->caplen);
	p->len = h->caplen;
	pkts[0] = p;
	return 1;
}

/*
 * Write @n frames as capture records at the loop's clock.  A frame the
 * kernel would have finished is finished here: a checksum left partial
 * (NEEDS_CSUM) is filled in; a super-packet is written whole.
 */
static unsigned int pcap_tx(struct port *pt, struct port_txf *f,
			    unsigned int n, int *err)
{
	struct pcap_pkthdr h;
	struct vnet_hdr vh;
	uint8_t *buf = pt->u.pcap.frame;
	uint64_t now = *pt->u.pcap.clock;
	unsigned int i, k;
	uint32_t len;

	h.ts.tv_sec = (time_t)(now / 1000000000u);
	h.ts.tv_usec = (suseconds_t)(now % 1000000000u / 1000u);
	for (i = 0; i < n; i++) {
		len = 0;
		for (k = 1; k < f[i].iovcnt; k++) {
			if (len + f[i].iov[k].iov_len > PKT_DATA_MAX)
				goto refused;
			memcpy(buf + len, f[i].iov[k].iov_base,
			       f[i].iov[k].iov_len);
			len += (uint32_t)f[i].iov[k].iov_len;
		}
		vnet_read(&vh, f[i].iov[0].iov_base, f[i].iov[0].iov_len,
			  pt->vnet_len);
		/* what the kernel does for NEEDS_CSUM (a UDP sum of 0 is
		 * sent as 0xffff) */
		if ((vh.flags & VNET_F_NEEDS_CSUM) &&
		    csum_complete(buf, len, vh.csum_start, vh.csum_offset,
				  vh.csum_offset == 6))
			goto refused;
		h.caplen = h.len = len;
		pcap_dump((u_char *)pt->u.pcap.out, &h, buf);
	}
	return n;
refused:
	/* larger than a frame, or offsets past it: grogso builds neither;
	 * the caller counts it (tx-error) and goes on with the rest */
	*err = EINVAL;
	return i;
}

int port_pcap_flush(struct port *pt)
{
	if (pt->kind != PORT_KIND_PCAP || !pt->u.pcap.out)
		return 0;
	if (pcap_dump_flush(pt->u.pcap.out)) {
		log_err("%s: cannot write the capture: %s", pt->name,
			strerror(errno));
		return -EIO;
	}
	return 0;
}

static void pcap_port_close(struct port *pt)
{
	if (pt->u.pcap.out) {
		pcap_dump_close(pt->u.pcap.out);
		pt->u.pcap.out = NULL;
	}
	if (pt->u.pcap.dead) {
		pcap_close(pt->u.pcap.dead);
		pt->u.pcap.dead = NULL;
	}
	if (pt->u.pcap.in) {
		pcap_close(pt->u.pcap.in);
		pt->u.pcap.in = NULL;
	}
	free(pt->u.pcap.frame);
	pt->u.pcap.frame = NULL;
	free(pt->u.pcap.in_name);
	pt->u.pcap.in_name = NULL;
	free(pt->u.pcap.out_name);
	pt->u.pcap.out_name = NULL;
}

const struct port_ops port_pcap_ops = {
	.kind = "pcap",
	.open = pcap_port_open,
	.rx_batch = pcap_rx,
	.tx = pcap_tx,
	.close = pcap_port_close,
};
