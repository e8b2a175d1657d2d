/* kv_test_4a: the kvraft 4A tests (no snapshots: maxraftstate = -1). The GenericTest ones are
 * one-line parameter sets; TestUnreliableOneKey4A and TestOnePartition4A are ported here.
 */
#include <stdio.h>

#include "kv_tests.h"

#define GENERIC_4A(fn, go_name, clients, servers, unrel, crashes, parts, random)                   \
    void fn(struct lab_ctx *ctx)                                                                   \
    {                                                                                              \
        static const struct kv_generic_params params = {go_name, "4A",  clients, servers, unrel,   \
                                                        crashes, parts, -1,      random};          \
        kv_generic_test(ctx, &params);                                                             \
    }

/* name, clients, servers, unreliable, crash, partitions, random keys (test_test.go order) */
GENERIC_4A(kv_test_basic_4a, "TestBasic4A", 1, 5, false, false, false, false)
GENERIC_4A(kv_test_concurrent_4a, "TestConcurrent4A", 5, 5, false, false, false, false)
GENERIC_4A(kv_test_unreliable_4a, "TestUnreliable4A", 5, 5, true, false, false, false)
GENERIC_4A(kv_test_many_partitions_one_client_4a, "TestManyPartitionsOneClient4A", 1, 5, false,
           false, true, false)
GENERIC_4A(kv_test_many_partitions_many_clients_4a, "TestManyPartitionsManyClients4A", 5, 5, false,
           false, true, false)
GENERIC_4A(kv_test_persist_one_client_4a, "TestPersistOneClient4A", 1, 5, false, true, false, false)
GENERIC_4A(kv_test_persist_concurrent_4a, "TestPersistConcurrent4A", 5, 5, false, true, false,
           false)
GENERIC_4A(kv_test_persist_concurrent_unreliable_4a, "TestPersistConcurrentUnreliable4A", 5, 5,
           true, true, false, false)
GENERIC_4A(kv_test_persist_partition_4a, "TestPersistPartition4A", 5, 5, false, true, true, false)
GENERIC_4A(kv_test_persist_partition_unreliable_4a, "TestPersistPartitionUnreliable4A", 5, 5, true,
           true, true, false)
GENERIC_4A(kv_test_persist_partition_unreliable_linearizable_4a,
           "TestPersistPartitionUnreliableLinearizable4A", 15, 7, true, true, true, true)

void kv_test_speed_4a(struct lab_ctx *ctx)
{
    kv_generic_test_speed(ctx, "TestSpeed4A", -1);
}

/* ---------------------------------------------------------------- TestUnreliableOneKey4A */

#define ONE_KEY_CLIENTS 5
#define ONE_KEY_UPTO 10

struct one_key;

struct one_key_client {
    struct one_key *t;
    int me;
};

struct one_key {
    struct kv_cfg *cfg;
    struct lab_waitgroup wg;
    struct one_key_client clients[ONE_KEY_CLIENTS];
};

static void one_key_client(struct sim *sim, void *arg)
{
    struct one_key_client *c = arg;
    struct kv_cfg *cfg = c->t->cfg;
    int all[KV_CFG_SERVERS_MAX];
    char value[64];
    struct kv_cfg_clerk *ck = kv_cfg_make_client(cfg, all, kv_cfg_all(cfg, all));
    for (int n = 0; n < ONE_KEY_UPTO; n++) {
        snprintf(value, sizeof(value), "x %d %d y", c->me, n);
        kv_cfg_append(cfg, ck, "k", value, -1);
    }
    lab_waitgroup_done(sim, &c->t->wg);
}

void kv_test_unreliable_one_key_4a(struct lab_ctx *ctx)
{
    int all[KV_CFG_SERVERS_MAX];
    int counts[ONE_KEY_CLIENTS];
    struct kv_cfg *cfg = kv_cfg_make(ctx, "TestUnreliableOneKey4A", 3, true, -1);
    struct kv_cfg_clerk *ck = kv_cfg_make_client(cfg, all, kv_cfg_all(cfg, all));
    kv_cfg_begin(cfg, "concurrent append to same key, unreliable");
    kv_cfg_put(cfg, ck, "k", "", -1);
    struct one_key *t = kv_cfg_scratch(cfg, sizeof(*t));
    t->cfg = cfg;
    lab_waitgroup_init(&t->wg);
    lab_waitgroup_add(&t->wg, ONE_KEY_CLIENTS);
    for (int i = 0; i < ONE_KEY_CLIENTS; i++) {
        t->clients[i] = (struct one_key_client){.t = t, .me = i};
        counts[i] = ONE_KEY_UPTO;
        lab_go(ctx, "kv client", one_key_client, &t->clients[i]);
    }
    lab_waitgroup_wait(lab_sim(ctx), &t->wg);
    const char *vx = kv_cfg_get(cfg, ck, "k", -1);
    kv_cfg_check_concurrent_appends(cfg, vx, counts, ONE_KEY_CLIENTS);
    kv_cfg_check_history(cfg);
    kv_cfg_end(cfg, NULL);
    kv_cfg_cleanup(cfg);
}

/* ---------------------------------------------------------------- TestOnePartition4A */

struct one_partition {
    struct kv_cfg *cfg;
    struct kv_cfg_clerk *ckp2a;
    struct kv_cfg_clerk *ckp2b;
    bool done0; /* the minority Put returned */
    bool done1; /* the minority Get returned */
    struct sim_cond cond;
};

static void minority_put(struct sim *sim, void *arg)
{
    struct one_partition *t = arg;
    kv_cfg_put(t->cfg, t->ckp2a, "1", "15", -1);
    t->done0 = true;
    sim_cond_broadcast(sim, &t->cond);
}

static void minority_get(struct sim *sim, void *arg)
{
    struct one_partition *t = arg;
    kv_cfg_get(t->cfg, t->ckp2b, "1", -1); /* a different clerk in p2 */
    t->done1 = true;
    sim_cond_broadcast(sim, &t->cond);
}

/* Waits until *flag or `limit_us` has passed; returns *flag. */
static bool wait_flag(struct sim *sim, struct sim_cond *cond, const bool *flag,
                      sim_time_us limit_us)
{
    sim_time_us deadline_us = sim_now_us(sim) + limit_us;
    while (!*flag && sim_now_us(sim) < deadline_us)
        sim_cond_wait(sim, cond, deadline_us - sim_now_us(sim));
    return *flag;
}

/* "no progress in minority": neither minority op may finish within 1 s. */
static void one_partition_minority(struct one_partition *t, struct kv_cfg_clerk *ckp1)
{
    struct lab_ctx *ctx = kv_cfg_lab(t->cfg);
    struct sim *sim = lab_sim(ctx);
    kv_cfg_begin(t->cfg, "no progress in minority");
    lab_go(ctx, "minority put", minority_put, t);
    lab_go(ctx, "minority get", minority_get, t);
    sim_time_us deadline_us = sim_now_us(sim) + SIM_S(1);
    while (sim_now_us(sim) < deadline_us) {
        if (t->done0) lab_fatalf(ctx, SIM_NODE_NONE, "Put in minority completed");
        if (t->done1) lab_fatalf(ctx, SIM_NODE_NONE, "Get in minority completed");
        sim_cond_wait(sim, &t->cond, deadline_us - sim_now_us(sim));
    }
    if (t->done0) lab_fatalf(ctx, SIM_NODE_NONE, "Put in minority completed");
    if (t->done1) lab_fatalf(ctx, SIM_NODE_NONE, "Get in minority completed");
    kv_cfg_check(t->cfg, ckp1, "1", "14");
    kv_cfg_put(t->cfg, ckp1, "1", "16", -1);
    kv_cfg_check(t->cfg, ckp1, "1", "16");
    kv_cfg_end(t->cfg, NULL);
}

void kv_test_one_partition_4a(struct lab_ctx *ctx)
{
    int all[KV_CFG_SERVERS_MAX];
    int p1[KV_CFG_SERVERS_MAX];
    int p2[KV_CFG_SERVERS_MAX];
    int p1_count = 0;
    int p2_count = 0;
    struct sim *sim = lab_sim(ctx);
    struct kv_cfg *cfg = kv_cfg_make(ctx, "TestOnePartition4A", 5, false, -1);
    int n = kv_cfg_all(cfg, all);
    struct kv_cfg_clerk *ck = kv_cfg_make_client(cfg, all, n);
    kv_cfg_put(cfg, ck, "1", "13", -1);

    kv_cfg_begin(cfg, "progress in majority");
    kv_cfg_make_partition(cfg, p1, &p1_count, p2, &p2_count);
    kv_cfg_partition(cfg, p1, p1_count, p2, p2_count);
    struct one_partition *t = kv_cfg_scratch(cfg, sizeof(*t));
    t->cfg = cfg;
    sim_cond_init(&t->cond);
    struct kv_cfg_clerk *ckp1 = kv_cfg_make_client(cfg, p1, p1_count);
    t->ckp2a = kv_cfg_make_client(cfg, p2, p2_count);
    t->ckp2b = kv_cfg_make_client(cfg, p2, p2_count);
    kv_cfg_put(cfg, ckp1, "1", "14", -1);
    kv_cfg_check(cfg, ckp1, "1", "14");
    kv_cfg_end(cfg, NULL);

    one_partition_minority(t, ckp1);

    kv_cfg_begin(cfg, "completion after heal");
    kv_cfg_connect_all(cfg);
    kv_cfg_connect_client(cfg, t->ckp2a, all, n);
    kv_cfg_connect_client(cfg, t->ckp2b, all, n);
    sim_sleep_us(sim, KV_ELECTION_TIMEOUT_US);
    if (!wait_flag(sim, &t->cond, &t->done0, SIM_MS(30 * 100)))
        lab_fatalf(ctx, SIM_NODE_NONE, "Put did not complete");
    /* Go's select on done1 has a default branch: the Get is not waited for. */
    kv_cfg_check(cfg, ck, "1", "15");
    kv_cfg_check_history(cfg);
    kv_cfg_end(cfg, NULL);
    kv_cfg_cleanup(cfg);
}
