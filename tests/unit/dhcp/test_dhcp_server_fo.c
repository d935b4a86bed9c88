/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Two pure servers with failover pools, each with its state machine, wired through the real
 * failover codec: recovery and pool balance, ownership of free leases, MCLT lease times,
 * BNDUPDs only after durability, BNDACKs, expiry, release, partner-down and a dead peer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dhcp_conf.h"
#include "dhcp_failover.h"
#include "dhcp_fo_hash.h"
#include "dhcp_test_client.h"

#define T0             1800000000
#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define INBOX_MAX      512
#define ACKS_MAX       256
#define MCLT           300

static const char conf_fmt[] = "default-lease-time 3600; max-lease-time 7200;\n"
                               "failover peer \"fo\" {\n"
                               "  %s; address %s; port 647; peer address %s; peer port 647;\n"
                               "  max-response-delay 30; max-unacked-updates 10; %s %s\n"
                               "  load balance max seconds 3;\n"
                               "}\n"
                               "subnet 192.0.2.0 netmask 255.255.255.0 {\n"
                               "  pool { failover peer \"fo\"; range 192.0.2.10 192.0.2.29; }\n"
                               "}\n";

struct ack {
	uint64_t record;
	uint32_t addr, xid;
};

struct node {
	struct dhcp_conf *conf;
	struct dhcp_leasedb *db;
	struct tserver t;
	struct dhcp_fo *fo;
	struct node *other;
	bool up;
	uint8_t inbox[INBOX_MAX][DHCP_FO_MSG_MAX];
	size_t inbox_len[INBOX_MAX], inbox_n;
	uint64_t records, durable; /* journal numbers: written, and on stable storage */
	bool auto_durable;         /* every record is durable at once */
	struct ack acks[ACKS_MAX];
	size_t acks_n;
	unsigned bndupd_sent;
};

static int64_t now = T0;
static const char *peer_extra = ""; /* more statements in both failover peer blocks */
static struct node prim, sec;

static void on_send(void *ctx, int link, struct dhcp_fo_msg *m)
{
	struct node *n = ctx, *o = n->other;
	int len;

	assert_int_equal(link, 1);
	n->bndupd_sent += m->type == DHCP_FO_BNDUPD;
	if (!n->up)
		return;
	assert_true(o->inbox_n < INBOX_MAX);
	len = dhcp_fo_encode(m, o->inbox[o->inbox_n], DHCP_FO_MSG_MAX);
	assert_true(len >= DHCP_FO_HDR_LEN);
	o->inbox_len[o->inbox_n++] = (size_t)len;
}

static void on_close(void *ctx, int link, const char *why)
{
	(void)ctx;
	(void)link;
	fail_msg("link closed: %s", why);
}

static void on_fo_persist(void *ctx, const struct dhcp_fo_saved *s)
{
	(void)ctx;
	(void)s;
}

static void on_requested(void *ctx, bool all)
{
	struct node *n = ctx;

	dhcp_server_fo_updates_requested(n->t.srv, 0, all);
}

static const struct dhcp_fo_ops fo_ops = {.send = on_send,
                                          .close = on_close,
                                          .persist = on_fo_persist,
                                          .updates_requested = on_requested};

static uint64_t on_persist(void *ctx, const struct dhcp_lease_rec *r)
{
	struct node *n = ctx;

	(void)r;
	n->records++;
	if (n->auto_durable)
		n->durable = n->records;
	return n->records;
}

static void on_ack(void *ctx, size_t peer, uint32_t addr, uint32_t xid)
{
	struct node *n = ctx;

	assert_int_equal(peer, 0);
	assert_true(n->acks_n < ACKS_MAX);
	n->acks[n->acks_n++] = (struct ack){.record = n->records, .addr = addr, .xid = xid};
}

static const struct dhcp_server_fo_ops server_ops = {.ack = on_ack};

static void node_start(struct node *n, struct node *other, bool primary)
{
	char text[1024], err[256];

	memset(n, 0, sizeof(*n));
	n->other = other;
	n->auto_durable = true;
	snprintf(text, sizeof(text), conf_fmt, primary ? "primary" : "secondary",
	         primary ? "192.0.2.1" : "192.0.2.2", primary ? "192.0.2.2" : "192.0.2.1",
	         primary ? "mclt 300; split 128;" : "", peer_extra);
	assert_int_equal(dhcp_conf_parse(text, strlen(text), "t.conf", &n->conf, err, sizeof(err)),
	                 0);
	n->db = dhcp_leasedb_new();
	n->t.srv = dhcp_server_new(n->conf, n->db, on_persist, n);
	assert_non_null(n->t.srv);
	n->t.rx.ifindex = 2;
	n->t.rx.if_addr = primary ? IP(192, 0, 2, 1) : IP(192, 0, 2, 2);
	n->fo = dhcp_fo_create(n->conf->failover_peers[0], NULL, "test", now, &fo_ops, n);
	assert_non_null(n->fo);
	dhcp_server_fo_set_ops(n->t.srv, &server_ops, n);
	dhcp_server_fo_attach(n->t.srv, 0, n->fo);
}

static void node_stop(struct node *n)
{
	dhcp_server_free(n->t.srv);
	dhcp_fo_free(n->fo);
	dhcp_leasedb_free(n->db);
	dhcp_conf_free(n->conf);
}

/* The daemon's part: BNDACKs whose records are durable, then the pump. */
static void service(struct node *n)
{
	size_t kept = 0;

	for (size_t i = 0; i < n->acks_n; i++) {
		struct ack *a = &n->acks[i];
		struct dhcp_fo_msg m = {.type = DHCP_FO_BNDACK,
		                        .assigned_ip = a->addr,
		                        .present = 1u << DHCP_FO_ASSIGNED_IP};

		if (a->record > n->durable)
			n->acks[kept++] = *a;
		else
			assert_int_equal(dhcp_fo_send(n->fo, &m, a->xid, now), 0);
	}
	n->acks_n = kept;
	dhcp_server_fo_pump(n->t.srv, now, n->durable);
}

static bool deliver_one(struct node *n)
{
	static uint8_t frame[DHCP_FO_MSG_MAX];
	struct dhcp_fo_msg m;
	const char *err;
	int rc;

	if (!n->inbox_n)
		return false;
	memcpy(frame, n->inbox[0], n->inbox_len[0]);
	assert_int_equal(dhcp_fo_decode(frame, n->inbox_len[0], &m, &err), 0);
	memmove(n->inbox[0], n->inbox[1], (n->inbox_n - 1) * sizeof(n->inbox[0]));
	memmove(n->inbox_len, n->inbox_len + 1, (n->inbox_n - 1) * sizeof(n->inbox_len[0]));
	n->inbox_n--;
	rc = dhcp_fo_receive(n->fo, 1, &m, now);
	assert_true(rc >= 0);
	if (rc == 1)
		dhcp_server_fo_bindings(n->t.srv, 0, &m, now);
	return true;
}

/* Delivers and pumps both ways until nothing moves. */
static void run(void)
{
	for (int round = 0; round < 100000; round++) {
		bool moved = deliver_one(&prim) | deliver_one(&sec);

		service(&prim);
		service(&sec);
		if (!moved && !prim.inbox_n && !sec.inbox_n)
			return;
	}
	fail_msg("messages never stopped");
}

static void connect_pair(void)
{
	prim.up = sec.up = true;
	dhcp_fo_link_up(prim.fo, 1, now);
	dhcp_fo_link_up(sec.fo, 1, now);
	run();
}

static void cut(void)
{
	prim.up = sec.up = false;
	prim.inbox_n = sec.inbox_n = 0;
	dhcp_fo_link_down(prim.fo, 1, now);
	dhcp_fo_link_down(sec.fo, 1, now);
}

static void tick(int64_t seconds)
{
	for (int64_t i = 0; i < seconds; i++) {
		now++;
		dhcp_fo_tick(prim.fo, now);
		dhcp_fo_tick(sec.fo, now);
		dhcp_server_tick(prim.t.srv, now, 1000);
		dhcp_server_tick(sec.t.srv, now, 1000);
		run();
	}
}

static int setup(void **state)
{
	peer_extra = *state ? *state : "";
	now = T0;
	node_start(&prim, &sec, true);
	node_start(&sec, &prim, false);
	connect_pair();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	node_stop(&prim);
	node_stop(&sec);
	return 0;
}

static uint8_t binding(const struct node *n, uint32_t addr)
{
	const struct dhcp_lease *l = dhcp_leasedb_get(n->db, addr);

	return l ? l->binding : DHCP_BINDING_FREE;
}

static size_t count(const struct node *n, uint8_t b)
{
	size_t c = 0;

	for (uint32_t a = IP(192, 0, 2, 10); a <= IP(192, 0, 2, 29); a++)
		c += binding(n, a) == b;
	return c;
}

/* A client whose hash bucket belongs to the primary (split 128: buckets 0..127). */
static void client_for(struct tclient *c, bool primary, uint8_t from)
{
	for (uint8_t last = from;; last++) {
		tclient_init(c, last);
		if (dhcp_fo_hba_primary(dhcp_fo_hba(prim.fo),
		                        dhcp_fo_client_bucket(NULL, 0, c->mac, 6)) == primary)
			return;
	}
}

static void assert_same_bindings(void)
{
	for (uint32_t a = IP(192, 0, 2, 10); a <= IP(192, 0, 2, 29); a++)
		assert_int_equal(binding(&prim, a), binding(&sec, a));
}

/* Two new servers recover, reach normal, and the primary gives the secondary half. */
static void test_recover_then_balance(void **state)
{
	(void)state;
	assert_int_equal(dhcp_fo_my_state(prim.fo), DHCP_FO_S_NORMAL);
	assert_int_equal(dhcp_fo_my_state(sec.fo), DHCP_FO_S_NORMAL);
	assert_int_equal(count(&prim, DHCP_BINDING_FREE), 10);
	assert_int_equal(count(&prim, DHCP_BINDING_BACKUP), 10);
	assert_same_bindings();
	/* What pool-stats shows: the balance, as ISC's "balancing pool" line. */
	for (int i = 0; i < 2; i++) {
		struct dhcp_pool_stats st;

		assert_int_equal(dhcp_server_pool_stats(i ? sec.t.srv : prim.t.srv, now, &st, 1), 1);
		assert_int_equal(st.total, 20);
		assert_int_equal(st.free, 10);
		assert_int_equal(st.backup, 10);
		assert_int_equal(st.active, 0);
	}
}

/* In normal each server answers only its hash bucket's clients, from its own leases, and the
 * other learns of every lease; the first lease is MCLT long, a renewal after the ack longer. */
static void test_split_and_mclt(void **state)
{
	struct tclient a, b;
	uint32_t ia, ib;
	uint8_t buf[DHCP_PACKET_MAX];

	(void)state;
	client_for(&a, true, 1);
	client_for(&b, false, 1);
	/* The secondary leaves the primary's client alone, and the reverse. */
	assert_int_equal(tserver_feed(&sec.t, buf,
	                              tclient_request(&a, DHCPDISCOVER, 0, 0, buf, sizeof(buf), 0),
	                              now),
	                 -1);
	ia = tserver_dora(&prim.t, &a, now);
	assert_int_equal(binding(&prim, ia), DHCP_BINDING_ACTIVE);
	assert_int_equal(tclient_opt_u32(&prim.t.reply, 51), MCLT);
	ib = tserver_dora(&sec.t, &b, now);
	assert_int_equal(binding(&sec, ib), DHCP_BINDING_ACTIVE);
	/* Each from its own free leases (as the peer still sees them). */
	assert_int_equal(binding(&sec, ia), DHCP_BINDING_FREE);
	assert_int_equal(binding(&prim, ib), DHCP_BINDING_BACKUP);
	run();
	assert_int_equal(binding(&sec, ia), DHCP_BINDING_ACTIVE);
	assert_int_equal(binding(&prim, ib), DHCP_BINDING_ACTIVE);
	assert_same_bindings();
	/* Acked: the peer knows now + 3600 + 150; a renewal may go to min(want, tsfp + MCLT). */
	tick(10);
	assert_int_equal(tserver_dora(&prim.t, &a, now), ia);
	assert_int_equal(tclient_opt_u32(&prim.t.reply, 51), 3600);
}

/* A change reaches the peer only once its record is durable. */
static void test_bndupd_waits_for_durability(void **state)
{
	struct tclient a;
	uint32_t ia;

	(void)state;
	prim.auto_durable = false;
	prim.durable = prim.records;
	client_for(&a, true, 1);
	ia = tserver_dora(&prim.t, &a, now);
	assert_int_not_equal(ia, 0);
	run();
	assert_int_not_equal(binding(&sec, ia), DHCP_BINDING_ACTIVE);
	prim.durable = prim.records;
	run();
	assert_int_equal(binding(&sec, ia), DHCP_BINDING_ACTIVE);
}

/* The secondary's BNDACK waits for its own record of the update. */
static void test_bndack_waits_for_durability(void **state)
{
	struct tclient a;
	uint32_t ia;
	struct dhcp_server_fo_stats st;

	(void)state;
	sec.auto_durable = false;
	sec.durable = sec.records;
	client_for(&a, true, 1);
	ia = tserver_dora(&prim.t, &a, now);
	run();
	assert_int_equal(binding(&sec, ia), DHCP_BINDING_ACTIVE); /* applied ... */
	dhcp_server_fo_stats(prim.t.srv, 0, &st);
	assert_int_equal(st.in_flight, 1); /* ... but not acked */
	sec.durable = sec.records;
	run();
	dhcp_server_fo_stats(prim.t.srv, 0, &st);
	assert_int_equal(st.in_flight, 0);
}

/* Released and expired leases wait for the peer's ack, then are free (the primary's). */
static void test_release_and_expiry_go_through_the_peer(void **state)
{
	struct tclient a, b;
	uint32_t ia, ib;
	uint8_t buf[DHCP_PACKET_MAX];
	size_t len;

	(void)state;
	client_for(&a, true, 1);
	client_for(&b, false, 1);
	ia = tserver_dora(&prim.t, &a, now);
	ib = tserver_dora(&sec.t, &b, now);
	run();
	len = tclient_request(&b, DHCPRELEASE, ib, 0, buf, sizeof(buf), 0);
	sec.t.rx.src_addr = ib;
	assert_int_equal(tserver_feed(&sec.t, buf, len, now), -1);
	sec.t.rx.src_addr = 0;
	/* Acked at once here: free on both, and the primary's. */
	run();
	assert_int_equal(binding(&sec, ib), DHCP_BINDING_FREE);
	assert_int_equal(binding(&prim, ib), DHCP_BINDING_FREE);
	/* ia's MCLT-long lease runs out: the primary expires it, and both free it. */
	tick(MCLT + 1);
	assert_int_equal(binding(&prim, ia), DHCP_BINDING_FREE);
	assert_int_equal(binding(&sec, ia), DHCP_BINDING_FREE);
}

/* With the peer gone, a server serves everyone from its own leases only; in partner-down
 * it takes the peer's once MCLT has passed. */
static void test_alone_then_partner_down(void **state)
{
	struct tclient c[16];
	size_t got = 0;

	(void)state;
	cut();
	tick(1);
	assert_int_equal(dhcp_fo_my_state(prim.fo), DHCP_FO_S_COMMUNICATIONS_INTERRUPTED);
	for (uint8_t i = 0; i < 16; i++) {
		tclient_init(&c[i], (uint8_t)(i + 1));
		got += tserver_dora(&prim.t, &c[i], now) != 0;
	}
	assert_int_equal(got, 10); /* its 10 free leases, not one of the peer's */
	assert_int_equal(dhcp_fo_set_partner_down(prim.fo, now), 0);
	tick(1);
	assert_int_equal(tserver_dora(&prim.t, &c[10], now), 0); /* MCLT not over yet */
	tick(MCLT);
	got = 0;
	for (uint8_t i = 10; i < 16; i++)
		got += tserver_dora(&prim.t, &c[i], now) != 0;
	assert_int_equal(got, 6);
}

/* The secondary alone has nothing but its BACKUP leases: no offer for the eleventh client. */
/* A secondary whose BACKUP leases run out asks the primary (POOLREQ), which balances at once
 * and answers how many it gave (POOLRESP). */
static void test_secondary_asks_for_leases(void **state)
{
	struct dhcp_server_fo_stats ps, ss;
	struct tclient c;
	size_t got = 0;
	uint64_t asked;

	(void)state;
	dhcp_server_fo_stats(sec.t.srv, 0, &ss);
	asked = ss.ctr.poolreq_sent; /* on entering normal, before the first balance arrived */
	for (uint8_t last = 1; got < 8; last++) {
		client_for(&c, false, last);
		last = c.mac[5];
		got += tserver_dora(&sec.t, &c, now) != 0;
	}
	run();
	tick(61); /* the secondary's next balance check (min-balance 60) */
	dhcp_server_fo_stats(sec.t.srv, 0, &ss);
	dhcp_server_fo_stats(prim.t.srv, 0, &ps);
	/* 2 BACKUP left against the primary's 10 FREE: lts -4, below -2 * 1 (5 % of 20). */
	assert_int_equal(ss.ctr.poolreq_sent, asked + 1);
	assert_int_equal(ps.ctr.poolreq_received, ss.ctr.poolreq_sent);
	assert_true(count(&sec, DHCP_BINDING_BACKUP) >= 4); /* given again: half of the rest */
	assert_same_bindings();
}

static void test_secondary_alone_uses_backup_only(void **state)
{
	struct tclient c[12];
	size_t got = 0;

	(void)state;
	cut();
	tick(1);
	for (uint8_t i = 0; i < 12; i++) {
		tclient_init(&c[i], (uint8_t)(i + 40));
		if (tserver_dora(&sec.t, &c[i], now)) {
			got++;
			assert_int_equal(binding(&sec, sec.t.reply.yiaddr), DHCP_BINDING_ACTIVE);
		}
	}
	assert_int_equal(got, 10);
	assert_int_equal(count(&sec, DHCP_BINDING_BACKUP), 0);
	assert_int_equal(count(&sec, DHCP_BINDING_FREE), 10); /* the primary's, untouched */
}

static void release(struct node *n, const struct tclient *c, uint32_t addr)
{
	uint8_t buf[DHCP_PACKET_MAX];
	size_t len = tclient_request(c, DHCPRELEASE, addr, 0, buf, sizeof(buf), 0);

	n->t.rx.src_addr = addr;
	assert_int_equal(tserver_feed(&n->t, buf, len, now), -1);
	n->t.rx.src_addr = 0;
}

/*
 * Rewind (ISC's rewind binding state): alone, a lease the peer never heard of goes straight
 * back to free when released or expired; one the peer knows waits in released for its ack.
 * A lease the peer hears of on reconnection is marked known on disk before it is sent.
 */
static void test_rewind_alone(void **state)
{
	struct tclient a, b, c, d;
	uint32_t ia, ib, ic, id;

	(void)state;
	client_for(&a, true, 1);
	ia = tserver_dora(&prim.t, &a, now);
	run(); /* the secondary knows ia */
	cut();
	tick(1);
	assert_int_equal(dhcp_fo_my_state(prim.fo), DHCP_FO_S_COMMUNICATIONS_INTERRUPTED);
	tclient_init(&b, 60);
	ib = tserver_dora(&prim.t, &b, now);
	assert_int_not_equal(ib, 0);
	release(&prim, &b, ib);
	assert_int_equal(binding(&prim, ib), DHCP_BINDING_FREE);
	release(&prim, &a, ia);
	assert_int_equal(binding(&prim, ia), DHCP_BINDING_RELEASED);
	/* Expiry likewise: c's lease (MCLT long, alone) runs out and is free at once. */
	tclient_init(&c, 61);
	ic = tserver_dora(&prim.t, &c, now);
	assert_int_not_equal(ic, 0);
	tick(MCLT + 2);
	assert_int_equal(binding(&prim, ic), DHCP_BINDING_FREE);
	assert_int_equal(binding(&prim, ia), DHCP_BINDING_RELEASED);

	/* d's lease, given alone, reaches the peer when the link returns: only after the
	 * record saying so is durable; cut again, d's release must wait for the peer. */
	tclient_init(&d, 62);
	id = tserver_dora(&prim.t, &d, now);
	assert_int_not_equal(id, 0);
	prim.auto_durable = false;
	prim.durable = prim.records;
	connect_pair();
	assert_int_equal(dhcp_fo_my_state(prim.fo), DHCP_FO_S_NORMAL);
	assert_int_not_equal(binding(&sec, id), DHCP_BINDING_ACTIVE);
	prim.auto_durable = true;
	prim.durable = prim.records;
	run();
	assert_int_equal(binding(&sec, id), DHCP_BINDING_ACTIVE);
	assert_int_equal(binding(&sec, ia), DHCP_BINDING_FREE); /* acked at last */
	assert_int_equal(binding(&prim, ia), DHCP_BINDING_FREE);
	cut();
	tick(1);
	release(&prim, &d, id);
	assert_int_equal(binding(&prim, id), DHCP_BINDING_RELEASED);
}

/*
 * Rewind's other use (ISC's find_lease): a client whose lease ended while we were apart, and
 * the peer still takes to be active with it, gets that address back, released or expired;
 * anyone else waits for the peer's word. Both servers agree once they talk again.
 */
static void test_released_lease_back_to_its_client(void **state)
{
	struct tclient a, b, other;
	uint32_t ia, ib;

	(void)state;
	client_for(&a, true, 1);
	client_for(&b, true, (uint8_t)(a.mac[5] + 1));
	ia = tserver_dora(&prim.t, &a, now);
	ib = tserver_dora(&prim.t, &b, now);
	assert_true(ia && ib && ia != ib);
	run(); /* the secondary knows both */
	cut();
	tick(1);
	release(&prim, &a, ia);
	assert_int_equal(binding(&prim, ia), DHCP_BINDING_RELEASED);
	tick(3600 + 2); /* b's lease runs out: expired, and the peer has not heard */
	assert_int_equal(binding(&prim, ib), DHCP_BINDING_EXPIRED);
	for (uint8_t i = 0; i < 20; i++) { /* nobody else gets either address */
		tclient_init(&other, (uint8_t)(100 + i));
		uint32_t got = tserver_dora(&prim.t, &other, now);

		assert_int_not_equal(got, ia);
		assert_int_not_equal(got, ib);
	}
	assert_int_equal(tserver_dora(&prim.t, &a, now), ia);
	assert_int_equal(binding(&prim, ia), DHCP_BINDING_ACTIVE);
	assert_int_equal(tserver_dora(&prim.t, &b, now), ib);
	assert_int_equal(binding(&prim, ib), DHCP_BINDING_ACTIVE);
	connect_pair();
	run();
	assert_int_equal(binding(&sec, ia), DHCP_BINDING_ACTIVE);
	assert_int_equal(binding(&sec, ib), DHCP_BINDING_ACTIVE);
	assert_same_bindings();
}

/*
 * ISC's first balancing pass: free leases whose last client hashes to the secondary go to it
 * first (up to max-lease-ownership past even), so that a returning client finds its address
 * with the server that answers it.
 */
static void test_balance_keeps_clients_addresses(void **state)
{
	struct tclient theirs[6], later[6];
	uint32_t addr[6];
	size_t moved = 0;

	(void)state;
	/* Alone, the primary serves six of the secondary's clients, which then leave. */
	cut();
	tick(1);
	for (uint8_t i = 0, last = 1; i < 6; i++, last++) {
		client_for(&theirs[i], false, last);
		last = theirs[i].mac[5];
		addr[i] = tserver_dora(&prim.t, &theirs[i], now);
		assert_int_not_equal(addr[i], 0);
		release(&prim, &theirs[i], addr[i]);
		assert_int_equal(binding(&prim, addr[i]), DHCP_BINDING_FREE);
	}
	connect_pair();
	/* The secondary hands out six of its ten: 10 free against 4 backup, 3 to give. */
	for (uint8_t i = 0, last = 100; i < 6; i++, last++) {
		client_for(&later[i], false, last);
		last = later[i].mac[5];
		assert_int_not_equal(tserver_dora(&sec.t, &later[i], now), 0);
	}
	run();
	tick(61);
	for (int i = 0; i < 6; i++)
		moved += binding(&prim, addr[i]) == DHCP_BINDING_BACKUP;
	/* want 3 + hold 2 (max-lease-ownership 10 % of 20): five of the six. */
	assert_int_equal(moved, 5);
	assert_int_equal(count(&prim, DHCP_BINDING_FREE), 5);
	assert_same_bindings();
}

/* A client of the secondary's is left to it while it has free leases, and answered by the
 * primary once (as the primary's DB shows) it has none left (ISC's peer_has_leases). */
static void test_peer_without_leases(void **state)
{
	struct tclient c;
	struct dhcp_server_fo_stats st;
	uint8_t buf[DHCP_PACKET_MAX];
	uint8_t last = 1;

	(void)state;
	client_for(&c, false, last);
	assert_int_equal(tserver_feed(&prim.t, buf,
	                              tclient_request(&c, DHCPDISCOVER, 0, 0, buf, sizeof(buf), 0),
	                              now),
	                 -1);
	for (int i = 0; i < 10; i++) {
		last = (uint8_t)(c.mac[5] + 1);
		assert_int_not_equal(tserver_dora(&sec.t, &c, now), 0);
		client_for(&c, false, last);
	}
	run();
	assert_int_equal(count(&prim, DHCP_BINDING_BACKUP), 0);
	assert_int_equal(tserver_feed(&prim.t, buf,
	                              tclient_request(&c, DHCPDISCOVER, 0, 0, buf, sizeof(buf), 0),
	                              now),
	                 DHCPOFFER);
	dhcp_server_fo_stats(prim.t.srv, 0, &st);
	assert_int_equal(st.ctr.peer_dry_answered, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_recover_then_balance, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_split_and_mclt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bndupd_waits_for_durability, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bndack_waits_for_durability, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_release_and_expiry_go_through_the_peer, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_alone_then_partner_down, setup, teardown),
	    cmocka_unit_test_prestate_setup_teardown(test_secondary_asks_for_leases, setup, teardown,
	                                             (void *)"max-lease-misbalance 5;"),
	    cmocka_unit_test_setup_teardown(test_secondary_alone_uses_backup_only, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rewind_alone, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_released_lease_back_to_its_client, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_balance_keeps_clients_addresses, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_peer_without_leases, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
