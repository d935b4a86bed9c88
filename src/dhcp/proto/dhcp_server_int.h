/* SPDX-License-Identifier: MPL-2.0 */
/* The server's private state, shared by its plain part (dhcp_server.c) and its failover part. */
#ifndef DHCP_SERVER_INT_H
#define DHCP_SERVER_INT_H

#include "core_log.h"
#include "dhcp_failover.h"
#include "dhcp_fo_updq.h"
#include "dhcp_pools.h"
#include "dhcp_server.h"

/* One failover relationship as the server sees it (dhcp_server_fo.c). */
struct srv_fo_rel {
	const struct dhcp_failover_peer *cfg; /* of the current configuration */
	struct dhcp_fo *fo;                   /* attached by the daemon; NULL: serve nothing */
	struct dhcp_fo_updq *q;
	size_t addrs;       /* addresses in its pools (the queue's capacity) */
	bool req_pending;   /* the peer asked for updates: UPDDONE once the queue is idle */
	uint8_t seen_state; /* our state at the last pump, to see normal begin */
	int64_t balance_at; /* next pool balance (primary, normal) */
	uint32_t peer_free_hint;       /* an address last seen in the peer's free state */
	const struct dhcp_shared *dry; /* a network where the peer had none, at dry_at */
	int64_t dry_at;
	struct dhcp_server_fo_counters ctr;
};

struct dhcp_server {
	const struct dhcp_conf *conf;
	struct dhcp_leasedb *db;
	struct dhcp_pools *pools;
	dhcp_persist_fn persist;
	void *persist_ctx;
	const struct dhcp_host **host_by_hw; /* open addressing, host_cap slots */
	const struct dhcp_host **host_by_uid;
	size_t host_cap;
	struct dhcp_counters ctr;
	struct dhcp_packet pkt; /* scratch: decoded request */
	struct dhcp_out out;    /* scratch: reply under construction */
	struct core_ratelimit rl;
	int64_t now;
	uint64_t durable; /* journal records known durable, as of the last pump */
	size_t sweep_expired;
	struct srv_fo_rel *fo; /* one per conf->failover_peers, in that order */
	size_t fo_n;
	const struct dhcp_server_fo_ops *fo_ops;
	void *fo_ctx;
};

/* Everything known about the request being answered. */
struct req {
	const struct dhcp_packet *p;
	const struct dhcp_rx *rx;
	const uint8_t *uid;
	size_t uid_len;
	const struct dhcp_host *host;
	const struct dhcp_subnet *subnet; /* of the relay or the receiving interface */
	const struct dhcp_shared *shared;
	const struct dhcp_pool *pool;          /* of the address being given, if dynamic */
	const struct dhcp_subnet *addr_subnet; /* subnet of the address being given */
	uint32_t server_id;
	char mac[3 * 16];
};

/* ---- the failover part (dhcp_server_fo.c) ---- */

/* Maps conf's failover peers to relationships, keeping attached machines when the peers
 * are the same ones in the same order; CORE_ESTATE (nothing changed) when they are not.
 * pools are conf's (the server switches to them next). */
int srv_fo_set_conf(struct dhcp_server *s, const struct dhcp_conf *conf,
                    const struct dhcp_pools *pools) CORE_WARN_UNUSED;
void srv_fo_free(struct dhcp_server *s);
/* The relationship serving pool, or NULL for a pool without failover. */
struct srv_fo_rel *srv_fo_rel_of(const struct dhcp_server *s, const struct dhcp_pool *pool);
/* Whether l (NULL: never leased) of failover pool is ours to give (offers aside). */
bool srv_fo_owned(const struct dhcp_server *s, const struct dhcp_pool *pool,
                  const struct dhcp_lease *l, int64_t now);
/*
 * ISC's other use of the rewind binding state: l ended here (released, expired) and the peer
 * has not heard so yet, so it still takes l to be active with its client: that client may
 * have it back at once, as it would have kept it without the release.
 */
bool srv_fo_rewinds_to_active(const struct dhcp_lease *l);
/* dhcp_pools_usable_fn for failover pools: owned and not offered to someone. */
bool srv_fo_usable(void *ctx, const struct dhcp_pool *pool, const struct dhcp_lease *l,
                   int64_t now);
/* Whether r serves requests now (a machine attached, a serving state). */
bool srv_fo_serving(const struct srv_fo_rel *r);
/* Whether a DISCOVER from this client on network net is ours under load balancing. */
bool srv_fo_discover_mine(struct dhcp_server *s, struct srv_fo_rel *r, const struct dhcp_shared *net,
                          const struct dhcp_packet *p, const uint8_t *uid, size_t uid_len);
/* The lease time to grant for l under MCLT; with commit, l's tstp (and tsfp) are set. */
uint32_t srv_fo_lease_time(struct dhcp_server *s, struct srv_fo_rel *r, struct dhcp_lease *l,
                           uint32_t want, bool commit);
/* l (in r's pools) changed here: keep its failover fields and queue it for the peer. */
void srv_fo_changed(struct dhcp_server *s, struct srv_fo_rel *r, struct dhcp_lease *l);
/* The state a lease ending here (released, expired) moves to: waiting (released / expired,
 * for the peer's ack), or our free state at once when the peer never heard of it (rewind). */
uint8_t srv_fo_end_state(const struct srv_fo_rel *r, const struct dhcp_lease *l, uint8_t waiting);
/* The periodic sweep's rule for a lease of r's pools. */
void srv_fo_sweep(struct dhcp_server *s, struct srv_fo_rel *r, struct dhcp_lease *l);

/* Shared helpers of dhcp_server.c. */
/* Persists l (its journal record number, see dhcp_persist_fn) and updates its pool bits. */
uint64_t srv_persist_rec(struct dhcp_server *s, struct dhcp_lease *l);
char *srv_ip_str(uint32_t a, char buf[16]);

#endif
