/* libFuzzer target for the write-ahead log's recovery (make fuzz-wal).
 *
 * Each input is a log file, tried twice: as given, and behind a valid file header (so most
 * inputs reach the records rather than stopping at the magic). Recovery (wal_scan) either
 * refuses with a one-line message naming an offset inside the input, or gives a replay whose
 * pointers lie inside the input, whose entries are contiguous and whose intact prefix is at
 * least the file header. A replay is then compacted onto an in-memory disk (wal_compact) and
 * the new log recovered again: it must replay to the same state, with no torn tail. Any
 * violated expectation aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "wal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_expect(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_wal: expectation failed: %s\n", what);
        abort();
    }
}

/* ---------------------------------------------------------------- an in-memory disk */

/* Two files are enough for wal_compact: the log and its ".tmp". */
struct mem_file {
    char name[WAL_NAME_MAX + 8];
    uint8_t *data;
    size_t len;
};

struct mem_disk {
    struct mem_file files[2];
};

static struct mem_file *mem_find(struct mem_disk *d, const char *name, bool make)
{
    for (size_t k = 0; k < 2; k++)
        if (d->files[k].name[0] != '\0' && strcmp(d->files[k].name, name) == 0) return &d->files[k];
    if (!make) return NULL;
    for (size_t k = 0; k < 2; k++) {
        if (d->files[k].name[0] != '\0') continue;
        snprintf(d->files[k].name, sizeof(d->files[k].name), "%s", name);
        return &d->files[k];
    }
    return NULL;
}

static int mem_read(void *ctx, const char *name, uint8_t **data, size_t *len)
{
    struct mem_file *f = mem_find(ctx, name, false);
    *data = NULL;
    *len = 0;
    if (f == NULL) return WAL_ENOENT;
    if (f->len > 0) {
        *data = malloc(f->len);
        if (*data == NULL) return WAL_ENOMEM;
        memcpy(*data, f->data, f->len);
    }
    *len = f->len;
    return WAL_OK;
}

static int mem_append(void *ctx, const char *name, const void *data, size_t len)
{
    struct mem_file *f = mem_find(ctx, name, true);
    if (f == NULL) return WAL_EIO;
    uint8_t *grown = realloc(f->data, f->len + len + 1);
    if (grown == NULL) return WAL_ENOMEM;
    f->data = grown;
    if (len > 0) memcpy(f->data + f->len, data, len);
    f->len += len;
    return WAL_OK;
}

static int mem_sync(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return WAL_OK;
}

static int mem_truncate(void *ctx, const char *name, size_t len)
{
    struct mem_file *f = mem_find(ctx, name, false);
    if (f == NULL) return WAL_ENOENT;
    if (len < f->len) f->len = len;
    return WAL_OK;
}

static int mem_remove(void *ctx, const char *name)
{
    struct mem_file *f = mem_find(ctx, name, false);
    if (f == NULL) return WAL_ENOENT;
    free(f->data);
    memset(f, 0, sizeof(*f));
    return WAL_OK;
}

static int mem_rename(void *ctx, const char *from, const char *to)
{
    struct mem_file *src = mem_find(ctx, from, false);
    if (src == NULL) return WAL_ENOENT;
    struct mem_file *dst = mem_find(ctx, to, false);
    if (dst != NULL) mem_remove(ctx, to);
    snprintf(src->name, sizeof(src->name), "%s", to);
    return WAL_OK;
}

static const struct wal_disk_ops mem_ops = {mem_read,     mem_append, mem_sync,
                                            mem_truncate, mem_rename, mem_remove};

static void mem_free(struct mem_disk *d)
{
    for (size_t k = 0; k < 2; k++)
        free(d->files[k].data);
}

/* ---------------------------------------------------------------- checks */

static bool inside(const uint8_t *p, size_t n, const uint8_t *base, size_t size)
{
    return n == 0 || (p >= base && n <= size && p - base <= (ptrdiff_t)(size - n));
}

static void check_replay(const struct wal_replay *r, const uint8_t *base, size_t size)
{
    fuzz_expect(r->valid_len >= WAL_FILE_HEADER_SIZE && r->valid_len <= size, "valid_len");
    fuzz_expect(r->valid_len + r->torn_bytes == size, "torn_bytes");
    fuzz_expect(inside(r->snap, r->snap_len, base, size), "snapshot inside the input");
    fuzz_expect(inside(r->raft_state, r->raft_state_len, base, size), "state inside");
    fuzz_expect(inside(r->raft_snapshot, r->raft_snapshot_len, base, size), "snap inside");
    for (size_t k = 0; k < r->entries_count; k++) {
        fuzz_expect(r->entries[k].index == r->snap_index + 1 + k, "entries contiguous");
        fuzz_expect(inside(r->entries[k].data, r->entries[k].len, base, size), "entry inside");
    }
}

static bool same_bytes(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    return a_len == b_len && (a_len == 0 || memcmp(a, b, a_len) == 0);
}

/* Compaction keeps the replayed state: compact onto a memory disk and recover again. */
static void check_compaction(const struct wal_replay *r)
{
    struct mem_disk d = {0};
    struct wal w = {.disk = {&mem_ops, &d}};
    snprintf(w.name, sizeof(w.name), "fuzz.wal");
    int rc = wal_compact(&w, r);
    fuzz_expect(rc == WAL_OK || rc == WAL_ETOOBIG, "wal_compact");
    if (rc == WAL_OK) {
        struct wal again;
        struct wal_replay back;
        char err[256];
        rc = wal_open(&again, (struct wal_disk){&mem_ops, &d}, "fuzz.wal", &back, err, sizeof(err));
        fuzz_expect(rc == WAL_OK && back.torn_bytes == 0, "the compacted log recovers");
        fuzz_expect(back.has_term_vote == r->has_term_vote && back.term == r->term &&
                        back.vote == r->vote,
                    "term and vote kept");
        fuzz_expect(back.snap_index == r->snap_index && back.snap_term == r->snap_term &&
                        same_bytes(back.snap, back.snap_len, r->snap, r->snap_len),
                    "snapshot kept");
        fuzz_expect(back.entries_count == r->entries_count, "entries kept");
        for (size_t k = 0; k < r->entries_count; k++)
            fuzz_expect(back.entries[k].term == r->entries[k].term &&
                            same_bytes(back.entries[k].data, back.entries[k].len,
                                       r->entries[k].data, r->entries[k].len),
                        "entry kept");
        fuzz_expect(
            same_bytes(back.raft_state, back.raft_state_len, r->raft_state, r->raft_state_len) &&
                same_bytes(back.raft_snapshot, back.raft_snapshot_len, r->raft_snapshot,
                           r->raft_snapshot_len),
            "Raft state kept");
        wal_replay_free(&back);
    }
    mem_free(&d);
}

static void fuzz_one(const uint8_t *data, size_t size)
{
    struct wal_replay r;
    char err[256] = "";
    int rc = wal_scan(data, size, &r, err, sizeof(err));
    if (rc != WAL_OK) {
        fuzz_expect(rc == WAL_EHEADER || rc == WAL_EVERSION || rc == WAL_ECORRUPT ||
                        rc == WAL_EPAYLOAD || rc == WAL_ETOOBIG,
                    "a known error");
        fuzz_expect(err[0] != '\0' && strchr(err, '\n') == NULL, "a one-line message");
        fuzz_expect(rc == WAL_EVERSION || strstr(err, "offset") != NULL, "names an offset");
        return;
    }
    check_replay(&r, data, size);
    check_compaction(&r);
    wal_replay_free(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_one(data, size);
    uint8_t *framed = malloc(WAL_FILE_HEADER_SIZE + size);
    if (framed == NULL) return 0;
    memcpy(framed, "LABSIMWL\1\0\0\0\0\0\0\0", 16); /* magic, version 1, flags 0 */
    uint64_t sum = XXH3_64bits(framed, 16);
    for (int i = 0; i < 8; i++)
        framed[16 + i] = (uint8_t)(sum >> (8 * i));
    if (size > 0) memcpy(framed + WAL_FILE_HEADER_SIZE, data, size);
    fuzz_one(framed, WAL_FILE_HEADER_SIZE + size);
    free(framed);
    return 0;
}
