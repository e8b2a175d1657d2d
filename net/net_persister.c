/* net_persister: raft/raft.h's persister on real files, linked into the server instead of
 * raft/persister.c (the simulation's in-memory one). The smallest thing that is durable: the
 * lead will put the checksummed write-ahead log (raft/wal*, being built on another branch)
 * behind this same interface at merge; until then every sync rewrites the whole state.
 *
 * raft_persister_save keeps the bytes in memory and marks them dirty; net_persister_sync,
 * called once per driver turn before any byte leaves the process (net.h, output commit), writes
 * them: "raft-state.tmp" whole, fsync, rename over "raft-state", fsync the directory. A crash
 * at any point leaves either the old file or the new one, never a mix.
 *
 * File: "RAFTKV1\n", u64 state length, u64 snapshot length, u64 XXH3-64 of the state seeded
 * with the snapshot's XXH3-64, the state, the snapshot; integers little-endian. A file that does
 * not check out is reported with its name and the offset where it stops making sense; the node
 * then refuses to start rather than run on a state it cannot trust.
 *
 * A persister made by raft_persister_new or _copy has no directory: it only keeps bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "../labgob/labgob.h"
#include "net_int.h"

#define STATE_FILE "raft-state"
#define STATE_TMP "raft-state.tmp"
#define MAGIC "RAFTKV1\n"
#define HEADER_BYTES 32u
#define PART_BYTES_MAX (1ull << 30)

struct raft_persister {
    uint8_t *state;
    size_t state_len;
    uint8_t *snapshot;
    size_t snapshot_len;
    bool dirty;
    char dir[512]; /* "" when not backed by files */
    uint64_t syncs;
    uint64_t bytes;
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

struct raft_persister *raft_persister_copy(const struct raft_persister *p)
{
    struct raft_persister *c = raft_persister_new();
    if (c == NULL || p == NULL) return c;
    if (raft_persister_save(c, p->state, p->state_len, p->snapshot, p->snapshot_len) != 0) {
        raft_persister_free(c);
        return NULL;
    }
    c->dirty = false;
    return c;
}

void raft_persister_free(struct raft_persister *p)
{
    if (p == NULL) return;
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
    free(p->state);
    free(p->snapshot);
    p->state = new_state;
    p->state_len = new_state != NULL ? state_len : 0;
    p->snapshot = new_snapshot;
    p->snapshot_len = new_snapshot != NULL ? snapshot_len : 0;
    p->dirty = true;
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

/* ---------------------------------------------------------------- files */

static uint64_t checksum(const uint8_t *state, size_t state_len, const uint8_t *snap,
                         size_t snap_len)
{
    return XXH3_64bits_withSeed(state, state_len, XXH3_64bits(snap, snap_len));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static bool write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int net_persister_sync(struct raft_persister *p, char *err, size_t err_size)
{
    if (!p->dirty || p->dir[0] == '\0') return NET_OK;
    char tmp[600];
    char path[600];
    snprintf(tmp, sizeof(tmp), "%s/%s", p->dir, STATE_TMP);
    snprintf(path, sizeof(path), "%s/%s", p->dir, STATE_FILE);
    uint8_t header[HEADER_BYTES];
    memcpy(header, MAGIC, 8);
    put_u64(header + 8, p->state_len);
    put_u64(header + 16, p->snapshot_len);
    put_u64(header + 24, checksum(p->state, p->state_len, p->snapshot, p->snapshot_len));
    const char *what = "open";
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) goto fail;
    what = "write";
    if (!write_all(fd, header, HEADER_BYTES) || !write_all(fd, p->state, p->state_len) ||
        !write_all(fd, p->snapshot, p->snapshot_len))
        goto fail_close;
    what = "fsync";
    if (fsync(fd) != 0) goto fail_close;
    close(fd);
    what = "rename";
    if (rename(tmp, path) != 0) goto fail;
    what = "fsync of the directory";
    if (fsync_dir(p->dir) != 0) goto fail;
    p->dirty = false;
    p->syncs++;
    p->bytes += HEADER_BYTES + p->state_len + p->snapshot_len;
    return NET_OK;
fail_close:
    close(fd);
fail:
    snprintf(err, err_size, "%s: %s failed: %s", tmp, what, strerror(errno));
    return NET_EIO;
}

/* Reads the whole of `path` (at most max bytes). NET_OK, NET_EIO, or -ENOENT when missing. */
static int file_read(const char *path, uint8_t **data, size_t *len, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return errno == ENOENT ? -ENOENT : NET_EIO;
    size_t cap = 1 << 16;
    size_t n = 0;
    uint8_t *buf = malloc(cap);
    while (buf != NULL) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap || cap >= max) break;
        uint8_t *grown = realloc(buf, cap * 2);
        if (grown == NULL) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    bool bad = buf == NULL || ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NET_EIO;
    }
    *data = buf;
    *len = n;
    return NET_OK;
}

/* Checks the file's bytes; on NET_ECORRUPT err names the file and offset. */
static int state_parse(struct raft_persister *p, const char *path, const uint8_t *b, size_t n,
                       char *err, size_t err_size)
{
    if (n < HEADER_BYTES || memcmp(b, MAGIC, 8) != 0) {
        snprintf(err, err_size, "%s: corrupt at offset %zu: %s", path,
                 n < 8 || memcmp(b, MAGIC, 8) != 0 ? (size_t)0 : n,
                 n < HEADER_BYTES ? "header cut short" : "not a raftkv state file");
        return NET_ECORRUPT;
    }
    uint64_t state_len = get_u64(b + 8);
    uint64_t snap_len = get_u64(b + 16);
    if (state_len > PART_BYTES_MAX || snap_len > PART_BYTES_MAX ||
        HEADER_BYTES + state_len + snap_len != n) {
        snprintf(err, err_size,
                 "%s: corrupt at offset %zu: lengths %llu + %llu do not match the "
                 "file's %zu bytes",
                 path, (size_t)8, (unsigned long long)state_len, (unsigned long long)snap_len, n);
        return NET_ECORRUPT;
    }
    const uint8_t *state = b + HEADER_BYTES;
    const uint8_t *snap = state + state_len;
    if (checksum(state, state_len, snap, snap_len) != get_u64(b + 24)) {
        snprintf(err, err_size, "%s: corrupt at offset %u: checksum mismatch", path, HEADER_BYTES);
        return NET_ECORRUPT;
    }
    if (raft_persister_save(p, state, state_len, snap, snap_len) != 0) {
        snprintf(err, err_size, "%s: out of memory", path);
        return NET_ENOMEM;
    }
    p->dirty = false;
    return NET_OK;
}

int net_persister_open(const char *dir, struct raft_persister **out, char *err, size_t err_size)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, err_size, "data directory %s: not an existing directory", dir);
        return NET_EINVAL;
    }
    struct raft_persister *p = raft_persister_new();
    if (p == NULL || strlen(dir) >= sizeof(p->dir)) {
        free(p);
        snprintf(err, err_size, "data directory %s: path too long or out of memory", dir);
        return NET_EINVAL;
    }
    snprintf(p->dir, sizeof(p->dir), "%s", dir);
    char path[600];
    snprintf(path, sizeof(path), "%s/%s", dir, STATE_FILE);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = file_read(path, &data, &len, 2 * PART_BYTES_MAX + HEADER_BYTES);
    if (rc == -ENOENT) {
        *out = p; /* a new node */
        return NET_OK;
    }
    if (rc != NET_OK) {
        snprintf(err, err_size, "%s: cannot read: %s", path, strerror(errno));
        raft_persister_free(p);
        return NET_EIO;
    }
    rc = state_parse(p, path, data, len, err, err_size);
    free(data);
    if (rc != NET_OK) {
        raft_persister_free(p);
        return rc;
    }
    *out = p;
    return NET_OK;
}

uint64_t net_persister_syncs(const struct raft_persister *p)
{
    return p->syncs;
}

uint64_t net_persister_bytes(const struct raft_persister *p)
{
    return p->bytes;
}
