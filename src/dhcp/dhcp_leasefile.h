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

/* Upper bounds of what dhcp_leasefile_format / dhcp_leasefile_header write (without the NUL). */
#define DHCP_LEASEFILE_REC_MAX 4096
#define DHCP_LEASEFILE_HEADER_MAX 256

/*
 * Parses a whole lease file image. A record cut off or garbled at the very end of the file
 * (power loss mid-append) is not an error: parsing stops, tail_torn is set and valid_bytes
 * tells where the good prefix ends. A bad record followed by good ones is CORE_EPARSE with
 * "NAME:LINE:COL: message" in err. A callback returning <0 stops parsing with that value.
 * When tail_torn is set the return is 0 and err says where and why the tail was dropped.
 * DHCPv6 records (ia-na, ia-ta, ia-pd) are CORE_EUNSUPP. As ISC does, a lease that gives a
 * binding state but no next/rewind binding state gets the binding state for them; one with
 * no binding state keeps DHCP_BINDING_NONE (ISC derives it from ends and the current time).
 * Statements we do not keep (set, option agent.*, on, billing, host, group, class, failover
 * peer state, server-duid) are checked for balance and skipped. Pure: no I/O, no allocation.
 */
int dhcp_leasefile_parse(const char *buf, size_t len, const char *name, dhcp_leasefile_cb cb,
			 void *ctx, struct dhcp_leasefile_stats *st, char *err,
			 size_t errlen) CORE_WARN_UNUSED;

/* The same, also delivering each failover state record to fo_cb (NULL: skipped). */
typedef int (*dhcp_leasefile_fo_cb)(void *ctx, const struct dhcp_fo_state_rec *rec);
int dhcp_leasefile_parse_fo(const char *buf, size_t len, const char *name, dhcp_leasefile_cb cb,
			    dhcp_leasefile_fo_cb fo_cb, void *ctx, struct dhcp_leasefile_stats *st,
			    char *err, size_t errlen) CORE_WARN_UNUSED;

/*
 * Writes a failover state record as ISC's write_failover_state does (mclt only when >= 0),
 * in the given style (DHCP_LF_LOCAL_TIME), snprintf-like. At most DHCP_LEASEFILE_REC_MAX.
 */
size_t dhcp_leasefile_format_fo(const struct dhcp_fo_state_rec *r, unsigned style, char *buf,
				size_t cap);

/*
 * Writes the file header ISC writes. snprintf-like: returns the length it needs, writes at
 * most cap bytes including a terminating NUL.
 */
size_t dhcp_leasefile_header(char *buf, size_t cap);
/*
 * Writes one "lease A.B.C.D { ... }" record in ISC's layout, snprintf-like. Times outside
 * 1970..9999 are clamped (below: 1970, above: never). A client-hostname ISC would not write
 * (a quote, backslash or non-printable byte) is written escaped instead, which ISC reads.
 */
size_t dhcp_leasefile_format(const struct dhcp_lease_rec *r, char *buf, size_t cap);

/*
 * How records are written, as dhcpd.conf's db-time-format and lease-id-format say (ISC reads
 * every form whatever they say): DHCP_LF_LOCAL_TIME writes "epoch N; # <local time>",
 * DHCP_LF_HEX_IDS writes uid as colon-separated hex octets instead of a quoted octal string.
 */
enum {
	DHCP_LF_LOCAL_TIME = 1u << 0,
	DHCP_LF_HEX_IDS = 1u << 1,
};
size_t dhcp_leasefile_format_style(const struct dhcp_lease_rec *r, unsigned style, char *buf,
				   size_t cap);

#endif
