/* raft_cfg: the Raft tester, a port of 6.824's src/raft/config.go (lab-tests.md section 7).
 *
 * A config owns one simulated network, n Raft servers, their persisters, the tester's copy of
 * what each server applied (the "logs" of config.go) and the begin/end statistics. Test bodies
 * (sim tasks) drive it exactly as the Go tests drive a *config; every sleep, poll and limit is
 * the Go number in virtual time, and every random choice of the harness comes from the sim
 * stream "cfg" (test-level choices from "test", see raft_cfg_rand).
 *
 * Beyond config.go, safety is checked continuously: after every sim event, no two live
 * instances may ever have claimed leadership of one term (remembered per term), and the
 * appliers check every applied entry as it arrives. Go's log.Fatalf in an applier kills the
 * test binary; here it fails the current test at once (lab_failf) and stops the sim.
 *
 * Crash model (lab-tests.md sections 6 and 7): crash1 disconnects, deletes the server from the
 * network, gives the slot a copy of the persister (so the killed instance's later writes go
 * nowhere) and kills the instance. A killed instance stays allocated, with its persister and
 * apply context, until the run is over.
 *
 * Only the public headers raft.h, labrpc.h, labgob.h, sim.h and lab.h are used: students build
 * these suites against their own Raft.
 *
 * Log commands are labgob messages: an int command is field 1 (GOB_INT), a string command is
 * field 2 (GOB_BYTES). The harness decodes what is applied and compares values, as the Go
 * tester compares interface{} values.
 */
#ifndef RAFT_CFG_H
#define RAFT_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lab.h"
#include "raft.h"
#include "sim.h"

#define RAFT_CFG_SERVERS_MAX 8
/* Bounds of the tester's bookkeeping: applied indices, killed instances kept until the end,
 * terms that had a leader. A Raft that exceeds one fails the test with a message. */
#define RAFT_CFG_INDEX_MAX (1u << 20)
#define RAFT_CFG_INSTANCES_MAX 8192u
#define RAFT_CFG_TERMS_MAX (1u << 20)

/* The tester's election budget (RaftElectionTimeout). */
#define RAFT_ELECTION_TIMEOUT_US SIM_MS(1000)
/* config.go's SnapShotInterval and test_test.go's MAXLOGSIZE. */
#define RAFT_CFG_SNAPSHOT_INTERVAL 10
#define RAFT_CFG_LOG_SIZE_MAX 2000u

_Static_assert(RAFT_CFG_SERVERS_MAX <= RAFT_PEERS_MAX, "servers fit the Raft peer table");
_Static_assert(RAFT_CFG_SERVERS_MAX <= RPC_SERVER_ID_MAX, "server ids fit labrpc");

/* A command value as the Go tester sees an interface{}: absent (not in the map), nil, an int or
 * a string. */
enum raft_cfg_kind {
    RAFT_CFG_ABSENT = 0,
    RAFT_CFG_NIL = 1,
    RAFT_CFG_INT = 2,
    RAFT_CFG_STR = 3,
};

/* `str` is owned by whoever holds the value: the log store for applied values, the caller for
 * commands it passes in; values handed out by the config are borrowed views. */
struct raft_cfg_value {
    enum raft_cfg_kind kind;
    int64_t num;
    const uint8_t *str;
    size_t str_len;
};

struct raft_cfg_value raft_cfg_int(int64_t v);
struct raft_cfg_value raft_cfg_str(const uint8_t *s, size_t len);
bool raft_cfg_value_equal(const struct raft_cfg_value *a, const struct raft_cfg_value *b);
/* Formats like Go's %v: ints in decimal, strings cut to a short prefix, nil as <nil>. */
void raft_cfg_value_format(const struct raft_cfg_value *v, char *buf, size_t size);

enum raft_cfg_applier {
    RAFT_CFG_APPLIER = 0,      /* config.applier */
    RAFT_CFG_APPLIER_SNAP = 1, /* config.applierSnap */
};

struct raft_cfg;

/* make_config(t, n, unreliable, snapshot): builds and connects n servers with long delays on.
 * Must be called from the test task. Registers the config with the run (lab_set_user and its
 * free function); the test must call raft_cfg_cleanup before returning, as Go defers
 * cfg.cleanup(). Fails the test on OOM (then returns NULL after the task ended). */
struct raft_cfg *raft_cfg_make(struct lab_ctx *ctx, int n, bool unreliable, bool snapshot);
/* cleanup(): marks finished, kills every server, cleans the network up, checks the 120 s
 * limit. Memory is released by the run after the last event (lab_set_user_free). */
void raft_cfg_cleanup(struct raft_cfg *cfg);

/* The node inspector raft_cfg_make registers with the run (lab_set_inspector): prints server
 * `node`'s role, term, vote, log terms, commit/apply indices and, on a leader, next/match
 * indices (raft_cfg_inspect.c). Returns 0, or SIM_EINVAL when there is no such server. */
int raft_cfg_inspect(void *user, int node, FILE *out);
/* "follower", "candidate" or "leader" ("?" for another value); the other suites' inspectors use
 * it too. */
const char *raft_cfg_role_name(enum raft_role role);

struct lab_ctx *raft_cfg_lab(const struct raft_cfg *cfg);
struct sim *raft_cfg_sim(const struct raft_cfg *cfg);
int raft_cfg_servers(const struct raft_cfg *cfg);
/* The stream for test-level randomness ("test"), independent of the network's draws. */
struct sim_rand *raft_cfg_rand(struct raft_cfg *cfg);

/* begin(description) / end(). `title` is without the "Test (3A): " prefix. */
void raft_cfg_begin(struct raft_cfg *cfg, const char *title);
void raft_cfg_end(struct raft_cfg *cfg);
/* checkTimeout(): fails when 120 s of virtual time passed since make_config. */
void raft_cfg_check_timeout(struct raft_cfg *cfg);

/* Servers and the network. */
void raft_cfg_start1(struct raft_cfg *cfg, int i, enum raft_cfg_applier applier);
void raft_cfg_crash1(struct raft_cfg *cfg, int i);
void raft_cfg_connect(struct raft_cfg *cfg, int i);
void raft_cfg_disconnect(struct raft_cfg *cfg, int i);
bool raft_cfg_connected(const struct raft_cfg *cfg, int i);
/* The running instance of server i (cfg.rafts[i]), NULL when crashed. */
struct raft *raft_cfg_raft(const struct raft_cfg *cfg, int i);
void raft_cfg_set_unreliable(struct raft_cfg *cfg, bool unreliable);
/* The network itself, for scenario tests that shape it further (rpc_net_set_latency). */
struct rpc_net *raft_cfg_net(const struct raft_cfg *cfg);
void raft_cfg_set_long_reordering(struct raft_cfg *cfg, bool on);
uint64_t raft_cfg_rpc_count(const struct raft_cfg *cfg, int i);
uint64_t raft_cfg_rpc_total(const struct raft_cfg *cfg);
uint64_t raft_cfg_bytes_total(const struct raft_cfg *cfg);
/* LogSize(): the largest Raft state size over the current persisters. */
size_t raft_cfg_log_size(const struct raft_cfg *cfg);

/* rf.Start(cmd) on server i: encodes the command and calls raft_start. Fails the test when
 * server i is not running (Go would dereference nil). */
bool raft_cfg_start_cmd(struct raft_cfg *cfg, int i, const struct raft_cfg_value *cmd,
                        uint64_t *index, uint64_t *term);
/* The same for an int command (the usual case). */
bool raft_cfg_start_int(struct raft_cfg *cfg, int i, int64_t v, uint64_t *index, uint64_t *term);
/* rf.GetState() on server i (which must be running). */
bool raft_cfg_get_state(struct raft_cfg *cfg, int i, uint64_t *term);

/* The checks of config.go. Each fails the test with the Go message. */
int raft_cfg_check_one_leader(struct raft_cfg *cfg);
/* checkTerms(): the term all connected servers agree on, -1 when none is connected. */
int64_t raft_cfg_check_terms(struct raft_cfg *cfg);
void raft_cfg_check_no_leader(struct raft_cfg *cfg);
/* For an UNSAFE twin scenario (tests/raftext) that must show two leaders of one term: from now on
 * the election-safety hook records the first such term instead of failing the test. */
void raft_cfg_safety_observe(struct raft_cfg *cfg);
/* The first term seen with two leaders since raft_cfg_safety_observe (0: none yet). */
uint64_t raft_cfg_safety_violation(const struct raft_cfg *cfg);
/* nCommitted(index): how many servers applied `index`; *value (may be NULL) gets a borrowed
 * view of the value, valid until the next sim event. */
int raft_cfg_n_committed(struct raft_cfg *cfg, uint64_t index, struct raft_cfg_value *value);
/* wait(index, n, startTerm): returns false when some server moved past start_term (Go's -1);
 * start_term < 0 means do not check. On true *value holds the committed value. */
bool raft_cfg_wait(struct raft_cfg *cfg, uint64_t index, int n, int64_t start_term,
                   struct raft_cfg_value *value);
/* one(cmd, expectedServers, retry): the index of the agreed entry, or -1 once finished. */
int64_t raft_cfg_one(struct raft_cfg *cfg, const struct raft_cfg_value *cmd, int expected,
                     bool retry);
int64_t raft_cfg_one_int(struct raft_cfg *cfg, int64_t v, int expected, bool retry);

#endif /* RAFT_CFG_H */
