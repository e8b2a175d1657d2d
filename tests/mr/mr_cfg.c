/* mr_cfg: the lab 1 harness's world and processes (see mr_cfg.h). */
#include "mr_cfg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MR_COORD_SERVER_ID 0
#define MR_COORD_POLL_US SIM_S(1) /* mrcoordinator.go: time.Sleep(time.Second) */

struct mr_cfg {
    struct lab_ctx *ctx;
    struct sim *sim;
    struct rpc_net *net;
    struct mr_coordinator *coordinator;
    struct mr_proc *procs[MR_PROCS_MAX];
    uint32_t procs_count;
    uint32_t ended_count;
    struct sim_cond ended; /* broadcast whenever a process ends */
    struct mr_proc *slot_proc[MR_SLOTS_MAX + 1];
    size_t inputs_count;  /* the job's inputs: the first inputs_count of the eight */
    struct mr_lines want; /* mrsequential's lines (mr_cfg_sequential) */
};

/* Lab 1 harness trace kinds 650-659, on the process's node. */
static const struct sim_trace_kind kind_proc_start = {
    650, SIM_TOPIC_FAULT, "mr.proc.start", {"pid", "limit_s", NULL}};
static const struct sim_trace_kind kind_proc_end = {
    651, SIM_TOPIC_FAULT, "mr.proc.end", {"pid", "how", NULL}};

static void mr_cfg_free(void *user)
{
    struct mr_cfg *cfg = user;
    /* Calls still in flight get their failure callbacks while the tasks' stacks (which hold
     * the waiters) still exist. */
    rpc_net_fail_inflight(cfg->net);
    for (uint32_t i = 0; i < cfg->procs_count; i++) {
        mr_worker_free(cfg->procs[i]->worker);
        free(cfg->procs[i]);
    }
    mr_coordinator_free(cfg->coordinator);
    rpc_net_free(cfg->net);
    mr_lines_free(&cfg->want);
    free(cfg);
}

static void mr_cfg_load_inputs(struct mr_cfg *cfg)
{
    for (size_t i = 0; i < MR_INPUTS_COUNT; i++) {
        const struct mr_input *in = mr_input_at(i);
        int rc = sim_fs_write_file(cfg->sim, SIM_NODE_NONE, in->name, in->data, (size_t)*in->size);
        if (rc != SIM_FS_OK)
            lab_fatalf(cfg->ctx, SIM_NODE_NONE, "cannot put %s in the file system: %s", in->name,
                       sim_fs_strerror(rc));
    }
}

/* The step tool's `p NODE`: the node's current process and what the directory holds. */
static int mr_cfg_inspect(void *user, int node, FILE *out)
{
    const struct mr_cfg *cfg = user;
    static const char *const how_names[] = {"running", "exited", "crashed", "killed"};
    const struct mr_proc *proc = NULL;
    for (uint32_t i = 0; i < cfg->procs_count; i++)
        if (cfg->procs[i]->node == node) proc = cfg->procs[i];
    if (proc == NULL) return SIM_EINVAL;
    fprintf(out, "node %d: %s pid %d (%s), started at %.3f s, %zu files open\n", node,
            node == MR_NODE_COORDINATOR ? "coordinator" : proc->app.name, proc->pid,
            how_names[proc->end], (double)proc->started_us / (double)SIM_US_PER_S,
            sim_fs_open_count(cfg->sim, node));
    size_t outputs = 0;
    for (size_t i = 0; i < sim_fs_count(cfg->sim); i++)
        outputs += strncmp(sim_fs_name_at(cfg->sim, i), "mr-out-", 7) == 0;
    fprintf(out, "  directory: %zu files, %zu of them mr-out-*\n", sim_fs_count(cfg->sim), outputs);
    return SIM_OK;
}

struct mr_cfg *mr_cfg_make(struct lab_ctx *ctx)
{
    struct mr_cfg *cfg = calloc(1, sizeof(*cfg));
    if (cfg == NULL) lab_fatalf(ctx, SIM_NODE_NONE, "out of memory for the lab 1 harness");
    cfg->ctx = ctx;
    cfg->sim = lab_sim(ctx);
    cfg->inputs_count = MR_INPUTS_COUNT;
    cfg->net = rpc_net_new(cfg->sim);
    sim_cond_init(&cfg->ended);
    lab_set_user(ctx, cfg);
    lab_set_user_free(ctx, mr_cfg_free);
    lab_set_inspector(ctx, mr_cfg_inspect);
    /* Labels for the study tools ("coord", worker slot k is "wk"); no digest depends on them. */
    int rc = sim_node_name_set(cfg->sim, MR_NODE_COORDINATOR, "coord");
    for (int slot = 1; slot <= MR_SLOTS_MAX && rc == SIM_OK; slot++) {
        char name[32]; /* any int fits; sim_node_name_set refuses what is too long */
        snprintf(name, sizeof(name), "w%d", slot);
        rc = sim_node_name_set(cfg->sim, slot, name);
    }
    SIM_ASSERTF(cfg->sim, SIM_NODE_NONE, rc == SIM_OK, "naming nodes: %s", sim_strerror(rc));
    if (cfg->net == NULL) lab_fatalf(ctx, SIM_NODE_NONE, "out of memory for the network");
    mr_cfg_load_inputs(cfg);
    return cfg;
}

struct sim *mr_cfg_sim(const struct mr_cfg *cfg)
{
    return cfg->sim;
}

struct lab_ctx *mr_cfg_ctx(const struct mr_cfg *cfg)
{
    return cfg->ctx;
}

struct rpc_net *mr_cfg_net(const struct mr_cfg *cfg)
{
    return cfg->net;
}

void mr_cfg_use_inputs(struct mr_cfg *cfg, size_t count)
{
    SIM_ASSERT(cfg->sim, SIM_NODE_NONE, count >= 1 && count <= MR_INPUTS_COUNT);
    SIM_ASSERT(cfg->sim, SIM_NODE_NONE, cfg->coordinator == NULL);
    cfg->inputs_count = count;
}

size_t mr_cfg_inputs_count(const struct mr_cfg *cfg)
{
    return cfg->inputs_count;
}

struct mr_proc *mr_cfg_slot(const struct mr_cfg *cfg, int slot)
{
    SIM_ASSERT(cfg->sim, slot, slot >= 1 && slot <= MR_SLOTS_MAX);
    return cfg->slot_proc[slot];
}

bool mr_cfg_job_done(const struct mr_cfg *cfg)
{
    return cfg->coordinator != NULL && mr_coordinator_done(cfg->coordinator);
}

uint32_t mr_cfg_procs_started(const struct mr_cfg *cfg)
{
    return cfg->procs_count;
}

uint64_t mr_cfg_rpcs(const struct mr_cfg *cfg)
{
    return rpc_net_total_count(cfg->net);
}

void mr_cfg_say(struct mr_cfg *cfg, const char *fmt, ...)
{
    FILE *out = lab_out(cfg->ctx);
    if (out == NULL) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(out, fmt, ap);
    va_end(ap);
    fputc('\n', out);
    fflush(out);
}

/* ---------------------------------------------------------------- processes */

static struct mr_proc *proc_new(struct mr_cfg *cfg, int node, const char *what,
                                sim_time_us limit_us)
{
    if (cfg->procs_count == MR_PROCS_MAX)
        lab_fatalf(cfg->ctx, node, "more than %u processes", MR_PROCS_MAX);
    struct mr_proc *proc = calloc(1, sizeof(*proc));
    if (proc == NULL) lab_fatalf(cfg->ctx, node, "out of memory for a process");
    proc->cfg = cfg;
    proc->node = node;
    proc->pid = MR_PID_FIRST + (int)cfg->procs_count;
    proc->started_us = sim_now_us(cfg->sim);
    sim_rand_init_n(&proc->rand, cfg->sim, "mr.app", proc->pid);
    cfg->procs[cfg->procs_count++] = proc;
    sim_fs_node_up(cfg->sim, node);
    sim_tracef(cfg->sim, node, &kind_proc_start, proc->pid, (int64_t)(limit_us / SIM_US_PER_S),
               "%s", what);
    return proc;
}

/* The process ends (`how`): its files close, its pid dies, waiters wake. */
static void proc_end(struct mr_proc *proc, enum mr_proc_end how)
{
    struct mr_cfg *cfg = proc->cfg;
    SIM_ASSERT(cfg->sim, proc->node, proc->end == MR_PROC_RUNNING);
    SIM_ASSERT(cfg->sim, proc->node, how != MR_PROC_RUNNING);
    proc->end = how;
    if (proc->limit_timer != 0) sim_timer_cancel(cfg->sim, proc->limit_timer);
    proc->limit_timer = 0;
    sim_fs_node_down(cfg->sim, proc->node);
    if (proc->rpc_end != NULL) rpc_net_enable(cfg->net, proc->rpc_end, false);
    if (proc->node == MR_NODE_COORDINATOR) {
        /* The coordinator's socket is gone: every later call fails. */
        rpc_net_delete_server(cfg->net, MR_COORD_SERVER_ID);
        mr_coordinator_kill(cfg->coordinator);
    }
    cfg->ended_count++;
    static const char *const how_names[] = {"running", "exited", "crashed", "killed"};
    sim_tracef(cfg->sim, proc->node, &kind_proc_end, proc->pid, how, "%s", how_names[how]);
    sim_cond_broadcast(cfg->sim, &cfg->ended);
}

static void proc_limit_fire(struct sim *sim, void *arg)
{
    struct mr_proc *proc = arg;
    SIM_ASSERT(sim, proc->node, proc->end == MR_PROC_RUNNING);
    proc->limit_timer = 0;
    proc_end(proc, MR_PROC_KILLED);
}

static void proc_start_limit(struct mr_proc *proc, sim_time_us limit_us)
{
    proc->limit_timer = sim_after(proc->cfg->sim, limit_us, proc_limit_fire, proc);
}

void mr_cfg_kill(struct mr_cfg *cfg, struct mr_proc *proc)
{
    SIM_ASSERT(cfg->sim, proc->node, proc->cfg == cfg);
    if (proc->end == MR_PROC_RUNNING) proc_end(proc, MR_PROC_KILLED);
}

_Noreturn void mr_proc_crash(struct mr_proc *proc, const char *why)
{
    struct sim *sim = proc->cfg->sim;
    SIM_ASSERTF(sim, proc->node, sim_task_current(sim) == proc->task,
                "mr_proc_crash outside its process (%s)", why);
    (void)why;
    if (proc->end == MR_PROC_RUNNING) proc_end(proc, MR_PROC_CRASHED);
    proc->task_done = true;
    sim_task_exit(sim);
}

bool mr_cfg_pid_alive(const struct mr_cfg *cfg, int pid)
{
    if (pid < MR_PID_FIRST || pid >= MR_PID_FIRST + (int)cfg->procs_count) return false;
    return cfg->procs[pid - MR_PID_FIRST]->end == MR_PROC_RUNNING;
}

bool mr_proc_ended(const struct mr_proc *proc)
{
    return proc->end != MR_PROC_RUNNING;
}

/* mrcoordinator.go's main: poll Done() every second, then sleep a second more and exit. */
static void coordinator_main(struct sim *sim, void *arg)
{
    struct mr_proc *proc = arg;
    struct mr_cfg *cfg = proc->cfg;
    while (proc->end == MR_PROC_RUNNING && !mr_coordinator_done(cfg->coordinator))
        sim_sleep_us(sim, MR_COORD_POLL_US);
    if (proc->end == MR_PROC_RUNNING) sim_sleep_us(sim, MR_COORD_POLL_US);
    if (proc->end == MR_PROC_RUNNING) proc_end(proc, MR_PROC_EXITED);
    proc->task_done = true;
}

struct mr_proc *mr_cfg_start_coordinator(struct mr_cfg *cfg, sim_time_us limit_us)
{
    SIM_ASSERT(cfg->sim, MR_NODE_COORDINATOR, cfg->coordinator == NULL);
    const char *files[MR_INPUTS_COUNT];
    for (size_t i = 0; i < cfg->inputs_count; i++)
        files[i] = mr_input_at(i)->name;
    struct rpc_server *server = rpc_server_new(cfg->net);
    if (server == NULL) lab_fatalf(cfg->ctx, MR_NODE_COORDINATOR, "out of memory for a server");
    struct mr_proc *proc = proc_new(cfg, MR_NODE_COORDINATOR, "mrcoordinator", limit_us);
    int rc = mr_coordinator_make(cfg->sim, MR_NODE_COORDINATOR, files, cfg->inputs_count,
                                 MR_N_REDUCE, server, &cfg->coordinator);
    if (rc != MR_OK)
        lab_fatalf(cfg->ctx, MR_NODE_COORDINATOR, "MakeCoordinator failed: %s", mr_strerror(rc));
    rpc_net_add_server(cfg->net, MR_COORD_SERVER_ID, server);
    proc_start_limit(proc, limit_us);
    proc->task = lab_go(cfg->ctx, "mrcoordinator", coordinator_main, proc);
    return proc;
}

/* mrworker.go's main: mr.Worker(mapf, reducef), then exit. */
static void worker_main(struct sim *sim, void *arg)
{
    struct mr_proc *proc = arg;
    SIM_ASSERT(sim, proc->node, proc->worker != NULL);
    mr_worker_run(proc->worker);
    if (proc->end == MR_PROC_RUNNING) proc_end(proc, MR_PROC_EXITED);
    proc->task_done = true;
}

struct mr_proc *mr_cfg_start_worker(struct mr_cfg *cfg, int slot, const char *app_name,
                                    sim_time_us limit_us)
{
    SIM_ASSERT(cfg->sim, slot, slot >= 1 && slot <= MR_SLOTS_MAX);
    const struct mr_proc *previous = cfg->slot_proc[slot];
    SIM_ASSERTF(cfg->sim, slot, previous == NULL || previous->task_done,
                "slot %d reused while its process's task still runs", slot);
    const struct mr_app *app = mr_app_find(app_name);
    if (app == NULL) lab_fatalf(cfg->ctx, slot, "unknown application %s", app_name);
    struct mr_proc *proc = proc_new(cfg, slot, app->name, limit_us);
    cfg->slot_proc[slot] = proc;
    proc->app = *app;
    proc->app.arg = proc;
    char end_name[32];
    snprintf(end_name, sizeof(end_name), "worker-%d", proc->pid);
    proc->rpc_end = rpc_net_make_end(cfg->net, end_name);
    if (proc->rpc_end == NULL) lab_fatalf(cfg->ctx, slot, "out of memory for an end");
    rpc_end_set_node(proc->rpc_end, slot);
    rpc_net_connect(cfg->net, proc->rpc_end, MR_COORD_SERVER_ID);
    rpc_net_enable(cfg->net, proc->rpc_end, true);
    struct mr_worker_env env = {
        .sim = cfg->sim, .node = slot, .coordinator = proc->rpc_end, .app = proc->app};
    int rc = mr_worker_new(&env, &proc->worker);
    if (rc != MR_OK) lab_fatalf(cfg->ctx, slot, "cannot make a worker: %s", mr_strerror(rc));
    proc_start_limit(proc, limit_us);
    char task_name[32];
    snprintf(task_name, sizeof(task_name), "mrworker-%d", proc->pid);
    proc->task = lab_go(cfg->ctx, task_name, worker_main, proc);
    return proc;
}

void mr_cfg_wait(struct mr_cfg *cfg, const struct mr_proc *proc)
{
    while (proc->end == MR_PROC_RUNNING)
        sim_cond_wait(cfg->sim, &cfg->ended, SIM_TIMEOUT_NEVER);
}

void mr_cfg_wait_any(struct mr_cfg *cfg)
{
    uint32_t before = cfg->ended_count;
    while (cfg->ended_count == before)
        sim_cond_wait(cfg->sim, &cfg->ended, SIM_TIMEOUT_NEVER);
}

void mr_cfg_wait_all(struct mr_cfg *cfg)
{
    while (cfg->ended_count < cfg->procs_count)
        sim_cond_wait(cfg->sim, &cfg->ended, SIM_TIMEOUT_NEVER);
}

struct mr_lines *mr_cfg_want(struct mr_cfg *cfg)
{
    return &cfg->want;
}
