/* SPDX-License-Identifier: MPL-2.0 */
/* Fuzz target: control-socket request lines, parsed and dispatched as a daemon would. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core_assert.h"
#include "core_ctl.h"
#include "core_log.h"

static struct core_ctl *ctl;
static char path[64];

static void remove_socket(void)
{
	unlink(path);
}

static json_t *cmd_echo(void *ctx, json_t *args, char *err, size_t errlen)
{
	(void)ctx;
	(void)err;
	(void)errlen;
	return json_deep_copy(args);
}

static json_t *cmd_fail(void *ctx, json_t *args, char *err, size_t errlen)
{
	(void)ctx;
	(void)args;
	snprintf(err, errlen, "refused");
	return NULL;
}

static void setup(void)
{
	core_log_level_max = CORE_LOG_ERR;
	snprintf(path, sizeof(path), "/tmp/paceless-fuzz-ctl-%d.sock", (int)getpid());
	if (core_ctl_open(uv_default_loop(), path, &ctl) < 0 ||
	    core_ctl_register(ctl, "echo", "echo", cmd_echo, NULL) < 0 ||
	    core_ctl_register(ctl, "fail", "fail", cmd_fail, NULL) < 0)
		abort();
	atexit(remove_socket);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	if (!ctl)
		setup();
	/* Each line is one request, as the socket code frames them. */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		json_t *reply = core_ctl_answer(ctl, p, n);

		if (reply) {
			json_t *r = json_object_get(reply, "result");

			/* Every answer carries a result code the client can act on. */
			ASSERT(json_is_integer(r));
			ASSERT(json_integer_value(r) == 0 || json_is_string(json_object_get(reply, "text")));
			json_decref(reply);
		}
		p += n + 1;
	}
	return 0;
}
