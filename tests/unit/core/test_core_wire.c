/* SPDX-License-Identifier: MPL-2.0 */
/* Unit tests for the bounded wire cursor and the arena. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core_arena.h"
#include "core_err.h"
#include "core_wire.h"

static void test_read_in_bounds(void **state)
{
	const uint8_t buf[] = {1, 2, 3, 4, 5, 6, 7};
	struct core_wire w;

	(void)state;
	core_wire_init_ro(&w, buf, sizeof(buf));
	assert_int_equal(core_wire_read_u8(&w), 1);
	assert_int_equal(core_wire_read_u16(&w), 0x0203);
	assert_int_equal(core_wire_read_u32(&w), 0x04050607);
	assert_int_equal(w.err, 0);
	assert_int_equal(core_wire_avail(&w), 0);
}

static void test_overrun_is_sticky(void **state)
{
	const uint8_t buf[] = {0xff, 0xee, 0xdd};
	struct core_wire w;
	uint8_t dst[4] = {9, 9, 9, 9};

	(void)state;
	core_wire_init_ro(&w, buf, sizeof(buf));
	assert_int_equal(core_wire_read_u32(&w), 0);
	assert_int_equal(w.err, CORE_ETRUNC);
	/* After an overrun even an in-bounds read yields zero. */
	assert_int_equal(core_wire_read_u8(&w), 0);
	core_wire_read(&w, dst, sizeof(dst));
	assert_int_equal(dst[0], 0);
	assert_null(core_wire_read_ptr(&w, 1));
	assert_int_equal(core_wire_avail(&w), 0);
}

static void test_write_overrun(void **state)
{
	uint8_t buf[5] = {0};
	struct core_wire w;

	(void)state;
	core_wire_init(&w, buf, sizeof(buf));
	core_wire_write_u32(&w, 0xa1b2c3d4);
	assert_int_equal(w.err, 0);
	core_wire_write_u16(&w, 0xffff);
	assert_int_equal(w.err, CORE_ESPACE);
	assert_int_equal(w.pos, 4);
	assert_int_equal(buf[4], 0);
	assert_int_equal(buf[0], 0xa1);
}

static void test_seek_and_skip(void **state)
{
	const uint8_t buf[] = {1, 2, 3, 4};
	struct core_wire w;

	(void)state;
	core_wire_init_ro(&w, buf, sizeof(buf));
	core_wire_skip(&w, 3);
	assert_int_equal(core_wire_read_u8(&w), 4);
	core_wire_seek(&w, 1);
	assert_int_equal(core_wire_read_u8(&w), 2);
	core_wire_seek(&w, 5);
	assert_int_equal(w.err, CORE_ETRUNC);
}

static void test_arena(void **state)
{
	struct core_arena a = {0};
	char *s;
	int *arr;

	(void)state;
	s = core_arena_strdup(&a, "paceless");
	assert_string_equal(s, "paceless");
	arr = core_arena_grow(&a, NULL, 0, 4, sizeof(int));
	arr[3] = 7;
	arr = core_arena_grow(&a, arr, 4, 100000, sizeof(int));
	assert_int_equal(arr[3], 7);
	assert_int_equal(arr[99999], 0);
	core_arena_free(&a);
	a.max_bytes = 64;
	assert_null(core_arena_alloc(&a, 128));
	assert_non_null(core_arena_alloc(&a, 16));
	core_arena_free(&a);
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(core_strerror(CORE_ETRUNC), "truncated input");
	assert_string_equal(core_strerror(0), "success");
	assert_non_null(core_strerror(-5));
	assert_string_equal(core_strerror(-999999), "unknown error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_in_bounds), cmocka_unit_test(test_overrun_is_sticky),
		cmocka_unit_test(test_write_overrun),  cmocka_unit_test(test_seek_and_skip),
		cmocka_unit_test(test_arena),          cmocka_unit_test(test_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
