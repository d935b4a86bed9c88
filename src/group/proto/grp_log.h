/* SPDX-License-Identifier: MPL-2.0 */
/* The in-memory log: a ring of entries [first, last] over a base, with a byte budget. */
#ifndef GRP_LOG_H
#define GRP_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "core_err.h"
#include "core_fifo.h"
#include "grp_types.h"

/*
 * One stored entry. The log owns data and cfg: copies made by grp_log_append in the log's
 * store, one item for both, freed when the entry is truncated or evicted. Messages that
 * carry entries borrow these.
 */
struct grp_log_ent {
	uint64_t term;
	uint64_t seq;
	uint64_t origin_id;
	struct grp_uuid origin;
	uint8_t type;
	uint32_t len;
	uint8_t *data;
	struct grp_config *cfg;
};

/*
 * Entries first..last are held (empty when last == first - 1). The base is the position just
 * before first: its index (first - 1), term and seq are known even after it was evicted, so
 * an APPEND that follows it can be checked and seq continues without a gap.
 */
struct grp_log {
	struct grp_log_ent *v;
	uint64_t cap; /* power of two */
	uint64_t first;
	uint64_t last;
	uint64_t base_term;
	uint64_t base_seq;
	uint64_t bytes; /* payload and bookkeeping of held entries, for the cache budget */
	struct core_fifo store; /* the entries' data and cfg, in index order */
};

/* An empty log whose base is (index, term, seq). */
void grp_log_init(struct grp_log *l, uint64_t index, uint64_t term, uint64_t seq);
void grp_log_free(struct grp_log *l);
/* Drops every entry and moves the base (a state transfer). */
void grp_log_reset(struct grp_log *l, uint64_t index, uint64_t term, uint64_t seq);

static inline bool grp_log_has(const struct grp_log *l, uint64_t index)
{
	return index >= l->first && index <= l->last;
}

/* Entry at index; the caller checks grp_log_has() first. */
static inline struct grp_log_ent *grp_log_at(const struct grp_log *l, uint64_t index)
{
	return &l->v[index & (l->cap - 1)];
}

/* Term at index for first - 1 <= index <= last; false (and *term 0) outside. */
bool grp_log_term(const struct grp_log *l, uint64_t index, uint64_t *term);
/* seq at index for first - 1 <= index <= last; false outside. */
bool grp_log_seq(const struct grp_log *l, uint64_t index, uint64_t *seq);
static inline uint64_t grp_log_last_term(const struct grp_log *l)
{
	uint64_t t = 0;

	grp_log_term(l, l->last, &t);
	return t;
}
static inline uint64_t grp_log_last_seq(const struct grp_log *l)
{
	uint64_t s = 0;

	grp_log_seq(l, l->last, &s);
	return s;
}

/*
 * Appends e at last + 1 (e->index is ignored); copies data and cfg. seq is computed here:
 * the previous seq, plus one for DATA. Returns 0 or -ENOMEM (nothing appended).
 */
int grp_log_append(struct grp_log *l, const struct grp_entry *e) CORE_WARN_UNUSED;
/* Removes entries index..last. */
void grp_log_truncate(struct grp_log *l, uint64_t index);
/* Evicts from the front while bytes > budget, never past upto. Returns entries evicted. */
uint64_t grp_log_evict(struct grp_log *l, uint64_t budget, uint64_t upto);

/* The view of a stored entry as a struct grp_entry (borrowing the log's data). */
void grp_log_entry(const struct grp_log *l, uint64_t index, struct grp_entry *e);

/*
 * Last index whose entry has this seq and is the DATA entry that made it (or the base, when
 * the base has that seq and is at index 0 or seq 0 at the start); 0 and false if the cache
 * does not reach back that far.
 */
bool grp_log_index_of_seq(const struct grp_log *l, uint64_t seq, uint64_t *index);

#endif
