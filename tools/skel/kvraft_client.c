/* client.c: a kvraft clerk for labsim's lab 4 (parts 4A-4B), as `labsim init kvraft` starts it.
 *
 * The contract is kvraft.h's "clerk" part. Unlike the server, the clerk is straight-line
 * blocking code: the harness calls it from inside a sim task, so it may wait for a reply
 * (rpc_end_call_wait) and sleep (sim_sleep_us) in virtual time. The server is server.c, next
 * to this file.
 */
/* TODO: this is the skeleton `labsim init kvraft` writes; see the TODO at the top of
 * server.c. Until the TODOs here are done, a Get returns "" and a Put or Append does
 * nothing, so the tests fail on the values they read. */
#include <stdlib.h>
#include <string.h>

#include "kvraft.h"
#include "labgob.h"

#define CLERK_PASS_SLEEP_US SIM_MS(50) /* pause after a pass over the servers without answer */

struct kv_clerk {
    struct sim *sim;
    struct rpc_end *ends[KV_SERVERS_MAX]; /* borrowed */
    int ends_count;
    uint64_t client_id; /* Go's nrand(): the name the servers' duplicate tables know us by */
    uint64_t seq;       /* the sequence number of the last op started */
    int leader;         /* the server to try first: the one that answered last */
};

/* TODO: delete these two lines once every TODO is done: until then they let the compiler
 * accept helpers and parameters that nothing uses yet. */
#pragma GCC diagnostic ignored "-Wunused-function"  /* TODO: delete */
#pragma GCC diagnostic ignored "-Wunused-parameter" /* TODO: delete */

struct kv_clerk *kv_clerk_new(struct sim *sim, struct rpc_end *const *ends, int ends_count)
{
    if (sim == NULL || ends == NULL || ends_count < 1 || ends_count > KV_SERVERS_MAX) return NULL;
    struct kv_clerk *ck = calloc(1, sizeof(*ck));
    if (ck == NULL) return NULL;
    ck->sim = sim;
    for (int i = 0; i < ends_count; i++)
        ck->ends[i] = ends[i];
    ck->ends_count = ends_count;
    ck->client_id = sim_nrand(sim); /* from the seed: never a counter or the wall clock */
    return ck;
}

void kv_clerk_free(struct kv_clerk *ck)
{
    free(ck);
}

uint64_t kv_clerk_id(const struct kv_clerk *ck)
{
    return ck->client_id;
}

/* One attempt: sends `args` (an encoded message) as `method` ("KVServer.Get", ...) to server
 * `at` and waits. True when it answered; *reply (malloc'd, the caller frees it) and
 * *reply_len then hold its reply. False when the request or the reply was lost. */
static bool clerk_call(struct kv_clerk *ck, int at, const char *method, const struct gob_enc *args,
                       uint8_t **reply, size_t *reply_len)
{
    return rpc_end_call_wait(ck->ends[at], method, gob_enc_bytes(args), gob_enc_len(args), reply,
                             reply_len);
}

/* Go's Get(key): the key's value, "" when missing; keeps trying forever. */
char *kv_clerk_get(struct kv_clerk *ck, const char *key)
{
    if (key == NULL || strlen(key) > KV_KEY_MAX) return NULL;
    /* TODO(4A): encode the arguments (key, client_id, a new seq) and call "KVServer.Get"
     * with clerk_call, starting at ck->leader; on a lost call or ErrWrongLeader try the next
     * server, and after a whole pass without an answer sleep CLERK_PASS_SLEEP_US (else the
     * task spins without letting virtual time pass). Return a malloc'd copy of the value. */
    char *value = malloc(1);
    if (value != NULL) value[0] = '\0';
    return value; /* TODO(4A): replace */
}

/* Go's PutAppend(key, value, op), shared by Put and Append. */
static int clerk_put_append(struct kv_clerk *ck, const char *method, const char *key,
                            const char *value)
{
    if (key == NULL || value == NULL || strlen(key) > KV_KEY_MAX || strlen(value) > KV_VALUE_MAX)
        return KV_EINVAL;
    /* TODO(4A): as kv_clerk_get, calling `method` until a server answers OK. */
    return KV_OK;
}

int kv_clerk_put(struct kv_clerk *ck, const char *key, const char *value)
{
    return clerk_put_append(ck, "KVServer.Put", key, value);
}

int kv_clerk_append(struct kv_clerk *ck, const char *key, const char *value)
{
    return clerk_put_append(ck, "KVServer.Append", key, value);
}
