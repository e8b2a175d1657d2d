/* server.c: a kvraft server for labsim's lab 4 (parts 4A-4B), as `labsim init kvraft` starts it.
 *
 * The contract is kvraft.h (read it first): start, kill, free and the server's Raft, plus
 * kv_strerror. The server is event-driven: its RPC handlers and Raft's apply callback run
 * inside events of `kv->sim`, nothing blocks and nothing needs a lock. A handler that waits
 * for its op to be applied keeps its struct rpc_req and answers it later (Go's waiting
 * channel). The clerk is client.c, next to this file.
 *
 * Build and grade (from the labsim clone), on our Raft (add RAFT_IMPL=... for yours):
 *   make grade KVRAFT_IMPL="/path/to/server.c /path/to/client.c" BUILD=build-mine
 */
/* TODO: this is the skeleton `labsim init kvraft` writes. Work through its TODO comments in
 * the lab's order (4A the service without snapshots, 4B snapshots) and grade each part with
 * `labsim run 4A` (4B). The Get/Put/Append arguments and replies are yours to define: put
 * their structs and labgob encode/decode in a header next to this file (say common.h, Go's
 * common.go), included by server.c and client.c, and write them like kv_op's below. */
#include <stdlib.h>
#include <string.h>

#include "kvraft.h"
#include "labgob.h"

/* ---------------------------------------------------------------- errors */

const char *kv_strerror(int err)
{
    switch (err) {
#define KV_ERR_CASE(name, value, text)                                                             \
    case name:                                                                                     \
        return text;
        KV_ERRNO_MAP(KV_ERR_CASE)
#undef KV_ERR_CASE
    }
    return "unknown kvraft error";
}

/* ---------------------------------------------------------------- the op in the log */

enum kv_op_kind { KV_OP_GET = 0, KV_OP_PUT = 1, KV_OP_APPEND = 2 };

/* Go's Op: what goes through the Raft log. Every op, Gets included, is applied in log order
 * on every server; (client_id, seq) names a Put or Append so a retried one is applied once.
 * On the wire each member is a labgob field, numbered from 1 in the order below. Zero fields
 * are left out (as Go's gob does), so decode into a zeroed struct: an absent field was zero.
 * This pair is the example to follow for every other message. */
struct kv_op {
    uint64_t client_id;
    uint64_t seq;
    enum kv_op_kind kind;
    const uint8_t *key; /* sending: borrowed; decoded: a view into the message */
    size_t key_len;
    const uint8_t *value;
    size_t value_len;
};

static void kv_op_encode(struct gob_enc *e, const struct kv_op *op)
{
    gob_put_uint(e, 1, op->client_id);
    gob_put_uint(e, 2, op->seq);
    gob_put_uint(e, 3, (uint64_t)op->kind);
    gob_put_bytes(e, 4, op->key, op->key_len);
    gob_put_bytes(e, 5, op->value, op->value_len);
}

/* False when the bytes are not a well-formed op. */
static bool kv_op_decode(const uint8_t *buf, size_t len, struct kv_op *op)
{
    struct gob_dec d;
    uint64_t kind = 0;
    gob_dec_init(&d, buf, len);
    gob_get_uint(&d, 1, &op->client_id);
    gob_get_uint(&d, 2, &op->seq);
    gob_get_uint(&d, 3, &kind);
    gob_get_bytes(&d, 4, &op->key, &op->key_len);
    gob_get_bytes(&d, 5, &op->value, &op->value_len);
    op->kind = (enum kv_op_kind)kind;
    return gob_dec_finish(&d) == GOB_OK && kind <= KV_OP_APPEND && op->key_len <= KV_KEY_MAX &&
           op->value_len <= KV_VALUE_MAX;
}

/* ---------------------------------------------------------------- the server */

struct kv_server {
    struct sim *sim; /* time, timers and randomness come from here */
    int me;
    struct raft *rf;
    struct raft_persister *persister; /* borrowed: Raft writes it, the server reads its size */
    int64_t maxraftstate; /* 4B: snapshot when the Raft state reaches it (<= 0: never) */
    bool dead;
    uint64_t applied_index; /* the last log index applied to the store */

    /* TODO(4A): the key/value store, the duplicate table (per client: the last seq applied
     * and its result) and the handlers waiting for their op (the struct rpc_req, the index
     * and term raft_start returned, a deadline). Bound every table (kvraft.h's *_MAX). */
};

/* TODO: delete these two lines once every TODO is done: until then they let the compiler
 * accept helpers and parameters that nothing uses yet. */
#pragma GCC diagnostic ignored "-Wunused-function"  /* TODO: delete */
#pragma GCC diagnostic ignored "-Wunused-parameter" /* TODO: delete */

/* Hands `op` to Raft. True when this server is leader; *index and *term then name the log
 * slot the op will have if it commits in this term. */
static bool kv_start_op(struct kv_server *kv, const struct kv_op *op, uint64_t *index,
                        uint64_t *term)
{
    struct gob_enc e;
    gob_enc_init(&e);
    kv_op_encode(&e, op);
    bool leader = gob_enc_finish(&e) == GOB_OK &&
                  raft_start(kv->rf, gob_enc_bytes(&e), gob_enc_len(&e), index, term);
    gob_enc_free(&e);
    return leader;
}

/* ---------------------------------------------------------------- handlers */

/* "KVServer.Get" (Go's Get). */
static void handle_get(void *receiver, struct rpc_req *req, const uint8_t *buf, size_t len)
{
    struct kv_server *kv = receiver;
    if (kv->dead) return; /* a killed server answers nothing */
    /* TODO(4A): decode the arguments; make the op (kind KV_OP_GET) and kv_start_op it. Not
     * leader: answer ErrWrongLeader at once. Leader: keep req with the index and term and
     * answer it from kv_apply once that index is applied (the value, or ErrWrongLeader when
     * another op took the slot or the term moved on), or from a timer when it waited too
     * long (so the clerk tries another server). */
    rpc_req_reply(req, NULL, 0); /* TODO(4A): replace (an empty reply: the clerk retries) */
}

/* "KVServer.Put" and "KVServer.Append" (Go's PutAppend). */
static void handle_put_append(struct kv_server *kv, enum kv_op_kind kind, struct rpc_req *req,
                              const uint8_t *buf, size_t len)
{
    if (kv->dead) return;
    /* TODO(4A): as handle_get, with the clerk's (client id, seq) in the op so that a retry is
     * applied at most once. */
    rpc_req_reply(req, NULL, 0); /* TODO(4A): replace */
}

static void handle_put(void *receiver, struct rpc_req *req, const uint8_t *buf, size_t len)
{
    handle_put_append(receiver, KV_OP_PUT, req, buf, len);
}

static void handle_append(void *receiver, struct rpc_req *req, const uint8_t *buf, size_t len)
{
    handle_put_append(receiver, KV_OP_APPEND, req, buf, len);
}

/* ---------------------------------------------------------------- applying */

/* Restores the store and the duplicate table from a snapshot (4B). False when malformed. */
static bool kv_restore(struct kv_server *kv, const uint8_t *snapshot, size_t len)
{
    /* TODO(4B): decode what kv_snapshot_maybe encodes, replacing the store and the table. */
    return true;
}

/* 4B: once the Raft state reaches maxraftstate bytes, hand Raft a snapshot through the
 * index just applied. */
static void kv_snapshot_maybe(struct kv_server *kv)
{
    if (kv->maxraftstate <= 0) return;
    if (raft_persister_state_size(kv->persister) < (size_t)kv->maxraftstate) return;
    /* TODO(4B): encode the store and the duplicate table with labgob and call
     * raft_snapshot(kv->rf, kv->applied_index, bytes, len). */
}

/* Raft's apply callback (Go's loop over applyCh): committed ops and installed snapshots, in
 * order. It may call raft_start, raft_snapshot or raft_kill; re-read the state after them. */
static void kv_apply(void *ctx, const struct raft_apply_msg *msg)
{
    struct kv_server *kv = ctx;
    if (kv->dead) return;
    if (msg->snapshot_valid) {
        /* TODO(4B): a snapshot newer than applied_index replaces the state (kv_restore);
         * handlers waiting at indices it covers answer ErrWrongLeader. */
        return;
    }
    if (!msg->command_valid || msg->command_index != kv->applied_index + 1) return;
    kv->applied_index = msg->command_index;
    struct kv_op op = {0};
    if (!kv_op_decode(msg->command, msg->command_len, &op)) return; /* not ours: skip it */
    /* TODO(4A): apply the op to the store (a Put or Append only when its seq is newer than
     * the client's last applied one; remember it and its result), then answer the handler
     * waiting at this index, if any. */
    kv_snapshot_maybe(kv);
}

/* ---------------------------------------------------------------- the lab API */

int kv_server_start(struct sim *sim, struct rpc_end *const *ends, int ends_count, int me,
                    struct raft_persister *persister, int64_t maxraftstate,
                    struct rpc_server *server, struct kv_server **out)
{
    if (sim == NULL || ends == NULL || ends_count < 1 || ends_count > KV_SERVERS_MAX || me < 0 ||
        me >= ends_count || persister == NULL || server == NULL || out == NULL)
        return KV_EINVAL;
    struct kv_server *kv = calloc(1, sizeof(*kv));
    if (kv == NULL) return KV_ENOMEM;
    kv->sim = sim;
    kv->me = me;
    kv->persister = persister;
    kv->maxraftstate = maxraftstate;
    size_t snapshot_len = 0;
    const uint8_t *snapshot = raft_persister_snapshot(persister, &snapshot_len);
    if (snapshot_len > 0 && !kv_restore(kv, snapshot, snapshot_len)) {
        free(kv);
        return KV_EDECODE;
    }
    kv->rf = raft_make(sim, ends, ends_count, me, persister, kv_apply, kv);
    if (kv->rf == NULL) {
        free(kv);
        return KV_ENOMEM;
    }
    int rc = raft_register(kv->rf, server);
    if (rc == RPC_OK) rc = rpc_server_add_method(server, "KVServer", "Get", handle_get, kv);
    if (rc == RPC_OK) rc = rpc_server_add_method(server, "KVServer", "Put", handle_put, kv);
    if (rc == RPC_OK) rc = rpc_server_add_method(server, "KVServer", "Append", handle_append, kv);
    if (rc != RPC_OK) {
        raft_kill(kv->rf);
        raft_free(kv->rf);
        free(kv);
        return KV_ERPC;
    }
    *out = kv;
    return KV_OK;
}

void kv_server_kill(struct kv_server *kv)
{
    if (kv == NULL || kv->dead) return;
    kv->dead = true;
    raft_kill(kv->rf);
    /* TODO(4A): answer every waiting handler (ErrWrongLeader) and cancel your timers. */
}

void kv_server_free(struct kv_server *kv)
{
    if (kv == NULL) return;
    kv_server_kill(kv);
    raft_free(kv->rf);
    /* TODO(4A): free the store and the tables. */
    free(kv);
}

struct raft *kv_server_raft(const struct kv_server *kv)
{
    return kv->rf;
}
