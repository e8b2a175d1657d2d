/* server.c: a shardkv server for labsim's lab 5B (and the 5C challenges), as `labsim init
 * shardkv` starts it.
 *
 * The contract is shardkv.h (read it first): start, kill, free and the server's Raft,
 * skv_strerror and skv_key2shard. The server is event-driven like lab 4's (handlers and
 * Raft's apply callback run inside events of `kv->sim`), plus one task of its own, Go's
 * background goroutine: it polls the shard controller through a controller clerk and moves
 * shards, and may block (sim_sleep_us, the clerk's calls). The clerk is client.c, next to
 * this file.
 *
 * Build and grade (from the labsim clone), on our controller and our Raft (add
 * SHARDCTRLER_IMPL=... and RAFT_IMPL=... for yours):
 *   make grade SHARDKV_IMPL="/path/to/server.c /path/to/client.c" BUILD=build-mine
 */
/* TODO: this is the skeleton `labsim init shardkv` writes. Work through its TODO comments in
 * the lab's order (5A static shards and ErrWrongGroup, 5B configuration changes and shard
 * migration, 5C the challenges) and grade with `labsim run 5B` (5C). The Get/Put/Append
 * arguments and replies, and your shard-transfer RPC, are yours to define: put their structs
 * and labgob encode/decode in a header next to this file (say common.h), included by server.c
 * and client.c, and write them like skv_op's below. */
#include <stdlib.h>
#include <string.h>

#include "labgob.h"
#include "shardkv.h"

#define SKV_POLL_US SIM_MS(100) /* how often the task asks the controller for a new config */

/* ---------------------------------------------------------------- errors and shards */

const char *skv_strerror(int err)
{
    switch (err) {
#define SKV_ERR_CASE(name, value, text)                                                            \
    case name:                                                                                     \
        return text;
        SKV_ERRNO_MAP(SKV_ERR_CASE)
#undef SKV_ERR_CASE
    }
    return "unknown shardkv error";
}

/* The lab's key2shard, unchanged: the tests place keys with it. */
int skv_key2shard(const char *key)
{
    return key[0] == '\0' ? 0 : (unsigned char)key[0] % SC_NSHARDS;
}

/* ---------------------------------------------------------------- the op in the log */

enum skv_op_kind { SKV_OP_GET = 0, SKV_OP_PUT = 1, SKV_OP_APPEND = 2 };

/* Go's Op for a client request: what goes through the group's Raft log, applied in log order
 * on every server of the group. (client_id, seq) names a Put or Append so that a retried one
 * is applied once, also after its shard moved to another group. On the wire each member is a
 * labgob field numbered from 1 in the order below; zero fields are left out, so decode into a
 * zeroed struct. The example to follow for every other message. */
struct skv_op {
    uint64_t client_id;
    uint64_t seq;
    enum skv_op_kind kind;
    const uint8_t *key; /* sending: borrowed; decoded: a view into the message */
    size_t key_len;
    const uint8_t *value;
    size_t value_len;
};
/* TODO(5B): the other entries of the log: a new configuration (num, shards, groups), the
 * shards pulled from another group (their data and duplicate tables), "delete the shards
 * given away" (5C). Tell them apart by a kind field, as skv_op's. */

static void skv_op_encode(struct gob_enc *e, const struct skv_op *op)
{
    gob_put_uint(e, 1, op->client_id);
    gob_put_uint(e, 2, op->seq);
    gob_put_uint(e, 3, (uint64_t)op->kind);
    gob_put_bytes(e, 4, op->key, op->key_len);
    gob_put_bytes(e, 5, op->value, op->value_len);
}

/* False when the bytes are not a well-formed op. */
static bool skv_op_decode(const uint8_t *buf, size_t len, struct skv_op *op)
{
    struct gob_dec d;
    uint64_t kind = 0;
    gob_dec_init(&d, buf, len);
    gob_get_uint(&d, 1, &op->client_id);
    gob_get_uint(&d, 2, &op->seq);
    gob_get_uint(&d, 3, &kind);
    gob_get_bytes(&d, 4, &op->key, &op->key_len);
    gob_get_bytes(&d, 5, &op->value, &op->value_len);
    op->kind = (enum skv_op_kind)kind;
    return gob_dec_finish(&d) == GOB_OK && kind <= SKV_OP_APPEND && op->key_len <= SKV_KEY_MAX &&
           op->value_len <= SKV_VALUE_MAX;
}

/* ---------------------------------------------------------------- the server */

struct skv_server {
    struct sim *sim; /* time, timers and randomness come from here */
    int me;
    int gid;
    struct raft *rf;
    struct raft_persister *persister; /* borrowed: Raft writes it, the server reads its size */
    int64_t maxraftstate;             /* snapshot when the Raft state reaches it (<= 0: never) */
    bool dead;
    uint64_t applied_index;   /* the last log index applied */
    struct sc_clerk *sck;     /* the controller clerk (Go's ctrlers); cancelled by Kill */
    skv_make_end_fn make_end; /* names in configs -> ends; call it once per name */
    void *make_end_arg;
    struct sc_config config; /* the configuration applied last (config 0 at first) */

    /* TODO(5A): per shard its keys and values and its duplicate table (per client: the last
     * seq applied); the handlers waiting for their op. TODO(5B): the previous config and
     * each shard's state (serving, waiting to be pulled, to be deleted by its old owner).
     * Bound every table (shardkv.h's *_MAX). */
};

/* TODO: delete these two lines once every TODO is done: until then they let the compiler
 * accept helpers and parameters that nothing uses yet. */
#pragma GCC diagnostic ignored "-Wunused-function"  /* TODO: delete */
#pragma GCC diagnostic ignored "-Wunused-parameter" /* TODO: delete */

/* Hands `op` to Raft. True when this server is leader; *index and *term then name the log
 * slot the op will have if it commits in this term. */
static bool skv_start_op(struct skv_server *kv, const struct skv_op *op, uint64_t *index,
                         uint64_t *term)
{
    struct gob_enc e;
    gob_enc_init(&e);
    skv_op_encode(&e, op);
    bool leader = gob_enc_finish(&e) == GOB_OK &&
                  raft_start(kv->rf, gob_enc_bytes(&e), gob_enc_len(&e), index, term);
    gob_enc_free(&e);
    return leader;
}

/* True when this group serves `shard` now: the applied config gives it to kv->gid and (5B)
 * its data has arrived. A request for any other shard is answered ErrWrongGroup. */
static bool skv_serves(const struct skv_server *kv, int shard)
{
    /* TODO(5B): and the shard is not waiting for its data. */
    return kv->config.shards[shard] == kv->gid;
}

/* ---------------------------------------------------------------- handlers */

/* "ShardKV.Get", "ShardKV.Put" and "ShardKV.Append". */
static void handle_op(struct skv_server *kv, enum skv_op_kind kind, struct rpc_req *req,
                      const uint8_t *buf, size_t len)
{
    if (kv->dead) return; /* a killed server answers nothing */
    /* TODO(5A): decode the arguments; a key whose skv_key2shard this group does not serve
     * (skv_serves): answer ErrWrongGroup at once. Else as lab 4: make the op, skv_start_op it
     * (not leader: ErrWrongLeader), keep req and answer it from skv_apply once its index is
     * applied. Check the shard again when applying: the config may have moved on. */
    rpc_req_reply(req, NULL, 0); /* TODO(5A): replace (an empty reply: the clerk retries) */
}

static void handle_get(void *receiver, struct rpc_req *req, const uint8_t *buf, size_t len)
{
    handle_op(receiver, SKV_OP_GET, req, buf, len);
}

static void handle_put(void *receiver, struct rpc_req *req, const uint8_t *buf, size_t len)
{
    handle_op(receiver, SKV_OP_PUT, req, buf, len);
}

static void handle_append(void *receiver, struct rpc_req *req, const uint8_t *buf, size_t len)
{
    handle_op(receiver, SKV_OP_APPEND, req, buf, len);
}

/* ---------------------------------------------------------------- the task */

/* Go's background goroutine: while the server lives, the leader asks the controller for the
 * config after the current one and moves shards. It ends when the server is killed (Kill
 * cancels the clerk, so a query in flight returns SC_ECANCELED). */
static void skv_task(struct sim *sim, void *arg)
{
    struct skv_server *kv = arg;
    while (!kv->dead) {
        /* TODO(5B): when leader and the current config's moves are done, sc_clerk_query
         * config kv->config.num + 1 and, if there is one, put it through the log (one config
         * at a time, in order). While moves are pending, pull each incoming shard (its data
         * and its duplicate table) from a server of its previous owner (make_end on the names
         * of the previous config) and put it through the log. TODO(5C): once a shard has
         * arrived, tell its old owner, which deletes its copy through its own log. */
        sim_sleep_us(sim, SKV_POLL_US);
    }
}

/* ---------------------------------------------------------------- applying */

/* Restores the shards, the tables and the configs from a snapshot. False when malformed. */
static bool skv_restore(struct skv_server *kv, const uint8_t *snapshot, size_t len)
{
    /* TODO(5B): decode what skv_snapshot_maybe encodes, replacing the state. */
    return true;
}

/* Once the Raft state reaches maxraftstate bytes, hand Raft a snapshot through the index just
 * applied: the shards, the duplicate tables, the configs and the shards' states. */
static void skv_snapshot_maybe(struct skv_server *kv)
{
    if (kv->maxraftstate <= 0) return;
    if (raft_persister_state_size(kv->persister) < (size_t)kv->maxraftstate) return;
    /* TODO(5B): encode the state with labgob; raft_snapshot(kv->rf, kv->applied_index, ...). */
}

/* Raft's apply callback: committed entries and installed snapshots, in order. It may call
 * raft_start, raft_snapshot or raft_kill; re-read the state after them. */
static void skv_apply(void *ctx, const struct raft_apply_msg *msg)
{
    struct skv_server *kv = ctx;
    if (kv->dead) return;
    if (msg->snapshot_valid) {
        /* TODO(5B): a snapshot newer than applied_index replaces the state (skv_restore). */
        return;
    }
    if (!msg->command_valid || msg->command_index != kv->applied_index + 1) return;
    kv->applied_index = msg->command_index;
    struct skv_op op = {0};
    if (!skv_op_decode(msg->command, msg->command_len, &op)) return; /* TODO(5B): other kinds */
    /* TODO(5A): a shard this group does not serve any more: ErrWrongGroup. Else apply the op
     * to its shard (a Put or Append only when its seq is newer than the client's last one in
     * that shard's table) and answer the handler waiting at this index, if any. */
    skv_snapshot_maybe(kv);
}

/* ---------------------------------------------------------------- the lab API */

int skv_server_start(struct sim *sim, struct rpc_end *const *ends, int ends_count, int me,
                     struct raft_persister *persister, int64_t maxraftstate, int gid,
                     struct rpc_end *const *ctrlers, int ctrlers_count, skv_make_end_fn make_end,
                     void *make_end_arg, struct rpc_server *server, struct skv_server **out)
{
    if (sim == NULL || ends == NULL || ends_count < 1 || ends_count > SKV_SERVERS_MAX || me < 0 ||
        me >= ends_count || persister == NULL || gid <= 0 || ctrlers == NULL || make_end == NULL ||
        server == NULL || out == NULL)
        return SKV_EINVAL;
    struct skv_server *kv = calloc(1, sizeof(*kv));
    if (kv == NULL) return SKV_ENOMEM;
    kv->sim = sim;
    kv->me = me;
    kv->gid = gid;
    kv->persister = persister;
    kv->maxraftstate = maxraftstate;
    kv->make_end = make_end;
    kv->make_end_arg = make_end_arg;
    sc_config_init(&kv->config);
    /* Controller queries change nothing, so any id unique to this server will do. */
    kv->sck = sc_clerk_new(sim, ctrlers, ctrlers_count,
                           (UINT64_C(1) << 40) | ((uint64_t)gid << 8) | (uint64_t)me);
    if (kv->sck == NULL) {
        free(kv);
        return SKV_ENOMEM;
    }
    size_t snapshot_len = 0;
    const uint8_t *snapshot = raft_persister_snapshot(persister, &snapshot_len);
    int rc = snapshot_len > 0 && !skv_restore(kv, snapshot, snapshot_len) ? SKV_EDECODE : SKV_OK;
    if (rc == SKV_OK) {
        kv->rf = raft_make(sim, ends, ends_count, me, persister, skv_apply, kv);
        if (kv->rf == NULL) rc = SKV_ENOMEM;
    }
    if (rc == SKV_OK) {
        int rpc = raft_register(kv->rf, server);
        if (rpc == RPC_OK) rpc = rpc_server_add_method(server, "ShardKV", "Get", handle_get, kv);
        if (rpc == RPC_OK) rpc = rpc_server_add_method(server, "ShardKV", "Put", handle_put, kv);
        if (rpc == RPC_OK)
            rpc = rpc_server_add_method(server, "ShardKV", "Append", handle_append, kv);
        if (rpc != RPC_OK) rc = SKV_ERPC;
    }
    if (rc == SKV_OK && sim_task_spawn(sim, "shardkv", skv_task, kv) == NULL) rc = SKV_ENOMEM;
    if (rc != SKV_OK) {
        if (kv->rf != NULL) {
            raft_kill(kv->rf);
            raft_free(kv->rf);
        }
        sc_clerk_free(kv->sck);
        free(kv);
        return rc;
    }
    *out = kv;
    return SKV_OK;
}

void skv_server_kill(struct skv_server *kv)
{
    if (kv == NULL || kv->dead) return;
    kv->dead = true;
    raft_kill(kv->rf);
    sc_clerk_cancel(kv->sck); /* the task, parked in a query, returns and ends */
    /* TODO(5A): answer every waiting handler (ErrWrongLeader) and cancel your timers. */
}

void skv_server_free(struct skv_server *kv)
{
    if (kv == NULL) return;
    skv_server_kill(kv);
    raft_free(kv->rf);
    sc_clerk_free(kv->sck);
    /* TODO(5A): free the shards and the tables. */
    free(kv);
}

struct raft *skv_server_raft(const struct skv_server *kv)
{
    return kv->rf;
}
