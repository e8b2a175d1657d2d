/* wal_sim_disk: the write-ahead log's disk (struct wal_disk) on the sim's file system, with
 * crash faults drawn from a sim_rand stream (see wal.h for the fault model).
 *
 * Owns, per file it has written, the unsynced writes: bytes appended since the last sync, with
 * the end offset of each write, as a kernel's page cache would hold them. Synced bytes live in
 * sim_fs, named as given, so `labsim replay --fs-out` shows the logs. Reads see both. Nothing
 * here reads a clock or OS randomness: a crash's faults come from the stream ("wal.disk", node)
 * in the order crashes happen, so a seed replays them.
 *
 * Invariants:
 *  1. f->pending_len == f->ends[f->ends_count - 1] (0 when no write is pending), and ends[] is
 *     increasing; at most WAL_SIM_WRITES_MAX writes are told apart (later ones merge into the
 *     last, so the fault model sees them as one write).
 *  2. A crash changes only unsynced bytes: the file keeps every synced byte.
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "wal.h"

#define WAL_SIM_FILES_MAX 4u   /* files one disk has unsynced writes in at once */
#define WAL_SIM_WRITES_MAX 64u /* unsynced writes told apart per file */

struct wal_sim_file {
    char name[WAL_NAME_MAX + 8]; /* "" when the slot is free */
    uint8_t *pending;            /* unsynced bytes, in write order */
    size_t pending_len;
    size_t pending_cap;
    size_t ends[WAL_SIM_WRITES_MAX]; /* end offset in pending[] of each write */
    size_t ends_count;
};

struct wal_sim_disk {
    struct sim *sim;
    int node;    /* the node the files belong to (traces, sim_fs calls) */
    int fs_node; /* node for sim_fs: `node`, or SIM_NODE_NONE when sim_fs has no such node */
    bool faults;
    struct sim_rand rand;
    struct wal_sim_file files[WAL_SIM_FILES_MAX];
    struct wal_sim_stats stats;
};

/* WAL trace kinds (ids 330-339 belong to the write-ahead log). */
static const struct sim_trace_kind disk_kind_crash = {
    330, SIM_TOPIC_FAULT, "wal.crash", {"kept", "landed", NULL}};

static int disk_err(int fs_rc)
{
    if (fs_rc == SIM_FS_OK) return WAL_OK;
    if (fs_rc == SIM_FS_ENOENT) return WAL_ENOENT;
    return fs_rc == SIM_FS_ENOMEM ? WAL_ENOMEM : WAL_EIO;
}

static struct wal_sim_file *disk_file(struct wal_sim_disk *d, const char *name)
{
    for (size_t k = 0; k < WAL_SIM_FILES_MAX; k++)
        if (strcmp(d->files[k].name, name) == 0) return &d->files[k];
    return NULL;
}

static void file_drop_pending(struct wal_sim_file *f)
{
    free(f->pending);
    memset(f, 0, sizeof(*f));
}

/* The slot for `name`, taking a free one; NULL when every slot is busy or the name too long. */
static struct wal_sim_file *disk_file_get(struct wal_sim_disk *d, const char *name)
{
    struct wal_sim_file *f = disk_file(d, name);
    if (f != NULL || strlen(name) >= sizeof(f->name)) return f;
    for (size_t k = 0; k < WAL_SIM_FILES_MAX; k++) {
        if (d->files[k].name[0] != '\0') continue;
        memcpy(d->files[k].name, name, strlen(name) + 1);
        return &d->files[k];
    }
    return NULL;
}

/* ---------------------------------------------------------------- the interface */

static int disk_read(void *ctx, const char *name, uint8_t **data, size_t *len)
{
    struct wal_sim_disk *d = ctx;
    char *durable = NULL;
    size_t durable_len = 0;
    int rc = sim_fs_read(d->sim, d->fs_node, name, &durable, &durable_len);
    const struct wal_sim_file *f = disk_file(d, name);
    size_t pending_len = f != NULL ? f->pending_len : 0;
    *data = NULL;
    *len = 0;
    if (rc == SIM_FS_ENOENT && pending_len > 0) rc = SIM_FS_OK; /* created, never synced */
    if (rc != SIM_FS_OK) return disk_err(rc);
    uint8_t *all = malloc(durable_len + pending_len + 1);
    if (all == NULL) {
        free(durable);
        return WAL_ENOMEM;
    }
    if (durable_len > 0) memcpy(all, durable, durable_len);
    if (pending_len > 0) memcpy(all + durable_len, f->pending, pending_len);
    free(durable);
    *data = all;
    *len = durable_len + pending_len;
    return WAL_OK;
}

static int disk_append(void *ctx, const char *name, const void *data, size_t len)
{
    struct wal_sim_disk *d = ctx;
    struct wal_sim_file *f = disk_file_get(d, name);
    if (f == NULL) return WAL_EIO;
    if (len > SIM_FS_FILE_BYTES_MAX - f->pending_len) return WAL_EIO;
    if (f->pending_len + len > f->pending_cap) {
        size_t cap = f->pending_cap < 4096 ? 4096 : f->pending_cap;
        while (cap < f->pending_len + len)
            cap *= 2;
        uint8_t *grown = realloc(f->pending, cap);
        if (grown == NULL) return WAL_ENOMEM;
        f->pending = grown;
        f->pending_cap = cap;
    }
    if (len > 0) memcpy(f->pending + f->pending_len, data, len);
    f->pending_len += len;
    if (f->ends_count < WAL_SIM_WRITES_MAX)
        f->ends[f->ends_count++] = f->pending_len;
    else
        f->ends[f->ends_count - 1] = f->pending_len; /* invariant 1: merged into the last */
    return WAL_OK;
}

/* Appends bytes to the real (simulated) file: the durable step. */
static int disk_write_through(struct wal_sim_disk *d, const char *name, const uint8_t *data,
                              size_t len)
{
    int fd = -1;
    int rc = sim_fs_append(d->sim, d->fs_node, name, &fd);
    if (rc != SIM_FS_OK) return disk_err(rc);
    rc = sim_fs_write(d->sim, d->fs_node, fd, data, len);
    int rc_close = sim_fs_close(d->sim, d->fs_node, fd);
    return disk_err(rc != SIM_FS_OK ? rc : rc_close);
}

static int disk_sync(void *ctx, const char *name)
{
    struct wal_sim_disk *d = ctx;
    struct wal_sim_file *f = disk_file(d, name);
    if (f == NULL) return WAL_OK; /* nothing unsynced */
    int rc = disk_write_through(d, name, f->pending, f->pending_len);
    if (rc == WAL_OK) file_drop_pending(f);
    return rc;
}

static int disk_truncate(void *ctx, const char *name, size_t len)
{
    struct wal_sim_disk *d = ctx;
    uint8_t *data = NULL;
    size_t have = 0;
    int rc = disk_read(ctx, name, &data, &have);
    if (rc != WAL_OK) return rc;
    if (len > have) len = have;
    rc = disk_err(sim_fs_write_file(d->sim, d->fs_node, name, data, len));
    free(data);
    struct wal_sim_file *f = disk_file(d, name);
    if (rc == WAL_OK && f != NULL) file_drop_pending(f);
    return rc;
}

static int disk_rename(void *ctx, const char *from, const char *to)
{
    struct wal_sim_disk *d = ctx;
    if (disk_file(d, from) != NULL) return WAL_EIO; /* the interface asks `from` synced */
    int rc = disk_err(sim_fs_rename(d->sim, d->fs_node, from, to));
    struct wal_sim_file *f = disk_file(d, to);
    if (rc == WAL_OK && f != NULL) file_drop_pending(f); /* they belonged to the old file */
    return rc;
}

static int disk_remove(void *ctx, const char *name)
{
    struct wal_sim_disk *d = ctx;
    struct wal_sim_file *f = disk_file(d, name);
    bool had_pending = f != NULL;
    if (f != NULL) file_drop_pending(f);
    int rc = disk_err(sim_fs_remove(d->sim, d->fs_node, name));
    return rc == WAL_ENOENT && had_pending ? WAL_OK : rc;
}

static const struct wal_disk_ops disk_ops = {
    .read = disk_read,
    .append = disk_append,
    .sync = disk_sync,
    .truncate = disk_truncate,
    .rename = disk_rename,
    .remove = disk_remove,
};

/* ---------------------------------------------------------------- lifecycle, crash */

struct wal_sim_disk *wal_sim_disk_new(struct sim *sim, int node, bool faults)
{
    struct wal_sim_disk *d = calloc(1, sizeof(*d));
    if (d == NULL) return NULL;
    d->sim = sim;
    d->node = node;
    d->fs_node = node >= 0 && node < SIM_FS_NODES_MAX ? node : SIM_NODE_NONE;
    d->faults = faults;
    sim_rand_init_n(&d->rand, sim, "wal.disk", node);
    return d;
}

void wal_sim_disk_free(struct wal_sim_disk *d)
{
    if (d == NULL) return;
    for (size_t k = 0; k < WAL_SIM_FILES_MAX; k++)
        file_drop_pending(&d->files[k]);
    free(d);
}

struct wal_disk wal_sim_disk_iface(struct wal_sim_disk *d)
{
    return (struct wal_disk){.ops = &disk_ops, .ctx = d};
}

const struct wal_sim_stats *wal_sim_disk_stats(const struct wal_sim_disk *d)
{
    return &d->stats;
}

/* The faults of one file's unsynced writes: how many bytes land (a prefix: whole writes, then
 * maybe a torn one) and which bit of the last write that landed flips (-1: none). */
static size_t crash_draw(struct wal_sim_disk *d, const struct wal_sim_file *f, int64_t *flip_bit)
{
    *flip_bit = -1;
    if (!d->faults || f->ends_count == 0) return 0;
    size_t whole = (size_t)sim_rand_below(&d->rand, f->ends_count + 1);
    size_t start = whole > 0 ? f->ends[whole - 1] : 0; /* where the first lost write begins */
    size_t landed = start;
    size_t last_from = whole > 1 ? f->ends[whole - 2] : 0; /* the last whole write */
    if (whole < f->ends_count && sim_rand_chance(&d->rand, 1, 2)) {
        landed = start + (size_t)sim_rand_below(&d->rand, f->ends[whole] - start);
        if (landed > start) last_from = start; /* the torn write is the last to land */
    }
    if (landed > 0 && sim_rand_chance(&d->rand, 1, 3))
        *flip_bit = (int64_t)(8 * last_from + sim_rand_below(&d->rand, 8 * (landed - last_from)));
    return landed;
}

static void crash_file(struct wal_sim_disk *d, struct wal_sim_file *f)
{
    int64_t flip_bit = -1;
    size_t landed = crash_draw(d, f, &flip_bit);
    if (flip_bit >= 0) f->pending[flip_bit / 8] ^= (uint8_t)(1u << (flip_bit % 8));
    size_t whole = 0;
    while (whole < f->ends_count && f->ends[whole] <= landed)
        whole++;
    bool torn = whole < f->ends_count && landed > (whole > 0 ? f->ends[whole - 1] : 0);
    d->stats.writes_torn += torn ? 1 : 0;
    d->stats.writes_lost += f->ends_count - whole - (torn ? 1 : 0);
    d->stats.bits_flipped += flip_bit >= 0 ? 1 : 0;
    sim_tracef(d->sim, d->node, &disk_kind_crash, (int64_t)whole, (int64_t)landed,
               "%s writes=%zu torn=%d bit=%lld", f->name, f->ends_count, torn, (long long)flip_bit);
    if (landed > 0) {
        int rc = disk_write_through(d, f->name, f->pending, landed);
        SIM_ASSERTF(d->sim, d->node, rc == WAL_OK, "the disk lost a crash's bytes: %s",
                    wal_strerror(rc));
    }
    file_drop_pending(f);
}

void wal_sim_disk_crash(struct wal_sim_disk *d)
{
    d->stats.crashes++;
    for (size_t k = 0; k < WAL_SIM_FILES_MAX; k++)
        if (d->files[k].name[0] != '\0') crash_file(d, &d->files[k]);
}
