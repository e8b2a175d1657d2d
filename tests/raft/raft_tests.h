/* raft_tests: the 28 graded Raft tests (ports of 6.824's src/raft/test_test.go, 2024), one
 * function per Go test, split by part over raft_test_3a.c .. raft_test_3d.c; the catalogue
 * table lab_raft_tests is in raft_tests.c. Also the small helpers that stand for Go's
 * math/rand calls, drawing from the config's "test" stream.
 */
#ifndef RAFT_TESTS_H
#define RAFT_TESTS_H

#include "lab.h"
#include "raft_cfg.h"

/* Go's rand.Int(): a non-negative int64. */
static inline int64_t raft_test_rand_int(struct raft_cfg *cfg)
{
    return (int64_t)(sim_rand_u64(raft_cfg_rand(cfg)) >> 1);
}

/* Go's rand.Int() % n, for n > 0. */
static inline int raft_test_rand_below(struct raft_cfg *cfg, int n)
{
    return (int)sim_rand_below(raft_cfg_rand(cfg), (uint64_t)n);
}

void raft_test_initial_election_3a(struct lab_ctx *ctx);
void raft_test_re_election_3a(struct lab_ctx *ctx);
void raft_test_many_elections_3a(struct lab_ctx *ctx);

void raft_test_basic_agree_3b(struct lab_ctx *ctx);
void raft_test_rpc_bytes_3b(struct lab_ctx *ctx);
void raft_test_follower_failure_3b(struct lab_ctx *ctx);
void raft_test_leader_failure_3b(struct lab_ctx *ctx);
void raft_test_fail_agree_3b(struct lab_ctx *ctx);
void raft_test_fail_no_agree_3b(struct lab_ctx *ctx);
void raft_test_concurrent_starts_3b(struct lab_ctx *ctx);
void raft_test_rejoin_3b(struct lab_ctx *ctx);
void raft_test_backup_3b(struct lab_ctx *ctx);
void raft_test_count_3b(struct lab_ctx *ctx);

void raft_test_persist1_3c(struct lab_ctx *ctx);
void raft_test_persist2_3c(struct lab_ctx *ctx);
void raft_test_persist3_3c(struct lab_ctx *ctx);
void raft_test_figure8_3c(struct lab_ctx *ctx);
void raft_test_unreliable_agree_3c(struct lab_ctx *ctx);
void raft_test_figure8_unreliable_3c(struct lab_ctx *ctx);
void raft_test_reliable_churn_3c(struct lab_ctx *ctx);
void raft_test_unreliable_churn_3c(struct lab_ctx *ctx);

void raft_test_snapshot_basic_3d(struct lab_ctx *ctx);
void raft_test_snapshot_install_3d(struct lab_ctx *ctx);
void raft_test_snapshot_install_unreliable_3d(struct lab_ctx *ctx);
void raft_test_snapshot_install_crash_3d(struct lab_ctx *ctx);
void raft_test_snapshot_install_uncrash_3d(struct lab_ctx *ctx);
void raft_test_snapshot_all_crash_3d(struct lab_ctx *ctx);
void raft_test_snapshot_init_3d(struct lab_ctx *ctx);

#endif /* RAFT_TESTS_H */
