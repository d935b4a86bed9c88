/* SPDX-License-Identifier: MPL-2.0 */
/* Address pools: per-range bitmaps of free addresses, reserved-address set, sweeping. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core_assert.h"
#include "dhcp_pools.h"

struct prange {
	uint32_t lo, hi;
	const struct dhcp_range *range;
	const struct dhcp_pool *pool;
	uint64_t *fresh, *reuse; /* (hi - lo + 1) bits each */
	uint32_t fresh_cursor, reuse_cursor; /* word index where the next search starts */
	int64_t swept_at;                    /* last exhaustion sweep */
};

struct dhcp_pools {
	struct dhcp_leasedb *db;
	struct prange *ranges; /* sorted by lo, disjoint */
	size_t ranges_n;
	uint32_t *reserved; /* sorted */
	size_t reserved_n;
	size_t size;
	size_t sweep_range; /* dhcp_pools_sweep position */
	uint64_t sweep_off;
	dhcp_pools_usable_fn usable; /* decides for failover pools */
	void *usable_ctx;
};

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_range(const void *a, const void *b)
{
	const struct prange *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static size_t words(const struct prange *r)
{
	return ((uint64_t)r->hi - r->lo + 1 + 63) / 64;
}

static int collect(struct dhcp_pools *p, const struct dhcp_conf *conf)
{
	size_t n = 0, cap = 16;

	p->ranges = calloc(cap, sizeof(*p->ranges));
	if (!p->ranges)
		return -ENOMEM;
	for (size_t i = 0; i < conf->subnets_n; i++) {
		const struct dhcp_subnet *sn = conf->subnets[i];

		for (size_t j = 0; j < sn->pools_n; j++) {
			const struct dhcp_pool *pool = sn->pools[j];

			for (size_t k = 0; k < pool->ranges_n; k++) {
				const struct dhcp_range *rg = &pool->ranges[k];
				struct prange *r;

				if (n == cap) {
					void *np = realloc(p->ranges, 2 * cap * sizeof(*p->ranges));

					if (!np)
						return -ENOMEM;
					p->ranges = np;
					cap *= 2;
				}
				r = &p->ranges[n++];
				memset(r, 0, sizeof(*r));
				r->lo = rg->lo;
				r->hi = rg->hi;
				r->range = rg;
				r->pool = pool;
				p->ranges_n = n;
				p->size += (uint64_t)rg->hi - rg->lo + 1;
				if (p->size > DHCP_POOLS_ADDRS_MAX)
					return -E2BIG;
				r->fresh = calloc(words(r), sizeof(uint64_t));
				r->reuse = calloc(words(r), sizeof(uint64_t));
				if (!r->fresh || !r->reuse)
					return -ENOMEM;
			}
		}
	}
	qsort(p->ranges, p->ranges_n, sizeof(*p->ranges), cmp_range);
	return 0;
}

static int collect_reserved(struct dhcp_pools *p, const struct dhcp_conf *conf)
{
	size_t n = 0;

	for (size_t i = 0; i < conf->hosts_n; i++)
		n += conf->hosts[i]->fixed_n;
	p->reserved = calloc(n ? n : 1, sizeof(uint32_t));
	if (!p->reserved)
		return -ENOMEM;
	for (size_t i = 0; i < conf->hosts_n; i++)
		for (size_t j = 0; j < conf->hosts[i]->fixed_n; j++)
			p->reserved[p->reserved_n++] = conf->hosts[i]->fixed[j];
	qsort(p->reserved, p->reserved_n, sizeof(uint32_t), cmp_u32);
	return 0;
}

struct dhcp_pools *dhcp_pools_new(const struct dhcp_conf *conf, struct dhcp_leasedb *db,
				  int64_t now, dhcp_pools_usable_fn usable, void *usable_ctx)
{
	struct dhcp_pools *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->db = db;
	p->usable = usable;
	p->usable_ctx = usable_ctx;
	if (collect(p, conf) < 0 || collect_reserved(p, conf) < 0) {
		dhcp_pools_free(p);
		return NULL;
	}
	for (size_t i = 0; i < p->ranges_n; i++)
		for (uint64_t a = p->ranges[i].lo; a <= p->ranges[i].hi; a++)
			dhcp_pools_update(p, (uint32_t)a, now);
	return p;
}

void dhcp_pools_free(struct dhcp_pools *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ranges_n; i++) {
		free(p->ranges[i].fresh);
		free(p->ranges[i].reuse);
	}
	free(p->ranges);
	free(p->reserved);
	free(p);
}

size_t dhcp_pools_size(const struct dhcp_pools *p)
{
	return p->size;
}

bool dhcp_pools_reserved(const struct dhcp_pools *p, uint32_t addr)
{
	return p->reserved_n &&
	       bsearch(&addr, p->reserved, p->reserved_n, sizeof(uint32_t), cmp_u32) != NULL;
}

static struct prange *range_of(const struct dhcp_pools *p, uint32_t addr)
{
	size_t lo = 0, hi = p->ranges_n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct prange *r = &p->ranges[mid];

		if (addr < r->lo)
			hi = mid;
		else if (addr > r->hi)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

const struct dhcp_pool *dhcp_pools_find(const struct dhcp_pools *p, uint32_t addr,
					const struct dhcp_range **range)
{
	struct prange *r = range_of(p, addr);

	if (range)
		*range = r ? r->range : NULL;
	return r ? r->pool : NULL;
}

static bool plain_free(const struct dhcp_lease *l, int64_t now)
{
	if (!l)
		return true;
	if (l->offer_until > now)
		return false;
	switch (l->binding) {
	case DHCP_BINDING_FREE:
	case DHCP_BINDING_EXPIRED:
	case DHCP_BINDING_RELEASED:
	case DHCP_BINDING_RESET:
		return true;
	case DHCP_BINDING_ACTIVE:
		return l->ends != DHCP_TIME_NEVER && l->ends != DHCP_TIME_NONE && l->ends <= now;
	default:
		return false;
	}
}

bool dhcp_pools_addr_free(const struct dhcp_pools *p, uint32_t addr, const struct dhcp_lease *l,
			  int64_t now)
{
	struct prange *r = range_of(p, addr);

	if (r && r->pool->fo && p->usable)
		return p->usable(p->usable_ctx, r->pool, l, now);
	return plain_free(l, now);
}

static void bit_set(uint64_t *map, uint32_t i, bool on)
{
	if (on)
		map[i / 64] |= 1ull << (i % 64);
	else
		map[i / 64] &= ~(1ull << (i % 64));
}

void dhcp_pools_update(struct dhcp_pools *p, uint32_t addr, int64_t now)
{
	struct prange *r = range_of(p, addr);
	const struct dhcp_lease *l;
	bool fresh = false, reuse = false;

	if (!r)
		return;
	if (!dhcp_pools_reserved(p, addr)) {
		l = dhcp_leasedb_get(p->db, addr);
		if (dhcp_pools_addr_free(p, addr, l, now)) {
			fresh = !l || (!l->hlen && !l->uid_len);
			reuse = !fresh;
		}
	}
	bit_set(r->fresh, addr - r->lo, fresh);
	bit_set(r->reuse, addr - r->lo, reuse);
}

/* First set bit at or after word *cursor (wrapping); clears nothing. */
static bool bit_find(const uint64_t *map, size_t n, uint32_t *cursor, uint32_t *bit)
{
	for (size_t k = 0; k < n; k++) {
		size_t w = (*cursor + k) % n;

		if (map[w]) {
			*cursor = (uint32_t)w;
			*bit = (uint32_t)(w * 64 + (size_t)__builtin_ctzll(map[w]));
			return true;
		}
	}
	return false;
}

static bool try_map(struct dhcp_pools *p, struct prange *r, uint64_t *map, uint32_t *cursor,
		    int64_t now, uint32_t *addr)
{
	uint32_t bit;

	/* A stale bit (the lease changed without an update) is dropped and the search goes on;
	 * each pass clears one bit, so this ends. */
	while (bit_find(map, words(r), cursor, &bit)) {
		uint32_t a = r->lo + bit;

		if (!dhcp_pools_reserved(p, a) &&
		    dhcp_pools_addr_free(p, a, dhcp_leasedb_get(p->db, a), now)) {
			*addr = a;
			return true;
		}
		bit_set(map, bit, false);
	}
	return false;
}

static struct prange *prange_for(const struct dhcp_pools *p, const struct dhcp_range *rg)
{
	struct prange *r = range_of(p, rg->lo);

	return r && r->range == rg ? r : NULL;
}

int dhcp_pools_alloc(struct dhcp_pools *p, const struct dhcp_range *rg, int64_t now,
		     uint32_t *addr)
{
	struct prange *r = prange_for(p, rg);

	if (!r)
		return CORE_ENOTFOUND;
	for (int pass = 0; pass < 2; pass++) {
		if (try_map(p, r, r->fresh, &r->fresh_cursor, now, addr) ||
		    try_map(p, r, r->reuse, &r->reuse_cursor, now, addr))
			return 0;
		if (pass || r->swept_at == now)
			break;
		/* Bits for leases that expired or offers that lapsed are set by the periodic
		 * sweep; when the range looks full, catch up now (bounded to once a second). */
		r->swept_at = now;
		for (uint64_t a = r->lo; a <= r->hi; a++)
			dhcp_pools_update(p, (uint32_t)a, now);
	}
	return CORE_EFULL;
}

size_t dhcp_pools_sweep(struct dhcp_pools *p, size_t budget,
			void (*fn)(void *ctx, uint32_t addr), void *ctx)
{
	size_t n = 0;

	if (!p->ranges_n)
		return 0;
	while (n < budget) {
		struct prange *r;

		if (p->sweep_range >= p->ranges_n) {
			p->sweep_range = 0;
			p->sweep_off = 0;
			if (n >= p->size)
				break;
		}
		r = &p->ranges[p->sweep_range];
		if (r->lo + p->sweep_off > r->hi) {
			p->sweep_range++;
			p->sweep_off = 0;
			continue;
		}
		fn(ctx, (uint32_t)(r->lo + p->sweep_off));
		p->sweep_off++;
		n++;
	}
	return n;
}
