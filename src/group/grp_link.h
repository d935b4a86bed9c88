/* SPDX-License-Identifier: MPL-2.0 */
/* One mesh connection: the HELLO handshake, grp_wire framing both ways, a bounded output queue. */
#ifndef GRP_LINK_H
#define GRP_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core_err.h"
#include "core_log.h"
#include "grp_node.h"
#include "grp_tls.h"
#include "grp_types.h"
#include "grp_wire.h"

/*
 * HELLO, sent once each way as soon as a connection is up (integers big-endian, core_wire):
 *
 *   "PCLG", u8 version (GRP_LINK_HELLO_VERSION), u16 body length (<= GRP_LINK_HELLO_BODY_MAX),
 *   body: u8 cluster_len, cluster, then the sender's member record as grp_wire writes one:
 *   uuid, u8 name_len, name, u8 addr_len, addr, u8 flags (GRP_MEMBER_*), u8 weight.
 *
 * A bad magic (checked on the first bytes, so a stray client is turned away at once), another
 * version, another cluster, a malformed record, our own uuid, or no HELLO within
 * GRP_LINK_HELLO_TIMEOUT_MS closes the connection. After the HELLO the stream carries grp_wire
 * frames only; a malformed one closes the connection (the stream cannot be resynchronised).
 *
 * With TLS (env->tls), the TLS handshake comes first and the HELLO and frames travel inside
 * it; a link sends its HELLO only once the handshake verified the peer's certificate, and reads
 * nothing before. A failed handshake (or a failure before the peer's HELLO) closes the
 * connection and counts in tls_refused. The whole exchange must end within
 * GRP_LINK_HELLO_TIMEOUT_MS too.
 *
 * Output: two lanes. Frames without entries (PING, VOTE, VOTE_ACK, APPEND_ACK and APPEND with
 * no entries: heartbeats, commit notices) are control frames; the rest (APPENDs with entries,
 * SUBMITs, XFER) are bulk. Both gather until grp_link_flush(); control frames are then written
 * first, and bulk frames are handed to the socket (whole frames) only while libuv's own queue
 * of unwritten bytes is under GRP_LINK_WRITE_AHEAD; the rest waits here and goes out as writes
 * complete. So a heartbeat or an ack waits behind at most GRP_LINK_WRITE_AHEAD plus a frame and
 * the kernel's socket buffers, never behind megabytes of entries. The protocol knows a control
 * frame may overtake (grp_ops.queued). What a link holds is bounded by the protocol's
 * back-pressure (it stops sending entries at link_busy_bytes, see grp_link_queued()); over
 * GRP_NODE_OUTQ_MAX, a safety net far above that for a peer that stopped reading while the
 * protocol still sends, the link is closed (links_overflow).
 *
 * Everything here runs on the owning node's loop thread. Callbacks are never called from
 * inside grp_link_send() or grp_link_close(), so the owner may call those from anywhere,
 * grp_proto callbacks included.
 */
#define GRP_LINK_HELLO_VERSION 1
#define GRP_LINK_HELLO_BODY_MAX 512
#define GRP_LINK_HELLO_TIMEOUT_MS 5000
#define GRP_LINK_CLUSTER_MAX 255
#define GRP_LINK_WRITE_AHEAD ((size_t)256 << 10) /* bulk bytes libuv may hold unwritten */

struct grp_link;

/* What a link reports to its owner; l is valid during each call. */
struct grp_link_ops {
	/* The peer's HELLO arrived and is valid: l->peer is set. */
	void (*up)(void *ctx, struct grp_link *l);
	/* A frame, decoded and checked; m is borrowed for the call. */
	void (*frame)(void *ctx, struct grp_link *l, const struct grp_msg *m);
	/* The handle is closed; l is freed when this returns. is_self: the HELLO was our own. */
	void (*closed)(void *ctx, struct grp_link *l, bool is_self);
};

/*
 * Shared by all links of one node; owned by the node, must outlive its links. Everything is
 * used on the loop thread only: msg and scratch are the decode buffers (large, hence shared),
 * counters and rl are the node's.
 */
struct grp_link_env {
	uv_loop_t *loop;
	const char *cluster;
	const struct grp_member *self;
	const struct grp_link_ops *ops;
	void *ctx;
	struct grp_msg *msg;
	struct grp_wire_scratch *scratch;
	struct grp_node_counters *cnt;
	struct core_ratelimit *rl;
	struct grp_tls_ctx *tls;   /* NULL: plain TCP */
	uint8_t *tls_rbuf;         /* with tls: where the socket's bytes land, GRP_LINK_TLS_RBUF */
};
#define GRP_LINK_TLS_RBUF ((size_t)64 << 10)

/* Frames gathered for the socket: b[off, len) are not written yet. */
struct grp_link_lane {
	uint8_t *b;
	size_t off, len, cap;
};

struct grp_link {
	const struct grp_link_env *env;
	uv_tcp_t tcp;
	uv_connect_t conn;
	void *owner;               /* the owner's, untouched here (the node: the dialed address) */
	bool established;          /* HELLO received */
	bool tls_up;               /* the TLS handshake verified the peer (with env->tls) */
	bool closing;
	bool is_self;
	struct grp_member peer;    /* from the HELLO, once established */
	struct grp_tls *tls;       /* with env->tls, once connected */
	uint64_t created_ms;
	size_t outq;               /* bytes handed to uv_write and not yet completed */
	struct grp_link_lane ctl;  /* control frames: written first, all at once */
	struct grp_link_lane bulk; /* the rest: handed to libuv up to GRP_LINK_WRITE_AHEAD */
	uint8_t *rbuf;
	size_t rlen, rcap;
	size_t rneed;              /* the length of the frame rbuf holds the start of; 0: none */
	char what[GRP_ADDR_MAX + 16]; /* names the link in log lines */
};

/* Allocates a link and its handle (not yet connected). Returns NULL on ENOMEM. */
struct grp_link *grp_link_new(const struct grp_link_env *env, const char *what);

/* Dials sa; the HELLO goes out once connected. On failure the link closes (ops->closed). */
void grp_link_connect(struct grp_link *l, const struct sockaddr *sa);

/* Accepts a pending connection of srv into l and sends the HELLO; or closes l. */
void grp_link_accept(struct grp_link *l, uv_stream_t *srv);

/* Encodes m and queues it in its lane; it is written at the next grp_link_flush() (or when a
 * quarter MiB has gathered). Over GRP_NODE_OUTQ_MAX bytes held the link is closed instead:
 * the protocol tolerates the loss. No-op on a closing link. */
void grp_link_send(struct grp_link *l, const struct grp_msg *m);
/* Writes what grp_link_send() gathered: the control frames, then bulk frames up to the
 * write-ahead, in one write. The owner calls it once per loop iteration, after the events it
 * handled; the bulk that waits goes out as earlier writes complete. */
void grp_link_flush(struct grp_link *l);
/* Bytes this link holds that are not written to the socket yet: both lanes and libuv's queue
 * (grp_ops.queued). */
size_t grp_link_queued(const struct grp_link *l);

/* Starts closing; ops->closed follows from the loop. Idempotent. */
void grp_link_close(struct grp_link *l);

/* Closes the link when its HELLO is overdue (call periodically). */
void grp_link_check(struct grp_link *l, uint64_t now_ms);

#endif
