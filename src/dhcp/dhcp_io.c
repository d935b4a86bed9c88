/* SPDX-License-Identifier: MPL-2.0 */
/* DHCP socket I/O: one UDP socket with IP_PKTINFO, recvmmsg batches, AF_PACKET for raw replies. */
#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core_assert.h"
#include "core_log.h"
#include "dhcp_io.h"

#define RCVBUF_BYTES (8 * 1024 * 1024)

struct dhcp_io {
	int udp_fd;
	int raw_fd;
	int icmp_fd;
	uint16_t port;
	const char *const *ifnames;
	struct dhcp_iface ifaces[DHCP_IO_IFACES_MAX];
	size_t ifaces_n;
	struct mmsghdr mm[DHCP_IO_BATCH];
	struct iovec iov[DHCP_IO_BATCH];
	struct sockaddr_in from[DHCP_IO_BATCH];
	char cmsg[DHCP_IO_BATCH][CMSG_SPACE(sizeof(struct in_pktinfo))];
};

static bool named(const char *const *ifnames, const char *name)
{
	for (size_t i = 0; ifnames && ifnames[i]; i++)
		if (!strcmp(ifnames[i], name))
			return true;
	return false;
}

static struct dhcp_iface *iface_get(struct dhcp_io *io, unsigned ifindex, const char *name)
{
	for (size_t i = 0; i < io->ifaces_n; i++)
		if (io->ifaces[i].ifindex == ifindex)
			return &io->ifaces[i];
	if (io->ifaces_n == DHCP_IO_IFACES_MAX)
		return NULL;
	struct dhcp_iface *ifc = &io->ifaces[io->ifaces_n++];

	memset(ifc, 0, sizeof(*ifc));
	ifc->ifindex = ifindex;
	snprintf(ifc->name, sizeof(ifc->name), "%s", name);
	return ifc;
}

int dhcp_io_rescan(struct dhcp_io *io, const struct dhcp_conf *conf, char *err, size_t errlen)
{
	struct ifaddrs *ifa, *i;
	bool any_named = io->ifnames && io->ifnames[0];

	if (getifaddrs(&ifa) < 0) {
		snprintf(err, errlen, "cannot list interfaces: %s", strerror(errno));
		return -errno;
	}
	io->ifaces_n = 0;
	for (i = ifa; i; i = i->ifa_next) {
		unsigned idx = if_nametoindex(i->ifa_name);
		struct dhcp_iface *ifc;

		if (!idx || !(ifc = iface_get(io, idx, i->ifa_name)))
			continue;
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_PACKET) {
			const struct sockaddr_ll *ll = (const struct sockaddr_ll *)i->ifa_addr;

			if (ll->sll_halen == 6)
				memcpy(ifc->mac, ll->sll_addr, 6);
		}
		if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || ifc->addrs_n == 8)
			continue;
		ifc->addrs[ifc->addrs_n] =
			ntohl(((const struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
		ifc->masks[ifc->addrs_n] =
			i->ifa_netmask ? ntohl(((const struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr) : 0;
		ifc->addrs_n++;
	}
	freeifaddrs(ifa);
	for (size_t k = 0; k < io->ifaces_n; k++) {
		struct dhcp_iface *ifc = &io->ifaces[k];

		ifc->listen = any_named ? named(io->ifnames, ifc->name) : false;
		for (size_t a = 0; !any_named && a < ifc->addrs_n; a++)
			if (dhcp_conf_subnet_for(conf, ifc->addrs[a]))
				ifc->listen = true;
	}
	for (size_t n = 0; any_named && io->ifnames[n]; n++) {
		bool found = false;

		for (size_t k = 0; k < io->ifaces_n; k++)
			found |= !strcmp(io->ifaces[k].name, io->ifnames[n]);
		if (!found) {
			snprintf(err, errlen, "interface %s not found", io->ifnames[n]);
			return -ENODEV;
		}
	}
	return 0;
}

static int udp_open(uint16_t port, uint32_t local_addr, char *err, size_t errlen)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, rcvbuf = RCVBUF_BYTES;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};

	if (fd < 0)
		goto fail;
	sa.sin_addr.s_addr = htonl(local_addr);
	/* No SO_REUSEADDR: UDP has no TIME_WAIT to wait out, and with it a second server on
	 * the same port would bind as well and answer alongside the first. */
	if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0)
		goto fail;
	/* A deep receive queue absorbs bursts while the journal is being synced; FORCE
	 * works as root, the plain option is the fallback. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	return fd;
fail:
	snprintf(err, errlen, "cannot open UDP port %u: %s", port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -errno;
}

int dhcp_io_open(const struct dhcp_conf *conf, const char *const *ifnames, uint16_t port,
		 uint32_t local_addr, struct dhcp_io **out, char *err, size_t errlen)
{
	struct dhcp_io *io = calloc(1, sizeof(*io));
	int rc;

	if (!io)
		return -ENOMEM;
	io->port = port;
	io->ifnames = ifnames;
	io->raw_fd = -1;
	io->icmp_fd = -1;
	io->udp_fd = udp_open(port, local_addr, err, errlen);
	if (io->udp_fd < 0) {
		rc = io->udp_fd;
		goto fail;
	}
	io->raw_fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (io->raw_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open packet socket: %s", strerror(errno));
		goto fail;
	}
	io->icmp_fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMP);
	if (io->icmp_fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open ICMP socket for ping-check: %s", strerror(errno));
		goto fail;
	}
	/* The packet socket only sends: bind it to no protocol so nothing queues on it. */
	rc = dhcp_io_rescan(io, conf, err, errlen);
	if (rc < 0)
		goto fail;
	for (size_t i = 0; i < DHCP_IO_BATCH; i++) {
		io->mm[i].msg_hdr.msg_iov = &io->iov[i];
		io->mm[i].msg_hdr.msg_iovlen = 1;
	}
	*out = io;
	return 0;
fail:
	dhcp_io_close(io);
	return rc;
}

void dhcp_io_close(struct dhcp_io *io)
{
	if (!io)
		return;
	if (io->udp_fd >= 0)
		close(io->udp_fd);
	if (io->raw_fd >= 0)
		close(io->raw_fd);
	if (io->icmp_fd >= 0)
		close(io->icmp_fd);
	free(io);
}

int dhcp_io_fd(const struct dhcp_io *io)
{
	return io->udp_fd;
}

const struct dhcp_iface *dhcp_io_ifaces(const struct dhcp_io *io, size_t *n)
{
	*n = io->ifaces_n;
	return io->ifaces;
}

static const struct dhcp_iface *iface_find(const struct dhcp_io *io, unsigned ifindex)
{
	for (size_t i = 0; i < io->ifaces_n; i++)
		if (io->ifaces[i].ifindex == ifindex)
			return &io->ifaces[i];
	return NULL;
}

/* The interface address to answer from: one in a subnet the sender can reach first. */
static uint32_t iface_addr(const struct dhcp_iface *ifc, uint32_t peer)
{
	for (size_t i = 0; peer && i < ifc->addrs_n; i++)
		if ((peer & ifc->masks[i]) == (ifc->addrs[i] & ifc->masks[i]))
			return ifc->addrs[i];
	return ifc->addrs_n ? ifc->addrs[0] : 0;
}

int dhcp_io_recv(struct dhcp_io *io, struct dhcp_rxmsg *msgs, size_t max, uint64_t *foreign)
{
	int n, kept = 0;

	if (max > DHCP_IO_BATCH)
		max = DHCP_IO_BATCH;
	for (size_t i = 0; i < max; i++) {
		io->iov[i].iov_base = msgs[i].buf;
		io->iov[i].iov_len = sizeof(msgs[i].buf);
		io->mm[i].msg_hdr.msg_name = &io->from[i];
		io->mm[i].msg_hdr.msg_namelen = sizeof(io->from[i]);
		io->mm[i].msg_hdr.msg_control = io->cmsg[i];
		io->mm[i].msg_hdr.msg_controllen = sizeof(io->cmsg[i]);
		io->mm[i].msg_hdr.msg_flags = 0;
	}
	n = recvmmsg(io->udp_fd, io->mm, (unsigned)max, MSG_DONTWAIT, NULL);
	if (n < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		struct msghdr *mh = &io->mm[i].msg_hdr;
		unsigned ifindex = 0;
		const struct dhcp_iface *ifc;
		struct dhcp_rxmsg *m = &msgs[kept];

		for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
				ifindex = ((struct in_pktinfo *)CMSG_DATA(c))->ipi_ifindex;
		ifc = iface_find(io, ifindex);
		if (!ifc || !ifc->listen) {
			(*foreign)++;
			continue;
		}
		if (kept != i)
			memcpy(m->buf, msgs[i].buf, io->mm[i].msg_len);
		m->len = (uint16_t)(io->mm[i].msg_len > DHCP_PACKET_MAX ? DHCP_PACKET_MAX + 1
									: io->mm[i].msg_len);
		m->rx.ifindex = ifindex;
		memcpy(m->rx.ifname, ifc->name, sizeof(m->rx.ifname));
		m->rx.src_addr = ntohl(io->from[i].sin_addr.s_addr);
		m->rx.src_port = ntohs(io->from[i].sin_port);
		m->rx.if_addr = iface_addr(ifc, m->rx.src_addr);
		kept++;
	}
	return kept;
}

static int send_udp(struct dhcp_io *io, const struct dhcp_tx *tx, uint32_t dst)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(tx->dst_port)};
	struct iovec iov = {.iov_base = (void *)tx->buf, .iov_len = tx->len};
	char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))] = {0};
	struct msghdr mh = {.msg_name = &sa, .msg_namelen = sizeof(sa), .msg_iov = &iov,
			    .msg_iovlen = 1};
	struct cmsghdr *c;
	struct in_pktinfo *pi;

	sa.sin_addr.s_addr = htonl(dst);
	if (tx->how == DHCP_TX_BROADCAST) {
		/* Name the interface: a limited broadcast has no route to choose one. */
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(*pi));
		pi = (struct in_pktinfo *)CMSG_DATA(c);
		pi->ipi_ifindex = (int)tx->ifindex;
		pi->ipi_spec_dst.s_addr = htonl(tx->src_addr);
	}
	if (sendmsg(io->udp_fd, &mh, MSG_DONTWAIT) < 0)
		return -errno;
	return 0;
}

static uint16_t ip_checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/*
 * A client without an address cannot answer ARP, so the reply is framed by hand to its
 * hardware address (RFC 2131 4.1), as ISC does with its LPF sockets. UDP checksum 0 is
 * allowed over IPv4 and every client accepts it.
 */
static int send_link(struct dhcp_io *io, const struct dhcp_tx *tx)
{
	uint8_t frame[sizeof(struct iphdr) + sizeof(struct udphdr) + DHCP_PACKET_MAX];
	struct iphdr *ip = (struct iphdr *)frame;
	struct udphdr *udp = (struct udphdr *)(frame + sizeof(*ip));
	size_t total = sizeof(*ip) + sizeof(*udp) + tx->len;
	struct sockaddr_ll ll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP),
				 .sll_ifindex = (int)tx->ifindex, .sll_halen = 6};

	if (tx->hlen != 6)
		return send_udp(io, tx, INADDR_BROADCAST);
	memset(frame, 0, sizeof(*ip) + sizeof(*udp));
	ip->version = 4;
	ip->ihl = 5;
	ip->tot_len = htons((uint16_t)total);
	ip->ttl = 64;
	ip->protocol = IPPROTO_UDP;
	ip->saddr = htonl(tx->src_addr);
	ip->daddr = htonl(tx->dst_addr);
	ip->check = htons(ip_checksum(ip, sizeof(*ip)));
	udp->source = htons(io->port);
	udp->dest = htons(tx->dst_port);
	udp->len = htons((uint16_t)(sizeof(*udp) + tx->len));
	memcpy(frame + sizeof(*ip) + sizeof(*udp), tx->buf, tx->len);
	memcpy(ll.sll_addr, tx->chaddr, 6);
	if (sendto(io->raw_fd, frame, total, MSG_DONTWAIT, (struct sockaddr *)&ll, sizeof(ll)) < 0)
		return -errno;
	return 0;
}

int dhcp_io_send(struct dhcp_io *io, const struct dhcp_tx *tx)
{
	struct dhcp_tx moved;

	/* With -p PORT, ISC answers relays on PORT and clients on PORT + 1. */
	if (io->port != DHCP_SERVER_PORT) {
		moved = *tx;
		moved.dst_port = tx->dst_port == DHCP_SERVER_PORT ? io->port : (uint16_t)(io->port + 1);
		tx = &moved;
	}
	switch (tx->how) {
	case DHCP_TX_UNICAST:
		return send_udp(io, tx, tx->dst_addr);
	case DHCP_TX_BROADCAST:
		return send_udp(io, tx, INADDR_BROADCAST);
	case DHCP_TX_LINK:
		return send_link(io, tx);
	default:
		ASSERT(!"unknown reply route");
	}
	return -EINVAL;
}

int dhcp_io_icmp_fd(const struct dhcp_io *io)
{
	return io->icmp_fd;
}

int dhcp_io_ping(struct dhcp_io *io, uint32_t addr, uint16_t id, uint16_t seq)
{
	uint8_t pkt[16] = {8, 0}; /* echo request, code 0 */
	struct sockaddr_in sa = {.sin_family = AF_INET};
	uint16_t sum;

	pkt[4] = (uint8_t)(id >> 8);
	pkt[5] = (uint8_t)id;
	pkt[6] = (uint8_t)(seq >> 8);
	pkt[7] = (uint8_t)seq;
	memcpy(pkt + 8, "paceless", 8);
	sum = ip_checksum(pkt, sizeof(pkt));
	pkt[2] = (uint8_t)(sum >> 8);
	pkt[3] = (uint8_t)sum;
	sa.sin_addr.s_addr = htonl(addr);
	if (sendto(io->icmp_fd, pkt, sizeof(pkt), MSG_DONTWAIT, (struct sockaddr *)&sa,
		   sizeof(sa)) < 0)
		return -errno;
	return 0;
}

size_t dhcp_io_ping_replies(struct dhcp_io *io, uint16_t id, uint32_t *addrs, size_t max)
{
	size_t n = 0;
	uint8_t buf[512];

	while (n < max) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t len = recvfrom(io->icmp_fd, buf, sizeof(buf), MSG_DONTWAIT,
				       (struct sockaddr *)&from, &fl);
		size_t ihl;

		if (len < 0)
			break;
		/* A raw ICMP socket delivers the IP header too; every length is checked. */
		if ((size_t)len < 20 || (ihl = (size_t)(buf[0] & 15) * 4) < 20 || (size_t)len < ihl + 8)
			continue;
		if (buf[ihl] != 0 || buf[ihl + 1] != 0) /* echo reply, code 0 */
			continue;
		if (((uint16_t)buf[ihl + 4] << 8 | buf[ihl + 5]) != id)
			continue;
		addrs[n++] = ntohl(from.sin_addr.s_addr);
	}
	return n;
}
