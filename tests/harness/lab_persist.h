/* lab_persist: the persisters the graded harness gives its Raft peers, chosen by the run's Raft
 * options (`labsim run 3C --raft-opts wal,disk-faults`).
 *
 * Options (comma-separated, lab_opts.raft_opts):
 *   wal          the write-ahead-log persister (raft/wal.h) on a simulated disk per server.
 *   disk-faults  with wal: crashes tear, drop and bit-flip the disk's unsynced writes.
 *   wal-no-sync  UNSAFE, implies wal: saves return before syncing, so a crash loses what Raft
 *                acknowledged; the twin run that shows what the sync is for.
 * With no options the harness makes 6.824's in-memory persister, and nothing changes.
 */
#ifndef LAB_PERSIST_H
#define LAB_PERSIST_H

#include <stddef.h>

struct lab_ctx;
struct raft_persister;

#define LAB_RAFT_OPT_WAL 1u
#define LAB_RAFT_OPT_DISK_FAULTS 2u
#define LAB_RAFT_OPT_WAL_NO_SYNC 4u

/* Parses an option list into LAB_RAFT_OPT_* bits (NULL or "" = none). -1 with a one-line
 * message in err for an unknown word or an impossible combination. */
int lab_raft_opts_parse(const char *text, unsigned *opts, char *err, size_t err_size);

/* A new persister for the server on `node`, its log (when there is one) named
 * "<prefix>-<node>.wal". NULL after lab_fatalf when it cannot be made. */
struct raft_persister *lab_persister_new(struct lab_ctx *ctx, int node, const char *prefix);

#endif /* LAB_PERSIST_H */
