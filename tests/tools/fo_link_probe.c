/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fo-link-probe: runs paceless's failover link and server-state machine against a peer
 * (ISC dhcpd in the system tests), with a stand-in for the binding layer that does not exist
 * yet: every BNDUPD is acked (and forgotten) and every update request is answered at once
 * (we have no leases to send). It prints each state change as "state MINE PARTNER" and the
 * number of BNDUPDs received as "bndupd N", and runs until killed.
 *
 * usage: fo-link-probe primary|secondary NAME ADDRESS PEER-ADDRESS [PORT]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core_log.h"
#include "dhcp_fo_hash.h"
#include "dhcp_fo_link.h"

static struct dhcp_fo_link *link_;
static bool requested;
static unsigned long bndupds;

static void on_persist(void *ctx, const struct dhcp_fo_saved *s)
{
	(void)ctx;
	(void)s;
}

static void on_requested(void *ctx, bool all)
{
	(void)ctx;
	(void)all;
	requested = true; /* answered from the timer: callbacks do not re-enter the machine */
}

static void on_bindings(void *ctx, const struct dhcp_fo_msg *m)
{
	struct dhcp_fo_msg ack = {.type = DHCP_FO_BNDACK, .assigned_ip = m->assigned_ip,
				  .present = 1u << DHCP_FO_ASSIGNED_IP};

	(void)ctx;
	if (m->type != DHCP_FO_BNDUPD)
		return;
	bndupds++;
	if (dhcp_fo_send(dhcp_fo_link_machine(link_), &ack, m->xid, (int64_t)time(NULL)) < 0)
		printf("bndack not sent: no link\n");
}

static void on_timer(uv_timer_t *t)
{
	static uint8_t mine = 255, partner = 255;
	static unsigned long shown;
	struct dhcp_fo *fo = dhcp_fo_link_machine(link_);

	(void)t;
	if (requested) {
		requested = false;
		dhcp_fo_updates_done(fo, (int64_t)time(NULL));
	}
	if (dhcp_fo_my_state(fo) != mine || dhcp_fo_partner_state(fo) != partner) {
		mine = dhcp_fo_my_state(fo);
		partner = dhcp_fo_partner_state(fo);
		printf("state %s %s\n", dhcp_fo_state_name(mine), dhcp_fo_state_name(partner));
	}
	if (bndupds != shown) {
		shown = bndupds;
		printf("bndupd %lu\n", bndupds);
	}
	fflush(stdout);
}

static uint32_t ip(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "fo-link-probe: bad address %s\n", s);
		exit(2);
	}
	return ntohl(a.s_addr);
}

int main(int argc, char **argv)
{
	struct dhcp_failover_peer c = {.max_response_delay = 30, .max_unacked_updates = 10};
	struct dhcp_fo_link_cbs cbs = {
	    .persist = on_persist, .updates_requested = on_requested, .bindings = on_bindings};
	uv_loop_t loop;
	uv_timer_t t;
	int rc;

	if (argc < 5 || (strcmp(argv[1], "primary") && strcmp(argv[1], "secondary"))) {
		fprintf(stderr, "usage: fo-link-probe primary|secondary NAME ADDRESS PEER [PORT]\n");
		return 2;
	}
	c.role = strcmp(argv[1], "primary") ? DHCP_FO_SECONDARY : DHCP_FO_PRIMARY;
	c.name = argv[2];
	c.address = ip(argv[3]);
	c.peer_address = ip(argv[4]);
	c.port = c.peer_port = (uint16_t)(argc > 5 ? atoi(argv[5]) : 647);
	if (c.role == DHCP_FO_PRIMARY) {
		c.mclt = 1800;
		c.has_hba = true;
		dhcp_fo_hba_split(c.hba, 128);
	}
	core_log_open("fo-link-probe", true, -1);
	uv_loop_init(&loop);
	rc = dhcp_fo_link_start(&loop, &c, NULL, "paceless-fo-link-probe", &cbs, &link_);
	if (rc) {
		fprintf(stderr, "fo-link-probe: cannot listen: %s\n", uv_strerror(rc));
		return 1;
	}
	uv_timer_init(&loop, &t);
	uv_timer_start(&t, on_timer, 20, 20);
	uv_run(&loop, UV_RUN_DEFAULT);
	return 0;
}
