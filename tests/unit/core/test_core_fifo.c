/* SPDX-License-Identifier: MPL-2.0 */
/* Unit tests for the FIFO allocator, against a model of what it holds. */
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core_fifo.h"

#define BS 4096
#define MODEL_MAX 4096

struct item {
	unsigned char *p;
	size_t len;
	unsigned char fill;
};

struct model {
	struct item v[MODEL_MAX];
	size_t head, n;
	uint64_t live; /* bytes of small items, with a bound on each one's header and padding */
	uint64_t bigs; /* items that get a block of their own */
};

static uint64_t rnd_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static struct item *at(struct model *m, size_t i)
{
	return &m->v[(m->head + i) % MODEL_MAX];
}

static bool big(size_t len)
{
	return len + 32 > BS / 4;
}

static void account(struct model *m, const struct item *it, int sign)
{
	if (big(it->len))
		m->bigs += (uint64_t)sign;
	else
		m->live += (uint64_t)sign * (it->len + 32);
}

static void check_item(const struct item *it)
{
	for (size_t k = 0; k < it->len; k++)
		assert_int_equal(it->p[k], (unsigned char)(it->fill + k));
}

static void push(struct core_fifo *f, struct model *m, size_t len)
{
	struct item *it = at(m, m->n);

	it->p = core_fifo_alloc(f, len);
	assert_non_null(it->p);
	assert_int_equal((uintptr_t)it->p % alignof(max_align_t), 0);
	it->len = len;
	it->fill = (unsigned char)rnd();
	for (size_t k = 0; k < len; k++)
		it->p[k] = (unsigned char)(it->fill + k);
	m->n++;
	account(m, it, 1);
}

static void check_all(const struct core_fifo *f, struct model *m)
{
	assert_int_equal(f->items, m->n);
	assert_ptr_equal(core_fifo_front(f), m->n ? at(m, 0)->p : NULL);
	for (size_t i = 0; i < m->n; i++)
		check_item(at(m, i));
	/*
	 * A block is left for a new one only when a small item does not fit, so each block but the
	 * newest and the oldest is more than three quarters full, unless a big item's block came
	 * next; a spare waits besides.
	 */
	assert_true(f->blocks <= 3 + 2 * m->bigs + m->live * 4 / (3 * BS));
}

/* Random allocations and frees at both ends; every item keeps its bytes and its place. */
static void test_fifo_model(void **state)
{
	static struct model m;
	struct core_fifo f;

	(void)state;
	memset(&m, 0, sizeof(m));
	core_fifo_init(&f, BS);
	assert_null(core_fifo_alloc(&f, 0));
	for (int step = 0; step < 200000; step++) {
		uint64_t r = rnd() % 100;

		if (r < 50 && m.n < MODEL_MAX) {
			size_t len = rnd() % 16 ? 1 + rnd() % 300 : 1 + rnd() % (3 * BS);

			push(&f, &m, len);
		} else if (r < 85 && m.n) {
			struct item *it = at(&m, 0);

			check_item(it);
			account(&m, it, -1);
			core_fifo_pop_front(&f, it->p);
			m.head = (m.head + 1) % MODEL_MAX;
			m.n--;
		} else if (m.n) {
			struct item *it = at(&m, m.n - 1);

			check_item(it);
			account(&m, it, -1);
			core_fifo_pop_back(&f, it->p);
			m.n--;
		}
		if (step % 97 == 0)
			check_all(&f, &m);
		/* Now and then everything goes, from one end or the other. */
		if (step % 20011 == 0) {
			while (m.n) {
				struct item *it = at(&m, m.n - 1);

				account(&m, it, -1);
				core_fifo_pop_back(&f, it->p);
				m.n--;
			}
			assert_null(core_fifo_front(&f));
			assert_true(f.blocks <= 2);
		}
	}
	check_all(&f, &m);
	core_fifo_free(&f);
	assert_int_equal(f.blocks, 0);
	assert_int_equal(f.items, 0);
}

/* A queue that runs for long at a steady depth keeps the same few blocks. */
static void test_fifo_steady(void **state)
{
	static struct model m;
	struct core_fifo f;
	uint64_t most = 0;

	(void)state;
	memset(&m, 0, sizeof(m));
	core_fifo_init(&f, BS);
	for (int step = 0; step < 1000000; step++) {
		push(&f, &m, 100);
		if (m.n > 300) {
			core_fifo_pop_front(&f, at(&m, 0)->p);
			m.head = (m.head + 1) % MODEL_MAX;
			m.n--;
		}
		if (step > 1000 && f.blocks > most)
			most = f.blocks;
	}
	/* 300 items of 128 bytes with their headers fill 9.4 blocks: 11 at most, and the spare */
	assert_true(most <= 12);
	check_all(&f, &m);
	core_fifo_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_model),
		cmocka_unit_test(test_fifo_steady),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
