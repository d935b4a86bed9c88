/* SPDX-License-Identifier: MPL-2.0 */
/* The RFC 3074 hash against ISC's buckets, and hash bucket assignments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dhcp_fo_hash.h"

/* The table is a permutation: every bucket is reachable from a 1-byte key. */
static void test_permutation(void **state)
{
	uint8_t seen[256] = {0};

	(void)state;
	for (unsigned b = 0; b < 256; b++) {
		uint8_t k = (uint8_t)b;

		seen[dhcp_fo_hash(&k, 1)]++;
	}
	for (unsigned b = 0; b < 256; b++)
		assert_int_equal(seen[b], 1);
}

/*
 * Buckets ISC 4.4.3 computes (shared/isc-failover-reference.md, section 6; the first two are
 * the capture's clients, whose BNDUPDs came from the primary under split 128).
 */
static void test_isc_vectors(void **state)
{
	static const uint8_t mac1[] = {0x02, 0, 0, 0, 0xc1, 0x01};
	static const uint8_t cid2[] = {0x01, 0x02, 0, 0, 0, 0xc2, 0x01};
	static const uint8_t mac3[] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55};
	static const uint8_t zero[6] = {0};
	static const uint8_t ones[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t one[] = {0x0e};
	uint8_t hba[DHCP_FO_HBA_BYTES];

	(void)state;
	assert_int_equal(dhcp_fo_client_bucket(NULL, 0, mac1, sizeof(mac1)), 99);
	assert_int_equal(dhcp_fo_client_bucket(cid2, sizeof(cid2), mac1, sizeof(mac1)), 58);
	assert_int_equal(dhcp_fo_hash(mac3, sizeof(mac3)), 135);
	assert_int_equal(dhcp_fo_hash(zero, sizeof(zero)), 254);
	assert_int_equal(dhcp_fo_hash(ones, sizeof(ones)), 79);
	assert_int_equal(dhcp_fo_hash(one, sizeof(one)), 232);
	dhcp_fo_hba_split(hba, 128);
	assert_true(dhcp_fo_hba_primary(hba, 99));
	assert_true(dhcp_fo_hba_primary(hba, 58));
	assert_false(dhcp_fo_hba_primary(hba, 135));
	assert_false(dhcp_fo_hba_primary(hba, 254));
}

/* split N as ISC writes it on the wire: 128 is 16 x 0xff then 16 x 0x00, low bit first. */
static void test_split(void **state)
{
	uint8_t hba[DHCP_FO_HBA_BYTES], want[DHCP_FO_HBA_BYTES];

	(void)state;
	dhcp_fo_hba_split(hba, 128);
	memset(want, 0xff, 16);
	memset(want + 16, 0, 16);
	assert_memory_equal(hba, want, sizeof(want));
	dhcp_fo_hba_split(hba, 3);
	assert_int_equal(hba[0], 0x07);
	assert_true(dhcp_fo_hba_primary(hba, 2));
	assert_false(dhcp_fo_hba_primary(hba, 3));
	dhcp_fo_hba_split(hba, 256);
	assert_true(dhcp_fo_hba_primary(hba, 255));
	dhcp_fo_hba_split(hba, 0);
	assert_false(dhcp_fo_hba_primary(hba, 0));
}

/* About half of many clients fall on each side of split 128. */
static void test_balance(void **state)
{
	uint8_t hba[DHCP_FO_HBA_BYTES], mac[6] = {0x52, 0x54, 0};
	unsigned primary = 0;

	(void)state;
	dhcp_fo_hba_split(hba, 128);
	for (unsigned i = 0; i < 65536; i++) {
		mac[4] = (uint8_t)(i >> 8);
		mac[5] = (uint8_t)i;
		primary += dhcp_fo_hba_primary(hba, dhcp_fo_hash(mac, sizeof(mac)));
	}
	assert_in_range(primary, 65536 * 45 / 100, 65536 * 55 / 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_permutation),
	    cmocka_unit_test(test_isc_vectors),
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_balance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
