/* op: the labgob encodings of kvraft: ops (RPC arguments and Raft log commands), replies and
 * snapshots, plus kv_strerror and the method names.
 *
 * Field numbers (zero values are left out by labgob, so a Get of key "" by client 0 is tiny):
 *   op:       1 client id, 2 seq, 3 kind as its method name ("Get", "Put", "Append"), 4 key,
 *             5 value
 *   reply:    1 err, 2 value
 *   snapshot: 1 applied index (a Go int), 2 the store as a map key -> value (keys sorted
 *             bytewise), 3 the sessions as a map client id -> record {1 last seq, 2 last err}
 *             (sorted by client id)
 * These are the shapes of a Go kvraft (an Op{Type string; ...} command; a snapshot of
 * Encode(map[string]string), Encode(map[int64]...)), so labgob's gob model sizes them as Go
 * would: the persister's sizes for 8 x maxraftstate and TestSnapshotSize4B's 500 bytes.
 * Every decoder checks bounds and kinds and reports KV_EDECODE rather than trusting its input.
 */
#include <stdlib.h>
#include <string.h>

#include "kv_int.h"

const char *const kv_method_names[KV_OP_KINDS_COUNT] = {"Get", "Put", "Append"};
const char *const kv_method_full_names[KV_OP_KINDS_COUNT] = {"KVServer.Get", "KVServer.Put",
                                                             "KVServer.Append"};

const char *kv_strerror(int err)
{
    switch (err) {
#define KV_ERR_CASE(name, value, text)                                                             \
    case name:                                                                                     \
        return text;
        KV_ERRNO_MAP(KV_ERR_CASE)
#undef KV_ERR_CASE
    default:
        return "unknown kvraft error";
    }
}

static int enc_result(const struct gob_enc *e)
{
    int rc = gob_enc_finish(e);
    if (rc == GOB_OK) return KV_OK;
    return rc == GOB_ENOMEM ? KV_ENOMEM : KV_EINVAL;
}

int kv_op_encode(struct gob_enc *e, const struct kv_op *op)
{
    if ((unsigned)op->kind >= KV_OP_KINDS_COUNT) return KV_EINVAL;
    if (op->key_len > KV_KEY_MAX || op->value_len > KV_VALUE_MAX) return KV_EINVAL;
    gob_enc_reset(e);
    gob_put_uint(e, 1, op->client_id);
    gob_put_uint(e, 2, op->seq);
    gob_put_str(e, 3, kv_method_names[op->kind]);
    gob_put_bytes(e, 4, op->key, op->key_len);
    gob_put_bytes(e, 5, op->value, op->value_len);
    return enc_result(e);
}

/* The kind whose method name is the n bytes at p; KV_OP_KINDS_COUNT when none is. */
static unsigned op_kind_of(const uint8_t *p, size_t n)
{
    for (unsigned k = 0; k < KV_OP_KINDS_COUNT; k++) {
        if (n == strlen(kv_method_names[k]) && memcmp(p, kv_method_names[k], n) == 0) return k;
    }
    return KV_OP_KINDS_COUNT;
}

int kv_op_decode(const uint8_t *buf, size_t len, struct kv_op *op)
{
    struct gob_dec d;
    const uint8_t *kind = NULL;
    size_t kind_len = 0;
    memset(op, 0, sizeof(*op));
    gob_dec_init(&d, buf, len);
    gob_get_uint(&d, 1, &op->client_id);
    gob_get_uint(&d, 2, &op->seq);
    gob_get_bytes(&d, 3, &kind, &kind_len);
    gob_get_bytes(&d, 4, &op->key, &op->key_len);
    gob_get_bytes(&d, 5, &op->value, &op->value_len);
    if (gob_dec_finish(&d) != GOB_OK) return KV_EDECODE;
    unsigned k = kind != NULL ? op_kind_of(kind, kind_len) : KV_OP_KINDS_COUNT;
    if (k >= KV_OP_KINDS_COUNT || op->key_len > KV_KEY_MAX || op->value_len > KV_VALUE_MAX)
        return KV_EDECODE;
    op->kind = (enum kv_op_kind)k;
    return KV_OK;
}

int kv_reply_encode(struct gob_enc *e, const struct kv_reply *reply)
{
    gob_enc_reset(e);
    gob_put_uint(e, 1, (uint64_t)reply->err);
    gob_put_bytes(e, 2, reply->value, reply->value_len);
    return enc_result(e);
}

int kv_reply_decode(const uint8_t *buf, size_t len, struct kv_reply *reply)
{
    struct gob_dec d;
    uint64_t err = 0;
    memset(reply, 0, sizeof(*reply));
    gob_dec_init(&d, buf, len);
    gob_get_uint(&d, 1, &err);
    gob_get_bytes(&d, 2, &reply->value, &reply->value_len);
    if (gob_dec_finish(&d) != GOB_OK || err >= KV_REPLY_ERRS_COUNT) return KV_EDECODE;
    reply->err = (enum kv_reply_err)err;
    return KV_OK;
}

static int snapshot_put_entries(struct gob_enc *e, const struct kv_store *s)
{
    if (s->entries_count == 0) return KV_OK;
    uint32_t *order = kv_store_sorted(s);
    if (order == NULL) return KV_ENOMEM;
    gob_put_map_begin(e, 2, s->entries_count);
    for (size_t i = 0; i < s->entries_count; i++) {
        const struct kv_entry *entry = &s->entries[order[i]];
        gob_put_record_begin(e, 0);
        gob_put_bytes(e, 1, entry->key, entry->key_len);
        gob_put_bytes(e, 2, entry->value, entry->value_len);
        gob_put_record_end(e);
    }
    gob_put_map_end(e);
    free(order);
    return KV_OK;
}

static void snapshot_put_sessions(struct gob_enc *e, const struct kv_dups *d)
{
    if (d->sessions_count == 0) return;
    gob_put_map_begin(e, 3, d->sessions_count);
    for (size_t i = 0; i < d->sessions_count; i++) {
        gob_put_record_begin(e, 0);
        gob_put_uint(e, 1, d->sessions[i].client_id);
        gob_put_record_begin(e, 2);
        gob_put_uint(e, 1, d->sessions[i].seq_last);
        gob_put_uint(e, 2, d->sessions[i].err_last);
        gob_put_record_end(e);
        gob_put_record_end(e);
    }
    gob_put_map_end(e);
}

int kv_snapshot_encode(struct gob_enc *e, uint64_t applied_index, const struct kv_store *s,
                       const struct kv_dups *d)
{
    gob_enc_reset(e);
    gob_put_int(e, 1, (int64_t)(applied_index & (uint64_t)INT64_MAX)); /* Go's int index */
    int rc = snapshot_put_entries(e, s);
    if (rc != KV_OK) return rc;
    snapshot_put_sessions(e, d);
    return enc_result(e);
}

static int snapshot_get_entries(struct gob_dec *dec, struct kv_store *s)
{
    uint64_t count = gob_get_array_begin(dec, 2, GOB_RECORD); /* a map: entries are records */
    for (uint64_t i = 0; i < count && gob_dec_err(dec) == GOB_OK; i++) {
        const uint8_t *key = NULL;
        size_t key_len = 0;
        const uint8_t *value = NULL;
        size_t value_len = 0;
        gob_get_elem_record_begin(dec);
        gob_get_bytes(dec, 1, &key, &key_len);
        gob_get_bytes(dec, 2, &value, &value_len);
        gob_get_record_end(dec);
        if (gob_dec_err(dec) != GOB_OK) return KV_EDECODE;
        int rc = kv_store_put(s, key, key_len, value, value_len);
        if (rc != KV_OK) return rc;
    }
    if (count > 0) gob_get_array_end(dec);
    return gob_dec_err(dec) == GOB_OK ? KV_OK : KV_EDECODE;
}

static int snapshot_get_sessions(struct gob_dec *dec, struct kv_dups *d)
{
    uint64_t count = gob_get_array_begin(dec, 3, GOB_RECORD); /* a map: entries are records */
    for (uint64_t i = 0; i < count && gob_dec_err(dec) == GOB_OK; i++) {
        uint64_t client_id = 0;
        uint64_t seq = 0;
        uint64_t err = 0;
        gob_get_elem_record_begin(dec);
        gob_get_uint(dec, 1, &client_id);
        if (gob_get_record_begin(dec, 2)) {
            gob_get_uint(dec, 1, &seq);
            gob_get_uint(dec, 2, &err);
            gob_get_record_end(dec);
        }
        gob_get_record_end(dec);
        if (gob_dec_err(dec) != GOB_OK || err >= KV_REPLY_ERRS_COUNT) return KV_EDECODE;
        int rc = kv_dups_record(d, client_id, seq, (uint32_t)err);
        if (rc != KV_OK) return rc;
    }
    if (count > 0) gob_get_array_end(dec);
    return gob_dec_err(dec) == GOB_OK ? KV_OK : KV_EDECODE;
}

int kv_snapshot_decode(const uint8_t *buf, size_t len, uint64_t *applied_index, struct kv_store *s,
                       struct kv_dups *d)
{
    struct gob_dec dec;
    uint64_t index = 0;
    int64_t index_int = 0;
    gob_dec_init(&dec, buf, len);
    gob_get_int(&dec, 1, &index_int);
    if (index_int < 0) return KV_EDECODE;
    index = (uint64_t)index_int;
    int rc = snapshot_get_entries(&dec, s);
    if (rc != KV_OK) return rc;
    rc = snapshot_get_sessions(&dec, d);
    if (rc != KV_OK) return rc;
    if (gob_dec_finish(&dec) != GOB_OK) return KV_EDECODE;
    *applied_index = index;
    return KV_OK;
}
