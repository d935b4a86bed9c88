/* SPDX-License-Identifier: MPL-2.0 */
/* Failover message codec: table-driven, ISC's receive rules and send order. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "core_wire.h"
#include "dhcp_fo_wire.h"

#define BIT(code) (1u << (code))

enum kind { K_NONE, K_U8, K_U16, K_U32, K_IP, K_BYTES };

/* How each option is stored: its kind and its field in struct dhcp_fo_msg. */
static const struct {
	enum kind kind;
	size_t off;
} opts[DHCP_FO_OPT_MAX + 1] = {
#define O(code, k, field) [code] = {k, offsetof(struct dhcp_fo_msg, field)}
    O(DHCP_FO_ADDRESSES_TRANSFERRED, K_U32, addresses_transferred),
    O(DHCP_FO_ASSIGNED_IP, K_IP, assigned_ip),
    O(DHCP_FO_BINDING_STATUS, K_U8, binding_status),
    O(DHCP_FO_CLIENT_ID, K_BYTES, client_id),
    O(DHCP_FO_CHADDR, K_BYTES, chaddr),
    O(DHCP_FO_CLTT, K_U32, cltt),
    O(DHCP_FO_DDNS, K_BYTES, ddns),
    O(DHCP_FO_DELAYED_SERVICE, K_U8, delayed_service),
    O(DHCP_FO_HBA, K_BYTES, hba),
    O(DHCP_FO_IP_FLAGS, K_U16, ip_flags),
    O(DHCP_FO_LEASE_EXPIRY, K_U32, lease_expiry),
    O(DHCP_FO_MAX_UNACKED, K_U32, max_unacked),
    O(DHCP_FO_MCLT, K_U32, mclt),
    O(DHCP_FO_MESSAGE, K_BYTES, message),
    O(DHCP_FO_POTENTIAL_EXPIRY, K_U32, potential_expiry),
    O(DHCP_FO_RECEIVE_TIMER, K_U32, receive_timer),
    O(DHCP_FO_PROTOCOL_VERSION, K_U8, protocol_version),
    O(DHCP_FO_REJECT_REASON, K_U8, reject_reason),
    O(DHCP_FO_RELATIONSHIP, K_BYTES, relationship),
    O(DHCP_FO_SERVER_FLAGS, K_U8, server_flags),
    O(DHCP_FO_SERVER_STATE, K_U8, server_state),
    O(DHCP_FO_STOS, K_U32, stos),
    O(DHCP_FO_TLS_REPLY, K_U8, tls_reply),
    O(DHCP_FO_TLS_REQUEST, K_U8, tls_request),
    O(DHCP_FO_VENDOR_CLASS, K_BYTES, vendor_class),
#undef O
    /* 7, 8 and 29 are allowed in some types but never used: decoded as skipped. */
};

static const uint8_t kind_size[] = {[K_U8] = 1, [K_U16] = 2, [K_U32] = 4, [K_IP] = 4};

/*
 * Per type, the options it may carry in the order ISC writes them (F:dhcp_failover_send_*),
 * followed by the ones ISC allows on receive but never sends (ST:fto_allowed); 0 ends a list.
 * The message-digest is allowed everywhere and kept nowhere.
 */
static const uint8_t order[DHCP_FO_TYPE_MAX + 1][16] = {
    [DHCP_FO_POOLRESP] = {DHCP_FO_ADDRESSES_TRANSFERRED},
    [DHCP_FO_BNDUPD] = {DHCP_FO_ASSIGNED_IP, DHCP_FO_BINDING_STATUS, DHCP_FO_CLIENT_ID,
			DHCP_FO_CHADDR, DHCP_FO_LEASE_EXPIRY, DHCP_FO_POTENTIAL_EXPIRY,
			DHCP_FO_STOS, DHCP_FO_CLTT, DHCP_FO_IP_FLAGS, DHCP_FO_DDNS,
			DHCP_FO_REQUEST_OPTIONS, DHCP_FO_REPLY_OPTIONS},
    [DHCP_FO_BNDACK] = {DHCP_FO_ASSIGNED_IP, DHCP_FO_BINDING_STATUS, DHCP_FO_CLIENT_ID,
			DHCP_FO_CHADDR, DHCP_FO_LEASE_EXPIRY, DHCP_FO_POTENTIAL_EXPIRY,
			DHCP_FO_STOS, DHCP_FO_CLTT, DHCP_FO_IP_FLAGS, DHCP_FO_REJECT_REASON,
			DHCP_FO_MESSAGE, DHCP_FO_DDNS, DHCP_FO_REQUEST_OPTIONS,
			DHCP_FO_REPLY_OPTIONS},
    [DHCP_FO_CONNECT] = {DHCP_FO_RELATIONSHIP, DHCP_FO_MAX_UNACKED, DHCP_FO_RECEIVE_TIMER,
			 DHCP_FO_VENDOR_CLASS, DHCP_FO_PROTOCOL_VERSION, DHCP_FO_TLS_REQUEST,
			 DHCP_FO_MCLT, DHCP_FO_HBA},
    [DHCP_FO_CONNECTACK] = {DHCP_FO_RELATIONSHIP, DHCP_FO_MAX_UNACKED, DHCP_FO_RECEIVE_TIMER,
			    DHCP_FO_VENDOR_CLASS, DHCP_FO_PROTOCOL_VERSION, DHCP_FO_TLS_REPLY,
			    DHCP_FO_REJECT_REASON, DHCP_FO_MESSAGE},
    [DHCP_FO_STATE] = {DHCP_FO_SERVER_STATE, DHCP_FO_SERVER_FLAGS, DHCP_FO_STOS},
    [DHCP_FO_DISCONNECT] = {DHCP_FO_REJECT_REASON, DHCP_FO_MESSAGE},
};

static uint32_t allowed(unsigned type)
{
	uint32_t mask = 0;

	if (type == 0 || type > DHCP_FO_TYPE_MAX)
		return 0;
	for (const uint8_t *o = order[type]; *o; o++)
		mask |= BIT(*o);
	return mask;
}

int dhcp_fo_frame_len(const uint8_t *buf, size_t n)
{
	unsigned len;

	if (n < 2)
		return 0;
	len = (unsigned)buf[0] << 8 | buf[1];
	if (len < DHCP_FO_HDR_LEN || len > DHCP_FO_MSG_MAX)
		return CORE_EMALFORMED;
	return (int)len;
}

static int fail(const char **err, const char *why)
{
	if (err)
		*err = why;
	return CORE_EMALFORMED;
}

static void store(struct dhcp_fo_msg *m, unsigned code, struct core_wire *w, uint16_t len)
{
	void *f = (char *)m + opts[code].off;

	switch (opts[code].kind) {
	case K_U8:
		*(uint8_t *)f = core_wire_read_u8(w);
		break;
	case K_U16:
		*(uint16_t *)f = core_wire_read_u16(w);
		break;
	case K_U32:
	case K_IP:
		*(uint32_t *)f = core_wire_read_u32(w);
		break;
	case K_BYTES:
		((struct dhcp_fo_bytes *)f)->len = len;
		((struct dhcp_fo_bytes *)f)->p = core_wire_read_ptr(w, len);
		break;
	case K_NONE:
		core_wire_skip(w, len);
		break;
	}
}

int dhcp_fo_decode(const uint8_t *buf, size_t n, struct dhcp_fo_msg *m, const char **err)
{
	struct core_wire w;
	unsigned len, offset;
	uint32_t ok;

	*m = (struct dhcp_fo_msg){0};
	if (n < DHCP_FO_HDR_LEN)
		return fail(err, "shorter than the header");
	core_wire_init_ro(&w, buf, n);
	len = core_wire_read_u16(&w);
	if (len != n || len > DHCP_FO_MSG_MAX)
		return fail(err, "length field does not match the message");
	m->type = core_wire_read_u8(&w);
	offset = core_wire_read_u8(&w);
	m->time = core_wire_read_u32(&w);
	m->xid = core_wire_read_u32(&w);
	if (offset < DHCP_FO_HDR_LEN || offset > len)
		return fail(err, "payload offset outside the message");
	core_wire_seek(&w, offset);
	ok = allowed(m->type);
	while (core_wire_avail(&w)) {
		unsigned code, olen;

		if (core_wire_avail(&w) < 4)
			return fail(err, "truncated option header");
		code = core_wire_read_u16(&w);
		olen = core_wire_read_u16(&w);
		if (olen > core_wire_avail(&w))
			return fail(err, "option longer than the message");
		if (m->type == 0 || m->type > DHCP_FO_TYPE_MAX)
			return fail(err, "options in a message of unknown type");
		if (code == DHCP_FO_DIGEST) {
			if (olen != core_wire_avail(&w))
				return fail(err, "message-digest is not the last option");
			core_wire_skip(&w, olen);
			m->skipped++;
			continue;
		}
		if (code == 0 || code > DHCP_FO_OPT_MAX || !(ok & BIT(code)) ||
		    opts[code].kind == K_NONE) {
			core_wire_skip(&w, olen);
			m->skipped++;
			continue;
		}
		if (m->present & BIT(code))
			return fail(err, "repeated option");
		if (opts[code].kind != K_BYTES && olen != kind_size[opts[code].kind])
			return fail(err, "fixed-size option of the wrong size");
		store(m, code, &w, (uint16_t)olen);
		m->present |= BIT(code);
	}
	return 0;
}

static void put(const struct dhcp_fo_msg *m, unsigned code, struct core_wire *w)
{
	const void *f = (const char *)m + opts[code].off;
	const struct dhcp_fo_bytes *b = f;

	core_wire_write_u16(w, (uint16_t)code);
	switch (opts[code].kind) {
	case K_U8:
		core_wire_write_u16(w, 1);
		core_wire_write_u8(w, *(const uint8_t *)f);
		break;
	case K_U16:
		core_wire_write_u16(w, 2);
		core_wire_write_u16(w, *(const uint16_t *)f);
		break;
	case K_U32:
	case K_IP:
		core_wire_write_u16(w, 4);
		core_wire_write_u32(w, *(const uint32_t *)f);
		break;
	case K_BYTES:
		core_wire_write_u16(w, b->len);
		core_wire_write(w, b->p, b->len);
		break;
	case K_NONE:
		break;
	}
}

int dhcp_fo_encode(const struct dhcp_fo_msg *m, uint8_t *buf, size_t cap)
{
	struct core_wire w;

	if (m->type == 0 || m->type > DHCP_FO_TYPE_MAX)
		return -EINVAL;
	for (unsigned code = 0; code <= DHCP_FO_OPT_MAX; code++)
		if ((m->present & BIT(code)) &&
		    (!(allowed(m->type) & BIT(code)) || opts[code].kind == K_NONE))
			return -EINVAL;
	if (m->present & ~(uint32_t)((BIT(DHCP_FO_OPT_MAX) << 1) - 1))
		return -EINVAL;
	core_wire_init(&w, buf, cap < DHCP_FO_MSG_MAX ? cap : DHCP_FO_MSG_MAX);
	core_wire_write_u16(&w, 0); /* the length, below */
	core_wire_write_u8(&w, m->type);
	core_wire_write_u8(&w, DHCP_FO_HDR_LEN);
	core_wire_write_u32(&w, m->time);
	core_wire_write_u32(&w, m->xid);
	for (const uint8_t *o = order[m->type]; *o; o++)
		if (m->present & BIT(*o))
			put(m, *o, &w);
	if (w.err)
		return CORE_ETOOBIG;
	buf[0] = (uint8_t)(w.pos >> 8);
	buf[1] = (uint8_t)w.pos;
	return (int)w.pos;
}

const char *dhcp_fo_type_name(unsigned type)
{
	static const char *const names[] = {
	    NULL,       "POOLREQ", "POOLRESP", "BNDUPD", "BNDACK",  "CONNECT",   "CONNECTACK",
	    "UPDREQALL", "UPDDONE", "UPDREQ",   "STATE",  "CONTACT", "DISCONNECT"};

	return type >= 1 && type <= DHCP_FO_TYPE_MAX ? names[type] : "?";
}

const char *dhcp_fo_state_name(unsigned state)
{
	static const char *const names[] = {"unknown-state",
					    "startup",
					    "normal",
					    "communications-interrupted",
					    "partner-down",
					    "potential-conflict",
					    "recover",
					    "paused",
					    "shutdown",
					    "recover-done",
					    "resolution-interrupted",
					    "conflict-done"};

	if (state == DHCP_FO_S_RECOVER_WAIT)
		return "recover-wait";
	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

const char *dhcp_fo_reject_name(unsigned reason)
{
	static const char *const names[] = {NULL,
					    "illegal IP address",
					    "fatal conflict",
					    "missing binding information",
					    "connection rejected, time mismatch too great",
					    "connection rejected, invalid MCLT",
					    "connection rejected, unknown reason",
					    "connection rejected, duplicate connection",
					    "connection rejected, invalid failover partner",
					    "TLS not supported",
					    "TLS supported but not configured",
					    "TLS required but not supported by partner",
					    "message digest not supported",
					    "message digest not configured",
					    "protocol version mismatch",
					    "outdated binding information",
					    "less critical binding information",
					    "no traffic within sufficient time",
					    "hash bucket assignment conflict",
					    "IP not reserved on this server"};

	if (reason == DHCP_FO_R_UNKNOWN)
		return "unknown reason";
	return reason >= 1 && reason < sizeof(names) / sizeof(names[0]) ? names[reason] : "?";
}
