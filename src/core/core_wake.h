/* SPDX-License-Identifier: MPL-2.0 */
/* Waking a libuv loop from other threads: an eventfd that the loop watches. */
#ifndef CORE_WAKE_H
#define CORE_WAKE_H

#include <uv.h>

/*
 * What uv_async_t does, without its spin. uv_async_send() marks the handle pending, writes,
 * then marks it done, and the loop it woke spins and sched_yield()s while a sender is between
 * the two; on two vCPUs the sender is often preempted right there, by the loop thread its own
 * write woke, and the loop stalled for up to 2.6 ms (docs/internals/group-protocol.md,
 * "Waking the loop"). Here the write(2) is the whole signal.
 *
 * Life cycle: core_wake_init() on the loop thread; core_wake_send() from any thread; the owner
 * closes w->poll with uv_close() like its other handles, and calls core_wake_fd_close() once
 * no thread can call core_wake_send() any more (after joining them, say).
 */
struct core_wake {
	uv_poll_t poll;
	int fd; /* the eventfd; -1 when closed */
	void (*cb)(struct core_wake *w);
	void *data; /* the owner's */
};

/*
 * Loop thread. cb runs on the loop thread after one or more core_wake_send() calls (they are
 * coalesced), the eventfd already read: a send made after cb began wakes it again.
 * 0, or a negative errno / libuv error (then w->fd is -1 and nothing is left to close).
 */
int core_wake_init(uv_loop_t *loop, struct core_wake *w, void (*cb)(struct core_wake *w));

/* Any thread: one write(2). Better made outside any lock that cb takes. */
void core_wake_send(struct core_wake *w);

/* Closes the eventfd (idempotent). Not before uv_close(&w->poll) has been called. */
void core_wake_fd_close(struct core_wake *w);

#endif
