/* SPDX-License-Identifier: MPL-2.0 */
/* The failover peer's TCP connections (see dhcp_fo_link.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core_log.h"
#include "dhcp_fo_link.h"

/* The machine counts whole seconds; ticking four times a second puts a silent peer's
 * max-response-delay (and auto-partner-down) within a quarter second of when it is due. */
#define TICK_MS 250
#define RBUF_INIT 4096

struct conn {
	uv_tcp_t tcp;
	uv_connect_t creq;
	struct dhcp_fo_link *k;
	int id;            /* the machine's link id; 0 while connecting */
	uint8_t rbuf[2 * DHCP_FO_MSG_MAX];
	size_t rlen;
	size_t outq;
	bool closing;
};

struct wreq {
	uv_write_t req;
	struct conn *c;
	size_t len;
	uint8_t data[DHCP_FO_MSG_MAX];
};

struct dhcp_fo_link {
	uv_loop_t *loop;
	const struct dhcp_failover_peer *cfg;
	struct dhcp_fo *fo;
	struct dhcp_fo_link_cbs cbs;
	struct dhcp_fo_ops ops;
	uv_tcp_t listener;
	uv_timer_t tick;
	struct conn *conns[DHCP_FO_LINKS_MAX];
	int next_id;
	struct conn *connecting; /* the outgoing connection in progress */
	int64_t reconnect_at;
	int open_handles; /* listener, timer, connections: k is freed when the last closes */
	bool stopping;
	struct dhcp_fo_link_counters cnt;
	struct core_ratelimit rl;
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static void sockaddr_of(uint32_t addr, uint16_t port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(addr);
	sa->sin_port = htons(port);
}

static struct conn *conn_of(struct dhcp_fo_link *k, int id)
{
	for (int i = 0; i < DHCP_FO_LINKS_MAX; i++)
		if (k->conns[i] && k->conns[i]->id == id)
			return k->conns[i];
	return NULL;
}

static void maybe_free(struct dhcp_fo_link *k)
{
	if (k->stopping && k->open_handles == 0) {
		dhcp_fo_free(k->fo);
		free(k);
	}
}

static void on_conn_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	struct dhcp_fo_link *k = c->k;

	for (int i = 0; i < DHCP_FO_LINKS_MAX; i++)
		if (k->conns[i] == c)
			k->conns[i] = NULL;
	if (c->id && !k->stopping) {
		dhcp_fo_link_down(k->fo, c->id, now_s());
		k->reconnect_at = now_s() + DHCP_FO_RECONNECT_S;
	}
	k->open_handles--;
	free(c);
	maybe_free(k);
}

static void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
}

/* A new connection structure on the loop (not yet in conns[]). */
static struct conn *conn_new(struct dhcp_fo_link *k)
{
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->k = k;
	uv_tcp_init(k->loop, &c->tcp);
	c->tcp.data = c;
	k->open_handles++;
	return c;
}

static bool conn_register(struct dhcp_fo_link *k, struct conn *c)
{
	for (int i = 0; i < DHCP_FO_LINKS_MAX; i++) {
		if (!k->conns[i]) {
			k->conns[i] = c;
			return true;
		}
	}
	return false;
}

static void on_write(uv_write_t *req, int status)
{
	struct wreq *w = (struct wreq *)req;

	(void)status; /* a failed write shows up as a read error too */
	w->c->outq -= w->len;
	free(w);
}

/* ops.send */
static void link_send(void *ctx, int link, struct dhcp_fo_msg *m)
{
	struct dhcp_fo_link *k = ctx;
	struct conn *c = conn_of(k, link);
	struct wreq *w;
	uv_buf_t b;
	int n;

	if (!c || c->closing)
		return;
	w = malloc(sizeof(*w));
	if (!w) {
		k->cnt.send_dropped++; /* the peer's timers recover it, as from a lost segment */
		return;
	}
	n = dhcp_fo_encode(m, w->data, sizeof(w->data));
	if (n < 0 || c->outq + (size_t)n > DHCP_FO_OUTQ_MAX) {
		free(w);
		if (n < 0) {
			k->cnt.send_dropped++; /* cannot happen: the machine builds what fits */
		} else {
			k->cnt.overflow++;
			CLOG_RL(&k->rl, now_s() * 1000, CORE_LOG_WARN,
				"failover peer %s: the peer does not read: closing", k->cfg->name);
			conn_close(c);
		}
		return;
	}
	w->c = c;
	w->len = (size_t)n;
	b = uv_buf_init((char *)w->data, (unsigned)n);
	if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write)) {
		free(w);
		conn_close(c);
		return;
	}
	c->outq += (size_t)n;
	k->cnt.frames_out++;
}

/* ops.close */
static void link_close(void *ctx, int link, const char *why)
{
	struct dhcp_fo_link *k = ctx;
	struct conn *c = conn_of(k, link);

	(void)why;
	if (c)
		conn_close(c);
}

static void link_persist(void *ctx, const struct dhcp_fo_saved *s)
{
	struct dhcp_fo_link *k = ctx;

	if (k->cbs.persist)
		k->cbs.persist(k->cbs.ctx, s);
}

static void link_requested(void *ctx, bool all)
{
	struct dhcp_fo_link *k = ctx;

	if (k->cbs.updates_requested)
		k->cbs.updates_requested(k->cbs.ctx, all);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct conn *c = h->data;

	(void)suggested;
	*buf = uv_buf_init((char *)c->rbuf + c->rlen, (unsigned)(sizeof(c->rbuf) - c->rlen));
}

static void malformed(struct conn *c, const char *why)
{
	struct dhcp_fo_link *k = c->k;

	k->cnt.malformed++;
	CLOG_RL(&k->rl, now_s() * 1000, CORE_LOG_WARN,
		"failover peer %s: closing link %d: malformed message: %s", k->cfg->name, c->id,
		why);
	conn_close(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = s->data;
	struct dhcp_fo_link *k = c->k;
	size_t off = 0;

	(void)buf;
	if (nread < 0) {
		conn_close(c);
		return;
	}
	c->rlen += (size_t)nread;
	while (!c->closing) {
		struct dhcp_fo_msg m;
		const char *err = "";
		int n = dhcp_fo_frame_len(c->rbuf + off, c->rlen - off), rc;

		if (n < 0) {
			malformed(c, "bad message length");
			return;
		}
		if (n == 0 || (size_t)n > c->rlen - off)
			break;
		k->cnt.frames_in++;
		if (dhcp_fo_decode(c->rbuf + off, (size_t)n, &m, &err) < 0) {
			malformed(c, err);
			return;
		}
		rc = dhcp_fo_receive(k->fo, c->id, &m, now_s());
		if (rc == 1 && k->cbs.bindings)
			k->cbs.bindings(k->cbs.ctx, &m);
		off += (size_t)n;
	}
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
}

/* The connection is up: it becomes a link of the machine. */
static void link_up(struct dhcp_fo_link *k, struct conn *c)
{
	if (!conn_register(k, c)) {
		conn_close(c);
		return;
	}
	c->id = ++k->next_id;
	uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
	dhcp_fo_link_up(k->fo, c->id, now_s());
}

static void on_connect(uv_connect_t *req, int status)
{
	struct conn *c = req->data;
	struct dhcp_fo_link *k = c->k;

	k->connecting = NULL;
	if (status < 0 || k->stopping) {
		k->reconnect_at = now_s() + DHCP_FO_RECONNECT_S;
		conn_close(c);
		return;
	}
	k->cnt.connects++;
	link_up(k, c);
}

static void try_connect(struct dhcp_fo_link *k)
{
	struct sockaddr_in src, dst;
	struct conn *c;

	if (k->connecting || dhcp_fo_link(k->fo) || !k->cfg->peer_address)
		return;
	c = conn_new(k);
	if (!c)
		return;
	k->connecting = c;
	c->creq.data = c;
	sockaddr_of(k->cfg->peer_address, k->cfg->peer_port, &dst);
	if (k->cfg->address) {
		/* ISC accepts us only from the address it has for us. */
		sockaddr_of(k->cfg->address, 0, &src);
		if (uv_tcp_bind(&c->tcp, (const struct sockaddr *)&src, 0))
			CLOG_RL(&k->rl, now_s() * 1000, CORE_LOG_WARN,
				"failover peer %s: cannot connect from our address: the peer may "
				"refuse us", k->cfg->name);
	}
	if (uv_tcp_connect(&c->creq, &c->tcp, (const struct sockaddr *)&dst, on_connect)) {
		k->connecting = NULL;
		k->reconnect_at = now_s() + DHCP_FO_RECONNECT_S;
		conn_close(c);
	}
}

static void on_connection(uv_stream_t *srv, int status)
{
	struct dhcp_fo_link *k = srv->data;
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	struct conn *c;

	if (status < 0 || !(c = conn_new(k)))
		return;
	if (uv_accept(srv, (uv_stream_t *)&c->tcp) ||
	    uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) || ss.ss_family != AF_INET ||
	    ntohl(((struct sockaddr_in *)&ss)->sin_addr.s_addr) != k->cfg->peer_address) {
		/* As ISC: only the peer, and nothing said to anyone else. */
		k->cnt.refused_address++;
		conn_close(c);
		return;
	}
	k->cnt.accepted++;
	link_up(k, c);
}

static void on_tick(uv_timer_t *t)
{
	struct dhcp_fo_link *k = t->data;
	int64_t now = now_s();

	dhcp_fo_tick(k->fo, now);
	if (now >= k->reconnect_at)
		try_connect(k);
}

static void on_handle_closed(uv_handle_t *h)
{
	struct dhcp_fo_link *k = h->data;

	k->open_handles--;
	maybe_free(k);
}

int dhcp_fo_link_start(uv_loop_t *loop, const struct dhcp_failover_peer *cfg,
		       const struct dhcp_fo_saved *saved, const char *vendor,
		       const struct dhcp_fo_link_cbs *cbs, struct dhcp_fo_link **out)
{
	struct dhcp_fo_link *k = calloc(1, sizeof(*k));
	struct sockaddr_in sa;
	int rc;

	if (!k)
		return -ENOMEM;
	k->loop = loop;
	k->cfg = cfg;
	k->cbs = *cbs;
	k->rl = (struct core_ratelimit)CORE_RATELIMIT_INIT(10000, 20);
	k->ops = (struct dhcp_fo_ops){.send = link_send,
				      .close = link_close,
				      .persist = link_persist,
				      .updates_requested = link_requested};
	k->fo = dhcp_fo_create(cfg, saved, vendor, now_s(), &k->ops, k);
	if (!k->fo) {
		free(k);
		return -ENOMEM;
	}
	uv_tcp_init(loop, &k->listener);
	k->listener.data = k;
	k->open_handles++;
	sockaddr_of(cfg->address, cfg->port, &sa);
	rc = uv_tcp_bind(&k->listener, (const struct sockaddr *)&sa, 0);
	if (!rc)
		rc = uv_listen((uv_stream_t *)&k->listener, 8, on_connection);
	if (rc) {
		k->stopping = true;
		uv_close((uv_handle_t *)&k->listener, on_handle_closed);
		return rc; /* k is freed once the loop runs the close */
	}
	uv_timer_init(loop, &k->tick);
	k->tick.data = k;
	k->open_handles++;
	uv_timer_start(&k->tick, on_tick, TICK_MS, TICK_MS);
	try_connect(k);
	*out = k;
	return 0;
}

struct dhcp_fo *dhcp_fo_link_machine(struct dhcp_fo_link *k)
{
	return k->fo;
}

int dhcp_fo_link_send(struct dhcp_fo_link *k, struct dhcp_fo_msg *m)
{
	return dhcp_fo_send(k->fo, m, -1, now_s());
}

int dhcp_fo_link_port(const struct dhcp_fo_link *k)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	if (uv_tcp_getsockname(&k->listener, (struct sockaddr *)&ss, &len))
		return -1;
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void dhcp_fo_link_counters(const struct dhcp_fo_link *k, struct dhcp_fo_link_counters *c)
{
	*c = k->cnt;
}

void dhcp_fo_link_stop(struct dhcp_fo_link *k)
{
	k->stopping = true;
	uv_close((uv_handle_t *)&k->listener, on_handle_closed);
	uv_timer_stop(&k->tick);
	uv_close((uv_handle_t *)&k->tick, on_handle_closed);
	for (int i = 0; i < DHCP_FO_LINKS_MAX; i++)
		if (k->conns[i])
			conn_close(k->conns[i]);
	if (k->connecting)
		conn_close(k->connecting); /* its connect callback runs with UV_ECANCELED */
}
