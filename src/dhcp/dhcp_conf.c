/* SPDX-License-Identifier: MPL-2.0 */
/* dhcpd.conf: statement dispatch, declarations (blocks), includes, and the public API. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "core_assert.h"
#include "dhcp_conf_int.h"

static const char *const conf_kind_name[] = {
    [CK_GLOBAL] = "global", [CK_SHARED] = "shared-network", [CK_SUBNET] = "subnet",
    [CK_POOL] = "pool",     [CK_GROUP] = "group",           [CK_HOST] = "host",
};

static int open_block(struct conf_parser *p, enum conf_kind kind, struct dhcp_scope *scope,
		      const struct conf_pos *pos)
{
	struct conf_frame *outer = conf_cur(p), *f;
	int r = conf_expect_punct(p, '{', conf_kind_name[kind]);

	if (r)
		return r;
	if (p->depth >= CONF_BLOCK_DEPTH_MAX)
		return conf_fail(p, pos, CORE_ETOOBIG, "blocks nested deeper than %d",
				 CONF_BLOCK_DEPTH_MAX);
	f = &p->frames[++p->depth];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->pos = *pos;
	f->scope = scope;
	f->shared = outer->shared;
	f->subnet = outer->subnet;
	scope->parent = outer->scope;
	return 0;
}

static void *conf_new(struct conf_parser *p, size_t n)
{
	void *o = core_arena_alloc(&p->c->arena, n);

	if (!o)
		conf_fail(p, NULL, -ENOMEM, "out of memory (configuration too large)");
	return o;
}

int conf_read_name(struct conf_parser *p, const char *stmt, bool quoted_ok, const char **out)
{
	char buf[64];
	int r = conf_next(p);

	if (r)
		return r;
	if (p->tok.type != CT_WORD && !(quoted_ok && p->tok.type == CT_STRING))
		return conf_fail(p, &p->tok.pos, CORE_EPARSE, "expected a name after '%s', got %s",
				 stmt, conf_tok_show(&p->tok, buf, sizeof(buf)));
	if (memchr(p->tok.text, '\0', p->tok.len))
		return conf_fail(p, &p->tok.pos, CORE_EPARSE, "NUL byte in a name");
	*out = core_arena_memdup(&p->c->arena, p->tok.text, p->tok.len);
	return *out ? 0 : conf_fail(p, NULL, -ENOMEM, "out of memory");
}

static int st_shared(struct conf_parser *p, const struct conf_stmt *st, const struct conf_pos *pos)
{
	struct dhcp_shared *sh, **slot;
	int r;

	if (conf_cur(p)->shared || conf_cur(p)->subnet)
		return conf_fail(p, pos, CORE_EPARSE,
				 "shared-network is not allowed inside a shared-network or subnet");
	sh = conf_new(p, sizeof(*sh));
	if (!sh)
		return -ENOMEM;
	r = conf_read_name(p, st->name, true, &sh->name);
	if (r)
		return r;
	slot = conf_push(p, &p->c->shared, &p->c->shared_n, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	*slot = sh;
	r = open_block(p, CK_SHARED, &sh->scope, pos);
	if (!r)
		conf_cur(p)->shared = sh;
	return r;
}

/* A contiguous mask with no host bits in the network number. */
static int check_subnet(struct conf_parser *p, uint32_t net, uint32_t mask,
			const struct conf_pos *pos)
{
	uint32_t host = ~mask;

	if (host & (host + 1))
		return conf_fail(p, pos, CORE_EPARSE,
				 "subnet netmask %u.%u.%u.%u is not contiguous", mask >> 24,
				 (mask >> 16) & 255, (mask >> 8) & 255, mask & 255);
	if (net & host)
		return conf_fail(p, pos, CORE_EPARSE,
				 "subnet %u.%u.%u.%u netmask %u.%u.%u.%u: bad subnet number/mask "
				 "combination (host bits are set)",
				 net >> 24, (net >> 16) & 255, (net >> 8) & 255, net & 255,
				 mask >> 24, (mask >> 16) & 255, (mask >> 8) & 255, mask & 255);
	return 0;
}

/* The shared network a subnet joins: the enclosing one, or a new implicit one. */
static struct dhcp_shared *subnet_shared(struct conf_parser *p)
{
	struct dhcp_shared *sh = conf_cur(p)->shared, **slot;

	if (sh)
		return sh;
	sh = conf_new(p, sizeof(*sh));
	slot = sh ? conf_push(p, &p->c->shared, &p->c->shared_n, sizeof(*slot)) : NULL;
	if (!slot)
		return NULL;
	sh->scope.parent = conf_cur(p)->scope;
	*slot = sh;
	return sh;
}

static int st_subnet(struct conf_parser *p, const struct conf_stmt *st, const struct conf_pos *pos)
{
	struct dhcp_subnet *sn, **s1, **s2;
	struct dhcp_shared *sh;
	uint32_t net, mask;
	int r;

	(void)st;
	if (conf_cur(p)->subnet)
		return conf_fail(p, pos, CORE_EPARSE, "subnet is not allowed inside a subnet");
	r = conf_next(p);
	if (!r)
		r = conf_parse_ip(p, &p->tok, &net);
	if (!r)
		r = conf_expect_word(p, "netmask", "the subnet number");
	if (!r)
		r = conf_next(p);
	if (!r)
		r = conf_parse_ip(p, &p->tok, &mask);
	if (!r)
		r = check_subnet(p, net, mask, pos);
	if (r)
		return r;
	sn = conf_new(p, sizeof(*sn));
	sh = sn ? subnet_shared(p) : NULL;
	s1 = sh ? conf_push(p, &sh->subnets, &sh->subnets_n, sizeof(*s1)) : NULL;
	s2 = s1 ? conf_push(p, &p->c->subnets, &p->c->subnets_n, sizeof(*s2)) : NULL;
	if (!s2)
		return -ENOMEM;
	*s1 = *s2 = sn;
	sn->net = net;
	sn->mask = mask;
	sn->shared = sh;
	r = open_block(p, CK_SUBNET, &sn->scope, pos);
	if (r)
		return r;
	if (!sh->name)
		sn->scope.parent = &sh->scope;
	conf_cur(p)->subnet = sn;
	return 0;
}

static struct dhcp_pool *new_pool(struct conf_parser *p, struct dhcp_subnet *sn,
				  struct dhcp_shared *sh, const struct conf_pos *pos)
{
	struct dhcp_pool *pool = conf_new(p, sizeof(*pool)), **slot = NULL;
	struct conf_pool_ref *ref;

	ref = pool ? conf_push(p, &p->pools, &p->pools_n, sizeof(*ref)) : NULL;
	if (!ref)
		return NULL;
	ref->pool = pool;
	ref->pos = *pos;
	ref->shared = sn ? NULL : sh;
	if (sn) {
		slot = conf_push(p, &sn->pools, &sn->pools_n, sizeof(*slot));
		if (!slot)
			return NULL;
		*slot = pool;
		pool->subnet = sn;
		pool->scope.parent = &sn->scope;
	}
	return pool;
}

static int st_pool(struct conf_parser *p, const struct conf_stmt *st, const struct conf_pos *pos)
{
	struct conf_frame *f = conf_cur(p);
	struct dhcp_pool *pool;
	int r;

	(void)st;
	pool = new_pool(p, f->kind == CK_SUBNET ? f->subnet : NULL, f->shared, pos);
	if (!pool)
		return -ENOMEM;
	r = open_block(p, CK_POOL, &pool->scope, pos);
	if (r)
		return r;
	f = conf_cur(p);
	f->pool = pool;
	f->pool_ref = p->pools_n - 1;
	return 0;
}

static int read_range(struct conf_parser *p, struct dhcp_range *rg)
{
	uint32_t t;
	int r = conf_peek(p);

	if (!r && conf_tok_is(&p->peek, "dynamic-bootp")) {
		rg->dynamic_bootp = true;
		r = conf_next(p);
	}
	if (!r)
		r = conf_next(p);
	if (!r)
		r = conf_parse_ip(p, &p->tok, &rg->lo);
	if (!r)
		r = conf_peek(p);
	if (r)
		return r;
	rg->hi = rg->lo;
	if (!conf_tok_punct(&p->peek, ';')) {
		r = conf_next(p);
		if (!r)
			r = conf_parse_ip(p, &p->tok, &rg->hi);
	}
	if (!r)
		r = conf_expect_semi(p, "range");
	/* ISC accepts the bounds in either order. */
	if (rg->lo > rg->hi) {
		t = rg->lo;
		rg->lo = rg->hi;
		rg->hi = t;
	}
	return r;
}

static int st_range(struct conf_parser *p, const struct conf_stmt *st, const struct conf_pos *pos)
{
	struct conf_frame *f = conf_cur(p);
	struct dhcp_range rg = {0}, *slot;
	struct conf_range_ref *ref;
	struct dhcp_pool *pool;
	int r;

	(void)st;
	r = read_range(p, &rg);
	if (r)
		return r;
	if (f->kind == CK_SUBNET && !f->implicit) {
		f->implicit = new_pool(p, f->subnet, NULL, pos);
		if (!f->implicit)
			return -ENOMEM;
	}
	pool = f->kind == CK_POOL ? f->pool : f->implicit;
	slot = conf_push(p, &pool->ranges, &pool->ranges_n, sizeof(*slot));
	ref = slot ? conf_push(p, &p->ranges, &p->ranges_n, sizeof(*ref)) : NULL;
	if (!ref)
		return -ENOMEM;
	*slot = rg;
	ref->pool = pool;
	ref->idx = pool->ranges_n - 1;
	ref->pos = *pos;
	return 0;
}

static int st_host(struct conf_parser *p, const struct conf_stmt *st, const struct conf_pos *pos)
{
	struct dhcp_host *h = conf_new(p, sizeof(*h)), **slot;
	struct conf_pos *hp;
	int r;

	if (!h)
		return -ENOMEM;
	r = conf_read_name(p, st->name, false, &h->name);
	if (r)
		return r;
	slot = conf_push(p, &p->c->hosts, &p->c->hosts_n, sizeof(*slot));
	hp = slot ? conf_push(p, &p->host_pos, &p->host_pos_n, sizeof(*hp)) : NULL;
	if (!hp)
		return -ENOMEM;
	*slot = h;
	*hp = *pos;
	r = open_block(p, CK_HOST, &h->scope, pos);
	if (!r)
		conf_cur(p)->host = h;
	return r;
}

static int st_group(struct conf_parser *p, const struct conf_stmt *st, const struct conf_pos *pos)
{
	struct dhcp_scope *s = conf_new(p, sizeof(*s));
	int r;

	(void)st;
	if (!s)
		return -ENOMEM;
	/* A group may carry a name (used by ISC's OMAPI only). */
	r = conf_peek(p);
	if (!r && (p->peek.type == CT_WORD || p->peek.type == CT_STRING))
		r = conf_next(p);
	if (!r)
		r = open_block(p, CK_GROUP, s, pos);
	return r;
}

static int st_hardware(struct conf_parser *p, const struct conf_stmt *st,
		       const struct conf_pos *pos)
{
	static const struct {
		const char *name;
		uint8_t htype, hlen; /* 0 = any length up to 16 */
	} types[] = {{"ethernet", 1, 6}, {"token-ring", 6, 0}, {"fddi", 8, 0}};
	struct dhcp_host *h = conf_cur(p)->host;
	size_t i, n;
	char buf[64];
	int r;

	if (h->hlen)
		return conf_fail(p, pos, CORE_EPARSE, "host %s: hardware address already set",
				 h->name);
	r = conf_next(p);
	for (i = 0; !r && i < ARRAY_SIZE(types) && !conf_tok_is(&p->tok, types[i].name); i++)
		;
	if (!r && i == ARRAY_SIZE(types))
		return conf_fail(p, &p->tok.pos, CORE_EPARSE,
				 "expected ethernet, token-ring or fddi after 'hardware', got %s",
				 conf_tok_show(&p->tok, buf, sizeof(buf)));
	if (!r)
		r = conf_next(p);
	if (!r && p->tok.type != CT_WORD)
		r = conf_fail(p, &p->tok.pos, CORE_EPARSE, "expected a hardware address");
	if (!r)
		r = conf_parse_bytes(p, &p->tok, h->hw, sizeof(h->hw), &n);
	if (!r && (n == 0 || (types[i].hlen && n != types[i].hlen)))
		r = conf_fail(p, &p->tok.pos, CORE_EPARSE, "%s address must have %u bytes, got %zu",
			      types[i].name, (unsigned)types[i].hlen, n);
	if (!r)
		r = conf_expect_semi(p, st->name);
	if (r)
		return r;
	h->htype = types[i].htype;
	h->hlen = (uint8_t)n;
	return 0;
}

static int st_fixed(struct conf_parser *p, const struct conf_stmt *st, const struct conf_pos *pos)
{
	struct dhcp_host *h = conf_cur(p)->host;
	uint32_t *slot;
	const char *name;
	struct conf_pos at;
	int r;

	for (;;) {
		if (h->fixed_n >= CONF_FIXED_MAX)
			return conf_fail(p, pos, CORE_ETOOBIG, "more than %d fixed addresses",
					 CONF_FIXED_MAX);
		slot = conf_push(p, &h->fixed, &h->fixed_n, sizeof(*slot));
		if (!slot)
			return -ENOMEM;
		r = conf_next(p);
		at = p->tok.pos;
		if (!r)
			r = conf_parse_ip_or_name(p, &p->tok, slot, &name);
		if (!r && name)
			r = conf_add_name(p, &(struct dhcp_conf_name){
						 .kind = DHCP_NAME_FIXED, .name = name,
						 .file = at.file, .line = at.line, .col = at.col,
						 .host = h, .index = h->fixed_n - 1});
		if (!r)
			r = conf_next(p);
		if (r)
			return r;
		if (conf_tok_punct(&p->tok, ';'))
			return 0;
		if (!conf_tok_punct(&p->tok, ','))
			return conf_fail(p, &p->tok.pos, CORE_EPARSE,
					 "expected ',' or ';' after an address in '%s'", st->name);
	}
}

/* Reads a whole regular file of at most max bytes into a malloc'd buffer. */
static int read_file(const char *path, size_t max, char **out, size_t *len)
{
	struct stat sb;
	char *buf;
	size_t got = 0;
	ssize_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		r = S_ISDIR(sb.st_mode) ? -EISDIR : -EINVAL;
		goto out;
	}
	if ((uint64_t)sb.st_size > max) {
		r = CORE_ETOOBIG;
		goto out;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	while (got < (size_t)sb.st_size) {
		n = read(fd, buf + got, (size_t)sb.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (n < 0) {
		r = -errno;
		free(buf);
		goto out;
	}
	*out = buf;
	*len = got;
out:
	close(fd);
	return r;
}

static int st_include(struct conf_parser *p, const struct conf_stmt *st, const struct conf_pos *pos)
{
	char path[CONF_TOKEN_MAX + 1], *text = NULL;
	size_t len = 0;
	int r;

	if (!p->allow_include)
		return conf_fail(p, pos, CORE_EUNSUPP,
				 "include is not available when parsing from memory");
	r = conf_next(p);
	if (!r &&
	    (p->tok.type != CT_STRING || !p->tok.len || memchr(p->tok.text, '\0', p->tok.len)))
		r = conf_fail(p, &p->tok.pos, CORE_EPARSE, "expected a quoted file name");
	if (r)
		return r;
	memcpy(path, p->tok.text, p->tok.len + 1);
	r = conf_expect_semi(p, st->name);
	if (r)
		return r;
	if (p->src_n > CONF_INCLUDE_DEPTH_MAX)
		return conf_fail(p, pos, CORE_ETOOBIG, "includes nested deeper than %d",
				 CONF_INCLUDE_DEPTH_MAX);
	r = read_file(path, CONF_TEXT_MAX - p->text_total, &text, &len);
	if (r == CORE_ETOOBIG)
		return conf_fail(p, pos, r, "include \"%s\": configuration larger than %u bytes",
				 path, CONF_TEXT_MAX);
	if (r)
		return conf_fail(p, pos, r, "include \"%s\": %s", path, core_strerror(r));
	p->text_total += len;
	/* A token peeked from this file would otherwise be read after the included ones. */
	ASSERT(!p->have_peek);
	return conf_src_push(p, path, text, len, text);
}

#define IN_G             CONF_IN(CK_GLOBAL)
#define IN_SH            CONF_IN(CK_SHARED)
#define IN_SN            CONF_IN(CK_SUBNET)
#define IN_PL            CONF_IN(CK_POOL)
#define IN_GR            CONF_IN(CK_GROUP)
#define IN_H             CONF_IN(CK_HOST)
#define SCOPE_OFF(field) offsetof(struct dhcp_scope, field)

static const struct conf_stmt conf_stmts[] = {
    {"subnet", st_subnet, IN_G | IN_SH | IN_GR, 0, 0},
    {"shared-network", st_shared, IN_G | IN_GR, 0, 0},
    {"host", st_host, IN_G | IN_SH | IN_SN | IN_GR | IN_PL, 0, 0},
    {"group", st_group, IN_G | IN_SH | IN_SN | IN_GR, 0, 0},
    {"pool", st_pool, IN_SH | IN_SN, 0, 0},
    {"range", st_range, IN_SN | IN_PL, 0, 0},
    {"hardware", st_hardware, IN_H, 0, 0},
    {"fixed-address", st_fixed, IN_H, 0, 0},
    {"failover", conf_st_failover, CONF_IN_ANY, 0, 0},
    {"include", st_include, CONF_IN_ANY, 0, 0},
    {"option", conf_st_option, CONF_IN_ANY, 0, 0},
    {"default-lease-time", conf_st_u32, CONF_IN_ANY, DHCP_P_DEFAULT_LEASE_TIME,
     SCOPE_OFF(default_lease_time_s)},
    {"max-lease-time", conf_st_u32, CONF_IN_ANY, DHCP_P_MAX_LEASE_TIME,
     SCOPE_OFF(max_lease_time_s)},
    {"min-lease-time", conf_st_u32, CONF_IN_ANY, DHCP_P_MIN_LEASE_TIME,
     SCOPE_OFF(min_lease_time_s)},
    {"ping-timeout", conf_st_u32, CONF_IN_ANY, DHCP_P_PING_TIMEOUT, SCOPE_OFF(ping_timeout_s)},
    {"ping-check", conf_st_bool, CONF_IN_ANY, DHCP_P_PING_CHECK, SCOPE_OFF(ping_check)},
    {"one-lease-per-client", conf_st_bool, CONF_IN_ANY, DHCP_P_ONE_LEASE_PER_CLIENT,
     SCOPE_OFF(one_lease_per_client)},
    {"always-broadcast", conf_st_bool, CONF_IN_ANY, DHCP_P_ALWAYS_BROADCAST,
     SCOPE_OFF(always_broadcast)},
    {"get-lease-hostnames", conf_st_bool, CONF_IN_ANY, DHCP_P_GET_LEASE_HOSTNAMES,
     SCOPE_OFF(get_lease_hostnames)},
    {"use-host-decl-names", conf_st_bool, CONF_IN_ANY, DHCP_P_USE_HOST_DECL_NAMES,
     SCOPE_OFF(use_host_decl_names)},
    {"boot-unknown-clients", conf_st_bool, CONF_IN_ANY, DHCP_P_UNKNOWN_CLIENTS,
     SCOPE_OFF(allow_unknown)},
    {"next-server", conf_st_ip, CONF_IN_ANY, DHCP_P_NEXT_SERVER, SCOPE_OFF(next_server)},
    {"server-identifier", conf_st_ip, CONF_IN_ANY, DHCP_P_SERVER_IDENTIFIER,
     SCOPE_OFF(server_identifier)},
    {"filename", conf_st_str, CONF_IN_ANY, DHCP_P_FILENAME, SCOPE_OFF(filename)},
    {"server-name", conf_st_str, CONF_IN_ANY, DHCP_P_SERVER_NAME, SCOPE_OFF(server_name)},
    {"authoritative", conf_st_authoritative, CONF_IN_ANY, 0, 0},
    {"not", conf_st_not, CONF_IN_ANY, 0, 0},
    {"allow", conf_st_allow, CONF_IN_ANY, 0, 0},
    {"deny", conf_st_allow, CONF_IN_ANY, 0, 0},
    {"ignore", conf_st_allow, CONF_IN_ANY, 0, 0},
    {"ddns-update-style", conf_st_ddns_style, CONF_IN_ANY, 0, 0},
    {"ddns-updates", conf_st_ddns_updates, CONF_IN_ANY, 0, 0},
    {"dhcp-cache-threshold", conf_st_cache_threshold, CONF_IN_ANY, 0, 0},
    {"update-static-leases", conf_st_bool_noop, CONF_IN_ANY, 0, 0},
    {"server-id-check", conf_st_bool_noop, CONF_IN_ANY, 0, 0},
    {"log-facility", conf_st_log_facility, IN_G, 0, 0},
    {"db-time-format", conf_st_lease_format, IN_G, 0, 0},
    {"lease-id-format", conf_st_lease_format, IN_G, 0, 0},
    {"lease-file-name", conf_st_global_file, IN_G, 0, 0},
    {"pid-file-name", conf_st_global_file, IN_G, 0, 0},
    {"local-address", conf_st_local_address, IN_G, 0, 0},
    {"local-port", conf_st_local_port, IN_G, 0, 0},
};

#define HINT_CLASS                                                                                 \
	"client classes and conditional statements are not supported; use host declarations "      \
	"and pools with 'allow known-clients' / 'deny unknown-clients'"
#define HINT_DDNS                                                                                  \
	"paceless does no dynamic DNS updates; remove it and write 'ddns-update-style none;'"
#define HINT_EXEC "executable statements are not supported; remove it"
#define HINT_V6   "paceless-dhcpd serves DHCPv4 only; move it to the DHCPv6 server's configuration"
#define HINT_NONE "paceless does not implement it; remove it"

/* ISC statements we recognise but do not implement, with what to write instead. */
static const struct {
	const char *name, *hint;
} conf_unsupported[] = {
    {"class", HINT_CLASS},
    {"subclass", HINT_CLASS},
    {"match", HINT_CLASS},
    {"spawn", HINT_CLASS},
    {"if", HINT_CLASS},
    {"elsif", HINT_CLASS},
    {"else", HINT_CLASS},
    {"switch", HINT_CLASS},
    {"case", HINT_CLASS},
    {"default", HINT_CLASS},
    {"key", HINT_DDNS},
    {"zone", HINT_DDNS},
    {"ddns-domainname", HINT_DDNS},
    {"ddns-rev-domainname", HINT_DDNS},
    {"ddns-hostname", HINT_DDNS},
    {"ddns-ttl", HINT_DDNS},
    {"ddns-local-address4", HINT_DDNS},
    {"ddns-local-address6", HINT_DDNS},
    {"ddns-guard-id-must-match", HINT_DDNS},
    {"ddns-other-guard-is-dynamic", HINT_DDNS},
    {"ddns-dual-stack-mixed-mode", HINT_DDNS},
    {"update-conflict-detection", HINT_DDNS},
    {"update-optimization", HINT_DDNS},
    {"do-forward-updates", HINT_DDNS},
    {"do-reverse-updates", HINT_DDNS},
    {"client-updates", HINT_DDNS},
    {"fqdn-reply", HINT_DDNS},
    {"omapi-port", "OMAPI is not supported; use pacelessctl and the control socket"},
    {"omapi-key", "OMAPI is not supported; use pacelessctl and the control socket"},
    {"on", "event hooks (on commit / release / expiry) are not supported; remove the block"},
    {"set", HINT_EXEC},
    {"unset", HINT_EXEC},
    {"eval", HINT_EXEC},
    {"execute", HINT_EXEC},
    {"log", HINT_EXEC},
    {"return", HINT_EXEC},
    {"add", HINT_EXEC},
    {"subnet6", HINT_V6},
    {"range6", HINT_V6},
    {"prefix6", HINT_V6},
    {"fixed-address6", HINT_V6},
    {"fixed-prefix6", HINT_V6},
    {"local-address6", HINT_V6},
    {"bind-local-address6", HINT_V6},
    {"dhcpv6-lease-file-name", HINT_V6},
    {"dhcpv6-pid-file-name", HINT_V6},
    {"dhcpv6-set-tee-times", HINT_V6},
    {"preferred-lifetime", HINT_V6},
    {"prefix-length-mode", HINT_V6},
    {"limit-addrs-per-ia", HINT_V6},
    {"limit-prefs-per-ia", HINT_V6},
    {"persist-eui-64-leases", HINT_V6},
    {"server-duid", HINT_V6},
    {"release-on-roam", HINT_V6},
    {"vendor-option-space",
     "option spaces are not supported; write vendor-encapsulated-options as hex bytes"},
    {"site-option-space", "option spaces are not supported"},
    {"lease", "lease declarations belong in the lease file, not in dhcpd.conf"},
    {"billing", HINT_CLASS},
    {"ping-timeout-ms", "write ping-timeout in whole seconds"},
    {"abandon-lease-time", HINT_NONE},
    {"adaptive-lease-time-threshold", HINT_NONE},
    {"delayed-ack", HINT_NONE},
    {"max-ack-delay", HINT_NONE},
    {"dont-use-fsync", HINT_NONE},
    {"dynamic-bootp-lease-cutoff", HINT_NONE},
    {"dynamic-bootp-lease-length", HINT_NONE},
    {"min-secs", HINT_NONE},
    {"stash-agent-options", HINT_NONE},
    {"use-lease-addr-for-default-route", HINT_NONE},
    {"infinite-is-reserved", HINT_NONE},
    {"limited-broadcast-address", HINT_NONE},
    {"log-threshold-high", HINT_NONE},
    {"log-threshold-low", HINT_NONE},
    {"ping-cltt-secs", HINT_NONE},
    {"remote-port", HINT_NONE},
    {"echo-client-id", HINT_NONE},
    {"ignore-client-uids", HINT_NONE},
    {"check-secs-byte-order", HINT_NONE},
    {"authoring-byte-order", HINT_NONE},
    {"vendor-class", HINT_CLASS},
    {"user-class", HINT_CLASS},
};

static int dispatch(struct conf_parser *p)
{
	const struct conf_frame *f = conf_cur(p);
	const struct conf_pos pos = p->tok.pos;
	char buf[64];

	for (size_t i = 0; i < ARRAY_SIZE(conf_stmts); i++) {
		const struct conf_stmt *st = &conf_stmts[i];

		if (!conf_tok_is(&p->tok, st->name))
			continue;
		if (st->where & CONF_IN(f->kind))
			return st->fn(p, st, &pos);
		if (st->where == IN_G)
			return conf_fail(p, &pos, CORE_EPARSE,
					 "'%s' is only valid at global scope: move it out of the "
					 "%s block",
					 st->name, conf_kind_name[f->kind]);
		return conf_fail(p, &pos, CORE_EPARSE, "'%s' is not allowed in a %s block",
				 st->name, conf_kind_name[f->kind]);
	}
	for (size_t i = 0; i < ARRAY_SIZE(conf_unsupported); i++)
		if (conf_tok_is(&p->tok, conf_unsupported[i].name))
			return conf_fail(p, &pos, CORE_EUNSUPP, "unsupported statement '%s': %s",
					 conf_unsupported[i].name, conf_unsupported[i].hint);
	return conf_fail(p, &pos, CORE_EPARSE, "expected a parameter or declaration, got %s",
			 conf_tok_show(&p->tok, buf, sizeof(buf)));
}

static int close_block(struct conf_parser *p)
{
	const struct conf_frame *f = conf_cur(p);

	if (p->depth == 0)
		return conf_fail(p, &p->tok.pos, CORE_EPARSE, "'}' without an open block");
	if (p->src[p->src_n - 1].block_depth >= p->depth)
		return conf_fail(p, &p->tok.pos, CORE_EPARSE,
				 "'}' closes a block opened outside this included file");
	if (f->kind == CK_SHARED && f->shared->subnets_n == 0)
		return conf_fail(p, &f->pos, CORE_EPARSE, "shared-network '%s' declares no subnet",
				 f->shared->name);
	if (f->kind == CK_POOL && f->pool->ranges_n == 0)
		return conf_fail(
		    p, &f->pos, CORE_EPARSE,
		    "pool has no range: every pool needs at least one range statement");
	p->depth--;
	return 0;
}

static int parse_all(struct conf_parser *p)
{
	char buf[64];
	int r;

	for (;;) {
		r = conf_next(p);
		if (r)
			return r;
		if (p->tok.type == CT_EOF) {
			if (p->depth == 0)
				return 0;
			return conf_fail(p, &conf_cur(p)->pos, CORE_EPARSE,
					 "%s block is not closed: expected '}' before end of file",
					 conf_kind_name[conf_cur(p)->kind]);
		}
		if (conf_tok_punct(&p->tok, '}'))
			r = close_block(p);
		else if (p->tok.type == CT_WORD)
			r = dispatch(p);
		else
			r = conf_fail(p, &p->tok.pos, CORE_EPARSE,
				      "expected a parameter or declaration, got %s",
				      conf_tok_show(&p->tok, buf, sizeof(buf)));
		if (r)
			return r;
	}
}

/* ISC's defaults, set at global scope so that every lookup of these finds a value. */
static void global_defaults(struct dhcp_scope *g)
{
	g->default_lease_time_s = 43200;
	g->max_lease_time_s = 86400;
	g->ping_check = true;
	g->ping_timeout_s = 1;
	g->allow_bootp = true;
	g->allow_unknown = true;
	g->allow_booting = true;
	g->set = 1u << DHCP_P_DEFAULT_LEASE_TIME | 1u << DHCP_P_MAX_LEASE_TIME |
		 1u << DHCP_P_AUTHORITATIVE | 1u << DHCP_P_PING_CHECK | 1u << DHCP_P_PING_TIMEOUT |
		 1u << DHCP_P_ONE_LEASE_PER_CLIENT | 1u << DHCP_P_BOOTP |
		 1u << DHCP_P_UNKNOWN_CLIENTS | 1u << DHCP_P_BOOTING |
		 1u << DHCP_P_ALWAYS_BROADCAST | 1u << DHCP_P_GET_LEASE_HOSTNAMES |
		 1u << DHCP_P_USE_HOST_DECL_NAMES;
}

/* Runs the parser over the source already pushed; frees p (but not p->c). */
static int conf_run(struct conf_parser *p, struct dhcp_conf **out)
{
	int r = parse_all(p);

	if (!r)
		r = conf_check(p);
	conf_src_pop_all(p);
	if (r && !p->failed)
		conf_fail(p, NULL, r, "%s", core_strerror(r));
	if (r)
		dhcp_conf_free(p->c);
	else
		*out = p->c;
	free(p);
	return r;
}

static struct conf_parser *conf_parser_new(char *err, size_t errlen)
{
	struct conf_parser *p = calloc(1, sizeof(*p));

	if (err && errlen)
		err[0] = '\0';
	if (!p)
		return NULL;
	p->c = calloc(1, sizeof(*p->c));
	if (!p->c) {
		free(p);
		return NULL;
	}
	p->err = err;
	p->errlen = errlen;
	p->c->arena.max_bytes = CONF_ARENA_MAX;
	p->c->log_facility = LOG_DAEMON;
	global_defaults(&p->c->global);
	p->frames[0].kind = CK_GLOBAL;
	p->frames[0].scope = &p->c->global;
	return p;
}

int dhcp_conf_parse(const char *text, size_t len, const char *name, struct dhcp_conf **out,
		    char *err, size_t errlen)
{
	struct conf_parser *p = conf_parser_new(err, errlen);
	int r;

	*out = NULL;
	if (!p)
		return -ENOMEM;
	if (len > CONF_TEXT_MAX)
		r = conf_fail(p, NULL, CORE_ETOOBIG, "%s: configuration larger than %u bytes",
			      name ? name : "(memory)", CONF_TEXT_MAX);
	else
		r = conf_src_push(p, name ? name : "(memory)", text, len, NULL);
	if (r) {
		dhcp_conf_free(p->c);
		free(p);
		return r;
	}
	return conf_run(p, out);
}

int dhcp_conf_load(const char *path, struct dhcp_conf **out, char *err, size_t errlen)
{
	struct conf_parser *p = conf_parser_new(err, errlen);
	char *text = NULL;
	size_t len = 0;
	int r;

	*out = NULL;
	if (!p)
		return -ENOMEM;
	p->allow_include = true;
	r = read_file(path, CONF_TEXT_MAX, &text, &len);
	if (r)
		conf_fail(p, NULL, r, "%s: %s", path, core_strerror(r));
	else
		r = conf_src_push(p, path, text, len, text);
	if (r) {
		dhcp_conf_free(p->c);
		free(p);
		return r;
	}
	p->text_total = len;
	return conf_run(p, out);
}

void dhcp_conf_free(struct dhcp_conf *c)
{
	if (!c)
		return;
	core_arena_free(&c->arena);
	free(c);
}

const struct dhcp_scope *dhcp_scope_param(const struct dhcp_scope *s, enum dhcp_param p)
{
	ASSERT(p < DHCP_P_MAX);
	for (; s; s = s->parent)
		if (s->set & (1u << p))
			return s;
	return NULL;
}

const struct dhcp_opt *dhcp_scope_opt(const struct dhcp_scope *s, uint8_t code)
{
	for (; s; s = s->parent)
		for (size_t i = 0; i < s->opts_n; i++)
			if (s->opts[i].code == code)
				return &s->opts[i];
	return NULL;
}

struct dhcp_subnet *dhcp_conf_subnet_for(const struct dhcp_conf *c, uint32_t addr)
{
	struct dhcp_subnet *best = NULL;
	size_t lo = 0, hi = c->subnets_n;

	if (c->subnets_by_net) {
		/* The last subnet whose network is <= addr is the only candidate. */
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (c->subnets_by_net[mid]->net <= addr)
				lo = mid + 1;
			else
				hi = mid;
		}
		best = lo ? c->subnets_by_net[lo - 1] : NULL;
		return best && (addr & best->mask) == best->net ? best : NULL;
	}
	/* Overlapping declarations (ISC only warns): the most specific subnet wins. */
	for (size_t i = 0; i < c->subnets_n; i++) {
		struct dhcp_subnet *s = c->subnets[i];

		if ((addr & s->mask) == s->net && (!best || s->mask > best->mask))
			best = s;
	}
	return best;
}
