/* SPDX-License-Identifier: MPL-2.0 */
/* Group commit journal: sync threads that write batches in turn and fdatasync them in parallel. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core_assert.h"
#include "core_log.h"
#include "core_wake.h"
#include "dhcp_journal.h"

#define RETRY_MS 50        /* after a failed sync */
#define STOP_RETRIES 20    /* at shutdown, give a failing disk about a second */
#define SYNC_GAP_NS ((uint64_t)1000 * 1000)      /* see pace() */
#define SYNC_GAP_BUSY_NS ((uint64_t)2000 * 1000) /* above SYNC_BUSY_RATE */
#define SYNC_BUSY_RATE 4000                       /* records a second */
#define RATE_WINDOW_NS ((uint64_t)100 * 1000 * 1000)
#define SYNC_BURST 4
#define SYNC_BATCH_FULL 64 /* records that go to disk without waiting for the gap */
#define TAIL_MAX ((size_t)256 * 1024 * 1024) /* records kept during a background rewrite */

struct recbuf {
	struct dhcp_lease_rec *v;
	size_t n, cap;
};

/* What one fdatasync covers: records <= upto, store bytes before end, if epoch is current. */
struct sync_job {
	uint64_t epoch, upto, end;
	bool written; /* else the write failed (and that was handled): there is nothing to sync */
	bool synced;  /* no syncer: the store synced it itself, holding store_mu */
};

struct syncer {
	struct dhcp_journal *j;
	uv_thread_t thread;
	struct dhcp_leasestore_syncer sy; /* its own description of the file */
	struct recbuf work;		  /* the batch it took */
};

struct dhcp_journal {
	struct dhcp_leasestore *store;
	unsigned syncers_n;
	struct syncer syncers[DHCP_JOURNAL_SYNCERS_MAX];
	struct core_wake wake; /* a sync thread moved the durable mark: on_durable */
	void (*on_durable)(void *ctx);
	void *ctx;
	struct recbuf local; /* loop thread only */

	uv_mutex_t mu; /* guards everything below */
	uv_cond_t cond;
	struct recbuf in; /* submitted, not yet taken by a thread */
	uint64_t submitted, durable;
	uint64_t taken;	  /* records handed to a thread for the store */
	uint64_t written; /* records written to the file since the last failure; <= taken */
	uint64_t written_end, durable_end; /* store positions just past written / durable */
	uint64_t epoch;	  /* failures seen; a sync that started before the last covers nothing */
	bool writing;	  /* a thread is taking and writing a batch: the others wait their turn */
	bool pacing;	  /* that thread waits in pace() for the gap */
	uint64_t tat;	  /* see pace() */
	uint64_t gap_ns;  /* the pace: SYNC_GAP_NS, or SYNC_GAP_BUSY_NS when busy */
	uint64_t rate_ns, rate_records; /* start of the window the rate is measured over */
	uint64_t retry_ns; /* after a failure, no thread writes before this */
	int stop_retries;
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

	uv_mutex_t store_mu; /* held while the store is in use (lock order: store_mu, then mu) */
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
	struct dhcp_journal *j = ((struct core_wake *)h->data)->data;

	core_wake_fd_close(&j->wake); /* the sync threads were joined */
	free(j->tail);
	free(j);
}

static void on_wake(struct core_wake *w)
{
	struct dhcp_journal *j = w->data;

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
 * Under mu, with store_mu held: a sync or write failed. Nothing written before this counts
 * any more: the records not yet durable are written again (the store does so after a failed
 * fdatasync) and only a sync started after that rewrite makes them durable. Syncs in flight
 * belong to the old epoch and cover nothing when they return.
 */
static void failed(struct dhcp_journal *j)
{
	j->epoch++;
	j->written = j->durable;
	j->written_end = j->durable_end;
	j->failing = true;
	j->retry_ns = uv_hrtime() + (uint64_t)RETRY_MS * 1000 * 1000;
	j->stats.sync_errors++;
	uv_cond_broadcast(&j->cond);
}

/* With store_mu held, not mu. */
static void failed_unlocked(struct dhcp_journal *j)
{
	uv_mutex_lock(&j->mu);
	failed(j);
	uv_mutex_unlock(&j->mu);
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
			if (rc == CORE_EFULL) {
				rc = dhcp_leasestore_sync(j->store);
				if (rc == 0)
					continue;
				failed_unlocked(j);
			}
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
 * Under mu: the gap between syncs for the rate at which records came over the last
 * RATE_WINDOW_NS or so: SYNC_GAP_NS, or SYNC_GAP_BUSY_NS above SYNC_BUSY_RATE records a
 * second, where each sync carries four or more records anyway. There half as many syncs cost
 * the machine half the time the host takes back for them, and the ACK p99 at 5,400 DORA/s
 * fell from 7.0-10.0 ms to 6.1-7.6 ms (four pairs of runs); below it the longer gap only
 * delays ACKs (p50 1.0 ms against 1.8 at 2,000/s). docs/internals/dhcp-server.md.
 */
static void pace_gap(struct dhcp_journal *j, uint64_t now)
{
	uint64_t dt = now - j->rate_ns, n = j->submitted - j->rate_records;

	if (!j->gap_ns)
		j->gap_ns = SYNC_GAP_NS;
	if (dt < RATE_WINDOW_NS)
		return;
	j->gap_ns = n * 1000 * 1000 * 1000 > (uint64_t)SYNC_BUSY_RATE * dt ? SYNC_GAP_BUSY_NS
									     : SYNC_GAP_NS;
	j->rate_ns = now;
	j->rate_records = j->submitted;
}

/*
 * Under mu: at most one sync per gap on average (pace_gap), with bursts of SYNC_BURST (the
 * generic cell rate algorithm: tat is when the next sync is due at the steady rate). A quiet
 * or moderately busy server syncs at once; a busy one waits for the gap and syncs bigger
 * batches, unless SYNC_BATCH_FULL records wait. A flush costs the whole machine, not only this
 * thread: on a virtual disk, every fdatasync costs the host CPU time that it takes back from
 * this VM as a stall once the VM is busy, so thousands a second set the latency tail of
 * every process, this server's loop included (figures in docs/internals/dhcp-server.md).
 */
static void pace(struct dhcp_journal *j)
{
	uint64_t tolerance, now = uv_hrtime();

	pace_gap(j, now);
	tolerance = (SYNC_BURST - 1) * j->gap_ns;

	while (now < j->retry_ns && !(j->stop && j->stop_retries > STOP_RETRIES)) {
		(void)uv_cond_timedwait(&j->cond, &j->mu, j->retry_ns - now);
		now = uv_hrtime();
	}
	j->pacing = true;
	while (j->in.n && j->in.n < SYNC_BATCH_FULL && !j->stop && !j->failing &&
	       now + tolerance < j->tat) {
		if (uv_cond_timedwait(&j->cond, &j->mu, j->tat - tolerance - now) == UV_ETIMEDOUT)
			break;
		now = uv_hrtime();
	}
	j->pacing = false;
	j->tat = (j->tat > now ? j->tat : now) + j->gap_ns;
}

/* Under mu: records to take, or records to write again after a failure. */
static bool has_work(const struct dhcp_journal *j)
{
	return j->in.n || j->written < j->taken;
}

/*
 * Under mu: waits for this thread's turn to take the next batch (work is there and no other
 * thread is taking or writing one), takes it and returns the number of its last record, or
 * 0 when the thread is to exit (stopping with nothing left, or a disk that keeps failing).
 */
static uint64_t take_turn(struct dhcp_journal *j, struct syncer *me)
{
	struct recbuf tmp;

	for (;;) {
		if (j->stop && (!has_work(j) || j->stop_retries > STOP_RETRIES))
			return 0;
		if (!j->writing && has_work(j))
			break;
		uv_cond_wait(&j->cond, &j->mu);
	}
	j->writing = true;
	if (j->failing && j->stop)
		j->stop_retries++;
	pace(j);
	tmp = j->in;
	j->in = me->work;
	me->work = tmp;
	j->taken = j->submitted;
	if (j->retaining)
		retain(j, &me->work);
	return j->taken;
}

/*
 * Appends the batch and writes everything the store has not written, in order, then makes
 * job the sync of all that was written so far. Without a syncer of its own (no second
 * description of the file could be opened) the thread syncs through the store, holding it,
 * as a single sync thread would. Returns 0, or -errno (handled: job->written is false).
 */
static int write_batch(struct dhcp_journal *j, struct syncer *me, uint64_t target,
		       struct sync_job *job)
{

	bool synced = false, gave_up = false;
	uint64_t end;
	int rc;

	uv_mutex_lock(&j->store_mu);
	uv_mutex_lock(&j->mu);
	end = j->durable_end; /* it may grow meanwhile: dropping less is harmless */
	uv_mutex_unlock(&j->mu);
	dhcp_leasestore_synced(j->store, end);
	rc = store_batch(j, &me->work);
	gave_up = rc < 0;
	if (rc == 0)
		rc = dhcp_leasestore_write(j->store, &end);
	if (rc == 0 && dhcp_leasestore_syncer_attach(j->store, &me->sy) < 0) {
		synced = true;
		rc = dhcp_leasestore_sync(j->store);
	}
	publish(j);
	uv_mutex_lock(&j->mu);
	if (rc == 0) {
		j->written = target;
		j->written_end = end;
	} else {
		CLOG_ERR("lease journal: %s failed: %s; retrying", synced ? "sync" : "write",
			 core_strerror(rc));
		j->stats.syncs += synced;
		failed(j);
		if (gave_up) /* stopping, and the store cannot take the batch: stop trying */
			j->stop_retries = STOP_RETRIES + 1;
	}
	*job = (struct sync_job){.epoch = j->epoch, .upto = j->written, .end = j->written_end,
				 .written = rc == 0, .synced = synced};
	j->writing = false;
	uv_cond_broadcast(&j->cond);
	uv_mutex_unlock(&j->mu);
	uv_mutex_unlock(&j->store_mu);
	return rc;
}

/*
 * Under mu: a sync of job returned rc. Counted once handled, for the tests' sake. True when
 * it moved the durable mark: the caller then wakes the loop, once it released mu.
 */
static bool sync_done(struct dhcp_journal *j, const struct sync_job *job, int rc)
{
	if (rc == 0) {
		j->stats.syncs++;
		if (job->epoch != j->epoch || job->upto <= j->durable)
			return false;
		ASSERT(job->upto <= j->written && job->end <= j->written_end);
		j->durable = job->upto;
		j->durable_end = job->end;
		j->failing = false;
		return true;
	}
	CLOG_ERR("lease journal: sync failed: %s; retrying", core_strerror(rc));
	uv_mutex_unlock(&j->mu);
	uv_mutex_lock(&j->store_mu);
	uv_mutex_lock(&j->mu);
	failed(j);
	dhcp_leasestore_sync_failed(j->store, j->durable_end);
	uv_mutex_unlock(&j->mu);
	publish(j);
	uv_mutex_unlock(&j->store_mu);
	uv_mutex_lock(&j->mu);
	j->stats.syncs++;
	return false;
}

/*
 * One of the sync threads. They take batches in turn: the thread whose turn it is appends
 * its batch and writes it (so records reach the file in order, whole), then fdatasyncs
 * outside every lock while the next thread takes, writes and syncs the next batch. A sync
 * covers what was written before it started, so whichever returns first may move the mark.
 */
static void syncer_thread(void *arg)
{
	struct syncer *me = arg;
	struct dhcp_journal *j = me->j;
	uint64_t target;

	(void)pthread_setname_np(pthread_self(), "lease-sync"); /* top -H, perf: which thread */
	uv_mutex_lock(&j->mu);
	while ((target = take_turn(j, me)) != 0) {
		struct sync_job job;
		int rc;

		uv_mutex_unlock(&j->mu);
		rc = write_batch(j, me, target, &job);
		if (rc == 0 && !job.synced)
			rc = dhcp_leasestore_syncer_sync(&me->sy);
		uv_mutex_lock(&j->mu);
		if (job.written && sync_done(j, &job, rc)) {
			uv_mutex_unlock(&j->mu);
			core_wake_send(&j->wake);
			uv_mutex_lock(&j->mu);
		}
	}
	uv_mutex_unlock(&j->mu);
}

static void destroy(struct dhcp_journal *j)
{
	for (unsigned i = 0; i < DHCP_JOURNAL_SYNCERS_MAX; i++) {
		dhcp_leasestore_syncer_close(&j->syncers[i].sy);
		free(j->syncers[i].work.v);
	}
	uv_mutex_destroy(&j->mu);
	uv_mutex_destroy(&j->store_mu);
	uv_cond_destroy(&j->cond);
	free(j->local.v);
	free(j->in.v);
	if (j->wake.fd < 0) { /* core_wake_init failed: no handle to close */
		free(j->tail);
		free(j);
		return;
	}
	uv_close((uv_handle_t *)&j->wake.poll, free_after_close);
}

int dhcp_journal_start(struct dhcp_leasestore *store, uv_loop_t *loop, unsigned syncers,
		       void (*on_durable)(void *ctx), void *ctx, struct dhcp_journal **out)
{
	struct dhcp_journal *j;
	int rc = 0;

	if (syncers < 1 || syncers > DHCP_JOURNAL_SYNCERS_MAX)
		return -EINVAL;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->store = store;
	j->style = dhcp_leasestore_style(store);
	j->on_durable = on_durable;
	j->ctx = ctx;
	for (unsigned i = 0; i < DHCP_JOURNAL_SYNCERS_MAX; i++) {
		j->syncers[i].j = j;
		j->syncers[i].sy.fd = -1;
		j->syncers[i].sy.slot = i;
	}
	if (uv_mutex_init(&j->mu) || uv_mutex_init(&j->store_mu) || uv_cond_init(&j->cond)) {
		free(j);
		return -ENOMEM;
	}
	/* No thread runs yet: the store is ours. */
	rc = dhcp_leasestore_syncers(store, syncers);
	if (rc < 0)
		CLOG_WARN("lease journal: cannot prepare the sync threads' descriptions: %s; "
			  "they sync through the store, one at a time",
			  core_strerror(rc));
	j->wake.data = j;
	rc = core_wake_init(loop, &j->wake, on_wake);
	if (rc < 0) {
		CLOG_ERR("lease journal: cannot make its wake-up eventfd: %s", core_strerror(rc));
		destroy(j);
		return rc;
	}
	for (; j->syncers_n < syncers && rc == 0; j->syncers_n++) {
		struct syncer *me = &j->syncers[j->syncers_n];

		rc = uv_thread_create(&me->thread, syncer_thread, me);
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		if (j->syncers_n)
			(void)dhcp_journal_stop(j);
		else
			destroy(j);
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
	size_t before;

	if (!j->local.n)
		return j->submitted; /* nothing new: no need to wake the thread */
	uv_mutex_lock(&j->mu);
	before = j->in.n;
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
	/*
	 * Only a thread that waits for these records is woken: one waiting for work when there
	 * was none, or the pacing one when the batch just became full. The other thread waits
	 * for its turn, which the end of a write brings. Woken at every submit, both threads
	 * went back to sleep at once nearly every time: a futex wake-up and two context
	 * switches a request for nothing, which on a virtual machine cost inter-processor
	 * interrupts as well.
	 */
	if (j->writing ? j->pacing && before < SYNC_BATCH_FULL && j->in.n >= SYNC_BATCH_FULL
		       : !before && j->in.n)
		uv_cond_broadcast(&j->cond);
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
	if (rc < 0)
		failed_unlocked(j);
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
	if (rc < 0)
		failed(j);
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
		if (rc < 0)
			failed_unlocked(j);
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
	uv_cond_broadcast(&j->cond);
	uv_mutex_unlock(&j->mu);
	for (unsigned i = 0; i < j->syncers_n; i++)
		uv_thread_join(&j->syncers[i].thread);
	rc = j->durable == j->submitted ? 0 : -EIO;
	dhcp_leasestore_synced(j->store, j->durable_end);
	destroy(j);
	return rc;
}
