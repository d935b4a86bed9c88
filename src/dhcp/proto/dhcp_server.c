/* SPDX-License-Identifier: MPL-2.0 */
/* DHCPv4 server decisions: DISCOVER/REQUEST/DECLINE/RELEASE/INFORM and BOOTP, as ISC makes them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_assert.h"
#include "core_log.h"
#include "dhcp_pools.h"
#include "dhcp_server.h"
#include "dhcp_server_int.h"

#define OFFER_HOLD_S 60          /* an offered address is held this long for its client */
#define ABANDON_TIME_S 86400     /* ISC's abandon-lease-time default */
#define HOST_TAB_MIN 16
#define PING_CLTT_S 60           /* ISC's ping-cltt-secs default */

/* RFC 2132 option codes used here. */
enum {
	OPT_SUBNET_MASK = 1,
	OPT_HOST_NAME = 12,
	OPT_REQUESTED_ADDR = 50,
	OPT_LEASE_TIME = 51,
	OPT_MSG_TYPE = 53,
	OPT_SERVER_ID = 54,
	OPT_PRL = 55,
	OPT_MESSAGE = 56,
	OPT_MAX_SIZE = 57,
	OPT_CLIENT_ID = 61,
	OPT_AGENT = 82,
};

static const char *ignore_names[DHCP_IGN_MAX] = {
	[DHCP_IGN_NONE] = "none",
	[DHCP_IGN_REPLY_OP] = "bootreply",
	[DHCP_IGN_NO_SUBNET] = "no_subnet",
	[DHCP_IGN_POOL_EXHAUSTED] = "pool_exhausted",
	[DHCP_IGN_UNKNOWN_CLIENT] = "unknown_client",
	[DHCP_IGN_BOOTP_DENIED] = "bootp_denied",
	[DHCP_IGN_NOT_OURS] = "not_ours",
	[DHCP_IGN_NOT_AUTH] = "not_authoritative",
	[DHCP_IGN_BAD_REQUEST] = "bad_request",
	[DHCP_IGN_UNSUPPORTED] = "unsupported",
	[DHCP_IGN_NO_MEMORY] = "no_memory",
	[DHCP_IGN_FO_NOT_SERVING] = "failover_not_serving",
	[DHCP_IGN_FO_PEER_CLIENT] = "failover_peer_client",
};

const char *dhcp_ignore_name(enum dhcp_ignore i)
{
	return (unsigned)i < DHCP_IGN_MAX ? ignore_names[i] : "unknown";
}

char *srv_ip_str(uint32_t a, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	return buf;
}

/* ---- host declarations, hashed by hardware address and client identifier ---- */

static uint32_t hash_bytes(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static int hosts_index(struct dhcp_server *s, const struct dhcp_conf *conf)
{
	size_t cap = HOST_TAB_MIN;

	while (cap < conf->hosts_n * 2)
		cap *= 2;
	free(s->host_by_hw);
	free(s->host_by_uid);
	s->host_by_hw = calloc(cap, sizeof(*s->host_by_hw));
	s->host_by_uid = calloc(cap, sizeof(*s->host_by_uid));
	s->host_cap = cap;
	if (!s->host_by_hw || !s->host_by_uid)
		return -ENOMEM;
	/* First declaration wins, as ISC's host hash returns the first match. */
	for (size_t i = conf->hosts_n; i-- > 0;) {
		const struct dhcp_host *h = conf->hosts[i];
		size_t k;

		if (h->hlen) {
			k = hash_bytes(h->hw, h->hlen) & (cap - 1);
			while (s->host_by_hw[k] && (s->host_by_hw[k]->hlen != h->hlen ||
						    memcmp(s->host_by_hw[k]->hw, h->hw, h->hlen)))
				k = (k + 1) & (cap - 1);
			s->host_by_hw[k] = h;
		}
		if (h->client_id_len) {
			k = hash_bytes(h->client_id, h->client_id_len) & (cap - 1);
			while (s->host_by_uid[k] &&
			       (s->host_by_uid[k]->client_id_len != h->client_id_len ||
				memcmp(s->host_by_uid[k]->client_id, h->client_id, h->client_id_len)))
				k = (k + 1) & (cap - 1);
			s->host_by_uid[k] = h;
		}
	}
	return 0;
}

static const struct dhcp_host *host_find(const struct dhcp_server *s, const struct req *q)
{
	const struct dhcp_packet *p = q->p;
	size_t mask = s->host_cap - 1;

	if (q->uid_len) {
		for (size_t k = hash_bytes(q->uid, q->uid_len) & mask; s->host_by_uid[k];
		     k = (k + 1) & mask) {
			const struct dhcp_host *h = s->host_by_uid[k];

			if (h->client_id_len == q->uid_len && !memcmp(h->client_id, q->uid, q->uid_len))
				return h;
		}
	}
	if (!p->hlen)
		return NULL;
	for (size_t k = hash_bytes(p->chaddr, p->hlen) & mask; s->host_by_hw[k];
	     k = (k + 1) & mask) {
		const struct dhcp_host *h = s->host_by_hw[k];

		if (h->hlen == p->hlen && h->htype == p->htype && !memcmp(h->hw, p->chaddr, p->hlen))
			return h;
	}
	return NULL;
}

/* ---- server life cycle ---- */

struct dhcp_server *dhcp_server_new(const struct dhcp_conf *conf, struct dhcp_leasedb *db,
				    dhcp_persist_fn persist, void *persist_ctx)
{
	struct dhcp_server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->db = db;
	s->persist = persist;
	s->persist_ctx = persist_ctx;
	s->rl = (struct core_ratelimit)CORE_RATELIMIT_INIT(1000, 20);
	if (dhcp_server_set_conf(s, conf, 0) < 0) {
		dhcp_server_free(s);
		return NULL;
	}
	return s;
}

void dhcp_server_free(struct dhcp_server *s)
{
	if (!s)
		return;
	dhcp_pools_free(s->pools);
	srv_fo_free(s);
	free(s->host_by_hw);
	free(s->host_by_uid);
	free(s);
}

int dhcp_server_set_conf(struct dhcp_server *s, const struct dhcp_conf *conf, int64_t now)
{
	struct dhcp_pools *pools;
	const struct dhcp_host **hw = s->host_by_hw, **uid = s->host_by_uid;
	size_t cap = s->host_cap;
	int rc;

	/* Failover pools ask srv_fo_usable, which finds the relationship by the peer's
	 * position: the same before and after (srv_fo_set_conf refuses anything else). */
	pools = dhcp_pools_new(conf, s->db, now, srv_fo_usable, s);
	if (!pools)
		return -ENOMEM;
	s->host_by_hw = s->host_by_uid = NULL;
	rc = hosts_index(s, conf);
	if (rc == 0)
		rc = srv_fo_set_conf(s, conf, pools);
	if (rc < 0) {
		free(s->host_by_hw);
		free(s->host_by_uid);
		s->host_by_hw = hw;
		s->host_by_uid = uid;
		s->host_cap = cap;
		dhcp_pools_free(pools);
		return rc;
	}
	free(hw);
	free(uid);
	dhcp_pools_free(s->pools);
	s->pools = pools;
	s->conf = conf;
	return 0;
}

size_t dhcp_server_pool_addresses(const struct dhcp_server *s)
{
	return dhcp_pools_size(s->pools);
}

const struct dhcp_counters *dhcp_server_counters(const struct dhcp_server *s)
{
	return &s->ctr;
}

enum dhcp_binding dhcp_server_lease_state(const struct dhcp_lease *l, int64_t now)
{
	if (l->binding == DHCP_BINDING_ACTIVE && l->ends != DHCP_TIME_NEVER &&
	    l->ends != DHCP_TIME_NONE && l->ends <= now)
		return DHCP_BINDING_EXPIRED;
	return l->binding;
}

/* ---- scope lookups for a client: host chain first, then the pool's or subnet's ---- */

static const struct dhcp_scope *client_scope(const struct req *q)
{
	if (q->pool)
		return &q->pool->scope;
	if (q->addr_subnet)
		return &q->addr_subnet->scope;
	return q->subnet ? &q->subnet->scope : NULL;
}

static const struct dhcp_scope *find_param(const struct dhcp_server *s, const struct req *q,
					   enum dhcp_param p)
{
	const struct dhcp_scope *sc;

	if (q->host) {
		for (sc = &q->host->scope; sc && sc != &s->conf->global; sc = sc->parent)
			if (sc->set & (1u << p))
				return sc;
	}
	sc = client_scope(q);
	return dhcp_scope_param(sc ? sc : &s->conf->global, p);
}

static const struct dhcp_opt *find_opt(const struct dhcp_server *s, const struct req *q,
				       uint8_t code)
{
	const struct dhcp_scope *sc;

	if (q->host) {
		for (sc = &q->host->scope; sc && sc != &s->conf->global; sc = sc->parent)
			for (size_t i = 0; i < sc->opts_n; i++)
				if (sc->opts[i].code == code)
					return &sc->opts[i];
	}
	sc = client_scope(q);
	return dhcp_scope_opt(sc ? sc : &s->conf->global, code);
}

static bool param_bool(const struct dhcp_server *s, const struct req *q, enum dhcp_param p,
		       bool dflt)
{
	const struct dhcp_scope *sc = find_param(s, q, p);

	if (!sc)
		return dflt;
	switch (p) {
	case DHCP_P_AUTHORITATIVE:
		return sc->authoritative;
	case DHCP_P_ONE_LEASE_PER_CLIENT:
		return sc->one_lease_per_client;
	case DHCP_P_BOOTP:
		return sc->allow_bootp;
	case DHCP_P_UNKNOWN_CLIENTS:
		return sc->allow_unknown;
	case DHCP_P_BOOTING:
		return sc->allow_booting;
	case DHCP_P_ALWAYS_BROADCAST:
		return sc->always_broadcast;
	case DHCP_P_USE_HOST_DECL_NAMES:
		return sc->use_host_decl_names;
	case DHCP_P_PING_CHECK:
		return sc->ping_check;
	default:
		ASSERT(!"not a boolean parameter");
	}
	return dflt;
}

static uint32_t param_u32(const struct dhcp_server *s, const struct req *q, enum dhcp_param p,
			  uint32_t dflt)
{
	const struct dhcp_scope *sc = find_param(s, q, p);

	if (!sc)
		return dflt;
	switch (p) {
	case DHCP_P_DEFAULT_LEASE_TIME:
		return sc->default_lease_time_s;
	case DHCP_P_MAX_LEASE_TIME:
		return sc->max_lease_time_s;
	case DHCP_P_MIN_LEASE_TIME:
		return sc->min_lease_time_s;
	case DHCP_P_NEXT_SERVER:
		return sc->next_server;
	case DHCP_P_SERVER_IDENTIFIER:
		return sc->server_identifier;
	case DHCP_P_PING_TIMEOUT:
		return sc->ping_timeout_s;
	default:
		ASSERT(!"not a numeric parameter");
	}
	return dflt;
}

/* The lease time to grant: the client's wish (option 51) clamped to [min, max]. */
static uint32_t lease_time(const struct dhcp_server *s, const struct req *q)
{
	uint32_t dflt = param_u32(s, q, DHCP_P_DEFAULT_LEASE_TIME, 43200);
	uint32_t max = param_u32(s, q, DHCP_P_MAX_LEASE_TIME, 86400);
	uint32_t min = param_u32(s, q, DHCP_P_MIN_LEASE_TIME, 0);
	size_t len;
	const uint8_t *v = dhcp_packet_opt(q->p, OPT_LEASE_TIME, &len);
	uint32_t t = dflt;

	if (v && len == 4)
		t = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
	if (t > max)
		t = max;
	if (t < min)
		t = min;
	return t;
}

/* ---- client identity and lease matching ---- */

static bool same_client(const struct dhcp_lease *l, const struct req *q)
{
	if (q->uid_len)
		return l->uid_len == q->uid_len && !memcmp(dhcp_lease_uid(l), q->uid, q->uid_len);
	/* A lease bound to a client identifier is not given to a request without one. */
	return !l->uid_len && l->hlen && l->hlen == q->p->hlen && l->htype == q->p->htype &&
	       !memcmp(l->hw, q->p->chaddr, l->hlen);
}

static bool in_shared(const struct dhcp_shared *sh, uint32_t addr)
{
	for (size_t i = 0; i < sh->subnets_n; i++)
		if ((addr & sh->subnets[i]->mask) == sh->subnets[i]->net)
			return true;
	return false;
}

static const struct dhcp_subnet *subnet_in_shared(const struct dhcp_shared *sh, uint32_t addr)
{
	for (size_t i = 0; i < sh->subnets_n; i++)
		if ((addr & sh->subnets[i]->mask) == sh->subnets[i]->net)
			return sh->subnets[i];
	return NULL;
}

/* ISC's permit lists: any matching deny refuses; with allows, one must match. */
static bool pool_permits(const struct dhcp_pool *pool, const struct req *q, bool bootp)
{
	uint32_t have = DHCP_PERMIT_ALL | (q->host ? DHCP_PERMIT_KNOWN : DHCP_PERMIT_UNKNOWN) |
			(bootp ? DHCP_PERMIT_DYNAMIC_BOOTP : 0);

	if (pool->deny & have)
		return false;
	return !pool->allow || (pool->allow & have);
}

static bool range_serves(const struct dhcp_range *rg, bool bootp)
{
	return !bootp || rg->dynamic_bootp;
}

/* addr is a dynamic address of this network that this client may hold at now. */
static bool addr_ok(struct dhcp_server *s, struct req *q, uint32_t addr, bool bootp)
{
	const struct dhcp_range *rg;
	const struct dhcp_pool *pool = dhcp_pools_find(s->pools, addr, &rg);
	const struct dhcp_lease *l;

	if (!pool || !in_shared(q->shared, addr) || dhcp_pools_reserved(s->pools, addr) ||
	    !pool_permits(pool, q, bootp) || !range_serves(rg, bootp))
		return false;
	l = dhcp_leasedb_get(s->db, addr);
	if (l && same_client(l, q)) {
		/* Under failover a client keeps what is bound to it, what it held last as far as
		 * the peer may know, and what we offered it while it is still ours to give (the
		 * ownership rules, as for anyone). */
		if (pool->fo ? l->binding == DHCP_BINDING_ACTIVE || srv_fo_rewinds_to_active(l) ||
				       srv_fo_owned(s, pool, l, s->now)
			     : l->binding != DHCP_BINDING_ABANDONED && l->binding != DHCP_BINDING_BACKUP)
			return true;
	}
	return dhcp_pools_addr_free(s->pools, addr, l, s->now);
}

/* The client's current or last lease on this network that it may have again, or 0. */
static uint32_t client_lease(struct dhcp_server *s, struct req *q, bool bootp)
{
	struct dhcp_lease *l, *best = NULL;

	for (l = q->uid_len ? dhcp_leasedb_by_uid(s->db, q->uid, q->uid_len, NULL)
			    : dhcp_leasedb_by_hw(s->db, q->p->htype, q->p->hlen, q->p->chaddr, NULL);
	     l; l = q->uid_len ? dhcp_leasedb_by_uid(s->db, q->uid, q->uid_len, l)
			       : dhcp_leasedb_by_hw(s->db, q->p->htype, q->p->hlen, q->p->chaddr, l)) {
		if (!same_client(l, q) || !addr_ok(s, q, l->addr, bootp))
			continue;
		/* Prefer the lease it holds now, then the one it had most recently. */
		if (!best ||
		    (l->binding == DHCP_BINDING_ACTIVE && best->binding != DHCP_BINDING_ACTIVE) ||
		    (l->binding == best->binding && l->cltt > best->cltt))
			best = l;
	}
	return best ? best->addr : 0;
}

/*
 * ISC: with no free address left, the oldest abandoned one is tried again (it will be
 * pinged first). A linear scan, but only of a network that is otherwise full.
 */
static int reclaim_abandoned(struct dhcp_server *s, struct req *q, bool bootp, uint32_t *addr)
{
	const struct dhcp_shared *sh = q->shared;
	const struct dhcp_lease *best = NULL;

	for (size_t i = 0; i < sh->subnets_n; i++) {
		for (size_t j = 0; j < sh->subnets[i]->pools_n; j++) {
			const struct dhcp_pool *pool = sh->subnets[i]->pools[j];

			/* Under failover an abandoned lease comes back through the peer. */
			if (pool->fo || !pool_permits(pool, q, bootp))
				continue;
			for (size_t k = 0; k < pool->ranges_n; k++) {
				const struct dhcp_range *rg = &pool->ranges[k];

				if (!range_serves(rg, bootp))
					continue;
				for (uint64_t a = rg->lo; a <= rg->hi; a++) {
					const struct dhcp_lease *l = dhcp_leasedb_get(s->db, (uint32_t)a);

					if (l && l->binding == DHCP_BINDING_ABANDONED &&
					    l->offer_until <= s->now && (!best || l->cltt < best->cltt))
						best = l;
				}
			}
		}
	}
	if (!best)
		return CORE_EFULL;
	*addr = best->addr;
	s->ctr.leases_reclaimed++;
	return 0;
}

static int alloc_new(struct dhcp_server *s, struct req *q, bool bootp, uint32_t *addr)
{
	const struct dhcp_shared *sh = q->shared;

	for (size_t i = 0; i < sh->subnets_n; i++) {
		const struct dhcp_subnet *sn = sh->subnets[i];

		for (size_t j = 0; j < sn->pools_n; j++) {
			const struct dhcp_pool *pool = sn->pools[j];

			if (!pool_permits(pool, q, bootp))
				continue;
			for (size_t k = 0; k < pool->ranges_n; k++)
				if (range_serves(&pool->ranges[k], bootp) &&
				    dhcp_pools_alloc(s->pools, &pool->ranges[k], s->now, addr) == 0)
					return 0;
		}
	}
	return reclaim_abandoned(s, q, bootp, addr);
}

/* An address for a DISCOVER (or a dynamic BOOTP request): ISC's order of preference. */
static int choose_addr(struct dhcp_server *s, struct req *q, bool bootp, uint32_t *addr)
{
	size_t len;
	const uint8_t *v;

	*addr = client_lease(s, q, bootp);
	if (*addr)
		return 0;
	v = dhcp_packet_opt(q->p, OPT_REQUESTED_ADDR, &len);
	if (v && len == 4) {
		uint32_t want = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];

		if (addr_ok(s, q, want, bootp)) {
			*addr = want;
			return 0;
		}
	}
	return alloc_new(s, q, bootp, addr);
}

static uint32_t fixed_addr(const struct req *q)
{
	if (!q->host)
		return 0;
	for (size_t i = 0; i < q->host->fixed_n; i++)
		if (in_shared(q->shared, q->host->fixed[i]))
			return q->host->fixed[i];
	return 0;
}

uint64_t srv_persist_rec(struct dhcp_server *s, struct dhcp_lease *l)
{
	struct dhcp_lease_rec r;
	uint64_t n;

	dhcp_leasedb_to_rec(l, &r);
	n = s->persist(s->persist_ctx, &r);
	dhcp_pools_update(s->pools, l->addr, s->now);
	return n;
}

static struct srv_fo_rel *fo_rel(const struct dhcp_server *s, uint32_t addr)
{
	return srv_fo_rel_of(s, dhcp_pools_find(s->pools, addr, NULL));
}

/* A change made here: persisted, and under failover queued for the peer. */
static void persist(struct dhcp_server *s, struct dhcp_lease *l)
{
	struct srv_fo_rel *r = fo_rel(s, l->addr);

	if (r) {
		srv_fo_changed(s, r, l);
		return;
	}
	/* Outside failover ISC writes a lease without tstp/tsfp or a failover next state. */
	l->reserved = false;
	dhcp_leasedb_drop_fo(s->db, l);
	srv_persist_rec(s, l);
}

/* Quarantines l: in use by someone we do not know (DECLINE, or it answered a ping). */
static void abandon(struct dhcp_server *s, struct dhcp_lease *l)
{
	/* Clearing an identity allocates nothing, so it cannot fail. */
	if (dhcp_leasedb_set_client(s->db, l, 0, 0, NULL, NULL, 0) < 0 ||
	    dhcp_leasedb_set_hostname(l, NULL, 0) < 0)
		ASSERT(!"clearing a lease identity failed");
	l->binding = DHCP_BINDING_ABANDONED;
	l->starts = l->cltt = s->now;
	l->ends = s->now + ABANDON_TIME_S;
	l->offer_until = 0;
	s->ctr.leases_abandoned++;
	persist(s, l);
}

/* Binds addr to the requesting client (without persisting). NULL when out of memory. */
static struct dhcp_lease *bind_client(struct dhcp_server *s, struct req *q, uint32_t addr)
{
	struct dhcp_lease *l = dhcp_leasedb_obtain(s->db, addr);

	if (!l)
		return NULL;
	if (!same_client(l, q) &&
	    dhcp_leasedb_set_client(s->db, l, q->p->htype, q->p->hlen, q->p->chaddr, q->uid,
				    q->uid_len) < 0)
		return NULL;
	if (l->binding == DHCP_BINDING_ABANDONED)
		l->binding = DHCP_BINDING_FREE; /* reclaimed */
	return l;
}

/* ---- replies ---- */

static void put_u32(uint8_t b[4], uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static void add_u32(struct dhcp_out *o, uint8_t code, uint32_t v)
{
	uint8_t b[4];

	put_u32(b, v);
	(void)dhcp_out_add(o, code, b, 4);
}

/* Adds one configured or generated option unless already present. */
static void add_config_opt(struct dhcp_server *s, struct req *q, uint8_t code)
{
	struct dhcp_out *o = &s->out;
	const struct dhcp_opt *opt;

	if (code == 0 || code == 255 || dhcp_out_has(o, code))
		return;
	opt = find_opt(s, q, code);
	if (opt) {
		(void)dhcp_out_add(o, code, opt->data, opt->len);
		return;
	}
	if (code == OPT_SUBNET_MASK && q->addr_subnet)
		add_u32(o, code, q->addr_subnet->mask);
	else if (code == OPT_HOST_NAME && q->host && q->host->name &&
		 param_bool(s, q, DHCP_P_USE_HOST_DECL_NAMES, false))
		(void)dhcp_out_add(o, code, q->host->name, strlen(q->host->name));
}

static void add_all_config_opts(struct dhcp_server *s, struct req *q)
{
	const struct dhcp_scope *sc;

	if (q->host)
		for (sc = &q->host->scope; sc && sc != &s->conf->global; sc = sc->parent)
			for (size_t i = 0; i < sc->opts_n; i++)
				add_config_opt(s, q, sc->opts[i].code);
	for (sc = client_scope(q); sc; sc = sc->parent)
		for (size_t i = 0; i < sc->opts_n; i++)
			add_config_opt(s, q, sc->opts[i].code);
}

static void reply_header(struct dhcp_server *s, struct req *q, uint32_t yiaddr)
{
	const struct dhcp_packet *p = q->p;
	struct dhcp_out *o = &s->out;
	const struct dhcp_scope *sc;

	dhcp_out_init(o);
	o->op = 2;
	o->htype = p->htype;
	o->hlen = p->hlen;
	o->xid = p->xid;
	o->flags = p->flags;
	o->ciaddr = p->ciaddr;
	o->yiaddr = yiaddr;
	o->giaddr = p->giaddr;
	memcpy(o->chaddr, p->chaddr, sizeof(o->chaddr));
	o->siaddr = param_u32(s, q, DHCP_P_NEXT_SERVER, 0);
	sc = find_param(s, q, DHCP_P_FILENAME);
	if (sc && sc->filename)
		strncpy((char *)o->file, sc->filename, sizeof(o->file) - 1);
	sc = find_param(s, q, DHCP_P_SERVER_NAME);
	if (sc && sc->server_name)
		strncpy((char *)o->sname, sc->server_name, sizeof(o->sname) - 1);
}

/*
 * Options in ISC's order: message type, server identifier, lease time, subnet mask, then
 * what the client asked for in its order, or everything configured when it asked nothing.
 */
static void reply_options(struct dhcp_server *s, struct req *q, uint8_t type, uint32_t lt)
{
	struct dhcp_out *o = &s->out;
	size_t prl_len;
	const uint8_t *prl = dhcp_packet_opt(q->p, OPT_PRL, &prl_len);

	if (type) {
		(void)dhcp_out_add(o, OPT_MSG_TYPE, &type, 1);
		add_u32(o, OPT_SERVER_ID, q->server_id);
	}
	if (lt)
		add_u32(o, OPT_LEASE_TIME, lt);
	if (type != DHCPNAK) {
		add_config_opt(s, q, 58); /* renewal and rebinding times, when configured */
		add_config_opt(s, q, 59);
		add_config_opt(s, q, OPT_SUBNET_MASK);
		if (prl)
			for (size_t i = 0; i < prl_len; i++)
				add_config_opt(s, q, prl[i]);
		else
			add_all_config_opts(s, q);
	}
	/* RFC 3046: the relay agent information comes back unchanged, last. */
	if (q->p->giaddr) {
		size_t len;
		const uint8_t *agent = dhcp_packet_opt(q->p, OPT_AGENT, &len);

		if (agent)
			(void)dhcp_out_add(o, OPT_AGENT, agent, len);
	}
}

static size_t max_reply_len(const struct dhcp_packet *p)
{
	size_t len;
	const uint8_t *v = dhcp_packet_opt(p, OPT_MAX_SIZE, &len);
	size_t max = 576;

	if (v && len == 2)
		max = (size_t)v[0] << 8 | v[1];
	if (max < 576)
		max = 576;
	/* The client's limit is for the IP datagram: leave room for the IP and UDP headers. */
	max -= 28;
	return max > DHCP_PACKET_MAX ? DHCP_PACKET_MAX : max;
}

/* RFC 2131 section 4.1: where a reply goes. */
static void reply_route(struct dhcp_server *s, struct req *q, uint8_t type, struct dhcp_tx *tx)
{
	const struct dhcp_packet *p = q->p;

	tx->ifindex = q->rx->ifindex;
	tx->src_addr = q->rx->if_addr;
	tx->hlen = p->hlen;
	memcpy(tx->chaddr, p->chaddr, sizeof(tx->chaddr));
	if (p->giaddr) {
		tx->how = DHCP_TX_UNICAST;
		tx->dst_addr = p->giaddr;
		tx->dst_port = DHCP_SERVER_PORT;
		if (type == DHCPNAK)
			s->out.flags |= DHCP_FLAG_BROADCAST;
		return;
	}
	tx->dst_port = DHCP_CLIENT_PORT;
	if (type == DHCPNAK) {
		tx->how = DHCP_TX_BROADCAST;
	} else if (p->ciaddr) {
		tx->how = DHCP_TX_UNICAST;
		tx->dst_addr = p->ciaddr;
	} else if ((p->flags & DHCP_FLAG_BROADCAST) || !s->out.yiaddr || !p->hlen ||
		   param_bool(s, q, DHCP_P_ALWAYS_BROADCAST, false)) {
		tx->how = DHCP_TX_BROADCAST;
	} else {
		tx->how = DHCP_TX_LINK;
		tx->dst_addr = s->out.yiaddr;
	}
}

static int reply_finish(struct dhcp_server *s, struct req *q, uint8_t type, struct dhcp_tx *tx)
{
	unsigned omitted = 0;
	int len;

	reply_route(s, q, type, tx);
	len = dhcp_out_encode(&s->out, tx->buf, sizeof(tx->buf), max_reply_len(q->p), &omitted);
	if (len <= 0) {
		s->ctr.ignore[DHCP_IGN_NO_MEMORY]++;
		return 0;
	}
	s->ctr.options_omitted += omitted;
	tx->len = (uint16_t)len;
	s->ctr.tx[type < DHCP_MSG_MAX ? type : 0]++;
	return 1;
}

/* "eth0", or the relay's address as ISC writes it. */
static const char *via_str(const struct req *q, char buf[16])
{
	if (q->p->giaddr)
		return srv_ip_str(q->p->giaddr, buf);
	snprintf(buf, 16, "%s", q->rx->ifname[0] ? q->rx->ifname : "?");
	return buf;
}

static int ignore(struct dhcp_server *s, struct req *q, enum dhcp_ignore why)
{
	s->ctr.ignore[why]++;
	CLOG_DEBUG("%s from %s: ignored (%s)", dhcp_msg_name(q->p->msg_type), q->mac,
		   dhcp_ignore_name(why));
	return 0;
}

static int nak(struct dhcp_server *s, struct req *q, uint32_t addr, const char *why,
	       struct dhcp_tx *tx)
{
	char a[16], via[16];

	if (!param_bool(s, q, DHCP_P_AUTHORITATIVE, false))
		return ignore(s, q, DHCP_IGN_NOT_AUTH);
	CLOG_RL(&s->rl, s->now * 1000, CORE_LOG_INFO, "DHCPNAK on %s to %s via %s: %s",
		srv_ip_str(addr, a), q->mac, via_str(q, via), why);
	reply_header(s, q, 0);
	s->out.ciaddr = 0;
	reply_options(s, q, DHCPNAK, 0);
	(void)dhcp_out_add(&s->out, OPT_MESSAGE, why, strlen(why));
	return reply_finish(s, q, DHCPNAK, tx);
}

/* ---- message handlers ---- */

static uint32_t opt_addr(const struct dhcp_packet *p, uint8_t code)
{
	size_t len;
	const uint8_t *v = dhcp_packet_opt(p, code, &len);

	if (!v || len != 4)
		return 0;
	return (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
}

/* Sets q->pool and q->addr_subnet for the address being given. */
static void locate(struct dhcp_server *s, struct req *q, uint32_t addr)
{
	q->pool = dhcp_pools_find(s->pools, addr, NULL);
	q->addr_subnet = subnet_in_shared(q->shared, addr);
}

static bool client_allowed(struct dhcp_server *s, struct req *q)
{
	if (q->host)
		return true;
	return param_bool(s, q, DHCP_P_UNKNOWN_CLIENTS, true);
}

static int offer_or_ack(struct dhcp_server *s, struct req *q, uint8_t type, uint32_t addr,
			uint32_t lt, struct dhcp_tx *tx)
{
	char a[16], via[16];

	/* ISC's line for every grant, so that operators' log searches keep working; offers
	 * only at debug level. */
	if (type == DHCPACK)
		CLOG_INFO("DHCPACK on %s to %s via %s", srv_ip_str(addr, a), q->mac, via_str(q, via));
	else
		CLOG_DEBUG("%s on %s to %s via %s", dhcp_msg_name(type), srv_ip_str(addr, a), q->mac,
			   via_str(q, via));
	reply_header(s, q, addr);
	reply_options(s, q, type, lt);
	return reply_finish(s, q, type, tx);
}

/*
 * ISC's rule (dhcpd.conf(5), ping-cltt-secs): ping before offering a lease that is not
 * active, unless it goes back to its previous owner within PING_CLTT_S of its last use.
 */
static bool needs_ping(struct dhcp_server *s, struct req *q, const struct dhcp_lease *l)
{
	if (!param_bool(s, q, DHCP_P_PING_CHECK, true))
		return false;
	if (!l || l->cltt == DHCP_TIME_NONE || l->binding == DHCP_BINDING_ABANDONED)
		return true;
	if (dhcp_server_lease_state(l, s->now) == DHCP_BINDING_ACTIVE)
		return false;
	return !same_client(l, q) || s->now - l->cltt > PING_CLTT_S;
}

void dhcp_server_probe_answered(struct dhcp_server *s, uint32_t addr, int64_t now)
{
	struct dhcp_lease *l = dhcp_leasedb_get(s->db, addr);
	char a[16];

	s->now = now;
	s->ctr.probes_answered++;
	/* Only an address still merely offered is abandoned: if the client got it meanwhile
	 * (a REQUEST raced the ping), the binding stands. */
	if (!l || l->binding == DHCP_BINDING_ACTIVE)
		return;
	CLOG_RL(&s->rl, now * 1000, CORE_LOG_WARN, "Abandoning IP address %s: pinged before offer",
		srv_ip_str(addr, a));
	abandon(s, l);
}

/* The failover relationship of the client's network: the first failover pool's. */
static struct srv_fo_rel *net_rel(const struct dhcp_server *s, const struct req *q)
{
	for (size_t i = 0; i < q->shared->subnets_n; i++)
		for (size_t j = 0; j < q->shared->subnets[i]->pools_n; j++)
			if (q->shared->subnets[i]->pools[j]->fo)
				return srv_fo_rel_of(s, q->shared->subnets[i]->pools[j]);
	return NULL;
}

/* The lease time to grant addr's client: the configured one, bounded by MCLT under
 * failover (committed to the lease's tstp for an ACK, not for an OFFER). */
static uint32_t grant_time(struct dhcp_server *s, struct req *q, struct dhcp_lease *l, bool ack)
{
	uint32_t want = lease_time(s, q);
	struct srv_fo_rel *r = l ? fo_rel(s, l->addr) : NULL;

	return r ? srv_fo_lease_time(s, r, l, want, ack) : want;
}

static int on_discover(struct dhcp_server *s, struct req *q, struct dhcp_tx *tx)
{
	uint32_t addr = fixed_addr(q);
	struct srv_fo_rel *fo;
	struct dhcp_lease *l;
	bool ping;
	char net[16];

	if (addr) {
		q->addr_subnet = subnet_in_shared(q->shared, addr);
		return offer_or_ack(s, q, DHCPOFFER, addr, lease_time(s, q), tx);
	}
	if (!client_allowed(s, q))
		return ignore(s, q, DHCP_IGN_UNKNOWN_CLIENT);
	fo = net_rel(s, q);
	if (fo && !srv_fo_serving(fo))
		return ignore(s, q, DHCP_IGN_FO_NOT_SERVING);
	if (fo && !srv_fo_discover_mine(s, fo, q->shared, q->p, q->uid, q->uid_len))
		return ignore(s, q, DHCP_IGN_FO_PEER_CLIENT);
	if (choose_addr(s, q, false, &addr) < 0) {
		CLOG_RL(&s->rl, s->now * 1000, CORE_LOG_WARN,
			"DHCPDISCOVER from %s: network %s: no free leases", q->mac,
			srv_ip_str(q->subnet->net, net));
		return ignore(s, q, DHCP_IGN_POOL_EXHAUSTED);
	}
	ping = needs_ping(s, q, dhcp_leasedb_get(s->db, addr));
	l = bind_client(s, q, addr);
	if (!l)
		return ignore(s, q, DHCP_IGN_NO_MEMORY);
	if (ping) {
		tx->probe_addr = addr;
		tx->probe_timeout_ms = 1000 * param_u32(s, q, DHCP_P_PING_TIMEOUT, 1);
		s->ctr.probes++;
	}
	if (l->binding != DHCP_BINDING_ACTIVE || dhcp_server_lease_state(l, s->now) != l->binding)
		l->offer_until = s->now + OFFER_HOLD_S;
	dhcp_pools_update(s->pools, addr, s->now);
	locate(s, q, addr);
	return offer_or_ack(s, q, DHCPOFFER, addr, grant_time(s, q, l, false), tx);
}

/* Grants addr to the client and persists it; the ACK waits for the journal. */
static int ack_lease(struct dhcp_server *s, struct req *q, uint32_t addr, bool bootp,
		     struct dhcp_tx *tx)
{
	struct dhcp_lease *l = bind_client(s, q, addr);
	uint32_t lt;
	size_t len;
	const uint8_t *name;

	if (!l)
		return ignore(s, q, DHCP_IGN_NO_MEMORY);
	locate(s, q, addr);
	lt = bootp ? 0 : grant_time(s, q, l, true);
	l->binding = DHCP_BINDING_ACTIVE;
	l->bootp = bootp;
	l->starts = l->cltt = s->now;
	l->ends = bootp ? DHCP_TIME_NEVER : s->now + lt;
	l->offer_until = 0;
	name = dhcp_packet_opt(q->p, OPT_HOST_NAME, &len);
	if (name && len && dhcp_leasedb_set_hostname(l, (const char *)name, len) < 0)
		return ignore(s, q, DHCP_IGN_NO_MEMORY);
	if (!bootp && param_bool(s, q, DHCP_P_ONE_LEASE_PER_CLIENT, false)) {
		struct dhcp_lease *o = NULL;

		while ((o = q->uid_len ? dhcp_leasedb_by_uid(s->db, q->uid, q->uid_len, o)
				       : dhcp_leasedb_by_hw(s->db, q->p->htype, q->p->hlen,
							    q->p->chaddr, o))) {
			if (o != l && same_client(o, q) && o->binding == DHCP_BINDING_ACTIVE) {
				o->binding = fo_rel(s, o->addr) ? DHCP_BINDING_RELEASED
								 : DHCP_BINDING_FREE;
				o->ends = s->now;
				persist(s, o);
			}
		}
	}
	persist(s, l);
	tx->needs_sync = true;
	if (bootp) {
		reply_header(s, q, addr);
		reply_options(s, q, 0, 0);
		return reply_finish(s, q, 0, tx);
	}
	return offer_or_ack(s, q, DHCPACK, addr, lt, tx);
}

static int on_request(struct dhcp_server *s, struct req *q, struct dhcp_tx *tx)
{
	const struct dhcp_packet *p = q->p;
	uint32_t sid = opt_addr(p, OPT_SERVER_ID);
	uint32_t want = opt_addr(p, OPT_REQUESTED_ADDR);
	uint32_t fixed = fixed_addr(q);
	bool selecting = dhcp_packet_opt(p, OPT_SERVER_ID, NULL) != NULL;
	bool init_reboot = !selecting && want && !p->ciaddr;

	if (selecting && sid != q->server_id)
		return ignore(s, q, DHCP_IGN_NOT_OURS); /* the client chose another server */
	if (!want)
		want = p->ciaddr; /* RENEWING or REBINDING */
	if (!want)
		return ignore(s, q, DHCP_IGN_BAD_REQUEST);
	if (!in_shared(q->shared, want)) {
		/* Only INIT-REBOOT and SELECTING are told the address is wrong for this network;
		 * a rebinding client may be talking to another server's network. */
		if (selecting || init_reboot)
			return nak(s, q, want, "wrong network", tx);
		return ignore(s, q, DHCP_IGN_NOT_OURS);
	}
	if (fixed) {
		if (want != fixed)
			return nak(s, q, want, "not the reserved address", tx);
		q->addr_subnet = subnet_in_shared(q->shared, fixed);
		return offer_or_ack(s, q, DHCPACK, fixed, lease_time(s, q), tx);
	}
	if (!dhcp_pools_find(s->pools, want, NULL) && !dhcp_leasedb_get(s->db, want))
		return nak(s, q, want, "address not available", tx);
	if (fo_rel(s, want) && !srv_fo_serving(fo_rel(s, want)))
		return ignore(s, q, DHCP_IGN_FO_NOT_SERVING);
	if (!client_allowed(s, q) || !addr_ok(s, q, want, false))
		return nak(s, q, want, "address not available", tx);
	return ack_lease(s, q, want, false, tx);
}

static int on_decline(struct dhcp_server *s, struct req *q)
{
	uint32_t addr = opt_addr(q->p, OPT_REQUESTED_ADDR);
	struct dhcp_lease *l = addr ? dhcp_leasedb_get(s->db, addr) : NULL;
	char a[16];

	if (!l || !same_client(l, q))
		return ignore(s, q, DHCP_IGN_NOT_OURS);
	if (fo_rel(s, addr) && !srv_fo_serving(fo_rel(s, addr)))
		return ignore(s, q, DHCP_IGN_FO_NOT_SERVING);
	CLOG_RL(&s->rl, s->now * 1000, CORE_LOG_WARN,
		"DHCPDECLINE of %s from %s: abandoning lease", srv_ip_str(addr, a), q->mac);
	abandon(s, l);
	return 0;
}

static int on_release(struct dhcp_server *s, struct req *q)
{
	struct dhcp_lease *l = dhcp_leasedb_get(s->db, q->p->ciaddr);
	uint32_t sid = opt_addr(q->p, OPT_SERVER_ID);
	char a[16];

	if (!l || (sid && sid != q->server_id) || !same_client(l, q) ||
	    l->binding != DHCP_BINDING_ACTIVE)
		return ignore(s, q, DHCP_IGN_NOT_OURS);
	if (fo_rel(s, l->addr) && !srv_fo_serving(fo_rel(s, l->addr)))
		return ignore(s, q, DHCP_IGN_FO_NOT_SERVING);
	CLOG_INFO("DHCPRELEASE of %s from %s", srv_ip_str(l->addr, a), q->mac);
	/* Without failover ISC frees a released lease at once, keeping its client; under
	 * failover it is released, and free once the peer has acked that (or at once when the
	 * peer never heard of it: srv_fo_end_state). */
	l->binding = fo_rel(s, l->addr)
	                 ? srv_fo_end_state(fo_rel(s, l->addr), l, DHCP_BINDING_RELEASED)
	                 : DHCP_BINDING_FREE;
	l->ends = s->now;
	if (l->binding == DHCP_BINDING_RELEASED && dhcp_leasedb_need_fo(s->db, l))
		l->fo->tstp = s->now;
	persist(s, l);
	return 0;
}

static int on_inform(struct dhcp_server *s, struct req *q, struct dhcp_tx *tx)
{
	uint32_t addr = q->p->ciaddr ? q->p->ciaddr : q->rx->src_addr;

	q->addr_subnet = addr ? subnet_in_shared(q->shared, addr) : NULL;
	if (!q->addr_subnet)
		q->addr_subnet = q->subnet;
	q->pool = dhcp_pools_find(s->pools, addr, NULL);
	reply_header(s, q, 0);
	reply_options(s, q, DHCPACK, 0);
	return reply_finish(s, q, DHCPACK, tx);
}

static int on_bootp(struct dhcp_server *s, struct req *q, struct dhcp_tx *tx)
{
	uint32_t addr = fixed_addr(q);

	if (!param_bool(s, q, DHCP_P_BOOTP, true))
		return ignore(s, q, DHCP_IGN_BOOTP_DENIED);
	if (addr) {
		q->addr_subnet = subnet_in_shared(q->shared, addr);
		reply_header(s, q, addr);
		reply_options(s, q, 0, 0);
		return reply_finish(s, q, 0, tx);
	}
	if (!client_allowed(s, q) || choose_addr(s, q, true, &addr) < 0)
		return ignore(s, q, DHCP_IGN_BOOTP_DENIED);
	return ack_lease(s, q, addr, true, tx);
}

/* ---- entry points ---- */

static void format_mac(const struct dhcp_packet *p, char *buf)
{
	size_t n = p->hlen > 16 ? 16 : p->hlen;

	buf[0] = 0;
	for (size_t i = 0; i < n; i++)
		sprintf(buf + 3 * i, i + 1 < n ? "%02x:" : "%02x", p->chaddr[i]);
}

/*
 * Which network a request belongs to, as ISC's locate_network() decides: the relay's
 * (giaddr); else, for a client that has an address (renewing, informing, releasing, maybe
 * from behind a router), the network of that address; else the receiving interface's.
 */
static int find_network(struct dhcp_server *s, struct req *q)
{
	struct dhcp_subnet *sn = NULL;

	if (q->p->giaddr)
		sn = dhcp_conf_subnet_for(s->conf, q->p->giaddr);
	else if (q->p->ciaddr)
		sn = dhcp_conf_subnet_for(s->conf, q->p->ciaddr);
	if (!sn && !q->p->giaddr && q->rx->if_addr)
		sn = dhcp_conf_subnet_for(s->conf, q->rx->if_addr);

	if (!sn)
		return -1;
	q->subnet = sn;
	q->shared = sn->shared;
	q->server_id = param_u32(s, q, DHCP_P_SERVER_IDENTIFIER, 0);
	if (!q->server_id)
		q->server_id = q->rx->if_addr;
	return q->server_id ? 0 : -1;
}

int dhcp_server_handle(struct dhcp_server *s, const uint8_t *buf, size_t len,
		       const struct dhcp_rx *rx, int64_t now, struct dhcp_tx *tx)
{
	struct dhcp_packet *p = &s->pkt;
	enum dhcp_drop why;
	struct req q = {.p = p, .rx = rx};

	s->now = now;
	tx->needs_sync = false;
	tx->probe_addr = 0;
	if (dhcp_packet_decode(p, buf, len, &why) < 0) {
		char src[16];

		s->ctr.drop[why < DHCP_DROP_MAX ? why : 0]++;
		CLOG_RL(&s->rl, now * 1000, CORE_LOG_NOTICE, "dropped %zu-byte datagram from %s:%u: %s",
			len, srv_ip_str(rx->src_addr, src), rx->src_port, dhcp_drop_name(why));
		return 0;
	}
	format_mac(p, q.mac);
	s->ctr.rx[p->msg_type < DHCP_MSG_MAX ? p->msg_type : 0]++;
	if (p->op != 1)
		return ignore(s, &q, DHCP_IGN_REPLY_OP);
	q.uid = dhcp_packet_opt(p, OPT_CLIENT_ID, &q.uid_len);
	if (q.uid_len == 0)
		q.uid = NULL;
	if (find_network(s, &q) < 0)
		return ignore(s, &q, DHCP_IGN_NO_SUBNET);
	q.host = host_find(s, &q);
	switch (p->msg_type) {
	case DHCP_MSG_NONE:
		return on_bootp(s, &q, tx);
	case DHCPDISCOVER:
		return on_discover(s, &q, tx);
	case DHCPREQUEST:
		return on_request(s, &q, tx);
	case DHCPDECLINE:
		return on_decline(s, &q);
	case DHCPRELEASE:
		return on_release(s, &q);
	case DHCPINFORM:
		return on_inform(s, &q, tx);
	default:
		return ignore(s, &q, DHCP_IGN_UNSUPPORTED);
	}
}

static void sweep_one(void *ctx, uint32_t addr)
{
	struct dhcp_server *s = ctx;
	struct dhcp_lease *l = dhcp_leasedb_get(s->db, addr);
	struct srv_fo_rel *r = l ? fo_rel(s, addr) : NULL;

	if (r) {
		srv_fo_sweep(s, r, l);
	} else if (l && l->binding == DHCP_BINDING_ACTIVE &&
	    dhcp_server_lease_state(l, s->now) == DHCP_BINDING_EXPIRED) {
		/* ISC moves an expired lease to free and writes it; the client stays recorded
		 * so that it gets the same address back if it returns. */
		l->binding = DHCP_BINDING_FREE;
		s->ctr.leases_expired++;
		persist(s, l);
	} else if (l && l->binding == DHCP_BINDING_ABANDONED && l->ends != DHCP_TIME_NEVER &&
		   l->ends <= s->now) {
		/* abandon-lease-time is over: the address may be offered again (pinged first). */
		l->binding = DHCP_BINDING_FREE;
		persist(s, l);
	} else {
		dhcp_pools_update(s->pools, addr, s->now);
	}
}

size_t dhcp_server_tick(struct dhcp_server *s, int64_t now, size_t budget)
{
	s->now = now;
	return dhcp_pools_sweep(s->pools, budget, sweep_one, s);
}

size_t dhcp_server_pool_stats(const struct dhcp_server *s, int64_t now,
			      struct dhcp_pool_stats *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < s->conf->subnets_n; i++) {
		const struct dhcp_subnet *sn = s->conf->subnets[i];

		for (size_t j = 0; j < sn->pools_n; j++, n++) {
			const struct dhcp_pool *pool = sn->pools[j];
			struct dhcp_pool_stats *st = &out[n];

			if (n >= max)
				continue;
			memset(st, 0, sizeof(*st));
			st->pool = pool;
			for (size_t k = 0; k < pool->ranges_n; k++) {
				for (uint64_t a = pool->ranges[k].lo; a <= pool->ranges[k].hi; a++) {
					const struct dhcp_lease *l = dhcp_leasedb_get(s->db, (uint32_t)a);

					st->total++;
					if (dhcp_pools_reserved(s->pools, (uint32_t)a))
						st->reserved++;
					else if (l && l->binding == DHCP_BINDING_ABANDONED)
						st->abandoned++;
					else if (l && l->binding == DHCP_BINDING_BACKUP)
						st->backup++;
					else if (l && dhcp_server_lease_state(l, now) ==
							      DHCP_BINDING_ACTIVE)
						st->active++;
					else
						st->free++;
				}
			}
		}
	}
	return n;
}
