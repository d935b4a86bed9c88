/* SPDX-License-Identifier: MPL-2.0 */
/* group_bench's paceless side: one libpaceless-group node (grp_node) per process. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "group_bench.h"
#include "grp_node.h"

#define START_TIMEOUT_MS 30000
#define SEND_RETRY_MS 5000 /* a full hand-over queue this long after the run: give up */

struct gb_grp {
	struct grp_node *node;
	pthread_mutex_t mu; /* the view, written on the loop thread */
	bool primary;
	uint32_t n;
	uint32_t n_old;
	bool weighted;
	uint64_t efull; /* CORE_EFULL answers from grp_node_submit (hand-over queue full) */
	struct grp_params params;
};

static struct gb_grp grp;

static void pause_us(long us)
{
	struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};

	nanosleep(&ts, NULL);
}

static void on_deliver(void *ctx, const struct grp_entry *e)
{
	if (e->type == GRP_ENTRY_DATA)
		gb_delivered(ctx, e->data, e->len, gb_now_ns());
}

static void on_view(void *ctx, uint64_t id, const struct grp_config *cfg, int my_index,
		    bool primary)
{
	(void)ctx;
	(void)id;
	pthread_mutex_lock(&grp.mu);
	grp.primary = primary && my_index >= 0;
	grp.n = cfg->n;
	grp.n_old = cfg->n_old;
	grp.weighted = true;
	for (uint32_t k = 0; k < cfg->n; k++)
		if (!cfg->m[k].weight)
			grp.weighted = false;
	pthread_mutex_unlock(&grp.mu);
}

static bool has_view(uint32_t members)
{
	bool ok;

	pthread_mutex_lock(&grp.mu);
	ok = grp.primary && grp.n == members && !grp.n_old && grp.weighted;
	pthread_mutex_unlock(&grp.mu);
	return ok;
}

static int wait_view(uint32_t members)
{
	for (int ms = 0; !has_view(members); ms += 5) {
		if (ms > START_TIMEOUT_MS)
			return -ETIMEDOUT;
		pause_us(5000);
	}
	return 0;
}

static bool grp_healthy(struct gb *b)
{
	return has_view((uint32_t)b->nodes);
}

static int grp_wait_full(struct gb *b)
{
	return wait_view((uint32_t)b->nodes);
}

static int grp_start(struct gb *b)
{
	char listen[32], peer[32], name[16], cert[4096], key[4096], ca[4096];
	const char *peers[1] = {peer};
	struct grp_node_config c = {
		.cluster = "gbench",
		.name = name,
		.listen = listen,
		.peers = peers,
		.n_peers = b->index ? 1 : 0,
		.weight = 1,
		.bootstrap = b->index == 0,
		.deliver = on_deliver,
		.view = on_view,
		.ctx = b,
	};
	int rc;

	pthread_mutex_init(&grp.mu, NULL);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", b->port_base + 10 * b->index);
	snprintf(peer, sizeof(peer), "127.0.0.1:%d", b->port_base);
	snprintf(name, sizeof(name), "n%d", b->index);
	if (b->tls_dir) {
		snprintf(cert, sizeof(cert), "%s/n%d.pem", b->tls_dir, b->index);
		snprintf(key, sizeof(key), "%s/n%d.key", b->tls_dir, b->index);
		snprintf(ca, sizeof(ca), "%s/ca.pem", b->tls_dir);
		c.tls = (struct grp_tls_files){.cert = cert, .key = key, .ca = ca};
	}
	grp_params_default(&c.params);
	c.params.cache_bytes = b->cache_bytes;
	if (b->submit_bytes)
		c.params.submit_bytes = b->submit_bytes;
	grp.params = c.params;
	rc = grp_node_start(&c, &grp.node);
	if (rc < 0)
		return rc;
	return b->index ? 0 : wait_view(1);
}

static int grp_send(struct gb *b, int w, const uint8_t *msg, uint32_t len)
{
	(void)w;
	for (;;) {
		int64_t rc = grp_node_submit(grp.node, msg, len);

		if (rc != CORE_EFULL)
			return rc < 0 ? -EINVAL : 0;
		__atomic_fetch_add(&grp.efull, 1, __ATOMIC_RELAXED);
		if (gb_now_ns() > b->t_end_ns + (int64_t)SEND_RETRY_MS * 1000000)
			return -EAGAIN;
		pause_us(100);
	}
}

static void grp_status_line(struct gb *b, char *out, size_t cap)
{
	struct grp_status st;
	struct grp_node_counters c;
	uint64_t bound = grp_node_memory_bound(&grp.params, (uint32_t)b->nodes, b->size);

	grp_node_status(grp.node, &st);
	grp_node_counters(grp.node, &c);
	snprintf(out, cap,
		 "leader=%d term=%llu seq=%llu frames_in=%llu frames_out=%llu send_dropped=%llu "
		 "links_overflow=%llu efull=%llu bound_kb=%llu",
		 st.is_leader, (unsigned long long)st.term, (unsigned long long)st.seq,
		 (unsigned long long)c.frames_in, (unsigned long long)c.frames_out,
		 (unsigned long long)c.send_dropped, (unsigned long long)c.links_overflow,
		 (unsigned long long)__atomic_load_n(&grp.efull, __ATOMIC_RELAXED),
		 (unsigned long long)(bound >> 10));
}

static void grp_stop(struct gb *b)
{
	(void)b;
	grp_node_stop(grp.node);
	grp.node = NULL;
}

const struct gb_sys gb_sys_paceless = {
	.name = "paceless",
	.start = grp_start,
	.wait_full = grp_wait_full,
	.healthy = grp_healthy,
	.send = grp_send,
	.status = grp_status_line,
	.stop = grp_stop,
	.blocking = false,
};
