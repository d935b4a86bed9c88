/* SPDX-License-Identifier: MPL-2.0 */
/* The failover codec against a real ISC 4.4.3 pair's streams, and against bad input. */
#include <errno.h>
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dhcp_fo_wire.h"
#include "dhcp_lease.h"

#define STREAM_MAX (256 * 1024)

struct stream {
	uint8_t buf[STREAM_MAX];
	size_t len;
	unsigned count[DHCP_FO_TYPE_MAX + 1];
	unsigned backup_updates, active_updates, released_updates, bndack_plain, msgs;
	struct dhcp_fo_msg first;
	size_t first_len;
};

/* Reads tests/data/failover/NAME (relative to this source file); skips when absent. */
static void load(const char *name, struct stream *s)
{
	char src[512], path[1024];
	FILE *f;

	snprintf(src, sizeof(src), "%s", __FILE__);
	snprintf(path, sizeof(path), "%s/../../data/failover/%s", dirname(src), name);
	f = fopen(path, "rb");
	if (!f) {
		print_message("%s not found (run from the build directory)\n", path);
		skip();
	}
	s->len = fread(s->buf, 1, sizeof(s->buf), f);
	fclose(f);
	assert_true(s->len > 0 && s->len < sizeof(s->buf));
}

/*
 * Splits the stream into messages; each must decode, skip nothing, and encode back to the
 * very same bytes (so our encoder writes ISC's layout and option order).
 */
static void walk(struct stream *s)
{
	size_t off = 0;

	while (off < s->len) {
		uint8_t out[DHCP_FO_MSG_MAX];
		struct dhcp_fo_msg m;
		const char *err = NULL;
		int n = dhcp_fo_frame_len(s->buf + off, s->len - off), rc;

		assert_true(n >= DHCP_FO_HDR_LEN);
		assert_true(off + (size_t)n <= s->len);
		rc = dhcp_fo_decode(s->buf + off, (size_t)n, &m, &err);
		if (rc)
			print_error("message at %zu: %s\n", off, err);
		assert_int_equal(rc, 0);
		assert_int_equal(m.skipped, 0);
		assert_int_equal(dhcp_fo_encode(&m, out, sizeof(out)), n);
		assert_memory_equal(out, s->buf + off, (size_t)n);
		if (s->msgs++ == 0) {
			s->first = m;
			s->first_len = (size_t)n;
		}
		s->count[m.type]++;
		if (m.type == DHCP_FO_BNDUPD && m.binding_status == DHCP_BINDING_BACKUP)
			s->backup_updates++;
		if (m.type == DHCP_FO_BNDUPD && m.binding_status == DHCP_BINDING_ACTIVE)
			s->active_updates++;
		if (m.type == DHCP_FO_BNDUPD && m.binding_status == DHCP_BINDING_RELEASED)
			s->released_updates++;
		if (m.type == DHCP_FO_BNDACK && m.present == 1u << DHCP_FO_ASSIGNED_IP &&
		    n == 20)
			s->bndack_plain++;
		off += (size_t)n;
	}
}

static void assert_bytes(const struct dhcp_fo_bytes *b, const char *want)
{
	assert_int_equal(b->len, strlen(want));
	assert_memory_equal(b->p, want, b->len);
}

static void test_isc_primary_stream(void **state)
{
	static struct stream s;
	const struct dhcp_fo_msg *c = &s.first;
	uint8_t hba[DHCP_FO_HBA_LEN];

	(void)state;
	memset(&s, 0, sizeof(s));
	load("primary-to-secondary.bin", &s);
	walk(&s);
	/* The CONNECT as the reference describes it: 111 bytes, xid 0, split 128. */
	assert_int_equal(c->type, DHCP_FO_CONNECT);
	assert_int_equal(s.first_len, 111);
	assert_int_equal(c->xid, 0);
	assert_bytes(&c->relationship, "anchor-fo");
	assert_bytes(&c->vendor_class, "isc-4.4.3-P1");
	assert_int_equal(c->mclt, 1800);
	assert_int_equal(c->max_unacked, 10);
	assert_int_equal(c->receive_timer, 30);
	assert_int_equal(c->protocol_version, 1);
	assert_true(dhcp_fo_has(c, DHCP_FO_TLS_REQUEST));
	assert_int_equal(c->hba.len, DHCP_FO_HBA_LEN);
	memset(hba, 0xff, 16);
	memset(hba + 16, 0, 16);
	assert_memory_equal(c->hba.p, hba, sizeof(hba));
	/* The pool balance (about half of 345 addresses), two clients, one release. */
	assert_int_equal(s.backup_updates, 172);
	assert_true(s.active_updates >= 2);
	assert_true(s.released_updates >= 1);
	assert_int_equal(s.count[DHCP_FO_UPDREQALL], 2);
	assert_int_equal(s.count[DHCP_FO_UPDDONE], 1);
	assert_true(s.count[DHCP_FO_STATE] >= 3);
	assert_true(s.count[DHCP_FO_CONTACT] >= 1);
	assert_int_equal(s.count[DHCP_FO_CONNECTACK], 0);
}

static void test_isc_secondary_stream(void **state)
{
	static struct stream s;
	const struct dhcp_fo_msg *a = &s.first;

	(void)state;
	memset(&s, 0, sizeof(s));
	load("secondary-to-primary.bin", &s);
	walk(&s);
	/* A secondary never sends CONNECT; its CONNECTACK carries no MCLT and no HBA. */
	assert_int_equal(a->type, DHCP_FO_CONNECTACK);
	assert_int_equal(a->xid, 0);
	assert_false(dhcp_fo_has(a, DHCP_FO_MCLT));
	assert_false(dhcp_fo_has(a, DHCP_FO_HBA));
	assert_false(dhcp_fo_has(a, DHCP_FO_REJECT_REASON));
	assert_true(dhcp_fo_has(a, DHCP_FO_TLS_REPLY));
	assert_bytes(&a->relationship, "anchor-fo");
	assert_int_equal(s.count[DHCP_FO_CONNECT], 0);
	assert_int_equal(s.count[DHCP_FO_UPDREQALL], 2);
	/* BNDACKs carry the address only (ISC's DO_BNDACK_SHOULD_NOT), 20 bytes each. */
	assert_true(s.bndack_plain >= 172);
}

/* A message from parts: header fields, then raw option bytes. */
static size_t build(uint8_t *buf, uint8_t type, uint8_t offset, const uint8_t *opts, size_t n)
{
	size_t len = DHCP_FO_HDR_LEN + n;

	memset(buf, 0, DHCP_FO_HDR_LEN);
	buf[0] = (uint8_t)(len >> 8);
	buf[1] = (uint8_t)len;
	buf[2] = type;
	buf[3] = offset;
	buf[7] = 42;  /* time */
	buf[11] = 7;  /* xid */
	if (n)
		memcpy(buf + DHCP_FO_HDR_LEN, opts, n);
	return len;
}

static void expect_bad(const uint8_t *buf, size_t n, const char *why)
{
	struct dhcp_fo_msg m;
	const char *err = NULL;

	assert_int_equal(dhcp_fo_decode(buf, n, &m, &err), CORE_EMALFORMED);
	assert_non_null(err);
	if (strcmp(err, why))
		print_error("got '%s', want '%s'\n", err, why);
	assert_string_equal(err, why);
}

static void test_decode_rejects(void **state)
{
	static const uint8_t ok[] = {0, 24, 0, 1, 2};
	static const struct {
		uint8_t type, offset;
		uint8_t opts[16];
		size_t n;
		const char *why;
	} bad[] = {
	    {DHCP_FO_STATE, 8, {0, 24, 0, 1, 2}, 5, "payload offset outside the message"},
	    {DHCP_FO_STATE, 200, {0, 24, 0, 1, 2}, 5, "payload offset outside the message"},
	    {DHCP_FO_STATE, 12, {0, 24, 0, 1, 2, 0, 24, 0, 1, 3}, 10, "repeated option"},
	    {DHCP_FO_STATE, 12, {0, 24, 0, 2, 0, 2}, 6, "fixed-size option of the wrong size"},
	    {DHCP_FO_STATE, 12, {0, 24, 0, 9, 2}, 5, "option longer than the message"},
	    {DHCP_FO_STATE, 12, {0, 24, 0}, 3, "truncated option header"},
	    {DHCP_FO_STATE, 12, {0, 17, 0, 2, 1, 2, 0, 24, 0, 1, 2}, 11,
	     "message-digest is not the last option"},
	    {13, 12, {0, 24, 0, 1, 2}, 5, "options in a message of unknown type"},
	    {0, 12, {0, 24, 0, 1, 2}, 5, "options in a message of unknown type"},
	};
	uint8_t buf[64];
	size_t n;

	(void)state;
	n = build(buf, DHCP_FO_STATE, 12, ok, sizeof(ok));
	expect_bad(buf, n - 1, "length field does not match the message");
	expect_bad(buf, 11, "shorter than the header");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = build(buf, bad[i].type, bad[i].offset, bad[i].opts, bad[i].n);
		expect_bad(buf, n, bad[i].why);
	}
}

/* What ISC skips: unknown codes, options the type does not allow (before their size is
 * checked), a trailing digest; a longer header is skipped up to the offset. */
static void test_decode_skips(void **state)
{
	static const uint8_t opts[] = {
	    0, 0,  0, 1, 9,          /* code 0 */
	    0, 30, 0, 2, 1, 2,       /* above the last code */
	    0, 15, 0, 1, 5,          /* MCLT in a STATE, wrongly sized: skipped first */
	    0, 24, 0, 1, 2,          /* server-state normal */
	    0, 25, 0, 4, 0, 0, 1, 0, /* start-time-of-state */
	    0, 17, 0, 3, 1, 2, 3,    /* digest, last */
	};
	uint8_t buf[96], hdr16[96];
	struct dhcp_fo_msg m;
	const char *err = NULL;
	size_t n = build(buf, DHCP_FO_STATE, 12, opts, sizeof(opts));

	(void)state;
	assert_int_equal(dhcp_fo_decode(buf, n, &m, &err), 0);
	assert_int_equal(m.skipped, 4);
	assert_int_equal(m.present, 1u << DHCP_FO_SERVER_STATE | 1u << DHCP_FO_STOS);
	assert_int_equal(m.server_state, DHCP_FO_S_NORMAL);
	assert_int_equal(m.stos, 256);
	assert_int_equal(m.time, 42);
	assert_int_equal(m.xid, 7);
	/* Header of 16 bytes: the 4 extra bytes are skipped. */
	memcpy(hdr16, buf, DHCP_FO_HDR_LEN);
	memset(hdr16 + DHCP_FO_HDR_LEN, 0xee, 4);
	memcpy(hdr16 + 16, buf + DHCP_FO_HDR_LEN, sizeof(opts));
	hdr16[1] = (uint8_t)(n + 4);
	hdr16[3] = 16;
	assert_int_equal(dhcp_fo_decode(hdr16, n + 4, &m, &err), 0);
	assert_int_equal(m.server_state, DHCP_FO_S_NORMAL);
	/* A type ISC does not know, without options, decodes; its caller ignores it. */
	n = build(buf, 99, 12, NULL, 0);
	assert_int_equal(dhcp_fo_decode(buf, n, &m, &err), 0);
	assert_int_equal(m.type, 99);
}

static void test_frame_len(void **state)
{
	static const uint8_t ok[] = {0, 12}, small[] = {0, 11}, big[] = {8, 1};

	(void)state;
	assert_int_equal(dhcp_fo_frame_len(ok, 1), 0);
	assert_int_equal(dhcp_fo_frame_len(ok, 2), 12);
	assert_int_equal(dhcp_fo_frame_len(small, 2), CORE_EMALFORMED);
	assert_int_equal(dhcp_fo_frame_len(big, 2), CORE_EMALFORMED);
}

static void test_encode(void **state)
{
	static const uint8_t want[] = {0, 30, DHCP_FO_BNDACK, 12, 0, 0, 0, 5, 0, 0, 0, 9,
				       0, 2, 0, 4, 192, 0, 2, 10,
				       0, 21, 0, 1, 16,
				       0, 16, 0, 1, 'x'};
	struct dhcp_fo_msg m = {.type = DHCP_FO_BNDACK, .time = 5, .xid = 9};
	uint8_t buf[DHCP_FO_MSG_MAX];
	uint8_t big[DHCP_FO_MSG_MAX];

	(void)state;
	/* Given in any order, written in ISC's: 2, then 21, then 16. */
	m.message = (struct dhcp_fo_bytes){(const uint8_t *)"x", 1};
	m.reject_reason = DHCP_FO_R_LESS_CRIT_BIND_INFO;
	m.assigned_ip = 0xc000020a;
	m.present = 1u << DHCP_FO_MESSAGE | 1u << DHCP_FO_REJECT_REASON | 1u << DHCP_FO_ASSIGNED_IP;
	assert_int_equal(dhcp_fo_encode(&m, buf, sizeof(buf)), sizeof(want));
	assert_memory_equal(buf, want, sizeof(want));
	assert_int_equal(dhcp_fo_encode(&m, buf, sizeof(want) - 1), CORE_ETOOBIG);
	/* An option the type does not allow is our bug, not something to send. */
	m.present |= 1u << DHCP_FO_MCLT;
	assert_int_equal(dhcp_fo_encode(&m, buf, sizeof(buf)), -EINVAL);
	m.present &= ~(1u << DHCP_FO_MCLT);
	m.type = 0;
	assert_int_equal(dhcp_fo_encode(&m, buf, sizeof(buf)), -EINVAL);
	/* Never longer than the protocol's maximum, whatever room the caller has. */
	memset(big, 'a', sizeof(big));
	m = (struct dhcp_fo_msg){.type = DHCP_FO_DISCONNECT, .present = 1u << DHCP_FO_MESSAGE};
	m.message = (struct dhcp_fo_bytes){big, DHCP_FO_MSG_MAX - 16};
	assert_int_equal(dhcp_fo_encode(&m, buf, sizeof(buf)), DHCP_FO_MSG_MAX);
	m.message.len++;
	assert_int_equal(dhcp_fo_encode(&m, buf, sizeof(buf)), CORE_ETOOBIG);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(dhcp_fo_type_name(DHCP_FO_UPDREQALL), "UPDREQALL");
	assert_string_equal(dhcp_fo_type_name(0), "?");
	assert_string_equal(dhcp_fo_state_name(DHCP_FO_S_RECOVER_WAIT), "recover-wait");
	assert_string_equal(dhcp_fo_state_name(DHCP_FO_S_COMMUNICATIONS_INTERRUPTED),
			    "communications-interrupted");
	assert_string_equal(dhcp_fo_state_name(12), "?");
	assert_string_equal(dhcp_fo_reject_name(DHCP_FO_R_INVALID_PARTNER),
			    "connection rejected, invalid failover partner");
	assert_string_equal(dhcp_fo_reject_name(200), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_isc_primary_stream),
	    cmocka_unit_test(test_isc_secondary_stream),
	    cmocka_unit_test(test_decode_rejects),
	    cmocka_unit_test(test_decode_skips),
	    cmocka_unit_test(test_frame_len),
	    cmocka_unit_test(test_encode),
	    cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
