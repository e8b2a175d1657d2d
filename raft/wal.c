/* wal: the write-ahead log's format, recovery (wal_scan, wal_open) and writer (see wal.h for
 * the format and the recovery rules).
 *
 * Depends on nothing but xxHash and the disk interface, so the fuzz target links it alone and a
 * real-file disk (issue 16) can reuse it.
 *
 * Invariants:
 *  1. wal_scan reads only data[0 .. len): every length is checked against what is left before
 *     the bytes it describes are touched, with subtractions that cannot wrap.
 *  2. A replay's entries have indices snap_index + 1, snap_index + 2, ... without gaps.
 *  3. Each record is handed to the disk in one append, so "the last write" of the disk's fault
 *     model is one whole record.
 *  4. w->size is the file's length (synced or not) after every successful call.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "wal.h"

static const uint8_t wal_file_magic[8] = {'L', 'A', 'B', 'S', 'I', 'M', 'W', 'L'};
#define WAL_REC_MAGIC 0x43455257u /* "WREC" little-endian */
#define WAL_RAFT_STATE_SNAPSHOT 1u
#define WAL_TERM_VOTE_SIZE 16u
#define WAL_ENTRIES_HEAD 12u /* first index, count */
#define WAL_ENTRY_HEAD 12u   /* term, length */
#define WAL_SNAPSHOT_HEAD 16u
#define WAL_RAFT_STATE_HEAD 8u
#define WAL_ENTRIES_PER_RECORD 4096u /* wal_compact splits a long log into records this size */

const char *wal_strerror(int err)
{
    switch (err) {
#define WAL_ERR_CASE(name, value, text)                                                            \
    case name:                                                                                     \
        return text;
        WAL_ERRNO_MAP(WAL_ERR_CASE)
#undef WAL_ERR_CASE
    default:
        return "unknown write-ahead log error";
    }
}

/* ---------------------------------------------------------------- little-endian bytes */

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint16_t get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* ---------------------------------------------------------------- headers */

static void file_header_encode(uint8_t h[WAL_FILE_HEADER_SIZE])
{
    memcpy(h, wal_file_magic, sizeof(wal_file_magic));
    put_u32(h + 8, WAL_VERSION);
    put_u32(h + 12, 0);
    put_u64(h + 16, XXH3_64bits(h, 16));
}

/* The 24-byte header of a record of `type` with a payload of `len` bytes and checksum `sum`. */
static void rec_header_encode(uint8_t h[WAL_RECORD_HEADER_SIZE], uint16_t type, uint32_t len,
                              uint64_t sum)
{
    put_u32(h, WAL_REC_MAGIC);
    put_u16(h + 4, type);
    put_u16(h + 6, 0);
    put_u32(h + 8, len);
    put_u32(h + 12, (uint32_t)XXH3_64bits(h, 12));
    put_u64(h + 16, sum);
}

/* True when data[off ..] starts with a well-formed record header (its length not yet checked
 * against the file). */
static bool rec_header_ok(const uint8_t *data, size_t len, size_t off)
{
    if (len - off < WAL_RECORD_HEADER_SIZE) return false;
    const uint8_t *h = data + off;
    if (get_u32(h) != WAL_REC_MAGIC || get_u16(h + 6) != 0) return false;
    if (get_u32(h + 8) > WAL_RECORD_MAX) return false;
    return get_u32(h + 12) == (uint32_t)XXH3_64bits(h, 12);
}

/* True when a well-formed record header starts anywhere in data(off .. len). O(len - off). */
static bool rec_header_follows(const uint8_t *data, size_t len, size_t off)
{
    for (size_t q = off + 1; len - q >= WAL_RECORD_HEADER_SIZE; q++) {
        const uint8_t *hit = memchr(data + q, 'W', len - q - WAL_RECORD_HEADER_SIZE + 1);
        if (hit == NULL) return false;
        q = (size_t)(hit - data);
        if (rec_header_ok(data, len, q)) return true;
    }
    return false;
}

/* ---------------------------------------------------------------- replay */

void wal_replay_free(struct wal_replay *r)
{
    if (r == NULL) return;
    free(r->buf);
    free(r->entries);
    memset(r, 0, sizeof(*r));
}

static int replay_entry_push(struct wal_replay *r, const struct wal_entry *e)
{
    if (r->entries_count == r->entries_cap) {
        if (r->entries_cap >= WAL_ENTRIES_MAX) return WAL_ETOOBIG;
        size_t cap = r->entries_cap == 0 ? 64 : r->entries_cap * 2;
        struct wal_entry *grown = realloc(r->entries, cap * sizeof(*grown));
        if (grown == NULL) return WAL_ENOMEM;
        r->entries = grown;
        r->entries_cap = cap;
    }
    r->entries[r->entries_count++] = *e;
    return WAL_OK;
}

/* An ENTRIES record: entries from `first` on replace the log's suffix (as AppendEntries does). */
static int replay_entries(struct wal_replay *r, const uint8_t *p, size_t len)
{
    if (len < WAL_ENTRIES_HEAD) return WAL_EPAYLOAD;
    uint64_t first = get_u64(p);
    uint32_t count = get_u32(p + 8);
    uint64_t next = r->snap_index + r->entries_count + 1;
    if (first == 0 || first > next) return WAL_EPAYLOAD; /* a gap after the log's end */
    if (count > 0 && first - 1 > UINT64_MAX - count) return WAL_EPAYLOAD; /* indices wrap */
    size_t off = WAL_ENTRIES_HEAD;
    for (uint32_t k = 0; k < count; k++) {
        if (len - off < WAL_ENTRY_HEAD) return WAL_EPAYLOAD;
        struct wal_entry e = {.index = first + k, .term = get_u64(p + off)};
        e.len = get_u32(p + off + 8);
        off += WAL_ENTRY_HEAD;
        if (e.len > len - off) return WAL_EPAYLOAD;
        e.data = p + off;
        off += e.len;
        if (e.index <= r->snap_index) continue; /* covered by the snapshot */
        size_t at = (size_t)(e.index - r->snap_index - 1);
        if (at < r->entries_count) r->entries_count = at; /* the suffix is replaced */
        int rc = replay_entry_push(r, &e);
        if (rc != WAL_OK) return rc;
    }
    return off == len ? WAL_OK : WAL_EPAYLOAD;
}

/* A SNAPSHOT record: Figure 13's rule, keep the entries after it only when the log has the
 * snapshot's last entry with its term. */
static int replay_snapshot(struct wal_replay *r, const uint8_t *p, size_t len)
{
    if (len < WAL_SNAPSHOT_HEAD) return WAL_EPAYLOAD;
    uint64_t index = get_u64(p);
    uint64_t term = get_u64(p + 8);
    if (index < r->snap_index) return WAL_EPAYLOAD; /* a snapshot never goes back */
    size_t drop = r->entries_count; /* everything, unless the log holds the snapshot's entry */
    if (index == r->snap_index) drop = 0;
    if (index > r->snap_index && index - r->snap_index <= r->entries_count &&
        r->entries[index - r->snap_index - 1].term == term)
        drop = (size_t)(index - r->snap_index);
    if (drop > 0) {
        memmove(r->entries, r->entries + drop, (r->entries_count - drop) * sizeof(r->entries[0]));
        r->entries_count -= drop;
    }
    r->has_snapshot = true;
    r->snap_index = index;
    r->snap_term = term;
    r->snap = p + WAL_SNAPSHOT_HEAD;
    r->snap_len = len - WAL_SNAPSHOT_HEAD;
    return WAL_OK;
}

static int replay_raft_state(struct wal_replay *r, const uint8_t *p, size_t len)
{
    if (len < WAL_RAFT_STATE_HEAD) return WAL_EPAYLOAD;
    uint32_t state_len = get_u32(p);
    uint32_t flags = get_u32(p + 4);
    if ((flags & ~WAL_RAFT_STATE_SNAPSHOT) != 0) return WAL_EPAYLOAD;
    if (state_len > len - WAL_RAFT_STATE_HEAD) return WAL_EPAYLOAD;
    size_t rest = len - WAL_RAFT_STATE_HEAD - state_len;
    if ((flags & WAL_RAFT_STATE_SNAPSHOT) == 0 && rest != 0) return WAL_EPAYLOAD;
    r->has_raft_state = true;
    r->raft_state = p + WAL_RAFT_STATE_HEAD;
    r->raft_state_len = state_len;
    if ((flags & WAL_RAFT_STATE_SNAPSHOT) != 0) {
        r->raft_snapshot = p + WAL_RAFT_STATE_HEAD + state_len;
        r->raft_snapshot_len = rest;
    }
    return WAL_OK;
}

static int replay_record(struct wal_replay *r, uint16_t type, const uint8_t *p, size_t len)
{
    switch (type) {
    case WAL_REC_TERM_VOTE:
        if (len != WAL_TERM_VOTE_SIZE) return WAL_EPAYLOAD;
        r->has_term_vote = true;
        r->term = get_u64(p);
        r->vote = (int64_t)get_u64(p + 8);
        return WAL_OK;
    case WAL_REC_ENTRIES:
        return replay_entries(r, p, len);
    case WAL_REC_SNAPSHOT:
        return replay_snapshot(r, p, len);
    case WAL_REC_RAFT_STATE:
        return replay_raft_state(r, p, len);
    default:
        return WAL_EPAYLOAD;
    }
}

static int scan_file_header(const uint8_t *data, size_t len, char *err, size_t err_size)
{
    if (len < WAL_FILE_HEADER_SIZE || memcmp(data, wal_file_magic, sizeof(wal_file_magic)) != 0 ||
        get_u64(data + 16) != XXH3_64bits(data, 16)) {
        snprintf(err, err_size, "%s at offset 0", wal_strerror(WAL_EHEADER));
        return WAL_EHEADER;
    }
    if (get_u32(data + 8) != WAL_VERSION || get_u32(data + 12) != 0) {
        snprintf(err, err_size, "%s %u (this build reads version %u)", wal_strerror(WAL_EVERSION),
                 get_u32(data + 8), WAL_VERSION);
        return WAL_EVERSION;
    }
    return WAL_OK;
}

/* The record at `off`: 1 when intact (*next set), 0 when damaged (rule 1 of wal.h). */
static int scan_record_intact(const uint8_t *data, size_t len, size_t off, size_t *next)
{
    if (!rec_header_ok(data, len, off)) return 0;
    uint32_t plen = get_u32(data + off + 8);
    if (plen > len - off - WAL_RECORD_HEADER_SIZE) return 0; /* short: the write was torn */
    const uint8_t *payload = data + off + WAL_RECORD_HEADER_SIZE;
    if (XXH3_64bits(payload, plen) != get_u64(data + off + 16)) return 0;
    *next = off + WAL_RECORD_HEADER_SIZE + plen;
    return 1;
}

int wal_scan(const uint8_t *data, size_t len, struct wal_replay *r, char *err, size_t err_size)
{
    memset(r, 0, sizeof(*r));
    if (data == NULL && len > 0) return WAL_EINVAL;
    int rc = scan_file_header(data, len, err, err_size);
    if (rc != WAL_OK) return rc;
    size_t off = WAL_FILE_HEADER_SIZE;
    while (off < len) {
        size_t next = 0;
        if (!scan_record_intact(data, len, off, &next)) {
            if (rec_header_follows(data, len, off)) {
                snprintf(err, err_size,
                         "%s: the record at offset %zu is damaged and intact records follow it",
                         wal_strerror(WAL_ECORRUPT), off);
                wal_replay_free(r);
                return WAL_ECORRUPT;
            }
            break; /* rule 2: a torn tail */
        }
        const uint8_t *h = data + off;
        rc = replay_record(r, get_u16(h + 4), h + WAL_RECORD_HEADER_SIZE,
                           next - off - WAL_RECORD_HEADER_SIZE);
        if (rc != WAL_OK) {
            snprintf(err, err_size, "%s: record of type %u at offset %zu", wal_strerror(rc),
                     get_u16(h + 4), off);
            wal_replay_free(r);
            return rc;
        }
        r->records++;
        off = next;
    }
    r->valid_len = off;
    r->torn_bytes = len - off;
    return WAL_OK;
}

/* ---------------------------------------------------------------- writing */

/* Appends one record made of `count` payload parts, in one disk write (invariant 3). */
static int wal_append_parts(struct wal *w, uint16_t type, const uint8_t *const *parts,
                            const size_t *lens, size_t count)
{
    size_t total = 0;
    for (size_t k = 0; k < count; k++) {
        if (lens[k] > WAL_RECORD_MAX - total) return WAL_ETOOBIG;
        total += lens[k];
    }
    uint8_t *buf = malloc(WAL_RECORD_HEADER_SIZE + total);
    if (buf == NULL) return WAL_ENOMEM;
    size_t off = WAL_RECORD_HEADER_SIZE;
    for (size_t k = 0; k < count; k++) {
        if (lens[k] > 0) memcpy(buf + off, parts[k], lens[k]);
        off += lens[k];
    }
    uint64_t sum = XXH3_64bits(buf + WAL_RECORD_HEADER_SIZE, total);
    rec_header_encode(buf, type, (uint32_t)total, sum);
    int rc = w->disk.ops->append(w->disk.ctx, w->name, buf, off);
    free(buf);
    if (rc != WAL_OK) return rc;
    w->size += off;
    w->records++;
    return WAL_OK;
}

int wal_append_term_vote(struct wal *w, uint64_t term, int64_t vote)
{
    uint8_t p[WAL_TERM_VOTE_SIZE];
    put_u64(p, term);
    put_u64(p + 8, (uint64_t)vote);
    const uint8_t *parts[1] = {p};
    size_t lens[1] = {sizeof(p)};
    return wal_append_parts(w, WAL_REC_TERM_VOTE, parts, lens, 1);
}

int wal_append_entries(struct wal *w, const struct wal_entry *entries, size_t count)
{
    if (count == 0 || count > UINT32_MAX || entries[0].index == 0) return WAL_EINVAL;
    size_t total = WAL_ENTRIES_HEAD;
    for (size_t k = 0; k < count; k++) {
        if (entries[k].index != entries[0].index + k) return WAL_EINVAL; /* consecutive */
        if (entries[k].len > WAL_RECORD_MAX || total > WAL_RECORD_MAX) return WAL_ETOOBIG;
        total += WAL_ENTRY_HEAD + entries[k].len;
    }
    if (total > WAL_RECORD_MAX) return WAL_ETOOBIG;
    uint8_t *p = malloc(total);
    if (p == NULL) return WAL_ENOMEM;
    put_u64(p, entries[0].index);
    put_u32(p + 8, (uint32_t)count);
    size_t off = WAL_ENTRIES_HEAD;
    for (size_t k = 0; k < count; k++) {
        put_u64(p + off, entries[k].term);
        put_u32(p + off + 8, entries[k].len);
        off += WAL_ENTRY_HEAD;
        if (entries[k].len > 0) memcpy(p + off, entries[k].data, entries[k].len);
        off += entries[k].len;
    }
    const uint8_t *parts[1] = {p};
    int rc = wal_append_parts(w, WAL_REC_ENTRIES, parts, &total, 1);
    free(p);
    return rc;
}

int wal_append_snapshot(struct wal *w, uint64_t index, uint64_t term, const uint8_t *data,
                        size_t len)
{
    uint8_t head[WAL_SNAPSHOT_HEAD];
    put_u64(head, index);
    put_u64(head + 8, term);
    const uint8_t *parts[2] = {head, data};
    size_t lens[2] = {sizeof(head), data != NULL ? len : 0};
    return wal_append_parts(w, WAL_REC_SNAPSHOT, parts, lens, 2);
}

int wal_append_raft_state(struct wal *w, const uint8_t *state, size_t state_len,
                          const uint8_t *snapshot, size_t snapshot_len, bool with_snapshot)
{
    if (state == NULL) state_len = 0;
    if (snapshot == NULL || !with_snapshot) snapshot_len = 0;
    if (state_len > WAL_RECORD_MAX) return WAL_ETOOBIG;
    uint8_t head[WAL_RAFT_STATE_HEAD];
    put_u32(head, (uint32_t)state_len);
    put_u32(head + 4, with_snapshot ? WAL_RAFT_STATE_SNAPSHOT : 0);
    const uint8_t *parts[3] = {head, state, snapshot};
    size_t lens[3] = {sizeof(head), state_len, snapshot_len};
    return wal_append_parts(w, WAL_REC_RAFT_STATE, parts, lens, 3);
}

int wal_sync(struct wal *w)
{
    return w->disk.ops->sync(w->disk.ctx, w->name);
}

/* ---------------------------------------------------------------- open, compact */

/* Writes a new log holding only the file header to `name` (through rename, so a crash leaves
 * either no file or a whole header). */
static int wal_create(struct wal *w, const char *tmp)
{
    uint8_t h[WAL_FILE_HEADER_SIZE];
    file_header_encode(h);
    const struct wal_disk_ops *ops = w->disk.ops;
    int rc = ops->remove(w->disk.ctx, tmp);
    if (rc != WAL_OK && rc != WAL_ENOENT) return rc;
    rc = ops->append(w->disk.ctx, tmp, h, sizeof(h));
    if (rc == WAL_OK) rc = ops->sync(w->disk.ctx, tmp);
    if (rc == WAL_OK) rc = ops->rename(w->disk.ctx, tmp, w->name);
    if (rc != WAL_OK) return rc;
    w->size = sizeof(h);
    w->records = 0;
    return WAL_OK;
}

static int wal_tmp_name(const struct wal *w, char *tmp, size_t tmp_size)
{
    int n = snprintf(tmp, tmp_size, "%s.tmp", w->name);
    return n > 0 && (size_t)n < tmp_size ? WAL_OK : WAL_EINVAL;
}

/* Reads and replays the log; a missing log is created empty. */
static int wal_recover(struct wal *w, const char *tmp, struct wal_replay *r, char *err,
                       size_t err_size)
{
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = w->disk.ops->read(w->disk.ctx, w->name, &data, &len);
    if (rc == WAL_ENOENT) {
        memset(r, 0, sizeof(*r));
        rc = wal_create(w, tmp);
        if (rc != WAL_OK)
            snprintf(err, err_size, "%s: cannot create: %s", w->name, wal_strerror(rc));
        return rc;
    }
    if (rc != WAL_OK) {
        snprintf(err, err_size, "%s: cannot read: %s", w->name, wal_strerror(rc));
        return rc;
    }
    char why[256] = "";
    rc = wal_scan(data, len, r, why, sizeof(why));
    if (rc != WAL_OK) {
        free(data);
        snprintf(err, err_size, "%s: %s", w->name, why);
        return rc;
    }
    r->buf = data;
    r->buf_len = len;
    w->size = r->valid_len;
    w->records = r->records;
    if (r->torn_bytes == 0) return WAL_OK;
    rc = w->disk.ops->truncate(w->disk.ctx, w->name, r->valid_len);
    if (rc != WAL_OK) {
        snprintf(err, err_size, "%s: cannot drop the torn tail: %s", w->name, wal_strerror(rc));
        wal_replay_free(r);
    }
    return rc;
}

int wal_open(struct wal *w, struct wal_disk disk, const char *name, struct wal_replay *r, char *err,
             size_t err_size)
{
    memset(r, 0, sizeof(*r));
    memset(w, 0, sizeof(*w));
    if (disk.ops == NULL || name == NULL || strlen(name) + 5 > WAL_NAME_MAX) {
        snprintf(err, err_size, "wal_open: %s", wal_strerror(WAL_EINVAL));
        return WAL_EINVAL;
    }
    w->disk = disk;
    memcpy(w->name, name, strlen(name) + 1);
    char tmp[WAL_NAME_MAX + 8];
    int rc = wal_tmp_name(w, tmp, sizeof(tmp));
    if (rc == WAL_OK) rc = disk.ops->remove(disk.ctx, tmp); /* a crash during compaction */
    if (rc != WAL_OK && rc != WAL_ENOENT) {
        snprintf(err, err_size, "%s: cannot remove the old compaction file: %s", name,
                 wal_strerror(rc));
        return rc;
    }
    return wal_recover(w, tmp, r, err, err_size);
}

/* Appends the entries of `live` in records of at most WAL_ENTRIES_PER_RECORD. */
static int compact_entries(struct wal *w, const struct wal_replay *live)
{
    for (size_t k = 0; k < live->entries_count; k += WAL_ENTRIES_PER_RECORD) {
        size_t n = live->entries_count - k;
        if (n > WAL_ENTRIES_PER_RECORD) n = WAL_ENTRIES_PER_RECORD;
        int rc = wal_append_entries(w, live->entries + k, n);
        if (rc != WAL_OK) return rc;
    }
    return WAL_OK;
}

static int compact_records(struct wal *w, const struct wal_replay *live)
{
    int rc = WAL_OK;
    if (live->has_term_vote) rc = wal_append_term_vote(w, live->term, live->vote);
    if (rc == WAL_OK && live->has_snapshot)
        rc = wal_append_snapshot(w, live->snap_index, live->snap_term, live->snap, live->snap_len);
    if (rc == WAL_OK) rc = compact_entries(w, live);
    if (rc == WAL_OK && live->has_raft_state)
        rc = wal_append_raft_state(w, live->raft_state, live->raft_state_len, live->raft_snapshot,
                                   live->raft_snapshot_len, live->raft_snapshot_len > 0);
    return rc;
}

int wal_compact(struct wal *w, const struct wal_replay *live)
{
    char tmp[WAL_NAME_MAX + 8];
    int rc = wal_tmp_name(w, tmp, sizeof(tmp));
    if (rc != WAL_OK) return rc;
    /* Write the new log under the temporary name: a second struct wal aimed at it. */
    struct wal next = {.disk = w->disk};
    memcpy(next.name, tmp, strlen(tmp) + 1);
    uint8_t h[WAL_FILE_HEADER_SIZE];
    file_header_encode(h);
    rc = w->disk.ops->remove(w->disk.ctx, tmp);
    if (rc != WAL_OK && rc != WAL_ENOENT) return rc;
    rc = w->disk.ops->append(w->disk.ctx, tmp, h, sizeof(h));
    next.size = sizeof(h);
    if (rc == WAL_OK) rc = compact_records(&next, live);
    if (rc == WAL_OK) rc = wal_sync(&next);
    if (rc == WAL_OK) rc = w->disk.ops->rename(w->disk.ctx, tmp, w->name);
    if (rc != WAL_OK) return rc;
    w->size = next.size;
    w->records = next.records;
    return WAL_OK;
}
