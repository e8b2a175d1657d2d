/* kvsrv_tests: the 10 graded lab 2 tests, ports of 6.5840's src/kvsrv/test_test.go (2024), and
 * their catalogue lab_kvsrv_tests. Titles are Go's without "Test: "; lab_begin prints
 * "Test (2): " from the part. Steps, constants and messages are Go's; sleeps are virtual.
 *
 * GenericTest: the main task spawns the clients of an iteration, sleeps TIME, raises the done
 * flag and collects each client's append count (Go's clnts channels: a slot and a condition),
 * then checks each client's key. Every client draws from its own stream ("kvsrv.client",
 * iteration * nclients + client), so one client's draws never shift another's.
 *
 * The memory tests read the server's heap (kvsrv_cfg_heap_bytes) where Go reads HeapAlloc
 * after runtime.GC(); the limits are Go's numbers.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvsrv_cfg.h"

#define GENERIC_NITER 3
#define GENERIC_TIME_US SIM_S(1)
#define GENERIC_CLIENTS_MAX 8
#define ONE_KEY_CLIENTS 5
#define ONE_KEY_UPTO 10
#define MEM_MIB 10u             /* TestMemGet2 / Put2 / Append2: MEM */
#define MEM_NCLIENT 100000u     /* TestMemPutManyClients / GetManyClients: NCLIENT */
#define MEM_PUT_VALUE_LEN 1000u /* TestMemPutManyClients: MEM */
#define MEM_APPENDS 1000u       /* TestMemManyAppends: N */
#define MEM_APPEND_LEN 1000u    /* TestMemManyAppends: MEM */
#define ELEMENT_MAX 48u         /* bytes of "x <client> <j> y" */

/* ---------------------------------------------------------------- GenericTest */

struct generic {
    struct kvsrv_cfg *cfg;
    int nclients;
    int iter;
    bool done;                      /* Go's done_clients */
    int j[GENERIC_CLIENTS_MAX];     /* what each client sent on clnts[cli] */
    bool sent[GENERIC_CLIENTS_MAX]; /* ... and whether it did */
    struct sim_cond sent_cond;      /* broadcast on every send */
    struct generic_client *clients; /* this iteration's */
};

struct generic_client {
    struct generic *g;
    int cli;
    char *last; /* the client's expected value, a config block */
    size_t last_len;
    size_t last_cap;
};

static void generic_last_add(struct generic_client *c, const char *nv)
{
    size_t n = strlen(nv);
    if (c->last_len + n + 1u > c->last_cap) {
        c->last_cap = (c->last_len + n + 1u) * 2u;
        c->last = kvsrv_cfg_scratch_grow(c->g->cfg, c->last, c->last_cap);
    }
    memcpy(c->last + c->last_len, nv, n + 1u);
    c->last_len += n;
}

/* One Append of the client loop, with its checks against the returned old value. */
static void generic_append(struct generic_client *c, struct kvsrv_cfg_clerk *ck, const char *key,
                           int j)
{
    struct kvsrv_cfg *cfg = c->g->cfg;
    char nv[ELEMENT_MAX];
    char o[ELEMENT_MAX];
    snprintf(nv, sizeof(nv), "x %d %d y", c->cli, j);
    const char *l = kvsrv_cfg_append(cfg, ck, key, nv, true, c->cli);
    if (j > 0) {
        snprintf(o, sizeof(o), "x %d %d y", c->cli, j - 1);
        if (strstr(l, o) == NULL)
            lab_fatalf(kvsrv_cfg_lab(cfg), SIM_NODE_NONE, "error: old %s not in return\n%s\n", o,
                       l);
    }
    if (strstr(l, nv) != NULL)
        lab_fatalf(kvsrv_cfg_lab(cfg), SIM_NODE_NONE,
                   "error: new value %s in returned values\n%s\n", nv, l);
    generic_last_add(c, nv);
}

/* The client function of GenericTest, run_client around it (a fresh clerk, deleted after). */
static void generic_client_task(struct sim *sim, void *arg)
{
    struct generic_client *c = arg;
    struct generic *g = c->g;
    struct kvsrv_cfg *cfg = g->cfg;
    struct sim_rand r;
    char key[16];
    sim_rand_init_n(&r, sim, "kvsrv.client", (int64_t)g->iter * g->nclients + c->cli);
    snprintf(key, sizeof(key), "%d", c->cli);
    struct kvsrv_cfg_clerk *ck = kvsrv_cfg_make_client(cfg);
    int j = 0;
    generic_last_add(c, "");
    kvsrv_cfg_put(cfg, ck, key, c->last, true, c->cli);
    while (!g->done) {
        if (sim_rand_below(&r, 1000) < 500) {
            generic_append(c, ck, key, j);
            j++;
            continue;
        }
        const char *v = kvsrv_cfg_get(cfg, ck, key, true, c->cli);
        if (strcmp(v, c->last) != 0)
            lab_fatalf(kvsrv_cfg_lab(cfg), SIM_NODE_NONE,
                       "get wrong value, key %s, wanted:\n%s\n, got\n%s\n", key, c->last, v);
    }
    g->j[c->cli] = j; /* clnts[cli] <- j */
    g->sent[c->cli] = true;
    sim_cond_broadcast(sim, &g->sent_cond);
    kvsrv_cfg_delete_client(cfg, ck);
}

/* One iteration: spawn the clients, let them run TIME, collect and check. */
static void generic_iteration(struct lab_ctx *ctx, struct generic *g, struct kvsrv_cfg_clerk *ck)
{
    struct sim *sim = lab_sim(ctx);
    g->done = false;
    g->clients = kvsrv_cfg_scratch(g->cfg, (size_t)g->nclients * sizeof(*g->clients));
    for (int i = 0; i < g->nclients; i++) {
        g->sent[i] = false;
        g->clients[i] = (struct generic_client){.g = g, .cli = i};
        lab_go(ctx, "kvsrv.client", generic_client_task, &g->clients[i]);
    }
    sim_sleep_us(sim, GENERIC_TIME_US);
    g->done = true; /* tell clients to quit */
    for (int i = 0; i < g->nclients; i++) {
        char key[16];
        while (!g->sent[i])
            sim_cond_wait(sim, &g->sent_cond, SIM_TIMEOUT_NEVER);
        snprintf(key, sizeof(key), "%d", i);
        const char *v = kvsrv_cfg_get(g->cfg, ck, key, true, 0);
        kvsrv_cfg_check_clnt_appends(g->cfg, i, v, g->j[i]);
    }
}

static void generic_test(struct lab_ctx *ctx, const char *name, const char *title, int nclients,
                         bool unreliable)
{
    struct kvsrv_cfg *cfg = kvsrv_cfg_make(ctx, name, unreliable);
    SIM_ASSERT(lab_sim(ctx), SIM_NODE_NONE, nclients <= GENERIC_CLIENTS_MAX);
    kvsrv_cfg_begin(cfg, title);
    struct kvsrv_cfg_clerk *ck = kvsrv_cfg_make_client(cfg);
    struct generic *g = kvsrv_cfg_scratch(cfg, sizeof(*g));
    g->cfg = cfg;
    g->nclients = nclients;
    sim_cond_init(&g->sent_cond);
    for (g->iter = 0; g->iter < GENERIC_NITER; g->iter++)
        generic_iteration(ctx, g, ck);
    kvsrv_cfg_check_history(cfg);
    kvsrv_cfg_end(cfg);
    kvsrv_cfg_cleanup(cfg);
}

static void test_basic_2(struct lab_ctx *ctx)
{
    generic_test(ctx, "TestBasic2", "one client", 1, false);
}

static void test_concurrent_2(struct lab_ctx *ctx)
{
    generic_test(ctx, "TestConcurrent2", "many clients", 5, false);
}

static void test_unreliable_2(struct lab_ctx *ctx)
{
    generic_test(ctx, "TestUnreliable2", "unreliable net, many clients", 5, true);
}

/* ---------------------------------------------------------------- TestUnreliableOneKey2 */

struct one_key;

struct one_key_client {
    struct one_key *ok;
    int me;
};

struct one_key {
    struct kvsrv_cfg *cfg;
    struct lab_waitgroup wg;
    struct one_key_client clients[ONE_KEY_CLIENTS];
};

static void one_key_client_task(struct sim *sim, void *arg)
{
    const struct one_key_client *c = arg;
    const int *me = &c->me;
    struct one_key *ok = c->ok;
    struct kvsrv_cfg *cfg = ok->cfg;
    struct kvsrv_cfg_clerk *ck = kvsrv_cfg_make_client(cfg);
    for (int n = 0; n < ONE_KEY_UPTO; n++) {
        char nv[ELEMENT_MAX];
        snprintf(nv, sizeof(nv), "x %d %d y", *me, n);
        const char *ov = kvsrv_cfg_append(cfg, ck, "k", nv, false, -1);
        if (strstr(ov, nv) != NULL)
            lab_fatalf(kvsrv_cfg_lab(cfg), SIM_NODE_NONE, "error: nv %s in returned values\n%s\n",
                       nv, ov);
    }
    kvsrv_cfg_delete_client(cfg, ck);
    lab_waitgroup_done(sim, &ok->wg);
}

static void test_unreliable_one_key_2(struct lab_ctx *ctx)
{
    struct kvsrv_cfg *cfg = kvsrv_cfg_make(ctx, "TestUnreliableOneKey2", true);
    struct kvsrv_cfg_clerk *ck = kvsrv_cfg_make_client(cfg);
    kvsrv_cfg_begin(cfg, "concurrent append to same key, unreliable");
    kvsrv_cfg_put(cfg, ck, "k", "", false, -1);
    struct one_key *ok = kvsrv_cfg_scratch(cfg, sizeof(*ok));
    ok->cfg = cfg;
    lab_waitgroup_init(&ok->wg);
    lab_waitgroup_add(&ok->wg, ONE_KEY_CLIENTS);
    for (int i = 0; i < ONE_KEY_CLIENTS; i++) {
        ok->clients[i] = (struct one_key_client){.ok = ok, .me = i};
        lab_go(ctx, "kvsrv.client", one_key_client_task, &ok->clients[i]);
    }
    lab_waitgroup_wait(lab_sim(ctx), &ok->wg);
    int counts[ONE_KEY_CLIENTS];
    for (int i = 0; i < ONE_KEY_CLIENTS; i++)
        counts[i] = ONE_KEY_UPTO;
    const char *vx = kvsrv_cfg_get(cfg, ck, "k", false, -1);
    kvsrv_cfg_check_concurrent_appends(cfg, vx, counts, ONE_KEY_CLIENTS);
    kvsrv_cfg_end(cfg);
    kvsrv_cfg_cleanup(cfg);
}

/* ---------------------------------------------------------------- memory tests */

/* The server's memory in MiB, rounded down (Go: HeapAlloc / MiB after runtime.GC()). */
static uint64_t mem_mib(const struct kvsrv_cfg *cfg)
{
    return kvsrv_cfg_heap_bytes(cfg) / KVSRV_CFG_MIB;
}

/* Beyond Go: a server that keeps its values outside the provided heap would pass every memory
 * test unmeasured, so right after a big value is stored the heap must hold it. */
static void mem_check_counted(struct kvsrv_cfg *cfg, size_t stored)
{
    uint64_t held = kvsrv_cfg_heap_bytes(cfg);
    if (held < stored)
        lab_fatalf(kvsrv_cfg_lab(cfg), SIM_NODE_NONE,
                   "error: the server's heap holds %" PRIu64 " bytes after a %zu-byte Put: it must "
                   "allocate what it keeps with kvsrv_malloc (kvsrv.h)",
                   held, stored);
}

static void mem_check_len(struct kvsrv_cfg *cfg, struct kvsrv_cfg_clerk *ck, size_t want)
{
    char *v = kvsrv_cfg_raw_get(cfg, ck, "k");
    size_t len = strlen(v);
    free(v);
    if (len != want)
        lab_fatalf(kvsrv_cfg_lab(cfg), SIM_NODE_NONE, "error: incorrect len %zu\n", len);
}

static void test_mem_get_2(struct lab_ctx *ctx)
{
    struct kvsrv_cfg *cfg = kvsrv_cfg_make(ctx, "TestMemGet2", true);
    struct kvsrv_cfg_clerk *ck0 = kvsrv_cfg_make_client(cfg);
    struct kvsrv_cfg_clerk *ck1 = kvsrv_cfg_make_client(cfg);
    kvsrv_cfg_begin(cfg, "memory use get");
    const char *rd_val = kvsrv_cfg_rand_value(cfg, (size_t)KVSRV_CFG_MIB * MEM_MIB);
    kvsrv_cfg_raw_put(cfg, ck0, "k", rd_val);
    mem_check_counted(cfg, strlen(rd_val));
    mem_check_len(cfg, ck0, strlen(rd_val));
    mem_check_len(cfg, ck1, strlen(rd_val));
    kvsrv_cfg_raw_put(cfg, ck0, "k", "0");
    uint64_t m = mem_mib(cfg);
    if (m >= MEM_MIB)
        lab_fatalf(ctx, SIM_NODE_NONE, "error: server using too much memory %" PRIu64 "\n", m);
    kvsrv_cfg_end(cfg);
    kvsrv_cfg_cleanup(cfg);
}

static void test_mem_put_2(struct lab_ctx *ctx)
{
    struct kvsrv_cfg *cfg = kvsrv_cfg_make(ctx, "TestMemPut2", false);
    kvsrv_cfg_begin(cfg, "memory use put");
    struct kvsrv_cfg_clerk *ck0 = kvsrv_cfg_make_client(cfg);
    struct kvsrv_cfg_clerk *ck1 = kvsrv_cfg_make_client(cfg);
    const char *rd_val = kvsrv_cfg_rand_value(cfg, (size_t)KVSRV_CFG_MIB * MEM_MIB);
    kvsrv_cfg_raw_put(cfg, ck0, "k", rd_val);
    mem_check_counted(cfg, strlen(rd_val));
    kvsrv_cfg_raw_put(cfg, ck1, "k", "");
    uint64_t m = mem_mib(cfg);
    if (m >= MEM_MIB)
        lab_fatalf(ctx, SIM_NODE_NONE, "error: server using too much memory %" PRIu64 "\n", m);
    kvsrv_cfg_end(cfg);
    kvsrv_cfg_cleanup(cfg);
}

static void test_mem_append_2(struct lab_ctx *ctx)
{
    struct kvsrv_cfg *cfg = kvsrv_cfg_make(ctx, "TestMemAppend2", false);
    kvsrv_cfg_begin(cfg, "memory use append");
    struct kvsrv_cfg_clerk *ck0 = kvsrv_cfg_make_client(cfg);
    struct kvsrv_cfg_clerk *ck1 = kvsrv_cfg_make_client(cfg);
    const char *rd_val0 = kvsrv_cfg_rand_value(cfg, (size_t)KVSRV_CFG_MIB * MEM_MIB);
    free(kvsrv_cfg_raw_append(cfg, ck0, "k", rd_val0));
    const char *rd_val1 = kvsrv_cfg_rand_value(cfg, (size_t)KVSRV_CFG_MIB * MEM_MIB);
    free(kvsrv_cfg_raw_append(cfg, ck1, "k", rd_val1));
    uint64_t m = mem_mib(cfg);
    if (m > 3u * MEM_MIB)
        lab_fatalf(ctx, SIM_NODE_NONE, "error: server using too much memory %" PRIu64 "\n", m);
    kvsrv_cfg_end(cfg);
    kvsrv_cfg_cleanup(cfg);
}

/* NCLIENT clerks in a config block (Go's cks slice). */
static struct kvsrv_cfg_clerk **mem_make_clients(struct kvsrv_cfg *cfg)
{
    struct kvsrv_cfg_clerk **cks = kvsrv_cfg_scratch(cfg, MEM_NCLIENT * sizeof(*cks));
    for (uint32_t i = 0; i < MEM_NCLIENT; i++)
        cks[i] = kvsrv_cfg_make_client(cfg);
    return cks;
}

static void mem_delete_clients(struct kvsrv_cfg *cfg, struct kvsrv_cfg_clerk **cks)
{
    for (uint32_t i = 0; i < MEM_NCLIENT; i++)
        kvsrv_cfg_delete_client(cfg, cks[i]);
}

static void test_mem_put_many_clients(struct lab_ctx *ctx)
{
    struct sim *sim = lab_sim(ctx);
    struct kvsrv_cfg *cfg = kvsrv_cfg_make(ctx, "TestMemPutManyClients", false);
    const char *v = kvsrv_cfg_rand_value(cfg, MEM_PUT_VALUE_LEN);
    struct kvsrv_cfg_clerk **cks = mem_make_clients(cfg);
    sim_sleep_us(sim, SIM_S(1)); /* allow threads started by labrpc to start */
    kvsrv_cfg_begin(cfg, "memory use many put clients");
    uint64_t m0 = kvsrv_cfg_heap_bytes(cfg);
    for (uint32_t i = 0; i < MEM_NCLIENT; i++)
        kvsrv_cfg_raw_put(cfg, cks[i], "k", v);
    sim_sleep_us(sim, SIM_S(1));
    uint64_t m1 = kvsrv_cfg_heap_bytes(cfg);
    double f = ((double)m1 - (double)m0) / MEM_NCLIENT;
    if (m1 > m0 + (uint64_t)MEM_NCLIENT * 200u)
        lab_fatalf(ctx, SIM_NODE_NONE,
                   "error: server using too much memory %" PRIu64 " %" PRIu64
                   " (%.2f per client)\n",
                   m0, m1, f);
    mem_delete_clients(cfg, cks);
    kvsrv_cfg_end(cfg);
    kvsrv_cfg_cleanup(cfg);
}

static void test_mem_get_many_clients(struct lab_ctx *ctx)
{
    struct sim *sim = lab_sim(ctx);
    struct kvsrv_cfg *cfg = kvsrv_cfg_make(ctx, "TestMemGetManyClients", false);
    kvsrv_cfg_begin(cfg, "memory use many get client");
    struct kvsrv_cfg_clerk *ck = kvsrv_cfg_make_client(cfg);
    kvsrv_cfg_raw_put(cfg, ck, "0", "");
    kvsrv_cfg_delete_client(cfg, ck);
    struct kvsrv_cfg_clerk **cks = mem_make_clients(cfg);
    sim_sleep_us(sim, SIM_S(1)); /* allow threads started by labrpc to start */
    uint64_t m0 = kvsrv_cfg_heap_bytes(cfg);
    for (uint32_t i = 0; i < MEM_NCLIENT; i++)
        free(kvsrv_cfg_raw_get(cfg, cks[i], "0"));
    sim_sleep_us(sim, SIM_S(1));
    uint64_t m1 = kvsrv_cfg_heap_bytes(cfg);
    double f = ((double)m1 - (double)m0) / MEM_NCLIENT;
    if (m1 >= m0 + (uint64_t)MEM_NCLIENT * 10u)
        lab_fatalf(ctx, SIM_NODE_NONE,
                   "error: server using too much memory m0 %" PRIu64 " m1 %" PRIu64
                   " (%.2f per client)\n",
                   m0, m1, f);
    mem_delete_clients(cfg, cks);
    kvsrv_cfg_end(cfg);
    kvsrv_cfg_cleanup(cfg);
}

static void test_mem_many_appends(struct lab_ctx *ctx)
{
    struct kvsrv_cfg *cfg = kvsrv_cfg_make(ctx, "TestMemManyAppends", false);
    kvsrv_cfg_begin(cfg, "memory use many appends");
    struct kvsrv_cfg_clerk *ck = kvsrv_cfg_make_client(cfg);
    const char *rd_val = kvsrv_cfg_rand_value(cfg, MEM_APPEND_LEN);
    uint64_t m0 = kvsrv_cfg_heap_bytes(cfg);
    for (uint32_t i = 0; i < MEM_APPENDS; i++)
        free(kvsrv_cfg_raw_append(cfg, ck, "k", rd_val));
    sim_sleep_us(lab_sim(ctx), SIM_S(1));
    uint64_t m1 = kvsrv_cfg_heap_bytes(cfg);
    if (m1 >= 3u * MEM_APPEND_LEN * MEM_APPENDS)
        lab_fatalf(ctx, SIM_NODE_NONE,
                   "error: server using too much memory m0 %" PRIu64 " m1 %" PRIu64 "\n", m0, m1);
    if (lab_out(ctx) != NULL) fprintf(lab_out(ctx), "m0 %" PRIu64 " m1 %" PRIu64 "\n", m0, m1);
    kvsrv_cfg_delete_client(cfg, ck);
    kvsrv_cfg_end(cfg);
    kvsrv_cfg_cleanup(cfg);
}

/* ---------------------------------------------------------------- catalogue */

const struct lab_test lab_kvsrv_tests[] = {
    {"TestBasic2", "2", "one client", test_basic_2},
    {"TestConcurrent2", "2", "many clients", test_concurrent_2},
    {"TestUnreliable2", "2", "unreliable net, many clients", test_unreliable_2},
    {"TestUnreliableOneKey2", "2", "concurrent append to same key, unreliable",
     test_unreliable_one_key_2},
    {"TestMemGet2", "2", "memory use get", test_mem_get_2},
    {"TestMemPut2", "2", "memory use put", test_mem_put_2},
    {"TestMemAppend2", "2", "memory use append", test_mem_append_2},
    {"TestMemPutManyClients", "2", "memory use many put clients", test_mem_put_many_clients},
    {"TestMemGetManyClients", "2", "memory use many get client", test_mem_get_many_clients},
    {"TestMemManyAppends", "2", "memory use many appends", test_mem_many_appends},
};

const size_t lab_kvsrv_tests_count = sizeof(lab_kvsrv_tests) / sizeof(lab_kvsrv_tests[0]);
