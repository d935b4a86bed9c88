/* SPDX-License-Identifier: MPL-2.0 */
/*
 * libFuzzer target: paceless-arbitrator's configuration. The input's first line is the -o
 * option string, the second the -a address, the rest a garbd config file (-c, through a
 * memfd). Whatever they say: an answer (0 or an error with a message), never a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arb_opts.h"

static char *line(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = (size_t)((nl ? nl : end) - *p);
	char *s = malloc(n + 1);

	if (!s)
		abort();
	memcpy(s, *p, n);
	s[n] = 0;
	*p = nl ? nl + 1 : end;
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	char *opts = line(&p, end), *addr = line(&p, end);
	char path[64], err[ARB_ERR_MAX];
	char *argv[] = {"paceless-arbitrator", "-o", opts, "-a", addr, "-c", path, NULL};
	struct arb_opts o;
	int fd = memfd_create("garb.cfg", 0);
	int rc;

	if (fd < 0)
		abort();
	if (end > p && write(fd, p, (size_t)(end - p)) != end - p)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	err[0] = 0;
	rc = arb_opts_parse(&o, 7, argv, err, sizeof(err));
	if (rc != 0 && !err[0])
		abort(); /* every refusal says why */
	if (rc == 0 && (o.n_peers > ARB_PEERS_MAX || !o.listen[0]))
		abort();
	arb_opts_free(&o);
	close(fd);
	free(opts);
	free(addr);
	return 0;
}
