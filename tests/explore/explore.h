/* explore: the explorer (issue 14). It runs a target (our Raft or a student's through raft.h, the
 * kvraft service, or a MapReduce job through mr.h: explore_mr.c) under a fault schedule drawn from
 * a seed, checks the Raft safety properties after every sim event, then heals every fault and
 * demands liveness, and reduces a failing schedule to a small one that still fails the same check.
 *
 * A run has two phases, as in TigerBeetle's VOPR:
 *  1. Safety, for `run_us` of virtual time: the workload runs while the schedule's faults come and
 *     go; after every event the checker (explore_check.c) looks at every running Raft.
 *  2. Liveness, for at most `liveness_us`: every fault heals (crashed servers restart, partitions
 *     close, drift, drops, duplicates and delays stop); the cluster must elect a leader and commit
 *     a fresh command (kvraft: finish every client operation and a fresh one).
 *
 * Swarm testing (Groce et al., ISSTA 2012): the seed first picks which fault kinds are on and how
 * hard (explore_sched_draw), so over many seeds some runs are calm and some are storms.
 *
 * Determinism: the schedule is drawn from its own stream ("explore.sched") into a struct
 * explore_sched and the run executes that struct, never the stream; so a run from a seed and a
 * run from the schedule file written for it are the same run, with the same digest. Everything
 * else of the run draws from the sim of `seed` as the graded tests do.
 *
 * Failures are graded test failures (lab_failf) whose message starts with the phase and the
 * check: "SAFETY log-matching: ...", "LIVENESS no-leader: ...". Failures the Raft tester itself
 * reports (apply errors) are classified by explore_classify.
 */
#ifndef EXPLORE_H
#define EXPLORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lab.h"
#include "sim.h"

/* Bounds of a schedule (TigerStyle: put a limit on everything). */
#define EXPLORE_SERVERS_MIN 3
#define EXPLORE_SERVERS_MAX 7
#define EXPLORE_CLIENTS_MAX 8
#define EXPLORE_OPS_MAX 1000
#define EXPLORE_FAULTS_MAX 256u
#define EXPLORE_RUN_MS_MAX 60000u
#define EXPLORE_LIVENESS_MS_MAX 30000u
#define EXPLORE_INTERVAL_MS_MAX 1000u
#define EXPLORE_DRIFT_PPM_MAX 50000 /* +-5%: the stated bound of clock drift */
#define EXPLORE_PERMILLE_MAX 1000
#define EXPLORE_DELAY_MS_MAX 10000
#define EXPLORE_LEAD_MS_MAX 5000 /* crash-new-leader: the longest a new leader is let live */
#define EXPLORE_MAXRAFTSTATE_MAX 100000
#define EXPLORE_LINE_MAX 256u         /* bytes of one schedule line */
#define EXPLORE_FILE_BYTES_MAX 65536u /* bytes of a schedule file */
#define EXPLORE_MSG_MAX 256u          /* a parse error */
/* The liveness bound the drawn schedules use (the graded one() gives agreement 10 s). */
#define EXPLORE_LIVENESS_MS_DEFAULT 10000u
/* The mr target (explore_mr.c): its inputs are the first `ops` of the lab's eight, and every
 * file write takes interval-ms per EXPLORE_MR_CHUNK_BYTES. */
#define EXPLORE_MR_INPUTS_MAX 8
#define EXPLORE_MR_PACE_MS_MAX 10u
#define EXPLORE_MR_CHUNK_BYTES 4096u
#define EXPLORE_MR_LIVENESS_MS 30000u /* the bound its draw uses (explore_mr.c says why) */

enum explore_target { EXPLORE_RAFT = 0, EXPLORE_KVRAFT = 1, EXPLORE_MR = 2 };
/* The mr target's application. */
enum explore_mr_app { EXPLORE_MR_WC = 0, EXPLORE_MR_INDEXER = 1 };

/* Fault kinds. Node sets are bit masks over server ids. */
#define EXPLORE_FAULT_MAP(X)                                                                       \
    X(EXPLORE_CRASH, "crash")         /* node: crashed, restarted when the fault ends */           \
    X(EXPLORE_PARTITION, "partition") /* a: one side; no message crosses to the rest */            \
    X(EXPLORE_ONEWAY, "oneway")       /* a -> b: messages from a to b are lost, b to a pass */     \
    X(EXPLORE_BRIDGE, "bridge")       /* a, b cut off from each other; the rest see both */        \
    X(EXPLORE_DROP, "drop")           /* unreliable network: 10% of requests and replies lost */   \
    X(EXPLORE_DUP, "dup")             /* value permille of delivered requests handled twice */     \
    X(EXPLORE_DELAY, "delay")         /* value permille of requests held 0..max_ms extra */        \
    X(EXPLORE_REORDER, "reorder")     /* long reordering: 2/3 of replies held 200-2200 ms */       \
    X(EXPLORE_DRIFT, "drift")         /* node's clock runs value ppm fast (negative: slow) */      \
    X(EXPLORE_CRASH_LEADER, "crash-leader") /* the leader when it begins: crashed, restarted */    \
    X(EXPLORE_ISOLATE_LEADER, "isolate-leader")     /* the leader when it begins: cut from all */  \
    X(EXPLORE_CRASH_NEW_LEADER, "crash-new-leader") /* next new leader: crashed value ms later */  \
    X(EXPLORE_STALL, "stall") /* mr: node's process stops at its next file step until the end */

enum explore_fault_kind {
#define EXPLORE_FAULT_ENUM(name, text) name,
    EXPLORE_FAULT_MAP(EXPLORE_FAULT_ENUM)
#undef EXPLORE_FAULT_ENUM
        EXPLORE_FAULT_KINDS
};

const char *explore_fault_name(enum explore_fault_kind kind);

struct explore_fault {
    enum explore_fault_kind kind;
    uint32_t at_ms;  /* start, from the beginning of the run */
    uint32_t for_ms; /* how long it lasts (it also ends when the liveness phase starts) */
    int node;        /* crash, drift (crash-leader, isolate-leader: chosen when they begin) */
    uint32_t a;      /* partition, oneway (from), bridge: node mask */
    uint32_t b;      /* oneway (to), bridge: node mask */
    int32_t value;   /* dup, delay: permille; drift: ppm; crash-new-leader: ms it may lead */
    uint32_t max_ms; /* delay: the longest extra hold */
};

struct explore_sched {
    enum explore_target target;
    uint64_t seed;        /* the sim's seed: network, Raft timers, workload */
    int servers;          /* mr: processes: the coordinator (node 0), workers on 1 .. servers-1 */
    int clients;          /* kvraft clerks (raft: one proposer, always 1; mr: unused, 1) */
    int ops;              /* commands (raft) or operations per clerk (kvraft); mr: input files */
    uint32_t interval_ms; /* pause between two commands or operations of one client; mr: the
                             virtual time of each EXPLORE_MR_CHUNK_BYTES of a file write */
    bool snapshot;        /* raft: the snapshotting applier */
    int32_t maxraftstate; /* kvraft: -1 = no snapshots */
    uint32_t run_ms;      /* the safety phase */
    uint32_t liveness_ms; /* the liveness bound */
    enum explore_mr_app app; /* mr: the application (the file's "app" line; raft, kvraft: wc) */
    size_t faults_count;
    struct explore_fault faults[EXPLORE_FAULTS_MAX];
};

/* ---------------------------------------------------------------- schedules */

/* explore_draw.c. Swarm draw: the schedule of (target, seed), from the stream "explore.sched"
 * of that seed. */
void explore_sched_draw(struct explore_sched *s, enum explore_target target, uint64_t seed);

/* explore_sched.c (which needs nothing of the simulation: the fuzz target links it alone).
 * Checks a schedule against the bounds above. Returns 0, or -1 with a one-line reason in msg. */
int explore_sched_validate(const struct explore_sched *s, char *msg, size_t msg_size);

/* Writes the schedule file text (version line, parameters, one line per fault). Returns 0 or
 * -1 on a write error. */
int explore_sched_write(const struct explore_sched *s, FILE *out);
int explore_sched_save(const struct explore_sched *s, const char *path);

/* Parses schedule file text of `len` bytes (need not be NUL-terminated). Returns 0, or -1 with
 * "line N: problem" in msg; never reads past len, never allocates. */
int explore_sched_parse(const char *text, size_t len, struct explore_sched *s, char *msg,
                        size_t msg_size);
/* Reads and parses a file (at most EXPLORE_FILE_BYTES_MAX bytes). -1 with "PATH: problem". */
int explore_sched_load(const char *path, struct explore_sched *s, char *msg, size_t msg_size);

/* Counters of a schedule for reports: faults and total fault-milliseconds. */
uint64_t explore_sched_fault_ms(const struct explore_sched *s);

/* ---------------------------------------------------------------- runs (explore_run.c) */

/* The graded-harness shaped tests that run one schedule: the body runs opts->body_arg (a
 * struct explore_sched) when given, else the schedule drawn from the run's seed. They are not
 * in the graded registry; the sweep runner and lab_run take them like any lab_test. */
extern const struct lab_test explore_raft_test;
extern const struct lab_test explore_kvraft_test;
extern const struct lab_test explore_mr_test;
const struct lab_test *explore_target_test(enum explore_target target);
/* explore_sched.c: "raft" / "kvraft" / "mr" -> target; false when unknown. */
bool explore_target_parse(const char *name, enum explore_target *target);
const char *explore_target_name(enum explore_target target);

/* What a run found. `check` is "" when it passed. */
#define EXPLORE_CHECK_MAX 32u
#define EXPLORE_SITE_MAX 192u
struct explore_verdict {
    bool failed;
    bool liveness;                 /* the failure is a liveness failure */
    char check[EXPLORE_CHECK_MAX]; /* election-safety, log-matching, ..., no-commit, crash */
    /* check "crash" (the code under test died, seen from outside its process): what killed it,
     * without time or addresses: "assertion failed: EXPR (FILE:LINE)", a sanitizer's error
     * ("AddressSanitizer: heap-use-after-free", "FILE:LINE:COL: runtime error"), the signal of a
     * crash report ("segmentation fault (signal 11)"), or how the process ended ("used over
     * 120 s of CPU"). "" for every other check. */
    char site[EXPLORE_SITE_MAX];
    uint64_t digest;
    sim_time_us at_us; /* 0 when unknown (a crash without a report) */
    int node;
    char message[LAB_MSG_MAX];
};

/* Splits a failure message into phase, check and text: "SAFETY x: y" and "LIVENESS x: y" as
 * the explorer writes them; the Raft tester's own wording is mapped (apply out of order ->
 * apply-order, committed values differ -> state-machine-safety, several leaders in a term ->
 * election-safety, not linearizable -> linearizability); anything else is "harness". */
void explore_classify(const char *message, struct explore_verdict *v);

/* The verdict of a run whose process died, from what it left: `how` (the runner's "killed by
 * signal 6", "used over 120 s of CPU") and `text`, its stderr or the part of it that was kept
 * (may be NULL). Sets check "crash", the site (see struct explore_verdict), and the virtual time,
 * node and message of its crash report ("at 2.371204s virtual, node 2: abort (signal 6) in the
 * code under test") when there is one. */
void explore_classify_crash(const char *how, const char *text, struct explore_verdict *v);

/* Whether `got` fails the way `want` does: both failed, in the same phase and check, and for a
 * crash at the same site. The time, node and message may differ (a shrunk schedule fails
 * sooner or later, and elsewhere). */
bool explore_verdict_same(const struct explore_verdict *want, const struct explore_verdict *got);

/* Runs one schedule in this process, silently unless `out` is given (the failure report goes
 * there). `replay_cmd` names the program in the replay hint (NULL = build/labsim). Returns 0 or
 * a SIM_* code when the run could not be made. */
int explore_run(const struct explore_sched *s, FILE *out, const char *replay_cmd,
                struct explore_verdict *v);

/* How the shrinker runs one candidate: fills v as explore_run does and returns 0, or returns a
 * SIM_* code when the run could not be made (the candidate then counts as not failing). The
 * CLI's runs each candidate in a forked process (tools/cmd_explore.c), so a candidate that
 * crashes the code under test is a verdict, not the end of the shrinker. */
typedef int (*explore_replay_cb)(const struct explore_sched *s, struct explore_verdict *v,
                                 void *arg);
/* The in-process replay (explore_run, silent): for targets that fail checks, never crash. */
int explore_replay_here(const struct explore_sched *s, struct explore_verdict *v, void *arg);

/* ---------------------------------------------------------------- shrinking (explore_shrink.c) */

struct explore_shrink_stats {
    uint32_t replays;     /* runs spent */
    uint32_t replays_max; /* the budget */
    size_t faults_before;
    size_t faults_after;
};

struct explore_shrink_opts {
    uint32_t replays_max;     /* the budget of candidate runs */
    FILE *progress;           /* one line per accepted step (NULL: silent) */
    explore_replay_cb replay; /* NULL: explore_replay_here */
    void *replay_arg;
};

/* Delta-debugs `s`, whose run failed as `want` says, towards a locally minimal schedule that
 * still fails the same way (explore_verdict_same): ends the run at the failure, drops whole
 * fault kinds, drops faults (ddmin: chunks of halving size down to single faults, then pairs),
 * merges and shortens them, fewer clients and operations, a shorter run (explore_shrink.c).
 * At most opts->replays_max runs. `s` is replaced by the smallest failing schedule found. */
void explore_shrink(struct explore_sched *s, const struct explore_verdict *want,
                    const struct explore_shrink_opts *opts, struct explore_shrink_stats *stats);

#endif /* EXPLORE_H */
