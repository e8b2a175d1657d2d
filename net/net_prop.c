/* net_prop: runs one op (get, put, append) through the KV service, as the clerk does, but
 * event-driven and bounded in time, so an HTTP request always gets an answer.
 *
 * Each op takes a slot; a slot is one KV client id (drawn with sim_nrand when the node starts:
 * the node's seed is random per process start, so a restarted node never reuses an id) and its
 * next sequence number, so every op is applied at most once however often it is retried, and
 * ops of different slots never supersede each other in the duplicate table. The op goes first
 * to the node that last answered as leader (or to this node), then round the others; a
 * follower's own server answers ErrWrongLeader and the op then travels to a peer over the Raft
 * connections (KVServer.* on the peer): writes on a follower are proxied, never redirected, so
 * a client needs only one address. After a full pass without a leader it pauses
 * NET_PASS_SLEEP_US. At the deadline the op ends NET_OP_NO_LEADER: the caller answers 503, and
 * the op may still be applied later (a client must treat it as unknown, as with any timeout).
 *
 * Invariants: at most NET_SLOTS_MAX ops in flight; a slot is busy exactly while its op is; the
 * done callback runs exactly once, from a kernel event.
 */
#include <stdlib.h>
#include <string.h>

#include "../kvraft/kv_int.h"
#include "net_int.h"

struct prop_slot {
    uint64_t client_id;
    uint64_t seq;
    bool busy;
};

struct prop_op {
    struct net_prop *prop;
    uint32_t slot;
    enum net_op_kind kind;
    enum net_op_result result; /* for ops that end before being sent */
    uint8_t *enc;
    size_t enc_len;
    sim_time_us deadline_us;
    int target;
    int tried_in_pass;
    net_op_done_cb cb;
    void *ctx;
};

struct net_prop {
    struct sim *sim;
    struct rpc_net *net;
    int peers_count;
    int self;
    int leader;
    uint32_t in_flight;
    struct gob_enc enc;
    struct prop_slot slots[NET_SLOTS_MAX];
};

struct net_prop *net_prop_new(struct sim *sim, struct rpc_net *net, int peers_count, int self)
{
    struct net_prop *prop = calloc(1, sizeof(*prop));
    if (prop == NULL) return NULL;
    *prop = (struct net_prop){
        .sim = sim, .net = net, .peers_count = peers_count, .self = self, .leader = -1};
    gob_enc_init(&prop->enc);
    for (uint32_t i = 0; i < NET_SLOTS_MAX; i++)
        prop->slots[i].client_id = sim_nrand(sim);
    return prop;
}

void net_prop_free(struct net_prop *prop)
{
    if (prop == NULL) return;
    gob_enc_free(&prop->enc);
    free(prop);
}

int net_prop_leader(const struct net_prop *prop)
{
    return prop->leader;
}

uint32_t net_prop_in_flight(const struct net_prop *prop)
{
    return prop->in_flight;
}

static void op_finish(struct prop_op *op, enum net_op_result result, bool found,
                      const uint8_t *value, size_t value_len)
{
    struct net_prop *prop = op->prop;
    if (op->slot < NET_SLOTS_MAX) {
        prop->slots[op->slot].busy = false;
        prop->in_flight--;
    }
    op->cb(op->ctx, result, found, value, value_len);
    free(op->enc);
    free(op);
}

static void op_send(struct prop_op *op);

static void ev_resend(struct sim *sim, void *arg)
{
    (void)sim;
    op_send(arg);
}

/* The target failed to take the op: on to the next node, pausing after a full pass. */
static void op_next(struct prop_op *op)
{
    struct net_prop *prop = op->prop;
    if (prop->leader == op->target) prop->leader = -1;
    if (sim_now_us(prop->sim) >= op->deadline_us) {
        op_finish(op, NET_OP_NO_LEADER, false, NULL, 0);
        return;
    }
    op->target = (op->target + 1) % prop->peers_count;
    op->tried_in_pass++;
    if (op->tried_in_pass < prop->peers_count) {
        op_send(op);
        return;
    }
    op->tried_in_pass = 0;
    sim_after(prop->sim, NET_PASS_SLEEP_US, ev_resend, op);
}

static void on_reply(void *ctx, bool ok, const uint8_t *reply, size_t reply_len)
{
    struct prop_op *op = ctx;
    struct kv_reply r;
    if (!ok || kv_reply_decode(reply, reply_len, &r) != KV_OK) {
        op_next(op);
        return;
    }
    switch (r.err) {
    case KV_REPLY_OK:
    case KV_REPLY_NO_KEY:
        op->prop->leader = op->target;
        op_finish(op, NET_OP_DONE, r.err == KV_REPLY_OK && r.value_len > 0, r.value, r.value_len);
        return;
    case KV_REPLY_TOO_BIG:
        op_finish(op, NET_OP_TOO_BIG, false, NULL, 0);
        return;
    case KV_REPLY_BAD_ARGS:
        op_finish(op, NET_OP_BAD, false, NULL, 0);
        return;
    default:
        op_next(op);
        return;
    }
}

static void op_send(struct prop_op *op)
{
    struct net_prop *prop = op->prop;
    rpc_end_call(net_rpc_end(prop->net, op->target), kv_method_full_names[op->kind], op->enc,
                 op->enc_len, on_reply, op);
}

static void ev_finish_early(struct sim *sim, void *arg)
{
    (void)sim;
    struct prop_op *op = arg;
    op_finish(op, op->result, false, NULL, 0);
}

static int slot_take(struct net_prop *prop)
{
    for (uint32_t i = 0; i < NET_SLOTS_MAX; i++) {
        if (prop->slots[i].busy) continue;
        prop->slots[i].busy = true;
        prop->slots[i].seq++;
        prop->in_flight++;
        return (int)i;
    }
    return -1;
}

void net_prop_submit(struct net_prop *prop, enum net_op_kind kind, const char *key, size_t key_len,
                     const uint8_t *value, size_t value_len, sim_time_us timeout_us,
                     net_op_done_cb cb, void *ctx)
{
    struct prop_op *op = calloc(1, sizeof(*op));
    SIM_ASSERT(prop->sim, prop->self, op != NULL);
    *op = (struct prop_op){.prop = prop,
                           .slot = NET_SLOTS_MAX,
                           .kind = kind,
                           .cb = cb,
                           .ctx = ctx,
                           .deadline_us = sim_now_us(prop->sim) + timeout_us};
    int slot = slot_take(prop);
    if (slot < 0) {
        op->result = NET_OP_BUSY;
        sim_after(prop->sim, 0, ev_finish_early, op);
        return;
    }
    op->slot = (uint32_t)slot;
    struct kv_op kop = {.client_id = prop->slots[slot].client_id,
                        .seq = prop->slots[slot].seq,
                        .kind = (enum kv_op_kind)kind,
                        .key = (const uint8_t *)key,
                        .key_len = key_len,
                        .value = value,
                        .value_len = value_len};
    int rc = kv_op_encode(&prop->enc, &kop);
    if (rc == KV_OK) op->enc = gob_enc_take(&prop->enc, &op->enc_len);
    if (op->enc == NULL) {
        op->result = rc == KV_ENOMEM ? NET_OP_BUSY : NET_OP_BAD;
        sim_after(prop->sim, 0, ev_finish_early, op);
        return;
    }
    op->target = prop->leader >= 0 ? prop->leader : prop->self;
    op_send(op);
}
