/* SPDX-License-Identifier: MPL-2.0 */
/* The group's ordering, membership and quorum protocol as a pure state machine. */
#ifndef GRP_PROTO_H
#define GRP_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core_err.h"
#include "grp_types.h"

/*
 * The protocol is Raft (Ongaro and Ousterhout, 2014) adapted to Galera's model; see
 * docs/internals/group-protocol.md. In short:
 *
 *  - One leader per term orders every message; an entry is committed (and delivered) once a
 *    weighted majority of the configuration holds it. seq numbers DATA entries without gaps.
 *  - The configuration (the view) changes by joint consensus: the leader removes members it has
 *    not heard from, adds nodes that ask to join, removes nodes that leave. A change needs a
 *    weighted majority of the old configuration, so a minority, or an exact half, can never
 *    form a view of its own: it stays non-primary and delivers nothing.
 *  - Elections use pre-vote and check-quorum, so a node cut off and coming back does not
 *    depose a working leader, and a leader that lost its majority steps down.
 *  - The log is not durable: a process that restarts is a new node (a new uuid) that joins and
 *    catches up from the leader's cache, or is told to get a state transfer. With a state file
 *    (struct grp_durable, ops->persist), a restarted process keeps its uuid, its vote and the
 *    members of its last views, and once every one of them is back from its own state file
 *    the one whose service is furthest ahead forms the group again (grp_proto_restore).
 *
 * The state machine never reads a clock, does I/O, or takes a lock: time comes in with
 * grp_proto_tick(), messages with grp_proto_recv(), and everything it does goes out through
 * the callbacks in struct grp_ops, called synchronously from inside those functions. It is
 * single-threaded: every function on one struct grp_proto must be called from one thread (or
 * under one lock), and the callbacks must not call back into the same instance (except the
 * read-only grp_proto_status(), _config() and _self(), which change nothing).
 *
 * Memory: the log cache is bounded by cache_bytes (plus one entry); pending submissions by
 * submit_max and submit_bytes. Beyond those limits calls fail with CORE_EFULL; nothing grows
 * without bound (the whole bound: docs/internals/group-protocol.md, "Memory bound").
 * What a leader hands the transport for one follower is bounded by link_busy_bytes plus one
 * APPEND (GRP_PROTO_APPEND_BYTES_MAX of payload plus one entry) and rate-limited control
 * messages, provided the transport reports its queue (grp_ops.queued).
 */

struct grp_proto;

#define GRP_PROTO_APPEND_BYTES_MAX (4u << 20) /* payload in one APPEND (plus one entry) */

struct grp_params {
	uint32_t heartbeat_ms;        /* leader -> followers; default 100 */
	uint32_t election_ms;         /* no leader heard for [election_ms, 2 * election_ms): elect;
				       * default 1000 */
	uint32_t suspect_ms;          /* a member silent this long is removed from the view;
				       * default 3000 */
	uint32_t down_grace_ms;       /* after the transport reports a member's link closed, remove
				       * it unless it is back within this; default 200 */
	uint32_t resend_ms;           /* unacked submissions are sent again; default 200 */
	uint32_t fc_limit;            /* a member's backlog above this pauses submissions; default
				       * 1024 */
	uint64_t cache_bytes;         /* delivered entries kept for joiners; default 128 MiB */
	uint64_t link_busy_bytes;     /* a follower whose link holds this many bytes not yet
				       * written (grp_ops.queued) is sent no new entries until it
				       * drains; > 0; default 4 MiB */
	uint32_t submit_max;          /* own submissions not yet ordered; default 4096 */
	uint64_t submit_bytes;        /* their payload bytes; one is taken whatever its size when
				       * none is pending; > 0; default 16 MiB */
	uint32_t weight;              /* this node's weight; default 1 */
	bool batch;                   /* the caller calls grp_proto_flush() after each batch of
				       * calls (as the runtime does after each loop iteration):
				       * what a batch submits, or a leader takes from SUBMITs, goes
				       * from there, in one SUBMIT or one APPEND per follower;
				       * default false: at once, per call */
	uint64_t seed;                /* randomises election timeouts; vary per node */
};

/* Fills in the defaults above. */
void grp_params_default(struct grp_params *p);

/*
 * What a node keeps across a crash, when its runtime has a state file (Galera's gvwstate.dat
 * and pc.recovery); see docs/internals/group-protocol.md, "Restart after every node crashed".
 * The members are everyone who may hold entries this node lacks: the last configuration it
 * delivered and every later one it holds (old and new halves), arbitrators included.
 */
#define GRP_DURABLE_INCOMPLETE 0x01 /* more members than fit: never restored by itself */
struct grp_durable {
	struct grp_uuid uuid;      /* this node; a restarted process keeps it */
	uint64_t gen;              /* processes that ran with this state before this one; the
				    * origin_ids of process gen start above gen << 32 */
	uint64_t term;             /* the last term this node voted in (Raft's currentTerm) */
	struct grp_uuid voted_for; /* its vote in term (Raft's votedFor); nil: none */
	uint64_t view_id;          /* index of the last configuration delivered; 0: none */
	uint32_t flags;            /* GRP_DURABLE_* */
	uint32_t n;
	struct grp_member m[GRP_MEMBERS_MAX]; /* origin_last 0; this node is one of them */
};

/* A service's position: the last entry it applied (index and term 0: none). */
struct grp_position {
	uint64_t index;
	uint64_t term;
	uint64_t seq;
};

/*
 * What the state machine does. Every pointer argument is borrowed for the call only. All
 * callbacks are required except where a comment says NULL is allowed.
 */
struct grp_ops {
	/* Send m to the node with this uuid (best effort; loss is tolerated). */
	void (*send)(void *ctx, const struct grp_uuid *to, const struct grp_msg *m);
	/* A node the transport should connect to (address gossip). NULL allowed. */
	void (*learn)(void *ctx, const struct grp_member *peer);
	/*
	 * A committed entry, in log order: DATA (deliver to the service), CONFIG (a new view; the
	 * view callback follows), STATE, NOOP. Called exactly once per index, without gaps,
	 * except across a state transfer (see xfer_needed).
	 */
	void (*deliver)(void *ctx, const struct grp_entry *e);
	/*
	 * The view changed: the members of the configuration in force, this node's index in it
	 * (-1: not a member), and whether this node is in the primary component. id is the index
	 * of the configuration's entry; a non-primary view keeps the id of the last primary one.
	 */
	void (*view)(void *ctx, uint64_t id, const struct grp_config *cfg, int my_index,
		     bool primary);
	/*
	 * This node (a joiner) cannot catch up from the cache: the service must get a state
	 * transfer from donor, then call grp_proto_xfer_done() with the position it reached.
	 */
	void (*xfer_needed)(void *ctx, const struct grp_member *donor);
	/* A member's service state changed (it was ordered like a message). NULL allowed. */
	void (*member_state)(void *ctx, const struct grp_uuid *who, enum grp_svc_state st);
	/*
	 * The durable state changed (a vote, a configuration held or delivered). NULL allowed:
	 * nothing is kept, and a restarted process is a new node. The runtime writes d before it
	 * returns (write, fsync, rename): the protocol goes on as if it were on disk, and sends
	 * nothing that depends on it before. d NULL: this node is in none of the configurations
	 * it holds (not yet added, or removed); remove the state, a restart must not restore it.
	 */
	void (*persist)(void *ctx, const struct grp_durable *d);
	/*
	 * Bytes the transport holds for the node with this uuid that are not written to its
	 * socket yet (0 when there is no link). NULL allowed: always 0. An input, read when the
	 * protocol decides what to send (this is how it stays pure without a "link drained"
	 * event it could miss); it must not call back into the protocol. Two uses:
	 *  - back-pressure: while it is at least link_busy_bytes, a leader sends that follower
	 *    no new entries (heartbeats still go); grp_proto_flush() and the heartbeat look
	 *    again, and once more than fc_limit entries wait for a member that answers, flow control
	 *    pauses submissions (docs/internals/group-protocol.md, "Slow links");
	 *  - while it is above 0 the transport may write a frame without entries (a heartbeat,
	 *    an ack, a vote, a PING) before queued frames with entries, so a heartbeat then
	 *    names only what the follower acked as its prev, never what may still be queued.
	 */
	uint64_t (*queued)(void *ctx, const struct grp_uuid *to);
};

/*
 * Creates a node. self is copied (its weight is taken from params). With bootstrap, the node
 * forms a new group of one (Galera's --wsrep-new-cluster) whose log starts at svc; otherwise
 * it is a joiner that asks the peers it hears from to add it. svc (copied) is the service's
 * position: the last entry it applied (all 0 for an empty service; an arbitrator has none). A
 * joiner catches up from svc->seq if the cache still holds it; with svc->index and ->term it
 * also starts there when the leader does not know that entry committed yet (the service
 * applied it, so it is). Returns 0, -ENOMEM or -EINVAL (bad params); on error *out is
 * untouched.
 */
int grp_proto_create(const struct grp_member *self, const struct grp_params *params,
		     const struct grp_ops *ops, void *ctx, bool bootstrap,
		     const struct grp_position *svc, uint64_t now_ms,
		     struct grp_proto **out) CORE_WARN_UNUSED;

/*
 * Creates a node restarted from its durable state d (as written through ops->persist by an
 * earlier process; d->gen already counts this process). self->uuid must be d->uuid. svc is the
 * service's position. The node is not primary and delivers nothing until either a leader of
 * a primary component takes it in (it then rejoins as a joiner does), or every member of d,
 * and every member of theirs, is back from its state file and in contact: then the one whose
 * service applied the highest index (ties: the higher uuid) forms a group of one from its
 * position, with a term above every one of theirs, and the others join it (catching up, or
 * by a state transfer). grp_proto_force_bootstrap() still works. An arbitrator has no state
 * to restore (-EINVAL). Returns 0, -ENOMEM or -EINVAL; on error *out is untouched.
 */
int grp_proto_restore(const struct grp_member *self, const struct grp_params *params,
		      const struct grp_ops *ops, void *ctx, const struct grp_durable *d,
		      const struct grp_position *svc, uint64_t now_ms,
		      struct grp_proto **out) CORE_WARN_UNUSED;

/*
 * A member that stayed up while the others crashed takes part in their restart, as Galera
 * counts the survivors: once it has been non-primary, and heard from no leader (or led a
 * minority), for suspect_ms, and a member of its last views PINGs it as a node restored from
 * its state file, this returns true with *d (its state as persisted) and *svc (what its
 * service delivered). The runtime then restarts it as after a crash, without the crash:
 * closes its links (the peers must see a new incarnation), destroys this node and creates it
 * again with grp_proto_restore() from d (one more process counted in d->gen, as at a start,
 * and persisted) and svc. Its log and its pending submissions go; its service stays. Only
 * with a state (ops->persist), and never for an arbitrator.
 */
bool grp_proto_restart_due(const struct grp_proto *p, struct grp_durable *d,
			   struct grp_position *svc);
void grp_proto_destroy(struct grp_proto *p);

/*
 * Time passes; runs timers. now_ms never goes backwards (a clock jump forward is fine). Call
 * it often (the runtime: every 10 ms): a gap of more than election_ms / 2 between two calls
 * that bring a time (this or any other) is taken for a pause of this node, after which a
 * leader changes no configuration for election_ms and a heartbeat (it could not hear its
 * members meanwhile, and what it reads first may have waited since before the pause).
 */
void grp_proto_tick(struct grp_proto *p, uint64_t now_ms);

/*
 * End of a batch of events (the runtime calls it once per loop iteration, after the messages
 * it read): a leader tells followers that have not heard it yet that the commit index moved,
 * so that they deliver without waiting for the next entry or heartbeat.
 */
void grp_proto_flush(struct grp_proto *p);

/*
 * A message arrived. Anything inconsistent (stale term, unknown sender, out of range) is
 * ignored and counted; the protocol never trusts a message to be well-behaved.
 */
void grp_proto_recv(struct grp_proto *p, const struct grp_msg *m, uint64_t now_ms);

/* The transport's link to this node is up / closed: hints for fast failure detection. */
void grp_proto_peer_up(struct grp_proto *p, const struct grp_member *peer, uint64_t now_ms);
void grp_proto_peer_down(struct grp_proto *p, const struct grp_uuid *peer, uint64_t now_ms);

/*
 * Submits a message for total ordering; data is copied. Returns the origin_id it will carry
 * when delivered (> 0), CORE_EFULL when submit_max submissions are outstanding or flow
 * control holds them (retry after a delivery), CORE_ETOOBIG, or CORE_ESTATE when this node is
 * not a member or is an arbitrator (GRP_MEMBER_ARBITRATOR: no service, nothing to submit).
 */
int64_t grp_proto_submit(struct grp_proto *p, const void *data, uint32_t len,
			 uint64_t now_ms) CORE_WARN_UNUSED;

/* Orders a change of this node's service state (visible to all members). Same returns. */
int64_t grp_proto_set_state(struct grp_proto *p, enum grp_svc_state st,
			    uint64_t now_ms) CORE_WARN_UNUSED;

/* The service has this many delivered entries not yet consumed (flow control input). */
void grp_proto_set_backlog(struct grp_proto *p, uint32_t backlog);

/*
 * The state transfer asked for by xfer_needed finished: the service now holds everything up to
 * (index, term, seq) of the group's log. Entries this node holds after index are kept (they may
 * have been counted towards a commit). This node's own submissions not delivered by then are
 * given up (counted in grp_status.abandoned): whether they were ordered is in the transferred
 * state. Returns 0, or CORE_ESTATE if none was asked for or if
 * index is behind what this node already delivered (the service must keep its own state; a
 * donor is named again).
 */
int grp_proto_xfer_done(struct grp_proto *p, uint64_t index, uint64_t term, uint64_t seq,
			uint64_t now_ms) CORE_WARN_UNUSED;

/*
 * The state transfer asked for by xfer_needed failed (the donor went away): the leader names a
 * donor again, within election_ms. A no-op if none was asked for.
 */
void grp_proto_xfer_failed(struct grp_proto *p, uint64_t now_ms);

/* Graceful leave: asks to be removed; the view without this node follows. */
void grp_proto_leave(struct grp_proto *p, uint64_t now_ms);

/*
 * Operator: make this node a primary group of one, whatever the last view (force bootstrap,
 * Galera's pc.bootstrap=YES). A restored node that has not rejoined starts from its service's
 * position (grp_proto_restore's svc); pick the node whose service is furthest ahead.
 */
void grp_proto_force_bootstrap(struct grp_proto *p, uint64_t now_ms);

/* Read-only state for status output, tests and the simulator's checkers. */
struct grp_status {
	struct grp_uuid leader; /* nil when none known */
	uint64_t term;
	uint64_t commit;        /* index */
	uint64_t applied;       /* index delivered */
	uint64_t seq;           /* seq delivered */
	uint64_t last_index;
	uint64_t cache_first;   /* oldest index held */
	uint64_t view_id;
	bool is_leader;
	bool primary;
	bool member;            /* in the configuration in force or in the last one delivered:
				 * a node being removed is one until it delivers the change (a
				 * leader leads till then), so wait for false before stopping */
	bool paused;            /* flow control */
	uint32_t pending;       /* own submissions not yet delivered */
	uint64_t pending_bytes; /* their payload bytes */
	uint64_t dropped;       /* messages ignored as stale or invalid */
	uint64_t abandoned;     /* own submissions given up at a state transfer */
	bool restoring;         /* restored from its state file: waiting for the members of its
				 * last views, or rejoined and not yet given a vote again */
	uint64_t held_back;     /* leader: times a follower's busy link held its entries back */
};
void grp_proto_status(const struct grp_proto *p, struct grp_status *st);
/* The configuration in force (the latest in the log, possibly uncommitted). */
const struct grp_config *grp_proto_config(const struct grp_proto *p);
/*
 * The joint configuration whose old half alone can take this node out of the configuration in
 * force (docs/internals/group-protocol.md, "The joint-configuration exit", "The C_new exit"):
 * the one in force if it is joint and every majority of its old half holds half its new half
 * (grp_config_old_covers_new), or, for a C_new not known to be committed, the joint
 * configuration before it if that one does. NULL otherwise. Borrowed until the next call into
 * p. Costs a knapsack over the weights and, for a C_new, a scan of the entries not applied.
 */
const struct grp_config *grp_proto_exit_config(const struct grp_proto *p);
const struct grp_member *grp_proto_self(const struct grp_proto *p);

/* Weight of cfg members (or old members) found in set[0..n). */
uint64_t grp_config_weight(const struct grp_member *m, uint32_t n_m, const struct grp_uuid *set,
			   uint32_t n);
int grp_config_find(const struct grp_config *c, const struct grp_uuid *u);
/*
 * For a joint configuration c: true when every weighted majority of its old half (c->old)
 * holds at least half the weight of its new half (c->m), as when a member joins with weight 0
 * or is given weight 1 in a group of weights 1; false for a change that replaces members, and
 * when c is not joint, a half weighs nothing or a half weighs more than GRP_MEMBERS_MAX *
 * GRP_WEIGHT_MAX. It is what lets a majority of the old half elect a leader on its own
 * (docs/internals/group-protocol.md, "Configurations").
 */
bool grp_config_old_covers_new(const struct grp_config *c);

#endif
