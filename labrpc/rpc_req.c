/* rpc_req: the pool of request records.
 *
 * Records in use sit on the network's doubly linked live list; finished ones go to a free list
 * with their argument and reply buffers kept, so a steady stream of calls allocates nothing
 * once the buffers have grown to the message sizes in use. The live list lets rpc_net_free
 * release records whose handler never answered (a killed server's stuck handler).
 */
#include <stdlib.h>
#include <string.h>

#include "rpc_int.h"

struct rpc_req *rpc_req_alloc(struct rpc_net *net)
{
    SIM_ASSERTF(net->sim, SIM_NODE_NONE, net->reqs_live_count < RPC_INFLIGHT_MAX,
                "more than %u requests in flight", RPC_INFLIGHT_MAX);
    struct rpc_req *req = net->reqs_free;
    if (req != NULL) {
        net->reqs_free = req->next;
    } else {
        req = calloc(1, sizeof(*req));
        SIM_ASSERTF(net->sim, SIM_NODE_NONE, req != NULL, "out of memory for a request");
    }
    /* Reset everything but the buffers, which are reused. */
    uint8_t *args = req->args;
    size_t args_cap = req->args_cap;
    uint8_t *reply = req->reply;
    size_t reply_cap = req->reply_cap;
    memset(req, 0, offsetof(struct rpc_req, svc_meth));
    req->svc_meth[0] = '\0';
    req->args = args;
    req->args_cap = args_cap;
    req->reply = reply;
    req->reply_cap = reply_cap;
    req->net = net;
    req->live = true;
    req->next = net->reqs_live;
    if (net->reqs_live != NULL) net->reqs_live->prev = req;
    net->reqs_live = req;
    net->reqs_live_count++;
    return req;
}

void rpc_req_buf_set(struct rpc_net *net, uint8_t **buf, size_t *cap, const uint8_t *src,
                     size_t len)
{
    if (len > *cap) {
        /* Grow to a power of two so a record settles after a few calls. */
        size_t new_cap = *cap > 0 ? *cap : 64u;
        while (new_cap < len)
            new_cap *= 2u;
        uint8_t *grown = realloc(*buf, new_cap);
        SIM_ASSERTF(net->sim, SIM_NODE_NONE, grown != NULL, "out of memory for %zu bytes", len);
        *buf = grown;
        *cap = new_cap;
    }
    if (len > 0) memcpy(*buf, src, len);
}

void rpc_req_release_maybe(struct rpc_req *req)
{
    if (!req->done || req->queued || req->handler_pending || req->in_handler) return;
    if (req->event_id != 0 || req->poll_id != 0 || req->serve_id != 0) return;
    struct rpc_net *net = req->net;
    SIM_ASSERT(net->sim, SIM_NODE_NONE, req->live);
    SIM_ASSERT(net->sim, SIM_NODE_NONE, net->reqs_live_count > 0);
    if (req->prev != NULL)
        req->prev->next = req->next;
    else
        net->reqs_live = req->next;
    if (req->next != NULL) req->next->prev = req->prev;
    net->reqs_live_count--;
    req->live = false;
    req->prev = NULL;
    req->next = net->reqs_free;
    net->reqs_free = req;
}

static void req_free_list(struct rpc_req *req)
{
    while (req != NULL) {
        struct rpc_req *next = req->next;
        free(req->args);
        free(req->reply);
        free(req);
        req = next;
    }
}

/* The callers' half of Go's promise that Call returns: every call whose callback has not run
 * gets it now, with ok=false, so per-call contexts are freed before the network is. Traces
 * nothing (the run is over). A callback that sends again sees a cleaned-up network; its new
 * record is not visited (records are pushed at the head of the list). */
void rpc_net_fail_inflight(struct rpc_net *net)
{
    rpc_net_cleanup(net);
    for (struct rpc_req *req = net->reqs_live; req != NULL; req = req->next) {
        if (req->cb == NULL || req->cb_called) continue;
        if (req->event_id != 0) sim_timer_cancel(net->sim, req->event_id);
        if (req->poll_id != 0) sim_timer_cancel(net->sim, req->poll_id);
        if (req->serve_id != 0) sim_timer_cancel(net->sim, req->serve_id);
        req->event_id = 0;
        req->poll_id = 0;
        req->serve_id = 0;
        req->queued = false;
        req->done = true;
        req->cb_called = true;
        req->cb(req->ctx, false, NULL, 0);
    }
}

void rpc_req_free_all(struct rpc_net *net)
{
    /* Cancel first: an event left behind would run on freed memory if the sim goes on. */
    for (struct rpc_req *req = net->reqs_live; req != NULL; req = req->next) {
        if (req->event_id != 0) sim_timer_cancel(net->sim, req->event_id);
        if (req->poll_id != 0) sim_timer_cancel(net->sim, req->poll_id);
        if (req->serve_id != 0) sim_timer_cancel(net->sim, req->serve_id);
    }
    req_free_list(net->reqs_live);
    req_free_list(net->reqs_free);
    net->reqs_live = NULL;
    net->reqs_free = NULL;
    net->reqs_live_count = 0;
}
