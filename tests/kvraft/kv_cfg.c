/* kv_cfg: servers, persisters, the network and the clerks of the kvraft tester (config.go's
 * make_config, StartServer, ShutdownServer, connect/disconnect, partition, ConnectAll,
 * make_partition, makeClient, ConnectClient, DisconnectClient, Leader, LogSize, SnapshotSize,
 * begin, end, cleanup).
 *
 * Links: ends[i][j] is server i's end to server j (Go's endnames[i][j]); connecting i to `to`
 * enables ends[i][to] and ends[to][i]. A restart makes a fresh row of ends for i, disabled
 * until the next connect, so a killed instance's ends stay disabled forever.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "kv_cfg_int.h"
#include "lab_persist.h"

/* Harness kinds (ids 450-459 belong to the kvraft tester). */
static const struct sim_trace_kind kind_fault = {450, SIM_TOPIC_FAULT, "kvcfg.fault", {NULL}};
static const struct sim_trace_kind kind_start = {
    451, SIM_TOPIC_FAULT, "kvcfg.start", {"generation", "snapshot_bytes", NULL}};
static const struct sim_trace_kind kind_clerk = {
    452, SIM_TOPIC_CLIENT, "kvcfg.clerk", {"number", "client_id", NULL}};

#define CFG_CPU_REQUEST_US 40u        /* kv_cfg_service_us: fixed cost of a request */
#define CFG_CPU_STATE_NS_PER_BYTE 13u /* ... plus this per byte of persisted Raft state */
#define CFG_TIMEOUT_US SIM_S(120)     /* checkTimeout's two-minute limit, in virtual time */

static void cfg_assert_server(const struct kv_cfg *cfg, int i)
{
    SIM_ASSERT(cfg->sim, i, i >= 0);
    SIM_ASSERT(cfg->sim, i, i < cfg->n);
}

/* ---------------------------------------------------------------- lifecycle */

/* Releases everything (registered with lab_set_user_free: runs after the last event). */
static void cfg_free(void *user)
{
    struct kv_cfg *cfg = user;
    if (cfg == NULL) return;
    /* Every call still in flight gets its failure callback while its caller still exists. */
    if (cfg->net != NULL) rpc_net_fail_inflight(cfg->net);
    for (int i = 0; i < KV_CFG_SERVERS_MAX; i++) {
        kv_server_free(cfg->servers[i]);
        raft_persister_free(cfg->saved[i]);
    }
    for (size_t k = 0; k < cfg->grave_servers_count; k++)
        kv_server_free(cfg->grave_servers[k]);
    for (size_t k = 0; k < cfg->grave_persisters_count; k++)
        raft_persister_free(cfg->grave_persisters[k]);
    for (size_t k = 0; k < cfg->clerks_count; k++) {
        kv_clerk_free(cfg->clerks[k]->ck);
        free(cfg->clerks[k]);
    }
    if (cfg->net != NULL) rpc_net_free(cfg->net);
    kv_cfg_history_free(cfg);
    for (size_t k = 0; k < cfg->scratch_count; k++)
        free(cfg->scratch[k]);
    free(cfg->grave_servers);
    free(cfg->grave_persisters);
    free(cfg->clerks);
    free(cfg->markers);
    free(cfg->marker_labels);
    free(cfg);
}

struct kv_cfg *kv_cfg_make(struct lab_ctx *ctx, const char *test_name, int n, bool unreliable,
                           int64_t maxraftstate)
{
    struct sim *sim = lab_sim(ctx);
    SIM_ASSERT(sim, SIM_NODE_NONE, n > 0);
    SIM_ASSERT(sim, SIM_NODE_NONE, n <= KV_CFG_SERVERS_MAX);
    struct kv_cfg *cfg = calloc(1, sizeof(*cfg));
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
    cfg->lin_steps_max = KV_LIN_STEPS_MAX;
    sim_rand_init(&cfg->rand, sim, "kv.cfg");
    lab_set_user(ctx, cfg);
    lab_set_user_free(ctx, cfg_free);
    cfg->net = rpc_net_new(sim);
    cfg->grave_servers = calloc(KV_CFG_GRAVE_MAX, sizeof(*cfg->grave_servers));
    cfg->grave_persisters = calloc(KV_CFG_GRAVE_MAX, sizeof(*cfg->grave_persisters));
    cfg->clerks = calloc(KV_CFG_CLERKS_MAX, sizeof(*cfg->clerks));
    cfg->markers = calloc(KV_CFG_MARKERS_MAX, sizeof(*cfg->markers));
    cfg->marker_labels = calloc(KV_CFG_MARKERS_MAX, sizeof(*cfg->marker_labels));
    if (cfg->net == NULL || cfg->grave_servers == NULL || cfg->grave_persisters == NULL ||
        cfg->clerks == NULL || cfg->markers == NULL || cfg->marker_labels == NULL) {
        lab_fatalf(ctx, SIM_NODE_NONE, "out of memory building the config");
        return NULL;
    }
    for (int i = 0; i < n; i++)
        kv_cfg_start_server(cfg, i);
    kv_cfg_connect_all(cfg);
    rpc_net_set_reliable(cfg->net, !unreliable);
    return cfg;
}

void kv_cfg_cleanup(struct kv_cfg *cfg)
{
    for (int i = 0; i < cfg->n; i++) {
        if (cfg->servers[i] != NULL) kv_server_kill(cfg->servers[i]);
    }
    rpc_net_cleanup(cfg->net);
    kv_cfg_check_timeout(cfg);
}

void *kv_cfg_scratch(struct kv_cfg *cfg, size_t size)
{
    if (cfg->scratch_count >= KV_CFG_SCRATCH_MAX) {
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "more than %u scratch blocks", KV_CFG_SCRATCH_MAX);
        return NULL;
    }
    void *p = calloc(1, size > 0 ? size : 1);
    if (p == NULL) {
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "out of memory for %zu bytes of test state", size);
        return NULL;
    }
    cfg->scratch[cfg->scratch_count++] = p;
    return p;
}

struct lab_ctx *kv_cfg_lab(const struct kv_cfg *cfg)
{
    return cfg->ctx;
}

struct sim *kv_cfg_sim(const struct kv_cfg *cfg)
{
    return cfg->sim;
}

struct rpc_net *kv_cfg_net(const struct kv_cfg *cfg)
{
    return cfg->net;
}

int kv_cfg_servers(const struct kv_cfg *cfg)
{
    return cfg->n;
}

int64_t kv_cfg_maxraftstate(const struct kv_cfg *cfg)
{
    return cfg->maxraftstate;
}

void kv_cfg_check_timeout(struct kv_cfg *cfg)
{
    if (!lab_failed(cfg->ctx) && sim_now_us(cfg->sim) - cfg->start_us > CFG_TIMEOUT_US)
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "test took longer than 120 seconds");
}

/* ---------------------------------------------------------------- begin / end */

void kv_cfg_begin(struct kv_cfg *cfg, const char *title)
{
    lab_begin(cfg->ctx, title);
    cfg->t0_us = sim_now_us(cfg->sim);
    cfg->rpcs0 = kv_cfg_rpc_total(cfg);
    cfg->ops = 0;
}

void kv_cfg_end(struct kv_cfg *cfg, const char *extra)
{
    char counts[160];
    kv_cfg_check_timeout(cfg);
    /* Beyond Go (which checks this in GenericTest only): no test without maxraftstate may
     * have snapshotted. */
    size_t ssz = kv_cfg_snapshot_size(cfg);
    if (cfg->maxraftstate < 0 && ssz > 0)
        lab_fatalf(cfg->ctx, SIM_NODE_NONE,
                   "snapshot too large (%zu), should not be used when maxraftstate = %lld", ssz,
                   (long long)cfg->maxraftstate);
    if (lab_failed(cfg->ctx)) return;
    double seconds = (double)(sim_now_us(cfg->sim) - cfg->t0_us) / (double)SIM_US_PER_S;
    snprintf(counts, sizeof(counts), "%d %5" PRIu64 " %4" PRIu32 "%s", cfg->n,
             kv_cfg_rpc_total(cfg) - cfg->rpcs0, cfg->ops, extra != NULL ? extra : "");
    lab_passed(cfg->ctx, seconds, counts);
}

/* ---------------------------------------------------------------- markers */

void kv_cfg_mark(struct kv_cfg *cfg, int node, const char *fmt, ...)
{
    char label[sizeof(cfg->marker_labels[0].text)];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(label, sizeof(label), fmt, ap);
    va_end(ap);
    sim_tracef(cfg->sim, node, &kind_fault, 0, 0, "%s", label);
    if (cfg->markers_count >= KV_CFG_MARKERS_MAX)
        return; /* the page shows the first ones; the trace has them all */
    struct kv_cfg_marker_label *text = &cfg->marker_labels[cfg->markers_count];
    snprintf(text->text, sizeof(text->text), "%s", label);
    cfg->markers[cfg->markers_count++] =
        (struct lin_marker){(int64_t)sim_now_us(cfg->sim), node, text->text};
}

/* ---------------------------------------------------------------- links */

static void link_enable(struct kv_cfg *cfg, int from, int to, bool enabled)
{
    if (cfg->ends[from][to] != NULL) rpc_net_enable(cfg->net, cfg->ends[from][to], enabled);
}

/* connectUnlocked(i, to): outgoing and incoming ends. */
static void cfg_connect(struct kv_cfg *cfg, int i, const int *to, int to_count)
{
    for (int j = 0; j < to_count; j++)
        link_enable(cfg, i, to[j], true);
    for (int j = 0; j < to_count; j++)
        link_enable(cfg, to[j], i, true);
}

/* disconnectUnlocked(i, from). */
static void cfg_disconnect(struct kv_cfg *cfg, int i, const int *from, int from_count)
{
    for (int j = 0; j < from_count; j++)
        link_enable(cfg, i, from[j], false);
    for (int j = 0; j < from_count; j++)
        link_enable(cfg, from[j], i, false);
}

int kv_cfg_all(const struct kv_cfg *cfg, int *all)
{
    for (int i = 0; i < cfg->n; i++)
        all[i] = i;
    return cfg->n;
}

void kv_cfg_connect_all(struct kv_cfg *cfg)
{
    int all[KV_CFG_SERVERS_MAX];
    int n = kv_cfg_all(cfg, all);
    for (int i = 0; i < n; i++)
        cfg_connect(cfg, i, all, n);
    kv_cfg_mark(cfg, SIM_NODE_NONE, "connect all");
}

static size_t group_format(char *buf, size_t size, const int *group, int count)
{
    size_t used = 0;
    for (int k = 0; k < count && used < size; k++)
        used += (size_t)snprintf(buf + used, size - used, k == 0 ? "%d" : " %d", group[k]);
    return used;
}

void kv_cfg_partition(struct kv_cfg *cfg, const int *p1, int p1_count, const int *p2, int p2_count)
{
    char a[32] = "";
    char b[32] = "";
    for (int k = 0; k < p1_count; k++) {
        cfg_disconnect(cfg, p1[k], p2, p2_count);
        cfg_connect(cfg, p1[k], p1, p1_count);
    }
    for (int k = 0; k < p2_count; k++) {
        cfg_disconnect(cfg, p2[k], p1, p1_count);
        cfg_connect(cfg, p2[k], p2, p2_count);
    }
    group_format(a, sizeof(a), p1, p1_count);
    group_format(b, sizeof(b), p2, p2_count);
    kv_cfg_mark(cfg, SIM_NODE_NONE, "partition [%s] [%s]", a, b);
}

/* ---------------------------------------------------------------- servers */

static void grave_server(struct kv_cfg *cfg, struct kv_server *kv)
{
    if (cfg->grave_servers_count >= KV_CFG_GRAVE_MAX) {
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "more than %u server restarts", KV_CFG_GRAVE_MAX);
        return;
    }
    cfg->grave_servers[cfg->grave_servers_count++] = kv;
}

/* Gives slot i a copy of its persister; the old one is kept for the old instance. */
static void saved_copy(struct kv_cfg *cfg, int i)
{
    struct raft_persister *copy = raft_persister_copy(cfg->saved[i]);
    if (copy == NULL || cfg->grave_persisters_count >= KV_CFG_GRAVE_MAX) {
        raft_persister_free(copy);
        lab_fatalf(cfg->ctx, i, "cannot copy persister %d", i);
        return;
    }
    cfg->grave_persisters[cfg->grave_persisters_count++] = cfg->saved[i];
    cfg->saved[i] = copy;
}

void kv_cfg_shutdown_server(struct kv_cfg *cfg, int i)
{
    int all[KV_CFG_SERVERS_MAX];
    cfg_assert_server(cfg, i);
    cfg_disconnect(cfg, i, all, kv_cfg_all(cfg, all));
    /* Delete BEFORE the persister copy: the old instance must not be able to acknowledge a
     * write it stored only in the superseded persister. */
    rpc_net_delete_server(cfg->net, i);
    if (cfg->saved[i] != NULL) saved_copy(cfg, i);
    struct kv_server *kv = cfg->servers[i];
    if (kv != NULL) {
        kv_server_kill(kv);
        cfg->servers[i] = NULL;
        grave_server(cfg, kv);
    }
    kv_cfg_mark(cfg, i, "crash %d", i);
}

/* The CPU time server i spends on one client request before its handler runs, from Go's
 * measured cost of a kvraft PutAppend (decode the args, Start with its persist() of the whole
 * Raft state, encode the reply): 40 us plus 13 ns per byte of persisted state. Measured with
 * the 2024 handout's labgob on this project's 2-core machine (go1.19.8, logs of 0-3000 Op
 * entries, 186-156,000 bytes: 40-2,300 us; see README.md). The snapshot's bytes count too: a
 * Go server re-encodes its whole state into a snapshot every few requests once maxraftstate
 * is small, and charging it on every request bounds that cost from above.
 * Virtual time charges no CPU, so without this a client loop runs ops 10-50 times faster
 * than any Go kvraft could, and the histories, the values appended to and the checker's work
 * grow with it; with it, a server slows down as its state grows, as Go's does. Only client
 * requests are charged (Raft's RPCs are not), so a Raft that batches for 20 ms still meets
 * TestSpeed's 33 ms per op. */
static sim_time_us kv_cfg_service_us(void *arg)
{
    const struct kv_cfg_cpu *cpu = arg;
    const struct raft_persister *p = cpu->cfg->saved[cpu->server];
    uint64_t bytes = 0;
    if (p != NULL) bytes = raft_persister_state_size(p) + raft_persister_snapshot_size(p);
    return CFG_CPU_REQUEST_US + bytes * CFG_CPU_STATE_NS_PER_BYTE / 1000u;
}

/* A fresh row of outgoing ends for server i, each bound to its server and disabled. */
static void server_ends_new(struct kv_cfg *cfg, int i)
{
    char name[RPC_NAME_MAX];
    for (int j = 0; j < cfg->n; j++) {
        snprintf(name, sizeof(name), "kv%d-%d.g%" PRIu32, i, j, cfg->generation[i]);
        struct rpc_end *end = rpc_net_make_end(cfg->net, name);
        SIM_ASSERTF(cfg->sim, i, end != NULL, "out of memory for an end");
        rpc_end_set_node(end, i);
        rpc_net_connect(cfg->net, end, j);
        cfg->ends[i][j] = end;
    }
}

void kv_cfg_start_server(struct kv_cfg *cfg, int i)
{
    cfg_assert_server(cfg, i);
    SIM_ASSERT(cfg->sim, i, cfg->servers[i] == NULL);
    cfg->generation[i]++;
    server_ends_new(cfg, i);
    if (cfg->saved[i] != NULL) {
        saved_copy(cfg, i);
    } else {
        cfg->saved[i] = lab_persister_new(cfg->ctx, i, "kv");
    }
    struct rpc_server *server = rpc_server_new(cfg->net);
    if (server == NULL) lab_fatalf(cfg->ctx, i, "out of memory for server %d", i);
    struct kv_server *kv = NULL;
    int node = sim_node_swap(cfg->sim, i); /* the server's and its Raft's timers act for node i */
    int rc = kv_server_start(cfg->sim, cfg->ends[i], cfg->n, i, cfg->saved[i], cfg->maxraftstate,
                             server, &kv);
    sim_node_swap(cfg->sim, node);
    if (rc != KV_OK) lab_fatalf(cfg->ctx, i, "StartKVServer(%d) failed: %s", i, kv_strerror(rc));
    if (rc == KV_OK) lab_persister_check_taken(cfg->ctx, i, cfg->saved[i]);
    cfg->cpu[i] = (struct kv_cfg_cpu){.cfg = cfg, .server = i};
    int rc_svc = rpc_server_set_service_time(server, "KVServer", kv_cfg_service_us, &cfg->cpu[i]);
    SIM_ASSERTF(cfg->sim, i, rc_svc == RPC_OK, "service time: %s", rpc_strerror(rc_svc));
    cfg->servers[i] = kv;
    rpc_net_add_server(cfg->net, i, server);
    sim_trace4(cfg->sim, i, &kind_start, cfg->generation[i],
               (int64_t)raft_persister_snapshot_size(cfg->saved[i]), 0, 0);
    if (cfg->generation[i] > 1) kv_cfg_mark(cfg, i, "restart %d", i);
}

bool kv_cfg_leader(struct kv_cfg *cfg, int *leader)
{
    for (int i = 0; i < cfg->n; i++) {
        uint64_t term = 0;
        /* Go would dereference a nil server here; a shut-down server is simply no leader. */
        if (cfg->servers[i] != NULL && raft_get_state(kv_server_raft(cfg->servers[i]), &term)) {
            *leader = i;
            return true;
        }
    }
    *leader = 0;
    return false;
}

void kv_cfg_make_partition(struct kv_cfg *cfg, int *p1, int *p1_count, int *p2, int *p2_count)
{
    int l = 0;
    kv_cfg_leader(cfg, &l);
    *p1_count = cfg->n / 2 + 1;
    *p2_count = cfg->n / 2;
    int j = 0;
    for (int i = 0; i < cfg->n; i++) {
        if (i == l) continue;
        if (j < *p1_count)
            p1[j] = i;
        else
            p2[j - *p1_count] = i;
        j++;
    }
    p2[*p2_count - 1] = l;
}

size_t kv_cfg_log_size(const struct kv_cfg *cfg)
{
    size_t largest = 0;
    for (int i = 0; i < cfg->n; i++) {
        size_t size = raft_persister_state_size(cfg->saved[i]);
        largest = size > largest ? size : largest;
    }
    return largest;
}

size_t kv_cfg_snapshot_size(const struct kv_cfg *cfg)
{
    size_t largest = 0;
    for (int i = 0; i < cfg->n; i++) {
        size_t size = raft_persister_snapshot_size(cfg->saved[i]);
        largest = size > largest ? size : largest;
    }
    return largest;
}

uint64_t kv_cfg_rpc_total(const struct kv_cfg *cfg)
{
    return rpc_net_total_count(cfg->net);
}

/* ---------------------------------------------------------------- clerks */

struct kv_cfg_clerk *kv_cfg_make_client(struct kv_cfg *cfg, const int *to, int to_count)
{
    char name[RPC_NAME_MAX];
    struct rpc_end *shuffled[KV_CFG_SERVERS_MAX];
    int order[KV_CFG_SERVERS_MAX];
    if (cfg->clerks_count >= KV_CFG_CLERKS_MAX) {
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "more than %u clerks", KV_CFG_CLERKS_MAX);
        return NULL;
    }
    struct kv_cfg_clerk *ck = calloc(1, sizeof(*ck));
    if (ck == NULL) {
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "out of memory for a clerk");
        return NULL;
    }
    ck->number = (int)cfg->clerks_count;
    cfg->clerks[cfg->clerks_count++] = ck;
    for (int j = 0; j < cfg->n; j++) {
        snprintf(name, sizeof(name), "ck%d-%d", ck->number, j);
        ck->ends[j] = rpc_net_make_end(cfg->net, name);
        SIM_ASSERTF(cfg->sim, SIM_NODE_NONE, ck->ends[j] != NULL, "out of memory for an end");
        rpc_net_connect(cfg->net, ck->ends[j], j);
        order[j] = j;
    }
    /* random_handles: the clerk must not rely on server i being ends[i]. */
    sim_rand_shuffle_int(&cfg->rand, order, (size_t)cfg->n);
    for (int j = 0; j < cfg->n; j++)
        shuffled[j] = ck->ends[order[j]];
    ck->ck = kv_clerk_new(cfg->sim, shuffled, cfg->n);
    if (ck->ck == NULL) {
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "MakeClerk failed");
        return NULL;
    }
    /* The clerk names itself (Go's nrand); the trace records the name it chose. */
    sim_trace4(cfg->sim, SIM_NODE_NONE, &kind_clerk, ck->number, (int64_t)kv_clerk_id(ck->ck), 0,
               0);
    kv_cfg_connect_client(cfg, ck, to, to_count);
    return ck;
}

void kv_cfg_connect_client(struct kv_cfg *cfg, struct kv_cfg_clerk *ck, const int *to, int to_count)
{
    for (int j = 0; j < to_count; j++) {
        cfg_assert_server(cfg, to[j]);
        rpc_net_enable(cfg->net, ck->ends[to[j]], true);
    }
}

void kv_cfg_disconnect_client(struct kv_cfg *cfg, struct kv_cfg_clerk *ck, const int *from,
                              int from_count)
{
    for (int j = 0; j < from_count; j++) {
        cfg_assert_server(cfg, from[j]);
        rpc_net_enable(cfg->net, ck->ends[from[j]], false);
    }
}

struct kv_clerk *kv_cfg_clerk_raw(struct kv_cfg_clerk *ck)
{
    return ck->ck;
}
