/* prevote: the pre-vote round before an election (thesis section 9.6), option
 * RAFT_OPT_PRE_VOTE.
 *
 * A server that was cut off keeps timing out; in the lab's Raft each timeout raises its term,
 * and when it rejoins, that term deposes a healthy leader (its replies carry the higher term).
 * With pre-vote, an election timeout first asks every peer "would you vote for me in term
 * current_term + 1?" without changing any term: the server becomes a candidate (and raises its
 * term) only when a majority says yes. A peer says yes only when that term is above its own,
 * the asker's log is at least as up to date as its own (5.4.1), and it has not heard from a
 * leader within the minimum election timeout (raft_quorum_leader_recent): so a server that
 * merely lost touch while the others still hear a leader never gets to raise its term.
 *
 * A peer changes nothing on a pre-vote (no term, no vote, no timer reset). The asker adopts a
 * higher term it sees in a reply, as any Raft message would teach it: otherwise a server whose
 * term fell behind the others' (and whose log is the most up to date) could never win.
 *
 * State (raft_int.h): prevoting, prevotes_mask, prevote_round. Invariant 7: prevoting only on
 * a follower, with self in the mask. A round ends at any role change (raft_become_follower and
 * raft_become_candidate clear it) or when the next election timeout starts another round; a
 * grant counts only for the round it answered (the round number travels in the call record).
 *
 * Messages (labgob; numbers are Go ints), method "Raft.PreVote", registered only with the option:
 *   PreVoteArgs  1 term (the asker's current_term + 1)  2 candidate_id  3 last_log_index
 *                4 last_log_term
 *   PreVoteReply 1 term  2 granted
 * Trace kinds: raft.prevote_request (215), raft.prevote_grant (216), raft.prevote_deny (217, with
 * the reason: 1 term not above ours, 2 log behind ours, 3 a leader is heard from).
 */
#include "raft_int.h"

static const struct sim_trace_kind kind_prevote_request = {
    215, SIM_TOPIC_VOTE, "raft.prevote_request", {"term", "peer", "last_index", "last_term", NULL}};
static const struct sim_trace_kind kind_prevote_grant = {
    216, SIM_TOPIC_VOTE, "raft.prevote_grant", {"term", "candidate", NULL}};
static const struct sim_trace_kind kind_prevote_deny = {
    217, SIM_TOPIC_VOTE, "raft.prevote_deny", {"term", "candidate", "reason", NULL}};

enum prevote_deny_reason {
    PREVOTE_GRANTED = 0,
    PREVOTE_DENY_TERM = 1,
    PREVOTE_DENY_LOG = 2,
    PREVOTE_DENY_LEADER = 3,
};

struct prevote_args {
    uint64_t term;
    uint64_t candidate;
    uint64_t last_log_index;
    uint64_t last_log_term;
};

static int64_t trace_num(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

static void on_prevote_reply(void *ctx, bool ok, const uint8_t *reply, size_t reply_len);

void raft_prevote_start(struct raft *rf)
{
    RAFT_ASSERT(rf, (rf->opts.flags & RAFT_OPT_PRE_VOTE) != 0);
    RAFT_ASSERT(rf, rf->role != RAFT_LEADER);
    /* A candidate whose election timed out goes back to follower for the round: it keeps its
     * term and its vote, and asks before it raises the term again. */
    if (rf->role != RAFT_FOLLOWER) raft_become_follower(rf, rf->current_term);
    rf->prevoting = true;
    rf->prevotes_mask = 1u << rf->me;
    rf->prevote_round++;
    raft_election_reset(rf); /* no majority in time: the next timeout starts another round */
    if (raft_member_quorum(rf, rf->prevotes_mask)) { /* a single-peer cluster */
        raft_become_candidate(rf);
        return;
    }
    struct prevote_args a = {
        .term = rf->current_term + 1,
        .candidate = (uint64_t)rf->me,
        .last_log_index = raft_log_last_index(&rf->log),
        .last_log_term = raft_log_last_term(&rf->log),
    };
    struct gob_enc *e = &rf->enc_msg;
    for (int peer = 0; peer < rf->peers_count; peer++) {
        if (peer == rf->me) continue;
        gob_enc_reset(e);
        raft_wire_put_num(e, 1, a.term);
        raft_wire_put_num(e, 2, a.candidate);
        raft_wire_put_num(e, 3, a.last_log_index);
        raft_wire_put_num(e, 4, a.last_log_term);
        sim_trace4(rf->sim, raft_trace_node(rf->sim, rf->me), &kind_prevote_request,
                   trace_num(a.term), peer, trace_num(a.last_log_index),
                   trace_num(a.last_log_term));
        raft_call_send(rf, peer, RAFT_CALL_VOTE, "Raft.PreVote", rf->prevote_round, 0,
                       on_prevote_reply);
    }
}

static void on_prevote_reply(void *ctx, bool ok, const uint8_t *reply, size_t reply_len)
{
    struct raft_call *call = ctx;
    struct raft *rf = call->rf;
    int peer = call->peer;
    uint64_t term = call->term;
    uint64_t round = call->index;
    raft_call_release(call);
    if (rf->dead || !ok) return;
    struct gob_dec d;
    uint64_t reply_term = 0;
    bool granted = false;
    gob_dec_init(&d, reply, reply_len);
    bool nums_ok = raft_wire_get_num(&d, 1, &reply_term);
    gob_get_bool(&d, 2, &granted);
    if (gob_dec_finish(&d) != GOB_OK || !nums_ok) {
        raft_trace_reject(rf->sim, rf->me, peer, "bad PreVote reply");
        return;
    }
    if (reply_term > rf->current_term) {
        raft_become_follower(rf, reply_term); /* ends the round */
    } else if (granted && rf->prevoting && rf->prevote_round == round && rf->current_term == term) {
        rf->prevotes_mask |= 1u << peer;
        if (raft_member_quorum(rf, rf->prevotes_mask)) raft_become_candidate(rf);
    }
    raft_persist_flush(rf);
    raft_check_invariants(rf);
}

static bool prevote_args_decode(const struct raft *rf, const uint8_t *buf, size_t len,
                                struct prevote_args *a)
{
    struct gob_dec d;
    gob_dec_init(&d, buf, len);
    bool nums_ok = raft_wire_get_num(&d, 1, &a->term);
    nums_ok &= raft_wire_get_num(&d, 2, &a->candidate);
    nums_ok &= raft_wire_get_num(&d, 3, &a->last_log_index);
    nums_ok &= raft_wire_get_num(&d, 4, &a->last_log_term);
    if (gob_dec_finish(&d) != GOB_OK || !nums_ok) return false;
    return a->term > 0 && a->candidate < (uint64_t)rf->peers_count &&
           a->candidate != (uint64_t)rf->me && a->last_log_term < a->term &&
           (a->last_log_index == 0) == (a->last_log_term == 0);
}

static enum prevote_deny_reason prevote_verdict(const struct raft *rf, const struct prevote_args *a)
{
    if (a->term <= rf->current_term) return PREVOTE_DENY_TERM;
    if (!raft_candidate_log_ok(rf, a->last_log_index, a->last_log_term)) return PREVOTE_DENY_LOG;
    if (raft_quorum_leader_recent(rf)) return PREVOTE_DENY_LEADER;
    return PREVOTE_GRANTED;
}

/* PreVote receiver: RequestVote's rules for a term we do not enter (thesis 9.6). */
void raft_handle_prevote(void *receiver, struct rpc_req *req, const uint8_t *args, size_t args_len)
{
    struct raft *rf = receiver;
    if (rf->dead) return;
    struct prevote_args a = {0};
    if (!prevote_args_decode(rf, args, args_len, &a)) {
        raft_trace_reject(rf->sim, rf->me, -1, "bad PreVote args");
        RAFT_REPLY_IGNORED(req);
        return;
    }
    uint64_t term_before = rf->current_term;
    enum prevote_deny_reason reason = prevote_verdict(rf, &a);
    bool granted = reason == PREVOTE_GRANTED;
    int node = raft_trace_node(rf->sim, rf->me);
    if (granted)
        sim_trace4(rf->sim, node, &kind_prevote_grant, trace_num(a.term), (int64_t)a.candidate, 0,
                   0);
    else
        sim_trace4(rf->sim, node, &kind_prevote_deny, trace_num(a.term), (int64_t)a.candidate,
                   (int64_t)reason, 0);
    struct gob_enc *e = &rf->enc_msg;
    gob_enc_reset(e);
    raft_wire_put_num(e, 1, rf->current_term);
    gob_put_bool(e, 2, granted);
    raft_reply(rf, req);
    RAFT_ASSERT(rf, rf->current_term == term_before); /* a pre-vote never changes a term */
    raft_check_invariants(rf);
}
