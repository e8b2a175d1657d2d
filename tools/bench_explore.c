/* bench_explore: the explorer's benchmark in `labsim bench`: 100 seeds of each target (raft,
 * kvraft, mr) run one after another in this process, printing "bench explore ..." lines with runs
 * per second of wall time and the virtual seconds and events behind them. A failing run is
 * counted (fails=), not judged: benchmarks assert nothing. */
#include <stdio.h>

#include "bench.h"
#include "explore.h"

#define EXPLORE_BENCH_SEEDS 100u

static void bench_target(FILE *out, enum explore_target target)
{
    const struct lab_test *test = explore_target_test(target);
    struct lab_opts opts = {.wall_ms = bench_wall_ms};
    double virtual_s = 0;
    unsigned long long events = 0;
    unsigned fails = 0;
    double t0_ms = bench_wall_ms();
    for (unsigned k = 0; k < EXPLORE_BENCH_SEEDS; k++) {
        struct lab_result res;
        if (lab_run(test, LAB_DEFAULT_SEED + k, &opts, &res) != SIM_OK) {
            fails++;
            continue;
        }
        fails += res.outcome == LAB_FAIL;
        virtual_s += (double)res.virtual_us / (double)SIM_US_PER_S;
        events += res.events;
    }
    double wall_ms = bench_wall_ms() - t0_ms;
    fprintf(out,
            "bench explore target=%s runs=%u wall_ms=%.1f runs_per_s=%.1f virtual_s=%.0f "
            "events=%llu fails=%u\n",
            explore_target_name(target), EXPLORE_BENCH_SEEDS, wall_ms,
            wall_ms > 0 ? EXPLORE_BENCH_SEEDS / (wall_ms / 1e3) : 0.0, virtual_s, events, fails);
    fflush(out);
}

void bench_explore(FILE *out)
{
    bench_target(out, EXPLORE_RAFT);
    bench_target(out, EXPLORE_KVRAFT);
    bench_target(out, EXPLORE_MR);
}
