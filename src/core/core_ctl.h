/* SPDX-License-Identifier: MPL-2.0 */
/* The control socket every paceless daemon serves: JSON commands over a UNIX stream socket. */
#ifndef CORE_CTL_H
#define CORE_CTL_H

#include <jansson.h>
#include <stddef.h>
#include <uv.h>

#include "core_err.h"

/*
 * Protocol (shared by all daemons and pacelessctl; Kea's control-channel shape): the client
 * sends one JSON object per line, {"command": "NAME", "arguments": {...}}; the daemon answers
 * one JSON object per line, {"result": 0, "arguments": ...} on success or
 * {"result": 1, "text": "why"} on failure. "list-commands" is built in. Requests are bounded
 * (CORE_CTL_REQUEST_MAX bytes); a client is closed on a malformed or oversize request.
 */
#define CORE_CTL_REQUEST_MAX (64 * 1024)
#define CORE_CTL_CLIENTS_MAX 64

/*
 * A command handler, run on the daemon's loop thread. args is borrowed (an object, maybe
 * empty). Returns a new reference to the result (any JSON value), or NULL after writing a
 * message to err.
 */
typedef json_t *(*core_ctl_fn)(void *ctx, json_t *args, char *err, size_t errlen);

struct core_ctl;

/*
 * Listens on path (an existing socket file is replaced), mode 0660. Call on the loop's
 * thread; *out is freed by core_ctl_close.
 */
int core_ctl_open(uv_loop_t *loop, const char *path, struct core_ctl **out) CORE_WARN_UNUSED;
/* name and help are borrowed (static strings). */
int core_ctl_register(struct core_ctl *c, const char *name, const char *help, core_ctl_fn fn,
		      void *ctx) CORE_WARN_UNUSED;
/* Closes the listener and all clients, unlinks the socket file, frees c after the loop runs. */
void core_ctl_close(struct core_ctl *c);

#endif
