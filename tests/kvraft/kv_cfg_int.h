/* kv_cfg_int: the kvraft tester's private state, shared by kv_cfg.c (servers, network,
 * clerks) and kv_cfg_hist.c (history, linearizability, append checks).
 *
 * Invariants:
 *  1. servers[i] != NULL exactly when server i is running; saved[i] is its current persister.
 *  2. Every kv_server and persister ever made is reachable (servers/saved or the graves) until
 *     cfg_free, which runs after the last event of the run.
 *  3. history[k].done is false only while the op's clerk call is under way.
 */
#ifndef KV_CFG_INT_H
#define KV_CFG_INT_H

#include "kv_cfg.h"
#include "lin.h"

struct kv_cfg_clerk {
    struct kv_clerk *ck;
    struct rpc_end *ends[KV_CFG_SERVERS_MAX]; /* by server id (the clerk sees them shuffled) */
    int number;                               /* 0, 1, ... in order of creation */
};

struct kv_cfg_rec {
    int client;
    int64_t call_us;
    int64_t return_us;
    enum kv_cfg_kind kind;
    bool done;
    char *key;
    char *value;  /* put/append argument ("" for a get) */
    char *output; /* get result ("" for put/append and while not done) */
};

/* A fault marker's label; markers[] points into these (the checker's page takes them as they
 * are, with no copy when a history turns out ILLEGAL). */
struct kv_cfg_marker_label {
    char text[64];
};

/* What the service-time function of server i's KVServer needs (kv_cfg_service_us). */
struct kv_cfg_cpu {
    struct kv_cfg *cfg;
    int server;
};

struct kv_cfg {
    struct lab_ctx *ctx;
    struct sim *sim;
    const char *test_name;
    int n;
    int64_t maxraftstate;
    struct rpc_net *net;
    struct sim_rand rand; /* "kv.cfg" */

    struct kv_server *servers[KV_CFG_SERVERS_MAX];
    struct raft_persister *saved[KV_CFG_SERVERS_MAX];
    struct rpc_end *ends[KV_CFG_SERVERS_MAX][KV_CFG_SERVERS_MAX]; /* endnames[i][j] */
    uint32_t generation[KV_CFG_SERVERS_MAX];                      /* starts of server i */
    struct kv_cfg_cpu cpu[KV_CFG_SERVERS_MAX];

    struct kv_server **grave_servers; /* killed, freed at the end */
    size_t grave_servers_count;
    struct raft_persister **grave_persisters; /* superseded, freed at the end */
    size_t grave_persisters_count;

    struct kv_cfg_clerk **clerks;
    size_t clerks_count;

    sim_time_us start_us; /* make_config */
    sim_time_us t0_us;    /* begin */
    uint64_t rpcs0;
    uint32_t ops;

    struct kv_cfg_rec *history;
    size_t history_count;
    size_t history_cap;
    struct lin_marker *markers;                /* KV_CFG_MARKERS_MAX, for the HTML page */
    struct kv_cfg_marker_label *marker_labels; /* markers[k].label is marker_labels[k].text */
    size_t markers_count;
    void *scratch[KV_CFG_SCRATCH_MAX];
    size_t scratch_count;
    uint64_t lin_steps_max; /* KV_LIN_STEPS_MAX unless a unit test changed it */
};

/* kv_cfg.c: records a fault marker (kept for the HTML page, bounded) and traces it. */
void kv_cfg_mark(struct kv_cfg *cfg, int node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* kv_cfg_hist.c: releases the history. */
void kv_cfg_history_free(struct kv_cfg *cfg);
/* For the unit tests: adds a finished operation as if a clerk had run it (output is the Get
 * result, ignored otherwise), and changes the checker's step budget. */
void kv_cfg_history_add(struct kv_cfg *cfg, int client, int64_t call_us, int64_t return_us,
                        enum kv_cfg_kind kind, const char *key, const char *value,
                        const char *output);
void kv_cfg_set_lin_steps(struct kv_cfg *cfg, uint64_t steps_max);

#endif /* KV_CFG_INT_H */
