/* raft_tests: the catalogue of graded Raft tests, in test_test.go order. Titles are the Go
 * titles without the "Test (3X): " prefix, which lab_begin prints from the part. */
#include "raft_tests.h"

const struct lab_test lab_raft_tests[] = {
    {"TestInitialElection3A", "3A", "initial election", raft_test_initial_election_3a},
    {"TestReElection3A", "3A", "election after network failure", raft_test_re_election_3a},
    {"TestManyElections3A", "3A", "multiple elections", raft_test_many_elections_3a},

    {"TestBasicAgree3B", "3B", "basic agreement", raft_test_basic_agree_3b},
    {"TestRPCBytes3B", "3B", "RPC byte count", raft_test_rpc_bytes_3b},
    {"TestFollowerFailure3B", "3B", "test progressive failure of followers",
     raft_test_follower_failure_3b},
    {"TestLeaderFailure3B", "3B", "test failure of leaders", raft_test_leader_failure_3b},
    {"TestFailAgree3B", "3B", "agreement after follower reconnects", raft_test_fail_agree_3b},
    {"TestFailNoAgree3B", "3B", "no agreement if too many followers disconnect",
     raft_test_fail_no_agree_3b},
    {"TestConcurrentStarts3B", "3B", "concurrent Start()s", raft_test_concurrent_starts_3b},
    {"TestRejoin3B", "3B", "rejoin of partitioned leader", raft_test_rejoin_3b},
    {"TestBackup3B", "3B", "leader backs up quickly over incorrect follower logs",
     raft_test_backup_3b},
    {"TestCount3B", "3B", "RPC counts aren't too high", raft_test_count_3b},

    {"TestPersist13C", "3C", "basic persistence", raft_test_persist1_3c},
    {"TestPersist23C", "3C", "more persistence", raft_test_persist2_3c},
    {"TestPersist33C", "3C", "partitioned leader and one follower crash, leader restarts",
     raft_test_persist3_3c},
    {"TestFigure83C", "3C", "Figure 8", raft_test_figure8_3c},
    {"TestUnreliableAgree3C", "3C", "unreliable agreement", raft_test_unreliable_agree_3c},
    {"TestFigure8Unreliable3C", "3C", "Figure 8 (unreliable)", raft_test_figure8_unreliable_3c},
    {"TestReliableChurn3C", "3C", "churn", raft_test_reliable_churn_3c},
    {"TestUnreliableChurn3C", "3C", "unreliable churn", raft_test_unreliable_churn_3c},

    {"TestSnapshotBasic3D", "3D", "snapshots basic", raft_test_snapshot_basic_3d},
    {"TestSnapshotInstall3D", "3D", "install snapshots (disconnect)",
     raft_test_snapshot_install_3d},
    {"TestSnapshotInstallUnreliable3D", "3D", "install snapshots (disconnect+unreliable)",
     raft_test_snapshot_install_unreliable_3d},
    {"TestSnapshotInstallCrash3D", "3D", "install snapshots (crash)",
     raft_test_snapshot_install_crash_3d},
    {"TestSnapshotInstallUnCrash3D", "3D", "install snapshots (unreliable+crash)",
     raft_test_snapshot_install_uncrash_3d},
    {"TestSnapshotAllCrash3D", "3D", "crash and restart all servers",
     raft_test_snapshot_all_crash_3d},
    {"TestSnapshotInit3D", "3D", "snapshot initialization after crash", raft_test_snapshot_init_3d},
};

const size_t lab_raft_tests_count = sizeof(lab_raft_tests) / sizeof(lab_raft_tests[0]);
