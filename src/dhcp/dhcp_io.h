/* SPDX-License-Identifier: MPL-2.0 */
/* DHCP socket I/O: batched receive with the arrival interface, replies by UDP or raw frame. */
#ifndef DHCP_IO_H
#define DHCP_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core_err.h"
#include "dhcp_server.h"

#define DHCP_IO_BATCH 64
#define DHCP_IO_IFACES_MAX 256

struct dhcp_iface {
	unsigned ifindex;
	char name[16];
	uint32_t addrs[8]; /* IPv4 addresses, host byte order */
	uint32_t masks[8];
	size_t addrs_n;
	uint8_t mac[6];
	bool listen; /* named on the command line, or serving a configured subnet */
};

struct dhcp_rxmsg {
	struct dhcp_rx rx;
	uint16_t len;
	uint8_t buf[DHCP_PACKET_MAX + 1]; /* one spare byte tells an oversize datagram */
};

struct dhcp_io;

/*
 * Opens the server socket on port (67) and the raw socket for replies to clients without an
 * address, and learns interfaces: only those named in ifnames (NULL-terminated, may be
 * empty) are served, or, when none are named, every interface with an address in a
 * configured subnet (as ISC does). Needs CAP_NET_RAW and CAP_NET_BIND_SERVICE.
 */
int dhcp_io_open(const struct dhcp_conf *conf, const char *const *ifnames, uint16_t port,
		 uint32_t local_addr, struct dhcp_io **out, char *err, size_t errlen) CORE_WARN_UNUSED;
/* Re-reads interfaces and addresses (after a config reload). */
int dhcp_io_rescan(struct dhcp_io *io, const struct dhcp_conf *conf, char *err,
		   size_t errlen) CORE_WARN_UNUSED;
void dhcp_io_close(struct dhcp_io *io);

int dhcp_io_fd(const struct dhcp_io *io);

/*
 * Receives up to max datagrams without blocking into msgs; returns how many (0 when none
 * is waiting) or -errno. Datagrams from interfaces we do not serve are dropped and counted
 * in *foreign.
 */
int dhcp_io_recv(struct dhcp_io *io, struct dhcp_rxmsg *msgs, size_t max, uint64_t *foreign);

/* Sends one reply as tx says. Returns 0 or -errno. */
int dhcp_io_send(struct dhcp_io *io, const struct dhcp_tx *tx) CORE_WARN_UNUSED;

/*
 * ping-check: sends an ICMP echo request to addr, tagged with id and seq. Returns 0 or
 * -errno. dhcp_io_icmp_fd is readable when replies wait; dhcp_io_ping_replies collects the
 * sources of echo replies carrying id (up to max), returning how many.
 */
int dhcp_io_ping(struct dhcp_io *io, uint32_t addr, uint16_t id, uint16_t seq) CORE_WARN_UNUSED;
int dhcp_io_icmp_fd(const struct dhcp_io *io);
size_t dhcp_io_ping_replies(struct dhcp_io *io, uint16_t id, uint32_t *addrs, size_t max);

/* The served interfaces, for logging and the control socket. */
const struct dhcp_iface *dhcp_io_ifaces(const struct dhcp_io *io, size_t *n);

#endif
