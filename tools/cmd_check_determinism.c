/* cmd_check_determinism: `labsim check-determinism [PATTERN] [--seed S] [--seeds N] [--print]`,
 * the FoundationDB / madsim self-check: every selected (test, seed) runs twice in this process
 * and the two runs must agree on digest, outcome, event count and final virtual time. Running
 * both in one process also catches state that leaks from one run into the next (a mutable
 * static, a cache), which a fresh process per run would hide.
 *
 * A mismatch is printed loudly with both runs' numbers and the replay command, and the exit
 * status is 1. --print adds one line "digest TEST SEED HEX" per (test, seed) so two builds (-O2
 * and -O0, gcc and clang) can be compared with diff; everything on stdout is deterministic (no
 * wall time) so whole outputs compare. Exit status: 0 all equal, 1 a mismatch, 2 bad arguments.
 */
#include <inttypes.h>
#include <stdio.h>

#include "args.h"
#include "cmds.h"
#include "lab.h"
#include "runner.h"

#define DET_SEEDS_MAX 100000u

struct det_args {
    uint64_t seed;
    uint64_t seeds;
    bool print;
    bool help;
    const char *pattern;
};

static int det_parse(int argc, char **argv, struct det_args *a, char *err, size_t err_size)
{
    *a = (struct det_args){.seed = LAB_DEFAULT_SEED, .seeds = 1, .pattern = "all"};
    const struct args_flag flags[] = {
        {"seed", ARGS_U64, &a->seed, NULL},
        {"seeds", ARGS_U64, &a->seeds, NULL},
        {"print", ARGS_BOOL, &a->print, NULL},
        {"help", ARGS_BOOL, &a->help, NULL},
    };
    const char *positional[1];
    size_t positional_count = 0;
    if (args_parse(argc, argv, flags, sizeof(flags) / sizeof(flags[0]), positional, 1,
                   &positional_count, err, err_size) != 0)
        return -1;
    if (positional_count > 0) a->pattern = positional[0];
    if (a->seeds < 1 || a->seeds > DET_SEEDS_MAX) {
        snprintf(err, err_size, "--seeds must be between 1 and %u", DET_SEEDS_MAX);
        return -1;
    }
    /* The last seed, seed + seeds - 1, must fit: every uint64 seed is a valid first seed. */
    if (a->seeds - 1 > UINT64_MAX - a->seed) {
        snprintf(err, err_size,
                 "--seed %" PRIu64 " with --seeds %" PRIu64 " goes past the last seed %" PRIu64,
                 a->seed, a->seeds, UINT64_MAX);
        return -1;
    }
    return 0;
}

static bool det_same(const struct lab_result *a, const struct lab_result *b)
{
    return a->digest == b->digest && a->outcome == b->outcome && a->events == b->events &&
           a->virtual_us == b->virtual_us;
}

static void det_print_run(const char *which, const struct lab_result *r)
{
    printf("    %s run: digest %016" PRIx64 ", %s, %" PRIu64 " events, %.6f s virtual\n", which,
           r->digest, r->outcome == LAB_FAIL ? "FAIL" : "PASS", r->events,
           (double)r->virtual_us / (double)SIM_US_PER_S);
}

/* Runs (test, seed) twice; returns 0 when both agree, 1 on a mismatch or an error. */
static int det_check_one(const char *program, const struct lab_test *test, uint64_t seed,
                         bool print)
{
    struct lab_result first;
    struct lab_result second;
    int rc = lab_run(test, seed, NULL, &first);
    if (rc == SIM_OK) rc = lab_run(test, seed, NULL, &second);
    if (rc != SIM_OK) {
        printf("ERROR: %s seed %" PRIu64 ": cannot run: %s\n", test->name, seed, sim_strerror(rc));
        return 1;
    }
    if (print) printf("digest %s %" PRIu64 " %016" PRIx64 "\n", test->name, seed, first.digest);
    if (det_same(&first, &second)) return 0;
    printf("NONDETERMINISM: %s seed %" PRIu64 ": two runs of the same seed differ\n", test->name,
           seed);
    det_print_run("first ", &first);
    det_print_run("second", &second);
    printf("    replay: %s replay %s --seed %" PRIu64 " --trace FILE (twice, then diff)\n", program,
           test->name, seed);
    fflush(stdout);
    fprintf(stderr, "labsim check-determinism: NONDETERMINISM in %s seed %" PRIu64 "\n", test->name,
            seed);
    return 1;
}

int cmd_check_determinism(const struct labsim_cli *cli, int argc, char **argv)
{
    struct det_args a;
    char err[ARGS_ERR_MAX];
    if (det_parse(argc, argv, &a, err, sizeof(err)) != 0) {
        fprintf(stderr, "labsim check-determinism: %s\n", err);
        return 2;
    }
    if (a.help) {
        printf("usage: labsim check-determinism [PATTERN] [--seed S] [--seeds N] [--print]\n"
               "  PATTERN  tests as for labsim run (default all)\n"
               "  --seed   first seed (default %u); --seeds  seeds per test (default 1)\n"
               "  --print  print 'digest TEST SEED HEX' per (test, seed), to compare builds\n",
               LAB_DEFAULT_SEED);
        return 0;
    }
    size_t tests = 0;
    uint64_t pairs = 0;
    uint64_t bad = 0;
    for (size_t i = 0; i < lab_tests_count(); i++) {
        const struct lab_test *test = lab_test_at(i);
        if (!runner_selects(test, a.pattern)) continue;
        tests++;
        for (uint64_t k = 0; k < a.seeds; k++) { /* seed + k never wraps (det_parse) */
            bad += (uint64_t)det_check_one(cli->program, test, a.seed + k, a.print);
            pairs++;
        }
        fflush(stdout);
    }
    if (tests == 0) {
        fprintf(stderr, "labsim check-determinism: no test or part matches '%s'\n", a.pattern);
        return 2;
    }
    printf("check-determinism: %zu tests x %" PRIu64 " seeds: %" PRIu64 " of %" PRIu64
           " (test, seed) pairs ran twice with identical digests\n",
           tests, a.seeds, pairs - bad, pairs);
    if (bad > 0) printf("NONDETERMINISM FOUND in %" PRIu64 " pairs\n", bad);
    return bad == 0 ? 0 : 1;
}
