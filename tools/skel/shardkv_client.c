/* client.c: a shardkv clerk for labsim's lab 5B, as `labsim init shardkv` starts it.
 *
 * The contract is shardkv.h's "clerk" part. The clerk is straight-line blocking code called
 * from inside a sim task: it may wait for a reply (rpc_end_call_wait) and sleep (sim_sleep_us)
 * in virtual time. It finds a key's group through the shard controller (a controller clerk of
 * its own) and reaches that group's servers through make_end. The server is server.c, next to
 * this file.
 */
/* TODO: this is the skeleton `labsim init shardkv` writes; see the TODO at the top of
 * server.c. Until the TODOs here are done, a Get returns "" and a Put or Append does nothing,
 * so the tests fail on the values they read. */
#include <stdlib.h>
#include <string.h>

#include "labgob.h"
#include "shardkv.h"

#define CLERK_PASS_SLEEP_US SIM_MS(100) /* pause after a pass over a group without answer */

struct skv_clerk {
    struct sim *sim;
    struct sc_clerk *sck; /* the controller clerk, named by client_id too */
    skv_make_end_fn make_end;
    void *make_end_arg;
    uint64_t client_id;      /* given by the caller: the name the duplicate tables know us by */
    uint64_t seq;            /* the sequence number of the last op started */
    struct sc_config config; /* the latest config the clerk knows (config 0 at first) */
    /* TODO: the ends make_end gave for each server name (call it once per name). */
};

/* TODO: delete these two lines once every TODO is done: until then they let the compiler
 * accept helpers and parameters that nothing uses yet. */
#pragma GCC diagnostic ignored "-Wunused-function"  /* TODO: delete */
#pragma GCC diagnostic ignored "-Wunused-parameter" /* TODO: delete */

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
    ck->make_end = make_end;
    ck->make_end_arg = make_end_arg;
    ck->client_id = client_id;
    sc_config_init(&ck->config);
    return ck;
}

void skv_clerk_free(struct skv_clerk *ck)
{
    if (ck == NULL) return;
    sc_clerk_free(ck->sck);
    free(ck);
}

/* One attempt: sends `args` (an encoded message) as `method` ("ShardKV.Get", ...) through
 * `end` (make_end's, for a server name) and waits. True when it answered; *reply (malloc'd,
 * the caller frees it) and *reply_len then hold its reply. False when it was lost. */
static bool clerk_call(struct skv_clerk *ck, struct rpc_end *end, const char *method,
                       const struct gob_enc *args, uint8_t **reply, size_t *reply_len)
{
    return rpc_end_call_wait(end, method, gob_enc_bytes(args), gob_enc_len(args), reply, reply_len);
}

/* The loop every operation shares (Go's Get and PutAppend): TODO: encode the arguments once
 * (key, client_id, a new seq); then forever: shard = skv_key2shard(key), gid =
 * ck->config.shards[shard]; try each server of that group (sc_config_group) with clerk_call
 * through its end (make_end on a name's first use, then kept); an OK (or ErrNoKey) answer
 * ends the call; ErrWrongGroup stops trying that group; after the pass sleep
 * CLERK_PASS_SLEEP_US and ask the controller for the latest config
 * (sc_clerk_query(ck->sck, -1, &ck->config)). */

char *skv_clerk_get(struct skv_clerk *ck, const char *key)
{
    if (key == NULL || strlen(key) > SKV_KEY_MAX) return NULL;
    /* TODO: "ShardKV.Get" as above; return a malloc'd copy of the value. */
    char *value = malloc(1);
    if (value != NULL) value[0] = '\0';
    return value; /* TODO: replace */
}

/* Go's PutAppend(key, value, op), shared by Put and Append. */
static int clerk_put_append(struct skv_clerk *ck, const char *method, const char *key,
                            const char *value)
{
    if (key == NULL || value == NULL || strlen(key) > SKV_KEY_MAX || strlen(value) > SKV_VALUE_MAX)
        return SKV_EINVAL;
    /* TODO: `method` as above, until the owning group answers OK. */
    return SKV_OK;
}

int skv_clerk_put(struct skv_clerk *ck, const char *key, const char *value)
{
    return clerk_put_append(ck, "ShardKV.Put", key, value);
}

int skv_clerk_append(struct skv_clerk *ck, const char *key, const char *value)
{
    return clerk_put_append(ck, "ShardKV.Append", key, value);
}
