/* SPDX-License-Identifier: MPL-2.0 */
/* FIFO allocator: allocations freed in the order they were made (or the newest first). */
#include <stdalign.h>
#include <stdlib.h>

#include "core_assert.h"
#include "core_fifo.h"

/* Under AddressSanitizer, freed items and unused block space are poisoned like freed memory. */
#if defined(__SANITIZE_ADDRESS__)
#define FIFO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FIFO_ASAN 1
#endif
#endif
#ifdef FIFO_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define ALIGN alignof(max_align_t)
#define HDR ALIGN /* each item's header: its size, header included, rounded up to ALIGN */

struct core_fifo_block {
	struct core_fifo_block *next; /* newer */
	struct core_fifo_block *prev; /* older */
	size_t cap;
	size_t used; /* the end of the newest item in it */
	alignas(max_align_t) unsigned char mem[];
};

void core_fifo_init(struct core_fifo *f, size_t block_size)
{
	*f = (struct core_fifo){.block_size = block_size < 4 * HDR ? 4 * HDR : block_size};
}

static void block_release(struct core_fifo *f, struct core_fifo_block *b)
{
	f->blocks--;
	UNPOISON(b->mem, b->cap); /* the allocator may keep its own data there */
	free(b);
}

void core_fifo_free(struct core_fifo *f)
{
	struct core_fifo_block *b = f->head;

	while (b) {
		struct core_fifo_block *next = b->next;

		block_release(f, b);
		b = next;
	}
	if (f->spare)
		block_release(f, f->spare);
	ASSERT(f->blocks == 0);
	core_fifo_init(f, f->block_size);
}

static struct core_fifo_block *block_get(struct core_fifo *f, size_t need)
{
	size_t cap = need > f->block_size / 4 ? need : f->block_size;
	struct core_fifo_block *b;

	if (cap == f->block_size && f->spare) {
		b = f->spare;
		f->spare = NULL;
	} else {
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->cap = cap;
		f->blocks++;
		POISON(b->mem, cap);
	}
	b->next = NULL;
	b->prev = NULL;
	b->used = 0;
	return b;
}

/* b holds no item any more and is out of the list. */
static void block_put(struct core_fifo *f, struct core_fifo_block *b)
{
	POISON(b->mem, b->cap);
	if (b->cap == f->block_size && !f->spare)
		f->spare = b;
	else
		block_release(f, b);
}

void *core_fifo_alloc(struct core_fifo *f, size_t len)
{
	struct core_fifo_block *b = f->tail;
	unsigned char *h;
	size_t need;

	if (!len || len > SIZE_MAX / 2)
		return NULL;
	need = HDR + (len + ALIGN - 1) / ALIGN * ALIGN;
	if (!b || b->cap - b->used < need) {
		if (b && !f->items) { /* an empty block too small for this item: none is held */
			f->head = NULL;
			f->tail = NULL;
			block_put(f, b);
		}
		b = block_get(f, need);
		if (!b)
			return NULL;
		if (f->tail) {
			f->tail->next = b;
			b->prev = f->tail;
		} else {
			f->head = b;
			f->head_off = 0;
		}
		f->tail = b;
	}
	h = b->mem + b->used;
	UNPOISON(h, need);
	*(size_t *)h = need;
	b->used += need;
	f->items++;
	return h + HDR;
}

/* The last item is gone from b, the only block: a big item's block goes, another is refilled. */
static void emptied(struct core_fifo *f, struct core_fifo_block *b)
{
	ASSERT(!f->items && b == f->head && b == f->tail);
	f->head_off = 0;
	if (b->cap == f->block_size) {
		b->used = 0;
		return;
	}
	f->head = NULL;
	f->tail = NULL;
	block_put(f, b);
}

void *core_fifo_front(const struct core_fifo *f)
{
	return f->items ? f->head->mem + f->head_off + HDR : NULL;
}

void core_fifo_pop_front(struct core_fifo *f, void *p)
{
	struct core_fifo_block *b = f->head;
	unsigned char *h = (unsigned char *)p - HDR;
	size_t size;

	ASSERT(f->items && h == b->mem + f->head_off);
	size = *(size_t *)h;
	POISON(h, size);
	f->head_off += size;
	f->items--;
	if (f->head_off < b->used)
		return;
	if (b == f->tail) {
		emptied(f, b);
		return;
	}
	f->head = b->next;
	f->head->prev = NULL;
	f->head_off = 0;
	block_put(f, b);
}

void core_fifo_pop_back(struct core_fifo *f, void *p)
{
	struct core_fifo_block *b = f->tail;
	unsigned char *h = (unsigned char *)p - HDR;
	size_t off;

	ASSERT(f->items && h >= b->mem && h < b->mem + b->used);
	off = (size_t)(h - b->mem);
	ASSERT(off + *(size_t *)h == b->used && (b != f->head || off >= f->head_off));
	POISON(h, b->used - off);
	b->used = off;
	f->items--;
	if (b == f->head) {
		if (b->used == f->head_off)
			emptied(f, b);
		return;
	}
	if (b->used)
		return;
	f->tail = b->prev;
	f->tail->next = NULL;
	block_put(f, b);
}
