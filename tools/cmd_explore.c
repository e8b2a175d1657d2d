/* cmd_explore: the explorer's commands (tests/explore/explore.h):
 *   labsim explore TARGET [--seed S] [--seeds N] [--jobs J] [--stop-on-fail] [--schedule-out FILE]
 *   labsim replay --schedule FILE
 *   labsim shrink FILE [--out FILE] [--max-replays N]
 *
 * explore sweeps seeds S .. S+N-1 of TARGET (raft, kvraft or mr) through the graded runner (J
 * worker processes, one by default; a single seed runs in this process, as `replay` does, for
 * gdb) and prints one line per failing seed: phase (SAFETY or LIVENESS), check, seed, virtual
 * time, node, message and the replay command naming the binary that ran; then a summary (runs,
 * failures, runs per second of wall time, which is reported, never used by a run). Exit status
 * 0 all clean, 1 a failure, 3 bad input.
 *
 * shrink runs every candidate schedule, and the original first, in a forked worker of the same
 * runner, with its stderr captured and a CPU-time limit, so that a schedule on which the code
 * under test crashes (an assertion, a sanitizer, a signal) shrinks like any other: "crash" is its
 * check and what killed it (the assertion's expression and file:line, ...) its site.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cmds.h"
#include "explore.h"
#include "lab_persist.h"
#include "runner.h"

#define EXPLORE_EXIT_BAD 3
#define EXPLORE_SEEDS_MAX 10000000u
#define SHRINK_REPLAYS_DEFAULT 1000u
#define SHRINK_REPLAYS_MAX 100000u
/* A replay that uses this much CPU is killed: a run takes a second or two, even under the
 * sanitizers, so only a hang of the code under test reaches it. CPU time, not wall time: on a
 * loaded machine a run's wall time grows many times over and would pass for a hang. */
#define SHRINK_REPLAY_CPU_S 120u

/* ---------------------------------------------------------------- reporting */

/* The message without its "SAFETY check: " prefix. */
static const char *verdict_text(const struct explore_verdict *v)
{
    const char *phase = v->liveness ? "LIVENESS " : "SAFETY ";
    const char *sep = strstr(v->message, ": ");
    if (strncmp(v->message, phase, strlen(phase)) != 0 || sep == NULL) return v->message;
    return sep + 2;
}

static void verdict_print(FILE *out, const struct explore_verdict *v, uint64_t seed,
                          const char *replay)
{
    char node[24] = "-";
    char at[32] = "-"; /* a process that died without a report: its time is not known */
    if (v->node != SIM_NODE_NONE) snprintf(node, sizeof(node), "%d", v->node);
    if (v->at_us > 0 || strcmp(v->check, "crash") != 0)
        snprintf(at, sizeof(at), "%.3fs", (double)v->at_us / (double)SIM_US_PER_S);
    fprintf(out, "%s %s seed %" PRIu64 " at %s node %s: %s | replay: %s\n",
            v->liveness ? "LIVENESS" : "SAFETY", v->check, seed, at, node, verdict_text(v), replay);
}

/* Copies the line of `text` that starts at `line` (without its indentation) as the message. */
static void verdict_line(struct explore_verdict *v, const char *line)
{
    line += strspn(line, " ");
    size_t len = strcspn(line, "\n");
    if (len >= sizeof(v->message)) len = sizeof(v->message) - 1;
    memcpy(v->message, line, len);
    v->message[len] = '\0';
}

/* A worker that died left the runner's report: "worker process HOW before reporting (...)",
 * then, when its stderr was captured, what it wrote there (explore_classify_crash reads it). */
static void verdict_died(const char *text, struct explore_verdict *v)
{
    static const char head[] = "worker process ";
    char how[64] = "died";
    const char *p = text != NULL ? strstr(text, head) : NULL;
    if (p != NULL) {
        p += strlen(head);
        const char *end = strstr(p, " before reporting");
        size_t len = end != NULL ? (size_t)(end - p) : strcspn(p, "\n");
        if (len >= sizeof(how)) len = sizeof(how) - 1;
        memcpy(how, p, len);
        how[len] = '\0';
    }
    explore_classify_crash(how, text, v);
    /* Without a captured stderr the message is the runner's line, which points at stderr. */
    if (text != NULL && strstr(text, "its stderr follows") == NULL && p != NULL)
        verdict_line(v, p - strlen(head));
}

/* A failing run's report, as lab_session_finish printed it into the captured text:
 * "    at 12.345s virtual, node 3: MESSAGE". A worker that died (an assertion, a sanitizer, a
 * crash) left the runner's report instead (verdict_died). */
static void verdict_from_text(const char *text, bool died, struct explore_verdict *v)
{
    memset(v, 0, sizeof(*v));
    v->failed = true;
    v->node = SIM_NODE_NONE;
    const char *at = text != NULL ? strstr(text, "\n    at ") : NULL;
    if (died || at == NULL) {
        verdict_died(text, v);
        return;
    }
    at += strlen("\n    at ");
    v->at_us = (sim_time_us)(strtod(at, NULL) * (double)SIM_US_PER_S + 0.5);
    const char *node = strstr(at, ", node ");
    const char *colon = strstr(at, ": ");
    const char *eol = strchr(at, '\n');
    if (node != NULL && colon != NULL && node < colon) v->node = atoi(node + strlen(", node "));
    if (colon != NULL && (eol == NULL || colon < eol)) verdict_line(v, colon + 2);
    explore_classify(v->message, v);
}

/* ---------------------------------------------------------------- explore */

struct explore_args {
    const char *target_name;
    enum explore_target target;
    uint64_t seed;
    uint64_t seeds;
    uint64_t jobs;
    bool stop_on_fail;
    const char *schedule_out;
    const char *raft_opts; /* --raft-opts, as labsim run's (lab_persist.h); NULL = none */
    bool help;
};

struct explore_report {
    const char *program;
    const struct explore_args *a;
    size_t runs;
    size_t failures;
    size_t liveness;
    size_t unknown; /* kvraft runs whose linearizability check ran out of budget */
    bool have_first;
    uint64_t first_failing_seed;
};

static void explore_usage(FILE *out)
{
    fprintf(
        out,
        "usage: labsim explore TARGET [--seed S] [--seeds N] [--jobs J] [--stop-on-fail]\n"
        "                     [--schedule-out FILE] [--raft-opts LIST]\n"
        "  TARGET          raft (our Raft, or yours in a RAFT_IMPL build), kvraft, or mr\n"
        "                  (a MapReduce job: our coordinator and workers, or yours with MR_IMPL)\n"
        "  --seed S        the first seed (default 1); each seed draws its own fault schedule\n"
        "  --seeds N       N consecutive seeds (default 1)\n"
        "  --jobs J        run in J worker processes (default 1), so a run that crashes is\n"
        "                  reported and the sweep goes on; one seed runs in this process\n"
        "  --stop-on-fail  start no more runs after the first failure\n"
        "  --schedule-out FILE  write the first failing run's schedule (with one seed and no\n"
        "                  failure: that run's schedule), for labsim replay --schedule and shrink\n"
        "  --raft-opts LIST  the Raft options of every run, as labsim run's (e.g. pipeline);\n"
        "                  replay a failing seed with the same list (a schedule file does not\n"
        "                  carry it)\n"
        "Prints one line per failing seed and a summary. Exit 0 clean, 1 a failure, 3 bad "
        "input.\n");
}

static int explore_parse(int argc, char **argv, struct explore_args *a, char *err, size_t size)
{
    *a = (struct explore_args){.seed = LAB_DEFAULT_SEED, .seeds = 1, .jobs = 1};
    const struct args_flag flags[] = {
        {"seed", ARGS_U64, &a->seed, NULL},
        {"seeds", ARGS_U64, &a->seeds, NULL},
        {"jobs", ARGS_U64, &a->jobs, NULL},
        {"stop-on-fail", ARGS_BOOL, &a->stop_on_fail, NULL},
        {"schedule-out", ARGS_STR, &a->schedule_out, NULL},
        {"raft-opts", ARGS_STR, &a->raft_opts, NULL},
        {"help", ARGS_BOOL, &a->help, NULL},
    };
    const char *positional[1];
    size_t count = 0;
    unsigned raft_opts = 0;
    if (args_parse(argc, argv, flags, sizeof(flags) / sizeof(flags[0]), positional, 1, &count, err,
                   size) != 0)
        return -1;
    if (a->help) return 0;
    if (count != 1) return snprintf(err, size, "missing TARGET (raft, kvraft or mr)"), -1;
    a->target_name = positional[0];
    if (!explore_target_parse(a->target_name, &a->target))
        return snprintf(err, size, "unknown target '%s' (raft, kvraft or mr)", a->target_name), -1;
    if (a->seeds < 1 || a->seeds > EXPLORE_SEEDS_MAX)
        return snprintf(err, size, "--seeds must be between 1 and %u", EXPLORE_SEEDS_MAX), -1;
    if (a->seeds - 1 > UINT64_MAX - a->seed)
        return snprintf(err, size, "--seed %" PRIu64 " with --seeds %" PRIu64 " overflows", a->seed,
                        a->seeds),
               -1;
    if (a->jobs < 1 || a->jobs > RUNNER_WORKERS_MAX)
        return snprintf(err, size, "--jobs must be between 1 and %u", RUNNER_WORKERS_MAX), -1;
    if (a->schedule_out != NULL && args_check_writable(a->schedule_out, err, size) != 0) return -1;
    if (lab_raft_opts_parse(a->raft_opts, &raft_opts, err, size) != 0) return -1;
    return 0;
}

static void explore_deliver(const struct runner_result *r, void *arg)
{
    struct explore_report *rep = arg;
    rep->runs++;
    rep->unknown += r->outcome == LAB_UNKNOWN;
    if (r->outcome != LAB_FAIL) return;
    struct explore_verdict v;
    char replay[512];
    verdict_from_text(r->text, r->worker_died, &v);
    snprintf(replay, sizeof(replay), "%s explore %s --seed %" PRIu64 "%s%s", rep->program,
             rep->a->target_name, r->seed, rep->a->raft_opts != NULL ? " --raft-opts " : "",
             rep->a->raft_opts != NULL ? rep->a->raft_opts : "");
    verdict_print(stdout, &v, r->seed, replay);
    fflush(stdout);
    rep->failures++;
    rep->liveness += v.liveness;
    if (!rep->have_first) {
        rep->have_first = true;
        rep->first_failing_seed = r->seed;
    }
}

static int explore_schedule_out(const struct explore_args *a, const struct explore_report *rep)
{
    struct explore_sched s;
    if (!rep->have_first && a->seeds != 1) return 0;
    explore_sched_draw(&s, a->target, rep->have_first ? rep->first_failing_seed : a->seed);
    if (explore_sched_save(&s, a->schedule_out) != 0) {
        fprintf(stderr, "labsim explore: cannot write the schedule to '%s'\n", a->schedule_out);
        return EXPLORE_EXIT_BAD;
    }
    printf("schedule of seed %" PRIu64 " written to %s (%zu faults)\n", s.seed, a->schedule_out,
           s.faults_count);
    return 0;
}

int cmd_explore(const struct labsim_cli *cli, int argc, char **argv)
{
    struct explore_args a;
    char err[ARGS_ERR_MAX];
    if (explore_parse(argc, argv, &a, err, sizeof(err)) != 0) {
        fprintf(stderr, "labsim explore: %s\n", err);
        return EXPLORE_EXIT_BAD;
    }
    if (a.help) {
        explore_usage(stdout);
        return 0;
    }
    struct explore_report rep = {.program = cli->program, .a = &a};
    /* One seed runs in this process and may die there of the code under test: its schedule is
     * written first, so that it can still be shrunk. */
    bool written_first = a.schedule_out != NULL && a.seeds == 1;
    if (written_first && explore_schedule_out(&a, &rep) != 0) return EXPLORE_EXIT_BAD;
    struct runner_job *jobs = calloc((size_t)a.seeds, sizeof(*jobs));
    if (jobs == NULL) {
        fprintf(stderr, "labsim explore: out of memory for %" PRIu64 " runs\n", a.seeds);
        return EXPLORE_EXIT_BAD;
    }
    for (uint64_t k = 0; k < a.seeds; k++)
        jobs[k] = (struct runner_job){.test = explore_target_test(a.target), .seed = a.seed + k};
    struct runner_config config = {.workers = (unsigned)a.jobs,
                                   .stop_on_fail = a.stop_on_fail,
                                   .replay_cmd = cli->program,
                                   .raft_opts = a.raft_opts,
                                   .isolate = a.seeds > 1};
    struct runner_stats stats;
    int rc = runner_sweep(jobs, (size_t)a.seeds, &config, explore_deliver, &rep, &stats);
    free(jobs);
    if (rc != SIM_OK) {
        fprintf(stderr, "labsim explore: the sweep could not run: %s\n", sim_strerror(rc));
        return EXPLORE_EXIT_BAD;
    }
    double wall_s = (double)stats.wall_us / 1e6;
    printf("explore %s: %zu runs, %zu failures (%zu safety, %zu liveness), %.1f runs/s",
           a.target_name, rep.runs, rep.failures, rep.failures - rep.liveness, rep.liveness,
           wall_s > 0 ? (double)rep.runs / wall_s : 0.0);
    /* Not a failure, never a silent pass either. */
    if (rep.unknown > 0) printf(", %zu unknown (linearizability check out of budget)", rep.unknown);
    printf("\n");
    if (a.schedule_out != NULL && !written_first && explore_schedule_out(&a, &rep) != 0)
        return EXPLORE_EXIT_BAD;
    return rep.failures > 0 ? 1 : 0;
}

/* ---------------------------------------------------------------- replay --schedule */

int explore_cmd_replay_schedule(const struct labsim_cli *cli, int argc, char **argv)
{
    const char *path = NULL;
    bool help = false;
    char err[ARGS_ERR_MAX];
    const struct args_flag flags[] = {
        {"schedule", ARGS_STR, &path, NULL},
        {"help", ARGS_BOOL, &help, NULL},
    };
    size_t count = 0;
    if (args_parse(argc, argv, flags, 2, NULL, 0, &count, err, sizeof(err)) != 0) {
        fprintf(stderr, "labsim replay: %s\n", err);
        return EXPLORE_EXIT_BAD;
    }
    if (help) {
        printf(
            "usage: labsim replay --schedule FILE\n"
            "  runs exactly the explorer schedule in FILE (labsim explore --schedule-out, labsim\n"
            "  shrink) and reports like labsim explore. Exit 0 passed, 1 failed, 3 bad input.\n");
        return 0;
    }
    if (path == NULL || path[0] == '\0') {
        fprintf(stderr, "labsim replay: --schedule needs a FILE\n");
        return EXPLORE_EXIT_BAD;
    }
    struct explore_sched s;
    char msg[EXPLORE_MSG_MAX + 64];
    if (explore_sched_load(path, &s, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "labsim replay: %s\n", msg);
        return EXPLORE_EXIT_BAD;
    }
    struct explore_verdict v;
    int rc = explore_run(&s, NULL, cli->program, &v);
    if (rc != SIM_OK) {
        fprintf(stderr, "labsim replay: %s\n", sim_strerror(rc));
        return 1;
    }
    char replay[512];
    snprintf(replay, sizeof(replay), "%s replay --schedule %s", cli->program, path);
    if (v.failed) verdict_print(stdout, &v, s.seed, replay);
    printf("schedule %s: %s %s, seed %" PRIu64 ", %zu faults, digest %016" PRIx64 "\n", path,
           explore_target_name(s.target), v.failed ? "FAILED" : "passed", s.seed, s.faults_count,
           v.digest);
    return v.failed ? 1 : 0;
}

/* ---------------------------------------------------------------- shrink */

/* One candidate's run in a forked worker (runner.h: isolate, capture_stderr, job_timeout_s). */
struct forked_replay {
    const char *program;
    struct explore_verdict *v;
};

static void forked_deliver(const struct runner_result *r, void *arg)
{
    struct forked_replay *fr = arg;
    if (r->outcome == LAB_FAIL) {
        verdict_from_text(r->text, r->worker_died, fr->v);
    } else {
        memset(fr->v, 0, sizeof(*fr->v));
        fr->v->node = SIM_NODE_NONE;
    }
    fr->v->digest = r->digest;
}

static int replay_forked(const struct explore_sched *s, struct explore_verdict *v, void *arg)
{
    const char *program = arg;
    struct runner_job job = {.test = explore_target_test(s->target), .seed = s->seed};
    /* The worker is forked inside runner_sweep: it inherits `s`, passed as the body's argument. */
    struct runner_config config = {.workers = 1,
                                   .replay_cmd = program,
                                   .body_arg = s,
                                   .isolate = true,
                                   .capture_stderr = true,
                                   .job_cpu_s = SHRINK_REPLAY_CPU_S};
    struct forked_replay fr = {.program = program, .v = v};
    struct runner_stats stats;
    memset(v, 0, sizeof(*v));
    int rc = runner_sweep(&job, 1, &config, forked_deliver, &fr, &stats);
    if (rc != SIM_OK) return rc;
    return stats.delivered == 1 ? SIM_OK : SIM_EIO;
}

static void shrink_usage(FILE *out)
{
    fprintf(out,
            "usage: labsim shrink FILE [--out FILE] [--max-replays N]\n"
            "  Reduces a failing schedule (labsim explore --schedule-out) to a locally minimal\n"
            "  one that still fails the same check (a crash: at the same assertion or signal):\n"
            "  ends the run at the failure, drops fault kinds, faults and pairs of faults,\n"
            "  merges and shortens faults, fewer clients and operations, a shorter run. Each\n"
            "  replay runs in a child process (killed after %u s of CPU). At most N replays\n"
            "  (default %u).\n"
            "  --out FILE  where the shrunk schedule goes (default FILE.shrunk)\n",
            SHRINK_REPLAY_CPU_S, SHRINK_REPLAYS_DEFAULT);
}

/* "SAFETY leader-completeness", "SAFETY crash (assertion failed: x > y (raft/apply.c:42))". */
static void verdict_name(const struct explore_verdict *v, char *buf, size_t size)
{
    snprintf(buf, size, "%s %s%s%s%s", v->liveness ? "LIVENESS" : "SAFETY", v->check,
             v->site[0] != '\0' ? " (" : "", v->site, v->site[0] != '\0' ? ")" : "");
}

int cmd_shrink(const struct labsim_cli *cli, int argc, char **argv)
{
    const char *out_path = NULL;
    uint64_t replays_max = SHRINK_REPLAYS_DEFAULT;
    bool help = false;
    char err[ARGS_ERR_MAX];
    const struct args_flag flags[] = {
        {"out", ARGS_STR, &out_path, NULL},
        {"max-replays", ARGS_U64, &replays_max, NULL},
        {"help", ARGS_BOOL, &help, NULL},
    };
    const char *positional[1];
    size_t count = 0;
    if (args_parse(argc, argv, flags, 3, positional, 1, &count, err, sizeof(err)) != 0) {
        fprintf(stderr, "labsim shrink: %s\n", err);
        return EXPLORE_EXIT_BAD;
    }
    if (help) {
        shrink_usage(stdout);
        return 0;
    }
    if (count != 1 || replays_max < 1 || replays_max > SHRINK_REPLAYS_MAX) {
        fprintf(stderr, "labsim shrink: %s\n",
                count != 1 ? "missing FILE (a schedule)" : "--max-replays must be 1..100000");
        return EXPLORE_EXIT_BAD;
    }
    char default_out[4096];
    snprintf(default_out, sizeof(default_out), "%s.shrunk", positional[0]);
    if (out_path == NULL) out_path = default_out;
    if (args_check_writable(out_path, err, sizeof(err)) != 0) {
        fprintf(stderr, "labsim shrink: --out: %s\n", err);
        return EXPLORE_EXIT_BAD;
    }
    struct explore_sched s;
    char msg[EXPLORE_MSG_MAX + 64];
    if (explore_sched_load(positional[0], &s, msg, sizeof(msg)) != 0) {
        fprintf(stderr, "labsim shrink: %s\n", msg);
        return EXPLORE_EXIT_BAD;
    }
    struct explore_verdict v;
    if (replay_forked(&s, &v, (void *)cli->program) != SIM_OK || !v.failed) {
        fprintf(stderr, "labsim shrink: %s does not fail; nothing to shrink\n", positional[0]);
        return EXPLORE_EXIT_BAD;
    }
    size_t faults_before = s.faults_count;
    uint64_t ms_before = explore_sched_fault_ms(&s);
    uint32_t run_before = s.run_ms;
    char name[EXPLORE_CHECK_MAX + EXPLORE_SITE_MAX + 16];
    verdict_name(&v, name, sizeof(name));
    printf("shrinking %s: fails %s\n", positional[0], name);
    fflush(stdout);
    struct explore_shrink_opts opts = {.replays_max = (uint32_t)replays_max - 1u,
                                       .progress = stdout,
                                       .replay = replay_forked,
                                       .replay_arg = (void *)cli->program};
    struct explore_shrink_stats stats;
    explore_shrink(&s, &v, &opts, &stats);
    if (explore_sched_save(&s, out_path) != 0) {
        fprintf(stderr, "labsim shrink: cannot write '%s'\n", out_path);
        return EXPLORE_EXIT_BAD;
    }
    printf("shrunk: %zu -> %zu faults, %" PRIu64 " -> %" PRIu64 " fault-ms, run %" PRIu32
           " -> %" PRIu32 " ms, %d clients, %d ops, %u of %" PRIu64 " replays\n",
           faults_before, s.faults_count, ms_before, explore_sched_fault_ms(&s), run_before,
           s.run_ms, s.clients, s.ops, stats.replays + 1u, replays_max);
    printf("written to %s; replay: %s replay --schedule %s\n", out_path, cli->program, out_path);
    return 0;
}
