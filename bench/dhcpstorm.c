/* SPDX-License-Identifier: MPL-2.0 */
/* dhcpstorm: a closed-loop DHCP load generator acting as a relay, to find a server's capacity. */

/*
 * perfdhcp (the reference tool) saturates well before a fast server does on a 2-core
 * machine, so this tool measures capacity differently: it keeps a fixed number of DORA
 * exchanges in flight (a window), each from one of --clients simulated clients behind a
 * relay address, and starts a new one whenever one completes. The completed-exchange rate
 * at a window large enough to keep the server busy is the server's capacity; the latency
 * from DISCOVER to ACK is recorded per exchange. Exchanges unanswered after --timeout-ms
 * are counted as lost and restarted. Bounded by --seconds. Sends only to the server address
 * it is given (tests and benches give it a TEST-NET address inside a network namespace).
 *
 * Output: one JSON object on stdout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core_wire.h"
#include "dhcp_packet.h"

#define CLIENTS_MAX 65536
#define WINDOW_MAX 4096
#define LAT_MAX (8u * 1024 * 1024)
#define BATCH 64

enum { IDLE = 0, DISCOVERING, REQUESTING };

struct client {
	uint8_t state;
	uint32_t xid;
	int64_t started_ns, sent_ns;
	uint32_t offered, server_id;
};

static struct client clients[CLIENTS_MAX];
static uint32_t *lat_us;
static size_t lat_n;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int build(uint8_t *buf, size_t cap, uint32_t idx, const struct client *c, uint8_t type,
		 uint32_t giaddr)
{
	struct dhcp_out o;
	uint8_t b4[4];

	dhcp_out_init(&o);
	o.op = 1;
	o.htype = 1;
	o.hlen = 6;
	o.hops = 1;
	o.xid = c->xid;
	o.giaddr = giaddr;
	o.chaddr[0] = 0x02;
	o.chaddr[1] = 0x5c;
	o.chaddr[2] = (uint8_t)(idx >> 24);
	o.chaddr[3] = (uint8_t)(idx >> 16);
	o.chaddr[4] = (uint8_t)(idx >> 8);
	o.chaddr[5] = (uint8_t)idx;
	if (dhcp_out_add(&o, 53, &type, 1) < 0)
		return -1;
	if (type == DHCPREQUEST) {
		b4[0] = (uint8_t)(c->server_id >> 24);
		b4[1] = (uint8_t)(c->server_id >> 16);
		b4[2] = (uint8_t)(c->server_id >> 8);
		b4[3] = (uint8_t)c->server_id;
		if (dhcp_out_add(&o, 54, b4, 4) < 0)
			return -1;
		b4[0] = (uint8_t)(c->offered >> 24);
		b4[1] = (uint8_t)(c->offered >> 16);
		b4[2] = (uint8_t)(c->offered >> 8);
		b4[3] = (uint8_t)c->offered;
		if (dhcp_out_add(&o, 50, b4, 4) < 0)
			return -1;
	}
	return dhcp_out_encode(&o, buf, cap, 576, NULL);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void usage(void)
{
	fprintf(stderr, "usage: dhcpstorm --relay A.B.C.D --server A.B.C.D [--clients N] "
			"[--window N] [--seconds S] [--timeout-ms MS]\n");
	exit(2);
}

struct opts {
	struct in_addr relay, server;
	uint32_t nclients, window;
	double seconds;
	int64_t timeout_ns;
};

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"relay", 1, 0, 'r'}, {"server", 1, 0, 's'}, {"clients", 1, 0, 'c'},
		{"window", 1, 0, 'w'}, {"seconds", 1, 0, 't'}, {"timeout-ms", 1, 0, 'm'},
		{0, 0, 0, 0}};
	int ch;
	bool have_r = false, have_s = false;

	o->nclients = 200;
	o->window = 64;
	o->seconds = 10;
	o->timeout_ns = 1000000000;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'r':
			have_r = inet_pton(AF_INET, optarg, &o->relay) == 1;
			break;
		case 's':
			have_s = inet_pton(AF_INET, optarg, &o->server) == 1;
			break;
		case 'c':
			o->nclients = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'w':
			o->window = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 't':
			o->seconds = strtod(optarg, NULL);
			break;
		case 'm':
			o->timeout_ns = strtoll(optarg, NULL, 10) * 1000000;
			break;
		default:
			usage();
		}
	}
	if (!have_r || !have_s || !o->nclients || o->nclients > CLIENTS_MAX || !o->window ||
	    o->window > WINDOW_MAX || o->window > o->nclients || o->seconds <= 0 ||
	    o->seconds > 600)
		usage();
}

struct run {
	struct opts o;
	int fd;
	struct sockaddr_in server;
	uint32_t giaddr, next, inflight;
	int64_t measure_from_ns;
	uint64_t started, completed, lost, naks, sent, send_errors;
	struct mmsghdr out[BATCH];
	struct iovec out_iov[BATCH];
	uint8_t out_buf[BATCH][600];
	unsigned out_n;
};

static void flush(struct run *r)
{
	unsigned done = 0;

	while (done < r->out_n) {
		int n = sendmmsg(r->fd, r->out + done, r->out_n - done, 0);

		if (n <= 0) {
			r->send_errors += r->out_n - done;
			break;
		}
		done += (unsigned)n;
	}
	r->sent += done;
	r->out_n = 0;
}

static void queue(struct run *r, uint32_t idx, uint8_t type)
{
	int len;

	if (r->out_n == BATCH)
		flush(r);
	len = build(r->out_buf[r->out_n], sizeof(r->out_buf[0]), idx, &clients[idx], type, r->giaddr);
	if (len <= 0) {
		r->send_errors++;
		return;
	}
	r->out_iov[r->out_n] = (struct iovec){r->out_buf[r->out_n], (size_t)len};
	r->out[r->out_n].msg_hdr = (struct msghdr){.msg_name = &r->server,
						   .msg_namelen = sizeof(r->server),
						   .msg_iov = &r->out_iov[r->out_n],
						   .msg_iovlen = 1};
	r->out_n++;
	clients[idx].sent_ns = now_ns();
}

static void fill_window(struct run *r, int64_t now)
{
	for (uint32_t tries = 0; r->inflight < r->o.window && tries < r->o.nclients; tries++) {
		uint32_t idx = r->next;
		struct client *c = &clients[idx];

		r->next = (r->next + 1) % r->o.nclients;
		if (c->state != IDLE)
			continue;
		c->state = DISCOVERING;
		c->xid = (uint32_t)(idx * 2654435761u) ^ (uint32_t)r->started;
		c->started_ns = now;
		r->started++;
		r->inflight++;
		queue(r, idx, DHCPDISCOVER);
	}
}

static void on_reply(struct run *r, const uint8_t *buf, size_t len, int64_t now)
{
	static struct dhcp_packet p;
	enum dhcp_drop why;
	uint32_t idx;
	struct client *c;
	size_t n;
	const uint8_t *sid;

	if (dhcp_packet_decode(&p, buf, len, &why) < 0 || p.op != 2 || p.hlen != 6 ||
	    p.chaddr[0] != 0x02 || p.chaddr[1] != 0x5c)
		return;
	idx = (uint32_t)p.chaddr[2] << 24 | (uint32_t)p.chaddr[3] << 16 |
	      (uint32_t)p.chaddr[4] << 8 | p.chaddr[5];
	if (idx >= r->o.nclients || clients[idx].xid != p.xid)
		return;
	c = &clients[idx];
	if (p.msg_type == DHCPOFFER && c->state == DISCOVERING) {
		sid = dhcp_packet_opt(&p, 54, &n);
		if (!sid || n != 4)
			return;
		c->server_id = (uint32_t)sid[0] << 24 | (uint32_t)sid[1] << 16 |
			       (uint32_t)sid[2] << 8 | sid[3];
		c->offered = p.yiaddr;
		c->state = REQUESTING;
		queue(r, idx, DHCPREQUEST);
		return;
	}
	if (c->state != REQUESTING || (p.msg_type != DHCPACK && p.msg_type != DHCPNAK))
		return;
	if (p.msg_type == DHCPNAK) {
		r->naks++;
	} else if (c->started_ns >= r->measure_from_ns) {
		r->completed++;
		if (lat_n < LAT_MAX)
			lat_us[lat_n++] = (uint32_t)((now - c->started_ns) / 1000);
	}
	c->state = IDLE;
	r->inflight--;
}

static void expire(struct run *r, int64_t now)
{
	for (uint32_t i = 0; i < r->o.nclients; i++) {
		struct client *c = &clients[i];

		if (c->state != IDLE && now - c->sent_ns > r->o.timeout_ns) {
			c->state = IDLE;
			r->inflight--;
			if (c->started_ns >= r->measure_from_ns)
				r->lost++;
		}
	}
}

static void receive(struct run *r)
{
	static uint8_t bufs[BATCH][1500];
	struct mmsghdr in[BATCH];
	struct iovec iov[BATCH];
	int n;

	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){bufs[i], sizeof(bufs[i])};
		in[i].msg_hdr = (struct msghdr){.msg_iov = &iov[i], .msg_iovlen = 1};
	}
	while ((n = recvmmsg(r->fd, in, BATCH, MSG_DONTWAIT, NULL)) > 0) {
		int64_t now = now_ns();

		for (int i = 0; i < n; i++)
			on_reply(r, bufs[i], in[i].msg_len, now);
		if (n < BATCH)
			break;
	}
}

static double pct(double q)
{
	size_t i;

	if (!lat_n)
		return 0;
	i = (size_t)(q * (double)(lat_n - 1));
	return lat_us[i] / 1000.0;
}

int main(int argc, char **argv)
{
	static struct run r;
	struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(67)};
	int64_t t0, end, last_expire;
	int rcvbuf = 8 << 20;

	parse(argc, argv, &r.o);
	lat_us = malloc(LAT_MAX * sizeof(*lat_us));
	r.fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	me.sin_addr = r.o.relay;
	if (!lat_us || r.fd < 0 || bind(r.fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		perror("dhcpstorm: socket");
		return 1;
	}
	if (setsockopt(r.fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		(void)setsockopt(r.fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	r.server = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(67),
					.sin_addr = r.o.server};
	r.giaddr = ntohl(r.o.relay.s_addr);
	t0 = last_expire = now_ns();
	/* The first second warms the server up (first leases, caches) and is not counted. */
	r.measure_from_ns = t0 + 1000000000;
	end = r.measure_from_ns + (int64_t)(r.o.seconds * 1e9);
	for (int64_t now = t0; now < end; now = now_ns()) {
		struct pollfd pfd = {.fd = r.fd, .events = POLLIN};

		fill_window(&r, now);
		flush(&r);
		if (poll(&pfd, 1, 5) > 0)
			receive(&r);
		flush(&r);
		if (now - last_expire > 100000000) {
			expire(&r, now);
			last_expire = now;
		}
	}
	qsort(lat_us, lat_n, sizeof(*lat_us), cmp_u32);
	printf("{\"seconds\": %.1f, \"window\": %u, \"clients\": %u, \"completed\": %llu, "
	       "\"rate\": %.0f, \"lost\": %llu, \"naks\": %llu, \"p50_ms\": %.3f, \"p99_ms\": %.3f, "
	       "\"max_ms\": %.3f}\n",
	       r.o.seconds, r.o.window, r.o.nclients, (unsigned long long)r.completed,
	       (double)r.completed / r.o.seconds, (unsigned long long)r.lost,
	       (unsigned long long)r.naks, pct(0.5), pct(0.99), pct(1.0));
	free(lat_us);
	close(r.fd);
	return 0;
}
