/* SPDX-License-Identifier: MPL-2.0 */
/* Group commit journal: one sync thread, batches swapped under a mutex, async wake-ups. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core_assert.h"
#include "core_log.h"
#include "dhcp_journal.h"

#define RETRY_MS 50        /* after a failed sync */
#define STOP_RETRIES 20    /* at shutdown, give a failing disk about a second */
#define SYNC_GAP_NS ((uint64_t)1000 * 1000) /* see pace() */
#define SYNC_BURST 4
#define SYNC_BATCH_FULL 64 /* records that go to disk without waiting for the gap */
#define TAIL_MAX ((size_t)256 * 1024 * 1024) /* records kept during a background rewrite */

struct recbuf {
	struct dhcp_lease_rec *v;
	size_t n, cap;
};

struct dhcp_journal {
	struct dhcp_leasestore *store;
	uv_thread_t thread;
	uv_async_t async;
	void (*on_durable)(void *ctx);
	void *ctx;
	struct recbuf local; /* loop thread only */

	uv_mutex_t mu; /* guards everything below */
	uv_cond_t cond;
	struct recbuf in; /* submitted, not yet taken by the thread */
	uint64_t submitted, durable;
	bool stop;
	bool failing; /* last sync failed */
	size_t file_bytes;  /* the store's journal size and rewrite flag, as of the last sync, */
	bool needs_rewrite; /* so that the loop never waits on store_mu to read them */
	bool retaining;     /* a background rewrite runs: keep what is journaled meanwhile */
	unsigned style;     /* the store's DHCP_LF_* bits, for retain() */
	bool tail_overflow;
	char *tail;         /* those records, formatted for the new file */
	size_t tail_len, tail_cap;
	struct dhcp_journal_stats stats;

	uv_mutex_t store_mu; /* held while the store is in use */
};

/* Under mu: room for one more formatted record in the tail; false (and the rewrite is
 * abandoned) when it cannot grow. */
static bool tail_room(struct dhcp_journal *j)
{
	if (j->tail_overflow)
		return false;
	if (j->tail_cap - j->tail_len < DHCP_LEASEFILE_REC_MAX) {
		size_t cap = j->tail_cap ? 2 * j->tail_cap : 1 << 20;
		char *t = cap <= TAIL_MAX ? realloc(j->tail, cap) : NULL;

		if (!t) {
			j->tail_overflow = true;
			return false;
		}
		j->tail = t;
		j->tail_cap = cap;
	}
	return true;
}

/* Under mu: keeps the batch for the file a background rewrite is writing. */
static void retain(struct dhcp_journal *j, const struct recbuf *b)
{
	for (size_t i = 0; i < b->n && tail_room(j); i++)
		j->tail_len += dhcp_leasefile_format_style(&b->v[i], j->style, j->tail + j->tail_len,
							   j->tail_cap - j->tail_len);
}

static int recbuf_push(struct recbuf *b, const struct dhcp_lease_rec *r)
{
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		struct dhcp_lease_rec *v = realloc(b->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = *r;
	return 0;
}

static void free_after_close(uv_handle_t *h)
{
	struct dhcp_journal *j = h->data;

	free(j->tail);
	free(j);
}

static void on_async(uv_async_t *a)
{
	struct dhcp_journal *j = a->data;

	j->on_durable(j->ctx);
}

static bool stopping(struct dhcp_journal *j)
{
	bool stop;

	uv_mutex_lock(&j->mu);
	stop = j->stop;
	uv_mutex_unlock(&j->mu);
	return stop;
}

/*
 * Appends a batch to the store. A full queue (the disk has been failing) is drained by a
 * sync first; allocation failures are retried. A record is never dropped while the daemon
 * runs; at shutdown, after STOP_RETRIES, it gives up and returns -EIO (the durable mark then
 * stays short of those records, so nothing that depends on them is acknowledged).
 */
static int store_batch(struct dhcp_journal *j, struct recbuf *work)
{
	int tries = 0;

	for (size_t i = 0; i < work->n; i++) {
		int rc;

		while ((rc = dhcp_leasestore_append(j->store, &work->v[i])) < 0) {
			if (stopping(j) && ++tries > STOP_RETRIES)
				return -EIO;
			if (rc == CORE_EFULL && dhcp_leasestore_sync(j->store) == 0)
				continue;
			CLOG_ERR("lease journal: cannot queue a record: %s; retrying",
				 core_strerror(rc));
			uv_sleep(RETRY_MS);
		}
	}
	work->n = 0;
	return 0;
}

static void publish(struct dhcp_journal *j);

/*
 * Under mu: at most one sync per SYNC_GAP_NS on average, with bursts of SYNC_BURST (the
 * generic cell rate algorithm: *tat is when the next sync is due at the steady rate). A quiet
 * or moderately busy server syncs at once; a busy one waits for the gap and syncs bigger
 * batches, unless SYNC_BATCH_FULL records wait. A flush costs the whole machine, not only this
 * thread: on a virtual disk, thousands of fdatasyncs a second set the latency tail of every
 * process, this server's loop included (figures in docs/internals/dhcp-server.md).
 */
static void pace(struct dhcp_journal *j, uint64_t *tat)
{
	const uint64_t tolerance = (SYNC_BURST - 1) * SYNC_GAP_NS;
	uint64_t now = uv_hrtime();

	while (j->in.n && j->in.n < SYNC_BATCH_FULL && !j->stop && !j->failing &&
	       now + tolerance < *tat) {
		if (uv_cond_timedwait(&j->cond, &j->mu, *tat - tolerance - now) == UV_ETIMEDOUT)
			break;
		now = uv_hrtime();
	}
	*tat = (*tat > now ? *tat : now) + SYNC_GAP_NS;
}

static void journal_thread(void *arg)
{
	struct dhcp_journal *j = arg;
	struct recbuf work = {0}, tmp;
	uint64_t tat = 0;
	int retries = 0;

	uv_mutex_lock(&j->mu);
	for (;;) {
		uint64_t target;
		int rc;

		while (!j->in.n && !j->failing && !j->stop)
			uv_cond_wait(&j->cond, &j->mu);
		pace(j, &tat);
		if (!j->in.n && !j->failing && j->stop)
			break;
		if (j->failing && j->stop && ++retries > STOP_RETRIES)
			break;
		tmp = j->in;
		j->in = work;
		work = tmp;
		target = j->submitted;
		if (j->retaining)
			retain(j, &work);
		uv_mutex_unlock(&j->mu);

		uv_mutex_lock(&j->store_mu);
		rc = store_batch(j, &work);
		if (rc == 0)
			rc = dhcp_leasestore_sync(j->store);
		publish(j);
		uv_mutex_unlock(&j->store_mu);

		uv_mutex_lock(&j->mu);
		j->stats.syncs++;
		j->failing = rc < 0;
		if (rc < 0) {
			j->stats.sync_errors++;
			CLOG_ERR("lease journal: sync failed: %s; retrying", core_strerror(rc));
			uv_mutex_unlock(&j->mu);
			uv_sleep(RETRY_MS);
			uv_mutex_lock(&j->mu);
			continue;
		}
		ASSERT(target >= j->durable);
		j->durable = target;
		uv_async_send(&j->async);
	}
	uv_mutex_unlock(&j->mu);
	free(work.v);
}

int dhcp_journal_start(struct dhcp_leasestore *store, uv_loop_t *loop,
		       void (*on_durable)(void *ctx), void *ctx, struct dhcp_journal **out)
{
	struct dhcp_journal *j = calloc(1, sizeof(*j));
	int rc;

	if (!j)
		return -ENOMEM;
	j->store = store;
	j->style = dhcp_leasestore_style(store);
	j->on_durable = on_durable;
	j->ctx = ctx;
	if (uv_mutex_init(&j->mu) || uv_mutex_init(&j->store_mu) || uv_cond_init(&j->cond)) {
		free(j);
		return -ENOMEM;
	}
	uv_async_init(loop, &j->async, on_async);
	j->async.data = j;
	rc = uv_thread_create(&j->thread, journal_thread, j);
	if (rc < 0) {
		uv_mutex_destroy(&j->mu);
		uv_mutex_destroy(&j->store_mu);
		uv_cond_destroy(&j->cond);
		uv_close((uv_handle_t *)&j->async, free_after_close);
		return rc;
	}
	*out = j;
	return 0;
}

int dhcp_journal_add(struct dhcp_journal *j, const struct dhcp_lease_rec *r)
{
	return recbuf_push(&j->local, r);
}

uint64_t dhcp_journal_added(const struct dhcp_journal *j)
{
	/* submitted changes only on this thread (in submit), so it is read without mu. */
	return j->submitted + j->local.n;
}

uint64_t dhcp_journal_submit(struct dhcp_journal *j)
{
	uint64_t last;

	if (!j->local.n)
		return j->submitted; /* nothing new: no need to wake the thread */
	uv_mutex_lock(&j->mu);
	for (size_t i = 0; i < j->local.n; i++) {
		/* On allocation failure keep the rest local: they go with the next submit. */
		if (recbuf_push(&j->in, &j->local.v[i]) < 0) {
			memmove(j->local.v, j->local.v + i, (j->local.n - i) * sizeof(*j->local.v));
			j->local.n -= i;
			j->submitted += i;
			goto out;
		}
	}
	j->submitted += j->local.n;
	j->local.n = 0;
out:
	j->stats.records = j->submitted;
	last = j->submitted;
	uv_cond_signal(&j->cond);
	uv_mutex_unlock(&j->mu);
	return last;
}

uint64_t dhcp_journal_durable(struct dhcp_journal *j)
{
	uint64_t d;

	uv_mutex_lock(&j->mu);
	d = j->durable;
	uv_mutex_unlock(&j->mu);
	return d;
}

uint64_t dhcp_journal_backlog(struct dhcp_journal *j)
{
	uint64_t b;

	uv_mutex_lock(&j->mu);
	b = j->submitted - j->durable;
	uv_mutex_unlock(&j->mu);
	return b;
}

void dhcp_journal_stats(struct dhcp_journal *j, struct dhcp_journal_stats *st)
{
	uv_mutex_lock(&j->mu);
	*st = j->stats;
	uv_mutex_unlock(&j->mu);
}

/* With store_mu held (lock order: store_mu, then mu): the store's figures for the loop. */
static void publish(struct dhcp_journal *j)
{
	size_t bytes = dhcp_leasestore_journal_bytes(j->store);
	bool rewrite = dhcp_leasestore_needs_rewrite(j->store);

	uv_mutex_lock(&j->mu);
	j->file_bytes = bytes;
	j->needs_rewrite = rewrite;
	uv_mutex_unlock(&j->mu);
}

size_t dhcp_journal_bytes(struct dhcp_journal *j)
{
	size_t n;

	uv_mutex_lock(&j->mu);
	n = j->file_bytes;
	uv_mutex_unlock(&j->mu);
	return n;
}

bool dhcp_journal_needs_rewrite(struct dhcp_journal *j)
{
	bool r;

	uv_mutex_lock(&j->mu);
	r = j->needs_rewrite;
	uv_mutex_unlock(&j->mu);
	return r;
}

int dhcp_journal_rewrite(struct dhcp_journal *j, int (*next)(void *ctx, struct dhcp_lease_rec *r),
			 void *ctx)
{
	int rc;

	uv_mutex_lock(&j->store_mu);
	rc = dhcp_leasestore_rewrite(j->store, next, ctx);
	publish(j);
	uv_mutex_unlock(&j->store_mu);
	return rc;
}

int dhcp_journal_write_fo(struct dhcp_journal *j, const struct dhcp_fo_state_rec *r)
{
	int rc;

	uv_mutex_lock(&j->store_mu);
	rc = dhcp_leasestore_append_fo(j->store, r);
	if (rc == 0)
		rc = dhcp_leasestore_sync(j->store);
	uv_mutex_lock(&j->mu);
	/* A background rewrite's file must end with this record too. */
	if (rc == 0 && j->retaining && tail_room(j))
		j->tail_len += dhcp_leasefile_format_fo(r, j->style, j->tail + j->tail_len,
							j->tail_cap - j->tail_len);
	uv_mutex_unlock(&j->mu);
	publish(j);
	uv_mutex_unlock(&j->store_mu);
	return rc;
}

void dhcp_journal_set_style(struct dhcp_journal *j, unsigned style)
{
	uv_mutex_lock(&j->store_mu);
	dhcp_leasestore_set_style(j->store, style);
	uv_mutex_lock(&j->mu);
	j->style = style;
	uv_mutex_unlock(&j->mu);
	uv_mutex_unlock(&j->store_mu);
}

void dhcp_journal_retain_begin(struct dhcp_journal *j)
{
	uv_mutex_lock(&j->mu);
	j->retaining = true;
	j->tail_overflow = false;
	j->tail_len = 0;
	uv_mutex_unlock(&j->mu);
}

int dhcp_journal_retain_finish(struct dhcp_journal *j, bool written)
{
	bool overflow;
	int rc;

	/* Holding store_mu, the thread is not between taking a batch and storing it, except
	 * for a batch it took (and retained) and will append after us: then those records
	 * stand twice in the new file, in order, which changes nothing. */
	uv_mutex_lock(&j->store_mu);
	uv_mutex_lock(&j->mu);
	j->retaining = false;
	overflow = j->tail_overflow;
	uv_mutex_unlock(&j->mu);
	if (!written || overflow) {
		dhcp_leasestore_drop_new(j->store);
		rc = written ? -ENOMEM : -EIO;
	} else {
		rc = dhcp_leasestore_adopt_new(j->store, j->tail, j->tail_len);
	}
	publish(j);
	uv_mutex_unlock(&j->store_mu);
	uv_mutex_lock(&j->mu);
	j->tail_len = 0;
	uv_mutex_unlock(&j->mu);
	return rc;
}

int dhcp_journal_stop(struct dhcp_journal *j)
{
	int rc;

	(void)dhcp_journal_submit(j);
	uv_mutex_lock(&j->mu);
	j->stop = true;
	uv_cond_signal(&j->cond);
	uv_mutex_unlock(&j->mu);
	uv_thread_join(&j->thread);
	rc = j->durable == j->submitted ? 0 : -EIO;
	uv_mutex_destroy(&j->mu);
	uv_mutex_destroy(&j->store_mu);
	uv_cond_destroy(&j->cond);
	free(j->local.v);
	free(j->in.v);
	uv_close((uv_handle_t *)&j->async, free_after_close);
	return rc;
}
