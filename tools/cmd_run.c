/* cmd_run: `labsim run` (graded tests by name, part, glob or "all", over seeds, in parallel,
 * sharded) and `labsim replay` (one test on one seed, optionally writing its trace, checking
 * its digest). Both go through lab_run, so the output is the graded shape: the 6.824 lines,
 * failure reports with their replay command, and for run the summary table and a closing
 * "N passed, M failed" line. Exit status: 0 all passed, 1 some failed, 2 bad arguments.
 *
 * run builds the ordered list of (test, seed) jobs (tests in catalogue order, each over the
 * seeds asked for, or the pairs of a failing-seeds file), keeps the jobs of its shard (job k
 * belongs to shard k mod N), and hands them to the runner (runner.c), which runs them here or
 * in --jobs worker processes and delivers the results in job order to the report
 * (run_report.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "cmds.h"
#include "lab.h"
#include "lab_persist.h"
#include "run_report.h"
#include "runner.h"
#include "trace_check.h"
#include "trace_file.h"

#define RUN_SEEDS_MAX 1000000u
#define RUN_SHARDS_MAX 1000000u
#define RUN_LINE_MAX 512u
#define RUN_FAILING_NAME "failing-seeds.txt" /* beside the labsim binary that ran */

static void run_usage(FILE *out)
{
    fprintf(out,
            "usage: labsim run PATTERN [--seed S | --seeds N | --seed-range A..B] [--jobs J]\n"
            "                  [--shard I/N] [--stop-on-fail] [--junit FILE] [--verbose]\n"
            "                  [--failing-seeds FILE] [--raft-opts LIST]\n"
            "       labsim run --from-file FILE [same options, no seeds]\n"
            "  PATTERN          a test name (TestFigure83C), a part (1, 2, 3A .. 3D, 4A, 4B,\n"
            "                   5A .. 5C), a glob over names ('TestFigure8*'), all, or a\n"
            "                   comma-separated list of these (1,2)\n"
            "  --seed S         the seed, or the first seed with --seeds (default %u)\n"
            "  --seeds N        N consecutive seeds per test\n"
            "  --seed-range A..B  seeds A to B inclusive\n"
            "  --jobs J         run in J worker processes (default 1: in this process)\n"
            "  --shard I/N      run only jobs k with k mod N = I (0 <= I < N) of the ordered\n"
            "                   (test, seed) list, to spread a sweep over N machines\n"
            "  --stop-on-fail   start no more runs after the first failure\n"
            "  --junit FILE     write JUnit XML (one testcase per run)\n"
            "  --verbose        print every run's 6.824 lines (default when one seed per test)\n"
            "  --failing-seeds FILE  where failing (test, seed, digest) go (default: %s in\n"
            "                   the directory of this labsim binary, e.g. build/%s)\n"
            "  --from-file FILE re-run the (test, seed) pairs of a failing-seeds file\n"
            "  --raft-opts LIST Raft options, comma-separated: wal (the write-ahead-log\n"
            "                   persister on a simulated disk), disk-faults (with wal: crashes\n"
            "                   tear, drop and flip unsynced writes), wal-no-sync (unsafe twin),\n"
            "                   pre-vote, check-quorum (our Raft: thesis 9.6, 6.2; README\n"
            "                   \"Raft beyond the lab\"),\n"
            "                   membership (configuration entries and learners), member-unsafe\n"
            "                   (unsafe twin: changes of several servers at once),\n"
            "                   pipeline (several AppendEntries in flight per follower),\n"
            "                   read-index, lease-read (kvraft Gets without log entries),\n"
            "                   local-read (unsafe twin: Gets from a leader's local state), all\n",
            LAB_DEFAULT_SEED, RUN_FAILING_NAME, RUN_FAILING_NAME);
}

/* The seeds given on the command line: [first, first + count). */
struct run_seeds {
    uint64_t first;
    uint64_t count;
};

/* The options of one `labsim run`. */
struct run_args {
    const char *pattern;
    uint64_t seed;
    uint64_t seeds;
    const char *seed_range;
    uint64_t jobs;
    const char *shard;
    bool stop_on_fail;
    const char *junit;
    bool verbose;
    const char *failing_path;
    bool failing_seen;   /* --failing-seeds given (the default path only warns when unwritable) */
    const char *program; /* labsim as invoked: named in "replay:" lines */
    char failing_default[RUN_LINE_MAX]; /* RUN_FAILING_NAME beside `program` */
    const char *from_file;
    const char *raft_opts; /* --raft-opts, checked by lab_raft_opts_parse */
    bool help;
    bool seed_seen;
    bool seeds_seen;
    uint64_t shard_index;
    uint64_t shard_count;
};

/* Parses "A..B" (inclusive). */
static int run_parse_range(const char *text, struct run_seeds *seeds, char *err, size_t err_size)
{
    const char *dots = strstr(text, "..");
    char first[32];
    uint64_t a = 0;
    uint64_t b = 0;
    size_t len = dots != NULL ? (size_t)(dots - text) : 0;
    if (dots == NULL || len == 0 || len >= sizeof(first)) goto bad;
    memcpy(first, text, len);
    first[len] = '\0';
    if (!args_parse_u64(first, &a) || !args_parse_u64(dots + 2, &b)) goto bad;
    if (b < a) {
        snprintf(err, err_size, "--seed-range %s is empty (the end is below the start)", text);
        return -1;
    }
    if (b - a >= RUN_SEEDS_MAX) {
        snprintf(err, err_size, "--seed-range %s has more than %u seeds", text, RUN_SEEDS_MAX);
        return -1;
    }
    seeds->first = a;
    seeds->count = b - a + 1;
    return 0;
bad:
    snprintf(err, err_size, "--seed-range needs A..B with unsigned integers, got '%s'", text);
    return -1;
}

/* Parses "I/N" with 0 <= I < N. */
static int run_parse_shard(struct run_args *a, char *err, size_t err_size)
{
    const char *slash = strchr(a->shard, '/');
    char index[32];
    size_t len = slash != NULL ? (size_t)(slash - a->shard) : 0;
    if (slash != NULL && len > 0 && len < sizeof(index)) {
        memcpy(index, a->shard, len);
        index[len] = '\0';
        if (args_parse_u64(index, &a->shard_index) && args_parse_u64(slash + 1, &a->shard_count) &&
            a->shard_count >= 1 && a->shard_count <= RUN_SHARDS_MAX &&
            a->shard_index < a->shard_count)
            return 0;
    }
    snprintf(err, err_size, "--shard needs I/N with 0 <= I < N <= %u, got '%s'", RUN_SHARDS_MAX,
             a->shard);
    return -1;
}

/* Checks the combinations of flags and works out the seeds. */
static int run_check_args(struct run_args *a, size_t positional_count, struct run_seeds *seeds,
                          char *err, size_t err_size)
{
    if (a->from_file != NULL &&
        (positional_count > 0 || a->seed_seen || a->seeds_seen || a->seed_range != NULL)) {
        snprintf(err, err_size, "--from-file takes no PATTERN and no seed flags");
        return -1;
    }
    if (a->from_file == NULL && positional_count != 1) {
        snprintf(err, err_size, "missing PATTERN (a test name, a part, a glob or all)");
        return -1;
    }
    if (a->jobs < 1 || a->jobs > RUNNER_WORKERS_MAX) {
        snprintf(err, err_size, "--jobs must be between 1 and %u", RUNNER_WORKERS_MAX);
        return -1;
    }
    if (a->shard != NULL && run_parse_shard(a, err, err_size) != 0) return -1;
    unsigned raft_opts = 0;
    if (lab_raft_opts_parse(a->raft_opts, &raft_opts, err, err_size) != 0) return -1;
    if (a->seed_range != NULL) {
        if (a->seed_seen || a->seeds_seen) {
            snprintf(err, err_size, "--seed-range cannot be combined with --seed or --seeds");
            return -1;
        }
        return run_parse_range(a->seed_range, seeds, err, err_size);
    }
    if (a->seeds < 1 || a->seeds > RUN_SEEDS_MAX) {
        snprintf(err, err_size, "--seeds must be between 1 and %u", RUN_SEEDS_MAX);
        return -1;
    }
    /* The last seed, seed + seeds - 1, must fit: every uint64 seed is a valid first seed. */
    if (a->seeds - 1 > UINT64_MAX - a->seed) {
        snprintf(err, err_size,
                 "--seed %" PRIu64 " with --seeds %" PRIu64 " goes past the last seed %" PRIu64,
                 a->seed, a->seeds, UINT64_MAX);
        return -1;
    }
    seeds->first = a->seed;
    seeds->count = a->seeds;
    return 0;
}

static int run_parse_args(int argc, char **argv, struct run_args *a, struct run_seeds *seeds,
                          char *err, size_t err_size)
{
    *a = (struct run_args){.seed = LAB_DEFAULT_SEED, .seeds = 1, .jobs = 1, .failing_path = NULL};
    const struct args_flag flags[] = {
        {"seed", ARGS_U64, &a->seed, &a->seed_seen},
        {"seeds", ARGS_U64, &a->seeds, &a->seeds_seen},
        {"seed-range", ARGS_STR, &a->seed_range, NULL},
        {"jobs", ARGS_U64, &a->jobs, NULL},
        {"shard", ARGS_STR, &a->shard, NULL},
        {"stop-on-fail", ARGS_BOOL, &a->stop_on_fail, NULL},
        {"junit", ARGS_STR, &a->junit, NULL},
        {"verbose", ARGS_BOOL, &a->verbose, NULL},
        {"failing-seeds", ARGS_STR, &a->failing_path, &a->failing_seen},
        {"from-file", ARGS_STR, &a->from_file, NULL},
        {"raft-opts", ARGS_STR, &a->raft_opts, NULL},
        {"help", ARGS_BOOL, &a->help, NULL},
    };
    const char *positional[1];
    size_t positional_count = 0;
    if (args_parse(argc, argv, flags, sizeof(flags) / sizeof(flags[0]), positional, 1,
                   &positional_count, err, err_size) != 0)
        return -1;
    if (a->help) return 0;
    a->pattern = positional_count > 0 ? positional[0] : NULL;
    return run_check_args(a, positional_count, seeds, err, err_size);
}

/* The program that ran names the replay command, and its directory holds the default
 * failing-seeds file: build-mine/labsim writes build-mine/failing-seeds.txt. */
static void run_default_failing(struct run_args *a, const char *program)
{
    a->program = program;
    const char *slash = strrchr(program, '/');
    int dir_len = slash != NULL ? (int)(slash - program) + 1 : 0;
    snprintf(a->failing_default, sizeof(a->failing_default), "%.*s%s", dir_len, program,
             RUN_FAILING_NAME);
    if (a->failing_path == NULL) a->failing_path = a->failing_default;
}

/* ---------------------------------------------------------------- the job list */

static int run_jobs_pattern(const char *pattern, const struct run_seeds *seeds,
                            struct runner_job **jobs, size_t *count, char *err, size_t err_size)
{
    size_t selected = 0;
    for (size_t i = 0; i < lab_tests_count(); i++)
        selected += runner_selects(lab_test_at(i), pattern);
    if (selected == 0) {
        snprintf(err, err_size, "no test or part matches '%s' (see labsim list)", pattern);
        return -1;
    }
    if (seeds->count > RUNNER_JOBS_MAX / selected) {
        snprintf(err, err_size, "%zu tests x %" PRIu64 " seeds is more than %u runs", selected,
                 seeds->count, RUNNER_JOBS_MAX);
        return -1;
    }
    *count = selected * (size_t)seeds->count;
    *jobs = malloc(*count * sizeof(**jobs));
    if (*jobs == NULL) {
        snprintf(err, err_size, "out of memory for %zu runs", *count);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < lab_tests_count(); i++) {
        const struct lab_test *test = lab_test_at(i);
        for (uint64_t s = 0; s < seeds->count && runner_selects(test, pattern); s++)
            (*jobs)[k++] = (struct runner_job){.test = test, .seed = seeds->first + s};
    }
    return 0;
}

/* A failing-seeds file being read: the growing job list and its recorded digests. */
struct run_file {
    struct runner_job *jobs;
    struct run_expect *expect;
    size_t count;
    size_t cap;
};

static bool run_parse_digest(const char *text, uint64_t *digest)
{
    size_t len = strlen(text);
    if (len == 0 || len > 16 || strspn(text, "0123456789abcdefABCDEF") != len) return false;
    *digest = strtoull(text, NULL, 16);
    return true;
}

/* Parses one "TEST SEED [DIGEST]" line (already without its newline) into the list. */
static int run_file_line(struct run_file *rf, char *line, char *err, size_t err_size)
{
    char *save = NULL;
    char *name = strtok_r(line, " \t\r", &save);
    if (name == NULL || name[0] == '#') return 0;
    char *seed_text = strtok_r(NULL, " \t\r", &save);
    char *digest_text = strtok_r(NULL, " \t\r", &save);
    char *extra = strtok_r(NULL, " \t\r", &save);
    struct runner_job job = {.test = lab_test_find(name)};
    struct run_expect expect = {false, 0};
    if (job.test == NULL) return snprintf(err, err_size, "unknown test '%s'", name), -1;
    if (seed_text == NULL || !args_parse_u64(seed_text, &job.seed) || extra != NULL)
        return snprintf(err, err_size, "expected 'TEST SEED [DIGEST]'"), -1;
    if (digest_text != NULL && !run_parse_digest(digest_text, &expect.digest))
        return snprintf(err, err_size, "bad digest '%s' (up to 16 hex digits)", digest_text), -1;
    expect.has = digest_text != NULL;
    if (rf->count == rf->cap) {
        if (rf->count >= RUNNER_JOBS_MAX) return snprintf(err, err_size, "too many runs"), -1;
        size_t cap = rf->cap == 0 ? 64 : rf->cap * 2;
        struct runner_job *jobs = realloc(rf->jobs, cap * sizeof(*jobs));
        if (jobs != NULL) rf->jobs = jobs;
        struct run_expect *ex = realloc(rf->expect, cap * sizeof(*ex));
        if (ex != NULL) rf->expect = ex;
        if (jobs == NULL || ex == NULL) return snprintf(err, err_size, "out of memory"), -1;
        rf->cap = cap;
    }
    rf->jobs[rf->count] = job;
    rf->expect[rf->count++] = expect;
    return 0;
}

/* Reads a failing-seeds file (run_report_write_failing's format). */
static int run_jobs_file(const char *path, struct run_file *rf, char *err, size_t err_size)
{
    char detail[ARGS_ERR_MAX];
    char line[RUN_LINE_MAX + 2];
    uint64_t line_no = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        snprintf(err, err_size, "cannot read '%s': %s", path, strerror(errno));
        return -1;
    }
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
        line_no++;
        size_t len = strlen(line);
        if (len > 0 && line[len - 1] == '\n') {
            line[len - 1] = '\0';
        } else if (!feof(f)) {
            snprintf(detail, sizeof(detail), "line longer than %u bytes", RUN_LINE_MAX);
            rc = -1;
            break;
        }
        rc = run_file_line(rf, line, detail, sizeof(detail));
    }
    if (rc == 0 && ferror(f)) {
        snprintf(detail, sizeof(detail), "read error");
        rc = -1;
    }
    fclose(f);
    if (rc != 0) snprintf(err, err_size, "%s:%" PRIu64 ": %s", path, line_no, detail);
    return rc;
}

/* Keeps the jobs of shard `index` of `n`: job k when k mod n == index. */
static size_t run_shard(struct runner_job *jobs, struct run_expect *expect, size_t count,
                        uint64_t index, uint64_t n)
{
    size_t kept = 0;
    for (size_t k = 0; k < count; k++) {
        if (k % n != index) continue;
        jobs[kept] = jobs[k];
        if (expect != NULL) expect[kept] = expect[k];
        kept++;
    }
    return kept;
}

/* ---------------------------------------------------------------- run */

/* Writes the failing-seeds file and says where it went (in `note`, for the summary). */
static void run_save_failing(const struct run_report *report, const char *path, char *note,
                             size_t note_size)
{
    note[0] = '\0';
    if (run_report_write_failing(report, path) != 0) {
        fprintf(stderr, "labsim run: warning: cannot write the failing seeds to '%s': %s\n", path,
                strerror(errno));
        return;
    }
    if (run_report_failed(report) > 0)
        snprintf(note, note_size, "failing seeds written to %s (re-run: labsim run --from-file %s)",
                 path, path);
}

/* Builds the job list from the arguments; -1 with err set. */
static int run_build_jobs(const struct run_args *a, const struct run_seeds *seeds,
                          struct run_file *rf, char *err, size_t err_size)
{
    if (a->from_file != NULL) return run_jobs_file(a->from_file, rf, err, err_size);
    return run_jobs_pattern(a->pattern, seeds, &rf->jobs, &rf->count, err, err_size);
}

/* Runs the sweep and prints its report; returns the exit status. */
static int run_sweep_report(const struct run_args *a, const struct run_seeds *seeds,
                            struct run_file *rf, size_t total, FILE *junit)
{
    bool print_passed = a->verbose || a->from_file != NULL || seeds->count == 1;
    struct run_report *report = run_report_new(stdout, print_passed, rf->expect, junit != NULL);
    if (report == NULL) {
        fprintf(stderr, "labsim run: out of memory\n");
        return 1;
    }
    struct runner_config config = {.workers = (unsigned)a->jobs,
                                   .replay_cmd = a->program,
                                   .raft_opts = a->raft_opts,
                                   .stop_on_fail = a->stop_on_fail,
                                   .capture_passed = print_passed,
                                   .progress = isatty(STDERR_FILENO) && rf->count > 1};
    struct runner_stats stats;
    int rc = runner_sweep(rf->jobs, rf->count, &config, run_report_deliver, report, &stats);
    if (rc != SIM_OK) fprintf(stderr, "labsim run: the sweep stopped: %s\n", sim_strerror(rc));
    char note[2 * RUN_LINE_MAX] = "";
    run_save_failing(report, a->failing_path, note, sizeof(note));
    char shard[128] = "";
    if (a->shard != NULL)
        snprintf(shard, sizeof(shard), "shard %" PRIu64 "/%" PRIu64 ": %zu of %zu runs",
                 a->shard_index, a->shard_count, rf->count, total);
    char extra[4 * RUN_LINE_MAX];
    snprintf(extra, sizeof(extra), "%s%s%s", shard, shard[0] != '\0' && note[0] != '\0' ? "\n" : "",
             note);
    int status = rc != SIM_OK || run_report_failed(report) > 0 ? 1 : 0;
    if (junit != NULL && run_report_write_junit(report, junit) != 0) {
        fprintf(stderr, "labsim run: cannot write the JUnit file '%s'\n", a->junit);
        status = 1;
    }
    run_report_summary(report, &stats, config.workers, extra[0] != '\0' ? extra : NULL);
    run_report_free(report);
    return status;
}

int cmd_run(const struct labsim_cli *cli, int argc, char **argv)
{
    struct run_args a;
    struct run_seeds seeds = {0, 0};
    char err[ARGS_ERR_MAX + RUN_LINE_MAX];
    if (run_parse_args(argc, argv, &a, &seeds, err, sizeof(err)) != 0) {
        fprintf(stderr, "labsim run: %s\n", err);
        return 2;
    }
    run_default_failing(&a, cli->program);
    if (a.help) {
        run_usage(stdout);
        return 0;
    }
    struct run_file rf = {0};
    if (run_build_jobs(&a, &seeds, &rf, err, sizeof(err)) != 0) {
        fprintf(stderr, "labsim run: %s\n", err);
        free(rf.jobs);
        free(rf.expect);
        return 2;
    }
    size_t total = rf.count;
    if (a.shard != NULL)
        rf.count = run_shard(rf.jobs, rf.expect, rf.count, a.shard_index, a.shard_count);
    /* Output files named on the command line fail up front, before a sweep that may take
     * hours; the default failing-seeds file only warns afterwards (run_save_failing). */
    if (a.failing_seen && args_check_writable(a.failing_path, err, sizeof(err)) != 0) {
        fprintf(stderr, "labsim run: --failing-seeds: %s\n", err);
        free(rf.jobs);
        free(rf.expect);
        return 2;
    }
    FILE *junit = NULL;
    if (a.junit != NULL && (junit = fopen(a.junit, "w")) == NULL) {
        fprintf(stderr, "labsim run: cannot write '%s': %s\n", a.junit, strerror(errno));
        free(rf.jobs);
        free(rf.expect);
        return 2;
    }
    int status = run_sweep_report(&a, &seeds, &rf, total, junit);
    if (junit != NULL && fclose(junit) != 0 && status == 0) status = 1;
    free(rf.jobs);
    free(rf.expect);
    return status;
}

/* ---------------------------------------------------------------- replay */

static void replay_usage(FILE *out)
{
    fprintf(out, "usage: labsim replay TEST --seed S [--trace FILE] [--topics a,b]\n"
                 "                     [--expect-digest HEX] [--fs-out DIR] [--raft-opts LIST]\n"
                 "       labsim replay --check-trace FILE [--trace FILE2]\n"
                 "       labsim replay --schedule FILE   (an explorer schedule: labsim explore)\n"
                 "  --trace          write the run's trace to FILE\n"
                 "  --fs-out DIR     after the run, copy the files it left in its simulated\n"
                 "                   file system (lab 1: mr-out-*, mr-X-Y) into the existing\n"
                 "                   directory DIR\n"
                 "  --raft-opts LIST the Raft options of the run (see labsim run --help)\n"
                 "  --expect-digest  fail loudly unless the run's digest is HEX (the digest a\n"
                 "                   failing run or a trace header recorded)\n"
                 "  --check-trace F  replay the run trace F recorded (its test, seed) and fail\n"
                 "                   loudly unless the digest is the one in its header and\n"
                 "                   every event of F is the replay's (the first difference\n"
                 "                   is named)\n"
                 "  --topics         topics to record (default all):");
    for (int t = 0; t < SIM_TOPIC_COUNT; t++)
        fprintf(out, " %s", sim_topic_name((enum sim_topic)t));
    fprintf(out, "\n");
}

/* Parses "a,b,c" into a topic mask; -1 with err set on an unknown or empty name. */
static int replay_parse_topics(const char *text, uint32_t *mask, char *err, size_t err_size)
{
    char name[32];
    *mask = 0;
    for (const char *p = text;;) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof(name)) {
            snprintf(err, err_size, "bad --topics list '%s'", text);
            return -1;
        }
        memcpy(name, p, len);
        name[len] = '\0';
        int topic = strcmp(name, "all") == 0 ? -2 : sim_topic_parse(name);
        if (topic == -1) {
            snprintf(err, err_size, "unknown topic '%s' in --topics", name);
            return -1;
        }
        *mask |= topic == -2 ? SIM_TOPICS_ALL : SIM_TOPIC_BIT((unsigned)topic);
        if (p[len] == '\0') return 0;
        p += len + 1;
    }
}

struct replay_args {
    uint64_t seed;
    bool seed_seen;
    const char *trace;
    const char *topics;
    const char *expect_text;
    bool expect;
    uint64_t expect_digest;
    const char *check_trace; /* a recorded trace: its test, seed and digest */
    const char *fs_out;      /* a directory for the run's final files */
    const char *raft_opts;   /* --raft-opts, as for run */
    bool help;
};

static int replay_report(const struct lab_test *test, const struct replay_args *a,
                         const struct lab_result *result, int rc)
{
    printf("%s seed %" PRIu64 ": %s, %.3f s virtual, %" PRIu64 " events, digest %016" PRIx64 "\n",
           test->name, result->seed, result->outcome == LAB_FAIL ? "FAIL" : "PASS",
           (double)result->virtual_us / (double)SIM_US_PER_S, result->events, result->digest);
    int status = result->outcome == LAB_FAIL ? 1 : 0;
    if (rc == SIM_EIO) {
        if (a->trace != NULL)
            fprintf(stderr, "labsim replay: cannot write the trace to '%s'%s\n", a->trace,
                    a->fs_out != NULL ? " or the files to --fs-out" : "");
        else
            fprintf(stderr, "labsim replay: cannot write the files to '%s'\n", a->fs_out);
        status = 1;
    } else {
        if (a->trace != NULL) printf("trace written to %s\n", a->trace);
        if (a->fs_out != NULL) printf("files written to %s\n", a->fs_out);
    }
    if (a->expect && a->expect_digest != result->digest) {
        /* Loud on both streams: this run is not the run that was recorded. */
        printf("DIGEST MISMATCH: expected %016" PRIx64 ", got %016" PRIx64 "\n", a->expect_digest,
               result->digest);
        fflush(stdout);
        fprintf(stderr,
                "labsim replay: DIGEST MISMATCH: expected %016" PRIx64 ", got %016" PRIx64
                ": this is not the recorded run (another build, or nondeterminism)\n",
                a->expect_digest, result->digest);
        status = 1;
    } else if (a->expect) {
        printf("digest matches the expected %016" PRIx64 "\n", a->expect_digest);
    }
    return status;
}

static int replay_parse_args(int argc, char **argv, struct replay_args *a, const char **name,
                             char *err, size_t err_size)
{
    *a = (struct replay_args){.seed = LAB_DEFAULT_SEED};
    const struct args_flag flags[] = {
        {"seed", ARGS_U64, &a->seed, &a->seed_seen},
        {"trace", ARGS_STR, &a->trace, NULL},
        {"topics", ARGS_STR, &a->topics, NULL},
        {"expect-digest", ARGS_STR, &a->expect_text, &a->expect},
        {"check-trace", ARGS_STR, &a->check_trace, NULL},
        {"fs-out", ARGS_STR, &a->fs_out, NULL},
        {"raft-opts", ARGS_STR, &a->raft_opts, NULL},
        {"help", ARGS_BOOL, &a->help, NULL},
    };
    const char *positional[1];
    size_t positional_count = 0;
    if (args_parse(argc, argv, flags, sizeof(flags) / sizeof(flags[0]), positional, 1,
                   &positional_count, err, err_size) != 0)
        return -1;
    if (a->help) return 0;
    if (a->check_trace != NULL) {
        if (positional_count > 0 || a->seed_seen || a->expect) {
            snprintf(err, err_size,
                     "--check-trace takes the test, seed and digest from the "
                     "trace: no TEST, --seed or --expect-digest");
            return -1;
        }
        return 0;
    }
    if (positional_count != 1) {
        snprintf(err, err_size, "missing TEST (a test name, e.g. TestFigure83C)");
        return -1;
    }
    *name = positional[0];
    if (a->expect && !run_parse_digest(a->expect_text, &a->expect_digest)) {
        snprintf(err, err_size, "--expect-digest needs up to 16 hex digits, got '%s'",
                 a->expect_text);
        return -1;
    }
    if (a->topics != NULL && a->trace == NULL) {
        snprintf(err, err_size, "--topics needs --trace");
        return -1;
    }
    unsigned raft_opts = 0;
    return lab_raft_opts_parse(a->raft_opts, &raft_opts, err, err_size);
}

/* --check-trace: the test, seed and digest come from a trace's header; the test name is copied
 * into `title`. Returns 0 with *check open, or -1 after printing one line. */
static int replay_from_trace(struct replay_args *a, char *title, size_t title_size,
                             struct trace_check **check)
{
    struct trace_file_error err = {0, ""};
    const char *name = NULL;
    if (trace_check_open(a->check_trace, check, &err) != TRACE_FILE_OK) {
        trace_file_error_print(a->check_trace, &err);
        return -1;
    }
    bool complete = trace_check_header(*check, &name, &a->seed, &a->expect_digest);
    if (complete && lab_test_find(name) != NULL) {
        snprintf(title, title_size, "%s", name);
        a->expect = true;
        return 0;
    }
    trace_check_close(*check);
    *check = NULL;
    fprintf(stderr,
            "labsim replay: %s: the header does not name a graded test with its seed and digest\n",
            a->check_trace);
    return -1;
}

/* The run, through a session so that a trace check can watch its events. */
static int replay_run(const struct lab_test *test, uint64_t seed, const struct lab_opts *opts,
                      struct trace_check *check, struct lab_result *result)
{
    struct lab_session *session = NULL;
    memset(result, 0, sizeof(*result));
    result->seed = seed;
    int rc = lab_session_start(test, seed, opts, &session);
    if (rc != SIM_OK) return rc;
    if (check != NULL) trace_check_attach(check, lab_session_sim(session));
    lab_session_run(session, NULL, NULL);
    return lab_session_finish(session, result);
}

/* After the digest: the trace check's verdict. Returns the exit status. */
static int replay_check_report(struct trace_check *check, const char *path, int status)
{
    char msg[TRACE_CHECK_MSG_MAX];
    char summary[160];
    if (trace_check_finish(check, msg, sizeof(msg), summary, sizeof(summary))) {
        printf("trace matches the replay: %s\n", summary);
        return status;
    }
    /* Loud on both streams, like a digest mismatch. */
    printf("TRACE MISMATCH: %s\n", msg);
    fflush(stdout);
    fprintf(stderr,
            "labsim replay: TRACE MISMATCH: %s: %s is not this run's trace (changed, cut short or "
            "extended after it was written, another build, or nondeterminism)\n",
            msg, path);
    return 1;
}

/* Runs the replay (a trace check watching it when `check` is not NULL) and reports. Returns
 * the exit status. */
static int replay_checked(const struct labsim_cli *cli, struct replay_args *a, const char *name,
                          struct trace_check *check)
{
    char err[ARGS_ERR_MAX];
    const struct lab_test *test = lab_test_find(name);
    if (test == NULL) {
        fprintf(stderr, "labsim replay: unknown test '%s' (see labsim list)\n", name);
        return 2;
    }
    struct lab_opts opts = {.out = stdout,
                            .replay_cmd = cli->program,
                            .trace_path = a->trace,
                            .trace_topics = SIM_TOPICS_ALL};
    if (a->topics != NULL && replay_parse_topics(a->topics, &opts.trace_topics, err, sizeof(err))) {
        fprintf(stderr, "labsim replay: %s\n", err);
        return 2;
    }
    if (a->trace != NULL && args_check_writable(a->trace, err, sizeof(err)) != 0) {
        fprintf(stderr, "labsim replay: --trace: %s\n", err);
        return 2;
    }
    struct stat st;
    if (a->fs_out != NULL &&
        (stat(a->fs_out, &st) != 0 || !S_ISDIR(st.st_mode) || access(a->fs_out, W_OK) != 0)) {
        fprintf(stderr, "labsim replay: --fs-out: '%s' is not a writable directory\n", a->fs_out);
        return 2;
    }
    opts.fs_out_dir = a->fs_out;
    opts.raft_opts = a->raft_opts;
    struct lab_result result;
    int rc = replay_run(test, a->seed, &opts, check, &result);
    if (rc == SIM_ENOMEM) {
        fprintf(stderr, "labsim replay: %s\n", sim_strerror(rc));
        return 1;
    }
    int status = replay_report(test, a, &result, rc);
    return check != NULL ? replay_check_report(check, a->check_trace, status) : status;
}

int cmd_replay(const struct labsim_cli *cli, int argc, char **argv)
{
    for (int k = 1; k < argc; k++) {
        if (strncmp(argv[k], "--schedule", strlen("--schedule")) == 0)
            return explore_cmd_replay_schedule(cli, argc, argv);
    }
    struct replay_args a;
    const char *name = NULL;
    char err[ARGS_ERR_MAX];
    if (replay_parse_args(argc, argv, &a, &name, err, sizeof(err)) != 0) {
        fprintf(stderr, "labsim replay: %s\n", err);
        return 2;
    }
    if (a.help) {
        replay_usage(stdout);
        return 0;
    }
    char title[TRACE_FILE_TITLE_MAX];
    struct trace_check *check = NULL;
    if (a.check_trace != NULL) {
        if (replay_from_trace(&a, title, sizeof(title), &check) != 0) return 2;
        name = title;
    }
    int status = replay_checked(cli, &a, name, check);
    trace_check_close(check);
    return status;
}
