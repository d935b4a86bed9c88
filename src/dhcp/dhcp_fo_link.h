/* SPDX-License-Identifier: MPL-2.0 */
/* The failover peer's TCP connections, driving one struct dhcp_fo on a libuv loop. */
#ifndef DHCP_FO_LINK_H
#define DHCP_FO_LINK_H

#include <stdint.h>
#include <uv.h>

#include "core_err.h"
#include "dhcp_conf.h"
#include "dhcp_failover.h"

/*
 * As ISC does: listen on `address` `port` (any address when none is configured), and connect
 * to `peer address` `peer port` from `address`, at start-up and DHCP_FO_RECONNECT_S after a
 * link closes, while no link is up. An incoming connection from any other address than the
 * peer's is closed at once, without a byte (counted). Messages are framed by their length,
 * decoded (dhcp_fo_wire) and handed to the state machine; a malformed one closes the link
 * (counted, logged rate-limited). The machine's clock is the wall clock, in seconds, ticked
 * every second. Messages the machine leaves to the binding layer (BNDUPD, BNDACK, POOLREQ,
 * POOLRESP) go to the bindings callback.
 */
#define DHCP_FO_RECONNECT_S 5
#define DHCP_FO_OUTQ_MAX ((size_t)4 << 20) /* bytes queued on one connection */

struct dhcp_fo_link;

struct dhcp_fo_link_counters {
	uint64_t connects, accepted, refused_address, malformed, frames_in, frames_out;
	uint64_t overflow, send_dropped;
};

struct dhcp_fo_link_cbs {
	/* A state change to write to the lease file (see dhcp_fo_ops.persist). */
	void (*persist)(void *ctx, const struct dhcp_fo_saved *s);
	/* The peer asked for updates (see dhcp_fo_ops.updates_requested). */
	void (*updates_requested)(void *ctx, bool all);
	/* A binding message on the established link; m's byte strings live for the call. */
	void (*bindings)(void *ctx, const struct dhcp_fo_msg *m);
	void *ctx;
};

/*
 * Starts the link for cfg (borrowed: outlives the link) with a new state machine resuming
 * saved (may be NULL). Returns 0, -EADDRINUSE and the like when the listen fails, or -ENOMEM.
 */
int dhcp_fo_link_start(uv_loop_t *loop, const struct dhcp_failover_peer *cfg,
		       const struct dhcp_fo_saved *saved, const char *vendor,
		       const struct dhcp_fo_link_cbs *cbs, struct dhcp_fo_link **out) CORE_WARN_UNUSED;

/* The state machine (for its queries, dhcp_fo_updates_done, dhcp_fo_set_partner_down). */
struct dhcp_fo *dhcp_fo_link_machine(struct dhcp_fo_link *k);

/* Sends a binding message on the established link; CORE_ESTATE when there is none. The xid
 * and time are filled in; the xid used is returned in m->xid. */
int dhcp_fo_link_send(struct dhcp_fo_link *k, struct dhcp_fo_msg *m) CORE_WARN_UNUSED;

/* The port it listens on (useful with port 0 in tests). */
int dhcp_fo_link_port(const struct dhcp_fo_link *k);

void dhcp_fo_link_counters(const struct dhcp_fo_link *k, struct dhcp_fo_link_counters *c);

/* Closes every handle; the loop must run once more to finish closing, then k is freed. */
void dhcp_fo_link_stop(struct dhcp_fo_link *k);

#endif
