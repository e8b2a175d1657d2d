/* skv_cfg_hist: the shardkv tester's recorded clerk operations and their linearizability
 * check (see skv_cfg.h).
 *
 * Each operation is recorded at its call and completed at its return (virtual times). The
 * whole history is checked once, at the end of the test (skv_cfg_end), with the KV model and a
 * fixed step budget, so a replay reaches the same verdict. As in the kvraft tester, a Get still
 * under way (the collection phases of TestStaticShards5A and TestRejection5A leave some blocked for
 * good) constrains nothing and is left out; a pending Put or Append may or may not have happened,
 * so it is kept with a return time after everything else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab_kv.h"
#include "lin.h"
#include "skv_cfg_int.h"

#define HIST_PENDING_AFTER_US SIM_S(3600)

static const struct sim_trace_kind kind_op = {
    461, SIM_TOPIC_CLIENT, "skvcfg.op", {"client", "kind", "call_us", "duration_us", NULL}};

void skv_cfg_history_free(struct skv_cfg *cfg)
{
    for (size_t k = 0; k < cfg->history_count; k++) {
        free(cfg->history[k].key);
        free(cfg->history[k].value);
        free(cfg->history[k].output);
    }
    free(cfg->history);
    cfg->history = NULL;
    cfg->history_count = 0;
}

static char *dup_or_fail(struct skv_cfg *cfg, const char *s)
{
    char *copy = strdup(s != NULL ? s : "");
    if (copy == NULL) lab_fatalf(cfg->ctx, SIM_NODE_NONE, "out of memory recording the history");
    return copy;
}

/* Records a call; returns its index (records move as the array grows: keep the index). */
static size_t hist_call(struct skv_cfg *cfg, int client, int kind, const char *key,
                        const char *value)
{
    if (cfg->history_count >= SKV_CFG_OPS_MAX)
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "more than %u operations", SKV_CFG_OPS_MAX);
    if (cfg->history_count == cfg->history_cap) {
        size_t cap = cfg->history_cap == 0 ? 1024 : cfg->history_cap * 2;
        struct skv_cfg_rec *grown = realloc(cfg->history, cap * sizeof(*grown));
        if (grown == NULL) lab_fatalf(cfg->ctx, SIM_NODE_NONE, "out of memory for the history");
        cfg->history = grown;
        cfg->history_cap = cap;
    }
    struct skv_cfg_rec rec = {
        .client = client,
        .call_us = (int64_t)sim_now_us(cfg->sim),
        .kind = kind,
        .key = dup_or_fail(cfg, key),
        .value = dup_or_fail(cfg, kind == LIN_KV_GET ? "" : value),
        .output = dup_or_fail(cfg, ""),
    };
    cfg->history[cfg->history_count] = rec;
    return cfg->history_count++;
}

static void hist_return(struct skv_cfg *cfg, size_t at, char *output)
{
    struct skv_cfg_rec *rec = &cfg->history[at];
    rec->return_us = (int64_t)sim_now_us(cfg->sim);
    rec->done = true;
    if (output != NULL) {
        free(rec->output);
        rec->output = output;
    }
    sim_trace4(cfg->sim, SIM_NODE_NONE, &kind_op, rec->client, rec->kind, rec->call_us,
               rec->return_us - rec->call_us);
}

static const char *cfg_op(struct skv_cfg *cfg, struct skv_clerk *ck, int kind, const char *key,
                          const char *value)
{
    int client = skv_cfg_clerk_number(cfg, ck);
    size_t at = hist_call(cfg, client, kind, key, value);
    cfg->ops++;
    if (kind == LIN_KV_GET) {
        char *got = skv_clerk_get(ck, key);
        if (got == NULL) lab_fatalf(cfg->ctx, SIM_NODE_NONE, "Get(%s) failed", key);
        hist_return(cfg, at, got);
        return cfg->history[at].output;
    }
    int rc = kind == LIN_KV_PUT ? skv_clerk_put(ck, key, value) : skv_clerk_append(ck, key, value);
    if (rc != SKV_OK)
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "PutAppend(%s): %s", key, skv_strerror(rc));
    hist_return(cfg, at, NULL);
    return NULL;
}

const char *skv_cfg_get(struct skv_cfg *cfg, struct skv_clerk *ck, const char *key)
{
    return cfg_op(cfg, ck, LIN_KV_GET, key, NULL);
}

void skv_cfg_put(struct skv_cfg *cfg, struct skv_clerk *ck, const char *key, const char *value)
{
    cfg_op(cfg, ck, LIN_KV_PUT, key, value);
}

void skv_cfg_append(struct skv_cfg *cfg, struct skv_clerk *ck, const char *key, const char *value)
{
    cfg_op(cfg, ck, LIN_KV_APPEND, key, value);
}

void skv_cfg_check(struct skv_cfg *cfg, struct skv_clerk *ck, const char *key, const char *value)
{
    const char *v = skv_cfg_get(cfg, ck, key);
    if (strcmp(v, value) != 0)
        lab_fatalf(cfg->ctx, SIM_NODE_NONE, "Get(%s): expected:\n%s\nreceived:\n%s", key, value, v);
}

/* ---------------------------------------------------------------- linearizability */

static struct lin_kv_op *history_ops(struct skv_cfg *cfg, size_t *count)
{
    struct lin_kv_op *ops = calloc(cfg->history_count + 1, sizeof(*ops));
    if (ops == NULL) lab_fatalf(cfg->ctx, SIM_NODE_NONE, "out of memory checking the history");
    int64_t pending_return_us = (int64_t)(sim_now_us(cfg->sim) + HIST_PENDING_AFTER_US);
    size_t m = 0;
    for (size_t k = 0; k < cfg->history_count; k++) {
        const struct skv_cfg_rec *rec = &cfg->history[k];
        if (!rec->done && rec->kind == LIN_KV_GET) continue;
        ops[m++] = (struct lin_kv_op){
            .client = rec->client,
            .call_us = rec->call_us,
            .return_us = rec->done ? rec->return_us : pending_return_us,
            .kind = (enum lin_kv_kind)rec->kind,
            .key = rec->key,
            .value = rec->value,
            .output = rec->output,
        };
    }
    *count = m;
    return ops;
}

void skv_cfg_check_history(struct skv_cfg *cfg)
{
    size_t count = 0;
    if (lab_failed(cfg->ctx)) return;
    struct lin_kv_op *ops = history_ops(cfg, &count);
    lab_kv_check_history(cfg->ctx, cfg->test_name, ops, count, SKV_LIN_STEPS_MAX, NULL, 0);
}
