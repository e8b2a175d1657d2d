/* sc_cfg: the shard controller's tester, a port of 6.5840's src/shardctrler/config.go and the
 * check helpers of its test_test.go (check, check_same_config).
 *
 * A config owns one simulated network, n controller servers with their persisters, and every
 * clerk made during the run with its own fresh ends (shuffled, as random_handles does). The
 * crash model is kvraft's (ShutdownServer: disconnect, delete the server from the network,
 * give the slot a copy of the persister, kill); a restarted server's ends stay disabled until
 * the next connect_all, as in config.go. Killed servers, old persisters and clerks stay
 * allocated until the run is over. Only public headers are used (shardctrler.h, raft.h,
 * labrpc.h, sim.h, lab.h), so the suite builds against another shardctrler.
 */
#ifndef SC_CFG_H
#define SC_CFG_H

#include <stdbool.h>
#include <stddef.h>

#include "lab.h"
#include "shardctrler.h"

#define SC_CFG_SERVERS_MAX 8
#define SC_CFG_CLERKS_MAX 64u
#define SC_CFG_GRAVE_MAX 256u

struct sc_cfg;

/* make_config(t, n, unreliable): starts n servers, connects them all, sets the reliability.
 * The test calls sc_cfg_cleanup before returning. */
struct sc_cfg *sc_cfg_make(struct lab_ctx *ctx, int n, bool unreliable);
/* cleanup(): kills every server, cleans the network up, checks the 120 s limit. */
void sc_cfg_cleanup(struct sc_cfg *cfg);
struct lab_ctx *sc_cfg_lab(const struct sc_cfg *cfg);
struct sim *sc_cfg_sim(const struct sc_cfg *cfg);

/* Prints the title (begin) and the Passed line (end: servers and RPCs of the subtest). */
void sc_cfg_begin(struct sc_cfg *cfg, const char *title);
void sc_cfg_end(struct sc_cfg *cfg);

void sc_cfg_start_server(struct sc_cfg *cfg, int i);
void sc_cfg_shutdown_server(struct sc_cfg *cfg, int i);
void sc_cfg_connect_all(struct sc_cfg *cfg);
/* Leader(): the first live server whose Raft says leader. */
bool sc_cfg_leader(struct sc_cfg *cfg, int *leader);

/* makeClient(all): a clerk with fresh ends to every server, all enabled. */
struct sc_clerk *sc_cfg_make_client(struct sc_cfg *cfg);

/* The clerk calls of the tests, failing the test on an error the Go API cannot return. */
void sc_cfg_join(struct sc_cfg *cfg, struct sc_clerk *ck, const struct sc_group *groups, int n);
/* Joins one group `gid` with the given server names (NULL-terminated list). */
void sc_cfg_join1(struct sc_cfg *cfg, struct sc_clerk *ck, int gid, const char *const *names);
void sc_cfg_leave(struct sc_cfg *cfg, struct sc_clerk *ck, const int *gids, int n);
void sc_cfg_leave1(struct sc_cfg *cfg, struct sc_clerk *ck, int gid);
void sc_cfg_move(struct sc_cfg *cfg, struct sc_clerk *ck, int shard, int gid);
void sc_cfg_query(struct sc_cfg *cfg, struct sc_clerk *ck, int num, struct sc_config *out);
/* Zeroed memory owned by the config, freed after the run (test state tasks share; configs are
 * too large for many of them on a task's stack). Fails the test on OOM. */
void *sc_cfg_scratch(struct sc_cfg *cfg, size_t size);

/* check(t, groups, ck) and check_same_config(t, c1, c2), with Go's messages. */
void sc_cfg_check(struct sc_cfg *cfg, struct sc_clerk *ck, const int *gids, int n);
void sc_cfg_check_same(struct sc_cfg *cfg, const struct sc_config *c1, const struct sc_config *c2);
/* A group of `gid` with the given names (NULL-terminated list). */
struct sc_group sc_cfg_group(int gid, const char *const *names);

#endif /* SC_CFG_H */
