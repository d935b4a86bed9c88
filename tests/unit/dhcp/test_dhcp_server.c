/* SPDX-License-Identifier: MPL-2.0 */
/* Unit tests for the pure DHCP server: one client exchange per test, event by event. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "dhcp_conf.h"
#include "dhcp_packet.h"
#include "dhcp_server.h"
#include "dhcp_test_client.h"

#define T0 1800000000 /* a fixed "now" */
#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static const char base_conf[] =
	"authoritative;\n"
	"default-lease-time 600; max-lease-time 7200; min-lease-time 60;\n"
	"option domain-name-servers 192.0.2.53;\n"
	"subnet 192.0.2.0 netmask 255.255.255.0 {\n"
	"  range 192.0.2.10 192.0.2.12;\n"
	"  option routers 192.0.2.1;\n"
	"  option domain-name \"example.test\";\n"
	"}\n"
	"subnet 198.51.100.0 netmask 255.255.255.0 {\n"
	"  range 198.51.100.10 198.51.100.20;\n"
	"  option routers 198.51.100.1;\n"
	"}\n"
	"host printer { hardware ethernet 02:00:00:00:00:99; fixed-address 192.0.2.99;\n"
	"  option domain-name \"printers.test\"; }\n";

struct fx {
	struct dhcp_conf *conf;
	struct dhcp_leasedb *db;
	struct dhcp_server *srv;
	struct dhcp_lease_rec persisted[16];
	size_t persisted_n;
	struct tserver t; /* the server as a client sees it */
};

static uint64_t on_persist(void *ctx, const struct dhcp_lease_rec *r)
{
	struct fx *f = ctx;

	if (f->persisted_n < 16)
		f->persisted[f->persisted_n] = *r;
	return ++f->persisted_n;
}

static struct fx *fx_new(const char *conf)
{
	static struct fx f;
	char err[256];

	memset(&f, 0, sizeof(f));
	assert_int_equal(dhcp_conf_parse(conf, strlen(conf), "test.conf", &f.conf, err, sizeof(err)), 0);
	f.db = dhcp_leasedb_new();
	f.t.srv = f.srv = dhcp_server_new(f.conf, f.db, on_persist, &f);
	assert_non_null(f.srv);
	f.t.rx.ifindex = 2;
	f.t.rx.if_addr = IP(192, 0, 2, 1);
	return &f;
}

static int teardown(void **state);

/* For a test that needs its own configuration instead of base_conf. */
static struct fx *fx_reset(void **state, const char *conf)
{
	teardown(state);
	*state = fx_new(conf);
	return *state;
}

static int setup(void **state)
{
	*state = fx_new(base_conf);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	dhcp_server_free(f->srv);
	dhcp_leasedb_free(f->db);
	dhcp_conf_free(f->conf);
	return 0;
}

static int ack_relayed(struct tserver *f, const struct tclient *c, uint32_t offered, int64_t now)
{
	uint8_t buf[DHCP_PACKET_MAX], sid[4], req[4];
	size_t len;

	tclient_u32be(sid, IP(192, 0, 2, 1));
	tclient_u32be(req, offered);
	len = tclient_request(c, DHCPREQUEST, 0, IP(198, 51, 100, 1), buf, sizeof(buf), 54, (size_t)4, sid,
		      50, (size_t)4, req, 0);
	return tserver_feed(f, buf, len, now);
}

static void test_discover_offers_from_range(void **state)
{
	struct fx *f = *state;
	struct tclient c;
	uint8_t buf[DHCP_PACKET_MAX];
	size_t len;

	tclient_init(&c, 1);
	len = tclient_request(&c, DHCPDISCOVER, 0, 0, buf, sizeof(buf), 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0), DHCPOFFER);
	assert_true(f->t.reply.yiaddr >= IP(192, 0, 2, 10) && f->t.reply.yiaddr <= IP(192, 0, 2, 12));
	assert_int_equal(tclient_opt_u32(&f->t.reply, 54), IP(192, 0, 2, 1));
	assert_int_equal(tclient_opt_u32(&f->t.reply, 51), 600);
	assert_int_equal(tclient_opt_u32(&f->t.reply, 1), 0xffffff00);
	assert_int_equal(tclient_opt_u32(&f->t.reply, 3), IP(192, 0, 2, 1));
	assert_int_equal(f->t.reply.xid, c.xid);
	assert_memory_equal(f->t.reply.chaddr, c.mac, 6);
	/* An offer commits nothing: no fsync is needed before it goes out. */
	assert_false(f->t.tx.needs_sync);
	assert_int_equal(f->persisted_n, 0);
	/* The client has no address and did not ask for broadcast: framed to its MAC. */
	assert_int_equal(f->t.tx.how, DHCP_TX_LINK);
	assert_int_equal(f->t.tx.dst_addr, f->t.reply.yiaddr);
}

static void test_request_acks_and_persists(void **state)
{
	struct fx *f = *state;
	struct tclient c;
	uint32_t a;
	struct dhcp_lease *l;

	tclient_init(&c, 2);
	a = tserver_dora(&f->t, &c, T0);
	assert_int_not_equal(a, 0);
	assert_true(f->t.tx.needs_sync);
	assert_int_equal(f->persisted_n, 1);
	assert_int_equal(f->persisted[0].addr, a);
	assert_int_equal(f->persisted[0].binding, DHCP_BINDING_ACTIVE);
	assert_int_equal(f->persisted[0].ends, T0 + 600);
	assert_memory_equal(f->persisted[0].hw, c.mac, 6);
	l = dhcp_leasedb_get(f->db, a);
	assert_non_null(l);
	assert_int_equal(l->binding, DHCP_BINDING_ACTIVE);
}

static void test_returning_client_gets_same_address(void **state)
{
	struct fx *f = *state;
	struct tclient c1, c2;
	uint8_t buf[DHCP_PACKET_MAX];
	size_t len;
	uint32_t a1, again;

	tclient_init(&c1, 3);
	tclient_init(&c2, 4);
	a1 = tserver_dora(&f->t, &c1, T0);
	len = tclient_request(&c1, DHCPRELEASE, a1, 0, buf, sizeof(buf), 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0 + 1), -1);
	assert_int_equal(dhcp_leasedb_get(f->db, a1)->binding, DHCP_BINDING_FREE);
	/* Another client takes a fresh address, not the one c1 may come back for. */
	assert_int_not_equal(tserver_dora(&f->t, &c2, T0 + 2), a1);
	again = tserver_dora(&f->t, &c1, T0 + 3);
	assert_int_equal(again, a1);
}

static void test_reservation_never_given_to_others(void **state)
{
	struct fx *f = fx_reset(state, "authoritative;\n"
			      "subnet 192.0.2.0 netmask 255.255.255.0 {\n"
			      "  range 192.0.2.10 192.0.2.11;\n"
			      "}\n"
			      "host r { hardware ethernet 02:00:00:00:00:77; fixed-address 192.0.2.10; }\n");
	struct tclient c, r;
	uint8_t buf[DHCP_PACKET_MAX];
	size_t len;

	tclient_init(&c, 5);
	assert_int_equal(tserver_dora(&f->t, &c, T0), IP(192, 0, 2, 11));
	tclient_init(&c, 6);
	len = tclient_request(&c, DHCPDISCOVER, 0, 0, buf, sizeof(buf), 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0), -1);
	assert_int_equal(dhcp_server_counters(f->srv)->ignore[DHCP_IGN_POOL_EXHAUSTED], 1);
	tclient_init(&r, 0x77);
	assert_int_equal(tserver_dora(&f->t, &r, T0), IP(192, 0, 2, 10));
	/* A fixed address is not a dynamic lease: nothing goes to the lease file. */
	assert_int_equal(f->persisted_n, 1);
}

static void test_host_options_override_subnet(void **state)
{
	struct fx *f = *state;
	struct tclient c;
	uint8_t buf[DHCP_PACKET_MAX];
	size_t len, n;
	const uint8_t *v;

	tclient_init(&c, 0x99);
	len = tclient_request(&c, DHCPDISCOVER, 0, 0, buf, sizeof(buf), 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0), DHCPOFFER);
	assert_int_equal(f->t.reply.yiaddr, IP(192, 0, 2, 99));
	v = dhcp_packet_opt(&f->t.reply, 15, &n);
	assert_non_null(v);
	assert_int_equal(n, strlen("printers.test"));
	assert_memory_equal(v, "printers.test", n);
}

static void test_init_reboot_wrong_network_naks(void **state)
{
	struct fx *f = *state;
	struct tclient c;
	uint8_t buf[DHCP_PACKET_MAX], want[4];
	size_t len;

	tclient_init(&c, 7);
	tclient_u32be(want, IP(203, 0, 113, 50));
	len = tclient_request(&c, DHCPREQUEST, 0, 0, buf, sizeof(buf), 50, (size_t)4, want, 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0), DHCPNAK);
	assert_int_equal(f->t.reply.yiaddr, 0);
	assert_int_equal(f->t.tx.how, DHCP_TX_BROADCAST);
}

static void test_init_reboot_not_authoritative_is_silent(void **state)
{
	struct fx *f = fx_reset(state, "not authoritative;\n"
			      "subnet 192.0.2.0 netmask 255.255.255.0 { range 192.0.2.10 192.0.2.20; }\n");
	struct tclient c;
	uint8_t buf[DHCP_PACKET_MAX], want[4];
	size_t len;

	tclient_init(&c, 8);
	tclient_u32be(want, IP(203, 0, 113, 50));
	len = tclient_request(&c, DHCPREQUEST, 0, 0, buf, sizeof(buf), 50, (size_t)4, want, 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0), -1);
	assert_int_equal(dhcp_server_counters(f->srv)->ignore[DHCP_IGN_NOT_AUTH], 1);
}

static void test_init_reboot_own_lease_acked(void **state)
{
	struct fx *f = *state;
	struct tclient c;
	uint8_t buf[DHCP_PACKET_MAX], want[4];
	size_t len;
	uint32_t a;

	tclient_init(&c, 9);
	a = tserver_dora(&f->t, &c, T0);
	tclient_u32be(want, a);
	len = tclient_request(&c, DHCPREQUEST, 0, 0, buf, sizeof(buf), 50, (size_t)4, want, 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0 + 100), DHCPACK);
	assert_int_equal(f->t.reply.yiaddr, a);
	/* Someone else asking for it is refused. */
	tclient_init(&c, 10);
	len = tclient_request(&c, DHCPREQUEST, 0, 0, buf, sizeof(buf), 50, (size_t)4, want, 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0 + 100), DHCPNAK);
}

static void test_renew_extends_and_unicasts(void **state)
{
	struct fx *f = *state;
	struct tclient c;
	uint8_t buf[DHCP_PACKET_MAX];
	size_t len;
	uint32_t a;

	tclient_init(&c, 11);
	a = tserver_dora(&f->t, &c, T0);
	len = tclient_request(&c, DHCPREQUEST, a, 0, buf, sizeof(buf), 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0 + 300), DHCPACK);
	assert_int_equal(f->t.tx.how, DHCP_TX_UNICAST);
	assert_int_equal(f->t.tx.dst_addr, a);
	assert_int_equal(f->t.tx.dst_port, 68);
	assert_int_equal(dhcp_leasedb_get(f->db, a)->ends, T0 + 300 + 600);
}

static void test_lease_time_clamped(void **state)
{
	struct fx *f = *state;
	struct tclient c;
	uint8_t buf[DHCP_PACKET_MAX], lt[4];
	size_t len;

	tclient_init(&c, 12);
	tclient_u32be(lt, 999999);
	len = tclient_request(&c, DHCPDISCOVER, 0, 0, buf, sizeof(buf), 51, (size_t)4, lt, 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0), DHCPOFFER);
	assert_int_equal(tclient_opt_u32(&f->t.reply, 51), 7200);
	tclient_u32be(lt, 5);
	len = tclient_request(&c, DHCPDISCOVER, 0, 0, buf, sizeof(buf), 51, (size_t)4, lt, 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0), DHCPOFFER);
	assert_int_equal(tclient_opt_u32(&f->t.reply, 51), 60);
}

static void test_decline_quarantines(void **state)
{
	struct fx *f = *state;
	struct tclient c;
	uint8_t buf[DHCP_PACKET_MAX], req[4];
	size_t len;
	uint32_t a;

	tclient_init(&c, 13);
	a = tserver_dora(&f->t, &c, T0);
	tclient_u32be(req, a);
	len = tclient_request(&c, DHCPDECLINE, 0, 0, buf, sizeof(buf), 50, (size_t)4, req, 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0), -1);
	assert_int_equal(dhcp_leasedb_get(f->db, a)->binding, DHCP_BINDING_ABANDONED);
	assert_int_equal(f->persisted[f->persisted_n - 1].binding, DHCP_BINDING_ABANDONED);
	/* Neither the decliner nor anyone else is offered it while others are free. */
	for (uint8_t i = 20; i < 22; i++) {
		tclient_init(&c, i);
		assert_int_not_equal(tserver_dora(&f->t, &c, T0), a);
	}
}

static void test_relay_selects_subnet_and_echoes_option82(void **state)
{
	struct fx *f = *state;
	struct tclient c;
	uint8_t buf[DHCP_PACKET_MAX];
	const uint8_t agent[] = {1, 4, 'p', 'o', 'r', 't', 2, 3, 'r', 'i', 'd'};
	size_t len, n;
	const uint8_t *v;

	tclient_init(&c, 14);
	len = tclient_request(&c, DHCPDISCOVER, 0, IP(198, 51, 100, 1), buf, sizeof(buf), 82,
		      sizeof(agent), agent, 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0), DHCPOFFER);
	assert_true(f->t.reply.yiaddr >= IP(198, 51, 100, 10) &&
		    f->t.reply.yiaddr <= IP(198, 51, 100, 20));
	assert_int_equal(f->t.reply.giaddr, IP(198, 51, 100, 1));
	assert_int_equal(f->t.tx.how, DHCP_TX_UNICAST);
	assert_int_equal(f->t.tx.dst_addr, IP(198, 51, 100, 1));
	assert_int_equal(f->t.tx.dst_port, 67);
	assert_int_equal(tclient_opt_u32(&f->t.reply, 3), IP(198, 51, 100, 1));
	v = dhcp_packet_opt(&f->t.reply, 82, &n);
	assert_non_null(v);
	assert_int_equal(n, sizeof(agent));
	assert_memory_equal(v, agent, n);
}

static void test_client_id_takes_precedence(void **state)
{
	struct fx *f = *state;
	struct tclient a, b;
	const uint8_t id1[] = {0, 'o', 'n', 'e'}, id2[] = {0, 't', 'w', 'o'};
	uint32_t x, y;

	/* Same hardware address, different client identifiers: two clients. */
	tclient_init(&a, 15);
	tclient_init(&b, 15);
	a.uid = id1;
	a.uid_len = sizeof(id1);
	b.uid = id2;
	b.uid_len = sizeof(id2);
	x = tserver_dora(&f->t, &a, T0);
	y = tserver_dora(&f->t, &b, T0);
	assert_int_not_equal(x, 0);
	assert_int_not_equal(y, 0);
	assert_int_not_equal(x, y);
	assert_int_equal(f->persisted[f->persisted_n - 1].uid_len, sizeof(id2));
}

static void test_prl_order_honoured(void **state)
{
	struct fx *f = *state;
	struct tclient c;
	uint8_t buf[DHCP_PACKET_MAX];
	const uint8_t prl[] = {15, 6, 3, 1};
	size_t len, pos;
	uint8_t seen[8];
	size_t seen_n = 0;

	tclient_init(&c, 16);
	len = tclient_request(&c, DHCPDISCOVER, 0, 0, buf, sizeof(buf), 55, sizeof(prl), prl, 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0), DHCPOFFER);
	/* Walk the raw options: 53, 54, 51, 1 first (ISC's fixed ones), then 15, 6, 3. */
	for (pos = 240; pos < f->t.tx.len && f->t.tx.buf[pos] != 255 && seen_n < 8;) {
		if (f->t.tx.buf[pos] == 0) {
			pos++;
			continue;
		}
		seen[seen_n++] = f->t.tx.buf[pos];
		pos += 2 + f->t.tx.buf[pos + 1];
	}
	assert_int_equal(seen_n, 7);
	assert_memory_equal(seen, ((uint8_t[]){53, 54, 51, 1, 15, 6, 3}), 7);
}

static void test_garbage_dropped_and_counted(void **state)
{
	struct fx *f = *state;
	uint8_t junk[100] = {1, 1, 6};

	assert_int_equal(dhcp_server_handle(f->srv, junk, sizeof(junk), &f->t.rx, T0, &f->t.tx), 0);
	assert_int_equal(dhcp_server_counters(f->srv)->drop[DHCP_DROP_TRUNCATED], 1);
}

static void test_expiry_frees_and_persists(void **state)
{
	struct fx *f = *state;
	struct tclient c;
	uint32_t a;
	size_t before;

	tclient_init(&c, 17);
	a = tserver_dora(&f->t, &c, T0);
	before = f->persisted_n;
	dhcp_server_tick(f->srv, T0 + 599, 1000);
	assert_int_equal(f->persisted_n, before);
	dhcp_server_tick(f->srv, T0 + 601, 1000);
	assert_int_equal(f->persisted_n, before + 1);
	assert_int_equal(f->persisted[before].addr, a);
	assert_int_equal(f->persisted[before].binding, DHCP_BINDING_FREE);
	assert_int_equal(dhcp_server_counters(f->srv)->leases_expired, 1);
}

static void test_offer_holds_address(void **state)
{
	struct fx *f = fx_reset(state, "subnet 192.0.2.0 netmask 255.255.255.0 { range 192.0.2.10 192.0.2.10; }\n");
	struct tclient a, b;
	uint8_t buf[DHCP_PACKET_MAX];
	size_t len;

	tclient_init(&a, 18);
	tclient_init(&b, 19);
	len = tclient_request(&a, DHCPDISCOVER, 0, 0, buf, sizeof(buf), 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0), DHCPOFFER);
	len = tclient_request(&b, DHCPDISCOVER, 0, 0, buf, sizeof(buf), 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0 + 1), -1);
	/* Once the offer lapses the address is free for the next client. */
	assert_int_equal(tserver_feed(&f->t, buf, len, T0 + 120), DHCPOFFER);
}

static void test_inform_answers_without_lease(void **state)
{
	struct fx *f = *state;
	struct tclient c;
	uint8_t buf[DHCP_PACKET_MAX];
	size_t len;

	tclient_init(&c, 20);
	len = tclient_request(&c, DHCPINFORM, IP(192, 0, 2, 200), 0, buf, sizeof(buf), 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0), DHCPACK);
	assert_int_equal(f->t.reply.yiaddr, 0);
	assert_null(dhcp_packet_opt(&f->t.reply, 51, NULL));
	assert_int_equal(f->t.tx.dst_addr, IP(192, 0, 2, 200));
	assert_int_equal(f->persisted_n, 0);
}

static void test_reload_keeps_leases(void **state)
{
	struct fx *f = *state;
	struct tclient c;
	struct dhcp_conf *c2;
	char err[256];
	const char *text = "subnet 192.0.2.0 netmask 255.255.255.0 { range 192.0.2.100 192.0.2.101; }\n";
	uint32_t a;

	tclient_init(&c, 21);
	a = tserver_dora(&f->t, &c, T0);
	assert_int_equal(dhcp_conf_parse(text, strlen(text), "new.conf", &c2, err, sizeof(err)), 0);
	assert_int_equal(dhcp_server_set_conf(f->srv, c2, T0), 0);
	dhcp_conf_free(f->conf);
	f->conf = c2;
	assert_non_null(dhcp_leasedb_get(f->db, a));
	tclient_init(&c, 22);
	assert_int_equal(tserver_dora(&f->t, &c, T0), IP(192, 0, 2, 100));
}


static void test_ping_before_first_offer(void **state)
{
	struct fx *f = *state;
	struct tclient c;
	uint8_t buf[DHCP_PACKET_MAX];
	size_t len;

	tclient_init(&c, 23);
	len = tclient_request(&c, DHCPDISCOVER, 0, 0, buf, sizeof(buf), 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0), DHCPOFFER);
	/* ISC's default: ping-check on, one second. */
	assert_int_equal(f->t.tx.probe_addr, f->t.reply.yiaddr);
	assert_int_equal(f->t.tx.probe_timeout_ms, 1000);
	/* The same client coming back within ping-cltt-secs is not pinged again. */
	assert_int_not_equal(tserver_dora(&f->t, &c, T0), 0);
	len = tclient_request(&c, DHCPDISCOVER, 0, 0, buf, sizeof(buf), 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0 + 10), DHCPOFFER);
	assert_int_equal(f->t.tx.probe_addr, 0);
}

static void test_ping_check_false_sends_at_once(void **state)
{
	struct fx *f = fx_reset(state, "ping-check false;\n"
				       "subnet 192.0.2.0 netmask 255.255.255.0 { range 192.0.2.10 192.0.2.20; }\n");
	struct tclient c;
	uint8_t buf[DHCP_PACKET_MAX];
	size_t len;

	tclient_init(&c, 24);
	len = tclient_request(&c, DHCPDISCOVER, 0, 0, buf, sizeof(buf), 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0), DHCPOFFER);
	assert_int_equal(f->t.tx.probe_addr, 0);
}

static void test_answered_ping_abandons_and_is_reclaimed_last(void **state)
{
	struct fx *f = fx_reset(state, "subnet 192.0.2.0 netmask 255.255.255.0 {\n"
				       "  range 192.0.2.10 192.0.2.11; }\n");
	struct tclient c;
	uint8_t buf[DHCP_PACKET_MAX];
	size_t len;
	uint32_t squatted;

	tclient_init(&c, 25);
	len = tclient_request(&c, DHCPDISCOVER, 0, 0, buf, sizeof(buf), 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0), DHCPOFFER);
	squatted = f->t.tx.probe_addr;
	dhcp_server_probe_answered(f->srv, squatted, T0 + 1);
	assert_int_equal(dhcp_leasedb_get(f->db, squatted)->binding, DHCP_BINDING_ABANDONED);
	assert_int_equal(f->persisted[f->persisted_n - 1].binding, DHCP_BINDING_ABANDONED);
	/* The client retries and is offered the other address. */
	assert_int_not_equal(tserver_dora(&f->t, &c, T0 + 2), squatted);
	/* With nothing else left, the abandoned address is tried again (and pinged). */
	tclient_init(&c, 26);
	len = tclient_request(&c, DHCPDISCOVER, 0, 0, buf, sizeof(buf), 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0 + 3), DHCPOFFER);
	assert_int_equal(f->t.reply.yiaddr, squatted);
	assert_int_equal(f->t.tx.probe_addr, squatted);
	assert_int_equal(dhcp_server_counters(f->srv)->leases_reclaimed, 1);
}

static void test_renew_from_behind_a_router(void **state)
{
	struct fx *f = *state;
	struct tclient c;
	uint8_t buf[DHCP_PACKET_MAX];
	size_t len;
	uint32_t a;

	/* The lease came through a relay... */
	tclient_init(&c, 27);
	len = tclient_request(&c, DHCPDISCOVER, 0, IP(198, 51, 100, 1), buf, sizeof(buf), 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0), DHCPOFFER);
	a = f->t.reply.yiaddr;
	assert_int_equal(ack_relayed(&f->t, &c, a, T0), DHCPACK);
	/* ...but the renewal is unicast straight to the server, arriving on its own LAN. */
	len = tclient_request(&c, DHCPREQUEST, a, 0, buf, sizeof(buf), 0);
	assert_int_equal(tserver_feed(&f->t, buf, len, T0 + 300), DHCPACK);
	assert_int_equal(f->t.reply.yiaddr, a);
	assert_int_equal(f->t.tx.how, DHCP_TX_UNICAST);
	assert_int_equal(f->t.tx.dst_addr, a);
	assert_int_equal(dhcp_leasedb_get(f->db, a)->ends, T0 + 300 + 600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_discover_offers_from_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_acks_and_persists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_returning_client_gets_same_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reservation_never_given_to_others, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_options_override_subnet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_reboot_wrong_network_naks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_reboot_not_authoritative_is_silent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_init_reboot_own_lease_acked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renew_extends_and_unicasts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_time_clamped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_decline_quarantines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_selects_subnet_and_echoes_option82, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_id_takes_precedence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prl_order_honoured, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_dropped_and_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry_frees_and_persists, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offer_holds_address, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inform_answers_without_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_keeps_leases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ping_before_first_offer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_renew_from_behind_a_router, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ping_check_false_sends_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answered_ping_abandons_and_is_reclaimed_last, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
