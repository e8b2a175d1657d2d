/* lin_cache.c: Lowe's cache for the linearizability search.
 *
 * The search reaches the same configuration (set of linearized operations, model state) along
 * many orders; exploring it twice cannot find anything new, so each configuration is recorded
 * once. The table is open addressing with linear probing over two parallel arrays: the hashes
 * (dense, so a probe sequence stays in a cache line or two) and the records (state, bitset),
 * read only when a hash matches. The hash is XXH3 over the bitset seeded with the model's
 * 64-bit state fingerprint; a match is confirmed with the model's exact state equality and a
 * memcmp of the bitsets.
 *
 * Invariants: slots_cap is a power of two; count <= slots_cap / 2; a slot is free exactly when
 * its hash is 0 (hashes are forced non-zero); records of free slots are never read.
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

static int cache_alloc(size_t cap, uint32_t words, uint64_t **hashes, uint64_t **recs)
{
    size_t stride = 1u + words;
    if (cap > SIZE_MAX / sizeof(uint64_t) / stride) return LIN_ENOMEM;
    *hashes = calloc(cap, sizeof(uint64_t));
    *recs = malloc(cap * stride * sizeof(uint64_t));
    if (*hashes == NULL || *recs == NULL) {
        free(*hashes);
        free(*recs);
        return LIN_ENOMEM;
    }
    return 0;
}

int lin_cache_init(struct lin_cache *c, uint32_t words, uint32_t ops_count,
                   const struct lin_model *model, void *ctx)
{
    LIN_ASSERT(words > 0);
    LIN_ASSERT(model != NULL);
    memset(c, 0, sizeof(*c));
    c->words = words;
    c->model = model;
    c->ctx = ctx;
    /* Small partitions (most keys of a KV history) start small; big ones skip a few grows. */
    size_t cap = CACHE_SLOTS_MIN;
    while (cap < CACHE_SLOTS_START_MAX && cap < (size_t)ops_count * 8)
        cap *= 2;
    int rc = cache_alloc(cap, words, &c->hashes, &c->recs);
    if (rc == 0) c->slots_cap = cap;
    return rc;
}

void lin_cache_close(struct lin_cache *c)
{
    free(c->hashes);
    free(c->recs);
    memset(c, 0, sizeof(*c));
}

static int cache_grow(struct lin_cache *c)
{
    size_t stride = 1u + c->words;
    size_t cap = c->slots_cap * 2;
    uint64_t *hashes = NULL;
    uint64_t *recs = NULL;
    int rc = cache_alloc(cap, c->words, &hashes, &recs);
    if (rc != 0) return rc;
    for (size_t i = 0; i < c->slots_cap; i++) {
        uint64_t h = c->hashes[i];
        if (h == 0) continue;
        size_t j = (size_t)h & (cap - 1);
        while (hashes[j] != 0)
            j = (j + 1) & (cap - 1);
        hashes[j] = h;
        memcpy(recs + j * stride, c->recs + i * stride, stride * sizeof(uint64_t));
    }
    free(c->hashes);
    free(c->recs);
    c->hashes = hashes;
    c->recs = recs;
    c->slots_cap = cap;
    return 0;
}

/* Bitsets are a few words: a loop beats a call to memcmp. */
static bool cache_bits_equal(const uint64_t *a, const uint64_t *b, uint32_t words)
{
    for (uint32_t i = 0; i < words; i++) {
        if (a[i] != b[i]) return false;
    }
    return true;
}

static bool cache_state_equal(const struct lin_cache *c, uint64_t a, uint64_t b)
{
    if (a == b) return true;
    return c->model->equal != NULL && c->model->equal(c->ctx, a, b);
}

int lin_cache_add(struct lin_cache *c, const uint64_t *bits, uint64_t state)
{
    if ((c->count + 1) * 2 > c->slots_cap) {
        int rc = cache_grow(c);
        if (rc != 0) return rc;
    }
    uint64_t fp = c->model->fingerprint != NULL ? c->model->fingerprint(c->ctx, state) : state;
    size_t bytes = (size_t)c->words * sizeof(uint64_t);
    uint64_t h = XXH3_64bits_withSeed(bits, bytes, fp);
    h = h != 0 ? h : 1;
    size_t stride = 1u + c->words;
    size_t mask = c->slots_cap - 1;
    size_t i = (size_t)h & mask;
    for (size_t probes = 0; c->hashes[i] != 0; probes++) {
        LIN_ASSERT(probes < c->slots_cap);
        const uint64_t *rec = c->recs + i * stride;
        if (c->hashes[i] == h && cache_state_equal(c, rec[0], state) &&
            cache_bits_equal(rec + 1, bits, c->words))
            return 0;
        i = (i + 1) & mask;
    }
    c->hashes[i] = h;
    c->recs[i * stride] = state;
    memcpy(c->recs + i * stride + 1, bits, bytes);
    c->count++;
    return 1;
}
