/* server: our lab 2 key/value server (Go's KVServer), event-driven: every handler answers at
 * once (there is no Raft to wait for).
 *
 * State, all of it in the kvsrv_heap the harness gave (the memory tests measure it):
 *  - the store: keys to values, an entry array in insertion order with an open-addressing
 *    index over it (no deletes), so nothing depends on hash order;
 *  - the sessions: per client that ever sent a Put or Append, the highest sequence number
 *    applied and, for an Append, a copy of the value it returned (the reply a retry gets).
 *    Gets leave no state: a repeated Get just reads again, which is still linearizable.
 *
 * Exactly once: a Put or Append with seq > the session's is new and applied; seq == the
 * session's is a retry, answered from the cache without applying; seq < it is a stale copy
 * whose sender stopped waiting long ago (any answer will do). A clerk sends its next request
 * only after the previous one returned, so any newer request of the client (a Get included)
 * acknowledges the cached reply, and the cache is freed right then: the server holds at most
 * one old value per client, and none for a client that has moved on.
 *
 * Invariants:
 *  1. store.index_slots_count is a power of two and at least twice store.entries_count.
 *  2. sessions_slots_count is a power of two and at least twice sessions_count; a slot with
 *     seq == 0 is empty (applied sequence numbers start at 1).
 *  3. A session's cached value is non-NULL only while it is the latest op's Append reply.
 */
#include <string.h>

#include "kvsrv_int.h"

#define STORE_SLOTS_MIN 16u
#define SESSION_SLOTS_MIN 16u
#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME 0x100000001b3ull
#define GOLDEN_64 0x9e3779b97f4a7c15ull

struct kvsrv_entry {
    uint8_t *key;
    size_t key_len;
    uint8_t *value; /* NULL when empty */
    size_t value_len;
};

struct kvsrv_session {
    uint64_t client_id;
    uint64_t seq;    /* highest applied; 0 = empty slot */
    uint8_t *cached; /* the last Append's reply, until the client's next request */
    size_t cached_len;
};

struct kvsrv_server {
    struct sim *sim;
    struct kvsrv_heap *heap;
    struct kvsrv_entry *entries;
    size_t entries_count;
    size_t entries_cap;
    uint32_t *index_slots; /* entry index + 1; 0 = empty */
    size_t index_slots_count;
    struct kvsrv_session *sessions;
    size_t sessions_count;
    size_t sessions_slots_count;
};

/* ---------------------------------------------------------------- store */

static uint64_t key_hash(const uint8_t *key, size_t len)
{
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < len; i++)
        h = (h ^ key[i]) * FNV_PRIME;
    return h;
}

/* The index slot where key is, or the empty slot where it would go. */
static size_t store_slot(const struct kvsrv_server *kv, const uint8_t *key, size_t len)
{
    size_t mask = kv->index_slots_count - 1u;
    size_t at = (size_t)key_hash(key, len) & mask;
    for (size_t probes = 0; probes < kv->index_slots_count; probes++) {
        uint32_t e = kv->index_slots[at];
        if (e == 0) return at;
        const struct kvsrv_entry *entry = &kv->entries[e - 1u];
        if (entry->key_len == len && (len == 0 || memcmp(entry->key, key, len) == 0)) return at;
        at = (at + 1u) & mask;
    }
    SIM_ASSERTF(kv->sim, 0, false, "store index full");
    return 0;
}

static struct kvsrv_entry *store_find(const struct kvsrv_server *kv, const uint8_t *key, size_t len)
{
    uint32_t e = kv->index_slots[store_slot(kv, key, len)];
    return e == 0 ? NULL : &kv->entries[e - 1u];
}

/* Doubles the index (invariant 1) and re-inserts every entry. */
static int store_grow_index(struct kvsrv_server *kv)
{
    size_t count = kv->index_slots_count * 2u;
    uint32_t *slots = kvsrv_calloc(kv->heap, count, sizeof(*slots));
    if (slots == NULL) return KVSRV_ENOMEM;
    kvsrv_free(kv->heap, kv->index_slots);
    kv->index_slots = slots;
    kv->index_slots_count = count;
    for (size_t i = 0; i < kv->entries_count; i++) {
        size_t at = store_slot(kv, kv->entries[i].key, kv->entries[i].key_len);
        kv->index_slots[at] = (uint32_t)(i + 1u);
    }
    return KVSRV_OK;
}

/* The entry for key, made (empty) when missing. NULL on OOM. */
static struct kvsrv_entry *store_entry(struct kvsrv_server *kv, const uint8_t *key, size_t len)
{
    struct kvsrv_entry *found = store_find(kv, key, len);
    if (found != NULL) return found;
    if ((kv->entries_count + 1u) * 2u > kv->index_slots_count && store_grow_index(kv) != KVSRV_OK)
        return NULL;
    if (kv->entries_count == kv->entries_cap) {
        size_t cap = kv->entries_cap == 0 ? 4u : kv->entries_cap * 2u;
        struct kvsrv_entry *grown = kvsrv_realloc(kv->heap, kv->entries, cap * sizeof(*grown));
        if (grown == NULL) return NULL;
        kv->entries = grown;
        kv->entries_cap = cap;
    }
    uint8_t *copy = kvsrv_malloc(kv->heap, len + 1u);
    if (copy == NULL) return NULL;
    if (len > 0) memcpy(copy, key, len);
    copy[len] = 0;
    struct kvsrv_entry *entry = &kv->entries[kv->entries_count];
    *entry = (struct kvsrv_entry){.key = copy, .key_len = len};
    kv->index_slots[store_slot(kv, key, len)] = (uint32_t)(kv->entries_count + 1u);
    kv->entries_count++;
    return entry;
}

/* Replaces (append false) or extends (append true) the entry's value. KVSRV_OK, KVSRV_ENOMEM
 * or KVSRV_EINVAL (the value would exceed KVSRV_VALUE_MAX); the entry is unchanged on error. */
static int entry_write(struct kvsrv_server *kv, struct kvsrv_entry *entry, const uint8_t *value,
                       size_t value_len, bool append)
{
    size_t keep = append ? entry->value_len : 0;
    if (value_len > KVSRV_VALUE_MAX - keep) return KVSRV_EINVAL;
    if (!append) {
        kvsrv_free(kv->heap, entry->value); /* the old value goes at once (TestMemPut2) */
        entry->value = NULL;
        entry->value_len = 0;
    }
    if (value_len == 0) return KVSRV_OK;
    uint8_t *grown = kvsrv_realloc(kv->heap, entry->value, keep + value_len);
    if (grown == NULL) return KVSRV_ENOMEM;
    memcpy(grown + keep, value, value_len);
    entry->value = grown;
    entry->value_len = keep + value_len;
    return KVSRV_OK;
}

/* ---------------------------------------------------------------- sessions */

static size_t session_slot(const struct kvsrv_session *slots, size_t slots_count,
                           uint64_t client_id)
{
    size_t mask = slots_count - 1u;
    size_t at = (size_t)((client_id * GOLDEN_64) >> 20) & mask;
    while (slots[at].seq != 0 && slots[at].client_id != client_id)
        at = (at + 1u) & mask; /* ends: invariant 2 keeps a slot empty */
    return at;
}

static int sessions_grow(struct kvsrv_server *kv)
{
    size_t count = kv->sessions_slots_count * 2u;
    struct kvsrv_session *slots = kvsrv_calloc(kv->heap, count, sizeof(*slots));
    if (slots == NULL) return KVSRV_ENOMEM;
    for (size_t i = 0; i < kv->sessions_slots_count; i++) {
        if (kv->sessions[i].seq == 0) continue;
        slots[session_slot(slots, count, kv->sessions[i].client_id)] = kv->sessions[i];
    }
    kvsrv_free(kv->heap, kv->sessions);
    kv->sessions = slots;
    kv->sessions_slots_count = count;
    return KVSRV_OK;
}

/* The client's session, or NULL when it has none. */
static struct kvsrv_session *session_find(struct kvsrv_server *kv, uint64_t client_id)
{
    struct kvsrv_session *s =
        &kv->sessions[session_slot(kv->sessions, kv->sessions_slots_count, client_id)];
    return s->seq != 0 ? s : NULL;
}

/* The client's session, made when missing (seq 0 until the caller applies an op). */
static struct kvsrv_session *session_get(struct kvsrv_server *kv, uint64_t client_id)
{
    struct kvsrv_session *s = session_find(kv, client_id);
    if (s != NULL) return s;
    if ((kv->sessions_count + 1u) * 2u > kv->sessions_slots_count && sessions_grow(kv) != KVSRV_OK)
        return NULL;
    s = &kv->sessions[session_slot(kv->sessions, kv->sessions_slots_count, client_id)];
    *s = (struct kvsrv_session){.client_id = client_id};
    kv->sessions_count++;
    return s;
}

static void session_drop_cache(struct kvsrv_server *kv, struct kvsrv_session *s)
{
    kvsrv_free(kv->heap, s->cached);
    s->cached = NULL;
    s->cached_len = 0;
}

/* ---------------------------------------------------------------- handlers */

/* Answers with `value` (may be NULL when empty). The encoder is the handler's own and freed
 * before returning: a server keeps no reply buffer between requests (TestMemGet2). */
static void reply_value(struct kvsrv_server *kv, struct rpc_req *req, const uint8_t *value,
                        size_t value_len)
{
    struct gob_enc e;
    gob_enc_init(&e);
    int rc = kvsrv_reply_encode(&e, value, value_len);
    SIM_ASSERTF(kv->sim, 0, rc == KVSRV_OK, "encoding a reply: %s", kvsrv_strerror(rc));
    rpc_req_reply(req, gob_enc_bytes(&e), gob_enc_len(&e));
    gob_enc_free(&e);
}

static void handle_get(void *receiver, struct rpc_req *req, const uint8_t *args, size_t args_len)
{
    struct kvsrv_server *kv = receiver;
    struct kvsrv_args a;
    if (kvsrv_args_decode(args, args_len, &a) != KVSRV_OK) {
        reply_value(kv, req, NULL, 0); /* malformed: nothing to do, nothing to say */
        return;
    }
    /* A Get from a client acknowledges its previous reply; it creates no session. */
    struct kvsrv_session *s = session_find(kv, a.client_id);
    if (s != NULL) session_drop_cache(kv, s);
    const struct kvsrv_entry *entry = store_find(kv, a.key, a.key_len);
    reply_value(kv, req, entry != NULL ? entry->value : NULL, entry != NULL ? entry->value_len : 0);
}

/* Put (append false) or Append (true): applies a new op once, answers a retry from the cache. */
static void handle_write(struct kvsrv_server *kv, struct rpc_req *req, const uint8_t *args,
                         size_t args_len, bool append)
{
    struct kvsrv_args a;
    if (kvsrv_args_decode(args, args_len, &a) != KVSRV_OK || a.seq == 0) {
        reply_value(kv, req, NULL, 0);
        return;
    }
    struct kvsrv_session *s = session_get(kv, a.client_id);
    SIM_ASSERTF(kv->sim, 0, s != NULL, "out of memory for a client session");
    if (a.seq < s->seq) { /* a stale copy: its sender returned long ago */
        reply_value(kv, req, NULL, 0);
        return;
    }
    if (a.seq == s->seq) { /* a retry: the op was applied; same answer again */
        reply_value(kv, req, s->cached, s->cached_len);
        return;
    }
    session_drop_cache(kv, s);
    s->seq = a.seq;
    struct kvsrv_entry *entry = store_entry(kv, a.key, a.key_len);
    SIM_ASSERTF(kv->sim, 0, entry != NULL, "out of memory for a key");
    if (append && entry->value_len > 0) {
        s->cached = kvsrv_malloc(kv->heap, entry->value_len);
        SIM_ASSERTF(kv->sim, 0, s->cached != NULL, "out of memory for an Append reply");
        memcpy(s->cached, entry->value, entry->value_len);
        s->cached_len = entry->value_len;
    }
    int rc = entry_write(kv, entry, a.value, a.value_len, append);
    SIM_ASSERTF(kv->sim, 0, rc == KVSRV_OK, "storing a value: %s", kvsrv_strerror(rc));
    reply_value(kv, req, s->cached, s->cached_len);
}

static void handle_put(void *receiver, struct rpc_req *req, const uint8_t *args, size_t args_len)
{
    handle_write(receiver, req, args, args_len, false);
}

static void handle_append(void *receiver, struct rpc_req *req, const uint8_t *args, size_t args_len)
{
    handle_write(receiver, req, args, args_len, true);
}

/* ---------------------------------------------------------------- lifecycle */

int kvsrv_server_start(struct sim *sim, struct kvsrv_heap *heap, struct rpc_server *server,
                       struct kvsrv_server **out)
{
    static const rpc_handler_fn handlers[KVSRV_OP_KINDS_COUNT] = {handle_get, handle_put,
                                                                  handle_append};
    if (sim == NULL || heap == NULL || server == NULL || out == NULL) return KVSRV_EINVAL;
    *out = NULL;
    struct kvsrv_server *kv = kvsrv_calloc(heap, 1, sizeof(*kv));
    if (kv == NULL) return KVSRV_ENOMEM;
    kv->sim = sim;
    kv->heap = heap;
    kv->index_slots = kvsrv_calloc(heap, STORE_SLOTS_MIN, sizeof(*kv->index_slots));
    kv->index_slots_count = STORE_SLOTS_MIN;
    kv->sessions = kvsrv_calloc(heap, SESSION_SLOTS_MIN, sizeof(*kv->sessions));
    kv->sessions_slots_count = SESSION_SLOTS_MIN;
    if (kv->index_slots == NULL || kv->sessions == NULL) {
        kvsrv_server_free(kv);
        return KVSRV_ENOMEM;
    }
    for (int k = 0; k < KVSRV_OP_KINDS_COUNT; k++) {
        if (rpc_server_add_method(server, "KVServer", kvsrv_method_names[k], handlers[k], kv) !=
            RPC_OK) {
            kvsrv_server_free(kv);
            return KVSRV_ERPC;
        }
    }
    *out = kv;
    return KVSRV_OK;
}

void kvsrv_server_free(struct kvsrv_server *kv)
{
    if (kv == NULL) return;
    struct kvsrv_heap *heap = kv->heap;
    for (size_t i = 0; i < kv->entries_count; i++) {
        kvsrv_free(heap, kv->entries[i].key);
        kvsrv_free(heap, kv->entries[i].value);
    }
    for (size_t i = 0; kv->sessions != NULL && i < kv->sessions_slots_count; i++)
        kvsrv_free(heap, kv->sessions[i].cached);
    kvsrv_free(heap, kv->entries);
    kvsrv_free(heap, kv->index_slots);
    kvsrv_free(heap, kv->sessions);
    kvsrv_free(heap, kv);
}
