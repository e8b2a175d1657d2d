/* persist: the persistent state of Figure 2 (currentTerm, votedFor, log[]) plus the snapshot
 * point of section 7, encoded with labgob and saved with the snapshot bytes.
 *
 * Encoding (top-level record, zero fields omitted as gob does):
 *   1 current_term   2 voted_for + 1 (0: none)   3 snapshot_index   4 snapshot_term
 *   5 the entries after snapshot_index, as an array of byte strings ("chunks"), each itself a
 *     labgob message {1 entry terms (array of uint), 2 entry commands (array of bytes)}.
 * Chunk c holds the entries of absolute indices [c*K + 1, (c+1)*K], K =
 * RAFT_PERSIST_CHUNK_ENTRIES, cut to what the log holds. Parallel arrays keep the per-entry
 * overhead at about two bytes, so the state stays far below the 3D limit (2000 bytes with a
 * snapshot every 10 entries) and kvraft's 8 x maxraftstate.
 *
 * Why chunks: the whole state is saved at every change (the persister takes one buffer), so
 * encoding it entry by entry made persistence quadratic in the log length. A full chunk's
 * encoding is cached and reused until one of its entries changes (truncation) or leaves the
 * log (compaction); raft_persist_log_changed drops those. Only the partial chunks at the two
 * ends are encoded afresh. A cached chunk remembers the term of its last entry; by the Log
 * Matching Property equal (index, term) means equal entries, which is asserted on every use.
 *
 * Every change marks the state dirty; raft_persist_flush saves it before any message leaves
 * or any reply is given ("updated on stable storage before responding to RPCs"). The snapshot
 * is saved with every state, so a restarted node that kept its snapshot in memory never drops
 * it on the next save (TestSnapshotInit3D).
 */
#include <stdlib.h>
#include <string.h>

#include "raft_int.h"

#define K RAFT_PERSIST_CHUNK_ENTRIES

void raft_persist_mark(struct raft *rf)
{
    rf->persist_dirty = true;
}

static uint64_t chunk_lo(uint64_t c)
{
    return c * K + 1;
}

static uint64_t chunk_hi(uint64_t c)
{
    return (c + 1) * K;
}

/* Encodes entries [lo, hi] (all in the log) as one chunk message into e. */
static void chunk_encode(const struct raft *rf, struct gob_enc *e, uint64_t lo, uint64_t hi)
{
    gob_enc_reset(e);
    gob_put_array_begin(e, 1, GOB_UINT, hi - lo + 1);
    for (uint64_t i = lo; i <= hi; i++)
        gob_put_elem_uint(e, raft_log_get(&rf->log, i)->term);
    gob_put_array_end(e);
    gob_put_array_begin(e, 2, GOB_BYTES, hi - lo + 1);
    for (uint64_t i = lo; i <= hi; i++) {
        const struct raft_entry *entry = raft_log_get(&rf->log, i);
        gob_put_elem_bytes(e, entry->cmd, entry->cmd_len);
    }
    gob_put_array_end(e);
}

static void chunk_free(struct raft_persist_chunk *chunk)
{
    free(chunk->bytes);
    chunk->bytes = NULL;
    chunk->len = 0;
}

void raft_persist_log_changed(struct raft *rf, uint64_t from_index)
{
    struct raft_persist_cache *pc = &rf->pcache;
    /* Entries at or after from_index changed: drop every chunk reaching that far. */
    while (pc->count > 0 && chunk_hi(pc->first + pc->count - 1) >= from_index) {
        chunk_free(&pc->chunks[pc->count - 1]);
        pc->count--;
    }
    /* Entries at or below the snapshot left the log: drop those chunks from the front. */
    size_t drop = 0;
    while (drop < pc->count && chunk_hi(pc->first + drop) <= rf->log.snapshot_index)
        chunk_free(&pc->chunks[drop++]);
    if (drop > 0) {
        memmove(pc->chunks, pc->chunks + drop, (pc->count - drop) * sizeof(*pc->chunks));
        pc->count -= drop;
        pc->first += drop;
    }
    if (pc->count == 0) pc->first = 0;
}

void raft_persist_close(struct raft *rf)
{
    struct raft_persist_cache *pc = &rf->pcache;
    for (size_t i = 0; i < pc->count; i++)
        chunk_free(&pc->chunks[i]);
    free(pc->chunks);
    memset(pc, 0, sizeof(*pc));
    gob_enc_free(&rf->enc_chunk);
}

/* The cache slot of full chunk c, grown as needed; NULL when c cannot be cached (OOM, or c
 * is before the first cached chunk). */
static struct raft_persist_chunk *cache_slot(struct raft *rf, uint64_t c)
{
    struct raft_persist_cache *pc = &rf->pcache;
    if (pc->count == 0) pc->first = c;
    if (c < pc->first) return NULL;
    size_t i = (size_t)(c - pc->first);
    if (i >= pc->cap) {
        size_t cap = pc->cap < 16 ? 16 : pc->cap;
        while (cap <= i)
            cap *= 2;
        struct raft_persist_chunk *grown = realloc(pc->chunks, cap * sizeof(*grown));
        if (grown == NULL) return NULL;
        pc->chunks = grown;
        pc->cap = cap;
    }
    while (pc->count <= i)
        pc->chunks[pc->count++] = (struct raft_persist_chunk){0};
    return &pc->chunks[i];
}

/* Puts chunk c (entries [lo, hi]) as the next array element, from the cache when it is full.
 * Returns false when the chunk could not be encoded (out of memory). */
static bool chunk_put(struct raft *rf, struct gob_enc *e, uint64_t c, uint64_t lo, uint64_t hi)
{
    bool full = lo == chunk_lo(c) && hi == chunk_hi(c);
    struct raft_persist_chunk *slot = full ? cache_slot(rf, c) : NULL;
    if (slot != NULL && slot->bytes != NULL) {
        RAFT_ASSERT(rf, slot->last_term == raft_log_term_at(&rf->log, hi));
        gob_put_elem_bytes(e, slot->bytes, slot->len);
        return true;
    }
    chunk_encode(rf, &rf->enc_chunk, lo, hi);
    int rc = gob_enc_finish(&rf->enc_chunk);
    RAFT_ASSERTF(rf, rc == GOB_OK || rc == GOB_ENOMEM, "chunk encode: %s", gob_strerror(rc));
    if (rc != GOB_OK) return false;
    gob_put_elem_bytes(e, gob_enc_bytes(&rf->enc_chunk), gob_enc_len(&rf->enc_chunk));
    if (slot == NULL) return true;
    slot->bytes = gob_enc_take(&rf->enc_chunk, &slot->len);
    slot->last_term = raft_log_term_at(&rf->log, hi);
    return true;
}

/* Returns false when a chunk could not be encoded (out of memory). */
static bool state_encode(struct raft *rf, struct gob_enc *e)
{
    const struct raft_log *log = &rf->log;
    gob_put_uint(e, 1, rf->current_term);
    gob_put_uint(e, 2, (uint64_t)(rf->voted_for + 1));
    gob_put_uint(e, 3, log->snapshot_index);
    gob_put_uint(e, 4, log->snapshot_term);
    uint64_t first = log->snapshot_index + 1;
    uint64_t last = raft_log_last_index(log);
    uint64_t c_lo = (first - 1) / K;
    uint64_t chunks = last >= first ? (last - 1) / K - c_lo + 1 : 0;
    gob_put_array_begin(e, 5, GOB_BYTES, chunks);
    for (uint64_t c = c_lo; c < c_lo + chunks; c++) {
        uint64_t lo = chunk_lo(c) > first ? chunk_lo(c) : first;
        uint64_t hi = chunk_hi(c) < last ? chunk_hi(c) : last;
        if (!chunk_put(rf, e, c, lo, hi)) return false;
    }
    gob_put_array_end(e); /* the encoder opens even an empty array */
    return true;
}

void raft_persist_flush(struct raft *rf)
{
    if (!rf->persist_dirty || rf->dead) return;
    struct gob_enc *e = &rf->enc_state;
    gob_enc_reset(e);
    if (!state_encode(rf, e)) return; /* stays dirty: the next flush retries */
    int rc = gob_enc_finish(e);
    RAFT_ASSERTF(rf, rc == GOB_OK || rc == GOB_ENOMEM, "state encode: %s", gob_strerror(rc));
    if (rc != GOB_OK) return; /* stays dirty: the next flush retries */
    if (raft_persister_save(rf->persister, gob_enc_bytes(e), gob_enc_len(e), rf->snapshot,
                            rf->snapshot_len) != 0)
        return;
    rf->persist_dirty = false;
    raft_trace_persist(rf, gob_enc_len(e), rf->snapshot_len);
}

/* The scalar part of the saved state, checked before anything becomes ours. */
struct saved_head {
    uint64_t term;
    uint64_t voted_for_plus1;
    uint64_t snapshot_index;
    uint64_t snapshot_term;
};

static bool head_valid(const struct raft *rf, const struct saved_head *h)
{
    if (h->voted_for_plus1 > (uint64_t)rf->peers_count) return false;
    if (h->snapshot_term > h->term) return false;
    if ((h->snapshot_index == 0) != (h->snapshot_term == 0)) return false;
    return h->snapshot_index < (UINT64_C(1) << 62);
}

/* Decodes one chunk and appends its entries, refusing terms that would break invariant 3
 * (never decreasing, never above the saved current term). */
static int chunk_decode(struct raft *rf, const uint8_t *buf, size_t len, uint64_t term_max)
{
    struct gob_dec d;
    gob_dec_init(&d, buf, len);
    uint64_t terms[K] = {0};
    uint64_t n = gob_get_array_begin(&d, 1, GOB_UINT);
    if (n == 0 || n > K) return RAFT_EDECODE;
    for (uint64_t i = 0; i < n; i++)
        gob_get_elem_uint(&d, &terms[i]);
    gob_get_array_end(&d);
    if (gob_get_array_begin(&d, 2, GOB_BYTES) != n) return RAFT_EDECODE;
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *cmd = NULL;
        size_t cmd_len = 0;
        gob_get_elem_bytes(&d, &cmd, &cmd_len);
        if (gob_dec_err(&d) != GOB_OK) return RAFT_EDECODE;
        if (terms[i] == 0 || terms[i] > term_max || terms[i] < raft_log_last_term(&rf->log))
            return RAFT_EDECODE;
        int rc = raft_log_append(&rf->log, terms[i], cmd, cmd_len);
        if (rc != RAFT_OK) return rc;
    }
    gob_get_array_end(&d);
    return gob_dec_finish(&d) == GOB_OK ? RAFT_OK : RAFT_EDECODE;
}

static int state_decode(struct raft *rf, struct gob_dec *d, struct saved_head *h)
{
    gob_get_uint(d, 1, &h->term);
    gob_get_uint(d, 2, &h->voted_for_plus1);
    gob_get_uint(d, 3, &h->snapshot_index);
    gob_get_uint(d, 4, &h->snapshot_term);
    if (gob_dec_err(d) != GOB_OK || !head_valid(rf, h)) return RAFT_EDECODE;
    rf->log.snapshot_index = h->snapshot_index;
    rf->log.snapshot_term = h->snapshot_term;
    uint64_t chunks = gob_get_array_begin(d, 5, GOB_BYTES);
    for (uint64_t c = 0; c < chunks; c++) {
        const uint8_t *chunk = NULL;
        size_t chunk_len = 0;
        gob_get_elem_bytes(d, &chunk, &chunk_len);
        if (gob_dec_err(d) != GOB_OK) return RAFT_EDECODE;
        int rc = chunk_decode(rf, chunk, chunk_len, h->term);
        if (rc != RAFT_OK) return rc;
    }
    if (chunks > 0) gob_get_array_end(d);
    return gob_dec_finish(d) == GOB_OK ? RAFT_OK : RAFT_EDECODE;
}

static int state_restore(struct raft *rf, const uint8_t *buf, size_t len)
{
    struct gob_dec d;
    gob_dec_init(&d, buf, len);
    struct saved_head h = {0};
    int rc = state_decode(rf, &d, &h);
    if (rc != RAFT_OK) {
        raft_log_close(&rf->log);
        return rc;
    }
    rf->current_term = h.term;
    rf->voted_for = (int)h.voted_for_plus1 - 1;
    return RAFT_OK;
}

int raft_persist_restore(struct raft *rf)
{
    size_t state_len = 0;
    size_t snap_len = 0;
    const uint8_t *state = raft_persister_state(rf->persister, &state_len);
    const uint8_t *snap = raft_persister_snapshot(rf->persister, &snap_len);
    if (state_len == 0)
        return RAFT_OK; /* a fresh peer (a snapshot without state cannot be placed) */
    int rc = state_restore(rf, state, state_len);
    if (rc != RAFT_OK) return rc;
    /* Keep the snapshot in memory: every later save writes it again (TestSnapshotInit3D). */
    if (!raft_snapshot_store(rf, snap, snap_len)) {
        raft_log_close(&rf->log);
        return RAFT_ENOMEM;
    }
    /* The service restores its state machine from the snapshot itself (raft.h); Raft resumes
     * applying right after it. Everything in the snapshot was committed. */
    rf->commit_index = rf->log.snapshot_index;
    rf->last_applied = rf->log.snapshot_index;
    return RAFT_OK;
}
