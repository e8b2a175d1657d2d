/* skv_cfg: the shardkv tester, a port of 6.5840's src/shardkv/config.go (2024) and the
 * helpers of its test_test.go (check, the Get/Put/Append calls).
 *
 * A config owns one simulated network; the controller service (3 shardctrler servers, all
 * links enabled, and the harness's own controller clerk), a second one on demand
 * (TestRejection5A's ctl1); SKV_CFG_GROUPS replica groups, gid 100 + gi, of n servers each, all
 * started and none joined; every clerk made during the run. Reliability is set last, and
 * applies to every RPC (clients, controllers, Raft, group to group), as in Go.
 *
 * Servers are named "server-<gid>-<i>"; make_end(name) makes a fresh enabled end to the named
 * server (labrpc server ids: controller service k's server i is 3k + i; group gi's server i is
 * 6 + gi n + i, which is also its node id in traces). ShutdownServer disables the server's own
 * ends (to its peers and to the controllers), deletes it from the network, gives its slot a
 * copy of the persister and kills it; ends it made through make_end stay as they are (Go).
 *
 * Every clerk operation is recorded (virtual call and return times) and, at the end of the
 * test (skv_cfg_end), the whole history is checked for linearizability with the KV model:
 * ILLEGAL fails the test "history is
 * not linearizable" with the HTML picture; UNKNOWN is reported as UNKNOWN. Only public headers
 * are used (shardkv.h, shardctrler.h, raft.h, labrpc.h, sim.h, lab.h, lin.h), so the suite
 * builds against another shardctrler and shardkv.
 */
#ifndef SKV_CFG_H
#define SKV_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab.h"
#include "shardkv.h"

#define SKV_CFG_N_MAX 3    /* servers per group */
#define SKV_CFG_GROUPS 3   /* groups 100, 101, 102 */
#define SKV_CFG_CTRLERS 3  /* servers of a controller service */
#define SKV_CFG_CTLS_MAX 2 /* controller services (ctl and TestRejection5A's ctl1) */
#define SKV_CFG_CLERKS_MAX 256u
#define SKV_CFG_GRAVE_MAX 1024u
#define SKV_CFG_OPS_MAX (1u << 20)
#define SKV_LIN_STEPS_MAX 1000000ull

struct skv_cfg;

/* make_config(t, n, unreliable, maxraftstate). The test calls skv_cfg_cleanup at the end. */
struct skv_cfg *skv_cfg_make(struct lab_ctx *ctx, const char *test_name, int n, bool unreliable,
                             int64_t maxraftstate);
/* cleanup(): shuts every group down, kills the controllers, cleans the
 * network up, checks the 120 s limit. */
void skv_cfg_cleanup(struct skv_cfg *cfg);
struct lab_ctx *skv_cfg_lab(const struct skv_cfg *cfg);
struct sim *skv_cfg_sim(const struct skv_cfg *cfg);
/* The harness's random stream ("skv.cfg"). */
struct sim_rand *skv_cfg_rand(struct skv_cfg *cfg);
/* Zeroed memory owned by the config, freed after the run. Fails the test on OOM. */
void *skv_cfg_scratch(struct skv_cfg *cfg, size_t size);

/* Prints the title; checks the history for linearizability and prints the Passed line ("n
 * rpcs ops"). */
void skv_cfg_begin(struct skv_cfg *cfg, const char *title);
void skv_cfg_end(struct skv_cfg *cfg);

void skv_cfg_start_server(struct skv_cfg *cfg, int gi, int i);
void skv_cfg_shutdown_server(struct skv_cfg *cfg, int gi, int i);
void skv_cfg_start_group(struct skv_cfg *cfg, int gi);
void skv_cfg_shutdown_group(struct skv_cfg *cfg, int gi);
/* Starts controller service `ctl` (1: ctl1) if it is not running. */
void skv_cfg_start_ctl(struct skv_cfg *cfg, int ctl);

/* join(gi) / joinm(gis) / leave(gi) / leavem(gis) through controller service 0; ctljoin(gi,
 * ctl) through service `ctl`. */
void skv_cfg_join(struct skv_cfg *cfg, int gi);
void skv_cfg_joinm(struct skv_cfg *cfg, const int *gis, int count);
void skv_cfg_ctljoin(struct skv_cfg *cfg, int gi, int ctl);
void skv_cfg_leave(struct skv_cfg *cfg, int gi);
void skv_cfg_leavem(struct skv_cfg *cfg, const int *gis, int count);
/* ctl.ck.Query(-1). */
void skv_cfg_query(struct skv_cfg *cfg, struct sc_config *out);

/* checklogs(). */
void skv_cfg_checklogs(struct skv_cfg *cfg);
/* Σ over every group's servers of RaftStateSize + snapshot length (TestChallenge1Delete). */
size_t skv_cfg_total_size(const struct skv_cfg *cfg);

/* makeClient(ctl): a clerk on controller service `ctl`. */
struct skv_clerk *skv_cfg_make_client(struct skv_cfg *cfg, int ctl);
/* Recorded clerk operations (from a task). Get returns the value, borrowed from the history
 * (valid until the run ends). */
const char *skv_cfg_get(struct skv_cfg *cfg, struct skv_clerk *ck, const char *key);
void skv_cfg_put(struct skv_cfg *cfg, struct skv_clerk *ck, const char *key, const char *value);
void skv_cfg_append(struct skv_cfg *cfg, struct skv_clerk *ck, const char *key, const char *value);
/* check(t, ck, key, value). */
void skv_cfg_check(struct skv_cfg *cfg, struct skv_clerk *ck, const char *key, const char *value);

/* randstring(n) into buf (n + 1 bytes), from stream r. */
void skv_cfg_randstring(struct sim_rand *r, char *buf, int n);

#endif /* SKV_CFG_H */
