/* skv_codec: the labgob encodings of shardkv (see skv_int.h for what each carries).
 *
 * Field numbers (zero values are left out by labgob):
 *   op:        1 client id, 2 seq, 3 kind ("Get", "Put", "Append"), 4 key, 5 value
 *   reply:     1 err, 2 value
 *   move args: 1 config num, 2 shard          pull reply: 1 err, 2 data, 3 sessions
 *   command:   1 type ("Op", "Config", "Insert", "Delete", "GCDone", "NoOp"), 2 client id, 3 seq,
 *              4 op kind, 5 key, 6 value, 7 config num, 8 shard, 9 config, 10 data,
 *              11 sessions
 *   snapshot:  1 applied index, 2 current config, 3 previous config, 4 [NShards]shard
 *              {1 state, 2 data, 3 sessions}
 *   config:    {1 num, 2 [NShards]gid, 3 map gid -> []server name}
 *   data: a map key -> value (keys sorted); sessions: a map client id -> last seq.
 * Every decoder checks kinds, ranges and bounds and reports SKV_EDECODE rather than trusting
 * its input.
 */
#include <stdlib.h>
#include <string.h>

#include "skv_int.h"

const char *const skv_method_names[SKV_OP_KINDS_COUNT] = {"Get", "Put", "Append"};
static const char *const cmd_names[SKV_CMD_KINDS_COUNT] = {"Op",     "Config", "Insert",
                                                           "Delete", "GCDone", "NoOp"};

static int enc_result(const struct gob_enc *e)
{
    int rc = gob_enc_finish(e);
    if (rc == GOB_OK) return SKV_OK;
    return rc == GOB_ENOMEM ? SKV_ENOMEM : SKV_EINVAL;
}

/* The index of the name equal to the n bytes at p among names[count]; count when none. */
static unsigned name_index(const char *const *names, unsigned count, const uint8_t *p, size_t n)
{
    for (unsigned k = 0; p != NULL && k < count; k++) {
        if (n == strlen(names[k]) && memcmp(p, names[k], n) == 0) return k;
    }
    return count;
}

/* ---------------------------------------------------------------- client ops */

static void op_put(struct gob_enc *e, uint32_t first, const struct skv_op *op)
{
    gob_put_uint(e, first, op->client_id);
    gob_put_uint(e, first + 1, op->seq);
    gob_put_str(e, first + 2, skv_method_names[op->kind]);
    gob_put_bytes(e, first + 3, op->key, op->key_len);
    gob_put_bytes(e, first + 4, op->value, op->value_len);
}

static void op_get(struct gob_dec *d, uint32_t first, struct skv_op *op, const uint8_t **kind,
                   size_t *kind_len)
{
    gob_get_uint(d, first, &op->client_id);
    gob_get_uint(d, first + 1, &op->seq);
    gob_get_bytes(d, first + 2, kind, kind_len);
    gob_get_bytes(d, first + 3, &op->key, &op->key_len);
    gob_get_bytes(d, first + 4, &op->value, &op->value_len);
}

static bool op_check(struct skv_op *op, const uint8_t *kind, size_t kind_len)
{
    unsigned k = name_index(skv_method_names, SKV_OP_KINDS_COUNT, kind, kind_len);
    if (k >= SKV_OP_KINDS_COUNT || op->key_len > SKV_KEY_MAX || op->value_len > SKV_VALUE_MAX)
        return false;
    op->kind = (enum skv_op_kind)k;
    return true;
}

int skv_op_encode(struct gob_enc *e, const struct skv_op *op)
{
    if ((unsigned)op->kind >= SKV_OP_KINDS_COUNT) return SKV_EINVAL;
    if (op->key_len > SKV_KEY_MAX || op->value_len > SKV_VALUE_MAX) return SKV_EINVAL;
    gob_enc_reset(e);
    op_put(e, 1, op);
    return enc_result(e);
}

int skv_op_decode(const uint8_t *buf, size_t len, struct skv_op *op)
{
    struct gob_dec d;
    const uint8_t *kind = NULL;
    size_t kind_len = 0;
    memset(op, 0, sizeof(*op));
    gob_dec_init(&d, buf, len);
    op_get(&d, 1, op, &kind, &kind_len);
    if (gob_dec_finish(&d) != GOB_OK || !op_check(op, kind, kind_len)) return SKV_EDECODE;
    return SKV_OK;
}

int skv_reply_encode(struct gob_enc *e, const struct skv_reply *r)
{
    gob_enc_reset(e);
    gob_put_uint(e, 1, (uint64_t)r->err);
    gob_put_bytes(e, 2, r->value, r->value_len);
    return enc_result(e);
}

int skv_reply_decode(const uint8_t *buf, size_t len, struct skv_reply *r)
{
    struct gob_dec d;
    uint64_t err = 0;
    memset(r, 0, sizeof(*r));
    gob_dec_init(&d, buf, len);
    gob_get_uint(&d, 1, &err);
    gob_get_bytes(&d, 2, &r->value, &r->value_len);
    if (gob_dec_finish(&d) != GOB_OK || err >= SKV_REPLY_ERRS_COUNT) return SKV_EDECODE;
    r->err = (enum skv_reply_err)err;
    return SKV_OK;
}

/* ---------------------------------------------------------------- shards */

static void shard_put(struct gob_enc *e, uint32_t data_field, const struct skv_shard *sh)
{
    if (sh->entries_count > 0) {
        gob_put_map_begin(e, data_field, sh->entries_count);
        for (size_t i = 0; i < sh->entries_count; i++) {
            gob_put_record_begin(e, 0);
            gob_put_bytes(e, 1, sh->entries[i].key, sh->entries[i].key_len);
            gob_put_bytes(e, 2, sh->entries[i].value, sh->entries[i].value_len);
            gob_put_record_end(e);
        }
        gob_put_map_end(e);
    }
    if (sh->sessions_count > 0) {
        gob_put_map_begin(e, data_field + 1, sh->sessions_count);
        for (size_t i = 0; i < sh->sessions_count; i++) {
            gob_put_record_begin(e, 0);
            gob_put_uint(e, 1, sh->sessions[i].client_id);
            gob_put_uint(e, 2, sh->sessions[i].seq_last);
            gob_put_record_end(e);
        }
        gob_put_map_end(e);
    }
}

static int shard_get_data(struct gob_dec *d, uint32_t field, struct skv_shard *sh)
{
    uint64_t count = gob_get_array_begin(d, field, GOB_RECORD);
    for (uint64_t i = 0; i < count && gob_dec_err(d) == GOB_OK; i++) {
        const uint8_t *key = NULL;
        size_t key_len = 0;
        const uint8_t *value = NULL;
        size_t value_len = 0;
        gob_get_elem_record_begin(d);
        gob_get_bytes(d, 1, &key, &key_len);
        gob_get_bytes(d, 2, &value, &value_len);
        gob_get_record_end(d);
        if (gob_dec_err(d) != GOB_OK) return SKV_EDECODE;
        int rc = skv_shard_write(sh, key, key_len, value, value_len, false);
        if (rc != SKV_OK) return rc;
    }
    if (count > 0) gob_get_array_end(d);
    return gob_dec_err(d) == GOB_OK ? SKV_OK : SKV_EDECODE;
}

static int shard_get_sessions(struct gob_dec *d, uint32_t field, struct skv_shard *sh)
{
    uint64_t count = gob_get_array_begin(d, field, GOB_RECORD);
    for (uint64_t i = 0; i < count && gob_dec_err(d) == GOB_OK; i++) {
        uint64_t client_id = 0;
        uint64_t seq = 0;
        gob_get_elem_record_begin(d);
        gob_get_uint(d, 1, &client_id);
        gob_get_uint(d, 2, &seq);
        gob_get_record_end(d);
        if (gob_dec_err(d) != GOB_OK) return SKV_EDECODE;
        if (skv_shard_record(sh, client_id, seq) != SKV_OK) return SKV_ENOMEM;
    }
    if (count > 0) gob_get_array_end(d);
    return gob_dec_err(d) == GOB_OK ? SKV_OK : SKV_EDECODE;
}

static int shard_get(struct gob_dec *d, uint32_t data_field, struct skv_shard *sh)
{
    int rc = shard_get_data(d, data_field, sh);
    return rc == SKV_OK ? shard_get_sessions(d, data_field + 1, sh) : rc;
}

int skv_move_args_encode(struct gob_enc *e, int num, int shard)
{
    gob_enc_reset(e);
    gob_put_int(e, 1, num);
    gob_put_int(e, 2, shard);
    return enc_result(e);
}

int skv_move_args_decode(const uint8_t *buf, size_t len, int *num, int *shard)
{
    struct gob_dec d;
    int64_t n = 0;
    int64_t s = 0;
    gob_dec_init(&d, buf, len);
    gob_get_int(&d, 1, &n);
    gob_get_int(&d, 2, &s);
    if (gob_dec_finish(&d) != GOB_OK || n < 0 || n > INT32_MAX || s < 0 || s >= SC_NSHARDS)
        return SKV_EDECODE;
    *num = (int)n;
    *shard = (int)s;
    return SKV_OK;
}

int skv_pull_reply_encode(struct gob_enc *e, enum skv_reply_err err, const struct skv_shard *sh)
{
    gob_enc_reset(e);
    gob_put_uint(e, 1, (uint64_t)err);
    if (sh != NULL) shard_put(e, 2, sh);
    return enc_result(e);
}

int skv_pull_reply_decode(const uint8_t *buf, size_t len, enum skv_reply_err *err,
                          struct skv_shard *sh)
{
    struct gob_dec d;
    uint64_t code = 0;
    gob_dec_init(&d, buf, len);
    gob_get_uint(&d, 1, &code);
    int rc = shard_get(&d, 2, sh);
    if (rc != SKV_OK) return rc;
    if (gob_dec_finish(&d) != GOB_OK || code >= SKV_REPLY_ERRS_COUNT) return SKV_EDECODE;
    *err = (enum skv_reply_err)code;
    return SKV_OK;
}

/* ---------------------------------------------------------------- configurations */

static void config_put(struct gob_enc *e, uint32_t field, const struct sc_config *c)
{
    gob_put_record_begin(e, field);
    gob_put_int(e, 1, c->num);
    gob_put_array_begin(e, 2, GOB_INT, SC_NSHARDS);
    for (int s = 0; s < SC_NSHARDS; s++)
        gob_put_elem_int(e, c->shards[s]);
    gob_put_array_end(e);
    if (c->groups_count > 0) {
        gob_put_map_begin(e, 3, (uint64_t)c->groups_count);
        for (int g = 0; g < c->groups_count; g++) {
            const struct sc_group *group = &c->groups[g];
            gob_put_record_begin(e, 0);
            gob_put_int(e, 1, group->gid);
            gob_put_array_begin(e, 2, GOB_BYTES, (uint64_t)group->servers_count);
            for (int i = 0; i < group->servers_count; i++)
                gob_put_elem_bytes(e, group->servers[i], strlen(group->servers[i]));
            gob_put_array_end(e);
            gob_put_record_end(e);
        }
        gob_put_map_end(e);
    }
    gob_put_record_end(e);
}

static bool group_get(struct gob_dec *d, struct sc_group *g)
{
    int64_t gid = 0;
    memset(g, 0, sizeof(*g));
    gob_get_elem_record_begin(d);
    gob_get_int(d, 1, &gid);
    uint64_t n = gob_get_array_begin(d, 2, GOB_BYTES);
    if (gid <= 0 || gid > INT32_MAX || n > SC_GROUP_SERVERS_MAX) return false;
    g->gid = (int)gid;
    g->servers_count = (int)n;
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *p = NULL;
        size_t len = 0;
        gob_get_elem_bytes(d, &p, &len);
        if (len >= SC_SERVER_NAME_MAX) return false;
        if (len > 0) memcpy(g->servers[i], p, len);
    }
    if (n > 0) gob_get_array_end(d);
    gob_get_record_end(d);
    return gob_dec_err(d) == GOB_OK;
}

/* Reads config `field`; false when absent or malformed. */
static bool config_get(struct gob_dec *d, uint32_t field, struct sc_config *c)
{
    int64_t num = 0;
    sc_config_init(c);
    if (!gob_get_record_begin(d, field)) return false;
    gob_get_int(d, 1, &num);
    if (gob_get_array_begin(d, 2, GOB_INT) != SC_NSHARDS || num < 0 || num > INT32_MAX)
        return false;
    c->num = (int)num;
    for (int s = 0; s < SC_NSHARDS; s++) {
        int64_t gid = 0;
        gob_get_elem_int(d, &gid);
        if (gid < 0 || gid > INT32_MAX) return false;
        c->shards[s] = (int)gid;
    }
    gob_get_array_end(d);
    uint64_t n = gob_get_array_begin(d, 3, GOB_RECORD);
    if (n > SC_GROUPS_MAX) return false;
    c->groups_count = (int)n;
    for (uint64_t g = 0; g < n; g++) {
        if (!group_get(d, &c->groups[g])) return false;
    }
    if (n > 0) gob_get_array_end(d);
    gob_get_record_end(d);
    return gob_dec_err(d) == GOB_OK;
}

/* ---------------------------------------------------------------- log commands */

int skv_cmd_encode_op(struct gob_enc *e, const struct skv_op *op)
{
    if ((unsigned)op->kind >= SKV_OP_KINDS_COUNT) return SKV_EINVAL;
    gob_enc_reset(e);
    gob_put_str(e, 1, cmd_names[SKV_CMD_OP]);
    op_put(e, 2, op);
    return enc_result(e);
}

int skv_cmd_encode_config(struct gob_enc *e, const struct sc_config *c)
{
    gob_enc_reset(e);
    gob_put_str(e, 1, cmd_names[SKV_CMD_CONFIG]);
    config_put(e, 9, c);
    return enc_result(e);
}

int skv_cmd_encode_shard(struct gob_enc *e, enum skv_cmd_kind kind, int num, int shard,
                         const struct skv_shard *sh)
{
    gob_enc_reset(e);
    gob_put_str(e, 1, cmd_names[kind]);
    gob_put_int(e, 7, num);
    gob_put_int(e, 8, shard);
    if (sh != NULL) shard_put(e, 10, sh);
    return enc_result(e);
}

int skv_cmd_decode(const uint8_t *buf, size_t len, struct skv_cmd *cmd)
{
    struct gob_dec d;
    const uint8_t *type = NULL;
    size_t type_len = 0;
    const uint8_t *kind = NULL;
    size_t kind_len = 0;
    int64_t num = 0;
    int64_t shard = 0;
    memset(&cmd->op, 0, sizeof(cmd->op));
    gob_dec_init(&d, buf, len);
    gob_get_bytes(&d, 1, &type, &type_len);
    unsigned k = name_index(cmd_names, SKV_CMD_KINDS_COUNT, type, type_len);
    if (k >= SKV_CMD_KINDS_COUNT) return SKV_EDECODE;
    cmd->kind = (enum skv_cmd_kind)k;
    op_get(&d, 2, &cmd->op, &kind, &kind_len);
    gob_get_int(&d, 7, &num);
    gob_get_int(&d, 8, &shard);
    if (num < 0 || num > INT32_MAX || shard < 0 || shard >= SC_NSHARDS) return SKV_EDECODE;
    cmd->num = (int)num;
    cmd->shard = (int)shard;
    if (cmd->kind == SKV_CMD_CONFIG && !config_get(&d, 9, cmd->config)) return SKV_EDECODE;
    if (cmd->kind == SKV_CMD_INSERT) {
        int rc = shard_get(&d, 10, cmd->insert);
        if (rc != SKV_OK) return rc;
    }
    if (gob_dec_finish(&d) != GOB_OK) return SKV_EDECODE;
    if (cmd->kind == SKV_CMD_OP && !op_check(&cmd->op, kind, kind_len)) return SKV_EDECODE;
    return SKV_OK;
}

/* ---------------------------------------------------------------- snapshots */

/* One shard of a snapshot: an element of the shards array. */
static void snapshot_shard_put(struct gob_enc *e, const struct skv_shard *sh)
{
    gob_put_record_begin(e, 0);
    gob_put_uint(e, 1, (uint64_t)sh->state);
    shard_put(e, 2, sh);
    gob_put_record_end(e);
}

int skv_snapshot_encode(struct gob_enc *e, uint64_t applied_index, const struct sc_config *cur,
                        const struct sc_config *prev, const struct skv_shard *shards)
{
    gob_enc_reset(e);
    gob_put_int(e, 1, (int64_t)(applied_index & (uint64_t)INT64_MAX));
    config_put(e, 2, cur);
    config_put(e, 3, prev);
    gob_put_array_begin(e, 4, GOB_RECORD, SC_NSHARDS);
    for (int s = 0; s < SC_NSHARDS; s++)
        snapshot_shard_put(e, &shards[s]);
    gob_put_array_end(e);
    return enc_result(e);
}

void skv_snap_cache_init(struct skv_snap_cache *cache)
{
    memset(cache, 0, sizeof(*cache));
    for (int s = 0; s < SC_NSHARDS; s++)
        gob_capture_init(&cache->shards[s]);
    gob_capture_init(&cache->configs[0]);
    gob_capture_init(&cache->configs[1]);
}

void skv_snap_cache_free(struct skv_snap_cache *cache)
{
    for (int s = 0; s < SC_NSHARDS; s++)
        gob_capture_free(&cache->shards[s]);
    gob_capture_free(&cache->configs[0]);
    gob_capture_free(&cache->configs[1]);
    skv_snap_cache_init(cache);
}

/* Puts config c as field `field`, from capture k when it holds it, else captured anew. */
static void config_put_cached(struct gob_enc *e, struct gob_capture *k, bool fresh, uint32_t field,
                              const struct sc_config *c)
{
    if (fresh) {
        gob_put_captured(e, field, k);
        return;
    }
    gob_enc_capture_begin(e, k);
    config_put(e, field, c);
    gob_enc_capture_end(e); /* on failure the capture's err says so; the next one retries */
}

static void snapshot_shard_put_cached(struct gob_enc *e, struct skv_snap_cache *cache, int s,
                                      struct skv_shard *sh)
{
    struct gob_capture *k = &cache->shards[s];
    if (sh->snap_fresh && cache->states[s] == sh->state && k->err == GOB_OK) {
        gob_put_captured(e, 0, k);
        return;
    }
    gob_enc_capture_begin(e, k);
    snapshot_shard_put(e, sh);
    sh->snap_fresh = gob_enc_capture_end(e) == GOB_OK;
    cache->states[s] = sh->state;
}

int skv_snapshot_encode_cached(struct gob_enc *e, struct skv_snap_cache *cache,
                               uint64_t applied_index, const struct sc_config *cur,
                               const struct sc_config *prev, uint64_t configs_epoch,
                               struct skv_shard *shards)
{
    bool configs_fresh = configs_epoch != 0 && cache->configs_epoch == configs_epoch &&
                         cache->configs[0].err == GOB_OK && cache->configs[1].err == GOB_OK;
    gob_enc_reset(e);
    gob_put_int(e, 1, (int64_t)(applied_index & (uint64_t)INT64_MAX));
    config_put_cached(e, &cache->configs[0], configs_fresh, 2, cur);
    config_put_cached(e, &cache->configs[1], configs_fresh, 3, prev);
    cache->configs_epoch = configs_epoch;
    gob_put_array_begin(e, 4, GOB_RECORD, SC_NSHARDS);
    for (int s = 0; s < SC_NSHARDS; s++)
        snapshot_shard_put_cached(e, cache, s, &shards[s]);
    gob_put_array_end(e);
    return enc_result(e);
}

int skv_snapshot_decode(const uint8_t *buf, size_t len, uint64_t *applied_index,
                        struct sc_config *cur, struct sc_config *prev, struct skv_shard *shards)
{
    struct gob_dec d;
    int64_t index = 0;
    gob_dec_init(&d, buf, len);
    gob_get_int(&d, 1, &index);
    if (index < 0 || !config_get(&d, 2, cur) || !config_get(&d, 3, prev)) return SKV_EDECODE;
    if (gob_get_array_begin(&d, 4, GOB_RECORD) != SC_NSHARDS) return SKV_EDECODE;
    for (int s = 0; s < SC_NSHARDS; s++) {
        uint64_t state = 0;
        gob_get_elem_record_begin(&d);
        gob_get_uint(&d, 1, &state);
        if (state >= SKV_SHARD_STATES_COUNT) return SKV_EDECODE;
        shards[s].state = (enum skv_shard_state)state;
        int rc = shard_get(&d, 2, &shards[s]);
        if (rc != SKV_OK) return rc;
        gob_get_record_end(&d);
    }
    gob_get_array_end(&d);
    if (gob_dec_finish(&d) != GOB_OK) return SKV_EDECODE;
    *applied_index = (uint64_t)index;
    return SKV_OK;
}
