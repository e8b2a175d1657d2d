/* cmd_check.c: `labsim check`, the command-line front end of the linearizability checker.
 *
 *   labsim check --model kv|kv-nopartition|etcd FILE [--html OUT] [--timeout S] [--steps N]
 *                [--memory MB] [--all-partitions]
 *
 * Parses FILE (the Porcupine kv or Jepsen etcd format), checks it, prints the verdict with
 * the time taken and, on ILLEGAL, where it fails; --html writes the visualization. There is
 * always a budget: LIN_STEPS_DEFAULT steps and LIN_BYTES_DEFAULT bytes of search unless
 * --steps / --memory say otherwise (0 = unlimited), so that a hopeless history ends in
 * UNKNOWN rather than in the machine's out-of-memory. Exit code (CHECK_EXIT_*):
 * 0 OK, 1 ILLEGAL, 2 UNKNOWN (a budget ran out: steps, memory or --timeout; the verdict line
 * says which), 3 bad input (usage, unreadable or malformed file, unwritable --html: one line
 * naming the file, the line and the problem, with the operating system's reason when a call
 * failed), 4 resource limit (the history is valid but the checker cannot hold it: the file
 * is over LIN_FILE_SIZE_MAX, a fixed checker limit is passed, or an allocation failed, say
 * with --memory 0 on a small machine). Flags are parsed by args.c, as in the other commands.
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

#define CHECK_EXIT_BAD_INPUT 3
#define CHECK_EXIT_RESOURCE 4
#define CHECK_MB (1ull << 20)

struct check_args {
    const struct lin_model *model;
    enum lin_format format;
    const char *file;
    const char *html;
    double timeout_s; /* 0 = none */
    uint64_t steps_max;
    uint64_t memory_mb;
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
            "                    [--steps N] [--memory MB] [--all-partitions]\n"
            "Checks a history for linearizability. The search's budget is --steps N (default\n"
            "%llu) and --memory MB (default %llu, the checker's own count of its search\n"
            "tables); 0 lifts either limit; --timeout S adds a wall-clock limit.\n"
            "Exit: 0 OK, 1 ILLEGAL, 2 UNKNOWN (a budget ran out; the verdict line says which),\n"
            "3 bad input (usage, unreadable or malformed file, unwritable --html),\n"
            "4 resource limit (too large for the checker, or out of memory).\n",
            LIN_STEPS_DEFAULT, LIN_BYTES_DEFAULT / CHECK_MB);
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
        {"memory", ARGS_U64, &a->memory_mb, NULL},
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
    if (a->memory_mb > UINT64_MAX / CHECK_MB) {
        fprintf(stderr, "labsim check: flag --memory needs megabytes up to %llu\n",
                (unsigned long long)(UINT64_MAX / CHECK_MB));
        return -1;
    }
    if (model == NULL || positional_count == 0) {
        fprintf(stderr, "labsim check: need --model and FILE (try 'labsim check --help')\n");
        return -1;
    }
    a->file = positional[0];
    return check_set_model(a, model);
}

/* The exit code of a LIN_E* error: a history the checker cannot hold is not a bad one. */
static int check_exit_of_error(int err)
{
    return err == LIN_ENOMEM || err == LIN_ELIMIT ? CHECK_EXIT_RESOURCE : CHECK_EXIT_BAD_INPUT;
}

/* What the verdict line says of an early stop ("" for none). */
static const char *check_stop_text(enum lin_stop stop)
{
    switch (stop) {
    case LIN_STOP_NONE:
        return "";
    case LIN_STOP_STEPS:
        return "steps (--steps)";
    case LIN_STOP_MEMORY:
        return "memory (--memory)";
    case LIN_STOP_CALLBACK:
        return "time (--timeout)";
    }
    return "?";
}

/* Checks the parsed history, prints the verdict line and the explanation; returns the exit
 * code. */
static int check_history(const struct check_args *a, const struct lin_history *h, double parse_ms)
{
    size_t ops_count = 0;
    const struct lin_op *ops = lin_history_ops(h, &ops_count);
    double deadline = 0;
    struct lin_budget budget = {a->steps_max, NULL, &deadline, a->memory_mb * CHECK_MB};
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
        return check_exit_of_error(rc);
    }
    enum lin_stop stop = lin_result_stop(res);
    printf("%s: %s (model %s, %zu ops, %zu partitions, %llu steps, %.1f MB%s%s) check %.3f ms, "
           "parse %.3f ms\n",
           a->file, lin_verdict_name((enum lin_verdict)rc), a->model->name, ops_count,
           lin_result_parts_count(res), (unsigned long long)lin_result_steps(res),
           (double)lin_result_bytes_peak(res) / (double)CHECK_MB,
           stop != LIN_STOP_NONE ? "; budget ran out: " : "", check_stop_text(stop), check_ms,
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
            exit_code = CHECK_EXIT_BAD_INPUT;
        }
    }
    lin_result_free(res);
    return exit_code;
}

int cmd_check(const struct labsim_cli *cli, int argc, char **argv)
{
    (void)cli;
    struct check_args a = {0};
    a.steps_max = LIN_STEPS_DEFAULT;
    a.memory_mb = LIN_BYTES_DEFAULT / CHECK_MB;
    int prc = check_parse_args(argc, argv, &a);
    if (prc < 0) return CHECK_EXIT_BAD_INPUT;
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
        return check_exit_of_error(rc);
    }
    int code = check_history(&a, h, parse_ms);
    lin_history_free(h);
    fflush(stdout);
    return code;
}
