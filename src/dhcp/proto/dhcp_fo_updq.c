/* SPDX-License-Identifier: MPL-2.0 */
/* The failover update queue (see dhcp_fo_updq.h). Pure. */
#include <stdlib.h>

#include "core_assert.h"
#include "dhcp_fo_updq.h"

enum slot_state { S_EMPTY, S_IDLE, S_QUEUED, S_FLIGHT, S_FLIGHT_DIRTY };

struct slot {
	uint64_t ready; /* the journal record its latest change waits for */
	uint32_t addr;
	uint32_t xid;
	uint8_t state;
};

struct dhcp_fo_updq {
	struct slot *slots; /* open addressing, linear probing; never deleted (addresses are fixed) */
	size_t mask, used, cap;
	uint32_t *ring; /* the queued addresses, in order; cap entries */
	size_t head, count;
	size_t in_flight;
};

struct dhcp_fo_updq *dhcp_fo_updq_new(size_t cap)
{
	struct dhcp_fo_updq *q = calloc(1, sizeof(*q));
	size_t n = 16;

	if (!q)
		return NULL;
	while (n < 2 * cap)
		n *= 2;
	q->slots = calloc(n, sizeof(*q->slots));
	q->ring = calloc(cap ? cap : 1, sizeof(*q->ring));
	if (!q->slots || !q->ring) {
		dhcp_fo_updq_free(q);
		return NULL;
	}
	q->mask = n - 1;
	q->cap = cap;
	return q;
}

void dhcp_fo_updq_free(struct dhcp_fo_updq *q)
{
	if (!q)
		return;
	free(q->slots);
	free(q->ring);
	free(q);
}

static size_t hash(uint32_t a)
{
	return (size_t)(a * 2654435761u);
}

/* The slot of addr, or the empty slot where it would go. */
static struct slot *find(const struct dhcp_fo_updq *q, uint32_t addr)
{
	size_t i = hash(addr) & q->mask;

	while (q->slots[i].state != S_EMPTY && q->slots[i].addr != addr)
		i = (i + 1) & q->mask;
	return &q->slots[i];
}

static void ring_push_back(struct dhcp_fo_updq *q, uint32_t addr)
{
	ASSERT(q->count < q->cap);
	q->ring[(q->head + q->count) % q->cap] = addr;
	q->count++;
}

static void ring_push_front(struct dhcp_fo_updq *q, uint32_t addr)
{
	ASSERT(q->count < q->cap);
	q->head = (q->head + q->cap - 1) % q->cap;
	q->ring[q->head] = addr;
	q->count++;
}

int dhcp_fo_updq_push(struct dhcp_fo_updq *q, uint32_t addr, uint64_t ready)
{
	struct slot *s = find(q, addr);

	if (s->state == S_EMPTY) {
		if (q->used == q->cap)
			return CORE_EFULL;
		q->used++;
		s->addr = addr;
		s->state = S_IDLE;
	}
	if (ready > s->ready)
		s->ready = ready;
	switch (s->state) {
	case S_IDLE:
		s->state = S_QUEUED;
		ring_push_back(q, addr);
		break;
	case S_FLIGHT:
		s->state = S_FLIGHT_DIRTY; /* sent again once this one is acked */
		break;
	default: /* queued, or already due again */
		break;
	}
	return 0;
}

int dhcp_fo_updq_next(struct dhcp_fo_updq *q, uint32_t window, uint64_t durable, uint32_t *addr)
{
	struct slot *s;

	/* In order: a change not yet durable holds back the ones behind it for the moment
	 * its sync takes. */
	if (!q->count || q->in_flight >= window || find(q, q->ring[q->head])->ready > durable)
		return 0;
	*addr = q->ring[q->head];
	q->head = (q->head + 1) % q->cap;
	q->count--;
	s = find(q, *addr);
	ASSERT(s->state == S_QUEUED);
	s->state = S_FLIGHT;
	s->xid = 0;
	q->in_flight++;
	return 1;
}

void dhcp_fo_updq_sent(struct dhcp_fo_updq *q, uint32_t addr, uint32_t xid)
{
	struct slot *s = find(q, addr);

	if (s->state == S_FLIGHT || s->state == S_FLIGHT_DIRTY)
		s->xid = xid;
}

void dhcp_fo_updq_hold(struct dhcp_fo_updq *q, uint32_t addr, uint64_t ready)
{
	struct slot *s = find(q, addr);

	ASSERT((s->state == S_FLIGHT || s->state == S_FLIGHT_DIRTY) && !s->xid);
	s->state = S_QUEUED;
	if (ready > s->ready)
		s->ready = ready;
	q->in_flight--;
	ring_push_front(q, addr);
}

enum dhcp_fo_ack dhcp_fo_updq_acked(struct dhcp_fo_updq *q, uint32_t addr, uint32_t xid)
{
	struct slot *s = find(q, addr);

	if (s->state != S_FLIGHT && s->state != S_FLIGHT_DIRTY)
		return DHCP_FO_ACK_UNKNOWN;
	if (s->xid != xid)
		return DHCP_FO_ACK_MISMATCH;
	q->in_flight--;
	if (s->state == S_FLIGHT) {
		s->state = S_IDLE;
		return DHCP_FO_ACK_DONE;
	}
	s->state = S_QUEUED;
	ring_push_back(q, addr);
	return DHCP_FO_ACK_AGAIN;
}

void dhcp_fo_updq_link_lost(struct dhcp_fo_updq *q)
{
	for (size_t i = 0; i <= q->mask && q->in_flight; i++) {
		struct slot *s = &q->slots[i];

		if (s->state != S_FLIGHT && s->state != S_FLIGHT_DIRTY)
			continue;
		s->state = S_QUEUED;
		q->in_flight--;
		ring_push_front(q, s->addr);
	}
}

size_t dhcp_fo_updq_queued(const struct dhcp_fo_updq *q)
{
	return q->count;
}

size_t dhcp_fo_updq_in_flight(const struct dhcp_fo_updq *q)
{
	return q->in_flight;
}

bool dhcp_fo_updq_idle(const struct dhcp_fo_updq *q)
{
	return !q->count && !q->in_flight;
}

bool dhcp_fo_updq_flying(const struct dhcp_fo_updq *q, uint32_t addr)
{
	const struct slot *sl = find(q, addr);

	return sl->state == S_FLIGHT || sl->state == S_FLIGHT_DIRTY;
}
