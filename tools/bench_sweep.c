/* bench_sweep: the sweep benchmark of `labsim bench`: 1000 seeds of TestFigure8Unreliable3C in
 * two worker processes, through the runner that `labsim run --seeds 1000 --jobs 2` uses
 * (runner_sweep), printing one "bench sweep ..." line with the seeds per second. A failing seed
 * is counted (fails=), not judged: benchmarks assert nothing. */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "runner.h"

#define SWEEP_TEST "TestFigure8Unreliable3C"
#define SWEEP_SEEDS 1000u
#define SWEEP_JOBS 2u

static void sweep_count(const struct runner_result *result, void *arg)
{
    size_t *fails = arg;
    *fails += result->outcome == LAB_FAIL;
}

void bench_sweep(FILE *out)
{
    const struct lab_test *test = lab_test_find(SWEEP_TEST);
    struct runner_job *jobs = malloc(SWEEP_SEEDS * sizeof(*jobs));
    if (test == NULL || jobs == NULL) {
        fprintf(out, "bench sweep test=%s error=%s\n", SWEEP_TEST,
                test == NULL ? "no-such-test" : "out-of-memory");
        free(jobs);
        return;
    }
    for (unsigned i = 0; i < SWEEP_SEEDS; i++)
        jobs[i] = (struct runner_job){.test = test, .seed = LAB_DEFAULT_SEED + i};
    struct runner_config config = {.workers = SWEEP_JOBS};
    struct runner_stats stats;
    size_t fails = 0;
    int rc = runner_sweep(jobs, SWEEP_SEEDS, &config, sweep_count, &fails, &stats);
    double wall_ms = (double)stats.wall_us / 1e3;
    fprintf(out, "bench sweep test=%s seeds=%u jobs=%u wall_ms=%.1f seeds_per_s=%.1f fails=%zu%s\n",
            SWEEP_TEST, SWEEP_SEEDS, SWEEP_JOBS, wall_ms,
            wall_ms > 0 ? (double)stats.delivered / (wall_ms / 1e3) : 0.0, fails,
            rc == SIM_OK ? "" : " error=sweep-incomplete");
    fflush(out);
    free(jobs);
}
