/* run_cpu: the reference CPU table and the flagging rule (see run_cpu.h).
 *
 * The table is our implementation's mean CPU time per run, in microseconds, measured at -O2
 * on the CI machine class (2 cores) with `labsim run all --seeds 10 --jobs 1` (cpu_s divided by
 * runs, rounded). Re-measure it when our Raft or KV changes its cost much; a test added to the
 * catalogue needs an entry (the runner suite checks that every graded test has one).
 */
#include "run_cpu.h"

#include <stddef.h>
#include <string.h>

struct run_cpu_ref {
    const char *test;
    uint32_t cpu_us;
};

static const struct run_cpu_ref run_cpu_refs[] = {
    {"TestWc1", 256000},
    {"TestIndexer1", 140000},
    {"TestMapParallelism1", 1000},
    {"TestReduceParallelism1", 1000},
    {"TestJobCount1", 1000},
    {"TestEarlyExit1", 1000},
    {"TestCrash1", 2000},
    {"TestBasic2", 98000},
    {"TestConcurrent2", 256000},
    {"TestUnreliable2", 4000},
    {"TestUnreliableOneKey2", 1000},
    {"TestMemGet2", 80000},
    {"TestMemPut2", 34000},
    {"TestMemAppend2", 128000},
    {"TestMemPutManyClients", 276000},
    {"TestMemGetManyClients", 218000},
    {"TestMemManyAppends", 102000},
    {"TestInitialElection3A", 1000},
    {"TestReElection3A", 1000},
    {"TestManyElections3A", 1000},
    {"TestBasicAgree3B", 1000},
    {"TestRPCBytes3B", 1000},
    {"TestFollowerFailure3B", 1000},
    {"TestLeaderFailure3B", 1000},
    {"TestFailAgree3B", 1000},
    {"TestFailNoAgree3B", 1000},
    {"TestConcurrentStarts3B", 1000},
    {"TestRejoin3B", 1000},
    {"TestBackup3B", 4000},
    {"TestCount3B", 1000},
    {"TestPersist13C", 1000},
    {"TestPersist23C", 2000},
    {"TestPersist33C", 1000},
    {"TestFigure83C", 5000},
    {"TestUnreliableAgree3C", 3000},
    {"TestFigure8Unreliable3C", 17000},
    {"TestReliableChurn3C", 125000},
    {"TestUnreliableChurn3C", 20000},
    {"TestSnapshotBasic3D", 2000},
    {"TestSnapshotInstall3D", 4000},
    {"TestSnapshotInstallUnreliable3D", 5000},
    {"TestSnapshotInstallCrash3D", 4000},
    {"TestSnapshotInstallUnCrash3D", 4000},
    {"TestSnapshotAllCrash3D", 2000},
    {"TestSnapshotInit3D", 1000},
    {"TestBasic4A", 1086000},
    {"TestSpeed4A", 23000},
    {"TestConcurrent4A", 736000},
    {"TestUnreliable4A", 54000},
    {"TestUnreliableOneKey4A", 2000},
    {"TestOnePartition4A", 1000},
    {"TestStaleReadIndexExt", 1000},
    {"TestStaleReadLeaseExt", 1000},
    {"TestStaleReadLocalTwinExt", 3000},
    {"TestLeaseDriftExt", 35000},
    {"TestManyPartitionsOneClient4A", 785000},
    {"TestManyPartitionsManyClients4A", 456000},
    {"TestPersistOneClient4A", 911000},
    {"TestPersistConcurrent4A", 770000},
    {"TestPersistConcurrentUnreliable4A", 59000},
    {"TestPersistPartition4A", 628000},
    {"TestPersistPartitionUnreliable4A", 45000},
    {"TestPersistPartitionUnreliableLinearizable4A", 134000},
    {"TestSnapshotRPC4B", 1000},
    {"TestSnapshotSize4B", 11000},
    {"TestSpeed4B", 23000},
    {"TestSnapshotRecover4B", 6349000},
    {"TestSnapshotRecoverManyClients4B", 1642000},
    {"TestSnapshotUnreliable4B", 35000},
    {"TestSnapshotUnreliableRecover4B", 34000},
    {"TestSnapshotUnreliableRecoverConcurrentPartition4B", 21000},
    {"TestSnapshotUnreliableRecoverConcurrentPartitionLinearizable4B", 71000},
    {"TestBasic", 4000},
    {"TestMinimalAgain", 1000},
    {"TestMulti", 1000},
    {"TestStaticShards5A", 5000},
    {"TestRejection5A", 6000},
    {"TestJoinLeave5B", 4000},
    {"TestSnapshot5B", 9000},
    {"TestMissChange5B", 10000},
    {"TestConcurrent1_5B", 36000},
    {"TestConcurrent2_5B", 64000},
    {"TestConcurrent3_5B", 1450000},
    {"TestUnreliable1_5B", 10000},
    {"TestUnreliable2_5B", 21000},
    {"TestUnreliable3_5B", 20000},
    {"TestChallenge1Delete", 25000},
    {"TestChallenge2Unaffected", 5000},
    {"TestChallenge2Partial", 4000},
    {"TestPreVoteRejoinExt", 2000},
    {"TestPreVoteRejoinTwinExt", 1000},
    {"TestCheckQuorumExt", 1000},
    {"TestCheckQuorumTwinExt", 1000},
    {"TestLeaderTransferExt", 2000},
    {"TestLeaderTransferTwinExt", 1000},
    {"TestMemberPartitionExt", 1000},
    {"TestMemberPartitionTwinExt", 1000},
    {"TestMemberLearnerExt", 1000},
    {"TestMemberLearnerTwinExt", 1000},
    {"TestPipelineStreamExt", 9000},
    {"TestPipelineStreamTwinExt", 4000},
};
#define RUN_CPU_REFS_COUNT (sizeof(run_cpu_refs) / sizeof(run_cpu_refs[0]))

uint64_t run_cpu_ref_us(const char *test_name)
{
    for (size_t i = 0; i < RUN_CPU_REFS_COUNT; i++)
        if (strcmp(run_cpu_refs[i].test, test_name) == 0) return run_cpu_refs[i].cpu_us;
    return 0;
}

bool run_cpu_far_above(uint64_t cpu_us, uint64_t ref_us)
{
    if (ref_us == 0) return false;
    return cpu_us > ref_us * RUN_CPU_FACTOR && cpu_us - ref_us >= RUN_CPU_FLOOR_US;
}

unsigned run_cpu_refs_count(void)
{
    return (unsigned)RUN_CPU_REFS_COUNT;
}

const char *run_cpu_ref_name(unsigned i)
{
    return i < RUN_CPU_REFS_COUNT ? run_cpu_refs[i].test : NULL;
}
