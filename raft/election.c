/* election: roles, the randomized election timer and RequestVote (sections 5.1, 5.2, 5.4.1).
 *
 * Owns the role transitions listed in raft_int.h and the election timer. The timer is lazy:
 * resetting it only moves election_deadline_us later, and the timer event, when it fires
 * early, re-arms itself at the deadline; so a heartbeat costs no cancel/schedule pair. It is
 * re-armed at once when a reset moves the deadline earlier than the pending event.
 *
 * Messages (labgob, zero fields omitted; numbers are Go ints, raft_wire_put_num):
 *   RequestVoteArgs  1 term  2 candidate_id  3 last_log_index  4 last_log_term
 *                    5 transfer (only in a TimeoutNow campaign, transfer.c; omitted otherwise)
 *   RequestVoteReply 1 term  2 vote_granted
 * With RAFT_OPT_PRE_VOTE the timer starts a pre-vote round instead (prevote.c); with
 * RAFT_OPT_CHECK_QUORUM a RequestVote of a later term is ignored while a leader is heard from
 * (quorum.c), unless it carries the transfer flag.
 */
#include "raft_int.h"

struct vote_args {
    uint64_t term;
    uint64_t candidate;
    uint64_t last_log_index;
    uint64_t last_log_term;
    bool transfer; /* sent by a candidate that got TimeoutNow from its leader */
};

struct vote_reply {
    uint64_t term;
    bool granted;
};

static void election_timer_fire(struct sim *sim, void *arg);

static void election_timer_arm(struct raft *rf)
{
    sim_time_us now = sim_now_us(rf->sim);
    sim_time_us delay = rf->election_deadline_us > now ? rf->election_deadline_us - now : 0;
    rf->election_timer = sim_after(rf->sim, delay, election_timer_fire, rf);
    rf->election_timer_due_us = now + delay;
}

void raft_election_reset(struct raft *rf)
{
    RAFT_ASSERT(rf, !rf->dead);
    int64_t timeout_us = sim_rand_range(&rf->rand, (int64_t)RAFT_ELECTION_TIMEOUT_MIN_US,
                                        (int64_t)RAFT_ELECTION_TIMEOUT_MAX_US - 1);
    rf->election_deadline_us = sim_now_us(rf->sim) + (sim_time_us)timeout_us;
    if (rf->election_timer != 0 && rf->election_timer_due_us <= rf->election_deadline_us)
        return; /* fires early and re-arms itself at the new deadline */
    if (rf->election_timer != 0) sim_timer_cancel(rf->sim, rf->election_timer);
    election_timer_arm(rf);
}

/* Figure 2, Followers: "If election timeout elapses without receiving AppendEntries RPC from
 * current leader or granting vote to candidate: convert to candidate". Candidates: "If
 * election timeout elapses: start new election". Leaders never time out. */
static void election_timer_fire(struct sim *sim, void *arg)
{
    struct raft *rf = arg;
    rf->election_timer = 0;
    if (rf->dead || rf->role == RAFT_LEADER)
        return; /* a leader re-arms the timer when it steps down */
    if (sim_now_us(sim) < rf->election_deadline_us) {
        election_timer_arm(rf);
        return;
    }
    /* Thesis 4.1, 4.2.1: learners and servers outside the configuration never campaign; they
     * wait to be contacted (AppendEntries arms the timer again). Every peer votes without
     * RAFT_OPT_MEMBERSHIP. */
    if (!raft_member_voter(rf, rf->me)) return;
    raft_trace_election_timeout(rf->sim, rf->me, rf->current_term);
    rf->transfer_campaign = false; /* only TimeoutNow starts a transfer campaign */
    if ((rf->opts.flags & RAFT_OPT_PRE_VOTE) != 0)
        raft_prevote_start(rf);
    else
        raft_become_candidate(rf);
    raft_persist_flush(rf);
    raft_check_invariants(rf);
}

void raft_become_follower(struct raft *rf, uint64_t term)
{
    RAFT_ASSERT(rf, term >= rf->current_term);
    bool was_leader = rf->role == RAFT_LEADER;
    bool changed = term != rf->current_term || rf->role != RAFT_FOLLOWER;
    bool term_rose = term > rf->current_term;
    /* Figure 2, All Servers: "If RPC request or response contains term T > currentTerm: set
     * currentTerm = T, convert to follower". A new term has no vote cast yet. */
    if (term > rf->current_term) {
        rf->current_term = term;
        rf->voted_for = -1;
        raft_persist_mark(rf);
    }
    rf->role = RAFT_FOLLOWER;
    rf->votes_mask = 0;
    rf->prevoting = false;
    rf->prevotes_mask = 0;
    rf->transfer_campaign = false;
    if (was_leader) {
        raft_transfer_end(rf, term_rose);
        sim_timer_cancel(rf->sim, rf->heartbeat_timer);
        rf->heartbeat_timer = 0;
        sim_timer_cancel(rf->sim, rf->replicate_event);
        rf->replicate_event = 0;
        raft_election_reset(rf);
        raft_reads_poke(rf); /* pending reads fail: we are no longer leader */
    }
    if (changed) raft_trace_role(rf->sim, rf->me, rf->current_term, rf->role);
}

/* A majority of the voters of the configuration in effect (every peer without membership). */
static bool votes_won(const struct raft *rf)
{
    return raft_member_quorum(rf, rf->votes_mask);
}

static void vote_args_encode(struct gob_enc *e, const struct vote_args *a)
{
    gob_enc_reset(e);
    raft_wire_put_num(e, 1, a->term);
    raft_wire_put_num(e, 2, a->candidate);
    raft_wire_put_num(e, 3, a->last_log_index);
    raft_wire_put_num(e, 4, a->last_log_term);
    gob_put_bool(e, 5, a->transfer); /* false: omitted, so the lab's bytes are unchanged */
}

static void on_vote_reply(void *ctx, bool ok, const uint8_t *reply, size_t reply_len);

/* Figure 2, Candidates: "On conversion to candidate, start election: increment currentTerm,
 * vote for self, reset election timer, send RequestVote RPCs to all other servers". */
void raft_become_candidate(struct raft *rf)
{
    RAFT_ASSERT(rf, rf->role != RAFT_LEADER);
    rf->current_term++;
    rf->voted_for = rf->me;
    rf->role = RAFT_CANDIDATE;
    rf->votes_mask = 1u << rf->me;
    rf->prevoting = false;
    rf->prevotes_mask = 0;
    raft_persist_mark(rf);
    raft_trace_role(rf->sim, rf->me, rf->current_term, rf->role);
    raft_election_reset(rf);
    if (votes_won(rf)) { /* a single-peer cluster */
        raft_become_leader(rf);
        return;
    }
    struct vote_args a = {
        .term = rf->current_term,
        .candidate = (uint64_t)rf->me,
        .last_log_index = raft_log_last_index(&rf->log),
        .last_log_term = raft_log_last_term(&rf->log),
        .transfer = rf->transfer_campaign,
    };
    vote_args_encode(&rf->enc_msg, &a);
    for (int peer = 0; peer < rf->peers_count; peer++) {
        if (peer == rf->me || !raft_member_voter(rf, peer)) continue;
        raft_trace_vote_request(rf->sim, rf->me, rf->current_term, peer, a.last_log_index,
                                a.last_log_term);
        raft_call_send(rf, peer, RAFT_CALL_VOTE, "Raft.RequestVote", 0, 0, on_vote_reply);
    }
}

/* Figure 2, Leaders: "Upon election: send initial empty AppendEntries RPCs (heartbeat) to
 * each server"; nextIndex = leader last log index + 1, matchIndex = 0. No no-op entry is
 * appended: the lab's tests expect Start()'s indices to be the only entries. */
void raft_become_leader(struct raft *rf)
{
    RAFT_ASSERT(rf, rf->role == RAFT_CANDIDATE);
    RAFT_ASSERT(rf, rf->voted_for == rf->me);
    rf->role = RAFT_LEADER;
    rf->transfer_campaign = false;
    raft_quorum_reset(rf);
    uint64_t next = raft_log_last_index(&rf->log) + 1;
    for (int i = 0; i < rf->peers_count; i++) {
        rf->next_index[i] = next;
        rf->match_index[i] = 0;
        rf->inflight_index[i] = 0;
    }
    sim_timer_cancel(rf->sim, rf->election_timer);
    rf->election_timer = 0;
    raft_trace_role(rf->sim, rf->me, rf->current_term, rf->role);
    raft_pipe_reset(rf);
    raft_heartbeat_start(rf);
    /* A single-peer leader commits by itself (its own match is the whole log). */
    raft_commit_advance(rf);
}

static void on_vote_reply(void *ctx, bool ok, const uint8_t *reply, size_t reply_len)
{
    struct raft_call *call = ctx;
    struct raft *rf = call->rf;
    int peer = call->peer;
    uint64_t term = call->term;
    raft_call_release(call);
    if (rf->dead || !ok) return;
    struct gob_dec d;
    struct vote_reply r = {0};
    gob_dec_init(&d, reply, reply_len);
    bool nums_ok = raft_wire_get_num(&d, 1, &r.term);
    gob_get_bool(&d, 2, &r.granted);
    if (gob_dec_finish(&d) != GOB_OK || !nums_ok) {
        raft_trace_reject(rf->sim, rf->me, peer, "bad RequestVote reply");
        return;
    }
    if (r.term > rf->current_term) {
        raft_become_follower(rf, r.term);
    } else if (r.granted && r.term == term && rf->role == RAFT_CANDIDATE &&
               rf->current_term == term) {
        /* Figure 2, Candidates: "If votes received from majority of servers: become leader".
         * Replies from an older election (term differs) are stale and ignored. */
        rf->votes_mask |= 1u << peer;
        if (votes_won(rf)) raft_become_leader(rf);
    }
    raft_persist_flush(rf);
    raft_check_invariants(rf);
}

/* Section 5.4.1: the candidate's log is at least as up-to-date as ours when its last term is
 * later, or equal with a last index at least as large. */
bool raft_candidate_log_ok(const struct raft *rf, uint64_t last_index, uint64_t last_term)
{
    uint64_t my_last_term = raft_log_last_term(&rf->log);
    if (last_term != my_last_term) return last_term > my_last_term;
    return last_index >= raft_log_last_index(&rf->log);
}

static bool vote_args_decode(const struct raft *rf, const uint8_t *buf, size_t len,
                             struct vote_args *a)
{
    struct gob_dec d;
    gob_dec_init(&d, buf, len);
    bool nums_ok = raft_wire_get_num(&d, 1, &a->term);
    nums_ok &= raft_wire_get_num(&d, 2, &a->candidate);
    nums_ok &= raft_wire_get_num(&d, 3, &a->last_log_index);
    nums_ok &= raft_wire_get_num(&d, 4, &a->last_log_term);
    gob_get_bool(&d, 5, &a->transfer);
    if (gob_dec_finish(&d) != GOB_OK || !nums_ok) return false;
    return a->term > 0 && a->candidate < (uint64_t)rf->peers_count &&
           a->candidate != (uint64_t)rf->me && a->last_log_term <= a->term &&
           (a->last_log_index == 0) == (a->last_log_term == 0);
}

/* Persists, then answers with our term and the verdict. */
static void vote_reply_send(struct raft *rf, struct rpc_req *req, bool granted)
{
    raft_persist_flush(rf); /* before responding */
    struct gob_enc *e = &rf->enc_msg;
    gob_enc_reset(e);
    raft_wire_put_num(e, 1, rf->current_term);
    gob_put_bool(e, 2, granted);
    raft_reply(rf, req);
    raft_check_invariants(rf);
}

/* RequestVote receiver implementation (Figure 2). */
void raft_handle_request_vote(void *receiver, struct rpc_req *req, const uint8_t *args,
                              size_t args_len)
{
    struct raft *rf = receiver;
    if (rf->dead) return; /* a killed peer answers nothing; its server is deleted anyway */
    struct vote_args a = {0};
    if (!vote_args_decode(rf, args, args_len, &a)) {
        raft_trace_reject(rf->sim, rf->me, -1, "bad RequestVote args");
        RAFT_REPLY_IGNORED(req);
        return;
    }
    int candidate = (int)a.candidate;
    /* Check-quorum's leader stickiness (thesis 4.2.3): while a leader is heard from, a later
     * term's RequestVote is ignored, not even its term taken, unless leadership transfer asked
     * for it (3.10). */
    if ((rf->opts.flags & RAFT_OPT_CHECK_QUORUM) != 0 && a.term > rf->current_term && !a.transfer &&
        raft_quorum_leader_recent(rf)) {
        raft_quorum_trace_ignored(rf, a.term, candidate);
        vote_reply_send(rf, req, false);
        return;
    }
    if (raft_reads_vote_held(rf, a.term, candidate)) {
        vote_reply_send(rf, req, false); /* lease window: no new term, no vote (4.2.3) */
        return;
    }
    if (a.term > rf->current_term) raft_become_follower(rf, a.term);
    /* 1. "Reply false if term < currentTerm". 2. "If votedFor is null or candidateId, and
     * candidate's log is at least as up-to-date as receiver's log, grant vote". */
    bool granted = a.term == rf->current_term &&
                   (rf->voted_for == -1 || rf->voted_for == candidate) &&
                   raft_candidate_log_ok(rf, a.last_log_index, a.last_log_term);
    if (granted) {
        rf->voted_for = candidate;
        raft_persist_mark(rf);
        raft_election_reset(rf); /* Followers: granting a vote resets the election timer */
    }
    raft_trace_vote(rf->sim, rf->me, a.term, candidate, granted);
    vote_reply_send(rf, req, granted);
}
