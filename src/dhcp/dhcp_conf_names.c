/* SPDX-License-Identifier: MPL-2.0 */
/* Host names in dhcpd.conf: looked up when the configuration is loaded to be served. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "core_log.h"
#include "dhcp_conf.h"
#include "dhcp_option.h"

int dhcp_conf_lookup_system(void *ctx, const char *name, uint32_t *addr, char *why,
			    size_t whylen)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_DGRAM};
	struct addrinfo *res = NULL;
	int rc;

	(void)ctx;
	rc = getaddrinfo(name, NULL, &hints, &res);
	if (rc != 0 || !res) {
		snprintf(why, whylen, "%s", rc ? gai_strerror(rc) : "no IPv4 address");
		if (res)
			freeaddrinfo(res);
		return -1;
	}
	*addr = ntohl(((const struct sockaddr_in *)(const void *)res->ai_addr)->sin_addr.s_addr);
	freeaddrinfo(res);
	return 0;
}

/* Removes the option whose value is data from s (a later statement may have replaced it). */
static void drop_option(struct dhcp_scope *s, uint8_t code, const uint8_t *data)
{
	for (size_t i = 0; i < s->opts_n; i++) {
		if (s->opts[i].code == code && s->opts[i].data == data) {
			memmove(&s->opts[i], &s->opts[i + 1], (s->opts_n - i - 1) * sizeof(*s->opts));
			s->opts_n--;
			return;
		}
	}
}

static void drop_fixed(struct dhcp_host *h, size_t index)
{
	memmove(&h->fixed[index], &h->fixed[index + 1], (h->fixed_n - index - 1) * sizeof(*h->fixed));
	h->fixed_n--;
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static const char *what(const struct dhcp_conf_name *n, char *buf, size_t len)
{
	const struct dhcp_option_def *d;

	switch (n->kind) {
	case DHCP_NAME_OPTION:
		d = dhcp_option_by_code(n->code);
		if (d)
			snprintf(buf, len, "option %s", d->name);
		else
			snprintf(buf, len, "option code %u", n->code);
		return buf;
	case DHCP_NAME_FIXED:
		return "the fixed address";
	case DHCP_NAME_PARAM:
		return n->param == DHCP_P_NEXT_SERVER ? "next-server" : "server-identifier";
	case DHCP_NAME_ADDRESS:
		return "the failover address";
	}
	return "the value";
}

size_t dhcp_conf_resolve(struct dhcp_conf *c, dhcp_conf_lookup_fn lookup, void *ctx)
{
	size_t dropped = 0;

	/*
	 * Backwards, so that dropping a host's fixed address never moves one still to be
	 * looked up (a host's names are recorded in list order).
	 */
	for (size_t i = c->names_n; i-- > 0;) {
		const struct dhcp_conf_name *n = &c->names[i];
		char why[256] = "", buf[80];
		uint32_t addr;

		if (lookup(ctx, n->name, &addr, why, sizeof(why)) == 0) {
			if (n->kind == DHCP_NAME_OPTION)
				put_u32(n->data + n->off, addr);
			else if (n->kind == DHCP_NAME_FIXED)
				n->host->fixed[n->index] = addr;
			else
				*n->field = addr; /* PARAM, ADDRESS */
			continue;
		}
		CLOG_WARN("%s:%u:%u: cannot resolve '%s' (%s): %s left out", n->file, n->line,
			  n->col, n->name, why, what(n, buf, sizeof(buf)));
		dropped++;
		if (n->kind == DHCP_NAME_OPTION)
			drop_option(n->scope, n->code, n->data);
		else if (n->kind == DHCP_NAME_FIXED)
			drop_fixed(n->host, n->index);
		else if (n->kind == DHCP_NAME_PARAM)
			n->scope->set &= ~(1u << n->param);
		else
			*n->field = 0; /* failover cannot start without it; it says so */
	}
	return dropped;
}
