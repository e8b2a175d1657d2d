/* clerk: the kvraft client (Go's Clerk), straight-line blocking code for sim tasks.
 *
 * The clerk draws its own client id at birth, as Go's MakeClerk does with nrand(): 62 random
 * bits from the sim (sim_nrand), so ids never collide in practice and a run replays them. Each
 * op gets the next sequence number of this clerk; with the clerk id it names the op in the
 * servers' duplicate tables, so retries of one op are applied once. The clerk starts with
 * the server that answered last and moves round-robin on any failure (lost request or reply,
 * dead or disabled server, ErrWrongLeader, ErrTimeout). After a whole pass over the servers
 * without an answer it sleeps KV_CLERK_PASS_SLEEP_US of virtual time: when no leader is
 * reachable the failures can come back at once, and without the pause the task would spin
 * without letting virtual time advance.
 *
 * The retry loop has no bound by design (Go's clerk never gives up); it always advances
 * virtual time, so the test's virtual-time cap ends a run in which no server ever answers.
 *
 * The clerk owns its argument encoder, so a task parked inside a call and later discarded
 * (the run ended) leaks nothing once the clerk is freed.
 */
#include <stdlib.h>
#include <string.h>

#include "kv_int.h"

struct kv_clerk {
    struct sim *sim;
    struct rpc_end *ends[KV_SERVERS_MAX];
    int ends_count;
    int leader; /* index into ends of the server to try first */
    uint64_t client_id;
    uint64_t seq;   /* sequence number of the last op started */
    uint64_t calls; /* RPCs sent (every attempt) */
    struct gob_enc enc;
    bool busy; /* a task is inside a call (asserted: one op at a time) */
};

static const struct sim_trace_kind trace_clerk_done = {
    310, SIM_TOPIC_CLIENT, "kv.clerk.done", {"client", "seq", "kind", "tries"}};

struct kv_clerk *kv_clerk_new(struct sim *sim, struct rpc_end *const *ends, int ends_count)
{
    if (sim == NULL || ends == NULL || ends_count < 1 || ends_count > KV_SERVERS_MAX) return NULL;
    struct kv_clerk *ck = calloc(1, sizeof(*ck));
    if (ck == NULL) return NULL;
    ck->sim = sim;
    for (int i = 0; i < ends_count; i++)
        ck->ends[i] = ends[i];
    ck->ends_count = ends_count;
    ck->client_id = sim_nrand(sim); /* Go's MakeClerk: ck.clientId = nrand() */
    gob_enc_init(&ck->enc);
    return ck;
}

void kv_clerk_free(struct kv_clerk *ck)
{
    if (ck == NULL) return;
    gob_enc_free(&ck->enc);
    free(ck);
}

int kv_clerk_leader(const struct kv_clerk *ck)
{
    return ck->leader;
}

uint64_t kv_clerk_id(const struct kv_clerk *ck)
{
    return ck->client_id;
}

uint64_t kv_clerk_calls(const struct kv_clerk *ck)
{
    return ck->calls;
}

/* One attempt at server `at`. Returns true when the server answered the op (any answer that
 * is not a reason to retry); *reply_buf then holds the reply bytes (caller frees) and *reply
 * views into them. */
static bool clerk_try(struct kv_clerk *ck, int at, enum kv_op_kind kind, uint8_t **reply_buf,
                      struct kv_reply *reply)
{
    size_t reply_len = 0;
    const char *method = kv_method_full_names[kind];
    *reply_buf = NULL;
    ck->calls++;
    if (!rpc_end_call_wait(ck->ends[at], method, gob_enc_bytes(&ck->enc), gob_enc_len(&ck->enc),
                           reply_buf, &reply_len))
        return false;
    if (kv_reply_decode(*reply_buf, reply_len, reply) == KV_OK) {
        if (reply->err == KV_REPLY_OK || reply->err == KV_REPLY_NO_KEY ||
            reply->err == KV_REPLY_TOO_BIG)
            return true;
    }
    free(*reply_buf); /* wrong leader, timeout, bad reply: try the next server */
    *reply_buf = NULL;
    return false;
}

/* Runs one op to completion. Returns the reply bytes (caller frees; may be NULL for an empty
 * reply) with *reply viewing into them. */
static uint8_t *clerk_run(struct kv_clerk *ck, enum kv_op_kind kind, struct kv_reply *reply)
{
    SIM_ASSERT(ck->sim, SIM_NODE_NONE, sim_task_current(ck->sim) != NULL);
    SIM_ASSERT(ck->sim, SIM_NODE_NONE, !ck->busy);
    ck->busy = true;
    uint64_t tries = 0;
    int failed_in_pass = 0;
    uint8_t *reply_buf = NULL;
    for (;;) { /* unbounded by design; see the file comment */
        tries++;
        if (clerk_try(ck, ck->leader, kind, &reply_buf, reply)) break;
        ck->leader = (ck->leader + 1) % ck->ends_count;
        failed_in_pass++;
        if (failed_in_pass == ck->ends_count) {
            failed_in_pass = 0;
            sim_sleep_us(ck->sim, KV_CLERK_PASS_SLEEP_US);
        }
    }
    ck->busy = false;
    sim_trace4(ck->sim, SIM_NODE_NONE, &trace_clerk_done, (int64_t)ck->client_id, (int64_t)ck->seq,
               (int64_t)kind, (int64_t)tries);
    return reply_buf;
}

/* Encodes the next op into the clerk's encoder. */
static int clerk_encode(struct kv_clerk *ck, enum kv_op_kind kind, const char *key,
                        const char *value)
{
    if (key == NULL) return KV_EINVAL;
    struct kv_op op = {
        .client_id = ck->client_id,
        .seq = ck->seq + 1,
        .kind = kind,
        .key = (const uint8_t *)key,
        .key_len = strlen(key),
        .value = (const uint8_t *)value,
        .value_len = value == NULL ? 0 : strlen(value),
    };
    int rc = kv_op_encode(&ck->enc, &op);
    if (rc == KV_OK) ck->seq++;
    return rc;
}

char *kv_clerk_get(struct kv_clerk *ck, const char *key)
{
    if (clerk_encode(ck, KV_OP_GET, key, NULL) != KV_OK) return NULL;
    struct kv_reply reply;
    uint8_t *reply_buf = clerk_run(ck, KV_OP_GET, &reply);
    char *value = malloc(reply.value_len + 1);
    if (value != NULL) {
        if (reply.value_len > 0) memcpy(value, reply.value, reply.value_len);
        value[reply.value_len] = 0;
    }
    free(reply_buf);
    return value;
}

static int clerk_write(struct kv_clerk *ck, enum kv_op_kind kind, const char *key,
                       const char *value)
{
    int rc = clerk_encode(ck, kind, key, value);
    if (rc != KV_OK) return rc;
    struct kv_reply reply;
    uint8_t *reply_buf = clerk_run(ck, kind, &reply);
    rc = reply.err == KV_REPLY_TOO_BIG ? KV_ELIMIT : KV_OK;
    free(reply_buf);
    return rc;
}

int kv_clerk_put(struct kv_clerk *ck, const char *key, const char *value)
{
    return clerk_write(ck, KV_OP_PUT, key, value);
}

int kv_clerk_append(struct kv_clerk *ck, const char *key, const char *value)
{
    return clerk_write(ck, KV_OP_APPEND, key, value);
}
