/* SPDX-License-Identifier: MPL-2.0 */
/* Failover server states, handshake and update requests (see dhcp_failover.h). Pure. */
#include <stdlib.h>
#include <string.h>

#include "core_log.h"
#include "dhcp_failover.h"

struct link {
	int id;             /* 0: free slot */
	int64_t opened;     /* for the CONNECT / CONNECTACK wait */
	int64_t last_rx, last_tx;
	uint32_t xid;       /* next xid of a message we start */
	bool connect_sent;  /* primary: CONNECT sent, CONNECTACK awaited */
	bool closing;       /* ops.close called; dhcp_fo_link_down will follow */
	bool heard_state;   /* the peer's STATE arrived on it */
};

struct dhcp_fo {
	const struct dhcp_failover_peer *cfg;
	const struct dhcp_fo_ops *ops;
	void *ctx;
	const char *vendor;

	uint8_t state;        /* enum dhcp_fo_state; STARTUP until the peer speaks or 15 s pass */
	uint8_t saved;        /* the state STARTUP resumes */
	int64_t stos, started;
	uint8_t partner, partner_prev;
	int64_t partner_stos; /* when we learned it (ISC ignores the peer's STOS) */
	bool partner_startup; /* the peer's STARTUP flag */

	uint32_t mclt;
	uint8_t hba[DHCP_FO_HBA_LEN];
	uint32_t peer_max_unacked, peer_receive_timer;

	struct link links[DHCP_FO_LINKS_MAX];
	int link; /* the established link, 0 if none */

	struct core_ratelimit rl; /* for the lines the peer's messages trigger */
	bool req_pending;     /* the peer's UPDREQ(ALL) being answered */
	uint32_t req_xid;
	int64_t recover_wait_until;
};

static const char *sname(uint8_t s)
{
	return dhcp_fo_state_name(s);
}

static struct link *link_of(struct dhcp_fo *fo, int id)
{
	for (int i = 0; i < DHCP_FO_LINKS_MAX; i++)
		if (fo->links[i].id == id && id > 0)
			return &fo->links[i];
	return NULL;
}

static bool primary(const struct dhcp_fo *fo)
{
	return fo->cfg->role == DHCP_FO_PRIMARY;
}

/* Sends m (type and options set by the caller) on link; xid from the link's counter unless
 * the message answers one (answer_xid >= 0). */
static void send_msg(struct dhcp_fo *fo, struct link *l, struct dhcp_fo_msg *m, int64_t answer_xid,
		     int64_t now)
{
	m->time = (uint32_t)now;
	m->xid = answer_xid >= 0 ? (uint32_t)answer_xid : l->xid++;
	l->last_tx = now;
	fo->ops->send(fo->ctx, l->id, m);
}

static void close_link(struct dhcp_fo *fo, struct link *l, const char *why)
{
	if (l->closing)
		return;
	l->closing = true;
	fo->ops->close(fo->ctx, l->id, why);
}

static void persist(struct dhcp_fo *fo)
{
	struct dhcp_fo_saved s = {
	    .valid = true,
	    .my_state = fo->state == DHCP_FO_S_STARTUP ? fo->saved : fo->state,
	    .my_stos = fo->stos,
	    .partner_state = fo->partner,
	    .partner_stos = fo->partner_stos,
	    .mclt = primary(fo) ? 0 : fo->mclt,
	};

	fo->ops->persist(fo->ctx, &s);
}

static void send_state(struct dhcp_fo *fo, int64_t now)
{
	struct link *l = link_of(fo, fo->link);
	struct dhcp_fo_msg m = {.type = DHCP_FO_STATE};

	if (!l)
		return;
	m.server_state = fo->state == DHCP_FO_S_STARTUP ? fo->saved : fo->state;
	m.server_flags = fo->state == DHCP_FO_S_STARTUP ? DHCP_FO_SF_STARTUP : 0;
	m.stos = (uint32_t)fo->stos;
	m.present = 1u << DHCP_FO_SERVER_STATE | 1u << DHCP_FO_SERVER_FLAGS | 1u << DHCP_FO_STOS;
	send_msg(fo, l, &m, -1, now);
}

static void send_bare(struct dhcp_fo *fo, uint8_t type, int64_t answer_xid, int64_t now)
{
	struct link *l = link_of(fo, fo->link);
	struct dhcp_fo_msg m = {.type = type};

	if (l)
		send_msg(fo, l, &m, answer_xid, now);
}

static void set_state(struct dhcp_fo *fo, uint8_t s, int64_t now);

/* Entering a state may ask the peer for updates (reference section 3). */
static void on_enter(struct dhcp_fo *fo, int64_t now)
{
	switch (fo->state) {
	case DHCP_FO_S_RECOVER:
		send_bare(fo, DHCP_FO_UPDREQALL, -1, now);
		break;
	case DHCP_FO_S_POTENTIAL_CONFLICT:
		if (primary(fo) || fo->partner == DHCP_FO_S_CONFLICT_DONE)
			send_bare(fo, DHCP_FO_UPDREQ, -1, now);
		break;
	case DHCP_FO_S_RECOVER_WAIT:
		fo->recover_wait_until = fo->stos + fo->mclt;
		break;
	default:
		break;
	}
}

static void set_state(struct dhcp_fo *fo, uint8_t s, int64_t now)
{
	uint8_t old = fo->state;

	if (s == old)
		return;
	CLOG_NOTICE("failover peer %s: I move from %s to %s", fo->cfg->name, sname(old), sname(s));
	fo->state = s;
	/* STOS is kept on entering recover-wait (its timer counts from recover) and startup. */
	if (s != DHCP_FO_S_RECOVER_WAIT && s != DHCP_FO_S_STARTUP && old != DHCP_FO_S_STARTUP)
		fo->stos = now;
	persist(fo);
	send_state(fo, now);
	on_enter(fo, now);
}

/* What losing the link does to a state (ISC's "disconnect" rule). */
static uint8_t disconnected(uint8_t s)
{
	switch (s) {
	case DHCP_FO_S_NORMAL:
		return DHCP_FO_S_COMMUNICATIONS_INTERRUPTED;
	case DHCP_FO_S_POTENTIAL_CONFLICT:
	case DHCP_FO_S_UNKNOWN:
		return DHCP_FO_S_RESOLUTION_INTERRUPTED;
	default:
		return s;
	}
}

static bool in(uint8_t s, const uint8_t *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (set[i] == s)
			return true;
	return false;
}

#define IN(s, ...) in((s), (const uint8_t[]){__VA_ARGS__}, sizeof((const uint8_t[]){__VA_ARGS__}))

/*
 * Our reaction to the peer's state p while we are in s (reference section 4). Returns the new
 * state (s when none); *updreqall when an UPDREQALL goes out again; *fatal for a combination
 * ISC treats as impossible (it exits; we close the link).
 */
static uint8_t react(struct dhcp_fo *fo, uint8_t s, uint8_t p, bool *updreqall, bool *updreq,
		     bool *fatal)
{
	enum {
		N = DHCP_FO_S_NORMAL,
		CI = DHCP_FO_S_COMMUNICATIONS_INTERRUPTED,
		PD = DHCP_FO_S_PARTNER_DOWN,
		PC = DHCP_FO_S_POTENTIAL_CONFLICT,
		RC = DHCP_FO_S_RECOVER,
		PA = DHCP_FO_S_PAUSED,
		SD = DHCP_FO_S_SHUTDOWN,
		RD = DHCP_FO_S_RECOVER_DONE,
		RI = DHCP_FO_S_RESOLUTION_INTERRUPTED,
		CD = DHCP_FO_S_CONFLICT_DONE,
		RW = DHCP_FO_S_RECOVER_WAIT,
	};

	*updreqall = *updreq = *fatal = false;
	switch (s) {
	case N:
		if (p == PD)
			return fo->state == DHCP_FO_S_STARTUP ? RC : PC;
		if (IN(p, RC, SD))
			return PD;
		if (p == PA)
			return CI;
		if (IN(p, PC, RI, CD))
			return SD;
		return s;
	case CI:
		if (IN(p, N, CI, RD, RW))
			return N;
		if (IN(p, RC, SD))
			return PD;
		if (IN(p, PD, PC, RI, CD))
			return PC;
		return s;
	case PD:
		if (fo->partner_startup)
			return s;
		if (p == RD)
			return N;
		if (IN(p, N, PC, PD, CI, RI, CD))
			return PC;
		return s;
	case RC:
		if (IN(p, RC, PD, CI))
			*updreqall = true;
		if (IN(p, N, PC, RI, CD))
			return PC;
		if (p == SD)
			return PD;
		return s;
	case PC:
		if (p == N)
			return SD;
		if (p == CD && fo->partner_prev == PC)
			*updreq = true;
		if (p == RC)
			return RC;
		if (p == SD)
			return PD;
		return s;
	case RI:
		if (p == SD)
			return PD;
		return PC;
	case CD:
		if (IN(p, N, SD))
			return p;
		if (!IN(p, PC, RI))
			*fatal = true;
		return s;
	case RD:
		if (IN(p, RD, N))
			return N;
		return s;
	default: /* recover-wait, shutdown, paused: no automatic moves */
		return s;
	}
}

static void peer_state(struct dhcp_fo *fo, struct link *l, const struct dhcp_fo_msg *m, int64_t now)
{
	bool updreqall, updreq, fatal, starting = fo->state == DHCP_FO_S_STARTUP;
	bool was_starting = fo->partner_startup;
	uint8_t base = starting ? fo->saved : fo->state, next;

	l->heard_state = true;
	fo->partner_startup = dhcp_fo_has(m, DHCP_FO_SERVER_FLAGS) &&
			      (m->server_flags & DHCP_FO_SF_STARTUP);
	/*
	 * ISC reacts to a change of the peer's state; in partner-down also to the end of the
	 * peer's STARTUP (it ignored the peer until then). The same state again, as each side
	 * sends it once with the flag and once without, changes nothing: that is why a new pair
	 * sends exactly two UPDREQALLs each way (the capture).
	 */
	if (!starting && m->server_state == fo->partner &&
	    !(fo->state == DHCP_FO_S_PARTNER_DOWN && was_starting && !fo->partner_startup))
		return;
	fo->partner_prev = fo->partner;
	fo->partner = m->server_state;
	fo->partner_stos = now;
	CLOG_RL(&fo->rl, now * 1000, CORE_LOG_NOTICE, "failover peer %s: peer moves from %s to %s%s",
		fo->cfg->name, sname(fo->partner_prev), sname(fo->partner),
		fo->partner_startup ? " (starting up)" : "");
	next = react(fo, base, fo->partner, &updreqall, &updreq, &fatal);
	if (fatal) {
		CLOG_RL(&fo->rl, now * 1000, CORE_LOG_ERR,
			"failover peer %s: peer state %s is impossible while I am %s", fo->cfg->name,
			sname(fo->partner), sname(base));
		close_link(fo, l, "impossible peer state");
		return;
	}
	if (starting) {
		/* Out of STARTUP straight into the reaction's state, or else the saved one
		 * (connected: resolution-interrupted becomes potential-conflict). */
		uint8_t resume = base == DHCP_FO_S_RESOLUTION_INTERRUPTED ? DHCP_FO_S_POTENTIAL_CONFLICT
									    : base;

		set_state(fo, next != base ? next : resume, now);
	} else if (next != fo->state) {
		set_state(fo, next, now);
	} else {
		persist(fo); /* the partner's state is part of the record */
	}
	if (updreqall && fo->state == DHCP_FO_S_RECOVER)
		send_bare(fo, DHCP_FO_UPDREQALL, -1, now);
	if (updreq)
		send_bare(fo, DHCP_FO_UPDREQ, -1, now);
}

/* UPDDONE: the peer sent everything we asked for. */
static void update_done(struct dhcp_fo *fo, int64_t now)
{
	switch (fo->state) {
	case DHCP_FO_S_RECOVER:
		if (now < fo->stos + (int64_t)fo->mclt && fo->partner != DHCP_FO_S_RECOVER &&
		    fo->partner != DHCP_FO_S_RECOVER_DONE)
			set_state(fo, DHCP_FO_S_RECOVER_WAIT, now);
		else
			set_state(fo, DHCP_FO_S_RECOVER_DONE, now);
		break;
	case DHCP_FO_S_POTENTIAL_CONFLICT:
		if (primary(fo))
			set_state(fo, DHCP_FO_S_CONFLICT_DONE, now);
		else if (fo->partner == DHCP_FO_S_CONFLICT_DONE)
			set_state(fo, DHCP_FO_S_NORMAL, now);
		break;
	default:
		break;
	}
}

static void put_bytes(struct dhcp_fo_msg *m, enum dhcp_fo_opt code, struct dhcp_fo_bytes *f,
		      const void *p, size_t n)
{
	f->p = p;
	f->len = (uint16_t)n;
	m->present |= 1u << code;
}

/* CONNECT (primary) or an accepting CONNECTACK (secondary): what both sides announce. */
static void put_announce(struct dhcp_fo *fo, struct dhcp_fo_msg *m)
{
	put_bytes(m, DHCP_FO_RELATIONSHIP, &m->relationship, fo->cfg->name, strlen(fo->cfg->name));
	put_bytes(m, DHCP_FO_VENDOR_CLASS, &m->vendor_class, fo->vendor, strlen(fo->vendor));
	m->max_unacked = fo->cfg->max_unacked_updates;
	m->receive_timer = fo->cfg->max_response_delay;
	m->protocol_version = 1;
	m->present |= 1u << DHCP_FO_MAX_UNACKED | 1u << DHCP_FO_RECEIVE_TIMER |
		      1u << DHCP_FO_PROTOCOL_VERSION;
}

static void send_connect(struct dhcp_fo *fo, struct link *l, int64_t now)
{
	struct dhcp_fo_msg m = {.type = DHCP_FO_CONNECT};

	put_announce(fo, &m);
	m.tls_request = 0;
	m.mclt = fo->mclt;
	put_bytes(&m, DHCP_FO_HBA, &m.hba, fo->hba, DHCP_FO_HBA_LEN);
	m.present |= 1u << DHCP_FO_TLS_REQUEST | 1u << DHCP_FO_MCLT;
	l->connect_sent = true;
	send_msg(fo, l, &m, -1, now);
}

static void established(struct dhcp_fo *fo, struct link *l, const struct dhcp_fo_msg *m,
			int64_t now)
{
	fo->link = l->id;
	fo->peer_max_unacked = dhcp_fo_has(m, DHCP_FO_MAX_UNACKED) ? m->max_unacked : 0;
	fo->peer_receive_timer = dhcp_fo_has(m, DHCP_FO_RECEIVE_TIMER) ? m->receive_timer : 0;
	CLOG_NOTICE("failover peer %s: link %d is up", fo->cfg->name, l->id);
	send_state(fo, now);
}

/* The secondary refuses a CONNECT: CONNECTACK with the reason, then the link closes. */
static int refuse_connect(struct dhcp_fo *fo, struct link *l, const struct dhcp_fo_msg *c,
			  uint8_t reason, const char *why, int64_t now)
{
	struct dhcp_fo_msg m = {.type = DHCP_FO_CONNECTACK};

	if (dhcp_fo_has(c, DHCP_FO_RELATIONSHIP))
		put_bytes(&m, DHCP_FO_RELATIONSHIP, &m.relationship, c->relationship.p,
			  c->relationship.len);
	put_bytes(&m, DHCP_FO_VENDOR_CLASS, &m.vendor_class, fo->vendor, strlen(fo->vendor));
	m.protocol_version = 1;
	m.reject_reason = reason;
	m.present |= 1u << DHCP_FO_PROTOCOL_VERSION | 1u << DHCP_FO_REJECT_REASON;
	if (dhcp_fo_has(c, DHCP_FO_TLS_REQUEST)) {
		m.tls_reply = 0;
		m.present |= 1u << DHCP_FO_TLS_REPLY;
	}
	put_bytes(&m, DHCP_FO_MESSAGE, &m.message, why, strlen(why));
	send_msg(fo, l, &m, c->xid, now);
	CLOG_RL(&fo->rl, now * 1000, CORE_LOG_WARN, "failover peer %s: CONNECT refused: %s",
		fo->cfg->name, why);
	close_link(fo, l, why);
	return CORE_ESTATE;
}

static bool name_matches(const struct dhcp_fo *fo, const struct dhcp_fo_msg *m)
{
	size_t n = strlen(fo->cfg->name);

	return dhcp_fo_has(m, DHCP_FO_RELATIONSHIP) && m->relationship.len == n &&
	       memcmp(m->relationship.p, fo->cfg->name, n) == 0;
}

static bool skewed(const struct dhcp_fo_msg *m, int64_t now)
{
	int64_t d = (int64_t)m->time - now;

	return d > DHCP_FO_SKEW_MAX_S || d < -DHCP_FO_SKEW_MAX_S;
}

/* Secondary: ISC's checks on CONNECT, in ISC's order. */
static int on_connect(struct dhcp_fo *fo, struct link *l, const struct dhcp_fo_msg *m, int64_t now)
{
	struct dhcp_fo_msg a = {.type = DHCP_FO_CONNECTACK};

	if (primary(fo))
		return refuse_connect(fo, l, m, DHCP_FO_R_INVALID_PARTNER,
				      "both servers are configured as primary", now);
	if (!name_matches(fo, m))
		return refuse_connect(fo, l, m, DHCP_FO_R_INVALID_PARTNER,
				      "unknown failover relationship name", now);
	if (skewed(m, now))
		return refuse_connect(fo, l, m, DHCP_FO_R_TIME_MISMATCH,
				      "time offset too large", now);
	if (!dhcp_fo_has(m, DHCP_FO_HBA) || m->hba.len != DHCP_FO_HBA_LEN)
		return refuse_connect(fo, l, m, DHCP_FO_R_HBA_CONFLICT,
				      "hash bucket assignment missing or not 32 bytes", now);
	if (fo->link)
		return refuse_connect(fo, l, m, DHCP_FO_R_DUP_CONNECTION, "duplicate connection",
				      now);
	if (!dhcp_fo_has(m, DHCP_FO_MCLT))
		return refuse_connect(fo, l, m, DHCP_FO_R_INVALID_MCLT, "MCLT missing", now);
	/* The primary's HBA and MCLT are the relationship's. */
	memcpy(fo->hba, m->hba.p, DHCP_FO_HBA_LEN);
	fo->mclt = m->mclt;
	put_announce(fo, &a);
	if (dhcp_fo_has(m, DHCP_FO_TLS_REQUEST)) {
		a.tls_reply = 0;
		a.present |= 1u << DHCP_FO_TLS_REPLY;
	}
	send_msg(fo, l, &a, m->xid, now);
	established(fo, l, m, now);
	return 0;
}

static int disconnect(struct dhcp_fo *fo, struct link *l, uint8_t reason, const char *why,
		      int64_t now)
{
	struct dhcp_fo_msg m = {.type = DHCP_FO_DISCONNECT};

	m.reject_reason = reason;
	m.present = 1u << DHCP_FO_REJECT_REASON;
	put_bytes(&m, DHCP_FO_MESSAGE, &m.message, why, strlen(why));
	send_msg(fo, l, &m, -1, now);
	CLOG_RL(&fo->rl, now * 1000, CORE_LOG_WARN, "failover peer %s: disconnecting: %s",
		fo->cfg->name, why);
	close_link(fo, l, why);
	return CORE_ESTATE;
}

/* Primary: ISC's checks on CONNECTACK. */
static int on_connectack(struct dhcp_fo *fo, struct link *l, const struct dhcp_fo_msg *m,
			 int64_t now)
{
	if (!primary(fo) || !l->connect_sent) {
		close_link(fo, l, "CONNECTACK without CONNECT");
		return CORE_ESTATE;
	}
	if (!name_matches(fo, m))
		return disconnect(fo, l, DHCP_FO_R_INVALID_PARTNER, "unknown relationship name",
				  now);
	if (dhcp_fo_has(m, DHCP_FO_REJECT_REASON)) {
		CLOG_RL(&fo->rl, now * 1000, CORE_LOG_WARN, "failover peer %s: CONNECT rejected: %s",
			fo->cfg->name, dhcp_fo_reject_name(m->reject_reason));
		close_link(fo, l, "CONNECT rejected");
		return CORE_ESTATE;
	}
	if (fo->link)
		return disconnect(fo, l, DHCP_FO_R_DUP_CONNECTION, "duplicate connection", now);
	if (skewed(m, now))
		return disconnect(fo, l, DHCP_FO_R_TIME_MISMATCH, "time offset too large", now);
	established(fo, l, m, now);
	return 0;
}

int dhcp_fo_receive(struct dhcp_fo *fo, int link, const struct dhcp_fo_msg *m, int64_t now)
{
	struct link *l = link_of(fo, link);

	if (!l || l->closing)
		return CORE_ESTATE;
	l->last_rx = now;
	if (m->type == DHCP_FO_CONNECT)
		return on_connect(fo, l, m, now);
	if (m->type == DHCP_FO_CONNECTACK)
		return on_connectack(fo, l, m, now);
	if (m->type == DHCP_FO_DISCONNECT) {
		CLOG_RL(&fo->rl, now * 1000, CORE_LOG_WARN,
			"failover peer %s: peer disconnects: %s%s%.*s", fo->cfg->name,
			  dhcp_fo_has(m, DHCP_FO_REJECT_REASON) ? dhcp_fo_reject_name(m->reject_reason)
								 : "no reason",
			  m->message.len ? ": " : "", (int)m->message.len,
			  (const char *)m->message.p);
		close_link(fo, l, "peer disconnected");
		return CORE_ESTATE;
	}
	if (link != fo->link) {
		close_link(fo, l, "message before the handshake");
		return CORE_ESTATE;
	}
	switch (m->type) {
	case DHCP_FO_STATE:
		if (!dhcp_fo_has(m, DHCP_FO_SERVER_STATE)) {
			close_link(fo, l, "STATE without server-state");
			return CORE_EMALFORMED;
		}
		peer_state(fo, l, m, now);
		return 0;
	case DHCP_FO_UPDREQALL:
	case DHCP_FO_UPDREQ:
		if (fo->req_pending)
			CLOG_INFO("failover peer %s: update request replaces one still flying",
				  fo->cfg->name);
		fo->req_pending = true;
		fo->req_xid = m->xid;
		fo->ops->updates_requested(fo->ctx, m->type == DHCP_FO_UPDREQALL);
		return 0;
	case DHCP_FO_UPDDONE:
		update_done(fo, now);
		return 0;
	case DHCP_FO_CONTACT:
		return 0;
	default:
		return 1; /* BNDUPD, BNDACK, POOLREQ, POOLRESP: the binding layer's */
	}
}

int dhcp_fo_send(struct dhcp_fo *fo, struct dhcp_fo_msg *m, int64_t answer_xid, int64_t now)
{
	struct link *l = link_of(fo, fo->link);

	if (!l || l->closing)
		return CORE_ESTATE;
	send_msg(fo, l, m, answer_xid, now);
	return 0;
}

void dhcp_fo_updates_done(struct dhcp_fo *fo, int64_t now)
{
	if (!fo->req_pending)
		return;
	fo->req_pending = false;
	send_bare(fo, DHCP_FO_UPDDONE, fo->req_xid, now);
}

void dhcp_fo_link_up(struct dhcp_fo *fo, int link, int64_t now)
{
	struct link *l = NULL;

	for (int i = 0; i < DHCP_FO_LINKS_MAX && !l; i++)
		if (!fo->links[i].id)
			l = &fo->links[i];
	if (!l || link <= 0) {
		fo->ops->close(fo->ctx, link, "too many failover connections");
		return;
	}
	*l = (struct link){.id = link, .opened = now, .last_rx = now, .last_tx = now};
	/* Only the primary sends CONNECT, on every connection, accepted or opened. */
	if (primary(fo))
		send_connect(fo, l, now);
}

void dhcp_fo_link_down(struct dhcp_fo *fo, int link, int64_t now)
{
	struct link *l = link_of(fo, link);

	if (!l)
		return;
	l->id = 0;
	if (link != fo->link)
		return;
	fo->link = 0;
	fo->req_pending = false;
	CLOG_WARN("failover peer %s: link %d is down", fo->cfg->name, link);
	if (fo->state == DHCP_FO_S_STARTUP)
		fo->saved = disconnected(fo->saved);
	else
		set_state(fo, disconnected(fo->state), now);
}

static void leave_startup(struct dhcp_fo *fo, int64_t now)
{
	set_state(fo, disconnected(fo->saved), now);
}

void dhcp_fo_tick(struct dhcp_fo *fo, int64_t now)
{
	struct link *est = link_of(fo, fo->link);

	if (fo->state == DHCP_FO_S_STARTUP && now >= fo->started + DHCP_FO_STARTUP_S)
		leave_startup(fo, now);
	for (int i = 0; i < DHCP_FO_LINKS_MAX; i++) {
		struct link *l = &fo->links[i];

		if (l->id && l->id != fo->link && now >= l->opened + DHCP_FO_STARTUP_S)
			close_link(fo, l, "no CONNECT/CONNECTACK in time");
	}
	if (est && now - est->last_rx >= (int64_t)fo->cfg->max_response_delay) {
		close_link(fo, est, "nothing from the peer within max-response-delay");
		est = NULL;
	}
	if (est) {
		uint32_t every = fo->peer_receive_timer / 3;

		if (now - est->last_tx >= (int64_t)(every ? every : 1))
			send_bare(fo, DHCP_FO_CONTACT, -1, now);
	}
	if (fo->state == DHCP_FO_S_RECOVER_WAIT && now >= fo->recover_wait_until)
		set_state(fo, DHCP_FO_S_RECOVER_DONE, now);
	if (fo->state == DHCP_FO_S_COMMUNICATIONS_INTERRUPTED && fo->cfg->auto_partner_down &&
	    now >= fo->stos + (int64_t)fo->cfg->auto_partner_down)
		set_state(fo, DHCP_FO_S_PARTNER_DOWN, now);
}

int dhcp_fo_set_partner_down(struct dhcp_fo *fo, int64_t now)
{
	if (fo->link || fo->state == DHCP_FO_S_STARTUP || fo->state == DHCP_FO_S_SHUTDOWN ||
	    fo->state == DHCP_FO_S_PAUSED)
		return CORE_ESTATE;
	set_state(fo, DHCP_FO_S_PARTNER_DOWN, now);
	return 0;
}

bool dhcp_fo_shutdown(struct dhcp_fo *fo, int64_t now)
{
	if (fo->state != DHCP_FO_S_NORMAL)
		return false;
	set_state(fo, DHCP_FO_S_SHUTDOWN, now);
	return true;
}

bool dhcp_fo_shutdown_done(const struct dhcp_fo *fo)
{
	return fo->state != DHCP_FO_S_SHUTDOWN || fo->partner == DHCP_FO_S_PARTNER_DOWN;
}

void dhcp_fo_shutdown_finish(struct dhcp_fo *fo, bool pending, int64_t now)
{
	if (fo->state != DHCP_FO_S_SHUTDOWN)
		return;
	/* Not announced (ISC drops the link first): the partner learns it when we are back. */
	CLOG_NOTICE("failover peer %s: I move from %s to %s (shut down)", fo->cfg->name,
		    sname(fo->state), sname(DHCP_FO_S_RECOVER));
	/*
	 * The partner took over knowing everything we did (it is in partner-down and nothing
	 * was left to send): the restart need not wait MCLT in recover-wait, as ISC's.
	 */
	fo->stos = fo->partner == DHCP_FO_S_PARTNER_DOWN && !pending ? now - (int64_t)fo->mclt : now;
	fo->state = DHCP_FO_S_RECOVER;
	persist(fo);
}

struct dhcp_fo *dhcp_fo_create(const struct dhcp_failover_peer *cfg, const struct dhcp_fo_saved *saved,
			       const char *vendor, int64_t now, const struct dhcp_fo_ops *ops,
			       void *ctx)
{
	struct dhcp_fo *fo = calloc(1, sizeof(*fo));

	if (!fo)
		return NULL;
	fo->cfg = cfg;
	fo->ops = ops;
	fo->ctx = ctx;
	fo->vendor = vendor;
	fo->rl = (struct core_ratelimit)CORE_RATELIMIT_INIT(10000, 20);
	fo->state = DHCP_FO_S_STARTUP;
	fo->started = now;
	fo->saved = saved && saved->valid ? saved->my_state : DHCP_FO_S_RECOVER;
	fo->stos = saved && saved->valid ? saved->my_stos : now;
	fo->partner = saved && saved->valid ? saved->partner_state : DHCP_FO_S_UNKNOWN;
	fo->partner_stos = saved && saved->valid ? saved->partner_stos : now;
	fo->mclt = cfg->mclt;
	if (!primary(fo) && saved && saved->valid && saved->mclt)
		fo->mclt = saved->mclt;
	memcpy(fo->hba, cfg->hba, DHCP_FO_HBA_LEN);
	/* Stopped while starting up or shutting down: catch up from the partner. */
	if (fo->saved == DHCP_FO_S_STARTUP || fo->saved == DHCP_FO_S_SHUTDOWN)
		fo->saved = DHCP_FO_S_RECOVER;
	return fo;
}

void dhcp_fo_free(struct dhcp_fo *fo)
{
	free(fo);
}

uint8_t dhcp_fo_my_state(const struct dhcp_fo *fo)
{
	return fo->state;
}

uint8_t dhcp_fo_partner_state(const struct dhcp_fo *fo)
{
	return fo->partner;
}

int64_t dhcp_fo_my_stos(const struct dhcp_fo *fo)
{
	return fo->stos;
}

uint32_t dhcp_fo_mclt(const struct dhcp_fo *fo)
{
	return fo->mclt;
}

const uint8_t *dhcp_fo_hba(const struct dhcp_fo *fo)
{
	return fo->hba;
}

uint32_t dhcp_fo_peer_max_unacked(const struct dhcp_fo *fo)
{
	return fo->peer_max_unacked;
}

int dhcp_fo_link(const struct dhcp_fo *fo)
{
	return fo->link;
}

bool dhcp_fo_link_ready(const struct dhcp_fo *fo)
{
	for (int i = 0; fo->link > 0 && i < DHCP_FO_LINKS_MAX; i++) {
		const struct link *l = &fo->links[i];

		if (l->id == fo->link)
			return !l->closing && l->heard_state && !fo->partner_startup &&
			       fo->state != DHCP_FO_S_STARTUP;
	}
	return false;
}

enum dhcp_fo_service dhcp_fo_service(const struct dhcp_fo *fo)
{
	/* Nobody serves while the peer is sorting out a conflict or thinks we are down. */
	if (IN(fo->partner, DHCP_FO_S_PARTNER_DOWN, DHCP_FO_S_POTENTIAL_CONFLICT,
	       DHCP_FO_S_CONFLICT_DONE, DHCP_FO_S_RESOLUTION_INTERRUPTED) &&
	    fo->state != DHCP_FO_S_PARTNER_DOWN)
		return DHCP_FO_SERVE_NONE;
	switch (fo->state) {
	case DHCP_FO_S_NORMAL:
		return DHCP_FO_SERVE_COOPERATING;
	case DHCP_FO_S_COMMUNICATIONS_INTERRUPTED:
		return DHCP_FO_SERVE_ALONE;
	case DHCP_FO_S_PARTNER_DOWN:
		return DHCP_FO_SERVE_PARTNER_DOWN;
	default:
		return DHCP_FO_SERVE_NONE;
	}
}
