/* raft_cfg: servers, persisters and the network of the Raft tester (config.go's make_config,
 * start1, crash1, connect, disconnect, cleanup and the thin Network wrappers).
 *
 * The network is always one connected group plus fully isolated peers: connect(i) enables
 * i's links only to and from peers that are connected themselves; disconnect(i) disables all
 * of i's current ends, both ways. A restart makes fresh ends, so a killed instance's ends stay
 * disabled forever.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "lab_persist.h"
#include "raft_cfg_int.h"

/* Harness fault kinds (ids 410-419 belong to this file). */
static const struct sim_trace_kind cfg_kind_connect = {410, SIM_TOPIC_FAULT, "cfg.connect", {NULL}};
static const struct sim_trace_kind cfg_kind_disconnect = {
    411, SIM_TOPIC_FAULT, "cfg.disconnect", {NULL}};
static const struct sim_trace_kind cfg_kind_crash = {412, SIM_TOPIC_FAULT, "cfg.crash", {NULL}};
static const struct sim_trace_kind cfg_kind_start = {
    413, SIM_TOPIC_FAULT, "cfg.start", {"generation", "snapshot", NULL}};
static const struct sim_trace_kind cfg_kind_reliable = {
    414, SIM_TOPIC_FAULT, "cfg.reliable", {"reliable", NULL}};
static const struct sim_trace_kind cfg_kind_reordering = {
    415, SIM_TOPIC_FAULT, "cfg.long_reordering", {"on", NULL}};

static void cfg_assert_server(const struct raft_cfg *cfg, int i)
{
    SIM_ASSERT(cfg->sim, i, i >= 0);
    SIM_ASSERT(cfg->sim, i, i < cfg->n);
}

/* ---------------------------------------------------------------- lifecycle */

/* Releases everything the config owns. Runs after the last event of the run (registered with
 * lab_set_user_free), so no event can still reach a freed instance. */
static void cfg_free(void *user)
{
    struct raft_cfg *cfg = user;
    if (cfg == NULL) return;
    sim_set_event_hook(cfg->sim, NULL, NULL);
    /* Every call still in flight gets its failure callback while its Raft still exists. */
    if (cfg->net != NULL) rpc_net_fail_inflight(cfg->net);
    for (size_t k = 0; k < cfg->instances_count; k++) {
        struct raft_cfg_instance *inst = cfg->instances[k];
        if (inst->rf != NULL) {
            if (!raft_killed(inst->rf)) raft_kill(inst->rf);
            raft_free(inst->rf);
        }
        raft_persister_free(inst->persister);
        free(inst);
    }
    for (int i = 0; i < RAFT_CFG_SERVERS_MAX; i++) {
        if (cfg->saved[i] != NULL && !cfg->saved_lent[i]) raft_persister_free(cfg->saved[i]);
        raft_cfg_log_clear(&cfg->logs[i]);
        free(cfg->logs[i].slots);
    }
    if (cfg->net != NULL) rpc_net_free(cfg->net);
    free(cfg->instances);
    free(cfg->terms);
    free(cfg);
}

struct raft_cfg *raft_cfg_make(struct lab_ctx *ctx, int n, bool unreliable, bool snapshot)
{
    struct sim *sim = lab_sim(ctx);
    SIM_ASSERT(sim, SIM_NODE_NONE, n > 0);
    SIM_ASSERT(sim, SIM_NODE_NONE, n <= RAFT_CFG_SERVERS_MAX);
    struct raft_cfg *cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL) {
        lab_fatalf(ctx, SIM_NODE_NONE, "out of memory building the config");
        return NULL;
    }
    cfg->ctx = ctx;
    cfg->sim = sim;
    cfg->n = n;
    lab_set_user(ctx, cfg);
    lab_set_user_free(ctx, cfg_free);
    lab_set_inspector(ctx, raft_cfg_inspect);
    cfg->net = rpc_net_new(sim);
    if (cfg->net == NULL) {
        lab_fatalf(ctx, SIM_NODE_NONE, "out of memory building the network");
        return NULL;
    }
    sim_rand_init(&cfg->rand_cfg, sim, "cfg");
    sim_rand_init(&cfg->rand_test, sim, "test");
    cfg->start_us = sim_now_us(sim);
    raft_cfg_set_unreliable(cfg, unreliable);
    rpc_net_set_long_delays(cfg->net, true);
    sim_set_event_hook(sim, raft_cfg_event_hook, cfg);

    enum raft_cfg_applier applier = snapshot ? RAFT_CFG_APPLIER_SNAP : RAFT_CFG_APPLIER;
    for (int i = 0; i < n; i++)
        raft_cfg_start1(cfg, i, applier);
    for (int i = 0; i < n; i++)
        raft_cfg_connect(cfg, i);
    return cfg;
}

void raft_cfg_cleanup(struct raft_cfg *cfg)
{
    cfg->finished = true;
    for (int i = 0; i < cfg->n; i++) {
        if (cfg->current[i] != NULL && cfg->current[i]->rf != NULL) raft_kill(cfg->current[i]->rf);
    }
    /* Every instance is dead now; nothing is left for the safety hook to watch. */
    sim_set_event_hook(cfg->sim, NULL, NULL);
    rpc_net_cleanup(cfg->net);
    raft_cfg_check_timeout(cfg);
}

/* ---------------------------------------------------------------- accessors */

struct lab_ctx *raft_cfg_lab(const struct raft_cfg *cfg)
{
    return cfg->ctx;
}

struct sim *raft_cfg_sim(const struct raft_cfg *cfg)
{
    return cfg->sim;
}

int raft_cfg_servers(const struct raft_cfg *cfg)
{
    return cfg->n;
}

struct sim_rand *raft_cfg_rand(struct raft_cfg *cfg)
{
    return &cfg->rand_test;
}

bool raft_cfg_connected(const struct raft_cfg *cfg, int i)
{
    cfg_assert_server(cfg, i);
    return cfg->connected[i];
}

struct rpc_net *raft_cfg_net(const struct raft_cfg *cfg)
{
    return cfg->net;
}

struct raft *raft_cfg_raft(const struct raft_cfg *cfg, int i)
{
    cfg_assert_server(cfg, i);
    return cfg->current[i] != NULL ? cfg->current[i]->rf : NULL;
}

/* ---------------------------------------------------------------- crash and restart */

/* Gives slot i a private copy of its persister, so whatever the old instance writes later
 * goes to the old object. */
static void cfg_saved_copy(struct raft_cfg *cfg, int i)
{
    if (cfg->saved[i] == NULL) return;
    struct raft_persister *copy = raft_persister_copy(cfg->saved[i]);
    if (copy == NULL) {
        lab_fatalf(cfg->ctx, i, "out of memory copying the persister");
        return;
    }
    if (!cfg->saved_lent[i]) raft_persister_free(cfg->saved[i]);
    cfg->saved[i] = copy;
    cfg->saved_lent[i] = false;
}

void raft_cfg_crash1(struct raft_cfg *cfg, int i)
{
    cfg_assert_server(cfg, i);
    raft_cfg_disconnect(cfg, i);
    /* Delete the server before copying, so the old instance cannot acknowledge a write it
     * made only to the old persister. */
    if (cfg->server_added[i]) {
        rpc_net_delete_server(cfg->net, i);
        cfg->server_added[i] = false;
    }
    cfg_saved_copy(cfg, i);
    struct raft_cfg_instance *inst = cfg->current[i];
    if (inst != NULL) {
        sim_trace4(cfg->sim, i, &cfg_kind_crash, 0, 0, 0, 0);
        if (inst->rf != NULL) raft_kill(inst->rf);
        cfg->current[i] = NULL;
    }
    SIM_ASSERT(cfg->sim, i, !cfg->connected[i]);
}

/* A fresh set of outgoing ends for server i, each bound to its peer and disabled until
 * connect(i). */
static void cfg_make_ends(struct raft_cfg *cfg, int i)
{
    cfg->generation[i]++;
    for (int j = 0; j < cfg->n; j++) {
        char name[RPC_NAME_MAX];
        snprintf(name, sizeof(name), "raft%d-%d.g%" PRIu32, i, j, cfg->generation[i]);
        struct rpc_end *end = rpc_net_make_end(cfg->net, name);
        if (end == NULL) {
            lab_fatalf(cfg->ctx, i, "out of memory making client ends");
            return;
        }
        rpc_net_connect(cfg->net, end, j);
        rpc_end_set_node(end, i); /* traces show the send in the caller's column */
        cfg->ends[i][j] = end;
    }
}

static struct raft_cfg_instance *cfg_instance_new(struct raft_cfg *cfg, int i,
                                                  enum raft_cfg_applier applier)
{
    if (cfg->instances_count == cfg->instances_cap) {
        size_t cap = cfg->instances_cap == 0 ? 16 : cfg->instances_cap * 2;
        if (cap > RAFT_CFG_INSTANCES_MAX) cap = RAFT_CFG_INSTANCES_MAX;
        if (cap == cfg->instances_cap) {
            lab_fatalf(cfg->ctx, i, "tester limit: more than %u Raft instances started",
                       RAFT_CFG_INSTANCES_MAX);
            return NULL;
        }
        struct raft_cfg_instance **grown = realloc(cfg->instances, cap * sizeof(*grown));
        if (grown == NULL) {
            lab_fatalf(cfg->ctx, i, "out of memory recording an instance");
            return NULL;
        }
        cfg->instances = grown;
        cfg->instances_cap = cap;
    }
    struct raft_cfg_instance *inst = calloc(1, sizeof(*inst));
    if (inst == NULL) {
        lab_fatalf(cfg->ctx, i, "out of memory recording an instance");
        return NULL;
    }
    inst->cfg = cfg;
    inst->server = i;
    inst->applier = applier;
    cfg->instances[cfg->instances_count++] = inst;
    return inst;
}

/* The persister the new instance of server i is made with: the slot's copy (after mimicking
 * the service by loading its snapshot into the tester's log copy) or a new one. */
static bool cfg_prepare_persister(struct raft_cfg *cfg, int i)
{
    cfg->last_applied[i] = 0;
    if (cfg->saved[i] == NULL) {
        cfg->saved[i] = lab_persister_new(cfg->ctx, i, "raft");
        return cfg->saved[i] != NULL;
    }
    size_t snap_len = 0;
    const uint8_t *snap = raft_persister_snapshot(cfg->saved[i], &snap_len);
    if (snap_len > 0) {
        char err[LAB_MSG_MAX];
        if (!raft_cfg_ingest_snap(cfg, i, snap, snap_len, -1, err, sizeof(err))) {
            lab_fatalf(cfg->ctx, i, "%s", err);
            return false;
        }
    }
    return true;
}

void raft_cfg_start1(struct raft_cfg *cfg, int i, enum raft_cfg_applier applier)
{
    raft_cfg_crash1(cfg, i);
    cfg_make_ends(cfg, i);
    if (!cfg_prepare_persister(cfg, i)) return;
    struct raft_cfg_instance *inst = cfg_instance_new(cfg, i, applier);
    if (inst == NULL) return;
    SIM_ASSERT(cfg->sim, i, !cfg->saved_lent[i]);
    inst->persister = cfg->saved[i];
    cfg->saved_lent[i] = true;
    sim_trace4(cfg->sim, i, &cfg_kind_start, cfg->generation[i],
               raft_persister_snapshot_size(inst->persister) > 0, 0, 0);

    int node = sim_node_swap(cfg->sim, i); /* the new Raft's timers act for node i */
    inst->rf = raft_make(cfg->sim, cfg->ends[i], cfg->n, i, inst->persister, raft_cfg_apply, inst);
    sim_node_swap(cfg->sim, node);
    if (inst->rf == NULL) {
        lab_fatalf(cfg->ctx, i, "raft_make failed");
        return;
    }
    if (!lab_persister_check_taken(cfg->ctx, i, inst->persister)) return;
    cfg->current[i] = inst;
    struct rpc_server *server = rpc_server_new(cfg->net);
    if (server == NULL) {
        lab_fatalf(cfg->ctx, i, "out of memory making an RPC server");
        return;
    }
    int rc = raft_register(inst->rf, server);
    if (rc != 0) {
        lab_fatalf(cfg->ctx, i, "raft_register failed: %s", rpc_strerror(rc));
        return;
    }
    rpc_net_add_server(cfg->net, i, server);
    cfg->server_added[i] = true;
}

/* ---------------------------------------------------------------- the network */

void raft_cfg_connect(struct raft_cfg *cfg, int i)
{
    cfg_assert_server(cfg, i);
    /* Traced only when it changes something, so a trace shows the partitions themselves. */
    if (!cfg->connected[i]) sim_trace4(cfg->sim, i, &cfg_kind_connect, 0, 0, 0, 0);
    cfg->connected[i] = true;
    for (int j = 0; j < cfg->n; j++) {
        if (cfg->connected[j] && cfg->ends[i][j] != NULL)
            rpc_net_enable(cfg->net, cfg->ends[i][j], true);
    }
    for (int j = 0; j < cfg->n; j++) {
        if (cfg->connected[j] && cfg->ends[j][i] != NULL)
            rpc_net_enable(cfg->net, cfg->ends[j][i], true);
    }
}

void raft_cfg_disconnect(struct raft_cfg *cfg, int i)
{
    cfg_assert_server(cfg, i);
    if (cfg->connected[i]) sim_trace4(cfg->sim, i, &cfg_kind_disconnect, 0, 0, 0, 0);
    cfg->connected[i] = false;
    for (int j = 0; j < cfg->n; j++) {
        if (cfg->ends[i][j] != NULL) rpc_net_enable(cfg->net, cfg->ends[i][j], false);
    }
    for (int j = 0; j < cfg->n; j++) {
        if (cfg->ends[j][i] != NULL) rpc_net_enable(cfg->net, cfg->ends[j][i], false);
    }
}

void raft_cfg_set_unreliable(struct raft_cfg *cfg, bool unreliable)
{
    sim_trace4(cfg->sim, SIM_NODE_NONE, &cfg_kind_reliable, !unreliable, 0, 0, 0);
    rpc_net_set_reliable(cfg->net, !unreliable);
}

void raft_cfg_set_long_reordering(struct raft_cfg *cfg, bool on)
{
    sim_trace4(cfg->sim, SIM_NODE_NONE, &cfg_kind_reordering, on, 0, 0, 0);
    rpc_net_set_long_reordering(cfg->net, on);
}

uint64_t raft_cfg_rpc_count(const struct raft_cfg *cfg, int i)
{
    cfg_assert_server(cfg, i);
    return rpc_net_count(cfg->net, i);
}

uint64_t raft_cfg_rpc_total(const struct raft_cfg *cfg)
{
    return rpc_net_total_count(cfg->net);
}

uint64_t raft_cfg_bytes_total(const struct raft_cfg *cfg)
{
    return rpc_net_total_bytes(cfg->net);
}

size_t raft_cfg_log_size(const struct raft_cfg *cfg)
{
    size_t size_max = 0;
    for (int i = 0; i < cfg->n; i++) {
        size_t size = cfg->saved[i] != NULL ? raft_persister_state_size(cfg->saved[i]) : 0;
        if (size > size_max) size_max = size;
    }
    return size_max;
}

/* ---------------------------------------------------------------- calls into Raft */

static struct raft *cfg_running(struct raft_cfg *cfg, int i)
{
    cfg_assert_server(cfg, i);
    struct raft *rf = raft_cfg_raft(cfg, i);
    if (rf == NULL) lab_fatalf(cfg->ctx, i, "server %d is not running (crashed)", i);
    return rf;
}

bool raft_cfg_start_cmd(struct raft_cfg *cfg, int i, const struct raft_cfg_value *cmd,
                        uint64_t *index, uint64_t *term)
{
    struct raft *rf = cfg_running(cfg, i);
    if (rf == NULL) return false;
    struct gob_enc enc;
    gob_enc_init(&enc);
    raft_cfg_cmd_encode(cmd, &enc);
    int rc = gob_enc_finish(&enc);
    if (rc != GOB_OK) {
        gob_enc_free(&enc);
        lab_fatalf(cfg->ctx, i, "cannot encode command: %s", gob_strerror(rc));
        return false;
    }
    uint64_t index_local = 0;
    uint64_t term_local = 0;
    bool ok = raft_start(rf, gob_enc_bytes(&enc), gob_enc_len(&enc), &index_local, &term_local);
    gob_enc_free(&enc);
    if (index != NULL) *index = index_local;
    if (term != NULL) *term = term_local;
    return ok;
}

bool raft_cfg_start_int(struct raft_cfg *cfg, int i, int64_t v, uint64_t *index, uint64_t *term)
{
    struct raft_cfg_value cmd = raft_cfg_int(v);
    return raft_cfg_start_cmd(cfg, i, &cmd, index, term);
}

bool raft_cfg_get_state(struct raft_cfg *cfg, int i, uint64_t *term)
{
    struct raft *rf = cfg_running(cfg, i);
    uint64_t term_local = 0;
    if (rf == NULL) return false;
    bool leader = raft_get_state(rf, &term_local);
    if (term != NULL) *term = term_local;
    return leader;
}
