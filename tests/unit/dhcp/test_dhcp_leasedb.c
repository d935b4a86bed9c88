/* SPDX-License-Identifier: MPL-2.0 */
/* Unit tests for the lease DB: indexes stay right through growth and identity changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dhcp_leasedb.h"

static void mac_of(uint32_t i, uint8_t mac[6])
{
	uint8_t m[6] = {2, 0, (uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};

	memcpy(mac, m, 6);
}

static void test_many_leases_indexed(void **state)
{
	struct dhcp_leasedb *db = dhcp_leasedb_new();
	const uint32_t n = 200000;
	uint8_t mac[6];

	(void)state;
	for (uint32_t i = 0; i < n; i++) {
		struct dhcp_lease *l = dhcp_leasedb_obtain(db, 0x0a000000 + i);

		assert_non_null(l);
		mac_of(i, mac);
		assert_int_equal(dhcp_leasedb_set_client(db, l, 1, 6, mac, NULL, 0), 0);
	}
	assert_int_equal(dhcp_leasedb_count(db), n);
	for (uint32_t i = 0; i < n; i += 997) {
		struct dhcp_lease *l = dhcp_leasedb_get(db, 0x0a000000 + i);

		assert_non_null(l);
		mac_of(i, mac);
		assert_ptr_equal(dhcp_leasedb_by_hw(db, 1, 6, mac, NULL), l);
		assert_null(dhcp_leasedb_by_hw(db, 1, 6, mac, l));
	}
	assert_null(dhcp_leasedb_get(db, 0x0b000000));
	/* The compactness the 256-bytes-a-lease budget depends on. */
	assert_true(dhcp_leasedb_bytes(db) / n <= 160);
	dhcp_leasedb_free(db);
}

static void test_identity_change_reindexes(void **state)
{
	struct dhcp_leasedb *db = dhcp_leasedb_new();
	struct dhcp_lease *l = dhcp_leasedb_obtain(db, 42);
	uint8_t long_uid[40], mac1[6], mac2[6];

	(void)state;
	memset(long_uid, 0xab, sizeof(long_uid));
	mac_of(1, mac1);
	mac_of(2, mac2);
	assert_int_equal(dhcp_leasedb_set_client(db, l, 1, 6, mac1, long_uid, sizeof(long_uid)), 0);
	assert_ptr_equal(dhcp_leasedb_by_uid(db, long_uid, sizeof(long_uid), NULL), l);
	assert_memory_equal(dhcp_lease_uid(l), long_uid, sizeof(long_uid));
	assert_int_equal(dhcp_leasedb_set_client(db, l, 1, 6, mac2, NULL, 0), 0);
	assert_null(dhcp_leasedb_by_uid(db, long_uid, sizeof(long_uid), NULL));
	assert_null(dhcp_leasedb_by_hw(db, 1, 6, mac1, NULL));
	assert_ptr_equal(dhcp_leasedb_by_hw(db, 1, 6, mac2, NULL), l);
	dhcp_leasedb_free(db);
}

static void test_record_round_trip(void **state)
{
	struct dhcp_leasedb *db = dhcp_leasedb_new();
	struct dhcp_lease_rec in, out;
	const uint8_t uid[] = {1, 2, 0, 0, 0, 0, 9};

	(void)state;
	dhcp_lease_rec_init(&in);
	in.addr = 0xc0000264;
	in.starts = 1800000000;
	in.ends = 1800000600;
	in.cltt = 1800000000;
	in.binding = DHCP_BINDING_ACTIVE;
	in.htype = 1;
	in.hlen = 6;
	mac_of(9, in.hw);
	in.uid_len = sizeof(uid);
	memcpy(in.uid, uid, sizeof(uid));
	in.hostname_len = 4;
	memcpy(in.hostname, "host", 5);
	assert_int_equal(dhcp_leasedb_apply(db, &in), 0);
	dhcp_leasedb_to_rec(dhcp_leasedb_get(db, in.addr), &out);
	assert_int_equal(out.addr, in.addr);
	assert_int_equal(out.ends, in.ends);
	assert_int_equal(out.binding, DHCP_BINDING_ACTIVE);
	assert_int_equal(out.next_binding, DHCP_BINDING_FREE);
	assert_memory_equal(out.hw, in.hw, 6);
	assert_int_equal(out.uid_len, sizeof(uid));
	assert_memory_equal(out.uid, uid, sizeof(uid));
	assert_string_equal(out.hostname, "host");
	dhcp_leasedb_free(db);
}

/* A failover lease keeps what ISC writes for it: potential expiries, next and rewind states,
 * the reserved flag; a later record without them (a single server's) drops them. */
static void test_failover_record_round_trip(void **state)
{
	struct dhcp_leasedb *db = dhcp_leasedb_new();
	struct dhcp_lease_rec in, out;
	size_t before;

	(void)state;
	dhcp_lease_rec_init(&in);
	in.addr = 0xc0000265;
	in.starts = 1800000000;
	in.ends = 1800001800;
	in.tstp = 1800004500;
	in.tsfp = in.atsfp = 1800004500;
	in.cltt = 1800000000;
	in.binding = DHCP_BINDING_ACTIVE;
	in.next_binding = DHCP_BINDING_EXPIRED;
	in.rewind_binding = DHCP_BINDING_BACKUP;
	in.reserved = true;
	in.htype = 1;
	in.hlen = 6;
	mac_of(7, in.hw);
	before = dhcp_leasedb_bytes(db);
	assert_int_equal(dhcp_leasedb_apply(db, &in), 0);
	assert_true(dhcp_leasedb_bytes(db) > before);
	dhcp_leasedb_to_rec(dhcp_leasedb_get(db, in.addr), &out);
	assert_true(dhcp_lease_rec_equal(&in, &out));
	assert_int_equal(out.tsfp, in.tsfp);
	assert_int_equal(out.next_binding, DHCP_BINDING_EXPIRED);
	assert_int_equal(out.rewind_binding, DHCP_BINDING_BACKUP);
	assert_true(out.reserved);
	/* The same lease written later without failover fields: plain again. */
	in.tstp = in.tsfp = in.atsfp = DHCP_TIME_NONE;
	in.next_binding = DHCP_BINDING_FREE;
	in.rewind_binding = DHCP_BINDING_FREE;
	in.reserved = false;
	assert_int_equal(dhcp_leasedb_apply(db, &in), 0);
	dhcp_leasedb_to_rec(dhcp_leasedb_get(db, in.addr), &out);
	assert_int_equal(out.tstp, DHCP_TIME_NONE);
	assert_int_equal(out.next_binding, DHCP_BINDING_FREE);
	dhcp_leasedb_free(db);
}

static void test_iterator_visits_all(void **state)
{
	struct dhcp_leasedb *db = dhcp_leasedb_new();
	struct dhcp_leasedb_iter it = {0};
	uint64_t sum = 0;
	size_t n = 0;

	(void)state;
	for (uint32_t i = 1; i <= 10000; i++)
		assert_non_null(dhcp_leasedb_obtain(db, i));
	for (struct dhcp_lease *l; (l = dhcp_leasedb_next(db, &it)); n++)
		sum += l->addr;
	assert_int_equal(n, 10000);
	assert_int_equal(sum, 10000ull * 10001 / 2);
	dhcp_leasedb_free(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_leases_indexed),
		cmocka_unit_test(test_identity_change_reindexes),
		cmocka_unit_test(test_record_round_trip),
		cmocka_unit_test(test_failover_record_round_trip),
		cmocka_unit_test(test_iterator_visits_all),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
