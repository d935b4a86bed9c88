/* SPDX-License-Identifier: MPL-2.0 */
/* Waking a libuv loop from other threads: an eventfd that the loop watches. */
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core_assert.h"
#include "core_wake.h"

static void on_readable(uv_poll_t *h, int status, int events)
{
	struct core_wake *w = h->data;
	uint64_t v;

	(void)status; /* an eventfd does not fail; a spurious wake costs one read */
	(void)events;
	while (read(w->fd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	w->cb(w);
}

int core_wake_init(uv_loop_t *loop, struct core_wake *w, void (*cb)(struct core_wake *w))
{
	int rc;

	w->cb = cb;
	w->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->fd < 0) {
		rc = -errno;
		w->fd = -1;
		return rc;
	}
	rc = uv_poll_init(loop, &w->poll, w->fd);
	if (rc) {
		core_wake_fd_close(w);
		return rc;
	}
	w->poll.data = w;
	rc = uv_poll_start(&w->poll, UV_READABLE, on_readable);
	ASSERT(rc == 0); /* it only queues the watcher for the next poll */
	return 0;
}

void core_wake_send(struct core_wake *w)
{
	uint64_t one = 1;

	/* EAGAIN only with the counter near 2^64: the loop has a wake pending then anyway. */
	while (write(w->fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

void core_wake_fd_close(struct core_wake *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}
