/* SPDX-License-Identifier: MPL-2.0 */
/* Bounded wire cursor: every read and write is checked; an overrun sets a sticky error. */
#ifndef CORE_WIRE_H
#define CORE_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A cursor over a caller-owned buffer (borrowed; must outlive the cursor). Reads past the end
 * return zeros and set err = CORE_ETRUNC; writes past the end write nothing and set
 * err = CORE_ESPACE. Once err is set every later call is a no-op, so a decoder may read a
 * whole structure and check err once. Multi-byte integers are network byte order.
 */
struct core_wire {
	uint8_t *buf;
	size_t len;
	size_t pos;
	int err;
};

void core_wire_init(struct core_wire *w, void *buf, size_t len);
/* A read-only cursor: the caller promises not to call the write functions. */
void core_wire_init_ro(struct core_wire *w, const void *buf, size_t len);

static inline size_t core_wire_avail(const struct core_wire *w)
{
	return w->err ? 0 : w->len - w->pos;
}

uint8_t core_wire_read_u8(struct core_wire *w);
uint16_t core_wire_read_u16(struct core_wire *w);
uint32_t core_wire_read_u32(struct core_wire *w);
uint64_t core_wire_read_u64(struct core_wire *w);
/* Copies n bytes to dst (zero-fills dst on overrun). */
void core_wire_read(struct core_wire *w, void *dst, size_t n);
/* Returns a pointer to the next n bytes and advances, or NULL (and sets err) on overrun. */
const uint8_t *core_wire_read_ptr(struct core_wire *w, size_t n);
void core_wire_skip(struct core_wire *w, size_t n);
/* Moves to an absolute offset <= len. */
void core_wire_seek(struct core_wire *w, size_t pos);

void core_wire_write_u8(struct core_wire *w, uint8_t v);
void core_wire_write_u16(struct core_wire *w, uint16_t v);
void core_wire_write_u32(struct core_wire *w, uint32_t v);
void core_wire_write_u64(struct core_wire *w, uint64_t v);
void core_wire_write(struct core_wire *w, const void *src, size_t n);
void core_wire_fill(struct core_wire *w, uint8_t v, size_t n);

#endif
