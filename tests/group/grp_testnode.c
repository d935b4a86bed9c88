/* SPDX-License-Identifier: MPL-2.0 */
/* grp_testnode: one group member in its own process, recording what it delivers (system tests). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core_log.h"
#include "grp_node.h"

/*
 * Output file, one line per event, flushed per line; every line starts with CLOCK_MONOTONIC
 * in ms (the clock Python's time.monotonic() reads) and a letter:
 *
 *   <ms> V <view id> <P|N> <my index> <name,name,...>   a view (primary or not)
 *   <ms> D <seq> <origin name> <payload>                a delivered message
 *   <ms> X <donor name>                                 a state transfer was asked for
 *   <ms> T <seq> <donor name>                           ... and done (--xfer-dir): the service
 *                                                       jumped to the donor's seq
 *   <ms> L <1|0> <term>                                 this node became / stopped being leader
 *   <ms> C links_up=N hello_refused=N tls_refused=N frames_bad=N links_overflow=N held_back=N
 *          survivor_restarts=N                          transport counters, the leader's
 *                                                       back-pressure count and the restarts
 *                                                       to join the others' restart from their
 *                                                       state files, when one changed
 *   <ms> E <text>                                       start-up or exit events
 *   <ms> B <bytes>                                      with --members: the memory bound of
 *                                                       grp_node_memory_bound() for them
 *
 * A payload is "<node name>:<counter>", counters from 1; with --size N it is padded to N bytes
 * with '|' and filler, and only the part before the '|' is recorded. With --members N,
 * submitting starts once a primary view has N members. With --state FILE, the service's
 * position ("<seq> <index> <term> <check>" of the last entry delivered, fixed width) is kept in
 * FILE (rewritten in place before each delivery is recorded) and read back at start as
 * cfg.seq, .index and .term, so a restarted process rejoins by incremental transfer.
 * --state-file FILE is the group's state file (grp_node_config.state_file): with it a process
 * killed and started again keeps its uuid and restores the group with the others.
 * --xfer-dir DIR: every node's --state is DIR/<name>.state, and a state transfer copies the
 * donor's position from there (the test's service has no state but its position). SIGUSR1:
 * grp_node_force_bootstrap().
 */

#define PEERS_MAX 16
#define PAYLOAD_SIZE_MAX (1u << 20) /* --size */
#define LEAVE_WAIT_MS 5000

struct tn {
	FILE *out;
	const char *state_path;
	int state_fd; /* state_path, open for save_state; -1: none */
	const char *xfer_dir;
	struct grp_node *node; /* set before the loop can ask for a transfer */
	pthread_mutex_t mu; /* out and names: the loop thread and main both write */
	struct grp_config names; /* every member seen in a view, for origin names */
	uint64_t delivered;
	uint32_t view_n; /* members of the last view, 0 when it is not primary */
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void emit(struct tn *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void emit(struct tn *t, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&t->mu);
	fprintf(t->out, "%" PRIu64 " ", mono_ms());
	va_start(ap, fmt);
	vfprintf(t->out, fmt, ap);
	va_end(ap);
	fputc('\n', t->out);
	fflush(t->out);
	pthread_mutex_unlock(&t->mu);
}

static const char *name_of(struct tn *t, const struct grp_uuid *u)
{
	int i = grp_config_find(&t->names, u);

	return i >= 0 ? t->names.m[i].name : "?";
}

/*
 * The position is one fixed-width record, "<seq> <index> <term> <check>\n", rewritten in place
 * with one pwrite(2) per delivery on a descriptor kept open: what a SIGKILL leaves is the last
 * whole write (the kernel finishes a write it started). Rewriting the file through a temporary
 * and rename(2) cost an open, a truncate and a rename per delivery, which on ext4 start
 * writeback and block (D state) when the disk is busy: at 300 deliveries a second that was
 * most of what a node did, and under ASan on a loaded machine more than it could. check lets
 * a reader that races the writer (a state transfer reads the donor's file) see a torn record
 * and read again.
 */
#define STATE_CHECK UINT64_C(0x5ca1ab1e5eed)

static int state_format(char *buf, size_t size, uint64_t seq, uint64_t index, uint64_t term)
{
	return snprintf(buf, size, "%20" PRIu64 " %20" PRIu64 " %20" PRIu64 " %20" PRIu64 "\n",
			seq, index, term, seq ^ index ^ term ^ STATE_CHECK);
}

/* 0 and the position in path; -ENOENT when there is none (no file, or nothing written yet);
 * -EIO when it stays torn. */
static int state_read(const char *path, uint64_t *seq, uint64_t *index, uint64_t *term)
{
	for (int tries = 0; tries < 100; tries++) {
		unsigned long long s, i, tm, c;
		char rec[128];
		FILE *f = fopen(path, "r");
		size_t len;

		if (!f)
			return -ENOENT;
		len = fread(rec, 1, sizeof(rec) - 1, f);
		fclose(f);
		if (!len)
			return -ENOENT;
		rec[len] = '\0';
		if (sscanf(rec, "%llu %llu %llu %llu", &s, &i, &tm, &c) == 4 &&
		    (c ^ s ^ i ^ tm) == STATE_CHECK) {
			*seq = s;
			*index = i;
			*term = tm;
			return 0;
		}
		usleep(1000);
	}
	return -EIO;
}

static void save_state(struct tn *t, uint64_t seq, uint64_t index, uint64_t term)
{
	char rec[128];
	int len;

	if (t->state_fd < 0)
		return;
	len = state_format(rec, sizeof(rec), seq, index, term);
	if (pwrite(t->state_fd, rec, (size_t)len, 0) != len)
		emit(t, "E state write: %s", strerror(errno));
}

static void on_deliver(void *ctx, const struct grp_entry *e)
{
	struct tn *t = ctx;
	const uint8_t *bar;

	/* Durable before it is seen: a D line is never followed, after a kill, by the same seq. */
	save_state(t, e->seq, e->index, e->term);
	if (e->type != GRP_ENTRY_DATA)
		return;
	t->delivered++;
	bar = memchr(e->data, '|', e->len);
	emit(t, "D %" PRIu64 " %s %.*s", e->seq, name_of(t, &e->origin),
	     bar ? (int)(bar - e->data) : (int)e->len, (const char *)e->data);
}

static void on_view(void *ctx, uint64_t id, const struct grp_config *cfg, int my_index,
		    bool primary)
{
	struct tn *t = ctx;
	char line[GRP_MEMBERS_MAX * GRP_NAME_MAX + 1] = "";
	size_t off = 0;

	for (uint32_t i = 0; i < cfg->n; i++) {
		if (grp_config_find(&t->names, &cfg->m[i].uuid) < 0 && t->names.n < GRP_MEMBERS_MAX)
			t->names.m[t->names.n++] = cfg->m[i];
		else if (grp_config_find(&t->names, &cfg->m[i].uuid) < 0)
			t->names.m[GRP_MEMBERS_MAX - 1] = cfg->m[i]; /* a long-lived test: rare */
		off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s", i ? "," : "",
					cfg->m[i].name);
	}
	t->view_n = primary ? cfg->n : 0;
	emit(t, "V %" PRIu64 " %c %d %s", id, primary ? 'P' : 'N', my_index,
	     cfg->n ? line : "-");
}

/* --xfer-dir: the transfer copies the donor's position (its --state file). */
static void on_xfer(void *ctx, const struct grp_member *donor)
{
	struct tn *t = ctx;
	uint64_t seq, index, term;
	struct grp_node *node;
	char path[4096];

	emit(t, "X %s", donor->name);
	if (!t->xfer_dir)
		return;
	snprintf(path, sizeof(path), "%s/%s.state", t->xfer_dir, donor->name);
	if (state_read(path, &seq, &index, &term)) {
		emit(t, "E no state at %s", path);
		return;
	}
	pthread_mutex_lock(&t->mu);
	node = t->node;
	pthread_mutex_unlock(&t->mu);
	if (!node)
		return; /* asked again later (grp_proto_tick) */
	save_state(t, seq, index, term);
	emit(t, "T %" PRIu64 " %s", seq, donor->name);
	grp_node_xfer_done(node, index, term, seq);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: grp_testnode --cluster C --name N --listen H:P --out FILE [--peers H:P,...]\n"
		"  [--weight W] [--bootstrap] [--seq S] [--state FILE] [--rate MSG_PER_S]\n"
		"  [--count N] [--size BYTES] [--members N] [--heartbeat-ms MS] [--election-ms MS]\n"
		"  [--suspect-ms MS] [--cache-mb MIB] [--submit-mb MIB]\n"
		"  [--tls-cert PEM --tls-key PEM [--tls-ca PEM]]\n"
		"  [--state-file FILE] [--xfer-dir DIR] [--counter-from N]\n");
}

struct args {
	struct grp_node_config cfg;
	const char *peers[PEERS_MAX];
	char *peers_buf;
	const char *out;
	double rate;
	uint64_t count;
	uint64_t counter_from; /* the first payload counter (a restarted process goes on) */
	uint32_t size;    /* payload bytes; 0: just the name and counter */
	uint32_t members; /* submit once a primary view has this many members */
};

static int parse(struct args *a, int argc, char **argv, struct tn *t)
{
	static const struct option opts[] = {
		{"cluster", required_argument, NULL, 'C'}, {"name", required_argument, NULL, 'n'},
		{"listen", required_argument, NULL, 'l'},  {"peers", required_argument, NULL, 'p'},
		{"weight", required_argument, NULL, 'w'},  {"bootstrap", no_argument, NULL, 'b'},
		{"seq", required_argument, NULL, 's'},     {"state", required_argument, NULL, 'S'},
		{"rate", required_argument, NULL, 'r'},    {"count", required_argument, NULL, 'c'},
		{"out", required_argument, NULL, 'o'},     {"heartbeat-ms", required_argument, NULL, 'H'},
		{"election-ms", required_argument, NULL, 'E'},
		{"suspect-ms", required_argument, NULL, 'U'},
		{"tls-cert", required_argument, NULL, 'T'}, {"tls-key", required_argument, NULL, 'K'},
		{"tls-ca", required_argument, NULL, 'A'},
		{"state-file", required_argument, NULL, 'G'},
		{"xfer-dir", required_argument, NULL, 'D'},
		{"counter-from", required_argument, NULL, 'F'}, {"size", required_argument, NULL, 'z'},
		{"members", required_argument, NULL, 'm'}, {"cache-mb", required_argument, NULL, 'M'},
		{"submit-mb", required_argument, NULL, 'B'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'C': a->cfg.cluster = optarg; break;
		case 'n': a->cfg.name = optarg; break;
		case 'l': a->cfg.listen = optarg; break;
		case 'p': a->peers_buf = optarg; break;
		case 'w': a->cfg.weight = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'b': a->cfg.bootstrap = true; break;
		case 's': a->cfg.seq = strtoull(optarg, NULL, 10); break;
		case 'S': t->state_path = optarg; break;
		case 'r': a->rate = strtod(optarg, NULL); break;
		case 'c': a->count = strtoull(optarg, NULL, 10); break;
		case 'o': a->out = optarg; break;
		case 'H': a->cfg.params.heartbeat_ms = (uint32_t)atoi(optarg); break;
		case 'E': a->cfg.params.election_ms = (uint32_t)atoi(optarg); break;
		case 'U': a->cfg.params.suspect_ms = (uint32_t)atoi(optarg); break;
		case 'T': a->cfg.tls.cert = optarg; break;
		case 'K': a->cfg.tls.key = optarg; break;
		case 'A': a->cfg.tls.ca = optarg; break;
		case 'G': a->cfg.state_file = optarg; break;
		case 'D': t->xfer_dir = optarg; break;
		case 'F': a->counter_from = strtoull(optarg, NULL, 10); break;
		case 'z': a->size = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'm': a->members = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'M': a->cfg.params.cache_bytes = strtoull(optarg, NULL, 10) << 20; break;
		case 'B': a->cfg.params.submit_bytes = strtoull(optarg, NULL, 10) << 20; break;
		default: return -EINVAL;
		}
	}
	if (!a->cfg.cluster || !a->cfg.name || !a->cfg.listen || !a->out || optind != argc ||
	    a->size > PAYLOAD_SIZE_MAX)
		return -EINVAL;
	for (char *save = NULL, *tok = a->peers_buf ? strtok_r(a->peers_buf, ",", &save) : NULL;
	     tok && a->cfg.n_peers < PEERS_MAX; tok = strtok_r(NULL, ",", &save))
		a->peers[a->cfg.n_peers++] = tok;
	a->cfg.peers = a->peers;
	return 0;
}

/* --state FILE overrides --seq when the file exists: the position this node reached before. */
static int load_state(struct tn *t, struct args *a)
{
	uint64_t seq, index, term;
	int rc;

	if (!t->state_path)
		return 0;
	rc = state_read(t->state_path, &seq, &index, &term);
	if (rc == 0) {
		a->cfg.seq = seq;
		a->cfg.index = index;
		a->cfg.term = term;
	}
	if (rc == -EIO)
		return rc;
	t->state_fd = open(t->state_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	return t->state_fd < 0 ? -errno : 0;
}

static void leave(struct tn *t, struct grp_node *n)
{
	struct grp_status st;
	uint64_t deadline = mono_ms() + LEAVE_WAIT_MS;

	(void)grp_node_status(n, &st);
	if (!st.member || !st.primary)
		return;
	grp_node_leave(n);
	while (mono_ms() < deadline) {
		usleep(10000);
		(void)grp_node_status(n, &st);
		if (!st.member) {
			emit(t, "E left");
			return;
		}
	}
	emit(t, "E leave timed out");
}

/* A C line when a counter a test checks moved since the last one. */
static void counters_emit(struct tn *t, struct grp_node *n, struct grp_node_counters *last,
			  uint64_t *last_held, const struct grp_status *st)
{
	struct grp_node_counters c;

	(void)grp_node_counters(n, &c);
	if (c.links_up == last->links_up && c.hello_refused == last->hello_refused &&
	    c.tls_refused == last->tls_refused && c.frames_bad == last->frames_bad &&
	    c.links_overflow == last->links_overflow && st->held_back == *last_held &&
	    c.survivor_restarts == last->survivor_restarts)
		return;
	*last = c;
	*last_held = st->held_back;
	emit(t, "C links_up=%" PRIu64 " hello_refused=%" PRIu64 " tls_refused=%" PRIu64
		" frames_bad=%" PRIu64 " links_overflow=%" PRIu64 " held_back=%" PRIu64
		" survivor_restarts=%" PRIu64,
	     c.links_up, c.hello_refused, c.tls_refused, c.frames_bad, c.links_overflow,
	     st->held_back, c.survivor_restarts);
}

/* The next payload: "<name>:<counter>", padded to size with '|' and filler. */
static uint32_t payload(const struct args *a, uint64_t counter, char *buf)
{
	int len = snprintf(buf, GRP_NAME_MAX + 24, "%s:%" PRIu64, a->cfg.name, counter);

	if (a->size <= (uint32_t)len)
		return (uint32_t)len;
	memset(buf + len, '.', a->size - (uint32_t)len);
	buf[len] = '|';
	return a->size;
}

/* Submits count messages at rate per second (0: as fast as the queue takes them). */
static void run(struct tn *t, struct args *a, struct grp_node *n, const sigset_t *sigs)
{
	uint64_t sent = 0, start = 0;
	struct timespec idle = {.tv_sec = 0, .tv_nsec = 5 * 1000000L};
	bool leader = false;
	struct grp_node_counters last = {0};
	uint64_t last_held = 0;
	char *buf = malloc(GRP_NAME_MAX + 24 + a->size);

	if (!buf)
		return;
	for (;;) {
		struct grp_status st;
		int sig = sigtimedwait(sigs, NULL, &idle);

		if (sig == SIGUSR1) {
			emit(t, "E force-bootstrap");
			grp_node_force_bootstrap(n);
		}
		if (sig == SIGTERM || sig == SIGINT) {
			emit(t, "E signal %d, delivered %" PRIu64, sig, t->delivered);
			leave(t, n);
			free(buf);
			return;
		}
		(void)grp_node_status(n, &st);
		counters_emit(t, n, &last, &last_held, &st);
		if (st.is_leader != leader) {
			leader = st.is_leader;
			emit(t, "L %d %" PRIu64, leader, st.term);
		}
		if (sent >= a->count)
			continue;
		if (!st.member)
			continue; /* submit once in the group: the queue would only hold them */
		if (!start && t->view_n < a->members)
			continue; /* --members: everyone starts together */
		if (!start)
			start = mono_ms();
		while (sent < a->count &&
		       (a->rate <= 0 || (double)sent < (double)(mono_ms() - start) * a->rate / 1000)) {
			uint64_t counter = a->counter_from + sent + (a->counter_from ? 0 : 1);

			if (grp_node_submit(n, buf, payload(a, counter, buf)) != 0)
				break; /* full: later */
			if (++sent == a->count)
				emit(t, "E submitted %" PRIu64, sent);
		}
	}
}

int main(int argc, char **argv)
{
	struct tn t = {.mu = PTHREAD_MUTEX_INITIALIZER, .state_fd = -1};
	struct args a = {0};
	struct grp_node *n;
	sigset_t sigs;
	int rc;

	grp_params_default(&a.cfg.params);
	a.cfg.weight = 1;
	if (parse(&a, argc, argv, &t)) {
		usage();
		return 2;
	}
	rc = load_state(&t, &a);
	if (rc) {
		fprintf(stderr, "grp_testnode: %s: %s\n", t.state_path, strerror(-rc));
		return 1;
	}
	t.out = fopen(a.out, "a");
	if (!t.out) {
		perror(a.out);
		return 1;
	}
	a.cfg.deliver = on_deliver;
	a.cfg.view = on_view;
	a.cfg.xfer_needed = on_xfer;
	a.cfg.ctx = &t;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	core_log_open("grp_testnode", true, -1);
	if (getenv("GRP_TESTNODE_DEBUG"))
		core_log_level_max = CORE_LOG_DEBUG;
	rc = grp_node_start(&a.cfg, &n);
	if (rc) {
		emit(&t, "E start failed: %s", core_strerror(rc));
		return 1;
	}
	pthread_mutex_lock(&t.mu);
	t.node = n;
	pthread_mutex_unlock(&t.mu);
	{
		struct grp_member self;
		char hex[33];

		grp_node_self(n, &self);
		for (int i = 0; i < 16; i++)
			snprintf(hex + 2 * i, 3, "%02x", self.uuid.b[i]);
		emit(&t, "E started %s seq %" PRIu64 " uuid %s", a.cfg.name, a.cfg.seq, hex);
	}
	if (a.members) /* a payload is at most --size, or a name and a counter */
		emit(&t, "B %" PRIu64, grp_node_memory_bound(&a.cfg.params, a.members,
							     a.size ? a.size : GRP_NAME_MAX + 24));
	run(&t, &a, n, &sigs);
	grp_node_stop(n);
	emit(&t, "E stopped");
	fclose(t.out);
	return 0;
}
