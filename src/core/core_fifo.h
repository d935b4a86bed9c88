/* SPDX-License-Identifier: MPL-2.0 */
/* FIFO allocator: allocations freed in the order they were made (or the newest first). */
#ifndef CORE_FIFO_H
#define CORE_FIFO_H

#include <stddef.h>
#include <stdint.h>

#include "core_err.h"

struct core_fifo_block;

/*
 * For queues and caches whose items are freed oldest first: a message log evicted from its
 * front and truncated from its back, a queue of submissions. One malloc per block instead of
 * one per item: a long run of small items freed by age does not fragment the heap (glibc's
 * did, and throughput fell as an overload of the group lasted: docs/internals/group-protocol.md,
 * "After an overload"), and freeing one costs no call into the allocator.
 *
 * Items stay where they are until freed: pointers into them are stable. Not thread-safe.
 * core_fifo_init() before use; core_fifo_free() at the end (any items left go with it).
 */
struct core_fifo {
	struct core_fifo_block *head; /* oldest block */
	struct core_fifo_block *tail; /* block being filled */
	struct core_fifo_block *spare; /* one emptied block kept for the next, or NULL */
	size_t head_off;               /* the oldest item's header in head */
	size_t block_size;
	uint64_t items;
	uint64_t blocks; /* held, the spare included: block_size each, or one big item's size */
};

/* block_size: bytes per block (an item bigger than a quarter of it gets a block of its own). */
void core_fifo_init(struct core_fifo *f, size_t block_size);
void core_fifo_free(struct core_fifo *f);

/* len bytes aligned for any type, after every item held; NULL when out of memory (or len 0). */
void *core_fifo_alloc(struct core_fifo *f, size_t len) CORE_WARN_UNUSED;
/* Frees the oldest item, which must be p. */
void core_fifo_pop_front(struct core_fifo *f, void *p);
/* Frees the newest item, which must be p. */
void core_fifo_pop_back(struct core_fifo *f, void *p);
/* The oldest item, or NULL when empty. */
void *core_fifo_front(const struct core_fifo *f);

#endif
