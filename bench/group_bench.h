/* SPDX-License-Identifier: MPL-2.0 */
/* group_bench: one group member per process; what the workload and the two systems share. */
#ifndef GROUP_BENCH_H
#define GROUP_BENCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/*
 * Every message starts with this header (little-endian, the machine's order: all nodes run
 * on one host). ts_ns is CLOCK_MONOTONIC, which every process of one machine shares, so any
 * node can compute submit-to-delivery latency; in paced runs it is the message's scheduled
 * time (so a generator that falls behind shows as latency, not as a lower rate).
 */
struct gb_hdr {
	uint32_t magic;
	uint16_t origin; /* node index */
	uint16_t run;    /* run id from the driver; other runs' late messages are not counted */
	int64_t ts_ns;
	uint64_t k; /* the origin's message counter in this run */
};
#define GB_MAGIC 0x67626e31u
#define GB_SIZE_MAX (1u << 20)
#define GB_WORKERS_MAX 512

/* Latency histogram, log-linear: exact below 64 us, then 32 sub-buckets per power of two
 * (about 3% resolution). Updated with relaxed atomics from any thread. */
#define GB_HIST_SUB 32
#define GB_HIST_N (64 + 40 * GB_HIST_SUB)
struct gb_hist {
	_Atomic uint64_t b[GB_HIST_N];
	_Atomic uint64_t max_us;
};

struct gb;

/* One system under test. Every callback returns 0 or a negative errno. */
struct gb_sys {
	const char *name;
	/* Start this node; the first one (index 0) returns once it is a primary group of one. */
	int (*start)(struct gb *b);
	/* Returns once this node is in a primary view of b->nodes members. */
	int (*wait_full)(struct gb *b);
	/*
	 * Hand one message to the system, from worker thread w. Non-blocking systems
	 * (paceless) return once it is queued and report its delivery via gb_delivered();
	 * blocking ones (wsrep) return after it is ordered and report it themselves.
	 */
	int (*send)(struct gb *b, int w, const uint8_t *msg, uint32_t len);
	/* Still in a primary view of b->nodes members? */
	bool (*healthy)(struct gb *b);
	/* Short status line for the driver's log (may be NULL). */
	void (*status)(struct gb *b, char *out, size_t cap);
	void (*stop)(struct gb *b);
	bool blocking; /* send waits for ordering: one message in flight per worker */
};

struct gb {
	/* configuration (command line) */
	int index, nodes, port_base;
	uint64_t cache_bytes;
	uint64_t submit_bytes; /* paceless params.submit_bytes; 0: the default */
	int64_t pace_ns;       /* paced runs wake at multiples of this after t0; 0: per message */
	const char *workdir;      /* wsrep: data dir parent */
	const char *galera_lib;   /* wsrep: provider path */
	const char *galera_opts;  /* wsrep: extra provider options */
	int keys;                 /* wsrep: certification keys per write-set (0 or 1) */
	int appliers;             /* wsrep: recv threads */
	int workers;              /* wsrep: client threads (the window of a blocking system) */
	const char *tls_dir;      /* TLS with DIR/ca.pem, DIR/n<index>.pem and .key; NULL: none */
	const struct gb_sys *sys;
	void *sys_ctx;

	/* the current run, set by the driver's "run" command */
	_Atomic uint16_t run;
	int64_t t0_ns, t_end_ns;       /* submissions happen in [t0, t_end) */
	int64_t win0_ns, win1_ns;      /* deliveries counted for the rate in [win0, win1) */
	double rate;                   /* own messages per second; 0: closed loop (flood) */
	uint32_t window;               /* closed loop: own messages in flight */
	uint32_t size;
	_Atomic uint64_t ticket;       /* next message counter */
	_Atomic uint64_t sent, send_fail, own_done, delivered, delivered_win;
	struct gb_hist hist;

	/* closed-loop window: workers wait here while sent - own_done >= window */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	_Atomic int waiting;
};

int64_t gb_now_ns(void);

/*
 * A message was delivered at this node (any origin), in the group's order. Thread-safe.
 * Own messages of the current run add their latency; every message of the current run
 * counts towards the delivered rate.
 */
void gb_delivered(struct gb *b, const void *data, uint32_t len, int64_t now_ns);

void gb_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

extern const struct gb_sys gb_sys_paceless;
extern const struct gb_sys gb_sys_wsrep;

#endif
