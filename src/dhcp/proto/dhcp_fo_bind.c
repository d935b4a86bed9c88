/* SPDX-License-Identifier: MPL-2.0 */
/* Failover binding updates (see dhcp_fo_bind.h). Pure. */
#include <string.h>

#include "dhcp_fo_bind.h"


uint32_t dhcp_fo_lease_time(uint32_t want, uint32_t mclt, int64_t tsfp, int64_t now,
			    int64_t *tstp)
{
	uint32_t granted;

	if (want <= mclt)
		granted = want;
	else if (tsfp == DHCP_TIME_NONE || tsfp <= now)
		granted = mclt;
	else if (tsfp + (int64_t)mclt - now < (int64_t)want)
		granted = (uint32_t)(tsfp + (int64_t)mclt - now);
	else
		granted = want;
	*tstp = now + (int64_t)want + granted / 2;
	return granted;
}

static uint32_t wire_time(int64_t t)
{
	if (t == DHCP_TIME_NONE || t <= 0)
		return 0;
	if (t == DHCP_TIME_NEVER || t >= (int64_t)DHCP_FO_TIME_INFINITE)
		return DHCP_FO_TIME_INFINITE;
	return (uint32_t)t;
}

static int64_t rec_time(uint32_t t)
{
	return t == DHCP_FO_TIME_INFINITE ? DHCP_TIME_NEVER : (int64_t)t;
}

void dhcp_fo_bndupd_from_rec(const struct dhcp_lease_rec *r, uint8_t *chaddr,
			     struct dhcp_fo_msg *m)
{
	*m = (struct dhcp_fo_msg){.type = DHCP_FO_BNDUPD};
	m->assigned_ip = r->addr;
	m->binding_status = r->binding;
	m->present = 1u << DHCP_FO_ASSIGNED_IP | 1u << DHCP_FO_BINDING_STATUS;
	if (r->uid_len) {
		m->client_id = (struct dhcp_fo_bytes){r->uid, r->uid_len};
		m->present |= 1u << DHCP_FO_CLIENT_ID;
	}
	if (r->hlen) {
		size_t n = r->hlen < DHCP_HW_MAX ? r->hlen : DHCP_HW_MAX;

		chaddr[0] = r->htype;
		memcpy(chaddr + 1, r->hw, n);
		m->chaddr = (struct dhcp_fo_bytes){chaddr, (uint16_t)(n + 1)};
		m->present |= 1u << DHCP_FO_CHADDR;
	}
	m->lease_expiry = wire_time(r->ends);
	m->potential_expiry = wire_time(r->tstp);
	m->stos = wire_time(r->starts);
	m->present |= 1u << DHCP_FO_LEASE_EXPIRY | 1u << DHCP_FO_POTENTIAL_EXPIRY | 1u << DHCP_FO_STOS;
	if (wire_time(r->cltt)) {
		m->cltt = wire_time(r->cltt);
		m->present |= 1u << DHCP_FO_CLTT;
	}
	if (r->reserved || r->bootp) {
		m->ip_flags = (uint16_t)((r->reserved ? DHCP_FO_IPF_RESERVED : 0) |
					 (r->bootp ? DHCP_FO_IPF_BOOTP : 0));
		m->present |= 1u << DHCP_FO_IP_FLAGS;
	}
}

static int reject(const char **why, const char *what, int reason)
{
	*why = what;
	return reason;
}

int dhcp_fo_bndupd_parse(const struct dhcp_fo_msg *m, bool in_pool, struct dhcp_lease_rec *u,
			 const char **why)
{
	uint8_t b = m->binding_status;

	dhcp_lease_rec_init(u);
	if (!dhcp_fo_has(m, DHCP_FO_ASSIGNED_IP) || !dhcp_fo_has(m, DHCP_FO_BINDING_STATUS))
		return reject(why, "no IP address or binding status", DHCP_FO_R_MISSING_BINDINFO);
	u->addr = m->assigned_ip;
	if (!in_pool)
		return reject(why, "address is not in a pool of this relationship",
			      DHCP_FO_R_ILLEGAL_IP);
	if (b < DHCP_BINDING_FREE || b > DHCP_BINDING_BACKUP)
		return reject(why, "unknown binding status", DHCP_FO_R_FATAL_CONFLICT);
	if ((b == DHCP_BINDING_ACTIVE || b == DHCP_BINDING_EXPIRED || b == DHCP_BINDING_RELEASED) &&
	    !dhcp_fo_has(m, DHCP_FO_CHADDR))
		return reject(why, "no client hardware address", DHCP_FO_R_MISSING_BINDINFO);
	if (b == DHCP_BINDING_ABANDONED &&
	    (dhcp_fo_has(m, DHCP_FO_CHADDR) || dhcp_fo_has(m, DHCP_FO_CLIENT_ID)))
		return reject(why, "abandoned lease with a client", DHCP_FO_R_MISC);
	u->binding = u->next_binding = u->rewind_binding = b;
	if (dhcp_fo_has(m, DHCP_FO_CLIENT_ID) && m->client_id.len <= DHCP_UID_MAX) {
		u->uid_len = (uint8_t)m->client_id.len;
		memcpy(u->uid, m->client_id.p, m->client_id.len);
	}
	if (dhcp_fo_has(m, DHCP_FO_CHADDR) && m->chaddr.len >= 1 &&
	    m->chaddr.len <= DHCP_HW_MAX + 1) {
		u->htype = m->chaddr.p[0];
		u->hlen = (uint8_t)(m->chaddr.len - 1);
		memcpy(u->hw, m->chaddr.p + 1, u->hlen);
	}
	if (dhcp_fo_has(m, DHCP_FO_STOS))
		u->starts = rec_time(m->stos);
	if (dhcp_fo_has(m, DHCP_FO_LEASE_EXPIRY))
		u->ends = rec_time(m->lease_expiry);
	if (dhcp_fo_has(m, DHCP_FO_POTENTIAL_EXPIRY))
		u->tsfp = u->atsfp = rec_time(m->potential_expiry);
	if (dhcp_fo_has(m, DHCP_FO_CLTT))
		u->cltt = rec_time(m->cltt);
	if (dhcp_fo_has(m, DHCP_FO_IP_FLAGS)) {
		u->reserved = m->ip_flags & DHCP_FO_IPF_RESERVED;
		u->bootp = m->ip_flags & DHCP_FO_IPF_BOOTP;
	}
	return 0;
}

static bool own_free(enum dhcp_fo_role role, uint8_t b)
{
	return b == (role == DHCP_FO_PRIMARY ? DHCP_BINDING_FREE : DHCP_BINDING_BACKUP);
}

/*
 * ISC's normal_ and conflict_binding_state_transition_check, with one difference: ISC lets the
 * peer expire our active lease up to 65 s before our end ("clock skew plus a fudge", a known
 * problem with short leases in its own comment), and lets a primary in normal free it once
 * the potential expiry passed. We never let the peer expire or free a lease that is active
 * here until our own end has passed: a client renewed by us while the peer could not hear of
 * it (a partition, a restart) keeps its address. The peer is refused (reason 2) and then
 * hears our version of the lease.
 */
int dhcp_fo_transition_check(uint8_t my_state, enum dhcp_fo_role role,
			     const struct dhcp_lease_rec *cur, const struct dhcp_lease_rec *u,
			     int64_t now, const char **why)
{
	uint8_t c = cur->binding, n = u->binding;
	bool freeing = n == DHCP_BINDING_FREE || n == DHCP_BINDING_BACKUP;
	bool potential_past = u->tsfp == DHCP_TIME_NONE || u->tsfp <= now;
	bool ours_over = cur->ends != DHCP_TIME_NEVER &&
			 (cur->ends == DHCP_TIME_NONE || cur->ends <= now);

	if (u->reserved && !cur->reserved && own_free(role, c))
		return reject(why, "reserved flag on one of our free leases",
			      DHCP_FO_R_IP_NOT_RESERVED);
	if (u->bootp && !cur->bootp && own_free(role, c))
		return reject(why, "BOOTP flag on one of our free leases", DHCP_FO_R_MISC);
	if (n == c)
		return 0;
	if (c == DHCP_BINDING_ACTIVE) {
		/* In normal the secondary may not move an active lease but to released or
		 * abandoned (the primary alone expires leases). */
		if (my_state == DHCP_FO_S_NORMAL && role == DHCP_FO_PRIMARY &&
		    n != DHCP_BINDING_RELEASED && n != DHCP_BINDING_ABANDONED)
			return reject(why, "invalid state transition", DHCP_FO_R_FATAL_CONFLICT);
		if (n == DHCP_BINDING_EXPIRED && !ours_over)
			return reject(why, "invalid state transition: active here until its end",
				      DHCP_FO_R_FATAL_CONFLICT);
		if (freeing && (my_state != DHCP_FO_S_NORMAL || !potential_past || !ours_over))
			return reject(why, "invalid state transition", DHCP_FO_R_FATAL_CONFLICT);
		return 0;
	}
	if (my_state == DHCP_FO_S_NORMAL && (c == DHCP_BINDING_EXPIRED || c == DHCP_BINDING_RESET) &&
	    freeing && !potential_past)
		return reject(why, "invalid state transition", DHCP_FO_R_FATAL_CONFLICT);
	return 0;
}

bool dhcp_fo_peer_wins(const struct dhcp_lease_rec *ours, const struct dhcp_lease_rec *theirs,
		       enum dhcp_fo_role my_role)
{
	bool peer_is_primary = my_role == DHCP_FO_SECONDARY;

	if (ours->binding == DHCP_BINDING_ACTIVE && theirs->binding == DHCP_BINDING_ACTIVE) {
		if (theirs->cltt != ours->cltt)
			return theirs->cltt > ours->cltt;
		return peer_is_primary;
	}
	if (ours->binding == DHCP_BINDING_ACTIVE && theirs->binding == DHCP_BINDING_EXPIRED)
		return true;
	if (theirs->binding == DHCP_BINDING_ACTIVE)
		return true;
	return peer_is_primary;
}
