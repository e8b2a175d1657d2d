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
 *
 * This copy is the skeleton filled in, kept by labsim's tests to show that a Raft grown from
 * the skeleton passes every 3A-3D test.
 */
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

    sim_time_us election_deadline_us; /* a follower or candidate starts an election then */
    sim_time_us heartbeat_due_us;     /* a leader sends heartbeats then */
    uint32_t votes;                   /* candidate: a bit per peer that voted for us */
    sim_timer_id send_event;          /* leader: the pending send_fire (0: none) */
    bool snapshot_pending;            /* 3D: an installed snapshot awaits the apply callback */
};

static void persist(struct raft *rf);

/* ---------------------------------------------------------------- the log */

static uint64_t log_last_index(const struct raft *rf)
{
    return rf->log_start + rf->log_len - 1;
}

static uint64_t log_last_term(const struct raft *rf)
{
    return rf->log[rf->log_len - 1].term;
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

/* Deletes the entries at `index` and after (index > log_start). */
static void log_truncate(struct raft *rf, uint64_t index)
{
    while (log_last_index(rf) >= index) {
        rf->log_len--;
        free((void *)rf->log[rf->log_len].command);
    }
}

/* 3D: discards the entries through `index` (in (log_start, last]); log[0] becomes it. */
static void log_compact(struct raft *rf, uint64_t index)
{
    size_t drop = (size_t)(index - rf->log_start);
    for (size_t i = 0; i < drop; i++)
        free((void *)rf->log[i].command);
    memmove(rf->log, rf->log + drop, (rf->log_len - drop) * sizeof(rf->log[0]));
    rf->log_len -= drop;
    rf->log_start = index;
    free((void *)rf->log[0].command);
    rf->log[0].command = NULL;
    rf->log[0].command_len = 0;
}

/* 3D: discards the whole log; it now starts after (index, term), which a snapshot covers. */
static void log_reset(struct raft *rf, uint64_t index, uint64_t term)
{
    log_truncate(rf, rf->log_start + 1);
    rf->log_start = index;
    rf->log[0].term = term;
}

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

/* InstallSnapshot (Figure 13, without the chunking: the whole snapshot goes at once). */
struct install_snapshot_args {
    uint64_t term;
    int leader_id;
    uint64_t last_included_index;
    uint64_t last_included_term;
    const uint8_t *data; /* decoded: a view into the message */
    size_t data_len;
};

static void install_snapshot_args_encode(struct gob_enc *e, const struct install_snapshot_args *a)
{
    put_num(e, 1, a->term);
    gob_put_int(e, 2, a->leader_id);
    put_num(e, 3, a->last_included_index);
    put_num(e, 4, a->last_included_term);
    gob_put_bytes(e, 5, a->data, a->data_len);
}

static bool install_snapshot_args_decode(const uint8_t *buf, size_t len,
                                         struct install_snapshot_args *a)
{
    struct gob_dec d;
    int64_t leader = 0;
    gob_dec_init(&d, buf, len);
    bool ok = get_num(&d, 1, &a->term);
    gob_get_int(&d, 2, &leader);
    ok &= get_num(&d, 3, &a->last_included_index);
    ok &= get_num(&d, 4, &a->last_included_term);
    gob_get_bytes(&d, 5, &a->data, &a->data_len);
    a->leader_id = (int)leader;
    return gob_dec_finish(&d) == GOB_OK && ok && leader >= 0 && leader < RAFT_PEERS_MAX;
}

/* The reply is just the term: encoded as put_num(e, 1, term), decoded with get_num. */

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

static bool apply_snapshot(struct raft *rf)
{
    uint8_t *copy = bytes_copy(rf->snapshot, rf->snapshot_len);
    if (copy == NULL) return false;
    struct raft_apply_msg msg = {.snapshot_valid = true,
                                 .snapshot = copy,
                                 .snapshot_len = rf->snapshot_len,
                                 .snapshot_term = rf->log[0].term,
                                 .snapshot_index = rf->log_start};
    rf->snapshot_pending = false;
    rf->last_applied = rf->log_start;
    raft_trace_apply_snapshot(rf->sim, rf->me, rf->log_start, rf->log[0].term);
    rf->apply(rf->apply_ctx, &msg);
    free(copy);
    return true;
}

static bool apply_entry(struct raft *rf)
{
    uint64_t index = rf->last_applied + 1;
    const struct log_entry *entry = &rf->log[index - rf->log_start];
    uint8_t *copy = bytes_copy(entry->command, entry->command_len);
    if (copy == NULL) return false;
    struct raft_apply_msg msg = {.command_valid = true,
                                 .command = copy,
                                 .command_len = entry->command_len,
                                 .command_index = index};
    rf->last_applied = index; /* before the callback, which may snapshot through index */
    raft_trace_apply(rf->sim, rf->me, index);
    rf->apply(rf->apply_ctx, &msg);
    free(copy);
    return true;
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
    bool delivered = true;
    while (delivered && !rf->dead) {
        if (rf->snapshot_pending)
            delivered = apply_snapshot(rf);
        else if (rf->last_applied < rf->commit_index)
            delivered = apply_entry(rf);
        else
            break;
    }
}

/* ---------------------------------------------------------------- elections (3A) */

static void send_heartbeats(struct raft *rf);

static void election_reset(struct raft *rf)
{
    int64_t timeout_us = sim_rand_range(&rf->rand, (int64_t)ELECTION_TIMEOUT_MIN_US,
                                        (int64_t)ELECTION_TIMEOUT_MAX_US - 1);
    rf->election_deadline_us = sim_now_us(rf->sim) + (sim_time_us)timeout_us;
}

/* Figure 2, All Servers: "If RPC request or response contains term T > currentTerm: set
 * currentTerm = T, convert to follower". */
static void become_follower(struct raft *rf, uint64_t term)
{
    bool changed = term != rf->current_term || rf->role != RAFT_FOLLOWER;
    if (rf->role == RAFT_LEADER) election_reset(rf);
    rf->role = RAFT_FOLLOWER;
    if (term > rf->current_term) {
        rf->current_term = term;
        rf->voted_for = -1;
        persist(rf);
    }
    if (changed) raft_trace_role(rf->sim, rf->me, rf->current_term, rf->role);
}

static void become_leader(struct raft *rf)
{
    rf->role = RAFT_LEADER;
    for (int i = 0; i < rf->peers_count; i++) {
        rf->next_index[i] = log_last_index(rf) + 1;
        rf->match_index[i] = 0;
    }
    raft_trace_role(rf->sim, rf->me, rf->current_term, rf->role);
    send_heartbeats(rf);
}

static bool majority(const struct raft *rf, int count)
{
    return 2 * count > rf->peers_count;
}

static void on_request_vote_reply(void *ctx, bool ok, const uint8_t *reply, size_t len)
{
    struct call *c = ctx;
    struct raft *rf = c->rf;
    int peer = c->peer;
    uint64_t term = c->term;
    free(c);
    struct request_vote_reply r = {0};
    if (rf->dead || !ok || !request_vote_reply_decode(reply, len, &r)) return;
    if (r.term > rf->current_term) {
        become_follower(rf, r.term);
        return;
    }
    if (rf->role != RAFT_CANDIDATE || rf->current_term != term || !r.vote_granted) return;
    rf->votes |= 1u << peer;
    int count = 0;
    for (int i = 0; i < rf->peers_count; i++)
        count += (int)((rf->votes >> i) & 1u);
    if (majority(rf, count)) become_leader(rf);
}

static void send_request_vote(struct raft *rf, int peer, const struct request_vote_args *args)
{
    struct gob_enc e;
    gob_enc_init(&e);
    request_vote_args_encode(&e, args);
    call_send(rf, peer, "Raft.RequestVote", &e, on_request_vote_reply, 0, 0);
}

/* Figure 2, Candidates: "increment currentTerm, vote for self, reset election timer, send
 * RequestVote RPCs to all other servers". */
static void start_election(struct raft *rf)
{
    rf->current_term++;
    rf->voted_for = rf->me;
    rf->role = RAFT_CANDIDATE;
    rf->votes = 1u << rf->me;
    persist(rf);
    raft_trace_role(rf->sim, rf->me, rf->current_term, rf->role);
    election_reset(rf);
    if (majority(rf, 1)) {
        become_leader(rf);
        return;
    }
    struct request_vote_args args = {rf->current_term, rf->me, log_last_index(rf),
                                     log_last_term(rf)};
    for (int peer = 0; peer < rf->peers_count; peer++) {
        if (peer == rf->me) continue;
        raft_trace_vote_request(rf->sim, rf->me, rf->current_term, peer, args.last_log_index,
                                args.last_log_term);
        send_request_vote(rf, peer, &args);
    }
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
    if (args.term > rf->current_term) become_follower(rf, args.term);
    /* Section 5.4.1: the candidate's log is at least as up-to-date as ours. */
    bool up_to_date =
        args.last_log_term > log_last_term(rf) ||
        (args.last_log_term == log_last_term(rf) && args.last_log_index >= log_last_index(rf));
    if (args.term == rf->current_term &&
        (rf->voted_for == -1 || rf->voted_for == args.candidate_id) && up_to_date) {
        rf->voted_for = args.candidate_id;
        persist(rf);
        election_reset(rf);
        reply.vote_granted = true;
    }
    reply.term = rf->current_term;
    raft_trace_vote(rf->sim, rf->me, args.term, args.candidate_id, reply.vote_granted);
    struct gob_enc e;
    gob_enc_init(&e);
    request_vote_reply_encode(&e, &reply);
    reply_send(req, &e);
}

/* ---------------------------------------------------------------- replication (3B, 3C) */

static void send_install_snapshot(struct raft *rf, int peer);

/* Figure 2, Leaders: "If there exists an N such that N > commitIndex, a majority of
 * matchIndex[i] >= N, and log[N].term == currentTerm: set commitIndex = N". */
static void leader_commit(struct raft *rf)
{
    for (uint64_t n = log_last_index(rf); n > rf->commit_index; n--) {
        if (log_term_at(rf, n) != rf->current_term) break; /* older terms commit with it */
        int count = 1;
        for (int i = 0; i < rf->peers_count; i++)
            count += i != rf->me && rf->match_index[i] >= n;
        if (majority(rf, count)) {
            commit_to(rf, n);
            break;
        }
    }
}

static void send_append_entries(struct raft *rf, int peer);

/* The reply to an AppendEntries that failed at prev_log_index: back nextIndex up, a whole
 * conflicting term at a time (the lab's fast backup), and try again. */
static void append_entries_rejected(struct raft *rf, int peer, uint64_t prev,
                                    const struct append_entries_reply *r)
{
    if (rf->next_index[peer] != prev + 1) return; /* stale: nextIndex moved since */
    uint64_t next = r->conflict_index;
    if (r->conflict_term != 0) {
        for (uint64_t i = log_last_index(rf); i > rf->log_start; i--) {
            if (log_term_at(rf, i) == r->conflict_term) {
                next = i + 1;
                break;
            }
        }
    }
    if (next > prev) next = prev;
    if (next < rf->match_index[peer] + 1) next = rf->match_index[peer] + 1;
    rf->next_index[peer] = next;
    send_append_entries(rf, peer);
}

static void on_append_entries_reply(void *ctx, bool ok, const uint8_t *reply, size_t len)
{
    struct call *c = ctx;
    struct raft *rf = c->rf;
    int peer = c->peer;
    uint64_t term = c->term;
    uint64_t prev = c->index;
    uint64_t count = c->count;
    free(c);
    struct append_entries_reply r = {0};
    if (rf->dead || !ok || !append_entries_reply_decode(reply, len, &r)) return;
    if (r.term > rf->current_term) {
        become_follower(rf, r.term);
        return;
    }
    if (rf->role != RAFT_LEADER || rf->current_term != term || r.term != term) return;
    if (!r.success) {
        append_entries_rejected(rf, peer, prev, &r);
        return;
    }
    /* Replies come in any order: matchIndex and nextIndex never move back. */
    if (prev + count > rf->match_index[peer]) rf->match_index[peer] = prev + count;
    if (rf->next_index[peer] < rf->match_index[peer] + 1)
        rf->next_index[peer] = rf->match_index[peer] + 1;
    leader_commit(rf);
    if (rf->next_index[peer] <= log_last_index(rf)) send_append_entries(rf, peer);
}

/* Figure 2, Leaders: send the follower everything from nextIndex (nothing: a heartbeat), or
 * the snapshot when nextIndex was compacted away (3D). */
static void send_append_entries(struct raft *rf, int peer)
{
    uint64_t next = rf->next_index[peer];
    if (next <= rf->log_start) {
        send_install_snapshot(rf, peer);
        return;
    }
    struct append_entries_args args = {
        .term = rf->current_term,
        .leader_id = rf->me,
        .prev_log_index = next - 1,
        .prev_log_term = log_term_at(rf, next - 1),
        .entries = &rf->log[next - rf->log_start],
        .entries_count = (size_t)(log_last_index(rf) - (next - 1)),
        .leader_commit = rf->commit_index,
    };
    struct gob_enc e;
    gob_enc_init(&e);
    append_entries_args_encode(&e, &args);
    call_send(rf, peer, "Raft.AppendEntries", &e, on_append_entries_reply, args.prev_log_index,
              args.entries_count);
}

static void send_heartbeats(struct raft *rf)
{
    for (int peer = 0; peer < rf->peers_count; peer++) {
        if (peer != rf->me) send_append_entries(rf, peer);
    }
    rf->heartbeat_due_us = sim_now_us(rf->sim) + HEARTBEAT_US;
}

/* New entries go out in the same instant, once however many Starts came in it. */
static void send_fire(struct sim *sim, void *arg)
{
    (void)sim;
    struct raft *rf = arg;
    rf->send_event = 0;
    if (rf->dead || rf->role != RAFT_LEADER) return;
    for (int peer = 0; peer < rf->peers_count; peer++) {
        if (peer != rf->me) send_append_entries(rf, peer);
    }
}

/* Receiver steps 2-5 (Figure 2), for a request from the leader of our term. */
static void append_entries_accept(struct raft *rf, const struct append_entries_args *a,
                                  struct append_entries_reply *r)
{
    size_t skip = 0;
    if (a->prev_log_index < rf->log_start) {
        /* 3D: the first entries are in our snapshot already, so they match. */
        uint64_t covered = rf->log_start - a->prev_log_index;
        if (covered >= a->entries_count) {
            r->success = true;
            return;
        }
        skip = (size_t)covered;
    } else if (a->prev_log_index > log_last_index(rf)) {
        r->conflict_index = log_last_index(rf) + 1; /* our log is too short */
        return;
    } else if (log_term_at(rf, a->prev_log_index) != a->prev_log_term) {
        r->conflict_term = log_term_at(rf, a->prev_log_index);
        uint64_t first = a->prev_log_index;
        while (first - 1 > rf->log_start && log_term_at(rf, first - 1) == r->conflict_term)
            first--;
        r->conflict_index = first;
        return;
    }
    /* 3. "If an existing entry conflicts with a new one (same index but different terms),
     * delete the existing entry and all that follow it"; 4. "Append any new entries not
     * already in the log". Entries we hold that agree stay: a late, shorter request must not
     * cut off what a later one appended. */
    bool changed = false;
    for (size_t i = skip; i < a->entries_count; i++) {
        uint64_t index = a->prev_log_index + 1 + i;
        if (index <= log_last_index(rf)) {
            if (log_term_at(rf, index) == a->entries[i].term) continue;
            if (index <= rf->commit_index) return; /* never from a real leader */
            raft_trace_truncate(rf->sim, rf->me, index, log_last_index(rf));
            log_truncate(rf, index);
        }
        if (!log_append(rf, a->entries[i].term, a->entries[i].command, a->entries[i].command_len))
            break; /* out of memory: keep what fit */
        raft_trace_append(rf->sim, rf->me, index, a->entries[i].term);
        changed = true;
    }
    if (changed) persist(rf);
    if (log_last_index(rf) < a->prev_log_index + a->entries_count) return;
    r->success = true;
    /* 5. "If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index of last
     * new entry)". */
    uint64_t last_new = a->prev_log_index + a->entries_count;
    commit_to(rf, a->leader_commit < last_new ? a->leader_commit : last_new);
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
    /* 1. "Reply false if term < currentTerm"; otherwise the sender leads our term. */
    if (args.term >= rf->current_term) {
        become_follower(rf, args.term);
        election_reset(rf);
        append_entries_accept(rf, &args, &reply);
    }
    free((void *)args.entries);
    reply.term = rf->current_term;
    struct gob_enc e;
    gob_enc_init(&e);
    append_entries_reply_encode(&e, &reply);
    reply_send(req, &e);
}

/* ---------------------------------------------------------------- snapshots (3D) */

/* Replaces the held snapshot with a copy. False when out of memory (nothing changed). */
static bool snapshot_store(struct raft *rf, const uint8_t *data, size_t len)
{
    uint8_t *copy = len > 0 ? bytes_copy(data, len) : NULL;
    if (len > 0 && copy == NULL) return false;
    free(rf->snapshot);
    rf->snapshot = copy;
    rf->snapshot_len = len;
    return true;
}

static void on_install_snapshot_reply(void *ctx, bool ok, const uint8_t *reply, size_t len)
{
    struct call *c = ctx;
    struct raft *rf = c->rf;
    int peer = c->peer;
    uint64_t term = c->term;
    uint64_t index = c->index;
    free(c);
    if (rf->dead || !ok) return;
    struct gob_dec d;
    uint64_t reply_term = 0;
    gob_dec_init(&d, reply, len);
    bool nums_ok = get_num(&d, 1, &reply_term);
    if (gob_dec_finish(&d) != GOB_OK || !nums_ok) return;
    if (reply_term > rf->current_term) {
        become_follower(rf, reply_term);
        return;
    }
    if (rf->role != RAFT_LEADER || rf->current_term != term || reply_term != term) return;
    if (index > rf->match_index[peer]) rf->match_index[peer] = index;
    if (rf->next_index[peer] < index + 1) rf->next_index[peer] = index + 1;
    leader_commit(rf);
    if (rf->next_index[peer] <= log_last_index(rf)) send_append_entries(rf, peer);
}

static void send_install_snapshot(struct raft *rf, int peer)
{
    struct install_snapshot_args args = {rf->current_term, rf->me,       rf->log_start,
                                         rf->log[0].term,  rf->snapshot, rf->snapshot_len};
    struct gob_enc e;
    gob_enc_init(&e);
    install_snapshot_args_encode(&e, &args);
    call_send(rf, peer, "Raft.InstallSnapshot", &e, on_install_snapshot_reply,
              args.last_included_index, 0);
}

/* Figure 13, receiver steps 6-8: keep the log after the snapshot when it agrees, else drop it
 * all; the service gets the snapshot through the apply callback, in order. */
static void install_snapshot(struct raft *rf, const struct install_snapshot_args *a)
{
    uint64_t index = a->last_included_index;
    if (index <= rf->commit_index) return; /* older than what we have: never roll back */
    if (!snapshot_store(rf, a->data, a->data_len)) return;
    if (log_term_at(rf, index) == a->last_included_term) {
        log_compact(rf, index);
    } else {
        if (log_last_index(rf) > rf->log_start)
            raft_trace_truncate(rf->sim, rf->me, rf->log_start + 1, log_last_index(rf));
        log_reset(rf, index, a->last_included_term);
    }
    persist(rf);
    raft_trace_snapshot_installed(rf->sim, rf->me, index, a->last_included_term);
    rf->snapshot_pending = true;
    commit_to(rf, index);
}

static void handle_install_snapshot(void *receiver, struct rpc_req *req, const uint8_t *buf,
                                    size_t len)
{
    struct raft *rf = receiver;
    struct install_snapshot_args args = {0};
    if (rf->dead) return;
    if (!install_snapshot_args_decode(buf, len, &args) || args.leader_id >= rf->peers_count ||
        args.last_included_index == 0 || args.last_included_term == 0) {
        raft_trace_reject(rf->sim, rf->me, -1, "bad InstallSnapshot args");
        rpc_req_reply(req, NULL, 0);
        return;
    }
    /* 1. "Reply immediately if term < currentTerm"; otherwise the sender leads our term. */
    if (args.term >= rf->current_term) {
        become_follower(rf, args.term);
        election_reset(rf);
        install_snapshot(rf, &args);
    }
    struct gob_enc e;
    gob_enc_init(&e);
    put_num(&e, 1, rf->current_term);
    reply_send(req, &e);
}

/* ---------------------------------------------------------------- persistence (3C) */

/* Saves Figure 2's persistent state (currentTerm, votedFor, log[]) and the snapshot point,
 * with the snapshot. Call it after every change to them, before replying or sending. */
static void persist(struct raft *rf)
{
    struct gob_enc e;
    gob_enc_init(&e);
    put_num(&e, 1, rf->current_term);
    gob_put_int(&e, 2, rf->voted_for);
    put_num(&e, 3, rf->log_start);
    put_num(&e, 4, rf->log[0].term);
    gob_put_array_begin(&e, 5, GOB_RECORD, rf->log_len - 1);
    for (size_t i = 1; i < rf->log_len; i++) {
        gob_put_record_begin(&e, 0);
        put_num(&e, 1, rf->log[i].term);
        gob_put_iface(&e, 2, rf->log[i].command, rf->log[i].command_len);
        gob_put_record_end(&e);
    }
    gob_put_array_end(&e);
    if (gob_enc_finish(&e) == GOB_OK &&
        raft_persister_save(rf->persister, gob_enc_bytes(&e), gob_enc_len(&e), rf->snapshot,
                            rf->snapshot_len) == 0)
        raft_trace_persist(rf->sim, rf->me, gob_enc_len(&e), rf->snapshot_len);
    gob_enc_free(&e);
}

/* Restores what persist saved (nothing saved: a fresh start). */
static void read_persist(struct raft *rf)
{
    size_t len = 0;
    const uint8_t *state = raft_persister_state(rf->persister, &len);
    if (len == 0) return;
    struct gob_dec d;
    uint64_t term = 0;
    int64_t voted_for = 0;
    uint64_t start = 0;
    uint64_t start_term = 0;
    gob_dec_init(&d, state, len);
    bool ok = get_num(&d, 1, &term);
    gob_get_int(&d, 2, &voted_for);
    ok &= get_num(&d, 3, &start);
    ok &= get_num(&d, 4, &start_term);
    rf->log_start = start;
    rf->log[0].term = start_term;
    uint64_t n = gob_get_array_begin(&d, 5, GOB_RECORD);
    for (uint64_t i = 0; i < n && gob_dec_err(&d) == GOB_OK; i++) {
        struct log_entry entry = {0};
        gob_get_elem_record_begin(&d);
        ok &= get_num(&d, 1, &entry.term);
        gob_get_iface(&d, 2, &entry.command, &entry.command_len);
        gob_get_record_end(&d);
        ok &= log_append(rf, entry.term, entry.command, entry.command_len);
    }
    if (n > 0) gob_get_array_end(&d);
    size_t snapshot_len = 0;
    const uint8_t *snapshot = raft_persister_snapshot(rf->persister, &snapshot_len);
    if (gob_dec_finish(&d) != GOB_OK || !ok || voted_for < -1 || voted_for >= rf->peers_count ||
        !snapshot_store(rf, snapshot, snapshot_len)) {
        raft_trace_reject(rf->sim, rf->me, -1, "persisted state unreadable: starting empty");
        log_reset(rf, 0, 0);
        return;
    }
    rf->current_term = term;
    rf->voted_for = (int)voted_for;
    /* The service restores itself from the snapshot; applying resumes after it. */
    rf->commit_index = rf->log_start;
    rf->last_applied = rf->log_start;
}

/* ---------------------------------------------------------------- the ticker */

/* Runs every TICK_US while the peer lives (Go's ticker goroutine). */
static void ticker_fire(struct sim *sim, void *arg)
{
    struct raft *rf = arg;
    rf->ticker = 0;
    if (rf->dead) return;
    if (rf->role != RAFT_LEADER && sim_now_us(sim) >= rf->election_deadline_us) {
        raft_trace_election_timeout(rf->sim, rf->me, rf->current_term);
        start_election(rf);
    }
    if (rf->role == RAFT_LEADER && sim_now_us(sim) >= rf->heartbeat_due_us) send_heartbeats(rf);
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
    election_reset(rf);
    rf->ticker = sim_after(sim, TICK_US, ticker_fire, rf);
    return rf;
}

int raft_register(struct raft *rf, struct rpc_server *server)
{
    int rc = rpc_server_add_method(server, "Raft", "RequestVote", handle_request_vote, rf);
    if (rc == RPC_OK)
        rc = rpc_server_add_method(server, "Raft", "AppendEntries", handle_append_entries, rf);
    if (rc == RPC_OK)
        rc = rpc_server_add_method(server, "Raft", "InstallSnapshot", handle_install_snapshot, rf);
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
    if (!log_append(rf, rf->current_term, command, command_len)) return false;
    persist(rf);
    raft_trace_append(rf->sim, rf->me, next, rf->current_term);
    if (rf->send_event == 0) rf->send_event = sim_after(rf->sim, 0, send_fire, rf);
    return true;
}

bool raft_get_state(const struct raft *rf, uint64_t *term)
{
    if (term != NULL) *term = rf->current_term;
    return !rf->dead && rf->role == RAFT_LEADER;
}

/* Go's Snapshot(index, snapshot): the service's state through `index` is in `snapshot`. */
void raft_snapshot(struct raft *rf, uint64_t index, const uint8_t *snapshot, size_t len)
{
    if (rf->dead || index <= rf->log_start || index > rf->last_applied) return;
    if (!snapshot_store(rf, snapshot, len)) return;
    log_compact(rf, index);
    persist(rf);
    raft_trace_snapshot_taken(rf->sim, rf->me, index, rf->log[0].term);
}

void raft_kill(struct raft *rf)
{
    if (rf == NULL || rf->dead) return;
    rf->dead = true;
    sim_timer_cancel(rf->sim, rf->ticker);
    rf->ticker = 0;
    sim_timer_cancel(rf->sim, rf->apply_event);
    rf->apply_event = 0;
    sim_timer_cancel(rf->sim, rf->send_event);
    rf->send_event = 0;
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
