/* ext_member_cfg: the Raft tester (tests/raft/raft_cfg.h) extended for membership scenarios:
 * a cluster whose first voters are a subset of its servers, membership changes driven to
 * commitment, and "only this side runs" switches (the rest crashed).
 *
 * Unlike raft_cfg, which stays raft.h-only so students can build it, this extension uses
 * labsim's own Raft through raft_ext.h (raft_member_*): membership scenarios (part ext) only run
 * against our Raft.
 */
#ifndef EXT_MEMBER_CFG_H
#define EXT_MEMBER_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include "raft_cfg.h"
#include "raft_ext.h"

/* Returned by ext_member_step/ext_member_move when the change did not commit in time. */
#define EXT_MEMBER_TIMEOUT 1

enum ext_member_op {
    EXT_MEMBER_ADD_LEARNER = 0,
    EXT_MEMBER_PROMOTE = 1,
    EXT_MEMBER_REMOVE = 2,
};

/* raft_cfg_make with `n` servers of which `voters` (a mask) are the first voters, every Raft
 * made with the option list `raft_opts` (e.g. "membership"), on a reliable network; with
 * `snapshot` the services snapshot every 10 entries (config.go's applierSnap). */
struct raft_cfg *ext_member_cfg_make(struct lab_ctx *ctx, int n, uint32_t voters,
                                     const char *raft_opts, bool snapshot);

/* The running server among `mask` that claims leadership with the highest term (-1: none);
 * *term (may be NULL) gets that term. */
int ext_member_leader(struct raft_cfg *cfg, uint32_t mask, uint64_t *term);
/* Polls every 50 ms for up to timeout_us for a leader among `mask` whose term exceeds
 * `term_above`. Returns it, or -1. */
int ext_member_wait_leader(struct raft_cfg *cfg, uint32_t mask, uint64_t term_above,
                           sim_time_us timeout_us);

/* Drives the configuration of the leader among `mask` to `to` and waits until a leader has it
 * committed: retries while a change is pending or the leader changes, and starts a command
 * (values from *cmd, incremented) when a new leader must first commit in its term. Returns
 * 0, EXT_MEMBER_TIMEOUT, or the refusal that retrying cannot cure (RAFT_EMULTI,
 * RAFT_ELAGGING, RAFT_ESERVER). */
int ext_member_move(struct raft_cfg *cfg, uint32_t mask, const struct raft_config *to, int64_t *cmd,
                    sim_time_us timeout_us);
/* One single-server change (op on `server`) from the current leader's configuration, as
 * ext_member_move. */
int ext_member_step(struct raft_cfg *cfg, uint32_t mask, enum ext_member_op op, int server,
                    int64_t *cmd, sim_time_us timeout_us);

/* Only the servers of `side` run: every other server is crashed; those of `side` not running
 * are restarted (from their persisters, with `applier`) and all of `side` are connected. */
void ext_member_run_only(struct raft_cfg *cfg, uint32_t side, enum raft_cfg_applier applier);

/* "voters {0,1,2} learners {3}" for messages. */
void ext_member_config_format(const struct raft_config *c, char *buf, size_t size);

#endif /* EXT_MEMBER_CFG_H */
