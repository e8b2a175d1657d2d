/* client.c: a key/value clerk for labsim's lab 2, as `labsim init kvsrv` starts it.
 *
 * The contract is kvsrv.h's "clerk" part. The clerk is straight-line blocking code: the
 * harness calls it from inside a sim task, so it may wait for a reply (rpc_end_call_wait).
 * The network may lose a request or its reply; the clerk then sends the same request again,
 * and the server's table of (client id, seq) makes the retry harmless. The server is
 * server.c, next to this file. The clerk's memory is plain malloc (it is not the server's).
 */
/* TODO: this is the skeleton `labsim init kvsrv` writes; see the TODO at the top of server.c.
 * Until the TODOs here are done, a Get or Append returns "" and a Put does nothing, so the
 * tests fail on the values they read. */
#include <stdlib.h>
#include <string.h>

#include "kvsrv.h"
#include "labgob.h"

struct kvsrv_clerk {
    struct sim *sim;
    struct rpc_end *end; /* borrowed: the way to the server */
    uint64_t client_id;  /* Go's nrand(): the name the server knows this clerk by */
    uint64_t seq;        /* the sequence number of the last Put or Append */
};

/* TODO: delete these two lines once every TODO is done: until then they let the compiler
 * accept helpers and parameters that nothing uses yet. */
#pragma GCC diagnostic ignored "-Wunused-function"  /* TODO: delete */
#pragma GCC diagnostic ignored "-Wunused-parameter" /* TODO: delete */

struct kvsrv_clerk *kvsrv_clerk_new(struct sim *sim, struct rpc_end *end)
{
    if (sim == NULL || end == NULL) return NULL;
    struct kvsrv_clerk *ck = calloc(1, sizeof(*ck));
    if (ck == NULL) return NULL;
    ck->sim = sim;
    ck->end = end;
    ck->client_id = kvsrv_nrand(sim, end); /* from the seed: never a counter or the clock */
    return ck;
}

void kvsrv_clerk_free(struct kvsrv_clerk *ck)
{
    free(ck);
}

/* A malloc'd copy of the value in a reply (one labgob field, the server's reply_value); ""
 * for an empty reply. NULL when malformed or out of memory. */
static char *reply_value_decode(const uint8_t *buf, size_t len)
{
    struct gob_dec d;
    const uint8_t *value = NULL;
    size_t value_len = 0;
    gob_dec_init(&d, buf, len);
    gob_get_bytes(&d, 1, &value, &value_len);
    if (gob_dec_finish(&d) != GOB_OK) return NULL;
    char *copy = malloc(value_len + 1);
    if (copy == NULL) return NULL;
    if (value_len > 0) memcpy(copy, value, value_len);
    copy[value_len] = '\0';
    return copy;
}

/* A malloc'd "" (what the skeleton answers until its TODOs are done). */
static char *empty_string(void)
{
    return calloc(1, 1);
}

/* Go's Get(key): the value, "" for a missing key; retries until the server answers. */
char *kvsrv_clerk_get(struct kvsrv_clerk *ck, const char *key)
{
    if (key == NULL) return NULL;
    /* TODO: encode the arguments as the server's kv_args (field 1 client_id, 2 seq, 3 key,
     * 4 value: gob_put_uint, gob_put_bytes), call
     *     rpc_end_call_wait(ck->end, "KVServer.Get", args, args_len, &reply, &reply_len)
     * until it returns true (a lost call returns false: send it again), and return
     * reply_value_decode(reply, reply_len) after freeing reply. */
    return empty_string(); /* TODO: replace */
}

/* Go's Put(key, value). */
int kvsrv_clerk_put(struct kvsrv_clerk *ck, const char *key, const char *value)
{
    if (key == NULL || value == NULL || strlen(value) > KVSRV_VALUE_MAX) return KVSRV_EINVAL;
    /* TODO: as kvsrv_clerk_get, with a new seq (the same one on every retry). */
    return KVSRV_OK;
}

/* Go's Append(key, value): the value before the append. */
char *kvsrv_clerk_append(struct kvsrv_clerk *ck, const char *key, const char *value)
{
    if (key == NULL || value == NULL || strlen(value) > KVSRV_VALUE_MAX) return NULL;
    /* TODO: as kvsrv_clerk_put; the reply holds the old value. */
    return empty_string(); /* TODO: replace */
}
