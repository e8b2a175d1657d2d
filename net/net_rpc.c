/* net_rpc: labrpc's interface (labrpc/labrpc.h) over TCP, linked into the server instead of
 * labrpc's objects, so raft/ and kvraft/ call the same functions and get the same contract.
 *
 * What raft/ and kvraft/ rely on, and how it holds here:
 *  - rpc_end_call's callback runs exactly once, later, as a kernel event: with the reply, or
 *    with ok = false when the connection broke, the peer was unreachable (one connect attempt
 *    per NET_RECONNECT_US; calls meanwhile fail at once), the send queue was full, or no reply
 *    came within NET_CALL_TIMEOUT_US. That is labrpc's lost message; Raft already copes.
 *  - Handlers run as kernel events and answer once with rpc_req_reply, now or later;
 *    rpc_req_dead says the caller's connection is gone (a waiting KV handler gives up).
 *  - The end to the node itself calls the local server without a socket, through the same
 *    events, so proposing an op to one's own server and to a peer is one code path.
 * Peers: one outbound connection per peer end (requests out, replies in) and the inbound
 * connections accepted on the listener (requests in, replies out).
 *
 * Tables are bounded: NET_CALLS_MAX calls in flight (past it a call fails at once),
 * NET_INBOUND_MAX inbound connections (more are closed on accept). A call or an inbound
 * connection is named by (slot, generation), so a late reply or answer finds nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net_int.h"

struct rpc_method_ent {
    char name[NET_RPC_NAME_MAX]; /* "Service.Method" */
    size_t name_len;
    rpc_handler_fn fn;
    void *receiver;
};

struct rpc_server {
    struct rpc_net *net;
    struct rpc_method_ent methods[NET_RPC_METHODS_MAX];
    uint32_t methods_count;
};

struct rpc_end {
    struct rpc_net *net;
    int peer;
    bool self;
    bool conn_live; /* conn's handle is open (connecting or connected) */
    struct net_addr addr;
    struct net_conn conn;
    sim_time_us reconnect_at_us;
};

struct net_call {
    struct rpc_end *end;
    rpc_reply_cb cb;
    void *ctx;
    sim_timer_id timer;
    uint32_t gen;
    uint32_t conn_gen; /* the end's connection it went out on */
    uint32_t next_free;
    bool live;
};

/* A request being handled. */
struct rpc_req {
    struct rpc_net *net;
    uint64_t call_id;
    uint32_t conn_slot; /* inbound connection (not self) */
    uint32_t conn_gen;
    bool self;
};

/* A received message on its way to a kernel event. */
struct delivery {
    struct rpc_net *net;
    uint64_t call_id;
    uint32_t conn_slot;
    uint32_t conn_gen;
    bool self;
    const struct rpc_method_ent *method; /* requests */
    size_t len;
    uint8_t bytes[]; /* args or reply */
};

struct rpc_net {
    struct net_loop *loop;
    struct sim *sim;
    int self;
    int peers_count;
    uv_tcp_t listener;
    bool listening;
    bool shut;
    struct rpc_server server;
    struct rpc_end ends[NET_NODES_MAX];
    struct net_conn inbound[NET_INBOUND_MAX];
    bool inbound_used[NET_INBOUND_MAX];
    struct net_call calls[NET_CALLS_MAX];
    uint32_t calls_free; /* head of the free list, NET_CALLS_MAX when empty */
    uint64_t deliveries_pending;
    struct net_rpc_stats stats;
};

#define CALL_NONE NET_CALLS_MAX

static uint64_t call_id_of(const struct rpc_net *net, uint32_t slot)
{
    return ((uint64_t)net->calls[slot].gen << 32) | slot;
}

/* The live call named by id, or NULL. */
static struct net_call *call_find(struct rpc_net *net, uint64_t id)
{
    uint32_t slot = (uint32_t)(id & 0xffffffffu);
    if (slot >= NET_CALLS_MAX) return NULL;
    struct net_call *call = &net->calls[slot];
    if (!call->live || call->gen != (uint32_t)(id >> 32)) return NULL;
    return call;
}

static void call_finish(struct rpc_net *net, struct net_call *call, bool ok, const uint8_t *reply,
                        size_t len)
{
    SIM_ASSERT(net->sim, net->self, call->live);
    rpc_reply_cb cb = call->cb;
    void *ctx = call->ctx;
    if (call->timer != 0) sim_timer_cancel(net->sim, call->timer);
    call->timer = 0;
    call->live = false;
    call->gen++;
    uint32_t slot = (uint32_t)(call - net->calls);
    call->next_free = net->calls_free;
    net->calls_free = slot;
    if (ok)
        net->stats.calls_ok++;
    else
        net->stats.calls_failed++;
    cb(ctx, ok, reply, len);
}

static void ev_call_fail(struct sim *sim, void *arg)
{
    (void)sim;
    struct net_call *call = arg;
    call->timer = 0;
    call_finish(call->end->net, call, false, NULL, 0);
}

static void ev_call_timeout(struct sim *sim, void *arg)
{
    struct net_call *call = arg;
    (void)sim;
    call->end->net->stats.calls_timed_out++;
    ev_call_fail(sim, arg);
}

/* Makes the call fail in an event of its own, now. */
static void call_fail_soon(struct rpc_net *net, struct net_call *call)
{
    if (call->timer != 0) sim_timer_cancel(net->sim, call->timer);
    call->timer = sim_after(net->sim, 0, ev_call_fail, call);
}

/* ---------------------------------------------------------------- deliveries */

static struct delivery *delivery_new(struct rpc_net *net, const uint8_t *bytes, size_t len)
{
    struct delivery *d = malloc(sizeof(*d) + len);
    if (d == NULL) return NULL;
    memset(d, 0, sizeof(*d));
    d->net = net;
    d->len = len;
    if (len > 0) memcpy(d->bytes, bytes, len);
    net->deliveries_pending++;
    return d;
}

static void delivery_free(struct delivery *d)
{
    d->net->deliveries_pending--;
    free(d);
}

static void ev_reply(struct sim *sim, void *arg)
{
    (void)sim;
    struct delivery *d = arg;
    struct net_call *call = call_find(d->net, d->call_id);
    if (call != NULL) call_finish(d->net, call, true, d->bytes, d->len);
    delivery_free(d);
}

static void ev_request(struct sim *sim, void *arg)
{
    (void)sim;
    struct delivery *d = arg;
    struct rpc_net *net = d->net;
    struct rpc_req *req = calloc(1, sizeof(*req));
    if (req != NULL && !net->shut) {
        *req = (struct rpc_req){.net = net,
                                .call_id = d->call_id,
                                .conn_slot = d->conn_slot,
                                .conn_gen = d->conn_gen,
                                .self = d->self};
        net->stats.requests_handled++;
        d->method->fn(d->method->receiver, req, d->bytes, d->len);
    } else {
        free(req); /* the caller's timeout answers for us */
    }
    delivery_free(d);
}

static const struct rpc_method_ent *method_find(const struct rpc_server *server, const char *name,
                                                size_t name_len)
{
    for (uint32_t i = 0; i < server->methods_count; i++) {
        const struct rpc_method_ent *m = &server->methods[i];
        if (m->name_len == name_len && memcmp(m->name, name, name_len) == 0) return m;
    }
    return NULL;
}

/* ---------------------------------------------------------------- the labrpc interface */

int rpc_server_add_method(struct rpc_server *server, const char *service, const char *method,
                          rpc_handler_fn fn, void *receiver)
{
    if (server->methods_count >= NET_RPC_METHODS_MAX) return RPC_ELIMIT;
    struct rpc_method_ent *m = &server->methods[server->methods_count];
    int n = snprintf(m->name, sizeof(m->name), "%s.%s", service, method);
    if (n <= 0 || (size_t)n >= sizeof(m->name)) return RPC_ENAME;
    if (method_find(server, m->name, (size_t)n) != NULL) return RPC_EEXIST;
    m->name_len = (size_t)n;
    m->fn = fn;
    m->receiver = receiver;
    server->methods_count++;
    return RPC_OK;
}

static void end_on_close(struct net_conn *conn);
static void end_on_frame(struct net_conn *conn, const struct net_frame *frame);

/* Makes sure the end has a connection or a connect under way. false: not now (backoff). */
static bool end_connect(struct rpc_end *end)
{
    if (end->conn_live) return true;
    struct rpc_net *net = end->net;
    sim_time_us now_us = sim_now_us(net->sim);
    if (now_us < end->reconnect_at_us || net->shut) return false;
    end->reconnect_at_us = now_us + NET_RECONNECT_US;
    end->conn.owner = end;
    if (net_conn_connect(&end->conn, net->loop, &end->addr, end_on_frame, end_on_close) != NET_OK)
        return false;
    end->conn_live = true;
    net->stats.connects++;
    return true;
}

static void self_request(struct rpc_net *net, uint64_t id, const char *svc_meth,
                         const uint8_t *args, size_t args_len)
{
    const struct rpc_method_ent *m = method_find(&net->server, svc_meth, strlen(svc_meth));
    struct delivery *d = m != NULL ? delivery_new(net, args, args_len) : NULL;
    if (d == NULL) {
        call_fail_soon(net, call_find(net, id));
        return;
    }
    d->call_id = id;
    d->self = true;
    d->method = m;
    sim_after(net->sim, 0, ev_request, d);
}

/* A call the table has no room for: it fails, as a lost message, in an event of its own. */
struct overflow {
    rpc_reply_cb cb;
    void *ctx;
};

static void ev_overflow(struct sim *sim, void *arg)
{
    (void)sim;
    struct overflow *o = arg;
    o->cb(o->ctx, false, NULL, 0);
    free(o);
}

void rpc_end_call(struct rpc_end *end, const char *svc_meth, const uint8_t *args, size_t args_len,
                  rpc_reply_cb cb, void *ctx)
{
    struct rpc_net *net = end->net;
    if (net->calls_free == CALL_NONE) {
        /* A peer that stopped answering can pile calls up to the table's bound; past it calls
         * fail at once instead of growing without limit. */
        struct overflow *o = malloc(sizeof(*o));
        SIM_ASSERT(net->sim, net->self, o != NULL);
        *o = (struct overflow){.cb = cb, .ctx = ctx};
        net->stats.calls_failed++;
        sim_after(net->sim, 0, ev_overflow, o);
        return;
    }
    uint32_t slot = net->calls_free;
    struct net_call *call = &net->calls[slot];
    net->calls_free = call->next_free;
    call->live = true;
    call->end = end;
    call->cb = cb;
    call->ctx = ctx;
    call->timer = sim_after(net->sim, NET_CALL_TIMEOUT_US, ev_call_timeout, call);
    net->stats.calls_sent++;
    uint64_t id = call_id_of(net, slot);
    if (end->self) {
        self_request(net, id, svc_meth, args, args_len);
        return;
    }
    if (!end_connect(end)) {
        call_fail_soon(net, call);
        return;
    }
    call->conn_gen = end->conn.gen;
    struct net_frame frame = {.type = NET_FRAME_REQUEST,
                              .call_id = id,
                              .name = svc_meth,
                              .name_len = strlen(svc_meth),
                              .body = args,
                              .body_len = args_len};
    if (!net_conn_send(&end->conn, &frame)) {
        call_fail_soon(net, call);
        return;
    }
    net->stats.bytes_sent += args_len;
}

struct call_wait {
    struct sim *sim;
    struct sim_task *task;
    bool done;
    bool ok;
    uint8_t *reply;
    size_t reply_len;
};

static void wait_done(void *ctx, bool ok, const uint8_t *reply, size_t len)
{
    struct call_wait *w = ctx;
    w->done = true;
    w->ok = ok;
    if (ok && len > 0) {
        w->reply = malloc(len);
        if (w->reply != NULL) memcpy(w->reply, reply, len);
        w->ok = w->reply != NULL;
        w->reply_len = len;
    }
    sim_task_wake(w->sim, w->task);
}

bool rpc_end_call_wait(struct rpc_end *end, const char *svc_meth, const uint8_t *args,
                       size_t args_len, uint8_t **reply, size_t *reply_len)
{
    struct sim *sim = end->net->sim;
    struct call_wait w = {.sim = sim, .task = sim_task_current(sim)};
    SIM_ASSERT(sim, end->net->self, w.task != NULL);
    rpc_end_call(end, svc_meth, args, args_len, wait_done, &w);
    /* Bounded: the call completes by its timeout at the latest. */
    while (!w.done)
        sim_task_park(sim, SIM_TIMEOUT_NEVER);
    *reply = w.reply;
    *reply_len = w.ok ? w.reply_len : 0;
    return w.ok;
}

void rpc_req_reply(struct rpc_req *req, const uint8_t *reply, size_t reply_len)
{
    struct rpc_net *net = req->net;
    if (req->self) {
        struct delivery *d =
            call_find(net, req->call_id) != NULL ? delivery_new(net, reply, reply_len) : NULL;
        if (d != NULL) {
            d->call_id = req->call_id;
            sim_after(net->sim, 0, ev_reply, d);
        }
    } else if (!rpc_req_dead(req)) {
        struct net_frame frame = {
            .type = NET_FRAME_REPLY, .call_id = req->call_id, .body = reply, .body_len = reply_len};
        if (net_conn_send(&net->inbound[req->conn_slot], &frame))
            net->stats.bytes_sent += reply_len;
    }
    free(req);
}

bool rpc_req_dead(const struct rpc_req *req)
{
    struct rpc_net *net = req->net;
    if (net->shut) return true;
    if (req->self) return call_find(net, req->call_id) == NULL;
    const struct net_conn *conn = &net->inbound[req->conn_slot];
    return !net->inbound_used[req->conn_slot] || conn->gen != req->conn_gen || conn->closing;
}

/* ---------------------------------------------------------------- connections */

static void end_on_frame(struct net_conn *conn, const struct net_frame *frame)
{
    struct rpc_end *end = conn->owner;
    struct rpc_net *net = end->net;
    if (frame->type != NET_FRAME_REPLY) {
        net_conn_close(conn); /* requests come on inbound connections only */
        return;
    }
    net->stats.bytes_received += frame->body_len;
    if (call_find(net, frame->call_id) == NULL) return; /* timed out meanwhile */
    struct delivery *d = delivery_new(net, frame->body, frame->body_len);
    if (d == NULL) return;
    d->call_id = frame->call_id;
    sim_after(net->sim, 0, ev_reply, d);
}

static void end_on_close(struct net_conn *conn)
{
    struct rpc_end *end = conn->owner;
    struct rpc_net *net = end->net;
    uint32_t gen = conn->gen;
    conn->gen++;
    end->conn_live = false;
    /* Every call that went out on this connection has lost its reply. */
    for (uint32_t i = 0; i < NET_CALLS_MAX; i++) {
        struct net_call *call = &net->calls[i];
        if (call->live && call->end == end && call->conn_gen == gen) call_fail_soon(net, call);
    }
}

static void inbound_on_frame(struct net_conn *conn, const struct net_frame *frame)
{
    struct rpc_net *net = conn->owner;
    const struct rpc_method_ent *m = frame->type == NET_FRAME_REQUEST
                                         ? method_find(&net->server, frame->name, frame->name_len)
                                         : NULL;
    if (m == NULL) {
        net_conn_close(conn); /* not our protocol, or a method we do not serve */
        return;
    }
    net->stats.bytes_received += frame->body_len;
    struct delivery *d = delivery_new(net, frame->body, frame->body_len);
    if (d == NULL) return; /* the caller's timeout answers */
    d->call_id = frame->call_id;
    d->conn_slot = conn->slot;
    d->conn_gen = conn->gen;
    d->method = m;
    sim_after(net->sim, 0, ev_request, d);
}

static void inbound_on_close(struct net_conn *conn)
{
    struct rpc_net *net = conn->owner;
    conn->gen++;
    net->inbound_used[conn->slot] = false;
}

static void on_stray_closed(uv_handle_t *handle)
{
    free(handle);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct rpc_net *net = server->data;
    if (status != 0 || net->shut) return;
    for (uint32_t i = 0; i < NET_INBOUND_MAX; i++) {
        if (net->inbound_used[i]) continue;
        net->inbound_used[i] = true;
        net->inbound[i].owner = net;
        net->inbound[i].slot = i;
        if (net_conn_accept(&net->inbound[i], net->loop, server, inbound_on_frame,
                            inbound_on_close) != NET_OK)
            return; /* closing; inbound_on_close frees the slot */
        return;
    }
    /* Table full: take the connection and close it at once. */
    uv_tcp_t *stray = malloc(sizeof(*stray));
    if (stray == NULL || uv_tcp_init(server->loop, stray) != 0) {
        free(stray);
        return;
    }
    if (uv_accept(server, (uv_stream_t *)stray) != 0) {
        /* Closed below either way. */
    }
    uv_close((uv_handle_t *)stray, on_stray_closed);
}

static int listen_on(struct rpc_net *net, const struct net_addr *addr, char *err, size_t err_size)
{
    struct sockaddr_in sa;
    const char *host = strcmp(addr->host, "localhost") == 0 ? "127.0.0.1" : addr->host;
    if (uv_ip4_addr(host, addr->port, &sa) != 0) {
        snprintf(err, err_size, "bad Raft address %s:%u", addr->host, addr->port);
        return NET_EADDR;
    }
    uv_tcp_init(net->loop->uv, &net->listener);
    net->listener.data = net;
    net->listening = true;
    int rc = uv_tcp_bind(&net->listener, (const struct sockaddr *)&sa, 0);
    if (rc == 0) rc = uv_listen((uv_stream_t *)&net->listener, 128, on_connection);
    if (rc != 0) {
        snprintf(err, err_size, "cannot listen on %s:%u for Raft: %s", addr->host, addr->port,
                 uv_strerror(rc));
        return NET_EADDR;
    }
    return NET_OK;
}

struct rpc_net *net_rpc_new(struct net_loop *loop, const struct net_addr *peers, int peers_count,
                            int self, char *err, size_t err_size)
{
    struct rpc_net *net = calloc(1, sizeof(*net));
    if (net == NULL) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    net->loop = loop;
    net->sim = loop->sim;
    net->self = self;
    net->peers_count = peers_count;
    net->server.net = net;
    for (uint32_t i = 0; i < NET_CALLS_MAX; i++)
        net->calls[i].next_free = i + 1;
    net->calls_free = 0;
    for (int i = 0; i < peers_count; i++)
        net->ends[i] = (struct rpc_end){.net = net, .peer = i, .self = i == self, .addr = peers[i]};
    if (listen_on(net, &peers[self], err, err_size) != NET_OK) {
        net_rpc_shutdown(net);
        return net; /* the caller sees err set; it shuts down and frees after the loop ran */
    }
    err[0] = '\0';
    return net;
}

struct rpc_end *net_rpc_end(struct rpc_net *net, int peer)
{
    return &net->ends[peer];
}

struct rpc_server *net_rpc_server(struct rpc_net *net)
{
    return &net->server;
}

void net_rpc_flush(struct rpc_net *net)
{
    for (int i = 0; i < net->peers_count; i++)
        if (net->ends[i].conn_live) net_conn_flush(&net->ends[i].conn);
    for (uint32_t i = 0; i < NET_INBOUND_MAX; i++)
        if (net->inbound_used[i]) net_conn_flush(&net->inbound[i]);
}

void net_rpc_shutdown(struct rpc_net *net)
{
    if (net->shut) return;
    net->shut = true;
    if (net->listening) uv_close((uv_handle_t *)&net->listener, NULL);
    for (int i = 0; i < net->peers_count; i++)
        if (net->ends[i].conn_live) net_conn_close(&net->ends[i].conn);
    for (uint32_t i = 0; i < NET_INBOUND_MAX; i++)
        if (net->inbound_used[i]) net_conn_close(&net->inbound[i]);
}

void net_rpc_free(struct rpc_net *net)
{
    free(net);
}

void net_rpc_stats(const struct rpc_net *net, struct net_rpc_stats *out)
{
    *out = net->stats;
}
