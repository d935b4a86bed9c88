/* SPDX-License-Identifier: MPL-2.0 */
/* paceless-arbitrator: a member of a group that only votes (the drop-in for Galera's garbd). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "arb_opts.h"
#include "core_log.h"
#include "grp_node.h"

#define LEAVE_WAIT_MS 5000 /* a graceful leave is one configuration change: well under this */
#define POLL_MS 20

static const char *prog = "paceless-arbitrator";

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: %s [options] [group address]\n"
		"Joins a paceless group as a member that votes but holds no service state\n"
		"(Galera's garbd). Options, as garbd's:\n"
		"  -a, --address gcomm://HOST[:PORT][,HOST[:PORT]...]  nodes of the group\n"
		"  -g, --group NAME      group (cluster) name\n"
		"  -o, --options \"K=V; K=V\"  gmcast.listen_addr=tcp://HOST:PORT (default\n"
		"                        tcp://0.0.0.0:4567; ssl:// for TLS), pc.weight=N\n"
		"                        (default 1),\n"
		"                        evs.keepalive_period, evs.suspect_timeout,\n"
		"                        evs.inactive_timeout (ISO 8601 durations: PT1S, PT0.5S),\n"
		"                        TLS: socket.ssl_cert=PEM, socket.ssl_key=PEM,\n"
		"                        socket.ssl_ca=PEM (default: the certificate),\n"
		"                        socket.ssl_cipher=LIST, socket.ssl=yes|no\n"
		"  -n, --name NAME       this member's name (default %s)\n"
		"  -l, --log FILE        append log lines to FILE\n"
		"  -d, --daemon          run in the background (logs to syslog without -l)\n"
		"  -c, --cfg FILE        garbd's config file: address=, group=, options=, name=,\n"
		"                        log=, daemon= lines (the command line wins)\n"
		"  -h, --help            print this help\n"
		"  -v, --version         print the version\n"
		"--sst and --donor (backup state transfers) are not supported.\n"
		"SIGTERM or SIGINT: leave the group gracefully and exit 0. See paceless-arbitrator(8).\n",
		prog, ARB_NAME_DEFAULT);
}

/* ---- callbacks (the node's loop thread) ---- */

static void on_deliver(void *ctx, const struct grp_entry *e)
{
	(void)ctx;
	(void)e; /* an arbitrator holds the log to vote; the service's messages are not its own */
}

static void on_view(void *ctx, uint64_t id, const struct grp_config *cfg, int my_index,
		    bool primary)
{
	char line[900];
	size_t off = 0;

	(void)ctx;
	for (uint32_t i = 0; i < cfg->n && off < sizeof(line); i++) {
		const struct grp_member *m = &cfg->m[i];
		int w = snprintf(line + off, sizeof(line) - off, "%s%s (%s, weight %u%s)",
				 i ? ", " : "", m->name, m->addr, m->weight,
				 m->flags & GRP_MEMBER_ARBITRATOR ? ", arbitrator" : "");

		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (!cfg->n)
		snprintf(line, sizeof(line), "none");
	CLOG_NOTICE("view %llu: %s, %u member%s: %s; this arbitrator is %s",
		    (unsigned long long)id, primary ? "PRIMARY" : "NON-PRIMARY", cfg->n,
		    cfg->n == 1 ? "" : "s", line,
		    my_index >= 0 ? "a member" : "not a member");
}

static void on_xfer_needed(void *ctx, const struct grp_member *donor)
{
	(void)ctx;
	/* The protocol never asks an arbitrator for a state transfer (GRP_MEMBER_ARBITRATOR). */
	CLOG_ERR("unexpected state transfer request (donor %s); ignored", donor->name);
}

/* ---- state ---- */

static const char *state_of(const struct grp_status *st)
{
	if (st->member && st->primary)
		return "a voting member of the primary component";
	if (st->member)
		return "a member, NOT in a primary component (no quorum)";
	if (st->primary)
		return "joining (catching up)";
	return "looking for the primary component";
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Logs the state when it changed; returns the current one. */
static const char *state_log(struct grp_node *n, const char *last)
{
	struct grp_status st;
	const char *s;

	(void)grp_node_status(n, &st);
	s = state_of(&st);
	if (s != last)
		CLOG_NOTICE("state: %s (view %llu, term %llu, index %llu)", s,
			    (unsigned long long)st.view_id, (unsigned long long)st.term,
			    (unsigned long long)st.applied);
	return s;
}

/* Asks to be removed and waits (bounded) for the view without us. */
static void leave(struct grp_node *n, const sigset_t *sigs)
{
	struct grp_status st;
	struct timespec ts = {.tv_nsec = POLL_MS * 1000000L};
	uint64_t deadline = now_ms() + LEAVE_WAIT_MS;

	(void)grp_node_status(n, &st);
	if (!st.member || !st.primary) {
		CLOG_NOTICE("not in a primary component: leaving without a configuration change");
		return;
	}
	CLOG_NOTICE("leaving the group");
	grp_node_leave(n);
	while (now_ms() < deadline) {
		if (sigtimedwait(sigs, NULL, &ts) > 0) {
			CLOG_NOTICE("second signal: stopping now");
			return;
		}
		(void)grp_node_status(n, &st);
		if (!st.member) {
			CLOG_NOTICE("left the group");
			return;
		}
	}
	CLOG_WARN("no view without this arbitrator within %d ms: stopping anyway",
		  LEAVE_WAIT_MS);
}

/* ---- set-up ---- */

static int make_params(const struct arb_opts *o, struct grp_params *p)
{
	grp_params_default(p);
	if (o->keepalive_ms)
		p->heartbeat_ms = o->keepalive_ms;
	if (o->suspect_ms)
		p->election_ms = o->suspect_ms;
	if (o->inactive_ms)
		p->suspect_ms = o->inactive_ms;
	if (p->election_ms <= p->heartbeat_ms || p->suspect_ms < p->election_ms) {
		fprintf(stderr,
			"%s: need evs.keepalive_period (%u ms) < evs.suspect_timeout (%u ms) <= "
			"evs.inactive_timeout (%u ms)\n",
			prog, p->heartbeat_ms, p->election_ms, p->suspect_ms);
		return -EINVAL;
	}
	/*
	 * cache_bytes stays the data nodes' default: when the arbitrator leads, its cache is
	 * what a data member that fell behind can catch up from (it cannot give a transfer).
	 */
	return 0;
}

/* Sends log lines to -l FILE, syslog (-d) or stderr; daemonizes with -d. */
static int setup_output(const struct arb_opts *o)
{
	int fd = -1, null;

	if (o->log) {
		fd = open(o->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (fd < 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, o->log, strerror(errno));
			return -errno;
		}
	}
	if (o->daemon && daemon(0, 1) < 0) {
		fprintf(stderr, "%s: daemon: %s\n", prog, strerror(errno));
		return -errno;
	}
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (o->daemon && null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		if (fd < 0)
			dup2(null, STDERR_FILENO);
	}
	if (null >= 0)
		close(null);
	if (fd >= 0) {
		dup2(fd, STDERR_FILENO);
		close(fd);
	}
	setvbuf(stderr, NULL, _IOLBF, 0);
	core_log_open(prog, !o->daemon || o->log, o->daemon && !o->log ? LOG_DAEMON : -1);
	return 0;
}

static int run(const struct arb_opts *o, const struct grp_params *params)
{
	const char *peers[ARB_PEERS_MAX];
	struct grp_node_config cfg = {
		.cluster = o->group,
		.name = o->name,
		.listen = o->listen,
		.peers = peers,
		.n_peers = o->n_peers,
		.weight = o->weight,
		.arbitrator = true,
		.tls = {.cert = o->ssl_cert, .key = o->ssl_key, .ca = o->ssl_ca,
			.ciphers = o->ssl_cipher},
		.params = *params,
		.deliver = on_deliver,
		.view = on_view,
		.xfer_needed = on_xfer_needed,
	};
	struct timespec ts = {.tv_sec = 1};
	struct grp_node *n;
	const char *state = NULL;
	sigset_t sigs;
	int rc, sig;

	for (size_t i = 0; i < o->n_peers; i++)
		peers[i] = o->peers[i];
	/* Blocked before the node's thread starts, so that only sigtimedwait() takes them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = grp_node_start(&cfg, &n);
	if (rc) {
		CLOG_ERR("cannot start: %s (listen %s)", core_strerror(rc), o->listen);
		return rc;
	}
	CLOG_NOTICE("arbitrator %s joins group %s through %s, listening on %s, weight %u "
		    "(keepalive %u ms, suspect %u ms, inactive %u ms), %s",
		    o->name, o->group, o->address, o->listen, o->weight, params->heartbeat_ms,
		    params->election_ms, params->suspect_ms, o->ssl_cert ? "TLS" : "no TLS");
	for (;;) {
		sig = sigtimedwait(&sigs, NULL, &ts);
		state = state_log(n, state);
		if (sig == SIGHUP)
			CLOG_NOTICE("SIGHUP: nothing to reload (options are read at start)");
		else if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	CLOG_NOTICE("%s received", sig == SIGTERM ? "SIGTERM" : "SIGINT");
	leave(n, &sigs);
	grp_node_stop(n);
	CLOG_NOTICE("stopped");
	return 0;
}

int main(int argc, char **argv)
{
	char err[ARB_ERR_MAX] = "";
	struct grp_params params;
	struct arb_opts o;
	int rc;

	rc = arb_opts_parse(&o, argc, argv, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "%s: %s\nTry '%s --help'.\n", prog, err, prog);
		arb_opts_free(&o);
		return EXIT_FAILURE;
	}
	if (o.help || o.version) {
		if (o.help)
			usage(stdout);
		else
			printf("%s %s (drop-in for Galera's garbd)\n", prog, PACELESS_VERSION);
		arb_opts_free(&o);
		return EXIT_SUCCESS;
	}
	rc = make_params(&o, &params);
	if (!rc)
		rc = setup_output(&o);
	if (!rc)
		rc = run(&o, &params);
	arb_opts_free(&o);
	core_log_close();
	return rc ? EXIT_FAILURE : EXIT_SUCCESS;
}
