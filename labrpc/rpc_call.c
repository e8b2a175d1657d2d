/* rpc_call: the call path of labrpc: send, fault draws, delivery to the handler, the reply,
 * the dead-server poll and the completion, all as sim events, plus the trace kinds.
 *
 * The "labrpc" stream is drawn in Go's order (labrpc.go processReq), per call:
 *   deliverable:   [unreliable] delay = below(27) ms; then at delivery [unreliable]
 *                  below(1000) < 100 drops the request; the handler runs; when it answers
 *                  (and the server is alive) [unreliable] below(1000) < 100 drops the reply;
 *                  else [long reordering] below(900) < 600 holds it 200 + below(1+below(2000))
 *                  ms.
 *   undeliverable: fail after below(7000) ms (long delays) or below(100) ms.
 * Extensions draw only from "labrpc.ext", after the default draws of the same step, so the
 * default stream is the same whether they are on or off. Scheduling latencies (rpc_hop.c)
 * draw only from "labrpc.hop": one per request, added to its delivery delay, and one per
 * outcome that crosses back to the caller (a reply, a dropped request or reply, a dead
 * server), added to its completion delay. Undeliverable calls and cleanup take none: Go's
 * 0-99 ms / 0-6999 ms timeout already stands for the whole path, and cleanup is immediate.
 *
 * Life of a call (each arrow is an event; the callback runs only in ev_complete):
 *   rpc_end_call -> ev_deliver -> handler -> rpc_req_reply -> ev_complete
 *   rpc_end_call -> ev_deliver -> ev_serve -> handler -> ...   (a service with a service time)
 *   rpc_end_call -> ev_complete                       (undeliverable, or after cleanup)
 *   ev_deliver   -> ev_complete                       (request dropped, network cleaned up)
 *   ev_poll (every 100 ms while queued or the handler is pending) -> ev_complete (server died)
 *
 * Service time (rpc_server_set_service_time): a request to a timed service is queued instead
 * of handed over; its handler runs at max(arrival, the previous timed request's handler run) +
 * its service time, so the server works through them one at a time, in arrival order. No random
 * draw is involved. A queued request's slot is kept even if its call fails meanwhile: the time
 * is spent either way, as a real server that already took the request off the wire would.
 *
 * A server that died while the request was on its way still runs the handler, as Go's does;
 * rpc_req_reply then sees the dead server and fails the call, so only the reply is lost.
 * Every call ends in exactly one terminal trace: rpc.reply, rpc.fail, rpc.drop_req or
 * rpc.drop_reply, stamped when the caller learns the outcome.
 */
#include <stdlib.h>
#include <string.h>

#include "../labgob/labgob.h"
#include "rpc_int.h"

#define RPC_POLL_US SIM_MS(100) /* Go's dispatcher re-checks a pending call this often */
#define RPC_DELAY_SHORT_MS 27u  /* unreliable: 0-26 ms before delivery */
#define RPC_DROP_PERMILLE 100u  /* unreliable: request and reply drop chance */
#define RPC_REORDER_NUM 600u    /* long reordering: 600/900 of replies are held */
#define RPC_REORDER_DEN 900u
#define RPC_REORDER_BASE_MS 200u /* ... for 200 + U[0, U[0, 2000]] ms */
#define RPC_REORDER_SPAN_MS 2000u
#define RPC_UNDELIV_LONG_MS 7000u /* undeliverable, long delays: fail after 0-6999 ms */
#define RPC_UNDELIV_MS 100u       /* undeliverable otherwise: 0-99 ms */
#define RPC_DUP_DELAY_MS 27u      /* extension: a duplicate arrives 0-26 ms after the original */

static const struct sim_trace_kind rpc_kind_send = {
    100, SIM_TOPIC_NET, "rpc.send", {"call", "server", "bytes", NULL}};
static const struct sim_trace_kind rpc_kind_deliver = {
    101, SIM_TOPIC_NET, "rpc.deliver", {"call", "server", "count", "dup", NULL}};
static const struct sim_trace_kind rpc_kind_drop_req = {
    102, SIM_TOPIC_NET, "rpc.drop_req", {"call", "server", NULL}};
static const struct sim_trace_kind rpc_kind_drop_reply = {
    103, SIM_TOPIC_NET, "rpc.drop_reply", {"call", "server", "cut", NULL}};
static const struct sim_trace_kind rpc_kind_fail = {
    104, SIM_TOPIC_NET, "rpc.fail", {"call", "server", "reason", NULL}};
static const struct sim_trace_kind rpc_kind_reply = {
    105, SIM_TOPIC_NET, "rpc.reply", {"call", "server", "bytes", "held_us", NULL}};
static const struct sim_trace_kind rpc_kind_dup = {
    106, SIM_TOPIC_NET, "rpc.dup", {"call", "server", "delay_us", NULL}};
static const struct sim_trace_kind rpc_kind_queue = {
    107, SIM_TOPIC_NET, "rpc.queue", {"call", "server", "wait_us", "dup", NULL}};

static const char *fail_text(enum rpc_fail fail)
{
    switch (fail) {
    case RPC_FAIL_NONE:
        return "ok";
    case RPC_FAIL_UNDELIVERABLE:
        return "undeliverable";
    case RPC_FAIL_DEAD:
        return "server dead";
    case RPC_FAIL_CLEANUP:
        return "network cleaned up";
    case RPC_FAIL_DROP_REQUEST:
        return "request dropped";
    case RPC_FAIL_DROP_REPLY:
        return "reply dropped";
    case RPC_FAIL_REPLY_CUT:
        return "reply cut";
    }
    return "?";
}

static void ev_deliver(struct sim *sim, void *arg);
static void ev_complete(struct sim *sim, void *arg);
static void ev_poll(struct sim *sim, void *arg);
static void ev_serve(struct sim *sim, void *arg);

/* Dead in Go's sense (isServerDead): the end was disabled or deleted, or the server id now
 * maps to another server or none. */
static bool req_server_dead(const struct rpc_req *req)
{
    const struct rpc_end *end = req->end;
    if (!end->enabled || end->deleted) return true;
    return req->net->servers[req->server_id] != req->server;
}

bool rpc_req_dead(const struct rpc_req *req)
{
    return req_server_dead(req);
}

/* Whether an outcome crosses a goroutine back to the caller in Go (and so takes a reply
 * latency): everything decided by the dispatcher after the request reached it. */
static bool fail_takes_hop(enum rpc_fail fail)
{
    return fail != RPC_FAIL_UNDELIVERABLE && fail != RPC_FAIL_CLEANUP;
}

/* Decides the caller's outcome; the callback runs in ev_complete `delay_us` from now, plus
 * the reply's scheduling latency where Go has one. */
static void req_complete_after(struct rpc_req *req, enum rpc_fail fail, sim_time_us delay_us)
{
    struct rpc_net *net = req->net;
    struct sim *sim = net->sim;
    SIM_ASSERT(sim, req->end->node, !req->done);
    SIM_ASSERT(sim, req->end->node, req->event_id == 0);
    req->done = true;
    req->fail = fail;
    if (fail_takes_hop(fail)) delay_us += rpc_latency_draw(net, &net->latency_reply);
    req->event_id = sim_after(sim, delay_us, ev_complete, req);
}

static void trace_outcome(struct rpc_req *req, enum rpc_fail fail)
{
    struct sim *sim = req->net->sim;
    int node = req->end->node;
    int64_t v[SIM_TRACE_FIELDS_MAX] = {(int64_t)req->call_id, req->server_id, 0, 0, 0, 0};
    const struct sim_trace_kind *kind = &rpc_kind_fail;
    if (fail == RPC_FAIL_NONE) {
        kind = &rpc_kind_reply;
        v[2] = (int64_t)req->reply_len;
        v[3] = (int64_t)req->held_us;
    } else if (fail == RPC_FAIL_DROP_REQUEST) {
        kind = &rpc_kind_drop_req;
    } else if (fail == RPC_FAIL_DROP_REPLY || fail == RPC_FAIL_REPLY_CUT) {
        kind = &rpc_kind_drop_reply;
        v[2] = fail == RPC_FAIL_REPLY_CUT;
    } else {
        v[2] = fail;
    }
    sim_trace(sim, node, kind, v, fail == RPC_FAIL_NONE ? req->svc_meth : fail_text(fail));
}

static void ev_complete(struct sim *sim, void *arg)
{
    struct rpc_req *req = arg;
    struct rpc_net *net = req->net;
    SIM_ASSERT(sim, req->end->node, req->done);
    SIM_ASSERT(sim, req->end->node, req->cb != NULL);
    req->event_id = 0;
    /* After Cleanup no reply is delivered any more, even one already on its way. */
    if (req->fail == RPC_FAIL_NONE && net->cleaned_up) req->fail = RPC_FAIL_CLEANUP;
    bool ok = req->fail == RPC_FAIL_NONE;
    /* Go counts reply bytes only when delivered; both directions in gob's bytes (labgob.h). */
    if (ok) net->total_bytes += gob_size_rpc(req->reply, req->reply_len);
    trace_outcome(req, req->fail);
    req->cb_called = true;
    int node = sim_node_swap(sim, req->end->node);
    req->cb(req->ctx, ok, ok ? req->reply : NULL, ok ? req->reply_len : 0);
    sim_node_swap(sim, node);
    rpc_req_release_maybe(req);
}

/* Extension: after an original delivery, maybe run the handler again a little later. */
static void req_maybe_duplicate(struct rpc_req *req)
{
    struct rpc_net *net = req->net;
    if (net->duplicate_permille == 0 || req->dup) return;
    if (sim_rand_below(&net->rand_ext, 1000) >= net->duplicate_permille) return;
    sim_time_us delay_us = SIM_MS(sim_rand_below(&net->rand_ext, RPC_DUP_DELAY_MS));
    struct rpc_req *dup = rpc_req_alloc(net);
    dup->end = req->end;
    dup->server = req->server;
    dup->server_id = req->server_id;
    dup->call_id = req->call_id;
    dup->reliable = req->reliable;
    dup->dup = true;
    dup->done = true; /* nobody waits for it */
    memcpy(dup->svc_meth, req->svc_meth, sizeof(dup->svc_meth));
    rpc_req_buf_set(net, &dup->args, &dup->args_cap, req->args, req->args_len);
    dup->args_len = req->args_len;
    sim_trace4(net->sim, req->end->node, &rpc_kind_dup, (int64_t)req->call_id, req->server_id,
               (int64_t)delay_us, 0);
    dup->event_id = sim_after(net->sim, delay_us, ev_deliver, dup);
}

/* Hands the request to its handler (Go's dispatch). The per-server count goes up here. */
static void req_run_handler(struct rpc_req *req)
{
    struct rpc_net *net = req->net;
    struct sim *sim = net->sim;
    const struct rpc_method *method = req->method;
    SIM_ASSERT(sim, req->server_id, method != NULL); /* set by req_arrive */
    req->server->count++;
    int64_t v[SIM_TRACE_FIELDS_MAX] = {
        (int64_t)req->call_id, req->server_id, (int64_t)req->server->count, req->dup, 0, 0};
    sim_trace(sim, req->server_id, &rpc_kind_deliver, v, req->svc_meth);
    req->handler_pending = true;
    req->in_handler = true;
    int node = sim_node_swap(sim, req->server_id);
    method->fn(method->receiver, req, req->args, req->args_len);
    sim_node_swap(sim, node);
    req->in_handler = false;
    /* A handler that has not answered is watched like Go's 100 ms dispatcher loop; a
     * duplicate has no caller to fail, so it is left alone. */
    if (req->handler_pending && !req->done && req->poll_id == 0)
        req->poll_id = sim_after(sim, RPC_POLL_US, ev_poll, req);
    req_maybe_duplicate(req);
    rpc_req_release_maybe(req);
}

/* The request has reached its server: a request of a timed service waits for its turn (and,
 * like a running handler, is watched by the dead-server poll); otherwise the handler runs
 * now. */
static void req_arrive(struct rpc_req *req)
{
    struct rpc_server *server = req->server;
    const struct rpc_service *service = NULL;
    req->method = rpc_server_find(server, req->svc_meth, &service);
    /* Go's dispatcher log.Fatal()s on an unknown service or method. */
    SIM_ASSERTF(req->net->sim, req->server_id, req->method != NULL,
                "labrpc: unknown method '%s' on server %d", req->svc_meth, req->server_id);
    if (service->service_time_fn == NULL) {
        req_run_handler(req);
        return;
    }
    sim_time_us service_us = service->service_time_fn(service->service_time_arg);
    if (service_us > RPC_SERVICE_US_MAX) service_us = RPC_SERVICE_US_MAX;
    struct sim *sim = req->net->sim;
    sim_time_us now_us = sim_now_us(sim);
    sim_time_us start_us = server->busy_until_us > now_us ? server->busy_until_us : now_us;
    server->busy_until_us = start_us + service_us;
    sim_time_us wait_us = server->busy_until_us - now_us;
    req->queued = true;
    req->serve_id = sim_after(sim, wait_us, ev_serve, req);
    if (!req->done) req->poll_id = sim_after(sim, RPC_POLL_US, ev_poll, req);
    sim_trace4(sim, req->server_id, &rpc_kind_queue, (int64_t)req->call_id, req->server_id,
               (int64_t)wait_us, req->dup);
}

/* A duplicate of a dead server or a cleaned-up net just vanishes. */
static void dup_arrive(struct rpc_req *req)
{
    if (req->net->cleaned_up || req_server_dead(req))
        rpc_req_release_maybe(req);
    else
        req_arrive(req);
}

static void ev_deliver(struct sim *sim, void *arg)
{
    struct rpc_req *req = arg;
    struct rpc_net *net = req->net;
    SIM_ASSERT(sim, req->server_id, req->server != NULL);
    req->event_id = 0;
    if (req->dup) {
        dup_arrive(req);
        return;
    }
    if (net->cleaned_up) {
        req_complete_after(req, RPC_FAIL_CLEANUP, 0);
        return;
    }
    if (!req->reliable && sim_rand_below(&net->rand, 1000) < RPC_DROP_PERMILLE) {
        req_complete_after(req, RPC_FAIL_DROP_REQUEST, 0);
        return;
    }
    /* Go's dispatcher already holds the server: a server that died or was cut off while the
     * request travelled still runs the handler, and only the reply is lost (rpc_req_reply
     * finds it dead). */
    req_arrive(req);
}

/* A queued request's turn has come: its handler runs unless its call can no longer succeed,
 * which is then decided at once. */
static void ev_serve(struct sim *sim, void *arg)
{
    struct rpc_req *req = arg;
    struct rpc_net *net = req->net;
    SIM_ASSERT(sim, req->server_id, req->queued);
    req->serve_id = 0;
    req->queued = false;
    bool gone = net->cleaned_up || req_server_dead(req);
    if (req->dup) {
        if (gone)
            rpc_req_release_maybe(req);
        else
            req_run_handler(req);
        return;
    }
    SIM_ASSERT(sim, req->server_id, !req->done); /* a failing poll cancels this event */
    if (!gone) {
        req_run_handler(req);
        return;
    }
    if (req->poll_id != 0) {
        sim_timer_cancel(sim, req->poll_id);
        req->poll_id = 0;
    }
    req_complete_after(req, net->cleaned_up ? RPC_FAIL_CLEANUP : RPC_FAIL_DEAD, 0);
}

/* The poll fails the call; a queued request then never reaches its handler. */
static void poll_fail(struct rpc_req *req, enum rpc_fail fail)
{
    if (req->queued) {
        SIM_ASSERT(req->net->sim, req->server_id, req->serve_id != 0);
        sim_timer_cancel(req->net->sim, req->serve_id);
        req->serve_id = 0;
        req->queued = false;
    }
    req_complete_after(req, fail, 0);
}

static void ev_poll(struct sim *sim, void *arg)
{
    struct rpc_req *req = arg;
    SIM_ASSERT(sim, req->server_id, req->handler_pending || req->queued);
    SIM_ASSERT(sim, req->server_id, !req->done);
    req->poll_id = 0;
    if (req->net->cleaned_up) {
        poll_fail(req, RPC_FAIL_CLEANUP);
        return;
    }
    if (req_server_dead(req)) {
        poll_fail(req, RPC_FAIL_DEAD);
        return;
    }
    req->poll_id = sim_after(sim, RPC_POLL_US, ev_poll, req);
}

/* The reply's fate once the handler answered and its server is alive: Go's draw order. */
static enum rpc_fail reply_fate(struct rpc_req *req)
{
    struct rpc_net *net = req->net;
    if (!req->reliable && sim_rand_below(&net->rand, 1000) < RPC_DROP_PERMILLE)
        return RPC_FAIL_DROP_REPLY;
    if (req->long_reordering && sim_rand_below(&net->rand, RPC_REORDER_DEN) < RPC_REORDER_NUM) {
        uint64_t span_ms = sim_rand_below(&net->rand, RPC_REORDER_SPAN_MS);
        uint64_t hold_ms = RPC_REORDER_BASE_MS + sim_rand_below(&net->rand, 1u + span_ms);
        req->held_us = SIM_MS(hold_ms);
    }
    /* The cut comes after the default draws so they do not depend on it. */
    if (req->end->reply_cut) return RPC_FAIL_REPLY_CUT;
    return RPC_FAIL_NONE;
}

void rpc_req_reply(struct rpc_req *req, const uint8_t *reply, size_t reply_len)
{
    struct rpc_net *net = req->net;
    struct sim *sim = net->sim;
    SIM_ASSERTF(sim, req->server_id, !req->answered, "call %llu answered twice",
                (unsigned long long)req->call_id);
    SIM_ASSERT(sim, req->server_id, req->handler_pending);
    SIM_ASSERT(sim, req->server_id, reply != NULL || reply_len == 0);
    req->answered = true;
    req->handler_pending = false;
    if (req->poll_id != 0) {
        sim_timer_cancel(sim, req->poll_id);
        req->poll_id = 0;
    }
    /* Already failed by the poll, or a duplicate: the reply goes nowhere. */
    if (req->done) {
        rpc_req_release_maybe(req); /* waits while the handler is still on the stack */
        return;
    }
    if (req_server_dead(req)) {
        req_complete_after(req, RPC_FAIL_DEAD, 0);
        return;
    }
    enum rpc_fail fail = reply_fate(req);
    if (fail == RPC_FAIL_NONE) {
        rpc_req_buf_set(net, &req->reply, &req->reply_cap, reply, reply_len);
        req->reply_len = reply_len;
    }
    req_complete_after(req, fail, fail == RPC_FAIL_NONE ? req->held_us : 0);
}

/* Go's Call up to the dispatcher: counts, snapshots the settings and schedules the first
 * step. The callback never runs inside this function. */
void rpc_end_call(struct rpc_end *end, const char *svc_meth, const uint8_t *args, size_t args_len,
                  rpc_reply_cb cb, void *ctx)
{
    struct rpc_net *net = end->net;
    struct sim *sim = net->sim;
    SIM_ASSERT(sim, end->node, svc_meth != NULL);
    SIM_ASSERT(sim, end->node, cb != NULL);
    SIM_ASSERT(sim, end->node, args != NULL || args_len == 0);
    size_t name_len = strnlen(svc_meth, RPC_SVC_METH_MAX);
    SIM_ASSERTF(sim, end->node, name_len < RPC_SVC_METH_MAX, "method name '%.40s...' too long",
                svc_meth);
    struct rpc_req *req = rpc_req_alloc(net);
    req->end = end;
    req->cb = cb;
    req->ctx = ctx;
    req->server_id = end->server_id;
    req->call_id = ++net->call_id_last;
    req->reliable = net->reliable;
    req->long_reordering = net->long_reordering;
    memcpy(req->svc_meth, svc_meth, name_len + 1u);
    if (net->cleaned_up) {
        /* Go's Call returns false before the dispatcher sees it: nothing is counted. */
        req_complete_after(req, RPC_FAIL_CLEANUP, 0);
        return;
    }
    rpc_req_buf_set(net, &req->args, &req->args_cap, args, args_len);
    req->args_len = args_len;
    net->total_count++;
    net->total_bytes += gob_size_rpc(args, args_len);
    int64_t v[SIM_TRACE_FIELDS_MAX] = {
        (int64_t)req->call_id, req->server_id, (int64_t)args_len, 0, 0, 0};
    sim_trace(sim, end->node, &rpc_kind_send, v, req->svc_meth);
    bool deliverable = end->enabled && !end->deleted && end->server_id >= 0 &&
                       net->servers[end->server_id] != NULL;
    if (!deliverable) {
        uint64_t limit_ms = net->long_delays ? RPC_UNDELIV_LONG_MS : RPC_UNDELIV_MS;
        req_complete_after(req, RPC_FAIL_UNDELIVERABLE,
                           SIM_MS(sim_rand_below(&net->rand, limit_ms)));
        return;
    }
    req->server = net->servers[end->server_id];
    sim_time_us delay_us = 0;
    if (!req->reliable) delay_us = SIM_MS(sim_rand_below(&net->rand, RPC_DELAY_SHORT_MS));
    delay_us += rpc_latency_draw(net, &net->latency_request);
    /* Extension draws come after the default ones, from their own stream. */
    if (net->delay_ext_permille > 0 &&
        sim_rand_below(&net->rand_ext, 1000) < net->delay_ext_permille)
        delay_us += SIM_MS(sim_rand_below(&net->rand_ext, net->delay_ext_ms_max));
    req->event_id = sim_after(sim, delay_us, ev_deliver, req);
}

/* ---------------------------------------------------------------- blocking form */

struct call_waiter {
    struct sim *sim;
    struct sim_task *task;
    bool want_reply;
    bool done;
    bool ok;
    uint8_t *reply;
    size_t reply_len;
};

static void waiter_cb(void *ctx, bool ok, const uint8_t *reply, size_t reply_len)
{
    struct call_waiter *w = ctx;
    SIM_ASSERT(w->sim, SIM_NODE_NONE, !w->done);
    w->done = true;
    w->ok = ok;
    if (ok && w->want_reply && reply_len > 0) {
        /* The caller keeps the reply past this callback, so it needs its own copy. */
        w->reply = malloc(reply_len);
        SIM_ASSERTF(w->sim, SIM_NODE_NONE, w->reply != NULL, "out of memory for a reply");
        memcpy(w->reply, reply, reply_len);
        w->reply_len = reply_len;
    }
    sim_task_wake(w->sim, w->task);
}

bool rpc_end_call_wait(struct rpc_end *end, const char *svc_meth, const uint8_t *args,
                       size_t args_len, uint8_t **reply, size_t *reply_len)
{
    struct sim *sim = end->net->sim;
    struct sim_task *task = sim_task_current(sim);
    SIM_ASSERTF(sim, end->node, task != NULL, "rpc_end_call_wait outside a task");
    struct call_waiter w = {.sim = sim, .task = task, .want_reply = reply != NULL};
    rpc_end_call(end, svc_meth, args, args_len, waiter_cb, &w);
    /* Only waiter_cb should wake us; a stray wake just parks again. */
    while (!w.done)
        sim_task_park(sim, SIM_TIMEOUT_NEVER);
    if (reply != NULL) *reply = w.reply;
    if (reply_len != NULL) *reply_len = w.reply_len;
    return w.ok;
}
