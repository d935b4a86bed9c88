/* SPDX-License-Identifier: MPL-2.0 */
/* libFuzzer target: bytes as a failover stream; every message decoded is re-encoded and must
 * decode to the same message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp_fo_wire.h"

static int same_bytes(const struct dhcp_fo_bytes *a, const struct dhcp_fo_bytes *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static void roundtrip(const struct dhcp_fo_msg *m)
{
	uint8_t out[DHCP_FO_MSG_MAX];
	struct dhcp_fo_msg b;
	const char *err;
	int n;

	if (m->type == 0 || m->type > DHCP_FO_TYPE_MAX)
		return;
	n = dhcp_fo_encode(m, out, sizeof(out));
	if (n < 0)
		abort(); /* everything decoded is allowed and fits: it came in a smaller message */
	if (dhcp_fo_frame_len(out, (size_t)n) != n || dhcp_fo_decode(out, (size_t)n, &b, &err))
		abort();
	if (b.type != m->type || b.time != m->time || b.xid != m->xid || b.present != m->present ||
	    b.skipped != 0 || b.assigned_ip != m->assigned_ip || b.lease_expiry != m->lease_expiry ||
	    b.potential_expiry != m->potential_expiry || b.stos != m->stos ||
	    b.binding_status != m->binding_status || b.server_state != m->server_state ||
	    b.ip_flags != m->ip_flags || b.mclt != m->mclt ||
	    !same_bytes(&b.client_id, &m->client_id) || !same_bytes(&b.chaddr, &m->chaddr) ||
	    !same_bytes(&b.relationship, &m->relationship) || !same_bytes(&b.hba, &m->hba) ||
	    !same_bytes(&b.message, &m->message) || !same_bytes(&b.vendor_class, &m->vendor_class))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off < size) {
		struct dhcp_fo_msg m;
		const char *err;
		int n = dhcp_fo_frame_len(data + off, size - off);

		if (n <= 0 || (size_t)n > size - off)
			break;
		if (dhcp_fo_decode(data + off, (size_t)n, &m, &err) != 0)
			break; /* ISC would close the connection here */
		roundtrip(&m);
		off += (size_t)n;
	}
	return 0;
}
