/* transfer: leadership transfer (thesis section 3.10) and its TimeoutNow RPC.
 *
 * raft_transfer_leadership(rf, target) on the leader: (1) the leader stops taking commands
 * (raft_start returns false while transfer_target >= 0), so its log stops growing; (2) it
 * brings the target's log up to date with the usual replication; (3) once the target's
 * matchIndex is the leader's last index, it sends TimeoutNow; (4) the target starts an election
 * at once, without pre-vote, and its RequestVotes carry the transfer flag, which lets them
 * through check-quorum's leader stickiness (a follower honours it because only a leader's
 * TimeoutNow starts such a campaign). The target, with a log as up to date as anyone's and a
 * head start of a whole election timeout, normally wins; its higher term makes the old leader
 * step down, and the transfer is done. When the old leader is still leading an election
 * timeout (the maximum one) after the call, the transfer is abandoned and it takes commands
 * again (the target was cut off, or lost the election).
 *
 * Nothing here runs unless raft_transfer_leadership is called: every hook the other files call
 * returns at once while transfer_target is -1, and a RequestVote without the flag encodes as
 * before. The TimeoutNow method is registered always (a registration sends and traces nothing).
 *
 * State (raft_int.h): transfer_target, transfer_timeout_now_sent, transfer_timer on the leader;
 * transfer_campaign on the target's candidacy. Invariant 8 ties them to the roles.
 *
 * Messages (labgob; numbers are Go ints), method "Raft.TimeoutNow":
 *   TimeoutNowArgs  1 term  2 leader_id
 *   TimeoutNowReply 1 term
 * Trace kinds: raft.transfer_start (220), raft.timeout_now (221, on the leader as it sends),
 * raft.transfer_done (222), raft.transfer_abandoned (223, with why: 1 timed out, 2 stepped down
 * in the meantime without a later term, e.g. check-quorum, or before TimeoutNow went out),
 * raft.transfer_campaign (224, on the target as it starts).
 */
#include "raft_int.h"

static const struct sim_trace_kind kind_transfer_start = {
    220, SIM_TOPIC_ROLE, "raft.transfer_start", {"term", "target", "target_match", "last_index"}};
static const struct sim_trace_kind kind_timeout_now = {
    221, SIM_TOPIC_ROLE, "raft.timeout_now", {"term", "target", NULL}};
static const struct sim_trace_kind kind_transfer_done = {
    222, SIM_TOPIC_ROLE, "raft.transfer_done", {"term", "target", "new_term", NULL}};
static const struct sim_trace_kind kind_transfer_abandoned = {
    223, SIM_TOPIC_ROLE, "raft.transfer_abandoned", {"term", "target", "why", NULL}};
static const struct sim_trace_kind kind_transfer_campaign = {
    224, SIM_TOPIC_ROLE, "raft.transfer_campaign", {"term", "leader", NULL}};

enum transfer_abandon_why { ABANDON_TIMEOUT = 1, ABANDON_STEPPED_DOWN = 2 };

/* How long a transfer may take before the leader gives up (thesis 3.10: an election timeout). */
#define TRANSFER_TIMEOUT_US RAFT_ELECTION_TIMEOUT_MAX_US

static int64_t trace_num(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

static void transfer_trace(struct raft *rf, const struct sim_trace_kind *kind, int64_t b, int64_t c,
                           int64_t d)
{
    sim_trace4(rf->sim, raft_trace_node(rf->sim, rf->me), kind, trace_num(rf->current_term), b, c,
               d);
}

const char *raft_transfer_strerror(int err)
{
    return raft_strerror(err);
}

static void transfer_clear(struct raft *rf)
{
    if (rf->transfer_timer != 0) sim_timer_cancel(rf->sim, rf->transfer_timer);
    rf->transfer_timer = 0;
    rf->transfer_target = -1;
    rf->transfer_timeout_now_sent = false;
}

static void transfer_timer_fire(struct sim *sim, void *arg)
{
    (void)sim;
    struct raft *rf = arg;
    rf->transfer_timer = 0;
    if (rf->dead || rf->transfer_target < 0) return;
    RAFT_ASSERT(rf, rf->role == RAFT_LEADER);
    transfer_trace(rf, &kind_transfer_abandoned, rf->transfer_target, ABANDON_TIMEOUT, 0);
    transfer_clear(rf); /* the leader takes commands again */
    raft_check_invariants(rf);
}

static void on_timeout_now_reply(void *ctx, bool ok, const uint8_t *reply, size_t reply_len)
{
    struct raft_call *call = ctx;
    struct raft *rf = call->rf;
    raft_call_release(call);
    if (rf->dead || !ok) return;
    struct gob_dec d;
    uint64_t reply_term = 0;
    gob_dec_init(&d, reply, reply_len);
    bool nums_ok = raft_wire_get_num(&d, 1, &reply_term);
    if (gob_dec_finish(&d) != GOB_OK || !nums_ok) return;
    if (reply_term > rf->current_term) raft_become_follower(rf, reply_term);
    raft_persist_flush(rf);
    raft_check_invariants(rf);
}

static void timeout_now_send(struct raft *rf)
{
    int target = rf->transfer_target;
    RAFT_ASSERT(rf, target >= 0 && !rf->transfer_timeout_now_sent);
    RAFT_ASSERT(rf, rf->match_index[target] == raft_log_last_index(&rf->log));
    rf->transfer_timeout_now_sent = true;
    struct gob_enc *e = &rf->enc_msg;
    gob_enc_reset(e);
    raft_wire_put_num(e, 1, rf->current_term);
    raft_wire_put_num(e, 2, (uint64_t)rf->me);
    transfer_trace(rf, &kind_timeout_now, target, 0, 0);
    raft_call_send(rf, target, RAFT_CALL_VOTE, "Raft.TimeoutNow", 0, 0, on_timeout_now_reply);
}

int raft_transfer_leadership(struct raft *rf, int target)
{
    if (rf->dead || rf->role != RAFT_LEADER) return RAFT_ENOTLEADER;
    if (target < 0 || target >= rf->peers_count || target == rf->me) return RAFT_ESERVER;
    if (!raft_member_voter(rf, target)) return RAFT_ESERVER; /* a learner cannot lead */
    if (rf->transfer_target >= 0) return RAFT_EBUSY;
    if ((rf->opts.flags & RAFT_OPT_LEASE_READ) != 0) return RAFT_ELEASE; /* see raft_ext.h */
    uint64_t last = raft_log_last_index(&rf->log);
    rf->transfer_target = target;
    rf->transfer_timeout_now_sent = false;
    rf->transfer_timer = sim_after(rf->sim, TRANSFER_TIMEOUT_US, transfer_timer_fire, rf);
    transfer_trace(rf, &kind_transfer_start, target, trace_num(rf->match_index[target]),
                   trace_num(last));
    if (rf->match_index[target] == last)
        timeout_now_send(rf);
    else if (rf->inflight_index[target] <= rf->match_index[target])
        raft_replicate_peer(rf, target); /* else the reply in flight continues the catch-up */
    raft_persist_flush(rf);
    raft_check_invariants(rf);
    return RAFT_OK;
}

void raft_transfer_matched(struct raft *rf, int peer)
{
    if (rf->transfer_target != peer || rf->transfer_timeout_now_sent) return;
    RAFT_ASSERT(rf, rf->role == RAFT_LEADER);
    if (rf->match_index[peer] == raft_log_last_index(&rf->log)) timeout_now_send(rf);
}

void raft_transfer_end(struct raft *rf, bool term_rose)
{
    if (rf->transfer_target < 0) return;
    RAFT_ASSERT(rf, rf->role != RAFT_LEADER); /* called as the leader steps down */
    if (rf->transfer_timeout_now_sent && term_rose)
        transfer_trace(rf, &kind_transfer_done, rf->transfer_target, trace_num(rf->current_term),
                       0);
    else
        transfer_trace(rf, &kind_transfer_abandoned, rf->transfer_target, ABANDON_STEPPED_DOWN, 0);
    transfer_clear(rf);
}

/* TimeoutNow receiver: the leader of our term says our log is as up to date as its own and
 * asks us to start an election now (3.10). Anything else (another term, a candidate, a leader)
 * is answered with our term and otherwise ignored. */
void raft_handle_timeout_now(void *receiver, struct rpc_req *req, const uint8_t *args,
                             size_t args_len)
{
    struct raft *rf = receiver;
    if (rf->dead) return;
    struct gob_dec d;
    uint64_t term = 0;
    uint64_t leader = 0;
    gob_dec_init(&d, args, args_len);
    bool nums_ok = raft_wire_get_num(&d, 1, &term);
    nums_ok &= raft_wire_get_num(&d, 2, &leader);
    if (gob_dec_finish(&d) != GOB_OK || !nums_ok || term == 0 ||
        leader >= (uint64_t)rf->peers_count || leader == (uint64_t)rf->me) {
        raft_trace_reject(rf->sim, rf->me, -1, "bad TimeoutNow args");
        RAFT_REPLY_IGNORED(req);
        return;
    }
    if (term == rf->current_term && rf->role == RAFT_FOLLOWER) {
        sim_trace4(rf->sim, raft_trace_node(rf->sim, rf->me), &kind_transfer_campaign,
                   trace_num(term), (int64_t)leader, 0, 0);
        rf->transfer_campaign = true; /* skips pre-vote; the RequestVotes carry the flag */
        raft_become_candidate(rf);
    }
    raft_persist_flush(rf); /* before responding */
    struct gob_enc *e = &rf->enc_msg;
    gob_enc_reset(e);
    raft_wire_put_num(e, 1, rf->current_term);
    raft_reply(rf, req);
    raft_check_invariants(rf);
}
