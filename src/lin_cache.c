/* lin_cache.c: Lowe's cache for the linearizability search.
 *
 * The search reaches the same configuration (set of linearized operations, model state) along
 * many orders; exploring it twice cannot find anything new, so each configuration is recorded
 * once. A record must identify its set exactly (a false hit would prune a configuration never
 * explored and could turn OK into ILLEGAL), but it must not cost a bitset over the whole
 * history: the search adds about one record per step, so n-bit records make memory grow with
 * n^2 (20k operations took 153 MB, a million ran out of memory).
 *
 * What makes a set small: number the operations by call order (their rank). Let `first` be
 * the lowest rank not linearized. Every rank below it is linearized, and every linearized rank
 * above it belongs to an operation called before `first` returned (an operation is only
 * linearized while callable, i.e. called before every pending operation's return, and
 * `first` has been pending throughout). So the set is (first, the bits of the ranks from
 * first up to the last linearized one), and those bits span the operations concurrent with
 * `first`: one or two words for histories with a few clients, whatever their length. The
 * search hands the cache that window (struct lin_cache_key: whole 64-bit words of its rank
 * bitset, from the word holding `first`, trailing zero words cut); the bits below `first` in
 * the window's first word are all ones, so equal (first, words) means equal sets.
 *
 * Layout: open addressing with linear probing over two parallel arrays, the hashes (dense, so
 * a probe sequence stays in a cache line or two) and the records' offsets (read only when a
 * hash matches); records (state, first and word count, words) sit back to back in one growing
 * pool. The hash is
 * XXH3 over the window seeded with the model's state fingerprint and `first`; a hit is
 * confirmed with the model's exact state equality and a comparison of the windows. The cache
 * counts its bytes (lin_cache_bytes) and refuses to grow past bytes_max (LIN_CACHE_FULL), so
 * that the checker holds a memory budget without ever dropping a record (which would cost
 * time, possibly exponential) or failing an allocation.
 *
 * Invariants: slots_cap is a power of two; count <= slots_cap / 2; a slot is free exactly when
 * its hash is 0 (hashes are forced non-zero); pool_len <= pool_cap; every record's last word
 * is non-zero unless it is its only word.
 */
#include <stdlib.h>
#include <string.h>

/* The hash runs once per search step on a few words: inlining it (header-only mode of the
 * same libxxhash) saves a call through the PLT and lets it specialize for short inputs. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "lin_int.h"

#define CACHE_SLOTS_MIN 16u
#define CACHE_SLOTS_START_MAX 1024u
#define CACHE_POOL_MIN 256u /* words */
#define CACHE_REC_HEADER 2u /* words before a record's window: state, first << 32 | count */
#define CACHE_FIRST_MIX 0x9e3779b97f4a7c15ull

static int cache_slots_alloc(size_t cap, uint64_t **hashes, uint64_t **offs)
{
    if (cap > SIZE_MAX / sizeof(uint64_t)) return LIN_ENOMEM;
    *hashes = calloc(cap, sizeof(uint64_t));
    *offs = malloc(cap * sizeof(uint64_t));
    if (*hashes == NULL || *offs == NULL) {
        free(*hashes);
        free(*offs);
        return LIN_ENOMEM;
    }
    return 0;
}

int lin_cache_init(struct lin_cache *c, uint32_t ops_count, const struct lin_model *model,
                   void *ctx)
{
    LIN_ASSERT(model != NULL);
    memset(c, 0, sizeof(*c));
    c->model = model;
    c->ctx = ctx;
    /* Small partitions (most keys of a KV history) start small; big ones skip a few grows. */
    size_t cap = CACHE_SLOTS_MIN;
    while (cap < CACHE_SLOTS_START_MAX && cap < (size_t)ops_count * 8)
        cap *= 2;
    int rc = cache_slots_alloc(cap, &c->hashes, &c->offs);
    if (rc != 0) return rc;
    c->slots_cap = cap;
    c->pool = malloc(CACHE_POOL_MIN * sizeof(*c->pool));
    if (c->pool == NULL) return LIN_ENOMEM;
    c->pool_cap = CACHE_POOL_MIN;
    return 0;
}

void lin_cache_close(struct lin_cache *c)
{
    free(c->hashes);
    free(c->offs);
    free(c->pool);
    memset(c, 0, sizeof(*c));
}

size_t lin_cache_bytes(const struct lin_cache *c)
{
    return c->slots_cap * (sizeof(*c->hashes) + sizeof(*c->offs)) + c->pool_cap * sizeof(*c->pool);
}

/* Whether the cache may grow by `more` bytes. */
static bool cache_may_grow(const struct lin_cache *c, size_t more)
{
    return c->bytes_max == 0 || lin_cache_bytes(c) + more <= c->bytes_max;
}

static int cache_grow_slots(struct lin_cache *c)
{
    size_t cap = c->slots_cap * 2;
    if (!cache_may_grow(c, c->slots_cap * (sizeof(*c->hashes) + sizeof(*c->offs))))
        return LIN_CACHE_FULL;
    uint64_t *hashes = NULL;
    uint64_t *offs = NULL;
    int rc = cache_slots_alloc(cap, &hashes, &offs);
    if (rc != 0) return rc;
    for (size_t i = 0; i < c->slots_cap; i++) {
        uint64_t h = c->hashes[i];
        if (h == 0) continue;
        size_t j = (size_t)h & (cap - 1);
        while (hashes[j] != 0)
            j = (j + 1) & (cap - 1);
        hashes[j] = h;
        offs[j] = c->offs[i];
    }
    free(c->hashes);
    free(c->offs);
    c->hashes = hashes;
    c->offs = offs;
    c->slots_cap = cap;
    return 0;
}

/* Makes room for `words` more words in the pool (doubling, so appends stay amortized O(1)). */
static int cache_reserve_pool(struct lin_cache *c, size_t words)
{
    if (words <= c->pool_cap - c->pool_len) return 0;
    size_t cap = c->pool_cap;
    while (words > cap - c->pool_len) {
        if (cap > SIZE_MAX / 2 / sizeof(*c->pool)) return LIN_ENOMEM;
        cap *= 2;
    }
    if (!cache_may_grow(c, (cap - c->pool_cap) * sizeof(*c->pool))) return LIN_CACHE_FULL;
    uint64_t *pool = realloc(c->pool, cap * sizeof(*pool));
    if (pool == NULL) return LIN_ENOMEM;
    c->pool = pool;
    c->pool_cap = cap;
    return 0;
}

/* Window words are few: a loop beats a call to memcmp. */
static bool cache_words_equal(const uint64_t *a, const uint64_t *b, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++) {
        if (a[i] != b[i]) return false;
    }
    return true;
}

static bool cache_state_equal(const struct lin_cache *c, uint64_t a, uint64_t b)
{
    if (a == b) return true;
    return c->model->equal != NULL && c->model->equal(c->ctx, a, b);
}

static bool cache_rec_matches(const struct lin_cache *c, const uint64_t *rec,
                              const struct lin_cache_key *key, uint64_t state)
{
    uint64_t tag = (uint64_t)key->first << 32 | key->words_count;
    return rec[1] == tag &&
           cache_words_equal(rec + CACHE_REC_HEADER, key->words, key->words_count) &&
           cache_state_equal(c, rec[0], state);
}

int lin_cache_add(struct lin_cache *c, const struct lin_cache_key *key, uint64_t state)
{
    LIN_ASSERT(key->words_count > 0);
    LIN_ASSERT(key->words_count == 1 || key->words[key->words_count - 1] != 0);
    if ((c->count + 1) * 2 > c->slots_cap) {
        int rc = cache_grow_slots(c);
        if (rc != 0) return rc;
    }
    uint64_t fp = c->model->fingerprint != NULL ? c->model->fingerprint(c->ctx, state) : state;
    uint64_t seed = fp ^ ((uint64_t)key->first + 1) * CACHE_FIRST_MIX;
    uint64_t h = XXH3_64bits_withSeed(key->words, key->words_count * sizeof(uint64_t), seed);
    h = h != 0 ? h : 1;
    size_t mask = c->slots_cap - 1;
    size_t i = (size_t)h & mask;
    for (size_t probes = 0; c->hashes[i] != 0; probes++) {
        LIN_ASSERT(probes < c->slots_cap);
        if (c->hashes[i] == h && cache_rec_matches(c, c->pool + c->offs[i], key, state)) return 0;
        i = (i + 1) & mask;
    }
    size_t rec_words = CACHE_REC_HEADER + key->words_count;
    int rc = cache_reserve_pool(c, rec_words);
    if (rc != 0) return rc;
    uint64_t *rec = c->pool + c->pool_len;
    rec[0] = state;
    rec[1] = (uint64_t)key->first << 32 | key->words_count;
    memcpy(rec + CACHE_REC_HEADER, key->words, key->words_count * sizeof(uint64_t));
    c->hashes[i] = h;
    c->offs[i] = c->pool_len;
    c->pool_len += rec_words;
    c->count++;
    return 1;
}
