// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bench/sendcopy: what one sendmsg of a 64 KB TCP super-packet costs on an
 * AF_PACKET socket with PACKET_VNET_HDR, by where its bytes lie.  grogso
 * hands the kernel an aggregate as an iovec of the segments it merged,
 * each where the receive ring put it; the kernel copies them into the skb
 * it builds (packet_snd).  The rows send the same 44 x 1448 bytes of
 * payload:
 *
 *   one piece          one buffer, the same one every time (in cache)
 *   44 pieces, hot     one piece per 2 KB slot of a ring of 64 slots
 *                      (128 KB: stays in cache)
 *   44 pieces, cold    the same over a ring of 4096 slots (8 MB: mostly
 *                      not in cache, as a ring the kernel filled on
 *                      another CPU)
 *
 * each with the payload at two offsets in its slot or buffer: 0, and 14,
 * where grogso's ring of slots has it (not 64-byte aligned).
 *
 * Run as root on an interface that drops what it is given, so that only
 * the send is measured: one end of a veth pair whose other end is down,
 * in a namespace of its own (see bench/README).
 *
 *	bench/sendcopy IFNAME [SENDS]
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SEGS 44
#define MSS 1448
#define HDR 66                          /* Ethernet, IPv4, TCP with timestamps */
#define SLOT 2048
#define RING_MAX 4096

struct layout {
	const char *name;
	unsigned int slots;             /* 0: one piece */
	unsigned int off;
};

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Headers of a TCP/IPv4 super-packet of SEGS x MSS bytes (the kernel
 * checks the lengths it segments by, not the addresses). */
static void make_headers(uint8_t *h)
{
	uint16_t tot = htons(20 + 32 + SEGS * MSS);

	memset(h, 0, HDR);
	memset(h, 0x02, 12);            /* locally administered MACs */
	h[12] = 0x08;                   /* IPv4 */
	h[14] = 0x45;
	memcpy(h + 16, &tot, 2);
	h[22] = 64;                     /* TTL */
	h[23] = 6;                      /* TCP */
	h[26] = 198, h[27] = 18, h[28] = 0, h[29] = 1;
	h[30] = 198, h[31] = 18, h[32] = 0, h[33] = 2;
	h[46] = 8 << 4;                 /* data offset: 32 bytes */
	h[47] = 0x10;                   /* ACK */
}

static int run(int fd, const struct layout *l, uint8_t *ring, uint8_t *flat,
	       unsigned int sends, double *ns)
{
	struct virtio_net_hdr vh = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = HDR, .gso_size = MSS,
		.csum_start = 34, .csum_offset = 16,
	};
	struct iovec iov[2 + SEGS];
	struct msghdr m;
	uint8_t hdr[HDR];
	unsigned int i, k, slot = 0, n;
	double t0 = 0;

	make_headers(hdr);
	iov[0].iov_base = &vh;
	iov[0].iov_len = sizeof(vh);
	iov[1].iov_base = hdr;
	iov[1].iov_len = HDR;
	/* the first tenth warms up and is not timed */
	for (i = 0; i < sends + sends / 10; i++) {
		if (i == sends / 10)
			t0 = now_s();
		n = 2;
		if (!l->slots) {
			iov[n].iov_base = flat + l->off;
			iov[n++].iov_len = SEGS * MSS;
		} else {
			for (k = 0; k < SEGS; k++) {
				iov[n].iov_base = ring + (size_t)slot * SLOT + l->off;
				iov[n++].iov_len = MSS;
				if (++slot == l->slots)
					slot = 0;
			}
		}
		memset(&m, 0, sizeof(m));
		m.msg_iov = iov;
		m.msg_iovlen = n;
		if (sendmsg(fd, &m, 0) < 0) {
			perror("sendcopy: sendmsg");
			return -1;
		}
	}
	*ns = (now_s() - t0) / sends * 1e9;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct layout rows[] = {
		{ "one piece", 0, 0 },
		{ "one piece", 0, 14 },
		{ "44 pieces, hot", 64, 0 },
		{ "44 pieces, hot", 64, 14 },
		{ "44 pieces, cold", RING_MAX, 0 },
		{ "44 pieces, cold", RING_MAX, 14 },
	};
	struct sockaddr_ll sll;
	unsigned int sends = 20000, i;
	uint8_t *ring, *flat;
	int fd, one = 1;
	double ns;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: bench/sendcopy IFNAME [SENDS]\n");
		return 2;
	}
	if (argc == 3)
		sends = (unsigned int)strtoul(argv[2], NULL, 10);
	if (sends < 10) {
		fprintf(stderr, "sendcopy: SENDS: at least 10\n");
		return 2;
	}
	memset(&sll, 0, sizeof(sll));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(0x0800);
	sll.sll_ifindex = (int)if_nametoindex(argv[1]);
	if (!sll.sll_ifindex) {
		fprintf(stderr, "sendcopy: %s: no such interface\n", argv[1]);
		return 1;
	}
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		perror("sendcopy: AF_PACKET socket (root?)");
		return 1;
	}
	ring = mmap(NULL, (size_t)RING_MAX * SLOT, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	flat = malloc(SEGS * MSS + 64);
	if (ring == MAP_FAILED || !flat) {
		fprintf(stderr, "sendcopy: out of memory\n");
		return 1;
	}
	memset(ring, 0x5a, (size_t)RING_MAX * SLOT);
	memset(flat, 0x5a, SEGS * MSS + 64);
	printf("64 KB TCP super-packet (%u x %u B) per sendmsg, %u sends a row\n",
	       SEGS, MSS, sends);
	printf("%-18s %6s %12s %10s\n", "payload", "offset", "ns/send", "GB/s");
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (run(fd, &rows[i], ring, flat, sends, &ns))
			return 1;
		printf("%-18s %6u %12.0f %10.2f\n", rows[i].name, rows[i].off,
		       ns, SEGS * MSS / ns);
	}
	close(fd);
	return 0;
}
