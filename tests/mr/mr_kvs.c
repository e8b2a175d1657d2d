/* mr_kvs: the parts of mr.h that the lab provides and a student does not write (Go's
 * mr.KeyValue and ihash of the worker.go skeleton, and mr_strerror). They live with the
 * harness, so MR_IMPL (the student's files) holds only the coordinator and the worker.
 *
 * Invariants: items[0 .. count) hold NUL-terminated keys and values owned by the array, each
 * pair in one malloc'd block that starts at its key; count <= cap <= MR_KVS_MAX.
 */
#include <stdlib.h>
#include <string.h>

#include "mr.h"

const char *mr_strerror(int err)
{
    switch (err) {
#define MR_ERR_CASE(name, value, text)                                                             \
    case name:                                                                                     \
        return text;
        MR_ERRNO_MAP(MR_ERR_CASE)
#undef MR_ERR_CASE
    default:
        return "unknown mr error";
    }
}

void mr_kvs_init(struct mr_kvs *kvs)
{
    kvs->items = NULL;
    kvs->count = 0;
    kvs->cap = 0;
}

int mr_kvs_add(struct mr_kvs *kvs, const char *key, size_t key_len, const char *value,
               size_t value_len)
{
    if ((key == NULL && key_len > 0) || (value == NULL && value_len > 0)) return MR_EINVAL;
    if (kvs->count == MR_KVS_MAX) return MR_ELIMIT;
    if (key_len > SIZE_MAX / 2 || value_len > SIZE_MAX / 2) return MR_ELIMIT;
    if (kvs->count == kvs->cap) {
        size_t cap = kvs->cap == 0 ? 256 : kvs->cap * 2;
        if (cap > MR_KVS_MAX) cap = MR_KVS_MAX;
        struct mr_kv *grown = realloc(kvs->items, cap * sizeof(*grown));
        if (grown == NULL) return MR_ENOMEM;
        kvs->items = grown;
        kvs->cap = cap;
    }
    /* One allocation per pair: the key, its NUL, the value, its NUL (wc makes millions). */
    char *k = malloc(key_len + value_len + 2);
    if (k == NULL) return MR_ENOMEM;
    if (key_len > 0) memcpy(k, key, key_len);
    k[key_len] = '\0';
    char *v = k + key_len + 1;
    if (value_len > 0) memcpy(v, value, value_len);
    v[value_len] = '\0';
    kvs->items[kvs->count++] = (struct mr_kv){.key = k, .value = v};
    return MR_OK;
}

void mr_kvs_clear(struct mr_kvs *kvs)
{
    for (size_t i = 0; i < kvs->count; i++)
        free(kvs->items[i].key); /* the value shares the key's allocation */
    kvs->count = 0;
}

void mr_kvs_free(struct mr_kvs *kvs)
{
    mr_kvs_clear(kvs);
    free(kvs->items);
    mr_kvs_init(kvs);
}

uint32_t mr_ihash(const char *key, size_t key_len)
{
    uint32_t h = 0x811c9dc5u; /* FNV-1a, 32 bits, as Go's hash/fnv New32a */
    for (size_t i = 0; i < key_len; i++) {
        h ^= (uint8_t)key[i];
        h *= 0x01000193u;
    }
    return h & 0x7fffffffu;
}
