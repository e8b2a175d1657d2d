/* explore_kv: the explorer's kvraft target, on the kvraft tester (tests/kvraft/kv_cfg*): its
 * servers, clerks, crash model and recorded history, under the schedule's faults. The Raft under
 * each server (kv_server_raft) is checked after every event like the Raft target's.
 *
 * Workload: `clients` clerks, each running up to `ops` operations (Get, Put or Append on one of
 * three keys, chosen from the stream "explore.client" n) with interval-ms between them, during
 * the safety phase. Clerks talk to every server; faults cut servers from each other. Liveness:
 * after healing, every clerk's operation in progress and a fresh clerk's Put and Get must
 * complete within liveness-ms ("no-commit" otherwise). Then the whole history is checked for
 * linearizability with the KV model ("linearizability").
 */
#include <inttypes.h>
#include <stdio.h>

#include "explore_int.h"
#include "kv_cfg_int.h"

#define KV_KEYS 3
#define KV_POLL_US SIM_MS(50)
#define CLIENT_VALUE_MAX 48u

struct kv_run;

struct kv_client {
    struct kv_run *run;
    int number;
    bool done;
};

struct kv_run {
    const struct explore_sched *s;
    struct kv_cfg *cfg;
    struct explore_cluster cl;
    struct explore_checker checker;
    struct explore_faults faults;
    sim_time_us safety_end_us;
    struct kv_client clients[EXPLORE_CLIENTS_MAX + 1]; /* the last: the liveness clerk */
};

static struct raft *cl_raft(void *user, int i)
{
    struct kv_cfg *cfg = user;
    return cfg->servers[i] != NULL ? kv_server_raft(cfg->servers[i]) : NULL;
}

static struct rpc_end *cl_end(void *user, int from, int to)
{
    struct kv_cfg *cfg = user;
    return cfg->ends[from][to];
}

static void cl_crash(void *cfg, int i)
{
    kv_cfg_shutdown_server(cfg, i);
}

static void cl_restart(void *cfg, int i)
{
    kv_cfg_start_server(cfg, i);
}

static void kv_hook(struct sim *sim, void *arg)
{
    struct kv_run *run = arg;
    (void)sim;
    if (!lab_failed(run->cl.ctx)) explore_checker_step(&run->checker);
    explore_faults_step(&run->faults);
}

static void client_task(struct sim *sim, void *arg)
{
    struct kv_client *client = arg;
    struct kv_run *run = client->run;
    int all[KV_CFG_SERVERS_MAX];
    struct kv_cfg_clerk *ck = kv_cfg_make_client(run->cfg, all, kv_cfg_all(run->cfg, all));
    struct sim_rand r;
    sim_rand_init_n(&r, sim, "explore.client", client->number);
    for (int j = 0; j < run->s->ops && sim_now_us(sim) < run->safety_end_us; j++) {
        char key[16];
        char value[CLIENT_VALUE_MAX];
        snprintf(key, sizeof(key), "k%d", (int)sim_rand_below(&r, KV_KEYS));
        snprintf(value, sizeof(value), "x %d %d y", client->number, j);
        enum kv_cfg_kind kind = (enum kv_cfg_kind)sim_rand_below(&r, 3);
        kv_cfg_op(run->cfg, ck, kind, key, kind == KV_CFG_GET ? NULL : value, client->number, true);
        sim_sleep_us(sim, SIM_MS(run->s->interval_ms));
    }
    client->done = true;
}

/* The liveness clerk: a Put and a Get on a fresh key. */
static void fresh_task(struct sim *sim, void *arg)
{
    struct kv_client *client = arg;
    struct kv_run *run = client->run;
    int all[KV_CFG_SERVERS_MAX];
    (void)sim;
    struct kv_cfg_clerk *ck = kv_cfg_make_client(run->cfg, all, kv_cfg_all(run->cfg, all));
    kv_cfg_op(run->cfg, ck, KV_CFG_PUT, "fresh", "after healing", client->number, true);
    kv_cfg_op(run->cfg, ck, KV_CFG_GET, "fresh", NULL, client->number, true);
    client->done = true;
}

static bool clients_done(struct sim *sim, void *arg)
{
    const struct kv_run *run = arg;
    (void)sim;
    for (int c = 0; c <= run->s->clients; c++) {
        if (!run->clients[c].done) return false;
    }
    return true;
}

static void liveness(struct kv_run *run)
{
    struct sim *sim = run->cl.sim;
    struct kv_client *fresh = &run->clients[run->s->clients];
    if (lab_go(run->cl.ctx, "explore-fresh", fresh_task, fresh) == NULL) return;
    if (sim_wait_until(sim, clients_done, run, KV_POLL_US, SIM_MS(run->s->liveness_ms))) return;
    int stuck = 0;
    while (run->clients[stuck].done)
        stuck++;
    lab_fatalf(run->cl.ctx, SIM_NODE_NONE,
               "LIVENESS no-commit: %s %d's operation did not complete within %.1f s after every "
               "fault healed",
               stuck == run->s->clients ? "the fresh clerk" : "clerk", stuck,
               (double)run->s->liveness_ms / 1000.0);
}

static void kv_cluster_init(struct kv_run *run, struct lab_ctx *ctx)
{
    run->cl = (struct explore_cluster){.view = &explore_view_raft,
                                       .ctx = ctx,
                                       .sim = lab_sim(ctx),
                                       .net = run->cfg->net,
                                       .n = run->s->servers,
                                       .cfg = run->cfg,
                                       .raft = cl_raft,
                                       .end = cl_end,
                                       .crash = cl_crash,
                                       .restart = cl_restart};
}

void explore_kv_body(struct lab_ctx *ctx, const struct explore_sched *s)
{
    struct kv_run *run = lab_alloc(ctx, sizeof(*run));
    if (run == NULL) {
        lab_fatalf(ctx, SIM_NODE_NONE, "out of memory for the explorer");
        return;
    }
    run->s = s;
    run->cfg = kv_cfg_make(ctx, "explore-kvraft", s->servers, false, s->maxraftstate);
    if (run->cfg == NULL) return;
    kv_cluster_init(run, ctx);
    explore_checker_init(&run->checker, &run->cl);
    sim_set_event_hook(run->cl.sim, kv_hook, run);
    run->safety_end_us = sim_now_us(run->cl.sim) + SIM_MS(s->run_ms);
    explore_faults_start(&run->faults, s, &run->cl);
    for (int c = 0; c <= s->clients; c++)
        run->clients[c] = (struct kv_client){.run = run, .number = c};
    for (int c = 0; c < s->clients; c++) {
        if (lab_go(ctx, "explore-client", client_task, &run->clients[c]) == NULL) return;
    }
    sim_sleep_us(run->cl.sim, run->safety_end_us - sim_now_us(run->cl.sim));
    explore_faults_heal(&run->faults);
    liveness(run);
    sim_set_event_hook(run->cl.sim, NULL, NULL);
    kv_cfg_check_history(run->cfg);
    kv_cfg_cleanup(run->cfg);
}
