/* lab: the graded-test runner core (see lab.h).
 *
 * A run is a session (struct lab_session): lab_session_start builds a sim for (test, seed),
 * sets the replay hint, starts recording when a trace is asked for and spawns the test body as
 * a task; lab_session_run / lab_session_step drive the sim until the body returns, a check
 * fails (lab_fatalf / lab_failf stop the sim) or the virtual cap is reached; lab_session_finish
 * fills the result, prints the failure report in the DESIGN.md section 4 shape, writes the
 * trace, lets the suite release its state and frees the sim. lab_run is those three calls, so
 * the graded runner and the step tool share one code path.
 *
 * Invariants:
 *  1. The first failure wins: later failures of the same run change nothing.
 *  2. A failed run never prints a Passed line (lab_passed checks lab_failed, as Go's end()
 *     checks t.Failed()).
 *  3. Suite state is released by the registered free function after the last event ran, never
 *     while an event may still name it.
 */
#include "lab.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The hard virtual-time cap of one run. The tests' own 120 s check (checkTimeout) is separate
 * and stricter; this only guarantees that a run ends. */
#define LAB_VIRTUAL_CAP_US SIM_S(300)
/* Records kept when a trace is asked for. */
#define LAB_TRACE_RECORDS_MAX (1u << 20)
#define LAB_REPLAY_MAX 512u
#define LAB_DEFAULT_REPLAY_CMD "build/labsim"

struct lab_ctx {
    struct sim *sim;
    const struct lab_test *test;
    const struct lab_opts *opts;
    const char *raft_opts; /* a scenario test's own Raft options (lab_raft_opts_set), or NULL */
    uint32_t raft_voters;  /* a scenario's first Raft voters (lab_raft_voters_set); 0 = all */
    uint64_t seed;
    bool body_done; /* the body function returned */
    bool failed;
    bool unknown;
    int fail_node;
    sim_time_us fail_at_us;
    char message[LAB_MSG_MAX];
    char artifact[256];
    uint32_t passed_lines;
    void *user;
    lab_user_free_fn user_free;
    lab_inspect_fn inspect;
    uint32_t lin_checks;
    double lin_wall_ms;
    void *allocs[LAB_ALLOCS_MAX]; /* lab_alloc */
    uint32_t allocs_count;
};

struct lab_session {
    struct lab_ctx ctx;
    struct lab_opts opts; /* the caller's options, copied; ctx.opts points here */
    bool over;
};

/* Harness trace kinds (ids 400-409 belong to this file). */
static const struct sim_trace_kind lab_kind_begin = {400, SIM_TOPIC_TEST, "test.begin", {NULL}};
static const struct sim_trace_kind lab_kind_passed = {
    401, SIM_TOPIC_TEST, "test.passed", {"virtual_ms", NULL}};
static const struct sim_trace_kind lab_kind_fail = {402, SIM_TOPIC_TEST, "test.fail", {NULL}};

/* ---------------------------------------------------------------- registry */

/* One line per lab's suite, in course order; lab_test_at indexes them as if concatenated. */
struct lab_suite {
    const struct lab_test *tests;
    const size_t *count;
};
static const struct lab_suite lab_suites[] = {
    {lab_mr_tests, &lab_mr_tests_count},     {lab_kvsrv_tests, &lab_kvsrv_tests_count},
    {lab_raft_tests, &lab_raft_tests_count}, {lab_kv_tests, &lab_kv_tests_count},
    {lab_sc_tests, &lab_sc_tests_count},     {lab_skv_tests, &lab_skv_tests_count},
    {lab_ext_tests, &lab_ext_tests_count},
};
#define LAB_SUITES_COUNT (sizeof(lab_suites) / sizeof(lab_suites[0]))

size_t lab_tests_count(void)
{
    size_t count = 0;
    for (size_t s = 0; s < LAB_SUITES_COUNT; s++)
        count += *lab_suites[s].count;
    return count;
}

const struct lab_test *lab_test_at(size_t i)
{
    for (size_t s = 0; s < LAB_SUITES_COUNT; s++) {
        if (i < *lab_suites[s].count) return &lab_suites[s].tests[i];
        i -= *lab_suites[s].count;
    }
    return NULL;
}

const struct lab_test *lab_test_find(const char *name)
{
    if (name == NULL) return NULL;
    for (size_t i = 0; i < lab_tests_count(); i++) {
        const struct lab_test *test = lab_test_at(i);
        if (strcmp(test->name, name) == 0) return test;
    }
    return NULL;
}

/* ---------------------------------------------------------------- accessors */

struct sim *lab_sim(struct lab_ctx *ctx)
{
    return ctx->sim;
}

uint64_t lab_seed(const struct lab_ctx *ctx)
{
    return ctx->seed;
}

FILE *lab_out(const struct lab_ctx *ctx)
{
    return ctx->opts->out;
}

const char *lab_raft_opts(const struct lab_ctx *ctx)
{
    return ctx->raft_opts != NULL ? ctx->raft_opts : ctx->opts->raft_opts;
}

void lab_raft_opts_set(struct lab_ctx *ctx, const char *raft_opts)
{
    ctx->raft_opts = raft_opts;
}

uint32_t lab_raft_voters(const struct lab_ctx *ctx)
{
    return ctx->raft_voters;
}

void lab_raft_voters_set(struct lab_ctx *ctx, uint32_t voters_mask)
{
    ctx->raft_voters = voters_mask;
}

const struct lab_opts *lab_opts(const struct lab_ctx *ctx)
{
    return ctx->opts;
}

const void *lab_body_arg(const struct lab_ctx *ctx)
{
    return ctx->opts->body_arg;
}

bool lab_failed(const struct lab_ctx *ctx)
{
    return ctx->failed;
}

void lab_set_user(struct lab_ctx *ctx, void *user)
{
    ctx->user = user;
}

void *lab_user(const struct lab_ctx *ctx)
{
    return ctx->user;
}

void lab_set_user_free(struct lab_ctx *ctx, lab_user_free_fn free_fn)
{
    ctx->user_free = free_fn;
}

void lab_set_inspector(struct lab_ctx *ctx, lab_inspect_fn inspect_fn)
{
    ctx->inspect = inspect_fn;
}

void lab_set_unknown(struct lab_ctx *ctx, const char *why)
{
    ctx->unknown = true;
    if (ctx->opts->out != NULL && why != NULL) fprintf(ctx->opts->out, "info: %s\n", why);
}

double lab_wall_ms(const struct lab_ctx *ctx)
{
    return ctx->opts->wall_ms != NULL ? ctx->opts->wall_ms() : 0.0;
}

void lab_add_lin_check(struct lab_ctx *ctx, double wall_ms)
{
    ctx->lin_checks++;
    ctx->lin_wall_ms += wall_ms;
}

const char *lab_artifact(const struct lab_ctx *ctx)
{
    return ctx->artifact;
}

void lab_set_artifact(struct lab_ctx *ctx, const char *path)
{
    snprintf(ctx->artifact, sizeof(ctx->artifact), "%s", path != NULL ? path : "");
}

/* ---------------------------------------------------------------- failures */

static void lab_fail_record(struct lab_ctx *ctx, int node, const char *fmt, va_list ap)
{
    if (ctx->failed) return;
    ctx->failed = true;
    ctx->fail_node = node;
    ctx->fail_at_us = sim_now_us(ctx->sim);
    vsnprintf(ctx->message, sizeof(ctx->message), fmt, ap);
    sim_tracef(ctx->sim, node, &lab_kind_fail, 0, 0, "%s", ctx->message);
    sim_stop(ctx->sim);
}

void lab_failf(struct lab_ctx *ctx, int node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lab_fail_record(ctx, node, fmt, ap);
    va_end(ap);
}

void lab_fatalf(struct lab_ctx *ctx, int node, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lab_fail_record(ctx, node, fmt, ap);
    va_end(ap);
    /* Like t.Fatalf's runtime.Goexit: the failing task goes no further. */
    if (sim_task_current(ctx->sim) != NULL) sim_task_exit(ctx->sim);
}

/* ---------------------------------------------------------------- printing */

void lab_begin(struct lab_ctx *ctx, const char *title)
{
    sim_tracef(ctx->sim, SIM_NODE_NONE, &lab_kind_begin, 0, 0, "%s", title);
    if (ctx->opts->out != NULL) {
        fprintf(ctx->opts->out, "Test (%s): %s ...\n", ctx->test->part, title);
        fflush(ctx->opts->out);
    }
}

void lab_passed(struct lab_ctx *ctx, double virtual_s, const char *counts)
{
    if (ctx->failed) return;
    ctx->passed_lines++;
    sim_trace4(ctx->sim, SIM_NODE_NONE, &lab_kind_passed, (int64_t)(virtual_s * 1000.0), 0, 0, 0);
    if (ctx->opts->out != NULL) {
        fprintf(ctx->opts->out, "  ... Passed --  %4.1f  %s\n", virtual_s, counts);
        fflush(ctx->opts->out);
    }
}

static void lab_report_failure(const struct lab_ctx *ctx, FILE *out)
{
    char node_text[32] = "";
    if (ctx->fail_node != SIM_NODE_NONE)
        snprintf(node_text, sizeof(node_text), ", node %d", ctx->fail_node);
    fprintf(out, "--- FAIL: %s (seed %" PRIu64 ")\n", ctx->test->name, ctx->seed);
    fprintf(out, "    at %.3fs virtual%s: %s\n", (double)ctx->fail_at_us / (double)SIM_US_PER_S,
            node_text, ctx->message);
    fprintf(out, "    replay: %s\n", sim_replay_hint(ctx->sim));
    fflush(out);
}

/* ---------------------------------------------------------------- tasks */

struct sim_task *lab_go(struct lab_ctx *ctx, const char *name, sim_task_fn fn, void *arg)
{
    struct sim_task *task = sim_task_spawn(ctx->sim, name, fn, arg);
    if (task == NULL)
        lab_fatalf(ctx, SIM_NODE_NONE, "cannot start task %s: too many tasks or out of memory",
                   name);
    return task;
}

void *lab_alloc(struct lab_ctx *ctx, size_t size)
{
    if (ctx->allocs_count == LAB_ALLOCS_MAX) return NULL;
    void *p = calloc(1, size);
    if (p != NULL) ctx->allocs[ctx->allocs_count++] = p;
    return p;
}

void lab_waitgroup_init(struct lab_waitgroup *wg)
{
    wg->count = 0;
    sim_cond_init(&wg->cond);
}

void lab_waitgroup_add(struct lab_waitgroup *wg, uint32_t n)
{
    wg->count += n;
}

void lab_waitgroup_done(struct sim *sim, struct lab_waitgroup *wg)
{
    SIM_ASSERT(sim, SIM_NODE_NONE, wg->count > 0);
    wg->count--;
    if (wg->count == 0) sim_cond_broadcast(sim, &wg->cond);
}

void lab_waitgroup_wait(struct sim *sim, struct lab_waitgroup *wg)
{
    /* Each wake-up is a done() that reached zero or a spurious one; the count decides. */
    while (wg->count > 0)
        sim_cond_wait(sim, &wg->cond, SIM_TIMEOUT_NEVER);
}

/* ---------------------------------------------------------------- running */

static void lab_body_task(struct sim *sim, void *arg)
{
    struct lab_ctx *ctx = arg;
    SIM_ASSERT(sim, SIM_NODE_NONE, ctx->sim == sim);
    ctx->test->fn(ctx);
    ctx->body_done = true;
}

/* The run is over when the body returned, or when nothing is left that could wake it (checked
 * here, before the clock would jump to the cap, so a deadlock is reported at its own time). */
static bool lab_body_done(const struct lab_ctx *ctx)
{
    return ctx->body_done || sim_pending(ctx->sim) == 0;
}

struct lab_stop {
    struct lab_ctx *ctx;
    sim_pred_fn fn; /* the caller's stop condition, may be NULL */
    void *arg;
};

static bool lab_stop_pred(struct sim *sim, void *arg)
{
    const struct lab_stop *stop = arg;
    if (lab_body_done(stop->ctx)) return true;
    return stop->fn != NULL && stop->fn(sim, stop->arg);
}

/* After the sim returned control: decides whether the run is over, and turns a run that neither
 * finished nor failed into a failure that says why. `stop_held` is sim_run_until's answer;
 * `deadline_us` the deadline it was given (a deadline before the cap is no failure). */
static bool lab_session_settle(struct lab_session *session, bool stop_held, sim_time_us deadline_us)
{
    struct lab_ctx *ctx = &session->ctx;
    sim_time_us now_us = sim_now_us(ctx->sim);
    if (ctx->body_done || ctx->failed) {
        session->over = true;
    } else if (sim_pending(ctx->sim) == 0) {
        lab_failf(ctx, SIM_NODE_NONE,
                  "test blocked forever: no pending events and the test has not returned");
        session->over = true;
    } else if (sim_stopped(ctx->sim)) {
        lab_failf(ctx, SIM_NODE_NONE, "the simulation was stopped before the test ended");
        session->over = true;
    } else if (!stop_held && now_us >= LAB_VIRTUAL_CAP_US) {
        lab_failf(ctx, SIM_NODE_NONE, "test did not finish within the %.0f s virtual cap",
                  (double)LAB_VIRTUAL_CAP_US / (double)SIM_US_PER_S);
        session->over = true;
    }
    SIM_ASSERT(ctx->sim, SIM_NODE_NONE, session->over || stop_held || now_us >= deadline_us);
    return !session->over;
}

static bool lab_session_drive(struct lab_session *session, sim_pred_fn stop, void *arg,
                              sim_time_us deadline_us)
{
    SIM_ASSERT(session->ctx.sim, SIM_NODE_NONE, sim_task_current(session->ctx.sim) == NULL);
    if (session->over) return false;
    if (deadline_us > LAB_VIRTUAL_CAP_US) deadline_us = LAB_VIRTUAL_CAP_US;
    struct lab_stop lab_stop = {&session->ctx, stop, arg};
    bool held = sim_run_until(session->ctx.sim, lab_stop_pred, &lab_stop, deadline_us);
    return lab_session_settle(session, held, deadline_us);
}

bool lab_session_run(struct lab_session *session, sim_pred_fn stop, void *arg)
{
    return lab_session_drive(session, stop, arg, LAB_VIRTUAL_CAP_US);
}

bool lab_session_run_to(struct lab_session *session, sim_time_us deadline_us)
{
    return lab_session_drive(session, NULL, NULL, deadline_us);
}

/* Stop condition of lab_session_step: one more kernel event has run. */
static bool lab_one_event_ran(struct sim *sim, void *arg)
{
    const uint64_t *events_before = arg;
    return sim_events_run(sim) > *events_before;
}

bool lab_session_step(struct lab_session *session)
{
    uint64_t events_before = sim_events_run(session->ctx.sim);
    return lab_session_run(session, lab_one_event_ran, &events_before);
}

bool lab_session_over(const struct lab_session *session)
{
    return session->over;
}

struct sim *lab_session_sim(struct lab_session *session)
{
    return session->ctx.sim;
}

const struct lab_test *lab_session_test(const struct lab_session *session)
{
    return session->ctx.test;
}

int lab_session_inspect(const struct lab_session *session, int node, FILE *out)
{
    const struct lab_ctx *ctx = &session->ctx;
    if (ctx->inspect == NULL || out == NULL) return SIM_EINVAL;
    return ctx->inspect(ctx->user, node, out);
}

static void lab_result_fill(const struct lab_ctx *ctx, struct lab_result *result)
{
    result->outcome = ctx->failed ? LAB_FAIL : (ctx->unknown ? LAB_UNKNOWN : LAB_PASS);
    result->seed = ctx->seed;
    result->digest = sim_digest(ctx->sim);
    result->virtual_us = sim_now_us(ctx->sim);
    result->events = sim_events_run(ctx->sim);
    result->fail_node = ctx->failed ? ctx->fail_node : SIM_NODE_NONE;
    result->fail_at_us = ctx->failed ? ctx->fail_at_us : 0;
    snprintf(result->message, sizeof(result->message), "%s", ctx->message);
    snprintf(result->artifact, sizeof(result->artifact), "%s", ctx->artifact);
    result->passed_lines = ctx->passed_lines;
    result->lin_checks = ctx->lin_checks;
    result->lin_wall_ms = ctx->lin_wall_ms;
}

static void lab_set_hint(struct lab_ctx *ctx)
{
    char hint[LAB_REPLAY_MAX];
    const char *program = ctx->opts->replay_cmd;
    if (program == NULL) program = LAB_DEFAULT_REPLAY_CMD;
    const char *raft_opts = ctx->opts->raft_opts;
    bool has_opts = raft_opts != NULL && raft_opts[0] != '\0';
    snprintf(hint, sizeof(hint), "%s replay %s --seed %" PRIu64 "%s%s", program, ctx->test->name,
             ctx->seed, has_opts ? " --raft-opts " : "", has_opts ? raft_opts : "");
    sim_set_replay_hint(ctx->sim, hint);
}

int lab_session_start(const struct lab_test *test, uint64_t seed, const struct lab_opts *opts,
                      struct lab_session **out)
{
    if (out != NULL) *out = NULL;
    if (test == NULL || test->fn == NULL || out == NULL) return SIM_EINVAL;
    struct lab_session *session = calloc(1, sizeof(*session));
    if (session == NULL) return SIM_ENOMEM;
    struct lab_ctx *ctx = &session->ctx;
    ctx->sim = sim_new(seed);
    if (ctx->sim == NULL) {
        free(session);
        return SIM_ENOMEM;
    }
    if (opts != NULL) session->opts = *opts;
    ctx->test = test;
    ctx->opts = &session->opts;
    ctx->seed = seed;
    ctx->fail_node = SIM_NODE_NONE;
    lab_set_hint(ctx);
    lab_crash_arm(ctx->sim, test->name, seed);
    if (ctx->opts->trace_path != NULL)
        sim_trace_record(ctx->sim, ctx->opts->trace_topics, LAB_TRACE_RECORDS_MAX);
    /* A body that cannot even start is a failed run (lab_go recorded why). */
    if (lab_go(ctx, test->name, lab_body_task, ctx) == NULL) session->over = true;
    *out = session;
    return SIM_OK;
}

int lab_session_finish(struct lab_session *session, struct lab_result *result)
{
    struct lab_ctx *ctx = &session->ctx;
    int rc = session->over ? SIM_OK : SIM_ESTOPPED;
    if (result != NULL) {
        memset(result, 0, sizeof(*result));
        lab_result_fill(ctx, result);
    }
    if (ctx->failed && ctx->opts->out != NULL) lab_report_failure(ctx, ctx->opts->out);
    if (ctx->opts->trace_path != NULL &&
        sim_trace_write(ctx->sim, ctx->opts->trace_path, ctx->test->name) != SIM_OK && rc == SIM_OK)
        rc = SIM_EIO;
    /* The final files for a user to read (lab 1's mr-out-*): after the run, never during. */
    if (ctx->opts->fs_out_dir != NULL &&
        sim_fs_dump(ctx->sim, ctx->opts->fs_out_dir) != SIM_FS_OK && rc == SIM_OK)
        rc = SIM_EIO;
    if (ctx->user_free != NULL) ctx->user_free(ctx->user);
    for (uint32_t k = 0; k < ctx->allocs_count; k++)
        free(ctx->allocs[k]);
    lab_crash_disarm(ctx->sim);
    sim_free(ctx->sim);
    free(session);
    return rc;
}

int lab_run(const struct lab_test *test, uint64_t seed, const struct lab_opts *opts,
            struct lab_result *result)
{
    struct lab_session *session = NULL;
    if (test == NULL || test->fn == NULL || result == NULL) return SIM_EINVAL;
    memset(result, 0, sizeof(*result));
    result->seed = seed;
    result->fail_node = SIM_NODE_NONE;
    int rc = lab_session_start(test, seed, opts, &session);
    if (rc != SIM_OK) return rc;
    lab_session_run(session, NULL, NULL);
    return lab_session_finish(session, result);
}
