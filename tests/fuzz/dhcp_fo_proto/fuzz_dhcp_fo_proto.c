/* SPDX-License-Identifier: MPL-2.0 */
/*
 * libFuzzer target: a hostile failover peer. The input is a script of events for one state
 * machine (primary or secondary): links opening and closing, time passing, operator
 * commands, and whole failover messages, decoded by the real codec. Whatever the peer says,
 * the machine must not crash, must stay in a known state, and must only send messages the
 * codec accepts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core_log.h"
#include "dhcp_failover.h"
#include "dhcp_fo_hash.h"

static void on_send(void *ctx, int link, struct dhcp_fo_msg *m)
{
	uint8_t out[DHCP_FO_MSG_MAX];

	(void)ctx;
	if (link <= 0 || dhcp_fo_encode(m, out, sizeof(out)) < DHCP_FO_HDR_LEN)
		abort();
}

static int closed; /* a link the machine closed: reported down before the next event */

static void on_close(void *ctx, int link, const char *why)
{
	(void)ctx;
	(void)why;
	closed = link;
}

static void on_persist(void *ctx, const struct dhcp_fo_saved *s)
{
	(void)ctx;
	if (!s->valid || s->my_state == DHCP_FO_S_STARTUP)
		abort(); /* the record always holds a real state */
}

static bool requested;

static void on_requested(void *ctx, bool all)
{
	(void)ctx;
	(void)all;
	requested = true;
}

static const struct dhcp_fo_ops ops = {
    .send = on_send, .close = on_close, .persist = on_persist, .updates_requested = on_requested};

static bool known_state(uint8_t s)
{
	return s <= DHCP_FO_S_CONFLICT_DONE || s == DHCP_FO_S_RECOVER_WAIT;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhcp_failover_peer cfg = {.name = "anchor-fo", .peer_address = 0xc0000202,
					 .port = 647, .peer_port = 647, .max_response_delay = 30,
					 .max_unacked_updates = 10, .mclt = 1800, .has_hba = true};
	struct dhcp_fo_saved saved = {0};
	int64_t now = 1795600000;
	struct dhcp_fo *fo;
	size_t i = 0;

	core_log_level_max = 0;
	if (size < 2)
		return 0;
	cfg.role = data[0] & 1 ? DHCP_FO_SECONDARY : DHCP_FO_PRIMARY;
	cfg.auto_partner_down = data[0] & 2 ? 30 : 0;
	if (cfg.role == DHCP_FO_SECONDARY) {
		cfg.mclt = 0;
		cfg.has_hba = false;
	}
	dhcp_fo_hba_split(cfg.hba, 128);
	if (data[1] < DHCP_FO_S_CONFLICT_DONE + 1) {
		saved = (struct dhcp_fo_saved){.valid = true, .my_state = data[1],
					       .my_stos = now - 100, .partner_state = data[1] % 12};
	}
	fo = dhcp_fo_create(&cfg, saved.valid ? &saved : NULL, "fuzz", now, &ops, NULL);
	if (!fo)
		return 0;
	i = 2;
	while (i < size) {
		uint8_t op = data[i++];

		if (closed) {
			dhcp_fo_link_down(fo, closed, now);
			closed = 0;
		}
		switch (op & 7) {
		case 0:
			dhcp_fo_link_up(fo, 1 + (op >> 3) % 3, now);
			break;
		case 1:
			dhcp_fo_link_down(fo, 1 + (op >> 3) % 3, now);
			break;
		case 2:
			now += op >> 3;
			dhcp_fo_tick(fo, now);
			break;
		case 3:
			(void)dhcp_fo_set_partner_down(fo, now);
			break;
		case 4:
			if (requested) {
				requested = false;
				dhcp_fo_updates_done(fo, now);
			}
			break;
		default: {
			/* A message: two length bytes, then that many bytes of it. */
			struct dhcp_fo_msg m;
			const char *err;
			size_t n;

			if (size - i < 2)
				goto out;
			n = (size_t)data[i] << 8 | data[i + 1];
			i += 2;
			if (n > size - i)
				n = size - i;
			if (dhcp_fo_decode(data + i, n, &m, &err) == 0) {
				/* A well-timed peer, so that the checks past the skew run too. */
				if (op & 0x80)
					m.time = (uint32_t)now;
				(void)dhcp_fo_receive(fo, 1 + (op >> 3) % 3, &m, now);
			}
			i += n;
			break;
		}
		}
		if (!known_state(dhcp_fo_my_state(fo)))
			abort();
	}
out:
	dhcp_fo_free(fo);
	closed = 0;
	requested = false;
	return 0;
}
