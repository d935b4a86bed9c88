/* SPDX-License-Identifier: MPL-2.0 */
/* libFuzzer target: arbitrary bytes as dhcpd.conf text; the parsed result is walked. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core_log.h"
#include "dhcp_conf.h"

/* A resolver without I/O: names of even length resolve, the others do not. */
static int lookup(void *ctx, const char *name, uint32_t *addr, char *why, size_t whylen)
{
	size_t n = strlen(name);

	(void)ctx;
	(void)why;
	(void)whylen;
	*addr = 0xc0000200u | (uint32_t)(n & 0xff);
	return n % 2 ? -1 : 0;
}

/* Touches everything a server would read, so that ASan sees any bad pointer in the result. */
static void walk(const struct dhcp_conf *c)
{
	volatile uint32_t sink = 0;

	for (size_t i = 0; i < c->subnets_n; i++) {
		const struct dhcp_subnet *s = c->subnets[i];

		sink += (uint32_t)(dhcp_conf_subnet_for(c, s->net | 1) != NULL);
		sink += (uint32_t)(s->shared->subnets_n);
		for (size_t j = 0; j < s->pools_n; j++) {
			const struct dhcp_pool *p = s->pools[j];

			sink += (uint32_t)(p->subnet == s);
			for (size_t k = 0; k < p->ranges_n; k++)
				sink += p->ranges[k].hi - p->ranges[k].lo;
			for (unsigned code = 1; code < 255; code += 17) {
				const struct dhcp_opt *o = dhcp_scope_opt(&p->scope, (uint8_t)code);

				if (o && o->len)
					sink += o->data[o->len - 1];
			}
			sink +=
			    (uint32_t)(dhcp_scope_param(&p->scope, DHCP_P_MAX_LEASE_TIME) != NULL);
		}
	}
	for (size_t i = 0; i < c->hosts_n; i++) {
		const struct dhcp_host *h = c->hosts[i];

		sink += h->name[0] + h->hlen + h->client_id_len;
		if (h->client_id_len)
			sink += h->client_id[h->client_id_len - 1];
		for (size_t k = 0; k < h->fixed_n; k++)
			sink += h->fixed[k];
	}
	for (size_t i = 0; i < c->global.opts_n; i++)
		sink += c->global.opts[i].len ? c->global.opts[i].data[0] : 0;
	(void)sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhcp_conf *c = NULL;
	char err[256];

	if (dhcp_conf_parse((const char *)data, size, "fuzz.conf", &c, err, sizeof(err)) == 0) {
		walk(c);
		core_log_level_max = 0; /* the warnings of names left out */
		(void)dhcp_conf_resolve(c, lookup, NULL);
		walk(c);
		dhcp_conf_free(c);
	}
	return 0;
}
