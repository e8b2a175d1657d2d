/* explore_shrink: delta debugging of a failing schedule (Zeller and Hildebrandt, "Simplifying and
 * Isolating Failure-Inducing Input", 2002), greedy and bounded.
 *
 * A candidate is kept when its run fails the same check as the original (any message, time or
 * node). Passes, repeated until one changes nothing or the replay budget is spent:
 *  1. drop faults: chunks of halving size (ddmin's complement step), down to single faults;
 *  2. merge two faults of the same kind and parameters into one covering both;
 *  3. shorten each fault by halving its duration;
 *  4. fewer clients, fewer operations;
 *  5. a shorter run: end the safety phase when the last fault ends, then halve it.
 * Every candidate is validated first and each run is a fresh deterministic run of its schedule,
 * so the result replays like any schedule. The outcome is locally minimal with respect to these
 * steps, not globally minimal.
 */
#include <inttypes.h>
#include <string.h>

#include "explore.h"

#define SHRINK_HALVINGS_MAX 8

struct shrinker {
    const char *check;
    uint32_t replays_max;
    uint32_t replays;
    FILE *progress;
};

static bool still_fails(struct shrinker *sh, const struct explore_sched *cand)
{
    char why[EXPLORE_MSG_MAX];
    struct explore_verdict v;
    if (sh->replays >= sh->replays_max) return false;
    if (explore_sched_validate(cand, why, sizeof(why)) != 0) return false;
    sh->replays++;
    if (explore_run(cand, NULL, NULL, &v) != SIM_OK) return false;
    return v.failed && strcmp(v.check, sh->check) == 0;
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
}

static void remove_range(struct explore_sched *s, size_t from, size_t count)
{
    memmove(&s->faults[from], &s->faults[from + count],
            (s->faults_count - from - count) * sizeof(s->faults[0]));
    s->faults_count -= count;
}

/* Pass 1: ddmin over the fault list (complements only: drop one chunk at a time). */
static bool drop_faults(struct shrinker *sh, struct explore_sched *s, struct explore_sched *cand)
{
    bool progress = false;
    size_t chunks = 2;
    while (s->faults_count > 0 && sh->replays < sh->replays_max) {
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
            break;
        } else {
            chunks = chunks * 2 < s->faults_count ? chunks * 2 : s->faults_count;
        }
    }
    return progress;
}

static bool same_params(const struct explore_fault *a, const struct explore_fault *b)
{
    return a->kind == b->kind && a->node == b->node && a->a == b->a && a->b == b->b &&
           a->value == b->value && a->max_ms == b->max_ms;
}

/* Pass 2: two faults alike become one spanning both. */
static bool merge_faults(struct shrinker *sh, struct explore_sched *s, struct explore_sched *cand)
{
    bool progress = false;
    for (size_t i = 0; i < s->faults_count; i++) {
        for (size_t j = i + 1; j < s->faults_count && sh->replays < sh->replays_max; j++) {
            if (!same_params(&s->faults[i], &s->faults[j])) continue;
            *cand = *s;
            struct explore_fault *f = &cand->faults[i];
            uint32_t end_i = f->at_ms + f->for_ms;
            uint32_t end_j = cand->faults[j].at_ms + cand->faults[j].for_ms;
            uint32_t end = end_i > end_j ? end_i : end_j;
            if (cand->faults[j].at_ms < f->at_ms) f->at_ms = cand->faults[j].at_ms;
            f->for_ms = end - f->at_ms;
            remove_range(cand, j, 1);
            if (still_fails(sh, cand)) {
                accept(sh, s, cand, "merged two faults");
                progress = true;
                j = i;
            }
        }
    }
    return progress;
}

/* Pass 3: halve each fault's duration while the failure stays. */
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

/* Pass 4: fewer clients, fewer operations. */
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

/* A copy of s whose safety phase is run_ms long: faults starting later go, longer ones end. */
static void cut_run(const struct explore_sched *s, struct explore_sched *cand, uint32_t run_ms)
{
    *cand = *s;
    cand->run_ms = run_ms;
    cand->faults_count = 0;
    for (size_t k = 0; k < s->faults_count; k++) {
        struct explore_fault f = s->faults[k];
        if (f.at_ms >= run_ms) continue;
        if (f.for_ms > run_ms) f.for_ms = run_ms;
        cand->faults[cand->faults_count++] = f;
    }
}

/* Pass 5: a shorter safety phase. */
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

void explore_shrink(struct explore_sched *s, const char *check, uint32_t replays_max,
                    FILE *progress, struct explore_shrink_stats *stats)
{
    struct explore_sched cand_storage; /* about 8 KB: fine on a thread's stack */
    struct explore_sched *cand = &cand_storage;
    struct shrinker sh = {.check = check, .replays_max = replays_max, .progress = progress};
    stats->faults_before = s->faults_count;
    bool changed = true;
    while (changed && sh.replays < sh.replays_max) {
        changed = drop_faults(&sh, s, cand);
        changed = merge_faults(&sh, s, cand) || changed;
        changed = shorten_faults(&sh, s, cand) || changed;
        changed = shrink_workload(&sh, s, cand) || changed;
        changed = shorten_run(&sh, s, cand) || changed;
    }
    stats->replays = sh.replays;
    stats->replays_max = replays_max;
    stats->faults_after = s->faults_count;
}
