/* SPDX-License-Identifier: MPL-2.0 */
/* DHCPv4/BOOTP wire codec: bounded decode into struct dhcp_packet, encode of struct dhcp_out. */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "core_assert.h"
#include "core_wire.h"
#include "dhcp_packet.h"

#define OPT_PAD          0
#define OPT_OVERLOAD     52
#define OPT_MSG_TYPE     53
#define OPT_SERVER_ID    54
#define OPT_AGENT        82
#define OPT_END          255
#define OPT_INSTANCE_MAX 255 /* one instance's value; longer ones are split (RFC 3396) */

#define OFF_SNAME      44
#define OFF_FILE       108
#define OVERLOAD_FILE  1
#define OVERLOAD_SNAME 2

#define AREAS_MAX 3 /* options field, file, sname */

static const uint8_t dhcp_cookie[4] = {99, 130, 83, 99};

const char *dhcp_msg_name(int type)
{
	static const char *const names[DHCP_MSG_MAX] = {
	    [DHCP_MSG_NONE] = "BOOTP",     [DHCPDISCOVER] = "DHCPDISCOVER",
	    [DHCPOFFER] = "DHCPOFFER",     [DHCPREQUEST] = "DHCPREQUEST",
	    [DHCPDECLINE] = "DHCPDECLINE", [DHCPACK] = "DHCPACK",
	    [DHCPNAK] = "DHCPNAK",         [DHCPRELEASE] = "DHCPRELEASE",
	    [DHCPINFORM] = "DHCPINFORM",
	};

	if (type < 0 || type >= DHCP_MSG_MAX)
		return "UNKNOWN";
	return names[type];
}

const char *dhcp_drop_name(enum dhcp_drop d)
{
	static const char *const names[DHCP_DROP_MAX] = {
	    [DHCP_DROP_NONE] = "none",
	    [DHCP_DROP_TRUNCATED] = "truncated",
	    [DHCP_DROP_OVERSIZE] = "oversize",
	    [DHCP_DROP_BAD_OP] = "bad_op",
	    [DHCP_DROP_BAD_HTYPE] = "bad_htype",
	    [DHCP_DROP_BAD_HLEN] = "bad_hlen",
	    [DHCP_DROP_NO_COOKIE] = "no_cookie",
	    [DHCP_DROP_BAD_OPTION] = "bad_option",
	    [DHCP_DROP_BAD_OVERLOAD] = "bad_overload",
	    [DHCP_DROP_BAD_MSGTYPE] = "bad_msgtype",
	    [DHCP_DROP_NO_END] = "no_end",
	};

	if ((unsigned)d >= DHCP_DROP_MAX)
		return "unknown";
	return names[d];
}

/* ---- decode ---- */

/* One place options may live: the options field, or file/sname under overload. */
struct opt_area {
	const uint8_t *buf;
	size_t len;
	bool main; /* only the options field may carry option 52 */
};

static inline bool opt_present(const struct dhcp_packet *p, uint8_t code)
{
	return p->present[code >> 5] & (UINT32_C(1) << (code & 31));
}

/*
 * Walks one area and returns the next option (code, value, len), skipping PAD. Returns 1 for
 * an option, 0 at END or at the end of the area (*no_end set), -1 when a length runs past the
 * area. Every read goes through the cursor, so a malformed area cannot be overrun.
 */
static int area_next(struct core_wire *w, uint8_t *code, const uint8_t **val, uint8_t *len,
		     bool *no_end)
{
	while (core_wire_avail(w) > 0) {
		*code = core_wire_read_u8(w);
		if (*code == OPT_PAD)
			continue;
		if (*code == OPT_END)
			return 0;
		*len = core_wire_read_u8(w);
		*val = core_wire_read_ptr(w, *len);
		return w->err ? -1 : 1;
	}
	*no_end = true;
	return 0;
}

/*
 * Pass 1 over an area: validates lengths, marks codes present and sums each code's length
 * in opt_len (a code's opt_len is initialised when its bit is first set, so the arrays need
 * no clearing). Remembers option 52's value byte for the caller.
 */
static int area_scan(struct dhcp_packet *p, const struct opt_area *a, size_t *total,
		     const uint8_t **overload)
{
	struct core_wire w;
	const uint8_t *val = NULL;
	uint8_t code = 0, len = 0;
	bool no_end = false;
	int rc;

	core_wire_init_ro(&w, a->buf, a->len);
	while ((rc = area_next(&w, &code, &val, &len, &no_end)) > 0) {
		if (code == OPT_OVERLOAD) {
			/* Inside file/sname, 52 is ignored: overload cannot chain. */
			if (!a->main)
				continue;
			if (len > 0)
				*overload = val;
		}
		if (opt_present(p, code)) {
			p->opt_len[code] += len;
		} else {
			p->present[code >> 5] |= UINT32_C(1) << (code & 31);
			p->opt_len[code] = len;
		}
		*total += len;
	}
	if (no_end)
		p->no_end = 1;
	return rc;
}

/* Lays the codes out in optbuf in code order, and resets opt_len for pass 2 to refill. */
static void assign_offsets(struct dhcp_packet *p)
{
	uint16_t off = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(p->present); i++) {
		uint32_t bits = p->present[i];

		while (bits) {
			unsigned code = i * 32 + (unsigned)__builtin_ctz(bits);

			bits &= bits - 1;
			p->opt_off[code] = off;
			off += p->opt_len[code];
			p->opt_len[code] = 0;
		}
	}
	p->optbuf_len = off;
}

/* Pass 2: appends each instance to its code's slot, in area order (RFC 3396 concatenation). */
static void area_copy(struct dhcp_packet *p, const struct opt_area *a)
{
	struct core_wire w;
	const uint8_t *val = NULL;
	uint8_t code = 0, len = 0;
	bool no_end = false;

	core_wire_init_ro(&w, a->buf, a->len);
	while (area_next(&w, &code, &val, &len, &no_end) > 0) {
		size_t at;

		if (code == OPT_OVERLOAD && !a->main)
			continue;
		at = (size_t)p->opt_off[code] + p->opt_len[code];
		/* Pass 1 sized every slot from these same bytes. */
		ASSERT(at + len <= p->optbuf_len);
		memcpy(p->optbuf + at, val, len);
		p->opt_len[code] += len;
	}
	ASSERT(w.err == 0);
}

/* Validates option 52 and adds the file/sname areas it names, file first (RFC 2131 4.1). */
static enum dhcp_drop add_overload_areas(struct dhcp_packet *p, const uint8_t *buf,
					 const uint8_t *ovl, struct opt_area *areas, size_t *n)
{
	if (!opt_present(p, OPT_OVERLOAD))
		return DHCP_DROP_NONE;
	if (p->opt_len[OPT_OVERLOAD] != 1 || !ovl || *ovl < 1 || *ovl > 3)
		return DHCP_DROP_BAD_OVERLOAD;
	p->overload = *ovl;
	if (p->overload & OVERLOAD_FILE) {
		areas[(*n)++] = (struct opt_area){buf + OFF_FILE, sizeof(p->file), false};
		memset(p->file, 0, sizeof(p->file));
	}
	if (p->overload & OVERLOAD_SNAME) {
		areas[(*n)++] = (struct opt_area){buf + OFF_SNAME, sizeof(p->sname), false};
		memset(p->sname, 0, sizeof(p->sname));
	}
	return DHCP_DROP_NONE;
}

static enum dhcp_drop decode_msg_type(struct dhcp_packet *p)
{
	uint8_t t;

	p->msg_type = DHCP_MSG_NONE;
	if (!opt_present(p, OPT_MSG_TYPE))
		return DHCP_DROP_NONE;
	if (p->opt_len[OPT_MSG_TYPE] != 1)
		return DHCP_DROP_BAD_MSGTYPE;
	t = p->optbuf[p->opt_off[OPT_MSG_TYPE]];
	if (t < DHCPDISCOVER || t >= DHCP_MSG_MAX)
		return DHCP_DROP_BAD_MSGTYPE;
	p->msg_type = t;
	return DHCP_DROP_NONE;
}

/* buf[0..len) is known to hold at least the fixed part and the cookie. */
static enum dhcp_drop decode_options(struct dhcp_packet *p, const uint8_t *buf, size_t len)
{
	struct opt_area areas[AREAS_MAX];
	const uint8_t *ovl = NULL;
	size_t n = 0, total = 0;
	enum dhcp_drop d;

	memset(p->present, 0, sizeof(p->present));
	p->overload = 0;
	p->no_end = 0;
	areas[n++] = (struct opt_area){buf + DHCP_MIN_LEN, len - DHCP_MIN_LEN, true};
	if (area_scan(p, &areas[0], &total, &ovl) < 0)
		return DHCP_DROP_BAD_OPTION;
	d = add_overload_areas(p, buf, ovl, areas, &n);
	if (d != DHCP_DROP_NONE)
		return d;
	for (size_t i = 1; i < n; i++)
		if (area_scan(p, &areas[i], &total, &ovl) < 0)
			return DHCP_DROP_BAD_OPTION;
	/* Option bytes are a subset of the datagram, so this cannot fail; keep the bound. */
	if (total > sizeof(p->optbuf))
		return DHCP_DROP_BAD_OPTION;
	assign_offsets(p);
	for (size_t i = 0; i < n; i++)
		area_copy(p, &areas[i]);
	return decode_msg_type(p);
}

static enum dhcp_drop decode_header(struct dhcp_packet *p, struct core_wire *w)
{
	p->op = core_wire_read_u8(w);
	p->htype = core_wire_read_u8(w);
	p->hlen = core_wire_read_u8(w);
	p->hops = core_wire_read_u8(w);
	p->xid = core_wire_read_u32(w);
	p->secs = core_wire_read_u16(w);
	p->flags = core_wire_read_u16(w);
	p->ciaddr = core_wire_read_u32(w);
	p->yiaddr = core_wire_read_u32(w);
	p->siaddr = core_wire_read_u32(w);
	p->giaddr = core_wire_read_u32(w);
	core_wire_read(w, p->chaddr, sizeof(p->chaddr));
	core_wire_read(w, p->sname, sizeof(p->sname));
	core_wire_read(w, p->file, sizeof(p->file));
	if (w->err)
		return DHCP_DROP_TRUNCATED;
	if (p->op != 1 && p->op != 2)
		return DHCP_DROP_BAD_OP;
	if (p->htype == 0)
		return DHCP_DROP_BAD_HTYPE;
	if (p->hlen > sizeof(p->chaddr))
		return DHCP_DROP_BAD_HLEN;
	return DHCP_DROP_NONE;
}

static enum dhcp_drop decode(struct dhcp_packet *p, const uint8_t *buf, size_t len)
{
	struct core_wire w;
	const uint8_t *cookie;
	enum dhcp_drop d;

	if (len > DHCP_PACKET_MAX)
		return DHCP_DROP_OVERSIZE;
	if (len < DHCP_MIN_LEN)
		return DHCP_DROP_TRUNCATED;
	core_wire_init_ro(&w, buf, len);
	d = decode_header(p, &w);
	if (d != DHCP_DROP_NONE)
		return d;
	cookie = core_wire_read_ptr(&w, sizeof(dhcp_cookie));
	if (!cookie || memcmp(cookie, dhcp_cookie, sizeof(dhcp_cookie)) != 0)
		return DHCP_DROP_NO_COOKIE;
	return decode_options(p, buf, len);
}

int dhcp_packet_decode(struct dhcp_packet *p, const void *buf, size_t len, enum dhcp_drop *why)
{
	enum dhcp_drop d = buf ? decode(p, buf, len) : DHCP_DROP_TRUNCATED;

	if (why)
		*why = d;
	return d == DHCP_DROP_NONE ? 0 : CORE_EMALFORMED;
}

const uint8_t *dhcp_packet_opt(const struct dhcp_packet *p, uint8_t code, size_t *len)
{
	if (!opt_present(p, code))
		return NULL;
	if (len)
		*len = p->opt_len[code];
	return p->optbuf + p->opt_off[code];
}

/* ---- reply construction ---- */

void dhcp_out_init(struct dhcp_out *o)
{
	/* Everything before the option table; opts[] and data[] are valid only up to the counts. */
	memset(o, 0, offsetof(struct dhcp_out, opts_n));
	o->opts_n = 0;
	o->data_used = 0;
}

static int out_find(const struct dhcp_out *o, uint8_t code)
{
	for (unsigned i = 0; i < o->opts_n; i++)
		if (o->opts[i].code == code)
			return (int)i;
	return -1;
}

bool dhcp_out_has(const struct dhcp_out *o, uint8_t code)
{
	return out_find(o, code) >= 0;
}

int dhcp_out_add(struct dhcp_out *o, uint8_t code, const void *data, size_t len)
{
	int i;

	if (code == OPT_PAD || code == OPT_END || code == OPT_OVERLOAD)
		return -EINVAL;
	if (len > DHCP_OUT_DATA_MAX)
		return CORE_ESPACE;
	i = out_find(o, code);
	if (i >= 0 && len <= o->opts[i].len) {
		/* memmove: the caller may pass bytes of o's own data area. */
		if (len)
			memmove(o->data + o->opts[i].off, data, len);
		o->opts[i].len = (uint16_t)len;
		return 0;
	}
	if (len > (size_t)DHCP_OUT_DATA_MAX - o->data_used)
		return CORE_ESPACE;
	if (i < 0) {
		if (o->opts_n >= DHCP_OUT_OPTS_MAX)
			return CORE_ESPACE;
		i = o->opts_n++;
		o->opts[i].code = code;
	}
	if (len)
		memmove(o->data + o->data_used, data, len);
	o->opts[i].off = o->data_used;
	o->opts[i].len = (uint16_t)len;
	o->data_used += (uint16_t)len;
	return 0;
}

/* ---- encode ---- */

/* An area being filled; one byte is always kept for its END. */
struct enc_area {
	struct core_wire w;
	uint8_t overload_bit; /* 0 for the options field */
	bool used;
};

struct enc {
	struct enc_area a[AREAS_MAX]; /* options field, then file, then sname */
	unsigned n;
	bool has_ovl;
	size_t ovl_pos; /* offset of option 52's value in the options field */
};

static void enc_area_open(struct enc *e, uint8_t *at, size_t len, uint8_t overload_bit)
{
	struct enc_area *a = &e->a[e->n++];

	core_wire_init(&a->w, at, len);
	a->overload_bit = overload_bit;
	a->used = false;
}

static size_t area_room(const struct enc_area *a)
{
	size_t avail = core_wire_avail(&a->w);

	return avail > 0 ? avail - 1 : 0;
}

/* Bytes an option of len takes once split in instances of at most 255. */
static size_t opt_wire_size(size_t len)
{
	size_t instances = len == 0 ? 1 : (len + OPT_INSTANCE_MAX - 1) / OPT_INSTANCE_MAX;

	return len + 2 * instances;
}

/* How many value bytes of a long option fit in room bytes, as full and partial instances. */
static size_t split_capacity(size_t room)
{
	size_t full = room / (OPT_INSTANCE_MAX + 2), rest = room % (OPT_INSTANCE_MAX + 2);

	return full * OPT_INSTANCE_MAX + (rest > 2 ? rest - 2 : 0);
}

static void put_instance(struct enc_area *a, uint8_t code, const uint8_t *v, size_t len)
{
	ASSERT(len <= OPT_INSTANCE_MAX && 2 + len <= area_room(a));
	core_wire_write_u8(&a->w, code);
	core_wire_write_u8(&a->w, (uint8_t)len);
	core_wire_write(&a->w, v, len);
	a->used = true;
	ASSERT(a->w.err == 0);
}

/*
 * Places one option in the first of areas[0..n) that holds it whole (a short option is never
 * split, for clients that do not concatenate). Returns false when none does.
 */
static bool place_short(struct enc *e, unsigned n, uint8_t code, const uint8_t *v, size_t len)
{
	for (unsigned i = 0; i < n; i++) {
		if (area_room(&e->a[i]) >= 2 + len) {
			put_instance(&e->a[i], code, v, len);
			return true;
		}
	}
	return false;
}

/* Splits a long option over areas[0..n) in order, filling each; all or nothing. */
static bool place_long(struct enc *e, unsigned n, uint8_t code, const uint8_t *v, size_t len)
{
	size_t cap = 0;

	for (unsigned i = 0; i < n; i++)
		cap += split_capacity(area_room(&e->a[i]));
	if (cap < len)
		return false;
	for (unsigned i = 0; i < n && len > 0; i++) {
		struct enc_area *a = &e->a[i];

		while (len > 0 && area_room(a) > 2) {
			size_t chunk = area_room(a) - 2;

			if (chunk > OPT_INSTANCE_MAX)
				chunk = OPT_INSTANCE_MAX;
			if (chunk > len)
				chunk = len;
			put_instance(a, code, v, chunk);
			v += chunk;
			len -= chunk;
		}
	}
	ASSERT(len == 0);
	return true;
}

static bool place(struct enc *e, const struct dhcp_out *o, unsigned idx, bool main_only)
{
	uint8_t code = o->opts[idx].code;
	const uint8_t *v = o->data + o->opts[idx].off;
	size_t len = o->opts[idx].len;
	unsigned n = main_only ? 1 : e->n;

	if (len <= OPT_INSTANCE_MAX)
		return place_short(e, n, code, v, len);
	return place_long(e, n, code, v, len);
}

static bool all_zero(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

/* Opens the areas: file and sname only when overflow is needed and the field is free. */
static void enc_open(struct enc *e, const struct dhcp_out *o, uint8_t *buf, size_t limit)
{
	size_t need = 1; /* END */

	for (unsigned i = 0; i < o->opts_n; i++)
		need += opt_wire_size(o->opts[i].len);
	e->n = 0;
	e->has_ovl = false;
	e->ovl_pos = 0;
	enc_area_open(e, buf + DHCP_MIN_LEN, limit - DHCP_MIN_LEN, 0);
	if (DHCP_MIN_LEN + need <= limit)
		return;
	if (all_zero(o->file, sizeof(o->file)))
		enc_area_open(e, buf + OFF_FILE, sizeof(o->file), OVERLOAD_FILE);
	if (all_zero(o->sname, sizeof(o->sname)))
		enc_area_open(e, buf + OFF_SNAME, sizeof(o->sname), OVERLOAD_SNAME);
}

/*
 * Writes 53, 54 (required), a placeholder 52 when overflow areas are open, then 82, all in
 * the options field. Returns CORE_ESPACE when 53 or 54 does not fit.
 */
static int enc_priority(struct enc *e, const struct dhcp_out *o, unsigned *omitted)
{
	static const uint8_t overload_none[1] = {0};
	int i;

	i = out_find(o, OPT_MSG_TYPE);
	if (i >= 0 && !place(e, o, (unsigned)i, true))
		return CORE_ESPACE;
	i = out_find(o, OPT_SERVER_ID);
	if (i >= 0 && !place(e, o, (unsigned)i, true))
		return CORE_ESPACE;
	/* Without room for 52 itself the overflow areas cannot be announced: close them. */
	if (e->n > 1 && area_room(&e->a[0]) < 3)
		e->n = 1;
	if (e->n > 1) {
		e->has_ovl = true;
		e->ovl_pos = e->a[0].w.pos + 2;
		put_instance(&e->a[0], OPT_OVERLOAD, overload_none, 1);
	}
	i = out_find(o, OPT_AGENT);
	if (i >= 0 && !place(e, o, (unsigned)i, true))
		(*omitted)++;
	return 0;
}

/* Ends every used area; fills in option 52, or blanks it to PADs if nothing overflowed. */
static void enc_close(struct enc *e)
{
	uint8_t overload = 0;

	for (unsigned i = 0; i < e->n; i++) {
		if (i == 0 || e->a[i].used)
			core_wire_write_u8(&e->a[i].w, OPT_END);
		ASSERT(e->a[i].w.err == 0);
	}
	for (unsigned i = 1; i < e->n; i++)
		if (e->a[i].used)
			overload |= e->a[i].overload_bit;
	if (!e->has_ovl)
		return;
	/* Patched in place: the value was unknown when 52 was written ahead of the rest. */
	if (overload)
		e->a[0].w.buf[e->ovl_pos] = overload;
	else
		memset(e->a[0].w.buf + e->ovl_pos - 2, OPT_PAD, 3);
}

static void enc_header(const struct dhcp_out *o, struct core_wire *w)
{
	core_wire_write_u8(w, o->op);
	core_wire_write_u8(w, o->htype);
	core_wire_write_u8(w, o->hlen);
	core_wire_write_u8(w, o->hops);
	core_wire_write_u32(w, o->xid);
	core_wire_write_u16(w, o->secs);
	core_wire_write_u16(w, o->flags);
	core_wire_write_u32(w, o->ciaddr);
	core_wire_write_u32(w, o->yiaddr);
	core_wire_write_u32(w, o->siaddr);
	core_wire_write_u32(w, o->giaddr);
	core_wire_write(w, o->chaddr, sizeof(o->chaddr));
	core_wire_write(w, o->sname, sizeof(o->sname));
	core_wire_write(w, o->file, sizeof(o->file));
	core_wire_write(w, dhcp_cookie, sizeof(dhcp_cookie));
}

int dhcp_out_encode(const struct dhcp_out *o, uint8_t *buf, size_t cap, size_t max_len,
		    unsigned *omitted)
{
	struct core_wire w;
	struct enc e;
	unsigned dropped = 0;
	size_t limit, end;
	int rc;

	if (cap < DHCP_BOOTP_MIN_LEN)
		return CORE_ESPACE;
	limit = max_len < DHCP_BOOTP_MIN_LEN ? DHCP_BOOTP_MIN_LEN : max_len;
	if (limit > DHCP_PACKET_MAX)
		limit = DHCP_PACKET_MAX;
	if (limit > cap)
		limit = cap;
	core_wire_init(&w, buf, limit);
	enc_header(o, &w);
	ASSERT(w.err == 0 && w.pos == DHCP_MIN_LEN);
	enc_open(&e, o, buf, limit);
	rc = enc_priority(&e, o, &dropped);
	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < o->opts_n; i++) {
		uint8_t code = o->opts[i].code;

		if (code == OPT_MSG_TYPE || code == OPT_SERVER_ID || code == OPT_AGENT)
			continue;
		if (!place(&e, o, i, false))
			dropped++;
	}
	enc_close(&e);
	end = DHCP_MIN_LEN + e.a[0].w.pos;
	if (end < DHCP_BOOTP_MIN_LEN) {
		memset(buf + end, 0, DHCP_BOOTP_MIN_LEN - end);
		end = DHCP_BOOTP_MIN_LEN;
	}
	if (omitted)
		*omitted = dropped;
	return (int)end;
}
