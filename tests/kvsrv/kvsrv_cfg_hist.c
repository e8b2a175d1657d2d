/* kvsrv_cfg_hist: the lab 2 tester's Get/Put/Append wrappers, the operation log and its
 * linearizability check, and the Append checks of test_test.go.
 *
 * Every wrapper call is recorded (virtual call and return times, client row, kind, key,
 * argument, result); those made with a log (Go's log != nil) form the history that is checked
 * once per test with the KV model, Append as Porcupine's op 3 (append returning the old
 * value), under a fixed step budget, so a replay reaches the same verdict. ILLEGAL writes the
 * HTML visualization and fails "history is not linearizable"; UNKNOWN is reported as its own
 * outcome (lab_set_unknown), never as a silent pass (Go prints "assuming history is ok").
 *
 * Client CPU. After each wrapper call the calling client spends, in virtual time, what the Go
 * test spends on its own string work per op: the wrappers and GenericTest compare, search and
 * concatenate the whole value (v != last, inHistory, NextValue, the porcupine log), work that
 * grows with the value. The clients share KVSRV_CFG_CORES CPUs, as Go's goroutines share the
 * machine's: a charge runs on the CPU that is idle first (the lowest-numbered on a tie), after
 * the work queued on it. Without this a client runs ops as fast as the network answers, and
 * the values, the log and the checker's work grow several times past Go's (see README).
 */
#include <stdlib.h>
#include <string.h>

#include "kvsrv_cfg_int.h"
#include "lab_kv.h"

static const struct sim_trace_kind kind_op = {
    461, SIM_TOPIC_CLIENT, "kvsrvcfg.op", {"client", "kind", "call_us", "duration_us", NULL}};

/* Go's per-byte CPU cost of the test's string work per op (measured, README). */
#define HIST_CLIENT_NS_PER_BYTE 100u

_Static_assert((int)KVSRV_CFG_GET == (int)LIN_KV_GET, "kinds line up with the checker's");
_Static_assert((int)KVSRV_CFG_PUT == (int)LIN_KV_PUT, "kinds line up with the checker's");
_Static_assert((int)KVSRV_CFG_APPEND == (int)LIN_KV_APPEND_OLD, "Append is Porcupine's op 3");

void kvsrv_cfg_history_free(struct kvsrv_cfg *cfg)
{
    for (size_t k = 0; k < cfg->history_count; k++) {
        free(cfg->history[k].key);
        free(cfg->history[k].value);
        free(cfg->history[k].output);
    }
    free(cfg->history);
    cfg->history = NULL;
    cfg->history_count = 0;
    cfg->history_cap = 0;
}

size_t kvsrv_cfg_history_count(const struct kvsrv_cfg *cfg)
{
    return cfg->history_count;
}

static char *dup_or_fail(struct kvsrv_cfg *cfg, const char *s)
{
    char *copy = strdup(s != NULL ? s : "");
    if (copy == NULL) lab_fatalf(cfg->ctx, SIM_NODE_NONE, "out of memory recording the history");
    return copy;
}

/* Appends a record for an op being called; returns its index (records may move while the
 * caller is parked, so callers keep the index, never a pointer). */
static size_t hist_call(struct kvsrv_cfg *cfg, int client, bool logged, enum kvsrv_cfg_kind kind,
                        const char *key, const char *value)
{
    if (cfg->history_count >= KVSRV_CFG_OPS_MAX)
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "more than %u operations in one test",
                   KVSRV_CFG_OPS_MAX);
    if (cfg->history_count == cfg->history_cap) {
        size_t cap = cfg->history_cap == 0 ? 1024 : cfg->history_cap * 2;
        struct kvsrv_cfg_rec *grown = realloc(cfg->history, cap * sizeof(*grown));
        if (grown == NULL)
            lab_fatalf(cfg->ctx, SIM_NODE_NONE, "out of memory recording the history");
        cfg->history = grown;
        cfg->history_cap = cap;
    }
    size_t at = cfg->history_count++;
    cfg->history[at] = (struct kvsrv_cfg_rec){
        .client = client,
        .logged = logged,
        .kind = kind,
        .call_us = (int64_t)sim_now_us(cfg->sim),
        .key = dup_or_fail(cfg, key),
        .value = dup_or_fail(cfg, kind == KVSRV_CFG_GET ? "" : value),
    };
    return at;
}

/* Runs the client's string work over len bytes on the first idle CPU (see the file comment). */
static void hist_charge_cpu(struct kvsrv_cfg *cfg, size_t len)
{
    sim_time_us cost_us = (sim_time_us)len * HIST_CLIENT_NS_PER_BYTE / 1000u;
    if (cost_us == 0) return;
    uint32_t core = 0;
    for (uint32_t k = 1; k < KVSRV_CFG_CORES; k++) {
        if (cfg->core_free_us[k] < cfg->core_free_us[core]) core = k;
    }
    sim_time_us now_us = sim_now_us(cfg->sim);
    sim_time_us start_us = cfg->core_free_us[core] > now_us ? cfg->core_free_us[core] : now_us;
    cfg->core_free_us[core] = start_us + cost_us;
    sim_sleep_us(cfg->sim, cfg->core_free_us[core] - now_us);
}

/* One wrapper call: record, call the clerk, complete the record, charge the client's CPU. */
static const char *hist_op(struct kvsrv_cfg *cfg, struct kvsrv_cfg_clerk *ck,
                           enum kvsrv_cfg_kind kind, const char *key, const char *value,
                           bool logged, int cli)
{
    SIM_ASSERT(cfg->sim, SIM_NODE_NONE, ck != NULL);
    SIM_ASSERT(cfg->sim, SIM_NODE_NONE, key != NULL);
    size_t at = hist_call(cfg, cli, logged, kind, key, value);
    char *out = NULL;
    if (kind == KVSRV_CFG_GET) out = kvsrv_clerk_get(ck->ck, key);
    if (kind == KVSRV_CFG_APPEND) out = kvsrv_clerk_append(ck->ck, key, value);
    if (kind == KVSRV_CFG_PUT && kvsrv_clerk_put(ck->ck, key, value) == KVSRV_OK)
        out = dup_or_fail(cfg, "");
    if (out == NULL) lab_fatalf(cfg->ctx, SIM_NODE_NONE, "clerk call on key %s failed", key);
    struct kvsrv_cfg_rec *rec = &cfg->history[at];
    SIM_ASSERT(cfg->sim, SIM_NODE_NONE, !rec->done);
    rec->return_us = (int64_t)sim_now_us(cfg->sim);
    rec->output = out;
    rec->done = true;
    cfg->ops++;
    sim_trace4(cfg->sim, SIM_NODE_NONE, &kind_op, rec->client, (int64_t)kind, rec->call_us,
               rec->return_us - rec->call_us);
    hist_charge_cpu(cfg, strlen(out));
    return cfg->history[at].output;
}

const char *kvsrv_cfg_get(struct kvsrv_cfg *cfg, struct kvsrv_cfg_clerk *ck, const char *key,
                          bool logged, int cli)
{
    return hist_op(cfg, ck, KVSRV_CFG_GET, key, NULL, logged, cli);
}

void kvsrv_cfg_put(struct kvsrv_cfg *cfg, struct kvsrv_cfg_clerk *ck, const char *key,
                   const char *value, bool logged, int cli)
{
    hist_op(cfg, ck, KVSRV_CFG_PUT, key, value, logged, cli);
}

const char *kvsrv_cfg_append(struct kvsrv_cfg *cfg, struct kvsrv_cfg_clerk *ck, const char *key,
                             const char *value, bool logged, int cli)
{
    return hist_op(cfg, ck, KVSRV_CFG_APPEND, key, value, logged, cli);
}

/* ---------------------------------------------------------------- direct calls */

char *kvsrv_cfg_raw_get(struct kvsrv_cfg *cfg, struct kvsrv_cfg_clerk *ck, const char *key)
{
    char *v = kvsrv_clerk_get(ck->ck, key);
    if (v == NULL) lab_fatalf(cfg->ctx, SIM_NODE_NONE, "Get(%s) failed", key);
    return v;
}

void kvsrv_cfg_raw_put(struct kvsrv_cfg *cfg, struct kvsrv_cfg_clerk *ck, const char *key,
                       const char *value)
{
    int rc = kvsrv_clerk_put(ck->ck, key, value);
    if (rc != KVSRV_OK)
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "Put(%s) failed: %s", key, kvsrv_strerror(rc));
}

char *kvsrv_cfg_raw_append(struct kvsrv_cfg *cfg, struct kvsrv_cfg_clerk *ck, const char *key,
                           const char *value)
{
    char *v = kvsrv_clerk_append(ck->ck, key, value);
    if (v == NULL) lab_fatalf(cfg->ctx, SIM_NODE_NONE, "Append(%s) failed", key);
    return v;
}

/* ---------------------------------------------------------------- checks */

void kvsrv_cfg_check_clnt_appends(struct kvsrv_cfg *cfg, int clnt, const char *v, int count)
{
    lab_kv_check_clnt_appends(cfg->ctx, clnt, v, count);
}

void kvsrv_cfg_check_concurrent_appends(struct kvsrv_cfg *cfg, const char *v, const int *counts,
                                        int clients_count)
{
    for (int i = 0; i < clients_count; i++)
        lab_kv_check_clnt_appends(cfg->ctx, i, v, counts[i]);
}

/* The logged, finished operations in the checker's form (a logged op always finished: the
 * check runs after every client returned). */
static struct lin_kv_op *history_ops(struct kvsrv_cfg *cfg, size_t *count)
{
    struct lin_kv_op *ops = calloc(cfg->history_count + 1, sizeof(*ops));
    if (ops == NULL) lab_fatalf(cfg->ctx, SIM_NODE_NONE, "out of memory checking the history");
    size_t m = 0;
    for (size_t k = 0; k < cfg->history_count; k++) {
        const struct kvsrv_cfg_rec *rec = &cfg->history[k];
        if (!rec->logged || !rec->done) continue;
        ops[m++] = (struct lin_kv_op){
            .client = rec->client,
            .call_us = rec->call_us,
            .return_us = rec->return_us,
            .kind = (enum lin_kv_kind)rec->kind,
            .key = rec->key,
            .value = rec->value,
            .output = rec->kind == KVSRV_CFG_PUT ? "" : rec->output,
        };
    }
    *count = m;
    return ops;
}

void kvsrv_cfg_check_history(struct kvsrv_cfg *cfg)
{
    size_t count = 0;
    struct lin_kv_op *ops = history_ops(cfg, &count);
    lab_kv_check_history(cfg->ctx, cfg->test_name, ops, count, KVSRV_CFG_LIN_STEPS_MAX, NULL, 0);
}
