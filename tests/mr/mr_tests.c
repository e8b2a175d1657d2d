/* mr_tests: the seven sections of 6.5840's src/main/test-mr.sh (2024) as graded tests, part
 * "1", in the script's order, with its steps, pass conditions and messages. The script's
 * process limits (`timeout 45s`, `timeout 120s` for the crash test) are virtual-time limits on
 * each process, counted from its start; a killed process counts as exited for the script's
 * `wait`s, as a killed shell job does.
 *
 * Each test prints the script's own lines ("*** Starting wc test.", "--- wc test: PASS" or the
 * failure lines) around the usual "Test (1): ..." / "... Passed --" lines; the Passed line's
 * numbers are the processes started and the RPCs sent. A failure ends the test with the
 * script's message (the first one when the script prints several).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mr_tests.h"

/* "sleep 1" in the script: the coordinator gets time to create its socket. */
#define MR_SCRIPT_SLEEP_US SIM_S(1)
#define MR_CRASH_LOOPS 3

static struct mr_cfg *mr_begin(struct lab_ctx *ctx, const char *section)
{
    lab_begin(ctx, section);
    struct mr_cfg *cfg = mr_cfg_make(ctx);
    mr_cfg_say(cfg, "*** Starting %s test.", section);
    return cfg;
}

static void mr_pass(struct mr_cfg *cfg, const char *section)
{
    struct lab_ctx *ctx = mr_cfg_ctx(cfg);
    char counts[64];
    mr_cfg_say(cfg, "--- %s test: PASS", section);
    snprintf(counts, sizeof(counts), "%u  %5llu", (unsigned)mr_cfg_procs_started(cfg),
             (unsigned long long)mr_cfg_rpcs(cfg));
    lab_passed(ctx, (double)sim_now_us(lab_sim(ctx)) / (double)SIM_US_PER_S, counts);
}

static void mr_check_output(struct mr_cfg *cfg, const char *section, const struct mr_lines *want,
                            const char *correct_file)
{
    char why[256] = "";
    if (mr_cfg_outputs_match(cfg, want, why, sizeof(why))) return;
    mr_cfg_say(cfg, "--- %s output is not the same as %s", section, correct_file);
    mr_cfg_say(cfg, "--- %s test: FAIL", section);
    lab_fatalf(mr_cfg_ctx(cfg), SIM_NODE_NONE, "%s output is not the same as %s: %s", section,
               correct_file, why);
}

/* Coordinator, "sleep 1". */
static struct mr_proc *mr_start_job(struct mr_cfg *cfg, sim_time_us limit_us)
{
    struct mr_proc *coordinator = mr_cfg_start_coordinator(cfg, limit_us);
    sim_sleep_us(mr_cfg_sim(cfg), MR_SCRIPT_SLEEP_US);
    return coordinator;
}

/* ---------------------------------------------------------------- 1. wc */

void mr_test_wc(struct lab_ctx *ctx)
{
    struct mr_cfg *cfg = mr_begin(ctx, "wc");
    const struct mr_lines *want = mr_cfg_sequential(cfg, "wc");
    struct mr_proc *coordinator = mr_start_job(cfg, MR_TIMEOUT_US);
    for (int slot = 1; slot <= 3; slot++)
        mr_cfg_start_worker(cfg, slot, "wc", MR_TIMEOUT_US);
    /* Workers exit only when the job is done, so the coordinator's exit means it is. */
    mr_cfg_wait(cfg, coordinator);
    mr_check_output(cfg, "wc", want, "mr-correct-wc.txt");
    mr_cfg_wait_all(cfg);
    mr_pass(cfg, "wc");
}

/* ---------------------------------------------------------------- 2. indexer */

void mr_test_indexer(struct lab_ctx *ctx)
{
    struct mr_cfg *cfg = mr_begin(ctx, "indexer");
    const struct mr_lines *want = mr_cfg_sequential(cfg, "indexer");
    mr_start_job(cfg, MR_TIMEOUT_US);
    mr_cfg_start_worker(cfg, 1, "indexer", MR_TIMEOUT_US);
    struct mr_proc *foreground = mr_cfg_start_worker(cfg, 2, "indexer", MR_TIMEOUT_US);
    mr_cfg_wait(cfg, foreground);
    mr_check_output(cfg, "indexer", want, "mr-correct-indexer.txt");
    mr_cfg_wait_all(cfg);
    mr_pass(cfg, "indexer");
}

/* ---------------------------------------------------------------- 3. map parallelism */

/* The parallelism tests' pattern: coordinator, "sleep 1", one worker in the background and
 * one in the foreground; then `cat mr-out*` once the foreground one exited. */
static void mr_two_workers(struct mr_cfg *cfg, const char *app, struct mr_lines *out)
{
    mr_start_job(cfg, MR_TIMEOUT_US);
    mr_cfg_start_worker(cfg, 1, app, MR_TIMEOUT_US);
    mr_cfg_wait(cfg, mr_cfg_start_worker(cfg, 2, app, MR_TIMEOUT_US));
    mr_cfg_outputs_raw(cfg, out);
}

static size_t lines_with_prefix(const struct mr_lines *l, const char *prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < l->count; i++)
        n += strncmp(l->lines[i], prefix, strlen(prefix)) == 0;
    return n;
}

/* grep '^parallel.* 2': starts with "parallel" and holds " 2" somewhere after. */
static bool some_parallel_2(const struct mr_lines *l)
{
    for (size_t i = 0; i < l->count; i++)
        if (strncmp(l->lines[i], "parallel", 8) == 0 && strstr(l->lines[i] + 8, " 2") != NULL)
            return true;
    return false;
}

void mr_test_map_parallelism(struct lab_ctx *ctx)
{
    struct mr_cfg *cfg = mr_begin(ctx, "map parallelism");
    struct mr_lines out;
    mr_two_workers(cfg, "mtiming", &out);
    size_t times = lines_with_prefix(&out, "times-");
    bool parallel = some_parallel_2(&out);
    mr_lines_free(&out);
    char first[128] = "";
    if (times != 2) {
        mr_cfg_say(cfg, "--- saw %zu workers rather than 2", times);
        mr_cfg_say(cfg, "--- map parallelism test: FAIL");
        snprintf(first, sizeof(first), "saw %zu workers rather than 2", times);
    }
    if (!parallel) {
        mr_cfg_say(cfg, "--- map workers did not run in parallel");
        mr_cfg_say(cfg, "--- map parallelism test: FAIL");
        if (first[0] == '\0') snprintf(first, sizeof(first), "map workers did not run in parallel");
    } else if (times != 2) {
        mr_cfg_say(cfg, "--- map parallelism test: PASS"); /* the script prints both */
    }
    if (first[0] != '\0') lab_fatalf(ctx, SIM_NODE_NONE, "%s", first);
    mr_cfg_wait_all(cfg);
    mr_pass(cfg, "map parallelism");
}

/* ---------------------------------------------------------------- 4. reduce parallelism */

/* grep '^[a-z] 2' */
static size_t lines_letter_2(const struct mr_lines *l)
{
    size_t n = 0;
    for (size_t i = 0; i < l->count; i++) {
        const char *s = l->lines[i];
        n += s[0] >= 'a' && s[0] <= 'z' && s[1] == ' ' && s[2] == '2';
    }
    return n;
}

void mr_test_reduce_parallelism(struct lab_ctx *ctx)
{
    struct mr_cfg *cfg = mr_begin(ctx, "reduce parallelism");
    struct mr_lines out;
    mr_two_workers(cfg, "rtiming", &out);
    size_t nt = lines_letter_2(&out);
    mr_lines_free(&out);
    if (nt < 2) {
        mr_cfg_say(cfg, "--- too few parallel reduces.");
        mr_cfg_say(cfg, "--- reduce parallelism test: FAIL");
        lab_fatalf(ctx, SIM_NODE_NONE, "too few parallel reduces (%zu lines '^[a-z] 2')", nt);
    }
    mr_cfg_wait_all(cfg);
    mr_pass(cfg, "reduce parallelism");
}

/* ---------------------------------------------------------------- 5. job count */

/* NT=`cat mr-out* | awk '{print $2}'`; [ "$NT" -eq "8" ]: the second field of every line,
 * joined by newlines, trailing newlines stripped, must be the integer 8. */
static bool job_count_is_8(const struct mr_lines *raw, char *nt, size_t nt_size)
{
    size_t at = 0;
    nt[0] = '\0';
    for (size_t i = 0; i < raw->count; i++) {
        const char *s = raw->lines[i];
        while (*s == ' ' || *s == '\t')
            s++;
        while (*s != '\0' && *s != ' ' && *s != '\t')
            s++;
        while (*s == ' ' || *s == '\t')
            s++;
        size_t n = strcspn(s, " \t");
        int w = snprintf(nt + at, nt_size - at, "%s%.*s", i > 0 ? "\n" : "", (int)n, s);
        if (w < 0 || (size_t)w >= nt_size - at) break;
        at += (size_t)w;
    }
    while (at > 0 && nt[at - 1] == '\n')
        nt[--at] = '\0';
    return strcmp(nt, "8") == 0;
}

void mr_test_job_count(struct lab_ctx *ctx)
{
    struct mr_cfg *cfg = mr_begin(ctx, "job count");
    mr_start_job(cfg, MR_TIMEOUT_US);
    mr_cfg_start_worker(cfg, 1, "jobcount", MR_TIMEOUT_US);
    mr_cfg_wait(cfg, mr_cfg_start_worker(cfg, 2, "jobcount", MR_TIMEOUT_US));
    mr_cfg_start_worker(cfg, 3, "jobcount", MR_TIMEOUT_US);
    mr_cfg_wait(cfg, mr_cfg_start_worker(cfg, 4, "jobcount", MR_TIMEOUT_US));
    struct mr_lines raw;
    char nt[128];
    mr_cfg_outputs_raw(cfg, &raw);
    bool ok = job_count_is_8(&raw, nt, sizeof(nt));
    mr_lines_free(&raw);
    if (!ok) {
        mr_cfg_say(cfg, "--- map jobs ran incorrect number of times (%s != 8)", nt);
        mr_cfg_say(cfg, "--- job count test: FAIL");
        lab_fatalf(ctx, SIM_NODE_NONE, "map jobs ran incorrect number of times (%s != 8)", nt);
    }
    mr_cfg_wait_all(cfg);
    mr_pass(cfg, "job count");
}

/* ---------------------------------------------------------------- 6. early exit */

void mr_test_early_exit(struct lab_ctx *ctx)
{
    struct mr_cfg *cfg = mr_begin(ctx, "early exit");
    mr_start_job(cfg, MR_TIMEOUT_US);
    for (int slot = 1; slot <= 3; slot++)
        mr_cfg_start_worker(cfg, slot, "early_exit", MR_TIMEOUT_US);
    /* wait -n: the first of the four processes to exit; the output must be final by then. */
    mr_cfg_wait_any(cfg);
    struct mr_lines initial;
    struct mr_lines final;
    mr_cfg_outputs(cfg, &initial);
    mr_cfg_wait_all(cfg);
    mr_cfg_outputs(cfg, &final);
    size_t at = 0;
    bool same = mr_lines_equal(&final, &initial, &at);
    size_t initial_count = initial.count;
    size_t final_count = final.count;
    mr_lines_free(&initial);
    mr_lines_free(&final);
    if (!same) {
        mr_cfg_say(cfg, "--- output changed after first worker exited");
        mr_cfg_say(cfg, "--- early exit test: FAIL");
        lab_fatalf(ctx, SIM_NODE_NONE,
                   "output changed after first worker exited (%zu lines then, %zu at the end, "
                   "first difference at line %zu)",
                   initial_count, final_count, at + 1);
    }
    mr_pass(cfg, "early exit");
}

/* ---------------------------------------------------------------- 7. crash */

struct crash_loop {
    struct mr_cfg *cfg;
    const struct mr_proc *coordinator;
    int slot;
    struct lab_waitgroup *wg;
};

/* while [ -e $SOCKNAME -a ! -f mr-done ]; do crash worker; sleep 1; done. The socket file
 * stays until the script removes it at the end, so the loop runs while the coordinator has
 * not exited (mr-done is touched when it does). */
static void crash_loop_main(struct sim *sim, void *arg)
{
    struct crash_loop *loop = arg;
    while (!mr_proc_ended(loop->coordinator)) {
        struct mr_proc *worker =
            mr_cfg_start_worker(loop->cfg, loop->slot, "crash", MR_TIMEOUT2_US);
        mr_cfg_wait(loop->cfg, worker);
        sim_sleep_us(sim, MR_SCRIPT_SLEEP_US);
    }
    lab_waitgroup_done(sim, loop->wg);
}

void mr_test_crash(struct lab_ctx *ctx)
{
    struct mr_cfg *cfg = mr_begin(ctx, "crash");
    const struct mr_lines *want = mr_cfg_sequential(cfg, "nocrash");
    struct mr_proc *coordinator = mr_start_job(cfg, MR_TIMEOUT2_US);
    mr_cfg_start_worker(cfg, 1, "crash", MR_TIMEOUT2_US);
    struct lab_waitgroup wg;
    struct crash_loop loops[MR_CRASH_LOOPS];
    lab_waitgroup_init(&wg);
    lab_waitgroup_add(&wg, MR_CRASH_LOOPS);
    for (int i = 0; i < MR_CRASH_LOOPS; i++) {
        loops[i] = (struct crash_loop){cfg, coordinator, 2 + i, &wg};
        lab_go(ctx, "crash-loop", crash_loop_main, &loops[i]);
    }
    lab_waitgroup_wait(lab_sim(ctx), &wg);
    mr_cfg_wait_all(cfg);
    mr_check_output(cfg, "crash", want, "mr-correct-crash.txt");
    mr_pass(cfg, "crash");
}
