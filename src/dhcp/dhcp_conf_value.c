/* SPDX-License-Identifier: MPL-2.0 */
/* dhcpd.conf values: addresses, numbers, booleans, and option values encoded to wire bytes. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core_assert.h"
#include "core_wire.h"
#include "dhcp_conf_int.h"

static int hexval_digit(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

static bool looks_like_hostname(const char *s)
{
	for (; *s; s++)
		if (isalpha((unsigned char)*s))
			return true;
	return false;
}

/* A DNS name as ISC's parser takes one: labels of letters, digits, '-' and '_', 1..63 bytes. */
static bool is_hostname(const char *s)
{
	size_t label = 0, total = 0;

	if (!looks_like_hostname(s))
		return false;
	for (; *s; s++, total++) {
		unsigned char c = (unsigned char)*s;

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++label > 63)
				return false;
		} else {
			return false;
		}
	}
	return total <= 253;
}

int conf_parse_ip_or_name(struct conf_parser *p, const struct conf_tok *t, uint32_t *out,
			  const char **name)
{
	*name = NULL;
	if (t->type != CT_WORD || !is_hostname(t->text))
		return conf_parse_ip(p, t, out);
	*name = core_arena_strdup(&p->c->arena, t->text);
	*out = 0;
	return *name ? 0 : conf_fail(p, NULL, -ENOMEM, "out of memory");
}

int conf_parse_ip(struct conf_parser *p, const struct conf_tok *t, uint32_t *out)
{
	char buf[64];
	uint32_t v = 0;
	int parts = 0;
	const char *s = t->text;

	if (t->type != CT_WORD)
		goto bad;
	/* Strictly four decimal parts: "10.1" or "010.0.0.1" style shorthands are not addresses. */
	while (parts < 4) {
		unsigned n = 0, digits = 0;

		while (*s >= '0' && *s <= '9' && digits < 4) {
			n = n * 10 + (unsigned)(*s++ - '0');
			digits++;
		}
		if (!digits || n > 255)
			goto bad;
		v = v << 8 | n;
		parts++;
		if (parts < 4 && *s++ != '.')
			goto bad;
	}
	if (*s)
		goto bad;
	*out = v;
	return 0;
bad:
	if (t->type == CT_WORD && is_hostname(t->text))
		return conf_fail(p, &t->pos, CORE_EUNSUPP,
				 "host name '%s' where an IP address is expected: write the "
				 "address (as ISC, names are taken only in option values, "
				 "fixed-address, next-server and server-identifier)",
				 t->text);
	return conf_fail(p, &t->pos, CORE_EPARSE, "expected an IP address, got %s",
			 conf_tok_show(t, buf, sizeof(buf)));
}

/* Decimal or 0x-hex, as ISC reads numbers; optional '-' when neg is not NULL. */
static int parse_num(const struct conf_tok *t, uint64_t max, uint64_t *out, bool *neg)
{
	const char *s = t->text;
	uint64_t v = 0;
	int base = 10, d;

	if (t->type != CT_WORD)
		return -1;
	if (neg) {
		*neg = *s == '-';
		s += *neg;
	}
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && s[2]) {
		base = 16;
		s += 2;
	}
	if (!*s)
		return -1;
	for (; *s; s++) {
		d = hexval_digit(*s);
		if (d < 0 || d >= base)
			return -1;
		v = v * (uint64_t)base + (uint64_t)d;
		if (v > max)
			return -1;
	}
	*out = v;
	return 0;
}

int conf_parse_u32(struct conf_parser *p, const struct conf_tok *t, uint32_t max, uint32_t *out)
{
	char buf[64];
	uint64_t v;

	if (parse_num(t, max, &v, NULL))
		return conf_fail(p, &t->pos, CORE_EPARSE, "expected a number from 0 to %u, got %s",
				 (unsigned)max, conf_tok_show(t, buf, sizeof(buf)));
	*out = (uint32_t)v;
	return 0;
}

int conf_parse_bool(struct conf_parser *p, const struct conf_tok *t, bool *out)
{
	char buf[64];

	if (conf_tok_is(t, "true") || conf_tok_is(t, "on")) {
		*out = true;
		return 0;
	}
	if (conf_tok_is(t, "false") || conf_tok_is(t, "off")) {
		*out = false;
		return 0;
	}
	return conf_fail(p, &t->pos, CORE_EPARSE, "expected true, false, on or off, got %s",
			 conf_tok_show(t, buf, sizeof(buf)));
}

int conf_parse_bytes(struct conf_parser *p, const struct conf_tok *t, uint8_t *out, size_t cap,
		     size_t *len)
{
	char buf[64];
	const char *s = t->text;
	size_t n = 0;

	if (t->type == CT_STRING) {
		if (t->len > cap)
			return conf_fail(p, &t->pos, CORE_ETOOBIG, "value longer than %zu bytes",
					 cap);
		memcpy(out, t->text, t->len);
		*len = t->len;
		return 0;
	}
	if (t->type != CT_WORD)
		goto bad;
	/* Colon-separated bytes of one or two hex digits each: 1:a:0c. */
	for (;;) {
		int hi = hexval_digit((unsigned char)*s), lo;

		if (hi < 0)
			goto bad;
		s++;
		lo = hexval_digit((unsigned char)*s);
		if (lo >= 0)
			s++;
		if (n >= cap)
			return conf_fail(p, &t->pos, CORE_ETOOBIG, "value longer than %zu bytes",
					 cap);
		out[n++] = (uint8_t)(lo >= 0 ? hi * 16 + lo : hi);
		if (!*s)
			break;
		if (*s++ != ':')
			goto bad;
	}
	*len = n;
	return 0;
bad:
	return conf_fail(p, &t->pos, CORE_EPARSE,
			 "expected a quoted string or colon-separated hex bytes, got %s",
			 conf_tok_show(t, buf, sizeof(buf)));
}

/* A compiled value format: items, each optionally optional, and how the value repeats. */
struct fmt_item {
	char code;
	bool compressed, optional;
};

struct fmt {
	struct fmt_item it[CONF_FORMAT_MAX];
	int n;
	bool array_all, array_last;
};

static void fmt_compile(const char *f, struct fmt *out)
{
	memset(out, 0, sizeof(*out));
	for (; *f; f++) {
		switch (*f) {
		case 'c':
			ASSERT(out->n > 0);
			out->it[out->n - 1].compressed = true;
			break;
		case 'o':
			ASSERT(out->n > 0);
			out->it[out->n - 1].optional = true;
			break;
		case 'A':
			out->array_all = true;
			break;
		case 'a':
			out->array_last = true;
			break;
		default:
			ASSERT(strchr("IlLsSbBftXd6DZ", *f) && out->n < CONF_FORMAT_MAX);
			out->it[out->n++].code = *f;
			break;
		}
	}
}

/* Suffixes already written, for RFC 1035 compression of a domain list. */
struct dn_table {
	char store[CONF_OPTVAL_MAX + 256];
	size_t store_n;
	struct {
		const char *suffix;
		size_t off;
	} e[128];
	size_t n;
};

static int dn_find(const struct dn_table *d, const char *suffix)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcasecmp(d->e[i].suffix, suffix))
			return (int)i;
	return -1;
}

/* Writes one name (text form) as labels, pointing at an earlier suffix when compressing. */
static int dn_write(struct conf_parser *p, const struct conf_tok *t, struct core_wire *w,
		    struct dn_table *d, bool compress)
{
	size_t nlen = t->len, total = 0;
	char *name;

	if (nlen && t->text[nlen - 1] == '.')
		nlen--;
	if (!nlen || memchr(t->text, '\0', nlen) || d->store_n + nlen + 1 > sizeof(d->store))
		return conf_fail(p, &t->pos, CORE_EPARSE, "invalid domain name");
	name = d->store + d->store_n;
	memcpy(name, t->text, nlen);
	name[nlen] = '\0';
	d->store_n += nlen + 1;
	for (char *lab = name; lab;) {
		char *dot = strchr(lab, '.');
		size_t ll = dot ? (size_t)(dot - lab) : strlen(lab);
		int hit = compress ? dn_find(d, lab) : -1;

		if (hit >= 0) {
			core_wire_write_u16(w, (uint16_t)(0xc000 | d->e[hit].off));
			return 0;
		}
		total += ll + 1;
		if (ll == 0 || ll > 63 || total + 1 > 255)
			return conf_fail(p, &t->pos, CORE_EPARSE,
					 "invalid domain name '%s': empty or over-long label",
					 name);
		if (compress && d->n < ARRAY_SIZE(d->e) && w->pos < 0x3fff) {
			d->e[d->n].suffix = lab;
			d->e[d->n++].off = w->pos;
		}
		core_wire_write_u8(w, (uint8_t)ll);
		core_wire_write(w, lab, ll);
		lab = dot ? dot + 1 : NULL;
	}
	core_wire_write_u8(w, 0);
	return 0;
}

/* A comma-separated list of quoted domain names (ISC's domain-list). */
static int encode_domain_list(struct conf_parser *p, struct core_wire *w, bool compress)
{
	struct dn_table *d = calloc(1, sizeof(*d));
	char buf[64];
	int r;

	if (!d)
		return conf_fail(p, NULL, -ENOMEM, "out of memory");
	for (;;) {
		r = conf_next(p);
		if (!r && p->tok.type != CT_STRING)
			r = conf_fail(p, &p->tok.pos, CORE_EPARSE,
				      "expected a quoted domain name, got %s",
				      conf_tok_show(&p->tok, buf, sizeof(buf)));
		if (!r)
			r = dn_write(p, &p->tok, w, d, compress);
		if (!r)
			r = conf_peek(p);
		if (r || !conf_tok_punct(&p->peek, ','))
			break;
		r = conf_next(p);
		if (r)
			break;
	}
	free(d);
	return r;
}

/*
 * Like ISC, any N-bit integer field takes -2^(N-1) .. 2^N-1 whatever its sign: values are
 * stored as two's complement, and Debian's "array of integer 8" routes carry bytes > 127.
 */
static int encode_int(struct conf_parser *p, const struct conf_tok *t, char code,
		      struct core_wire *w)
{
	char buf[64];
	int bits = (code == 'B' || code == 'b') ? 8 : (code == 'S' || code == 's') ? 16 : 32;
	uint64_t mag, max = (1ull << bits) - 1;
	bool neg = false;

	if (parse_num(t, max, &mag, &neg) || (neg && mag > (1ull << (bits - 1))))
		return conf_fail(p, &t->pos, CORE_EPARSE, "expected %s %d-bit integer, got %s",
				 bits == 8 ? "an" : "a", bits, conf_tok_show(t, buf, sizeof(buf)));
	mag = neg ? (uint64_t)0 - mag : mag;
	if (bits == 8)
		core_wire_write_u8(w, (uint8_t)mag);
	else if (bits == 16)
		core_wire_write_u16(w, (uint16_t)mag);
	else
		core_wire_write_u32(w, (uint32_t)mag);
	return 0;
}

static int encode_text(struct conf_parser *p, const struct conf_tok *t, char code,
		       struct core_wire *w)
{
	uint8_t bytes[CONF_TOKEN_MAX];
	struct in6_addr a6;
	char buf[64];
	size_t n = 0;
	int r;

	switch (code) {
	case 't':
		if (!conf_tok_text(t))
			break;
		core_wire_write(w, t->text, t->len);
		return 0;
	case 'd':
		if (t->type != CT_STRING && t->type != CT_WORD)
			break;
		core_wire_write(w, t->text, t->len);
		return 0;
	case 'X':
		r = conf_parse_bytes(p, t, bytes, sizeof(bytes), &n);
		if (!r)
			core_wire_write(w, bytes, n);
		return r;
	case '6':
		if (t->type != CT_WORD || inet_pton(AF_INET6, t->text, &a6) != 1)
			return conf_fail(p, &t->pos, CORE_EPARSE,
					 "expected an IPv6 address, got %s",
					 conf_tok_show(t, buf, sizeof(buf)));
		core_wire_write(w, &a6, sizeof(a6));
		return 0;
	default:
		ASSERT(0);
	}
	return conf_fail(p, &t->pos, CORE_EPARSE, "expected a quoted string, got %s",
			 conf_tok_show(t, buf, sizeof(buf)));
}

static int encode_item(struct conf_parser *p, const struct fmt_item *it, struct core_wire *w)
{
	uint32_t ip;
	bool b;
	int r;

	if (it->code == 'D')
		return encode_domain_list(p, w, it->compressed);
	if (it->code == 'Z')
		return 0;
	r = conf_next(p);
	if (r)
		return r;
	switch (it->code) {
	case 'I': {
		const char *name;

		r = conf_parse_ip_or_name(p, &p->tok, &ip, &name);
		if (!r && name) {
			/* Where it sits is known once the value is stored (conf_st_option). */
			if (p->pend_n == CONF_PEND_MAX)
				return conf_fail(p, &p->tok.pos, CORE_ETOOBIG,
						 "more than %d host names in one option value",
						 CONF_PEND_MAX);
			p->pend[p->pend_n++] = (struct conf_pend){name, p->tok.pos, w->pos};
		}
		if (!r)
			core_wire_write_u32(w, ip);
		return r;
	}
	case 'f':
		r = conf_parse_bool(p, &p->tok, &b);
		if (!r)
			core_wire_write_u8(w, b);
		return r;
	case 't':
	case 'd':
	case 'X':
	case '6':
		return encode_text(p, &p->tok, it->code, w);
	default:
		return encode_int(p, &p->tok, it->code, w);
	}
}

/* Encodes items once, repeating the last item while commas follow when it is an array. */
static int encode_record(struct conf_parser *p, const struct fmt *f, struct core_wire *w,
			 bool *stop)
{
	int r;

	for (int i = 0; i < f->n; i++) {
		if (f->it[i].optional) {
			r = conf_peek(p);
			if (r)
				return r;
			if (conf_tok_punct(&p->peek, ';')) {
				*stop = true;
				return 0;
			}
		}
		r = encode_item(p, &f->it[i], w);
		while (!r && i == f->n - 1 && f->array_last) {
			r = conf_peek(p);
			if (r || !conf_tok_punct(&p->peek, ','))
				break;
			r = conf_next(p);
			if (!r)
				r = encode_item(p, &f->it[i], w);
		}
		if (r)
			return r;
	}
	return 0;
}

int conf_value_encode(struct conf_parser *p, const char *name, const char *format, uint8_t *out,
		      size_t *len)
{
	struct core_wire w;
	struct fmt f;
	bool stop = false;
	int r;

	fmt_compile(format, &f);
	core_wire_init(&w, out, CONF_OPTVAL_MAX);
	for (;;) {
		r = encode_record(p, &f, &w, &stop);
		if (r)
			return r;
		if (stop || !f.array_all)
			break;
		r = conf_peek(p);
		if (r)
			return r;
		if (!conf_tok_punct(&p->peek, ','))
			break;
		r = conf_next(p);
		if (r)
			return r;
	}
	if (w.err)
		return conf_fail(p, &p->tok.pos, CORE_ETOOBIG,
				 "value of option %s is longer than %d bytes", name,
				 CONF_OPTVAL_MAX);
	*len = w.pos;
	return 0;
}

/* One scalar type name, possibly several words ("unsigned integer 16"), to a format code. */
static int type_simple(struct conf_parser *p, char *code, bool *compressed)
{
	static const char *const simple[][2] = {
	    {"ip-address", "I"}, {"ip6-address", "6"}, {"text", "t"},    {"string", "X"},
	    {"boolean", "f"},    {"domain-name", "d"}, {"zerolen", "Z"}, {"domain-list", "D"},
	};
	const struct conf_tok *t = &p->tok;
	bool sign = true;
	char buf[64];
	uint32_t bits;
	int r;

	*compressed = false;
	for (size_t i = 0; i < ARRAY_SIZE(simple); i++) {
		if (!conf_tok_is(t, simple[i][0]))
			continue;
		*code = simple[i][1][0];
		if (*code != 'D')
			return 0;
		r = conf_peek(p);
		if (r || !conf_tok_is(&p->peek, "compressed"))
			return r;
		*compressed = true;
		return conf_next(p);
	}
	if (conf_tok_is(t, "encapsulate"))
		return conf_fail(p, &t->pos, CORE_EUNSUPP,
				 "unsupported type 'encapsulate': option spaces are not "
				 "supported; define the option as 'string' and write its bytes");
	if (conf_tok_is(t, "unsigned") || conf_tok_is(t, "signed")) {
		sign = conf_tok_is(t, "signed");
		r = conf_next(p);
		if (r)
			return r;
	}
	if (!conf_tok_is(t, "integer"))
		return conf_fail(p, &t->pos, CORE_EPARSE,
				 "expected an option type (ip-address, unsigned integer 8/16/32, "
				 "signed integer 8/16/32, text, string, boolean, domain-name, "
				 "domain-list, or a { record }), got %s",
				 conf_tok_show(t, buf, sizeof(buf)));
	r = conf_next(p);
	if (r)
		return r;
	if (conf_tok_is(t, "8") || conf_tok_is(t, "16") || conf_tok_is(t, "32")) {
		bits = (uint32_t)atoi(t->text);
		*code = bits == 8 ? 'B' : bits == 16 ? 'S' : 'L';
		if (sign)
			*code = (char)tolower(*code);
		return 0;
	}
	return conf_fail(p, &t->pos, CORE_EPARSE, "expected integer width 8, 16 or 32, got %s",
			 conf_tok_show(t, buf, sizeof(buf)));
}

static int fmt_add(struct conf_parser *p, char *fmt, size_t cap, size_t *n, char code,
		   bool compressed)
{
	if (*n + 3 > cap)
		return conf_fail(p, &p->tok.pos, CORE_ETOOBIG, "option type has too many fields");
	fmt[(*n)++] = code;
	if (compressed)
		fmt[(*n)++] = 'c';
	fmt[*n] = '\0';
	return 0;
}

/* "array of" is allowed only over fixed-size values: a reader could not split text items. */
static int check_array_elem(struct conf_parser *p, char code)
{
	if (strchr("tXDdZ", code))
		return conf_fail(p, &p->tok.pos, CORE_EPARSE,
				 "an array of text, string, domain or zerolen values is not "
				 "allowed");
	return 0;
}

/* "{ type, type, ..., [array of type] }" after the opening brace. */
static int type_record(struct conf_parser *p, char *fmt, size_t cap, size_t *n)
{
	bool compressed, arr;
	char code;
	int r;

	for (;;) {
		r = conf_next(p);
		if (r)
			return r;
		arr = conf_tok_is(&p->tok, "array");
		if (arr && !(r = conf_expect_word(p, "of", "'array'")))
			r = conf_next(p);
		if (!r)
			r = type_simple(p, &code, &compressed);
		if (!r && arr)
			r = check_array_elem(p, code);
		if (!r)
			r = fmt_add(p, fmt, cap, n, code, compressed);
		if (!r)
			r = conf_next(p);
		if (r)
			return r;
		if (arr && !conf_tok_punct(&p->tok, '}'))
			return conf_fail(p, &p->tok.pos, CORE_EPARSE,
					 "'array of' must be the last field of a record");
		if (arr)
			return fmt_add(p, fmt, cap, n, 'a', false);
		if (conf_tok_punct(&p->tok, '}'))
			return 0;
		/* A variable-length field can only end a record: nothing says where it stops. */
		if (conf_tok_punct(&p->tok, ',') && strchr("tXDd", code))
			return conf_fail(p, &p->tok.pos, CORE_EPARSE,
					 "a text, string or domain field must be the last field of "
					 "a record");
		if (!conf_tok_punct(&p->tok, ','))
			return conf_fail(p, &p->tok.pos, CORE_EPARSE,
					 "expected ',' or '}' in a record type");
	}
}

int conf_type_parse(struct conf_parser *p, char *fmt, size_t cap)
{
	bool arr = false, compressed;
	size_t n = 0;
	char code;
	int r;

	fmt[0] = '\0';
	r = conf_next(p);
	if (!r && conf_tok_is(&p->tok, "array")) {
		arr = true;
		r = conf_expect_word(p, "of", "'array'");
		if (!r)
			r = conf_next(p);
	}
	if (r)
		return r;
	if (conf_tok_punct(&p->tok, '{')) {
		r = type_record(p, fmt, cap, &n);
		if (!r && arr && strchr(fmt, 'a'))
			return conf_fail(p, &p->tok.pos, CORE_EPARSE,
					 "an array of records cannot end in an array");
		if (!r && arr)
			for (size_t i = 0; !r && i < n; i++)
				r = check_array_elem(p, fmt[i] == 'c' ? 'I' : fmt[i]);
	} else {
		r = type_simple(p, &code, &compressed);
		if (!r && arr)
			r = check_array_elem(p, code);
		if (!r)
			r = fmt_add(p, fmt, cap, &n, code, compressed);
	}
	if (!r && arr)
		r = fmt_add(p, fmt, cap, &n, 'A', false);
	return r;
}
