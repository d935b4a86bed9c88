/* SPDX-License-Identifier: MPL-2.0 */
/* Unit tests for the dhcpd.conf parser: statements, scopes, option encodings, errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <cmocka.h>
#include <dirent.h>
#include <libgen.h>

#include "core_err.h"
#include "dhcp_conf.h"
#include "dhcp_option.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define SUBNET         "subnet 192.0.2.0 netmask 255.255.255.0 "

static char errbuf[512];

static struct dhcp_conf *parse_ok(const char *text)
{
	struct dhcp_conf *c = NULL;
	int r = dhcp_conf_parse(text, strlen(text), "t.conf", &c, errbuf, sizeof(errbuf));

	if (r)
		print_error("unexpected error %d: %s\n", r, errbuf);
	assert_int_equal(r, 0);
	assert_non_null(c);
	return c;
}

/* Expects failure with code and an error message starting with want. */
static void parse_err(const char *text, int code, const char *want)
{
	struct dhcp_conf *c = NULL;
	int r = dhcp_conf_parse(text, strlen(text), "t.conf", &c, errbuf, sizeof(errbuf));

	assert_null(c);
	if (r != code || strncmp(errbuf, want, strlen(want)))
		print_error("got %d '%s', want %d '%s...'\n", r, errbuf, code, want);
	assert_int_equal(r, code);
	assert_memory_equal(errbuf, want, strlen(want));
}

static void assert_opt(const struct dhcp_scope *s, uint8_t code, const uint8_t *want, size_t n)
{
	const struct dhcp_opt *o = dhcp_scope_opt(s, code);

	assert_non_null(o);
	assert_int_equal(o->len, n);
	assert_memory_equal(o->data, want, n);
}

static void test_global_defaults(void **state)
{
	struct dhcp_conf *c = parse_ok("");
	const struct dhcp_scope *g = &c->global;

	(void)state;
	assert_int_equal(g->default_lease_time_s, 43200);
	assert_int_equal(g->max_lease_time_s, 86400);
	assert_false(g->authoritative);
	assert_true(g->allow_bootp && g->allow_unknown && g->allow_booting);
	assert_int_equal(c->log_facility, LOG_DAEMON);
	assert_ptr_equal(dhcp_scope_param(g, DHCP_P_DEFAULT_LEASE_TIME), g);
	assert_null(dhcp_scope_param(g, DHCP_P_NEXT_SERVER));
	assert_null(c->lease_file);
	assert_int_equal(c->local_port, 0);
	dhcp_conf_free(c);
}

static void test_subnet_range_implicit_pool(void **state)
{
	struct dhcp_conf *c = parse_ok(SUBNET "{ range 192.0.2.10 192.0.2.20; }");
	struct dhcp_subnet *s;

	(void)state;
	assert_int_equal(c->subnets_n, 1);
	s = c->subnets[0];
	assert_int_equal(s->net, IP(192, 0, 2, 0));
	assert_int_equal(s->mask, IP(255, 255, 255, 0));
	assert_int_equal(s->pools_n, 1);
	assert_int_equal(s->pools[0]->ranges_n, 1);
	assert_int_equal(s->pools[0]->ranges[0].lo, IP(192, 0, 2, 10));
	assert_int_equal(s->pools[0]->ranges[0].hi, IP(192, 0, 2, 20));
	assert_false(s->pools[0]->ranges[0].dynamic_bootp);
	assert_ptr_equal(s->pools[0]->subnet, s);
	assert_ptr_equal(s->pools[0]->scope.parent, &s->scope);
	/* A lone subnet gets an implicit shared network whose parent is global. */
	assert_int_equal(c->shared_n, 1);
	assert_ptr_equal(s->shared, c->shared[0]);
	assert_null(s->shared->name);
	assert_int_equal(s->shared->subnets_n, 1);
	assert_ptr_equal(s->scope.parent, &s->shared->scope);
	assert_ptr_equal(s->shared->scope.parent, &c->global);
	dhcp_conf_free(c);
}

static void test_range_forms(void **state)
{
	struct dhcp_conf *c = parse_ok(SUBNET "{ range dynamic-bootp 192.0.2.30 192.0.2.25; "
					      "range 192.0.2.40; }");
	const struct dhcp_pool *p;

	(void)state;
	assert_int_equal(c->subnets[0]->pools_n, 1); /* both ranges in the implicit pool */
	p = c->subnets[0]->pools[0];
	assert_int_equal(p->ranges_n, 2);
	assert_true(p->ranges[0].dynamic_bootp);
	assert_int_equal(p->ranges[0].lo, IP(192, 0, 2, 25)); /* reversed bounds are swapped */
	assert_int_equal(p->ranges[0].hi, IP(192, 0, 2, 30));
	assert_int_equal(p->ranges[1].lo, IP(192, 0, 2, 40));
	assert_int_equal(p->ranges[1].hi, IP(192, 0, 2, 40));
	dhcp_conf_free(c);
}

static void test_shared_network(void **state)
{
	struct dhcp_conf *c =
	    parse_ok("shared-network \"office lan\" { option routers 192.0.2.1;\n" SUBNET "{ }\n"
		     "subnet 198.51.100.0 netmask 255.255.255.0 { }\n"
		     "pool { range 198.51.100.10 198.51.100.20; } }\n"
		     "shared-network bare { subnet 203.0.113.0 netmask "
		     "255.255.255.0 { } }");
	struct dhcp_subnet *s2;

	(void)state;
	assert_int_equal(c->shared_n, 2);
	assert_string_equal(c->shared[0]->name, "office lan");
	assert_string_equal(c->shared[1]->name, "bare");
	assert_int_equal(c->shared[0]->subnets_n, 2);
	assert_int_equal(c->subnets_n, 3);
	s2 = c->subnets[1];
	assert_ptr_equal(s2->shared, c->shared[0]);
	assert_ptr_equal(s2->scope.parent, &c->shared[0]->scope);
	/* The shared network's pool lands in the subnet holding its range, under its scope. */
	assert_int_equal(c->subnets[0]->pools_n, 0);
	assert_int_equal(s2->pools_n, 1);
	assert_ptr_equal(s2->pools[0]->subnet, s2);
	assert_ptr_equal(s2->pools[0]->scope.parent, &s2->scope);
	assert_non_null(dhcp_scope_opt(&s2->pools[0]->scope, 3));
	dhcp_conf_free(c);
}

static void test_host(void **state)
{
	struct dhcp_conf *c = parse_ok("host pc1.example { hardware ethernet 0:0:c0:5d:bd:95;\n"
				       "fixed-address 192.0.2.5, 198.51.100.5;\n"
				       "option dhcp-client-identifier 1:0:0:c0:5d:bd:95;\n"
				       "option host-name \"pc1\"; }");
	const struct dhcp_host *h;
	const uint8_t mac[] = {0, 0, 0xc0, 0x5d, 0xbd, 0x95};
	const uint8_t cid[] = {1, 0, 0, 0xc0, 0x5d, 0xbd, 0x95};

	(void)state;
	assert_int_equal(c->hosts_n, 1);
	h = c->hosts[0];
	assert_string_equal(h->name, "pc1.example");
	assert_int_equal(h->htype, 1);
	assert_int_equal(h->hlen, 6);
	assert_memory_equal(h->hw, mac, 6);
	assert_int_equal(h->fixed_n, 2);
	assert_int_equal(h->fixed[0], IP(192, 0, 2, 5));
	assert_int_equal(h->fixed[1], IP(198, 51, 100, 5));
	assert_int_equal(h->client_id_len, sizeof(cid));
	assert_memory_equal(h->client_id, cid, sizeof(cid));
	/* The identifier selects the host; it is not an option to send. */
	assert_null(dhcp_scope_opt(&h->scope, 61));
	assert_opt(&h->scope, 12, (const uint8_t *)"pc1", 3);
	assert_ptr_equal(h->scope.parent, &c->global);
	dhcp_conf_free(c);
}

static void test_host_string_client_id(void **state)
{
	struct dhcp_conf *c = parse_ok("host a { option dhcp-client-identifier \"abc\"; }");

	(void)state;
	assert_int_equal(c->hosts[0]->client_id_len, 3);
	assert_memory_equal(c->hosts[0]->client_id, "abc", 3);
	assert_int_equal(c->hosts[0]->hlen, 0);
	dhcp_conf_free(c);
}

static void test_group_inheritance(void **state)
{
	struct dhcp_conf *c = parse_ok("default-lease-time 600; option domain-name \"g\";\n"
				       "group { max-lease-time 900; group named {\n"
				       "option domain-name \"inner\";\n"
				       "host h { hardware ethernet 1:2:3:4:5:6; } } }");
	const struct dhcp_scope *hs, *s;

	(void)state;
	hs = &c->hosts[0]->scope;
	s = dhcp_scope_param(hs, DHCP_P_MAX_LEASE_TIME);
	assert_non_null(s);
	assert_int_equal(s->max_lease_time_s, 900);
	assert_ptr_equal(dhcp_scope_param(hs, DHCP_P_DEFAULT_LEASE_TIME), &c->global);
	assert_int_equal(c->global.default_lease_time_s, 600);
	assert_opt(hs, 15, (const uint8_t *)"inner", 5);
	assert_opt(&c->global, 15, (const uint8_t *)"g", 1);
	dhcp_conf_free(c);
}

static void test_pool_permits(void **state)
{
	struct dhcp_conf *c =
	    parse_ok(SUBNET "{ pool { allow known-clients; deny unknown-clients;"
			    " allow dynamic bootp clients; range 192.0.2.10 192.0.2.20; }"
			    " pool { deny all clients; range 192.0.2.30 192.0.2.40; } }");
	const struct dhcp_subnet *s;

	(void)state;
	s = c->subnets[0];
	assert_int_equal(s->pools_n, 2);
	assert_int_equal(s->pools[0]->allow, DHCP_PERMIT_KNOWN | DHCP_PERMIT_DYNAMIC_BOOTP);
	assert_int_equal(s->pools[0]->deny, DHCP_PERMIT_UNKNOWN);
	assert_int_equal(s->pools[1]->allow, 0);
	assert_int_equal(s->pools[1]->deny, DHCP_PERMIT_ALL);
	assert_null(s->pools[0]->failover_peer);
	dhcp_conf_free(c);
}

#define FO_PRIMARY                                                                                 \
	"failover peer \"anchor-fo\" {\n primary;\n address 192.0.2.1;\n port 647;\n"             \
	" peer address 192.0.2.2;\n peer port 647;\n max-response-delay 30;\n"                   \
	" max-unacked-updates 10;\n mclt 1800;\n split 128;\n load balance max seconds 3;\n}\n"
#define FO_POOL(net) "subnet " net ".0 netmask 255.255.255.0 {\n pool {\n  failover peer \"anchor-fo\";\n  range " net ".10 " net ".20;\n }\n}\n"

/* The interop pair's primary (shared/interop/isc-failover-primary.conf), field by field. */
static void test_failover_primary(void **state)
{
	struct dhcp_conf *c;
	const struct dhcp_failover_peer *fo;
	uint8_t hba[32];

	(void)state;
	c = parse_ok(FO_PRIMARY FO_POOL("192.0.2") FO_POOL("198.51.100"));
	assert_int_equal(c->failover_peers_n, 1);
	fo = c->failover_peers[0];
	assert_string_equal(fo->name, "anchor-fo");
	assert_int_equal(fo->line, 1);
	assert_int_equal(fo->role, DHCP_FO_PRIMARY);
	assert_int_equal(fo->address, IP(192, 0, 2, 1));
	assert_int_equal(fo->peer_address, IP(192, 0, 2, 2));
	assert_int_equal(fo->port, 647);
	assert_int_equal(fo->peer_port, 647);
	assert_int_equal(fo->max_response_delay, 30);
	assert_int_equal(fo->max_unacked_updates, 10);
	assert_int_equal(fo->mclt, 1800);
	assert_int_equal(fo->load_balance_max_secs, 3);
	assert_true(fo->has_hba);
	memset(hba, 0xff, 16);
	memset(hba + 16, 0, 16);
	assert_memory_equal(fo->hba, hba, sizeof(hba));
	/* ISC's defaults for what it does not say. */
	assert_int_equal(fo->max_lease_misbalance, 15);
	assert_int_equal(fo->max_lease_ownership, 10);
	assert_int_equal(fo->min_balance, 60);
	assert_int_equal(fo->max_balance, 3600);
	assert_int_equal(fo->auto_partner_down, 0);
	for (size_t i = 0; i < c->subnets_n; i++) {
		assert_ptr_equal(c->subnets[i]->pools[0]->fo, fo);
		assert_string_equal(c->subnets[i]->pools[0]->failover_peer, "anchor-fo");
	}
	dhcp_conf_free(c);
}

/* The secondary says little: no mclt, no split, defaults; no role at all means primary. */
static void test_failover_secondary_and_defaults(void **state)
{
	struct dhcp_conf *c;
	const struct dhcp_failover_peer *fo;

	(void)state;
	c = parse_ok("failover peer \"anchor-fo\" { secondary; address 192.0.2.2;"
		     " peer address 192.0.2.1; }\n" FO_POOL("192.0.2"));
	fo = c->failover_peers[0];
	assert_int_equal(fo->role, DHCP_FO_SECONDARY);
	assert_false(fo->has_hba);
	assert_int_equal(fo->mclt, 0);
	assert_int_equal(fo->max_response_delay, 20);
	assert_int_equal(fo->max_unacked_updates, 100);
	assert_int_equal(fo->port, 647);
	dhcp_conf_free(c);
	/* ISC quirks: "peer" before a statement that is not the partner's is ignored, a
	 * bare name is fine, and the role defaults to primary. */
	c = parse_ok("failover peer f { peer address 192.0.2.2; peer mclt 60; split 256;"
		     " peer port 700; peer max-unacked-updates 5; auto-partner-down 30;"
		     " max-lease-misbalance 20; max-lease-ownership 5; min-balance 30;"
		     " max-balance 600; hba ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:ff:"
		     "00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:01; }\n");
	fo = c->failover_peers[0];
	assert_int_equal(fo->role, DHCP_FO_PRIMARY);
	assert_int_equal(fo->mclt, 60);
	assert_int_equal(fo->peer_port, 700);
	assert_int_equal(fo->port, 647);
	assert_int_equal(fo->peer_max_unacked_updates, 5);
	assert_int_equal(fo->auto_partner_down, 30);
	assert_int_equal(fo->max_lease_misbalance, 20);
	assert_int_equal(fo->max_lease_ownership, 5);
	assert_int_equal(fo->min_balance, 30);
	assert_int_equal(fo->max_balance, 600);
	assert_int_equal(fo->hba[31], 0x01); /* the later hba replaced split 256 */
	assert_int_equal(fo->hba[16], 0x00);
	dhcp_conf_free(c);
}

/* A peer declared in a shared-network (or named there) covers its pools. */
static void test_failover_shared_network(void **state)
{
	struct dhcp_conf *c;

	(void)state;
	c = parse_ok("shared-network s {\n failover peer \"f\" { primary; peer address 192.0.2.2;"
		     " mclt 60; split 128; }\n"
		     " subnet 198.51.100.0 netmask 255.255.255.0 { pool { range 198.51.100.10"
		     " 198.51.100.20; } }\n}\n");
	assert_non_null(c->subnets[0]->pools[0]->fo);
	assert_string_equal(c->subnets[0]->pools[0]->failover_peer, "f");
	dhcp_conf_free(c);
	c = parse_ok("failover peer \"f\" { primary; peer address 192.0.2.2; mclt 60; split 1; }\n"
		     "shared-network s {\n failover peer \"f\";\n"
		     " subnet 198.51.100.0 netmask 255.255.255.0 { range 198.51.100.10"
		     " 198.51.100.20; }\n}\n"
		     "subnet 192.0.2.0 netmask 255.255.255.0 { range 192.0.2.10 192.0.2.20; }\n");
	assert_non_null(c->subnets[0]->pools[0]->fo);
	assert_null(c->subnets[1]->pools[0]->fo);
	dhcp_conf_free(c);
}

/* What ISC's parser refuses (checked with ISC dhcpd -t), refused with the place. */
static void test_failover_errors(void **state)
{
	(void)state;
	parse_err(SUBNET "{\n pool {\n  failover peer \"dhcp-failover\";\n"
		  "  range 192.0.2.10 192.0.2.20;\n }\n}",
		  CORE_EPARSE, "t.conf:3:17: failover peer \"dhcp-failover\" is not declared");
	parse_err("failover peer \"f\" { primary; address 192.0.2.1; mclt 60; split 128; }",
		  CORE_EPARSE, "t.conf:1:1: failover peer \"f\": peer address may not be omitted");
	parse_err("failover peer \"f\" { primary; peer address 192.0.2.2; split 128; }",
		  CORE_EPARSE, "t.conf:1:1: failover peer \"f\": primary failover server must have mclt");
	parse_err("failover peer \"f\" { peer address 192.0.2.2; mclt 60; }", CORE_EPARSE,
		  "t.conf:1:1: failover peer \"f\": primary failover server must have hba or split");
	parse_err("failover peer \"f\" { secondary; peer address 192.0.2.2; split 128; }",
		  CORE_EPARSE, "t.conf:1:56: secondary may not define load balance settings");
	parse_err("failover peer \"f\" { split 128; secondary; peer address 192.0.2.2; }",
		  CORE_EPARSE, "t.conf:1:32: secondary may not define load balance settings");
	parse_err("failover peer \"f\" { peer address 192.0.2.2; mclt 60; split 257; }",
		  CORE_EPARSE, "t.conf:1:60: expected a number from 0 to 256");
	parse_err("failover peer \"f\" { peer address 192.0.2.2; mclt 60; hba ff:ff; }",
		  CORE_EPARSE, "t.conf:1:58: hba must be exactly 32");
	parse_err("failover peer \"f\" { peer address 192.0.2.2; load balance max secs 3; }",
		  CORE_EPARSE, "t.conf:1:62: expected 'seconds'");
	parse_err("failover peer \"f\" { peer address 192.0.2.2; port 0; }", CORE_EPARSE,
		  "t.conf:1:50: port must be 1 to 65535");
	parse_err("failover peer \"f\" { peer address 192.0.2.2; mclt 60; split 1; }\n"
		  "failover peer \"f\" { peer address 192.0.2.2; mclt 60; split 1; }",
		  CORE_EPARSE, "t.conf:2:1: redeclaration of failover peer \"f\"");
	parse_err(SUBNET "{ failover peer \"f\" { primary; } }", CORE_EPARSE,
		  "t.conf:1:42: failover peers may only be defined in shared-network");
	parse_err("failover peer \"f\" { peer address 192.0.2.2; mclt 60; split 1; }\n"
		  "failover peer \"f\" state { my state normal; }",
		  CORE_EUNSUPP, "t.conf:2:19: unsupported statement 'failover peer \"f\" state'");
	parse_err("failover peer \"f\" { peer address 192.0.2.2; foo 1; }", CORE_EPARSE,
		  "t.conf:1:45: invalid statement in failover peer declaration: 'foo'");
	parse_err("failover peer \"f\" { peer address 192.0.2.2;", CORE_EPARSE,
		  "t.conf:1:44: end of file inside failover peer \"f\"");
}

static int fake_lookup(void *ctx, const char *name, uint32_t *addr, char *why, size_t whylen);

/* A peer address written as a name is looked up like any other. */
static void test_failover_address_name(void **state)
{
	struct dhcp_conf *c;
	int lookups = 0;

	(void)state;
	c = parse_ok("failover peer \"f\" { secondary; address pc.example.com;"
		     " peer address gone.example.com; }\n");
	assert_int_equal(c->failover_peers[0]->address, 0);
	assert_string_equal(c->failover_peers[0]->peer_address_name, "gone.example.com");
	assert_int_equal(dhcp_conf_resolve(c, fake_lookup, &lookups), 1);
	assert_int_equal(c->failover_peers[0]->address, IP(192, 0, 2, 77));
	assert_int_equal(c->failover_peers[0]->peer_address, 0);
	dhcp_conf_free(c);
}

static void test_lease_times(void **state)
{
	struct dhcp_conf *c =
	    parse_ok("default-lease-time 600; max-lease-time 7200;\n"
		     "min-lease-time 60; ping-timeout 3;\n" SUBNET "{ default-lease-time 0x10; }");
	const struct dhcp_scope *s = &c->subnets[0]->scope;

	(void)state;
	assert_int_equal(c->global.default_lease_time_s, 600);
	assert_int_equal(c->global.max_lease_time_s, 7200);
	assert_int_equal(c->global.min_lease_time_s, 60);
	assert_true(c->global.set & (1u << DHCP_P_MIN_LEASE_TIME));
	assert_int_equal(c->global.ping_timeout_s, 3);
	assert_int_equal(dhcp_scope_param(s, DHCP_P_DEFAULT_LEASE_TIME)->default_lease_time_s, 16);
	assert_ptr_equal(dhcp_scope_param(s, DHCP_P_MAX_LEASE_TIME), &c->global);
	dhcp_conf_free(c);
}

static void test_authoritative(void **state)
{
	struct dhcp_conf *c = parse_ok("authoritative;\n" SUBNET "{ not authoritative; }");

	(void)state;
	assert_true(c->global.authoritative);
	assert_false(dhcp_scope_param(&c->subnets[0]->scope, DHCP_P_AUTHORITATIVE)->authoritative);
	dhcp_conf_free(c);
}

static void test_flags(void **state)
{
	struct dhcp_conf *c = parse_ok("ping-check false; one-lease-per-client on;\n"
				       "always-broadcast true; get-lease-hostnames off;\n"
				       "use-host-decl-names on;");
	const struct dhcp_scope *g = &c->global;

	(void)state;
	assert_false(g->ping_check);
	assert_true(g->one_lease_per_client);
	assert_true(g->always_broadcast);
	assert_false(g->get_lease_hostnames);
	assert_true(g->use_host_decl_names);
	dhcp_conf_free(c);
	parse_err("ping-check yes;", CORE_EPARSE,
		  "t.conf:1:12: expected true, false, on or off, got 'yes'");
}

static void test_allow_deny_scope(void **state)
{
	struct dhcp_conf *c = parse_ok("deny unknown-clients; deny bootp; ignore booting;\n" SUBNET
				       "{ allow unknown-clients; }");
	const struct dhcp_scope *s = &c->subnets[0]->scope;

	(void)state;
	assert_false(c->global.allow_unknown);
	assert_false(c->global.allow_bootp);
	assert_false(c->global.allow_booting);
	assert_true(c->global.set & (1u << DHCP_P_BOOTING));
	assert_true(dhcp_scope_param(s, DHCP_P_UNKNOWN_CLIENTS)->allow_unknown);
	assert_ptr_equal(dhcp_scope_param(s, DHCP_P_BOOTP), &c->global);
	dhcp_conf_free(c);
	parse_err("allow known-clients;", CORE_EPARSE, "t.conf:1:7: expected unknown-clients");
	parse_err("deny duplicates;", CORE_EUNSUPP, "t.conf:1:6: unsupported statement");
}

static void test_ddns(void **state)
{
	struct dhcp_conf *c = parse_ok("ddns-update-style none; ddns-updates off;\n"
				       "update-static-leases on; dhcp-cache-threshold 25;\n"
				       "server-id-check off;");

	(void)state;
	dhcp_conf_free(c);
	parse_err("server-id-check maybe;", CORE_EPARSE, "t.conf:1:17:");
	parse_err("ddns-update-style interim;", CORE_EUNSUPP,
		  "t.conf:1:19: unsupported statement 'ddns-update-style interim'");
	parse_err("ddns-updates on;", CORE_EUNSUPP,
		  "t.conf:1:14: unsupported statement 'ddns-updates on'");
	parse_err("ddns-domainname \"x\";", CORE_EUNSUPP,
		  "t.conf:1:1: unsupported statement 'ddns-domainname'");
}

static void test_global_only_statements(void **state)
{
	struct dhcp_conf *c = parse_ok("log-facility local7; lease-file-name \"/var/l\";\n"
				       "pid-file-name \"/run/p\"; local-address 192.0.2.1;\n"
				       "local-port 1067;");

	(void)state;
	assert_int_equal(c->log_facility, LOG_LOCAL7);
	assert_string_equal(c->lease_file, "/var/l");
	assert_string_equal(c->pid_file, "/run/p");
	assert_int_equal(c->local_address, IP(192, 0, 2, 1));
	assert_int_equal(c->local_port, 1067);
	dhcp_conf_free(c);
	parse_err(SUBNET "{ log-facility local7; }", CORE_EPARSE,
		  "t.conf:1:42: 'log-facility' is only valid at global scope");
	parse_err("log-facility foo;", CORE_EPARSE, "t.conf:1:14: expected a syslog facility");
}

static void test_boot_parameters(void **state)
{
	struct dhcp_conf *c = parse_ok("next-server 192.0.2.2; filename \"pxelinux.0\";\n"
				       "server-name \"boot\"; server-identifier 192.0.2.1;");
	const struct dhcp_scope *g = &c->global;

	(void)state;
	assert_int_equal(g->next_server, IP(192, 0, 2, 2));
	assert_string_equal(g->filename, "pxelinux.0");
	assert_string_equal(g->server_name, "boot");
	assert_int_equal(g->server_identifier, IP(192, 0, 2, 1));
	assert_ptr_equal(dhcp_scope_param(g, DHCP_P_FILENAME), g);
	assert_ptr_equal(dhcp_scope_param(g, DHCP_P_SERVER_IDENTIFIER), g);
	dhcp_conf_free(c);
}

static void test_comments_and_escapes(void **state)
{
	struct dhcp_conf *c = parse_ok("# comment\noption domain-name \"a\\tb\\x41\\101\\\"\\\\q\";"
				       " # trailing\n");
	const uint8_t want[] = {'a', '\t', 'b', 'A', 'A', '"', '\\', 'q'};

	(void)state;
	assert_opt(&c->global, 15, want, sizeof(want));
	dhcp_conf_free(c);
}

static void test_option_addresses(void **state)
{
	struct dhcp_conf *c = parse_ok("option routers 192.0.2.1;\n"
				       "option domain-name-servers 192.0.2.53, 198.51.100.53;\n"
				       "option subnet-mask 255.255.255.0;\n"
				       "option broadcast-address 192.0.2.255;\n"
				       "option ntp-servers 192.0.2.123;\n"
				       "option netbios-name-servers 192.0.2.7;");
	const uint8_t dns[] = {192, 0, 2, 53, 198, 51, 100, 53};

	(void)state;
	assert_opt(&c->global, 3, (const uint8_t[]){192, 0, 2, 1}, 4);
	assert_opt(&c->global, 6, dns, sizeof(dns));
	assert_opt(&c->global, 1, (const uint8_t[]){255, 255, 255, 0}, 4);
	assert_opt(&c->global, 28, (const uint8_t[]){192, 0, 2, 255}, 4);
	assert_opt(&c->global, 42, (const uint8_t[]){192, 0, 2, 123}, 4);
	assert_opt(&c->global, 44, (const uint8_t[]){192, 0, 2, 7}, 4);
	dhcp_conf_free(c);
}

static void test_option_numbers_and_text(void **state)
{
	struct dhcp_conf *c =
	    parse_ok("option time-offset -18000; option interface-mtu 9000;\n"
		     "option netbios-node-type 8; option host-name \"h1\";\n"
		     "option tftp-server-name \"192.0.2.9\";\n"
		     "option bootfile-name \"pxelinux.0\"; option ip-forwarding off;\n"
		     "option netbios-scope \"\";");

	(void)state;
	assert_opt(&c->global, 2, (const uint8_t[]){0xff, 0xff, 0xb9, 0xb0}, 4);
	assert_opt(&c->global, 26, (const uint8_t[]){0x23, 0x28}, 2);
	assert_opt(&c->global, 46, (const uint8_t[]){8}, 1);
	assert_opt(&c->global, 12, (const uint8_t *)"h1", 2);
	assert_opt(&c->global, 66, (const uint8_t *)"192.0.2.9", 9);
	assert_opt(&c->global, 67, (const uint8_t *)"pxelinux.0", 10);
	assert_opt(&c->global, 19, (const uint8_t[]){0}, 1);
	assert_opt(&c->global, 47, (const uint8_t *)"", 0);
	dhcp_conf_free(c);
	parse_err("option interface-mtu 65536;", CORE_EPARSE,
		  "t.conf:1:22: expected a 16-bit integer");
	parse_err("option domain-name example.com;", CORE_EPARSE,
		  "t.conf:1:20: expected a quoted string");
}

/* ISC takes a bare name (no dots) where text is expected. */
static void test_bare_name_as_text(void **state)
{
	struct dhcp_conf *c = parse_ok("option host-name pc-1; filename pxe_0;");

	(void)state;
	assert_opt(&c->global, 12, (const uint8_t *)"pc-1", 4);
	assert_string_equal(c->global.filename, "pxe_0");
	dhcp_conf_free(c);
	parse_err("filename pxe.0;", CORE_EPARSE,
		  "t.conf:1:10: expected a quoted string after 'filename', got 'pxe.0'");
}

/* RFC 3397 section 3's example: the second name points at "apple.com" of the first. */
static void test_option_domain_search(void **state)
{
	struct dhcp_conf *c = parse_ok("option domain-search \"eng.apple.com.\", "
				       "\"marketing.apple.com\";");
	const uint8_t want[] = {3, 'e', 'n', 'g', 5,   'a', 'p', 'p', 'l', 'e', 3,   'c',  'o', 'm',
				0, 9,   'm', 'a', 'r', 'k', 'e', 't', 'i', 'n', 'g', 0xc0, 4};

	(void)state;
	assert_opt(&c->global, 119, want, sizeof(want));
	dhcp_conf_free(c);
	parse_err("option domain-search example.com;", CORE_EPARSE,
		  "t.conf:1:22: expected a quoted domain name");
}

/* Bytes as ISC dhcpd 4.4.3 sent them in a DHCPOFFER for the same statement. */
static void test_option_domain_search_whole_name(void **state)
{
	struct dhcp_conf *c = parse_ok("option domain-search \"example.com\", \"EXAMPLE.com\",\n"
				       "\"a.example.com\", \"b.a.example.com\";");
	const uint8_t want[] = {7, 'e',  'x', 'a', 'm', 'p',  'l', 'e', 3,   'c',  'o', 'm',
				0, 0xc0, 0,   1,   'a', 0xc0, 0,   1,   'b', 0xc0, 15};

	(void)state;
	assert_opt(&c->global, 119, want, sizeof(want));
	dhcp_conf_free(c);
}

static void test_option_classless_routes(void **state)
{
	struct dhcp_conf *c =
	    parse_ok("option rfc3442-classless-static-routes code 121 = array of integer 8;\n"
		     "option ms-classless-static-routes code 249 = array of integer 8;\n" SUBNET
		     "{ option rfc3442-classless-static-routes 24, 198, 51, 100, 192, 0, 2, 1,\n"
		     "  0, 192, 0, 2, 1;\n"
		     "  option ms-classless-static-routes 0, 192, 0, 2, 1; }");
	const uint8_t r121[] = {24, 198, 51, 100, 192, 0, 2, 1, 0, 192, 0, 2, 1};
	const uint8_t r249[] = {0, 192, 0, 2, 1};

	(void)state;
	assert_int_equal(c->optdefs_n, 2);
	assert_string_equal(c->optdefs[0].name, "rfc3442-classless-static-routes");
	assert_int_equal(c->optdefs[0].code, 121);
	assert_string_equal(c->optdefs[0].format, "bA");
	assert_opt(&c->subnets[0]->scope, 121, r121, sizeof(r121));
	assert_opt(&c->subnets[0]->scope, 249, r249, sizeof(r249));
	dhcp_conf_free(c);
	parse_err("option rfc3442-classless-static-routes 24, 10;", CORE_EPARSE,
		  "t.conf:1:8: unknown option 'rfc3442-classless-static-routes'");
}

static void test_option_unsigned_array(void **state)
{
	struct dhcp_conf *c = parse_ok("option r code 121 = array of unsigned integer 8;\n"
				       "option r 24, 255;");

	(void)state;
	assert_opt(&c->global, 121, (const uint8_t[]){24, 255}, 2);
	dhcp_conf_free(c);
	/* As ISC: an 8-bit field takes -128 .. 255 whatever its declared sign. */
	parse_err("option r code 121 = array of integer 8; option r 1, 256;", CORE_EPARSE,
		  "t.conf:1:53: expected an 8-bit integer, got '256'");
	parse_err("option r code 121 = array of integer 8; option r -129;", CORE_EPARSE,
		  "t.conf:1:50: expected an 8-bit integer");
}

static void test_option_vendor_encapsulated(void **state)
{
	struct dhcp_conf *c = parse_ok("option vendor-encapsulated-options 1:4:c0:0:2:1:ff;\n"
				       "option vendor-class-identifier \"PXEClient\";");

	(void)state;
	assert_opt(&c->global, 43, (const uint8_t[]){1, 4, 0xc0, 0, 2, 1, 0xff}, 7);
	assert_opt(&c->global, 60, (const uint8_t *)"PXEClient", 9);
	dhcp_conf_free(c);
	parse_err("option vendor-encapsulated-options 1:4g;", CORE_EPARSE,
		  "t.conf:1:36: expected a quoted string or colon-separated hex bytes");
}

static void test_option_static_routes_pairs(void **state)
{
	struct dhcp_conf *c = parse_ok("option static-routes 198.51.100.0 192.0.2.1, "
				       "203.0.113.0 192.0.2.2;");
	const uint8_t want[] = {198, 51, 100, 0, 192, 0, 2, 1, 203, 0, 113, 0, 192, 0, 2, 2};

	(void)state;
	assert_opt(&c->global, 33, want, sizeof(want));
	dhcp_conf_free(c);
}

/* Expected bytes of this test and the ones above were captured from ISC dhcpd 4.4.3's offers. */
static void test_option_custom_types(void **state)
{
	struct dhcp_conf *c =
	    parse_ok("option a code 200 = { ip-address, unsigned integer 16, boolean, text };\n"
		     "option b code 201 = array of { ip-address, integer 8 };\n"
		     "option c code 202 = { unsigned integer 8, array of ip-address };\n"
		     "option d code 203 = signed integer 32; option e code 204 = string;\n"
		     "option f code 205 = domain-list compressed;\n"
		     "option a 192.0.2.1 513 true \"xy\"; option b 192.0.2.1 -1, 192.0.2.2 5;\n"
		     "option c 7 192.0.2.1, 192.0.2.2; option d -2; option e 0a:0b;\n"
		     "option f \"a.b\", \"c.a.b\";");
	const uint8_t a[] = {192, 0, 2, 1, 2, 1, 1, 'x', 'y'};
	const uint8_t b[] = {192, 0, 2, 1, 0xff, 192, 0, 2, 2, 5};
	const uint8_t cc[] = {7, 192, 0, 2, 1, 192, 0, 2, 2};
	const uint8_t f[] = {1, 'a', 1, 'b', 0, 1, 'c', 0xc0, 0};

	(void)state;
	assert_string_equal(c->optdefs[0].format, "ISft");
	assert_string_equal(c->optdefs[1].format, "IbA");
	assert_string_equal(c->optdefs[2].format, "BIa");
	assert_opt(&c->global, 200, a, sizeof(a));
	assert_opt(&c->global, 201, b, sizeof(b));
	assert_opt(&c->global, 202, cc, sizeof(cc));
	assert_opt(&c->global, 203, (const uint8_t[]){0xff, 0xff, 0xff, 0xfe}, 4);
	assert_opt(&c->global, 204, (const uint8_t[]){0x0a, 0x0b}, 2);
	assert_opt(&c->global, 205, f, sizeof(f));
	dhcp_conf_free(c);
}

static void test_option_domain_list_uncompressed(void **state)
{
	struct dhcp_conf *c =
	    parse_ok("option g code 206 = domain-list; option g \"a.b\", \"c.a.b\";");
	const uint8_t want[] = {1, 'a', 1, 'b', 0, 1, 'c', 1, 'a', 1, 'b', 0};

	(void)state;
	assert_string_equal(c->optdefs[0].format, "D");
	assert_opt(&c->global, 206, want, sizeof(want));
	dhcp_conf_free(c);
}

static void test_option_redefine_standard_name(void **state)
{
	struct dhcp_conf *c = parse_ok("option domain-search code 119 = text;\n"
				       "option domain-search \"raw\";");

	(void)state;
	assert_opt(&c->global, 119, (const uint8_t *)"raw", 3);
	dhcp_conf_free(c);
}

static void test_option_replaced_in_scope(void **state)
{
	struct dhcp_conf *c = parse_ok("option routers 192.0.2.1; option routers 192.0.2.2;");

	(void)state;
	assert_int_equal(c->global.opts_n, 1);
	assert_opt(&c->global, 3, (const uint8_t[]){192, 0, 2, 2}, 4);
	dhcp_conf_free(c);
}

static void test_option_unsupported_forms(void **state)
{
	(void)state;
	parse_err("option agent.circuit-id \"x\";", CORE_EUNSUPP,
		  "t.conf:1:8: unsupported option 'agent.circuit-id'");
	parse_err("option space foo;", CORE_EUNSUPP,
		  "t.conf:1:8: unsupported statement 'option space'");
	parse_err("option host-name = concat(\"a\", \"b\");", CORE_EUNSUPP,
		  "t.conf:1:18: unsupported option expression");
	parse_err("option domain-name-servers ns1..example.org;", CORE_EPARSE,
		  "t.conf:1:28: expected an IP address, got 'ns1..example.org'");
	parse_err("option x code 200 = { text, ip-address };", CORE_EPARSE,
		  "t.conf:1:27: a text, string or domain field must be the last field");
	parse_err("option x code 200 = array of text;", CORE_EPARSE,
		  "t.conf:1:30: an array of text");
	parse_err("option x code 200 = encapsulate foo;", CORE_EUNSUPP,
		  "t.conf:1:21: unsupported type 'encapsulate'");
}

static void test_err_unsupported_statement(void **state)
{
	(void)state;
	parse_err("# classes\n\n  class \"foo\" { match if substring(option "
		  "vendor-class-identifier, 0, 4) = \"SUNW\"; }",
		  CORE_EUNSUPP, "t.conf:3:3: unsupported statement 'class': client classes");
	parse_err("omapi-port 7911;", CORE_EUNSUPP,
		  "t.conf:1:1: unsupported statement 'omapi-port'");
	parse_err("on commit { set x = 1; }", CORE_EUNSUPP,
		  "t.conf:1:1: unsupported statement 'on'");
	parse_err("frobnicate 1;", CORE_EPARSE,
		  "t.conf:1:1: expected a parameter or declaration, got 'frobnicate'");
}

static void test_err_unterminated_block(void **state)
{
	(void)state;
	parse_err("\n" SUBNET "{\n range 192.0.2.10 192.0.2.20;\n", CORE_EPARSE,
		  "t.conf:2:1: subnet block is not closed: expected '}' before end of file");
	parse_err("}", CORE_EPARSE, "t.conf:1:1: '}' without an open block");
	parse_err("option routers 192.0.2.1", CORE_EPARSE,
		  "t.conf:1:25: expected ';' after the option value, got end of file");
	parse_err("option domain-name \"abc", CORE_EPARSE,
		  "t.conf:1:20: unterminated quoted string");
	parse_err(SUBNET "{ };", CORE_EPARSE,
		  "t.conf:1:43: expected a parameter or declaration, got ';'");
}

static void test_err_bad_ip(void **state)
{
	(void)state;
	parse_err("subnet 192.0.2.256 netmask 255.255.255.0 { }", CORE_EPARSE,
		  "t.conf:1:8: expected an IP address, got '192.0.2.256'");
	parse_err("option routers 192.0.2;", CORE_EPARSE,
		  "t.conf:1:16: expected an IP address, got '192.0.2'");
	parse_err("subnet 192.0.2.1 netmask 255.255.255.0 { }", CORE_EPARSE,
		  "t.conf:1:1: subnet 192.0.2.1 netmask 255.255.255.0: bad subnet number");
	parse_err("subnet 192.0.0.0 netmask 255.0.255.0 { }", CORE_EPARSE,
		  "t.conf:1:1: subnet netmask 255.0.255.0 is not contiguous");
}

/* ISC takes names only where it can look them up: not in a range or a subnet declaration. */
static void test_err_hostname_where_isc_refuses(void **state)
{
	(void)state;
	parse_err(SUBNET "{ range gw.example.com 192.0.2.20; }", CORE_EUNSUPP,
		  "t.conf:1:48: host name 'gw.example.com' where an IP address is expected: "
		  "write the address");
	parse_err("subnet net.example netmask 255.255.255.0 { }", CORE_EUNSUPP,
		  "t.conf:1:8: host name 'net.example'");
}

/* A table of names for dhcp_conf_resolve: what a DNS server would answer, and what not. */
static int fake_lookup(void *ctx, const char *name, uint32_t *addr, char *why, size_t whylen)
{
	static const struct {
		const char *name;
		uint32_t addr;
	} table[] = {{"ns1.example.org", IP(192, 0, 2, 53)},
		     {"ns2.example.org", IP(198, 51, 100, 53)},
		     {"pc.example.com", IP(192, 0, 2, 77)},
		     {"boot.example.com", IP(192, 0, 2, 9)}};

	(*(int *)ctx)++;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (!strcmp(table[i].name, name)) {
			*addr = table[i].addr;
			return 0;
		}
	}
	snprintf(why, whylen, "Name or service not known");
	return -1;
}

static const struct dhcp_opt *scope_opt(const struct dhcp_scope *s, uint8_t code)
{
	for (size_t i = 0; i < s->opts_n; i++)
		if (s->opts[i].code == code)
			return &s->opts[i];
	return NULL;
}

/*
 * Names where ISC takes them (options, fixed-address, next-server, server-identifier) parse
 * without a lookup; dhcp_conf_resolve fills in the addresses, and leaves out what it cannot
 * resolve: the whole option, that fixed address, the parameter.
 */
static void test_hostnames_resolved(void **state)
{
	static const uint8_t dns[] = {192, 0, 2, 53, 198, 51, 100, 53};
	struct dhcp_conf *c;
	const struct dhcp_opt *o;
	const struct dhcp_host *h;
	int lookups = 0;

	(void)state;
	c = parse_ok("option domain-name-servers ns1.example.org, ns2.example.org;\n"
		     "option ntp-servers ns1.example.org, nowhere.example.org;\n"
		     "option routers 192.0.2.1;\n"
		     "next-server boot.example.com;\n"
		     "server-identifier nowhere.example.org;\n"
		     "host pc {\n\thardware ethernet 1:2:3:4:5:6;\n"
		     "\tfixed-address gone.example.com, 192.0.2.20, pc.example.com;\n}\n");
	assert_int_equal(c->names_n, 8);
	o = scope_opt(&c->global, 6);
	assert_non_null(o);
	assert_int_equal(o->len, 8);
	assert_int_equal(o->data[0], 0); /* nothing looked up yet */
	assert_int_equal(dhcp_conf_resolve(c, fake_lookup, &lookups), 3);
	assert_int_equal(lookups, 8);
	o = scope_opt(&c->global, 6);
	assert_non_null(o);
	assert_memory_equal(o->data, dns, sizeof(dns));
	assert_null(scope_opt(&c->global, 42)); /* one name of two failed: left out */
	assert_non_null(scope_opt(&c->global, 3));
	assert_int_equal(c->global.next_server, IP(192, 0, 2, 9));
	assert_true(c->global.set & (1u << DHCP_P_NEXT_SERVER));
	assert_false(c->global.set & (1u << DHCP_P_SERVER_IDENTIFIER));
	h = c->hosts[0];
	assert_int_equal(h->fixed_n, 2);
	assert_int_equal(h->fixed[0], IP(192, 0, 2, 20));
	assert_int_equal(h->fixed[1], IP(192, 0, 2, 77));
	dhcp_conf_free(c);

	/* A value replaced later in the same scope: only the last one is looked up for use. */
	c = parse_ok("option routers gw.example.org;\noption routers 192.0.2.1;\n");
	lookups = 0;
	assert_int_equal(dhcp_conf_resolve(c, fake_lookup, &lookups), 1);
	o = scope_opt(&c->global, 3);
	assert_non_null(o);
	assert_int_equal(o->data[3], 1);
	dhcp_conf_free(c);
}

static void test_err_range_outside_subnet(void **state)
{
	(void)state;
	parse_err(SUBNET "{\n  range 198.51.100.10 198.51.100.20;\n}", CORE_EPARSE,
		  "t.conf:2:3: range 198.51.100.10 - 198.51.100.20 is not inside subnet 192.0.2.0 "
		  "netmask 255.255.255.0");
	parse_err("shared-network s { " SUBNET "{ }\n pool { range 203.0.113.1 203.0.113.9; } }",
		  CORE_EPARSE,
		  "t.conf:2:2: pool range 203.0.113.1 - 203.0.113.9 is not inside any");
}

static void test_err_overlapping_ranges(void **state)
{
	(void)state;
	parse_err(SUBNET "{\n range 192.0.2.10 192.0.2.20;\n pool {\n"
			 "  range 192.0.2.15 192.0.2.30; } }",
		  CORE_EPARSE,
		  "t.conf:4:3: range 192.0.2.15 - 192.0.2.30 overlaps the range at t.conf:2:2");
	parse_err(SUBNET "{ range 192.0.2.10 192.0.2.20; range 192.0.2.20; }", CORE_EPARSE,
		  "t.conf:1:71: range 192.0.2.20 - 192.0.2.20 overlaps");
}

static void test_err_structure(void **state)
{
	(void)state;
	parse_err("host a { } host a { }", CORE_EPARSE,
		  "t.conf:1:12: host a: already declared at t.conf:1:1");
	parse_err(SUBNET "{ pool { allow known-clients; } }", CORE_EPARSE,
		  "t.conf:1:42: pool has no range");
	parse_err("shared-network x { }", CORE_EPARSE,
		  "t.conf:1:1: shared-network 'x' declares no subnet");
	parse_err("range 192.0.2.1 192.0.2.2;", CORE_EPARSE,
		  "t.conf:1:1: 'range' is not allowed in a global block");
	parse_err("pool { range 192.0.2.1 192.0.2.2; }", CORE_EPARSE,
		  "t.conf:1:1: 'pool' is not allowed in a global block");
	parse_err("host a { host b { } }", CORE_EPARSE,
		  "t.conf:1:10: 'host' is not allowed in a host block");
	parse_err("host \"a\" { }", CORE_EPARSE, "t.conf:1:6: expected a name after 'host'");
	parse_err("host a { hardware ethernet 1:2:3:4:5; }", CORE_EPARSE,
		  "t.conf:1:28: ethernet address must have 6 bytes, got 5");
	parse_err(SUBNET "{ pool { ignore unknown-clients; range 192.0.2.1; } }", CORE_EPARSE,
		  "t.conf:1:49: 'ignore' is not valid in a pool");
	parse_err(SUBNET "{ pool { allow members of \"x\"; range 192.0.2.1; } }", CORE_EUNSUPP,
		  "t.conf:1:55: unsupported pool permit 'members'");
}

static void test_err_limits(void **state)
{
	char deep[40 * 10 + 1] = "", word[1600];

	(void)state;
	for (int i = 0; i < 40; i++)
		strcat(deep, "group { ");
	parse_err(deep, CORE_ETOOBIG, "t.conf:1:257: blocks nested deeper than 32");
	memset(word, 'a', sizeof(word) - 1);
	word[sizeof(word) - 1] = '\0';
	parse_err(word, CORE_ETOOBIG, "t.conf:1:1: word longer than 1500 bytes");
	parse_err("option domain-name \"a\001\";\x01", CORE_EPARSE,
		  "t.conf:1:25: unexpected byte 0x01");
	parse_err("include \"/etc/hosts\";", CORE_EUNSUPP,
		  "t.conf:1:1: include is not available when parsing from memory");
}

static void test_subnet_for(void **state)
{
	struct dhcp_conf *c = parse_ok("subnet 192.0.2.0 netmask 255.255.255.0 { }\n"
				       "subnet 192.0.2.128 netmask 255.255.255.128 { }\n"
				       "subnet 198.51.100.0 netmask 255.255.255.0 { }");

	(void)state;
	assert_ptr_equal(dhcp_conf_subnet_for(c, IP(192, 0, 2, 5)), c->subnets[0]);
	assert_ptr_equal(dhcp_conf_subnet_for(c, IP(192, 0, 2, 200)), c->subnets[1]);
	assert_ptr_equal(dhcp_conf_subnet_for(c, IP(198, 51, 100, 255)), c->subnets[2]);
	assert_null(dhcp_conf_subnet_for(c, IP(203, 0, 113, 1)));
	assert_null(c->subnets_by_net); /* overlapping declarations: scanned */
	dhcp_conf_free(c);
}

static void test_subnet_for_indexed(void **state)
{
	struct dhcp_conf *c = parse_ok("subnet 198.51.100.0 netmask 255.255.255.0 { }\n"
				       "subnet 192.0.2.128 netmask 255.255.255.128 { }\n"
				       "subnet 192.0.2.0 netmask 255.255.255.128 { }\n"
				       "subnet 203.0.113.0 netmask 255.255.255.252 { }");

	(void)state;
	assert_non_null(c->subnets_by_net);
	assert_ptr_equal(dhcp_conf_subnet_for(c, IP(192, 0, 2, 5)), c->subnets[2]);
	assert_ptr_equal(dhcp_conf_subnet_for(c, IP(192, 0, 2, 128)), c->subnets[1]);
	assert_ptr_equal(dhcp_conf_subnet_for(c, IP(198, 51, 100, 255)), c->subnets[0]);
	assert_ptr_equal(dhcp_conf_subnet_for(c, IP(203, 0, 113, 3)), c->subnets[3]);
	assert_null(dhcp_conf_subnet_for(c, IP(203, 0, 113, 4)));
	assert_null(dhcp_conf_subnet_for(c, IP(10, 0, 0, 1)));
	assert_null(dhcp_conf_subnet_for(c, IP(255, 255, 255, 255)));
	dhcp_conf_free(c);
}

static void test_option_table(void **state)
{
	(void)state;
	assert_int_equal(dhcp_option_by_name("routers")->code, 3);
	assert_int_equal(dhcp_option_by_name("DOMAIN-SEARCH")->code, 119);
	assert_string_equal(dhcp_option_by_code(6)->name, "domain-name-servers");
	assert_null(dhcp_option_by_name("no-such-option"));
	assert_null(dhcp_option_by_code(0));
	assert_null(dhcp_option_by_code(255));
}

/* Writes text to dir/name and returns the path in a static buffer slot. */
static const char *write_file(const char *dir, const char *name, const char *text, char *path,
			      size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void test_include(void **state)
{
	char dir[] = "/tmp/paceless-conf-XXXXXX", main_p[256], inc_p[256], inc2_p[256];
	char text[512];
	struct dhcp_conf *c = NULL;
	int r;

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, "inner.conf", "option routers 192.0.2.1;\n", inc2_p, sizeof(inc2_p));
	snprintf(text, sizeof(text), "range 192.0.2.10 192.0.2.20;\ninclude \"%s\";\n", inc2_p);
	write_file(dir, "subnet.conf", text, inc_p, sizeof(inc_p));
	snprintf(text, sizeof(text), "default-lease-time 60;\n" SUBNET "{\ninclude \"%s\";\n}\n",
		 inc_p);
	write_file(dir, "dhcpd.conf", text, main_p, sizeof(main_p));
	r = dhcp_conf_load(main_p, &c, errbuf, sizeof(errbuf));
	if (r)
		print_error("%s\n", errbuf);
	assert_int_equal(r, 0);
	assert_int_equal(c->subnets[0]->pools[0]->ranges[0].lo, IP(192, 0, 2, 10));
	assert_opt(&c->subnets[0]->scope, 3, (const uint8_t[]){192, 0, 2, 1}, 4);
	dhcp_conf_free(c);
	/* Errors in an included file name that file. */
	write_file(dir, "inner.conf", "\n  option routers 192.0.2.300;\n", inc2_p, sizeof(inc2_p));
	r = dhcp_conf_load(main_p, &c, errbuf, sizeof(errbuf));
	assert_int_equal(r, CORE_EPARSE);
	snprintf(text, sizeof(text), "%s:2:18: expected an IP address", inc2_p);
	assert_memory_equal(errbuf, text, strlen(text));
	unlink(inc2_p);
	unlink(inc_p);
	unlink(main_p);
	rmdir(dir);
}

static void test_include_errors(void **state)
{
	char dir[] = "/tmp/paceless-conf-XXXXXX", main_p[256], text[512];
	struct dhcp_conf *c = NULL;
	int r;

	(void)state;
	assert_non_null(mkdtemp(dir));
	/* A file that includes itself stops at the depth limit. */
	snprintf(text, sizeof(text), "include \"%s/loop.conf\";\n", dir);
	write_file(dir, "loop.conf", text, main_p, sizeof(main_p));
	r = dhcp_conf_load(main_p, &c, errbuf, sizeof(errbuf));
	assert_int_equal(r, CORE_ETOOBIG);
	assert_non_null(strstr(errbuf, "includes nested deeper than 16"));
	/* A missing file. */
	snprintf(text, sizeof(text), "\ninclude \"%s/missing.conf\";\n", dir);
	write_file(dir, "loop.conf", text, main_p, sizeof(main_p));
	r = dhcp_conf_load(main_p, &c, errbuf, sizeof(errbuf));
	assert_int_equal(r, -ENOENT);
	snprintf(text, sizeof(text), "%s:2:1: include \"%s/missing.conf\": No such file", main_p,
		 dir);
	assert_memory_equal(errbuf, text, strlen(text));
	/* An included file may not leave a block open. */
	write_file(dir, "open.conf", SUBNET "{\n", text, sizeof(text));
	snprintf(main_p + strlen(dir), sizeof(main_p) - strlen(dir), "/loop.conf");
	{
		char t2[512], p2[256];

		snprintf(t2, sizeof(t2), "include \"%s\";\n}\n", text);
		write_file(dir, "loop.conf", t2, p2, sizeof(p2));
		r = dhcp_conf_load(p2, &c, errbuf, sizeof(errbuf));
		assert_int_equal(r, CORE_EPARSE);
		assert_non_null(strstr(errbuf, "end of included file inside a block"));
	}
	unlink(text);
	unlink(main_p);
	rmdir(dir);
	r = dhcp_conf_load("/nonexistent/dhcpd.conf", &c, errbuf, sizeof(errbuf));
	assert_int_equal(r, -ENOENT);
	assert_null(c);
}

/* Debian's shipped example: it names its DNS servers by host name (looked up only to serve). */
static void test_debian_example(void **state)
{
	static const char *const paths[] = {"/usr/share/doc/isc-dhcp-server/dhcpd.conf.example",
					    "/etc/dhcp/dhcpd.conf"};
	struct dhcp_conf *c = NULL;
	const char *path = NULL;
	char want[300];
	int r;

	(void)state;
	for (size_t i = 0; i < 2 && !path; i++)
		if (access(paths[i], R_OK) == 0)
			path = paths[i];
	if (!path)
		skip();
	r = dhcp_conf_load(path, &c, errbuf, sizeof(errbuf));
	if (r)
		print_error("%s\n", errbuf);
	assert_int_equal(r, 0);
	for (size_t i = 0; i < c->names_n; i++) {
		snprintf(want, sizeof(want), "ns%zu.example.org", i + 1);
		if (strcmp(c->names[i].name, want)) /* a locally edited /etc/dhcp/dhcpd.conf */
			break;
	}
	dhcp_conf_free(c);
}

/* Loads every file of tests/data/conf/SUB and expects code for each; -1 when absent. */
static int check_data_dir(const char *sub, int code)
{
	char dir[512], src[512], path[1024];
	struct dhcp_conf *c;
	struct dirent *e;
	DIR *d;
	int n = 0, r;

	snprintf(src, sizeof(src), "%s", __FILE__);
	snprintf(dir, sizeof(dir), "%s/../../data/conf/%s", dirname(src), sub);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		if (!strstr(e->d_name, ".conf"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		c = NULL;
		r = dhcp_conf_load(path, &c, errbuf, sizeof(errbuf));
		/*
		 * A failover peer parses (as in ISC) and the daemon refuses to run it, with
		 * 'unsupported', until it speaks the protocol (test_dhcpd_conf_check.py).
		 */
		if (code == CORE_EUNSUPP && r == 0 && c->failover_peers_n)
			r = CORE_EUNSUPP;
		if (r != code)
			print_error("%s: got %d (%s), want %d\n", path, r, errbuf, code);
		assert_int_equal(r, code);
		dhcp_conf_free(c);
		n++;
	}
	closedir(d);
	return n;
}

/* The example configurations the system tests also feed to ISC dhcpd -t. */
static void test_data_configs(void **state)
{
	(void)state;
	if (check_data_dir("accept", 0) < 0)
		skip(); /* source tree not reachable from the build directory */
	assert_true(check_data_dir("reject", CORE_EPARSE) > 0);
	assert_true(check_data_dir("unsupported", CORE_EUNSUPP) > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_global_defaults),
	    cmocka_unit_test(test_subnet_range_implicit_pool),
	    cmocka_unit_test(test_range_forms),
	    cmocka_unit_test(test_shared_network),
	    cmocka_unit_test(test_host),
	    cmocka_unit_test(test_host_string_client_id),
	    cmocka_unit_test(test_group_inheritance),
	    cmocka_unit_test(test_pool_permits),
	    cmocka_unit_test(test_failover_primary),
	    cmocka_unit_test(test_failover_secondary_and_defaults),
	    cmocka_unit_test(test_failover_shared_network),
	    cmocka_unit_test(test_failover_errors),
	    cmocka_unit_test(test_failover_address_name),
	    cmocka_unit_test(test_lease_times),
	    cmocka_unit_test(test_authoritative),
	    cmocka_unit_test(test_flags),
	    cmocka_unit_test(test_allow_deny_scope),
	    cmocka_unit_test(test_ddns),
	    cmocka_unit_test(test_global_only_statements),
	    cmocka_unit_test(test_boot_parameters),
	    cmocka_unit_test(test_comments_and_escapes),
	    cmocka_unit_test(test_option_addresses),
	    cmocka_unit_test(test_option_numbers_and_text),
	    cmocka_unit_test(test_bare_name_as_text),
	    cmocka_unit_test(test_option_domain_search),
	    cmocka_unit_test(test_option_domain_search_whole_name),
	    cmocka_unit_test(test_option_classless_routes),
	    cmocka_unit_test(test_option_unsigned_array),
	    cmocka_unit_test(test_option_vendor_encapsulated),
	    cmocka_unit_test(test_option_static_routes_pairs),
	    cmocka_unit_test(test_option_custom_types),
	    cmocka_unit_test(test_option_domain_list_uncompressed),
	    cmocka_unit_test(test_option_redefine_standard_name),
	    cmocka_unit_test(test_option_replaced_in_scope),
	    cmocka_unit_test(test_option_unsupported_forms),
	    cmocka_unit_test(test_err_unsupported_statement),
	    cmocka_unit_test(test_err_unterminated_block),
	    cmocka_unit_test(test_err_bad_ip),
	    cmocka_unit_test(test_err_hostname_where_isc_refuses),
	    cmocka_unit_test(test_hostnames_resolved),
	    cmocka_unit_test(test_err_range_outside_subnet),
	    cmocka_unit_test(test_err_overlapping_ranges),
	    cmocka_unit_test(test_err_structure),
	    cmocka_unit_test(test_err_limits),
	    cmocka_unit_test(test_subnet_for),
	    cmocka_unit_test(test_subnet_for_indexed),
	    cmocka_unit_test(test_option_table),
	    cmocka_unit_test(test_include),
	    cmocka_unit_test(test_include_errors),
	    cmocka_unit_test(test_debian_example),
	    cmocka_unit_test(test_data_configs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
