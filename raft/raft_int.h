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
 *   7. reads.count <= RAFT_READS_MAX, and reads are pending only with a read option on; a
 *      confirmed read's index is <= commit_index; a dead instance has no pending read.
 *
 * Role transitions (Figure 2, "Rules for Servers"):
 *   follower  -> candidate : election timeout       raft_become_candidate (election.c)
 *   candidate -> candidate : election timeout       raft_become_candidate
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
/* Messages delivered per apply event before yielding to other events. */
#define RAFT_APPLY_BATCH_MAX 1024u

_Static_assert(RAFT_PEERS_MAX <= 32, "votes are kept in a 32-bit mask");
_Static_assert(RAFT_APPEND_ENTRIES_MAX <= RAFT_DECODE_ENTRIES_MAX, "a leader's batch must fit");

/* ---------------------------------------------------------------- log (log.c) */

struct raft_entry {
    uint64_t term;
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

/* A borrowed view of one decoded incoming entry (AppendEntries scratch). */
struct raft_entry_view {
    uint64_t term;
    const uint8_t *cmd;
    size_t cmd_len;
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
    uint8_t *snapshot; /* owned; the service's latest snapshot (NULL when none) */
    size_t snapshot_len;
    bool snapshot_saved; /* the persister holds these very bytes (saved since the last store) */
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

    /* Candidate: who granted a vote in current_term (bit per peer, self included). */
    uint32_t votes_mask;

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

/* ---------------------------------------------------------------- apply.c */

/* Schedules in-order delivery (an event at delay 0) when something is waiting. */
void raft_apply_schedule(struct raft *rf);

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
