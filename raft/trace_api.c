/* trace_api: the Raft trace kinds (ids 200-299) and the raft_trace_* calls of raft.h that
 * emit them.
 *
 * Provided like persister.c: always linked, whatever RAFT_IMPL names, so a student's Raft and
 * ours emit the same kinds and every study tool reads both alike. Every kind is part of the
 * replay digest, so ids are stable and never reused; field names are what the tools print in
 * columns. Numbers travel as int64: anything above INT64_MAX is clamped rather than wrapped to a
 * negative value.
 *
 * The node of each record is the kernel node the calling Raft runs on (sim_node_current: the
 * harness builds each server in its node's context, and its timers, handlers and replies run
 * in it), and the caller's `me` only when no node context is set (a tester calling into a Raft
 * directly). In labs 3 and 4 server i is node i, so nothing changes there; in lab 5 the three
 * controllers and the three groups each number their servers 0-2, and `me` alone would pile six
 * Rafts onto nodes 0-2 of the trace.
 */
#include <stdarg.h>
#include <stdio.h>

#include "raft.h"
#include "raft_ext.h"

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
/* A student's free text: topic "test", beside the harness's own events (no topic of its own,
 * so the trace format and the tools' topic tables stay as they are). */
static const struct sim_trace_kind kind_note = {214, SIM_TOPIC_TEST, "raft.note", {NULL}};

/* The node a record of Raft `me` belongs to (see the file comment). */
static int node_of(const struct sim *sim, int me)
{
    return raft_trace_node(sim, me);
}

int raft_trace_node(const struct sim *sim, int me)
{
    int node = sim_node_current(sim);
    return node != SIM_NODE_NONE ? node : me;
}

static int64_t i64(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

void raft_trace_role(struct sim *sim, int me, uint64_t term, enum raft_role role)
{
    sim_trace4(sim, node_of(sim, me), &kind_role, i64(term), (int64_t)role, 0, 0);
}

void raft_trace_election_timeout(struct sim *sim, int me, uint64_t term)
{
    sim_trace4(sim, node_of(sim, me), &kind_election_timeout, i64(term), 0, 0, 0);
}

void raft_trace_vote_request(struct sim *sim, int me, uint64_t term, int peer, uint64_t last_index,
                             uint64_t last_term)
{
    sim_trace4(sim, node_of(sim, me), &kind_vote_request, i64(term), peer, i64(last_index),
               i64(last_term));
}

void raft_trace_vote(struct sim *sim, int me, uint64_t term, int candidate, bool granted)
{
    sim_trace4(sim, node_of(sim, me), granted ? &kind_vote_grant : &kind_vote_deny, i64(term),
               candidate, 0, 0);
}

void raft_trace_append(struct sim *sim, int me, uint64_t index, uint64_t term)
{
    sim_trace4(sim, node_of(sim, me), &kind_append, i64(index), i64(term), 0, 0);
}

void raft_trace_truncate(struct sim *sim, int me, uint64_t from_index, uint64_t last_index)
{
    sim_trace4(sim, node_of(sim, me), &kind_truncate, i64(from_index), i64(last_index), 0, 0);
}

void raft_trace_commit(struct sim *sim, int me, uint64_t index, uint64_t term)
{
    sim_trace4(sim, node_of(sim, me), &kind_commit, i64(index), i64(term), 0, 0);
}

void raft_trace_apply(struct sim *sim, int me, uint64_t index)
{
    sim_trace4(sim, node_of(sim, me), &kind_apply, i64(index), 0, 0, 0);
}

void raft_trace_apply_snapshot(struct sim *sim, int me, uint64_t index, uint64_t term)
{
    sim_trace4(sim, node_of(sim, me), &kind_apply_snapshot, i64(index), i64(term), 0, 0);
}

void raft_trace_persist(struct sim *sim, int me, size_t state_bytes, size_t snapshot_bytes)
{
    sim_trace4(sim, node_of(sim, me), &kind_persist, i64(state_bytes), i64(snapshot_bytes), 0, 0);
}

void raft_trace_snapshot_taken(struct sim *sim, int me, uint64_t index, uint64_t term)
{
    sim_trace4(sim, node_of(sim, me), &kind_snapshot_taken, i64(index), i64(term), 0, 0);
}

void raft_trace_snapshot_installed(struct sim *sim, int me, uint64_t index, uint64_t term)
{
    sim_trace4(sim, node_of(sim, me), &kind_snapshot_installed, i64(index), i64(term), 0, 0);
}

void raft_trace_reject(struct sim *sim, int me, int peer, const char *why)
{
    sim_tracef(sim, node_of(sim, me), &kind_reject, peer, 0, "%s", why != NULL ? why : "");
}

void raft_trace_note(struct sim *sim, int me, const char *fmt, ...)
{
    char text[SIM_TRACE_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    sim_trace(sim, node_of(sim, me), &kind_note, NULL, text);
}
