/* net_wal_disk: the write-ahead log's disk (raft/wal.h, struct wal_disk_ops) on real files of
 * one directory, for the raftkv server. The simulation's disk is raft/wal_sim_disk.c; this is
 * the same contract on POSIX calls:
 *   read      open + fstat + read of the whole file.
 *   append    write on a descriptor opened O_APPEND (the page cache holds it until sync).
 *   sync      fsync of the file.
 *   truncate  ftruncate + fsync of the file.
 *   rename    rename + fsync of the directory, so the new name survives a power cut.
 *   remove    unlink (not made durable: the log only removes a leftover "<name>.tmp", which a
 *             crash may bring back and wal_open removes again).
 * A new file appears only through wal_create/wal_compact's "<name>.tmp" renamed over the log,
 * so the directory fsync of rename is the one that makes a new log's name durable.
 *
 * Owns up to NET_WAL_FDS_MAX open descriptors (the log and its compaction file), cached by name
 * so an append is one write(2). Invariant: a cached descriptor names the file that is at its
 * path now (rename and remove drop the entries they touch; truncate keeps the file).
 * The last failing call and its errno are kept for the node's fatal log line.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net_int.h"

static void disk_fail(struct net_wal_disk *d, const char *call, const char *name)
{
    snprintf(d->last_error, sizeof(d->last_error), "%s %s: %s", call, name, strerror(errno));
}

static int disk_path(const struct net_wal_disk *d, const char *name, char *path, size_t size)
{
    int n = snprintf(path, size, "%s/%s", d->dir, name);
    return n > 0 && (size_t)n < size ? WAL_OK : WAL_EIO;
}

static struct net_wal_fd *disk_fd_find(struct net_wal_disk *d, const char *name)
{
    for (size_t k = 0; k < NET_WAL_FDS_MAX; k++)
        if (d->fds[k].fd >= 0 && strcmp(d->fds[k].name, name) == 0) return &d->fds[k];
    return NULL;
}

static void disk_fd_drop(struct net_wal_disk *d, const char *name)
{
    struct net_wal_fd *f = disk_fd_find(d, name);
    if (f == NULL) return;
    close(f->fd);
    f->fd = -1;
    f->name[0] = '\0';
}

/* The cached append descriptor of `name`, opening (and creating) it when needed; -1 on error. */
static int disk_fd_get(struct net_wal_disk *d, const char *name)
{
    struct net_wal_fd *f = disk_fd_find(d, name);
    if (f != NULL) return f->fd;
    char path[NET_WAL_PATH_MAX];
    if (strlen(name) >= sizeof(f->name) || disk_path(d, name, path, sizeof(path)) != WAL_OK) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (size_t k = 0; k < NET_WAL_FDS_MAX; k++) {
        if (d->fds[k].fd >= 0) continue;
        int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) return -1;
        d->fds[k].fd = fd;
        memcpy(d->fds[k].name, name, strlen(name) + 1);
        return fd;
    }
    errno = EMFILE; /* more files at once than the log ever writes: a bug, reported as I/O */
    return -1;
}

static int disk_read(void *ctx, const char *name, uint8_t **data, size_t *len)
{
    struct net_wal_disk *d = ctx;
    char path[NET_WAL_PATH_MAX];
    *data = NULL;
    *len = 0;
    if (disk_path(d, name, path, sizeof(path)) != WAL_OK) return WAL_EIO;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return WAL_ENOENT;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) goto fail;
    size_t size = (size_t)st.st_size;
    uint8_t *buf = size > 0 ? malloc(size) : NULL;
    if (size > 0 && buf == NULL) {
        close(fd);
        return WAL_ENOMEM;
    }
    size_t got = 0;
    bool failed = false;
    while (got < size) { /* bounded: every pass reads at least one byte or leaves */
        ssize_t n = read(fd, buf + got, size - got);
        if (n < 0 && errno == EINTR) continue;
        failed = n < 0;
        if (n <= 0) break;
        got += (size_t)n;
    }
    if (failed) {
        free(buf);
        goto fail;
    }
    close(fd);
    *data = buf;
    *len = got; /* a file that shrank under us reads as what is there */
    return WAL_OK;
fail:
    disk_fail(d, "read", name);
    if (fd >= 0) close(fd);
    return WAL_EIO;
}

static int disk_append(void *ctx, const char *name, const void *data, size_t len)
{
    struct net_wal_disk *d = ctx;
    int fd = disk_fd_get(d, name);
    const uint8_t *p = data;
    while (fd >= 0 && len > 0) { /* bounded: every pass writes at least one byte or fails */
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        p += n;
        len -= (size_t)n;
    }
    if (fd >= 0 && len == 0) return WAL_OK;
    disk_fail(d, "write", name);
    return WAL_EIO;
}

static int disk_sync(void *ctx, const char *name)
{
    struct net_wal_disk *d = ctx;
    int fd = disk_fd_get(d, name);
    if (fd >= 0 && fsync(fd) == 0) {
        d->fsyncs++;
        return WAL_OK;
    }
    disk_fail(d, "fsync", name);
    return WAL_EIO;
}

static int disk_truncate(void *ctx, const char *name, size_t len)
{
    struct net_wal_disk *d = ctx;
    int fd = disk_fd_get(d, name);
    if (fd >= 0 && ftruncate(fd, (off_t)len) == 0 && fsync(fd) == 0) {
        d->fsyncs++;
        return WAL_OK;
    }
    disk_fail(d, "truncate", name);
    return WAL_EIO;
}

static int dir_sync(struct net_wal_disk *d)
{
    int fd = open(d->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    if (rc == 0) d->fsyncs++;
    return rc;
}

static int disk_rename(void *ctx, const char *from, const char *to)
{
    struct net_wal_disk *d = ctx;
    char from_path[NET_WAL_PATH_MAX];
    char to_path[NET_WAL_PATH_MAX];
    if (disk_path(d, from, from_path, sizeof(from_path)) != WAL_OK ||
        disk_path(d, to, to_path, sizeof(to_path)) != WAL_OK)
        return WAL_EIO;
    disk_fd_drop(d, from);
    disk_fd_drop(d, to); /* it named the file being replaced */
    if (rename(from_path, to_path) == 0 && dir_sync(d) == 0) return WAL_OK;
    disk_fail(d, "rename to", to);
    return WAL_EIO;
}

static int disk_remove(void *ctx, const char *name)
{
    struct net_wal_disk *d = ctx;
    char path[NET_WAL_PATH_MAX];
    if (disk_path(d, name, path, sizeof(path)) != WAL_OK) return WAL_EIO;
    disk_fd_drop(d, name);
    if (unlink(path) == 0) return WAL_OK;
    if (errno == ENOENT) return WAL_ENOENT;
    disk_fail(d, "unlink", name);
    return WAL_EIO;
}

static const struct wal_disk_ops net_wal_disk_ops = {
    .read = disk_read,
    .append = disk_append,
    .sync = disk_sync,
    .truncate = disk_truncate,
    .rename = disk_rename,
    .remove = disk_remove,
};

int net_wal_disk_init(struct net_wal_disk *d, const char *dir)
{
    memset(d, 0, sizeof(*d));
    for (size_t k = 0; k < NET_WAL_FDS_MAX; k++)
        d->fds[k].fd = -1;
    int n = snprintf(d->dir, sizeof(d->dir), "%s", dir);
    return n > 0 && (size_t)n + WAL_NAME_MAX < NET_WAL_PATH_MAX ? NET_OK : NET_EINVAL;
}

void net_wal_disk_close(struct net_wal_disk *d)
{
    for (size_t k = 0; k < NET_WAL_FDS_MAX; k++)
        if (d->fds[k].fd >= 0) disk_fd_drop(d, d->fds[k].name);
}

struct wal_disk net_wal_disk_iface(struct net_wal_disk *d)
{
    return (struct wal_disk){.ops = &net_wal_disk_ops, .ctx = d};
}
