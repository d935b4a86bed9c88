/* SPDX-License-Identifier: MPL-2.0 */
/* paceless-group-sim's invariant checkers: one order, no gaps or duplicates, one primary. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_assert.h"
#include "grp_sim.h"

/*
 * The first node to deliver a log position (or a seq, or a view id) writes the global record;
 * everyone after must match it exactly. That one rule covers total order, agreement across
 * incarnations and state transfers, and "delivered in a primary view is never lost or
 * reordered later": a later view delivering something else at that position would differ.
 */

#define U(x) ((unsigned long long)(x))

static void *grow(struct sim *s, void *a, uint64_t *cap, uint64_t want, size_t elem,
		  const char *what)
{
	uint64_t c = *cap ? *cap : 4096;
	uint8_t *n;

	if (want >= SIM_LOG_MAX)
		sim_fail(s, "simulator limit: %s %llu beyond %u", what, U(want), SIM_LOG_MAX);
	while (c <= want)
		c *= 2;
	n = realloc(a, c * elem);
	ASSERT(n);
	memset(n + *cap * elem, 0, (c - *cap) * elem);
	*cap = c;
	return n;
}

static struct sim_irec *irec_get(struct sim *s, uint64_t index)
{
	if (index >= s->irec_cap)
		s->irec = grow(s, s->irec, &s->irec_cap, index, sizeof(*s->irec), "index");
	return &s->irec[index];
}

static struct sim_srec *srec_get(struct sim *s, uint64_t seq)
{
	if (seq >= s->srec_cap)
		s->srec = grow(s, s->srec, &s->srec_cap, seq, sizeof(*s->srec), "seq");
	return &s->srec[seq];
}

void sim_check_reset(struct sim *s)
{
	s->irec = NULL;
	s->srec = NULL;
	s->term_leader = NULL;
	s->irec_cap = s->srec_cap = 0;
}

void sim_check_free(struct sim *s)
{
	free(s->irec);
	free(s->srec);
	free(s->term_leader);
	sim_check_reset(s);
}

/* ---- incarnations by uuid ---- */

static uint32_t uuid_slot(const struct grp_uuid *u)
{
	uint64_t k;

	memcpy(&k, u->b, sizeof(k));
	return (uint32_t)(sim_mix(0, k) % (2 * SIM_INCS_MAX));
}

void sim_inc_add(struct sim *s, uint32_t idx)
{
	uint32_t i = uuid_slot(&s->incs[idx].uuid);

	while (s->inc_tab[i]) {
		if (grp_uuid_eq(&s->incs[s->inc_tab[i] - 1].uuid, &s->incs[idx].uuid)) {
			s->incs[idx].prev = s->inc_tab[i]; /* restored: the same uuid again */
			break;
		}
		i = (i + 1) % (2 * SIM_INCS_MAX);
	}
	s->inc_tab[i] = idx + 1;
}

struct sim_inc *sim_inc_find_id(struct sim *s, const struct grp_uuid *u, uint64_t id)
{
	struct sim_inc *inc = sim_inc_find(s, u);

	while (inc && id <= inc->id_base)
		inc = inc->prev ? &s->incs[inc->prev - 1] : NULL;
	return inc;
}

/*
 * After every node crashed: positions past what any data node delivered were delivered by
 * arbitrators only, which keep nothing (no service); the group formed again may use them.
 */
void sim_forget_after(struct sim *s, uint64_t index)
{
	for (uint64_t i = index + 1; i < s->irec_cap; i++)
		memset(&s->irec[i], 0, sizeof(s->irec[i]));
	/*
	 * One leader per term guards entries that some process holds; after every process
	 * died none does, and no message of theirs is still in flight (it was addressed to a
	 * process that is gone). A term an arbitrator took alone, remembered by no state file,
	 * may be taken again.
	 */
	if (s->term_leader)
		memset(s->term_leader, 0, SIM_TERMS_MAX * sizeof(*s->term_leader));
}

struct sim_inc *sim_inc_find(struct sim *s, const struct grp_uuid *u)
{
	for (uint32_t i = uuid_slot(u); s->inc_tab[i]; i = (i + 1) % (2 * SIM_INCS_MAX))
		if (grp_uuid_eq(&s->incs[s->inc_tab[i] - 1].uuid, u))
			return &s->incs[s->inc_tab[i] - 1];
	return NULL;
}

/* ---- members, configurations ---- */

void sim_on_member(struct sim_node *nd, const struct grp_member *m, const char *what)
{
	struct sim *s = nd->sim;
	const struct sim_inc *inc;
	char name[16];

	if (!m || grp_uuid_is_nil(&m->uuid) || !memchr(m->name, 0, sizeof(m->name)) ||
	    !memchr(m->addr, 0, sizeof(m->addr)) || m->weight > GRP_WEIGHT_MAX)
		sim_fail(s, "n%d %s: a malformed member record", nd->slot, what);
	inc = sim_inc_find(s, &m->uuid);
	if (!inc)
		sim_fail(s, "n%d %s: member %s has a uuid no node ever had", nd->slot, what,
			 m->name);
	snprintf(name, sizeof(name), "n%d", inc->slot);
	if (strcmp(name, m->name))
		sim_fail(s, "n%d %s: member of n%d is named %s", nd->slot, what, inc->slot,
			 m->name);
}

uint64_t sim_cfg_hash(const struct grp_config *c)
{
	uint64_t h = sim_mix(c->n, c->n_old);

	for (uint32_t i = 0; i < c->n; i++)
		h = sim_mix(sim_hash(h, &c->m[i].uuid, sizeof(c->m[i].uuid)), c->m[i].weight);
	for (uint32_t i = 0; i < c->n_old; i++)
		h = sim_mix(sim_hash(h, &c->old[i].uuid, sizeof(c->old[i].uuid)), c->old[i].weight);
	return h;
}

static void check_cfg(struct sim_node *nd, const struct grp_config *c, const char *what)
{
	if (!c || c->n > GRP_MEMBERS_MAX || c->n_old > GRP_MEMBERS_MAX)
		sim_fail(nd->sim, "n%d %s: malformed configuration", nd->slot, what);
	for (uint32_t i = 0; i < c->n; i++)
		sim_on_member(nd, &c->m[i], what);
	for (uint32_t i = 0; i < c->n_old; i++)
		sim_on_member(nd, &c->old[i], what);
}

/* ---- submissions ---- */

void sim_sub_record(struct sim *s, struct sim_inc *inc, int64_t id)
{
	struct sim_sub *sub;

	if (id < 0) {
		if (id == CORE_EFULL)
			s->st.efull++;
		else if (id == CORE_ESTATE)
			s->st.estate++;
		else
			sim_fail(s, "n%d: submit of %s returned %s", inc->slot,
				 inc->sub_type == GRP_ENTRY_DATA ? "DATA" : "STATE",
				 core_strerror((int)id));
		if (inc->early_id)
			sim_fail(s, "n%d: a refused submission was delivered at index %llu",
				 inc->slot, U(inc->early_index));
		return;
	}
	if (id == 0 || (uint64_t)id <= inc->last_id || (uint64_t)id - inc->id_base >= SIM_SUBS_MAX)
		sim_fail(s, "n%d: submit returned origin_id %lld after %llu", inc->slot,
			 (long long)id, U(inc->last_id));
	if ((uint64_t)id - inc->id_base >= inc->subs_cap) {
		uint64_t c = inc->subs_cap ? inc->subs_cap : 256;

		while (c <= (uint64_t)id - inc->id_base)
			c *= 2;
		inc->subs = realloc(inc->subs, c * sizeof(*inc->subs));
		ASSERT(inc->subs);
		memset(inc->subs + inc->subs_cap, 0, (c - inc->subs_cap) * sizeof(*inc->subs));
		inc->subs_cap = c;
	}
	sub = &inc->subs[(uint64_t)id - inc->id_base];
	sub->type = inc->sub_type;
	sub->hash = inc->sub_hash;
	if (inc->early_id) {
		if (inc->early_id != (uint64_t)id)
			sim_fail(s, "n%d: submit returned origin_id %lld but delivered it as %llu",
				 inc->slot, (long long)id, U(inc->early_id));
		sub->delivered = inc->early_index;
	}
	inc->last_id = (uint64_t)id;
}

/* DATA and STATE: from a known incarnation, as submitted, once. */
static void check_origin(struct sim_node *nd, const struct grp_entry *e, uint64_t h)
{
	struct sim *s = nd->sim;
	struct sim_inc *inc = sim_inc_find_id(s, &e->origin, e->origin_id);
	struct sim_sub *sub;

	if (!inc)
		sim_fail(s, "n%d delivered index %llu from an origin no node ever had", nd->slot,
			 U(e->index));
	if (e->origin_id > inc->last_id) {
		if (inc->submitting && (!inc->early_id || inc->early_id == e->origin_id) &&
		    inc->sub_type == e->type && inc->sub_hash == h &&
		    (!inc->early_index || inc->early_index == e->index)) {
			inc->early_id = e->origin_id;
			inc->early_index = e->index;
			return;
		}
		sim_fail(s, "n%d delivered index %llu: origin n%d origin_id %llu was never "
			 "accepted (last accepted %llu)", nd->slot, U(e->index), inc->slot,
			 U(e->origin_id), U(inc->last_id));
	}
	sub = &inc->subs[e->origin_id - inc->id_base];
	if (!sub->type)
		sim_fail(s, "n%d delivered index %llu: origin n%d origin_id %llu was refused",
			 nd->slot, U(e->index), inc->slot, U(e->origin_id));
	if (sub->type != e->type || sub->hash != h)
		sim_fail(s, "n%d delivered index %llu: origin n%d origin_id %llu differs from what "
			 "was submitted (type %u vs %u)", nd->slot, U(e->index), inc->slot,
			 U(e->origin_id), e->type, sub->type);
	if (sub->delivered && sub->delivered != e->index)
		sim_fail(s, "duplicate: origin n%d origin_id %llu delivered at index %llu and %llu",
			 inc->slot, U(e->origin_id), U(sub->delivered), U(e->index));
	sub->delivered = e->index;
}

/* ---- deliveries ---- */

static void check_global(struct sim_node *nd, const struct grp_entry *e, uint64_t h)
{
	struct sim *s = nd->sim;
	struct sim_irec *r = irec_get(s, e->index);

	if (!r->set) {
		r->set = true;
		r->type = e->type;
		r->term = e->term;
		r->seq = e->seq;
		r->origin = e->origin;
		r->origin_id = e->origin_id;
		r->hash = h;
	} else if (r->type != e->type || r->term != e->term || r->seq != e->seq ||
		   !grp_uuid_eq(&r->origin, &e->origin) || r->origin_id != e->origin_id ||
		   r->hash != h) {
		sim_fail(s, "order: n%d delivered index %llu as type %u term %llu seq %llu "
			 "origin_id %llu; first delivered as type %u term %llu seq %llu "
			 "origin_id %llu%s", nd->slot, U(e->index), e->type, U(e->term), U(e->seq),
			 U(e->origin_id), r->type, U(r->term), U(r->seq), U(r->origin_id),
			 r->hash != h ? " (content differs)" : "");
	}
	if (r->view_hash && (e->type != GRP_ENTRY_CONFIG || r->view_hash != h))
		sim_fail(s, "n%d delivered index %llu (type %u) which differs from the primary "
			 "view with that id", nd->slot, U(e->index), e->type);
	if (e->type == GRP_ENTRY_DATA && !nd->arb) { /* an arbitrator's chain starts anywhere */
		struct sim_srec *q = srec_get(s, e->seq);

		if (!q->index) {
			q->index = e->index;
			q->chain = nd->svc.hash;
		} else if (q->index != e->index || q->chain != nd->svc.hash) {
			sim_fail(s, "order: n%d delivered seq %llu at index %llu (chain %016llx); "
				 "first at index %llu (chain %016llx)", nd->slot, U(e->seq),
				 U(e->index), U(nd->svc.hash), U(q->index), U(q->chain));
		}
	}
}

/* This incarnation's stream and the slot's service: consecutive, without gaps. */
static void check_stream(struct sim_node *nd, const struct grp_entry *e)
{
	struct sim *s = nd->sim;
	bool data = e->type == GRP_ENTRY_DATA;

	/*
	 * An arbitrator has no service: it starts anywhere committed, and moves its base forward
	 * instead of a state transfer (check_global still checks every entry it delivers).
	 */
	if (nd->arb && (!nd->delivered_any || e->index > nd->last_index + 1) &&
	    (!nd->delivered_any || e->seq >= nd->last_seq)) {
		if (nd->delivered_any)
			sim_log(s, "n%d (arbitrator) moved its base: index %llu after %llu", nd->slot,
				U(e->index), U(nd->last_index));
		nd->svc.seq = e->seq - data;
		nd->delivered_any = false;
	}
	if (nd->delivered_any) {
		if (e->index != nd->last_index + 1 || e->seq != nd->last_seq + data)
			sim_fail(s, "gap: n%d delivered index %llu seq %llu after index %llu "
				 "seq %llu", nd->slot, U(e->index), U(e->seq), U(nd->last_index),
				 U(nd->last_seq));
	} else if (nd->after_xfer && e->index <= nd->xfer_index) {
		sim_fail(s, "n%d delivered index %llu after a state transfer to index %llu",
			 nd->slot, U(e->index), U(nd->xfer_index));
	}
	if (data ? e->seq != nd->svc.seq + 1 : e->seq > nd->svc.seq)
		sim_fail(s, "service: n%d delivered %s seq %llu (index %llu) to a service at "
			 "seq %llu", nd->slot, data ? "DATA" : "non-DATA", U(e->seq), U(e->index),
			 U(nd->svc.seq));
	if (data) {
		nd->svc.hash = sim_hash(nd->svc.hash, e->data, e->len);
		nd->svc.seq = e->seq;
	}
	nd->svc.index = e->index;
	nd->svc.term = e->term;
	if (!nd->arb && e->index > s->data_index_max)
		s->data_index_max = e->index;
	nd->delivered_any = true;
	nd->last_index = e->index;
	nd->last_seq = e->seq;
}

void sim_on_deliver(struct sim_node *nd, const struct grp_entry *e)
{
	struct sim *s = nd->sim;
	uint64_t h;

	s->st.deliveries++;
	sim_log(s, "n%d deliver index=%llu term=%llu seq=%llu type=%u origin_id=%llu len=%u",
		nd->slot, U(e->index), U(e->term), U(e->seq), e->type, U(e->origin_id), e->len);
	if (nd->expect_view)
		sim_fail(s, "n%d delivered index %llu before the view of CONFIG index %llu",
			 nd->slot, U(e->index), U(nd->expect_view_index));
	if (e->type < GRP_ENTRY_NOOP || e->type > GRP_ENTRY_STATE || !e->index ||
	    (e->len && !e->data) || (e->type == GRP_ENTRY_STATE && e->len != 1))
		sim_fail(s, "n%d delivered a malformed entry at index %llu (type %u len %u)",
			 nd->slot, U(e->index), e->type, e->len);
	if (e->type == GRP_ENTRY_CONFIG) {
		check_cfg(nd, e->cfg, "CONFIG entry");
		h = sim_cfg_hash(e->cfg);
	} else {
		h = sim_hash(e->type, e->data, e->len);
	}
	if (e->type == GRP_ENTRY_DATA && nd->has_view && !nd->primary)
		sim_fail(s, "n%d delivered DATA index %llu seq %llu in a non-primary view",
			 nd->slot, U(e->index), U(e->seq));
	check_stream(nd, e);
	check_global(nd, e, h);
	if (e->type == GRP_ENTRY_DATA || e->type == GRP_ENTRY_STATE)
		check_origin(nd, e, h);
	if (e->type == GRP_ENTRY_CONFIG) {
		nd->expect_view = true;
		nd->expect_view_index = e->index;
	}
	s->digest = sim_mix(s->digest, e->index ^ (uint64_t)nd->slot << 56);
}

/* ---- views ---- */

void sim_on_view(struct sim_node *nd, uint64_t id, const struct grp_config *cfg, int my_index,
		 bool primary)
{
	struct sim *s = nd->sim;
	uint64_t h;

	s->st.views++;
	sim_log(s, "n%d view id=%llu n=%u n_old=%u my_index=%d primary=%d", nd->slot, U(id),
		cfg ? cfg->n : 0, cfg ? cfg->n_old : 0, my_index, primary);
	check_cfg(nd, cfg, "view");
	if (my_index < -1 || my_index >= (int)cfg->n ||
	    (my_index >= 0 && !grp_uuid_eq(&cfg->m[my_index].uuid, &nd->self.uuid)))
		sim_fail(s, "n%d view %llu: my_index %d is not this node", nd->slot, U(id),
			 my_index);
	h = sim_cfg_hash(cfg);
	if (primary) {
		struct sim_irec *r = irec_get(s, id);

		/* my_index -1 is allowed: a joiner catching up is in the primary's stream (a
		 * Raft learner) before a configuration includes it. */
		if (nd->had_primary && id < nd->max_primary_id)
			sim_fail(s, "n%d: primary view id went back from %llu to %llu", nd->slot,
				 U(nd->max_primary_id), U(id));
		if (!r->view_hash)
			r->view_hash = h;
		else if (r->view_hash != h)
			sim_fail(s, "two primaries: n%d installed primary view %llu with other "
				 "members than an earlier primary view %llu", nd->slot, U(id),
				 U(id));
		if (id && r->set && (r->type != GRP_ENTRY_CONFIG || r->hash != h))
			sim_fail(s, "n%d: primary view %llu is not the CONFIG entry at index %llu",
				 nd->slot, U(id), U(id));
		nd->had_primary = true;
		nd->max_primary_id = id;
	}
	if (nd->expect_view) {
		if (primary && id != nd->expect_view_index)
			sim_fail(s, "n%d: the view after CONFIG index %llu has id %llu", nd->slot,
				 U(nd->expect_view_index), U(id));
		nd->expect_view = false;
	}
	nd->has_view = true;
	nd->primary = primary;
	nd->view_id = id;
}

/* ---- after every step ---- */

static void check_leader(struct sim *s, struct sim_node *nd, const struct grp_status *st)
{
	static uint64_t cap;

	if (!grp_uuid_eq(&st->leader, &nd->self.uuid))
		sim_fail(s, "n%d is leader of term %llu but names another leader", nd->slot,
			 U(st->term));
	if (st->term >= SIM_TERMS_MAX)
		return;
	if (!s->term_leader) {
		cap = SIM_TERMS_MAX;
		s->term_leader = calloc(cap, sizeof(*s->term_leader));
		ASSERT(s->term_leader);
	}
	if (grp_uuid_is_nil(&s->term_leader[st->term])) {
		s->term_leader[st->term] = nd->self.uuid;
		s->st.elections++;
	} else if (!grp_uuid_eq(&s->term_leader[st->term], &nd->self.uuid)) {
		sim_fail(s, "two leaders in term %llu (n%d and %s)", U(st->term), nd->slot,
			 sim_inc_find(s, &s->term_leader[st->term]) ? "another node" : "?");
	}
}

void sim_check_step(struct sim *s)
{
	uint64_t span_max = s->params.cache_bytes / 16 +
			    (uint64_t)s->params.submit_max * (uint64_t)s->n + 4096;

	for (int i = 0; i < s->n; i++) {
		struct sim_node *nd = &s->node[i];
		struct grp_status st;

		if (!nd->p)
			continue;
		grp_proto_status(nd->p, &st);
		if (nd->expect_view)
			sim_fail(s, "n%d: CONFIG index %llu delivered without a view callback", i,
				 U(nd->expect_view_index));
		if (st.pending > s->params.submit_max)
			sim_fail(s, "memory: n%d has %u pending submissions (submit_max %u)", i,
				 st.pending, s->params.submit_max);
		if (st.pending > 1 && st.pending_bytes > s->params.submit_bytes)
			sim_fail(s, "memory: n%d has %llu bytes pending (submit_bytes %llu)", i,
				 U(st.pending_bytes), U(s->params.submit_bytes));
		if (st.cache_first && st.last_index > st.cache_first &&
		    st.last_index - st.cache_first > span_max)
			sim_fail(s, "memory: n%d holds log %llu..%llu with cache_bytes %llu", i,
				 U(st.cache_first), U(st.last_index), U(s->params.cache_bytes));
		if (nd->arb && nd->delivered_any && st.applied < nd->last_index)
			sim_fail(s, "n%d (arbitrator) status says applied %llu; it delivered up to "
				 "index %llu", i, U(st.applied), U(nd->last_index));
		if (!nd->arb && (nd->delivered_any || nd->after_xfer) &&
		    (st.applied != (nd->delivered_any ? nd->last_index : nd->xfer_index) ||
		     st.seq != nd->svc.seq))
			sim_fail(s, "n%d status says applied %llu seq %llu; it delivered up to "
				 "index %llu seq %llu", i, U(st.applied), U(st.seq),
				 U(nd->delivered_any ? nd->last_index : nd->xfer_index),
				 U(nd->svc.seq));
		if (st.is_leader)
			check_leader(s, nd, &st);
	}
}

/* ---- liveness ---- */

static bool undelivered(struct sim *s, char *why, size_t len)
{
	for (uint32_t k = 0; k < s->n_incs; k++) {
		const struct sim_inc *inc = &s->incs[k];

		if (!inc->alive || inc->excused)
			continue;
		for (uint64_t id = inc->abandoned_upto + 1; id <= inc->last_id; id++)
			if (inc->subs[id - inc->id_base].type &&
			    !inc->subs[id - inc->id_base].delivered) {
				snprintf(why, len, "n%d origin_id %llu (accepted, never delivered)",
					 inc->slot, U(id));
				return true;
			}
	}
	return false;
}

bool sim_converged(struct sim *s, char *why, size_t len)
{
	struct grp_status st0, st;
	const struct grp_config *c;

	for (int i = 0; i < s->n; i++) {
		struct sim_node *nd = &s->node[i];

		if (!nd->p || nd->frozen || nd->xfer_pending) {
			snprintf(why, len, "n%d is down, frozen or in a state transfer", i);
			return false;
		}
		grp_proto_status(nd->p, &st);
		if (i == 0)
			st0 = st;
		if (!st.member || !st.primary || !nd->primary || nd->view_id != st.view_id) {
			snprintf(why, len, "n%d member=%d primary=%d (view callback: primary=%d id "
				 "%llu; status view %llu)", i, st.member, st.primary, nd->primary,
				 U(nd->view_id), U(st.view_id));
			return false;
		}
		if (st.view_id != st0.view_id || st.commit != st0.commit ||
		    st.applied != st.commit || st.pending ||
		    !grp_uuid_eq(&st.leader, &st0.leader)) {
			snprintf(why, len, "n%d view %llu commit %llu applied %llu pending %u; "
				 "n0 view %llu commit %llu", i, U(st.view_id), U(st.commit),
				 U(st.applied),
				 st.pending, U(st0.view_id), U(st0.commit));
			return false;
		}
	}
	/* Every node's configuration in force, not one's: the leader's may already be changing
	 * while a follower has not received the change yet. */
	for (int j = 0; j < s->n; j++) {
		c = grp_proto_config(s->node[j].p);
		if (c->n != (uint32_t)s->n || c->n_old) {
			snprintf(why, len, "n%d's configuration has %u members (%u old) for %d live "
				 "nodes", j, c->n, c->n_old, s->n);
			return false;
		}
		for (int i = 0; i < s->n; i++)
			if (grp_config_find(c, &s->node[i].self.uuid) < 0) {
				snprintf(why, len, "n%d's incarnation is not in n%d's configuration", i,
					 j);
				return false;
			}
	}
	return !undelivered(s, why, len);
}

/* " n<slot>/<incarnation>:<weight>", "(dead)" when that process is gone. */
static void dump_members(struct sim *s, const struct grp_member *m, uint32_t n)
{
	for (uint32_t k = 0; k < n; k++) {
		struct sim_inc *inc = sim_inc_find(s, &m[k].uuid);

		fprintf(stderr, " n%d/%u:%u%s", inc ? inc->slot : -1,
			inc ? (uint32_t)(inc - s->incs) : 0, m[k].weight,
			inc && inc->alive ? "" : "(dead)");
	}
}

void sim_dump(struct sim *s)
{
	for (int i = 0; i < s->n; i++) {
		struct sim_node *nd = &s->node[i];
		const struct grp_config *c;
		struct grp_status st;
		struct sim_inc *l;

		if (!nd->p) {
			fprintf(stderr, "  n%d down\n", i);
			continue;
		}
		grp_proto_status(nd->p, &st);
		c = grp_proto_config(nd->p);
		l = sim_inc_find(s, &st.leader);
		fprintf(stderr, "  n%d inc=%u term=%llu leader=%s%d is_leader=%d commit=%llu "
			"applied=%llu seq=%llu last=%llu first=%llu view=%llu member=%d primary=%d "
			"restoring=%d paused=%d pending=%u dropped=%llu cfg:", i, nd->inc, U(st.term),
			l ? "n" : "-", l ? l->slot : 0, st.is_leader, U(st.commit), U(st.applied),
			U(st.seq), U(st.last_index), U(st.cache_first), U(st.view_id), st.member,
			st.primary, st.restoring, st.paused, st.pending, U(st.dropped));
		dump_members(s, c->m, c->n);
		if (c->n_old) {
			fprintf(stderr, " (joint; old:");
			dump_members(s, c->old, c->n_old);
			fprintf(stderr, ")");
		}
		fprintf(stderr, "\n");
	}
}
