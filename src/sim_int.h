/* sim_int: the inside of `struct sim`, shared by the kernel's files only (src/sim*.c).
 *
 * Layout: the event queue is a binary min-heap of (due, seq, slot) entries; slots hold the
 * callback and a generation so a stale timer id never cancels a reused slot. Tasks are kept in
 * a bounded table so sim_free can release the stacks of tasks that never finished.
 */
#ifndef SIM_INT_H
#define SIM_INT_H

#include "sim.h"
#include "sim_ctx.h"

#define SIM_SLOT_FREE UINT32_MAX
#define SIM_SAME_INSTANT_EVENTS_MAX 50000000ull /* more events at one instant = livelock */
#define SIM_STACKS_CACHED_MAX 16u
/* Past this many events at one instant, traced events are kept in a small ring, so the
 * livelock report can say what the storm is made of (sim_storm_summary). */
#define SIM_STORM_WATCH_EVENTS 1000000ull
#define SIM_STORM_RING 256u
#define SIM_STORM_TEXT_MAX 32u

struct sim_storm_rec {
    const struct sim_trace_kind *kind;
    int32_t node;
    char text[SIM_STORM_TEXT_MAX];
};

struct sim_heap_ent {
    sim_time_us due_us;
    uint64_t seq;
    uint32_t slot;
};

struct sim_slot {
    sim_event_cb cb;
    void *arg;
    uint32_t gen;
    uint32_t heap_pos; /* SIM_SLOT_FREE when the slot is not scheduled */
    int32_t node;      /* the node context the event runs in (sim_node_current) */
};

enum sim_task_state { SIM_TASK_READY, SIM_TASK_RUNNING, SIM_TASK_PARKED, SIM_TASK_DONE };

struct sim_task {
    struct sim *sim;
    char name[32];
    sim_task_fn fn;
    void *arg;
    enum sim_task_state state;
    bool woken;                 /* set by sim_task_wake, read when park returns */
    sim_timer_id timeout_timer; /* pending park timeout, 0 if none */
    uint32_t table_index;
    int32_t node; /* the node context it was spawned in; every slice runs in it */
    struct sim_ctx ctx;
    void *stack;
    size_t stack_size;
};

struct sim {
    uint64_t seed;
    sim_time_us now_us;
    uint64_t seq_next;
    uint64_t events_run;
    uint64_t same_instant_events;
    bool stopped;
    int32_t node_current; /* node context of the running event (SIM_NODE_NONE between) */

    struct sim_heap_ent *heap;
    uint32_t heap_len;
    uint32_t heap_cap;
    struct sim_slot *slots;
    uint32_t slots_cap;
    uint32_t *slots_free;
    uint32_t slots_free_len;

    sim_event_cb hook;
    void *hook_arg;

    struct sim_task *task_current;
    struct sim_task *tasks[SIM_TASKS_MAX];
    uint32_t tasks_len;
    struct sim_ctx sched_ctx; /* the stack that runs events */
    void *stacks_cached[SIM_STACKS_CACHED_MAX];
    uint32_t stacks_cached_len;

    /* Trace. */
    uint64_t digest;
    uint64_t trace_events;
    uint32_t trace_mask;
    size_t trace_max;
    bool trace_truncated;
    struct sim_trace_rec *trace_recs;
    size_t trace_len;
    size_t trace_cap;
    sim_trace_cb trace_listener;
    void *trace_listener_arg;
    uint32_t trace_stream_mask; /* topics passed to trace_stream, recorded or not */
    sim_trace_cb trace_stream;
    void *trace_stream_arg;

    char replay_hint[512];
    char node_names[SIM_NODE_NAMES_MAX][SIM_NODE_NAME_MAX]; /* "" = unnamed (sim_node_name.c) */

    struct sim_rand nrand;                  /* the stream behind sim_nrand */
    int32_t drift_ppm[SIM_DRIFT_NODES_MAX]; /* sim_node_set_drift_ppm; 0 = none */
    bool drift_any;                         /* some node drifts (fast path when not) */
    struct sim_fs *fs;                      /* the file system (sim_fs.c), NULL until first used */

    /* The last traced events of a suspected livelock (ring; reset when time advances). */
    struct sim_storm_rec storm[SIM_STORM_RING];
    uint32_t storm_len;
    uint32_t storm_next;
};

/* sim_queue.c */
int sim_queue_init(struct sim *sim);
void sim_queue_free(struct sim *sim);
/* Removes and returns the earliest event; false when empty. */
bool sim_queue_pop(struct sim *sim, sim_time_us *due_us, sim_event_cb *cb, void **arg, int *node);
bool sim_queue_peek_due(const struct sim *sim, sim_time_us *due_us);

/* sim_trace.c: remembers a traced event of a suspected storm; and writes "kind text nodeN
 * (count), ..." for the most frequent ones into buf (always NUL-terminated). */
void sim_storm_note(struct sim *sim, int node, const struct sim_trace_kind *kind, const char *text);
void sim_storm_summary(const struct sim *sim, char *buf, size_t buf_size);

/* sim_task.c */
void sim_tasks_free(struct sim *sim);

/* sim_fs.c: frees the file system and every file in it. */
void sim_fs_free(struct sim *sim);

#endif /* SIM_INT_H */
