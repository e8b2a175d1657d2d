/* explore_mr: the explorer's MapReduce target, on the lab 1 harness (tests/mr/mr_cfg*): the
 * coordinator and workers of mr/mr.h (ours, or a student's in an MR_IMPL build) run wc or indexer
 * on the first `ops` of the lab's eight inputs, with servers-1 workers, under faults the graded
 * lab 1 tests never make:
 *  - crash node=N: the worker process on node N is killed (kill -9) at an arbitrary virtual time,
 *    possibly in the middle of writing a file; a new worker starts on N when the fault ends;
 *  - stall node=N: the worker on node N stops at its next file step (SIGSTOP) and goes on when
 *    the fault ends: stalled past the coordinator's 10 s, its task is handed out again and both
 *    copies run and write;
 *  - drop, dup, delay, reorder: the network between the workers and the coordinator.
 * A worker that ends for any other reason (a failed call: it takes the coordinator for gone) is
 * started again after RESTART_US, as test-mr.sh's crash loop does, while the coordinator runs.
 *
 * Two hooks of the simulated file system make the faults land inside a file (sim.h, "fault
 * injection"), both opt-in so the graded tests are unchanged: every write takes interval-ms per
 * EXPLORE_MR_CHUNK_BYTES, chunk by chunk, so a kill leaves exactly the chunks written so far; and
 * a gate before every file step of a worker, where a stall holds it.
 *
 * Checks:
 *  output-at-done  (SAFETY) the first time the coordinator's Done() holds (looked at after every
 *                  event), the mr-out-* files together, sorted, equal mrsequential's lines: no
 *                  line missing, partial or duplicated;
 *  output-final    (SAFETY) the same once every process has ended: a late copy of a task must
 *                  not change what the job produced;
 *  job-not-done    (LIVENESS) every fault heals at run-ms (stalls end, killed workers restart,
 *                  the network is reliable): the coordinator must say done within liveness-ms;
 *  still-running   (LIVENESS) and every process must have ended within that bound too.
 * The bound the draw uses, EXPLORE_MR_LIVENESS_MS (30 s), covers one re-issue timeout (10 s) for
 * tasks held by workers that are gone, plus the whole job again at the slowest pace a schedule
 * may ask for (EXPLORE_MR_PACE_MS_MAX per 4 KB; all eight inputs of wc on two workers, calm,
 * take 11 s at 10 ms and 5-7 s at the 5 ms the draw goes up to), plus the coordinator's exit
 * second.
 */
#include <inttypes.h>
#include <stdio.h>

#include "explore_int.h"
#include "mr_cfg.h"

#define RESTART_US SIM_MS(200)
#define WAIT_POLL_US SIM_MS(100)
#define PROC_LIMIT_US SIM_S(3600) /* no process limit of the lab applies: the phases bound it */

_Static_assert(EXPLORE_MR_INPUTS_MAX == MR_INPUTS_COUNT, "the mr target's inputs are the lab's");
_Static_assert(EXPLORE_SERVERS_MAX - 1 <= MR_SLOTS_MAX, "every worker node is a lab 1 slot");
_Static_assert(EXPLORE_MR_LIVENESS_MS <= EXPLORE_LIVENESS_MS_MAX, "a valid schedule's bound");

static const struct sim_trace_kind kind_mr_fault = {
    491, SIM_TOPIC_FAULT, "explore.mr.fault", {"index", "begin", NULL}};
static const struct sim_trace_kind kind_mr_held = {
    492, SIM_TOPIC_FAULT, "explore.mr.held", {"pid", NULL}};

struct mr_run;

struct mr_fault_ev {
    struct mr_run *run;
    uint32_t index;
    bool begin;
};

struct mr_slot_loop {
    struct mr_run *run;
    int node;
};

struct mr_run {
    const struct explore_sched *s;
    struct lab_ctx *ctx;
    struct sim *sim;
    struct mr_cfg *cfg;
    const struct mr_proc *coordinator;
    const struct mr_lines *want;
    int workers;
    bool healed;
    bool checked_at_done;
    bool active[EXPLORE_FAULTS_MAX];
    bool down[MR_SLOTS_MAX + 1];    /* an active crash holds the node's process down */
    bool stalled[MR_SLOTS_MAX + 1]; /* an active stall holds the node's process at its gate */
    struct sim_cond resumed;        /* broadcast when a stall ends or a held process dies */
    struct mr_fault_ev evs[2u * EXPLORE_FAULTS_MAX];
    struct mr_slot_loop loops[MR_SLOTS_MAX + 1];
};

static const char *app_name(const struct explore_sched *s)
{
    return s->app == EXPLORE_MR_INDEXER ? "indexer" : "wc";
}

/* ---------------------------------------------------------------- checks */

/* The outputs against mrsequential's lines; fails the run with `check` when they differ. */
static void check_outputs(struct mr_run *run, const char *check, const char *when)
{
    char why[LAB_MSG_MAX / 2];
    if (!mr_cfg_outputs_match(run->cfg, run->want, why, sizeof(why)))
        lab_failf(run->ctx, SIM_NODE_NONE,
                  "SAFETY %s: %s, the sorted mr-out-* lines differ from mrsequential's at %s",
                  check, when, why);
}

/* After every event: the moment Done() first holds, the outputs must be the job's. */
static void mr_hook(struct sim *sim, void *arg)
{
    struct mr_run *run = arg;
    (void)sim;
    if (run->checked_at_done || lab_failed(run->ctx) || !mr_cfg_job_done(run->cfg)) return;
    run->checked_at_done = true;
    check_outputs(run, "output-at-done", "when the coordinator said done");
}

/* ---------------------------------------------------------------- faults */

/* The file-system gate: a worker whose node is stalled waits here (SIGSTOP) until the stall
 * ends, the faults heal or the process is killed (then its call fails as a dead process's). */
static void mr_gate(struct sim *sim, int node, void *arg)
{
    struct mr_run *run = arg;
    if (node < 1 || node > run->workers) return;
    const struct mr_proc *proc = mr_cfg_slot(run->cfg, node);
    bool traced = false;
    while (run->stalled[node] && proc != NULL && !mr_proc_ended(proc)) {
        if (!traced) sim_trace4(sim, node, &kind_mr_held, proc->pid, 0, 0, 0);
        traced = true;
        sim_cond_wait(sim, &run->resumed, SIM_TIMEOUT_NEVER);
    }
}

/* Recomputes every node's state from the active faults (so overlapping faults compose): a node
 * is down while some active crash names it (its process is killed when it goes down) and
 * stalled while some active stall does. */
static void recompute(struct mr_run *run)
{
    for (int node = 1; node <= run->workers; node++) {
        bool down = false;
        bool stalled = false;
        for (size_t k = 0; k < run->s->faults_count; k++) {
            const struct explore_fault *f = &run->s->faults[k];
            if (!run->active[k] || f->node != node) continue;
            down = down || f->kind == EXPLORE_CRASH;
            stalled = stalled || f->kind == EXPLORE_STALL;
        }
        struct mr_proc *proc = mr_cfg_slot(run->cfg, node);
        if (down && !run->down[node] && proc != NULL) mr_cfg_kill(run->cfg, proc);
        run->down[node] = down;
        run->stalled[node] = stalled;
    }
    explore_faults_apply_net(run->sim, mr_cfg_net(run->cfg), run->s, run->active);
    sim_cond_broadcast(run->sim, &run->resumed);
}

static void ev_fault(struct sim *sim, void *arg)
{
    struct mr_fault_ev *ev = arg;
    struct mr_run *run = ev->run;
    if (run->healed || lab_failed(run->ctx) || run->active[ev->index] == ev->begin) return;
    run->active[ev->index] = ev->begin;
    const struct explore_fault *f = &run->s->faults[ev->index];
    sim_tracef(sim, SIM_NODE_NONE, &kind_mr_fault, ev->index, ev->begin, "%s node %d",
               explore_fault_name(f->kind), f->node);
    recompute(run);
}

static void faults_start(struct mr_run *run)
{
    const struct explore_sched *s = run->s;
    SIM_ASSERT(run->sim, SIM_NODE_NONE, s->faults_count <= EXPLORE_FAULTS_MAX);
    int node = sim_node_swap(run->sim, SIM_NODE_NONE); /* fault events belong to no node */
    for (uint32_t k = 0; k < s->faults_count; k++) {
        const struct explore_fault *f = &s->faults[k];
        run->evs[2 * k] = (struct mr_fault_ev){.run = run, .index = k, .begin = true};
        run->evs[2 * k + 1] = (struct mr_fault_ev){.run = run, .index = k, .begin = false};
        sim_after(run->sim, SIM_MS(f->at_ms), ev_fault, &run->evs[2 * k]);
        sim_after(run->sim, SIM_MS((uint64_t)f->at_ms + f->for_ms), ev_fault, &run->evs[2 * k + 1]);
    }
    sim_node_swap(run->sim, node);
}

static void faults_heal(struct mr_run *run)
{
    for (size_t k = 0; k < run->s->faults_count; k++)
        run->active[k] = false;
    recompute(run);
    run->healed = true;
}

/* ---------------------------------------------------------------- processes */

static bool task_finished(struct sim *sim, void *arg)
{
    const struct mr_proc *proc = arg;
    (void)sim;
    return proc->task_done;
}

static bool node_up(struct sim *sim, void *arg)
{
    const struct mr_slot_loop *loop = arg;
    (void)sim;
    return !loop->run->down[loop->node];
}

/* One worker node: while the coordinator runs, a worker process runs there, except while a
 * crash holds the node down; a process that ended is replaced once its task has returned (a
 * killed one may still be parked in a call that has yet to fail). */
static void slot_loop(struct sim *sim, void *arg)
{
    struct mr_slot_loop *loop = arg;
    struct mr_run *run = loop->run;
    while (!mr_proc_ended(run->coordinator)) {
        sim_wait_until(sim, node_up, loop, WAIT_POLL_US, SIM_TIMEOUT_NEVER);
        if (mr_proc_ended(run->coordinator)) break;
        struct mr_proc *proc =
            mr_cfg_start_worker(run->cfg, loop->node, app_name(run->s), PROC_LIMIT_US);
        mr_cfg_wait(run->cfg, proc);
        sim_wait_until(sim, task_finished, proc, WAIT_POLL_US, SIM_TIMEOUT_NEVER);
        sim_sleep_us(sim, RESTART_US);
    }
}

static bool all_over(struct sim *sim, void *arg)
{
    const struct mr_run *run = arg;
    (void)sim;
    if (!run->coordinator->task_done) return false;
    for (int node = 1; node <= run->workers; node++) {
        const struct mr_proc *proc = mr_cfg_slot(run->cfg, node);
        if (proc != NULL && !proc->task_done) return false;
    }
    return true;
}

static void liveness(struct mr_run *run)
{
    sim_time_us limit_us = SIM_MS(run->s->liveness_ms);
    if (sim_wait_until(run->sim, all_over, run, WAIT_POLL_US, limit_us)) return;
    if (!mr_cfg_job_done(run->cfg))
        lab_fatalf(run->ctx, SIM_NODE_NONE,
                   "LIVENESS job-not-done: the coordinator did not say done within %.1f s after "
                   "every fault healed",
                   (double)run->s->liveness_ms / 1000.0);
    lab_fatalf(run->ctx, SIM_NODE_NONE,
               "LIVENESS still-running: the job is done but some process had not ended %.1f s "
               "after every fault healed",
               (double)run->s->liveness_ms / 1000.0);
}

/* ---------------------------------------------------------------- the run */

static struct mr_run *run_make(struct lab_ctx *ctx, const struct explore_sched *s)
{
    struct mr_run *run = lab_alloc(ctx, sizeof(*run));
    if (run == NULL) lab_fatalf(ctx, SIM_NODE_NONE, "out of memory for the explorer");
    run->s = s;
    run->ctx = ctx;
    run->sim = lab_sim(ctx);
    run->workers = s->servers - 1;
    SIM_ASSERT(run->sim, SIM_NODE_NONE, run->workers >= 1 && run->workers <= MR_SLOTS_MAX);
    sim_cond_init(&run->resumed);
    run->cfg = mr_cfg_make(ctx);
    mr_cfg_use_inputs(run->cfg, (size_t)s->ops);
    run->want = mr_cfg_sequential(run->cfg, app_name(s));
    int rc = sim_fs_set_write_pace(run->sim, EXPLORE_MR_CHUNK_BYTES, SIM_MS(s->interval_ms));
    if (rc == SIM_FS_OK) rc = sim_fs_set_gate(run->sim, mr_gate, run);
    if (rc != SIM_FS_OK)
        lab_fatalf(ctx, SIM_NODE_NONE, "file-system hooks: %s", sim_fs_strerror(rc));
    return run;
}

void explore_mr_body(struct lab_ctx *ctx, const struct explore_sched *s)
{
    struct mr_run *run = run_make(ctx, s);
    sim_set_event_hook(run->sim, mr_hook, run);
    run->coordinator = mr_cfg_start_coordinator(run->cfg, PROC_LIMIT_US);
    sim_time_us safety_end_us = sim_now_us(run->sim) + SIM_MS(s->run_ms);
    faults_start(run);
    for (int node = 1; node <= run->workers; node++) {
        run->loops[node] = (struct mr_slot_loop){.run = run, .node = node};
        lab_go(ctx, "explore-mr-node", slot_loop, &run->loops[node]);
    }
    sim_sleep_us(run->sim, safety_end_us - sim_now_us(run->sim));
    faults_heal(run);
    liveness(run);
    sim_set_event_hook(run->sim, NULL, NULL);
    if (!run->checked_at_done)
        check_outputs(run, "output-at-done", "when the coordinator said done");
    if (!lab_failed(ctx)) check_outputs(run, "output-final", "after every process ended");
    sim_fs_set_gate(run->sim, NULL, NULL);
}

/* ---------------------------------------------------------------- the swarm draw */

static uint32_t draw_between(struct sim_rand *r, uint32_t lo, uint32_t hi)
{
    return (uint32_t)sim_rand_range(r, lo, hi);
}

/* The window most faults start in: where the job is still running at the drawn pace. */
#define FAULT_WINDOW_MS 8000u

static void draw_fault(struct sim_rand *r, struct explore_fault *f, enum explore_fault_kind kind,
                       const struct explore_sched *s)
{
    uint32_t window = s->run_ms < FAULT_WINDOW_MS ? s->run_ms : FAULT_WINDOW_MS;
    *f = (struct explore_fault){.kind = kind};
    f->at_ms = (uint32_t)sim_rand_below(r, window);
    switch (kind) {
    case EXPLORE_CRASH:
        f->node = 1 + (int)sim_rand_below(r, (uint64_t)(s->servers - 1));
        f->for_ms = draw_between(r, 5, 3000);
        break;
    case EXPLORE_STALL:
        /* Half outlast the coordinator's 10 s, so the task runs twice. */
        f->node = 1 + (int)sim_rand_below(r, (uint64_t)(s->servers - 1));
        f->for_ms =
            sim_rand_chance(r, 1, 2) ? draw_between(r, 100, 5000) : draw_between(r, 10500, 20000);
        break;
    default:
        f->for_ms = draw_between(r, 500, 8000);
        if (kind == EXPLORE_DUP || kind == EXPLORE_DELAY)
            f->value = (int32_t)draw_between(r, 50, 500);
        if (kind == EXPLORE_DELAY) f->max_ms = draw_between(r, 500, 5000);
        break;
    }
    if ((uint64_t)f->at_ms + f->for_ms > s->run_ms) f->for_ms = s->run_ms - f->at_ms;
}

static const enum explore_fault_kind mr_kinds[] = {EXPLORE_CRASH, EXPLORE_STALL, EXPLORE_DROP,
                                                   EXPLORE_DUP,   EXPLORE_DELAY, EXPLORE_REORDER};

/* The workload and the faults (explore_sched_draw then sorts them by start). */
void explore_mr_draw(struct explore_sched *s, struct sim_rand *r)
{
    s->servers = 3 + (int)sim_rand_below(r, 3); /* 2 .. 4 workers */
    s->clients = 1;
    s->ops = 1 + (int)sim_rand_below(r, EXPLORE_MR_INPUTS_MAX);
    s->interval_ms = draw_between(r, 1, 5);
    s->maxraftstate = -1;
    s->app = sim_rand_chance(r, 1, 4) ? EXPLORE_MR_INDEXER : EXPLORE_MR_WC;
    s->run_ms = draw_between(r, 12000, 25000);
    s->liveness_ms = EXPLORE_MR_LIVENESS_MS;
    /* The swarm, as for the other targets: an intensity, then each kind on or off. */
    uint32_t intensity = (uint32_t)sim_rand_below(r, 4);
    for (size_t k = 0; k < sizeof(mr_kinds) / sizeof(mr_kinds[0]); k++) {
        if (!sim_rand_chance(r, 1, 2)) continue;
        uint64_t count =
            intensity == 0 ? sim_rand_below(r, 2) : 1 + sim_rand_below(r, 2 * intensity);
        for (uint64_t j = 0; j < count && s->faults_count < EXPLORE_FAULTS_MAX; j++)
            draw_fault(r, &s->faults[s->faults_count++], mr_kinds[k], s);
    }
}
