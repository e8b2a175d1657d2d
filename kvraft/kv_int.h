/* kv_int: kvraft internals shared by server.c, clerk.c, store.c and op.c (and the kvraft unit
 * tests). Not part of the graded contract: the graded suites include only kvraft.h.
 *
 * Pieces:
 *  - the store: byte-string keys to byte-string values, a hash index over an insertion-ordered
 *    entry array (no deletes), so nothing ever depends on hash order; snapshots list the keys
 *    sorted bytewise.
 *  - the duplicate table: one session per client (client id, last applied sequence number and
 *    that op's result), kept sorted by client id.
 *  - the codecs (labgob): ops (RPC arguments and Raft log commands share one encoding),
 *    replies and snapshots.
 *
 * Invariants:
 *  1. store.index_slots_count is a power of two and at least twice store.entries_count, so an
 *     open-addressing probe always finds an empty slot.
 *  2. dups.sessions is strictly increasing by client_id.
 *  3. A snapshot decodes to exactly the store and table it was encoded from (tested).
 */
#ifndef KV_INT_H
#define KV_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../labgob/labgob.h"
#include "kvraft.h"

/* ---------------------------------------------------------------- wire constants */

enum kv_op_kind { KV_OP_GET = 0, KV_OP_PUT = 1, KV_OP_APPEND = 2 };
#define KV_OP_KINDS_COUNT 3

/* What a server answers (Go's Err strings). */
enum kv_reply_err {
    KV_REPLY_OK = 0,
    KV_REPLY_NO_KEY = 1,       /* Get of a missing key: value "" */
    KV_REPLY_WRONG_LEADER = 2, /* not leader, lost leadership, term moved on, or killed */
    KV_REPLY_TIMEOUT = 3,      /* the op was not applied in time; try another server */
    KV_REPLY_BAD_ARGS = 4,     /* the arguments did not decode or were out of bounds */
    KV_REPLY_TOO_BIG = 5,      /* applied as a no-op: the value or store would exceed bounds */
};
#define KV_REPLY_ERRS_COUNT 6

/* Methods: "KVServer.<name>", indexed by enum kv_op_kind; kv_method_full_names holds the
 * whole "KVServer.<name>" strings the clerk calls. */
extern const char *const kv_method_names[KV_OP_KINDS_COUNT];
extern const char *const kv_method_full_names[KV_OP_KINDS_COUNT];

/* ---------------------------------------------------------------- store */

struct kv_entry {
    uint8_t *key; /* NUL-terminated copy */
    size_t key_len;
    uint8_t *value; /* NUL-terminated, capacity value_cap + 1 */
    size_t value_len;
    size_t value_cap;
};

struct kv_store {
    struct kv_entry *entries; /* insertion order */
    size_t entries_count;
    size_t entries_cap;
    uint32_t *index_slots;    /* entry index + 1; 0 = empty */
    size_t index_slots_count; /* power of two */
    uint64_t bytes;           /* sum of key and value lengths (for limits and stats) */
};

void kv_store_init(struct kv_store *s);
void kv_store_close(struct kv_store *s);
/* The entry for key, or NULL. Borrowed until the next change of the store. */
const struct kv_entry *kv_store_find(const struct kv_store *s, const uint8_t *key, size_t key_len);
/* Put replaces, append concatenates (creating the key when missing). KV_OK, KV_ENOMEM or
 * KV_ELIMIT (key, value or key count over its bound). On KV_ELIMIT the store is unchanged;
 * after KV_ENOMEM a new key may exist with an empty value (which reads like a missing one). */
int kv_store_put(struct kv_store *s, const uint8_t *key, size_t key_len, const uint8_t *value,
                 size_t value_len);
int kv_store_append(struct kv_store *s, const uint8_t *key, size_t key_len, const uint8_t *value,
                    size_t value_len);
/* Entry indices sorted bytewise by key (malloc'd array of entries_count; caller frees). NULL
 * on OOM or when the store is empty. */
uint32_t *kv_store_sorted(const struct kv_store *s);

/* ---------------------------------------------------------------- duplicate table */

struct kv_session {
    uint64_t client_id;
    uint64_t seq_last; /* highest sequence number applied for this client */
    uint32_t err_last; /* enum kv_reply_err of that op (a retry gets the same answer) */
};

struct kv_dups {
    struct kv_session *sessions; /* sorted by client_id */
    size_t sessions_count;
    size_t sessions_cap;
};

void kv_dups_init(struct kv_dups *d);
void kv_dups_close(struct kv_dups *d);
/* The session of `client_id`, or NULL when the client was never seen. */
const struct kv_session *kv_dups_find(const struct kv_dups *d, uint64_t client_id);
/* Records that (client_id, seq) was applied with result err. KV_OK, KV_ENOMEM or KV_ELIMIT. */
int kv_dups_record(struct kv_dups *d, uint64_t client_id, uint64_t seq, uint32_t err);

/* ---------------------------------------------------------------- codecs */

/* An op: RPC arguments and Raft log command. Key and value are views (into the caller's
 * strings when encoding, into the decoded buffer when decoding). */
struct kv_op {
    uint64_t client_id;
    uint64_t seq;
    enum kv_op_kind kind;
    const uint8_t *key;
    size_t key_len;
    const uint8_t *value;
    size_t value_len;
};

/* Encodes into `e` (which is reset first). KV_OK, KV_EINVAL (bad kind, key or value too long)
 * or KV_ENOMEM. */
int kv_op_encode(struct gob_enc *e, const struct kv_op *op);
/* Decodes; views point into buf. KV_OK or KV_EDECODE (malformed, kind out of range, key or
 * value over its bound). */
int kv_op_decode(const uint8_t *buf, size_t len, struct kv_op *op);

struct kv_reply {
    enum kv_reply_err err;
    const uint8_t *value;
    size_t value_len;
};
int kv_reply_encode(struct gob_enc *e, const struct kv_reply *reply);
int kv_reply_decode(const uint8_t *buf, size_t len, struct kv_reply *reply);

/* A snapshot: the last applied index, the store (keys sorted) and the duplicate table (sorted
 * by client id). */
int kv_snapshot_encode(struct gob_enc *e, uint64_t applied_index, const struct kv_store *s,
                       const struct kv_dups *d);
/* Decodes into empty (freshly initialised) s and d. On error they may hold a partial state;
 * the caller closes them. KV_OK, KV_EDECODE, KV_ENOMEM or KV_ELIMIT. */
int kv_snapshot_decode(const uint8_t *buf, size_t len, uint64_t *applied_index, struct kv_store *s,
                       struct kv_dups *d);

/* ---------------------------------------------------------------- server internals */

#define KV_PENDING_MAX 256u               /* handlers waiting for their op at once */
#define KV_TICK_US SIM_MS(20)             /* how often waiting handlers re-check leadership */
#define KV_WAIT_TIMEOUT_US SIM_MS(500)    /* a waiting handler gives up after this */
#define KV_CLERK_PASS_SLEEP_US SIM_MS(50) /* clerk pause after a full pass of failures */

#endif /* KV_INT_H */
