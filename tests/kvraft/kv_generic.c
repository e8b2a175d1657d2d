/* kv_generic: GenericTest and GenericTestSpeed of 6.824's kvraft/test_test.go.
 *
 * GenericTest: 3 rounds. Each round starts nclients clerk tasks that run the Go workload for
 * 5 s of virtual time (Append "x <cli> <j> y" with probability 1/2, with random keys Put with
 * probability 1/10 of the rest, otherwise Get, which without random keys must return exactly
 * the client's own appends). With partitions a partitioner task splits the servers in two
 * random groups every 1 s + 0-199 ms, starting 1 s into the round. Then the clients and the
 * partitioner are told to stop; with partitions the network is healed for 1 s; with crashes
 * every server is shut down, 1 s passes and all restart. The main clerk reads every client's
 * key (checkClntAppends without random keys), and the log and snapshot sizes are checked. At
 * the end the whole history must be linearizable.
 *
 * Randomness: the workload of client c draws from "kv.client" c, the partitioner from
 * "kv.partitioner"; Go draws both from math/rand.
 */
#include <stdio.h>
#include <string.h>

#include "kv_tests.h"

struct generic;

struct generic_client {
    struct generic *g;
    int cli;
    int appends_count; /* Go's j when the client stopped */
    bool finished;
    struct sim_rand rand;
};

struct generic {
    const struct kv_generic_params *p;
    struct kv_cfg *cfg;
    bool done_clients;
    bool done_partitioner;
    bool partitioner_finished;
    struct sim_cond cond; /* broadcast when a client or the partitioner finishes */
    struct sim_rand partitioner_rand;
    struct generic_client clients[KV_GENERIC_CLIENTS_MAX];
};

void kv_generic_title(const struct kv_generic_params *p, char *buf, size_t size)
{
    snprintf(buf, size, "%s%s%s%s%s%s", p->unreliable ? "unreliable net, " : "",
             p->crash ? "restarts, " : "", p->partitions ? "partitions, " : "",
             p->maxraftstate != -1 ? "snapshots, " : "", p->randomkeys ? "random keys, " : "",
             p->nclients > 1 ? "many clients" : "one client");
}

/* Whether v is exactly "x cli 0 y" "x cli 1 y" ... "x cli (count-1) y" (Go's `last`). */
static bool value_is_appends(const char *v, int cli, int count)
{
    char piece[64];
    for (int j = 0; j < count; j++) {
        int n = snprintf(piece, sizeof(piece), "x %d %d y", cli, j);
        if (strncmp(v, piece, (size_t)n) != 0) return false;
        v += n;
    }
    return *v == '\0';
}

/* Go's "get wrong value" failure; `wanted` is rebuilt (truncated) for the message. */
static void fail_wrong_value(struct kv_cfg *cfg, const char *key, int cli, int count,
                             const char *got)
{
    char wanted[LAB_MSG_MAX];
    size_t used = 0;
    wanted[0] = '\0';
    for (int j = 0; j < count && used + 1 < sizeof(wanted); j++)
        used += (size_t)snprintf(wanted + used, sizeof(wanted) - used, "x %d %d y", cli, j);
    lab_fatalf(kv_cfg_lab(cfg), SIM_NODE_NONE, "get wrong value, key %s, wanted:\n%s\n, got\n%s\n",
               key, wanted, got);
}

/* One client's loop (the closure given to spawn_clients_and_wait). */
static void generic_client_task(struct sim *sim, void *arg)
{
    struct generic_client *c = arg;
    struct generic *g = c->g;
    struct kv_cfg *cfg = g->cfg;
    const struct kv_generic_params *p = g->p;
    int all[KV_CFG_SERVERS_MAX];
    char key[24];
    char nv[64];
    struct kv_cfg_clerk *ck = kv_cfg_make_client(cfg, all, kv_cfg_all(cfg, all));
    int j = 0;
    if (!p->randomkeys) {
        snprintf(key, sizeof(key), "%d", c->cli);
        kv_cfg_put(cfg, ck, key, "", c->cli);
    }
    while (!g->done_clients) {
        int key_num = p->randomkeys ? (int)sim_rand_below(&c->rand, (uint64_t)p->nclients) : c->cli;
        snprintf(key, sizeof(key), "%d", key_num);
        snprintf(nv, sizeof(nv), "x %d %d y", c->cli, j);
        if (sim_rand_below(&c->rand, 1000) < 500) {
            kv_cfg_append(cfg, ck, key, nv, c->cli);
            j++;
        } else if (p->randomkeys && sim_rand_below(&c->rand, 1000) < 100) {
            /* Only with random keys: it would break the Get check below. */
            kv_cfg_put(cfg, ck, key, nv, c->cli);
            j++;
        } else {
            const char *v = kv_cfg_get(cfg, ck, key, c->cli);
            if (!p->randomkeys && !value_is_appends(v, c->cli, j))
                fail_wrong_value(cfg, key, c->cli, j, v);
        }
    }
    c->appends_count = j;
    c->finished = true;
    sim_cond_broadcast(sim, &g->cond);
}

/* Repartitions the servers until told to stop (partitioner in test_test.go). */
static void generic_partitioner_task(struct sim *sim, void *arg)
{
    struct generic *g = arg;
    int n = kv_cfg_servers(g->cfg);
    while (!g->done_partitioner) {
        int pa[2][KV_CFG_SERVERS_MAX];
        int pa_count[2] = {0, 0};
        for (int i = 0; i < n; i++) {
            int side = (int)sim_rand_below(&g->partitioner_rand, 2);
            pa[side][pa_count[side]++] = i;
        }
        kv_cfg_partition(g->cfg, pa[0], pa_count[0], pa[1], pa_count[1]);
        sim_sleep_us(sim,
                     KV_ELECTION_TIMEOUT_US + SIM_MS(sim_rand_below(&g->partitioner_rand, 200)));
    }
    g->partitioner_finished = true;
    sim_cond_broadcast(sim, &g->cond);
}

/* The end of a round: stop, heal, crash and restart, then read every client's key. */
static void generic_round_finish(struct generic *g, struct kv_cfg_clerk *ck)
{
    struct sim *sim = kv_cfg_sim(g->cfg);
    const struct kv_generic_params *p = g->p;
    g->done_clients = true;
    g->done_partitioner = true;
    if (p->partitions) {
        while (!g->partitioner_finished)
            sim_cond_wait(sim, &g->cond, SIM_TIMEOUT_NEVER);
        /* A client may have an op in a minority; it returns once a new term starts. */
        kv_cfg_connect_all(g->cfg);
        sim_sleep_us(sim, KV_ELECTION_TIMEOUT_US);
    }
    if (p->crash) {
        for (int i = 0; i < p->nservers; i++)
            kv_cfg_shutdown_server(g->cfg, i);
        /* Shutdown is not instantaneous in Go; the pause is kept. */
        sim_sleep_us(sim, KV_ELECTION_TIMEOUT_US);
        for (int i = 0; i < p->nservers; i++)
            kv_cfg_start_server(g->cfg, i);
        kv_cfg_connect_all(g->cfg);
    }
    for (int i = 0; i < p->nclients; i++) {
        char key[24];
        while (!g->clients[i].finished)
            sim_cond_wait(sim, &g->cond, SIM_TIMEOUT_NEVER);
        snprintf(key, sizeof(key), "%d", i);
        const char *v = kv_cfg_get(g->cfg, ck, key, 0);
        if (!p->randomkeys) kv_cfg_check_clnt_appends(g->cfg, i, v, g->clients[i].appends_count);
    }
}

static void generic_check_sizes(struct generic *g)
{
    struct lab_ctx *ctx = kv_cfg_lab(g->cfg);
    int64_t maxraftstate = g->p->maxraftstate;
    if (maxraftstate > 0) {
        /* After the servers processed every request and had time to checkpoint. */
        size_t sz = kv_cfg_log_size(g->cfg);
        if (sz > 8 * (size_t)maxraftstate)
            lab_fatalf(ctx, SIM_NODE_NONE, "logs were not trimmed (%zu > 8*%lld)", sz,
                       (long long)maxraftstate);
    }
    if (maxraftstate < 0) {
        size_t ssz = kv_cfg_snapshot_size(g->cfg);
        if (ssz > 0)
            lab_fatalf(ctx, SIM_NODE_NONE,
                       "snapshot too large (%zu), should not be used when maxraftstate = %lld", ssz,
                       (long long)maxraftstate);
    }
}

static void generic_round(struct generic *g, struct kv_cfg_clerk *ck)
{
    struct lab_ctx *ctx = kv_cfg_lab(g->cfg);
    struct sim *sim = kv_cfg_sim(g->cfg);
    g->done_clients = false;
    g->done_partitioner = false;
    for (int i = 0; i < g->p->nclients; i++) {
        g->clients[i].finished = false;
        g->clients[i].appends_count = 0;
        lab_go(ctx, "kv client", generic_client_task, &g->clients[i]);
    }
    if (g->p->partitions) {
        /* Let the clients work without interruption first. */
        sim_sleep_us(sim, SIM_S(1));
        g->partitioner_finished = false;
        lab_go(ctx, "kv partitioner", generic_partitioner_task, g);
    }
    sim_sleep_us(sim, SIM_S(5));
    generic_round_finish(g, ck);
    generic_check_sizes(g);
}

void kv_generic_test(struct lab_ctx *ctx, const struct kv_generic_params *p)
{
    char title[160];
    int all[KV_CFG_SERVERS_MAX];
    struct sim *sim = lab_sim(ctx);
    SIM_ASSERT(sim, SIM_NODE_NONE, p->nclients > 0);
    SIM_ASSERT(sim, SIM_NODE_NONE, p->nclients <= KV_GENERIC_CLIENTS_MAX);
    kv_generic_title(p, title, sizeof(title));
    struct kv_cfg *cfg = kv_cfg_make(ctx, p->name, p->nservers, p->unreliable, p->maxraftstate);
    kv_cfg_begin(cfg, title);
    struct generic *g = kv_cfg_scratch(cfg, sizeof(*g));
    g->p = p;
    g->cfg = cfg;
    sim_cond_init(&g->cond);
    sim_rand_init(&g->partitioner_rand, sim, "kv.partitioner");
    for (int i = 0; i < p->nclients; i++) {
        g->clients[i].g = g;
        g->clients[i].cli = i;
        sim_rand_init_n(&g->clients[i].rand, sim, "kv.client", i);
    }
    struct kv_cfg_clerk *ck = kv_cfg_make_client(cfg, all, kv_cfg_all(cfg, all));
    for (int round = 0; round < 3; round++)
        generic_round(g, ck);
    kv_cfg_check_history(cfg);
    kv_cfg_end(cfg, NULL);
    kv_cfg_cleanup(cfg);
}

/* ---------------------------------------------------------------- speed */

#define SPEED_OPS 1000
/* Go: heartbeat interval 100 ms, at least 3 ops per interval: 33333333 ns per op. */
#define SPEED_NS_PER_OP (100000000ull / 3ull)

void kv_generic_test_speed(struct lab_ctx *ctx, const char *name, int64_t maxraftstate)
{
    int all[KV_CFG_SERVERS_MAX];
    char value[64];
    struct sim *sim = lab_sim(ctx);
    struct kv_cfg *cfg = kv_cfg_make(ctx, name, 3, false, maxraftstate);
    struct kv_cfg_clerk *ck = kv_cfg_make_client(cfg, all, kv_cfg_all(cfg, all));
    kv_cfg_begin(cfg, "ops complete fast enough");
    /* Wait until the first op completes: a leader is elected and the servers serve. */
    kv_cfg_op(cfg, ck, KV_CFG_GET, "x", NULL, -1, false);
    sim_time_us start_us = sim_now_us(sim);
    for (int i = 0; i < SPEED_OPS; i++) {
        snprintf(value, sizeof(value), "x 0 %d y", i);
        kv_cfg_op(cfg, ck, KV_CFG_APPEND, "x", value, -1, false);
    }
    uint64_t dur_ns = (sim_now_us(sim) - start_us) * 1000u;
    const char *v = kv_cfg_op(cfg, ck, KV_CFG_GET, "x", NULL, -1, false);
    kv_cfg_check_clnt_appends(cfg, 0, v, SPEED_OPS);
    if (dur_ns > SPEED_OPS * SPEED_NS_PER_OP) {
        char per_op[32];
        char limit[32];
        kv_cfg_duration_format(dur_ns / SPEED_OPS, per_op, sizeof(per_op));
        kv_cfg_duration_format(SPEED_NS_PER_OP, limit, sizeof(limit));
        lab_fatalf(ctx, SIM_NODE_NONE, "Operations completed too slowly %s/op > %s/op\n", per_op,
                   limit);
    }
    kv_cfg_check_history(cfg);
    char extra[64];
    double ops_per_s = dur_ns > 0 ? (double)SPEED_OPS * 1e9 / (double)dur_ns : 0.0;
    snprintf(extra, sizeof(extra), "  %.1f ops/s", ops_per_s);
    kv_cfg_end(cfg, extra);
    kv_cfg_cleanup(cfg);
}
