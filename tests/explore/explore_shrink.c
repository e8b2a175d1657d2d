/* explore_shrink: delta debugging of a failing schedule (Zeller and Hildebrandt, "Simplifying and
 * Isolating Failure-Inducing Input", 2002), greedy and bounded.
 *
 * A candidate is kept when its run fails the same way as the original (explore_verdict_same: the
 * same phase and check and, for a crash, the same site; any time, node or message). Passes,
 * repeated until a round changes nothing or the replay budget is spent:
 *  1. end the run at the failure: a safety failure at virtual time T is the same run up to T
 *     without every fault that begins after T (the sim is deterministic and a fault that has
 *     not begun draws nothing), so the safety phase is cut just after T; this is replayed like
 *     any candidate, and redone after every accepted step, whose failure may come sooner;
 *  2. drop a whole fault kind (every crash, every drop, ...);
 *  3. drop faults, ddmin's complement step: chunks of halving size down to single faults;
 *  4. when no single fault can go, drop pairs of faults (a failure that needs one of two
 *     redundant faults, or that one dropped fault's reshuffling of the run hides);
 *  5. merge two faults of the same kind into one covering both, with the parameters of the
 *     first, else of the second (two dup faults of 386 and 475 permille: one of either);
 *  6. shorten each fault by halving its duration;
 *  7. fewer clients, fewer operations;
 *  8. a shorter run: end the safety phase when the last fault ends, then halve it.
 * Every candidate is validated first and each run is a fresh deterministic run of its schedule
 * (through opts->replay, which may run it in another process), so the result replays like any
 * schedule. The outcome is locally minimal with respect to these steps, not globally minimal.
 */
#include <inttypes.h>
#include <string.h>

#include "explore.h"

#define SHRINK_HALVINGS_MAX 8

struct shrinker {
    const struct explore_verdict *want;
    struct explore_verdict last; /* the verdict of the schedule kept so far */
    uint32_t replays_max;
    uint32_t replays;
    FILE *progress;
    explore_replay_cb replay;
    void *replay_arg;
};

static bool budget_left(const struct shrinker *sh)
{
    return sh->replays < sh->replays_max;
}

static bool still_fails(struct shrinker *sh, const struct explore_sched *cand)
{
    char why[EXPLORE_MSG_MAX];
    struct explore_verdict v;
    if (!budget_left(sh)) return false;
    if (explore_sched_validate(cand, why, sizeof(why)) != 0) return false;
    sh->replays++;
    if (sh->replay(cand, &v, sh->replay_arg) != SIM_OK) return false;
    if (!explore_verdict_same(sh->want, &v)) return false;
    sh->last = v;
    return true;
}

static void accept(struct shrinker *sh, struct explore_sched *s, const struct explore_sched *cand,
                   const char *what)
{
    *s = *cand;
    if (sh->progress != NULL)
        fprintf(sh->progress,
                "  shrink: %s -> %zu faults, %" PRIu64 " fault-ms, run %" PRIu32 " ms (%" PRIu32
                " replays)\n",
                what, s->faults_count, explore_sched_fault_ms(s), s->run_ms, sh->replays);
    if (sh->progress != NULL) fflush(sh->progress); /* a long shrink shows where it is */
}

static void remove_range(struct explore_sched *s, size_t from, size_t count)
{
    memmove(&s->faults[from], &s->faults[from + count],
            (s->faults_count - from - count) * sizeof(s->faults[0]));
    s->faults_count -= count;
}

/* A copy of s whose safety phase is run_ms long: faults starting later go, longer ones end. */
static void cut_run(const struct explore_sched *s, struct explore_sched *cand, uint32_t run_ms)
{
    *cand = *s;
    cand->run_ms = run_ms;
    cand->faults_count = 0;
    for (size_t k = 0; k < s->faults_count; k++) {
        struct explore_fault f = s->faults[k];
        if (f.at_ms >= run_ms) continue;
        if (f.for_ms > run_ms - f.at_ms) f.for_ms = run_ms - f.at_ms;
        cand->faults[cand->faults_count++] = f;
    }
}

/* Pass 1: the safety phase ends 1 ms after the failure. Liveness failures and failures found
 * after the safety phase (a kvraft history's linearizability) have nothing to cut. */
static bool cut_at_failure(struct shrinker *sh, struct explore_sched *s, struct explore_sched *cand)
{
    if (sh->last.liveness || sh->last.at_us == 0) return false;
    uint64_t end_ms = sh->last.at_us / 1000u + 1u;
    if (end_ms >= s->run_ms) return false;
    cut_run(s, cand, (uint32_t)end_ms);
    if (cand->faults_count == s->faults_count && s->run_ms - end_ms < 1000u) return false;
    if (!still_fails(sh, cand)) return false;
    accept(sh, s, cand, "run ends at the failure");
    return true;
}

/* Pass 2: every fault of one kind goes. */
static bool drop_kinds(struct shrinker *sh, struct explore_sched *s, struct explore_sched *cand)
{
    bool progress = false;
    for (int kind = 0; kind < EXPLORE_FAULT_KINDS && budget_left(sh); kind++) {
        *cand = *s;
        cand->faults_count = 0;
        for (size_t k = 0; k < s->faults_count; k++) {
            if ((int)s->faults[k].kind != kind) cand->faults[cand->faults_count++] = s->faults[k];
        }
        /* Nothing to drop, or every fault (pass 3 tries the empty schedule). */
        if (cand->faults_count == s->faults_count || cand->faults_count == 0) continue;
        if (!still_fails(sh, cand)) continue;
        accept(sh, s, cand, "dropped a fault kind");
        progress = true;
    }
    return progress;
}

/* Pass 3: ddmin over the fault list (complements only: drop one chunk at a time). Sets
 * *singles_tried when it ended having tried every single fault without success. */
static bool drop_faults(struct shrinker *sh, struct explore_sched *s, struct explore_sched *cand,
                        bool *singles_tried)
{
    bool progress = false;
    size_t chunks = 2;
    *singles_tried = false;
    while (s->faults_count > 0 && budget_left(sh)) {
        size_t size = (s->faults_count + chunks - 1) / chunks;
        bool dropped = false;
        for (size_t from = 0; from < s->faults_count && !dropped; from += size) {
            *cand = *s;
            size_t count = from + size <= s->faults_count ? size : s->faults_count - from;
            remove_range(cand, from, count);
            if (still_fails(sh, cand)) {
                accept(sh, s, cand, "dropped faults");
                dropped = true;
                progress = true;
            }
        }
        if (dropped) {
            chunks = chunks > 2 ? chunks - 1 : 2;
        } else if (size == 1) {
            *singles_tried = budget_left(sh);
            break;
        } else {
            chunks = chunks * 2 < s->faults_count ? chunks * 2 : s->faults_count;
        }
    }
    return progress;
}

/* Pass 4: two faults at once, the later ones first (dropping a late fault leaves more of the
 * run as it was). One accepted pair ends the pass: the others start again from pass 1. */
static bool drop_pairs(struct shrinker *sh, struct explore_sched *s, struct explore_sched *cand)
{
    for (size_t j = s->faults_count; j-- > 1;) {
        for (size_t i = j; i-- > 0;) {
            if (!budget_left(sh)) return false;
            *cand = *s;
            remove_range(cand, j, 1);
            remove_range(cand, i, 1);
            if (still_fails(sh, cand)) {
                accept(sh, s, cand, "dropped two faults");
                return true;
            }
        }
    }
    return false;
}

static bool same_params(const struct explore_fault *a, const struct explore_fault *b)
{
    return a->kind == b->kind && a->node == b->node && a->a == b->a && a->b == b->b &&
           a->value == b->value && a->max_ms == b->max_ms;
}

/* A copy of s whose faults i and j (i < j, one kind) are one fault spanning both, with the
 * parameters of fault `params` (i or j), at index i. */
static void merge_two(const struct explore_sched *s, struct explore_sched *cand, size_t i, size_t j,
                      size_t params)
{
    const struct explore_fault *fi = &s->faults[i];
    const struct explore_fault *fj = &s->faults[j];
    uint32_t end_i = fi->at_ms + fi->for_ms;
    uint32_t end_j = fj->at_ms + fj->for_ms;
    *cand = *s;
    struct explore_fault *f = &cand->faults[i];
    *f = s->faults[params];
    f->at_ms = fi->at_ms < fj->at_ms ? fi->at_ms : fj->at_ms;
    f->for_ms = (end_i > end_j ? end_i : end_j) - f->at_ms;
    remove_range(cand, j, 1);
}

/* Pass 5: two faults of one kind become one spanning both. */
static bool merge_faults(struct shrinker *sh, struct explore_sched *s, struct explore_sched *cand)
{
    bool progress = false;
    for (size_t i = 0; i < s->faults_count; i++) {
        for (size_t j = i + 1; j < s->faults_count && budget_left(sh); j++) {
            if (s->faults[i].kind != s->faults[j].kind) continue;
            bool alike = same_params(&s->faults[i], &s->faults[j]);
            merge_two(s, cand, i, j, i);
            bool merged = still_fails(sh, cand);
            if (!merged && !alike) {
                merge_two(s, cand, i, j, j);
                merged = still_fails(sh, cand);
            }
            if (merged) {
                accept(sh, s, cand, "merged two faults");
                progress = true;
                j = i;
            }
        }
    }
    return progress;
}

/* Pass 6: halve each fault's duration while the failure stays. */
static bool shorten_faults(struct shrinker *sh, struct explore_sched *s, struct explore_sched *cand)
{
    bool progress = false;
    for (size_t k = 0; k < s->faults_count; k++) {
        for (int h = 0; h < SHRINK_HALVINGS_MAX && s->faults[k].for_ms > 1; h++) {
            *cand = *s;
            cand->faults[k].for_ms /= 2;
            if (!still_fails(sh, cand)) break;
            accept(sh, s, cand, "shortened a fault");
            progress = true;
        }
    }
    return progress;
}

/* Pass 7: fewer clients, fewer operations. */
static bool shrink_workload(struct shrinker *sh, struct explore_sched *s,
                            struct explore_sched *cand)
{
    bool progress = false;
    while (s->clients > 1) {
        *cand = *s;
        cand->clients--;
        if (!still_fails(sh, cand)) break;
        accept(sh, s, cand, "one client fewer");
        progress = true;
    }
    for (int h = 0; h < SHRINK_HALVINGS_MAX && s->ops > 1; h++) {
        *cand = *s;
        cand->ops /= 2;
        if (!still_fails(sh, cand)) break;
        accept(sh, s, cand, "half the operations");
        progress = true;
    }
    return progress;
}

/* Pass 8: a shorter safety phase. */
static bool shorten_run(struct shrinker *sh, struct explore_sched *s, struct explore_sched *cand)
{
    bool progress = false;
    uint32_t last_end = 1000;
    for (size_t k = 0; k < s->faults_count; k++) {
        uint32_t end = s->faults[k].at_ms + s->faults[k].for_ms;
        if (end > last_end) last_end = end;
    }
    if (last_end < s->run_ms) {
        cut_run(s, cand, last_end);
        if (still_fails(sh, cand)) {
            accept(sh, s, cand, "run ends with the last fault");
            progress = true;
        }
    }
    for (int h = 0; h < SHRINK_HALVINGS_MAX && s->run_ms / 2 >= 1000; h++) {
        cut_run(s, cand, s->run_ms / 2);
        if (!still_fails(sh, cand)) break;
        accept(sh, s, cand, "half the run");
        progress = true;
    }
    return progress;
}

/* One round of every pass; true when one of them kept a smaller schedule. */
static bool shrink_round(struct shrinker *sh, struct explore_sched *s, struct explore_sched *cand)
{
    bool singles_tried = false;
    bool changed = cut_at_failure(sh, s, cand);
    changed = drop_kinds(sh, s, cand) || changed;
    changed = cut_at_failure(sh, s, cand) || changed;
    changed = drop_faults(sh, s, cand, &singles_tried) || changed;
    if (!changed && singles_tried && drop_pairs(sh, s, cand)) return true;
    changed = merge_faults(sh, s, cand) || changed;
    changed = shorten_faults(sh, s, cand) || changed;
    changed = shrink_workload(sh, s, cand) || changed;
    changed = shorten_run(sh, s, cand) || changed;
    return changed;
}

void explore_shrink(struct explore_sched *s, const struct explore_verdict *want,
                    const struct explore_shrink_opts *opts, struct explore_shrink_stats *stats)
{
    struct explore_sched cand_storage; /* about 8 KB: fine on a thread's stack */
    struct explore_sched *cand = &cand_storage;
    struct shrinker sh = {.want = want,
                          .last = *want,
                          .replays_max = opts->replays_max,
                          .progress = opts->progress,
                          .replay = opts->replay != NULL ? opts->replay : explore_replay_here,
                          .replay_arg = opts->replay_arg};
    stats->faults_before = s->faults_count;
    /* A round's passes each stop at the budget; the bound on rounds is the budget too, since a
     * round that changes something has spent at least one replay. */
    while (budget_left(&sh) && shrink_round(&sh, s, cand)) {
    }
    stats->replays = sh.replays;
    stats->replays_max = opts->replays_max;
    stats->faults_after = s->faults_count;
}
