/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * port: spec parsing, the pending tx batch, the tx queue and link state,
 * shared by every kind of port.
 *
 * A frame is written from where it already is: a whole packet from its
 * pool buffer, a GSO segment as header + payload pointing into the
 * super-packet.  Only when the kernel pushes back (EAGAIN, ENOBUFS) is a
 * frame copied, into a pool buffer of its own that waits in the queue.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grogso/log.h"
#include "grogso/nl.h"
#include "grogso/port.h"

static const struct port_ops *port_kind_ops(enum port_kind kind)
{
	return kind == PORT_KIND_TAP ? &port_tap_ops :
	       kind == PORT_KIND_PCAP ? &port_pcap_ops : &port_packet_ops;
}

int port_parse_spec(const char *spec, enum port_kind *kind, char *ifname)
{
	const char *name = spec;
	const char *colon = strchr(spec, ':');

	*kind = PORT_KIND_PACKET;
	if (colon) {
		size_t klen = (size_t)(colon - spec);

		if (klen == 6 && !strncmp(spec, "packet", 6))
			*kind = PORT_KIND_PACKET;
		else if (klen == 3 && !strncmp(spec, "tap", 3))
			*kind = PORT_KIND_TAP;
		else if (klen == 4 && !strncmp(spec, "pcap", 4))
			*kind = PORT_KIND_PCAP;
		else
			return -EINVAL;
		name = colon + 1;
	}
	if (*kind == PORT_KIND_PCAP) {
		strcpy(ifname, "pcap");
		return 0;
	}
	if (!*name || strlen(name) >= IF_NAMESIZE || strchr(name, '/'))
		return -EINVAL;
	strcpy(ifname, name);
	return 0;
}

static void tx_ready_cb(struct ev_loop *loop, ev_io *w, int revents);

int port_open(struct port *pt, const char *name, unsigned int index,
	      const char *spec, const struct config *c, struct pkt_pool *pool,
	      struct stats_port *stats, struct stats_port **all_stats,
	      struct ev_loop *loop)
{
	int err;

	memset(pt, 0, sizeof(*pt));
	pt->fd = -1;
	snprintf(pt->name, sizeof(pt->name), "%s", name);
	pt->index = index;
	pt->pool = pool;
	pt->stats = stats;
	pt->all_stats = all_stats;
	pt->loop = loop;
	pt->batch = c->batch ? c->batch : 64;
	if (pt->batch > PORT_TX_MAX)
		pt->batch = PORT_TX_MAX;
	pt->q_max = c->queue_len;
	if (port_parse_spec(spec, &pt->kind, pt->ifname)) {
		log_err("%s: bad port \"%s\": use packet:IF, tap:NAME, IF "
			"or pcap:IN,OUT", name, spec);
		return -EINVAL;
	}
	pt->ops = port_kind_ops(pt->kind);
	if (pt->kind == PORT_KIND_PCAP)
		pt->u.pcap.spec = strchr(spec, ':') + 1;
	pt->txf = calloc(PORT_TX_MAX, sizeof(*pt->txf));
	pt->segs = calloc(PORT_TX_SEGS, sizeof(*pt->segs));
	pt->own = calloc(PORT_TX_MAX, sizeof(*pt->own));
	pt->iova = calloc(PORT_TX_IOV, sizeof(*pt->iova));
	if (!pt->txf || !pt->segs || !pt->own || !pt->iova) {
		log_err("%s: out of memory", name);
		err = -ENOMEM;
		goto out;
	}
	err = pt->ops->open(pt, c);
	if (err)
		goto out;
	pt->caps.fixed_id_whole = -1;   /* so that the first reading is told */
	port_tx_features(pt);
	ev_io_init(&pt->tx_w, tx_ready_cb, pt->fd, EV_WRITE);
	pt->tx_w.data = pt;
	return 0;
out:
	port_close(pt);
	return err;
}

static void queue_free_all(struct port *pt, enum drop_reason why)
{
	struct pkt *p;

	while ((p = pkt_queue_pop(&pt->q))) {
		port_drop(pt, p->port, p->agg.segs, why);
		pkt_free(pt->pool, p);
	}
}

void port_close(struct port *pt)
{
	unsigned int i;

	if (pt->loop)
		ev_io_stop(pt->loop, &pt->tx_w);
	if (pt->pool) {
		queue_free_all(pt, DROP_QUEUE_FULL);
		for (i = 0; i < pt->nown; i++)
			pkt_free(pt->pool, pt->own[i]);
	}
	pt->nown = 0;
	if (pt->ops)
		pt->ops->close(pt);
	pt->fd = -1;
	free(pt->txf);
	free(pt->segs);
	free(pt->own);
	free(pt->iova);
	pt->txf = NULL;
	pt->segs = NULL;
	pt->own = NULL;
	pt->iova = NULL;
	/* a second close does nothing */
	pt->ops = NULL;
	pt->pool = NULL;
	pt->loop = NULL;
}

void port_drop(struct port *pt, uint32_t in_port, uint32_t segs,
	       enum drop_reason why)
{
	pt->all_stats[in_port]->drop[why] += segs;
}

static struct port_txf *txf_next(struct port *pt)
{
	if (pt->ntxf == PORT_TX_MAX)
		port_tx_flush(pt);
	return &pt->txf[pt->ntxf++];
}

void port_tx_pkt(struct port *pt, struct pkt *p, const struct vnet_hdr *h,
		 uint32_t segs)
{
	unsigned int need = 2u + p->frag_count;
	struct port_txf *f;
	struct iovec *iov;
	int n;

	/* a chained aggregate goes out as one iovec per buffer */
	if (p->frag_first && PORT_TX_IOV - pt->niova < need)
		port_tx_flush(pt);
	f = txf_next(pt);
	iov = p->frag_first ? &pt->iova[pt->niova] : f->small;
	n = pkt_iov(p, iov + 1, (int)need - 1);
	if (n < 0) {
		pt->ntxf--;
		port_drop(pt, p->port, segs, DROP_TX_ERROR);
		pkt_free(pt->pool, p);
		return;
	}
	if (p->frag_first)
		pt->niova += 1u + (unsigned int)n;
	vnet_write(h, f->vh, pt->vnet_len);
	iov[0].iov_base = f->vh;
	iov[0].iov_len = pt->vnet_len;
	f->iov = iov;
	f->iovcnt = 1u + (unsigned int)n;
	f->len = pkt_frame_len(p);
	f->segs = segs;
	f->in_port = p->port;
	f->whole = p;
	pt->own[pt->nown++] = p;
}

struct gso_seg *port_tx_seg_room(struct port *pt, uint32_t want,
				 uint32_t *max)
{
	if (want > PORT_TX_SEGS)
		return NULL;
	/* a segment takes a frame slot and a header slot */
	if (PORT_TX_MAX - pt->ntxf < want || PORT_TX_SEGS - pt->nsegs < want)
		port_tx_flush(pt);
	*max = PORT_TX_SEGS - pt->nsegs;
	if (*max > PORT_TX_MAX - pt->ntxf)
		*max = PORT_TX_MAX - pt->ntxf;
	return &pt->segs[pt->nsegs];
}

void port_tx_segs(struct port *pt, struct pkt *p, uint32_t n,
		  const struct vnet_hdr *h)
{
	static const struct vnet_hdr none;
	uint32_t i;

	for (i = 0; i < n; i++) {
		struct gso_seg *s = &pt->segs[pt->nsegs++];
		struct port_txf *f = &pt->txf[pt->ntxf++];

		vnet_write(s->partial ? h : &none, f->vh, pt->vnet_len);
		f->iov = f->small;
		f->iov[0].iov_base = f->vh;
		f->iov[0].iov_len = pt->vnet_len;
		f->iov[1].iov_base = s->hdr;
		f->iov[1].iov_len = s->hdr_len;
		f->iov[2].iov_base = (void *)s->pay;
		f->iov[2].iov_len = s->pay_len;
		f->iovcnt = 3;
		f->len = s->hdr_len + s->pay_len;
		f->segs = 1;
		f->in_port = p->port;
		f->whole = NULL;
	}
	pt->own[pt->nown++] = p;
}

/*
 * Keep frame @f for later.  A whole packet moves to the queue as it is;
 * a segment is copied into a buffer of its own.  Returns 0, or the drop
 * reason when the queue is full or no buffer is left.
 */
static enum drop_reason enqueue(struct port *pt, struct port_txf *f)
{
	struct pkt *p;
	uint8_t *at;
	unsigned int i;

	if (pt->q.len >= pt->q_max)
		return DROP_QUEUE_FULL;
	/* a queued frame may wait long: it must not keep ring memory (and
	 * copied into its own buffer, it has the headroom) */
	if (f->whole)
		pkt_unborrow(f->whole);
	if (f->whole && f->whole->data - f->whole->buf >= pt->vnet_len &&
	    !pkt_linearize(f->whole, pt->pool)) {
		/* one buffer per queued frame: the chain is copied only here,
		 * when the kernel pushes back */
		p = f->whole;
		/* the owner list must not free it with the batch */
		for (i = 0; i < pt->nown; i++)
			if (pt->own[i] == p)
				pt->own[i] = NULL;
	} else {
		p = pkt_alloc(pt->pool);
		if (!p)
			return DROP_NO_BUFFER;
		at = p->data;
		if (f->whole) {
			/* from the packet: the iovec may still point at the
			 * ring memory it no longer borrows */
			pkt_copy_bits(f->whole, 0, at, f->len);
		} else {
			for (i = 1; i < f->iovcnt; i++) {
				memcpy(at, f->iov[i].iov_base, f->iov[i].iov_len);
				at += f->iov[i].iov_len;
			}
		}
		p->len = f->len;
		p->gso_size = 0;
	}
	memcpy(p->data - pt->vnet_len, f->vh, pt->vnet_len);
	p->agg.segs = (uint16_t)f->segs;
	p->port = f->in_port;
	pkt_queue_push(&pt->q, p);
	if (!ev_is_active(&pt->tx_w))
		ev_io_start(pt->loop, &pt->tx_w);
	return DROP_NONE;
}

static int err_is_pushback(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS;
}

static int err_is_link(int err)
{
	return err == ENETDOWN || err == ENXIO || err == EIO || err == ENODEV;
}

static void count_tx(struct port *pt, const struct port_txf *f)
{
	pt->stats->tx_pkts += f->segs;
	pt->stats->tx_bytes += f->len;
}

/*
 * Write frames @f[0..n) in order.  Sent frames are counted; refused ones
 * are dropped with a reason, except that on push-back the rest go to the
 * queue (when @queue) or stay for the caller.  Returns how many frames
 * were dealt with (sent, dropped or queued).
 */
static unsigned int write_frames(struct port *pt, struct port_txf *f,
				 unsigned int n, int queue)
{
	unsigned int done = 0, k, i;
	enum drop_reason why;
	int err = 0;

	while (done < n) {
		k = pt->ops->tx(pt, f + done, n - done, &err);
		for (i = 0; i < k; i++)
			count_tx(pt, &f[done + i]);
		done += k;
		if (done == n)
			break;
		if (err_is_pushback(err)) {
			if (!queue)
				return done;
			for (; done < n; done++) {
				why = enqueue(pt, &f[done]);
				if (why)
					port_drop(pt, f[done].in_port,
						  f[done].segs, why);
			}
			break;
		}
		if (err_is_link(err)) {
			/* A detached TAP's link is not ours to flip: its events
			 * there, when they reach us, tell when it goes down (and
			 * until then a refusal is counted like this); when they
			 * do not, nothing would bring it back.  Count the frame,
			 * keep trying the next ones. */
			if (pt->link_up && !pt->detached) {
				log_warn("%s: %s: link went down (%s)", pt->name,
					 pt->ifname, strerror(err));
				pt->link_up = 0;
			}
			why = DROP_LINK_DOWN;
		} else {
			log_debug("%s: %s: frame of %u bytes refused: %s",
				  pt->name, pt->ifname, f[done].len,
				  strerror(err));
			why = DROP_TX_ERROR;
		}
		port_drop(pt, f[done].in_port, f[done].segs, why);
		done++;
	}
	return done;
}

/* Write queued frames until the queue is empty or the kernel pushes back. */
static void queue_write(struct port *pt)
{
	struct port_txf f[64];
	struct pkt *p;
	unsigned int n, done, i;

	while (pt->q.head) {
		n = 0;
		for (p = pt->q.head; p && n < 64; p = p->next, n++) {
			f[n].iov = f[n].small;
			f[n].iov[0].iov_base = p->data - pt->vnet_len;
			f[n].iov[0].iov_len = pt->vnet_len + p->len;
			f[n].iovcnt = 1;
			f[n].len = p->len;
			f[n].segs = p->agg.segs;
			f[n].in_port = p->port;
			f[n].whole = p;
		}
		done = write_frames(pt, f, n, 0);
		for (i = 0; i < done; i++)
			pkt_free(pt->pool, pkt_queue_pop(&pt->q));
		if (done < n)
			return;
	}
	ev_io_stop(pt->loop, &pt->tx_w);
}

void port_tx_flush(struct port *pt)
{
	unsigned int i;

	if (pt->q.head)
		queue_write(pt);
	if (pt->ntxf) {
		if (!pt->link_up) {
			for (i = 0; i < pt->ntxf; i++)
				port_drop(pt, pt->txf[i].in_port,
					  pt->txf[i].segs, DROP_LINK_DOWN);
		} else if (pt->q.head) {
			/* behind what waits already: keep the order */
			for (i = 0; i < pt->ntxf; i++) {
				enum drop_reason why = enqueue(pt, &pt->txf[i]);

				if (why)
					port_drop(pt, pt->txf[i].in_port,
						  pt->txf[i].segs, why);
			}
		} else {
			write_frames(pt, pt->txf, pt->ntxf, 1);
		}
	}
	for (i = 0; i < pt->nown; i++)
		if (pt->own[i])
			pkt_free(pt->pool, pt->own[i]);
	pt->ntxf = 0;
	pt->nsegs = 0;
	pt->niova = 0;
	pt->nown = 0;
}

static void tx_ready_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	queue_write(w->data);
}

void port_tx_drain(struct port *pt, int timeout_ms)
{
	struct pollfd pfd = { .fd = pt->fd, .events = POLLOUT };
	int waited = 0;

	port_tx_flush(pt);
	while (pt->q.head && pt->link_up && waited < timeout_ms) {
		if (poll(&pfd, 1, 10) < 0 && errno != EINTR)
			break;
		waited += 10;
		queue_write(pt);
	}
	queue_free_all(pt, pt->link_up ? DROP_QUEUE_FULL : DROP_LINK_DOWN);
}

void port_link_event(struct port *pt, int up, uint32_t mtu)
{
	if (mtu && mtu != pt->caps.mtu) {
		log_info("%s: %s: MTU %u -> %u", pt->name, pt->ifname,
			 pt->caps.mtu, mtu);
		pt->caps.mtu = mtu;
	}
	if (up == pt->link_up)
		return;
	pt->link_up = up;
	if (up) {
		log_info("%s: %s: link up: sending", pt->name, pt->ifname);
		return;
	}
	log_warn("%s: %s: link down: dropping what goes out here", pt->name,
		 pt->ifname);
	queue_free_all(pt, DROP_LINK_DOWN);
	ev_io_stop(pt->loop, &pt->tx_w);
}

void port_tap_moved(struct port *pt, int nsid, int ifindex, int followed)
{
	if (!pt->detached)
		log_info("%s: tap %s left this namespace; going on", pt->name,
			 pt->ifname);
	else
		log_info("%s: tap %s moved on to another namespace; going on",
			 pt->name, pt->ifname);
	pt->caps.ifindex = 0;
	pt->detached = 1;
	pt->u.tap.nsid = nsid;
	pt->u.tap.ifindex = ifindex;
	if (followed) {
		/* The move closed it (dev_close in the kernel's
		 * __dev_change_net_namespace): down until brought up there,
		 * which its events will tell. */
		log_info("%s: tap %s: its link is followed there (nsid %d, "
			 "ifindex %d)", pt->name, pt->ifname, nsid, ifindex);
		port_link_event(pt, 0, 0);
		return;
	}
	if (nsid < 0)
		log_warn("%s: tap %s went where grogso has no id for: its "
			 "link is no longer followed", pt->name, pt->ifname);
	/* its events do not reach us: from now on only a refused write
	 * tells us about its state */
	port_link_event(pt, 1, 0);
}

void port_tap_returned(struct port *pt, int ifindex, const char *name)
{
	log_info("%s: tap %s is back in this namespace as %s (ifindex %d)",
		 pt->name, pt->ifname, name[0] ? name : pt->ifname, ifindex);
	/* it may have been renamed on its way: the name finds it again */
	if (name[0])
		snprintf(pt->ifname, sizeof(pt->ifname), "%s", name);
	pt->detached = 0;
	pt->caps.ifindex = ifindex;
	pt->u.tap.nsid = -1;
	pt->u.tap.ifindex = 0;
	/* closed by the move, as when it left: down until brought up here */
	port_link_event(pt, 0, 0);
}

void port_tx_features(struct port *pt)
{
	static const char *const names[2] = {
		"tx-tcp-segmentation", "tx-tcp-mangleid-segmentation",
	};
	int on[2] = { 0, 0 }, whole, err = 0;

	if (pt->kind == PORT_KIND_PACKET && pt->caps.ifindex)
		err = nl_features_get(pt->ifname, names, 2, on);
	/* a capture stands for a veth, which has both */
	whole = pt->kind == PORT_KIND_PCAP ||
		(!err && on[0] > 0 && on[1] > 0);
	if (whole == pt->caps.fixed_id_whole)
		return;
	if (err)
		log_warn("%s: %s: cannot read the ethtool features (%s): taken "
			 "as without TSO", pt->name, pt->ifname, strerror(-err));
	else if (pt->caps.fixed_id_whole >= 0 || pt->kind == PORT_KIND_PACKET)
		log_info("%s: %s: %s", pt->name, pt->ifname, whole ?
			 "TSO with tx-tcp-mangleid-segmentation: Linux would "
			 "hand it a fixed-ID TCP aggregate with DF whole" :
			 "no TSO with tx-tcp-mangleid-segmentation: Linux would "
			 "segment fixed-ID TCP aggregates before it");
	pt->caps.fixed_id_whole = whole;
}
