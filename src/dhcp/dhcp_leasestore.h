/* SPDX-License-Identifier: MPL-2.0 */
/* The lease file on disk: load, append-only journal with fsync, atomic rewrite. */
#ifndef DHCP_LEASESTORE_H
#define DHCP_LEASESTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "dhcp_leasefile.h"

/* Failover peers whose state records a store keeps (the configuration allows fewer). */
#define DHCP_LEASESTORE_FO_MAX 16

/* Bytes of formatted records that may wait in memory for dhcp_leasestore_sync. */
#define DHCP_LEASESTORE_QUEUE_MAX (64u * 1024 * 1024)

struct dhcp_leasestore;

/*
 * Opens (creating if absent) the lease file at path. Single-threaded: all calls on one
 * store come from one thread. *out is freed with dhcp_leasestore_close.
 */
int dhcp_leasestore_open(const char *path, struct dhcp_leasestore **out) CORE_WARN_UNUSED;

/*
 * Reads the whole file and calls cb per lease record; failover state records are kept (the
 * last of each peer, see dhcp_leasestore_fo_states). A torn tail is cut off the file (truncate +
 * fsync) and logged. Returns 0 or an error with the message in err.
 */
int dhcp_leasestore_load(struct dhcp_leasestore *s, dhcp_leasefile_cb cb, void *ctx,
			 struct dhcp_leasefile_stats *st, char *err, size_t errlen) CORE_WARN_UNUSED;

/*
 * Queues a record in memory; nothing is durable until dhcp_leasestore_sync returns 0.
 * CORE_EFULL when DHCP_LEASESTORE_QUEUE_MAX bytes wait (sync first); -ENOMEM.
 */
int dhcp_leasestore_append(struct dhcp_leasestore *s, const struct dhcp_lease_rec *r) CORE_WARN_UNUSED;

/*
 * Queues a failover state record (ISC's "failover peer NAME state { ... }") and keeps it as
 * its peer's latest, which every rewrite writes after the header. Errors as for append;
 * CORE_EFULL also past DHCP_LEASESTORE_FO_MAX peers.
 */
int dhcp_leasestore_append_fo(struct dhcp_leasestore *s,
			      const struct dhcp_fo_state_rec *r) CORE_WARN_UNUSED;

/* The latest state record of each peer, loaded or appended; *out points into s. */
size_t dhcp_leasestore_fo_states(const struct dhcp_leasestore *s,
				 const struct dhcp_fo_state_rec **out);

/*
 * Writes the queue and fdatasyncs. 0 means every appended record is on stable storage.
 * On error (-errno) nothing is dropped: the records stay queued and a later call resumes
 * where the write stopped. After a failed fdatasync the whole unsynced batch is written
 * again (the kernel may have dropped it) and dhcp_leasestore_needs_rewrite becomes true.
 */
int dhcp_leasestore_sync(struct dhcp_leasestore *s) CORE_WARN_UNUSED;

/* How records are written from now on (DHCP_LF_* bits of dhcp_leasefile_format_style). */
void dhcp_leasestore_set_style(struct dhcp_leasestore *s, unsigned style);
unsigned dhcp_leasestore_style(const struct dhcp_leasestore *s);

/* Bytes appended since the last rewrite (to decide when to rewrite). */
size_t dhcp_leasestore_journal_bytes(const struct dhcp_leasestore *s);

/*
 * Replaces the file with a compact one holding exactly the records next() yields (next
 * returns 1 and fills *r, or 0 at the end, or <0 to abort): writes PATH.new, fsyncs it,
 * renames it over PATH and fsyncs the directory, as ISC does (ISC keeps PATH~ as the
 * previous file; so do we). Pending appends are synced first.
 */
int dhcp_leasestore_rewrite(struct dhcp_leasestore *s,
			    int (*next)(void *ctx, struct dhcp_lease_rec *r), void *ctx) CORE_WARN_UNUSED;

/*
 * Background rewrite, in two steps, so that the server never stops for it:
 * 1. dhcp_leasestore_write_new writes PATH.new (header and the records next() yields) and
 *    fsyncs it. It touches nothing else of s, so a forked child may run it on its copy of
 *    the lease DB while the parent goes on appending to PATH.
 * 2. dhcp_leasestore_adopt_new, in the parent, syncs what is queued, appends tail (the
 *    formatted records journaled since the snapshot) to PATH.new, fsyncs it and makes it
 *    PATH as a rewrite does (PATH~ kept). On error PATH.new is removed and PATH stays.
 * dhcp_leasestore_drop_new removes a PATH.new whose writer failed.
 */
int dhcp_leasestore_write_new(struct dhcp_leasestore *s,
			      int (*next)(void *ctx, struct dhcp_lease_rec *r), void *ctx) CORE_WARN_UNUSED;
int dhcp_leasestore_adopt_new(struct dhcp_leasestore *s, const char *tail,
			      size_t len) CORE_WARN_UNUSED;
void dhcp_leasestore_drop_new(struct dhcp_leasestore *s);

/* Closes the file and frees s. Records still queued (not synced) are not written. */
void dhcp_leasestore_close(struct dhcp_leasestore *s);

/* Bytes appended and not yet durable. */
size_t dhcp_leasestore_queued_bytes(const struct dhcp_leasestore *s);

/*
 * True after an fdatasync failed: the file may hold a hole where the kernel dropped data.
 * The caller should rewrite it (ISC does the same: it writes a new file after an error).
 */
bool dhcp_leasestore_needs_rewrite(const struct dhcp_leasestore *s);

/*
 * Fault injection for tests: replaces write(2), fsync(2)/fdatasync(2) and open(2) on the
 * store's files (the journal, PATH.new and PATH.torn). A hook returns like the system call
 * (-1 + errno). io is copied; NULL restores the system calls, and so does a NULL member.
 */
struct dhcp_leasestore_io {
	ssize_t (*write)(void *ctx, int fd, const void *buf, size_t n);
	int (*sync)(void *ctx, int fd, bool data_only);
	void *ctx;
	int (*open)(void *ctx, const char *path, int flags, mode_t mode);
};
void dhcp_leasestore_set_io(struct dhcp_leasestore *s, const struct dhcp_leasestore_io *io);

/*
 * Overlapped syncs (dhcp_journal): one thread at a time writes the queue, in order, with
 * dhcp_leasestore_write; threads then fdatasync what was written, concurrently, each through
 * a syncer: its own open file description of the journal. Not a dup(): Linux reports a
 * write-back error once per open file description, so two syncs sharing one could see the
 * error go to one and success to the other, though both covered the lost page.
 *
 * And opened with the file, before anything is appended to it: a description opened later
 * learns of an earlier write-back error only if no description has reported it yet (Linux
 * samples the error cursor at open, errseq_sample()), so its sync could return 0 over pages
 * whose loss another thread is about to report. The store opens the syncers' descriptions
 * each time it opens a journal file, and a syncer takes its own when the file changed.
 * Then every sync that covers a page whose write-back failed reports it, except on a
 * description whose earlier sync already did (and that failure was handled first).
 *
 * Positions count the bytes queued since open (they do not restart with a new file).
 */
/* Writes what is queued and not yet written; nothing becomes durable. *end = the position
 * just past what is written. 0, or -errno with the rest kept for the next call. */
int dhcp_leasestore_write(struct dhcp_leasestore *s, uint64_t *end) CORE_WARN_UNUSED;
/* What was written before end is on stable storage: drops it from the queue. */
void dhcp_leasestore_synced(struct dhcp_leasestore *s, uint64_t end);
/* A syncer's fdatasync failed: drops what is durable (before durable_end), writes the rest
 * again from the next dhcp_leasestore_write on, and sets dhcp_leasestore_needs_rewrite. */
void dhcp_leasestore_sync_failed(struct dhcp_leasestore *s, uint64_t durable_end);

#define DHCP_LEASESTORE_SYNCERS_MAX 4
/*
 * Opens a description of the journal for each of n syncers (slots 0..n-1), and again
 * whenever the store opens a new journal file. What is written and not yet durable is synced
 * first. 0, or -errno (then no slot has a description: syncers fall back on the store).
 */
int dhcp_leasestore_syncers(struct dhcp_leasestore *s, unsigned n) CORE_WARN_UNUSED;

struct dhcp_leasestore_syncer {
	int fd;	       /* -1: not attached (initialise so) */
	unsigned slot; /* which of the store's descriptions it takes */
	uint64_t gen;
	struct dhcp_leasestore_io io;
};
/*
 * Store's thread: makes sy hold its slot's description of the current journal file, closing
 * the one it had when the file changed (a rewrite). 0, or -errno (sy is then not attached:
 * the slot's description could not be opened, or dhcp_leasestore_syncers did not cover it).
 */
int dhcp_leasestore_syncer_attach(struct dhcp_leasestore *s,
				  struct dhcp_leasestore_syncer *sy) CORE_WARN_UNUSED;
/* Any thread, without touching the store: fdatasync through sy. 0 means every write to the
 * file completed before the call is on stable storage. */
int dhcp_leasestore_syncer_sync(const struct dhcp_leasestore_syncer *sy) CORE_WARN_UNUSED;
void dhcp_leasestore_syncer_close(struct dhcp_leasestore_syncer *sy);

#endif
