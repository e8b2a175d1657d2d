/* read_index: linearizable reads without a log entry per read (raft_ext.h, "reads").
 *
 * Thesis section 6.4, in the leader's four steps:
 *   1. no read before an entry of the leader's term is committed: a leader with no entry of its
 *      term appends a no-op (an empty command) at its first read, lazily, so a Raft that is never
 *      asked to read (the lab 3 tester, which checks the index of every command) holds none;
 *   2. the read index is the commit index once step 1 holds;
 *   3. leadership is confirmed by a heartbeat round sent after the read was asked and answered by
 *      a majority of the term. Every AppendEntries is numbered (reads.sent_seq), each peer keeps
 *      the highest number it answered (ack_seq), and the read asked at number S is confirmed when
 *      a majority answered a number above S: those peers were followers of this term after the
 *      read was asked, so no other leader could have committed anything before it (5.4);
 *   4. once the Raft applied through the read index, the callback runs and the service answers
 *      from its state.
 * Section 6.4.1, lease reads: a leader whose round sent at time T was answered by a majority
 * holds a lease until T + lease duration (lease_duration_us says why that duration) and skips
 * step 3 meanwhile. This needs every follower to refuse to elect anyone for an election timeout
 * after it heard from the leader: with RAFT_OPT_LEASE_READ a follower ignores RequestVote inside
 * that window (section 4.2.3; check-quorum's follower half, section 6.2), and a server that
 * starts treats its start as hearing from a leader, since before a crash it may have.
 *
 * Rounds: every regular heartbeat is a round; a read that finds no round in flight starts one
 * at once (in the reads event), and reads asked while a round flies wait for the next one, so
 * a burst of reads costs one round, not one per read. A read is failed when its leader steps
 * down, when the instance is killed, or after RAFT_READ_TIMEOUT_US.
 *
 * Everything here runs only with rf->reads set (a read option on); every hook returns at once
 * otherwise, so a Raft with the options off is event for event the lab's Raft.
 */
#include <stdlib.h>

#include "raft_int.h"

static const struct sim_trace_kind trace_ask = {
    225, SIM_TOPIC_CLIENT, "read.ask", {"term", "commit", "seq", "lease"}};
static const struct sim_trace_kind trace_noop = {
    226, SIM_TOPIC_LOG, "read.noop", {"index", "term"}};
static const struct sim_trace_kind trace_confirm = {
    227, SIM_TOPIC_CLIENT, "read.confirm", {"term", "read_index", "by_lease", "quorum_seq"}};
static const struct sim_trace_kind trace_serve = {
    228, SIM_TOPIC_APPLY, "read.serve", {"term", "read_index", "applied"}};
static const struct sim_trace_kind trace_fail = {
    229, SIM_TOPIC_CLIENT, "read.fail", {"term", "asked_seq"}};
static const struct sim_trace_kind trace_lease = {
    230, SIM_TOPIC_ROLE, "lease.start", {"term", "until_us", "sent_us"}};
static const struct sim_trace_kind trace_round = {
    231, SIM_TOPIC_NET, "read.round", {"term", "seq", "pending"}};
static const struct sim_trace_kind trace_vote_held = {
    232, SIM_TOPIC_VOTE, "lease.vote_held", {"term", "candidate", "heard_ago_us"}};

#define READ_FLAGS (RAFT_OPT_READ_INDEX | RAFT_OPT_LEASE_READ)

static int node_of(const struct raft *rf)
{
    return raft_trace_node(rf->sim, rf->me);
}

static int64_t i64(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

/* Turns a duration measured on this server's clock into virtual time, as sim_after would for a
 * timer of that length (sim.h: a clock `ppm` fast makes delays last delay * 1e6 / (1e6 + ppm)).
 * A real server only has its own clock; so does this one. */
static sim_time_us local_to_virtual_us(const struct raft *rf, sim_time_us local_us)
{
    int32_t ppm = sim_node_drift_ppm(rf->sim, node_of(rf));
    return local_us * UINT64_C(1000000) / (uint64_t)(INT64_C(1000000) + ppm);
}

/* The lease: election_timeout_min x (1 - clock_drift_ppm / 1e6), measured on the leader's
 * clock from the moment it SENT the round a majority answered. Why that is safe: each follower
 * of that majority received the round after it was sent, and then ignores RequestVote for
 * election_timeout_min on its own clock (raft_reads_vote_held), so no new leader can exist
 * before send + election_timeout_min on the followers' clocks. If no follower's clock runs more
 * than clock_drift_ppm faster than the leader's, the leader's election_timeout_min x (1 - drift)
 * ends no later than the earliest of those windows. Beyond that bound the lease is unsafe (the
 * drift scenario's twin shows it). */
static sim_time_us lease_duration_us(const struct raft *rf)
{
    uint64_t drift_ppm = rf->opts.clock_drift_ppm;
    RAFT_ASSERT(rf, drift_ppm < 1000000u);
    sim_time_us local_us =
        RAFT_ELECTION_TIMEOUT_MIN_US * (UINT64_C(1000000) - drift_ppm) / UINT64_C(1000000);
    return local_to_virtual_us(rf, local_us);
}

/* The ack fields belong to one term: a new term (as leader again, or not) starts them over. */
static void reads_term_sync(struct raft *rf)
{
    struct raft_reads *r = rf->reads;
    if (r->term == rf->current_term) return;
    r->term = rf->current_term;
    for (int i = 0; i < RAFT_PEERS_MAX; i++) {
        r->ack_seq[i] = 0;
        r->ack_sent_us[i] = 0;
    }
    r->lease_until_us = 0;
    r->round_open = false;
}

/* The largest x such that a majority (self included) holds a value >= x; self counts as
 * `self_value`. */
static uint64_t quorum_value(const struct raft *rf, const uint64_t *values, uint64_t self_value)
{
    uint64_t v[RAFT_PEERS_MAX];
    int n = rf->peers_count;
    for (int i = 0; i < n; i++)
        v[i] = i == rf->me ? self_value : values[i];
    for (int i = 1; i < n; i++) { /* insertion sort, descending; n <= RAFT_PEERS_MAX */
        uint64_t x = v[i];
        int j = i;
        for (; j > 0 && v[j - 1] < x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
    return v[n / 2]; /* held by n/2 + 1 of them */
}

static bool lease_valid(const struct raft *rf)
{
    const struct raft_reads *r = rf->reads;
    if ((rf->opts.flags & RAFT_OPT_LEASE_READ) == 0 || rf->role != RAFT_LEADER) return false;
    return r->term == rf->current_term && sim_now_us(rf->sim) < r->lease_until_us;
}

/* Step 1 holds: an entry of the current term is committed. */
static bool term_committed(const struct raft *rf)
{
    return raft_log_term_at(&rf->log, rf->commit_index) == rf->current_term;
}

/* ---------------------------------------------------------------- the reads event */

static void reads_fire(struct sim *sim, void *arg);

void raft_reads_poke(struct raft *rf)
{
    struct raft_reads *r = rf->reads;
    if (r == NULL || r->count == 0 || r->event != 0 || rf->dead) return;
    r->event = sim_after(rf->sim, 0, reads_fire, rf);
}

/* Sends a round of AppendEntries to every peer (each also carries what the peer lacks). */
static void round_start(struct raft *rf)
{
    struct raft_reads *r = rf->reads;
    RAFT_ASSERT(rf, rf->role == RAFT_LEADER);
    r->round_seq = r->sent_seq;
    r->round_open = true;
    sim_trace4(rf->sim, node_of(rf), &trace_round, i64(rf->current_term), i64(r->round_seq),
               (int64_t)r->count, 0);
    for (int peer = 0; peer < rf->peers_count; peer++) {
        if (peer != rf->me) raft_replicate_peer(rf, peer);
    }
}

/* Steps 2 and 3 for one read. */
static void read_try_confirm(struct raft *rf, struct raft_read *rd, uint64_t quorum_seq)
{
    if (rd->confirmed || !term_committed(rf)) return;
    bool by_round = rd->asked_seq < quorum_seq;
    bool by_lease = !by_round && lease_valid(rf);
    if (!by_round && !by_lease) return;
    rd->confirmed = true;
    rd->by_lease = by_lease;
    rd->read_index = rf->commit_index;
    sim_trace4(rf->sim, node_of(rf), &trace_confirm, i64(rd->term), i64(rd->read_index),
               by_lease ? 1 : 0, i64(quorum_seq));
}

/* What becomes of one read now: 1 served, -1 failed, 0 still waiting. */
static int read_step(struct raft *rf, struct raft_read *rd, uint64_t quorum_seq, sim_time_us now)
{
    if (rf->dead || rf->role != RAFT_LEADER || rd->term != rf->current_term) return -1;
    read_try_confirm(rf, rd, quorum_seq);
    if (rd->confirmed && rf->last_applied >= rd->read_index && !rf->snapshot_pending) return 1;
    return now >= rd->deadline_us ? -1 : 0;
}

struct read_done {
    raft_read_cb cb;
    void *ctx;
    bool ok;
};

/* Settles every read it can, keeping the others in order; returns how many settled (their
 * callbacks are in done[], to run once the queue is consistent again). */
static uint32_t reads_settle(struct raft *rf, struct read_done *done)
{
    struct raft_reads *r = rf->reads;
    uint64_t self_seq = UINT64_MAX;
    uint64_t quorum_seq = rf->role == RAFT_LEADER ? quorum_value(rf, r->ack_seq, self_seq) : 0;
    sim_time_us now = sim_now_us(rf->sim);
    uint32_t kept = 0;
    uint32_t settled = 0;
    for (uint32_t i = 0; i < r->count; i++) {
        struct raft_read rd = r->queue[i];
        int outcome = read_step(rf, &rd, quorum_seq, now);
        if (outcome == 0) {
            r->queue[kept++] = rd;
            continue;
        }
        done[settled++] = (struct read_done){rd.cb, rd.ctx, outcome > 0};
        if (outcome > 0) {
            r->stats.served++;
            r->stats.by_lease += rd.by_lease ? 1 : 0;
            sim_trace4(rf->sim, node_of(rf), &trace_serve, i64(rd.term), i64(rd.read_index),
                       i64(rf->last_applied), 0);
        } else {
            r->stats.failed++;
            sim_trace4(rf->sim, node_of(rf), &trace_fail, i64(rd.term), i64(rd.asked_seq), 0, 0);
        }
    }
    r->count = kept;
    if (rf->role == RAFT_LEADER && r->round_open && quorum_seq > r->round_seq)
        r->round_open = false; /* the round in flight is confirmed */
    return settled;
}

static void reads_run(struct raft *rf)
{
    struct read_done done[RAFT_READS_MAX];
    reads_term_sync(rf);
    uint32_t settled = reads_settle(rf, done);
    struct raft_reads *r = rf->reads;
    bool unconfirmed = false;
    for (uint32_t i = 0; i < r->count; i++)
        unconfirmed = unconfirmed || !r->queue[i].confirmed;
    if (unconfirmed && !r->round_open && rf->role == RAFT_LEADER && !rf->dead) {
        r->stats.rounds++;
        round_start(rf);
    }
    /* Callbacks last: one may ask for another read, or kill us. */
    for (uint32_t i = 0; i < settled; i++)
        done[i].cb(done[i].ctx, done[i].ok, done[i].ok ? rf->last_applied : 0);
}

static void reads_fire(struct sim *sim, void *arg)
{
    (void)sim;
    struct raft *rf = arg;
    rf->reads->event = 0;
    if (rf->dead) return;
    reads_run(rf);
    if (rf->dead) return;
    raft_persist_flush(rf);
    raft_check_invariants(rf);
}

/* ---------------------------------------------------------------- the API */

const char *raft_read_strerror(int err)
{
    switch (err) {
#define RAFT_READ_ERR_TEXT(name, value, text)                                                      \
    case name:                                                                                     \
        return text;
        RAFT_READ_ERRNO_MAP(RAFT_READ_ERR_TEXT)
#undef RAFT_READ_ERR_TEXT
    default:
        return "unknown read error";
    }
}

/* Step 1: a leader with no entry of its term appends the no-op that will commit one. */
static void noop_append(struct raft *rf)
{
    if (raft_log_last_term(&rf->log) == rf->current_term) return;
    uint64_t index = raft_log_last_index(&rf->log) + 1;
    if (raft_log_append(&rf->log, rf->current_term, NULL, 0) != RAFT_OK)
        return; /* log full or out of memory: the read times out, as if the no-op were lost */
    rf->reads->stats.noops++;
    raft_persist_mark(rf);
    raft_trace_append(rf->sim, rf->me, index, rf->current_term);
    sim_trace4(rf->sim, node_of(rf), &trace_noop, i64(index), i64(rf->current_term), 0, 0);
    raft_replicate_schedule(rf);
}

int raft_read_index(struct raft *rf, raft_read_cb cb, void *ctx)
{
    struct raft_reads *r = rf->reads;
    if (r == NULL) return RAFT_READ_EOFF;
    if (rf->dead || rf->role != RAFT_LEADER) return RAFT_READ_ENOTLEADER;
    if (r->count >= RAFT_READS_MAX) return RAFT_READ_EFULL;
    RAFT_ASSERT(rf, cb != NULL);
    reads_term_sync(rf);
    noop_append(rf);
    r->queue[r->count++] = (struct raft_read){
        .cb = cb,
        .ctx = ctx,
        .term = rf->current_term,
        .asked_seq = r->sent_seq,
        .deadline_us = sim_now_us(rf->sim) + RAFT_READ_TIMEOUT_US,
    };
    r->stats.asked++;
    sim_trace4(rf->sim, node_of(rf), &trace_ask, i64(rf->current_term), i64(rf->commit_index),
               i64(r->sent_seq), lease_valid(rf) ? 1 : 0);
    raft_reads_poke(rf);
    raft_check_invariants(rf);
    return RAFT_READ_OK;
}

void raft_read_stats_get(const struct raft *rf, struct raft_read_stats *out)
{
    *out = (struct raft_read_stats){0};
    if (rf->reads == NULL) return;
    *out = rf->reads->stats;
    out->pending = rf->reads->count;
    out->lease_valid = lease_valid(rf);
    out->lease_until_us = out->lease_valid ? rf->reads->lease_until_us : 0;
}

/* ---------------------------------------------------------------- hooks */

bool raft_reads_init(struct raft *rf)
{
    if ((rf->opts.flags & READ_FLAGS) == 0) return true;
    rf->reads = calloc(1, sizeof(*rf->reads));
    if (rf->reads == NULL) return false;
    /* A server that starts may have heard from a leader just before it crashed (lease). */
    rf->reads->heard_us = sim_now_us(rf->sim);
    raft_persister_set_reader(rf->persister, rf, raft_read_index);
    return true;
}

void raft_reads_kill(struct raft *rf)
{
    struct raft_reads *r = rf->reads;
    if (r == NULL) return;
    RAFT_ASSERT(rf, rf->dead);
    if (r->event != 0) sim_timer_cancel(rf->sim, r->event);
    r->event = 0;
    reads_run(rf); /* every read fails: the instance is dead */
    RAFT_ASSERT(rf, r->count == 0);
    /* Here, not at raft_free: the harness may free a crashed server's persister first. */
    raft_persister_set_reader(rf->persister, NULL, NULL);
}

void raft_reads_free(struct raft *rf)
{
    if (rf->reads == NULL) return;
    free(rf->reads);
    rf->reads = NULL;
}

void raft_reads_on_send(struct raft *rf, struct raft_call *call)
{
    struct raft_reads *r = rf->reads;
    if (r == NULL || call->kind != RAFT_CALL_APPEND) return;
    call->read_seq = ++r->sent_seq;
    call->sent_us = sim_now_us(rf->sim);
}

void raft_reads_acked(struct raft *rf, int peer, uint64_t read_seq, sim_time_us sent_us)
{
    struct raft_reads *r = rf->reads;
    if (r == NULL) return;
    RAFT_ASSERT(rf, rf->role == RAFT_LEADER);
    RAFT_ASSERT(rf, peer != rf->me);
    reads_term_sync(rf);
    if (read_seq > r->ack_seq[peer]) r->ack_seq[peer] = read_seq;
    if (sent_us > r->ack_sent_us[peer]) r->ack_sent_us[peer] = sent_us;
    if ((rf->opts.flags & RAFT_OPT_LEASE_READ) != 0) {
        sim_time_us now = sim_now_us(rf->sim);
        sim_time_us sent_quorum_us = quorum_value(rf, r->ack_sent_us, now);
        sim_time_us until_us = sent_quorum_us + lease_duration_us(rf);
        bool was_valid = now < r->lease_until_us;
        if (until_us > r->lease_until_us) r->lease_until_us = until_us;
        if (!was_valid && now < r->lease_until_us)
            sim_trace4(rf->sim, node_of(rf), &trace_lease, i64(rf->current_term),
                       i64(r->lease_until_us), i64(sent_quorum_us), 0);
    }
    raft_reads_poke(rf);
}

void raft_reads_heartbeat(struct raft *rf)
{
    struct raft_reads *r = rf->reads;
    if (r == NULL) return;
    reads_term_sync(rf);
    r->round_seq = r->sent_seq; /* the heartbeat about to be sent is a round */
    r->round_open = true;
    raft_reads_poke(rf); /* timeouts */
}

void raft_reads_heard(struct raft *rf)
{
    if (rf->reads == NULL) return;
    rf->reads->heard_us = sim_now_us(rf->sim);
}

/* Section 4.2.3: "if a server receives a RequestVote request within the minimum election
 * timeout of hearing from a current leader, it does not update its term or grant its vote".
 * Only with lease reads (the leases rest on it) and only on a follower; the window is measured
 * on the follower's own clock. */
bool raft_reads_vote_held(struct raft *rf, uint64_t term, int candidate)
{
    struct raft_reads *r = rf->reads;
    if (r == NULL || (rf->opts.flags & RAFT_OPT_LEASE_READ) == 0) return false;
    if (rf->role != RAFT_FOLLOWER) return false;
    sim_time_us now = sim_now_us(rf->sim);
    sim_time_us window_us = local_to_virtual_us(rf, RAFT_ELECTION_TIMEOUT_MIN_US);
    if (now >= r->heard_us + window_us) return false;
    r->stats.votes_held++;
    sim_trace4(rf->sim, node_of(rf), &trace_vote_held, i64(term), candidate, i64(now - r->heard_us),
               0);
    return true;
}
