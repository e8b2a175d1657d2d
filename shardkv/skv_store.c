/* skv_store: one shard's keys and duplicate table, key2shard, skv_strerror and the end cache.
 *
 * A shard's keys are an array sorted bytewise (binary search, insertion by memmove): shards
 * are small, iteration order is the snapshot order, and nothing depends on hashing. Values
 * grow by doubling their capacity, so a long run of Appends stays linear. The duplicate table
 * is an array of sessions sorted by client id.
 */
#include <stdlib.h>
#include <string.h>

#include "skv_int.h"

const char *skv_strerror(int err)
{
    switch (err) {
#define SKV_ERR_CASE(name, value, text)                                                            \
    case name:                                                                                     \
        return text;
        SKV_ERRNO_MAP(SKV_ERR_CASE)
#undef SKV_ERR_CASE
    default:
        return "unknown shardkv error";
    }
}

int skv_key2shard(const char *key)
{
    if (key == NULL || key[0] == 0) return 0;
    return (int)((unsigned char)key[0] % SC_NSHARDS);
}

void skv_shard_clear(struct skv_shard *sh)
{
    for (size_t i = 0; i < sh->entries_count; i++) {
        free(sh->entries[i].key);
        free(sh->entries[i].value);
    }
    free(sh->entries);
    free(sh->sessions);
    enum skv_shard_state state = sh->state;
    memset(sh, 0, sizeof(*sh));
    sh->state = state;
}

static int key_cmp(const struct skv_entry *e, const uint8_t *key, size_t key_len)
{
    size_t n = e->key_len < key_len ? e->key_len : key_len;
    int c = n == 0 ? 0 : memcmp(e->key, key, n);
    if (c != 0) return c;
    return (e->key_len > key_len) - (e->key_len < key_len);
}

/* First position whose key is >= key. */
static size_t entries_lower_bound(const struct skv_shard *sh, const uint8_t *key, size_t key_len)
{
    size_t lo = 0;
    size_t hi = sh->entries_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_cmp(&sh->entries[mid], key, key_len) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct skv_entry *skv_shard_find(const struct skv_shard *sh, const uint8_t *key,
                                       size_t key_len)
{
    size_t at = entries_lower_bound(sh, key, key_len);
    if (at < sh->entries_count && key_cmp(&sh->entries[at], key, key_len) == 0)
        return &sh->entries[at];
    return NULL;
}

static char *bytes_dup(const uint8_t *p, size_t n, size_t cap)
{
    char *s = malloc(cap + 1);
    if (s == NULL) return NULL;
    if (n > 0) memcpy(s, p, n);
    s[n] = 0;
    return s;
}

/* Inserts an empty entry for key at `at`. */
static int entry_insert(struct skv_shard *sh, size_t at, const uint8_t *key, size_t key_len)
{
    if (sh->entries_count >= SKV_SHARD_KEYS_MAX) return SKV_ELIMIT;
    if (sh->entries_count == sh->entries_cap) {
        size_t cap = sh->entries_cap == 0 ? 8 : sh->entries_cap * 2;
        struct skv_entry *entries = realloc(sh->entries, cap * sizeof(*entries));
        if (entries == NULL) return SKV_ENOMEM;
        sh->entries = entries;
        sh->entries_cap = cap;
    }
    struct skv_entry e = {.key = bytes_dup(key, key_len, key_len), .key_len = key_len};
    e.value = bytes_dup(NULL, 0, 15);
    if (e.key == NULL || e.value == NULL) {
        free(e.key);
        free(e.value);
        return SKV_ENOMEM;
    }
    e.value_cap = 15;
    memmove(&sh->entries[at + 1], &sh->entries[at],
            (sh->entries_count - at) * sizeof(sh->entries[0]));
    sh->entries[at] = e;
    sh->entries_count++;
    return SKV_OK;
}

int skv_shard_write(struct skv_shard *sh, const uint8_t *key, size_t key_len, const uint8_t *value,
                    size_t value_len, bool append)
{
    if (key_len > SKV_KEY_MAX || value_len > SKV_VALUE_MAX) return SKV_ELIMIT;
    sh->snap_fresh = false;
    size_t at = entries_lower_bound(sh, key, key_len);
    if (at == sh->entries_count || key_cmp(&sh->entries[at], key, key_len) != 0) {
        int rc = entry_insert(sh, at, key, key_len);
        if (rc != SKV_OK) return rc;
    }
    struct skv_entry *e = &sh->entries[at];
    size_t base = append ? e->value_len : 0;
    if (base > SKV_VALUE_MAX - value_len) return SKV_ELIMIT;
    if (base + value_len > e->value_cap) {
        size_t cap = e->value_cap;
        while (cap < base + value_len)
            cap = cap * 2 + 1;
        char *grown = realloc(e->value, cap + 1);
        if (grown == NULL) return SKV_ENOMEM;
        e->value = grown;
        e->value_cap = cap;
    }
    if (value_len > 0) memcpy(e->value + base, value, value_len);
    e->value_len = base + value_len;
    e->value[e->value_len] = 0;
    return SKV_OK;
}

static size_t sessions_lower_bound(const struct skv_shard *sh, uint64_t client_id)
{
    size_t lo = 0;
    size_t hi = sh->sessions_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sh->sessions[mid].client_id < client_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint64_t skv_shard_seq(const struct skv_shard *sh, uint64_t client_id)
{
    size_t at = sessions_lower_bound(sh, client_id);
    if (at < sh->sessions_count && sh->sessions[at].client_id == client_id)
        return sh->sessions[at].seq_last;
    return 0;
}

int skv_shard_record(struct skv_shard *sh, uint64_t client_id, uint64_t seq)
{
    sh->snap_fresh = false;
    size_t at = sessions_lower_bound(sh, client_id);
    if (at < sh->sessions_count && sh->sessions[at].client_id == client_id) {
        if (seq > sh->sessions[at].seq_last) sh->sessions[at].seq_last = seq;
        return SKV_OK;
    }
    if (sh->sessions_count == sh->sessions_cap) {
        size_t cap = sh->sessions_cap == 0 ? 16 : sh->sessions_cap * 2;
        struct skv_session *sessions = realloc(sh->sessions, cap * sizeof(*sessions));
        if (sessions == NULL) return SKV_ENOMEM;
        sh->sessions = sessions;
        sh->sessions_cap = cap;
    }
    memmove(&sh->sessions[at + 1], &sh->sessions[at],
            (sh->sessions_count - at) * sizeof(sh->sessions[0]));
    sh->sessions[at] = (struct skv_session){client_id, seq};
    sh->sessions_count++;
    return SKV_OK;
}

struct rpc_end *skv_ends_get(struct skv_ends *c, const char *name)
{
    for (size_t i = 0; i < c->count; i++) {
        if (strcmp(c->names[i], name) == 0) return c->ends[i];
    }
    if (c->count >= SKV_ENDS_MAX || strlen(name) >= SC_SERVER_NAME_MAX) return NULL;
    struct rpc_end *end = c->make_end(c->arg, name);
    if (end == NULL) return NULL;
    memcpy(c->names[c->count], name, strlen(name) + 1);
    c->ends[c->count++] = end;
    return end;
}
