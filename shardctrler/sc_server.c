/* sc_server: the shard controller's server (Go's ShardCtrler), event-driven on top of Raft.
 *
 * Life of a request ("ShardCtrler.Join/Leave/Move/Query"):
 *   1. The handler decodes the arguments, re-encodes them as a log op and calls raft_start. A
 *      non-leader answers WrongLeader; a leader parks the request with its index and term.
 *   2. sc_apply applies committed ops in index order: Join, Leave and Move append the next
 *      configuration unless the duplicate table says this (client, seq) was applied already;
 *      Query reads. A parked request whose op is the one applied at its index, on a server
 *      still leader of the term it started in, gets the result; any other gets WrongLeader.
 *   3. sc_tick runs every SC_TICK_US while requests wait and fails those whose term moved on
 *      or whose caller is gone (WrongLeader), or that waited SC_WAIT_TIMEOUT_US (Timeout).
 *
 * The controller takes no snapshots (Go's StartServer has no maxraftstate): a restarted server
 * rebuilds its configurations by replaying the log.
 *
 * Invariants:
 *  1. configs[k].num == k; configs_count >= 1 (config 0 is there from the start).
 *  2. applied_index only grows; commands are applied exactly at applied_index + 1.
 *  3. Every parked request is answered exactly once (at its index, by the tick, or at kill).
 */
#include <stdlib.h>
#include <string.h>

#include "sc_int.h"

struct sc_pending {
    struct rpc_req *req;
    uint64_t index;
    uint64_t term;
    uint64_t client_id;
    uint64_t seq;
    sim_time_us deadline_us;
};

struct sc_server {
    struct sim *sim;
    int me;
    int node; /* node context at start: names this server in traces and assertions */
    struct raft *rf;
    bool dead;
    struct sc_config *configs; /* configs[k] is config k */
    size_t configs_count;
    size_t configs_cap;
    struct sc_dups dups;
    uint64_t applied_index;
    struct sc_pending pending[SC_PENDING_MAX];
    uint32_t pending_count;
    sim_timer_id tick_timer;
    struct sc_op op;        /* decode scratch (too large for an event's stack frame) */
    struct gob_enc enc_op;  /* handler scratch */
    struct gob_enc enc_out; /* replies */
};

/* Trace kinds 500-509 belong to the shard controller. */
static const struct sim_trace_kind trace_config = {
    500, SIM_TOPIC_APPLY, "sc.config", {"num", "kind", "groups", "index"}};
/* One per shard whose group config `num` changes: the ownership the study tools draw. */
static const struct sim_trace_kind trace_assign = {
    501, SIM_TOPIC_APPLY, "sc.assign", {"num", "shard", "gid", "from_gid"}};

static void reply_send(struct sc_server *sc, struct rpc_req *req, enum sc_reply_err err,
                       const struct sc_config *config)
{
    int rc = sc_reply_encode(&sc->enc_out, err, config);
    SIM_ASSERTF(sc->sim, sc->node, rc == SC_OK, "encoding a reply: %s", sc_strerror(rc));
    rpc_req_reply(req, gob_enc_bytes(&sc->enc_out), gob_enc_len(&sc->enc_out));
}

static void pending_answer(struct sc_server *sc, uint32_t at, enum sc_reply_err err,
                           const struct sc_config *config)
{
    SIM_ASSERT(sc->sim, sc->node, at < sc->pending_count);
    struct rpc_req *req = sc->pending[at].req;
    memmove(&sc->pending[at], &sc->pending[at + 1],
            (sc->pending_count - at - 1) * sizeof(sc->pending[0]));
    sc->pending_count--;
    reply_send(sc, req, err, config);
}

static void sc_tick(struct sim *sim, void *arg);

static void tick_arm(struct sc_server *sc)
{
    if (sc->dead || sc->pending_count == 0 || sc->tick_timer != 0) return;
    sc->tick_timer = sim_after(sc->sim, SC_TICK_US, sc_tick, sc);
}

static void sc_tick(struct sim *sim, void *arg)
{
    struct sc_server *sc = arg;
    SIM_ASSERT(sim, sc->node, sc->sim == sim);
    sc->tick_timer = 0;
    if (sc->dead) return;
    uint64_t term = 0;
    bool leader = raft_get_state(sc->rf, &term);
    uint32_t at = 0;
    while (at < sc->pending_count) {
        const struct sc_pending *p = &sc->pending[at];
        if (!leader || term != p->term || rpc_req_dead(p->req))
            pending_answer(sc, at, SC_REPLY_WRONG_LEADER, NULL);
        else if (sim_now_us(sim) >= p->deadline_us)
            pending_answer(sc, at, SC_REPLY_TIMEOUT, NULL);
        else
            at++;
    }
    tick_arm(sc);
}

static void sc_handle(struct sc_server *sc, enum sc_op_kind kind, struct rpc_req *req,
                      const uint8_t *args, size_t args_len)
{
    if (sc->dead) {
        reply_send(sc, req, SC_REPLY_WRONG_LEADER, NULL);
        return;
    }
    if (sc_op_decode(args, args_len, &sc->op) != SC_OK || sc->op.kind != kind) {
        reply_send(sc, req, SC_REPLY_BAD_ARGS, NULL);
        return;
    }
    if (sc->pending_count >= SC_PENDING_MAX) {
        reply_send(sc, req, SC_REPLY_WRONG_LEADER, NULL);
        return;
    }
    int rc = sc_op_encode(&sc->enc_op, &sc->op);
    SIM_ASSERTF(sc->sim, sc->node, rc == SC_OK, "re-encoding a decoded op: %s", sc_strerror(rc));
    uint64_t client_id = sc->op.client_id; /* sc->op is apply's scratch too */
    uint64_t seq = sc->op.seq;
    uint64_t index = 0;
    uint64_t term = 0;
    bool leader =
        raft_start(sc->rf, gob_enc_bytes(&sc->enc_op), gob_enc_len(&sc->enc_op), &index, &term);
    if (!leader || sc->dead || index <= sc->applied_index) {
        reply_send(sc, req, SC_REPLY_WRONG_LEADER, NULL);
        return;
    }
    sc->pending[sc->pending_count++] = (struct sc_pending){
        .req = req,
        .index = index,
        .term = term,
        .client_id = client_id,
        .seq = seq,
        .deadline_us = sim_now_us(sc->sim) + SC_WAIT_TIMEOUT_US,
    };
    tick_arm(sc);
}

static void handle_join(void *sc, struct rpc_req *req, const uint8_t *args, size_t len)
{
    sc_handle(sc, SC_OP_JOIN, req, args, len);
}

static void handle_leave(void *sc, struct rpc_req *req, const uint8_t *args, size_t len)
{
    sc_handle(sc, SC_OP_LEAVE, req, args, len);
}

static void handle_move(void *sc, struct rpc_req *req, const uint8_t *args, size_t len)
{
    sc_handle(sc, SC_OP_MOVE, req, args, len);
}

static void handle_query(void *sc, struct rpc_req *req, const uint8_t *args, size_t len)
{
    sc_handle(sc, SC_OP_QUERY, req, args, len);
}

/* Appends the next configuration made from the latest by op. */
static enum sc_reply_err config_append(struct sc_server *sc, const struct sc_op *op, uint64_t index)
{
    if (sc->configs_count >= SC_CONFIGS_MAX) return SC_REPLY_LIMIT;
    if (sc->configs_count == sc->configs_cap) {
        size_t cap = sc->configs_cap * 2;
        struct sc_config *configs = realloc(sc->configs, cap * sizeof(*configs));
        SIM_ASSERTF(sc->sim, sc->node, configs != NULL, "out of memory for %zu configs", cap);
        sc->configs = configs;
        sc->configs_cap = cap;
    }
    struct sc_config *next = &sc->configs[sc->configs_count];
    *next = sc->configs[sc->configs_count - 1];
    if (op->kind == SC_OP_JOIN) {
        if (sc_config_join(next, op->groups, op->groups_count) != SC_OK) return SC_REPLY_LIMIT;
    } else if (op->kind == SC_OP_LEAVE) {
        sc_config_leave(next, op->gids, op->gids_count);
    } else {
        sc_config_move(next, op->shard, op->gid);
    }
    SIM_ASSERT(sc->sim, sc->node, next->num == (int)sc->configs_count);
    sc->configs_count++;
    sim_trace4(sc->sim, sc->node, &trace_config, next->num, (int64_t)op->kind, next->groups_count,
               (int64_t)index);
    for (int s = 0; s < SC_NSHARDS; s++) {
        if (next->shards[s] != next[-1].shards[s])
            sim_trace4(sc->sim, sc->node, &trace_assign, next->num, s, next->shards[s],
                       next[-1].shards[s]);
    }
    return SC_REPLY_OK;
}

/* Applies a Join, Leave or Move unless the duplicate table says it already was. */
static enum sc_reply_err apply_change(struct sc_server *sc, const struct sc_op *op, uint64_t index)
{
    const struct sc_session *session = sc_dups_find(&sc->dups, op->client_id);
    if (session != NULL && op->seq <= session->seq_last)
        return op->seq == session->seq_last ? (enum sc_reply_err)session->err_last : SC_REPLY_OK;
    enum sc_reply_err err = config_append(sc, op, index);
    int rc = sc_dups_record(&sc->dups, op->client_id, op->seq, (uint32_t)err);
    SIM_ASSERTF(sc->sim, sc->node, rc == SC_OK, "recording client %llu: %s",
                (unsigned long long)op->client_id, sc_strerror(rc));
    return err;
}

static const struct sc_config *query_config(const struct sc_server *sc, int num)
{
    if (num < 0 || (size_t)num >= sc->configs_count) return &sc->configs[sc->configs_count - 1];
    return &sc->configs[num];
}

static void answer_applied(struct sc_server *sc, uint64_t index, const struct sc_op *op,
                           enum sc_reply_err err)
{
    uint64_t term = 0;
    bool leader = raft_get_state(sc->rf, &term);
    uint32_t at = 0;
    while (at < sc->pending_count) {
        const struct sc_pending *p = &sc->pending[at];
        if (p->index != index) {
            at++;
            continue;
        }
        bool mine = op != NULL && p->client_id == op->client_id && p->seq == op->seq;
        if (mine && leader && term == p->term) {
            const struct sc_config *c = op->kind == SC_OP_QUERY ? query_config(sc, op->num) : NULL;
            pending_answer(sc, at, err, c);
        } else {
            pending_answer(sc, at, SC_REPLY_WRONG_LEADER, NULL);
        }
    }
}

static void sc_apply(void *ctx, const struct raft_apply_msg *msg)
{
    struct sc_server *sc = ctx;
    if (sc->dead || !msg->command_valid || msg->command_index <= sc->applied_index) return;
    SIM_ASSERTF(sc->sim, sc->node, msg->command_index == sc->applied_index + 1,
                "apply out of order: applied %llu, got index %llu",
                (unsigned long long)sc->applied_index, (unsigned long long)msg->command_index);
    uint64_t index = msg->command_index;
    sc->applied_index = index;
    if (sc_op_decode(msg->command, msg->command_len, &sc->op) != SC_OK) {
        answer_applied(sc, index, NULL, SC_REPLY_WRONG_LEADER); /* not ours: a no-op */
        return;
    }
    enum sc_reply_err err = SC_REPLY_OK;
    if (sc->op.kind != SC_OP_QUERY) err = apply_change(sc, &sc->op, index);
    answer_applied(sc, index, &sc->op, err);
}

static void server_release(struct sc_server *sc)
{
    sc_dups_close(&sc->dups);
    gob_enc_free(&sc->enc_op);
    gob_enc_free(&sc->enc_out);
    free(sc->configs);
    free(sc);
}

static int server_register(struct sc_server *sc, struct rpc_server *server)
{
    static const rpc_handler_fn handlers[SC_OP_KINDS_COUNT] = {handle_join, handle_leave,
                                                               handle_move, handle_query};
    for (int kind = 0; kind < SC_OP_KINDS_COUNT; kind++) {
        if (rpc_server_add_method(server, "ShardCtrler", sc_method_names[kind], handlers[kind],
                                  sc) != RPC_OK)
            return SC_ERPC;
    }
    return raft_register(sc->rf, server) == 0 ? SC_OK : SC_ERPC;
}

int sc_server_start(struct sim *sim, struct rpc_end *const *ends, int ends_count, int me,
                    struct raft_persister *persister, struct rpc_server *server,
                    struct sc_server **out)
{
    if (sim == NULL || ends == NULL || persister == NULL || server == NULL || out == NULL)
        return SC_EINVAL;
    if (ends_count < 1 || ends_count > SC_SERVERS_MAX || me < 0 || me >= ends_count)
        return SC_EINVAL;
    struct sc_server *sc = calloc(1, sizeof(*sc));
    if (sc == NULL) return SC_ENOMEM;
    sc->sim = sim;
    sc->me = me;
    sc->node = sim_node_current(sim) != SIM_NODE_NONE ? sim_node_current(sim) : me;
    gob_enc_init(&sc->enc_op);
    gob_enc_init(&sc->enc_out);
    sc->configs_cap = 16;
    sc->configs = calloc(sc->configs_cap, sizeof(*sc->configs));
    if (sc->configs == NULL) {
        server_release(sc);
        return SC_ENOMEM;
    }
    sc_config_init(&sc->configs[0]);
    sc->configs_count = 1;
    sc->rf = raft_make(sim, ends, ends_count, me, persister, sc_apply, sc);
    if (sc->rf == NULL) {
        server_release(sc);
        return SC_ENOMEM;
    }
    int rc = server_register(sc, server);
    if (rc != SC_OK) {
        raft_kill(sc->rf);
        raft_free(sc->rf);
        server_release(sc);
        return rc;
    }
    *out = sc;
    return SC_OK;
}

void sc_server_kill(struct sc_server *sc)
{
    if (sc->dead) return;
    sc->dead = true;
    raft_kill(sc->rf);
    if (sc->tick_timer != 0) sim_timer_cancel(sc->sim, sc->tick_timer);
    sc->tick_timer = 0;
    while (sc->pending_count > 0)
        pending_answer(sc, 0, SC_REPLY_WRONG_LEADER, NULL);
}

void sc_server_free(struct sc_server *sc)
{
    if (sc == NULL) return;
    sc_server_kill(sc);
    raft_free(sc->rf);
    server_release(sc);
}

struct raft *sc_server_raft(const struct sc_server *sc)
{
    return sc->rf;
}
