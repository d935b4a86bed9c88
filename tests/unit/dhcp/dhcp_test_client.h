/* SPDX-License-Identifier: MPL-2.0 */
/* Unit-test helper: DHCP requests as real clients build them, fed to a pure server. */
#ifndef DHCP_TEST_CLIENT_H
#define DHCP_TEST_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "dhcp_packet.h"
#include "dhcp_server.h"

struct tclient {
	uint8_t mac[6];
	uint32_t xid;
	const uint8_t *uid;
	size_t uid_len;
};

/* A server and what a client sees of it: the last reply, decoded. */
struct tserver {
	struct dhcp_server *srv;
	struct dhcp_rx rx;
	struct dhcp_tx tx;
	struct dhcp_packet reply;
};

/* MAC 02:00:00:00:00:last. */
void tclient_init(struct tclient *c, uint8_t last);
void tclient_u32be(uint8_t *b, uint32_t v);
/* Builds a request; extra options are (int code, size_t len, const uint8_t *bytes) triples
 * ended by 0. Returns its length. */
size_t tclient_request(const struct tclient *c, uint8_t type, uint32_t ciaddr, uint32_t giaddr,
                       uint8_t *buf, size_t cap, ...);
/* A 4-byte option of p (asserted present). */
uint32_t tclient_opt_u32(const struct dhcp_packet *p, uint8_t code);

/* Feeds one datagram; returns the reply's message type, or -1 for no reply. */
int tserver_feed(struct tserver *t, const uint8_t *buf, size_t len, int64_t now);
/* DISCOVER then REQUEST(selecting); returns the address ACKed (0 if none). */
uint32_t tserver_dora(struct tserver *t, const struct tclient *c, int64_t now);

#endif
