/* skv_int: shardkv internals shared by its files (store, codec, server, migrate, clerk). Not
 * part of the graded contract: the graded suites include only shardkv.h.
 *
 * Pieces:
 *  - the shard: its state in the group's current configuration, its keys (a sorted array)
 *    and its duplicate table (client id -> last applied seq, sorted). Data and table move
 *    together.
 *  - the codecs (labgob): client ops, replies, the inter-group Pull/Delete messages, Raft log
 *    commands (client op, configuration, shard insert, shard delete, shard GC done) and
 *    snapshots.
 *
 * Shard states, per shard s of a group at its configuration cur (prev: the one before):
 *   ABSENT   not ours in cur; no data.
 *   SERVING  ours in cur, data here: served.
 *   PULLING  ours in cur but prev gave it to another group: not served until its data arrives
 *            (an INSERT entry), then GC.
 *   GC       received and served; the previous owner has not yet confirmed it deleted its
 *            copy (a DELETE there). A GCDONE entry makes it SERVING.
 *   SENDING  ours in prev, another group's in cur: frozen (no op applies to it) until the new
 *            owner confirms it has it and asks us to delete it (DELETE): then ABSENT.
 * A new configuration is applied only when every shard is ABSENT or SERVING (stable).
 *
 * Invariants:
 *  1. store.entries strictly increasing by key bytes; dups strictly increasing by client.
 *  2. A shard holds data only when SERVING, GC or SENDING.
 *  3. The states are a function of the applied log prefix, the same on every replica.
 */
#ifndef SKV_INT_H
#define SKV_INT_H

#include "../labgob/labgob.h"
#include "shardkv.h"

/* ---------------------------------------------------------------- shards */

enum skv_shard_state {
    SKV_ABSENT = 0,
    SKV_SERVING = 1,
    SKV_PULLING = 2,
    SKV_GC = 3,
    SKV_SENDING = 4,
};
#define SKV_SHARD_STATES_COUNT 5

struct skv_entry {
    char *key; /* NUL-terminated copies */
    size_t key_len;
    char *value;
    size_t value_len;
    size_t value_cap;
};

struct skv_session {
    uint64_t client_id;
    uint64_t seq_last;
};

struct skv_shard {
    enum skv_shard_state state;
    struct skv_entry *entries;
    size_t entries_count;
    size_t entries_cap;
    struct skv_session *sessions;
    size_t sessions_count;
    size_t sessions_cap;
    /* The owner's snapshot cache holds this shard's data and table as they are now (set by
     * skv_snapshot_encode_cached, cleared by every change in skv_store.c). */
    bool snap_fresh;
};

/* Drops the shard's data and table (the state is left as it is). */
void skv_shard_clear(struct skv_shard *sh);
const struct skv_entry *skv_shard_find(const struct skv_shard *sh, const uint8_t *key,
                                       size_t key_len);
/* Put (append=false) or Append. SKV_OK, SKV_ENOMEM or SKV_ELIMIT (store unchanged). */
int skv_shard_write(struct skv_shard *sh, const uint8_t *key, size_t key_len, const uint8_t *value,
                    size_t value_len, bool append);
/* The last applied seq of client_id (0 when never seen). */
uint64_t skv_shard_seq(const struct skv_shard *sh, uint64_t client_id);
/* Records seq as client_id's last applied (only ever raises it). SKV_OK or SKV_ENOMEM. */
int skv_shard_record(struct skv_shard *sh, uint64_t client_id, uint64_t seq);

/* ---------------------------------------------------------------- wire */

enum skv_op_kind { SKV_OP_GET = 0, SKV_OP_PUT = 1, SKV_OP_APPEND = 2 };
#define SKV_OP_KINDS_COUNT 3

/* What a server answers (Go's Err strings, plus the internal retry reasons). */
enum skv_reply_err {
    SKV_REPLY_OK = 0,
    SKV_REPLY_NO_KEY = 1,
    SKV_REPLY_WRONG_GROUP = 2,
    SKV_REPLY_WRONG_LEADER = 3,
    SKV_REPLY_TIMEOUT = 4,
    SKV_REPLY_NOT_READY = 5, /* Pull/Delete: the configuration is not there yet; retry */
    SKV_REPLY_BAD_ARGS = 6,
};
#define SKV_REPLY_ERRS_COUNT 7

/* A client op (RPC arguments); key and value are views. */
struct skv_op {
    uint64_t client_id;
    uint64_t seq;
    enum skv_op_kind kind;
    const uint8_t *key;
    size_t key_len;
    const uint8_t *value;
    size_t value_len;
};

struct skv_reply {
    enum skv_reply_err err;
    const uint8_t *value;
    size_t value_len;
};

int skv_op_encode(struct gob_enc *e, const struct skv_op *op);
int skv_op_decode(const uint8_t *buf, size_t len, struct skv_op *op);
int skv_reply_encode(struct gob_enc *e, const struct skv_reply *r);
int skv_reply_decode(const uint8_t *buf, size_t len, struct skv_reply *r);

/* Pull and Delete arguments: the configuration number and the shard. */
int skv_move_args_encode(struct gob_enc *e, int num, int shard);
int skv_move_args_decode(const uint8_t *buf, size_t len, int *num, int *shard);
/* A Pull reply: err, and with OK the shard's data and table. */
int skv_pull_reply_encode(struct gob_enc *e, enum skv_reply_err err, const struct skv_shard *sh);
/* Decodes into an empty shard (its entries and sessions), which the caller clears on error. */
int skv_pull_reply_decode(const uint8_t *buf, size_t len, enum skv_reply_err *err,
                          struct skv_shard *sh);

/* Raft log commands. */
enum skv_cmd_kind {
    SKV_CMD_OP = 0,
    SKV_CMD_CONFIG = 1,
    SKV_CMD_INSERT = 2,
    SKV_CMD_DELETE = 3,
    SKV_CMD_GC_DONE = 4,
    SKV_CMD_NOOP = 5, /* a new leader's first entry (see skv_migrate.c) */
};
#define SKV_CMD_KINDS_COUNT 6

/* A decoded command: op for OP; config for CONFIG (a pointer to the caller's scratch);
 * num and shard for INSERT/DELETE/GC_DONE; shard data for INSERT (into `insert`, which the
 * caller owns and clears). */
struct skv_cmd {
    enum skv_cmd_kind kind;
    struct skv_op op;
    struct sc_config *config;
    int num;
    int shard;
    struct skv_shard *insert;
};

int skv_cmd_encode_op(struct gob_enc *e, const struct skv_op *op);
int skv_cmd_encode_config(struct gob_enc *e, const struct sc_config *c);
/* INSERT carries sh's data and table; DELETE, GC_DONE and NOOP pass sh = NULL. */
int skv_cmd_encode_shard(struct gob_enc *e, enum skv_cmd_kind kind, int num, int shard,
                         const struct skv_shard *sh);
/* cmd->config and cmd->insert must point to the caller's scratch on entry. */
int skv_cmd_decode(const uint8_t *buf, size_t len, struct skv_cmd *cmd);

/* A snapshot: applied index, the current and previous configurations, every shard. */
int skv_snapshot_encode(struct gob_enc *e, uint64_t applied_index, const struct sc_config *cur,
                        const struct sc_config *prev, const struct skv_shard *shards);
/* What skv_snapshot_encode_cached keeps between snapshots: each shard's record and the two
 * configurations as last put (labgob captures), so a snapshot encodes again only what changed
 * since the last one and copies the rest. Caller-allocated; skv_snap_cache_init / _free. */
struct skv_snap_cache {
    struct gob_capture shards[SC_NSHARDS];
    enum skv_shard_state states[SC_NSHARDS]; /* the state each shard's capture holds */
    struct gob_capture configs[2];           /* current, previous */
    uint64_t configs_epoch;                  /* the epoch they were captured at (0: none) */
};
void skv_snap_cache_init(struct skv_snap_cache *cache);
void skv_snap_cache_free(struct skv_snap_cache *cache);
/* skv_snapshot_encode's exact bytes, re-putting from `cache` every shard whose snap_fresh is
 * set and whose state is the one captured, and the configurations when configs_epoch (which
 * the caller changes whenever cur or prev change) is the one captured; the rest is encoded
 * and captured for next time. */
int skv_snapshot_encode_cached(struct gob_enc *e, struct skv_snap_cache *cache,
                               uint64_t applied_index, const struct sc_config *cur,
                               const struct sc_config *prev, uint64_t configs_epoch,
                               struct skv_shard *shards);
/* Decodes into cleared shards. On error they may hold partial data; the caller clears them. */
int skv_snapshot_decode(const uint8_t *buf, size_t len, uint64_t *applied_index,
                        struct sc_config *cur, struct sc_config *prev, struct skv_shard *shards);

extern const char *const skv_method_names[SKV_OP_KINDS_COUNT]; /* "Get", "Put", "Append" */

/* ---------------------------------------------------------------- server internals */

#define SKV_PENDING_MAX 256u
#define SKV_TICK_US SIM_MS(20)
#define SKV_WAIT_TIMEOUT_US SIM_MS(500)
#define SKV_POLL_US SIM_MS(100) /* the server task's period (Go's 100 ms config poll) */
#define SKV_CLERK_SLEEP_US SIM_MS(100)
#define SKV_ENDS_MAX 64u /* server names a server or clerk keeps ends for */

/* An end cache over make_end: one end per server name. */
struct skv_ends {
    skv_make_end_fn make_end;
    void *arg;
    char names[SKV_ENDS_MAX][SC_SERVER_NAME_MAX];
    struct rpc_end *ends[SKV_ENDS_MAX];
    size_t count;
};
/* The end for `name` (made on first use); NULL when the cache is full or make_end failed. */
struct rpc_end *skv_ends_get(struct skv_ends *c, const char *name);

struct skv_pending {
    struct rpc_req *req;
    uint64_t index;
    uint64_t term;
    uint64_t client_id;
    uint64_t seq;
    sim_time_us deadline_us;
};

struct skv_server {
    struct sim *sim;
    int me;
    int gid;
    int node; /* the node context of the server (for its task and traces) */
    struct raft *rf;
    struct raft_persister *persister;
    int64_t maxraftstate;
    bool dead;
    struct sc_config cur;
    struct sc_config prev;
    struct skv_shard shards[SC_NSHARDS];
    uint64_t applied_index;
    struct skv_pending pending[SKV_PENDING_MAX];
    uint32_t pending_count;
    sim_timer_id tick_timer;
    struct sc_clerk *sck;
    bool task_running;  /* the server task has not returned yet */
    uint64_t noop_term; /* the last term the task started a NOOP in */
    struct skv_ends ends;
    struct sc_config cmd_config;  /* apply scratch */
    struct skv_shard cmd_insert;  /* apply scratch */
    struct sc_config poll_config; /* task scratch */
    struct gob_enc enc_cmd;       /* handler scratch */
    struct gob_enc enc_out;       /* replies and snapshots */
    struct gob_enc enc_task;      /* the task's calls and commands */
    struct skv_snap_cache snap_cache;
    uint64_t configs_epoch; /* bumped whenever cur or prev change (for snap_cache) */
};

/* skv_server.c: true when every shard is ABSENT or SERVING. */
bool skv_server_stable(const struct skv_server *kv);
/* skv_migrate.c: the server task, and the inter-group RPC handlers. */
void skv_task(struct sim *sim, void *arg);
int skv_migrate_register(struct skv_server *kv, struct rpc_server *server);

#endif /* SKV_INT_H */
