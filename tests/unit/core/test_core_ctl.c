/* SPDX-License-Identifier: MPL-2.0 */
/* Unit tests for the control socket: a real loop, real UNIX sockets, one thread. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "core_ctl.h"
#include "core_err.h"

/*
 * The test client uses plain sockets on the test thread; whenever it would wait it runs the
 * loop once without blocking (pump), so server and client progress in turn.
 */
#define WAIT_MS	    5000
#define BIG_BYTES   (1024 * 1024)
#define CLI_BUF_MAX (64 * 1024 * 1024)

struct fx {
	uv_loop_t loop;
	struct core_ctl *ctl;
	char dir[64];
	char path[128];
};

struct cli {
	int fd;
	char *buf;
	size_t len, cap;
};

static void pump(struct fx *f)
{
	uv_run(&f->loop, UV_RUN_NOWAIT);
}

static uint64_t now_ms(void)
{
	return uv_hrtime() / 1000000;
}

/* ---- handlers ---- */

static json_t *h_echo(void *ctx, json_t *args, char *err, size_t errlen)
{
	(void)ctx;
	(void)err;
	(void)errlen;
	return json_incref(args);
}

static json_t *h_fail(void *ctx, json_t *args, char *err, size_t errlen)
{
	(void)ctx;
	(void)args;
	snprintf(err, errlen, "boom");
	return NULL;
}

/* A reply of BIG_BYTES, tagged with the request's "i" so order can be checked. */
static json_t *h_big(void *ctx, json_t *args, char *err, size_t errlen)
{
	char *s = malloc(BIG_BYTES + 1);
	json_t *out;

	(void)ctx;
	(void)err;
	(void)errlen;
	memset(s, 'x', BIG_BYTES);
	s[BIG_BYTES] = '\0';
	out = json_pack("{s:O?,s:s}", "i", json_object_get(args, "i"), "data", s);
	free(s);
	return out;
}

static json_t *h_close(void *ctx, json_t *args, char *err, size_t errlen)
{
	struct fx *f = ctx;

	(void)args;
	(void)err;
	(void)errlen;
	core_ctl_close(f->ctl);
	f->ctl = NULL;
	return json_true();
}

/* ---- fixture ---- */

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_core_ctl.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/ctl.sock", f->dir);
	if (uv_loop_init(&f->loop) != 0)
		return -1;
	if (core_ctl_open(&f->loop, f->path, &f->ctl) != 0)
		return -1;
	if (core_ctl_register(f->ctl, "echo", "returns its arguments", h_echo, f) ||
	    core_ctl_register(f->ctl, "fail", "always fails", h_fail, f) ||
	    core_ctl_register(f->ctl, "big", "a large reply", h_big, f) ||
	    core_ctl_register(f->ctl, "close", "closes the control socket", h_close, f))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	core_ctl_close(f->ctl);
	/* Runs the close callbacks; LSan then reports anything core_ctl did not free. */
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	unlink(f->path);
	assert_int_equal(rmdir(f->dir), 0);
	free(f);
	return 0;
}

/* ---- client ---- */

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memcpy(sa.sun_path, path, strlen(path));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

static struct cli *cli_open(struct fx *f)
{
	struct cli *c = calloc(1, sizeof(*c));

	c->fd = raw_connect(f->path);
	assert_true(c->fd >= 0);
	return c;
}

static void cli_free(struct cli *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c);
}

/* Sends everything; stops quietly if the server has closed the connection. */
static void cli_send(struct fx *f, struct cli *c, const char *data, size_t len)
{
	uint64_t deadline = now_ms() + WAIT_MS;

	while (len > 0) {
		ssize_t n = send(c->fd, data, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n > 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (errno == EPIPE || errno == ECONNRESET)
			return;
		assert_true(errno == EAGAIN || errno == EINTR);
		assert_true(now_ms() < deadline);
		pump(f);
		poll(NULL, 0, 1);
	}
}

static void cli_sends(struct fx *f, struct cli *c, const char *s)
{
	cli_send(f, c, s, strlen(s));
}

/* Reads more bytes: >0 got some, 0 end of stream, -1 nothing yet. */
static int cli_fill(struct fx *f, struct cli *c)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	ssize_t n;

	if (c->cap - c->len < 65536) {
		assert_true(c->cap < CLI_BUF_MAX);
		c->cap = c->cap ? c->cap * 2 : 131072;
		c->buf = realloc(c->buf, c->cap);
	}
	n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
	if (n > 0) {
		c->len += (size_t)n;
		return 1;
	}
	if (n == 0 || errno == ECONNRESET)
		return 0;
	assert_true(errno == EAGAIN || errno == EINTR);
	pump(f);
	poll(&p, 1, 1);
	return -1;
}

/* The next reply line, parsed; NULL at end of stream. */
static json_t *cli_reply(struct fx *f, struct cli *c)
{
	uint64_t deadline = now_ms() + WAIT_MS;
	char *nl;

	while (!(nl = c->len ? memchr(c->buf, '\n', c->len) : NULL)) {
		assert_true(now_ms() < deadline);
		if (cli_fill(f, c) == 0) {
			assert_int_equal(c->len, 0); /* a reply is never cut short */
			return NULL;
		}
	}
	size_t n = (size_t)(nl - c->buf);
	json_error_t jerr;
	json_t *r = json_loadb(c->buf, n, 0, &jerr);

	if (!r)
		fail_msg("reply is not JSON: %s", jerr.text);
	memmove(c->buf, nl + 1, c->len - n - 1);
	c->len -= n + 1;
	return r;
}

static void cli_expect_eof(struct fx *f, struct cli *c)
{
	assert_null(cli_reply(f, c));
}

static json_t *cli_call(struct fx *f, struct cli *c, const char *line)
{
	cli_sends(f, c, line);
	return cli_reply(f, c);
}

static int result_of(const json_t *r)
{
	return (int)json_integer_value(json_object_get(r, "result"));
}

static const char *text_of(const json_t *r)
{
	return json_string_value(json_object_get(r, "text"));
}

static void pump_until_clients(struct fx *f, uint32_t n)
{
	uint64_t deadline = now_ms() + WAIT_MS;
	struct core_ctl_stats st;

	for (;;) {
		core_ctl_get_stats(f->ctl, &st);
		if (st.clients == n)
			return;
		assert_true(now_ms() < deadline);
		pump(f);
		poll(NULL, 0, 1);
	}
}

/* ---- tests ---- */

static void test_command_with_arguments(void **state)
{
	struct fx *f = *state;
	struct cli *c = cli_open(f);
	json_t *r, *want;

	r = cli_call(f, c,
		     "{\"command\":\"echo\",\"arguments\":{\"a\":1,\"b\":\"x\",\"c\":[true]}}\n");
	want = json_pack("{s:i,s:s,s:[b]}", "a", 1, "b", "x", "c", 1);
	assert_int_equal(result_of(r), 0);
	assert_true(json_equal(json_object_get(r, "arguments"), want));
	json_decref(want);
	json_decref(r);

	/* No "arguments", or null: the handler gets an empty object. */
	r = cli_call(f, c, "{\"command\":\"echo\"}\n");
	assert_int_equal(result_of(r), 0);
	assert_true(json_is_object(json_object_get(r, "arguments")));
	assert_int_equal(json_object_size(json_object_get(r, "arguments")), 0);
	json_decref(r);
	r = cli_call(f, c, "{\"command\":\"echo\",\"arguments\":null}\r\n");
	assert_int_equal(result_of(r), 0);
	json_decref(r);
	cli_free(c);
}

static void test_handler_error(void **state)
{
	struct fx *f = *state;
	struct cli *c = cli_open(f);
	json_t *r = cli_call(f, c, "{\"command\":\"fail\"}\n");

	assert_int_equal(result_of(r), 1);
	assert_string_equal(text_of(r), "boom");
	assert_null(json_object_get(r, "arguments"));
	json_decref(r);
	cli_free(c);
}

static void test_pipelined_in_order(void **state)
{
	struct fx *f = *state;
	struct cli *c = cli_open(f);
	char *batch = malloc(100 * 64), *p = batch;

	/* Blank lines between requests are ignored. */
	for (int i = 0; i < 100; i++)
		p += sprintf(p, "{\"command\":\"echo\",\"arguments\":{\"i\":%d}}\n%s", i,
			     i % 10 ? "" : "\n");
	cli_send(f, c, batch, (size_t)(p - batch));
	free(batch);
	for (int i = 0; i < 100; i++) {
		json_t *r = cli_reply(f, c);

		assert_int_equal(result_of(r), 0);
		assert_int_equal(
		    json_integer_value(json_object_get(json_object_get(r, "arguments"), "i")), i);
		json_decref(r);
	}
	cli_free(c);
}

static void expect_bad(struct fx *f, struct cli *c, const char *line, const char *text_prefix)
{
	json_t *r = cli_call(f, c, line);

	assert_non_null(r);
	assert_int_equal(result_of(r), 1);
	assert_non_null(text_of(r));
	assert_memory_equal(text_of(r), text_prefix, strlen(text_prefix));
	json_decref(r);
}

static void test_malformed_keeps_connection(void **state)
{
	struct fx *f = *state;
	struct cli *c = cli_open(f);
	struct core_ctl_stats st;
	json_t *r;

	expect_bad(f, c, "{\"command\": \"echo\"\n", "malformed JSON");
	expect_bad(f, c, "not json at all\n", "malformed JSON");
	expect_bad(f, c, "{\"command\":\"a\",\"command\":\"b\"}\n", "malformed JSON");
	/* Bytes that are not UTF-8 may end up in jansson's message: the reply stays valid. */
	expect_bad(f, c, "\xff\xfe\x80\n", "");
	expect_bad(f, c, "{\"command\":\"echo\",\"x\":\"\xff\"}\n", "");
	expect_bad(f, c, "[1,2]\n", "request must be a JSON object");
	expect_bad(f, c, "{\"arguments\":{}}\n", "missing \"command\"");
	expect_bad(f, c, "{\"command\":7}\n", "missing \"command\"");
	expect_bad(f, c, "{\"command\":\"echo\",\"arguments\":[1]}\n",
		   "\"arguments\" must be an object");
	r = cli_call(f, c, "{\"command\":\"echo\",\"arguments\":{\"ok\":true}}\n");
	assert_int_equal(result_of(r), 0);
	json_decref(r);
	core_ctl_get_stats(f->ctl, &st);
	assert_int_equal(st.requests_bad, 9);
	assert_int_equal(st.requests, 10);
	cli_free(c);
}

static void test_unknown_command(void **state)
{
	struct fx *f = *state;
	struct cli *c = cli_open(f);
	struct core_ctl_stats st;
	json_t *r = cli_call(f, c, "{\"command\":\"lease-frobnicate\",\"arguments\":{}}\n");

	assert_int_equal(result_of(r), 2);
	assert_string_equal(text_of(r), "unsupported command");
	json_decref(r);
	core_ctl_get_stats(f->ctl, &st);
	assert_int_equal(st.requests_unsupported, 1);
	cli_free(c);
}

/* A request of exactly CORE_CTL_REQUEST_MAX bytes, newline included, with a padded string. */
static char *request_of_size(size_t total)
{
	const char *head = "{\"command\":\"echo\",\"arguments\":{\"pad\":\"";
	const char *tail = "\"}}\n";
	char *s = malloc(total + 1);
	size_t pad = total - strlen(head) - strlen(tail);

	strcpy(s, head);
	memset(s + strlen(head), 'p', pad);
	strcpy(s + strlen(head) + pad, tail);
	return s;
}

static void test_request_at_limit(void **state)
{
	struct fx *f = *state;
	struct cli *c = cli_open(f);
	char *req = request_of_size(CORE_CTL_REQUEST_MAX);
	json_t *r;

	/* Start mid-buffer so the request also crosses a compaction. */
	r = cli_call(f, c, "{\"command\":\"echo\"}\n");
	json_decref(r);
	r = cli_call(f, c, req);
	assert_int_equal(result_of(r), 0);
	assert_int_equal(
	    json_string_length(json_object_get(json_object_get(r, "arguments"), "pad")),
	    CORE_CTL_REQUEST_MAX - 42); /* head and tail are 42 bytes */
	json_decref(r);
	free(req);
	cli_free(c);
}

static void test_oversize_request(void **state)
{
	struct fx *f = *state;
	struct cli *c = cli_open(f);
	char *req = request_of_size(CORE_CTL_REQUEST_MAX + 1);
	struct core_ctl_stats st;
	json_t *r;

	/* The first MAX bytes hold no newline: the server stops there. */
	cli_send(f, c, req, CORE_CTL_REQUEST_MAX);
	r = cli_reply(f, c);
	assert_int_equal(result_of(r), 1);
	assert_string_equal(text_of(r), "request too large");
	json_decref(r);
	cli_expect_eof(f, c);
	free(req);
	cli_free(c);
	pump_until_clients(f, 0);
	core_ctl_get_stats(f->ctl, &st);
	assert_int_equal(st.requests_oversize, 1);
}

static void test_list_commands_and_help(void **state)
{
	struct fx *f = *state;
	struct cli *c = cli_open(f);
	json_t *r, *args;

	r = cli_call(f, c, "{\"command\":\"list-commands\"}\n");
	assert_int_equal(result_of(r), 0);
	args = json_object_get(r, "arguments");
	assert_true(json_is_array(args));
	assert_int_equal(json_array_size(args), 6);
	assert_string_equal(json_string_value(json_array_get(args, 0)), "list-commands");
	assert_string_equal(json_string_value(json_array_get(args, 1)), "help");
	assert_string_equal(json_string_value(json_array_get(args, 2)), "echo");
	json_decref(r);

	r = cli_call(f, c, "{\"command\":\"help\"}\n");
	args = json_object_get(r, "arguments");
	assert_int_equal(json_object_size(args), 6);
	assert_string_equal(json_string_value(json_object_get(args, "echo")),
			    "returns its arguments");
	json_decref(r);
	r = cli_call(f, c, "{\"command\":\"help\",\"arguments\":{\"command\":\"fail\"}}\n");
	args = json_object_get(r, "arguments");
	assert_int_equal(json_object_size(args), 1);
	assert_string_equal(json_string_value(json_object_get(args, "fail")), "always fails");
	json_decref(r);
	r = cli_call(f, c, "{\"command\":\"help\",\"arguments\":{\"command\":\"nope\"}}\n");
	assert_int_equal(result_of(r), 1);
	json_decref(r);
	cli_free(c);
}

static void test_close_with_clients(void **state)
{
	struct fx *f = *state;
	struct cli *idle = cli_open(f), *partial = cli_open(f), *greedy = cli_open(f);
	struct stat st;

	cli_sends(f, partial, "{\"command\":\"ec");
	/* Replies the client does not read: queued writes are dropped by the close. */
	for (int i = 0; i < 8; i++)
		cli_sends(f, greedy, "{\"command\":\"big\"}\n");
	pump_until_clients(f, 3);
	for (int i = 0; i < 50; i++)
		pump(f);
	core_ctl_close(f->ctl);
	f->ctl = NULL;
	assert_int_equal(stat(f->path, &st), -1);
	cli_expect_eof(f, idle);
	cli_expect_eof(f, partial);
	cli_free(idle);
	cli_free(partial);
	cli_free(greedy);
}

/* A client that leaves before its replies are written must not take the daemon down (SIGPIPE). */
static void test_client_gone_before_reply(void **state)
{
	struct fx *f = *state;
	struct cli *c = cli_open(f);
	json_t *r;

	for (int i = 0; i < 4; i++)
		cli_sends(f, c, "{\"command\":\"big\"}\n");
	close(c->fd);
	c->fd = -1;
	pump_until_clients(f, 0);
	cli_free(c);
	c = cli_open(f);
	r = cli_call(f, c, "{\"command\":\"echo\"}\n");
	assert_int_equal(result_of(r), 0);
	json_decref(r);
	cli_free(c);
}

static void test_backpressure(void **state)
{
	struct fx *f = *state;
	struct cli *c = cli_open(f);
	struct core_ctl_stats st;
	char line[64];

	for (int i = 0; i < 16; i++) {
		snprintf(line, sizeof(line), "{\"command\":\"big\",\"arguments\":{\"i\":%d}}\n", i);
		cli_sends(f, c, line);
	}
	for (int i = 0; i < 200; i++)
		pump(f);
	/* Stopped near CORE_CTL_WRITE_QUEUE_MAX, far from all 16 MiB. */
	core_ctl_get_stats(f->ctl, &st);
	assert_true(st.requests < 12);
	for (int i = 0; i < 16; i++) {
		json_t *r = cli_reply(f, c);
		json_t *args = json_object_get(r, "arguments");

		assert_int_equal(result_of(r), 0);
		assert_int_equal(json_integer_value(json_object_get(args, "i")), i);
		assert_int_equal(json_string_length(json_object_get(args, "data")), BIG_BYTES);
		json_decref(r);
	}
	core_ctl_get_stats(f->ctl, &st);
	assert_int_equal(st.requests, 16);
	cli_free(c);
}

static void test_last_request_at_eof(void **state)
{
	struct fx *f = *state;
	struct cli *c = cli_open(f);
	json_t *r;

	cli_sends(f, c, "{\"command\":\"echo\",\"arguments\":{\"n\":1}}\n{\"command\":\"echo\"}");
	shutdown(c->fd, SHUT_WR);
	r = cli_reply(f, c);
	assert_int_equal(result_of(r), 0);
	json_decref(r);
	r = cli_reply(f, c);
	assert_int_equal(result_of(r), 0);
	json_decref(r);
	cli_expect_eof(f, c);
	cli_free(c);
	pump_until_clients(f, 0);
}

static void test_handler_closes_ctl(void **state)
{
	struct fx *f = *state;
	struct cli *c = cli_open(f), *other = cli_open(f);

	pump_until_clients(f, 2);
	cli_sends(f, c, "{\"command\":\"close\"}\n{\"command\":\"echo\"}\n");
	for (uint64_t deadline = now_ms() + WAIT_MS; f->ctl; pump(f))
		assert_true(now_ms() < deadline);
	cli_expect_eof(f, c);
	cli_expect_eof(f, other);
	cli_free(c);
	cli_free(other);
}

static void test_client_limit(void **state)
{
	struct fx *f = *state;
	struct cli *cl[CORE_CTL_CLIENTS_MAX], *extra[2];
	struct core_ctl_stats st;
	json_t *r;

	for (int i = 0; i < CORE_CTL_CLIENTS_MAX; i++)
		cl[i] = cli_open(f);
	pump_until_clients(f, CORE_CTL_CLIENTS_MAX);
	/* Two at once: the second waits for the first one's close (one reject handle). */
	extra[0] = cli_open(f);
	extra[1] = cli_open(f);
	cli_expect_eof(f, extra[0]);
	cli_expect_eof(f, extra[1]);
	core_ctl_get_stats(f->ctl, &st);
	assert_int_equal(st.clients_rejected, 2);
	assert_int_equal(st.clients, CORE_CTL_CLIENTS_MAX);
	cli_free(extra[0]);
	cli_free(extra[1]);
	/* A slot freed is a slot usable. */
	cli_free(cl[0]);
	pump_until_clients(f, CORE_CTL_CLIENTS_MAX - 1);
	cl[0] = cli_open(f);
	r = cli_call(f, cl[0], "{\"command\":\"echo\"}\n");
	assert_int_equal(result_of(r), 0);
	json_decref(r);
	for (int i = 0; i < CORE_CTL_CLIENTS_MAX; i++)
		cli_free(cl[i]);
}

static void test_idle_client_closed(void **state)
{
	struct fx *f = *state;
	struct cli *idle = cli_open(f), *busy = cli_open(f);
	struct core_ctl_stats st;
	uint64_t until;
	json_t *r;

	core_ctl_set_idle_timeout(f->ctl, 300);
	pump_until_clients(f, 2);
	/* busy keeps talking (more often than the timeout), idle sends half a request. */
	cli_sends(f, idle, "{\"command\":");
	for (until = now_ms() + 900; now_ms() < until;) {
		r = cli_call(f, busy, "{\"command\":\"echo\"}\n");
		assert_int_equal(result_of(r), 0);
		json_decref(r);
		poll(NULL, 0, 50);
	}
	cli_expect_eof(f, idle);
	core_ctl_get_stats(f->ctl, &st);
	assert_int_equal(st.clients_idle_closed, 1);
	assert_int_equal(st.clients, 1);
	cli_free(idle);
	cli_free(busy);
}

static void test_socket_mode(void **state)
{
	struct fx *f = *state;
	struct stat st;

	assert_int_equal(lstat(f->path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0660);
}

static int bind_at(const char *path, int backlog)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memcpy(sa.sun_path, path, strlen(path));
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	if (backlog > 0)
		assert_int_equal(listen(fd, backlog), 0);
	return fd;
}

static void test_stale_socket_replaced(void **state)
{
	struct fx *f = *state;
	struct cli *c;
	json_t *r;

	core_ctl_close(f->ctl);
	f->ctl = NULL;
	uv_run(&f->loop, UV_RUN_DEFAULT);
	/* What a crashed daemon leaves: a socket file nobody listens on. */
	close(bind_at(f->path, 0));
	assert_int_equal(core_ctl_open(&f->loop, f->path, &f->ctl), 0);
	assert_int_equal(core_ctl_register(f->ctl, "echo", "", h_echo, f), 0);
	c = cli_open(f);
	r = cli_call(f, c, "{\"command\":\"echo\"}\n");
	assert_int_equal(result_of(r), 0);
	json_decref(r);
	cli_free(c);
}

static void test_live_socket_not_stolen(void **state)
{
	struct fx *f = *state;
	struct core_ctl *second = (struct core_ctl *)1;
	struct cli *c;
	json_t *r;
	int fd;

	/* Another paceless daemon on the path. */
	assert_int_equal(core_ctl_open(&f->loop, f->path, &second), -EADDRINUSE);
	assert_null(second);
	c = cli_open(f);
	r = cli_call(f, c, "{\"command\":\"echo\"}\n");
	assert_int_equal(result_of(r), 0);
	json_decref(r);
	cli_free(c);

	/* Any other live listener, even one that never accepts and has a full backlog. */
	core_ctl_close(f->ctl);
	f->ctl = NULL;
	uv_run(&f->loop, UV_RUN_DEFAULT);
	fd = bind_at(f->path, 1);
	int q[4];
	for (int i = 0; i < 4; i++)
		q[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	for (int i = 0; i < 4; i++) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		memcpy(sa.sun_path, f->path, strlen(f->path));
		(void)connect(q[i], (struct sockaddr *)&sa, sizeof(sa));
	}
	assert_int_equal(core_ctl_open(&f->loop, f->path, &second), -EADDRINUSE);
	assert_int_equal(core_ctl_open(&f->loop, f->path, &second), -EADDRINUSE);
	for (int i = 0; i < 4; i++)
		close(q[i]);
	assert_true(access(f->path, F_OK) == 0);
	close(fd);
}

static void test_not_a_socket_kept(void **state)
{
	struct fx *f = *state;
	struct core_ctl *other;
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "%s/dhcpd.conf", f->dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(core_ctl_open(&f->loop, path, &other), -ENOTSOCK);
	assert_int_equal(access(path, F_OK), 0);
	unlink(path);
}

static void test_open_errors(void **state)
{
	struct fx *f = *state;
	struct core_ctl *other;
	char path[200];

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(core_ctl_open(&f->loop, path, &other), -ENAMETOOLONG);
	assert_int_equal(core_ctl_open(&f->loop, "", &other), -EINVAL);
	assert_int_equal(core_ctl_open(&f->loop, "/nonexistent-dir/x.ctl", &other), -ENOENT);
}

static void test_register_errors(void **state)
{
	struct fx *f = *state;
	static char names[CORE_CTL_COMMANDS_MAX][16];
	int n, err = 0;

	assert_int_equal(core_ctl_register(f->ctl, "echo", "", h_echo, f), CORE_EEXIST);
	assert_int_equal(core_ctl_register(f->ctl, "help", "", h_echo, f), CORE_EEXIST);
	assert_int_equal(core_ctl_register(f->ctl, "", "", h_echo, f), -EINVAL);
	assert_int_equal(core_ctl_register(f->ctl, "x", "", NULL, f), -EINVAL);
	assert_int_equal(core_ctl_register(f->ctl, "\xff", "", h_echo, f), -EINVAL);
	/* 6 registered by the fixture; fill the rest. */
	for (n = 0; n < CORE_CTL_COMMANDS_MAX - 6; n++) {
		snprintf(names[n], sizeof(names[n]), "cmd-%d", n);
		err |= core_ctl_register(f->ctl, names[n], NULL, h_echo, f);
	}
	assert_int_equal(err, 0);
	assert_int_equal(core_ctl_register(f->ctl, "one-more", "", h_echo, f), CORE_EFULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_command_with_arguments, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_handler_error, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pipelined_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_malformed_keeps_connection, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_command, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_at_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oversize_request, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_list_commands_and_help, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_close_with_clients, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_client_gone_before_reply, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_backpressure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_last_request_at_eof, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_handler_closes_ctl, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_client_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_idle_client_closed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_socket_mode, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_socket_replaced, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_live_socket_not_stolen, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_a_socket_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_register_errors, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
