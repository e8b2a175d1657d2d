/* rpc_net: the network object of labrpc: its lifecycle, fault settings, counters, the ends it
 * owns (enable/connect/delete) and the id -> server registry.
 *
 * Go's Network keys ends and servers by arbitrary names; here an end is an object the caller
 * keeps and a server id is a small int (the testers use ints). Everything made here belongs to
 * the network until rpc_net_free, so no caller ever holds a dangling end or server.
 */
#include <stdlib.h>
#include <string.h>

#include "rpc_int.h"

_Static_assert(RPC_SERVER_ID_MAX > 0, "need at least one server id");
_Static_assert(RPC_NAME_MAX >= 8u, "names must fit a short word");

struct rpc_net *rpc_net_new(struct sim *sim)
{
    if (sim == NULL) return NULL;
    struct rpc_net *net = calloc(1, sizeof(*net));
    if (net == NULL) return NULL;
    net->sim = sim;
    sim_rand_init(&net->rand, sim, "labrpc");
    sim_rand_init(&net->rand_ext, sim, "labrpc.ext");
    sim_rand_init(&net->rand_hop, sim, "labrpc.hop");
    rpc_latency_default(&net->latency_request, &net->latency_reply);
    /* Go's MakeNetwork: reliable, no long delays, no long reordering. */
    net->reliable = true;
    return net;
}

void rpc_net_free(struct rpc_net *net)
{
    if (net == NULL) return;
    rpc_req_free_all(net);
    struct rpc_end *end = net->ends_owned;
    while (end != NULL) {
        struct rpc_end *next = end->owned_next;
        free(end);
        end = next;
    }
    struct rpc_server *server = net->servers_owned;
    while (server != NULL) {
        struct rpc_server *next = server->owned_next;
        free(server);
        server = next;
    }
    free(net);
}

struct sim *rpc_net_sim(const struct rpc_net *net)
{
    return net->sim;
}

void rpc_net_cleanup(struct rpc_net *net)
{
    /* The call path checks this flag at every step, so in-flight calls fail soon too. */
    net->cleaned_up = true;
}

void rpc_net_set_reliable(struct rpc_net *net, bool reliable)
{
    net->reliable = reliable;
}

void rpc_net_set_long_reordering(struct rpc_net *net, bool on)
{
    net->long_reordering = on;
}

void rpc_net_set_long_delays(struct rpc_net *net, bool on)
{
    net->long_delays = on;
}

bool rpc_net_reliable(const struct rpc_net *net)
{
    return net->reliable;
}

void rpc_net_set_duplicate_permille(struct rpc_net *net, uint32_t permille)
{
    SIM_ASSERTF(net->sim, SIM_NODE_NONE, permille <= 1000u, "permille %u > 1000", permille);
    net->duplicate_permille = permille;
}

int rpc_net_set_delay_ext(struct rpc_net *net, uint32_t permille, uint32_t delay_ms_max)
{
    if (permille > 1000u) return RPC_ERANGE;
    if (permille > 0 && (delay_ms_max == 0 || delay_ms_max > RPC_DELAY_EXT_MS_MAX))
        return RPC_ERANGE;
    net->delay_ext_permille = permille;
    net->delay_ext_ms_max = permille > 0 ? delay_ms_max : 0;
    return RPC_OK;
}

/* ---------------------------------------------------------------- ends */

struct rpc_end *rpc_net_make_end(struct rpc_net *net, const char *name)
{
    if (net == NULL) return NULL;
    struct rpc_end *end = calloc(1, sizeof(*end));
    if (end == NULL) return NULL;
    end->net = net;
    end->node = SIM_NODE_NONE;
    end->server_id = -1;
    /* The name is for traces only, so a long one is cut rather than refused. */
    if (name != NULL) {
        size_t len = strnlen(name, RPC_NAME_MAX - 1u);
        memcpy(end->name, name, len);
        end->name[len] = '\0';
    }
    end->owned_next = net->ends_owned;
    net->ends_owned = end;
    SIM_ASSERT(net->sim, SIM_NODE_NONE, !end->enabled);
    return end;
}

void rpc_net_delete_end(struct rpc_net *net, struct rpc_end *end)
{
    SIM_ASSERT(net->sim, SIM_NODE_NONE, end != NULL);
    SIM_ASSERT(net->sim, SIM_NODE_NONE, end->net == net);
    /* Deleted ends also count as disabled, so their in-flight calls see a dead server. */
    end->deleted = true;
    end->enabled = false;
}

void rpc_net_connect(struct rpc_net *net, struct rpc_end *end, int server_id)
{
    SIM_ASSERT(net->sim, SIM_NODE_NONE, end != NULL);
    SIM_ASSERT(net->sim, SIM_NODE_NONE, end->net == net);
    SIM_ASSERTF(net->sim, end->node, server_id >= 0 && server_id < RPC_SERVER_ID_MAX,
                "server id %d out of range", server_id);
    SIM_ASSERTF(net->sim, end->node, end->server_id < 0 || end->server_id == server_id,
                "end '%s' is already connected to server %d", end->name, end->server_id);
    end->server_id = server_id;
}

void rpc_net_enable(struct rpc_net *net, struct rpc_end *end, bool enabled)
{
    SIM_ASSERT(net->sim, SIM_NODE_NONE, end != NULL);
    SIM_ASSERT(net->sim, SIM_NODE_NONE, end->net == net);
    end->enabled = enabled && !end->deleted;
}

void rpc_end_set_reply_cut(struct rpc_end *end, bool cut)
{
    end->reply_cut = cut;
}

void rpc_end_set_node(struct rpc_end *end, int node)
{
    SIM_ASSERT(end->net->sim, node, node >= SIM_NODE_NONE);
    end->node = node;
}

const char *rpc_end_name(const struct rpc_end *end)
{
    return end->name;
}

/* ---------------------------------------------------------------- servers and counts */

void rpc_net_add_server(struct rpc_net *net, int server_id, struct rpc_server *server)
{
    SIM_ASSERTF(net->sim, server_id, server_id >= 0 && server_id < RPC_SERVER_ID_MAX,
                "server id %d out of range", server_id);
    SIM_ASSERT(net->sim, server_id, server != NULL);
    SIM_ASSERT(net->sim, server_id, server->net == net);
    /* Replacing makes the old server "dead" to its in-flight calls (pointer comparison). */
    net->servers[server_id] = server;
}

void rpc_net_delete_server(struct rpc_net *net, int server_id)
{
    SIM_ASSERTF(net->sim, server_id, server_id >= 0 && server_id < RPC_SERVER_ID_MAX,
                "server id %d out of range", server_id);
    net->servers[server_id] = NULL;
}

uint64_t rpc_net_count(const struct rpc_net *net, int server_id)
{
    SIM_ASSERTF(net->sim, server_id, server_id >= 0 && server_id < RPC_SERVER_ID_MAX,
                "server id %d out of range", server_id);
    /* Go dereferences nil for a deleted server; 0 is the harmless answer. */
    const struct rpc_server *server = net->servers[server_id];
    return server != NULL ? server->count : 0;
}

uint64_t rpc_net_total_count(const struct rpc_net *net)
{
    return net->total_count;
}

uint64_t rpc_net_total_bytes(const struct rpc_net *net)
{
    return net->total_bytes;
}

size_t rpc_net_inflight(const struct rpc_net *net)
{
    return net->reqs_live_count;
}
