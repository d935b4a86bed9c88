/* SPDX-License-Identifier: MPL-2.0 */
/* Failover binding updates: ISC's lease times, its BNDUPDs byte for byte, its checks. */
#include <libgen.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dhcp_fo_bind.h"

#define NOW 1795600000

/* The capture: default-lease-time 3600, MCLT 1800; the first ACK gets MCLT and a potential
 * expiry of now + 4500. Later, with the peer's ack, the full time. */
static void test_lease_time(void **state)
{
	int64_t tstp;

	(void)state;
	assert_int_equal(dhcp_fo_lease_time(3600, 1800, DHCP_TIME_NONE, NOW, &tstp), 1800);
	assert_int_equal(tstp, NOW + 4500);
	assert_int_equal(dhcp_fo_lease_time(3600, 1800, NOW - 1, NOW, &tstp), 1800);
	assert_int_equal(dhcp_fo_lease_time(3600, 1800, NOW + 4500, NOW, &tstp), 3600);
	assert_int_equal(tstp, NOW + 3600 + 1800);
	assert_int_equal(dhcp_fo_lease_time(3600, 1800, NOW + 100, NOW, &tstp), 1900);
	assert_int_equal(tstp, NOW + 3600 + 950);
	assert_int_equal(dhcp_fo_lease_time(600, 1800, DHCP_TIME_NONE, NOW, &tstp), 600);
	assert_int_equal(tstp, NOW + 900);
}

/* Every BNDUPD in the capture, parsed into a record and written back, is the same bytes. */
static void test_capture_bndupds(void **state)
{
	static uint8_t buf[256 * 1024];
	char src[512], path[1024];
	unsigned seen[DHCP_BINDING_MAX] = {0};
	size_t len, off = 0;
	FILE *f;

	(void)state;
	snprintf(src, sizeof(src), "%s", __FILE__);
	snprintf(path, sizeof(path), "%s/../../data/failover/primary-to-secondary.bin",
		 dirname(src));
	f = fopen(path, "rb");
	if (!f)
		skip();
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	while (off < len) {
		int n = dhcp_fo_frame_len(buf + off, len - off);
		struct dhcp_fo_msg m, back;
		struct dhcp_lease_rec u;
		uint8_t chaddr[DHCP_HW_MAX + 1], out[DHCP_FO_MSG_MAX];
		const char *why;

		assert_true(n > 0);
		assert_int_equal(dhcp_fo_decode(buf + off, (size_t)n, &m, &why), 0);
		if (m.type == DHCP_FO_BNDUPD) {
			assert_int_equal(dhcp_fo_bndupd_parse(&m, true, &u, &why), 0);
			seen[u.binding]++;
			u.tstp = u.tsfp; /* what the sender had as its potential expiry */
			dhcp_fo_bndupd_from_rec(&u, chaddr, &back);
			back.time = m.time;
			back.xid = m.xid;
			assert_int_equal(dhcp_fo_encode(&back, out, sizeof(out)), n);
			assert_memory_equal(out, buf + off, (size_t)n);
		}
		off += (size_t)n;
	}
	assert_int_equal(seen[DHCP_BINDING_BACKUP], 172);
	assert_true(seen[DHCP_BINDING_ACTIVE] >= 2);
	assert_true(seen[DHCP_BINDING_FREE] >= 1);
}

static void test_parse_rejects(void **state)
{
	struct dhcp_fo_msg m = {.type = DHCP_FO_BNDUPD};
	struct dhcp_lease_rec u;
	const char *why;
	uint8_t hw[] = {1, 2, 0, 0, 0, 0xc1, 1};

	(void)state;
	m.present = 1u << DHCP_FO_ASSIGNED_IP;
	assert_int_equal(dhcp_fo_bndupd_parse(&m, true, &u, &why), DHCP_FO_R_MISSING_BINDINFO);
	m.present |= 1u << DHCP_FO_BINDING_STATUS;
	m.binding_status = DHCP_BINDING_ACTIVE;
	assert_int_equal(dhcp_fo_bndupd_parse(&m, false, &u, &why), DHCP_FO_R_ILLEGAL_IP);
	assert_int_equal(dhcp_fo_bndupd_parse(&m, true, &u, &why), DHCP_FO_R_MISSING_BINDINFO);
	m.chaddr = (struct dhcp_fo_bytes){hw, sizeof(hw)};
	m.present |= 1u << DHCP_FO_CHADDR;
	assert_int_equal(dhcp_fo_bndupd_parse(&m, true, &u, &why), 0);
	assert_int_equal(u.htype, 1);
	assert_int_equal(u.hlen, 6);
	assert_int_equal(u.uid_len, 0); /* no option 4: the stored uid is cleared */
	m.binding_status = DHCP_BINDING_ABANDONED;
	assert_int_equal(dhcp_fo_bndupd_parse(&m, true, &u, &why), DHCP_FO_R_MISC);
	m.binding_status = 9; /* ISC log_fatals on this; we refuse it */
	assert_int_equal(dhcp_fo_bndupd_parse(&m, true, &u, &why), DHCP_FO_R_FATAL_CONFLICT);
}

static struct dhcp_lease_rec lease(uint8_t b, int64_t tsfp, int64_t ends)
{
	struct dhcp_lease_rec r;

	dhcp_lease_rec_init(&r);
	r.binding = b;
	r.tsfp = tsfp;
	r.ends = ends;
	return r;
}

static void test_transitions(void **state)
{
	struct dhcp_lease_rec act = lease(DHCP_BINDING_ACTIVE, NOW + 100, NOW + 100);
	struct dhcp_lease_rec ended = lease(DHCP_BINDING_ACTIVE, NOW + 100, NOW);
	struct dhcp_lease_rec early_free = lease(DHCP_BINDING_FREE, NOW + 100, 0);
	struct dhcp_lease_rec late_free = lease(DHCP_BINDING_FREE, NOW - 1, 0);
	struct dhcp_lease_rec expired = lease(DHCP_BINDING_EXPIRED, NOW, NOW + 200);
	struct dhcp_lease_rec released = lease(DHCP_BINDING_RELEASED, NOW, NOW);
	struct dhcp_lease_rec free_own = lease(DHCP_BINDING_FREE, 0, 0);
	struct dhcp_lease_rec reserve = lease(DHCP_BINDING_FREE, 0, 0);
	const char *why;

	(void)state;
	/* The secondary keeps an active lease from an early free or expiry. */
	assert_int_equal(dhcp_fo_transition_check(DHCP_FO_S_NORMAL, DHCP_FO_SECONDARY, &ended,
						  &early_free, NOW, &why),
			 DHCP_FO_R_FATAL_CONFLICT);
	assert_int_equal(dhcp_fo_transition_check(DHCP_FO_S_NORMAL, DHCP_FO_SECONDARY, &ended,
						  &late_free, NOW, &why), 0);
	assert_int_equal(dhcp_fo_transition_check(DHCP_FO_S_NORMAL, DHCP_FO_SECONDARY, &ended,
						  &expired, NOW, &why), 0);
	/* Unlike ISC (65 s of slack, and our end not looked at for a free): a lease active
	 * here until a later end, renewed by us, is neither expired nor freed by the peer. */
	assert_int_equal(dhcp_fo_transition_check(DHCP_FO_S_NORMAL, DHCP_FO_SECONDARY, &act,
						  &expired, NOW, &why),
			 DHCP_FO_R_FATAL_CONFLICT);
	assert_int_equal(dhcp_fo_transition_check(DHCP_FO_S_NORMAL, DHCP_FO_SECONDARY, &act,
						  &late_free, NOW, &why),
			 DHCP_FO_R_FATAL_CONFLICT);
	assert_int_equal(dhcp_fo_transition_check(DHCP_FO_S_COMMUNICATIONS_INTERRUPTED,
						  DHCP_FO_SECONDARY, &act, &expired, NOW + 99, &why),
			 DHCP_FO_R_FATAL_CONFLICT);
	assert_int_equal(dhcp_fo_transition_check(DHCP_FO_S_COMMUNICATIONS_INTERRUPTED,
						  DHCP_FO_SECONDARY, &act, &expired, NOW + 100, &why),
			 0);
	/* In normal only the primary expires leases (quirk 11); a release is fine. */
	assert_int_equal(dhcp_fo_transition_check(DHCP_FO_S_NORMAL, DHCP_FO_PRIMARY, &act,
						  &expired, NOW + 1000, &why),
			 DHCP_FO_R_FATAL_CONFLICT);
	assert_int_equal(dhcp_fo_transition_check(DHCP_FO_S_NORMAL, DHCP_FO_PRIMARY, &act,
						  &released, NOW, &why), 0);
	/* Outside normal only an active lease is protected. */
	assert_int_equal(dhcp_fo_transition_check(DHCP_FO_S_PARTNER_DOWN, DHCP_FO_PRIMARY, &act,
						  &early_free, NOW, &why),
			 DHCP_FO_R_FATAL_CONFLICT);
	assert_int_equal(dhcp_fo_transition_check(DHCP_FO_S_PARTNER_DOWN, DHCP_FO_PRIMARY,
						  &free_own, &early_free, NOW, &why), 0);
	/* The peer may not mark one of our free leases reserved. */
	reserve.reserved = true;
	assert_int_equal(dhcp_fo_transition_check(DHCP_FO_S_NORMAL, DHCP_FO_PRIMARY, &free_own,
						  &reserve, NOW, &why),
			 DHCP_FO_R_IP_NOT_RESERVED);
}

static void test_dueling(void **state)
{
	struct dhcp_lease_rec a = lease(DHCP_BINDING_ACTIVE, 0, 0), b = a;
	struct dhcp_lease_rec exp = lease(DHCP_BINDING_EXPIRED, 0, 0);
	struct dhcp_lease_rec rel = lease(DHCP_BINDING_RELEASED, 0, 0);

	(void)state;
	a.cltt = NOW;
	b.cltt = NOW + 1;
	assert_true(dhcp_fo_peer_wins(&a, &b, DHCP_FO_PRIMARY));   /* later client contact */
	assert_false(dhcp_fo_peer_wins(&b, &a, DHCP_FO_SECONDARY));
	b.cltt = NOW;
	assert_false(dhcp_fo_peer_wins(&a, &b, DHCP_FO_PRIMARY)); /* tie: the primary's */
	assert_true(dhcp_fo_peer_wins(&a, &b, DHCP_FO_SECONDARY));
	assert_true(dhcp_fo_peer_wins(&a, &exp, DHCP_FO_PRIMARY));
	assert_true(dhcp_fo_peer_wins(&rel, &a, DHCP_FO_PRIMARY)); /* an incoming active */
	assert_false(dhcp_fo_peer_wins(&exp, &rel, DHCP_FO_PRIMARY));
	assert_true(dhcp_fo_peer_wins(&exp, &rel, DHCP_FO_SECONDARY));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lease_time),
	    cmocka_unit_test(test_capture_bndupds),
	    cmocka_unit_test(test_parse_rejects),
	    cmocka_unit_test(test_transitions),
	    cmocka_unit_test(test_dueling),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
