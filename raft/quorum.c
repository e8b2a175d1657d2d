/* quorum: check-quorum and leader stickiness (thesis sections 6.2 and 4.2.3), option
 * RAFT_OPT_CHECK_QUORUM; and the "heard from a leader lately" test pre-vote uses too.
 *
 * Check-quorum: the lab's leader, cut off in a minority, believes it leads forever (it never
 * times out), and clients that reach it wait on it for nothing. Here a leader remembers when
 * each peer last answered a request of its term (peer_contact_us, any AppendEntries or
 * InstallSnapshot reply of the term, success or not); on each heartbeat it counts the peers
 * heard within the maximum election timeout, itself included, and steps down when they are not
 * a majority. A leader that loses its majority thus steps down within
 * RAFT_ELECTION_TIMEOUT_MAX_US + RAFT_HEARTBEAT_US (the check runs on heartbeats). The window
 * starts at election (raft_quorum_reset), so a new leader gets one full timeout to be answered.
 *
 * Leader stickiness: a server that heard from a leader of its term within the minimum election
 * timeout (leader_contact_us, set whenever it accepts an AppendEntries or InstallSnapshot), or
 * that is the leader, ignores a RequestVote of a later term: denies it without taking the term
 * (election.c), unless the request carries leadership transfer's flag (transfer.c). No
 * candidate can then depose a leader that a majority still hears. Pre-vote asks the same
 * question before it grants (prevote.c), whatever this option says.
 *
 * Every call here only reads or stores fields unless RAFT_OPT_CHECK_QUORUM is on (the callers
 * check), so with no options nothing new happens.
 *
 * Trace kinds: raft.vote_ignored (218: a RequestVote ignored by stickiness), raft.quorum_lost
 * (219: the leader steps down; "heard" counts the peers heard within the window, self
 * included).
 */
#include "raft_int.h"

static const struct sim_trace_kind kind_vote_ignored = {
    218, SIM_TOPIC_VOTE, "raft.vote_ignored", {"term", "candidate", "my_term", NULL}};
static const struct sim_trace_kind kind_quorum_lost = {
    219, SIM_TOPIC_ROLE, "raft.quorum_lost", {"term", "heard", "peers", NULL}};

/* The window a leader's majority must answer within (thesis 6.2: an election timeout). */
#define QUORUM_WINDOW_US RAFT_ELECTION_TIMEOUT_MAX_US
/* How recent a leader's message must be for stickiness and pre-vote (thesis 4.2.3: the
 * minimum election timeout, the earliest any follower of that leader could time out). */
#define LEADER_RECENT_US RAFT_ELECTION_TIMEOUT_MIN_US

_Static_assert(RAFT_QUORUM_STEP_DOWN_MAX_US == QUORUM_WINDOW_US + RAFT_HEARTBEAT_US,
               "raft_ext.h states the step-down bound of this window and heartbeat");

static int64_t trace_num(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

void raft_quorum_leader_heard(struct raft *rf)
{
    RAFT_ASSERT(rf, rf->role == RAFT_FOLLOWER);
    rf->leader_contact_us = sim_now_us(rf->sim);
}

void raft_quorum_peer_heard(struct raft *rf, int peer)
{
    RAFT_ASSERT(rf, rf->role == RAFT_LEADER);
    RAFT_ASSERT(rf, peer >= 0 && peer < rf->peers_count && peer != rf->me);
    rf->peer_contact_us[peer] = sim_now_us(rf->sim);
}

void raft_quorum_reset(struct raft *rf)
{
    RAFT_ASSERT(rf, rf->role == RAFT_LEADER);
    sim_time_us now = sim_now_us(rf->sim);
    for (int i = 0; i < rf->peers_count; i++)
        rf->peer_contact_us[i] = now;
}

static uint32_t quorum_heard_mask(const struct raft *rf)
{
    sim_time_us now = sim_now_us(rf->sim);
    uint32_t mask = 1u << rf->me;
    for (int i = 0; i < rf->peers_count; i++) {
        if (i != rf->me && now - rf->peer_contact_us[i] < QUORUM_WINDOW_US) mask |= 1u << i;
    }
    return mask;
}

bool raft_quorum_check(struct raft *rf)
{
    RAFT_ASSERT(rf, (rf->opts.flags & RAFT_OPT_CHECK_QUORUM) != 0);
    RAFT_ASSERT(rf, rf->role == RAFT_LEADER);
    uint32_t heard = quorum_heard_mask(rf);
    if (raft_member_quorum(rf, heard)) return false;
    int heard_count = 0;
    for (int i = 0; i < rf->peers_count; i++)
        heard_count += (heard >> i) & 1u;
    sim_trace4(rf->sim, raft_trace_node(rf->sim, rf->me), &kind_quorum_lost,
               trace_num(rf->current_term), heard_count, rf->peers_count, 0);
    raft_become_follower(rf, rf->current_term); /* same term: it just stops leading */
    RAFT_ASSERT(rf, rf->role == RAFT_FOLLOWER);
    return true;
}

bool raft_quorum_leader_recent(const struct raft *rf)
{
    if (rf->role == RAFT_LEADER) return true;
    if (rf->leader_contact_us == 0) return false;
    return sim_now_us(rf->sim) - rf->leader_contact_us < LEADER_RECENT_US;
}

void raft_quorum_trace_ignored(struct raft *rf, uint64_t term, int candidate)
{
    RAFT_ASSERT(rf, term > rf->current_term);
    sim_trace4(rf->sim, raft_trace_node(rf->sim, rf->me), &kind_vote_ignored, trace_num(term),
               candidate, trace_num(rf->current_term), 0);
}
