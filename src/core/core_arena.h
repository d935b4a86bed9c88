/* SPDX-License-Identifier: MPL-2.0 */
/* Region allocator: many small allocations, one free (configs, parse trees). */
#ifndef CORE_ARENA_H
#define CORE_ARENA_H

#include <stddef.h>

struct core_arena_block;

/* Zero-initialise; no set-up call needed. Not thread-safe. */
struct core_arena {
	struct core_arena_block *head;
	size_t used_bytes;
	size_t max_bytes; /* 0 = unlimited; else allocations beyond it fail */
};

/* Zeroed memory aligned for any type, owned by the arena; NULL when out of memory/limit. */
void *core_arena_alloc(struct core_arena *a, size_t n);
/* Copies of a string / of n bytes (NUL-terminated as well), owned by the arena. */
char *core_arena_strdup(struct core_arena *a, const char *s);
char *core_arena_memdup(struct core_arena *a, const void *p, size_t n);
/* Grows an arena array: returns a new array of new_n elements with the old contents copied. */
void *core_arena_grow(struct core_arena *a, void *old, size_t old_n, size_t new_n, size_t elem);
/* Frees every block; the arena may be reused afterwards. */
void core_arena_free(struct core_arena *a);

#endif
