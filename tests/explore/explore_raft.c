/* explore_raft: the explorer's Raft target, on the Raft tester (tests/raft/raft_cfg*): its
 * servers, persisters, crash model and appliers (which check every applied value and its order),
 * under the schedule's faults instead of a graded test's.
 *
 * Workload: one proposer offers command k (k = 1 .. ops) to every running server every
 * interval-ms during the safety phase; only leaders accept. Liveness: after healing, some server
 * must claim leadership and a fresh command offered to it must be applied by all servers, within
 * liveness-ms; "no-leader" when no leader was ever seen, "no-commit" otherwise.
 */
#include <inttypes.h>

#include "explore_int.h"
#include "raft_cfg_int.h"

#define LIVENESS_POLL_US SIM_MS(20)
#define LIVENESS_ATTEMPT_US SIM_S(2)
#define FRESH_VALUE_BASE (INT64_C(1) << 40) /* above every workload command */

struct raft_run {
    const struct explore_sched *s;
    struct raft_cfg *cfg;
    struct explore_cluster cl;
    struct explore_checker checker;
    struct explore_faults faults;
};

static struct raft *cl_raft(void *cfg, int i)
{
    return raft_cfg_raft(cfg, i);
}

static struct rpc_end *cl_end(void *user, int from, int to)
{
    struct raft_cfg *cfg = user;
    return cfg->ends[from][to];
}

static void cl_crash(void *cfg, int i)
{
    raft_cfg_crash1(cfg, i);
}

static void cl_restart(void *user, int i)
{
    struct raft_cfg *cfg = user;
    bool snap = cfg->instances_count > 0 && cfg->instances[0]->applier == RAFT_CFG_APPLIER_SNAP;
    raft_cfg_start1(cfg, i, snap ? RAFT_CFG_APPLIER_SNAP : RAFT_CFG_APPLIER);
    /* The tester's own notion of "connected" follows the server; the links themselves are the
     * fault executor's (explore_faults_apply_links, right after this). */
    cfg->connected[i] = true;
}

static void raft_hook(struct sim *sim, void *arg)
{
    struct raft_run *run = arg;
    (void)sim;
    if (!lab_failed(run->cl.ctx)) explore_checker_step(&run->checker);
    explore_faults_step(&run->faults);
}

/* The leader of the highest term among running servers, or -1. */
static int find_leader(struct raft_run *run)
{
    int leader = -1;
    uint64_t best = 0;
    for (int i = 0; i < run->s->servers; i++) {
        uint64_t term = 0;
        struct raft *rf = raft_cfg_raft(run->cfg, i);
        if (rf != NULL && raft_get_state(rf, &term) && (leader < 0 || term > best)) {
            leader = i;
            best = term;
        }
    }
    return leader;
}

static void propose(struct raft_run *run, sim_time_us end_us)
{
    struct sim *sim = run->cl.sim;
    for (int k = 1; k <= run->s->ops && sim_now_us(sim) < end_us; k++) {
        for (int i = 0; i < run->s->servers; i++) {
            if (raft_cfg_raft(run->cfg, i) != NULL) raft_cfg_start_int(run->cfg, i, k, NULL, NULL);
        }
        sim_sleep_us(sim, SIM_MS(run->s->interval_ms));
    }
    if (sim_now_us(sim) < end_us) sim_sleep_us(sim, end_us - sim_now_us(sim));
}

/* One attempt: offers `value` to the leader and waits up to 2 s for every server to apply it. */
static bool commit_fresh(struct raft_run *run, int leader, int64_t value, sim_time_us end_us)
{
    struct sim *sim = run->cl.sim;
    uint64_t index = 0;
    if (!raft_cfg_start_int(run->cfg, leader, value, &index, NULL)) return false;
    sim_time_us t1_us = sim_now_us(sim);
    while (sim_now_us(sim) < end_us && sim_now_us(sim) - t1_us < LIVENESS_ATTEMPT_US) {
        struct raft_cfg_value got;
        int nd = raft_cfg_n_committed(run->cfg, index, &got);
        if (nd == run->s->servers && got.kind == RAFT_CFG_INT && got.num == value) return true;
        sim_sleep_us(sim, LIVENESS_POLL_US);
    }
    return false;
}

static void liveness(struct raft_run *run)
{
    struct sim *sim = run->cl.sim;
    sim_time_us start_us = sim_now_us(sim);
    sim_time_us end_us = start_us + SIM_MS(run->s->liveness_ms);
    bool saw_leader = false;
    for (int64_t attempt = 0; sim_now_us(sim) < end_us; attempt++) {
        int leader = find_leader(run);
        if (leader >= 0) {
            saw_leader = true;
            if (commit_fresh(run, leader, FRESH_VALUE_BASE + attempt, end_us)) return;
        }
        sim_sleep_us(sim, LIVENESS_POLL_US);
    }
    if (!saw_leader)
        lab_fatalf(run->cl.ctx, SIM_NODE_NONE,
                   "LIVENESS no-leader: no server claimed leadership within %.1f s after every "
                   "fault healed",
                   (double)run->s->liveness_ms / 1000.0);
    lab_fatalf(
        run->cl.ctx, SIM_NODE_NONE,
        "LIVENESS no-commit: a fresh command was not applied by all %d servers within %.1f s after "
        "every fault healed",
        run->s->servers, (double)run->s->liveness_ms / 1000.0);
}

void explore_raft_body(struct lab_ctx *ctx, const struct explore_sched *s)
{
    struct raft_run *run = lab_alloc(ctx, sizeof(*run));
    if (run == NULL) {
        lab_fatalf(ctx, SIM_NODE_NONE, "out of memory for the explorer");
        return;
    }
    run->s = s;
    run->cfg = raft_cfg_make(ctx, s->servers, false, s->snapshot);
    if (run->cfg == NULL) return;
    run->cl = (struct explore_cluster){.view = &explore_view_raft,
                                       .ctx = ctx,
                                       .sim = lab_sim(ctx),
                                       .net = run->cfg->net,
                                       .n = s->servers,
                                       .cfg = run->cfg,
                                       .raft = cl_raft,
                                       .end = cl_end,
                                       .crash = cl_crash,
                                       .restart = cl_restart};
    explore_checker_init(&run->checker, &run->cl);
    /* Our checks replace the tester's election-safety hook (they include it). */
    sim_set_event_hook(run->cl.sim, raft_hook, run);
    sim_time_us start_us = sim_now_us(run->cl.sim);
    explore_faults_start(&run->faults, s, &run->cl);
    propose(run, start_us + SIM_MS(s->run_ms));
    explore_faults_heal(&run->faults);
    liveness(run);
    sim_set_event_hook(run->cl.sim, NULL, NULL);
    raft_cfg_cleanup(run->cfg);
}
