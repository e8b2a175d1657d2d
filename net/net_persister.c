/* net_persister: raft/raft.h's persister for the raftkv server, linked instead of
 * raft/persister.c (the simulation's in-memory one), writing the checksummed write-ahead log of
 * raft/wal.h to the real file "<data dir>/raft.wal" (disk: net_wal_disk.c). The log's format,
 * recovery rules and compaction are raft/wal.c's; this file only decides when to write.
 *
 * raft_persister_save keeps the bytes in memory and marks them dirty; net_persister_sync,
 * called once per driver turn before any byte leaves the process (net.h, output commit),
 * appends one RAFT_STATE record of the last saved state (with the snapshot only when it changed
 * since the last record) and fsyncs once: every save of a turn shares that record and that
 * fsync (group commit). When the log has grown to NET_WAL_COMPACT_FACTOR times its live record
 * (and NET_WAL_COMPACT_MIN bytes), wal_compact rewrites it to that one record through
 * "raft.wal.tmp", fsync, rename and a directory fsync; the thresholds are those of the
 * simulation's WAL persister (raft/wal_persister.c).
 *
 * Opening recovers the log: a torn last record (a crash mid-write) is cut off and the node
 * starts on the records before it; a damaged record with intact ones after it, or a bad file
 * header, stops the node with the file and the record's offset (NET_ECORRUPT), rather than run
 * on a state that lost synced writes.
 *
 * A persister made by raft_persister_new or _copy has no directory: it only keeps bytes. It
 * carries the Raft options of raft/raft_ext.h and the read entry point as raft/persister.c does
 * (the same small functions, because this file replaces that one in the raftkv binary).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../labgob/labgob.h"
#include "../raft/persister_hooks.h"
#include "../raft/raft_ext.h"
#include "net_int.h"

#define NET_WAL_NAME "raft.wal"
#define NET_LEGACY_STATE "raft-state" /* the whole-file persister's, before the log */
#define NET_WAL_COMPACT_MIN (64u << 10)
#define NET_WAL_COMPACT_FACTOR 4u

struct raft_persister {
    uint8_t *state;
    size_t state_len;
    uint8_t *snapshot;
    size_t snapshot_len;
    bool dirty;        /* saved since the last record */
    bool snap_changed; /* the snapshot differs from the one the log holds */
    bool durable;      /* backed by the log below (net_persister_open) */
    struct wal wal;    /* valid when durable */
    struct net_wal_disk disk;
    uint64_t bytes;                /* bytes appended to the log (compactions included) */
    uint64_t recovered;            /* records replayed at open */
    uint64_t torn_bytes;           /* torn tail cut off at open */
    struct raft_persister_ext ext; /* options and reader (raft/persister_ext.c) */
};

struct raft_persister *raft_persister_new(void)
{
    return calloc(1, sizeof(struct raft_persister));
}

static uint8_t *bytes_dup(const uint8_t *p, size_t n, bool *oom)
{
    if (n == 0 || p == NULL) return NULL;
    uint8_t *copy = malloc(n);
    if (copy == NULL) {
        *oom = true;
        return NULL;
    }
    memcpy(copy, p, n);
    return copy;
}

struct raft_persister_ext *raft_persister_ext_of(struct raft_persister *p)
{
    return p != NULL ? &p->ext : NULL;
}

struct raft_persister *raft_persister_copy(const struct raft_persister *p)
{
    struct raft_persister *c = raft_persister_new();
    if (c == NULL || p == NULL) return c;
    if (raft_persister_save(c, p->state, p->state_len, p->snapshot, p->snapshot_len) != 0) {
        raft_persister_free(c);
        return NULL;
    }
    c->dirty = false;
    c->snap_changed = false;
    c->ext.opts = p->ext.opts;
    return c;
}

void raft_persister_free(struct raft_persister *p)
{
    if (p == NULL) return;
    if (p->durable) net_wal_disk_close(&p->disk);
    free(p->state);
    free(p->snapshot);
    free(p);
}

int raft_persister_save(struct raft_persister *p, const uint8_t *state, size_t state_len,
                        const uint8_t *snapshot, size_t snapshot_len)
{
    if (p == NULL) return -1;
    if (state == NULL) state_len = 0;
    if (snapshot == NULL) snapshot_len = 0;
    bool oom = false;
    uint8_t *new_state = bytes_dup(state, state_len, &oom);
    uint8_t *new_snapshot = bytes_dup(snapshot, snapshot_len, &oom);
    if (oom) {
        free(new_state);
        free(new_snapshot);
        return -1;
    }
    bool same_snapshot = snapshot_len == p->snapshot_len &&
                         (snapshot_len == 0 || memcmp(snapshot, p->snapshot, snapshot_len) == 0);
    p->snap_changed = p->snap_changed || !same_snapshot;
    free(p->state);
    free(p->snapshot);
    p->state = new_state;
    p->state_len = new_state != NULL ? state_len : 0;
    p->snapshot = new_snapshot;
    p->snapshot_len = new_snapshot != NULL ? snapshot_len : 0;
    p->dirty = true;
    return 0;
}

/* raft/persister_hooks.h: a save that takes the snapshot's buffer. This persister copies it
 * anyway (its writes are the real disk's, which dwarfs a copy) and frees it on success. */
int raft_persister_save_owned(struct raft_persister *p, const uint8_t *state, size_t state_len,
                              uint8_t *snapshot, size_t snapshot_len)
{
    if (p == NULL || snapshot == NULL || snapshot_len == 0 || snapshot == p->snapshot) return -1;
    if (raft_persister_save(p, state, state_len, snapshot, snapshot_len) != 0) return -1;
    free(snapshot);
    return 0;
}

const uint8_t *raft_persister_state(const struct raft_persister *p, size_t *len)
{
    *len = p != NULL ? p->state_len : 0;
    return p != NULL ? p->state : NULL;
}

const uint8_t *raft_persister_snapshot(const struct raft_persister *p, size_t *len)
{
    *len = p != NULL ? p->snapshot_len : 0;
    return p != NULL ? p->snapshot : NULL;
}

size_t raft_persister_state_size(const struct raft_persister *p)
{
    return p != NULL ? gob_size_stream(p->state, p->state_len) : 0;
}

size_t raft_persister_snapshot_size(const struct raft_persister *p)
{
    return p != NULL ? gob_size_stream(p->snapshot, p->snapshot_len) : 0;
}

/* ---------------------------------------------------------------- the log */

static int net_err_of_wal(int wal_rc)
{
    if (wal_rc == WAL_ENOMEM) return NET_ENOMEM;
    if (wal_rc == WAL_EIO || wal_rc == WAL_ENOENT || wal_rc == WAL_EINVAL) return NET_EIO;
    return NET_ECORRUPT;
}

/* Rewrites the log to its one live record when it has grown enough (see the file comment). */
static int log_compact_maybe(struct raft_persister *p)
{
    uint64_t live = WAL_RECORD_HEADER_SIZE + 8 + (uint64_t)p->state_len + p->snapshot_len;
    if (p->wal.size <= NET_WAL_COMPACT_MIN || p->wal.size / NET_WAL_COMPACT_FACTOR <= live)
        return WAL_OK;
    struct wal_replay keep = {.has_raft_state = true,
                              .raft_state = p->state,
                              .raft_state_len = p->state_len,
                              .raft_snapshot = p->snapshot,
                              .raft_snapshot_len = p->snapshot_len};
    int rc = wal_compact(&p->wal, &keep);
    if (rc == WAL_OK) p->bytes += p->wal.size;
    return rc;
}

int net_persister_sync(struct raft_persister *p, char *err, size_t err_size)
{
    if (!p->dirty || !p->durable) return NET_OK;
    uint64_t size_before = p->wal.size;
    int rc = wal_append_raft_state(&p->wal, p->state, p->state_len, p->snapshot, p->snapshot_len,
                                   p->snap_changed);
    if (rc == WAL_OK) rc = wal_sync(&p->wal);
    if (rc == WAL_OK) {
        p->bytes += p->wal.size - size_before;
        rc = log_compact_maybe(p);
    }
    if (rc != WAL_OK) {
        snprintf(err, err_size, "%s/%s: %s (%s)", p->disk.dir, p->wal.name, wal_strerror(rc),
                 p->disk.last_error);
        return NET_EIO;
    }
    p->dirty = false;
    p->snap_changed = false;
    return NET_OK;
}

/* Recovers the log into p's bytes; on error err names the file (with its directory). */
static int log_open(struct raft_persister *p, char *err, size_t err_size)
{
    struct wal_replay r;
    char why[400] = "";
    int rc = wal_open(&p->wal, net_wal_disk_iface(&p->disk), NET_WAL_NAME, &r, why, sizeof(why));
    if (rc != WAL_OK) {
        snprintf(err, err_size, "%s/%s", p->disk.dir, why);
        if (p->disk.last_error[0] != '\0' && rc == WAL_EIO)
            snprintf(err + strlen(err), err_size - strlen(err), " (%s)", p->disk.last_error);
        return net_err_of_wal(rc);
    }
    p->recovered = r.records;
    p->torn_bytes = r.torn_bytes;
    rc = raft_persister_save(p, r.raft_state, r.raft_state_len, r.raft_snapshot,
                             r.raft_snapshot_len);
    wal_replay_free(&r);
    if (rc != 0) {
        snprintf(err, err_size, "%s/%s: out of memory for the recovered state", p->disk.dir,
                 NET_WAL_NAME);
        return NET_ENOMEM;
    }
    p->dirty = false;
    p->snap_changed = false;
    return NET_OK;
}

/* A data directory of the whole-file persister that came before the log: starting on an empty
 * log there would silently forget the node's state, so the node refuses instead. */
static int legacy_refuse(const char *dir, char *err, size_t err_size)
{
    char path[NET_WAL_PATH_MAX];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", dir, NET_LEGACY_STATE);
    if (stat(path, &st) != 0) return NET_OK;
    snprintf(err, err_size,
             "%s: a state file of an older raftkv (whole-file format); this one keeps the "
             "write-ahead log %s: start it on an empty data directory",
             path, NET_WAL_NAME);
    return NET_EINVAL;
}

int net_persister_open(const char *dir, struct raft_persister **out, char *err, size_t err_size)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, err_size, "data directory %s: not an existing directory", dir);
        return NET_EINVAL;
    }
    struct raft_persister *p = raft_persister_new();
    if (p == NULL || net_wal_disk_init(&p->disk, dir) != NET_OK) {
        free(p);
        snprintf(err, err_size, "data directory %s: path too long or out of memory", dir);
        return NET_EINVAL;
    }
    p->durable = true;
    int rc = legacy_refuse(dir, err, err_size);
    if (rc == NET_OK) rc = log_open(p, err, err_size);
    if (rc != NET_OK) {
        raft_persister_free(p);
        return rc;
    }
    *out = p;
    return NET_OK;
}

uint64_t net_persister_syncs(const struct raft_persister *p)
{
    return p->durable ? p->disk.fsyncs : 0;
}

uint64_t net_persister_bytes(const struct raft_persister *p)
{
    return p->bytes;
}

void net_persister_recovery(const struct raft_persister *p, uint64_t *records, uint64_t *torn_bytes)
{
    *records = p->recovered;
    *torn_bytes = p->torn_bytes;
}
