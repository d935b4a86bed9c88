/* SPDX-License-Identifier: MPL-2.0 */
/* group_bench's incumbent side: a wsrep API v26 provider (Galera's libgalera_smm.so). */

/*
 * The provider is loaded with dlopen() and driven the way a database drives it, minus the
 * database: each worker thread is a client connection that builds a write-set (one key, the
 * message as its data), replicates it with certify() (Galera: send through gcs/gcomm, wait
 * for its total order, certify it), enters and leaves the commit order and releases it.
 * The message counts as delivered at its origin when commit_order_enter() returns, i.e. when
 * every earlier write-set has been committed here, which is where a paceless deliver
 * callback runs. Other nodes' write-sets arrive through apply_cb on the recv threads (the
 * appliers), which commit them in order too. So Galera's figures include its certification
 * (one key per write-set, never in conflict) and its apply/commit monitors; a service on
 * libpaceless-group would do that work itself.
 *
 * The declarations below are written from the wsrep API v26 ABI (struct layouts, slot
 * order, enum values: /work/shared/wsrep-contract.md); the asserts pin the layout.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "group_bench.h"

/* ---- the wsrep ABI, as much as this client uses ---- */

enum {
	GBW_OK = 0,
	GBW_TRX_FAIL = 3,
	GBW_BF_ABORT = 4,
};
enum { GBW_CB_SUCCESS = 0, GBW_CB_FAILURE = 1 };
enum { GBW_VIEW_PRIMARY = 0 };
enum { GBW_LOG_WARN = 2, GBW_LOG_INFO = 3 };
enum { GBW_KEY_EXCLUSIVE = 3 };
enum { GBW_DATA_ORDERED = 0 };
#define GBW_FLAG_TRX_END (1u << 0)
#define GBW_FLAG_ROLLBACK (1u << 1)
#define GBW_FLAG_TRX_START (1u << 6)

union gbw_uuid {
	uint8_t data[16];
	size_t align;
};
struct gbw_gtid {
	union gbw_uuid uuid;
	int64_t seqno;
};
struct gbw_stid {
	union gbw_uuid node;
	uint64_t trx;
	uint64_t conn;
};
struct gbw_meta {
	struct gbw_gtid gtid;
	struct gbw_stid stid;
	int64_t depends_on;
};
struct gbw_buf {
	const void *ptr;
	size_t len;
};
struct gbw_key {
	const struct gbw_buf *parts;
	size_t n_parts;
};
struct gbw_handle {
	uint64_t trx_id;
	void *opaque; /* the provider's */
};
struct gbw_member {
	union gbw_uuid id;
	char name[32];
	char incoming[256];
};
struct gbw_view {
	struct gbw_gtid state_id;
	int64_t view;
	int status;
	uint32_t caps;
	int my_idx;
	int memb_num;
	int proto_ver;
	struct gbw_member members[];
};
struct gbw_stats_var {
	const char *name;
	int type; /* 0 string, 1 int64, 2 double */
	union {
		int64_t i;
		double d;
		const char *s;
	} v;
};

struct gbw_init_args {
	void *app_ctx;
	const char *node_name;
	const char *node_address;
	const char *node_incoming;
	const char *data_dir;
	const char *options;
	int proto_ver;
	const struct gbw_gtid *state_id;
	const struct gbw_buf *state;
	void (*logger_cb)(int level, const char *msg);
	int (*connected_cb)(void *app_ctx, const struct gbw_view *v);
	int (*view_cb)(void *app_ctx, void *recv_ctx, const struct gbw_view *v, const char *state,
		       size_t state_len);
	int (*sst_request_cb)(void *app_ctx, void **req, size_t *len);
	void *encrypt_cb;
	int (*apply_cb)(void *recv_ctx, const struct gbw_handle *h, uint32_t flags,
			const struct gbw_buf *data, const struct gbw_meta *meta, bool *exit_loop);
	void *unordered_cb;
	int (*sst_donate_cb)(void *app_ctx, void *recv_ctx, const struct gbw_buf *msg,
			     const struct gbw_gtid *state_id, const struct gbw_buf *state,
			     bool bypass);
	int (*synced_cb)(void *app_ctx);
};

/* struct wsrep_st: 45 pointer-sized slots; the ones not called here are left opaque. */
struct gbw_provider {
	const char *version;
	int (*init)(struct gbw_provider *p, const struct gbw_init_args *a);
	void *capabilities, *options_set;
	char *(*options_get)(struct gbw_provider *p); /* malloc'd; the caller frees it */
	void *enc_set_key;
	int (*connect)(struct gbw_provider *p, const char *cluster, const char *url,
		       const char *donor, bool bootstrap);
	int (*disconnect)(struct gbw_provider *p);
	int (*recv)(struct gbw_provider *p, void *recv_ctx);
	void *assign_read_view;
	int (*certify)(struct gbw_provider *p, uint64_t conn_id, struct gbw_handle *h,
		       uint32_t flags, struct gbw_meta *meta);
	int (*commit_order_enter)(struct gbw_provider *p, const struct gbw_handle *h,
				  const struct gbw_meta *meta);
	int (*commit_order_leave)(struct gbw_provider *p, const struct gbw_handle *h,
				  const struct gbw_meta *meta, const struct gbw_buf *error);
	int (*release)(struct gbw_provider *p, struct gbw_handle *h);
	void *replay_trx, *abort_certification, *rollback;
	int (*append_key)(struct gbw_provider *p, struct gbw_handle *h, const struct gbw_key *keys,
			  size_t n, int type, bool copy);
	int (*append_data)(struct gbw_provider *p, struct gbw_handle *h,
			   const struct gbw_buf *data, size_t n, int type, bool copy);
	void *sync_wait, *last_committed_id, *free_connection, *to_execute_start,
		*to_execute_end, *preordered_collect, *preordered_commit;
	int (*sst_sent)(struct gbw_provider *p, const struct gbw_gtid *state_id, int rcode);
	int (*sst_received)(struct gbw_provider *p, const struct gbw_gtid *state_id,
			    const struct gbw_buf *state, int rcode);
	void *snapshot;
	struct gbw_stats_var *(*stats_get)(struct gbw_provider *p);
	void (*stats_free)(struct gbw_provider *p, struct gbw_stats_var *vars);
	void *stats_reset, *pause, *resume, *desync, *resync, *lock, *unlock, *is_locked;
	const char *provider_name, *provider_version, *provider_vendor;
	void (*free)(struct gbw_provider *p);
	void *dlh;
	void *ctx;
};

_Static_assert(sizeof(struct gbw_provider) == 360, "wsrep_st is 45 slots");
_Static_assert(offsetof(struct gbw_provider, certify) == 80, "certify slot");
_Static_assert(offsetof(struct gbw_provider, stats_get) == 232, "stats_get slot");
_Static_assert(offsetof(struct gbw_provider, provider_name) == 312, "provider_name slot");
_Static_assert(offsetof(struct gbw_provider, free) == 336, "free slot");
_Static_assert(sizeof(struct gbw_init_args) == 144, "wsrep_init_args");
_Static_assert(offsetof(struct gbw_init_args, synced_cb) == 136, "synced_cb");
_Static_assert(sizeof(struct gbw_meta) == 64, "wsrep_trx_meta_t");
_Static_assert(offsetof(struct gbw_view, members) == 56, "wsrep_view_info_t");
_Static_assert(sizeof(struct gbw_member) == 304, "wsrep_member_info_t");

/* ---- this node ---- */

#define START_TIMEOUT_MS 60000

struct gb_wsrep {
	void *dl;
	struct gbw_provider *p;
	pthread_t recv_th[64];
	int n_recv;
	pthread_mutex_t mu;
	int view_status, view_members;
	bool synced;
	_Atomic uint64_t trx_next;
	_Atomic uint64_t cert_fail, applied;
	struct gbw_gtid connected; /* the group's position when this node connected */
	char dir[256];
};

static struct gb_wsrep gw;

static void on_log(int level, const char *msg)
{
	if (level <= GBW_LOG_INFO)
		gb_log("galera[%d]: %s", level, msg);
}

static int on_connected(void *app_ctx, const struct gbw_view *v)
{
	(void)app_ctx;
	pthread_mutex_lock(&gw.mu);
	gw.connected = v->state_id;
	/* A joiner gets no view_cb for the view it joined in (it needed a state transfer). */
	gw.view_status = v->status;
	gw.view_members = v->memb_num;
	pthread_mutex_unlock(&gw.mu);
	gb_log("galera: connected, %d members", v->memb_num);
	return GBW_CB_SUCCESS;
}

static int on_view(void *app_ctx, void *recv_ctx, const struct gbw_view *v, const char *state,
		   size_t state_len)
{
	(void)app_ctx;
	(void)recv_ctx;
	(void)state;
	(void)state_len;
	pthread_mutex_lock(&gw.mu);
	gw.view_status = v->status;
	gw.view_members = v->memb_num;
	pthread_mutex_unlock(&gw.mu);
	gb_log("galera: view %lld status %d, %d members, my index %d", (long long)v->view,
	       v->status, v->memb_num, v->my_idx);
	return GBW_CB_SUCCESS;
}

/*
 * Every node starts empty, so the state transfer carries nothing. It is not Galera's
 * "trivial" one, though: with that, a Galera 4 joiner still waits for the donor's
 * certification-index preload (an IST), which the donor skips for "trivial", so the joiner
 * never joins. So the joiner asks for a named one, the donor answers at once (sst_sent, and
 * the preload goes out), and the joiner reports the group's position as received
 * (sst_received), from a thread: the provider waits for it on the recv thread.
 */
static void *received_main(void *arg)
{
	struct gbw_gtid g;

	(void)arg;
	pthread_mutex_lock(&gw.mu);
	g = gw.connected;
	pthread_mutex_unlock(&gw.mu);
	/* Refused (not yet joining) until the provider has sent the request: retry. */
	for (int i = 0; i < 6000; i++) {
		struct timespec ts = {.tv_nsec = 10000000};

		if (gw.p->sst_received(gw.p, &g, NULL, 0) == GBW_OK)
			return NULL;
		nanosleep(&ts, NULL);
	}
	gb_log("galera: sst_received never accepted");
	return NULL;
}

static int on_sst_request(void *app_ctx, void **req, size_t *len)
{
	static const char method[] = "gbench";
	pthread_t th;

	(void)app_ctx;
	*req = malloc(sizeof(method));
	if (!*req)
		return GBW_CB_FAILURE;
	memcpy(*req, method, sizeof(method));
	*len = sizeof(method);
	if (pthread_create(&th, NULL, received_main, NULL)) {
		free(*req);
		return GBW_CB_FAILURE;
	}
	pthread_detach(th);
	return GBW_CB_SUCCESS;
}

struct donate {
	struct gbw_gtid gtid;
};

static void *donate_main(void *arg)
{
	struct donate *d = arg;

	gw.p->sst_sent(gw.p, &d->gtid, 0);
	free(d);
	return NULL;
}

/* A donor is asked for the (empty) state: report it sent, off the recv thread. */
static int on_sst_donate(void *app_ctx, void *recv_ctx, const struct gbw_buf *msg,
			 const struct gbw_gtid *state_id, const struct gbw_buf *state, bool bypass)
{
	struct donate *d = malloc(sizeof(*d));
	pthread_t th;

	(void)app_ctx;
	(void)recv_ctx;
	(void)msg;
	(void)state;
	gb_log("galera: donating (bypass %d)", bypass);
	if (!d)
		return GBW_CB_FAILURE;
	d->gtid = *state_id;
	if (pthread_create(&th, NULL, donate_main, d)) {
		free(d);
		return GBW_CB_FAILURE;
	}
	pthread_detach(th);
	return GBW_CB_SUCCESS;
}

static int on_synced(void *app_ctx)
{
	(void)app_ctx;
	pthread_mutex_lock(&gw.mu);
	gw.synced = true;
	pthread_mutex_unlock(&gw.mu);
	gb_log("galera: synced");
	return GBW_CB_SUCCESS;
}

/* Another node's write-set: commit it in order as a database does, counted inside the order. */
static int on_apply(void *recv_ctx, const struct gbw_handle *h, uint32_t flags,
		    const struct gbw_buf *data, const struct gbw_meta *meta, bool *exit_loop)
{
	struct gb *b = recv_ctx;

	(void)exit_loop;
	if (gw.p->commit_order_enter(gw.p, h, meta) != GBW_OK)
		return GBW_CB_FAILURE;
	if (!(flags & GBW_FLAG_ROLLBACK) && data && data->ptr)
		gb_delivered(b, data->ptr, (uint32_t)data->len, gb_now_ns());
	atomic_fetch_add_explicit(&gw.applied, 1, memory_order_relaxed);
	return gw.p->commit_order_leave(gw.p, h, meta, NULL) == GBW_OK ? GBW_CB_SUCCESS
								       : GBW_CB_FAILURE;
}

static void *recv_main(void *arg)
{
	int rc = gw.p->recv(gw.p, arg);

	gb_log("galera: recv returned %d", rc);
	return NULL;
}

static bool has_view(int members)
{
	bool ok;

	pthread_mutex_lock(&gw.mu);
	ok = gw.synced && gw.view_status == GBW_VIEW_PRIMARY && gw.view_members == members;
	pthread_mutex_unlock(&gw.mu);
	return ok;
}

static int wait_view(int members)
{
	for (int ms = 0; !has_view(members); ms += 5) {
		struct timespec ts = {.tv_nsec = 5000000};

		if (ms > START_TIMEOUT_MS)
			return -ETIMEDOUT;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static bool wsrep_healthy(struct gb *b)
{
	return has_view(b->nodes);
}

static int wsrep_wait_full(struct gb *b)
{
	return wait_view(b->nodes);
}

static int load(struct gb *b)
{
	int (*loader)(struct gbw_provider *);

	gw.dl = dlopen(b->galera_lib, RTLD_NOW | RTLD_LOCAL);
	if (!gw.dl) {
		gb_log("dlopen %s: %s", b->galera_lib, dlerror());
		return -ENOENT;
	}
	*(void **)&loader = dlsym(gw.dl, "wsrep_loader");
	gw.p = calloc(1, sizeof(*gw.p));
	if (!loader || !gw.p || loader(gw.p) != 0) {
		gb_log("%s: no wsrep_loader or it failed", b->galera_lib);
		return -ENOENT;
	}
	if (!gw.p->version || strcmp(gw.p->version, "26")) {
		gb_log("%s: wsrep interface %s, want 26", b->galera_lib,
		       gw.p->version ? gw.p->version : "?");
		return -EPROTO;
	}
	gw.p->dlh = gw.dl;
	gb_log("provider %s %s", gw.p->provider_name, gw.p->provider_version);
	return 0;
}

static int wsrep_start(struct gb *b)
{
	static const struct gbw_gtid undefined = {.seqno = -1};
	char opts[4096], tls[2048], addr[64], name[16], url[64];
	int port = b->port_base + 10 * b->index, rc;
	struct gbw_init_args a = {
		.app_ctx = b,
		.node_name = name,
		.node_address = addr,
		.node_incoming = "127.0.0.1",
		.data_dir = gw.dir,
		.options = opts,
		.proto_ver = 4,
		.state_id = &undefined,
		.logger_cb = on_log,
		.connected_cb = on_connected,
		.view_cb = on_view,
		.sst_request_cb = on_sst_request,
		.apply_cb = on_apply,
		.sst_donate_cb = on_sst_donate,
		.synced_cb = on_synced,
	};

	pthread_mutex_init(&gw.mu, NULL);
	gw.view_status = -1;
	atomic_store(&gw.trx_next, 1);
	snprintf(gw.dir, sizeof(gw.dir), "%s/galera-n%d", b->workdir, b->index);
	if (mkdir(gw.dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	snprintf(name, sizeof(name), "n%d", b->index);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
	tls[0] = '\0';
	if (b->tls_dir) /* the same files as the paceless nodes', with Galera's option names */
		snprintf(tls, sizeof(tls),
			 "; socket.ssl_cert=%s/n%d.pem; socket.ssl_key=%s/n%d.key; "
			 "socket.ssl_ca=%s/ca.pem", b->tls_dir, b->index, b->tls_dir, b->index,
			 b->tls_dir);
	snprintf(opts, sizeof(opts),
		 "gcache.size=%lluM; gcache.dir=%s; gmcast.listen_addr=tcp://127.0.0.1:%d; "
		 "ist.recv_addr=127.0.0.1:%d%s%s%s",
		 (unsigned long long)(b->cache_bytes >> 20), gw.dir, port, port + 1, tls,
		 b->galera_opts[0] ? "; " : "", b->galera_opts);
	snprintf(url, sizeof(url), b->index ? "gcomm://127.0.0.1:%d" : "gcomm://", b->port_base);
	rc = load(b);
	if (rc < 0)
		return rc;
	if ((rc = gw.p->init(gw.p, &a)) != GBW_OK) {
		gb_log("galera: init failed: %d (options: %s)", rc, opts);
		return -EINVAL;
	}
	if (b->index == 0) {
		char *all = gw.p->options_get(gw.p);

		gb_log("galera: provider options: %s", all ? all : "?");
		free(all);
	}
	if ((rc = gw.p->connect(gw.p, "gbench", url, "", b->index == 0)) != GBW_OK) {
		gb_log("galera: connect %s failed: %d", url, rc);
		return -ECONNREFUSED;
	}
	for (int i = 0; i < b->appliers; i++)
		if (!pthread_create(&gw.recv_th[gw.n_recv], NULL, recv_main, b))
			gw.n_recv++;
	return b->index ? 0 : wait_view(1);
}

/* One client transaction: a write-set of one key and the message, replicated and committed. */
static int wsrep_send(struct gb *b, int w, const uint8_t *msg, uint32_t len)
{
	uint64_t id = atomic_fetch_add_explicit(&gw.trx_next, 1, memory_order_relaxed);
	uint8_t origin = (uint8_t)b->index;
	struct gbw_buf parts[3] = {{"gbench", 6}, {&origin, 1}, {&id, sizeof(id)}};
	struct gbw_key key = {parts, 3};
	struct gbw_buf data = {msg, len};
	struct gbw_handle h = {.trx_id = id};
	struct gbw_meta meta = {.gtid = {.seqno = -1}};
	int rc;

	if (b->keys && gw.p->append_key(gw.p, &h, &key, 1, GBW_KEY_EXCLUSIVE, true) != GBW_OK)
		goto fail;
	if (gw.p->append_data(gw.p, &h, &data, 1, GBW_DATA_ORDERED, true) != GBW_OK)
		goto fail;
	rc = gw.p->certify(gw.p, (uint64_t)w + 1, &h, GBW_FLAG_TRX_START | GBW_FLAG_TRX_END,
			   &meta);
	if (meta.gtid.seqno > 0) {
		/* Ordered: pass the commit order whatever certification said, or all stall. */
		if (gw.p->commit_order_enter(gw.p, &h, &meta) == GBW_OK) {
			if (rc == GBW_OK)
				gb_delivered(b, msg, len, gb_now_ns());
			gw.p->commit_order_leave(gw.p, &h, &meta, NULL);
		}
	}
	gw.p->release(gw.p, &h);
	if (rc == GBW_OK)
		return 0;
	atomic_fetch_add_explicit(&gw.cert_fail, 1, memory_order_relaxed);
	return -EIO;
fail:
	gw.p->release(gw.p, &h);
	return -EINVAL;
}

static void wsrep_status_line(struct gb *b, char *out, size_t cap)
{
	static const char *const want[] = {
		"local_send_queue_avg", "local_recv_queue_avg", "flow_control_paused",
		"flow_control_sent",    "local_cert_failures",  "cert_deps_distance",
	};
	struct gbw_stats_var *v = gw.p->stats_get(gw.p);
	size_t off;

	(void)b;
	off = (size_t)snprintf(out, cap, "applied=%llu cert_fail=%llu",
			       (unsigned long long)atomic_load(&gw.applied),
			       (unsigned long long)atomic_load(&gw.cert_fail));
	for (size_t i = 0; v && v[i].name && off < cap; i++)
		for (size_t k = 0; k < sizeof(want) / sizeof(want[0]) && off < cap; k++) {
			if (strcmp(v[i].name, want[k]))
				continue;
			if (v[i].type == 1)
				off += (size_t)snprintf(out + off, cap - off, " %s=%lld", want[k],
							(long long)v[i].v.i);
			else if (v[i].type == 2)
				off += (size_t)snprintf(out + off, cap - off, " %s=%.3g", want[k],
							v[i].v.d);
		}
	if (v)
		gw.p->stats_free(gw.p, v);
}

static void wsrep_stop(struct gb *b)
{
	(void)b;
	gw.p->disconnect(gw.p);
	for (int i = 0; i < gw.n_recv; i++)
		pthread_join(gw.recv_th[i], NULL);
	gw.p->free(gw.p);
	free(gw.p);
	gw.p = NULL;
}

const struct gb_sys gb_sys_wsrep = {
	.name = "galera",
	.start = wsrep_start,
	.wait_full = wsrep_wait_full,
	.healthy = wsrep_healthy,
	.send = wsrep_send,
	.status = wsrep_status_line,
	.stop = wsrep_stop,
	.blocking = true,
};
