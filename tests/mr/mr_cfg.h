/* mr_cfg: the lab 1 harness, test-mr.sh's world in one sim: the shared directory (the sim's
 * file system, holding the eight inputs), the reliable network between workers and the
 * coordinator, the processes with their time limits, mrsequential, and the output checks.
 *
 * Processes. The coordinator process runs on node 0 and, as mrcoordinator.go does, polls
 * mr_coordinator_done every second and exits one second after it first holds. A worker process
 * runs mr_worker_run in a task on its slot's node (1 ..) with a pid of its own (distinct
 * across restarts on one slot). A process ends in one of three ways:
 *  - it exits (its main returned);
 *  - it crashes (the crash application's os.Exit, or an application's panic): mr_proc_crash,
 *    called from inside the process's own task, never returns;
 *  - it is killed by its time limit (`timeout 45s` / `timeout 120s` of test-mr.sh), counted
 *    from its start. A killed process's task may still be parked; it lives on as a zombie whose
 *    file-system calls fail (sim_fs_node_down) and whose RPCs fail (its end is disabled), and it
 *    ends on its own at its next failure.
 * Ending in any way closes the process's files, marks its pid dead (kill(pid, 0) fails) and
 * wakes everything waiting for a process to end. A slot gets a new process only after its
 * previous one has ended.
 *
 * Invariants: processes are kept (never freed) until the run is over, so a pid always names
 * one; at most one live process per slot; the coordinator's server id is 0.
 */
#ifndef MR_CFG_H
#define MR_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include "lab.h"
#include "mr.h"

#define MR_INPUTS_COUNT 8u
#define MR_N_REDUCE 10 /* mrcoordinator.go: MakeCoordinator(files, 10) */
#define MR_SLOTS_MAX 8 /* worker nodes 1 .. MR_SLOTS_MAX */
#define MR_PROCS_MAX 512u
#define MR_PID_FIRST 1000
#define MR_TIMEOUT_US SIM_S(45)   /* test-mr.sh TIMEOUT: timeout -k 2s 45s */
#define MR_TIMEOUT2_US SIM_S(120) /* test-mr.sh TIMEOUT2: timeout -k 2s 120s */

/* One embedded input file (mr_data.c). */
struct mr_input {
    const char *name; /* as the map function sees it: "../pg-grimm.txt" */
    const char *data;
    const uint64_t *size;
};
const struct mr_input *mr_input_at(size_t i);

enum mr_proc_end { MR_PROC_RUNNING, MR_PROC_EXITED, MR_PROC_CRASHED, MR_PROC_KILLED };

struct mr_cfg;

/* A simulated process (coordinator or worker). Harness-owned; apps get it as their arg. */
struct mr_proc {
    struct mr_cfg *cfg;
    int node; /* 0: coordinator; 1 ..: worker slot */
    int pid;
    enum mr_proc_end end;
    bool task_done; /* the process's task has returned (a killed one may outlive its end) */
    sim_time_us started_us;
    sim_timer_id limit_timer;
    struct sim_task *task;
    struct rpc_end *rpc_end;  /* workers: to the coordinator */
    struct mr_worker *worker; /* workers */
    struct mr_app app;        /* workers: the application, its arg this process */
    struct sim_rand rand;     /* the app's randomness (crash, jobcount) */
    uint32_t jobcount_next;   /* jobcount's per-process counter */
};

/* Makes the world for a test: the sim's file system with the inputs, the network. Fails the
 * test (lab_fatalf) when out of memory. The cfg is freed by the harness after the run. */
struct mr_cfg *mr_cfg_make(struct lab_ctx *ctx);

struct sim *mr_cfg_sim(const struct mr_cfg *cfg);
struct lab_ctx *mr_cfg_ctx(const struct mr_cfg *cfg);
struct rpc_net *mr_cfg_net(const struct mr_cfg *cfg);

/* For the explorer (tests/explore/explore_mr.c); the graded tests use none of these. The job
 * runs on the first `count` inputs (1 .. MR_INPUTS_COUNT; all of them unless this is called
 * before the coordinator starts), for the coordinator and mrsequential alike. */
void mr_cfg_use_inputs(struct mr_cfg *cfg, size_t count);
size_t mr_cfg_inputs_count(const struct mr_cfg *cfg);
/* The process last started on `slot` (NULL when none). */
struct mr_proc *mr_cfg_slot(const struct mr_cfg *cfg, int slot);
/* kill -9 from outside: a running process ends now, as killed (what its time limit does). */
void mr_cfg_kill(struct mr_cfg *cfg, struct mr_proc *proc);
/* The coordinator has been made and its Done() holds. */
bool mr_cfg_job_done(const struct mr_cfg *cfg);

/* Starts the coordinator process (node 0) with the eight inputs, nReduce 10 and a time limit.
 * Fails the test when the coordinator cannot be made. */
struct mr_proc *mr_cfg_start_coordinator(struct mr_cfg *cfg, sim_time_us limit_us);
/* Starts a worker process on `slot` (1 .. MR_SLOTS_MAX) running application `app_name`.
 * Fails the test on an unknown app or when the slot's previous process has not ended. */
struct mr_proc *mr_cfg_start_worker(struct mr_cfg *cfg, int slot, const char *app_name,
                                    sim_time_us limit_us);

/* Blocks the calling (test) task until `proc` has ended; until any process ends that had not
 * ended when the call began; until every process started so far has ended. */
void mr_cfg_wait(struct mr_cfg *cfg, const struct mr_proc *proc);
void mr_cfg_wait_any(struct mr_cfg *cfg);
void mr_cfg_wait_all(struct mr_cfg *cfg);
bool mr_proc_ended(const struct mr_proc *proc);

/* Called by an application inside its process's task: the process dies at once (os.Exit(1));
 * never returns. */
_Noreturn void mr_proc_crash(struct mr_proc *proc, const char *why);
/* kill(pid, 0) == 0: a process with this pid exists and has not ended. */
bool mr_cfg_pid_alive(const struct mr_cfg *cfg, int pid);

/* Processes started so far, and the network's RPC count (for the Passed line). */
uint32_t mr_cfg_procs_started(const struct mr_cfg *cfg);
uint64_t mr_cfg_rpcs(const struct mr_cfg *cfg);

/* ---------------------------------------------------------------- applications */

/* The application called `name` (wc, indexer, mtiming, rtiming, jobcount, early_exit, crash,
 * nocrash) with its functions; NULL when unknown. Its arg must be the calling process. */
const struct mr_app *mr_app_find(const char *name);

/* ---------------------------------------------------------------- outputs */

/* Sorted lines (byte order), empty lines dropped: `sort FILES | grep .` */
struct mr_lines {
    char **lines;
    size_t count;
    size_t cap;
};
void mr_lines_free(struct mr_lines *l);
bool mr_lines_equal(const struct mr_lines *a, const struct mr_lines *b, size_t *first_diff);

/* `sort mr-out* | grep .` over the file system now. Fails the test when out of memory. */
void mr_cfg_outputs(struct mr_cfg *cfg, struct mr_lines *out);
/* `cmp` of `sort mr-out* | grep .` with `want` (mrsequential's lines): true when equal; else
 * the first differing line, as "line N: got ..., want ... (counts)", goes to `why`. */
bool mr_cfg_outputs_match(struct mr_cfg *cfg, const struct mr_lines *want, char *why,
                          size_t why_size);
/* Every line of every mr-out* file in name order, empty ones included (for `cat mr-out*`). */
void mr_cfg_outputs_raw(struct mr_cfg *cfg, struct mr_lines *out);

/* mrsequential APP ../pg*txt, then `sort mr-out-0`: the reference lines. Runs in the test
 * task at the current instant (it is a separate program in Go, before the timed part). The
 * lines belong to the cfg (freed with it, also when the test fails). */
const struct mr_lines *mr_cfg_sequential(struct mr_cfg *cfg, const char *app_name);

/* The cfg's storage for mrsequential's lines (mr_out.c fills it). */
struct mr_lines *mr_cfg_want(struct mr_cfg *cfg);

/* Prints one of test-mr.sh's own lines ("*** Starting wc test.", "--- wc test: PASS"). */
void mr_cfg_say(struct mr_cfg *cfg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* MR_CFG_H */
