/* SPDX-License-Identifier: MPL-2.0 */
/* Failover binding updates: lease times under MCLT, BNDUPD contents and ISC's checks (pure). */
#ifndef DHCP_FO_BIND_H
#define DHCP_FO_BIND_H

#include <stdbool.h>
#include <stdint.h>

#include "dhcp_conf.h"
#include "dhcp_fo_wire.h"
#include "dhcp_lease.h"

/* ISC's MAX_TIME: what an infinite time becomes on the wire. */
#define DHCP_FO_TIME_INFINITE 0x7fffffffu

/*
 * The lease time to grant under failover (ISC's ack_lease): want (the configured time) when it
 * is at most MCLT; MCLT when the peer has acked no potential expiry beyond now (tsfp);
 * otherwise min(want, tsfp + MCLT - now). *tstp is the potential expiry to send the peer:
 * now + want + granted / 2.
 */
uint32_t dhcp_fo_lease_time(uint32_t want, uint32_t mclt, int64_t tsfp, int64_t now,
			    int64_t *tstp);

/*
 * The BNDUPD ISC sends for lease r: 2, 3, 4 (with a uid), 5 (with a hardware address:
 * htype then the address), 13 (ends; 0 for a lease never used), 18 (tstp), 25 (starts),
 * 6 (cltt, when known), 12 (flags, when any). Byte strings point into r and chaddr (a
 * DHCP_HW_MAX + 1 byte buffer of the caller's).
 */
void dhcp_fo_bndupd_from_rec(const struct dhcp_lease_rec *r, uint8_t *chaddr,
			     struct dhcp_fo_msg *m);

/*
 * A received BNDUPD checked as ISC's dhcp_failover_process_bind_update does, in its order,
 * and turned into the record it asks for (u: addr, binding, uid, hardware, starts, ends,
 * tsfp = atsfp = its potential expiry, flags; cltt from option 6 for dueling only). in_pool
 * says whether the address is in a pool of this relationship. Returns 0, or the reject
 * reason with *why (a static string) for the BNDACK.
 */
int dhcp_fo_bndupd_parse(const struct dhcp_fo_msg *m, bool in_pool, struct dhcp_lease_rec *u,
			 const char **why);

/*
 * May our lease cur move to the peer's u? (ISC's normal_ and conflict_binding_state_
 * transition_check, and the RESERVED / BOOTP flag checks.) my_state is our server state.
 * Returns 0 or a reject reason (2: invalid transition; 19, 6: flags), with *why.
 */
int dhcp_fo_transition_check(uint8_t my_state, enum dhcp_fo_role role,
			     const struct dhcp_lease_rec *cur, const struct dhcp_lease_rec *u,
			     int64_t now, const char **why);

/*
 * Dueling updates (ISC's failover_lease_is_better): our own update of the lease (ours) is
 * still unacked when the peer's (theirs) arrives. True when the peer's version wins (apply
 * it); false when ours does (answer with reject 16, "less critical binding information").
 */
bool dhcp_fo_peer_wins(const struct dhcp_lease_rec *ours, const struct dhcp_lease_rec *theirs,
		       enum dhcp_fo_role my_role);

#endif
