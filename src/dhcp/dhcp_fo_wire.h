/* SPDX-License-Identifier: MPL-2.0 */
/* Wire codec of the DHCP failover protocol (draft-ietf-dhc-failover-12 as ISC 4.4.3 speaks it). */
#ifndef DHCP_FO_WIRE_H
#define DHCP_FO_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core_err.h"

/*
 * A message on the failover TCP connection (all integers big-endian):
 *
 *   offset  size  field
 *   0       2     length          the whole message, header included: 12 .. DHCP_FO_MSG_MAX
 *   2       1     type            enum dhcp_fo_type
 *   3       1     payload offset  where the options start; ISC writes 12 (the draft's 8 is
 *                                 wrong), skips header bytes up to it, and cannot read < 12
 *   4       4     time            the sender's clock, Unix seconds
 *   8       4     xid
 *   12      ...   options: u16 code, u16 len, len bytes, back to back up to length
 *
 * Decoding follows ISC's receiver (docs/internals/dhcp-failover.md): option codes 0 and above
 * DHCP_FO_OPT_MAX, and options the message type does not allow, are skipped (counted in
 * skipped) before their size is checked; a repeated option, a fixed-size option of the wrong
 * size, or a message-digest that is not the last option is an error, as it makes ISC drop the
 * connection. The message-digest is skipped unverified, as ISC does.
 */

#define DHCP_FO_HDR_LEN 12
#define DHCP_FO_MSG_MAX 2048
#define DHCP_FO_HBA_LEN 32
#define DHCP_FO_OPT_MAX 29

enum dhcp_fo_type {
	DHCP_FO_POOLREQ = 1,
	DHCP_FO_POOLRESP = 2,
	DHCP_FO_BNDUPD = 3,
	DHCP_FO_BNDACK = 4,
	DHCP_FO_CONNECT = 5,
	DHCP_FO_CONNECTACK = 6,
	DHCP_FO_UPDREQALL = 7,
	DHCP_FO_UPDDONE = 8,
	DHCP_FO_UPDREQ = 9,
	DHCP_FO_STATE = 10,
	DHCP_FO_CONTACT = 11,
	DHCP_FO_DISCONNECT = 12,
	DHCP_FO_TYPE_MAX = 12,
};

/* Option codes (the draft's section 12). */
enum dhcp_fo_opt {
	DHCP_FO_ADDRESSES_TRANSFERRED = 1, /* u32 */
	DHCP_FO_ASSIGNED_IP = 2,           /* 4 bytes */
	DHCP_FO_BINDING_STATUS = 3,        /* u8, enum dhcp_binding */
	DHCP_FO_CLIENT_ID = 4,             /* bytes */
	DHCP_FO_CHADDR = 5,                /* htype byte, then the hardware address */
	DHCP_FO_CLTT = 6,                  /* u32 */
	DHCP_FO_REPLY_OPTIONS = 7,         /* bytes (ISC never sends them) */
	DHCP_FO_REQUEST_OPTIONS = 8,       /* bytes (idem) */
	DHCP_FO_DDNS = 9,                  /* bytes, kept opaque (idem) */
	DHCP_FO_DELAYED_SERVICE = 10,      /* u8 (idem) */
	DHCP_FO_HBA = 11,                  /* bytes; ISC requires exactly 32 in CONNECT */
	DHCP_FO_IP_FLAGS = 12,             /* u16: DHCP_FO_IPF_* */
	DHCP_FO_LEASE_EXPIRY = 13,         /* u32 */
	DHCP_FO_MAX_UNACKED = 14,          /* u32 */
	DHCP_FO_MCLT = 15,                 /* u32 */
	DHCP_FO_MESSAGE = 16,              /* text, no NUL */
	DHCP_FO_DIGEST = 17,               /* bytes, must be last; skipped */
	DHCP_FO_POTENTIAL_EXPIRY = 18,     /* u32 */
	DHCP_FO_RECEIVE_TIMER = 19,        /* u32 */
	DHCP_FO_PROTOCOL_VERSION = 20,     /* u8 */
	DHCP_FO_REJECT_REASON = 21,        /* u8 */
	DHCP_FO_RELATIONSHIP = 22,         /* bytes, no NUL */
	DHCP_FO_SERVER_FLAGS = 23,         /* u8: DHCP_FO_SF_STARTUP */
	DHCP_FO_SERVER_STATE = 24,         /* u8, enum dhcp_fo_state */
	DHCP_FO_STOS = 25,                 /* u32 */
	DHCP_FO_TLS_REPLY = 26,            /* u8 */
	DHCP_FO_TLS_REQUEST = 27,          /* u8 (one byte, not the draft's two) */
	DHCP_FO_VENDOR_CLASS = 28,         /* text */
	DHCP_FO_VENDOR_OPTIONS = 29,       /* bytes (ISC never sends them) */
};

#define DHCP_FO_IPF_RESERVED 0x1
#define DHCP_FO_IPF_BOOTP 0x2
#define DHCP_FO_SF_STARTUP 0x1

/* Server states as on the wire; 254 is ISC's own code for recover-wait. */
enum dhcp_fo_state {
	DHCP_FO_S_UNKNOWN = 0,
	DHCP_FO_S_STARTUP = 1,
	DHCP_FO_S_NORMAL = 2,
	DHCP_FO_S_COMMUNICATIONS_INTERRUPTED = 3,
	DHCP_FO_S_PARTNER_DOWN = 4,
	DHCP_FO_S_POTENTIAL_CONFLICT = 5,
	DHCP_FO_S_RECOVER = 6,
	DHCP_FO_S_PAUSED = 7,
	DHCP_FO_S_SHUTDOWN = 8,
	DHCP_FO_S_RECOVER_DONE = 9,
	DHCP_FO_S_RESOLUTION_INTERRUPTED = 10,
	DHCP_FO_S_CONFLICT_DONE = 11,
	DHCP_FO_S_RECOVER_WAIT = 254,
};

/* Reject reasons (ISC's FTR_*). */
enum dhcp_fo_reject {
	DHCP_FO_R_ILLEGAL_IP = 1,
	DHCP_FO_R_FATAL_CONFLICT = 2,
	DHCP_FO_R_MISSING_BINDINFO = 3,
	DHCP_FO_R_TIME_MISMATCH = 4,
	DHCP_FO_R_INVALID_MCLT = 5,
	DHCP_FO_R_MISC = 6,
	DHCP_FO_R_DUP_CONNECTION = 7,
	DHCP_FO_R_INVALID_PARTNER = 8,
	DHCP_FO_R_TLS_UNSUPPORTED = 9,
	DHCP_FO_R_TLS_UNCONFIGURED = 10,
	DHCP_FO_R_TLS_REQUIRED = 11,
	DHCP_FO_R_DIGEST_UNSUPPORTED = 12,
	DHCP_FO_R_DIGEST_UNCONFIGURED = 13,
	DHCP_FO_R_VERSION_MISMATCH = 14,
	DHCP_FO_R_OUTDATED_BIND_INFO = 15,
	DHCP_FO_R_LESS_CRIT_BIND_INFO = 16,
	DHCP_FO_R_NO_TRAFFIC = 17,
	DHCP_FO_R_HBA_CONFLICT = 18,
	DHCP_FO_R_IP_NOT_RESERVED = 19,
	DHCP_FO_R_UNKNOWN = 254,
};

/* A byte string inside a decoded message (borrowed from its buffer) or to encode (borrowed). */
struct dhcp_fo_bytes {
	const uint8_t *p;
	uint16_t len;
};

/*
 * One message. present has bit (1u << code) set for every option it carries; only those
 * fields mean anything. Byte strings point into the buffer that was decoded (or that the
 * caller provides for encoding) and live as long as it.
 */
struct dhcp_fo_msg {
	uint8_t type;
	uint32_t time, xid;
	uint32_t present;
	uint32_t skipped; /* options skipped by the decoder (unknown, not allowed, the digest) */

	uint32_t addresses_transferred;
	uint32_t assigned_ip; /* host byte order */
	uint8_t binding_status;
	struct dhcp_fo_bytes client_id, chaddr, relationship, message, vendor_class, ddns;
	uint32_t cltt;
	uint8_t delayed_service;
	struct dhcp_fo_bytes hba;
	uint16_t ip_flags;
	uint32_t lease_expiry, max_unacked, mclt, potential_expiry, receive_timer, stos;
	uint8_t protocol_version, reject_reason, server_flags, server_state;
	uint8_t tls_reply, tls_request;
};

static inline bool dhcp_fo_has(const struct dhcp_fo_msg *m, enum dhcp_fo_opt code)
{
	return m->present & (1u << code);
}

/*
 * The length of the message at the start of buf, from its first two bytes: 0 when fewer than
 * two bytes are there, the length when it is DHCP_FO_HDR_LEN .. DHCP_FO_MSG_MAX, or
 * CORE_EMALFORMED (the stream is not failover: close it).
 */
int dhcp_fo_frame_len(const uint8_t *buf, size_t n) CORE_WARN_UNUSED;

/*
 * Decodes one whole message of exactly n bytes (n == its length field). Returns 0, or
 * CORE_EMALFORMED with a reason in *err (a static string) for anything ISC would drop the
 * connection over: bad length or offset, an unknown type that carries options, a truncated,
 * repeated or wrongly sized option, a digest that is not last. A type outside 1..12 without
 * options decodes (ISC ignores such a message; so should the caller).
 */
int dhcp_fo_decode(const uint8_t *buf, size_t n, struct dhcp_fo_msg *m,
		   const char **err) CORE_WARN_UNUSED;

/*
 * Encodes m with the options in present, in the order ISC writes them for its type, header
 * offset 12. Returns the length written, or CORE_ETOOBIG when it needs more than cap or more
 * than DHCP_FO_MSG_MAX, or -EINVAL for a type out of range or an option the type does not
 * allow (ISC would skip it: sending it is a bug of ours).
 */
int dhcp_fo_encode(const struct dhcp_fo_msg *m, uint8_t *buf, size_t cap) CORE_WARN_UNUSED;

/* Names for logs: "BNDUPD", "recover-wait", "invalid partner"; "?" (or "state 99") when unknown. */
const char *dhcp_fo_type_name(unsigned type);
const char *dhcp_fo_state_name(unsigned state);
const char *dhcp_fo_reject_name(unsigned reason);

#endif
