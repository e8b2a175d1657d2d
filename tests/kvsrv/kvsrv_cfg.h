/* kvsrv_cfg: the lab 2 tester, a port of 6.5840's src/kvsrv/config.go plus the helpers of
 * src/kvsrv/test_test.go (the logged Get/Put/Append wrappers, the operation log and its
 * linearizability check, checkClntAppends / checkConcurrentAppends, randValue).
 *
 * A config owns one simulated network with one server (id 0, service "KVServer"), the
 * server's accounting heap (kvsrv.h), every clerk made during the run with its own end (a
 * random 20-character base64url name, as Go's randstring(20)), the begin/end statistics and
 * the operation log. All randomness comes from sim streams: "kvsrv.cfg" (end names, random
 * values) and "kvsrv.client" n (GenericTest's client n).
 *
 * The memory tests read kvsrv_cfg_heap_bytes where Go reads runtime.MemStats.HeapAlloc after
 * runtime.GC(): the bytes the server holds, counted exactly by its heap (README: why this is
 * the same test).
 *
 * Client CPU: the logged wrappers charge the calling client Go's CPU cost of the test's own
 * per-op string work (KVSRV_CFG_CLIENT_NS_PER_BYTE per byte of the value the op returned; see
 * kvsrv_cfg.c), which virtual time would otherwise not charge.
 *
 * Only public headers are used (kvsrv.h, labrpc.h, sim.h, lab.h, lin.h), so the suite builds
 * against another lab 2 implementation (KVSRV_IMPL).
 */
#ifndef KVSRV_CFG_H
#define KVSRV_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvsrv.h"
#include "lab.h"
#include "sim.h"

#define KVSRV_CFG_SERVER_ID 0            /* Go's SERVERID */
#define KVSRV_CFG_CLERKS_MAX 200000u     /* clerks made in one run (the memory tests: 100,001) */
#define KVSRV_CFG_OPS_MAX (1u << 21)     /* logged operations in one run */
#define KVSRV_CFG_LIN_STEPS_MAX 1000000u /* the checker's budget (Go: 1 s of porcupine) */
#define KVSRV_CFG_MIB (1u << 20)

struct kvsrv_cfg;
/* A clerk made by the tester (Go's *Clerk and its end name in cfg.clerks). */
struct kvsrv_cfg_clerk;

enum kvsrv_cfg_kind { KVSRV_CFG_GET = 0, KVSRV_CFG_PUT = 1, KVSRV_CFG_APPEND = 3 };

/* make_config(t, unreliable): the network, the heap and the server, then the reliability.
 * Registers itself with the run (freed after the last event). Fails the test on OOM. */
struct kvsrv_cfg *kvsrv_cfg_make(struct lab_ctx *ctx, const char *test_name, bool unreliable);
/* cleanup(): cleans the network up and checks the 120 s limit. */
void kvsrv_cfg_cleanup(struct kvsrv_cfg *cfg);
struct lab_ctx *kvsrv_cfg_lab(const struct kvsrv_cfg *cfg);
struct sim *kvsrv_cfg_sim(const struct kvsrv_cfg *cfg);

/* makeClient() / deleteClient(). A clerk stays allocated until the run is over. */
struct kvsrv_cfg_clerk *kvsrv_cfg_make_client(struct kvsrv_cfg *cfg);
void kvsrv_cfg_delete_client(struct kvsrv_cfg *cfg, struct kvsrv_cfg_clerk *ck);

/* begin(description): `title` without "Test: " (lab_begin prints "Test (2): "). end(). */
void kvsrv_cfg_begin(struct kvsrv_cfg *cfg, const char *title);
void kvsrv_cfg_end(struct kvsrv_cfg *cfg);

/* The bytes the server holds (the memory tests' HeapAlloc). */
uint64_t kvsrv_cfg_heap_bytes(const struct kvsrv_cfg *cfg);

/* The test's Get / Put / Append: time the call, count it (cfg.op()), charge the client's CPU,
 * and, when `logged`, add it to the operation log as client `cli` (Append as Porcupine's op 3,
 * with the old value as output). Get and Append return the value, borrowed from the config
 * (valid until the run ends). A clerk failure (NULL: out of memory) fails the test. */
const char *kvsrv_cfg_get(struct kvsrv_cfg *cfg, struct kvsrv_cfg_clerk *ck, const char *key,
                          bool logged, int cli);
void kvsrv_cfg_put(struct kvsrv_cfg *cfg, struct kvsrv_cfg_clerk *ck, const char *key,
                   const char *value, bool logged, int cli);
const char *kvsrv_cfg_append(struct kvsrv_cfg *cfg, struct kvsrv_cfg_clerk *ck, const char *key,
                             const char *value, bool logged, int cli);

/* The direct ck.Get / ck.Put / ck.Append of the memory tests: not counted, not logged. Get and
 * Append results are malloc'd (caller frees); failures fail the test. */
char *kvsrv_cfg_raw_get(struct kvsrv_cfg *cfg, struct kvsrv_cfg_clerk *ck, const char *key);
void kvsrv_cfg_raw_put(struct kvsrv_cfg *cfg, struct kvsrv_cfg_clerk *ck, const char *key,
                       const char *value);
char *kvsrv_cfg_raw_append(struct kvsrv_cfg *cfg, struct kvsrv_cfg_clerk *ck, const char *key,
                           const char *value);

/* Porcupine's CheckOperationsVerbose over the log with the KV model: ILLEGAL writes the HTML
 * page and fails "history is not linearizable"; UNKNOWN is reported as its own outcome. */
void kvsrv_cfg_check_history(struct kvsrv_cfg *cfg);
size_t kvsrv_cfg_history_count(const struct kvsrv_cfg *cfg);

/* checkClntAppends / checkConcurrentAppends. */
void kvsrv_cfg_check_clnt_appends(struct kvsrv_cfg *cfg, int clnt, const char *v, int count);
void kvsrv_cfg_check_concurrent_appends(struct kvsrv_cfg *cfg, const char *v, const int *counts,
                                        int clients_count);

/* randValue(n): n random letters [a-zA-Z], in memory owned by the config. */
const char *kvsrv_cfg_rand_value(struct kvsrv_cfg *cfg, size_t n);
/* Zeroed memory owned by the config (freed after the run), for state tasks share: a failing
 * task ends at once, so memory it would free itself could leak. kvsrv_cfg_scratch_grow
 * resizes such a block (NULL: a new one); the new bytes are not zeroed. Both fail the test on
 * OOM or past KVSRV_CFG_BLOCKS_MAX blocks. */
void *kvsrv_cfg_scratch(struct kvsrv_cfg *cfg, size_t size);
void *kvsrv_cfg_scratch_grow(struct kvsrv_cfg *cfg, void *block, size_t size);

#endif /* KVSRV_CFG_H */
