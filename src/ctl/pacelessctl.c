/* SPDX-License-Identifier: MPL-2.0 */
/* pacelessctl: sends one command to a paceless daemon's control socket and prints the reply. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core_ctl.h" /* the protocol's limits; the client itself needs no libuv */

#define CTL_SOCKET_DEFAULT "/run/paceless-dhcpd.ctl"
#define CTL_SOCKET_ENV	   "PACELESS_CTL_SOCKET"
#define CTL_TIMEOUT_S	   10
#define CTL_TIMEOUT_S_MAX  86400
/* A lease list can be large; past this the reply is refused rather than eating memory. */
#define CTL_REPLY_MAX	     (256u * 1024 * 1024)
#define CTL_CONNECT_RETRY_MS 10

/* Exit statuses, documented in pacelessctl(8). */
enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAILED = 1,  /* the daemon answered with an error, or a usage error */
	CTL_EXIT_UNSUPP = 2,  /* the daemon does not have this command */
	CTL_EXIT_CONNECT = 3, /* cannot connect to the socket */
	CTL_EXIT_REPLY = 4,   /* connected, but no valid reply: timeout, closed, malformed */
};

struct ctl_opts {
	const char *socket;
	int timeout_s;
	bool json;
	const char *command;
	char **args; /* NAME=VALUE, borrowed from argv */
	int nargs;
};

static const char *ctl_prog = "pacelessctl";

static void ctl_usage(FILE *out)
{
	fprintf(out,
		"Usage: %s [-s SOCKET] [-t SECONDS] [--json] COMMAND [NAME=VALUE ...]\n"
		"Sends COMMAND to a paceless daemon's control socket and prints the reply.\n"
		"\n"
		"  -s, --socket SOCKET   control socket (default: $%s, else %s)\n"
		"  -t, --timeout SECONDS bound on connecting and on the reply (default %d)\n"
		"      --json            print the whole reply as JSON, errors included\n"
		"  -h, --help            print this help\n"
		"      --version         print the version\n"
		"\n"
		"VALUE is taken as JSON when it parses as JSON (5, true, null, [1,2], {\"a\":1},\n"
		"\"5\"), else as a string. \"list-commands\" and \"help\" work on every daemon.\n"
		"Exit status: 0 ok, 1 command failed, 2 unsupported command, 3 cannot connect,\n"
		"4 no valid reply. See pacelessctl(8).\n",
		ctl_prog, CTL_SOCKET_ENV, CTL_SOCKET_DEFAULT, CTL_TIMEOUT_S);
}

static int64_t ctl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before deadline_ms, for poll(); 0 once it has passed. */
static int ctl_left_ms(int64_t deadline_ms)
{
	int64_t left = deadline_ms - ctl_now_ms();

	return left > 0 ? (int)left : 0;
}

static int ctl_parse_timeout(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > CTL_TIMEOUT_S_MAX)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/* Returns -1 to go on, else the exit status. */
static int ctl_parse_opts(int argc, char **argv, struct ctl_opts *o)
{
	enum { OPT_JSON = 256, OPT_VERSION };
	static const struct option longopts[] = {
	    {"socket", required_argument, NULL, 's'},	 {"timeout", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, OPT_JSON},	 {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, OPT_VERSION}, {NULL, 0, NULL, 0},
	};
	const char *env = getenv(CTL_SOCKET_ENV);
	int ch;

	o->socket = env && env[0] ? env : CTL_SOCKET_DEFAULT;
	o->timeout_s = CTL_TIMEOUT_S;
	/* '+': options end at COMMAND, so a VALUE such as x=-1 is never taken for an option. */
	while ((ch = getopt_long(argc, argv, "+s:t:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			o->socket = optarg;
			break;
		case 't':
			if (ctl_parse_timeout(optarg, &o->timeout_s) != 0) {
				fprintf(stderr,
					"%s: -t wants whole seconds from 1 to %d, not '%s'\n",
					ctl_prog, CTL_TIMEOUT_S_MAX, optarg);
				return CTL_EXIT_FAILED;
			}
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case 'h':
			ctl_usage(stdout);
			return CTL_EXIT_OK;
		case OPT_VERSION:
			printf("%s %s\n", ctl_prog, PACELESS_VERSION);
			return CTL_EXIT_OK;
		default:
			ctl_usage(stderr);
			return CTL_EXIT_FAILED;
		}
	}
	if (optind >= argc) {
		ctl_usage(stderr);
		return CTL_EXIT_FAILED;
	}
	o->command = argv[optind];
	o->args = argv + optind + 1;
	o->nargs = argc - optind - 1;
	return -1;
}

/* VALUE as JSON when it parses as JSON, else as a string; NULL if not valid UTF-8. */
static json_t *ctl_value(const char *v)
{
	json_t *j = json_loads(v, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);

	return j ? j : json_string(v);
}

/* The request line, newline included; NULL after printing why. */
static char *ctl_build_request(const struct ctl_opts *o)
{
	json_t *req = json_object(), *args = json_object();
	char *line = NULL;

	if (!req || !args || json_object_set_new(req, "command", json_string(o->command)) != 0)
		goto fail;
	for (int i = 0; i < o->nargs; i++) {
		const char *a = o->args[i], *eq = strchr(a, '=');
		char name[256];
		json_t *v;

		if (!eq || eq == a || (size_t)(eq - a) >= sizeof(name)) {
			fprintf(stderr, "%s: '%s': arguments are NAME=VALUE\n", ctl_prog, a);
			goto out;
		}
		memcpy(name, a, (size_t)(eq - a));
		name[eq - a] = '\0';
		if (json_object_get(args, name)) {
			fprintf(stderr, "%s: argument '%s' given twice\n", ctl_prog, name);
			goto out;
		}
		v = ctl_value(eq + 1);
		if (!v || json_object_set_new(args, name, v) != 0) {
			fprintf(stderr, "%s: '%s' is not valid UTF-8\n", ctl_prog, a);
			goto out;
		}
	}
	if (json_object_set(req, "arguments", args) != 0)
		goto fail;
	line = json_dumps(req, JSON_COMPACT);
	if (!line)
		goto fail;
	if (strlen(line) + 1 > CORE_CTL_REQUEST_MAX) {
		fprintf(stderr, "%s: request of %zu bytes is over the limit of %d\n", ctl_prog,
			strlen(line) + 1, CORE_CTL_REQUEST_MAX);
		free(line);
		line = NULL;
		goto out;
	}
	line = realloc(line, strlen(line) + 2);
	if (!line)
		goto fail;
	strcat(line, "\n");
	goto out;
fail:
	fprintf(stderr,
		"%s: cannot build the request (command not valid UTF-8, or out of memory)\n",
		ctl_prog);
out:
	json_decref(args);
	json_decref(req);
	return line;
}

/* Connects before deadline_ms; returns the socket or a negative errno. */
static int ctl_connect(const char *path, int64_t deadline_ms)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	for (;;) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			return fd;
		err = errno;
		if (err == EINTR)
			continue;
		/* A UNIX socket whose backlog is full says EAGAIN: retry until the deadline. */
		if (err == EAGAIN && ctl_left_ms(deadline_ms) > 0) {
			poll(NULL, 0, CTL_CONNECT_RETRY_MS);
			continue;
		}
		break;
	}
	if (err == EINPROGRESS) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		socklen_t len = sizeof(err);

		if (poll(&p, 1, ctl_left_ms(deadline_ms)) <= 0)
			err = ETIMEDOUT;
		else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (err == 0)
			return fd;
	}
	close(fd);
	return -(err == EAGAIN ? ETIMEDOUT : err);
}

static int ctl_wait(int fd, short events, int64_t deadline_ms)
{
	struct pollfd p = {.fd = fd, .events = events};
	int n;

	do
		n = poll(&p, 1, ctl_left_ms(deadline_ms));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

static int ctl_send_all(int fd, const char *buf, size_t len, int64_t deadline_ms)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		int err;

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		err = ctl_wait(fd, POLLOUT, deadline_ms);
		if (err)
			return err;
	}
	return 0;
}

/*
 * Reads one reply line into *out (NUL-terminated, newline dropped). The end of the stream also
 * ends a reply, for daemons (Kea) that close instead of writing a newline.
 */
static int ctl_recv_reply(int fd, int64_t deadline_ms, char **out, size_t *outlen)
{
	size_t len = 0, cap = 0;
	char *buf = NULL, *nl = NULL;
	int err = 0;

	while (!nl) {
		ssize_t n;

		if (cap - len < 65536) {
			char *nb =
			    cap >= CTL_REPLY_MAX ? NULL : realloc(buf, cap ? cap * 2 : 65536);

			if (!nb) {
				err = cap >= CTL_REPLY_MAX ? CORE_ETOOBIG : -ENOMEM;
				break;
			}
			buf = nb;
			cap = cap ? cap * 2 : 65536;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n == 0) {
			err = len ? 0 : -ECONNRESET;
			break;
		}
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR) {
				err = -errno;
				break;
			}
			err = ctl_wait(fd, POLLIN, deadline_ms);
			if (err)
				break;
			continue;
		}
		nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
	}
	if (err) {
		free(buf);
		return err;
	}
	*outlen = nl ? (size_t)(nl - buf) : len;
	buf[*outlen] = '\0';
	*out = buf;
	return 0;
}

static int ctl_print(json_t *v, size_t flags)
{
	char *s = json_dumps(v, flags | JSON_INDENT(2) | JSON_ENCODE_ANY);

	if (!s)
		return -ENOMEM;
	puts(s);
	free(s);
	return 0;
}

/* Prints the reply as pacelessctl(8) says and returns the exit status. */
static int ctl_show_reply(const struct ctl_opts *o, const char *line, size_t len)
{
	json_t *reply = json_loadb(line, len, 0, NULL);
	json_t *result = json_object_get(reply, "result");
	json_t *args = json_object_get(reply, "arguments");
	const char *text = json_string_value(json_object_get(reply, "text"));
	json_int_t r;
	int rc;

	if (!json_is_object(reply) || !json_is_integer(result)) {
		fprintf(stderr, "%s: %s: malformed reply (not a JSON object with \"result\")\n",
			ctl_prog, o->socket);
		json_decref(reply);
		return CTL_EXIT_REPLY;
	}
	r = json_integer_value(result);
	rc = r == 0 ? CTL_EXIT_OK : r == 2 ? CTL_EXIT_UNSUPP : CTL_EXIT_FAILED;
	if (o->json)
		ctl_print(reply, 0);
	else if (r == 0 && args)
		ctl_print(args, 0);
	else if (r == 0 && text)
		puts(text);
	else if (r != 0)
		fprintf(stderr, "%s: %s: %s\n", ctl_prog, o->command,
			text ? text : "command failed");
	json_decref(reply);
	if (fflush(stdout) != 0) {
		fprintf(stderr, "%s: writing the reply: %s\n", ctl_prog, strerror(errno));
		return CTL_EXIT_FAILED;
	}
	return rc;
}

/* Sends the request line and prints the reply; returns the exit status. */
static int ctl_exchange(const struct ctl_opts *o, const char *line)
{
	int64_t deadline_ms = ctl_now_ms() + (int64_t)o->timeout_s * 1000;
	char *reply;
	size_t len;
	int fd, err, rc;

	fd = ctl_connect(o->socket, deadline_ms);
	if (fd < 0) {
		fprintf(stderr, "%s: cannot connect to %s: %s\n", ctl_prog, o->socket,
			strerror(-fd));
		return CTL_EXIT_CONNECT;
	}
	/* The exchange gets its own timeout, so a slow connect does not eat the reply's. */
	deadline_ms = ctl_now_ms() + (int64_t)o->timeout_s * 1000;
	err = ctl_send_all(fd, line, strlen(line), deadline_ms);
	if (!err)
		err = ctl_recv_reply(fd, deadline_ms, &reply, &len);
	close(fd);
	if (err == -ETIMEDOUT) {
		fprintf(stderr, "%s: %s: no reply within %d s (-t sets the timeout)\n", ctl_prog,
			o->socket, o->timeout_s);
		return CTL_EXIT_REPLY;
	}
	if (err == -ECONNRESET || err == -EPIPE) {
		fprintf(stderr, "%s: %s: the daemon closed the connection without a reply\n",
			ctl_prog, o->socket);
		return CTL_EXIT_REPLY;
	}
	if (err) {
		fprintf(stderr, "%s: %s: %s\n", ctl_prog, o->socket,
			err == CORE_ETOOBIG ? "reply too large" : strerror(-err));
		return CTL_EXIT_REPLY;
	}
	rc = ctl_show_reply(o, reply, len);
	free(reply);
	return rc;
}

int main(int argc, char **argv)
{
	struct ctl_opts o = {0};
	char *line;
	int rc;

	rc = ctl_parse_opts(argc, argv, &o);
	if (rc >= 0)
		return rc;
	line = ctl_build_request(&o);
	if (!line)
		return CTL_EXIT_FAILED;
	rc = ctl_exchange(&o, line);
	free(line);
	return rc;
}
