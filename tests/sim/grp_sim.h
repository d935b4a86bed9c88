/* SPDX-License-Identifier: MPL-2.0 */
/* paceless-group-sim internals shared by the driver (grp_sim.c) and its checkers. */
#ifndef GRP_SIM_H
#define GRP_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "grp_proto.h"

/*
 * Limits of one seed's run. Reaching one of the "drop" limits is counted; reaching a "stop"
 * limit ends the seed with an error naming it, because the run could no longer be checked.
 */
#define SIM_NODES_MAX 9
#define SIM_EVENTS_MAX (1u << 16)   /* pending events of every kind (stop) */
#define SIM_INFLIGHT_MAX (1u << 13) /* messages in flight (drop) */
#define SIM_INCS_MAX 4096           /* incarnations per seed (no more restarts beyond) */
#define SIM_LOG_MAX (1u << 22)      /* log indexes and seqs recorded per seed (stop) */
#define SIM_SUBS_MAX (1u << 20)     /* origin_ids recorded per incarnation (stop) */
#define SIM_TERMS_MAX (1u << 16)    /* terms whose leader is recorded (no check beyond) */
#define SIM_PAYLOAD_MAX 200         /* workload message size */

/* One submission (or state change) accepted from an incarnation, by origin_id. */
struct sim_sub {
	uint64_t hash;      /* of the payload (STATE: of the state byte) */
	uint64_t delivered; /* index it was delivered at; 0: not yet */
	uint8_t type;       /* GRP_ENTRY_DATA or GRP_ENTRY_STATE; 0: never accepted */
};

/*
 * One process lifetime of a slot. A process restarted from its state file keeps its uuid:
 * its origin_ids start above id_base (gen << 32), and prev links to the earlier process.
 */
struct sim_inc {
	struct grp_uuid uuid;
	int slot;
	uint32_t prev;    /* 1 + index of the earlier process with this uuid; 0: none */
	uint64_t id_base; /* origin_ids of this process are id_base + 1, ... */
	bool alive;   /* not destroyed */
	bool excused; /* crashed or left: undelivered submissions may be lost */
	struct sim_sub *subs; /* [origin_id - id_base] */
	uint64_t subs_cap;
	uint64_t last_id; /* highest origin_id returned */
	uint64_t abandoned_upto; /* ids up to this one may be lost (given up at a transfer) */
	/* a submission inside grp_proto_submit(), which may deliver it before returning */
	bool submitting;
	uint8_t sub_type;
	uint64_t sub_hash;
	uint64_t early_id, early_index;
};

/* The durable part of a slot: what its service applied (survives crashes). */
struct sim_svc {
	uint64_t seq;
	uint64_t hash; /* chain over DATA payloads up to seq */
	uint64_t index, term; /* last entry delivered; index 0: none */
};

struct sim;

struct sim_node {
	struct sim *sim;
	int slot;
	struct grp_proto *p; /* NULL: down */
	uint32_t inc;        /* registry index of the incarnation; valid when p */
	struct grp_member self;
	struct sim_svc svc;
	/* The state file (grp_durable), written synchronously by persist: it survives crashes. */
	struct grp_durable dur;
	bool has_dur;
	bool restore_next; /* the next start reads the state file (else: a new node) */
	uint64_t clock_off_ms; /* this machine's clock runs ahead of the sim's by this */
	bool arb;              /* an arbitrator (GRP_MEMBER_ARBITRATOR): no service, no submits */
	bool frozen;
	uint64_t frozen_until;
	bool leaving;
	bool restart_queued;
	uint32_t backlog;
	/* this incarnation's deliveries */
	bool delivered_any;
	uint64_t last_index, last_seq;
	bool after_xfer;
	uint64_t xfer_index;
	bool xfer_pending;
	struct grp_uuid xfer_donor;
	uint32_t xfer_tries;
	/* views */
	bool has_view, primary, had_primary;
	uint64_t view_id, max_primary_id;
	bool expect_view; /* a CONFIG was delivered; its view callback is due */
	uint64_t expect_view_index;
	uint64_t submit_n;
};

/* What a seed's network and fault schedule look like. */
struct sim_profile {
	const char *name;
	uint32_t loss_ppm, dup_ppm, slow_ppm;
	uint32_t delay_max_ms;
	uint32_t fault_every_ms; /* mean gap between faults; 0: none */
	uint32_t hint_ppm;       /* a cut link or crash is hinted with this probability */
	uint32_t tick_min_ms, tick_max_ms;
	uint32_t submit_every_ms;
	uint64_t cache_bytes;
	uint32_t submit_max;
	bool weights; /* members weigh 1..3 instead of 1 */
};

/* A global record of log position index, filled by the first node that delivers it. */
struct sim_irec {
	bool set;
	uint8_t type;
	uint64_t term, seq;
	struct grp_uuid origin;
	uint64_t origin_id;
	uint64_t hash;      /* payload (CONFIG: configuration) */
	uint64_t view_hash; /* a primary view with this id: its configuration; 0 none yet */
};

struct sim_srec {
	uint64_t index; /* 0: unknown */
	uint64_t chain;
};

struct sim_stats {
	uint64_t steps, deliveries, views, elections, sends, lost, dup, dropped_full, dead;
	uint64_t efull, estate, xfers, xfer_rejected, xfer_failed, crashes, leaves, restarts;
	uint64_t partitions, freezes, jumps, self_sends;
	uint64_t crash_all, restores, persists;
	uint64_t survivor_restarts; /* grp_proto_restart_due() (counted in restores too) */
	uint64_t busy; /* grp_ops.queued answers that a link to a slow node is busy */
};

struct sim {
	uint64_t seed;
	uint64_t rng[4];
	uint64_t rng_restore; /* splitmix64: restore or not, apart from rng so that a seed's path
			       * is the one without state files until a restore happens */
	uint64_t now;
	int n;
	struct sim_profile prof;
	struct sim_node node[SIM_NODES_MAX];
	bool reach[SIM_NODES_MAX][SIM_NODES_MAX]; /* [from][to] */
	uint64_t link_last_ms[SIM_NODES_MAX][SIM_NODES_MAX]; /* --fifo: last arrival on a link */
	struct sim_inc incs[SIM_INCS_MAX];
	uint32_t n_incs;
	uint32_t inc_tab[2 * SIM_INCS_MAX]; /* uuid -> 1 + index into incs; open addressing */
	struct sim_irec *irec; /* [index], grown on demand */
	uint64_t irec_cap;
	struct sim_srec *srec; /* [seq] */
	uint64_t srec_cap;
	struct grp_uuid *term_leader; /* [term] */
	bool calm;
	bool verbose;
	uint64_t digest;
	uint64_t data_index_max; /* highest index a data node ever delivered */
	struct sim_stats st;
	struct grp_params params;
};

/* Driver services the checkers use. */
uint64_t sim_hash(uint64_t h, const void *data, size_t len);
uint64_t sim_mix(uint64_t h, uint64_t v);
uint64_t sim_node_now(const struct sim_node *nd);
struct sim_inc *sim_inc_find(struct sim *s, const struct grp_uuid *u);
/* The process of uuid u that submitted origin_id id (NULL: none). */
struct sim_inc *sim_inc_find_id(struct sim *s, const struct grp_uuid *u, uint64_t id);
void sim_forget_after(struct sim *s, uint64_t index);
void sim_inc_add(struct sim *s, uint32_t idx);
void sim_fail(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
void sim_log(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sim_xfer_start(struct sim_node *nd, const struct grp_member *donor);

/* Checkers (grp_sim_check.c). */
void sim_check_reset(struct sim *s);
void sim_check_free(struct sim *s);
void sim_on_deliver(struct sim_node *nd, const struct grp_entry *e);
void sim_on_view(struct sim_node *nd, uint64_t id, const struct grp_config *cfg, int my_index,
		 bool primary);
void sim_on_member(struct sim_node *nd, const struct grp_member *m, const char *what);
void sim_check_step(struct sim *s);
uint64_t sim_cfg_hash(const struct grp_config *c);
/* True when the group has converged; otherwise why says what still differs. */
bool sim_converged(struct sim *s, char *why, size_t why_len);
/* Every node's status, to stderr, for a failure report. */
void sim_dump(struct sim *s);
void sim_sub_record(struct sim *s, struct sim_inc *inc, int64_t id);

#endif
