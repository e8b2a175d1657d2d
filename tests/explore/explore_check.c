/* explore_check: the Raft safety properties (Figure 3 of the extended Raft paper), checked after
 * every sim event through what raft.h exposes: raft_get_state (the lab API) and the
 * introspection pair raft_inspect / raft_inspect_term_at. A Raft whose introspection is a stub
 * (zeros) is checked for election safety only; the Raft tester's appliers still check the
 * applied values and their order.
 *
 *  election-safety       at most one server ever claims leadership of a term (remembered per
 *                        term, across crashes).
 *  log-matching          two logs holding an entry of the same index and term hold the same
 *                        terms at every earlier index (both above their snapshots).
 *  state-machine-safety  no index is ever committed with two different terms.
 *  leader-completeness   a server that becomes leader of term T holds every entry known to be
 *                        committed by a server whose current term was below T at the time.
 *  apply-order           one instance's lastApplied never goes back.
 *
 * Cost: a server is looked at again only when its log summary (last index and term, snapshot,
 * current term) changed, so a quiet event costs one raft_inspect per server.
 */
#include <inttypes.h>
#include <string.h>

#include "explore_int.h"

static const void *raft_instance(const struct explore_cluster *cl, int i)
{
    struct raft *rf = cl->raft(cl->cfg, i);
    return rf != NULL && !raft_killed(rf) ? rf : NULL;
}

static bool raft_leader(const struct explore_cluster *cl, int i, uint64_t *term)
{
    return raft_get_state(cl->raft(cl->cfg, i), term);
}

static void raft_view_inspect(const struct explore_cluster *cl, int i, struct raft_inspect *out)
{
    raft_inspect(cl->raft(cl->cfg, i), out);
}

static uint64_t raft_term_at(const struct explore_cluster *cl, int i, uint64_t index)
{
    return raft_inspect_term_at(cl->raft(cl->cfg, i), index);
}

const struct explore_view explore_view_raft = {raft_instance, raft_leader, raft_view_inspect,
                                               raft_term_at};

void explore_checker_init(struct explore_checker *c, const struct explore_cluster *cl)
{
    SIM_ASSERT(cl->sim, SIM_NODE_NONE, c->terms_count == 0);
    SIM_ASSERT(cl->sim, SIM_NODE_NONE, cl->n <= EXPLORE_SERVERS_MAX);
    c->cl = cl;
}

#define CHECK_FAIL(c, node, ...) lab_failf((c)->cl->ctx, (node), __VA_ARGS__)

/* ---------------------------------------------------------------- election safety */

static void note_leader(struct explore_checker *c, int i, uint64_t term)
{
    size_t lo = 0;
    size_t hi = c->terms_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->terms[mid].term < term)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->terms_count && c->terms[lo].term == term) {
        if (c->terms[lo].leader != i)
            CHECK_FAIL(
                c, i, "SAFETY election-safety: term %" PRIu64 " has two leaders, servers %d and %d",
                term, c->terms[lo].leader, i);
        return;
    }
    if (c->terms_count == EXPLORE_TERMS_MAX) {
        CHECK_FAIL(c, i, "SAFETY harness: more than %u terms had a leader", EXPLORE_TERMS_MAX);
        return;
    }
    memmove(&c->terms[lo + 1], &c->terms[lo], (c->terms_count - lo) * sizeof(c->terms[0]));
    c->terms[lo] = (struct explore_term_leader){.term = term, .leader = i};
    c->terms_count++;
}

/* ---------------------------------------------------------------- committed entries */

/* Records the entries server i has committed since it was last looked at. */
static void record_committed(struct explore_checker *c, int i, const struct raft_inspect *in)
{
    struct explore_seen *seen = &c->seen[i];
    uint64_t from =
        seen->commit_recorded > in->snapshot_index ? seen->commit_recorded : in->snapshot_index;
    uint64_t to = in->commit_index < in->last_index ? in->commit_index : in->last_index;
    if (to >= EXPLORE_INDEX_MAX) {
        CHECK_FAIL(c, i, "SAFETY harness: more than %u log indices", EXPLORE_INDEX_MAX - 1u);
        return;
    }
    for (uint64_t k = from + 1; k <= to; k++) {
        uint64_t term = c->cl->view->term_at(c->cl, i, k);
        if (term == 0) continue;
        if (c->committed_term[k] == 0) {
            c->committed_term[k] = term;
            c->committed_seen_term[k] = in->term;
            if (k > c->committed_max) c->committed_max = k;
        } else if (c->committed_term[k] != term) {
            CHECK_FAIL(c, i,
                       "SAFETY state-machine-safety: index %" PRIu64 " committed with term %" PRIu64
                       " elsewhere but with term %" PRIu64 " on server %d",
                       k, c->committed_term[k], term, i);
            return;
        } else if (in->term < c->committed_seen_term[k]) {
            c->committed_seen_term[k] = in->term;
        }
    }
    if (to > seen->commit_recorded) seen->commit_recorded = to;
}

/* Server i just became leader of `term`: it must hold what was committed in earlier terms. */
static void check_leader_complete(struct explore_checker *c, int i, const struct raft_inspect *in,
                                  uint64_t term)
{
    for (uint64_t k = in->snapshot_index + 1; k <= c->committed_max; k++) {
        if (c->committed_term[k] == 0 || c->committed_seen_term[k] >= term) continue;
        uint64_t have = k <= in->last_index ? c->cl->view->term_at(c->cl, i, k) : 0;
        if (have != c->committed_term[k]) {
            CHECK_FAIL(c, i,
                       "SAFETY leader-completeness: server %d leads term %" PRIu64
                       " without committed entry %" PRIu64 " (term %" PRIu64 "; it has %s %" PRIu64
                       ")",
                       i, term, k, c->committed_term[k], have == 0 ? "nothing, last index" : "term",
                       have == 0 ? in->last_index : have);
            return;
        }
    }
}

/* ---------------------------------------------------------------- log matching */

/* Log matching between servers i and j over the indices both hold above their snapshots: once
 * the terms differ at some index they must differ at every later one. */
static void check_pair(struct explore_checker *c, int i, int j)
{
    const struct explore_cluster *cl = c->cl;
    const struct explore_seen *si = &c->seen[i];
    const struct explore_seen *sj = &c->seen[j];
    uint64_t lo =
        (si->snapshot_index > sj->snapshot_index ? si->snapshot_index : sj->snapshot_index) + 1;
    uint64_t hi = si->last_index < sj->last_index ? si->last_index : sj->last_index;
    uint64_t differ_at = 0;
    for (uint64_t k = lo; k <= hi; k++) {
        uint64_t ti = cl->view->term_at(cl, i, k);
        uint64_t tj = cl->view->term_at(cl, j, k);
        if (ti != tj) {
            if (differ_at == 0) differ_at = k;
        } else if (differ_at != 0 && ti != 0) {
            CHECK_FAIL(c, i,
                       "SAFETY log-matching: servers %d and %d both hold index %" PRIu64
                       " of term %" PRIu64 " but differ at index %" PRIu64,
                       i, j, k, ti, differ_at);
            return;
        }
    }
}

/* ---------------------------------------------------------------- one server */

/* Refreshes what the checker knows of server i; true when its log summary changed. */
static bool look_at(struct explore_checker *c, int i, const void *rf, struct raft_inspect *in)
{
    struct explore_seen *seen = &c->seen[i];
    c->cl->view->inspect(c->cl, i, in);
    if (seen->rf != rf)
        *seen = (struct explore_seen){.rf = rf};
    else if (in->last_applied < seen->last_applied)
        CHECK_FAIL(c, i,
                   "SAFETY apply-order: server %d's lastApplied went back from %" PRIu64
                   " to %" PRIu64,
                   i, seen->last_applied, in->last_applied);
    seen->last_applied = in->last_applied;
    uint64_t last_term = c->cl->view->term_at(c->cl, i, in->last_index);
    bool changed = in->last_index != seen->last_index || last_term != seen->last_term ||
                   in->snapshot_index != seen->snapshot_index || in->term != seen->term;
    seen->last_index = in->last_index;
    seen->last_term = last_term;
    seen->snapshot_index = in->snapshot_index;
    seen->term = in->term;
    return changed;
}

void explore_checker_step(struct explore_checker *c)
{
    const struct explore_cluster *cl = c->cl;
    struct raft_inspect in[EXPLORE_SERVERS_MAX];
    bool changed[EXPLORE_SERVERS_MAX] = {false};
    bool up[EXPLORE_SERVERS_MAX] = {false};
    c->checks++;
    for (int i = 0; i < cl->n && !lab_failed(cl->ctx); i++) {
        const void *rf = cl->view->instance(cl, i);
        if (rf == NULL) continue;
        up[i] = true;
        changed[i] = look_at(c, i, rf, &in[i]);
        record_committed(c, i, &in[i]);
    }
    for (int i = 0; i < cl->n && !lab_failed(cl->ctx); i++) {
        uint64_t term = 0;
        if (!up[i] || !cl->view->leader(cl, i, &term) || c->seen[i].leader_term == term) continue;
        c->seen[i].leader_term = term;
        note_leader(c, i, term);
        if (!lab_failed(cl->ctx)) check_leader_complete(c, i, &in[i], term);
    }
    for (int i = 0; i < cl->n && !lab_failed(cl->ctx); i++) {
        for (int j = 0; j < cl->n && changed[i] && !lab_failed(cl->ctx); j++) {
            if (j != i && up[j] && (!changed[j] || j > i)) check_pair(c, i, j);
        }
    }
}
