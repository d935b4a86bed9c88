/* SPDX-License-Identifier: MPL-2.0 */
/* Names for the project's error codes. */
#include <string.h>

#include "core_err.h"

const char *core_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
	case CORE_EPARSE:
		return "syntax error";
	case CORE_EUNSUPP:
		return "not supported";
	case CORE_ETRUNC:
		return "truncated input";
	case CORE_EMALFORMED:
		return "malformed input";
	case CORE_ETOOBIG:
		return "input too large";
	case CORE_ESPACE:
		return "no space in output buffer";
	case CORE_ENOTFOUND:
		return "not found";
	case CORE_EEXIST:
		return "already exists";
	case CORE_EFULL:
		return "full";
	case CORE_ECORRUPT:
		return "corrupt data";
	case CORE_ESTATE:
		return "invalid in current state";
	default:
		break;
	}
	if (err < 0 && err > -4096)
		return strerror(-err);
	return "unknown error";
}
