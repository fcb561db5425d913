/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * loop: the daemon.  One libev loop; per port an rx watcher that reads a
 * batch, validates each frame, feeds the port's GRO table and flushes it
 * at the end of the batch (the end of a NAPI poll); forwarding hands each
 * packet to egress, which writes super-packets whole (offload) or cuts
 * them itself (software GSO).  Signals only ever run as libev watchers.
 *
 * Counting: rx and tx count wire packets, i.e. the segments a
 * super-packet stands for, so that per direction
 *     rx_pkts(in) = tx_pkts(out) + drops(in)
 * holds whatever GRO and GSO did in between.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>

#include "grogso/fwd.h"
#include "grogso/gro.h"
#include "grogso/gso.h"
#include "grogso/log.h"
#include "grogso/loop.h"
#include "grogso/nl.h"
#include "grogso/port.h"
#include "grogso/vnet.h"

#define LOOP_LOG_FLUSH_S 1.0            /* aggregate log written at least this often */
#define LOOP_FWD_TICK_S 0.1             /* neighbour retries and expiry */
#define LOOP_DRAIN_MS 2000              /* exit: how long queued frames may wait */
#define LOOP_HOLD_MIN_S 10e-6           /* do not spin on a timer shorter than this */

struct loop;

struct lport {
	struct port port;
	struct gro_table *gro;
	struct stats_port stats;
	ev_io rx_w;
	struct loop *L;
};

struct loop {
	const struct config *c;
	struct ev_loop *ev;
	struct pkt_pool pool;
	struct lport p[FWD_NPORTS];
	struct stats_port *stats[FWD_NPORTS];
	struct fwd *fwd;
	struct nl_mon *mon;
	struct pkt **rxb;
	uint64_t now_ns;
	int offline;                    /* pcap ports: run by capture time */
	int failed;                     /* a port is gone for good: exit 1 */
	ev_io mon_w;
	ev_timer log_t, stats_t, hold_t, fwd_t;
	ev_signal sig_int, sig_term, sig_hup, sig_usr1;
	struct log_agg log;             /* last: it holds the 64 KiB buffer */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void flush_tx(struct loop *L)
{
	unsigned int i;

	for (i = 0; i < FWD_NPORTS; i++)
		port_tx_flush(&L->p[i].port);
}

/* ---- egress ---- */

static enum gso_ipid gso_policy(const struct config *c, const struct pkt *p)
{
	switch (c->gso_ipid) {
	case CONFIG_IPID_FIXED:
		return GSO_IPID_FIXED;
	case CONFIG_IPID_LINUX:
		/* Linux keeps a fixed ID for TCP only (SKB_GSO_TCP_FIXEDID) */
		return p->l4_proto == IPPROTO_UDP_ ? GSO_IPID_INCREMENT :
						     GSO_IPID_AUTO;
	case CONFIG_IPID_INCREMENT:
	default:
		return GSO_IPID_AUTO;
	}
}

static int want_software_gso(const struct config *c, const struct port *pt,
			     const struct pkt *p)
{
	if (c->gso == CONFIG_GSO_SOFTWARE || !pt->caps.gso)
		return 1;
	return gso_fixed_here(c->gso_fixed, p, pt->caps.fixed_id_whole);
}

static void drop(struct port *pt, struct pkt_pool *pool, struct pkt *p,
		 uint32_t segs, enum drop_reason why)
{
	port_drop(pt, p->port, segs, why);
	pkt_free(pool, p);
}

static void egress_segment(struct loop *L, struct port *pt, struct pkt *p,
			   uint32_t segs)
{
	struct gso_opts o = {
		.ipid = gso_policy(L->c, p), .csum_offload = pt->caps.csum,
	};
	struct gso_result res;
	struct gso_seg *s;
	struct vnet_hdr h;
	uint32_t max;
	int n;

	s = port_tx_seg_room(pt, gso_count(p), &max);
	if (!s) {
		drop(pt, &L->pool, p, segs, DROP_GSO_ERROR);
		return;
	}
	memset(&res, 0, sizeof(res));
	n = gso_segment(p, &o, s, max, &res);
	/* a segment would span two pieces of the chain: make it linear */
	if (n == -EXDEV && !pkt_linearize(p, &L->pool))
		n = gso_segment(p, &o, s, max, &res);
	if (n <= 0) {
		log_debug("%s: aggregate of %u segments not segmented: %s",
			  pt->name, p->agg.segs, strerror(-n));
		drop(pt, &L->pool, p, segs, DROP_GSO_ERROR);
		return;
	}
	log_agg_gso(&L->log, L->now_ns, pt->name, p, &res);
	pt->stats->gso_software++;
	pt->stats->gso_segs += (uint64_t)n;
	/* for the segments gso_segment left partial */
	memset(&h, 0, sizeof(h));
	h.flags = VNET_F_NEEDS_CSUM;
	h.csum_start = p->l4_off;
	h.csum_offset = p->l4_proto == IPPROTO_TCP_ ? 16 : 6;
	port_tx_segs(pt, p, (uint32_t)n, &h);
}

/* fwd's tx callback: everything that leaves goes through here. */
static void egress(void *ctx, unsigned int out, struct pkt *p)
{
	struct loop *L = ctx;
	struct port *pt = &L->p[out].port;
	uint32_t segs = pkt_wire_segs(p), limit;
	struct vnet_hdr h;

	/* frames fwd made itself (ARP, ICMP) are counted where they go */
	if (p->port >= FWD_NPORTS)
		p->port = out;
	if (!pt->link_up) {
		drop(pt, &L->pool, p, segs, DROP_LINK_DOWN);
		return;
	}
	if (p->gso_size && pkt_payload_len(p) > p->gso_size) {
		if (want_software_gso(L->c, pt, p)) {
			egress_segment(L, pt, p, segs);
			return;
		}
		/* a GSO header promises the field holds the pseudo-header sum */
		if (p->csum != PKT_CSUM_PARTIAL)
			pkt_csum_set_partial(p);
		if (pkt_frame_len(p) > pt->caps.gso_max_size) {
			pt->stats->gso_kernel_sw++;
			if (!pt->gso_max_warned++)
				log_warn("%s: %s: aggregates over gso_max_size %u "
					 "are segmented by the kernel in software "
					 "(counted as gso_kernel_sw)", pt->name,
					 pt->ifname, pt->caps.gso_max_size);
		}
		vnet_from_pkt(&h, p, 1);
		pt->stats->gso_offload++;
		port_tx_pkt(pt, p, &h, segs);
		return;
	}
	if (p->csum == PKT_CSUM_PARTIAL && !pt->caps.csum &&
	    pkt_csum_complete(p)) {
		drop(pt, &L->pool, p, 1, DROP_TX_ERROR);
		return;
	}
	limit = pt->caps.mtu + ETH_HLEN_ + (p->has_vlan ? VLAN_HLEN_ : 0);
	if (pkt_frame_len(p) > limit) {
		drop(pt, &L->pool, p, 1, DROP_MTU);
		return;
	}
	vnet_from_pkt(&h, p, pt->caps.csum);
	port_tx_pkt(pt, p, &h, 1);
}

/* ---- ingress ---- */

static void gro_emit(void *ctx, struct pkt *p)
{
	struct lport *lp = ctx;
	struct loop *L = lp->L;

	if (p->agg.segs > 1)
		log_agg_gro(&L->log, L->now_ns, lp->port.name, p);
	fwd_input(L->fwd, lp->port.index, p, L->now_ns);
}

static void ingress(struct loop *L, struct lport *lp, struct pkt *p)
{
	struct stats_port *s = &lp->stats;
	unsigned int vlen = lp->port.vnet_len;
	enum pass_reason pass = PASS_NONE;
	enum drop_reason why;
	struct vnet_hdr h;

	p->port = lp->port.index;
	p->ts_ns = L->now_ns;
	s->rx_bytes += p->len;
	why = pkt_parse(p);
	/* a broken IP header: a router drops the frame, a bridge passes it */
	if (why != DROP_NONE && L->c->mode == CONFIG_MODE_BRIDGE) {
		pass = pkt_l2_only(p, why);
		if (pass != PASS_NONE)
			why = DROP_NONE;
	}
	if (why == DROP_NONE) {
		vnet_read(&h, p->data - vlen, vlen + p->len, vlen);
		why = vnet_check(&h, p);
	}
	if (why != DROP_NONE) {
		s->rx_pkts++;
		s->drop[why]++;
		log_debug("%s: frame of %u bytes dropped: %s", lp->port.name,
			  p->len, stats_drop_name(why));
		pkt_free(&L->pool, p);
		return;
	}
	s->rx_pkts += pkt_wire_segs(p);
	s->rx_gso += pkt_wire_segs(p) > 1;
	if (pass != PASS_NONE) {
		s->pass[pass]++;
		fwd_input(L->fwd, lp->port.index, p, L->now_ns);
	} else if (lp->gro) {
		gro_receive(lp->gro, p, L->now_ns);
	} else {
		s->pass[PASS_GRO_OFF]++;
		fwd_input(L->fwd, lp->port.index, p, L->now_ns);
	}
}

static void hold_arm(struct loop *L);

/* A port that cannot come back: write out what is held, then exit 1. */
static void port_gone(struct loop *L)
{
	L->failed = 1;
	ev_break(L->ev, EVBREAK_ALL);
}

/*
 * Buffers short while --gro-hold-us holds aggregates (a --buffers far
 * under its default): complete the oldest aggregates of either port
 * (flush "full", as for a full table) and write them out until @need
 * buffers are free or nothing is held, so that arriving frames find a
 * buffer instead of being dropped while old aggregates wait.
 */
static void make_room(struct loop *L, uint32_t need)
{
	struct gro_table *t;
	uint64_t o, first;
	unsigned int i;

	while (L->pool.nfree < need) {
		t = NULL;
		first = 0;
		for (i = 0; i < FWD_NPORTS; i++) {
			if (!L->p[i].gro || !gro_held(L->p[i].gro))
				continue;
			o = gro_oldest_ns(L->p[i].gro);
			if (!t || o < first) {
				t = L->p[i].gro;
				first = o;
			}
		}
		if (!t)
			return;
		gro_flush_oldest(t, FLUSH_FULL);
		flush_tx(L);
	}
}

/* make_room for a batch, or half the pool when that is less. */
static void make_room_for_batch(struct loop *L)
{
	uint32_t need = L->c->batch;

	if (need > L->pool.count / 2)
		need = L->pool.count / 2;
	make_room(L, need);
}

static void rx_cb(struct ev_loop *ev, ev_io *w, int revents)
{
	struct lport *lp = w->data;
	struct loop *L = lp->L;
	uint32_t max = L->c->batch;
	int n, i;

	if (L->pool.nfree < max) {
		if (L->c->gro_hold_us) {
			L->now_ns = mono_ns();
			make_room_for_batch(L);
		}
		/* read no more than fits; the rest waits in the ring or
		 * the TAP's queue.  With none free, read to drop (counted
		 * no-buffer), or the loop would spin on a readable port. */
		if (L->pool.nfree)
			max = L->pool.nfree;
	}
	n = port_rx(&lp->port, L->rxb, max);
	if (n == -EBADFD && lp->port.kind == PORT_KIND_TAP) {
		/* the TAP device was deleted (as with the namespace it was
		 * moved to): the fd can never be attached again */
		log_err("%s: tap %s was deleted: grogso stops", lp->port.name,
			lp->port.ifname);
		ev_io_stop(ev, w);
		port_gone(L);
		return;
	}
	if (n < 0) {
		/* e.g. ENETDOWN once when the link drops: not fatal */
		log_debug("%s: read: %s", lp->port.name, strerror(-n));
		return;
	}
	if (!n)
		return;
	L->now_ns = mono_ns();
	for (i = 0; i < n; i++)
		ingress(L, lp, L->rxb[i]);
	if (lp->gro) {
		if (!L->c->gro_hold_us)
			gro_flush_all(lp->gro, FLUSH_BATCH);
		else
			hold_arm(L);
	}
	flush_tx(L);
	port_rx_done(&lp->port);
}

/* ---- timers ---- */

static void hold_arm(struct loop *L)
{
	if (ev_is_active(&L->hold_t))
		return;
	ev_timer_set(&L->hold_t, (double)L->c->gro_hold_us * 1e-6, 0.);
	ev_timer_start(L->ev, &L->hold_t);
}

static void hold_cb(struct ev_loop *ev, ev_timer *w, int revents)
{
	struct loop *L = w->data;
	uint64_t hold_ns = (uint64_t)L->c->gro_hold_us * 1000u;
	uint64_t oldest = 0, o;
	double wait;
	unsigned int i;

	L->now_ns = mono_ns();
	for (i = 0; i < FWD_NPORTS; i++) {
		if (!L->p[i].gro)
			continue;
		o = gro_flush_older(L->p[i].gro, L->now_ns - hold_ns);
		if (o && (!oldest || o < oldest))
			oldest = o;
	}
	flush_tx(L);
	if (!oldest)
		return;
	wait = (double)(oldest + hold_ns - L->now_ns) * 1e-9;
	ev_timer_set(w, wait > LOOP_HOLD_MIN_S ? wait : LOOP_HOLD_MIN_S, 0.);
	ev_timer_start(ev, w);
}

static void fwd_cb(struct ev_loop *ev, ev_timer *w, int revents)
{
	struct loop *L = w->data;

	L->now_ns = mono_ns();
	fwd_timer(L->fwd, L->now_ns);
	flush_tx(L);
}

static void log_cb(struct ev_loop *ev, ev_timer *w, int revents)
{
	struct loop *L = w->data;

	if (log_agg_flush(&L->log))
		log_warn("%s: cannot write the aggregate log", L->c->log_path);
}

static void print_stats(struct loop *L)
{
	unsigned int i;

	for (i = 0; i < FWD_NPORTS; i++) {
		port_stats_sync(&L->p[i].port);
		stats_print(stderr, L->p[i].port.name, &L->p[i].stats, 0);
	}
	fflush(stderr);
}

static void stats_cb(struct ev_loop *ev, ev_timer *w, int revents)
{
	print_stats(w->data);
}

/* ---- signals ---- */

static void sig_stop_cb(struct ev_loop *ev, ev_signal *w, int revents)
{
	log_info("signal %d: flushing and exiting", w->signum);
	ev_break(ev, EVBREAK_ALL);
}

static void sig_hup_cb(struct ev_loop *ev, ev_signal *w, int revents)
{
	struct loop *L = w->data;
	int err = log_agg_reopen(&L->log);

	if (err)
		log_warn("%s: cannot reopen the aggregate log: %s",
			 L->c->log_path, strerror(-err));
}

static void sig_usr1_cb(struct ev_loop *ev, ev_signal *w, int revents)
{
	print_stats(w->data);
}

/* ---- link events ---- */

/* Port @i's link is @up, with the MTU and features of @l. */
static void link_update(struct loop *L, unsigned int i, int up,
			const struct nl_link *l)
{
	struct port *pt = &L->p[i].port;
	struct fwd_port_info info;
	uint32_t mtu = pt->caps.mtu;

	port_link_event(pt, up, l->mtu);
	port_tx_features(pt);
	if (l->gso_max_size)
		pt->caps.gso_max_size = l->gso_max_size;
	if (pt->caps.mtu != mtu) {
		memcpy(info.mac, pt->caps.mac, 6);
		info.mtu = pt->caps.mtu;
		fwd_set_port(L->fwd, i, &info);
	}
}

/* Whether the events of a namespace a TAP goes to, @nsid, reach us. */
static int followed(const struct loop *L, int nsid)
{
	return L->mon && nl_mon_all_nsid(L->mon) && nsid >= 0;
}

/*
 * TAP port @i left namespace @from (NL_NSID_HERE: ours) for the one that
 * @from calls @l->new_nsid.  Only for a move out of ours is that an id
 * here (the kernel's peernet2id_alloc(dev_net(dev), net) in
 * __dev_change_net_namespace is the old namespace's id for the new one);
 * from elsewhere it is looked up.
 */
static void tap_moved(struct loop *L, unsigned int i, int from,
		      const struct nl_link *l)
{
	struct port *pt = &L->p[i].port;
	struct nl_link back;
	int nsid = l->new_nsid, err = 0;

	if (from != NL_NSID_HERE)
		err = nl_nsid_resolve(from, l->new_nsid, &nsid);
	if (err) {
		log_debug("%s: tap %s: where it went (id %d there): %s",
			  pt->name, pt->ifname, l->new_nsid, strerror(-err));
		nsid = -1;
	} else if (nsid == NL_NSID_HERE) {
		if (nl_link_get_in(NL_NSID_HERE, l->new_ifindex, &back))
			back.name[0] = 0;
		port_tap_returned(pt, l->new_ifindex, back.name);
		return;
	}
	port_tap_moved(pt, nsid, l->new_ifindex, followed(L, nsid));
}

/*
 * An event from the namespace TAP port @i was moved to, about the TAP.
 * Its carrier follows our fd; what decides whether it takes our frames
 * is IFF_UP (tun_get_user refuses a write with EIO without it), which
 * also spares waiting for the operstate to follow.
 */
static void tap_away_event(struct loop *L, unsigned int i, int deleted,
			   const struct nl_link *l)
{
	struct port *pt = &L->p[i].port;

	if (!deleted) {
		link_update(L, i, !!(l->flags & IFF_UP), l);
		return;
	}
	if (l->moved) {
		tap_moved(L, i, l->nsid, l);
		return;
	}
	log_err("%s: tap %s was deleted: grogso stops", pt->name, pt->ifname);
	port_link_event(pt, 0, 0);
	port_gone(L);
}

static void link_event(void *ctx, int deleted, const struct nl_link *l)
{
	struct loop *L = ctx;
	unsigned int i;

	for (i = 0; i < FWD_NPORTS; i++) {
		struct port *pt = &L->p[i].port;

		if (pt->detached) {
			if (l->nsid != NL_NSID_HERE &&
			    l->nsid == pt->u.tap.nsid &&
			    l->ifindex == pt->u.tap.ifindex)
				tap_away_event(L, i, deleted, l);
			continue;
		}
		if (l->nsid != NL_NSID_HERE || !pt->caps.ifindex ||
		    pt->caps.ifindex != l->ifindex)
			continue;
		if (deleted && pt->kind == PORT_KIND_TAP && l->moved) {
			tap_moved(L, i, NL_NSID_HERE, l);
			continue;
		}
		if (deleted) {
			/* the socket stays bound to an interface that is no
			 * more; one made again under the name is another */
			log_err("%s: %s was %s: grogso stops", pt->name,
				pt->ifname, l->moved ?
				"moved to another namespace, where its socket "
				"cannot follow" : "deleted");
			pt->caps.ifindex = 0;
			port_link_event(pt, 0, 0);
			port_gone(L);
			continue;
		}
		link_update(L, i, l->carrier, l);
	}
}

static void mon_cb(struct ev_loop *ev, ev_io *w, int revents)
{
	struct loop *L = w->data;
	struct nl_link l;
	unsigned int i;
	int err;

	err = nl_mon_read(L->mon, link_event, L);
	if (err != -ENOBUFS)
		return;
	/* events were lost: ask for the current state instead */
	for (i = 0; i < FWD_NPORTS; i++) {
		struct port *pt = &L->p[i].port;

		if (pt->detached) {
			/* A move on or a deletion among the lost events is
			 * not learnt here (a deletion still shows as EBADFD
			 * on read): a link not found is left as it is. */
			if (followed(L, pt->u.tap.nsid) &&
			    !nl_link_get_in(pt->u.tap.nsid, pt->u.tap.ifindex,
					    &l))
				link_event(L, 0, &l);
		} else if (pt->caps.ifindex && !nl_link_get(pt->ifname, &l)) {
			link_event(L, 0, &l);
		}
	}
}

/* ---- offline: pcap ports, run by capture time ---- */

/* no event loop offline: the signals are flags the run looks at */
static volatile sig_atomic_t offline_stop, offline_usr1, offline_hup;

static void offline_sig(int sig)
{
	if (sig == SIGUSR1)
		offline_usr1 = 1;
	else if (sig == SIGHUP)
		offline_hup = 1;
	else
		offline_stop = sig;
}

static void offline_signals(struct loop *L)
{
	int err;

	if (offline_usr1) {
		offline_usr1 = 0;
		print_stats(L);
	}
	if (offline_hup) {
		offline_hup = 0;
		err = log_agg_reopen(&L->log);
		if (err)
			log_warn("%s: cannot reopen the aggregate log: %s",
				 L->c->log_path, strerror(-err));
	}
}

/* The end of a batch of frames from @lp, as rx_cb ends one. */
static void offline_batch_end(struct loop *L, struct lport *lp)
{
	if (lp->gro && !L->c->gro_hold_us)
		gro_flush_all(lp->gro, FLUSH_BATCH);
	flush_tx(L);
	port_rx_done(&lp->port);
}

/*
 * Run what falls due up to @t: aggregates held past --gro-hold-us and
 * fwd's timers (neighbour retries, reassembly expiry), each at its own
 * time, in order, as the live loop's timers would.
 */
static void offline_advance(struct loop *L, uint64_t t)
{
	uint64_t hold_ns = (uint64_t)L->c->gro_hold_us * 1000u;
	uint64_t due, hold_due, fwd_due, o;
	unsigned int i;

	for (;;) {
		hold_due = 0;
		for (i = 0; hold_ns && i < FWD_NPORTS; i++) {
			if (!L->p[i].gro || !gro_held(L->p[i].gro))
				continue;
			o = gro_oldest_ns(L->p[i].gro) + hold_ns;
			if (!hold_due || o < hold_due)
				hold_due = o;
		}
		fwd_due = fwd_next_deadline(L->fwd);
		/* a deadline already run is not run again */
		if (fwd_due && fwd_due <= L->now_ns)
			fwd_due = 0;
		due = hold_due && (!fwd_due || hold_due < fwd_due) ?
		      hold_due : fwd_due;
		if (!due || due > t)
			return;
		if (due > L->now_ns)
			L->now_ns = due;
		if (due == hold_due) {
			for (i = 0; i < FWD_NPORTS; i++)
				if (L->p[i].gro)
					gro_flush_older(L->p[i].gro,
							L->now_ns - hold_ns + 1);
		} else {
			fwd_timer(L->fwd, L->now_ns);
		}
		flush_tx(L);
	}
}

/* At the end of a run on pcap ports, after everything held went out. */
static void offline_hints(struct loop *L)
{
	unsigned int i;

	for (i = 0; L->c->mode == CONFIG_MODE_ROUTE && i < FWD_NPORTS; i++) {
		struct port *pt = &L->p[i].port;
		uint64_t other = L->p[i].stats.drop[DROP_OTHER_HOST];

		/* a capture taken at another router: its frames carry
		 * that router's MAC */
		if (other)
			log_warn("%s: %llu frames were for other MACs than "
				 "grogso's " MAC_FMT " (dropped, other-host); "
				 "if they were for the router the capture was "
				 "taken at, give the port its MAC: mac=",
				 pt->name, (unsigned long long)other,
				 MAC_ARGS(pt->caps.mac));
	}
}

/*
 * The loop for pcap ports: the frames of both inputs in capture-time
 * order (the LAN's first at equal times), cut into batches as replay
 * cuts them (--batch frames, a gap over --batch-gap-us, or a frame from
 * the other port), with the clock at the time of the frame at hand.
 * Returns 0 at the end of both inputs, -EINTR when stopped by a signal,
 * or -EIO when an input could not be read.
 */
static int run_offline(struct loop *L)
{
	uint64_t gap = (uint64_t)L->c->batch_gap_us * 1000u, t[FWD_NPORTS];
	uint64_t last = 0;              /* the time of the last frame */
	struct lport *lp, *cur = NULL;
	unsigned int i, in_batch = 0;
	int has[FWD_NPORTS], n;

	signal(SIGINT, offline_sig);
	signal(SIGTERM, offline_sig);
	signal(SIGUSR1, offline_sig);
	signal(SIGHUP, offline_sig);
	while (!offline_stop) {
		offline_signals(L);
		lp = NULL;
		for (i = 0; i < FWD_NPORTS; i++) {
			has[i] = port_pcap_next(&L->p[i].port, &t[i]);
			if (has[i] < 0)
				return has[i];
			if (has[i] && (!lp || t[i] < t[lp - L->p]))
				lp = &L->p[i];
		}
		if (!lp)
			break;
		i = (unsigned int)(lp - L->p);
		/* a capture whose times go back is taken in its order */
		if (t[i] < L->now_ns)
			t[i] = L->now_ns;
		if (in_batch && (lp != cur || in_batch >= L->c->batch ||
				 t[i] - last > gap)) {
			offline_batch_end(L, cur);
			in_batch = 0;
		}
		offline_advance(L, t[i]);
		L->now_ns = last = t[i];
		if (L->c->gro_hold_us && L->pool.nfree < L->c->batch)
			make_room_for_batch(L);
		n = port_rx(&lp->port, L->rxb, 1);
		if (n > 0)
			ingress(L, lp, L->rxb[0]);
		cur = lp;
		in_batch++;
	}
	if (in_batch)
		offline_batch_end(L, cur);
	if (offline_stop) {
		log_info("signal %d: flushing and exiting", (int)offline_stop);
		return -EINTR;
	}
	return 0;
}

/* ---- setup and teardown ---- */

static int setup_ports(struct loop *L)
{
	static const char *const names[FWD_NPORTS] = { "lan", "wan" };
	const char *specs[FWD_NPORTS] = { L->c->lan, L->c->wan };
	enum port_kind kind[FWD_NPORTS];
	char ifname[FWD_NPORTS][IF_NAMESIZE];
	unsigned int i;
	int err;

	/* a spec that does not parse is reported by port_open below */
	if (!port_parse_spec(specs[0], &kind[0], ifname[0]) &&
	    !port_parse_spec(specs[1], &kind[1], ifname[1])) {
		if ((kind[0] == PORT_KIND_PCAP) != (kind[1] == PORT_KIND_PCAP)) {
			log_err("--lan %s and --wan %s: pcap ports run offline, "
				"by the time in the captures, so both ports must "
				"be pcap or neither", specs[0], specs[1]);
			return -EINVAL;
		}
		L->offline = kind[0] == PORT_KIND_PCAP;
		/* one interface for both would send every frame back in */
		if (!L->offline && !strcmp(ifname[0], ifname[1])) {
			log_err("--lan and --wan are the same interface, %s: "
				"grogso forwards between two", ifname[0]);
			return -EINVAL;
		}
	}
	for (i = 0; i < FWD_NPORTS; i++)
		L->stats[i] = &L->p[i].stats;
	for (i = 0; i < FWD_NPORTS; i++) {
		struct lport *lp = &L->p[i];

		lp->L = L;
		err = port_open(&lp->port, names[i], i, specs[i], L->c,
				&L->pool, &lp->stats, L->stats, L->ev);
		if (err)
			return err;
		if (L->offline)
			lp->port.u.pcap.clock = &L->now_ns;
		/* the same one under another name (an altname) */
		if (i && !L->offline &&
		    lp->port.caps.ifindex == L->p[0].port.caps.ifindex) {
			log_err("--lan and --wan are the same interface, %s "
				"(ifindex %d): grogso forwards between two",
				L->p[0].port.ifname, lp->port.caps.ifindex);
			return -EINVAL;
		}
		if (L->c->gro_on) {
			struct gro_config g = L->c->gro;

			/* a live port tells an offloaded checksum by
			 * NEEDS_CSUM; one that covers only the pseudo-header
			 * without it is bad, as for Linux.  --checksum is for
			 * captures, which lost that flag. */
			if (!L->offline)
				g.accept_partial = 0;
			lp->gro = gro_create(&g, &L->pool, &lp->stats,
					     gro_emit, lp);
			if (!lp->gro) {
				log_err("cannot create the GRO table (--gro-flows=%u)",
					L->c->gro.max_flows);
				return -ENOMEM;
			}
		}
		ev_io_init(&lp->rx_w, rx_cb, lp->port.fd, EV_READ);
		lp->rx_w.data = lp;
	}
	for (i = 0; L->offline && i < FWD_NPORTS; i++) {
		err = port_pcap_open_out(&L->p[i].port, &L->p[1 - i].port);
		if (err)
			return err;
	}
	return 0;
}

/*
 * --cpu: run on that CPU only, before anything is allocated, so that the
 * pages grogso touches first are local to it.  Returns 0 or -errno.
 */
static int pin_cpu(int cpu)
{
	cpu_set_t set;
	int err;

	if (cpu < 0)
		return 0;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 &&
	    !CPU_ISSET(cpu, &set)) {
		log_err("--cpu=%d: CPU %d is not one grogso may run on here "
			"(offline, or outside its cpuset; see taskset -p %d)",
			cpu, cpu, (int)getpid());
		return -EINVAL;
	}
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		err = -errno;
		log_err("--cpu=%d: sched_setaffinity: %s", cpu, strerror(errno));
		return err;
	}
	log_info("running on CPU %d only", cpu);
	return 0;
}

static int setup(struct loop *L)
{
	const struct config *c = L->c;
	struct fwd_port_info info[FWD_NPORTS];
	struct timespec wall;
	unsigned int i;
	int err;

	err = pin_cpu(c->cpu);
	if (err)
		return err;
	err = pkt_pool_init(&L->pool, c->buffers);
	if (err) {
		log_err("cannot allocate %u packet buffers: %s", c->buffers,
			strerror(-err));
		return err;
	}
	L->rxb = calloc(c->batch, sizeof(*L->rxb));
	if (!L->rxb) {
		log_err("out of memory");
		return -ENOMEM;
	}
	err = log_agg_open(&L->log, c->log_path, c->log_fmt);
	if (err) {
		log_err("%s: %s", c->log_path, strerror(-err));
		return err;
	}
	err = setup_ports(L);
	if (err)
		return err;
	for (i = 0; i < FWD_NPORTS; i++) {
		memcpy(info[i].mac, L->p[i].port.caps.mac, 6);
		info[i].mtu = L->p[i].port.caps.mtu;
	}
	L->fwd = fwd_create(c, info, &L->pool, L->stats, egress, L);
	if (!L->fwd)
		return -EINVAL;
	/* offline the clock is the captures' (wall clock already) */
	if (L->offline)
		return 0;
	/* the wall clock, for the time in IPv4 timestamp options */
	clock_gettime(CLOCK_REALTIME, &wall);
	fwd_set_wallclock(L->fwd, (int64_t)wall.tv_sec * 1000000000 +
			  wall.tv_nsec - (int64_t)mono_ns());
	err = nl_mon_open(&L->mon);
	if (err)
		log_warn("no link events (%s): link changes go unnoticed",
			 strerror(-err));
	else if (!nl_mon_all_nsid(L->mon))
		log_debug("no link events from other namespaces: a TAP moved "
			  "away is told about by refused writes only");
	return 0;
}

static void start_watchers(struct loop *L)
{
	const struct config *c = L->c;
	unsigned int i;

	for (i = 0; i < FWD_NPORTS; i++)
		ev_io_start(L->ev, &L->p[i].rx_w);
	if (L->mon) {
		ev_io_init(&L->mon_w, mon_cb, nl_mon_fd(L->mon), EV_READ);
		L->mon_w.data = L;
		ev_io_start(L->ev, &L->mon_w);
	}
	ev_init(&L->hold_t, hold_cb);
	L->hold_t.data = L;
	ev_timer_init(&L->log_t, log_cb, LOOP_LOG_FLUSH_S, LOOP_LOG_FLUSH_S);
	L->log_t.data = L;
	ev_timer_start(L->ev, &L->log_t);
	if (c->stats_interval) {
		ev_timer_init(&L->stats_t, stats_cb, c->stats_interval,
			      c->stats_interval);
		L->stats_t.data = L;
		ev_timer_start(L->ev, &L->stats_t);
	}
	if (c->mode == CONFIG_MODE_ROUTE) {
		ev_timer_init(&L->fwd_t, fwd_cb, LOOP_FWD_TICK_S, LOOP_FWD_TICK_S);
		L->fwd_t.data = L;
		ev_timer_start(L->ev, &L->fwd_t);
	}
	ev_signal_init(&L->sig_int, sig_stop_cb, SIGINT);
	ev_signal_init(&L->sig_term, sig_stop_cb, SIGTERM);
	ev_signal_init(&L->sig_hup, sig_hup_cb, SIGHUP);
	ev_signal_init(&L->sig_usr1, sig_usr1_cb, SIGUSR1);
	L->sig_hup.data = L;
	L->sig_usr1.data = L;
	ev_signal_start(L->ev, &L->sig_int);
	ev_signal_start(L->ev, &L->sig_term);
	ev_signal_start(L->ev, &L->sig_hup);
	ev_signal_start(L->ev, &L->sig_usr1);
}

/* Everything accepted goes out (or is counted) before we exit. */
static void finish(struct loop *L)
{
	unsigned int i;

	if (!L->offline)
		L->now_ns = mono_ns();
	for (i = 0; i < FWD_NPORTS; i++)
		if (L->p[i].gro)
			gro_flush_all(L->p[i].gro, FLUSH_EXIT);
	for (i = 0; i < FWD_NPORTS; i++) {
		port_tx_drain(&L->p[i].port, LOOP_DRAIN_MS);
		port_stats_sync(&L->p[i].port);
	}
}

static int write_stats_json(struct loop *L, const char *path)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	unsigned int i;
	int bad;

	if (!f) {
		log_err("%s: %s", path, strerror(errno));
		return -errno;
	}
	for (i = 0; i < FWD_NPORTS; i++)
		stats_print(f, L->p[i].port.name, &L->p[i].stats, 1);
	bad = ferror(f);
	bad |= f != stdout ? fclose(f) : fflush(f);
	if (bad) {
		log_err("%s: write error", path);
		return -EIO;
	}
	return 0;
}

static void teardown(struct loop *L)
{
	unsigned int i;

	if (L->ev) {
		for (i = 0; i < FWD_NPORTS; i++)
			ev_io_stop(L->ev, &L->p[i].rx_w);
		if (L->mon)
			ev_io_stop(L->ev, &L->mon_w);
	}
	nl_mon_close(L->mon);
	if (L->fwd)
		fwd_destroy(L->fwd);
	for (i = 0; i < FWD_NPORTS; i++) {
		if (L->p[i].gro)
			gro_destroy(L->p[i].gro);
		port_close(&L->p[i].port);
	}
	log_agg_close(&L->log);
	if (L->pool.pkts)
		pkt_pool_destroy(&L->pool);
	free(L->rxb);
	if (L->ev)
		ev_loop_destroy(L->ev);
}

int loop_run(const struct config *c)
{
	struct loop *L;
	int status = 1;
	unsigned int i;

	/* the log buffer makes it large: keep it off the stack */
	L = calloc(1, sizeof(*L));
	if (!L) {
		log_err("out of memory");
		return 1;
	}
	L->c = c;
	L->log.fd = -1;
	L->p[0].port.fd = L->p[1].port.fd = -1;
	/* a reader of --log-aggregates=- or of stats that went away must
	 * not kill us before the counters are out */
	signal(SIGPIPE, SIG_IGN);
	L->ev = ev_default_loop(EVFLAG_AUTO);
	if (!L->ev) {
		log_err("cannot start the event loop");
		goto out;
	}
	if (setup(L))
		goto out;
	log_info("forwarding %s <-> %s (%s mode, GRO %s, GSO %s)", c->lan,
		 c->wan, c->mode == CONFIG_MODE_BRIDGE ? "bridge" : "route",
		 c->gro_on ? "on" : "off",
		 c->gso == CONFIG_GSO_SOFTWARE ? "software" :
		 c->gso == CONFIG_GSO_OFFLOAD ? "offload" : "auto");
	if (L->offline) {
		if (c->stats_interval)
			log_warn("--stats-interval: pcap ports run by the "
				 "captures' clock; the counters come at the end");
		/* an input that cannot be read: the message and status 1,
		 * as for replay (what was sent so far is in the outputs) */
		if (run_offline(L) == -EIO) {
			finish(L);
			status = 1;
			goto out;
		}
	} else {
		start_watchers(L);
		ev_run(L->ev, 0);
	}

	finish(L);
	if (L->offline)
		offline_hints(L);
	if (log_agg_flush(&L->log))
		log_warn("%s: cannot write the aggregate log", c->log_path);
	for (i = 0; i < FWD_NPORTS; i++)
		if (port_pcap_flush(&L->p[i].port))
			L->failed = 1;
	print_stats(L);
	status = L->failed;
	if (c->stats_json && write_stats_json(L, c->stats_json))
		status = 1;
out:
	teardown(L);
	free(L);
	return status;
}
