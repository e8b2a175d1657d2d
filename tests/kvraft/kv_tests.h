/* kv_tests: the 23 graded kvraft tests (ports of 6.824's src/kvraft/test_test.go, 2024): the
 * generic tests (GenericTest, GenericTestSpeed) in kv_generic.c, the other 4A tests in
 * kv_test_4a.c, the other 4B tests in kv_test_4b.c, and the catalogue table lab_kv_tests in
 * kv_tests.c.
 */
#ifndef KV_TESTS_H
#define KV_TESTS_H

#include <stdbool.h>
#include <stdint.h>

#include "kv_cfg.h"
#include "lab.h"

/* Most clients any GenericTest runs at once (Go's largest is 20). */
#define KV_GENERIC_CLIENTS_MAX 32

/* GenericTest's arguments. */
struct kv_generic_params {
    const char *name; /* Go test name (for the artifact) */
    const char *part; /* "4A" or "4B" */
    int nclients;
    int nservers;
    bool unreliable;
    bool crash;
    bool partitions;
    int64_t maxraftstate;
    bool randomkeys;
};

void kv_generic_test(struct lab_ctx *ctx, const struct kv_generic_params *p);
/* GenericTestSpeed(part, maxraftstate): 1000 Appends within 1000 x 33.3 ms virtual. */
void kv_generic_test_speed(struct lab_ctx *ctx, const char *name, int64_t maxraftstate);

/* The title GenericTest prints, without "Test: " and " (4A)" (lab_begin adds the part). */
void kv_generic_title(const struct kv_generic_params *p, char *buf, size_t size);

void kv_test_basic_4a(struct lab_ctx *ctx);
void kv_test_speed_4a(struct lab_ctx *ctx);
void kv_test_concurrent_4a(struct lab_ctx *ctx);
void kv_test_unreliable_4a(struct lab_ctx *ctx);
void kv_test_unreliable_one_key_4a(struct lab_ctx *ctx);
void kv_test_one_partition_4a(struct lab_ctx *ctx);
void kv_test_many_partitions_one_client_4a(struct lab_ctx *ctx);
void kv_test_many_partitions_many_clients_4a(struct lab_ctx *ctx);
void kv_test_persist_one_client_4a(struct lab_ctx *ctx);
void kv_test_persist_concurrent_4a(struct lab_ctx *ctx);
void kv_test_persist_concurrent_unreliable_4a(struct lab_ctx *ctx);
void kv_test_persist_partition_4a(struct lab_ctx *ctx);
void kv_test_persist_partition_unreliable_4a(struct lab_ctx *ctx);
void kv_test_persist_partition_unreliable_linearizable_4a(struct lab_ctx *ctx);

void kv_test_snapshot_rpc_4b(struct lab_ctx *ctx);
void kv_test_snapshot_size_4b(struct lab_ctx *ctx);
void kv_test_speed_4b(struct lab_ctx *ctx);
void kv_test_snapshot_recover_4b(struct lab_ctx *ctx);
void kv_test_snapshot_recover_many_clients_4b(struct lab_ctx *ctx);
void kv_test_snapshot_unreliable_4b(struct lab_ctx *ctx);
void kv_test_snapshot_unreliable_recover_4b(struct lab_ctx *ctx);
void kv_test_snapshot_unreliable_recover_concurrent_partition_4b(struct lab_ctx *ctx);
void kv_test_snapshot_unreliable_recover_concurrent_partition_linearizable_4b(struct lab_ctx *ctx);

#endif /* KV_TESTS_H */
