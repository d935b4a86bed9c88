/* SPDX-License-Identifier: MPL-2.0 */
/* One failover relationship's server-state machine, as ISC 4.4.3 runs it (pure). */
#ifndef DHCP_FAILOVER_H
#define DHCP_FAILOVER_H

#include <stdbool.h>
#include <stdint.h>

#include "core_err.h"
#include "dhcp_conf.h"
#include "dhcp_fo_wire.h"

/*
 * The connection handshake (CONNECT / CONNECTACK with ISC's checks), keep-alive (CONTACT,
 * max-response-delay), the server states and their transitions of
 * shared/isc-failover-reference.md sections 3 and 4, and the update-request exchange
 * (UPDREQALL / UPDREQ / UPDDONE). Binding updates (BNDUPD/BNDACK), lease times and pool
 * balancing belong to the binding layer above; this module tells it when the peer asks for
 * updates (ops.updates_requested) and is told when they are all acked (dhcp_fo_updates_done).
 *
 * Links: the daemon opens TCP connections both ways, as ISC does, and numbers them (link ids
 * > 0). Every event names its link. The first link to finish the handshake is the link; a
 * later one is refused as a duplicate. No I/O, clock or allocation happens here: the caller
 * passes the time (Unix seconds) and gets actions through ops.
 */

enum dhcp_fo_service {
	DHCP_FO_SERVE_NONE,        /* drop DISCOVER/REQUEST/RELEASE/DECLINE ("not responding") */
	DHCP_FO_SERVE_COOPERATING, /* normal: load balanced, own free pool only */
	DHCP_FO_SERVE_ALONE,       /* communications-interrupted: everyone, own pool, MCLT limits */
	DHCP_FO_SERVE_PARTNER_DOWN /* everyone; the partner's pool after MCLT */
};

/* What the lease file keeps: ISC's "failover peer NAME state { ... }" record. */
struct dhcp_fo_saved {
	bool valid; /* false: no record (a new server starts in recover) */
	uint8_t my_state, partner_state; /* enum dhcp_fo_state */
	int64_t my_stos, partner_stos;
	uint32_t mclt; /* written by the secondary (it learns the MCLT in CONNECT); 0 = none */
};

struct dhcp_fo_ops {
	/* Send m on link (the machine fills in time and xid). */
	void (*send)(void *ctx, int link, struct dhcp_fo_msg *m);
	/* Close link (after a refusal, a DISCONNECT, or silence). why is for the log. */
	void (*close)(void *ctx, int link, const char *why);
	/* The state changed: write *s to the lease file before anything depends on it. */
	void (*persist)(void *ctx, const struct dhcp_fo_saved *s);
	/* The peer asked for updates: all leases (all) or the unacked ones. When every one of
	 * them is acked, call dhcp_fo_updates_done(). */
	void (*updates_requested)(void *ctx, bool all);
};

struct dhcp_fo;

#define DHCP_FO_STARTUP_S 15   /* ISC: STARTUP lasts at most this long; also a link's CONNECT wait */
#define DHCP_FO_SKEW_MAX_S 60  /* CONNECT / CONNECTACK time difference ISC tolerates */
#define DHCP_FO_LINKS_MAX 4

/*
 * Creates the machine for peer cfg (borrowed; must outlive it) in STARTUP, remembering the
 * saved state (or RECOVER when there is none, as ISC). vendor is sent as
 * vendor-class-identifier. Returns NULL when out of memory.
 */
struct dhcp_fo *dhcp_fo_create(const struct dhcp_failover_peer *cfg, const struct dhcp_fo_saved *saved,
			       const char *vendor, int64_t now, const struct dhcp_fo_ops *ops,
			       void *ctx);
void dhcp_fo_free(struct dhcp_fo *fo);

/* A TCP connection to or from the peer's address is up (the daemon checked the address). */
void dhcp_fo_link_up(struct dhcp_fo *fo, int link, int64_t now);
/* It closed (either side, or the daemon after ops.close). */
void dhcp_fo_link_down(struct dhcp_fo *fo, int link, int64_t now);
/*
 * A message arrived on link. Returns 0, or CORE_EMALFORMED / CORE_ESTATE when the link must
 * close (the machine has called ops.close with the reason already).
 */
int dhcp_fo_receive(struct dhcp_fo *fo, int link, const struct dhcp_fo_msg *m, int64_t now);
/* Timers: STARTUP and CONNECT waits, CONTACT, max-response-delay, recover-wait,
 * auto-partner-down. Call at least once a second. */
void dhcp_fo_tick(struct dhcp_fo *fo, int64_t now);

/* Operator: the partner is down (omshell's partner-down). CORE_ESTATE unless the state allows
 * it (communications-interrupted, resolution-interrupted, potential-conflict...). */
int dhcp_fo_set_partner_down(struct dhcp_fo *fo, int64_t now) CORE_WARN_UNUSED;
/*
 * Graceful shut-down (ISC's, when omshell sets the control object's state to shutdown): in
 * normal, move to shutdown and tell the peer, which takes over in partner-down; returns
 * whether we did. dhcp_fo_shutdown_done says when the peer is there (or there was nothing to
 * wait for); dhcp_fo_shutdown_finish then records recover (the peer served alone, so a
 * restart must catch up) without telling the peer; when the peer reached partner-down and
 * no update of ours was pending, the restart skips recover-wait (as ISC). The daemon waits
 * a few seconds at most. A saved shutdown (a stop in the middle) resumes as recover.
 */
bool dhcp_fo_shutdown(struct dhcp_fo *fo, int64_t now);
bool dhcp_fo_shutdown_done(const struct dhcp_fo *fo);
void dhcp_fo_shutdown_finish(struct dhcp_fo *fo, bool pending, int64_t now);
/*
 * Sends a binding message (BNDUPD, BNDACK, POOLREQ, POOLRESP) on the established link: with
 * the link's next xid, or answering answer_xid (>= 0; a BNDACK echoes its BNDUPD's). Fills in
 * m->time and m->xid. CORE_ESTATE when no link is established.
 */
int dhcp_fo_send(struct dhcp_fo *fo, struct dhcp_fo_msg *m, int64_t answer_xid,
		 int64_t now) CORE_WARN_UNUSED;

/* The binding layer has every update the peer asked for acked: send UPDDONE. */
void dhcp_fo_updates_done(struct dhcp_fo *fo, int64_t now);

uint8_t dhcp_fo_my_state(const struct dhcp_fo *fo);
uint8_t dhcp_fo_partner_state(const struct dhcp_fo *fo);
int64_t dhcp_fo_my_stos(const struct dhcp_fo *fo);
uint32_t dhcp_fo_mclt(const struct dhcp_fo *fo);
/* The HBA in force: the primary's own, or the one the secondary received in CONNECT. */
const uint8_t *dhcp_fo_hba(const struct dhcp_fo *fo);
/* The peer's max-unacked-bndupd (how many BNDUPDs may be in flight). */
uint32_t dhcp_fo_peer_max_unacked(const struct dhcp_fo *fo);
/* The link that completed the handshake, or 0. */
int dhcp_fo_link(const struct dhcp_fo *fo);
/* Binding updates may flow: the link is established, the peer's STATE arrived on it (so each
 * side knows where the other stands, as ISC sends its queue only after the peer's state), and
 * neither side is starting up. */
bool dhcp_fo_link_ready(const struct dhcp_fo *fo);
enum dhcp_fo_service dhcp_fo_service(const struct dhcp_fo *fo);

#endif
