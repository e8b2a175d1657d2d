/* shardctrler: the shard controller of 6.5840 lab 5A, a replicated configuration service on
 * Raft: the server and the clerk.
 *
 * A configuration (Go's Config) numbers itself, gives each of the SC_NSHARDS shards a replica
 * group id (gid 0: no group) and lists each group's server names. Config 0 has no groups and
 * every shard on gid 0. Join adds groups, Leave removes them, both rebalancing the shards as
 * evenly as possible while moving as few as possible, the same way on every replica (nothing
 * depends on hash or address order); Move gives one shard to one group without rebalancing;
 * Query(num) answers config num, or the latest one for num < 0 or num past the latest. Every
 * operation goes through the Raft log; Join, Leave and Move are applied at most once per
 * (client id, sequence number), so a retried call changes the configuration once.
 *
 * The server is event-driven (it runs inside sim events); the clerk is straight-line blocking
 * code and may be called only from inside a sim task. Like Go's, the clerk retries forever:
 * each server in turn, a 100 ms pause after a whole pass without an answer.
 *
 * Ownership: the harness owns the persister, the ends and the rpc_server; a server borrows
 * them for its life. A clerk copies the array of ends and borrows the ends. Configs are plain
 * values (no pointers): copy them freely.
 */
#ifndef SHARDCTRLER_H
#define SHARDCTRLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../labrpc/labrpc.h"
#include "../raft/raft.h"
#include "../src/sim.h"

#define SC_NSHARDS 10 /* Go's NShards */
#define SC_SERVERS_MAX RAFT_PEERS_MAX
#define SC_GROUPS_MAX 40         /* groups in one configuration */
#define SC_GROUP_SERVERS_MAX 8   /* server names of one group */
#define SC_SERVER_NAME_MAX 32    /* bytes of a server name, with its NUL */
#define SC_CONFIGS_MAX (1 << 16) /* configurations one controller keeps */

#define SC_ERRNO_MAP(X)                                                                            \
    X(SC_OK, 0, "success")                                                                         \
    X(SC_ENOMEM, -1, "out of memory")                                                              \
    X(SC_EINVAL, -2, "invalid argument")                                                           \
    X(SC_ELIMIT, -3, "too many groups, servers or configurations, or a name too long")             \
    X(SC_EDECODE, -4, "malformed encoded op, reply or configuration")                              \
    X(SC_ERPC, -5, "could not register the RPC methods")                                           \
    X(SC_ECANCELED, -6, "the clerk was cancelled")

enum sc_err {
#define SC_ERR_ENUM(name, value, text) name = value,
    SC_ERRNO_MAP(SC_ERR_ENUM)
#undef SC_ERR_ENUM
};

/* Returns a static, never-NULL description of an SC_* code. */
const char *sc_strerror(int err);

/* One replica group: its gid (> 0) and its servers' names, in the order they were joined. */
struct sc_group {
    int gid;
    int servers_count;
    char servers[SC_GROUP_SERVERS_MAX][SC_SERVER_NAME_MAX];
};

/* Go's Config. groups[] is sorted by gid, strictly increasing. */
struct sc_config {
    int num;
    int shards[SC_NSHARDS]; /* shard -> gid */
    int groups_count;
    struct sc_group groups[SC_GROUPS_MAX];
};

/* Config 0: num 0, every shard on gid 0, no groups. */
void sc_config_init(struct sc_config *c);
/* The group `gid` of c, or NULL. */
const struct sc_group *sc_config_group(const struct sc_config *c, int gid);

struct sc_server;
struct sc_clerk;

/* ---------------------------------------------------------------- server */

/* Go's StartServer(servers, me, persister): restores from the persister (Raft replays the
 * log), makes the Raft on `ends` (ends[me] unused) and registers the "ShardCtrler.*" and
 * "Raft.*" methods on `server`. SC_OK with *out set (free it with sc_server_free after the
 * run), or SC_ENOMEM, SC_EINVAL or SC_ERPC with nothing left allocated. */
int sc_server_start(struct sim *sim, struct rpc_end *const *ends, int ends_count, int me,
                    struct raft_persister *persister, struct rpc_server *server,
                    struct sc_server **out);
/* Go's Kill(): kills the Raft and stops acting; waiting handlers are answered. The object
 * stays allocated until sc_server_free, because events in flight may still name it. */
void sc_server_kill(struct sc_server *sc);
/* Frees a killed server and its Raft, when no event of its sim can reach it any more. */
void sc_server_free(struct sc_server *sc);
/* The server's Raft (the harness asks it for GetState). */
struct raft *sc_server_raft(const struct sc_server *sc);

/* ---------------------------------------------------------------- clerk */

/* Go's MakeClerk(servers). `client_id` names the clerk in the servers' duplicate tables and
 * must differ from every other clerk's of the run. NULL on OOM or bad arguments. */
struct sc_clerk *sc_clerk_new(struct sim *sim, struct rpc_end *const *ends, int ends_count,
                              uint64_t client_id);
/* Frees the clerk; no task may be parked inside one of its calls. */
void sc_clerk_free(struct sc_clerk *ck);

/* Beyond Go: a service that owns a clerk and is killed (a shardkv server) cancels it, so a
 * task parked in a call returns SC_ECANCELED after its current attempt instead of retrying
 * forever against controllers it can no longer reach. Every later call returns it at once. */
void sc_clerk_cancel(struct sc_clerk *ck);

/* The blocking operations (from a sim task only); they return once a server applied the op,
 * retrying forever otherwise (see the file comment). SC_OK, SC_EINVAL (bad arguments: gid
 * <= 0, shard out of range, a name too long), SC_ELIMIT (the op would exceed a bound; every
 * server refuses it alike, so it had no effect) or SC_ECANCELED.
 *
 * sc_clerk_join adds `groups_count` groups (Go's map gid -> servers, here an array; a gid
 * already present gets the new server list). sc_clerk_leave removes the listed gids (unknown
 * ones are ignored). sc_clerk_move puts `shard` on `gid`. sc_clerk_query fills *out with
 * config `num` (the latest for num < 0 or past the latest). */
int sc_clerk_join(struct sc_clerk *ck, const struct sc_group *groups, int groups_count);
int sc_clerk_leave(struct sc_clerk *ck, const int *gids, int gids_count);
int sc_clerk_move(struct sc_clerk *ck, int shard, int gid);
int sc_clerk_query(struct sc_clerk *ck, int num, struct sc_config *out);

#endif /* SHARDCTRLER_H */
