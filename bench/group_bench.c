/* SPDX-License-Identifier: MPL-2.0 */
/* group_bench: one member of a 3-node group per process; runs the driver's load, prints results. */

/*
 * bench/group_bench.py starts one process per node (the first bootstraps, the others join it
 * on 127.0.0.1) and talks to each over stdin/stdout, one line each way:
 *
 *   <- "up"                         started (the first node: a primary group of one)
 *   <- "ready <status>"             once this node is in a primary view of --nodes members
 *   -> "run ID RATE WINDOW SIZE T0_NS DUR_MS WARM_MS"
 *   <- {"run":ID,...}                one JSON line when the run is over
 *   -> "quit"                       (or EOF) leave the group and exit
 *
 * A run submits SIZE-byte messages from T0_NS (CLOCK_MONOTONIC, the same clock in every process
 * of the machine, so all nodes start together) for DUR_MS. RATE > 0: open loop, this node's
 * messages per second at fixed intervals, each stamped with its scheduled time (a generator
 * that falls behind shows up as latency, not as a lower offered rate). RATE = 0: closed loop,
 * at most WINDOW own messages in flight (a blocking system: one per worker thread). Latency is
 * submit-to-delivery of this node's own messages at this node; the delivered rate counts
 * every origin's messages delivered here between T0 + WARM and the end of submissions.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "group_bench.h"

#define DRAIN_MS 5000 /* after submissions end, wait this long at most for own deliveries */

static struct gb bench;

int64_t gb_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void gb_log(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[gb %d] ", bench.index);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void sleep_until(int64_t t_ns)
{
	struct timespec ts = {.tv_sec = t_ns / 1000000000, .tv_nsec = t_ns % 1000000000};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* ---- latency histogram ---- */

static unsigned hist_index(uint64_t us)
{
	unsigned e, i;

	if (us < 64)
		return (unsigned)us;
	e = 63u - (unsigned)__builtin_clzll(us);
	i = 64 + (e - 6) * GB_HIST_SUB + (unsigned)((us >> (e - 5)) & (GB_HIST_SUB - 1));
	return i < GB_HIST_N ? i : GB_HIST_N - 1;
}

/* The middle of bucket i, in microseconds. */
static double hist_value(unsigned i)
{
	unsigned e, sub;
	uint64_t lo;

	if (i < 64)
		return i;
	e = (i - 64) / GB_HIST_SUB + 6;
	sub = (i - 64) % GB_HIST_SUB;
	lo = (uint64_t)(GB_HIST_SUB + sub) << (e - 5);
	return (double)lo + (double)((uint64_t)1 << (e - 5)) / 2;
}

static void hist_add(struct gb_hist *h, uint64_t us)
{
	uint64_t m = atomic_load_explicit(&h->max_us, memory_order_relaxed);

	atomic_fetch_add_explicit(&h->b[hist_index(us)], 1, memory_order_relaxed);
	while (us > m && !atomic_compare_exchange_weak(&h->max_us, &m, us))
		;
}

static double hist_pct(struct gb_hist *h, double p)
{
	uint64_t total = 0, want, acc = 0;

	for (unsigned i = 0; i < GB_HIST_N; i++)
		total += atomic_load(&h->b[i]);
	if (!total)
		return 0;
	want = (uint64_t)(p * (double)total);
	if (want < 1)
		want = 1;
	for (unsigned i = 0; i < GB_HIST_N; i++) {
		acc += atomic_load(&h->b[i]);
		if (acc >= want)
			return hist_value(i);
	}
	return hist_value(GB_HIST_N - 1);
}

/* ---- delivery accounting (any thread) ---- */

void gb_delivered(struct gb *b, const void *data, uint32_t len, int64_t now)
{
	struct gb_hdr h;

	if (len < sizeof(h))
		return;
	memcpy(&h, data, sizeof(h));
	if (h.magic != GB_MAGIC || h.run != atomic_load_explicit(&b->run, memory_order_relaxed))
		return;
	atomic_fetch_add_explicit(&b->delivered, 1, memory_order_relaxed);
	if (now >= b->win0_ns && now < b->win1_ns)
		atomic_fetch_add_explicit(&b->delivered_win, 1, memory_order_relaxed);
	if (h.origin != b->index)
		return;
	hist_add(&b->hist, now > h.ts_ns ? (uint64_t)(now - h.ts_ns) / 1000 : 0);
	uint64_t done = atomic_fetch_add_explicit(&b->own_done, 1, memory_order_relaxed) + 1;

	/* A closed-loop worker waits for the window to drain to half: wake it then. */
	if (atomic_load_explicit(&b->waiting, memory_order_relaxed) &&
	    atomic_load_explicit(&b->sent, memory_order_relaxed) - done <= b->window / 2) {
		pthread_mutex_lock(&b->mu);
		pthread_cond_signal(&b->cv);
		pthread_mutex_unlock(&b->mu);
	}
}

/* ---- workers ---- */

/* Closed loop: waits until fewer than window own messages are in flight; false at the end. */
static bool window_wait(struct gb *b)
{
	while (atomic_load(&b->sent) - atomic_load(&b->own_done) >= b->window) {
		struct timespec ts;
		int64_t t = gb_now_ns() + 1000000;

		if (t - 1000000 >= b->t_end_ns)
			return false;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_mutex_lock(&b->mu);
		atomic_store(&b->waiting, 1);
		if (atomic_load(&b->sent) - atomic_load(&b->own_done) >= b->window)
			pthread_cond_timedwait(&b->cv, &b->mu, &ts);
		atomic_store(&b->waiting, 0);
		pthread_mutex_unlock(&b->mu);
	}
	return true;
}

static void *worker_main(void *arg)
{
	struct gb *b = &bench;
	int w = (int)(intptr_t)arg;
	uint8_t *msg = calloc(1, b->size);
	struct gb_hdr h = {.magic = GB_MAGIC, .origin = (uint16_t)b->index};

	(void)pthread_setname_np(pthread_self(), "gb-worker");
	if (!msg)
		return NULL;
	h.run = atomic_load(&b->run);
	memset(msg, 'x', b->size);
	for (;;) {
		uint64_t k;

		if (b->rate > 0) {
			int64_t wake;

			k = atomic_fetch_add(&b->ticket, 1);
			h.ts_ns = b->t0_ns + (int64_t)((double)k * 1e9 / b->rate);
			if (h.ts_ns >= b->t_end_ns)
				break;
			/* --pace-us: wake at the next slot boundary, and send all that is due then */
			wake = b->pace_ns ? b->t0_ns + (h.ts_ns - b->t0_ns + b->pace_ns - 1) /
							   b->pace_ns * b->pace_ns
					  : h.ts_ns;
			if (wake - gb_now_ns() > 20000)
				sleep_until(wake);
		} else {
			if (!b->sys->blocking && !window_wait(b))
				break;
			h.ts_ns = gb_now_ns();
			if (h.ts_ns >= b->t_end_ns)
				break;
			k = atomic_fetch_add(&b->ticket, 1);
		}
		h.k = k;
		memcpy(msg, &h, sizeof(h));
		atomic_fetch_add(&b->sent, 1);
		if (b->sys->send(b, w, msg, b->size) < 0) {
			atomic_fetch_add(&b->send_fail, 1);
			atomic_fetch_sub(&b->sent, 1);
		}
	}
	free(msg);
	return NULL;
}

static long proc_status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;
	size_t n = strlen(key);

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

static void run_reset(struct gb *b)
{
	atomic_store(&b->ticket, 0);
	atomic_store(&b->sent, 0);
	atomic_store(&b->send_fail, 0);
	atomic_store(&b->own_done, 0);
	atomic_store(&b->delivered, 0);
	atomic_store(&b->delivered_win, 0);
	for (unsigned i = 0; i < GB_HIST_N; i++)
		atomic_store(&b->hist.b[i], 0);
	atomic_store(&b->hist.max_us, 0);
}

/* The run's result: one JSON line on stdout. */
static void run_report(struct gb *b, unsigned id, int workers)
{
	double win_s = (double)(b->win1_ns - b->win0_ns) / 1e9;
	char st[256] = "";

	if (b->sys->status)
		b->sys->status(b, st, sizeof(st));
	printf("{\"run\":%u,\"node\":%d,\"system\":\"%s\",\"rate\":%.1f,\"window\":%u,"
	       "\"size\":%u,\"workers\":%d,\"sent\":%" PRIu64 ",\"send_fail\":%" PRIu64
	       ",\"own_done\":%" PRIu64 ",\"delivered\":%" PRIu64 ",\"delivered_per_s\":%.1f,"
	       "\"own_per_s\":%.1f,\"p50_us\":%.1f,\"p99_us\":%.1f,\"p999_us\":%.1f,"
	       "\"max_us\":%" PRIu64 ",\"hwm_kb\":%ld,\"rss_kb\":%ld,\"healthy\":%s,"
	       "\"status\":\"%s\"}\n",
	       id, b->index, b->sys->name, b->rate, b->window, b->size, workers,
	       atomic_load(&b->sent), atomic_load(&b->send_fail), atomic_load(&b->own_done),
	       atomic_load(&b->delivered), (double)atomic_load(&b->delivered_win) / win_s,
	       (double)atomic_load(&b->sent) * 1e9 / (double)(b->t_end_ns - b->t0_ns),
	       hist_pct(&b->hist, 0.50), hist_pct(&b->hist, 0.99), hist_pct(&b->hist, 0.999),
	       atomic_load(&b->hist.max_us), proc_status_kb("VmHWM"), proc_status_kb("VmRSS"),
	       b->sys->healthy(b) ? "true" : "false", st);
	fflush(stdout);
}

static int run_cmd(struct gb *b, const char *line)
{
	unsigned id, window, size;
	double rate;
	long long t0, dur_ms, warm_ms;
	pthread_t th[GB_WORKERS_MAX];
	int nw, started = 0;
	int64_t t_drain;

	if (sscanf(line, "run %u %lf %u %u %lld %lld %lld", &id, &rate, &window, &size, &t0,
		   &dur_ms, &warm_ms) != 7 || size < sizeof(struct gb_hdr) || size > GB_SIZE_MAX ||
	    !window || dur_ms <= warm_ms || id > UINT16_MAX)
		return -EINVAL;
	run_reset(b);
	b->rate = rate;
	b->window = window;
	b->size = size;
	b->t0_ns = t0;
	b->t_end_ns = t0 + dur_ms * 1000000;
	b->win0_ns = t0 + warm_ms * 1000000;
	b->win1_ns = b->t_end_ns;
	atomic_store(&b->run, (uint16_t)id);

	/*
	 * A blocking system needs a thread per message in flight: --workers for paced runs,
	 * WINDOW for closed-loop ones. A queueing system needs one thread.
	 */
	nw = 1;
	if (b->sys->blocking && rate > 0)
		nw = b->workers;
	else if (b->sys->blocking)
		nw = window < GB_WORKERS_MAX ? (int)window : GB_WORKERS_MAX;
	sleep_until(t0 - 2000000);
	for (int i = 0; i < nw; i++)
		if (!pthread_create(&th[started], NULL, worker_main, (void *)(intptr_t)i))
			started++;
	for (int i = 0; i < started; i++)
		pthread_join(th[i], NULL);

	t_drain = gb_now_ns() + (int64_t)DRAIN_MS * 1000000;
	while (atomic_load(&b->own_done) < atomic_load(&b->sent) && gb_now_ns() < t_drain)
		sleep_until(gb_now_ns() + 1000000);
	run_report(b, id, started);
	/* Late deliveries of this run must not count in the next one. */
	atomic_store(&b->run, 0);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: group_bench --system paceless|galera --index I [--nodes 3]\n"
			"       [--port-base P] [--cache-mb 128] [--submit-mb 16] [--pace-us 0]\n"
			"       [--workdir DIR]\n"
			"       [--galera-lib PATH] [--galera-opts S] [--keys 0|1]\n"
			"       [--appliers N] [--workers N] [--tls-dir DIR]\n"
			"Commands on stdin: run ID RATE WINDOW SIZE T0_NS DUR_MS WARM_MS | quit\n");
}

static int parse_args(struct gb *b, int argc, char **argv)
{
	static const struct option opts[] = {
		{"system", required_argument, NULL, 's'},
		{"index", required_argument, NULL, 'i'},
		{"nodes", required_argument, NULL, 'n'},
		{"port-base", required_argument, NULL, 'p'},
		{"cache-mb", required_argument, NULL, 'c'},
		{"submit-mb", required_argument, NULL, 'S'},
		{"pace-us", required_argument, NULL, 'P'},
		{"workdir", required_argument, NULL, 'd'},
		{"galera-lib", required_argument, NULL, 'l'},
		{"galera-opts", required_argument, NULL, 'o'},
		{"keys", required_argument, NULL, 'k'},
		{"appliers", required_argument, NULL, 'a'},
		{"workers", required_argument, NULL, 'w'},
		{"tls-dir", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	b->nodes = 3;
	b->port_base = 24500;
	b->cache_bytes = (uint64_t)128 << 20;
	b->workdir = "/dev/shm";
	b->galera_lib = "/usr/lib/galera/libgalera_smm.so";
	b->galera_opts = "";
	b->keys = 1;
	b->appliers = 1;
	b->workers = 64;
	b->index = -1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (!strcmp(optarg, "paceless"))
				b->sys = &gb_sys_paceless;
			else if (!strcmp(optarg, "galera"))
				b->sys = &gb_sys_wsrep;
			else
				return -EINVAL;
			break;
		case 'i': b->index = atoi(optarg); break;
		case 'n': b->nodes = atoi(optarg); break;
		case 'p': b->port_base = atoi(optarg); break;
		case 'c': b->cache_bytes = strtoull(optarg, NULL, 10) << 20; break;
		case 'S': b->submit_bytes = strtoull(optarg, NULL, 10) << 20; break;
		case 'P': b->pace_ns = strtoll(optarg, NULL, 10) * 1000; break;
		case 'd': b->workdir = optarg; break;
		case 'l': b->galera_lib = optarg; break;
		case 'o': b->galera_opts = optarg; break;
		case 'k': b->keys = atoi(optarg); break;
		case 'a': b->appliers = atoi(optarg); break;
		case 'w': b->workers = atoi(optarg); break;
		case 't': b->tls_dir = optarg; break;
		default: return -EINVAL;
		}
	}
	if (!b->sys || b->index < 0 || b->index >= b->nodes || b->nodes < 1 || b->nodes > 16 ||
	    b->port_base < 1024 || b->port_base > 65000 - 10 * b->nodes || b->workers < 1 ||
	    b->workers > GB_WORKERS_MAX || b->appliers < 1 || b->appliers > 64 || b->keys < 0 ||
	    b->keys > 1)
		return -EINVAL;
	return 0;
}

int main(int argc, char **argv)
{
	struct gb *b = &bench;
	char line[512], st[256] = "";
	int rc;

	if (parse_args(b, argc, argv) < 0) {
		usage();
		return 2;
	}
	/* Paced senders sleep in tens of microseconds: the default 50 us slack would skew them. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	/* A peer that closes a connection mid-write must not kill the node (libuv writes with
	 * write(2), so SIGPIPE is the process's business). */
	signal(SIGPIPE, SIG_IGN);
	pthread_mutex_init(&b->mu, NULL);
	pthread_cond_init(&b->cv, NULL);
	rc = b->sys->start(b);
	if (rc < 0) {
		gb_log("%s: start failed: %s", b->sys->name, strerror(-rc));
		return 1;
	}
	printf("up\n");
	fflush(stdout);
	rc = b->sys->wait_full(b);
	if (rc < 0) {
		gb_log("%s: no view of %d members: %s", b->sys->name, b->nodes, strerror(-rc));
		return 1;
	}
	if (b->sys->status)
		b->sys->status(b, st, sizeof(st));
	printf("ready %s\n", st);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "run ", 4)) {
			if (run_cmd(b, line) < 0) {
				printf("{\"error\":\"bad run command\"}\n");
				fflush(stdout);
			}
		} else if (!strncmp(line, "quit", 4)) {
			break;
		}
	}
	b->sys->stop(b);
	return 0;
}
