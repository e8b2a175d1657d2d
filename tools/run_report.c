/* run_report: the output of `labsim run` (see run_report.h).
 *
 * Layout of a run's output, top to bottom: each delivered run's captured text (passing runs
 * only when print_passed), notes about recorded digests that did not reproduce, the summary
 * table (one row per test that ran), one totals line, an optional context line, and last, alone
 * on its line, "N passed, M failed" (what `make grade` and scripts look at).
 */
#include "run_report.h"

#include "run_cpu.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_SEEDS_SHOWN 6u /* failing seeds listed per table row */

struct report_test {
    const struct lab_test *test;
    uint64_t runs;
    uint64_t fails;
    uint64_t virtual_us;
    uint64_t wall_us;
    uint64_t cpu_us;
};

struct report_fail {
    const struct lab_test *test;
    uint64_t seed;
    uint64_t digest;
    bool digest_known; /* false when the worker died before reporting */
};

/* One run, for JUnit. `text` is the failure report (malloc'd), NULL for a pass. */
struct report_run {
    const struct lab_test *test;
    uint64_t seed;
    uint64_t wall_us;
    enum lab_outcome outcome;
    char *text;
};

struct run_report {
    FILE *out;
    bool print_passed;
    const struct run_expect *expect;
    bool junit;
    struct report_test *tests; /* in order of first delivery (catalogue order for sweeps) */
    size_t tests_count;
    size_t tests_cap;
    uint64_t passed;
    uint64_t failed;
    uint64_t unknown;
    uint64_t virtual_us;
    struct report_fail *fails;
    size_t fails_count;
    size_t fails_cap;
    struct report_run *runs;
    size_t runs_count;
    size_t runs_cap;
    bool out_of_memory; /* some failure or JUnit record could not be kept */
};

struct run_report *run_report_new(FILE *out, bool print_passed, const struct run_expect *expect,
                                  bool junit)
{
    struct run_report *r = calloc(1, sizeof(*r));
    if (r == NULL) return NULL;
    r->out = out;
    r->print_passed = print_passed;
    r->expect = expect;
    r->junit = junit;
    return r;
}

void run_report_free(struct run_report *report)
{
    if (report == NULL) return;
    for (size_t i = 0; i < report->runs_count; i++)
        free(report->runs[i].text);
    free(report->runs);
    free(report->fails);
    free(report->tests);
    free(report);
}

size_t run_report_failed(const struct run_report *report)
{
    return (size_t)report->failed;
}

/* Returns `items` grown to hold one more of `size`-byte items (perhaps moved), or NULL when out
 * of memory (then the old array is still valid). */
static void *report_grow(void *items, size_t count, size_t *cap, size_t size)
{
    if (count < *cap) return items;
    size_t cap2 = *cap == 0 ? 64 : *cap * 2;
    void *p = realloc(items, cap2 * size);
    if (p == NULL) return NULL;
    *cap = cap2;
    return p;
}

static void report_keep_fail(struct run_report *r, const struct runner_result *res)
{
    struct report_fail *grown =
        report_grow(r->fails, r->fails_count, &r->fails_cap, sizeof(*r->fails));
    if (grown == NULL) {
        r->out_of_memory = true;
        return;
    }
    r->fails = grown;
    r->fails[r->fails_count++] =
        (struct report_fail){.test = res->test,
                             .seed = res->seed,
                             .digest = res->digest,
                             .digest_known = !res->worker_died && res->rc == SIM_OK};
}

static void report_keep_run(struct run_report *r, const struct runner_result *res)
{
    struct report_run *grown = report_grow(r->runs, r->runs_count, &r->runs_cap, sizeof(*r->runs));
    if (grown == NULL) {
        r->out_of_memory = true;
        return;
    }
    r->runs = grown;
    char *text = NULL;
    if (res->outcome == LAB_FAIL) {
        text = strdup(res->text);
        if (text == NULL) r->out_of_memory = true;
    }
    r->runs[r->runs_count++] = (struct report_run){.test = res->test,
                                                   .seed = res->seed,
                                                   .wall_us = res->wall_us,
                                                   .outcome = res->outcome,
                                                   .text = text};
}

/* The table row of a test, added on its first result; NULL when out of memory. */
static struct report_test *report_test_row(struct run_report *r, const struct lab_test *test)
{
    /* Rows are few (one per test) and a sweep delivers runs of one test in a row. */
    for (size_t i = r->tests_count; i > 0; i--) {
        if (r->tests[i - 1].test == test) return &r->tests[i - 1];
    }
    struct report_test *grown =
        report_grow(r->tests, r->tests_count, &r->tests_cap, sizeof(*r->tests));
    if (grown == NULL) {
        r->out_of_memory = true;
        return NULL;
    }
    r->tests = grown;
    r->tests[r->tests_count] = (struct report_test){.test = test};
    return &r->tests[r->tests_count++];
}

/* A run re-made from a failing-seeds file should be the recorded run, event for event. */
static void report_check_expect(const struct run_report *r, const struct runner_result *res)
{
    if (r->expect == NULL || !r->expect[res->job].has || res->worker_died || res->rc != SIM_OK)
        return;
    uint64_t want = r->expect[res->job].digest;
    if (want == res->digest) return;
    fprintf(r->out,
            "NOTE: %s seed %" PRIu64 " did not reproduce the recorded run: digest %016" PRIx64
            ", recorded %016" PRIx64 " (a changed build, or nondeterminism: see labsim "
            "check-determinism)\n",
            res->test->name, res->seed, res->digest, want);
}

void run_report_deliver(const struct runner_result *result, void *arg)
{
    struct run_report *r = arg;
    bool failed = result->outcome == LAB_FAIL;
    if (result->text_len > 0 && (failed || r->print_passed)) fputs(result->text, r->out);
    report_check_expect(r, result);
    struct report_test *t = report_test_row(r, result->test);
    if (t == NULL) return;
    t->runs++;
    t->fails += failed;
    t->virtual_us += result->virtual_us;
    t->wall_us += result->wall_us;
    t->cpu_us += result->cpu_us;
    r->virtual_us += result->virtual_us;
    if (failed) {
        r->failed++;
        report_keep_fail(r, result);
    } else {
        r->passed++;
        r->unknown += result->outcome == LAB_UNKNOWN;
    }
    if (r->junit) report_keep_run(r, result);
}

/* The failing seeds of catalogue test i, as " s1 s2 ... (+N more)". */
static void report_print_seeds(const struct run_report *r, const struct lab_test *test)
{
    uint32_t shown = 0;
    uint64_t more = 0;
    for (size_t k = 0; k < r->fails_count; k++) {
        if (r->fails[k].test != test) continue;
        if (shown < REPORT_SEEDS_SHOWN) {
            fprintf(r->out, " %" PRIu64, r->fails[k].seed);
            shown++;
        } else {
            more++;
        }
    }
    if (more > 0) fprintf(r->out, " (+%" PRIu64 " more)", more);
}

static void report_print_table(const struct run_report *r)
{
    int width = 34; /* the name column: the longest name that ran, at least this */
    for (size_t i = 0; i < r->tests_count; i++) {
        size_t len = strlen(r->tests[i].test->name);
        if (len > (size_t)width && len < 200) width = (int)len;
    }
    fprintf(r->out, "%-*s %-4s %7s %6s %11s %9s %8s %9s  %s\n", width, "test", "part", "runs",
            "fails", "virtual_s", "wall_s", "cpu_s", "ref_cpu_s", "failing seeds");
    for (size_t i = 0; i < r->tests_count; i++) {
        const struct report_test *t = &r->tests[i];
        const struct lab_test *test = t->test;
        uint64_t ref_us = run_cpu_ref_us(test->name);
        fprintf(r->out, "%-*s %-4s %7" PRIu64 " %6" PRIu64 " %11.1f %9.2f %8.2f", width, test->name,
                test->part, t->runs, t->fails, (double)t->virtual_us / (double)SIM_US_PER_S,
                (double)t->wall_us / 1e6, (double)t->cpu_us / 1e6);
        if (ref_us > 0)
            fprintf(r->out, " %9.2f", (double)(ref_us * t->runs) / 1e6);
        else
            fprintf(r->out, " %9s", "-");
        if (t->fails > 0) {
            fputc(' ', r->out);
            report_print_seeds(r, test);
        }
        fputc('\n', r->out);
    }
}

/* One warning line per test whose CPU time per run is far above the reference's (run_cpu.h). */
static void report_print_cpu_warnings(const struct run_report *r)
{
    for (size_t i = 0; i < r->tests_count; i++) {
        const struct report_test *t = &r->tests[i];
        if (t->runs == 0) continue;
        uint64_t ref_us = run_cpu_ref_us(t->test->name);
        uint64_t mean_us = t->cpu_us / t->runs;
        if (!run_cpu_far_above(mean_us, ref_us)) continue;
        fprintf(r->out,
                "warning: %s takes %.2f s of CPU per run, %.0fx the reference's %.2f s: virtual "
                "time does not charge for CPU, a real machine would (see \"CPU time\" in the "
                "README)\n",
                t->test->name, (double)mean_us / 1e6, (double)mean_us / (double)ref_us,
                (double)ref_us / 1e6);
    }
}

void run_report_summary(const struct run_report *report, const struct runner_stats *stats,
                        unsigned workers, const char *extra)
{
    const struct run_report *r = report;
    uint64_t runs = r->passed + r->failed;
    double wall_s = (double)stats->wall_us / 1e6;
    double virtual_s = (double)r->virtual_us / (double)SIM_US_PER_S;
    if (runs > 0) report_print_table(r);
    report_print_cpu_warnings(r);
    fprintf(r->out, "%" PRIu64 " runs, %.1f s virtual in %.2f s wall", runs, virtual_s, wall_s);
    if (wall_s > 0) {
        fprintf(r->out, " (%.0fx), %.1f seeds/s", virtual_s / wall_s, (double)runs / wall_s);
    }
    fprintf(r->out, ", %u job%s", workers, workers == 1 ? "" : "s");
    if (r->unknown > 0)
        fprintf(r->out, "; %" PRIu64 " with an unknown linearizability verdict", r->unknown);
    fputc('\n', r->out);
    if (stats->not_started > 0)
        fprintf(r->out, "stopped after a failure: %zu runs not started\n", stats->not_started);
    if (r->out_of_memory)
        fprintf(r->out, "warning: out of memory: some failures are missing from the lists\n");
    if (extra != NULL) fprintf(r->out, "%s\n", extra);
    fprintf(r->out, "%" PRIu64 " passed, %" PRIu64 " failed\n", r->passed, r->failed);
    fflush(r->out);
}

int run_report_write_failing(const struct run_report *report, const char *path)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) return -1;
    fprintf(f,
            "# labsim failing seeds: TEST SEED DIGEST per line.\n"
            "# Re-run them with: labsim run --from-file %s\n",
            path);
    for (size_t k = 0; k < report->fails_count; k++) {
        const struct report_fail *fail = &report->fails[k];
        fprintf(f, "%s %" PRIu64, fail->test->name, fail->seed);
        if (fail->digest_known) fprintf(f, " %016" PRIx64, fail->digest);
        fputc('\n', f);
    }
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad) {
        if (errno == 0) errno = EIO;
        return -1;
    }
    return 0;
}

int run_report_write_junit(const struct run_report *report, FILE *f)
{
    const struct run_report *r = report;
    double wall_s = 0;
    for (size_t i = 0; i < r->runs_count; i++)
        wall_s += (double)r->runs[i].wall_us / 1e6;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    fprintf(f,
            "<testsuites>\n  <testsuite name=\"labsim\" tests=\"%zu\" failures=\"%" PRIu64
            "\" errors=\"0\" time=\"%.3f\">\n",
            r->runs_count, r->failed, wall_s);
    for (size_t i = 0; i < r->runs_count; i++) {
        const struct report_run *run = &r->runs[i];
        fprintf(f,
                "    <testcase classname=\"labsim.%s\" name=\"%s seed %" PRIu64 "\" time=\"%.3f\"",
                run->test->part, run->test->name, run->seed, (double)run->wall_us / 1e6);
        if (run->outcome != LAB_FAIL) {
            fprintf(f, "/>\n");
            continue;
        }
        fprintf(f, ">\n      <failure message=\"%s seed %" PRIu64 " failed\">", run->test->name,
                run->seed);
        runner_xml_escape(f, run->text != NULL ? run->text : "");
        fprintf(f, "</failure>\n    </testcase>\n");
    }
    fprintf(f, "  </testsuite>\n</testsuites>\n");
    return ferror(f) ? -1 : 0;
}
