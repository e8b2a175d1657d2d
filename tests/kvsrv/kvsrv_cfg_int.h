/* kvsrv_cfg_int: the lab 2 tester's private state, shared by kvsrv_cfg.c (network, server,
 * clerks, begin/end) and kvsrv_cfg_hist.c (wrappers, log, checks).
 *
 * Invariants:
 *  1. Every clerk and every block handed out stays allocated until cfg_free, which runs after
 *     the last event of the run (tasks parked in calls may still name them).
 *  2. history[k].done is false only while the op's clerk call is under way.
 */
#ifndef KVSRV_CFG_INT_H
#define KVSRV_CFG_INT_H

#include "kvsrv_cfg.h"

#define KVSRV_CFG_BLOCKS_MAX 256u /* scratch blocks and random values per run */
#define KVSRV_CFG_CORES 2u        /* CPUs the test's clients share (this project's machine) */

struct kvsrv_cfg_clerk {
    struct kvsrv_clerk *ck;
    struct rpc_end *end;
};

struct kvsrv_cfg_rec {
    int client;
    bool logged; /* part of the operation log (Go's log != nil) */
    bool done;
    enum kvsrv_cfg_kind kind;
    int64_t call_us;
    int64_t return_us;
    char *key;
    char *value;  /* put/append argument ("" for a get) */
    char *output; /* get value or append's old value ("" for a put and while not done) */
};

struct kvsrv_cfg {
    struct lab_ctx *ctx;
    struct sim *sim;
    const char *test_name;
    struct rpc_net *net;
    struct kvsrv_heap heap;
    struct kvsrv_server *server;
    struct sim_rand rand; /* "kvsrv.cfg" */

    struct kvsrv_cfg_clerk **clerks;
    size_t clerks_count;

    sim_time_us start_us; /* make_config */
    sim_time_us t0_us;    /* begin */
    uint64_t rpcs0;
    uint32_t ops;
    sim_time_us core_free_us[KVSRV_CFG_CORES]; /* when each client CPU is next idle */

    struct kvsrv_cfg_rec *history;
    size_t history_count;
    size_t history_cap;
    void *blocks[KVSRV_CFG_BLOCKS_MAX];
    size_t blocks_count;
};

/* kvsrv_cfg_hist.c: releases the log. */
void kvsrv_cfg_history_free(struct kvsrv_cfg *cfg);

#endif /* KVSRV_CFG_INT_H */
