/* pipeline: several AppendEntries in flight per follower (RAFT_OPT_PIPELINE, raft_ext.h).
 *
 * Without the option a leader keeps at most one AppendEntries beyond matchIndex in flight per
 * follower (replication.c's flow control): entries started while it travels wait for its
 * reply, so on a link with round trip R an entry started just after a send commits after up
 * to 2R. With the option each follower's progress is in one of two states, the design of
 * etcd/raft's Progress ("probe" and "replicate"; our own code):
 *   probe      nextIndex is a guess (after election, a rejection or a loss): one AppendEntries
 *              at a time, today's rule, until one succeeds (the paper's section 5.3 search,
 *              with the lab's fast backup).
 *   replicate  the follower matched nextIndex - 1: every send advances nextIndex past what it
 *              carries at once (optimistically), so the next Start goes out in the next instant
 *              without waiting, up to RAFT_PIPELINE_WINDOW requests in flight.
 * Transitions: probe -> replicate on a success reply; replicate -> probe on a rejection that
 * is not stale, on the loss of the latest request, and when the follower needs a snapshot.
 *
 * Safety does not depend on nextIndex (a guess), only on matchIndex, which moves only on a
 * success reply, by what that reply's request carried, and never backwards (replication.c).
 * A rejection is stale, and ignored, when its prevLogIndex is at or below matchIndex: within a
 * term a follower never drops entries that match the leader's, so it can only be an old
 * reply overtaken by a newer success. A rejection that is not stale resets nextIndex by the
 * fast backup, clamped to [matchIndex + 1, prevLogIndex], so nextIndex never goes below
 * matchIndex + 1 whatever order replies come in, or how often they are duplicated.
 *
 * Batching: Starts of one instant already share one replication event, one AppendEntries per
 * follower and one persist (replication.c); a follower persists once per AppendEntries
 * (before replying). Pipelining keeps that per instant: one new request per follower per
 * instant, carrying every entry started in it.
 *
 * Invariants (checked by raft_check_invariants, leader, option on): pipe_state[i] is a
 * raft_pipe_state; pipe_inflight[i] counts this term's AppendEntries to i whose outcome has not
 * come back, so it is 0 after election.
 *
 * Off means off: with the option clear, no function here changes anything, draws nothing and
 * traces nothing (every entry point checks raft_pipe_on).
 */
#include "raft_int.h"

/* Trace kinds (raft_ext.h's pipelining range 250-259). */
static const struct sim_trace_kind kind_pipe_state = {
    250, SIM_TOPIC_LOG, "raft.pipe_state", {"peer", "state", "next_index", "match_index", NULL}};

bool raft_pipe_on(const struct raft *rf)
{
    return (rf->opts.flags & RAFT_OPT_PIPELINE) != 0;
}

static void pipe_state_set(struct raft *rf, int peer, enum raft_pipe_state state)
{
    if (rf->pipe_state[peer] == state) return;
    rf->pipe_state[peer] = state;
    /* sim_trace reads SIM_TRACE_FIELDS_MAX values (the unused ones 0: they are digested). */
    const int64_t v[SIM_TRACE_FIELDS_MAX] = {peer, (int64_t)state, (int64_t)rf->next_index[peer],
                                             (int64_t)rf->match_index[peer]};
    /* The text names the state, so `labsim log` and `step` read "replicate", not "state=1". */
    sim_trace(rf->sim, raft_trace_node(rf->sim, rf->me), &kind_pipe_state, v,
              state == RAFT_PIPE_REPLICATE ? "replicate" : "probe");
}

void raft_pipe_reset(struct raft *rf)
{
    if (!raft_pipe_on(rf)) return;
    for (int i = 0; i < rf->peers_count; i++) {
        rf->pipe_state[i] = RAFT_PIPE_PROBE;
        rf->pipe_inflight[i] = 0;
    }
}

bool raft_pipe_may_send(const struct raft *rf, int peer)
{
    if (raft_pipe_on(rf) && rf->pipe_state[peer] == RAFT_PIPE_REPLICATE)
        return rf->next_index[peer] <= raft_log_last_index(&rf->log) &&
               rf->pipe_inflight[peer] < RAFT_PIPELINE_WINDOW;
    /* Probe (and the option off): one AppendEntries beyond matchIndex at a time. */
    return rf->inflight_index[peer] <= rf->match_index[peer];
}

void raft_pipe_send(struct raft *rf, int peer)
{
    if (!raft_pipe_on(rf) || rf->pipe_state[peer] != RAFT_PIPE_REPLICATE) {
        raft_replicate_peer(rf, peer);
        return;
    }
    /* Fill the window, RAFT_APPEND_ENTRIES_MAX entries a request, so a follower that fell
     * behind catches up by a window of batches per round trip rather than one. */
    for (uint32_t k = 0; k < RAFT_PIPELINE_WINDOW && raft_pipe_may_send(rf, peer); k++) {
        uint64_t next = rf->next_index[peer];
        raft_replicate_peer(rf, peer);
        if (rf->next_index[peer] == next) return; /* a snapshot went, or the send was skipped */
    }
}

void raft_pipe_sent(struct raft *rf, int peer, uint64_t prev, uint64_t count)
{
    if (!raft_pipe_on(rf)) return;
    rf->pipe_inflight[peer]++;
    /* Replicate: the follower holds prev, so it will take these entries; the next send starts
     * after them (etcd's optimistic update). Probe leaves nextIndex for the reply to settle. */
    if (rf->pipe_state[peer] == RAFT_PIPE_REPLICATE) rf->next_index[peer] = prev + count + 1;
}

void raft_pipe_snapshot_sent(struct raft *rf, int peer)
{
    if (raft_pipe_on(rf)) pipe_state_set(rf, peer, RAFT_PIPE_PROBE);
}

void raft_pipe_done(struct raft *rf, int peer, uint64_t term)
{
    if (!raft_pipe_on(rf) || rf->role != RAFT_LEADER || rf->current_term != term) return;
    /* Calls of this term were all sent after the reset at election, so the count covers them. */
    RAFT_ASSERT(rf, rf->pipe_inflight[peer] > 0);
    rf->pipe_inflight[peer]--;
}

void raft_pipe_matched(struct raft *rf, int peer)
{
    if (raft_pipe_on(rf)) pipe_state_set(rf, peer, RAFT_PIPE_REPLICATE);
}

bool raft_pipe_reject_stale(struct raft *rf, int peer, uint64_t prev)
{
    /* The option off: only the reply to the current probe counts (the lab's rule). */
    if (!raft_pipe_on(rf)) return rf->next_index[peer] != prev + 1;
    if (prev <= rf->match_index[peer]) return true; /* overtaken by a newer success */
    if (rf->pipe_state[peer] == RAFT_PIPE_PROBE) return rf->next_index[peer] != prev + 1;
    /* The follower's log lacks or disagrees with prev: the requests after it fail too, so
     * the pipeline restarts from a probe (the caller sets nextIndex by the fast backup). */
    pipe_state_set(rf, peer, RAFT_PIPE_PROBE);
    return false;
}

void raft_pipe_lost(struct raft *rf, int peer)
{
    if (!raft_pipe_on(rf)) return;
    /* Requests after the lost one cannot succeed either: resend from matchIndex + 1. */
    rf->next_index[peer] = rf->match_index[peer] + 1;
    pipe_state_set(rf, peer, RAFT_PIPE_PROBE);
}

void raft_pipe_check(const struct raft *rf)
{
    if (!raft_pipe_on(rf) || rf->role != RAFT_LEADER) return;
    for (int i = 0; i < rf->peers_count; i++) {
        if (i == rf->me) continue;
        RAFT_ASSERT(rf, rf->pipe_state[i] == RAFT_PIPE_PROBE ||
                            rf->pipe_state[i] == RAFT_PIPE_REPLICATE);
        RAFT_ASSERT(rf, rf->pipe_inflight[i] <= RAFT_CALLS_MAX);
    }
}
