/* SPDX-License-Identifier: MPL-2.0 */
/* dhcpd.conf parser internals shared by dhcp_conf*.c: tokens, sources, parser state, limits. */
#ifndef DHCP_CONF_INT_H
#define DHCP_CONF_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhcp_conf.h"

#define CONF_TOKEN_MAX         1500          /* bytes in one word or decoded string (ISC's too) */
#define CONF_INCLUDE_DEPTH_MAX 16            /* nested include statements */
#define CONF_BLOCK_DEPTH_MAX   32            /* nested { } blocks */
#define CONF_TEXT_MAX          (64u << 20)   /* bytes of configuration text, includes summed */
#define CONF_ARENA_MAX         (1024u << 20) /* memory for the parsed configuration */
#define CONF_OPTVAL_MAX        2048          /* encoded bytes of one option value */
#define CONF_FORMAT_MAX        32            /* characters of a value format string */
#define CONF_FIXED_MAX         64            /* fixed-address entries in one host */
#define CONF_PEND_MAX          64            /* host names in one option value */
#define CONF_NAMES_MAX         65536         /* host names in a whole configuration */

enum conf_tok_type {
	CT_EOF = 0,
	CT_WORD,   /* letters, digits and - _ . : (names, numbers, addresses, hex bytes) */
	CT_STRING, /* "quoted", escapes decoded; may contain NUL bytes */
	CT_PUNCT,  /* one other printable character, in text[0] */
};

struct conf_pos {
	const char *file; /* arena copy */
	uint32_t line, col;
};

struct conf_tok {
	enum conf_tok_type type;
	struct conf_pos pos;
	size_t len;
	char text[CONF_TOKEN_MAX + 1]; /* NUL-terminated as well */
};

/* One file (or the in-memory text) being read. */
struct conf_src {
	const char *name; /* arena copy */
	const char *text;
	size_t len, pos;
	uint32_t line, col;
	char *owned;     /* malloc'd text of an included file, freed on pop */
	int block_depth; /* parser block depth when the file was entered */
};

enum conf_kind {
	CK_GLOBAL = 0,
	CK_SHARED,
	CK_SUBNET,
	CK_POOL,
	CK_GROUP,
	CK_HOST,
};

struct conf_frame {
	enum conf_kind kind;
	struct conf_pos pos; /* where the block's statement starts */
	struct dhcp_scope *scope;
	struct dhcp_shared *shared; /* explicit enclosing shared-network, or NULL */
	struct dhcp_subnet *subnet; /* for CK_SUBNET and CK_POOL */
	struct dhcp_pool *pool;     /* for CK_POOL */
	struct dhcp_pool *implicit; /* CK_SUBNET: the pool of ranges written directly */
	struct dhcp_host *host;     /* for CK_HOST */
	size_t pool_ref;            /* CK_POOL: index in conf_parser.pools */
};

/* Where a range was written, and the shared network a pool there must resolve against. */
struct conf_range_ref {
	struct dhcp_pool *pool;
	size_t idx;
	struct conf_pos pos;
};

struct conf_pool_ref {
	struct dhcp_pool *pool;
	struct dhcp_shared *shared; /* declared directly in it: subnet resolved after parsing */
	struct conf_pos pos;
	struct conf_pos failover_pos; /* valid when pool->failover_peer is set */
};

struct conf_parser {
	struct dhcp_conf *c;
	struct conf_src src[CONF_INCLUDE_DEPTH_MAX + 1];
	int src_n;
	bool allow_include;
	size_t text_total;
	struct conf_tok tok, peek;
	bool have_peek;
	struct conf_frame frames[CONF_BLOCK_DEPTH_MAX + 1];
	int depth; /* frames[depth] is the innermost open scope; 0 = global */
	struct conf_range_ref *ranges;
	size_t ranges_n;
	struct conf_pool_ref *pools;
	size_t pools_n;
	struct conf_pos *host_pos; /* parallel to c->hosts */
	size_t host_pos_n;
	char *err;
	size_t errlen;
	bool failed;
	/* host names met while encoding the current option value: where they sit in it */
	struct conf_pend {
		const char *name;
		struct conf_pos pos;
		size_t off;
	} pend[CONF_PEND_MAX];
	size_t pend_n;
};

/* Lexer and sources (dhcp_conf_lex.c). */
int conf_src_push(struct conf_parser *p, const char *name, const char *text, size_t len,
		  char *owned) CORE_WARN_UNUSED;
void conf_src_pop_all(struct conf_parser *p);
int conf_next(struct conf_parser *p) CORE_WARN_UNUSED; /* next token into p->tok */
int conf_peek(struct conf_parser *p) CORE_WARN_UNUSED; /* next token into p->peek */
/* Records the first error as "FILE:LINE:COL: message"; returns code. */
int conf_fail(struct conf_parser *p, const struct conf_pos *pos, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A short printable rendering of a token for messages ("'foo'", "end of file"). */
const char *conf_tok_show(const struct conf_tok *t, char *buf, size_t len);
bool conf_tok_is(const struct conf_tok *t, const char *word);
bool conf_tok_punct(const struct conf_tok *t, char ch);
/* A quoted string, or a bare name (no '.' or ':'), which ISC also takes where text goes. */
bool conf_tok_text(const struct conf_tok *t);
int conf_expect_punct(struct conf_parser *p, char ch, const char *after) CORE_WARN_UNUSED;
int conf_expect_word(struct conf_parser *p, const char *word, const char *after) CORE_WARN_UNUSED;
int conf_expect_semi(struct conf_parser *p, const char *stmt) CORE_WARN_UNUSED;

/* Values (dhcp_conf_value.c). */
int conf_parse_ip(struct conf_parser *p, const struct conf_tok *t, uint32_t *out) CORE_WARN_UNUSED;
/*
 * An address, or a host name where ISC accepts one: then *out is 0, *name the name (arena)
 * and the caller records where the address goes (conf_add_name). *name is NULL otherwise.
 */
int conf_parse_ip_or_name(struct conf_parser *p, const struct conf_tok *t, uint32_t *out,
			  const char **name) CORE_WARN_UNUSED;
/* A bare or (when quoted_ok) quoted name after stmt, copied into the arena. */
int conf_read_name(struct conf_parser *p, const char *stmt, bool quoted_ok,
		   const char **out) CORE_WARN_UNUSED;
/* Appends a name to look up at dhcp_conf_resolve; n->name, file, line, col set from pos. */
int conf_add_name(struct conf_parser *p, const struct dhcp_conf_name *n) CORE_WARN_UNUSED;
int conf_parse_u32(struct conf_parser *p, const struct conf_tok *t, uint32_t max,
		   uint32_t *out) CORE_WARN_UNUSED;
int conf_parse_bool(struct conf_parser *p, const struct conf_tok *t, bool *out) CORE_WARN_UNUSED;
/* Reads bytes as a quoted string or colon-separated hex (ISC's "string" type). */
int conf_parse_bytes(struct conf_parser *p, const struct conf_tok *t, uint8_t *out, size_t cap,
		     size_t *len) CORE_WARN_UNUSED;
/* Reads a value of the given format from the tokens after the option name, up to ';'. */
int conf_value_encode(struct conf_parser *p, const char *name, const char *format, uint8_t *out,
		      size_t *len) CORE_WARN_UNUSED;
/* Reads the TYPE of "option NAME code N = TYPE" into a format string. */
int conf_type_parse(struct conf_parser *p, char *fmt, size_t cap) CORE_WARN_UNUSED;

/* A statement keyword and its handler, called with the keyword consumed. */
struct conf_stmt;
typedef int conf_stmt_fn(struct conf_parser *p, const struct conf_stmt *st,
			 const struct conf_pos *pos);

#define CONF_IN(k)  (1u << (k)) /* bit for conf_stmt.where */
#define CONF_IN_ANY 0x3fu

struct conf_stmt {
	const char *name;
	conf_stmt_fn *fn;
	uint32_t where;        /* CONF_IN() bits of the blocks it may appear in */
	enum dhcp_param param; /* for the generic parameter handlers */
	size_t off;            /* offsetof the dhcp_scope field they set */
};

static inline struct conf_frame *conf_cur(struct conf_parser *p)
{
	return &p->frames[p->depth];
}

/* Parameters, options, allow/deny (dhcp_conf_stmt.c). */
conf_stmt_fn conf_st_u32, conf_st_bool, conf_st_ip, conf_st_str, conf_st_authoritative, conf_st_not,
    conf_st_allow, conf_st_option, conf_st_ddns_style, conf_st_ddns_updates, conf_st_log_facility,
    conf_st_global_file, conf_st_local_address, conf_st_local_port, conf_st_cache_threshold,
    conf_st_bool_noop, conf_st_lease_format;
/* failover peer declarations and references (dhcp_conf_failover.c). */
conf_stmt_fn conf_st_failover;
/* Stores an encoded option value in a scope, replacing an earlier one of the same code. */
int conf_scope_set_opt(struct conf_parser *p, struct dhcp_scope *s, uint8_t code,
		       const uint8_t *data, size_t len) CORE_WARN_UNUSED;

/* Validation after the last token (dhcp_conf_check.c). */
int conf_check(struct conf_parser *p) CORE_WARN_UNUSED;

/* Appends one element to an arena array whose capacity is implied by its count. */
void *conf_push(struct conf_parser *p, void *arr_ptr, size_t *n, size_t elem) CORE_WARN_UNUSED;

#endif
