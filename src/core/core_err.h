/* SPDX-License-Identifier: MPL-2.0 */
/* One error space for the project: negative errno, or project codes from -1000 down. */
#ifndef CORE_ERR_H
#define CORE_ERR_H

/*
 * Functions return 0 on success, a count (>0) where documented, or a negative value:
 * either -errno (-ENOMEM, -EINVAL, ...) or one of the codes below. core_strerror() names both.
 */
enum core_err {
	CORE_EPARSE = -1000,   /* syntax error in a config or lease file */
	CORE_EUNSUPP = -1001,  /* valid incumbent syntax that we do not implement */
	CORE_ETRUNC = -1002,   /* input ends before a declared length */
	CORE_EMALFORMED = -1003, /* a length or field value is invalid */
	CORE_ETOOBIG = -1004,  /* input exceeds a configured or protocol limit */
	CORE_ESPACE = -1005,   /* output buffer too small */
	CORE_ENOTFOUND = -1006,
	CORE_EEXIST = -1007,
	CORE_EFULL = -1008,    /* a pool, table or queue is at its limit */
	CORE_ECORRUPT = -1009, /* stored data failed a consistency check */
	CORE_ESTATE = -1010,   /* call not valid in the current state */
	CORE_ERR_LAST = -1011,
};

#define CORE_WARN_UNUSED __attribute__((warn_unused_result))

/* A static string; never NULL. */
const char *core_strerror(int err);

#endif
