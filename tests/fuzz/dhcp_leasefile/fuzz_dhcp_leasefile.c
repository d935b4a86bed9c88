/* SPDX-License-Identifier: MPL-2.0 */
/* libFuzzer target: the lease file parser, with a format-and-reparse round-trip oracle. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp_leasefile.h"

struct oracle {
	const struct dhcp_lease_rec *want;
	size_t got;
};

static int check_cb(void *ctx, const struct dhcp_lease_rec *r)
{
	struct oracle *o = ctx;

	if (!dhcp_lease_rec_equal(o->want, r))
		abort(); /* the writer and the parser disagree about a record */
	o->got++;
	return 0;
}

/*
 * Every delivered record, written by us in each style (ISC's default, and db-time-format local
 * with lease-id-format hex) and read back, must be the same record.
 */
static int roundtrip_cb(void *ctx, const struct dhcp_lease_rec *r)
{
	static const unsigned styles[] = {0, DHCP_LF_LOCAL_TIME | DHCP_LF_HEX_IDS};
	char out[DHCP_LEASEFILE_REC_MAX + 1];
	struct dhcp_leasefile_stats st;

	(void)ctx;
	for (size_t i = 0; i < sizeof(styles) / sizeof(styles[0]); i++) {
		struct oracle o = {.want = r};
		size_t n = dhcp_leasefile_format_style(r, styles[i], out, sizeof(out));

		if (n > DHCP_LEASEFILE_REC_MAX)
			abort();
		if (dhcp_leasefile_parse(out, n, "rt", check_cb, &o, &st, NULL, 0) != 0 ||
		    o.got != 1 || st.tail_torn || st.valid_bytes != n)
			abort();
	}
	return 0;
}

static int fo_check_cb(void *ctx, const struct dhcp_fo_state_rec *r)
{
	const struct dhcp_fo_state_rec *want = ctx;

	if (strcmp(want->peer, r->peer) || want->my_state != r->my_state ||
	    want->partner_state != r->partner_state || want->my_stos != r->my_stos ||
	    want->partner_stos != r->partner_stos || want->mclt != r->mclt)
		abort();
	return 0;
}

/* Every failover state record, written by us and read back, must be the same record (times
 * out of the writer's range are clamped, as for leases: only in-range ones are compared). */
static int fo_roundtrip_cb(void *ctx, const struct dhcp_fo_state_rec *r)
{
	char out[DHCP_LEASEFILE_REC_MAX + 1];
	size_t n;

	(void)ctx;
	n = dhcp_leasefile_format_fo(r, 0, out, sizeof(out));
	if (n > DHCP_LEASEFILE_REC_MAX)
		abort();
	if (r->my_stos < 0 && r->my_stos != DHCP_TIME_NONE)
		return 0;
	if (r->partner_stos < 0 && r->partner_stos != DHCP_TIME_NONE)
		return 0;
	if (dhcp_leasefile_parse_fo(out, n, "fo", NULL, fo_check_cb, (void *)r, NULL, NULL, 0))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhcp_leasefile_stats st;
	char err[256];
	int rc;

	rc = dhcp_leasefile_parse_fo((const char *)data, size, "fuzz", roundtrip_cb, fo_roundtrip_cb,
				     NULL, &st, err, sizeof(err));
	if (rc == 0 && (st.valid_bytes > size || (!st.tail_torn && st.valid_bytes != size)))
		abort();
	if (rc == 0 && st.tail_torn) {
		/* The kept prefix must parse clean on its own, with the same records. */
		struct dhcp_leasefile_stats st2;

		if (dhcp_leasefile_parse((const char *)data, st.valid_bytes, "prefix", NULL, NULL,
					 &st2, NULL, 0) != 0 ||
		    st2.tail_torn || st2.leases != st.leases)
			abort();
	}
	return 0;
}
