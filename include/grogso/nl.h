/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * nl: what grogso asks the kernel over netlink (libmnl).  rtnetlink for a
 * link's index, MTU, MAC, carrier and gso_max_size, for bringing a link
 * up and for link events while running; generic netlink ("ethtool") for
 * the receive offload features that would hide segments from grogso.
 *
 * Requests are made at start and at exit only, each on its own socket;
 * the monitor socket is the one the loop watches.
 */
#ifndef GROGSO_NL_H
#define GROGSO_NL_H

#include <net/if.h>
#include <stdint.h>

/*
 * Namespaces are named as netlink names them to grogso: by the id they
 * have in grogso's namespace (ip netns list-id).  Grogso's own has none
 * there, so it gets this value, as the kernel's NETNSA_NSID_NOT_ASSIGNED.
 */
#define NL_NSID_HERE (-1)

struct nl_link {
	int ifindex;
	char name[IF_NAMESIZE];
	uint32_t mtu;
	uint8_t mac[6];
	uint32_t flags;                 /* IFF_* */
	uint16_t type;                  /* ARPHRD_* */
	int master;                     /* IFLA_MASTER: bridge, bond..., or 0 */
	int carrier;                    /* IFF_RUNNING: up and carrier on */
	uint32_t gso_max_size;          /* IFLA_GSO_MAX_SIZE; 0 when not reported */
	int moved;                      /* RTM_DELLINK: moved to another namespace */
	int new_nsid, new_ifindex;      /* ... with this id in the namespace it
					 * left (not grogso's, when it left
					 * another), this ifindex there */
	uint64_t tx_dropped;            /* IFLA_STATS64 */
	uint32_t txqlen;                /* IFLA_TXQLEN */
	int nsid;                       /* where it is: an id here, NL_NSID_HERE */
};

/*
 * Read link @name in the current namespace.  Returns 0, -ENODEV when it
 * does not exist, or another negative errno.
 */
int nl_link_get(const char *name, struct nl_link *l);

/*
 * Read link @ifindex of the namespace whose id here is @nsid (where a
 * link of ours went: nl_link.new_nsid and new_ifindex of its move), or
 * of this namespace for NL_NSID_HERE.  Returns 0, -ENODEV, or another
 * negative errno.
 */
int nl_link_get_in(int nsid, int ifindex, struct nl_link *l);

/* Set IFF_UP on @ifindex.  Returns 0 or a negative errno. */
int nl_link_set_up(int ifindex);

/* ---- link events ---- */

struct nl_mon;

/*
 * @deleted: RTM_DELLINK (the link left its namespace or was removed);
 * @l->nsid says which namespace the message comes from.
 */
typedef void (*nl_link_fn)(void *ctx, int deleted, const struct nl_link *l);

/*
 * Subscribe to RTMGRP_LINK, of this namespace and, where the kernel lets
 * us (NETLINK_LISTEN_ALL_NSID: CAP_NET_BROADCAST), of every namespace
 * that has an id here.  Returns 0 or a negative errno.
 */
int nl_mon_open(struct nl_mon **m);

/* The non-blocking socket to watch for input. */
int nl_mon_fd(const struct nl_mon *m);

/* 1 when the events of the namespaces with an id here come in too. */
int nl_mon_all_nsid(const struct nl_mon *m);

/*
 * Read the pending events and call @fn for each link message.  Returns 0
 * when the socket is drained, or a negative errno (-ENOBUFS: events were
 * lost; the caller re-reads its links).
 */
int nl_mon_read(struct nl_mon *m, nl_link_fn fn, void *ctx);
void nl_mon_close(struct nl_mon *m);

/*
 * The namespace whose id here is @via calls another one @id (as in the
 * nl_link.new_nsid of a move made there).  Put in @here the id that one
 * has here, or NL_NSID_HERE when it is grogso's own.  Returns 0, -ENOENT
 * when it has no id here (its events cannot reach us), or another
 * negative errno.
 */
int nl_nsid_resolve(int via, int id, int *here);

/* ---- ethtool features (generic netlink family "ethtool") ---- */

/*
 * Read the active state of the features named in @names (ethtool's
 * netlink names, e.g. "rx-gro") on @ifname: @on[i] = 1 or 0, or -1 when
 * the device does not know the name.  Returns 0 or a negative errno.
 */
int nl_features_get(const char *ifname, const char *const *names,
		    unsigned int n, int *on);

/*
 * Request the features in @names with @on[i] (entries < 0 are skipped).
 * Returns 0 or a negative errno.
 */
int nl_features_set(const char *ifname, const char *const *names,
		    const int *on, unsigned int n);

#endif
