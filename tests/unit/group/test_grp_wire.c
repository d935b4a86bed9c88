/* SPDX-License-Identifier: MPL-2.0 */
/* Unit tests for the group wire codec: round trips, the documented layout, every rejection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core_err.h"
#include "core_wire.h"
#include "grp_wire.h"

/* The decoder's outputs are large (~20 KiB and ~38 KiB): static, one test at a time. */
static struct grp_msg msg, out;
static struct grp_wire_scratch scratch;
static struct grp_config cfg_joint, cfg_big[GRP_WIRE_CFGS_MAX + 1];
static struct grp_member peer; /* who the transport's handshake says sent the frame */

static const uint8_t payload_hello[] = {'h', 'e', 'l', 'l', 'o'};
static uint8_t payload_300[300], payload_1000[1000];
static const uint8_t state_synced = GRP_SVC_SYNCED;

/* ---- messages ---- */

static void set_uuid(struct grp_uuid *u, uint8_t seed)
{
	for (int i = 0; i < 16; i++)
		u->b[i] = (uint8_t)(seed + i);
}

static void set_member(struct grp_member *mb, uint8_t seed, const char *name, const char *addr,
		       uint32_t weight)
{
	memset(mb, 0, sizeof(*mb));
	set_uuid(&mb->uuid, seed);
	snprintf(mb->name, sizeof(mb->name), "%s", name);
	snprintf(mb->addr, sizeof(mb->addr), "%s", addr);
	mb->weight = weight;
}

static const char name_63[] = "n23456789012345678901234567890123456789012345678901234567890123";
static const char addr_63[] = "[2001:db8::1]:4567-01234567890123456789012345678901234567890123";
_Static_assert(sizeof(name_63) == GRP_NAME_MAX, "name_63 is the longest name");
_Static_assert(sizeof(addr_63) == GRP_ADDR_MAX, "addr_63 is the longest address");

static void setup_fixtures(void)
{
	for (size_t i = 0; i < sizeof(payload_300); i++)
		payload_300[i] = (uint8_t)i;
	for (size_t i = 0; i < sizeof(payload_1000); i++)
		payload_1000[i] = (uint8_t)(i * 7);
	set_member(&peer, 0xa0, "peer", "192.0.2.9:4567", 1);
	memset(&cfg_joint, 0, sizeof(cfg_joint));
	cfg_joint.n = 3;
	set_member(&cfg_joint.m[0], 0x10, "node-a", "192.0.2.1:4567", 1);
	set_member(&cfg_joint.m[1], 0x20, "node-b", "192.0.2.2:4567", 2);
	set_member(&cfg_joint.m[2], 0x30, name_63, addr_63, 255);
	cfg_joint.m[2].flags = GRP_MEMBER_ARBITRATOR;
	cfg_joint.n_old = 2;
	set_member(&cfg_joint.old[0], 0x10, "node-a", "192.0.2.1:4567", 1);
	set_member(&cfg_joint.old[1], 0x40, "", "", 0);
	cfg_joint.m[0].origin_last = 17;
	cfg_joint.m[2].origin_last = UINT64_MAX;
	cfg_joint.old[0].origin_last = 17;
}

static struct grp_entry *add_entry(struct grp_msg *m, uint64_t term, uint64_t seq, uint8_t type,
				   uint32_t len, const uint8_t *data)
{
	struct grp_entry *e = &m->u.append.e[m->u.append.n];

	memset(e, 0, sizeof(*e));
	e->index = m->u.append.prev_index + m->u.append.n + 1;
	e->term = term;
	e->seq = seq;
	e->type = type;
	set_uuid(&e->origin, (uint8_t)(0x50 + m->u.append.n));
	e->origin_id = 1000 + m->u.append.n;
	e->len = len;
	e->data = data;
	m->u.append.n++;
	return e;
}

static void build_ping(struct grp_msg *m)
{
	m->type = GRP_MSG_PING;
	m->term = 7;
	set_member(&m->from, 0x10, "node-a", "192.0.2.1:4567", 3);
	m->u.ping.flags = GRP_PING_JOIN | GRP_PING_PRIMARY | GRP_PING_REPLY;
	set_uuid(&m->u.ping.leader, 0x20);
	m->u.ping.applied = GRP_NO_BASE;
	m->u.ping.seq = 99;
	m->u.ping.backlog = 7;
	m->u.ping.rec_index = 4243;
	m->u.ping.n_peers = 3;
	set_member(&m->u.ping.peers[0], 0x20, "node-b", "192.0.2.2:4567", 1);
	set_member(&m->u.ping.peers[1], 0x30, name_63, addr_63, 255);
	m->u.ping.peers[1].flags = GRP_MEMBER_ARBITRATOR;
	set_member(&m->u.ping.peers[2], 0x40, "", "", 0);
}

static void build_append(struct grp_msg *m)
{
	m->type = GRP_MSG_APPEND;
	m->term = 5;
	m->u.append.prev_index = 100;
	m->u.append.prev_term = 4;
	m->u.append.prev_seq = 49;
	m->u.append.commit = 98;
	m->u.append.paused = true;
	m->u.append.no_quorum = true;
	m->u.append.n = 0;
	add_entry(m, 4, 50, GRP_ENTRY_DATA, sizeof(payload_hello), payload_hello);
	add_entry(m, 5, 50, GRP_ENTRY_NOOP, 0, NULL);
	add_entry(m, 5, 51, GRP_ENTRY_DATA, 0, NULL);
	add_entry(m, 5, 51, GRP_ENTRY_STATE, 1, &state_synced);
	add_entry(m, 5, 51, GRP_ENTRY_CONFIG, 0, NULL)->cfg = &cfg_joint;
	add_entry(m, 5, 52, GRP_ENTRY_DATA, sizeof(payload_300), payload_300);
}

static void build_heartbeat(struct grp_msg *m)
{
	m->type = GRP_MSG_APPEND;
	m->term = UINT64_MAX;
	m->u.append.prev_index = UINT64_MAX;
	m->u.append.prev_term = UINT64_MAX;
	m->u.append.prev_seq = UINT64_MAX;
	m->u.append.commit = UINT64_MAX - 1;
	m->u.append.paused = false;
	m->u.append.n = 0;
}

static void build_submit(struct grp_msg *m)
{
	m->type = GRP_MSG_SUBMIT;
	m->term = 3;
	m->u.submit.n = 4;
	m->u.submit.s[0] = (struct grp_submit){.origin_id = 1,
					       .type = GRP_ENTRY_DATA,
					       .len = sizeof(payload_hello),
					       .data = payload_hello};
	m->u.submit.s[1] = (struct grp_submit){.origin_id = 2, .type = GRP_ENTRY_DATA};
	m->u.submit.s[2] = (struct grp_submit){
	    .origin_id = 3, .type = GRP_ENTRY_STATE, .len = 1, .data = &state_synced};
	m->u.submit.s[3] = (struct grp_submit){.origin_id = UINT64_MAX,
					       .type = GRP_ENTRY_DATA,
					       .len = sizeof(payload_1000),
					       .data = payload_1000};
}

enum fixture {
	FX_PING,
	FX_APPEND,
	FX_APPEND_CFG,
	FX_HEARTBEAT,
	FX_APPEND_ACK,
	FX_VOTE,
	FX_VOTE_ACK,
	FX_SUBMIT,
	FX_XFER,
	FX_COUNT,
};

static const char *const fixture_names[FX_COUNT] = {
    "ping",     "append", "append-config", "append-heartbeat", "append-ack", "vote", "vote-ack",
    "submit",   "xfer",
};

/* One valid message of each kind, every field set to something that shows if it is lost. */
static void build(enum fixture fx, struct grp_msg *m)
{
	memset(m, 0, sizeof(*m));
	switch (fx) {
	case FX_PING:
		build_ping(m);
		break;
	case FX_APPEND:
		build_append(m);
		break;
	case FX_APPEND_CFG:
		build_append(m);
		m->u.append.cfg = &cfg_joint;
		m->u.append.cfg_index = 97;
		break;
	case FX_HEARTBEAT:
		build_heartbeat(m);
		break;
	case FX_APPEND_ACK:
		m->type = GRP_MSG_APPEND_ACK;
		m->term = 9;
		m->u.append_ack.success = true;
		m->u.append_ack.match = 0x0102030405060708;
		m->u.append_ack.backlog = 0xfffffffe;
		break;
	case FX_VOTE:
		m->type = GRP_MSG_VOTE;
		m->term = 11;
		m->u.vote.pre = true;
		m->u.vote.last_index = 4242;
		m->u.vote.last_term = 10;
		break;
	case FX_VOTE_ACK:
		m->type = GRP_MSG_VOTE_ACK;
		m->term = 11;
		m->u.vote_ack.pre = false;
		m->u.vote_ack.granted = true;
		break;
	case FX_SUBMIT:
		build_submit(m);
		break;
	case FX_XFER:
		m->type = GRP_MSG_XFER;
		m->term = 12;
		set_member(&m->u.xfer.donor, 0x30, "donor", "[2001:db8::3]:4567", 2);
		m->u.xfer.first_index = 777;
		break;
	case FX_COUNT:
		break;
	}
}

/* ---- comparison ---- */

static void assert_member_eq(const struct grp_member *a, const struct grp_member *b)
{
	assert_memory_equal(a->uuid.b, b->uuid.b, 16);
	assert_string_equal(a->name, b->name);
	assert_string_equal(a->addr, b->addr);
	assert_int_equal(a->weight, b->weight);
	assert_int_equal(a->flags, b->flags);
}

static void assert_config_eq(const struct grp_config *a, const struct grp_config *b)
{
	assert_int_equal(a->n, b->n);
	for (uint32_t i = 0; i < a->n; i++) {
		assert_member_eq(&a->m[i], &b->m[i]);
		assert_int_equal(a->m[i].origin_last, b->m[i].origin_last);
	}
	assert_int_equal(a->n_old, b->n_old);
	for (uint32_t i = 0; i < a->n_old; i++) {
		assert_member_eq(&a->old[i], &b->old[i]);
		assert_int_equal(a->old[i].origin_last, b->old[i].origin_last);
	}
}

static void assert_bytes_eq(uint32_t len_a, const uint8_t *a, uint32_t len_b, const uint8_t *b)
{
	assert_int_equal(len_a, len_b);
	if (len_a)
		assert_memory_equal(a, b, len_a);
}

static void assert_entry_eq(const struct grp_entry *a, const struct grp_entry *b)
{
	assert_int_equal(a->index, b->index);
	assert_int_equal(a->term, b->term);
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->type, b->type);
	assert_memory_equal(a->origin.b, b->origin.b, 16);
	assert_int_equal(a->origin_id, b->origin_id);
	assert_bytes_eq(a->len, a->data, b->len, b->data);
	if (a->type == GRP_ENTRY_CONFIG) {
		assert_non_null(b->cfg);
		assert_config_eq(a->cfg, b->cfg);
	} else {
		assert_null(b->cfg);
	}
}

/* Every field of the type's union member; from is compared by the caller. */
static void assert_msg_eq(const struct grp_msg *a, const struct grp_msg *b)
{
	assert_int_equal(a->type, b->type);
	assert_int_equal(a->term, b->term);
	switch (a->type) {
	case GRP_MSG_PING:
		assert_int_equal(a->u.ping.flags, b->u.ping.flags);
		assert_memory_equal(a->u.ping.leader.b, b->u.ping.leader.b, 16);
		assert_int_equal(a->u.ping.applied, b->u.ping.applied);
		assert_int_equal(a->u.ping.seq, b->u.ping.seq);
		assert_int_equal(a->u.ping.backlog, b->u.ping.backlog);
		assert_int_equal(a->u.ping.rec_index, b->u.ping.rec_index);
		assert_int_equal(a->u.ping.n_peers, b->u.ping.n_peers);
		for (uint32_t i = 0; i < a->u.ping.n_peers; i++)
			assert_member_eq(&a->u.ping.peers[i], &b->u.ping.peers[i]);
		break;
	case GRP_MSG_APPEND:
		assert_int_equal(a->u.append.prev_index, b->u.append.prev_index);
		assert_int_equal(a->u.append.prev_term, b->u.append.prev_term);
		assert_int_equal(a->u.append.prev_seq, b->u.append.prev_seq);
		assert_int_equal(a->u.append.commit, b->u.append.commit);
		assert_int_equal(a->u.append.paused, b->u.append.paused);
		assert_int_equal(a->u.append.no_quorum, b->u.append.no_quorum);
		assert_int_equal(a->u.append.cfg_index, b->u.append.cfg_index);
		if (a->u.append.cfg) {
			assert_non_null(b->u.append.cfg);
			assert_config_eq(a->u.append.cfg, b->u.append.cfg);
		} else {
			assert_null(b->u.append.cfg);
		}
		assert_int_equal(a->u.append.n, b->u.append.n);
		for (uint32_t i = 0; i < a->u.append.n; i++)
			assert_entry_eq(&a->u.append.e[i], &b->u.append.e[i]);
		break;
	case GRP_MSG_APPEND_ACK:
		assert_int_equal(a->u.append_ack.success, b->u.append_ack.success);
		assert_int_equal(a->u.append_ack.match, b->u.append_ack.match);
		assert_int_equal(a->u.append_ack.backlog, b->u.append_ack.backlog);
		break;
	case GRP_MSG_VOTE:
		assert_int_equal(a->u.vote.pre, b->u.vote.pre);
		assert_int_equal(a->u.vote.last_index, b->u.vote.last_index);
		assert_int_equal(a->u.vote.last_term, b->u.vote.last_term);
		break;
	case GRP_MSG_VOTE_ACK:
		assert_int_equal(a->u.vote_ack.pre, b->u.vote_ack.pre);
		assert_int_equal(a->u.vote_ack.granted, b->u.vote_ack.granted);
		break;
	case GRP_MSG_SUBMIT:
		assert_int_equal(a->u.submit.n, b->u.submit.n);
		for (uint32_t i = 0; i < a->u.submit.n; i++) {
			assert_int_equal(a->u.submit.s[i].origin_id, b->u.submit.s[i].origin_id);
			assert_int_equal(a->u.submit.s[i].type, b->u.submit.s[i].type);
			assert_bytes_eq(a->u.submit.s[i].len, a->u.submit.s[i].data,
					b->u.submit.s[i].len, b->u.submit.s[i].data);
		}
		break;
	case GRP_MSG_XFER:
		assert_member_eq(&a->u.xfer.donor, &b->u.xfer.donor);
		assert_int_equal(a->u.xfer.first_index, b->u.xfer.first_index);
		break;
	default:
		fail_msg("unexpected type %u", a->type);
	}
}

/* ---- helpers ---- */

/* Encodes m into a fresh buffer of exactly grp_wire_encoded_len() bytes (freed by the caller). */
static uint8_t *encode_exact(const struct grp_msg *m, size_t *len)
{
	struct core_wire w;
	uint8_t *buf;

	*len = grp_wire_encoded_len(m);
	buf = malloc(*len);
	assert_non_null(buf);
	core_wire_init(&w, buf, *len);
	assert_int_equal(grp_wire_encode(m, &w), 0);
	assert_int_equal(w.pos, *len);
	assert_int_equal(w.err, 0);
	return buf;
}

static int decode(const void *buf, size_t len)
{
	return grp_wire_decode(buf, len, &peer, &out, &scratch);
}

static bool points_into(const uint8_t *p, const uint8_t *buf, size_t len)
{
	return p >= buf && p < buf + len;
}

static bool in_scratch(const void *p)
{
	return p >= (const void *)&scratch && p < (const void *)(&scratch + 1);
}

static void assert_borrowed(const struct grp_msg *m, const uint8_t *buf, size_t len)
{
	if (m->type == GRP_MSG_APPEND && m->u.append.cfg)
		assert_true(in_scratch(m->u.append.cfg));
	if (m->type == GRP_MSG_APPEND) {
		for (uint32_t i = 0; i < m->u.append.n; i++) {
			const struct grp_entry *e = &m->u.append.e[i];

			if (e->len)
				assert_true(points_into(e->data, buf, len));
			else
				assert_null(e->data);
			if (e->cfg)
				assert_true(in_scratch(e->cfg));
		}
	}
	if (m->type == GRP_MSG_SUBMIT) {
		for (uint32_t i = 0; i < m->u.submit.n; i++) {
			if (m->u.submit.s[i].len)
				assert_true(points_into(m->u.submit.s[i].data, buf, len));
			else
				assert_null(m->u.submit.s[i].data);
		}
	}
}

static void roundtrip(const struct grp_msg *m)
{
	size_t len;
	uint8_t *buf = encode_exact(m, &len);

	assert_int_equal(decode(buf, len), 0);
	assert_msg_eq(m, &out);
	if (m->type == GRP_MSG_PING)
		assert_member_eq(&m->from, &out.from);
	else
		assert_member_eq(&peer, &out.from);
	assert_borrowed(&out, buf, len);
	free(buf);
}

/* ---- hand-built frames, following the layout in grp_wire.h (independent of the encoder) ---- */

static uint8_t fbuf[1 << 16];
static struct core_wire fw;

static void fb_begin(uint8_t type, uint64_t term)
{
	core_wire_init(&fw, fbuf, sizeof(fbuf));
	core_wire_write_u32(&fw, 0); /* fb_end() fills in the length */
	core_wire_write_u8(&fw, GRP_WIRE_VERSION);
	core_wire_write_u8(&fw, type);
	core_wire_write_u16(&fw, 0);
	core_wire_write_u64(&fw, term);
}

static size_t fb_end(void)
{
	size_t len = fw.pos;

	assert_int_equal(fw.err, 0);
	fbuf[0] = (uint8_t)(len >> 24);
	fbuf[1] = (uint8_t)(len >> 16);
	fbuf[2] = (uint8_t)(len >> 8);
	fbuf[3] = (uint8_t)len;
	return len;
}

static int fb_decode(void)
{
	size_t len = fb_end();

	return decode(fbuf, len);
}

static void fb_uuid(uint8_t seed)
{
	struct grp_uuid u;

	set_uuid(&u, seed);
	core_wire_write(&fw, u.b, 16);
}

static void fb_str(size_t len, const char *s)
{
	core_wire_write_u8(&fw, (uint8_t)len);
	core_wire_write(&fw, s, len);
}

static void fb_member_raw(uint8_t seed, size_t name_len, const char *name, size_t addr_len,
			  const char *addr, uint16_t weight)
{
	fb_uuid(seed);
	fb_str(name_len, name);
	fb_str(addr_len, addr);
	core_wire_write_u16(&fw, weight);
}

static void fb_member_of(const struct grp_member *mb)
{
	core_wire_write(&fw, mb->uuid.b, 16);
	fb_str(strlen(mb->name), mb->name);
	fb_str(strlen(mb->addr), mb->addr);
	core_wire_write_u8(&fw, mb->flags);
	core_wire_write_u8(&fw, (uint8_t)mb->weight);
}

static void fb_member(uint8_t seed, uint16_t weight)
{
	fb_member_raw(seed, 4, "node", 14, "192.0.2.1:4567", weight);
}

static void fb_append_hdr(uint64_t prev_index, uint64_t prev_term, uint64_t prev_seq,
			  uint8_t paused, uint16_t n)
{
	core_wire_write_u64(&fw, prev_index);
	core_wire_write_u64(&fw, prev_term);
	core_wire_write_u64(&fw, prev_seq);
	core_wire_write_u64(&fw, 0);
	core_wire_write_u8(&fw, paused);
	core_wire_write_u16(&fw, n);
}

static void fb_entry_hdr(uint64_t index, uint64_t term, uint64_t seq, uint8_t type)
{
	core_wire_write_u64(&fw, index);
	core_wire_write_u64(&fw, term);
	core_wire_write_u64(&fw, seq);
	core_wire_write_u8(&fw, type);
	fb_uuid(0x70);
	core_wire_write_u64(&fw, 1);
}

static void fb_entry(uint64_t index, uint64_t term, uint64_t seq, uint8_t type, uint32_t len,
		     uint8_t byte)
{
	fb_entry_hdr(index, term, seq, type);
	core_wire_write_u32(&fw, len);
	core_wire_fill(&fw, byte, len);
}

/* A configuration whose members' uuids come from the seeds (0 ends each list). */
static void fb_config(const uint8_t *m_seeds, const uint8_t *old_seeds)
{
	uint8_t n = 0, n_old = 0;

	while (m_seeds[n])
		n++;
	while (old_seeds[n_old])
		n_old++;
	core_wire_write_u8(&fw, n);
	for (uint8_t i = 0; i < n; i++) {
		fb_member(m_seeds[i], 1);
		core_wire_write_u64(&fw, 100 + i); /* origin_last */
	}
	core_wire_write_u8(&fw, n_old);
	for (uint8_t i = 0; i < n_old; i++) {
		fb_member(old_seeds[i], 1);
		core_wire_write_u64(&fw, 200 + i);
	}
}

/* An APPEND at term 5 after (10, 3) with one CONFIG entry. */
static int config_frame(const uint8_t *m_seeds, const uint8_t *old_seeds)
{
	fb_begin(GRP_MSG_APPEND, 5);
	fb_append_hdr(10, 3, 7, 0, 1);
	fb_entry_hdr(11, 5, 7, GRP_ENTRY_CONFIG);
	fb_config(m_seeds, old_seeds);
	return fb_decode();
}

/* An APPEND at term 5 after (10, 3) with one entry of this type and payload. */
static int entry_frame(uint8_t type, uint64_t seq, uint32_t len, uint8_t byte)
{
	fb_begin(GRP_MSG_APPEND, 5);
	fb_append_hdr(10, 3, 7, 0, 1);
	fb_entry(11, 4, seq, type, len, byte);
	return fb_decode();
}

/* A PING whose sender record is one member with these strings and weight. */
static int ping_member_frame(size_t name_len, const char *name, size_t addr_len,
			     const char *addr, uint16_t weight)
{
	fb_begin(GRP_MSG_PING, 1);
	fb_member_raw(0x10, name_len, name, addr_len, addr, weight);
	core_wire_write_u8(&fw, 0);
	fb_uuid(0);
	core_wire_write_u64(&fw, 0);
	core_wire_write_u64(&fw, 0);
	core_wire_write_u32(&fw, 0);
	core_wire_write_u64(&fw, 0); /* rec_index */
	core_wire_write_u8(&fw, 0);
	return fb_decode();
}

/* ---- round trips ---- */

static void test_roundtrip_every_type(void **state)
{
	(void)state;
	for (int fx = 0; fx < FX_COUNT; fx++) {
		build((enum fixture)fx, &msg);
		roundtrip(&msg);
	}
}

static void test_roundtrip_limits(void **state)
{
	(void)state;
	/* PING with GRP_MEMBERS_MAX peers, duplicates allowed in gossip. */
	build(FX_PING, &msg);
	msg.u.ping.n_peers = GRP_MEMBERS_MAX;
	for (uint32_t i = 0; i < GRP_MEMBERS_MAX; i++)
		set_member(&msg.u.ping.peers[i], (uint8_t)(i % 5), name_63, addr_63, i * 8);
	roundtrip(&msg);

	/* APPEND with GRP_ENTRIES_PER_MSG entries, GRP_WIRE_CFGS_MAX of them full joint configs. */
	memset(&msg, 0, sizeof(msg));
	msg.type = GRP_MSG_APPEND;
	msg.term = 2;
	for (uint32_t c = 0; c < GRP_WIRE_CFGS_MAX; c++) {
		cfg_big[c].n = GRP_MEMBERS_MAX;
		cfg_big[c].n_old = GRP_MEMBERS_MAX;
		for (uint32_t i = 0; i < GRP_MEMBERS_MAX; i++) {
			set_member(&cfg_big[c].m[i], (uint8_t)(i * 8), name_63, addr_63, 255);
			set_member(&cfg_big[c].old[i], (uint8_t)(i * 8 + 1), "o", "a", c);
			cfg_big[c].m[i].origin_last = (uint64_t)i << 40 | c;
		}
	}
	for (uint32_t i = 0, seq = 0; i < GRP_ENTRIES_PER_MSG; i++) {
		if (i % 64 == 0)
			add_entry(&msg, 2, seq, GRP_ENTRY_CONFIG, 0, NULL)->cfg = &cfg_big[i / 64];
		else
			add_entry(&msg, 2, ++seq, GRP_ENTRY_DATA, 1, payload_300 + i);
	}
	roundtrip(&msg);

	/* SUBMIT with GRP_SUBMITS_PER_MSG submissions. */
	memset(&msg, 0, sizeof(msg));
	msg.type = GRP_MSG_SUBMIT;
	msg.u.submit.n = GRP_SUBMITS_PER_MSG;
	for (uint32_t i = 0; i < GRP_SUBMITS_PER_MSG; i++)
		msg.u.submit.s[i] = (struct grp_submit){
		    .origin_id = i + 1, .type = GRP_ENTRY_DATA, .len = i, .data = payload_1000};
	roundtrip(&msg);
}

static void test_roundtrip_max_payload(void **state)
{
	uint8_t *big = calloc(GRP_PAYLOAD_MAX, 1);

	(void)state;
	assert_non_null(big);
	big[0] = 1;
	big[GRP_PAYLOAD_MAX - 1] = 2;
	memset(&msg, 0, sizeof(msg));
	msg.type = GRP_MSG_APPEND;
	msg.term = 1;
	add_entry(&msg, 1, 1, GRP_ENTRY_DATA, GRP_PAYLOAD_MAX, big);
	add_entry(&msg, 1, 2, GRP_ENTRY_DATA, GRP_PAYLOAD_MAX, big);
	roundtrip(&msg);
	free(big);
}

/* grp_proto.c copies configuration members into PING peers and XFER donors. */
static void test_origin_last_only_in_config(void **state)
{
	size_t len, len0;
	uint8_t *buf;

	(void)state;
	build(FX_PING, &msg);
	len0 = grp_wire_encoded_len(&msg);
	msg.from.origin_last = 5;
	msg.u.ping.peers[0].origin_last = 6;
	buf = encode_exact(&msg, &len);
	assert_int_equal(len, len0);
	assert_int_equal(decode(buf, len), 0);
	assert_int_equal(out.from.origin_last, 0);
	assert_int_equal(out.u.ping.peers[0].origin_last, 0);
	free(buf);
	build(FX_XFER, &msg);
	msg.u.xfer.donor.origin_last = 7;
	buf = encode_exact(&msg, &len);
	assert_int_equal(decode(buf, len), 0);
	assert_int_equal(out.u.xfer.donor.origin_last, 0);
	free(buf);
}

static void test_from(void **state)
{
	size_t len;
	uint8_t *buf;

	(void)state;
	/* Not PING: the handshake's identity, or zeros without one. */
	build(FX_VOTE, &msg);
	buf = encode_exact(&msg, &len);
	assert_int_equal(grp_wire_decode(buf, len, NULL, &out, &scratch), 0);
	assert_true(grp_uuid_is_nil(&out.from.uuid));
	assert_string_equal(out.from.name, "");
	assert_int_equal(out.from.weight, 0);
	free(buf);
	/* PING: the record on the wire, even when the handshake said something else. */
	build(FX_PING, &msg);
	buf = encode_exact(&msg, &len);
	assert_int_equal(grp_wire_decode(buf, len, &peer, &out, &scratch), 0);
	assert_member_eq(&msg.from, &out.from);
	assert_int_equal(grp_wire_decode(buf, len, NULL, &out, &scratch), 0);
	assert_member_eq(&msg.from, &out.from);
	free(buf);
}

/* The encoder writes exactly the layout documented in grp_wire.h. */
static void test_layout(void **state)
{
	static const uint8_t vote[] = {
	    0x00, 0x00, 0x00, 0x21, 0x03, 0x04, 0x00, 0x00, /* length 33, v3, VOTE, reserved */
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0b, /* term 11 */
	    0x01,                                           /* pre */
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x92, /* last_index 4242 */
	    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, /* last_term 10 */
	};
	size_t len;
	uint8_t *buf;

	(void)state;
	build(FX_VOTE, &msg);
	buf = encode_exact(&msg, &len);
	assert_int_equal(len, sizeof(vote));
	assert_memory_equal(buf, vote, sizeof(vote));
	free(buf);

	/* An APPEND of a STATE entry and a joint CONFIG entry, built by hand. */
	memset(&msg, 0, sizeof(msg));
	msg.type = GRP_MSG_APPEND;
	msg.term = 5;
	msg.u.append.prev_index = 10;
	msg.u.append.prev_term = 3;
	msg.u.append.prev_seq = 7;
	add_entry(&msg, 4, 7, GRP_ENTRY_STATE, 1, &state_synced);
	add_entry(&msg, 5, 7, GRP_ENTRY_CONFIG, 0, NULL)->cfg = &cfg_joint;
	buf = encode_exact(&msg, &len);
	fb_begin(GRP_MSG_APPEND, 5);
	fb_append_hdr(10, 3, 7, 0, 2);
	for (uint32_t i = 0; i < 2; i++) {
		const struct grp_entry *e = &msg.u.append.e[i];

		core_wire_write_u64(&fw, e->index);
		core_wire_write_u64(&fw, e->term);
		core_wire_write_u64(&fw, e->seq);
		core_wire_write_u8(&fw, e->type);
		core_wire_write(&fw, e->origin.b, 16);
		core_wire_write_u64(&fw, e->origin_id);
		if (i == 0) {
			core_wire_write_u32(&fw, 1);
			core_wire_write_u8(&fw, GRP_SVC_SYNCED);
			continue;
		}
		core_wire_write_u8(&fw, (uint8_t)cfg_joint.n);
		for (uint32_t j = 0; j < cfg_joint.n; j++) {
			fb_member_of(&cfg_joint.m[j]);
			core_wire_write_u64(&fw, cfg_joint.m[j].origin_last);
		}
		core_wire_write_u8(&fw, (uint8_t)cfg_joint.n_old);
		for (uint32_t j = 0; j < cfg_joint.n_old; j++) {
			fb_member_of(&cfg_joint.old[j]);
			core_wire_write_u64(&fw, cfg_joint.old[j].origin_last);
		}
	}
	assert_int_equal(fb_end(), len);
	assert_memory_equal(buf, fbuf, len);
	free(buf);
}

/* ---- encode ---- */

static void test_encode_space(void **state)
{
	uint8_t buf[4096];
	struct core_wire w;
	size_t len, len2;

	(void)state;
	build(FX_APPEND, &msg);
	len = grp_wire_encoded_len(&msg);
	/* One byte short: nothing written, the cursor's sticky error set and returned again. */
	core_wire_init(&w, buf, len - 1);
	assert_int_equal(grp_wire_encode(&msg, &w), CORE_ESPACE);
	assert_int_equal(w.pos, 0);
	assert_int_equal(w.err, CORE_ESPACE);
	build(FX_VOTE_ACK, &msg);
	assert_int_equal(grp_wire_encode(&msg, &w), CORE_ESPACE);

	/* Two frames back to back; each decodes on its own. */
	build(FX_APPEND, &msg);
	core_wire_init(&w, buf, sizeof(buf));
	assert_int_equal(grp_wire_encode(&msg, &w), 0);
	build(FX_XFER, &msg);
	len2 = grp_wire_encoded_len(&msg);
	assert_int_equal(grp_wire_encode(&msg, &w), 0);
	assert_int_equal(w.pos, len + len2);
	assert_int_equal(decode(buf + len, len2), 0);
	assert_int_equal(out.type, GRP_MSG_XFER);
	assert_int_equal(decode(buf, len), 0);
	assert_int_equal(out.type, GRP_MSG_APPEND);
}

static void test_encode_too_big(void **state)
{
	uint8_t buf[64];
	uint8_t *big = malloc(GRP_PAYLOAD_MAX);
	struct core_wire w;

	(void)state;
	assert_non_null(big);
	/* More CONFIG entries than a receiver has scratch for: refused, cursor untouched. */
	memset(&msg, 0, sizeof(msg));
	msg.type = GRP_MSG_APPEND;
	msg.term = 1;
	for (uint32_t i = 0; i <= GRP_WIRE_CFGS_MAX; i++)
		add_entry(&msg, 1, 0, GRP_ENTRY_CONFIG, 0, NULL)->cfg = &cfg_joint;
	core_wire_init(&w, buf, sizeof(buf));
	assert_int_equal(grp_wire_encode(&msg, &w), CORE_ETOOBIG);
	assert_int_equal(w.pos, 0);
	assert_int_equal(w.err, 0);

	/* Three maximal payloads exceed GRP_WIRE_FRAME_MAX. */
	memset(&msg, 0, sizeof(msg));
	msg.type = GRP_MSG_SUBMIT;
	msg.u.submit.n = 3;
	for (uint32_t i = 0; i < 3; i++)
		msg.u.submit.s[i] = (struct grp_submit){.origin_id = i + 1,
							.type = GRP_ENTRY_DATA,
							.len = GRP_PAYLOAD_MAX,
							.data = big};
	assert_true(grp_wire_encoded_len(&msg) > GRP_WIRE_FRAME_MAX);
	assert_int_equal(grp_wire_encode(&msg, &w), CORE_ETOOBIG);
	assert_int_equal(w.pos, 0);
	assert_int_equal(w.err, 0);
	free(big);
}

/* ---- frame_len ---- */

static void test_frame_len(void **state)
{
	uint8_t b[4] = {0, 0, 0, 0};
	size_t n = 0;

	(void)state;
	for (size_t len = 0; len < 4; len++)
		assert_int_equal(grp_wire_frame_len(b, len, &n), CORE_ETRUNC);
	assert_int_equal(grp_wire_frame_len(NULL, 0, &n), CORE_ETRUNC);
	b[3] = GRP_WIRE_HDR_LEN - 1;
	assert_int_equal(grp_wire_frame_len(b, 4, &n), CORE_EMALFORMED);
	b[3] = GRP_WIRE_HDR_LEN;
	assert_int_equal(grp_wire_frame_len(b, 4, &n), 0);
	assert_int_equal(n, GRP_WIRE_HDR_LEN);
	b[0] = (uint8_t)(GRP_WIRE_FRAME_MAX >> 24);
	b[1] = (uint8_t)(GRP_WIRE_FRAME_MAX >> 16);
	b[2] = (uint8_t)(GRP_WIRE_FRAME_MAX >> 8);
	b[3] = (uint8_t)GRP_WIRE_FRAME_MAX;
	assert_int_equal(grp_wire_frame_len(b, 4, &n), 0);
	assert_int_equal(n, GRP_WIRE_FRAME_MAX);
	b[3]++;
	assert_int_equal(grp_wire_frame_len(b, 4, &n), CORE_ETOOBIG);
	memset(b, 0xff, sizeof(b));
	assert_int_equal(grp_wire_frame_len(b, 4, &n), CORE_ETOOBIG);

	/* A whole encoded frame: its own length, whatever follows it. */
	build(FX_PING, &msg);
	{
		size_t len;
		uint8_t *buf = encode_exact(&msg, &len);

		assert_int_equal(grp_wire_frame_len(buf, 4, &n), 0);
		assert_int_equal(n, len);
		assert_int_equal(grp_wire_frame_len(buf, len, &n), 0);
		assert_int_equal(n, len);
		free(buf);
	}
}

/* ---- decode: the frame ---- */

/* Every prefix of every fixture fails; ASan checks nothing past the prefix is read. */
static void test_truncated_every_offset(void **state)
{
	(void)state;
	for (int fx = 0; fx < FX_COUNT; fx++) {
		size_t len;
		uint8_t *buf;

		build((enum fixture)fx, &msg);
		buf = encode_exact(&msg, &len);
		for (size_t k = 0; k < len; k++) {
			uint8_t *cut = malloc(k ? k : 1);

			assert_non_null(cut);
			memcpy(cut, buf, k);
			/* The length field says more than there is: wait for the rest. */
			assert_int_equal(decode(cut, k), CORE_ETRUNC);
			/* The length field lies to match: the body runs out. */
			if (k >= 4) {
				cut[0] = (uint8_t)(k >> 24);
				cut[1] = (uint8_t)(k >> 16);
				cut[2] = (uint8_t)(k >> 8);
				cut[3] = (uint8_t)k;
				assert_int_equal(decode(cut, k), CORE_EMALFORMED);
			}
			free(cut);
		}
		free(buf);
	}
}

static void test_frame_length_mismatch(void **state)
{
	uint8_t buf[256];
	struct core_wire w;
	size_t len;

	(void)state;
	build(FX_APPEND_ACK, &msg);
	core_wire_init(&w, buf, sizeof(buf));
	assert_int_equal(grp_wire_encode(&msg, &w), 0);
	len = w.pos;
	buf[len] = 0;
	/* len beyond the frame: more than one frame passed in. */
	assert_int_equal(decode(buf, len + 1), CORE_EMALFORMED);
	/* The frame claims the extra byte: trailing bytes after the body. */
	buf[3]++;
	assert_int_equal(decode(buf, len + 1), CORE_EMALFORMED);
	buf[3]--;
	assert_int_equal(decode(buf, len), 0);
	/* Declared length above GRP_WIRE_FRAME_MAX or below the header. */
	buf[0] = 0xff;
	assert_int_equal(decode(buf, len), CORE_ETOOBIG);
	memset(buf, 0, 4);
	buf[3] = GRP_WIRE_HDR_LEN - 1;
	assert_int_equal(decode(buf, len), CORE_EMALFORMED);
}

static void test_header_fields(void **state)
{
	uint8_t buf[256];
	struct core_wire w;
	size_t len;

	(void)state;
	build(FX_VOTE, &msg);
	core_wire_init(&w, buf, sizeof(buf));
	assert_int_equal(grp_wire_encode(&msg, &w), 0);
	len = w.pos;
	buf[4] = 0;
	assert_int_equal(decode(buf, len), CORE_EUNSUPP);
	buf[4] = GRP_WIRE_VERSION - 1; /* version 1: PING without rec_index */
	assert_int_equal(decode(buf, len), CORE_EUNSUPP);
	buf[4] = GRP_WIRE_VERSION + 1;
	assert_int_equal(decode(buf, len), CORE_EUNSUPP);
	buf[4] = GRP_WIRE_VERSION;
	buf[5] = 0;
	assert_int_equal(decode(buf, len), CORE_EMALFORMED);
	buf[5] = GRP_MSG_TYPE_MAX + 1;
	assert_int_equal(decode(buf, len), CORE_EMALFORMED);
	buf[5] = 0xff;
	assert_int_equal(decode(buf, len), CORE_EMALFORMED);
	buf[5] = GRP_MSG_VOTE;
	buf[7] = 1;
	assert_int_equal(decode(buf, len), CORE_EMALFORMED);
	buf[6] = 0x80;
	buf[7] = 0;
	assert_int_equal(decode(buf, len), CORE_EMALFORMED);
	buf[6] = 0;
	assert_int_equal(decode(buf, len), 0);
}

/* ---- decode: bools and flags ---- */

static void test_bools(void **state)
{
	(void)state;
	for (uint8_t v = 0; v < 4; v++) {
		int want = v <= 1 ? 0 : CORE_EMALFORMED;

		fb_begin(GRP_MSG_APPEND_ACK, 1);
		core_wire_write_u8(&fw, v);
		core_wire_write_u64(&fw, 0);
		core_wire_write_u32(&fw, 0);
		assert_int_equal(fb_decode(), want);

		fb_begin(GRP_MSG_VOTE, 1);
		core_wire_write_u8(&fw, v);
		core_wire_write_u64(&fw, 0);
		core_wire_write_u64(&fw, 0);
		assert_int_equal(fb_decode(), want);

		fb_begin(GRP_MSG_VOTE_ACK, 1);
		core_wire_write_u8(&fw, v);
		core_wire_write_u8(&fw, 0);
		assert_int_equal(fb_decode(), want);

		fb_begin(GRP_MSG_VOTE_ACK, 1);
		core_wire_write_u8(&fw, 1);
		core_wire_write_u8(&fw, v);
		assert_int_equal(fb_decode(), want);

	}
	/* APPEND's flags byte: three known bits, the rest malformed (test_append_cfg has 0x04). */
	for (unsigned v = 0; v < 256; v++) {
		if (v & GRP_WIRE_APPEND_CFG)
			continue;
		fb_begin(GRP_MSG_APPEND, 1);
		fb_append_hdr(0, 0, 0, (uint8_t)v, 0);
		assert_int_equal(fb_decode(), v <= 3 ? 0 : CORE_EMALFORMED);
		if (v <= 3) {
			assert_int_equal(out.u.append.paused, (v & 1) != 0);
			assert_int_equal(out.u.append.no_quorum, (v & 2) != 0);
		}
	}
}

static void test_ping_flags(void **state)
{
	size_t len;
	uint8_t *buf;
	size_t flags_at;

	(void)state;
	build(FX_PING, &msg);
	buf = encode_exact(&msg, &len);
	/* header, then from: uuid, name, addr, weight */
	flags_at = GRP_WIRE_HDR_LEN + 16 + 1 + strlen(msg.from.name) + 1 + strlen(msg.from.addr);
	flags_at += 2;
	assert_int_equal(buf[flags_at], msg.u.ping.flags);
	for (unsigned bit = 0; bit < 8; bit++) {
		buf[flags_at] = (uint8_t)(1u << bit);
		assert_int_equal(decode(buf, len), bit < 6 ? 0 : CORE_EMALFORMED);
	}
	free(buf);
}

/* ---- decode: members and strings ---- */

static void test_strings(void **state)
{
	char s[256];

	(void)state;
	memset(s, 'x', sizeof(s));
	assert_int_equal(ping_member_frame(0, s, 0, s, 1), 0);
	assert_int_equal(ping_member_frame(GRP_NAME_MAX - 1, s, GRP_ADDR_MAX - 1, s, 1), 0);
	assert_int_equal(strlen(out.from.name), GRP_NAME_MAX - 1);
	assert_int_equal(strlen(out.from.addr), GRP_ADDR_MAX - 1);
	assert_int_equal(ping_member_frame(GRP_NAME_MAX, s, 4, s, 1), CORE_ETOOBIG);
	assert_int_equal(ping_member_frame(255, s, 4, s, 1), CORE_ETOOBIG);
	assert_int_equal(ping_member_frame(4, s, GRP_ADDR_MAX, s, 1), CORE_ETOOBIG);
	assert_int_equal(ping_member_frame(4, s, 255, s, 1), CORE_ETOOBIG);
	assert_int_equal(ping_member_frame(4, "ab\0d", 4, s, 1), CORE_EMALFORMED);
	assert_int_equal(ping_member_frame(4, "abc\0", 4, s, 1), CORE_EMALFORMED);
	assert_int_equal(ping_member_frame(4, s, 4, "\0bcd", 1), CORE_EMALFORMED);
}

static void test_weight(void **state)
{
	(void)state;
	assert_int_equal(ping_member_frame(1, "a", 1, "b", 0), 0);
	assert_int_equal(ping_member_frame(1, "a", 1, "b", GRP_WEIGHT_MAX), 0);
	assert_int_equal(out.from.weight, GRP_WEIGHT_MAX);
	assert_int_equal(out.from.flags, 0);
	/* The byte before the weight is the member's flags: the arbitrator bit and no other. */
	assert_int_equal(ping_member_frame(1, "a", 1, "b", GRP_MEMBER_ARBITRATOR << 8 | 3), 0);
	assert_int_equal(out.from.flags, GRP_MEMBER_ARBITRATOR);
	assert_int_equal(out.from.weight, 3);
	assert_int_equal(ping_member_frame(1, "a", 1, "b", 0x0200), CORE_EMALFORMED);
	assert_int_equal(ping_member_frame(1, "a", 1, "b", 0x8001), CORE_EMALFORMED);
	assert_int_equal(ping_member_frame(1, "a", 1, "b", 0xffff), CORE_EMALFORMED);
	/* In a donor record and a configuration as well. */
	fb_begin(GRP_MSG_XFER, 1);
	fb_member(1, 0x0201);
	core_wire_write_u64(&fw, 5);
	assert_int_equal(fb_decode(), CORE_EMALFORMED);
	fb_begin(GRP_MSG_APPEND, 5);
	fb_append_hdr(10, 3, 7, 0, 1);
	fb_entry_hdr(11, 5, 7, GRP_ENTRY_CONFIG);
	core_wire_write_u8(&fw, 1);
	fb_member(1, 0x8000);
	core_wire_write_u64(&fw, 0);
	core_wire_write_u8(&fw, 0);
	assert_int_equal(fb_decode(), CORE_EMALFORMED);
}

static int ping_peers_frame(uint8_t n)
{
	fb_begin(GRP_MSG_PING, 1);
	fb_member(0x10, 1);
	core_wire_write_u8(&fw, 0);
	fb_uuid(0);
	core_wire_write_u64(&fw, 0);
	core_wire_write_u64(&fw, 0);
	core_wire_write_u32(&fw, 0);
	core_wire_write_u64(&fw, 0); /* rec_index */
	core_wire_write_u8(&fw, n);
	for (uint8_t i = 0; i < n; i++)
		fb_member(7, 1); /* the same peer every time: gossip may repeat itself */
	return fb_decode();
}

static void test_ping_peers(void **state)
{
	(void)state;
	assert_int_equal(ping_peers_frame(GRP_MEMBERS_MAX), 0);
	assert_int_equal(out.u.ping.n_peers, GRP_MEMBERS_MAX);
	assert_int_equal(ping_peers_frame(GRP_MEMBERS_MAX + 1), CORE_ETOOBIG);
	assert_int_equal(ping_peers_frame(255), CORE_ETOOBIG);
}

/* ---- decode: configurations ---- */

static void test_config(void **state)
{
	static const uint8_t none[] = {0};
	static const uint8_t abc[] = {1, 2, 3, 0};
	static const uint8_t ab[] = {1, 2, 0};
	static const uint8_t aba[] = {1, 2, 1, 0};
	uint8_t many[GRP_MEMBERS_MAX + 2];

	(void)state;
	assert_int_equal(config_frame(abc, none), 0);
	assert_non_null(out.u.append.e[0].cfg);
	assert_int_equal(out.u.append.e[0].cfg->n, 3);
	assert_int_equal(out.u.append.e[0].len, 0);
	assert_null(out.u.append.e[0].data);
	/* Joint: the same node in old and new is the normal case. */
	assert_int_equal(config_frame(abc, ab), 0);
	assert_int_equal(out.u.append.e[0].cfg->n_old, 2);
	assert_int_equal(out.u.append.e[0].cfg->m[2].origin_last, 102);
	assert_int_equal(out.u.append.e[0].cfg->old[1].origin_last, 201);
	assert_int_equal(config_frame(none, ab), CORE_EMALFORMED);
	assert_int_equal(config_frame(aba, none), CORE_EMALFORMED);
	assert_int_equal(config_frame(ab, aba), CORE_EMALFORMED);
	for (uint8_t i = 0; i < GRP_MEMBERS_MAX + 1; i++)
		many[i] = (uint8_t)(i + 1);
	many[GRP_MEMBERS_MAX + 1] = 0;
	assert_int_equal(config_frame(many, many), CORE_ETOOBIG);
	assert_int_equal(config_frame(ab, many), CORE_ETOOBIG);
	many[GRP_MEMBERS_MAX] = 0;
	assert_int_equal(config_frame(many, many), 0);
}

/* An APPEND's configuration at prev_index: after the flags, before the entries. */
static int append_cfg_frame(uint64_t prev_index, uint64_t cfg_index, const uint8_t *m_seeds)
{
	static const uint8_t none[] = {0};

	fb_begin(GRP_MSG_APPEND, 5);
	core_wire_write_u64(&fw, prev_index);
	core_wire_write_u64(&fw, 3);
	core_wire_write_u64(&fw, 7);
	core_wire_write_u64(&fw, 9);
	core_wire_write_u8(&fw, GRP_WIRE_APPEND_CFG);
	core_wire_write_u64(&fw, cfg_index);
	fb_config(m_seeds, none);
	core_wire_write_u16(&fw, 1);
	fb_entry(prev_index + 1, 5, 8, GRP_ENTRY_DATA, 1, 0x41);
	return fb_decode();
}

static void test_append_cfg(void **state)
{
	static const uint8_t none[] = {0};
	static const uint8_t ab[] = {1, 2, 0};
	static const uint8_t aba[] = {1, 2, 1, 0};
	size_t len;
	uint8_t *buf;

	(void)state;
	assert_int_equal(append_cfg_frame(10, 4, ab), 0);
	assert_non_null(out.u.append.cfg);
	assert_int_equal(out.u.append.cfg_index, 4);
	assert_int_equal(out.u.append.cfg->n, 2);
	assert_int_equal(out.u.append.cfg->n_old, 0);
	assert_int_equal(out.u.append.cfg->m[1].origin_last, 101);
	assert_int_equal(out.u.append.n, 1);
	assert_int_equal(out.u.append.e[0].index, 11);
	/* The encoder writes this layout. */
	msg = out;
	buf = encode_exact(&msg, &len);
	assert_int_equal(len, fw.pos);
	assert_memory_equal(buf, fbuf, len);
	free(buf);
	assert_int_equal(append_cfg_frame(10, 10, ab), 0); /* the entry at prev itself */
	assert_int_equal(append_cfg_frame(10, 11, ab), CORE_EMALFORMED);
	assert_int_equal(append_cfg_frame(10, 0, ab), CORE_EMALFORMED);
	assert_int_equal(append_cfg_frame(10, 4, none), CORE_EMALFORMED);
	assert_int_equal(append_cfg_frame(10, 4, aba), CORE_EMALFORMED);
	/* Without the flag: none. */
	assert_int_equal(config_frame(ab, none), 0);
	assert_null(out.u.append.cfg);
	assert_int_equal(out.u.append.cfg_index, 0);
}

static int config_entries_frame(uint16_t n)
{
	static const uint8_t ab[] = {1, 2, 0};
	static const uint8_t none[] = {0};

	fb_begin(GRP_MSG_APPEND, 5);
	fb_append_hdr(10, 3, 7, 0, n);
	for (uint16_t i = 0; i < n; i++) {
		fb_entry_hdr(11 + i, 5, 7, GRP_ENTRY_CONFIG);
		fb_config(ab, none);
	}
	return fb_decode();
}

static void test_config_entries_max(void **state)
{
	(void)state;
	assert_int_equal(config_entries_frame(GRP_WIRE_CFGS_MAX), 0);
	for (uint32_t i = 0; i < GRP_WIRE_CFGS_MAX; i++)
		assert_ptr_equal(out.u.append.e[i].cfg, &scratch.cfg[i]);
	assert_int_equal(config_entries_frame(GRP_WIRE_CFGS_MAX + 1), CORE_ETOOBIG);
}

/* ---- decode: entries ---- */

static void test_entry_types(void **state)
{
	(void)state;
	assert_int_equal(entry_frame(GRP_ENTRY_NOOP, 7, 0, 0), 0);
	assert_int_equal(entry_frame(GRP_ENTRY_NOOP, 7, 1, 0), CORE_EMALFORMED);
	assert_int_equal(entry_frame(GRP_ENTRY_DATA, 8, 0, 0), 0);
	assert_int_equal(entry_frame(GRP_ENTRY_DATA, 8, 3, 0xab), 0);
	assert_int_equal(out.u.append.e[0].data[2], 0xab);
	for (uint8_t st = 0; st < 8; st++) {
		int want = st >= GRP_SVC_JOINER && st <= GRP_SVC_DESYNCED ? 0 : CORE_EMALFORMED;

		assert_int_equal(entry_frame(GRP_ENTRY_STATE, 7, 1, st), want);
	}
	assert_int_equal(entry_frame(GRP_ENTRY_STATE, 7, 0, 0), CORE_EMALFORMED);
	assert_int_equal(entry_frame(GRP_ENTRY_STATE, 7, 2, GRP_SVC_SYNCED), CORE_EMALFORMED);
	assert_int_equal(entry_frame(0, 7, 0, 0), CORE_EMALFORMED);
	assert_int_equal(entry_frame(GRP_ENTRY_STATE + 1, 7, 0, 0), CORE_EMALFORMED);
	assert_int_equal(entry_frame(0xff, 7, 0, 0), CORE_EMALFORMED);
}

static void test_payload_len(void **state)
{
	(void)state;
	/* Above the limit: refused before looking for the bytes. */
	fb_begin(GRP_MSG_APPEND, 5);
	fb_append_hdr(10, 3, 7, 0, 1);
	fb_entry_hdr(11, 4, 8, GRP_ENTRY_DATA);
	core_wire_write_u32(&fw, GRP_PAYLOAD_MAX + 1);
	assert_int_equal(fb_decode(), CORE_ETOOBIG);
	/* Within the limit but past the frame's end. */
	fb_begin(GRP_MSG_APPEND, 5);
	fb_append_hdr(10, 3, 7, 0, 1);
	fb_entry_hdr(11, 4, 8, GRP_ENTRY_DATA);
	core_wire_write_u32(&fw, 10);
	core_wire_fill(&fw, 0, 9);
	assert_int_equal(fb_decode(), CORE_EMALFORMED);
	/* The same for a submission. */
	fb_begin(GRP_MSG_SUBMIT, 1);
	core_wire_write_u64(&fw, 0);
	core_wire_write_u64(&fw, 0);
	core_wire_write_u16(&fw, 1);
	core_wire_write_u64(&fw, 1);
	core_wire_write_u8(&fw, GRP_ENTRY_DATA);
	core_wire_write_u32(&fw, GRP_PAYLOAD_MAX + 1);
	assert_int_equal(fb_decode(), CORE_ETOOBIG);
	fb_begin(GRP_MSG_SUBMIT, 1);
	core_wire_write_u64(&fw, 0);
	core_wire_write_u64(&fw, 0);
	core_wire_write_u16(&fw, 1);
	core_wire_write_u64(&fw, 1);
	core_wire_write_u8(&fw, GRP_ENTRY_DATA);
	core_wire_write_u32(&fw, 0xffffffff);
	assert_int_equal(fb_decode(), CORE_ETOOBIG);
	fb_begin(GRP_MSG_SUBMIT, 1);
	core_wire_write_u64(&fw, 0);
	core_wire_write_u64(&fw, 0);
	core_wire_write_u16(&fw, 1);
	core_wire_write_u64(&fw, 1);
	core_wire_write_u8(&fw, GRP_ENTRY_DATA);
	core_wire_write_u32(&fw, 2);
	core_wire_write_u8(&fw, 0);
	assert_int_equal(fb_decode(), CORE_EMALFORMED);
}

static void test_counts(void **state)
{
	(void)state;
	fb_begin(GRP_MSG_APPEND, 5);
	fb_append_hdr(10, 3, 7, 0, GRP_ENTRIES_PER_MSG + 1);
	assert_int_equal(fb_decode(), CORE_ETOOBIG);
	fb_begin(GRP_MSG_APPEND, 5);
	fb_append_hdr(10, 3, 7, 0, GRP_ENTRIES_PER_MSG);
	for (uint32_t i = 0; i < GRP_ENTRIES_PER_MSG; i++)
		fb_entry(11 + i, 5, 7, GRP_ENTRY_NOOP, 0, 0);
	assert_int_equal(fb_decode(), 0);
	fb_begin(GRP_MSG_SUBMIT, 1);
	core_wire_write_u64(&fw, 0);
	core_wire_write_u64(&fw, 0);
	core_wire_write_u16(&fw, GRP_SUBMITS_PER_MSG + 1);
	assert_int_equal(fb_decode(), CORE_ETOOBIG);
	fb_begin(GRP_MSG_SUBMIT, 1);
	core_wire_write_u64(&fw, 0);
	core_wire_write_u64(&fw, 0);
	core_wire_write_u16(&fw, 0xffff);
	assert_int_equal(fb_decode(), CORE_ETOOBIG);
	fb_begin(GRP_MSG_SUBMIT, 1);
	core_wire_write_u64(&fw, 0);
	core_wire_write_u64(&fw, 0);
	core_wire_write_u16(&fw, GRP_SUBMITS_PER_MSG);
	for (uint32_t i = 0; i < GRP_SUBMITS_PER_MSG; i++) {
		core_wire_write_u64(&fw, i + 1);
		core_wire_write_u8(&fw, GRP_ENTRY_DATA);
		core_wire_write_u32(&fw, 0);
	}
	assert_int_equal(fb_decode(), 0);
}

/* A SUBMIT of one submission of this type and payload. */
static int submit_frame(uint8_t type, uint32_t len, uint8_t byte)
{
	fb_begin(GRP_MSG_SUBMIT, 1);
	core_wire_write_u64(&fw, 0);
	core_wire_write_u64(&fw, 0);
	core_wire_write_u16(&fw, 1);
	core_wire_write_u64(&fw, 42);
	core_wire_write_u8(&fw, type);
	core_wire_write_u32(&fw, len);
	core_wire_fill(&fw, byte, len);
	return fb_decode();
}

static void test_submit_types(void **state)
{
	(void)state;
	assert_int_equal(submit_frame(GRP_ENTRY_DATA, 0, 0), 0);
	assert_null(out.u.submit.s[0].data);
	assert_int_equal(submit_frame(GRP_ENTRY_DATA, 3, 0xcd), 0);
	assert_int_equal(out.u.submit.s[0].origin_id, 42);
	assert_int_equal(out.u.submit.s[0].data[2], 0xcd);
	for (uint8_t st = 0; st < 8; st++) {
		int want = st >= GRP_SVC_JOINER && st <= GRP_SVC_DESYNCED ? 0 : CORE_EMALFORMED;

		assert_int_equal(submit_frame(GRP_ENTRY_STATE, 1, st), want);
	}
	assert_int_equal(submit_frame(GRP_ENTRY_STATE, 0, 0), CORE_EMALFORMED);
	assert_int_equal(submit_frame(GRP_ENTRY_STATE, 2, GRP_SVC_SYNCED), CORE_EMALFORMED);
	/* NOOP and CONFIG entries are the leader's own; nobody submits them. */
	assert_int_equal(submit_frame(GRP_ENTRY_NOOP, 0, 0), CORE_EMALFORMED);
	assert_int_equal(submit_frame(GRP_ENTRY_CONFIG, 0, 0), CORE_EMALFORMED);
	assert_int_equal(submit_frame(0, 0, 0), CORE_EMALFORMED);
	assert_int_equal(submit_frame(0xff, 1, 1), CORE_EMALFORMED);
}

/* Two entries after index 10, term 3 in an APPEND at term 5; prev_seq fits the first entry. */
static int chain_frame(uint64_t i0, uint64_t t0, uint64_t s0, uint8_t y0, uint64_t i1,
		       uint64_t t1, uint64_t s1, uint8_t y1)
{
	fb_begin(GRP_MSG_APPEND, 5);
	fb_append_hdr(10, 3, s0 - (y0 == GRP_ENTRY_DATA), 0, 2);
	fb_entry(i0, t0, s0, y0, y0 == GRP_ENTRY_DATA ? 1 : 0, 0);
	fb_entry(i1, t1, s1, y1, y1 == GRP_ENTRY_DATA ? 1 : 0, 0);
	return fb_decode();
}

/* One entry of this type and seq after prev_seq. */
static int first_seq_frame(uint64_t prev_seq, uint64_t seq, uint8_t type)
{
	fb_begin(GRP_MSG_APPEND, 5);
	fb_append_hdr(10, 3, prev_seq, 0, 1);
	fb_entry(11, 4, seq, type, type == GRP_ENTRY_STATE ? 1 : 0, GRP_SVC_JOINED);
	return fb_decode();
}

static void test_entry_index(void **state)
{
	const uint8_t D = GRP_ENTRY_DATA;

	(void)state;
	assert_int_equal(chain_frame(11, 4, 1, D, 12, 4, 2, D), 0);
	assert_int_equal(chain_frame(10, 4, 1, D, 11, 4, 2, D), CORE_EMALFORMED);
	assert_int_equal(chain_frame(12, 4, 1, D, 13, 4, 2, D), CORE_EMALFORMED);
	assert_int_equal(chain_frame(11, 4, 1, D, 13, 4, 2, D), CORE_EMALFORMED);
	assert_int_equal(chain_frame(11, 4, 1, D, 11, 4, 2, D), CORE_EMALFORMED);
	/* prev_index at the top of the range: the next index cannot wrap round to 0. */
	fb_begin(GRP_MSG_APPEND, 5);
	fb_append_hdr(UINT64_MAX, 3, 0, 0, 1);
	fb_entry(0, 4, 0, GRP_ENTRY_NOOP, 0, 0);
	assert_int_equal(fb_decode(), CORE_EMALFORMED);
	fb_begin(GRP_MSG_APPEND, 5);
	fb_append_hdr(UINT64_MAX - 1, 3, 0, 0, 1);
	fb_entry(UINT64_MAX, 4, 0, GRP_ENTRY_NOOP, 0, 0);
	assert_int_equal(fb_decode(), 0);
}

static void test_entry_term(void **state)
{
	const uint8_t N = GRP_ENTRY_NOOP;

	(void)state;
	assert_int_equal(chain_frame(11, 3, 1, N, 12, 5, 1, N), 0);
	assert_int_equal(chain_frame(11, 5, 1, N, 12, 4, 1, N), CORE_EMALFORMED);
	assert_int_equal(chain_frame(11, 2, 1, N, 12, 4, 1, N), CORE_EMALFORMED);
	assert_int_equal(chain_frame(11, 4, 1, N, 12, 6, 1, N), CORE_EMALFORMED);
	assert_int_equal(chain_frame(11, 6, 1, N, 12, 6, 1, N), CORE_EMALFORMED);
	/* prev_term above the message term, even without entries. */
	fb_begin(GRP_MSG_APPEND, 5);
	fb_append_hdr(10, 6, 0, 0, 0);
	assert_int_equal(fb_decode(), CORE_EMALFORMED);
	fb_begin(GRP_MSG_APPEND, 5);
	fb_append_hdr(10, 5, 0, 0, 0);
	assert_int_equal(fb_decode(), 0);
}

static void test_entry_seq(void **state)
{
	const uint8_t D = GRP_ENTRY_DATA, N = GRP_ENTRY_NOOP, S = GRP_ENTRY_STATE;

	(void)state;
	assert_int_equal(chain_frame(11, 4, 8, D, 12, 4, 9, D), 0);
	assert_int_equal(chain_frame(11, 4, 8, D, 12, 4, 8, D), CORE_EMALFORMED);
	assert_int_equal(chain_frame(11, 4, 8, D, 12, 4, 10, D), CORE_EMALFORMED);
	assert_int_equal(chain_frame(11, 4, 8, D, 12, 4, 7, D), CORE_EMALFORMED);
	assert_int_equal(chain_frame(11, 4, 8, D, 12, 4, 8, N), 0);
	assert_int_equal(chain_frame(11, 4, 8, D, 12, 4, 9, N), CORE_EMALFORMED);
	assert_int_equal(chain_frame(11, 4, 8, N, 12, 4, 9, D), 0);
	assert_int_equal(chain_frame(11, 4, 8, N, 12, 4, 8, D), CORE_EMALFORMED);
	/* The first entry follows prev_seq; seq cannot wrap round. */
	assert_int_equal(first_seq_frame(7, 8, D), 0);
	assert_int_equal(first_seq_frame(7, 7, D), CORE_EMALFORMED);
	assert_int_equal(first_seq_frame(7, 9, D), CORE_EMALFORMED);
	assert_int_equal(first_seq_frame(7, 7, N), 0);
	assert_int_equal(first_seq_frame(7, 8, N), CORE_EMALFORMED);
	assert_int_equal(first_seq_frame(7, 6, S), CORE_EMALFORMED);
	assert_int_equal(first_seq_frame(0, 0, D), CORE_EMALFORMED);
	assert_int_equal(first_seq_frame(UINT64_MAX, 0, D), CORE_EMALFORMED);
	assert_int_equal(chain_frame(11, 4, UINT64_MAX, N, 12, 4, 0, D), CORE_EMALFORMED);
	/* STATE and CONFIG keep the seq too. */
	fb_begin(GRP_MSG_APPEND, 5);
	fb_append_hdr(10, 3, 7, 0, 2);
	fb_entry(11, 4, 8, D, 0, 0);
	fb_entry(12, 4, 9, S, 1, GRP_SVC_DONOR);
	assert_int_equal(fb_decode(), CORE_EMALFORMED);
	fb_begin(GRP_MSG_APPEND, 5);
	fb_append_hdr(10, 3, 7, 0, 2);
	fb_entry(11, 4, 8, D, 0, 0);
	fb_entry(12, 4, 8, S, 1, GRP_SVC_DONOR);
	assert_int_equal(fb_decode(), 0);
	{
		static const uint8_t ab[] = {1, 2, 0}, none[] = {0};

		fb_begin(GRP_MSG_APPEND, 5);
		fb_append_hdr(10, 3, 7, 0, 2);
		fb_entry(11, 4, 8, D, 0, 0);
		fb_entry_hdr(12, 4, 9, GRP_ENTRY_CONFIG);
		fb_config(ab, none);
		assert_int_equal(fb_decode(), CORE_EMALFORMED);
	}
}

/* ---- corpus ---- */

/*
 * With GRP_WIRE_CORPUS_DIR set, writes one frame per fixture there: the seed corpus of
 * tests/fuzz/grp_wire (regenerate it after a layout change). Without it, does nothing.
 */
static void test_write_corpus(void **state)
{
	const char *dir = getenv("GRP_WIRE_CORPUS_DIR");

	(void)state;
	if (!dir)
		skip();
	for (int fx = 0; fx < FX_COUNT; fx++) {
		char path[512];
		size_t len;
		uint8_t *buf;
		FILE *f;

		build((enum fixture)fx, &msg);
		buf = encode_exact(&msg, &len);
		snprintf(path, sizeof(path), "%s/%s", dir, fixture_names[fx]);
		f = fopen(path, "wb");
		assert_non_null(f);
		assert_int_equal(fwrite(buf, 1, len, f), len);
		assert_int_equal(fclose(f), 0);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip_every_type),
	    cmocka_unit_test(test_roundtrip_limits),
	    cmocka_unit_test(test_roundtrip_max_payload),
	    cmocka_unit_test(test_from),
	    cmocka_unit_test(test_origin_last_only_in_config),
	    cmocka_unit_test(test_layout),
	    cmocka_unit_test(test_encode_space),
	    cmocka_unit_test(test_encode_too_big),
	    cmocka_unit_test(test_frame_len),
	    cmocka_unit_test(test_truncated_every_offset),
	    cmocka_unit_test(test_frame_length_mismatch),
	    cmocka_unit_test(test_header_fields),
	    cmocka_unit_test(test_bools),
	    cmocka_unit_test(test_ping_flags),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_weight),
	    cmocka_unit_test(test_ping_peers),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_append_cfg),
	    cmocka_unit_test(test_config_entries_max),
	    cmocka_unit_test(test_entry_types),
	    cmocka_unit_test(test_payload_len),
	    cmocka_unit_test(test_counts),
	    cmocka_unit_test(test_submit_types),
	    cmocka_unit_test(test_entry_index),
	    cmocka_unit_test(test_entry_term),
	    cmocka_unit_test(test_entry_seq),
	    cmocka_unit_test(test_write_corpus),
	};

	setup_fixtures();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
