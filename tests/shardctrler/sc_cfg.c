/* sc_cfg: servers, persisters, network and clerks of the shard controller's tester (config.go)
 * and its check helpers (see sc_cfg.h).
 *
 * Links: ends[i][j] is server i's end to server j; connect_all enables every one of them. A
 * restart makes a fresh, disabled row of ends for the server, so a killed instance's ends stay
 * disabled forever.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_persist.h"
#include "sc_cfg.h"

#define CFG_TIMEOUT_US SIM_S(120) /* checkTimeout's two-minute limit, in virtual time */
#define CFG_SCRATCH_MAX 64u

struct sc_cfg {
    struct lab_ctx *ctx;
    struct sim *sim;
    int n;
    struct rpc_net *net;
    struct sim_rand rand; /* "sc.cfg": clerk end order */
    struct sc_server *servers[SC_CFG_SERVERS_MAX];
    struct raft_persister *saved[SC_CFG_SERVERS_MAX];
    struct rpc_end *ends[SC_CFG_SERVERS_MAX][SC_CFG_SERVERS_MAX];
    uint32_t generation[SC_CFG_SERVERS_MAX];
    struct sc_server *grave_servers[SC_CFG_GRAVE_MAX];
    size_t grave_servers_count;
    struct raft_persister *grave_persisters[SC_CFG_GRAVE_MAX];
    size_t grave_persisters_count;
    struct sc_clerk *clerks[SC_CFG_CLERKS_MAX];
    size_t clerks_count;
    void *scratch[CFG_SCRATCH_MAX];
    size_t scratch_count;
    sim_time_us start_us;
    sim_time_us t0_us;
    uint64_t rpcs0;
    struct sc_config check_config; /* sc_cfg_check's Query(-1) (main task only) */
};

static void cfg_free(void *user)
{
    struct sc_cfg *cfg = user;
    if (cfg == NULL) return;
    if (cfg->net != NULL) rpc_net_fail_inflight(cfg->net);
    for (int i = 0; i < SC_CFG_SERVERS_MAX; i++) {
        sc_server_free(cfg->servers[i]);
        raft_persister_free(cfg->saved[i]);
    }
    for (size_t k = 0; k < cfg->grave_servers_count; k++)
        sc_server_free(cfg->grave_servers[k]);
    for (size_t k = 0; k < cfg->grave_persisters_count; k++)
        raft_persister_free(cfg->grave_persisters[k]);
    for (size_t k = 0; k < cfg->clerks_count; k++)
        sc_clerk_free(cfg->clerks[k]);
    for (size_t k = 0; k < cfg->scratch_count; k++)
        free(cfg->scratch[k]);
    if (cfg->net != NULL) rpc_net_free(cfg->net);
    free(cfg);
}

struct sc_cfg *sc_cfg_make(struct lab_ctx *ctx, int n, bool unreliable)
{
    struct sim *sim = lab_sim(ctx);
    SIM_ASSERT(sim, SIM_NODE_NONE, n > 0);
    SIM_ASSERT(sim, SIM_NODE_NONE, n <= SC_CFG_SERVERS_MAX);
    struct sc_cfg *cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL) {
        lab_fatalf(ctx, SIM_NODE_NONE, "out of memory building the config");
        return NULL;
    }
    cfg->ctx = ctx;
    cfg->sim = sim;
    cfg->n = n;
    cfg->start_us = sim_now_us(sim);
    sim_rand_init(&cfg->rand, sim, "sc.cfg");
    lab_set_user(ctx, cfg);
    lab_set_user_free(ctx, cfg_free);
    cfg->net = rpc_net_new(sim);
    if (cfg->net == NULL) lab_fatalf(ctx, SIM_NODE_NONE, "out of memory building the network");
    for (int i = 0; i < n; i++) {
        char name[32]; /* any int fits; sim_node_name_set refuses what is too long */
        snprintf(name, sizeof(name), "ctl/%d", i); /* labels for the study tools, as lab 5B's */
        int rc = sim_node_name_set(sim, i, name);
        SIM_ASSERTF(sim, SIM_NODE_NONE, rc == SIM_OK, "naming %s: %s", name, sim_strerror(rc));
        sc_cfg_start_server(cfg, i);
    }
    sc_cfg_connect_all(cfg);
    rpc_net_set_reliable(cfg->net, !unreliable);
    return cfg;
}

void sc_cfg_cleanup(struct sc_cfg *cfg)
{
    for (int i = 0; i < cfg->n; i++) {
        if (cfg->servers[i] != NULL) sc_server_kill(cfg->servers[i]);
    }
    rpc_net_cleanup(cfg->net);
    if (!lab_failed(cfg->ctx) && sim_now_us(cfg->sim) - cfg->start_us > CFG_TIMEOUT_US)
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "test took longer than 120 seconds");
}

struct lab_ctx *sc_cfg_lab(const struct sc_cfg *cfg)
{
    return cfg->ctx;
}

struct sim *sc_cfg_sim(const struct sc_cfg *cfg)
{
    return cfg->sim;
}

void *sc_cfg_scratch(struct sc_cfg *cfg, size_t size)
{
    if (cfg->scratch_count >= CFG_SCRATCH_MAX) {
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "more than %u scratch blocks", CFG_SCRATCH_MAX);
        return NULL;
    }
    void *p = calloc(1, size > 0 ? size : 1);
    if (p == NULL) lab_fatalf(cfg->ctx, SIM_NODE_NONE, "out of memory for test state");
    cfg->scratch[cfg->scratch_count++] = p;
    return p;
}

void sc_cfg_begin(struct sc_cfg *cfg, const char *title)
{
    lab_begin(cfg->ctx, title);
    cfg->t0_us = sim_now_us(cfg->sim);
    cfg->rpcs0 = rpc_net_total_count(cfg->net);
}

void sc_cfg_end(struct sc_cfg *cfg)
{
    char counts[64];
    double seconds = (double)(sim_now_us(cfg->sim) - cfg->t0_us) / (double)SIM_US_PER_S;
    snprintf(counts, sizeof(counts), "%d %5" PRIu64, cfg->n,
             rpc_net_total_count(cfg->net) - cfg->rpcs0);
    lab_passed(cfg->ctx, seconds, counts);
}

/* ---------------------------------------------------------------- servers */

void sc_cfg_connect_all(struct sc_cfg *cfg)
{
    for (int i = 0; i < cfg->n; i++) {
        for (int j = 0; j < cfg->n; j++) {
            if (cfg->servers[i] != NULL && cfg->servers[j] != NULL)
                rpc_net_enable(cfg->net, cfg->ends[i][j], true);
        }
    }
}

static void grave_persister(struct sc_cfg *cfg, int i)
{
    struct raft_persister *copy = raft_persister_copy(cfg->saved[i]);
    if (copy == NULL || cfg->grave_persisters_count >= SC_CFG_GRAVE_MAX) {
        raft_persister_free(copy);
        lab_fatalf(cfg->ctx, i, "cannot copy persister %d", i);
        return;
    }
    cfg->grave_persisters[cfg->grave_persisters_count++] = cfg->saved[i];
    cfg->saved[i] = copy;
}

void sc_cfg_shutdown_server(struct sc_cfg *cfg, int i)
{
    SIM_ASSERT(cfg->sim, i, i >= 0 && i < cfg->n);
    for (int j = 0; j < cfg->n; j++) {
        rpc_net_enable(cfg->net, cfg->ends[i][j], false);
        rpc_net_enable(cfg->net, cfg->ends[j][i], false);
    }
    rpc_net_delete_server(cfg->net, i);
    if (cfg->saved[i] != NULL) grave_persister(cfg, i);
    struct sc_server *sc = cfg->servers[i];
    if (sc == NULL) return;
    sc_server_kill(sc);
    cfg->servers[i] = NULL;
    if (cfg->grave_servers_count >= SC_CFG_GRAVE_MAX) {
        lab_fatalf(cfg->ctx, i, "more than %u server restarts", SC_CFG_GRAVE_MAX);
        return;
    }
    cfg->grave_servers[cfg->grave_servers_count++] = sc;
}

void sc_cfg_start_server(struct sc_cfg *cfg, int i)
{
    char name[RPC_NAME_MAX];
    SIM_ASSERT(cfg->sim, i, i >= 0 && i < cfg->n);
    SIM_ASSERT(cfg->sim, i, cfg->servers[i] == NULL);
    cfg->generation[i]++;
    for (int j = 0; j < cfg->n; j++) {
        snprintf(name, sizeof(name), "ctl%d-%d.g%" PRIu32, i, j, cfg->generation[i]);
        cfg->ends[i][j] = rpc_net_make_end(cfg->net, name);
        SIM_ASSERTF(cfg->sim, i, cfg->ends[i][j] != NULL, "out of memory for an end");
        rpc_end_set_node(cfg->ends[i][j], i);
        rpc_net_connect(cfg->net, cfg->ends[i][j], j);
    }
    if (cfg->saved[i] != NULL)
        grave_persister(cfg, i);
    else
        cfg->saved[i] = lab_persister_new(cfg->ctx, i, "ctl");
    struct rpc_server *server = rpc_server_new(cfg->net);
    if (cfg->saved[i] == NULL || server == NULL)
        lab_fatalf(cfg->ctx, i, "out of memory starting server %d", i);
    int node = sim_node_swap(cfg->sim, i);
    int rc =
        sc_server_start(cfg->sim, cfg->ends[i], cfg->n, i, cfg->saved[i], server, &cfg->servers[i]);
    sim_node_swap(cfg->sim, node);
    if (rc != SC_OK) lab_fatalf(cfg->ctx, i, "StartServer(%d) failed: %s", i, sc_strerror(rc));
    if (rc == SC_OK) lab_persister_check_taken(cfg->ctx, i, cfg->saved[i]);
    rpc_net_add_server(cfg->net, i, server);
}

bool sc_cfg_leader(struct sc_cfg *cfg, int *leader)
{
    for (int i = 0; i < cfg->n; i++) {
        uint64_t term = 0;
        if (cfg->servers[i] != NULL && raft_get_state(sc_server_raft(cfg->servers[i]), &term)) {
            *leader = i;
            return true;
        }
    }
    *leader = 0;
    return false;
}

/* ---------------------------------------------------------------- clerks */

struct sc_clerk *sc_cfg_make_client(struct sc_cfg *cfg)
{
    char name[RPC_NAME_MAX];
    struct rpc_end *ends[SC_CFG_SERVERS_MAX];
    int order[SC_CFG_SERVERS_MAX];
    if (cfg->clerks_count >= SC_CFG_CLERKS_MAX) {
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "more than %u clerks", SC_CFG_CLERKS_MAX);
        return NULL;
    }
    for (int j = 0; j < cfg->n; j++)
        order[j] = j;
    sim_rand_shuffle_int(&cfg->rand, order, (size_t)cfg->n); /* random_handles */
    for (int j = 0; j < cfg->n; j++) {
        snprintf(name, sizeof(name), "sck%zu-%d", cfg->clerks_count, order[j]);
        ends[j] = rpc_net_make_end(cfg->net, name);
        SIM_ASSERTF(cfg->sim, SIM_NODE_NONE, ends[j] != NULL, "out of memory for an end");
        rpc_net_connect(cfg->net, ends[j], order[j]);
        rpc_net_enable(cfg->net, ends[j], true);
    }
    /* Drawn from the sim (stream "sc.clerk" n for the n-th clerk, like Go's nrand()); the
     * kernel's sim_nrand will replace this when it lands. */
    struct sim_rand id_rand;
    sim_rand_init_n(&id_rand, cfg->sim, "sc.clerk", (int64_t)cfg->clerks_count);
    uint64_t client_id = sim_rand_u64(&id_rand) | 1u;
    struct sc_clerk *ck = sc_clerk_new(cfg->sim, ends, cfg->n, client_id);
    if (ck == NULL) {
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "MakeClerk failed");
        return NULL;
    }
    cfg->clerks[cfg->clerks_count++] = ck;
    return ck;
}

static void call_check(struct sc_cfg *cfg, const char *what, int rc)
{
    if (rc != SC_OK) lab_fatalf(cfg->ctx, SIM_NODE_NONE, "%s failed: %s", what, sc_strerror(rc));
}

struct sc_group sc_cfg_group(int gid, const char *const *names)
{
    struct sc_group g;
    memset(&g, 0, sizeof(g));
    g.gid = gid;
    for (int i = 0; names[i] != NULL && i < SC_GROUP_SERVERS_MAX; i++) {
        snprintf(g.servers[i], sizeof(g.servers[i]), "%s", names[i]);
        g.servers_count++;
    }
    return g;
}

void sc_cfg_join(struct sc_cfg *cfg, struct sc_clerk *ck, const struct sc_group *groups, int n)
{
    call_check(cfg, "Join", sc_clerk_join(ck, groups, n));
}

void sc_cfg_join1(struct sc_cfg *cfg, struct sc_clerk *ck, int gid, const char *const *names)
{
    struct sc_group g = sc_cfg_group(gid, names);
    sc_cfg_join(cfg, ck, &g, 1);
}

void sc_cfg_leave(struct sc_cfg *cfg, struct sc_clerk *ck, const int *gids, int n)
{
    call_check(cfg, "Leave", sc_clerk_leave(ck, gids, n));
}

void sc_cfg_leave1(struct sc_cfg *cfg, struct sc_clerk *ck, int gid)
{
    sc_cfg_leave(cfg, ck, &gid, 1);
}

void sc_cfg_move(struct sc_cfg *cfg, struct sc_clerk *ck, int shard, int gid)
{
    call_check(cfg, "Move", sc_clerk_move(ck, shard, gid));
}

void sc_cfg_query(struct sc_cfg *cfg, struct sc_clerk *ck, int num, struct sc_config *out)
{
    call_check(cfg, "Query", sc_clerk_query(ck, num, out));
}

/* ---------------------------------------------------------------- checks */

void sc_cfg_check(struct sc_cfg *cfg, struct sc_clerk *ck, const int *gids, int n)
{
    struct sc_config *c = &cfg->check_config;
    struct lab_ctx *ctx = cfg->ctx;
    sc_cfg_query(cfg, ck, -1, c);
    if (c->groups_count != n)
        lab_fatalf(ctx, SIM_NODE_NONE, "wanted %d groups, got %d", n, c->groups_count);
    for (int k = 0; k < n; k++) {
        if (sc_config_group(c, gids[k]) == NULL)
            lab_fatalf(ctx, SIM_NODE_NONE, "missing group %d", gids[k]);
    }
    for (int s = 0; n > 0 && s < SC_NSHARDS; s++) {
        if (sc_config_group(c, c->shards[s]) == NULL)
            lab_fatalf(ctx, SIM_NODE_NONE, "shard %d -> invalid group %d", s, c->shards[s]);
    }
    int min = 257;
    int max = 0;
    for (int g = 0; g < c->groups_count; g++) {
        int count = 0;
        for (int s = 0; s < SC_NSHARDS; s++)
            count += c->shards[s] == c->groups[g].gid;
        min = count < min ? count : min;
        max = count > max ? count : max;
    }
    if (max > min + 1)
        lab_fatalf(ctx, SIM_NODE_NONE, "max %d too much larger than min %d", max, min);
}

void sc_cfg_check_same(struct sc_cfg *cfg, const struct sc_config *c1, const struct sc_config *c2)
{
    struct lab_ctx *ctx = cfg->ctx;
    if (c1->num != c2->num) lab_fatalf(ctx, SIM_NODE_NONE, "Num wrong");
    if (memcmp(c1->shards, c2->shards, sizeof(c1->shards)) != 0)
        lab_fatalf(ctx, SIM_NODE_NONE, "Shards wrong");
    if (c1->groups_count != c2->groups_count)
        lab_fatalf(ctx, SIM_NODE_NONE, "number of Groups is wrong");
    for (int g = 0; g < c1->groups_count; g++) {
        const struct sc_group *a = &c1->groups[g];
        const struct sc_group *b = sc_config_group(c2, a->gid);
        if (b == NULL || a->servers_count != b->servers_count)
            lab_fatalf(ctx, SIM_NODE_NONE, "len(Groups) wrong");
        for (int i = 0; i < a->servers_count; i++) {
            if (strcmp(a->servers[i], b->servers[i]) != 0)
                lab_fatalf(ctx, SIM_NODE_NONE, "Groups wrong");
        }
    }
}
