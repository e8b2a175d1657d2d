/* clerk: our lab 2 client (Go's Clerk), straight-line blocking code for sim tasks.
 *
 * Each Put and Append gets the next sequence number; with the clerk's client id (kvsrv_nrand)
 * it names the op on the server, so a retried op is applied once. A Get carries the client id
 * only: it acknowledges the previous reply (the server frees its cache) and needs no
 * duplicate detection. On a lost request or reply the clerk sends the same bytes again, at
 * once, forever, as Go's clerk does: every failed call took virtual time in the network, so
 * the loop cannot spin without the clock moving, and the test's time cap ends a run whose
 * server never answers.
 *
 * The clerk owns the encoded arguments of its current op (freed once the op is answered, or
 * with the clerk), so a task parked in a call and discarded at the end of a run leaks nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "kvsrv_int.h"

struct kvsrv_clerk {
    struct sim *sim;
    struct rpc_end *end;
    uint64_t client_id;
    uint64_t seq;  /* of the last Put or Append */
    uint8_t *args; /* the current op's encoded arguments */
    size_t args_len;
    bool busy; /* a task is inside a call (one op at a time) */
};

struct kvsrv_clerk *kvsrv_clerk_new(struct sim *sim, struct rpc_end *end)
{
    if (sim == NULL || end == NULL) return NULL;
    struct kvsrv_clerk *ck = calloc(1, sizeof(*ck));
    if (ck == NULL) return NULL;
    ck->sim = sim;
    ck->end = end;
    ck->client_id = kvsrv_nrand(sim, end);
    return ck;
}

void kvsrv_clerk_free(struct kvsrv_clerk *ck)
{
    if (ck == NULL) return;
    free(ck->args);
    free(ck);
}

/* Encodes the op into ck->args. KVSRV_OK, KVSRV_EINVAL or KVSRV_ENOMEM. */
static int clerk_encode(struct kvsrv_clerk *ck, enum kvsrv_op_kind kind, const char *key,
                        const char *value)
{
    if (key == NULL || (kind != KVSRV_OP_GET && value == NULL)) return KVSRV_EINVAL;
    struct kvsrv_args a = {
        .client_id = ck->client_id,
        .seq = kind == KVSRV_OP_GET ? 0 : ck->seq + 1u,
        .key = (const uint8_t *)key,
        .key_len = strlen(key),
        .value = (const uint8_t *)value,
        .value_len = value != NULL ? strlen(value) : 0,
    };
    struct gob_enc e;
    gob_enc_init(&e);
    int rc = kvsrv_args_encode(&e, &a);
    free(ck->args);
    ck->args = NULL;
    ck->args_len = 0;
    if (rc == KVSRV_OK) {
        ck->args = gob_enc_take(&e, &ck->args_len);
        if (ck->args == NULL) rc = KVSRV_ENOMEM;
    }
    gob_enc_free(&e);
    if (rc == KVSRV_OK && kind != KVSRV_OP_GET) ck->seq++;
    return rc;
}

/* Sends ck->args until the server answers; returns the reply's value as a malloc'd string. */
static char *clerk_run(struct kvsrv_clerk *ck, enum kvsrv_op_kind kind)
{
    SIM_ASSERT(ck->sim, SIM_NODE_NONE, sim_task_current(ck->sim) != NULL);
    SIM_ASSERT(ck->sim, SIM_NODE_NONE, !ck->busy);
    ck->busy = true;
    uint8_t *reply = NULL;
    size_t reply_len = 0;
    const uint8_t *value = NULL;
    size_t value_len = 0;
    for (;;) { /* unbounded by design; see the file comment */
        if (rpc_end_call_wait(ck->end, kvsrv_method_full_names[kind], ck->args, ck->args_len,
                              &reply, &reply_len) &&
            kvsrv_reply_decode(reply, reply_len, &value, &value_len) == KVSRV_OK)
            break;
        free(reply);
        reply = NULL;
    }
    ck->busy = false;
    free(ck->args); /* answered: a clerk keeps nothing between ops */
    ck->args = NULL;
    ck->args_len = 0;
    char *out = malloc(value_len + 1u);
    if (out != NULL) {
        if (value_len > 0) memcpy(out, value, value_len);
        out[value_len] = '\0';
    }
    free(reply);
    return out;
}

char *kvsrv_clerk_get(struct kvsrv_clerk *ck, const char *key)
{
    if (clerk_encode(ck, KVSRV_OP_GET, key, NULL) != KVSRV_OK) return NULL;
    return clerk_run(ck, KVSRV_OP_GET);
}

int kvsrv_clerk_put(struct kvsrv_clerk *ck, const char *key, const char *value)
{
    int rc = clerk_encode(ck, KVSRV_OP_PUT, key, value);
    if (rc != KVSRV_OK) return rc;
    char *out = clerk_run(ck, KVSRV_OP_PUT);
    free(out);
    return KVSRV_OK;
}

char *kvsrv_clerk_append(struct kvsrv_clerk *ck, const char *key, const char *value)
{
    if (clerk_encode(ck, KVSRV_OP_APPEND, key, value) != KVSRV_OK) return NULL;
    return clerk_run(ck, KVSRV_OP_APPEND);
}
