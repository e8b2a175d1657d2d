/* skv_clerk: the shardkv client (Go's Clerk), blocking code for sim tasks.
 *
 * The clerk caches a configuration (config 0 at first, so the first op asks the controller).
 * For an op on key k it finds the group owning key2shard(k) and tries that group's servers in
 * order: OK (or ErrNoKey for a Get) ends the op; ErrWrongGroup ends the pass; a lost call,
 * ErrWrongLeader or a timeout moves to the next server. After a pass without an answer it
 * sleeps 100 ms and fetches the latest configuration, forever (as Go's does). Each op has
 * the clerk's next sequence number, so its retries are applied once, also across a move.
 */
#include <stdlib.h>
#include <string.h>

#include "skv_int.h"

struct skv_clerk {
    struct sim *sim;
    struct sc_clerk *sck;
    struct sc_config config;
    struct skv_ends ends;
    uint64_t client_id;
    uint64_t seq;
    struct gob_enc enc;
    bool busy;
};

struct skv_clerk *skv_clerk_new(struct sim *sim, struct rpc_end *const *ctrlers, int ctrlers_count,
                                skv_make_end_fn make_end, void *make_end_arg, uint64_t client_id)
{
    if (sim == NULL || ctrlers == NULL || make_end == NULL) return NULL;
    struct skv_clerk *ck = calloc(1, sizeof(*ck));
    if (ck == NULL) return NULL;
    ck->sim = sim;
    ck->sck = sc_clerk_new(sim, ctrlers, ctrlers_count, client_id);
    if (ck->sck == NULL) {
        free(ck);
        return NULL;
    }
    sc_config_init(&ck->config);
    ck->ends.make_end = make_end;
    ck->ends.arg = make_end_arg;
    ck->client_id = client_id;
    gob_enc_init(&ck->enc);
    return ck;
}

void skv_clerk_free(struct skv_clerk *ck)
{
    if (ck == NULL) return;
    sc_clerk_free(ck->sck);
    gob_enc_free(&ck->enc);
    free(ck);
}

/* One pass over the group owning `shard`: true with *reply_buf (caller frees) and *reply
 * set when a server answered the op. */
static bool clerk_pass(struct skv_clerk *ck, int shard, const char *method, uint8_t **reply_buf,
                       struct skv_reply *reply)
{
    const struct sc_group *group = sc_config_group(&ck->config, ck->config.shards[shard]);
    for (int i = 0; group != NULL && i < group->servers_count; i++) {
        struct rpc_end *end = skv_ends_get(&ck->ends, group->servers[i]);
        size_t reply_len = 0;
        if (end == NULL || !rpc_end_call_wait(end, method, gob_enc_bytes(&ck->enc),
                                              gob_enc_len(&ck->enc), reply_buf, &reply_len))
            continue;
        bool decoded = skv_reply_decode(*reply_buf, reply_len, reply) == SKV_OK;
        if (decoded && (reply->err == SKV_REPLY_OK || reply->err == SKV_REPLY_NO_KEY)) return true;
        free(*reply_buf);
        *reply_buf = NULL;
        if (decoded && reply->err == SKV_REPLY_WRONG_GROUP) break;
    }
    return false;
}

/* Runs the op in ck->enc to completion; returns the reply bytes (caller frees). */
static uint8_t *clerk_run(struct skv_clerk *ck, enum skv_op_kind kind, int shard,
                          struct skv_reply *reply)
{
    static const char *const methods[SKV_OP_KINDS_COUNT] = {"ShardKV.Get", "ShardKV.Put",
                                                            "ShardKV.Append"};
    SIM_ASSERT(ck->sim, SIM_NODE_NONE, sim_task_current(ck->sim) != NULL);
    SIM_ASSERT(ck->sim, SIM_NODE_NONE, !ck->busy);
    ck->busy = true;
    uint8_t *reply_buf = NULL;
    while (!clerk_pass(ck, shard, methods[kind], &reply_buf, reply)) { /* forever, as Go's */
        sim_sleep_us(ck->sim, SKV_CLERK_SLEEP_US);
        int rc = sc_clerk_query(ck->sck, -1, &ck->config);
        SIM_ASSERTF(ck->sim, SIM_NODE_NONE, rc == SC_OK, "Query(-1): %s", sc_strerror(rc));
    }
    ck->busy = false;
    return reply_buf;
}

static int clerk_encode(struct skv_clerk *ck, enum skv_op_kind kind, const char *key,
                        const char *value)
{
    if (key == NULL) return SKV_EINVAL;
    struct skv_op op = {
        .client_id = ck->client_id,
        .seq = ck->seq + 1,
        .kind = kind,
        .key = (const uint8_t *)key,
        .key_len = strlen(key),
        .value = (const uint8_t *)value,
        .value_len = value == NULL ? 0 : strlen(value),
    };
    int rc = skv_op_encode(&ck->enc, &op);
    if (rc == SKV_OK) ck->seq++;
    return rc;
}

char *skv_clerk_get(struct skv_clerk *ck, const char *key)
{
    struct skv_reply reply;
    if (clerk_encode(ck, SKV_OP_GET, key, NULL) != SKV_OK) return NULL;
    uint8_t *buf = clerk_run(ck, SKV_OP_GET, skv_key2shard(key), &reply);
    char *value = malloc(reply.value_len + 1);
    if (value != NULL) {
        if (reply.value_len > 0) memcpy(value, reply.value, reply.value_len);
        value[reply.value_len] = 0;
    }
    free(buf);
    return value;
}

static int clerk_write(struct skv_clerk *ck, enum skv_op_kind kind, const char *key,
                       const char *value)
{
    struct skv_reply reply;
    int rc = clerk_encode(ck, kind, key, value);
    if (rc != SKV_OK) return rc;
    free(clerk_run(ck, kind, skv_key2shard(key), &reply));
    return SKV_OK;
}

int skv_clerk_put(struct skv_clerk *ck, const char *key, const char *value)
{
    return clerk_write(ck, SKV_OP_PUT, key, value);
}

int skv_clerk_append(struct skv_clerk *ck, const char *key, const char *value)
{
    return clerk_write(ck, SKV_OP_APPEND, key, value);
}
