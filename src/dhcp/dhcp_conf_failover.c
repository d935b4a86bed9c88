/* SPDX-License-Identifier: MPL-2.0 */
/* dhcpd.conf: failover peer declarations and references, as ISC 4.4's parse_failover_peer. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core_arena.h"
#include "dhcp_conf_int.h"
#include "dhcp_fo_hash.h"

#define FO_PORT 647 /* IANA's dhcp-failover */

static struct dhcp_failover_peer *find_peer(const struct dhcp_conf *c, const char *name)
{
	for (size_t i = 0; i < c->failover_peers_n; i++)
		if (!strcmp(c->failover_peers[i]->name, name))
			return c->failover_peers[i];
	return NULL;
}

/* A peer must be declared before a pool or shared-network names it, as in ISC. */
static int lookup(struct conf_parser *p, const char *name, const struct conf_pos *at,
		  struct dhcp_failover_peer **out)
{
	*out = find_peer(p->c, name);
	if (!*out)
		return conf_fail(p, at, CORE_EPARSE,
				 "failover peer \"%s\" is not declared (declare it before its "
				 "pools)",
				 name);
	return 0;
}

static int u32_semi(struct conf_parser *p, const char *stmt, uint32_t max, uint32_t *out)
{
	int r = conf_next(p);

	if (!r)
		r = conf_parse_u32(p, &p->tok, max, out);
	return r ? r : conf_expect_semi(p, stmt);
}

static int address(struct conf_parser *p, uint32_t *field, const char **host)
{
	struct conf_pos at;
	const char *name;
	int r = conf_next(p);

	at = p->tok.pos;
	if (!r)
		r = conf_parse_ip_or_name(p, &p->tok, field, &name);
	if (!r)
		r = conf_expect_semi(p, "address");
	if (!r && name)
		r = conf_add_name(p, &(struct dhcp_conf_name){
					 .kind = DHCP_NAME_ADDRESS, .name = name, .file = at.file,
					 .line = at.line, .col = at.col, .field = field});
	if (!r)
		*host = name;
	return r;
}

/* hba XX:XX:...; exactly 32 colon-separated hex octets. */
static int hba(struct conf_parser *p, struct dhcp_failover_peer *fo)
{
	uint8_t buf[64];
	size_t n;
	int r = conf_next(p);

	if (!r)
		r = conf_parse_bytes(p, &p->tok, buf, sizeof(buf), &n);
	if (r)
		return r;
	if (n != DHCP_FO_HBA_BYTES || p->tok.type != CT_WORD)
		return conf_fail(p, &p->tok.pos, CORE_EPARSE,
				 "hba must be exactly 32 colon-separated hex octets");
	memcpy(fo->hba, buf, sizeof(fo->hba));
	fo->has_hba = true;
	return conf_expect_semi(p, "hba");
}

static int load_balance(struct conf_parser *p, struct dhcp_failover_peer *fo)
{
	int r = conf_expect_word(p, "balance", "'load'");

	if (!r)
		r = conf_expect_word(p, "max", "'load balance'");
	if (!r)
		r = conf_expect_word(p, "seconds", "'load balance max'");
	return r ? r : u32_semi(p, "load balance max seconds", UINT32_MAX, &fo->load_balance_max_secs);
}

static int port(struct conf_parser *p, uint16_t *out)
{
	uint32_t v;
	int r = conf_next(p);

	if (!r)
		r = conf_parse_u32(p, &p->tok, 65535, &v);
	if (!r && v == 0)
		r = conf_fail(p, &p->tok.pos, CORE_EPARSE, "port must be 1 to 65535");
	if (!r)
		*out = (uint16_t)v;
	return r ? r : conf_expect_semi(p, "port");
}

/* One statement of the block; "peer" before it makes address, port, max-response-delay and
 * max-unacked-updates the partner's (ISC applies any other statement as if "peer" were not
 * there). */
static int peer_statement(struct conf_parser *p, struct dhcp_failover_peer *fo, bool partner)
{
	const struct conf_tok *t = &p->tok;
	char buf[64];
	uint32_t split;
	int r;

	if (conf_tok_is(t, "primary") || conf_tok_is(t, "secondary")) {
		fo->role = conf_tok_is(t, "primary") ? DHCP_FO_PRIMARY : DHCP_FO_SECONDARY;
		if (fo->role == DHCP_FO_SECONDARY && fo->has_hba)
			return conf_fail(p, &t->pos, CORE_EPARSE,
					 "secondary may not define load balance settings");
		return conf_expect_semi(p, t->text);
	}
	if (conf_tok_is(t, "peer")) {
		r = conf_next(p);
		return r ? r : peer_statement(p, fo, true);
	}
	if (conf_tok_is(t, "address"))
		return partner ? address(p, &fo->peer_address, &fo->peer_address_name)
			       : address(p, &fo->address, &fo->address_name);
	if (conf_tok_is(t, "port"))
		return port(p, partner ? &fo->peer_port : &fo->port);
	if (conf_tok_is(t, "max-response-delay"))
		return u32_semi(p, "max-response-delay", UINT32_MAX,
				partner ? &fo->peer_max_response_delay : &fo->max_response_delay);
	if (conf_tok_is(t, "max-unacked-updates"))
		return u32_semi(p, "max-unacked-updates", UINT32_MAX,
				partner ? &fo->peer_max_unacked_updates : &fo->max_unacked_updates);
	if (conf_tok_is(t, "mclt"))
		return u32_semi(p, "mclt", UINT32_MAX, &fo->mclt);
	if (conf_tok_is(t, "auto-partner-down"))
		return u32_semi(p, "auto-partner-down", UINT32_MAX, &fo->auto_partner_down);
	if (conf_tok_is(t, "max-lease-misbalance"))
		return u32_semi(p, "max-lease-misbalance", UINT32_MAX, &fo->max_lease_misbalance);
	if (conf_tok_is(t, "max-lease-ownership"))
		return u32_semi(p, "max-lease-ownership", UINT32_MAX, &fo->max_lease_ownership);
	if (conf_tok_is(t, "min-balance"))
		return u32_semi(p, "min-balance", UINT32_MAX, &fo->min_balance);
	if (conf_tok_is(t, "max-balance"))
		return u32_semi(p, "max-balance", UINT32_MAX, &fo->max_balance);
	if (conf_tok_is(t, "load"))
		return load_balance(p, fo);
	if (conf_tok_is(t, "split") || conf_tok_is(t, "hba")) {
		struct conf_pos at = t->pos;

		if (fo->role == DHCP_FO_SECONDARY)
			return conf_fail(p, &at, CORE_EPARSE,
					 "secondary may not define load balance settings");
		if (conf_tok_is(t, "hba"))
			return hba(p, fo);
		r = u32_semi(p, "split", 256, &split);
		if (!r) {
			dhcp_fo_hba_split(fo->hba, split);
			fo->has_hba = true;
		}
		return r;
	}
	return conf_fail(p, &t->pos, CORE_EPARSE,
			 "invalid statement in failover peer declaration: %s",
			 conf_tok_show(t, buf, sizeof(buf)));
}

/* What ISC fills in after the block, and what it requires. */
static int finish(struct conf_parser *p, struct dhcp_failover_peer *fo, const struct conf_pos *pos)
{
	if (!fo->peer_address && !fo->peer_address_name)
		return conf_fail(p, pos, CORE_EPARSE,
				 "failover peer \"%s\": peer address may not be omitted", fo->name);
	if (fo->role == DHCP_FO_PRIMARY && !fo->has_hba)
		return conf_fail(p, pos, CORE_EPARSE,
				 "failover peer \"%s\": primary failover server must have hba or split",
				 fo->name);
	if (fo->role == DHCP_FO_PRIMARY && !fo->mclt)
		return conf_fail(p, pos, CORE_EPARSE,
				 "failover peer \"%s\": primary failover server must have mclt",
				 fo->name);
	if (!fo->port)
		fo->port = FO_PORT;
	if (!fo->peer_port)
		fo->peer_port = FO_PORT;
	if (!fo->max_response_delay)
		fo->max_response_delay = 20;
	if (!fo->max_unacked_updates)
		fo->max_unacked_updates = 100;
	if (!fo->max_lease_misbalance)
		fo->max_lease_misbalance = 15;
	if (!fo->max_lease_ownership)
		fo->max_lease_ownership = 10;
	if (!fo->min_balance)
		fo->min_balance = 60;
	if (!fo->max_balance)
		fo->max_balance = 3600;
	return 0;
}

static int declaration(struct conf_parser *p, const char *name, const struct conf_pos *pos)
{
	struct dhcp_failover_peer *fo, **slot;
	int r;

	if (find_peer(p->c, name))
		return conf_fail(p, pos, CORE_EPARSE, "redeclaration of failover peer \"%s\"", name);
	fo = core_arena_alloc(&p->c->arena, sizeof(*fo));
	if (!fo)
		return conf_fail(p, NULL, -ENOMEM, "out of memory");
	memset(fo, 0, sizeof(*fo));
	fo->name = name;
	fo->file = pos->file;
	fo->line = pos->line;
	fo->col = pos->col;
	for (;;) {
		r = conf_next(p);
		if (r)
			return r;
		if (conf_tok_punct(&p->tok, '}'))
			break;
		if (p->tok.type == CT_EOF)
			return conf_fail(p, &p->tok.pos, CORE_EPARSE,
					 "end of file inside failover peer \"%s\"", name);
		r = peer_statement(p, fo, false);
		if (r)
			return r;
	}
	r = finish(p, fo, pos);
	if (r)
		return r;
	fo->index = p->c->failover_peers_n;
	slot = conf_push(p, &p->c->failover_peers, &p->c->failover_peers_n, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	*slot = fo;
	if (conf_cur(p)->kind == CK_SHARED)
		conf_cur(p)->shared->fo = fo;
	return 0;
}

int conf_st_failover(struct conf_parser *p, const struct conf_stmt *st, const struct conf_pos *pos)
{
	struct conf_frame *f = conf_cur(p);
	struct dhcp_failover_peer *fo;
	struct conf_pos at;
	const char *name;
	int r;

	(void)st;
	r = conf_expect_word(p, "peer", "'failover'");
	if (!r) {
		r = conf_peek(p);
		at = p->peek.pos;
	}
	if (!r)
		r = conf_read_name(p, "failover peer", true, &name);
	if (!r)
		r = conf_next(p);
	if (r)
		return r;
	if (conf_tok_punct(&p->tok, ';')) {
		/* A reference: a pool's, or a shared-network's for all its pools. */
		if (f->kind != CK_POOL && f->kind != CK_SHARED)
			return conf_fail(p, pos, CORE_EPARSE,
					 "a failover peer reference belongs in a pool or a "
					 "shared-network");
		r = lookup(p, name, &at, &fo);
		if (r)
			return r;
		if (f->kind == CK_SHARED) {
			f->shared->fo = fo;
			return 0;
		}
		f->pool->failover_peer = name;
		f->pool->fo = fo;
		p->pools[f->pool_ref].failover_pos = *pos;
		return 0;
	}
	if (conf_tok_is(&p->tok, "state"))
		return conf_fail(p, &p->tok.pos, CORE_EUNSUPP,
				 "unsupported statement 'failover peer \"%s\" state': a failover "
				 "state declaration belongs in the lease file",
				 name);
	if (!conf_tok_punct(&p->tok, '{'))
		return conf_fail(p, &p->tok.pos, CORE_EPARSE,
				 "expected '{', ';' or 'state' after 'failover peer \"%s\"'", name);
	if (f->kind != CK_GLOBAL && f->kind != CK_SHARED)
		return conf_fail(p, pos, CORE_EPARSE,
				 "failover peers may only be defined in shared-network declarations "
				 "and the outer scope");
	return declaration(p, name, pos);
}
