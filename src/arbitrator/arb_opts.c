/* SPDX-License-Identifier: MPL-2.0 */
/* paceless-arbitrator's configuration: garbd's command line, config file and option string. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arb_opts.h"

static int fail(char *err, size_t len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return rc;
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

/* Keeps the first value given: the command line is read before the config file. */
static int set_str(char **dst, const char *v)
{
	if (*dst)
		return 0;
	*dst = strdup(v);
	return *dst ? 0 : -ENOMEM;
}

/* ---- durations ---- */

/* A decimal number with an optional fraction, in thousandths; false if malformed or huge. */
static bool number_milli(const char **p, uint64_t *milli)
{
	const char *s = *p;
	uint64_t whole = 0, frac = 0, scale = 1000;

	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s)) {
		whole = whole * 10 + (uint64_t)(*s++ - '0');
		if (whole > ARB_TIMEOUT_MS_MAX)
			return false;
	}
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return false;
		for (; isdigit((unsigned char)*s); s++)
			if (scale > 1) {
				scale /= 10;
				frac += (uint64_t)(*s - '0') * scale;
			}
	}
	*milli = whole * 1000 + frac;
	*p = s;
	return true;
}

int arb_duration_ms(const char *s, uint32_t *ms)
{
	/* Designators in the order ISO 8601 allows, with their length in ms. */
	static const struct {
		char c;
		bool time; /* after 'T' */
		uint64_t ms;
	} units[] = {
		{'W', false, 7 * 86400000ull}, {'D', false, 86400000ull},
		{'H', true, 3600000ull}, {'M', true, 60000ull}, {'S', true, 1000ull},
	};
	const char *p = s;
	uint64_t total = 0;
	size_t next = 0;
	bool in_time = false, any = false;

	if (*p++ != 'P')
		return CORE_EPARSE;
	while (*p) {
		uint64_t milli;
		size_t u;

		if (*p == 'T' && !in_time) {
			in_time = true;
			p++;
			if (!*p)
				return CORE_EPARSE;
			continue;
		}
		if (!number_milli(&p, &milli))
			return CORE_EPARSE;
		for (u = next; u < sizeof(units) / sizeof(units[0]); u++)
			if (units[u].c == *p && units[u].time == in_time)
				break;
		if (u == sizeof(units) / sizeof(units[0]))
			return CORE_EPARSE; /* Y and M before T (months) land here too */
		total += milli * units[u].ms / 1000;
		if (total > ARB_TIMEOUT_MS_MAX)
			return CORE_EPARSE;
		next = u + 1;
		any = true;
		p++;
	}
	if (!any || !total)
		return CORE_EPARSE;
	*ms = (uint32_t)total;
	return 0;
}

/* ---- addresses ---- */

/*
 * "host[:port]" or "[v6][:port]" to the numeric "a.b.c.d:port" / "[v6]:port" the group
 * library takes. A name is resolved here, once, at start-up (the library never resolves).
 */
static int host_port(const char *in, char *out, bool numeric_only, char *err, size_t err_len)
{
	char host[GRP_ADDR_MAX], num[INET6_ADDRSTRLEN];
	const char *port = NULL, *colon;
	unsigned long pn = ARB_PORT_DEFAULT;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	size_t hl;
	int rc;

	if (in[0] == '[') {
		const char *close = strchr(in, ']');

		if (!close || (close[1] && close[1] != ':'))
			return fail(err, err_len, CORE_EPARSE, "bad address '%s'", in);
		hl = (size_t)(close - in - 1);
		if (hl >= sizeof(host))
			return fail(err, err_len, CORE_EPARSE, "bad address '%s'", in);
		memcpy(host, in + 1, hl);
		if (close[1])
			port = close + 2;
	} else {
		colon = strrchr(in, ':');
		hl = colon ? (size_t)(colon - in) : strlen(in);
		if (hl >= sizeof(host) || (colon && strchr(in, ':') != colon))
			return fail(err, err_len, CORE_EPARSE,
				    "bad address '%s' (write an IPv6 address as [addr]:port)", in);
		memcpy(host, in, hl);
		if (colon)
			port = colon + 1;
	}
	host[hl] = '\0';
	if (!hl)
		return fail(err, err_len, CORE_EPARSE, "address '%s' has no host", in);
	if (port) {
		char *end;

		errno = 0;
		pn = strtoul(port, &end, 10);
		if (errno || *end || end == port || !pn || pn > 65535)
			return fail(err, err_len, CORE_EPARSE, "bad port in address '%s'", in);
	}
	hints.ai_flags = numeric_only ? AI_NUMERICHOST : 0;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc)
		return fail(err, err_len, CORE_EPARSE, "cannot resolve '%s': %s%s", host,
			    gai_strerror(rc), numeric_only ? " (a numeric address is needed)" : "");
	if (res->ai_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, num,
			  sizeof(num));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, num,
			  sizeof(num));
	rc = snprintf(out, GRP_ADDR_MAX, res->ai_family == AF_INET6 ? "[%s]:%lu" : "%s:%lu", num,
		      pn);
	freeaddrinfo(res);
	if (rc < 0 || rc >= GRP_ADDR_MAX)
		return fail(err, err_len, CORE_EPARSE, "address '%s' is too long", in);
	return 0;
}

/* "gcomm://h[:p],h[:p]" -> peers. */
static int parse_address(struct arb_opts *o, char *err, size_t err_len)
{
	char buf[ARB_CFG_LINE_MAX], *save = NULL, *tok;
	const char *a = o->address;

	if (strncmp(a, "gcomm://", 8))
		return fail(err, err_len, CORE_EUNSUPP,
			    "address '%s': only gcomm:// addresses are supported", a);
	a += 8;
	if (strchr(a, '?'))
		return fail(err, err_len, CORE_EUNSUPP,
			    "address '%s': options after '?' are not supported; give them with "
			    "-o \"key=value; ...\"", o->address);
	if (strlen(a) >= sizeof(buf))
		return fail(err, err_len, CORE_EPARSE, "address too long");
	snprintf(buf, sizeof(buf), "%s", a);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int rc;

		tok = trim(tok);
		if (!*tok)
			continue;
		if (o->n_peers == ARB_PEERS_MAX)
			return fail(err, err_len, CORE_EPARSE, "more than %d addresses in '%s'",
				    ARB_PEERS_MAX, o->address);
		rc = host_port(tok, o->peers[o->n_peers], false, err, err_len);
		if (rc)
			return rc;
		o->n_peers++;
	}
	if (!o->n_peers)
		return fail(err, err_len, CORE_EUNSUPP,
			    "an arbitrator cannot bootstrap a group (empty %s): give the address of "
			    "at least one running node, gcomm://host:port", o->address);
	return 0;
}

/* ---- the option string (-o) ---- */

static int parse_duration_opt(const char *k, const char *v, uint32_t *ms, char *err,
			      size_t err_len)
{
	if (arb_duration_ms(v, ms))
		return fail(err, err_len, CORE_EPARSE,
			    "option %s: bad duration '%s' (ISO 8601, as Galera: PT1S, PT0.5S, "
			    "PT1M)", k, v);
	return 0;
}

static int set_ssl_str(char **dst, const char *v, const char *k, char *err, size_t err_len)
{
	if (!*v)
		return fail(err, err_len, CORE_EPARSE, "option %s: empty value", k);
	free(*dst); /* the last one given wins, as for every other option */
	*dst = strdup(v);
	return *dst ? 0 : fail(err, err_len, -ENOMEM, "out of memory");
}

/* A Galera boolean: yes/no, true/false, on/off, 1/0. -1 when it is none of them. */
static int galera_bool(const char *v)
{
	static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false",
										     "off", "0"};

	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i]))
			return 1;
		if (!strcasecmp(v, no[i]))
			return 0;
	}
	return -1;
}

/* socket.*: Galera's TLS options. */
static int parse_ssl_option(struct arb_opts *o, const char *k, const char *v, char *err,
			    size_t err_len)
{
	if (!strcmp(k, "socket.ssl")) {
		o->ssl = galera_bool(v);
		if (o->ssl < 0)
			return fail(err, err_len, CORE_EPARSE, "option socket.ssl: '%s' is not "
				    "yes or no", v);
		return 0;
	}
	if (!strcmp(k, "socket.ssl_cert"))
		return set_ssl_str(&o->ssl_cert, v, k, err, err_len);
	if (!strcmp(k, "socket.ssl_key"))
		return set_ssl_str(&o->ssl_key, v, k, err, err_len);
	if (!strcmp(k, "socket.ssl_ca"))
		return set_ssl_str(&o->ssl_ca, v, k, err, err_len);
	if (!strcmp(k, "socket.ssl_cipher"))
		return set_ssl_str(&o->ssl_cipher, v, k, err, err_len);
	if (!strcmp(k, "socket.ssl_compression")) {
		if (galera_bool(v) == 0)
			return 0; /* we never compress */
		return fail(err, err_len, CORE_EUNSUPP, "option socket.ssl_compression: TLS "
			    "compression is not supported (it leaks plaintext); remove the option "
			    "or set it to no");
	}
	if (!strcmp(k, "socket.ssl_password_file"))
		return fail(err, err_len, CORE_EUNSUPP, "option socket.ssl_password_file: "
			    "encrypted keys are not supported; give an unencrypted key "
			    "(openssl pkey -in KEY -out PLAIN) readable by this user only");
	if (!strcmp(k, "socket.ssl_reload"))
		return fail(err, err_len, CORE_EUNSUPP, "option socket.ssl_reload: certificates "
			    "are read at start; restart the arbitrator to load new ones");
	if (!strcmp(k, "socket.dynamic"))
		return fail(err, err_len, CORE_EUNSUPP, "option socket.dynamic: TLS and plain "
			    "links do not mix; every member uses TLS or none does");
	return fail(err, err_len, CORE_EUNSUPP, "option '%s' is not supported by "
		    "paceless-arbitrator (of socket.*: socket.ssl, socket.ssl_cert, "
		    "socket.ssl_key, socket.ssl_ca, socket.ssl_cipher, socket.ssl_compression=no)",
		    k);
}

static int parse_one_option(struct arb_opts *o, char *kv, char *err, size_t err_len)
{
	char *eq = strchr(kv, '='), *k, *v;

	if (!eq)
		return fail(err, err_len, CORE_EPARSE, "option '%s': expected key=value", kv);
	*eq = '\0';
	k = trim(kv);
	v = trim(eq + 1);
	if (!strcmp(k, "gmcast.listen_addr")) {
		o->listen_ssl = !strncmp(v, "ssl://", 6);
		if (strncmp(v, "tcp://", 6) && !o->listen_ssl)
			return fail(err, err_len, CORE_EPARSE,
				    "option gmcast.listen_addr: expected tcp://host:port or "
				    "ssl://host:port, got '%s'", v);
		return host_port(v + 6, o->listen, true, err, err_len);
	}
	if (!strncmp(k, "socket.", 7))
		return parse_ssl_option(o, k, v, err, err_len);
	if (!strcmp(k, "pc.weight")) {
		char *end;
		unsigned long w;

		errno = 0;
		w = strtoul(v, &end, 10);
		if (errno || *end || end == v || w > GRP_WEIGHT_MAX)
			return fail(err, err_len, CORE_EPARSE,
				    "option pc.weight: '%s' is not a weight 0..%d", v, GRP_WEIGHT_MAX);
		o->weight = (uint32_t)w;
		return 0;
	}
	if (!strcmp(k, "evs.keepalive_period"))
		return parse_duration_opt(k, v, &o->keepalive_ms, err, err_len);
	if (!strcmp(k, "evs.suspect_timeout"))
		return parse_duration_opt(k, v, &o->suspect_ms, err, err_len);
	if (!strcmp(k, "evs.inactive_timeout"))
		return parse_duration_opt(k, v, &o->inactive_ms, err, err_len);
	return fail(err, err_len, CORE_EUNSUPP,
		    "option '%s' is not supported by paceless-arbitrator (supported: "
		    "gmcast.listen_addr, pc.weight, evs.keepalive_period, evs.suspect_timeout, "
		    "evs.inactive_timeout, socket.ssl, socket.ssl_cert, socket.ssl_key, "
		    "socket.ssl_ca, socket.ssl_cipher, socket.ssl_compression=no)", k);
}

/* TLS: what the group library needs, checked once every option is read. */
static int ssl_finish(struct arb_opts *o, char *err, size_t err_len)
{
	bool wanted = o->ssl == 1 || o->listen_ssl || o->ssl_ca || o->ssl_cipher;

	if (!o->ssl_cert != !o->ssl_key)
		return fail(err, err_len, CORE_EPARSE,
			    "option socket.%s needs socket.%s too (a certificate and its key)",
			    o->ssl_cert ? "ssl_cert" : "ssl_key",
			    o->ssl_cert ? "ssl_key" : "ssl_cert");
	if (o->ssl == 0) {
		if (o->listen_ssl)
			return fail(err, err_len, CORE_EPARSE,
				    "gmcast.listen_addr=ssl:// contradicts socket.ssl=no");
		free(o->ssl_cert);
		free(o->ssl_key);
		free(o->ssl_ca);
		free(o->ssl_cipher);
		o->ssl_cert = o->ssl_key = o->ssl_ca = o->ssl_cipher = NULL;
		return 0;
	}
	if (wanted && !o->ssl_cert)
		return fail(err, err_len, CORE_EPARSE,
			    "TLS (socket.ssl, ssl://, socket.ssl_ca or socket.ssl_cipher) needs "
			    "socket.ssl_cert and socket.ssl_key");
	return 0;
}

static int parse_options(struct arb_opts *o, char *err, size_t err_len)
{
	char *buf, *save = NULL, *tok;
	int rc = 0;

	buf = strdup(o->options);
	if (!buf)
		return fail(err, err_len, -ENOMEM, "out of memory");
	for (tok = strtok_r(buf, ";", &save); tok && !rc; tok = strtok_r(NULL, ";", &save)) {
		tok = trim(tok);
		if (*tok)
			rc = parse_one_option(o, tok, err, err_len);
	}
	free(buf);
	return rc ? rc : ssl_finish(o, err, err_len);
}

/* ---- the config file (-c) ---- */

static const char *sst_refused =
	"backup state transfers (--sst, --donor) are not supported: paceless-arbitrator only "
	"votes; take a backup from a data node instead";

/* One "key = value" of garbd's config file; the keys are its long option names. */
static int cfg_set(struct arb_opts *o, const char *k, const char *v, char *err, size_t err_len)
{
	int rc = 0;

	if (!strcmp(k, "address"))
		rc = set_str(&o->address, v);
	else if (!strcmp(k, "group"))
		rc = set_str(&o->group, v);
	else if (!strcmp(k, "options"))
		rc = set_str(&o->options, v);
	else if (!strcmp(k, "name"))
		rc = set_str(&o->name, v);
	else if (!strcmp(k, "log"))
		rc = set_str(&o->log, v);
	else if (!strcmp(k, "daemon"))
		o->daemon = o->daemon || !strcmp(v, "1") || !strcasecmp(v, "true") ||
			    !strcasecmp(v, "yes") || !strcasecmp(v, "on");
	else if (!strcmp(k, "sst") || !strcmp(k, "donor"))
		return fail(err, err_len, CORE_EUNSUPP, "%s", sst_refused);
	else
		return fail(err, err_len, CORE_EUNSUPP, "unknown key '%s'", k);
	return rc ? fail(err, err_len, rc, "out of memory") : 0;
}

static int read_cfg(struct arb_opts *o, char *err, size_t err_len)
{
	char line[ARB_CFG_LINE_MAX], msg[ARB_ERR_MAX];
	FILE *f = fopen(o->cfg, "r");
	int rc = 0, lineno = 0;

	if (!f)
		return fail(err, err_len, CORE_EPARSE, "%s: %s", o->cfg, strerror(errno));
	while (!rc && fgets(line, sizeof(line), f)) {
		char *s, *eq, *k, *v;
		size_t vl;

		if (++lineno > ARB_CFG_LINES_MAX || (!strchr(line, '\n') && !feof(f))) {
			rc = fail(msg, sizeof(msg), CORE_EPARSE, "line too long or too many lines");
			break;
		}
		s = strchr(line, '#');
		if (s)
			*s = '\0';
		s = trim(line);
		if (!*s)
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			rc = fail(msg, sizeof(msg), CORE_EPARSE, "expected key=value");
			break;
		}
		*eq = '\0';
		k = trim(s);
		v = trim(eq + 1);
		vl = strlen(v);
		if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
			v[vl - 1] = '\0';
			v++;
		}
		rc = cfg_set(o, k, v, msg, sizeof(msg));
	}
	if (!rc && ferror(f))
		rc = fail(msg, sizeof(msg), CORE_EPARSE, "read error");
	fclose(f);
	if (rc)
		fail(err, err_len, rc, "%s:%d: %s", o->cfg, lineno, msg);
	return rc;
}

/* ---- the command line ---- */

enum { OPT_SST = 1000, OPT_DONOR };

static const struct option long_opts[] = {
	{"address", required_argument, NULL, 'a'},
	{"group", required_argument, NULL, 'g'},
	{"options", required_argument, NULL, 'o'},
	{"name", required_argument, NULL, 'n'},
	{"log", required_argument, NULL, 'l'},
	{"daemon", no_argument, NULL, 'd'},
	{"cfg", required_argument, NULL, 'c'},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'v'},
	{"sst", required_argument, NULL, OPT_SST},
	{"donor", required_argument, NULL, OPT_DONOR},
	{NULL, 0, NULL, 0},
};

static int parse_argv(struct arb_opts *o, int argc, char **argv, char *err, size_t err_len)
{
	int c, rc = 0;

	opterr = 0;
	optind = 1;
	while (!rc && (c = getopt_long(argc, argv, ":a:g:o:n:l:dc:hv", long_opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			rc = set_str(&o->address, optarg);
			break;
		case 'g':
			rc = set_str(&o->group, optarg);
			break;
		case 'o':
			rc = set_str(&o->options, optarg);
			break;
		case 'n':
			rc = set_str(&o->name, optarg);
			break;
		case 'l':
			rc = set_str(&o->log, optarg);
			break;
		case 'c':
			rc = set_str(&o->cfg, optarg);
			break;
		case 'd':
			o->daemon = true;
			break;
		case 'h':
			o->help = true;
			break;
		case 'v':
			o->version = true;
			break;
		case OPT_SST:
		case OPT_DONOR:
			return fail(err, err_len, CORE_EUNSUPP, "%s", sst_refused);
		case ':':
			return fail(err, err_len, CORE_EPARSE, "option '%s' needs a value",
				    argv[optind - 1]);
		default:
			return fail(err, err_len, CORE_EUNSUPP, "unknown option '%s'",
				    argv[optind - 1]);
		}
	}
	if (rc)
		return fail(err, err_len, rc, "out of memory");
	/* garbd [options] [group address] */
	if (optind < argc && !o->address && optind + 1 == argc)
		rc = set_str(&o->address, argv[optind++]);
	if (optind < argc)
		return fail(err, err_len, CORE_EPARSE, "unexpected argument '%s'", argv[optind]);
	return rc;
}

int arb_opts_parse(struct arb_opts *o, int argc, char **argv, char *err, size_t err_len)
{
	int rc;

	memset(o, 0, sizeof(*o));
	o->weight = 1;
	o->ssl = -1;
	snprintf(o->listen, sizeof(o->listen), "%s", ARB_LISTEN_DEFAULT);
	rc = parse_argv(o, argc, argv, err, err_len);
	if (rc || o->help || o->version)
		return rc;
	if (o->cfg) {
		rc = read_cfg(o, err, err_len);
		if (rc)
			return rc;
	}
	if (!o->address)
		return fail(err, err_len, CORE_EPARSE,
			    "no group address: give -a gcomm://host:port[,host:port...]");
	if (!o->group || !o->group[0] || strlen(o->group) > 255)
		return fail(err, err_len, CORE_EPARSE, "no group name: give -g NAME (1..255 bytes)");
	if (o->name && (!o->name[0] || strlen(o->name) >= GRP_NAME_MAX))
		return fail(err, err_len, CORE_EPARSE, "name must be 1..%d bytes", GRP_NAME_MAX - 1);
	if (!o->name && set_str(&o->name, ARB_NAME_DEFAULT))
		return fail(err, err_len, -ENOMEM, "out of memory");
	rc = parse_address(o, err, err_len);
	if (!rc && o->options)
		rc = parse_options(o, err, err_len);
	return rc;
}

void arb_opts_free(struct arb_opts *o)
{
	free(o->address);
	free(o->group);
	free(o->options);
	free(o->name);
	free(o->log);
	free(o->cfg);
	free(o->ssl_cert);
	free(o->ssl_key);
	free(o->ssl_ca);
	free(o->ssl_cipher);
	memset(o, 0, sizeof(*o));
}
