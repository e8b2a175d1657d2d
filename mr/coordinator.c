/* coordinator: the reference MapReduce coordinator (Go's mr/coordinator.go), event-driven.
 *
 * It holds one task per input file (map) and per reduce bucket. A worker's GetTask gets the
 * lowest idle map task while any map is unfinished, then the lowest idle reduce task; when
 * none is idle it is told to wait, and once every reduce is done, to exit. Handing out a task
 * starts a MR_TASK_TIMEOUT_US timer; if the task is still not done when it fires, the task is
 * idle again and the next GetTask hands it out anew (its first worker may be dead or slow; a
 * slow one's late result is harmless because workers publish their files by rename).
 *
 * Task states and the function that moves each:
 *   IDLE    -> RUNNING  coord_assign (a GetTask)
 *   RUNNING -> IDLE     coord_task_timeout (MR_TASK_TIMEOUT_US without a TaskDone)
 *   IDLE or RUNNING -> DONE  coord_task_done (the first TaskDone for the task; later ones
 *                            are ignored)
 * Invariants:
 *  1. maps_done and reduces_done count the tasks in state DONE.
 *  2. No reduce task leaves IDLE before maps_done == n_map.
 *  3. A RUNNING task has exactly one pending timer; other states have none.
 *  4. After mr_coordinator_kill nothing changes and nothing is scheduled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mr_int.h"

enum coord_task_state { TASK_IDLE, TASK_RUNNING, TASK_DONE };

struct coord_task {
    struct mr_coordinator *c;
    enum mr_task_kind kind;
    uint32_t index;
    enum coord_task_state state;
    uint32_t attempts;
    sim_timer_id timer;
};

struct mr_coordinator {
    struct sim *sim;
    int node;
    bool dead;
    char *files[MR_FILES_MAX];
    uint32_t n_map;
    uint32_t n_reduce;
    struct coord_task maps[MR_FILES_MAX];
    struct coord_task reduces[MR_REDUCE_MAX];
    uint32_t maps_done;
    uint32_t reduces_done;
    struct gob_enc enc; /* replies */
};

/* mr module trace kinds 600-609 (the coordinator's lane). */
static const struct sim_trace_kind kind_assign = {
    600, SIM_TOPIC_CLIENT, "mr.assign", {"kind", "task", "worker", "attempt"}};
static const struct sim_trace_kind kind_finish = {
    601, SIM_TOPIC_CLIENT, "mr.finish", {"kind", "task", "worker", "late"}};
static const struct sim_trace_kind kind_reissue = {
    602, SIM_TOPIC_FAULT, "mr.reissue", {"kind", "task", "attempt", NULL}};
static const struct sim_trace_kind kind_phase = {
    603, SIM_TOPIC_CLIENT, "mr.phase", {"maps_done", "reduces_done", NULL}};

static void coord_task_timeout(struct sim *sim, void *arg)
{
    struct coord_task *t = arg;
    struct mr_coordinator *c = t->c;
    SIM_ASSERT(sim, c->node, c->sim == sim);
    t->timer = 0;
    if (c->dead || t->state != TASK_RUNNING) return;
    t->state = TASK_IDLE;
    sim_trace4(sim, c->node, &kind_reissue, t->kind, t->index, t->attempts, 0);
}

static void coord_assign(struct mr_coordinator *c, struct coord_task *t, int worker,
                         struct mr_task_reply *reply)
{
    SIM_ASSERT(c->sim, c->node, t->state == TASK_IDLE);
    SIM_ASSERT(c->sim, c->node, t->timer == 0);
    t->state = TASK_RUNNING;
    t->attempts++;
    t->timer = sim_after(c->sim, MR_TASK_TIMEOUT_US, coord_task_timeout, t);
    reply->kind = t->kind;
    reply->task = t->index;
    if (t->kind == MR_TASK_MAP)
        snprintf(reply->file, sizeof(reply->file), "%s", c->files[t->index]);
    sim_trace4(c->sim, c->node, &kind_assign, t->kind, t->index, worker, t->attempts);
}

/* The lowest idle task of `tasks`, or NULL. */
static struct coord_task *coord_idle(struct coord_task *tasks, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++)
        if (tasks[i].state == TASK_IDLE) return &tasks[i];
    return NULL;
}

static void coord_pick(struct mr_coordinator *c, int worker, struct mr_task_reply *reply)
{
    reply->n_map = c->n_map;
    reply->n_reduce = c->n_reduce;
    reply->kind = MR_TASK_WAIT;
    if (c->reduces_done == c->n_reduce) {
        reply->kind = MR_TASK_EXIT;
        return;
    }
    bool map_phase = c->maps_done < c->n_map;
    struct coord_task *t =
        map_phase ? coord_idle(c->maps, c->n_map) : coord_idle(c->reduces, c->n_reduce);
    if (t != NULL) coord_assign(c, t, worker, reply);
}

static void coord_reply(struct mr_coordinator *c, struct rpc_req *req)
{
    if (gob_enc_finish(&c->enc) != GOB_OK) {
        /* Out of memory for a reply of a few bytes: answer nothing useful; the worker's call
         * fails as if the reply was lost and it asks again. */
        rpc_req_reply(req, NULL, 0);
        return;
    }
    rpc_req_reply(req, gob_enc_bytes(&c->enc), gob_enc_len(&c->enc));
}

static void coord_get_task(void *receiver, struct rpc_req *req, const uint8_t *args,
                           size_t args_len)
{
    struct mr_coordinator *c = receiver;
    int worker = SIM_NODE_NONE;
    struct mr_task_reply reply;
    memset(&reply, 0, sizeof(reply));
    if (mr_get_task_args_decode(args, args_len, &worker) != MR_OK) {
        rpc_req_reply(req, NULL, 0);
        return;
    }
    if (!c->dead) coord_pick(c, worker, &reply);
    mr_task_reply_encode(&c->enc, &reply);
    coord_reply(c, req);
}

static void coord_task_done(struct mr_coordinator *c, const struct mr_done_args *a)
{
    uint32_t count = a->kind == MR_TASK_MAP ? c->n_map : c->n_reduce;
    if (a->task >= count) return;
    struct coord_task *t = a->kind == MR_TASK_MAP ? &c->maps[a->task] : &c->reduces[a->task];
    bool late = t->state != TASK_RUNNING;
    sim_trace4(c->sim, c->node, &kind_finish, a->kind, a->task, a->node, late);
    if (t->state == TASK_DONE) return;
    if (t->timer != 0) sim_timer_cancel(c->sim, t->timer);
    t->timer = 0;
    t->state = TASK_DONE;
    if (a->kind == MR_TASK_MAP)
        c->maps_done++;
    else
        c->reduces_done++;
    SIM_ASSERT(c->sim, c->node, c->maps_done <= c->n_map);
    SIM_ASSERT(c->sim, c->node, c->reduces_done <= c->n_reduce);
    if (c->maps_done == c->n_map && (a->kind == MR_TASK_MAP || c->reduces_done == c->n_reduce))
        sim_trace4(c->sim, c->node, &kind_phase, c->maps_done, c->reduces_done, 0, 0);
}

static void coord_done_handler(void *receiver, struct rpc_req *req, const uint8_t *args,
                               size_t args_len)
{
    struct mr_coordinator *c = receiver;
    struct mr_done_args a;
    if (mr_done_args_decode(args, args_len, &a) == MR_OK && !c->dead) coord_task_done(c, &a);
    rpc_req_reply(req, NULL, 0);
}

static void coord_tasks_init(struct mr_coordinator *c)
{
    for (uint32_t i = 0; i < c->n_map; i++)
        c->maps[i] = (struct coord_task){.c = c, .kind = MR_TASK_MAP, .index = i};
    for (uint32_t i = 0; i < c->n_reduce; i++)
        c->reduces[i] = (struct coord_task){.c = c, .kind = MR_TASK_REDUCE, .index = i};
}

int mr_coordinator_make(struct sim *sim, int node, const char *const *files, size_t files_count,
                        int n_reduce, struct rpc_server *server, struct mr_coordinator **out)
{
    if (out != NULL) *out = NULL;
    if (sim == NULL || files == NULL || server == NULL || out == NULL) return MR_EINVAL;
    if (files_count == 0 || files_count > MR_FILES_MAX) return MR_EINVAL;
    if (n_reduce < 1 || n_reduce > (int)MR_REDUCE_MAX) return MR_EINVAL;
    struct mr_coordinator *c = calloc(1, sizeof(*c));
    if (c == NULL) return MR_ENOMEM;
    c->sim = sim;
    c->node = node;
    c->n_map = (uint32_t)files_count;
    c->n_reduce = (uint32_t)n_reduce;
    gob_enc_init(&c->enc);
    int rc = MR_OK;
    for (uint32_t i = 0; i < c->n_map && rc == MR_OK; i++) {
        c->files[i] = files[i] != NULL ? strdup(files[i]) : NULL;
        if (files[i] == NULL || strlen(files[i]) >= MR_FILE_NAME_MAX) rc = MR_EINVAL;
        if (files[i] != NULL && c->files[i] == NULL) rc = MR_ENOMEM;
    }
    coord_tasks_init(c);
    if (rc == MR_OK && (rpc_server_add_method(server, MR_SERVICE, MR_METHOD_GET_TASK,
                                              coord_get_task, c) != RPC_OK ||
                        rpc_server_add_method(server, MR_SERVICE, MR_METHOD_TASK_DONE,
                                              coord_done_handler, c) != RPC_OK))
        rc = MR_ERPC;
    if (rc != MR_OK) {
        mr_coordinator_free(c);
        return rc;
    }
    *out = c;
    return MR_OK;
}

bool mr_coordinator_done(const struct mr_coordinator *c)
{
    return c->reduces_done == c->n_reduce;
}

void mr_coordinator_kill(struct mr_coordinator *c)
{
    c->dead = true;
    for (uint32_t i = 0; i < c->n_map; i++)
        if (c->maps[i].timer != 0) sim_timer_cancel(c->sim, c->maps[i].timer);
    for (uint32_t i = 0; i < c->n_reduce; i++)
        if (c->reduces[i].timer != 0) sim_timer_cancel(c->sim, c->reduces[i].timer);
}

void mr_coordinator_free(struct mr_coordinator *c)
{
    if (c == NULL) return;
    for (uint32_t i = 0; i < MR_FILES_MAX; i++)
        free(c->files[i]);
    gob_enc_free(&c->enc);
    free(c);
}
