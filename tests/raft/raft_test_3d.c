/* raft_test_3d: the log-compaction tests (test_test.go, 3D). They run with applierSnap, which
 * snapshots every SnapShotInterval entries from inside the apply callback. Each body is the Go
 * test function line for line; time.Sleep is sim_sleep_us in virtual time, math/rand is the
 * config's "test" stream. */
#include <inttypes.h>

#include "raft_tests.h"

static void snapcommon(struct lab_ctx *ctx, const char *name, bool disconnect, bool reliable,
                       bool crash)
{
    const int iters = 30;
    const int servers = 3;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, !reliable, true);
    raft_cfg_begin(cfg, name);

    raft_cfg_one_int(cfg, raft_test_rand_int(cfg), servers, true);
    int leader1 = raft_cfg_check_one_leader(cfg);

    for (int i = 0; i < iters; i++) {
        int victim = (leader1 + 1) % servers;
        int sender = leader1;
        if (i % 3 == 1) {
            sender = (leader1 + 1) % servers;
            victim = leader1;
        }

        if (disconnect) {
            raft_cfg_disconnect(cfg, victim);
            raft_cfg_one_int(cfg, raft_test_rand_int(cfg), servers - 1, true);
        }
        if (crash) {
            raft_cfg_crash1(cfg, victim);
            raft_cfg_one_int(cfg, raft_test_rand_int(cfg), servers - 1, true);
        }

        /* Perhaps send enough to get a snapshot. */
        int nn = (RAFT_CFG_SNAPSHOT_INTERVAL / 2) +
                 raft_test_rand_below(cfg, RAFT_CFG_SNAPSHOT_INTERVAL);
        for (int k = 0; k < nn; k++)
            raft_cfg_start_int(cfg, sender, raft_test_rand_int(cfg), NULL, NULL);

        /* Let the appliers catch up with the Start()s. */
        if (!disconnect && !crash) {
            /* Make sure all followers have caught up, so that an InstallSnapshot RPC isn't
             * required for TestSnapshotBasic3D. */
            raft_cfg_one_int(cfg, raft_test_rand_int(cfg), servers, true);
        } else {
            raft_cfg_one_int(cfg, raft_test_rand_int(cfg), servers - 1, true);
        }

        if (raft_cfg_log_size(cfg) >= RAFT_CFG_LOG_SIZE_MAX)
            lab_fatalf(ctx, SIM_NODE_NONE, "Log size too large");
        if (disconnect) {
            /* Reconnect a follower, who may be behind and need to receive a snapshot to catch
             * up. */
            raft_cfg_connect(cfg, victim);
            raft_cfg_one_int(cfg, raft_test_rand_int(cfg), servers, true);
            leader1 = raft_cfg_check_one_leader(cfg);
        }
        if (crash) {
            raft_cfg_start1(cfg, victim, RAFT_CFG_APPLIER_SNAP);
            raft_cfg_connect(cfg, victim);
            raft_cfg_one_int(cfg, raft_test_rand_int(cfg), servers, true);
            leader1 = raft_cfg_check_one_leader(cfg);
        }
    }
    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

void raft_test_snapshot_basic_3d(struct lab_ctx *ctx)
{
    snapcommon(ctx, "snapshots basic", false, true, false);
}

void raft_test_snapshot_install_3d(struct lab_ctx *ctx)
{
    snapcommon(ctx, "install snapshots (disconnect)", true, true, false);
}

void raft_test_snapshot_install_unreliable_3d(struct lab_ctx *ctx)
{
    snapcommon(ctx, "install snapshots (disconnect+unreliable)", true, false, false);
}

void raft_test_snapshot_install_crash_3d(struct lab_ctx *ctx)
{
    snapcommon(ctx, "install snapshots (crash)", false, true, true);
}

void raft_test_snapshot_install_uncrash_3d(struct lab_ctx *ctx)
{
    snapcommon(ctx, "install snapshots (unreliable+crash)", false, false, true);
}

static void crash_all(struct raft_cfg *cfg, int servers)
{
    for (int i = 0; i < servers; i++)
        raft_cfg_crash1(cfg, i);
}

static void revive_all(struct raft_cfg *cfg, int servers)
{
    for (int i = 0; i < servers; i++) {
        raft_cfg_start1(cfg, i, RAFT_CFG_APPLIER_SNAP);
        raft_cfg_connect(cfg, i);
    }
}

/* Do the servers persist the snapshots, and restart using the snapshot along with the tail of
 * the log? */
void raft_test_snapshot_all_crash_3d(struct lab_ctx *ctx)
{
    const int servers = 3;
    const int iters = 5;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, true);
    raft_cfg_begin(cfg, "crash and restart all servers");

    raft_cfg_one_int(cfg, raft_test_rand_int(cfg), servers, true);

    for (int i = 0; i < iters; i++) {
        /* Perhaps enough to get a snapshot. */
        int nn = (RAFT_CFG_SNAPSHOT_INTERVAL / 2) +
                 raft_test_rand_below(cfg, RAFT_CFG_SNAPSHOT_INTERVAL);
        for (int k = 0; k < nn; k++)
            raft_cfg_one_int(cfg, raft_test_rand_int(cfg), servers, true);

        int64_t index1 = raft_cfg_one_int(cfg, raft_test_rand_int(cfg), servers, true);

        crash_all(cfg, servers);
        revive_all(cfg, servers);

        int64_t index2 = raft_cfg_one_int(cfg, raft_test_rand_int(cfg), servers, true);
        if (index2 < index1 + 1)
            lab_fatalf(ctx, SIM_NODE_NONE, "index decreased from %" PRId64 " to %" PRId64, index1,
                       index2);
    }
    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

/* Do servers correctly initialize their in-memory copy of the snapshot, making sure that
 * future writes to persistent state don't lose state? */
void raft_test_snapshot_init_3d(struct lab_ctx *ctx)
{
    const int servers = 3;
    struct raft_cfg *cfg = raft_cfg_make(ctx, servers, false, true);
    raft_cfg_begin(cfg, "snapshot initialization after crash");
    raft_cfg_one_int(cfg, raft_test_rand_int(cfg), servers, true);

    /* Enough ops to make a snapshot. */
    int nn = RAFT_CFG_SNAPSHOT_INTERVAL + 1;
    for (int i = 0; i < nn; i++)
        raft_cfg_one_int(cfg, raft_test_rand_int(cfg), servers, true);

    crash_all(cfg, servers);
    revive_all(cfg, servers);

    /* A single op, to get something to be written back to persistent storage. */
    raft_cfg_one_int(cfg, raft_test_rand_int(cfg), servers, true);

    crash_all(cfg, servers);
    revive_all(cfg, servers);

    /* Do another op to trigger a potential bug. */
    raft_cfg_one_int(cfg, raft_test_rand_int(cfg), servers, true);
    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}
