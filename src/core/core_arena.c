/* SPDX-License-Identifier: MPL-2.0 */
/* Region allocator: blocks of at least 64 KiB, bump allocation, freed together. */
#include <stdalign.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core_arena.h"

struct core_arena_block {
	struct core_arena_block *next;
	size_t cap;
	size_t used;
	alignas(max_align_t) unsigned char data[];
};

#define ARENA_BLOCK_MIN (64 * 1024)

void *core_arena_alloc(struct core_arena *a, size_t n)
{
	struct core_arena_block *b = a->head;
	size_t align = alignof(max_align_t);
	size_t need = (n + align - 1) & ~(align - 1);
	void *p;

	if (need < n || (a->max_bytes && a->used_bytes + need > a->max_bytes))
		return NULL;
	if (!b || b->cap - b->used < need) {
		size_t cap = need > ARENA_BLOCK_MIN ? need : ARENA_BLOCK_MIN;

		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->cap = cap;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	p = b->data + b->used;
	b->used += need;
	a->used_bytes += need;
	memset(p, 0, n);
	return p;
}

char *core_arena_memdup(struct core_arena *a, const void *p, size_t n)
{
	char *s = core_arena_alloc(a, n + 1);

	if (s && n)
		memcpy(s, p, n);
	return s;
}

char *core_arena_strdup(struct core_arena *a, const char *s)
{
	return core_arena_memdup(a, s, strlen(s));
}

void *core_arena_grow(struct core_arena *a, void *old, size_t old_n, size_t new_n, size_t elem)
{
	void *p;

	if (new_n && elem > SIZE_MAX / new_n)
		return NULL;
	p = core_arena_alloc(a, new_n * elem);
	if (p && old && old_n)
		memcpy(p, old, (old_n < new_n ? old_n : new_n) * elem);
	return p;
}

void core_arena_free(struct core_arena *a)
{
	struct core_arena_block *b = a->head;

	while (b) {
		struct core_arena_block *next = b->next;

		free(b);
		b = next;
	}
	a->head = NULL;
	a->used_bytes = 0;
}
