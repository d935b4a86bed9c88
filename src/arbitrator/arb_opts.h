/* SPDX-License-Identifier: MPL-2.0 */
/* paceless-arbitrator's configuration: garbd's command line, config file and option string. */
#ifndef ARB_OPTS_H
#define ARB_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core_err.h"
#include "grp_types.h"

#define ARB_PEERS_MAX 32        /* addresses in gcomm:// */
#define ARB_PORT_DEFAULT 4567   /* Galera's, when an address has no port */
#define ARB_NAME_DEFAULT "garb" /* garbd's */
#define ARB_LISTEN_DEFAULT "0.0.0.0:4567"
#define ARB_ERR_MAX 512
#define ARB_CFG_LINE_MAX 4096
#define ARB_CFG_LINES_MAX 10000
#define ARB_TIMEOUT_MS_MAX 3600000u /* an hour: anything longer is a typo */

/*
 * Everything the command line and the config file say. Strings are owned by the struct
 * (free with arb_opts_free). Timeouts are 0 when not given (the library's defaults apply).
 */
struct arb_opts {
	char *address;  /* as given: "gcomm://h:p,h:p" */
	char *group;
	char *options;  /* as given: "k=v; k=v" */
	char *name;
	char *log;
	char *cfg;
	bool daemon;
	bool help;
	bool version;
	/* Parsed from address and options by arb_opts_finish(). */
	char peers[ARB_PEERS_MAX][GRP_ADDR_MAX];
	size_t n_peers;
	char listen[GRP_ADDR_MAX];
	uint32_t weight;
	uint32_t keepalive_ms;  /* evs.keepalive_period -> grp_params.heartbeat_ms */
	uint32_t suspect_ms;    /* evs.suspect_timeout -> grp_params.election_ms */
	uint32_t inactive_ms;   /* evs.inactive_timeout -> grp_params.suspect_ms */
	/*
	 * TLS (grp_node_config.tls), from socket.ssl_cert, socket.ssl_key, socket.ssl_ca and
	 * socket.ssl_cipher; owned. All NULL when TLS is off: no certificate given, or
	 * socket.ssl=no (as in Galera, an explicit "no" wins over the files).
	 */
	char *ssl_cert, *ssl_key, *ssl_ca, *ssl_cipher;
	int ssl;                /* socket.ssl: 1 yes, 0 no, -1 not given */
	bool listen_ssl;        /* gmcast.listen_addr=ssl://... */
};

/*
 * Parses argv (garbd's options; see paceless-arbitrator(8)), then the config file it names
 * (--cfg; the command line wins over the file), then the address and the option string.
 * Returns 0, or CORE_EPARSE / CORE_EUNSUPP with a one-line message in err (what is wrong and,
 * where we differ from garbd, what to write instead). With help or version set, nothing
 * else is checked. o is zeroed first; free it with arb_opts_free() whatever the result.
 */
int arb_opts_parse(struct arb_opts *o, int argc, char **argv, char *err,
		   size_t err_len) CORE_WARN_UNUSED;
void arb_opts_free(struct arb_opts *o);

/*
 * A Galera duration (ISO 8601: "PT1S", "PT0.5S", "PT1M30S", "P1DT2H") in milliseconds.
 * Years and months are refused (their length varies); so are 0 and more than
 * ARB_TIMEOUT_MS_MAX. Returns 0 or CORE_EPARSE.
 */
int arb_duration_ms(const char *s, uint32_t *ms) CORE_WARN_UNUSED;

#endif
