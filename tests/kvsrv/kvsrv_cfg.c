/* kvsrv_cfg: the network, the server, the clerks and begin/end of the lab 2 tester
 * (config.go's make_config, StartServer, makeClient, deleteClient, begin, op, end,
 * checkTimeout, cleanup), plus randValue and scratch memory.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "kvsrv_cfg_int.h"

/* Harness kinds (ids 460-469 belong to the lab 2 tester). */
static const struct sim_trace_kind kind_clerk = {
    460, SIM_TOPIC_CLIENT, "kvsrvcfg.clerk", {"number", NULL}};

#define CFG_TIMEOUT_US SIM_S(120) /* checkTimeout's two-minute limit, in virtual time */
#define CFG_END_NAME_LEN 20u      /* randstring(20) */

static const char cfg_base64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
static const char cfg_letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/* Releases everything (registered with lab_set_user_free: runs after the last event). */
static void cfg_free(void *user)
{
    struct kvsrv_cfg *cfg = user;
    if (cfg == NULL) return;
    /* Every call still in flight gets its failure callback while its caller still exists. */
    if (cfg->net != NULL) rpc_net_fail_inflight(cfg->net);
    for (size_t k = 0; k < cfg->clerks_count; k++) {
        kvsrv_clerk_free(cfg->clerks[k]->ck);
        free(cfg->clerks[k]);
    }
    /* The server's handlers may be named by the network until it is freed. */
    if (cfg->net != NULL) rpc_net_free(cfg->net);
    kvsrv_server_free(cfg->server);
    kvsrv_cfg_history_free(cfg);
    for (size_t k = 0; k < cfg->blocks_count; k++)
        free(cfg->blocks[k]);
    free(cfg->clerks);
    free(cfg);
}

static void cfg_start_server(struct kvsrv_cfg *cfg)
{
    struct rpc_server *server = rpc_server_new(cfg->net);
    if (server == NULL) lab_fatalf(cfg->ctx, KVSRV_CFG_SERVER_ID, "out of memory for the server");
    int rc = kvsrv_server_start(cfg->sim, &cfg->heap, server, &cfg->server);
    if (rc != KVSRV_OK)
        lab_fatalf(cfg->ctx, KVSRV_CFG_SERVER_ID, "StartKVServer failed: %s", kvsrv_strerror(rc));
    rpc_net_add_server(cfg->net, KVSRV_CFG_SERVER_ID, server);
}

struct kvsrv_cfg *kvsrv_cfg_make(struct lab_ctx *ctx, const char *test_name, bool unreliable)
{
    struct sim *sim = lab_sim(ctx);
    struct kvsrv_cfg *cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL) {
        lab_fatalf(ctx, SIM_NODE_NONE, "out of memory building the config");
        return NULL;
    }
    cfg->ctx = ctx;
    cfg->sim = sim;
    cfg->test_name = test_name;
    cfg->start_us = sim_now_us(sim);
    kvsrv_heap_init(&cfg->heap);
    sim_rand_init(&cfg->rand, sim, "kvsrv.cfg");
    lab_set_user(ctx, cfg);
    lab_set_user_free(ctx, cfg_free);
    cfg->net = rpc_net_new(sim);
    cfg->clerks = calloc(KVSRV_CFG_CLERKS_MAX, sizeof(*cfg->clerks));
    if (cfg->net == NULL || cfg->clerks == NULL) {
        lab_fatalf(ctx, SIM_NODE_NONE, "out of memory building the config");
        return NULL;
    }
    cfg_start_server(cfg);
    rpc_net_set_reliable(cfg->net, !unreliable);
    return cfg;
}

/* checkTimeout(): a two-minute limit on each test, in virtual time. */
static void cfg_check_timeout(struct kvsrv_cfg *cfg)
{
    if (!lab_failed(cfg->ctx) && sim_now_us(cfg->sim) - cfg->start_us > CFG_TIMEOUT_US)
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "test took longer than 120 seconds");
}

void kvsrv_cfg_cleanup(struct kvsrv_cfg *cfg)
{
    rpc_net_cleanup(cfg->net);
    cfg_check_timeout(cfg);
}

struct lab_ctx *kvsrv_cfg_lab(const struct kvsrv_cfg *cfg)
{
    return cfg->ctx;
}

struct sim *kvsrv_cfg_sim(const struct kvsrv_cfg *cfg)
{
    return cfg->sim;
}

uint64_t kvsrv_cfg_heap_bytes(const struct kvsrv_cfg *cfg)
{
    return kvsrv_heap_bytes(&cfg->heap);
}

/* ---------------------------------------------------------------- memory */

static void *cfg_block(struct kvsrv_cfg *cfg, size_t size)
{
    if (cfg->blocks_count >= KVSRV_CFG_BLOCKS_MAX) {
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "more than %u test blocks", KVSRV_CFG_BLOCKS_MAX);
        return NULL;
    }
    void *p = calloc(1, size > 0 ? size : 1);
    if (p == NULL) {
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "out of memory for %zu bytes of test state", size);
        return NULL;
    }
    cfg->blocks[cfg->blocks_count++] = p;
    return p;
}

void *kvsrv_cfg_scratch(struct kvsrv_cfg *cfg, size_t size)
{
    return cfg_block(cfg, size);
}

void *kvsrv_cfg_scratch_grow(struct kvsrv_cfg *cfg, void *block, size_t size)
{
    if (block == NULL) return cfg_block(cfg, size);
    for (size_t k = 0; k < cfg->blocks_count; k++) {
        if (cfg->blocks[k] != block) continue;
        void *grown = realloc(block, size > 0 ? size : 1);
        if (grown == NULL) {
            lab_fatalf(cfg->ctx, SIM_NODE_NONE, "out of memory for %zu bytes of test state", size);
            return NULL;
        }
        cfg->blocks[k] = grown;
        return grown;
    }
    SIM_ASSERTF(cfg->sim, SIM_NODE_NONE, false, "growing a block the config does not own");
    return NULL;
}

/* randValue(n). One PRNG draw gives eight letters (a byte each, modulo 52: a bias of under
 * 2%, harmless for a filler value), so the 10 MiB values of the memory tests are cheap. */
const char *kvsrv_cfg_rand_value(struct kvsrv_cfg *cfg, size_t n)
{
    char *v = cfg_block(cfg, n + 1u);
    /* Each random byte picks letter byte % 52; a table of the 256 answers spares the memory
     * tests' 10 MB values a division per byte, with the very same letters. */
    char letter_of[256];
    for (size_t b = 0; b < sizeof(letter_of); b++)
        letter_of[b] = cfg_letters[b % (sizeof(cfg_letters) - 1u)];
    uint64_t bits = 0;
    for (size_t i = 0; i < n; i++) {
        if (i % 8u == 0) bits = sim_rand_u64(&cfg->rand);
        v[i] = letter_of[bits & 0xffu];
        bits >>= 8;
    }
    v[n] = '\0';
    return v;
}

/* ---------------------------------------------------------------- clerks */

struct kvsrv_cfg_clerk *kvsrv_cfg_make_client(struct kvsrv_cfg *cfg)
{
    char name[CFG_END_NAME_LEN + 1u];
    if (cfg->clerks_count >= KVSRV_CFG_CLERKS_MAX) {
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "more than %u clerks", KVSRV_CFG_CLERKS_MAX);
        return NULL;
    }
    struct kvsrv_cfg_clerk *ck = calloc(1, sizeof(*ck));
    if (ck == NULL) {
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "out of memory for a clerk");
        return NULL;
    }
    cfg->clerks[cfg->clerks_count++] = ck;
    /* a fresh ClientEnd, named randstring(20) */
    for (size_t i = 0; i < CFG_END_NAME_LEN; i++)
        name[i] = cfg_base64url[sim_rand_below(&cfg->rand, sizeof(cfg_base64url) - 1u)];
    name[CFG_END_NAME_LEN] = '\0';
    ck->end = rpc_net_make_end(cfg->net, name);
    SIM_ASSERTF(cfg->sim, SIM_NODE_NONE, ck->end != NULL, "out of memory for an end");
    rpc_net_connect(cfg->net, ck->end, KVSRV_CFG_SERVER_ID);
    ck->ck = kvsrv_clerk_new(cfg->sim, ck->end);
    if (ck->ck == NULL) {
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "MakeClerk failed");
        return NULL;
    }
    rpc_net_enable(cfg->net, ck->end, true);
    sim_trace4(cfg->sim, SIM_NODE_NONE, &kind_clerk, (int64_t)cfg->clerks_count - 1, 0, 0, 0);
    return ck;
}

void kvsrv_cfg_delete_client(struct kvsrv_cfg *cfg, struct kvsrv_cfg_clerk *ck)
{
    rpc_net_delete_end(cfg->net, ck->end);
}

/* ---------------------------------------------------------------- begin / end */

void kvsrv_cfg_begin(struct kvsrv_cfg *cfg, const char *title)
{
    lab_begin(cfg->ctx, title);
    cfg->t0_us = sim_now_us(cfg->sim);
    cfg->rpcs0 = rpc_net_total_count(cfg->net);
    cfg->ops = 0;
}

void kvsrv_cfg_end(struct kvsrv_cfg *cfg)
{
    char counts[96];
    cfg_check_timeout(cfg);
    if (lab_failed(cfg->ctx)) return;
    double seconds = (double)(sim_now_us(cfg->sim) - cfg->t0_us) / (double)SIM_US_PER_S;
    snprintf(counts, sizeof(counts), "nrpc %5" PRIu64 " ops %4" PRIu32,
             rpc_net_total_count(cfg->net) - cfg->rpcs0, cfg->ops);
    lab_passed(cfg->ctx, seconds, counts);
}
