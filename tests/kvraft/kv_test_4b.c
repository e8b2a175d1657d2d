/* kv_test_4b: the kvraft 4B tests (snapshots, maxraftstate = 1000). The GenericTest ones are
 * one-line parameter sets; TestSnapshotRPC4B and TestSnapshotSize4B are ported here.
 */
#include <stdio.h>

#include "kv_tests.h"

#define MAXRAFTSTATE_4B 1000

#define GENERIC_4B(fn, go_name, clients, servers, unrel, crashes, parts, random)                   \
    void fn(struct lab_ctx *ctx)                                                                   \
    {                                                                                              \
        static const struct kv_generic_params params = {                                           \
            go_name, "4B", clients, servers, unrel, crashes, parts, MAXRAFTSTATE_4B, random};      \
        kv_generic_test(ctx, &params);                                                             \
    }

/* name, clients, servers, unreliable, crash, partitions, random keys (test_test.go order) */
GENERIC_4B(kv_test_snapshot_recover_4b, "TestSnapshotRecover4B", 1, 5, false, true, false, false)
GENERIC_4B(kv_test_snapshot_recover_many_clients_4b, "TestSnapshotRecoverManyClients4B", 20, 5,
           false, true, false, false)
GENERIC_4B(kv_test_snapshot_unreliable_4b, "TestSnapshotUnreliable4B", 5, 5, true, false, false,
           false)
GENERIC_4B(kv_test_snapshot_unreliable_recover_4b, "TestSnapshotUnreliableRecover4B", 5, 5, true,
           true, false, false)
GENERIC_4B(kv_test_snapshot_unreliable_recover_concurrent_partition_4b,
           "TestSnapshotUnreliableRecoverConcurrentPartition4B", 5, 5, true, true, true, false)
GENERIC_4B(kv_test_snapshot_unreliable_recover_concurrent_partition_linearizable_4b,
           "TestSnapshotUnreliableRecoverConcurrentPartitionLinearizable4B", 15, 7, true, true,
           true, true)

void kv_test_speed_4b(struct lab_ctx *ctx)
{
    kv_generic_test_speed(ctx, "TestSpeed4B", MAXRAFTSTATE_4B);
}

static void check_log_trimmed(struct kv_cfg *cfg)
{
    size_t sz = kv_cfg_log_size(cfg);
    if (sz > 8 * (size_t)MAXRAFTSTATE_4B)
        lab_fatalf(kv_cfg_lab(cfg), SIM_NODE_NONE, "logs were not trimmed (%zu > 8*%d)", sz,
                   MAXRAFTSTATE_4B);
}

/* If one server falls behind and rejoins, does it recover through InstallSnapshot? Also checks
 * that the majority discards committed entries even when the minority does not answer. */
void kv_test_snapshot_rpc_4b(struct lab_ctx *ctx)
{
    int all[KV_CFG_SERVERS_MAX];
    char kv[16];
    struct kv_cfg *cfg = kv_cfg_make(ctx, "TestSnapshotRPC4B", 3, false, MAXRAFTSTATE_4B);
    int n = kv_cfg_all(cfg, all);
    struct kv_cfg_clerk *ck = kv_cfg_make_client(cfg, all, n);
    kv_cfg_begin(cfg, "InstallSnapshot RPC");
    kv_cfg_put(cfg, ck, "a", "A", -1);
    kv_cfg_check(cfg, ck, "a", "A");

    /* A bunch of puts into the majority partition. */
    static const int g01[] = {0, 1};
    static const int g2[] = {2};
    kv_cfg_partition(cfg, g01, 2, g2, 1);
    struct kv_cfg_clerk *ck1 = kv_cfg_make_client(cfg, g01, 2);
    for (int i = 0; i < 50; i++) {
        snprintf(kv, sizeof(kv), "%d", i);
        kv_cfg_put(cfg, ck1, kv, kv, -1);
    }
    sim_sleep_us(lab_sim(ctx), KV_ELECTION_TIMEOUT_US);
    kv_cfg_put(cfg, ck1, "b", "B", -1);
    /* The majority must have thrown away most of its log. */
    check_log_trimmed(cfg);

    /* Now a group that needs the lagging server, which has to catch up. */
    static const int g02[] = {0, 2};
    static const int g1[] = {1};
    kv_cfg_partition(cfg, g02, 2, g1, 1);
    struct kv_cfg_clerk *ck2 = kv_cfg_make_client(cfg, g02, 2);
    kv_cfg_put(cfg, ck2, "c", "C", -1);
    kv_cfg_put(cfg, ck2, "d", "D", -1);
    kv_cfg_check(cfg, ck2, "a", "A");
    kv_cfg_check(cfg, ck2, "b", "B");
    kv_cfg_check(cfg, ck2, "1", "1");
    kv_cfg_check(cfg, ck2, "49", "49");

    /* Now everybody. */
    kv_cfg_partition(cfg, all, n, NULL, 0);
    kv_cfg_put(cfg, ck, "e", "E", -1);
    kv_cfg_check(cfg, ck, "c", "C");
    kv_cfg_check(cfg, ck, "e", "E");
    kv_cfg_check(cfg, ck, "1", "1");
    kv_cfg_check_history(cfg);
    kv_cfg_end(cfg, NULL);
    kv_cfg_cleanup(cfg);
}

/* Are the snapshots not too big? 500 bytes is generous for the operations done here. */
void kv_test_snapshot_size_4b(struct lab_ctx *ctx)
{
    enum { MAXSNAPSHOTSTATE = 500 };
    int all[KV_CFG_SERVERS_MAX];
    struct kv_cfg *cfg = kv_cfg_make(ctx, "TestSnapshotSize4B", 3, false, MAXRAFTSTATE_4B);
    struct kv_cfg_clerk *ck = kv_cfg_make_client(cfg, all, kv_cfg_all(cfg, all));
    kv_cfg_begin(cfg, "snapshot size is reasonable");
    for (int i = 0; i < 200; i++) {
        kv_cfg_put(cfg, ck, "x", "0", -1);
        kv_cfg_check(cfg, ck, "x", "0");
        kv_cfg_put(cfg, ck, "x", "1", -1);
        kv_cfg_check(cfg, ck, "x", "1");
    }
    /* The servers must have thrown away most of their log entries. */
    check_log_trimmed(cfg);
    size_t ssz = kv_cfg_snapshot_size(cfg);
    if (ssz > MAXSNAPSHOTSTATE)
        lab_fatalf(ctx, SIM_NODE_NONE, "snapshot too large (%zu > %d)", ssz, MAXSNAPSHOTSTATE);
    kv_cfg_check_history(cfg);
    kv_cfg_end(cfg, NULL);
    kv_cfg_cleanup(cfg);
}
