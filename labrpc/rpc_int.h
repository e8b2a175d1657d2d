/* rpc_int: labrpc's private structures, shared by the files of the module.
 *
 * Ownership: a `struct rpc_net` owns every end, server and request record it ever made, on
 * singly linked "owned" lists (ends, servers) and on the live / free lists (requests), and
 * frees them all in rpc_net_free. Nothing is freed earlier, so pointers held by handlers and
 * callers stay valid for the network's life.
 *
 * A request record (`struct rpc_req`) carries one call from send to outcome. Invariants:
 *  1. At most one of its deliver/complete events is pending at a time (event_id), plus at
 *     most one dead-server poll timer (poll_id) and at most one service event (serve_id, only
 *     while `queued`: delivered to a service with a service time, handler not yet run).
 *  2. `done` is set exactly once, when the caller's outcome is decided; the callback then runs
 *     in the next complete event and never again.
 *  3. A record goes back to the free list only when done, its handler is not queued, pending
 *     nor running, and no event of it is pending (rpc_req_release_maybe).
 */
#ifndef LABRPC_RPC_INT_H
#define LABRPC_RPC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "labrpc.h"

/* "Service.Method" plus its NUL. */
#define RPC_SVC_METH_MAX (2u * RPC_NAME_MAX)

struct rpc_method {
    char name[RPC_NAME_MAX];
    size_t name_len;
    rpc_handler_fn fn;
    void *receiver;
};

struct rpc_service {
    char name[RPC_NAME_MAX];
    size_t name_len;
    struct rpc_method methods[RPC_METHODS_MAX];
    uint32_t methods_count;
    rpc_service_time_fn service_time_fn; /* rpc_server_set_service_time; NULL = untimed */
    void *service_time_arg;
};

struct rpc_server {
    struct rpc_net *net;
    struct rpc_server *owned_next; /* the net's list of every server it made */
    struct rpc_service services[RPC_SERVICES_MAX];
    uint32_t services_count;
    uint64_t count;            /* requests that reached this server's handlers */
    sim_time_us busy_until_us; /* when the last request queued so far gets its handler */
};

struct rpc_end {
    struct rpc_net *net;
    struct rpc_end *owned_next; /* the net's list of every end it made */
    char name[RPC_NAME_MAX];
    int node;      /* sender node for traces, SIM_NODE_NONE by default */
    int server_id; /* -1 until rpc_net_connect */
    bool enabled;
    bool deleted;
    bool reply_cut; /* extension: replies on this end are lost */
};

/* Why a call failed; 0 means it succeeded. Values are traced, so never renumber. */
enum rpc_fail {
    RPC_FAIL_NONE = 0,
    RPC_FAIL_UNDELIVERABLE = 1, /* disabled/deleted end, not connected, no server */
    RPC_FAIL_DEAD = 2,          /* server deleted/replaced or end disabled meanwhile */
    RPC_FAIL_CLEANUP = 3,       /* rpc_net_cleanup was called */
    RPC_FAIL_DROP_REQUEST = 4,  /* unreliable: request lost, handler never ran */
    RPC_FAIL_DROP_REPLY = 5,    /* unreliable: reply lost after the handler ran */
    RPC_FAIL_REPLY_CUT = 6,     /* extension: one-way cut lost the reply */
};

struct rpc_req {
    struct rpc_net *net;
    struct rpc_req *prev; /* live list; unused on the free list */
    struct rpc_req *next; /* live list or free list */
    struct rpc_end *end;
    struct rpc_server *server;       /* the server at send time; NULL when undeliverable */
    const struct rpc_method *method; /* its handler, looked up once on arrival */
    rpc_reply_cb cb;                 /* NULL for a duplicate (nobody waits for it) */
    void *ctx;
    uint64_t call_id;
    sim_timer_id event_id; /* pending deliver or complete event, 0 when none */
    sim_timer_id poll_id;  /* pending dead-server poll, 0 when none */
    sim_timer_id serve_id; /* pending service-time handler run, 0 when none */
    sim_time_us held_us;   /* long-reordering hold of the reply */
    uint8_t *args;
    size_t args_len;
    size_t args_cap;
    uint8_t *reply;
    size_t reply_len;
    size_t reply_cap;
    int server_id;
    enum rpc_fail fail;   /* the decided outcome, read by the complete event */
    bool reliable;        /* network setting when sent; Go snapshots it too */
    bool long_reordering; /* same */
    bool queued;          /* arrived, waiting for its service's service time */
    bool handler_pending; /* handler ran and has not answered */
    bool in_handler;      /* the handler function is on the stack */
    bool answered;
    bool done;      /* the caller's outcome is decided */
    bool cb_called; /* the callback ran (ev_complete or rpc_net_fail_inflight) */
    bool dup;       /* an extension duplicate: its reply is discarded */
    bool live;      /* on the live list (not the free list) */
    char svc_meth[RPC_SVC_METH_MAX];
};

struct rpc_net {
    struct sim *sim;
    struct sim_rand rand;               /* "labrpc": the 6.824 draws, in Go's order */
    struct sim_rand rand_ext;           /* "labrpc.ext": extension draws only */
    struct sim_rand rand_hop;           /* "labrpc.hop": scheduling latencies (rpc_hop.c) */
    struct rpc_latency latency_request; /* send -> handler */
    struct rpc_latency latency_reply;   /* handler's answer (or failure) -> caller */
    struct rpc_server *servers[RPC_SERVER_ID_MAX];
    struct rpc_end *ends_owned;
    struct rpc_server *servers_owned;
    struct rpc_req *reqs_live; /* doubly linked, newest first */
    struct rpc_req *reqs_free; /* recycled records, buffers kept */
    size_t reqs_live_count;
    uint64_t call_id_last;
    uint64_t total_count;
    uint64_t total_bytes;
    uint32_t duplicate_permille;
    uint32_t delay_ext_permille; /* rpc_net_set_delay_ext */
    uint32_t delay_ext_ms_max;
    bool reliable;
    bool long_reordering;
    bool long_delays;
    bool cleaned_up;
};

/* rpc_req.c: the record pool. Alloc takes a record off the free list (or allocates one) and
 * puts it on the live list, reset; it asserts RPC_INFLIGHT_MAX. */
struct rpc_req *rpc_req_alloc(struct rpc_net *net);
/* Copies `len` bytes into a record buffer, growing it; asserts on OOM. */
void rpc_req_buf_set(struct rpc_net *net, uint8_t **buf, size_t *cap, const uint8_t *src,
                     size_t len);
/* Returns the record to the free list when invariant 3 allows it; otherwise does nothing. */
void rpc_req_release_maybe(struct rpc_req *req);
/* Cancels every pending event of every record and frees all records (rpc_net_free). */
void rpc_req_free_all(struct rpc_net *net);

/* rpc_hop.c: one draw of a latency from the "labrpc.hop" stream, in microseconds. */
sim_time_us rpc_latency_draw(struct rpc_net *net, const struct rpc_latency *lat);

/* rpc_server.c: finds the handler of "Service.Method", NULL when unknown; *service (when not
 * NULL) gets its service, or NULL. */
const struct rpc_method *rpc_server_find(const struct rpc_server *server, const char *svc_meth,
                                         const struct rpc_service **service);

#endif /* LABRPC_RPC_INT_H */
