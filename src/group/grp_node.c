/* SPDX-License-Identifier: MPL-2.0 */
/* The group node runtime: one libuv thread driving grp_proto over a TCP mesh of HELLO'd links. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <uv.h>

#include "core_assert.h"
#include "core_fifo.h"
#include "core_log.h"
#include "core_wake.h"
#include "grp_link.h"
#include "grp_node.h"
#include "grp_state.h"

#define TICK_MS 10
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000

#define SUB_BLOCK (256u << 10)      /* the hand-over queue's core_fifo blocks */
#define SUB_INLINE_MAX (64u << 10) /* payloads copied into the queue; a bigger one is malloc'd */

/*
 * A submission on its way to grp_proto_submit, an item of the hand-over queue's core_fifo:
 * the queue holds each message's copy in a few blocks, made and freed under mu, instead of a
 * malloc on the service's thread that the loop thread frees (which fragmented the heap under
 * an overload). A copy of up to SUB_INLINE_MAX bytes is made under mu; a bigger one before.
 */
struct sub {
	struct sub *next;
	uint32_t len;
	uint8_t *data; /* copy[], or a malloc'd copy of more than SUB_INLINE_MAX bytes */
	uint8_t copy[];
};

/* An address this node dials, with its reconnect back-off. */
struct target {
	char addr[GRP_ADDR_MAX];
	struct sockaddr_storage sa;
	struct grp_link *link;     /* the connection in progress or up; NULL between attempts */
	struct grp_uuid uuid;      /* who answered there last (nil: nobody yet) */
	bool is_self;
	uint64_t next_ms;
	uint32_t backoff_ms;
};

struct grp_node {
	/* Set by grp_node_start, read-only afterwards. */
	struct grp_node_config cfg; /* string pointers cleared; the copies are below */
	char cluster[GRP_LINK_CLUSTER_MAX + 1];
	char *state_file; /* a copy of cfg->state_file, or NULL */
	struct grp_member self;
	int port;

	/* Loop thread only. */
	uv_loop_t loop;
	uv_thread_t thread;
	uv_tcp_t listener;
	uv_timer_t tick;
	uv_idle_t tick_idle; /* active while a tick is due: the poll before it does not wait */
	bool tick_due;       /* the timer fired; the tick runs after this iteration's I/O */
	uv_check_t flush; /* after each loop iteration's events: write what they produced */
	struct core_wake wake; /* other threads wake the loop: wake_due(), wake() */
	struct grp_proto *p;
	struct grp_params params;  /* as given to p */
	struct grp_tls_ctx *tls;   /* NULL: plain TCP links */
	struct grp_msg *msg;       /* decode target, ~30 KiB: kept off the stack */
	struct grp_wire_scratch *scratch;
	struct grp_link_env env;
	struct grp_link *links[GRP_NODE_LINKS_MAX];
	size_t n_links;
	struct target targets[GRP_NODE_TARGETS_MAX];
	size_t n_targets;
	struct sub *held, **held_tail; /* taken from the hand-over queue, not yet accepted */
	bool shutting;
	bool left;
	struct grp_node_counters cnt;
	struct core_ratelimit rl;

	/* Shared: guarded by mu. */
	uv_mutex_t mu;
	bool woken;                /* a wake sent since the loop last took what was handed over */
	unsigned wakers;           /* threads between wake_due() and the end of their wake() */
	struct core_fifo q_store;  /* the items of held and of the queue, in that order */
	struct sub *q_head, **q_tail;
	size_t q_n, q_bytes;       /* counts held too: the bound covers both */
	bool stopping;
	bool leave;
	bool force_bootstrap;
	bool xfer_done;
	struct grp_position xfer_pos;
	uint8_t svc_state;         /* enum grp_svc_state to order; 0: none */
	uint32_t backlog;          /* the service's, as last set */
	bool backlog_set;          /* changed since the loop passed it on */
	struct grp_status st_snap;
	struct grp_node_counters cnt_snap;
};

static uint64_t now_ms(struct grp_node *n)
{
	return uv_now(&n->loop);
}

/* ---- addresses ---- */

/* "a.b.c.d:port" or "[v6]:port" -> sockaddr. Numeric only: the loop must never block. */
static int parse_addr(const char *s, struct sockaddr_storage *ss)
{
	char host[GRP_ADDR_MAX];
	const char *colon = strrchr(s, ':');
	char *end;
	unsigned long port;
	size_t hl;

	if (!colon || colon == s || strlen(s) >= GRP_ADDR_MAX)
		return -EINVAL;
	hl = (size_t)(colon - s);
	memcpy(host, s, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[') {
		if (hl < 3 || host[hl - 1] != ']')
			return -EINVAL;
		host[hl - 1] = '\0';
		return uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)ss) ? -EINVAL : 0;
	}
	return uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) ? -EINVAL : 0;
}

/* What other nodes dial: the bound address, with a wildcard host replaced by loopback. */
static int format_self_addr(const struct sockaddr_storage *ss, char *out)
{
	char host[INET6_ADDRSTRLEN];
	int len;

	if (ss->ss_family == AF_INET6) {
		struct sockaddr_in6 a = *(const struct sockaddr_in6 *)ss;

		if (IN6_IS_ADDR_UNSPECIFIED(&a.sin6_addr))
			a.sin6_addr = in6addr_loopback;
		uv_ip6_name(&a, host, sizeof(host));
		len = snprintf(out, GRP_ADDR_MAX, "[%s]:%u", host, ntohs(a.sin6_port));
	} else {
		struct sockaddr_in a = *(const struct sockaddr_in *)ss;

		if (a.sin_addr.s_addr == htonl(INADDR_ANY))
			a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		uv_ip4_name(&a, host, sizeof(host));
		len = snprintf(out, GRP_ADDR_MAX, "%s:%u", host, ntohs(a.sin_port));
	}
	return len > 0 && len < GRP_ADDR_MAX ? 0 : -EINVAL;
}

/*
 * A new address to dial (configured or learned). Duplicates and our own address are ignored.
 * who, when known (NULL otherwise), is the node said to be there: the address is not dialed
 * while a connection to it is up, which saves both ends a duplicate to resolve.
 */
static int target_add(struct grp_node *n, const char *addr, const struct grp_uuid *who)
{
	struct target *t;

	if (!strcmp(addr, n->self.addr))
		return 0;
	for (size_t i = 0; i < n->n_targets; i++)
		if (!strcmp(n->targets[i].addr, addr)) {
			if (who && grp_uuid_is_nil(&n->targets[i].uuid))
				n->targets[i].uuid = *who;
			return 0;
		}
	if (n->n_targets == GRP_NODE_TARGETS_MAX)
		return CORE_EFULL;
	t = &n->targets[n->n_targets];
	memset(t, 0, sizeof(*t));
	if (parse_addr(addr, &t->sa))
		return -EINVAL;
	snprintf(t->addr, sizeof(t->addr), "%s", addr);
	t->backoff_ms = BACKOFF_MIN_MS;
	if (who)
		t->uuid = *who;
	n->n_targets++;
	return 0;
}

/* ---- links: the mesh's connections, at most one in use per peer ---- */

static struct grp_link *link_find(struct grp_node *n, const struct grp_uuid *u,
				  struct grp_link *except)
{
	for (size_t i = 0; i < n->n_links; i++) {
		struct grp_link *l = n->links[i];

		if (l != except && l->established && !l->closing && grp_uuid_eq(&l->peer.uuid, u))
			return l;
	}
	return NULL;
}

static struct grp_link *link_new(struct grp_node *n, const char *what)
{
	struct grp_link *l;

	if (n->n_links == GRP_NODE_LINKS_MAX)
		return NULL;
	l = grp_link_new(&n->env, what);
	if (l)
		n->links[n->n_links++] = l;
	return l;
}

/*
 * Two connections to one peer (both dialed at once): keep the one the smaller uuid initiated,
 * a rule both ends apply alike. When one side initiated both, only it decides (it keeps the
 * newer); the other end just sees the loser close.
 */
static bool link_supersedes(struct grp_node *n, struct grp_link *fresh, struct grp_link *old)
{
	bool self_smaller = grp_uuid_cmp(&n->self.uuid, &fresh->peer.uuid) < 0;
	bool fresh_mine = fresh->owner != NULL, old_mine = old->owner != NULL;

	if (fresh_mine != old_mine)
		return fresh_mine == self_smaller;
	return fresh_mine;
}

static void on_link_up(void *ctx, struct grp_link *l)
{
	struct grp_node *n = ctx;
	struct grp_link *other = link_find(n, &l->peer.uuid, l);
	struct target *t = l->owner;

	n->cnt.links_up++;
	if (t) {
		t->uuid = l->peer.uuid;
		t->backoff_ms = BACKOFF_MIN_MS;
	}
	CLOG_DEBUG("group: %s: link up to %s (%s)", l->what, l->peer.name, l->peer.addr);
	if (other) {
		CLOG_DEBUG("group: %s: second link to %s, keeping one", l->what, l->peer.name);
		if (link_supersedes(n, l, other))
			grp_link_close(other);
		else if ((l->owner != NULL) != (other->owner != NULL))
			grp_link_close(l);
		return; /* the peer was up already */
	}
	grp_proto_peer_up(n->p, &l->peer, now_ms(n));
	/* Gossip may name it by another address than the one it dialed us from: dial that too
	 * (once this link is gone), so that a dead inbound link is replaced from this side. */
	if (!t && l->peer.addr[0] && target_add(n, l->peer.addr, &l->peer.uuid) < 0)
		n->cnt.learn_dropped++;
}

static void on_link_frame(void *ctx, struct grp_link *l, const struct grp_msg *m)
{
	struct grp_node *n = ctx;

	(void)l;
	grp_proto_recv(n->p, m, now_ms(n));
}

static void on_link_closed(void *ctx, struct grp_link *l, bool is_self)
{
	struct grp_node *n = ctx;
	struct target *t = l->owner;

	for (size_t i = 0; i < n->n_links; i++)
		if (n->links[i] == l) {
			n->links[i] = n->links[--n->n_links];
			break;
		}
	if (t) {
		t->link = NULL;
		t->is_self = is_self; /* an alias of our own address: never dial it again */
		t->next_ms = now_ms(n) + t->backoff_ms;
		t->backoff_ms *= 2;
		if (t->backoff_ms > BACKOFF_MAX_MS)
			t->backoff_ms = BACKOFF_MAX_MS;
	}
	/* Called from the loop, outside any grp_proto call, so it may call in. */
	if (l->established && !n->shutting && !link_find(n, &l->peer.uuid, NULL))
		grp_proto_peer_down(n->p, &l->peer.uuid, now_ms(n));
}

static const struct grp_link_ops link_ops = {
	.up = on_link_up,
	.frame = on_link_frame,
	.closed = on_link_closed,
};

static void free_handle(uv_handle_t *h)
{
	free(h);
}

static void on_connection(uv_stream_t *srv, int status)
{
	struct grp_node *n = srv->data;
	struct grp_link *l;
	uv_tcp_t *tmp;

	if (status < 0)
		return;
	l = link_new(n, "inbound");
	if (l) {
		grp_link_accept(l, srv);
		return;
	}
	/* Over the limit (or out of memory): accept and close, so the backlog does not fill. */
	n->cnt.links_refused++;
	tmp = malloc(sizeof(*tmp));
	if (!tmp)
		return; /* the connection waits in the backlog; the next accept tries again */
	uv_tcp_init(&n->loop, tmp);
	tmp->data = NULL;
	uv_accept(srv, (uv_stream_t *)tmp);
	uv_close((uv_handle_t *)tmp, free_handle);
}

static void target_dial(struct grp_node *n, struct target *t)
{
	struct grp_link *l = link_new(n, t->addr);

	t->next_ms = now_ms(n) + t->backoff_ms;
	if (!l)
		return;
	l->owner = t;
	t->link = l;
	grp_link_connect(l, (const struct sockaddr *)&t->sa);
}

/* Dials every address without a connection whose back-off has passed, unless the node there
 * is reachable through another connection already. */
static void targets_run(struct grp_node *n)
{
	uint64_t now = now_ms(n);

	for (size_t i = 0; i < n->n_targets; i++) {
		struct target *t = &n->targets[i];

		if (t->is_self || t->link || now < t->next_ms)
			continue;
		if (!grp_uuid_is_nil(&t->uuid) && link_find(n, &t->uuid, NULL)) {
			t->next_ms = now + BACKOFF_MAX_MS;
			continue;
		}
		target_dial(n, t);
	}
}

/* ---- the protocol's outputs (called from inside grp_proto_*: never call back into it) ---- */

static void op_send(void *ctx, const struct grp_uuid *to, const struct grp_msg *m)
{
	struct grp_node *n = ctx;
	struct grp_link *l = link_find(n, to, NULL);

	if (l)
		grp_link_send(l, m);
	else
		n->cnt.send_dropped++;
}

static uint64_t op_queued(void *ctx, const struct grp_uuid *to)
{
	struct grp_node *n = ctx;
	struct grp_link *l = link_find(n, to, NULL);

	return l ? grp_link_queued(l) : 0;
}

static void op_learn(void *ctx, const struct grp_member *peer)
{
	struct grp_node *n = ctx;

	if (grp_uuid_eq(&peer->uuid, &n->self.uuid) || !peer->addr[0])
		return;
	if (target_add(n, peer->addr, &peer->uuid) < 0)
		n->cnt.learn_dropped++;
}

static void op_deliver(void *ctx, const struct grp_entry *e)
{
	struct grp_node *n = ctx;

	n->cfg.deliver(n->cfg.ctx, e);
}

static void publish(struct grp_node *n);

static void op_view(void *ctx, uint64_t id, const struct grp_config *cfg, int my_index,
		    bool primary)
{
	struct grp_node *n = ctx;

	CLOG_INFO("group: %s: view %llu: %u members%s, index %d, %s", n->self.name,
		  (unsigned long long)id, cfg->n, cfg->n_old ? " (joint)" : "", my_index,
		  primary ? "primary" : "non-primary");
	/*
	 * The status shows the view before the service hears of it: whoever acts on the view
	 * must not read an older one (paceless-arbitrator, stopped right after its view said it
	 * votes, read "not a member" and exited without leaving: its data node lost its
	 * majority). Inside grp_proto_create() n->p is not set yet; grp_node_start() publishes.
	 */
	if (n->p)
		publish(n);
	if (n->cfg.view)
		n->cfg.view(n->cfg.ctx, id, cfg, my_index, primary);
}

static void op_xfer_needed(void *ctx, const struct grp_member *donor)
{
	struct grp_node *n = ctx;

	if (n->cfg.xfer_needed)
		n->cfg.xfer_needed(n->cfg.ctx, donor);
}

/* Blocks the loop for a write and two fsyncs: votes and configuration changes only. */
static void op_persist(void *ctx, const struct grp_durable *d)
{
	struct grp_node *n = ctx;
	int rc;

	if (!n->state_file)
		return; /* nothing is durable */
	rc = d ? grp_state_save(n->state_file, n->cluster, d) : grp_state_remove(n->state_file);
	if (rc) {
		n->cnt.state_errors++;
		CLOG_RL(&n->rl, (int64_t)now_ms(n), CORE_LOG_ERR,
			"group: %s: state file %s: cannot %s it: %s", n->self.name, n->state_file,
			d ? "write" : "remove", core_strerror(rc));
	}
}

static void op_member_state(void *ctx, const struct grp_uuid *who, enum grp_svc_state st)
{
	struct grp_node *n = ctx;

	if (n->cfg.member_state)
		n->cfg.member_state(n->cfg.ctx, who, st);
}

static const struct grp_ops node_ops = {
	.send = op_send,
	.learn = op_learn,
	.deliver = op_deliver,
	.view = op_view,
	.xfer_needed = op_xfer_needed,
	.member_state = op_member_state,
	.persist = op_persist,
	.queued = op_queued,
};

/* ---- the loop thread's own events ---- */

/*
 * Snapshot for grp_node_status / _counters; cheap, so after every batch of events (on_flush)
 * and before every view callback (op_view: grp_proto_status() only reads, so it may be
 * called from inside the protocol).
 */
static void publish(struct grp_node *n)
{
	struct grp_status st;

	grp_proto_status(n->p, &st);
	uv_mutex_lock(&n->mu);
	n->st_snap = st;
	n->cnt_snap = n->cnt;
	uv_mutex_unlock(&n->mu);
}

/* Hands held submissions to the protocol in order, until it refuses one for now. */
static void submit_held(struct grp_node *n)
{
	size_t done = 0, done_bytes = 0;
	struct sub *first = n->held;

	while (n->held) {
		struct sub *s = n->held;
		int64_t rc = grp_proto_submit(n->p, s->data, s->len, now_ms(n));

		/* Flow control or not a member yet: keep it (and everything after it) for later. */
		if (rc == CORE_EFULL || rc == CORE_ESTATE)
			break;
		if (rc < 0) {
			n->cnt.submit_dropped++;
			CLOG_RL(&n->rl, (int64_t)now_ms(n), CORE_LOG_WARN,
				"group: %s: submission of %u bytes refused: %s", n->self.name,
				s->len, core_strerror((int)rc));
		}
		n->held = s->next;
		done++;
		done_bytes += s->len;
		if (s->data != s->copy)
			free(s->data);
	}
	if (!n->held)
		n->held_tail = &n->held;
	if (done) {
		uv_mutex_lock(&n->mu);
		for (size_t i = 0; i < done; i++) { /* the oldest items */
			struct sub *next = first->next;

			core_fifo_pop_front(&n->q_store, first);
			first = next;
		}
		n->q_n -= done;
		n->q_bytes -= done_bytes;
		uv_mutex_unlock(&n->mu);
	}
}

static void on_tick_idle(uv_idle_t *h)
{
	(void)h; /* its being active is what counts */
}

/*
 * The service's state and backlog as last set (grp_node_set_state, _set_backlog): the backlog
 * goes to the protocol when it changed, the state once the protocol takes it (a node not yet
 * a member, or paused by flow control, keeps it for the next try).
 */
static void service_run(struct grp_node *n)
{
	uint32_t backlog = 0;
	bool set_backlog;
	uint8_t st;

	uv_mutex_lock(&n->mu);
	st = n->svc_state;
	set_backlog = n->backlog_set;
	if (set_backlog)
		backlog = n->backlog;
	n->backlog_set = false;
	uv_mutex_unlock(&n->mu);
	if (set_backlog)
		grp_proto_set_backlog(n->p, backlog);
	if (!st || grp_proto_set_state(n->p, (enum grp_svc_state)st, now_ms(n)) < 0)
		return;
	uv_mutex_lock(&n->mu);
	if (n->svc_state == st) /* not replaced meanwhile */
		n->svc_state = 0;
	uv_mutex_unlock(&n->mu);
}

/*
 * grp_proto_restart_due(): this node stayed up, cut off, while the members of its last views
 * restart from their state files, and they wait for it. It restarts as after a crash, without
 * the crash: one more process counted in its state file (written first), the protocol created
 * again from it with the service where it is, and every link closed, so that the peers see a
 * new incarnation. What the protocol held of the service's submissions and had not ordered is
 * given up, as with a crash; the hand-over queue in front of it is kept.
 */
static void survivor_restart(struct grp_node *n)
{
	struct grp_durable d;
	struct grp_position svc;
	struct grp_proto *np;
	int rc;

	if (!n->state_file || !grp_proto_restart_due(n->p, &d, &svc))
		return; /* without a state file it waits for an operator, as before */
	d.gen++;
	rc = grp_state_save(n->state_file, n->cluster, &d);
	if (rc)
		n->cnt.state_errors++;
	else
		rc = grp_proto_restore(&n->self, &n->params, &node_ops, n, &d, &svc, now_ms(n), &np);
	if (rc) { /* the next tick tries again */
		CLOG_RL(&n->rl, (int64_t)now_ms(n), CORE_LOG_ERR,
			"group: %s: cannot restart from state file %s: %s", n->self.name,
			n->state_file, core_strerror(rc));
		return;
	}
	n->cnt.survivor_restarts++;
	grp_proto_destroy(n->p);
	n->p = np;
	for (size_t i = 0; i < n->n_links; i++)
		grp_link_close(n->links[i]);
	for (size_t i = 0; i < n->n_targets; i++) {
		n->targets[i].next_ms = now_ms(n);
		n->targets[i].backoff_ms = BACKOFF_MIN_MS;
	}
	publish(n);
}

static void tick_run(struct grp_node *n)
{
	uint64_t now = now_ms(n);

	grp_proto_tick(n->p, now);
	survivor_restart(n);
	for (size_t i = 0; i < n->n_links; i++)
		grp_link_check(n->links[i], now);
	targets_run(n);
	service_run(n);
	submit_held(n);
}

/*
 * The timer only marks the tick due: it runs in on_flush, after the I/O of the iteration the
 * timer starts. A libuv iteration runs its timers before it polls, so after a loop stalled
 * for a while (a service's callback that blocked, a stopped process, a starved CPU) the tick
 * judged the silence of the leader, a learner or a member on a clock that had moved on while
 * what they sent meanwhile still waited unread in the sockets: a follower reported a
 * non-primary view and, reading the leader's APPENDs right after, a primary one again, and a
 * leader gave up learners that were acking (restored nodes under ASan on a loaded machine).
 * The idle handle keeps the poll in between from waiting for the next I/O.
 */
static void on_tick(uv_timer_t *t)
{
	struct grp_node *n = t->data;

	n->tick_due = true;
	uv_idle_start(&n->tick_idle, on_tick_idle);
}

/*
 * Once per loop iteration, after its I/O callbacks: a tick if one is due, the protocol's
 * end-of-batch work, then one write per link for all the frames the iteration produced.
 */
static void on_flush(uv_check_t *c)
{
	struct grp_node *n = c->data;

	if (n->shutting)
		return;
	if (n->tick_due) {
		n->tick_due = false;
		uv_idle_stop(&n->tick_idle);
		tick_run(n);
	}
	grp_proto_flush(n->p);
	for (size_t i = 0; i < n->n_links; i++)
		grp_link_flush(n->links[i]);
	publish(n); /* what the messages read in this iteration changed */
}

static void close_walk(uv_handle_t *h, void *arg)
{
	struct grp_node *n = arg;
	bool own = h == (uv_handle_t *)&n->listener || h == (uv_handle_t *)&n->tick ||
		   h == (uv_handle_t *)&n->tick_idle || h == (uv_handle_t *)&n->wake.poll ||
		   h == (uv_handle_t *)&n->flush;

	if (uv_is_closing(h))
		return;
	if (own)
		uv_close(h, NULL);
	else
		grp_link_close(h->data); /* every other handle is a link's */
}

static void shutdown_loop(struct grp_node *n)
{
	n->shutting = true;
	uv_walk(&n->loop, close_walk, n);
}

/*
 * Other threads wake the loop with core_wake (an eventfd; a uv_async_t stalled the loop for up
 * to 2.6 ms at 100,000 msg/s, see core_wake.h), outside mu, and only the first thread to hand
 * something over since the loop last took it.
 *
 * Under mu: whether the caller is to call wake() once it has released mu.
 */
static bool wake_due(struct grp_node *n)
{
	if (n->woken)
		return false;
	n->woken = true;
	n->wakers++;
	return true;
}

static void wake(struct grp_node *n)
{
	core_wake_send(&n->wake);
	uv_mutex_lock(&n->mu);
	n->wakers--; /* grp_node_stop() closes the eventfd only once this is 0 */
	uv_mutex_unlock(&n->mu);
}

/* The eventfd was read before this takes mu: a wake sent after that is for what comes after. */
static void on_wake(struct core_wake *w)
{
	struct grp_node *n = w->data;
	bool stop, leave, boot, xfer;
	struct grp_position pos;

	uv_mutex_lock(&n->mu);
	n->woken = false;
	stop = n->stopping;
	leave = n->leave && !n->left;
	boot = n->force_bootstrap;
	n->force_bootstrap = false;
	xfer = n->xfer_done;
	pos = n->xfer_pos;
	n->xfer_done = false;
	if (n->q_head) {
		*n->held_tail = n->q_head;
		n->held_tail = n->q_tail;
		n->q_head = NULL;
		n->q_tail = &n->q_head;
	}
	uv_mutex_unlock(&n->mu);
	if (stop) {
		shutdown_loop(n);
		return;
	}
	if (leave) {
		n->left = true;
		grp_proto_leave(n->p, now_ms(n));
	}
	if (boot)
		grp_proto_force_bootstrap(n->p, now_ms(n));
	if (xfer && grp_proto_xfer_done(n->p, pos.index, pos.term, pos.seq, now_ms(n)))
		CLOG_WARN("group: %s: state transfer to seq %llu refused; a donor is named again",
			  n->self.name, (unsigned long long)pos.seq);
	service_run(n);
	submit_held(n);
	publish(n);
}

static void loop_thread(void *arg)
{
	struct grp_node *n = arg;

	(void)pthread_setname_np(pthread_self(), "grp-loop"); /* top -H, perf: which thread */
	uv_run(&n->loop, UV_RUN_DEFAULT);
}

/* ---- public API ---- */

static int config_check(const struct grp_node_config *cfg)
{
	if (!cfg->cluster || !cfg->cluster[0] || strlen(cfg->cluster) > GRP_LINK_CLUSTER_MAX ||
	    !cfg->name || strlen(cfg->name) >= GRP_NAME_MAX || !cfg->listen || !cfg->deliver ||
	    cfg->weight > GRP_WEIGHT_MAX || (cfg->n_peers && !cfg->peers))
		return -EINVAL;
	if (cfg->arbitrator && (cfg->bootstrap || cfg->state_file))
		return -EINVAL; /* a group must start from a node that has the service's state */
	if (cfg->params.link_busy_bytes > GRP_NODE_LINK_BUSY_MAX)
		return -EINVAL; /* back-pressure must act well below the safety net */
	if (!cfg->tls.cert != !cfg->tls.key ||
	    (!cfg->tls.cert && (cfg->tls.ca || cfg->tls.ciphers)))
		return -EINVAL; /* half a TLS set-up would be a plain node that looks secured */
	if (cfg->state_file && !cfg->state_file[0])
		return -EINVAL;
	for (size_t i = 0; i < cfg->n_peers; i++) {
		struct sockaddr_storage ss;

		if (!cfg->peers[i] || parse_addr(cfg->peers[i], &ss))
			return -EINVAL;
	}
	return 0;
}

static int fill_random(void *buf, size_t len)
{
	ssize_t got = getrandom(buf, len, 0);

	if (got < 0)
		return -errno;
	return (size_t)got == len ? 0 : -EIO;
}

static void node_free(struct grp_node *n)
{
	if (n->p)
		grp_proto_destroy(n->p);
	for (struct sub *s = n->held; s; s = s->next)
		if (s->data != s->copy)
			free(s->data);
	for (struct sub *s = n->q_head; s; s = s->next)
		if (s->data != s->copy)
			free(s->data);
	core_fifo_free(&n->q_store);
	core_wake_fd_close(&n->wake);
	grp_tls_ctx_free(n->tls);
	free(n->env.tls_rbuf);
	free(n->msg);
	free(n->scratch);
	free(n->state_file);
	free(n);
}

/* Start failed: runs the loop on this thread until every handle opened so far is closed. */
static void close_all(struct grp_node *n)
{
	shutdown_loop(n);
	uv_run(&n->loop, UV_RUN_DEFAULT);
	ASSERT(uv_loop_close(&n->loop) == 0);
	uv_mutex_destroy(&n->mu);
}

/* Binds the listener and sets self.addr; the loop exists, the thread does not yet. */
static int node_listen(struct grp_node *n, const char *listen)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss), rc;

	rc = parse_addr(listen, &ss);
	if (rc)
		return rc;
	uv_tcp_init(&n->loop, &n->listener);
	n->listener.data = n;
	rc = uv_tcp_bind(&n->listener, (const struct sockaddr *)&ss, 0);
	if (!rc)
		rc = uv_listen((uv_stream_t *)&n->listener, 128, on_connection);
	if (!rc)
		rc = uv_tcp_getsockname(&n->listener, (struct sockaddr *)&ss, &len);
	if (rc)
		return rc; /* libuv's codes are negative errno on Unix */
	n->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						 : ((struct sockaddr_in *)&ss)->sin_port);
	return format_self_addr(&ss, n->self.addr);
}

/*
 * The state file, if any: 1 with *d when this process restores from it (its uuid; one more
 * process counted and written before anything else happens), 0 for a new node, or an error.
 */
static int node_state(struct grp_node *n, const struct grp_node_config *cfg,
		      struct grp_durable *d)
{
	int rc;

	if (!n->state_file || cfg->bootstrap)
		return 0; /* a new node: the protocol replaces the file */
	rc = grp_state_load(n->state_file, n->cluster, d);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	d->gen++;
	rc = grp_state_save(n->state_file, n->cluster, d);
	if (rc)
		return rc;
	n->self.uuid = d->uuid;
	return 1;
}

static int node_proto(struct grp_node *n, const struct grp_node_config *cfg,
		      const struct grp_params *params, const struct grp_durable *d)
{
	const struct grp_ops *ops = &node_ops;
	struct grp_position pos = {.index = cfg->index, .term = cfg->term, .seq = cfg->seq};

	if (d)
		return grp_proto_restore(&n->self, params, ops, n, d, &pos, now_ms(n), &n->p);
	if (cfg->arbitrator)
		memset(&pos, 0, sizeof(pos)); /* no service */
	return grp_proto_create(&n->self, params, ops, n, cfg->bootstrap, &pos, now_ms(n), &n->p);
}

static int node_init(struct grp_node *n, const struct grp_node_config *cfg)
{
	struct grp_params params = cfg->params;
	struct grp_durable *d = NULL;
	int rc;

	rc = fill_random(n->self.uuid.b, sizeof(n->self.uuid.b));
	if (!rc && n->state_file) {
		d = malloc(sizeof(*d));
		rc = d ? node_state(n, cfg, d) : -ENOMEM;
		if (rc <= 0) { /* a new node, or an error: nothing to restore */
			free(d);
			d = NULL;
		}
		rc = rc < 0 ? rc : 0;
	}
	if (!rc && !params.seed)
		rc = fill_random(&params.seed, sizeof(params.seed));
	params.batch = true; /* on_flush calls grp_proto_flush() after every loop iteration */
	if (rc)
		return rc;
	snprintf(n->self.name, sizeof(n->self.name), "%s", cfg->name);
	n->self.weight = cfg->weight;
	n->self.flags = cfg->arbitrator ? GRP_MEMBER_ARBITRATOR : 0;
	params.weight = cfg->weight;
	if (cfg->tls.cert) {
		rc = grp_tls_ctx_new(&cfg->tls, &n->tls);
		if (!rc) {
			n->env.tls = n->tls;
			n->env.tls_rbuf = malloc(GRP_LINK_TLS_RBUF);
			if (!n->env.tls_rbuf)
				rc = -ENOMEM;
		}
	}
	if (!rc)
		rc = node_listen(n, cfg->listen);
	for (size_t i = 0; !rc && i < cfg->n_peers; i++)
		rc = target_add(n, cfg->peers[i], NULL);
	n->params = params;
	if (!rc)
		rc = node_proto(n, cfg, &params, d);
	free(d);
	if (rc)
		return rc == CORE_EFULL ? -EINVAL : rc;
	uv_timer_init(&n->loop, &n->tick);
	n->tick.data = n;
	uv_timer_start(&n->tick, on_tick, TICK_MS, TICK_MS);
	uv_idle_init(&n->loop, &n->tick_idle);
	n->tick_idle.data = n;
	uv_check_init(&n->loop, &n->flush);
	n->flush.data = n;
	uv_check_start(&n->flush, on_flush);
	n->wake.data = n;
	return core_wake_init(&n->loop, &n->wake, on_wake);
}

int grp_node_start(const struct grp_node_config *cfg, struct grp_node **out)
{
	struct grp_node *n;
	int rc = config_check(cfg);

	if (rc)
		return rc;
	/*
	 * A peer that goes away while we write to it must cost a closed link, not the process:
	 * libuv writes to sockets with write(2), so SIGPIPE is ignored, process-wide (as every
	 * libuv server does; core_ctl does the same for the daemons).
	 */
	signal(SIGPIPE, SIG_IGN);
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->wake.fd = -1;
	n->msg = malloc(sizeof(*n->msg));
	n->scratch = malloc(sizeof(*n->scratch));
	if (!n->msg || !n->scratch || uv_mutex_init(&n->mu)) {
		n->p = NULL;
		node_free(n);
		return -ENOMEM;
	}
	n->cfg = *cfg;
	n->cfg.cluster = n->cfg.name = n->cfg.listen = NULL;
	n->cfg.peers = NULL;
	n->cfg.tls = (struct grp_tls_files){0};
	n->cfg.state_file = NULL;
	snprintf(n->cluster, sizeof(n->cluster), "%s", cfg->cluster);
	if (cfg->state_file && !(n->state_file = strdup(cfg->state_file))) {
		uv_mutex_destroy(&n->mu);
		node_free(n);
		return -ENOMEM;
	}
	n->held_tail = &n->held;
	n->q_tail = &n->q_head;
	core_fifo_init(&n->q_store, SUB_BLOCK);
	n->rl = (struct core_ratelimit)CORE_RATELIMIT_INIT(1000, 10);
	n->env = (struct grp_link_env){.loop = &n->loop, .cluster = n->cluster, .self = &n->self,
				       .ops = &link_ops, .ctx = n, .msg = n->msg,
				       .scratch = n->scratch, .cnt = &n->cnt, .rl = &n->rl};
	rc = uv_loop_init(&n->loop);
	if (rc) {
		uv_mutex_destroy(&n->mu);
		node_free(n);
		return rc;
	}
	rc = node_init(n, cfg);
	if (!rc) {
		publish(n);
		rc = uv_thread_create(&n->thread, loop_thread, n);
	}
	if (rc) {
		close_all(n);
		node_free(n);
		return rc;
	}
	CLOG_INFO("group: %s: started at %s, cluster %s%s%s%s", n->self.name, n->self.addr,
		  n->cluster, cfg->bootstrap ? ", bootstrap" : "",
		  cfg->arbitrator ? ", arbitrator" : "", n->tls ? ", TLS" : "");
	*out = n;
	return 0;
}

int grp_node_listen_port(struct grp_node *n)
{
	return n->port;
}

void grp_node_self(struct grp_node *n, struct grp_member *self)
{
	*self = n->self;
}

int64_t grp_node_submit(struct grp_node *n, const void *data, uint32_t len)
{
	uint8_t *big = NULL;
	struct sub *s;
	int64_t rc = 0;
	bool due = false;

	if (n->cfg.arbitrator)
		return CORE_ESTATE; /* no service: nothing to order */
	if (len > GRP_PAYLOAD_MAX)
		return CORE_ETOOBIG;
	/* A big copy before taking the lock: other threads may be submitting too. */
	if (len > SUB_INLINE_MAX) {
		big = malloc(len);
		if (!big)
			return CORE_EFULL;
		memcpy(big, data, len);
	}
	uv_mutex_lock(&n->mu);
	if (n->stopping || n->q_n == GRP_NODE_SUBMIT_MAX ||
	    (n->q_n && n->q_bytes + len > n->cfg.params.submit_bytes) ||
	    !(s = core_fifo_alloc(&n->q_store, sizeof(*s) + (big ? 0 : len)))) {
		rc = CORE_EFULL;
	} else {
		s->next = NULL;
		s->len = len;
		s->data = big ? big : s->copy;
		if (!big && len)
			memcpy(s->copy, data, len);
		big = NULL;
		*n->q_tail = s;
		n->q_tail = &s->next;
		n->q_n++;
		n->q_bytes += len;
		due = wake_due(n);
	}
	uv_mutex_unlock(&n->mu);
	if (due)
		wake(n);
	free(big);
	return rc;
}

/* Hands a request to the loop thread (flag, and the transfer's position if any). */
static void post(struct grp_node *n, bool *flag, const struct grp_position *pos)
{
	bool due = false;

	uv_mutex_lock(&n->mu);
	if (!n->stopping) {
		*flag = true;
		if (pos)
			n->xfer_pos = *pos;
		due = wake_due(n);
	}
	uv_mutex_unlock(&n->mu);
	if (due)
		wake(n);
}

void grp_node_leave(struct grp_node *n)
{
	post(n, &n->leave, NULL);
}

int grp_node_set_state(struct grp_node *n, enum grp_svc_state st)
{
	bool due = false;

	if (st < GRP_SVC_JOINER || st > GRP_SVC_DESYNCED)
		return -EINVAL;
	if (n->cfg.arbitrator)
		return CORE_ESTATE;
	uv_mutex_lock(&n->mu);
	if (!n->stopping) {
		n->svc_state = (uint8_t)st;
		due = wake_due(n);
	}
	uv_mutex_unlock(&n->mu);
	if (due)
		wake(n);
	return 0;
}

void grp_node_set_backlog(struct grp_node *n, uint32_t backlog)
{
	bool due = false;

	uv_mutex_lock(&n->mu);
	if (!n->stopping && (backlog != n->backlog || n->backlog_set)) {
		n->backlog = backlog;
		n->backlog_set = true;
		due = wake_due(n);
	}
	uv_mutex_unlock(&n->mu);
	if (due)
		wake(n);
}

void grp_node_xfer_done(struct grp_node *n, uint64_t index, uint64_t term, uint64_t seq)
{
	struct grp_position pos = {.index = index, .term = term, .seq = seq};

	post(n, &n->xfer_done, &pos);
}

void grp_node_force_bootstrap(struct grp_node *n)
{
	post(n, &n->force_bootstrap, NULL);
}

void grp_node_stop(struct grp_node *n)
{
	bool due, busy;
	int rc;

	uv_mutex_lock(&n->mu);
	ASSERT(!n->stopping);
	n->stopping = true;
	due = wake_due(n); /* else a wake is on its way, and the loop will see stopping */
	uv_mutex_unlock(&n->mu);
	if (due)
		wake(n);
	uv_thread_join(&n->thread);
	ASSERT(uv_loop_close(&n->loop) == 0);
	/* A thread still in wake() writes to the eventfd: node_free() closes it after that. */
	do {
		uv_mutex_lock(&n->mu);
		busy = n->wakers > 0;
		uv_mutex_unlock(&n->mu);
		if (busy)
			uv_sleep(1);
	} while (busy);
	uv_mutex_destroy(&n->mu);
	/* A graceful stop: the next start is a new node (Galera removes gvwstate.dat too). */
	if (n->state_file && (rc = grp_state_remove(n->state_file)))
		CLOG_WARN("group: %s: state file %s: cannot remove it: %s", n->self.name,
			  n->state_file, core_strerror(rc));
	CLOG_INFO("group: %s: stopped", n->self.name);
	node_free(n);
}

int grp_node_status(struct grp_node *n, struct grp_status *st)
{
	uv_mutex_lock(&n->mu);
	*st = n->st_snap;
	uv_mutex_unlock(&n->mu);
	return 0;
}

uint64_t grp_node_memory_bound(const struct grp_params *p, uint32_t members, uint32_t msg_max)
{
	/* A member's pending submissions: submit_bytes, or one message over it. */
	uint64_t pend = p->submit_bytes > msg_max ? p->submit_bytes : msg_max;
	/* An APPEND: its payload limit plus one entry, the entries' headers, configurations. */
	uint64_t frame = GRP_PROTO_APPEND_BYTES_MAX + (uint64_t)msg_max + ((uint64_t)1 << 20);
	uint64_t log = 2 * p->cache_bytes + (uint64_t)members * pend + frame;
	uint64_t link = p->link_busy_bytes + 2 * frame + GRP_LINK_WRITE_AHEAD + GRP_LINK_TLS_RBUF;

	return log + 2 * pend + (members ? members - 1 : 0) * link;
}

int grp_node_counters(struct grp_node *n, struct grp_node_counters *c)
{
	uv_mutex_lock(&n->mu);
	*c = n->cnt_snap;
	uv_mutex_unlock(&n->mu);
	return 0;
}
