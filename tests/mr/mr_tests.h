/* mr_tests: the seven graded lab 1 tests (ports of the sections of 6.5840's
 * src/main/test-mr.sh, 2024) in mr_tests.c, and their catalogue table lab_mr_tests in
 * mr_catalogue.c.
 */
#ifndef MR_TESTS_H
#define MR_TESTS_H

#include "lab.h"
#include "mr_cfg.h"

void mr_test_wc(struct lab_ctx *ctx);
void mr_test_indexer(struct lab_ctx *ctx);
void mr_test_map_parallelism(struct lab_ctx *ctx);
void mr_test_reduce_parallelism(struct lab_ctx *ctx);
void mr_test_job_count(struct lab_ctx *ctx);
void mr_test_early_exit(struct lab_ctx *ctx);
void mr_test_crash(struct lab_ctx *ctx);

#endif /* MR_TESTS_H */
