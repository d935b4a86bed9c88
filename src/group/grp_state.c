/* SPDX-License-Identifier: MPL-2.0 */
/* A group node's state file: text format (pure) and atomic replacement (write, fsync, rename). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core_log.h"
#include "grp_state.h"

#define HEADER "# paceless group state: written by libpaceless-group, do not edit\n"
#define FIELD_MAX 256 /* an unescaped cluster name, address or node name, NUL included */

/* ---- format ---- */

struct out {
	char *b;
	size_t size, len;
	bool full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->b + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

static void put_escaped(struct out *o, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < '!' || c > '~' || c == '%')
			put(o, "%%%02X", c);
		else
			put(o, "%c", c);
	}
}

static void put_uuid(struct out *o, const struct grp_uuid *u)
{
	for (int i = 0; i < 16; i++)
		put(o, "%02x", u->b[i]);
}

int grp_state_format(const struct grp_durable *d, const char *cluster, char *buf, size_t size)
{
	struct out o = {.b = buf, .size = size};

	if (!d->n || d->n > GRP_MEMBERS_MAX || !size)
		return -EINVAL;
	buf[0] = '\0';
	put(&o, HEADER "version: %d\ncluster: ", GRP_STATE_VERSION);
	put_escaped(&o, cluster);
	put(&o, "\nmy_uuid: ");
	put_uuid(&o, &d->uuid);
	put(&o, "\ngen: %" PRIu64 "\nterm: %" PRIu64 "\nvoted_for: ", d->gen, d->term);
	put_uuid(&o, &d->voted_for);
	put(&o, "\nview_id: %" PRIu64 "\nflags: %" PRIu32 "\n", d->view_id, d->flags);
	for (uint32_t i = 0; i < d->n; i++) {
		put(&o, "member: ");
		put_uuid(&o, &d->m[i].uuid);
		put(&o, " %" PRIu32 " %u ", d->m[i].weight, (unsigned)d->m[i].flags);
		put_escaped(&o, d->m[i].addr);
		put(&o, " ");
		put_escaped(&o, d->m[i].name);
		put(&o, "\n");
	}
	put(&o, "end: %" PRIu32 "\n", d->n);
	return o.full ? CORE_ESPACE : (int)o.len;
}

/* ---- parse ---- */

struct in {
	const char *b;
	size_t len, pos;
	unsigned line;
	/* the current line's value, after "key: " */
	const char *v;
	size_t vlen;
};

/* The next line, which must be "key: value". CORE_ETRUNC at the end, CORE_EPARSE otherwise. */
static int field(struct in *in, const char *key)
{
	size_t k = strlen(key), start, end;
	const char *nl;

	if (in->pos >= in->len)
		return CORE_ETRUNC;
	start = in->pos;
	nl = memchr(in->b + start, '\n', in->len - start);
	if (!nl)
		return CORE_ETRUNC; /* every line ends with '\n': a cut file */
	end = (size_t)(nl - in->b);
	in->pos = end + 1;
	in->line++;
	if (end - start < k + 2 || memcmp(in->b + start, key, k) || in->b[start + k] != ':' ||
	    in->b[start + k + 1] != ' ')
		return CORE_EPARSE;
	in->v = in->b + start + k + 2;
	in->vlen = end - start - k - 2;
	return 0;
}

/* Takes the next space-separated word of the value. */
static bool word(struct in *in, const char **w, size_t *wlen)
{
	const char *sp;

	if (!in->vlen)
		return false;
	*w = in->v;
	sp = memchr(in->v, ' ', in->vlen);
	*wlen = sp ? (size_t)(sp - in->v) : in->vlen;
	in->v += *wlen + (sp ? 1 : 0);
	in->vlen -= *wlen + (sp ? 1 : 0);
	return *wlen > 0;
}

static bool num(const char *s, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!n || n > 20)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return v <= max;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool uuid(const char *s, size_t n, struct grp_uuid *u)
{
	if (n != 32)
		return false;
	for (int i = 0; i < 16; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		u->b[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

/* Undoes put_escaped into out (size bytes, NUL-terminated). */
static bool unescape(const char *s, size_t n, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c < '!' || c > '~')
			return false;
		if (c == '%') {
			int hi = i + 2 < n ? hexval(s[i + 1]) : -1, lo = hi >= 0 ? hexval(s[i + 2]) : -1;

			if (hi < 0 || lo < 0 || (hi << 4 | lo) == 0)
				return false;
			c = hi << 4 | lo;
			i += 2;
		}
		if (o + 1 >= size)
			return false;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return true;
}

static bool num_field(struct in *in, uint64_t max, uint64_t *out)
{
	return num(in->v, in->vlen, max, out);
}

static int parse_member(struct in *in, struct grp_member *m)
{
	const char *w;
	size_t wl;
	uint64_t weight, flags;

	memset(m, 0, sizeof(*m));
	if (!word(in, &w, &wl) || !uuid(w, wl, &m->uuid) || grp_uuid_is_nil(&m->uuid) ||
	    !word(in, &w, &wl) || !num(w, wl, UINT32_MAX, &weight) || !word(in, &w, &wl) ||
	    !num(w, wl, 255, &flags) || !word(in, &w, &wl) ||
	    !unescape(w, wl, m->addr, sizeof(m->addr)) || !word(in, &w, &wl) ||
	    !unescape(w, wl, m->name, sizeof(m->name)) || in->vlen)
		return CORE_EPARSE;
	if (weight > GRP_WEIGHT_MAX || (flags & ~(uint64_t)GRP_MEMBER_FLAGS_KNOWN))
		return CORE_EMALFORMED;
	m->weight = (uint32_t)weight;
	m->flags = (uint8_t)flags;
	return 0;
}

/* The lines before the members. */
static int parse_head(struct in *in, const char *cluster, struct grp_durable *d)
{
	char name[FIELD_MAX];
	uint64_t v;
	int rc;

	if (in->len < sizeof(HEADER) - 1 || memcmp(in->b, HEADER, sizeof(HEADER) - 1))
		return CORE_EPARSE;
	in->pos = sizeof(HEADER) - 1;
	in->line = 1;
	if ((rc = field(in, "version")) || !num_field(in, UINT32_MAX, &v))
		return rc ? rc : CORE_EPARSE;
	if (v != GRP_STATE_VERSION)
		return CORE_EUNSUPP;
	if ((rc = field(in, "cluster")) || !unescape(in->v, in->vlen, name, sizeof(name)))
		return rc ? rc : CORE_EPARSE;
	if (strcmp(name, cluster))
		return CORE_ECORRUPT;
	if ((rc = field(in, "my_uuid")) || !uuid(in->v, in->vlen, &d->uuid) ||
	    (rc = field(in, "gen")) || !num_field(in, UINT64_MAX, &d->gen) ||
	    (rc = field(in, "term")) || !num_field(in, UINT64_MAX, &d->term) ||
	    (rc = field(in, "voted_for")) || !uuid(in->v, in->vlen, &d->voted_for) ||
	    (rc = field(in, "view_id")) || !num_field(in, UINT64_MAX, &d->view_id) ||
	    (rc = field(in, "flags")) || !num_field(in, UINT32_MAX, &v))
		return rc ? rc : CORE_EPARSE;
	d->flags = (uint32_t)v;
	return grp_uuid_is_nil(&d->uuid) ? CORE_EMALFORMED : 0;
}

int grp_state_parse(const char *buf, size_t len, const char *cluster, struct grp_durable *d,
		    unsigned *line)
{
	struct in in = {.b = buf, .len = len};
	bool self = false;
	uint64_t n;
	int rc;

	memset(d, 0, sizeof(*d));
	*line = 1;
	rc = parse_head(&in, cluster, d);
	while (!rc) {
		size_t save_pos = in.pos;
		unsigned save_line = in.line;

		rc = field(&in, "member");
		if (rc == CORE_EPARSE) { /* not a member: the end line */
			in.pos = save_pos;
			in.line = save_line;
			rc = 0;
			break;
		}
		if (!rc && d->n == GRP_MEMBERS_MAX)
			rc = CORE_EMALFORMED;
		if (!rc)
			rc = parse_member(&in, &d->m[d->n++]);
		if (!rc)
			self |= grp_uuid_eq(&d->m[d->n - 1].uuid, &d->uuid);
	}
	if (!rc && ((rc = field(&in, "end")) || !num_field(&in, GRP_MEMBERS_MAX, &n)))
		rc = rc ? rc : CORE_EPARSE;
	if (!rc && (n != d->n || !d->n || !self))
		rc = CORE_EMALFORMED;
	if (!rc && in.pos != in.len)
		rc = CORE_EPARSE; /* nothing may follow the end line */
	*line = in.line ? in.line : 1;
	return rc;
}

/* ---- files ---- */

static int neg_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* Makes a rename or an unlink in path's directory durable. */
static int sync_dir_of(const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	int fd, rc = 0;

	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return -ENAMETOOLONG;
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return neg_errno();
	if (fsync(fd) < 0)
		rc = neg_errno();
	close(fd);
	return rc;
}

int grp_state_load(const char *path, const char *cluster, struct grp_durable *d)
{
	char *buf = malloc(GRP_STATE_FILE_MAX + 1);
	ssize_t got;
	unsigned line;
	int fd, rc;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = neg_errno();
		free(buf);
		return rc;
	}
	do
		got = read(fd, buf, GRP_STATE_FILE_MAX + 1);
	while (got < 0 && errno == EINTR);
	rc = got < 0 ? neg_errno() : 0;
	close(fd);
	if (!rc && got > GRP_STATE_FILE_MAX)
		rc = CORE_ETOOBIG;
	if (!rc)
		rc = grp_state_parse(buf, (size_t)got, cluster, d, &line);
	if (rc == CORE_EPARSE || rc == CORE_EUNSUPP || rc == CORE_ETRUNC ||
	    rc == CORE_EMALFORMED || rc == CORE_ECORRUPT)
		CLOG_ERR("group: state file %s:%u: %s%s", path, line, core_strerror(rc),
			 rc == CORE_ECORRUPT ? " (another cluster's)" : "");
	else if (rc)
		CLOG_ERR("group: state file %s: %s", path, core_strerror(rc));
	free(buf);
	return rc;
}

static int write_all(int fd, const char *buf, size_t n)
{
	while (n) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w < 0 ? neg_errno() : -EIO;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

int grp_state_save(const char *path, const char *cluster, const struct grp_durable *d)
{
	char tmp[4096 + 8];
	char *buf = malloc(GRP_STATE_FILE_MAX);
	int len, fd, rc;

	if (!buf)
		return -ENOMEM;
	len = grp_state_format(d, cluster, buf, GRP_STATE_FILE_MAX);
	if (len < 0 || strlen(path) >= 4096) {
		free(buf);
		return len < 0 ? len : -ENAMETOOLONG;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	rc = fd < 0 ? neg_errno() : write_all(fd, buf, (size_t)len);
	if (!rc && fsync(fd) < 0)
		rc = neg_errno();
	if (fd >= 0 && close(fd) < 0 && !rc)
		rc = neg_errno();
	if (!rc && rename(tmp, path) < 0)
		rc = neg_errno();
	if (!rc)
		rc = sync_dir_of(path);
	else if (fd >= 0)
		(void)unlink(tmp);
	free(buf);
	return rc;
}

int grp_state_remove(const char *path)
{
	if (unlink(path) < 0)
		return errno == ENOENT ? 0 : neg_errno();
	return sync_dir_of(path);
}
