/* SPDX-License-Identifier: MPL-2.0 */
/* The control socket every paceless daemon serves: JSON commands over a UNIX stream socket. */
#ifndef CORE_CTL_H
#define CORE_CTL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core_err.h"

/*
 * Protocol (shared by all daemons and pacelessctl; Kea's control-channel shape, documented for
 * operators in docs/control-socket.md): the client sends one JSON object per line,
 * {"command": "NAME", "arguments": {...}}; the daemon answers each request with one JSON object
 * on one line, in request order: {"result": 0, "arguments": ...} on success,
 * {"result": 1, "text": "why"} on failure, {"result": 2, "text": "unsupported command"} for a
 * command the daemon does not have. A malformed request (bad JSON, no "command") gets a
 * result 1 reply and the connection stays open. A request longer than CORE_CTL_REQUEST_MAX
 * bytes (newline included) gets {"result": 1, "text": "request too large"} and the connection
 * is closed. At end of input an unterminated last request is still answered, then the daemon
 * closes. "list-commands" (arguments: array of names) and "help" (arguments: object name ->
 * help text; optional argument "command" selects one) are built in.
 */
#define CORE_CTL_REQUEST_MAX (64 * 1024)
#define CORE_CTL_CLIENTS_MAX 64
/* Registered commands, the two built-ins included. */
#define CORE_CTL_COMMANDS_MAX 64
/*
 * Reply bytes queued to one client before the daemon stops reading its requests (back-pressure
 * on a client that pipelines without reading); reading resumes once the queue drains.
 */
#define CORE_CTL_WRITE_QUEUE_MAX (4 * 1024 * 1024)
/*
 * A client that neither sends a byte nor takes a reply byte for this long is closed, so idle
 * or stuck clients cannot hold the CORE_CTL_CLIENTS_MAX slots. core_ctl_set_idle_timeout
 * changes it.
 */
#define CORE_CTL_IDLE_MS_DEFAULT 60000
/* Size of the err buffer a handler receives. */
#define CORE_CTL_ERR_MAX 256

/*
 * A command handler, run on the daemon's loop thread. args is borrowed (an object, maybe
 * empty). Returns a new reference to the result (any JSON value), or NULL after writing a
 * message to err. A handler may call core_ctl_register or core_ctl_close.
 */
typedef json_t *(*core_ctl_fn)(void *ctx, json_t *args, char *err, size_t errlen);

struct core_ctl;

/* Counters since core_ctl_open. */
struct core_ctl_stats {
	uint32_t clients; /* connected now */
	uint64_t clients_accepted;
	uint64_t clients_rejected; /* accepted and closed at once: CORE_CTL_CLIENTS_MAX reached */
	uint64_t requests;	   /* answered, errors included */
	uint64_t requests_bad;	   /* malformed JSON, no "command", bad "arguments" */
	uint64_t requests_unsupported;
	uint64_t requests_oversize;
	uint64_t clients_idle_closed; /* closed by the idle timeout */
};

/*
 * Listens on path, mode 0660. A stale socket file (nothing accepts on it) is replaced; if a
 * live process listens there, returns -EADDRINUSE and leaves it alone; a path that exists and
 * is not a socket is never removed (-ENOTSOCK). Other errors: -EINVAL, -ENAMETOOLONG, -ENOMEM,
 * or the negative errno of bind/listen/chmod. Sets SIGPIPE to SIG_IGN if it is at its default
 * (a client leaving before its reply must not kill the daemon). Call on the loop's thread. On
 * success *out is freed by core_ctl_close; on failure *out is NULL and nothing needs closing
 * (in the rare case libuv refused the socket, memory is released when the loop next runs).
 */
int core_ctl_open(uv_loop_t *loop, const char *path, struct core_ctl **out) CORE_WARN_UNUSED;
/*
 * name and help are borrowed (static strings). Returns 0, CORE_EEXIST (name taken),
 * CORE_EFULL (CORE_CTL_COMMANDS_MAX reached) or -EINVAL (empty name, NULL fn, name or help
 * not valid UTF-8).
 */
int core_ctl_register(struct core_ctl *c, const char *name, const char *help, core_ctl_fn fn,
		      void *ctx) CORE_WARN_UNUSED;
void core_ctl_get_stats(const struct core_ctl *c, struct core_ctl_stats *out);
/* idle_ms >= 10; checked about every min(idle_ms / 4, 1000) ms. Loop thread. */
void core_ctl_set_idle_timeout(struct core_ctl *c, uint64_t idle_ms);
/*
 * Parses one request line (without its newline) and runs it: the reply object (a new
 * reference), or NULL for a blank line. Never fails on bad input: that is an error reply.
 * Exposed for the fuzz target; the socket code calls it for every line. Loop thread.
 */
json_t *core_ctl_answer(struct core_ctl *c, const char *line, size_t n);
/*
 * Closes the listener and all clients (queued replies are dropped), unlinks the socket file,
 * frees c once the loop has run the close callbacks. c must not be used after this call.
 */
void core_ctl_close(struct core_ctl *c);

#endif
