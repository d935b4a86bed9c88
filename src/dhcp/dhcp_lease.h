/* SPDX-License-Identifier: MPL-2.0 */
/* One lease as dhcpd.leases records it: the exchange format between the lease file and the DB. */
#ifndef DHCP_LEASE_H
#define DHCP_LEASE_H

#include <stdbool.h>
#include <stdint.h>

/* Binding states, as ISC names them in dhcpd.leases ("binding state active;"). */
enum dhcp_binding {
	DHCP_BINDING_NONE = 0, /* not given in the record */
	DHCP_BINDING_FREE,
	DHCP_BINDING_ACTIVE,
	DHCP_BINDING_EXPIRED,
	DHCP_BINDING_RELEASED,
	DHCP_BINDING_ABANDONED,
	DHCP_BINDING_RESET,
	DHCP_BINDING_BACKUP,
	DHCP_BINDING_MAX,
};

/* "free", "active", ...; NULL for NONE or out of range. */
const char *dhcp_binding_name(enum dhcp_binding b);
/* DHCP_BINDING_NONE when name is not a binding state. */
enum dhcp_binding dhcp_binding_parse(const char *name);

#define DHCP_TIME_NONE INT64_MIN  /* field absent */
#define DHCP_TIME_NEVER INT64_MAX /* "never" (infinite lease) */

#define DHCP_HW_MAX 16
#define DHCP_UID_MAX 255
#define DHCP_HOSTNAME_MAX 255

/*
 * A lease record, self-contained (no pointers): lease-file parser output and writer input.
 * Times are seconds since the Unix epoch, UTC.
 */
struct dhcp_lease_rec {
	uint32_t addr; /* host byte order */
	int64_t starts, ends, tstp, tsfp, atsfp, cltt;
	uint8_t binding, next_binding, rewind_binding; /* enum dhcp_binding */
	uint8_t htype;                                 /* ARP hardware type; 1 = ethernet */
	uint8_t hlen;                                  /* 0 = no hardware address */
	uint8_t hw[DHCP_HW_MAX];
	uint8_t uid_len; /* 0 = no client identifier */
	uint8_t uid[DHCP_UID_MAX];
	uint8_t hostname_len; /* client-hostname; 0 = none */
	char hostname[DHCP_HOSTNAME_MAX + 1];
	bool bootp;    /* "dynamic-bootp;" */
	bool reserved; /* "reserved;" (the failover RESERVED flag) */
};

/*
 * ISC's failover state record in dhcpd.leases:
 *   failover peer "NAME" state { my state S at DATE; partner state S at DATE; mclt N; }
 * States are the failover protocol's server-state codes (enum dhcp_fo_state); the last record
 * of a peer wins.
 */
struct dhcp_fo_state_rec {
	char peer[256]; /* NUL-terminated */
	uint8_t my_state, partner_state;
	int64_t my_stos, partner_stos; /* DHCP_TIME_NONE when "at" was not written */
	int64_t mclt;                  /* -1 when absent (ISC writes it on the secondary only) */
};

/* A record with every field absent. */
void dhcp_lease_rec_init(struct dhcp_lease_rec *r);

/* True when a and b hold the same lease (bytes past hlen, uid_len, hostname_len are ignored). */
bool dhcp_lease_rec_equal(const struct dhcp_lease_rec *a, const struct dhcp_lease_rec *b);

#endif
