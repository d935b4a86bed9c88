/* SPDX-License-Identifier: MPL-2.0 */
/* The in-memory lease database: leases by address and by client, compact for millions. */
#ifndef DHCP_LEASEDB_H
#define DHCP_LEASEDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core_err.h"
#include "dhcp_lease.h"

/*
 * A lease. Pure data, owned by the DB; pointers into it stay valid until the lease is
 * removed or the DB destroyed. About 96 bytes plus index slots, so that a million leases
 * fit in the 256-bytes-per-lease budget.
 */
#define DHCP_LEASE_UID_INLINE 16

struct dhcp_lease {
	uint32_t addr;   /* host byte order; the key */
	uint8_t binding; /* enum dhcp_binding */
	uint8_t htype, hlen;
	uint8_t uid_len;
	uint8_t hw[DHCP_HW_MAX];
	union {
		uint8_t inl[DHCP_LEASE_UID_INLINE]; /* uid_len <= DHCP_LEASE_UID_INLINE */
		uint8_t *heap;                      /* otherwise, malloc'd */
	} uid;
	bool bootp;
	bool reserved; /* the failover RESERVED flag */
	int64_t starts, ends, cltt;
	struct dhcp_lease_fo *fo; /* failover fields, malloc'd for failover leases only */
	int64_t offer_until; /* an outstanding OFFER holds the address until then (not persisted) */
	char *hostname;      /* malloc'd client-hostname or NULL */
	struct dhcp_lease *next_hw, *next_uid; /* client index chains */
};

/*
 * What a lease in a failover pool adds (ISC writes tstp for those): potential expiries and
 * the next and rewind binding states. Kept apart so that leases without failover stay small.
 */
struct dhcp_lease_fo {
	int64_t tstp, tsfp, atsfp;
	uint8_t next_binding, rewind_binding;
};

/* Pointer to the lease's client identifier bytes (uid_len of them). */
static inline const uint8_t *dhcp_lease_uid(const struct dhcp_lease *l)
{
	return l->uid_len <= DHCP_LEASE_UID_INLINE ? l->uid.inl : l->uid.heap;
}

struct dhcp_leasedb;

/* Returns NULL when out of memory. Single-threaded: one loop owns a DB. */
struct dhcp_leasedb *dhcp_leasedb_new(void);
void dhcp_leasedb_free(struct dhcp_leasedb *db);

size_t dhcp_leasedb_count(const struct dhcp_leasedb *db);

struct dhcp_lease *dhcp_leasedb_get(const struct dhcp_leasedb *db, uint32_t addr);

/*
 * The lease for addr, created empty (binding FREE, no client) if absent. NULL when out of
 * memory or at leases_max.
 */
struct dhcp_lease *dhcp_leasedb_obtain(struct dhcp_leasedb *db, uint32_t addr);

/*
 * Sets the client identity of l (re-indexing it). uid may be NULL/0; hlen 0 = none.
 * Returns 0 or -ENOMEM (l is then left without a uid).
 */
int dhcp_leasedb_set_client(struct dhcp_leasedb *db, struct dhcp_lease *l, uint8_t htype,
			    uint8_t hlen, const uint8_t *hw, const uint8_t *uid,
			    size_t uid_len) CORE_WARN_UNUSED;
/* Replaces l's hostname (NULL or len 0 clears). Returns 0 or -ENOMEM. */
int dhcp_leasedb_set_hostname(struct dhcp_lease *l, const char *name, size_t len) CORE_WARN_UNUSED;

/*
 * Iterates leases of one client: first call with prev NULL. By uid when uid_len > 0, else
 * by hardware address. Leases whose identity differs are skipped.
 */
struct dhcp_lease *dhcp_leasedb_by_uid(const struct dhcp_leasedb *db, const uint8_t *uid,
				       size_t uid_len, struct dhcp_lease *prev);
struct dhcp_lease *dhcp_leasedb_by_hw(const struct dhcp_leasedb *db, uint8_t htype,
				      uint8_t hlen, const uint8_t *hw, struct dhcp_lease *prev);

/* l's failover fields, created (times absent, no next states) when l has none; NULL when
 * out of memory. */
struct dhcp_lease_fo *dhcp_leasedb_need_fo(struct dhcp_leasedb *db, struct dhcp_lease *l);
/* Forgets l's failover fields (a change made without failover: they no longer apply). */
void dhcp_leasedb_drop_fo(struct dhcp_leasedb *db, struct dhcp_lease *l);

/* Stores / reads back the lease-file form of l. */
int dhcp_leasedb_apply(struct dhcp_leasedb *db, const struct dhcp_lease_rec *r) CORE_WARN_UNUSED;
void dhcp_leasedb_to_rec(const struct dhcp_lease *l, struct dhcp_lease_rec *r);

/* Visits every lease in no particular order; a non-zero return from fn stops the walk. */
int dhcp_leasedb_walk(const struct dhcp_leasedb *db,
		      int (*fn)(void *ctx, struct dhcp_lease *l), void *ctx);

/* An iterator over every lease; zero-initialise, then call next until it returns NULL. The
 * DB must not gain leases meanwhile. */
struct dhcp_leasedb_iter {
	const void *slab;
	size_t i;
	bool started;
};
struct dhcp_lease *dhcp_leasedb_next(const struct dhcp_leasedb *db, struct dhcp_leasedb_iter *it);

/* Bytes allocated by the DB (structs, tables, strings), for the memory budget. */
size_t dhcp_leasedb_bytes(const struct dhcp_leasedb *db);

#endif
