/* SPDX-License-Identifier: MPL-2.0 */
/* Unit tests of the group node runtime: real nodes, threads and TCP on loopback. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "grp_node.h"

#define NODES 4
#define SEQ_MAX 4096
#define DEADLINE_MS 20000
#define PAYLOAD_MAX 32

/* What one node's callbacks saw (they run on its loop thread; the test reads under mu). */
struct rec {
	pthread_mutex_t mu;
	struct grp_node *node;
	char payload[SEQ_MAX][PAYLOAD_MAX]; /* by seq */
	uint32_t len[SEQ_MAX];              /* by seq: the whole payload's length and hash */
	uint32_t hash[SEQ_MAX];
	uint64_t n_data;
	uint64_t last_seq;
	bool gap;
	bool primary;
	int my_index;
	uint32_t view_n, view_n_old;
	bool weighted; /* every member has its weight (a joiner comes in with 0 first) */
	/* View callbacks, and those in which grp_node_status() reported an older view. */
	uint32_t views_checked, views_stale;
	uint64_t stale_id, stale_status_id;
	uint32_t stall_ms;     /* the delivery of a "stall" payload blocks the loop this long */
	uint32_t lost_primary; /* non-primary views after a delivery */
	struct grp_uuid state_who; /* the last member_state callback */
	enum grp_svc_state state;
	uint32_t states;
};

static struct rec recs[NODES];

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static uint32_t fnv1a(const uint8_t *p, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

static void on_deliver(void *ctx, const struct grp_entry *e)
{
	struct rec *r = ctx;

	if (e->type != GRP_ENTRY_DATA)
		return;
	pthread_mutex_lock(&r->mu);
	if (e->seq != r->last_seq + 1)
		r->gap = true;
	r->last_seq = e->seq;
	if (e->seq < SEQ_MAX) {
		size_t len = e->len < PAYLOAD_MAX - 1 ? e->len : PAYLOAD_MAX - 1;

		if (len) /* data is NULL for an empty message */
			memcpy(r->payload[e->seq], e->data, len);
		r->payload[e->seq][len] = '\0';
		r->len[e->seq] = e->len;
		r->hash[e->seq] = fnv1a(e->data, e->len);
	}
	r->n_data++;
	pthread_mutex_unlock(&r->mu);
	if (r->stall_ms && e->len >= 5 && !memcmp(e->data, "stall", 5))
		pause_ms((int)r->stall_ms); /* a service that blocks its loop, a stopped process */
}

/*
 * Whatever a view callback reports must already be in grp_node_status(): a thread that acts
 * on the view (paceless-arbitrator decides from the status whether it must leave before it
 * exits) may run the moment the callback has told it, as the callback itself does here.
 */
static void check_status(struct rec *r, uint64_t id, bool primary)
{
	struct grp_node *node;
	struct grp_status st;

	pthread_mutex_lock(&r->mu);
	node = r->node; /* NULL until grp_node_start() returned */
	pthread_mutex_unlock(&r->mu);
	if (!node)
		return;
	(void)grp_node_status(node, &st); /* no cmocka assert off the test's thread */
	pthread_mutex_lock(&r->mu);
	r->views_checked++;
	if (st.view_id != id || st.primary != primary) {
		if (!r->views_stale++) {
			r->stale_id = id;
			r->stale_status_id = st.view_id;
		}
	}
	pthread_mutex_unlock(&r->mu);
}

static void on_view(void *ctx, uint64_t id, const struct grp_config *cfg, int my_index,
		    bool primary)
{
	struct rec *r = ctx;

	check_status(r, id, primary);
	pthread_mutex_lock(&r->mu);
	if (!primary && r->n_data)
		r->lost_primary++;
	r->primary = primary;
	r->my_index = my_index;
	r->view_n = cfg->n;
	r->view_n_old = cfg->n_old;
	r->weighted = true;
	for (uint32_t k = 0; k < cfg->n; k++)
		if (!cfg->m[k].weight)
			r->weighted = false;
	pthread_mutex_unlock(&r->mu);
}

static void on_member_state(void *ctx, const struct grp_uuid *who, enum grp_svc_state st)
{
	struct rec *r = ctx;

	pthread_mutex_lock(&r->mu);
	r->state_who = *who;
	r->state = st;
	r->states++;
	pthread_mutex_unlock(&r->mu);
}

static int start_node(int i, const char *cluster, bool bootstrap, const char *peer,
		      bool arbitrator)
{
	struct grp_node_config c = {
		.cluster = cluster,
		.listen = "127.0.0.1:0",
		.peers = peer ? (const char *const[]){peer} : NULL,
		.n_peers = peer ? 1 : 0,
		.weight = 1,
		.bootstrap = bootstrap,
		.arbitrator = arbitrator,
		.deliver = on_deliver,
		.view = on_view,
		.member_state = on_member_state,
	};
	char name[16];
	struct rec *r = &recs[i];
	struct grp_node *n = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	r->my_index = -1;
	snprintf(name, sizeof(name), "n%d", i);
	c.name = name;
	c.ctx = r;
	grp_params_default(&c.params);
	rc = grp_node_start(&c, &n);
	pthread_mutex_lock(&r->mu); /* the node's callbacks may be running already */
	r->node = n;
	pthread_mutex_unlock(&r->mu);
	return rc;
}

static int start(int i, const char *cluster, bool bootstrap, const char *peer)
{
	return start_node(i, cluster, bootstrap, peer, false);
}

static void stop(int i)
{
	grp_node_stop(recs[i].node);
	recs[i].node = NULL;
	pthread_mutex_destroy(&recs[i].mu);
}

static bool has_view(int i, uint32_t members)
{
	struct rec *r = &recs[i];
	bool ok;

	pthread_mutex_lock(&r->mu);
	ok = r->primary && r->my_index >= 0 && r->view_n == members && r->view_n_old == 0 &&
	     r->weighted;
	pthread_mutex_unlock(&r->mu);
	return ok;
}

static bool all_have_view(const int *idx, int n, uint32_t members)
{
	for (int k = 0; k < n; k++)
		if (!has_view(idx[k], members))
			return false;
	return true;
}

/* Polls until every listed node is in a primary view of `members`; returns the ms it took. */
static int64_t wait_view(const int *idx, int n, uint32_t members)
{
	int64_t t0 = mono_ms();

	while (!all_have_view(idx, n, members)) {
		assert_true(mono_ms() - t0 < DEADLINE_MS);
		pause_ms(2);
	}
	return mono_ms() - t0;
}

static uint64_t n_data(int i)
{
	uint64_t v;

	pthread_mutex_lock(&recs[i].mu);
	v = recs[i].n_data;
	pthread_mutex_unlock(&recs[i].mu);
	return v;
}

static void wait_data(const int *idx, int n, uint64_t want)
{
	int64_t t0 = mono_ms();

	for (int k = 0; k < n; k++)
		while (n_data(idx[k]) < want) {
			assert_true(mono_ms() - t0 < DEADLINE_MS);
			pause_ms(2);
		}
}

static void submit(int i, int count, const char *tag)
{
	for (int k = 0; k < count; k++) {
		char buf[PAYLOAD_MAX];
		int len = snprintf(buf, sizeof(buf), "%s-n%d-%d", tag, i, k);

		assert_int_equal(grp_node_submit(recs[i].node, buf, (uint32_t)len), 0);
	}
}

/* Every listed node delivered exactly `want` DATA entries, gap-free, the same payload per seq,
 * and each payload once. */
static void check_same(const int *idx, int n, uint64_t want)
{
	for (int k = 0; k < n; k++) {
		struct rec *r = &recs[idx[k]];

		pthread_mutex_lock(&r->mu);
		assert_false(r->gap);
		assert_int_equal(r->n_data, want);
		assert_int_equal(r->last_seq, want);
		for (uint64_t s = 1; s <= want; s++) {
			assert_string_equal(r->payload[s], recs[idx[0]].payload[s]);
			for (uint64_t t = 1; t < s && k == 0; t++)
				assert_string_not_equal(r->payload[s], r->payload[t]);
		}
		pthread_mutex_unlock(&r->mu);
	}
}

static char *addr_of(int i, char *buf)
{
	snprintf(buf, 32, "127.0.0.1:%d", grp_node_listen_port(recs[i].node));
	return buf;
}

/* A group of `count` nodes: node 0 bootstraps, the others know only node 0's address. */
static void form_group(int count, uint64_t *formed_ms)
{
	int idx[NODES] = {0, 1, 2, 3};
	char a0[32];

	assert_int_equal(start(0, "test", true, NULL), 0);
	assert_true(grp_node_listen_port(recs[0].node) > 0);
	addr_of(0, a0);
	for (int i = 1; i < count; i++)
		assert_int_equal(start(i, "test", false, a0), 0);
	*formed_ms = (uint64_t)wait_view(idx, count, (uint32_t)count);
}

/* (a) three nodes agree on one order of 600 messages; (b) one stops, two carry on. */
static void test_order_and_failover(void **state)
{
	int all[] = {0, 1, 2}, two[] = {0, 1};
	uint64_t formed_ms;
	int64_t down_ms;
	struct grp_status st;

	(void)state;
	form_group(3, &formed_ms);
	print_message("3-node primary view formed in %llu ms\n", (unsigned long long)formed_ms);
	for (int i = 0; i < 3; i++)
		submit(i, 200, "a");
	wait_data(all, 3, 600);
	check_same(all, 3, 600);
	assert_int_equal(grp_node_status(recs[0].node, &st), 0);
	assert_true(st.primary && st.member);

	stop(2);
	down_ms = wait_view(two, 2, 2);
	print_message("stop of node 2 -> survivors' 2-member primary view: %lld ms\n",
		      (long long)down_ms);
	for (int i = 0; i < 2; i++)
		submit(i, 50, "b");
	wait_data(two, 2, 700);
	check_same(two, 2, 700);
	stop(1);
	stop(0);
}

static bool saw_state(int i, const struct grp_uuid *who, enum grp_svc_state st)
{
	bool ok;

	pthread_mutex_lock(&recs[i].mu);
	ok = recs[i].states && recs[i].state == st && grp_uuid_eq(&recs[i].state_who, who);
	pthread_mutex_unlock(&recs[i].mu);
	return ok;
}

/* Polls until every listed node's member_state callback last reported st for who. */
static void wait_state(const int *idx, int n, const struct grp_uuid *who, enum grp_svc_state st)
{
	int64_t t0 = mono_ms();

	for (int k = 0; k < n; k++)
		while (!saw_state(idx[k], who, st)) {
			assert_true(mono_ms() - t0 < DEADLINE_MS);
			pause_ms(2);
		}
}

static bool paused(int i)
{
	struct grp_status st;

	assert_int_equal(grp_node_status(recs[i].node, &st), 0);
	return st.paused;
}

/*
 * (d) A member's service state reaches every member (member_state), and a service whose own
 * queue passes fc_limit (grp_node_set_backlog) pauses the group until it drains: a submission
 * waits in the hand-over queue meanwhile and is delivered once the pause lifts.
 */
static void test_service_state_and_backlog(void **state)
{
	int all[] = {0, 1, 2};
	struct grp_member m1;
	uint64_t formed_ms;
	int64_t t0;

	(void)state;
	form_group(3, &formed_ms);
	grp_node_self(recs[1].node, &m1);
	assert_int_equal(grp_node_set_state(recs[1].node, (enum grp_svc_state)9), -EINVAL);
	assert_int_equal(grp_node_set_state(recs[1].node, GRP_SVC_DESYNCED), 0);
	wait_state(all, 3, &m1.uuid, GRP_SVC_DESYNCED);
	assert_int_equal(grp_node_set_state(recs[1].node, GRP_SVC_SYNCED), 0);
	wait_state(all, 3, &m1.uuid, GRP_SVC_SYNCED);

	grp_node_set_backlog(recs[2].node, 100000);
	for (t0 = mono_ms(); !paused(0) || !paused(1);) {
		assert_true(mono_ms() - t0 < DEADLINE_MS);
		pause_ms(2);
	}
	submit(0, 1, "held");
	pause_ms(300);
	assert_int_equal(n_data(0), 0); /* waits while the group is paused */
	grp_node_set_backlog(recs[2].node, 0);
	wait_data(all, 3, 1);
	check_same(all, 3, 1);
	assert_false(paused(0));
	for (int i = 2; i >= 0; i--)
		stop(i);
}

/* One submitting thread of test_concurrent_submitters: count messages, retried while full. */
struct submitter {
	struct grp_node *node;
	int id, count;
	int64_t efull;
	int64_t rc; /* of the first submission refused for good, else 0 */
};

static void *submitter_main(void *arg)
{
	struct submitter *sb = arg;

	for (int k = 0; k < sb->count; k++) {
		char buf[PAYLOAD_MAX];
		int len = snprintf(buf, sizeof(buf), "t%d-%d", sb->id, k);
		int64_t rc;

		while ((rc = grp_node_submit(sb->node, buf, (uint32_t)len)) == CORE_EFULL) {
			sb->efull++;
			pause_ms(1);
		}
		if (rc) {
			sb->rc = rc;
			return NULL;
		}
		if (!(k % 97))
			sched_yield(); /* vary the interleaving with the loop thread */
	}
	return NULL;
}

/*
 * Threads that submit at once wake the loop once per hand-over at most (the first since the
 * loop took the queue), outside the node's mutex. A wake that was skipped while the loop had
 * already taken the queue would leave messages in the hand-over queue for good: every one of
 * them is delivered, on every node, in one order, and a set_state made during the load
 * arrives too.
 */
static void test_concurrent_submitters(void **state)
{
	enum { THREADS = 4, EACH = 500 }; /* 4,000 in all: check_same() keeps SEQ_MAX */
	int all[] = {0, 1, 2};
	struct submitter sb[THREADS * 2];
	pthread_t th[THREADS * 2];
	struct grp_member m2;
	uint64_t formed_ms;
	long long efull = 0;

	(void)state;
	form_group(3, &formed_ms);
	grp_node_self(recs[2].node, &m2);
	for (int t = 0; t < THREADS * 2; t++) {
		sb[t] = (struct submitter){.node = recs[t % 2].node, .id = t, .count = EACH};
		assert_int_equal(pthread_create(&th[t], NULL, submitter_main, &sb[t]), 0);
	}
	assert_int_equal(grp_node_set_state(recs[2].node, GRP_SVC_DONOR), 0);
	for (int t = 0; t < THREADS * 2; t++) {
		assert_int_equal(pthread_join(th[t], NULL), 0);
		assert_int_equal(sb[t].rc, 0);
		efull += sb[t].efull;
	}
	wait_data(all, 3, THREADS * 2 * EACH);
	check_same(all, 3, THREADS * 2 * EACH);
	wait_state(all, 3, &m2.uuid, GRP_SVC_DONOR);
	print_message("%d messages from %d threads on 2 nodes; queue full %lld times\n",
		      THREADS * 2 * EACH, THREADS * 2, efull);
	for (int i = 2; i >= 0; i--)
		stop(i);
}

/*
 * Messages of every size arrive whole, in the order submitted: the hand-over queue copies up
 * to 64 KiB into its blocks and mallocs a bigger copy, and a follower's message goes through
 * its pending ring and a SUBMIT to the leader. Sizes on both sides of those limits (and of a
 * SUBMIT's 1 MiB), from a follower and from the leader.
 */
static void test_message_sizes(void **state)
{
	static const uint32_t sizes[] = {0,	1,	100, 65535,	 65536,	 65537,
					 300000, 1 << 20, 100, (1 << 20) + 1, 7};
	enum { N = sizeof(sizes) / sizeof(sizes[0]) };
	int all[] = {0, 1, 2};
	uint64_t formed_ms;
	uint8_t *buf = malloc((1 << 20) + 1);
	uint32_t want_hash[2 * N];
	int leader = -1;

	(void)state;
	assert_non_null(buf);
	form_group(3, &formed_ms);
	for (int i = 0; i < 3; i++) {
		struct grp_status st;

		assert_int_equal(grp_node_status(recs[i].node, &st), 0);
		if (st.is_leader)
			leader = i;
	}
	assert_true(leader >= 0);
	for (int k = 0; k < 2 * N; k++) {
		uint32_t len = sizes[k % N];
		int from = k < N ? (leader + 1) % 3 : leader; /* a follower's first, then the leader's */

		for (uint32_t b = 0; b < len; b++)
			buf[b] = (uint8_t)(b * 31 + (uint32_t)k);
		want_hash[k] = fnv1a(buf, len);
		assert_int_equal(grp_node_submit(recs[from].node, buf, len), 0);
		wait_data(all, 3, (uint64_t)k + 1); /* one at a time: the order is known */
	}
	for (int i = 0; i < 3; i++) {
		struct rec *r = &recs[i];

		pthread_mutex_lock(&r->mu);
		assert_false(r->gap);
		for (int k = 0; k < 2 * N; k++) {
			assert_int_equal(r->len[k + 1], sizes[k % N]);
			assert_int_equal(r->hash[k + 1], want_hash[k]);
		}
		pthread_mutex_unlock(&r->mu);
	}
	for (int i = 2; i >= 0; i--)
		stop(i);
	free(buf);
}

static uint64_t counter_hello_refused(int i)
{
	struct grp_node_counters c;

	assert_int_equal(grp_node_counters(recs[i].node, &c), 0);
	return c.hello_refused;
}

/* (c) a node of another cluster is refused at the HELLO and never joins. */
static void test_foreign_cluster(void **state)
{
	int two[] = {0, 1};
	uint64_t formed_ms;
	char a0[32];
	int64_t t0;

	(void)state;
	form_group(2, &formed_ms);
	addr_of(0, a0);
	assert_int_equal(start(3, "other", false, a0), 0);
	t0 = mono_ms();
	/* Both ends refuse: node 0 refuses node 3's HELLO, node 3 refuses node 0's. */
	while (counter_hello_refused(0) < 1 || counter_hello_refused(3) < 1) {
		assert_true(mono_ms() - t0 < DEADLINE_MS);
		pause_ms(2);
	}
	submit(0, 10, "c");
	wait_data(two, 2, 10);
	check_same(two, 2, 10);
	assert_true(all_have_view(two, 2, 2));
	pthread_mutex_lock(&recs[3].mu);
	assert_int_equal(recs[3].my_index, -1);
	assert_int_equal(recs[3].n_data, 0);
	pthread_mutex_unlock(&recs[3].mu);
	stop(3);
	stop(1);
	stop(0);
}

/* Every view callback of node i found its view in grp_node_status() already. */
static void check_views_fresh(int i)
{
	struct rec *r = &recs[i];
	uint32_t checked, stale;
	uint64_t id, status_id;

	pthread_mutex_lock(&r->mu);
	checked = r->views_checked;
	stale = r->views_stale;
	id = r->stale_id;
	status_id = r->stale_status_id;
	pthread_mutex_unlock(&r->mu);
	if (stale)
		fail_msg("node %d: %u of %u view callbacks read an older status (view %llu read "
			 "as %llu first)",
			 i, stale, checked, (unsigned long long)id, (unsigned long long)status_id);
	assert_true(checked > 0);
}

/*
 * (e) paceless-arbitrator joins a data node and leaves it on SIGTERM: it reads the status as
 * soon as its view callback said it votes, and leaves only if the status says it is a member
 * (else it exits without a configuration change, and in a group of {data node, arbitrator}
 * the data node is left without a majority). The status lagged behind the views: it was
 * published only at the 10 ms tick, so under load the arbitrator read "not a member" after
 * its view said it was one (the flake of test_garbd_invocation_joins_and_leaves).
 */
static void test_status_agrees_with_view(void **state)
{
	int both[] = {0, 1}, one[] = {0};
	struct grp_status st;
	char a0[32];

	(void)state;
	assert_int_equal(start(0, "test", true, NULL), 0);
	wait_view(one, 1, 1);
	assert_int_equal(start_node(1, "test", false, addr_of(0, a0), true), 0);
	wait_view(both, 2, 2);
	/* What the arbitrator's main thread does on SIGTERM, the moment its view says it votes. */
	assert_int_equal(grp_node_status(recs[1].node, &st), 0);
	assert_true(st.member && st.primary);
	grp_node_leave(recs[1].node);
	wait_view(one, 1, 1);
	check_views_fresh(0);
	check_views_fresh(1);
	stop(1);
	stop(0);
}

/*
 * A follower whose loop was blocked for longer than election_ms (here its service's delivery
 * callback; a stopped process, a starved CPU) stays primary: the leader's heartbeats of
 * meanwhile wait in its socket, and are read before it judges whether it still hears from the
 * leader. (A loop iteration runs its timers first: its tick judged the leader silent on the
 * clock of before the stall, reported a non-primary view, and the APPENDs read right after
 * made it primary again, in the same millisecond: restored nodes under ASan on a loaded
 * machine flapped so.)
 */
static void test_stalled_follower_stays_primary(void **state)
{
	int all[] = {0, 1, 2};
	uint64_t formed_ms;

	(void)state;
	form_group(3, &formed_ms);
	pthread_mutex_lock(&recs[1].mu);
	recs[1].stall_ms = 1500;
	pthread_mutex_unlock(&recs[1].mu);
	submit(0, 1, "first");
	wait_data(all, 3, 1);
	submit(0, 1, "stall");
	wait_data(all, 3, 2);
	submit(0, 5, "after");
	wait_data(all, 3, 7);
	check_same(all, 3, 7);
	pthread_mutex_lock(&recs[1].mu);
	assert_int_equal(recs[1].lost_primary, 0);
	pthread_mutex_unlock(&recs[1].mu);
	assert_true(all_have_view(all, 3, 3));
	stop(2);
	stop(1);
	stop(0);
}

/* Connects a raw client to node i, writes buf, and waits until the node closes it. */
static void raw_client(int i, const void *buf, size_t len)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	int64_t t0 = mono_ms();
	char rb[4096];

	assert_true(fd >= 0);
	sa.sin_port = htons((uint16_t)grp_node_listen_port(recs[i].node));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	/* The node sends its HELLO first; read until EOF or a reset. */
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ssize_t got;

		assert_true(mono_ms() - t0 < DEADLINE_MS);
		if (poll(&p, 1, 100) <= 0)
			continue;
		got = read(fd, rb, sizeof(rb));
		if (got == 0 || (got < 0 && errno == ECONNRESET))
			break;
		assert_true(got > 0);
	}
	close(fd);
}

/* A valid HELLO from a made-up member of cluster "test". */
static size_t make_hello(uint8_t *b)
{
	size_t p = 0;
	const char *cl = "test", *name = "raw", *addr = "127.0.0.1:1";

	memcpy(b, "PCLG", 4);
	p = 4;
	b[p++] = 1;
	p += 2; /* body length */
	b[p++] = (uint8_t)strlen(cl);
	memcpy(b + p, cl, strlen(cl));
	p += strlen(cl);
	memset(b + p, 0x5a, 16);
	p += 16;
	b[p++] = (uint8_t)strlen(name);
	memcpy(b + p, name, strlen(name));
	p += strlen(name);
	b[p++] = (uint8_t)strlen(addr);
	memcpy(b + p, addr, strlen(addr));
	p += strlen(addr);
	b[p++] = 0;
	b[p++] = 1;
	b[5] = (uint8_t)((p - 7) >> 8);
	b[6] = (uint8_t)(p - 7);
	return p;
}

/* (d) garbage from a raw TCP client closes that connection; the node keeps working. */
static void test_garbage(void **state)
{
	int two[] = {0, 1};
	uint64_t formed_ms;
	uint8_t junk[256], b[512];
	struct grp_node_counters c;
	size_t len;

	(void)state;
	form_group(2, &formed_ms);
	for (size_t k = 0; k < sizeof(junk); k++)
		junk[k] = (uint8_t)(k * 37 + 11);
	raw_client(0, junk, sizeof(junk));
	raw_client(0, "GET / HTTP/1.0\r\n\r\n", 18);
	/* A good HELLO, then a frame header declaring an impossible length. */
	len = make_hello(b);
	memcpy(b + len, "\xff\xff\xff\xff\x01\x01\x00\x00", 8);
	raw_client(0, b, len + 8);
	/* A good HELLO, then a well-sized frame of an unknown type. */
	len = make_hello(b);
	memcpy(b + len, "\x00\x00\x00\x10\x01\x63\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 16);
	raw_client(0, b, len + 16);
	/* Counters are published after each event batch: poll for them. */
	for (int64_t t0 = mono_ms();; pause_ms(2)) {
		assert_int_equal(grp_node_counters(recs[0].node, &c), 0);
		if (c.hello_refused >= 2 && c.frames_bad >= 2)
			break;
		assert_true(mono_ms() - t0 < DEADLINE_MS);
	}
	submit(0, 10, "d");
	submit(1, 10, "d");
	wait_data(two, 2, 20);
	check_same(two, 2, 20);
	assert_true(all_have_view(two, 2, 2));
	stop(1);
	stop(0);
}

/* Start refuses a port in use and a bad config, leaving nothing behind. */
static void test_start_errors(void **state)
{
	char a0[32];
	struct grp_node_config c = {.cluster = "test", .name = "x", .deliver = on_deliver};
	struct grp_node *n = NULL;

	(void)state;
	assert_int_equal(start(0, "test", true, NULL), 0);
	grp_params_default(&c.params);
	c.listen = addr_of(0, a0);
	assert_int_equal(grp_node_start(&c, &n), -EADDRINUSE);
	c.listen = "localhost:1";
	assert_int_equal(grp_node_start(&c, &n), -EINVAL);
	c.listen = "127.0.0.1:0";
	c.cluster = "";
	assert_int_equal(grp_node_start(&c, &n), -EINVAL);
	c.cluster = "test";
	c.arbitrator = c.bootstrap = true; /* a group starts from a node with state */
	assert_int_equal(grp_node_start(&c, &n), -EINVAL);
	assert_null(n);
	c.bootstrap = false; /* an arbitrator that joins starts, and refuses submissions */
	assert_int_equal(grp_node_start(&c, &n), 0);
	assert_int_equal(grp_node_submit(n, "x", 1), CORE_ESTATE);
	grp_node_stop(n);
	stop(0);
}

/*
 * The hand-over queue holds at most params.submit_bytes of payload, or one message of any
 * size: a node not yet in a group keeps what it is given there, and refuses more.
 */
static void test_handover_queue_bounded(void **state)
{
	static const char big[5000];
	struct grp_node_config c = {.cluster = "test", .name = "x", .deliver = on_deliver,
				    .listen = "127.0.0.1:0"};
	struct grp_node *n = NULL;

	(void)state;
	grp_params_default(&c.params);
	c.params.submit_bytes = 1000;
	assert_int_equal(grp_node_start(&c, &n), 0);
	assert_int_equal(grp_node_submit(n, big, 400), 0);
	assert_int_equal(grp_node_submit(n, big, 400), 0);
	assert_int_equal(grp_node_submit(n, big, 400), CORE_EFULL);
	assert_int_equal(grp_node_submit(n, big, 200), 0);
	assert_int_equal(grp_node_submit(n, big, 1), CORE_EFULL);
	grp_node_stop(n);
	assert_int_equal(grp_node_start(&c, &n), 0);
	assert_int_equal(grp_node_submit(n, big, sizeof(big)), 0);
	assert_int_equal(grp_node_submit(n, big, 1), CORE_EFULL);
	grp_node_stop(n);
}

static bool file_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/*
 * The state file: written once the node is in a configuration, read back at start (the same
 * uuid), removed by a graceful stop; a damaged or foreign file makes the start fail.
 */
static void test_state_file(void **state)
{
	char dir[] = "/tmp/grp_node_XXXXXX", path[64], copy[64];
	struct grp_node_config c = {.cluster = "test", .name = "s", .listen = "127.0.0.1:0",
				    .deliver = on_deliver, .bootstrap = true, .weight = 1};
	struct grp_member self1, self2;
	struct grp_status st;
	struct grp_node *n = NULL;
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/gvwstate.dat", dir);
	snprintf(copy, sizeof(copy), "%s/copy", dir);
	grp_params_default(&c.params);
	c.state_file = path;
	assert_int_equal(grp_node_start(&c, &n), 0);
	grp_node_self(n, &self1);
	for (int i = 0; i < 500 && !file_exists(path); i++)
		usleep(10000);
	assert_true(file_exists(path));
	/* A crash leaves the file: start again from it without bootstrap (stop removes it, so
	 * keep what the crash would have left: the rename replaces the name, not the file). */
	assert_int_equal(link(path, copy), 0);
	grp_node_stop(n);
	assert_false(file_exists(path));
	assert_int_equal(rename(copy, path), 0);
	c.bootstrap = false;
	assert_int_equal(grp_node_start(&c, &n), 0);
	grp_node_self(n, &self2);
	assert_memory_equal(&self1.uuid, &self2.uuid, sizeof(self1.uuid));
	/* It was the only member: it is all there is to wait for, so it forms the group. */
	for (int i = 0; i < 500; i++) {
		(void)grp_node_status(n, &st);
		if (st.primary && st.member)
			break;
		usleep(10000);
	}
	assert_true(st.primary && st.member && !st.restoring);
	grp_node_stop(n);
	/* Damaged, and another cluster's. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("# paceless group state: written by libpaceless-group, do not edit\nversion: 1\n", f);
	fclose(f);
	assert_int_equal(grp_node_start(&c, &n), CORE_ETRUNC);
	c.cluster = "other";
	c.bootstrap = true;
	assert_int_equal(grp_node_start(&c, &n), 0); /* bootstrap: a new node replaces it */
	grp_node_stop(n);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_errors),
		cmocka_unit_test(test_handover_queue_bounded),
		cmocka_unit_test(test_state_file),
		cmocka_unit_test(test_order_and_failover),
		cmocka_unit_test(test_service_state_and_backlog),
		cmocka_unit_test(test_concurrent_submitters),
		cmocka_unit_test(test_message_sizes),
		cmocka_unit_test(test_foreign_cluster),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_status_agrees_with_view),
		cmocka_unit_test(test_stalled_follower_stays_primary),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
