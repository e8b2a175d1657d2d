/* explore_draw: the swarm draw (Groce et al., "Swarm Testing", ISSTA 2012). A seed's schedule
 * comes from the stream "explore.sched" of that seed alone: first the workload, then an
 * intensity for the whole run (0 is calm: at most one fault of each kind that is on), then for
 * each fault kind a coin that turns it on and, when on, how many faults of it the run gets. So
 * across seeds some runs are calm, some are storms, and most leave some kinds out entirely,
 * which is what lets a fault that needs quiet elsewhere show up.
 */
#include <string.h>

#include "explore_int.h"

static uint32_t draw_between(struct sim_rand *r, uint32_t lo, uint32_t hi)
{
    return (uint32_t)sim_rand_range(r, lo, hi);
}

/* A non-empty proper subset of the n servers. */
static uint32_t draw_side(struct sim_rand *r, int n)
{
    uint32_t all = (1u << n) - 1u;
    return 1u + (uint32_t)sim_rand_below(r, all - 1u);
}

static void draw_masks(struct sim_rand *r, struct explore_fault *f, int n)
{
    uint32_t all = (1u << n) - 1u;
    if (f->kind == EXPLORE_PARTITION) {
        f->a = draw_side(r, n);
    } else if (f->kind == EXPLORE_ONEWAY) {
        f->a = draw_side(r, n);
        f->b = (1u + (uint32_t)sim_rand_below(r, all)) & ~f->a;
        if (f->b == 0) f->b = all & ~f->a;
    } else { /* bridge: one node sees two sides that cannot see each other */
        int bridge = (int)sim_rand_below(r, (uint64_t)n);
        uint32_t rest = all & ~(1u << bridge);
        f->a = (uint32_t)sim_rand_u64(r) & rest;
        if (f->a == 0 || f->a == rest) f->a = rest & (rest - 1u); /* drop the lowest node */
        f->b = rest & ~f->a;
    }
}

#define STORM_MS 3000u /* the window a run's leader-aimed faults crowd into, when they do */

static void draw_fault(struct sim_rand *r, struct explore_fault *f, enum explore_fault_kind kind,
                       const struct explore_sched *s, uint32_t storm_at_ms)
{
    *f = (struct explore_fault){.kind = kind};
    f->at_ms = (uint32_t)sim_rand_below(r, s->run_ms);
    bool aimed = kind == EXPLORE_CRASH_LEADER || kind == EXPLORE_ISOLATE_LEADER ||
                 kind == EXPLORE_CRASH_NEW_LEADER;
    /* A storm: leader changes in quick succession, each leader lost before its own term's
     * entries settle (Figure 8 takes three leaders in a row). */
    if (aimed && storm_at_ms < s->run_ms) {
        f->at_ms = storm_at_ms + (uint32_t)sim_rand_below(r, STORM_MS);
        if (f->at_ms >= s->run_ms) f->at_ms = s->run_ms - 1;
    }
    switch (kind) {
    case EXPLORE_CRASH:
        /* Half are bounces shorter than an election timeout: a server that voted or acked
         * must be back while the election or the round it took part in is still going on. */
        f->for_ms = sim_rand_chance(r, 1, 2) ? draw_between(r, 5, 300) : draw_between(r, 200, 5000);
        f->node = (int)sim_rand_below(r, (uint64_t)s->servers);
        break;
    case EXPLORE_CRASH_LEADER:
    case EXPLORE_ISOLATE_LEADER:
        /* Leaders lost in quick succession (Figure 8: an old-term entry on a majority, its
         * leader gone before an entry of its own term commits). */
        f->for_ms =
            sim_rand_chance(r, 1, 2) ? draw_between(r, 50, 1000) : draw_between(r, 500, 5000);
        break;
    case EXPLORE_CRASH_NEW_LEADER:
        /* A leader that lives about a heartbeat or a few: long enough to send what it has,
         * too short, often, for an entry of its own term to commit. */
        f->for_ms = draw_between(r, 300, 5000);
        f->value = (int32_t)draw_between(r, 0, 300);
        break;
    case EXPLORE_PARTITION:
    case EXPLORE_ONEWAY:
    case EXPLORE_BRIDGE:
        f->for_ms = draw_between(r, 500, 8000);
        draw_masks(r, f, s->servers);
        break;
    case EXPLORE_DRIFT:
        f->for_ms = draw_between(r, 2000, 20000);
        f->node = (int)sim_rand_below(r, (uint64_t)s->servers);
        f->value = (int32_t)draw_between(r, 10000, EXPLORE_DRIFT_PPM_MAX);
        if (sim_rand_chance(r, 1, 2)) f->value = -f->value;
        break;
    default:
        f->for_ms = draw_between(r, 1000, 10000);
        if (kind == EXPLORE_DUP || kind == EXPLORE_DELAY)
            f->value = (int32_t)draw_between(r, 50, 500);
        if (kind == EXPLORE_DELAY) f->max_ms = draw_between(r, 500, 5000);
        break;
    }
    if (f->for_ms > s->run_ms) f->for_ms = s->run_ms;
}

/* Faults in start order (insertion sort: stable, bounded by EXPLORE_FAULTS_MAX). */
static void sort_faults(struct explore_sched *s)
{
    for (size_t i = 1; i < s->faults_count; i++) {
        struct explore_fault f = s->faults[i];
        size_t j = i;
        while (j > 0 && s->faults[j - 1].at_ms > f.at_ms) {
            s->faults[j] = s->faults[j - 1];
            j--;
        }
        s->faults[j] = f;
    }
}

static void draw_workload(struct sim_rand *r, struct explore_sched *s)
{
    bool kv = s->target == EXPLORE_KVRAFT;
    s->servers = sim_rand_chance(r, 1, 2) ? 5 : 3;
    s->clients = kv ? 1 + (int)sim_rand_below(r, 4) : 1;
    s->ops = kv ? (int)draw_between(r, 10, 50) : (int)draw_between(r, 50, 300);
    s->interval_ms = draw_between(r, 10, 100);
    s->snapshot = sim_rand_chance(r, 1, 2);
    s->maxraftstate = sim_rand_chance(r, 1, 2) ? 1000 : -1;
    s->run_ms = draw_between(r, 10000, 30000);
    s->liveness_ms = EXPLORE_LIVENESS_MS_DEFAULT;
}

void explore_sched_draw(struct explore_sched *s, enum explore_target target, uint64_t seed)
{
    struct sim *sim = sim_new(seed);
    SIM_ASSERTF(sim, SIM_NODE_NONE, sim != NULL, "out of memory drawing a schedule");
    struct sim_rand r;
    sim_rand_init(&r, sim, "explore.sched");
    sim_free(sim);
    memset(s, 0, sizeof(*s));
    s->target = target;
    s->seed = seed;
    if (target == EXPLORE_MR) {
        explore_mr_draw(s, &r);
        sort_faults(s);
        return;
    }
    draw_workload(&r, s);
    /* The swarm: an intensity for the run, then each fault kind on or off. Intensity 0 is a
     * calm run (at most one fault of a kind that is on). */
    uint32_t intensity = (uint32_t)sim_rand_below(&r, 4);
    /* Half the runs crowd their leader-aimed faults into one storm (run_ms: no storm). */
    uint32_t storm_at_ms =
        sim_rand_chance(&r, 1, 2) ? (uint32_t)sim_rand_below(&r, s->run_ms) : s->run_ms;
    for (int kind = 0; kind < EXPLORE_FAULT_KINDS; kind++) {
        if (kind == EXPLORE_STALL)
            continue; /* the mr target's (no coin: draws stay as they were) */
        if (!sim_rand_chance(&r, 1, 2)) continue;
        uint64_t count =
            intensity == 0 ? sim_rand_below(&r, 2) : 1 + sim_rand_below(&r, 3 * intensity);
        for (uint64_t k = 0; k < count && s->faults_count < EXPLORE_FAULTS_MAX; k++)
            draw_fault(&r, &s->faults[s->faults_count++], (enum explore_fault_kind)kind, s,
                       storm_at_ms);
    }
    sort_faults(s);
}
