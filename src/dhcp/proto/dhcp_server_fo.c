/* SPDX-License-Identifier: MPL-2.0 */
/* The server's failover pools: ownership, MCLT, binding updates and pool balancing, as ISC. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core_assert.h"
#include "dhcp_fo_bind.h"
#include "dhcp_fo_hash.h"
#include "dhcp_server_int.h"

/* ---- relationships ---- */

static size_t rel_addrs(const struct dhcp_conf *conf, const struct dhcp_failover_peer *cfg)
{
	size_t n = 0;

	for (size_t i = 0; i < conf->subnets_n; i++)
		for (size_t j = 0; j < conf->subnets[i]->pools_n; j++) {
			const struct dhcp_pool *pool = conf->subnets[i]->pools[j];

			if (pool->fo != cfg)
				continue;
			for (size_t k = 0; k < pool->ranges_n; k++)
				n += (size_t)pool->ranges[k].hi - pool->ranges[k].lo + 1;
		}
	return n;
}

/* The same peers, in the same order (their machines stay attached across a reload). */
static bool same_peers(const struct dhcp_server *s, const struct dhcp_conf *conf)
{
	if (s->fo_n != conf->failover_peers_n)
		return false;
	for (size_t i = 0; i < s->fo_n; i++)
		if (strcmp(s->fo[i].cfg->name, conf->failover_peers[i]->name))
			return false;
	return true;
}

int srv_fo_set_conf(struct dhcp_server *s, const struct dhcp_conf *conf,
                    const struct dhcp_pools *pools)
{
	size_t n = conf->failover_peers_n;
	struct srv_fo_rel *rels;

	if (s->fo && !same_peers(s, conf))
		return CORE_ESTATE;
	rels = calloc(n ? n : 1, sizeof(*rels));
	if (!rels)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct srv_fo_rel *r = &rels[i];

		if (s->fo)
			*r = s->fo[i]; /* the machine, counters and timers carry over */
		r->dry = NULL; /* pointed into the old configuration */
		r->cfg = conf->failover_peers[i];
		r->addrs = rel_addrs(conf, r->cfg);
		/* A reload may change the ranges: a new queue of the new size, with the
		 * addresses still waiting for the peer carried over. */
		r->q = dhcp_fo_updq_new(r->addrs);
		if (!r->q) {
			while (i--)
				dhcp_fo_updq_free(rels[i].q);
			free(rels);
			return -ENOMEM;
		}
		r->req_pending = s->fo ? s->fo[i].req_pending : false;
	}
	for (size_t i = 0; s->fo && i < s->fo_n; i++) {
		/* In flight or queued: send again from the new queue (the peer takes a repeat). */
		dhcp_fo_updq_link_lost(s->fo[i].q);
		for (uint32_t a; dhcp_fo_updq_next(s->fo[i].q, UINT32_MAX, UINT64_MAX, &a);) {
			const struct dhcp_pool *pool = dhcp_pools_find(pools, a, NULL);

			dhcp_fo_updq_sent(s->fo[i].q, a, 0);
			if (pool && pool->fo && pool->fo->index == i &&
			    dhcp_fo_updq_push(rels[i].q, a, s->durable + 1) < 0)
				ASSERT(!"failover update queue full");
		}
		dhcp_fo_updq_free(s->fo[i].q);
	}
	free(s->fo);
	s->fo = rels;
	s->fo_n = n;
	return 0;
}

void srv_fo_free(struct dhcp_server *s)
{
	for (size_t i = 0; i < s->fo_n; i++)
		dhcp_fo_updq_free(s->fo[i].q);
	free(s->fo);
	s->fo = NULL;
	s->fo_n = 0;
}

struct srv_fo_rel *srv_fo_rel_of(const struct dhcp_server *s, const struct dhcp_pool *pool)
{
	/* By position: a reload keeps the same peers in the same order (srv_fo_set_conf). */
	if (!pool || !pool->fo || pool->fo->index >= s->fo_n)
		return NULL;
	return &s->fo[pool->fo->index];
}

void dhcp_server_fo_set_ops(struct dhcp_server *s, const struct dhcp_server_fo_ops *ops, void *ctx)
{
	s->fo_ops = ops;
	s->fo_ctx = ctx;
}

void dhcp_server_fo_attach(struct dhcp_server *s, size_t peer, struct dhcp_fo *fo)
{
	ASSERT(peer < s->fo_n);
	s->fo[peer].fo = fo;
}

size_t dhcp_server_fo_peers(const struct dhcp_server *s)
{
	return s->fo_n;
}

void dhcp_server_fo_stats(const struct dhcp_server *s, size_t peer, struct dhcp_server_fo_stats *st)
{
	const struct srv_fo_rel *r = &s->fo[peer];

	ASSERT(peer < s->fo_n);
	st->cfg = r->cfg;
	st->fo = r->fo;
	st->queued = dhcp_fo_updq_queued(r->q);
	st->in_flight = dhcp_fo_updq_in_flight(r->q);
	st->ctr = r->ctr;
}

/* ---- ownership and service ---- */

static uint8_t own_free(const struct srv_fo_rel *r)
{
	return r->cfg->role == DHCP_FO_PRIMARY ? DHCP_BINDING_FREE : DHCP_BINDING_BACKUP;
}

static uint8_t peer_free(const struct srv_fo_rel *r)
{
	return r->cfg->role == DHCP_FO_PRIMARY ? DHCP_BINDING_BACKUP : DHCP_BINDING_FREE;
}

static int64_t lease_tsfp(const struct dhcp_lease *l)
{
	return l && l->fo && l->fo->tsfp != DHCP_TIME_NONE ? l->fo->tsfp : 0;
}

static bool waits_for_peer(uint8_t b)
{
	return b == DHCP_BINDING_EXPIRED || b == DHCP_BINDING_RELEASED || b == DHCP_BINDING_RESET;
}

/*
 * ISC's lease_mine_to_reallocate (srv_fo_owned): our own free state always; in partner-down also
 * the peer's free state once MCLT has passed since we took over (and since the peer last heard of
 * the lease), and leases waiting for the peer's word once their potential expiry passed.
 */
bool srv_fo_owned(const struct dhcp_server *s, const struct dhcp_pool *pool,
                  const struct dhcp_lease *l, int64_t now)
{
	const struct srv_fo_rel *r = srv_fo_rel_of(s, pool);
	uint8_t b = l ? l->binding : DHCP_BINDING_FREE;
	int64_t from;

	if (!r || !r->fo || (l && l->reserved))
		return false;
	if (b == own_free(r))
		return true;
	if (dhcp_fo_service(r->fo) != DHCP_FO_SERVE_PARTNER_DOWN)
		return false;
	if (b == peer_free(r)) {
		from = dhcp_fo_my_stos(r->fo);
		if (lease_tsfp(l) > from)
			from = lease_tsfp(l);
		return now > from + (int64_t)dhcp_fo_mclt(r->fo);
	}
	return waits_for_peer(b) && lease_tsfp(l) < now;
}

bool srv_fo_rewinds_to_active(const struct dhcp_lease *l)
{
	return l && l->fo && !l->reserved && waits_for_peer(l->binding) &&
	       l->fo->rewind_binding == DHCP_BINDING_ACTIVE;
}

bool srv_fo_usable(void *ctx, const struct dhcp_pool *pool, const struct dhcp_lease *l, int64_t now)
{
	return !(l && l->offer_until > now) && srv_fo_owned(ctx, pool, l, now);
}

bool srv_fo_serving(const struct srv_fo_rel *r)
{
	return r->fo && dhcp_fo_service(r->fo) != DHCP_FO_SERVE_NONE;
}

static bool peer_free_at(const struct dhcp_server *s, const struct srv_fo_rel *r, uint32_t a)
{
	const struct dhcp_lease *l = dhcp_leasedb_get(s->db, a);

	return (l ? l->binding : DHCP_BINDING_FREE) == peer_free(r) && !(l && l->reserved) &&
	       !dhcp_pools_reserved(s->pools, a);
}

/*
 * Whether the peer has a free lease in r's pools of network net (ISC's peer_has_leases). The
 * last one found is checked first; a network where it had none is not searched again within
 * the same second.
 */
static bool peer_has_free(struct dhcp_server *s, struct srv_fo_rel *r, const struct dhcp_shared *net)
{
	const struct dhcp_pool *hp = dhcp_pools_find(s->pools, r->peer_free_hint, NULL);

	if (hp && hp->subnet->shared == net && srv_fo_rel_of(s, hp) == r &&
	    peer_free_at(s, r, r->peer_free_hint))
		return true;
	if (r->dry == net && r->dry_at == s->now)
		return false;
	for (size_t i = 0; i < net->subnets_n; i++) {
		const struct dhcp_subnet *sn = net->subnets[i];

		for (size_t j = 0; j < sn->pools_n; j++) {
			const struct dhcp_pool *pool = sn->pools[j];

			if (srv_fo_rel_of(s, pool) != r)
				continue;
			for (size_t k = 0; k < pool->ranges_n; k++)
				for (uint64_t a = pool->ranges[k].lo; a <= pool->ranges[k].hi; a++)
					if (peer_free_at(s, r, (uint32_t)a)) {
						r->peer_free_hint = (uint32_t)a;
						return true;
					}
		}
	}
	r->dry = net;
	r->dry_at = s->now;
	return false;
}

/*
 * RFC 3074 as ISC applies it: DISCOVERs only, in normal, with load balancing configured; and
 * a client of the peer's is answered anyway when the peer has no free lease for it.
 */
bool srv_fo_discover_mine(struct dhcp_server *s, struct srv_fo_rel *r, const struct dhcp_shared *net,
                          const struct dhcp_packet *p, const uint8_t *uid, size_t uid_len)
{
	uint8_t bucket;

	if (dhcp_fo_service(r->fo) != DHCP_FO_SERVE_COOPERATING || !r->cfg->load_balance_max_secs ||
	    p->secs > r->cfg->load_balance_max_secs)
		return true;
	bucket = dhcp_fo_client_bucket(uid, uid_len, p->chaddr, p->hlen);
	if (dhcp_fo_hba_primary(dhcp_fo_hba(r->fo), bucket) == (r->cfg->role == DHCP_FO_PRIMARY))
		return true;
	if (peer_has_free(s, r, net))
		return false;
	r->ctr.peer_dry_answered++;
	return true;
}

uint32_t srv_fo_lease_time(struct dhcp_server *s, struct srv_fo_rel *r, struct dhcp_lease *l,
                           uint32_t want, bool commit)
{
	int64_t tstp;
	uint32_t lt = dhcp_fo_lease_time(want, dhcp_fo_mclt(r->fo),
	                                 l && l->fo ? l->fo->tsfp : DHCP_TIME_NONE, s->now, &tstp);
	struct dhcp_lease_fo *f;

	if (!commit || !l)
		return lt;
	f = dhcp_leasedb_need_fo(s->db, l);
	if (!f)
		return lt < want ? lt : want; /* out of memory: the record goes without tstp */
	f->tstp = tstp;
	if (f->tsfp != DHCP_TIME_NONE && tstp < f->tsfp)
		f->tsfp = tstp;
	return lt;
}

/*
 * The rewind state is the last binding the peer may have heard of (ISC's
 * rewind_binding_state). It follows the binding at once while we cooperate (the update goes
 * out shortly, as ISC reasons) and otherwise when the update is sent (send_updates). Alone
 * (communications-interrupted), a lease whose rewind state is our own free one was given
 * while the peer could not hear of it: when it ends it goes straight back to free, as ISC's,
 * instead of waiting in released or expired for an ack the peer cannot give.
 */
static bool rewind_follows(const struct srv_fo_rel *r)
{
	return dhcp_fo_service(r->fo) != DHCP_FO_SERVE_ALONE &&
	       dhcp_fo_service(r->fo) != DHCP_FO_SERVE_PARTNER_DOWN;
}

uint8_t srv_fo_end_state(const struct srv_fo_rel *r, const struct dhcp_lease *l, uint8_t waiting)
{
	if (r->fo && dhcp_fo_service(r->fo) == DHCP_FO_SERVE_ALONE && l->fo &&
	    l->fo->rewind_binding == own_free(r) && !l->reserved)
		return own_free(r);
	return waiting;
}

void srv_fo_changed(struct dhcp_server *s, struct srv_fo_rel *r, struct dhcp_lease *l)
{
	struct dhcp_lease_fo *f = dhcp_leasedb_need_fo(s->db, l);

	if (f) {
		f->next_binding = 0;
		if (!r->fo || rewind_follows(r))
			f->rewind_binding = l->binding;
	}
	/* The queue has a slot for every address of the relationship: it cannot be full. A
	 * record the journal could not take (0) is sent when what follows it is durable. */
	if (dhcp_fo_updq_push(r->q, l->addr, srv_persist_rec(s, l)) < 0)
		ASSERT(!"failover update queue full");
}

/*
 * ISC's pool timer under failover: an active lease past its end expires, except on a
 * secondary in normal, which waits for the primary's update; abandoned leases whose time
 * is over expire (and come back free through the peer's ack).
 */
void srv_fo_sweep(struct dhcp_server *s, struct srv_fo_rel *r, struct dhcp_lease *l)
{
	bool secondary_normal = r->cfg->role == DHCP_FO_SECONDARY && r->fo &&
	                        dhcp_fo_my_state(r->fo) == DHCP_FO_S_NORMAL;
	bool over = l->ends != DHCP_TIME_NEVER && l->ends != DHCP_TIME_NONE && l->ends <= s->now;

	if (!r->fo || !over ||
	    (l->binding != DHCP_BINDING_ACTIVE && l->binding != DHCP_BINDING_ABANDONED) ||
	    (l->binding == DHCP_BINDING_ACTIVE && secondary_normal)) {
		dhcp_pools_update(s->pools, l->addr, s->now);
		return;
	}
	if (l->binding == DHCP_BINDING_ACTIVE)
		s->ctr.leases_expired++;
	l->binding = l->binding == DHCP_BINDING_ACTIVE
	                 ? srv_fo_end_state(r, l, DHCP_BINDING_EXPIRED)
	                 : DHCP_BINDING_EXPIRED;
	if (dhcp_leasedb_need_fo(s->db, l))
		l->fo->tstp = l->ends;
	srv_fo_changed(s, r, l);
}

/* ---- binding messages ---- */

static void send_reject(struct dhcp_server *s, struct srv_fo_rel *r, uint32_t addr, uint32_t xid,
                        uint8_t reason, const char *why)
{
	struct dhcp_fo_msg m = {
	    .type = DHCP_FO_BNDACK, .assigned_ip = addr, .reject_reason = reason};
	char a[16];

	m.message = (struct dhcp_fo_bytes){(const uint8_t *)why, (uint16_t)strlen(why)};
	m.present = 1u << DHCP_FO_ASSIGNED_IP | 1u << DHCP_FO_REJECT_REASON | 1u << DHCP_FO_MESSAGE;
	CLOG_RL(&s->rl, s->now * 1000, CORE_LOG_NOTICE,
	        "failover peer %s: bind update on %s "
	        "rejected: %s (reason %u)",
	        r->cfg->name, srv_ip_str(addr, a), why, reason);
	if (dhcp_fo_send(r->fo, &m, xid, s->now) == 0)
		r->ctr.rejects_sent++;
}

/* The record the peer's update u makes of our cur (ISC's process_bind_update). */
static void merge_update(const struct srv_fo_rel *r, const struct dhcp_lease_rec *cur,
                         const struct dhcp_lease_rec *u, struct dhcp_lease_rec *out)
{
	uint8_t b = u->binding;
	bool same = cur->hlen == u->hlen && !memcmp(cur->hw, u->hw, u->hlen) &&
	            cur->uid_len == u->uid_len && !memcmp(cur->uid, u->uid, u->uid_len);

	*out = *cur;
	/* What waits for the peer's word is done with once the peer said it: free. */
	if (waits_for_peer(b))
		b = out->reserved && r->cfg->role == DHCP_FO_SECONDARY ? DHCP_BINDING_BACKUP
		                                                       : DHCP_BINDING_FREE;
	out->binding = out->rewind_binding = b;
	out->next_binding = DHCP_BINDING_NONE;
	if (u->hlen || u->binding == DHCP_BINDING_ABANDONED) {
		out->htype = u->htype;
		out->hlen = u->hlen;
		memcpy(out->hw, u->hw, u->hlen);
	}
	if (u->uid_len ||
	    (b != DHCP_BINDING_FREE && b != DHCP_BINDING_BACKUP && b != DHCP_BINDING_RESET)) {
		out->uid_len = u->uid_len;
		memcpy(out->uid, u->uid, u->uid_len);
	}
	if (!same)
		out->hostname_len = 0;
	if (u->starts != DHCP_TIME_NONE)
		out->starts = u->starts;
	if (u->ends != DHCP_TIME_NONE)
		out->ends = u->ends;
	if (u->tsfp != DHCP_TIME_NONE)
		out->tsfp = out->atsfp = u->tsfp;
	if (out->tstp == DHCP_TIME_NONE)
		out->tstp = out->tsfp != DHCP_TIME_NONE ? out->tsfp : 0;
	out->reserved = u->reserved;
	out->bootp = u->bootp;
}

static bool in_rel(const struct dhcp_server *s, const struct srv_fo_rel *r, uint32_t addr)
{
	const struct dhcp_pool *pool = dhcp_pools_find(s->pools, addr, NULL);

	return pool && pool->fo && !strcmp(pool->fo->name, r->cfg->name);
}

static void free_rec(uint32_t addr, struct dhcp_lease_rec *rec)
{
	dhcp_lease_rec_init(rec);
	rec->addr = addr;
	rec->binding = DHCP_BINDING_FREE;
	rec->starts = rec->ends = rec->tstp = 0;
}

static void on_bndupd(struct dhcp_server *s, struct srv_fo_rel *r, size_t peer,
                      const struct dhcp_fo_msg *m)
{
	struct dhcp_lease_rec u, cur, next;
	struct dhcp_lease *l;
	const char *why;
	int rc;

	r->ctr.bndupd_received++;
	rc = dhcp_fo_bndupd_parse(m, in_rel(s, r, m->assigned_ip), &u, &why);
	if (rc) {
		send_reject(s, r, m->assigned_ip, m->xid, (uint8_t)rc, why);
		return;
	}
	l = dhcp_leasedb_get(s->db, u.addr);
	if (l)
		dhcp_leasedb_to_rec(l, &cur);
	else
		free_rec(u.addr, &cur);
	rc =
	    dhcp_fo_transition_check(dhcp_fo_my_state(r->fo), r->cfg->role, &cur, &u, s->now, &why);
	if (rc) {
		send_reject(s, r, u.addr, m->xid, (uint8_t)rc, why);
		/* The peer drops its update: it must hear ours, or the two keep disagreeing
		 * about a lease a client holds. */
		if (l && l->binding == DHCP_BINDING_ACTIVE && dhcp_fo_updq_push(r->q, u.addr, 0) < 0)
			ASSERT(!"failover update queue full");
		return;
	}
	if (dhcp_fo_updq_flying(r->q, u.addr) && !dhcp_fo_peer_wins(&cur, &u, r->cfg->role)) {
		send_reject(s, r, u.addr, m->xid, DHCP_FO_R_LESS_CRIT_BIND_INFO,
		            "our binding information is more critical");
		return;
	}
	merge_update(r, &cur, &u, &next);
	if (dhcp_leasedb_apply(s->db, &next) < 0 || !(l = dhcp_leasedb_get(s->db, u.addr))) {
		send_reject(s, r, u.addr, m->xid, DHCP_FO_R_MISC, "out of memory");
		return;
	}
	srv_persist_rec(s, l);
	if (s->fo_ops)
		s->fo_ops->ack(s->fo_ctx, peer, u.addr, m->xid);
}

static void on_bndack(struct dhcp_server *s, struct srv_fo_rel *r, const struct dhcp_fo_msg *m)
{
	uint32_t addr = m->assigned_ip;
	enum dhcp_fo_ack a = dhcp_fo_updq_acked(r->q, addr, m->xid);
	struct dhcp_lease *l = dhcp_leasedb_get(s->db, addr);
	char ip[16];

	r->ctr.bndack_received++;
	if (dhcp_fo_has(m, DHCP_FO_REJECT_REASON)) {
		/* Not retried (ISC neither): reason 16 means the peer's own copy follows. */
		r->ctr.rejects_received++;
		CLOG_RL(&s->rl, s->now * 1000, CORE_LOG_NOTICE,
		        "failover peer %s: our update of %s rejected: reason %u %.*s", r->cfg->name,
		        srv_ip_str(addr, ip), m->reject_reason, (int)m->message.len,
		        (const char *)m->message.p);
		return;
	}
	if (a != DHCP_FO_ACK_DONE || !l || !l->fo)
		return;
	/* The peer now knows the potential expiry we sent it. */
	l->fo->tsfp = l->fo->atsfp = l->fo->tstp;
	if (waits_for_peer(l->binding)) {
		l->binding = l->reserved && r->cfg->role == DHCP_FO_SECONDARY ? DHCP_BINDING_BACKUP
		                                                              : DHCP_BINDING_FREE;
		l->fo->rewind_binding = l->binding;
	}
	srv_persist_rec(s, l);
}

static size_t balance(struct dhcp_server *s, struct srv_fo_rel *r);

static void on_poolreq(struct dhcp_server *s, struct srv_fo_rel *r, const struct dhcp_fo_msg *m)
{
	struct dhcp_fo_msg resp = {.type = DHCP_FO_POOLRESP,
	                           .present = 1u << DHCP_FO_ADDRESSES_TRANSFERRED};

	r->ctr.poolreq_received++;
	/* Only a primary balances; a secondary asked (by a confused peer) gives nothing. */
	resp.addresses_transferred = r->cfg->role == DHCP_FO_PRIMARY ? (uint32_t)balance(s, r) : 0;
	if (dhcp_fo_send(r->fo, &resp, m->xid, s->now) == 0)
		CLOG_INFO("failover peer %s: pool request answered: %u leases given", r->cfg->name,
		          resp.addresses_transferred);
}

void dhcp_server_fo_bindings(struct dhcp_server *s, size_t peer, const struct dhcp_fo_msg *m,
                             int64_t now)
{
	struct srv_fo_rel *r;

	ASSERT(peer < s->fo_n);
	r = &s->fo[peer];
	if (!r->fo)
		return;
	s->now = now;
	switch (m->type) {
	case DHCP_FO_BNDUPD:
		on_bndupd(s, r, peer, m);
		break;
	case DHCP_FO_BNDACK:
		on_bndack(s, r, m);
		break;
	case DHCP_FO_POOLREQ:
		on_poolreq(s, r, m);
		break;
	default: /* POOLRESP: the peer says how many it gave us; nothing to do */
		break;
	}
}

/* ---- update requests, sending, balancing ---- */

typedef void (*addr_fn)(struct dhcp_server *s, struct srv_fo_rel *r, uint32_t a, void *arg);

static void for_each_in_pool(struct dhcp_server *s, struct srv_fo_rel *r,
                             const struct dhcp_pool *pool, addr_fn fn, void *arg)
{
	for (size_t k = 0; k < pool->ranges_n; k++)
		for (uint64_t a = pool->ranges[k].lo; a <= pool->ranges[k].hi; a++)
			fn(s, r, (uint32_t)a, arg);
}

/* Calls pool_fn (when set) for every pool of r, else fn for every address of them. */
static void for_each_pool(struct dhcp_server *s, struct srv_fo_rel *r,
                          void (*pool_fn)(struct dhcp_server *s, struct srv_fo_rel *r,
                                          const struct dhcp_pool *pool, void *arg),
                          addr_fn fn, void *arg)
{
	const struct dhcp_conf *conf = s->conf;

	for (size_t i = 0; i < conf->subnets_n; i++)
		for (size_t j = 0; j < conf->subnets[i]->pools_n; j++) {
			const struct dhcp_pool *pool = conf->subnets[i]->pools[j];

			if (pool->fo != r->cfg)
				continue;
			if (pool_fn)
				pool_fn(s, r, pool, arg);
			else
				for_each_in_pool(s, r, pool, fn, arg);
		}
}

static void request_one(struct dhcp_server *s, struct srv_fo_rel *r, uint32_t a, void *arg)
{
	bool all = *(bool *)arg;
	const struct dhcp_lease *l = dhcp_leasedb_get(s->db, a);

	/* UPDREQ: what the peer has not acked, and what waits for its word. */
	if (!all && !(l && ((l->fo && l->fo->tstp > l->fo->atsfp) || waits_for_peer(l->binding))))
		return;
	if (dhcp_fo_updq_push(r->q, a, 0) < 0)
		ASSERT(!"failover update queue full");
}

void dhcp_server_fo_updates_requested(struct dhcp_server *s, size_t peer, bool all)
{
	struct srv_fo_rel *r;

	ASSERT(peer < s->fo_n);
	r = &s->fo[peer];
	for_each_pool(s, r, NULL, request_one, &all);
	r->req_pending = true;
}

static void send_updates(struct dhcp_server *s, struct srv_fo_rel *r)
{
	uint32_t window = dhcp_fo_peer_max_unacked(r->fo), a;
	uint8_t chaddr[DHCP_HW_MAX + 1];
	struct dhcp_lease_rec rec;
	struct dhcp_fo_msg m;

	while (dhcp_fo_updq_next(r->q, window ? window : 1, s->durable, &a)) {
		struct dhcp_lease *l = dhcp_leasedb_get(s->db, a);

		if (l && l->fo && l->fo->rewind_binding != l->binding) {
			/* The peer hears of it now: the rewind state moves first, on disk. */
			l->fo->rewind_binding = l->binding;
			dhcp_fo_updq_hold(r->q, a, srv_persist_rec(s, l));
			return;
		}
		if (l)
			dhcp_leasedb_to_rec(l, &rec);
		else
			free_rec(a, &rec); /* never used: ISC sends it as free, times 0 */
		if (rec.tstp == DHCP_TIME_NONE)
			rec.tstp = 0;
		dhcp_fo_bndupd_from_rec(&rec, chaddr, &m);
		if (dhcp_fo_send(r->fo, &m, -1, s->now) < 0)
			return; /* the link went: the queue keeps it */
		dhcp_fo_updq_sent(r->q, a, m.xid);
		r->ctr.bndupd_sent++;
	}
}

struct tally {
	size_t own, peer, give, given;
	enum { PASS_AFFINE, PASS_UNUSED, PASS_USED } pass;
};

static void count_one(struct dhcp_server *s, struct srv_fo_rel *r, uint32_t a, void *arg)
{
	struct tally *t = arg;
	const struct dhcp_lease *l = dhcp_leasedb_get(s->db, a);
	uint8_t b = l ? l->binding : DHCP_BINDING_FREE;

	if (dhcp_pools_reserved(s->pools, a) || (l && l->reserved))
		return;
	t->own += b == own_free(r);
	t->peer += b == peer_free(r);
}

/* ISC's peer_wants_lease: the lease's last client hashes to the peer. */
static bool peer_wants(const struct srv_fo_rel *r, const struct dhcp_lease *l)
{
	uint8_t bucket;

	if (l->uid_len)
		bucket = dhcp_fo_client_bucket(dhcp_lease_uid(l), l->uid_len, NULL, 0);
	else if (l->hlen)
		bucket = dhcp_fo_client_bucket(NULL, 0, l->hw, l->hlen);
	else
		return false;
	return dhcp_fo_hba_primary(dhcp_fo_hba(r->fo), bucket) != (r->cfg->role == DHCP_FO_PRIMARY);
}

static void give_one(struct dhcp_server *s, struct srv_fo_rel *r, uint32_t a, void *arg)
{
	struct tally *t = arg;
	struct dhcp_lease *l = dhcp_leasedb_get(s->db, a);
	bool used = l && (l->hlen || l->uid_len);

	if (!t->give || used != (t->pass != PASS_UNUSED) || dhcp_pools_reserved(s->pools, a) ||
	    (l && (l->reserved || l->offer_until > s->now || l->binding != DHCP_BINDING_FREE)) ||
	    (t->pass == PASS_AFFINE && !peer_wants(r, l)))
		return;
	if (!l && !(l = dhcp_leasedb_obtain(s->db, a)))
		return;
	l->binding = DHCP_BINDING_BACKUP;
	l->starts = s->now;
	if (dhcp_leasedb_need_fo(s->db, l))
		l->fo->tstp = s->now;
	srv_fo_changed(s, r, l);
	t->give--;
	t->given++;
	r->ctr.leases_balanced++;
}

/*
 * One pool's balance: half of the difference between our free leases and the peer's goes to
 * the peer. As ISC's first pass, leases whose last client hashes to the peer go first, up to
 * max-lease-ownership % of the pool past even, so that a returning client finds its address
 * with the server that answers it; then never used ones, then the rest.
 */
static void balance_pool(struct dhcp_server *s, struct srv_fo_rel *r, const struct dhcp_pool *pool,
                         void *arg)
{
	size_t *given = arg;
	struct tally t = {0};
	size_t want, total = 0, hold;

	for_each_in_pool(s, r, pool, count_one, &t);
	if (t.own <= t.peer + 1)
		return;
	for (size_t k = 0; k < pool->ranges_n; k++)
		total += (size_t)(pool->ranges[k].hi - pool->ranges[k].lo) + 1;
	hold = (total * r->cfg->max_lease_ownership + 50) / 100;
	want = (t.own - t.peer) / 2;
	t.give = want + hold;
	t.pass = PASS_AFFINE;
	for_each_in_pool(s, r, pool, give_one, &t);
	t.give = t.given < want ? want - t.given : 0;
	t.pass = PASS_UNUSED;
	for_each_in_pool(s, r, pool, give_one, &t);
	t.pass = PASS_USED;
	for_each_in_pool(s, r, pool, give_one, &t);
	*given += t.given;
}

/*
 * The primary's pool balance (ISC's dhcp_failover_pool_dobalance, its second pass), pool by
 * pool: each pool's free leases are shared between the servers, so that the secondary has
 * its own to give wherever its clients are. Returns how many were given.
 */
/* A secondary's pool that is short: ISC's POOLREQ condition, lts < -2 * misbalance. */
static void short_pool(struct dhcp_server *s, struct srv_fo_rel *r, const struct dhcp_pool *pool,
		       void *arg)
{
	bool *is_short = arg;
	struct tally t = {0};
	int64_t total = 0, lts, thresh;

	for (size_t k = 0; k < pool->ranges_n; k++)
		total += (int64_t)pool->ranges[k].hi - pool->ranges[k].lo + 1;
	for_each_in_pool(s, r, pool, count_one, &t);
	lts = ((int64_t)t.own - (int64_t)t.peer) / 2;
	thresh = (total * r->cfg->max_lease_misbalance + 50) / 100;
	if (lts < (thresh ? -2 * thresh : -1))
		*is_short = true;
}

/* The secondary cannot balance; when a pool is short it asks the primary (POOLREQ). */
static void ask_for_leases(struct dhcp_server *s, struct srv_fo_rel *r)
{
	struct dhcp_fo_msg m = {.type = DHCP_FO_POOLREQ};
	bool is_short = false;

	for_each_pool(s, r, short_pool, NULL, &is_short);
	if (is_short && dhcp_fo_send(r->fo, &m, -1, s->now) == 0) {
		r->ctr.poolreq_sent++;
		CLOG_INFO("failover peer %s: short of free leases: pool request sent", r->cfg->name);
	}
}

static size_t balance(struct dhcp_server *s, struct srv_fo_rel *r)
{
	size_t given = 0;

	if (r->cfg->role != DHCP_FO_PRIMARY) {
		ask_for_leases(s, r);
		return 0;
	}
	for_each_pool(s, r, balance_pool, NULL, &given);
	if (given)
		CLOG_INFO("failover peer %s: pool balance gave the peer %zu free leases",
		          r->cfg->name, given);
	return given;
}

static void pump_one(struct dhcp_server *s, struct srv_fo_rel *r)
{
	uint8_t mine = dhcp_fo_my_state(r->fo);
	bool normal = mine == DHCP_FO_S_NORMAL && dhcp_fo_partner_state(r->fo) == DHCP_FO_S_NORMAL;

	if (!dhcp_fo_link(r->fo)) {
		if (dhcp_fo_updq_in_flight(r->q))
			dhcp_fo_updq_link_lost(r->q);
		r->seen_state = mine;
		return;
	}
	if (!dhcp_fo_link_ready(r->fo))
		return;
	if (normal && (r->seen_state != DHCP_FO_S_NORMAL || s->now >= r->balance_at)) {
		(void)balance(s, r);
		r->balance_at = s->now + (r->cfg->min_balance ? r->cfg->min_balance : 60);
	}
	r->seen_state = normal ? DHCP_FO_S_NORMAL : mine;
	send_updates(s, r);
	if (r->req_pending && dhcp_fo_updq_idle(r->q)) {
		r->req_pending = false;
		dhcp_fo_updates_done(r->fo, s->now);
	}
}

void dhcp_server_fo_pump(struct dhcp_server *s, int64_t now, uint64_t durable)
{
	s->now = now;
	s->durable = durable;
	for (size_t i = 0; i < s->fo_n; i++)
		if (s->fo[i].fo)
			pump_one(s, &s->fo[i]);
}
