/* persist: the persistent state of Figure 2 (currentTerm, votedFor, log[]) plus the snapshot
 * point of section 7, encoded with labgob and saved with the snapshot bytes; and the encoding
 * of log entries, which AppendEntries shares.
 *
 * Encoding (top-level record, zero fields omitted as gob does; numbers are Go ints):
 *   1 current_term   2 voted_for (-1: none)   3 snapshot_index   4 snapshot_term
 *   5 the entries after snapshot_index: records {1 term, 2 command (an interface value)}
 * That is a Go Raft's persist() (Encode(currentTerm), Encode(votedFor), Encode(log), Encode
 * of the snapshot point) with log a []LogEntry{Term int; Command interface{}}, so the size
 * the persister reports (labgob's gob model, stream) is what a canonical Go Raft would save:
 * the 3D limit (2000 bytes) and kvraft's 8 x maxraftstate mean what they mean in Go.
 *
 * Why pieces: the whole state is saved at every change (the persister takes one buffer), so
 * encoding it entry by entry made persistence quadratic in the log length. Instead the
 * entries are kept encoded in a cache of "pieces", each a labgob run (a message whose only put
 * is the array of its entries' records) of consecutive entries within one chunk of K =
 * RAFT_PERSIST_CHUNK_ENTRIES (chunk c holds indices [c*K + 1, (c+1)*K]). The pieces cover the
 * log without gap and are spliced into the state with gob_put_elem_run, which copies their
 * element bytes and adds their model sizes: the state is byte for byte the one written entry
 * by entry. A flush encodes only what the cache lacks: the entries appended since the last
 * flush (and, after a compaction cut a piece, the entries from the snapshot point to the next
 * piece); when a chunk fills up, its pieces are merged into one run. A truncation or a
 * compaction drops the pieces it touched (raft_persist_log_changed). Each piece remembers the
 * term of its last entry; by the Log Matching Property equal (index, term) means equal
 * entries, which is asserted on every flush. A log of one entry or none skips the cache
 * (log_direct).
 *
 * Every change marks the state dirty; raft_persist_flush saves it before any message leaves
 * or any reply is given ("updated on stable storage before responding to RPCs"). The snapshot
 * is saved with every state, so a restarted node that kept its snapshot in memory never drops
 * it on the next save (TestSnapshotInit3D).
 */
#include <stdlib.h>
#include <string.h>

#include "persister_hooks.h"
#include "raft_int.h"

#define K RAFT_PERSIST_CHUNK_ENTRIES

/* True when the log after the snapshot is one entry or none. Such a log is encoded directly,
 * without the cache: a service that snapshots after almost every entry (shardkv with a
 * maxraftstate of 300 bytes) keeps its log this short, and every snapshot drops the piece, so
 * caching cost a piece (allocations, a header parse) per entry for nothing. A lone entry is
 * always one piece, so the bytes and the model sizes are the cache's exactly; longer logs may
 * be several pieces, whose descriptors the model charges per piece, so they keep the cache. */
static bool log_direct(const struct raft_log *log)
{
    return raft_log_last_index(log) <= log->snapshot_index + 1;
}

void raft_persist_mark(struct raft *rf)
{
    rf->persist_dirty = true;
}

/* The chunk holding log index `index` (>= 1), and its last index. */
static uint64_t chunk_of(uint64_t index)
{
    return (index - 1) / K;
}

static uint64_t chunk_hi(uint64_t c)
{
    return (c + 1) * K;
}

/* Puts entries [first, first + count) entry by entry, as elements of the open array. */
static void entries_put_direct(const struct raft *rf, struct gob_enc *e, uint64_t first,
                               uint64_t count)
{
    for (uint64_t i = first; i < first + count; i++) {
        const struct raft_entry *entry = raft_log_get(&rf->log, i);
        gob_put_record_begin(e, 0);
        raft_wire_put_num(e, 1, entry->term);
        gob_put_iface(e, 2, entry->cmd, entry->cmd_len);
        if (entry->type != RAFT_ENTRY_COMMAND) raft_wire_put_num(e, 3, entry->type);
        gob_put_record_end(e);
    }
}

/* ---------------------------------------------------------------- the piece cache */

static void piece_free(struct raft_persist_chunk *piece)
{
    free(piece->bytes);
    free(piece->marks);
    *piece = (struct raft_persist_chunk){0};
}

/* Drops pieces [at, at + n) and closes the gap. */
static void pieces_drop(struct raft *rf, size_t at, size_t n)
{
    struct raft_persist_cache *pc = &rf->pcache;
    RAFT_ASSERT(rf, at + n <= pc->count);
    if (n == 0) return; /* also keeps memmove away from a NULL array */
    for (size_t i = at; i < at + n; i++)
        piece_free(&pc->chunks[i]);
    memmove(pc->chunks + at, pc->chunks + at + n, (pc->count - at - n) * sizeof(*pc->chunks));
    pc->count -= n;
}

void raft_persist_log_changed(struct raft *rf, uint64_t from_index)
{
    struct raft_persist_cache *pc = &rf->pcache;
    /* Entries at or after from_index changed: drop every piece reaching that far. */
    size_t keep = pc->count;
    while (keep > 0 && pc->chunks[keep - 1].hi >= from_index)
        keep--;
    pieces_drop(rf, keep, pc->count - keep);
    /* Entries at or below the snapshot left the log: drop the pieces holding any of them (a
     * piece cut by the snapshot point is re-encoded from the snapshot point at the next
     * flush, see pieces_cover). */
    size_t drop = 0;
    while (drop < pc->count && pc->chunks[drop].lo <= rf->log.snapshot_index)
        drop++;
    pieces_drop(rf, 0, drop);
}

void raft_persist_close(struct raft *rf)
{
    struct raft_persist_cache *pc = &rf->pcache;
    pieces_drop(rf, 0, pc->count);
    free(pc->chunks);
    memset(pc, 0, sizeof(*pc));
    gob_enc_free(&rf->enc_chunk);
}

/* Starts encoding a piece of entries [lo, hi] (within one chunk) in rf->enc_chunk: the open
 * array of a run, with marks so AppendEntries can slice it. False on OOM. */
static bool piece_begin(struct raft *rf, struct raft_persist_chunk *piece, uint64_t lo, uint64_t hi)
{
    RAFT_ASSERT(rf, lo <= hi && chunk_of(lo) == chunk_of(hi));
    *piece = (struct raft_persist_chunk){.lo = lo, .hi = hi};
    piece->marks = calloc((size_t)(hi - lo + 1), sizeof(*piece->marks));
    if (piece->marks == NULL) return false;
    struct gob_enc *e = &rf->enc_chunk;
    gob_enc_reset(e);
    gob_enc_marks(e, piece->marks, (size_t)(hi - lo + 1));
    gob_put_array_begin(e, 1, GOB_RECORD, hi - lo + 1);
    return true;
}

/* Closes the run in rf->enc_chunk and inserts it as piece `at`. False on OOM (the cache is
 * then as it was). */
static bool piece_end(struct raft *rf, struct raft_persist_chunk *piece, size_t at)
{
    struct raft_persist_cache *pc = &rf->pcache;
    struct gob_enc *e = &rf->enc_chunk;
    gob_put_array_end(e);
    int rc = gob_enc_finish(e);
    RAFT_ASSERTF(rf, rc == GOB_OK || rc == GOB_ENOMEM, "chunk encode: %s", gob_strerror(rc));
    RAFT_ASSERT(rf, rc != GOB_OK || e->marks_count == piece->hi - piece->lo + 1);
    piece->last_term = raft_log_term_at(&rf->log, piece->hi);
    if (rc == GOB_OK && pc->count == pc->cap) {
        size_t cap = pc->cap < 16 ? 16 : 2 * pc->cap;
        struct raft_persist_chunk *grown = realloc(pc->chunks, cap * sizeof(*grown));
        if (grown != NULL) pc->chunks = grown;
        if (grown != NULL) pc->cap = cap;
    }
    if (rc == GOB_OK && pc->count < pc->cap) piece->bytes = gob_enc_take(e, &piece->len);
    if (piece->bytes == NULL) {
        free(piece->marks);
        return false;
    }
    rc = gob_header_parse(piece->bytes, piece->len, &piece->header); /* once, not per flush */
    RAFT_ASSERTF(rf, rc == GOB_OK && piece->header.kind == GOB_MSG_RUN, "chunk header: %s",
                 gob_strerror(rc));
    memmove(pc->chunks + at + 1, pc->chunks + at, (pc->count - at) * sizeof(*pc->chunks));
    pc->chunks[at] = *piece;
    pc->count++;
    return true;
}

/* Encodes entries [lo, hi] (all in the log, within one chunk) and inserts them as piece
 * `at`. False on OOM (the cache is then as it was). */
static bool piece_insert(struct raft *rf, size_t at, uint64_t lo, uint64_t hi)
{
    struct raft_persist_chunk piece;
    if (!piece_begin(rf, &piece, lo, hi)) return false;
    entries_put_direct(rf, &rf->enc_chunk, lo, hi - lo + 1);
    return piece_end(rf, &piece, at);
}

/* Replaces the last two pieces (in one chunk) by one. When they bring the same descriptors
 * (the usual case: one command type) their runs are spliced, marks and all: their bytes are
 * copied, their entries not encoded again; otherwise the entries are encoded afresh, so the
 * model charges the pair's descriptors as a direct encoding would. */
static bool pieces_join(struct raft *rf)
{
    struct raft_persist_cache *pc = &rf->pcache;
    RAFT_ASSERT(rf, pc->count >= 2);
    struct raft_persist_chunk a = pc->chunks[pc->count - 2];
    struct raft_persist_chunk b = pc->chunks[pc->count - 1];
    RAFT_ASSERT(rf, a.hi + 1 == b.lo && chunk_of(a.lo) == chunk_of(b.hi));
    if (a.header.run_desc_bytes != b.header.run_desc_bytes) {
        pieces_drop(rf, pc->count - 2, 2);
        return piece_insert(rf, pc->count, a.lo, b.hi);
    }
    struct raft_persist_chunk piece;
    if (!piece_begin(rf, &piece, a.lo, b.hi)) return false;
    struct gob_enc *e = &rf->enc_chunk;
    gob_put_elem_run_slice(e, a.bytes, a.len, &a.header, a.marks, 0, a.hi - a.lo + 1);
    gob_put_elem_run_slice(e, b.bytes, b.len, &b.header, b.marks, 0, b.hi - b.lo + 1);
    pc->count -= 2; /* a and b stay allocated until the joined piece is in */
    if (!piece_end(rf, &piece, pc->count)) {
        pc->count += 2;
        return false;
    }
    RAFT_ASSERT(rf, piece.last_term == b.last_term);
    piece_free(&a);
    piece_free(&b);
    return true;
}

/* After a piece was appended: joins the last two pieces while they lie in one chunk and the
 * older is not the larger (a binary counter: at most log2(K) + 1 pieces in the last chunk,
 * each entry copied about log2(K) times), and all the pieces of a chunk that became full, so
 * the cache holds one piece per full chunk. A flush then splices few pieces. */
static bool pieces_merge_tail(struct raft *rf)
{
    struct raft_persist_cache *pc = &rf->pcache;
    for (size_t rounds = 0; pc->count >= 2 && rounds < K; rounds++) {
        const struct raft_persist_chunk *a = &pc->chunks[pc->count - 2];
        const struct raft_persist_chunk *b = &pc->chunks[pc->count - 1];
        if (chunk_of(a->lo) != chunk_of(b->hi)) return true;
        bool full = b->hi == chunk_hi(chunk_of(b->hi));
        if (!full && a->hi - a->lo > b->hi - b->lo) return true;
        if (!pieces_join(rf)) return false;
    }
    return true;
}

/* Makes the pieces cover exactly the entries [first, last] of the log, encoding only what is
 * missing: the front after a compaction cut a piece, and what was appended since the last
 * flush (cut at chunk bounds). False on OOM (nothing wrong is left cached). */
static bool pieces_cover(struct raft *rf, uint64_t first, uint64_t last)
{
    struct raft_persist_cache *pc = &rf->pcache;
    if (pc->count > 0 && pc->chunks[0].lo > first) {
        /* The gap lies inside the one piece log_changed dropped, so inside one chunk. */
        if (!piece_insert(rf, 0, first, pc->chunks[0].lo - 1)) return false;
    }
    uint64_t next = pc->count > 0 ? pc->chunks[pc->count - 1].hi + 1 : first;
    while (next <= last) {
        uint64_t hi = chunk_hi(chunk_of(next)) < last ? chunk_hi(chunk_of(next)) : last;
        if (!piece_insert(rf, pc->count, next, hi) || !pieces_merge_tail(rf)) return false;
        next = hi + 1;
    }
    return true;
}

/* The pieces cover [first, last] without gap, each within one chunk and matching the log
 * (Log Matching Property: equal index and term mean equal entries). */
static void pieces_check(const struct raft *rf, uint64_t first, uint64_t last)
{
    const struct raft_persist_cache *pc = &rf->pcache;
    uint64_t next = first;
    for (size_t i = 0; i < pc->count; i++) {
        const struct raft_persist_chunk *piece = &pc->chunks[i];
        RAFT_ASSERT(rf, piece->lo == next && piece->lo <= piece->hi);
        RAFT_ASSERT(rf, chunk_of(piece->lo) == chunk_of(piece->hi));
        RAFT_ASSERT(rf, piece->last_term == raft_log_term_at(&rf->log, piece->hi));
        next = piece->hi + 1;
    }
    RAFT_ASSERT(rf, next == last + 1);
}

/* The first piece holding index `index` (which the pieces cover). */
static size_t piece_find(const struct raft *rf, uint64_t index)
{
    const struct raft_persist_cache *pc = &rf->pcache;
    size_t lo = 0;
    size_t hi = pc->count;
    while (lo < hi) { /* the first piece with hi >= index */
        size_t mid = lo + (hi - lo) / 2;
        if (pc->chunks[mid].hi < index)
            lo = mid + 1;
        else
            hi = mid;
    }
    RAFT_ASSERT(rf, lo < pc->count && pc->chunks[lo].lo <= index);
    return lo;
}

void raft_entries_put(struct raft *rf, struct gob_enc *e, uint32_t field, uint64_t first,
                      uint64_t count)
{
    RAFT_ASSERT(rf, field > 0);
    RAFT_ASSERT(rf, count == 0 || (first > rf->log.snapshot_index &&
                                   first + count - 1 <= raft_log_last_index(&rf->log)));
    gob_put_array_begin(e, field, GOB_RECORD, count);
    uint64_t next = first;
    uint64_t end = first + count;
    /* From the persisted pieces when they can cover the log (out of memory, or a log of one
     * entry: entry by entry), so an AppendEntries costs a copy of bytes already encoded, not an
     * encode per entry. */
    if (count > 0 && !log_direct(&rf->log) &&
        pieces_cover(rf, rf->log.snapshot_index + 1, raft_log_last_index(&rf->log))) {
        for (size_t i = piece_find(rf, first); next < end; i++) {
            const struct raft_persist_chunk *piece = &rf->pcache.chunks[i];
            RAFT_ASSERT(rf, piece->lo <= next && next <= piece->hi);
            RAFT_ASSERT(rf, piece->last_term == raft_log_term_at(&rf->log, piece->hi));
            uint64_t to = piece->hi + 1 < end ? piece->hi + 1 : end;
            gob_put_elem_run_slice(e, piece->bytes, piece->len, &piece->header, piece->marks,
                                   next - piece->lo, to - piece->lo);
            next = to;
        }
    }
    entries_put_direct(rf, e, next, end - next);
    gob_put_array_end(e); /* the encoder opens even an empty array */
}

/* Returns false when the log could not be encoded (out of memory). */
static bool state_encode(struct raft *rf, struct gob_enc *e)
{
    const struct raft_log *log = &rf->log;
    raft_wire_put_num(e, 1, rf->current_term);
    gob_put_int(e, 2, rf->voted_for); /* -1 for none, as Go's votedFor */
    raft_wire_put_num(e, 3, log->snapshot_index);
    raft_wire_put_num(e, 4, log->snapshot_term);
    uint64_t first = log->snapshot_index + 1;
    uint64_t last = raft_log_last_index(log);
    if (log_direct(log)) {
        gob_put_array_begin(e, 5, GOB_RECORD, last + 1 - first);
        entries_put_direct(rf, e, first, last + 1 - first);
        gob_put_array_end(e);
        return true;
    }
    if (!pieces_cover(rf, first, last)) return false;
    pieces_check(rf, first, last);
    gob_put_array_begin(e, 5, GOB_RECORD, last + 1 - first);
    for (size_t i = 0; i < rf->pcache.count; i++) {
        const struct raft_persist_chunk *piece = &rf->pcache.chunks[i];
        gob_put_elem_run_parsed(e, piece->bytes, piece->len, &piece->header);
    }
    gob_put_array_end(e);           /* the encoder opens even an empty array */
    raft_member_snap_put(rf, e, 6); /* zero, so absent, unless membership changed it */
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
    /* The persister keeps a snapshot it is handed back without copying it again, and takes a
     * new one's buffer rather than a copy (struct raft). */
    const uint8_t *state = gob_enc_bytes(e);
    size_t state_len = gob_enc_len(e);
    int rc_save;
    if (rf->snapshot_saved || rf->snapshot == NULL) {
        rc_save = raft_persister_save(rf->persister, state, state_len, raft_snapshot_bytes(rf),
                                      rf->snapshot_len);
    } else {
        rc_save = raft_persister_save_owned(rf->persister, state, state_len, rf->snapshot,
                                            rf->snapshot_len);
        if (rc_save == 0) rf->snapshot = NULL; /* the persister's now */
    }
    if (rc_save != 0) return;
    rf->snapshot_saved = true;
    rf->persist_dirty = false;
    raft_trace_persist(rf->sim, rf->me, gob_enc_len(e), rf->snapshot_len);
}

/* The scalar part of the saved state, checked before anything becomes ours. */
struct saved_head {
    uint64_t term;
    int64_t voted_for;
    uint64_t snapshot_index;
    uint64_t snapshot_term;
};

static bool head_valid(const struct raft *rf, const struct saved_head *h)
{
    if (h->voted_for < -1 || h->voted_for >= (int64_t)rf->peers_count) return false;
    if (h->snapshot_term > h->term) return false;
    if ((h->snapshot_index == 0) != (h->snapshot_term == 0)) return false;
    return h->snapshot_index < (UINT64_C(1) << 62);
}

/* Decodes one entry record and appends it, refusing terms that would break invariant 3
 * (never decreasing, never above the saved current term). */
static int entry_decode(struct raft *rf, struct gob_dec *d, uint64_t term_max)
{
    uint64_t term = 0;
    uint64_t type = 0;
    const uint8_t *cmd = NULL;
    size_t cmd_len = 0;
    gob_get_elem_record_begin(d);
    bool nums_ok = raft_wire_get_num(d, 1, &term);
    gob_get_iface(d, 2, &cmd, &cmd_len);
    nums_ok &= raft_wire_get_num(d, 3, &type);
    gob_get_record_end(d);
    if (gob_dec_err(d) != GOB_OK || !nums_ok) return RAFT_EDECODE;
    if (term == 0 || term > term_max || term < raft_log_last_term(&rf->log)) return RAFT_EDECODE;
    if (!raft_member_entry_valid(rf, type, cmd, cmd_len)) return RAFT_EDECODE;
    return raft_log_append_typed(&rf->log, term, (uint8_t)type, cmd, cmd_len);
}

static int state_decode(struct raft *rf, struct gob_dec *d, struct saved_head *h)
{
    bool nums_ok = raft_wire_get_num(d, 1, &h->term);
    h->voted_for = 0;
    gob_get_int(d, 2, &h->voted_for);
    nums_ok &= raft_wire_get_num(d, 3, &h->snapshot_index);
    nums_ok &= raft_wire_get_num(d, 4, &h->snapshot_term);
    if (gob_dec_err(d) != GOB_OK || !nums_ok || !head_valid(rf, h)) return RAFT_EDECODE;
    rf->log.snapshot_index = h->snapshot_index;
    rf->log.snapshot_term = h->snapshot_term;
    uint64_t count = gob_get_array_begin(d, 5, GOB_RECORD);
    for (uint64_t i = 0; i < count; i++) {
        int rc = entry_decode(rf, d, h->term);
        if (rc != RAFT_OK) return rc;
    }
    if (count > 0) gob_get_array_end(d);
    if (!raft_member_snap_get(rf, d, 6, &rf->member.snap_config)) return RAFT_EDECODE;
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
        rf->member.snap_config = (struct raft_config){0};
        return rc;
    }
    rf->current_term = h.term;
    rf->voted_for = (int)h.voted_for;
    return RAFT_OK;
}

int raft_persist_restore(struct raft *rf)
{
    size_t state_len = 0;
    size_t snap_len = 0;
    const uint8_t *state = raft_persister_state(rf->persister, &state_len);
    (void)raft_persister_snapshot(rf->persister, &snap_len); /* read where it is: struct raft */
    if (state_len == 0)
        return RAFT_OK; /* a fresh peer (a snapshot without state cannot be placed) */
    int rc = state_restore(rf, state, state_len);
    if (rc != RAFT_OK) return rc;
    /* The persister's snapshot is ours: every later save writes it again (TestSnapshotInit3D). */
    free(rf->snapshot);
    rf->snapshot = NULL;
    rf->snapshot_len = snap_len;
    rf->snapshot_saved = true; /* it came from the persister */
    /* The service restores its state machine from the snapshot itself (raft.h); Raft resumes
     * applying right after it. Everything in the snapshot was committed. */
    rf->commit_index = rf->log.snapshot_index;
    rf->last_applied = rf->log.snapshot_index;
    return RAFT_OK;
}
