/* SPDX-License-Identifier: MPL-2.0 */
/* dhcpd.leases: ISC dhcpd's lease file format, parsed and written (pure: no I/O). */
#ifndef DHCP_LEASEFILE_H
#define DHCP_LEASEFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "core_err.h"
#include "dhcp_lease.h"

/* Called once per lease record, in file order (a later record for an address supersedes). */
typedef int (*dhcp_leasefile_cb)(void *ctx, const struct dhcp_lease_rec *rec);

struct dhcp_leasefile_stats {
	size_t leases;      /* records delivered */
	size_t lines;       /* lines read */
	size_t valid_bytes; /* length of the prefix that parsed (== len unless tail_torn) */
	bool tail_torn;     /* the file ended inside a record or in garbage: the rest is dropped */
};

/*
 * Parses a whole lease file image. A record cut off or garbled at the very end of the file
 * (power loss mid-append) is not an error: parsing stops, tail_torn is set and valid_bytes
 * tells where the good prefix ends. A bad record followed by good ones is CORE_EPARSE with
 * "NAME:LINE:COL: message" in err. A callback returning <0 stops parsing with that value.
 */
int dhcp_leasefile_parse(const char *buf, size_t len, const char *name, dhcp_leasefile_cb cb,
			 void *ctx, struct dhcp_leasefile_stats *st, char *err,
			 size_t errlen) CORE_WARN_UNUSED;

/* Writes the file header ISC writes. snprintf-like: returns the length it needs. */
size_t dhcp_leasefile_header(char *buf, size_t cap);
/* Writes one "lease A.B.C.D { ... }" record. snprintf-like. */
size_t dhcp_leasefile_format(const struct dhcp_lease_rec *r, char *buf, size_t cap);

#endif
