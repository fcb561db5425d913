/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * port_packet: an AF_PACKET SOCK_RAW socket bound to one interface, with
 * PACKET_VNET_HDR (10-byte header), written with sendmmsg.  Super-packets
 * are always accepted: the kernel segments them itself when the device
 * cannot (validate_xmit_skb).
 *
 * Receive goes through a ring mapped into our memory or through recvmmsg
 * (--packet-ring).  With a ring the kernel copies each frame into it in
 * softirq context, on whichever CPU receives it, and a busy port is read
 * with no system call at all: the copy and the per-skb work of recvmmsg
 * leave grogso's CPU.  Two kinds of ring:
 *
 *  - slots (TPACKET_V2, the default): a slot per frame, and a wakeup per
 *    frame, so nothing waits in the kernel.  A frame larger than a slot (a
 *    super-packet from a peer with TSO, or from kernel GRO) is cut in the
 *    slot, flagged TP_STATUS_COPY, and queued whole on the socket as well
 *    (PACKET_COPY_THRESH), from where we read it with recvmsg.  For every
 *    frame it adds, the kernel reads the status of the slot a quarter of
 *    the ring ahead, a cache miss more often than not.
 *
 *  - blocks (TPACKET_V3): frames are packed one behind the other into
 *    128 KiB blocks (a 64 KiB super-packet fits whole), and a block comes
 *    to us when it is full or when its timer (RING_BLOCK_TOV_MS) runs
 *    out.  Per frame the kernel does less (no wakeup, no look-ahead miss)
 *    and grogso reads frames in larger batches: more throughput, but at
 *    light load every frame waits for the timer (a ping across grogso
 *    takes 1 to 1.5 ms instead of about 0.2), and batches, which end
 *    aggregates, follow the blocks rather than the arrival of frames.
 *
 * A frame in the ring is not copied out: the packet borrows its slot or
 * block (pkt.h, struct pkt_lend) and lets go of it when it is freed,
 * normally once the batch it came in has been written out; the reader
 * holds a block too while it walks it.  The kernel fills slots and blocks
 * in order and stops at one still in use, so none may stay borrowed for
 * long: at the end of every batch (port_rx_done) whatever still borrows
 * from it (an aggregate GRO holds across batches, a frame waiting for a
 * neighbour) is copied into its own buffer.  The ring's size
 * (--packet-ring-frames) trades cache for slack: 16384 slots make the
 * look-ahead miss more, while 1024 overflow whenever grogso is off its
 * CPU for a couple of milliseconds (a busy virtual machine: the losses
 * cost TCP far more than the cache misses).  The default, 4096 frames'
 * worth, lost nothing in the same runs.
 *
 * The kernel takes a VLAN tag out of a received frame into metadata
 * (skb_vlan_untag, before the packet taps): both ways of receiving put it
 * back where the wire had it, from the ring slot's tp_vlan_tci or from
 * PACKET_AUXDATA, so that bridging keeps tags and GRO keeps VLANs apart
 * (a ring of blocks has the tag in the frame's tpacket3_hdr).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "grogso/log.h"
#include "grogso/nl.h"
#include "grogso/port.h"

#define PACKET_SOCKBUF (32 << 20)       /* a few ms of 10 Gbit/s in either direction */
#define PACKET_GSO_MAX_DEFAULT 65536    /* GSO_LEGACY_MAX_SIZE when not reported */
#define RING_BLOCK (1u << 20)           /* at most one physically contiguous run of pages */
#define RING_SLOT_MIN 2048u
/* TPACKET_V3 (--packet-ring=blocks): a block holds a 64 KiB super-packet
 * whole, and comes to us when full or when this timer runs out */
#define RING_V3_BLOCK (128u << 10)
#define RING_V3_BLOCKS_MIN 4
#define RING_BLOCK_TOV_MS 1
/* tpacket2_hdr + sockaddr_ll, aligned, + the vnet header: 90 bytes before
 * the network header on this kernel (tpacket_rcv's netoff); with margin */
#define RING_SLOT_HEAD 128u
#define RING_VLAN_ETH 18u               /* Ethernet header with one VLAN tag */
/* a slot's frame can be borrowed when the bytes pkt_unborrow copies in
 * front of it do not reach into the slot's tpacket2_hdr */
#define RING_BORROW_MAC (TPACKET_ALIGN(sizeof(struct tpacket2_hdr)) + \
			 PKT_BORROW_HEAD)
#define RING_BORROW_MAC3 (TPACKET_ALIGN(sizeof(struct tpacket3_hdr)) + \
			  PKT_BORROW_HEAD)
#define VLAN_TAG_LEN 4
#define ETH_ADDRS_LEN 12                /* destination and source MAC */
#define AUX_SPACE CMSG_SPACE(sizeof(struct tpacket_auxdata))

/* The receive offloads that hide segments (and the fixed-ID bit). */
static const char *const kgro_names[3] = {
	"rx-gro", "rx-gro-list", "rx-udp-gro-forwarding",
};

static void set_bufsize(int fd, int force, int plain, const char *what,
			const struct port *pt)
{
	int size = PACKET_SOCKBUF;

	/* FORCE passes rmem_max/wmem_max, which only root may */
	if (!setsockopt(fd, SOL_SOCKET, force, &size, sizeof(size)))
		return;
	if (setsockopt(fd, SOL_SOCKET, plain, &size, sizeof(size)))
		log_warn("%s: %s: cannot set %s: %s", pt->name, pt->ifname,
			 what, strerror(errno));
}

static void kernel_gro_check(struct port *pt, const struct config *c)
{
	int on[3], off[3], err;
	unsigned int i, any = 0;

	err = nl_features_get(pt->ifname, kgro_names, 3, on);
	if (err) {
		log_warn("%s: %s: cannot read the ethtool features: %s",
			 pt->name, pt->ifname, strerror(-err));
		return;
	}
	for (i = 0; i < 3; i++) {
		any |= on[i] > 0;
		off[i] = on[i] > 0 ? 0 : -1;
	}
	if (!any)
		return;
	if (c->kernel_gro != CONFIG_KGRO_OFF) {
		char list[64] = "";

		for (i = 0; i < 3; i++)
			if (on[i] > 0)
				snprintf(list + strlen(list),
					 sizeof(list) - strlen(list), "%s%s",
					 *list ? ", " : "", kgro_names[i]);
		log_warn("%s: %s: kernel %s %s on: segments arrive merged and "
			 "the fixed-ID bit is lost (--kernel-gro=off turns %s off)",
			 pt->name, pt->ifname, list, strchr(list, ',') ? "are" : "is",
			 strchr(list, ',') ? "them" : "it");
		return;
	}
	err = nl_features_set(pt->ifname, kgro_names, off, 3);
	if (err) {
		log_warn("%s: %s: cannot turn kernel GRO off: %s", pt->name,
			 pt->ifname, strerror(-err));
		return;
	}
	memcpy(pt->u.packet.kgro_saved, on, sizeof(on));
	pt->u.packet.kgro_changed = 1;
	log_info("%s: %s: kernel GRO turned off until exit", pt->name,
		 pt->ifname);
}

/* The first character of /proc/sys/net/@proto/conf/@dev/@key, or 0. */
static char sysctl_char(const char *proto, const char *dev, const char *key)
{
	char path[128], v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", proto,
		 dev, key);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fread(&v, 1, 1, f) != 1)
		v = 0;
	fclose(f);
	return v;
}

/* The address bytes of an IPv4 or IPv6 @sa, their count in @len; NULL
 * for another family. */
static const uint8_t *sa_bytes(const struct sockaddr *sa, unsigned int *len)
{
	const void *v = sa;

	if (sa->sa_family == AF_INET) {
		*len = 4;
		return (const uint8_t *)&((const struct sockaddr_in *)v)->sin_addr;
	}
	if (sa->sa_family == AF_INET6) {
		*len = 16;
		return (const uint8_t *)&((const struct sockaddr_in6 *)v)->sin6_addr;
	}
	return NULL;
}

/*
 * Route mode on a packet port: grogso is the router of this link, so the
 * kernel of this namespace must not be one too.  Forwarding on, it routes
 * every datagram a second time; an address of its own here, it answers
 * ARP, neighbour solicitations and pings for it beside grogso.  Said
 * once at start, with the fix.
 */
static void kernel_stack_check(const struct port *pt)
{
	struct ifaddrs *ifa, *i;
	char a[INET6_ADDRSTRLEN];

	if (sysctl_char("ipv4", pt->ifname, "forwarding") == '1')
		log_warn("%s: %s: the kernel forwards IPv4 here too: datagrams "
			 "that reach its IP layer are routed twice (sysctl -w "
			 "net.ipv4.conf.%s.forwarding=0, or drop them at tc ingress "
			 "as lab/up.sh does)", pt->name, pt->ifname, pt->ifname);
	if (sysctl_char("ipv6", pt->ifname, "disable_ipv6") == '0' &&
	    sysctl_char("ipv6", "all", "forwarding") == '1')
		log_warn("%s: %s: the kernel forwards IPv6 too: datagrams that "
			 "reach its IP layer are routed twice (sysctl -w "
			 "net.ipv6.conf.all.forwarding=0, or drop them at tc ingress "
			 "as lab/up.sh does)", pt->name, pt->ifname);
	if (getifaddrs(&ifa))
		return;
	for (i = ifa; i; i = i->ifa_next) {
		const uint8_t *x, *m;
		unsigned int plen = 0, k, len;

		if (!i->ifa_addr || strcmp(i->ifa_name, pt->ifname))
			continue;
		x = sa_bytes(i->ifa_addr, &len);
		/* its link-local address is grogso's too: the same answers,
		 * from the same MAC */
		if (!x || (len == 16 && x[0] == 0xfe && (x[1] & 0xc0) == 0x80))
			continue;
		if (!inet_ntop(i->ifa_addr->sa_family, x, a, sizeof(a)))
			continue;
		m = i->ifa_netmask ? sa_bytes(i->ifa_netmask, &k) : NULL;
		for (k = 0; m && k < len * 8 && (m[k / 8] & (0x80 >> (k % 8)));
		     k++)
			plen++;
		log_warn("%s: %s: the kernel holds %s/%u here and answers for it "
			 "beside grogso (ip addr del %s/%u dev %s)", pt->name,
			 pt->ifname, a, plen, a, plen, pt->ifname);
	}
	freeifaddrs(ifa);
}

/*
 * Map a receive ring for @frames frames of the link's MTU: TPACKET_V2
 * slots of that size, or (@blocks) TPACKET_V3 blocks holding as many
 * bytes.  Must run before bind, after PACKET_VNET_HDR (the kernel refuses
 * to change the header size once a ring exists).  Returns 0 or a negative
 * errno; on error the socket is left without a ring.
 */
static int ring_setup(struct port *pt, unsigned int mtu, uint32_t frames,
		      int blocks)
{
	struct tpacket_req3 req;
	uint32_t slot = RING_SLOT_MIN, per_block = 1, block = 0, i;
	int v = blocks ? TPACKET_V3 : TPACKET_V2, one = 1;
	size_t len;
	void *m;

	while (slot < RING_SLOT_HEAD + RING_VLAN_ETH + mtu)
		slot <<= 1;
	if (slot > RING_BLOCK)
		return -EMSGSIZE;
	memset(&req, 0, sizeof(req));
	if (blocks) {
		/* room for @frames slots' worth of bytes, in whole blocks;
		 * frame size and count only pass the kernel's checks: frames
		 * are packed into a block one behind the other */
		block = slot > RING_V3_BLOCK ? slot : RING_V3_BLOCK;
		req.tp_block_size = block;
		req.tp_block_nr = (uint32_t)(((uint64_t)frames * slot +
					      block - 1) / block);
		if (req.tp_block_nr < RING_V3_BLOCKS_MIN)
			req.tp_block_nr = RING_V3_BLOCKS_MIN;
		req.tp_frame_size = slot;
		req.tp_frame_nr = req.tp_block_nr * (block / slot);
		req.tp_retire_blk_tov = RING_BLOCK_TOV_MS;
	} else {
		/* slots per block: a power of two, so that a block (slot size
		 * times that) is a whole number of pages */
		while (per_block * 2 <= RING_BLOCK / slot &&
		       per_block * 2 <= frames)
			per_block *= 2;
		req.tp_block_size = slot * per_block;
		req.tp_block_nr = (frames + per_block - 1) / per_block;
		req.tp_frame_size = slot;
		req.tp_frame_nr = req.tp_block_nr * per_block;
	}
	if (setsockopt(pt->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) ||
	    (!block && setsockopt(pt->fd, SOL_PACKET, PACKET_COPY_THRESH, &one,
				  sizeof(one))) ||
	    setsockopt(pt->fd, SOL_PACKET, PACKET_RX_RING, &req,
		       block ? sizeof(req) : sizeof(struct tpacket_req)))
		return -errno;
	len = (size_t)req.tp_block_size * req.tp_block_nr;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, pt->fd, 0);
	if (m == MAP_FAILED) {
		int err = -errno;

		memset(&req, 0, sizeof(req));
		setsockopt(pt->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req));
		return err;
	}
	pt->u.packet.ring_blocks = !!block;
	pt->u.packet.unit_size = block ? block : slot;
	pt->u.packet.unit_nr = block ? req.tp_block_nr : req.tp_frame_nr;
	pt->u.packet.lend = calloc(pt->u.packet.unit_nr,
				   sizeof(*pt->u.packet.lend));
	pt->u.packet.lent = calloc(pt->batch, sizeof(*pt->u.packet.lent));
	if (!pt->u.packet.lend || !pt->u.packet.lent) {
		munmap(m, len);
		memset(&req, 0, sizeof(req));
		setsockopt(pt->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req));
		return -ENOMEM;
	}
	for (i = 0; i < pt->u.packet.unit_nr; i++) {
		uint8_t *u = (uint8_t *)m + (size_t)i * pt->u.packet.unit_size;

		pt->u.packet.lend[i].status = block ?
			&((struct tpacket_block_desc *)(void *)u)->hdr.bh1.block_status :
			&((struct tpacket2_hdr *)(void *)u)->tp_status;
	}
	pt->u.packet.ring = m;
	pt->u.packet.ring_len = len;
	pt->u.packet.head = 0;
	pt->u.packet.blk_left = 0;
	pt->u.packet.nlent = 0;
	return 0;
}

/* What a link type that is not Ethernet is, for the message refusing it. */
static const char *link_type_name(uint16_t type)
{
	static char num[24];

	switch (type) {
	case ARPHRD_LOOPBACK:
		return "loopback";
	case ARPHRD_NONE:
		return "layer 3 only, as a TUN or a WireGuard device";
	case ARPHRD_TUNNEL:
	case ARPHRD_TUNNEL6:
	case ARPHRD_SIT:
	case ARPHRD_IPGRE:
		return "an IP tunnel";
	case ARPHRD_PPP:
		return "PPP";
	case ARPHRD_INFINIBAND:
		return "InfiniBand";
	default:
		snprintf(num, sizeof(num), "link type %u", type);
		return num;
	}
}

static int packet_open(struct port *pt, const struct config *c)
{
	struct sockaddr_ll sll;
	struct nl_link l;
	char tov[64] = "";
	int one = 1, fd, err;

	err = nl_link_get(pt->ifname, &l);
	if (err == -ENODEV) {
		log_err("%s: no interface %s in this network namespace (ip link "
			"lists them; tap:%s would create a TAP)", pt->name,
			pt->ifname, pt->ifname);
		return err;
	}
	if (err) {
		log_err("%s: %s: %s", pt->name, pt->ifname, strerror(-err));
		return err;
	}
	if (l.type != ARPHRD_ETHER) {
		log_err("%s: %s is not an Ethernet interface (%s): grogso "
			"forwards Ethernet frames; use a veth, a NIC, a bridge "
			"or a TAP", pt->name, pt->ifname, link_type_name(l.type));
		return -EPROTONOSUPPORT;
	}
	if (l.master) {
		char m[IF_NAMESIZE];

		if (!if_indextoname((unsigned int)l.master, m))
			snprintf(m, sizeof(m), "ifindex %d", l.master);
		log_warn("%s: %s is enslaved to %s: if that is a bridge, the "
			 "kernel forwards its frames too, beside grogso (ip link "
			 "set %s nomaster)", pt->name, pt->ifname, m, pt->ifname);
	}
	pt->vnet_len = VNET_HDR_LEN_LEGACY;
	pt->caps.gso = 1;
	pt->caps.csum = 1;
	pt->caps.mtu = l.mtu;
	memcpy(pt->caps.mac, l.mac, 6);
	pt->caps.ifindex = l.ifindex;
	pt->caps.gso_max_size = l.gso_max_size ? l.gso_max_size :
						 PACKET_GSO_MAX_DEFAULT;
	pt->link_up = l.carrier;

	pt->u.packet.rx_msgs = calloc(pt->batch, sizeof(struct mmsghdr));
	pt->u.packet.rx_iovs = calloc(pt->batch, sizeof(struct iovec));
	pt->u.packet.rx = calloc(pt->batch, sizeof(struct pkt *));
	pt->u.packet.tx_msgs = calloc(PORT_TX_MAX, sizeof(struct mmsghdr));
	/* cmsg buffers must be aligned as struct cmsghdr: calloc's are */
	pt->u.packet.rx_cmsg = calloc(pt->batch, AUX_SPACE);
	if (!pt->u.packet.rx_msgs || !pt->u.packet.rx_iovs ||
	    !pt->u.packet.rx || !pt->u.packet.tx_msgs ||
	    !pt->u.packet.rx_cmsg) {
		log_err("%s: out of memory", pt->name);
		return -ENOMEM;
	}

	/* protocol 0: nothing is queued before the socket is set up */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		log_err("%s: AF_PACKET socket: %s%s", pt->name, strerror(errno),
			errno == EPERM || errno == EACCES ?
			" (packet ports need root, or CAP_NET_RAW)" : "");
		return err;
	}
	pt->fd = fd;
	if (setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one))) {
		err = -errno;
		log_err("%s: %s: PACKET_VNET_HDR: %s", pt->name, pt->ifname,
			strerror(errno));
		return err;
	}
	/* VLAN tags the kernel took out of frames (see the top) */
	if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one))) {
		err = -errno;
		log_err("%s: %s: PACKET_AUXDATA: %s", pt->name, pt->ifname,
			strerror(errno));
		return err;
	}
	/* our own frames would come back as PACKET_OUTGOING */
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one,
		       sizeof(one))) {
		err = -errno;
		log_err("%s: %s: PACKET_IGNORE_OUTGOING: %s", pt->name,
			pt->ifname, strerror(errno));
		return err;
	}
	set_bufsize(fd, SO_RCVBUFFORCE, SO_RCVBUF, "the receive buffer", pt);
	set_bufsize(fd, SO_SNDBUFFORCE, SO_SNDBUF, "the send buffer", pt);
	if (c->packet_ring != CONFIG_RING_OFF) {
		err = ring_setup(pt, l.mtu, c->packet_ring_frames,
				 c->packet_ring == CONFIG_RING_BLOCKS);
		if (err)
			log_warn("%s: %s: no receive ring (%s): reading with "
				 "recvmmsg", pt->name, pt->ifname,
				 strerror(-err));
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = l.ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		err = -errno;
		log_err("%s: %s: bind: %s", pt->name, pt->ifname,
			strerror(errno));
		return err;
	}
	if (c->mode == CONFIG_MODE_BRIDGE) {
		/* a bridge takes frames for every MAC, not just the port's */
		struct packet_mreq mr = {
			.mr_ifindex = l.ifindex, .mr_type = PACKET_MR_PROMISC,
		};

		if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr,
			       sizeof(mr)))
			log_warn("%s: %s: promiscuous mode: %s", pt->name,
				 pt->ifname, strerror(errno));
	}
	kernel_gro_check(pt, c);
	if (c->mode == CONFIG_MODE_ROUTE)
		kernel_stack_check(pt);
	if (pt->u.packet.ring_blocks)
		snprintf(tov, sizeof(tov), " (each handed over full, or by a "
			 "timer of %u ms)", RING_BLOCK_TOV_MS);
	if (pt->u.packet.ring)
		log_info("%s: packet:%s ifindex %d MAC " MAC_FMT " MTU %u "
			 "gso_max_size %u carrier %s, receive: ring of %u %s of "
			 "%u bytes%s", pt->name, pt->ifname, l.ifindex,
			 MAC_ARGS(l.mac), l.mtu,
			 pt->caps.gso_max_size, l.carrier ? "on" : "off",
			 pt->u.packet.unit_nr,
			 pt->u.packet.ring_blocks ? "blocks" : "slots",
			 pt->u.packet.unit_size, tov);
	else
		log_info("%s: packet:%s ifindex %d MAC " MAC_FMT " MTU %u "
			 "gso_max_size %u carrier %s, receive: recvmmsg",
			 pt->name, pt->ifname, l.ifindex, MAC_ARGS(l.mac), l.mtu,
			 pt->caps.gso_max_size,
			 l.carrier ? "on" : "off");
	return 0;
}

/* Read and count one frame the pool has no buffer for. */
static int packet_discard(struct port *pt)
{
	if (recv(pt->fd, NULL, 0, MSG_DONTWAIT | MSG_TRUNC) < 0)
		return errno == EAGAIN ? 0 : -errno;
	pt->stats->rx_pkts++;
	pt->stats->drop[DROP_NO_BUFFER]++;
	return 1;
}

/*
 * Give @p the untagged frame at @src (@len bytes, its vnet header just
 * before it) with the tag @tpid/@tci the kernel moved into metadata put
 * back after the MAC addresses: one copy, whether @src is a ring slot or
 * @p's own data.  A NEEDS_CSUM offset counts from the frame's start, so it
 * moves too.  Returns 0, or -EMSGSIZE when the frame has no room to grow.
 */
static int vlan_put_back(struct pkt *p, const uint8_t *src, uint32_t len,
			 uint16_t tpid, uint16_t tci)
{
	uint8_t *d = p->data;
	struct vnet_hdr h;

	if (len < ETH_ADDRS_LEN || len + VLAN_TAG_LEN > PKT_DATA_MAX)
		return -EMSGSIZE;
	/* the tail first: in place, the head has not moved yet */
	memmove(d + ETH_ADDRS_LEN + VLAN_TAG_LEN, src + ETH_ADDRS_LEN,
		len - ETH_ADDRS_LEN);
	memmove(d - VNET_HDR_LEN_LEGACY, src - VNET_HDR_LEN_LEGACY,
		VNET_HDR_LEN_LEGACY + ETH_ADDRS_LEN);
	d[12] = (uint8_t)(tpid >> 8);
	d[13] = (uint8_t)tpid;
	d[14] = (uint8_t)(tci >> 8);
	d[15] = (uint8_t)tci;
	p->len = len + VLAN_TAG_LEN;
	vnet_read(&h, d - VNET_HDR_LEN_LEGACY, VNET_HDR_LEN_LEGACY,
		  VNET_HDR_LEN_LEGACY);
	if (h.flags & VNET_F_NEEDS_CSUM)
		h.csum_start = (uint16_t)(h.csum_start + VLAN_TAG_LEN);
	if (h.hdr_len)
		h.hdr_len = (uint16_t)(h.hdr_len + VLAN_TAG_LEN);
	vnet_write(&h, d - VNET_HDR_LEN_LEGACY, VNET_HDR_LEN_LEGACY);
	return 0;
}

/* The tag PACKET_AUXDATA reports for a received message, if any: 1 and
 * @tpid/@tci set, or 0. */
static int aux_vlan(struct msghdr *m, uint16_t *tpid, uint16_t *tci)
{
	struct tpacket_auxdata aux;
	struct cmsghdr *c;

	for (c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA ||
		    c->cmsg_len < CMSG_LEN(sizeof(aux)))
			continue;
		memcpy(&aux, CMSG_DATA(c), sizeof(aux));
		if (!(aux.tp_status & TP_STATUS_VLAN_VALID))
			return 0;
		*tci = aux.tp_vlan_tci;
		*tpid = (aux.tp_status & TP_STATUS_VLAN_TPID_VALID) ?
			aux.tp_vlan_tpid : ETHTYPE_VLAN;
		return 1;
	}
	return 0;
}

/*
 * A frame just read into @p: put its VLAN tag back when @m says it had
 * one.  Returns 0, or -1 after counting a drop.
 */
static int rx_vlan(struct port *pt, struct pkt *p, struct msghdr *m)
{
	uint16_t tpid, tci;

	if (!aux_vlan(m, &tpid, &tci) ||
	    !vlan_put_back(p, p->data, p->len, tpid, tci))
		return 0;
	pt->stats->drop[DROP_IP_LEN]++;
	return -1;
}

/* The kernel flags a slot TP_STATUS_LOSING while it has dropped frames
 * for want of a free slot: collect its count (reading resets it). */
static void ring_count_losses(struct port *pt)
{
	struct tpacket_stats st;
	socklen_t len = sizeof(st);

	if (getsockopt(pt->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len))
		return;
	pt->stats->rx_pkts += st.tp_drops;
	pt->stats->drop[DROP_RING_FULL] += st.tp_drops;
}

/* Read the frame the kernel queued whole beside a TP_STATUS_COPY slot. */
static int ring_read_copy(struct port *pt, struct pkt *p)
{
	union {
		uint8_t b[AUX_SPACE];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {
		.iov_base = p->data - VNET_HDR_LEN_LEGACY,
		.iov_len = VNET_HDR_LEN_LEGACY + PKT_DATA_MAX,
	};
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.b, .msg_controllen = sizeof(ctl.b),
	};
	ssize_t len;

	len = recvmsg(pt->fd, &m, MSG_DONTWAIT | MSG_TRUNC);
	if (len < VNET_HDR_LEN_LEGACY) {
		pt->stats->drop[DROP_VNET_SHORT]++;
		return -1;
	}
	if ((size_t)len > VNET_HDR_LEN_LEGACY + PKT_DATA_MAX) {
		pt->stats->drop[DROP_IP_LEN]++;
		return -1;
	}
	p->len = (uint32_t)len - VNET_HDR_LEN_LEGACY;
	return rx_vlan(pt, p, &m);
}

static uint8_t *ring_unit(const struct port *pt, uint32_t i)
{
	return pt->u.packet.ring + (size_t)i * pt->u.packet.unit_size;
}

/*
 * One frame of the ring, described by its tpacket header's fields: hand
 * it to a packet (lent where it lies, or copied), or count it dropped.
 * Returns the packet or NULL; *lent is set when the packet borrows @l.
 */
static struct pkt *ring_frame(struct port *pt, uint8_t *h, uint32_t st,
			      uint32_t snaplen, uint32_t len, uint32_t mac,
			      uint32_t hdr_room, uint16_t tpid, uint16_t tci,
			      struct pkt_lend *l, int *lent)
{
	struct pkt *p;

	*lent = 0;
	if (st & TP_STATUS_LOSING)
		ring_count_losses(pt);
	p = pkt_alloc(pt->pool);
	if (!p) {
		pt->stats->rx_pkts++;
		pt->stats->drop[DROP_NO_BUFFER]++;
		if (st & TP_STATUS_COPY)
			recv(pt->fd, NULL, 0, MSG_DONTWAIT | MSG_TRUNC);
		return NULL;
	}
	if (st & TP_STATUS_COPY) {
		if (!ring_read_copy(pt, p))
			return p;
		pt->stats->rx_pkts++;
	} else if (snaplen < len || mac < VNET_HDR_LEN_LEGACY ||
		   snaplen > PKT_DATA_MAX) {
		/* cut to the slot and not queued whole: the socket's
		 * receive buffer was full (V2), or larger than a block */
		pt->stats->rx_pkts++;
		pt->stats->drop[DROP_IP_LEN]++;
	} else if (!(st & TP_STATUS_VLAN_VALID) && mac >= hdr_room) {
		/* borrowed where it lies: the slot or block stays ours until
		 * the packet is freed or copied */
		p->data = h + mac;
		p->len = snaplen;
		p->borrow = l;
		l->refs++;
		*lent = 1;
		return p;
	} else if (!(st & TP_STATUS_VLAN_VALID)) {
		memcpy(p->data - VNET_HDR_LEN_LEGACY,
		       h + mac - VNET_HDR_LEN_LEGACY,
		       VNET_HDR_LEN_LEGACY + snaplen);
		p->len = snaplen;
		return p;
	} else if (!vlan_put_back(p, h + mac, snaplen, tpid, tci)) {
		return p;
	} else {
		pt->stats->rx_pkts++;
		pt->stats->drop[DROP_IP_LEN]++;
	}
	pkt_free(pt->pool, p);
	return NULL;
}

static void ring_note_lent(struct port *pt, struct pkt *p, struct pkt_lend *l)
{
	pt->u.packet.lent[pt->u.packet.nlent].p = p;
	pt->u.packet.lent[pt->u.packet.nlent].from = l;
	pt->u.packet.nlent++;
}

static int ring_rx_slots(struct port *pt, struct pkt **pkts, unsigned int max)
{
	unsigned int out = 0;
	struct tpacket2_hdr *h;
	struct pkt_lend *l;
	struct pkt *p;
	uint32_t st;
	int lent;

	while (out < max) {
		h = (struct tpacket2_hdr *)(void *)ring_unit(pt, pt->u.packet.head);
		/* the slot's contents are ours once we see its status */
		st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
		if (!(st & TP_STATUS_USER))
			break;
		l = &pt->u.packet.lend[pt->u.packet.head];
		/* the reader's own hold: let go below */
		l->refs = 1;
		p = ring_frame(pt, (uint8_t *)h, st, h->tp_snaplen, h->tp_len,
			       h->tp_mac, RING_BORROW_MAC,
			       (st & TP_STATUS_VLAN_TPID_VALID) ?
				       h->tp_vlan_tpid : ETHTYPE_VLAN,
			       h->tp_vlan_tci, l, &lent);
		if (p) {
			pkts[out++] = p;
			if (lent)
				ring_note_lent(pt, p, l);
		}
		pkt_lend_put(l);
		if (++pt->u.packet.head == pt->u.packet.unit_nr)
			pt->u.packet.head = 0;
	}
	return (int)out;
}

/*
 * TPACKET_V3: the kernel packs frames into a block and hands over the
 * block when it is full or its timer runs out.  The reader holds a block
 * (a reference on its lend) while it walks it; the block goes back once
 * the reader is past it and no packet borrows from it any more.
 */
static int ring_rx_blocks(struct port *pt, struct pkt **pkts,
			  unsigned int max)
{
	unsigned int out = 0;
	struct tpacket_block_desc *bd;
	struct tpacket3_hdr *h;
	struct pkt_lend *l;
	struct pkt *p;
	uint32_t st;
	int lent;

	while (out < max) {
		l = &pt->u.packet.lend[pt->u.packet.head];
		bd = (struct tpacket_block_desc *)(void *)
			ring_unit(pt, pt->u.packet.head);
		if (!pt->u.packet.blk_left) {
			st = __atomic_load_n(&bd->hdr.bh1.block_status,
					     __ATOMIC_ACQUIRE);
			if (!(st & TP_STATUS_USER))
				break;
			if (st & TP_STATUS_LOSING)
				ring_count_losses(pt);
			l->refs = 1;
			pt->u.packet.blk_left = bd->hdr.bh1.num_pkts;
			pt->u.packet.blk_off = bd->hdr.bh1.offset_to_first_pkt;
		}
		while (pt->u.packet.blk_left && out < max) {
			h = (struct tpacket3_hdr *)(void *)
				((uint8_t *)bd + pt->u.packet.blk_off);
			st = h->tp_status;
			p = ring_frame(pt, (uint8_t *)h, st & ~TP_STATUS_COPY,
				       h->tp_snaplen, h->tp_len, h->tp_mac,
				       RING_BORROW_MAC3,
				       (st & TP_STATUS_VLAN_TPID_VALID) ?
					       h->hv1.tp_vlan_tpid : ETHTYPE_VLAN,
				       h->hv1.tp_vlan_tci, l, &lent);
			if (p) {
				pkts[out++] = p;
				if (lent)
					ring_note_lent(pt, p, l);
			}
			pt->u.packet.blk_off += h->tp_next_offset;
			pt->u.packet.blk_left--;
		}
		if (pt->u.packet.blk_left)
			break;
		/* past the block: the reader lets go of it */
		pkt_lend_put(l);
		if (++pt->u.packet.head == pt->u.packet.unit_nr)
			pt->u.packet.head = 0;
	}
	return (int)out;
}

static int ring_rx(struct port *pt, struct pkt **pkts, unsigned int max)
{
	socklen_t len = sizeof(int);
	int n, err = 0;

	pt->u.packet.nlent = 0;
	if (pt->u.packet.ring_blocks)
		n = ring_rx_blocks(pt, pkts, max);
	else
		n = ring_rx_slots(pt, pkts, max);
	/*
	 * Woken with nothing in the ring: a socket error is pending
	 * (ENETDOWN when the link went down).  It keeps the socket
	 * readable until it is read, and the ring never reads it.
	 */
	if (!n && !getsockopt(pt->fd, SOL_SOCKET, SO_ERROR, &err, &len) && err)
		return -err;
	return n;
}

/*
 * The batch ring_rx read last is done with: copy out whatever still
 * borrows from the ring there, so that every slot or block it took goes
 * back to the kernel (a block the reader is still in excepted).  A packet
 * freed since (its borrow cleared) or reused for another frame (its
 * borrow elsewhere, or copied already) is left alone.
 */
static void packet_rx_done(struct port *pt)
{
	uint32_t i;
	struct pkt *p;

	for (i = 0; i < pt->u.packet.nlent; i++) {
		p = pt->u.packet.lent[i].p;
		if (p->borrow == pt->u.packet.lent[i].from) {
			pkt_unborrow(p);
			pt->stats->rx_held_copy++;
		}
	}
	pt->u.packet.nlent = 0;
}

static int packet_rx(struct port *pt, struct pkt **pkts, unsigned int max)
{
	struct mmsghdr *m = pt->u.packet.rx_msgs;
	struct iovec *iov = pt->u.packet.rx_iovs;
	struct pkt **rx = pt->u.packet.rx;
	unsigned int i, n, out = 0;
	int k, j;

	if (max > pt->batch)
		max = pt->batch;
	if (pt->u.packet.ring)
		return ring_rx(pt, pkts, max);
	for (n = 0; n < max; n++) {
		if (!rx[n])
			rx[n] = pkt_alloc(pt->pool);
		if (!rx[n])
			break;
		/* the header lands in the headroom, the frame at p->data */
		iov[n].iov_base = rx[n]->data - VNET_HDR_LEN_LEGACY;
		iov[n].iov_len = VNET_HDR_LEN_LEGACY + PKT_DATA_MAX;
		memset(&m[n].msg_hdr, 0, sizeof(m[n].msg_hdr));
		m[n].msg_hdr.msg_iov = &iov[n];
		m[n].msg_hdr.msg_iovlen = 1;
		m[n].msg_hdr.msg_control = pt->u.packet.rx_cmsg + n * AUX_SPACE;
		m[n].msg_hdr.msg_controllen = AUX_SPACE;
	}
	if (!n) {
		for (i = 0; i < max; i++) {
			k = packet_discard(pt);
			if (k <= 0)
				return k;
		}
		return 0;
	}
	k = recvmmsg(pt->fd, m, n, MSG_DONTWAIT, NULL);
	if (k < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	for (j = 0; j < k; j++) {
		struct pkt *p = rx[j];
		uint32_t len = m[j].msg_len;

		if ((m[j].msg_hdr.msg_flags & MSG_TRUNC) ||
		    len < VNET_HDR_LEN_LEGACY) {
			/* larger than any IP datagram, or no header: the
			 * buffer stays in its slot for the next read */
			pt->stats->rx_pkts++;
			pt->stats->drop[len < VNET_HDR_LEN_LEGACY ?
					DROP_VNET_SHORT : DROP_IP_LEN]++;
			continue;
		}
		p->len = len - VNET_HDR_LEN_LEGACY;
		rx[j] = NULL;
		if (rx_vlan(pt, p, &m[j].msg_hdr)) {
			pt->stats->rx_pkts++;
			pkt_free(pt->pool, p);
			continue;
		}
		pkts[out++] = p;
	}
	return (int)out;
}

static unsigned int packet_tx(struct port *pt, struct port_txf *f,
			      unsigned int n, int *err)
{
	struct mmsghdr *m = pt->u.packet.tx_msgs;
	unsigned int i, sent = 0;
	int k;

	for (i = 0; i < n; i++) {
		memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
		m[i].msg_hdr.msg_iov = f[i].iov;
		m[i].msg_hdr.msg_iovlen = f[i].iovcnt;
	}
	while (sent < n) {
		/* no address: the bound interface and protocol */
		k = sendmmsg(pt->fd, m + sent, n - sent, MSG_DONTWAIT);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			*err = errno;
			break;
		}
		sent += (unsigned int)k;
	}
	return sent;
}

/* Frames the kernel dropped for want of room in the ring, counted there
 * since a slot or block last said so (TP_STATUS_LOSING). */
static void packet_stats_sync(struct port *pt)
{
	if (pt->u.packet.ring)
		ring_count_losses(pt);
}

static void packet_close(struct port *pt)
{
	unsigned int i;
	int err;

	if (pt->u.packet.kgro_changed) {
		err = nl_features_set(pt->ifname, kgro_names,
				      pt->u.packet.kgro_saved, 3);
		if (err)
			log_warn("%s: %s: cannot restore kernel GRO: %s",
				 pt->name, pt->ifname, strerror(-err));
	}
	if (pt->u.packet.rx) {
		for (i = 0; i < pt->batch; i++)
			if (pt->u.packet.rx[i])
				pkt_free(pt->pool, pt->u.packet.rx[i]);
	}
	free(pt->u.packet.rx_msgs);
	free(pt->u.packet.rx_iovs);
	free(pt->u.packet.rx);
	free(pt->u.packet.tx_msgs);
	free(pt->u.packet.rx_cmsg);
	if (pt->u.packet.ring) {
		packet_rx_done(pt);
		munmap(pt->u.packet.ring, pt->u.packet.ring_len);
	}
	free(pt->u.packet.lend);
	free(pt->u.packet.lent);
	pt->u.packet.lend = NULL;
	pt->u.packet.lent = NULL;
	pt->u.packet.ring = NULL;
	if (pt->fd >= 0)
		close(pt->fd);
}

const struct port_ops port_packet_ops = {
	.kind = "packet",
	.open = packet_open,
	.rx_batch = packet_rx,
	.rx_done = packet_rx_done,
	.stats_sync = packet_stats_sync,
	.tx = packet_tx,
	.close = packet_close,
};
