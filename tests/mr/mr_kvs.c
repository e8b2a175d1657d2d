/* mr_kvs: the parts of mr.h that the lab provides and a student does not write (Go's
 * mr.KeyValue and ihash of the worker.go skeleton, the grouping of pairs by key that a reduce
 * needs (Go's sort.Sort(ByKey) and scan), and mr_strerror). They live with the
 * harness, so MR_IMPL (the student's files) holds only the coordinator and the worker.
 *
 * Invariants: items[0 .. count) hold NUL-terminated keys and values in the array's blocks,
 * each pair (key, NUL, value, NUL) whole in one block; count <= cap <= MR_KVS_MAX.
 */
#include <stdbool.h>
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

/* The pairs' bytes: blocks of at least MR_KVS_BLOCK_BYTES, each pair (key, NUL, value, NUL)
 * whole in one block. wc adds 600,000 pairs per run; one malloc per pair cost more than the
 * map itself. */
#define MR_KVS_BLOCK_BYTES (64u * 1024u)

struct mr_kvs_block {
    struct mr_kvs_block *next;
    size_t used;
    size_t cap;
    char data[];
};

void mr_kvs_init(struct mr_kvs *kvs)
{
    kvs->items = NULL;
    kvs->count = 0;
    kvs->cap = 0;
    kvs->blocks = NULL;
}

/* Room for `need` bytes in the newest block, or a new block; NULL when out of memory. */
static char *kvs_room(struct mr_kvs *kvs, size_t need)
{
    struct mr_kvs_block *b = kvs->blocks;
    if (b == NULL || b->cap - b->used < need) {
        size_t cap = need > MR_KVS_BLOCK_BYTES ? need : MR_KVS_BLOCK_BYTES;
        b = malloc(sizeof(*b) + cap);
        if (b == NULL) return NULL;
        b->next = kvs->blocks;
        b->used = 0;
        b->cap = cap;
        kvs->blocks = b;
    }
    char *p = b->data + b->used;
    b->used += need;
    return p;
}

int mr_kvs_add(struct mr_kvs *kvs, const char *key, size_t key_len, const char *value,
               size_t value_len)
{
    if ((key == NULL && key_len > 0) || (value == NULL && value_len > 0)) return MR_EINVAL;
    if (kvs->count == MR_KVS_MAX) return MR_ELIMIT;
    if (key_len > SIZE_MAX / 4 || value_len > SIZE_MAX / 4) return MR_ELIMIT;
    if (kvs->count == kvs->cap) {
        size_t cap = kvs->cap == 0 ? 256 : kvs->cap * 2;
        if (cap > MR_KVS_MAX) cap = MR_KVS_MAX;
        struct mr_kv *grown = realloc(kvs->items, cap * sizeof(*grown));
        if (grown == NULL) return MR_ENOMEM;
        kvs->items = grown;
        kvs->cap = cap;
    }
    char *k = kvs_room(kvs, key_len + value_len + 2);
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
    while (kvs->blocks != NULL) {
        struct mr_kvs_block *next = kvs->blocks->next;
        free(kvs->blocks);
        kvs->blocks = next;
    }
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

/* ---------------------------------------------------------------- grouping */

/* A slot of group_assign's table: a group number + 1 (0: empty) and its key's hash, which
 * settles most probes without a strcmp. */
struct group_slot {
    uint32_t group_plus1;
    uint32_t hash;
};

/* Gives every pair its group (groups numbered in order of first occurrence) through an
 * open-addressing table; first[g] is group g's first pair. Linear in the pairs, where sorting
 * them all would not be (wc has 600,000). */
static bool group_assign(const struct mr_kvs *kvs, uint32_t *group_of, uint32_t *first,
                         uint32_t *count)
{
    size_t cap = 16;
    while (cap < 2 * kvs->count)
        cap *= 2;
    struct group_slot *table = calloc(cap, sizeof(*table));
    if (table == NULL) return false;
    *count = 0;
    for (size_t i = 0; i < kvs->count; i++) {
        const char *key = kvs->items[i].key;
        uint32_t hash = mr_ihash(key, strlen(key));
        size_t at = hash & (cap - 1);
        while (table[at].group_plus1 != 0 &&
               (table[at].hash != hash ||
                strcmp(kvs->items[first[table[at].group_plus1 - 1]].key, key) != 0))
            at = (at + 1) & (cap - 1); /* never full: cap >= 2 * pairs */
        if (table[at].group_plus1 == 0) {
            first[*count] = (uint32_t)i;
            table[at] = (struct group_slot){++*count, hash};
        }
        group_of[i] = table[at].group_plus1 - 1;
    }
    free(table);
    return true;
}

struct group_key {
    const char *key;
    uint32_t group;
};

static int group_key_cmp(const void *a, const void *b)
{
    /* Keys of distinct groups differ, so this order is total. */
    return strcmp(((const struct group_key *)a)->key, ((const struct group_key *)b)->key);
}

/* rank[g]: group g's place in key order. */
static bool group_rank(const struct mr_kvs *kvs, const uint32_t *first, uint32_t count,
                       uint32_t *rank)
{
    struct group_key *keys = malloc((count > 0 ? count : 1) * sizeof(*keys));
    if (keys == NULL) return false;
    for (uint32_t g = 0; g < count; g++)
        keys[g] = (struct group_key){kvs->items[first[g]].key, g};
    qsort(keys, count, sizeof(*keys), group_key_cmp);
    for (uint32_t r = 0; r < count; r++)
        rank[keys[r].group] = r;
    free(keys);
    return true;
}

/* Lays the pairs out group by group (in key order), each group in input order. */
static void group_layout(const struct mr_kvs *kvs, const uint32_t *group_of, const uint32_t *rank,
                         uint32_t *cursor, struct mr_groups *g)
{
    for (size_t i = 0; i < kvs->count; i++)
        g->starts[rank[group_of[i]] + 1]++;
    for (uint32_t r = 0; r < g->count; r++) {
        g->starts[r + 1] += g->starts[r];
        cursor[r] = g->starts[r];
    }
    for (size_t i = 0; i < kvs->count; i++)
        g->order[cursor[rank[group_of[i]]]++] = (uint32_t)i;
}

int mr_kvs_group(const struct mr_kvs *kvs, struct mr_groups *g)
{
    size_t n = kvs->count > 0 ? kvs->count : 1;
    memset(g, 0, sizeof(*g));
    uint32_t *group_of = malloc(n * sizeof(*group_of));
    uint32_t *first = malloc(n * sizeof(*first));
    g->order = malloc(n * sizeof(*g->order));
    g->starts = calloc(n + 1, sizeof(*g->starts));
    int rc = MR_ENOMEM;
    uint32_t count = 0;
    if (group_of != NULL && first != NULL && g->order != NULL && g->starts != NULL &&
        group_assign(kvs, group_of, first, &count)) {
        uint32_t *rank = malloc((count > 0 ? count : 1) * sizeof(*rank));
        g->count = count;
        /* first[] is no longer needed once ranked: it becomes the layout's cursors. */
        if (rank != NULL && group_rank(kvs, first, count, rank)) {
            group_layout(kvs, group_of, rank, first, g);
            rc = MR_OK;
        }
        free(rank);
    }
    free(group_of);
    free(first);
    if (rc != MR_OK) mr_groups_free(g);
    return rc;
}

void mr_groups_free(struct mr_groups *g)
{
    free(g->order);
    free(g->starts);
    memset(g, 0, sizeof(*g));
}

const char *mr_group_key(const struct mr_kvs *kvs, const struct mr_groups *g, uint32_t i)
{
    return kvs->items[g->order[g->starts[i]]].key;
}
