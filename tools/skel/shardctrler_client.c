/* client.c: a shard controller clerk for labsim's lab 5A, as `labsim init shardctrler` starts
 * it.
 *
 * The contract is shardctrler.h's "clerk" part. The clerk is straight-line blocking code: the
 * harness (and a shardkv server's task) calls it from inside a sim task, so it may wait for a
 * reply (rpc_end_call_wait) and sleep (sim_sleep_us) in virtual time. The server is server.c,
 * next to this file.
 */
/* TODO: this is the skeleton `labsim init shardctrler` writes; see the TODO at the top of
 * server.c. Until the TODOs here are done, Join, Leave and Move do nothing and Query answers
 * config 0, so the tests fail on the configurations they read. */
#include <stdlib.h>
#include <string.h>

#include "labgob.h"
#include "shardctrler.h"

#define CLERK_PASS_SLEEP_US SIM_MS(100) /* pause after a pass over the servers without answer */

struct sc_clerk {
    struct sim *sim;
    struct rpc_end *ends[SC_SERVERS_MAX]; /* borrowed */
    int ends_count;
    uint64_t client_id; /* given by the caller: the name the duplicate tables know us by */
    uint64_t seq;       /* the sequence number of the last op started */
    int leader;         /* the server to try first: the one that answered last */
    bool canceled;      /* sc_clerk_cancel: every call returns SC_ECANCELED */
};

/* TODO: delete these two lines once every TODO is done: until then they let the compiler
 * accept helpers and parameters that nothing uses yet. */
#pragma GCC diagnostic ignored "-Wunused-function"  /* TODO: delete */
#pragma GCC diagnostic ignored "-Wunused-parameter" /* TODO: delete */

struct sc_clerk *sc_clerk_new(struct sim *sim, struct rpc_end *const *ends, int ends_count,
                              uint64_t client_id)
{
    if (sim == NULL || ends == NULL || ends_count < 1 || ends_count > SC_SERVERS_MAX) return NULL;
    struct sc_clerk *ck = calloc(1, sizeof(*ck));
    if (ck == NULL) return NULL;
    ck->sim = sim;
    for (int i = 0; i < ends_count; i++)
        ck->ends[i] = ends[i];
    ck->ends_count = ends_count;
    ck->client_id = client_id;
    return ck;
}

void sc_clerk_free(struct sc_clerk *ck)
{
    free(ck);
}

void sc_clerk_cancel(struct sc_clerk *ck)
{
    ck->canceled = true;
}

/* One attempt: sends `args` (an encoded message) as `method` ("ShardCtrler.Join", ...) to
 * server `at` and waits. True when it answered; *reply (malloc'd, the caller frees it) and
 * *reply_len then hold its reply. False when the request or the reply was lost. */
static bool clerk_call(struct sc_clerk *ck, int at, const char *method, const struct gob_enc *args,
                       uint8_t **reply, size_t *reply_len)
{
    return rpc_end_call_wait(ck->ends[at], method, gob_enc_bytes(args), gob_enc_len(args), reply,
                             reply_len);
}

/* The loop every operation shares (Go's `for { for each server ... }`): TODO: encode the
 * arguments once (with client_id and a new seq), then call `method` with clerk_call,
 * starting at ck->leader; on a lost call or ErrWrongLeader try the next server; after a
 * whole pass without an answer sleep CLERK_PASS_SLEEP_US (else the task spins without
 * letting virtual time pass). Check ck->canceled before every attempt. */

int sc_clerk_join(struct sc_clerk *ck, const struct sc_group *groups, int groups_count)
{
    if (ck->canceled) return SC_ECANCELED;
    if (groups == NULL || groups_count < 1 || groups_count > SC_GROUPS_MAX) return SC_EINVAL;
    /* TODO: "ShardCtrler.Join" with the groups (gid -> server names). */
    return SC_OK;
}

int sc_clerk_leave(struct sc_clerk *ck, const int *gids, int gids_count)
{
    if (ck->canceled) return SC_ECANCELED;
    if (gids == NULL || gids_count < 1 || gids_count > SC_GROUPS_MAX) return SC_EINVAL;
    /* TODO: "ShardCtrler.Leave" with the gids. */
    return SC_OK;
}

int sc_clerk_move(struct sc_clerk *ck, int shard, int gid)
{
    if (ck->canceled) return SC_ECANCELED;
    if (shard < 0 || shard >= SC_NSHARDS || gid <= 0) return SC_EINVAL;
    /* TODO: "ShardCtrler.Move" with the shard and the gid. */
    return SC_OK;
}

int sc_clerk_query(struct sc_clerk *ck, int num, struct sc_config *out)
{
    if (ck->canceled) return SC_ECANCELED;
    if (out == NULL) return SC_EINVAL;
    /* TODO: "ShardCtrler.Query" with num; decode the config of the reply into *out. */
    sc_config_init(out); /* TODO: replace */
    return SC_OK;
}
