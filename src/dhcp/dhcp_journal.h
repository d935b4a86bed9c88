/* SPDX-License-Identifier: MPL-2.0 */
/* Group commit: sync threads make lease records durable while the loop keeps serving. */
#ifndef DHCP_JOURNAL_H
#define DHCP_JOURNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "core_err.h"
#include "dhcp_leasestore.h"

/*
 * The loop thread adds records and submits them in batches; sync threads append each batch
 * to the lease store and fdatasync it, then wake the loop (core_wake, an eventfd) so that
 * the replies waiting on those records go out. While one batch syncs the next one fills, so
 * fsync latency bounds the latency of an ACK but not the throughput.
 *
 * With more than one sync thread, syncs overlap: the threads take batches in turn and write
 * each whole, in order (one at a time, so the file stays a valid ISC lease file), but a batch
 * submitted while an fdatasync is in flight is written and synced by the next thread at once
 * instead of waiting for that sync to return. Each thread syncs through its own open file
 * description (see dhcp_leasestore_syncer_attach).
 *
 * Records are numbered from 1 in submission order; dhcp_journal_durable() is the highest
 * number known to be on stable storage: every record up to it was written, then covered by
 * an fdatasync that started after the write and succeeded. A failed sync is retried (the
 * store keeps what it could not write, and after a failure writes everything not yet durable
 * again; a sync in flight when a failure is seen counts for nothing), so the durable mark
 * only ever moves forward and never past a record that is not on disk.
 */
#define DHCP_JOURNAL_BACKLOG_MAX 16384 /* records submitted but not durable; beyond: pause */
#define DHCP_JOURNAL_SYNCERS_MAX DHCP_LEASESTORE_SYNCERS_MAX /* sync threads */
#define DHCP_JOURNAL_SYNCERS	 2 /* what the daemon runs */

struct dhcp_journal;

/*
 * Starts syncers (1..DHCP_JOURNAL_SYNCERS_MAX) sync threads. store is borrowed and, until
 * dhcp_journal_stop, used only through the journal. on_durable(ctx) runs on loop's thread
 * when the durable mark moves. Loop thread. Returns 0, -EINVAL or what starting fails with.
 */
int dhcp_journal_start(struct dhcp_leasestore *store, uv_loop_t *loop, unsigned syncers,
		       void (*on_durable)(void *ctx), void *ctx,
		       struct dhcp_journal **out) CORE_WARN_UNUSED;

/* Loop thread: buffers a record (copied). Returns 0 or -ENOMEM. */
int dhcp_journal_add(struct dhcp_journal *j, const struct dhcp_lease_rec *r) CORE_WARN_UNUSED;
/*
 * Loop thread: appends a failover state record and waits until it is durable (the loop
 * stalls for one fdatasync, as ISC's does; state changes are rare). Lease records buffered or
 * in flight may land after it, which changes nothing: each record stands alone. Returns 0 or
 * a negative errno (the record may then be lost; the caller logs it).
 */
int dhcp_journal_write_fo(struct dhcp_journal *j,
			  const struct dhcp_fo_state_rec *r) CORE_WARN_UNUSED;
/* Loop thread: the number the last record added got (0 before the first). */
uint64_t dhcp_journal_added(const struct dhcp_journal *j);
/* Loop thread: hands buffered records to the sync threads; returns the number of the last
 * record submitted so far (replies depending on them wait until durable reaches it). */
uint64_t dhcp_journal_submit(struct dhcp_journal *j);
/* Any thread. */
uint64_t dhcp_journal_durable(struct dhcp_journal *j);
/* Records submitted but not yet durable. */
uint64_t dhcp_journal_backlog(struct dhcp_journal *j);

struct dhcp_journal_stats {
	uint64_t syncs, sync_errors, records;
};
void dhcp_journal_stats(struct dhcp_journal *j, struct dhcp_journal_stats *st);

/* Bytes appended to the lease file since its last rewrite, as of the last batch written. */
size_t dhcp_journal_bytes(struct dhcp_journal *j);
/* True after a failed sync: the file may hold a gap, so it should be rewritten whole.
 * Neither call waits for a sync in progress. */
bool dhcp_journal_needs_rewrite(struct dhcp_journal *j);

/* Loop thread: runs dhcp_leasestore_rewrite with the store to itself (waits for a batch
 * being written, not for the fdatasyncs in flight: each sync thread moves to the new file
 * before its next sync; the loop stalls for the rewrite, as ISC's does). */
int dhcp_journal_rewrite(struct dhcp_journal *j, int (*next)(void *ctx, struct dhcp_lease_rec *r),
			 void *ctx) CORE_WARN_UNUSED;

/*
 * Background rewrite (the loop forks a child that writes PATH.new from its copy of the DB,
 * see dhcp_leasestore_write_new). Loop thread: call retain_begin just before the fork,
 * after a submit, so that everything journaled from then on is also kept for the new file;
 * when the child has exited, retain_finish(written = its success) appends those records
 * to PATH.new and switches to it, or drops it. Returns 0 when the new file is in place.
 */
void dhcp_journal_retain_begin(struct dhcp_journal *j);

/* Any thread but the journal's: how records are written from now on (a reload changed
 * db-time-format or lease-id-format); waits for a batch being written. */
void dhcp_journal_set_style(struct dhcp_journal *j, unsigned style);
int dhcp_journal_retain_finish(struct dhcp_journal *j, bool written) CORE_WARN_UNUSED;

/* Loop thread: submits what is buffered, waits until it is durable or the store fails for
 * good, stops the threads and frees j. Returns 0 when everything submitted is durable. */
int dhcp_journal_stop(struct dhcp_journal *j);

#endif
