/* SPDX-License-Identifier: MPL-2.0 */
/* leasefile-roundtrip IN OUT: parses a dhcpd.leases file and writes it back in ISC's layout. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dhcp_leasefile.h"

#define ROUNDTRIP_IN_MAX ((size_t)4 << 30) /* 4 GiB: far above any real lease file */

struct out {
	char *buf;
	size_t len, cap;
};

static int out_reserve(struct out *o, size_t n)
{
	size_t cap = o->cap ? o->cap : 1 << 20;
	char *b;

	if (o->len + n <= o->cap)
		return 0;
	while (cap < o->len + n)
		cap *= 2;
	b = realloc(o->buf, cap);
	if (!b)
		return -ENOMEM;
	o->buf = b;
	o->cap = cap;
	return 0;
}

static int on_lease(void *ctx, const struct dhcp_lease_rec *r)
{
	struct out *o = ctx;

	if (out_reserve(o, DHCP_LEASEFILE_REC_MAX + 1) < 0)
		return -ENOMEM;
	o->len += dhcp_leasefile_format(r, o->buf + o->len, o->cap - o->len);
	return 0;
}

static char *read_file(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;
	char *buf = NULL;
	size_t got = 0;

	if (fd < 0 || fstat(fd, &sb) < 0 || (size_t)sb.st_size > ROUNDTRIP_IN_MAX)
		goto out;
	buf = malloc((size_t)sb.st_size + 1);
	while (buf && got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size - got);

		if (n <= 0) {
			free(buf);
			buf = NULL;
			break;
		}
		got += (size_t)n;
	}
	*len = got;
out:
	if (fd >= 0)
		close(fd);
	return buf;
}

static int write_file(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	if (fwrite(buf, 1, len, f) != len) {
		fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	struct dhcp_leasefile_stats st;
	struct out o = {0};
	char err[512];
	size_t len = 0;
	double t0;
	char *in;
	int rc;

	if (argc != 3) {
		fprintf(stderr, "usage: leasefile-roundtrip IN OUT\n");
		return 2;
	}
	in = read_file(argv[1], &len);
	if (!in || out_reserve(&o, DHCP_LEASEFILE_HEADER_MAX + 1) < 0) {
		fprintf(stderr, "%s: %s\n", argv[1], strerror(errno ? errno : ENOMEM));
		return 1;
	}
	o.len = dhcp_leasefile_header(o.buf, o.cap);
	t0 = now_ms();
	rc = dhcp_leasefile_parse(in, len, argv[1], on_lease, &o, &st, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "%s\n", err[0] ? err : "parse failed");
		return 1;
	}
	fprintf(stderr, "parsed and formatted %zu leases (%zu bytes) in %.1f ms CPU\n", st.leases,
		len, now_ms() - t0);
	if (st.tail_torn)
		fprintf(stderr, "%s\n", err);
	if (write_file(argv[2], o.buf, o.len) < 0) {
		fprintf(stderr, "%s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	printf("%zu\n", st.leases);
	free(in);
	free(o.buf);
	return 0;
}
