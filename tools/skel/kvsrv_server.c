/* server.c: a key/value server for labsim's lab 2, as `labsim init kvsrv` starts it.
 *
 * The contract is kvsrv.h (read it first): start and free, and the three handlers
 * "KVServer.Get", "KVServer.Put" and "KVServer.Append". The handlers run inside events of the
 * sim: each answers its request (rpc_req_reply) and returns; nothing blocks and nothing needs
 * a lock. The clerk is client.c, next to this file.
 *
 * Memory: every byte the server keeps (this struct, the store, the per-client table, cached
 * replies) comes from the heap the harness gives, through kvsrv_malloc / kvsrv_calloc /
 * kvsrv_realloc / kvsrv_free: the memory tests (TestMem*2) read that heap's live bytes, as
 * Go's tests read the process heap. Plain malloc is for what a handler frees before it
 * returns.
 *
 * Build and grade (from the labsim clone):
 *   make grade KVSRV_IMPL="/path/to/server.c /path/to/client.c" BUILD=build-mine
 */
/* TODO: this is the skeleton `labsim init kvsrv` writes. Work through its TODO comments and
 * grade with `labsim run 2`. The Get/Put/Append arguments and replies are yours to define:
 * put their structs and labgob encode/decode in a header next to this file (say common.h,
 * Go's common.go), included by server.c and client.c, and write them like the example
 * below. */
#include <stdlib.h>
#include <string.h>

#include "kvsrv.h"
#include "labgob.h"

/* The arguments of a Get, Put or Append, as the example of a labgob message: on the wire each
 * member is a labgob field, numbered from 1 in the order below. Zero fields are left out (as
 * Go's gob does), so decode into a zeroed struct: an absent field was zero (a Get's empty
 * value costs nothing). The clerk encodes these; the server decodes them. */
struct kv_args {
    uint64_t client_id;
    uint64_t seq;       /* the clerk's sequence number (0 for a Get) */
    const uint8_t *key; /* decoded: a view into the message */
    size_t key_len;
    const uint8_t *value; /* Put and Append */
    size_t value_len;
};

/* Decodes a request's arguments into *a. False when the bytes are not well-formed arguments:
 * the request is then answered (empty) and the handler just returns. */
static bool kv_args_take(struct rpc_req *req, const uint8_t *buf, size_t len, struct kv_args *a)
{
    struct gob_dec d;
    memset(a, 0, sizeof(*a));
    gob_dec_init(&d, buf, len);
    gob_get_uint(&d, 1, &a->client_id);
    gob_get_uint(&d, 2, &a->seq);
    gob_get_bytes(&d, 3, &a->key, &a->key_len);
    gob_get_bytes(&d, 4, &a->value, &a->value_len);
    if (gob_dec_finish(&d) == GOB_OK && a->value_len <= KVSRV_VALUE_MAX) return true;
    rpc_req_reply(req, NULL, 0);
    return false;
}

/* Answers `req` with the value (the reply of a Get or an Append): one labgob field. */
static void reply_value(struct rpc_req *req, const uint8_t *value, size_t len)
{
    struct gob_enc e;
    gob_enc_init(&e);
    gob_put_bytes(&e, 1, value, len);
    if (gob_enc_finish(&e) == GOB_OK)
        rpc_req_reply(req, gob_enc_bytes(&e), gob_enc_len(&e));
    else
        rpc_req_reply(req, NULL, 0); /* out of memory: the clerk gets "" */
    gob_enc_free(&e);
}

struct kvsrv_server {
    struct sim *sim;
    struct kvsrv_heap *heap; /* borrowed: every kept byte comes from here */

    /* TODO: the store (keys to values) and, per client, the last seq applied and the reply a
     * retry of it must get (an Append's old value). Gets leave no state; drop a client's
     * cached reply as soon as its next request arrives (the memory tests check it). */
};

/* TODO: delete these two lines once every TODO is done: until then they let the compiler
 * accept helpers and parameters that nothing uses yet. */
#pragma GCC diagnostic ignored "-Wunused-function"  /* TODO: delete */
#pragma GCC diagnostic ignored "-Wunused-parameter" /* TODO: delete */

/* ---------------------------------------------------------------- handlers */

/* "KVServer.Get": the key's value, "" when it was never written. */
static void handle_get(void *receiver, struct rpc_req *req, const uint8_t *buf, size_t len)
{
    struct kvsrv_server *kv = receiver;
    struct kv_args args;
    if (!kv_args_take(req, buf, len, &args)) return;
    (void)kv; /* TODO: remove */
    /* TODO: look the key up and answer its value. */
    reply_value(req, NULL, 0);
}

/* "KVServer.Put": replaces the key's value, once per (client id, seq). */
static void handle_put(void *receiver, struct rpc_req *req, const uint8_t *buf, size_t len)
{
    struct kvsrv_server *kv = receiver;
    struct kv_args args;
    if (!kv_args_take(req, buf, len, &args)) return;
    (void)kv; /* TODO: remove */
    /* TODO: a new seq of this client replaces the value (copied into the heap); a retry
     * changes nothing. Answer either way. */
    rpc_req_reply(req, NULL, 0);
}

/* "KVServer.Append": appends to the key's value and answers the value before, once per
 * (client id, seq); a retry gets the same answer. */
static void handle_append(void *receiver, struct rpc_req *req, const uint8_t *buf, size_t len)
{
    struct kvsrv_server *kv = receiver;
    struct kv_args args;
    if (!kv_args_take(req, buf, len, &args)) return;
    (void)kv; /* TODO: remove */
    /* TODO: a new seq appends (kvsrv_realloc) and keeps the old value for a retry; a retry
     * answers the kept value. */
    reply_value(req, NULL, 0);
}

/* ---------------------------------------------------------------- the lab API */

int kvsrv_server_start(struct sim *sim, struct kvsrv_heap *heap, struct rpc_server *server,
                       struct kvsrv_server **out)
{
    if (sim == NULL || heap == NULL || server == NULL || out == NULL) return KVSRV_EINVAL;
    struct kvsrv_server *kv = kvsrv_calloc(heap, 1, sizeof(*kv));
    if (kv == NULL) return KVSRV_ENOMEM;
    kv->sim = sim;
    kv->heap = heap;
    int rc = rpc_server_add_method(server, "KVServer", "Get", handle_get, kv);
    if (rc == RPC_OK) rc = rpc_server_add_method(server, "KVServer", "Put", handle_put, kv);
    if (rc == RPC_OK) rc = rpc_server_add_method(server, "KVServer", "Append", handle_append, kv);
    if (rc != RPC_OK) {
        kvsrv_free(heap, kv);
        return KVSRV_ERPC;
    }
    *out = kv;
    return KVSRV_OK;
}

void kvsrv_server_free(struct kvsrv_server *kv)
{
    if (kv == NULL) return;
    /* TODO: give the store and the table back to the heap (kvsrv_free), which is then
     * empty. */
    kvsrv_free(kv->heap, kv);
}
