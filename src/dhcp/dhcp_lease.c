/* SPDX-License-Identifier: MPL-2.0 */
/* The lease record shared by the lease file and the lease DB: binding names, init, equality. */
#include <string.h>

#include "dhcp_lease.h"

/* Indexed by enum dhcp_binding, which follows ISC's FTS_* numbering (FTS_FREE = 1). */
static const char *const binding_names[DHCP_BINDING_MAX] = {
    [DHCP_BINDING_FREE] = "free",	    [DHCP_BINDING_ACTIVE] = "active",
    [DHCP_BINDING_EXPIRED] = "expired",	    [DHCP_BINDING_RELEASED] = "released",
    [DHCP_BINDING_ABANDONED] = "abandoned", [DHCP_BINDING_RESET] = "reset",
    [DHCP_BINDING_BACKUP] = "backup",
};

const char *dhcp_binding_name(enum dhcp_binding b)
{
	if ((unsigned)b >= DHCP_BINDING_MAX)
		return NULL;
	return binding_names[b];
}

enum dhcp_binding dhcp_binding_parse(const char *name)
{
	for (unsigned b = DHCP_BINDING_FREE; b < DHCP_BINDING_MAX; b++)
		if (strcmp(name, binding_names[b]) == 0)
			return (enum dhcp_binding)b;
	return DHCP_BINDING_NONE;
}

void dhcp_lease_rec_init(struct dhcp_lease_rec *r)
{
	memset(r, 0, sizeof(*r));
	r->starts = DHCP_TIME_NONE;
	r->ends = DHCP_TIME_NONE;
	r->tstp = DHCP_TIME_NONE;
	r->tsfp = DHCP_TIME_NONE;
	r->atsfp = DHCP_TIME_NONE;
	r->cltt = DHCP_TIME_NONE;
}

bool dhcp_lease_rec_equal(const struct dhcp_lease_rec *a, const struct dhcp_lease_rec *b)
{
	return a->addr == b->addr && a->starts == b->starts && a->ends == b->ends &&
	       a->tstp == b->tstp && a->tsfp == b->tsfp && a->atsfp == b->atsfp &&
	       a->cltt == b->cltt && a->binding == b->binding &&
	       a->next_binding == b->next_binding && a->rewind_binding == b->rewind_binding &&
	       a->htype == b->htype && a->hlen == b->hlen && a->hlen <= DHCP_HW_MAX &&
	       memcmp(a->hw, b->hw, a->hlen) == 0 && a->uid_len == b->uid_len &&
	       memcmp(a->uid, b->uid, a->uid_len) == 0 && a->hostname_len == b->hostname_len &&
	       memcmp(a->hostname, b->hostname, a->hostname_len) == 0 && a->bootp == b->bootp &&
	       a->reserved == b->reserved;
}
