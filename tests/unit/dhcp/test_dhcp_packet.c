/* SPDX-License-Identifier: MPL-2.0 */
/* Unit tests for the DHCPv4 wire codec: real client packets, each drop reason, RFC 3396. */
#include <setjmp.h>
#include <stdarg.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core_err.h"
#include "dhcp_packet.h"

/*
 * Requests captured from real clients (ISC dhclient 4.4.3-P1, busybox udhcpc 1.35.0, dhcpcd
 * 9.4.1, and udhcpc behind ISC dhcrelay -a) on a veth pair between two network namespaces,
 * TEST-NET addresses only. Stored as the 44 header bytes op..chaddr plus the options up to
 * END; build_capture() zero-fills sname, file and the padding, which were zero on the wire.
 */
/* dhclient_discover: dhclient2, 300 bytes; sname, file and the bytes after END are zero. */
static const uint8_t dhclient_discover_hdr[] = {
    0x01, 0x01, 0x06, 0x00, 0x11, 0xd6, 0x69, 0x1e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46, 0x89,
    0x94, 0xee, 0xff, 0x92, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t dhclient_discover_opts[] = {
    0x35, 0x01, 0x01, 0x0c, 0x02, 0x76, 0x6d, 0x37, 0x0d, 0x01, 0x1c, 0x02,
    0x03, 0x0f, 0x06, 0x77, 0x0c, 0x2c, 0x2f, 0x1a, 0x79, 0x2a, 0xff,
};
#define DHCLIENT_DISCOVER_LEN 300
/* dhclient_reboot_request: dhclient, 300 bytes; sname, file and the bytes after END are zero. */
static const uint8_t dhclient_reboot_request_hdr[] = {
    0x01, 0x01, 0x06, 0x00, 0xb6, 0x91, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46, 0x89,
    0x94, 0xee, 0xff, 0x92, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t dhclient_reboot_request_opts[] = {
    0x35, 0x01, 0x03, 0x32, 0x04, 0xc0, 0x00, 0x02, 0x35, 0x0c, 0x0b, 0x70,
    0x6b, 0x74, 0x64, 0x68, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0xff,
};
#define DHCLIENT_REBOOT_REQUEST_LEN 300
/* udhcpc_request: udhcpc2, 303 bytes; sname, file and the bytes after END are zero. */
static const uint8_t udhcpc_request_hdr[] = {
    0x01, 0x01, 0x06, 0x00, 0x85, 0x5f, 0x5f, 0x4f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46, 0x89,
    0x94, 0xee, 0xff, 0x92, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t udhcpc_request_opts[] = {
    0x35, 0x01, 0x03, 0x32, 0x04, 0xc0, 0x00, 0x02, 0x32, 0x36, 0x04, 0xc0, 0x00, 0x02, 0x01, 0x39,
    0x02, 0x02, 0x40, 0x37, 0x07, 0x01, 0x03, 0x06, 0x0c, 0x0f, 0x1c, 0x2a, 0x0c, 0x09, 0x70, 0x6b,
    0x74, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x3c, 0x0c, 0x75, 0x64, 0x68, 0x63, 0x70, 0x20, 0x31,
    0x2e, 0x33, 0x35, 0x2e, 0x30, 0x3d, 0x07, 0x01, 0x46, 0x89, 0x94, 0xee, 0xff, 0x92, 0xff,
};
#define UDHCPC_REQUEST_LEN 303
/* udhcpc_release: udhcpc2, 300 bytes; sname, file and the bytes after END are zero. */
static const uint8_t udhcpc_release_hdr[] = {
    0x01, 0x01, 0x06, 0x00, 0x11, 0x1b, 0x46, 0x6f, 0x00, 0x04, 0x00, 0x00, 0xc0, 0x00, 0x02,
    0x32, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46, 0x89,
    0x94, 0xee, 0xff, 0x92, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t udhcpc_release_opts[] = {
    0x35, 0x01, 0x07, 0x36, 0x04, 0xc0, 0x00, 0x02, 0x01, 0x3d,
    0x07, 0x01, 0x46, 0x89, 0x94, 0xee, 0xff, 0x92, 0xff,
};
#define UDHCPC_RELEASE_LEN 300
/* udhcpc_decline: decl, 300 bytes; sname, file and the bytes after END are zero. */
static const uint8_t udhcpc_decline_hdr[] = {
    0x01, 0x01, 0x06, 0x00, 0xff, 0x04, 0xae, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46, 0x89,
    0x94, 0xee, 0xff, 0x92, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t udhcpc_decline_opts[] = {
    0x35, 0x01, 0x04, 0x32, 0x04, 0xc0, 0x00, 0x02, 0x33, 0x36, 0x04, 0xc0, 0x00,
    0x02, 0x01, 0x3d, 0x07, 0x01, 0x46, 0x89, 0x94, 0xee, 0xff, 0x92, 0xff,
};
#define UDHCPC_DECLINE_LEN 300
/* dhcpcd_discover: dhcpcd, 341 bytes; sname, file and the bytes after END are zero. */
static const uint8_t dhcpcd_discover_hdr[] = {
    0x01, 0x01, 0x06, 0x00, 0x3e, 0x08, 0x1e, 0x7d, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46, 0x89,
    0x94, 0xee, 0xff, 0x92, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t dhcpcd_discover_opts[] = {
    0x35, 0x01, 0x01, 0x37, 0x0f, 0x01, 0x79, 0x03, 0x06, 0x0c, 0x0f, 0x1a, 0x1c, 0x21, 0x2a,
    0x33, 0x36, 0x3a, 0x3b, 0x77, 0x39, 0x02, 0x05, 0xc0, 0x3d, 0x07, 0x01, 0x46, 0x89, 0x94,
    0xee, 0xff, 0x92, 0x3c, 0x36, 0x64, 0x68, 0x63, 0x70, 0x63, 0x64, 0x2d, 0x39, 0x2e, 0x34,
    0x2e, 0x31, 0x3a, 0x4c, 0x69, 0x6e, 0x75, 0x78, 0x2d, 0x36, 0x2e, 0x31, 0x38, 0x2e, 0x34,
    0x34, 0x2d, 0x66, 0x63, 0x2d, 0x76, 0x37, 0x38, 0x32, 0x3a, 0x78, 0x38, 0x36, 0x5f, 0x36,
    0x34, 0x3a, 0x41, 0x75, 0x74, 0x68, 0x65, 0x6e, 0x74, 0x69, 0x63, 0x41, 0x4d, 0x44, 0x0c,
    0x06, 0x70, 0x6b, 0x74, 0x63, 0x6c, 0x69, 0x91, 0x01, 0x01, 0xff,
};
#define DHCPCD_DISCOVER_LEN 341
/* dhcpcd_inform: dhcpcd, 335 bytes; sname, file and the bytes after END are zero. */
static const uint8_t dhcpcd_inform_hdr[] = {
    0x01, 0x01, 0x06, 0x00, 0x7a, 0xd2, 0x34, 0x96, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x02,
    0x3c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46, 0x89,
    0x94, 0xee, 0xff, 0x92, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t dhcpcd_inform_opts[] = {
    0x35, 0x01, 0x08, 0x37, 0x0d, 0x01, 0x79, 0x03, 0x06, 0x0c, 0x0f, 0x1a, 0x1c, 0x21, 0x2a, 0x33,
    0x36, 0x77, 0x39, 0x02, 0x05, 0xc0, 0x3d, 0x07, 0x01, 0x46, 0x89, 0x94, 0xee, 0xff, 0x92, 0x3c,
    0x36, 0x64, 0x68, 0x63, 0x70, 0x63, 0x64, 0x2d, 0x39, 0x2e, 0x34, 0x2e, 0x31, 0x3a, 0x4c, 0x69,
    0x6e, 0x75, 0x78, 0x2d, 0x36, 0x2e, 0x31, 0x38, 0x2e, 0x34, 0x34, 0x2d, 0x66, 0x63, 0x2d, 0x76,
    0x37, 0x38, 0x32, 0x3a, 0x78, 0x38, 0x36, 0x5f, 0x36, 0x34, 0x3a, 0x41, 0x75, 0x74, 0x68, 0x65,
    0x6e, 0x74, 0x69, 0x63, 0x41, 0x4d, 0x44, 0x0c, 0x02, 0x76, 0x6d, 0x91, 0x01, 0x01, 0xff,
};
#define DHCPCD_INFORM_LEN 335
/* relayed_discover: relay, 300 bytes; sname, file and the bytes after END are zero. */
static const uint8_t relayed_discover_hdr[] = {
    0x01, 0x01, 0x06, 0x01, 0x54, 0xbc, 0x18, 0x62, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xcb, 0x00, 0x71, 0x01, 0xba, 0x72,
    0xd5, 0x75, 0x93, 0xb3, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};
static const uint8_t relayed_discover_opts[] = {
    0x35, 0x01, 0x01, 0x39, 0x02, 0x02, 0x40, 0x37, 0x07, 0x01, 0x03, 0x06, 0x0c, 0x0f, 0x1c,
    0x2a, 0x0c, 0x07, 0x72, 0x65, 0x6c, 0x61, 0x79, 0x65, 0x64, 0x3c, 0x0c, 0x75, 0x64, 0x68,
    0x63, 0x70, 0x20, 0x31, 0x2e, 0x33, 0x35, 0x2e, 0x30, 0x3d, 0x07, 0x01, 0xba, 0x72, 0xd5,
    0x75, 0x93, 0xb3, 0x52, 0x08, 0x01, 0x06, 0x70, 0x6b, 0x74, 0x5f, 0x72, 0x30, 0xff,
};
#define RELAYED_DISCOVER_LEN 300

struct capture {
	const char *name;
	const uint8_t *hdr;
	const uint8_t *opts;
	size_t opts_len;
	size_t len;
	uint8_t msg_type;
};

static const struct capture captures[] = {
    {"dhclient_discover", dhclient_discover_hdr, dhclient_discover_opts,
     sizeof(dhclient_discover_opts), DHCLIENT_DISCOVER_LEN, DHCPDISCOVER},
    {"dhclient_reboot_request", dhclient_reboot_request_hdr, dhclient_reboot_request_opts,
     sizeof(dhclient_reboot_request_opts), DHCLIENT_REBOOT_REQUEST_LEN, DHCPREQUEST},
    {"udhcpc_request", udhcpc_request_hdr, udhcpc_request_opts, sizeof(udhcpc_request_opts),
     UDHCPC_REQUEST_LEN, DHCPREQUEST},
    {"udhcpc_release", udhcpc_release_hdr, udhcpc_release_opts, sizeof(udhcpc_release_opts),
     UDHCPC_RELEASE_LEN, DHCPRELEASE},
    {"udhcpc_decline", udhcpc_decline_hdr, udhcpc_decline_opts, sizeof(udhcpc_decline_opts),
     UDHCPC_DECLINE_LEN, DHCPDECLINE},
    {"dhcpcd_discover", dhcpcd_discover_hdr, dhcpcd_discover_opts, sizeof(dhcpcd_discover_opts),
     DHCPCD_DISCOVER_LEN, DHCPDISCOVER},
    {"dhcpcd_inform", dhcpcd_inform_hdr, dhcpcd_inform_opts, sizeof(dhcpcd_inform_opts),
     DHCPCD_INFORM_LEN, DHCPINFORM},
    {"relayed_discover", relayed_discover_hdr, relayed_discover_opts, sizeof(relayed_discover_opts),
     RELAYED_DISCOVER_LEN, DHCPDISCOVER},
};

static const uint8_t cookie[4] = {99, 130, 83, 99};
static const uint8_t test_mac[6] = {0x46, 0x89, 0x94, 0xee, 0xff, 0x92};

/* Scratch shared by the tests (they run one at a time): the structs are ~5 KiB each. */
static uint8_t wire[DHCP_PACKET_MAX + 16];
static struct dhcp_packet pkt;
static struct dhcp_out out;

static size_t build_capture(uint8_t *buf, const struct capture *c)
{
	memset(buf, 0, c->len);
	memcpy(buf, c->hdr, 44);
	memcpy(buf + 236, cookie, sizeof(cookie));
	memcpy(buf + 240, c->opts, c->opts_len);
	return c->len;
}

static const struct capture *find_capture(const char *name)
{
	for (size_t i = 0; i < sizeof(captures) / sizeof(captures[0]); i++)
		if (strcmp(captures[i].name, name) == 0)
			return &captures[i];
	fail_msg("no capture %s", name);
	return NULL;
}

static void decode_capture(const char *name)
{
	enum dhcp_drop why = DHCP_DROP_MAX;
	size_t len = build_capture(wire, find_capture(name));

	assert_int_equal(dhcp_packet_decode(&pkt, wire, len, &why), 0);
	assert_int_equal(why, DHCP_DROP_NONE);
}

/*
 * A hand-made BOOTREQUEST in the layout clients use: ethernet hlen 6, options after the
 * cookie, zero padding to 300. file/sname get the given bytes (NULL leaves them zero).
 */
static size_t build(uint8_t *buf, const uint8_t *opts, size_t opts_len, const uint8_t *file,
		    size_t file_len, const uint8_t *sname, size_t sname_len)
{
	size_t len = 240 + opts_len < 300 ? 300 : 240 + opts_len;

	memset(buf, 0, len);
	buf[0] = 1;
	buf[1] = 1;
	buf[2] = 6;
	memcpy(buf + 4, "\x12\x34\x56\x78", 4);
	memcpy(buf + 28, test_mac, sizeof(test_mac));
	if (sname)
		memcpy(buf + 44, sname, sname_len);
	if (file)
		memcpy(buf + 108, file, file_len);
	memcpy(buf + 236, cookie, sizeof(cookie));
	memcpy(buf + 240, opts, opts_len);
	return len;
}

static enum dhcp_drop decode_opts(const uint8_t *opts, size_t opts_len)
{
	enum dhcp_drop why = DHCP_DROP_MAX;
	size_t len = build(wire, opts, opts_len, NULL, 0, NULL, 0);
	int rc = dhcp_packet_decode(&pkt, wire, len, &why);

	assert_int_equal(rc, why == DHCP_DROP_NONE ? 0 : CORE_EMALFORMED);
	return why;
}

static void assert_opt(const struct dhcp_packet *p, uint8_t code, const void *val, size_t n)
{
	size_t len = 9999;
	const uint8_t *v = dhcp_packet_opt(p, code, &len);

	assert_non_null(v);
	assert_int_equal(len, n);
	assert_memory_equal(v, val, n);
}

/* ---- real clients ---- */

static void test_dhclient_discover(void **state)
{
	(void)state;
	decode_capture("dhclient_discover");
	assert_int_equal(pkt.op, 1);
	assert_int_equal(pkt.htype, 1);
	assert_int_equal(pkt.hlen, 6);
	assert_int_equal(pkt.xid, 0x11d6691e);
	assert_memory_equal(pkt.chaddr, test_mac, 6);
	assert_int_equal(pkt.msg_type, DHCPDISCOVER);
	assert_int_equal(pkt.overload, 0);
	assert_int_equal(pkt.no_end, 0);
	assert_opt(&pkt, 12, "vm", 2);
	assert_opt(&pkt, 55, "\x01\x1c\x02\x03\x0f\x06\x77\x0c\x2c\x2f\x1a\x79\x2a", 13);
	assert_null(dhcp_packet_opt(&pkt, 50, NULL));
}

static void test_dhclient_init_reboot_request(void **state)
{
	(void)state;
	decode_capture("dhclient_reboot_request");
	assert_int_equal(pkt.msg_type, DHCPREQUEST);
	assert_opt(&pkt, 50, "\xc0\x00\x02\x35", 4);
	assert_opt(&pkt, 12, "pktdhclient", 11);
	/* INIT-REBOOT: no server identifier. */
	assert_null(dhcp_packet_opt(&pkt, 54, NULL));
}

static void test_udhcpc_selecting_request(void **state)
{
	(void)state;
	decode_capture("udhcpc_request");
	assert_int_equal(pkt.msg_type, DHCPREQUEST);
	assert_int_equal(pkt.ciaddr, 0);
	assert_opt(&pkt, 50, "\xc0\x00\x02\x32", 4);
	assert_opt(&pkt, 54, "\xc0\x00\x02\x01", 4);
	assert_opt(&pkt, 57, "\x02\x40", 2);
	assert_opt(&pkt, 60, "udhcp 1.35.0", 12);
	assert_opt(&pkt, 61, "\x01\x46\x89\x94\xee\xff\x92", 7);
}

static void test_udhcpc_release(void **state)
{
	(void)state;
	decode_capture("udhcpc_release");
	assert_int_equal(pkt.msg_type, DHCPRELEASE);
	assert_int_equal(pkt.ciaddr, 0xc0000232);
	assert_int_equal(pkt.secs, 4);
	assert_opt(&pkt, 54, "\xc0\x00\x02\x01", 4);
}

static void test_udhcpc_decline(void **state)
{
	(void)state;
	decode_capture("udhcpc_decline");
	assert_int_equal(pkt.msg_type, DHCPDECLINE);
	assert_opt(&pkt, 50, "\xc0\x00\x02\x33", 4);
	assert_opt(&pkt, 54, "\xc0\x00\x02\x01", 4);
}

static void test_dhcpcd_discover(void **state)
{
	size_t len = 0;

	(void)state;
	decode_capture("dhcpcd_discover");
	assert_int_equal(pkt.msg_type, DHCPDISCOVER);
	assert_opt(&pkt, 57, "\x05\xc0", 2);
	assert_opt(&pkt, 145, "\x01", 1);
	assert_non_null(dhcp_packet_opt(&pkt, 60, &len));
	assert_int_equal(len, 54);
}

static void test_dhcpcd_inform(void **state)
{
	(void)state;
	decode_capture("dhcpcd_inform");
	assert_int_equal(pkt.msg_type, DHCPINFORM);
	assert_int_equal(pkt.ciaddr, 0xc000023c);
}

static void test_relayed_discover_with_option_82(void **state)
{
	(void)state;
	decode_capture("relayed_discover");
	assert_int_equal(pkt.giaddr, 0xcb007101);
	/* dhcrelay -a: circuit-id sub-option naming the downstream interface. */
	assert_opt(&pkt, 82, "\x01\x06pkt_r0", 8);
}

/* Every option of every capture reads back exactly as it was on the wire. */
static void test_captures_options_match_wire(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(captures) / sizeof(captures[0]); i++) {
		const struct capture *c = &captures[i];
		size_t off = 0, seen = 0, present = 0;

		decode_capture(c->name);
		assert_int_equal(pkt.msg_type, c->msg_type);
		while (c->opts[off] != 255) {
			assert_opt(&pkt, c->opts[off], c->opts + off + 2, c->opts[off + 1]);
			off += 2 + c->opts[off + 1];
			seen++;
		}
		/* Each capture uses a code once, so present codes and wire options pair up. */
		for (unsigned code = 0; code < 256; code++)
			present += dhcp_packet_opt(&pkt, (uint8_t)code, NULL) != NULL;
		assert_int_equal(present, seen);
	}
}

static void test_bootp_request(void **state)
{
	static const uint8_t opts[] = {255};

	(void)state;
	assert_int_equal(decode_opts(opts, sizeof(opts)), DHCP_DROP_NONE);
	assert_int_equal(pkt.msg_type, DHCP_MSG_NONE);
	assert_string_equal(dhcp_msg_name(pkt.msg_type), "BOOTP");
	assert_int_equal(pkt.optbuf_len, 0);
}

static void test_reply_op_is_accepted(void **state)
{
	static const uint8_t opts[] = {53, 1, DHCPACK, 255};
	enum dhcp_drop why;
	size_t len = build(wire, opts, sizeof(opts), NULL, 0, NULL, 0);

	(void)state;
	wire[0] = 2;
	assert_int_equal(dhcp_packet_decode(&pkt, wire, len, &why), 0);
	assert_int_equal(pkt.op, 2);
	assert_int_equal(pkt.msg_type, DHCPACK);
}

/* ---- drop reasons ---- */

static void test_drop_truncated(void **state)
{
	enum dhcp_drop why;

	(void)state;
	build(wire, (const uint8_t *)"\xff", 1, NULL, 0, NULL, 0);
	assert_int_equal(dhcp_packet_decode(&pkt, wire, 239, &why), CORE_EMALFORMED);
	assert_int_equal(why, DHCP_DROP_TRUNCATED);
}

static void test_cookie_only_is_accepted(void **state)
{
	enum dhcp_drop why;

	(void)state;
	build(wire, (const uint8_t *)"\xff", 1, NULL, 0, NULL, 0);
	assert_int_equal(dhcp_packet_decode(&pkt, wire, 240, &why), 0);
	assert_int_equal(pkt.no_end, 1);
}

static void test_drop_oversize(void **state)
{
	enum dhcp_drop why;

	(void)state;
	build(wire, (const uint8_t *)"\xff", 1, NULL, 0, NULL, 0);
	assert_int_equal(dhcp_packet_decode(&pkt, wire, DHCP_PACKET_MAX + 1, &why),
			 CORE_EMALFORMED);
	assert_int_equal(why, DHCP_DROP_OVERSIZE);
}

static void test_max_size_is_accepted(void **state)
{
	enum dhcp_drop why;

	(void)state;
	build(wire, (const uint8_t *)"\xff", 1, NULL, 0, NULL, 0);
	memset(wire + 241, 0, DHCP_PACKET_MAX - 241);
	assert_int_equal(dhcp_packet_decode(&pkt, wire, DHCP_PACKET_MAX, &why), 0);
}

static void test_drop_field(size_t off, uint8_t v, enum dhcp_drop want)
{
	static const uint8_t opts[] = {53, 1, 1, 255};
	enum dhcp_drop why;
	size_t len = build(wire, opts, sizeof(opts), NULL, 0, NULL, 0);

	wire[off] = v;
	assert_int_equal(dhcp_packet_decode(&pkt, wire, len, &why), CORE_EMALFORMED);
	assert_int_equal(why, want);
}

static void test_drop_bad_op(void **state)
{
	(void)state;
	test_drop_field(0, 3, DHCP_DROP_BAD_OP);
	test_drop_field(0, 0, DHCP_DROP_BAD_OP);
}

static void test_drop_bad_htype(void **state)
{
	(void)state;
	test_drop_field(1, 0, DHCP_DROP_BAD_HTYPE);
}

static void test_drop_bad_hlen(void **state)
{
	(void)state;
	test_drop_field(2, 17, DHCP_DROP_BAD_HLEN);
}

static void test_hlen_16_is_accepted(void **state)
{
	static const uint8_t opts[] = {255};
	enum dhcp_drop why;
	size_t len = build(wire, opts, sizeof(opts), NULL, 0, NULL, 0);

	(void)state;
	wire[2] = 16;
	assert_int_equal(dhcp_packet_decode(&pkt, wire, len, &why), 0);
}

static void test_drop_no_cookie(void **state)
{
	(void)state;
	test_drop_field(239, 0x64, DHCP_DROP_NO_COOKIE);
}

static void test_drop_option_length_past_end(void **state)
{
	/* Option 12 claims 200 bytes; the datagram has 60 bytes of options field. */
	static const uint8_t opts[] = {53, 1, 1, 12, 200, 'a'};
	enum dhcp_drop why;
	size_t len = build(wire, opts, sizeof(opts), NULL, 0, NULL, 0);

	(void)state;
	assert_int_equal(dhcp_packet_decode(&pkt, wire, len, &why), CORE_EMALFORMED);
	assert_int_equal(why, DHCP_DROP_BAD_OPTION);
}

static void test_drop_option_code_without_length(void **state)
{
	static const uint8_t opts[] = {53, 1, 1, 12};
	enum dhcp_drop why;

	(void)state;
	build(wire, opts, sizeof(opts), NULL, 0, NULL, 0);
	assert_int_equal(dhcp_packet_decode(&pkt, wire, 240 + sizeof(opts), &why), CORE_EMALFORMED);
	assert_int_equal(why, DHCP_DROP_BAD_OPTION);
}

static void test_drop_option_past_end_of_file_area(void **state)
{
	static const uint8_t opts[] = {53, 1, 1, 52, 1, 1, 255};
	uint8_t file[128] = {0};
	enum dhcp_drop why;

	(void)state;
	file[120] = 12;
	file[121] = 10; /* would end at 132: past the 128-byte file field */
	build(wire, opts, sizeof(opts), file, sizeof(file), NULL, 0);
	assert_int_equal(dhcp_packet_decode(&pkt, wire, 300, &why), CORE_EMALFORMED);
	assert_int_equal(why, DHCP_DROP_BAD_OPTION);
}

static void test_drop_bad_overload_length(void **state)
{
	static const uint8_t opts[] = {53, 1, 1, 52, 2, 1, 1, 255};

	(void)state;
	assert_int_equal(decode_opts(opts, sizeof(opts)), DHCP_DROP_BAD_OVERLOAD);
}

static void test_drop_bad_overload_value(void **state)
{
	static const uint8_t zero[] = {53, 1, 1, 52, 1, 0, 255};
	static const uint8_t four[] = {53, 1, 1, 52, 1, 4, 255};
	static const uint8_t empty[] = {53, 1, 1, 52, 0, 255};

	(void)state;
	assert_int_equal(decode_opts(zero, sizeof(zero)), DHCP_DROP_BAD_OVERLOAD);
	assert_int_equal(decode_opts(four, sizeof(four)), DHCP_DROP_BAD_OVERLOAD);
	assert_int_equal(decode_opts(empty, sizeof(empty)), DHCP_DROP_BAD_OVERLOAD);
}

static void test_drop_bad_msgtype_length(void **state)
{
	static const uint8_t two[] = {53, 2, 1, 1, 255};
	static const uint8_t none[] = {53, 0, 255};

	(void)state;
	assert_int_equal(decode_opts(two, sizeof(two)), DHCP_DROP_BAD_MSGTYPE);
	assert_int_equal(decode_opts(none, sizeof(none)), DHCP_DROP_BAD_MSGTYPE);
}

static void test_drop_bad_msgtype_value(void **state)
{
	static const uint8_t zero[] = {53, 1, 0, 255};
	static const uint8_t leasequery[] = {53, 1, 10, 255};
	static const uint8_t inform[] = {53, 1, 8, 255};

	(void)state;
	assert_int_equal(decode_opts(zero, sizeof(zero)), DHCP_DROP_BAD_MSGTYPE);
	assert_int_equal(decode_opts(leasequery, sizeof(leasequery)), DHCP_DROP_BAD_MSGTYPE);
	assert_int_equal(decode_opts(inform, sizeof(inform)), DHCP_DROP_NONE);
}

/* Two instances of 53 concatenate to 2 bytes (RFC 3396), which is not a message type. */
static void test_drop_repeated_msgtype(void **state)
{
	static const uint8_t opts[] = {53, 1, 1, 12, 1, 'h', 53, 1, 1, 255};

	(void)state;
	assert_int_equal(decode_opts(opts, sizeof(opts)), DHCP_DROP_BAD_MSGTYPE);
}

/* Like ISC dhcpd and Kea, a missing END is accepted; no_end lets the caller count it. */
static void test_missing_end_is_tolerated(void **state)
{
	uint8_t opts[60];
	enum dhcp_drop why;

	(void)state;
	memset(opts, 0, sizeof(opts));
	memcpy(opts, "\x35\x01\x01\x0c\x02vm", 7);
	opts[58] = 12; /* a second instance of 12, ending exactly at the end of the datagram */
	opts[59] = 0;
	build(wire, opts, sizeof(opts), NULL, 0, NULL, 0);
	assert_int_equal(dhcp_packet_decode(&pkt, wire, 300, &why), 0);
	assert_int_equal(pkt.no_end, 1);
	assert_int_equal(pkt.msg_type, DHCPDISCOVER);
	assert_opt(&pkt, 12, "vm", 2);
}

static void test_drop_names(void **state)
{
	static const char *const want[] = {
	    "none",      "truncated",  "oversize",     "bad_op",      "bad_htype", "bad_hlen",
	    "no_cookie", "bad_option", "bad_overload", "bad_msgtype", "no_end",
	};

	(void)state;
	assert_int_equal(sizeof(want) / sizeof(want[0]), DHCP_DROP_MAX);
	for (int d = 0; d < DHCP_DROP_MAX; d++)
		assert_string_equal(dhcp_drop_name((enum dhcp_drop)d), want[d]);
	assert_string_equal(dhcp_drop_name(DHCP_DROP_MAX), "unknown");
}

static void test_msg_names(void **state)
{
	(void)state;
	assert_string_equal(dhcp_msg_name(DHCPDISCOVER), "DHCPDISCOVER");
	assert_string_equal(dhcp_msg_name(DHCPINFORM), "DHCPINFORM");
	assert_string_equal(dhcp_msg_name(DHCP_MSG_NONE), "BOOTP");
	assert_string_equal(dhcp_msg_name(DHCP_MSG_MAX), "UNKNOWN");
	assert_string_equal(dhcp_msg_name(-1), "UNKNOWN");
}

/* ---- RFC 3396 concatenation and option overload ---- */

static void test_repeated_options_concatenate_in_order(void **state)
{
	static const uint8_t opts[] = {53,  1,  1, 12, 2, 'a', 'b', 60, 1,
				       'x', 12, 0, 12, 2, 'c', 'd', 255};

	(void)state;
	assert_int_equal(decode_opts(opts, sizeof(opts)), DHCP_DROP_NONE);
	assert_opt(&pkt, 12, "abcd", 4);
	assert_opt(&pkt, 60, "x", 1);
}

static void test_zero_length_option_is_present(void **state)
{
	static const uint8_t opts[] = {53, 1, 1, 80, 0, 255};
	size_t len = 1;

	(void)state;
	assert_int_equal(decode_opts(opts, sizeof(opts)), DHCP_DROP_NONE);
	assert_non_null(dhcp_packet_opt(&pkt, 80, &len));
	assert_int_equal(len, 0);
}

static void test_overload_file(void **state)
{
	static const uint8_t opts[] = {53, 1, 1, 52, 1, 1, 12, 2, 'a', 'b', 255};
	static const uint8_t file[] = {12, 2, 'c', 'd', 67, 3, 'b', 'o', 'o', 255};
	static const uint8_t sname[] = {66, 2, 's', 'n', 255};
	static const uint8_t zero[128] = {0};
	enum dhcp_drop why;

	(void)state;
	build(wire, opts, sizeof(opts), file, sizeof(file), sname, sizeof(sname));
	assert_int_equal(dhcp_packet_decode(&pkt, wire, 300, &why), 0);
	assert_int_equal(pkt.overload, 1);
	assert_opt(&pkt, 12, "abcd", 4);
	assert_opt(&pkt, 67, "boo", 3);
	/* sname is not an option area here: it stays a name. */
	assert_null(dhcp_packet_opt(&pkt, 66, NULL));
	assert_memory_equal(pkt.sname, sname, sizeof(sname));
	assert_memory_equal(pkt.file, zero, sizeof(pkt.file));
}

static void test_overload_sname(void **state)
{
	static const uint8_t opts[] = {53, 1, 1, 52, 1, 2, 255};
	static const uint8_t sname[] = {66, 2, 's', 'n', 255};
	static const uint8_t file[] = "pxelinux.0";
	enum dhcp_drop why;

	(void)state;
	build(wire, opts, sizeof(opts), file, sizeof(file), sname, sizeof(sname));
	assert_int_equal(dhcp_packet_decode(&pkt, wire, 300, &why), 0);
	assert_int_equal(pkt.overload, 2);
	assert_opt(&pkt, 66, "sn", 2);
	assert_string_equal((const char *)pkt.file, "pxelinux.0");
	assert_int_equal(pkt.sname[0], 0);
}

/* With both, the aggregate is options field, then file, then sname (RFC 2131 4.1, 3396). */
static void test_overload_both_concatenates_field_file_sname(void **state)
{
	static const uint8_t opts[] = {53, 1, 1, 52, 1, 3, 77, 1, '1', 255};
	static const uint8_t file[] = {77, 1, '2', 0, 0, 77, 1, '3', 255};
	static const uint8_t sname[] = {77, 1, '4'}; /* no END: runs to the end of sname */
	enum dhcp_drop why;

	(void)state;
	build(wire, opts, sizeof(opts), file, sizeof(file), sname, sizeof(sname));
	assert_int_equal(dhcp_packet_decode(&pkt, wire, 300, &why), 0);
	assert_int_equal(pkt.overload, 3);
	assert_opt(&pkt, 77, "1234", 4);
	assert_int_equal(pkt.no_end, 1);
}

static void test_overload_inside_overload_is_ignored(void **state)
{
	static const uint8_t opts[] = {53, 1, 1, 52, 1, 1, 255};
	static const uint8_t file[] = {52, 1, 3, 12, 1, 'f', 255};
	static const uint8_t sname[] = {66, 2, 's', 'n', 255};
	enum dhcp_drop why;

	(void)state;
	build(wire, opts, sizeof(opts), file, sizeof(file), sname, sizeof(sname));
	assert_int_equal(dhcp_packet_decode(&pkt, wire, 300, &why), 0);
	assert_int_equal(pkt.overload, 1);
	assert_opt(&pkt, 52, "\x01", 1);
	assert_opt(&pkt, 12, "f", 1);
	assert_null(dhcp_packet_opt(&pkt, 66, NULL));
}

/* ---- dhcp_out ---- */

static void out_reply(struct dhcp_out *o)
{
	dhcp_out_init(o);
	o->op = 2;
	o->htype = 1;
	o->hlen = 6;
	o->xid = 0xa1b2c3d4;
	o->secs = 0x0102;
	o->flags = DHCP_FLAG_BROADCAST;
	o->ciaddr = 0xc0000201;
	o->yiaddr = 0xc0000232;
	o->siaddr = 0xc6336401;
	o->giaddr = 0xcb007101;
	memcpy(o->chaddr, test_mac, sizeof(test_mac));
	assert_int_equal(dhcp_out_add(o, 53, "\x02", 1), 0);
	assert_int_equal(dhcp_out_add(o, 54, "\xc0\x00\x02\x01", 4), 0);
}

static int encode(unsigned *omitted, size_t max_len)
{
	return dhcp_out_encode(&out, wire, sizeof(wire), max_len, omitted);
}

static void decode_wire(int len)
{
	enum dhcp_drop why = DHCP_DROP_MAX;

	assert_true(len > 0);
	assert_int_equal(dhcp_packet_decode(&pkt, wire, (size_t)len, &why), 0);
}

static void test_out_add_replaces_in_place(void **state)
{
	(void)state;
	dhcp_out_init(&out);
	assert_int_equal(dhcp_out_add(&out, 3, "\x01\x02\x03\x04", 4), 0);
	assert_int_equal(dhcp_out_add(&out, 6, "\x05\x06\x07\x08", 4), 0);
	assert_int_equal(dhcp_out_add(&out, 3, "\x09\x0a", 2), 0);
	assert_int_equal(dhcp_out_add(&out, 6, "0123456789", 10), 0);
	assert_int_equal(out.opts_n, 2);
	assert_int_equal(out.opts[0].code, 3);
	assert_int_equal(out.opts[0].len, 2);
	assert_memory_equal(out.data + out.opts[0].off, "\x09\x0a", 2);
	assert_int_equal(out.opts[1].code, 6);
	assert_memory_equal(out.data + out.opts[1].off, "0123456789", 10);
	assert_true(dhcp_out_has(&out, 6));
	assert_false(dhcp_out_has(&out, 1));
}

static void test_out_add_limits(void **state)
{
	static uint8_t big[DHCP_OUT_DATA_MAX + 1];

	(void)state;
	dhcp_out_init(&out);
	assert_int_equal(dhcp_out_add(&out, 43, big, sizeof(big)), CORE_ESPACE);
	assert_int_equal(dhcp_out_add(&out, 43, big, DHCP_OUT_DATA_MAX), 0);
	assert_int_equal(dhcp_out_add(&out, 44, big, 1), CORE_ESPACE);
	assert_int_equal(dhcp_out_add(&out, 44, NULL, 0), 0);
	dhcp_out_init(&out);
	for (unsigned i = 0; i < DHCP_OUT_OPTS_MAX; i++)
		assert_int_equal(dhcp_out_add(&out, (uint8_t)(100 + i), "x", 1), 0);
	assert_int_equal(dhcp_out_add(&out, 250, "x", 1), CORE_ESPACE);
	/* Replacing an existing code still works when the table is full. */
	assert_int_equal(dhcp_out_add(&out, 100, "yy", 2), 0);
}

static void test_out_add_rejects_reserved_codes(void **state)
{
	(void)state;
	dhcp_out_init(&out);
	assert_int_equal(dhcp_out_add(&out, 0, "x", 1), -EINVAL);
	assert_int_equal(dhcp_out_add(&out, 255, "x", 1), -EINVAL);
	assert_int_equal(dhcp_out_add(&out, 52, "\x01", 1), -EINVAL);
	assert_int_equal(out.opts_n, 0);
}

static void test_encode_header_and_padding(void **state)
{
	unsigned omitted = 99;
	int len;
	static const uint8_t want[] = {
	    2,    1,    6,    0,    0xa1, 0xb2, 0xc3, 0xd4, 0x01, 0x02, 0x80, 0x00, 0xc0, 0x00,
	    0x02, 0x01, 0xc0, 0x00, 0x02, 0x32, 0xc6, 0x33, 0x64, 0x01, 0xcb, 0x00, 0x71, 0x01,
	};
	static const uint8_t opts[] = {53, 1,  2, 54, 4, 0xc0, 0,    2,
				       1,  51, 4, 0,  0, 0x0e, 0x10, 255};

	(void)state;
	out_reply(&out);
	assert_int_equal(dhcp_out_add(&out, 51, "\x00\x00\x0e\x10", 4), 0);
	memset(wire, 0xee, sizeof(wire));
	len = encode(&omitted, 576);
	assert_int_equal(len, DHCP_BOOTP_MIN_LEN);
	assert_int_equal(omitted, 0);
	assert_memory_equal(wire, want, sizeof(want));
	assert_memory_equal(wire + 28, test_mac, sizeof(test_mac));
	assert_memory_equal(wire + 236, cookie, sizeof(cookie));
	assert_memory_equal(wire + 240, opts, sizeof(opts));
	for (int i = 240 + (int)sizeof(opts); i < len; i++)
		assert_int_equal(wire[i], 0);
	assert_int_equal(wire[len], 0xee);
}

static void test_encode_puts_53_and_54_first(void **state)
{
	(void)state;
	dhcp_out_init(&out);
	assert_int_equal(dhcp_out_add(&out, 1, "\xff\xff\xff\x00", 4), 0);
	assert_int_equal(dhcp_out_add(&out, 54, "\xc0\x00\x02\x01", 4), 0);
	assert_int_equal(dhcp_out_add(&out, 53, "\x05", 1), 0);
	assert_true(encode(NULL, 576) > 0);
	assert_memory_equal(wire + 240, "\x35\x01\x05\x36\x04\xc0\x00\x02\x01\x01\x04", 11);
}

static void test_encode_splits_long_option(void **state)
{
	uint8_t v[600];
	int len;

	(void)state;
	for (size_t i = 0; i < sizeof(v); i++)
		v[i] = (uint8_t)(i * 7);
	out_reply(&out);
	assert_int_equal(dhcp_out_add(&out, 43, v, sizeof(v)), 0);
	len = encode(NULL, 1500);
	assert_int_equal(len, 240 + 3 + 6 + (2 + 255) * 2 + 2 + 90 + 1);
	assert_int_equal(wire[249], 43);
	assert_int_equal(wire[250], 255);
	assert_int_equal(wire[249 + 257], 43);
	assert_int_equal(wire[250 + 257], 255);
	assert_int_equal(wire[249 + 514], 43);
	assert_int_equal(wire[250 + 514], 90);
	decode_wire(len);
	assert_opt(&pkt, 43, v, sizeof(v));
}

static void test_encode_255_bytes_is_one_instance(void **state)
{
	uint8_t v[255];

	(void)state;
	memset(v, 'z', sizeof(v));
	out_reply(&out);
	assert_int_equal(dhcp_out_add(&out, 43, v, sizeof(v)), 0);
	assert_int_equal(encode(NULL, 1500), 240 + 9 + 257 + 1);
	assert_int_equal(wire[249 + 257], 255);
}

/* max_len 300 leaves 60 bytes of options field: the rest go to file, as option 52 says. */
static void test_encode_overflows_into_file(void **state)
{
	uint8_t v[100];
	unsigned omitted = 99;
	int len;

	(void)state;
	memset(v, 'v', sizeof(v));
	out_reply(&out);
	assert_int_equal(dhcp_out_add(&out, 1, "\xff\xff\xff\x00", 4), 0);
	assert_int_equal(dhcp_out_add(&out, 67, v, sizeof(v)), 0);
	len = encode(&omitted, 300);
	assert_int_equal(len, 300);
	assert_int_equal(omitted, 0);
	assert_memory_equal(wire + 240, "\x35\x01\x02\x36\x04\xc0\x00\x02\x01\x34\x01\x01", 12);
	assert_int_equal(wire[108], 67);
	assert_int_equal(wire[109], 100);
	assert_int_equal(wire[108 + 102], 255);
	decode_wire(len);
	assert_int_equal(pkt.overload, 1);
	assert_opt(&pkt, 67, v, sizeof(v));
	assert_opt(&pkt, 1, "\xff\xff\xff\x00", 4);
	assert_int_equal(pkt.msg_type, DHCPOFFER);
}

static void test_encode_overflows_into_file_and_sname(void **state)
{
	uint8_t a[70], b[50];
	unsigned omitted = 99;
	int len;

	(void)state;
	memset(a, 'a', sizeof(a));
	memset(b, 'b', sizeof(b));
	out_reply(&out);
	assert_int_equal(dhcp_out_add(&out, 66, b, sizeof(b)), 0);
	assert_int_equal(dhcp_out_add(&out, 67, a, sizeof(a)), 0);
	assert_int_equal(dhcp_out_add(&out, 60, b, sizeof(b)), 0);
	len = encode(&omitted, 300);
	assert_int_equal(omitted, 0);
	decode_wire(len);
	assert_int_equal(pkt.overload, 3);
	assert_opt(&pkt, 66, b, sizeof(b));
	assert_opt(&pkt, 67, a, sizeof(a));
	assert_opt(&pkt, 60, b, sizeof(b));
}

/* A long option may span areas in order; the decoder concatenates them back (RFC 3396). */
static void test_encode_long_option_spans_areas(void **state)
{
	uint8_t v[300];
	unsigned omitted = 99;

	(void)state;
	for (size_t i = 0; i < sizeof(v); i++)
		v[i] = (uint8_t)(i * 3);
	out_reply(&out);
	assert_int_equal(dhcp_out_add(&out, 43, v, 20), 0);
	assert_int_equal(dhcp_out_add(&out, 121, v, sizeof(v)), 0);
	/* 160 bytes of options field: 121 takes what is left there, all of file, part of sname. */
	decode_wire(encode(&omitted, 400));
	assert_int_equal(omitted, 0);
	assert_int_equal(pkt.overload, 3);
	assert_opt(&pkt, 121, v, sizeof(v));
	assert_opt(&pkt, 43, v, 20);
}

static void test_encode_keeps_non_empty_file(void **state)
{
	uint8_t v[100];
	unsigned omitted = 99;

	(void)state;
	memset(v, 'v', sizeof(v));
	out_reply(&out);
	memcpy(out.file, "pxelinux.0", 10);
	assert_int_equal(dhcp_out_add(&out, 60, v, 50), 0);
	decode_wire(encode(&omitted, 300));
	assert_int_equal(omitted, 0);
	assert_int_equal(pkt.overload, 2);
	assert_string_equal((const char *)pkt.file, "pxelinux.0");
	assert_opt(&pkt, 60, v, 50);
}

static void test_encode_counts_omitted(void **state)
{
	uint8_t v[200];
	unsigned omitted = 0;

	(void)state;
	memset(v, 'v', sizeof(v));
	out_reply(&out);
	memcpy(out.sname, "server", 6);
	assert_int_equal(dhcp_out_add(&out, 60, v, 200), 0); /* fits nowhere whole */
	assert_int_equal(dhcp_out_add(&out, 66, v, 150), 0); /* fits nowhere whole */
	assert_int_equal(dhcp_out_add(&out, 67, v, 100), 0); /* fits in file */
	assert_int_equal(dhcp_out_add(&out, 12, v, 10), 0);  /* fits in the options field */
	decode_wire(encode(&omitted, 300));
	assert_int_equal(omitted, 2);
	assert_null(dhcp_packet_opt(&pkt, 60, NULL));
	assert_null(dhcp_packet_opt(&pkt, 66, NULL));
	assert_opt(&pkt, 67, v, 100);
	assert_opt(&pkt, 12, v, 10);
	assert_int_equal(pkt.overload, 1);
	assert_string_equal((const char *)pkt.sname, "server");
}

/* When nothing ends up overflowing, the 52 written ahead is blanked to PADs. */
static void test_encode_unused_overload_becomes_pad(void **state)
{
	uint8_t v[250];
	unsigned omitted = 0;
	int len;

	(void)state;
	memset(v, 'v', sizeof(v));
	out_reply(&out);
	assert_int_equal(dhcp_out_add(&out, 60, v, sizeof(v)), 0);
	len = encode(&omitted, 300);
	assert_int_equal(omitted, 1);
	assert_memory_equal(wire + 249, "\x00\x00\x00\xff", 4);
	decode_wire(len);
	assert_null(dhcp_packet_opt(&pkt, 52, NULL));
	assert_int_equal(pkt.overload, 0);
}

static void test_encode_agent_option_stays_in_options_field(void **state)
{
	uint8_t v[100];
	unsigned omitted = 0;

	(void)state;
	memset(v, 'v', sizeof(v));
	out_reply(&out);
	assert_int_equal(dhcp_out_add(&out, 67, v, sizeof(v)), 0);
	assert_int_equal(dhcp_out_add(&out, 82, "\x01\x06pkt_r0", 8), 0);
	decode_wire(encode(&omitted, 300));
	assert_int_equal(omitted, 0);
	/* 53, 54, 52, then 82 before anything else. */
	assert_memory_equal(wire + 252, "\x52\x08\x01\x06pkt_r0", 10);
	assert_opt(&pkt, 67, v, sizeof(v));
}

/* 53 and a 53-byte 54 leave 1 byte of a 60-byte options field: no room to announce 52. */
static void test_encode_without_room_for_overload_stays_in_field(void **state)
{
	uint8_t sid[53];
	unsigned omitted = 0;
	int len;

	(void)state;
	memset(sid, 's', sizeof(sid));
	out_reply(&out);
	assert_int_equal(dhcp_out_add(&out, 54, sid, sizeof(sid)), 0);
	assert_int_equal(dhcp_out_add(&out, 12, "h", 1), 0);
	len = encode(&omitted, 300);
	assert_int_equal(omitted, 1);
	decode_wire(len);
	assert_int_equal(pkt.overload, 0);
	assert_opt(&pkt, 54, sid, sizeof(sid));
	assert_int_equal(wire[108], 0);
}

static void test_encode_fails_when_54_cannot_fit(void **state)
{
	uint8_t sid[56];

	(void)state;
	memset(sid, 's', sizeof(sid));
	out_reply(&out);
	assert_int_equal(dhcp_out_add(&out, 54, sid, sizeof(sid)), 0);
	assert_int_equal(encode(NULL, 300), CORE_ESPACE);
}

static void test_encode_needs_room_for_the_minimum(void **state)
{
	(void)state;
	out_reply(&out);
	assert_int_equal(dhcp_out_encode(&out, wire, DHCP_BOOTP_MIN_LEN - 1, 576, NULL),
			 CORE_ESPACE);
	assert_int_equal(dhcp_out_encode(&out, wire, DHCP_BOOTP_MIN_LEN, 576, NULL),
			 DHCP_BOOTP_MIN_LEN);
}

/* A full ACK as the server builds it, encoded and decoded back field by field. */
static void test_round_trip_full_reply(void **state)
{
	static const uint8_t csr[] = {24, 198, 51, 100, 192, 0, 2, 1, 0, 192, 0, 2, 1};
	uint8_t search[300];
	unsigned omitted = 99;
	int len;

	(void)state;
	for (size_t i = 0; i < sizeof(search); i++)
		search[i] = (uint8_t)('a' + i % 26);
	out_reply(&out);
	assert_int_equal(dhcp_out_add(&out, 53, "\x05", 1), 0);
	assert_int_equal(dhcp_out_add(&out, 51, "\x00\x00\x0e\x10", 4), 0);
	assert_int_equal(dhcp_out_add(&out, 1, "\xff\xff\xff\x00", 4), 0);
	assert_int_equal(dhcp_out_add(&out, 3, "\xc0\x00\x02\x01", 4), 0);
	assert_int_equal(dhcp_out_add(&out, 6, "\xc0\x00\x02\x01\xc0\x00\x02\x02", 8), 0);
	assert_int_equal(dhcp_out_add(&out, 15, "example.test", 12), 0);
	assert_int_equal(dhcp_out_add(&out, 121, csr, sizeof(csr)), 0);
	assert_int_equal(dhcp_out_add(&out, 119, search, sizeof(search)), 0);
	assert_int_equal(dhcp_out_add(&out, 82, "\x01\x06pkt_r0", 8), 0);
	len = encode(&omitted, 1472);
	assert_int_equal(omitted, 0);
	decode_wire(len);
	assert_int_equal(pkt.op, 2);
	assert_int_equal(pkt.htype, 1);
	assert_int_equal(pkt.hlen, 6);
	assert_int_equal(pkt.xid, 0xa1b2c3d4);
	assert_int_equal(pkt.secs, 0x0102);
	assert_int_equal(pkt.flags, DHCP_FLAG_BROADCAST);
	assert_int_equal(pkt.ciaddr, 0xc0000201);
	assert_int_equal(pkt.yiaddr, 0xc0000232);
	assert_int_equal(pkt.siaddr, 0xc6336401);
	assert_int_equal(pkt.giaddr, 0xcb007101);
	assert_memory_equal(pkt.chaddr, test_mac, sizeof(test_mac));
	assert_int_equal(pkt.msg_type, DHCPACK);
	assert_int_equal(pkt.overload, 0);
	assert_int_equal(pkt.no_end, 0);
	for (unsigned i = 0; i < out.opts_n; i++)
		assert_opt(&pkt, out.opts[i].code, out.data + out.opts[i].off, out.opts[i].len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dhclient_discover),
	    cmocka_unit_test(test_dhclient_init_reboot_request),
	    cmocka_unit_test(test_udhcpc_selecting_request),
	    cmocka_unit_test(test_udhcpc_release),
	    cmocka_unit_test(test_udhcpc_decline),
	    cmocka_unit_test(test_dhcpcd_discover),
	    cmocka_unit_test(test_dhcpcd_inform),
	    cmocka_unit_test(test_relayed_discover_with_option_82),
	    cmocka_unit_test(test_captures_options_match_wire),
	    cmocka_unit_test(test_bootp_request),
	    cmocka_unit_test(test_reply_op_is_accepted),
	    cmocka_unit_test(test_drop_truncated),
	    cmocka_unit_test(test_cookie_only_is_accepted),
	    cmocka_unit_test(test_drop_oversize),
	    cmocka_unit_test(test_max_size_is_accepted),
	    cmocka_unit_test(test_drop_bad_op),
	    cmocka_unit_test(test_drop_bad_htype),
	    cmocka_unit_test(test_drop_bad_hlen),
	    cmocka_unit_test(test_hlen_16_is_accepted),
	    cmocka_unit_test(test_drop_no_cookie),
	    cmocka_unit_test(test_drop_option_length_past_end),
	    cmocka_unit_test(test_drop_option_code_without_length),
	    cmocka_unit_test(test_drop_option_past_end_of_file_area),
	    cmocka_unit_test(test_drop_bad_overload_length),
	    cmocka_unit_test(test_drop_bad_overload_value),
	    cmocka_unit_test(test_drop_bad_msgtype_length),
	    cmocka_unit_test(test_drop_bad_msgtype_value),
	    cmocka_unit_test(test_drop_repeated_msgtype),
	    cmocka_unit_test(test_missing_end_is_tolerated),
	    cmocka_unit_test(test_drop_names),
	    cmocka_unit_test(test_msg_names),
	    cmocka_unit_test(test_repeated_options_concatenate_in_order),
	    cmocka_unit_test(test_zero_length_option_is_present),
	    cmocka_unit_test(test_overload_file),
	    cmocka_unit_test(test_overload_sname),
	    cmocka_unit_test(test_overload_both_concatenates_field_file_sname),
	    cmocka_unit_test(test_overload_inside_overload_is_ignored),
	    cmocka_unit_test(test_out_add_replaces_in_place),
	    cmocka_unit_test(test_out_add_limits),
	    cmocka_unit_test(test_out_add_rejects_reserved_codes),
	    cmocka_unit_test(test_encode_header_and_padding),
	    cmocka_unit_test(test_encode_puts_53_and_54_first),
	    cmocka_unit_test(test_encode_splits_long_option),
	    cmocka_unit_test(test_encode_255_bytes_is_one_instance),
	    cmocka_unit_test(test_encode_overflows_into_file),
	    cmocka_unit_test(test_encode_overflows_into_file_and_sname),
	    cmocka_unit_test(test_encode_long_option_spans_areas),
	    cmocka_unit_test(test_encode_keeps_non_empty_file),
	    cmocka_unit_test(test_encode_counts_omitted),
	    cmocka_unit_test(test_encode_unused_overload_becomes_pad),
	    cmocka_unit_test(test_encode_agent_option_stays_in_options_field),
	    cmocka_unit_test(test_encode_without_room_for_overload_stays_in_field),
	    cmocka_unit_test(test_encode_fails_when_54_cannot_fit),
	    cmocka_unit_test(test_encode_needs_room_for_the_minimum),
	    cmocka_unit_test(test_round_trip_full_reply),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
