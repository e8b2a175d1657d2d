/* mr: MapReduce (6.5840 lab 1): the coordinator and the worker, as processes of a simulation.
 *
 * This header is the whole contract of lab 1. A student implements the functions of the
 * "coordinator" and "worker" sections (Go's mr/coordinator.go, worker.go, rpc.go); the graded
 * suite (tests/mr/) provides everything else: the applications (wc, indexer, ..., Go's
 * mrapps plugins), the key/value helpers below (Go's KeyValue and ihash), the input files in
 * the simulated file system, the processes and their limits, and mrsequential.
 *
 * The world, as test-mr.sh sets it up:
 *  - One coordinator process (node 0) and worker processes (nodes 1..), all sharing one
 *    directory: the sim's file system (sim.h, "file system"). The inputs are there under
 *    their Go names ("../pg-grimm.txt", ...). A process passes its own node to every sim_fs_*
 *    call. Nothing touches real files.
 *  - Workers reach the coordinator over labrpc (labrpc.h) through the end in their
 *    environment; the coordinator registers its methods on the server the harness gives it
 *    (any service and method names: only the two sides must agree). The network is reliable,
 *    with Go's delivery latency. When the coordinator process has exited, every call fails:
 *    that is Go's failed dial, and a worker should then exit (return).
 *  - Time is virtual (sim_now_us, sim_sleep_us). The harness polls mr_coordinator_done every
 *    second and ends the coordinator process one second after it first returns true.
 *  - The job: nReduce = 10; map task X reads one input and writes intermediate files for every
 *    reduce bucket ihash(key) % nReduce; reduce task Y writes mr-out-Y, one "%s %s\n" line
 *    (key, reduce result) per distinct key. Reduces start only after every map is done. The
 *    coordinator hands a task to another worker when it is not finished within ten seconds
 *    (MR_TASK_TIMEOUT_US), and the job is done when every reduce is. Workers exit when the job
 *    is done, and not before (the early-exit test).
 *  - Files become visible as they are written (sim.h): write to a temporary name and rename,
 *    so a worker that crashes or is slow never leaves a partial file under a final name.
 *
 * Crashes. The crash application ends its process inside mr_app.map or mr_app.reduce (Go's
 * os.Exit): the call never returns, the worker's task ends there and the harness then calls
 * mr_worker_free. A worker must therefore keep every allocation reachable from its struct
 * mr_worker (as the reference does), so that mr_worker_free releases it whatever the point the
 * worker stopped at. An application call may also sleep (virtual time passes).
 *
 * Ownership: the harness owns the sim, the network, the ends and the rpc_server; the
 * coordinator and workers borrow them for their life and are freed by the harness after the
 * run, when no event can reach them any more.
 */
#ifndef MR_H
#define MR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../labgob/labgob.h"
#include "../labrpc/labrpc.h"
#include "../src/sim.h"

#define MR_NODE_COORDINATOR 0          /* the coordinator's node; workers use 1 .. */
#define MR_TASK_TIMEOUT_US SIM_S(10)   /* the handout's "ten seconds" */
#define MR_FILES_MAX 64u               /* input files (map tasks) of one job */
#define MR_REDUCE_MAX 64u              /* reduce tasks of one job */
#define MR_KVS_MAX (UINT32_C(1) << 24) /* pairs in one struct mr_kvs */

#define MR_ERRNO_MAP(X)                                                                            \
    X(MR_OK, 0, "success")                                                                         \
    X(MR_ENOMEM, -1, "out of memory")                                                              \
    X(MR_EINVAL, -2, "invalid argument")                                                           \
    X(MR_ELIMIT, -3, "too many files, tasks or pairs")                                             \
    X(MR_ERPC, -4, "could not register the RPC methods")                                           \
    X(MR_EDECODE, -5, "malformed intermediate file or message")

enum mr_err {
#define MR_ERR_ENUM(name, value, text) name = value,
    MR_ERRNO_MAP(MR_ERR_ENUM)
#undef MR_ERR_ENUM
};

/* Returns a static, never-NULL description of an MR_* code (provided). */
const char *mr_strerror(int err);

/* ---------------------------------------------------------------- provided: key/values */

/* Go's mr.KeyValue: two NUL-terminated strings, owned by the array that holds them. Read them
 * freely; add pairs only with mr_kvs_add and free them only with mr_kvs_clear / mr_kvs_free
 * (the array decides how a pair is stored). Keys hold no NUL byte. */
struct mr_kv {
    char *key;
    char *value;
};

/* A growable array of pairs (Go's []mr.KeyValue). Caller-allocated; zero-initialised (or
 * mr_kvs_init) it is empty. The pairs' bytes live in blocks the array owns. */
struct mr_kvs_block;
struct mr_kvs {
    struct mr_kv *items;
    size_t count;
    size_t cap;
    struct mr_kvs_block *blocks; /* newest first */
};

void mr_kvs_init(struct mr_kvs *kvs);
/* Appends a copy of (key, value); the lengths are in bytes (no NUL needed in the inputs).
 * MR_OK, MR_ENOMEM or MR_ELIMIT (MR_KVS_MAX pairs); on failure nothing is added. */
int mr_kvs_add(struct mr_kvs *kvs, const char *key, size_t key_len, const char *value,
               size_t value_len);
/* Frees every pair and keeps the array's capacity. */
void mr_kvs_clear(struct mr_kvs *kvs);
/* Frees the pairs and the array; the struct is empty again. */
void mr_kvs_free(struct mr_kvs *kvs);

/* Go's ihash: 32-bit FNV-1a of the key's bytes, & 0x7fffffff. Bucket = mr_ihash % nReduce. */
uint32_t mr_ihash(const char *key, size_t key_len);

/* The pairs of a struct mr_kvs grouped by key, for a reduce (what Go's sort.Sort(ByKey) and
 * the scan for runs of equal keys give mrsequential): group g holds the pairs
 * kvs->items[order[starts[g]]] .. kvs->items[order[starts[g + 1] - 1]], all with the same
 * key, in the order they were added; groups are in byte order of their keys. */
struct mr_groups {
    uint32_t *order;  /* pair indices, grouped (count of the kvs) */
    uint32_t *starts; /* count + 1 offsets into order */
    uint32_t count;   /* distinct keys */
};

/* Groups `kvs` (which must not change while `g` is used). MR_OK, or MR_ENOMEM with nothing
 * allocated. Free with mr_groups_free (also after a failure; zero-initialised g is empty). */
int mr_kvs_group(const struct mr_kvs *kvs, struct mr_groups *g);
void mr_groups_free(struct mr_groups *g);
/* The key of group i (borrowed from the kvs). */
const char *mr_group_key(const struct mr_kvs *kvs, const struct mr_groups *g, uint32_t i);

/* ---------------------------------------------------------------- provided: applications */

/* Go's mapf(filename, contents): appends its pairs to `out` (which the caller owns and may
 * hold earlier pairs). Returns MR_OK or MR_ENOMEM. May sleep; may end the process. */
typedef int (*mr_map_fn)(void *arg, const char *filename, const char *contents, size_t contents_len,
                         struct mr_kvs *out);
/* Go's reducef(key, values): returns the result as a malloc'd string the caller frees, or NULL
 * when out of memory. `values` is borrowed. May sleep; may end the process. */
typedef char *(*mr_reduce_fn)(void *arg, const char *key, char *const *values, size_t values_count);

/* An application as a worker receives it (Go's loadPlugin): call map(arg, ...) and
 * reduce(arg, ...). */
struct mr_app {
    const char *name; /* "wc", "indexer", ... */
    mr_map_fn map;
    mr_reduce_fn reduce;
    void *arg;
};

/* ---------------------------------------------------------------- coordinator */

struct mr_coordinator;

/* Go's MakeCoordinator(files, nReduce): registers the coordinator's RPC methods on `server`
 * (which the harness has put on the network) and returns at once; the coordinator then runs
 * as events (handlers and timers) on `sim`, tracing as node `node`. `files` (the input names,
 * also the map tasks' file names) is copied. On MR_OK *out is the coordinator; otherwise
 * MR_EINVAL (no file, more than MR_FILES_MAX, n_reduce outside 1 .. MR_REDUCE_MAX), MR_ENOMEM
 * or MR_ERPC, and nothing is left allocated. */
int mr_coordinator_make(struct sim *sim, int node, const char *const *files, size_t files_count,
                        int n_reduce, struct rpc_server *server, struct mr_coordinator **out);

/* Go's Done(): true once the whole job has finished (every output file is final). */
bool mr_coordinator_done(const struct mr_coordinator *c);

/* The coordinator process exits (the harness has already taken its server off the network):
 * it must schedule nothing more. Its pending timers may still fire; they must do nothing. */
void mr_coordinator_kill(struct mr_coordinator *c);

/* Frees a coordinator after the run (no event can reach it any more). NULL is a no-op. */
void mr_coordinator_free(struct mr_coordinator *c);

/* ---------------------------------------------------------------- worker */

struct mr_worker;

/* What a worker process gets from the harness: the sim, its node (for sim_fs_* calls and
 * traces), its end to the coordinator and the application (Go's mapf, reducef). */
struct mr_worker_env {
    struct sim *sim;
    int node;
    struct rpc_end *coordinator;
    struct mr_app app;
};

/* Makes a worker (nothing runs yet). `env` is copied. MR_OK with *out set, MR_EINVAL or
 * MR_ENOMEM. */
int mr_worker_new(const struct mr_worker_env *env, struct mr_worker **out);

/* Go's Worker(mapf, reducef): runs the worker's loop in the calling sim task until the job is
 * done or the coordinator cannot be reached, then returns (the process exits). */
void mr_worker_run(struct mr_worker *w);

/* Frees the worker and everything it holds, whether mr_worker_run returned or the process
 * ended inside an application call. NULL is a no-op. */
void mr_worker_free(struct mr_worker *w);

#endif /* MR_H */
