/* skv_cfg: controllers, groups, persisters, the network and the clerks of the shardkv tester
 * (config.go), see skv_cfg.h. The history and its check are in skv_cfg_hist.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_persist.h"
#include "skv_cfg_int.h"
#include "skv_tests.h"

#define CFG_TIMEOUT_US SIM_S(120) /* checkTimeout's two-minute limit, in virtual time */
/* The CPU time of one client request, as the kvraft tester charges it (see kv_cfg_service_us
 * in tests/kvraft/kv_cfg.c: Go's measured cost of a request, 40 us plus 13 ns per byte of
 * persisted state and snapshot). Without it a client loop runs ops tens of times faster than
 * any Go shardkv could: TestConcurrent3_5B's ten appenders would make 200,000 ops, each
 * applied op of a small maxraftstate re-encoding a snapshot that grows with them. */
#define CFG_CPU_REQUEST_US 40u
#define CFG_CPU_STATE_NS_PER_BYTE 13u

static const struct sim_trace_kind kind_fault = {460, SIM_TOPIC_FAULT, "skvcfg.fault", {NULL}};

static int server_id(const struct skv_cfg *cfg, int gi, int i)
{
    return SKV_CFG_CTLS_MAX * SKV_CFG_CTRLERS + gi * cfg->n + i;
}

static void grave_add(struct skv_cfg *cfg, void **graves, size_t *count, void *p)
{
    if (*count >= SKV_CFG_GRAVE_MAX) {
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "more than %u restarts", SKV_CFG_GRAVE_MAX);
        return;
    }
    graves[(*count)++] = p;
}

/* ---------------------------------------------------------------- lifecycle */

/* Names every node the config may build, for the study tools: controller service k's server i
 * is "ctl/i" (k = 0) or "ctl1/i" (TestRejection5A's second service), group gid's server i
 * "g<gid>/i". Names are labels only: no digest depends on them. */
static void cfg_name_nodes(struct skv_cfg *cfg)
{
    char name[32]; /* any int fits; sim_node_name_set refuses what is too long */
    for (int k = 0; k < SKV_CFG_CTLS_MAX; k++) {
        for (int i = 0; i < SKV_CFG_CTRLERS; i++) {
            if (k == 0)
                snprintf(name, sizeof(name), "ctl/%d", i);
            else
                snprintf(name, sizeof(name), "ctl%d/%d", k, i);
            int rc = sim_node_name_set(cfg->sim, k * SKV_CFG_CTRLERS + i, name);
            SIM_ASSERTF(cfg->sim, SIM_NODE_NONE, rc == SIM_OK, "naming %s: %s", name,
                        sim_strerror(rc));
        }
    }
    for (int gi = 0; gi < SKV_CFG_GROUPS; gi++) {
        for (int i = 0; i < cfg->n; i++) {
            snprintf(name, sizeof(name), "g%d/%d", cfg->groups[gi].gid, i);
            int rc = sim_node_name_set(cfg->sim, server_id(cfg, gi, i), name);
            SIM_ASSERTF(cfg->sim, SIM_NODE_NONE, rc == SIM_OK, "naming %s: %s", name,
                        sim_strerror(rc));
        }
    }
}

static void cfg_free(void *user)
{
    struct skv_cfg *cfg = user;
    if (cfg == NULL) return;
    if (cfg->net != NULL) rpc_net_fail_inflight(cfg->net);
    for (int gi = 0; gi < SKV_CFG_GROUPS; gi++) {
        for (int i = 0; i < SKV_CFG_N_MAX; i++) {
            skv_server_free(cfg->groups[gi].servers[i]);
            raft_persister_free(cfg->groups[gi].saved[i]);
        }
    }
    for (int k = 0; k < SKV_CFG_CTLS_MAX; k++) {
        for (int i = 0; i < SKV_CFG_CTRLERS; i++) {
            sc_server_free(cfg->ctls[k].servers[i]);
            raft_persister_free(cfg->ctls[k].saved[i]);
        }
        sc_clerk_free(cfg->ctls[k].ck);
    }
    for (size_t k = 0; k < cfg->grave_servers_count; k++)
        skv_server_free(cfg->grave_servers[k]);
    for (size_t k = 0; k < cfg->grave_persisters_count; k++)
        raft_persister_free(cfg->grave_persisters[k]);
    for (size_t k = 0; k < cfg->clerks_count; k++)
        skv_clerk_free(cfg->clerks[k]);
    for (size_t k = 0; k < cfg->scratch_count; k++)
        free(cfg->scratch[k]);
    if (cfg->net != NULL) rpc_net_free(cfg->net);
    skv_cfg_history_free(cfg);
    free(cfg);
}

struct skv_cfg *skv_cfg_make(struct lab_ctx *ctx, const char *test_name, int n, bool unreliable,
                             int64_t maxraftstate)
{
    struct sim *sim = lab_sim(ctx);
    SIM_ASSERT(sim, SIM_NODE_NONE, n > 0);
    SIM_ASSERT(sim, SIM_NODE_NONE, n <= SKV_CFG_N_MAX);
    struct skv_cfg *cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL) {
        lab_fatalf(ctx, SIM_NODE_NONE, "out of memory building the config");
        return NULL;
    }
    cfg->ctx = ctx;
    cfg->sim = sim;
    cfg->test_name = test_name;
    cfg->n = n;
    cfg->maxraftstate = maxraftstate;
    cfg->start_us = sim_now_us(sim);
    sim_rand_init(&cfg->rand, sim, "skv.cfg");
    lab_set_user(ctx, cfg);
    lab_set_user_free(ctx, cfg_free);
    lab_set_inspector(ctx, skv_cfg_inspect);
    cfg->net = rpc_net_new(sim);
    if (cfg->net == NULL) lab_fatalf(ctx, SIM_NODE_NONE, "out of memory building the network");
    for (int gi = 0; gi < SKV_CFG_GROUPS; gi++)
        cfg->groups[gi].gid = 100 + gi;
    cfg_name_nodes(cfg);
    skv_cfg_start_ctl(cfg, 0);
    for (int gi = 0; gi < SKV_CFG_GROUPS; gi++)
        skv_cfg_start_group(cfg, gi);
    rpc_net_set_reliable(cfg->net, !unreliable);
    return cfg;
}

void skv_cfg_cleanup(struct skv_cfg *cfg)
{
    for (int gi = 0; gi < SKV_CFG_GROUPS; gi++)
        skv_cfg_shutdown_group(cfg, gi);
    for (int k = 0; k < SKV_CFG_CTLS_MAX; k++) {
        for (int i = 0; i < SKV_CFG_CTRLERS; i++) {
            if (cfg->ctls[k].servers[i] != NULL) sc_server_kill(cfg->ctls[k].servers[i]);
        }
    }
    rpc_net_cleanup(cfg->net);
    if (!lab_failed(cfg->ctx) && sim_now_us(cfg->sim) - cfg->start_us > CFG_TIMEOUT_US)
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "test took longer than 120 seconds");
}

struct lab_ctx *skv_cfg_lab(const struct skv_cfg *cfg)
{
    return cfg->ctx;
}

struct sim *skv_cfg_sim(const struct skv_cfg *cfg)
{
    return cfg->sim;
}

struct sim_rand *skv_cfg_rand(struct skv_cfg *cfg)
{
    return &cfg->rand;
}

void *skv_cfg_scratch(struct skv_cfg *cfg, size_t size)
{
    if (cfg->scratch_count >= SKV_CFG_SCRATCH_MAX) {
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "more than %u scratch blocks", SKV_CFG_SCRATCH_MAX);
        return NULL;
    }
    void *p = calloc(1, size > 0 ? size : 1);
    if (p == NULL) lab_fatalf(cfg->ctx, SIM_NODE_NONE, "out of memory for test state");
    cfg->scratch[cfg->scratch_count++] = p;
    return p;
}

void skv_cfg_begin(struct skv_cfg *cfg, const char *title)
{
    lab_begin(cfg->ctx, title);
    cfg->t0_us = sim_now_us(cfg->sim);
    cfg->rpcs0 = rpc_net_total_count(cfg->net);
    cfg->ops = 0;
}

void skv_cfg_end(struct skv_cfg *cfg)
{
    char counts[96];
    skv_cfg_check_history(cfg); /* before the Passed line, as Go checks before end() */
    double seconds = (double)(sim_now_us(cfg->sim) - cfg->t0_us) / (double)SIM_US_PER_S;
    snprintf(counts, sizeof(counts), "%d %5" PRIu64 " %4" PRIu32, cfg->n,
             rpc_net_total_count(cfg->net) - cfg->rpcs0, cfg->ops);
    lab_passed(cfg->ctx, seconds, counts);
}

void skv_cfg_mark(struct skv_cfg *cfg, int node, const char *label)
{
    sim_tracef(cfg->sim, node, &kind_fault, 0, 0, "%s", label);
}

/* A new clerk's id, drawn from the sim (stream "skv.clerk" n for the n-th clerk, like Go's
 * nrand()); never 0. The kernel's sim_nrand will replace this when it lands. */
static uint64_t clerk_id_new(struct skv_cfg *cfg)
{
    struct sim_rand r;
    sim_rand_init_n(&r, cfg->sim, "skv.clerk", (int64_t)cfg->clerk_ids_drawn++);
    return sim_rand_u64(&r) | 1u;
}

/* ---------------------------------------------------------------- controllers */

static struct rpc_end *end_new(struct skv_cfg *cfg, int node, int to_id, bool enabled)
{
    char name[RPC_NAME_MAX];
    snprintf(name, sizeof(name), "e%" PRIu64, cfg->ends_made++);
    struct rpc_end *end = rpc_net_make_end(cfg->net, name);
    SIM_ASSERTF(cfg->sim, node, end != NULL, "out of memory for an end");
    rpc_end_set_node(end, node);
    rpc_net_connect(cfg->net, end, to_id);
    rpc_net_enable(cfg->net, end, enabled);
    return end;
}

/* Fresh ends to the servers of controller service `ctl`, shuffled (random_handles). */
static void ctl_ends_new(struct skv_cfg *cfg, int ctl, int node, struct rpc_end **ends)
{
    int order[SKV_CFG_CTRLERS];
    for (int j = 0; j < SKV_CFG_CTRLERS; j++)
        order[j] = j;
    sim_rand_shuffle_int(&cfg->rand, order, SKV_CFG_CTRLERS);
    for (int j = 0; j < SKV_CFG_CTRLERS; j++)
        ends[j] = end_new(cfg, node, ctl * SKV_CFG_CTRLERS + order[j], true);
}

void skv_cfg_start_ctl(struct skv_cfg *cfg, int ctl)
{
    struct skv_cfg_ctl *c = &cfg->ctls[ctl];
    struct rpc_end *ends[SKV_CFG_CTRLERS];
    SIM_ASSERT(cfg->sim, SIM_NODE_NONE, ctl >= 0 && ctl < SKV_CFG_CTLS_MAX);
    if (c->started) return;
    c->started = true;
    for (int i = 0; i < SKV_CFG_CTRLERS; i++) {
        int id = ctl * SKV_CFG_CTRLERS + i;
        for (int j = 0; j < SKV_CFG_CTRLERS; j++)
            c->ends[i][j] = end_new(cfg, id, ctl * SKV_CFG_CTRLERS + j, true);
        c->saved[i] = lab_persister_new(cfg->ctx, id, "ctl");
        struct rpc_server *server = rpc_server_new(cfg->net);
        if (c->saved[i] == NULL || server == NULL)
            lab_fatalf(cfg->ctx, id, "out of memory starting a controller");
        int node = sim_node_swap(cfg->sim, id);
        int rc = sc_server_start(cfg->sim, c->ends[i], SKV_CFG_CTRLERS, i, c->saved[i], server,
                                 &c->servers[i]);
        sim_node_swap(cfg->sim, node);
        if (rc != SC_OK) lab_fatalf(cfg->ctx, id, "controller start: %s", sc_strerror(rc));
        if (rc == SC_OK) lab_persister_check_taken(cfg->ctx, id, c->saved[i]);
        rpc_net_add_server(cfg->net, id, server);
    }
    ctl_ends_new(cfg, ctl, SIM_NODE_NONE, ends);
    c->ck = sc_clerk_new(cfg->sim, ends, SKV_CFG_CTRLERS, clerk_id_new(cfg));
    if (c->ck == NULL) lab_fatalf(cfg->ctx, SIM_NODE_NONE, "out of memory for a clerk");
}

/* ---------------------------------------------------------------- make_end */

/* config.go's make_end: a fresh enabled end to the server named `name`. */
static struct rpc_end *cfg_make_end(void *arg, const char *name)
{
    struct skv_cfg *cfg = arg;
    int gid = 0;
    int i = 0;
    char tail = 0;
    if (sscanf(name, "server-%d-%d%c", &gid, &i, &tail) != 2) return NULL;
    int gi = gid - 100;
    if (gi < 0 || gi >= SKV_CFG_GROUPS || i < 0 || i >= cfg->n) return NULL;
    return end_new(cfg, sim_node_current(cfg->sim), server_id(cfg, gi, i), true);
}

static void server_name(const struct skv_cfg *cfg, int gi, int i, char *buf, size_t size)
{
    snprintf(buf, size, "server-%d-%d", cfg->groups[gi].gid, i);
}

/* ---------------------------------------------------------------- groups */

static void saved_copy(struct skv_cfg *cfg, struct raft_persister **saved)
{
    struct raft_persister *copy = raft_persister_copy(*saved);
    if (copy == NULL) lab_fatalf(cfg->ctx, SIM_NODE_NONE, "cannot copy a persister");
    grave_add(cfg, (void **)cfg->grave_persisters, &cfg->grave_persisters_count, *saved);
    *saved = copy;
}

static sim_time_us cfg_service_us(void *arg)
{
    struct raft_persister *const *saved = arg;
    uint64_t bytes = 0;
    if (*saved != NULL)
        bytes = raft_persister_state_size(*saved) + raft_persister_snapshot_size(*saved);
    return CFG_CPU_REQUEST_US + bytes * CFG_CPU_STATE_NS_PER_BYTE / 1000u;
}

void skv_cfg_start_server(struct skv_cfg *cfg, int gi, int i)
{
    struct skv_cfg_group *g = &cfg->groups[gi];
    struct rpc_end *ctl_ends[SKV_CFG_CTRLERS];
    int id = server_id(cfg, gi, i);
    SIM_ASSERT(cfg->sim, id, g->servers[i] == NULL);
    for (int j = 0; j < cfg->n; j++)
        g->ends[i][j] = end_new(cfg, id, server_id(cfg, gi, j), true);
    ctl_ends_new(cfg, 0, id, ctl_ends);
    memcpy(g->ctl_ends[i], ctl_ends, sizeof(ctl_ends));
    if (g->saved[i] != NULL)
        saved_copy(cfg, &g->saved[i]);
    else
        g->saved[i] = lab_persister_new(cfg->ctx, id, "skv");
    struct rpc_server *server = rpc_server_new(cfg->net);
    if (g->saved[i] == NULL || server == NULL)
        lab_fatalf(cfg->ctx, id, "out of memory starting a server");
    int node = sim_node_swap(cfg->sim, id);
    int rc =
        skv_server_start(cfg->sim, g->ends[i], cfg->n, i, g->saved[i], cfg->maxraftstate, g->gid,
                         ctl_ends, SKV_CFG_CTRLERS, cfg_make_end, cfg, server, &g->servers[i]);
    sim_node_swap(cfg->sim, node);
    if (rc != SKV_OK) lab_fatalf(cfg->ctx, id, "StartServer failed: %s", skv_strerror(rc));
    if (rc == SKV_OK) lab_persister_check_taken(cfg->ctx, id, g->saved[i]);
    rc = rpc_server_set_service_time(server, "ShardKV", cfg_service_us, &g->saved[i]);
    SIM_ASSERTF(cfg->sim, id, rc == RPC_OK, "service time: %s", rpc_strerror(rc));
    rpc_net_add_server(cfg->net, id, server);
    if (++g->generation[i] > 1) {
        char label[64];
        snprintf(label, sizeof(label), "restart %d-%d", g->gid, i);
        skv_cfg_mark(cfg, id, label);
    }
}

void skv_cfg_shutdown_server(struct skv_cfg *cfg, int gi, int i)
{
    struct skv_cfg_group *g = &cfg->groups[gi];
    int id = server_id(cfg, gi, i);
    char label[64];
    for (int j = 0; j < cfg->n; j++) {
        if (g->ends[i][j] != NULL) rpc_net_enable(cfg->net, g->ends[i][j], false);
    }
    for (int j = 0; j < SKV_CFG_CTRLERS; j++) {
        if (g->ctl_ends[i][j] != NULL) rpc_net_enable(cfg->net, g->ctl_ends[i][j], false);
    }
    rpc_net_delete_server(cfg->net, id);
    if (g->saved[i] != NULL) saved_copy(cfg, &g->saved[i]);
    if (g->servers[i] == NULL) return;
    skv_server_kill(g->servers[i]);
    grave_add(cfg, (void **)cfg->grave_servers, &cfg->grave_servers_count, g->servers[i]);
    g->servers[i] = NULL;
    snprintf(label, sizeof(label), "crash %d-%d", g->gid, i);
    skv_cfg_mark(cfg, id, label);
}

void skv_cfg_start_group(struct skv_cfg *cfg, int gi)
{
    for (int i = 0; i < cfg->n; i++)
        skv_cfg_start_server(cfg, gi, i);
}

void skv_cfg_shutdown_group(struct skv_cfg *cfg, int gi)
{
    for (int i = 0; i < cfg->n; i++)
        skv_cfg_shutdown_server(cfg, gi, i);
}

/* ---------------------------------------------------------------- join / leave */

static struct sc_group group_of(const struct skv_cfg *cfg, int gi)
{
    struct sc_group g;
    memset(&g, 0, sizeof(g));
    g.gid = cfg->groups[gi].gid;
    g.servers_count = cfg->n;
    for (int i = 0; i < cfg->n; i++)
        server_name(cfg, gi, i, g.servers[i], sizeof(g.servers[i]));
    return g;
}

static void ctl_check(struct skv_cfg *cfg, const char *what, int rc)
{
    if (rc != SC_OK) lab_fatalf(cfg->ctx, SIM_NODE_NONE, "%s: %s", what, sc_strerror(rc));
}

void skv_cfg_ctljoin(struct skv_cfg *cfg, int gi, int ctl)
{
    struct sc_group g = group_of(cfg, gi);
    char label[32];
    snprintf(label, sizeof(label), "join %d", g.gid);
    skv_cfg_mark(cfg, SIM_NODE_NONE, label);
    ctl_check(cfg, "Join", sc_clerk_join(cfg->ctls[ctl].ck, &g, 1));
}

void skv_cfg_join(struct skv_cfg *cfg, int gi)
{
    skv_cfg_ctljoin(cfg, gi, 0);
}

void skv_cfg_joinm(struct skv_cfg *cfg, const int *gis, int count)
{
    struct sc_group groups[SKV_CFG_GROUPS];
    SIM_ASSERT(cfg->sim, SIM_NODE_NONE, count > 0 && count <= SKV_CFG_GROUPS);
    for (int k = 0; k < count; k++)
        groups[k] = group_of(cfg, gis[k]);
    skv_cfg_mark(cfg, SIM_NODE_NONE, "joinm");
    ctl_check(cfg, "Join", sc_clerk_join(cfg->ctls[0].ck, groups, count));
}

void skv_cfg_leavem(struct skv_cfg *cfg, const int *gis, int count)
{
    int gids[SKV_CFG_GROUPS];
    char label[32];
    SIM_ASSERT(cfg->sim, SIM_NODE_NONE, count > 0 && count <= SKV_CFG_GROUPS);
    for (int k = 0; k < count; k++)
        gids[k] = cfg->groups[gis[k]].gid;
    snprintf(label, sizeof(label), "leave %d%s", gids[0], count > 1 ? "..." : "");
    skv_cfg_mark(cfg, SIM_NODE_NONE, label);
    ctl_check(cfg, "Leave", sc_clerk_leave(cfg->ctls[0].ck, gids, count));
}

void skv_cfg_leave(struct skv_cfg *cfg, int gi)
{
    skv_cfg_leavem(cfg, &gi, 1);
}

void skv_cfg_query(struct skv_cfg *cfg, struct sc_config *out)
{
    ctl_check(cfg, "Query", sc_clerk_query(cfg->ctls[0].ck, -1, out));
}

/* ---------------------------------------------------------------- logs */

void skv_cfg_checklogs(struct skv_cfg *cfg)
{
    for (int gi = 0; gi < SKV_CFG_GROUPS; gi++) {
        for (int i = 0; i < cfg->n; i++) {
            const struct raft_persister *p = cfg->groups[gi].saved[i];
            size_t raft = raft_persister_state_size(p);
            size_t snap = raft_persister_snapshot_size(p);
            if (cfg->maxraftstate >= 0 && raft > 8 * (size_t)cfg->maxraftstate)
                lab_fatalf(cfg->ctx, server_id(cfg, gi, i),
                           "persister.RaftStateSize() %zu, but maxraftstate %lld", raft,
                           (long long)cfg->maxraftstate);
            if (cfg->maxraftstate < 0 && snap > 0)
                lab_fatalf(cfg->ctx, server_id(cfg, gi, i),
                           "maxraftstate is -1, but snapshot is non-empty!");
        }
    }
}

size_t skv_cfg_total_size(const struct skv_cfg *cfg)
{
    size_t total = 0;
    for (int gi = 0; gi < SKV_CFG_GROUPS; gi++) {
        for (int i = 0; i < cfg->n; i++) {
            const struct raft_persister *p = cfg->groups[gi].saved[i];
            total += raft_persister_state_size(p) + raft_persister_snapshot_size(p);
        }
    }
    return total;
}

/* ---------------------------------------------------------------- clerks */

struct skv_clerk *skv_cfg_make_client(struct skv_cfg *cfg, int ctl)
{
    struct rpc_end *ends[SKV_CFG_CTRLERS];
    if (cfg->clerks_count >= SKV_CFG_CLERKS_MAX) {
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "more than %u clerks", SKV_CFG_CLERKS_MAX);
        return NULL;
    }
    ctl_ends_new(cfg, ctl, SIM_NODE_NONE, ends);
    struct skv_clerk *ck =
        skv_clerk_new(cfg->sim, ends, SKV_CFG_CTRLERS, cfg_make_end, cfg, clerk_id_new(cfg));
    if (ck == NULL) lab_fatalf(cfg->ctx, SIM_NODE_NONE, "MakeClerk failed");
    cfg->clerks[cfg->clerks_count++] = ck;
    return ck;
}

int skv_cfg_clerk_number(const struct skv_cfg *cfg, const struct skv_clerk *ck)
{
    for (size_t k = 0; k < cfg->clerks_count; k++) {
        if (cfg->clerks[k] == ck) return (int)k;
    }
    return -1;
}

void skv_cfg_randstring(struct sim_rand *r, char *buf, int n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int i = 0; i < n; i++)
        buf[i] = alphabet[sim_rand_below(r, sizeof(alphabet) - 1)];
    buf[n] = 0;
}

void skv_cfg_set_reliable(struct skv_cfg *cfg, bool reliable)
{
    rpc_net_set_reliable(cfg->net, reliable);
}
