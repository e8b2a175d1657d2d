/* net_info: what nodes tell each other and the HTTP clients about the cluster.
 *
 * "Node.Info" is one more method on the node's RPC server (beside KVServer.* and Raft.*): it
 * answers this node's status as JSON. GET /cluster/info asks every peer over the Raft
 * connections, waits at most NET_INFO_TIMEOUT_US, and answers with what came back: each
 * member's role, term, commit and apply indices and HTTP address, and the leader (the member
 * that says it leads in the highest term; null when none answered so).
 *
 * A request's context lives until both its answer went out and every call it made completed
 * (each completes exactly once, by NET_CALL_TIMEOUT_US at the latest), so late replies never
 * touch freed memory.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_int.h"

static const char *role_name(enum raft_role role)
{
    return role == RAFT_LEADER ? "leader" : role == RAFT_CANDIDATE ? "candidate" : "follower";
}

static json_t *addr_json(const struct net_addr *a)
{
    char text[NET_HOST_MAX + 8];
    snprintf(text, sizeof(text), "%s:%u", a->host, a->port);
    return json_string(text);
}

json_t *net_info_self(const struct net_node *node)
{
    struct raft_inspect in;
    raft_inspect(kv_server_raft(node->kv), &in);
    struct net_addr http = net_http_addr(node->http);
    json_t *o = json_pack("{s:i,s:s,s:I,s:I,s:I,s:I,s:I,s:i,s:I}", "id", node->cfg.id, "role",
                          role_name(in.role), "term", (json_int_t)in.term, "commit_index",
                          (json_int_t)in.commit_index, "last_applied", (json_int_t)in.last_applied,
                          "last_index", (json_int_t)in.last_index, "snapshot_index",
                          (json_int_t)in.snapshot_index, "leader_hint", net_prop_leader(node->prop),
                          "uptime_ms", (json_int_t)(sim_now_us(node->sim) / 1000u));
    json_object_set_new(o, "raft", addr_json(&node->cfg.peers[node->cfg.id]));
    json_object_set_new(o, "http", addr_json(&http));
    return o;
}

static void info_handle(void *receiver, struct rpc_req *req, const uint8_t *args, size_t len)
{
    (void)args;
    (void)len;
    struct net_node *node = receiver;
    json_t *o = net_info_self(node);
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    rpc_req_reply(req, (const uint8_t *)text, text != NULL ? strlen(text) : 0);
    free(text);
}

int net_info_register(struct net_node *node, struct rpc_server *server)
{
    return rpc_server_add_method(server, "Node", "Info", info_handle, node);
}

struct info_req {
    struct net_node *node;
    struct net_http_ref ref;
    json_t *members[NET_NODES_MAX];
    uint32_t calls_pending;
    sim_timer_id timer;
    bool answered;
};

struct info_call {
    struct info_req *ir;
    int peer;
};

static void info_answer(struct info_req *ir)
{
    struct net_node *node = ir->node;
    ir->answered = true;
    json_t *members = json_array();
    int leader = -1;
    json_int_t leader_term = -1;
    json_int_t term_max = 0;
    for (int i = 0; i < node->cfg.peers_count; i++) {
        json_t *m = ir->members[i];
        if (m == NULL) {
            m = json_pack("{s:i,s:b}", "id", i, "reachable", 0);
            json_object_set_new(m, "raft", addr_json(&node->cfg.peers[i]));
        } else {
            json_object_set_new(m, "reachable", json_true());
            ir->members[i] = NULL;
        }
        json_int_t term = json_integer_value(json_object_get(m, "term"));
        const char *role = json_string_value(json_object_get(m, "role"));
        if (term > term_max) term_max = term;
        if (role != NULL && strcmp(role, "leader") == 0 && term > leader_term) {
            leader = i;
            leader_term = term;
        }
        json_array_append_new(members, m);
    }
    json_t *o =
        json_pack("{s:i,s:I,s:o}", "self", node->cfg.id, "term", term_max, "members", members);
    json_object_set_new(o, "leader", leader >= 0 ? json_integer(leader) : json_null());
    json_object_set_new(
        o, "leader_http",
        leader >= 0 ? json_incref(json_object_get(json_array_get(members, (size_t)leader), "http"))
                    : json_null());
    char *text = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (text != NULL) net_http_respond(node->http, ir->ref, 200, NULL, text, strlen(text));
    free(text);
}

static void info_release_maybe(struct info_req *ir)
{
    if (!ir->answered || ir->calls_pending > 0) return;
    for (int i = 0; i < NET_NODES_MAX; i++)
        json_decref(ir->members[i]);
    free(ir);
}

static void ev_info_timeout(struct sim *sim, void *arg)
{
    (void)sim;
    struct info_req *ir = arg;
    ir->timer = 0;
    if (!ir->answered) info_answer(ir);
    info_release_maybe(ir);
}

static void info_reply(void *ctx, bool ok, const uint8_t *reply, size_t len)
{
    struct info_call *call = ctx;
    struct info_req *ir = call->ir;
    ir->calls_pending--;
    if (ok && !ir->answered) {
        json_t *m = json_loadb((const char *)reply, len, 0, NULL);
        if (json_is_object(m))
            ir->members[call->peer] = m;
        else
            json_decref(m);
    }
    free(call);
    if (!ir->answered && ir->calls_pending == 0) {
        sim_timer_cancel(ir->node->sim, ir->timer);
        ir->timer = 0;
        info_answer(ir);
    }
    info_release_maybe(ir);
}

void net_info_cluster(struct net_node *node, struct net_http_ref ref)
{
    struct info_req *ir = calloc(1, sizeof(*ir));
    SIM_ASSERT(node->sim, node->cfg.id, ir != NULL);
    ir->node = node;
    ir->ref = ref;
    ir->members[node->cfg.id] = net_info_self(node);
    for (int i = 0; i < node->cfg.peers_count; i++) {
        if (i == node->cfg.id) continue;
        struct info_call *call = calloc(1, sizeof(*call));
        SIM_ASSERT(node->sim, node->cfg.id, call != NULL);
        *call = (struct info_call){.ir = ir, .peer = i};
        ir->calls_pending++;
        rpc_end_call(net_rpc_end(node->rpc, i), "Node.Info", NULL, 0, info_reply, call);
    }
    ir->timer = sim_after(node->sim, NET_INFO_TIMEOUT_US, ev_info_timeout, ir);
}
