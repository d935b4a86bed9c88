/* SPDX-License-Identifier: MPL-2.0 */
/* dhcpd.conf: ISC dhcpd 4.4's configuration language, parsed into validated structures. */
#ifndef DHCP_CONF_H
#define DHCP_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core_arena.h"
#include "core_err.h"

/* Parameters a scope may set; bit (1u << p) in dhcp_scope.set says it is set there. */
enum dhcp_param {
	DHCP_P_DEFAULT_LEASE_TIME = 0,
	DHCP_P_MAX_LEASE_TIME,
	DHCP_P_MIN_LEASE_TIME,
	DHCP_P_AUTHORITATIVE,
	DHCP_P_PING_CHECK,
	DHCP_P_PING_TIMEOUT,
	DHCP_P_ONE_LEASE_PER_CLIENT,
	DHCP_P_BOOTP,           /* allow|deny bootp */
	DHCP_P_UNKNOWN_CLIENTS, /* allow|deny unknown-clients at scope level */
	DHCP_P_BOOTING,         /* allow|deny booting */
	DHCP_P_NEXT_SERVER,
	DHCP_P_FILENAME,
	DHCP_P_SERVER_NAME,
	DHCP_P_SERVER_IDENTIFIER,
	DHCP_P_ALWAYS_BROADCAST,
	DHCP_P_GET_LEASE_HOSTNAMES,
	DHCP_P_USE_HOST_DECL_NAMES,
	DHCP_P_MAX,
};

/* An option value, already encoded as its wire bytes (may exceed 255: split on encode). */
struct dhcp_opt {
	uint8_t code;
	uint16_t len;
	const uint8_t *data; /* owned by the config arena */
};

/*
 * A scope: global, shared-network, subnet, pool, group or host. Lookups walk parent links
 * (dhcp_scope_param, dhcp_scope_opt); the innermost setting wins.
 */
struct dhcp_scope {
	const struct dhcp_scope *parent; /* NULL for global */
	uint32_t set;                    /* bits of enum dhcp_param set in this scope */
	uint32_t default_lease_time_s, max_lease_time_s, min_lease_time_s;
	uint32_t ping_timeout_s;
	bool authoritative, ping_check, one_lease_per_client;
	bool allow_bootp, allow_unknown, allow_booting;
	bool always_broadcast, get_lease_hostnames, use_host_decl_names;
	uint32_t next_server;       /* host byte order */
	uint32_t server_identifier; /* host byte order */
	const char *filename;
	const char *server_name;
	struct dhcp_opt *opts; /* one per code: a later statement in the same scope replaces */
	size_t opts_n;
};

/* The innermost scope (s or an ancestor) that sets p, or NULL. */
const struct dhcp_scope *dhcp_scope_param(const struct dhcp_scope *s, enum dhcp_param p);
/* The innermost value of option code along s's parent chain, or NULL. */
const struct dhcp_opt *dhcp_scope_opt(const struct dhcp_scope *s, uint8_t code);

/* Pool access control, bits for dhcp_pool.allow / .deny. */
enum dhcp_permit {
	DHCP_PERMIT_KNOWN = 1u << 0,         /* known-clients: has a host declaration */
	DHCP_PERMIT_UNKNOWN = 1u << 1,       /* unknown-clients */
	DHCP_PERMIT_DYNAMIC_BOOTP = 1u << 2, /* dynamic bootp clients */
	DHCP_PERMIT_ALL = 1u << 3,           /* all clients */
};

struct dhcp_range {
	uint32_t lo, hi; /* inclusive, host byte order, lo <= hi, inside the subnet */
	bool dynamic_bootp;
};

struct dhcp_subnet;

/*
 * failover peer "NAME" { ... } as ISC 4.4 parses it (docs/internals/dhcp-failover.md).
 * Defaults are ISC's; a 0 address means "not given".
 */
enum dhcp_fo_role {
	DHCP_FO_PRIMARY = 0, /* ISC's default when neither is written */
	DHCP_FO_SECONDARY = 1,
};

struct dhcp_failover_peer {
	const char *name;
	size_t index; /* its place in dhcp_conf.failover_peers */
	const char *file; /* where it is declared, for messages */
	uint32_t line, col;
	enum dhcp_fo_role role;
	uint32_t address, peer_address; /* host byte order; peer_address is required */
	const char *address_name, *peer_address_name; /* when written as host names */
	uint16_t port, peer_port;       /* 647 */
	uint32_t max_response_delay;    /* 20 s */
	uint32_t peer_max_response_delay;
	uint32_t max_unacked_updates; /* 100 */
	uint32_t peer_max_unacked_updates;
	uint32_t mclt;                   /* required on the primary */
	uint32_t load_balance_max_secs;  /* 0: load balancing off (ISC warns) */
	uint32_t auto_partner_down;      /* seconds; 0 = off */
	uint32_t max_lease_misbalance;   /* percent, 15 */
	uint32_t max_lease_ownership;    /* percent, 10 */
	uint32_t min_balance, max_balance; /* seconds, 60 and 3600 */
	bool has_hba;                    /* split or hba given (required on the primary) */
	uint8_t hba[32];                 /* bit set: the primary serves that bucket */
};

struct dhcp_pool {
	struct dhcp_scope scope;     /* parent: the subnet's (or a group's inside it) */
	struct dhcp_subnet *subnet;  /* subnet its ranges lie in */
	struct dhcp_range *ranges;
	size_t ranges_n;
	uint32_t allow, deny; /* enum dhcp_permit bits; both 0 = everyone */
	const char *failover_peer; /* NULL unless "failover peer" given (or inherited) */
	struct dhcp_failover_peer *fo; /* that peer, once the configuration is checked */
};

struct dhcp_shared;

struct dhcp_subnet {
	struct dhcp_scope scope; /* parent: shared network, group, or global */
	uint32_t net, mask;      /* host byte order; net & ~mask == 0 */
	struct dhcp_shared *shared; /* always set: a lone subnet gets an implicit one */
	struct dhcp_pool **pools;   /* ranges written directly in a subnet form an implicit pool */
	size_t pools_n;
};

struct dhcp_shared {
	struct dhcp_scope scope;
	const char *name; /* NULL for the implicit network of a lone subnet */
	struct dhcp_failover_peer *fo; /* "failover peer" in it: its pools' peer unless they name one */
	struct dhcp_subnet **subnets;
	size_t subnets_n;
};

struct dhcp_host {
	struct dhcp_scope scope; /* parent: enclosing group, or global */
	const char *name;
	uint8_t htype, hlen; /* hlen 0 = no "hardware" statement */
	uint8_t hw[16];
	const uint8_t *client_id; /* "option dhcp-client-identifier" in the host; NULL = none */
	uint8_t client_id_len;
	uint32_t *fixed; /* fixed-address list, host byte order */
	size_t fixed_n;
};

/*
 * A host name written where ISC also takes one instead of an address: an ip-address in an
 * option value, fixed-address, next-server, server-identifier. ISC looks such names up in DNS
 * when it uses the value; paceless looks them up when it loads the configuration to serve it
 * (dhcp_conf_resolve: at start-up and at every reload), never when it only checks it (-t).
 * Until then the address reads 0.0.0.0.
 */
enum dhcp_conf_name_kind {
	DHCP_NAME_OPTION, /* 4 bytes of an option value */
	DHCP_NAME_FIXED,  /* an entry of a host's fixed-address list */
	DHCP_NAME_PARAM,  /* next-server or server-identifier */
	DHCP_NAME_ADDRESS, /* a failover peer's address or peer address */
};

struct dhcp_conf_name {
	enum dhcp_conf_name_kind kind;
	const char *name;
	const char *file; /* where it was written, for messages */
	uint32_t line, col;
	struct dhcp_scope *scope; /* OPTION, PARAM */
	uint8_t code;             /* OPTION: the option's code */
	uint8_t *data;            /* OPTION: the value holding the address at data[off] */
	size_t off;
	enum dhcp_param param;    /* PARAM */
	uint32_t *field;          /* PARAM: the scope's field; ADDRESS: the peer's */
	struct dhcp_host *host;   /* FIXED: host->fixed[index] */
	size_t index;
};

struct dhcp_optdef {
	const char *name;
	uint8_t code;
	const char *format; /* as in dhcp_option_def */
};

struct dhcp_conf {
	struct core_arena arena; /* owns everything below */
	/*
	 * ISC's defaults are stored, and marked set, in global: default/max lease time
	 * 43200/86400, ping-check true, ping-timeout 1, allow bootp/unknown/booting, all other
	 * flags false. min-lease-time, next-server, filename, server-name, server-identifier
	 * are unset unless configured.
	 */
	struct dhcp_scope global;
	struct dhcp_shared **shared;
	size_t shared_n;
	struct dhcp_subnet **subnets; /* every subnet, in file order */
	size_t subnets_n;
	struct dhcp_host **hosts;
	size_t hosts_n;
	struct dhcp_optdef *optdefs; /* "option NAME code N = TYPE;" */
	size_t optdefs_n;
	int log_facility;       /* syslog facility (LOG_DAEMON default) */
	unsigned lease_style;   /* DHCP_LF_* bits: db-time-format local, lease-id-format hex */
	const char *lease_file; /* lease-file-name, or NULL */
	const char *pid_file;   /* pid-file-name, or NULL */
	uint32_t local_address; /* local-address, 0 = any */
	uint16_t local_port;    /* local-port, 0 = 67 */
	struct dhcp_failover_peer **failover_peers;
	size_t failover_peers_n;
	struct dhcp_conf_name *names; /* host names to look up, in file order */
	size_t names_n;
	/* subnets sorted by network for dhcp_conf_subnet_for; NULL when declarations overlap */
	struct dhcp_subnet **subnets_by_net;
};

/*
 * Parses a configuration file and everything it includes (relative include paths are taken
 * relative to the current directory, as ISC does). On success *out is a new config the
 * caller frees with dhcp_conf_free. On failure returns CORE_EPARSE / CORE_EUNSUPP / -errno
 * and writes "FILE:LINE:COL: message" (naming the statement) to err.
 */
int dhcp_conf_load(const char *path, struct dhcp_conf **out, char *err,
		   size_t errlen) CORE_WARN_UNUSED;
/* Same from memory; name is used in messages. include statements are rejected. */
int dhcp_conf_parse(const char *text, size_t len, const char *name, struct dhcp_conf **out,
		    char *err, size_t errlen) CORE_WARN_UNUSED;
void dhcp_conf_free(struct dhcp_conf *c);

/*
 * Looks up c->names with lookup (which returns 0 and the IPv4 address in host byte order, or
 * non-zero with a reason in why). A name that does not resolve is logged as a warning with
 * its FILE:LINE:COL and its value left out, as ISC leaves out what it cannot evaluate: the
 * whole option, that fixed address, the parameter. Returns the number of names left out.
 */
typedef int (*dhcp_conf_lookup_fn)(void *ctx, const char *name, uint32_t *addr, char *why,
				   size_t whylen);
size_t dhcp_conf_resolve(struct dhcp_conf *c, dhcp_conf_lookup_fn lookup, void *ctx);

/* The system resolver (getaddrinfo, IPv4), a dhcp_conf_lookup_fn; blocks. */
int dhcp_conf_lookup_system(void *ctx, const char *name, uint32_t *addr, char *why,
			    size_t whylen);

/*
 * The subnet containing addr (host byte order), or NULL; the most specific one where
 * declarations overlap. O(log n) unless subnets overlap, O(n) then.
 */
struct dhcp_subnet *dhcp_conf_subnet_for(const struct dhcp_conf *c, uint32_t addr);

#endif
