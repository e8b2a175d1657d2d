/* sim_fs: the simulated file system of a sim (see the file-system section of sim.h).
 *
 * A directory is an array of entries sorted by name (byte order), each naming a file (its
 * bytes and two counts: names and descriptors that refer to it). A descriptor refers to the
 * file, never to the name, as a POSIX descriptor refers to an inode. The whole state hangs off
 * `struct sim` (sim->fs), is created by the first call that needs it and is freed by sim_free.
 *
 * Invariants:
 *  1. entries[0 .. count) are sorted by strcmp and their names are distinct and valid.
 *  2. A file is freed exactly when it has no name and no open descriptor (links == 0 and
 *     opens == 0); its `links` is 0 or 1 (no hard links).
 *  3. bytes == the sum of the lengths of every file still allocated, <= SIM_FS_BYTES_MAX.
 *  4. A call that fails changes nothing and traces nothing (a paced write cut short by its
 *     process's end keeps the chunks it wrote, which were traced as they went).
 *
 * Fault injection (sim_fs_set_gate, sim_fs_set_write_pace) is opt-in: with neither set, no call
 * blocks and no call takes virtual time, as before they existed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_int.h"

struct sim_fs_file {
    char *data;
    size_t len;
    size_t cap;
    uint32_t links; /* names referring to it: 0 or 1 */
    uint32_t opens; /* descriptors referring to it */
};

struct sim_fs_entry {
    char *name; /* malloc'd */
    struct sim_fs_file *file;
};

struct sim_fs_fd {
    struct sim_fs_file *file; /* NULL when the slot is free */
    int node;
};

struct sim_fs {
    struct sim_fs_entry *entries;
    size_t count;
    size_t cap;
    struct sim_fs_fd fds[SIM_FS_FDS_MAX];
    size_t fds_open;
    uint64_t bytes;
    bool down[SIM_FS_NODES_MAX];
    sim_fs_gate_fn gate; /* NULL: no gate */
    void *gate_arg;
    size_t pace_bytes;   /* 0: writes take no virtual time */
    sim_time_us pace_us; /* virtual time before each chunk of a paced write */
};

/* Kernel trace kinds 20-29 (topic "persist": what reaches the disk). */
static const struct sim_trace_kind fs_kind_open = {
    20, SIM_TOPIC_PERSIST, "fs.open", {"fd", "append", NULL}};
static const struct sim_trace_kind fs_kind_write = {
    21, SIM_TOPIC_PERSIST, "fs.write", {"fd", "bytes", "size", NULL}};
static const struct sim_trace_kind fs_kind_close = {
    22, SIM_TOPIC_PERSIST, "fs.close", {"fd", "size", NULL}};
static const struct sim_trace_kind fs_kind_rename = {
    23, SIM_TOPIC_PERSIST, "fs.rename", {"size", NULL}};
static const struct sim_trace_kind fs_kind_remove = {24, SIM_TOPIC_PERSIST, "fs.remove", {NULL}};
static const struct sim_trace_kind fs_kind_down = {
    25, SIM_TOPIC_PERSIST, "fs.down", {"fds_closed", NULL}};

const char *sim_fs_strerror(int err)
{
    switch (err) {
#define SIM_FS_ERR_CASE(name, value, text)                                                         \
    case name:                                                                                     \
        return text;
        SIM_FS_ERRNO_MAP(SIM_FS_ERR_CASE)
#undef SIM_FS_ERR_CASE
    default:
        return "unknown file-system error";
    }
}

/* ---------------------------------------------------------------- helpers */

static struct sim_fs *fs_get(struct sim *sim)
{
    if (sim->fs == NULL) sim->fs = calloc(1, sizeof(*sim->fs));
    return sim->fs;
}

static bool fs_name_valid(const char *name)
{
    if (name == NULL || name[0] == '\0') return false;
    size_t len = 0;
    for (; name[len] != '\0'; len++) {
        if (len + 1 >= SIM_FS_NAME_MAX) return false;
        unsigned char c = (unsigned char)name[len];
        if (c <= 0x20 || c >= 0x7f) return false;
    }
    return true;
}

/* The gate of a call `node` makes (sim_fs_set_gate): only from a task, never for the harness. It
 * may block the task; the caller checks everything again afterwards. */
static void fs_gate(struct sim *sim, int node)
{
    const struct sim_fs *fs = sim->fs;
    if (fs == NULL || fs->gate == NULL || node == SIM_NODE_NONE) return;
    if (sim_task_current(sim) == NULL) return;
    fs->gate(sim, node, fs->gate_arg);
}

/* Node ids a process may use: a node, or SIM_NODE_NONE for the harness itself. */
static int fs_node_check(const struct sim_fs *fs, int node)
{
    if (node == SIM_NODE_NONE) return SIM_FS_OK;
    if (node < 0 || node >= SIM_FS_NODES_MAX) return SIM_FS_EINVAL;
    return fs->down[node] ? SIM_FS_EDOWN : SIM_FS_OK;
}

/* Binary search: the index of `name`, or where it would go (*found false). */
static size_t fs_find(const struct sim_fs *fs, const char *name, bool *found)
{
    size_t lo = 0;
    size_t hi = fs->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = strcmp(fs->entries[mid].name, name);
        if (cmp == 0) {
            *found = true;
            return mid;
        }
        if (cmp < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

static struct sim_fs_file *fs_lookup(const struct sim_fs *fs, const char *name)
{
    bool found = false;
    if (fs == NULL) return NULL;
    size_t i = fs_find(fs, name, &found);
    return found ? fs->entries[i].file : NULL;
}

/* Frees `file` once nothing refers to it (invariant 2). */
static void fs_file_release(struct sim_fs *fs, struct sim_fs_file *file)
{
    if (file->links > 0 || file->opens > 0) return;
    fs->bytes -= file->len;
    free(file->data);
    free(file);
}

static void fs_entry_remove_at(struct sim_fs *fs, size_t i)
{
    struct sim_fs_file *file = fs->entries[i].file;
    free(fs->entries[i].name);
    memmove(&fs->entries[i], &fs->entries[i + 1], (fs->count - i - 1) * sizeof(fs->entries[0]));
    fs->count--;
    file->links--;
    fs_file_release(fs, file);
}

/* Inserts a new entry at index `at` (from fs_find) for `file`. */
static int fs_entry_insert(struct sim_fs *fs, size_t at, const char *name, struct sim_fs_file *file)
{
    if (fs->count == SIM_FS_FILES_MAX) return SIM_FS_EFILES;
    if (fs->count == fs->cap) {
        size_t cap = fs->cap == 0 ? 64 : fs->cap * 2;
        struct sim_fs_entry *grown = realloc(fs->entries, cap * sizeof(*grown));
        if (grown == NULL) return SIM_FS_ENOMEM;
        fs->entries = grown;
        fs->cap = cap;
    }
    char *copy = strdup(name);
    if (copy == NULL) return SIM_FS_ENOMEM;
    memmove(&fs->entries[at + 1], &fs->entries[at], (fs->count - at) * sizeof(fs->entries[0]));
    fs->entries[at] = (struct sim_fs_entry){.name = copy, .file = file};
    fs->count++;
    file->links++;
    return SIM_FS_OK;
}

static int fs_fd_alloc(struct sim_fs *fs, int node, struct sim_fs_file *file)
{
    for (int fd = 0; fd < (int)SIM_FS_FDS_MAX; fd++) {
        if (fs->fds[fd].file != NULL) continue;
        fs->fds[fd] = (struct sim_fs_fd){.file = file, .node = node};
        fs->fds_open++;
        file->opens++;
        return fd;
    }
    return SIM_FS_EFDS;
}

static void fs_fd_free(struct sim_fs *fs, int fd)
{
    struct sim_fs_file *file = fs->fds[fd].file;
    fs->fds[fd].file = NULL;
    fs->fds_open--;
    file->opens--;
    fs_file_release(fs, file);
}

/* ---------------------------------------------------------------- open, write, close */

static int fs_open(struct sim *sim, int node, const char *name, bool append, int *fd)
{
    if (fd == NULL || !fs_name_valid(name)) return fd == NULL ? SIM_FS_EINVAL : SIM_FS_ENAME;
    fs_gate(sim, node);
    struct sim_fs *fs = fs_get(sim);
    if (fs == NULL) return SIM_FS_ENOMEM;
    int rc = fs_node_check(fs, node);
    if (rc != SIM_FS_OK) return rc;
    if (fs->fds_open == SIM_FS_FDS_MAX) return SIM_FS_EFDS;
    bool found = false;
    size_t at = fs_find(fs, name, &found);
    struct sim_fs_file *file = found ? fs->entries[at].file : NULL;
    if (file == NULL) {
        file = calloc(1, sizeof(*file));
        if (file == NULL) return SIM_FS_ENOMEM;
        rc = fs_entry_insert(fs, at, name, file);
        if (rc != SIM_FS_OK) {
            free(file);
            return rc;
        }
    } else if (!append) {
        fs->bytes -= file->len; /* O_TRUNC: the bytes go, the buffer stays for the rewrite */
        file->len = 0;
    }
    *fd = fs_fd_alloc(fs, node, file);
    SIM_ASSERT(sim, node, *fd >= 0); /* a free slot was checked above */
    sim_tracef(sim, node, &fs_kind_open, *fd, append, "%s", name);
    return SIM_FS_OK;
}

int sim_fs_create(struct sim *sim, int node, const char *name, int *fd)
{
    return fs_open(sim, node, name, false, fd);
}

int sim_fs_append(struct sim *sim, int node, const char *name, int *fd)
{
    return fs_open(sim, node, name, true, fd);
}

/* The descriptor `fd` of `node`, or NULL. */
static struct sim_fs_fd *fs_fd_of(struct sim_fs *fs, int node, int fd)
{
    if (fs == NULL || fd < 0 || fd >= (int)SIM_FS_FDS_MAX) return NULL;
    struct sim_fs_fd *slot = &fs->fds[fd];
    return slot->file != NULL && slot->node == node ? slot : NULL;
}

static int fs_file_grow(struct sim_fs_file *file, size_t need)
{
    if (need <= file->cap) return SIM_FS_OK;
    size_t cap = file->cap < 4096 ? 4096 : file->cap;
    while (cap < need)
        cap *= 2;
    if (cap > SIM_FS_FILE_BYTES_MAX) cap = SIM_FS_FILE_BYTES_MAX;
    char *grown = realloc(file->data, cap);
    if (grown == NULL) return SIM_FS_ENOMEM;
    file->data = grown;
    file->cap = cap;
    return SIM_FS_OK;
}

/* One write at once: all or nothing. */
static int fs_write_now(struct sim *sim, int node, int fd, const void *data, size_t len)
{
    struct sim_fs *fs = sim->fs;
    int rc = fs_node_check(fs, node);
    if (rc != SIM_FS_OK) return rc;
    struct sim_fs_fd *slot = fs_fd_of(fs, node, fd);
    if (slot == NULL) return SIM_FS_EBADF;
    struct sim_fs_file *file = slot->file;
    if (len > SIM_FS_FILE_BYTES_MAX - file->len) return SIM_FS_ESPACE;
    if (len > SIM_FS_BYTES_MAX - fs->bytes) return SIM_FS_ESPACE;
    rc = fs_file_grow(file, file->len + len);
    if (rc != SIM_FS_OK) return rc;
    if (len > 0) memcpy(file->data + file->len, data, len);
    file->len += len;
    fs->bytes += len;
    SIM_ASSERT(sim, node, file->len <= file->cap);
    sim_trace4(sim, node, &fs_kind_write, fd, (int64_t)len, (int64_t)file->len, 0);
    return SIM_FS_OK;
}

/* Whether a write by `node` now is paced (sim_fs_set_write_pace): only from a task. */
static bool fs_paced(const struct sim *sim, int node)
{
    const struct sim_fs *fs = sim->fs;
    return fs->pace_bytes > 0 && node != SIM_NODE_NONE && sim_task_current(sim) != NULL;
}

/* A paced write: the limits are checked for the whole write first (so a write that cannot fit
 * writes nothing), then each chunk waits its time, passes the gate and is written; a chunk that
 * fails (the process ended meanwhile) ends the write with the chunks before it kept. */
static int fs_write_paced(struct sim *sim, int node, int fd, const char *data, size_t len)
{
    struct sim_fs *fs = sim->fs;
    int rc = fs_node_check(fs, node);
    if (rc != SIM_FS_OK) return rc;
    const struct sim_fs_fd *slot = fs_fd_of(fs, node, fd);
    if (slot == NULL) return SIM_FS_EBADF;
    if (len > SIM_FS_FILE_BYTES_MAX - slot->file->len) return SIM_FS_ESPACE;
    if (len > SIM_FS_BYTES_MAX - fs->bytes) return SIM_FS_ESPACE;
    size_t done = 0;
    do { /* bounded: every pass writes a chunk or returns; a zero-length write makes one pass */
        size_t n = len - done < fs->pace_bytes ? len - done : fs->pace_bytes;
        sim_sleep_us(sim, fs->pace_us);
        fs_gate(sim, node);
        rc = fs_write_now(sim, node, fd, data != NULL ? data + done : NULL, n);
        if (rc != SIM_FS_OK) return rc;
        done += n;
    } while (done < len);
    SIM_ASSERT(sim, node, done == len);
    return SIM_FS_OK;
}

int sim_fs_write(struct sim *sim, int node, int fd, const void *data, size_t len)
{
    if (data == NULL && len > 0) return SIM_FS_EINVAL;
    if (sim->fs == NULL) return SIM_FS_EBADF;
    if (fs_paced(sim, node)) return fs_write_paced(sim, node, fd, data, len);
    fs_gate(sim, node);
    return fs_write_now(sim, node, fd, data, len);
}

int sim_fs_close(struct sim *sim, int node, int fd)
{
    fs_gate(sim, node);
    struct sim_fs *fs = sim->fs;
    if (fs == NULL) return SIM_FS_EBADF;
    int rc = fs_node_check(fs, node);
    if (rc != SIM_FS_OK) return rc;
    struct sim_fs_fd *slot = fs_fd_of(fs, node, fd);
    if (slot == NULL) return SIM_FS_EBADF;
    sim_trace4(sim, node, &fs_kind_close, fd, (int64_t)slot->file->len, 0, 0);
    fs_fd_free(fs, fd);
    return SIM_FS_OK;
}

int sim_fs_write_file(struct sim *sim, int node, const char *name, const void *data, size_t len)
{
    int fd = -1;
    int rc = sim_fs_create(sim, node, name, &fd);
    if (rc != SIM_FS_OK) return rc;
    rc = sim_fs_write(sim, node, fd, data, len);
    int rc_close = sim_fs_close(sim, node, fd);
    return rc != SIM_FS_OK ? rc : rc_close;
}

/* ---------------------------------------------------------------- read, stat, list */

int sim_fs_read(struct sim *sim, int node, const char *name, char **data, size_t *len)
{
    if (data == NULL || len == NULL) return SIM_FS_EINVAL;
    *data = NULL;
    *len = 0;
    if (!fs_name_valid(name)) return SIM_FS_ENAME;
    fs_gate(sim, node);
    if (sim->fs != NULL) {
        int rc = fs_node_check(sim->fs, node);
        if (rc != SIM_FS_OK) return rc;
    } else if (node != SIM_NODE_NONE && (node < 0 || node >= SIM_FS_NODES_MAX)) {
        return SIM_FS_EINVAL;
    }
    const struct sim_fs_file *file = fs_lookup(sim->fs, name);
    if (file == NULL) return SIM_FS_ENOENT;
    char *copy = malloc(file->len + 1);
    if (copy == NULL) return SIM_FS_ENOMEM;
    if (file->len > 0) memcpy(copy, file->data, file->len);
    copy[file->len] = '\0';
    *data = copy;
    *len = file->len;
    return SIM_FS_OK;
}

int sim_fs_size(const struct sim *sim, const char *name, size_t *len)
{
    if (len == NULL) return SIM_FS_EINVAL;
    if (!fs_name_valid(name)) return SIM_FS_ENAME;
    const struct sim_fs_file *file = fs_lookup(sim->fs, name);
    if (file == NULL) return SIM_FS_ENOENT;
    *len = file->len;
    return SIM_FS_OK;
}

bool sim_fs_exists(const struct sim *sim, const char *name)
{
    return fs_name_valid(name) && fs_lookup(sim->fs, name) != NULL;
}

size_t sim_fs_count(const struct sim *sim)
{
    return sim->fs == NULL ? 0 : sim->fs->count;
}

const char *sim_fs_name_at(const struct sim *sim, size_t i)
{
    if (sim->fs == NULL || i >= sim->fs->count) return NULL;
    return sim->fs->entries[i].name;
}

/* ---------------------------------------------------------------- rename, remove */

int sim_fs_rename(struct sim *sim, int node, const char *from, const char *to)
{
    if (!fs_name_valid(from) || !fs_name_valid(to)) return SIM_FS_ENAME;
    fs_gate(sim, node);
    struct sim_fs *fs = sim->fs;
    if (fs == NULL) return SIM_FS_ENOENT;
    int rc = fs_node_check(fs, node);
    if (rc != SIM_FS_OK) return rc;
    bool found = false;
    size_t from_at = fs_find(fs, from, &found);
    if (!found) return SIM_FS_ENOENT;
    struct sim_fs_file *file = fs->entries[from_at].file;
    if (strcmp(from, to) == 0) return SIM_FS_OK; /* POSIX: renaming a name to itself */
    char *to_copy = strdup(to);
    if (to_copy == NULL) return SIM_FS_ENOMEM;
    sim_tracef(sim, node, &fs_kind_rename, (int64_t)file->len, 0, "%s>%s", from, to);
    /* Keep the file alive while its old name goes, then give it the new one: one step as far
     * as any other node can tell (no event runs in between). */
    file->links++;
    fs_entry_remove_at(fs, from_at);
    size_t to_at = fs_find(fs, to, &found);
    if (found) {
        struct sim_fs_file *old = fs->entries[to_at].file;
        free(fs->entries[to_at].name);
        fs->entries[to_at].name = to_copy;
        fs->entries[to_at].file = file;
        old->links--;
        fs_file_release(fs, old);
        return SIM_FS_OK;
    }
    /* The slot freed by the old name guarantees room for the new one. */
    memmove(&fs->entries[to_at + 1], &fs->entries[to_at],
            (fs->count - to_at) * sizeof(fs->entries[0]));
    fs->entries[to_at] = (struct sim_fs_entry){.name = to_copy, .file = file};
    fs->count++;
    SIM_ASSERT(sim, node, fs->count <= fs->cap);
    return SIM_FS_OK;
}

int sim_fs_remove(struct sim *sim, int node, const char *name)
{
    if (!fs_name_valid(name)) return SIM_FS_ENAME;
    fs_gate(sim, node);
    struct sim_fs *fs = sim->fs;
    if (fs == NULL) return SIM_FS_ENOENT;
    int rc = fs_node_check(fs, node);
    if (rc != SIM_FS_OK) return rc;
    bool found = false;
    size_t at = fs_find(fs, name, &found);
    if (!found) return SIM_FS_ENOENT;
    sim_tracef(sim, node, &fs_kind_remove, 0, 0, "%s", name);
    fs_entry_remove_at(fs, at);
    return SIM_FS_OK;
}

/* ---------------------------------------------------------------- processes */

void sim_fs_node_down(struct sim *sim, int node)
{
    struct sim_fs *fs = fs_get(sim);
    SIM_ASSERTF(sim, node, fs != NULL, "out of memory for the file system");
    SIM_ASSERT(sim, node, node >= 0 && node < SIM_FS_NODES_MAX);
    int64_t closed = 0;
    for (int fd = 0; fd < (int)SIM_FS_FDS_MAX; fd++) {
        if (fs->fds[fd].file == NULL || fs->fds[fd].node != node) continue;
        fs_fd_free(fs, fd);
        closed++;
    }
    fs->down[node] = true;
    sim_trace4(sim, node, &fs_kind_down, closed, 0, 0, 0);
}

void sim_fs_node_up(struct sim *sim, int node)
{
    SIM_ASSERT(sim, node, node >= 0 && node < SIM_FS_NODES_MAX);
    if (sim->fs != NULL) sim->fs->down[node] = false;
}

size_t sim_fs_open_count(const struct sim *sim, int node)
{
    if (sim->fs == NULL) return 0;
    size_t n = 0;
    for (size_t fd = 0; fd < SIM_FS_FDS_MAX; fd++) {
        const struct sim_fs_fd *slot = &sim->fs->fds[fd];
        if (slot->file != NULL && (node == SIM_NODE_NONE || slot->node == node)) n++;
    }
    return n;
}

/* ---------------------------------------------------------------- fault injection */

int sim_fs_set_gate(struct sim *sim, sim_fs_gate_fn gate, void *arg)
{
    struct sim_fs *fs = fs_get(sim);
    if (fs == NULL) return SIM_FS_ENOMEM;
    fs->gate = gate;
    fs->gate_arg = gate != NULL ? arg : NULL;
    return SIM_FS_OK;
}

int sim_fs_set_write_pace(struct sim *sim, size_t chunk_bytes, sim_time_us chunk_us)
{
    if (chunk_bytes > 0 && chunk_us == 0) return SIM_FS_EINVAL;
    struct sim_fs *fs = fs_get(sim);
    if (fs == NULL) return SIM_FS_ENOMEM;
    fs->pace_bytes = chunk_bytes;
    fs->pace_us = chunk_bytes > 0 ? chunk_us : 0;
    return SIM_FS_OK;
}

/* ---------------------------------------------------------------- lifecycle, dump */

void sim_fs_free(struct sim *sim)
{
    struct sim_fs *fs = sim->fs;
    if (fs == NULL) return;
    for (int fd = 0; fd < (int)SIM_FS_FDS_MAX; fd++)
        if (fs->fds[fd].file != NULL) fs_fd_free(fs, fd);
    while (fs->count > 0)
        fs_entry_remove_at(fs, fs->count - 1);
    SIM_ASSERT(sim, SIM_NODE_NONE, fs->bytes == 0);
    free(fs->entries);
    free(fs);
    sim->fs = NULL;
}

int sim_fs_dump(const struct sim *sim, const char *dir)
{
    if (dir == NULL) return SIM_FS_EINVAL;
    for (size_t i = 0; i < sim_fs_count(sim); i++) {
        const struct sim_fs_entry *e = &sim->fs->entries[i];
        if (strchr(e->name, '/') != NULL) continue;
        char path[4096];
        int w = snprintf(path, sizeof(path), "%s/%s", dir, e->name);
        if (w < 0 || (size_t)w >= sizeof(path)) return SIM_FS_EIO;
        FILE *f = fopen(path, "wb");
        if (f == NULL) return SIM_FS_EIO;
        size_t put = e->file->len > 0 ? fwrite(e->file->data, 1, e->file->len, f) : 0;
        int rc = put == e->file->len && !ferror(f) ? SIM_FS_OK : SIM_FS_EIO;
        if (fclose(f) != 0) rc = SIM_FS_EIO;
        if (rc != SIM_FS_OK) return rc;
    }
    return SIM_FS_OK;
}
