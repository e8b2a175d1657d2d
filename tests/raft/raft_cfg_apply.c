/* raft_cfg_apply: the appliers of the Raft tester (config.go's applier, applierSnap,
 * checkLogs, ingestSnap), the tester's copies of what each server applied, and the labgob
 * encodings of commands and of the tester's snapshots.
 *
 * The apply callback runs inside a Raft event. An apply error is what Go's log.Fatalf reports
 * ("apply error: ..."); it fails the test at once through lab_failf and returns, leaving the
 * Raft to unwind (the sim is stopped, so nothing runs after it).
 *
 * Snapshot format (the tester's, opaque to Raft): field 1 = lastIncludedIndex (uint), field 2 =
 * an array of records, entry j for j in 0..lastIncludedIndex: {1: kind (0 nil, 1 int, 2 str),
 * 2: int value, 3: string bytes}.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raft_cfg_int.h"

#define CMD_FIELD_INT 1u
#define CMD_FIELD_STR 2u
#define SNAP_FIELD_INDEX 1u
#define SNAP_FIELD_LOG 2u
#define SNAP_ELEM_KIND 1u
#define SNAP_ELEM_INT 2u
#define SNAP_ELEM_STR 3u
#define SNAP_KIND_NIL 0u
#define SNAP_KIND_INT 1u
#define SNAP_KIND_STR 2u
/* Bytes of a string value shown in messages. */
#define VALUE_FORMAT_STR_MAX 24

/* ---------------------------------------------------------------- values */

struct raft_cfg_value raft_cfg_int(int64_t v)
{
    struct raft_cfg_value value = {.kind = RAFT_CFG_INT, .num = v};
    return value;
}

struct raft_cfg_value raft_cfg_str(const uint8_t *s, size_t len)
{
    struct raft_cfg_value value = {.kind = RAFT_CFG_STR, .str = s, .str_len = len};
    return value;
}

bool raft_cfg_value_equal(const struct raft_cfg_value *a, const struct raft_cfg_value *b)
{
    if (a->kind != b->kind) return false;
    if (a->kind == RAFT_CFG_INT) return a->num == b->num;
    if (a->kind == RAFT_CFG_STR)
        return a->str_len == b->str_len &&
               (a->str_len == 0 || memcmp(a->str, b->str, a->str_len) == 0);
    return true;
}

void raft_cfg_value_format(const struct raft_cfg_value *v, char *buf, size_t size)
{
    switch (v->kind) {
    case RAFT_CFG_INT:
        snprintf(buf, size, "%" PRId64, v->num);
        break;
    case RAFT_CFG_STR:
        if (v->str_len > VALUE_FORMAT_STR_MAX)
            snprintf(buf, size, "%.*s...(%zu bytes)", VALUE_FORMAT_STR_MAX, (const char *)v->str,
                     v->str_len);
        else
            snprintf(buf, size, "%.*s", (int)v->str_len, (const char *)v->str);
        break;
    default:
        snprintf(buf, size, "<nil>");
        break;
    }
}

/* ---------------------------------------------------------------- commands */

void raft_cfg_cmd_encode(const struct raft_cfg_value *cmd, struct gob_enc *e)
{
    if (cmd->kind == RAFT_CFG_INT)
        gob_put_int(e, CMD_FIELD_INT, cmd->num);
    else if (cmd->kind == RAFT_CFG_STR)
        gob_put_bytes(e, CMD_FIELD_STR, cmd->str, cmd->str_len);
}

int raft_cfg_cmd_decode(const uint8_t *buf, size_t len, struct raft_cfg_value *out)
{
    struct gob_dec d;
    int64_t num = 0;
    const uint8_t *str = NULL;
    size_t str_len = 0;
    gob_dec_init(&d, buf, len);
    gob_get_int(&d, CMD_FIELD_INT, &num);
    gob_get_bytes(&d, CMD_FIELD_STR, &str, &str_len);
    int rc = gob_dec_finish(&d);
    if (rc != GOB_OK) return rc;
    if (str != NULL && num != 0)
        return GOB_EBADVALUE; /* a command is an int or a string, never both */
    *out = str != NULL ? raft_cfg_str(str, str_len) : raft_cfg_int(num);
    return GOB_OK;
}

/* ---------------------------------------------------------------- the log store */

const struct raft_cfg_value *raft_cfg_log_get(const struct raft_cfg_log *log, uint64_t index)
{
    static const struct raft_cfg_value absent = {.kind = RAFT_CFG_ABSENT};
    if (index >= log->slots_count) return &absent;
    return &log->slots[index];
}

static int log_reserve(struct raft_cfg_log *log, uint64_t index)
{
    if (index >= RAFT_CFG_INDEX_MAX) return -1;
    if (index < log->slots_count) return 0;
    size_t count = log->slots_count == 0 ? 64 : log->slots_count;
    while (count <= index)
        count *= 2;
    struct raft_cfg_value *grown = realloc(log->slots, count * sizeof(*grown));
    if (grown == NULL) return -1;
    memset(grown + log->slots_count, 0, (count - log->slots_count) * sizeof(*grown));
    log->slots = grown;
    log->slots_count = count;
    return 0;
}

int raft_cfg_log_set(struct raft_cfg_log *log, uint64_t index, const struct raft_cfg_value *v)
{
    uint8_t *copy = NULL;
    if (log_reserve(log, index) != 0) return -1;
    if (v->kind == RAFT_CFG_STR && v->str_len > 0) {
        copy = malloc(v->str_len);
        if (copy == NULL) return -1;
        memcpy(copy, v->str, v->str_len);
    }
    struct raft_cfg_value *slot = &log->slots[index];
    free((void *)slot->str);
    *slot = *v;
    slot->str = copy;
    return 0;
}

void raft_cfg_log_clear(struct raft_cfg_log *log)
{
    for (size_t k = 0; k < log->slots_count; k++) {
        free((void *)log->slots[k].str);
        log->slots[k] = (struct raft_cfg_value){.kind = RAFT_CFG_ABSENT};
    }
}

/* ---------------------------------------------------------------- checkLogs */

/* Go's checkLogs: compares with what every server applied at this index, records the value,
 * and reports whether index-1 was applied here before. Returns false with err set on a
 * mismatch (the last mismatching server, as Go's loop keeps the last message). */
static bool check_logs(struct raft_cfg *cfg, int i, uint64_t index, const struct raft_cfg_value *v,
                       bool *prevok, char *err, size_t size)
{
    bool ok = true;
    for (int j = 0; j < cfg->n; j++) {
        const struct raft_cfg_value *old = raft_cfg_log_get(&cfg->logs[j], index);
        if (old->kind != RAFT_CFG_ABSENT && !raft_cfg_value_equal(old, v)) {
            char text_new[64];
            char text_old[64];
            raft_cfg_value_format(v, text_new, sizeof(text_new));
            raft_cfg_value_format(old, text_old, sizeof(text_old));
            snprintf(err, size, "commit index=%" PRIu64 " server=%d %s != server=%d %s", index, i,
                     text_new, j, text_old);
            ok = false;
        }
    }
    *prevok = index > 0 && raft_cfg_log_get(&cfg->logs[i], index - 1)->kind != RAFT_CFG_ABSENT;
    if (raft_cfg_log_set(&cfg->logs[i], index, v) != 0) {
        snprintf(err, size, "tester limit: cannot record index %" PRIu64 " (max %u)", index,
                 RAFT_CFG_INDEX_MAX);
        return false;
    }
    if (index > cfg->max_index) cfg->max_index = index;
    return ok;
}

/* Decodes an applied command; false with err set when the bytes are not a tester command. */
static bool apply_decode(int i, const struct raft_apply_msg *msg, struct raft_cfg_value *v,
                         char *err, size_t size)
{
    int rc = raft_cfg_cmd_decode(msg->command, msg->command_len, v);
    if (rc == GOB_OK) return true;
    snprintf(err, size,
             "server %d applied a command at index %" PRIu64
             " that is not one the tester submitted (%s)",
             i, msg->command_index, gob_strerror(rc));
    return false;
}

/* ---------------------------------------------------------------- applier */

static void applier_plain(struct raft_cfg_instance *inst, const struct raft_apply_msg *msg)
{
    struct raft_cfg *cfg = inst->cfg;
    int i = inst->server;
    char err[LAB_MSG_MAX];
    struct raft_cfg_value v;
    bool prevok = false;
    if (!msg->command_valid) return; /* other kinds of ApplyMsg are ignored */
    if (!apply_decode(i, msg, &v, err, sizeof(err))) {
        lab_failf(cfg->ctx, i, "apply error: %s", err);
        return;
    }
    bool ok = check_logs(cfg, i, msg->command_index, &v, &prevok, err, sizeof(err));
    if (msg->command_index > 1 && !prevok) {
        snprintf(err, sizeof(err), "server %d apply out of order %" PRIu64, i, msg->command_index);
        ok = false;
    }
    if (!ok) {
        lab_failf(cfg->ctx, i, "apply error: %s", err);
        return;
    }
    /* What the tester saw applied, for the study tools (the snapshot applier keeps it too). */
    if ((int64_t)msg->command_index > cfg->last_applied[i])
        cfg->last_applied[i] = (int64_t)msg->command_index;
}

/* ---------------------------------------------------------------- snapshots */

static void snap_put_entry(struct gob_enc *e, const struct raft_cfg_value *v)
{
    gob_put_record_begin(e, 0);
    if (v->kind == RAFT_CFG_INT) {
        gob_put_uint(e, SNAP_ELEM_KIND, SNAP_KIND_INT);
        gob_put_int(e, SNAP_ELEM_INT, v->num);
    } else if (v->kind == RAFT_CFG_STR) {
        gob_put_uint(e, SNAP_ELEM_KIND, SNAP_KIND_STR);
        gob_put_bytes(e, SNAP_ELEM_STR, v->str, v->str_len);
    }
    gob_put_record_end(e);
}

/* applierSnap's periodic snapshot: lastIncludedIndex and entries 0..index of this server's
 * log copy, handed to the instance that applied them, synchronously from the apply path. */
static void applier_take_snapshot(struct raft_cfg_instance *inst, uint64_t index)
{
    struct raft_cfg *cfg = inst->cfg;
    struct gob_enc e;
    gob_enc_init(&e);
    gob_put_uint(&e, SNAP_FIELD_INDEX, index);
    gob_put_array_begin(&e, SNAP_FIELD_LOG, GOB_RECORD, index + 1);
    for (uint64_t j = 0; j <= index; j++)
        snap_put_entry(&e, raft_cfg_log_get(&cfg->logs[inst->server], j));
    gob_put_array_end(&e);
    int rc = gob_enc_finish(&e);
    if (rc != GOB_OK)
        lab_failf(cfg->ctx, inst->server, "cannot encode snapshot: %s", gob_strerror(rc));
    else if (inst->rf != NULL)
        raft_snapshot(inst->rf, index, gob_enc_bytes(&e), gob_enc_len(&e));
    gob_enc_free(&e);
}

static bool snap_get_entry(struct gob_dec *d, struct raft_cfg_value *v)
{
    uint64_t kind = SNAP_KIND_NIL;
    int64_t num = 0;
    const uint8_t *str = NULL;
    size_t str_len = 0;
    gob_get_elem_record_begin(d);
    gob_get_uint(d, SNAP_ELEM_KIND, &kind);
    gob_get_int(d, SNAP_ELEM_INT, &num);
    gob_get_bytes(d, SNAP_ELEM_STR, &str, &str_len);
    gob_get_record_end(d);
    if (kind == SNAP_KIND_INT)
        *v = raft_cfg_int(num);
    else if (kind == SNAP_KIND_STR)
        *v = raft_cfg_str(str, str_len);
    else
        *v = (struct raft_cfg_value){.kind = RAFT_CFG_NIL};
    return kind <= SNAP_KIND_STR && gob_dec_err(d) == GOB_OK;
}

/* Decodes the snapshot into server i's log copy (cleared first). */
static bool snap_load_log(struct raft_cfg *cfg, int i, struct gob_dec *d)
{
    uint64_t count = gob_get_array_begin(d, SNAP_FIELD_LOG, GOB_RECORD);
    if (count > RAFT_CFG_INDEX_MAX) return false;
    raft_cfg_log_clear(&cfg->logs[i]);
    for (uint64_t j = 0; j < count; j++) {
        struct raft_cfg_value v;
        if (!snap_get_entry(d, &v)) return false;
        if (raft_cfg_log_set(&cfg->logs[i], j, &v) != 0) return false;
    }
    if (count > 0) gob_get_array_end(d);
    return gob_dec_finish(d) == GOB_OK;
}

bool raft_cfg_ingest_snap(struct raft_cfg *cfg, int i, const uint8_t *snap, size_t len,
                          int64_t index, char *err, size_t err_size)
{
    struct gob_dec d;
    uint64_t last_included = 0;
    if (snap == NULL || len == 0) {
        snprintf(err, err_size, "nil snapshot");
        return false;
    }
    gob_dec_init(&d, snap, len);
    gob_get_uint(&d, SNAP_FIELD_INDEX, &last_included);
    if (gob_dec_err(&d) != GOB_OK || last_included > RAFT_CFG_INDEX_MAX) {
        snprintf(err, err_size, "snapshot decode error");
        return false;
    }
    if (index != -1 && (uint64_t)index != last_included) {
        snprintf(err, err_size, "apply error: server %d snapshot doesn't match m.SnapshotIndex", i);
        return false;
    }
    if (!snap_load_log(cfg, i, &d)) {
        snprintf(err, err_size, "snapshot decode error");
        return false;
    }
    cfg->last_applied[i] = (int64_t)last_included;
    return true;
}

/* ---------------------------------------------------------------- applierSnap */

static bool applier_snap_command(struct raft_cfg_instance *inst, const struct raft_apply_msg *msg,
                                 char *err, size_t size)
{
    struct raft_cfg *cfg = inst->cfg;
    int i = inst->server;
    bool ok = true;
    if (msg->command_index != (uint64_t)(cfg->last_applied[i] + 1)) {
        snprintf(err, size,
                 "server %d apply out of order, expected index %" PRId64 ", got %" PRIu64, i,
                 cfg->last_applied[i] + 1, msg->command_index);
        ok = false;
    }
    if (ok) {
        struct raft_cfg_value v;
        bool prevok = false;
        ok = apply_decode(i, msg, &v, err, size);
        if (ok) ok = check_logs(cfg, i, msg->command_index, &v, &prevok, err, size);
        if (ok && msg->command_index > 1 && !prevok) {
            snprintf(err, size, "server %d apply out of order %" PRIu64, i, msg->command_index);
            ok = false;
        }
    }
    cfg->last_applied[i] = (int64_t)msg->command_index;
    return ok;
}

static void applier_snap(struct raft_cfg_instance *inst, const struct raft_apply_msg *msg)
{
    struct raft_cfg *cfg = inst->cfg;
    int i = inst->server;
    char err[LAB_MSG_MAX];
    if (msg->snapshot_valid) {
        if (!raft_cfg_ingest_snap(cfg, i, msg->snapshot, msg->snapshot_len,
                                  (int64_t)msg->snapshot_index, err, sizeof(err)))
            lab_failf(cfg->ctx, i, "%s", err);
        return;
    }
    if (!msg->command_valid) return; /* other kinds of ApplyMsg are ignored */
    if (!applier_snap_command(inst, msg, err, sizeof(err))) {
        lab_failf(cfg->ctx, i, "apply error: %s", err);
        return;
    }
    if ((msg->command_index + 1) % RAFT_CFG_SNAPSHOT_INTERVAL == 0)
        applier_take_snapshot(inst, msg->command_index);
}

void raft_cfg_apply(void *ctx, const struct raft_apply_msg *msg)
{
    struct raft_cfg_instance *inst = ctx;
    struct raft_cfg *cfg = inst->cfg;
    SIM_ASSERT(cfg->sim, inst->server, msg != NULL);
    SIM_ASSERT(cfg->sim, inst->server, inst->server < cfg->n);
    /* After a failure the run is over; what is applied now can no longer matter. */
    if (lab_failed(cfg->ctx)) return;
    if (inst->applier == RAFT_CFG_APPLIER_SNAP)
        applier_snap(inst, msg);
    else
        applier_plain(inst, msg);
}
