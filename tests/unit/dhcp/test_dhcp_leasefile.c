/* SPDX-License-Identifier: MPL-2.0 */
/* Unit tests for the dhcpd.leases parser/writer and the on-disk lease store. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "core_err.h"
#include "core_log.h"
#include "dhcp_lease.h"
#include "dhcp_leasefile.h"
#include "dhcp_leasestore.h"

#define RECS_MAX 64

/* Collects what the parser delivers. */
struct sink {
	struct dhcp_lease_rec recs[RECS_MAX];
	size_t n;
	int fail_at; /* return -EINTR for this record (1-based); 0 = never */
};

static int sink_cb(void *ctx, const struct dhcp_lease_rec *r)
{
	struct sink *s = ctx;

	if (s->fail_at && (int)s->n + 1 == s->fail_at)
		return -EINTR;
	if (s->n < RECS_MAX)
		s->recs[s->n] = *r;
	s->n++;
	return 0;
}

static int parse(const char *text, struct sink *s, struct dhcp_leasefile_stats *st, char *err,
		 size_t errlen)
{
	memset(s, 0, sizeof(*s));
	return dhcp_leasefile_parse(text, strlen(text), "t.leases", sink_cb, s, st, err, errlen);
}

static const char example[] = "lease 192.0.2.10 {\n"
			      "  starts 3 2026/11/25 15:00:00;\n"
			      "  ends 3 2026/11/25 15:10:00;\n"
			      "  cltt 3 2026/11/25 15:00:00;\n"
			      "  binding state active;\n"
			      "  next binding state free;\n"
			      "  rewind binding state free;\n"
			      "  hardware ethernet 52:54:00:12:34:56;\n"
			      "  uid \"\\001RT\\000\\0224V\";\n"
			      "  client-hostname \"foo\";\n"
			      "}\n";

#define T_20261125_1500 1795618800LL /* date -u -d '2026-11-25 15:00:00' +%s */

static void test_binding_names(void **state)
{
	(void)state;
	for (int b = DHCP_BINDING_FREE; b < DHCP_BINDING_MAX; b++)
		assert_int_equal(dhcp_binding_parse(dhcp_binding_name(b)), b);
	assert_null(dhcp_binding_name(DHCP_BINDING_NONE));
	assert_null(dhcp_binding_name(DHCP_BINDING_MAX));
	assert_string_equal(dhcp_binding_name(DHCP_BINDING_BACKUP), "backup");
	assert_int_equal(dhcp_binding_parse("bogus"), DHCP_BINDING_NONE);
}

static void test_parse_example(void **state)
{
	static const uint8_t uid[] = {1, 'R', 'T', 0, 0x12, '4', 'V'};
	static const uint8_t hw[] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
	struct dhcp_leasefile_stats st;
	struct sink s;
	char err[256];
	const struct dhcp_lease_rec *r = &s.recs[0];

	(void)state;
	assert_int_equal(parse(example, &s, &st, err, sizeof(err)), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(st.leases, 1);
	assert_false(st.tail_torn);
	assert_int_equal(st.valid_bytes, strlen(example));
	assert_int_equal(st.lines, 11);
	assert_int_equal(r->addr, 0xc000020a);
	assert_int_equal(r->starts, T_20261125_1500);
	assert_int_equal(r->ends, T_20261125_1500 + 600);
	assert_int_equal(r->cltt, T_20261125_1500);
	assert_true(r->tstp == DHCP_TIME_NONE && r->tsfp == DHCP_TIME_NONE);
	assert_true(r->atsfp == DHCP_TIME_NONE);
	assert_int_equal(r->binding, DHCP_BINDING_ACTIVE);
	assert_int_equal(r->next_binding, DHCP_BINDING_FREE);
	assert_int_equal(r->rewind_binding, DHCP_BINDING_FREE);
	assert_int_equal(r->htype, 1);
	assert_int_equal(r->hlen, 6);
	assert_memory_equal(r->hw, hw, 6);
	assert_int_equal(r->uid_len, sizeof(uid));
	assert_memory_equal(r->uid, uid, sizeof(uid));
	assert_int_equal(r->hostname_len, 3);
	assert_string_equal(r->hostname, "foo");
	assert_false(r->bootp);
	assert_false(r->reserved);
}

static void test_format_exact(void **state)
{
	struct sink s;
	char out[DHCP_LEASEFILE_REC_MAX + 1];
	size_t n;

	(void)state;
	assert_int_equal(parse(example, &s, NULL, NULL, 0), 0);
	n = dhcp_leasefile_format(&s.recs[0], out, sizeof(out));
	assert_int_equal(n, strlen(example));
	assert_string_equal(out, example);
}

/*
 * db-time-format local and lease-id-format hex, as ISC 4.4.3 writes them (seen in a lease file
 * of a real ISC dhcpd with both set): "epoch N; # <local time>" and colon-separated hex.
 */
static void test_format_local_hex(void **state)
{
	static const char want[] = "lease 192.0.2.10 {\n"
				   "  starts epoch 1795618800; # Wed Nov 25 15:00:00 2026\n"
				   "  ends epoch 1795619400; # Wed Nov 25 15:10:00 2026\n"
				   "  cltt epoch 1795618800; # Wed Nov 25 15:00:00 2026\n"
				   "  binding state active;\n"
				   "  next binding state free;\n"
				   "  rewind binding state free;\n"
				   "  hardware ethernet 52:54:00:12:34:56;\n"
				   "  uid 01:52:54:00:12:34:56;\n"
				   "  client-hostname \"foo\";\n"
				   "}\n";
	struct sink s, back;
	char out[DHCP_LEASEFILE_REC_MAX + 1];

	(void)state;
	assert_int_equal(setenv("TZ", "UTC", 1), 0);
	tzset();
	assert_int_equal(parse(example, &s, NULL, NULL, 0), 0);
	dhcp_leasefile_format_style(&s.recs[0], DHCP_LF_LOCAL_TIME | DHCP_LF_HEX_IDS, out,
				    sizeof(out));
	assert_string_equal(out, want);
	/* Read back, it is the same lease. */
	assert_int_equal(parse(out, &back, NULL, NULL, 0), 0);
	assert_int_equal(back.n, 1);
	assert_int_equal(back.recs[0].addr, s.recs[0].addr);
	assert_int_equal(back.recs[0].starts, s.recs[0].starts);
	assert_int_equal(back.recs[0].ends, s.recs[0].ends);
	assert_int_equal(back.recs[0].cltt, s.recs[0].cltt);
	assert_int_equal(back.recs[0].uid_len, s.recs[0].uid_len);
	assert_memory_equal(back.recs[0].uid, s.recs[0].uid, s.recs[0].uid_len);
	assert_memory_equal(back.recs[0].hw, s.recs[0].hw, 6);
	/* A time zone east of UTC shows in the comment only. */
	assert_int_equal(setenv("TZ", "CET-1", 1), 0);
	tzset();
	dhcp_leasefile_format_style(&s.recs[0], DHCP_LF_LOCAL_TIME, out, sizeof(out));
	assert_non_null(strstr(out, "starts epoch 1795618800; # Wed Nov 25 16:00:00 2026\n"));
	assert_non_null(strstr(out, "uid \"\\001RT\\000\\0224V\";"));
	assert_int_equal(setenv("TZ", "UTC", 1), 0);
	tzset();
}

static int fo_sink(void *ctx, const struct dhcp_fo_state_rec *r)
{
	struct dhcp_fo_state_rec *out = ctx;

	*out = *r; /* the last one wins */
	return 0;
}

/* ISC's failover state record (reference section 8): read, and written back the same. */
static void test_failover_state_record(void **state)
{
	static const char isc[] = "failover peer \"anchor-fo\" state {\n"
				  "  my state normal at 3 2026/11/25 13:00:44;\n"
				  "  partner state communications-interrupted at 3 2026/11/25 13:00:44;\n"
				  "  mclt 1800;\n"
				  "}\n";
	static const char later[] = "failover peer \"anchor-fo\" state {\n"
				    "  my state recover-wait;\n"
				    "  partner state partner-down at 3 2026/11/25 13:10:00;\n"
				    "}\n";
	struct dhcp_fo_state_rec r, local;
	char text[2048], out[DHCP_LEASEFILE_REC_MAX + 1];
	struct dhcp_leasefile_stats st;

	(void)state;
	snprintf(text, sizeof(text), "%s%s", isc, example);
	assert_int_equal(dhcp_leasefile_parse_fo(text, strlen(text), "t", NULL, fo_sink, &r, &st,
						 NULL, 0), 0);
	assert_string_equal(r.peer, "anchor-fo");
	assert_int_equal(r.my_state, 2);
	assert_int_equal(r.partner_state, 3);
	assert_int_equal(r.my_stos, T_20261125_1500 - 2 * 3600 + 44);
	assert_int_equal(r.mclt, 1800);
	assert_int_equal(st.leases, 1);
	dhcp_leasefile_format_fo(&r, 0, out, sizeof(out));
	assert_string_equal(out, isc);
	/* The last record wins; a state without "at" and without mclt is kept as such. */
	snprintf(text, sizeof(text), "%s%s%s", isc, example, later);
	assert_int_equal(dhcp_leasefile_parse_fo(text, strlen(text), "t", NULL, fo_sink, &r, &st,
						 NULL, 0), 0);
	assert_int_equal(r.my_state, 254);
	assert_int_equal(r.my_stos, DHCP_TIME_NONE);
	assert_int_equal(r.mclt, -1);
	dhcp_leasefile_format_fo(&r, 0, out, sizeof(out));
	assert_string_equal(out, later);
	/* db-time-format local, read back to the same times. */
	assert_int_equal(setenv("TZ", "UTC", 1), 0);
	tzset();
	snprintf(text, sizeof(text), "%s", isc);
	assert_int_equal(dhcp_leasefile_parse_fo(text, strlen(text), "t", NULL, fo_sink, &r, NULL,
						 NULL, 0), 0);
	dhcp_leasefile_format_fo(&r, DHCP_LF_LOCAL_TIME, out, sizeof(out));
	assert_non_null(strstr(out, "  my state normal at epoch 1795611644; # Wed Nov 25 13:00:44 2026\n"));
	assert_int_equal(dhcp_leasefile_parse_fo(out, strlen(out), "t", NULL, fo_sink, &local,
						 NULL, NULL, 0), 0);
	assert_int_equal(local.my_stos, r.my_stos);
	assert_int_equal(local.partner_state, r.partner_state);
}

static void test_format_field_order(void **state)
{
	static const char want[] = "lease 198.51.100.7 {\n"
				   "  starts 4 1970/01/01 00:00:01;\n"
				   "  ends never;\n"
				   "  tstp 5 1970/01/02 00:00:00;\n"
				   "  tsfp 6 1970/01/03 00:00:00;\n"
				   "  atsfp 0 1970/01/04 00:00:01;\n"
				   "  cltt 0 2000/02/27 23:59:59;\n"
				   "  binding state backup;\n"
				   "  next binding state expired;\n"
				   "  rewind binding state reset;\n"
				   "  reserved;\n"
				   "  dynamic-bootp;\n"
				   "  hardware unknown-7 0a;\n"
				   "  uid \"a\\\"b\\\\c \\177\\200\";\n"
				   "  client-hostname \"h\\\"x\";\n"
				   "}\n";
	struct dhcp_lease_rec r, back;
	char out[DHCP_LEASEFILE_REC_MAX + 1];
	struct sink s;

	(void)state;
	dhcp_lease_rec_init(&r);
	r.addr = 0xc6336407;
	r.starts = 1;
	r.ends = DHCP_TIME_NEVER;
	r.tstp = 86400;
	r.tsfp = 2 * 86400;
	r.atsfp = 3 * 86400 + 1;
	r.cltt = 951695999; /* 2000-02-27 23:59:59 */
	r.binding = DHCP_BINDING_BACKUP;
	r.next_binding = DHCP_BINDING_EXPIRED;
	r.rewind_binding = DHCP_BINDING_RESET;
	r.reserved = r.bootp = true;
	r.htype = 7;
	r.hlen = 1;
	r.hw[0] = 10;
	memcpy(r.uid, "a\"b\\c \177\200", 8);
	r.uid_len = 8;
	strcpy(r.hostname, "h\"x");
	r.hostname_len = 3;
	dhcp_leasefile_format(&r, out, sizeof(out));
	assert_string_equal(out, want);
	assert_int_equal(parse(out, &s, NULL, NULL, 0), 0);
	back = s.recs[0];
	assert_true(dhcp_lease_rec_equal(&r, &back));
}

static void test_format_snprintf_contract(void **state)
{
	struct dhcp_lease_rec r;
	char small[16], big[DHCP_LEASEFILE_REC_MAX + 1];
	size_t need;

	(void)state;
	dhcp_lease_rec_init(&r);
	r.addr = 0xc0000201;
	need = dhcp_leasefile_format(&r, big, sizeof(big));
	assert_string_equal(big, "lease 192.0.2.1 {\n}\n");
	assert_int_equal(dhcp_leasefile_format(&r, small, sizeof(small)), need);
	assert_string_equal(small, "lease 192.0.2.1");
	assert_int_equal(dhcp_leasefile_format(&r, NULL, 0), need);
	need = dhcp_leasefile_header(NULL, 0);
	assert_true(need > 0 && need <= DHCP_LEASEFILE_HEADER_MAX);
	assert_int_equal(dhcp_leasefile_header(big, sizeof(big)), need);
	assert_non_null(strstr(big, "authoring-byte-order little-endian;\n\n"));
	assert_int_equal(strncmp(big,
				 "# The format of this file is documented in the "
				 "dhcpd.leases(5) manual page.\n",
				 75),
			 0);
}

static void test_every_field_variant(void **state)
{
	static const char text[] =
	    "authoring-byte-order big-endian;\n"
	    "lease 192.0.2.1 {\n"
	    "  hardware token-ring 1:2:3;\n uid 01:aa:BB:0;\n"
	    "  client-hostname host.example.org;\n"
	    "  binding state reserved;\n"
	    "  tstp 3 2026/11/25 15:00:00;\n  tsfp 3 2026/11/25 15:00:01;\n"
	    "  atsfp 3 2026/11/25 15:00:02;\n  timestamp 3 2026/11/25 15:00:03;\n}\n"
	    "lease 192.0.2.2 { hardware fddi 00:01; binding state bootp; next binding state "
	    "expired; }\n"
	    "lease 192.0.2.3 { hardware infiniband 00:01; abandoned; }\n"
	    "lease 192.0.2.4 { hardware unknown-200 ff; hardware ethernet; dynamic-bootp; "
	    "reserved; }\n"
	    "LEASE 192.0.2.5 { BINDING STATE FREE; uid \"\"; client-hostname \"a\\000b\"; }\n";
	struct sink s;
	char err[256];

	(void)state;
	assert_int_equal(parse(text, &s, NULL, err, sizeof(err)), 0);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.recs[0].htype, 6);
	assert_int_equal(s.recs[0].hlen, 3);
	assert_int_equal(s.recs[0].uid_len, 4);
	assert_int_equal(s.recs[0].uid[2], 0xbb);
	assert_string_equal(s.recs[0].hostname, "host.example.org");
	assert_int_equal(s.recs[0].binding, DHCP_BINDING_ACTIVE);
	assert_true(s.recs[0].reserved);
	assert_int_equal(s.recs[0].tstp, T_20261125_1500);
	assert_int_equal(s.recs[0].tsfp, T_20261125_1500 + 1);
	assert_int_equal(s.recs[0].atsfp, T_20261125_1500 + 2);
	assert_int_equal(s.recs[1].htype, 8);
	assert_true(s.recs[1].bootp);
	assert_int_equal(s.recs[1].next_binding, DHCP_BINDING_EXPIRED);
	assert_int_equal(s.recs[1].rewind_binding, DHCP_BINDING_ACTIVE);
	assert_int_equal(s.recs[2].htype, 32);
	assert_int_equal(s.recs[2].binding, DHCP_BINDING_ABANDONED);
	assert_int_equal(s.recs[2].next_binding, DHCP_BINDING_ABANDONED);
	/* A later "hardware" statement wins, as in ISC; one without address is none. */
	assert_int_equal(s.recs[3].hlen, 0);
	assert_int_equal(s.recs[3].htype, 0);
	assert_true(s.recs[3].bootp && s.recs[3].reserved);
	assert_int_equal(s.recs[3].binding, DHCP_BINDING_NONE);
	assert_int_equal(s.recs[3].next_binding, DHCP_BINDING_NONE);
	assert_int_equal(s.recs[4].binding, DHCP_BINDING_FREE);
	assert_int_equal(s.recs[4].uid_len, 0);
	assert_int_equal(s.recs[4].hostname_len, 1); /* a C string for ISC: ends at NUL */
}

static int64_t parse_time(const char *date, int *rc)
{
	char text[256];
	struct sink s;
	char err[256];

	snprintf(text, sizeof(text), "lease 192.0.2.1 { ends %s; }\n", date);
	*rc = parse(text, &s, NULL, err, sizeof(err));
	if (*rc == 0 && s.n == 0)
		*rc = -1; /* a bad last record is a torn tail: count it as rejected */
	return s.recs[0].ends;
}

static void test_times(void **state)
{
	static const struct {
		const char *text;
		int64_t want;
	} ok[] = {
	    {"never", DHCP_TIME_NEVER},
	    {"epoch 1795618800", T_20261125_1500},
	    {"epoch 1795618800; # Wed Nov 25 15:00:00 2026\n ends epoch 0", DHCP_TIME_NONE},
	    {"0 2024/02/29 12:00:00", 1709208000},
	    {"2 2000/02/29 00:00:00", 951782400},
	    {"4 2026/11/26 00:00:00 -3600", 1795647600},
	    {"9 9999/12/31 23:59:59", 253402300799LL},
	    {"5 2038/01/19 03:14:08", 2147483648LL}, /* past 32-bit time_t */
	    {"4 1970/1/1 0:0:0", DHCP_TIME_NONE}, /* ISC's 0: not set */
	    {"4 1970/1/1 0:0:1", 1},
	    {"3 2026 / 11 / 25 15 : 00 : 00", T_20261125_1500},
	};
	static const char *const bad[] = {
	    "3 2026/02/29 00:00:00",
	    "3 2100/02/29 00:00:00",
	    "3 2026/13/01 00:00:00",
	    "3 2026/11/25 24:00:00",
	    "3 1969/12/31 23:59:59",
	    "3 2026/11/25",
	    "epoch x",
	    "never never",
	    "3 2026/00/10 00:00:00",
	};
	int rc;

	(void)state;
	for (unsigned i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int64_t t = parse_time(ok[i].text, &rc);

		assert_int_equal(rc, 0);
		assert_int_equal(t, ok[i].want);
	}
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		parse_time(bad[i], &rc);
		assert_int_not_equal(rc, 0);
	}
}

/* Every time written reads back the same, weekday included (checked against a known day). */
static void test_time_roundtrip(void **state)
{
	struct dhcp_lease_rec r;
	char out[DHCP_LEASEFILE_REC_MAX + 1];
	struct sink s;

	(void)state;
	dhcp_lease_rec_init(&r);
	for (int64_t t = 1; t < 253402300799LL; t += 86400 * 37 + 3607) {
		r.starts = t;
		dhcp_leasefile_format(&r, out, sizeof(out));
		assert_int_equal(parse(out, &s, NULL, NULL, 0), 0);
		assert_int_equal(s.recs[0].starts, t);
	}
	r.starts = 0; /* as ISC: a time of 0 (never used) is left out */
	dhcp_leasefile_format(&r, out, sizeof(out));
	assert_null(strstr(out, "starts"));
	r.starts = 1709208000; /* 2024-02-29 was a Thursday */
	dhcp_leasefile_format(&r, out, sizeof(out));
	assert_non_null(strstr(out, "starts 4 2024/02/29 12:00:00;"));
	r.starts = -5; /* clamped */
	r.ends = INT64_MAX - 1;
	dhcp_leasefile_format(&r, out, sizeof(out));
	assert_non_null(strstr(out, "starts 4 1970/01/01 00:00:00;\n  ends never;"));
}

static void test_uid_all_bytes(void **state)
{
	struct dhcp_lease_rec r;
	char out[DHCP_LEASEFILE_REC_MAX + 1], hex[1024];
	struct sink s;
	size_t k = 0;

	(void)state;
	dhcp_lease_rec_init(&r);
	for (int off = 0; off < 256; off += 255) {
		for (int i = 0; i < 255; i++)
			r.uid[i] = (uint8_t)(i + off);
		r.uid_len = 255;
		dhcp_leasefile_format(&r, out, sizeof(out));
		assert_int_equal(parse(out, &s, NULL, NULL, 0), 0);
		assert_int_equal(s.recs[0].uid_len, 255);
		assert_memory_equal(s.recs[0].uid, r.uid, 255);
	}
	/* The same bytes as colon hex (lease-id-format hex). */
	k = (size_t)snprintf(hex, sizeof(hex), "lease 192.0.2.1 { uid ");
	for (int i = 0; i < 255; i++)
		k += (size_t)snprintf(hex + k, sizeof(hex) - k, "%s%02x", i ? ":" : "", r.uid[i]);
	snprintf(hex + k, sizeof(hex) - k, "; }\n");
	assert_int_equal(parse(hex, &s, NULL, NULL, 0), 0);
	assert_memory_equal(s.recs[0].uid, r.uid, 255);
	/* ISC's escapes: \t \r \n \b, \xHH and \c. */
	assert_int_equal(
	    parse("lease 192.0.2.1 { uid \"\\t\\r\\n\\b\\x41\\q\"; }", &s, NULL, NULL, 0), 0);
	assert_int_equal(s.recs[0].uid_len, 6);
	assert_memory_equal(s.recs[0].uid, "\t\r\n\bAq", 6);
}

static void test_skipped_statements(void **state)
{
	static const char text[] =
	    "# comment\n"
	    "server-duid \"\\000\\001\\000\\001*\\304\";\n\n"
	    "host h1 {\n  dynamic;\n  hardware ethernet 52:54:00:aa:bb:01;\n"
	    "  fixed-address 192.0.2.250;\n}\n"
	    "group \"g\" { dynamic; }\n"
	    "class \"c\" {\n  dynamic;\n  match if option host-name = \"}\";\n}\n"
	    "subclass \"c\" 1:2:3 { dynamic; }\n"
	    "\nfailover peer \"dhcp-fo\" state {\n  my state normal at 3 2026/11/25 15:00:00;\n"
	    "  partner state communications-interrupted at never;\n  mclt 3600;\n}\n"
	    "lease 192.0.2.12 {\n"
	    "  set vendor-class-identifier = \"MSFT 5.0\";\n"
	    "  set ddns-fwd-name = \"h.example.org\";\n  set n = %42;\n  set b = true;\n"
	    "  option agent.circuit-id \"eth0:100\";\n  option agent.remote-id 0:11:22;\n"
	    "  ddns-rev-name \"x\";\n  billing class \"students\";\n  class foo;\n"
	    "  on expiry or release {\n    set a = \"{\";\n    if true { log(\"x\"); }\n  }\n"
	    "  on commit { }\n"
	    "  client-hostname \"after\";\n"
	    "}\n";
	struct sink s;
	char err[256];

	(void)state;
	assert_int_equal(parse(text, &s, NULL, err, sizeof(err)), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.recs[0].hostname, "after");
}

static void test_bad_record_in_middle(void **state)
{
	char text[2048];
	struct dhcp_leasefile_stats st;
	struct sink s;
	char err[256];

	(void)state;
	snprintf(text, sizeof(text), "%s%s%s", example,
		 "lease 192.0.2.11 {\n  starts 3 2026/11/25 15:00:00;\n  colour blue;\n}\n",
		 example);
	assert_int_equal(parse(text, &s, &st, err, sizeof(err)), CORE_EPARSE);
	assert_string_equal(err, "t.leases:14:3: unknown lease statement 'colour'");
	assert_int_equal(s.n, 1);
	/* A failover state ISC does not know. */
	snprintf(text, sizeof(text),
		 "failover peer \"fo\" state {\n  my state dancing at never;\n}\n%s", example);
	assert_int_equal(parse(text, &s, &st, err, sizeof(err)), CORE_EPARSE);
	assert_string_equal(err, "t.leases:2:12: unknown failover state");
	/* Unknown top-level statement, then a good record. */
	snprintf(text, sizeof(text), "frobnicate 1;\n%s", example);
	assert_int_equal(parse(text, &s, &st, err, sizeof(err)), CORE_EPARSE);
	assert_string_equal(err, "t.leases:1:1: unknown statement 'frobnicate'");
	/* NUL bytes in the middle are not a torn tail either. */
	snprintf(text, sizeof(text), "%s", example);
	strcat(text, "lease 192.0.2.3 {\n  starts 3 2026/11/25 15:00:00;\n  en");
	memcpy(text + strlen(text), "\0\0\0\0\n", 5);
	memcpy(text + strlen(text) + 5, example, sizeof(example));
	assert_int_equal(dhcp_leasefile_parse(text, strlen(text) + 5 + strlen(example), "n",
					      sink_cb, &s, &st, err, sizeof(err)),
			 CORE_EPARSE);
	assert_string_equal(err, "n:14:3: unknown lease statement 'en'");
}

static void test_v6_rejected(void **state)
{
	static const char text[] = "ia-na \"\\001\\000\\000\\000\\000\\001\" {\n  cltt 3 "
				   "2026/11/25 15:00:00;\n}\n";
	struct sink s;
	char err[256];

	(void)state;
	assert_int_equal(parse(text, &s, NULL, err, sizeof(err)), CORE_EUNSUPP);
	assert_non_null(strstr(err, "t.leases:1:1: DHCPv6 lease (ia-na)"));
}

static void test_callback_abort(void **state)
{
	char text[1024];
	struct sink s;

	(void)state;
	snprintf(text, sizeof(text), "%s%s%s", example, example, example);
	memset(&s, 0, sizeof(s));
	s.fail_at = 2;
	assert_int_equal(dhcp_leasefile_parse(text, strlen(text), "x", sink_cb, &s, NULL, NULL, 0),
			 -EINTR);
	assert_int_equal(s.n, 1);
}

/* Power loss mid-append: every cut inside the last record is a torn tail; the prefix stays. */
static void test_torn_every_offset(void **state)
{
	char text[2048];
	size_t first, two, total;
	struct dhcp_leasefile_stats st;
	struct sink s;
	char err[256];

	(void)state;
	first = (size_t)snprintf(text, sizeof(text), "%s",
				 "# header\nauthoring-byte-order little-endian;\n\n");
	two =
	    first + (size_t)snprintf(text + first, sizeof(text) - first, "%s%s", example, example);
	total = two + (size_t)snprintf(text + two, sizeof(text) - two, "%s", example);
	for (size_t cut = two; cut <= total; cut++) {
		int rc = dhcp_leasefile_parse(text, cut, "c", sink_cb, &s, &st, err, sizeof(err));

		memset(&s, 0, sizeof(s));
		assert_int_equal(rc, 0);
		if (cut < total - 1 && cut > two) {
			assert_true(st.tail_torn);
			assert_int_equal(st.leases, 2);
			assert_int_equal(st.valid_bytes, two);
			assert_non_null(strstr(err, "torn tail dropped"));
		} else {
			/* Nothing cut, or only the final newline: the record is whole. */
			assert_false(st.tail_torn);
			assert_int_equal(st.valid_bytes, cut);
			assert_int_equal(st.leases, cut == two ? 2 : 3);
		}
	}
}

static void test_torn_shapes(void **state)
{
	char text[4096];
	size_t n, good;
	struct dhcp_leasefile_stats st;
	struct sink s;
	char err[256];

	(void)state;
	/* Zero-filled blocks after complete records (delayed allocation after a crash). */
	good = (size_t)snprintf(text, sizeof(text), "%s", example);
	memset(text + good, 0, 512);
	assert_int_equal(
	    dhcp_leasefile_parse(text, good + 512, "z", sink_cb, &s, &st, err, sizeof(err)), 0);
	assert_true(st.tail_torn);
	assert_int_equal(st.valid_bytes, good);
	assert_int_equal(st.leases, 1);
	/* Zeros replacing the end of the last record. */
	n = good + (size_t)snprintf(text + good, sizeof(text) - good, "%s", example);
	memset(text + n - 40, 0, 40);
	assert_int_equal(dhcp_leasefile_parse(text, n, "z", NULL, NULL, &st, err, sizeof(err)), 0);
	assert_true(st.tail_torn);
	assert_int_equal(st.valid_bytes, good);
	/* Garbage text after the last record, an unterminated string, a lone brace. */
	static const char *const tails[] = {"lease 192.0.2.9 { uid \"abc",
					    "}\n",
					    "lease",
					    "lease 192.0.2.9 { starts 3 2026/11/25 15:0",
					    "xyzzy\n# more\n",
					    "\xff\xfe"};
	for (unsigned i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		n = good + (size_t)snprintf(text + good, sizeof(text) - good, "%s", tails[i]);
		assert_int_equal(dhcp_leasefile_parse(text, n, "g", NULL, NULL, &st, NULL, 0), 0);
		assert_true(st.tail_torn);
		assert_int_equal(st.valid_bytes, good);
	}
	/* An empty file and a file of comments are fine. */
	assert_int_equal(dhcp_leasefile_parse("", 0, "e", NULL, NULL, &st, NULL, 0), 0);
	assert_false(st.tail_torn);
	assert_int_equal(dhcp_leasefile_parse("# x\n# y", 7, "e", NULL, NULL, &st, NULL, 0), 0);
	assert_false(st.tail_torn);
	assert_int_equal(st.lines, 2);
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int64_t rand_time(uint64_t *seed)
{
	switch (rng_next(seed) % 4) {
	case 0:
		return DHCP_TIME_NONE;
	case 1:
		return DHCP_TIME_NEVER;
	default:
		return (int64_t)(rng_next(seed) % 253402300800ULL);
	}
}

/* Seeded property test: any record the writer produces reads back equal. */
static void test_random_roundtrip(void **state)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	char out[DHCP_LEASEFILE_REC_MAX + 1];
	struct dhcp_lease_rec r;
	struct sink s;

	(void)state;
	for (int i = 0; i < 20000; i++) {
		dhcp_lease_rec_init(&r);
		r.addr = (uint32_t)rng_next(&seed);
		r.starts = rand_time(&seed);
		r.ends = rand_time(&seed);
		r.tstp = rand_time(&seed);
		r.tsfp = rand_time(&seed);
		r.atsfp = rand_time(&seed);
		r.cltt = rand_time(&seed);
		r.binding = (uint8_t)(rng_next(&seed) % DHCP_BINDING_MAX);
		r.next_binding = r.binding ? (uint8_t)(1 + rng_next(&seed) % 7) : 0;
		r.rewind_binding = r.binding ? (uint8_t)(1 + rng_next(&seed) % 7) : 0;
		r.hlen = (uint8_t)(rng_next(&seed) % (DHCP_HW_MAX + 1));
		r.htype = r.hlen ? (uint8_t)rng_next(&seed) : 0;
		for (int k = 0; k < r.hlen; k++)
			r.hw[k] = (uint8_t)rng_next(&seed);
		r.uid_len = (uint8_t)(rng_next(&seed) % 256);
		for (int k = 0; k < r.uid_len; k++)
			r.uid[k] = (uint8_t)rng_next(&seed);
		r.hostname_len = (uint8_t)(rng_next(&seed) % 256);
		for (int k = 0; k < r.hostname_len; k++)
			r.hostname[k] = (char)(1 + rng_next(&seed) % 255);
		r.bootp = rng_next(&seed) & 1;
		r.reserved = rng_next(&seed) & 1;
		dhcp_leasefile_format(&r, out, sizeof(out));
		assert_int_equal(parse(out, &s, NULL, NULL, 0), 0);
		assert_int_equal(s.n, 1);
		assert_true(dhcp_lease_rec_equal(&r, &s.recs[0]));
	}
}

/* --- store --------------------------------------------------------------------------- */

struct tmpdir {
	char dir[64];
	char path[128];
};

static int tmp_setup(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	strcpy(t->dir, "/tmp/paceless-leasestore-XXXXXX");
	assert_non_null(mkdtemp(t->dir));
	snprintf(t->path, sizeof(t->path), "%s/dhcpd.leases", t->dir);
	*state = t;
	return 0;
}

static int tmp_teardown(void **state)
{
	struct tmpdir *t = *state;
	static const char *const sfx[] = {"", "~", ".new", ".torn"};
	char p[160];

	for (unsigned i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", t->path, sfx[i]);
		unlink(p);
	}
	rmdir(t->dir);
	free(t);
	return 0;
}

static void make_rec(struct dhcp_lease_rec *r, uint32_t i)
{
	dhcp_lease_rec_init(r);
	r->addr = 0xc0000200 | (i & 0xff);
	r->starts = T_20261125_1500 + i;
	r->ends = T_20261125_1500 + i + 600;
	r->binding = DHCP_BINDING_ACTIVE;
	r->next_binding = r->rewind_binding = DHCP_BINDING_FREE;
	r->htype = 1;
	r->hlen = 6;
	memcpy(r->hw, "\x52\x54\x00\x00\x00", 5);
	r->hw[5] = (uint8_t)i;
	snprintf(r->hostname, sizeof(r->hostname), "h%u", i);
	r->hostname_len = (uint8_t)strlen(r->hostname);
}

static size_t load_count(const char *path, struct sink *s, struct dhcp_leasefile_stats *st)
{
	struct dhcp_leasestore *ls;
	char err[256];

	memset(s, 0, sizeof(*s));
	assert_int_equal(dhcp_leasestore_open(path, &ls), 0);
	assert_int_equal(dhcp_leasestore_load(ls, sink_cb, s, st, err, sizeof(err)), 0);
	dhcp_leasestore_close(ls);
	return s->n;
}

static void test_store_append_sync_reload(void **state)
{
	struct tmpdir *t = *state;
	struct dhcp_leasestore *ls;
	struct dhcp_leasefile_stats st;
	struct dhcp_lease_rec r;
	struct sink s;

	assert_int_equal(dhcp_leasestore_open(t->path, &ls), 0);
	assert_int_equal(dhcp_leasestore_load(ls, sink_cb, &s, &st, NULL, 0), 0);
	assert_int_equal(st.leases, 0);
	for (uint32_t i = 0; i < 10; i++) {
		make_rec(&r, i);
		assert_int_equal(dhcp_leasestore_append(ls, &r), 0);
	}
	assert_true(dhcp_leasestore_queued_bytes(ls) > 0);
	assert_int_equal(dhcp_leasestore_sync(ls), 0);
	assert_int_equal(dhcp_leasestore_queued_bytes(ls), 0);
	assert_int_equal(dhcp_leasestore_sync(ls), 0);
	assert_true(dhcp_leasestore_journal_bytes(ls) > 10 * 100);
	dhcp_leasestore_close(ls);
	assert_int_equal(load_count(t->path, &s, &st), 10);
	make_rec(&r, 9);
	assert_true(dhcp_lease_rec_equal(&r, &s.recs[9]));
	assert_false(st.tail_torn);
}

struct rewrite_src {
	uint32_t next, count;
};

static int rewrite_next(void *ctx, struct dhcp_lease_rec *r)
{
	struct rewrite_src *src = ctx;

	if (src->next == src->count)
		return 0;
	make_rec(r, 100 + src->next++);
	return 1;
}

static void test_store_rewrite(void **state)
{
	struct tmpdir *t = *state;
	struct rewrite_src src = {.count = 5};
	struct dhcp_leasestore *ls;
	struct dhcp_leasefile_stats st;
	struct dhcp_lease_rec r;
	struct sink s;
	char bak[160];

	assert_int_equal(dhcp_leasestore_open(t->path, &ls), 0);
	make_rec(&r, 1);
	assert_int_equal(dhcp_leasestore_append(ls, &r), 0);
	assert_int_equal(dhcp_leasestore_sync(ls), 0);
	make_rec(&r, 2); /* pending: rewrite syncs it first */
	assert_int_equal(dhcp_leasestore_append(ls, &r), 0);
	assert_int_equal(dhcp_leasestore_rewrite(ls, rewrite_next, &src), 0);
	assert_int_equal(dhcp_leasestore_journal_bytes(ls), 0);
	/* Appends after the rewrite go to the new file. */
	make_rec(&r, 3);
	assert_int_equal(dhcp_leasestore_append(ls, &r), 0);
	assert_int_equal(dhcp_leasestore_sync(ls), 0);
	dhcp_leasestore_close(ls);
	assert_int_equal(load_count(t->path, &s, &st), 6);
	assert_int_equal(s.recs[0].addr & 0xff, 100);
	assert_int_equal(s.recs[5].addr & 0xff, 3);
	snprintf(bak, sizeof(bak), "%s~", t->path);
	assert_int_equal(load_count(bak, &s, &st), 2); /* the file as it was, kept as PATH~ */
}

struct faults {
	int writes_ok;	/* writes that succeed before the failing one; <0 = never fail */
	size_t tear_at; /* the failing write is cut short after this many bytes (0: fails) */
	int syncs_ok;	/* <0 = never fail */
	int writes, syncs;
	bool fail_next; /* after a short write, the next write fails (as with ENOSPC) */
};

static ssize_t fault_write(void *ctx, int fd, const void *buf, size_t n)
{
	struct faults *f = ctx;

	if (f->fail_next) {
		f->fail_next = false;
		errno = EIO;
		return -1;
	}
	if (f->writes_ok >= 0 && f->writes++ == f->writes_ok) {
		if (f->tear_at && f->tear_at < n) {
			f->fail_next = true;
			return write(fd, buf, f->tear_at);
		}
		errno = EIO;
		return -1;
	}
	return write(fd, buf, n);
}

static int fault_sync(void *ctx, int fd, bool data_only)
{
	struct faults *f = ctx;

	if (f->syncs_ok >= 0 && f->syncs++ == f->syncs_ok) {
		errno = EIO;
		return -1;
	}
	return data_only ? fdatasync(fd) : fsync(fd);
}

/* Appends n records from base, syncs, and asserts the result. */
static void append_batch(struct dhcp_leasestore *ls, uint32_t base, uint32_t n, int want)
{
	struct dhcp_lease_rec r;

	for (uint32_t i = 0; i < n; i++) {
		make_rec(&r, base + i);
		assert_int_equal(dhcp_leasestore_append(ls, &r), 0);
	}
	assert_int_equal(dhcp_leasestore_sync(ls), want);
}

static void test_store_write_fails_then_retry(void **state)
{
	struct tmpdir *t = *state;
	struct faults f = {.writes_ok = 2, .syncs_ok = -1};
	struct dhcp_leasestore_io io = {.write = fault_write, .sync = fault_sync, .ctx = &f};
	struct dhcp_leasestore *ls;
	struct dhcp_leasefile_stats st;
	struct sink s;

	assert_int_equal(dhcp_leasestore_open(t->path, &ls), 0);
	dhcp_leasestore_set_io(ls, &io);
	append_batch(ls, 0, 3, 0);    /* write #0 ok */
	append_batch(ls, 3, 3, 0);    /* write #1 ok */
	append_batch(ls, 6, 3, -EIO); /* write #2 fails: nothing acknowledged, all kept */
	assert_true(dhcp_leasestore_queued_bytes(ls) > 0);
	assert_int_equal(load_count(t->path, &s, &st), 6);
	assert_int_equal(dhcp_leasestore_sync(ls), 0); /* the retry succeeds */
	assert_int_equal(dhcp_leasestore_queued_bytes(ls), 0);
	dhcp_leasestore_close(ls);
	assert_int_equal(load_count(t->path, &s, &st), 9);
	assert_false(st.tail_torn);
}

/* A write torn at every byte K of a batch: the next load keeps exactly what was acknowledged. */
static void test_store_torn_write(void **state)
{
	struct tmpdir *t = *state;
	struct dhcp_lease_rec r;
	char buf[DHCP_LEASEFILE_REC_MAX + 1];
	size_t rec_len;

	make_rec(&r, 7);
	rec_len = dhcp_leasefile_format(&r, buf, sizeof(buf));
	for (size_t k = 1; k < 2 * rec_len; k += 7) {
		struct faults f = {.writes_ok = 1, .tear_at = k, .syncs_ok = -1};
		struct dhcp_leasestore_io io = {.write = fault_write, .sync = fault_sync, .ctx = &f};
		struct dhcp_leasestore *ls;
		struct dhcp_leasefile_stats st;
		struct sink s;
		struct stat sb;
		char torn[160];
		size_t whole;

		unlink(t->path);
		assert_int_equal(dhcp_leasestore_open(t->path, &ls), 0);
		dhcp_leasestore_set_io(ls, &io);
		append_batch(ls, 0, 2, 0);
		append_batch(ls, 2, 2, -EIO); /* k bytes of the batch reach the file */
		/* "Crash" now: a fresh store finds the torn tail and keeps the two acked. */
		whole = (k >= rec_len - 1) + (k >= 2 * rec_len - 1);
		assert_int_equal(load_count(t->path, &s, &st), 2 + whole);
		assert_int_equal(st.tail_torn,
				 k != rec_len - 1 && k != rec_len && k != 2 * rec_len - 1);
		snprintf(torn, sizeof(torn), "%s.torn", t->path);
		if (st.tail_torn)
			assert_int_equal(stat(torn, &sb), 0);
		unlink(torn);
		dhcp_leasestore_close(ls);
	}
}

/* The retry after a torn write completes the record in place. */
static void test_store_torn_write_retry(void **state)
{
	struct tmpdir *t = *state;
	struct faults f = {.writes_ok = 0, .tear_at = 50, .syncs_ok = -1};
	struct dhcp_leasestore_io io = {.write = fault_write, .sync = fault_sync, .ctx = &f};
	struct dhcp_leasestore *ls;
	struct dhcp_leasefile_stats st;
	struct sink s;

	assert_int_equal(dhcp_leasestore_open(t->path, &ls), 0);
	dhcp_leasestore_set_io(ls, &io);
	append_batch(ls, 0, 3, -EIO);
	assert_int_equal(dhcp_leasestore_sync(ls), 0);
	append_batch(ls, 3, 1, 0);
	dhcp_leasestore_close(ls);
	assert_int_equal(load_count(t->path, &s, &st), 4);
	assert_false(st.tail_torn);
}

static void test_store_fdatasync_fails(void **state)
{
	struct tmpdir *t = *state;
	struct faults f = {.writes_ok = -1, .syncs_ok = 1};
	struct dhcp_leasestore_io io = {.write = fault_write, .sync = fault_sync, .ctx = &f};
	struct rewrite_src src = {.count = 2};
	struct dhcp_leasestore *ls;
	struct dhcp_leasefile_stats st;
	struct sink s;

	assert_int_equal(dhcp_leasestore_open(t->path, &ls), 0);
	dhcp_leasestore_set_io(ls, &io);
	append_batch(ls, 0, 2, 0);
	append_batch(ls, 2, 2, -EIO);
	assert_true(dhcp_leasestore_needs_rewrite(ls));
	assert_true(dhcp_leasestore_queued_bytes(ls) > 0);
	assert_int_equal(dhcp_leasestore_sync(ls), 0); /* writes the batch again */
	dhcp_leasestore_close(ls);
	/* The batch is in the file twice; the later copy supersedes the identical earlier one. */
	assert_int_equal(load_count(t->path, &s, &st), 6);
	assert_int_equal(dhcp_leasestore_open(t->path, &ls), 0);
	assert_int_equal(dhcp_leasestore_rewrite(ls, rewrite_next, &src), 0);
	assert_false(dhcp_leasestore_needs_rewrite(ls));
	dhcp_leasestore_close(ls);
}

/* Writes n records from base without syncing; returns the position after them. */
static uint64_t write_batch(struct dhcp_leasestore *ls, uint32_t base, uint32_t n)
{
	struct dhcp_lease_rec r;
	uint64_t end;

	for (uint32_t i = 0; i < n; i++) {
		make_rec(&r, base + i);
		assert_int_equal(dhcp_leasestore_append(ls, &r), 0);
	}
	assert_int_equal(dhcp_leasestore_write(ls, &end), 0);
	return end;
}

/* A syncer is a description of its own (not a dup of the store's), opened before anything
 * was written, and what it syncs is dropped from the queue only when the caller says so. */
static void test_store_syncer(void **state)
{
	struct tmpdir *t = *state;
	struct dhcp_leasestore_syncer sy = {.fd = -1, .slot = 1}, other = {.fd = -1, .slot = 2};
	struct dhcp_leasestore *ls;
	struct dhcp_leasefile_stats st;
	struct sink s;
	uint64_t end, pos;

	assert_int_equal(dhcp_leasestore_open(t->path, &ls), 0);
	assert_int_equal(dhcp_leasestore_syncers(ls, DHCP_LEASESTORE_SYNCERS_MAX + 1), -EINVAL);
	assert_int_equal(dhcp_leasestore_syncers(ls, 2), 0);
	end = write_batch(ls, 0, 3);
	assert_int_equal(end, dhcp_leasestore_queued_bytes(ls));
	assert_int_equal(load_count(t->path, &s, &st), 3); /* written, not yet durable */
	assert_int_equal(dhcp_leasestore_syncer_attach(ls, &other), -EBADF); /* slot 2 of 2 */
	assert_int_equal(dhcp_leasestore_syncer_attach(ls, &sy), 0);
	assert_true(sy.fd >= 0);
	assert_int_equal(fcntl(sy.fd, F_GETFL) & (O_ACCMODE | O_APPEND), O_RDONLY);
	assert_int_equal(dhcp_leasestore_syncer_sync(&sy), 0);
	dhcp_leasestore_synced(ls, end);
	assert_int_equal(dhcp_leasestore_queued_bytes(ls), 0);
	pos = write_batch(ls, 3, 2);
	assert_int_equal(pos, end + dhcp_leasestore_queued_bytes(ls));
	dhcp_leasestore_synced(ls, end); /* already dropped: nothing happens */
	assert_true(dhcp_leasestore_queued_bytes(ls) > 0);
	assert_int_equal(dhcp_leasestore_sync(ls), 0);
	assert_int_equal(dhcp_leasestore_queued_bytes(ls), 0);
	dhcp_leasestore_syncer_close(&sy);
	assert_int_equal(sy.fd, -1);
	dhcp_leasestore_close(ls);
	assert_int_equal(load_count(t->path, &s, &st), 5);
}

/* After a syncer's fdatasync fails, everything not durable is written again, nothing more. */
static void test_store_sync_failed_writes_again(void **state)
{
	struct tmpdir *t = *state;
	struct dhcp_leasestore *ls;
	struct dhcp_leasefile_stats st;
	struct sink s;
	uint64_t durable, end;

	assert_int_equal(dhcp_leasestore_open(t->path, &ls), 0);
	durable = write_batch(ls, 0, 2);
	end = write_batch(ls, 2, 3);
	dhcp_leasestore_synced(ls, durable); /* the first batch's sync returned */
	dhcp_leasestore_sync_failed(ls, durable); /* the second one's failed */
	assert_true(dhcp_leasestore_needs_rewrite(ls));
	assert_int_equal(dhcp_leasestore_queued_bytes(ls), end - durable);
	assert_int_equal(write_batch(ls, 0, 0), end); /* written again: same positions */
	assert_int_equal(dhcp_leasestore_sync(ls), 0);
	dhcp_leasestore_close(ls);
	assert_int_equal(load_count(t->path, &s, &st), 2 + 3 + 3);
	assert_int_equal(s.recs[5].addr, s.recs[2].addr);
	assert_false(st.tail_torn);
}

/* A syncer's success can be handled after a failed store sync marked the same bytes for
 * writing again: they are durable, dropped, and only the rest is written again. */
static void test_store_synced_after_failed_sync(void **state)
{
	struct tmpdir *t = *state;
	struct faults f = {.writes_ok = -1, .syncs_ok = 0};
	struct dhcp_leasestore_io io = {.write = fault_write, .sync = fault_sync, .ctx = &f};
	struct dhcp_leasestore *ls;
	struct dhcp_leasefile_stats st;
	struct sink s;
	uint64_t covered;

	assert_int_equal(dhcp_leasestore_open(t->path, &ls), 0);
	dhcp_leasestore_set_io(ls, &io);
	covered = write_batch(ls, 0, 2); /* a syncer's fdatasync starts here... */
	append_batch(ls, 2, 1, -EIO);	 /* ...the store's own fails: all 3 to write again */
	dhcp_leasestore_synced(ls, covered); /* ...the syncer's returns 0 */
	assert_int_equal(write_batch(ls, 0, 0), covered + dhcp_leasestore_queued_bytes(ls));
	assert_int_equal(dhcp_leasestore_sync(ls), 0);
	dhcp_leasestore_close(ls);
	assert_int_equal(load_count(t->path, &s, &st), 2 + 1 + 1);
	assert_int_equal(s.recs[3].addr, s.recs[2].addr);
}

/* A rewrite switches files: an attached syncer takes a description of the new one. */
static void test_store_syncer_follows_rewrite(void **state)
{
	struct tmpdir *t = *state;
	struct dhcp_leasestore_syncer sy = {.fd = -1};
	struct rewrite_src src = {.count = 2};
	struct dhcp_leasestore *ls;
	struct stat a, b;

	assert_int_equal(dhcp_leasestore_open(t->path, &ls), 0);
	(void)write_batch(ls, 0, 2);
	/* Written and not durable: the descriptions wait until it is. */
	assert_int_equal(dhcp_leasestore_syncers(ls, 1), 0);
	assert_int_equal(dhcp_leasestore_queued_bytes(ls), 0);
	assert_int_equal(dhcp_leasestore_syncer_attach(ls, &sy), 0);
	assert_int_equal(fstat(sy.fd, &a), 0);
	assert_int_equal(dhcp_leasestore_syncer_attach(ls, &sy), 0); /* same file: kept */
	assert_int_equal(fstat(sy.fd, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(dhcp_leasestore_rewrite(ls, rewrite_next, &src), 0);
	assert_int_equal(dhcp_leasestore_syncer_attach(ls, &sy), 0);
	assert_int_equal(fstat(sy.fd, &b), 0);
	assert_int_not_equal(a.st_ino, b.st_ino);
	assert_int_equal(stat(t->path, &a), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	dhcp_leasestore_syncer_close(&sy);
	dhcp_leasestore_close(ls);
}

static void test_store_rewrite_fails_keeps_old(void **state)
{
	struct tmpdir *t = *state;
	struct faults f = {.writes_ok = -1, .syncs_ok = -1};
	struct dhcp_leasestore_io io = {.write = fault_write, .sync = fault_sync, .ctx = &f};
	struct rewrite_src src = {.count = 3};
	struct dhcp_leasestore *ls;
	struct dhcp_leasefile_stats st;
	struct sink s;
	char p[160];

	assert_int_equal(dhcp_leasestore_open(t->path, &ls), 0);
	dhcp_leasestore_set_io(ls, &io);
	append_batch(ls, 0, 2, 0);
	f.writes_ok = f.writes; /* the next write, the new file's first, fails */
	assert_int_equal(dhcp_leasestore_rewrite(ls, rewrite_next, &src), -EIO);
	snprintf(p, sizeof(p), "%s.new", t->path);
	assert_int_equal(access(p, F_OK), -1);
	f.writes_ok = -1;
	f.syncs_ok = f.syncs; /* now the new file's fsync fails */
	src.next = 0;
	assert_int_equal(dhcp_leasestore_rewrite(ls, rewrite_next, &src), -EIO);
	append_batch(ls, 2, 1, 0); /* the journal still works */
	dhcp_leasestore_close(ls);
	assert_int_equal(load_count(t->path, &s, &st), 3);
}

static void test_store_load_cuts_torn_tail(void **state)
{
	struct tmpdir *t = *state;
	struct dhcp_leasestore *ls;
	struct dhcp_leasefile_stats st;
	struct dhcp_lease_rec r;
	struct sink s;
	struct stat sb;
	int fd;

	fd = open(t->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, example, sizeof(example) - 2), (ssize_t)sizeof(example) - 2);
	assert_int_equal(write(fd, example, 30), 30);
	assert_int_equal(write(fd, "\0\0\0\0", 4), 4);
	close(fd);
	assert_int_equal(load_count(t->path, &s, &st), 1);
	assert_true(st.tail_torn);
	assert_int_equal(stat(t->path, &sb), 0);
	assert_int_equal(sb.st_size, sizeof(example) - 2); /* "...}" without the newline */
	/* The next append starts on a new line, and the file reads clean. */
	assert_int_equal(dhcp_leasestore_open(t->path, &ls), 0);
	assert_int_equal(dhcp_leasestore_load(ls, NULL, NULL, &st, NULL, 0), 0);
	assert_false(st.tail_torn);
	make_rec(&r, 5);
	assert_int_equal(dhcp_leasestore_append(ls, &r), 0);
	assert_int_equal(dhcp_leasestore_sync(ls), 0);
	dhcp_leasestore_close(ls);
	assert_int_equal(load_count(t->path, &s, &st), 2);
	assert_false(st.tail_torn);
}

static void test_store_load_error(void **state)
{
	struct tmpdir *t = *state;
	struct dhcp_leasestore *ls;
	struct dhcp_lease_rec r;
	char err[256];
	int fd;

	fd = open(t->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "bogus;\n", 7), 7);
	assert_int_equal(write(fd, example, sizeof(example) - 1), (ssize_t)sizeof(example) - 1);
	close(fd);
	assert_int_equal(dhcp_leasestore_open(t->path, &ls), 0);
	assert_int_equal(dhcp_leasestore_load(ls, NULL, NULL, NULL, err, sizeof(err)), CORE_EPARSE);
	assert_non_null(strstr(err, "dhcpd.leases:1:1: unknown statement 'bogus'"));
	/* Loading is for start-up: not with records waiting to be written. */
	make_rec(&r, 1);
	assert_int_equal(dhcp_leasestore_append(ls, &r), 0);
	assert_int_equal(dhcp_leasestore_load(ls, NULL, NULL, NULL, err, sizeof(err)), CORE_ESTATE);
	dhcp_leasestore_close(ls);
	assert_int_equal(dhcp_leasestore_open("", &ls), -EINVAL);
	assert_int_equal(dhcp_leasestore_open("/nonexistent-dir/x", &ls), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_binding_names),
	    cmocka_unit_test(test_parse_example),
	    cmocka_unit_test(test_format_exact),
	    cmocka_unit_test(test_format_local_hex),
	    cmocka_unit_test(test_failover_state_record),
	    cmocka_unit_test(test_format_field_order),
	    cmocka_unit_test(test_format_snprintf_contract),
	    cmocka_unit_test(test_every_field_variant),
	    cmocka_unit_test(test_times),
	    cmocka_unit_test(test_time_roundtrip),
	    cmocka_unit_test(test_uid_all_bytes),
	    cmocka_unit_test(test_skipped_statements),
	    cmocka_unit_test(test_bad_record_in_middle),
	    cmocka_unit_test(test_v6_rejected),
	    cmocka_unit_test(test_callback_abort),
	    cmocka_unit_test(test_torn_every_offset),
	    cmocka_unit_test(test_torn_shapes),
	    cmocka_unit_test(test_random_roundtrip),
	    cmocka_unit_test_setup_teardown(test_store_append_sync_reload, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_store_rewrite, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_store_write_fails_then_retry, tmp_setup,
					    tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_store_torn_write, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_store_torn_write_retry, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_store_fdatasync_fails, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_store_syncer, tmp_setup, tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_store_sync_failed_writes_again, tmp_setup,
					    tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_store_synced_after_failed_sync, tmp_setup,
					    tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_store_syncer_follows_rewrite, tmp_setup,
					    tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_store_rewrite_fails_keeps_old, tmp_setup,
					    tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_store_load_cuts_torn_tail, tmp_setup,
					    tmp_teardown),
	    cmocka_unit_test_setup_teardown(test_store_load_error, tmp_setup, tmp_teardown),
	};

	core_log_level_max = CORE_LOG_ERR; /* the torn-tail warnings are expected here */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
