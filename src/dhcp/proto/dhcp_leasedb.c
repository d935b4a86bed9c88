/* SPDX-License-Identifier: MPL-2.0 */
/* Lease DB: slab-allocated leases, an open-addressing index by address, chained client indexes. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core_assert.h"
#include "dhcp_leasedb.h"

/*
 * Leases are never removed (as in ISC, a lease record lives as long as its address is known),
 * so they are carved from slabs and need no free list. The address index is open addressing
 * with linear probing at load <= 1/2; the client indexes are chains threaded through the
 * leases (next_hw, next_uid) with bucket arrays grown to keep chains short.
 */
#define SLAB_LEASES 4096
#define DB_LEASES_MAX (16u * 1024 * 1024)

struct slab {
	struct slab *next;
	size_t used;
	struct dhcp_lease leases[SLAB_LEASES];
};

struct dhcp_leasedb {
	struct slab *slabs;
	size_t count;
	struct dhcp_lease **addr_tab; /* addr_cap slots, power of two */
	size_t addr_cap;
	struct dhcp_lease **hw_tab; /* client_cap buckets each */
	struct dhcp_lease **uid_tab;
	size_t client_cap;
	size_t heap_bytes; /* hostnames and long uids */
};

/*
 * Multiplying by an odd constant permutes the low bits, so a dense run of addresses (a
 * pool) fills distinct slots with no clustering. (An additive hash that kept neighbours
 * together was tried: blocks of a /12 overlapped and linear probing went quadratic.)
 */
static uint32_t hash_addr(uint32_t addr)
{
	return addr * 2654435761u;
}

static uint32_t hash_bytes(const uint8_t *p, size_t n, uint32_t seed)
{
	uint32_t h = 2166136261u ^ seed;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static uint32_t hash_hw(uint8_t htype, uint8_t hlen, const uint8_t *hw)
{
	return hash_bytes(hw, hlen, htype);
}

struct dhcp_leasedb *dhcp_leasedb_new(void)
{
	struct dhcp_leasedb *db = calloc(1, sizeof(*db));

	if (!db)
		return NULL;
	db->addr_cap = 1024;
	db->client_cap = 512;
	db->addr_tab = calloc(db->addr_cap, sizeof(*db->addr_tab));
	db->hw_tab = calloc(db->client_cap, sizeof(*db->hw_tab));
	db->uid_tab = calloc(db->client_cap, sizeof(*db->uid_tab));
	if (!db->addr_tab || !db->hw_tab || !db->uid_tab) {
		dhcp_leasedb_free(db);
		return NULL;
	}
	return db;
}

static void lease_release_heap(struct dhcp_lease *l)
{
	if (l->uid_len > DHCP_LEASE_UID_INLINE)
		free(l->uid.heap);
	free(l->hostname);
	free(l->fo);
}

void dhcp_leasedb_free(struct dhcp_leasedb *db)
{
	struct slab *s, *next;

	if (!db)
		return;
	for (s = db->slabs; s; s = next) {
		next = s->next;
		for (size_t i = 0; i < s->used; i++)
			lease_release_heap(&s->leases[i]);
		free(s);
	}
	free(db->addr_tab);
	free(db->hw_tab);
	free(db->uid_tab);
	free(db);
}

size_t dhcp_leasedb_count(const struct dhcp_leasedb *db)
{
	return db->count;
}

size_t dhcp_leasedb_bytes(const struct dhcp_leasedb *db)
{
	size_t slabs = 0;

	for (const struct slab *s = db->slabs; s; s = s->next)
		slabs++;
	return slabs * sizeof(struct slab) + db->addr_cap * sizeof(*db->addr_tab) +
	       2 * db->client_cap * sizeof(*db->hw_tab) + db->heap_bytes;
}

struct dhcp_lease *dhcp_leasedb_get(const struct dhcp_leasedb *db, uint32_t addr)
{
	size_t mask = db->addr_cap - 1;

	for (size_t i = hash_addr(addr) & mask;; i = (i + 1) & mask) {
		struct dhcp_lease *l = db->addr_tab[i];

		if (!l || l->addr == addr)
			return l;
	}
}

static void addr_insert(struct dhcp_lease **tab, size_t cap, struct dhcp_lease *l)
{
	size_t mask = cap - 1;
	size_t i = hash_addr(l->addr) & mask;

	while (tab[i])
		i = (i + 1) & mask;
	tab[i] = l;
}

static int addr_grow(struct dhcp_leasedb *db)
{
	size_t cap = db->addr_cap * 2;
	struct dhcp_lease **tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (size_t i = 0; i < db->addr_cap; i++)
		if (db->addr_tab[i])
			addr_insert(tab, cap, db->addr_tab[i]);
	free(db->addr_tab);
	db->addr_tab = tab;
	db->addr_cap = cap;
	return 0;
}

static size_t hw_slot(const struct dhcp_leasedb *db, const struct dhcp_lease *l)
{
	return hash_hw(l->htype, l->hlen, l->hw) & (db->client_cap - 1);
}

static size_t uid_slot(const struct dhcp_leasedb *db, const struct dhcp_lease *l)
{
	return hash_bytes(dhcp_lease_uid(l), l->uid_len, 0) & (db->client_cap - 1);
}

static int client_grow(struct dhcp_leasedb *db)
{
	size_t cap = db->client_cap * 2;
	struct dhcp_lease **hw = calloc(cap, sizeof(*hw));
	struct dhcp_lease **uid = calloc(cap, sizeof(*uid));

	if (!hw || !uid) {
		free(hw);
		free(uid);
		return -ENOMEM;
	}
	free(db->hw_tab);
	free(db->uid_tab);
	db->hw_tab = hw;
	db->uid_tab = uid;
	db->client_cap = cap;
	for (struct slab *s = db->slabs; s; s = s->next) {
		for (size_t i = 0; i < s->used; i++) {
			struct dhcp_lease *l = &s->leases[i];
			size_t k;

			l->next_hw = l->next_uid = NULL;
			if (l->hlen) {
				k = hw_slot(db, l);
				l->next_hw = hw[k];
				hw[k] = l;
			}
			if (l->uid_len) {
				k = uid_slot(db, l);
				l->next_uid = uid[k];
				uid[k] = l;
			}
		}
	}
	return 0;
}

struct dhcp_lease *dhcp_leasedb_obtain(struct dhcp_leasedb *db, uint32_t addr)
{
	struct dhcp_lease *l = dhcp_leasedb_get(db, addr);
	struct slab *s = db->slabs;

	if (l)
		return l;
	if (db->count >= DB_LEASES_MAX)
		return NULL;
	if ((db->count + 1) * 2 > db->addr_cap && addr_grow(db) < 0)
		return NULL;
	/* Client buckets are grown lazily here so that set_client never allocates tables. */
	if (db->count + 1 > db->client_cap && client_grow(db) < 0)
		return NULL;
	if (!s || s->used == SLAB_LEASES) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return NULL;
		s->next = db->slabs;
		db->slabs = s;
	}
	l = &s->leases[s->used++];
	l->addr = addr;
	l->binding = DHCP_BINDING_FREE;
	l->starts = l->ends = l->cltt = DHCP_TIME_NONE;
	addr_insert(db->addr_tab, db->addr_cap, l);
	db->count++;
	return l;
}

static void chain_unlink(struct dhcp_lease **head, struct dhcp_lease *l, bool by_uid)
{
	for (struct dhcp_lease **pp = head; *pp; pp = by_uid ? &(*pp)->next_uid : &(*pp)->next_hw) {
		if (*pp == l) {
			*pp = by_uid ? l->next_uid : l->next_hw;
			return;
		}
	}
	ASSERT(!"lease missing from its client chain");
}

int dhcp_leasedb_set_client(struct dhcp_leasedb *db, struct dhcp_lease *l, uint8_t htype,
			    uint8_t hlen, const uint8_t *hw, const uint8_t *uid, size_t uid_len)
{
	size_t k;

	ASSERT(hlen <= DHCP_HW_MAX && uid_len <= DHCP_UID_MAX);
	if (l->hlen)
		chain_unlink(&db->hw_tab[hw_slot(db, l)], l, false);
	if (l->uid_len) {
		chain_unlink(&db->uid_tab[uid_slot(db, l)], l, true);
		if (l->uid_len > DHCP_LEASE_UID_INLINE) {
			free(l->uid.heap);
			db->heap_bytes -= l->uid_len;
		}
	}
	l->htype = htype;
	l->hlen = hlen;
	memset(l->hw, 0, sizeof(l->hw));
	if (hlen)
		memcpy(l->hw, hw, hlen);
	l->uid_len = 0;
	if (uid_len > DHCP_LEASE_UID_INLINE) {
		l->uid.heap = malloc(uid_len);
		if (!l->uid.heap)
			goto index;
		db->heap_bytes += uid_len;
	}
	if (uid_len)
		memcpy(uid_len > DHCP_LEASE_UID_INLINE ? l->uid.heap : l->uid.inl, uid, uid_len);
	l->uid_len = (uint8_t)uid_len;
index:
	if (l->hlen) {
		k = hw_slot(db, l);
		l->next_hw = db->hw_tab[k];
		db->hw_tab[k] = l;
	}
	if (l->uid_len) {
		k = uid_slot(db, l);
		l->next_uid = db->uid_tab[k];
		db->uid_tab[k] = l;
	}
	return l->uid_len == uid_len ? 0 : -ENOMEM;
}

int dhcp_leasedb_set_hostname(struct dhcp_lease *l, const char *name, size_t len)
{
	char *s = NULL;

	if (len > DHCP_HOSTNAME_MAX)
		len = DHCP_HOSTNAME_MAX;
	if (l->hostname && name && strlen(l->hostname) == len && !memcmp(l->hostname, name, len))
		return 0;
	if (name && len) {
		s = malloc(len + 1);
		if (!s)
			return -ENOMEM;
		memcpy(s, name, len);
		s[len] = 0;
	}
	free(l->hostname);
	l->hostname = s;
	return 0;
}

struct dhcp_lease *dhcp_leasedb_by_uid(const struct dhcp_leasedb *db, const uint8_t *uid,
				       size_t uid_len, struct dhcp_lease *prev)
{
	struct dhcp_lease *l;

	if (!uid_len)
		return NULL;
	l = prev ? prev->next_uid : db->uid_tab[hash_bytes(uid, uid_len, 0) & (db->client_cap - 1)];
	for (; l; l = l->next_uid)
		if (l->uid_len == uid_len && !memcmp(dhcp_lease_uid(l), uid, uid_len))
			return l;
	return NULL;
}

struct dhcp_lease *dhcp_leasedb_by_hw(const struct dhcp_leasedb *db, uint8_t htype,
				      uint8_t hlen, const uint8_t *hw, struct dhcp_lease *prev)
{
	struct dhcp_lease *l;

	if (!hlen)
		return NULL;
	l = prev ? prev->next_hw : db->hw_tab[hash_hw(htype, hlen, hw) & (db->client_cap - 1)];
	for (; l; l = l->next_hw)
		if (l->htype == htype && l->hlen == hlen && !memcmp(l->hw, hw, hlen))
			return l;
	return NULL;
}

int dhcp_leasedb_apply(struct dhcp_leasedb *db, const struct dhcp_lease_rec *r)
{
	struct dhcp_lease *l = dhcp_leasedb_obtain(db, r->addr);
	int err;

	if (!l)
		return -ENOMEM;
	err = dhcp_leasedb_set_client(db, l, r->htype, r->hlen, r->hw, r->uid, r->uid_len);
	if (!err)
		err = dhcp_leasedb_set_hostname(l, r->hostname, r->hostname_len);
	l->binding = r->binding ? r->binding : DHCP_BINDING_FREE;
	l->starts = r->starts;
	l->ends = r->ends;
	l->cltt = r->cltt;
	l->bootp = r->bootp;
	l->reserved = r->reserved;
	/* A failover lease (ISC writes tstp for those) keeps its expiries and next states. */
	if (r->tstp != DHCP_TIME_NONE || l->fo) {
		if (!l->fo) {
			l->fo = malloc(sizeof(*l->fo));
			if (!l->fo)
				return -ENOMEM;
			db->heap_bytes += sizeof(*l->fo);
		}
		*l->fo = (struct dhcp_lease_fo){.tstp = r->tstp,
						.tsfp = r->tsfp,
						.atsfp = r->atsfp,
						.next_binding = r->next_binding,
						.rewind_binding = r->rewind_binding};
	}
	l->offer_until = 0;
	return err;
}

struct dhcp_lease_fo *dhcp_leasedb_need_fo(struct dhcp_leasedb *db, struct dhcp_lease *l)
{
	if (l->fo)
		return l->fo;
	l->fo = malloc(sizeof(*l->fo));
	if (!l->fo)
		return NULL;
	db->heap_bytes += sizeof(*l->fo);
	/* Created before a change, mostly: the rewind state is the binding until then. */
	*l->fo = (struct dhcp_lease_fo){.tstp = DHCP_TIME_NONE, .tsfp = DHCP_TIME_NONE,
					.atsfp = DHCP_TIME_NONE, .rewind_binding = l->binding};
	return l->fo;
}

void dhcp_leasedb_drop_fo(struct dhcp_leasedb *db, struct dhcp_lease *l)
{
	if (!l->fo)
		return;
	free(l->fo);
	l->fo = NULL;
	db->heap_bytes -= sizeof(struct dhcp_lease_fo);
}

void dhcp_leasedb_to_rec(const struct dhcp_lease *l, struct dhcp_lease_rec *r)
{
	dhcp_lease_rec_init(r);
	r->addr = l->addr;
	r->starts = l->starts;
	r->ends = l->ends;
	r->cltt = l->cltt;
	r->binding = l->binding;
	r->reserved = l->reserved;
	/* Without failover ISC writes "next binding state free" for active leases. */
	r->next_binding = l->binding == DHCP_BINDING_ACTIVE ? DHCP_BINDING_FREE : 0;
	r->rewind_binding = DHCP_BINDING_FREE;
	if (l->fo) {
		r->tstp = l->fo->tstp;
		r->tsfp = l->fo->tsfp;
		r->atsfp = l->fo->atsfp;
		/* Under failover an active lease expires (and is freed through the peer). */
		if (l->fo->next_binding)
			r->next_binding = l->fo->next_binding;
		else if (l->binding == DHCP_BINDING_ACTIVE)
			r->next_binding = DHCP_BINDING_EXPIRED;
		if (l->fo->rewind_binding)
			r->rewind_binding = l->fo->rewind_binding;
	}
	r->htype = l->htype;
	r->hlen = l->hlen;
	memcpy(r->hw, l->hw, sizeof(r->hw));
	r->uid_len = l->uid_len;
	if (l->uid_len)
		memcpy(r->uid, dhcp_lease_uid(l), l->uid_len);
	if (l->hostname) {
		size_t n = strlen(l->hostname);

		r->hostname_len = (uint8_t)n;
		memcpy(r->hostname, l->hostname, n + 1);
	}
	r->bootp = l->bootp;
}

int dhcp_leasedb_walk(const struct dhcp_leasedb *db,
		      int (*fn)(void *ctx, struct dhcp_lease *l), void *ctx)
{
	for (struct slab *s = db->slabs; s; s = s->next) {
		for (size_t i = 0; i < s->used; i++) {
			int rc = fn(ctx, &s->leases[i]);

			if (rc)
				return rc;
		}
	}
	return 0;
}

struct dhcp_lease *dhcp_leasedb_next(const struct dhcp_leasedb *db, struct dhcp_leasedb_iter *it)
{
	const struct slab *s = it->slab;

	if (!it->started) {
		it->started = true;
		s = db->slabs;
		it->i = 0;
	}
	while (s && it->i >= s->used) {
		s = s->next;
		it->i = 0;
	}
	it->slab = s;
	return s ? (struct dhcp_lease *)&s->leases[it->i++] : NULL;
}
