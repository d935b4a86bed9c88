/* SPDX-License-Identifier: MPL-2.0 */
/* The group's ordering, membership and quorum protocol as a pure state machine (Raft-based). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core_assert.h"
#include "core_fifo.h"
#include "core_log.h"
#include "grp_log.h"
#include "grp_proto.h"

#define PEERS_MAX (2 * GRP_MEMBERS_MAX) /* members plus joiners we know of */
#define ORIGINS_MAX 1024                /* submitters remembered for de-duplication */
#define PEND_BLOCK (256u << 10)         /* pend_store's blocks */
#define UNCOMMITTED_MAX 65536           /* entries a leader appends beyond its commit index */
#define SUBMIT_BYTES_MAX (1u << 20)     /* payload in one SUBMIT */
#define RESEND_MSGS_MAX 4               /* SUBMITs per resend round */
#define BATCH_BYTES_MAX (64u << 10)     /* par.batch: payload that goes without the flush */
#define PING_SLOW 5                     /* a primary member pings every 5 heartbeats */

enum role {
	ROLE_FOLLOWER = 1,
	ROLE_PRECANDIDATE = 2,
	ROLE_CANDIDATE = 3,
	ROLE_LEADER = 4,
};

struct peer {
	bool used;
	struct grp_member m;
	uint32_t weight; /* what it says of itself (a configuration may list it with 0) */
	uint64_t heard_ms; /* last message from it */
	bool link_down;    /* the transport says its link is closed */
	uint64_t down_ms;
	uint64_t ping_ms; /* last PING sent to it */
	/* From its last PING. */
	uint32_t ping_flags;
	uint64_t ping_applied;
	uint64_t ping_seq;
	/* The leader's record of it. */
	uint64_t next;
	uint64_t match;
	uint64_t sent_commit; /* the commit index our last APPEND to it let it reach */
	bool held; /* its link is busy: entries wait (see hold_back) */
	uint64_t ack_ms;
	uint32_t backlog;
	bool learner; /* asked to join; catching up before it is added */
	bool fc_learner; /* a learner that counts for flow control: see fc_member */
	uint64_t join_last; /* the log's last index when the learner began to catch up */
	uint64_t join_ms;
	bool leave; /* asked to be removed */
	uint64_t xfer_ms;
	bool cfg_due; /* sent an XFER: its next APPENDs carry the configuration at prev */
	/* A candidate's record of it. */
	bool granted;
	/* Its last PING as a restored node (GRP_PING_RECOVER); rec_on false: none since. */
	bool rec_on;
	bool rec_arb; /* an arbitrator is among the members it waits for */
	uint64_t rec_ms;
	uint64_t rec_index;
	uint64_t rec_seq;
	uint64_t rec_term;
	struct grp_uuid rec_vote;
	uint32_t n_rec;
	struct grp_uuid rec_req[GRP_MEMBERS_MAX]; /* the members it waits for (no arbitrator) */
};

struct origin {
	bool used;
	struct grp_uuid uuid;
	uint64_t applied_id; /* highest origin_id delivered */
	uint64_t last_id;    /* leader: highest origin_id in the log */
	uint64_t touch;      /* index where it was last seen, for eviction */
	uint8_t svc;         /* enum grp_svc_state, 0 = unknown */
};

struct pend {
	uint64_t id;
	uint8_t type;
	uint32_t len;
	uint8_t *data;
};

struct grp_proto {
	struct grp_params par;
	struct grp_member self;
	const struct grp_ops *ops;
	void *ctx;
	uint64_t now;
	uint64_t resumed_ms; /* when it last ran again after a gap (clock_to) */
	uint64_t rng;

	enum role role;
	uint64_t term;
	struct grp_uuid voted_for; /* nil: none this term */
	struct grp_uuid leader;    /* nil: unknown */
	uint64_t leader_ms;        /* last word from the leader of this term */
	uint64_t acked_term;       /* follower: the term of acked_match */
	uint64_t acked_match;      /* the highest index acked as matching to that term's leader */
	uint64_t election_at;
	uint64_t heartbeat_at;
	uint64_t quorum_at;
	uint64_t ping_at;
	uint64_t term_start; /* leader: index of its NOOP */
	bool no_quorum;      /* leader: a majority has not answered within election_ms */

	struct grp_log log;
	bool has_base; /* false: a joiner waiting for its starting point */
	uint64_t commit;
	uint64_t applied;
	uint64_t svc_seq; /* the service's position given at create (joiner's start) */

	const struct grp_config *cfg; /* in force: the last in the log, or cfg_done */
	uint64_t cfg_index;
	uint64_t cfg_ms; /* leader: when it appended the configuration in force */
	struct grp_config cfg_done; /* the last committed one */
	uint64_t cfg_done_index;

	bool view_sent;
	bool view_primary;
	uint64_t view_id;

	struct peer peers[PEERS_MAX];
	struct origin origins[ORIGINS_MAX];

	struct pend *pend; /* ring of submit_max */
	struct core_fifo pend_store; /* their data, in the ring's order */
	uint32_t pend_head;
	uint32_t pend_n;
	uint64_t pend_bytes;
	uint64_t batch_bytes; /* par.batch: payload submitted or taken since the last send */
	uint32_t pend_sent; /* follower: the first pend_sent went to a leader at least once */
	uint64_t next_id;
	uint64_t resend_at;

	bool paused;
	bool leader_no_quorum; /* follower: what the leader's last APPEND said */
	uint32_t backlog;
	bool leaving;
	bool left;
	bool xfer_pending;
	uint64_t xfer_ms;
	bool rebase_ok; /* arbitrator: the leader said (XFER) it is behind its cache */
	bool origins_stale; /* state transfer done, no CONFIG applied since: may not lead */
	bool cfg_stale;     /* back from a state transfer or a base move, and the configuration
			     * in force at its base unknown: no election (cfg_learn) */
	uint64_t abandoned; /* own submissions given up at a state transfer */
	uint64_t held_back; /* leader: a busy link held a follower's entries back */
	uint64_t dropped;
	struct core_ratelimit rl; /* for lines a peer's messages trigger */

	/* Durable state (ops->persist); see "Restart after every node crashed" in the docs. */
	struct grp_durable dur; /* as last persisted (restored: as read, until it rejoins) */
	bool dur_dirty;         /* a configuration or a vote changed: compare and persist */
	bool dur_removed;       /* persist(NULL) was the last call */
	bool rec;               /* restored, no base yet: waiting for the members in dur */
	bool novote;            /* restored: no vote until a CONFIG entry is delivered again */
	struct grp_position svc; /* the service's position at start (grp_proto_create) */
	struct grp_uuid rec_vote; /* the restored node it would follow (nil: not all back) */
	uint32_t rec_n;           /* restored: the members it waited for, kept in its */
	struct grp_member rec_m[GRP_MEMBERS_MAX]; /* state until it delivers a CONFIG entry */
	uint64_t rec_log_ms;      /* last "waiting for" line */
	uint64_t primary_ms;      /* when it was last primary */
	bool survivor_check;      /* a member of dur PINGed as restored: survivor_tick() looks */
	bool restart_due;         /* grp_proto_restart_due(): restart as a survivor */
	struct grp_position restart_svc; /* svc_at then */
	struct grp_position svc_at; /* the service's position: svc, or the last entry delivered
				     * or transferred to it */

	struct grp_msg *out; /* scratch for what we send */
};

static const struct grp_config empty_cfg;

void grp_params_default(struct grp_params *p)
{
	memset(p, 0, sizeof(*p));
	p->heartbeat_ms = 100;
	p->election_ms = 1000;
	p->suspect_ms = 3000;
	p->down_grace_ms = 200;
	p->resend_ms = 200;
	p->fc_limit = 1024;
	p->cache_bytes = 128u << 20;
	p->link_busy_bytes = 4u << 20;
	p->submit_max = 4096;
	p->submit_bytes = 16u << 20;
	p->weight = 1;
}

/*
 * Every call brings the caller's time. A gap between two calls longer than half an election
 * timeout means this node did not run meanwhile (a paused process, a stalled loop, a clock
 * step). It heard nothing in that time, and what it reads first after it may have waited
 * since before: a leader that judged its members at once would take the silent for dead and
 * those whose old messages waited for it for alive (see reconfigure). The runtime calls every
 * few ms, far below the gap.
 */
static void clock_to(struct grp_proto *p, uint64_t now_ms)
{
	if (now_ms <= p->now)
		return;
	if (now_ms - p->now > p->par.election_ms / 2) {
		CLOG_DEBUG("group: node %s did not run for %llu ms", p->self.name,
			   (unsigned long long)(now_ms - p->now));
		p->resumed_ms = now_ms;
	}
	p->now = now_ms;
}

/* splitmix64: the only randomness, seeded by the caller. */
static uint64_t rnd(struct grp_proto *p)
{
	uint64_t z = (p->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* ---- configurations and quorum ---- */

int grp_config_find(const struct grp_config *c, const struct grp_uuid *u)
{
	for (uint32_t i = 0; i < c->n; i++)
		if (grp_uuid_eq(&c->m[i].uuid, u))
			return (int)i;
	return -1;
}

static bool in_members(const struct grp_member *m, uint32_t n, const struct grp_uuid *u)
{
	for (uint32_t i = 0; i < n; i++)
		if (grp_uuid_eq(&m[i].uuid, u))
			return true;
	return false;
}

static bool is_member(const struct grp_config *c, const struct grp_uuid *u)
{
	return in_members(c->m, c->n, u) || in_members(c->old, c->n_old, u);
}

uint64_t grp_config_weight(const struct grp_member *m, uint32_t n_m, const struct grp_uuid *set,
			   uint32_t n)
{
	uint64_t w = 0;

	for (uint32_t i = 0; i < n_m; i++)
		for (uint32_t j = 0; j < n; j++)
			if (grp_uuid_eq(&m[i].uuid, &set[j])) {
				w += m[i].weight;
				break;
			}
	return w;
}

static uint64_t total_weight(const struct grp_member *m, uint32_t n)
{
	uint64_t w = 0;

	for (uint32_t i = 0; i < n; i++)
		w += m[i].weight;
	return w;
}

/* More than half the weight (more than half the members when every weight is 0). */
static bool majority(const struct grp_member *m, uint32_t n_m, const struct grp_uuid *set,
		     uint32_t n)
{
	uint64_t total = total_weight(m, n_m), have = grp_config_weight(m, n_m, set, n);
	uint32_t count = 0;

	if (total)
		return 2 * have > total;
	for (uint32_t i = 0; i < n_m; i++)
		for (uint32_t j = 0; j < n; j++)
			if (grp_uuid_eq(&m[i].uuid, &set[j])) {
				count++;
				break;
			}
	return 2 * count > n_m;
}

static bool quorum(const struct grp_config *c, const struct grp_uuid *set, uint32_t n)
{
	if (!c->n)
		return false;
	return majority(c->m, c->n, set, n) && (!c->n_old || majority(c->old, c->n_old, set, n));
}

/* The most weight a configuration may have for grp_config_old_covers_new() to check it. */
#define COVER_WEIGHT_MAX (GRP_MEMBERS_MAX * GRP_WEIGHT_MAX)

/*
 * A majority S of the old half leaves a minority T of it (twice T's old weight is below the
 * old total), and S's weight in the new half is the old half's new weight less T's. So the
 * lightest S is the complement of the minority heaviest in new weight: a knapsack over the
 * old weight, where best[s] is the most new weight a minority of old weight s holds (-1: no
 * such minority). Members of old weight 0 cost a minority nothing and go into every one. The
 * table is 8 KB with the limits of grp_types.h; this runs only when votes are counted, and for
 * a leader whose term has not begun to commit (exiting_joint).
 */
bool grp_config_old_covers_new(const struct grp_config *c)
{
	int16_t best[COVER_WEIGHT_MAX / 2 + 1];
	uint64_t old_total = total_weight(c->old, c->n_old), new_total = total_weight(c->m, c->n);
	uint64_t cap, held = 0, free_held = 0;
	int most = 0;

	if (!c->n_old || !old_total || !new_total || old_total > COVER_WEIGHT_MAX ||
	    new_total > COVER_WEIGHT_MAX)
		return false;
	cap = (old_total - 1) / 2;
	best[0] = 0;
	for (uint64_t s = 1; s <= cap; s++)
		best[s] = -1;
	for (uint32_t i = 0; i < c->n_old; i++) {
		int k = grp_config_find(c, &c->old[i].uuid);
		uint32_t w = c->old[i].weight, v = k < 0 ? 0 : c->m[k].weight;

		held += v;
		if (!w)
			free_held += v;
		for (uint64_t s = cap; w && s >= w; s--)
			if (best[s - w] >= 0 && best[s - w] + (int)v > best[s])
				best[s] = (int16_t)(best[s - w] + (int)v);
	}
	for (uint64_t s = 0; s <= cap; s++)
		if (best[s] > most)
			most = best[s];
	return 2 * (held - free_held - (uint64_t)most) >= new_total;
}

/*
 * The joint-configuration exit (docs/internals/group-protocol.md, "Configurations"). A
 * candidate whose configuration in force is joint (its log lacks the C_new that follows), or
 * is that C_new not known to be committed, is elected without a quorum of it by votes that are
 * a majority of the joint configuration's old half and hold at least half its new half's
 * weight, provided every majority of the old half holds that much (grp_config_old_covers_new:
 * a member joined with weight 0 or given weight 1, one removed from members of equal weight;
 * not a change that replaces members). Without it a group whose leader died in the middle of a
 * change, along with a member the new half kept, could elect nobody although a majority of the
 * old half lived. Safe because every commit set meets these votes, so the candidate holds
 * every committed entry (Raft's argument): a commit under C_new alone, or under a joint
 * configuration over it, had more than half the new half; one under the old configuration or
 * a joint one over the same old half a majority of the old half. The half of the new half
 * follows from the other two; it is what meets the first kind. c is what exit_config()
 * returns: NULL when the exit does not apply.
 */
static bool joint_exit_quorum(const struct grp_config *c, const struct grp_uuid *set, uint32_t n)
{
	return c && majority(c->old, c->n_old, set, n) &&
	       2 * grp_config_weight(c->m, c->n, set, n) >= total_weight(c->m, c->n);
}

/* ---- peers ---- */

static struct peer *peer_find(struct grp_proto *p, const struct grp_uuid *u)
{
	for (size_t i = 0; i < PEERS_MAX; i++)
		if (p->peers[i].used && grp_uuid_eq(&p->peers[i].m.uuid, u))
			return &p->peers[i];
	return NULL;
}

/*
 * Finds or adds a peer. When the table is full, the peer we heard from longest ago that is
 * neither in the configuration nor a learner makes room; NULL if there is none.
 */
static struct peer *peer_get(struct grp_proto *p, const struct grp_member *m)
{
	struct peer *pe = peer_find(p, &m->uuid), *victim = NULL;

	if (pe) {
		if (m->name[0])
			pe->m = *m;
		return pe;
	}
	if (grp_uuid_eq(&m->uuid, &p->self.uuid) || grp_uuid_is_nil(&m->uuid))
		return NULL;
	for (size_t i = 0; i < PEERS_MAX; i++) {
		struct peer *c = &p->peers[i];

		if (!c->used) {
			victim = c;
			break;
		}
		if (c->learner || is_member(p->cfg, &c->m.uuid))
			continue;
		if (!victim || c->heard_ms < victim->heard_ms)
			victim = c;
	}
	if (!victim)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->used = true;
	victim->m = *m;
	victim->weight = m->weight;
	victim->heard_ms = p->now;
	victim->ack_ms = p->now;
	if (p->ops->learn)
		p->ops->learn(p->ctx, m);
	return victim;
}

/* ---- origins (de-duplication of submissions) ---- */

static struct origin *origin_get(struct grp_proto *p, const struct grp_uuid *u, bool create)
{
	struct origin *victim = NULL;

	for (size_t i = 0; i < ORIGINS_MAX; i++) {
		struct origin *o = &p->origins[i];

		if (o->used && grp_uuid_eq(&o->uuid, u))
			return o;
		if (!create)
			continue;
		if (!o->used) {
			if (!victim || victim->used)
				victim = o;
		} else if (!is_member(p->cfg, &o->uuid) &&
			   (!victim || (victim->used && o->touch < victim->touch))) {
			victim = o;
		}
	}
	if (!victim)
		return NULL;
	memset(victim, 0, sizeof(*victim));
	victim->used = true;
	victim->uuid = *u;
	return victim;
}

/* ---- sending ---- */

static void dur_update(struct grp_proto *p);
static void rec_tick(struct grp_proto *p);
static void survivor_tick(struct grp_proto *p);
static bool dur_has(const struct grp_durable *d, const struct grp_uuid *u);
static bool rec_fresh(const struct grp_proto *p, const struct peer *pe);

static void send_to(struct grp_proto *p, const struct grp_uuid *to, uint8_t type)
{
	dur_update(p); /* nothing leaves before the state it depends on is on disk */
	p->out->type = type;
	p->out->from = p->self;
	p->out->term = p->term;
	p->ops->send(p->ctx, to, p->out);
}

static bool leader_fresh(const struct grp_proto *p);
static bool is_primary(const struct grp_proto *p);
static void quorum_check(struct grp_proto *p);

static void send_ping(struct grp_proto *p, struct peer *pe, uint32_t extra)
{
	struct grp_msg *o = p->out;
	uint32_t n = 0;

	memset(&o->u.ping, 0, sizeof(o->u.ping));
	/* A leaving node cut off before its submissions were ordered asks back in for them. */
	if (!p->left && (!is_primary(p) || !is_member(p->cfg, &p->self.uuid)))
		o->u.ping.flags |= GRP_PING_JOIN;
	if (p->leaving && !p->pend_n)
		o->u.ping.flags |= GRP_PING_LEAVE;
	if (p->origins_stale)
		o->u.ping.flags |= GRP_PING_STALE;
	if (is_primary(p))
		o->u.ping.flags |= GRP_PING_PRIMARY;
	o->u.ping.flags |= extra;
	o->u.ping.leader = p->leader;
	o->u.ping.applied = p->has_base ? p->applied : GRP_NO_BASE;
	o->u.ping.seq = p->has_base ? p->log.base_seq : p->svc_seq;
	if (p->has_base)
		grp_log_seq(&p->log, p->applied, &o->u.ping.seq);
	o->u.ping.backlog = p->backlog;
	for (uint32_t i = 0; i < p->cfg->n && n < GRP_MEMBERS_MAX; i++)
		o->u.ping.peers[n++] = p->cfg->m[i];
	if (p->rec) {
		/* Restored: who we wait for, whom we would follow, where our service is. */
		o->u.ping.flags |= GRP_PING_RECOVER;
		o->u.ping.leader = p->rec_vote;
		o->u.ping.rec_index = p->svc.index;
		for (n = 0; n < p->dur.n; n++)
			o->u.ping.peers[n] = p->dur.m[n];
	}
	o->u.ping.n_peers = n;
	pe->ping_ms = p->now;
	send_to(p, &pe->m.uuid, GRP_MSG_PING);
}

static bool is_arbitrator(const struct grp_member *m)
{
	return m->flags & GRP_MEMBER_ARBITRATOR;
}

static bool has_data_member(const struct grp_member *m, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (!is_arbitrator(&m[i]))
			return true;
	return false;
}

/*
 * A member that has the state, for a joiner's transfer: a synced non-leader whose service
 * reaches the cache if there is one, else the leader itself. An arbitrator has no state to give: when the leader is one, it
 * names a live data member in whatever state (as a data leader names itself), else a data
 * joiner that caught up, or NULL when there is none.
 */
static const struct grp_member *pick_donor(struct grp_proto *p, const struct grp_uuid *joiner)
{
	const struct grp_member *fallback = is_arbitrator(&p->self) ? NULL : &p->self;

	for (uint32_t i = 0; i < p->cfg->n; i++) {
		const struct grp_member *m = &p->cfg->m[i];
		struct peer *pe = peer_find(p, &m->uuid);
		struct origin *o = origin_get(p, &m->uuid, false);

		if (grp_uuid_eq(&m->uuid, joiner) || grp_uuid_eq(&m->uuid, &p->self.uuid) || !pe ||
		    is_arbitrator(m) || is_arbitrator(&pe->m))
			continue;
		if (pe->link_down || p->now - pe->ack_ms >= p->par.election_ms)
			continue;
		/*
		 * Its service must reach our cache (what its PINGs say it applied): the joiner
		 * goes on from the donor's position. One that delivered nothing for a while (not
		 * primary) handed the same old state over and over (simulator, 5 nodes, seed
		 * 2766); then we are the donor.
		 */
		if (pe->ping_applied == GRP_NO_BASE || pe->ping_applied + 1 < p->log.first)
			continue;
		if (!o || !o->svc || o->svc == GRP_SVC_SYNCED)
			return m;
		if (!fallback)
			fallback = m;
	}
	/* A joiner that caught up from the cache holds the state too (the data member of a
	 * two-node group with an arbitrator that came back while the other was behind). */
	for (size_t i = 0; i < PEERS_MAX && !fallback; i++) {
		const struct peer *pe = &p->peers[i];

		if (pe->used && pe->learner && pe->match && pe->match >= p->commit &&
		    !is_arbitrator(&pe->m) && !grp_uuid_eq(&pe->m.uuid, joiner) &&
		    !pe->link_down && p->now - pe->ack_ms < p->par.election_ms)
			fallback = &pe->m;
	}
	return fallback;
}

static void send_xfer(struct grp_proto *p, struct peer *pe)
{
	const struct grp_member *donor;

	if (pe->xfer_ms && p->now - pe->xfer_ms < p->par.election_ms)
		return;
	pe->xfer_ms = p->now;
	donor = pick_donor(p, &pe->m.uuid);
	if (!donor) {
		CLOG_RL(&p->rl, (int64_t)p->now, CORE_LOG_WARN,
			"group: leader %s (an arbitrator) has no member to name as donor for %s",
			p->self.name, pe->m.name);
		return; /* asked again after election_ms, when a data member may be back */
	}
	p->out->u.xfer.donor = *donor;
	p->out->u.xfer.first_index = p->log.first;
	send_to(p, &pe->m.uuid, GRP_MSG_XFER);
	pe->cfg_due = true;
}

/* Bytes the transport holds for a node and has not written yet (grp_ops.queued). */
static uint64_t link_queued(const struct grp_proto *p, const struct grp_uuid *to)
{
	return p->ops->queued ? p->ops->queued(p->ctx, to) : 0;
}

/* Answers in time over an open link: the members the cache and flow control wait for. */
static bool peer_live(const struct grp_proto *p, const struct peer *pe)
{
	return !pe->link_down && p->now - pe->ack_ms < p->par.election_ms;
}

/* Entries a follower lacks that the leader has not handed to its link yet. */
static uint64_t unsent(const struct grp_proto *p, const struct peer *pe)
{
	return pe->next <= p->log.last ? p->log.last + 1 - pe->next : 0;
}

/*
 * A peer flow control waits for: a member of the configuration that is not desynced, or a
 * learner that came within fc_limit of the log or replayed everything the log held when it
 * began to catch up, and answered within two heartbeats (one that stopped, or a dead
 * incarnation of a restarted node, must not hold the group for suspect_ms as a member does
 * until it is removed). Without the learners, a joiner whose service applies more slowly than
 * the group submits never catches up with what the leader committed, and is never added;
 * counted, it holds the group back until it can be, as Galera's joined node does with what it
 * queued during its IST. Not while it replays what the log held when it came: the group would
 * wait for the whole replay.
 */
static bool fc_member(struct grp_proto *p, const struct peer *pe)
{
	struct origin *o;

	if (!pe->used)
		return false;
	if (!is_member(p->cfg, &pe->m.uuid))
		return pe->learner && pe->fc_learner && !pe->leave && !pe->link_down &&
		       p->now - pe->ack_ms < 2 * (uint64_t)p->par.heartbeat_ms;
	o = origin_get(p, &pe->m.uuid, false);
	return !o || o->svc != GRP_SVC_DESYNCED;
}

/*
 * What a busy link held back from pe counts for flow control while pe's link is open and it
 * answered within suspect_ms (longer, it is removed as dead): a member that is merely slow, or
 * stopped for a moment, holds the group back rather than being left behind the cache.
 */
static uint64_t held_queue(const struct grp_proto *p, const struct peer *pe)
{
	if (!pe->held || pe->link_down || p->now - pe->ack_ms >= p->par.suspect_ms)
		return 0;
	return unsent(p, pe);
}

/*
 * Leader: pe's link holds link_busy_bytes or more that it has not written (a slow or stopped
 * reader): it is sent no new entries until that drains (grp_proto_flush() and each heartbeat
 * look again). What it lacks waits in the log; once more than fc_limit entries wait for a
 * member (held_queue), flow control pauses submissions, so the log stops growing for it. Closing the
 * link instead would remove a member that is merely slow.
 */
static void hold_back(struct grp_proto *p, struct peer *pe)
{
	if (!pe->held) {
		pe->held = true;
		p->held_back++;
		CLOG_DEBUG("group: leader %s holds entries back from %s: its link is busy",
			   p->self.name, pe->m.name);
	}
	if (!p->paused && held_queue(p, pe) > p->par.fc_limit && fc_member(p, pe)) {
		CLOG_INFO("group: flow control pauses submissions (%s lags %llu entries on a "
			  "busy link)", pe->m.name, (unsigned long long)unsent(p, pe));
		p->paused = true;
	}
}

/*
 * The prev of an APPEND without entries. While the transport holds bytes for pe, it may write
 * this one before queued APPENDs with entries (grp_ops.queued): then prev is what pe acked,
 * which it holds whatever arrives first. (Naming next - 1 there, pe would refuse it and the
 * leader would send everything queued again.) Otherwise next - 1, which also probes where a
 * follower is after an election.
 */
static uint64_t empty_prev(const struct grp_proto *p, const struct peer *pe, uint64_t queued)
{
	uint64_t t;

	if (queued && pe->match < pe->next - 1 && grp_log_term(&p->log, pe->match, &t))
		return pe->match;
	return pe->next - 1;
}

/*
 * Leader: to a follower that came back without its configuration (a state transfer, an
 * arbitrator's base move: it says GRP_PING_STALE, or we sent it an XFER), an APPEND carries the
 * configuration in force at prev, which it takes when prev is where its log starts
 * (cfg_learn). We know it for prev between our last applied configuration and our last applied
 * entry. Before that, a configuration we applied later follows prev in the stream and the
 * follower applies it soon; after, prev may not be committed.
 */
static void append_cfg(struct grp_proto *p, const struct peer *pe, uint64_t prev)
{
	bool due = pe->cfg_due || (pe->ping_flags & GRP_PING_STALE);

	p->out->u.append.cfg = NULL;
	p->out->u.append.cfg_index = 0;
	if (!due || !p->cfg_done_index || prev < p->cfg_done_index || prev > p->applied)
		return;
	p->out->u.append.cfg = &p->cfg_done;
	p->out->u.append.cfg_index = p->cfg_done_index;
}

/*
 * Leader: the next entries pe lacks, pipelined (next moves on at once), or an APPEND without
 * entries: always when heartbeat (it keeps pe's election timer quiet), otherwise only when it
 * lets pe reach a higher commit index. A busy link gets no entries (hold_back).
 */
static void send_append(struct grp_proto *p, struct peer *pe, bool heartbeat)
{
	struct grp_msg *o = p->out;
	uint64_t prev, bytes = 0, queued;
	uint32_t n = 0, cfgs = 0;
	bool hold, entries;

	if (pe->next > p->log.last + 1)
		pe->next = p->log.last + 1;
	queued = link_queued(p, &pe->m.uuid);
	hold = pe->next <= p->log.last && queued >= p->par.link_busy_bytes;
	if (hold) {
		hold_back(p, pe);
		if (!heartbeat)
			return;
	} else {
		pe->held = false;
	}
	/*
	 * An arbitrator behind the cache needs no state transfer: an XFER tells it so, and it is
	 * sent the cache from its base, a committed position (base <= applied <= commit), where
	 * it moves its own base (arbitrator_rebase).
	 */
	if (!hold && pe->next < p->log.first && is_arbitrator(&pe->m)) {
		p->out->u.xfer.donor = p->self;
		p->out->u.xfer.first_index = p->log.first;
		send_to(p, &pe->m.uuid, GRP_MSG_XFER);
		pe->next = p->log.first;
		pe->cfg_due = true;
	}
	entries = !hold && pe->next <= p->log.last;
	prev = entries ? pe->next - 1 : empty_prev(p, pe, queued);
	if (!grp_log_term(&p->log, prev, &o->u.append.prev_term) ||
	    !grp_log_seq(&p->log, prev, &o->u.append.prev_seq)) {
		if (!hold)
			send_xfer(p, pe);
		return;
	}
	while (entries && prev + 1 + n <= p->log.last && n < GRP_ENTRIES_PER_MSG &&
	       bytes < GRP_PROTO_APPEND_BYTES_MAX) {
		grp_log_entry(&p->log, prev + 1 + n, &o->u.append.e[n]);
		if (o->u.append.e[n].cfg && ++cfgs > GRP_CFGS_PER_MSG)
			break;
		bytes += o->u.append.e[n].len;
		n++;
	}
	if (!n && !heartbeat && (p->applied < prev ? p->applied : prev) <= pe->sent_commit)
		return; /* it would tell pe nothing new */
	o->u.append.prev_index = prev;
	/*
	 * Only what this leader delivered itself: a follower or a learner must never deliver an
	 * entry that no member did, or a restart after every node crashed (which goes on from
	 * the furthest member) could lose it.
	 */
	o->u.append.commit = p->applied;
	/* pe takes the commit index only as far as the entries it holds (on_append) */
	pe->sent_commit = p->applied < prev + n ? p->applied : prev + n;
	o->u.append.n = n;
	o->u.append.paused = p->paused;
	o->u.append.no_quorum = p->no_quorum;
	append_cfg(p, pe, prev);
	send_to(p, &pe->m.uuid, GRP_MSG_APPEND);
	if (n)
		pe->next = prev + n + 1;
}

/* Leader: the peers it replicates to: members of the configuration in force, and learners. */
static bool is_target(const struct grp_proto *p, const struct peer *pe)
{
	return pe->used && (pe->learner || is_member(p->cfg, &pe->m.uuid));
}

static void replicate(struct grp_proto *p, bool heartbeat)
{
	for (size_t i = 0; i < PEERS_MAX; i++) {
		struct peer *pe = &p->peers[i];

		if (is_target(p, pe) && (heartbeat || pe->next <= p->log.last))
			send_append(p, pe, heartbeat);
	}
}

/*
 * Follower: up to msgs_max SUBMITs of pending submissions from the from-th on. None while the
 * link to the leader is busy (back-pressure, as for the leader's APPENDs): they wait in the
 * pending ring (submit_max) and go out from grp_proto_flush() once it drained.
 */
static void send_submits(struct grp_proto *p, uint32_t from, uint32_t msgs_max)
{
	struct grp_msg *o = p->out;
	uint32_t i = from;

	if (grp_uuid_is_nil(&p->leader) || grp_uuid_eq(&p->leader, &p->self.uuid) ||
	    link_queued(p, &p->leader) >= p->par.link_busy_bytes)
		return;
	/* Every id below head was delivered to us or given up at a state transfer. */
	o->u.submit.head = p->pend_n ? p->pend[p->pend_head].id : p->next_id + 1;
	o->u.submit.applied = p->applied;
	for (uint32_t k = 0; k < msgs_max && i < p->pend_n; k++) {
		uint64_t bytes = 0;
		uint32_t n = 0;

		while (i < p->pend_n && n < GRP_SUBMITS_PER_MSG && bytes < SUBMIT_BYTES_MAX) {
			const struct pend *pd = &p->pend[(p->pend_head + i) % p->par.submit_max];

			o->u.submit.s[n].origin_id = pd->id;
			o->u.submit.s[n].type = pd->type;
			o->u.submit.s[n].len = pd->len;
			o->u.submit.s[n].data = pd->data;
			bytes += pd->len;
			n++;
			i++;
		}
		o->u.submit.n = n;
		send_to(p, &p->leader, GRP_MSG_SUBMIT);
	}
	if (i > p->pend_sent)
		p->pend_sent = i;
}

/*
 * With par.batch, whether what was just submitted (or a leader took from a SUBMIT), len bytes,
 * may wait for grp_proto_flush(), which sends the whole batch at once: one SUBMIT, one APPEND
 * per follower, instead of one per message. Not once BATCH_BYTES_MAX waits: large messages go
 * as they come, so that the link writes while the batch goes on (10 KiB floods fell from about
 * 47,000 to 30,000 msg/s when a whole batch waited). Without par.batch, never.
 */
static bool batched(struct grp_proto *p, uint64_t len)
{
	if (!p->par.batch)
		return false;
	p->batch_bytes += len;
	if (p->batch_bytes < BATCH_BYTES_MAX)
		return true;
	p->batch_bytes = 0;
	return false;
}

/* ---- configuration in force ---- */

static struct peer *peer_get(struct grp_proto *p, const struct grp_member *m);

/* Every member gets a peer record, so that the leader can track it. */
static void cfg_set(struct grp_proto *p, const struct grp_config *c, uint64_t index)
{
	p->cfg = c;
	p->cfg_index = index;
	p->dur_dirty = true;
	for (uint32_t i = 0; i < c->n + c->n_old; i++)
		peer_get(p, i < c->n ? &c->m[i] : &c->old[i - c->n]);
}

/* After a truncation: the last configuration still in the log, or the committed one. */
static void cfg_refresh(struct grp_proto *p)
{
	uint64_t i;

	if (p->cfg == &p->cfg_done || p->cfg == &empty_cfg ||
	    (grp_log_has(&p->log, p->cfg_index) &&
	     grp_log_at(&p->log, p->cfg_index)->cfg == p->cfg))
		return;
	for (i = p->log.last; i > p->commit && grp_log_has(&p->log, i); i--) {
		struct grp_log_ent *e = grp_log_at(&p->log, i);

		if (e->type == GRP_ENTRY_CONFIG) {
			cfg_set(p, e->cfg, i);
			return;
		}
	}
	cfg_set(p, p->cfg_done_index ? &p->cfg_done : &empty_cfg, p->cfg_done_index);
}

/* The same members with the same weights, in the same order (a C_new is its joint's m[]). */
static bool same_members(const struct grp_member *a, uint32_t na, const struct grp_member *b,
			 uint32_t nb)
{
	if (na != nb)
		return false;
	for (uint32_t i = 0; i < na; i++)
		if (!grp_uuid_eq(&a[i].uuid, &b[i].uuid) || a[i].weight != b[i].weight)
			return false;
	return true;
}

/*
 * The configuration before the one in force: the last CONFIG entry before it that is not
 * applied yet, else the last one applied (none lies between the two, and the log keeps every
 * entry it has not applied). NULL when the one in force is the last applied. The scan covers
 * the entries between what this node applied and the configuration in force; for a C_new not
 * committed (the only caller) that is what its leader appended before the joint entry committed
 * (at most UNCOMMITTED_MAX), and nothing once the joint entry is applied.
 */
static const struct grp_config *cfg_before(const struct grp_proto *p)
{
	for (uint64_t i = p->cfg_index - 1; i > p->applied && grp_log_has(&p->log, i); i--) {
		const struct grp_log_ent *e = grp_log_at(&p->log, i);

		if (e->type == GRP_ENTRY_CONFIG)
			return e->cfg;
	}
	return p->cfg_done_index && p->cfg_done_index < p->cfg_index ? &p->cfg_done : NULL;
}

/*
 * The joint configuration this node may get out of by its old half (joint_exit_quorum,
 * reconfigure): the configuration in force when it is joint and every majority of its old half
 * holds half its new half (grp_config_old_covers_new); or, when the one in force is a C_new not
 * known to be committed, the joint configuration before it whose new half it is, if that one
 * covers. The C_new then stands for it: every decision it could have taken needed more than
 * half of that new half, as under the joint configuration itself (see joint_exit_quorum). NULL
 * otherwise. Costs a knapsack (grp_config_old_covers_new) and, for a C_new, cfg_before().
 */
static const struct grp_config *exit_config(const struct grp_proto *p)
{
	const struct grp_config *j;

	if (p->cfg->n_old)
		return grp_config_old_covers_new(p->cfg) ? p->cfg : NULL;
	if (!p->cfg->n || p->cfg_index <= p->commit)
		return NULL;
	j = cfg_before(p);
	if (!j || !j->n_old || !same_members(j->m, j->n, p->cfg->m, p->cfg->n) ||
	    !grp_config_old_covers_new(j))
		return NULL;
	return j;
}

/* ---- views ---- */

static bool leader_fresh(const struct grp_proto *p)
{
	const struct peer *pe;

	if (p->role == ROLE_LEADER)
		return true;
	if (grp_uuid_is_nil(&p->leader) || p->now - p->leader_ms >= p->par.election_ms)
		return false;
	pe = peer_find((struct grp_proto *)p, &p->leader);
	return !(pe && pe->link_down);
}

/*
 * In the primary component: receiving the stream a leader with a quorum orders. That includes
 * a joiner still catching up before it is added (a Raft learner), as Galera's joiner receives
 * its incremental transfer after it is in the primary view.
 */
static bool is_primary(const struct grp_proto *p)
{
	if (!p->has_base)
		return false;
	if (p->role == ROLE_LEADER)
		return (is_member(p->cfg, &p->self.uuid) || is_member(&p->cfg_done, &p->self.uuid)) &&
		       p->commit >= p->term_start && !p->no_quorum;
	return leader_fresh(p) && !p->leader_no_quorum;
}

static void view_update(struct grp_proto *p)
{
	bool primary = is_primary(p);

	if (p->view_sent && primary == p->view_primary && p->view_id == p->cfg_done_index)
		return;
	if (!p->view_sent && !primary && !p->cfg_done_index)
		return;
	if (!p->cfg_done_index && p->role == ROLE_LEADER && !p->applied)
		return; /* bootstrapping: the first view is that of its configuration entry */
	p->view_sent = true;
	p->view_primary = primary;
	p->view_id = p->cfg_done_index;
	p->ops->view(p->ctx, p->view_id, &p->cfg_done, grp_config_find(&p->cfg_done, &p->self.uuid),
		     primary);
}

/* ---- roles ---- */

static void election_reset(struct grp_proto *p)
{
	p->election_at = p->now + p->par.election_ms + rnd(p) % p->par.election_ms;
}

static void become_follower(struct grp_proto *p, uint64_t term, const struct grp_uuid *leader)
{
	bool new_leader = !grp_uuid_eq(&p->leader, leader);

	if (term > p->term) {
		p->term = term;
		memset(&p->voted_for, 0, sizeof(p->voted_for));
	}
	if (p->role != ROLE_FOLLOWER)
		CLOG_DEBUG("group: node %s follows in term %llu", p->self.name,
			   (unsigned long long)p->term);
	p->role = ROLE_FOLLOWER;
	p->leader = *leader;
	if (new_leader && !grp_uuid_is_nil(leader))
		p->resend_at = p->now; /* send what the old leader may have lost */
}

static int append_local(struct grp_proto *p, uint8_t type, const struct grp_uuid *origin,
			uint64_t origin_id, const void *data, uint32_t len,
			const struct grp_config *cfg);

/* Leader: a configuration entry carries each member's last origin_id (see grp_types.h). */
static void append_config(struct grp_proto *p, struct grp_config *c)
{
	for (uint32_t i = 0; i < c->n + c->n_old; i++) {
		struct grp_member *m = i < c->n ? &c->m[i] : &c->old[i - c->n];
		struct origin *o = origin_get(p, &m->uuid, false);

		m->origin_last = o ? o->last_id : 0;
	}
	p->cfg_ms = p->now;
	(void)append_local(p, GRP_ENTRY_CONFIG, &p->self.uuid, 0, NULL, 0, c);
}

/* Leader: remembers, from its log, the last submission of every origin. */
static void origins_rebuild(struct grp_proto *p)
{
	for (size_t i = 0; i < ORIGINS_MAX; i++)
		p->origins[i].last_id = p->origins[i].applied_id;
	for (uint64_t i = p->applied + 1; i <= p->log.last; i++) {
		struct grp_log_ent *e = grp_log_at(&p->log, i);
		struct origin *o;

		if (e->type != GRP_ENTRY_DATA && e->type != GRP_ENTRY_STATE)
			continue;
		o = origin_get(p, &e->origin, true);
		if (o && e->origin_id > o->last_id)
			o->last_id = e->origin_id;
	}
}

/* Leader: takes one submission unless it is a duplicate or out of order. */
static bool leader_take(struct grp_proto *p, const struct grp_uuid *origin, uint64_t id,
			uint8_t type, const void *data, uint32_t len)
{
	struct origin *o = origin_get(p, origin, true);
	uint64_t at;

	/* In order, one after another: a gap (a reordered or lost SUBMIT) waits for the resend. */
	if (!o || id != o->last_id + 1)
		return false;
	if (p->log.last - p->commit >= UNCOMMITTED_MAX)
		return false;
	at = p->log.last + 1;
	if (append_local(p, type, origin, id, data, len, NULL) < 0)
		return false; /* out of memory: the resend tries again */
	o->last_id = id;
	o->touch = at;
	return true;
}

/*
 * Leader: a submitter whose next id is beyond what we know of it. Every id below head was
 * delivered to it, hence committed, or given up at its state transfer (and then never taken
 * again, being below what we go on after). If it has delivered everything up to our cache's start,
 * any of its ids committed before that is below head, and those after it are in our log: so
 * we can go on after the larger of head - 1 and the last of its ids in our log. (We lack its
 * history when we came in by a state transfer or a join after its submissions, and it was not
 * a member when a CONFIG entry could have told us.)
 */
static void origin_catch_up(struct grp_proto *p, const struct grp_member *from, uint64_t head,
			    uint64_t applied)
{
	struct origin *o = origin_get(p, &from->uuid, true);
	uint64_t last;

	if (!o || !head || o->last_id + 1 >= head || applied + 1 < p->log.first)
		return;
	last = head - 1;
	for (uint64_t i = p->log.first; i <= p->log.last; i++) {
		const struct grp_log_ent *e = grp_log_at(&p->log, i);

		if ((e->type == GRP_ENTRY_DATA || e->type == GRP_ENTRY_STATE) &&
		    grp_uuid_eq(&e->origin, &from->uuid) && e->origin_id > last)
			last = e->origin_id;
	}
	CLOG_RL(&p->rl, (int64_t)p->now, CORE_LOG_INFO,
		"group: leader %s learns that %s goes on after %llu", p->self.name, from->name,
		(unsigned long long)last);
	o->last_id = last;
}

/*
 * Leader: appends its own submissions that are not in the log yet. By id, not by position:
 * an append may commit at once and so shrink the pending ring under us.
 */
static void take_own_pending(struct grp_proto *p)
{
	/* Our own history too may have come by a state transfer. */
	origin_catch_up(p, &p->self, p->pend_n ? p->pend[p->pend_head].id : p->next_id + 1,
			p->applied);
	while (p->pend_n) {
		struct origin *o = origin_get(p, &p->self.uuid, true);
		uint64_t want, head_id = p->pend[p->pend_head].id;
		const struct pend *pd;

		if (!o)
			return;
		want = o->last_id + 1;
		if (want < head_id || want - head_id >= p->pend_n)
			return;
		pd = &p->pend[(p->pend_head + (want - head_id)) % p->par.submit_max];
		if (!leader_take(p, &p->self.uuid, pd->id, pd->type, pd->data, pd->len))
			return;
	}
}

static void become_leader(struct grp_proto *p)
{
	CLOG_INFO("group: node %s leads term %llu", p->self.name, (unsigned long long)p->term);
	p->role = ROLE_LEADER;
	p->leader = p->self.uuid;
	for (size_t i = 0; i < PEERS_MAX; i++) {
		struct peer *pe = &p->peers[i];

		pe->next = p->log.last + 1;
		pe->match = 0;
		pe->ack_ms = p->now;
		pe->learner = false;
		pe->fc_learner = false;
		pe->leave = false;
		pe->held = false;
	}
	p->paused = false;
	p->no_quorum = false;
	p->heartbeat_at = p->now;
	p->quorum_at = p->now + p->par.election_ms;
	(void)append_local(p, GRP_ENTRY_NOOP, &p->self.uuid, 0, NULL, 0, NULL);
	p->term_start = p->log.last;
	origins_rebuild(p);
	take_own_pending(p);
}

/* ---- applying committed entries ---- */

static void pend_done(struct grp_proto *p, uint64_t id)
{
	while (p->pend_n && p->pend[p->pend_head].id <= id) {
		if (p->pend[p->pend_head].len)
			core_fifo_pop_front(&p->pend_store, p->pend[p->pend_head].data);
		p->pend[p->pend_head].data = NULL;
		p->pend_bytes -= p->pend[p->pend_head].len;
		p->pend_head = (p->pend_head + 1) % p->par.submit_max;
		p->pend_n--;
		if (p->pend_sent)
			p->pend_sent--;
		p->resend_at = p->now + p->par.resend_ms;
	}
}

static void apply_config(struct grp_proto *p, const struct grp_entry *e)
{
	p->cfg_done = *e->cfg;
	p->cfg_done_index = e->index;
	p->origins_stale = p->cfg_stale = false;
	/*
	 * A restored node holds everything up to here, received since it restarted, once the
	 * CONFIG entry is past what its service had applied: not one its service applied before,
	 * sent again (its process before may have acked entries after it).
	 */
	if (e->index > p->svc.index)
		p->novote = false;
	p->dur_dirty = true;
	for (uint32_t i = 0; i < e->cfg->n + e->cfg->n_old; i++) {
		const struct grp_member *m = i < e->cfg->n ? &e->cfg->m[i]
							   : &e->cfg->old[i - e->cfg->n];
		struct origin *o = origin_get(p, &m->uuid, true);

		if (o && m->origin_last > o->applied_id)
			o->applied_id = m->origin_last;
		if (o && m->origin_last > o->last_id)
			o->last_id = m->origin_last;
		if (grp_uuid_eq(&m->uuid, &p->self.uuid))
			pend_done(p, m->origin_last);
	}
	/* The log entry may be evicted now that it is applied: use the copy. */
	if (p->cfg_index <= e->index)
		cfg_set(p, &p->cfg_done, e->index);
}

/* After a configuration is delivered, the leader moves the change on. */
static void leader_after_config(struct grp_proto *p, const struct grp_entry *e)
{
	if (p->role != ROLE_LEADER || p->cfg_index != e->index)
		return;
	if (e->cfg->n_old) {
		struct grp_config c = *e->cfg;

		c.n_old = 0;
		append_config(p, &c);
	} else if (!is_member(e->cfg, &p->self.uuid)) {
		CLOG_INFO("group: node %s is out of the configuration; steps down", p->self.name);
		p->role = ROLE_FOLLOWER;
		memset(&p->leader, 0, sizeof(p->leader));
	}
}

static void apply_one(struct grp_proto *p, const struct grp_entry *e)
{
	struct origin *o;

	switch (e->type) {
	case GRP_ENTRY_DATA:
	case GRP_ENTRY_STATE:
		o = origin_get(p, &e->origin, true);
		if (o) {
			if (e->origin_id > o->applied_id)
				o->applied_id = e->origin_id;
			o->touch = e->index;
			if (e->type == GRP_ENTRY_STATE)
				o->svc = e->data[0];
		}
		if (grp_uuid_eq(&e->origin, &p->self.uuid))
			pend_done(p, e->origin_id);
		break;
	case GRP_ENTRY_CONFIG:
		apply_config(p, e);
		break;
	default:
		break;
	}
	p->ops->deliver(p->ctx, e);
	p->svc_at = (struct grp_position){.index = e->index, .term = e->term, .seq = e->seq};
	if (e->type == GRP_ENTRY_STATE && p->ops->member_state)
		p->ops->member_state(p->ctx, &e->origin, e->data[0]);
	if (e->type == GRP_ENTRY_CONFIG) {
		if (!is_member(e->cfg, &p->self.uuid) && p->leaving)
			p->left = true;
		view_update(p);
		leader_after_config(p, e);
	}
}

/*
 * How far the cache may be trimmed: what this node delivered; a leader also keeps what a live
 * member has not acked yet, unless that holds more than twice the budget. A leader that is an
 * arbitrator keeps it for silent members too: it cannot give them a state transfer, and a
 * member cut off for a while would otherwise come back to nobody who has what it lacks.
 */
static uint64_t evict_upto(const struct grp_proto *p)
{
	uint64_t upto = p->applied;

	if (p->role != ROLE_LEADER || p->log.bytes > 2 * p->par.cache_bytes)
		return upto;
	for (size_t i = 0; i < PEERS_MAX; i++) {
		const struct peer *pe = &p->peers[i];

		if (is_target(p, pe) && !is_arbitrator(&pe->m) &&
		    (is_arbitrator(&p->self) || peer_live(p, pe)) && pe->match < upto)
			upto = pe->match;
	}
	return upto;
}

static void apply(struct grp_proto *p)
{
	struct grp_entry e;

	view_update(p);
	/* Outside the primary component nothing is delivered (a leader just removed, say). */
	while (p->applied < p->commit && grp_log_has(&p->log, p->applied + 1) && is_primary(p)) {
		p->applied++;
		grp_log_entry(&p->log, p->applied, &e);
		apply_one(p, &e);
	}
	grp_log_evict(&p->log, p->par.cache_bytes, evict_upto(p));
}

/*
 * With data members in the configuration, an entry is committed only once a data node (a
 * member or a joiner catching up) holds it too: arbitrators can outweigh the data members (a
 * joiner comes in with weight 0), and an entry only they held could leave their caches with
 * nobody able to give it back.
 */
static bool held_by_data(struct grp_proto *p, uint64_t index)
{
	const struct grp_config *c = p->cfg;

	if (!is_arbitrator(&p->self) ||
	    (!has_data_member(c->m, c->n) && !has_data_member(c->old, c->n_old)))
		return true;
	for (size_t i = 0; i < PEERS_MAX; i++) {
		const struct peer *pe = &p->peers[i];

		if (is_target(p, pe) && !is_arbitrator(&pe->m) && pe->match >= index)
			return true;
	}
	return false;
}

static void leader_commit(struct grp_proto *p)
{
	struct grp_uuid set[PEERS_MAX + 1];
	uint64_t best = p->commit;

	if (p->role != ROLE_LEADER)
		return;
	/* The highest index of this term that a quorum holds; candidates are the match values. */
	for (size_t c = 0; c <= PEERS_MAX; c++) {
		uint64_t cand = c < PEERS_MAX ? p->peers[c].match : p->log.last, t;
		uint32_t n = 0;

		if (c < PEERS_MAX && !is_target(p, &p->peers[c]))
			continue;
		if (cand <= best || !grp_log_term(&p->log, cand, &t) || t != p->term)
			continue;
		set[n++] = p->self.uuid;
		for (size_t i = 0; i < PEERS_MAX; i++)
			if (is_target(p, &p->peers[i]) && p->peers[i].match >= cand)
				set[n++] = p->peers[i].m.uuid;
		if (quorum(p->cfg, set, n) && held_by_data(p, cand))
			best = cand;
	}
	if (best > p->commit) {
		p->commit = best;
		apply(p);
	}
}

/*
 * Leader: appends an entry of its term. It may commit (and be delivered, and even evicted) at
 * once when this node's weight is a majority. Returns 0 or -ENOMEM.
 */
static int append_local(struct grp_proto *p, uint8_t type, const struct grp_uuid *origin,
			uint64_t origin_id, const void *data, uint32_t len,
			const struct grp_config *cfg)
{
	struct grp_entry e = {
		.term = p->term,
		.type = type,
		.origin = *origin,
		.origin_id = origin_id,
		.len = len,
		.data = data,
		.cfg = cfg,
	};

	if (grp_log_append(&p->log, &e) < 0) {
		CLOG_ERR("group: node %s: out of memory appending an entry", p->self.name);
		return -ENOMEM;
	}
	if (type == GRP_ENTRY_CONFIG)
		cfg_set(p, grp_log_at(&p->log, p->log.last)->cfg, p->log.last);
	leader_commit(p);
	return 0;
}

/* ---- flow control ---- */

static void flow_update(struct grp_proto *p)
{
	bool over = p->backlog > p->par.fc_limit, under = p->backlog <= p->par.fc_limit / 2;

	for (size_t i = 0; i < PEERS_MAX; i++) {
		const struct peer *pe = &p->peers[i];
		/* a member's queue: what it has not consumed, and what its busy link held back */
		uint64_t queue = pe->backlog;

		if (!fc_member(p, pe))
			continue;
		if (held_queue(p, pe) > queue)
			queue = held_queue(p, pe);
		if (queue > p->par.fc_limit)
			over = true;
		if (queue > p->par.fc_limit / 2)
			under = false;
	}
	if (over && !p->paused)
		CLOG_INFO("group: flow control pauses submissions (a member's queue > %u)",
			  p->par.fc_limit);
	if (under && p->paused)
		CLOG_INFO("group: flow control resumes submissions");
	if (over)
		p->paused = true;
	else if (under)
		p->paused = false;
}

/* ---- membership changes (leader) ---- */

static bool member_dead(const struct grp_proto *p, const struct grp_member *m)
{
	const struct peer *pe;

	if (grp_uuid_eq(&m->uuid, &p->self.uuid))
		return p->leaving && !p->pend_n;
	pe = peer_find((struct grp_proto *)p, &m->uuid);
	if (!pe)
		return false; /* the peer table is full: keep it rather than guess */
	if (pe->leave)
		return true;
	if (pe->link_down && p->now - pe->down_ms >= p->par.down_grace_ms)
		return true;
	return p->now - pe->ack_ms >= p->par.suspect_ms;
}

/* A weighted majority of c (old and new) answered within election_ms. */
static bool alive_quorum(const struct grp_proto *p, const struct grp_config *c)
{
	struct grp_uuid set[PEERS_MAX + 1];
	uint32_t n = 0;

	set[n++] = p->self.uuid;
	for (size_t i = 0; i < PEERS_MAX; i++) {
		const struct peer *pe = &p->peers[i];

		if (pe->used && !pe->link_down && p->now - pe->ack_ms < p->par.election_ms)
			set[n++] = pe->m.uuid;
	}
	return quorum(c, set, n);
}

/*
 * Within election_ms and a heartbeat of a pause (clock_to): the silence of the others during
 * it was our own, and what they sent meanwhile may still wait to be read. A leader judges
 * nobody dead or gone on it (reconfigure, and its learners in tick_leader).
 */
static bool just_resumed(const struct grp_proto *p)
{
	return p->resumed_ms &&
	       p->now - p->resumed_ms < (uint64_t)p->par.election_ms + p->par.heartbeat_ms;
}

/* Heard from within two heartbeats: what it takes to be added or given a vote. */
static bool answers_now(const struct grp_proto *p, const struct peer *pe)
{
	return !pe->link_down && p->now - pe->ack_ms < 2 * (uint64_t)p->par.heartbeat_ms;
}

/*
 * Base without its dead members, with caught-up learners added and members that joined with
 * weight 0 given their own, the leader too (a joiner elected before it was given its weight,
 * its group having left: its vote counted for nothing while it led). A learner comes in with
 * weight 0 first: if it dies before the change commits, the new half's majority does not
 * depend on it (only when the group has a single voter can a joiner's death still block, as
 * it does in Galera). Returns true if the result differs from cur.
 */
static bool desired_config(struct grp_proto *p, const struct grp_member *base, uint32_t n_base,
			   const struct grp_member *cur, uint32_t n_cur, struct grp_config *c)
{
	bool promoted = false;

	memset(c, 0, sizeof(*c));
	for (uint32_t i = 0; i < n_base; i++) {
		struct peer *pe = peer_find(p, &base[i].uuid);
		bool self = grp_uuid_eq(&base[i].uuid, &p->self.uuid);

		if (member_dead(p, &base[i]))
			continue;
		c->m[c->n] = base[i];
		if (!base[i].weight && !promoted &&
		    (self ? p->self.weight && !p->leaving
			  : pe && pe->weight && answers_now(p, pe))) {
			c->m[c->n].weight = self ? p->self.weight : pe->weight; /* one at a time */
			promoted = true;
		}
		c->n++;
	}
	for (size_t i = 0; i < PEERS_MAX && c->n < GRP_MEMBERS_MAX && !promoted; i++) {
		struct peer *pe = &p->peers[i];

		/*
		 * Not one that asked to leave: it joined as a learner and stays one while it acks,
		 * and a removed member still running (paceless-arbitrator waits for a view without
		 * itself before it exits) was added back the tick after its removal committed,
		 * removed again, and so on every tick.
		 */
		if (!pe->used || !pe->learner || pe->leave || pe->match < p->commit ||
		    !pe->match || in_members(base, n_base, &pe->m.uuid) || !answers_now(p, pe))
			continue;
		c->m[c->n] = pe->m;
		c->m[c->n++].weight = 0;
	}
	memcpy(c->old, base, sizeof(c->old[0]) * n_base);
	c->n_old = n_base;
	if (c->n != n_cur)
		return true;
	for (uint32_t i = 0; i < c->n; i++) {
		int k = -1;

		for (uint32_t j = 0; j < n_cur; j++)
			if (grp_uuid_eq(&cur[j].uuid, &c->m[i].uuid))
				k = (int)j;
		if (k < 0 || cur[k].weight != c->m[i].weight)
			return true;
	}
	return false;
}

/*
 * Leader, its term's first entry not committed yet, under a joint configuration whose every
 * old majority holds half its new half, or under the C_new of one, not known to be committed
 * (exit_config): it may be unable to commit under it (elected by the exit rule,
 * joint_exit_quorum, or the new half lost its majority since it was elected). It may replace
 * it (reconfigure), and the old half judges whether it is in touch with the group
 * (quorum_check), as it does for a joint configuration not committed.
 */
static bool exiting_joint(const struct grp_proto *p)
{
	return p->role == ROLE_LEADER && p->commit < p->term_start && exit_config(p);
}

/*
 * Leader: the joint configuration to replace, and over whose old half, because the
 * configuration in force has lost the majority it needs (NULL: none to replace). A joint one
 * of its own term not committed, or one it may exit (exiting_joint), stands for itself; a C_new
 * not committed stands for the joint configuration before it when that one covers
 * (exit_config), whoever appended it: a leader that appended it itself, in a term whose first
 * entry committed, committed nothing under it (nobody else commits in its term). Not within
 * election_ms of appending it: acks are on their way.
 */
static const struct grp_config *stuck_joint(const struct grp_proto *p)
{
	if (p->now - p->cfg_ms < p->par.election_ms || alive_quorum(p, p->cfg))
		return NULL;
	return p->cfg->n_old ? p->cfg : exit_config(p); /* the costly part last */
}

/*
 * Leader: moves the configuration towards the live members. A change is C_old,new then C_new.
 * A joint configuration that cannot commit (a member being added died meanwhile) is replaced
 * by another one over the same old half: every decision under either needs a majority of the
 * old half, so they cannot disagree, and the first was never in force alone.
 *
 * Only one of this leader's term, not committed (nothing happens before the term's first entry
 * commits): a joint entry of an earlier term may have committed, and its C_new decided things
 * that no majority of the old half sees. Except where every majority of the old half holds
 * half the new one (exiting_joint): a leader there, that cannot commit under the joint
 * configuration, replaces it whatever its term and whether it committed. Whatever C_new alone
 * decided had more than half of it, so meets every majority of the old half: the leader holds
 * it (as every leader holds what was committed), and a later election under C_new, which
 * needs more than half of it, meets every set the replacement commits with, whose members
 * then hold entries of a later term and refuse it. A C_new not committed whose new half lost
 * its majority is replaced the same way, by a joint entry over the old half of the joint
 * configuration before it, where that one covers (stuck_joint): the argument is the same,
 * whether the C_new committed or not.
 */
static void reconfigure(struct grp_proto *p)
{
	bool exiting = exiting_joint(p);
	const struct grp_config *j = NULL;
	struct grp_config c;

	if (p->role != ROLE_LEADER || (p->commit < p->term_start && !exiting))
		return;
	if (p->cfg->n_old && p->cfg_index <= p->commit && !exiting) { /* on to C_new */
		c = *p->cfg;
		c.n_old = 0;
		append_config(p, &c);
		replicate(p, false);
		return;
	}
	/*
	 * Not right after a pause (clock_to): its members' silence then was ours, and what came
	 * first after it may have been sent long before, by a member that died since. (The
	 * simulator found leaders that, run again, removed a live member and kept one that had
	 * just stopped: stuck under a configuration that needed it, 3 nodes, seeds 973, 159.)
	 * election_ms and a heartbeat: by then a live member has answered afresh, and what came
	 * in the first burst no longer counts as answered within election_ms (alive_quorum).
	 * No longer: where pauses come every few seconds, waiting suspect_ms after each left a
	 * leader unable to add anyone (seed 596 without state files, 3 nodes).
	 */
	if (just_resumed(p))
		return;
	if (p->cfg->n_old || p->cfg_index > p->commit) {
		j = stuck_joint(p);
		if (!j || !desired_config(p, j->old, j->n_old, p->cfg->m, p->cfg->n, &c))
			return;
	} else if (!desired_config(p, p->cfg->m, p->cfg->n, p->cfg->m, p->cfg->n, &c)) {
		return;
	}
	if (!c.n || !alive_quorum(p, &c))
		return; /* it could not commit: wait until the members answer, or for a new leader */
	/*
	 * Arbitrators alone are no group: nobody in it could give a returning data member the
	 * state it lacks. Silent data members stay in until one of them answers.
	 */
	if (!has_data_member(c.m, c.n) && has_data_member(c.old, c.n_old))
		return;
	CLOG_INFO("group: node %s proposes a configuration of %u members (was %u)%s", p->self.name,
		  c.n, c.n_old, j && j != p->cfg ? ", for a C_new that lost its majority" : "");
	append_config(p, &c);
	replicate(p, false);
}

/* ---- elections ---- */

static bool may_elect(const struct grp_proto *p)
{
	/*
	 * Not while the configuration in force at its base is unknown (cfg_stale, after a state
	 * transfer or an arbitrator's base move, until the leader tells it or it applies a CONFIG
	 * entry): the one it holds is the one it had delivered before, and members the group has
	 * removed since (still running, or leaving) could elect it under it while the group has a
	 * leader of the same term. The simulator found that order violation.
	 */
	if (!p->has_base || p->xfer_pending || p->novote || p->cfg_stale)
		return false;
	if (is_member(p->cfg, &p->self.uuid))
		return true;
	/*
	 * Removed by a C_new it holds but does not know to be committed: it still stands,
	 * under that configuration (where its own vote does not count), as Raft elects by the
	 * candidate's last configuration whether or not the candidate is in it. It must: when
	 * the leader died after sending C_new to this node alone, the others hold C_old,new,
	 * and this node, whose log is ahead of theirs, refuses them its vote for good. Once
	 * elected it commits C_new and steps down (leader_after_config).
	 */
	return p->cfg_index > p->commit && is_member(&p->cfg_done, &p->self.uuid);
}

static void count_votes(struct grp_proto *p);

/* Candidate: asks m for its vote (pre: for term + 1, without raising its own). */
static void ask_vote(struct grp_proto *p, const struct grp_member *m, bool pre, uint64_t term)
{
	if (grp_uuid_eq(&m->uuid, &p->self.uuid) || !peer_get(p, m))
		return;
	p->out->u.vote.pre = pre;
	p->out->u.vote.last_index = p->log.last;
	p->out->u.vote.last_term = grp_log_last_term(&p->log);
	p->term = pre ? term + 1 : term; /* a pre-vote asks for the next term */
	send_to(p, &m->uuid, GRP_MSG_VOTE);
	p->term = term;
}

static void start_election(struct grp_proto *p, bool pre)
{
	const struct grp_config *ex;
	uint64_t term = p->term;

	p->role = pre ? ROLE_PRECANDIDATE : ROLE_CANDIDATE;
	if (!pre) {
		p->term++;
		p->voted_for = p->self.uuid;
		p->dur_dirty = true;
		term = p->term;
		memset(&p->leader, 0, sizeof(p->leader));
	}
	election_reset(p);
	dur_update(p); /* now: below, p->term is the proposed term for a moment */
	for (size_t i = 0; i < PEERS_MAX; i++)
		p->peers[i].granted = false;
	for (uint32_t i = 0; i < p->cfg->n + p->cfg->n_old; i++)
		ask_vote(p, i < p->cfg->n ? &p->cfg->m[i] : &p->cfg->old[i - p->cfg->n], pre, term);
	/* Under a C_new that may stand for its joint configuration, the old half votes too. */
	ex = p->cfg->n_old ? NULL : exit_config(p);
	for (uint32_t i = 0; ex && i < ex->n_old; i++)
		if (!in_members(p->cfg->m, p->cfg->n, &ex->old[i].uuid))
			ask_vote(p, &ex->old[i], pre, term);
	count_votes(p);
}

/* Pre-votes and votes alike: a pre-vote that passes by the exit rule raises the term. */
static void count_votes(struct grp_proto *p)
{
	struct grp_uuid set[PEERS_MAX + 1];
	uint32_t n = 0;

	set[n++] = p->self.uuid;
	for (size_t i = 0; i < PEERS_MAX; i++)
		if (p->peers[i].used && p->peers[i].granted)
			set[n++] = p->peers[i].m.uuid;
	if (!quorum(p->cfg, set, n)) {
		if (!joint_exit_quorum(exit_config(p), set, n))
			return;
		if (p->role == ROLE_CANDIDATE)
			CLOG_INFO("group: node %s is elected by the old half of its joint "
				  "configuration%s", p->self.name,
				  p->cfg->n_old ? "" : " (its C_new not committed)");
	}
	if (p->role == ROLE_PRECANDIDATE)
		start_election(p, false);
	else if (p->role == ROLE_CANDIDATE)
		become_leader(p);
	if (p->role == ROLE_LEADER)
		replicate(p, true);
}

static bool log_ok(const struct grp_proto *p, uint64_t last_index, uint64_t last_term)
{
	uint64_t t = grp_log_last_term(&p->log);

	return last_term > t || (last_term == t && last_index >= p->log.last);
}

static void on_vote(struct grp_proto *p, const struct grp_msg *m)
{
	bool pre = m->u.vote.pre, grant = false;
	/* A restored node lost its log, and acks it sent before may have counted for a commit:
	 * it votes again only once it delivered a CONFIG entry it received since. */
	bool ok = p->has_base && !p->novote && log_ok(p, m->u.vote.last_index, m->u.vote.last_term);
	uint64_t reply_term = p->term;

	if (pre) {
		grant = m->term > p->term && ok && !leader_fresh(p);
		if (grant)
			reply_term = m->term;
	} else if (m->term >= p->term && !(m->term > p->term && leader_fresh(p))) {
		if (m->term > p->term) {
			struct grp_uuid nil = {0};

			become_follower(p, m->term, &nil);
		}
		grant = ok && (grp_uuid_is_nil(&p->voted_for) ||
			       grp_uuid_eq(&p->voted_for, &m->from.uuid));
		if (grant) {
			p->voted_for = m->from.uuid;
			p->dur_dirty = true; /* persisted before the answer leaves (send_to) */
			election_reset(p);
		}
		reply_term = p->term;
	}
	dur_update(p); /* the vote first; then p->term is the answer's for a moment */
	p->out->u.vote_ack.pre = pre;
	p->out->u.vote_ack.granted = grant;
	{
		uint64_t t = p->term;

		p->term = reply_term;
		send_to(p, &m->from.uuid, GRP_MSG_VOTE_ACK);
		p->term = t;
	}
}

static void on_vote_ack(struct grp_proto *p, const struct grp_msg *m, struct peer *pe)
{
	if (!m->u.vote_ack.granted) {
		if (m->term > p->term) {
			struct grp_uuid nil = {0};

			become_follower(p, m->term, &nil);
		}
		return;
	}
	if (m->u.vote_ack.pre ? (p->role != ROLE_PRECANDIDATE || m->term != p->term + 1)
			      : (p->role != ROLE_CANDIDATE || m->term != p->term))
		return;
	pe->granted = true;
	count_votes(p);
}

/* ---- replication (follower side) ---- */

static void ack(struct grp_proto *p, const struct grp_uuid *to, bool ok, uint64_t match)
{
	p->out->u.append_ack.success = ok;
	p->out->u.append_ack.match = match;
	p->out->u.append_ack.backlog = p->backlog;
	send_to(p, to, GRP_MSG_APPEND_ACK);
}

/* Appends the entries of m after prev; returns false when m conflicts with committed state. */
static bool take_entries(struct grp_proto *p, const struct grp_msg *m)
{
	for (uint32_t i = 0; i < m->u.append.n; i++) {
		const struct grp_entry *e = &m->u.append.e[i];
		uint64_t t, s;

		if (e->index <= p->log.first - 1)
			continue; /* applied and dropped already: committed, so equal */
		if (e->index <= p->log.last) {
			grp_log_term(&p->log, e->index, &t);
			if (t == e->term)
				continue;
			if (e->index <= p->commit)
				return false;
			grp_log_truncate(&p->log, e->index);
			cfg_refresh(p);
		}
		grp_log_seq(&p->log, p->log.last, &s);
		if (e->index != p->log.last + 1 || e->seq != s + (e->type == GRP_ENTRY_DATA))
			return false;
		if (grp_log_append(&p->log, e) < 0)
			return false; /* out of memory: the leader sends it again */
		if (e->type == GRP_ENTRY_CONFIG)
			cfg_set(p, grp_log_at(&p->log, p->log.last)->cfg, p->log.last);
	}
	return true;
}

/*
 * An arbitrator has no state to transfer. Where a data member would need one (the leader says
 * so with an XFER), it moves its log's base to the leader's prev when that is committed
 * (prev <= the leader's commit) and we do not hold it: our entry there is absent or differs.
 * That is grp_proto_xfer_done()'s rule: then nothing we hold after prev was committed (log
 * matching), and what we hold before it that was is in the base. As after a state transfer,
 * the configuration in force is learned again from a CONFIG entry (GRP_PING_STALE).
 */
static void arbitrator_rebase(struct grp_proto *p, const struct grp_msg *m)
{
	uint64_t prev = m->u.append.prev_index, t;

	if (!is_arbitrator(&p->self) || !p->rebase_ok || prev > m->u.append.commit ||
	    prev <= p->applied)
		return;
	if (prev <= p->log.last && grp_log_term(&p->log, prev, &t) && t == m->u.append.prev_term)
		return;
	CLOG_RL(&p->rl, (int64_t)p->now, CORE_LOG_INFO,
		"group: arbitrator %s moves its base from index %llu to %llu (committed at %s)",
		p->self.name, (unsigned long long)p->applied, (unsigned long long)prev,
		m->from.name);
	grp_log_reset(&p->log, prev, m->u.append.prev_term, m->u.append.prev_seq);
	p->commit = p->applied = prev;
	p->dur_dirty = true;
	p->origins_stale = p->cfg_stale = true;
	p->rebase_ok = false;
	/* As at a state transfer: own submissions skipped over may or may not be ordered. */
	p->abandoned += p->pend_n;
	pend_done(p, p->next_id);
	cfg_refresh(p);
}

/*
 * Follower back from a state transfer or a base move (cfg_stale): the leader's APPEND whose
 * prev is where our log starts, and matched it, carries the configuration in force there
 * (append_cfg). That is the configuration we would hold had we applied the entries the
 * transfer skipped: whether we are still a member, and whose votes count. It is committed
 * (cfg_index <= prev, our base, is), so it becomes the last one applied; any CONFIG entry we
 * hold after the base stays in force over it. Without this, a node transferred past the
 * CONFIG entry that removed it could stand under its old configuration (no longer: cfg_stale
 * holds it back) and a member had to wait for a CONFIG entry to stand at all.
 */
static void cfg_learn(struct grp_proto *p, const struct grp_msg *m)
{
	if (!m->u.append.cfg || !p->cfg_stale || m->u.append.prev_index != p->log.first - 1 ||
	    m->u.append.cfg_index < p->cfg_done_index)
		return;
	p->cfg_done = *m->u.append.cfg;
	p->cfg_done_index = m->u.append.cfg_index;
	p->cfg_stale = false;
	p->dur_dirty = true;
	if (p->cfg == &p->cfg_done || p->cfg == &empty_cfg)
		cfg_set(p, &p->cfg_done, p->cfg_done_index);
	CLOG_RL(&p->rl, (int64_t)p->now, CORE_LOG_INFO,
		"group: node %s learns the configuration at its base, index %llu: %s", p->self.name,
		(unsigned long long)p->cfg_done_index,
		is_member(&p->cfg_done, &p->self.uuid) ? "a member" : "not a member");
	view_update(p);
}

static void on_append(struct grp_proto *p, const struct grp_msg *m)
{
	uint64_t prev = m->u.append.prev_index, t, match;

	if (m->term < p->term) {
		ack(p, &m->from.uuid, false, p->log.last);
		return;
	}
	if (p->role == ROLE_LEADER && m->term == p->term) {
		p->dropped++; /* two leaders in one term: impossible unless the sender lies */
		return;
	}
	become_follower(p, m->term, &m->from.uuid);
	p->leader_ms = p->now;
	election_reset(p);
	p->paused = m->u.append.paused;
	p->leader_no_quorum = m->u.append.no_quorum;
	view_update(p);
	if (p->xfer_pending)
		return;
	if (!p->has_base) {
		/*
		 * A joiner's start: the leader chose prev from our seq; check it, and take only a
		 * committed one (a deposed leader may still send, and its entry there may be one
		 * that is never committed). An arbitrator has no seq: any committed start will do.
		 * A node whose service applied the leader's very entry at prev (the same index
		 * and term: grp_proto_create's svc) takes it whatever the leader's commit index:
		 * it was delivered, so committed, and a leader elected since may not know that yet
		 * and need this node's ack to commit anything (a leader that is an arbitrator, with
		 * no other data member that can hold its entries).
		 */
		bool applied_here = p->svc.index && prev == p->svc.index &&
				    m->u.append.prev_term == p->svc.term;

		if ((m->u.append.prev_seq != p->svc_seq && !is_arbitrator(&p->self)) ||
		    (prev > m->u.append.commit && !applied_here))
			return;
		p->svc_seq = m->u.append.prev_seq;
		grp_log_reset(&p->log, prev, m->u.append.prev_term, p->svc_seq);
		p->has_base = true;
		p->rec = false;
		p->dur_dirty = true;
		p->commit = p->applied = prev;
	}
	arbitrator_rebase(p, m);
	if (prev > p->log.last) {
		ack(p, &m->from.uuid, false, p->log.last);
		return;
	}
	if (prev >= p->log.first - 1 && (!grp_log_term(&p->log, prev, &t) ||
					 t != m->u.append.prev_term)) {
		/*
		 * Resend after what we acked to this leader in its term, if past our commit
		 * index: its log there has not changed since. Our commit index alone is below what
		 * the leader knows we hold, and it takes such a refusal for a delayed one; it
		 * kept sending after our entries of an older term, which we kept refusing (3
		 * nodes, seed 8829: entries 988-1027 of the term we led before).
		 */
		uint64_t hint = p->commit;

		if (p->acked_term == p->term && p->acked_match > hint && p->acked_match < prev)
			hint = p->acked_match < p->log.last ? p->acked_match : p->log.last;
		ack(p, &m->from.uuid, false, hint);
		return;
	}
	cfg_learn(p, m);
	if (!take_entries(p, m)) {
		p->dropped++;
		CLOG_RL(&p->rl, (int64_t)p->now, CORE_LOG_WARN,
			"group: node %s: APPEND from %s conflicts with committed entries; ignored",
			p->self.name, m->from.name);
		ack(p, &m->from.uuid, false, p->commit);
		return;
	}
	match = prev + m->u.append.n;
	if (match > p->log.last)
		match = p->log.last;
	if (m->u.append.commit > p->commit) {
		uint64_t c = m->u.append.commit < match ? m->u.append.commit : match;

		if (c > p->commit)
			p->commit = c;
	}
	apply(p);
	p->rebase_ok = false; /* caught up without it */
	if (p->acked_term != p->term) {
		p->acked_term = p->term;
		p->acked_match = 0;
	}
	if (match > p->acked_match)
		p->acked_match = match;
	ack(p, &m->from.uuid, true, match);
}

static void on_append_ack(struct grp_proto *p, const struct grp_msg *m, struct peer *pe)
{
	bool delayed = false;

	if (m->term > p->term) {
		struct grp_uuid nil = {0};

		become_follower(p, m->term, &nil);
		return;
	}
	if (p->role != ROLE_LEADER || m->term != p->term)
		return;
	pe->ack_ms = p->now;
	if (p->no_quorum)
		quorum_check(p);
	if (pe->learner)
		pe->join_ms = p->now;
	pe->backlog = m->u.append_ack.backlog;
	if (m->u.append_ack.success) {
		pe->cfg_due = false; /* it took an APPEND since: its PINGs say if it still lacks it */
		if (m->u.append_ack.match > pe->match && m->u.append_ack.match <= p->log.last)
			pe->match = m->u.append_ack.match;
		if (pe->learner && pe->match &&
		    (p->log.last - pe->match <= p->par.fc_limit || pe->match >= pe->join_last))
			pe->fc_learner = true;
		if (pe->next < pe->match + 1)
			pe->next = pe->match + 1;
		leader_commit(p);
	} else if (m->u.append_ack.match < pe->match && !(pe->ping_flags & GRP_PING_STALE)) {
		/*
		 * A refusal below what it acked in this term is a delayed one (it answers an
		 * APPEND that overtook an earlier one): nothing to do. Nothing else takes back
		 * what a follower acked: a state transfer or an arbitrator's base move keeps the
		 * entries that agree with the leader's log (its entry at the donor's index is the
		 * committed one when it acked past it). Going back would send a follower whose
		 * acked entries are evicted since to a state transfer, which a leader that is an
		 * arbitrator cannot give when that follower is its only data member.
		 */
		delayed = true;
	} else if (m->u.append_ack.match + 1 < pe->next) {
		/*
		 * Resend from where it says it is. Below match only for a node that says it came
		 * back without its log (GRP_PING_STALE, until it applies a CONFIG entry): a
		 * restored process keeps its uuid, and a delayed ack of the process before it can
		 * raise match past what it holds (match is never lowered: a delayed success could
		 * raise it again).
		 */
		pe->next = m->u.append_ack.match + 1;
	}
	flow_update(p);
	/* One APPEND per ack at most: two would double the traffic with every round trip. */
	if (pe->next <= p->log.last || (!m->u.append_ack.success && !delayed))
		send_append(p, pe, !m->u.append_ack.success);
}

/* ---- other messages ---- */

/* A restored node's PING: the members it waits for, and whether an arbitrator is one. */
static void rec_record(struct grp_proto *p, const struct grp_msg *m, struct peer *pe)
{
	pe->rec_on = (m->u.ping.flags & GRP_PING_RECOVER) != 0;
	if (!pe->rec_on)
		return;
	if (!p->rec && dur_has(&p->dur, &pe->m.uuid))
		p->survivor_check = true;
	pe->rec_ms = p->now;
	pe->rec_index = m->u.ping.rec_index;
	pe->rec_seq = m->u.ping.seq;
	pe->rec_term = m->term;
	pe->rec_vote = m->u.ping.leader;
	pe->n_rec = 0;
	pe->rec_arb = false;
	for (uint32_t i = 0; i < m->u.ping.n_peers; i++) {
		pe->rec_arb |= is_arbitrator(&m->u.ping.peers[i]);
		pe->rec_req[pe->n_rec++] = m->u.ping.peers[i].uuid;
	}
}

/*
 * Leader: a member that restarted from its state file (it kept its uuid) lost its log. It
 * starts where its service is, as a joiner does (or is sent to a state transfer).
 */
static void leader_restart_member(struct grp_proto *p, const struct grp_msg *m, struct peer *pe)
{
	uint64_t idx = 0, seq;

	pe->match = 0;
	/*
	 * Right after what its service applied (GRP_PING_RECOVER gives its index), when we hold
	 * it with that seq; else after the DATA entry of its seq. Not before what it applied:
	 * its service would be given it again, and old CONFIG entries among it would count as
	 * received since it restarted (see apply_config).
	 */
	if ((m->u.ping.flags & GRP_PING_RECOVER) &&
	    grp_log_seq(&p->log, m->u.ping.rec_index, &seq) && seq == m->u.ping.seq)
		pe->next = m->u.ping.rec_index + 1;
	else /* 0: behind the cache, a state transfer */
		pe->next = grp_log_index_of_seq(&p->log, m->u.ping.seq, &idx) ? idx + 1 : 0;
	CLOG_RL(&p->rl, (int64_t)p->now, CORE_LOG_INFO,
		"group: member %s restarted from its state file; it resumes at seq %llu",
		pe->m.name, (unsigned long long)m->u.ping.seq);
	send_append(p, pe, false);
}

static void on_ping(struct grp_proto *p, const struct grp_msg *m, struct peer *pe)
{
	pe->ping_flags = m->u.ping.flags;
	pe->ping_applied = m->u.ping.applied;
	pe->ping_seq = m->u.ping.seq;
	rec_record(p, m, pe);
	for (uint32_t i = 0; i < m->u.ping.n_peers; i++)
		peer_get(p, &m->u.ping.peers[i]);
	if (p->role == ROLE_LEADER) {
		bool member = is_member(p->cfg, &pe->m.uuid);

		if (member && m->u.ping.applied == GRP_NO_BASE && !is_arbitrator(&pe->m))
			leader_restart_member(p, m, pe);
		else if (member && p->now - pe->ack_ms >= p->par.election_ms)
			/*
			 * A member silent for a while (a paused process, a healed partition) is
			 * back: an APPEND now, for the ack that shows it alive, rather than at the
			 * next heartbeat, which may come after it is judged dead (the simulator
			 * found a member removed 25 ms after it came back: 3 nodes, seed 3852).
			 */
			send_append(p, pe, true);
		/* From every PING, member or not: a node removed at its own request still says
		 * so (desired_config takes it back not as a learner), and a process restarted
		 * from its state file under the same uuid does not. */
		pe->leave = (m->u.ping.flags & GRP_PING_LEAVE) != 0;
		/* A member back from a state transfer learns the submitters' positions from a
		 * CONFIG entry: the same configuration again, if no change is due. */
		if (member && (m->u.ping.flags & GRP_PING_STALE) && !p->cfg->n_old &&
		    p->cfg_index <= p->commit && p->now - p->cfg_ms >= p->par.heartbeat_ms) {
			struct grp_config c = *p->cfg;

			append_config(p, &c);
			replicate(p, false);
		}
		/* A node we could only send XFER to says where its state transfer left it. */
		if ((member || pe->learner) && m->u.ping.applied != GRP_NO_BASE &&
		    pe->next < p->log.first &&
		    m->u.ping.applied + 1 >= p->log.first && m->u.ping.applied <= p->log.last)
			pe->next = m->u.ping.applied + 1;
		if (!member && (m->u.ping.flags & GRP_PING_JOIN)) {
			/* Until a joiner acks, it starts where it says it is, every time it asks:
			 * an APPEND that went astray, or a state transfer, moved it. */
			if (!pe->learner || m->u.ping.applied == GRP_NO_BASE || !pe->match) {
				uint64_t idx = 0;

				pe->match = 0;
				pe->fc_learner = false;
				pe->join_last = p->log.last;
				pe->ack_ms = p->now;
				if (m->u.ping.applied != GRP_NO_BASE)
					pe->next = m->u.ping.applied + 1;
				else if (is_arbitrator(&pe->m))
					pe->next = p->commit + 1; /* no state: from now on */
				else if (grp_log_index_of_seq(&p->log, m->u.ping.seq, &idx))
					pe->next = idx + 1;
				else
					pe->next = 0; /* needs a state transfer */
				if (!pe->learner)
					CLOG_RL(&p->rl, (int64_t)p->now, CORE_LOG_INFO,
						"group: node %s asks to join", pe->m.name);
				pe->learner = true;
			}
			pe->join_ms = p->now;
			send_append(p, pe, true);
		}
	}
	if (!(m->u.ping.flags & GRP_PING_REPLY))
		send_ping(p, pe, GRP_PING_REPLY);
}

/*
 * Leader: a member's SUBMIT. Taken while flow control pauses too: the pause stops members
 * from submitting more (grp_proto_submit, send_submits), and what they sent before they heard
 * of it is bounded by their pending rings (submit_max, submit_bytes). Dropped, it came back
 * only with the next resend, resend_ms later, and the w512 10 KiB flood's p99 went in 200 ms
 * steps.
 */
static void on_submit(struct grp_proto *p, const struct grp_msg *m)
{
	uint64_t bytes = 0;
	uint32_t taken = 0;

	if (p->role != ROLE_LEADER || p->no_quorum || !is_member(p->cfg, &m->from.uuid)) {
		p->dropped++;
		return;
	}
	/*
	 * Only from a sender that has delivered everything up to our cache: then any of its ids
	 * committed before our cache is below its head (it will not send it again), and those
	 * after are in our log and our table. Without this, a leader that lacks the sender's
	 * history (it came in after it) could take an id twice. A sender further behind is
	 * catching up, or will be sent to a state transfer; it sends again later.
	 */
	if (m->u.submit.applied + 1 < p->log.first) {
		p->dropped++;
		return;
	}
	origin_catch_up(p, &m->from, m->u.submit.head, m->u.submit.applied);
	for (uint32_t i = 0; i < m->u.submit.n; i++) {
		const struct grp_submit *s = &m->u.submit.s[i];

		if (leader_take(p, &m->from.uuid, s->origin_id, s->type, s->data, s->len)) {
			taken++;
			bytes += s->len;
		}
	}
	if (taken && !batched(p, bytes))
		replicate(p, false);
}

static void on_xfer(struct grp_proto *p, const struct grp_msg *m)
{
	if (is_arbitrator(&p->self)) {
		/* No state to transfer: the leader's next APPEND starts at its cache, where we
		 * may move our base. Not before it says so: an APPEND that only overtook a lost
		 * one looks the same, and is better answered by walking back. */
		if (m->term >= p->term)
			p->rebase_ok = true;
		return;
	}
	/* A restored node may be a term ahead of the group (it voted in an election that came to
	 * nothing): it has no log for the term to protect, and its answers to the leader's
	 * APPENDs after the transfer will move the group to its term. */
	if (p->xfer_pending || is_primary(p) || (m->term < p->term && !p->rec))
		return;
	CLOG_INFO("group: node %s needs a state transfer from %s", p->self.name,
		  m->u.xfer.donor.name);
	p->xfer_pending = true;
	p->xfer_ms = p->now;
	p->ops->xfer_needed(p->ctx, &m->u.xfer.donor);
}

void grp_proto_recv(struct grp_proto *p, const struct grp_msg *m, uint64_t now_ms)
{
	struct peer *pe;

	clock_to(p, now_ms);
	pe = peer_get(p, &m->from);
	if (!pe || m->type < GRP_MSG_PING || m->type > GRP_MSG_TYPE_MAX) {
		p->dropped++;
		return;
	}
	pe->heard_ms = p->now;
	pe->weight = m->from.weight;
	if (p->rec && m->term > p->term &&
	    !((m->type == GRP_MSG_VOTE && m->u.vote.pre) ||
	      (m->type == GRP_MSG_VOTE_ACK && m->u.vote_ack.pre))) {
		/* Raft's currentTerm: the group formed again goes on above every term heard (a
		 * pre-vote's term is only proposed: taking it would depose nobody's leader but
		 * have us answer every later pre-vote from a term ahead). */
		p->term = m->term;
		memset(&p->voted_for, 0, sizeof(p->voted_for));
		p->dur_dirty = true;
	}
	/* Still talking well after its link was reported closed: it is back (a hint was lost).
	 * Just after, it is what was in flight when it died. */
	if (pe->link_down && p->now - pe->down_ms >= p->par.down_grace_ms)
		pe->link_down = false;
	switch (m->type) {
	case GRP_MSG_PING:
		on_ping(p, m, pe);
		break;
	case GRP_MSG_APPEND:
		on_append(p, m);
		break;
	case GRP_MSG_APPEND_ACK:
		on_append_ack(p, m, pe);
		break;
	case GRP_MSG_VOTE:
		on_vote(p, m);
		break;
	case GRP_MSG_VOTE_ACK:
		on_vote_ack(p, m, pe);
		break;
	case GRP_MSG_SUBMIT:
		on_submit(p, m);
		break;
	case GRP_MSG_XFER:
		on_xfer(p, m);
		break;
	}
	view_update(p);
	dur_update(p);
}

/* ---- time ---- */

/*
 * Check-quorum. A leader that has not heard from a weighted majority within election_ms is no
 * longer primary (it says so in its APPENDs, so its followers are not either), but it keeps its
 * term rather than stepping down: the majority side elects a leader of its own if it can and
 * that deposes it, and if nobody can (a configuration change was under way), it is the one
 * that can finish or replace the change once the partition heals. It commits nothing meanwhile
 * (that needs the majority), and it takes no submissions.
 */
static void quorum_check(struct grp_proto *p)
{
	const struct grp_config *j;
	struct grp_uuid set[PEERS_MAX + 1];
	uint32_t n = 0;
	bool lost;

	set[n++] = p->self.uuid;
	for (size_t i = 0; i < PEERS_MAX; i++) {
		const struct peer *pe = &p->peers[i];

		if (pe->used && p->now - pe->ack_ms < p->par.election_ms)
			set[n++] = pe->m.uuid;
	}
	/*
	 * While a joint configuration waits to commit, or the leader may replace it, the old half
	 * decides. A C_new that waits to commit and stands for the joint configuration before it
	 * (exit_config) goes on with a quorum of its own, or is replaced by the old half of that
	 * one (reconfigure): either will do.
	 */
	if (p->cfg->n_old) {
		lost = p->cfg_index > p->commit || exiting_joint(p)
			       ? !majority(p->cfg->old, p->cfg->n_old, set, n)
			       : !quorum(p->cfg, set, n);
	} else {
		j = exit_config(p);
		lost = !quorum(p->cfg, set, n) && !(j && majority(j->old, j->n_old, set, n));
	}
	if (lost == p->no_quorum)
		return;
	CLOG_INFO("group: leader %s %s its majority", p->self.name,
		  lost ? "lost touch with" : "is back in touch with");
	p->no_quorum = lost;
	/* What it committed while cut off (acks that came before the rest) is delivered now. */
	if (!lost)
		apply(p);
}

static void tick_leader(struct grp_proto *p)
{
	if (p->now >= p->heartbeat_at) {
		replicate(p, true);
		p->heartbeat_at = p->now + p->par.heartbeat_ms;
	}
	if (p->now >= p->quorum_at) {
		p->quorum_at = p->now + p->par.election_ms;
		quorum_check(p);
	}
	flow_update(p); /* a busy link may have drained, or its member gone silent */
	/*
	 * A learner silent for suspect_ms is given up (it asks again if it is alive), but not
	 * right after a pause: its acks may wait unread behind it. Given up at the tick that
	 * ended a stall of the leader's loop, a learner that was catching up got no APPENDs until
	 * its next PING and started over from there, again and again under load (ASan on a
	 * loaded machine: loop iterations of seconds, restored nodes flapping primary).
	 */
	for (size_t i = 0; i < PEERS_MAX && !just_resumed(p); i++) {
		struct peer *pe = &p->peers[i];

		if (pe->learner && p->now - pe->join_ms >= p->par.suspect_ms)
			pe->learner = pe->fc_learner = false;
	}
	reconfigure(p);
}

static void tick_pings(struct grp_proto *p)
{
	uint64_t every = p->par.heartbeat_ms * (is_primary(p) ? PING_SLOW : 1);

	for (size_t i = 0; i < PEERS_MAX; i++) {
		struct peer *pe = &p->peers[i];

		/* A closed link is tried now and then too: a lost "up" must not part us for good. */
		if (pe->used && p->now - pe->ping_ms >= (pe->link_down ? p->par.election_ms : every))
			send_ping(p, pe, 0);
	}
}

void grp_proto_flush(struct grp_proto *p)
{
	p->batch_bytes = 0;
	/*
	 * A follower delivers what the leader says is committed. The commit index moves when
	 * acks come in, and rides on the next APPEND; without new entries that would be the next
	 * heartbeat, up to heartbeat_ms later. So once per batch of events, a follower whose last
	 * APPEND carried an older commit index is sent one (without entries unless it lacks
	 * some). Once per batch, not per ack: at high rates the index moves with every ack.
	 */
	if (p->role != ROLE_LEADER) {
		/* Submissions a busy link to the leader held back. */
		if (p->pend_sent < p->pend_n && !p->paused)
			send_submits(p, p->pend_sent, RESEND_MSGS_MAX);
		return;
	}
	for (size_t i = 0; i < PEERS_MAX; i++) {
		struct peer *pe = &p->peers[i];

		/*
		 * Not one that must first be sent to a state transfer (send_append would XFER).
		 * A follower whose busy link held entries back is sent them once it drained, and
		 * with par.batch every follower what the batch appended, in one APPEND.
		 */
		if (is_target(p, pe) &&
		    (pe->sent_commit < p->applied || pe->held ||
		     (p->par.batch && pe->next <= p->log.last)) &&
		    !pe->link_down && pe->next >= p->log.first && pe->next > 0)
			send_append(p, pe, false);
	}
}

void grp_proto_tick(struct grp_proto *p, uint64_t now_ms)
{
	clock_to(p, now_ms);
	if (is_primary(p))
		p->primary_ms = p->now;
	if (p->survivor_check) {
		p->survivor_check = false;
		survivor_tick(p);
	}
	if (p->role == ROLE_LEADER)
		tick_leader(p);
	else if (p->now >= p->election_at && may_elect(p))
		start_election(p, true);
	if (p->rec)
		rec_tick(p);
	tick_pings(p);
	if (p->xfer_pending && p->now - p->xfer_ms >= 4 * (uint64_t)p->par.suspect_ms) {
		CLOG_WARN("group: node %s: no state transfer came; asking again", p->self.name);
		p->xfer_pending = false; /* the donor may be gone: the leader names another */
	}
	if (p->pend_n && p->now >= p->resend_at && !p->paused) {
		if (p->role == ROLE_LEADER) {
			if (!p->no_quorum)
				take_own_pending(p);
			replicate(p, false);
		} else {
			send_submits(p, 0, RESEND_MSGS_MAX);
		}
		p->resend_at = p->now + p->par.resend_ms;
	}
	view_update(p);
	dur_update(p);
}

/* ---- durable state, restart after every node crashed ---- */

static bool dur_has(const struct grp_durable *d, const struct grp_uuid *u)
{
	for (uint32_t i = 0; i < d->n; i++)
		if (grp_uuid_eq(&d->m[i].uuid, u))
			return true;
	return false;
}

static void dur_add(struct grp_durable *d, const struct grp_member *m, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (dur_has(d, &m[i].uuid))
			continue;
		if (d->n == GRP_MEMBERS_MAX) {
			d->flags |= GRP_DURABLE_INCOMPLETE;
			continue;
		}
		d->m[d->n] = m[i];
		d->m[d->n++].origin_last = 0;
	}
}

/*
 * Everyone who may hold entries this node lacks, so may have delivered more than its
 * service: the members of the last configuration it delivered and of every later one it
 * holds. A committed configuration change needs a majority of the one before, whose members
 * hold it and so name its members in turn.
 */
static void dur_members(const struct grp_proto *p, struct grp_durable *d)
{
	uint64_t i = p->cfg_done_index + 1 > p->log.first ? p->cfg_done_index + 1 : p->log.first;

	d->view_id = p->cfg_done_index;
	if (!p->cfg_done_index) {
		/* Restored and rejoining: nothing delivered tells it yet who moved on. */
		d->view_id = p->dur.view_id;
		dur_add(d, p->rec_m, p->rec_n);
	}
	dur_add(d, p->cfg_done.m, p->cfg_done.n);
	dur_add(d, p->cfg_done.old, p->cfg_done.n_old);
	for (; p->has_base && i <= p->log.last; i++) {
		const struct grp_log_ent *e = grp_log_at(&p->log, i);

		if (e->type == GRP_ENTRY_CONFIG) {
			dur_add(d, e->cfg->m, e->cfg->n);
			dur_add(d, e->cfg->old, e->cfg->n_old);
		}
	}
}

/* Persists what changed since the last call (a vote, a configuration); cheap when nothing. */
static void dur_update(struct grp_proto *p)
{
	struct grp_durable d;

	if (!p->ops->persist || !p->dur_dirty)
		return;
	p->dur_dirty = false;
	memset(&d, 0, sizeof(d));
	d.uuid = p->self.uuid;
	d.gen = p->dur.gen;
	d.term = p->term;
	d.voted_for = p->voted_for;
	if (p->rec) {
		d.view_id = p->dur.view_id;
		d.flags = p->dur.flags;
		d.n = p->dur.n;
		memcpy(d.m, p->dur.m, sizeof(d.m));
	} else {
		dur_members(p, &d);
	}
	if (!dur_has(&d, &p->self.uuid)) {
		p->dur = d;
		if (!p->dur_removed)
			p->ops->persist(p->ctx, NULL);
		p->dur_removed = true;
		return;
	}
	if (!p->dur_removed && !memcmp(&d, &p->dur, sizeof(d)))
		return;
	p->dur = d;
	p->dur_removed = false;
	p->ops->persist(p->ctx, &d);
}

/* Heard from as a restored node within election_ms. */
static bool rec_fresh(const struct grp_proto *p, const struct peer *pe)
{
	return pe && pe->rec_on && !pe->link_down && p->now - pe->rec_ms < p->par.election_ms;
}

/* Whether a's service is ahead of b's: index, then seq, then the uuid breaks ties. */
static bool rec_ahead(uint64_t ia, uint64_t sa, const struct grp_uuid *a, uint64_t ib,
		      uint64_t sb, const struct grp_uuid *b)
{
	if (ia != ib)
		return ia > ib;
	if (sa != sb)
		return sa > sb;
	return grp_uuid_cmp(a, b) > 0;
}

#define REC_CLOSURE_MAX (2 * GRP_MEMBERS_MAX)

/*
 * The members this node waits for, and theirs, and so on (k[0] is this node). Returns false
 * when one of them has not been heard from as a restored node (*missing, if known), or when
 * one is an arbitrator: it keeps no state file, so it never comes back as the same node, and
 * while it led, a joiner may have delivered entries that no member had delivered (only held),
 * so no restored position can be trusted to be the furthest. An operator bootstraps then.
 */
static bool rec_closure(struct grp_proto *p, struct grp_uuid *k, uint32_t *nk,
			const struct peer **missing)
{
	bool complete = !(p->dur.flags & GRP_DURABLE_INCOMPLETE);

	*nk = 0;
	k[(*nk)++] = p->self.uuid;
	*missing = NULL;
	for (uint32_t i = 0; i < *nk; i++) {
		const struct peer *pe = i ? peer_find(p, &k[i]) : NULL;
		uint32_t n = i ? (pe ? pe->n_rec : 0) : p->dur.n;

		if (i && !rec_fresh(p, pe)) {
			if (!*missing)
				*missing = pe;
			complete = false;
			continue;
		}
		if (i && pe->rec_arb)
			complete = false;
		for (uint32_t j = 0; j < n; j++) {
			const struct grp_uuid *u = i ? &pe->rec_req[j] : &p->dur.m[j].uuid;
			bool known = false;

			if (!i && is_arbitrator(&p->dur.m[j]))
				complete = false;
			for (uint32_t x = 0; x < *nk && !known; x++)
				known = grp_uuid_eq(&k[x], u);
			if (known)
				continue;
			if (*nk == REC_CLOSURE_MAX)
				complete = false;
			else
				k[(*nk)++] = *u;
		}
	}
	return complete;
}

static void bootstrap_one(struct grp_proto *p);

/*
 * Every node in k is back from its state file and follows this one, whose service is the
 * furthest ahead: a group of one from our position, in a term above all of theirs. Its log
 * starts past every index any of them delivered, so view ids never repeat.
 */
static void rec_lead(struct grp_proto *p, const struct grp_uuid *k, uint32_t nk)
{
	uint64_t term = p->term, base = p->svc.index;

	for (uint32_t i = 1; i < nk; i++) {
		const struct peer *pe = peer_find(p, &k[i]);

		if (pe->rec_term > term)
			term = pe->rec_term;
		if (pe->rec_index > base)
			base = pe->rec_index;
	}
	CLOG_NOTICE("group: node %s: all %u members of the last views are back; it is the furthest "
		    "ahead (index %llu, seq %llu) and forms the group again", p->self.name, nk,
		    (unsigned long long)p->svc.index, (unsigned long long)p->svc.seq);
	p->term = term;
	grp_log_reset(&p->log, base, p->svc.term, p->svc_seq);
	p->has_base = true;
	p->commit = p->applied = base;
	bootstrap_one(p);
}

/* Itself, or a node heard from as restored within election_ms. */
static bool survivor_sees_back(struct grp_proto *p, const struct grp_uuid *u)
{
	return grp_uuid_eq(u, &p->self.uuid) || rec_fresh(p, peer_find(p, u));
}

/*
 * A member of this node's last views PINGed it as restored from its state file: if this node
 * stayed up cut off from the group (not primary, no leader heard, for suspect_ms: not during
 * an election, nor while it catches up with a live leader), it restarts to take part
 * (grp_proto_restart_due). A crash and a restart from its state file without the crash: it
 * keeps its uuid, term and vote, and votes again only once it delivered a CONFIG entry.
 */
static void survivor_tick(struct grp_proto *p)
{
	const struct grp_config *c = p->cfg;
	struct grp_uuid up[2 * GRP_MEMBERS_MAX];
	uint32_t n_up = 0;

	if (p->rec || p->restart_due || !p->has_base || is_arbitrator(&p->self) || p->leaving ||
	    !p->ops->persist || is_primary(p) || p->now - p->primary_ms < p->par.suspect_ms ||
	    (p->role != ROLE_LEADER && p->now - p->leader_ms < p->par.suspect_ms))
		return;
	dur_update(p);
	if (p->dur_removed || !dur_has(&p->dur, &p->self.uuid) || p->dur.gen + 1 >= (1ull << 31))
		return;
	/*
	 * Only when the members not restored cannot be primary without them: restored nodes do
	 * not vote, so then nobody ever will. Those that can elect one of them, and the restored
	 * nodes join that group.
	 */
	for (uint32_t i = 0; i < c->n + c->n_old; i++) {
		const struct grp_member *m = i < c->n ? &c->m[i] : &c->old[i - c->n];

		if (grp_uuid_eq(&m->uuid, &p->self.uuid) || !rec_fresh(p, peer_find(p, &m->uuid)))
			up[n_up++] = m->uuid;
	}
	if (majority(c->m, c->n, up, n_up) && (!c->n_old || majority(c->old, c->n_old, up, n_up)))
		return;
	/*
	 * And only when it is the last one they wait for: every member it would wait for, and
	 * every one those restored nodes wait for, is back from its state file. A member that
	 * stayed up but is in no configuration it holds any more takes no part, so they would
	 * wait for good, and this node, restarted, with them.
	 */
	for (uint32_t i = 0; i < p->dur.n; i++)
		if (!survivor_sees_back(p, &p->dur.m[i].uuid))
			return;
	for (size_t i = 0; i < PEERS_MAX; i++) {
		const struct peer *pe = &p->peers[i];

		for (uint32_t k = 0; pe->used && rec_fresh(p, pe) && k < pe->n_rec; k++)
			if (!survivor_sees_back(p, &pe->rec_req[k]))
				return;
	}
	p->restart_svc = p->svc_at;
	p->restart_due = true;
	CLOG_INFO("group: node %s stayed up, non-primary, while members restart from their "
		  "state files: it restarts to take part, from index %llu",
		  p->self.name, (unsigned long long)p->svc_at.index);
}

bool grp_proto_restart_due(const struct grp_proto *p, struct grp_durable *d,
			   struct grp_position *svc)
{
	if (!p->restart_due)
		return false;
	*d = p->dur;
	*svc = p->restart_svc;
	return true;
}

/*
 * A restored node: once every member it waits for (the closure of theirs) is back from its
 * state file, it names the one furthest ahead in its PINGs; that one forms the group when all
 * of them name it. All must be back, as Galera's pc.recovery: one that is not may have
 * delivered what the others lack.
 */
static void rec_tick(struct grp_proto *p)
{
	struct grp_uuid k[REC_CLOSURE_MAX];
	const struct peer *missing;
	uint32_t nk;
	uint64_t bi = p->svc.index, bs = p->svc.seq;
	const struct grp_uuid *best = &p->self.uuid;

	memset(&p->rec_vote, 0, sizeof(p->rec_vote));
	if (!rec_closure(p, k, &nk, &missing)) {
		if (p->now - p->rec_log_ms >= 5000 || !p->rec_log_ms) {
			p->rec_log_ms = p->now ? p->now : 1;
			CLOG_INFO("group: node %s (restored): waiting for %s from the last primary "
				  "view", p->self.name, missing ? missing->m.name : "more members");
		}
		return;
	}
	for (uint32_t i = 1; i < nk; i++) {
		const struct peer *pe = peer_find(p, &k[i]);

		if (rec_ahead(pe->rec_index, pe->rec_seq, &pe->m.uuid, bi, bs, best)) {
			bi = pe->rec_index;
			bs = pe->rec_seq;
			best = &pe->m.uuid;
		}
	}
	p->rec_vote = *best;
	if (!grp_uuid_eq(best, &p->self.uuid))
		return;
	for (uint32_t i = 1; i < nk; i++)
		if (!grp_uuid_eq(&peer_find(p, &k[i])->rec_vote, &p->self.uuid))
			return;
	rec_lead(p, k, nk);
}

/* ---- API ---- */

int grp_proto_create(const struct grp_member *self, const struct grp_params *params,
		     const struct grp_ops *ops, void *ctx, bool bootstrap,
		     const struct grp_position *svc, uint64_t now_ms, struct grp_proto **out)
{
	struct grp_proto *p;

	if (!params->heartbeat_ms || params->election_ms <= params->heartbeat_ms ||
	    params->suspect_ms < params->election_ms || !params->submit_max ||
	    !params->submit_bytes ||
	    !params->resend_ms || !params->link_busy_bytes || params->weight > GRP_WEIGHT_MAX ||
	    grp_uuid_is_nil(&self->uuid))
		return -EINVAL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->pend = calloc(params->submit_max, sizeof(*p->pend));
	p->out = calloc(1, sizeof(*p->out));
	if (!p->pend || !p->out) {
		free(p->pend);
		free(p->out);
		free(p);
		return -ENOMEM;
	}
	p->par = *params;
	core_fifo_init(&p->pend_store, PEND_BLOCK);
	p->self = *self;
	p->self.weight = params->weight;
	p->ops = ops;
	p->ctx = ctx;
	p->now = now_ms;
	p->rng = params->seed ^ 0x5a17c0de;
	p->rl = (struct core_ratelimit)CORE_RATELIMIT_INIT(1000, 10);
	p->role = ROLE_FOLLOWER;
	p->svc = *svc;
	p->svc_at = *svc;
	p->svc_seq = svc->seq;
	grp_log_init(&p->log, 0, 0, svc->seq);
	cfg_set(p, &empty_cfg, 0);
	election_reset(p);
	if (bootstrap)
		grp_proto_force_bootstrap(p, now_ms);
	*out = p;
	return 0;
}

int grp_proto_restore(const struct grp_member *self, const struct grp_params *params,
		      const struct grp_ops *ops, void *ctx, const struct grp_durable *d,
		      const struct grp_position *svc, uint64_t now_ms, struct grp_proto **out)
{
	struct grp_proto *p;
	int rc;

	if (!grp_uuid_eq(&self->uuid, &d->uuid) || d->n > GRP_MEMBERS_MAX ||
	    !dur_has(d, &d->uuid) || is_arbitrator(self) || d->gen >= (1ull << 31))
		return -EINVAL;
	rc = grp_proto_create(self, params, ops, ctx, false, svc, now_ms, &p);
	if (rc)
		return rc;
	CLOG_INFO("group: node %s restored from its state file: term %llu, view %llu, %u members",
		  self->name, (unsigned long long)d->term, (unsigned long long)d->view_id, d->n);
	p->dur = *d;
	p->rec_n = d->n;
	memcpy(p->rec_m, d->m, sizeof(p->rec_m));
	p->rec = p->novote = true;
	p->origins_stale = true; /* and it may not lead before a CONFIG entry either */
	p->term = d->term;
	p->voted_for = d->voted_for;
	/* Above every origin_id an earlier process with this uuid used: the leader goes on
	 * after them (origin_catch_up), and a late SUBMIT of theirs is never taken as ours. */
	p->next_id = d->gen << 32;
	for (uint32_t i = 0; i < d->n; i++)
		peer_get(p, &d->m[i]);
	p->dur_dirty = false;
	*out = p;
	return 0;
}

void grp_proto_destroy(struct grp_proto *p)
{
	if (!p)
		return;
	core_fifo_free(&p->pend_store);
	grp_log_free(&p->log);
	free(p->pend);
	free(p->out);
	free(p);
}

void grp_proto_peer_up(struct grp_proto *p, const struct grp_member *peer, uint64_t now_ms)
{
	struct peer *pe;

	clock_to(p, now_ms);
	pe = peer_get(p, peer);
	if (!pe)
		return;
	pe->link_down = false;
	if (p->now - pe->ping_ms >= p->par.heartbeat_ms)
		send_ping(p, pe, 0);
}

void grp_proto_peer_down(struct grp_proto *p, const struct grp_uuid *peer, uint64_t now_ms)
{
	struct peer *pe;

	clock_to(p, now_ms);
	pe = peer_find(p, peer);
	if (!pe || pe->link_down)
		return;
	pe->link_down = true;
	pe->down_ms = p->now;
	if (p->role != ROLE_LEADER && grp_uuid_eq(peer, &p->leader)) {
		/* The leader's link closed (a killed process): elect soon, not after election_ms. */
		uint64_t at = p->now + p->par.down_grace_ms + rnd(p) % (p->par.down_grace_ms + 1);

		if (at < p->election_at)
			p->election_at = at;
	}
	view_update(p);
}

static int64_t submit(struct grp_proto *p, uint8_t type, const void *data, uint32_t len,
		      uint64_t now_ms)
{
	struct pend *pd;
	uint8_t *copy = NULL;

	clock_to(p, now_ms);
	if (!p->has_base || !is_member(p->cfg, &p->self.uuid) || p->leaving || p->left ||
	    is_arbitrator(&p->self))
		return CORE_ESTATE; /* an arbitrator has no service to submit for */
	if (len > GRP_PAYLOAD_MAX)
		return CORE_ETOOBIG;
	if (p->pend_n == p->par.submit_max || p->paused ||
	    (p->pend_n && p->pend_bytes + len > p->par.submit_bytes))
		return CORE_EFULL;
	if (len) {
		copy = core_fifo_alloc(&p->pend_store, len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, data, len);
	}
	pd = &p->pend[(p->pend_head + p->pend_n) % p->par.submit_max];
	pd->id = ++p->next_id;
	pd->type = type;
	pd->len = len;
	pd->data = copy;
	p->pend_n++;
	p->pend_bytes += len;
	if (p->pend_n == 1)
		p->resend_at = p->now + p->par.resend_ms;
	if (p->role == ROLE_LEADER) {
		if (!p->no_quorum && leader_take(p, &p->self.uuid, pd->id, type, copy, len) &&
		    !batched(p, len))
			replicate(p, false);
	} else if (!batched(p, len)) {
		/* after those a busy link held back; with par.batch, what the batch gathered */
		send_submits(p, p->pend_sent, p->par.batch ? RESEND_MSGS_MAX : 1);
	}
	return (int64_t)pd->id;
}

int64_t grp_proto_submit(struct grp_proto *p, const void *data, uint32_t len, uint64_t now_ms)
{
	return submit(p, GRP_ENTRY_DATA, data, len, now_ms);
}

int64_t grp_proto_set_state(struct grp_proto *p, enum grp_svc_state st, uint64_t now_ms)
{
	uint8_t b = (uint8_t)st;

	if (st < GRP_SVC_JOINER || st > GRP_SVC_DESYNCED)
		return -EINVAL;
	return submit(p, GRP_ENTRY_STATE, &b, 1, now_ms);
}

void grp_proto_set_backlog(struct grp_proto *p, uint32_t backlog)
{
	p->backlog = backlog;
	if (p->role == ROLE_LEADER)
		flow_update(p);
}

int grp_proto_xfer_done(struct grp_proto *p, uint64_t index, uint64_t term, uint64_t seq,
			uint64_t now_ms)
{
	uint64_t t;

	clock_to(p, now_ms);
	if (!p->xfer_pending)
		return CORE_ESTATE;
	if (p->has_base && index < p->applied) {
		CLOG_WARN("group: node %s: state transfer to index %llu is behind our %llu; refused",
			  p->self.name, (unsigned long long)index, (unsigned long long)p->applied);
		p->xfer_pending = false;
		return CORE_ESTATE;
	}
	if (p->has_base && grp_log_term(&p->log, index, &t) && t == term) {
		/*
		 * We hold the donor's position: what follows it in our log continues the committed
		 * log, and may have been acked and counted towards a commit, so it stays (the
		 * leader cuts it if it was not). Dropping it could lose a committed entry.
		 */
		grp_log_evict(&p->log, 0, index);
	} else {
		/* Our entry there differs (or we have none): nothing after it was committed. */
		grp_log_reset(&p->log, index, term, seq);
	}
	p->has_base = true;
	p->rec = false;
	p->dur_dirty = true;
	p->commit = p->applied = index;
	p->svc_at = (struct grp_position){.index = index, .term = term, .seq = seq};
	p->xfer_pending = false;
	p->origins_stale = p->cfg_stale = true;
	/*
	 * Our own submissions not delivered yet may be inside the transferred state or not: we
	 * cannot tell, so they are given up (as Galera fails a joiner's transactions); the
	 * service learns their fate from its state. The next ids go on from here (see head).
	 */
	p->abandoned += p->pend_n;
	pend_done(p, p->next_id);
	cfg_refresh(p);
	for (size_t i = 0; i < PEERS_MAX; i++)
		if (p->peers[i].used && !p->peers[i].link_down)
			send_ping(p, &p->peers[i], 0);
	dur_update(p);
	return 0;
}

void grp_proto_xfer_failed(struct grp_proto *p, uint64_t now_ms)
{
	clock_to(p, now_ms);
	if (p->xfer_pending)
		CLOG_WARN("group: node %s: state transfer failed; asking again", p->self.name);
	p->xfer_pending = false;
}

void grp_proto_leave(struct grp_proto *p, uint64_t now_ms)
{
	clock_to(p, now_ms);
	p->leaving = true;
}

/* A primary group of one from this node's log (or its service's position), in a new term. */
static void bootstrap_one(struct grp_proto *p)
{
	struct grp_config c;

	if (!p->has_base) {
		/* From its service's position, in a term above the one of the entry there. */
		grp_log_reset(&p->log, p->svc.index, p->svc.term, p->svc_seq);
		p->has_base = true;
		p->commit = p->applied = p->svc.index;
		if (p->term < p->svc.term)
			p->term = p->svc.term;
	}
	p->rec = false;
	p->dur_dirty = true;
	grp_log_truncate(&p->log, p->commit + 1);
	cfg_refresh(p);
	p->xfer_pending = false;
	p->origins_stale = p->cfg_stale = false; /* the operator makes this history the group's */
	p->left = p->leaving = false;
	p->term++;
	p->voted_for = p->self.uuid;
	become_leader(p);
	memset(&c, 0, sizeof(c));
	c.n = 1;
	c.m[0] = p->self;
	append_config(p, &c);
	view_update(p);
}

void grp_proto_force_bootstrap(struct grp_proto *p, uint64_t now_ms)
{
	clock_to(p, now_ms);
	CLOG_NOTICE("group: node %s bootstraps a primary component of one", p->self.name);
	bootstrap_one(p);
	dur_update(p);
}

void grp_proto_status(const struct grp_proto *p, struct grp_status *st)
{
	memset(st, 0, sizeof(*st));
	st->leader = p->leader;
	st->term = p->term;
	st->commit = p->commit;
	st->applied = p->applied;
	grp_log_seq(&p->log, p->applied, &st->seq);
	st->last_index = p->log.last;
	st->cache_first = p->log.first;
	st->view_id = p->view_id;
	st->is_leader = p->role == ROLE_LEADER;
	st->primary = is_primary(p);
	/* Until it delivered the configuration that removes it: a leader leads till then. */
	st->member = is_member(p->cfg, &p->self.uuid) || is_member(&p->cfg_done, &p->self.uuid);
	st->paused = p->paused;
	st->pending = p->pend_n;
	st->pending_bytes = p->pend_bytes;
	st->dropped = p->dropped;
	st->abandoned = p->abandoned;
	st->restoring = p->rec || p->novote;
	st->held_back = p->held_back;
}

const struct grp_config *grp_proto_config(const struct grp_proto *p)
{
	return p->cfg;
}

const struct grp_config *grp_proto_exit_config(const struct grp_proto *p)
{
	return exit_config(p);
}

const struct grp_member *grp_proto_self(const struct grp_proto *p)
{
	return &p->self;
}
