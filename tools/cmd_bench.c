/* cmd_bench: `labsim bench` (make bench). Prints this machine's figures as machine-readable
 * "bench ..." lines: kernel events/s, simulated RPCs/s, labgob sizes, checker times on the
 * porcupine data, and the wall time of one seed of each graded suite (lab 1 first) with its
 * virtual-to-wall ratio. Nothing here is a test: no figure is compared with a limit. Exit
 * status: 0, or 2 for bad arguments or an unreadable --data directory (checked up front). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "bench.h"
#include "cmds.h"
#include "lab.h"

/* Runs every graded test whose part starts with `prefix` on one seed, silently. */
static void bench_suite(FILE *out, const char *prefix, uint64_t seed)
{
    double wall_ms = 0;
    double virtual_s = 0;
    double lin_ms = 0;
    unsigned lin_checks = 0;
    unsigned passed = 0;
    unsigned ran = 0;
    for (size_t i = 0; i < lab_tests_count(); i++) {
        const struct lab_test *test = lab_test_at(i);
        if (strncmp(test->part, prefix, strlen(prefix)) != 0) continue;
        struct lab_opts opts = {.wall_ms = bench_wall_ms};
        struct lab_result res;
        double t0 = bench_wall_ms();
        lab_run(test, seed, &opts, &res);
        wall_ms += bench_wall_ms() - t0;
        virtual_s += (double)res.virtual_us / 1e6;
        lin_ms += res.lin_wall_ms;
        lin_checks += res.lin_checks;
        ran++;
        passed += res.outcome == LAB_PASS;
    }
    fprintf(out,
            "bench suite lab=%s tests=%u passed=%u seed=%llu wall_ms=%.1f virtual_s=%.1f "
            "virtual_per_wall=%.0f lin_checks=%u lin_ms=%.1f\n",
            prefix, ran, passed, (unsigned long long)seed, wall_ms, virtual_s,
            wall_ms > 0 ? virtual_s / (wall_ms / 1e3) : 0.0, lin_checks, lin_ms);
}

static void bench_usage(FILE *out)
{
    fprintf(out, "usage: labsim bench [--data PORCUPINE_DIR]\n"
                 "  --data  the porcupine histories with their expected.tsv (default\n"
                 "          tests/data/porcupine, relative to the repository root)\n");
}

/* Parses the arguments and checks the data directory up front; returns -1 to go on, else the
 * exit code (0 after --help, 2 after one line on stderr). */
static int bench_parse_args(int argc, char **argv, const char **data_dir)
{
    bool help = false;
    const struct args_flag flags[] = {
        {"data", ARGS_STR, data_dir, NULL},
        {"help", ARGS_BOOL, &help, NULL},
    };
    const char *positional[1];
    size_t positional_count = 0;
    char err[ARGS_ERR_MAX];
    if (args_parse(argc, argv, flags, sizeof(flags) / sizeof(flags[0]), positional, 0,
                   &positional_count, err, sizeof(err)) != 0) {
        fprintf(stderr, "labsim bench: %s (try 'labsim bench --help')\n", err);
        return 2;
    }
    if (help) {
        bench_usage(stdout);
        return 0;
    }
    /* The checker figures need DIR/expected.tsv: fail now, not after the other benchmarks. */
    char path[1024];
    snprintf(path, sizeof(path), "%s/expected.tsv", *data_dir);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "labsim bench: --data %s: cannot read '%s': %s\n", *data_dir, path,
                strerror(errno));
        return 2;
    }
    fclose(f);
    return -1;
}

int cmd_bench(const struct labsim_cli *cli, int argc, char **argv)
{
    (void)cli;
    const char *data_dir = "tests/data/porcupine"; /* make bench runs from the root */
    int code = bench_parse_args(argc, argv, &data_dir);
    if (code >= 0) return code;
    FILE *out = stdout;
    bench_sim(out);
    bench_rpc(out);
    bench_gob(out);
    bench_trace(out);
    bench_lin(out, data_dir);
    bench_suite(out, "1", LAB_DEFAULT_SEED);
    bench_suite(out, "2", LAB_DEFAULT_SEED);
    bench_parts(out, "1,2");
    bench_suite(out, "3", LAB_DEFAULT_SEED);
    bench_suite(out, "4", LAB_DEFAULT_SEED);
    bench_suite(out, "5", LAB_DEFAULT_SEED);
    bench_kv(out);
    bench_sweep(out);
    bench_explore(out);
    return 0;
}
