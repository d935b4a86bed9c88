/* SPDX-License-Identifier: MPL-2.0 */
/* The failover update queue: order, the peer's window, xids, changes in flight, link loss. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dhcp_fo_updq.h"

#define A(n) (0xc0000200u + (n))

static void test_window_and_order(void **state)
{
	struct dhcp_fo_updq *q = dhcp_fo_updq_new(8);
	uint32_t a;

	(void)state;
	assert_non_null(q);
	assert_true(dhcp_fo_updq_idle(q));
	for (uint32_t i = 1; i <= 5; i++)
		assert_int_equal(dhcp_fo_updq_push(q, A(i), 0), 0);
	assert_int_equal(dhcp_fo_updq_push(q, A(2), 0), 0); /* queued once however often it changes */
	assert_int_equal(dhcp_fo_updq_queued(q), 5);
	/* Window 2: two go, in order. */
	for (uint32_t i = 1; i <= 2; i++) {
		assert_int_equal(dhcp_fo_updq_next(q, 2, UINT64_MAX, &a), 1);
		assert_int_equal(a, A(i));
		dhcp_fo_updq_sent(q, a, 100 + i);
	}
	assert_int_equal(dhcp_fo_updq_next(q, 2, UINT64_MAX, &a), 0);
	assert_int_equal(dhcp_fo_updq_in_flight(q), 2);
	/* An ack with another xid leaves the lease in flight, as ISC. */
	assert_int_equal(dhcp_fo_updq_acked(q, A(1), 999), DHCP_FO_ACK_MISMATCH);
	assert_int_equal(dhcp_fo_updq_acked(q, A(1), 101), DHCP_FO_ACK_DONE);
	assert_int_equal(dhcp_fo_updq_acked(q, A(1), 101), DHCP_FO_ACK_UNKNOWN);
	assert_int_equal(dhcp_fo_updq_next(q, 2, UINT64_MAX, &a), 1);
	assert_int_equal(a, A(3));
	dhcp_fo_updq_sent(q, a, 103);
	/* A lease that changes in flight goes again after its ack. */
	assert_int_equal(dhcp_fo_updq_push(q, A(2), 0), 0);
	assert_int_equal(dhcp_fo_updq_acked(q, A(2), 102), DHCP_FO_ACK_AGAIN);
	assert_int_equal(dhcp_fo_updq_acked(q, A(3), 103), DHCP_FO_ACK_DONE);
	for (uint32_t want = 4; want <= 6; want++) {
		assert_int_equal(dhcp_fo_updq_next(q, 10, UINT64_MAX, &a), 1);
		assert_int_equal(a, want == 6 ? A(2) : A(want));
		dhcp_fo_updq_sent(q, a, 200 + want);
		assert_int_equal(dhcp_fo_updq_acked(q, a, 200 + want), DHCP_FO_ACK_DONE);
	}
	assert_true(dhcp_fo_updq_idle(q));
	dhcp_fo_updq_free(q);
}

static void test_link_lost_and_capacity(void **state)
{
	struct dhcp_fo_updq *q = dhcp_fo_updq_new(3);
	uint32_t a;

	(void)state;
	for (uint32_t i = 1; i <= 3; i++)
		assert_int_equal(dhcp_fo_updq_push(q, A(i), 0), 0);
	assert_int_equal(dhcp_fo_updq_push(q, A(4), 0), CORE_EFULL);
	assert_int_equal(dhcp_fo_updq_next(q, 5, UINT64_MAX, &a), 1);
	dhcp_fo_updq_sent(q, a, 1);
	assert_int_equal(dhcp_fo_updq_next(q, 5, UINT64_MAX, &a), 1);
	dhcp_fo_updq_sent(q, a, 2);
	/* The link goes: what was in flight is queued again, first. */
	dhcp_fo_updq_link_lost(q);
	assert_int_equal(dhcp_fo_updq_in_flight(q), 0);
	assert_int_equal(dhcp_fo_updq_queued(q), 3);
	assert_int_equal(dhcp_fo_updq_acked(q, A(1), 1), DHCP_FO_ACK_UNKNOWN);
	assert_int_equal(dhcp_fo_updq_next(q, 5, UINT64_MAX, &a), 1);
	assert_true(a == A(1) || a == A(2));
	assert_int_equal(dhcp_fo_updq_next(q, 5, UINT64_MAX, &a), 1);
	assert_true(a == A(1) || a == A(2));
	assert_int_equal(dhcp_fo_updq_next(q, 5, UINT64_MAX, &a), 1);
	assert_int_equal(a, A(3));
	dhcp_fo_updq_free(q);
}

/* Many addresses, many rounds: nothing is lost or sent twice at once. */
/* A change goes to the peer only once its journal record is durable, in order. */
static void test_waits_for_durable(void **state)
{
	struct dhcp_fo_updq *q = dhcp_fo_updq_new(4);
	uint32_t a;

	(void)state;
	assert_int_equal(dhcp_fo_updq_push(q, A(1), 7), 0);
	assert_int_equal(dhcp_fo_updq_push(q, A(2), 5), 0);
	assert_int_equal(dhcp_fo_updq_next(q, 10, 6, &a), 0); /* A(1) is not durable yet */
	assert_int_equal(dhcp_fo_updq_next(q, 10, 7, &a), 1);
	assert_int_equal(a, A(1));
	dhcp_fo_updq_sent(q, a, 1);
	assert_int_equal(dhcp_fo_updq_next(q, 10, 7, &a), 1);
	assert_int_equal(a, A(2));
	dhcp_fo_updq_sent(q, a, 2);
	/* Changed again while in flight: sent again after the ack, once durable. */
	assert_int_equal(dhcp_fo_updq_push(q, A(1), 9), 0);
	assert_int_equal(dhcp_fo_updq_acked(q, A(1), 1), DHCP_FO_ACK_AGAIN);
	assert_int_equal(dhcp_fo_updq_next(q, 10, 8, &a), 0);
	assert_int_equal(dhcp_fo_updq_next(q, 10, 9, &a), 1);
	assert_int_equal(a, A(1));
	dhcp_fo_updq_free(q);
}

/* A lease taken for sending can be held back, first in line, until a later record. */
static void test_hold(void **state)
{
	struct dhcp_fo_updq *q = dhcp_fo_updq_new(4);
	uint32_t a;

	(void)state;
	assert_int_equal(dhcp_fo_updq_push(q, A(1), 5), 0);
	assert_int_equal(dhcp_fo_updq_push(q, A(2), 5), 0);
	assert_int_equal(dhcp_fo_updq_next(q, 1, 5, &a), 1);
	assert_int_equal(a, A(1));
	dhcp_fo_updq_hold(q, a, 9);
	assert_int_equal(dhcp_fo_updq_in_flight(q), 0);
	assert_int_equal(dhcp_fo_updq_queued(q), 2);
	assert_false(dhcp_fo_updq_flying(q, A(1)));
	/* In order: A(1) waits for record 9, and A(2) behind it. */
	assert_int_equal(dhcp_fo_updq_next(q, 1, 8, &a), 0);
	assert_int_equal(dhcp_fo_updq_next(q, 1, 9, &a), 1);
	assert_int_equal(a, A(1));
	dhcp_fo_updq_sent(q, a, 7);
	assert_int_equal(dhcp_fo_updq_acked(q, A(1), 7), DHCP_FO_ACK_DONE);
	assert_int_equal(dhcp_fo_updq_next(q, 1, 9, &a), 1);
	assert_int_equal(a, A(2));
	dhcp_fo_updq_free(q);
}

static void test_many(void **state)
{
	enum { N = 5000 };
	struct dhcp_fo_updq *q = dhcp_fo_updq_new(N);
	static uint8_t flight[N + 1];
	uint32_t a, xid = 1;
	size_t acked = 0;

	(void)state;
	for (uint32_t i = 1; i <= N; i++)
		assert_int_equal(dhcp_fo_updq_push(q, A(i), 0), 0);
	while (!dhcp_fo_updq_idle(q)) {
		uint32_t batch[10];
		size_t n = 0;

		while (n < 10 && dhcp_fo_updq_next(q, 10, UINT64_MAX, &a)) {
			assert_int_equal(flight[a - A(0)], 0);
			flight[a - A(0)] = 1;
			dhcp_fo_updq_sent(q, a, xid);
			batch[n++] = a;
			xid++;
		}
		for (size_t i = 0; i < n; i++) {
			assert_int_equal(dhcp_fo_updq_acked(q, batch[i], xid - n + (uint32_t)i),
					 DHCP_FO_ACK_DONE);
			flight[batch[i] - A(0)] = 0;
			acked++;
		}
	}
	assert_int_equal(acked, N);
	dhcp_fo_updq_free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_window_and_order),
	    cmocka_unit_test(test_link_lost_and_capacity),
	    cmocka_unit_test(test_waits_for_durable),
	    cmocka_unit_test(test_hold),
	    cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
