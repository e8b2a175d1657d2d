/* kv_cfg: the kvraft tester, a port of 6.824's src/kvraft/config.go (lab-tests.md section 2,
 * "kvraft harness pieces"), plus the op wrappers and checks of kvraft/test_test.go.
 *
 * A config owns one simulated network (no long delays: an undeliverable call fails within
 * 0-99 ms), n KV servers with their persisters, every clerk made during the run with its own
 * fresh ends, the begin/end statistics, the history of every clerk operation and the fault
 * markers. Reliability is set after the servers start, as make_config does. All randomness of
 * the harness comes from sim streams: "kv.cfg" (clerk end order), "kv.partitioner" and
 * "kv.client" n (the GenericTest workload of client n).
 *
 * Every clerk operation of every test goes through kv_cfg_op (the Go tester's Get/Put/Append
 * and the direct ck.Get/ck.Append calls of the speed test alike): it is recorded with virtual
 * call and return times, and kv_cfg_check_history runs the linearizability checker (KV model,
 * deterministic step budget) over the whole history. ILLEGAL writes the HTML visualization
 * (with the fault markers) and fails "history is not linearizable"; UNKNOWN is reported as
 * its own outcome (lab_set_unknown), never as a silent pass.
 *
 * Crash model (ShutdownServer): disconnect, delete the server from the network BEFORE giving
 * the slot a copy of the persister (so the old instance cannot acknowledge a write kept only
 * in the old persister), then kill. Killed servers, old persisters and every clerk stay
 * allocated until the run is over (lab_set_user_free), since events and parked tasks may
 * still name them.
 *
 * Only public headers are used (kvraft.h, raft.h, labrpc.h, sim.h, lab.h, lin.h), so the suite
 * builds against another kvraft implementation.
 */
#ifndef KV_CFG_H
#define KV_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvraft.h"
#include "lab.h"
#include "sim.h"

#define KV_CFG_SERVERS_MAX 8
#define KV_CFG_CLERKS_MAX 1024u   /* clerks made in one run */
#define KV_CFG_OPS_MAX (1u << 21) /* history records in one run */
#define KV_CFG_MARKERS_MAX 4096u  /* fault markers kept for the HTML page */
#define KV_CFG_GRAVE_MAX 4096u    /* killed servers and superseded persisters kept */
#define KV_CFG_SCRATCH_MAX 64u    /* kv_cfg_scratch blocks per run */
/* The tester's election budget (electionTimeout in test_test.go). */
#define KV_ELECTION_TIMEOUT_US SIM_MS(1000)
/* The checker's deterministic budget per test (Go gives porcupine 1 s of wall time). */
#define KV_LIN_STEPS_MAX 1000000ull

_Static_assert(KV_CFG_SERVERS_MAX <= KV_SERVERS_MAX, "servers fit kvraft");
_Static_assert(KV_CFG_SERVERS_MAX <= RPC_SERVER_ID_MAX, "server ids fit labrpc");

struct kv_cfg;
/* A clerk made by the tester (Go's *Clerk plus its entry in cfg.clerks). */
struct kv_cfg_clerk;

enum kv_cfg_kind { KV_CFG_GET = 0, KV_CFG_PUT = 1, KV_CFG_APPEND = 2 };

/* make_config(t, n, unreliable, maxraftstate): starts n servers, connects them all, then sets
 * the reliability. Call from the test task. Registers the config with the run (lab_set_user
 * and its free function); the test calls kv_cfg_cleanup before returning, as Go defers
 * cfg.cleanup(). `test_name` names the HTML artifact. Fails the test on OOM. */
struct kv_cfg *kv_cfg_make(struct lab_ctx *ctx, const char *test_name, int n, bool unreliable,
                           int64_t maxraftstate);
/* cleanup(): kills every server, cleans the network up, checks the 120 s limit. */
void kv_cfg_cleanup(struct kv_cfg *cfg);

/* Zeroed memory owned by the config (freed with it after the run), for test state that tasks
 * share: a failing task ends at once, so memory it would free itself could leak. NULL after
 * failing the test on OOM or when more than KV_CFG_SCRATCH_MAX blocks were asked for. */
void *kv_cfg_scratch(struct kv_cfg *cfg, size_t size);

struct lab_ctx *kv_cfg_lab(const struct kv_cfg *cfg);
struct sim *kv_cfg_sim(const struct kv_cfg *cfg);
int kv_cfg_servers(const struct kv_cfg *cfg);
/* The network itself, for scenario tests and benchmarks that shape it (rpc_net_set_latency). */
struct rpc_net *kv_cfg_net(const struct kv_cfg *cfg);
int64_t kv_cfg_maxraftstate(const struct kv_cfg *cfg);

/* begin(description) / end(). `title` is without "Test: " and without the " (4A)" suffix;
 * lab_begin prints the part. end() prints "peers rpcs ops"; `extra` (may be NULL) is added
 * after them (the speed tests report ops per virtual second there). */
void kv_cfg_begin(struct kv_cfg *cfg, const char *title);
void kv_cfg_end(struct kv_cfg *cfg, const char *extra);
/* checkTimeout(): fails when 120 s of virtual time passed since make_config. */
void kv_cfg_check_timeout(struct kv_cfg *cfg);

/* Servers and the network (config.go). */
void kv_cfg_start_server(struct kv_cfg *cfg, int i);
void kv_cfg_shutdown_server(struct kv_cfg *cfg, int i);
void kv_cfg_connect_all(struct kv_cfg *cfg);
/* partition(p1, p2): links inside each group enabled, across groups disabled. */
void kv_cfg_partition(struct kv_cfg *cfg, const int *p1, int p1_count, const int *p2, int p2_count);
/* make_partition(): p1 = n/2+1 non-leaders, p2 = the other n/2 with the leader last. */
void kv_cfg_make_partition(struct kv_cfg *cfg, int *p1, int *p1_count, int *p2, int *p2_count);
/* Leader(): the first server whose Raft says leader. */
bool kv_cfg_leader(struct kv_cfg *cfg, int *leader);
/* LogSize() / SnapshotSize(): the largest over the current persisters. */
size_t kv_cfg_log_size(const struct kv_cfg *cfg);
size_t kv_cfg_snapshot_size(const struct kv_cfg *cfg);
uint64_t kv_cfg_rpc_total(const struct kv_cfg *cfg);
/* Fills all[0..n-1] with 0..n-1 (cfg.All()); returns n. */
int kv_cfg_all(const struct kv_cfg *cfg, int *all);

/* Clerks (config.go makeClient / ConnectClient / DisconnectClient): fresh ends to every
 * server, shuffled, only those to servers in `to` enabled. */
struct kv_cfg_clerk *kv_cfg_make_client(struct kv_cfg *cfg, const int *to, int to_count);
void kv_cfg_connect_client(struct kv_cfg *cfg, struct kv_cfg_clerk *ck, const int *to,
                           int to_count);
void kv_cfg_disconnect_client(struct kv_cfg *cfg, struct kv_cfg_clerk *ck, const int *from,
                              int from_count);
struct kv_clerk *kv_cfg_clerk_raw(struct kv_cfg_clerk *ck);

/* One recorded clerk operation (from a task). `cli` is the history's client row (Go's cli;
 * -1: this clerk's own number). `counted` adds it to the ops of the Passed line (Go's
 * cfg.op(); the speed test's direct ck calls are not counted). For a Get the value is
 * returned, borrowed from the history (valid until the run ends); NULL otherwise. */
const char *kv_cfg_op(struct kv_cfg *cfg, struct kv_cfg_clerk *ck, enum kv_cfg_kind kind,
                      const char *key, const char *value, int cli, bool counted);
/* The tester's Get / Put / Append (counted). */
const char *kv_cfg_get(struct kv_cfg *cfg, struct kv_cfg_clerk *ck, const char *key, int cli);
void kv_cfg_put(struct kv_cfg *cfg, struct kv_cfg_clerk *ck, const char *key, const char *value,
                int cli);
void kv_cfg_append(struct kv_cfg *cfg, struct kv_cfg_clerk *ck, const char *key, const char *value,
                   int cli);
/* check(): Get and compare; fails "Get(%v): expected:\n%v\nreceived:\n%v". */
void kv_cfg_check(struct kv_cfg *cfg, struct kv_cfg_clerk *ck, const char *key, const char *value);

/* checkClntAppends / checkConcurrentAppends: every "x <clnt> <j> y" for j < count present
 * once and in order. */
void kv_cfg_check_clnt_appends(struct kv_cfg *cfg, int clnt, const char *v, int count);
void kv_cfg_check_concurrent_appends(struct kv_cfg *cfg, const char *v, const int *counts,
                                     int clients_count);

/* Runs the linearizability checker over every operation recorded so far (see above). */
void kv_cfg_check_history(struct kv_cfg *cfg);
/* The same check, returning the verdict (lab_kv_history_verdict: LIN_ILLEGAL writes the HTML
 * page and sets it as the run's artifact) instead of failing: a scenario twin's. */
int kv_cfg_history_verdict(struct kv_cfg *cfg);
/* Operations recorded so far (for the unit tests). */
size_t kv_cfg_history_count(const struct kv_cfg *cfg);

/* Formats a duration like Go's time.Duration.String() ("33.333333ms", "1.5s", "750µs"). */
void kv_cfg_duration_format(uint64_t ns, char *buf, size_t size);

#endif /* KV_CFG_H */
