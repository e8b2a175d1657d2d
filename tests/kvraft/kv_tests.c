/* kv_tests: the catalogue of graded kvraft tests, in test_test.go order. Titles are the Go
 * titles without "Test: " and the " (4A)" suffix; lab_begin prints "Test (4A): " from the
 * part. TestOnePartition4A prints three Passed lines (its first title is listed here).
 */
#include "kv_tests.h"

const struct lab_test lab_kv_tests[] = {
    {"TestBasic4A", "4A", "one client", kv_test_basic_4a},
    {"TestSpeed4A", "4A", "ops complete fast enough", kv_test_speed_4a},
    {"TestConcurrent4A", "4A", "many clients", kv_test_concurrent_4a},
    {"TestUnreliable4A", "4A", "unreliable net, many clients", kv_test_unreliable_4a},
    {"TestUnreliableOneKey4A", "4A", "concurrent append to same key, unreliable",
     kv_test_unreliable_one_key_4a},
    {"TestOnePartition4A", "4A", "progress in majority", kv_test_one_partition_4a},
    {"TestManyPartitionsOneClient4A", "4A", "partitions, one client",
     kv_test_many_partitions_one_client_4a},
    {"TestManyPartitionsManyClients4A", "4A", "partitions, many clients",
     kv_test_many_partitions_many_clients_4a},
    {"TestPersistOneClient4A", "4A", "restarts, one client", kv_test_persist_one_client_4a},
    {"TestPersistConcurrent4A", "4A", "restarts, many clients", kv_test_persist_concurrent_4a},
    {"TestPersistConcurrentUnreliable4A", "4A", "unreliable net, restarts, many clients",
     kv_test_persist_concurrent_unreliable_4a},
    {"TestPersistPartition4A", "4A", "restarts, partitions, many clients",
     kv_test_persist_partition_4a},
    {"TestPersistPartitionUnreliable4A", "4A", "unreliable net, restarts, partitions, many clients",
     kv_test_persist_partition_unreliable_4a},
    {"TestPersistPartitionUnreliableLinearizable4A", "4A",
     "unreliable net, restarts, partitions, random keys, many clients",
     kv_test_persist_partition_unreliable_linearizable_4a},

    {"TestSnapshotRPC4B", "4B", "InstallSnapshot RPC", kv_test_snapshot_rpc_4b},
    {"TestSnapshotSize4B", "4B", "snapshot size is reasonable", kv_test_snapshot_size_4b},
    {"TestSpeed4B", "4B", "ops complete fast enough", kv_test_speed_4b},
    {"TestSnapshotRecover4B", "4B", "restarts, snapshots, one client", kv_test_snapshot_recover_4b},
    {"TestSnapshotRecoverManyClients4B", "4B", "restarts, snapshots, many clients",
     kv_test_snapshot_recover_many_clients_4b},
    {"TestSnapshotUnreliable4B", "4B", "unreliable net, snapshots, many clients",
     kv_test_snapshot_unreliable_4b},
    {"TestSnapshotUnreliableRecover4B", "4B", "unreliable net, restarts, snapshots, many clients",
     kv_test_snapshot_unreliable_recover_4b},
    {"TestSnapshotUnreliableRecoverConcurrentPartition4B", "4B",
     "unreliable net, restarts, partitions, snapshots, many clients",
     kv_test_snapshot_unreliable_recover_concurrent_partition_4b},
    {"TestSnapshotUnreliableRecoverConcurrentPartitionLinearizable4B", "4B",
     "unreliable net, restarts, partitions, snapshots, random keys, many clients",
     kv_test_snapshot_unreliable_recover_concurrent_partition_linearizable_4b},
};

const size_t lab_kv_tests_count = sizeof(lab_kv_tests) / sizeof(lab_kv_tests[0]);
