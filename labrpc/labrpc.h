/* labrpc: the simulated network of 6.824's labrpc, in virtual time.
 *
 * A network holds client ends (one-way channels a caller sends requests on), servers (each
 * with services holding named methods, "Raft.AppendEntries") and the fault settings. Every
 * semantic and probability of lab-tests.md section 4 is kept, with the random draws in the
 * same order: unreliable short delay 0-26 ms, 10% request drop, handler, 10% reply drop, long
 * reordering (2/3 of replies held 200 + U[0, U[0, 2000]] ms); an undeliverable request fails
 * after 0-6999 ms (long delays) or 0-99 ms. All draws come from the "labrpc" stream.
 *
 * Calls complete as events: the reply callback runs with ok=false on any failure. A handler
 * may answer at once or later (the KV server waits for Raft); while it has not answered the
 * network checks every 100 ms whether the server died (end disabled, server deleted or
 * replaced), and if so fails the call. A reply from a dead server is never delivered.
 *
 * Reliable is not instantaneous. In Go every request and every handler runs in a goroutine of
 * its own, so even reliable RPCs take a little time and reorder. Each request therefore takes
 * a random scheduling latency from send to handler, and each outcome one from the handler's
 * answer (or the failure) to the caller, drawn from the "labrpc.hop" stream out of measured
 * distributions (rpc_hop.c), on top of the 6.824 delays. Every message advances virtual time,
 * so a Raft that answers every message with another cannot stop the clock.
 *
 * As in Go, a request whose server dies or is disconnected while the request is on its way is
 * still handed to that server's handler (Go's dispatcher already holds the server); only the
 * reply is lost. Receivers registered with rpc_server_add_method must therefore stay valid
 * until the network is freed, also after their server was deleted.
 *
 * Ownership: the network owns ends, servers and in-flight requests; all are freed by
 * rpc_net_free. Servers and services are attached with rpc_net_add_server and stay alive until
 * the network is freed even after rpc_net_delete_server, so late replies from a killed
 * server's events are harmless.
 */
#ifndef LABRPC_H
#define LABRPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../src/sim.h"

#define RPC_SERVICES_MAX 4u
#define RPC_METHODS_MAX 16u
#define RPC_NAME_MAX 48u
#define RPC_INFLIGHT_MAX (1u << 20)

#define RPC_ERRNO_MAP(X)                                                                           \
    X(RPC_OK, 0, "success")                                                                        \
    X(RPC_ENOMEM, -1, "out of memory")                                                             \
    X(RPC_ELIMIT, -2, "too many services, methods or calls in flight")                             \
    X(RPC_ENAME, -3, "name too long or malformed")                                                 \
    X(RPC_EEXIST, -4, "name already registered")                                                   \
    X(RPC_ERANGE, -5, "setting out of range")

enum rpc_err {
#define RPC_ERR_ENUM(name, value, text) name = value,
    RPC_ERRNO_MAP(RPC_ERR_ENUM)
#undef RPC_ERR_ENUM
};

const char *rpc_strerror(int err);

struct rpc_net;
struct rpc_end;
struct rpc_server;
struct rpc_req;

/* ---------------------------------------------------------------- network */

/* Creates a network on `sim`: reliable, no long delays, no long reordering. NULL on OOM. */
struct rpc_net *rpc_net_new(struct sim *sim);
void rpc_net_free(struct rpc_net *net);
struct sim *rpc_net_sim(const struct rpc_net *net);

/* Go's Cleanup: every later call fails at once and no reply is delivered any more. */
void rpc_net_cleanup(struct rpc_net *net);
/* At the end of a run (no event will run again): cleans up, then runs the callback, with
 * ok=false, of every call whose callback has not run, so every caller frees its per-call
 * context and a leak check of a correct implementation is clean. Call it while the callers'
 * contexts are still valid, before freeing their owners; rpc_net_free itself runs no
 * callback. Handlers still holding a request are not told (their reply would go nowhere). */
void rpc_net_fail_inflight(struct rpc_net *net);

void rpc_net_set_reliable(struct rpc_net *net, bool reliable);
void rpc_net_set_long_reordering(struct rpc_net *net, bool on);
void rpc_net_set_long_delays(struct rpc_net *net, bool on);
bool rpc_net_reliable(const struct rpc_net *net);

/* Extensions beyond 6.824, off by default and drawing from their own stream ("labrpc.ext"),
 * so turning them on never changes the draws of the default mix. Duplication: a delivered
 * request runs the handler a second time with probability permille/1000 (the second reply is
 * discarded). */
void rpc_net_set_duplicate_permille(struct rpc_net *net, uint32_t permille);
/* Long delays (the explorer's reordering): a deliverable request is held an extra U[0,
 * delay_ms_max) ms before delivery with probability permille/1000, so it arrives after later
 * ones. permille 0 turns it off. RPC_ERANGE when permille > 1000 or delay_ms_max is 0 or more
 * than RPC_DELAY_EXT_MS_MAX while permille > 0 (nothing changes then). */
#define RPC_DELAY_EXT_MS_MAX 60000u
int rpc_net_set_delay_ext(struct rpc_net *net, uint32_t permille, uint32_t delay_ms_max);

/* A latency distribution: its quantiles in microseconds at the fixed probabilities
 * RPC_LATENCY_PPM (parts per million: p0, p10, p20, ..., p90, p99, p99.9, p100), non-
 * decreasing. A draw picks a uniform point of [0, 1e6) and interpolates linearly between the
 * two neighbouring quantiles: a piecewise-linear CDF in integers, the same in every build. */
#define RPC_LATENCY_POINTS 13u
#define RPC_LATENCY_PPM                                                                            \
    {                                                                                              \
        0, 100000, 200000, 300000, 400000, 500000, 600000, 700000, 800000, 900000, 990000, 999000, \
            1000000                                                                                \
    }
#define RPC_LATENCY_US_MAX SIM_S(1)
struct rpc_latency {
    sim_time_us quantile_us[RPC_LATENCY_POINTS];
};
/* Replaces the scheduling latencies (send -> handler, and answer or failure -> caller). NULL
 * keeps that one. RPC_ERANGE when quantiles decrease or exceed RPC_LATENCY_US_MAX. An
 * all-zero distribution makes delivery instantaneous, which only labrpc's own timing tests
 * should want. */
int rpc_net_set_latency(struct rpc_net *net, const struct rpc_latency *request,
                        const struct rpc_latency *reply);
/* The distributions rpc_net_new installs (measured from Go's labrpc; see rpc_hop.c). */
void rpc_latency_default(struct rpc_latency *request, struct rpc_latency *reply);

/* Ends. `name` is for traces only (the Go tester uses random strings). A new end is disabled
 * and not connected. The network owns the end. */
struct rpc_end *rpc_net_make_end(struct rpc_net *net, const char *name);
/* Removes the end: later calls on it fail as undeliverable. (The object stays valid.) */
void rpc_net_delete_end(struct rpc_net *net, struct rpc_end *end);
/* Binds the end to a server id, once for the end's life. */
void rpc_net_connect(struct rpc_net *net, struct rpc_end *end, int server_id);
void rpc_net_enable(struct rpc_net *net, struct rpc_end *end, bool enabled);
/* Extension: a one-way cut; requests are delivered and handled but the reply is lost. */
void rpc_end_set_reply_cut(struct rpc_end *end, bool cut);
const char *rpc_end_name(const struct rpc_end *end);
/* The node that owns and sends on the end; traces stamp its send/reply/fail events with it.
 * Default SIM_NODE_NONE. */
void rpc_end_set_node(struct rpc_end *end, int node);

/* Servers. Server ids are small non-negative ints chosen by the caller. Adding a server
 * under an id that already has one replaces it (the old one is then "dead" to its calls). */
#define RPC_SERVER_ID_MAX 64
void rpc_net_add_server(struct rpc_net *net, int server_id, struct rpc_server *server);
void rpc_net_delete_server(struct rpc_net *net, int server_id);

/* Counts: requests that reached server `server_id`'s handlers (GetCount), all requests sent
 * (GetTotalCount), and request bytes sent plus reply bytes delivered (GetTotalBytes). Bytes
 * are what Go's gob would send for the same labgob message (gob_size_rpc: type descriptors
 * per call, as labrpc's new encoder per call sends them), so the lab's byte limits mean what
 * they mean in Go; bytes that are not a labgob message count as their length. */
uint64_t rpc_net_count(const struct rpc_net *net, int server_id);
uint64_t rpc_net_total_count(const struct rpc_net *net);
uint64_t rpc_net_total_bytes(const struct rpc_net *net);
/* Requests the network still holds: calls whose outcome has not been delivered yet, plus
 * handler runs that have not answered (a killed server's stuck handler stays counted until it
 * answers or the network is freed). */
size_t rpc_net_inflight(const struct rpc_net *net);

/* ---------------------------------------------------------------- servers and services */

/* A handler gets the receiver given at rpc_server_add_method, the request and the encoded
 * arguments (borrowed until the handler returns). It must answer exactly once with
 * rpc_req_reply, now or later; it may also never answer if its server dies. */
typedef void (*rpc_handler_fn)(void *receiver, struct rpc_req *req, const uint8_t *args,
                               size_t args_len);

/* Creates a server owned by `net` (freed with it). NULL on OOM. */
struct rpc_server *rpc_server_new(struct rpc_net *net);
/* Registers "service.method" with its receiver. Returns RPC_OK, RPC_ELIMIT, RPC_ENAME or
 * RPC_EEXIST. */
int rpc_server_add_method(struct rpc_server *server, const char *service, const char *method,
                          rpc_handler_fn fn, void *receiver);
/* Requests that reached this server's handlers. */
uint64_t rpc_server_count(const struct rpc_server *server);

/* Service time, chosen by a harness (never by the code under test): the CPU time a server
 * spends on each request of one of its services before the handler runs, for work whose real
 * cost the simulation would otherwise not charge (the KV harness times "KVServer" with Go's
 * measured per-request cost; see tests/kvraft/kv_cfg.c). `fn(arg)` is asked once per arriving
 * request and its answer is capped at RPC_SERVICE_US_MAX. Requests of timed services share
 * one queue per server: each handler runs at max(arrival, the previous timed request's handler
 * run) + its service time, in arrival order; untimed services (Raft's) are not delayed. A
 * queued request is watched by the 100 ms dead-server poll and fails when its server dies
 * (its handler then never runs); no random number is drawn. fn NULL removes the timing.
 * RPC_OK, or RPC_ENAME when `service` has no method registered yet. */
#define RPC_SERVICE_US_MAX SIM_S(1)
typedef sim_time_us (*rpc_service_time_fn)(void *arg);
int rpc_server_set_service_time(struct rpc_server *server, const char *service,
                                rpc_service_time_fn fn, void *arg);

/* Answers a request; the reply bytes are copied. Answering twice is a programmer error
 * (asserted). After the call the req pointer must not be used. */
void rpc_req_reply(struct rpc_req *req, const uint8_t *reply, size_t reply_len);
/* True when the request's server was deleted/replaced or its end disabled: a handler that is
 * still waiting may give up (its reply would not be delivered anyway). */
bool rpc_req_dead(const struct rpc_req *req);

/* ---------------------------------------------------------------- calls */

/* Completion of a call. ok=false: dropped, undeliverable, server dead, or network cleaned up.
 * The reply bytes are borrowed for the duration of the callback. */
typedef void (*rpc_reply_cb)(void *ctx, bool ok, const uint8_t *reply, size_t reply_len);

/* Sends "service.method" with the encoded args (copied) and returns at once; `cb(ctx, ...)`
 * runs exactly once, later: as an event, or, for a call still in flight when the run ends,
 * from rpc_net_fail_inflight (the harnesses call it). Never fails: resource exhaustion is
 * asserted. */
void rpc_end_call(struct rpc_end *end, const char *svc_meth, const uint8_t *args, size_t args_len,
                  rpc_reply_cb cb, void *ctx);

/* The blocking form for tasks: sends and parks the current task until the outcome. On true,
 * *reply (malloc'd, caller frees; may be NULL when empty) and *reply_len hold the reply. */
bool rpc_end_call_wait(struct rpc_end *end, const char *svc_meth, const uint8_t *args,
                       size_t args_len, uint8_t **reply, size_t *reply_len);

#endif /* LABRPC_H */
