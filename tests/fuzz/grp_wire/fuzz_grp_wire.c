/* SPDX-License-Identifier: MPL-2.0 */
/* Fuzz target: read frames as the transport does; re-encode what decodes and check the trip. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core_err.h"
#include "core_wire.h"
#include "grp_wire.h"

static struct grp_msg first, second;
static struct grp_wire_scratch scratch1, scratch2;
static const struct grp_member peer = {
    .uuid = {{0xa0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}},
    .name = "peer",
    .addr = "192.0.2.9:4567",
    .weight = 1,
};

static bool member_eq(const struct grp_member *a, const struct grp_member *b)
{
	return grp_uuid_eq(&a->uuid, &b->uuid) && strcmp(a->name, b->name) == 0 &&
	       strcmp(a->addr, b->addr) == 0 && a->weight == b->weight &&
	       a->origin_last == b->origin_last;
}

static bool members_eq(const struct grp_member *a, const struct grp_member *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (!member_eq(&a[i], &b[i]))
			return false;
	return true;
}

static bool config_eq(const struct grp_config *a, const struct grp_config *b)
{
	return a->n == b->n && a->n_old == b->n_old && members_eq(a->m, b->m, a->n) &&
	       members_eq(a->old, b->old, a->n_old);
}

static bool bytes_eq(uint32_t len_a, const uint8_t *a, uint32_t len_b, const uint8_t *b)
{
	return len_a == len_b && (len_a == 0 || memcmp(a, b, len_a) == 0);
}

static bool entry_eq(const struct grp_entry *a, const struct grp_entry *b)
{
	if (a->index != b->index || a->term != b->term || a->seq != b->seq || a->type != b->type ||
	    !grp_uuid_eq(&a->origin, &b->origin) || a->origin_id != b->origin_id ||
	    !bytes_eq(a->len, a->data, b->len, b->data) || !a->cfg != !b->cfg)
		return false;
	return !a->cfg || config_eq(a->cfg, b->cfg);
}

static bool append_eq(const struct grp_msg *a, const struct grp_msg *b)
{
	if (a->u.append.prev_index != b->u.append.prev_index ||
	    a->u.append.prev_term != b->u.append.prev_term ||
	    a->u.append.prev_seq != b->u.append.prev_seq ||
	    a->u.append.commit != b->u.append.commit || a->u.append.n != b->u.append.n ||
	    a->u.append.paused != b->u.append.paused ||
	    a->u.append.no_quorum != b->u.append.no_quorum ||
	    a->u.append.cfg_index != b->u.append.cfg_index || !a->u.append.cfg != !b->u.append.cfg ||
	    (a->u.append.cfg && !config_eq(a->u.append.cfg, b->u.append.cfg)))
		return false;
	for (uint32_t i = 0; i < a->u.append.n; i++)
		if (!entry_eq(&a->u.append.e[i], &b->u.append.e[i]))
			return false;
	return true;
}

static bool submit_eq(const struct grp_msg *a, const struct grp_msg *b)
{
	if (a->u.submit.n != b->u.submit.n)
		return false;
	for (uint32_t i = 0; i < a->u.submit.n; i++) {
		const struct grp_submit *x = &a->u.submit.s[i], *y = &b->u.submit.s[i];

		if (x->origin_id != y->origin_id || x->type != y->type ||
		    !bytes_eq(x->len, x->data, y->len, y->data))
			return false;
	}
	return true;
}

static bool msg_eq(const struct grp_msg *a, const struct grp_msg *b)
{
	if (a->type != b->type || a->term != b->term || !member_eq(&a->from, &b->from))
		return false;
	switch (a->type) {
	case GRP_MSG_PING:
		return a->u.ping.flags == b->u.ping.flags &&
		       grp_uuid_eq(&a->u.ping.leader, &b->u.ping.leader) &&
		       a->u.ping.applied == b->u.ping.applied && a->u.ping.seq == b->u.ping.seq &&
		       a->u.ping.backlog == b->u.ping.backlog &&
		       a->u.ping.n_peers == b->u.ping.n_peers &&
		       members_eq(a->u.ping.peers, b->u.ping.peers, a->u.ping.n_peers);
	case GRP_MSG_APPEND:
		return append_eq(a, b);
	case GRP_MSG_APPEND_ACK:
		return a->u.append_ack.success == b->u.append_ack.success &&
		       a->u.append_ack.match == b->u.append_ack.match &&
		       a->u.append_ack.backlog == b->u.append_ack.backlog;
	case GRP_MSG_VOTE:
		return a->u.vote.pre == b->u.vote.pre &&
		       a->u.vote.last_index == b->u.vote.last_index &&
		       a->u.vote.last_term == b->u.vote.last_term;
	case GRP_MSG_VOTE_ACK:
		return a->u.vote_ack.pre == b->u.vote_ack.pre &&
		       a->u.vote_ack.granted == b->u.vote_ack.granted;
	case GRP_MSG_SUBMIT:
		return submit_eq(a, b);
	case GRP_MSG_XFER:
		return member_eq(&a->u.xfer.donor, &b->u.xfer.donor) &&
		       a->u.xfer.first_index == b->u.xfer.first_index;
	}
	return false;
}

static bool known_error(int rc)
{
	return rc == CORE_ETRUNC || rc == CORE_ETOOBIG || rc == CORE_EMALFORMED ||
	       rc == CORE_EUNSUPP;
}

/*
 * One decoded frame: the encoding is canonical, so encoding it again must give the very
 * same bytes, and decoding those the same message.
 */
static void roundtrip(const uint8_t *frame, size_t len)
{
	struct core_wire w;
	uint8_t *buf;

	if (first.type != GRP_MSG_PING && !member_eq(&first.from, &peer))
		abort();
	if (grp_wire_encoded_len(&first) != len)
		abort();
	buf = malloc(len);
	if (!buf)
		abort();
	core_wire_init(&w, buf, len);
	if (grp_wire_encode(&first, &w) != 0 || w.pos != len || memcmp(buf, frame, len) != 0)
		abort();
	if (grp_wire_decode(buf, len, &peer, &second, &scratch2) != 0 || !msg_eq(&first, &second))
		abort();
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input is a stream: frames one after another, read until one fails, as a link would. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	while (pos < size) {
		size_t frame_len = 0;
		int rc = grp_wire_frame_len(data + pos, size - pos, &frame_len);

		if (rc) {
			if (!known_error(rc))
				abort();
			break;
		}
		if (frame_len < GRP_WIRE_HDR_LEN || frame_len > GRP_WIRE_FRAME_MAX)
			abort();
		if (frame_len > size - pos) {
			/* Not all there: decode must say so too, and never read past size. */
			if (grp_wire_decode(data + pos, size - pos, &peer, &first, &scratch1) !=
			    CORE_ETRUNC)
				abort();
			break;
		}
		rc = grp_wire_decode(data + pos, frame_len, &peer, &first, &scratch1);
		if (rc) {
			if (!known_error(rc) || rc == CORE_ETRUNC)
				abort();
			break;
		}
		roundtrip(data + pos, frame_len);
		pos += frame_len;
	}
	return 0;
}
