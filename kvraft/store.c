/* store: the key/value table and the per-client duplicate table of a KV server.
 *
 * The key/value table is an insertion-ordered array of entries plus an open-addressing index
 * (FNV-1a over the key bytes, linear probing). Keys are never deleted, so the index only grows.
 * Nothing iterates the index: lookups go through it, iteration goes through the array or
 * through kv_store_sorted (bytewise key order), so behaviour never depends on hash order.
 * Values grow by doubling their capacity, so a long run of Appends stays linear.
 *
 * The duplicate table is an array of sessions sorted by client id (binary search); clerks get
 * increasing ids, so insertion is almost always at the end.
 */
#include <stdlib.h>
#include <string.h>

#include "kv_int.h"

#define STORE_SLOTS_MIN 16u

_Static_assert(KV_KEYS_MAX <= UINT32_MAX / 4u, "entry index + 1 must fit a slot");

static uint64_t key_hash(const uint8_t *key, size_t key_len)
{
    uint64_t h = 14695981039346656037ull; /* FNV-1a 64 offset basis */
    for (size_t i = 0; i < key_len; i++) {
        h ^= key[i];
        h *= 1099511628211ull;
    }
    return h;
}

static bool key_equal(const struct kv_entry *entry, const uint8_t *key, size_t key_len)
{
    return entry->key_len == key_len && memcmp(entry->key, key, key_len) == 0;
}

void kv_store_init(struct kv_store *s)
{
    memset(s, 0, sizeof(*s));
}

void kv_store_close(struct kv_store *s)
{
    for (size_t i = 0; i < s->entries_count; i++) {
        free(s->entries[i].key);
        free(s->entries[i].value);
    }
    free(s->entries);
    free(s->index_slots);
    memset(s, 0, sizeof(*s));
}

/* The slot holding key, or the empty slot where it would go. */
static size_t slot_probe(const struct kv_store *s, const uint8_t *key, size_t key_len)
{
    size_t mask = s->index_slots_count - 1;
    size_t slot = (size_t)key_hash(key, key_len) & mask;
    /* Bounded: the table is at most half full (invariant 1), so an empty slot is reached. */
    for (size_t probes = 0; probes < s->index_slots_count; probes++) {
        uint32_t at = s->index_slots[slot];
        if (at == 0 || key_equal(&s->entries[at - 1], key, key_len)) return slot;
        slot = (slot + 1) & mask;
    }
    abort(); /* unreachable by invariant 1 */
}

const struct kv_entry *kv_store_find(const struct kv_store *s, const uint8_t *key, size_t key_len)
{
    if (s->index_slots_count == 0) return NULL;
    uint32_t at = s->index_slots[slot_probe(s, key, key_len)];
    return at == 0 ? NULL : &s->entries[at - 1];
}

/* Rebuilds the index with `slots_count` slots. */
static int index_rebuild(struct kv_store *s, size_t slots_count)
{
    uint32_t *slots = calloc(slots_count, sizeof(*slots));
    if (slots == NULL) return KV_ENOMEM;
    free(s->index_slots);
    s->index_slots = slots;
    s->index_slots_count = slots_count;
    for (size_t i = 0; i < s->entries_count; i++) {
        size_t slot = slot_probe(s, s->entries[i].key, s->entries[i].key_len);
        s->index_slots[slot] = (uint32_t)(i + 1);
    }
    return KV_OK;
}

/* Makes room for one more entry (array and index). */
static int store_reserve_entry(struct kv_store *s)
{
    if (s->entries_count >= KV_KEYS_MAX) return KV_ELIMIT;
    if (s->entries_count == s->entries_cap) {
        size_t cap = s->entries_cap == 0 ? 8 : s->entries_cap * 2;
        struct kv_entry *entries = realloc(s->entries, cap * sizeof(*entries));
        if (entries == NULL) return KV_ENOMEM;
        s->entries = entries;
        s->entries_cap = cap;
    }
    if ((s->entries_count + 1) * 2 > s->index_slots_count) {
        size_t slots = s->index_slots_count == 0 ? STORE_SLOTS_MIN : s->index_slots_count * 2;
        int rc = index_rebuild(s, slots);
        if (rc != KV_OK) return rc;
    }
    return KV_OK;
}

/* Ensures `entry` can hold `value_len` bytes (plus the NUL). */
static int value_reserve(struct kv_entry *entry, size_t value_len)
{
    if (value_len <= entry->value_cap && entry->value != NULL) return KV_OK;
    size_t cap = entry->value_cap < 16 ? 16 : entry->value_cap;
    while (cap < value_len)
        cap *= 2;
    uint8_t *value = realloc(entry->value, cap + 1);
    if (value == NULL) return KV_ENOMEM;
    entry->value = value;
    entry->value_cap = cap;
    return KV_OK;
}

/* Finds or creates the entry for key (with an empty value). */
static int store_entry(struct kv_store *s, const uint8_t *key, size_t key_len,
                       struct kv_entry **out)
{
    if (key_len > KV_KEY_MAX) return KV_ELIMIT;
    struct kv_entry *found = (struct kv_entry *)kv_store_find(s, key, key_len);
    if (found != NULL) {
        *out = found;
        return KV_OK;
    }
    int rc = store_reserve_entry(s);
    if (rc != KV_OK) return rc;
    struct kv_entry entry = {0};
    entry.key = malloc(key_len + 1);
    if (entry.key == NULL || value_reserve(&entry, 0) != KV_OK) {
        free(entry.key);
        return KV_ENOMEM;
    }
    if (key_len > 0) memcpy(entry.key, key, key_len);
    entry.key[key_len] = 0;
    entry.key_len = key_len;
    entry.value[0] = 0;
    size_t slot = slot_probe(s, key, key_len);
    s->entries[s->entries_count] = entry;
    s->entries_count++;
    s->index_slots[slot] = (uint32_t)s->entries_count;
    s->bytes += key_len;
    *out = &s->entries[s->entries_count - 1];
    return KV_OK;
}

int kv_store_put(struct kv_store *s, const uint8_t *key, size_t key_len, const uint8_t *value,
                 size_t value_len)
{
    if (value_len > KV_VALUE_MAX) return KV_ELIMIT;
    struct kv_entry *entry = NULL;
    int rc = store_entry(s, key, key_len, &entry);
    if (rc != KV_OK) return rc;
    rc = value_reserve(entry, value_len);
    if (rc != KV_OK) return rc;
    if (value_len > 0) memcpy(entry->value, value, value_len);
    entry->value[value_len] = 0;
    s->bytes = s->bytes - entry->value_len + value_len;
    entry->value_len = value_len;
    return KV_OK;
}

int kv_store_append(struct kv_store *s, const uint8_t *key, size_t key_len, const uint8_t *value,
                    size_t value_len)
{
    const struct kv_entry *old = kv_store_find(s, key, key_len);
    size_t old_len = old == NULL ? 0 : old->value_len;
    if (value_len > KV_VALUE_MAX || old_len > KV_VALUE_MAX - value_len) return KV_ELIMIT;
    struct kv_entry *entry = NULL;
    int rc = store_entry(s, key, key_len, &entry);
    if (rc != KV_OK) return rc;
    rc = value_reserve(entry, entry->value_len + value_len);
    if (rc != KV_OK) return rc;
    if (value_len > 0) memcpy(entry->value + entry->value_len, value, value_len);
    entry->value_len += value_len;
    entry->value[entry->value_len] = 0;
    s->bytes += value_len;
    return KV_OK;
}

/* qsort has no context argument; the comparator gets pointers into this pair array. */
struct sort_item {
    const struct kv_entry *entry;
    uint32_t index;
};

static int sort_item_cmp(const void *a, const void *b)
{
    const struct kv_entry *x = ((const struct sort_item *)a)->entry;
    const struct kv_entry *y = ((const struct sort_item *)b)->entry;
    size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
    int c = n == 0 ? 0 : memcmp(x->key, y->key, n);
    if (c != 0) return c;
    return (x->key_len > y->key_len) - (x->key_len < y->key_len);
}

uint32_t *kv_store_sorted(const struct kv_store *s)
{
    if (s->entries_count == 0) return NULL;
    struct sort_item *items = malloc(s->entries_count * sizeof(*items));
    uint32_t *order = malloc(s->entries_count * sizeof(*order));
    if (items == NULL || order == NULL) {
        free(items);
        free(order);
        return NULL;
    }
    for (size_t i = 0; i < s->entries_count; i++) {
        items[i].entry = &s->entries[i];
        items[i].index = (uint32_t)i;
    }
    /* Keys are unique, so the order is total and qsort's instability cannot show. */
    qsort(items, s->entries_count, sizeof(*items), sort_item_cmp);
    for (size_t i = 0; i < s->entries_count; i++)
        order[i] = items[i].index;
    free(items);
    return order;
}

/* ---------------------------------------------------------------- duplicate table */

void kv_dups_init(struct kv_dups *d)
{
    memset(d, 0, sizeof(*d));
}

void kv_dups_close(struct kv_dups *d)
{
    free(d->sessions);
    memset(d, 0, sizeof(*d));
}

/* First position whose client id is >= client_id. */
static size_t dups_lower_bound(const struct kv_dups *d, uint64_t client_id)
{
    size_t lo = 0;
    size_t hi = d->sessions_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->sessions[mid].client_id < client_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct kv_session *kv_dups_find(const struct kv_dups *d, uint64_t client_id)
{
    size_t at = dups_lower_bound(d, client_id);
    if (at < d->sessions_count && d->sessions[at].client_id == client_id) return &d->sessions[at];
    return NULL;
}

int kv_dups_record(struct kv_dups *d, uint64_t client_id, uint64_t seq, uint32_t err)
{
    size_t at = dups_lower_bound(d, client_id);
    if (at < d->sessions_count && d->sessions[at].client_id == client_id) {
        d->sessions[at].seq_last = seq;
        d->sessions[at].err_last = err;
        return KV_OK;
    }
    if (d->sessions_count >= KV_CLIENTS_MAX) return KV_ELIMIT;
    if (d->sessions_count == d->sessions_cap) {
        size_t cap = d->sessions_cap == 0 ? 16 : d->sessions_cap * 2;
        struct kv_session *sessions = realloc(d->sessions, cap * sizeof(*sessions));
        if (sessions == NULL) return KV_ENOMEM;
        d->sessions = sessions;
        d->sessions_cap = cap;
    }
    memmove(&d->sessions[at + 1], &d->sessions[at],
            (d->sessions_count - at) * sizeof(d->sessions[0]));
    d->sessions[at] = (struct kv_session){.client_id = client_id, .seq_last = seq, .err_last = err};
    d->sessions_count++;
    return KV_OK;
}
