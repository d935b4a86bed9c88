/* SPDX-License-Identifier: MPL-2.0 */
/* dhcpd.conf validation once everything is read: pools, ranges, overlaps, host names. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_assert.h"
#include "dhcp_conf_int.h"

#define IP4(a) (a) >> 24, ((a) >> 16) & 255, ((a) >> 8) & 255, (a)&255

static bool in_subnet(const struct dhcp_subnet *s, uint32_t a)
{
	return (a & s->mask) == s->net;
}

/* A pool written directly in a shared-network belongs to the subnet its ranges lie in. */
static int resolve_pool(struct conf_parser *p, struct conf_pool_ref *ref)
{
	struct dhcp_pool *pool = ref->pool, **slot;
	const struct dhcp_range *rg = &pool->ranges[0];
	struct dhcp_subnet *sn = NULL;

	for (size_t i = 0; i < ref->shared->subnets_n && !sn; i++)
		if (in_subnet(ref->shared->subnets[i], rg->lo))
			sn = ref->shared->subnets[i];
	if (!sn)
		return conf_fail(p, &ref->pos, CORE_EPARSE,
				 "pool range %u.%u.%u.%u - %u.%u.%u.%u is not inside any subnet of "
				 "shared-network '%s'",
				 IP4(rg->lo), IP4(rg->hi), ref->shared->name);
	slot = conf_push(p, &sn->pools, &sn->pools_n, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	*slot = pool;
	pool->subnet = sn;
	/* ISC applies a pool's statements over its subnet's: make the subnet its parent. */
	pool->scope.parent = &sn->scope;
	return 0;
}

static int check_pools(struct conf_parser *p)
{
	int r;

	for (size_t i = 0; i < p->pools_n; i++) {
		struct conf_pool_ref *ref = &p->pools[i];

		ASSERT(ref->pool->ranges_n > 0);
		if (ref->shared) {
			r = resolve_pool(p, ref);
			if (r)
				return r;
		}
		/* A shared-network's "failover peer" covers its pools that name none. */
		if (!ref->pool->fo && ref->pool->subnet->shared->fo) {
			ref->pool->fo = ref->pool->subnet->shared->fo;
			ref->pool->failover_peer = ref->pool->fo->name;
		}
	}
	return 0;
}

static int check_range_subnet(struct conf_parser *p, const struct conf_range_ref *ref)
{
	const struct dhcp_range *rg = &ref->pool->ranges[ref->idx];
	const struct dhcp_subnet *sn = ref->pool->subnet;

	if (in_subnet(sn, rg->lo) && in_subnet(sn, rg->hi))
		return 0;
	return conf_fail(p, &ref->pos, CORE_EPARSE,
			 "range %u.%u.%u.%u - %u.%u.%u.%u is not inside subnet %u.%u.%u.%u netmask "
			 "%u.%u.%u.%u%s",
			 IP4(rg->lo), IP4(rg->hi), IP4(sn->net), IP4(sn->mask),
			 ref->idx ? " (all ranges of a pool must lie in one subnet)" : "");
}

static const struct dhcp_range *ref_range(const struct conf_range_ref *r)
{
	return &r->pool->ranges[r->idx];
}

static int cmp_range_ref(const void *a, const void *b)
{
	const struct dhcp_range *x = ref_range(*(struct conf_range_ref *const *)a);
	const struct dhcp_range *y = ref_range(*(struct conf_range_ref *const *)b);

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int later_first(const struct conf_range_ref *a, const struct conf_range_ref *b)
{
	if (a->pos.file != b->pos.file)
		return 0; /* different files: keep the sorted order */
	return a->pos.line > b->pos.line || (a->pos.line == b->pos.line && a->pos.col > b->pos.col);
}

/* No address may be in two ranges, as ISC refuses a lease "declared twice". */
static int check_overlaps(struct conf_parser *p)
{
	struct conf_range_ref **v, *prev = NULL, *cur, *t;
	int r = 0;

	if (p->ranges_n < 2)
		return 0;
	v = malloc(p->ranges_n * sizeof(*v));
	if (!v)
		return conf_fail(p, NULL, -ENOMEM, "out of memory");
	for (size_t i = 0; i < p->ranges_n; i++)
		v[i] = &p->ranges[i];
	qsort(v, p->ranges_n, sizeof(*v), cmp_range_ref);
	for (size_t i = 0; i < p->ranges_n && !r; i++) {
		cur = v[i];
		if (prev && ref_range(cur)->lo <= ref_range(prev)->hi) {
			const struct conf_range_ref *a = prev, *b = cur;

			if (later_first(a, b)) {
				t = prev;
				a = b;
				b = t;
			}
			r = conf_fail(
			    p, &b->pos, CORE_EPARSE,
			    "range %u.%u.%u.%u - %u.%u.%u.%u overlaps the range at %s:%u:%u",
			    IP4(ref_range(b)->lo), IP4(ref_range(b)->hi), a->pos.file,
			    (unsigned)a->pos.line, (unsigned)a->pos.col);
		}
		if (!prev || ref_range(cur)->hi > ref_range(prev)->hi)
			prev = cur;
	}
	free(v);
	return r;
}

static int cmp_host_idx(const void *a, const void *b, void *arg)
{
	const struct dhcp_conf *conf = arg;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	int c = strcmp(conf->hosts[x]->name, conf->hosts[y]->name);

	return c ? c : (x < y ? -1 : x > y);
}

/* Host names are unique, as ISC requires ("host X: already exists"). */
static int check_hosts(struct conf_parser *p)
{
	const struct dhcp_conf *c = p->c;
	size_t *v;
	int r = 0;

	if (c->hosts_n < 2)
		return 0;
	v = malloc(c->hosts_n * sizeof(*v));
	if (!v)
		return conf_fail(p, NULL, -ENOMEM, "out of memory");
	for (size_t i = 0; i < c->hosts_n; i++)
		v[i] = i;
	qsort_r(v, c->hosts_n, sizeof(*v), cmp_host_idx, (void *)c);
	for (size_t i = 1; i < c->hosts_n && !r; i++)
		if (!strcmp(c->hosts[v[i]]->name, c->hosts[v[i - 1]]->name))
			r = conf_fail(p, &p->host_pos[v[i]], CORE_EPARSE,
				      "host %s: already declared at %s:%u:%u", c->hosts[v[i]]->name,
				      p->host_pos[v[i - 1]].file,
				      (unsigned)p->host_pos[v[i - 1]].line,
				      (unsigned)p->host_pos[v[i - 1]].col);
	free(v);
	return r;
}

static int cmp_subnet(const void *a, const void *b)
{
	const struct dhcp_subnet *x = *(struct dhcp_subnet *const *)a;
	const struct dhcp_subnet *y = *(struct dhcp_subnet *const *)b;

	return x->net < y->net ? -1 : x->net > y->net;
}

/* Sorted subnets allow a binary search, as long as no two of them overlap. */
static int index_subnets(struct conf_parser *p)
{
	struct dhcp_conf *c = p->c;
	struct dhcp_subnet **v;

	if (!c->subnets_n)
		return 0;
	v = core_arena_alloc(&c->arena, c->subnets_n * sizeof(*v));
	if (!v)
		return conf_fail(p, NULL, -ENOMEM, "out of memory");
	memcpy(v, c->subnets, c->subnets_n * sizeof(*v));
	qsort(v, c->subnets_n, sizeof(*v), cmp_subnet);
	for (size_t i = 1; i < c->subnets_n; i++)
		if ((v[i]->net & v[i - 1]->mask) == v[i - 1]->net ||
		    (v[i - 1]->net & v[i]->mask) == v[i]->net)
			return 0; /* overlapping: lookups scan */
	c->subnets_by_net = v;
	return 0;
}

int conf_check(struct conf_parser *p)
{
	int r = check_pools(p);

	for (size_t i = 0; !r && i < p->ranges_n; i++)
		r = check_range_subnet(p, &p->ranges[i]);
	if (!r)
		r = check_overlaps(p);
	if (!r)
		r = check_hosts(p);
	if (!r)
		r = index_subnets(p);
	return r;
}
