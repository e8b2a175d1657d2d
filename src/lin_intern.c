/* lin_intern.c: the two hash tables the models build their states from.
 *
 * - lin_intern maps byte strings to dense ids (0, 1, 2, ...). A model that interns its states
 *   (the KV model interns every string value) gets exact equality as id equality and a free
 *   64-bit fingerprint, so the checker's cache never compares long strings.
 * - lin_map maps 64-bit keys to 32-bit values; the models memoize step results in it, since
 *   the search applies the same operation to the same state many times while backtracking.
 *
 * Both use open addressing with linear probing at a load factor of at most 1/2, and grow by
 * doubling. Invariants: slots_cap/cap is a power of two; count <= cap / 2.
 */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "lin_int.h"

#define INTERN_SEED 0x6c696e5f696e7472ull /* "lin_intr": fixed, for reproducible layouts */
#define MAP_SLOTS_MIN 64u

/* ---------------------------------------------------------------- intern */

void lin_intern_init(struct lin_intern *t)
{
    memset(t, 0, sizeof(*t));
}

void lin_intern_close(struct lin_intern *t)
{
    free(t->bytes);
    free(t->item_off);
    free(t->item_len);
    free(t->slots);
    free(t->slot_tag);
    memset(t, 0, sizeof(*t));
}

const char *lin_intern_get(const struct lin_intern *t, uint32_t id, size_t *size_out)
{
    LIN_ASSERT(id < t->items_count);
    if (size_out != NULL) *size_out = t->item_len[id];
    return t->bytes + t->item_off[id];
}

static uint64_t intern_hash(const void *data, size_t size)
{
    return XXH3_64bits_withSeed(data, size, INTERN_SEED);
}

/* Rebuilds the slot array at twice the size (or the initial size). */
static int intern_grow_slots(struct lin_intern *t)
{
    size_t cap = t->slots_cap ? t->slots_cap * 2 : MAP_SLOTS_MIN;
    uint32_t *slots = calloc(cap, sizeof(*slots));
    uint32_t *tags = calloc(cap, sizeof(*tags));
    if (slots == NULL || tags == NULL) {
        free(slots);
        free(tags);
        return LIN_ENOMEM;
    }
    for (uint32_t id = 0; id < t->items_count; id++) {
        uint64_t h = intern_hash(t->bytes + t->item_off[id], t->item_len[id]);
        size_t i = (size_t)h & (cap - 1);
        while (slots[i] != 0)
            i = (i + 1) & (cap - 1);
        slots[i] = id + 1;
        tags[i] = (uint32_t)(h >> 32);
    }
    free(t->slots);
    free(t->slot_tag);
    t->slots = slots;
    t->slot_tag = tags;
    t->slots_cap = cap;
    return 0;
}

/* Makes room for one more item of `size` bytes. */
static int intern_reserve(struct lin_intern *t, size_t size)
{
    if (t->items_count >= LIN_INTERN_ITEMS_MAX || size > UINT32_MAX) return LIN_ELIMIT;
    if (t->items_count == t->items_cap) {
        uint32_t cap = t->items_cap ? t->items_cap * 2 : 64u;
        uint64_t *off = realloc(t->item_off, (size_t)cap * sizeof(*off));
        if (off == NULL) return LIN_ENOMEM;
        t->item_off = off;
        uint32_t *len = realloc(t->item_len, (size_t)cap * sizeof(*len));
        if (len == NULL) return LIN_ENOMEM;
        t->item_len = len;
        t->items_cap = cap;
    }
    /* Allocated even for empty strings, so lin_intern_get never offsets a NULL pointer. */
    if (t->bytes == NULL || t->bytes_cap - t->bytes_size < size) {
        size_t cap = t->bytes_cap ? t->bytes_cap : 4096u;
        while (cap - t->bytes_size < size) {
            if (cap > SIZE_MAX / 2) return LIN_ELIMIT;
            cap *= 2;
        }
        char *bytes = realloc(t->bytes, cap);
        if (bytes == NULL) return LIN_ENOMEM;
        t->bytes = bytes;
        t->bytes_cap = cap;
    }
    if ((t->items_count + 1u) * (size_t)2 > t->slots_cap) return intern_grow_slots(t);
    return 0;
}

int lin_intern_put(struct lin_intern *t, const void *data, size_t size, uint32_t *id_out)
{
    LIN_ASSERT(data != NULL || size == 0);
    int rc = intern_reserve(t, size);
    if (rc != 0) return rc;
    uint64_t h = intern_hash(data, size);
    uint32_t tag = (uint32_t)(h >> 32);
    size_t mask = t->slots_cap - 1;
    size_t i = (size_t)h & mask;
    for (size_t probes = 0; t->slots[i] != 0; probes++) {
        LIN_ASSERT(probes < t->slots_cap);
        uint32_t id = t->slots[i] - 1;
        if (t->slot_tag[i] == tag && t->item_len[id] == size &&
            (size == 0 || memcmp(t->bytes + t->item_off[id], data, size) == 0)) {
            *id_out = id;
            return 0;
        }
        i = (i + 1) & mask;
    }
    uint32_t id = t->items_count++;
    t->item_off[id] = t->bytes_size;
    t->item_len[id] = (uint32_t)size;
    if (size > 0) memcpy(t->bytes + t->bytes_size, data, size);
    t->bytes_size += size;
    t->slots[i] = id + 1;
    t->slot_tag[i] = tag;
    *id_out = id;
    return 0;
}

/* ---------------------------------------------------------------- map */

void lin_map_init(struct lin_map *m)
{
    memset(m, 0, sizeof(*m));
}

void lin_map_close(struct lin_map *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof(*m));
}

/* A cheap, well-mixing hash of a 64-bit key (the keys are packed small integers). */
static uint64_t map_hash(uint64_t key)
{
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdull;
    key ^= key >> 33;
    key *= 0xc4ceb9fe1a85ec53ull;
    key ^= key >> 33;
    return key;
}

uint32_t lin_map_get(const struct lin_map *m, uint64_t key)
{
    if (m->cap == 0) return LIN_MAP_EMPTY;
    size_t mask = m->cap - 1;
    size_t i = (size_t)map_hash(key) & mask;
    while (m->vals[i] != LIN_MAP_EMPTY) {
        if (m->keys[i] == key) return m->vals[i];
        i = (i + 1) & mask;
    }
    return LIN_MAP_EMPTY;
}

static void map_insert_slot(uint64_t *keys, uint32_t *vals, size_t cap, uint64_t key, uint32_t val)
{
    size_t mask = cap - 1;
    size_t i = (size_t)map_hash(key) & mask;
    while (vals[i] != LIN_MAP_EMPTY && keys[i] != key)
        i = (i + 1) & mask;
    keys[i] = key;
    vals[i] = val;
}

static int map_grow(struct lin_map *m)
{
    size_t cap = m->cap ? m->cap * 2 : MAP_SLOTS_MIN;
    uint64_t *keys = malloc(cap * sizeof(*keys));
    uint32_t *vals = malloc(cap * sizeof(*vals));
    if (keys == NULL || vals == NULL) {
        free(keys);
        free(vals);
        return LIN_ENOMEM;
    }
    memset(vals, 0xff, cap * sizeof(*vals)); /* LIN_MAP_EMPTY everywhere */
    for (size_t i = 0; i < m->cap; i++) {
        if (m->vals[i] != LIN_MAP_EMPTY) map_insert_slot(keys, vals, cap, m->keys[i], m->vals[i]);
    }
    free(m->keys);
    free(m->vals);
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
    return 0;
}

int lin_map_put(struct lin_map *m, uint64_t key, uint32_t val)
{
    LIN_ASSERT(val != LIN_MAP_EMPTY);
    if ((m->count + 1) * 2 > m->cap) {
        int rc = map_grow(m);
        if (rc != 0) return rc;
    }
    size_t mask = m->cap - 1;
    size_t i = (size_t)map_hash(key) & mask;
    while (m->vals[i] != LIN_MAP_EMPTY && m->keys[i] != key)
        i = (i + 1) & mask;
    if (m->vals[i] == LIN_MAP_EMPTY) m->count++;
    m->keys[i] = key;
    m->vals[i] = val;
    LIN_ASSERT(m->count * 2 <= m->cap);
    return 0;
}

size_t lin_intern_bytes(const struct lin_intern *t)
{
    return t->bytes_cap + (size_t)t->items_cap * (sizeof(*t->item_off) + sizeof(*t->item_len)) +
           t->slots_cap * (sizeof(*t->slots) + sizeof(*t->slot_tag));
}

size_t lin_map_bytes(const struct lin_map *m)
{
    return m->cap * (sizeof(*m->keys) + sizeof(*m->vals));
}
