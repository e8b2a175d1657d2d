/* net: the real-network mode. The same raft/ and kvraft/ object files as the simulation, run as
 * one process per node over TCP, with an HTTP/JSON API, a client, and files on disk.
 *
 * The seam (why the Raft and KV code need no #ifdef for this mode):
 *  - Time and timers: the process keeps the kernel's own event queue and tasks (src/sim.c and
 *    src/sim_task.c, unchanged in behaviour) and drives them from a libuv loop in real time
 *    (net_loop.c): a uv timer wakes at the next event's due time and sim_run_due, the kernel's
 *    one door for this driver, advances the virtual clock to the real monotonic time and runs
 *    what is due. Virtual time is real time since the process started. Real time enters the
 *    process only there; nothing under raft/ or kvraft/ reads it.
 *  - The network: labrpc's interface (labrpc/labrpc.h: ends, servers, requests) has a second
 *    implementation over TCP in net_rpc.c and net_conn.c, linked into the server instead of
 *    labrpc's objects. A call that gets no answer in NET_CALL_TIMEOUT_US, or whose connection
 *    breaks, fails as labrpc's lost message does (ok = false).
 *  - The persister: raft/raft.h's persister functions have a second implementation in
 *    net_persister.c, linked instead of raft/persister.c, writing raft/wal.h's write-ahead log
 *    to a real file (net_wal_disk.c).
 *  - Output commit: every byte a node sends (peer messages, HTTP replies) waits in a buffer
 *    until the end of the driver's turn, where the persister first writes and fsyncs whatever
 *    Raft saved during the turn. So many writes share one fsync (group commit), and no message
 *    ever leaves a node before the state it depends on is on disk.
 *
 * Files: net_loop.c (driver), net_conn.c (framed TCP connections), net_rpc.c (labrpc over TCP),
 * net_persister.c (the write-ahead log), net_wal_disk.c (its real files), net_http.c (HTTP server
 * connections), net_api.c (the routes), net_prop.c (proposing ops to the KV service), net_info.c
 * (cluster info between nodes), net_node.c (one node: start, run, shutdown), net_client.c (blocking
 * HTTP client), net_addr.c (host:port lists), main_raftkv.c and main_client.c (the two programs).
 * The mains live here, not in tools/, because tools/ is the labsim program and these link none of
 * its code.
 *
 * Public prefix net_. Errors: NET_* codes with net_strerror.
 */
#ifndef NET_H
#define NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../raft/raft.h"

#define NET_ERRNO_MAP(X)                                                                           \
    X(NET_OK, 0, "success")                                                                        \
    X(NET_ENOMEM, -1, "out of memory")                                                             \
    X(NET_EINVAL, -2, "invalid argument")                                                          \
    X(NET_EIO, -3, "input/output error")                                                           \
    X(NET_ECORRUPT, -4, "stored state is corrupt")                                                 \
    X(NET_EADDR, -5, "bad or unusable address")                                                    \
    X(NET_ETIMEDOUT, -6, "timed out")                                                              \
    X(NET_ECONN, -7, "connection failed")                                                          \
    X(NET_EPROTO, -8, "malformed reply")

enum net_err {
#define NET_ERR_ENUM(name, value, text) name = value,
    NET_ERRNO_MAP(NET_ERR_ENUM)
#undef NET_ERR_ENUM
};

/* Returns a static, never-NULL description of a NET_* code. */
const char *net_strerror(int err);

/* ---------------------------------------------------------------- addresses */

#define NET_HOST_MAX 64u
#define NET_NODES_MAX RAFT_PEERS_MAX

struct net_addr {
    char host[NET_HOST_MAX]; /* numeric IPv4 or "localhost" */
    uint16_t port;           /* 1..65535; 0 only where a listener may pick one */
};

/* Parses "host:port". NET_OK or NET_EADDR (err gets a one-line reason). */
int net_addr_parse(const char *text, struct net_addr *out, char *err, size_t err_size);
/* Parses "host:port,host:port,..." into at most `max` addresses. */
int net_addr_list_parse(const char *text, struct net_addr *out, int max, int *count, char *err,
                        size_t err_size);

/* ---------------------------------------------------------------- persister */

/* Opens (creating when missing) the node's write-ahead log "raft.wal" (raft/wal.h) in directory
 * `dir`, which must exist, and recovers it: a torn last record is cut off. On NET_OK *out holds
 * what was saved last (free with raft_persister_free). NET_ECORRUPT when the log does not check
 * out (a damaged record with intact ones after it, a bad header: err names the file and the
 * byte offset), NET_EIO when it cannot be read or repaired. */
int net_persister_open(const char *dir, struct raft_persister **out, char *err, size_t err_size);
/* Appends what raft_persister_save kept since the last sync as one record and fsyncs it
 * (compacting the log when it has grown). NET_OK (also when nothing changed) or NET_EIO (err
 * says which call failed on which file). */
int net_persister_sync(struct raft_persister *p, char *err, size_t err_size);
/* fsyncs done (files and directory) and bytes appended to the log (for /stats). */
uint64_t net_persister_syncs(const struct raft_persister *p);
uint64_t net_persister_bytes(const struct raft_persister *p);
/* What opening recovered: records replayed, bytes of torn tail cut off. */
void net_persister_recovery(const struct raft_persister *p, uint64_t *records,
                            uint64_t *torn_bytes);

/* ---------------------------------------------------------------- a node */

#define NET_HTTP_BODY_MAX (1u << 20) /* bytes in a request body; more is 413 */

struct net_node_config {
    int id;                               /* this node's index into peers */
    struct net_addr peers[NET_NODES_MAX]; /* Raft addresses of every node, this one included */
    int peers_count;
    struct net_addr http;             /* where the HTTP API listens */
    char data_dir[512];               /* existing directory for this node's files */
    int64_t maxraftstate;             /* snapshot threshold in bytes; <= 0: never */
    uint32_t http_request_timeout_ms; /* a request not fully read by then gets 408 */
    uint32_t op_timeout_ms;           /* a KV op not done by then gets 503 */
};

/* Fills the defaults (maxraftstate 1 MiB, request timeout 10 s, op timeout 3 s). */
void net_node_config_default(struct net_node_config *cfg);

/* Runs a node until SIGINT or SIGTERM; returns the process exit status (0 after a clean
 * shutdown). Logs one line to stderr when it serves, on each signal and when it stops; fatal
 * errors (address in use, corrupt state) are one line too, with status 1. */
int net_node_run(const struct net_node_config *cfg);

/* ---------------------------------------------------------------- HTTP client */

#define NET_REPLY_BODY_MAX (16u << 20)

struct net_reply {
    int status; /* HTTP status */
    char *body; /* malloc'd, NUL-terminated; the caller frees it */
    size_t body_len;
    uint32_t retry_after_s; /* Retry-After, 0 when absent */
};

/* One request on a new connection, blocking, the whole exchange bounded by timeout_ms. body
 * may be NULL. NET_OK (any status), NET_ECONN, NET_ETIMEDOUT or NET_EPROTO. On NET_OK the
 * reply's body is the caller's. */
int net_http_call(const struct net_addr *addr, const char *method, const char *path,
                  const char *body, size_t body_len, uint32_t timeout_ms, struct net_reply *reply);

/* Percent-encodes a key for a URL path into out (NUL-terminated); false when it does not fit. */
bool net_key_escape(const char *key, char *out, size_t out_size);

#endif /* NET_H */
