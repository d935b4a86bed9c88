/* SPDX-License-Identifier: MPL-2.0 */
/* A group node: the protocol state machine driven by its own libuv thread over a TCP mesh. */
#ifndef GRP_NODE_H
#define GRP_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core_err.h"
#include "grp_proto.h"
#include "grp_tls.h"
#include "grp_types.h"

/*
 * A node runs one thread (the loop thread) that owns the struct grp_proto, the listener, every
 * connection and every timer. Other threads talk to it only through grp_node_submit(),
 * grp_node_leave(), grp_node_status(), grp_node_counters() and grp_node_stop(), which hand work
 * over under a mutex and wake the loop through an eventfd (once per hand-over, after the mutex
 * is released).
 *
 * Transport: every node listens and connects out to each configured peer address and to every
 * address the protocol learns (gossip), so the nodes form a full TCP mesh. Each connection
 * starts with one HELLO each way (magic, version, cluster name, the sender's member record);
 * after it, the stream carries grp_wire frames. A HELLO for another cluster, or anything that
 * does not parse, closes the connection (counted, logged rate-limited). Addresses are numeric
 * "a.b.c.d:port" or "[v6]:port"; no name resolution.
 *
 * With cfg.tls.cert set, every connection (both directions) is TLS 1.2+ with mutual certificate
 * checks (grp_tls.h) before its HELLO: a peer without a certificate the CA signed, or without
 * TLS, is refused (tls_refused). Nodes of one cluster must all use TLS or all not.
 *
 * Without a state file nothing is durable: every grp_node_start() is a new incarnation with a
 * fresh random uuid. With one (state_file, Galera's gvwstate.dat and pc.recovery), the node
 * keeps there its uuid, its last vote and the members of its last views (grp_state.h); a
 * process started after a crash reads it, keeps the uuid, and once every one of those members
 * is back from its own state file, the one whose service is furthest ahead forms the group
 * again by itself (see grp_proto_restore). Until then it is not primary and delivers nothing;
 * grp_node_force_bootstrap() is the operator's way out. A graceful stop removes the file.
 */

struct grp_node;

struct grp_node_config {
	const char *cluster;            /* 1..255 bytes; nodes of other clusters are refused */
	const char *name;               /* shorter than GRP_NAME_MAX */
	const char *listen;             /* "host:port"; port 0 binds any free port */
	const char *const *peers;       /* "host:port" of other nodes; one reachable is enough */
	size_t n_peers;
	uint32_t weight;                /* 0..GRP_WEIGHT_MAX; overrides params.weight */
	bool bootstrap;                 /* form a new group of one (see grp_proto_create); with a
					 * state file too, it is replaced: a new node */
	uint64_t seq;                   /* the service's position (see grp_proto_create) */
	/*
	 * With seq: the index and term of the last entry the service applied (its grp_entry's
	 * index and term; 0 when none). A node restored from state_file needs them: the group
	 * formed again starts from the furthest service's index. A joiner uses them to start at
	 * that entry before the leader knows it committed (grp_proto_create).
	 */
	uint64_t index;
	uint64_t term;
	/*
	 * The state file's path, or NULL (nothing durable). Written atomically (write, fsync,
	 * rename, fsync the directory) on the loop thread whenever this node votes or a
	 * configuration it holds changes; removed when it is in none, and by grp_node_stop().
	 * A file that does not parse, or is another cluster's, makes grp_node_start() fail
	 * (logged with the line): remove it to start as a new node. Not with arbitrator.
	 */
	const char *state_file;
	/*
	 * No service state behind this node (paceless-arbitrator): it votes with its weight and
	 * holds the log, but is never named a donor and never gets xfer_needed; seq is ignored.
	 * See GRP_MEMBER_ARBITRATOR. It cannot bootstrap (-EINVAL): a group starts from state.
	 */
	bool arbitrator;
	/*
	 * TLS on every link when tls.cert is set (then tls.key is needed too; tls.ca NULL: the
	 * certificate is its own CA, Galera's single self-signed cluster certificate). The files
	 * are read and checked by grp_node_start only.
	 */
	struct grp_tls_files tls;
	struct grp_params params;       /* from grp_params_default(); seed 0: a random one; batch
					 * is always on (the loop flushes every iteration) */
	/*
	 * Callbacks, run on the loop thread with the arguments of the same names in struct
	 * grp_ops (pointers borrowed for the call). They may call grp_node_submit(), _leave(),
	 * _status() and _counters(), never grp_node_stop(). deliver is required; view and
	 * xfer_needed may be NULL. A callback that blocks stalls the whole node.
	 */
	void (*deliver)(void *ctx, const struct grp_entry *e);
	void (*view)(void *ctx, uint64_t id, const struct grp_config *cfg, int my_index,
		     bool primary);
	void (*xfer_needed)(void *ctx, const struct grp_member *donor);
	/* A member's service state changed (grp_node_set_state, ordered like a message, so every
	 * member sees the changes in the same place of the stream). May be NULL. */
	void (*member_state)(void *ctx, const struct grp_uuid *who, enum grp_svc_state st);
	void *ctx;
};

/*
 * Starts a node: random uuid (getrandom), binds and listens on cfg->listen, creates the
 * protocol and starts the loop thread. SIGPIPE is set to be ignored (process-wide), so that a
 * peer closing its connection mid-write closes a link instead of killing the process. cfg and everything it points to are copied; the caller
 * may free them on return. self.addr (what other nodes are told to connect to) is the listen
 * address with the bound port; a wildcard host (0.0.0.0 or ::) is advertised as loopback.
 * Any thread. Returns 0 with *out set, or a negative errno (-EINVAL for a bad config or
 * address, -EADDRINUSE, -ENOMEM, grp_tls_ctx_new's for the TLS files, logged with the file
 * and OpenSSL's reason, ...); on error *out is untouched and nothing is left running.
 */
int grp_node_start(const struct grp_node_config *cfg, struct grp_node **out) CORE_WARN_UNUSED;

/* The bound listen port (useful with port 0). Any thread. */
int grp_node_listen_port(struct grp_node *n);

/* This node's member record (uuid, name, advertised address, weight). Any thread. */
void grp_node_self(struct grp_node *n, struct grp_member *self);

/*
 * Submits a message for total ordering. Any thread (the loop thread included). data is copied.
 * The copy waits in a hand-over queue (at most GRP_NODE_SUBMIT_MAX messages and
 * params.submit_bytes of payload, or one message of any size) until the loop thread hands it
 * to grp_proto_submit(); while the protocol refuses it (flow control, submit_max or
 * submit_bytes pending, not a member yet) it stays queued and is retried. So a node holds at
 * most twice submit_bytes of its own messages not yet ordered.
 * Returns 0 (queued: there is no other acknowledgement; the message's delivery through the
 * deliver callback, on every member in the same order, is its acknowledgement),
 * CORE_ETOOBIG (len > GRP_PAYLOAD_MAX), CORE_EFULL (the queue is full, or the node is
 * stopping: retry later or give up), or CORE_ESTATE (an arbitrator: it has nothing to submit).
 */
#define GRP_NODE_SUBMIT_MAX 65536
int64_t grp_node_submit(struct grp_node *n, const void *data, uint32_t len) CORE_WARN_UNUSED;

/* Asks to leave the group gracefully (grp_proto_leave); the view without this node follows.
 * Any thread; returns at once. */
void grp_node_leave(struct grp_node *n);

/*
 * Tells every member this node's service state (Galera's joiner, donor, joined, synced,
 * desynced): ordered like a message, it reaches every member's member_state callback. Any
 * thread; returns at once. The loop hands the latest state to the protocol once it takes it
 * (a node that is not a member yet, or paused by flow control, keeps it until then); an
 * earlier state not yet handed over is replaced. -EINVAL for a state out of range,
 * CORE_ESTATE for an arbitrator (no service), else 0.
 */
int grp_node_set_state(struct grp_node *n, enum grp_svc_state st);

/*
 * The service's own queue: delivered messages it has not consumed yet (an applier that works
 * behind the deliver callback). Above params.fc_limit the group pauses submissions until it
 * falls under half of it (flow control), so a slow member is waited for, never dropped. Any
 * thread; returns at once; the loop passes the latest value on.
 */
void grp_node_set_backlog(struct grp_node *n, uint32_t backlog);

/*
 * The state transfer asked for by the xfer_needed callback is done: the service now holds
 * everything up to (index, term, seq) of the group's log (the donor's position: the index,
 * term and seq of the last entry it applied). Any thread; returns at once; the loop thread
 * calls grp_proto_xfer_done() (a position it refuses is logged, and a donor is named again).
 */
void grp_node_xfer_done(struct grp_node *n, uint64_t index, uint64_t term, uint64_t seq);

/*
 * Operator: makes this node a primary group of one, whatever the last view (Galera's
 * pc.bootstrap=YES; grp_proto_force_bootstrap). For a group that lost its majority for good,
 * or restored nodes that cannot all come back: run it on the node whose service is furthest
 * ahead, then the others join it. Any thread; returns at once (the view callback follows).
 */
void grp_node_force_bootstrap(struct grp_node *n);

/*
 * Closes every connection and handle, joins the loop thread and frees the node; n is invalid
 * afterwards. Queued submissions are dropped. A graceful stop: the state file is removed
 * (a restart is a new node that joins, as after Galera's clean shutdown). Call once, from any thread but the loop thread
 * (that is: never from a callback).
 */
void grp_node_stop(struct grp_node *n);

/*
 * A snapshot of the protocol's status, taken on the loop thread after each batch of events
 * and before each view callback: once the view callback has been called (and from inside
 * it), the status shows that view or a later one. Any thread. Returns 0.
 */
int grp_node_status(struct grp_node *n, struct grp_status *st);

/* Transport counters (a snapshot like grp_node_status's). */
struct grp_node_counters {
	uint64_t links_up;        /* connections that completed the handshake */
	uint64_t hello_refused;   /* bad magic, version, cluster or member record; timeouts */
	uint64_t frames_bad;      /* malformed grp_wire frames (the connection was closed) */
	uint64_t ping_spoofed;    /* PINGs whose sender is not the handshake's (dropped) */
	uint64_t frames_in;
	uint64_t frames_out;
	uint64_t send_dropped;    /* no connection to the addressee, or it was over its limit */
	uint64_t links_overflow;  /* connections closed: output over GRP_NODE_OUTQ_MAX (a peer
				     that stopped reading; slow ones get back-pressure first) */
	uint64_t links_refused;   /* inbound connections over GRP_NODE_LINKS_MAX */
	uint64_t learn_dropped;   /* learned addresses not kept: table full or unparsable */
	uint64_t submit_dropped;  /* submissions the protocol refused for good (CORE_ETOOBIG) */
	uint64_t tls_refused;     /* TLS handshakes that failed (no, bad or foreign certificate,
				     a plain peer) or broke before the peer's HELLO */
	uint64_t state_errors;    /* state file writes or removals that failed (logged) */
	uint64_t survivor_restarts; /* restarts to take part in the others' restart from their
				       state files (grp_proto_restart_due) */
};
/*
 * What one connection holds for its peer. The protocol stops sending a follower entries once
 * its link holds params.link_busy_bytes not yet written (back-pressure, grp_ops.queued), so a
 * link holds at most link_busy_bytes + one frame (GRP_WIRE_FRAME_MAX) + GRP_LINK_WRITE_AHEAD,
 * and rate-limited control frames. GRP_NODE_OUTQ_MAX is only a safety net above that, for a
 * peer that stopped reading entirely: over it the link is closed (links_overflow).
 * link_busy_bytes above GRP_NODE_LINK_BUSY_MAX is refused (-EINVAL).
 */
#define GRP_NODE_OUTQ_MAX ((size_t)64 << 20)
#define GRP_NODE_LINK_BUSY_MAX ((size_t)16 << 20)
#define GRP_NODE_LINKS_MAX 256               /* connections, both directions */
#define GRP_NODE_TARGETS_MAX 128             /* addresses this node dials */
int grp_node_counters(struct grp_node *n, struct grp_node_counters *c);

/*
 * The most a node of a group of `members` holds for the group with params p, in bytes, when
 * no message is larger than msg_max (at most GRP_PAYLOAD_MAX): its log (twice cache_bytes,
 * for a leader that keeps what a live member has not acked, plus what is not delivered yet:
 * the submissions pending at each member, and one APPEND), its own submissions (pending in the
 * protocol and in the hand-over queue), and per peer link_busy_bytes, one frame and
 * GRP_LINK_WRITE_AHEAD going out and one frame coming in. Not counted: the process itself
 * and the allocator's own overhead. Any thread. docs/internals/group-protocol.md, "Memory bound".
 */
uint64_t grp_node_memory_bound(const struct grp_params *p, uint32_t members, uint32_t msg_max);

#endif
