/* SPDX-License-Identifier: MPL-2.0 */
/* dhcpd.conf parameter statements: lease times, flags, addresses, options, allow/deny. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "core_assert.h"
#include "dhcp_conf_int.h"
#include "dhcp_leasefile.h"
#include "dhcp_option.h"

static void scope_mark(struct conf_parser *p, enum dhcp_param param)
{
	conf_cur(p)->scope->set |= 1u << param;
}

int conf_st_u32(struct conf_parser *p, const struct conf_stmt *st, const struct conf_pos *pos)
{
	uint32_t v;
	int r;

	(void)pos;
	r = conf_next(p);
	if (!r)
		r = conf_parse_u32(p, &p->tok, UINT32_MAX, &v);
	if (!r)
		r = conf_expect_semi(p, st->name);
	if (r)
		return r;
	*(uint32_t *)((char *)conf_cur(p)->scope + st->off) = v;
	scope_mark(p, st->param);
	return 0;
}

int conf_st_bool(struct conf_parser *p, const struct conf_stmt *st, const struct conf_pos *pos)
{
	bool v;
	int r;

	(void)pos;
	r = conf_next(p);
	if (!r)
		r = conf_parse_bool(p, &p->tok, &v);
	if (!r)
		r = conf_expect_semi(p, st->name);
	if (r)
		return r;
	*(bool *)((char *)conf_cur(p)->scope + st->off) = v;
	scope_mark(p, st->param);
	return 0;
}

int conf_st_ip(struct conf_parser *p, const struct conf_stmt *st, const struct conf_pos *pos)
{
	struct dhcp_scope *s = conf_cur(p)->scope;
	uint32_t v, *field = (uint32_t *)((char *)s + st->off);
	struct conf_pos at;
	const char *name;
	int r;

	(void)pos;
	r = conf_next(p);
	at = p->tok.pos;
	if (!r)
		r = conf_parse_ip_or_name(p, &p->tok, &v, &name);
	if (!r)
		r = conf_expect_semi(p, st->name);
	if (!r && name)
		r = conf_add_name(p, &(struct dhcp_conf_name){
					 .kind = DHCP_NAME_PARAM, .name = name, .file = at.file,
					 .line = at.line, .col = at.col, .scope = s,
					 .param = st->param, .field = field});
	if (r)
		return r;
	*field = v;
	scope_mark(p, st->param);
	return 0;
}

int conf_add_name(struct conf_parser *p, const struct dhcp_conf_name *n)
{
	struct dhcp_conf_name *slot;

	if (p->c->names_n >= CONF_NAMES_MAX)
		return conf_fail(p, NULL, CORE_ETOOBIG, "more than %d host names to look up",
				 CONF_NAMES_MAX);
	slot = conf_push(p, &p->c->names, &p->c->names_n, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	*slot = *n;
	return 0;
}

/* A quoted string statement; NUL bytes are refused since the value is used as a C string. */
static int read_string(struct conf_parser *p, const char *stmt, const char **out)
{
	char buf[64];
	int r = conf_next(p);

	if (r)
		return r;
	if (!conf_tok_text(&p->tok))
		return conf_fail(p, &p->tok.pos, CORE_EPARSE,
				 "expected a quoted string after '%s', got %s", stmt,
				 conf_tok_show(&p->tok, buf, sizeof(buf)));
	if (memchr(p->tok.text, '\0', p->tok.len))
		return conf_fail(p, &p->tok.pos, CORE_EPARSE, "NUL byte in the value of '%s'",
				 stmt);
	*out = core_arena_memdup(&p->c->arena, p->tok.text, p->tok.len);
	if (!*out)
		return conf_fail(p, NULL, -ENOMEM, "out of memory");
	return conf_expect_semi(p, stmt);
}

int conf_st_str(struct conf_parser *p, const struct conf_stmt *st, const struct conf_pos *pos)
{
	const char *v = NULL;
	int r;

	(void)pos;
	r = read_string(p, st->name, &v);
	if (r)
		return r;
	*(const char **)((char *)conf_cur(p)->scope + st->off) = v;
	scope_mark(p, st->param);
	return 0;
}

int conf_st_authoritative(struct conf_parser *p, const struct conf_stmt *st,
			  const struct conf_pos *pos)
{
	int r = conf_expect_semi(p, st->name);

	(void)pos;
	if (r)
		return r;
	conf_cur(p)->scope->authoritative = true;
	scope_mark(p, DHCP_P_AUTHORITATIVE);
	return 0;
}

int conf_st_not(struct conf_parser *p, const struct conf_stmt *st, const struct conf_pos *pos)
{
	int r = conf_expect_word(p, "authoritative", "'not'");

	(void)st;
	(void)pos;
	if (!r)
		r = conf_expect_semi(p, "not authoritative");
	if (r)
		return r;
	conf_cur(p)->scope->authoritative = false;
	scope_mark(p, DHCP_P_AUTHORITATIVE);
	return 0;
}

int conf_st_ddns_style(struct conf_parser *p, const struct conf_stmt *st,
		       const struct conf_pos *pos)
{
	char buf[64];
	int r = conf_next(p);

	(void)pos;
	if (r)
		return r;
	if (conf_tok_is(&p->tok, "ad-hoc") || conf_tok_is(&p->tok, "interim") ||
	    conf_tok_is(&p->tok, "standard"))
		return conf_fail(p, &p->tok.pos, CORE_EUNSUPP,
				 "unsupported statement 'ddns-update-style %s': paceless does no "
				 "dynamic DNS updates; write 'ddns-update-style none;'",
				 p->tok.text);
	if (!conf_tok_is(&p->tok, "none"))
		return conf_fail(p, &p->tok.pos, CORE_EPARSE,
				 "expected none, ad-hoc, interim or standard, got %s",
				 conf_tok_show(&p->tok, buf, sizeof(buf)));
	return conf_expect_semi(p, st->name);
}

int conf_st_ddns_updates(struct conf_parser *p, const struct conf_stmt *st,
			 const struct conf_pos *pos)
{
	bool on;
	int r = conf_next(p);

	(void)pos;
	if (!r)
		r = conf_parse_bool(p, &p->tok, &on);
	if (!r && on)
		return conf_fail(p, &p->tok.pos, CORE_EUNSUPP,
				 "unsupported statement 'ddns-updates on': paceless does no "
				 "dynamic DNS updates; write 'ddns-updates off;' or remove it");
	if (!r)
		r = conf_expect_semi(p, st->name);
	return r;
}

int conf_st_log_facility(struct conf_parser *p, const struct conf_stmt *st,
			 const struct conf_pos *pos)
{
	static const struct {
		const char *name;
		int facility;
	} names[] = {
	    {"kern", LOG_KERN},     {"user", LOG_USER},         {"mail", LOG_MAIL},
	    {"daemon", LOG_DAEMON}, {"auth", LOG_AUTH},         {"syslog", LOG_SYSLOG},
	    {"lpr", LOG_LPR},       {"news", LOG_NEWS},         {"uucp", LOG_UUCP},
	    {"cron", LOG_CRON},     {"authpriv", LOG_AUTHPRIV}, {"ftp", LOG_FTP},
	    {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1},     {"local2", LOG_LOCAL2},
	    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4},     {"local5", LOG_LOCAL5},
	    {"local6", LOG_LOCAL6}, {"local7", LOG_LOCAL7},
	};
	char buf[64];
	int r = conf_next(p);

	(void)pos;
	if (r)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (conf_tok_is(&p->tok, names[i].name)) {
			p->c->log_facility = names[i].facility;
			return conf_expect_semi(p, st->name);
		}
	}
	return conf_fail(p, &p->tok.pos, CORE_EPARSE,
			 "expected a syslog facility (daemon, local0 ... local7, ...), got %s",
			 conf_tok_show(&p->tok, buf, sizeof(buf)));
}

/* db-time-format default|local; lease-id-format octal|hex: how the lease file is written. */
int conf_st_lease_format(struct conf_parser *p, const struct conf_stmt *st,
			 const struct conf_pos *pos)
{
	bool time = !strcmp(st->name, "db-time-format");
	const char *plain = time ? "default" : "octal", *other = time ? "local" : "hex";
	unsigned bit = time ? DHCP_LF_LOCAL_TIME : DHCP_LF_HEX_IDS;
	char buf[64];
	int r = conf_next(p);

	(void)pos;
	if (r)
		return r;
	if (conf_tok_is(&p->tok, plain))
		p->c->lease_style &= ~bit;
	else if (conf_tok_is(&p->tok, other))
		p->c->lease_style |= bit;
	else
		return conf_fail(p, &p->tok.pos, CORE_EPARSE, "expected %s or %s, got %s", plain,
				 other, conf_tok_show(&p->tok, buf, sizeof(buf)));
	return conf_expect_semi(p, st->name);
}

int conf_st_global_file(struct conf_parser *p, const struct conf_stmt *st,
			const struct conf_pos *pos)
{
	(void)pos;
	if (!strcmp(st->name, "lease-file-name"))
		return read_string(p, st->name, &p->c->lease_file);
	return read_string(p, st->name, &p->c->pid_file);
}

int conf_st_local_address(struct conf_parser *p, const struct conf_stmt *st,
			  const struct conf_pos *pos)
{
	int r = conf_next(p);

	(void)pos;
	if (!r)
		r = conf_parse_ip(p, &p->tok, &p->c->local_address);
	if (!r)
		r = conf_expect_semi(p, st->name);
	return r;
}

int conf_st_local_port(struct conf_parser *p, const struct conf_stmt *st,
		       const struct conf_pos *pos)
{
	uint32_t v;
	int r = conf_next(p);

	(void)pos;
	if (!r)
		r = conf_parse_u32(p, &p->tok, UINT16_MAX, &v);
	if (!r && v == 0)
		r = conf_fail(p, &p->tok.pos, CORE_EPARSE, "local-port must be 1 to 65535");
	if (!r)
		r = conf_expect_semi(p, st->name);
	if (!r)
		p->c->local_port = (uint16_t)v;
	return r;
}

/* We write the lease file on every change, so ISC's cache threshold has nothing to tune. */
int conf_st_cache_threshold(struct conf_parser *p, const struct conf_stmt *st,
			    const struct conf_pos *pos)
{
	uint32_t v;
	int r = conf_next(p);

	(void)pos;
	if (!r)
		r = conf_parse_u32(p, &p->tok, 100, &v);
	if (!r)
		r = conf_expect_semi(p, st->name);
	return r;
}

/*
 * A flag accepted for ISC's sake with nothing to change here: update-static-leases (without
 * DDNS there is nothing to update) and server-id-check (a REQUEST naming another server is
 * always ignored, as RFC 2131 says and as ISC does with it on; ISC's default, off, lets both
 * servers of a failover pair ACK the same REQUEST).
 */
int conf_st_bool_noop(struct conf_parser *p, const struct conf_stmt *st, const struct conf_pos *pos)
{
	bool v;
	int r = conf_next(p);

	(void)pos;
	if (!r)
		r = conf_parse_bool(p, &p->tok, &v);
	if (!r)
		r = conf_expect_semi(p, st->name);
	return r;
}

/* "allow|deny|ignore unknown-clients|bootp|booting;" outside pools. */
static int allow_scope(struct conf_parser *p, const struct conf_stmt *st, bool allow)
{
	static const struct {
		const char *word;
		enum dhcp_param param;
		size_t off;
	} keys[] = {
	    {"unknown-clients", DHCP_P_UNKNOWN_CLIENTS, offsetof(struct dhcp_scope, allow_unknown)},
	    {"bootp", DHCP_P_BOOTP, offsetof(struct dhcp_scope, allow_bootp)},
	    {"booting", DHCP_P_BOOTING, offsetof(struct dhcp_scope, allow_booting)},
	};
	static const char *const unsupp[] = {"client-updates", "duplicates", "declines",
					     "leasequery"};
	char buf[64];
	int r = conf_next(p);

	if (r)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		if (!conf_tok_is(&p->tok, keys[i].word))
			continue;
		r = conf_expect_semi(p, st->name);
		if (r)
			return r;
		*(bool *)((char *)conf_cur(p)->scope + keys[i].off) = allow;
		scope_mark(p, keys[i].param);
		return 0;
	}
	for (size_t i = 0; i < ARRAY_SIZE(unsupp); i++)
		if (conf_tok_is(&p->tok, unsupp[i]))
			return conf_fail(p, &p->tok.pos, CORE_EUNSUPP,
					 "unsupported statement '%s %s': paceless always behaves "
					 "as ISC's default here; remove it",
					 st->name, p->tok.text);
	return conf_fail(p, &p->tok.pos, CORE_EPARSE,
			 "expected unknown-clients, bootp or booting after '%s', got %s%s",
			 st->name, conf_tok_show(&p->tok, buf, sizeof(buf)),
			 conf_tok_is(&p->tok, "known-clients")
			     ? " (known-clients is a pool permit: write it inside a pool)"
			     : "");
}

/* The words after allow/deny in a pool, to a permit bit. */
static int pool_permit(struct conf_parser *p, uint32_t *bit)
{
	char buf[64];
	int r;

	if (conf_tok_is(&p->tok, "known-clients") || conf_tok_is(&p->tok, "unknown-clients")) {
		*bit =
		    conf_tok_is(&p->tok, "known-clients") ? DHCP_PERMIT_KNOWN : DHCP_PERMIT_UNKNOWN;
		return 0;
	}
	if (conf_tok_is(&p->tok, "dynamic")) {
		r = conf_expect_word(p, "bootp", "'dynamic'");
		if (!r)
			r = conf_expect_word(p, "clients", "'dynamic bootp'");
		*bit = DHCP_PERMIT_DYNAMIC_BOOTP;
		return r;
	}
	if (conf_tok_is(&p->tok, "all")) {
		*bit = DHCP_PERMIT_ALL;
		return conf_expect_word(p, "clients", "'all'");
	}
	if (conf_tok_is(&p->tok, "members") || conf_tok_is(&p->tok, "authenticated") ||
	    conf_tok_is(&p->tok, "unauthenticated") || conf_tok_is(&p->tok, "after"))
		return conf_fail(p, &p->tok.pos, CORE_EUNSUPP,
				 "unsupported pool permit '%s': paceless has no client classes "
				 "or time limits; use known-clients / unknown-clients with host "
				 "declarations",
				 p->tok.text);
	return conf_fail(p, &p->tok.pos, CORE_EPARSE,
			 "expected a pool permit (known-clients, unknown-clients, dynamic bootp "
			 "clients, all clients), got %s",
			 conf_tok_show(&p->tok, buf, sizeof(buf)));
}

int conf_st_allow(struct conf_parser *p, const struct conf_stmt *st, const struct conf_pos *pos)
{
	struct conf_frame *f = conf_cur(p);
	bool allow = !strcmp(st->name, "allow");
	uint32_t bit = 0;
	int r;

	if (f->kind != CK_POOL)
		return allow_scope(p, st, allow);
	if (!strcmp(st->name, "ignore"))
		return conf_fail(p, pos, CORE_EPARSE,
				 "'ignore' is not valid in a pool: use 'deny'");
	r = conf_next(p);
	if (!r)
		r = pool_permit(p, &bit);
	if (!r)
		r = conf_expect_semi(p, st->name);
	if (r)
		return r;
	if (allow)
		f->pool->allow |= bit;
	else
		f->pool->deny |= bit;
	return 0;
}

int conf_scope_set_opt(struct conf_parser *p, struct dhcp_scope *s, uint8_t code,
		       const uint8_t *data, size_t len)
{
	struct dhcp_opt *o = NULL;
	uint8_t *copy;

	ASSERT(len <= CONF_OPTVAL_MAX);
	copy = (uint8_t *)core_arena_memdup(&p->c->arena, data, len);
	if (!copy)
		return conf_fail(p, NULL, -ENOMEM, "out of memory");
	/* The names in this value now have a home; those of a value it replaces are stale. */
	for (size_t i = 0; i < p->pend_n; i++) {
		const struct conf_pend *n = &p->pend[i];
		int r;

		if (n->off + 4 > len)
			continue;
		r = conf_add_name(p, &(struct dhcp_conf_name){
					 .kind = DHCP_NAME_OPTION, .name = n->name,
					 .file = n->pos.file, .line = n->pos.line,
					 .col = n->pos.col, .scope = s, .code = code,
					 .data = copy, .off = n->off});
		if (r)
			return r;
	}
	p->pend_n = 0;
	for (size_t i = 0; i < s->opts_n && !o; i++)
		if (s->opts[i].code == code)
			o = &s->opts[i];
	if (!o)
		o = conf_push(p, &s->opts, &s->opts_n, sizeof(*s->opts));
	if (!o)
		return -ENOMEM;
	o->code = code;
	o->len = (uint16_t)len;
	o->data = copy;
	return 0;
}

/* A definition from "option NAME code N = TYPE;" (latest wins), else the standard table. */
static int find_def(const struct dhcp_conf *c, const char *name, uint8_t *code, const char **format)
{
	const struct dhcp_option_def *d;

	for (size_t i = c->optdefs_n; i-- > 0;) {
		if (!strcasecmp(c->optdefs[i].name, name)) {
			*code = c->optdefs[i].code;
			*format = c->optdefs[i].format;
			return 0;
		}
	}
	d = dhcp_option_by_name(name);
	if (!d)
		return -1;
	*code = d->code;
	*format = d->format;
	return 0;
}

/* "option NAME code N = TYPE;" with "option NAME" already read. */
static int option_define(struct conf_parser *p, const char *name)
{
	char fmt[CONF_FORMAT_MAX];
	struct dhcp_optdef *d;
	uint32_t code;
	int r;

	r = conf_next(p); /* "code" */
	if (!r)
		r = conf_next(p);
	if (!r)
		r = conf_parse_u32(p, &p->tok, 254, &code);
	if (!r && code == 0)
		r = conf_fail(p, &p->tok.pos, CORE_EPARSE, "option code must be 1 to 254");
	if (!r)
		r = conf_expect_punct(p, '=', "the option code");
	if (!r)
		r = conf_type_parse(p, fmt, sizeof(fmt));
	if (!r)
		r = conf_expect_semi(p, "an option definition");
	if (r)
		return r;
	d = conf_push(p, &p->c->optdefs, &p->c->optdefs_n, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->name = core_arena_strdup(&p->c->arena, name);
	d->format = core_arena_strdup(&p->c->arena, fmt);
	d->code = (uint8_t)code;
	if (!d->name || !d->format)
		return conf_fail(p, NULL, -ENOMEM, "out of memory");
	return 0;
}

/* Stores a value; a client identifier in a host identifies the host instead of being sent. */
static int option_store(struct conf_parser *p, uint8_t code, const uint8_t *val, size_t len,
			const struct conf_pos *pos)
{
	struct conf_frame *f = conf_cur(p);

	if (f->kind == CK_HOST && code == 61) {
		if (len == 0 || len > 255)
			return conf_fail(p, pos, CORE_EPARSE,
					 "dhcp-client-identifier must be 1 to 255 bytes");
		f->host->client_id = (const uint8_t *)core_arena_memdup(&p->c->arena, val, len);
		f->host->client_id_len = (uint8_t)len;
		return f->host->client_id ? 0 : conf_fail(p, NULL, -ENOMEM, "out of memory");
	}
	return conf_scope_set_opt(p, f->scope, code, val, len);
}

static int option_name(struct conf_parser *p, char *name, size_t cap)
{
	const struct conf_tok *t = &p->tok;
	char buf[64];
	int r = conf_next(p);

	if (r)
		return r;
	if (t->type != CT_WORD)
		return conf_fail(p, &t->pos, CORE_EPARSE, "expected an option name, got %s",
				 conf_tok_show(t, buf, sizeof(buf)));
	if (conf_tok_is(t, "space"))
		return conf_fail(p, &t->pos, CORE_EUNSUPP,
				 "unsupported statement 'option space': option spaces are not "
				 "supported; write vendor-encapsulated-options as hex bytes");
	if (strchr(t->text, '.'))
		return conf_fail(p, &t->pos, CORE_EUNSUPP,
				 "unsupported option '%s': option spaces (agent., fqdn., "
				 "vendor spaces) are not supported",
				 t->text);
	if (t->len >= cap)
		return conf_fail(p, &t->pos, CORE_ETOOBIG, "option name longer than %zu bytes",
				 cap - 1);
	memcpy(name, t->text, t->len + 1);
	return 0;
}

int conf_st_option(struct conf_parser *p, const struct conf_stmt *st, const struct conf_pos *pos)
{
	uint8_t val[CONF_OPTVAL_MAX], code;
	char name[128];
	const char *format;
	struct conf_pos npos;
	size_t len;
	int r;

	(void)st;
	(void)pos;
	r = option_name(p, name, sizeof(name));
	if (!r)
		r = conf_peek(p);
	if (r)
		return r;
	npos = p->tok.pos;
	if (conf_tok_is(&p->peek, "code"))
		return option_define(p, name);
	if (conf_tok_punct(&p->peek, '='))
		return conf_fail(p, &p->peek.pos, CORE_EUNSUPP,
				 "unsupported option expression 'option %s = ...': write the "
				 "value as a literal ('option %s VALUE;')",
				 name, name);
	if (find_def(p->c, name, &code, &format))
		return conf_fail(p, &npos, CORE_EPARSE,
				 "unknown option '%s': define it first with 'option %s code N = "
				 "TYPE;'",
				 name, name);
	p->pend_n = 0;
	r = conf_value_encode(p, name, format, val, &len);
	if (!r)
		r = conf_expect_semi(p, "the option value");
	if (!r)
		r = option_store(p, code, val, len, &npos);
	p->pend_n = 0;
	return r;
}
