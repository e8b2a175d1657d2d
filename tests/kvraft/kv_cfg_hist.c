/* kv_cfg_hist: the kvraft tester's clerk-op wrappers, the operation history and its
 * linearizability check, and the Append checks of test_test.go.
 *
 * Every operation is recorded at its call (virtual time, client row, kind, key, value) and
 * completed at its return. The history is checked once per test with the KV model and a fixed
 * step budget, so a replay reaches the same verdict. An operation still under way when the
 * check runs (TestOnePartition4A's minority Get may never return) is handled as Porcupine's
 * users do: a pending Get constrains nothing and is left out; a pending Put or Append may or
 * may not have happened, so it is kept with a return time after everything else. The check
 * itself, its HTML page (with this tester's fault markers) and its verdicts are the KV suites'
 * shared lab_kv_check_history.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kv_cfg_int.h"
#include "lab_kv.h"
#include "lin.h"

static const struct sim_trace_kind kind_op = {
    453, SIM_TOPIC_CLIENT, "kvcfg.op", {"client", "kind", "call_us", "duration_us", NULL}};

/* A pending write's stand-in return time: later than any call in the history. */
#define HIST_PENDING_AFTER_US SIM_S(3600)

_Static_assert((int)KV_CFG_GET == (int)LIN_KV_GET, "kinds line up with the checker's");
_Static_assert((int)KV_CFG_PUT == (int)LIN_KV_PUT, "kinds line up with the checker's");
_Static_assert((int)KV_CFG_APPEND == (int)LIN_KV_APPEND, "kinds line up with the checker's");

void kv_cfg_history_free(struct kv_cfg *cfg)
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

size_t kv_cfg_history_count(const struct kv_cfg *cfg)
{
    return cfg->history_count;
}

static char *dup_or_fail(struct kv_cfg *cfg, const char *s)
{
    char *copy = strdup(s != NULL ? s : "");
    if (copy == NULL) lab_fatalf(cfg->ctx, SIM_NODE_NONE, "out of memory recording the history");
    return copy;
}

/* Appends a record for an op being called; returns its index (records may move while the
 * caller is parked, so callers keep the index, never a pointer). */
static size_t hist_call(struct kv_cfg *cfg, int client, enum kv_cfg_kind kind, const char *key,
                        const char *value)
{
    if (cfg->history_count >= KV_CFG_OPS_MAX)
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "more than %u operations in one test", KV_CFG_OPS_MAX);
    if (cfg->history_count == cfg->history_cap) {
        size_t cap = cfg->history_cap == 0 ? 1024 : cfg->history_cap * 2;
        struct kv_cfg_rec *grown = realloc(cfg->history, cap * sizeof(*grown));
        if (grown == NULL)
            lab_fatalf(cfg->ctx, SIM_NODE_NONE, "out of memory recording the history");
        cfg->history = grown;
        cfg->history_cap = cap;
    }
    size_t at = cfg->history_count;
    struct kv_cfg_rec rec = {
        .client = client,
        .call_us = (int64_t)sim_now_us(cfg->sim),
        .return_us = 0,
        .kind = kind,
        .done = false,
        .key = dup_or_fail(cfg, key),
        .value = dup_or_fail(cfg, kind == KV_CFG_GET ? "" : value),
        .output = NULL,
    };
    cfg->history[at] = rec;
    cfg->history_count++;
    return at;
}

/* Runs the clerk call itself. For a Get returns the value (malloc'd). */
static char *op_call(struct kv_cfg *cfg, struct kv_cfg_clerk *ck, enum kv_cfg_kind kind,
                     const char *key, const char *value)
{
    int rc = KV_OK;
    switch (kind) {
    case KV_CFG_GET: {
        char *out = kv_clerk_get(ck->ck, key);
        if (out == NULL) lab_fatalf(cfg->ctx, SIM_NODE_NONE, "Get(%s) failed: out of memory", key);
        return out;
    }
    case KV_CFG_PUT:
        rc = kv_clerk_put(ck->ck, key, value);
        break;
    case KV_CFG_APPEND:
        rc = kv_clerk_append(ck->ck, key, value);
        break;
    }
    if (rc != KV_OK)
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "%s(%s) failed: %s",
                   kind == KV_CFG_PUT ? "Put" : "Append", key, kv_strerror(rc));
    return NULL;
}

const char *kv_cfg_op(struct kv_cfg *cfg, struct kv_cfg_clerk *ck, enum kv_cfg_kind kind,
                      const char *key, const char *value, int cli, bool counted)
{
    SIM_ASSERT(cfg->sim, SIM_NODE_NONE, ck != NULL);
    SIM_ASSERT(cfg->sim, SIM_NODE_NONE, key != NULL);
    size_t at = hist_call(cfg, cli >= 0 ? cli : ck->number, kind, key, value);
    char *out = op_call(cfg, ck, kind, key, value);
    struct kv_cfg_rec *rec = &cfg->history[at];
    SIM_ASSERT(cfg->sim, SIM_NODE_NONE, !rec->done);
    rec->return_us = (int64_t)sim_now_us(cfg->sim);
    rec->output = out;
    rec->done = true;
    if (counted) cfg->ops++;
    sim_trace4(cfg->sim, SIM_NODE_NONE, &kind_op, rec->client, (int64_t)kind, rec->call_us,
               rec->return_us - rec->call_us);
    return kind == KV_CFG_GET ? rec->output : NULL;
}

void kv_cfg_history_add(struct kv_cfg *cfg, int client, int64_t call_us, int64_t return_us,
                        enum kv_cfg_kind kind, const char *key, const char *value,
                        const char *output)
{
    size_t at = hist_call(cfg, client, kind, key, value);
    struct kv_cfg_rec *rec = &cfg->history[at];
    rec->call_us = call_us;
    rec->return_us = return_us;
    rec->output = kind == KV_CFG_GET ? dup_or_fail(cfg, output) : NULL;
    rec->done = true;
}

void kv_cfg_set_lin_steps(struct kv_cfg *cfg, uint64_t steps_max)
{
    cfg->lin_steps_max = steps_max;
}

const char *kv_cfg_get(struct kv_cfg *cfg, struct kv_cfg_clerk *ck, const char *key, int cli)
{
    return kv_cfg_op(cfg, ck, KV_CFG_GET, key, NULL, cli, true);
}

void kv_cfg_put(struct kv_cfg *cfg, struct kv_cfg_clerk *ck, const char *key, const char *value,
                int cli)
{
    kv_cfg_op(cfg, ck, KV_CFG_PUT, key, value, cli, true);
}

void kv_cfg_append(struct kv_cfg *cfg, struct kv_cfg_clerk *ck, const char *key, const char *value,
                   int cli)
{
    kv_cfg_op(cfg, ck, KV_CFG_APPEND, key, value, cli, true);
}

void kv_cfg_check(struct kv_cfg *cfg, struct kv_cfg_clerk *ck, const char *key, const char *value)
{
    const char *v = kv_cfg_get(cfg, ck, key, -1);
    if (strcmp(v, value) != 0)
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "Get(%s): expected:\n%s\nreceived:\n%s", key, value, v);
}

/* ---------------------------------------------------------------- append checks */

void kv_cfg_check_clnt_appends(struct kv_cfg *cfg, int clnt, const char *v, int count)
{
    lab_kv_check_clnt_appends(cfg->ctx, clnt, v, count);
}

void kv_cfg_check_concurrent_appends(struct kv_cfg *cfg, const char *v, const int *counts,
                                     int clients_count)
{
    for (int i = 0; i < clients_count; i++)
        lab_kv_check_clnt_appends(cfg->ctx, i, v, counts[i]);
}

/* ---------------------------------------------------------------- linearizability */

/* The history in the checker's form; pending Gets left out (see the file comment). */
static struct lin_kv_op *history_ops(struct kv_cfg *cfg, size_t *count)
{
    struct lin_kv_op *ops = calloc(cfg->history_count + 1, sizeof(*ops));
    if (ops == NULL) lab_fatalf(cfg->ctx, SIM_NODE_NONE, "out of memory checking the history");
    int64_t pending_return_us = (int64_t)(sim_now_us(cfg->sim) + HIST_PENDING_AFTER_US);
    size_t m = 0;
    for (size_t k = 0; k < cfg->history_count; k++) {
        const struct kv_cfg_rec *rec = &cfg->history[k];
        if (!rec->done && rec->kind == KV_CFG_GET) continue;
        ops[m++] = (struct lin_kv_op){
            .client = rec->client,
            .call_us = rec->call_us,
            .return_us = rec->done ? rec->return_us : pending_return_us,
            .kind = (enum lin_kv_kind)rec->kind,
            .key = rec->key,
            .value = rec->value,
            .output = rec->output != NULL ? rec->output : "",
        };
    }
    *count = m;
    return ops;
}

int kv_cfg_history_verdict(struct kv_cfg *cfg)
{
    size_t count = 0;
    struct lin_kv_op *ops = history_ops(cfg, &count); /* lab_kv_history_verdict frees it */
    return lab_kv_history_verdict(cfg->ctx, cfg->test_name, ops, count, cfg->lin_steps_max,
                                  cfg->markers, cfg->markers_count);
}

void kv_cfg_check_history(struct kv_cfg *cfg)
{
    size_t count = 0;
    struct lin_kv_op *ops = history_ops(cfg, &count); /* lab_kv_check_history frees it */
    lab_kv_check_history(cfg->ctx, cfg->test_name, ops, count, cfg->lin_steps_max, cfg->markers,
                         cfg->markers_count);
}

/* ---------------------------------------------------------------- durations */

/* Appends "<whole>[.<frac>]<unit>" with the fraction's trailing zeros removed. */
static void unit_format(char *buf, size_t size, uint64_t whole, uint64_t frac, int digits,
                        const char *unit)
{
    char fbuf[32] = "";
    if (frac != 0) {
        snprintf(fbuf, sizeof(fbuf), ".%0*" PRIu64, digits, frac);
        size_t n = strlen(fbuf);
        while (n > 1 && fbuf[n - 1] == '0')
            fbuf[--n] = '\0';
    }
    snprintf(buf, size, "%" PRIu64 "%s%s", whole, fbuf, unit);
}

void kv_cfg_duration_format(uint64_t ns, char *buf, size_t size)
{
    if (ns == 0) {
        snprintf(buf, size, "0s");
    } else if (ns < 1000u) {
        snprintf(buf, size, "%" PRIu64 "ns", ns);
    } else if (ns < 1000000u) {
        unit_format(buf, size, ns / 1000u, ns % 1000u, 3, "\xc2\xb5s");
    } else if (ns < 1000000000u) {
        unit_format(buf, size, ns / 1000000u, ns % 1000000u, 6, "ms");
    } else {
        char secs[48];
        uint64_t s = ns / 1000000000u;
        unit_format(secs, sizeof(secs), s % 60u, ns % 1000000000u, 9, "s");
        if (s >= 3600u)
            snprintf(buf, size, "%" PRIu64 "h%" PRIu64 "m%s", s / 3600u, (s / 60u) % 60u, secs);
        else if (s >= 60u)
            snprintf(buf, size, "%" PRIu64 "m%s", s / 60u, secs);
        else
            snprintf(buf, size, "%s", secs);
    }
}
