/* raft_int: the private contract between the files of the Raft implementation.
 *
 * One concern per file (the canonical/raft way):
 *   raft.c        lifecycle and the lab API (make, start, get-state, kill, free, inspect)
 *   log.c         the in-memory log, offset by the snapshot (section 7)
 *   persist.c     encoding of the persistent state (Figure 2) and of log entries with labgob,
 *                 the cache of encoded entries, save and restore
 *   call.c        in-flight RPC records and the common send path
 *   election.c    roles, the election timer, RequestVote (section 5.2, 5.4.1)
 *   replication.c AppendEntries, heartbeats, fast backup, commit (sections 5.3, 5.4.2)
 *   snapshot.c    Snapshot() and InstallSnapshot (section 7)
 *   apply.c       in-order delivery to the service (apply callback)
 *   prevote.c     pre-vote (thesis 9.6), option RAFT_OPT_PRE_VOTE
 *   quorum.c      check-quorum and leader stickiness (thesis 6.2, 4.2.3), RAFT_OPT_CHECK_QUORUM
 *   transfer.c    leadership transfer and TimeoutNow (thesis 3.10), raft_transfer_leadership
 *   membership.c  configurations, learners and the raft_member_* calls (thesis chapter 4):
 *                 which peers vote, count and get entries (RAFT_OPT_MEMBERSHIP)
 *   pipeline.c    RAFT_OPT_PIPELINE: several AppendEntries in flight per follower (probe and
 *                 replicate states, etcd/raft's design)
 *   read_index.c  read-index and lease reads, the no-op of a new leader's term, the follower's
 *                 lease window (raft_ext.h "reads"; thesis sections 6.4, 6.4.1, 4.2.3)
 * Traces go through the raft_trace_* calls of raft.h (trace_api.c, provided to every Raft).
 *
 * Invariants of `struct raft` (checked by raft_check_invariants after every entry point):
 *   1. log.snapshot_index <= commit_index <= last log index.
 *   2. last_applied <= commit_index; unless a snapshot is pending delivery,
 *      log.snapshot_index <= last_applied.
 *   3. Log terms never decrease along the log, and never exceed current_term.
 *   4. A leader voted for itself in its term; voted_for is -1 or a peer id.
 *   5. On a leader, match_index[i] < next_index[i] <= last index + 1.
 *   6. A dead instance has no pending timer.
 *   7. prevoting only on a follower; prevotes_mask is 0 unless prevoting, and then holds self.
 *   8. transfer_target is -1 or a peer other than me, and only a leader has one (with its
 *      deadline timer pending); transfer_campaign only on a candidate.
 *   9. With no option flag set, prevoting stays false and leader contact is never consulted
 *      (off means off: no event, draw, trace or wire field of their own); transfer state moves
 *      only after raft_transfer_leadership is called, whatever the options.
 *  10. Membership: the configuration in effect has voters, no peer is both voter and learner,
 *      no bit names a peer beyond peers_count, and member.config_index <= last log index;
 *      without RAFT_OPT_MEMBERSHIP it is every peer and no configuration entry exists.
 *  11. With RAFT_OPT_PIPELINE, on a leader: pipe_state[i] is probe or replicate, and
 *      pipe_inflight[i] counts only this term's AppendEntries (pipeline.c).
 *  12. reads.count <= RAFT_READS_MAX, and reads are pending only with a read option on; a
 *      confirmed read's index is <= commit_index; a dead instance has no pending read.
 *
 * Role transitions (Figure 2, "Rules for Servers"):
 *   follower  -> candidate : election timeout       raft_become_candidate (election.c)
 *   candidate -> candidate : election timeout       raft_become_candidate
 *   follower/candidate -> pre-voting follower : election timeout with pre-vote on
 *                                                   raft_prevote_start (prevote.c)
 *   pre-voting follower -> candidate : pre-votes from a majority   raft_prevote_start's reply
 *   follower  -> candidate : TimeoutNow from the leader (no pre-vote)  transfer.c
 *   leader    -> follower  : no reply from a majority within an election timeout (quorum.c)
 *   candidate -> leader    : votes from a majority  raft_become_leader (election.c)
 *   any       -> follower  : higher term seen, or   raft_become_follower (election.c)
 *                            AppendEntries/InstallSnapshot from the current leader
 */
#ifndef RAFT_INT_H
#define RAFT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../labgob/labgob.h"
#include "raft.h"
#include "raft_ext.h"

/* ---------------------------------------------------------------- errors */

#define RAFT_ERRNO_MAP(X)                                                                          \
    X(RAFT_OK, 0, "success")                                                                       \
    X(RAFT_ENOMEM, -1, "out of memory")                                                            \
    X(RAFT_ELIMIT, -2, "a bounded table or log is full")                                           \
    X(RAFT_EDECODE, -3, "malformed persisted state")

enum raft_err {
#define RAFT_ERR_ENUM(name, value, text) name = value,
    RAFT_ERRNO_MAP(RAFT_ERR_ENUM)
#undef RAFT_ERR_ENUM
};

const char *raft_strerror(int err);

/* ---------------------------------------------------------------- tuning */

/* Heartbeats: 10 per second per leader, the handout's ceiling, which also keeps TestCount3B's
 * idle budget (60 RPCs per second over 3 peers) with room to spare (2 x 10 = 20). */
#define RAFT_HEARTBEAT_US SIM_MS(100)

/* Election timeouts, uniform in [min, max). Why 300-600 ms:
 *  - at least 3 heartbeat intervals, so a follower only times out when three heartbeats in a
 *    row are lost (about 0.1% on the unreliable net, 10% request drop each), not on one;
 *  - a 300 ms spread is about 10x the worst one-way delay (26 ms unreliable), so two peers
 *    rarely time out within one vote round trip of each other: split votes are rare;
 *  - worst case for a new leader is max timeout plus a few split rounds, well inside the
 *    tester's 5 s (checkOneLeader's 10 polls of ~0.5 s). */
#define RAFT_ELECTION_TIMEOUT_MIN_US SIM_MS(300)
#define RAFT_ELECTION_TIMEOUT_MAX_US SIM_MS(600)
_Static_assert(RAFT_ELECTION_TIMEOUT_MIN_US >= 3 * RAFT_HEARTBEAT_US,
               "election timeout must span several heartbeats");

/* Entries per AppendEntries. Catch-up continues at once after each successful reply. */
#define RAFT_APPEND_ENTRIES_MAX 512u
/* Largest log we hold (a bound, per H14); start() refuses beyond it. */
#define RAFT_LOG_ENTRIES_MAX (1u << 24)
/* Largest number of entries accepted in one incoming AppendEntries. */
#define RAFT_DECODE_ENTRIES_MAX (1u << 20)
/* RPCs in flight per instance. Beyond it a send is skipped (as if the net dropped it). */
#define RAFT_CALLS_MAX (1u << 16)
/* Entries per chunk of the persisted log's cache (persist.c): a full chunk is one cached run. */
#define RAFT_PERSIST_CHUNK_ENTRIES 64u
/* RAFT_OPT_PIPELINE: AppendEntries in flight per follower in the replicate state before new
 * entries wait for a reply. Each carries every entry of its instant (up to
 * RAFT_APPEND_ENTRIES_MAX), so 16 keeps a stream of Starts at 16 instants per round trip
 * flowing while bounding what a slow follower can have queued; a heartbeat is sent even when
 * the window is full (it is also the liveness path). */
#define RAFT_PIPELINE_WINDOW 16u
/* Messages delivered per apply event before yielding to other events. */
#define RAFT_APPLY_BATCH_MAX 1024u

_Static_assert(RAFT_PEERS_MAX <= 32, "votes are kept in a 32-bit mask");
_Static_assert(RAFT_APPEND_ENTRIES_MAX <= RAFT_DECODE_ENTRIES_MAX, "a leader's batch must fit");

/* ---------------------------------------------------------------- log (log.c) */

/* Entry types (the record's field 3, written only when nonzero: a lab log encodes as ever). */
#define RAFT_ENTRY_COMMAND 0u
#define RAFT_ENTRY_CONFIG 1u /* cmd holds an encoded struct raft_config (membership.c) */

struct raft_entry {
    uint64_t term;
    uint8_t type; /* RAFT_ENTRY_* */
    uint8_t *cmd; /* owned by the log; NULL when cmd_len == 0 */
    size_t cmd_len;
};

/* Entries (snapshot_index, snapshot_index + count]; entries[0] has index snapshot_index + 1.
 * Everything at or below snapshot_index lives only in the snapshot. */
struct raft_log {
    struct raft_entry *entries;
    size_t count;
    size_t cap;
    uint64_t snapshot_index; /* last index covered by the snapshot (0: none) */
    uint64_t snapshot_term;  /* its term (0: none) */
};

void raft_log_init(struct raft_log *log);
void raft_log_close(struct raft_log *log);
uint64_t raft_log_last_index(const struct raft_log *log);
uint64_t raft_log_last_term(const struct raft_log *log);
/* Term of `index`: the snapshot's term at snapshot_index, 0 when unknown (compacted away,
 * beyond the end, or index 0). */
uint64_t raft_log_term_at(const struct raft_log *log, uint64_t index);
/* The entry at `index`, which must be in (snapshot_index, last]. */
const struct raft_entry *raft_log_get(const struct raft_log *log, uint64_t index);
/* Appends a copy of cmd. RAFT_OK, RAFT_ENOMEM or RAFT_ELIMIT (the log is unchanged then). The
 * term must be >= the last term; callers assert it (this file has no sim to assert with). */
int raft_log_append(struct raft_log *log, uint64_t term, const uint8_t *cmd, size_t cmd_len);
/* The same for an entry of any RAFT_ENTRY_* type. */
int raft_log_append_typed(struct raft_log *log, uint64_t term, uint8_t type, const uint8_t *cmd,
                          size_t cmd_len);
/* Deletes every entry at or after `index` (> snapshot_index). */
void raft_log_truncate(struct raft_log *log, uint64_t index);
/* Discards entries through `index` (in (snapshot_index, last]); they move into the snapshot. */
void raft_log_compact(struct raft_log *log, uint64_t index);
/* Discards every entry; the snapshot now ends at (index, term). */
void raft_log_reset(struct raft_log *log, uint64_t index, uint64_t term);
/* First index of the run of entries with the same term as `index`, not below
 * snapshot_index + 1 (fast backup, section 5.3). `index` must be in the log. */
uint64_t raft_log_term_first_index(const struct raft_log *log, uint64_t index);
/* Last index holding `term`, or 0 when no entry in the log has it. */
uint64_t raft_log_term_last_index(const struct raft_log *log, uint64_t term);

/* ---------------------------------------------------------------- in-flight calls (call.c) */

enum raft_call_kind { RAFT_CALL_VOTE = 0, RAFT_CALL_APPEND = 1, RAFT_CALL_SNAPSHOT = 2 };

/* What a reply needs to know about its request (Go keeps it on the goroutine's stack). */
struct raft_call {
    struct raft *rf;
    struct raft_call *prev; /* in rf->calls_live, or the free list (next only) */
    struct raft_call *next;
    enum raft_call_kind kind;
    int peer;
    uint64_t term;          /* currentTerm when sent */
    uint64_t index;         /* AppendEntries: prevLogIndex; InstallSnapshot: lastIncludedIndex */
    uint64_t entries_count; /* AppendEntries: entries sent */
    uint64_t seq;           /* rf->call_seq[peer] when sent: the latest RPC to it or not */
    uint64_t read_seq;      /* reads on: rf->reads.sent_seq when sent (read_index.c) */
    sim_time_us sent_us;    /* reads on: when sent */
};

/* Flushes persistent state (Figure 2: before sending), then sends `method` with the bytes
 * of rf->enc_msg to `peer`; `cb` gets the call record as ctx and must release it first thing
 * with raft_call_release. Returns false when the send was skipped (too many in flight). */
bool raft_call_send(struct raft *rf, int peer, enum raft_call_kind kind, const char *method,
                    uint64_t index, uint64_t entries_count, rpc_reply_cb cb);
/* A request that does not decode (or makes no sense) is ignored: nothing changes, and it is
 * answered with an empty reply, which every reply handler discards as it would a lost one
 * (an empty reply decodes to term 0, which no real reply carries). It is answered rather than
 * left pending because labrpc keeps polling an unanswered request for as long as the server
 * lives. */
#define RAFT_REPLY_IGNORED(req) rpc_req_reply((req), NULL, 0)
/* Answers `req` with the bytes of rf->enc_msg (an empty reply if encoding failed, which the
 * caller ignores as it would a lost one). */
void raft_reply(struct raft *rf, struct rpc_req *req);
/* Returns the record to rf's free list. The caller copies what it needs first. */
void raft_call_release(struct raft_call *call);
/* Frees every record, in flight or free (raft_free). */
void raft_calls_free_all(struct raft *rf);

/* ---------------------------------------------------------------- persist cache (persist.c) */

/* One piece of the persisted log's cache: a labgob run of entries [lo, hi], which lie in one
 * chunk (persist.c). */
struct raft_persist_chunk {
    uint8_t *bytes; /* owned */
    size_t len;
    uint64_t lo;
    uint64_t hi;
    uint64_t last_term;       /* term of entry hi when it was encoded */
    struct gob_header header; /* of bytes, parsed once (splicing does not parse it again) */
    struct gob_mark *marks;   /* owned; one per entry, so AppendEntries can splice a slice */
};

/* chunks[0..count) cover consecutive log entries, in order; count <= cap. */
struct raft_persist_cache {
    struct raft_persist_chunk *chunks;
    size_t count;
    size_t cap;
};

/* ---------------------------------------------------------------- reads (read_index.c) */

/* Reads and leases are failed past this (the service retries elsewhere): a read waits for at
 * most a few heartbeat rounds; past it the leader is most likely cut off. */
#define RAFT_READ_TIMEOUT_US SIM_MS(500)

struct raft_read {
    raft_read_cb cb;
    void *ctx;
    uint64_t term;       /* current_term when asked */
    uint64_t asked_seq;  /* reads.sent_seq when asked: a round confirms it with a later send */
    uint64_t read_index; /* once confirmed: the commit index to apply through */
    sim_time_us deadline_us;
    bool confirmed;
    bool by_lease;
};

struct raft_reads {
    struct raft_read queue[RAFT_READS_MAX]; /* [0, count), in arrival order */
    uint32_t count;
    uint64_t term;                           /* the term the ack fields below belong to */
    uint64_t sent_seq;                       /* AppendEntries sent so far (numbers them) */
    uint64_t ack_seq[RAFT_PEERS_MAX];        /* highest read_seq a peer answered in `term` */
    sim_time_us ack_sent_us[RAFT_PEERS_MAX]; /* send time of that AppendEntries */
    uint64_t round_seq;                      /* sent_seq when the open round began */
    bool round_open;                         /* a round is in flight and not yet confirmed */
    sim_time_us lease_until_us;              /* leader of `term`: the lease ends here */
    sim_time_us heard_us;                    /* follower: last AppendEntries from the leader */
    sim_timer_id event;                      /* the coalesced reads event (0: none) */
    struct raft_read_stats stats;
};

/* ---------------------------------------------------------------- the instance */

/* A follower's progress on a pipelining leader (pipeline.c; etcd/raft's Progress states). */
enum raft_pipe_state { RAFT_PIPE_PROBE = 0, RAFT_PIPE_REPLICATE = 1 };

/* A borrowed view of one decoded incoming entry (AppendEntries scratch). */
struct raft_entry_view {
    uint64_t term;
    uint8_t type; /* RAFT_ENTRY_* */
    const uint8_t *cmd;
    size_t cmd_len;
};

/* Membership state (membership.c). Without RAFT_OPT_MEMBERSHIP: config is every peer, for life. */
struct raft_member {
    struct raft_config config;      /* in effect: the latest in the log, committed or not */
    uint64_t config_index;          /* its entry's index; snapshot_index or 0 (initial) else */
    struct raft_config snap_config; /* the one at log.snapshot_index; voters 0: the initial one */
    /* Leader: when each peer last answered an AppendEntries with success (catch-up rule). */
    sim_time_us contact_us[RAFT_PEERS_MAX];
    uint32_t caught_up_traced; /* leader: learners whose catch-up was traced in this term */
};

struct raft {
    struct sim *sim;
    struct rpc_end *peers[RAFT_PEERS_MAX]; /* borrowed; peers[me] unused */
    int peers_count;
    int me;
    struct raft_persister *persister; /* borrowed */
    raft_apply_cb apply;
    void *apply_ctx;
    struct sim_rand rand; /* "raft.timer", me: election timeouts only */
    bool dead;
    struct raft_options opts; /* raft_ext.h, taken from the persister at make; fixed for life */

    /* Persistent state on all servers (Figure 2), plus the snapshot (section 7). */
    uint64_t current_term;
    int voted_for; /* -1: none */
    struct raft_log log;
    /* The service's latest snapshot, snapshot_len bytes. Until it is saved they are rf->snapshot
     * (owned); a save hands that buffer to the persister (raft_persister_save_owned), and from
     * then on (snapshot_saved) the persister's bytes are the only copy: rf->snapshot is NULL
     * and raft_snapshot_bytes reads them there. One copy of a snapshot fewer per save. */
    uint8_t *snapshot;
    size_t snapshot_len;
    bool snapshot_saved; /* the persister holds the snapshot (saved since the last store) */
    bool persist_dirty;  /* changed since the last save: save before sending or replying */
    struct raft_persist_cache pcache;

    /* Volatile state on all servers (Figure 2). */
    enum raft_role role;
    uint64_t commit_index;
    uint64_t last_applied;
    bool snapshot_pending; /* an installed snapshot awaits delivery on the apply callback */

    /* Volatile state on leaders (Figure 2), reinitialised after election. */
    uint64_t next_index[RAFT_PEERS_MAX];
    uint64_t match_index[RAFT_PEERS_MAX];
    /* Highest index sent to the peer in this term whose reply may still come; lets a success
     * reply skip an immediate resend when another AppendEntries already carries the rest. */
    uint64_t inflight_index[RAFT_PEERS_MAX];
    /* RPCs sent to each peer so far (numbers the calls; see append_lost). */
    uint64_t call_seq[RAFT_PEERS_MAX];
    /* RAFT_OPT_PIPELINE only (pipeline.c): each follower's progress state, and this term's
     * AppendEntries to it whose outcome has not come back. */
    enum raft_pipe_state pipe_state[RAFT_PEERS_MAX];
    uint32_t pipe_inflight[RAFT_PEERS_MAX];

    /* Candidate: who granted a vote in current_term (bit per peer, self included). */
    uint32_t votes_mask;

    /* Pre-vote (prevote.c): a round asks for current_term + 1 without raising current_term. */
    bool prevoting;         /* a round is under way (the role stays follower) */
    uint32_t prevotes_mask; /* who granted this round (self included) */
    uint64_t prevote_round; /* numbers the rounds, so a late grant of an old one is not counted */
    /* Check-quorum (quorum.c). When this instance last heard from a leader of its term (an
     * AppendEntries or InstallSnapshot it accepted; 0: never), and, on a leader, when each peer
     * last answered it in its term. */
    sim_time_us leader_contact_us;
    sim_time_us peer_contact_us[RAFT_PEERS_MAX];

    /* Leadership transfer (transfer.c). */
    int transfer_target;            /* -1: none */
    bool transfer_timeout_now_sent; /* TimeoutNow went to the target */
    sim_timer_id transfer_timer;    /* abandons the transfer after an election timeout */
    bool transfer_campaign;         /* this candidacy came from TimeoutNow: votes carry the flag */
    struct raft_member member;

    /* Timers and events (0: none pending). */
    sim_time_us election_deadline_us;
    sim_timer_id election_timer;
    sim_time_us election_timer_due_us; /* when the pending election_timer event runs */
    sim_timer_id heartbeat_timer;
    sim_timer_id replicate_event;
    sim_timer_id apply_event;

    /* In-flight RPC records (call.c). */
    struct raft_call *calls_live;
    struct raft_call *calls_free;
    size_t calls_live_count;

    /* Reused buffers: no allocation per message once warm. */
    struct gob_enc enc_msg;   /* outgoing request or reply */
    struct gob_enc enc_state; /* persistent state */
    struct gob_enc enc_chunk; /* one piece of the persisted log's cache */
    struct raft_entry_view *scratch_entries;
    size_t scratch_entries_cap;
    uint8_t *apply_buf; /* copy of what the apply callback sees (the callback may trim the log) */
    size_t apply_buf_cap;

    struct raft_reads *reads; /* read_index.c; NULL unless a read option is on */
};

/* Node id for assertions and traces. */
#define RAFT_ASSERT(rf, cond) SIM_ASSERT((rf)->sim, (rf)->me, cond)
#define RAFT_ASSERTF(rf, cond, ...) SIM_ASSERTF((rf)->sim, (rf)->me, cond, __VA_ARGS__)

/* Checks the invariants listed at the top of this file. */
void raft_check_invariants(const struct raft *rf);
/* Grows *buf to at least `need` bytes (realloc). Returns false on OOM. */
bool raft_buf_reserve(uint8_t **buf, size_t *cap, size_t need);

/* ---------------------------------------------------------------- wire numbers */

/* Terms, indices and peer ids travel as Go ints (labgob ints), as a Go Raft's do, so labgob's
 * gob model charges what Go's gob would (a term of 64 takes 2 bytes as an int, 1 as a uint).
 * They stay far below 2^62, so the conversions are exact. */
static inline void raft_wire_put_num(struct gob_enc *e, uint32_t field, uint64_t v)
{
    gob_put_int(e, field, (int64_t)(v & (uint64_t)INT64_MAX));
}

/* Reads such a number; false when it is negative (the message is malformed). Absent: 0. */
static inline bool raft_wire_get_num(struct gob_dec *d, uint32_t field, uint64_t *out)
{
    int64_t v = 0;
    gob_get_int(d, field, &v);
    if (v < 0) return false;
    *out = (uint64_t)v;
    return true;
}

/* ---------------------------------------------------------------- persist.c */

/* Marks term, vote, log or snapshot as changed. */
void raft_persist_mark(struct raft *rf);
/* Saves state and snapshot when marked (Figure 2: "updated on stable storage before
 * responding to RPCs"). On OOM the mark stays, so the next flush retries. */
void raft_persist_flush(struct raft *rf);
/* Entries at or after from_index were truncated, or entries were compacted away (pass
 * UINT64_MAX): drops the cached encodings that no longer match the log. */
void raft_persist_log_changed(struct raft *rf, uint64_t from_index);
/* Frees the cache and its encoder (raft_free). */
void raft_persist_close(struct raft *rf);
/* Puts entries [first, first + count) of the log (all after the snapshot) as field `field`
 * (> 0): an array of records {1 term, 2 command as an interface value}, a Go Raft's
 * []LogEntry, spliced from the persisted pieces (which it brings up to date). AppendEntries
 * uses it; the persisted state is the same array of all entries. */
void raft_entries_put(struct raft *rf, struct gob_enc *e, uint32_t field, uint64_t first,
                      uint64_t count);
/* Restores term, vote, log and snapshot from rf->persister (raft_make). Empty state is
 * fresh start. RAFT_OK, RAFT_ENOMEM, or RAFT_EDECODE (rf is then left fresh). */
int raft_persist_restore(struct raft *rf);

/* ---------------------------------------------------------------- election.c */

void raft_become_follower(struct raft *rf, uint64_t term);
void raft_become_candidate(struct raft *rf);
void raft_become_leader(struct raft *rf);
/* Picks a new random election deadline and makes sure the timer is armed. */
void raft_election_reset(struct raft *rf);
void raft_handle_request_vote(void *receiver, struct rpc_req *req, const uint8_t *args,
                              size_t args_len);
/* Section 5.4.1: whether a candidate whose log ends at (last_index, last_term) is at least as
 * up to date as ours (RequestVote and PreVote alike). */
bool raft_candidate_log_ok(const struct raft *rf, uint64_t last_index, uint64_t last_term);

/* ---------------------------------------------------------------- prevote.c */

/* Election timeout with RAFT_OPT_PRE_VOTE: becomes (or stays) a follower of current_term and
 * asks every peer whether it could win term current_term + 1 (thesis 9.6). */
void raft_prevote_start(struct raft *rf);
void raft_handle_prevote(void *receiver, struct rpc_req *req, const uint8_t *args, size_t args_len);

/* ---------------------------------------------------------------- quorum.c */

/* A leader of current_term was heard from (AppendEntries or InstallSnapshot accepted). */
void raft_quorum_leader_heard(struct raft *rf);
/* Leader: `peer` answered a request of current_term. */
void raft_quorum_peer_heard(struct raft *rf, int peer);
/* Leader, just elected: every peer counts as heard now (the window starts at election). */
void raft_quorum_reset(struct raft *rf);
/* Leader, each heartbeat, with RAFT_OPT_CHECK_QUORUM: steps down when a majority has not
 * answered within an election timeout (thesis 6.2). Returns true when it stepped down. */
bool raft_quorum_check(struct raft *rf);
/* Whether this instance heard from a current leader within the minimum election timeout (a
 * leader counts itself): pre-votes are refused then, and with RAFT_OPT_CHECK_QUORUM so are
 * RequestVotes that do not carry the transfer flag (leader stickiness, thesis 4.2.3). */
bool raft_quorum_leader_recent(const struct raft *rf);
/* RequestVote with RAFT_OPT_CHECK_QUORUM: traces a vote ignored by stickiness. */
void raft_quorum_trace_ignored(struct raft *rf, uint64_t term, int candidate);

/* ---------------------------------------------------------------- transfer.c */

/* The leader stops leading (any step-down; `term_rose` when a later term deposed it): a transfer
 * under way is over, done when the TimeoutNow went out and a later term appeared, abandoned
 * otherwise. */
void raft_transfer_end(struct raft *rf, bool term_rose);
/* Leader: `peer` now matches through `match`; when it is the target and caught up, sends it
 * TimeoutNow. */
void raft_transfer_matched(struct raft *rf, int peer);
void raft_handle_timeout_now(void *receiver, struct rpc_req *req, const uint8_t *args,
                             size_t args_len);

/* ---------------------------------------------------------------- replication.c */

/* Sends AppendEntries (or InstallSnapshot when the peer needs compacted entries) to `peer`. */
void raft_replicate_peer(struct raft *rf, int peer);
/* Leader: `peer` is known to hold our log through `match` (a success reply): moves
 * matchIndex/nextIndex forward, advances commit, and continues a catch-up. */
void raft_replicate_matched(struct raft *rf, int peer, uint64_t match);
/* Coalesced immediate replication: one event at delay 0 however many starts ask for it. */
void raft_replicate_schedule(struct raft *rf);
/* Starts the leader's heartbeats: one round now, then every RAFT_HEARTBEAT_US. */
void raft_heartbeat_start(struct raft *rf);
/* Leader: advances commit_index by counting matches (5.3, 5.4.2). */
void raft_commit_advance(struct raft *rf);
/* Raises commit_index to `index` (never lowers it) and schedules apply. */
void raft_commit_set(struct raft *rf, uint64_t index);
void raft_handle_append_entries(void *receiver, struct rpc_req *req, const uint8_t *args,
                                size_t args_len);

/* ---------------------------------------------------------------- snapshot.c */

void raft_send_install_snapshot(struct raft *rf, int peer);
void raft_handle_install_snapshot(void *receiver, struct rpc_req *req, const uint8_t *args,
                                  size_t args_len);
/* Replaces the held snapshot bytes with a copy. Returns false on OOM (nothing changed). */
bool raft_snapshot_store(struct raft *rf, const uint8_t *data, size_t len);
/* The snapshot's snapshot_len bytes, wherever they are held (see struct raft); valid until the
 * next store or save. */
const uint8_t *raft_snapshot_bytes(const struct raft *rf);

/* ---------------------------------------------------------------- membership.c */

/* The configuration every instance starts with (raft_make), before its log is read. */
void raft_member_init(struct raft *rf);
/* Recomputes the configuration in effect from the log, the snapshot's and the initial one
 * (after a truncation, an installed snapshot, a restore). */
void raft_member_refresh(struct raft *rf);
/* The entry at `index` was just appended: a configuration entry takes effect now (4.1). */
void raft_member_appended(struct raft *rf, uint64_t index);
/* The log is about to be compacted through `index`: records the configuration there. */
void raft_member_compacting(struct raft *rf, uint64_t index);
/* Whether `peer` votes in the configuration in effect (every peer without the option). */
bool raft_member_voter(const struct raft *rf, int peer);
/* Leader: whether `peer` (not us) gets AppendEntries: a voter or a learner. */
bool raft_member_replicated(const struct raft *rf, int peer);
/* Whether `votes` (a mask) holds a majority of the voters in effect. */
bool raft_member_quorum(const struct raft *rf, uint32_t votes);
/* Leader: `peer` answered an AppendEntries or InstallSnapshot with success. */
void raft_member_contact(struct raft *rf, int peer);
/* Leader: commit_index moved; steps down when the entry removing us committed (4.2.2). */
void raft_member_commit_check(struct raft *rf);
/* InstallSnapshot: puts the snapshot's configuration as fields f, f + 1 (nothing when it is
 * the initial one) and reads them back (false when malformed). */
void raft_member_snap_put(const struct raft *rf, struct gob_enc *e, uint32_t field);
bool raft_member_snap_get(const struct raft *rf, struct gob_dec *d, uint32_t field,
                          struct raft_config *out);
/* Whether an incoming entry of `type` with these bytes may enter the log (a configuration entry
 * needs the option and must decode to a valid configuration). */
bool raft_member_entry_valid(const struct raft *rf, uint64_t type, const uint8_t *cmd, size_t len);
/* Checks invariant 10. */
void raft_member_check(const struct raft *rf);

/* ---------------------------------------------------------------- apply.c */

/* Schedules in-order delivery (an event at delay 0) when something is waiting. */
void raft_apply_schedule(struct raft *rf);

/* ---------------------------------------------------------------- pipeline.c */

/* Whether RAFT_OPT_PIPELINE is on. Every other call below does nothing when it is off, except
 * raft_pipe_may_send and raft_pipe_reject_stale, which then answer by the lab's rules. */
bool raft_pipe_on(const struct raft *rf);
/* Election won: every follower in probe, nothing in flight. */
void raft_pipe_reset(struct raft *rf);
/* Whether a Start or a success reply should send `peer` an AppendEntries now. */
bool raft_pipe_may_send(const struct raft *rf, int peer);
/* Sends `peer` what raft_pipe_may_send allows: one request (raft_replicate_peer) in probe or
 * with the option off, up to the window in replicate. */
void raft_pipe_send(struct raft *rf, int peer);
/* An AppendEntries at prev with count entries left for `peer`. */
void raft_pipe_sent(struct raft *rf, int peer, uint64_t prev, uint64_t count);
/* An InstallSnapshot left for `peer`: back to probe. */
void raft_pipe_snapshot_sent(struct raft *rf, int peer);
/* The outcome (reply or loss) of an AppendEntries sent in `term` came back. */
void raft_pipe_done(struct raft *rf, int peer, uint64_t term);
/* A success reply: `peer` matched, replicate from now on. */
void raft_pipe_matched(struct raft *rf, int peer);
/* A rejection of the AppendEntries at prev: true when it is stale and must be ignored. */
bool raft_pipe_reject_stale(struct raft *rf, int peer, uint64_t prev);
/* The latest request to `peer` was lost: nextIndex = matchIndex + 1, probe. */
void raft_pipe_lost(struct raft *rf, int peer);
/* Invariant 11. */
void raft_pipe_check(const struct raft *rf);

/* ---------------------------------------------------------------- read_index.c */

/* Every hook below returns at once (no event, no trace, no RNG draw) when rf->reads is NULL,
 * that is with both read options off. */
/* raft_make: allocates rf->reads and registers the read entry point on the persister. Returns
 * false on OOM. */
bool raft_reads_init(struct raft *rf);
/* raft_kill: fails every pending read (callbacks run now). raft_free: frees rf->reads. */
void raft_reads_kill(struct raft *rf);
void raft_reads_free(struct raft *rf);
/* raft_call_send: numbers an AppendEntries for the rounds. */
void raft_reads_on_send(struct raft *rf, struct raft_call *call);
/* on_append_reply: `peer` answered an AppendEntries of the current term as a follower of it. */
void raft_reads_acked(struct raft *rf, int peer, uint64_t read_seq, sim_time_us sent_us);
/* Heartbeat: every regular round is a read round too. */
void raft_reads_heartbeat(struct raft *rf);
/* Something a pending read waits on changed (apply, commit, role): re-check in an event. */
void raft_reads_poke(struct raft *rf);
/* Follower: an AppendEntries of the current leader arrived (the lease window restarts). */
void raft_reads_heard(struct raft *rf);
/* RequestVote receiver: true when the request is to be ignored (lease window, section 4.2.3). */
bool raft_reads_vote_held(struct raft *rf, uint64_t term, int candidate);

#endif /* RAFT_INT_H */
