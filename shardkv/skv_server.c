/* skv_server: a shardkv replica (Go's ShardKV): client requests, the apply loop, snapshots.
 *
 * Client requests ("ShardKV.Get/Put/Append") follow kvraft's life: decode, refuse at once
 * with ErrWrongGroup when the key's shard is not served here, otherwise start the op in Raft,
 * park the request and answer it when its index is applied (ErrWrongLeader when leadership or
 * the term moved on, ErrTimeout after SKV_WAIT_TIMEOUT_US). The shard is checked again when
 * the op is applied, since a configuration may have been applied in between: the answer is
 * then ErrWrongGroup and the op had no effect.
 *
 * Applying (skv_apply), in log order on every replica:
 *   OP      Get reads; Put/Append apply once per (client, seq) through the shard's table.
 *   CONFIG  only config cur.num + 1 and only when stable: shards leaving become SENDING,
 *           shards arriving from another group PULLING, from no group (gid 0) SERVING.
 *   INSERT  the pulled data and table of a PULLING shard of this config: it becomes GC.
 *   DELETE  a SENDING shard of this config is dropped (the new owner has it): ABSENT.
 *   GCDONE  a GC shard of this config: the old owner deleted its copy; SERVING.
 * Anything stale (another config number, another state) is applied as a no-op.
 *
 * Invariants: kvraft's (applied_index grows by one; every parked request answered once),
 * plus skv_int.h's shard invariants.
 */
#include <stdlib.h>
#include <string.h>

#include "skv_int.h"

/* Trace kinds 510-529 belong to shardkv. */
static const struct sim_trace_kind trace_config = {
    510, SIM_TOPIC_APPLY, "skv.config", {"gid", "num", "index"}};
static const struct sim_trace_kind trace_shard = {
    511, SIM_TOPIC_APPLY, "skv.shard", {"gid", "num", "shard", "state"}};
static const struct sim_trace_kind trace_snapshot = {
    512, SIM_TOPIC_SNAP, "skv.snapshot", {"gid", "index", "bytes"}};
/* A shard's move between groups as the log applies it (skv.send, 516, is in skv_migrate.c):
 * the new owner received its data (INSERT), the old owner deleted its copy (DELETE). */
static const struct sim_trace_kind trace_receive = {
    514, SIM_TOPIC_APPLY, "skv.receive", {"num", "shard", "from_gid", "to_gid"}};
static const struct sim_trace_kind trace_delete = {
    515, SIM_TOPIC_APPLY, "skv.delete", {"num", "shard", "from_gid", "to_gid"}};

bool skv_server_stable(const struct skv_server *kv)
{
    for (int s = 0; s < SC_NSHARDS; s++) {
        if (kv->shards[s].state != SKV_ABSENT && kv->shards[s].state != SKV_SERVING) return false;
    }
    return true;
}

static bool serves(const struct skv_server *kv, int shard)
{
    enum skv_shard_state st = kv->shards[shard].state;
    return kv->cur.shards[shard] == kv->gid && (st == SKV_SERVING || st == SKV_GC);
}

static int op_shard(const struct skv_op *op)
{
    return op->key_len == 0 ? 0 : (int)(op->key[0] % SC_NSHARDS);
}

static void reply_send(struct skv_server *kv, struct rpc_req *req, const struct skv_reply *r)
{
    int rc = skv_reply_encode(&kv->enc_out, r);
    SIM_ASSERTF(kv->sim, kv->node, rc == SKV_OK, "encoding a reply: %s", skv_strerror(rc));
    rpc_req_reply(req, gob_enc_bytes(&kv->enc_out), gob_enc_len(&kv->enc_out));
}

static void reply_err(struct skv_server *kv, struct rpc_req *req, enum skv_reply_err err)
{
    struct skv_reply r = {.err = err};
    reply_send(kv, req, &r);
}

static void pending_answer(struct skv_server *kv, uint32_t at, const struct skv_reply *r)
{
    SIM_ASSERT(kv->sim, kv->node, at < kv->pending_count);
    struct rpc_req *req = kv->pending[at].req;
    memmove(&kv->pending[at], &kv->pending[at + 1],
            (kv->pending_count - at - 1) * sizeof(kv->pending[0]));
    kv->pending_count--;
    reply_send(kv, req, r);
}

static void pending_fail(struct skv_server *kv, uint32_t at, enum skv_reply_err err)
{
    struct skv_reply r = {.err = err};
    pending_answer(kv, at, &r);
}

static void skv_tick(struct sim *sim, void *arg);

static void tick_arm(struct skv_server *kv)
{
    if (kv->dead || kv->pending_count == 0 || kv->tick_timer != 0) return;
    kv->tick_timer = sim_after(kv->sim, SKV_TICK_US, skv_tick, kv);
}

static void skv_tick(struct sim *sim, void *arg)
{
    struct skv_server *kv = arg;
    kv->tick_timer = 0;
    if (kv->dead) return;
    uint64_t term = 0;
    bool leader = raft_get_state(kv->rf, &term);
    uint32_t at = 0;
    while (at < kv->pending_count) {
        const struct skv_pending *p = &kv->pending[at];
        if (!leader || term != p->term || rpc_req_dead(p->req))
            pending_fail(kv, at, SKV_REPLY_WRONG_LEADER);
        else if (sim_now_us(sim) >= p->deadline_us)
            pending_fail(kv, at, SKV_REPLY_TIMEOUT);
        else
            at++;
    }
    tick_arm(kv);
}

static void skv_handle(struct skv_server *kv, enum skv_op_kind kind, struct rpc_req *req,
                       const uint8_t *args, size_t args_len)
{
    struct skv_op op;
    if (kv->dead) {
        reply_err(kv, req, SKV_REPLY_WRONG_LEADER);
        return;
    }
    if (skv_op_decode(args, args_len, &op) != SKV_OK || op.kind != kind) {
        reply_err(kv, req, SKV_REPLY_BAD_ARGS);
        return;
    }
    if (!serves(kv, op_shard(&op))) {
        reply_err(kv, req, SKV_REPLY_WRONG_GROUP);
        return;
    }
    if (kv->pending_count >= SKV_PENDING_MAX) {
        reply_err(kv, req, SKV_REPLY_WRONG_LEADER);
        return;
    }
    int rc = skv_cmd_encode_op(&kv->enc_cmd, &op);
    SIM_ASSERTF(kv->sim, kv->node, rc == SKV_OK, "encoding an op: %s", skv_strerror(rc));
    uint64_t index = 0;
    uint64_t term = 0;
    bool leader =
        raft_start(kv->rf, gob_enc_bytes(&kv->enc_cmd), gob_enc_len(&kv->enc_cmd), &index, &term);
    if (!leader || kv->dead || index <= kv->applied_index) {
        reply_err(kv, req, SKV_REPLY_WRONG_LEADER);
        return;
    }
    kv->pending[kv->pending_count++] = (struct skv_pending){
        .req = req,
        .index = index,
        .term = term,
        .client_id = op.client_id,
        .seq = op.seq,
        .deadline_us = sim_now_us(kv->sim) + SKV_WAIT_TIMEOUT_US,
    };
    tick_arm(kv);
}

static void handle_get(void *kv, struct rpc_req *req, const uint8_t *args, size_t len)
{
    skv_handle(kv, SKV_OP_GET, req, args, len);
}

static void handle_put(void *kv, struct rpc_req *req, const uint8_t *args, size_t len)
{
    skv_handle(kv, SKV_OP_PUT, req, args, len);
}

static void handle_append(void *kv, struct rpc_req *req, const uint8_t *args, size_t len)
{
    skv_handle(kv, SKV_OP_APPEND, req, args, len);
}

/* ---------------------------------------------------------------- apply */

static struct skv_reply apply_op(struct skv_server *kv, const struct skv_op *op)
{
    struct skv_reply r = {.err = SKV_REPLY_OK};
    int shard = op_shard(op);
    struct skv_shard *sh = &kv->shards[shard];
    if (!serves(kv, shard)) {
        r.err = SKV_REPLY_WRONG_GROUP;
        return r;
    }
    if (op->kind == SKV_OP_GET) {
        const struct skv_entry *e = skv_shard_find(sh, op->key, op->key_len);
        if (e == NULL) {
            r.err = SKV_REPLY_NO_KEY;
        } else {
            r.value = (const uint8_t *)e->value;
            r.value_len = e->value_len;
        }
        return r;
    }
    if (op->seq <= skv_shard_seq(sh, op->client_id)) return r; /* applied already */
    int rc = skv_shard_write(sh, op->key, op->key_len, op->value, op->value_len,
                             op->kind == SKV_OP_APPEND);
    SIM_ASSERTF(kv->sim, kv->node, rc == SKV_OK, "applying an op: %s", skv_strerror(rc));
    rc = skv_shard_record(sh, op->client_id, op->seq);
    SIM_ASSERTF(kv->sim, kv->node, rc == SKV_OK, "recording a client: %s", skv_strerror(rc));
    return r;
}

static void shard_set(struct skv_server *kv, int shard, enum skv_shard_state state)
{
    kv->shards[shard].state = state;
    sim_trace4(kv->sim, kv->node, &trace_shard, kv->gid, kv->cur.num, shard, (int64_t)state);
}

static void apply_config(struct skv_server *kv, const struct sc_config *next, uint64_t index)
{
    if (next->num != kv->cur.num + 1 || !skv_server_stable(kv)) return;
    kv->prev = kv->cur;
    kv->cur = *next;
    kv->configs_epoch++;
    sim_trace4(kv->sim, kv->node, &trace_config, kv->gid, next->num, (int64_t)index, 0);
    for (int s = 0; s < SC_NSHARDS; s++) {
        bool was = kv->prev.shards[s] == kv->gid;
        bool now = next->shards[s] == kv->gid;
        if (was && !now)
            shard_set(kv, s, SKV_SENDING);
        else if (!was && now)
            shard_set(kv, s, kv->prev.shards[s] == 0 ? SKV_SERVING : SKV_PULLING);
    }
}

/* INSERT, DELETE and GCDONE: each moves one shard of config cmd->num one state on. */
static void apply_shard_cmd(struct skv_server *kv, const struct skv_cmd *cmd)
{
    struct skv_shard *sh = &kv->shards[cmd->shard];
    if (cmd->num != kv->cur.num) return;
    if (cmd->kind == SKV_CMD_INSERT && sh->state == SKV_PULLING) {
        skv_shard_clear(sh);
        *sh = *cmd->insert; /* takes the decoded data and table */
        memset(cmd->insert, 0, sizeof(*cmd->insert));
        sim_trace4(kv->sim, kv->node, &trace_receive, cmd->num, cmd->shard,
                   kv->prev.shards[cmd->shard], kv->gid);
        shard_set(kv, cmd->shard, SKV_GC);
    } else if (cmd->kind == SKV_CMD_DELETE && sh->state == SKV_SENDING) {
        skv_shard_clear(sh);
        sim_trace4(kv->sim, kv->node, &trace_delete, cmd->num, cmd->shard, kv->gid,
                   kv->cur.shards[cmd->shard]);
        shard_set(kv, cmd->shard, SKV_ABSENT);
    } else if (cmd->kind == SKV_CMD_GC_DONE && sh->state == SKV_GC) {
        shard_set(kv, cmd->shard, SKV_SERVING);
    }
}

static void answer_applied(struct skv_server *kv, uint64_t index, const struct skv_op *op,
                           const struct skv_reply *r)
{
    uint64_t term = 0;
    bool leader = raft_get_state(kv->rf, &term);
    uint32_t at = 0;
    while (at < kv->pending_count) {
        const struct skv_pending *p = &kv->pending[at];
        if (p->index != index) {
            at++;
            continue;
        }
        bool mine = op != NULL && p->client_id == op->client_id && p->seq == op->seq;
        if (mine && leader && term == p->term)
            pending_answer(kv, at, r);
        else
            pending_fail(kv, at, SKV_REPLY_WRONG_LEADER);
    }
}

static void snapshot_maybe(struct skv_server *kv)
{
    if (kv->maxraftstate <= 0) return;
    if (raft_persister_state_size(kv->persister) < (size_t)kv->maxraftstate) return;
    int rc = skv_snapshot_encode_cached(&kv->enc_out, &kv->snap_cache, kv->applied_index, &kv->cur,
                                        &kv->prev, kv->configs_epoch, kv->shards);
    SIM_ASSERTF(kv->sim, kv->node, rc == SKV_OK, "encoding a snapshot: %s", skv_strerror(rc));
    size_t len = gob_enc_len(&kv->enc_out);
    sim_trace4(kv->sim, kv->node, &trace_snapshot, kv->gid, (int64_t)kv->applied_index,
               (int64_t)len, 0);
    raft_snapshot(kv->rf, kv->applied_index, gob_enc_bytes(&kv->enc_out), len);
}

static void shards_clear_all(struct skv_shard *shards)
{
    for (int s = 0; s < SC_NSHARDS; s++) {
        skv_shard_clear(&shards[s]);
        shards[s].state = SKV_ABSENT;
    }
}

/* Replaces the whole state with a snapshot's; returns its rc. */
static int snapshot_load(struct skv_server *kv, const uint8_t *buf, size_t len)
{
    shards_clear_all(kv->shards);
    sc_config_init(&kv->cur);
    sc_config_init(&kv->prev);
    kv->configs_epoch++;
    return skv_snapshot_decode(buf, len, &kv->applied_index, &kv->cur, &kv->prev, kv->shards);
}

static void apply_snapshot(struct skv_server *kv, const struct raft_apply_msg *msg)
{
    if (msg->snapshot_index <= kv->applied_index) return;
    int rc = snapshot_load(kv, msg->snapshot, msg->snapshot_len);
    SIM_ASSERTF(kv->sim, kv->node, rc == SKV_OK, "decoding a snapshot: %s", skv_strerror(rc));
    SIM_ASSERT(kv->sim, kv->node, kv->applied_index == msg->snapshot_index);
    uint32_t at = 0;
    while (at < kv->pending_count) {
        if (kv->pending[at].index <= kv->applied_index)
            pending_fail(kv, at, SKV_REPLY_WRONG_LEADER);
        else
            at++;
    }
}

static void skv_apply(void *ctx, const struct raft_apply_msg *msg)
{
    struct skv_server *kv = ctx;
    if (kv->dead) return;
    if (msg->snapshot_valid) {
        apply_snapshot(kv, msg);
        return;
    }
    if (!msg->command_valid || msg->command_index <= kv->applied_index) return;
    SIM_ASSERTF(kv->sim, kv->node, msg->command_index == kv->applied_index + 1,
                "apply out of order: applied %llu, got index %llu",
                (unsigned long long)kv->applied_index, (unsigned long long)msg->command_index);
    uint64_t index = msg->command_index;
    struct skv_cmd cmd = {.config = &kv->cmd_config, .insert = &kv->cmd_insert};
    kv->applied_index = index;
    int rc = skv_cmd_decode(msg->command, msg->command_len, &cmd);
    if (rc != SKV_OK) {
        answer_applied(kv, index, NULL, NULL); /* not ours: a no-op on every replica */
    } else if (cmd.kind == SKV_CMD_OP) {
        struct skv_reply r = apply_op(kv, &cmd.op);
        answer_applied(kv, index, &cmd.op, &r);
    } else {
        if (cmd.kind == SKV_CMD_CONFIG)
            apply_config(kv, cmd.config, index);
        else
            apply_shard_cmd(kv, &cmd);
        answer_applied(kv, index, NULL, NULL);
    }
    skv_shard_clear(&kv->cmd_insert);
    snapshot_maybe(kv);
}

/* ---------------------------------------------------------------- lifecycle */

static void server_release(struct skv_server *kv)
{
    shards_clear_all(kv->shards);
    skv_shard_clear(&kv->cmd_insert);
    sc_clerk_free(kv->sck);
    gob_enc_free(&kv->enc_cmd);
    gob_enc_free(&kv->enc_out);
    gob_enc_free(&kv->enc_task);
    skv_snap_cache_free(&kv->snap_cache);
    free(kv);
}

static int server_register(struct skv_server *kv, struct rpc_server *server)
{
    static const rpc_handler_fn handlers[SKV_OP_KINDS_COUNT] = {handle_get, handle_put,
                                                                handle_append};
    for (int k = 0; k < SKV_OP_KINDS_COUNT; k++) {
        if (rpc_server_add_method(server, "ShardKV", skv_method_names[k], handlers[k], kv) !=
            RPC_OK)
            return SKV_ERPC;
    }
    if (skv_migrate_register(kv, server) != SKV_OK) return SKV_ERPC;
    return raft_register(kv->rf, server) == 0 ? SKV_OK : SKV_ERPC;
}

static bool start_args_ok(struct sim *sim, struct rpc_end *const *ends, int ends_count, int me,
                          struct raft_persister *persister, int gid, struct rpc_end *const *ctrlers,
                          int ctrlers_count, skv_make_end_fn make_end, struct rpc_server *server)
{
    if (sim == NULL || ends == NULL || persister == NULL || server == NULL) return false;
    if (ctrlers == NULL || make_end == NULL || gid <= 0) return false;
    if (ctrlers_count < 1 || ctrlers_count > SC_SERVERS_MAX) return false;
    return ends_count >= 1 && ends_count <= SKV_SERVERS_MAX && me >= 0 && me < ends_count;
}

/* Everything but the Raft and the task: the object, the restored state, the clerk. */
static int server_new(struct sim *sim, int me, struct raft_persister *persister,
                      int64_t maxraftstate, int gid, struct rpc_end *const *ctrlers,
                      int ctrlers_count, struct skv_server **out)
{
    struct skv_server *kv = calloc(1, sizeof(*kv));
    if (kv == NULL) return SKV_ENOMEM;
    kv->sim = sim;
    kv->me = me;
    kv->gid = gid;
    kv->node = sim_node_current(sim);
    kv->persister = persister;
    kv->maxraftstate = maxraftstate;
    gob_enc_init(&kv->enc_cmd);
    gob_enc_init(&kv->enc_out);
    gob_enc_init(&kv->enc_task);
    skv_snap_cache_init(&kv->snap_cache);
    kv->configs_epoch = 1;
    /* Controller queries are never deduplicated, so any id unique to this server will do. */
    uint64_t id = (UINT64_C(1) << 40) | ((uint64_t)gid << 8) | (uint64_t)me;
    kv->sck = sc_clerk_new(sim, ctrlers, ctrlers_count, id);
    size_t snap_len = 0;
    const uint8_t *snap = raft_persister_snapshot(persister, &snap_len);
    int rc = kv->sck == NULL ? SKV_ENOMEM : SKV_OK;
    if (rc == SKV_OK && snap_len > 0) rc = snapshot_load(kv, snap, snap_len);
    if (rc != SKV_OK) {
        server_release(kv);
        return rc == SKV_ENOMEM ? SKV_ENOMEM : SKV_EDECODE;
    }
    *out = kv;
    return SKV_OK;
}

int skv_server_start(struct sim *sim, struct rpc_end *const *ends, int ends_count, int me,
                     struct raft_persister *persister, int64_t maxraftstate, int gid,
                     struct rpc_end *const *ctrlers, int ctrlers_count, skv_make_end_fn make_end,
                     void *make_end_arg, struct rpc_server *server, struct skv_server **out)
{
    if (out == NULL || !start_args_ok(sim, ends, ends_count, me, persister, gid, ctrlers,
                                      ctrlers_count, make_end, server))
        return SKV_EINVAL;
    struct skv_server *kv = NULL;
    int rc = server_new(sim, me, persister, maxraftstate, gid, ctrlers, ctrlers_count, &kv);
    if (rc != SKV_OK) return rc;
    kv->ends.make_end = make_end;
    kv->ends.arg = make_end_arg;
    kv->rf = raft_make(sim, ends, ends_count, me, persister, skv_apply, kv);
    rc = kv->rf == NULL ? SKV_ENOMEM : server_register(kv, server);
    if (rc == SKV_OK && sim_task_spawn(sim, "shardkv", skv_task, kv) == NULL) rc = SKV_ENOMEM;
    if (rc != SKV_OK) {
        if (kv->rf != NULL) {
            raft_kill(kv->rf);
            raft_free(kv->rf);
        }
        server_release(kv);
        return rc;
    }
    kv->task_running = true;
    *out = kv;
    return SKV_OK;
}

void skv_server_kill(struct skv_server *kv)
{
    if (kv->dead) return;
    kv->dead = true;
    raft_kill(kv->rf);
    sc_clerk_cancel(kv->sck);
    if (kv->tick_timer != 0) sim_timer_cancel(kv->sim, kv->tick_timer);
    kv->tick_timer = 0;
    while (kv->pending_count > 0)
        pending_fail(kv, 0, SKV_REPLY_WRONG_LEADER);
}

void skv_server_free(struct skv_server *kv)
{
    if (kv == NULL) return;
    skv_server_kill(kv);
    raft_free(kv->rf);
    server_release(kv);
}

struct raft *skv_server_raft(const struct skv_server *kv)
{
    return kv->rf;
}
