/* runner: the sweep engine behind `labsim run`, `labsim check-determinism` and the sweep
 * benchmark: an ordered list of (test, seed) jobs, run in this process or spread over forked
 * worker processes, with results handed back in job order.
 *
 * Each job is one lab_run, single-threaded and deterministic, whatever process runs it: the
 * worker processes only decide where a job runs, never what it does. A worker captures the
 * job's 6.824 output in memory and sends it back over a pipe with the result; the parent hands
 * results to the caller strictly in job order, so the printed output of a sweep is the same
 * for --jobs 1 and --jobs 8. A worker that dies (an assertion aborts it) fails its job with a
 * report saying so, and a fresh worker takes its place. A caller that must survive a crashing
 * run (the explorer's shrinker) asks for a worker even for one job (`isolate`), for the dying
 * worker's last words (`capture_stderr`) and for a CPU-time limit per job (`job_cpu_s`).
 *
 * Invariants:
 *  1. Every job is delivered at most once, in increasing job index; without stop_on_fail every
 *     job is delivered exactly once.
 *  2. At most one job is in flight per worker, so the small command pipe never fills.
 */
#ifndef TOOLS_RUNNER_H
#define TOOLS_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lab.h"

#define RUNNER_JOBS_MAX (1u << 24) /* (test, seed) pairs in one sweep */
#define RUNNER_WORKERS_MAX 256u    /* --jobs */
#define RUNNER_TEXT_MAX (1u << 20) /* bytes of one run's output kept */
#define RUNNER_DEFAULT_REPLAY "build/labsim"
#define RUNNER_STDERR_TAIL 8192u /* bytes of a dead worker's stderr kept in its job's report */

struct runner_job {
    const struct lab_test *test;
    uint64_t seed;
};

/* What came back for one job. `text` is the run's captured output (6.824 lines, failure
 * report), NUL-terminated, owned by the runner and valid only during the delivery callback. */
struct runner_result {
    size_t job; /* index into the job list */
    const struct lab_test *test;
    uint64_t seed;
    int rc; /* lab_run's return code, or SIM_EIO when the worker died */
    enum lab_outcome outcome;
    uint64_t digest;
    uint64_t virtual_us;
    uint64_t events;
    uint64_t wall_us; /* wall time of the run (reported, never used by a run) */
    uint64_t cpu_us;  /* CPU time of the run (reported, never used by a run) */
    bool worker_died;
    const char *text;
    size_t text_len;
};

typedef void (*runner_deliver_cb)(const struct runner_result *result, void *arg);

struct runner_config {
    unsigned workers;       /* 1 = run in this process; 2.. = forked worker processes */
    bool stop_on_fail;      /* stop starting jobs after the first failed one */
    bool capture_passed;    /* keep the output of passing runs too (a failing run's is kept) */
    bool progress;          /* draw a progress line on stderr (call only when it is a TTY) */
    const char *replay_cmd; /* program in "replay:" lines; NULL = RUNNER_DEFAULT_REPLAY */
    const char *raft_opts;  /* lab_opts.raft_opts of every run (NULL = none) */
    const void *body_arg;   /* lab_opts.body_arg of every run (NULL = none); a forked worker
                               reads its copy, inherited at fork */
    bool isolate;           /* run in forked workers even when `workers` is 1 */
    bool capture_stderr;    /* forked workers write stderr to a scratch file, not the caller's;
                               a dead worker's job report ends with the last RUNNER_STDERR_TAIL
                               bytes its job wrote there (the assertion that killed it) */
    unsigned job_cpu_s;     /* forked workers: a job that uses more than this many seconds of
                               CPU is killed (SIGXCPU, RLIMIT_CPU) and reported so; 0 = no
                               limit. CPU time, not wall time: a loaded machine slows a run but
                               does not make it look hung. It never reaches a run: it only ends
                               the process. */
};

struct runner_stats {
    size_t delivered;
    size_t failed;
    size_t not_started; /* jobs skipped after a failure with stop_on_fail */
    uint64_t wall_us;   /* the whole sweep */
};

/* Runs the jobs and calls deliver(result, arg) for each, in job order. Returns 0, or SIM_ENOMEM
 * / SIM_EIO when the sweep itself could not run (memory, pipes, fork); then `stats` says how
 * far it got. */
int runner_sweep(const struct runner_job *jobs, size_t count, const struct runner_config *config,
                 runner_deliver_cb deliver, void *arg, struct runner_stats *stats);

/* Longest item of a comma-separated pattern; a longer item selects nothing. */
#define RUNNER_PATTERN_MAX 128

/* True when `test` is selected by `pattern`: "all", its exact name, its part ("3A", "3a"), a
 * shell glob over names ("TestFigure8*"), or a comma-separated list of those ("1,2"). */
bool runner_selects(const struct lab_test *test, const char *pattern);

/* Wall-clock microseconds from CLOCK_MONOTONIC (reported only, never read by a run). */
uint64_t runner_wall_us(void);

/* Writes `text` escaped for XML character data and attribute values. */
void runner_xml_escape(FILE *out, const char *text);

#endif /* TOOLS_RUNNER_H */
