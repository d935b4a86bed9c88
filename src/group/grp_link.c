/* SPDX-License-Identifier: MPL-2.0 */
/* One mesh connection: the HELLO handshake, grp_wire framing both ways, a bounded output queue. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_assert.h"
#include "core_wire.h"
#include "grp_link.h"

#define HELLO_MAGIC "PCLG"
#define HELLO_HDR_LEN 7        /* magic, u8 version, u16 body length */
#define RBUF_MIN ((size_t)64 << 10)
#define PEND_FLUSH ((size_t)256 << 10) /* frames gathered for one write: flushed at this size */

_Static_assert(GRP_NODE_LINK_BUSY_MAX + GRP_WIRE_FRAME_MAX + GRP_LINK_WRITE_AHEAD < GRP_NODE_OUTQ_MAX,
	       "back-pressure holds a link well below the safety net");
_Static_assert(1 + GRP_LINK_CLUSTER_MAX + 16 + GRP_NAME_MAX + GRP_ADDR_MAX + 2 <=
		       GRP_LINK_HELLO_BODY_MAX,
	       "the largest HELLO body fits");

struct wreq {
	uv_write_t req;
	struct grp_link *l;
	size_t len;
	uint8_t data[];
};

static uint64_t now_ms(const struct grp_link *l)
{
	return uv_now(l->env->loop);
}

/* ---- HELLO ---- */

static void write_str8(struct core_wire *w, const char *s)
{
	size_t len = strlen(s);

	core_wire_write_u8(w, (uint8_t)len);
	core_wire_write(w, s, len);
}

static size_t hello_encode(const struct grp_link_env *env, uint8_t *buf, size_t cap)
{
	struct core_wire w;
	size_t body;

	core_wire_init(&w, buf, cap);
	core_wire_write(&w, HELLO_MAGIC, 4);
	core_wire_write_u8(&w, GRP_LINK_HELLO_VERSION);
	core_wire_write_u16(&w, 0); /* body length, filled in below */
	write_str8(&w, env->cluster);
	core_wire_write(&w, env->self->uuid.b, 16);
	write_str8(&w, env->self->name);
	write_str8(&w, env->self->addr);
	core_wire_write_u8(&w, env->self->flags);
	core_wire_write_u8(&w, (uint8_t)env->self->weight);
	ASSERT(!w.err);
	body = w.pos - HELLO_HDR_LEN;
	ASSERT(body <= GRP_LINK_HELLO_BODY_MAX);
	buf[5] = (uint8_t)(body >> 8);
	buf[6] = (uint8_t)body;
	return w.pos;
}

/* Reads a length-prefixed string without NULs into out[max]; false if it does not fit. */
static bool read_str8(struct core_wire *w, char *out, size_t max)
{
	size_t len = core_wire_read_u8(w);
	const uint8_t *p = core_wire_read_ptr(w, len);

	if (!p || len >= max || memchr(p, '\0', len))
		return false;
	memcpy(out, p, len);
	out[len] = '\0';
	return true;
}

/*
 * Parses the HELLO at the start of buf. Returns its length (> 0), 0 when more bytes are
 * needed, or a negative error with *why set for the log line (CORE_EEXIST: our own).
 */
static int hello_decode(const struct grp_link_env *env, const uint8_t *buf, size_t len,
			struct grp_member *peer, const char **why)
{
	char cluster[GRP_LINK_CLUSTER_MAX + 1];
	struct core_wire w;
	size_t body;

	if (memcmp(buf, HELLO_MAGIC, len < 4 ? len : 4)) {
		/* 0x16: a TLS handshake record, the first byte a TLS peer sends. */
		*why = buf[0] == 0x16 ? "bad magic: the peer speaks TLS and this node has no TLS"
				      : "bad magic";
		return CORE_EMALFORMED;
	}
	if (len < HELLO_HDR_LEN)
		return 0;
	if (buf[4] != GRP_LINK_HELLO_VERSION) {
		*why = "unsupported version";
		return CORE_EUNSUPP;
	}
	body = (size_t)buf[5] << 8 | buf[6];
	if (body > GRP_LINK_HELLO_BODY_MAX) {
		*why = "oversized HELLO";
		return CORE_ETOOBIG;
	}
	if (len < HELLO_HDR_LEN + body)
		return 0;
	core_wire_init_ro(&w, buf + HELLO_HDR_LEN, body);
	memset(peer, 0, sizeof(*peer));
	*why = "malformed HELLO";
	if (!read_str8(&w, cluster, sizeof(cluster)))
		return CORE_EMALFORMED;
	core_wire_read(&w, peer->uuid.b, 16);
	if (!read_str8(&w, peer->name, sizeof(peer->name)) ||
	    !read_str8(&w, peer->addr, sizeof(peer->addr)))
		return CORE_EMALFORMED;
	peer->flags = core_wire_read_u8(&w);
	peer->weight = core_wire_read_u8(&w);
	if (w.err || core_wire_avail(&w) || (peer->flags & ~GRP_MEMBER_FLAGS_KNOWN) ||
	    grp_uuid_is_nil(&peer->uuid))
		return CORE_EMALFORMED;
	if (strcmp(cluster, env->cluster)) {
		*why = "another cluster";
		return CORE_EMALFORMED;
	}
	if (grp_uuid_eq(&peer->uuid, &env->self->uuid)) {
		*why = "connected to ourselves";
		return CORE_EEXIST;
	}
	return (int)(HELLO_HDR_LEN + body);
}

/* ---- closing ---- */

static void on_closed(uv_handle_t *h)
{
	struct grp_link *l = h->data;

	/* Runs from the loop, outside any grp_proto call: the owner may call into it. */
	l->env->ops->closed(l->env->ctx, l, l->is_self);
	grp_tls_free(l->tls);
	free(l->rbuf);
	free(l->ctl.b);
	free(l->bulk.b);
	free(l);
}

void grp_link_close(struct grp_link *l)
{
	if (l->closing)
		return;
	l->closing = true;
	uv_close((uv_handle_t *)&l->tcp, on_closed);
}

static void refuse(struct grp_link *l, uint64_t *counter, const char *why)
{
	(*counter)++;
	CLOG_RL(l->env->rl, (int64_t)now_ms(l), CORE_LOG_WARN, "group: %s: closing: %s", l->what,
		why);
	grp_link_close(l);
}

/* A TLS session that failed: before the peer's HELLO it is a refusal (a stranger, a plain
 * peer, or the peer refusing our certificate), after it a broken stream. */
static void tls_refuse(struct grp_link *l)
{
	char why[GRP_TLS_ERR_MAX + 32];

	snprintf(why, sizeof(why), "TLS: %s", grp_tls_error(l->tls));
	refuse(l, l->established ? &l->env->cnt->frames_bad : &l->env->cnt->tls_refused, why);
}

void grp_link_check(struct grp_link *l, uint64_t now)
{
	if (l->established || l->closing || now - l->created_ms <= GRP_LINK_HELLO_TIMEOUT_MS)
		return;
	if (l->tls && !l->tls_up)
		refuse(l, &l->env->cnt->tls_refused, "no TLS handshake in time");
	else
		refuse(l, &l->env->cnt->hello_refused, "no HELLO in time");
}

/* ---- writing ---- */

static size_t lane_pending(const struct grp_link_lane *ln)
{
	return ln->len - ln->off;
}

/* Room for need more bytes at the end of ln; false when out of memory. */
static bool lane_reserve(struct grp_link_lane *ln, size_t need)
{
	size_t cap;
	uint8_t *nb;

	if (ln->cap - ln->len >= need)
		return true;
	/* What was written makes room first; amortised, as it is at least as much as moves. */
	if (ln->off && ln->off >= lane_pending(ln)) {
		memmove(ln->b, ln->b + ln->off, ln->len - ln->off);
		ln->len -= ln->off;
		ln->off = 0;
		if (ln->cap - ln->len >= need)
			return true;
	}
	cap = ln->cap ? ln->cap : 4096;
	while (cap - ln->len < need)
		cap *= 2;
	nb = realloc(ln->b, cap);
	if (!nb)
		return false;
	ln->b = nb;
	ln->cap = cap;
	return true;
}

/* n bytes from the front of ln were written. A burst's buffer is not kept. */
static void lane_consume(struct grp_link_lane *ln, size_t n)
{
	ln->off += n;
	if (ln->off < ln->len)
		return;
	ln->off = ln->len = 0;
	if (ln->cap > PEND_FLUSH) {
		free(ln->b);
		ln->b = NULL;
		ln->cap = 0;
	}
}

/* Bytes libuv holds that it could not write to the socket yet. */
static size_t libuv_queued(const struct grp_link *l)
{
	return uv_stream_get_write_queue_size((const uv_stream_t *)&l->tcp);
}

size_t grp_link_queued(const struct grp_link *l)
{
	return libuv_queued(l) + lane_pending(&l->ctl) + lane_pending(&l->bulk);
}

static void link_pump(struct grp_link *l);

static void on_write(uv_write_t *req, int status)
{
	struct wreq *wr = (struct wreq *)req;
	struct grp_link *l = wr->l;

	/* A failed write shows up as a read error or EOF too; the link closes there. libuv
	 * completes (or cancels) every write before the close callback, so l is valid. */
	l->outq -= wr->len;
	free(wr);
	if (!status && !l->closing)
		link_pump(l); /* bulk that waited for libuv's queue to drain */
}

static void link_write(struct grp_link *l, struct wreq *wr)
{
	uv_buf_t b = uv_buf_init((char *)wr->data, (unsigned)wr->len);

	wr->l = l;
	if (uv_write(&wr->req, (uv_stream_t *)&l->tcp, &b, 1, on_write)) {
		free(wr);
		grp_link_close(l);
		return;
	}
	l->outq += wr->len;
}

/* What the TLS session has for the socket (records, handshake messages, alerts). */
static void tls_output(struct grp_link *l)
{
	size_t n = grp_tls_pending(l->tls);
	struct wreq *wr;

	if (!n || l->closing)
		return;
	wr = malloc(sizeof(*wr) + n);
	if (!wr) {
		grp_link_close(l);
		return;
	}
	wr->len = grp_tls_take(l->tls, wr->data, n);
	link_write(l, wr);
}

/* Writes a then b (blen may be 0) as the stream's next bytes, in one write: as they are, or
 * encrypted by the link's TLS session. */
static void link_output(struct grp_link *l, const uint8_t *a, size_t alen, const uint8_t *b,
			size_t blen)
{
	struct wreq *wr;

	if (l->tls) {
		if ((alen && grp_tls_write(l->tls, a, alen) < 0) ||
		    (blen && grp_tls_write(l->tls, b, blen) < 0))
			tls_refuse(l);
		else
			tls_output(l);
		return;
	}
	wr = malloc(sizeof(*wr) + alen + blen);
	if (!wr) {
		l->env->cnt->send_dropped++;
		return;
	}
	if (alen)
		memcpy(wr->data, a, alen);
	if (blen)
		memcpy(wr->data + alen, b, blen);
	wr->len = alen + blen;
	link_write(l, wr);
}

/* Whole bulk frames from the front, at most max bytes but at least one frame. */
static size_t bulk_chunk(const struct grp_link *l, size_t max)
{
	const struct grp_link_lane *ln = &l->bulk;
	size_t n = 0;

	while (n < lane_pending(ln)) {
		size_t fl = 0;
		int rc = grp_wire_frame_len(ln->b + ln->off + n, lane_pending(ln) - n, &fl);

		/* Our own frames, encoded whole by grp_link_send. */
		ASSERT(rc == 0 && fl <= lane_pending(ln) - n);
		if (n && n + fl > max)
			break;
		n += fl;
	}
	return n;
}

/*
 * Writes every control frame, and bulk frames while libuv's queue is under the write-ahead:
 * a control frame gathered later then waits behind little. Called at each flush and as
 * writes complete.
 */
static void link_pump(struct grp_link *l)
{
	size_t wq = libuv_queued(l), bulk = 0;

	if (wq < GRP_LINK_WRITE_AHEAD)
		bulk = bulk_chunk(l, GRP_LINK_WRITE_AHEAD - wq);
	if (!lane_pending(&l->ctl) && !bulk)
		return;
	link_output(l, l->ctl.b + l->ctl.off, lane_pending(&l->ctl), l->bulk.b + l->bulk.off,
		    bulk);
	lane_consume(&l->ctl, lane_pending(&l->ctl));
	lane_consume(&l->bulk, bulk);
}

/* Frames without entries: they may go before queued entries (see grp_link.h). */
static bool is_control(const struct grp_msg *m)
{
	return m->type == GRP_MSG_PING || m->type == GRP_MSG_VOTE ||
	       m->type == GRP_MSG_VOTE_ACK || m->type == GRP_MSG_APPEND_ACK ||
	       (m->type == GRP_MSG_APPEND && !m->u.append.n);
}

/*
 * Frames are gathered in their lane and written together by grp_link_flush(), which the node
 * calls once per loop iteration: one write(2) for everything a batch of events produced,
 * instead of one per frame (which cost most of the CPU under load).
 */
void grp_link_send(struct grp_link *l, const struct grp_msg *m)
{
	struct grp_link_lane *ln = is_control(m) ? &l->ctl : &l->bulk;
	struct core_wire w;
	size_t len;

	if (l->closing)
		return;
	len = grp_wire_encoded_len(m);
	if (l->outq + lane_pending(&l->ctl) + lane_pending(&l->bulk) + len > GRP_NODE_OUTQ_MAX) {
		/* The safety net: the protocol's back-pressure keeps far below it, unless the peer
		 * stopped reading while we still send. It recovers what a new link misses. */
		l->env->cnt->links_overflow++;
		CLOG_RL(l->env->rl, (int64_t)now_ms(l), CORE_LOG_WARN,
			"group: %s: output over %zu bytes, closing", l->what, GRP_NODE_OUTQ_MAX);
		grp_link_close(l);
		return;
	}
	if (!lane_reserve(ln, len)) {
		l->env->cnt->send_dropped++;
		return;
	}
	core_wire_init(&w, ln->b + ln->len, len);
	if (grp_wire_encode(m, &w) < 0) {
		/* Over GRP_WIRE_FRAME_MAX: the protocol batches below it, so this is a loss. */
		l->env->cnt->send_dropped++;
		return;
	}
	ln->len += w.pos;
	l->env->cnt->frames_out++;
	if (lane_pending(&l->ctl) + lane_pending(&l->bulk) >= PEND_FLUSH &&
	    libuv_queued(l) < GRP_LINK_WRITE_AHEAD)
		grp_link_flush(l);
}

void grp_link_flush(struct grp_link *l)
{
	if (!l->closing)
		link_pump(l);
}

static void send_hello(struct grp_link *l)
{
	uint8_t buf[HELLO_HDR_LEN + GRP_LINK_HELLO_BODY_MAX];

	link_output(l, buf, hello_encode(l->env, buf, sizeof(buf)), NULL, 0);
}

/* ---- reading ---- */

/* Room for a whole frame of need bytes (grp_wire_frame_len bounds need). */
static bool rbuf_reserve(struct grp_link *l, size_t need)
{
	uint8_t *nb;

	if (need <= l->rcap)
		return true;
	nb = realloc(l->rbuf, need);
	if (!nb)
		return false;
	l->rbuf = nb;
	l->rcap = need;
	return true;
}

/* Processes whole frames from rbuf + off; returns where it stopped. */
static size_t link_frames(struct grp_link *l, size_t off)
{
	const struct grp_link_env *env = l->env;

	l->rneed = 0;
	while (!l->closing && off < l->rlen) {
		size_t fl;
		int rc = grp_wire_frame_len(l->rbuf + off, l->rlen - off, &fl);

		if (rc == CORE_ETRUNC)
			break;
		if (rc < 0) {
			refuse(l, &env->cnt->frames_bad, core_strerror(rc));
			break;
		}
		if (fl > l->rlen - off) {
			if (!rbuf_reserve(l, fl))
				grp_link_close(l);
			l->rneed = fl;
			break;
		}
		rc = grp_wire_decode(l->rbuf + off, fl, &l->peer, env->msg, env->scratch);
		off += fl;
		if (rc < 0) {
			refuse(l, &env->cnt->frames_bad, core_strerror(rc));
			break;
		}
		env->cnt->frames_in++;
		if (env->msg->type == GRP_MSG_PING &&
		    !grp_uuid_eq(&env->msg->from.uuid, &l->peer.uuid)) {
			env->cnt->ping_spoofed++;
			CLOG_RL(env->rl, (int64_t)now_ms(l), CORE_LOG_WARN,
				"group: %s: PING claims another uuid than the HELLO's, dropped",
				l->what);
			continue;
		}
		env->ops->frame(env->ctx, l, env->msg);
	}
	return off;
}

static void link_input(struct grp_link *l)
{
	size_t off = 0;

	if (!l->established) {
		const char *why = NULL;
		int rc = hello_decode(l->env, l->rbuf, l->rlen, &l->peer, &why);

		if (rc < 0) {
			l->is_self = rc == CORE_EEXIST;
			refuse(l, &l->env->cnt->hello_refused, why);
			return;
		}
		if (rc == 0)
			return;
		off = (size_t)rc;
		l->established = true;
		l->env->ops->up(l->env->ctx, l);
	}
	off = link_frames(l, off);
	if (l->closing)
		return;
	memmove(l->rbuf, l->rbuf + off, l->rlen - off);
	l->rlen -= off;
	/* Give a large frame's buffer back once it is consumed (not while one is being read: a
	 * full buffer would stop reading). */
	if (l->rcap > RBUF_MIN && l->rlen <= RBUF_MIN && l->rneed <= RBUF_MIN) {
		uint8_t *nb = realloc(l->rbuf, RBUF_MIN);

		if (nb) {
			l->rbuf = nb;
			l->rcap = RBUF_MIN;
		}
	}
}

/*
 * Bytes read on a TLS link: they advance the handshake, and once it verified the peer the
 * HELLO goes out and the plaintext goes through link_input() as on a plain link. rbuf always
 * has room after link_input() (it keeps less than the frame it waits for, and grows to that).
 */
static void tls_input(struct grp_link *l, const uint8_t *data, size_t len)
{
	int rc = grp_tls_feed(l->tls, data, len);

	tls_output(l); /* handshake messages, alerts */
	if (rc < 0)
		tls_refuse(l);
	if (rc <= 0 || l->closing)
		return;
	if (!l->tls_up) {
		l->tls_up = true;
		CLOG_DEBUG("group: %s: TLS up (%s)", l->what, grp_tls_version(l->tls));
		send_hello(l);
	}
	while (!l->closing) {
		int64_t n;

		if (l->rlen == l->rcap) {
			grp_link_close(l);
			return;
		}
		n = grp_tls_read(l->tls, l->rbuf + l->rlen, l->rcap - l->rlen);
		if (n < 0)
			tls_refuse(l);
		if (n <= 0)
			break;
		l->rlen += (size_t)n;
		link_input(l);
	}
	tls_output(l); /* a TLS 1.3 KeyUpdate's answer */
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct grp_link *l = h->data;

	(void)suggested;
	if (l->tls) {
		/* Consumed by on_read before the next read: one buffer serves every link. */
		*buf = uv_buf_init((char *)l->env->tls_rbuf, (unsigned)GRP_LINK_TLS_RBUF);
		return;
	}
	/* Empty when full: libuv then reports UV_ENOBUFS and the link closes. */
	*buf = uv_buf_init((char *)l->rbuf + l->rlen, (unsigned)(l->rcap - l->rlen));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct grp_link *l = s->data;

	if (nread < 0) {
		if (nread != UV_EOF)
			CLOG_DEBUG("group: %s: read: %s", l->what, uv_strerror((int)nread));
		grp_link_close(l);
		return;
	}
	if (l->closing || !nread)
		return;
	if (l->tls) {
		tls_input(l, (const uint8_t *)buf->base, (size_t)nread);
		return;
	}
	l->rlen += (size_t)nread;
	link_input(l);
}

/* The connection is up: the HELLO goes out, or with TLS the handshake starts (the client's
 * first flight; a server waits for it). */
static void link_start(struct grp_link *l, bool server)
{
	uv_tcp_nodelay(&l->tcp, 1);
	if (!l->env->tls) {
		send_hello(l);
	} else {
		l->tls = grp_tls_new(l->env->tls, server);
		if (!l->tls) {
			grp_link_close(l);
			return;
		}
		if (!server && grp_tls_start(l->tls) < 0)
			tls_refuse(l);
		else
			tls_output(l);
	}
	if (!l->closing && uv_read_start((uv_stream_t *)&l->tcp, on_alloc, on_read))
		grp_link_close(l);
}

/* ---- setting up ---- */

struct grp_link *grp_link_new(const struct grp_link_env *env, const char *what)
{
	struct grp_link *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->rbuf = malloc(RBUF_MIN);
	if (!l->rbuf) {
		free(l);
		return NULL;
	}
	l->rcap = RBUF_MIN;
	l->env = env;
	l->created_ms = uv_now(env->loop);
	snprintf(l->what, sizeof(l->what), "%s", what);
	uv_tcp_init(env->loop, &l->tcp);
	l->tcp.data = l;
	l->conn.data = l;
	return l;
}

static void on_connect(uv_connect_t *req, int status)
{
	struct grp_link *l = req->data;

	if (status < 0) {
		CLOG_DEBUG("group: %s: connect: %s", l->what, uv_strerror(status));
		grp_link_close(l);
		return;
	}
	if (!l->closing)
		link_start(l, false);
}

void grp_link_connect(struct grp_link *l, const struct sockaddr *sa)
{
	if (uv_tcp_connect(&l->conn, &l->tcp, sa, on_connect))
		grp_link_close(l);
}

void grp_link_accept(struct grp_link *l, uv_stream_t *srv)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	char host[INET6_ADDRSTRLEN] = "?";

	if (uv_accept(srv, (uv_stream_t *)&l->tcp)) {
		grp_link_close(l);
		return;
	}
	if (uv_tcp_getpeername(&l->tcp, (struct sockaddr *)&ss, &len) == 0)
		uv_ip_name((struct sockaddr *)&ss, host, sizeof(host));
	snprintf(l->what, sizeof(l->what), "inbound from %s", host);
	link_start(l, true);
}
