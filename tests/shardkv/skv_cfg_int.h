/* skv_cfg_int: the shardkv tester's private state, shared by skv_cfg.c (controllers, groups,
 * clerks) and skv_cfg_hist.c (the recorded operations and their linearizability check).
 *
 * Invariants:
 *  1. groups[gi].servers[i] != NULL exactly when that server runs; saved[i] is its persister.
 *  2. Every server and persister ever made is reachable (slots or graves) until cfg_free,
 *     which runs after the last event of the run.
 *  3. history[k].done is false only while the op's clerk call is under way.
 */
#ifndef SKV_CFG_INT_H
#define SKV_CFG_INT_H

#include "skv_cfg.h"

#define SKV_CFG_SCRATCH_MAX 64u

struct skv_cfg_ctl {
    bool started;
    struct sc_server *servers[SKV_CFG_CTRLERS];
    struct raft_persister *saved[SKV_CFG_CTRLERS];
    struct rpc_end *ends[SKV_CFG_CTRLERS][SKV_CFG_CTRLERS];
    struct sc_clerk *ck; /* the harness's clerk (ctl.ck) */
};

struct skv_cfg_group {
    int gid;
    struct skv_server *servers[SKV_CFG_N_MAX];
    struct raft_persister *saved[SKV_CFG_N_MAX];
    struct rpc_end *ends[SKV_CFG_N_MAX][SKV_CFG_N_MAX];
    struct rpc_end *ctl_ends[SKV_CFG_N_MAX][SKV_CFG_CTRLERS];
    uint32_t generation[SKV_CFG_N_MAX];
};

struct skv_cfg_rec {
    int client;
    int64_t call_us;
    int64_t return_us;
    int kind; /* enum lin_kv_kind */
    bool done;
    char *key;
    char *value;
    char *output;
};

struct skv_cfg {
    struct lab_ctx *ctx;
    struct sim *sim;
    const char *test_name;
    int n;
    int64_t maxraftstate;
    struct rpc_net *net;
    struct sim_rand rand;
    struct skv_cfg_ctl ctls[SKV_CFG_CTLS_MAX];
    struct skv_cfg_group groups[SKV_CFG_GROUPS];
    struct skv_server *grave_servers[SKV_CFG_GRAVE_MAX];
    size_t grave_servers_count;
    struct raft_persister *grave_persisters[SKV_CFG_GRAVE_MAX];
    size_t grave_persisters_count;
    struct skv_clerk *clerks[SKV_CFG_CLERKS_MAX];
    size_t clerks_count;
    uint64_t clerk_ids_drawn; /* clerk_id_new's stream number */
    uint64_t ends_made;
    void *scratch[SKV_CFG_SCRATCH_MAX];
    size_t scratch_count;
    sim_time_us start_us;
    sim_time_us t0_us;
    uint64_t rpcs0;
    uint32_t ops;
    struct skv_cfg_rec *history;
    size_t history_count;
    size_t history_cap;
};

/* skv_cfg.c */
void skv_cfg_mark(struct skv_cfg *cfg, int node, const char *label);
int skv_cfg_clerk_number(const struct skv_cfg *cfg, const struct skv_clerk *ck);
/* skv_cfg_inspect.c: labsim step's p NODE (registered by skv_cfg_make). */
int skv_cfg_inspect(void *user, int node, FILE *out);
/* skv_cfg_hist.c */
void skv_cfg_history_free(struct skv_cfg *cfg);
void skv_cfg_check_history(struct skv_cfg *cfg);

#endif /* SKV_CFG_INT_H */
