/* SPDX-License-Identifier: MPL-2.0 */
/* The in-memory log: a ring of entries [first, last] over a base, with a byte budget. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core_assert.h"
#include "grp_log.h"

#define CAP_MIN 64
#define ENT_OVERHEAD 64 /* what an entry costs besides its payload, for the budget */
#define STORE_BLOCK (1u << 20)
#define CFG_ALIGN 16 /* a cfg follows the data in the entry's item, at this alignment */

void grp_log_init(struct grp_log *l, uint64_t index, uint64_t term, uint64_t seq)
{
	memset(l, 0, sizeof(*l));
	l->first = index + 1;
	l->last = index;
	l->base_term = term;
	l->base_seq = seq;
	core_fifo_init(&l->store, STORE_BLOCK);
}

/* The entry's item in the store, or NULL when it has neither data nor cfg. */
static void *ent_item(const struct grp_log_ent *e)
{
	return e->len ? (void *)e->data : (void *)e->cfg;
}

/* Frees entry e, the oldest held (front) or the newest. */
static void ent_free(struct grp_log *l, struct grp_log_ent *e, bool front)
{
	void *item = ent_item(e);

	l->bytes -= ENT_OVERHEAD + e->len + (e->cfg ? sizeof(*e->cfg) : 0);
	if (item && front)
		core_fifo_pop_front(&l->store, item);
	else if (item)
		core_fifo_pop_back(&l->store, item);
	e->data = NULL;
	e->cfg = NULL;
}

void grp_log_reset(struct grp_log *l, uint64_t index, uint64_t term, uint64_t seq)
{
	for (uint64_t i = l->first; i <= l->last; i++)
		ent_free(l, grp_log_at(l, i), true);
	ASSERT(l->bytes == 0 && l->store.items == 0);
	l->first = index + 1;
	l->last = index;
	l->base_term = term;
	l->base_seq = seq;
}

void grp_log_free(struct grp_log *l)
{
	grp_log_reset(l, 0, 0, 0);
	core_fifo_free(&l->store);
	free(l->v);
	l->v = NULL;
	l->cap = 0;
}

bool grp_log_term(const struct grp_log *l, uint64_t index, uint64_t *term)
{
	*term = 0;
	if (index == l->first - 1) {
		*term = l->base_term;
		return true;
	}
	if (!grp_log_has(l, index))
		return false;
	*term = grp_log_at(l, index)->term;
	return true;
}

bool grp_log_seq(const struct grp_log *l, uint64_t index, uint64_t *seq)
{
	*seq = 0;
	if (index == l->first - 1) {
		*seq = l->base_seq;
		return true;
	}
	if (!grp_log_has(l, index))
		return false;
	*seq = grp_log_at(l, index)->seq;
	return true;
}

static int grow(struct grp_log *l)
{
	uint64_t ncap = l->cap ? l->cap * 2 : CAP_MIN;
	struct grp_log_ent *nv = calloc(ncap, sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	for (uint64_t i = l->first; i <= l->last; i++)
		nv[i & (ncap - 1)] = *grp_log_at(l, i);
	free(l->v);
	l->v = nv;
	l->cap = ncap;
	return 0;
}

int grp_log_append(struct grp_log *l, const struct grp_entry *e)
{
	size_t cfg_at = ((size_t)e->len + CFG_ALIGN - 1) / CFG_ALIGN * CFG_ALIGN;
	size_t size = e->cfg ? cfg_at + sizeof(*e->cfg) : e->len;
	struct grp_config *cfg = NULL;
	uint8_t *data = NULL, *item = NULL;
	struct grp_log_ent *s;

	if (l->last - l->first + 1 == l->cap && grow(l) < 0)
		return -ENOMEM;
	if (size) {
		item = core_fifo_alloc(&l->store, size);
		if (!item)
			return -ENOMEM;
	}
	if (e->len) {
		data = item;
		memcpy(data, e->data, e->len);
	}
	if (e->cfg) {
		cfg = (struct grp_config *)(void *)(item + cfg_at);
		*cfg = *e->cfg;
	}
	l->last++;
	s = grp_log_at(l, l->last);
	s->term = e->term;
	s->seq = (l->last == l->first ? l->base_seq : grp_log_at(l, l->last - 1)->seq) +
		 (e->type == GRP_ENTRY_DATA);
	s->origin_id = e->origin_id;
	s->origin = e->origin;
	s->type = e->type;
	s->len = e->len;
	s->data = data;
	s->cfg = cfg;
	l->bytes += ENT_OVERHEAD + e->len + (cfg ? sizeof(*cfg) : 0);
	return 0;
}

void grp_log_truncate(struct grp_log *l, uint64_t index)
{
	if (index < l->first)
		index = l->first;
	while (l->last >= index) {
		ent_free(l, grp_log_at(l, l->last), false);
		l->last--;
	}
}

uint64_t grp_log_evict(struct grp_log *l, uint64_t budget, uint64_t upto)
{
	uint64_t n = 0;

	while (l->bytes > budget && l->first <= l->last && l->first <= upto) {
		struct grp_log_ent *e = grp_log_at(l, l->first);

		l->base_term = e->term;
		l->base_seq = e->seq;
		ent_free(l, e, true);
		l->first++;
		n++;
	}
	return n;
}

void grp_log_entry(const struct grp_log *l, uint64_t index, struct grp_entry *e)
{
	const struct grp_log_ent *s = grp_log_at(l, index);

	ASSERT(grp_log_has(l, index));
	e->index = index;
	e->term = s->term;
	e->seq = s->seq;
	e->type = s->type;
	e->origin = s->origin;
	e->origin_id = s->origin_id;
	e->len = s->len;
	e->data = s->data;
	e->cfg = s->cfg;
}

bool grp_log_index_of_seq(const struct grp_log *l, uint64_t seq, uint64_t *index)
{
	uint64_t lo = l->first, hi = l->last;

	*index = 0;
	if (seq == l->base_seq) {
		*index = l->first - 1;
		return true;
	}
	if (seq < l->base_seq || l->first > l->last || seq > grp_log_at(l, l->last)->seq)
		return false;
	/* seq only grows, by one at each DATA entry: find the first index that has it. */
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (grp_log_at(l, mid)->seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	ASSERT(grp_log_at(l, lo)->seq == seq && grp_log_at(l, lo)->type == GRP_ENTRY_DATA);
	*index = lo;
	return true;
}
