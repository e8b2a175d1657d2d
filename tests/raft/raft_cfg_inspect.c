/* raft_cfg_inspect: the Raft harness's node inspector for the study tools (labsim step).
 *
 * raft_cfg_make registers raft_cfg_inspect with the run (lab_set_inspector). Between two events
 * the step tool asks it for one server's state; it reads that state through raft.h's
 * raft_inspect / raft_inspect_term_at only (so it works against a student's Raft too) plus the
 * tester's own view (connected, what the tester saw applied). It changes nothing: inspecting a
 * node never alters the run or its digest.
 *
 * The log is printed run-length encoded by term ("1-4@t1 5-9@t3"), which keeps a Figure 8 log
 * of hundreds of entries on one line and shows exactly where terms change.
 */
#include <inttypes.h>
#include <stdio.h>

#include "raft_cfg_int.h"

/* Runs of equal terms printed at most; the rest is summarised. */
#define INSPECT_RUNS_MAX 32u

const char *raft_cfg_role_name(enum raft_role role)
{
    switch (role) {
    case RAFT_FOLLOWER:
        return "follower";
    case RAFT_CANDIDATE:
        return "candidate";
    case RAFT_LEADER:
        return "leader";
    }
    return "?";
}

/* Prints the entries after the snapshot as runs "first-last@tTERM". */
static void inspect_print_log(const struct raft *rf, const struct raft_inspect *st, FILE *out)
{
    fprintf(out, "  log: snapshot through %" PRIu64 " (term %" PRIu64 "), last index %" PRIu64 ":",
            st->snapshot_index, st->snapshot_term, st->last_index);
    if (st->last_index <= st->snapshot_index) {
        fprintf(out, " (no entries)\n");
        return;
    }
    uint32_t runs = 0;
    uint64_t first = st->snapshot_index + 1;
    while (first <= st->last_index && runs < INSPECT_RUNS_MAX) {
        uint64_t term = raft_inspect_term_at(rf, first);
        uint64_t last = first;
        while (last < st->last_index && raft_inspect_term_at(rf, last + 1) == term)
            last++;
        if (last == first)
            fprintf(out, " %" PRIu64 "@t%" PRIu64, first, term);
        else
            fprintf(out, " %" PRIu64 "-%" PRIu64 "@t%" PRIu64, first, last, term);
        runs++;
        first = last + 1;
    }
    if (first <= st->last_index)
        fprintf(out, " ... (%" PRIu64 " more entries)", st->last_index - first + 1);
    fprintf(out, "\n");
}

static void inspect_print_peers(const struct raft_inspect *st, FILE *out)
{
    fprintf(out, "  next:");
    for (int p = 0; p < st->peers_count && p < RAFT_PEERS_MAX; p++)
        fprintf(out, " %" PRIu64, st->next_index[p]);
    fprintf(out, "  match:");
    for (int p = 0; p < st->peers_count && p < RAFT_PEERS_MAX; p++)
        fprintf(out, " %" PRIu64, st->match_index[p]);
    fprintf(out, "\n");
}

int raft_cfg_inspect(void *user, int node, FILE *out)
{
    const struct raft_cfg *cfg = user;
    if (cfg == NULL || out == NULL || node < 0 || node >= cfg->n) return SIM_EINVAL;
    const char *link = cfg->connected[node] ? "connected" : "disconnected";
    const struct raft *rf = raft_cfg_raft(cfg, node);
    if (rf == NULL) {
        fprintf(out, "node %d: crashed (not running), %s\n", node, link);
        return SIM_OK;
    }
    struct raft_inspect st;
    raft_inspect(rf, &st);
    char vote[32] = "nobody";
    if (st.voted_for >= 0) snprintf(vote, sizeof(vote), "%d", st.voted_for);
    fprintf(out, "node %d: %s, term %" PRIu64 ", voted for %s, %s\n", node,
            raft_cfg_role_name(st.role), st.term, vote, link);
    inspect_print_log(rf, &st, out);
    fprintf(out, "  commit %" PRIu64 ", applied %" PRIu64 " (tester saw %" PRId64 ")\n",
            st.commit_index, st.last_applied, cfg->last_applied[node]);
    if (st.role == RAFT_LEADER) inspect_print_peers(&st, out);
    return SIM_OK;
}
