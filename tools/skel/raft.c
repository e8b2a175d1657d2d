/* raft.c: a Raft for labsim's lab 3 (parts 3A-3D), in one file, as `labsim init raft` starts it.
 *
 * The contract is raft.h (read it first): make, start, get-state, snapshot, kill, plus the
 * introspection pair the study tools use. Everything here runs inside events of `rf->sim`:
 * timers (sim_after), RPC handlers and RPC replies. Nothing blocks and nothing needs a lock;
 * all time and randomness come from the sim, so a seed replays the same run.
 *
 * Build and grade (from the labsim clone):
 *   make grade RAFT_IMPL=/path/to/this/raft.c BUILD=build-mine
 *
 * The lab's timing rules: the tester wants a new leader within 5 s of a failure and at most
 * 10 heartbeats per second from a leader.
 */
/* TODO: this is the skeleton `labsim init raft` writes. Work through its TODO comments in
 * the lab's order (3A elections, 3B log, 3C persistence, 3D snapshots) and grade each part
 * with `labsim run 3A` (3B, ...). Trace what your Raft does with the raft_trace_* calls of
 * raft.h: `labsim log`, `labsim step` and `labsim export` show them. */
#include <stdlib.h>
#include <string.h>

#include "labgob.h"
#include "raft.h"

#define HEARTBEAT_US SIM_MS(100) /* at most 10 per second (the lab's rule) */
#define ELECTION_TIMEOUT_MIN_US SIM_MS(300)
#define ELECTION_TIMEOUT_MAX_US SIM_MS(600)
#define TICK_US SIM_MS(10) /* how often the ticker looks at the clock */

/* One log entry. The command is opaque bytes, a copy owned by the log (or, in a decoded
 * message, a view into the message). */
struct log_entry {
    uint64_t term;
    const uint8_t *command;
    size_t command_len;
};

struct raft {
    struct sim *sim;                       /* time, timers and randomness come from here */
    struct rpc_end *peers[RAFT_PEERS_MAX]; /* borrowed; peers[me] is not used */
    int peers_count;
    int me;
    struct raft_persister *persister; /* borrowed */
    raft_apply_cb apply;              /* Go's applyCh */
    void *apply_ctx;
    bool dead;
    struct sim_rand rand; /* this peer's random stream */
    sim_timer_id ticker;  /* the pending tick (0: none) */

    /* Persistent state on all servers (Figure 2). */
    uint64_t current_term;
    int voted_for; /* -1: none */
    /* log[0] stands for the entry at log_start: index 0 and term 0 at first; in 3D the
     * snapshot's last included entry, whose term it keeps. Entry i is log[i - log_start]. */
    struct log_entry *log;
    size_t log_len;
    size_t log_cap;
    uint64_t log_start;
    uint8_t *snapshot; /* 3D: the service's latest snapshot (NULL: none) */
    size_t snapshot_len;

    /* Volatile state on all servers (Figure 2). */
    enum raft_role role;
    uint64_t commit_index;
    uint64_t last_applied;
    sim_timer_id apply_event; /* the pending apply_fire (0: none) */

    /* Volatile state on leaders (Figure 2), reinitialized after election. */
    uint64_t next_index[RAFT_PEERS_MAX];
    uint64_t match_index[RAFT_PEERS_MAX];

    /* TODO(3A-3D): add what else your Raft needs (an election deadline, votes, ...). */
};

/* TODO: delete these two lines once every TODO is done: until then they let the compiler
 * accept helpers and parameters that nothing uses yet. */
#pragma GCC diagnostic ignored "-Wunused-function"  /* TODO: delete */
#pragma GCC diagnostic ignored "-Wunused-parameter" /* TODO: delete */

static void persist(struct raft *rf);

/* ---------------------------------------------------------------- the log */

static uint64_t log_last_index(const struct raft *rf)
{
    return rf->log_start + rf->log_len - 1;
}

/* Term of the entry at `index`; 0 when the log does not hold it. */
static uint64_t log_term_at(const struct raft *rf, uint64_t index)
{
    if (index < rf->log_start || index > log_last_index(rf)) return 0;
    return rf->log[index - rf->log_start].term;
}

/* Appends a copy of the command. False when out of memory (the log is unchanged). */
static bool log_append(struct raft *rf, uint64_t term, const uint8_t *command, size_t len)
{
    if (rf->log_len == rf->log_cap) {
        size_t cap = rf->log_cap < 16 ? 16 : 2 * rf->log_cap;
        struct log_entry *grown = realloc(rf->log, cap * sizeof(*grown));
        if (grown == NULL) return false;
        rf->log = grown;
        rf->log_cap = cap;
    }
    uint8_t *copy = NULL;
    if (len > 0) {
        copy = malloc(len);
        if (copy == NULL) return false;
        memcpy(copy, command, len);
    }
    rf->log[rf->log_len++] = (struct log_entry){term, copy, len};
    return true;
}

/* TODO(3B): deleting entries from the end of the log (free their commands). (3D): dropping
 * the entries a snapshot covers, so that log[0] becomes its last included entry. */

/* ---------------------------------------------------------------- messages */

/* Numbers travel as Go ints (labgob ints), as a Go Raft's do, so the byte counts the tests
 * check are what Go would count. A negative number makes the message malformed. */
static void put_num(struct gob_enc *e, uint32_t field, uint64_t v)
{
    gob_put_int(e, field, (int64_t)(v & (uint64_t)INT64_MAX));
}

static bool get_num(struct gob_dec *d, uint32_t field, uint64_t *out)
{
    int64_t v = 0;
    gob_get_int(d, field, &v);
    *out = v < 0 ? 0 : (uint64_t)v;
    return v >= 0;
}

/* RequestVote (Figure 2). On the wire each member is a labgob field, numbered from 1 in the
 * order below. Zero fields are left out (as Go's gob does), so decode into a zeroed struct:
 * an absent field was zero. This pair is the example to follow for every other message. */
struct request_vote_args {
    uint64_t term;
    int candidate_id;
    uint64_t last_log_index;
    uint64_t last_log_term;
};

struct request_vote_reply {
    uint64_t term;
    bool vote_granted;
};

static void request_vote_args_encode(struct gob_enc *e, const struct request_vote_args *a)
{
    put_num(e, 1, a->term);
    gob_put_int(e, 2, a->candidate_id);
    put_num(e, 3, a->last_log_index);
    put_num(e, 4, a->last_log_term);
}

/* False when the bytes are not a well-formed RequestVoteArgs. */
static bool request_vote_args_decode(const uint8_t *buf, size_t len, struct request_vote_args *a)
{
    struct gob_dec d;
    int64_t candidate = 0;
    gob_dec_init(&d, buf, len);
    bool ok = get_num(&d, 1, &a->term);
    gob_get_int(&d, 2, &candidate);
    ok &= get_num(&d, 3, &a->last_log_index);
    ok &= get_num(&d, 4, &a->last_log_term);
    a->candidate_id = (int)candidate;
    return gob_dec_finish(&d) == GOB_OK && ok && candidate >= 0 && candidate < RAFT_PEERS_MAX;
}

static void request_vote_reply_encode(struct gob_enc *e, const struct request_vote_reply *r)
{
    put_num(e, 1, r->term);
    gob_put_bool(e, 2, r->vote_granted);
}

static bool request_vote_reply_decode(const uint8_t *buf, size_t len, struct request_vote_reply *r)
{
    struct gob_dec d;
    gob_dec_init(&d, buf, len);
    bool ok = get_num(&d, 1, &r->term);
    gob_get_bool(&d, 2, &r->vote_granted);
    return gob_dec_finish(&d) == GOB_OK && ok;
}

/* AppendEntries (Figure 2). The entries are an array of records {1 term, 2 command}, a Go
 * Raft's []LogEntry; the command goes as an interface value (gob_put_iface), as Go's
 * interface{} does, so the byte limits count it as Go would. */
struct append_entries_args {
    uint64_t term;
    int leader_id;
    uint64_t prev_log_index;
    uint64_t prev_log_term;
    const struct log_entry *entries; /* sending: into the log; decoded: malloc'd, free it */
    size_t entries_count;
    uint64_t leader_commit;
};

struct append_entries_reply {
    uint64_t term;
    bool success;
    uint64_t conflict_term;  /* 3C, the fast backup (optional): term at prev_log_index, */
    uint64_t conflict_index; /* and the first index of that term (or last index + 1) */
};

static void append_entries_args_encode(struct gob_enc *e, const struct append_entries_args *a)
{
    put_num(e, 1, a->term);
    gob_put_int(e, 2, a->leader_id);
    put_num(e, 3, a->prev_log_index);
    put_num(e, 4, a->prev_log_term);
    gob_put_array_begin(e, 5, GOB_RECORD, a->entries_count);
    for (size_t i = 0; i < a->entries_count; i++) {
        gob_put_record_begin(e, 0);
        put_num(e, 1, a->entries[i].term);
        gob_put_iface(e, 2, a->entries[i].command, a->entries[i].command_len);
        gob_put_record_end(e);
    }
    gob_put_array_end(e);
    put_num(e, 6, a->leader_commit);
}

/* The decoded commands are views into buf; a->entries is malloc'd (the caller frees it). */
static bool append_entries_args_decode(const uint8_t *buf, size_t len,
                                       struct append_entries_args *a)
{
    struct gob_dec d;
    int64_t leader = 0;
    gob_dec_init(&d, buf, len);
    bool ok = get_num(&d, 1, &a->term);
    gob_get_int(&d, 2, &leader);
    ok &= get_num(&d, 3, &a->prev_log_index);
    ok &= get_num(&d, 4, &a->prev_log_term);
    uint64_t n = gob_get_array_begin(&d, 5, GOB_RECORD);
    struct log_entry *entries = n > 0 ? calloc((size_t)n, sizeof(*entries)) : NULL;
    for (uint64_t i = 0; i < n && entries != NULL && gob_dec_err(&d) == GOB_OK; i++) {
        gob_get_elem_record_begin(&d);
        ok &= get_num(&d, 1, &entries[i].term);
        gob_get_iface(&d, 2, &entries[i].command, &entries[i].command_len);
        gob_get_record_end(&d);
    }
    if (n > 0 && entries != NULL) gob_get_array_end(&d);
    ok &= get_num(&d, 6, &a->leader_commit);
    a->leader_id = (int)leader;
    a->entries = entries;
    a->entries_count = (size_t)n;
    return gob_dec_finish(&d) == GOB_OK && ok && (n == 0 || entries != NULL) && leader >= 0 &&
           leader < RAFT_PEERS_MAX;
}

static void append_entries_reply_encode(struct gob_enc *e, const struct append_entries_reply *r)
{
    put_num(e, 1, r->term);
    gob_put_bool(e, 2, r->success);
    put_num(e, 3, r->conflict_term);
    put_num(e, 4, r->conflict_index);
}

static bool append_entries_reply_decode(const uint8_t *buf, size_t len,
                                        struct append_entries_reply *r)
{
    struct gob_dec d;
    gob_dec_init(&d, buf, len);
    bool ok = get_num(&d, 1, &r->term);
    gob_get_bool(&d, 2, &r->success);
    ok &= get_num(&d, 3, &r->conflict_term);
    ok &= get_num(&d, 4, &r->conflict_index);
    return gob_dec_finish(&d) == GOB_OK && ok;
}

/* TODO(3D): InstallSnapshot's arguments (term, leader_id, last_included_index,
 * last_included_term, data) and reply (term), with their encode and decode written like
 * RequestVote's above (gob_put_bytes / gob_get_bytes for the data). */

/* What a reply handler needs to know about its request (Go keeps it on the goroutine's
 * stack): malloc'd per call and freed by the reply handler, which labrpc runs exactly once
 * (with ok = false for a lost call, also for calls still in flight when the run ends). */
struct call {
    struct raft *rf;
    int peer;
    uint64_t term;  /* currentTerm when sent */
    uint64_t index; /* AppendEntries: prev_log_index; InstallSnapshot: last_included_index */
    uint64_t count; /* AppendEntries: entries sent */
};

/* Sends the message in `e` (then freed) to `peer`; `cb` gets a struct call. */
static void call_send(struct raft *rf, int peer, const char *method, struct gob_enc *e,
                      rpc_reply_cb cb, uint64_t index, uint64_t count)
{
    struct call *c = malloc(sizeof(*c));
    if (c != NULL && gob_enc_finish(e) == GOB_OK) {
        *c = (struct call){rf, peer, rf->current_term, index, count};
        rpc_end_call(rf->peers[peer], method, gob_enc_bytes(e), gob_enc_len(e), cb, c);
    } else {
        free(c); /* out of memory: as if the network lost it */
    }
    gob_enc_free(e);
}

/* Answers `req` with the message in `e` (then freed). */
static void reply_send(struct rpc_req *req, struct gob_enc *e)
{
    if (gob_enc_finish(e) == GOB_OK)
        rpc_req_reply(req, gob_enc_bytes(e), gob_enc_len(e));
    else
        rpc_req_reply(req, NULL, 0); /* an empty reply: the caller ignores it */
    gob_enc_free(e);
}

/* ---------------------------------------------------------------- applying */

static void apply_fire(struct sim *sim, void *arg);

static void apply_schedule(struct raft *rf)
{
    if (!rf->dead && rf->apply_event == 0) rf->apply_event = sim_after(rf->sim, 0, apply_fire, rf);
}

/* commitIndex rises to `index` (never falls); the new entries get applied. */
static void commit_to(struct raft *rf, uint64_t index)
{
    if (index <= rf->commit_index) return;
    rf->commit_index = index;
    raft_trace_commit(rf->sim, rf->me, index, rf->current_term);
    apply_schedule(rf);
}

/* Hands a copy of `len` bytes to the apply callback: the callback may call raft_snapshot,
 * which trims the log, so it must not see pointers into it. NULL when out of memory. */
static uint8_t *bytes_copy(const uint8_t *p, size_t len)
{
    uint8_t *copy = malloc(len > 0 ? len : 1);
    if (copy != NULL && len > 0) memcpy(copy, p, len);
    return copy;
}

/* Figure 2, All Servers: "If commitIndex > lastApplied: increment lastApplied, apply
 * log[lastApplied] to state machine". Runs as its own event, never inside an RPC handler or
 * Start: the service may call Start, Snapshot or Kill from the apply callback. */
static void apply_fire(struct sim *sim, void *arg)
{
    (void)sim;
    struct raft *rf = arg;
    rf->apply_event = 0;
    if (rf->dead) return;
    /* TODO(3B): while last_applied < commit_index, hand the next entry to the service: a
     * struct raft_apply_msg with command_valid, a copy of the command (bytes_copy) and its
     * index; raise last_applied first, then raft_trace_apply(rf->sim, rf->me, index), then
     * rf->apply(rf->apply_ctx, &msg). Re-read the state after each callback: it may have
     * killed this peer or compacted the log. (3D) An installed snapshot (snapshot_valid)
     * goes first, traced with raft_trace_apply_snapshot. */
}

/* ---------------------------------------------------------------- elections (3A) */

/* TODO(3A): the election: a random timeout (sim_rand_range(&rf->rand, ...) within
 * ELECTION_TIMEOUT_MIN_US..MAX_US), becoming a candidate (Figure 2: increment currentTerm,
 * vote for self, ask every peer with send_request_vote), follower or leader. Report every
 * change of role or term with raft_trace_role(rf->sim, rf->me, rf->current_term, rf->role)
 * and every vote asked with raft_trace_vote_request. */

static void on_request_vote_reply(void *ctx, bool ok, const uint8_t *reply, size_t len)
{
    struct call *c = ctx;
    struct raft *rf = c->rf;
    /* TODO(3A): keep what you need from c (peer, term) before freeing it. */
    free(c);
    struct request_vote_reply r = {0};
    if (rf->dead || !ok || !request_vote_reply_decode(reply, len, &r)) return;
    /* TODO(3A): a higher term in the reply makes us a follower; a vote granted for this
     * election (c->term still current, still a candidate) counts, and a majority makes us
     * leader, which sends heartbeats at once. */
}

static void send_request_vote(struct raft *rf, int peer, const struct request_vote_args *args)
{
    struct gob_enc e;
    gob_enc_init(&e);
    request_vote_args_encode(&e, args);
    call_send(rf, peer, "Raft.RequestVote", &e, on_request_vote_reply, 0, 0);
}

/* RequestVote RPC handler (Figure 2, "Receiver implementation"). */
static void handle_request_vote(void *receiver, struct rpc_req *req, const uint8_t *buf, size_t len)
{
    struct raft *rf = receiver;
    struct request_vote_args args = {0};
    struct request_vote_reply reply = {0};
    if (rf->dead) return; /* a killed peer answers nothing */
    if (!request_vote_args_decode(buf, len, &args) || args.candidate_id >= rf->peers_count) {
        raft_trace_reject(rf->sim, rf->me, -1, "bad RequestVote args");
        rpc_req_reply(req, NULL, 0);
        return;
    }
    /* TODO(3A): Figure 2's receiver rules: a higher term makes us a follower of it; grant the
     * vote (reply.vote_granted, remember voted_for, persist, reset the election timeout) only
     * in our current term, if we have not voted for someone else, and if the candidate's log
     * is at least as up-to-date as ours (section 5.4.1). */
    reply.term = rf->current_term;
    raft_trace_vote(rf->sim, rf->me, args.term, args.candidate_id, reply.vote_granted);
    struct gob_enc e;
    gob_enc_init(&e);
    request_vote_reply_encode(&e, &reply);
    reply_send(req, &e);
}

/* ---------------------------------------------------------------- replication (3B, 3C) */

/* TODO(3A): a leader's heartbeats: an AppendEntries to every peer, at most 10 per second.
 * TODO(3B): send_append_entries: everything from next_index[peer] (nothing: a heartbeat);
 * leaderCommit rule of Figure 2 (then commit_to); new entries go out as soon as raft_start
 * appends them. (3C) Back nextIndex up a whole term at a time on a rejection (the
 * conflict fields). */

static void on_append_entries_reply(void *ctx, bool ok, const uint8_t *reply, size_t len)
{
    struct call *c = ctx;
    struct raft *rf = c->rf;
    /* TODO(3A): keep what you need from c (peer, term, index, count) before freeing it. */
    free(c);
    struct append_entries_reply r = {0};
    if (rf->dead || !ok || !append_entries_reply_decode(reply, len, &r)) return;
    /* TODO(3A): a higher term in the reply makes us a follower. (3B) On success, raise
     * match_index and next_index (never lower them: replies come in any order) and see
     * whether a new index is committed; on failure, back next_index up and try again. */
}

/* AppendEntries RPC handler (Figure 2, "Receiver implementation"). */
static void handle_append_entries(void *receiver, struct rpc_req *req, const uint8_t *buf,
                                  size_t len)
{
    struct raft *rf = receiver;
    struct append_entries_args args = {0};
    struct append_entries_reply reply = {0};
    if (rf->dead) return; /* a killed peer answers nothing */
    if (!append_entries_args_decode(buf, len, &args) || args.leader_id >= rf->peers_count) {
        raft_trace_reject(rf->sim, rf->me, -1, "bad AppendEntries args");
        free((void *)args.entries);
        rpc_req_reply(req, NULL, 0);
        return;
    }
    /* TODO(3A): Figure 2's receiver rules: a request of our term or later comes from the
     * leader: follow it and reset the election timeout. (3B) Steps 2-5: check prev_log_index
     * and prev_log_term, delete conflicting entries (raft_trace_truncate), append the new ones
     * (log_append, raft_trace_append), persist, and raise commit_index (commit_to). */
    free((void *)args.entries);
    reply.term = rf->current_term;
    struct gob_enc e;
    gob_enc_init(&e);
    append_entries_reply_encode(&e, &reply);
    reply_send(req, &e);
}

/* ---------------------------------------------------------------- snapshots (3D) */

/* TODO(3D): the InstallSnapshot handler (Figure 13; trace with raft_trace_snapshot_installed,
 * and raft_trace_truncate when the log goes), the leader's sending when next_index[peer] is
 * at or below log_start, and the reply handler. */

/* ---------------------------------------------------------------- persistence (3C) */

/* Saves Figure 2's persistent state (currentTerm, votedFor, log[]) and the snapshot point,
 * with the snapshot. Call it after every change to them, before replying or sending. */
static void persist(struct raft *rf)
{
    /* TODO(3C): encode the state with labgob, as the messages above are encoded, and save it
     * with the snapshot:
     *     struct gob_enc e;
     *     gob_enc_init(&e);
     *     put_num(&e, 1, rf->current_term);
     *     ... voted_for, log_start, log[0].term, the entries after log[0] (as in
     *     append_entries_args_encode) ...
     *     if (gob_enc_finish(&e) == GOB_OK &&
     *         raft_persister_save(rf->persister, gob_enc_bytes(&e), gob_enc_len(&e),
     *                             rf->snapshot, rf->snapshot_len) == 0)
     *         raft_trace_persist(rf->sim, rf->me, gob_enc_len(&e), rf->snapshot_len);
     *     gob_enc_free(&e); */
}

/* Restores what persist saved (nothing saved: a fresh start). */
static void read_persist(struct raft *rf)
{
    size_t len = 0;
    const uint8_t *state = raft_persister_state(rf->persister, &len);
    if (len == 0) return;
    (void)state; /* TODO(3C): remove */
    /* TODO(3C): decode what persist saved (gob_dec_init, then get_num and friends in the same
     * field order, then gob_dec_finish) into current_term, voted_for and the log. (3D) Keep
     * the persister's snapshot too (raft_persister_snapshot), and start commit_index and
     * last_applied at log_start: the service restores itself from the snapshot. */
}

/* ---------------------------------------------------------------- the ticker */

/* Runs every TICK_US while the peer lives (Go's ticker goroutine). */
static void ticker_fire(struct sim *sim, void *arg)
{
    struct raft *rf = arg;
    rf->ticker = 0;
    if (rf->dead) return;
    /* TODO(3A): a follower or candidate whose election timeout passed starts an election
     * (raft_trace_election_timeout first); a leader sends heartbeats when they are due. */
    rf->ticker = sim_after(sim, TICK_US, ticker_fire, rf);
}

/* ---------------------------------------------------------------- the lab API */

struct raft *raft_make(struct sim *sim, struct rpc_end *const *peers, int peers_count, int me,
                       struct raft_persister *persister, raft_apply_cb apply, void *apply_ctx)
{
    if (peers_count < 1 || peers_count > RAFT_PEERS_MAX || me < 0 || me >= peers_count) return NULL;
    struct raft *rf = calloc(1, sizeof(*rf));
    if (rf == NULL) return NULL;
    rf->sim = sim;
    for (int i = 0; i < peers_count; i++)
        rf->peers[i] = peers[i];
    rf->peers_count = peers_count;
    rf->me = me;
    rf->persister = persister;
    rf->apply = apply;
    rf->apply_ctx = apply_ctx;
    rf->voted_for = -1;
    rf->role = RAFT_FOLLOWER;
    sim_rand_init_n(&rf->rand, sim, "student.raft", me);
    if (!log_append(rf, 0, NULL, 0)) { /* log[0], the placeholder */
        free(rf);
        return NULL;
    }
    read_persist(rf);
    raft_trace_role(rf->sim, rf->me, rf->current_term, rf->role);
    /* TODO(3A): start the election timeout. */
    rf->ticker = sim_after(sim, TICK_US, ticker_fire, rf);
    return rf;
}

int raft_register(struct raft *rf, struct rpc_server *server)
{
    int rc = rpc_server_add_method(server, "Raft", "RequestVote", handle_request_vote, rf);
    if (rc == RPC_OK)
        rc = rpc_server_add_method(server, "Raft", "AppendEntries", handle_append_entries, rf);
    /* TODO(3D): register "InstallSnapshot" the same way. */
    return rc;
}

/* Go's Start(command): on a leader, append the command and start agreement on it. */
bool raft_start(struct raft *rf, const uint8_t *command, size_t command_len, uint64_t *index,
                uint64_t *term)
{
    uint64_t next = log_last_index(rf) + 1;
    if (index != NULL) *index = next;
    if (term != NULL) *term = rf->current_term;
    if (rf->dead || rf->role != RAFT_LEADER) return false;
    /* TODO(3B): append the command (log_append copies it), persist, report it with
     * raft_trace_append(rf->sim, rf->me, next, rf->current_term), send it to the followers
     * soon, and return true. */
    return false; /* TODO(3B): replace */
}

bool raft_get_state(const struct raft *rf, uint64_t *term)
{
    if (term != NULL) *term = rf->current_term;
    return !rf->dead && rf->role == RAFT_LEADER;
}

/* Go's Snapshot(index, snapshot): the service's state through `index` is in `snapshot`. */
void raft_snapshot(struct raft *rf, uint64_t index, const uint8_t *snapshot, size_t len)
{
    /* TODO(3D): if index is past log_start and applied, keep a copy of the snapshot, drop the
     * log through index, persist, and raft_trace_snapshot_taken(rf->sim, rf->me, index, term). */
}

void raft_kill(struct raft *rf)
{
    if (rf == NULL || rf->dead) return;
    rf->dead = true;
    sim_timer_cancel(rf->sim, rf->ticker);
    rf->ticker = 0;
    sim_timer_cancel(rf->sim, rf->apply_event);
    rf->apply_event = 0;
    /* TODO(3A-3D): cancel every other timer you schedule. */
}

bool raft_killed(const struct raft *rf)
{
    return rf->dead;
}

void raft_free(struct raft *rf)
{
    if (rf == NULL) return;
    raft_kill(rf);
    for (size_t i = 0; i < rf->log_len; i++)
        free((void *)rf->log[i].command);
    free(rf->log);
    free(rf->snapshot);
    free(rf);
}

/* ---------------------------------------------------------------- introspection */

void raft_inspect(const struct raft *rf, struct raft_inspect *out)
{
    memset(out, 0, sizeof(*out));
    out->role = rf->role;
    out->term = rf->current_term;
    out->voted_for = rf->voted_for;
    out->snapshot_index = rf->log_start;
    out->snapshot_term = rf->log[0].term;
    out->last_index = log_last_index(rf);
    out->commit_index = rf->commit_index;
    out->last_applied = rf->last_applied;
    out->peers_count = rf->peers_count;
    for (int i = 0; rf->role == RAFT_LEADER && i < rf->peers_count; i++) {
        out->next_index[i] = rf->next_index[i];
        out->match_index[i] = rf->match_index[i];
    }
}

uint64_t raft_inspect_term_at(const struct raft *rf, uint64_t index)
{
    return index > rf->log_start ? log_term_at(rf, index) : 0;
}
