/* mr_catalogue: the graded lab 1 tests in test-mr.sh's order. The script's sections have no Go
 * test names; each gets "Test<Section>1" (part 1), and its title is the section's name as the
 * script prints it ("*** Starting wc test."). */
#include "mr_tests.h"

const struct lab_test lab_mr_tests[] = {
    {"TestWc1", "1", "wc", mr_test_wc},
    {"TestIndexer1", "1", "indexer", mr_test_indexer},
    {"TestMapParallelism1", "1", "map parallelism", mr_test_map_parallelism},
    {"TestReduceParallelism1", "1", "reduce parallelism", mr_test_reduce_parallelism},
    {"TestJobCount1", "1", "job count", mr_test_job_count},
    {"TestEarlyExit1", "1", "early exit", mr_test_early_exit},
    {"TestCrash1", "1", "crash", mr_test_crash},
};

const size_t lab_mr_tests_count = sizeof(lab_mr_tests) / sizeof(lab_mr_tests[0]);
