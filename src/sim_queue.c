/* sim_queue: the event queue and timers.
 *
 * A binary min-heap ordered by (due time, insertion sequence): equal due times run first in,
 * first out (libuv's start_id rule), so the order never depends on addresses. Each scheduled
 * event occupies a slot; a timer id is (slot generation << 32 | slot + 1), so cancelling an id
 * whose event already ran, or whose slot was reused, is a harmless no-op. Cancellation removes
 * the entry from the heap at once, so sim_pending is exact and the heap holds no garbage.
 */
#include <stdlib.h>

#include "sim_int.h"

#define SIM_QUEUE_CAP_INITIAL 1024u

static bool heap_less(const struct sim_heap_ent *a, const struct sim_heap_ent *b)
{
    if (a->due_us != b->due_us) return a->due_us < b->due_us;
    return a->seq < b->seq;
}

static void heap_place(struct sim *sim, uint32_t pos, struct sim_heap_ent ent)
{
    sim->heap[pos] = ent;
    sim->slots[ent.slot].heap_pos = pos;
}

static void heap_sift_up(struct sim *sim, uint32_t pos)
{
    struct sim_heap_ent ent = sim->heap[pos];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (!heap_less(&ent, &sim->heap[parent])) break;
        heap_place(sim, pos, sim->heap[parent]);
        pos = parent;
    }
    heap_place(sim, pos, ent);
}

static void heap_sift_down(struct sim *sim, uint32_t pos)
{
    struct sim_heap_ent ent = sim->heap[pos];
    for (;;) {
        uint32_t child = 2 * pos + 1;
        if (child >= sim->heap_len) break;
        if (child + 1 < sim->heap_len && heap_less(&sim->heap[child + 1], &sim->heap[child]))
            child++;
        if (!heap_less(&sim->heap[child], &ent)) break;
        heap_place(sim, pos, sim->heap[child]);
        pos = child;
    }
    heap_place(sim, pos, ent);
}

/* Removes the heap entry at pos, keeping the heap ordered. */
static void heap_remove_at(struct sim *sim, uint32_t pos)
{
    SIM_ASSERT(sim, SIM_NODE_NONE, pos < sim->heap_len);
    sim->heap_len--;
    if (pos == sim->heap_len) return;
    struct sim_heap_ent moved = sim->heap[sim->heap_len];
    heap_place(sim, pos, moved);
    heap_sift_down(sim, pos);
    heap_sift_up(sim, sim->slots[moved.slot].heap_pos);
}

int sim_queue_init(struct sim *sim)
{
    sim->heap_cap = SIM_QUEUE_CAP_INITIAL;
    sim->slots_cap = SIM_QUEUE_CAP_INITIAL;
    sim->heap = calloc(sim->heap_cap, sizeof(*sim->heap));
    sim->slots = calloc(sim->slots_cap, sizeof(*sim->slots));
    sim->slots_free = calloc(sim->slots_cap, sizeof(*sim->slots_free));
    if (sim->heap == NULL || sim->slots == NULL || sim->slots_free == NULL) return SIM_ENOMEM;
    /* Free slots are handed out lowest first (the free list is a stack). */
    for (uint32_t i = 0; i < sim->slots_cap; i++) {
        sim->slots[i].heap_pos = SIM_SLOT_FREE;
        sim->slots_free[i] = sim->slots_cap - 1 - i;
    }
    sim->slots_free_len = sim->slots_cap;
    return SIM_OK;
}

void sim_queue_free(struct sim *sim)
{
    free(sim->heap);
    free(sim->slots);
    free(sim->slots_free);
    sim->heap = NULL;
    sim->slots = NULL;
    sim->slots_free = NULL;
}

/* Doubles slot and heap capacity, bounded by SIM_EVENTS_MAX. */
static void queue_grow(struct sim *sim)
{
    uint32_t cap_old = sim->slots_cap;
    uint32_t cap_new = cap_old * 2;
    SIM_ASSERTF(sim, SIM_NODE_NONE, cap_new <= SIM_EVENTS_MAX,
                "more than %u events pending (a runaway timer loop?)", SIM_EVENTS_MAX);
    struct sim_heap_ent *heap = realloc(sim->heap, cap_new * sizeof(*heap));
    SIM_ASSERT(sim, SIM_NODE_NONE, heap != NULL);
    sim->heap = heap;
    struct sim_slot *slots = realloc(sim->slots, cap_new * sizeof(*slots));
    SIM_ASSERT(sim, SIM_NODE_NONE, slots != NULL);
    sim->slots = slots;
    uint32_t *slots_free = realloc(sim->slots_free, cap_new * sizeof(*slots_free));
    SIM_ASSERT(sim, SIM_NODE_NONE, slots_free != NULL);
    sim->slots_free = slots_free;
    for (uint32_t i = cap_old; i < cap_new; i++) {
        sim->slots[i].heap_pos = SIM_SLOT_FREE;
        sim->slots[i].gen = 0;
    }
    /* The free list is empty when we grow; push new slots so the lowest pops first. */
    SIM_ASSERT(sim, SIM_NODE_NONE, sim->slots_free_len == 0);
    for (uint32_t i = 0; i < cap_new - cap_old; i++)
        sim->slots_free[sim->slots_free_len++] = cap_new - 1 - i;
    sim->slots_cap = cap_new;
    sim->heap_cap = cap_new;
}

/* The delay a drifting node's clock turns `delay_us` into (sim_node_set_drift_ppm). Delays
 * beyond 2^43 us (about 100 days) are left as they are, so the product cannot overflow, and a
 * non-zero delay stays non-zero. */
static sim_time_us drift_scale(const struct sim *sim, sim_time_us delay_us)
{
    int node = sim->node_current;
    if (!sim->drift_any || node < 0 || node >= SIM_DRIFT_NODES_MAX) return delay_us;
    int32_t ppm = sim->drift_ppm[node];
    if (ppm == 0 || delay_us >= (UINT64_C(1) << 43)) return delay_us;
    sim_time_us scaled_us = delay_us * UINT64_C(1000000) / (uint64_t)(INT64_C(1000000) + ppm);
    /* A delay that lets time pass still does (a 1 us poll must not become a same-instant loop). */
    return scaled_us > 0 ? scaled_us : delay_us;
}

sim_timer_id sim_after(struct sim *sim, sim_time_us delay_us, sim_event_cb cb, void *arg)
{
    delay_us = drift_scale(sim, delay_us);
    SIM_ASSERT(sim, SIM_NODE_NONE, cb != NULL);
    SIM_ASSERTF(sim, SIM_NODE_NONE, delay_us <= UINT64_MAX - sim->now_us,
                "timer delay %llu us overflows the clock", (unsigned long long)delay_us);
    if (sim->slots_free_len == 0) queue_grow(sim);
    uint32_t slot = sim->slots_free[--sim->slots_free_len];
    struct sim_slot *s = &sim->slots[slot];
    SIM_ASSERT(sim, SIM_NODE_NONE, s->heap_pos == SIM_SLOT_FREE);
    s->cb = cb;
    s->arg = arg;
    s->node = sim->node_current; /* an event runs on behalf of whoever scheduled it */
    s->gen++;
    struct sim_heap_ent ent = {sim->now_us + delay_us, sim->seq_next++, slot};
    SIM_ASSERT(sim, SIM_NODE_NONE, sim->heap_len < sim->heap_cap);
    sim->heap_len++;
    heap_place(sim, sim->heap_len - 1, ent);
    heap_sift_up(sim, sim->heap_len - 1);
    return ((uint64_t)s->gen << 32) | (uint64_t)(slot + 1);
}

static void slot_release(struct sim *sim, uint32_t slot)
{
    sim->slots[slot].heap_pos = SIM_SLOT_FREE;
    sim->slots[slot].cb = NULL;
    sim->slots[slot].arg = NULL;
    SIM_ASSERT(sim, SIM_NODE_NONE, sim->slots_free_len < sim->slots_cap);
    sim->slots_free[sim->slots_free_len++] = slot;
}

bool sim_timer_cancel(struct sim *sim, sim_timer_id id)
{
    if (id == 0) return false;
    uint64_t slot_plus_one = id & 0xffffffffu;
    uint32_t gen = (uint32_t)(id >> 32);
    if (slot_plus_one == 0 || slot_plus_one > sim->slots_cap) return false;
    uint32_t slot = (uint32_t)(slot_plus_one - 1);
    struct sim_slot *s = &sim->slots[slot];
    if (s->gen != gen || s->heap_pos == SIM_SLOT_FREE) return false;
    heap_remove_at(sim, s->heap_pos);
    slot_release(sim, slot);
    return true;
}

bool sim_queue_pop(struct sim *sim, sim_time_us *due_us, sim_event_cb *cb, void **arg, int *node)
{
    if (sim->heap_len == 0) return false;
    struct sim_heap_ent top = sim->heap[0];
    *due_us = top.due_us;
    *cb = sim->slots[top.slot].cb;
    *arg = sim->slots[top.slot].arg;
    *node = sim->slots[top.slot].node;
    heap_remove_at(sim, 0);
    slot_release(sim, top.slot);
    return true;
}

bool sim_queue_peek_due(const struct sim *sim, sim_time_us *due_us)
{
    if (sim->heap_len == 0) return false;
    *due_us = sim->heap[0].due_us;
    return true;
}

size_t sim_pending(const struct sim *sim)
{
    return sim->heap_len;
}
