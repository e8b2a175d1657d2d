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

#include "sim.h"

#define LAB_MSG_MAX 512u
#define LAB_DEFAULT_SEED 1u

struct lab_ctx;

typedef void (*lab_test_fn)(struct lab_ctx *ctx);

struct lab_test {
    const char *name;  /* Go function name, e.g. "TestInitialElection3A" */
    const char *part;  /* "1", "2", "3A" .. "3D", "4A", "4B", "5A", "5B", "5C" (lab 5 challenges),
                        * or LAB_PART_EXT */
    const char *title; /* one-line description (the first printed title) */
    lab_test_fn fn;
};

/* The graded tests in catalogue order (1, 2, 3A..3D, 4A, 4B, 5A..5C): their number, and the i-th
 * one (NULL when i >= lab_tests_count()). The returned test lives in a static const table, so the
 * pointer is valid for the life of the program and is the same on every call. */
size_t lab_tests_count(void);
const struct lab_test *lab_test_at(size_t i);
/* Exact name match, or NULL. */
const struct lab_test *lab_test_find(const char *name);

/* Per-suite tables, concatenated in course order by lab_test_at (tests/harness/lab.c lists
 * them; a new lab's suite adds its table here and one line there). */
extern const struct lab_test lab_mr_tests[];
extern const size_t lab_mr_tests_count;
extern const struct lab_test lab_kvsrv_tests[];
extern const size_t lab_kvsrv_tests_count;
extern const struct lab_test lab_raft_tests[];
extern const size_t lab_raft_tests_count;
extern const struct lab_test lab_kv_tests[];
extern const size_t lab_kv_tests_count;
extern const struct lab_test lab_sc_tests[];
extern const size_t lab_sc_tests_count;
extern const struct lab_test lab_skv_tests[];
extern const size_t lab_skv_tests_count;
/* The scenario tests of labsim's own Raft options (tests/raftext/, raft/raft_ext.h): part
 * LAB_PART_EXT, after the labs. They are not lab tests: "all" (and so `make grade`) leaves them
 * out, and they need our Raft; `labsim run ext` runs them. */
#define LAB_PART_EXT "ext"
extern const struct lab_test lab_ext_tests[];
extern const size_t lab_ext_tests_count;

enum lab_outcome {
    LAB_PASS = 0,
    LAB_FAIL = 1,
    LAB_UNKNOWN = 2, /* passed its checks, but a linearizability check ran out of budget */
};

struct lab_opts {
    FILE *out;                /* 6.824 lines and failure reports; NULL = silent */
    const char *trace_path;   /* write the trace here after the run (NULL = none) */
    uint32_t trace_topics;    /* topic mask to record when trace_path is set */
    const char *replay_cmd;   /* program path used in "replay:" lines; NULL = build/labsim */
    const char *artifact_dir; /* where failure artifacts (HTML) go; NULL = build/artifacts */
    const char *fs_out_dir;   /* after the run, copy the sim's files here (NULL = none) */
    const char *raft_opts;    /* Raft options ("wal,disk-faults", lab_persist.h); NULL = none */
    /* A wall clock in milliseconds, supplied only by tools that report timings (make bench).
     * Runs never read the clock themselves; with NULL, wall-time figures stay 0. */
    double (*wall_ms)(void);
    /* Input for the test body beyond its seed (the explorer's schedule), read with
     * lab_body_arg; NULL for the graded tests. Borrowed for the run. */
    const void *body_arg;
};

struct lab_result {
    enum lab_outcome outcome;
    uint64_t seed;
    uint64_t digest;        /* sim_digest at the end of the run */
    sim_time_us virtual_us; /* virtual time at the end */
    uint64_t events;        /* kernel events run */
    int fail_node;          /* node named in the failure, SIM_NODE_NONE if none */
    sim_time_us fail_at_us;
    char message[LAB_MSG_MAX]; /* failure message in the 6.824 wording, or "" */
    char artifact[256];        /* path of a failure artifact (HTML), or "" */
    uint32_t passed_lines;     /* "... Passed" lines printed */
    uint32_t lin_checks;       /* linearizability checks run */
    double lin_wall_ms;        /* their wall time, when opts->wall_ms was given, else 0 */
};

/* Runs one test on one seed. Returns 0, SIM_ENOMEM when the sim could not be built, or SIM_EIO
 * when opts->trace_path or opts->fs_out_dir could not be written (the result is filled in
 * either case but the first). */
int lab_run(const struct lab_test *test, uint64_t seed, const struct lab_opts *opts,
            struct lab_result *result);

/* ---------------------------------------------------------------- sessions */

/* A session is one run driven piece by piece, for the study tools (labsim step). lab_run is
 * exactly lab_session_start + lab_session_run(NULL) + lab_session_finish, so a session that is
 * run to its end is the same run (same events, same digest) as lab_run on that seed.
 *
 * The run is "over" once the test body returned, a check failed, nothing is left that could
 * wake the body (reported as a failure), or the virtual-time cap was reached (a failure). */
struct lab_session;

/* Builds the sim for (test, seed) and spawns the body, running nothing yet. `opts` is copied
 * (its strings and stream are borrowed until lab_session_finish; NULL = silent). Returns 0
 * with *out set (the caller owns it and releases it with lab_session_finish), SIM_EINVAL on a
 * NULL test or out, or SIM_ENOMEM. */
int lab_session_start(const struct lab_test *test, uint64_t seed, const struct lab_opts *opts,
                      struct lab_session **out);

/* Runs events until the run is over or stop(sim, arg) holds (checked before each event and
 * after the last; NULL = run to the end). Returns true while the run is not over. */
bool lab_session_run(struct lab_session *session, sim_pred_fn stop, void *arg);
/* Runs the events due at or before `deadline_us` (absolute virtual time; capped at the run's
 * virtual-time cap) and leaves the clock there, unless the run ends first. Returns true while
 * the run is not over. */
bool lab_session_run_to(struct lab_session *session, sim_time_us deadline_us);
/* Runs exactly one kernel event (an event callback or a task slice), unless the run is over.
 * Returns true while the run is not over. */
bool lab_session_step(struct lab_session *session);
bool lab_session_over(const struct lab_session *session);
/* The session's sim (borrowed; for the clock, the trace listener and recording). */
struct sim *lab_session_sim(struct lab_session *session);
const struct lab_test *lab_session_test(const struct lab_session *session);

/* Prints node `node`'s state through the inspector the suite registered (lab_set_inspector).
 * Returns 0, SIM_EINVAL when no inspector is registered (yet) or the inspector rejects the
 * node. */
int lab_session_inspect(const struct lab_session *session, int node, FILE *out);

/* Ends the session: fills `result` (may be NULL), prints the failure report as lab_run does,
 * writes the trace when opts->trace_path was set, releases the suite state, the sim and the
 * session. A session that is not over is abandoned where it stands: its tasks never resume
 * (memory they allocated is not released) and SIM_ESTOPPED is returned. Otherwise returns 0 or
 * SIM_EIO when the trace could not be written. */
int lab_session_finish(struct lab_session *session, struct lab_result *result);

/* ---------------------------------------------------------------- crash reports */

/* A run's crash report (tests/harness/lab_crash.c): while armed, a fatal signal (segfault,
 * bus error, illegal instruction, arithmetic exception, abort) writes "--- CRASH: <test> (seed
 * <n>)", the virtual time and node context (sim_node_current) and the replay command to stderr
 * with async-signal-safe calls, then lets the signal take its course. lab_session_start arms it
 * for its sim, lab_session_finish disarms it; the handlers are installed on the first arm. */
void lab_crash_arm(const struct sim *sim, const char *test_name, uint64_t seed);
void lab_crash_disarm(const struct sim *sim);

/* ---------------------------------------------------------------- for test bodies */

struct sim *lab_sim(struct lab_ctx *ctx);
uint64_t lab_seed(const struct lab_ctx *ctx);
FILE *lab_out(const struct lab_ctx *ctx);
const struct lab_opts *lab_opts(const struct lab_ctx *ctx);
/* The Raft option list (lab_persist.h) persisters of this run are made with: the test's own
 * when it set one, else the run's --raft-opts (NULL = none). */
const char *lab_raft_opts(const struct lab_ctx *ctx);
/* A scenario test chooses its Raft options itself, whatever the run's --raft-opts: persisters
 * made from now on carry `raft_opts` (borrowed; NULL = back to the run's). */
void lab_raft_opts_set(struct lab_ctx *ctx, const char *raft_opts);
/* A membership scenario's first Raft voters (raft_options.voters_initial, bit per server) for
 * the persisters made from now on; 0 (the default) = every server. */
uint32_t lab_raft_voters(const struct lab_ctx *ctx);
void lab_raft_voters_set(struct lab_ctx *ctx, uint32_t voters_mask);
/* opts->body_arg (NULL when none). */
const void *lab_body_arg(const struct lab_ctx *ctx);

/* Fails the test: records the message (first failure wins), stops the sim, and, when called
 * from a task, ends that task at once (like t.Fatalf). From an event callback it returns after
 * stopping the sim; the caller should return promptly. */
void lab_fatalf(struct lab_ctx *ctx, int node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool lab_failed(const struct lab_ctx *ctx);

/* Records a linearizability verdict of UNKNOWN (budget ran out) for the summary. */
void lab_set_unknown(struct lab_ctx *ctx, const char *why);
/* For suites that run the linearizability checker: the wall clock from opts->wall_ms (0 when
 * none was given), and the accounting of one check for the result. */
double lab_wall_ms(const struct lab_ctx *ctx);
void lab_add_lin_check(struct lab_ctx *ctx, double wall_ms);

/* Records the path of a failure artifact (HTML visualisation). */
void lab_set_artifact(struct lab_ctx *ctx, const char *path);
/* The path recorded so far ("" when none), borrowed from ctx. */
const char *lab_artifact(const struct lab_ctx *ctx);

/* Like lab_fatalf, but never ends the calling task: records the failure (first one wins) and
 * stops the sim. For checks that run inside another module's code (apply callbacks, the event
 * hook), where unwinding the current task would leave that module half-way through. */
void lab_failf(struct lab_ctx *ctx, int node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Suite-specific state hung off the run (the Raft or KV config). */
void lab_set_user(struct lab_ctx *ctx, void *user);
void *lab_user(const struct lab_ctx *ctx);

/* Registers the function lab_run calls once the run is over (passed or failed, after the last
 * event, before the sim is freed) to release the suite state: servers may still be named by
 * pending events until then. NULL unregisters. */
typedef void (*lab_user_free_fn)(void *user);
void lab_set_user_free(struct lab_ctx *ctx, lab_user_free_fn free_fn);

/* Registers the suite's node inspector, which the study tools call between events to print
 * node `node`'s state (role, term, vote, log, commit/apply indices, ...) to `out`; `user` is
 * lab_user(ctx). It returns 0, or SIM_EINVAL when there is no such node. NULL unregisters. */
typedef int (*lab_inspect_fn)(void *user, int node, FILE *out);
void lab_set_inspector(struct lab_ctx *ctx, lab_inspect_fn inspect_fn);

/* Zeroed memory owned by the run, released by lab_session_finish after the suite state: for
 * state a body shares with events and hooks, which a failure (the body then never resumes)
 * must not leak. NULL when out of memory or when LAB_ALLOCS_MAX blocks were already given. */
#define LAB_ALLOCS_MAX 8u
void *lab_alloc(struct lab_ctx *ctx, size_t size);

/* Spawns a task for the test (a goroutine). Fails the test (lab_fatalf) when the sim cannot
 * take another task. */
struct sim_task *lab_go(struct lab_ctx *ctx, const char *name, sim_task_fn fn, void *arg);

/* Go's sync.WaitGroup for tasks. Caller-allocated; lab_waitgroup_wait must run in a task. */
struct lab_waitgroup {
    uint32_t count;
    struct sim_cond cond;
};
void lab_waitgroup_init(struct lab_waitgroup *wg);
void lab_waitgroup_add(struct lab_waitgroup *wg, uint32_t n);
void lab_waitgroup_done(struct sim *sim, struct lab_waitgroup *wg);
void lab_waitgroup_wait(struct sim *sim, struct lab_waitgroup *wg);

/* Prints "Test (<part>): <title> ..." (cfg.begin) and the Passed line (cfg.end), with virtual
 * seconds. `counts` is the already-formatted tail, e.g. "3   54   14100    0". */
void lab_begin(struct lab_ctx *ctx, const char *title);
void lab_passed(struct lab_ctx *ctx, double virtual_s, const char *counts);

#endif /* LAB_H */
