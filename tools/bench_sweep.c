/* bench_sweep: the sweep benchmarks of `labsim bench`, through the runner that `labsim run
 * --jobs 2` uses (runner_sweep): 1000 seeds of TestFigure8Unreliable3C in two worker processes
 * ("bench sweep ...", seeds per second), and one seed of every test of some parts in two
 * workers ("bench parts ...", wall time, e.g. labs 1 and 2 together). A failing run is counted
 * (fails=), not judged: benchmarks assert nothing. */
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

/* Sums the virtual time of the runs and counts failures. */
struct parts_tally {
    uint64_t virtual_us;
    size_t fails;
};

static void parts_count(const struct runner_result *result, void *arg)
{
    struct parts_tally *tally = arg;
    tally->virtual_us += result->virtual_us;
    tally->fails += result->outcome == LAB_FAIL;
}

void bench_parts(FILE *out, const char *pattern)
{
    size_t count = 0;
    for (size_t i = 0; i < lab_tests_count(); i++)
        count += runner_selects(lab_test_at(i), pattern);
    struct runner_job *jobs = malloc((count > 0 ? count : 1) * sizeof(*jobs));
    if (jobs == NULL) {
        fprintf(out, "bench parts pattern=%s error=out-of-memory\n", pattern);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < lab_tests_count(); i++)
        if (runner_selects(lab_test_at(i), pattern))
            jobs[n++] = (struct runner_job){.test = lab_test_at(i), .seed = LAB_DEFAULT_SEED};
    struct runner_config config = {.workers = SWEEP_JOBS};
    struct runner_stats stats;
    struct parts_tally tally = {0};
    int rc = runner_sweep(jobs, n, &config, parts_count, &tally, &stats);
    double wall_ms = (double)stats.wall_us / 1e3;
    double virtual_s = (double)tally.virtual_us / 1e6;
    fprintf(out,
            "bench parts pattern=%s tests=%zu jobs=%u seed=%llu wall_ms=%.1f virtual_s=%.1f "
            "virtual_per_wall=%.0f fails=%zu%s\n",
            pattern, n, SWEEP_JOBS, (unsigned long long)LAB_DEFAULT_SEED, wall_ms, virtual_s,
            wall_ms > 0 ? virtual_s / (wall_ms / 1e3) : 0.0, tally.fails,
            rc == SIM_OK ? "" : " error=sweep-incomplete");
    fflush(out);
    free(jobs);
}
