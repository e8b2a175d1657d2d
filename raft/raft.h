/* raft: the Raft consensus module (Ongaro & Ousterhout, "In Search of an Understandable
 * Consensus Algorithm", extended version: Figure 2, sections 5 and 7) and the persister.
 *
 * This header is the whole contract between a Raft implementation and the graded suites, in
 * the shape of the 6.824 lab: make, start, get-state, snapshot, kill. A student builds the
 * suites against another implementation file (see the README, `make grade RAFT_IMPL=...`);
 * it must implement every function of the "lab API" part, and the "introspection" pair, which
 * only the study tools use (stubs that fill zeros are fine). The "persister" and "trace" parts
 * are provided: raft/persister.c and raft/trace_api.c are always linked, like the handout's
 * persister.go. `labsim init raft DIR` writes a skeleton to start from. Student files include
 * this header as "raft.h" (the build puts raft/, labgob/, labrpc/ and src/ on the include
 * path, so "labgob.h", "labrpc.h" and "sim.h" work the same way).
 *
 * A Raft instance is event-driven: it runs only inside events of its `struct sim` (timers,
 * RPC handlers, RPC completions). It never blocks.
 *
 * Ownership: the harness owns the persister, the ends and the server; the Raft borrows them
 * for its life. Log commands are opaque byte strings copied by raft_start. Log indices start
 * at 1.
 */
#ifndef RAFT_H
#define RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../labrpc/labrpc.h"
#include "../src/sim.h"

/* ---------------------------------------------------------------- persister */

/* 6.824's Persister: Raft state and snapshot, replaced together by raft_persister_save. A
 * crash gives the restarted node a copy of exactly what was saved before it. */
struct raft_persister;

struct raft_persister *raft_persister_new(void);
/* A new persister holding the same bytes (Go's Copy). NULL on OOM. */
struct raft_persister *raft_persister_copy(const struct raft_persister *p);
void raft_persister_free(struct raft_persister *p);
/* Replaces both buffers with copies. snapshot==NULL (len 0) erases any snapshot, as Go's
 * Save(state, nil) does. Passing back the view raft_persister_snapshot gave (same pointer and
 * length) keeps that snapshot without copying it. Returns 0 or -1 on OOM (the old contents
 * are then kept). */
int raft_persister_save(struct raft_persister *p, const uint8_t *state, size_t state_len,
                        const uint8_t *snapshot, size_t snapshot_len);
/* Borrowed views, valid until the next save or free. Empty: *len = 0 (pointer may be NULL). */
const uint8_t *raft_persister_state(const struct raft_persister *p, size_t *len);
const uint8_t *raft_persister_snapshot(const struct raft_persister *p, size_t *len);
/* Go's RaftStateSize / SnapshotSize, as Go's gob would make them: the stored bytes' size under
 * labgob's gob model (gob_size_stream), or their raw length when they are not labgob. */
size_t raft_persister_state_size(const struct raft_persister *p);
size_t raft_persister_snapshot_size(const struct raft_persister *p);

/* ---------------------------------------------------------------- lab API */

/* What the apply callback receives (Go's ApplyMsg). Pointers are borrowed for the duration of
 * the callback. Exactly one of command_valid / snapshot_valid is true. */
struct raft_apply_msg {
    bool command_valid;
    const uint8_t *command;
    size_t command_len;
    uint64_t command_index;

    bool snapshot_valid;
    const uint8_t *snapshot;
    size_t snapshot_len;
    uint64_t snapshot_term;
    uint64_t snapshot_index;
};

/* Called for each committed command and each installed snapshot, strictly in order. The
 * callee may call raft_snapshot, raft_start, raft_get_state and raft_kill on the same instance
 * from inside the callback; the implementation must cope (no lock is held, but state may
 * change under it). Runs inside a sim event. */
typedef void (*raft_apply_cb)(void *ctx, const struct raft_apply_msg *msg);

struct raft;

/* Go's Make(peers, me, persister, applyCh). peers[i] is the end to peer i (peers[me] is not
 * used); the array is copied, the ends are borrowed. State is restored from the persister
 * (including the snapshot, whose contents the service reads itself at start-up; Raft need not
 * deliver it on the apply callback). Starts the election timer. NULL on OOM. */
struct raft *raft_make(struct sim *sim, struct rpc_end *const *peers, int peers_count, int me,
                       struct raft_persister *persister, raft_apply_cb apply, void *apply_ctx);

/* Registers this instance's RPC handlers ("Raft.RequestVote", "Raft.AppendEntries",
 * "Raft.InstallSnapshot", ...) on `server` (Go's MakeService(rf) + AddService). */
int raft_register(struct raft *rf, struct rpc_server *server);

/* Go's Start(command): on a leader, appends the command (copied) and starts replicating it at
 * once; returns true with the index it will have and the current term. On a non-leader
 * returns false (index and term still set to the next index and current term). index and
 * term are never NULL when the harness or kvraft calls (an implementation may still accept
 * NULL, as ours does). */
bool raft_start(struct raft *rf, const uint8_t *command, size_t command_len, uint64_t *index,
                uint64_t *term);

/* Go's GetState(): the current term and whether this instance believes it is the leader.
 * term is never NULL when the harness or kvraft calls. */
bool raft_get_state(const struct raft *rf, uint64_t *term);

/* Go's Snapshot(index, snapshot): the service has a snapshot covering everything up to and
 * including `index`; Raft may discard its log through that index. Bytes are copied. */
void raft_snapshot(struct raft *rf, uint64_t index, const uint8_t *snapshot, size_t len);

/* Go's Kill(): the instance stops acting (timers cancelled, late RPC replies ignored, handlers
 * answer nothing useful) but stays allocated until raft_free, because events in flight may
 * still name it. */
void raft_kill(struct raft *rf);
bool raft_killed(const struct raft *rf);
/* Frees a killed instance. Call only when no event of its sim can still reach it (the
 * harness does it after the run). */
void raft_free(struct raft *rf);

/* ---------------------------------------------------------------- introspection */

enum raft_role { RAFT_FOLLOWER = 0, RAFT_CANDIDATE = 1, RAFT_LEADER = 2 };

#define RAFT_PEERS_MAX 16

/* A snapshot of an instance's state for the study tools (step, log). */
struct raft_inspect {
    enum raft_role role;
    uint64_t term;
    int voted_for;           /* -1 for none */
    uint64_t snapshot_index; /* last index covered by the snapshot (0 if none) */
    uint64_t snapshot_term;
    uint64_t last_index;
    uint64_t commit_index;
    uint64_t last_applied;
    uint64_t next_index[RAFT_PEERS_MAX];  /* leader only */
    uint64_t match_index[RAFT_PEERS_MAX]; /* leader only */
    int peers_count;
};
void raft_inspect(const struct raft *rf, struct raft_inspect *out);
/* Term of log entry `index`, or 0 when it is not in the log (compacted or beyond the end). */
uint64_t raft_inspect_term_at(const struct raft *rf, uint64_t index);

/* ---------------------------------------------------------------- trace */

/* The structured DPrintf of this world: a Raft says what it did, and `labsim log`, `labsim
 * step` (e, c, b), the HTML timeline and the run's digest see it. Provided like the persister:
 * raft/trace_api.c is always linked, and our Raft makes exactly these calls. A Raft that makes
 * none still runs and is graded the same; only the study tools then see nothing of it (`step`'s
 * `e` says so). Each call records one event at the current virtual time on the node the Raft
 * runs on (the harness's node for it; `me` when no node is set, so lab 5's groups, which all
 * number their servers from 0, land on nodes of their own): call it when the thing happened,
 * from inside the event that did it. Every call is part of the digest,
 * so a run that traces more is a different (but still deterministic) run. Never fails; numbers
 * beyond INT64_MAX are shown as INT64_MAX.
 *
 * kind (id)                      call                       when
 * raft.role (200)                raft_trace_role            became follower, candidate or
 *                                                           leader of `term` (also once at
 *                                                           make: the state it starts in)
 * raft.election_timeout (201)    raft_trace_election_timeout  the election timer fired
 * raft.vote_request (202)        raft_trace_vote_request    sent RequestVote to `peer`
 * raft.vote_grant / _deny (203/204) raft_trace_vote         answered a RequestVote
 * raft.append (205)              raft_trace_append          an entry is now at `index`
 * raft.truncate (206)            raft_trace_truncate        deleting entries from_index..last
 * raft.commit (207)              raft_trace_commit          commitIndex rose to `index`
 * raft.apply (208)               raft_trace_apply           handing entry `index` to the service
 * raft.persist (209)             raft_trace_persist         saved to the persister
 * raft.snapshot_taken (210)      raft_trace_snapshot_taken  the service's Snapshot() compacted
 * raft.snapshot_installed (211)  raft_trace_snapshot_installed  InstallSnapshot accepted
 * raft.apply_snapshot (212)      raft_trace_apply_snapshot  handing a snapshot to the service
 * raft.reject (213)              raft_trace_reject          a message ignored, and why
 * raft.note (214)                raft_trace_note            anything else (printf-style)
 */
void raft_trace_role(struct sim *sim, int me, uint64_t term, enum raft_role role);
void raft_trace_election_timeout(struct sim *sim, int me, uint64_t term);
/* In `term`, asking `peer` for its vote with our last log index and term. */
void raft_trace_vote_request(struct sim *sim, int me, uint64_t term, int peer, uint64_t last_index,
                             uint64_t last_term);
/* Granted (or denied) our vote to `candidate` for `term` (the candidate's term). */
void raft_trace_vote(struct sim *sim, int me, uint64_t term, int candidate, bool granted);
/* The entry at `index` has term `term` (appended by Start or from an AppendEntries). */
void raft_trace_append(struct sim *sim, int me, uint64_t index, uint64_t term);
/* Entries from_index..last_index are being deleted (a conflict, or a snapshot replaces them). */
void raft_trace_truncate(struct sim *sim, int me, uint64_t from_index, uint64_t last_index);
/* commitIndex is now `index`; `term` is the current term. `step`'s `c` stops here. */
void raft_trace_commit(struct sim *sim, int me, uint64_t index, uint64_t term);
void raft_trace_apply(struct sim *sim, int me, uint64_t index);
void raft_trace_apply_snapshot(struct sim *sim, int me, uint64_t index, uint64_t term);
void raft_trace_persist(struct sim *sim, int me, size_t state_bytes, size_t snapshot_bytes);
/* The log now starts after `index` (of `term`), which the snapshot covers. */
void raft_trace_snapshot_taken(struct sim *sim, int me, uint64_t index, uint64_t term);
void raft_trace_snapshot_installed(struct sim *sim, int me, uint64_t index, uint64_t term);
/* A message from `peer` (-1: unknown) ignored because of `why` (first 63 bytes kept). */
void raft_trace_reject(struct sim *sim, int me, int peer, const char *why);
/* Free text, as DPrintf (the first 63 bytes are kept). Topic "test": `--topics test` shows
 * these notes beside the test's own events. */
void raft_trace_note(struct sim *sim, int me, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif /* RAFT_H */
