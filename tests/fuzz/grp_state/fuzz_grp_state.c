/* SPDX-License-Identifier: MPL-2.0 */
/* Fuzz target: parse a state file; what parses must format and parse back to the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core_err.h"
#include "grp_state.h"

static struct grp_durable first, second;
static char out[GRP_STATE_FILE_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned line;
	int len;

	if (grp_state_parse((const char *)data, size, "fuzz", &first, &line))
		return 0;
	len = grp_state_format(&first, "fuzz", out, sizeof(out));
	if (len < 0)
		abort(); /* a parsed state always fits */
	if (grp_state_parse(out, (size_t)len, "fuzz", &second, &line) ||
	    memcmp(&first, &second, sizeof(first)))
		abort();
	return 0;
}
