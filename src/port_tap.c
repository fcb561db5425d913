/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * port_tap: a TAP device with IFF_VNET_HDR and a 12-byte header.
 *
 * TUNSETOFFLOAD says what grogso accepts from the kernel: with offloads
 * the kernel hands over super-packets and partial checksums as they are,
 * without them it segments and checksums first.  Writes with GSO
 * metadata are accepted either way, so a TAP always takes super-packets.
 *
 * The fd outlives the device's namespace: a TAP may be moved into a
 * client namespace (the VM case) and grogso goes on reading and writing
 * it; only its netlink events stop reaching us.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "grogso/log.h"
#include "grogso/nl.h"
#include "grogso/port.h"

#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20                 /* Linux 6.2 */
#define TUN_F_USO6 0x40
#endif

#define TAP_GSO_MAX_DEFAULT 65536

/* Offload sets to try, most first; the kernel refuses what it lacks. */
static const unsigned int tap_offloads[] = {
	TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN | TUN_F_USO4 |
		TUN_F_USO6,
	TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN,
	TUN_F_CSUM,
};

static void offload_name(unsigned int f, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s%s", f ? "" : "none",
		 f & TUN_F_CSUM ? "csum" : "", f & TUN_F_TSO4 ? " tso4" : "",
		 f & TUN_F_TSO6 ? " tso6" : "", f & TUN_F_TSO_ECN ? " tso-ecn" : "",
		 f & TUN_F_USO4 ? " uso4 uso6" : "");
}

static int set_offload(struct port *pt, int want)
{
	unsigned int i;

	if (!want) {
		pt->u.tap.offload = 0;
		return ioctl(pt->fd, TUNSETOFFLOAD, 0UL) ? -errno : 0;
	}
	for (i = 0; i < sizeof(tap_offloads) / sizeof(tap_offloads[0]); i++) {
		if (!ioctl(pt->fd, TUNSETOFFLOAD, (unsigned long)tap_offloads[i])) {
			pt->u.tap.offload = tap_offloads[i];
			return 0;
		}
		if (errno != EINVAL)
			return -errno;
	}
	return -EINVAL;
}

/*
 * A locally administered MAC from the device name.  Route mode must not
 * use the TAP netdev's own MAC: a bridge delivers frames for that MAC to
 * the host instead of forwarding them to the TAP.
 */
static void tap_mac(const char *name, uint8_t mac[6])
{
	uint32_t h = 2166136261u;       /* FNV-1a */

	for (; *name; name++)
		h = (h ^ (uint8_t)*name) * 16777619u;
	mac[0] = 0x02;
	mac[1] = 0x67;                  /* 'g' */
	mac[2] = (uint8_t)(h >> 24);
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

/* Why TUNSETIFF on an existing name failed, as tun_set_iff decides. */
static void tunsetiff_err(const struct port *pt, int err)
{
	const char *why = "";
	struct nl_link l;

	if (err == EINVAL) {
		int ether = !nl_link_get(pt->ifname, &l) &&
			    l.type == ARPHRD_ETHER;

		log_err("%s: tap %s: %s (an interface of that name exists and "
			"is not a single-queue TAP%s%s%s)", pt->name, pt->ifname,
			strerror(err), ether ? "; packet:" : "",
			ether ? pt->ifname : "",
			ether ? " would read it as an Ethernet interface" : "");
		return;
	}
	if (err == EBUSY)
		why = " (another process has this TAP open)";
	else if (err == EPERM)
		why = " (the TAP belongs to another user or group, or grogso "
		      "lacks CAP_NET_ADMIN)";
	log_err("%s: tap %s: %s%s", pt->name, pt->ifname, strerror(err), why);
}

static int tap_open(struct port *pt, const struct config *c)
{
	struct ifreq ifr;
	struct nl_link l;
	int sz = VNET_HDR_LEN, err;
	char off[64];

	pt->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (pt->fd < 0) {
		err = -errno;
		log_err("%s: /dev/net/tun: %s%s", pt->name, strerror(errno),
			errno == EACCES || errno == EPERM ?
			" (TAP ports need root, or CAP_NET_ADMIN)" :
			errno == ENOENT || errno == ENODEV ?
			" (no TUN/TAP driver: modprobe tun)" : "");
		return err;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", pt->ifname);
	if (ioctl(pt->fd, TUNSETIFF, &ifr)) {
		err = -errno;
		tunsetiff_err(pt, errno);
		return err;
	}
	if (ioctl(pt->fd, TUNSETVNETHDRSZ, &sz)) {
		err = -errno;
		log_err("%s: tap %s: TUNSETVNETHDRSZ: %s", pt->name,
			pt->ifname, strerror(errno));
		return err;
	}
	pt->vnet_len = VNET_HDR_LEN;
	err = set_offload(pt, c->tap_offload);
	if (err) {
		log_err("%s: tap %s: TUNSETOFFLOAD: %s", pt->name, pt->ifname,
			strerror(-err));
		return err;
	}
	offload_name(pt->u.tap.offload, off, sizeof(off));

	err = nl_link_get(pt->ifname, &l);
	if (!err)
		err = nl_link_set_up(l.ifindex);
	if (err) {
		log_err("%s: tap %s: cannot bring the link up: %s", pt->name,
			pt->ifname, strerror(-err));
		return err;
	}
	pt->caps.gso = 1;
	pt->caps.csum = 1;
	pt->caps.mtu = l.mtu;
	pt->caps.ifindex = l.ifindex;
	pt->caps.gso_max_size = l.gso_max_size ? l.gso_max_size :
						 TAP_GSO_MAX_DEFAULT;
	pt->u.tap.tx_dropped = l.tx_dropped;
	pt->u.tap.nsid = -1;
	tap_mac(pt->ifname, pt->caps.mac);
	/* The carrier follows the fd, which we hold: the link is ours. */
	pt->link_up = 1;
	log_info("%s: tap:%s ifindex %d MAC " MAC_FMT " (grogso's) MTU %u "
		 "gso_max_size %u, offloads negotiated: %s; queue to grogso: "
		 "%u frames (txqueuelen)", pt->name, pt->ifname, l.ifindex,
		 MAC_ARGS(pt->caps.mac), l.mtu, pt->caps.gso_max_size, off,
		 l.txqlen);
	return 0;
}

static int tap_rx(struct port *pt, struct pkt **pkts, unsigned int max)
{
	unsigned int n = 0;
	struct pkt *p;
	ssize_t len;

	if (!max)
		return 0;
	while (n < max) {
		p = pkt_alloc(pt->pool);
		if (!p) {
			/* a frame must still leave the device queue */
			uint8_t scratch[VNET_HDR_LEN];

			len = read(pt->fd, scratch, sizeof(scratch));
			if (len < 0)
				break;
			pt->stats->rx_pkts++;
			pt->stats->drop[DROP_NO_BUFFER]++;
			continue;
		}
		/* read, not readv: one buffer needs no iovec copied in */
		len = read(pt->fd, p->data - VNET_HDR_LEN,
			   VNET_HDR_LEN + PKT_DATA_MAX);
		if (len < 0) {
			pkt_free(pt->pool, p);
			break;
		}
		if (len < VNET_HDR_LEN) {
			pt->stats->rx_pkts++;
			pt->stats->drop[DROP_VNET_SHORT]++;
			pkt_free(pt->pool, p);
			continue;
		}
		p->len = (uint32_t)len - VNET_HDR_LEN;
		pkts[n++] = p;
	}
	if (n || errno == EAGAIN || errno == EINTR)
		return (int)n;
	return -errno;
}

static unsigned int tap_tx(struct port *pt, struct port_txf *f,
			   unsigned int n, int *err)
{
	unsigned int i = 0;

	/* one write per frame: a TAP has no batch write */
	while (i < n) {
		if (writev(pt->fd, f[i].iov, (int)f[i].iovcnt) >= 0) {
			i++;
		} else if (errno != EINTR) {
			*err = errno;
			break;
		}
	}
	return i;
}

/*
 * What the kernel dropped on its way to grogso: a frame the TAP device
 * transmits (its frames for grogso) finds grogso's queue full (its
 * txqueuelen) and counts a tx drop.  Read from the device's counters,
 * here or in the namespace it was moved to.
 */
static void tap_stats_sync(struct port *pt)
{
	struct nl_link l;
	uint64_t d;

	if (pt->detached) {
		if (pt->u.tap.nsid < 0 || !pt->u.tap.ifindex ||
		    nl_link_get_in(pt->u.tap.nsid, pt->u.tap.ifindex, &l))
			return;
	} else if (!pt->caps.ifindex || nl_link_get(pt->ifname, &l) ||
		   l.ifindex != pt->caps.ifindex) {
		return;
	}
	if (l.tx_dropped <= pt->u.tap.tx_dropped)
		return;
	d = l.tx_dropped - pt->u.tap.tx_dropped;
	pt->u.tap.tx_dropped = l.tx_dropped;
	pt->stats->rx_pkts += d;
	pt->stats->drop[DROP_RING_FULL] += d;
}

static void tap_close(struct port *pt)
{
	if (pt->fd >= 0)
		close(pt->fd);
}

const struct port_ops port_tap_ops = {
	.kind = "tap",
	.open = tap_open,
	.rx_batch = tap_rx,
	.tx = tap_tx,
	.stats_sync = tap_stats_sync,
	.close = tap_close,
};
