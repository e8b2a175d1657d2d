/* shardkv: the sharded key/value service of 6.5840 lab 5B: replica groups on Raft, each
 * serving the shards the shard controller's current configuration gives it; the server and
 * the clerk.
 *
 * A key lives in shard skv_key2shard(key) (its first byte mod SC_NSHARDS, 0 for ""), which
 * must be used unchanged. A group answers Get/Put/Append for the shards it owns and has the
 * data of, and ErrWrongGroup for every other. It learns configurations by polling the
 * controller and applies them through its own Raft log, one at a time and in order; a shard
 * that arrives in a configuration is pulled from its previous owner together with that
 * shard's duplicate table (so an operation is applied exactly once across a move), and once
 * the new owner has it the old owner deletes its copy. Shards untouched by a migration, and
 * those already received, keep being served while the rest of it is pending. With
 * maxraftstate > 0 a server snapshots once its Raft state reaches maxraftstate bytes.
 *
 * The server is event-driven, plus one task of its own (Go's background goroutine) that polls
 * the controller and moves shards; it ends when the server is killed. The clerk is blocking
 * code for sim tasks; like Go's it retries forever (100 ms and a fresh configuration after a
 * pass over the owning group without an answer).
 *
 * Server names: a configuration names servers by string; `make_end(arg, name)` (the harness's)
 * returns an end connected to that server, enabled. The returned end belongs to the harness;
 * a server or clerk may keep it for its life and call make_end once per name.
 *
 * Ownership: the harness owns persisters, ends and rpc_servers; a server borrows them. A clerk
 * copies the array of controller ends and borrows the ends.
 */
#ifndef SHARDKV_H
#define SHARDKV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../labrpc/labrpc.h"
#include "../raft/raft.h"
#include "../shardctrler/shardctrler.h"
#include "../src/sim.h"

#define SKV_SERVERS_MAX RAFT_PEERS_MAX
#define SKV_KEY_MAX 4096u             /* bytes in a key */
#define SKV_VALUE_MAX (8u << 20)      /* bytes in one stored value */
#define SKV_SHARD_KEYS_MAX (1u << 16) /* distinct keys in one shard */

#define SKV_ERRNO_MAP(X)                                                                           \
    X(SKV_OK, 0, "success")                                                                        \
    X(SKV_ENOMEM, -1, "out of memory")                                                             \
    X(SKV_EINVAL, -2, "invalid argument")                                                          \
    X(SKV_ELIMIT, -3, "key, value or shard too large")                                             \
    X(SKV_EDECODE, -4, "malformed encoded op, reply or snapshot")                                  \
    X(SKV_ERPC, -5, "could not register the RPC methods")

enum skv_err {
#define SKV_ERR_ENUM(name, value, text) name = value,
    SKV_ERRNO_MAP(SKV_ERR_ENUM)
#undef SKV_ERR_ENUM
};

/* Returns a static, never-NULL description of an SKV_* code. */
const char *skv_strerror(int err);

/* Go's key2shard: the first byte of key mod SC_NSHARDS; 0 for "". */
int skv_key2shard(const char *key);

/* The harness's make_end: an enabled end connected to the server named `name`. */
typedef struct rpc_end *(*skv_make_end_fn)(void *arg, const char *name);

struct skv_server;
struct skv_clerk;

/* ---------------------------------------------------------------- server */

/* Go's StartServer(servers, me, persister, maxraftstate, gid, ctrlers, make_end): restores
 * from the persister's snapshot, makes the Raft on `ends` (ends[me] unused), registers the
 * "ShardKV.*" and "Raft.*" methods on `server` and starts the server's task. Returns at once.
 * maxraftstate <= 0 disables snapshots. SKV_OK with *out set (free it with skv_server_free
 * after the run), or SKV_ENOMEM, SKV_EINVAL, SKV_EDECODE or SKV_ERPC with nothing left. */
int skv_server_start(struct sim *sim, struct rpc_end *const *ends, int ends_count, int me,
                     struct raft_persister *persister, int64_t maxraftstate, int gid,
                     struct rpc_end *const *ctrlers, int ctrlers_count, skv_make_end_fn make_end,
                     void *make_end_arg, struct rpc_server *server, struct skv_server **out);
/* Go's Kill(): kills the Raft, stops acting and ends the task (after its current call). */
void skv_server_kill(struct skv_server *kv);
/* Frees a killed server, when no event or task of its sim can reach it any more. */
void skv_server_free(struct skv_server *kv);
struct raft *skv_server_raft(const struct skv_server *kv);

/* ---------------------------------------------------------------- clerk */

/* Go's MakeClerk(ctrlers, make_end). `client_id` must differ from every other clerk's of the
 * run (it also names the clerk's own controller clerk). NULL on OOM or bad arguments. */
struct skv_clerk *skv_clerk_new(struct sim *sim, struct rpc_end *const *ctrlers, int ctrlers_count,
                                skv_make_end_fn make_end, void *make_end_arg, uint64_t client_id);
/* Frees the clerk; no task may be parked inside one of its calls. */
void skv_clerk_free(struct skv_clerk *ck);

/* The blocking operations (from a sim task only); they return once the op took effect.
 * skv_clerk_get returns a malloc'd NUL-terminated value ("" for a missing key; the caller
 * frees it), or NULL on OOM or a key too long. Put and Append return SKV_OK or SKV_EINVAL. */
char *skv_clerk_get(struct skv_clerk *ck, const char *key);
int skv_clerk_put(struct skv_clerk *ck, const char *key, const char *value);
int skv_clerk_append(struct skv_clerk *ck, const char *key, const char *value);

#endif /* SHARDKV_H */
