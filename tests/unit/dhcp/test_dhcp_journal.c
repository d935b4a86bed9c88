/* SPDX-License-Identifier: MPL-2.0 */
/* Unit tests for the group-commit journal: the durable mark never passes a failed sync. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "dhcp_journal.h"
#include "dhcp_leasestore.h"

static atomic_int syncs_to_fail;
static atomic_int syncs_seen;
static int wakeups;

static int failing_sync(void *ctx, int fd, bool data_only)
{
	(void)ctx;
	atomic_fetch_add(&syncs_seen, 1);
	if (atomic_load(&syncs_to_fail) > 0) {
		atomic_fetch_sub(&syncs_to_fail, 1);
		errno = EIO;
		return -1;
	}
	return data_only ? fdatasync(fd) : fsync(fd);
}

static ssize_t plain_write(void *ctx, int fd, const void *buf, size_t n)
{
	(void)ctx;
	return write(fd, buf, n);
}

static void on_durable(void *ctx)
{
	(void)ctx;
	wakeups++;
}

static struct dhcp_lease_rec rec(uint32_t addr)
{
	struct dhcp_lease_rec r;

	dhcp_lease_rec_init(&r);
	r.addr = addr;
	r.binding = DHCP_BINDING_ACTIVE;
	r.starts = r.cltt = 1800000000;
	r.ends = 1800000600;
	return r;
}

static int count_cb(void *ctx, const struct dhcp_lease_rec *r)
{
	(void)r;
	(*(size_t *)ctx)++;
	return 0;
}

/* Runs the loop until the durable mark reaches want (or about 10 s pass). */
static void wait_durable(uv_loop_t *loop, struct dhcp_journal *j, uint64_t want)
{
	for (int i = 0; i < 1000 && dhcp_journal_durable(j) < want; i++) {
		uv_run(loop, UV_RUN_NOWAIT);
		uv_sleep(10);
	}
	uv_run(loop, UV_RUN_NOWAIT);
}

static void test_durable_only_after_successful_sync(void **state)
{
	char path[] = "/tmp/paceless-journal-XXXXXX";
	int fd = mkstemp(path);
	struct dhcp_leasestore *st;
	struct dhcp_journal *j;
	struct dhcp_leasestore_io io = {.write = plain_write, .sync = failing_sync};
	uv_loop_t loop;
	struct dhcp_leasefile_stats stats = {0};
	char err[256];
	size_t n = 0;
	uint64_t last;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dhcp_leasestore_open(path, &st), 0);
	dhcp_leasestore_set_io(st, &io);
	assert_int_equal(dhcp_journal_start(st, &loop, on_durable, NULL, &j), 0);

	/* The first three syncs fail: nothing may be reported durable until one succeeds. */
	atomic_store(&syncs_to_fail, 3);
	for (uint32_t a = 1; a <= 100; a++) {
		struct dhcp_lease_rec r = rec(a);

		assert_int_equal(dhcp_journal_add(j, &r), 0);
	}
	last = dhcp_journal_submit(j);
	assert_int_equal(last, 100);
	while (atomic_load(&syncs_to_fail) > 0) {
		assert_true(dhcp_journal_durable(j) < last);
		uv_sleep(5);
	}
	wait_durable(&loop, j, last);
	assert_int_equal(dhcp_journal_durable(j), last);
	assert_true(wakeups > 0);
	assert_true(atomic_load(&syncs_seen) >= 4);
	assert_true(dhcp_journal_needs_rewrite(j));
	assert_int_equal(dhcp_journal_stop(j), 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);

	/* Everything reported durable is in the file. */
	dhcp_leasestore_set_io(st, NULL);
	assert_int_equal(dhcp_leasestore_load(st, count_cb, &n, &stats, err, sizeof(err)), 0);
	assert_true(n >= 100);
	dhcp_leasestore_close(st);
	unlink(path);
}

static void test_stop_with_dead_disk_reports_loss(void **state)
{
	char path[] = "/tmp/paceless-journal-XXXXXX";
	int fd = mkstemp(path);
	struct dhcp_leasestore *st;
	struct dhcp_journal *j;
	struct dhcp_leasestore_io io = {.write = plain_write, .sync = failing_sync};
	struct dhcp_lease_rec r = rec(7);
	uv_loop_t loop;

	(void)state;
	close(fd);
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dhcp_leasestore_open(path, &st), 0);
	dhcp_leasestore_set_io(st, &io);
	assert_int_equal(dhcp_journal_start(st, &loop, on_durable, NULL, &j), 0);
	atomic_store(&syncs_to_fail, 1000000);
	assert_int_equal(dhcp_journal_add(j, &r), 0);
	(void)dhcp_journal_submit(j);
	/* Shutdown must not hang on a disk that never recovers, and must say so. */
	assert_int_equal(dhcp_journal_stop(j), -EIO);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&loop), 0);
	atomic_store(&syncs_to_fail, 0);
	dhcp_leasestore_close(st);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durable_only_after_successful_sync),
		cmocka_unit_test(test_stop_with_dead_disk_reports_loss),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
