/* SPDX-License-Identifier: MPL-2.0 */
/* The DHCPv4 server's decisions (RFC 2131): a pure state machine over the config and lease DB. */
#ifndef DHCP_SERVER_H
#define DHCP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core_err.h"
#include "dhcp_conf.h"
#include "dhcp_failover.h"
#include "dhcp_lease.h"
#include "dhcp_leasedb.h"
#include "dhcp_packet.h"

/*
 * No sockets, clocks or files in here: the daemon passes each received datagram with the
 * current time and gets back at most one reply to send, plus lease records to persist
 * through the persist callback. A reply that follows a persisted change must only be sent
 * once those records are durable (dhcp_tx.needs_sync).
 */

/* Requests we understood but chose not to answer; each has a counter. */
enum dhcp_ignore {
	DHCP_IGN_NONE = 0,
	DHCP_IGN_REPLY_OP,       /* a BOOTREPLY sent to the server port */
	DHCP_IGN_NO_SUBNET,      /* no subnet for the interface or relay */
	DHCP_IGN_POOL_EXHAUSTED, /* no free address a client may have */
	DHCP_IGN_UNKNOWN_CLIENT, /* deny unknown-clients */
	DHCP_IGN_BOOTP_DENIED,   /* deny bootp, or no address for a BOOTP client */
	DHCP_IGN_NOT_OURS,       /* REQUEST for another server, or for an address not ours */
	DHCP_IGN_NOT_AUTH,       /* would NAK, but not authoritative */
	DHCP_IGN_BAD_REQUEST,    /* missing fields the message type needs */
	DHCP_IGN_UNSUPPORTED,    /* message type we do not serve */
	DHCP_IGN_NO_MEMORY,
	DHCP_IGN_FO_NOT_SERVING, /* failover: our state serves nobody (startup, recover...) */
	DHCP_IGN_FO_PEER_CLIENT, /* failover: load balancing gives this client to the peer */
	DHCP_IGN_MAX,
};
const char *dhcp_ignore_name(enum dhcp_ignore i);

struct dhcp_counters {
	uint64_t rx[DHCP_MSG_MAX]; /* by message type; [0] = BOOTP */
	uint64_t tx[DHCP_MSG_MAX];
	uint64_t drop[DHCP_DROP_MAX];     /* undecodable datagrams, by reason */
	uint64_t ignore[DHCP_IGN_MAX];    /* decoded but not answered, by reason */
	uint64_t options_omitted;         /* reply options that did not fit the client's size */
	uint64_t leases_expired;
	uint64_t leases_abandoned;
	uint64_t leases_reclaimed;
	uint64_t probes;          /* ping-check echoes requested */
	uint64_t probes_answered; /* addresses found in use */
};

/* How the daemon must send a reply. */
enum dhcp_tx_how {
	DHCP_TX_UNICAST = 1, /* UDP to dst_addr:dst_port (a relay, or a client with an address) */
	DHCP_TX_BROADCAST,   /* UDP to 255.255.255.255:68 out of ifindex */
	DHCP_TX_LINK,        /* to dst_addr at link address chaddr, out of ifindex: the client
			      * has no address yet, so the frame is built raw */
};

/* Describes where a datagram came from. */
struct dhcp_rx {
	uint32_t ifindex;
	char ifname[16];  /* for log lines, as ISC's "via eth0" */
	uint32_t if_addr; /* an address of the receiving interface, 0 if none (host order) */
	uint32_t src_addr;
	uint16_t src_port;
};

struct dhcp_tx {
	uint8_t how; /* enum dhcp_tx_how */
	bool needs_sync;
	uint32_t ifindex;
	uint32_t src_addr; /* our address to send from (the server identifier) */
	uint32_t dst_addr;
	uint16_t dst_port;
	uint8_t chaddr[16];
	uint8_t hlen;
	/*
	 * ping-check: when probe_addr is set, the daemon must first send an ICMP echo to it
	 * and send this reply only if nothing answers within probe_timeout_ms; if something
	 * does, it calls dhcp_server_probe_answered() and drops the reply (as ISC does).
	 */
	uint32_t probe_addr;
	uint32_t probe_timeout_ms;
	uint16_t len;
	uint8_t buf[DHCP_PACKET_MAX];
};

/* Persists r; returns the number its journal gives it (records are numbered from 1 in
 * order), or 0 when it could not be kept. Failover waits for that number to be durable
 * before telling the peer (dhcp_server_fo_pump). */
typedef uint64_t (*dhcp_persist_fn)(void *ctx, const struct dhcp_lease_rec *r);

struct dhcp_server;

/*
 * Creates a server over conf and db (both borrowed; they must outlive the server or be
 * replaced with dhcp_server_set_conf). persist is called for every lease change.
 * Returns NULL when out of memory.
 */
struct dhcp_server *dhcp_server_new(const struct dhcp_conf *conf, struct dhcp_leasedb *db,
				    dhcp_persist_fn persist, void *persist_ctx);
void dhcp_server_free(struct dhcp_server *s);

/*
 * Switches to a new config (SIGHUP). Leases are kept; the old config may be freed after
 * this returns 0. On error the old config stays in force.
 */
int dhcp_server_set_conf(struct dhcp_server *s, const struct dhcp_conf *conf,
			 int64_t now) CORE_WARN_UNUSED;

/*
 * Handles one received datagram. Returns 1 with *tx filled when there is a reply to send,
 * 0 when there is none (the reason is counted). now is Unix time in seconds.
 */
int dhcp_server_handle(struct dhcp_server *s, const uint8_t *buf, size_t len,
		       const struct dhcp_rx *rx, int64_t now, struct dhcp_tx *tx);

/*
 * Periodic work: expires up to budget leases whose time is up (persisting them as free, as
 * ISC does) and lets unanswered offers go. Returns the number of leases examined.
 */
size_t dhcp_server_tick(struct dhcp_server *s, int64_t now, size_t budget);

/*
 * Something answered the ping for addr before it was offered: the address is in use by a
 * host we do not know of, so its lease is abandoned (and persisted) and not offered.
 */
void dhcp_server_probe_answered(struct dhcp_server *s, uint32_t addr, int64_t now);

/* Number of addresses in all configured ranges. */
size_t dhcp_server_pool_addresses(const struct dhcp_server *s);

const struct dhcp_counters *dhcp_server_counters(const struct dhcp_server *s);

/* Occupancy of one pool, for pool-stats. */
struct dhcp_pool_stats {
	const struct dhcp_pool *pool;
	/* backup: a failover pool's leases the secondary may give (free: the rest, the
	 * primary's, and those waiting for the peer's word) */
	uint32_t total, active, free, backup, abandoned, reserved;
};
/* Fills up to max entries; returns the number of pools. */
size_t dhcp_server_pool_stats(const struct dhcp_server *s, int64_t now,
			      struct dhcp_pool_stats *out, size_t max);

/* ---- failover pools ----
 *
 * The binding layer of the failover protocol (docs/internals/dhcp-failover.md): for each
 * failover peer of the configuration, a state machine (struct dhcp_fo, owned by the daemon's
 * link) is attached; the server then allocates in that peer's pools only what is ours (the
 * primary's FREE, the secondary's BACKUP leases; the peer's as well in partner-down once MCLT
 * has passed), grants lease times under MCLT, queues every change for a BNDUPD, applies the
 * peer's BNDUPDs (the BNDACK is the daemon's to send once they are durable: ops.ack),
 * answers update requests, balances the pools (primary) and gates service by the state.
 * Peers are numbered as conf->failover_peers. Everything here runs on the daemon's loop.
 */
struct dhcp_server_fo_ops {
	/* Send a BNDACK for addr answering xid once every record persisted so far is durable. */
	void (*ack)(void *ctx, size_t peer, uint32_t addr, uint32_t xid);
};
void dhcp_server_fo_set_ops(struct dhcp_server *s, const struct dhcp_server_fo_ops *ops,
			    void *ctx);
/* Attaches fo (borrowed, until detached with NULL) to peer. */
void dhcp_server_fo_attach(struct dhcp_server *s, size_t peer, struct dhcp_fo *fo);
/* A binding message (BNDUPD, BNDACK, POOLREQ, POOLRESP) from peer's established link. */
void dhcp_server_fo_bindings(struct dhcp_server *s, size_t peer, const struct dhcp_fo_msg *m,
			     int64_t now);
/* The peer asked for updates (dhcp_fo_ops.updates_requested): queue them. */
void dhcp_server_fo_updates_requested(struct dhcp_server *s, size_t peer, bool all);
/*
 * Sends what is queued within the peer's window and durable (records numbered up to durable
 * are on stable storage; see dhcp_persist_fn), UPDDONE when a request is answered, and
 * balances the pools when it is time. Call after each batch of work and at least once a
 * second, never from inside a state machine callback.
 */
void dhcp_server_fo_pump(struct dhcp_server *s, int64_t now, uint64_t durable);

struct dhcp_server_fo_counters {
	uint64_t bndupd_sent, bndupd_received, bndack_received; /* (BNDACKs go from the daemon) */
	uint64_t rejects_sent, rejects_received; /* BNDACKs with a reject reason */
	uint64_t leases_balanced;                 /* given to the peer by pool balancing */
	uint64_t poolreq_received, poolreq_sent;
	uint64_t peer_dry_answered; /* the peer's clients answered: it had no free lease */
};
struct dhcp_server_fo_stats {
	const struct dhcp_failover_peer *cfg;
	struct dhcp_fo *fo; /* NULL when none is attached */
	size_t queued, in_flight;
	struct dhcp_server_fo_counters ctr;
};
/* Number of peers; fills *st for peer < that. */
size_t dhcp_server_fo_peers(const struct dhcp_server *s);
void dhcp_server_fo_stats(const struct dhcp_server *s, size_t peer,
			  struct dhcp_server_fo_stats *st);

/* The state to show for l at time now: an active lease past its end shows as expired. */
enum dhcp_binding dhcp_server_lease_state(const struct dhcp_lease *l, int64_t now);

#endif
