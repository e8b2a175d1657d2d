/* net_int: the inside of the real-network mode, shared by the files of net/ only.
 *
 * One process runs one node: one uv loop, one struct sim (the kernel, driven in real time),
 * one struct rpc_net (labrpc's interface over TCP), one persister, one kv_server, one HTTP
 * server. All of them run on the loop's single thread; nothing here takes a lock.
 *
 * Objects that outlive a connection (a request a handler still holds, an HTTP reply still
 * being computed) name it by a reference (slot index + generation) into a bounded table, never
 * by pointer: a closed connection's slot gets a new generation, so late answers find nothing.
 */
#ifndef NET_INT_H
#define NET_INT_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "../kvraft/kvraft.h"
#include "../labrpc/labrpc.h"
#include "../raft/wal.h"
#include "../src/sim.h"
#include "net.h"

/* ---------------------------------------------------------------- the driver (net_loop.c) */

#define NET_LOOP_EVENTS_PER_TURN 4096u /* kernel events run per turn before I/O gets a look */

typedef void (*net_flush_fn)(void *arg);

struct net_loop {
    uv_loop_t *uv;
    struct sim *sim;
    uv_timer_t timer;  /* wakes at the next event's due time */
    uv_check_t check;  /* after each poll: runs what I/O made due */
    uint64_t start_ns; /* uv_hrtime at start: virtual time 0 */
    net_flush_fn flush;
    void *flush_arg;
    bool in_turn;
};

/* Sets up the driver on `uv` for `sim`. flush(arg) runs at the end of every turn (output
 * commit: sync the persister, then write). */
int net_loop_init(struct net_loop *loop, uv_loop_t *uv, struct sim *sim, net_flush_fn flush,
                  void *arg);
/* Closes the driver's handles (the uv loop must then run to let them close). */
void net_loop_close(struct net_loop *loop);
/* Real monotonic time since net_loop_init, in microseconds. */
sim_time_us net_loop_now_us(const struct net_loop *loop);
/* One turn: run what is due, flush, re-arm the timer. Called by the driver's own handles; I/O
 * callbacks that schedule kernel events need not call it (the check handle does). */
void net_loop_turn(struct net_loop *loop);

/* ---------------------------------------------------------------- framed connections (net_conn.c)
 */

#define NET_FRAME_BYTES_MAX (64u << 20)       /* one message (a snapshot fits) */
#define NET_SEND_QUEUE_BYTES_MAX (128u << 20) /* bytes waiting on one connection */
#define NET_FRAME_HEADER_BYTES 15u            /* u32 len, u8 type, u64 call id, u16 name len */

enum net_frame_type { NET_FRAME_REQUEST = 1, NET_FRAME_REPLY = 2 };

struct net_frame {
    enum net_frame_type type;
    uint64_t call_id;
    const char *name; /* "Service.Method" (requests), not NUL-terminated */
    size_t name_len;
    const uint8_t *body;
    size_t body_len;
};

struct net_conn;
typedef void (*net_conn_frame_cb)(struct net_conn *conn, const struct net_frame *frame);
typedef void (*net_conn_close_cb)(struct net_conn *conn);

struct net_conn {
    uv_tcp_t tcp;
    uv_connect_t connect_req;
    struct net_loop *loop;
    void *owner;   /* the end (outbound) or the rpc_net (inbound) */
    uint32_t slot; /* index in the owner's table */
    uint32_t gen;  /* bumped when the slot is reused */
    bool connected;
    bool closing;
    uint8_t *in; /* received bytes not yet framed */
    size_t in_len;
    size_t in_cap;
    uint8_t *out; /* bytes queued, not yet handed to uv_write */
    size_t out_len;
    size_t out_cap;
    size_t writing; /* bytes inside uv_write requests */
    net_conn_frame_cb on_frame;
    net_conn_close_cb on_close;
};

/* Starts an outbound connection. NET_OK or NET_EADDR. on_close runs once, after the handle
 * closed (failed connect, reset, net_conn_close). */
int net_conn_connect(struct net_conn *conn, struct net_loop *loop, const struct net_addr *addr,
                     net_conn_frame_cb on_frame, net_conn_close_cb on_close);
/* Accepts from `server` into conn. NET_OK or NET_ECONN. */
int net_conn_accept(struct net_conn *conn, struct net_loop *loop, uv_stream_t *server,
                    net_conn_frame_cb on_frame, net_conn_close_cb on_close);
/* Queues a frame (sent at the next flush). false when the send queue is full or the frame is
 * too big: the message is dropped, as a lossy network would. */
bool net_conn_send(struct net_conn *conn, const struct net_frame *frame);
/* Hands the queued bytes to the kernel (the flush step). */
void net_conn_flush(struct net_conn *conn);
void net_conn_close(struct net_conn *conn);

/* ---------------------------------------------------------------- labrpc over TCP (net_rpc.c) */

#define NET_CALL_TIMEOUT_US SIM_MS(1500) /* a call with no answer by then fails */
#define NET_RECONNECT_US SIM_MS(100)     /* no new connect attempt to a peer before this */
#define NET_CALLS_MAX (1u << 16)         /* calls in flight; past it a call fails at once */
#define NET_INBOUND_MAX 64u              /* accepted peer connections at once */
#define NET_RPC_METHODS_MAX 32u
#define NET_RPC_NAME_MAX 64u

struct net_rpc_stats {
    uint64_t calls_sent;
    uint64_t calls_ok;
    uint64_t calls_failed;
    uint64_t calls_timed_out;
    uint64_t requests_handled;
    uint64_t bytes_sent;
    uint64_t bytes_received;
    uint64_t connects;
};

/* Makes the process's network: a listener on `listen_addr` and one end per peer (ends[self]
 * calls this process's own server without a socket). NULL with err filled on failure. */
struct rpc_net *net_rpc_new(struct net_loop *loop, const struct net_addr *peers, int peers_count,
                            int self, char *err, size_t err_size);
/* The end to peer i, and the one server of this process. */
struct rpc_end *net_rpc_end(struct rpc_net *net, int peer);
struct rpc_server *net_rpc_server(struct rpc_net *net);
/* Stops accepting and closes every connection; calls in flight fail. */
void net_rpc_shutdown(struct rpc_net *net);
/* Frees what is left after the loop ran the closes. */
void net_rpc_free(struct rpc_net *net);
/* The flush step: every connection's queued bytes go out. */
void net_rpc_flush(struct rpc_net *net);
void net_rpc_stats(const struct rpc_net *net, struct net_rpc_stats *out);

/* ---------------------------------------------------------------- HTTP server (net_http.c) */

#define NET_HTTP_CONNS_MAX 512u
#define NET_HTTP_URL_MAX 8192u
#define NET_HTTP_HEADER_BYTES_MAX 16384u /* all header names and values; more is 431 */
#define NET_HTTP_IDLE_US SIM_S(60)       /* a keep-alive connection idle this long is closed */
#define NET_HTTP_SWEEP_US SIM_MS(250)

/* A request being answered: which connection and which of its requests. */
struct net_http_ref {
    uint32_t slot;
    uint32_t gen;
};

struct net_http_request {
    struct net_http_ref ref;
    const char *method; /* "GET", ... */
    const char *path;   /* raw path, without the query */
    const uint8_t *body;
    size_t body_len;
    sim_time_us started_us;
};

struct net_http;
struct net_node;
/* Handles a complete request; the request's strings are borrowed until the call returns. It
 * answers with net_http_respond now or later. */
typedef void (*net_http_handler_fn)(struct net_node *node, const struct net_http_request *req);

struct net_http *net_http_new(struct net_loop *loop, const struct net_addr *addr,
                              uint32_t request_timeout_ms, net_http_handler_fn handler,
                              struct net_node *node, char *err, size_t err_size);
/* Answers (if the connection is still there): status, a JSON body, and an optional extra
 * header line ("Retry-After: 1", "Allow: GET, PUT"; NULL for none). The body is copied. */
void net_http_respond(struct net_http *http, struct net_http_ref ref, int status,
                      const char *extra_header, const char *body, size_t body_len);
/* True when the request can still be answered (the client did not go away). */
bool net_http_alive(const struct net_http *http, struct net_http_ref ref);
/* Stops accepting new connections and new requests (these get 503 and are closed). */
void net_http_stop_accepting(struct net_http *http);
/* Requests read and not yet answered. */
uint32_t net_http_in_flight(const struct net_http *http);
void net_http_flush(struct net_http *http);
void net_http_close(struct net_http *http);
void net_http_free(struct net_http *http);
/* The address the server listens on (its port is the real one when 0 was asked). */
struct net_addr net_http_addr(const struct net_http *http);
uint64_t net_http_connections(const struct net_http *http);

/* ---------------------------------------------------------------- ops on the service (net_prop.c)
 */

#define NET_SLOTS_MAX 256u /* ops in flight from one node; each slot is one KV client id */
#define NET_PASS_SLEEP_US SIM_MS(50)

enum net_op_kind { NET_OP_GET = 0, NET_OP_PUT = 1, NET_OP_APPEND = 2 };

/* How an op ended. */
enum net_op_result {
    NET_OP_DONE = 0,  /* applied; a get has its value (found or not) */
    NET_OP_NO_LEADER, /* the deadline passed before any leader took it (it may still apply) */
    NET_OP_BUSY,      /* no free slot: not sent */
    NET_OP_TOO_BIG,   /* the store refused it (value or store over its bound) */
    NET_OP_BAD,       /* the service could not decode it */
};

/* found: a get found a non-empty value (value/value_len borrowed for the call). */
typedef void (*net_op_done_cb)(void *ctx, enum net_op_result result, bool found,
                               const uint8_t *value, size_t value_len);

struct net_prop;
struct net_prop *net_prop_new(struct sim *sim, struct rpc_net *net, int peers_count, int self);
void net_prop_free(struct net_prop *prop);
/* Runs an op through the service: tries the last node that answered as leader first, then the
 * others (a follower's local server answers ErrWrongLeader; the op is then sent to a peer over
 * the Raft connections, so every node proxies), pausing NET_PASS_SLEEP_US after a full pass,
 * until done or `timeout_us` passed. Key and value are copied. cb runs exactly once, in a later
 * kernel event. */
void net_prop_submit(struct net_prop *prop, enum net_op_kind kind, const char *key, size_t key_len,
                     const uint8_t *value, size_t value_len, sim_time_us timeout_us,
                     net_op_done_cb cb, void *ctx);
/* The node that last answered as leader (-1 when none yet). */
int net_prop_leader(const struct net_prop *prop);
uint32_t net_prop_in_flight(const struct net_prop *prop);

/* ---------------------------------------------------------------- cluster info (net_info.c) */

#define NET_INFO_TIMEOUT_US SIM_MS(400)

/* Registers "Node.Info" on the server: a peer's status as JSON. */
int net_info_register(struct net_node *node, struct rpc_server *server);
/* Asks every node for its status and answers the HTTP request with /cluster/info. */
void net_info_cluster(struct net_node *node, struct net_http_ref ref);
/* This node's status as a JSON object (the caller decrefs). */
struct json_t;
struct json_t *net_info_self(const struct net_node *node);

/* ---------------------------------------------------------------- the node (net_node.c) */

#define NET_LATENCY_BUCKETS 64u /* log2 buckets of microseconds */

struct net_node_stats {
    uint64_t requests;
    uint64_t by_status[6]; /* 1xx..5xx; index 0 unused */
    uint64_t latency_us_hist[NET_LATENCY_BUCKETS];
    uint64_t ops_done;
    uint64_t ops_no_leader;
};

struct net_node {
    struct net_node_config cfg;
    uv_loop_t uv;
    struct net_loop loop;
    struct sim *sim;
    struct raft_persister *persister;
    struct rpc_net *rpc;
    struct kv_server *kv;
    struct net_prop *prop;
    struct net_http *http;
    uv_signal_t sigint;
    uv_signal_t sigterm;
    uv_timer_t drain_timer;
    struct net_node_stats stats;
    sim_time_us draining_since_us;
    bool uv_ready; /* uv loop initialised */
    bool draining;
    bool stopped;
    int exit_status;
};

/* net_api.c: the HTTP routes (the net_http_handler_fn of the node). */
void net_api_handle(struct net_node *node, const struct net_http_request *req);
/* Answers with {"error": msg} and, for 503, Retry-After. */
void net_api_error(struct net_node *node, struct net_http_ref ref, int status, const char *msg);
/* Records a response's status and latency in the node's stats. */
void net_node_count(struct net_node *node, int status, sim_time_us started_us);

/* One line to stderr: "raftkv[N]: <text>". */
void net_log(const struct net_node *node, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---------------------------------------------------------------- the WAL's disk (net_wal_disk.c)
 */

#define NET_WAL_FDS_MAX 2u    /* descriptors kept open: the log and its "<name>.tmp" */
#define NET_WAL_PATH_MAX 640u /* bytes of "<dir>/<name>", NUL included */

struct net_wal_fd {
    int fd; /* -1 when the slot is free */
    char name[WAL_NAME_MAX + 8];
};

/* raft/wal.h's disk on the real files of one directory (fsync, rename + directory fsync). */
struct net_wal_disk {
    char dir[NET_WAL_PATH_MAX - WAL_NAME_MAX];
    struct net_wal_fd fds[NET_WAL_FDS_MAX];
    uint64_t fsyncs;      /* fsyncs of files and of the directory, for /stats */
    char last_error[320]; /* the last failing call, its file and strerror */
};

/* Sets up the disk of directory `dir` (not opened or checked here). NET_EINVAL when the path is
 * too long. Close with net_wal_disk_close (closes the cached descriptors). */
int net_wal_disk_init(struct net_wal_disk *d, const char *dir);
void net_wal_disk_close(struct net_wal_disk *d);
/* The interface to hand to wal_open; borrows d, which must outlive the log. */
struct wal_disk net_wal_disk_iface(struct net_wal_disk *d);

#endif /* NET_INT_H */
