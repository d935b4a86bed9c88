/* SPDX-License-Identifier: MPL-2.0 */
/* The lease file on disk: load with torn-tail repair, append journal with fdatasync, rewrite. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core_assert.h"
#include "core_log.h"
#include "dhcp_leasestore.h"

#define STORE_CHUNK_BYTES (1024 * 1024) /* rewrite buffer; also the queue size kept after sync */
#define STORE_PATH_MAX	  4096

struct dhcp_leasestore {
	char *path, *path_new, *path_bak, *path_torn, *dir;
	int fd;	 /* O_RDWR | O_APPEND on path; -1 after a failed reopen */
	char *q; /* formatted records not yet durable */
	size_t q_len, q_cap;
	size_t q_written; /* bytes of q already written (a sync stopped part-way) */
	uint64_t q_pos;	  /* journal position of q[0]: bytes queued since open, ever */
	uint64_t file_gen; /* bumped whenever fd is (re)opened: syncers take new descriptions */
	int slot_fd[DHCP_LEASESTORE_SYNCERS_MAX]; /* see dhcp_leasestore_syncers(); -1: none */
	unsigned slots_n;
	size_t journal_bytes;
	unsigned style; /* DHCP_LF_* bits for the records written */
	bool need_nl; /* the file does not end in '\n': start the next append with one */
	bool needs_rewrite;
	struct dhcp_leasestore_io io;
	/* The last failover state record of each peer: a rewrite writes them first, as ISC. */
	struct dhcp_fo_state_rec fo[DHCP_LEASESTORE_FO_MAX];
	size_t fo_n;
};

static ssize_t sys_write(void *ctx, int fd, const void *buf, size_t n)
{
	(void)ctx;
	return write(fd, buf, n);
}

static int sys_sync(void *ctx, int fd, bool data_only)
{
	(void)ctx;
	return data_only ? fdatasync(fd) : fsync(fd);
}

static int sys_open(void *ctx, const char *path, int flags, mode_t mode)
{
	(void)ctx;
	return open(path, flags, mode);
}

static const struct dhcp_leasestore_io sys_io = {.write = sys_write, .sync = sys_sync,
						  .open = sys_open};

void dhcp_leasestore_set_io(struct dhcp_leasestore *s, const struct dhcp_leasestore_io *io)
{
	s->io = io ? *io : sys_io;
	if (!s->io.write)
		s->io.write = sys_write;
	if (!s->io.sync)
		s->io.sync = sys_sync;
	if (!s->io.open)
		s->io.open = sys_open;
}

static int store_open(struct dhcp_leasestore *s, const char *path, int flags, mode_t mode)
{
	return s->io.open(s->io.ctx, path, flags | O_CLOEXEC, mode);
}

static int neg_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* Writes all of buf, retrying short writes; *done counts what reached the file. */
static int write_all(struct dhcp_leasestore *s, int fd, const char *buf, size_t n, size_t *done)
{
	*done = 0;
	while (*done < n) {
		ssize_t w = s->io.write(s->io.ctx, fd, buf + *done, n - *done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return neg_errno();
		if (w == 0)
			return -EIO;
		*done += (size_t)w;
	}
	return 0;
}

static char *path_with(const char *path, const char *suffix)
{
	size_t n = strlen(path), k = strlen(suffix);
	char *p = malloc(n + k + 1);

	if (p) {
		memcpy(p, path, n);
		memcpy(p + n, suffix, k + 1);
	}
	return p;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *d;

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	d = strndup(path, (size_t)(slash - path));
	return d;
}

static int fsync_dir(struct dhcp_leasestore *s)
{
	int fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return neg_errno();
	if (s->io.sync(s->io.ctx, fd, false) < 0)
		rc = neg_errno();
	close(fd);
	return rc;
}

/* Whether a non-empty file ends without '\n' (appends must then start a new line). */
static bool ends_without_nl(int fd)
{
	struct stat sb;
	char c;

	if (fstat(fd, &sb) < 0 || sb.st_size == 0)
		return false;
	return pread(fd, &c, 1, sb.st_size - 1) == 1 && c != '\n';
}

static void open_slots(struct dhcp_leasestore *s);

/*
 * Opens path for append, creating it (and making its name durable) when absent, and the
 * syncers' descriptions of it, before anything is appended. The file holds nothing that is
 * not durable then (a rewrite's new file was fsynced; at start-up nothing of ours is owed).
 */
static int open_journal(struct dhcp_leasestore *s)
{
	int rc = 0;

	s->file_gen++;
	s->fd = store_open(s, s->path, O_RDWR | O_APPEND, 0);
	if (s->fd < 0 && errno != ENOENT)
		return neg_errno();
	if (s->fd < 0) {
		s->fd = store_open(s, s->path, O_RDWR | O_APPEND | O_CREAT | O_EXCL, 0644);
		if (s->fd < 0)
			return neg_errno();
		rc = fsync_dir(s);
	}
	open_slots(s);
	return rc;
}

int dhcp_leasestore_open(const char *path, struct dhcp_leasestore **out)
{
	struct dhcp_leasestore *s;
	int rc;

	*out = NULL;
	if (!path || !*path || strlen(path) > STORE_PATH_MAX)
		return -EINVAL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->io = sys_io;
	for (unsigned i = 0; i < DHCP_LEASESTORE_SYNCERS_MAX; i++)
		s->slot_fd[i] = -1;
	s->path = strdup(path);
	s->path_new = path_with(path, ".new");
	s->path_bak = path_with(path, "~");
	s->path_torn = path_with(path, ".torn");
	s->dir = dir_of(path);
	if (!s->path || !s->path_new || !s->path_bak || !s->path_torn || !s->dir) {
		dhcp_leasestore_close(s);
		return -ENOMEM;
	}
	rc = open_journal(s);
	if (rc < 0) {
		dhcp_leasestore_close(s);
		return rc;
	}
	s->need_nl = ends_without_nl(s->fd);
	*out = s;
	return 0;
}

/* Keeps a copy of a dropped torn tail in PATH.torn for the operator; best effort. */
static void save_torn_tail(struct dhcp_leasestore *s, const char *tail, size_t n)
{
	int fd = store_open(s, s->path_torn, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	size_t done;

	if (fd < 0 || write_all(s, fd, tail, n, &done) < 0 || s->io.sync(s->io.ctx, fd, false) < 0)
		CLOG_WARN("%s: cannot save the torn tail: %s", s->path_torn, strerror(errno));
	if (fd >= 0)
		close(fd);
}

static int cut_torn_tail(struct dhcp_leasestore *s, const char *buf, size_t len,
			 const struct dhcp_leasefile_stats *st, const char *why)
{
	size_t keep = st->valid_bytes;

	CLOG_WARN("%s: %s; dropping the last %zu bytes (power loss mid-write?), copy in %s",
		  s->path, why, len - keep, s->path_torn);
	save_torn_tail(s, buf + keep, len - keep);
	if (ftruncate(s->fd, (off_t)keep) < 0 || s->io.sync(s->io.ctx, s->fd, false) < 0)
		return neg_errno();
	s->need_nl = keep > 0 && buf[keep - 1] != '\n';
	return 0;
}

static void set_err(char *err, size_t errlen, const char *what, const char *path, int rc)
{
	if (err && errlen)
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(-rc));
}

/* Remembers r as its peer's latest state record. CORE_EFULL past DHCP_LEASESTORE_FO_MAX. */
static int fo_remember(struct dhcp_leasestore *s, const struct dhcp_fo_state_rec *r)
{
	size_t i;

	for (i = 0; i < s->fo_n; i++)
		if (!strcmp(s->fo[i].peer, r->peer))
			break;
	if (i == DHCP_LEASESTORE_FO_MAX)
		return CORE_EFULL;
	s->fo[i] = *r;
	if (i == s->fo_n)
		s->fo_n++;
	return 0;
}

struct load_ctx {
	struct dhcp_leasestore *s;
	dhcp_leasefile_cb cb;
	void *ctx;
};

static int load_lease(void *ctx, const struct dhcp_lease_rec *r)
{
	struct load_ctx *c = ctx;

	return c->cb ? c->cb(c->ctx, r) : 0;
}

static int load_fo(void *ctx, const struct dhcp_fo_state_rec *r)
{
	struct load_ctx *c = ctx;

	/* More peers than we keep: the extra ones' state is not carried over; the daemon
	 * refuses a configuration with more peers than that. */
	(void)fo_remember(c->s, r);
	return 0;
}

size_t dhcp_leasestore_fo_states(const struct dhcp_leasestore *s,
				 const struct dhcp_fo_state_rec **out)
{
	*out = s->fo;
	return s->fo_n;
}

int dhcp_leasestore_load(struct dhcp_leasestore *s, dhcp_leasefile_cb cb, void *ctx,
			 struct dhcp_leasefile_stats *st, char *err, size_t errlen)
{
	struct dhcp_leasefile_stats dummy;
	char why[512];
	struct stat sb;
	const char *buf = "";
	size_t len;
	int rc;

	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	if (err && errlen)
		err[0] = 0;
	if (s->q_len || s->fd < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s: load with records queued or no file", s->path);
		return CORE_ESTATE;
	}
	if (fstat(s->fd, &sb) < 0) {
		rc = neg_errno();
		set_err(err, errlen, "stat", s->path, rc);
		return rc;
	}
	len = (size_t)sb.st_size;
	if (len) {
		/* Read-only private map: 200 MB of leases are parsed without a copy. */
		void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, s->fd, 0);

		if (m == MAP_FAILED) {
			rc = neg_errno();
			set_err(err, errlen, "mmap", s->path, rc);
			return rc;
		}
		(void)madvise(m, len, MADV_SEQUENTIAL);
		buf = m;
	}
	s->fo_n = 0;
	rc = dhcp_leasefile_parse_fo(buf, len, s->path, load_lease, load_fo,
				     &(struct load_ctx){s, cb, ctx}, st, why, sizeof(why));
	if (rc == 0 && st->tail_torn) {
		rc = cut_torn_tail(s, buf, len, st, why);
		if (rc < 0)
			set_err(err, errlen, "truncate", s->path, rc);
	} else if (rc < 0 && err && errlen) {
		snprintf(err, errlen, "%s", why);
	}
	if (rc == 0)
		s->journal_bytes = st->valid_bytes;
	if (len)
		munmap((void *)(uintptr_t)buf, len);
	return rc;
}

static int queue_reserve(struct dhcp_leasestore *s, size_t n)
{
	size_t cap = s->q_cap ? s->q_cap : 64 * 1024;
	char *q;

	if (s->q_len + n <= s->q_cap)
		return 0;
	if (s->q_len + n > DHCP_LEASESTORE_QUEUE_MAX)
		return CORE_EFULL;
	while (cap < s->q_len + n)
		cap *= 2;
	if (cap > DHCP_LEASESTORE_QUEUE_MAX)
		cap = DHCP_LEASESTORE_QUEUE_MAX;
	q = realloc(s->q, cap);
	if (!q)
		return -ENOMEM;
	s->q = q;
	s->q_cap = cap;
	return 0;
}

/* Room for one formatted record at the end of the queue, after the newline a torn file
 * still needs. */
static int queue_open(struct dhcp_leasestore *s)
{
	/* The formatter writes in place when it has DHCP_LEASEFILE_REC_MAX + 1 bytes of room. */
	int rc = queue_reserve(s, DHCP_LEASEFILE_REC_MAX + 2);

	if (rc < 0)
		return rc;
	if (s->need_nl) {
		s->q[s->q_len++] = '\n';
		s->need_nl = false;
	}
	return 0;
}

static void queue_close(struct dhcp_leasestore *s, size_t n)
{
	s->q_len += n;
	s->journal_bytes += n;
}

int dhcp_leasestore_append(struct dhcp_leasestore *s, const struct dhcp_lease_rec *r)
{
	int rc = queue_open(s);

	if (rc == 0)
		queue_close(s, dhcp_leasefile_format_style(r, s->style, s->q + s->q_len,
							   s->q_cap - s->q_len));
	return rc;
}

int dhcp_leasestore_append_fo(struct dhcp_leasestore *s, const struct dhcp_fo_state_rec *r)
{
	int rc = queue_open(s);

	if (rc == 0)
		rc = fo_remember(s, r);
	if (rc == 0)
		queue_close(s, dhcp_leasefile_format_fo(r, s->style, s->q + s->q_len,
							s->q_cap - s->q_len));
	return rc;
}

/*
 * Drops the first n bytes of the queue (they are durable). They may be bytes a failed sync
 * has marked for writing again (a sync through a syncer covered them and returned before
 * that failure was handled): they are durable all the same. A buffer that grew past
 * STORE_CHUNK_BYTES (a backlog while the disk failed) is freed once empty, or shrunk once
 * mostly empty: with overlapped syncs the queue need never run empty.
 */
static void queue_drop(struct dhcp_leasestore *s, size_t n)
{
	ASSERT(n <= s->q_len && s->q_written <= s->q_len);
	memmove(s->q, s->q + n, s->q_len - n);
	s->q_len -= n;
	s->q_written = s->q_written > n ? s->q_written - n : 0;
	s->q_pos += n;
	if (s->q_cap <= STORE_CHUNK_BYTES)
		return;
	if (s->q_len == 0) {
		free(s->q);
		s->q = NULL;
		s->q_cap = 0;
	} else if (s->q_len < STORE_CHUNK_BYTES / 2) {
		char *q = realloc(s->q, STORE_CHUNK_BYTES);

		if (q) {
			s->q = q;
			s->q_cap = STORE_CHUNK_BYTES;
		}
	}
}

int dhcp_leasestore_write(struct dhcp_leasestore *s, uint64_t *end)
{
	size_t done;
	int rc = 0;

	if (s->q_written < s->q_len && s->fd < 0)
		rc = open_journal(s);
	if (rc == 0 && s->q_written < s->q_len) {
		rc = write_all(s, s->fd, s->q + s->q_written, s->q_len - s->q_written, &done);
		s->q_written += done;
	}
	*end = s->q_pos + s->q_written;
	return rc;
}

int dhcp_leasestore_sync(struct dhcp_leasestore *s)
{
	uint64_t end;
	int rc;

	if (s->q_len == 0)
		return 0;
	rc = dhcp_leasestore_write(s, &end);
	if (rc < 0)
		return rc;
	if (s->io.sync(s->io.ctx, s->fd, true) < 0) {
		/*
		 * After a failed fdatasync Linux may have dropped the dirty pages and will
		 * report success next time: write the batch again rather than trust it.
		 */
		rc = neg_errno();
		s->q_written = 0;
		s->needs_rewrite = true;
		return rc;
	}
	queue_drop(s, s->q_len);
	return 0;
}

void dhcp_leasestore_synced(struct dhcp_leasestore *s, uint64_t end)
{
	if (end > s->q_pos)
		queue_drop(s, (size_t)(end - s->q_pos));
}

void dhcp_leasestore_sync_failed(struct dhcp_leasestore *s, uint64_t durable_end)
{
	dhcp_leasestore_synced(s, durable_end);
	s->q_written = 0;
	s->needs_rewrite = true;
}

/*
 * A new open file description of the journal (not dup(), which shares one): /proc/self/fd
 * reopens the very inode; without /proc, the path, if it still names that inode.
 */
static int reopen_journal(struct dhcp_leasestore *s)
{
	struct stat a, b;
	char p[64];
	int fd;

	snprintf(p, sizeof(p), "/proc/self/fd/%d", s->fd);
	fd = store_open(s, p, O_RDONLY, 0);
	if (fd >= 0)
		return fd;
	fd = store_open(s, s->path, O_RDONLY, 0);
	if (fd < 0)
		return neg_errno();
	if (fstat(fd, &a) < 0 || fstat(s->fd, &b) < 0 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

/* Closes the descriptions no syncer took (they are of the file before) and, with the journal
 * open, opens one per syncer. A slot that cannot be had stays -1: its syncer falls back. */
static void open_slots(struct dhcp_leasestore *s)
{
	for (unsigned i = 0; i < DHCP_LEASESTORE_SYNCERS_MAX; i++) {
		int fd;

		if (s->slot_fd[i] >= 0)
			close(s->slot_fd[i]);
		s->slot_fd[i] = -1;
		if (i >= s->slots_n || s->fd < 0)
			continue;
		fd = reopen_journal(s);
		if (fd < 0)
			CLOG_WARN("%s: cannot open a description for sync thread %u: %s", s->path, i,
				  core_strerror(fd));
		s->slot_fd[i] = fd < 0 ? -1 : fd;
	}
}

int dhcp_leasestore_syncers(struct dhcp_leasestore *s, unsigned n)
{
	int rc = 0;

	if (n > DHCP_LEASESTORE_SYNCERS_MAX)
		return -EINVAL;
	/* Whatever is written and not yet durable must be before every description's birth. */
	if (s->q_written)
		rc = dhcp_leasestore_sync(s);
	s->slots_n = rc == 0 ? n : 0;
	open_slots(s);
	return rc;
}

int dhcp_leasestore_syncer_attach(struct dhcp_leasestore *s, struct dhcp_leasestore_syncer *sy)
{
	if (sy->fd >= 0 && sy->gen == s->file_gen)
		return 0;
	dhcp_leasestore_syncer_close(sy);
	if (sy->slot >= s->slots_n || s->slot_fd[sy->slot] < 0)
		return -EBADF;
	sy->fd = s->slot_fd[sy->slot];
	s->slot_fd[sy->slot] = -1;
	sy->gen = s->file_gen;
	sy->io = s->io;
	return 0;
}

int dhcp_leasestore_syncer_sync(const struct dhcp_leasestore_syncer *sy)
{
	return sy->io.sync(sy->io.ctx, sy->fd, true) < 0 ? neg_errno() : 0;
}

void dhcp_leasestore_syncer_close(struct dhcp_leasestore_syncer *sy)
{
	if (sy->fd >= 0)
		close(sy->fd);
	sy->fd = -1;
}

/* Writes header and records to fd, buffered in chunks. */
static int write_records(struct dhcp_leasestore *s, int fd,
			 int (*next)(void *ctx, struct dhcp_lease_rec *r), void *ctx)
{
	char *buf = malloc(STORE_CHUNK_BYTES);
	struct dhcp_lease_rec r;
	size_t n, done;
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	n = dhcp_leasefile_header(buf, STORE_CHUNK_BYTES);
	for (size_t i = 0; i < s->fo_n; i++)
		n += dhcp_leasefile_format_fo(&s->fo[i], s->style, buf + n, STORE_CHUNK_BYTES - n);
	for (;;) {
		if (STORE_CHUNK_BYTES - n <= DHCP_LEASEFILE_REC_MAX) {
			rc = write_all(s, fd, buf, n, &done);
			if (rc < 0)
				break;
			n = 0;
		}
		rc = next(ctx, &r);
		if (rc <= 0)
			break;
		n += dhcp_leasefile_format_style(&r, s->style, buf + n, STORE_CHUNK_BYTES - n);
	}
	if (rc == 0)
		rc = write_all(s, fd, buf, n, &done);
	free(buf);
	return rc;
}

/* PATH.new, complete and durable; removed on failure. */
static int write_new_file(struct dhcp_leasestore *s,
			  int (*next)(void *ctx, struct dhcp_lease_rec *r), void *ctx)
{
	int fd = store_open(s, s->path_new, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int rc;

	if (fd < 0)
		return neg_errno();
	rc = write_records(s, fd, next, ctx);
	if (rc == 0 && s->io.sync(s->io.ctx, fd, false) < 0)
		rc = neg_errno();
	if (close(fd) < 0 && rc == 0)
		rc = neg_errno();
	if (rc < 0)
		unlink(s->path_new);
	return rc;
}

/* As ISC: PATH~ becomes a second name of the current file before PATH.new replaces it. */
static int keep_backup(struct dhcp_leasestore *s)
{
	if (unlink(s->path_bak) < 0 && errno != ENOENT)
		return neg_errno();
	if (link(s->path, s->path_bak) < 0 && errno != ENOENT)
		return neg_errno();
	return 0;
}

/* PATH.new (complete and durable) replaces PATH; appends continue in the new file. */
static int switch_to_new(struct dhcp_leasestore *s, size_t tail_bytes)
{
	int rc = keep_backup(s);

	if (rc == 0 && rename(s->path_new, s->path) < 0)
		rc = neg_errno();
	if (rc < 0) {
		unlink(s->path_new);
		return rc;
	}
	/* The old descriptor now appends to PATH~: switch to the new file whatever follows. */
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	rc = fsync_dir(s);
	if (open_journal(s) < 0 && rc == 0)
		rc = neg_errno();
	s->journal_bytes = tail_bytes;
	s->need_nl = false;
	if (rc == 0)
		s->needs_rewrite = false;
	return rc;
}

int dhcp_leasestore_rewrite(struct dhcp_leasestore *s,
			    int (*next)(void *ctx, struct dhcp_lease_rec *r), void *ctx)
{
	int rc = dhcp_leasestore_sync(s);

	if (rc < 0)
		return rc;
	rc = write_new_file(s, next, ctx);
	if (rc < 0)
		return rc;
	return switch_to_new(s, 0);
}

int dhcp_leasestore_write_new(struct dhcp_leasestore *s,
			      int (*next)(void *ctx, struct dhcp_lease_rec *r), void *ctx)
{
	return write_new_file(s, next, ctx);
}

int dhcp_leasestore_adopt_new(struct dhcp_leasestore *s, const char *tail, size_t len)
{
	int fd, rc = dhcp_leasestore_sync(s);
	size_t done;

	if (rc < 0) {
		unlink(s->path_new);
		return rc;
	}
	fd = store_open(s, s->path_new, O_WRONLY | O_APPEND, 0);
	if (fd < 0) {
		rc = neg_errno();
		unlink(s->path_new);
		return rc;
	}
	rc = len ? write_all(s, fd, tail, len, &done) : 0;
	if (rc == 0 && s->io.sync(s->io.ctx, fd, true) < 0)
		rc = neg_errno();
	if (close(fd) < 0 && rc == 0)
		rc = neg_errno();
	if (rc < 0) {
		unlink(s->path_new);
		return rc;
	}
	return switch_to_new(s, len);
}

void dhcp_leasestore_drop_new(struct dhcp_leasestore *s)
{
	unlink(s->path_new);
}

void dhcp_leasestore_set_style(struct dhcp_leasestore *s, unsigned style)
{
	s->style = style;
}

unsigned dhcp_leasestore_style(const struct dhcp_leasestore *s)
{
	return s->style;
}

size_t dhcp_leasestore_journal_bytes(const struct dhcp_leasestore *s)
{
	return s->journal_bytes;
}

size_t dhcp_leasestore_queued_bytes(const struct dhcp_leasestore *s)
{
	return s->q_len;
}

bool dhcp_leasestore_needs_rewrite(const struct dhcp_leasestore *s)
{
	return s->needs_rewrite;
}

void dhcp_leasestore_close(struct dhcp_leasestore *s)
{
	if (!s)
		return;
	if (s->q_len)
		CLOG_WARN("%s: closing with %zu bytes of lease records not written", s->path,
			  s->q_len);
	if (s->fd >= 0)
		close(s->fd);
	s->slots_n = 0;
	open_slots(s);
	free(s->q);
	free(s->path);
	free(s->path_new);
	free(s->path_bak);
	free(s->path_torn);
	free(s->dir);
	free(s);
}
