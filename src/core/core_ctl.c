/* SPDX-License-Identifier: MPL-2.0 */
/* Control socket server: newline-delimited JSON requests on a UNIX stream socket, on libuv. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core_assert.h"
#include "core_ctl.h"
#include "core_log.h"

struct ctl_cmd {
	const char *name;
	const char *help;
	core_ctl_fn fn;
	void *ctx;
};

/*
 * One connection. Unprocessed request bytes are buf[start, len); buf[start, scanned) is known
 * to hold no newline, so a long request arriving in small reads is scanned once.
 */
struct ctl_client {
	uv_pipe_t pipe; /* pipe.data points back here */
	struct core_ctl *ctl;
	struct ctl_client *prev, *next;
	size_t start, scanned, len;
	uint64_t active_ms; /* uv_now() of the last byte read or written */
	uint32_t writes_pending;
	bool reading;
	bool eof;     /* the client has shut down its side */
	bool done;    /* no more requests will be read: close once the replies are written */
	bool paused;  /* write queue over CORE_CTL_WRITE_QUEUE_MAX: requests wait */
	bool closing; /* uv_close called; freed in its callback */
	char buf[CORE_CTL_REQUEST_MAX];
};

/* A queued reply; json is owned (from json_dumps) unless it is the static fallback. */
struct ctl_write {
	uv_write_t req;
	char *json;
};

struct core_ctl {
	uv_loop_t *loop;
	uv_pipe_t listener;
	/* Accepts and closes a client over the limit; needs no allocation, so it works at OOM. */
	uv_pipe_t reject;
	uv_timer_t idle_timer; /* one sweep for all clients rather than a timer each */
	uint64_t idle_ms;
	bool listener_open, timer_open, reject_busy, reject_pending, closing;
	struct ctl_client *clients;
	struct ctl_cmd cmds[CORE_CTL_COMMANDS_MAX];
	size_t ncmds;
	struct core_ctl_stats stats;
	struct core_ratelimit rl;
	dev_t sock_dev; /* identity of the socket file we bound, so close unlinks only ours */
	ino_t sock_ino;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static char ctl_newline[] = "\n";
static char ctl_reply_nomem[] = "{\"result\":1,\"text\":\"out of memory\"}";

static void client_process(struct ctl_client *cl);
static void on_client_closed(uv_handle_t *h);
static void ctl_accept(struct core_ctl *c);

static void ctl_maybe_free(struct core_ctl *c)
{
	if (c->closing && !c->listener_open && !c->timer_open && !c->reject_busy && !c->clients)
		free(c);
}

static socklen_t ctl_addr(const char *path, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, strlen(path)); /* length checked by the caller */
	return (socklen_t)sizeof(*sa);
}

/* ---- replies ---- */

static json_t *ctl_reply_error(int result, const char *text)
{
	json_t *reply = json_object();
	json_t *t = json_string(text);

	/* text may quote client bytes (a jansson parse error) that are not valid UTF-8. */
	if (!t)
		t = json_string("invalid request");
	json_object_set_new(reply, "result", json_integer(result));
	json_object_set_new(reply, "text", t);
	return reply;
}

static void client_close(struct ctl_client *cl)
{
	if (cl->closing)
		return;
	cl->closing = true;
	cl->reading = false;
	uv_close((uv_handle_t *)&cl->pipe, on_client_closed);
}

static void on_write(uv_write_t *req, int status)
{
	struct ctl_write *w = (struct ctl_write *)req;
	struct ctl_client *cl = req->handle->data;

	if (w->json != ctl_reply_nomem)
		free(w->json);
	free(w);
	ASSERT(cl->writes_pending > 0);
	cl->writes_pending--;
	if (cl->closing)
		return;
	cl->active_ms = uv_now(cl->ctl->loop);
	if (status < 0) {
		client_close(cl);
		return;
	}
	if (cl->paused) {
		if (uv_stream_get_write_queue_size((uv_stream_t *)&cl->pipe) >
		    CORE_CTL_WRITE_QUEUE_MAX / 2)
			return;
		cl->paused = false;
	} else if (!cl->done) {
		return;
	}
	client_process(cl);
}

/* Queues reply (borrowed; NULL means it could not be built) as one line. */
static void client_send(struct ctl_client *cl, const json_t *reply)
{
	uv_stream_t *s = (uv_stream_t *)&cl->pipe;
	struct ctl_write *w;
	uv_buf_t bufs[2];
	char *json;

	if (cl->closing)
		return;
	json = reply ? json_dumps(reply, JSON_COMPACT) : NULL;
	if (!json)
		json = ctl_reply_nomem;
	w = malloc(sizeof(*w));
	if (!w) {
		/* Without a reply the client would wait forever: closing tells it at once. */
		if (json != ctl_reply_nomem)
			free(json);
		client_close(cl);
		return;
	}
	w->json = json;
	bufs[0] = uv_buf_init(json, (unsigned int)strlen(json));
	bufs[1] = uv_buf_init(ctl_newline, 1);
	if (uv_write(&w->req, s, bufs, 2, on_write) != 0) {
		if (json != ctl_reply_nomem)
			free(json);
		free(w);
		client_close(cl);
		return;
	}
	cl->writes_pending++;
	if (uv_stream_get_write_queue_size(s) > CORE_CTL_WRITE_QUEUE_MAX)
		cl->paused = true;
}

static void client_send_error(struct ctl_client *cl, int result, const char *text)
{
	json_t *reply = ctl_reply_error(result, text);

	client_send(cl, reply);
	json_decref(reply);
}

/* ---- requests ---- */

static const struct ctl_cmd *ctl_find(const struct core_ctl *c, const char *name)
{
	for (size_t i = 0; i < c->ncmds; i++)
		if (strcmp(c->cmds[i].name, name) == 0)
			return &c->cmds[i];
	return NULL;
}

/* Runs the command a well-formed request names; returns the reply (new reference or NULL). */
static json_t *ctl_run(const struct ctl_cmd *cmd, json_t *args)
{
	char err[CORE_CTL_ERR_MAX];
	json_t *res, *reply;

	err[0] = '\0';
	res = cmd->fn(cmd->ctx, args, err, sizeof(err));
	if (!res) {
		err[sizeof(err) - 1] = '\0';
		return ctl_reply_error(1, err[0] ? err : "command failed");
	}
	reply = json_object();
	json_object_set_new(reply, "result", json_integer(0));
	if (json_object_set_new(reply, "arguments", res) != 0) {
		json_decref(reply);
		return NULL;
	}
	return reply;
}

/* Validates a parsed request and runs it; returns the reply (new reference or NULL). */
static json_t *ctl_dispatch(struct core_ctl *c, json_t *req)
{
	const struct ctl_cmd *cmd;
	json_t *name, *args, *reply;

	if (!json_is_object(req)) {
		c->stats.requests_bad++;
		return ctl_reply_error(1, "request must be a JSON object");
	}
	name = json_object_get(req, "command");
	if (!json_is_string(name)) {
		c->stats.requests_bad++;
		return ctl_reply_error(1, "missing \"command\" (a string)");
	}
	args = json_object_get(req, "arguments");
	if (args && !json_is_null(args) && !json_is_object(args)) {
		c->stats.requests_bad++;
		return ctl_reply_error(1, "\"arguments\" must be an object");
	}
	cmd = ctl_find(c, json_string_value(name));
	if (!cmd) {
		c->stats.requests_unsupported++;
		return ctl_reply_error(2, "unsupported command");
	}
	if (json_is_object(args))
		return ctl_run(cmd, args);
	args = json_object();
	if (!args)
		return NULL;
	reply = ctl_run(cmd, args);
	json_decref(args);
	return reply;
}

static bool ctl_blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

json_t *core_ctl_answer(struct core_ctl *c, const char *line, size_t n)
{
	json_error_t jerr;
	json_t *req, *reply;
	char text[CORE_CTL_ERR_MAX];

	if (ctl_blank(line, n))
		return NULL; /* lets an operator type at the socket with socat without noise */
	c->stats.requests++;
	req = json_loadb(line, n, JSON_REJECT_DUPLICATES, &jerr);
	if (!req) {
		c->stats.requests_bad++;
		snprintf(text, sizeof(text), "malformed JSON: %s (column %d)", jerr.text,
			 jerr.column);
		CLOG_RL(&c->rl, (int64_t)uv_now(c->loop), CORE_LOG_INFO, "ctl %s: %s", c->path,
			"malformed JSON request");
		return ctl_reply_error(1, text);
	}
	reply = ctl_dispatch(c, req);
	json_decref(req);
	return reply ? reply : ctl_reply_error(1, "out of memory");
}

/* Answers one request line (newline excluded). May run a handler that closes everything. */
static void client_request(struct ctl_client *cl, const char *line, size_t n)
{
	json_t *reply = core_ctl_answer(cl->ctl, line, n);

	if (!reply)
		return;
	client_send(cl, reply);
	json_decref(reply);
}

static void client_compact(struct ctl_client *cl)
{
	if (cl->start == 0)
		return;
	memmove(cl->buf, cl->buf + cl->start, cl->len - cl->start);
	cl->len -= cl->start;
	cl->scanned -= cl->start;
	cl->start = 0;
}

/* Answers every complete line, in order, until none is left or the client must wait. */
static void client_drain(struct ctl_client *cl)
{
	while (!cl->closing && !cl->paused) {
		char *p = cl->buf + cl->scanned;
		char *nl = memchr(p, '\n', cl->len - cl->scanned);
		const char *line = cl->buf + cl->start;

		if (!nl) {
			cl->scanned = cl->len;
			return;
		}
		cl->start = cl->scanned = (size_t)(nl - cl->buf) + 1;
		client_request(cl, line, (size_t)(nl - line));
	}
}

static void client_oversize(struct ctl_client *cl)
{
	struct core_ctl *c = cl->ctl;

	c->stats.requests++;
	c->stats.requests_oversize++;
	CLOG_RL(&c->rl, (int64_t)uv_now(c->loop), CORE_LOG_INFO,
		"ctl %s: request over %d bytes, closing the connection", c->path,
		CORE_CTL_REQUEST_MAX);
	cl->start = cl->scanned = cl->len = 0;
	cl->done = true;
	client_send_error(cl, 1, "request too large");
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct ctl_client *cl = h->data;

	(void)suggested;
	/* client_process stops reading before the buffer can fill up. */
	ASSERT(cl->len < sizeof(cl->buf));
	*buf = uv_buf_init(cl->buf + cl->len, (unsigned int)(sizeof(cl->buf) - cl->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	struct ctl_client *cl = s->data;

	(void)buf;
	if (nread == 0 || cl->closing)
		return;
	cl->active_ms = uv_now(cl->ctl->loop);
	if (nread < 0 && nread != UV_EOF) {
		client_close(cl);
		return;
	}
	if (nread == UV_EOF) {
		cl->eof = true;
		cl->reading = false; /* libuv stops reading at EOF */
	} else {
		cl->len += (size_t)nread;
	}
	client_process(cl);
}

/* Answers what is buffered, then decides: read more, wait for writes, or close. */
static void client_process(struct ctl_client *cl)
{
	client_drain(cl);
	if (cl->closing)
		return;
	if (!cl->paused && cl->eof && !cl->done) {
		const char *tail = cl->buf + cl->start;
		size_t n = cl->len - cl->start;

		/* A last request without its newline (printf ... | socat) is still answered. */
		cl->start = cl->scanned = cl->len = 0;
		cl->done = true;
		if (n > 0)
			client_request(cl, tail, n);
		if (cl->closing)
			return;
	}
	client_compact(cl);
	if (!cl->done && cl->len == sizeof(cl->buf))
		client_oversize(cl);
	if (cl->closing)
		return;
	if (cl->done || cl->paused) {
		if (cl->reading)
			uv_read_stop((uv_stream_t *)&cl->pipe);
		cl->reading = false;
		if (cl->done && cl->writes_pending == 0)
			client_close(cl);
		return;
	}
	if (!cl->reading) {
		if (uv_read_start((uv_stream_t *)&cl->pipe, on_alloc, on_read) != 0) {
			client_close(cl);
			return;
		}
		cl->reading = true;
	}
}

/* ---- connections ---- */

static void on_client_closed(uv_handle_t *h)
{
	struct ctl_client *cl = h->data;
	struct core_ctl *c = cl->ctl;

	if (cl->prev)
		cl->prev->next = cl->next;
	else
		c->clients = cl->next;
	if (cl->next)
		cl->next->prev = cl->prev;
	c->stats.clients--;
	free(cl);
	ctl_maybe_free(c);
}

static void on_reject_closed(uv_handle_t *h)
{
	struct core_ctl *c = h->data;

	c->reject_busy = false;
	if (c->reject_pending && !c->closing) {
		/* libuv paused the listener until this pending connection is accepted. */
		c->reject_pending = false;
		ctl_accept(c);
		return;
	}
	ctl_maybe_free(c);
}

/* Accepts the pending connection; over the limit (or out of memory) it is closed at once. */
static void ctl_accept(struct core_ctl *c)
{
	struct ctl_client *cl = NULL;

	if (c->stats.clients < CORE_CTL_CLIENTS_MAX)
		cl = malloc(sizeof(*cl));
	if (cl) {
		memset(cl, 0, offsetof(struct ctl_client, buf));
		cl->ctl = c;
		cl->active_ms = uv_now(c->loop);
		uv_pipe_init(c->loop, &cl->pipe, 0);
		cl->pipe.data = cl;
		cl->next = c->clients;
		if (c->clients)
			c->clients->prev = cl;
		c->clients = cl;
		c->stats.clients++;
		c->stats.clients_accepted++;
		if (uv_accept((uv_stream_t *)&c->listener, (uv_stream_t *)&cl->pipe) != 0)
			client_close(cl);
		else
			client_process(cl);
		return;
	}
	if (c->reject_busy) {
		/* Counted when on_reject_closed comes back here for it. */
		c->reject_pending = true;
		return;
	}
	c->stats.clients_rejected++;
	CLOG_RL(&c->rl, (int64_t)uv_now(c->loop), CORE_LOG_WARN,
		"ctl %s: %u clients connected (the limit) or out of memory; closing a new one",
		c->path, (unsigned)c->stats.clients);
	uv_pipe_init(c->loop, &c->reject, 0);
	c->reject.data = c;
	(void)uv_accept((uv_stream_t *)&c->listener, (uv_stream_t *)&c->reject);
	c->reject_busy = true;
	uv_close((uv_handle_t *)&c->reject, on_reject_closed);
}

static void on_connection(uv_stream_t *server, int status)
{
	struct core_ctl *c = server->data;

	if (status < 0) {
		CLOG_RL(&c->rl, (int64_t)uv_now(c->loop), CORE_LOG_WARN, "ctl %s: accept: %s",
			c->path, uv_strerror(status));
		return;
	}
	ctl_accept(c);
}

static void on_idle_sweep(uv_timer_t *t)
{
	struct core_ctl *c = t->data;
	uint64_t now = uv_now(c->loop);

	for (struct ctl_client *cl = c->clients; cl; cl = cl->next) {
		if (cl->closing || now - cl->active_ms < c->idle_ms)
			continue;
		c->stats.clients_idle_closed++;
		CLOG_RL(&c->rl, (int64_t)now, CORE_LOG_INFO,
			"ctl %s: client idle for %llu ms, closing it", c->path,
			(unsigned long long)(now - cl->active_ms));
		client_close(cl);
	}
}

static void ctl_idle_arm(struct core_ctl *c)
{
	uint64_t every_ms = c->idle_ms / 4 < 1000 ? c->idle_ms / 4 : 1000;

	uv_timer_start(&c->idle_timer, on_idle_sweep, every_ms, every_ms);
}

void core_ctl_set_idle_timeout(struct core_ctl *c, uint64_t idle_ms)
{
	c->idle_ms = idle_ms < 10 ? 10 : idle_ms;
	ctl_idle_arm(c);
}

static void on_timer_closed(uv_handle_t *h)
{
	struct core_ctl *c = h->data;

	c->timer_open = false;
	ctl_maybe_free(c);
}

/* ---- built-in commands ---- */

static json_t *ctl_cmd_list(void *ctx, json_t *args, char *err, size_t errlen)
{
	struct core_ctl *c = ctx;
	json_t *names = json_array();

	(void)args;
	(void)err;
	(void)errlen;
	for (size_t i = 0; names && i < c->ncmds; i++)
		json_array_append_new(names, json_string(c->cmds[i].name));
	return names;
}

static json_t *ctl_cmd_help(void *ctx, json_t *args, char *err, size_t errlen)
{
	struct core_ctl *c = ctx;
	json_t *which = json_object_get(args, "command");
	json_t *out;

	if (which && !json_is_string(which)) {
		snprintf(err, errlen, "\"command\" must be a string");
		return NULL;
	}
	out = json_object();
	for (size_t i = 0; out && i < c->ncmds; i++) {
		const struct ctl_cmd *cmd = &c->cmds[i];

		if (which && strcmp(json_string_value(which), cmd->name) != 0)
			continue;
		json_object_set_new(out, cmd->name, json_string(cmd->help ? cmd->help : ""));
	}
	if (out && which && json_object_size(out) == 0) {
		json_decref(out);
		snprintf(err, errlen, "no such command");
		return NULL;
	}
	return out;
}

/* ---- lifetime ---- */

static void on_listener_closed(uv_handle_t *h)
{
	struct core_ctl *c = h->data;

	c->listener_open = false;
	ctl_maybe_free(c);
}

/*
 * Makes path free for bind: nothing there, or a socket file nobody accepts on (left by a
 * crashed daemon), which is removed. A live listener is another daemon's: never taken.
 */
static int ctl_clear_stale(const char *path)
{
	struct sockaddr_un sa;
	socklen_t salen = ctl_addr(path, &sa);
	struct stat st;
	int fd, rc, e;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -ENOTSOCK;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* Non-blocking: a live listener with a full backlog answers EAGAIN instead of blocking. */
	rc = connect(fd, (struct sockaddr *)&sa, salen);
	e = errno;
	close(fd);
	if (rc == 0 || e == EAGAIN || e == EINPROGRESS)
		return -EADDRINUSE;
	if (e != ECONNREFUSED)
		return -e;
	if (unlink(path) != 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/*
 * Binds and listens without libuv's uv_pipe_bind, whose handle unlinks the path on close
 * unconditionally (and truncates long paths in libuv < 1.46): core_ctl_close unlinks only the
 * file it created. chmod comes before listen, so no client can connect with wider rights.
 */
static int ctl_bind(struct core_ctl *c, int *fdp)
{
	struct sockaddr_un sa;
	socklen_t salen = ctl_addr(c->path, &sa);
	struct stat st;
	int fd, err = 0;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, salen) != 0) {
		err = -errno;
		close(fd);
		return err;
	}
	if (chmod(c->path, 0660) != 0 || lstat(c->path, &st) != 0 ||
	    listen(fd, CORE_CTL_CLIENTS_MAX) != 0) {
		err = -errno;
		close(fd);
		unlink(c->path);
		return err;
	}
	c->sock_dev = st.st_dev;
	c->sock_ino = st.st_ino;
	*fdp = fd;
	return 0;
}

/*
 * libuv writes to pipes with write(), so a client that leaves before its reply would raise
 * SIGPIPE and kill the daemon. A handler the process installed itself is left alone.
 */
static void ctl_ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL &&
	    !(sa.sa_flags & SA_SIGINFO)) {
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);
	}
}

int core_ctl_open(uv_loop_t *loop, const char *path, struct core_ctl **out)
{
	struct core_ctl *c;
	int fd, err;

	*out = NULL;
	if (!loop || !path || !path[0])
		return -EINVAL;
	if (strlen(path) >= sizeof(c->path))
		return -ENAMETOOLONG;
	err = ctl_clear_stale(path);
	if (err)
		return err;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	ctl_ignore_sigpipe();
	c->loop = loop;
	c->rl = (struct core_ratelimit)CORE_RATELIMIT_INIT(10000, 5);
	memcpy(c->path, path, strlen(path) + 1);
	c->cmds[c->ncmds++] =
	    (struct ctl_cmd){"list-commands", "list the commands", ctl_cmd_list, c};
	c->cmds[c->ncmds++] = (struct ctl_cmd){
	    "help", "help text per command; argument \"command\" selects one", ctl_cmd_help, c};
	err = ctl_bind(c, &fd);
	if (err) {
		free(c);
		return err;
	}
	uv_pipe_init(loop, &c->listener, 0);
	c->listener.data = c;
	c->listener_open = true;
	err = uv_pipe_open(&c->listener, fd);
	if (!err)
		err = uv_listen((uv_stream_t *)&c->listener, CORE_CTL_CLIENTS_MAX, on_connection);
	if (err) {
		if (uv_fileno((uv_handle_t *)&c->listener, &(uv_os_fd_t){0}) != 0)
			close(fd); /* the handle did not take it */
		unlink(c->path);
		c->closing = true;
		uv_close((uv_handle_t *)&c->listener, on_listener_closed);
		return err;
	}
	uv_timer_init(loop, &c->idle_timer);
	c->idle_timer.data = c;
	c->timer_open = true;
	c->idle_ms = CORE_CTL_IDLE_MS_DEFAULT;
	ctl_idle_arm(c);
	*out = c;
	return 0;
}

int core_ctl_register(struct core_ctl *c, const char *name, const char *help, core_ctl_fn fn,
		      void *ctx)
{
	json_t *probe;

	if (!name || !name[0] || !fn)
		return -EINVAL;
	/* Names and help go into replies: they must be valid UTF-8 for jansson. */
	probe = json_pack("[ss]", name, help ? help : "");
	if (!probe)
		return -EINVAL;
	json_decref(probe);
	if (ctl_find(c, name))
		return CORE_EEXIST;
	if (c->ncmds == CORE_CTL_COMMANDS_MAX)
		return CORE_EFULL;
	c->cmds[c->ncmds++] = (struct ctl_cmd){name, help, fn, ctx};
	return 0;
}

void core_ctl_get_stats(const struct core_ctl *c, struct core_ctl_stats *out)
{
	*out = c->stats;
}

void core_ctl_close(struct core_ctl *c)
{
	struct stat st;

	if (!c)
		return;
	ASSERT(!c->closing);
	c->closing = true;
	uv_close((uv_handle_t *)&c->listener, on_listener_closed);
	uv_close((uv_handle_t *)&c->idle_timer, on_timer_closed);
	for (struct ctl_client *cl = c->clients; cl; cl = cl->next)
		client_close(cl);
	/* Another daemon may have been started on this path after ours was removed. */
	if (lstat(c->path, &st) == 0 && st.st_dev == c->sock_dev && st.st_ino == c->sock_ino)
		unlink(c->path);
}
