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
	DHCP_DROP_BAD_OP,      /* op is neither BOOTREQUEST nor BOOTREPLY (decode accepts both;
				* the server drops BOOTREPLY itself) */
	DHCP_DROP_BAD_HTYPE,   /* htype 0 */
	DHCP_DROP_BAD_HLEN,    /* hlen > 16 */
	DHCP_DROP_NO_COOKIE,   /* magic cookie missing or wrong */
	DHCP_DROP_BAD_OPTION,  /* an option length runs past its field */
	DHCP_DROP_BAD_OVERLOAD, /* option 52 malformed */
	DHCP_DROP_BAD_MSGTYPE, /* option 53 of wrong length or unknown type */
	DHCP_DROP_NO_END,      /* reserved: a missing END is tolerated as ISC does (see no_end) */
	DHCP_DROP_MAX,
};

/* "truncated", "oversize", ...: stable names used in counters. */
const char *dhcp_drop_name(enum dhcp_drop d);

/*
 * A decoded packet. Options are kept by code; repeated instances of a code (including ones
 * placed in sname/file by option overload) are concatenated, as RFC 3396 requires. The
 * struct is large (~5 KiB) and self-contained: decode into a caller-owned buffer.
 *
 * Decode does not clear the whole struct (that would cost more than the parse): opt_off[c]
 * and opt_len[c] are valid only for codes c whose bit is set in present, and optbuf only up
 * to optbuf_len; read options through dhcp_packet_opt(). PAD and END are never present.
 * When option overload (52) puts options in sname and/or file, that field is zeroed here,
 * because it holds options, not a name.
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
	uint8_t no_end;       /* 1 if an option area ran to its end without END (accepted) */
	uint32_t present[8];  /* bitmap of option codes present */
	uint16_t opt_off[256];
	uint16_t opt_len[256];
	uint16_t optbuf_len;
	uint8_t optbuf[DHCP_PACKET_MAX];
};

/*
 * Decodes a BOOTREQUEST or BOOTREPLY datagram. Returns 0 (*why = DHCP_DROP_NONE), or
 * CORE_EMALFORMED with *why set (why may be NULL). Never reads outside buf[0..len); buf is
 * borrowed for the call only. On success every field of p that the struct comment calls
 * valid is overwritten; on failure p's contents are unspecified. Pure and reentrant; cost is
 * linear in len and never clears the ~5 KiB struct.
 */
int dhcp_packet_decode(struct dhcp_packet *p, const void *buf, size_t len,
		       enum dhcp_drop *why) CORE_WARN_UNUSED;

/*
 * The concatenated value of option code, or NULL when absent. *len (len may be NULL) gets the
 * value's length, which may be 0 (the pointer is then non-NULL). Points into p->optbuf.
 */
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

/* Clears o (header zeroed, no options). Does not touch the 4 KiB data area. */
void dhcp_out_init(struct dhcp_out *o);
/*
 * Appends option code with len bytes (len may exceed 255: it is split on encode). If code is
 * already present it is replaced in place (keeping its position; a longer value takes new
 * room in data and the old bytes stay unused). data is copied (may be NULL when len is 0).
 * Returns 0, CORE_ESPACE when DHCP_OUT_OPTS_MAX or DHCP_OUT_DATA_MAX would be exceeded, or
 * -EINVAL for codes 0 (PAD), 255 (END) and 52 (overload, which the encoder owns).
 */
int dhcp_out_add(struct dhcp_out *o, uint8_t code, const void *data, size_t len);
bool dhcp_out_has(const struct dhcp_out *o, uint8_t code);

/*
 * Encodes o into buf. max_len caps the datagram, i.e. the UDP payload (the client's option 57
 * minus the 28 bytes of IP and UDP headers, as ISC does, at least 576 - 28; or
 * DHCP_PACKET_MAX); values below DHCP_BOOTP_MIN_LEN count as DHCP_BOOTP_MIN_LEN and values
 * above DHCP_PACKET_MAX as DHCP_PACKET_MAX. Options 53, 54 and 82 (relays look for it there)
 * go first and only in the options field; the rest follow in insertion order. When options
 * do not fit in the options field they overflow into file and then sname (option 52) if
 * those are all-zero; an option of up to 255 bytes is never split, a longer one is split in
 * 255-byte instances that may span areas in order (RFC 3396). Whatever still does not fit is
 * left out and counted in *omitted (may be NULL). Pads to DHCP_BOOTP_MIN_LEN. Returns the
 * datagram length (>0), or CORE_ESPACE if cap < DHCP_BOOTP_MIN_LEN or options 53/54 do not
 * fit. On success writes only buf[0..returned length); pure and reentrant.
 */
int dhcp_out_encode(const struct dhcp_out *o, uint8_t *buf, size_t cap, size_t max_len,
		    unsigned *omitted) CORE_WARN_UNUSED;

#endif
