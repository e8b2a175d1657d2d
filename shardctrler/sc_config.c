/* sc_config: the configuration operations of the shard controller (join, leave, move, the
 * rebalancing), its duplicate table, the labgob codecs of its ops and replies, sc_strerror.
 *
 * Rebalancing, deterministic and minimal: with g groups each gets NSHARDS/g shards, and the
 * NSHARDS%g groups that hold the most shards now (ties: the lower gid) get one more. Shards
 * on no live group, and the lowest-numbered shards of a group above its target, are released;
 * the released shards, in shard order, fill the groups below their target in that same
 * order. A shard moves only if its group left or holds more than its target, which is the
 * fewest moves any even split allows.
 *
 * Wire shapes (field numbers; zero values are left out by labgob):
 *   op:     1 client id, 2 seq, 3 kind ("Join", "Leave", "Move", "Query"), 4 the joined groups
 *           as a map gid -> []server name, 5 the leaving gids, 6 shard, 7 gid, 8 num
 *   reply:  1 err, 2 config {1 num, 2 shards [NShards]int, 3 groups map gid -> []name}
 * the shapes of Go's JoinArgs/LeaveArgs/MoveArgs/QueryArgs and Config.
 */
#include <stdlib.h>
#include <string.h>

#include "sc_int.h"

const char *const sc_method_names[SC_OP_KINDS_COUNT] = {"Join", "Leave", "Move", "Query"};
const char *const sc_method_full_names[SC_OP_KINDS_COUNT] = {
    "ShardCtrler.Join", "ShardCtrler.Leave", "ShardCtrler.Move", "ShardCtrler.Query"};

const char *sc_strerror(int err)
{
    switch (err) {
#define SC_ERR_CASE(name, value, text)                                                             \
    case name:                                                                                     \
        return text;
        SC_ERRNO_MAP(SC_ERR_CASE)
#undef SC_ERR_CASE
    default:
        return "unknown shardctrler error";
    }
}

/* ---------------------------------------------------------------- configurations */

void sc_config_init(struct sc_config *c)
{
    memset(c, 0, sizeof(*c));
}

static int group_index(const struct sc_config *c, int gid)
{
    for (int i = 0; i < c->groups_count; i++) {
        if (c->groups[i].gid == gid) return i;
    }
    return -1;
}

const struct sc_group *sc_config_group(const struct sc_config *c, int gid)
{
    int i = group_index(c, gid);
    return i < 0 ? NULL : &c->groups[i];
}

/* Group indices ordered by (shard count descending, gid ascending): who keeps the extra. */
static void groups_order(const struct sc_config *c, const int *counts, int *order)
{
    for (int i = 0; i < c->groups_count; i++) {
        int j = i;
        while (j > 0 && counts[order[j - 1]] < counts[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i; /* gids ascend with i, so equal counts keep gid order */
    }
}

void sc_config_rebalance(struct sc_config *c)
{
    int counts[SC_GROUPS_MAX] = {0};
    int target[SC_GROUPS_MAX] = {0};
    int order[SC_GROUPS_MAX];
    bool released[SC_NSHARDS] = {false};
    int n = c->groups_count;
    if (n == 0) {
        for (int s = 0; s < SC_NSHARDS; s++)
            c->shards[s] = 0;
        return;
    }
    for (int s = 0; s < SC_NSHARDS; s++) {
        int i = group_index(c, c->shards[s]);
        if (i < 0)
            released[s] = true;
        else
            counts[i]++;
    }
    groups_order(c, counts, order);
    for (int k = 0; k < n; k++)
        target[order[k]] = SC_NSHARDS / n + (k < SC_NSHARDS % n ? 1 : 0);
    for (int s = 0; s < SC_NSHARDS; s++) {
        int i = group_index(c, c->shards[s]);
        if (i >= 0 && counts[i] > target[i]) {
            released[s] = true;
            counts[i]--;
        }
    }
    int k = 0;
    for (int s = 0; s < SC_NSHARDS; s++) {
        if (!released[s]) continue;
        while (counts[order[k]] >= target[order[k]])
            k++; /* bounded: the targets add up to NSHARDS */
        c->shards[s] = c->groups[order[k]].gid;
        counts[order[k]]++;
    }
}

int sc_config_join(struct sc_config *c, const struct sc_group *groups, int groups_count)
{
    struct sc_config next = *c;
    for (int g = 0; g < groups_count; g++) {
        int i = group_index(&next, groups[g].gid);
        if (i >= 0) {
            next.groups[i] = groups[g];
            continue;
        }
        if (next.groups_count >= SC_GROUPS_MAX) return SC_ELIMIT;
        int at = next.groups_count;
        while (at > 0 && next.groups[at - 1].gid > groups[g].gid) {
            next.groups[at] = next.groups[at - 1];
            at--;
        }
        next.groups[at] = groups[g];
        next.groups_count++;
    }
    next.num = c->num + 1;
    sc_config_rebalance(&next);
    *c = next;
    return SC_OK;
}

void sc_config_leave(struct sc_config *c, const int *gids, int gids_count)
{
    for (int g = 0; g < gids_count; g++) {
        int i = group_index(c, gids[g]);
        if (i < 0) continue;
        memmove(&c->groups[i], &c->groups[i + 1],
                (size_t)(c->groups_count - i - 1) * sizeof(c->groups[0]));
        c->groups_count--;
        for (int s = 0; s < SC_NSHARDS; s++) {
            if (c->shards[s] == gids[g]) c->shards[s] = 0;
        }
    }
    c->num++;
    sc_config_rebalance(c);
}

void sc_config_move(struct sc_config *c, int shard, int gid)
{
    c->shards[shard] = gid;
    c->num++;
}

/* ---------------------------------------------------------------- duplicate table */

void sc_dups_close(struct sc_dups *d)
{
    free(d->sessions);
    memset(d, 0, sizeof(*d));
}

static size_t dups_lower_bound(const struct sc_dups *d, uint64_t client_id)
{
    size_t lo = 0;
    size_t hi = d->sessions_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (d->sessions[mid].client_id < client_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct sc_session *sc_dups_find(const struct sc_dups *d, uint64_t client_id)
{
    size_t at = dups_lower_bound(d, client_id);
    if (at < d->sessions_count && d->sessions[at].client_id == client_id) return &d->sessions[at];
    return NULL;
}

int sc_dups_record(struct sc_dups *d, uint64_t client_id, uint64_t seq, uint32_t err)
{
    size_t at = dups_lower_bound(d, client_id);
    if (at < d->sessions_count && d->sessions[at].client_id == client_id) {
        d->sessions[at].seq_last = seq;
        d->sessions[at].err_last = err;
        return SC_OK;
    }
    if (d->sessions_count == d->sessions_cap) {
        size_t cap = d->sessions_cap == 0 ? 16 : d->sessions_cap * 2;
        struct sc_session *sessions = realloc(d->sessions, cap * sizeof(*sessions));
        if (sessions == NULL) return SC_ENOMEM;
        d->sessions = sessions;
        d->sessions_cap = cap;
    }
    memmove(&d->sessions[at + 1], &d->sessions[at],
            (d->sessions_count - at) * sizeof(d->sessions[0]));
    d->sessions[at] = (struct sc_session){client_id, seq, err};
    d->sessions_count++;
    return SC_OK;
}

/* ---------------------------------------------------------------- codecs */

static int enc_result(const struct gob_enc *e)
{
    int rc = gob_enc_finish(e);
    if (rc == GOB_OK) return SC_OK;
    return rc == GOB_ENOMEM ? SC_ENOMEM : SC_EINVAL;
}

/* A map gid -> []server name, as field `field`. */
static void groups_put(struct gob_enc *e, uint32_t field, const struct sc_group *groups, int count)
{
    if (count == 0) return;
    gob_put_map_begin(e, field, (uint64_t)count);
    for (int g = 0; g < count; g++) {
        gob_put_record_begin(e, 0);
        gob_put_int(e, 1, groups[g].gid);
        gob_put_array_begin(e, 2, GOB_BYTES, (uint64_t)groups[g].servers_count);
        for (int i = 0; i < groups[g].servers_count; i++)
            gob_put_elem_bytes(e, groups[g].servers[i], strlen(groups[g].servers[i]));
        gob_put_array_end(e);
        gob_put_record_end(e);
    }
    gob_put_map_end(e);
}

static bool group_get(struct gob_dec *d, struct sc_group *group)
{
    int64_t gid = 0;
    gob_get_elem_record_begin(d);
    gob_get_int(d, 1, &gid);
    uint64_t n = gob_get_array_begin(d, 2, GOB_BYTES);
    if (n > SC_GROUP_SERVERS_MAX || gid <= 0 || gid > INT32_MAX) return false;
    group->gid = (int)gid;
    group->servers_count = (int)n;
    for (uint64_t i = 0; i < n && gob_dec_err(d) == GOB_OK; i++) {
        const uint8_t *p = NULL;
        size_t len = 0;
        gob_get_elem_bytes(d, &p, &len);
        if (len >= SC_SERVER_NAME_MAX) return false;
        if (len > 0) memcpy(group->servers[i], p, len);
        group->servers[i][len] = 0;
    }
    if (n > 0) gob_get_array_end(d);
    gob_get_record_end(d);
    return gob_dec_err(d) == GOB_OK;
}

static bool groups_get(struct gob_dec *d, uint32_t field, struct sc_group *groups, int *count)
{
    uint64_t n = gob_get_array_begin(d, field, GOB_RECORD);
    if (n > SC_GROUPS_MAX) return false;
    *count = (int)n;
    for (uint64_t g = 0; g < n; g++) {
        memset(&groups[g], 0, sizeof(groups[g]));
        if (!group_get(d, &groups[g])) return false;
    }
    if (n > 0) gob_get_array_end(d);
    return gob_dec_err(d) == GOB_OK;
}

int sc_op_encode(struct gob_enc *e, const struct sc_op *op)
{
    if ((unsigned)op->kind >= SC_OP_KINDS_COUNT) return SC_EINVAL;
    gob_enc_reset(e);
    gob_put_uint(e, 1, op->client_id);
    gob_put_uint(e, 2, op->seq);
    gob_put_str(e, 3, sc_method_names[op->kind]);
    groups_put(e, 4, op->groups, op->groups_count);
    if (op->gids_count > 0) {
        gob_put_array_begin(e, 5, GOB_INT, (uint64_t)op->gids_count);
        for (int i = 0; i < op->gids_count; i++)
            gob_put_elem_int(e, op->gids[i]);
        gob_put_array_end(e);
    }
    gob_put_int(e, 6, op->shard);
    gob_put_int(e, 7, op->gid);
    gob_put_int(e, 8, op->num);
    return enc_result(e);
}

static bool gids_get(struct gob_dec *d, struct sc_op *op)
{
    uint64_t n = gob_get_array_begin(d, 5, GOB_INT);
    if (n > SC_GROUPS_MAX) return false;
    op->gids_count = (int)n;
    for (uint64_t i = 0; i < n; i++) {
        int64_t gid = 0;
        gob_get_elem_int(d, &gid);
        if (gid <= 0 || gid > INT32_MAX) return false;
        op->gids[i] = (int)gid;
    }
    if (n > 0) gob_get_array_end(d);
    return gob_dec_err(d) == GOB_OK;
}

static unsigned op_kind_of(const uint8_t *p, size_t n)
{
    for (unsigned k = 0; k < SC_OP_KINDS_COUNT; k++) {
        if (n == strlen(sc_method_names[k]) && memcmp(p, sc_method_names[k], n) == 0) return k;
    }
    return SC_OP_KINDS_COUNT;
}

int sc_op_decode(const uint8_t *buf, size_t len, struct sc_op *op)
{
    struct gob_dec d;
    const uint8_t *kind = NULL;
    size_t kind_len = 0;
    int64_t shard = 0;
    int64_t gid = 0;
    int64_t num = 0;
    /* Readers use only the counted part of groups[] and gids[] (groups_get clears each group
     * it fills), so the scalars are reset and the 10 KB of arrays are not: every controller
     * Query, the servers' 100 ms polls included, is decoded here. */
    op->client_id = 0;
    op->seq = 0;
    op->kind = SC_OP_JOIN;
    op->groups_count = 0;
    op->gids_count = 0;
    op->shard = 0;
    op->gid = 0;
    op->num = 0;
    gob_dec_init(&d, buf, len);
    gob_get_uint(&d, 1, &op->client_id);
    gob_get_uint(&d, 2, &op->seq);
    gob_get_bytes(&d, 3, &kind, &kind_len);
    if (!groups_get(&d, 4, op->groups, &op->groups_count) || !gids_get(&d, op)) return SC_EDECODE;
    gob_get_int(&d, 6, &shard);
    gob_get_int(&d, 7, &gid);
    gob_get_int(&d, 8, &num);
    if (gob_dec_finish(&d) != GOB_OK) return SC_EDECODE;
    unsigned k = kind != NULL ? op_kind_of(kind, kind_len) : SC_OP_KINDS_COUNT;
    if (k >= SC_OP_KINDS_COUNT || shard < 0 || shard >= SC_NSHARDS) return SC_EDECODE;
    if (gid < 0 || gid > INT32_MAX || num < INT32_MIN || num > INT32_MAX) return SC_EDECODE;
    if (k == SC_OP_MOVE && gid == 0) return SC_EDECODE;
    op->kind = (enum sc_op_kind)k;
    op->shard = (int)shard;
    op->gid = (int)gid;
    op->num = (int)num;
    return SC_OK;
}

int sc_reply_encode(struct gob_enc *e, enum sc_reply_err err, const struct sc_config *config)
{
    gob_enc_reset(e);
    gob_put_uint(e, 1, (uint64_t)err);
    if (config != NULL) {
        gob_put_record_begin(e, 2);
        gob_put_int(e, 1, config->num);
        gob_put_array_begin(e, 2, GOB_INT, SC_NSHARDS);
        for (int s = 0; s < SC_NSHARDS; s++)
            gob_put_elem_int(e, config->shards[s]);
        gob_put_array_end(e);
        groups_put(e, 3, config->groups, config->groups_count);
        gob_put_record_end(e);
    }
    return enc_result(e);
}

static bool config_get(struct gob_dec *d, struct sc_config *c)
{
    int64_t num = 0;
    gob_get_int(d, 1, &num);
    uint64_t n = gob_get_array_begin(d, 2, GOB_INT);
    if (n != SC_NSHARDS || num < 0 || num > INT32_MAX) return false;
    c->num = (int)num;
    for (int s = 0; s < SC_NSHARDS; s++) {
        int64_t gid = 0;
        gob_get_elem_int(d, &gid);
        if (gid < 0 || gid > INT32_MAX) return false;
        c->shards[s] = (int)gid;
    }
    gob_get_array_end(d);
    return groups_get(d, 3, c->groups, &c->groups_count);
}

int sc_reply_decode(const uint8_t *buf, size_t len, enum sc_reply_err *err,
                    struct sc_config *config)
{
    struct gob_dec d;
    uint64_t code = 0;
    struct sc_config scratch;
    struct sc_config *c = config != NULL ? config : &scratch;
    sc_config_init(c);
    gob_dec_init(&d, buf, len);
    gob_get_uint(&d, 1, &code);
    if (gob_get_record_begin(&d, 2)) {
        if (!config_get(&d, c)) return SC_EDECODE;
        gob_get_record_end(&d);
    }
    if (gob_dec_finish(&d) != GOB_OK || code >= SC_REPLY_ERRS_COUNT) return SC_EDECODE;
    *err = (enum sc_reply_err)code;
    return SC_OK;
}
