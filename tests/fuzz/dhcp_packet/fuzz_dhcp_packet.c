/* SPDX-License-Identifier: MPL-2.0 */
/* Fuzz target: decode arbitrary bytes; re-encode what decodes and check the round trip. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dhcp_packet.h"

static struct dhcp_packet first, second;
static struct dhcp_out out;
static uint8_t wire[DHCP_PACKET_MAX];

/* Copies the decoded header and every option that dhcp_out accepts; marks those in added. */
static void build_out(uint32_t added[8])
{
	dhcp_out_init(&out);
	out.op = first.op;
	out.htype = first.htype;
	out.hlen = first.hlen;
	out.hops = first.hops;
	out.xid = first.xid;
	out.secs = first.secs;
	out.flags = first.flags;
	out.ciaddr = first.ciaddr;
	out.yiaddr = first.yiaddr;
	out.siaddr = first.siaddr;
	out.giaddr = first.giaddr;
	memcpy(out.chaddr, first.chaddr, sizeof(out.chaddr));
	memcpy(out.sname, first.sname, sizeof(out.sname));
	memcpy(out.file, first.file, sizeof(out.file));
	memset(added, 0, 8 * sizeof(added[0]));
	for (unsigned code = 1; code < 255; code++) {
		size_t len;
		const uint8_t *v = dhcp_packet_opt(&first, (uint8_t)code, &len);

		if (v && dhcp_out_add(&out, (uint8_t)code, v, len) == 0)
			added[code >> 5] |= UINT32_C(1) << (code & 31);
	}
}

/* Every option added either comes back identical or was counted as omitted. */
static void check_options(const uint32_t added[8], unsigned omitted)
{
	unsigned missing = 0;

	for (unsigned code = 1; code < 255; code++) {
		size_t len1, len2;
		const uint8_t *v1, *v2;

		if (!(added[code >> 5] & (UINT32_C(1) << (code & 31)))) {
			/* 52 is the encoder's own; anything else not added must stay absent. */
			if (code != 52 && dhcp_packet_opt(&second, (uint8_t)code, NULL))
				abort();
			continue;
		}
		v1 = dhcp_packet_opt(&first, (uint8_t)code, &len1);
		v2 = dhcp_packet_opt(&second, (uint8_t)code, &len2);
		if (!v2) {
			/* 53 and 54 are never omitted. */
			if (code == 53 || code == 54)
				abort();
			missing++;
			continue;
		}
		if (len1 != len2 || memcmp(v1, v2, len1) != 0)
			abort();
	}
	if (missing != omitted)
		abort();
}

static void check_header(void)
{
	if (second.op != first.op || second.htype != first.htype || second.hlen != first.hlen ||
	    second.hops != first.hops || second.xid != first.xid || second.secs != first.secs ||
	    second.flags != first.flags || second.ciaddr != first.ciaddr ||
	    second.yiaddr != first.yiaddr || second.siaddr != first.siaddr ||
	    second.giaddr != first.giaddr || second.msg_type != first.msg_type ||
	    memcmp(second.chaddr, first.chaddr, sizeof(first.chaddr)) != 0)
		abort();
	/* A field the encoder used for options decodes as zeros; otherwise it is unchanged. */
	if (!(second.overload & 1) && memcmp(second.file, first.file, sizeof(first.file)) != 0)
		abort();
	if (!(second.overload & 2) && memcmp(second.sname, first.sname, sizeof(first.sname)) != 0)
		abort();
}

/* Whether 53 and 54 (never omitted, never overflowed) fit in the options field. */
static bool required_fit(size_t max_len)
{
	size_t need = 1; /* END */

	for (unsigned code = 53; code <= 54; code++) {
		size_t len;

		if (dhcp_packet_opt(&first, (uint8_t)code, &len))
			need += len + 2 * (len == 0 ? 1 : (len + 254) / 255);
	}
	return DHCP_MIN_LEN + need <= max_len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum dhcp_drop why;
	uint32_t added[8];
	unsigned omitted = 0;
	size_t max_len, span;
	int len;

	if (dhcp_packet_decode(&first, data, size, &why) != 0) {
		if (why == DHCP_DROP_NONE || why >= DHCP_DROP_MAX)
			abort();
		return 0;
	}
	build_out(added);
	/*
	 * From 300 (below the 576 floor) up to DHCP_PACKET_MAX; half the inputs stay under 700,
	 * where overflow into file/sname and omission happen.
	 */
	span = (first.xid & 1) ? 400 : DHCP_PACKET_MAX - 300 + 1;
	max_len = 300 + (size_t)((first.xid >> 1) ^ first.secs) % span;
	len = dhcp_out_encode(&out, wire, sizeof(wire), max_len, &omitted);
	/* Failing is right exactly when the two required options cannot fit. */
	if ((len == CORE_ESPACE) != !required_fit(max_len))
		abort();
	if (len == CORE_ESPACE)
		return 0;
	if (len < DHCP_BOOTP_MIN_LEN || (size_t)len > max_len)
		abort();
	if (dhcp_packet_decode(&second, wire, (size_t)len, &why) != 0)
		abort();
	check_header();
	check_options(added, omitted);
	return 0;
}
