/* sim: the lifecycle of a simulation and its run loop.
 *
 * The run loop pops the earliest event, advances the clock to its due time, runs it, then
 * calls the event hook (the graded harness checks safety there). It refuses to run from inside
 * a task (a task that wants time to pass sleeps instead), and it treats an absurd number of
 * events at one instant as a livelock, which it reports through SIM_ASSERT rather than hang.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_int.h"

const char *sim_strerror(int err)
{
    switch (err) {
#define SIM_ERR_CASE(name, value, text)                                                            \
    case name:                                                                                     \
        return text;
        SIM_ERRNO_MAP(SIM_ERR_CASE)
#undef SIM_ERR_CASE
    default:
        return "unknown sim error";
    }
}

struct sim *sim_new(uint64_t seed)
{
    struct sim *sim = calloc(1, sizeof(*sim));
    if (sim == NULL) return NULL;
    sim->seed = seed;
    sim->seq_next = 1;
    sim->node_current = SIM_NODE_NONE;
    /* The digest starts from the seed so that two runs that trace nothing still differ. */
    sim->digest = seed ^ 0x6c616273696d0001ull;
    if (sim_queue_init(sim) != SIM_OK) {
        sim_queue_free(sim);
        free(sim);
        return NULL;
    }
    snprintf(sim->replay_hint, sizeof(sim->replay_hint), "(seed %llu)", (unsigned long long)seed);
    sim_rand_init(&sim->nrand, sim, "sim.nrand");
    return sim;
}

void sim_free(struct sim *sim)
{
    if (sim == NULL) return;
    SIM_ASSERTF(sim, SIM_NODE_NONE, sim->task_current == NULL,
                "sim_free called from inside task '%s'", sim->task_current->name);
    sim_tasks_free(sim);
    sim_fs_free(sim);
    sim_queue_free(sim);
    free(sim->trace_recs);
    free(sim);
}

uint64_t sim_seed(const struct sim *sim)
{
    return sim->seed;
}

sim_time_us sim_now_us(const struct sim *sim)
{
    return sim->now_us;
}

void sim_set_replay_hint(struct sim *sim, const char *hint)
{
    snprintf(sim->replay_hint, sizeof(sim->replay_hint), "%s", hint != NULL ? hint : "");
}

int sim_node_current(const struct sim *sim)
{
    return sim->node_current;
}

int sim_node_swap(struct sim *sim, int node)
{
    int previous = sim->node_current;
    sim->node_current = node;
    return previous;
}

int sim_node_set_drift_ppm(struct sim *sim, int node, int32_t rate_ppm)
{
    if (node < 0 || node >= SIM_DRIFT_NODES_MAX) return SIM_EINVAL;
    if (rate_ppm < -SIM_DRIFT_PPM_MAX || rate_ppm > SIM_DRIFT_PPM_MAX) return SIM_EINVAL;
    sim->drift_ppm[node] = rate_ppm;
    sim->drift_any = false;
    for (int i = 0; i < SIM_DRIFT_NODES_MAX; i++)
        sim->drift_any = sim->drift_any || sim->drift_ppm[i] != 0;
    return SIM_OK;
}

int32_t sim_node_drift_ppm(const struct sim *sim, int node)
{
    if (node < 0 || node >= SIM_DRIFT_NODES_MAX) return 0;
    return sim->drift_ppm[node];
}

const char *sim_replay_hint(const struct sim *sim)
{
    return sim->replay_hint;
}

uint64_t sim_events_run(const struct sim *sim)
{
    return sim->events_run;
}

void sim_set_event_hook(struct sim *sim, sim_event_cb hook, void *arg)
{
    sim->hook = hook;
    sim->hook_arg = arg;
}

void sim_stop(struct sim *sim)
{
    sim->stopped = true;
}

bool sim_stopped(const struct sim *sim)
{
    return sim->stopped;
}

/* The last resort against a run that never lets time pass: name what the storm is made of
 * (the most frequent of its last traced events), then abort with the replay line. */
_Noreturn static void livelock_fail(const struct sim *sim)
{
    char storm[512];
    sim_storm_summary(sim, storm, sizeof(storm));
    sim_assert_failf(sim, SIM_NODE_NONE, "same_instant_events < SIM_SAME_INSTANT_EVENTS_MAX",
                     __FILE__, __LINE__,
                     "livelock: %llu events without virtual time advancing; the last %u traced "
                     "events were: %s",
                     (unsigned long long)sim->same_instant_events, sim->storm_len, storm);
}

/* Runs one popped event at `at_us` (its due time in simulation; the real-time driver's "now"
 * when it ran late), with the livelock watch, the node context and the hook. */
static void event_run(struct sim *sim, sim_time_us at_us, sim_event_cb cb, void *arg, int node)
{
    SIM_ASSERT(sim, SIM_NODE_NONE, at_us >= sim->now_us);
    if (at_us == sim->now_us) {
        sim->same_instant_events++;
        if (sim->same_instant_events >= SIM_SAME_INSTANT_EVENTS_MAX) livelock_fail(sim);
    } else {
        sim->same_instant_events = 0;
        sim->storm_len = 0;
        sim->storm_next = 0;
    }
    sim->now_us = at_us;
    sim->node_current = node;
    cb(sim, arg);
    sim->node_current = SIM_NODE_NONE;
    sim->events_run++;
    if (sim->hook != NULL) sim->hook(sim, sim->hook_arg);
}

bool sim_step(struct sim *sim)
{
    SIM_ASSERTF(sim, SIM_NODE_NONE, sim->task_current == NULL,
                "the event loop was entered from inside task '%s'", sim->task_current->name);
    if (sim->stopped) return false;
    sim_time_us due_us = 0;
    sim_event_cb cb = NULL;
    void *arg = NULL;
    int node = SIM_NODE_NONE;
    if (!sim_queue_pop(sim, &due_us, &cb, &arg, &node)) return false;
    SIM_ASSERT(sim, SIM_NODE_NONE, due_us >= sim->now_us);
    event_run(sim, due_us, cb, arg, node);
    return true;
}

size_t sim_run_due(struct sim *sim, sim_time_us now_us, size_t events_max)
{
    SIM_ASSERTF(sim, SIM_NODE_NONE, sim->task_current == NULL,
                "the real-time driver was entered from inside task '%s'", sim->task_current->name);
    SIM_ASSERT(sim, SIM_NODE_NONE, events_max > 0);
    /* The clock only moves forward: a driver whose clock stepped back waits for it. */
    sim_time_us at_us = now_us > sim->now_us ? now_us : sim->now_us;
    size_t ran = 0;
    while (ran < events_max && !sim->stopped) {
        sim_time_us due_us = 0;
        if (!sim_queue_peek_due(sim, &due_us) || due_us > at_us) break;
        sim_event_cb cb = NULL;
        void *arg = NULL;
        int node = SIM_NODE_NONE;
        bool popped = sim_queue_pop(sim, &due_us, &cb, &arg, &node);
        SIM_ASSERT(sim, SIM_NODE_NONE, popped);
        event_run(sim, at_us, cb, arg, node);
        ran++;
    }
    if (at_us > sim->now_us) sim->now_us = at_us;
    SIM_ASSERT(sim, SIM_NODE_NONE, sim->now_us == at_us);
    return ran;
}

bool sim_next_due(const struct sim *sim, sim_time_us *due_us)
{
    return sim_queue_peek_due(sim, due_us);
}

bool sim_run_until(struct sim *sim, sim_pred_fn pred, void *arg, sim_time_us deadline_us)
{
    for (;;) {
        if (pred != NULL && pred(sim, arg)) return true;
        if (sim->stopped) return false;
        sim_time_us due_us = 0;
        if (!sim_queue_peek_due(sim, &due_us)) {
            if (deadline_us != SIM_TIMEOUT_NEVER && deadline_us > sim->now_us)
                sim->now_us = deadline_us;
            return false;
        }
        if (due_us > deadline_us) {
            if (deadline_us > sim->now_us) sim->now_us = deadline_us;
            return false;
        }
        sim_step(sim);
    }
}
