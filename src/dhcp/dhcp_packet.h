/* SPDX-License-Identifier: MPL-2.0 */
/* DHCPv4/BOOTP wire codec (RFC 2131, 2132, 3396 long options, option overload). */
#ifndef DHCP_PACKET_H
#define DHCP_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core_err.h"

#define DHCP_FIXED_LEN 236   /* op .. file */
#define DHCP_MIN_LEN 240     /* fixed part + magic cookie */
#define DHCP_BOOTP_MIN_LEN 300 /* replies are padded to this, as BOOTP relays expect */
#define DHCP_PACKET_MAX 4096 /* larger datagrams are dropped as oversize */
#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define DHCP_FLAG_BROADCAST 0x8000

enum dhcp_msg_type {
	DHCP_MSG_NONE = 0, /* BOOTP: no option 53 */
	DHCPDISCOVER = 1,
	DHCPOFFER = 2,
	DHCPREQUEST = 3,
	DHCPDECLINE = 4,
	DHCPACK = 5,
	DHCPNAK = 6,
	DHCPRELEASE = 7,
	DHCPINFORM = 8,
	DHCP_MSG_MAX = 9, /* leasequery and later types are dropped as unsupported */
};

/* "DHCPDISCOVER", ..., "BOOTP" for NONE, "UNKNOWN" otherwise. */
const char *dhcp_msg_name(int type);

/* Why a datagram was dropped at decode; each has a counter. */
enum dhcp_drop {
	DHCP_DROP_NONE = 0,
	DHCP_DROP_TRUNCATED,   /* shorter than the fixed header + cookie */
	DHCP_DROP_OVERSIZE,    /* longer than DHCP_PACKET_MAX */
	DHCP_DROP_BAD_OP,      /* op is not BOOTREQUEST (server side) / BOOTREPLY */
	DHCP_DROP_BAD_HTYPE,   /* htype 0 */
	DHCP_DROP_BAD_HLEN,    /* hlen > 16 */
	DHCP_DROP_NO_COOKIE,   /* magic cookie missing or wrong */
	DHCP_DROP_BAD_OPTION,  /* an option length runs past its field */
	DHCP_DROP_BAD_OVERLOAD, /* option 52 malformed */
	DHCP_DROP_BAD_MSGTYPE, /* option 53 of wrong length or unknown type */
	DHCP_DROP_NO_END,      /* options not terminated by END */
	DHCP_DROP_MAX,
};

/* "truncated", "oversize", ...: stable names used in counters. */
const char *dhcp_drop_name(enum dhcp_drop d);

/*
 * A decoded packet. Options are kept by code; repeated instances of a code (including ones
 * placed in sname/file by option overload) are concatenated, as RFC 3396 requires. The
 * struct is large (~5 KiB) and self-contained: decode into a caller-owned buffer.
 */
struct dhcp_packet {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr; /* host byte order */
	uint8_t chaddr[16];
	uint8_t sname[64];
	uint8_t file[128];
	uint8_t msg_type;     /* enum dhcp_msg_type; NONE for BOOTP */
	uint8_t overload;     /* value of option 52, 0 if absent */
	uint32_t present[8];  /* bitmap of option codes present */
	uint16_t opt_off[256];
	uint16_t opt_len[256];
	uint16_t optbuf_len;
	uint8_t optbuf[DHCP_PACKET_MAX];
};

/*
 * Decodes a BOOTREQUEST or BOOTREPLY datagram. Returns 0, or CORE_EMALFORMED with *why set.
 * Never reads outside buf[0..len). p is fully overwritten.
 */
int dhcp_packet_decode(struct dhcp_packet *p, const void *buf, size_t len,
		       enum dhcp_drop *why) CORE_WARN_UNUSED;

/* The concatenated value of option code (len may be 0), or NULL when absent. */
const uint8_t *dhcp_packet_opt(const struct dhcp_packet *p, uint8_t code, size_t *len);

/*
 * A reply under construction. Options are encoded in the order they were added; the server
 * adds 53 and 54 first, then the rest in the client's parameter-request-list order.
 */
#define DHCP_OUT_OPTS_MAX 128
#define DHCP_OUT_DATA_MAX 4096
struct dhcp_out {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr; /* host byte order */
	uint8_t chaddr[16];
	uint8_t sname[64]; /* all-zero sname/file may be used for overload */
	uint8_t file[128];
	uint16_t opts_n;
	struct {
		uint8_t code;
		uint16_t len;
		uint16_t off; /* into data */
	} opts[DHCP_OUT_OPTS_MAX];
	uint16_t data_used;
	uint8_t data[DHCP_OUT_DATA_MAX];
};

/* Clears o (header zeroed, no options). */
void dhcp_out_init(struct dhcp_out *o);
/*
 * Appends option code with len bytes (len may exceed 255: it is split on encode). If code is
 * already present it is replaced in place. Returns 0 or CORE_ESPACE.
 */
int dhcp_out_add(struct dhcp_out *o, uint8_t code, const void *data, size_t len);
bool dhcp_out_has(const struct dhcp_out *o, uint8_t code);

/*
 * Encodes o into buf. max_len caps the datagram (the client's option 57, at least 576, or
 * DHCP_PACKET_MAX); when options do not fit in the options field they overflow into file
 * and then sname (option 52) if those are all-zero, and whatever still does not fit is left
 * out and counted in *omitted (may be NULL). Pads to DHCP_BOOTP_MIN_LEN. Returns the
 * datagram length (>0) or CORE_ESPACE if not even the header fits.
 */
int dhcp_out_encode(const struct dhcp_out *o, uint8_t *buf, size_t cap, size_t max_len,
		    unsigned *omitted) CORE_WARN_UNUSED;

#endif
