/* SPDX-License-Identifier: MPL-2.0 */
/* A group node's state file (Galera's gvwstate.dat): its text format and its atomic writes. */
#ifndef GRP_STATE_H
#define GRP_STATE_H

#include <stddef.h>

#include "core_err.h"
#include "grp_proto.h"

/*
 * The file holds one struct grp_durable (see grp_proto.h) for one cluster, as text, one field
 * per line, in this order:
 *
 *   # paceless group state: written by libpaceless-group, do not edit
 *   version: 1
 *   cluster: <cluster name>
 *   my_uuid: <32 hex digits>
 *   gen: <u64>
 *   term: <u64>
 *   voted_for: <32 hex digits>              (all zero: none)
 *   view_id: <u64>
 *   flags: <u32>
 *   member: <uuid> <weight> <flags> <address> <name>      (n times, 1 <= n <= GRP_MEMBERS_MAX)
 *   end: <n>
 *
 * Cluster, address and name are escaped: every byte outside '!'..'~', and '%', is written
 * %XX. The "end" line is what tells a complete file from a cut one. Numbers are decimal.
 *
 * The file is replaced atomically (write a temporary file next to it, fsync it, rename it
 * over, fsync the directory), so after a crash it is the old one or the new one, whole.
 */

#define GRP_STATE_VERSION 1
#define GRP_STATE_FILE_MAX 32768 /* bytes: 32 members of 64 + 64 bytes, escaped, fit */

/*
 * Formats d for cluster into buf (NUL-terminated). Returns the length, or CORE_ESPACE when
 * size is too small (GRP_STATE_FILE_MAX always suffices), or -EINVAL (no members, too many).
 */
int grp_state_format(const struct grp_durable *d, const char *cluster, char *buf,
		     size_t size) CORE_WARN_UNUSED;

/*
 * Parses len bytes of buf (no NUL needed) into *d. Returns 0; CORE_EPARSE on a line that is
 * not the expected field or does not parse (*line says which, from 1); CORE_EUNSUPP for
 * another version; CORE_ETRUNC when the file ends before its "end" line; CORE_EMALFORMED
 * when a value is out of range (weight, member count, this node not among the members, "end"
 * count wrong); CORE_ECORRUPT when it is another cluster's file. *d is undefined on error.
 * Never reads past len.
 */
int grp_state_parse(const char *buf, size_t len, const char *cluster, struct grp_durable *d,
		    unsigned *line) CORE_WARN_UNUSED;

/*
 * Reads path. Returns 0 with *d, -ENOENT when there is no such file, a negative errno for an
 * I/O error, or grp_state_parse()'s errors (logged with the path and the line).
 */
int grp_state_load(const char *path, const char *cluster, struct grp_durable *d) CORE_WARN_UNUSED;

/* Replaces path with d atomically (see above). Returns 0 or a negative errno. Blocks (fsync). */
int grp_state_save(const char *path, const char *cluster,
		   const struct grp_durable *d) CORE_WARN_UNUSED;

/* Removes path and makes that durable; 0 also when it was not there. */
int grp_state_remove(const char *path) CORE_WARN_UNUSED;

#endif
