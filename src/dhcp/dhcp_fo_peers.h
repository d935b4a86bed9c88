/* SPDX-License-Identifier: MPL-2.0 */
/* The daemon's failover peers: their links, state records, durable BNDACKs and commands. */
#ifndef DHCP_FO_PEERS_H
#define DHCP_FO_PEERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "core_ctl.h"
#include "core_err.h"
#include "dhcp_conf.h"
#include "dhcp_journal.h"
#include "dhcp_leasestore.h"
#include "dhcp_server.h"

/*
 * One dhcp_fo_link per failover peer of the configuration, each resuming the state record
 * the lease file holds for it (or recover, as ISC, when there is none). The machines are
 * attached to the server, which does the binding layer; this module is the glue:
 * - a state change is written to the lease file and synced before anything depends on it;
 * - a BNDUPD the server applied is acked (BNDACK) only once its record is durable;
 * - after every loop iteration the server's queue is pumped (BNDUPDs of durable changes,
 *   UPDDONE, pool balancing);
 * - control commands failover-state and failover-partner-down.
 * Everything runs on the daemon's loop thread. conf, srv, journal and store are borrowed and
 * must outlive the peers; the links keep pointing into conf's peer declarations.
 */
struct dhcp_fo_peers;

/* More peers than the lease file keeps state for is a configuration error. */
#define DHCP_FO_PEERS_MAX DHCP_LEASESTORE_FO_MAX

/*
 * Starts a link for every peer of conf (none: *out stays NULL and 0 is returned). Returns
 * 0, or a negative errno with the reason logged (a listen address in use, ...).
 */
int dhcp_fo_peers_start(uv_loop_t *loop, const struct dhcp_conf *conf, struct dhcp_server *srv,
                        struct dhcp_journal *journal, const struct dhcp_leasestore *store,
                        struct dhcp_fo_peers **out) CORE_WARN_UNUSED;

/* The journal's durable mark moved: send the BNDACKs waiting for it. p may be NULL. */
void dhcp_fo_peers_durable(struct dhcp_fo_peers *p, uint64_t durable);

/* Registers the control commands (also with p NULL: they then say there are no peers). */
int dhcp_fo_peers_register(struct dhcp_fo_peers *p, struct core_ctl *ctl) CORE_WARN_UNUSED;

/*
 * Whether a reloaded configuration keeps the running peers (same declarations, same order):
 * 0, or CORE_EUNSUPP with err saying that a restart is needed. p may be NULL (no peers).
 */
int dhcp_fo_peers_check_reload(const struct dhcp_fo_peers *p, const struct dhcp_conf *conf,
                               char *err, size_t errlen) CORE_WARN_UNUSED;

/*
 * Graceful shut-down (pacelessctl shutdown): every peer in normal moves to shutdown, so that
 * the partner takes over in partner-down (returns how many did); _done says when every
 * partner is there; _finish records recover for the restart. p may be NULL.
 */
size_t dhcp_fo_peers_shutdown(struct dhcp_fo_peers *p);
bool dhcp_fo_peers_shutdown_done(const struct dhcp_fo_peers *p);
void dhcp_fo_peers_shutdown_finish(struct dhcp_fo_peers *p);

/* Detaches the machines from the server and closes the links (the loop must run on to
 * finish closing them). p may be NULL. */
void dhcp_fo_peers_stop(struct dhcp_fo_peers *p);

#endif
