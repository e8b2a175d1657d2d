/* server.c: a shard controller for labsim's lab 5A, as `labsim init shardctrler` starts it.
 *
 * The contract is shardctrler.h (read it first): start, kill, free and the server's Raft,
 * sc_strerror and the two config helpers. Like lab 4's server it is event-driven: the RPC
 * handlers and Raft's apply callback run inside events of `sc->sim`; a handler that waits for
 * its op to be applied keeps its struct rpc_req and answers it later. The clerk is client.c,
 * next to this file.
 *
 * Build and grade (from the labsim clone), on our Raft (add RAFT_IMPL=... for yours):
 *   make grade SHARDCTRLER_IMPL="/path/to/server.c /path/to/client.c" BUILD=build-mine
 */
/* TODO: this is the skeleton `labsim init shardctrler` writes. Work through its TODO comments
 * and grade with `labsim run 'TestBasic|TestMinimalAgain|TestMulti'` (part 5A also holds
 * shardkv's first two tests). The Join/Leave/Move/Query arguments and replies are yours to
 * define: put their structs and labgob encode/decode in a header next to this file (say
 * common.h), included by server.c and client.c, and write them like sc_op's below. */
#include <stdlib.h>
#include <string.h>

#include "labgob.h"
#include "shardctrler.h"

/* ---------------------------------------------------------------- errors and configs */

const char *sc_strerror(int err)
{
    switch (err) {
#define SC_ERR_CASE(name, value, text)                                                             \
    case name:                                                                                     \
        return text;
        SC_ERRNO_MAP(SC_ERR_CASE)
#undef SC_ERR_CASE
    }
    return "unknown shardctrler error";
}

void sc_config_init(struct sc_config *c)
{
    memset(c, 0, sizeof(*c));
}

const struct sc_group *sc_config_group(const struct sc_config *c, int gid)
{
    for (int i = 0; i < c->groups_count; i++) {
        if (c->groups[i].gid == gid) return &c->groups[i];
    }
    return NULL;
}

/* ---------------------------------------------------------------- the op in the log */

enum sc_op_kind { SC_OP_JOIN = 0, SC_OP_LEAVE = 1, SC_OP_MOVE = 2, SC_OP_QUERY = 3 };

/* Go's Op: what goes through the Raft log. Every op, Queries included, is applied in log
 * order on every server; (client_id, seq) names a Join, Leave or Move so that a retried one
 * is applied once. On the wire each member is a labgob field, numbered from 1 in the order
 * below; zero fields are left out (as Go's gob does), so decode into a zeroed struct. This
 * pair is the example to follow for every other message. */
struct sc_op {
    uint64_t client_id;
    uint64_t seq;
    enum sc_op_kind kind;
    int64_t shard; /* Move */
    int64_t gid;   /* Move */
    int64_t num;   /* Query: -1 asks for the latest */
    /* TODO: Join's groups (gid -> server names: gob_put_map_begin) and Leave's gids
     * (gob_put_array_begin), as fields 7 and 8; bound them by SC_GROUPS_MAX. */
};

static void sc_op_encode(struct gob_enc *e, const struct sc_op *op)
{
    gob_put_uint(e, 1, op->client_id);
    gob_put_uint(e, 2, op->seq);
    gob_put_uint(e, 3, (uint64_t)op->kind);
    gob_put_int(e, 4, op->shard);
    gob_put_int(e, 5, op->gid);
    gob_put_int(e, 6, op->num);
}

/* False when the bytes are not a well-formed op. */
static bool sc_op_decode(const uint8_t *buf, size_t len, struct sc_op *op)
{
    struct gob_dec d;
    uint64_t kind = 0;
    gob_dec_init(&d, buf, len);
    gob_get_uint(&d, 1, &op->client_id);
    gob_get_uint(&d, 2, &op->seq);
    gob_get_uint(&d, 3, &kind);
    gob_get_int(&d, 4, &op->shard);
    gob_get_int(&d, 5, &op->gid);
    gob_get_int(&d, 6, &op->num);
    op->kind = (enum sc_op_kind)kind;
    return gob_dec_finish(&d) == GOB_OK && kind <= SC_OP_QUERY;
}

/* ---------------------------------------------------------------- the server */

struct sc_server {
    struct sim *sim; /* time, timers and randomness come from here */
    int me;
    struct raft *rf;
    bool dead;
    uint64_t applied_index; /* the last log index applied */

    /* TODO: the configurations (config 0 first: sc_config_init; at most SC_CONFIGS_MAX), the
     * duplicate table (per client: the last seq applied) and the handlers waiting for their
     * op (the struct rpc_req, the index and term raft_start returned, a deadline). */
};

/* TODO: delete these two lines once every TODO is done: until then they let the compiler
 * accept helpers and parameters that nothing uses yet. */
#pragma GCC diagnostic ignored "-Wunused-function"  /* TODO: delete */
#pragma GCC diagnostic ignored "-Wunused-parameter" /* TODO: delete */

/* Hands `op` to Raft. True when this server is leader; *index and *term then name the log
 * slot the op will have if it commits in this term. */
static bool sc_start_op(struct sc_server *sc, const struct sc_op *op, uint64_t *index,
                        uint64_t *term)
{
    struct gob_enc e;
    gob_enc_init(&e);
    sc_op_encode(&e, op);
    bool leader = gob_enc_finish(&e) == GOB_OK &&
                  raft_start(sc->rf, gob_enc_bytes(&e), gob_enc_len(&e), index, term);
    gob_enc_free(&e);
    return leader;
}

/* ---------------------------------------------------------------- handlers */

/* The four methods share one shape: decode the arguments into an op of `kind`, sc_start_op
 * it; not leader: answer ErrWrongLeader at once; leader: keep req and answer it from
 * sc_apply once that index is applied (for a Query, with the config asked for), or
 * ErrWrongLeader when another op took the slot, the term moved on or it waited too long. */
static void handle_op(struct sc_server *sc, enum sc_op_kind kind, struct rpc_req *req,
                      const uint8_t *buf, size_t len)
{
    if (sc->dead) return; /* a killed server answers nothing */
    /* TODO: as above. */
    rpc_req_reply(req, NULL, 0); /* TODO: replace (an empty reply: the clerk retries) */
}

static void handle_join(void *receiver, struct rpc_req *req, const uint8_t *buf, size_t len)
{
    handle_op(receiver, SC_OP_JOIN, req, buf, len);
}

static void handle_leave(void *receiver, struct rpc_req *req, const uint8_t *buf, size_t len)
{
    handle_op(receiver, SC_OP_LEAVE, req, buf, len);
}

static void handle_move(void *receiver, struct rpc_req *req, const uint8_t *buf, size_t len)
{
    handle_op(receiver, SC_OP_MOVE, req, buf, len);
}

static void handle_query(void *receiver, struct rpc_req *req, const uint8_t *buf, size_t len)
{
    handle_op(receiver, SC_OP_QUERY, req, buf, len);
}

/* ---------------------------------------------------------------- applying */

/* Rebalancing after a Join or Leave: every shard on a group of c, the counts as even as they
 * can be (they differ by at most one), as few shards moved as possible. Every replica must
 * reach the same config: decide ties by gid, never by address or hash order. */
static void sc_rebalance(struct sc_config *c)
{
    /* TODO: count each group's shards; free the shards of groups that left and those above
     * a group's share; give the freed shards to the groups below theirs. No groups: every
     * shard on gid 0. */
}

/* Raft's apply callback (Go's loop over applyCh): committed ops, in order. It may call
 * raft_start or raft_kill; re-read the state after them. */
static void sc_apply(void *ctx, const struct raft_apply_msg *msg)
{
    struct sc_server *sc = ctx;
    if (sc->dead) return;
    if (!msg->command_valid || msg->command_index != sc->applied_index + 1) return;
    sc->applied_index = msg->command_index;
    struct sc_op op = {0};
    if (!sc_op_decode(msg->command, msg->command_len, &op)) return; /* not ours: skip it */
    /* TODO: a Join, Leave or Move whose seq is newer than the client's last applied one makes
     * a new config: a copy of the latest with num + 1, the groups added (a gid already there
     * gets its new servers) or removed, then sc_rebalance (not for a Move: it moves one
     * shard and nothing else). Then answer the handler waiting at this index, if any. */
}

/* ---------------------------------------------------------------- the lab API */

int sc_server_start(struct sim *sim, struct rpc_end *const *ends, int ends_count, int me,
                    struct raft_persister *persister, struct rpc_server *server,
                    struct sc_server **out)
{
    if (sim == NULL || ends == NULL || ends_count < 1 || ends_count > SC_SERVERS_MAX || me < 0 ||
        me >= ends_count || persister == NULL || server == NULL || out == NULL)
        return SC_EINVAL;
    struct sc_server *sc = calloc(1, sizeof(*sc));
    if (sc == NULL) return SC_ENOMEM;
    sc->sim = sim;
    sc->me = me;
    /* TODO: the configurations start with config 0. */
    sc->rf = raft_make(sim, ends, ends_count, me, persister, sc_apply, sc);
    if (sc->rf == NULL) {
        free(sc);
        return SC_ENOMEM;
    }
    int rc = raft_register(sc->rf, server);
    if (rc == RPC_OK) rc = rpc_server_add_method(server, "ShardCtrler", "Join", handle_join, sc);
    if (rc == RPC_OK) rc = rpc_server_add_method(server, "ShardCtrler", "Leave", handle_leave, sc);
    if (rc == RPC_OK) rc = rpc_server_add_method(server, "ShardCtrler", "Move", handle_move, sc);
    if (rc == RPC_OK) rc = rpc_server_add_method(server, "ShardCtrler", "Query", handle_query, sc);
    if (rc != RPC_OK) {
        raft_kill(sc->rf);
        raft_free(sc->rf);
        free(sc);
        return SC_ERPC;
    }
    *out = sc;
    return SC_OK;
}

void sc_server_kill(struct sc_server *sc)
{
    if (sc == NULL || sc->dead) return;
    sc->dead = true;
    raft_kill(sc->rf);
    /* TODO: answer every waiting handler (ErrWrongLeader) and cancel your timers. */
}

void sc_server_free(struct sc_server *sc)
{
    if (sc == NULL) return;
    sc_server_kill(sc);
    raft_free(sc->rf);
    /* TODO: free the configurations and the tables. */
    free(sc);
}

struct raft *sc_server_raft(const struct sc_server *sc)
{
    return sc->rf;
}
