/* trace: the Raft trace kinds (ids 200-299) and their emitters.
 *
 * Every kind is part of the replay digest, so ids are stable and never reused. The node of
 * each record is the instance's `me`. Field names are what the study tools print in columns.
 */
#include "raft_int.h"

static const struct sim_trace_kind kind_role = {
    200, SIM_TOPIC_ROLE, "raft.role", {"term", "role", NULL}};
static const struct sim_trace_kind kind_election_timeout = {
    201, SIM_TOPIC_TIMER, "raft.election_timeout", {"term", NULL}};
static const struct sim_trace_kind kind_vote_request = {
    202, SIM_TOPIC_VOTE, "raft.vote_request", {"term", "peer", "last_index", "last_term", NULL}};
static const struct sim_trace_kind kind_vote_grant = {
    203, SIM_TOPIC_VOTE, "raft.vote_grant", {"term", "candidate", NULL}};
static const struct sim_trace_kind kind_vote_deny = {
    204, SIM_TOPIC_VOTE, "raft.vote_deny", {"term", "candidate", NULL}};
static const struct sim_trace_kind kind_append = {
    205, SIM_TOPIC_LOG, "raft.append", {"index", "term", NULL}};
static const struct sim_trace_kind kind_truncate = {
    206, SIM_TOPIC_LOG, "raft.truncate", {"from_index", "last_index", NULL}};
static const struct sim_trace_kind kind_commit = {
    207, SIM_TOPIC_COMMIT, "raft.commit", {"index", "term", NULL}};
static const struct sim_trace_kind kind_apply = {
    208, SIM_TOPIC_APPLY, "raft.apply", {"index", NULL}};
static const struct sim_trace_kind kind_persist = {
    209, SIM_TOPIC_PERSIST, "raft.persist", {"state_bytes", "snapshot_bytes", NULL}};
static const struct sim_trace_kind kind_snapshot_taken = {
    210, SIM_TOPIC_SNAP, "raft.snapshot_taken", {"index", "term", NULL}};
static const struct sim_trace_kind kind_snapshot_installed = {
    211, SIM_TOPIC_SNAP, "raft.snapshot_installed", {"index", "term", NULL}};
static const struct sim_trace_kind kind_apply_snapshot = {
    212, SIM_TOPIC_APPLY, "raft.apply_snapshot", {"index", "term", NULL}};
static const struct sim_trace_kind kind_reject = {
    213, SIM_TOPIC_NET, "raft.reject", {"peer", NULL}};

static int64_t i64(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

void raft_trace_role(struct raft *rf)
{
    sim_trace4(rf->sim, rf->me, &kind_role, i64(rf->current_term), (int64_t)rf->role, 0, 0);
}

void raft_trace_election_timeout(struct raft *rf)
{
    sim_trace4(rf->sim, rf->me, &kind_election_timeout, i64(rf->current_term), 0, 0, 0);
}

void raft_trace_vote_request(struct raft *rf, int peer)
{
    sim_trace4(rf->sim, rf->me, &kind_vote_request, i64(rf->current_term), peer,
               i64(raft_log_last_index(&rf->log)), i64(raft_log_last_term(&rf->log)));
}

void raft_trace_vote(struct raft *rf, int candidate, uint64_t term, bool granted)
{
    sim_trace4(rf->sim, rf->me, granted ? &kind_vote_grant : &kind_vote_deny, i64(term), candidate,
               0, 0);
}

void raft_trace_append(struct raft *rf, uint64_t index, uint64_t term)
{
    sim_trace4(rf->sim, rf->me, &kind_append, i64(index), i64(term), 0, 0);
}

void raft_trace_truncate(struct raft *rf, uint64_t from_index, uint64_t last_index)
{
    sim_trace4(rf->sim, rf->me, &kind_truncate, i64(from_index), i64(last_index), 0, 0);
}

void raft_trace_commit(struct raft *rf, uint64_t index)
{
    sim_trace4(rf->sim, rf->me, &kind_commit, i64(index), i64(rf->current_term), 0, 0);
}

void raft_trace_apply(struct raft *rf, uint64_t index)
{
    sim_trace4(rf->sim, rf->me, &kind_apply, i64(index), 0, 0, 0);
}

void raft_trace_apply_snapshot(struct raft *rf, uint64_t index, uint64_t term)
{
    sim_trace4(rf->sim, rf->me, &kind_apply_snapshot, i64(index), i64(term), 0, 0);
}

void raft_trace_persist(struct raft *rf, size_t state_len, size_t snapshot_len)
{
    sim_trace4(rf->sim, rf->me, &kind_persist, i64(state_len), i64(snapshot_len), 0, 0);
}

void raft_trace_snapshot_taken(struct raft *rf, uint64_t index, uint64_t term)
{
    sim_trace4(rf->sim, rf->me, &kind_snapshot_taken, i64(index), i64(term), 0, 0);
}

void raft_trace_snapshot_installed(struct raft *rf, uint64_t index, uint64_t term)
{
    sim_trace4(rf->sim, rf->me, &kind_snapshot_installed, i64(index), i64(term), 0, 0);
}

void raft_trace_reject(struct raft *rf, int peer, const char *what)
{
    sim_tracef(rf->sim, rf->me, &kind_reject, peer, 0, "%s", what);
}
