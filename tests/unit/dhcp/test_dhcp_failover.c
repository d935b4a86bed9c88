/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Two failover state machines wired together through the real codec: the handshake, the
 * recovery of a new pair, losing the link, partner-down, a server coming back, keep-alives,
 * and the CONNECT refusals ISC makes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dhcp_failover.h"
#include "dhcp_fo_hash.h"

#define INBOX_MAX 64
#define T0 1795600000

struct node {
	const char *who;
	struct dhcp_failover_peer cfg;
	struct dhcp_fo *fo;
	struct node *other;
	bool wire_up;            /* the TCP connection exists */
	bool closing;            /* this side asked to close it */
	uint8_t inbox[INBOX_MAX][DHCP_FO_MSG_MAX];
	size_t inbox_len[INBOX_MAX], inbox_n;
	unsigned sent[DHCP_FO_TYPE_MAX + 1];
	struct dhcp_fo_msg last_sent[DHCP_FO_TYPE_MAX + 1];
	struct dhcp_fo_saved saved; /* what the lease file holds */
	unsigned persists, requests, requests_all;
	bool answer_requests; /* the binding layer answers at once (nothing to send) */
};

static int64_t now = T0;

static void on_send(void *ctx, int link, struct dhcp_fo_msg *m)
{
	struct node *n = ctx;
	struct node *o = n->other;
	int len;

	assert_in_range(link, 1, 2);
	n->sent[m->type]++;
	n->last_sent[m->type] = *m;
	if (!n->wire_up || n->closing)
		return;
	assert_true(o->inbox_n < INBOX_MAX);
	len = dhcp_fo_encode(m, o->inbox[o->inbox_n], DHCP_FO_MSG_MAX);
	assert_true(len >= DHCP_FO_HDR_LEN);
	o->inbox_len[o->inbox_n++] = (size_t)len;
}

static void on_close(void *ctx, int link, const char *why)
{
	struct node *n = ctx;

	(void)why;
	assert_in_range(link, 1, 2);
	if (link == 1)
		n->closing = true;
}

static void on_persist(void *ctx, const struct dhcp_fo_saved *s)
{
	struct node *n = ctx;

	n->saved = *s;
	n->persists++;
}

static void on_requested(void *ctx, bool all)
{
	struct node *n = ctx;

	n->requests++;
	n->requests_all += all;
}

static const struct dhcp_fo_ops ops = {
    .send = on_send, .close = on_close, .persist = on_persist, .updates_requested = on_requested};

static void peer_cfg(struct dhcp_failover_peer *c, enum dhcp_fo_role role)
{
	memset(c, 0, sizeof(*c));
	c->name = "anchor-fo";
	c->role = role;
	c->address = role == DHCP_FO_PRIMARY ? 0xc0000201 : 0xc0000202;
	c->peer_address = role == DHCP_FO_PRIMARY ? 0xc0000202 : 0xc0000201;
	c->port = c->peer_port = 647;
	c->max_response_delay = 30;
	c->max_unacked_updates = 10;
	c->max_lease_misbalance = 15;
	c->max_lease_ownership = 10;
	if (role == DHCP_FO_PRIMARY) {
		c->mclt = 1800;
		c->has_hba = true;
		dhcp_fo_hba_split(c->hba, 128);
	}
}

static void start(struct node *n, const char *who, enum dhcp_fo_role role,
		  const struct dhcp_fo_saved *saved)
{
	struct node *o = n->other;

	memset(n, 0, sizeof(*n));
	n->other = o;
	n->who = who;
	n->answer_requests = true;
	peer_cfg(&n->cfg, role);
	n->fo = dhcp_fo_create(&n->cfg, saved, "paceless-test", now, &ops, n);
	assert_non_null(n->fo);
}

static void pair(struct node *p, struct node *s)
{
	p->other = s;
	s->other = p;
	start(p, "primary", DHCP_FO_PRIMARY, NULL);
	start(s, "secondary", DHCP_FO_SECONDARY, NULL);
}

/* TCP comes up between them: each side sees a link. */
static void connect_wire(struct node *a, struct node *b)
{
	a->wire_up = b->wire_up = true;
	a->closing = b->closing = false;
	dhcp_fo_link_up(a->fo, 1, now);
	dhcp_fo_link_up(b->fo, 1, now);
}

/* The connection goes away (a close, a kill): both sides learn it. */
static void cut_wire(struct node *a, struct node *b)
{
	a->wire_up = b->wire_up = false;
	a->inbox_n = b->inbox_n = 0;
	dhcp_fo_link_down(a->fo, 1, now);
	dhcp_fo_link_down(b->fo, 1, now);
}

/* Delivers messages both ways until nothing moves; a requested close cuts the wire. */
static void run(struct node *a, struct node *b)
{
	for (int round = 0; round < 1000; round++) {
		bool moved = false;

		for (int side = 0; side < 2; side++) {
			struct node *n = side ? b : a;

			while (n->inbox_n && n->wire_up) {
				static uint8_t frame[DHCP_FO_MSG_MAX];
				struct dhcp_fo_msg m;
				const char *err;

				/* Byte strings point into the frame: keep it while it is handled. */
				memcpy(frame, n->inbox[0], n->inbox_len[0]);
				assert_int_equal(dhcp_fo_decode(frame, n->inbox_len[0], &m, &err), 0);
				memmove(n->inbox[0], n->inbox[1], (n->inbox_n - 1) * sizeof(n->inbox[0]));
				memmove(n->inbox_len, n->inbox_len + 1,
					(n->inbox_n - 1) * sizeof(n->inbox_len[0]));
				n->inbox_n--;
				(void)dhcp_fo_receive(n->fo, 1, &m, now);
				if (n->requests && n->answer_requests) {
					n->requests = 0;
					dhcp_fo_updates_done(n->fo, now);
				}
				moved = true;
			}
		}
		if ((a->closing || b->closing) && a->wire_up)
			cut_wire(a, b);
		if (!moved)
			return;
	}
	fail_msg("messages never stopped");
}

static void tick(struct node *a, struct node *b, int64_t seconds)
{
	for (int64_t i = 0; i < seconds; i++) {
		now++;
		dhcp_fo_tick(a->fo, now);
		dhcp_fo_tick(b->fo, now);
		run(a, b);
	}
}

static void finish(struct node *a, struct node *b)
{
	dhcp_fo_free(a->fo);
	dhcp_fo_free(b->fo);
}

/* The capture's sequence: two new servers reach normal without waiting MCLT. */
static void test_new_pair_reaches_normal(void **state)
{
	static struct node p, s;

	(void)state;
	pair(&p, &s);
	assert_int_equal(dhcp_fo_my_state(p.fo), DHCP_FO_S_STARTUP);
	assert_int_equal(dhcp_fo_service(p.fo), DHCP_FO_SERVE_NONE);
	connect_wire(&p, &s);
	run(&p, &s);
	assert_int_equal(dhcp_fo_my_state(p.fo), DHCP_FO_S_NORMAL);
	assert_int_equal(dhcp_fo_my_state(s.fo), DHCP_FO_S_NORMAL);
	assert_int_equal(dhcp_fo_partner_state(p.fo), DHCP_FO_S_NORMAL);
	assert_int_equal(dhcp_fo_service(s.fo), DHCP_FO_SERVE_COOPERATING);
	/* Only the primary sends CONNECT; the secondary adopts its MCLT and HBA. */
	assert_int_equal(p.sent[DHCP_FO_CONNECT], 1);
	assert_int_equal(s.sent[DHCP_FO_CONNECT], 0);
	assert_int_equal(s.sent[DHCP_FO_CONNECTACK], 1);
	assert_int_equal(dhcp_fo_mclt(s.fo), 1800);
	assert_memory_equal(dhcp_fo_hba(s.fo), p.cfg.hba, DHCP_FO_HBA_LEN);
	assert_int_equal(dhcp_fo_peer_max_unacked(p.fo), 10);
	/* Two UPDREQALLs each way, as ISC; one UPDDONE each. */
	assert_int_equal(p.sent[DHCP_FO_UPDREQALL], 2);
	assert_int_equal(s.sent[DHCP_FO_UPDREQALL], 2);
	assert_true(p.sent[DHCP_FO_UPDDONE] >= 1); /* one per request answered */
	assert_true(s.sent[DHCP_FO_UPDDONE] >= 1);
	assert_true(p.requests_all >= 1);
	/* The secondary writes the MCLT in its state record, the primary does not. */
	assert_int_equal(s.saved.my_state, DHCP_FO_S_NORMAL);
	assert_int_equal(s.saved.mclt, 1800);
	assert_int_equal(p.saved.mclt, 0);
	assert_int_equal(p.saved.partner_state, DHCP_FO_S_NORMAL);
	finish(&p, &s);
}

/* Losing the link, partner-down by the operator, and the partner coming back. */
static void test_partner_down_and_return(void **state)
{
	static struct node p, s;
	struct dhcp_fo_saved kept;
	int64_t boot;

	(void)state;
	pair(&p, &s);
	connect_wire(&p, &s);
	run(&p, &s);
	kept = s.saved; /* the secondary's lease file when it is killed */
	cut_wire(&p, &s);
	assert_int_equal(dhcp_fo_my_state(p.fo), DHCP_FO_S_COMMUNICATIONS_INTERRUPTED);
	assert_int_equal(dhcp_fo_service(p.fo), DHCP_FO_SERVE_ALONE);
	tick(&p, &s, 100); /* no auto-partner-down: it stays */
	assert_int_equal(dhcp_fo_my_state(p.fo), DHCP_FO_S_COMMUNICATIONS_INTERRUPTED);
	assert_int_equal(dhcp_fo_set_partner_down(p.fo, now), 0);
	assert_int_equal(dhcp_fo_my_state(p.fo), DHCP_FO_S_PARTNER_DOWN);
	assert_int_equal(dhcp_fo_service(p.fo), DHCP_FO_SERVE_PARTNER_DOWN);
	assert_int_equal(p.saved.my_state, DHCP_FO_S_PARTNER_DOWN);

	/* The secondary restarts with its lease file (normal) and finds the primary in
	 * partner-down: it recovers all bindings (UPDREQALL) and, as ISC, waits until MCLT
	 * after its last recorded state change (STOS is kept when leaving STARTUP) before
	 * both return to normal. */
	dhcp_fo_free(s.fo);
	start(&s, "secondary", DHCP_FO_SECONDARY, &kept);
	connect_wire(&p, &s);
	run(&p, &s);
	assert_true(s.sent[DHCP_FO_UPDREQALL] >= 1);
	assert_int_equal(dhcp_fo_my_state(s.fo), DHCP_FO_S_RECOVER_WAIT);
	assert_int_equal(dhcp_fo_my_stos(s.fo), kept.my_stos);
	tick(&p, &s, kept.my_stos + 1800 - now);
	assert_int_equal(dhcp_fo_my_state(s.fo), DHCP_FO_S_NORMAL);
	assert_int_equal(dhcp_fo_my_state(p.fo), DHCP_FO_S_NORMAL);
	/* The partner is plainly up: partner-down is refused while the link is. */
	assert_int_equal(dhcp_fo_set_partner_down(p.fo, now), CORE_ESTATE);

	/* Again, but the secondary comes back with an empty lease file: it must not serve
	 * before MCLT has passed since it booted (it may have granted leases it forgot). */
	cut_wire(&p, &s);
	assert_int_equal(dhcp_fo_set_partner_down(p.fo, now), 0);
	dhcp_fo_free(s.fo);
	boot = now;
	start(&s, "secondary", DHCP_FO_SECONDARY, NULL);
	connect_wire(&p, &s);
	run(&p, &s);
	assert_int_equal(dhcp_fo_my_state(s.fo), DHCP_FO_S_RECOVER_WAIT);
	assert_int_equal(dhcp_fo_service(s.fo), DHCP_FO_SERVE_NONE);
	assert_int_equal(dhcp_fo_my_state(p.fo), DHCP_FO_S_PARTNER_DOWN);
	tick(&p, &s, boot + 1799 - now);
	assert_int_equal(dhcp_fo_my_state(s.fo), DHCP_FO_S_RECOVER_WAIT);
	tick(&p, &s, 2);
	assert_int_equal(dhcp_fo_my_state(s.fo), DHCP_FO_S_NORMAL);
	assert_int_equal(dhcp_fo_my_state(p.fo), DHCP_FO_S_NORMAL);
	finish(&p, &s);
}

static void test_auto_partner_down(void **state)
{
	static struct node p, s;

	(void)state;
	pair(&p, &s);
	p.cfg.auto_partner_down = 60;
	connect_wire(&p, &s);
	run(&p, &s);
	cut_wire(&p, &s);
	tick(&p, &s, 59);
	assert_int_equal(dhcp_fo_my_state(p.fo), DHCP_FO_S_COMMUNICATIONS_INTERRUPTED);
	tick(&p, &s, 1);
	assert_int_equal(dhcp_fo_my_state(p.fo), DHCP_FO_S_PARTNER_DOWN);
	finish(&p, &s);
}

/* A server restarted without its partner leaves STARTUP after 15 s by the disconnect rule. */
static void test_startup_timeout(void **state)
{
	static struct node p, s;
	struct dhcp_fo_saved was = {.valid = true,
				    .my_state = DHCP_FO_S_NORMAL,
				    .my_stos = T0 - 1000,
				    .partner_state = DHCP_FO_S_NORMAL,
				    .partner_stos = T0 - 1000};

	(void)state;
	p.other = &s;
	s.other = &p;
	start(&p, "primary", DHCP_FO_PRIMARY, &was);
	start(&s, "secondary", DHCP_FO_SECONDARY, NULL);
	tick(&p, &s, 14);
	assert_int_equal(dhcp_fo_my_state(p.fo), DHCP_FO_S_STARTUP);
	assert_int_equal(dhcp_fo_service(p.fo), DHCP_FO_SERVE_NONE);
	tick(&p, &s, 1);
	assert_int_equal(dhcp_fo_my_state(p.fo), DHCP_FO_S_COMMUNICATIONS_INTERRUPTED);
	assert_int_equal(dhcp_fo_my_state(s.fo), DHCP_FO_S_RECOVER); /* new: recover */
	finish(&p, &s);
}

/* CONTACT every receive-timer / 3; a peer silent for max-response-delay is cut off. */
static void test_keepalive_and_silence(void **state)
{
	static struct node p, s;
	unsigned contacts;

	(void)state;
	pair(&p, &s);
	connect_wire(&p, &s);
	run(&p, &s);
	tick(&p, &s, 25);
	contacts = p.sent[DHCP_FO_CONTACT];
	assert_in_range(contacts, 2, 3); /* receive-timer 30: every 10 s */
	assert_int_equal(dhcp_fo_my_state(p.fo), DHCP_FO_S_NORMAL);
	/* The secondary freezes (SIGSTOP): it sends nothing any more. */
	s.wire_up = false;
	p.wire_up = true;
	for (int i = 0; i < 31 && dhcp_fo_link(p.fo); i++) {
		now++;
		dhcp_fo_tick(p.fo, now);
		if (p.closing) {
			p.wire_up = false;
			dhcp_fo_link_down(p.fo, 1, now);
		}
	}
	assert_int_equal(dhcp_fo_link(p.fo), 0);
	assert_int_equal(dhcp_fo_my_state(p.fo), DHCP_FO_S_COMMUNICATIONS_INTERRUPTED);
	finish(&p, &s);
}

/* A CONNECT the secondary refuses gets CONNECTACK with ISC's reason, then the link closes. */
static void refused(void (*spoil)(struct node *), uint8_t reason)
{
	static struct node p, s;

	pair(&p, &s);
	spoil(&p);
	connect_wire(&p, &s);
	run(&p, &s);
	assert_int_equal(s.sent[DHCP_FO_CONNECTACK], 1);
	assert_int_equal(s.last_sent[DHCP_FO_CONNECTACK].reject_reason, reason);
	assert_int_equal(dhcp_fo_link(s.fo), 0);
	assert_int_equal(dhcp_fo_link(p.fo), 0);
	assert_false(p.wire_up);
	finish(&p, &s);
}

static void wrong_name(struct node *p)
{
	p->cfg.name = "other-fo";
}

static void both_primary(struct node *p)
{
	peer_cfg(&p->other->cfg, DHCP_FO_PRIMARY);
}

static void test_connect_refusals(void **state)
{
	(void)state;
	refused(wrong_name, DHCP_FO_R_INVALID_PARTNER);
	refused(both_primary, DHCP_FO_R_INVALID_PARTNER);
}

/* The skew check uses the sender's header time against the receiver's clock. */
static void test_time_skew(void **state)
{
	static struct node p, s;
	struct dhcp_fo_msg c;
	uint8_t buf[DHCP_FO_MSG_MAX];
	const char *err;
	int n;

	(void)state;
	pair(&p, &s);
	connect_wire(&p, &s);
	/* Take the CONNECT off the wire and age it by two minutes. */
	assert_int_equal(s.inbox_n, 1);
	assert_int_equal(dhcp_fo_decode(s.inbox[0], s.inbox_len[0], &c, &err), 0);
	s.inbox_n = 0;
	c.time -= 120;
	n = dhcp_fo_encode(&c, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(dhcp_fo_decode(buf, (size_t)n, &c, &err), 0);
	assert_int_equal(dhcp_fo_receive(s.fo, 1, &c, now), CORE_ESTATE);
	assert_int_equal(s.last_sent[DHCP_FO_CONNECTACK].reject_reason, DHCP_FO_R_TIME_MISMATCH);
	finish(&p, &s);
}

/* A second connection after the handshake is a duplicate: refused, the first one stays. */
static void test_duplicate_link(void **state)
{
	static struct node p, s;
	struct dhcp_fo_msg c = {0};

	(void)state;
	pair(&p, &s);
	connect_wire(&p, &s);
	run(&p, &s);
	c = p.last_sent[DHCP_FO_CONNECT];
	dhcp_fo_link_up(s.fo, 2, now);
	c.time = (uint32_t)now;
	s.wire_up = false; /* keep the refusal off the first link's wire */
	assert_int_equal(dhcp_fo_receive(s.fo, 2, &c, now), CORE_ESTATE);
	assert_int_equal(s.last_sent[DHCP_FO_CONNECTACK].reject_reason, DHCP_FO_R_DUP_CONNECTION);
	assert_int_equal(dhcp_fo_link(s.fo), 1);
	finish(&p, &s);
}

/*
 * A graceful shut-down (omshell's): the primary tells the secondary, which takes over in
 * partner-down at once; the primary records recover and, as nothing was pending, comes back
 * without waiting MCLT in recover-wait. A shut-down cut short resumes as recover.
 */
static void test_graceful_shutdown(void **state)
{
	static struct node p, s;
	struct dhcp_fo_saved kept;

	(void)state;
	pair(&p, &s);
	connect_wire(&p, &s);
	run(&p, &s);
	tick(&p, &s, 5);
	assert_true(dhcp_fo_shutdown_done(p.fo)); /* nothing asked yet */
	assert_true(dhcp_fo_shutdown(p.fo, now));
	assert_int_equal(dhcp_fo_my_state(p.fo), DHCP_FO_S_SHUTDOWN);
	assert_int_equal(dhcp_fo_service(p.fo), DHCP_FO_SERVE_NONE);
	assert_false(dhcp_fo_shutdown_done(p.fo));
	assert_false(dhcp_fo_shutdown(p.fo, now)); /* only from normal */
	run(&p, &s);
	assert_int_equal(dhcp_fo_my_state(s.fo), DHCP_FO_S_PARTNER_DOWN);
	assert_int_equal(dhcp_fo_service(s.fo), DHCP_FO_SERVE_PARTNER_DOWN);
	assert_true(dhcp_fo_shutdown_done(p.fo));
	dhcp_fo_shutdown_finish(p.fo, false, now);
	assert_int_equal(p.saved.my_state, DHCP_FO_S_RECOVER);
	assert_int_equal(p.saved.my_stos, now - 1800);
	kept = p.saved;
	cut_wire(&p, &s);
	assert_int_equal(dhcp_fo_my_state(s.fo), DHCP_FO_S_PARTNER_DOWN);

	/* Back a minute later: recover, UPDREQALL, then normal without recover-wait. */
	tick(&p, &s, 60);
	dhcp_fo_free(p.fo);
	start(&p, "primary", DHCP_FO_PRIMARY, &kept);
	connect_wire(&p, &s);
	run(&p, &s);
	assert_true(p.sent[DHCP_FO_UPDREQALL] >= 1);
	assert_int_equal(dhcp_fo_my_state(p.fo), DHCP_FO_S_NORMAL);
	assert_int_equal(dhcp_fo_my_state(s.fo), DHCP_FO_S_NORMAL);

	/* With updates of ours still pending the restart must wait MCLT: recover-wait. */
	tick(&p, &s, 5);
	assert_true(dhcp_fo_shutdown(p.fo, now));
	run(&p, &s);
	dhcp_fo_shutdown_finish(p.fo, true, now);
	assert_int_equal(p.saved.my_stos, now);
	kept = p.saved;
	cut_wire(&p, &s);
	dhcp_fo_free(p.fo);
	start(&p, "primary", DHCP_FO_PRIMARY, &kept);
	connect_wire(&p, &s);
	run(&p, &s);
	assert_int_equal(dhcp_fo_my_state(p.fo), DHCP_FO_S_RECOVER_WAIT);
	assert_int_equal(dhcp_fo_service(p.fo), DHCP_FO_SERVE_NONE);

	/* A lease file that says shutdown (stopped half-way) resumes as recover. */
	kept.my_state = DHCP_FO_S_SHUTDOWN;
	cut_wire(&p, &s);
	dhcp_fo_free(p.fo);
	start(&p, "primary", DHCP_FO_PRIMARY, &kept);
	tick(&p, &s, DHCP_FO_STARTUP_S);
	assert_int_equal(dhcp_fo_my_state(p.fo), DHCP_FO_S_RECOVER);
	finish(&p, &s);
}

/*
 * Both sides declared partner-down while apart (the operator's mistake, or auto-partner-down
 * on both): when they meet again they are in potential-conflict and serve nobody; the
 * primary asks for the secondary's unacked updates (UPDREQ), moves to conflict-done on
 * UPDDONE, the secondary asks back, and both end normal. A link lost in the middle leaves
 * resolution-interrupted, which resumes as potential-conflict.
 */
static void test_potential_conflict(void **state)
{
	static struct node p, s;
	unsigned all_p, all_s;

	(void)state;
	pair(&p, &s);
	connect_wire(&p, &s);
	run(&p, &s);
	all_p = p.requests_all;
	all_s = s.requests_all;
	cut_wire(&p, &s);
	assert_int_equal(dhcp_fo_set_partner_down(p.fo, now), 0);
	assert_int_equal(dhcp_fo_set_partner_down(s.fo, now), 0);
	tick(&p, &s, 10);

	/* The secondary's binding layer is slow to answer: the first meeting is cut short. */
	s.answer_requests = false;
	connect_wire(&p, &s);
	run(&p, &s);
	assert_int_equal(dhcp_fo_my_state(p.fo), DHCP_FO_S_POTENTIAL_CONFLICT);
	assert_int_equal(dhcp_fo_my_state(s.fo), DHCP_FO_S_POTENTIAL_CONFLICT);
	assert_int_equal(dhcp_fo_service(p.fo), DHCP_FO_SERVE_NONE);
	assert_int_equal(dhcp_fo_service(s.fo), DHCP_FO_SERVE_NONE);
	assert_true(p.sent[DHCP_FO_UPDREQ] >= 1);
	assert_int_equal(s.requests, 1);
	cut_wire(&p, &s);
	assert_int_equal(dhcp_fo_my_state(p.fo), DHCP_FO_S_RESOLUTION_INTERRUPTED);
	assert_int_equal(dhcp_fo_my_state(s.fo), DHCP_FO_S_RESOLUTION_INTERRUPTED);
	assert_int_equal(dhcp_fo_service(p.fo), DHCP_FO_SERVE_NONE);
	assert_int_equal(p.saved.my_state, DHCP_FO_S_RESOLUTION_INTERRUPTED);
	tick(&p, &s, 10);

	/* Met again: potential-conflict, the exchange both ways, normal. */
	s.answer_requests = true;
	s.requests = 0;
	connect_wire(&p, &s);
	run(&p, &s);
	assert_int_equal(dhcp_fo_my_state(p.fo), DHCP_FO_S_NORMAL);
	assert_int_equal(dhcp_fo_my_state(s.fo), DHCP_FO_S_NORMAL);
	assert_true(s.sent[DHCP_FO_UPDREQ] >= 1); /* the secondary asked back in conflict-done */
	/* Unacked updates only, never everything (UPDREQALL is for recovery). */
	assert_int_equal(p.requests_all, all_p);
	assert_int_equal(s.requests_all, all_s);
	finish(&p, &s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_new_pair_reaches_normal),
	    cmocka_unit_test(test_partner_down_and_return),
	    cmocka_unit_test(test_auto_partner_down),
	    cmocka_unit_test(test_startup_timeout),
	    cmocka_unit_test(test_keepalive_and_silence),
	    cmocka_unit_test(test_connect_refusals),
	    cmocka_unit_test(test_time_skew),
	    cmocka_unit_test(test_duplicate_link),
	    cmocka_unit_test(test_graceful_shutdown),
	    cmocka_unit_test(test_potential_conflict),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
