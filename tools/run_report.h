/* run_report: what `labsim run` makes of a sweep's results: the ordered 6.824 output, the
 * summary table per test, the closing lines, the failing-seeds file and the JUnit XML.
 *
 * The report receives results in job order (it is the runner's delivery callback) and keeps
 * only per-test counters and the failing (test, seed, digest) triples, so a sweep of a million
 * seeds costs memory only for its failures (plus one small record per run when JUnit output is
 * asked for).
 */
#ifndef TOOLS_RUN_REPORT_H
#define TOOLS_RUN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runner.h"

/* A digest recorded for a job (from a failing-seeds file), checked when the job is re-run. */
struct run_expect {
    bool has;
    uint64_t digest;
};

struct run_report;

/* `out` gets the output; `print_passed`: print passing runs' 6.824 lines too (else only
 * failures); `expect` (may be NULL) is parallel to the job list; `junit` keeps what JUnit XML
 * needs. Returns NULL when out of memory. */
struct run_report *run_report_new(FILE *out, bool print_passed, const struct run_expect *expect,
                                  bool junit);
void run_report_free(struct run_report *report);

/* The runner's delivery callback (arg is the report). */
void run_report_deliver(const struct runner_result *result, void *arg);

/* Prints the summary table, the totals line, `extra` (a line of context, may be NULL) and the
 * closing "N passed, M failed" line. */
void run_report_summary(const struct run_report *report, const struct runner_stats *stats,
                        unsigned workers, const char *extra);

size_t run_report_failed(const struct run_report *report);

/* Writes the failing (test, seed, digest) lines to `path` (a fresh file; "TEST SEED DIGEST" per
 * line, '#' comments), the input of `labsim run --from-file`. Returns 0 or -1 (errno set). */
int run_report_write_failing(const struct run_report *report, const char *path);

/* Writes the JUnit XML of every delivered run to `f`. Returns 0 or -1 on a write error. */
int run_report_write_junit(const struct run_report *report, FILE *f);

#endif /* TOOLS_RUN_REPORT_H */
