/* sc_int: shardctrler internals shared by sc_config.c, sc_server.c and sc_clerk.c (and the
 * unit tests). Not part of the graded contract: the graded suites include only shardctrler.h.
 *
 * Pieces: the configuration operations (join, leave, move and the rebalancing they share),
 * the duplicate table (one session per client, sorted by client id) and the labgob codecs of
 * ops (RPC arguments and Raft log commands share one encoding) and replies.
 *
 * Invariants:
 *  1. config.groups is strictly increasing by gid; every shard's gid is 0 or a listed group;
 *     with groups, no shard is on gid 0 and shard counts differ by at most one (rebalanced).
 *  2. dups.sessions is strictly increasing by client_id.
 */
#ifndef SC_INT_H
#define SC_INT_H

#include "../labgob/labgob.h"
#include "shardctrler.h"

enum sc_op_kind { SC_OP_JOIN = 0, SC_OP_LEAVE = 1, SC_OP_MOVE = 2, SC_OP_QUERY = 3 };
#define SC_OP_KINDS_COUNT 4

/* What a server answers (Go's WrongLeader and Err, as one code). */
enum sc_reply_err {
    SC_REPLY_OK = 0,
    SC_REPLY_WRONG_LEADER = 1, /* not leader, lost leadership, term moved on, or killed */
    SC_REPLY_TIMEOUT = 2,      /* not applied in time; try another server */
    SC_REPLY_BAD_ARGS = 3,     /* the arguments did not decode */
    SC_REPLY_LIMIT = 4,        /* applied as a no-op: the config would exceed a bound */
};
#define SC_REPLY_ERRS_COUNT 5

extern const char *const sc_method_names[SC_OP_KINDS_COUNT];      /* "Join", ... */
extern const char *const sc_method_full_names[SC_OP_KINDS_COUNT]; /* "ShardCtrler.Join", ... */

/* An op. Only the fields of its kind are used (the others stay zero). */
struct sc_op {
    uint64_t client_id;
    uint64_t seq;
    enum sc_op_kind kind;
    int groups_count; /* join */
    struct sc_group groups[SC_GROUPS_MAX];
    int gids_count; /* leave */
    int gids[SC_GROUPS_MAX];
    int shard; /* move */
    int gid;   /* move */
    int num;   /* query */
};

int sc_op_encode(struct gob_enc *e, const struct sc_op *op);
/* SC_OK or SC_EDECODE (malformed, or a kind, count, gid, shard or name out of range). */
int sc_op_decode(const uint8_t *buf, size_t len, struct sc_op *op);

int sc_reply_encode(struct gob_enc *e, enum sc_reply_err err, const struct sc_config *config);
/* config may be NULL when the caller wants only the code. */
int sc_reply_decode(const uint8_t *buf, size_t len, enum sc_reply_err *err,
                    struct sc_config *config);

/* The configuration operations: each turns `c` (a copy of the latest config) into the next
 * one. SC_OK, or SC_ELIMIT with c unchanged (join past SC_GROUPS_MAX). */
int sc_config_join(struct sc_config *c, const struct sc_group *groups, int groups_count);
void sc_config_leave(struct sc_config *c, const int *gids, int gids_count);
void sc_config_move(struct sc_config *c, int shard, int gid);
/* Spreads the shards evenly over c's groups with the fewest moves (invariant 1). */
void sc_config_rebalance(struct sc_config *c);

struct sc_session {
    uint64_t client_id;
    uint64_t seq_last; /* highest sequence number applied for this client */
    uint32_t err_last; /* its enum sc_reply_err (a retry gets the same answer) */
};

struct sc_dups {
    struct sc_session *sessions;
    size_t sessions_count;
    size_t sessions_cap;
};

void sc_dups_close(struct sc_dups *d);
const struct sc_session *sc_dups_find(const struct sc_dups *d, uint64_t client_id);
/* SC_OK or SC_ENOMEM. */
int sc_dups_record(struct sc_dups *d, uint64_t client_id, uint64_t seq, uint32_t err);

#define SC_PENDING_MAX 256u                /* handlers waiting for their op at once */
#define SC_TICK_US SIM_MS(20)              /* how often waiting handlers re-check leadership */
#define SC_WAIT_TIMEOUT_US SIM_MS(500)     /* a waiting handler gives up after this */
#define SC_CLERK_PASS_SLEEP_US SIM_MS(100) /* Go's clerk pause after a failed pass */

#endif /* SC_INT_H */
