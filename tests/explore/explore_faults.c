/* explore_faults: executes a schedule's faults. Every fault's begin and end is an event; each
 * flips the fault's `active` flag and then recomputes the whole fault state from the active set,
 * so overlapping faults compose and the order of equal-time events does not matter:
 *  - a server is down while some active crash names it (crash on the first, restart on the
 *    last);
 *  - a message can go from i to j unless an active partition, one-way cut or bridge forbids it;
 *    the end i->j is enabled when i and j are up and i reaches j, and its replies are cut when j
 *    does not reach i (labrpc's one-way cut), so a one-way fault loses exactly one direction;
 *  - the network is unreliable while a drop fault is active, long reordering is on while a
 *    reorder fault is, duplication and extra delays take the largest active setting;
 *  - a node drifts by the sum of its active drifts, within +-EXPLORE_DRIFT_PPM_MAX;
 *  - crash-leader and isolate-leader aim at the leader: when one begins it picks the running
 *    server that leads the highest term (none: the fault does nothing) and then acts as a crash
 *    of it, or as a partition of it alone, until it ends. The choice is made from the run's
 *    state at that event, so it replays with the schedule like every other decision;
 *  - crash-new-leader waits, while active, for a leader of a term above every term when it
 *    began (explore_faults_step, after every event) and crashes that server `value` ms later,
 *    until the fault ends: storms of short-lived leaders, as Figure 8 of the paper needs.
 * Healing (the liveness phase) deactivates everything and recomputes once more.
 */
#include <string.h>

#include "explore_int.h"

static const struct sim_trace_kind kind_fault = {
    490, SIM_TOPIC_FAULT, "explore.fault", {"index", "begin", NULL}};

static bool in_set(uint32_t mask, int i)
{
    return (mask & (1u << i)) != 0;
}

/* Whether active fault k forbids messages from i to j. */
static bool fault_cuts(const struct explore_faults *fs, size_t k, int i, int j)
{
    const struct explore_fault *f = &fs->s->faults[k];
    switch (f->kind) {
    case EXPLORE_ISOLATE_LEADER:
        return fs->target[k] >= 0 && (i == fs->target[k]) != (j == fs->target[k]);
    case EXPLORE_PARTITION:
        return in_set(f->a, i) != in_set(f->a, j);
    case EXPLORE_ONEWAY:
        return in_set(f->a, i) && in_set(f->b, j);
    case EXPLORE_BRIDGE:
        return (in_set(f->a, i) && in_set(f->b, j)) || (in_set(f->b, i) && in_set(f->a, j));
    default:
        return false;
    }
}

static bool reaches(const struct explore_faults *f, int i, int j)
{
    for (size_t k = 0; k < f->s->faults_count; k++) {
        if (f->active[k] && fault_cuts(f, k, i, j)) return false;
    }
    return true;
}

void explore_faults_apply_links(struct explore_faults *f)
{
    const struct explore_cluster *cl = f->cl;
    for (int i = 0; i < cl->n; i++) {
        for (int j = 0; j < cl->n; j++) {
            struct rpc_end *end = i != j ? cl->end(cl->cfg, i, j) : NULL;
            if (end == NULL) continue;
            rpc_net_enable(cl->net, end, !f->down[i] && !f->down[j] && reaches(f, i, j));
            rpc_end_set_reply_cut(end, !reaches(f, j, i));
        }
    }
}

static void apply_servers(struct explore_faults *f)
{
    const struct explore_cluster *cl = f->cl;
    for (int i = 0; i < cl->n; i++) {
        bool down = false;
        for (size_t k = 0; k < f->s->faults_count; k++) {
            const struct explore_fault *fault = &f->s->faults[k];
            bool crashes =
                (fault->kind == EXPLORE_CRASH && fault->node == i) ||
                (fault->kind == EXPLORE_CRASH_LEADER && f->target[k] == i) ||
                (fault->kind == EXPLORE_CRASH_NEW_LEADER && f->struck[k] && f->target[k] == i);
            down = down || (f->active[k] && crashes);
        }
        if (down == f->down[i]) continue;
        f->down[i] = down;
        if (down)
            cl->crash(cl->cfg, i);
        else
            cl->restart(cl->cfg, i);
    }
}

void explore_faults_apply_net(struct sim *sim, struct rpc_net *net, const struct explore_sched *s,
                              const bool *active)
{
    bool drop = false;
    bool reorder = false;
    uint32_t dup = 0;
    uint32_t delay = 0;
    uint32_t delay_ms = 0;
    for (size_t k = 0; k < s->faults_count; k++) {
        const struct explore_fault *fault = &s->faults[k];
        if (!active[k]) continue;
        drop = drop || fault->kind == EXPLORE_DROP;
        reorder = reorder || fault->kind == EXPLORE_REORDER;
        if (fault->kind == EXPLORE_DUP && (uint32_t)fault->value > dup)
            dup = (uint32_t)fault->value;
        if (fault->kind == EXPLORE_DELAY && (uint32_t)fault->value > delay)
            delay = (uint32_t)fault->value;
        if (fault->kind == EXPLORE_DELAY && fault->max_ms > delay_ms) delay_ms = fault->max_ms;
    }
    rpc_net_set_reliable(net, !drop);
    rpc_net_set_long_reordering(net, reorder);
    rpc_net_set_duplicate_permille(net, dup);
    int rc = rpc_net_set_delay_ext(net, delay, delay_ms);
    SIM_ASSERT(sim, SIM_NODE_NONE, rc == RPC_OK);
}

static void apply_network(struct explore_faults *f)
{
    int32_t drift[EXPLORE_SERVERS_MAX] = {0};
    for (size_t k = 0; k < f->s->faults_count; k++) {
        const struct explore_fault *fault = &f->s->faults[k];
        if (f->active[k] && fault->kind == EXPLORE_DRIFT) drift[fault->node] += fault->value;
    }
    const struct explore_cluster *cl = f->cl;
    explore_faults_apply_net(cl->sim, cl->net, f->s, f->active);
    for (int i = 0; i < cl->n; i++) {
        int32_t ppm = drift[i];
        if (ppm > EXPLORE_DRIFT_PPM_MAX) ppm = EXPLORE_DRIFT_PPM_MAX;
        if (ppm < -EXPLORE_DRIFT_PPM_MAX) ppm = -EXPLORE_DRIFT_PPM_MAX;
        int rc = sim_node_set_drift_ppm(cl->sim, i, ppm);
        SIM_ASSERT(cl->sim, i, rc == SIM_OK);
    }
}

static void recompute(struct explore_faults *f)
{
    apply_servers(f);
    apply_network(f);
    explore_faults_apply_links(f);
}

/* The running server that leads the highest term, -1 when none does; *max_term gets the
 * highest current term of any running server. */
static int current_leader(const struct explore_faults *f, uint64_t *max_term)
{
    const struct explore_cluster *cl = f->cl;
    int leader = -1;
    uint64_t best = 0;
    *max_term = 0;
    for (int i = 0; i < cl->n; i++) {
        uint64_t term = 0;
        if (f->down[i] || cl->view->instance(cl, i) == NULL) continue;
        bool leads = cl->view->leader(cl, i, &term);
        if (term > *max_term) *max_term = term;
        if (leads && (leader < 0 || term > best)) {
            leader = i;
            best = term;
        }
    }
    return leader;
}

/* A crash-new-leader fault's strike: its leader goes down (until the fault ends). */
static void ev_strike(struct sim *sim, void *arg)
{
    struct explore_fault_ev *ev = arg;
    struct explore_faults *f = ev->f;
    if (f->healed || lab_failed(f->cl->ctx) || !f->active[ev->index]) return;
    f->struck[ev->index] = true;
    sim_tracef(sim, SIM_NODE_NONE, &kind_fault, ev->index, 2, "%s node %d",
               explore_fault_name(f->s->faults[ev->index].kind), f->target[ev->index]);
    recompute(f);
}

void explore_faults_step(struct explore_faults *f)
{
    if (f->healed || lab_failed(f->cl->ctx)) return;
    for (uint32_t k = 0; k < f->s->faults_count; k++) {
        const struct explore_fault *fault = &f->s->faults[k];
        if (!f->active[k] || fault->kind != EXPLORE_CRASH_NEW_LEADER || f->target[k] >= 0) continue;
        uint64_t max_term = 0;
        int leader = current_leader(f, &max_term);
        uint64_t term = 0;
        if (leader < 0 || !f->cl->view->leader(f->cl, leader, &term) || term <= f->armed_term[k])
            continue;
        f->target[k] = leader;
        int node = sim_node_swap(f->cl->sim, SIM_NODE_NONE);
        sim_after(f->cl->sim, SIM_MS((uint64_t)fault->value), ev_strike,
                  &f->evs[2 * f->s->faults_count + k]);
        sim_node_swap(f->cl->sim, node);
    }
}

static void ev_fault(struct sim *sim, void *arg)
{
    struct explore_fault_ev *ev = arg;
    struct explore_faults *f = ev->f;
    if (f->healed || lab_failed(f->cl->ctx)) return;
    if (f->active[ev->index] == ev->begin) return;
    f->active[ev->index] = ev->begin;
    enum explore_fault_kind kind = f->s->faults[ev->index].kind;
    bool aimed = kind == EXPLORE_CRASH_LEADER || kind == EXPLORE_ISOLATE_LEADER;
    uint64_t max_term = 0;
    if (aimed && ev->begin) f->target[ev->index] = current_leader(f, &max_term);
    if (kind == EXPLORE_CRASH_NEW_LEADER && ev->begin) {
        (void)current_leader(f, &max_term);
        f->armed_term[ev->index] = max_term;
    }
    sim_tracef(sim, SIM_NODE_NONE, &kind_fault, ev->index, ev->begin, "%s node %d",
               explore_fault_name(kind), aimed ? f->target[ev->index] : -1);
    recompute(f);
}

void explore_faults_start(struct explore_faults *f, const struct explore_sched *s,
                          const struct explore_cluster *cl)
{
    SIM_ASSERT(cl->sim, SIM_NODE_NONE, s->faults_count <= EXPLORE_FAULTS_MAX);
    SIM_ASSERT(cl->sim, SIM_NODE_NONE, cl->n <= EXPLORE_SERVERS_MAX);
    memset(f, 0, sizeof(*f));
    f->s = s;
    f->cl = cl;
    for (uint32_t k = 0; k < EXPLORE_FAULTS_MAX; k++)
        f->target[k] = -1;
    int node = sim_node_swap(cl->sim, SIM_NODE_NONE); /* fault events belong to no node */
    for (uint32_t k = 0; k < s->faults_count; k++) {
        const struct explore_fault *fault = &s->faults[k];
        f->evs[2 * k] = (struct explore_fault_ev){.f = f, .index = k, .begin = true};
        f->evs[2 * k + 1] = (struct explore_fault_ev){.f = f, .index = k, .begin = false};
        sim_after(cl->sim, SIM_MS(fault->at_ms), ev_fault, &f->evs[2 * k]);
        sim_after(cl->sim, SIM_MS((uint64_t)fault->at_ms + fault->for_ms), ev_fault,
                  &f->evs[2 * k + 1]);
        f->evs[2 * s->faults_count + k] = (struct explore_fault_ev){.f = f, .index = k};
    }
    sim_node_swap(cl->sim, node);
}

void explore_faults_heal(struct explore_faults *f)
{
    for (size_t k = 0; k < f->s->faults_count; k++)
        f->active[k] = false;
    recompute(f);
    f->healed = true;
}
