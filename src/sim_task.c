/* sim_task: coroutines that let test bodies and clerks block like Go goroutines.
 *
 * A task runs on its own stack. It is only ever entered from an event callback (task_resume)
 * and returns control to that callback when it blocks, exits or finishes, so exactly one piece
 * of code runs at a time and every resumption is an ordinary, ordered event. Blocking calls are
 * illegal outside a task (asserted).
 *
 * State transitions:
 *   READY   -> RUNNING  task_resume (an event)
 *   RUNNING -> PARKED   sim_task_park (also sleep and cond waits)
 *   PARKED  -> READY    sim_task_wake (schedules task_resume) or the park timeout
 *   RUNNING -> DONE     the task function returns, or sim_task_exit; task_resume frees it
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sim_int.h"

SIM_CTX_ASM_DEFINITIONS;

static void *stack_alloc(struct sim *sim)
{
    if (sim->stacks_cached_len > 0) return sim->stacks_cached[--sim->stacks_cached_len];
    void *p =
        mmap(NULL, SIM_TASK_STACK_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    /* A guard page at the low end turns a stack overflow into a clean SIGSEGV. */
    if (mprotect(p, 4096, PROT_NONE) != 0) {
        munmap(p, SIM_TASK_STACK_SIZE);
        return NULL;
    }
    return p;
}

static void stack_release(struct sim *sim, void *stack)
{
    if (sim->stacks_cached_len < SIM_STACKS_CACHED_MAX) {
        sim->stacks_cached[sim->stacks_cached_len++] = stack;
        return;
    }
    munmap(stack, SIM_TASK_STACK_SIZE);
}

static void task_destroy(struct sim *sim, struct sim_task *task)
{
    uint32_t i = task->table_index;
    SIM_ASSERT(sim, SIM_NODE_NONE, i < sim->tasks_len);
    SIM_ASSERT(sim, SIM_NODE_NONE, sim->tasks[i] == task);
    sim->tasks[i] = sim->tasks[sim->tasks_len - 1];
    sim->tasks[i]->table_index = i;
    sim->tasks_len--;
    if (task->timeout_timer != 0) sim_timer_cancel(sim, task->timeout_timer);
    stack_release(sim, task->stack);
    free(task);
}

void sim_tasks_free(struct sim *sim)
{
    while (sim->tasks_len > 0)
        task_destroy(sim, sim->tasks[sim->tasks_len - 1]);
    for (uint32_t i = 0; i < sim->stacks_cached_len; i++)
        munmap(sim->stacks_cached[i], SIM_TASK_STACK_SIZE);
    sim->stacks_cached_len = 0;
}

/* Leaves the task's stack for the scheduler's. Returns when the task is resumed. */
static void task_yield(struct sim *sim, struct sim_task *task, int exiting)
{
    sim->task_current = NULL;
    sim_ctx_switch(&task->ctx, &sim->sched_ctx, exiting, &sim->sched_ctx);
    /* Resumed by task_resume, which set task_current back to us. */
    SIM_ASSERT(sim, SIM_NODE_NONE, sim->task_current == task);
}

static void task_entry(void *arg)
{
    struct sim_task *task = arg;
    struct sim *sim = task->sim;
    sim_ctx_entered(&sim->sched_ctx);
    task->fn(sim, task->arg);
    task->state = SIM_TASK_DONE;
    task_yield(sim, task, 1);
    SIM_ASSERTF(sim, SIM_NODE_NONE, false, "finished task '%s' was resumed", task->name);
}

/* The event that runs a task until it blocks, exits or finishes. */
static void task_resume(struct sim *sim, void *arg)
{
    struct sim_task *task = arg;
    SIM_ASSERT(sim, SIM_NODE_NONE, sim->task_current == NULL);
    SIM_ASSERT(sim, SIM_NODE_NONE, task->state == SIM_TASK_READY);
    task->state = SIM_TASK_RUNNING;
    sim->task_current = task;
    sim->node_current = task->node; /* whoever woke it, a task runs as the node it belongs to */
    sim_ctx_switch(&sim->sched_ctx, &task->ctx, 0, &task->ctx);
    SIM_ASSERT(sim, SIM_NODE_NONE, sim->task_current == NULL);
    if (task->state == SIM_TASK_DONE) task_destroy(sim, task);
}

struct sim_task *sim_task_spawn(struct sim *sim, const char *name, sim_task_fn fn, void *arg)
{
    SIM_ASSERT(sim, SIM_NODE_NONE, fn != NULL);
    if (sim->tasks_len >= SIM_TASKS_MAX) return NULL;
    struct sim_task *task = calloc(1, sizeof(*task));
    if (task == NULL) return NULL;
    task->stack = stack_alloc(sim);
    if (task->stack == NULL) {
        free(task);
        return NULL;
    }
    task->sim = sim;
    snprintf(task->name, sizeof(task->name), "%s", name != NULL ? name : "task");
    task->fn = fn;
    task->arg = arg;
    task->stack_size = SIM_TASK_STACK_SIZE;
    task->state = SIM_TASK_READY;
    task->table_index = sim->tasks_len;
    task->node = sim->node_current;
    sim->tasks[sim->tasks_len++] = task;
    sim_ctx_make(&task->ctx, task->stack, task->stack_size, task_entry, task);
    sim_after(sim, 0, task_resume, task);
    return task;
}

struct sim_task *sim_task_current(const struct sim *sim)
{
    return sim->task_current;
}

const char *sim_task_name(const struct sim_task *task)
{
    return task->name;
}

size_t sim_tasks_alive(const struct sim *sim)
{
    return sim->tasks_len;
}

static struct sim_task *task_require_current(struct sim *sim, const char *what)
{
    SIM_ASSERTF(sim, SIM_NODE_NONE, sim->task_current != NULL,
                "%s may only be called from inside a task", what);
    return sim->task_current;
}

static void task_timeout(struct sim *sim, void *arg)
{
    struct sim_task *task = arg;
    task->timeout_timer = 0;
    if (task->state != SIM_TASK_PARKED) return;
    task->woken = false;
    task->state = SIM_TASK_READY;
    task_resume(sim, task);
}

bool sim_task_park(struct sim *sim, sim_time_us timeout_us)
{
    struct sim_task *task = task_require_current(sim, "sim_task_park");
    task->woken = false;
    if (timeout_us != SIM_TIMEOUT_NEVER)
        task->timeout_timer = sim_after(sim, timeout_us, task_timeout, task);
    task->state = SIM_TASK_PARKED;
    task_yield(sim, task, 0);
    if (task->timeout_timer != 0) {
        sim_timer_cancel(sim, task->timeout_timer);
        task->timeout_timer = 0;
    }
    return task->woken;
}

bool sim_task_wake(struct sim *sim, struct sim_task *task)
{
    if (task == NULL || task->state != SIM_TASK_PARKED) return false;
    task->woken = true;
    task->state = SIM_TASK_READY;
    if (task->timeout_timer != 0) {
        sim_timer_cancel(sim, task->timeout_timer);
        task->timeout_timer = 0;
    }
    sim_after(sim, 0, task_resume, task);
    return true;
}

_Noreturn void sim_task_exit(struct sim *sim)
{
    struct sim_task *task = task_require_current(sim, "sim_task_exit");
    task->state = SIM_TASK_DONE;
    task_yield(sim, task, 1);
    SIM_ASSERTF(sim, SIM_NODE_NONE, false, "exited task '%s' was resumed", task->name);
    abort();
}

void sim_sleep_us(struct sim *sim, sim_time_us delay_us)
{
    task_require_current(sim, "sim_sleep_us");
    /* Go's time.Sleep(0) still yields to the scheduler: let every event already due now run
     * first (the park's timeout is queued behind them, FIFO). */
    if (delay_us == 0) {
        sim_task_park(sim, 0);
        return;
    }
    sim_time_us deadline_us = sim->now_us + delay_us;
    /* A stray wake must not cut a sleep short; each round strictly advances time. */
    while (sim->now_us < deadline_us)
        sim_task_park(sim, deadline_us - sim->now_us);
}

void sim_cond_init(struct sim_cond *cond)
{
    cond->waiters_count = 0;
}

bool sim_cond_wait(struct sim *sim, struct sim_cond *cond, sim_time_us timeout_us)
{
    struct sim_task *task = task_require_current(sim, "sim_cond_wait");
    SIM_ASSERT(sim, SIM_NODE_NONE, cond->waiters_count < SIM_COND_WAITERS_MAX);
    cond->waiters[cond->waiters_count++] = task;
    bool woken = sim_task_park(sim, timeout_us);
    /* A timeout (or a wake from elsewhere) leaves us in the wait set: leave it, keeping the
     * order so broadcasts stay FIFO. */
    {
        for (uint32_t i = 0; i < cond->waiters_count; i++) {
            if (cond->waiters[i] == task) {
                memmove(&cond->waiters[i], &cond->waiters[i + 1],
                        (cond->waiters_count - i - 1) * sizeof(cond->waiters[0]));
                cond->waiters_count--;
                break;
            }
        }
    }
    return woken;
}

void sim_cond_broadcast(struct sim *sim, struct sim_cond *cond)
{
    uint32_t count = cond->waiters_count;
    cond->waiters_count = 0;
    for (uint32_t i = 0; i < count; i++)
        sim_task_wake(sim, cond->waiters[i]);
}

bool sim_wait_until(struct sim *sim, sim_pred_fn pred, void *arg, sim_time_us poll_us,
                    sim_time_us limit_us)
{
    task_require_current(sim, "sim_wait_until");
    SIM_ASSERT(sim, SIM_NODE_NONE, poll_us > 0);
    /* Saturating: SIM_TIMEOUT_NEVER (or any limit past the end of time) waits forever. */
    sim_time_us deadline_us =
        limit_us > UINT64_MAX - sim->now_us ? UINT64_MAX : sim->now_us + limit_us;
    for (;;) {
        if (pred(sim, arg)) return true;
        if (sim->now_us >= deadline_us) return false;
        sim_time_us left_us = deadline_us - sim->now_us;
        sim_sleep_us(sim, poll_us < left_us ? poll_us : left_us);
    }
}
