/* SPDX-License-Identifier: MPL-2.0 */
/* Wire codec of the group protocol: one length-prefixed frame per struct grp_msg. */
#ifndef GRP_WIRE_H
#define GRP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "core_err.h"
#include "core_wire.h"
#include "grp_types.h"

/*
 * Frame layout (docs/internals/group-wire.md has the same as tables). Every integer is
 * big-endian and goes through core_wire. There is no padding and no optional field: a
 * message has exactly one encoding, and decode accepts only that one.
 *
 *   offset  size  field
 *   0       4     length    the whole frame, this field included: 16 .. GRP_WIRE_FRAME_MAX
 *   4       1     version   GRP_WIRE_VERSION
 *   5       1     type      enum grp_msg_type
 *   6       2     reserved  0
 *   8       8     term
 *   16      ...   body, by type:
 *
 *   PING        member from, u8 flags, uuid leader, u64 applied, u64 seq, u32 backlog,
 *               u64 rec_index, u8 n_peers, member peers[n_peers]
 *   APPEND      u64 prev_index, u64 prev_term, u64 prev_seq, u64 commit, u8 flags,
 *               [u64 cfg_index, config: only with GRP_WIRE_APPEND_CFG], u16 n, entry e[n];
 *               flags: GRP_WIRE_APPEND_PAUSED, GRP_WIRE_APPEND_NO_QUORUM, GRP_WIRE_APPEND_CFG
 *   APPEND_ACK  u8 success, u64 match, u32 backlog
 *   VOTE        u8 pre, u64 last_index, u64 last_term
 *   VOTE_ACK    u8 pre, u8 granted
 *   SUBMIT      u64 head, u64 applied, u16 n, n times: u64 origin_id, u8 type, u32 len,
 *               len bytes
 *   XFER        member donor, u64 first_index
 *
 *   uuid        16 bytes
 *   member      uuid, u8 name_len, name, u8 addr_len, addr, u16 weight (names without NUL)
 *   entry       u64 index, u64 term, u64 seq, u8 type, uuid origin, u64 origin_id, then
 *               NOOP, DATA, STATE: u32 len, len bytes; CONFIG: config (no len, no data)
 *   config      u8 n, n times: member, u64 origin_last; u8 n_old, n_old times: the same
 *               (origin_last is sent only here: PING and XFER records decode with it 0)
 *   bool        u8, 0 or 1
 *
 * Only PING carries a member record for its sender, because a PING is what introduces a
 * node; every other message's sender is the identity the transport's handshake established.
 */

#define GRP_WIRE_VERSION 3 /* 2: PING carries rec_index; 3: APPEND may carry a configuration */
#define GRP_WIRE_HDR_LEN 16
/*
 * The largest frame either side accepts: one maximal payload always fits, with room for a
 * full batch of entry headers and configurations. A sender batches below this;
 * grp_wire_encode() refuses a larger frame rather than send what every receiver drops.
 */
#define GRP_WIRE_FRAME_MAX ((size_t)GRP_PAYLOAD_MAX * 2 + (1u << 20))
/* CONFIG entries in one APPEND (each needs a struct grp_config of scratch, ~9.5 KiB). */
#define GRP_WIRE_CFGS_MAX GRP_CFGS_PER_MSG

/* APPEND flags byte */
#define GRP_WIRE_APPEND_PAUSED 0x01
#define GRP_WIRE_APPEND_NO_QUORUM 0x02
#define GRP_WIRE_APPEND_CFG 0x04 /* the configuration at prev_index follows the flags */

/* Where decode puts the configurations of CONFIG entries and an APPEND's own (append.cfg).
 * Caller-owned; may be reused. */
struct grp_wire_scratch {
	struct grp_config cfg[GRP_WIRE_CFGS_MAX];
	struct grp_config append_cfg;
};

/*
 * The exact number of bytes grp_wire_encode() appends for m, so a transport can size its
 * buffer. m must satisfy the encode contract below (asserted). Pure; cost linear in m.
 */
size_t grp_wire_encoded_len(const struct grp_msg *m);

/*
 * Appends one frame for m at w's position. m must be a message decode would accept: counts
 * within the grp_types.h limits, NUL-terminated names, known flags and entry types, entry
 * index/term/seq chains as decode checks them, cfg set for CONFIG entries and len 0 there,
 * data non-NULL whenever len > 0. Breaking that is a bug in the caller and is ASSERTed. m->from
 * is written only for PING. Entry and submission bytes are copied; nothing is kept.
 *
 * Returns 0, or:
 *  - w->err when the cursor already failed;
 *  - CORE_ESPACE when the frame does not fit in what is left of w: nothing is written and
 *    w->err is set to CORE_ESPACE (sticky, as for any cursor overrun);
 *  - CORE_ETOOBIG when the frame would exceed GRP_WIRE_FRAME_MAX or an APPEND carries more
 *    than GRP_WIRE_CFGS_MAX CONFIG entries, limits of every receiver: nothing is written and
 *    w is untouched. The caller sends fewer entries per APPEND (or submissions per SUBMIT).
 */
int grp_wire_encode(const struct grp_msg *m, struct core_wire *w) CORE_WARN_UNUSED;

/*
 * For a stream reader: the length of the frame starting at buf, from its first 4 bytes.
 * Returns 0 with *frame_len set (GRP_WIRE_HDR_LEN .. GRP_WIRE_FRAME_MAX; the frame may not be
 * all there yet), CORE_ETRUNC when len < 4 (read more), CORE_ETOOBIG when the declared length
 * exceeds GRP_WIRE_FRAME_MAX, CORE_EMALFORMED when it is below GRP_WIRE_HDR_LEN. Both errors
 * mean the stream cannot be resynchronised: close the link. buf is read during the call only.
 */
int grp_wire_frame_len(const void *buf, size_t len, size_t *frame_len) CORE_WARN_UNUSED;

/*
 * Decodes and validates exactly one whole frame, buf[0..len). from is the sender identity the
 * transport's handshake established: it is copied into out->from for every type except PING,
 * whose own sender record (from the wire) goes there instead, for the transport to compare.
 * from may be NULL, and out->from is then zeroed for types other than PING.
 *
 * Ownership: entry and submission data pointers point INTO buf (borrowed: valid while buf
 * is, and must not be used after the caller reuses buf); data is NULL when len is 0. CONFIG
 * entries' cfg and an APPEND's cfg point into scratch (required), valid until scratch is next
 * used; an APPEND without GRP_WIRE_APPEND_CFG decodes with cfg NULL and cfg_index 0. Nothing is
 * allocated. On success out->type, from, term and the type's union member are set (entries and
 * peers up to their count); anything else in out is unspecified. On error all of out and
 * scratch are unspecified.
 *
 * Returns 0, or (first failing check wins):
 *  - CORE_ETRUNC: len < 4, or the length field is larger than len (frame incomplete);
 *  - CORE_ETOOBIG: the length field exceeds GRP_WIRE_FRAME_MAX; a count above its limit
 *    (GRP_MEMBERS_MAX, GRP_ENTRIES_PER_MSG, GRP_SUBMITS_PER_MSG); a payload longer than
 *    GRP_PAYLOAD_MAX; a name or address of GRP_NAME_MAX / GRP_ADDR_MAX bytes or more; more
 *    than GRP_WIRE_CFGS_MAX CONFIG entries;
 *  - CORE_EUNSUPP: a version other than GRP_WIRE_VERSION;
 *  - CORE_EMALFORMED: anything else that is not a valid message: the length field below
 *    GRP_WIRE_HDR_LEN or smaller than len; reserved not 0; unknown message or entry type; a
 *    field running past the frame's end; bytes left after the body; a bool not 0/1; unknown
 *    PING or APPEND flags; a NUL inside a name or address; weight > GRP_WEIGHT_MAX; NOOP with len != 0;
 *    a submission whose type is not DATA or STATE; STATE (entry or submission) not 1 byte of
 *    a valid enum grp_svc_state; a configuration with n == 0 or a uuid
 *    twice in m[] or twice in old[]; in APPEND, prev_term > term, cfg_index 0 or above
 *    prev_index (with GRP_WIRE_APPEND_CFG), an entry index other than
 *    the previous one + 1 (starting at prev_index + 1), an entry term below the previous
 *    entry's (or prev_term) or above the message term, a seq other than the previous entry's
 *    (or prev_seq) + 1 for DATA and + 0 for other types.
 *
 * Pure and reentrant; cost linear in len (plus the duplicate check, at most 32^2 compares
 * per configuration).
 */
int grp_wire_decode(const void *buf, size_t len, const struct grp_member *from,
		    struct grp_msg *out, struct grp_wire_scratch *scratch) CORE_WARN_UNUSED;

#endif
