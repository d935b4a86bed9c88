/* SPDX-License-Identifier: MPL-2.0 */
/* Group wire codec: frames a struct grp_msg for the mesh transport and validates what comes in. */
#include <string.h>

#include "core_assert.h"
#include "grp_wire.h"

#define UUID_LEN         16
#define MEMBER_FIXED_LEN (UUID_LEN + 1 + 1 + 2)
#define ENTRY_FIXED_LEN  (8 + 8 + 8 + 1 + UUID_LEN + 8)
#define PING_FLAGS_KNOWN (GRP_PING_JOIN | GRP_PING_LEAVE | GRP_PING_PRIMARY | GRP_PING_REPLY | \
			  GRP_PING_STALE | GRP_PING_RECOVER)

/*
 * ---- validation of a decoded (or to-be-encoded) message ----
 *
 * One set of rules serves both directions: decode runs it on what it parsed, encode asserts
 * it, so what we send is always what a receiver accepts.
 */

static bool member_ok(const struct grp_member *mb)
{
	return strnlen(mb->name, GRP_NAME_MAX) < GRP_NAME_MAX &&
	       strnlen(mb->addr, GRP_ADDR_MAX) < GRP_ADDR_MAX && mb->weight <= GRP_WEIGHT_MAX &&
	       !(mb->flags & ~GRP_MEMBER_FLAGS_KNOWN);
}

/* Gossip may list a node twice (harmless); a configuration may not (it would vote twice). */
static int check_members(const struct grp_member *m, uint32_t n, bool unique)
{
	if (n > GRP_MEMBERS_MAX)
		return CORE_ETOOBIG;
	for (uint32_t i = 0; i < n; i++) {
		if (!member_ok(&m[i]))
			return CORE_EMALFORMED;
		for (uint32_t j = 0; unique && j < i; j++)
			if (grp_uuid_eq(&m[i].uuid, &m[j].uuid))
				return CORE_EMALFORMED;
	}
	return 0;
}

static int check_config(const struct grp_config *c)
{
	int rc;

	if (c->n == 0)
		return CORE_EMALFORMED;
	rc = check_members(c->m, c->n, true);
	if (rc == 0)
		rc = check_members(c->old, c->n_old, true);
	return rc;
}

static int check_payload(uint32_t len, const uint8_t *data)
{
	if (len > GRP_PAYLOAD_MAX)
		return CORE_ETOOBIG;
	return len == 0 || data ? 0 : CORE_EMALFORMED;
}

/* The payload of a DATA or STATE entry or submission. */
static int check_typed_payload(uint8_t type, uint32_t len, const uint8_t *data)
{
	switch (type) {
	case GRP_ENTRY_DATA:
		return check_payload(len, data);
	case GRP_ENTRY_STATE:
		if (len != 1 || !data)
			return CORE_EMALFORMED;
		if (data[0] < GRP_SVC_JOINER || data[0] > GRP_SVC_DESYNCED)
			return CORE_EMALFORMED;
		return 0;
	}
	return CORE_EMALFORMED;
}

static int check_entry(const struct grp_entry *e)
{
	switch (e->type) {
	case GRP_ENTRY_NOOP:
		return e->len == 0 ? 0 : CORE_EMALFORMED;
	case GRP_ENTRY_DATA:
	case GRP_ENTRY_STATE:
		return check_typed_payload(e->type, e->len, e->data);
	case GRP_ENTRY_CONFIG:
		if (!e->cfg || e->len != 0)
			return CORE_EMALFORMED;
		return check_config(e->cfg);
	}
	return CORE_EMALFORMED;
}

/* seq counts DATA entries, so it steps by exactly one at each DATA entry and nowhere else. */
static bool seq_follows(const struct grp_entry *e, uint64_t prev_seq)
{
	if (e->type == GRP_ENTRY_DATA)
		return e->seq != 0 && e->seq - 1 == prev_seq;
	return e->seq == prev_seq;
}

/*
 * Raft's log matching: the entries extend the log right after (prev_index, prev_term,
 * prev_seq), and a log's terms never decrease nor exceed the leader's current term.
 */
static int check_append(const struct grp_msg *m)
{
	uint64_t index = m->u.append.prev_index, term = m->u.append.prev_term;
	uint64_t seq = m->u.append.prev_seq;

	if (term > m->term)
		return CORE_EMALFORMED;
	if (m->u.append.cfg) {
		int rc = check_config(m->u.append.cfg);

		if (rc)
			return rc;
		if (m->u.append.cfg_index == 0 || m->u.append.cfg_index > index)
			return CORE_EMALFORMED;
	}
	if (m->u.append.n > GRP_ENTRIES_PER_MSG)
		return CORE_ETOOBIG;
	for (uint32_t i = 0; i < m->u.append.n; i++) {
		const struct grp_entry *e = &m->u.append.e[i];
		int rc = check_entry(e);

		if (rc)
			return rc;
		/* index - 1, so that prev_index UINT64_MAX cannot wrap round to a valid 0. */
		if (e->index == 0 || e->index - 1 != index)
			return CORE_EMALFORMED;
		if (e->term < term || e->term > m->term)
			return CORE_EMALFORMED;
		if (!seq_follows(e, seq))
			return CORE_EMALFORMED;
		index = e->index;
		term = e->term;
		seq = e->seq;
	}
	return 0;
}

static int check_submit(const struct grp_msg *m)
{
	if (m->u.submit.n > GRP_SUBMITS_PER_MSG)
		return CORE_ETOOBIG;
	for (uint32_t i = 0; i < m->u.submit.n; i++) {
		const struct grp_submit *s = &m->u.submit.s[i];
		int rc = check_typed_payload(s->type, s->len, s->data);

		if (rc)
			return rc;
	}
	return 0;
}

static int check_msg(const struct grp_msg *m)
{
	switch (m->type) {
	case GRP_MSG_PING:
		if (!member_ok(&m->from) || (m->u.ping.flags & ~(uint32_t)PING_FLAGS_KNOWN))
			return CORE_EMALFORMED;
		return check_members(m->u.ping.peers, m->u.ping.n_peers, false);
	case GRP_MSG_APPEND:
		return check_append(m);
	case GRP_MSG_SUBMIT:
		return check_submit(m);
	case GRP_MSG_XFER:
		return member_ok(&m->u.xfer.donor) ? 0 : CORE_EMALFORMED;
	case GRP_MSG_APPEND_ACK:
	case GRP_MSG_VOTE:
	case GRP_MSG_VOTE_ACK:
		return 0;
	}
	return CORE_EMALFORMED;
}

/* ---- encode ---- */

static size_t member_len(const struct grp_member *mb)
{
	return MEMBER_FIXED_LEN + strlen(mb->name) + strlen(mb->addr);
}

static size_t config_len(const struct grp_config *c)
{
	size_t len = 2 + (size_t)(c->n + c->n_old) * 8; /* 8: each member's origin_last */

	for (uint32_t i = 0; i < c->n; i++)
		len += member_len(&c->m[i]);
	for (uint32_t i = 0; i < c->n_old; i++)
		len += member_len(&c->old[i]);
	return len;
}

static size_t entry_len(const struct grp_entry *e)
{
	if (e->type == GRP_ENTRY_CONFIG)
		return ENTRY_FIXED_LEN + config_len(e->cfg);
	return ENTRY_FIXED_LEN + 4 + (size_t)e->len;
}

/* The frame's size; m has passed check_msg(), so every count and string is bounded. */
static size_t frame_len_of(const struct grp_msg *m)
{
	size_t len = GRP_WIRE_HDR_LEN;

	switch (m->type) {
	case GRP_MSG_PING:
		len += member_len(&m->from) + 1 + UUID_LEN + 8 + 8 + 4 + 8 + 1;
		for (uint32_t i = 0; i < m->u.ping.n_peers; i++)
			len += member_len(&m->u.ping.peers[i]);
		break;
	case GRP_MSG_APPEND:
		len += 8 + 8 + 8 + 8 + 1 + 2;
		if (m->u.append.cfg)
			len += 8 + config_len(m->u.append.cfg);
		for (uint32_t i = 0; i < m->u.append.n; i++)
			len += entry_len(&m->u.append.e[i]);
		break;
	case GRP_MSG_APPEND_ACK:
		len += 1 + 8 + 4;
		break;
	case GRP_MSG_VOTE:
		len += 1 + 8 + 8;
		break;
	case GRP_MSG_VOTE_ACK:
		len += 1 + 1;
		break;
	case GRP_MSG_SUBMIT:
		len += 8 + 8 + 2;
		for (uint32_t i = 0; i < m->u.submit.n; i++)
			len += 8 + 1 + 4 + (size_t)m->u.submit.s[i].len;
		break;
	case GRP_MSG_XFER:
		len += member_len(&m->u.xfer.donor) + 8;
		break;
	}
	return len;
}

size_t grp_wire_encoded_len(const struct grp_msg *m)
{
	ASSERT(check_msg(m) == 0);
	return frame_len_of(m);
}

static void put_member(struct core_wire *w, const struct grp_member *mb)
{
	size_t name_len = strlen(mb->name), addr_len = strlen(mb->addr);

	core_wire_write(w, mb->uuid.b, UUID_LEN);
	core_wire_write_u8(w, (uint8_t)name_len);
	core_wire_write(w, mb->name, name_len);
	core_wire_write_u8(w, (uint8_t)addr_len);
	core_wire_write(w, mb->addr, addr_len);
	core_wire_write_u8(w, mb->flags);
	core_wire_write_u8(w, (uint8_t)mb->weight);
}

/*
 * origin_last means something only in a configuration, so only a configuration carries it;
 * elsewhere (PING, XFER) it is not sent, even when the record was copied from one.
 */
static void put_config_members(struct core_wire *w, const struct grp_member *m, uint32_t n)
{
	core_wire_write_u8(w, (uint8_t)n);
	for (uint32_t i = 0; i < n; i++) {
		put_member(w, &m[i]);
		core_wire_write_u64(w, m[i].origin_last);
	}
}

static void put_config(struct core_wire *w, const struct grp_config *c)
{
	put_config_members(w, c->m, c->n);
	put_config_members(w, c->old, c->n_old);
}

static void put_payload(struct core_wire *w, uint32_t len, const uint8_t *data)
{
	core_wire_write_u32(w, len);
	if (len)
		core_wire_write(w, data, len);
}

static void put_entry(struct core_wire *w, const struct grp_entry *e)
{
	core_wire_write_u64(w, e->index);
	core_wire_write_u64(w, e->term);
	core_wire_write_u64(w, e->seq);
	core_wire_write_u8(w, e->type);
	core_wire_write(w, e->origin.b, UUID_LEN);
	core_wire_write_u64(w, e->origin_id);
	if (e->type == GRP_ENTRY_CONFIG)
		put_config(w, e->cfg);
	else
		put_payload(w, e->len, e->data);
}

static void put_ping(struct core_wire *w, const struct grp_msg *m)
{
	put_member(w, &m->from);
	core_wire_write_u8(w, (uint8_t)m->u.ping.flags);
	core_wire_write(w, m->u.ping.leader.b, UUID_LEN);
	core_wire_write_u64(w, m->u.ping.applied);
	core_wire_write_u64(w, m->u.ping.seq);
	core_wire_write_u32(w, m->u.ping.backlog);
	core_wire_write_u64(w, m->u.ping.rec_index);
	core_wire_write_u8(w, (uint8_t)m->u.ping.n_peers);
	for (uint32_t i = 0; i < m->u.ping.n_peers; i++)
		put_member(w, &m->u.ping.peers[i]);
}

static void put_append(struct core_wire *w, const struct grp_msg *m)
{
	core_wire_write_u64(w, m->u.append.prev_index);
	core_wire_write_u64(w, m->u.append.prev_term);
	core_wire_write_u64(w, m->u.append.prev_seq);
	core_wire_write_u64(w, m->u.append.commit);
	core_wire_write_u8(w, (m->u.append.paused ? GRP_WIRE_APPEND_PAUSED : 0) |
				 (m->u.append.no_quorum ? GRP_WIRE_APPEND_NO_QUORUM : 0) |
				 (m->u.append.cfg ? GRP_WIRE_APPEND_CFG : 0));
	if (m->u.append.cfg) {
		core_wire_write_u64(w, m->u.append.cfg_index);
		put_config(w, m->u.append.cfg);
	}
	core_wire_write_u16(w, (uint16_t)m->u.append.n);
	for (uint32_t i = 0; i < m->u.append.n; i++)
		put_entry(w, &m->u.append.e[i]);
}

static void put_body(struct core_wire *w, const struct grp_msg *m)
{
	switch (m->type) {
	case GRP_MSG_PING:
		put_ping(w, m);
		break;
	case GRP_MSG_APPEND:
		put_append(w, m);
		break;
	case GRP_MSG_APPEND_ACK:
		core_wire_write_u8(w, m->u.append_ack.success);
		core_wire_write_u64(w, m->u.append_ack.match);
		core_wire_write_u32(w, m->u.append_ack.backlog);
		break;
	case GRP_MSG_VOTE:
		core_wire_write_u8(w, m->u.vote.pre);
		core_wire_write_u64(w, m->u.vote.last_index);
		core_wire_write_u64(w, m->u.vote.last_term);
		break;
	case GRP_MSG_VOTE_ACK:
		core_wire_write_u8(w, m->u.vote_ack.pre);
		core_wire_write_u8(w, m->u.vote_ack.granted);
		break;
	case GRP_MSG_SUBMIT:
		core_wire_write_u64(w, m->u.submit.head);
		core_wire_write_u64(w, m->u.submit.applied);
		core_wire_write_u16(w, (uint16_t)m->u.submit.n);
		for (uint32_t i = 0; i < m->u.submit.n; i++) {
			core_wire_write_u64(w, m->u.submit.s[i].origin_id);
			core_wire_write_u8(w, m->u.submit.s[i].type);
			put_payload(w, m->u.submit.s[i].len, m->u.submit.s[i].data);
		}
		break;
	case GRP_MSG_XFER:
		put_member(w, &m->u.xfer.donor);
		core_wire_write_u64(w, m->u.xfer.first_index);
		break;
	}
}

static uint32_t config_entries(const struct grp_msg *m)
{
	uint32_t n = 0;

	if (m->type != GRP_MSG_APPEND)
		return 0;
	for (uint32_t i = 0; i < m->u.append.n; i++)
		n += m->u.append.e[i].type == GRP_ENTRY_CONFIG;
	return n;
}

int grp_wire_encode(const struct grp_msg *m, struct core_wire *w)
{
	size_t need, start;

	ASSERT(check_msg(m) == 0);
	if (w->err)
		return w->err;
	need = frame_len_of(m);
	if (need > GRP_WIRE_FRAME_MAX || config_entries(m) > GRP_WIRE_CFGS_MAX)
		return CORE_ETOOBIG;
	if (core_wire_avail(w) < need) {
		/* Refuse before writing, so no partial frame is left in the buffer. */
		w->err = CORE_ESPACE;
		return w->err;
	}
	start = w->pos;
	core_wire_write_u32(w, (uint32_t)need);
	core_wire_write_u8(w, GRP_WIRE_VERSION);
	core_wire_write_u8(w, m->type);
	core_wire_write_u16(w, 0);
	core_wire_write_u64(w, m->term);
	put_body(w, m);
	/* frame_len_of() and put_*() describe one layout; a mismatch is our bug. */
	ASSERT(w->err == 0 && w->pos - start == need);
	return 0;
}

/*
 * ---- decode ----
 *
 * The frame's length has been checked against len before the body is parsed, so any read
 * past the end inside the body means an inner length or count lies: CORE_EMALFORMED, never
 * the cursor's CORE_ETRUNC (which would tell a stream reader to wait for more).
 */

static int get_err(const struct core_wire *r)
{
	return r->err ? CORE_EMALFORMED : 0;
}

static int get_bool(struct core_wire *r, bool *b)
{
	uint8_t v = core_wire_read_u8(r);

	*b = v == 1;
	return v > 1 ? CORE_EMALFORMED : get_err(r);
}

/* A u8-length string without NUL into dst[max], NUL-terminated. */
static int get_string(struct core_wire *r, char *dst, size_t max)
{
	uint8_t n = core_wire_read_u8(r);
	const uint8_t *p;

	if (n >= max)
		return CORE_ETOOBIG;
	p = core_wire_read_ptr(r, n);
	if (!p)
		return CORE_EMALFORMED;
	if (memchr(p, 0, n))
		return CORE_EMALFORMED;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

static int get_member(struct core_wire *r, struct grp_member *mb)
{
	int rc;

	/* Zeroed so that the bytes after each NUL are too, and origin_last outside configs. */
	memset(mb, 0, sizeof(*mb));
	core_wire_read(r, mb->uuid.b, UUID_LEN);
	rc = get_string(r, mb->name, sizeof(mb->name));
	if (rc == 0)
		rc = get_string(r, mb->addr, sizeof(mb->addr));
	mb->flags = core_wire_read_u8(r);
	mb->weight = core_wire_read_u8(r);
	return rc ? rc : get_err(r);
}

/* A u8 count and the members; in a configuration each is followed by its origin_last. */
static int get_members(struct core_wire *r, struct grp_member *m, uint32_t *n, bool in_config)
{
	*n = core_wire_read_u8(r);
	if (*n > GRP_MEMBERS_MAX)
		return CORE_ETOOBIG;
	for (uint32_t i = 0; i < *n; i++) {
		int rc = get_member(r, &m[i]);

		if (rc)
			return rc;
		if (in_config)
			m[i].origin_last = core_wire_read_u64(r);
	}
	return get_err(r);
}

static int get_config(struct core_wire *r, struct grp_config *c)
{
	int rc = get_members(r, c->m, &c->n, true);

	return rc ? rc : get_members(r, c->old, &c->n_old, true);
}

/* The bytes are borrowed from the frame; len 0 gives NULL. */
static int get_payload(struct core_wire *r, uint32_t *len, const uint8_t **data)
{
	*len = core_wire_read_u32(r);
	*data = NULL;
	if (*len > GRP_PAYLOAD_MAX)
		return CORE_ETOOBIG;
	if (*len)
		*data = core_wire_read_ptr(r, *len);
	return get_err(r);
}

static int get_entry(struct core_wire *r, struct grp_entry *e, struct grp_wire_scratch *scratch,
		     uint32_t *n_cfg)
{
	e->index = core_wire_read_u64(r);
	e->term = core_wire_read_u64(r);
	e->seq = core_wire_read_u64(r);
	e->type = core_wire_read_u8(r);
	core_wire_read(r, e->origin.b, UUID_LEN);
	e->origin_id = core_wire_read_u64(r);
	e->len = 0;
	e->data = NULL;
	e->cfg = NULL;
	if (r->err)
		return CORE_EMALFORMED;
	switch (e->type) {
	case GRP_ENTRY_NOOP:
	case GRP_ENTRY_DATA:
	case GRP_ENTRY_STATE:
		return get_payload(r, &e->len, &e->data);
	case GRP_ENTRY_CONFIG:
		if (*n_cfg == GRP_WIRE_CFGS_MAX)
			return CORE_ETOOBIG;
		e->cfg = &scratch->cfg[*n_cfg];
		(*n_cfg)++;
		return get_config(r, &scratch->cfg[*n_cfg - 1]);
	}
	return CORE_EMALFORMED;
}

static int get_append(struct core_wire *r, struct grp_msg *m, struct grp_wire_scratch *scratch)
{
	uint32_t n_cfg = 0;
	uint8_t flags;
	int rc;

	m->u.append.prev_index = core_wire_read_u64(r);
	m->u.append.prev_term = core_wire_read_u64(r);
	m->u.append.prev_seq = core_wire_read_u64(r);
	m->u.append.commit = core_wire_read_u64(r);
	flags = core_wire_read_u8(r);
	if (flags & ~(GRP_WIRE_APPEND_PAUSED | GRP_WIRE_APPEND_NO_QUORUM | GRP_WIRE_APPEND_CFG))
		return CORE_EMALFORMED;
	m->u.append.paused = flags & GRP_WIRE_APPEND_PAUSED;
	m->u.append.no_quorum = flags & GRP_WIRE_APPEND_NO_QUORUM;
	m->u.append.cfg = NULL;
	m->u.append.cfg_index = 0;
	if (flags & GRP_WIRE_APPEND_CFG) {
		m->u.append.cfg_index = core_wire_read_u64(r);
		m->u.append.cfg = &scratch->append_cfg;
		rc = get_config(r, &scratch->append_cfg);
		if (rc)
			return rc;
	}
	m->u.append.n = core_wire_read_u16(r);
	if (m->u.append.n > GRP_ENTRIES_PER_MSG)
		return CORE_ETOOBIG;
	for (uint32_t i = 0; i < m->u.append.n; i++) {
		rc = get_entry(r, &m->u.append.e[i], scratch, &n_cfg);
		if (rc)
			return rc;
	}
	return get_err(r);
}

static int get_ping(struct core_wire *r, struct grp_msg *m)
{
	int rc = get_member(r, &m->from);

	if (rc)
		return rc;
	m->u.ping.flags = core_wire_read_u8(r);
	core_wire_read(r, m->u.ping.leader.b, UUID_LEN);
	m->u.ping.applied = core_wire_read_u64(r);
	m->u.ping.seq = core_wire_read_u64(r);
	m->u.ping.backlog = core_wire_read_u32(r);
	m->u.ping.rec_index = core_wire_read_u64(r);
	return get_members(r, m->u.ping.peers, &m->u.ping.n_peers, false);
}

static int get_submit(struct core_wire *r, struct grp_msg *m)
{
	m->u.submit.head = core_wire_read_u64(r);
	m->u.submit.applied = core_wire_read_u64(r);
	m->u.submit.n = core_wire_read_u16(r);
	if (m->u.submit.n > GRP_SUBMITS_PER_MSG)
		return CORE_ETOOBIG;
	for (uint32_t i = 0; i < m->u.submit.n; i++) {
		struct grp_submit *s = &m->u.submit.s[i];
		int rc;

		s->origin_id = core_wire_read_u64(r);
		s->type = core_wire_read_u8(r);
		rc = get_payload(r, &s->len, &s->data);
		if (rc)
			return rc;
	}
	return get_err(r);
}

static int get_body(struct core_wire *r, struct grp_msg *m, struct grp_wire_scratch *scratch)
{
	int rc;

	switch (m->type) {
	case GRP_MSG_PING:
		return get_ping(r, m);
	case GRP_MSG_APPEND:
		return get_append(r, m, scratch);
	case GRP_MSG_APPEND_ACK:
		rc = get_bool(r, &m->u.append_ack.success);
		m->u.append_ack.match = core_wire_read_u64(r);
		m->u.append_ack.backlog = core_wire_read_u32(r);
		return rc ? rc : get_err(r);
	case GRP_MSG_VOTE:
		rc = get_bool(r, &m->u.vote.pre);
		m->u.vote.last_index = core_wire_read_u64(r);
		m->u.vote.last_term = core_wire_read_u64(r);
		return rc ? rc : get_err(r);
	case GRP_MSG_VOTE_ACK:
		rc = get_bool(r, &m->u.vote_ack.pre);
		return rc ? rc : get_bool(r, &m->u.vote_ack.granted);
	case GRP_MSG_SUBMIT:
		return get_submit(r, m);
	case GRP_MSG_XFER:
		rc = get_member(r, &m->u.xfer.donor);
		m->u.xfer.first_index = core_wire_read_u64(r);
		return rc ? rc : get_err(r);
	}
	return CORE_EMALFORMED;
}

int grp_wire_frame_len(const void *buf, size_t len, size_t *frame_len)
{
	struct core_wire r;
	uint32_t n;

	core_wire_init_ro(&r, buf, len);
	n = core_wire_read_u32(&r);
	if (r.err)
		return CORE_ETRUNC;
	if (n > GRP_WIRE_FRAME_MAX)
		return CORE_ETOOBIG;
	if (n < GRP_WIRE_HDR_LEN)
		return CORE_EMALFORMED;
	*frame_len = n;
	return 0;
}

int grp_wire_decode(const void *buf, size_t len, const struct grp_member *from,
		    struct grp_msg *out, struct grp_wire_scratch *scratch)
{
	struct core_wire r;
	size_t frame_len = 0;
	int rc;

	ASSERT(scratch);
	rc = grp_wire_frame_len(buf, len, &frame_len);
	if (rc)
		return rc;
	if (frame_len > len)
		return CORE_ETRUNC;
	if (frame_len < len)
		return CORE_EMALFORMED;
	/* From here len >= GRP_WIRE_HDR_LEN, so the header reads cannot fail. */
	core_wire_init_ro(&r, buf, len);
	core_wire_skip(&r, 4);
	if (core_wire_read_u8(&r) != GRP_WIRE_VERSION)
		return CORE_EUNSUPP;
	out->type = core_wire_read_u8(&r);
	if (core_wire_read_u16(&r) != 0)
		return CORE_EMALFORMED;
	out->term = core_wire_read_u64(&r);
	rc = get_body(&r, out, scratch);
	if (rc == 0 && (r.err || core_wire_avail(&r) != 0))
		rc = CORE_EMALFORMED;
	if (rc == 0)
		rc = check_msg(out);
	if (rc == 0 && out->type != GRP_MSG_PING) {
		if (from)
			out->from = *from;
		else
			memset(&out->from, 0, sizeof(out->from));
	}
	return rc;
}
