/* skv_migrate: how configurations and shards reach a group: the server's task (Go's
 * background goroutine) and the inter-group RPCs "ShardKV.Pull" and "ShardKV.Delete".
 *
 * Every SKV_POLL_US, on the leader only, the task first starts a NOOP once per term: Raft
 * commits an entry of an earlier term only with one of the current term, and a group that owns
 * no shard gets no client op, so without it a restarted group holding SENDING shards would
 * never apply the DELETEs already in its log, stay unstable and never take the next
 * configuration. Then it does one of two things:
 *   - stable (no shard in motion): asks the controller for config cur.num + 1 and, when it
 *     exists, starts it in the log. Configurations are therefore applied one at a time and in
 *     order, each only after the previous one's moves are complete.
 *   - moving: for each PULLING shard, asks the servers of the previous owner (named in prev)
 *     for its data and table (Pull), and starts an INSERT with them; for each GC shard, asks
 *     the previous owner to delete its copy (Delete) and, once it has, starts a GCDONE.
 * Every command is checked again when applied (skv_server.c), so a stale or duplicated one is
 * harmless and a lost one is simply started again on the next round.
 *
 * Pull is answered from any replica without the log: a SENDING shard is frozen from the
 * moment its config was applied (no op applies to it), so every replica that reached config
 * num holds the same final data. Delete goes through the source's log (a DELETE entry); it
 * answers OK only once the copy is gone (or was gone already), NotReady while the DELETE it
 * started is on its way, so the caller simply asks again.
 */
#include <stdlib.h>
#include <string.h>

#include "skv_int.h"

static const struct sim_trace_kind trace_pull = {
    513, SIM_TOPIC_CLIENT, "skv.pull", {"gid", "num", "shard", "from_gid"}};
/* A replica of the old owner answered a Pull with the shard's data (once per answer). */
static const struct sim_trace_kind trace_send = {
    516, SIM_TOPIC_CLIENT, "skv.send", {"num", "shard", "from_gid", "to_gid"}};

/* ---------------------------------------------------------------- handlers (source side) */

static void move_reply(struct skv_server *kv, struct rpc_req *req, enum skv_reply_err err,
                       const struct skv_shard *sh)
{
    int rc = skv_pull_reply_encode(&kv->enc_out, err, sh);
    SIM_ASSERTF(kv->sim, kv->node, rc == SKV_OK, "encoding a pull reply: %s", skv_strerror(rc));
    rpc_req_reply(req, gob_enc_bytes(&kv->enc_out), gob_enc_len(&kv->enc_out));
}

static void handle_pull(void *receiver, struct rpc_req *req, const uint8_t *args, size_t len)
{
    struct skv_server *kv = receiver;
    int num = 0;
    int shard = 0;
    if (kv->dead) {
        move_reply(kv, req, SKV_REPLY_WRONG_LEADER, NULL);
    } else if (skv_move_args_decode(args, len, &num, &shard) != SKV_OK) {
        move_reply(kv, req, SKV_REPLY_BAD_ARGS, NULL);
    } else if (kv->cur.num == num && kv->shards[shard].state == SKV_SENDING) {
        sim_trace4(kv->sim, kv->node, &trace_send, num, shard, kv->gid, kv->cur.shards[shard]);
        move_reply(kv, req, SKV_REPLY_OK, &kv->shards[shard]);
    } else {
        move_reply(kv, req, SKV_REPLY_NOT_READY, NULL);
    }
}

static void handle_delete(void *receiver, struct rpc_req *req, const uint8_t *args, size_t len)
{
    struct skv_server *kv = receiver;
    int num = 0;
    int shard = 0;
    uint64_t index = 0;
    uint64_t term = 0;
    if (kv->dead) {
        move_reply(kv, req, SKV_REPLY_WRONG_LEADER, NULL);
    } else if (skv_move_args_decode(args, len, &num, &shard) != SKV_OK) {
        move_reply(kv, req, SKV_REPLY_BAD_ARGS, NULL);
    } else if (kv->cur.num > num ||
               (kv->cur.num == num && kv->shards[shard].state != SKV_SENDING)) {
        move_reply(kv, req, SKV_REPLY_OK, NULL); /* deleted already */
    } else if (kv->cur.num < num) {
        move_reply(kv, req, SKV_REPLY_NOT_READY, NULL);
    } else {
        int rc = skv_cmd_encode_shard(&kv->enc_cmd, SKV_CMD_DELETE, num, shard, NULL);
        SIM_ASSERTF(kv->sim, kv->node, rc == SKV_OK, "encoding a delete: %s", skv_strerror(rc));
        bool leader = raft_start(kv->rf, gob_enc_bytes(&kv->enc_cmd), gob_enc_len(&kv->enc_cmd),
                                 &index, &term);
        move_reply(kv, req, leader ? SKV_REPLY_NOT_READY : SKV_REPLY_WRONG_LEADER, NULL);
    }
}

int skv_migrate_register(struct skv_server *kv, struct rpc_server *server)
{
    if (rpc_server_add_method(server, "ShardKV", "Pull", handle_pull, kv) != RPC_OK)
        return SKV_ERPC;
    if (rpc_server_add_method(server, "ShardKV", "Delete", handle_delete, kv) != RPC_OK)
        return SKV_ERPC;
    return SKV_OK;
}

/* ---------------------------------------------------------------- the task (receiver side) */

static bool leader_now(const struct skv_server *kv)
{
    uint64_t term = 0;
    return !kv->dead && raft_get_state(kv->rf, &term);
}

/* Starts the command in enc_task (the task's encoder). */
static void task_start(struct skv_server *kv)
{
    uint64_t index = 0;
    uint64_t term = 0;
    raft_start(kv->rf, gob_enc_bytes(&kv->enc_task), gob_enc_len(&kv->enc_task), &index, &term);
}

static void poll_config(struct skv_server *kv)
{
    int want = kv->cur.num + 1;
    if (sc_clerk_query(kv->sck, want, &kv->poll_config) != SC_OK) return;
    if (kv->poll_config.num != want || kv->cur.num + 1 != want) return;
    if (!leader_now(kv) || !skv_server_stable(kv)) return;
    int rc = skv_cmd_encode_config(&kv->enc_task, &kv->poll_config);
    SIM_ASSERTF(kv->sim, kv->node, rc == SKV_OK, "encoding a config: %s", skv_strerror(rc));
    task_start(kv);
}

/* One call of `method` on the servers of shard's previous owner, in turn, until one answers
 * OK. For Pull, `into` receives the shard's data. Returns true on OK. */
static bool call_previous_owner(struct skv_server *kv, int shard, const char *method,
                                struct skv_shard *into)
{
    const struct sc_group *group = sc_config_group(&kv->prev, kv->prev.shards[shard]);
    int num = kv->cur.num;
    for (int i = 0; group != NULL && i < group->servers_count; i++) {
        struct rpc_end *end = skv_ends_get(&kv->ends, group->servers[i]);
        uint8_t *reply = NULL;
        size_t reply_len = 0;
        enum skv_reply_err err = SKV_REPLY_WRONG_LEADER;
        int rc = skv_move_args_encode(&kv->enc_task, num, shard);
        SIM_ASSERTF(kv->sim, kv->node, rc == SKV_OK, "encoding move args: %s", skv_strerror(rc));
        if (end == NULL || !rpc_end_call_wait(end, method, gob_enc_bytes(&kv->enc_task),
                                              gob_enc_len(&kv->enc_task), &reply, &reply_len))
            continue;
        skv_shard_clear(into);
        rc = skv_pull_reply_decode(reply, reply_len, &err, into);
        free(reply);
        /* The world may have moved on while the task was parked. */
        if (kv->dead || kv->cur.num != num) return false;
        if (rc == SKV_OK && err == SKV_REPLY_OK) return true;
    }
    return false;
}

static void pull_shard(struct skv_server *kv, int shard)
{
    struct skv_shard got;
    memset(&got, 0, sizeof(got));
    int num = kv->cur.num;
    sim_trace4(kv->sim, kv->node, &trace_pull, kv->gid, num, shard, kv->prev.shards[shard]);
    if (call_previous_owner(kv, shard, "ShardKV.Pull", &got) &&
        kv->shards[shard].state == SKV_PULLING && leader_now(kv)) {
        int rc = skv_cmd_encode_shard(&kv->enc_task, SKV_CMD_INSERT, num, shard, &got);
        SIM_ASSERTF(kv->sim, kv->node, rc == SKV_OK, "encoding an insert: %s", skv_strerror(rc));
        task_start(kv);
    }
    skv_shard_clear(&got);
}

static void gc_shard(struct skv_server *kv, int shard)
{
    struct skv_shard none;
    memset(&none, 0, sizeof(none));
    int num = kv->cur.num;
    if (call_previous_owner(kv, shard, "ShardKV.Delete", &none) &&
        kv->shards[shard].state == SKV_GC && leader_now(kv)) {
        int rc = skv_cmd_encode_shard(&kv->enc_task, SKV_CMD_GC_DONE, num, shard, NULL);
        SIM_ASSERTF(kv->sim, kv->node, rc == SKV_OK, "encoding a GC: %s", skv_strerror(rc));
        task_start(kv);
    }
    skv_shard_clear(&none);
}

static void move_shards(struct skv_server *kv)
{
    for (int s = 0; s < SC_NSHARDS && leader_now(kv); s++) {
        if (kv->shards[s].state == SKV_PULLING)
            pull_shard(kv, s);
        else if (kv->shards[s].state == SKV_GC)
            gc_shard(kv, s);
    }
}

/* Starts a NOOP when this leader has not started one in its current term. */
static void noop_maybe(struct skv_server *kv)
{
    uint64_t term = 0;
    if (!raft_get_state(kv->rf, &term) || term == kv->noop_term) return;
    int rc = skv_cmd_encode_shard(&kv->enc_task, SKV_CMD_NOOP, 0, 0, NULL);
    SIM_ASSERTF(kv->sim, kv->node, rc == SKV_OK, "encoding a no-op: %s", skv_strerror(rc));
    task_start(kv);
    kv->noop_term = term;
}

void skv_task(struct sim *sim, void *arg)
{
    struct skv_server *kv = arg;
    SIM_ASSERT(sim, kv->node, kv->sim == sim);
    while (!kv->dead) { /* ends with the server (Kill cancels the clerk it may wait in) */
        if (leader_now(kv)) {
            noop_maybe(kv);
            if (skv_server_stable(kv))
                poll_config(kv);
            else
                move_shards(kv);
        }
        if (kv->dead) break;
        sim_sleep_us(sim, SKV_POLL_US);
    }
    kv->task_running = false;
}
