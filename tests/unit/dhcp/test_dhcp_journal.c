/* SPDX-License-Identifier: MPL-2.0 */
/* Unit tests for the group-commit journal: the durable mark never passes a failed sync, nor a
 * record that no successful sync covered; overlapped syncs keep records in order. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	assert_int_equal(dhcp_journal_start(st, &loop, DHCP_JOURNAL_SYNCERS, on_durable, NULL, &j), 0);

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
	assert_int_equal(dhcp_journal_start(st, &loop, DHCP_JOURNAL_SYNCERS, on_durable, NULL, &j), 0);
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

static bool bit(unsigned mask, unsigned i)
{
	return i < 32 && (mask >> i & 1);
}

/*
 * A sync hook the test steers: call i (counted from 0, in the order the syncs start) waits
 * while bit i of hold is set and not yet released, then fails if bit i of fail is set. It
 * also notes the inode each sync went to and, for the calls that succeed, the file size when
 * they started: a sync covers at most that much.
 */
static struct gate {
	uv_mutex_t mu;
	uv_cond_t cond;
	unsigned calls, hold, released, fail;
	uint64_t covered;     /* the largest size a successful sync started with */
	ino_t last_ino;       /* of the last sync */
	unsigned sleep_max_us; /* > 0: each sync first sleeps a pseudo-random time below it */
	bool errseq;	       /* fail as Linux reports write-back errors: see wb */
} g;

/*
 * With g.errseq, a failing sync models what Linux does (errseq_t in lib/errseq.c, sampled
 * at open by errseq_sample(), checked by file_check_and_advance_wb_err()): the pages it
 * covered hit a write-back error; every sync, through a description whose cursor is behind
 * the error counter, reports the error once and catches up; a description opened after some
 * description reported the error starts caught up, and never hears of it.
 */
static struct {
	unsigned err;  /* write-back errors so far */
	bool seen;     /* the last one was reported through some description */
	unsigned cursor[1024]; /* per fd; descriptions opened before the test start at 0 */
} wb;

static int model_open(void *ctx, const char *path, int flags, mode_t mode)
{
	int fd = open(path, flags, mode);

	(void)ctx;
	uv_mutex_lock(&g.mu);
	if (fd >= 0 && fd < 1024)
		wb.cursor[fd] = wb.seen ? wb.err : 0;
	uv_mutex_unlock(&g.mu);
	return fd;
}

/* Under g.mu: whether sync i through fd reports a write-back error, in the model. */
static bool model_sync_fails(int fd, unsigned i)
{
	if (bit(g.fail, i)) {
		wb.err++;
		wb.seen = false;
	}
	if (fd < 0 || fd >= 1024 || wb.cursor[fd] == wb.err)
		return false;
	wb.cursor[fd] = wb.err;
	wb.seen = true;
	return true;
}


static int gate_sync(void *ctx, int fd, bool data_only)
{
	struct stat sb;
	unsigned i;
	bool fails;
	int rc;

	(void)ctx;
	assert_int_equal(fstat(fd, &sb), 0);
	uv_mutex_lock(&g.mu);
	i = g.calls++;
	g.last_ino = sb.st_ino;
	fails = g.errseq ? model_sync_fails(fd, i) : bit(g.fail, i);
	uv_cond_broadcast(&g.cond);
	while (bit(g.hold, i) && !bit(g.released, i))
		uv_cond_wait(&g.cond, &g.mu);
	uv_mutex_unlock(&g.mu);
	if (g.sleep_max_us)
		usleep((i * 2654435761u) % g.sleep_max_us);
	if (fails) {
		errno = EIO;
		return -1;
	}
	rc = data_only ? fdatasync(fd) : fsync(fd);
	uv_mutex_lock(&g.mu);
	if (rc == 0 && (uint64_t)sb.st_size > g.covered)
		g.covered = (uint64_t)sb.st_size;
	uv_mutex_unlock(&g.mu);
	return rc;
}

static void gate_reset(unsigned hold, unsigned fail)
{
	uv_mutex_lock(&g.mu);
	g.calls = g.released = 0;
	g.hold = hold;
	g.fail = fail;
	g.covered = 0;
	g.sleep_max_us = 0;
	g.errseq = false;
	memset(&wb, 0, sizeof(wb));
	uv_mutex_unlock(&g.mu);
}

/* Waits (about 10 s at most) until n syncs have started. */
static void gate_wait_calls(unsigned n)
{
	uv_mutex_lock(&g.mu);
	for (int i = 0; i < 1000 && g.calls < n; i++)
		(void)uv_cond_timedwait(&g.cond, &g.mu, 10 * 1000 * 1000);
	assert_true(g.calls >= n);
	uv_mutex_unlock(&g.mu);
}

static void gate_release(unsigned i)
{
	uv_mutex_lock(&g.mu);
	g.released |= 1u << i;
	uv_cond_broadcast(&g.cond);
	uv_mutex_unlock(&g.mu);
}

/* Waits until the journal has handled n sync results. */
static void wait_syncs(struct dhcp_journal *j, uint64_t n)
{
	struct dhcp_journal_stats st;

	for (int i = 0; i < 1000; i++) {
		dhcp_journal_stats(j, &st);
		if (st.syncs >= n)
			return;
		uv_sleep(10);
	}
	fail_msg("the journal handled %llu syncs, not %llu", (unsigned long long)st.syncs,
		 (unsigned long long)n);
}

struct jfix {
	char path[64];
	uv_loop_t loop;
	struct dhcp_leasestore *st;
	struct dhcp_journal *j;
	uint32_t next; /* address of the next record */
};

static void jfix_start(struct jfix *f, unsigned syncers)
{
	struct dhcp_leasestore_io io = {.write = plain_write, .sync = gate_sync, .open = model_open};
	int fd;

	snprintf(f->path, sizeof(f->path), "/tmp/paceless-journal-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	close(fd);
	f->next = 1;
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(dhcp_leasestore_open(f->path, &f->st), 0);
	dhcp_leasestore_set_io(f->st, &io);
	assert_int_equal(dhcp_journal_start(f->st, &f->loop, syncers, on_durable, NULL, &f->j), 0);
}

/* Adds n records (addresses f->next on) and submits them; returns the last number. */
static uint64_t jfix_batch(struct jfix *f, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		struct dhcp_lease_rec r = rec(f->next++);

		assert_int_equal(dhcp_journal_add(f->j, &r), 0);
	}
	return dhcp_journal_submit(f->j);
}

struct addrs {
	uint32_t v[4096];
	size_t n;
};

static int addrs_cb(void *ctx, const struct dhcp_lease_rec *r)
{
	struct addrs *a = ctx;

	if (a->n < sizeof(a->v) / sizeof(a->v[0]))
		a->v[a->n++] = r->addr;
	return 0;
}

/* The records in the first len bytes of the file (all of it when len is SIZE_MAX). */
static void read_addrs(const char *path, size_t len, struct addrs *a, bool *torn)
{
	static char buf[2 << 20];
	struct dhcp_leasefile_stats st;
	char err[256];
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, len < sizeof(buf) ? len : sizeof(buf), fp);
	assert_true(n < sizeof(buf));
	fclose(fp);
	a->n = 0;
	assert_int_equal(dhcp_leasefile_parse(buf, n, path, addrs_cb, a, &st, err, sizeof(err)), 0);
	if (torn)
		*torn = st.tail_torn;
}

/* Stops the journal (want: what stop returns) and returns the file's records. */
static void jfix_stop(struct jfix *f, int want, struct addrs *a)
{
	bool torn;

	assert_int_equal(dhcp_journal_stop(f->j), want);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	dhcp_leasestore_close(f->st);
	read_addrs(f->path, SIZE_MAX, a, &torn);
	assert_false(torn);
	unlink(f->path);
}

/* The first n records are 1..period, in order, again and again. */
static void assert_sequence(const struct addrs *a, size_t n, size_t period)
{
	assert_true(a->n >= n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(a->v[i], i % period + 1);
}

/* The point of a second sync thread: a batch submitted while a sync is in flight is written
 * and synced at once, and its sync covers the earlier batch too. */
static void test_overlapped_sync_moves_mark_first(void **state)
{
	static struct addrs a;
	struct jfix f;
	uint64_t first, second;

	(void)state;
	gate_reset(1u << 0, 0);
	jfix_start(&f, 2);
	first = jfix_batch(&f, 10);
	gate_wait_calls(1); /* the first batch's sync is in flight, and held there */
	second = jfix_batch(&f, 10);
	wait_durable(&f.loop, f.j, second);
	assert_int_equal(dhcp_journal_durable(f.j), second);
	assert_true(first < second);
	gate_release(0); /* the first sync returns late: the mark stays */
	wait_syncs(f.j, 2);
	assert_int_equal(dhcp_journal_durable(f.j), second);
	jfix_stop(&f, 0, &a);
	assert_int_equal(a.n, 20);
	assert_sequence(&a, 20, 20);
}

/* With one thread, nothing moves until the sync in flight returns. */
static void test_single_syncer_waits(void **state)
{
	static struct addrs a;
	struct jfix f;
	uint64_t second;

	(void)state;
	gate_reset(1u << 0, 0);
	jfix_start(&f, 1);
	(void)jfix_batch(&f, 10);
	gate_wait_calls(1);
	second = jfix_batch(&f, 10);
	uv_sleep(50);
	assert_int_equal(dhcp_journal_durable(f.j), 0);
	gate_release(0);
	wait_durable(&f.loop, f.j, second);
	assert_int_equal(dhcp_journal_durable(f.j), second);
	jfix_stop(&f, 0, &a);
	assert_int_equal(a.n, 20);
}

/* After a failure of sync 0 or 1 of two batches of ten, with sync 2 held: the mark moves to
 * last only once the retry, which wrote both batches again, is released. */
static void retry_makes_durable(struct jfix *f, uint64_t last)
{
	gate_wait_calls(3);
	uv_sleep(20);
	assert_int_equal(dhcp_journal_durable(f->j), 0);
	gate_release(2);
	wait_durable(&f->loop, f->j, last);
	assert_int_equal(dhcp_journal_durable(f->j), last);
}

/* The file holds both batches twice, in order each time. */
static void assert_written_twice(const struct addrs *a)
{
	assert_int_equal(a->n, 40);
	assert_sequence(a, 40, 20);
}

/*
 * A failure voids the syncs in flight: sync 0 (first batch) is held while sync 1 (both
 * batches) fails. Sync 0 then succeeds, but it started before the failure was seen, and its
 * pages may be the ones the kernel dropped: the mark stays until the records have been written
 * again and a sync that started after that (sync 2) succeeds.
 */
static void test_failure_voids_syncs_in_flight(void **state)
{
	static struct addrs a;
	struct jfix f;
	uint64_t last;

	(void)state;
	gate_reset(1u << 0 | 1u << 2, 1u << 1);
	jfix_start(&f, 2);
	(void)jfix_batch(&f, 10);
	gate_wait_calls(1);
	last = jfix_batch(&f, 10);
	wait_syncs(f.j, 1); /* sync 1 failed */
	assert_int_equal(dhcp_journal_durable(f.j), 0);
	assert_true(dhcp_journal_needs_rewrite(f.j));
	gate_release(0);
	wait_syncs(f.j, 2); /* sync 0 returned 0, and counted for nothing */
	assert_int_equal(dhcp_journal_durable(f.j), 0);
	retry_makes_durable(&f, last);
	jfix_stop(&f, 0, &a);
	assert_written_twice(&a);
}

/*
 * Four threads, syncs of random length, batches of random size: the file holds every record
 * once, whole and in order, and whenever the mark reads D, every record up to D lies within
 * what a successful sync covered when it started.
 */
static void test_overlapped_order_and_coverage(void **state)
{
	static struct addrs a;
	struct jfix f;
	uint64_t last = 0;
	unsigned seed = 7;

	(void)state;
	gate_reset(0, 0);
	g.sleep_max_us = 3000;
	jfix_start(&f, DHCP_JOURNAL_SYNCERS_MAX);
	while (last < 2000) {
		uint64_t durable, covered;

		last = jfix_batch(&f, 1 + rand_r(&seed) % 40);
		uv_run(&f.loop, UV_RUN_NOWAIT);
		usleep(rand_r(&seed) % 2000);
		durable = dhcp_journal_durable(f.j);
		uv_mutex_lock(&g.mu);
		covered = g.covered;
		uv_mutex_unlock(&g.mu);
		read_addrs(f.path, covered, &a, NULL);
		assert_sequence(&a, durable, durable);
	}
	wait_durable(&f.loop, f.j, last);
	jfix_stop(&f, 0, &a);
	assert_int_equal(a.n, last);
	assert_sequence(&a, last, last);
}

/*
 * A write-back error is reported to a description opened after another reported it, never.
 * Sync 0 (the first batch, through one thread's description) loses its pages and says so,
 * but is held before it returns; the other thread writes the second batch and syncs both
 * (sync 1). Its description must date from before the first batch was written: one opened
 * then (as at a thread's first use) would return 0, and the mark would pass ten lost records.
 */
static void test_late_description_misses_no_error(void **state)
{
	static struct addrs a;
	struct jfix f;
	uint64_t last;

	(void)state;
	gate_reset(1u << 0 | 1u << 2, 1u << 0);
	g.errseq = true;
	jfix_start(&f, 2);
	(void)jfix_batch(&f, 10);
	gate_wait_calls(1);
	last = jfix_batch(&f, 10);
	wait_syncs(f.j, 1); /* sync 1 returned and was handled */
	assert_int_equal(dhcp_journal_durable(f.j), 0);
	retry_makes_durable(&f, last);
	gate_release(0); /* reports its error late: the mark has moved past, on good grounds */
	wait_syncs(f.j, 3);
	assert_int_equal(dhcp_journal_durable(f.j), last);
	jfix_stop(&f, 0, &a);
	assert_written_twice(&a);
}

static int rewrite_none(void *ctx, struct dhcp_lease_rec *r)
{
	(void)ctx;
	(void)r;
	return 0;
}

/* After a rewrite switched files, syncs go to the new file. */
static void test_syncers_follow_rewrite(void **state)
{
	static struct addrs a;
	struct jfix f;
	struct stat before, after;

	(void)state;
	gate_reset(0, 0);
	jfix_start(&f, 2);
	wait_durable(&f.loop, f.j, jfix_batch(&f, 5));
	assert_int_equal(stat(f.path, &before), 0);
	assert_int_equal(g.last_ino, before.st_ino);
	assert_int_equal(dhcp_journal_rewrite(f.j, rewrite_none, NULL), 0);
	assert_int_equal(stat(f.path, &after), 0);
	assert_int_not_equal(before.st_ino, after.st_ino);
	for (int i = 0; i < 4; i++)
		wait_durable(&f.loop, f.j, jfix_batch(&f, 5));
	assert_int_equal(g.last_ino, after.st_ino);
	jfix_stop(&f, 0, &a);
	assert_int_equal(a.n, 20); /* the rewrite kept none of the first five */
	assert_int_equal(a.v[0], 6);
}

/* A failover state record does not wait for a lease sync in flight, and lands after it. */
static void test_write_fo_beside_sync_in_flight(void **state)
{
	static struct addrs a;
	struct dhcp_fo_state_rec fo = {.peer = "p", .my_state = 1, .partner_state = 1,
					.my_stos = DHCP_TIME_NONE, .partner_stos = DHCP_TIME_NONE,
					.mclt = -1};
	struct jfix f;
	uint64_t first;

	(void)state;
	gate_reset(1u << 0, 0);
	jfix_start(&f, 2);
	first = jfix_batch(&f, 3);
	gate_wait_calls(1);
	assert_int_equal(dhcp_journal_write_fo(f.j, &fo), 0);
	gate_release(0);
	wait_durable(&f.loop, f.j, first);
	jfix_stop(&f, 0, &a);
	assert_int_equal(a.n, 3);
}

static void test_start_checks_syncers(void **state)
{
	struct dhcp_journal *j = NULL;
	uv_loop_t loop;

	(void)state;
	assert_int_equal(uv_loop_init(&loop), 0);
	assert_int_equal(dhcp_journal_start(NULL, &loop, 0, on_durable, NULL, &j), -EINVAL);
	assert_int_equal(dhcp_journal_start(NULL, &loop, DHCP_JOURNAL_SYNCERS_MAX + 1, on_durable,
					    NULL, &j),
			 -EINVAL);
	assert_null(j);
	assert_int_equal(uv_loop_close(&loop), 0);
}

static int gate_setup(void **state)
{
	(void)state;
	return uv_mutex_init(&g.mu) || uv_cond_init(&g.cond);
}

static int gate_teardown(void **state)
{
	(void)state;
	uv_mutex_destroy(&g.mu);
	uv_cond_destroy(&g.cond);
	return 0;
}

/*
 * Records that come one at a time, in pairs, and in a batch bigger than SYNC_BATCH_FULL while
 * a thread paces or writes, each become durable: a submit wakes a sync thread only when one
 * waits for it, and none may be left waiting (the loop would wait for the ACKs for good).
 */
static void test_lone_records_become_durable(void **state)
{
	static struct addrs a;
	struct jfix f;
	uint64_t last = 0;

	(void)state;
	gate_reset(0, 0);
	uv_mutex_lock(&g.mu);
	g.sleep_max_us = 300; /* syncs of varying length: submits land in every phase */
	uv_mutex_unlock(&g.mu);
	jfix_start(&f, 2);
	for (int i = 0; i < 300; i++) {
		last = jfix_batch(&f, i % 50 == 49 ? 70 : 1);
		if (i % 3 == 0)
			last = jfix_batch(&f, 1);
		wait_durable(&f.loop, f.j, last);
		assert_int_equal(dhcp_journal_durable(f.j), last);
	}
	jfix_stop(&f, 0, &a);
	assert_int_equal(a.n, last);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durable_only_after_successful_sync),
		cmocka_unit_test(test_stop_with_dead_disk_reports_loss),
		cmocka_unit_test(test_overlapped_sync_moves_mark_first),
		cmocka_unit_test(test_single_syncer_waits),
		cmocka_unit_test(test_failure_voids_syncs_in_flight),
		cmocka_unit_test(test_late_description_misses_no_error),
		cmocka_unit_test(test_overlapped_order_and_coverage),
		cmocka_unit_test(test_syncers_follow_rewrite),
		cmocka_unit_test(test_write_fo_beside_sync_in_flight),
		cmocka_unit_test(test_start_checks_syncers),
		cmocka_unit_test(test_lone_records_become_durable),
	};
	return cmocka_run_group_tests(tests, gate_setup, gate_teardown);
}
