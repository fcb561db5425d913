// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * nl: rtnetlink link queries, link up, link events, and ethtool features
 * over generic netlink, all through libmnl.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/ethtool_netlink.h>
#include <linux/genetlink.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "grogso/nl.h"

/* Feature replies list every feature by name, three times over. */
#define NL_BUF_SIZE 65536
/* One event per read: a link message with all its attributes fits. */
#define NL_MON_BUF_SIZE 32768

struct nl_mon {
	struct mnl_socket *sock;
	int all_nsid;                   /* NETLINK_LISTEN_ALL_NSID was taken */
	int self_nsid;                  /* an id this namespace has for itself */
	/* its own buffer: a handler may make requests, which use nl_buf,
	 * while the events read are still being walked */
	char buf[NL_MON_BUF_SIZE];
};

static char nl_buf[NL_BUF_SIZE];

/*
 * Send @nlh on a fresh socket of @proto with an ACK requested and run @cb
 * over the replies until the ACK (or the end of a dump).  @strict: ask
 * for NETLINK_GET_STRICT_CHK, without which the kernel ignores the
 * filters of some dumps.  Returns 0 or a negative errno (the kernel's
 * error for the request).
 */
static int nl_exchange(int proto, int strict, struct nlmsghdr *nlh,
		       mnl_cb_t cb, void *data)
{
	struct mnl_socket *nl;
	unsigned int seq, portid;
	ssize_t len;
	int ret, one = 1;

	nl = mnl_socket_open2(proto, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (strict && mnl_socket_setsockopt(nl, NETLINK_GET_STRICT_CHK, &one,
					    sizeof(one)) < 0) {
		ret = -errno;
		goto out;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	seq = (unsigned int)time(NULL);
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_flags |= NLM_F_ACK;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		ret = -errno;
		goto out;
	}
	do {
		len = mnl_socket_recvfrom(nl, nl_buf, sizeof(nl_buf));
		if (len < 0) {
			ret = -errno;
			goto out;
		}
		ret = mnl_cb_run(nl_buf, (size_t)len, seq, portid, cb, data);
	} while (ret > 0);
	ret = ret < 0 ? -errno : 0;
out:
	mnl_socket_close(nl);
	return ret;
}

static int nl_request(int proto, struct nlmsghdr *nlh, mnl_cb_t cb,
		      void *data)
{
	return nl_exchange(proto, 0, nlh, cb, data);
}

/* ---- rtnetlink ---- */

static int link_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, IFLA_MAX) < 0)
		return MNL_CB_OK;
	tb[type] = a;
	return MNL_CB_OK;
}

/* Fill @l from an RTM_NEWLINK/RTM_DELLINK message. */
static int link_parse(const struct nlmsghdr *nlh, struct nl_link *l)
{
	const struct nlattr *tb[IFLA_MAX + 1] = { 0 };
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK)
		return -EINVAL;
	memset(l, 0, sizeof(*l));
	l->nsid = NL_NSID_HERE;
	mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, tb);
	l->ifindex = ifm->ifi_index;
	l->flags = ifm->ifi_flags;
	l->type = ifm->ifi_type;
	l->carrier = !!(ifm->ifi_flags & IFF_RUNNING);
	if (tb[IFLA_IFNAME])
		snprintf(l->name, sizeof(l->name), "%s",
			 mnl_attr_get_str(tb[IFLA_IFNAME]));
	if (tb[IFLA_MTU])
		l->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6)
		memcpy(l->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
	if (tb[IFLA_TXQLEN])
		l->txqlen = mnl_attr_get_u32(tb[IFLA_TXQLEN]);
	if (tb[IFLA_MASTER])
		l->master = (int)mnl_attr_get_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_GSO_MAX_SIZE])
		l->gso_max_size = mnl_attr_get_u32(tb[IFLA_GSO_MAX_SIZE]);
	if (tb[IFLA_STATS64] && mnl_attr_get_payload_len(tb[IFLA_STATS64]) >=
				    sizeof(struct rtnl_link_stats64)) {
		struct rtnl_link_stats64 st;

		memcpy(&st, mnl_attr_get_payload(tb[IFLA_STATS64]), sizeof(st));
		l->tx_dropped = st.tx_dropped;
	}
	/* a move says where to; a deletion says nothing of the kind */
	l->moved = tb[IFLA_NEW_NETNSID] || tb[IFLA_NEW_IFINDEX];
	l->new_nsid = tb[IFLA_NEW_NETNSID] ?
		      (int)mnl_attr_get_u32(tb[IFLA_NEW_NETNSID]) : -1;
	l->new_ifindex = tb[IFLA_NEW_IFINDEX] ?
			 (int)mnl_attr_get_u32(tb[IFLA_NEW_IFINDEX]) : 0;
	return 0;
}

static int link_get_cb(const struct nlmsghdr *nlh, void *data)
{
	link_parse(nlh, data);
	return MNL_CB_OK;
}

/* An RTM_GETLINK request in @buf for @ifindex (0: by a name put next). */
static struct nlmsghdr *getlink_start(char *buf, int ifindex)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifm;

	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	return nlh;
}

/* Send it and fill @l from the answer.  Returns 0 or a negative errno. */
static int getlink_run(struct nlmsghdr *nlh, struct nl_link *l)
{
	int ret;

	/* Ask for the basic attributes only: no per-VF or stats blobs. */
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, 0);
	memset(l, 0, sizeof(*l));
	ret = nl_request(NETLINK_ROUTE, nlh, link_get_cb, l);
	return ret < 0 ? ret : 0;
}

int nl_link_get(const char *name, struct nl_link *l)
{
	struct nlmsghdr *nlh;
	char buf[512];
	int ret;

	if (strlen(name) >= IF_NAMESIZE)
		return -ENODEV;
	nlh = getlink_start(buf, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	ret = getlink_run(nlh, l);
	if (ret)
		return ret;
	return l->ifindex > 0 ? 0 : -ENODEV;
}

int nl_link_get_in(int nsid, int ifindex, struct nl_link *l)
{
	struct nlmsghdr *nlh;
	char buf[256];
	int ret;

	nlh = getlink_start(buf, ifindex);
	if (nsid != NL_NSID_HERE)
		mnl_attr_put_u32(nlh, IFLA_TARGET_NETNSID, (uint32_t)nsid);
	ret = getlink_run(nlh, l);
	if (ret)
		return ret;
	l->nsid = nsid;
	return l->ifindex == ifindex ? 0 : -ENODEV;
}

int nl_link_set_up(int ifindex)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	char buf[256];

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	return nl_request(NETLINK_ROUTE, nlh, NULL, NULL);
}

/* ---- namespace ids ---- */

/* What an RTM_GETNSID answer is searched for, and what was found. */
struct nsid_ans {
	int any;                        /* take the first answer */
	int want;                       /* ... else the one with this NSID */
	int found;
	int nsid;                       /* NETNSA_NSID: the id in the target */
	int current;                    /* NETNSA_CURRENT_NSID: the id here */
};

static int nsid_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;

	/* every NETNSA_* attribute is a 32-bit id or pid */
	if (mnl_attr_type_valid(a, NETNSA_MAX) < 0 ||
	    mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return MNL_CB_OK;
	tb[mnl_attr_get_type(a)] = a;
	return MNL_CB_OK;
}

static int nsid_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NETNSA_MAX + 1] = { 0 };
	struct nsid_ans *a = data;
	int id;

	if (nlh->nlmsg_type != RTM_NEWNSID || a->found)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(struct rtgenmsg), nsid_attr_cb, tb);
	if (!tb[NETNSA_NSID])
		return MNL_CB_OK;
	id = (int)mnl_attr_get_u32(tb[NETNSA_NSID]);
	if (!a->any && id != a->want)
		return MNL_CB_OK;
	a->found = 1;
	a->nsid = id;
	a->current = tb[NETNSA_CURRENT_NSID] ?
		     (int)mnl_attr_get_u32(tb[NETNSA_CURRENT_NSID]) :
		     NETNSA_NSID_NOT_ASSIGNED;
	return MNL_CB_OK;
}

static struct nlmsghdr *getnsid_start(char *buf, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtgenmsg *g;

	nlh->nlmsg_type = RTM_GETNSID;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	return nlh;
}

/*
 * The id that namespace @via (an id here, or NL_NSID_HERE) gives
 * grogso's own, in @id: NETNSA_NSID_NOT_ASSIGNED when it has none.
 * Returns 0 or a negative errno.
 */
static int nsid_of_self(int via, int *id)
{
	struct nsid_ans a = { .any = 1 };
	struct nlmsghdr *nlh;
	char buf[128];
	int ret;

	nlh = getnsid_start(buf, 0);
	/* ours is the namespace of our process */
	mnl_attr_put_u32(nlh, NETNSA_PID, (uint32_t)getpid());
	if (via != NL_NSID_HERE)
		mnl_attr_put_u32(nlh, NETNSA_TARGET_NSID, (uint32_t)via);
	ret = nl_request(NETLINK_ROUTE, nlh, nsid_cb, &a);
	if (ret)
		return ret;
	if (!a.found)
		return -ENOENT;
	*id = a.nsid;
	return 0;
}

int nl_nsid_resolve(int via, int id, int *here)
{
	struct nsid_ans a = { .want = id };
	struct nlmsghdr *nlh;
	char buf[128];
	int ret, self;

	if (id < 0)
		return -ENOENT;
	ret = nsid_of_self(via, &self);
	if (ret)
		return ret;
	if (self == id) {
		*here = NL_NSID_HERE;
		return 0;
	}
	/* The ids @via has, each with the id its namespace has here
	 * (rtnl_net_dumpid with a target: NETNSA_CURRENT_NSID). */
	nlh = getnsid_start(buf, NLM_F_DUMP);
	mnl_attr_put_u32(nlh, NETNSA_TARGET_NSID, (uint32_t)via);
	ret = nl_exchange(NETLINK_ROUTE, 1, nlh, nsid_cb, &a);
	if (ret)
		return ret;
	if (!a.found || a.current < 0)
		return -ENOENT;
	*here = a.current;
	return 0;
}

/* ---- link events ---- */

int nl_mon_open(struct nl_mon **mp)
{
	struct nl_mon *m;
	int ret, one = 1;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!m->sock) {
		ret = -errno;
		goto out;
	}
	if (mnl_socket_bind(m->sock, RTMGRP_LINK, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto out;
	}
	/* without it (no CAP_NET_BROADCAST), this namespace's events only */
	m->all_nsid = mnl_socket_setsockopt(m->sock, NETLINK_LISTEN_ALL_NSID,
					    &one, sizeof(one)) == 0;
	/* A namespace may have been given an id for itself: its own events
	 * then come with that id (do_one_broadcast sets it for every
	 * listener), and are ours all the same. */
	m->self_nsid = NETNSA_NSID_NOT_ASSIGNED;
	if (m->all_nsid)
		nsid_of_self(NL_NSID_HERE, &m->self_nsid);
	*mp = m;
	return 0;
out:
	nl_mon_close(m);
	return ret;
}

int nl_mon_fd(const struct nl_mon *m)
{
	return mnl_socket_get_fd(m->sock);
}

int nl_mon_all_nsid(const struct nl_mon *m)
{
	return m->all_nsid;
}

struct mon_ctx {
	nl_link_fn fn;
	void *ctx;
	int nsid;                       /* of the namespace the read came from */
};

static int mon_cb(const struct nlmsghdr *nlh, void *data)
{
	struct mon_ctx *mc = data;
	struct nl_link l;

	if (link_parse(nlh, &l) == 0) {
		l.nsid = mc->nsid;
		mc->fn(mc->ctx, nlh->nlmsg_type == RTM_DELLINK, &l);
	}
	return MNL_CB_OK;
}

/*
 * The namespace a read event comes from: netlink_recvmsg adds the id as
 * a control message when the socket listens to all (and the sender's
 * namespace has an id here, as it must for the event to reach us); an
 * event of this namespace has none.
 */
static int mon_nsid(const struct nl_mon *m, struct msghdr *msg)
{
	struct cmsghdr *c;
	int nsid = NL_NSID_HERE;

	for (c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c))
		if (c->cmsg_level == SOL_NETLINK &&
		    c->cmsg_type == NETLINK_LISTEN_ALL_NSID &&
		    c->cmsg_len >= CMSG_LEN(sizeof(int)))
			memcpy(&nsid, CMSG_DATA(c), sizeof(int));
	if (nsid < 0 || nsid == m->self_nsid)
		return NL_NSID_HERE;
	return nsid;
}

int nl_mon_read(struct nl_mon *m, nl_link_fn fn, void *ctx)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct mon_ctx mc = { fn, ctx, NL_NSID_HERE };
	struct iovec iov = { m->buf, sizeof(m->buf) };
	struct sockaddr_nl from;
	struct msghdr msg;
	ssize_t len;

	/* libmnl's recvfrom drops the control messages: recvmsg here */
	for (;;) {
		memset(&msg, 0, sizeof(msg));
		msg.msg_name = &from;
		msg.msg_namelen = sizeof(from);
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		len = recvmsg(mnl_socket_get_fd(m->sock), &msg, 0);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 0 : -errno;
		}
		/* a message cut short is an event lost: re-read the links */
		if (msg.msg_flags & MSG_TRUNC)
			return -ENOBUFS;
		/* only the kernel (port 0) sends to the group */
		if (msg.msg_namelen != sizeof(from) || from.nl_pid)
			continue;
		mc.nsid = mon_nsid(m, &msg);
		/* Events carry sequence 0 and port 0: match anything. */
		if (mnl_cb_run(m->buf, (size_t)len, 0, 0, mon_cb, &mc) < 0)
			return -errno;
	}
}

void nl_mon_close(struct nl_mon *m)
{
	if (!m)
		return;
	if (m->sock)
		mnl_socket_close(m->sock);
	free(m);
}

/* ---- generic netlink: ethtool features ---- */

static int family_attr_cb(const struct nlattr *a, void *data)
{
	uint16_t *id = data;

	if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_validate(a, MNL_TYPE_U16) == 0)
		*id = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr_cb, data);
	return MNL_CB_OK;
}

/* The id of the "ethtool" generic netlink family, or a negative errno. */
static int ethtool_family(void)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	uint16_t id = 0;
	char buf[256];
	int ret;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, ETHTOOL_GENL_NAME);
	ret = nl_request(NETLINK_GENERIC, nlh, family_cb, &id);
	if (ret < 0)
		return ret;
	return id ? id : -ENOENT;
}

static struct nlmsghdr *ethtool_msg(char *buf, int family, uint8_t cmd,
				    const char *ifname)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	struct nlattr *nest;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (uint16_t)family;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = ETHTOOL_GENL_VERSION;
	nest = mnl_attr_nest_start(nlh, ETHTOOL_A_FEATURES_HEADER);
	mnl_attr_put_strz(nlh, ETHTOOL_A_HEADER_DEV_NAME, ifname);
	mnl_attr_nest_end(nlh, nest);
	return nlh;
}

struct feat_ctx {
	const char *const *names;
	unsigned int n;
	int *on;
	int nomask;
};

/* One ETHTOOL_A_BITSET_BITS_BIT: a name and, unless listed as a list,
 * a VALUE flag when the bit is set. */
static void feat_bit(const struct nlattr *bit, struct feat_ctx *fc)
{
	const struct nlattr *a;
	const char *name = NULL;
	int value = fc->nomask;
	unsigned int i;

	mnl_attr_for_each_nested(a, bit) {
		if (mnl_attr_get_type(a) == ETHTOOL_A_BITSET_BIT_NAME)
			name = mnl_attr_get_str(a);
		else if (mnl_attr_get_type(a) == ETHTOOL_A_BITSET_BIT_VALUE)
			value = 1;
	}
	if (!name)
		return;
	for (i = 0; i < fc->n; i++)
		if (!strcmp(name, fc->names[i]))
			fc->on[i] = value;
}

static int feat_cb(const struct nlmsghdr *nlh, void *data)
{
	struct feat_ctx *fc = data;
	const struct nlattr *a, *b, *bit;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(a) != ETHTOOL_A_FEATURES_ACTIVE)
			continue;
		/* NOMASK: the bits listed are the ones set. */
		fc->nomask = 0;
		mnl_attr_for_each_nested(b, a)
			if (mnl_attr_get_type(b) == ETHTOOL_A_BITSET_NOMASK)
				fc->nomask = 1;
		mnl_attr_for_each_nested(b, a) {
			if (mnl_attr_get_type(b) != ETHTOOL_A_BITSET_BITS)
				continue;
			mnl_attr_for_each_nested(bit, b)
				if (mnl_attr_get_type(bit) == ETHTOOL_A_BITSET_BITS_BIT)
					feat_bit(bit, fc);
		}
	}
	return MNL_CB_OK;
}

int nl_features_get(const char *ifname, const char *const *names,
		    unsigned int n, int *on)
{
	struct feat_ctx fc = { names, n, on, 0 };
	struct nlmsghdr *nlh;
	char buf[512];
	unsigned int i;
	int family;

	for (i = 0; i < n; i++)
		on[i] = -1;
	family = ethtool_family();
	if (family < 0)
		return family;
	/* In a NOMASK list a feature that is off is simply absent. */
	nlh = ethtool_msg(buf, family, ETHTOOL_MSG_FEATURES_GET, ifname);
	return nl_request(NETLINK_GENERIC, nlh, feat_cb, &fc);
}

int nl_features_set(const char *ifname, const char *const *names,
		    const int *on, unsigned int n)
{
	struct nlattr *set, *bits, *bit;
	struct nlmsghdr *nlh;
	char buf[2048];
	unsigned int i;
	int family;

	family = ethtool_family();
	if (family < 0)
		return family;
	nlh = ethtool_msg(buf, family, ETHTOOL_MSG_FEATURES_SET, ifname);
	/* A bitset with a mask: only the bits listed change. */
	set = mnl_attr_nest_start(nlh, ETHTOOL_A_FEATURES_WANTED);
	bits = mnl_attr_nest_start(nlh, ETHTOOL_A_BITSET_BITS);
	for (i = 0; i < n; i++) {
		if (on[i] < 0)
			continue;
		bit = mnl_attr_nest_start(nlh, ETHTOOL_A_BITSET_BITS_BIT);
		mnl_attr_put_strz(nlh, ETHTOOL_A_BITSET_BIT_NAME, names[i]);
		if (on[i])
			mnl_attr_put(nlh, ETHTOOL_A_BITSET_BIT_VALUE, 0, NULL);
		mnl_attr_nest_end(nlh, bit);
	}
	mnl_attr_nest_end(nlh, bits);
	mnl_attr_nest_end(nlh, set);
	return nl_request(NETLINK_GENERIC, nlh, NULL, NULL);
}
