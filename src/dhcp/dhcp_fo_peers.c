/* SPDX-License-Identifier: MPL-2.0 */
/* The daemon's failover peers (see dhcp_fo_peers.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core_assert.h"
#include "core_log.h"
#include "dhcp_fo_link.h"
#include "dhcp_fo_peers.h"

#define VENDOR "paceless-" PACELESS_VERSION

struct peer {
	struct dhcp_fo_peers *owner;
	size_t index;
	const struct dhcp_failover_peer *cfg;
	struct dhcp_fo_link *link;
	uint64_t acks_sent;
};

/* A BNDACK waiting for the record of the update it acknowledges to be durable. */
struct pending_ack {
	uint64_t record;
	size_t peer;
	uint32_t addr, xid;
};

struct dhcp_fo_peers {
	struct dhcp_server *srv;
	struct dhcp_journal *journal;
	const struct dhcp_conf *conf;
	uv_check_t check;
	struct peer *peers;
	size_t n;
	struct pending_ack *acks; /* ring of acks_cap */
	size_t acks_head, acks_n, acks_cap;
	uint64_t acks_dropped, state_write_errors;
	struct core_ratelimit rl;
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

/* ---- callbacks of the links and the server ---- */

static void on_persist(void *ctx, const struct dhcp_fo_saved *s)
{
	struct peer *pe = ctx;
	struct dhcp_fo_state_rec r = {.my_state = s->my_state,
	                              .partner_state = s->partner_state,
	                              .my_stos = s->my_stos,
	                              .partner_stos = s->partner_stos,
	                              .mclt = s->mclt ? (int64_t)s->mclt : -1};
	int rc;

	snprintf(r.peer, sizeof(r.peer), "%s", pe->cfg->name);
	rc = dhcp_journal_write_fo(pe->owner->journal, &r);
	if (rc < 0) {
		/* The state goes on; the lease file may hold an older one after a crash, from
		 * which a restart resumes as ISC's would from a failed write. */
		pe->owner->state_write_errors++;
		CLOG_ERR("failover peer %s: cannot write state %s to the lease file: %s",
		         pe->cfg->name, dhcp_fo_state_name(s->my_state), core_strerror(rc));
	}
}

static void on_updates_requested(void *ctx, bool all)
{
	struct peer *pe = ctx;

	/* Only queued here; UPDDONE waits for the pump (not from inside the machine). */
	dhcp_server_fo_updates_requested(pe->owner->srv, pe->index, all);
}

static void on_bindings(void *ctx, const struct dhcp_fo_msg *m)
{
	struct peer *pe = ctx;

	dhcp_server_fo_bindings(pe->owner->srv, pe->index, m, now_s());
	/* The records of an applied BNDUPD go to the disk now; its BNDACK follows them. */
	(void)dhcp_journal_submit(pe->owner->journal);
}

static void on_ack(void *ctx, size_t peer, uint32_t addr, uint32_t xid)
{
	struct dhcp_fo_peers *p = ctx;
	struct pending_ack *a;

	if (p->acks_n == p->acks_cap) {
		/* The peer sent more than the max-unacked-updates we told it: it gets no ack
		 * and sends again after its next connection. */
		p->acks_dropped++;
		CLOG_RL(&p->rl, now_s() * 1000, CORE_LOG_WARN,
		        "failover peer %s: more unacked updates than max-unacked-updates %u; "
		        "ack dropped",
		        p->peers[peer].cfg->name, p->peers[peer].cfg->max_unacked_updates);
		return;
	}
	a = &p->acks[(p->acks_head + p->acks_n++) % p->acks_cap];
	*a = (struct pending_ack){
	    .record = dhcp_journal_added(p->journal), .peer = peer, .addr = addr, .xid = xid};
}

static const struct dhcp_server_fo_ops server_ops = {.ack = on_ack};

void dhcp_fo_peers_durable(struct dhcp_fo_peers *p, uint64_t durable)
{
	int64_t now = now_s();

	if (!p)
		return;
	while (p->acks_n) {
		struct pending_ack *a = &p->acks[p->acks_head];
		struct dhcp_fo_msg m = {.type = DHCP_FO_BNDACK,
		                        .assigned_ip = a->addr,
		                        .present = 1u << DHCP_FO_ASSIGNED_IP};

		if (a->record > durable)
			break;
		/* With the link gone meanwhile the ack is lost with it; the peer sends the
		 * update again (ISC requeues what was unacked). */
		if (dhcp_fo_send(dhcp_fo_link_machine(p->peers[a->peer].link), &m, a->xid, now) ==
		    0)
			p->peers[a->peer].acks_sent++;
		p->acks_head = (p->acks_head + 1) % p->acks_cap;
		p->acks_n--;
	}
}

/* After every loop iteration: BNDUPDs of what is durable, UPDDONE, pool balancing. */
static void on_check(uv_check_t *h)
{
	struct dhcp_fo_peers *p = h->data;

	dhcp_server_fo_pump(p->srv, now_s(), dhcp_journal_durable(p->journal));
	/* What the pump changed (pool balancing, acked expiries) goes to the disk now. */
	(void)dhcp_journal_submit(p->journal);
}

/* ---- start and stop ---- */

static void saved_state(const struct dhcp_leasestore *store, const char *name,
                        struct dhcp_fo_saved *out)
{
	const struct dhcp_fo_state_rec *recs;
	size_t n = dhcp_leasestore_fo_states(store, &recs);

	*out = (struct dhcp_fo_saved){.valid = false};
	for (size_t i = 0; i < n; i++) {
		const struct dhcp_fo_state_rec *r = &recs[i];

		if (strcmp(r->peer, name))
			continue;
		*out = (struct dhcp_fo_saved){
		    .valid = true,
		    .my_state = r->my_state,
		    .partner_state = r->partner_state,
		    .my_stos = r->my_stos == DHCP_TIME_NONE ? 0 : r->my_stos,
		    .partner_stos = r->partner_stos == DHCP_TIME_NONE ? 0 : r->partner_stos,
		    .mclt = r->mclt > 0 ? (uint32_t)r->mclt : 0};
	}
}

static void free_peers(struct dhcp_fo_peers *p)
{
	free(p->peers);
	free(p->acks);
	free(p);
}

static void on_check_closed(uv_handle_t *h)
{
	free_peers(h->data);
}

static int start_links(struct dhcp_fo_peers *p, uv_loop_t *loop,
                       const struct dhcp_leasestore *store)
{
	for (size_t i = 0; i < p->n; i++) {
		struct peer *pe = &p->peers[i];
		struct dhcp_fo_link_cbs cbs = {.persist = on_persist,
		                               .updates_requested = on_updates_requested,
		                               .bindings = on_bindings,
		                               .ctx = pe};
		struct dhcp_fo_saved saved;
		int rc;

		saved_state(store, pe->cfg->name, &saved);
		rc = dhcp_fo_link_start(loop, pe->cfg, &saved, VENDOR, &cbs, &pe->link);
		if (rc < 0) {
			CLOG_ERR("failover peer %s: cannot listen on port %u: %s", pe->cfg->name,
			         pe->cfg->port, core_strerror(rc));
			return rc;
		}
		dhcp_server_fo_attach(p->srv, i, dhcp_fo_link_machine(pe->link));
		CLOG_INFO("failover peer %s: %s, starting from %s", pe->cfg->name,
		          pe->cfg->role == DHCP_FO_PRIMARY ? "primary" : "secondary",
		          saved.valid ? dhcp_fo_state_name(saved.my_state) : "no state (recover)");
	}
	return 0;
}

int dhcp_fo_peers_start(uv_loop_t *loop, const struct dhcp_conf *conf, struct dhcp_server *srv,
                        struct dhcp_journal *journal, const struct dhcp_leasestore *store,
                        struct dhcp_fo_peers **out)
{
	struct dhcp_fo_peers *p;
	int rc;

	*out = NULL;
	if (!conf->failover_peers_n)
		return 0;
	if (conf->failover_peers_n > DHCP_FO_PEERS_MAX)
		return CORE_EUNSUPP; /* dhcp_fo_peers_check_conf said so already */
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->srv = srv;
	p->journal = journal;
	p->conf = conf;
	p->n = conf->failover_peers_n;
	p->rl = (struct core_ratelimit)CORE_RATELIMIT_INIT(1000, 10);
	p->peers = calloc(p->n, sizeof(*p->peers));
	for (size_t i = 0; i < p->n; i++)
		p->acks_cap += conf->failover_peers[i]->max_unacked_updates + 1;
	p->acks = calloc(p->acks_cap, sizeof(*p->acks));
	if (!p->peers || !p->acks) {
		free_peers(p);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->n; i++)
		p->peers[i] = (struct peer){.owner = p, .index = i, .cfg = conf->failover_peers[i]};
	dhcp_server_fo_set_ops(srv, &server_ops, p);
	uv_check_init(loop, &p->check);
	p->check.data = p;
	uv_check_start(&p->check, on_check);
	*out = p;
	rc = start_links(p, loop, store);
	if (rc < 0)
		dhcp_fo_peers_stop(p); /* the caller stops the loop; *out stays for its stop */
	return rc;
}

void dhcp_fo_peers_stop(struct dhcp_fo_peers *p)
{
	if (!p || uv_is_closing((uv_handle_t *)&p->check))
		return;
	for (size_t i = 0; i < p->n; i++) {
		dhcp_server_fo_attach(p->srv, i, NULL);
		if (p->peers[i].link)
			dhcp_fo_link_stop(p->peers[i].link);
		p->peers[i].link = NULL;
	}
	dhcp_server_fo_set_ops(p->srv, NULL, NULL);
	uv_close((uv_handle_t *)&p->check, on_check_closed);
}

/* ---- graceful shut-down ---- */

size_t dhcp_fo_peers_shutdown(struct dhcp_fo_peers *p)
{
	size_t n = 0;

	for (size_t i = 0; p && i < p->n; i++)
		n += dhcp_fo_shutdown(dhcp_fo_link_machine(p->peers[i].link), now_s());
	return n;
}

bool dhcp_fo_peers_shutdown_done(const struct dhcp_fo_peers *p)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (!dhcp_fo_shutdown_done(dhcp_fo_link_machine(p->peers[i].link)))
			return false;
	return true;
}

void dhcp_fo_peers_shutdown_finish(struct dhcp_fo_peers *p)
{
	for (size_t i = 0; p && i < p->n; i++) {
		struct dhcp_server_fo_stats st;

		dhcp_server_fo_stats(p->srv, i, &st);
		dhcp_fo_shutdown_finish(dhcp_fo_link_machine(p->peers[i].link),
		                        st.queued || st.in_flight, now_s());
	}
}

/* ---- reload ---- */

static bool same_decl(const struct dhcp_failover_peer *a, const struct dhcp_failover_peer *b)
{
	return !strcmp(a->name, b->name) && a->role == b->role && a->address == b->address &&
	       a->peer_address == b->peer_address && a->port == b->port &&
	       a->peer_port == b->peer_port && a->max_response_delay == b->max_response_delay &&
	       a->max_unacked_updates == b->max_unacked_updates && a->mclt == b->mclt &&
	       a->load_balance_max_secs == b->load_balance_max_secs &&
	       a->auto_partner_down == b->auto_partner_down &&
	       a->max_lease_misbalance == b->max_lease_misbalance &&
	       a->max_lease_ownership == b->max_lease_ownership &&
	       a->min_balance == b->min_balance && a->max_balance == b->max_balance &&
	       a->has_hba == b->has_hba && !memcmp(a->hba, b->hba, sizeof(a->hba));
}

int dhcp_fo_peers_check_reload(const struct dhcp_fo_peers *p, const struct dhcp_conf *conf,
                               char *err, size_t errlen)
{
	size_t n = p ? p->n : 0;

	if (conf->failover_peers_n != n) {
		snprintf(err, errlen,
		         "the failover peers changed (%zu declared, %zu running): "
		         "restart paceless-dhcpd to apply that",
		         conf->failover_peers_n, n);
		return CORE_EUNSUPP;
	}
	for (size_t i = 0; i < n; i++) {
		const struct dhcp_failover_peer *c = conf->failover_peers[i];

		if (!same_decl(p->peers[i].cfg, c)) {
			snprintf(err, errlen,
			         "%s:%u:%u: failover peer \"%s\" changed: restart "
			         "paceless-dhcpd to apply that",
			         c->file, c->line, c->col, c->name);
			return CORE_EUNSUPP;
		}
	}
	return 0;
}

/* ---- control commands ---- */

static const char *service_name(enum dhcp_fo_service s)
{
	switch (s) {
	case DHCP_FO_SERVE_COOPERATING:
		return "cooperating";
	case DHCP_FO_SERVE_ALONE:
		return "alone";
	case DHCP_FO_SERVE_PARTNER_DOWN:
		return "partner-down";
	default:
		return "none";
	}
}

static json_t *peer_json(struct dhcp_fo_peers *p, size_t i)
{
	struct dhcp_server_fo_stats st;
	struct dhcp_fo_link_counters lc;
	struct dhcp_fo *fo = dhcp_fo_link_machine(p->peers[i].link);
	json_t *o = json_object();

	dhcp_server_fo_stats(p->srv, i, &st);
	dhcp_fo_link_counters(p->peers[i].link, &lc);
	json_object_set_new(o, "name", json_string(st.cfg->name));
	json_object_set_new(o, "role",
	                    json_string(st.cfg->role == DHCP_FO_PRIMARY ? "primary" : "secondary"));
	json_object_set_new(o, "my_state", json_string(dhcp_fo_state_name(dhcp_fo_my_state(fo))));
	json_object_set_new(o, "partner_state",
	                    json_string(dhcp_fo_state_name(dhcp_fo_partner_state(fo))));
	json_object_set_new(o, "my_stos", json_integer(dhcp_fo_my_stos(fo)));
	json_object_set_new(o, "link", json_boolean(dhcp_fo_link(fo) != 0));
	json_object_set_new(o, "mclt", json_integer(dhcp_fo_mclt(fo)));
	json_object_set_new(o, "service", json_string(service_name(dhcp_fo_service(fo))));
	json_object_set_new(o, "updates_queued", json_integer((json_int_t)st.queued));
	json_object_set_new(o, "updates_in_flight", json_integer((json_int_t)st.in_flight));
	json_object_set_new(o, "bndupd_sent", json_integer((json_int_t)st.ctr.bndupd_sent));
	json_object_set_new(o, "bndupd_received", json_integer((json_int_t)st.ctr.bndupd_received));
	json_object_set_new(o, "bndack_sent", json_integer((json_int_t)p->peers[i].acks_sent));
	json_object_set_new(o, "bndack_received", json_integer((json_int_t)st.ctr.bndack_received));
	json_object_set_new(o, "rejects_sent", json_integer((json_int_t)st.ctr.rejects_sent));
	json_object_set_new(o, "rejects_received",
	                    json_integer((json_int_t)st.ctr.rejects_received));
	json_object_set_new(o, "leases_balanced", json_integer((json_int_t)st.ctr.leases_balanced));
	json_object_set_new(o, "poolreq_sent", json_integer((json_int_t)st.ctr.poolreq_sent));
	json_object_set_new(o, "poolreq_received", json_integer((json_int_t)st.ctr.poolreq_received));
	json_object_set_new(o, "peer_dry_answered",
	                    json_integer((json_int_t)st.ctr.peer_dry_answered));
	json_object_set_new(o, "connects", json_integer((json_int_t)lc.connects));
	json_object_set_new(o, "accepted", json_integer((json_int_t)lc.accepted));
	json_object_set_new(o, "refused_address", json_integer((json_int_t)lc.refused_address));
	json_object_set_new(o, "malformed", json_integer((json_int_t)lc.malformed));
	json_object_set_new(o, "acks_dropped", json_integer((json_int_t)p->acks_dropped));
	json_object_set_new(o, "state_write_errors",
	                    json_integer((json_int_t)p->state_write_errors));
	return o;
}

static json_t *cmd_state(void *ctx, json_t *args, char *err, size_t errlen)
{
	struct dhcp_fo_peers *p = ctx;
	json_t *o = json_object(), *list = json_array();

	(void)args;
	(void)err;
	(void)errlen;
	for (size_t i = 0; p && i < p->n; i++)
		json_array_append_new(list, peer_json(p, i));
	json_object_set_new(o, "peers", list);
	return o;
}

static json_t *cmd_partner_down(void *ctx, json_t *args, char *err, size_t errlen)
{
	struct dhcp_fo_peers *p = ctx;
	const char *name = json_string_value(json_object_get(args, "peer"));
	struct dhcp_fo *fo;

	for (size_t i = 0; p && i < p->n; i++) {
		if (name && strcmp(name, p->peers[i].cfg->name))
			continue;
		if (!name && p->n > 1) {
			snprintf(err, errlen, "more than one failover peer: say which (peer=NAME)");
			return NULL;
		}
		fo = dhcp_fo_link_machine(p->peers[i].link);
		if (dhcp_fo_set_partner_down(fo, now_s()) < 0) {
			snprintf(err, errlen,
			         "failover peer %s is %s: partner-down is for a peer "
			         "that is out of touch",
			         p->peers[i].cfg->name, dhcp_fo_state_name(dhcp_fo_my_state(fo)));
			return NULL;
		}
		CLOG_NOTICE("failover peer %s: partner-down set by the operator",
		            p->peers[i].cfg->name);
		return peer_json(p, i);
	}
	snprintf(err, errlen, name ? "no failover peer \"%s\"" : "no failover peer%s",
	         name ? name : "");
	return NULL;
}

int dhcp_fo_peers_register(struct dhcp_fo_peers *p, struct core_ctl *ctl)
{
	if (core_ctl_register(ctl, "failover-state",
	                      "every failover peer: our state, the partner's, queues and counters",
	                      cmd_state, p) < 0 ||
	    core_ctl_register(ctl, "failover-partner-down",
	                      "the partner is down (as omshell's partner-down): [peer=NAME]",
	                      cmd_partner_down, p) < 0)
		return -ENOMEM;
	return 0;
}
