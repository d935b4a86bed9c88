/* SPDX-License-Identifier: MPL-2.0 */
/* Bounded wire cursor with a sticky error. */
#include <string.h>

#include "core_err.h"
#include "core_wire.h"

void core_wire_init(struct core_wire *w, void *buf, size_t len)
{
	w->buf = buf;
	w->len = buf ? len : 0;
	w->pos = 0;
	w->err = 0;
}

void core_wire_init_ro(struct core_wire *w, const void *buf, size_t len)
{
	/* The cast is contained here: read functions never write through buf. */
	core_wire_init(w, (void *)(uintptr_t)buf, len);
}

static bool want(struct core_wire *w, size_t n, int err)
{
	if (w->err)
		return false;
	if (n > w->len - w->pos) {
		w->err = err;
		return false;
	}
	return true;
}

const uint8_t *core_wire_read_ptr(struct core_wire *w, size_t n)
{
	const uint8_t *p;

	if (!want(w, n, CORE_ETRUNC))
		return NULL;
	p = w->buf + w->pos;
	w->pos += n;
	return p;
}

void core_wire_read(struct core_wire *w, void *dst, size_t n)
{
	const uint8_t *p = core_wire_read_ptr(w, n);

	if (p)
		memcpy(dst, p, n);
	else if (n)
		memset(dst, 0, n);
}

static uint64_t read_be(struct core_wire *w, size_t n)
{
	const uint8_t *p = core_wire_read_ptr(w, n);
	uint64_t v = 0;

	if (!p)
		return 0;
	for (size_t i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

uint8_t core_wire_read_u8(struct core_wire *w)
{
	return (uint8_t)read_be(w, 1);
}

uint16_t core_wire_read_u16(struct core_wire *w)
{
	return (uint16_t)read_be(w, 2);
}

uint32_t core_wire_read_u32(struct core_wire *w)
{
	return (uint32_t)read_be(w, 4);
}

uint64_t core_wire_read_u64(struct core_wire *w)
{
	return read_be(w, 8);
}

void core_wire_skip(struct core_wire *w, size_t n)
{
	(void)core_wire_read_ptr(w, n);
}

void core_wire_seek(struct core_wire *w, size_t pos)
{
	if (w->err)
		return;
	if (pos > w->len) {
		w->err = CORE_ETRUNC;
		return;
	}
	w->pos = pos;
}

void core_wire_write(struct core_wire *w, const void *src, size_t n)
{
	if (!want(w, n, CORE_ESPACE) || n == 0)
		return;
	memcpy(w->buf + w->pos, src, n);
	w->pos += n;
}

void core_wire_fill(struct core_wire *w, uint8_t v, size_t n)
{
	if (!want(w, n, CORE_ESPACE) || n == 0)
		return;
	memset(w->buf + w->pos, v, n);
	w->pos += n;
}

static void write_be(struct core_wire *w, uint64_t v, size_t n)
{
	uint8_t tmp[8];

	for (size_t i = 0; i < n; i++)
		tmp[n - 1 - i] = (uint8_t)(v >> (8 * i));
	core_wire_write(w, tmp, n);
}

void core_wire_write_u8(struct core_wire *w, uint8_t v)
{
	write_be(w, v, 1);
}

void core_wire_write_u16(struct core_wire *w, uint16_t v)
{
	write_be(w, v, 2);
}

void core_wire_write_u32(struct core_wire *w, uint32_t v)
{
	write_be(w, v, 4);
}

void core_wire_write_u64(struct core_wire *w, uint64_t v)
{
	write_be(w, v, 8);
}
