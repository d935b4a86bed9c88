/* SPDX-License-Identifier: MPL-2.0 */
/* Unit tests of the group protocol: a few nodes on a perfect in-memory network, step by step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "grp_proto.h"

#define NODES 5
#define QMAX 20000
#define DELIV_MAX 4096

/* A message in flight: a deep copy, since what send() gets is borrowed. */
struct qmsg {
	int to;
	struct grp_msg *m;
};

struct node {
	struct grp_proto *p;
	struct grp_member me;
	bool cut; /* partitioned away from everyone */
	uint64_t delivered_seq[DELIV_MAX];
	uint64_t n_data;
	uint64_t last_index;
	uint64_t view_id;
	bool primary;
	int my_index;
	uint32_t view_n;
	bool xfer;
	struct grp_uuid donor;   /* named by the last xfer_needed */
	struct grp_position svc; /* the last entry delivered (a service's position) */
	struct grp_durable dur;  /* as last persisted (grp_ops.persist) */
	uint32_t survivor_restarts; /* grp_proto_restart_due() said so (run(): survivor_restart) */
};

static struct node nodes[NODES];
static struct qmsg queue[QMAX];
static size_t q_n;
static uint64_t now;
static bool dup;                 /* every message is sent twice */
static uint32_t weights[NODES];  /* 0: default */
static uint64_t cache_bytes;     /* 0: default */
static uint64_t submit_bytes;    /* 0: default */
static bool arbitrator[NODES];   /* GRP_MEMBER_ARBITRATOR */
static uint64_t queued[NODES];   /* what a link to node i holds (grp_ops.queued) */
static uint64_t slow[NODES];     /* a slow link to node i: what is sent adds to queued[i], which
				  * drains by slow[i] bytes each 10 ms */
static uint32_t fc_limit;        /* 0: default */
static uint64_t link_busy;       /* 0: default */
static int cnew_from = -1;       /* its APPENDs to a node in cnew_to lose their C_new */
static bool cnew_to[NODES];

static int node_of(const struct grp_uuid *u)
{
	for (int i = 0; i < NODES; i++)
		if (nodes[i].p && grp_uuid_eq(&nodes[i].me.uuid, u))
			return i;
	return -1;
}

static struct grp_msg *copy_msg(const struct grp_msg *m)
{
	struct grp_msg *c = malloc(sizeof(*c));

	*c = *m;
	if (m->type == GRP_MSG_APPEND && m->u.append.cfg) {
		struct grp_config *cf = malloc(sizeof(*cf));

		*cf = *m->u.append.cfg;
		c->u.append.cfg = cf;
	}
	if (m->type == GRP_MSG_APPEND)
		for (uint32_t i = 0; i < m->u.append.n; i++) {
			struct grp_entry *e = &c->u.append.e[i];

			if (e->len) {
				uint8_t *d = malloc(e->len);

				memcpy(d, m->u.append.e[i].data, e->len);
				e->data = d;
			}
			if (e->cfg) {
				struct grp_config *cf = malloc(sizeof(*cf));

				*cf = *m->u.append.e[i].cfg;
				e->cfg = cf;
			}
		}
	if (m->type == GRP_MSG_SUBMIT)
		for (uint32_t i = 0; i < m->u.submit.n; i++) {
			uint8_t *d = malloc(m->u.submit.s[i].len + 1);

			memcpy(d, m->u.submit.s[i].data, m->u.submit.s[i].len);
			c->u.submit.s[i].data = d;
		}
	return c;
}

static void free_msg(struct grp_msg *m)
{
	if (m->type == GRP_MSG_APPEND)
		free((void *)m->u.append.cfg);
	if (m->type == GRP_MSG_APPEND)
		for (uint32_t i = 0; i < m->u.append.n; i++) {
			free((void *)m->u.append.e[i].data);
			free((void *)m->u.append.e[i].cfg);
		}
	if (m->type == GRP_MSG_SUBMIT)
		for (uint32_t i = 0; i < m->u.submit.n; i++)
			free((void *)m->u.submit.s[i].data);
	free(m);
}

/* An APPEND that carries a configuration without an old half (a C_new). */
static bool carries_cnew(const struct grp_msg *m)
{
	for (uint32_t i = 0; m->type == GRP_MSG_APPEND && i < m->u.append.n; i++)
		if (m->u.append.e[i].cfg && !m->u.append.e[i].cfg->n_old)
			return true;
	return false;
}

static void op_send(void *ctx, const struct grp_uuid *to, const struct grp_msg *m)
{
	int from = (int)(intptr_t)ctx, dst = node_of(to);

	if (dst < 0 || nodes[from].cut || nodes[dst].cut)
		return;
	if (from == cnew_from && cnew_to[dst] && carries_cnew(m))
		return;
	if (slow[dst]) {
		queued[dst] += 64;
		for (uint32_t i = 0; m->type == GRP_MSG_APPEND && i < m->u.append.n; i++)
			queued[dst] += 48 + m->u.append.e[i].len;
	}
	for (int k = 0; k < 1 + dup; k++) {
		assert_true(q_n < QMAX);
		queue[q_n].to = dst;
		queue[q_n].m = copy_msg(m);
		q_n++;
	}
}

static void op_deliver(void *ctx, const struct grp_entry *e)
{
	struct node *n = &nodes[(intptr_t)ctx];

	if (n->last_index)
		assert_int_equal(e->index, n->last_index + 1);
	n->last_index = e->index;
	n->svc = (struct grp_position){.index = e->index, .term = e->term, .seq = e->seq};
	if (e->type == GRP_ENTRY_DATA) {
		assert_true(n->primary);
		assert_true(n->n_data < DELIV_MAX);
		n->delivered_seq[n->n_data++] = e->seq;
	}
}

static void op_view(void *ctx, uint64_t id, const struct grp_config *cfg, int my_index,
		    bool primary)
{
	struct node *n = &nodes[(intptr_t)ctx];

	n->view_id = id;
	n->primary = primary;
	n->my_index = my_index;
	n->view_n = cfg->n;
}

static void op_xfer(void *ctx, const struct grp_member *donor)
{
	nodes[(intptr_t)ctx].xfer = true;
	nodes[(intptr_t)ctx].donor = donor->uuid;
}

static void op_persist(void *ctx, const struct grp_durable *d)
{
	struct node *n = &nodes[(intptr_t)ctx];

	if (d)
		n->dur = *d;
	else
		memset(&n->dur, 0, sizeof(n->dur));
}

static uint64_t op_queued(void *ctx, const struct grp_uuid *to)
{
	int dst = node_of(to);

	(void)ctx;
	return dst < 0 ? 0 : queued[dst];
}

static const struct grp_ops ops = {
	.send = op_send,
	.deliver = op_deliver,
	.view = op_view,
	.xfer_needed = op_xfer,
	.persist = op_persist,
	.queued = op_queued,
};

/* Starts node i; bootstrap or not, its service at pos. */
static void start_svc(int i, bool bootstrap, const struct grp_position *pos)
{
	struct grp_params par;

	grp_params_default(&par);
	par.seed = (uint64_t)i + 1;
	if (weights[i])
		par.weight = weights[i];
	if (cache_bytes)
		par.cache_bytes = cache_bytes;
	if (submit_bytes)
		par.submit_bytes = submit_bytes;
	if (fc_limit)
		par.fc_limit = fc_limit;
	if (link_busy)
		par.link_busy_bytes = link_busy;
	memset(&nodes[i], 0, sizeof(nodes[i]));
	nodes[i].me.uuid.b[0] = (uint8_t)(i + 1);
	nodes[i].me.uuid.b[15] = (uint8_t)(now & 0xff);
	snprintf(nodes[i].me.name, sizeof(nodes[i].me.name), "n%d", i);
	snprintf(nodes[i].me.addr, sizeof(nodes[i].me.addr), "sim:%d", i);
	nodes[i].me.flags = arbitrator[i] ? GRP_MEMBER_ARBITRATOR : 0;
	assert_int_equal(grp_proto_create(&nodes[i].me, &par, &ops, (void *)(intptr_t)i,
					  bootstrap, pos, now, &nodes[i].p),
			 0);
	for (int j = 0; j < NODES; j++)
		if (j != i && nodes[j].p) {
			grp_proto_peer_up(nodes[i].p, &nodes[j].me, now);
			grp_proto_peer_up(nodes[j].p, &nodes[i].me, now);
		}
}

static void start(int i, bool bootstrap)
{
	start_svc(i, bootstrap, &(struct grp_position){0});
}

/* A new process (new uuid) for slot i, its service at pos. */
static void start_at(int i, const struct grp_position *pos)
{
	now++; /* another uuid (start() takes its last byte from the clock) */
	start_svc(i, false, pos);
}

static void kill_node(int i)
{
	grp_proto_destroy(nodes[i].p);
	nodes[i].p = NULL;
	for (int j = 0; j < NODES; j++)
		if (nodes[j].p)
			grp_proto_peer_down(nodes[j].p, &nodes[i].me.uuid, now);
}

static void survivor_restart(int i);

/* Delivers everything in flight (FIFO), then advances time by step_ms and ticks everyone. */
static void run(uint64_t ms)
{
	for (uint64_t t = 0; t < ms; t += 10) {
		size_t k = 0;

		while (k < q_n) {
			struct qmsg q = queue[k++];

			if (nodes[q.to].p && !nodes[q.to].cut)
				grp_proto_recv(nodes[q.to].p, q.m, now);
			free_msg(q.m);
			if (k == q_n)
				k = q_n = 0;
		}
		now += 10;
		for (int i = 0; i < NODES; i++)
			queued[i] -= slow[i] < queued[i] ? slow[i] : queued[i];
		for (int i = 0; i < NODES; i++)
			if (nodes[i].p) {
				grp_proto_tick(nodes[i].p, now);
				survivor_restart(i);
			}
	}
}

/* Runs in 10 ms steps until cond holds, for ms at most (the caller asserts what it waited for). */
#define RUN_UNTIL(cond, ms)                                                       \
	do {                                                                      \
		for (uint64_t t_ = 0; !(cond) && t_ < (uint64_t)(ms); t_ += 10) \
			run(10);                                                  \
	} while (0)

static int leader_of(int n)
{
	for (int i = 0; i < n; i++) {
		struct grp_status st;

		if (!nodes[i].p)
			continue;
		grp_proto_status(nodes[i].p, &st);
		if (st.is_leader && st.primary)
			return i;
	}
	return -1;
}

static void setup_cluster(int n)
{
	now = 1000;
	q_n = 0;
	start(0, true);
	for (int i = 1; i < n; i++)
		start(i, false);
	run(5000);
	for (int i = 0; i < n; i++) {
		assert_true(nodes[i].primary);
		assert_int_equal(nodes[i].view_n, n);
		assert_int_equal(nodes[i].view_id, nodes[0].view_id);
	}
}

/* Drops everything in flight (lost). */
static void discard(void)
{
	for (size_t k = 0; k < q_n; k++)
		free_msg(queue[k].m);
	q_n = 0;
}

static void teardown_cluster(void)
{
	for (int i = 0; i < NODES; i++)
		if (nodes[i].p) {
			grp_proto_destroy(nodes[i].p);
			nodes[i].p = NULL;
		}
	discard();
	dup = false;
	memset(weights, 0, sizeof(weights));
	cache_bytes = 0;
	submit_bytes = 0;
	memset(arbitrator, 0, sizeof(arbitrator));
	memset(queued, 0, sizeof(queued));
	memset(slow, 0, sizeof(slow));
	fc_limit = 0;
	link_busy = 0;
	cnew_from = -1;
	memset(cnew_to, 0, sizeof(cnew_to));
}

static void submit_n(int i, int n)
{
	for (int k = 0; k < n; k++) {
		char buf[32];
		int len = snprintf(buf, sizeof(buf), "m%d-%d", i, k);

		assert_true(grp_proto_submit(nodes[i].p, buf, (uint32_t)len, now) > 0);
	}
}

/* Delivers everything in flight without moving the clock; flush: grp_proto_flush() on every
 * node after each round, as the runtime does after each loop iteration. */
static void drain(bool flush)
{
	while (q_n) {
		size_t n = q_n;

		for (size_t k = 0; k < n; k++) {
			struct qmsg q = queue[k];

			if (nodes[q.to].p && !nodes[q.to].cut)
				grp_proto_recv(nodes[q.to].p, q.m, now);
			free_msg(q.m);
		}
		memmove(queue, queue + n, (q_n - n) * sizeof(queue[0]));
		q_n -= n;
		for (int i = 0; flush && i < NODES; i++)
			if (nodes[i].p)
				grp_proto_flush(nodes[i].p);
	}
}

/*
 * A follower learns that an entry is committed from the leader's next APPEND. Without new
 * entries that was the next heartbeat (up to heartbeat_ms later); grp_proto_flush() sends it
 * at the end of the batch in which the acks moved the commit index.
 */
static void test_commit_reaches_followers_without_waiting(void **state)
{
	int l, f;

	(void)state;
	setup_cluster(3);
	l = leader_of(3);
	assert_true(l >= 0);
	f = (l + 1) % 3;
	/* Without flush, the followers hold the entry but have not heard that it committed. */
	submit_n(l, 1);
	drain(false);
	assert_int_equal(nodes[l].n_data, 1);
	assert_int_equal(nodes[f].n_data, 0);
	/* The flush tells them, without the clock moving. */
	for (int i = 0; i < 3; i++)
		grp_proto_flush(nodes[i].p);
	drain(true);
	assert_int_equal(nodes[f].n_data, 1);
	/* And from then on with every batch: a follower's own submission too. */
	submit_n(f, 1);
	drain(true);
	for (int i = 0; i < 3; i++)
		assert_int_equal(nodes[i].n_data, 2);
	teardown_cluster();
}

static void test_bootstrap_alone(void **state)
{
	(void)state;
	now = 1000;
	start(0, true);
	assert_true(nodes[0].primary);
	assert_int_equal(nodes[0].view_n, 1);
	assert_int_equal(nodes[0].my_index, 0);
	submit_n(0, 3);
	run(10);
	assert_int_equal(nodes[0].n_data, 3);
	assert_int_equal(nodes[0].delivered_seq[2], 3);
	teardown_cluster();
}

static void test_three_join_and_order(void **state)
{
	(void)state;
	setup_cluster(3);
	submit_n(0, 10);
	submit_n(1, 10);
	submit_n(2, 10);
	run(1000);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(nodes[i].n_data, 30);
		for (int k = 0; k < 30; k++)
			assert_int_equal(nodes[i].delivered_seq[k], k + 1);
	}
	teardown_cluster();
}

static void test_leader_killed_resumes(void **state)
{
	int l, survivor;

	(void)state;
	setup_cluster(3);
	l = leader_of(3);
	assert_true(l >= 0);
	kill_node(l);
	survivor = (l + 1) % 3;
	submit_n(survivor, 5);
	run(1000); /* the down hint makes the election quick */
	assert_true(leader_of(3) >= 0);
	assert_int_equal(nodes[survivor].n_data, 5);
	run(4000); /* and the dead member leaves the view */
	assert_int_equal(nodes[survivor].view_n, 2);
	assert_true(nodes[survivor].primary);
	teardown_cluster();
}

static void test_minority_non_primary(void **state)
{
	uint64_t before;

	(void)state;
	setup_cluster(3);
	nodes[2].cut = true;
	run(3000);
	assert_false(nodes[2].primary);
	before = nodes[2].n_data;
	submit_n(0, 5);
	run(500);
	assert_int_equal(nodes[2].n_data, before);
	assert_int_equal(nodes[0].n_data, 5);
	assert_int_equal(nodes[0].view_n, 2);
	nodes[2].cut = false; /* heals: it rejoins and catches up */
	run(5000);
	assert_true(nodes[2].primary);
	assert_int_equal(nodes[2].view_n, 3);
	assert_int_equal(nodes[2].n_data, 5);
	teardown_cluster();
}

static void test_exact_half_stays_non_primary(void **state)
{
	(void)state;
	setup_cluster(4);
	nodes[2].cut = true;
	nodes[3].cut = true;
	run(3000);
	for (int i = 0; i < 4; i++)
		assert_false(nodes[i].primary);
	assert_int_equal(grp_proto_submit(nodes[0].p, "x", 1, now) > 0, true);
	run(1000);
	assert_int_equal(nodes[0].n_data, 0);
	teardown_cluster();
}

static void test_graceful_leave_keeps_quorum(void **state)
{
	(void)state;
	setup_cluster(3);
	grp_proto_leave(nodes[2].p, now);
	run(2000);
	assert_int_equal(nodes[0].view_n, 2);
	assert_int_equal(nodes[2].my_index, -1);
	kill_node(2);
	kill_node(1); /* 1 of the 2 left: no quorum */
	run(3000);
	assert_false(nodes[0].primary);
	teardown_cluster();
}

/*
 * A member that left at its own request and keeps running (a process that has not exited
 * yet: paceless-arbitrator waits for a view without itself) is not taken back. It joined as a
 * learner, which it stays while it acks, and the leader added it again as a caught-up learner
 * the tick after its removal committed, then removed it again as leaving, every tick, and the
 * leaving node hardly ever saw a view without itself (paceless-arbitrator in
 * test_group_arbitrator.py stopped without leaving, once).
 */
static void test_left_member_stays_out(void **state)
{
	uint64_t id;

	(void)state;
	setup_cluster(2);
	grp_proto_leave(nodes[1].p, now);
	run(2000);
	assert_int_equal(nodes[0].view_n, 1);
	assert_int_equal(nodes[1].my_index, -1);
	id = nodes[0].view_id;
	run(2000);
	assert_int_equal(nodes[0].view_id, id);
	assert_int_equal(nodes[1].my_index, -1);
	teardown_cluster();
}

static void test_weights_decide_quorum(void **state)
{
	(void)state;
	weights[0] = 3; /* 3 of 5: node 0 alone is a majority, as with Galera's pc.weight */
	setup_cluster(3);
	nodes[1].cut = nodes[2].cut = true;
	submit_n(0, 2);
	run(5000);
	assert_true(nodes[0].primary);
	assert_false(nodes[1].primary);
	assert_false(nodes[2].primary);
	assert_int_equal(nodes[0].n_data, 2);
	assert_int_equal(nodes[0].view_n, 1);
	teardown_cluster();
}

static void test_flow_control_pauses_and_resumes(void **state)
{
	(void)state;
	setup_cluster(3);
	grp_proto_set_backlog(nodes[1].p, 100000);
	submit_n(2, 1); /* an ack carries the backlog to the leader */
	run(500);
	assert_int_equal(grp_proto_submit(nodes[0].p, "x", 1, now), CORE_EFULL);
	assert_int_equal(grp_proto_submit(nodes[2].p, "x", 1, now), CORE_EFULL);
	grp_proto_set_backlog(nodes[1].p, 0);
	run(500);
	submit_n(0, 3);
	run(500);
	assert_int_equal(nodes[1].n_data, 4);
	teardown_cluster();
}

/*
 * A SUBMIT that reaches the leader after flow control paused it (the member sent it before it
 * heard of the pause) is taken, not dropped to come back with a resend resend_ms later.
 */
static void test_paused_leader_takes_submits_in_flight(void **state)
{
	struct grp_status st;
	int l, f;

	(void)state;
	setup_cluster(3);
	l = leader_of(3);
	f = (l + 1) % 3;
	submit_n(f, 3); /* on their way to the leader */
	grp_proto_set_backlog(nodes[l].p, 100000);
	grp_proto_status(nodes[l].p, &st);
	assert_true(st.paused);
	assert_int_equal(grp_proto_submit(nodes[l].p, "x", 1, now), CORE_EFULL);
	drain(true); /* the clock stands still: no resend */
	for (int i = 0; i < 3; i++)
		assert_int_equal(nodes[i].n_data, 3);
	grp_proto_status(nodes[f].p, &st);
	assert_int_equal(st.pending, 0);
	assert_true(st.paused); /* and it submits nothing more until the pause lifts */
	assert_int_equal(grp_proto_submit(nodes[f].p, "y", 1, now), CORE_EFULL);
	grp_proto_set_backlog(nodes[l].p, 0);
	run(500);
	submit_n(f, 1);
	run(500);
	for (int i = 0; i < 3; i++)
		assert_int_equal(nodes[i].n_data, 4);
	teardown_cluster();
}

/*
 * A node's own submissions not yet delivered hold at most submit_bytes of payload, or one
 * message of any size: beyond that the caller gets CORE_EFULL (the runtime keeps it in its
 * hand-over queue, the same size), and the room comes back as they are delivered.
 */
static void test_submit_bytes_bound_pending(void **state)
{
	static const char big[5000];
	struct grp_status st;
	int l, f, g;

	(void)state;
	submit_bytes = 1000;
	setup_cluster(3);
	l = leader_of(3);
	f = (l + 1) % 3;
	g = (l + 2) % 3;
	/* Nothing moves until run(): what f submits stays pending. */
	assert_true(grp_proto_submit(nodes[f].p, big, 400, now) > 0);
	assert_true(grp_proto_submit(nodes[f].p, big, 400, now) > 0);
	assert_int_equal(grp_proto_submit(nodes[f].p, big, 400, now), CORE_EFULL);
	assert_true(grp_proto_submit(nodes[f].p, big, 200, now) > 0);
	grp_proto_status(nodes[f].p, &st);
	assert_int_equal(st.pending, 3);
	assert_int_equal(st.pending_bytes, 1000);
	assert_int_equal(grp_proto_submit(nodes[f].p, big, 1, now), CORE_EFULL);
	/* With nothing pending, one message of any size is taken, and then nothing more. */
	assert_true(grp_proto_submit(nodes[g].p, big, sizeof(big), now) > 0);
	assert_int_equal(grp_proto_submit(nodes[g].p, big, 1, now), CORE_EFULL);
	run(1000);
	for (int i = 0; i < 3; i++)
		assert_int_equal(nodes[i].n_data, 4);
	grp_proto_status(nodes[f].p, &st);
	assert_int_equal(st.pending, 0);
	assert_int_equal(st.pending_bytes, 0);
	assert_true(grp_proto_submit(nodes[f].p, big, 1000, now) > 0);
	assert_true(grp_proto_submit(nodes[g].p, big, sizeof(big), now) > 0);
	teardown_cluster();
}

#define BUSY (4u << 20) /* grp_params_default's link_busy_bytes */

/*
 * A follower whose link is busy gets no entries, only heartbeats: it stays primary and in the
 * view (it is slow, not dead) while the others go on; once its link drained, the next flush
 * sends it what it lacks.
 */
static void test_busy_link_holds_entries_back(void **state)
{
	struct grp_status st;
	int l, f, g;
	uint64_t view;

	(void)state;
	setup_cluster(3);
	l = leader_of(3);
	f = (l + 1) % 3;
	g = (l + 2) % 3;
	view = nodes[l].view_id;
	queued[f] = BUSY;
	submit_n(l, 10);
	run(2500); /* past election_ms: heartbeats keep f quiet */
	assert_int_equal(nodes[g].n_data, 10);
	assert_int_equal(nodes[f].n_data, 0);
	assert_true(nodes[f].primary);
	assert_int_equal(leader_of(3), l);
	assert_int_equal(nodes[l].view_id, view);
	grp_proto_status(nodes[l].p, &st);
	assert_int_equal(st.held_back, 1);
	queued[f] = 0;
	grp_proto_flush(nodes[l].p);
	drain(true);
	assert_int_equal(nodes[f].n_data, 10);
	for (int k = 0; k < 10; k++)
		assert_int_equal(nodes[f].delivered_seq[k], nodes[g].delivered_seq[k]);
	assert_int_equal(nodes[l].view_id, view);
	teardown_cluster();
}

/* What a busy link holds back counts for flow control: over fc_limit entries waiting for a
 * live member pause submissions, until it has them. */
static void test_busy_link_pauses_flow_control(void **state)
{
	int l, f;

	(void)state;
	setup_cluster(3);
	l = leader_of(3);
	f = (l + 1) % 3;
	queued[f] = BUSY;
	submit_n(l, 1025); /* fc_limit 1024 */
	run(100);
	assert_int_equal(grp_proto_submit(nodes[l].p, "x", 1, now), CORE_EFULL);
	assert_int_equal(grp_proto_submit(nodes[(l + 2) % 3].p, "x", 1, now), CORE_EFULL);
	queued[f] = 0;
	run(500);
	assert_int_equal(nodes[f].n_data, 1025);
	submit_n(l, 1);
	run(100);
	assert_int_equal(nodes[f].n_data, 1026);
	teardown_cluster();
}

/* Index in the queue of the first message of this type to node to (entries or none). */
/*
 * A learner that caught up counts for flow control before it is added: a joiner whose
 * service (here: its link) is slower than the group would otherwise stay behind what the
 * leader commits, and never be added. Every node was stopped for 2 s first, so that the
 * leader, just resumed, adds nobody for a while (election_ms and a heartbeat): node 3 stays a
 * learner while its link is busy.
 */
static void test_caught_up_learner_holds_the_group(void **state)
{
	int l;

	(void)state;
	setup_cluster(3);
	l = leader_of(3);
	now += 2000;
	start(3, false);
	run(200);
	/* a learner, not yet in the configuration */
	assert_int_equal(grp_proto_config(nodes[l].p)->n, 3);
	assert_int_equal(grp_proto_config(nodes[l].p)->n_old, 0);
	queued[3] = BUSY;
	submit_n(l, 1025); /* fc_limit 1024, all held back from node 3 */
	run(100);
	assert_int_equal(grp_proto_submit(nodes[l].p, "x", 1, now), CORE_EFULL);
	queued[3] = 0;
	run(3000);
	assert_int_equal(nodes[3].view_n, 4);
	assert_true(nodes[3].primary);
	assert_int_equal(nodes[3].n_data, 1025);
	submit_n(l, 1);
	run(100);
	assert_int_equal(nodes[3].n_data, 1026);
	teardown_cluster();
}

/*
 * A joiner slower than the group: its link takes about 230 entries a second (an APPEND of 256
 * each 1.1 s) while the group submits 400. It replays the 1,000 entries the log held when it
 * came, falling further behind meanwhile; then it counts for flow control, and the group waits
 * for it until it can be added (as Galera's joined node stalls the group for what it queued
 * during its IST). Before, it counted only once within fc_limit of the log, which it never
 * came: it was never added.
 */
static void test_slow_joiner_is_waited_for_after_its_replay(void **state)
{
	int l;
	long refused = 0;

	(void)state;
	fc_limit = 64;
	link_busy = 1024; /* about 16 entries */
	setup_cluster(3);
	l = leader_of(3);
	for (int k = 0; k < 5; k++) {
		submit_n(l, 200);
		run(100);
	}
	slow[3] = 2 * 64; /* two entries' worth each 10 ms */
	start(3, false);
	for (int t = 0; t < 3000 && nodes[3].view_n != 4; t++) {
		for (int k = 0; k < 4 && nodes[l].n_data < DELIV_MAX - 500; k++) {
			char buf[16];
			int len = snprintf(buf, sizeof(buf), "s%d-%d", t, k);

			if (grp_proto_submit(nodes[l].p, buf, (uint32_t)len, now) == CORE_EFULL)
				refused++;
		}
		run(10);
	}
	assert_int_equal(nodes[3].view_n, 4);
	assert_true(nodes[l].n_data < DELIV_MAX - 500); /* added while the group submitted */
	assert_true(refused > 0);                        /* which waited for it */
	slow[3] = 0;
	queued[3] = 0;
	run(2000);
	assert_int_equal(nodes[3].n_data, nodes[l].n_data);
	teardown_cluster();
}

static ssize_t find_msg(int to, uint8_t type, bool entries)
{
	for (size_t k = 0; k < q_n; k++)
		if (queue[k].to == to && queue[k].m->type == type &&
		    (type != GRP_MSG_APPEND || (queue[k].m->u.append.n > 0) == entries))
			return (ssize_t)k;
	return -1;
}

/*
 * While a link holds bytes, a heartbeat may be written before the entries queued ahead of
 * it: it names what the follower acked as prev, so the follower takes it (no failure, no
 * resending of everything queued) whichever arrives first.
 */
static void test_heartbeat_may_overtake_entries(void **state)
{
	struct qmsg held[16];
	size_t n_held = 0;
	uint64_t first_prev;
	ssize_t k;
	int l, f;

	(void)state;
	setup_cluster(3);
	l = leader_of(3);
	f = (l + 1) % 3;
	queued[f] = 1000; /* not busy, but not empty */
	submit_n(l, 5);
	/* The entries for f stay queued behind what comes next. */
	while ((k = find_msg(f, GRP_MSG_APPEND, true)) >= 0) {
		assert_true(n_held < 16);
		held[n_held++] = queue[k];
		memmove(queue + k, queue + k + 1, (q_n - (size_t)k - 1) * sizeof(queue[0]));
		q_n--;
	}
	assert_int_equal(n_held, 5);
	first_prev = held[0].m->u.append.prev_index;
	now += 100;
	grp_proto_tick(nodes[l].p, now); /* the heartbeat */
	k = find_msg(f, GRP_MSG_APPEND, false);
	assert_true(k >= 0);
	assert_true(queue[k].m->u.append.prev_index <= first_prev);
	assert_int_equal(find_msg(f, GRP_MSG_APPEND, true), -1); /* nothing sent twice */
	for (size_t i = 0, n = q_n; i < n; i++)
		if (queue[i].to == f)
			grp_proto_recv(nodes[f].p, queue[i].m, now);
	k = find_msg(l, GRP_MSG_APPEND_ACK, false);
	assert_true(k >= 0);
	for (size_t i = 0; i < q_n; i++)
		if (queue[i].m->type == GRP_MSG_APPEND_ACK &&
		    grp_uuid_eq(&queue[i].m->from.uuid, &nodes[f].me.uuid))
			assert_true(queue[i].m->u.append_ack.success);
	for (size_t i = 0; i < n_held; i++) {
		assert_true(q_n < QMAX);
		queue[q_n++] = held[i];
	}
	drain(true);
	assert_int_equal(nodes[f].n_data, 5);
	teardown_cluster();
}

static void test_duplicated_messages_deliver_once(void **state)
{
	(void)state;
	setup_cluster(3);
	dup = true;
	submit_n(1, 20);
	submit_n(2, 20);
	run(2000);
	for (int i = 0; i < 3; i++)
		assert_int_equal(nodes[i].n_data, 40);
	teardown_cluster();
}

static void test_joiner_beyond_cache_gets_state_transfer(void **state)
{
	struct grp_status st;
	int l;

	(void)state;
	cache_bytes = 64 << 10;
	setup_cluster(3);
	nodes[2].cut = true;
	run(4000); /* removed from the view */
	submit_n(0, 1000); /* 1000 entries of at least 64 bytes: more than the cache */
	run(1000);
	nodes[2].cut = false;
	run(3000);
	assert_true(nodes[2].xfer);
	l = leader_of(3);
	grp_proto_status(nodes[l].p, &st);
	assert_int_equal(grp_proto_xfer_done(nodes[2].p, st.applied, st.term, st.seq, now), 0);
	nodes[2].last_index = 0; /* its deliveries restart after the transferred position */
	submit_n(0, 1);
	run(5000);
	assert_true(nodes[2].primary);
	assert_int_equal(nodes[2].view_n, 3);
	assert_int_equal(nodes[2].delivered_seq[nodes[2].n_data - 1], 1001);
	teardown_cluster();
}

/* A PING from node from to node to that says its service applied index applied. */
static void inject_ping(int to, int from, uint64_t applied)
{
	struct grp_msg *m = calloc(1, sizeof(*m));
	struct grp_status st;

	assert_non_null(m);
	grp_proto_status(nodes[from].p, &st);
	m->type = GRP_MSG_PING;
	m->from = nodes[from].me;
	m->term = st.term;
	m->u.ping.flags = GRP_PING_REPLY;
	m->u.ping.leader = st.leader;
	m->u.ping.applied = applied;
	grp_proto_recv(nodes[to].p, m, now);
	free(m);
}

/*
 * A donor's service must reach the leader's cache: the joiner goes on from the donor's
 * position with what the cache holds. A member that delivered nothing for a while (its leader
 * had lost touch with its majority, so it was not primary) is no donor: named, it handed over
 * the same old state again and again while the leader's cache was past it, and a group whose
 * majority waited for those joiners never came back (simulator, 5 nodes, seed 2766 with the
 * C_new exit's crash rule). Here n1 says its service is at index 1 and the leader names
 * itself.
 */
static void test_donor_reaches_the_cache(void **state)
{
	struct grp_status st;

	(void)state;
	cache_bytes = 64 << 10;
	setup_cluster(3);
	assert_int_equal(leader_of(3), 0);
	nodes[2].cut = true;
	run(4000); /* removed from the view */
	submit_n(0, 1000); /* more than the cache */
	run(1000);
	grp_proto_status(nodes[0].p, &st);
	assert_true(st.cache_first > 2);
	nodes[2].cut = false;
	for (uint64_t t = 0; !nodes[2].xfer && t < 3000; t += 10) {
		inject_ping(0, 1, 1);
		run(10);
	}
	assert_true(nodes[2].xfer);
	assert_true(grp_uuid_eq(&nodes[2].donor, &nodes[0].me.uuid));
	teardown_cluster();
}


/* Two data nodes and an arbitrator: either data node may die, the other stays primary. */
static void test_arbitrator_keeps_quorum(void **state)
{
	(void)state;
	for (int victim = 0; victim < 2; victim++) {
		int other = 1 - victim;

		arbitrator[2] = true;
		setup_cluster(3);
		submit_n(0, 5);
		run(500);
		assert_int_equal(nodes[2].n_data, 5); /* it holds and delivers the log too */
		kill_node(victim);
		submit_n(other, 5);
		run(5000);
		assert_true(nodes[other].primary);
		assert_int_equal(nodes[other].view_n, 2);
		assert_int_equal(nodes[other].n_data, 10);
		assert_true(nodes[2].primary);
		assert_false(nodes[2].xfer);
		teardown_cluster();
	}
}

/*
 * An arbitrator cut off until the leader's cache no longer reaches back to it comes back
 * without a state transfer (it moves its base); a data node in the same place gets one, and
 * the arbitrator is never named its donor.
 */
static void test_arbitrator_needs_no_transfer_and_gives_none(void **state)
{
	(void)state;
	cache_bytes = 64 << 10;
	arbitrator[1] = true;
	setup_cluster(3);
	nodes[1].cut = true;
	submit_n(0, 1000); /* more than the cache, committed by nodes 0 and 2 */
	run(1500);         /* past election_ms: the leader keeps nothing for it; not removed yet */
	assert_int_equal(nodes[0].view_n, 3);
	nodes[1].cut = false;
	nodes[1].last_index = 0; /* its deliveries go on from its new base */
	submit_n(0, 1);
	run(3000);
	assert_false(nodes[1].xfer);
	assert_true(nodes[1].primary);
	assert_int_equal(nodes[1].view_n, 3);
	assert_true(nodes[1].n_data < 1001); /* it skipped what the cache had lost */
	assert_int_equal(nodes[1].delivered_seq[nodes[1].n_data - 1], 1001);
	nodes[2].cut = true;
	run(4000); /* node 2 is removed: the group is node 0 and the arbitrator */
	assert_int_equal(nodes[0].view_n, 2);
	submit_n(0, 1000);
	run(1000);
	nodes[2].cut = false;
	run(3000);
	assert_true(nodes[2].xfer);
	assert_false(grp_uuid_eq(&nodes[2].donor, &nodes[1].me.uuid));
	teardown_cluster();
}

/* An arbitrator joins a group whose cache no longer holds its seq 0: no state transfer. */
static void test_arbitrator_joins_late(void **state)
{
	(void)state;
	cache_bytes = 64 << 10;
	now = 1000;
	start(0, true);
	start(1, false);
	run(3000);
	submit_n(0, 1000);
	run(1000);
	arbitrator[2] = true;
	start(2, false);
	run(5000);
	assert_false(nodes[2].xfer);
	assert_true(nodes[2].primary);
	assert_int_equal(nodes[2].view_n, 3);
	assert_int_equal(nodes[2].my_index >= 0, true);
	assert_int_equal(nodes[2].n_data, 0); /* it started at the commit index: no replay */
	/* It now counts: with it, node 0 survives node 1's death. */
	kill_node(1);
	submit_n(0, 1);
	run(5000);
	assert_true(nodes[0].primary);
	assert_int_equal(nodes[0].n_data, 1001);
	teardown_cluster();
}

/* An APPEND_ACK from node `from` reaches node `to` now, as if it had been on the way. */
static void inject_ack(int to, int from, uint64_t term, bool success, uint64_t match)
{
	struct grp_msg *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	m->type = GRP_MSG_APPEND_ACK;
	m->from = nodes[from].me;
	m->term = term;
	m->u.append_ack.success = success;
	m->u.append_ack.match = match;
	grp_proto_recv(nodes[to].p, m, now);
	free(m);
}

/*
 * A follower's refusal of an APPEND that overtook an earlier one can arrive after its answer
 * to the earlier one, and after the leader's cache moved past what the refusal names. It is
 * a delayed answer: the leader goes on from what the follower acked and does not send it to
 * a state transfer. (A leader that is an arbitrator, with no other data member, cannot give
 * one: the simulator found such groups stuck, 3 nodes and an arbitrator, seed 2898.)
 */
static void test_delayed_refusal_keeps_follower(void **state)
{
	struct grp_status st;
	int l, f;

	(void)state;
	cache_bytes = 64 << 10;
	setup_cluster(3);
	l = leader_of(3);
	f = (l + 1) % 3;
	submit_n(l, 1000); /* more than the cache: only what f has not acked stays for it */
	run(1000);
	assert_int_equal(nodes[f].n_data, 1000);
	grp_proto_status(nodes[l].p, &st);
	assert_true(st.cache_first > 2);
	inject_ack(l, f, st.term, false, 1); /* where it was when the overtaking APPEND came */
	assert_int_equal(find_msg(f, GRP_MSG_XFER, false), -1);
	assert_int_equal(find_msg(f, GRP_MSG_APPEND, false), -1); /* nothing to answer */
	submit_n(l, 1);
	run(3000);
	assert_false(nodes[f].xfer);
	assert_int_equal(nodes[f].n_data, 1001);
	teardown_cluster();
}

/* Node i crashes and a new process starts from its state file d, its service at pos. */
static void restart_from_state(int i, const struct grp_durable *d, const struct grp_position *pos)
{
	struct grp_params par;

	kill_node(i);
	grp_params_default(&par);
	par.seed = 99;
	assert_int_equal(grp_proto_restore(&nodes[i].me, &par, &ops, (void *)(intptr_t)i, d, pos,
					   now, &nodes[i].p),
			 0);
}

/*
 * A member restarted from its state file keeps its uuid but not its log, and an ack of the
 * process before it, arriving late, raises what the leader thinks it holds past what it
 * does. Its refusals then count, below that too, as long as it says it came back without its
 * log (GRP_PING_STALE): otherwise the leader keeps sending it what follows entries it lacks,
 * and it keeps refusing (the simulator found that loop: 5 nodes, two arbitrators, seed 753).
 */
static void test_restored_member_refusals_count(void **state)
{
	struct grp_durable d;
	struct grp_position pos;
	struct grp_status st;
	bool dropped = false;
	int l, f;

	(void)state;
	setup_cluster(3);
	l = leader_of(3);
	f = (l + 1) % 3;
	submit_n(l, 10);
	run(500);
	pos = nodes[f].svc; /* its service stays here: it applies the rest after the crash */
	d = nodes[f].dur;
	assert_true(d.n == 3);
	submit_n(l, 600);
	run(1000);
	grp_proto_status(nodes[l].p, &st); /* f's process acked up to st.last_index */
	restart_from_state(f, &d, &pos);
	nodes[f].last_index = pos.index;
	nodes[f].n_data = 10;
	for (int j = 0; j < 3; j++)
		if (j != f) {
			grp_proto_peer_up(nodes[f].p, &nodes[j].me, now);
			grp_proto_peer_up(nodes[j].p, &nodes[f].me, now);
		}
	/* It starts at its service's position and takes the first APPEND; the next is lost,
	 * and the late ack of its process before arrives. */
	while (q_n && !dropped) {
		struct qmsg q = queue[0];

		memmove(queue, queue + 1, (q_n - 1) * sizeof(queue[0]));
		q_n--;
		if (q.to == f && q.m->type == GRP_MSG_APPEND &&
		    q.m->u.append.prev_index > pos.index && q.m->u.append.n) {
			dropped = true;
			inject_ack(l, f, st.term, true, st.last_index);
		} else if (nodes[q.to].p) {
			grp_proto_recv(nodes[q.to].p, q.m, now);
		}
		free_msg(q.m);
	}
	assert_true(dropped);
	run(3000);
	assert_int_equal(nodes[f].n_data, 610);
	assert_true(nodes[f].primary);
	assert_int_equal(nodes[f].view_n, 3);
	teardown_cluster();
}

/* As the runtime when grp_proto_restart_due() says so: a restart from its state file. */
static void survivor_restart(int i)
{
	struct grp_durable d;
	struct grp_position svc;
	struct grp_params par;

	if (!grp_proto_restart_due(nodes[i].p, &d, &svc))
		return;
	d.gen++;
	nodes[i].dur = d;
	nodes[i].survivor_restarts++;
	kill_node(i);
	grp_params_default(&par);
	par.seed = 77;
	assert_int_equal(grp_proto_restore(&nodes[i].me, &par, &ops, (void *)(intptr_t)i, &d, &svc,
					   now, &nodes[i].p),
			 0);
	for (int j = 0; j < NODES; j++)
		if (j != i && nodes[j].p) {
			grp_proto_peer_up(nodes[i].p, &nodes[j].me, now);
			grp_proto_peer_up(nodes[j].p, &nodes[i].me, now);
		}
}

/*
 * A member cut off from the others (up, non-primary) while they crash and restart from their
 * state files: they wait for every member of their last views, it among them, as restored
 * nodes. It restarts to take part (grp_proto_restart_due), as Galera counts the survivors,
 * and the group comes back by itself; it catches up by a state transfer from the furthest.
 * Before, the restarted nodes waited for it to be restarted too, for good.
 */
static void test_survivor_takes_part_in_restart(void **state)
{
	struct grp_durable d;
	struct grp_position pos;
	struct grp_status st;
	int l, surv, donor;

	(void)state;
	setup_cluster(3);
	l = leader_of(3);
	surv = (l + 1) % 3;
	submit_n(l, 10);
	run(500);
	nodes[surv].cut = true;
	submit_n(l, 5);
	run(500);
	assert_int_equal(nodes[l].n_data, 15);
	assert_int_equal(nodes[surv].n_data, 10);
	for (int i = 0; i < 3; i++)
		if (i != surv) {
			d = nodes[i].dur;
			pos = nodes[i].svc; /* the service applied all 15 */
			assert_int_equal(d.n, 3);
			restart_from_state(i, &d, &pos);
		}
	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			if (i != j)
				grp_proto_peer_up(nodes[i].p, &nodes[j].me, now);
	run(4000);
	assert_false(nodes[surv].primary); /* cut off all along */
	assert_int_equal(nodes[surv].survivor_restarts, 0);
	nodes[surv].cut = false;
	RUN_UNTIL(nodes[surv].xfer, 10000);
	assert_int_equal(nodes[surv].survivor_restarts, 1);
	assert_true(nodes[surv].xfer);
	donor = node_of(&nodes[surv].donor);
	assert_true(donor >= 0 && donor != surv);
	grp_proto_status(nodes[donor].p, &st);
	assert_int_equal(grp_proto_xfer_done(nodes[surv].p, st.applied, st.term, st.seq, now), 0);
	nodes[surv].last_index = 0; /* its deliveries go on after the transferred position */
	nodes[surv].n_data = st.seq;
	RUN_UNTIL(nodes[0].primary && nodes[1].primary && nodes[2].primary &&
			  nodes[0].view_n == 3 && nodes[surv].view_n == 3,
		  10000);
	for (int i = 0; i < 3; i++) {
		assert_true(nodes[i].primary);
		assert_int_equal(nodes[i].view_n, 3);
		assert_int_equal(nodes[i].n_data, 15);
	}
	l = leader_of(3);
	assert_true(l >= 0);
	submit_n(l, 1);
	run(1000);
	for (int i = 0; i < 3; i++)
		assert_int_equal(nodes[i].n_data, 16);
	assert_int_equal(nodes[surv].survivor_restarts, 1);
	teardown_cluster();
}

/* Delivers the messages of this type in flight to node to, and leaves the others queued. */
static void deliver_to(int to, uint8_t type)
{
	size_t k = 0;

	while (k < q_n)
		if (queue[k].to == to && queue[k].m->type == type) {
			struct qmsg q = queue[k];

			memmove(queue + k, queue + k + 1, (q_n - k - 1) * sizeof(queue[0]));
			q_n--;
			grp_proto_recv(nodes[to].p, q.m, now);
			free_msg(q.m);
		} else {
			k++;
		}
}

/*
 * A leader that lost touch with its majority can still commit: an ack that comes before the
 * others completes a majority holding an entry, with acks heard earlier. It delivers that
 * entry once it is back in touch, before it tells anyone the entry is committed; the
 * followers deliver only what it delivered. (The simulator found the leader's service left
 * behind what a learner had delivered, and the group restarted after a crash of every node
 * from the leader's position, writing another entry there: 5 nodes, seed 2430.)
 */
static void test_leader_delivers_what_it_committed_while_cut_off(void **state)
{
	struct grp_status st;
	int l;

	(void)state;
	setup_cluster(5);
	l = leader_of(5);
	submit_n(l, 1);
	grp_proto_flush(nodes[l].p);
	deliver_to((l + 1) % 5, GRP_MSG_APPEND); /* their acks are lost */
	deliver_to((l + 2) % 5, GRP_MSG_APPEND);
	discard();
	grp_proto_status(nodes[l].p, &st);
	inject_ack(l, (l + 1) % 5, st.term, true, st.last_index); /* held by 2 of 5 */
	for (int t = 0; t < 150; t++) { /* no answer for election_ms: it lost touch */
		now += 10;
		grp_proto_tick(nodes[l].p, now);
		discard();
	}
	assert_false(nodes[l].primary);
	inject_ack(l, (l + 2) % 5, st.term, true, st.last_index); /* 3 of 5 hold it */
	assert_int_equal(nodes[l].n_data, 0);
	grp_proto_tick(nodes[l].p, now + 100); /* a heartbeat to everyone */
	assert_true(find_msg((l + 1) % 5, GRP_MSG_APPEND, false) >= 0);
	for (size_t k = 0; k < q_n; k++)
		if (queue[k].m->type == GRP_MSG_APPEND)
			assert_true(queue[k].m->u.append.commit <= nodes[l].last_index);
	inject_ack(l, (l + 3) % 5, st.term, true, 0); /* back in touch */
	assert_true(nodes[l].primary);
	assert_int_equal(nodes[l].n_data, 1);
	run(1000);
	for (int i = 0; i < 5; i++)
		assert_int_equal(nodes[i].n_data, 1);
	teardown_cluster();
}

/*
 * A leader that did not run for longer than suspect_ms (a paused process) changes no
 * configuration for a while after: the member whose old answer waited for it is not taken
 * for the only one alive, nor the others for dead. (The simulator found a leader that, thawed,
 * kept a member that had just stopped and removed a live one: the group stuck under a
 * configuration that needed the stopped one, 3 nodes, seed 973.) A member that stays silent
 * once it runs again is removed as before.
 */
/* Leader l was stopped for 4 s: it resumes, and the first thing it reads is f's ack, which
 * waited for it. */
static void resume_paused_leader(int l, int f)
{
	struct grp_status st;

	grp_proto_status(nodes[l].p, &st);
	now += 4000;
	inject_ack(l, f, st.term, true, st.last_index);
	grp_proto_tick(nodes[l].p, now);
}

static void test_paused_leader_removes_nobody_at_once(void **state)
{
	int l, f, g;

	(void)state;
	setup_cluster(3);
	l = leader_of(3);
	f = (l + 1) % 3;
	g = (l + 2) % 3;
	resume_paused_leader(l, f); /* g's answer did not come */
	assert_int_equal(grp_proto_config(nodes[l].p)->n, 3);
	assert_int_equal(grp_proto_config(nodes[l].p)->n_old, 0);
	nodes[g].cut = true;
	run(5000);
	assert_int_equal(nodes[l].view_n, 2);
	assert_true(nodes[l].primary);
	teardown_cluster();
}

/*
 * Nor does it give up on a learner at once: the learner's acks may wait unread behind the
 * pause. Given up at the tick that ended the pause, a learner got no APPENDs until its next
 * PING and started over from there (under ASan on a loaded machine, where loop iterations
 * took seconds, restored nodes flapped between primary and not and were never added).
 */
static void test_paused_leader_keeps_its_learners(void **state)
{
	int l, f, j = 2;

	(void)state;
	setup_cluster(2);
	l = leader_of(2);
	f = 1 - l;
	start(j, false);
	grp_proto_tick(nodes[j].p, now); /* it asks to join */
	drain(false);
	assert_true(nodes[j].primary); /* a learner: it receives the stream */
	assert_int_equal(nodes[j].my_index, -1);
	resume_paused_leader(l, f); /* j's answers wait behind the pause */
	discard();
	submit_n(l, 1);
	assert_true(find_msg(j, GRP_MSG_APPEND, true) >= 0); /* still replicated to */
	run(3000);
	assert_true(nodes[j].primary);
	assert_int_equal(nodes[l].view_n, 3);
	assert_int_equal(nodes[j].n_data, 1);
	teardown_cluster();
}

/*
 * The leader dies after sending C_new to the member it removes and to nobody else. The others
 * hold only C_old,new, and the removed one, whose log is ahead, refuses them its vote: it must
 * stand itself, under C_new (in which its own vote does not count), commit it and step down.
 * Here weights make the member that stays a majority of C_new alone. (The simulator found the
 * group stuck: 3 weighted nodes, seed 4647; 5 nodes, seed 165.)
 */
static void test_removed_member_holding_cnew_stands(void **state)
{
	const struct grp_config *c;

	(void)state;
	weights[0] = 1;
	weights[1] = 2;
	weights[2] = 1;
	setup_cluster(3);
	assert_int_equal(leader_of(3), 0);
	cnew_from = 0;
	cnew_to[1] = true;
	grp_proto_leave(nodes[2].p, now);
	RUN_UNTIL(!grp_proto_config(nodes[2].p)->n_old && grp_proto_config(nodes[2].p)->n == 2,
		  3000);
	c = grp_proto_config(nodes[2].p);
	assert_int_equal(c->n_old, 0);
	assert_int_equal(grp_proto_config(nodes[1].p)->n_old, 3);
	kill_node(0);
	cnew_from = -1;
	run(6000);
	assert_true(nodes[1].primary);
	assert_int_equal(nodes[1].view_n, 1);
	assert_int_equal(nodes[2].my_index, -1);
	teardown_cluster();
}

/* The weight of slot j in the new half of the configuration node i holds (0: not in it). */
static uint32_t new_weight(int i, int j)
{
	const struct grp_config *c = grp_proto_config(nodes[i].p);
	int k = grp_config_find(c, &nodes[j].me.uuid);

	return k < 0 ? 0 : c->m[k].weight;
}

/*
 * Leader l gives joiner j its weight (C_old,new, then C_new), and its APPENDs lose C_new on
 * the way to everyone but keeper: the others hold the joint configuration, committed, and no
 * more.
 */
static void promote_losing_cnew(int l, int j, int keeper)
{
	RUN_UNTIL(grp_proto_config(nodes[l].p)->n_old && new_weight(l, j), 5000);
	assert_true(grp_proto_config(nodes[l].p)->n_old > 0);
	cnew_from = l;
	for (int i = 0; i < NODES; i++)
		cnew_to[i] = i != l && i != keeper;
	RUN_UNTIL(!grp_proto_config(nodes[l].p)->n_old, 5000);
	assert_int_equal(grp_proto_config(nodes[l].p)->n_old, 0);
	assert_true(new_weight(l, j) > 0);
}

/*
 * A member that leads while its own record has weight 0 gives itself its weight, as a leader
 * gives a joiner its own. n1 joins (weight 0 until promoted) and n0 leaves before n1 was
 * given its weight: the group is n1 alone, weight 0, so members count and it leads. Its vote
 * counted for nothing while it led: n2, joining next, was a majority alone. (Seen in the
 * simulator, seed 596.)
 */
static void test_leader_gives_itself_its_weight(void **state)
{
	(void)state;
	now = 1000;
	q_n = 0;
	start(0, true);
	run(1000);
	start(1, false);
	nodes[1].cut = true; /* it hears nothing, answers nothing: n0 promotes nobody */
	RUN_UNTIL(grp_config_find(grp_proto_config(nodes[0].p), &nodes[1].me.uuid) >= 0, 5000);
	assert_int_equal(new_weight(0, 1), 0);
	grp_proto_leave(nodes[0].p, now);
	run(1000);
	nodes[1].cut = false;
	RUN_UNTIL(leader_of(2) == 1, 5000);
	assert_int_equal(leader_of(2), 1);
	assert_int_equal(nodes[1].view_n, 1);
	RUN_UNTIL(new_weight(1, 1) && !grp_proto_config(nodes[1].p)->n_old, 5000);
	assert_int_equal(new_weight(1, 1), 1);
	assert_int_equal(grp_proto_config(nodes[1].p)->n_old, 0);
	/* Now n1 and n2 weigh the same: n2 cut off from n1 is no majority alone. */
	start(2, false);
	RUN_UNTIL(new_weight(1, 2) && !grp_proto_config(nodes[1].p)->n_old, 5000);
	assert_int_equal(new_weight(1, 1), 1);
	assert_int_equal(new_weight(1, 2), 1);
	nodes[1].cut = true;
	run(5000);
	assert_false(nodes[2].primary);
	teardown_cluster();
}

/* A joint configuration of members 1..n: their weights in the old and new halves, -1: not in. */
static void joint_cfg(struct grp_config *c, uint32_t n, const int *old_w, const int *new_w)
{
	memset(c, 0, sizeof(*c));
	for (uint32_t i = 0; i < n; i++) {
		struct grp_member m = {.uuid.b[0] = (uint8_t)(i + 1)};

		if (old_w[i] >= 0) {
			m.weight = (uint32_t)old_w[i];
			c->old[c->n_old++] = m;
		}
		if (new_w[i] >= 0) {
			m.weight = (uint32_t)new_w[i];
			c->m[c->n++] = m;
		}
	}
}

/* Every weighted majority of the old half holds at least half the new half's weight. */
static void test_old_covers_new(void **state)
{
	static const struct {
		uint32_t n;
		int old_w[GRP_MEMBERS_MAX], new_w[GRP_MEMBERS_MAX];
		bool covers;
	} cases[] = {
		{4, {1, 1, 1, 0}, {1, 1, 1, 1}, true},           /* a joiner given its weight */
		{4, {1, 1, 1, -1}, {1, 1, 1, 0}, true},          /* a joiner added with weight 0 */
		{3, {1, 1, 1}, {1, 1, -1}, true},                /* one of three removed */
		{3, {1, 1, 1}, {1, 1, 1}, true},                 /* the same again */
		{3, {3, 1, 1}, {3, 1, 1}, true},                 /* one member outweighs the rest */
		{4, {1, 1, 1, -1}, {1, 1, -1, 1}, false},        /* C replaced by D */
		{5, {1, 1, 1, 1, 1}, {1, 1, 1, -1, -1}, false},  /* two of five removed */
		{5, {1, 1, 1, 2, 0}, {1, 1, 1, -1, 1}, false},   /* the replacement refused below */
		{3, {0, 0, 0}, {1, 1, 1}, false},                /* no old weight: members count */
		{3, {1, 1, 1}, {0, 0, 0}, false},                /* no new weight */
		{3, {1, 1, 1}, {-1, -1, -1}, false},             /* no new half */
		{4, {255, 255, 255, 0}, {255, 255, 255, 255}, true},
		{4, {255, 255, 255, -1}, {255, 255, -1, 255}, false},
		{2, {1, 100000}, {1, 100000}, false},            /* too heavy to check */
	};
	struct grp_config c;
	int w[GRP_MEMBERS_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		joint_cfg(&c, cases[i].n, cases[i].old_w, cases[i].new_w);
		if (grp_config_old_covers_new(&c) != cases[i].covers)
			fail_msg("case %zu", i);
	}
	/* The largest configurations: 32 members of weight 255, the 32nd given its weight. */
	for (int i = 0; i < GRP_MEMBERS_MAX; i++)
		w[i] = GRP_WEIGHT_MAX;
	joint_cfg(&c, GRP_MEMBERS_MAX, w, w);
	c.old[GRP_MEMBERS_MAX - 1].weight = 0;
	assert_true(grp_config_old_covers_new(&c));
	/* half of them replaced: a majority of the old half may be gone from the new one */
	for (int i = 0; i < GRP_MEMBERS_MAX; i++)
		c.m[i].uuid.b[1] = i < 16 ? 1 : 0;
	assert_false(grp_config_old_covers_new(&c));
	c.n_old = 0;
	assert_false(grp_config_old_covers_new(&c));
}

/*
 * Leader n0 gives joiner n3 its weight: C_old is n0, n1, n2 and n3 with weight 0, C_new the
 * same with n3 weighing 1. The joint entry commits, C_new reaches n3 alone, and the leader and
 * n3 die. n1 and n2 are 2 of 3 in the old half but 2 of 4 in the new one: no quorum of the
 * joint configuration is alive, and the group was stuck for good (Galera re-forms here). They
 * elect one of them all the same (the joint-configuration exit: every majority of the old
 * half holds half the new one, so nothing was decided under C_new alone without one of them),
 * which replaces the joint entry by one over the same old half and goes on.
 */
static void test_joint_exit_after_leader_and_promoted_die(void **state)
{
	int l, f, g;

	(void)state;
	setup_cluster(3);
	l = leader_of(3);
	f = (l + 1) % 3;
	g = (l + 2) % 3;
	submit_n(l, 5);
	start(3, false);
	promote_losing_cnew(l, 3, 3);
	assert_int_equal(grp_proto_config(nodes[f].p)->n_old, 4);
	assert_int_equal(grp_proto_config(nodes[g].p)->n_old, 4);
	kill_node(l);
	kill_node(3);
	cnew_from = -1;
	submit_n(f, 5);
	run(6000);
	assert_true(leader_of(3) >= 0);
	for (int i = 0; i < 3; i++) {
		if (i == l)
			continue;
		assert_true(nodes[i].primary);
		assert_int_equal(nodes[i].view_n, 2);
		assert_int_equal(nodes[i].n_data, 10);
	}
	teardown_cluster();
}

/*
 * A change that replaces members: n3 (weight 2) is judged dead by leader n0 while joiner n4 is
 * given its weight, in one change: C_old is n0, n1, n2, n3 (weight 2) and n4 (weight 0); C_new
 * is n0, n1, n2 and n4 (weight 1). C_new reaches keeper alone (n1 or n4); n2 holds the joint
 * configuration, committed. A majority of the old half may hold less than half the new one (n0
 * and n3: 1 of 4), so the joint-configuration exit does not apply.
 */
static void replace_n3_by_n4(int keeper)
{
	const struct grp_config *c;
	struct grp_uuid alive[3];

	weights[3] = 2;
	setup_cluster(4);
	assert_int_equal(leader_of(4), 0);
	start(4, false);
	/* n4 comes in with weight 0, while n3 and n4 are cut off: no promotion yet */
	RUN_UNTIL(grp_proto_config(nodes[0].p)->n_old &&
			  grp_config_find(grp_proto_config(nodes[0].p), &nodes[4].me.uuid) >= 0,
		  5000);
	nodes[3].cut = nodes[4].cut = true;
	RUN_UNTIL(nodes[0].view_n == 5, 5000);
	assert_int_equal(nodes[0].view_n, 5);
	/* The leader pauses: once it judges again, n3 is silent for long and n4 answers. */
	nodes[4].cut = false;
	now += 4000;
	grp_proto_tick(nodes[0].p, now);
	promote_losing_cnew(0, 4, keeper);
	c = grp_proto_config(nodes[2].p);
	assert_int_equal(c->n_old, 5);
	assert_int_equal(c->n, 4);
	assert_int_equal(grp_config_find(c, &nodes[3].me.uuid), -1);
	/* n1, n2 and n3: a majority of the old half, half the new one; but not every majority */
	for (int i = 0; i < 3; i++)
		alive[i] = nodes[i + 1].me.uuid;
	assert_true(2 * grp_config_weight(c->old, c->n_old, alive, 3) > 5);
	assert_true(2 * grp_config_weight(c->m, c->n, alive, 3) >= 4);
	assert_false(grp_config_old_covers_new(c));
	RUN_UNTIL(!grp_proto_config(nodes[keeper].p)->n_old, 1000);
	c = grp_proto_config(nodes[keeper].p);
	assert_int_equal(c->n_old, 0);
	assert_int_equal(c->n, 4);
}

/* Nodes from..to-1 neither lead nor are primary. */
static void assert_nobody_leads(int from, int to)
{
	struct grp_status st;

	for (int i = from; i < to; i++) {
		grp_proto_status(nodes[i].p, &st);
		assert_false(st.is_leader);
		assert_false(nodes[i].primary);
	}
}

/* After replace_n3_by_n4: n0 and n4 die, n3 comes back; n1, n2 and n3 elect nobody. */
static void survivors_elect_nobody(void)
{
	kill_node(0);
	kill_node(4);
	nodes[3].cut = false;
	cnew_from = -1;
	run(10000);
	assert_nobody_leads(1, 4);
	teardown_cluster();
}

/*
 * Not where the change replaces members (replace_n3_by_n4). n0 and n4 die after C_new reached
 * n4 alone, and n3 comes back. n1, n2 and n3 are 4 of 5 in the old half and 2 of 4 in the new
 * one, but not every majority of the old half is. Elected, n1 could commit with n3 alone (3 of
 * 5 in the old half), and n0, n2 and n4, a majority of C_new, could then elect another leader
 * that lacks it. So nobody is elected.
 */
static void test_joint_exit_refused_when_members_are_replaced(void **state)
{
	(void)state;
	replace_n3_by_n4(4);
	survivors_elect_nobody();
}

/*
 * 3 nodes: c leaves while leader l's APPENDs lose C_new on the way to loser; runs until holder
 * holds C_new (the two that stay).
 */
static void leave_losing_cnew(int l, int c, int loser, int holder)
{
	cnew_from = l;
	cnew_to[loser] = true;
	grp_proto_leave(nodes[c].p, now);
	RUN_UNTIL(!grp_proto_config(nodes[holder].p)->n_old &&
			  grp_proto_config(nodes[holder].p)->n == 2,
		  3000);
	assert_int_equal(grp_proto_config(nodes[holder].p)->n_old, 0);
	assert_int_equal(grp_proto_config(nodes[holder].p)->n, 2);
}

/* dead dies; once c left, a leads a primary view of one and orders what it submits. */
static void goes_on_alone(int dead, int a, int c)
{
	struct grp_status st;
	uint64_t had;

	kill_node(dead);
	cnew_from = -1;
	run(8000);
	had = nodes[a].n_data;
	assert_int_equal(leader_of(3), a);
	assert_true(nodes[a].primary);
	assert_int_equal(nodes[a].view_n, 1);
	submit_n(a, 3);
	run(1000);
	assert_int_equal(nodes[a].n_data, had + 3);
	grp_proto_status(nodes[c].p, &st);
	assert_false(st.member);
	teardown_cluster();
}

/*
 * The example a user hits: 3 nodes, c leaves gracefully (C_new is {a, b}), and b is killed
 * right after the joint entry commits, before it acks C_new. a, the leader, and c are a
 * majority of the old half {a, b, c}, but C_new needs b: nobody could commit again. a replaces
 * its C_new by a joint entry over the old half ({a, b, c} to {a}), which commits with c's ack,
 * then {a}; c is out and a goes on alone. Every majority of {a, b, c} holds half of {a, b}, so
 * whatever C_new could have decided meets every majority of the old half.
 */
static void test_cnew_exit_live_leader_after_leave_and_crash(void **state)
{
	int a, b, c;

	(void)state;
	setup_cluster(3);
	a = leader_of(3);
	b = (a + 1) % 3;
	c = (a + 2) % 3;
	leave_losing_cnew(a, c, b, a);
	goes_on_alone(b, a, c);
}

/*
 * The leader dies while c leaves, right after it sent C_new ({leader, a}) to one survivor
 * only: a (the one that stays) or c (the one leaving). The other holds the joint entry. The
 * one holding C_new has the longer log, so the other never gets its vote, and C_new needs the
 * dead leader. It is elected by the old half all the same ({leader, a, c}: 2 of 3, and a is
 * half of C_new), replaces C_new by a joint entry over the old half and goes on with a alone.
 */
static void test_cnew_exit_elects_survivor_holding_cnew(void **state)
{
	(void)state;
	for (int keeper = 0; keeper < 2; keeper++) {
		int l, a, c;

		setup_cluster(3);
		l = leader_of(3);
		a = (l + 1) % 3;
		c = (l + 2) % 3;
		leave_losing_cnew(l, c, keeper ? a : c, keeper ? c : a);
		assert_int_equal(grp_proto_config(nodes[keeper ? a : c].p)->n_old, 3);
		goes_on_alone(l, a, c);
	}
}

/*
 * Nor under a C_new where the change replaces members (replace_n3_by_n4): n0 and n4 die after
 * C_new reached n1 alone, and n3 comes back. n1, which holds C_new, and n2 and n3 are 4 of 5
 * in the old half and 2 of 4 in the new one; elected, n1 could commit with n3 alone, and n0, n2
 * and n4 could then elect a leader that lacks it. Nobody is elected.
 */
static void test_cnew_exit_refused_when_members_are_replaced(void **state)
{
	(void)state;
	replace_n3_by_n4(1);
	survivors_elect_nobody();
}

/*
 * The same for a live leader (replace_n3_by_n4): n0 holds C_new, which reached n1 too, and n2
 * and n4 die. C_new has lost its majority (n0 and n1 of four) while n0, n1 and n3 are 4 of 5
 * in the old half; but a joint entry over the old half could commit with n0 and n3, and n1, n2
 * and n4 could later elect a leader under C_new that lacks it. n0 keeps C_new and waits.
 */
static void test_live_leader_keeps_cnew_when_members_are_replaced(void **state)
{
	struct grp_status st;

	(void)state;
	replace_n3_by_n4(1);
	kill_node(2);
	kill_node(4);
	nodes[3].cut = false;
	cnew_from = -1;
	run(10000);
	grp_proto_status(nodes[0].p, &st);
	assert_true(st.is_leader);
	assert_false(st.primary);
	assert_int_equal(grp_proto_config(nodes[0].p)->n_old, 0);
	assert_int_equal(grp_proto_config(nodes[0].p)->n, 4);
	assert_nobody_leads(1, 2);
	assert_nobody_leads(3, 4);
	teardown_cluster();
}

/*
 * A leader that leaves appends C_new without itself, and leads until that commits: it is
 * still a member until then (grp_status.member), so a service that waits for "not a member"
 * does not stop it while the others hold only C_old,new, whose old half needs it. (The
 * simulator found the group stuck after a leader left: 3 nodes, seed 1611.)
 */
static void test_leaving_leader_is_member_until_cnew_commits(void **state)
{
	struct grp_status st;
	int l;

	(void)state;
	setup_cluster(3);
	l = leader_of(3);
	cnew_from = l;
	memset(cnew_to, 1, sizeof(cnew_to));
	grp_proto_leave(nodes[l].p, now);
	run(2000);
	assert_int_equal(grp_proto_config(nodes[l].p)->n_old, 0);
	assert_int_equal(grp_proto_config(nodes[l].p)->n, 2);
	grp_proto_status(nodes[l].p, &st);
	assert_true(st.member);
	assert_true(st.is_leader);
	cnew_from = -1;
	run(2000);
	grp_proto_status(nodes[l].p, &st);
	assert_false(st.member);
	assert_false(st.is_leader);
	kill_node(l);
	run(3000);
	l = leader_of(3);
	assert_true(l >= 0);
	assert_int_equal(nodes[l].view_n, 2);
	teardown_cluster();
}

/*
 * A node whose service applied the leader's entry at prev (same index and term) takes its
 * start there even if the leader does not know that entry to be committed yet: its service
 * delivered it, so it is. A leader elected since may need this node's ack to commit anything:
 * a leader that is an arbitrator needs a data member to hold its entries, and this may be the
 * only one that can (the simulator found that stuck: a member restarted from its state file,
 * 5 nodes, two arbitrators, seed 180; a new process whose service was ahead, 3 nodes and an
 * arbitrator, seed 214). Both kinds: restored, and new with its service's position.
 */
static void test_node_starts_at_its_service(void **state)
{
	(void)state;
	for (int restored = 0; restored < 2; restored++) {
		struct grp_durable d;
		struct grp_position pos;
		struct grp_status st;
		struct grp_msg *m;
		ssize_t k;
		int l, f;

		setup_cluster(3);
		l = leader_of(3);
		f = (l + 1) % 3;
		submit_n(l, 10);
		run(500);
		pos = nodes[f].svc;
		d = nodes[f].dur;
		grp_proto_status(nodes[l].p, &st);
		if (restored) {
			restart_from_state(f, &d, &pos);
		} else {
			kill_node(f);
			start_at(f, &pos);
		}
		discard(); /* nothing else reaches it: it has no start yet */
		m = calloc(1, sizeof(*m));
		assert_non_null(m);
		m->type = GRP_MSG_APPEND;
		m->from = nodes[l].me;
		m->term = st.term + 1; /* a leader elected since, that knows an older commit */
		m->u.append.prev_index = pos.index;
		m->u.append.prev_term = pos.term;
		m->u.append.prev_seq = pos.seq;
		m->u.append.commit = pos.index - 1;
		grp_proto_recv(nodes[f].p, m, now);
		free(m);
		k = find_msg(l, GRP_MSG_APPEND_ACK, false);
		assert_true(k >= 0);
		assert_true(queue[k].m->u.append_ack.success);
		assert_int_equal(queue[k].m->u.append_ack.match, pos.index);
		teardown_cluster();
	}
}

/* Runs in 10 ms steps until node i holds a configuration of n without itself (or a limit). */
static bool run_until_out_of_view(int i, uint32_t n, uint64_t ms)
{
	for (uint64_t t = 0; t < ms; t += 10) {
		const struct grp_config *c = grp_proto_config(nodes[i].p);

		if (c->n == n && !c->n_old && grp_config_find(c, &nodes[i].me.uuid) < 0)
			return true;
		run(10);
	}
	return false;
}

/*
 * A node removed while it was cut off, and then behind the leader's cache, comes back by a
 * state transfer (an arbitrator: by moving its base) to a position past the CONFIG entry that
 * removed it. The leader's first APPEND from there tells it the configuration in force at
 * that position: it is not a member, and its view says so, before any CONFIG entry reaches
 * it. (With the configuration it had delivered before, it was a member in its own eyes: the
 * simulator found such a node elected with another removed member's vote, a second primary
 * component, 5 nodes, seed 2528, before it was held back from elections until a CONFIG entry.)
 */
static void test_transfer_tells_the_configuration(void **state)
{
	(void)state;
	for (int arb = 0; arb < 2; arb++) {
		struct grp_status st;

		cache_bytes = 64 << 10;
		arbitrator[2] = arb;
		setup_cluster(3);
		nodes[2].cut = true;
		run(4000);
		assert_int_equal(nodes[0].view_n, 2);
		submit_n(0, 1000); /* past the cache */
		run(1000);
		nodes[2].cut = false;
		nodes[2].last_index = 0; /* its deliveries go on from its new base */
		if (!arb) {
			RUN_UNTIL(nodes[2].xfer, 3000);
			assert_true(nodes[2].xfer);
			grp_proto_status(nodes[0].p, &st);
			assert_int_equal(grp_proto_xfer_done(nodes[2].p, st.applied, st.term, st.seq,
							     now),
					 0);
		}
		assert_true(run_until_out_of_view(2, 2, 1000));
		assert_int_equal(nodes[2].view_n, 2);
		assert_int_equal(nodes[2].my_index, -1);
		assert_int_equal(nodes[2].view_id, nodes[0].view_id);
		run(5000); /* and it is added again, as any joiner */
		assert_int_equal(nodes[2].view_n, 3);
		assert_true(nodes[2].primary);
		teardown_cluster();
	}
}

/*
 * A member the leader has not heard acking for election_ms PINGs it (it comes back from a
 * pause or a partition): the leader answers with an APPEND at once, so that its ack shows it
 * alive before suspect_ms runs out, rather than waiting for the next heartbeat. (The
 * simulator found a member removed 25 ms after it came back: 3 nodes, seed 3852.)
 */
static void test_member_back_gets_append_at_once(void **state)
{
	ssize_t k;
	int l, f;

	(void)state;
	setup_cluster(3);
	l = leader_of(3);
	f = (l + 1) % 3;
	nodes[f].cut = true;
	run(1500);
	nodes[f].cut = false;
	drain(false);
	now += 100;
	grp_proto_tick(nodes[f].p, now); /* not primary: it PINGs everyone */
	k = find_msg(l, GRP_MSG_PING, false);
	assert_true(k >= 0);
	assert_true(grp_uuid_eq(&queue[k].m->from.uuid, &nodes[f].me.uuid));
	grp_proto_recv(nodes[l].p, queue[k].m, now);
	assert_true(find_msg(f, GRP_MSG_APPEND, false) >= 0);
	run(2000);
	assert_int_equal(nodes[l].view_n, 3);
	assert_true(nodes[f].primary);
	teardown_cluster();
}

/*
 * A member restarted from its state file, whose service applied CONFIG entries after its last
 * DATA entry, resumes right after what its service applied, not at that DATA entry: its
 * service is not given again what it applied (views going back), and it does not take those
 * old CONFIG entries for ones received since it restarted, after which it would vote and
 * stand again with a log that lacks entries its process before acked. (The simulator found
 * such a node elected alone, under the weights of an old configuration, overwriting a
 * committed entry: 5 nodes, two arbitrators, seed 2376.)
 */
static void test_restored_member_resumes_after_its_service(void **state)
{
	struct grp_durable d;
	struct grp_position pos;
	struct grp_status st;
	int l, f, g;

	(void)state;
	setup_cluster(3);
	l = leader_of(3);
	f = (l + 1) % 3;
	g = (l + 2) % 3;
	submit_n(l, 10);
	run(500);
	nodes[g].cut = true; /* CONFIG entries without DATA: g removed, then back */
	run(4000);
	nodes[g].cut = false;
	RUN_UNTIL(nodes[l].view_n == 3, 5000);
	assert_int_equal(nodes[l].view_n, 3);
	run(500);
	pos = nodes[f].svc;
	assert_int_equal(pos.seq, 10);
	assert_true(pos.index > nodes[f].n_data + 2);
	d = nodes[f].dur;
	restart_from_state(f, &d, &pos);
	nodes[f].last_index = pos.index; /* op_deliver asserts it goes on from here */
	run(300);
	grp_proto_status(nodes[f].p, &st);
	assert_true(st.applied >= pos.index);
	submit_n(l, 1);
	run(3000);
	assert_true(nodes[f].primary);
	assert_int_equal(nodes[f].delivered_seq[nodes[f].n_data - 1], 11);
	teardown_cluster();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bootstrap_alone),
		cmocka_unit_test(test_three_join_and_order),
		cmocka_unit_test(test_commit_reaches_followers_without_waiting),
		cmocka_unit_test(test_leader_killed_resumes),
		cmocka_unit_test(test_minority_non_primary),
		cmocka_unit_test(test_exact_half_stays_non_primary),
		cmocka_unit_test(test_graceful_leave_keeps_quorum),
		cmocka_unit_test(test_left_member_stays_out),
		cmocka_unit_test(test_caught_up_learner_holds_the_group),
		cmocka_unit_test(test_slow_joiner_is_waited_for_after_its_replay),
		cmocka_unit_test(test_weights_decide_quorum),
		cmocka_unit_test(test_leader_gives_itself_its_weight),
		cmocka_unit_test(test_flow_control_pauses_and_resumes),
		cmocka_unit_test(test_submit_bytes_bound_pending),
		cmocka_unit_test(test_paused_leader_takes_submits_in_flight),
		cmocka_unit_test(test_busy_link_holds_entries_back),
		cmocka_unit_test(test_busy_link_pauses_flow_control),
		cmocka_unit_test(test_heartbeat_may_overtake_entries),
		cmocka_unit_test(test_duplicated_messages_deliver_once),
		cmocka_unit_test(test_joiner_beyond_cache_gets_state_transfer),
		cmocka_unit_test(test_donor_reaches_the_cache),
		cmocka_unit_test(test_arbitrator_keeps_quorum),
		cmocka_unit_test(test_arbitrator_needs_no_transfer_and_gives_none),
		cmocka_unit_test(test_arbitrator_joins_late),
		cmocka_unit_test(test_delayed_refusal_keeps_follower),
		cmocka_unit_test(test_restored_member_refusals_count),
		cmocka_unit_test(test_survivor_takes_part_in_restart),
		cmocka_unit_test(test_paused_leader_removes_nobody_at_once),
		cmocka_unit_test(test_paused_leader_keeps_its_learners),
		cmocka_unit_test(test_removed_member_holding_cnew_stands),
		cmocka_unit_test(test_old_covers_new),
		cmocka_unit_test(test_joint_exit_after_leader_and_promoted_die),
		cmocka_unit_test(test_joint_exit_refused_when_members_are_replaced),
		cmocka_unit_test(test_cnew_exit_live_leader_after_leave_and_crash),
		cmocka_unit_test(test_cnew_exit_elects_survivor_holding_cnew),
		cmocka_unit_test(test_cnew_exit_refused_when_members_are_replaced),
		cmocka_unit_test(test_live_leader_keeps_cnew_when_members_are_replaced),
		cmocka_unit_test(test_leaving_leader_is_member_until_cnew_commits),
		cmocka_unit_test(test_node_starts_at_its_service),
		cmocka_unit_test(test_transfer_tells_the_configuration),
		cmocka_unit_test(test_member_back_gets_append_at_once),
		cmocka_unit_test(test_restored_member_resumes_after_its_service),
		cmocka_unit_test(test_leader_delivers_what_it_committed_while_cut_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
