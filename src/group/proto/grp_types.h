/* SPDX-License-Identifier: MPL-2.0 */
/* The group protocol's values: node ids, members, configurations, log entries, messages. */
#ifndef GRP_TYPES_H
#define GRP_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#define GRP_MEMBERS_MAX 32     /* members of one configuration (Galera tops out far below) */
#define GRP_NAME_MAX 64        /* node name, NUL included */
#define GRP_ADDR_MAX 64        /* "host:port" or "[v6]:port", NUL included */
#define GRP_WEIGHT_MAX 255     /* as Galera's pc.weight */
#define GRP_PAYLOAD_MAX (16u << 20) /* one submitted message */
#define GRP_ENTRIES_PER_MSG 256     /* entries in one APPEND */
#define GRP_SUBMITS_PER_MSG 256     /* submissions in one SUBMIT */
#define GRP_CFGS_PER_MSG 4          /* CONFIG entries in one APPEND (each is large) */

/* A node incarnation: fresh random bytes each time a process starts (never reused). */
struct grp_uuid {
	uint8_t b[16];
};

struct grp_member {
	struct grp_uuid uuid;
	char name[GRP_NAME_MAX];
	char addr[GRP_ADDR_MAX];
	uint32_t weight; /* 0..GRP_WEIGHT_MAX; 0 counts for nothing in a quorum */
	uint8_t flags;   /* GRP_MEMBER_*: what kind of member this incarnation is */
	/*
	 * In a CONFIG entry only: the last origin_id of this member's submissions in the log
	 * before the entry. A node that came in by state transfer learns from it what it could
	 * not see, to de-duplicate submissions. 0 elsewhere.
	 */
	uint64_t origin_last;
};

/*
 * An arbitrator (paceless-arbitrator, Galera's garbd): a member that votes and holds the log
 * like any other, but has no service state behind it and submits nothing. It is never named
 * a donor, and it never needs a state transfer: as a joiner it starts at the leader's commit
 * index, and when it is behind the leader's cache (the leader says so with an XFER) it moves
 * its log's base to a committed position the leader sends. Entries commit only once a data
 * member holds them. See docs/internals/group-protocol.md, "Arbitrators".
 */
#define GRP_MEMBER_ARBITRATOR 0x01
#define GRP_MEMBER_FLAGS_KNOWN GRP_MEMBER_ARBITRATOR

/*
 * A configuration (a view's membership). A joint configuration (n_old > 0) is the transition
 * of Raft's joint consensus: a decision then needs a weighted majority of old[] and one of m[].
 */
struct grp_config {
	uint32_t n;
	struct grp_member m[GRP_MEMBERS_MAX];
	uint32_t n_old;
	struct grp_member old[GRP_MEMBERS_MAX];
};

enum grp_entry_type {
	GRP_ENTRY_NOOP = 1,   /* a new leader's first entry: commits what earlier terms left */
	GRP_ENTRY_DATA = 2,   /* a submitted message */
	GRP_ENTRY_CONFIG = 3, /* a membership change; cfg is set */
	GRP_ENTRY_STATE = 4,  /* origin's service state changed to data[0] (enum grp_svc_state) */
};

/* What a member's service is doing, as Galera's gcs node states; visible to every member. */
enum grp_svc_state {
	GRP_SVC_JOINER = 1,   /* waiting for or receiving a state transfer */
	GRP_SVC_DONOR = 2,    /* sending a state transfer */
	GRP_SVC_JOINED = 3,   /* has the state, catching up */
	GRP_SVC_SYNCED = 4,   /* applying in step with the group */
	GRP_SVC_DESYNCED = 5, /* paused by the operator; does not hold back flow control */
};

/*
 * One log entry. index is the position in the group's log (every entry), seq the gap-free
 * number of DATA entries up to and including this one (what the service sees). term is the
 * leader's term when it was appended. Pointers are borrowed for the duration of the call
 * that passes the entry, unless a function says otherwise.
 */
struct grp_entry {
	uint64_t index;
	uint64_t term;
	uint64_t seq;
	uint8_t type;               /* enum grp_entry_type */
	struct grp_uuid origin;     /* submitter (leader for NOOP and CONFIG) */
	uint64_t origin_id;         /* the submitter's counter: 1, 2, ... (dedupe) */
	uint32_t len;
	const uint8_t *data;        /* DATA: the message (NULL when len is 0); STATE: 1 byte */
	const struct grp_config *cfg; /* CONFIG only */
};

enum grp_msg_type {
	GRP_MSG_PING = 1,       /* liveness, discovery, join requests, recovery; any node to any */
	GRP_MSG_APPEND = 2,     /* leader -> follower: entries and commit index (also heartbeat) */
	GRP_MSG_APPEND_ACK = 3, /* follower -> leader */
	GRP_MSG_VOTE = 4,       /* candidate -> voters (pre-vote or vote) */
	GRP_MSG_VOTE_ACK = 5,
	GRP_MSG_SUBMIT = 6,     /* member -> leader: messages to order */
	GRP_MSG_XFER = 7,       /* leader -> joiner: the entries you need are gone; state transfer */
	GRP_MSG_TYPE_MAX = 7,
};

/* PING flags */
#define GRP_PING_JOIN 0x01    /* sender wants to be added to the configuration */
#define GRP_PING_LEAVE 0x02   /* sender wants to be removed (graceful leave) */
#define GRP_PING_PRIMARY 0x04 /* sender is in the primary component */
#define GRP_PING_REPLY 0x08   /* an answer: do not answer it */
#define GRP_PING_STALE 0x10   /* came in by state transfer: needs a CONFIG entry to learn the
			       * submitters' positions (see grp_member.origin_last) */
#define GRP_PING_RECOVER 0x20 /* restarted from its state file, waiting for the members of its
			       * last views: peers are those members, leader the node it
			       * would follow, rec_index its service's position */
#define GRP_NO_BASE UINT64_MAX

struct grp_submit {
	uint64_t origin_id;
	uint8_t type; /* GRP_ENTRY_DATA or GRP_ENTRY_STATE */
	uint32_t len;
	const uint8_t *data;
};

/*
 * A decoded, validated message. from is the sender's member record (the transport's handshake
 * vouches for it); cluster is checked by the transport before a message reaches the protocol.
 */
struct grp_msg {
	uint8_t type; /* enum grp_msg_type */
	struct grp_member from;
	uint64_t term;
	union {
		struct {
			uint32_t flags;
			struct grp_uuid leader; /* all zero: none known */
			uint64_t applied;       /* sender's last delivered index; GRP_NO_BASE: a joiner
						 * that has nothing yet */
			uint64_t seq;           /* sender's service position (the seq it applied) */
			uint32_t backlog;       /* delivered but not yet consumed by the service */
			uint64_t rec_index;     /* GRP_PING_RECOVER: the index its service applied */
			uint32_t n_peers;       /* gossip: members the sender knows */
			struct grp_member peers[GRP_MEMBERS_MAX];
		} ping;
		struct {
			uint64_t prev_index;
			uint64_t prev_term;
			uint64_t prev_seq; /* lets a joiner check the start the leader chose */
			uint64_t commit;
			uint32_t n;
			struct grp_entry e[GRP_ENTRIES_PER_MSG];
			bool paused;    /* flow control: the leader takes no submissions now */
			bool no_quorum; /* the leader has lost touch with its majority */
			/*
			 * The configuration in force at prev_index, for a follower that came
			 * back without it (a state transfer, an arbitrator's base move): the
			 * CONFIG entry at cfg_index (1 <= cfg_index <= prev_index). NULL: none.
			 */
			const struct grp_config *cfg;
			uint64_t cfg_index;
		} append;
		struct {
			bool success;
			uint64_t match;   /* success: last index held; failure: a hint where to resume */
			uint32_t backlog; /* delivered but not yet consumed by the service */
		} append_ack;
		struct {
			bool pre;
			uint64_t last_index;
			uint64_t last_term;
		} vote;
		struct {
			bool pre;
			bool granted;
		} vote_ack;
		struct {
			/*
			 * The sender's oldest origin_id not yet delivered to it (every lower one
			 * was), and its last delivered index: they let a leader that lacks the
			 * sender's history (it came in after it) know where to go on. 0: none.
			 */
			uint64_t head;
			uint64_t applied;
			uint32_t n;
			struct grp_submit s[GRP_SUBMITS_PER_MSG];
		} submit;
		struct {
			struct grp_member donor; /* a member that has the state */
			uint64_t first_index;    /* the oldest entry the leader still has */
		} xfer;
	} u;
};

static inline bool grp_uuid_eq(const struct grp_uuid *a, const struct grp_uuid *b)
{
	for (int i = 0; i < 16; i++)
		if (a->b[i] != b->b[i])
			return false;
	return true;
}

static inline int grp_uuid_cmp(const struct grp_uuid *a, const struct grp_uuid *b)
{
	for (int i = 0; i < 16; i++)
		if (a->b[i] != b->b[i])
			return a->b[i] < b->b[i] ? -1 : 1;
	return 0;
}

static inline bool grp_uuid_is_nil(const struct grp_uuid *a)
{
	for (int i = 0; i < 16; i++)
		if (a->b[i])
			return false;
	return true;
}

#endif
