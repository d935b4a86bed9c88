/* SPDX-License-Identifier: MPL-2.0 */
/* grp_state: the state file's format round-trips, and every damaged file is an error. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core_err.h"
#include "grp_state.h"

static char buf[GRP_STATE_FILE_MAX];

static void sample(struct grp_durable *d, uint32_t n)
{
	memset(d, 0, sizeof(*d));
	for (int i = 0; i < 16; i++)
		d->uuid.b[i] = (uint8_t)(0xa0 + i);
	d->gen = 3;
	d->term = 17;
	d->voted_for = d->uuid;
	d->view_id = 1234567;
	d->n = n;
	for (uint32_t i = 0; i < n; i++) {
		d->m[i].uuid = d->uuid;
		d->m[i].uuid.b[0] = (uint8_t)i; /* m[0xa0 - 0xa0]... m[0] differs from uuid */
		snprintf(d->m[i].name, sizeof(d->m[i].name), "node %u%%\t\xc3\xa9", i);
		snprintf(d->m[i].addr, sizeof(d->m[i].addr), "[2001:db8::%u]:4567", i);
		d->m[i].weight = i % 256;
		d->m[i].flags = i == 1 ? GRP_MEMBER_ARBITRATOR : 0;
	}
	d->m[n - 1].uuid = d->uuid; /* this node is one of them */
}

static void test_round_trip(void **state)
{
	struct grp_durable d, e;
	unsigned line;
	int len;

	(void)state;
	for (uint32_t n = 1; n <= GRP_MEMBERS_MAX; n += 31) {
		sample(&d, n);
		len = grp_state_format(&d, "my cluster", buf, sizeof(buf));
		assert_true(len > 0);
		assert_int_equal(grp_state_parse(buf, (size_t)len, "my cluster", &e, &line), 0);
		assert_memory_equal(&d, &e, sizeof(d));
	}
}

static void test_damaged(void **state)
{
	struct grp_durable d, e;
	unsigned line;
	int len;

	(void)state;
	sample(&d, 3);
	len = grp_state_format(&d, "c", buf, sizeof(buf));
	assert_true(len > 0);
	/* Every cut is an error: the end line comes last. */
	for (int cut = 0; cut < len; cut++)
		assert_true(grp_state_parse(buf, (size_t)cut, "c", &e, &line) < 0);
	assert_int_equal(grp_state_parse(buf, (size_t)len, "other", &e, &line), CORE_ECORRUPT);
	buf[len - 2] = '4'; /* end: 4 */
	assert_int_equal(grp_state_parse(buf, (size_t)len, "c", &e, &line), CORE_EMALFORMED);
	memcpy(strstr(buf, "version: 1"), "version: 9", 10);
	assert_int_equal(grp_state_parse(buf, (size_t)len, "c", &e, &line), CORE_EUNSUPP);
	assert_int_equal(grp_state_parse("garbage\n", 8, "c", &e, &line), CORE_EPARSE);
	assert_int_equal(grp_state_format(&d, "c", buf, 10), CORE_ESPACE);
	d.n = 0;
	assert_int_equal(grp_state_format(&d, "c", buf, sizeof(buf)), -EINVAL);
}

static void test_not_a_member(void **state)
{
	struct grp_durable d, e;
	unsigned line;
	int len;

	(void)state;
	sample(&d, 2);
	d.m[1].uuid.b[15] ^= 1; /* nobody is this node */
	len = grp_state_format(&d, "c", buf, sizeof(buf));
	assert_int_equal(grp_state_parse(buf, (size_t)len, "c", &e, &line), CORE_EMALFORMED);
}

static void test_files(void **state)
{
	char dir[] = "/tmp/grp_state_XXXXXX", path[64];
	struct grp_durable d, e;
	struct stat sb;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/gvwstate.dat", dir);
	assert_int_equal(grp_state_load(path, "c", &e), -ENOENT);
	sample(&d, 5);
	assert_int_equal(grp_state_save(path, "c", &d), 0);
	assert_int_equal(grp_state_load(path, "c", &e), 0);
	assert_memory_equal(&d, &e, sizeof(d));
	d.term++;
	assert_int_equal(grp_state_save(path, "c", &d), 0); /* replaced */
	assert_int_equal(grp_state_load(path, "c", &e), 0);
	assert_int_equal(e.term, d.term);
	assert_int_equal(grp_state_load(path, "x", &e), CORE_ECORRUPT);
	assert_int_equal(grp_state_remove(path), 0);
	assert_int_equal(stat(path, &sb), -1);
	assert_int_equal(grp_state_remove(path), 0); /* already gone */
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_not_a_member),
		cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
