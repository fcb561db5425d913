/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * port: where frames come from and go to.  One ops table per kind
 * (port_packet: AF_PACKET with PACKET_VNET_HDR; port_tap: a TAP with
 * IFF_VNET_HDR), and the part every kind shares: the spec parser, the
 * pending tx batch, the bounded tx queue for when the kernel pushes back,
 * and the link state.
 *
 * Every frame crosses with a virtio-net header in front of it.  Received
 * frames sit in pool buffers at p->data with the header just before it
 * (p->data - vnet_len).  Frames to send are gathered in the pending batch
 * (port_tx_add*) and written with one batch syscall at port_tx_flush;
 * what the kernel cannot take yet waits in the tx queue, written when the
 * socket becomes writable.
 */
#ifndef GROGSO_PORT_H
#define GROGSO_PORT_H

#include <net/if.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <ev.h>

#include "grogso/config.h"
#include "grogso/gso.h"
#include "grogso/pkt.h"
#include "grogso/stats.h"
#include "grogso/vnet.h"

#define PORT_TX_MAX 1024                /* frames per batch; sendmmsg's UIO_MAXIOV */
#define PORT_TX_SEGS PORT_TX_MAX        /* GSO segment headers held per batch */
#define PORT_LABEL_MAX 8                 /* "lan", "wan" */
#define PORT_SPEC_MAX 64

enum port_kind { PORT_KIND_PACKET = 0, PORT_KIND_TAP, PORT_KIND_PCAP };

struct port_caps {
	int gso;                        /* takes super-packets (vnet GSO) */
	int csum;                       /* takes NEEDS_CSUM */
	uint32_t mtu;                   /* L3 MTU */
	uint8_t mac[6];                 /* the MAC grogso uses on this port */
	int ifindex;                    /* 0: not (or no longer) in this namespace */
	uint32_t gso_max_size;          /* bytes of frame the kernel segments in one go */
	/* Linux would hand this egress a fixed-ID TCP/IPv4 aggregate whole
	 * (with DF set): the device has TSO and may keep IDs fixed
	 * (tx-tcp-mangleid-segmentation); see port_tx_features */
	int fixed_id_whole;
};

#define PORT_TX_IOV 8192               /* iovec entries for chained aggregates per batch */

/* One frame to write: iov[0] is the vnet header. */
struct port_txf {
	struct iovec *iov;              /* small[], or the batch's iovec arena */
	unsigned int iovcnt;
	struct iovec small[3];          /* header + linear frame, or header + segment */
	uint32_t len;                   /* frame bytes, header not counted */
	uint32_t segs;                  /* wire packets it stands for (stats) */
	uint32_t in_port;               /* where a drop of it is counted */
	struct pkt *whole;              /* the frame is all of this packet */
	uint8_t vh[VNET_HDR_LEN];
};

struct port;

struct port_ops {
	const char *kind;
	/* Open the device named pt->ifname.  Returns 0 or a negative errno. */
	int (*open)(struct port *pt, const struct config *c);
	/*
	 * Read up to @max frames into pool buffers.  Returns how many were
	 * read (0: none waiting) or a negative errno.  Frames it had to
	 * drop (no buffer, truncated) are counted in pt->stats.
	 */
	int (*rx_batch)(struct port *pt, struct pkt **pkts, unsigned int max);
	/*
	 * The frames of the last rx_batch have been handled and the tx
	 * batches flushed: nothing may borrow the port's memory any more
	 * (optional).
	 */
	void (*rx_done)(struct port *pt);
	/* Bring pt->stats up to date with counts the kernel keeps (optional). */
	void (*stats_sync)(struct port *pt);
	/*
	 * Write @n frames in order.  Returns how many the kernel took; when
	 * fewer than @n, *err is the errno of the first one it refused.
	 */
	unsigned int (*tx)(struct port *pt, struct port_txf *f,
			   unsigned int n, int *err);
	void (*close)(struct port *pt);
};

/* A packet port's note of a packet it lent ring memory to in a read. */
struct pkt_loan {
	struct pkt *p;
	struct pkt_lend *from;
};

struct port {
	const struct port_ops *ops;
	enum port_kind kind;
	char name[PORT_LABEL_MAX];       /* "lan" / "wan": logs and stats */
	char ifname[IF_NAMESIZE];
	unsigned int index;             /* FWD_PORT_LAN / FWD_PORT_WAN */
	int fd;
	unsigned int vnet_len;          /* 10 (AF_PACKET) or 12 (TAP) */
	struct port_caps caps;
	int link_up;
	int detached;                   /* TAP moved to another namespace */
	int gso_max_warned;
	struct pkt_pool *pool;
	struct stats_port *stats;       /* this port's counters */
	struct stats_port **all_stats;  /* by ingress index: where tx drops go */
	unsigned int batch;             /* frames per read */

	/* pending batch, written at port_tx_flush */
	struct port_txf *txf;
	unsigned int ntxf;
	struct gso_seg *segs;
	unsigned int nsegs;
	struct iovec *iova;             /* for aggregates made of chained buffers */
	unsigned int niova;
	struct pkt **own;               /* freed once the batch is written */
	unsigned int nown;

	/* frames the kernel pushed back, oldest first */
	struct pkt_queue q;
	uint32_t q_max;
	struct ev_loop *loop;
	ev_io tx_w;

	union {
		struct {
			struct mmsghdr *rx_msgs;
			struct iovec *rx_iovs;
			uint8_t *rx_cmsg;       /* PACKET_AUXDATA per message */
			struct pkt **rx;        /* buffers the next recvmmsg fills */
			struct mmsghdr *tx_msgs;
			uint8_t *ring;          /* PACKET_RX_RING, or NULL: recvmmsg */
			size_t ring_len;        /* bytes mapped */
			int ring_blocks;        /* TPACKET_V3 blocks, else V2 slots */
			uint32_t unit_size;     /* bytes per slot or block */
			uint32_t unit_nr;       /* slots or blocks */
			uint32_t head;          /* next slot or block to read */
			uint32_t blk_left;      /* V3: frames of block head not read yet */
			uint32_t blk_off;       /* V3: where the next one starts */
			struct pkt_lend *lend;  /* by slot or block */
			struct pkt_loan *lent;  /* what the last read lent, to whom */
			uint32_t nlent;
			int kgro_saved[3];      /* --kernel-gro=off: restore at close */
			int kgro_changed;
		} packet;
		struct {
			unsigned int offload;   /* TUN_F_* negotiated */
			uint64_t tx_dropped;    /* the device's, counted so far */
			int nsid, ifindex;      /* moved: where it is now
						 * (nsid -1: not known) */
		} tap;
		struct {
			const char *spec;       /* after "pcap:" */
			struct pcap *in;        /* NULL: no (more) input */
			char *in_name;          /* its file, for messages */
			char *out_name;
			struct stat in_st, out_st; /* the files: not one twice */
			struct pcap *dead;      /* the writer's link type */
			struct pcap_dumper *out;
			const struct pcap_pkthdr *next_h; /* read ahead */
			const uint8_t *next_data;
			int has_next;
			uint64_t records;       /* read from in */
			const uint64_t *clock;  /* the loop's, ns: record times */
			uint8_t *frame;         /* one frame gathered to write */
		} pcap;
	} u;
};

extern const struct port_ops port_packet_ops;
extern const struct port_ops port_tap_ops;
extern const struct port_ops port_pcap_ops;

/*
 * A pcap port's next input record: 1 and its capture time in @t_ns
 * (read ahead; port_rx then takes it), 0 at the end of the input (or
 * when there is none), or -EIO after log_err naming the record.
 */
int port_pcap_next(struct port *pt, uint64_t *t_ns);

/*
 * Open a pcap port's output, after the inputs of both ports (@other the
 * other port) are open: refused when the file is an input or @other's
 * output, which opening it would destroy.  Returns 0, or a negative
 * errno after log_err.
 */
int port_pcap_open_out(struct port *pt, const struct port *other);

/*
 * Write out what a pcap port buffered.  Returns 0, or -EIO after
 * log_err when the capture could not be written.
 */
int port_pcap_flush(struct port *pt);

/*
 * Parse a port spec: "packet:IF", "tap:NAME", a bare IF (packet), or
 * "pcap:..." (@ifname is then "pcap"; port_pcap reads the rest).
 * Returns 0 or -EINVAL (empty or too long a name, unknown kind).
 */
int port_parse_spec(const char *spec, enum port_kind *kind, char *ifname);

/*
 * Open port @name ("lan"/"wan", index @index) from @spec.  @stats are
 * its counters; @all_stats the counters of every port by index (a frame
 * dropped on its way out is counted at the port it came in on).
 * Returns 0 or a negative errno after log_err naming the port.
 */
int port_open(struct port *pt, const char *name, unsigned int index,
	      const char *spec, const struct config *c, struct pkt_pool *pool,
	      struct stats_port *stats, struct stats_port **all_stats,
	      struct ev_loop *loop);
void port_close(struct port *pt);

/* Read a batch (see port_ops.rx_batch). */
static inline int port_rx(struct port *pt, struct pkt **pkts,
			  unsigned int max)
{
	return pt->ops->rx_batch(pt, pkts, max);
}

/*
 * The frames of the last port_rx are handled and every tx batch flushed:
 * whatever still borrows the port's receive memory is copied out.
 */
static inline void port_rx_done(struct port *pt)
{
	if (pt->ops->rx_done)
		pt->ops->rx_done(pt);
}

/* Fold in what the kernel counted for the port since last asked. */
static inline void port_stats_sync(struct port *pt)
{
	if (pt->ops->stats_sync)
		pt->ops->stats_sync(pt);
}

/*
 * Add packet @p, whole, to the pending batch with vnet header @h.  The
 * port owns @p from here on.  @segs: wire packets it stands for.
 */
void port_tx_pkt(struct port *pt, struct pkt *p, const struct vnet_hdr *h,
		 uint32_t segs);

/*
 * Room for up to @want segment headers in the pending batch (flushing it
 * first when needed): returns the array to give gso_segment, and its
 * size in *max.  Returns NULL when @want can never fit.
 */
struct gso_seg *port_tx_seg_room(struct port *pt, uint32_t want,
				 uint32_t *max);

/*
 * Add @n segments (at the array port_tx_seg_room gave) of super-packet
 * @p, each with vnet header @h.  The port owns @p from here on.
 */
void port_tx_segs(struct port *pt, struct pkt *p, uint32_t n,
		  const struct vnet_hdr *h);

/* Count @segs wire packets of a frame from ingress @in_port as dropped. */
void port_drop(struct port *pt, uint32_t in_port, uint32_t segs,
	       enum drop_reason why);

/* Write the pending batch; what the kernel refuses for now is queued. */
void port_tx_flush(struct port *pt);

/*
 * Write out the tx queue, waiting up to @timeout_ms for the kernel to
 * take it (exit).  What is left is dropped and counted.
 */
void port_tx_drain(struct port *pt, int timeout_ms);

/* A netlink event for the port's link. */
void port_link_event(struct port *pt, int up, uint32_t mtu);

/*
 * TAP port @pt was moved into the namespace whose id here is @nsid (-1:
 * unknown), as @ifindex there (a VM's side): its fd goes on working.
 * @followed: that namespace's link events reach us, and tell the link's
 * state from now on; else only refused writes do.
 */
void port_tap_moved(struct port *pt, int nsid, int ifindex, int followed);

/*
 * A moved TAP port @pt came back into grogso's namespace, as @ifindex
 * named @name (empty: unknown): its events are those of this namespace
 * again.
 */
void port_tap_returned(struct port *pt, int ifindex, const char *name);

/*
 * Read the egress features that decide caps.fixed_id_whole (a packet
 * port's interface; a TAP has none: Linux's tun and virtio-net devices
 * cannot keep IDs fixed), and say so when it changes.  At open and on
 * link events.
 */
void port_tx_features(struct port *pt);

#endif
