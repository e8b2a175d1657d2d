/* lab_persist: the persisters the graded harness gives its Raft peers, chosen by the run's Raft
 * options (`labsim run 3C --raft-opts wal,disk-faults`), and the raft_ext.h options they carry.
 *
 * Options (comma-separated, lab_opts.raft_opts, or a scenario test's own, lab_raft_opts_set):
 *   wal          the write-ahead-log persister (raft/wal.h) on a simulated disk per server.
 *   disk-faults  with wal: crashes tear, drop and bit-flip the disk's unsynced writes.
 *   wal-no-sync  UNSAFE, implies wal: saves return before syncing, so a crash loses what Raft
 *                acknowledged; the twin run that shows what the sync is for.
 *   pre-vote, check-quorum, read-index, lease-read, pipeline
 *                the raft_ext.h options of the same names (RAFT_OPT_*), for labsim's own Raft.
 *   membership   RAFT_OPT_MEMBERSHIP: configuration entries, learners, raft_member_* calls.
 *   member-unsafe UNSAFE, implies membership: changes of several servers at once, promotion of
 *                a lagging learner; the twin runs of the membership scenarios.
 *   local-read   UNSAFE (RAFT_OPT_LOCAL_READ_UNSAFE): kvraft answers a Get from the local state
 *                of whoever believes it leads; the twin run of the stale-read scenario.
 *   all          every raft_ext.h option, and wal.
 * With no options the harness makes 6.824's in-memory persister, and nothing changes.
 */
#ifndef LAB_PERSIST_H
#define LAB_PERSIST_H

#include <stdbool.h>
#include <stddef.h>

struct lab_ctx;
struct raft_persister;

/* Parsed options: the low bits are raft_ext.h's RAFT_OPT_* flags as they are
 * (LAB_RAFT_OPT_RAFT_MASK), the high bits choose the persister. */
#define LAB_RAFT_OPT_RAFT_MASK 0xffffu
#define LAB_RAFT_OPT_WAL (1u << 16)
#define LAB_RAFT_OPT_DISK_FAULTS (1u << 17)
#define LAB_RAFT_OPT_WAL_NO_SYNC (1u << 18)

/* Parses an option list into LAB_RAFT_OPT_* bits (NULL or "" = none). -1 with a one-line
 * message in err for an unknown word or an impossible combination. */
int lab_raft_opts_parse(const char *text, unsigned *opts, char *err, size_t err_size);

/* After the Raft of the server on `node` was made with persister `p`: fails the run (lab_fatalf,
 * returns false) when the run asked for raft_ext.h options and that Raft did not read them (a
 * student's Raft, which only knows raft.h), rather than grading it "with options" it ignored. */
bool lab_persister_check_taken(struct lab_ctx *ctx, int node, const struct raft_persister *p);

/* A new persister for the server on `node`, its log (when there is one) named
 * "<prefix>-<node>.wal". NULL after lab_fatalf when it cannot be made. */
struct raft_persister *lab_persister_new(struct lab_ctx *ctx, int node, const char *prefix);

#endif /* LAB_PERSIST_H */
