/* wal: a checksummed write-ahead log of a Raft peer's durable state, on a disk reached through
 * a small interface (struct wal_disk), and the persister built on it.
 *
 * This header is the extended API: a student's Raft needs only raft.h. The WAL persister is an
 * option of the graded harness (`labsim run 3C --raft-opts wal`); without it the 6.824 persister
 * of raft/persister.c is used alone and nothing here runs.
 *
 * File format (all integers little-endian):
 *   file header, 24 bytes: magic "LABSIMWL", u32 version (1), u32 flags (0),
 *                          u64 XXH3-64 of the 16 bytes before it.
 *   record header, 24 bytes: u32 magic "WREC", u16 type, u16 flags (0), u32 payload length,
 *                            u32 low half of the XXH3-64 of the 12 bytes before it,
 *                            u64 XXH3-64 of the payload.
 *   payload, `length` bytes (at most WAL_RECORD_MAX), by type:
 *     TERM_VOTE  u64 term, i64 votedFor (-1 for none): exactly 16 bytes.
 *     ENTRIES    u64 first index, u32 count, then per entry u64 term, u32 length, bytes.
 *     SNAPSHOT   u64 last included index, u64 its term, then the snapshot bytes.
 *     RAFT_STATE u32 state length, u32 flags (bit 0: a snapshot follows the state and replaces
 *                the previous one), state bytes, then the snapshot bytes when bit 0 is set.
 *   TERM_VOTE, ENTRIES and SNAPSHOT are the log of a Raft that persists its fields one by one;
 *   RAFT_STATE is the opaque (state, snapshot) pair that our Raft and a student's hand to
 *   raft_persister_save, so they run on the WAL unchanged.
 *
 * Recovery rules (wal_scan):
 *  1. Records are read in order. A record is intact when its header is well formed (magic,
 *     header checksum, length <= WAL_RECORD_MAX), its payload fits in the file and the payload
 *     checksum matches. A length field is only believed once the header checksum matches, and
 *     even then never past the end of the bytes read.
 *  2. A damaged record (short, or failing a checksum) is a torn tail when no well-formed record
 *     header follows it: it and everything after it are dropped (the file is truncated to the
 *     last intact record). When a well-formed header does follow, the log is corrupted in the
 *     middle and recovery refuses, naming the damaged record's offset: dropping it would lose
 *     records that were synced after it.
 *  3. An intact record whose payload does not parse (size, type, an entry index gap) is refused
 *     with its offset: a checksum that matches means the writer wrote it that way.
 *  A bit flip is therefore survived only in the last write (where it is indistinguishable from
 *  a torn write); anywhere else it is detected and refused, never silently accepted.
 *
 * Compaction: every RAFT_STATE record makes the ones before it dead, and a SNAPSHOT record makes
 * the entries it covers dead. wal_compact writes the live records of a replay to "<name>.tmp",
 * syncs it and renames it over the log: the disk holds the old file or the new one, never a
 * mix. A leftover "<name>.tmp" (a crash during compaction) is removed by wal_open.
 */
#ifndef RAFT_WAL_H
#define RAFT_WAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sim;
struct raft_persister;

#define WAL_VERSION 1u
#define WAL_FILE_HEADER_SIZE 24u
#define WAL_RECORD_HEADER_SIZE 24u
#define WAL_RECORD_MAX (32u << 20) /* payload bytes of one record */
#define WAL_NAME_MAX 120u          /* bytes of a log file's name, NUL included */
#define WAL_ENTRIES_MAX (1u << 20) /* log entries one replay holds (32 MiB of wal_entry) */

enum wal_rec_type {
    WAL_REC_TERM_VOTE = 1,
    WAL_REC_ENTRIES = 2,
    WAL_REC_SNAPSHOT = 3,
    WAL_REC_RAFT_STATE = 4,
};

#define WAL_ERRNO_MAP(X)                                                                           \
    X(WAL_OK, 0, "success")                                                                        \
    X(WAL_ENOMEM, -1, "out of memory")                                                             \
    X(WAL_ENOENT, -2, "no such log file")                                                          \
    X(WAL_EIO, -3, "the disk failed")                                                              \
    X(WAL_EHEADER, -4, "not a write-ahead log (bad file header)")                                  \
    X(WAL_EVERSION, -5, "unsupported write-ahead log version")                                     \
    X(WAL_ECORRUPT, -6, "corrupted record in the middle of the log")                               \
    X(WAL_EPAYLOAD, -7, "malformed record payload")                                                \
    X(WAL_ETOOBIG, -8, "record or log too large")                                                  \
    X(WAL_EINVAL, -9, "invalid argument")

enum wal_err {
#define WAL_ERR_ENUM(name, value, text) name = value,
    WAL_ERRNO_MAP(WAL_ERR_ENUM)
#undef WAL_ERR_ENUM
};

/* Returns a static, never-NULL description of a WAL_* code. */
const char *wal_strerror(int err);

/* ---------------------------------------------------------------- the disk */

/* What the log needs from a disk. Every call returns WAL_OK, WAL_ENOENT, WAL_ENOMEM or WAL_EIO.
 *  read      the file's bytes as this process sees them (synced or not); *data is malloc'd,
 *            the caller's, NULL when *len == 0.
 *  append    adds bytes at the end, creating the file; not durable until sync.
 *  sync      makes every appended byte of the file durable (fsync).
 *  truncate  keeps the first len bytes, durably.
 *  rename    atomically and durably replaces `to` with `from`; `from` must be synced.
 *  remove    deletes the file.
 * The simulated disk (below) implements it on the sim's file system; a real-file one (issue 16)
 * maps it onto open/write/fsync/ftruncate/rename. */
struct wal_disk_ops {
    int (*read)(void *ctx, const char *name, uint8_t **data, size_t *len);
    int (*append)(void *ctx, const char *name, const void *data, size_t len);
    int (*sync)(void *ctx, const char *name);
    int (*truncate)(void *ctx, const char *name, size_t len);
    int (*rename)(void *ctx, const char *from, const char *to);
    int (*remove)(void *ctx, const char *name);
};

struct wal_disk {
    const struct wal_disk_ops *ops;
    void *ctx;
};

/* ---------------------------------------------------------------- recovery */

struct wal_entry {
    uint64_t index;
    uint64_t term;
    const uint8_t *data; /* points into the replay's bytes */
    uint32_t len;
};

/* The state a log replays to. Pointers point into `buf` (or into the bytes given to wal_scan). */
struct wal_replay {
    uint8_t *buf; /* owned by the replay when set by wal_open; NULL after wal_scan */
    size_t buf_len;
    uint64_t records;    /* intact records replayed */
    uint64_t valid_len;  /* bytes of intact log: the torn tail starts here */
    uint64_t torn_bytes; /* bytes dropped as a torn tail */
    bool has_term_vote;
    uint64_t term;
    int64_t vote;
    bool has_snapshot;
    uint64_t snap_index;
    uint64_t snap_term;
    const uint8_t *snap;
    size_t snap_len;
    struct wal_entry *entries; /* malloc'd: indices snap_index + 1 ... in order, no gaps */
    size_t entries_count;
    size_t entries_cap;
    bool has_raft_state;
    const uint8_t *raft_state;
    size_t raft_state_len;
    const uint8_t *raft_snapshot;
    size_t raft_snapshot_len;
};

/* Replays the log in data[0 .. len) into *r (initialised here; free with wal_replay_free). On
 * WAL_OK, r->valid_len says where a torn tail starts (== len when there is none). Otherwise
 * returns WAL_EHEADER, WAL_EVERSION, WAL_ECORRUPT, WAL_EPAYLOAD or WAL_ENOMEM, with a one-line
 * message naming the offset in err. Never reads outside data[0 .. len). */
int wal_scan(const uint8_t *data, size_t len, struct wal_replay *r, char *err, size_t err_size);

void wal_replay_free(struct wal_replay *r);

/* ---------------------------------------------------------------- the writer */

struct wal {
    struct wal_disk disk;
    char name[WAL_NAME_MAX];
    uint64_t size;    /* bytes of the file, synced or not */
    uint64_t records; /* records in the file */
};

/* Opens (creating when missing) the log `name` on `disk` and recovers it into *r: replays it,
 * truncates a torn tail and removes a leftover compaction file. On error (see wal_scan, plus
 * WAL_EIO/WAL_EINVAL) err holds one line naming the file and, for a bad record, its offset. */
int wal_open(struct wal *w, struct wal_disk disk, const char *name, struct wal_replay *r, char *err,
             size_t err_size);

/* Appends one record, in one write to the disk. Not durable until wal_sync. Entries must have
 * consecutive indices from 1 up (WAL_EINVAL otherwise); they replace the log from their first
 * index on, as AppendEntries does. */
int wal_append_term_vote(struct wal *w, uint64_t term, int64_t vote);
int wal_append_entries(struct wal *w, const struct wal_entry *entries, size_t count);
int wal_append_snapshot(struct wal *w, uint64_t index, uint64_t term, const uint8_t *data,
                        size_t len);
/* A RAFT_STATE record: the state, and the snapshot when with_snapshot (else the last one
 * written stays in force). */
int wal_append_raft_state(struct wal *w, const uint8_t *state, size_t state_len,
                          const uint8_t *snapshot, size_t snapshot_len, bool with_snapshot);
int wal_sync(struct wal *w);

/* Rewrites the log with only the live state of `live` (term and vote, snapshot, entries, Raft
 * state and snapshot) through "<name>.tmp", synced and renamed over the log. */
int wal_compact(struct wal *w, const struct wal_replay *live);

/* ---------------------------------------------------------------- the simulated disk */

/* A disk on the sim's file system (sim_fs) for one node. Appends stay in memory (the page
 * cache) until sync writes them to the file; a crash decides what happens to them. Without
 * faults a crash loses every unsynced write. With faults (opt-in) a crash, drawing from the
 * sim_rand stream ("wal.disk", node): keeps a prefix of the unsynced writes, tears the next one
 * (a prefix of it lands), and may flip one bit of the last write that landed. Synced bytes are
 * never touched by a crash. */
struct wal_sim_disk;

struct wal_sim_stats {
    uint64_t crashes;
    uint64_t writes_lost; /* unsynced writes that never reached the file */
    uint64_t writes_torn; /* writes of which only a prefix landed */
    uint64_t bits_flipped;
};

struct wal_sim_disk *wal_sim_disk_new(struct sim *sim, int node, bool faults);
void wal_sim_disk_free(struct wal_sim_disk *d);
struct wal_disk wal_sim_disk_iface(struct wal_sim_disk *d);
/* The node's process dies: applies the crash to every file's unsynced writes. */
void wal_sim_disk_crash(struct wal_sim_disk *d);
const struct wal_sim_stats *wal_sim_disk_stats(const struct wal_sim_disk *d);

/* ---------------------------------------------------------------- the WAL persister */

#define WAL_PERSISTER_FAULTS 1u  /* the disk injects crash faults (wal_sim_disk) */
#define WAL_PERSISTER_NO_SYNC 2u /* UNSAFE, for twin runs: saves return before syncing */

/* A 6.824 persister (raft.h) whose every save is appended to the log `name` on a simulated disk
 * of `node` and synced before raft_persister_save returns. raft_persister_copy of it (the
 * harness's crash) crashes the disk, recovers the log into the returned persister (which now
 * owns the disk) and leaves the old one detached: later saves to it go nowhere, as in Go.
 * Without NO_SYNC, the recovered bytes must equal the last save (SIM_ASSERTF otherwise). With
 * FAULTS, the crash comes while the dying process was writing its state again, so the
 * unsynced-write faults have a write to act on. Opens (recovering) an existing log. NULL with
 * a message in err on failure. */
struct raft_persister *wal_persister_new(struct sim *sim, int node, const char *name,
                                         unsigned flags, char *err, size_t err_size);

#endif /* RAFT_WAL_H */
