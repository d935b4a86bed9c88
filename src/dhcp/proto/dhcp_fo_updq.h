/* SPDX-License-Identifier: MPL-2.0 */
/* The failover update queue: leases to send in BNDUPDs, in order, within the peer's window. */
#ifndef DHCP_FO_UPDQ_H
#define DHCP_FO_UPDQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core_err.h"

/*
 * Which leases the peer has still to hear about. An address is queued once however often it
 * changes before it is sent (the BNDUPD carries the lease as it is when sent); at most the
 * peer's max-unacked-bndupd are in flight (ISC's rule, F:dhcp_failover_send_updates); a
 * BNDACK must echo the BNDUPD's xid, or the lease stays in flight (ISC does the same: "xid
 * mismatch"); a lease that changes while in flight is sent again after its ack. When the link
 * goes, what was in flight is queued again, first. dhcp_fo_updq_idle() says when UPDDONE may
 * go (nothing queued, nothing in flight).
 *
 * Memory is fixed at creation: one slot per address of the relationship's pools. Pure.
 */
struct dhcp_fo_updq;

/* For up to cap distinct addresses. NULL when out of memory. */
struct dhcp_fo_updq *dhcp_fo_updq_new(size_t cap);
void dhcp_fo_updq_free(struct dhcp_fo_updq *q);

/*
 * The lease at addr changed (or the peer asked for it). ready is the number of the journal
 * record that holds the change (0: nothing to wait for): its BNDUPD goes only once that is
 * durable, so that the peer never learns of a change a crash here could undo (a lease given
 * to it by pool balancing, say, that we would otherwise hand out too). CORE_EFULL past cap
 * addresses.
 */
int dhcp_fo_updq_push(struct dhcp_fo_updq *q, uint32_t addr, uint64_t ready) CORE_WARN_UNUSED;

/*
 * The next address to send while fewer than window are in flight and its change is durable
 * (ready <= durable): 1 with *addr, or 0. The caller sends its BNDUPD with xid and reports
 * it with dhcp_fo_updq_sent().
 */
int dhcp_fo_updq_next(struct dhcp_fo_updq *q, uint32_t window, uint64_t durable, uint32_t *addr);
void dhcp_fo_updq_sent(struct dhcp_fo_updq *q, uint32_t addr, uint32_t xid);
/* Instead of sending addr (just returned by dhcp_fo_updq_next): it goes back to the head of
 * the queue until journal record ready is durable. */
void dhcp_fo_updq_hold(struct dhcp_fo_updq *q, uint32_t addr, uint64_t ready);

enum dhcp_fo_ack {
	DHCP_FO_ACK_DONE,     /* acked; the lease is up to date at the peer */
	DHCP_FO_ACK_AGAIN,    /* acked, but it changed meanwhile: queued again */
	DHCP_FO_ACK_MISMATCH, /* in flight with another xid: still in flight (ISC's rule) */
	DHCP_FO_ACK_UNKNOWN,  /* not in flight: ignored (ISC ignores it silently) */
};
enum dhcp_fo_ack dhcp_fo_updq_acked(struct dhcp_fo_updq *q, uint32_t addr, uint32_t xid);

/* The link is gone: everything in flight is queued again, ahead of the rest. */
void dhcp_fo_updq_link_lost(struct dhcp_fo_updq *q);

/* Whether addr's BNDUPD is in flight (sent, not acked): a peer's update of it duels. */
bool dhcp_fo_updq_flying(const struct dhcp_fo_updq *q, uint32_t addr);

size_t dhcp_fo_updq_queued(const struct dhcp_fo_updq *q);
size_t dhcp_fo_updq_in_flight(const struct dhcp_fo_updq *q);
bool dhcp_fo_updq_idle(const struct dhcp_fo_updq *q);

#endif
