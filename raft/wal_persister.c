/* wal_persister: a 6.824 persister whose saves go to a write-ahead log on a simulated disk (see
 * wal.h), so a crash in the graded harness goes through the disk.
 *
 * The persister object itself is raft/persister.c's, with hooks (persister_hooks.h): Raft reads
 * and sizes it exactly as the default one, and only the save, the copy and the free are seen
 * here. One hook context per persister; the disk moves from one to the next at every crash.
 *
 * Life of a slot's log:
 *   wal_persister_new  opens (recovers or creates) "<name>" on a new disk for the node.
 *   save               appends one RAFT_STATE record (the snapshot only when it changed) and
 *                      syncs before returning, then compacts when the log has grown to
 *                      WAL_COMPACT_FACTOR times the live state (and WAL_COMPACT_MIN bytes).
 *   copy (a crash)     with faults, first starts an unsynced write of the same state (the dying
 *                      process was saving again); crashes the disk; recovers the log into a new
 *                      persister, which takes the disk; the old context is detached.
 *   free               frees the disk when this context still owns it.
 *
 * Invariants:
 *  1. At most one context owns a disk (c->disk != NULL); a detached context writes nothing.
 *  2. Without WAL_PERSISTER_NO_SYNC, every save that returned 0 is durable: the log recovered at
 *     the next crash replays to exactly the last saved (state, snapshot) (checked at each crash).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "persister_hooks.h"
#include "raft.h"
#include "sim.h"
#include "wal.h"

#define WAL_COMPACT_MIN (64u << 10)
#define WAL_COMPACT_FACTOR 4u

struct wal_pctx {
    struct sim *sim;
    int node;
    unsigned flags;
    struct wal_sim_disk *disk; /* owned; NULL once detached (invariant 1) */
    struct wal wal;
};

/* WAL trace kinds (ids 330-339 belong to the write-ahead log; 330 is wal_sim_disk.c's). */
static const struct sim_trace_kind wal_kind_recover = {
    331, SIM_TOPIC_PERSIST, "wal.recover", {"records", "torn_bytes", NULL}};
static const struct sim_trace_kind wal_kind_compact = {
    332, SIM_TOPIC_PERSIST, "wal.compact", {"from", "to", NULL}};

static int pctx_save(void *ctx, const struct raft_persister *p, const uint8_t *state,
                     size_t state_len, const uint8_t *snapshot, size_t snapshot_len);
static struct raft_persister *pctx_copy(void *ctx, const struct raft_persister *p);
static void pctx_free(void *ctx);

static const struct raft_persister_hooks wal_hooks = {
    .save = pctx_save,
    .copy = pctx_copy,
    .free = pctx_free,
};

static bool bytes_equal(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    return a_len == b_len && (a_len == 0 || memcmp(a, b, a_len) == 0);
}

/* Rewrites the log to the one record of (state, snapshot). */
static int pctx_compact(struct wal_pctx *c, const uint8_t *state, size_t state_len,
                        const uint8_t *snapshot, size_t snapshot_len)
{
    struct wal_replay live = {.has_raft_state = true,
                              .raft_state = state,
                              .raft_state_len = state_len,
                              .raft_snapshot = snapshot,
                              .raft_snapshot_len = snapshot_len};
    uint64_t from = c->wal.size;
    int rc = wal_compact(&c->wal, &live);
    if (rc == WAL_OK)
        sim_trace4(c->sim, c->node, &wal_kind_compact, (int64_t)from, (int64_t)c->wal.size, 0, 0);
    return rc;
}

static int pctx_save(void *ctx, const struct raft_persister *p, const uint8_t *state,
                     size_t state_len, const uint8_t *snapshot, size_t snapshot_len)
{
    struct wal_pctx *c = ctx;
    if (c->disk == NULL) return 0; /* a detached (crashed) instance: its writes go nowhere */
    size_t old_len = 0;
    const uint8_t *old = raft_persister_snapshot(p, &old_len);
    bool changed = !bytes_equal(old, old_len, snapshot, snapshot_len);
    int rc = wal_append_raft_state(&c->wal, state, state_len, snapshot, snapshot_len, changed);
    if (rc == WAL_OK && (c->flags & WAL_PERSISTER_NO_SYNC) == 0) rc = wal_sync(&c->wal);
    uint64_t live = WAL_RECORD_HEADER_SIZE + 8 + (uint64_t)state_len + snapshot_len;
    if (rc == WAL_OK && c->wal.size > WAL_COMPACT_MIN && c->wal.size / WAL_COMPACT_FACTOR > live)
        rc = pctx_compact(c, state, state_len, snapshot, snapshot_len);
    return rc == WAL_OK ? 0 : -1;
}

/* Opens the log of context `c` (which owns its disk) into a new persister with its hooks. */
static struct raft_persister *pctx_open(struct wal_pctx *c, const char *name, char *err,
                                        size_t err_size)
{
    struct wal_replay r;
    int rc = wal_open(&c->wal, wal_sim_disk_iface(c->disk), name, &r, err, err_size);
    if (rc != WAL_OK) return NULL;
    sim_trace4(c->sim, c->node, &wal_kind_recover, (int64_t)r.records, (int64_t)r.torn_bytes, 0, 0);
    struct raft_persister *p = raft_persister_new();
    if (p == NULL || raft_persister_save(p, r.raft_state, r.raft_state_len, r.raft_snapshot,
                                         r.raft_snapshot_len) != 0) {
        snprintf(err, err_size, "%s: out of memory for the recovered state", name);
        raft_persister_free(p);
        wal_replay_free(&r);
        return NULL;
    }
    wal_replay_free(&r);
    raft_persister_set_hooks(p, &wal_hooks, c);
    return p;
}

/* Invariant 2: what the crash kept is what the dying instance last saved. */
static void pctx_check_recovered(const struct wal_pctx *c, const struct raft_persister *old,
                                 const struct raft_persister *now)
{
    size_t a_len = 0;
    size_t b_len = 0;
    const uint8_t *a = raft_persister_state(old, &a_len);
    const uint8_t *b = raft_persister_state(now, &b_len);
    SIM_ASSERTF(c->sim, c->node, bytes_equal(a, a_len, b, b_len),
                "%s lost an acknowledged write: saved state of %zu bytes, recovered %zu",
                c->wal.name, a_len, b_len);
    a = raft_persister_snapshot(old, &a_len);
    b = raft_persister_snapshot(now, &b_len);
    SIM_ASSERTF(c->sim, c->node, bytes_equal(a, a_len, b, b_len),
                "%s lost an acknowledged write: saved snapshot of %zu bytes, recovered %zu",
                c->wal.name, a_len, b_len);
}

static struct raft_persister *pctx_copy(void *ctx, const struct raft_persister *p)
{
    struct wal_pctx *c = ctx;
    SIM_ASSERTF(c->sim, c->node, c->disk != NULL, "%s: a crashed persister was copied again",
                c->wal.name);
    if ((c->flags & WAL_PERSISTER_FAULTS) != 0) {
        size_t state_len = 0;
        size_t snap_len = 0;
        const uint8_t *state = raft_persister_state(p, &state_len);
        const uint8_t *snap = raft_persister_snapshot(p, &snap_len);
        (void)wal_append_raft_state(&c->wal, state, state_len, snap, snap_len, true);
    }
    wal_sim_disk_crash(c->disk);
    struct wal_pctx *next = calloc(1, sizeof(*next));
    if (next == NULL) return NULL;
    *next = (struct wal_pctx){.sim = c->sim, .node = c->node, .flags = c->flags, .disk = c->disk};
    c->disk = NULL; /* invariant 1: the disk moves to the next instance */
    char err[320];
    struct raft_persister *now = pctx_open(next, c->wal.name, err, sizeof(err));
    SIM_ASSERTF(c->sim, c->node, now != NULL, "recovering the write-ahead log: %s", err);
    if ((c->flags & WAL_PERSISTER_NO_SYNC) == 0) pctx_check_recovered(c, p, now);
    return now;
}

static void pctx_free(void *ctx)
{
    struct wal_pctx *c = ctx;
    wal_sim_disk_free(c->disk);
    free(c);
}

struct raft_persister *wal_persister_new(struct sim *sim, int node, const char *name,
                                         unsigned flags, char *err, size_t err_size)
{
    struct wal_pctx *c = calloc(1, sizeof(*c));
    if (c != NULL) c->disk = wal_sim_disk_new(sim, node, (flags & WAL_PERSISTER_FAULTS) != 0);
    if (c == NULL || c->disk == NULL) {
        free(c);
        snprintf(err, err_size, "%s: out of memory for the write-ahead log", name);
        return NULL;
    }
    c->sim = sim;
    c->node = node;
    c->flags = flags;
    struct raft_persister *p = pctx_open(c, name, err, err_size);
    if (p == NULL) pctx_free(c);
    return p;
}
