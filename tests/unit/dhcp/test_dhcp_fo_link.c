/* SPDX-License-Identifier: MPL-2.0 */
/* Two failover links over real TCP on loopback (127.0.0.1 and 127.0.0.2) reach normal. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core_log.h"
#include "dhcp_fo_hash.h"
#include "dhcp_fo_link.h"

#define LO1 0x7f000001u
#define LO2 0x7f000002u
#define LO3 0x7f000003u

struct side {
	struct dhcp_failover_peer cfg;
	struct dhcp_fo_link *k;
	bool requested;
	unsigned persists;
};

static void on_persist(void *ctx, const struct dhcp_fo_saved *s)
{
	struct side *d = ctx;

	(void)s;
	d->persists++;
}

static void on_requested(void *ctx, bool all)
{
	struct side *d = ctx;

	(void)all;
	d->requested = true; /* answered from the poll timer: no re-entry into the machine */
}

/* A free TCP port on addr (closed again: a small race, fine on loopback in a test). */
static uint16_t free_port(uint32_t addr)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(addr)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	close(fd);
	return ntohs(sa.sin_port);
}

static void cfg(struct dhcp_failover_peer *c, enum dhcp_fo_role role, uint32_t me, uint16_t port,
		uint32_t peer, uint16_t peer_port)
{
	memset(c, 0, sizeof(*c));
	c->name = "anchor-fo";
	c->role = role;
	c->address = me;
	c->port = port;
	c->peer_address = peer;
	c->peer_port = peer_port;
	c->max_response_delay = 30;
	c->max_unacked_updates = 10;
	if (role == DHCP_FO_PRIMARY) {
		c->mclt = 1800;
		c->has_hba = true;
		dhcp_fo_hba_split(c->hba, 128);
	}
}

struct run {
	uv_loop_t loop;
	uv_timer_t poll;
	struct side *p, *s;
	int (*done)(struct run *r);
	int ticks;
};

static void on_poll(uv_timer_t *t)
{
	struct run *r = t->data;
	struct side *sides[] = {r->p, r->s};

	for (int i = 0; i < 2; i++) {
		if (sides[i]->k && sides[i]->requested) {
			sides[i]->requested = false;
			dhcp_fo_updates_done(dhcp_fo_link_machine(sides[i]->k), (int64_t)time(NULL));
		}
	}
	if (r->done(r) || ++r->ticks > 1000) /* 10 s */
		uv_stop(&r->loop);
}

static void run_until(struct run *r, int (*done)(struct run *r))
{
	r->done = done;
	r->ticks = 0;
	uv_timer_start(&r->poll, on_poll, 10, 10);
	uv_run(&r->loop, UV_RUN_DEFAULT);
	uv_timer_stop(&r->poll);
}

static uint8_t state_of(struct side *d)
{
	return dhcp_fo_my_state(dhcp_fo_link_machine(d->k));
}

static int both_normal(struct run *r)
{
	return state_of(r->p) == DHCP_FO_S_NORMAL && state_of(r->s) == DHCP_FO_S_NORMAL;
}

static int primary_interrupted(struct run *r)
{
	return state_of(r->p) == DHCP_FO_S_COMMUNICATIONS_INTERRUPTED;
}

static int stranger_refused(struct run *r)
{
	struct dhcp_fo_link_counters c;

	dhcp_fo_link_counters(r->s->k, &c);
	return c.refused_address >= 1;
}

static void test_pair_over_tcp(void **state)
{
	static struct side p, s;
	struct dhcp_fo_link_cbs pc = {.persist = on_persist, .updates_requested = on_requested,
				      .ctx = &p};
	struct dhcp_fo_link_cbs sc = {.persist = on_persist, .updates_requested = on_requested,
				      .ctx = &s};
	struct dhcp_fo_link_counters c;
	struct run r = {.p = &p, .s = &s};
	uint16_t p_port = free_port(LO1), s_port = free_port(LO2);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(s_port),
				 .sin_addr.s_addr = htonl(LO2)};
	struct sockaddr_in from = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(LO3)};
	char byte;
	int fd;

	(void)state;
	core_log_level_max = CORE_LOG_WARN;
	memset(&p, 0, sizeof(p));
	memset(&s, 0, sizeof(s));
	assert_int_equal(uv_loop_init(&r.loop), 0);
	uv_timer_init(&r.loop, &r.poll);
	r.poll.data = &r;
	cfg(&p.cfg, DHCP_FO_PRIMARY, LO1, p_port, LO2, s_port);
	cfg(&s.cfg, DHCP_FO_SECONDARY, LO2, s_port, LO1, p_port);
	assert_int_equal(dhcp_fo_link_start(&r.loop, &s.cfg, NULL, "test", &sc, &s.k), 0);
	assert_int_equal(dhcp_fo_link_start(&r.loop, &p.cfg, NULL, "test", &pc, &p.k), 0);
	assert_int_equal(dhcp_fo_link_port(s.k), s_port);

	run_until(&r, both_normal);
	assert_int_equal(state_of(&p), DHCP_FO_S_NORMAL);
	assert_int_equal(state_of(&s), DHCP_FO_S_NORMAL);
	assert_true(p.persists >= 1 && s.persists >= 1);
	dhcp_fo_link_counters(p.k, &c);
	assert_true(c.frames_in >= 4 && c.frames_out >= 4);
	assert_int_equal(c.malformed, 0);

	/* A stranger (127.0.0.3) connecting to the secondary is closed without a word. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&from, sizeof(from)), 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	run_until(&r, stranger_refused);
	assert_true(stranger_refused(&r));
	assert_int_equal(read(fd, &byte, 1), 0); /* EOF, nothing sent */
	close(fd);
	assert_int_equal(state_of(&s), DHCP_FO_S_NORMAL);

	/* The secondary goes away: the primary is on its own. */
	dhcp_fo_link_stop(s.k);
	s.k = NULL;
	r.s = &p; /* the poll only looks at live sides */
	run_until(&r, primary_interrupted);
	assert_int_equal(state_of(&p), DHCP_FO_S_COMMUNICATIONS_INTERRUPTED);

	dhcp_fo_link_stop(p.k);
	p.k = NULL;
	uv_close((uv_handle_t *)&r.poll, NULL);
	uv_run(&r.loop, UV_RUN_DEFAULT); /* finishes the closes; everything is freed */
	assert_int_equal(uv_loop_close(&r.loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pair_over_tcp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
