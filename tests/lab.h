/* lab: the graded-test registry and the runner core shared by the Raft and kvraft suites.
 *
 * A graded test is a `struct lab_test` in a static const table; its body runs as a sim task
 * (straight-line blocking code, like the Go test function). lab_run builds a fresh sim for one
 * (test, seed), runs the body to completion or failure within a virtual-time cap, prints the
 * 6.824-shaped lines and fills a result. The runner tool (tools/), the Check suites and
 * `make grade` all go through lab_run, so a failure is reported the same way everywhere:
 *
 *   --- FAIL: TestFigure8Unreliable3C (seed 1234567)
 *       at 37.214s virtual, node 3: committed values do not match at index 212 (...)
 *       replay: build/labsim replay TestFigure8Unreliable3C --seed 1234567
 *
 * Invariants: a run reads nothing outside its sim (no wall clock, no environment); the same
 * (test, seed, build) gives the same digest.
 */
#ifndef LAB_H
#define LAB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../src/sim.h"

#define LAB_MSG_MAX 512u
#define LAB_DEFAULT_SEED 1u

struct lab_ctx;

typedef void (*lab_test_fn)(struct lab_ctx *ctx);

struct lab_test {
    const char *name;  /* Go function name, e.g. "TestInitialElection3A" */
    const char *part;  /* "3A" .. "3D", "4A", "4B" */
    const char *title; /* one-line description (the first printed title) */
    lab_test_fn fn;
};

/* All graded tests, in catalogue order (3A..3D, then 4A, 4B). */
const struct lab_test *lab_tests(size_t *count);
/* Exact name match, or NULL. */
const struct lab_test *lab_test_find(const char *name);

/* Per-suite tables, concatenated by lab_tests. */
extern const struct lab_test lab_raft_tests[];
extern const size_t lab_raft_tests_count;
extern const struct lab_test lab_kv_tests[];
extern const size_t lab_kv_tests_count;

enum lab_outcome {
    LAB_PASS = 0,
    LAB_FAIL = 1,
    LAB_UNKNOWN = 2, /* passed its checks, but a linearizability check ran out of budget */
};

struct lab_opts {
    FILE *out;               /* 6.824 lines and failure reports; NULL = silent */
    const char *trace_path;  /* write the trace here after the run (NULL = none) */
    uint32_t trace_topics;   /* topic mask to record when trace_path is set */
    const char *replay_cmd;  /* program path used in "replay:" lines; NULL = build/labsim */
    const char *artifact_dir;/* where failure artifacts (HTML) go; NULL = build/artifacts */
};

struct lab_result {
    enum lab_outcome outcome;
    uint64_t seed;
    uint64_t digest;         /* sim_digest at the end of the run */
    sim_time_us virtual_us;  /* virtual time at the end */
    uint64_t events;         /* kernel events run */
    int fail_node;           /* node named in the failure, SIM_NODE_NONE if none */
    sim_time_us fail_at_us;
    char message[LAB_MSG_MAX]; /* failure message in the 6.824 wording, or "" */
    char artifact[256];        /* path of a failure artifact (HTML), or "" */
    uint32_t passed_lines;     /* "... Passed" lines printed */
};

/* Runs one test on one seed. Returns 0, or SIM_ENOMEM when the sim could not be built. */
int lab_run(const struct lab_test *test, uint64_t seed, const struct lab_opts *opts,
            struct lab_result *result);

/* ---------------------------------------------------------------- for test bodies */

struct sim *lab_sim(struct lab_ctx *ctx);
uint64_t lab_seed(const struct lab_ctx *ctx);
FILE *lab_out(const struct lab_ctx *ctx);
const struct lab_opts *lab_opts(const struct lab_ctx *ctx);

/* Fails the test: records the message (first failure wins), stops the sim, and, when called
 * from a task, ends that task at once (like t.Fatalf). From an event callback it returns after
 * stopping the sim; the caller should return promptly. */
void lab_fatalf(struct lab_ctx *ctx, int node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool lab_failed(const struct lab_ctx *ctx);

/* Records a linearizability verdict of UNKNOWN (budget ran out) for the summary. */
void lab_set_unknown(struct lab_ctx *ctx, const char *why);
/* Records the path of a failure artifact (HTML visualisation). */
void lab_set_artifact(struct lab_ctx *ctx, const char *path);

/* Suite-specific state hung off the run (the Raft or KV config). */
void lab_set_user(struct lab_ctx *ctx, void *user);
void *lab_user(const struct lab_ctx *ctx);

/* Prints "Test (<part>): <title> ..." (cfg.begin) and the Passed line (cfg.end), with virtual
 * seconds. `counts` is the already-formatted tail, e.g. "3   54   14100    0". */
void lab_begin(struct lab_ctx *ctx, const char *title);
void lab_passed(struct lab_ctx *ctx, double virtual_s, const char *counts);

#endif /* LAB_H */
