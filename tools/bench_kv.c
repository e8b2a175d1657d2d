/* bench_kv: kvraft throughput in virtual time with and without RAFT_OPT_PIPELINE (issue 15),
 * for `labsim bench`:
 *   bench kvspeed  TestSpeed4A and TestSpeed4B (one sequential clerk, the lab's speed tests):
 *                  the ops per virtual second of their Passed line;
 *   bench kvclerks the concurrent-clerks workload of tests/raftext/ext_pipe_kv.c, on the
 *                  default network and on one with a 10 ms hop (a wide-area link).
 * Each line once with no Raft option and once with "pipeline", seed 1. These are virtual-time
 * figures: the same on every machine, and not a test (nothing is compared with a limit; a
 * failing run shows as outcome=fail). README's "Batching and pipelining" explains them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "ext_pipe.h"
#include "lab.h"

#define BENCH_KV_CLERKS 10
#define BENCH_KV_CLERK_OPS 50

/* Runs `test` once and returns the number just before `marker` in its output (the Passed
 * line's "ops/s", the workload's "ops_per_s="), 0 when absent. */
static double kv_run(const struct lab_test *test, const char *raft_opts, const void *body_arg,
                     const char *marker, bool marker_before, enum lab_outcome *outcome)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    struct lab_opts opts = {.out = mem, .raft_opts = raft_opts, .body_arg = body_arg};
    struct lab_result res;
    lab_run(test, LAB_DEFAULT_SEED, &opts, &res);
    *outcome = res.outcome;
    double value = 0;
    if (mem != NULL) fclose(mem);
    const char *at = text != NULL ? strstr(text, marker) : NULL;
    if (at != NULL && marker_before) {
        value = strtod(at + strlen(marker), NULL);
    } else if (at != NULL) {
        const char *p = at;
        while (p > text && p[-1] == ' ')
            p--;
        while (p > text && (p[-1] == '.' || (p[-1] >= '0' && p[-1] <= '9')))
            p--;
        value = strtod(p, NULL);
    }
    free(text);
    return value;
}

static const char *opts_name(const char *raft_opts)
{
    return raft_opts != NULL ? raft_opts : "none";
}

void bench_kv(FILE *out)
{
    static const char *const speed_tests[] = {"TestSpeed4A", "TestSpeed4B"};
    static const char *const opts[] = {NULL, "pipeline"};
    enum lab_outcome outcome;
    for (size_t t = 0; t < 2; t++) {
        const struct lab_test *test = lab_test_find(speed_tests[t]);
        for (size_t o = 0; o < 2 && test != NULL; o++) {
            double ops = kv_run(test, opts[o], NULL, "ops/s", false, &outcome);
            fprintf(out, "bench kvspeed test=%s raft_opts=%s ops_per_virtual_s=%.1f outcome=%s\n",
                    test->name, opts_name(opts[o]), ops, outcome == LAB_PASS ? "pass" : "fail");
            fflush(out);
        }
    }
    const struct lab_test clerks = {"PipelineClerks", LAB_PART_EXT,
                                    "concurrent clerks append (benchmark)", ext_pipe_kv_clerks};
    static const uint64_t hops_us[] = {0, SIM_MS(10)};
    for (size_t h = 0; h < 2; h++) {
        struct ext_pipe_kv_params p = {BENCH_KV_CLERKS, BENCH_KV_CLERK_OPS, hops_us[h]};
        for (size_t o = 0; o < 2; o++) {
            double ops = kv_run(&clerks, opts[o], &p, "ops_per_s=", true, &outcome);
            fprintf(out,
                    "bench kvclerks clerks=%d ops=%d hop_us=%llu raft_opts=%s "
                    "ops_per_virtual_s=%.1f outcome=%s\n",
                    p.clerks, p.clerks * p.ops_per_clerk, (unsigned long long)p.hop_us,
                    opts_name(opts[o]), ops, outcome == LAB_PASS ? "pass" : "fail");
            fflush(out);
        }
    }
}
