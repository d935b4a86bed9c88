/* SPDX-License-Identifier: MPL-2.0 */
/* paceless-dhcpd's event loop: receive batches, decide, journal, fsync once, then reply. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "core_assert.h"
#include "core_ctl.h"
#include "core_log.h"
#include "dhcp_conf.h"
#include "dhcp_daemon.h"
#include "dhcp_fo_peers.h"
#include "dhcp_io.h"
#include "dhcp_journal.h"
#include "dhcp_leasestore.h"
#include "dhcp_server.h"

#define TICK_MS 1000
#define SWEEP_PER_TICK 65536
#define READ_ROUNDS_MAX 16 /* batches per wake-up before other events get a turn */
/*
 * A rewrite holds back ACKs while it runs (the journal is serial), so it is rare: hourly as
 * ISC does, or sooner only once the journal has grown past four times the live data and at
 * least REWRITE_MIN_BYTES.
 */
#define REWRITE_MIN_BYTES ((size_t)256 * 1024 * 1024)
#define REWRITE_INTERVAL_S 3600
#define REPLY_QUEUE_MAX 2048 /* replies waiting for their leases to be durable */
#define REPLY_STALE_MS 2000

#define SHUTDOWN_WAIT_MS 5000 /* for the failover partners to take over (ISC: about 4 s) */
#define SHUTDOWN_POLL_MS 100

#define PROBES_MAX 1024      /* offers waiting for their ping-check */
#define PROBE_TIMER_MS 20

struct probe {
	bool used;
	int64_t deadline_ms;
	struct dhcp_tx tx;
};

struct queued {
	uint64_t seq;
	int64_t queued_ms;
	struct dhcp_tx tx;
};

struct daemon {
	const struct dhcp_daemon_opts *o;
	uv_loop_t loop;
	uv_poll_t poll;
	uv_signal_t sig_hup, sig_term, sig_int;
	uv_timer_t tick, shutdown_timer;
	int64_t shutdown_deadline_ms; /* > 0: a graceful shut-down is under way */
	struct core_ctl *ctl;
	struct dhcp_conf *conf;
	struct dhcp_conf *fo_conf; /* the configuration the failover links were started with */
	struct dhcp_fo_peers *peers;
	struct dhcp_leasedb *db;
	struct dhcp_leasestore *store;
	struct dhcp_server *srv;
	struct dhcp_io *io;
	const char *lease_path, *pid_path;
	struct dhcp_journal *journal;
	struct dhcp_rxmsg rxbuf[DHCP_IO_BATCH];
	struct queued *queue; /* ring of REPLY_QUEUE_MAX */
	size_t q_head, q_len;
	bool reading;
	uv_poll_t icmp_poll;
	uv_timer_t probe_timer;
	struct probe *probes; /* PROBES_MAX */
	size_t probes_n;
	uint16_t probe_id, probe_seq;
	uint64_t probes_skipped;
	size_t appended;     /* records journaled */
	bool persist_failed; /* a record could not be queued: its reply must not go out */
	int64_t last_rewrite;
	size_t rewrite_bytes; /* journal size that triggers the next rewrite */
	pid_t rewrite_pid;    /* background rewrite child, 0 when none */
	int64_t rewrite_started_ms;
	uint64_t foreign, send_errors, unsynced_dropped, rewrites;
	struct core_ratelimit rl;
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_readable(uv_poll_t *h, int status, int events);

static uint64_t on_persist(void *ctx, const struct dhcp_lease_rec *r)
{
	struct daemon *d = ctx;
	int rc = d->journal ? dhcp_journal_add(d->journal, r) : dhcp_leasestore_append(d->store, r);

	if (rc < 0) {
		d->persist_failed = true;
		return 0;
	}
	d->appended++;
	/* Before the journal runs (start-up), the rewrite that follows makes it durable. */
	return d->journal ? dhcp_journal_added(d->journal) : 0;
}

static int load_cb(void *ctx, const struct dhcp_lease_rec *r)
{
	return dhcp_leasedb_apply(ctx, r);
}

static int rewrite_next(void *ctx, struct dhcp_lease_rec *r)
{
	void **c = ctx;
	struct dhcp_leasedb *db = c[0];
	struct dhcp_lease *l = dhcp_leasedb_next(db, c[1]);

	if (!l)
		return 0;
	dhcp_leasedb_to_rec(l, r);
	return 1;
}

static int rewrite(struct daemon *d)
{
	struct dhcp_leasedb_iter it = {0};
	void *ctx[2] = {d->db, &it};
	int rc = d->journal ? dhcp_journal_rewrite(d->journal, rewrite_next, ctx)
			    : dhcp_leasestore_rewrite(d->store, rewrite_next, ctx);

	if (rc < 0) {
		CLOG_ERR("cannot rewrite lease file %s: %s", d->lease_path, core_strerror(rc));
		return rc;
	}
	d->rewrites++;
	d->last_rewrite = now_s();
	d->rewrite_bytes = 4 * dhcp_leasedb_count(d->db) * 300;
	if (d->rewrite_bytes < REWRITE_MIN_BYTES)
		d->rewrite_bytes = REWRITE_MIN_BYTES;
	return 0;
}

static void reading(struct daemon *d, bool on)
{
	if (on == d->reading)
		return;
	d->reading = on;
	if (on)
		uv_poll_start(&d->poll, UV_READABLE, on_readable);
	else
		uv_poll_stop(&d->poll);
}

/*
 * Replies that wait for their leases to be durable, oldest first. Each carries the journal
 * number of the last record it depends on.
 */
static void send_durable(struct daemon *d)
{
	uint64_t durable = dhcp_journal_durable(d->journal);
	int64_t now = mono_ms();

	while (d->q_len) {
		struct queued *q = &d->queue[d->q_head];

		if (q->seq > durable)
			break;
		/* A client whose ACK waited this long has retried already: do not confuse it. */
		if (now - q->queued_ms > REPLY_STALE_MS)
			d->unsynced_dropped++;
		else if (dhcp_io_send(d->io, &q->tx) < 0)
			d->send_errors++;
		d->q_head = (d->q_head + 1) % REPLY_QUEUE_MAX;
		d->q_len--;
	}
	dhcp_fo_peers_durable(d->peers, durable);
	if (d->q_len < REPLY_QUEUE_MAX / 2 && dhcp_journal_backlog(d->journal) < DHCP_JOURNAL_BACKLOG_MAX &&
	    !d->shutdown_deadline_ms)
		reading(d, true);
}

static void on_durable(void *ctx)
{
	send_durable(ctx);
}

/* ---- ping-check: an offer waits until its address has stayed silent for the timeout ---- */

static void on_probe_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;
	int64_t now = mono_ms();

	for (size_t i = 0; i < PROBES_MAX && d->probes_n; i++) {
		struct probe *p = &d->probes[i];

		if (!p->used || p->deadline_ms > now)
			continue;
		if (dhcp_io_send(d->io, &p->tx) < 0)
			d->send_errors++;
		p->used = false;
		d->probes_n--;
	}
	if (!d->probes_n)
		uv_timer_stop(&d->probe_timer);
}

static void probe_start(struct daemon *d, const struct dhcp_tx *tx)
{
	struct probe *p = NULL;

	for (size_t i = 0; i < PROBES_MAX && d->probes_n < PROBES_MAX; i++) {
		if (!d->probes[i].used) {
			p = &d->probes[i];
			break;
		}
	}
	/* With the table full, or no way to ping, offer at once rather than not at all: ISC
	 * also offers when it cannot ping. Counted. */
	if (!p || dhcp_io_ping(d->io, tx->probe_addr, d->probe_id, d->probe_seq++) < 0) {
		d->probes_skipped++;
		if (dhcp_io_send(d->io, tx) < 0)
			d->send_errors++;
		return;
	}
	p->used = true;
	p->deadline_ms = mono_ms() + tx->probe_timeout_ms;
	p->tx = *tx;
	if (!d->probes_n++)
		uv_timer_start(&d->probe_timer, on_probe_timer, PROBE_TIMER_MS, PROBE_TIMER_MS);
}

static void on_icmp(uv_poll_t *h, int status, int events)
{
	struct daemon *d = h->data;
	uint32_t addrs[64];
	size_t n;

	(void)events;
	if (status < 0)
		return;
	while ((n = dhcp_io_ping_replies(d->io, d->probe_id, addrs, ARRAY_SIZE(addrs)))) {
		for (size_t k = 0; k < n; k++) {
			for (size_t i = 0; i < PROBES_MAX && d->probes_n; i++) {
				struct probe *p = &d->probes[i];

				if (!p->used || p->tx.probe_addr != addrs[k])
					continue;
				dhcp_server_probe_answered(d->srv, addrs[k], now_s());
				p->used = false;
				d->probes_n--;
			}
		}
	}
	(void)dhcp_journal_submit(d->journal);
}

static void handle_batch(struct daemon *d, size_t n)
{
	int64_t now = now_s();
	size_t first = d->q_len;
	uint64_t seq;

	for (size_t i = 0; i < n; i++) {
		struct dhcp_rxmsg *m = &d->rxbuf[i];
		struct queued *q = &d->queue[(d->q_head + d->q_len) % REPLY_QUEUE_MAX];

		d->persist_failed = false;
		if (!dhcp_server_handle(d->srv, m->buf, m->len, &m->rx, now, &q->tx))
			continue;
		if (d->persist_failed) {
			d->unsynced_dropped++;
		} else if (q->tx.probe_addr && !q->tx.needs_sync) {
			probe_start(d, &q->tx);
		} else if (q->tx.needs_sync) {
			q->queued_ms = mono_ms();
			d->q_len++;
		} else if (dhcp_io_send(d->io, &q->tx) < 0) {
			d->send_errors++;
		}
	}
	/* One submission per batch: every reply of it waits for the batch's last record. */
	seq = dhcp_journal_submit(d->journal);
	for (size_t i = first; i < d->q_len; i++)
		d->queue[(d->q_head + i) % REPLY_QUEUE_MAX].seq = seq;
}

static void on_readable(uv_poll_t *h, int status, int events)
{
	struct daemon *d = h->data;

	(void)events;
	if (status < 0)
		return;
	for (int round = 0; round < READ_ROUNDS_MAX; round++) {
		int n;

		/* Back-pressure: with no room for a whole batch of replies, or the journal too
		 * far behind, stop reading; the kernel's socket buffer holds the requests. */
		if (d->q_len + DHCP_IO_BATCH > REPLY_QUEUE_MAX ||
		    dhcp_journal_backlog(d->journal) >= DHCP_JOURNAL_BACKLOG_MAX) {
			reading(d, false);
			break;
		}
		n = dhcp_io_recv(d->io, d->rxbuf, DHCP_IO_BATCH, &d->foreign);
		if (n <= 0)
			break;
		handle_batch(d, (size_t)n);
		if (n < DHCP_IO_BATCH)
			break;
	}
	send_durable(d);
}

/*
 * Background rewrite: a forked child writes PATH.new from its copy-on-write image of the
 * lease DB while this process goes on serving and journaling; the journal keeps what it
 * writes meanwhile and appends it to PATH.new before switching files. No ACK waits for it.
 */
static int bg_rewrite_start(struct daemon *d)
{
	pid_t pid;

	if (d->rewrite_pid)
		return -EBUSY;
	(void)dhcp_journal_submit(d->journal);
	dhcp_journal_retain_begin(d->journal);
	pid = fork();
	if (pid == 0) {
		/* The child: only the DB (this thread's) and the store's PATH.new and I/O hooks,
		 * which never change after open, are touched; no lock, no log. */
		struct dhcp_leasedb_iter it = {0};
		void *ctx[2] = {d->db, &it};

		_exit(dhcp_leasestore_write_new(d->store, rewrite_next, ctx) == 0 ? 0 : 1);
	}
	if (pid < 0) {
		int rc = -errno;

		if (dhcp_journal_retain_finish(d->journal, false) < 0)
			CLOG_ERR("cannot fork to rewrite %s: %s", d->lease_path, strerror(-rc));
		return rc;
	}
	d->rewrite_pid = pid;
	d->rewrite_started_ms = mono_ms();
	return 0;
}

/* Collects a finished rewrite child (wait: block until it ends, for shutdown). */
static void bg_rewrite_reap(struct daemon *d, bool wait)
{
	int status, rc;
	pid_t pid;

	if (!d->rewrite_pid)
		return;
	pid = waitpid(d->rewrite_pid, &status, wait ? 0 : WNOHANG);
	if (pid == 0)
		return;
	d->rewrite_pid = 0;
	rc = dhcp_journal_retain_finish(d->journal, pid > 0 && WIFEXITED(status) &&
							 WEXITSTATUS(status) == 0);
	if (rc < 0) {
		CLOG_ERR("background rewrite of %s failed: %s; keeping the current file",
			 d->lease_path, core_strerror(rc));
		d->last_rewrite = now_s(); /* retried at the next interval, not every second */
		return;
	}
	d->rewrites++;
	d->last_rewrite = now_s();
	d->rewrite_bytes = 4 * dhcp_leasedb_count(d->db) * 300;
	if (d->rewrite_bytes < REWRITE_MIN_BYTES)
		d->rewrite_bytes = REWRITE_MIN_BYTES;
	CLOG_INFO("lease file %s rewritten in the background (%lld ms)", d->lease_path,
		  (long long)(mono_ms() - d->rewrite_started_ms));
}

static void on_tick(uv_timer_t *t)
{
	struct daemon *d = t->data;
	int64_t now = now_s();

	dhcp_server_tick(d->srv, now, SWEEP_PER_TICK);
	(void)dhcp_journal_submit(d->journal);
	send_durable(d);
	bg_rewrite_reap(d, false);
	/* The store belongs to the journal's threads: ask through the journal. */
	if (!d->rewrite_pid &&
	    (dhcp_journal_needs_rewrite(d->journal) ||
	     dhcp_journal_bytes(d->journal) >= d->rewrite_bytes ||
	     (dhcp_journal_bytes(d->journal) && now - d->last_rewrite >= REWRITE_INTERVAL_S)))
		(void)bg_rewrite_start(d);
}

/* ---- control socket commands ---- */

static json_t *json_ip(uint32_t a)
{
	char b[16];

	snprintf(b, sizeof(b), "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	return json_string(b);
}

static json_t *json_hex(const uint8_t *p, size_t n)
{
	char b[3 * 255 + 1] = "";

	for (size_t i = 0; i < n; i++)
		sprintf(b + 3 * i, i + 1 < n ? "%02x:" : "%02x", p[i]);
	return json_string(b);
}

static json_t *json_time(int64_t t)
{
	if (t == DHCP_TIME_NONE)
		return json_null();
	if (t == DHCP_TIME_NEVER)
		return json_string("never");
	return json_integer(t);
}

static json_t *lease_json(const struct dhcp_lease *l, int64_t now)
{
	json_t *o = json_object();
	const char *state = dhcp_binding_name(dhcp_server_lease_state(l, now));

	json_object_set_new(o, "address", json_ip(l->addr));
	json_object_set_new(o, "state", json_string(state ? state : "unknown"));
	json_object_set_new(o, "hardware", l->hlen ? json_hex(l->hw, l->hlen) : json_null());
	json_object_set_new(o, "client-id",
			    l->uid_len ? json_hex(dhcp_lease_uid(l), l->uid_len) : json_null());
	json_object_set_new(o, "hostname", l->hostname ? json_string(l->hostname) : json_null());
	json_object_set_new(o, "starts", json_time(l->starts));
	json_object_set_new(o, "ends", json_time(l->ends));
	json_object_set_new(o, "cltt", json_time(l->cltt));
	return o;
}

static int parse_ip(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (!s || inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*out = ntohl(a.s_addr);
	return 0;
}

static json_t *cmd_lease_list(void *ctx, json_t *args, char *err, size_t errlen)
{
	struct daemon *d = ctx;
	struct dhcp_leasedb_iter it = {0};
	const char *want = json_string_value(json_object_get(args, "state"));
	json_int_t limit = json_integer_value(json_object_get(args, "limit"));
	json_t *list = json_array();
	int64_t now = now_s();
	struct dhcp_lease *l;

	(void)err;
	(void)errlen;
	if (limit <= 0)
		limit = 100000;
	while ((l = dhcp_leasedb_next(d->db, &it)) && (json_int_t)json_array_size(list) < limit) {
		const char *state = dhcp_binding_name(dhcp_server_lease_state(l, now));

		if (!l->hlen && !l->uid_len && l->starts == DHCP_TIME_NONE)
			continue; /* an address that was only ever looked at */
		if (want && (!state || strcmp(want, state)))
			continue;
		json_array_append_new(list, lease_json(l, now));
	}
	return list;
}

static int parse_hw(const char *s, uint8_t *hw, size_t *n)
{
	unsigned v;
	int used;

	for (*n = 0; *s && *n < DHCP_HW_MAX; (*n)++) {
		if (sscanf(s, "%2x%n", &v, &used) != 1)
			return -EINVAL;
		hw[*n] = (uint8_t)v;
		s += used;
		if (*s == ':')
			s++;
		else if (*s)
			return -EINVAL;
	}
	return *n ? 0 : -EINVAL;
}

static json_t *cmd_lease_get(void *ctx, json_t *args, char *err, size_t errlen)
{
	struct daemon *d = ctx;
	const char *addr = json_string_value(json_object_get(args, "address"));
	const char *hw = json_string_value(json_object_get(args, "hardware"));
	struct dhcp_lease *l = NULL;
	uint32_t a;
	uint8_t mac[DHCP_HW_MAX];
	size_t n;

	if (addr) {
		if (parse_ip(addr, &a) < 0) {
			snprintf(err, errlen, "bad address '%s'", addr);
			return NULL;
		}
		l = dhcp_leasedb_get(d->db, a);
	} else if (hw) {
		if (parse_hw(hw, mac, &n) < 0) {
			snprintf(err, errlen, "bad hardware address '%s'", hw);
			return NULL;
		}
		/* The current lease of that client: the active one, else the latest. */
		for (struct dhcp_lease *c = NULL; (c = dhcp_leasedb_by_hw(d->db, 1, (uint8_t)n, mac, c));)
			if (!l || (c->binding == DHCP_BINDING_ACTIVE &&
				   l->binding != DHCP_BINDING_ACTIVE) || c->cltt > l->cltt)
				l = c;
	} else {
		snprintf(err, errlen, "give \"address\" or \"hardware\"");
		return NULL;
	}
	if (!l || (!l->hlen && !l->uid_len && l->starts == DHCP_TIME_NONE)) {
		snprintf(err, errlen, "no lease");
		return NULL;
	}
	return lease_json(l, now_s());
}

static json_t *cmd_pool_stats(void *ctx, json_t *args, char *err, size_t errlen)
{
	struct daemon *d = ctx;
	size_t n = dhcp_server_pool_stats(d->srv, now_s(), NULL, 0);
	struct dhcp_pool_stats *st = calloc(n ? n : 1, sizeof(*st));
	json_t *list;

	(void)args;
	if (!st) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n = dhcp_server_pool_stats(d->srv, now_s(), st, n);
	list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object(), *ranges = json_array();
		char net[40];
		const struct dhcp_subnet *sn = st[i].pool->subnet;

		snprintf(net, sizeof(net), "%u.%u.%u.%u/%d", sn->net >> 24, (sn->net >> 16) & 255,
			 (sn->net >> 8) & 255, sn->net & 255, __builtin_popcount(sn->mask));
		for (size_t k = 0; k < st[i].pool->ranges_n; k++) {
			json_t *r = json_array();

			json_array_append_new(r, json_ip(st[i].pool->ranges[k].lo));
			json_array_append_new(r, json_ip(st[i].pool->ranges[k].hi));
			json_array_append_new(ranges, r);
		}
		json_object_set_new(o, "subnet", json_string(net));
		json_object_set_new(o, "ranges", ranges);
		json_object_set_new(o, "total", json_integer(st[i].total));
		json_object_set_new(o, "active", json_integer(st[i].active));
		json_object_set_new(o, "free", json_integer(st[i].free));
		if (st[i].pool->fo) {
			json_object_set_new(o, "backup", json_integer(st[i].backup));
			json_object_set_new(o, "failover_peer", json_string(st[i].pool->fo->name));
		}
		json_object_set_new(o, "abandoned", json_integer(st[i].abandoned));
		json_object_set_new(o, "reserved", json_integer(st[i].reserved));
		json_array_append_new(list, o);
	}
	free(st);
	return list;
}

static json_t *cmd_counters(void *ctx, json_t *args, char *err, size_t errlen)
{
	struct daemon *d = ctx;
	const struct dhcp_counters *c = dhcp_server_counters(d->srv);
	json_t *o = json_object();
	struct dhcp_journal_stats js;
	char key[64];

	(void)args;
	(void)err;
	(void)errlen;
	static const uint8_t rx_types[] = {DHCP_MSG_NONE, DHCPDISCOVER, DHCPREQUEST, DHCPDECLINE,
					   DHCPRELEASE, DHCPINFORM};
	static const uint8_t tx_types[] = {DHCP_MSG_NONE, DHCPOFFER, DHCPACK, DHCPNAK};

	for (size_t i = 0; i < ARRAY_SIZE(rx_types); i++) {
		snprintf(key, sizeof(key), "received.%s", dhcp_msg_name(rx_types[i]));
		json_object_set_new(o, key, json_integer((json_int_t)c->rx[rx_types[i]]));
	}
	for (size_t i = 0; i < ARRAY_SIZE(tx_types); i++) {
		snprintf(key, sizeof(key), "sent.%s", dhcp_msg_name(tx_types[i]));
		json_object_set_new(o, key, json_integer((json_int_t)c->tx[tx_types[i]]));
	}
	for (int r = 1; r < DHCP_DROP_MAX; r++) {
		if (r == DHCP_DROP_NO_END)
			continue; /* accepted, as ISC does: see dhcp_packet.h */
		snprintf(key, sizeof(key), "dropped.%s", dhcp_drop_name(r));
		json_object_set_new(o, key, json_integer((json_int_t)c->drop[r]));
	}
	for (int r = 1; r < DHCP_IGN_MAX; r++) {
		snprintf(key, sizeof(key), "ignored.%s", dhcp_ignore_name(r));
		json_object_set_new(o, key, json_integer((json_int_t)c->ignore[r]));
	}
	json_object_set_new(o, "dropped.foreign_interface", json_integer((json_int_t)d->foreign));
	json_object_set_new(o, "dropped.unsynced_reply", json_integer((json_int_t)d->unsynced_dropped));
	json_object_set_new(o, "send-errors", json_integer((json_int_t)d->send_errors));
	dhcp_journal_stats(d->journal, &js);
	json_object_set_new(o, "lease-syncs", json_integer((json_int_t)js.syncs));
	json_object_set_new(o, "lease-sync-errors", json_integer((json_int_t)js.sync_errors));
	json_object_set_new(o, "lease-records", json_integer((json_int_t)js.records));
	json_object_set_new(o, "lease-file-rewrites", json_integer((json_int_t)d->rewrites));
	json_object_set_new(o, "ping-checks", json_integer((json_int_t)c->probes));
	json_object_set_new(o, "ping-checks-answered", json_integer((json_int_t)c->probes_answered));
	json_object_set_new(o, "ping-checks-skipped", json_integer((json_int_t)d->probes_skipped));
	json_object_set_new(o, "leases-reclaimed", json_integer((json_int_t)c->leases_reclaimed));
	json_object_set_new(o, "options-omitted", json_integer((json_int_t)c->options_omitted));
	json_object_set_new(o, "leases", json_integer((json_int_t)dhcp_leasedb_count(d->db)));
	json_object_set_new(o, "leases-expired", json_integer((json_int_t)c->leases_expired));
	json_object_set_new(o, "leases-abandoned", json_integer((json_int_t)c->leases_abandoned));
	return o;
}

/* What the daemon cannot run although the parser takes it (-t says so too). */
static int check_supported(const struct dhcp_conf *c, char *err, size_t errlen)
{
	const struct dhcp_failover_peer *fo;

	if (c->failover_peers_n <= DHCP_FO_PEERS_MAX)
		return 0;
	fo = c->failover_peers[DHCP_FO_PEERS_MAX];
	snprintf(err, errlen, "%s:%u:%u: failover peer \"%s\": more than %d failover peers",
		 fo->file, fo->line, fo->col, fo->name, DHCP_FO_PEERS_MAX);
	return CORE_EUNSUPP;
}

static int reload(struct daemon *d, char *err, size_t errlen)
{
	struct dhcp_conf *conf;
	int rc = dhcp_conf_load(d->o->conf_path, &conf, err, errlen);

	if (rc == 0 && ((rc = check_supported(conf, err, errlen)) < 0 ||
			(rc = dhcp_fo_peers_check_reload(d->peers, conf, err, errlen)) < 0))
		dhcp_conf_free(conf);
	if (rc < 0) {
		CLOG_ERR("reload: %s; keeping the running configuration", err);
		return rc;
	}
	(void)dhcp_conf_resolve(conf, dhcp_conf_lookup_system, NULL);
	rc = dhcp_server_set_conf(d->srv, conf, now_s());
	if (rc < 0) {
		snprintf(err, errlen, "cannot apply configuration: %s", core_strerror(rc));
		CLOG_ERR("reload: %s; keeping the running configuration", err);
		dhcp_conf_free(conf);
		return rc;
	}
	/* The links point into the first configuration's peer declarations: it stays. */
	if (d->conf != d->fo_conf)
		dhcp_conf_free(d->conf);
	d->conf = conf;
	if (d->journal)
		dhcp_journal_set_style(d->journal, conf->lease_style);
	if (dhcp_io_rescan(d->io, conf, err, errlen) < 0)
		CLOG_WARN("reload: %s", err);
	CLOG_NOTICE("configuration reloaded from %s", d->o->conf_path);
	return 0;
}

static json_t *cmd_rewrite(void *ctx, json_t *args, char *err, size_t errlen)
{
	struct daemon *d = ctx;
	int rc;

	(void)args;
	rc = bg_rewrite_start(d);
	if (rc < 0) {
		snprintf(err, errlen, "%s", rc == -EBUSY ? "a rewrite is already running"
							: strerror(-rc));
		return NULL;
	}
	return json_string("lease file rewrite started");
}

static json_t *cmd_reload(void *ctx, json_t *args, char *err, size_t errlen)
{
	(void)args;
	if (reload(ctx, err, errlen) < 0)
		return NULL;
	return json_string("configuration reloaded");
}

/* ---- start-up and shut-down ---- */

static void on_shutdown_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;

	if (!dhcp_fo_peers_shutdown_done(d->peers) && mono_ms() < d->shutdown_deadline_ms)
		return;
	if (!dhcp_fo_peers_shutdown_done(d->peers))
		CLOG_WARN("shutdown: a failover partner did not take over within %d s; stopping "
			  "anyway",
			  SHUTDOWN_WAIT_MS / 1000);
	dhcp_fo_peers_shutdown_finish(d->peers);
	CLOG_NOTICE("shutdown: done");
	uv_stop(&d->loop);
}

/*
 * shutdown: ISC's graceful shut-down (omshell: control object, state 2). No new requests
 * are read; failover peers in normal move to shutdown so that their partners take over at
 * once in partner-down; when they have (or after SHUTDOWN_WAIT_MS) the daemon exits, to
 * come back in recover. A signal stops at once instead, as ISC's does.
 */
static json_t *cmd_shutdown(void *ctx, json_t *args, char *err, size_t errlen)
{
	struct daemon *d = ctx;
	size_t told;
	json_t *o;

	(void)args;
	if (d->shutdown_deadline_ms) {
		snprintf(err, errlen, "a shutdown is already under way");
		return NULL;
	}
	CLOG_NOTICE("shutdown requested on the control socket");
	d->shutdown_deadline_ms = mono_ms() + SHUTDOWN_WAIT_MS;
	reading(d, false);
	told = dhcp_fo_peers_shutdown(d->peers);
	uv_timer_start(&d->shutdown_timer, on_shutdown_timer, SHUTDOWN_POLL_MS, SHUTDOWN_POLL_MS);
	o = json_object();
	json_object_set_new(o, "failover_peers_told", json_integer((json_int_t)told));
	return o;
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;
	char err[512];

	if (signum == SIGHUP) {
		(void)reload(d, err, sizeof(err));
		return;
	}
	CLOG_NOTICE("received signal %d: shutting down", signum);
	uv_stop(&d->loop);
}

static const char *lease_path(const struct dhcp_daemon_opts *o, const struct dhcp_conf *c)
{
	if (o->lease_path)
		return o->lease_path;
	return c->lease_file ? c->lease_file : DHCP_DEFAULT_LEASES;
}

static int load_conf(const struct dhcp_daemon_opts *o, struct dhcp_conf **conf)
{
	char err[1024];
	int rc = dhcp_conf_load(o->conf_path, conf, err, sizeof(err));

	if (rc == 0 && (rc = check_supported(*conf, err, sizeof(err))) < 0) {
		dhcp_conf_free(*conf);
		*conf = NULL;
	}
	if (rc < 0)
		CLOG_ERR("%s", err);
	return rc;
}

int dhcp_daemon_check_conf(const struct dhcp_daemon_opts *o)
{
	struct dhcp_conf *conf;

	if (load_conf(o, &conf) < 0)
		return 1;
	if (!o->quiet)
		CLOG_INFO("%s: configuration is valid", o->conf_path);
	dhcp_conf_free(conf);
	return 0;
}

static int load_leases(struct dhcp_leasestore *st, struct dhcp_leasedb *db, const char *path)
{
	struct dhcp_leasefile_stats stats = {0};
	char err[1024];
	int rc = dhcp_leasestore_load(st, load_cb, db, &stats, err, sizeof(err));

	if (rc < 0) {
		CLOG_ERR("%s: %s", path, err[0] ? err : core_strerror(rc));
		return rc;
	}
	CLOG_INFO("%s: read %zu lease records, %zu addresses%s", path, stats.leases,
		  dhcp_leasedb_count(db), stats.tail_torn ? " (torn tail dropped)" : "");
	return 0;
}

int dhcp_daemon_check_leases(const struct dhcp_daemon_opts *o)
{
	struct dhcp_conf *conf;
	struct dhcp_leasedb *db = NULL;
	struct dhcp_leasefile_stats stats = {0};
	char err[1024] = "";
	const char *path;
	struct stat st;
	void *map = NULL;
	int fd, rc = 1;

	if (load_conf(o, &conf) < 0)
		return 1;
	path = lease_path(o, conf);
	/* -T only reads: the file is mapped read-only, never truncated or rewritten. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		CLOG_ERR("cannot open lease file %s: %s", path, strerror(errno));
		goto out;
	}
	if (st.st_size > 0) {
		map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (map == MAP_FAILED) {
			map = NULL;
			CLOG_ERR("cannot map lease file %s: %s", path, strerror(errno));
			goto out;
		}
	}
	db = dhcp_leasedb_new();
	if (db && dhcp_leasefile_parse(map ? map : "", map ? (size_t)st.st_size : 0, path, load_cb,
				       db, &stats, err, sizeof(err)) == 0) {
		if (!o->quiet)
			CLOG_INFO("%s: %zu lease records, %zu addresses%s", path, stats.leases,
				  dhcp_leasedb_count(db),
				  stats.tail_torn ? "; torn tail would be dropped" : "");
		rc = 0;
	} else {
		CLOG_ERR("%s", err[0] ? err : "out of memory");
	}
out:
	if (map)
		munmap(map, (size_t)st.st_size);
	if (fd >= 0)
		close(fd);
	dhcp_leasedb_free(db);
	dhcp_conf_free(conf);
	return rc;
}

/* As ISC: refuse to start when the pid file names a live paceless-dhcpd or dhcpd. */
static bool already_running(const char *path)
{
	char buf[32], comm_path[64], comm[32] = "";
	FILE *f = fopen(path, "re");
	long pid;

	if (!f)
		return false;
	pid = fgets(buf, sizeof(buf), f) ? strtol(buf, NULL, 10) : 0;
	fclose(f);
	if (pid <= 0 || pid == getpid() || kill((pid_t)pid, 0) < 0)
		return false;
	snprintf(comm_path, sizeof(comm_path), "/proc/%ld/comm", pid);
	f = fopen(comm_path, "re");
	if (f) {
		if (!fgets(comm, sizeof(comm), f))
			comm[0] = 0;
		fclose(f);
	}
	return !strncmp(comm, "paceless-dhcpd", 14) || !strncmp(comm, "dhcpd", 5);
}

static int write_pid(const char *path)
{
	char buf[32];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());

	if (fd < 0)
		return -errno;
	if (write(fd, buf, (size_t)n) != n) {
		close(fd);
		return -EIO;
	}
	return close(fd) < 0 ? -errno : 0;
}

static int daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -errno;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -errno;
	fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return chdir("/") < 0 ? -errno : 0;
}

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static int open_state(struct daemon *d)
{
	char err[512];
	int rc;

	d->lease_path = lease_path(d->o, d->conf);
	d->pid_path = d->o->pid_path ? d->o->pid_path
				     : d->conf->pid_file ? d->conf->pid_file : DHCP_DEFAULT_PID;
	/* The port first: it is what makes this the only server here. A second one must fail
	 * before it touches the lease file, whose start-up rewrite would pull the file out
	 * from under the running server's journal. */
	rc = dhcp_io_open(d->conf, d->o->ifnames,
			  d->o->port ? d->o->port : d->conf->local_port ? d->conf->local_port : 67,
			  d->conf->local_address, &d->io, err, sizeof(err));
	if (rc < 0) {
		CLOG_ERR("%s", err);
		return rc;
	}
	d->db = dhcp_leasedb_new();
	if (!d->db)
		return -ENOMEM;
	rc = dhcp_leasestore_open(d->lease_path, &d->store);
	if (rc < 0) {
		CLOG_ERR("cannot open lease file %s: %s", d->lease_path, core_strerror(rc));
		return rc;
	}
	dhcp_leasestore_set_style(d->store, d->conf->lease_style);
	rc = load_leases(d->store, d->db, d->lease_path);
	if (rc < 0)
		return rc;
	d->srv = dhcp_server_new(d->conf, d->db, on_persist, d);
	if (!d->srv)
		return -ENOMEM;
	/* As ISC does at start-up: a fresh, compact lease file. */
	rc = rewrite(d);
	if (rc < 0)
		return rc;
	return 0;
}

static int open_loop(struct daemon *d)
{
	int rc = uv_loop_init(&d->loop);

	if (rc < 0)
		return rc;
	d->queue = calloc(REPLY_QUEUE_MAX, sizeof(*d->queue));
	if (!d->queue)
		return -ENOMEM;
	rc = dhcp_journal_start(d->store, &d->loop, DHCP_JOURNAL_SYNCERS, on_durable, d,
				&d->journal);
	if (rc < 0) {
		CLOG_ERR("cannot start the lease journal: %s", core_strerror(rc));
		return rc;
	}
	uv_poll_init(&d->loop, &d->poll, dhcp_io_fd(d->io));
	d->poll.data = d;
	reading(d, true);
	d->probes = calloc(PROBES_MAX, sizeof(*d->probes));
	if (!d->probes)
		return -ENOMEM;
	d->probe_id = (uint16_t)getpid();
	uv_poll_init(&d->loop, &d->icmp_poll, dhcp_io_icmp_fd(d->io));
	d->icmp_poll.data = d;
	uv_poll_start(&d->icmp_poll, UV_READABLE, on_icmp);
	uv_timer_init(&d->loop, &d->probe_timer);
	d->probe_timer.data = d;
	uv_timer_init(&d->loop, &d->tick);
	d->tick.data = d;
	uv_timer_start(&d->tick, on_tick, TICK_MS, TICK_MS);
	uv_timer_init(&d->loop, &d->shutdown_timer);
	d->shutdown_timer.data = d;
	uv_signal_init(&d->loop, &d->sig_hup);
	uv_signal_init(&d->loop, &d->sig_term);
	uv_signal_init(&d->loop, &d->sig_int);
	d->sig_hup.data = d->sig_term.data = d->sig_int.data = d;
	uv_signal_start(&d->sig_hup, on_signal, SIGHUP);
	uv_signal_start(&d->sig_term, on_signal, SIGTERM);
	uv_signal_start(&d->sig_int, on_signal, SIGINT);
	d->fo_conf = d->conf->failover_peers_n ? d->conf : NULL;
	rc = dhcp_fo_peers_start(&d->loop, d->conf, d->srv, d->journal, d->store, &d->peers);
	if (rc < 0)
		return rc;
	rc = core_ctl_open(&d->loop, d->o->ctl_path, &d->ctl);
	if (rc < 0) {
		CLOG_ERR("cannot open control socket %s: %s", d->o->ctl_path, core_strerror(rc));
		return rc;
	}
	if (core_ctl_register(d->ctl, "lease-list", "list leases [state=S] [limit=N]",
			      cmd_lease_list, d) < 0 ||
	    core_ctl_register(d->ctl, "lease-get", "one lease: address=A or hardware=MAC",
			      cmd_lease_get, d) < 0 ||
	    core_ctl_register(d->ctl, "pool-stats", "occupancy of every pool", cmd_pool_stats,
			      d) < 0 ||
	    core_ctl_register(d->ctl, "counters", "packet and lease counters", cmd_counters,
			      d) < 0 ||
	    core_ctl_register(d->ctl, "config-reload", "re-read the configuration (as SIGHUP)",
			      cmd_reload, d) < 0 ||
	    core_ctl_register(d->ctl, "lease-file-rewrite",
			      "compact the lease file now, in the background", cmd_rewrite, d) < 0 ||
	    core_ctl_register(d->ctl, "shutdown",
			      "stop gracefully: failover partners take over first (as omshell's)",
			      cmd_shutdown, d) < 0 ||
	    dhcp_fo_peers_register(d->peers, d->ctl) < 0)
		return -ENOMEM;
	return 0;
}

static void close_all(struct daemon *d, bool loop_open)
{
	if (d->journal) {
		int rc;

		/* A rewrite in progress is finished, not abandoned: it is the compact file. */
		bg_rewrite_reap(d, true);
		rc = dhcp_journal_stop(d->journal);

		if (rc < 0)
			CLOG_ERR("lease file %s: final sync failed: replies withheld", d->lease_path);
		d->journal = NULL;
		/* Replies whose leases are now durable still go out; none if the sync failed. */
		while (d->q_len) {
			if (rc < 0)
				d->unsynced_dropped++;
			else if (dhcp_io_send(d->io, &d->queue[d->q_head].tx) < 0)
				d->send_errors++;
			d->q_head = (d->q_head + 1) % REPLY_QUEUE_MAX;
			d->q_len--;
		}
	} else if (d->store && dhcp_leasestore_sync(d->store) < 0) {
		CLOG_ERR("lease file %s: final sync failed", d->lease_path);
	}
	if (loop_open) {
		dhcp_fo_peers_stop(d->peers);
		if (d->ctl)
			core_ctl_close(d->ctl);
		uv_walk(&d->loop, close_walk, NULL);
		uv_run(&d->loop, UV_RUN_DEFAULT);
		if (uv_loop_close(&d->loop) < 0)
			CLOG_WARN("event loop did not close cleanly");
	}
	dhcp_io_close(d->io);
	dhcp_server_free(d->srv);
	dhcp_leasestore_close(d->store);
	dhcp_leasedb_free(d->db);
	if (d->fo_conf && d->fo_conf != d->conf)
		dhcp_conf_free(d->fo_conf);
	dhcp_conf_free(d->conf);
	free(d->queue);
	free(d->probes);
}

int dhcp_daemon_run(const struct dhcp_daemon_opts *o)
{
	struct daemon *d = calloc(1, sizeof(*d));
	int rc, status = 1;
	bool loop_open = false;

	if (!d)
		return 1;
	d->o = o;
	d->rl = (struct core_ratelimit)CORE_RATELIMIT_INIT(1000, 10);
	if (load_conf(o, &d->conf) < 0)
		goto out;
	/* Names are looked up to serve, as ISC does when it uses them; -t and -T never do. */
	(void)dhcp_conf_resolve(d->conf, dhcp_conf_lookup_system, NULL);
	if (!o->no_pid) {
		const char *pid = o->pid_path ? o->pid_path
			       : d->conf->pid_file ? d->conf->pid_file : DHCP_DEFAULT_PID;

		if (already_running(pid)) {
			CLOG_ERR("There's already a DHCP server running (pid file %s).", pid);
			goto out;
		}
	}
	/* As ISC: -d logs to stderr and syslog, otherwise syslog only. */
	core_log_open("paceless-dhcpd", o->debug, d->conf->log_facility);
	if (open_state(d) < 0)
		goto out;
	if (!o->foreground && daemonize() < 0)
		goto out;
	if (!o->no_pid && write_pid(d->pid_path) < 0)
		CLOG_WARN("cannot write pid file %s: %s", d->pid_path, strerror(errno));
	rc = open_loop(d);
	loop_open = true;
	if (rc < 0)
		goto out;
	if (!o->quiet)
		CLOG_NOTICE("paceless-dhcpd %s serving, %zu leases, %zu addresses in pools",
			    PACELESS_VERSION, dhcp_leasedb_count(d->db),
			    dhcp_server_pool_addresses(d->srv));
	uv_run(&d->loop, UV_RUN_DEFAULT);
	status = 0;
out:
	close_all(d, loop_open);
	if (loop_open && !o->no_pid)
		unlink(d->pid_path);
	free(d);
	return status;
}
