/* kvraft: a fault-tolerant key/value service on Raft (6.824 lab 4A-4B): the server and the
 * clerk.
 *
 * This header is the whole contract between a kvraft implementation and the graded suites. A
 * student grades their own server and clerk with `make grade KVRAFT_IMPL="server.c client.c"`
 * (on our Raft, or on theirs with RAFT_IMPL too; see the README). Their files include this
 * header as "kvraft.h" and implement every function of the "errors", "server" and "clerk"
 * parts. The "introspection" part is used only by this project's Check unit suites, which
 * always link our kvraft/ (they also test its internals, kv_int.h); `make grade` never calls
 * it, so a student's kvraft need not define it.
 *
 * The server (Go's StartKVServer) makes its own Raft with raft_make and registers both its
 * "KVServer.Get/Put/Append" methods and the Raft's "Raft.*" methods on one struct rpc_server,
 * so both services share one endpoint. Every operation, Gets included, goes through the Raft
 * log as a labgob-encoded op (client id, sequence number, kind, key, value). A Put or Append
 * is applied at most once per (client id, sequence number); a handler answers only after its
 * op was applied while the server was still leader of the term it started in, and answers
 * ErrWrongLeader when the term moves on, leadership is lost or a timeout passes, so the clerk
 * retries elsewhere. With maxraftstate > 0 the server snapshots (store + duplicate table) as
 * soon as the Raft state reaches maxraftstate bytes, and restores from the persister's
 * snapshot at start and from installed snapshots.
 *
 * The server is event-driven (it runs inside sim events); the clerk is straight-line blocking
 * code and may be called only from inside a sim task.
 *
 * Timing model: the server spends no virtual time of its own; it answers as soon as its op is
 * applied. The CPU time of serving client requests is modelled by the environment: the kv
 * harness gives each server's "KVServer" service a service time (rpc_server_set_service_time:
 * Go's measured cost, 40 us plus 13 ns per byte of persisted state; see tests/kvraft/kv_cfg.c), so
 * labrpc hands the server its client requests one at a time; Raft's RPCs are not delayed. The
 * model lives in the harness and network, not here, so that a server under test (a student's,
 * built against this header) cannot buy speed by skipping it.
 *
 * Ownership: the caller (the harness) owns the persister, the ends and the rpc_server; a
 * server borrows them for its life. A clerk copies the array of ends and borrows the ends.
 */
#ifndef KVRAFT_H
#define KVRAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../labrpc/labrpc.h"
#include "../raft/raft.h"
#include "../src/sim.h"

#define KV_SERVERS_MAX RAFT_PEERS_MAX
#define KV_KEY_MAX 4096u          /* bytes in a key */
#define KV_VALUE_MAX (8u << 20)   /* bytes in one stored value */
#define KV_KEYS_MAX (1u << 20)    /* distinct keys in one store */
#define KV_CLIENTS_MAX (1u << 16) /* clients remembered in the duplicate table */

/* ---------------------------------------------------------------- errors */

#define KV_ERRNO_MAP(X)                                                                            \
    X(KV_OK, 0, "success")                                                                         \
    X(KV_ENOMEM, -1, "out of memory")                                                              \
    X(KV_EINVAL, -2, "invalid argument")                                                           \
    X(KV_ELIMIT, -3, "key, value or table too large")                                              \
    X(KV_EDECODE, -4, "malformed encoded op, reply or snapshot")                                   \
    X(KV_ERPC, -5, "could not register the RPC methods")

enum kv_err {
#define KV_ERR_ENUM(name, value, text) name = value,
    KV_ERRNO_MAP(KV_ERR_ENUM)
#undef KV_ERR_ENUM
};

/* Returns a static, never-NULL description of a KV_* code. */
const char *kv_strerror(int err);

struct kv_server;
struct kv_clerk;

/* ---------------------------------------------------------------- server */

/* Go's StartKVServer(servers, me, persister, maxraftstate): restores the store from the
 * persister's snapshot (if any), makes the Raft on `ends` (ends[me] unused) and registers the
 * "KVServer.*" and "Raft.*" methods on `server`. maxraftstate < 0 (or 0) disables snapshots.
 * On success *out is the new server (free it with kv_server_free after the run) and KV_OK is
 * returned; otherwise KV_ENOMEM, KV_EINVAL, KV_EDECODE (the persisted snapshot is malformed)
 * or KV_ERPC, and nothing is left allocated. */
int kv_server_start(struct sim *sim, struct rpc_end *const *ends, int ends_count, int me,
                    struct raft_persister *persister, int64_t maxraftstate,
                    struct rpc_server *server, struct kv_server **out);

/* Go's Kill(): kills the Raft and stops acting. Pending handlers are answered (their server is
 * dead by now, so labrpc drops the replies). The object stays allocated until kv_server_free
 * because events in flight may still name it. */
void kv_server_kill(struct kv_server *kv);

/* Frees a killed server and its Raft. Call only when no event of its sim can reach it any
 * more (after the run). */
void kv_server_free(struct kv_server *kv);

/* The server's Raft (the harness asks it for GetState). */
struct raft *kv_server_raft(const struct kv_server *kv);

/* ---------------------------------------------------------------- clerk */

/* Go's MakeClerk(servers): a clerk talking to `ends_count` servers through `ends` (the array
 * is copied, the ends borrowed). The clerk makes its own client id, the name the servers'
 * duplicate tables know it by, as Go's clerk does with nrand(): take it from sim_nrand(sim)
 * (62 random bits from the sim's seed, so ids of one run never collide in practice and a
 * replay draws the same ones), never from a counter of your own or the wall clock. NULL on
 * OOM or bad arguments. */
struct kv_clerk *kv_clerk_new(struct sim *sim, struct rpc_end *const *ends, int ends_count);
/* Frees the clerk. It must not be inside a call (no task parked in kv_clerk_*). */
void kv_clerk_free(struct kv_clerk *ck);

/* The blocking operations (from a sim task only). They retry (wrong leader, timeout, lost
 * request or reply) until a server answers, starting with the server that answered last, so
 * they return only once the op has taken effect; they never give up.
 *
 * kv_clerk_get returns a malloc'd NUL-terminated copy of the value ("" for a missing key),
 * which the caller frees, or NULL on OOM (or when the key is too long). kv_clerk_put and
 * kv_clerk_append return KV_OK, KV_EINVAL (key or value too long for the wire) or KV_ELIMIT
 * (the servers refused the op because the value or store would exceed its bounds; every
 * server refuses it alike, so the op then had no effect). */
char *kv_clerk_get(struct kv_clerk *ck, const char *key);
int kv_clerk_put(struct kv_clerk *ck, const char *key, const char *value);
int kv_clerk_append(struct kv_clerk *ck, const char *key, const char *value);

/* The client id the clerk made for itself (the harness traces it as "kvcfg.clerk"). */
uint64_t kv_clerk_id(const struct kv_clerk *ck);

/* ---------------------------------------------------------------- introspection */

/* Our kvraft only (the unit suites); see the top of this file. */

/* The last applied log index, the number of keys stored, the number of snapshots taken and
 * installed, and the number of Put/Append ops that arrived through the log as duplicates and
 * were therefore not applied again. */
struct kv_server_stats {
    uint64_t applied_index;
    uint64_t keys_count;
    uint64_t snapshots_taken;
    uint64_t snapshots_installed;
    uint64_t duplicates_skipped;
};
void kv_server_stats(const struct kv_server *kv, struct kv_server_stats *out);
/* True once kv_server_kill was called. */
bool kv_server_killed(const struct kv_server *kv);
/* Index (into the clerk's ends array) of the server the clerk will try first. */
int kv_clerk_leader(const struct kv_clerk *ck);
/* RPCs the clerk has sent so far (every attempt of every op). */
uint64_t kv_clerk_calls(const struct kv_clerk *ck);

#endif /* KVRAFT_H */
