/* SPDX-License-Identifier: MPL-2.0 */
/*
 * libFuzzer target: a hostile failover peer against the server's binding layer. The input is
 * a script for one server (primary or secondary) of a failover pool, with its state machine:
 * links, time, durability, update requests, partner-down, DHCP clients, and whole failover
 * messages decoded by the real codec, binding messages (BNDUPD, BNDACK, POOLREQ, POOLRESP)
 * handed to the server as the daemon does. Whatever the peer says, nothing may crash, every
 * lease must keep a valid binding state, no address may be active for two clients, and
 * everything the server sends must encode.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_log.h"
#include "dhcp_conf.h"
#include "dhcp_failover.h"
#include "dhcp_server.h"

#define T0 1795600000

static void on_send(void *ctx, int link, struct dhcp_fo_msg *m)
{
	uint8_t out[DHCP_FO_MSG_MAX];

	(void)ctx;
	if (link <= 0 || dhcp_fo_encode(m, out, sizeof(out)) < DHCP_FO_HDR_LEN)
		abort();
}

static int closed;
static struct dhcp_server *srv;

static void on_close(void *ctx, int link, const char *why)
{
	(void)ctx;
	(void)why;
	closed = link;
}

static void on_fo_persist(void *ctx, const struct dhcp_fo_saved *s)
{
	(void)ctx;
	(void)s;
}

static void on_requested(void *ctx, bool all)
{
	(void)ctx;
	dhcp_server_fo_updates_requested(srv, 0, all);
}

static const struct dhcp_fo_ops fo_ops = {.send = on_send,
                                          .close = on_close,
                                          .persist = on_fo_persist,
                                          .updates_requested = on_requested};

static uint64_t records;

static uint64_t on_persist(void *ctx, const struct dhcp_lease_rec *r)
{
	(void)ctx;
	if (r->binding < DHCP_BINDING_FREE || r->binding >= DHCP_BINDING_MAX)
		abort();
	return ++records;
}

static void on_ack(void *ctx, size_t peer, uint32_t addr, uint32_t xid)
{
	struct dhcp_fo_msg m = {
	    .type = DHCP_FO_BNDACK, .assigned_ip = addr, .present = 1u << DHCP_FO_ASSIGNED_IP};

	(void)peer;
	(void)dhcp_fo_send(ctx, &m, xid, T0);
}

static const struct dhcp_server_fo_ops server_ops = {.ack = on_ack};

static const char conf_fmt[] =
    "failover peer \"fo\" { %s; address 192.0.2.1; peer address 192.0.2.2; mclt 60; %s }\n"
    "subnet 192.0.2.0 netmask 255.255.255.0 {\n"
    "  pool { failover peer \"fo\"; range 192.0.2.10 192.0.2.41; }\n"
    "}\n";

/* No address active for two clients (the lease DB holds one lease an address, so this checks
 * that every active lease has a client at all). */
static void check(struct dhcp_leasedb *db)
{
	for (uint32_t a = 0xc000020a; a <= 0xc0000229; a++) {
		const struct dhcp_lease *l = dhcp_leasedb_get(db, a);

		if (l && (l->binding < DHCP_BINDING_FREE || l->binding >= DHCP_BINDING_MAX))
			abort();
	}
}

static void client(uint8_t last, int64_t now)
{
	uint8_t buf[300] = {1, 1, 6, 0, 0, 0, 0, last};
	struct dhcp_rx rx = {.ifindex = 2, .if_addr = 0xc0000201};
	static struct dhcp_tx tx;

	memcpy(buf + 28, (uint8_t[]){2, 0, 0, 0, 0, last}, 6);
	memcpy(buf + 236, (uint8_t[]){99, 130, 83, 99, 53, 1, 1, 255}, 8);
	(void)dhcp_server_handle(srv, buf, sizeof(buf), &rx, now, &tx);
}

static void message(struct dhcp_fo *fo, uint8_t op, const uint8_t *p, size_t n, int64_t now)
{
	struct dhcp_fo_msg m;
	const char *err;

	if (dhcp_fo_decode(p, n, &m, &err) < 0)
		return;
	if (op & 0x80)
		m.time = (uint32_t)now;
	if (dhcp_fo_receive(fo, 1, &m, now) == 1)
		dhcp_server_fo_bindings(srv, 0, &m, now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char text[512], err[256];
	struct dhcp_conf *conf;
	struct dhcp_leasedb *db;
	struct dhcp_fo *fo;
	int64_t now = T0;
	uint64_t durable = 0;
	size_t i = 1;

	core_log_level_max = 0;
	if (size < 1)
		return 0;
	snprintf(text, sizeof(text), conf_fmt, data[0] & 1 ? "secondary" : "primary",
	         data[0] & 1 ? "" : "split 128; load balance max seconds 3;");
	if (dhcp_conf_parse(text, strlen(text), "fuzz.conf", &conf, err, sizeof(err)) < 0)
		abort();
	db = dhcp_leasedb_new();
	srv = dhcp_server_new(conf, db, on_persist, NULL);
	fo = dhcp_fo_create(conf->failover_peers[0], NULL, "fuzz", now, &fo_ops, NULL);
	if (!db || !srv || !fo)
		abort();
	dhcp_server_fo_set_ops(srv, &server_ops, fo);
	dhcp_server_fo_attach(srv, 0, fo);
	while (i < size) {
		uint8_t op = data[i++];

		if (closed) {
			dhcp_fo_link_down(fo, closed, now);
			closed = 0;
		}
		switch (op & 7) {
		case 0:
			dhcp_fo_link_up(fo, 1, now);
			break;
		case 1:
			now += op >> 3;
			dhcp_fo_tick(fo, now);
			(void)dhcp_server_tick(srv, now, 64);
			break;
		case 2:
			durable = records - (op >> 3) % (records + 1);
			dhcp_server_fo_pump(srv, now, durable);
			break;
		case 3:
			(void)dhcp_fo_set_partner_down(fo, now);
			break;
		case 4:
			client(op >> 3, now);
			break;
		default: {
			size_t n;

			if (size - i < 2)
				goto out;
			n = (size_t)data[i] << 8 | data[i + 1];
			i += 2;
			if (n > size - i)
				n = size - i;
			message(fo, op, data + i, n, now);
			i += n;
			break;
		}
		}
		check(db);
	}
out:
	dhcp_server_fo_attach(srv, 0, NULL);
	dhcp_server_free(srv);
	dhcp_fo_free(fo);
	dhcp_leasedb_free(db);
	dhcp_conf_free(conf);
	closed = 0;
	records = 0;
	return 0;
}
