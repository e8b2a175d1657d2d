/* cmd_check.c: `labsim check`, the command-line front end of the linearizability checker.
 *
 *   labsim check --model kv|kv-nopartition|etcd FILE [--html OUT] [--timeout S] [--steps N]
 *                [--all-partitions]
 *
 * Parses FILE (the Porcupine kv or Jepsen etcd format), checks it, prints the verdict with
 * the time taken and, on ILLEGAL, where it fails; --html writes the visualization. Exit code:
 * 0 OK, 1 ILLEGAL, 2 UNKNOWN (the --timeout or --steps budget ran out), 3 bad input (usage,
 * unreadable or malformed file, unwritable --html: one line naming the file, the line and the
 * problem, with the operating system's reason when a call failed). Flags are parsed by
 * args.c, as in the other commands.
 *
 * This is tools/ code, so it may read the wall clock: --timeout is implemented here through
 * the budget's should_stop callback; the checker itself only counts steps.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "cmds.h"
#include "lin.h"

#define EXIT_BAD_INPUT 3

struct check_args {
    const struct lin_model *model;
    enum lin_format format;
    const char *file;
    const char *html;
    double timeout_s; /* 0 = none */
    uint64_t steps_max;
    unsigned flags;
};

static double check_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool check_deadline_passed(void *arg)
{
    const double *deadline = arg;
    return check_now_s() >= *deadline;
}

static void check_usage(FILE *out)
{
    fprintf(out,
            "usage: labsim check --model kv|kv-nopartition|etcd FILE [--html OUT] [--timeout S]\n"
            "                    [--steps N] [--all-partitions]\n"
            "Checks a history for linearizability. Exit: 0 OK, 1 ILLEGAL, 2 UNKNOWN (budget ran\n"
            "out), 3 bad input.\n");
}

static int check_set_model(struct check_args *a, const char *name)
{
    if (strcmp(name, "kv") == 0) {
        a->model = &lin_model_kv;
        a->format = LIN_FORMAT_KV;
    } else if (strcmp(name, "kv-nopartition") == 0) {
        a->model = &lin_model_kv_nopartition;
        a->format = LIN_FORMAT_KV;
    } else if (strcmp(name, "etcd") == 0) {
        a->model = &lin_model_etcd;
        a->format = LIN_FORMAT_ETCD;
    } else {
        fprintf(stderr, "labsim check: unknown model '%s' (kv, kv-nopartition or etcd)\n", name);
        return -1;
    }
    return 0;
}

static int check_parse_seconds(const char *opt, const char *s, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v >= 0) || v > 1e12) {
        fprintf(stderr, "labsim check: flag %s needs seconds from 0 to 1e12, got '%s'\n", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Fills *a from argv with the shared strict parser (args.h: a repeated flag, a missing or
 * malformed value, an unknown flag is one line); returns 0, 1 for --help or -h, or -1 after
 * printing the problem. */
static int check_parse_args(int argc, char **argv, struct check_args *a)
{
    const char *model = NULL;
    const char *timeout = NULL;
    bool all_partitions = false;
    bool help = false;
    const struct args_flag flags[] = {
        {"model", ARGS_STR, &model, NULL},
        {"html", ARGS_STR, &a->html, NULL},
        {"timeout", ARGS_STR, &timeout, NULL},
        {"steps", ARGS_U64, &a->steps_max, NULL},
        {"all-partitions", ARGS_BOOL, &all_partitions, NULL},
        {"help", ARGS_BOOL, &help, NULL},
    };
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        if (strcmp(argv[i], "-h") == 0) return 1; /* the short spelling, as in export */
    }
    const char *positional[1];
    size_t positional_count = 0;
    char err[ARGS_ERR_MAX];
    if (args_parse(argc, argv, flags, sizeof(flags) / sizeof(flags[0]), positional, 1,
                   &positional_count, err, sizeof(err)) != 0) {
        fprintf(stderr, "labsim check: %s (try 'labsim check --help')\n", err);
        return -1;
    }
    if (help) return 1;
    if (all_partitions) a->flags |= LIN_CHECK_ALL_PARTITIONS;
    if (timeout != NULL && check_parse_seconds("--timeout", timeout, &a->timeout_s) != 0) return -1;
    if (model == NULL || positional_count == 0) {
        fprintf(stderr, "labsim check: need --model and FILE (try 'labsim check --help')\n");
        return -1;
    }
    a->file = positional[0];
    return check_set_model(a, model);
}

/* Checks the parsed history, prints the verdict line and the explanation; returns the exit
 * code. */
static int check_history(const struct check_args *a, const struct lin_history *h, double parse_ms)
{
    size_t ops_count = 0;
    const struct lin_op *ops = lin_history_ops(h, &ops_count);
    double deadline = 0;
    struct lin_budget budget = {a->steps_max, NULL, &deadline, 0};
    double start = check_now_s();
    if (a->timeout_s > 0) {
        deadline = start + a->timeout_s;
        budget.should_stop = check_deadline_passed;
    }
    struct lin_result *res = NULL;
    int rc = lin_check(a->model, ops, ops_count, &budget, a->flags, &res);
    double check_ms = (check_now_s() - start) * 1e3;
    if (rc < 0) {
        fprintf(stderr, "labsim check: %s: %s\n", a->file, lin_strerror(rc));
        return EXIT_BAD_INPUT;
    }
    printf("%s: %s (model %s, %zu ops, %zu partitions, %llu steps) check %.3f ms, parse %.3f ms\n",
           a->file, lin_verdict_name((enum lin_verdict)rc), a->model->name, ops_count,
           lin_result_parts_count(res), (unsigned long long)lin_result_steps(res), check_ms,
           parse_ms);
    if (rc != LIN_OK) lin_result_print(res, stdout);
    int exit_code = rc;
    if (a->html != NULL) {
        errno = 0;
        int hrc = lin_html_write(res, NULL, 0, a->html);
        if (hrc != 0) {
            /* LIN_EIO leaves errno as the failing call set it: say what really happened. */
            const char *why = hrc == LIN_EIO && errno != 0 ? strerror(errno) : lin_strerror(hrc);
            fprintf(stderr, "labsim check: cannot write %s: %s\n", a->html, why);
            exit_code = EXIT_BAD_INPUT;
        }
    }
    lin_result_free(res);
    return exit_code;
}

int cmd_check(const struct labsim_cli *cli, int argc, char **argv)
{
    (void)cli;
    struct check_args a = {0};
    int prc = check_parse_args(argc, argv, &a);
    if (prc < 0) return EXIT_BAD_INPUT;
    if (prc > 0) {
        check_usage(stdout);
        return 0;
    }
    struct lin_history *h = NULL;
    struct lin_parse_error err;
    double start = check_now_s();
    int rc = lin_history_read_file(a.format, a.file, &h, &err);
    double parse_ms = (check_now_s() - start) * 1e3;
    if (rc != 0) {
        if (err.line > 0)
            fprintf(stderr, "labsim check: %s:%zu: %s\n", err.file, err.line, err.message);
        else
            fprintf(stderr, "labsim check: %s: %s\n", err.file, err.message);
        return EXIT_BAD_INPUT;
    }
    int code = check_history(&a, h, parse_ms);
    lin_history_free(h);
    fflush(stdout);
    return code;
}
