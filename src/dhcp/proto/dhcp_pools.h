/* SPDX-License-Identifier: MPL-2.0 */
/* Address pools: which configured addresses are free, found in O(range/64) by bitmap. */
#ifndef DHCP_POOLS_H
#define DHCP_POOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp_conf.h"
#include "dhcp_leasedb.h"

/*
 * For every configured range two bitmaps say which addresses may be handed out: "fresh"
 * (no lease, or a lease with no client) and "reuse" (free, expired or released, but still
 * remembered for its last client, so it is given to others only when no fresh one is left
 * — a returning client thus finds its old address). Bits are a hint kept up to date by
 * dhcp_pools_update() on every lease change; allocation re-checks the lease itself.
 * Reserved addresses (host fixed-address) never have a bit.
 */
struct dhcp_pools;

#define DHCP_POOLS_ADDRS_MAX (64u * 1024 * 1024) /* addresses over all ranges */

/*
 * Whether l (NULL: an address never leased) of a failover pool is ours to give to a new
 * client at now. Failover decides this by the lease's binding state, the server's role and
 * state (see dhcp_server's failover part); without a callback such pools follow the plain
 * rule.
 */
typedef bool (*dhcp_pools_usable_fn)(void *ctx, const struct dhcp_pool *pool,
				     const struct dhcp_lease *l, int64_t now);

/* Indexes conf's ranges against db. NULL when out of memory or over the limit. */
struct dhcp_pools *dhcp_pools_new(const struct dhcp_conf *conf, struct dhcp_leasedb *db,
				  int64_t now, dhcp_pools_usable_fn usable, void *usable_ctx);
void dhcp_pools_free(struct dhcp_pools *p);

/* True when addr is some host's fixed-address. */
bool dhcp_pools_reserved(const struct dhcp_pools *p, uint32_t addr);
/* The pool and range containing addr, or NULL. */
const struct dhcp_pool *dhcp_pools_find(const struct dhcp_pools *p, uint32_t addr,
					const struct dhcp_range **range);

/* Whether addr, whose lease is l (NULL for an address never leased), is free for anyone at
 * now: an unbound or lapsed lease, or for a failover pool what the usable callback says. */
bool dhcp_pools_addr_free(const struct dhcp_pools *p, uint32_t addr, const struct dhcp_lease *l,
			  int64_t now);

/* Recomputes addr's bits after its lease changed. */
void dhcp_pools_update(struct dhcp_pools *p, uint32_t addr, int64_t now);

/*
 * An address of range r free for a new client, fresh ones first. When both bitmaps are
 * empty the range is re-swept (at most once a second) to catch expired leases and offers.
 * Returns 0 and sets *addr, or CORE_EFULL.
 */
int dhcp_pools_alloc(struct dhcp_pools *p, const struct dhcp_range *r, int64_t now,
		     uint32_t *addr) CORE_WARN_UNUSED;

/* Calls fn for every address of every range in order, resuming where the last call ended,
 * at most budget addresses. Returns the number visited. */
size_t dhcp_pools_sweep(struct dhcp_pools *p, size_t budget,
			void (*fn)(void *ctx, uint32_t addr), void *ctx);

/* Number of configured addresses. */
size_t dhcp_pools_size(const struct dhcp_pools *p);

#endif
