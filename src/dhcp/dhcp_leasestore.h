/* SPDX-License-Identifier: MPL-2.0 */
/* The lease file on disk: load, append-only journal with fsync, atomic rewrite. */
#ifndef DHCP_LEASESTORE_H
#define DHCP_LEASESTORE_H

#include <stddef.h>

#include "dhcp_leasefile.h"

struct dhcp_leasestore;

/*
 * Opens (creating if absent) the lease file at path. Single-threaded: all calls on one
 * store come from one thread. *out is freed with dhcp_leasestore_close.
 */
int dhcp_leasestore_open(const char *path, struct dhcp_leasestore **out) CORE_WARN_UNUSED;

/*
 * Reads the whole file and calls cb per record. A torn tail is cut off the file (truncate +
 * fsync) and logged. Returns 0 or an error with the message in err.
 */
int dhcp_leasestore_load(struct dhcp_leasestore *s, dhcp_leasefile_cb cb, void *ctx,
			 struct dhcp_leasefile_stats *st, char *err, size_t errlen) CORE_WARN_UNUSED;

/* Queues a record in memory; nothing is durable until dhcp_leasestore_sync returns 0. */
int dhcp_leasestore_append(struct dhcp_leasestore *s, const struct dhcp_lease_rec *r) CORE_WARN_UNUSED;

/* Writes the queue and fdatasyncs. 0 means every appended record is on stable storage. */
int dhcp_leasestore_sync(struct dhcp_leasestore *s) CORE_WARN_UNUSED;

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

void dhcp_leasestore_close(struct dhcp_leasestore *s);

#endif
