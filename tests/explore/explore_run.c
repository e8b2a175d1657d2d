/* explore_run: one explorer run as a graded-harness run. The two targets are lab_tests outside
 * the graded registry whose body takes its schedule from opts->body_arg (a replay, a shrinking
 * step) or draws it from the run's seed (a sweep), copies it into memory the run owns and hands
 * it to the target's body. So `labsim explore` sweeps go through the same runner, worker
 * processes and failure reports as `labsim run`.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "explore_int.h"

static void body_common(struct lab_ctx *ctx, enum explore_target target)
{
    const struct explore_sched *given = lab_body_arg(ctx);
    struct explore_sched *s = lab_alloc(ctx, sizeof(*s));
    char hint[LAB_MSG_MAX];
    const char *program =
        lab_opts(ctx)->replay_cmd != NULL ? lab_opts(ctx)->replay_cmd : "build/labsim";
    if (s == NULL) {
        lab_fatalf(ctx, SIM_NODE_NONE, "out of memory for the schedule");
        return;
    }
    if (given != NULL) {
        SIM_ASSERT(lab_sim(ctx), SIM_NODE_NONE, given->target == target);
        SIM_ASSERT(lab_sim(ctx), SIM_NODE_NONE, given->seed == lab_seed(ctx));
        *s = *given;
        snprintf(hint, sizeof(hint), "%s replay --schedule <its schedule file>", program);
    } else {
        explore_sched_draw(s, target, lab_seed(ctx));
        snprintf(hint, sizeof(hint), "%s explore %s --seed %" PRIu64, program,
                 explore_target_name(target), lab_seed(ctx));
    }
    sim_set_replay_hint(lab_sim(ctx), hint);
    if (target == EXPLORE_RAFT)
        explore_raft_body(ctx, s);
    else if (target == EXPLORE_MR)
        explore_mr_body(ctx, s);
    else
        explore_kv_body(ctx, s);
}

static void body_raft(struct lab_ctx *ctx)
{
    body_common(ctx, EXPLORE_RAFT);
}

static void body_kvraft(struct lab_ctx *ctx)
{
    body_common(ctx, EXPLORE_KVRAFT);
}

const struct lab_test explore_raft_test = {"explore-raft", "explore", "the explorer's Raft target",
                                           body_raft};
const struct lab_test explore_kvraft_test = {"explore-kvraft", "explore",
                                             "the explorer's kvraft target", body_kvraft};

static void body_mr(struct lab_ctx *ctx)
{
    body_common(ctx, EXPLORE_MR);
}

const struct lab_test explore_mr_test = {"explore-mr", "explore", "the explorer's MapReduce target",
                                         body_mr};

const struct lab_test *explore_target_test(enum explore_target target)
{
    if (target == EXPLORE_MR) return &explore_mr_test;
    return target == EXPLORE_RAFT ? &explore_raft_test : &explore_kvraft_test;
}

/* The Raft and kvraft testers' own wording, mapped to the explorer's checks. */
struct known_message {
    const char *contains;
    const char *check;
};
static const struct known_message known_messages[] = {
    {"apply out of order", "apply-order"},
    {"committed values do not match", "state-machine-safety"},
    {"commit index=", "state-machine-safety"},
    {"(>1) leaders", "election-safety"},
    {"history is not linearizable", "linearizability"},
    {"in the code under test", "crash"},
};

void explore_classify(const char *message, struct explore_verdict *v)
{
    static const char safety[] = "SAFETY ";
    static const char liveness[] = "LIVENESS ";
    const char *rest = NULL;
    v->liveness = false;
    if (strncmp(message, safety, sizeof(safety) - 1) == 0) {
        rest = message + sizeof(safety) - 1;
    } else if (strncmp(message, liveness, sizeof(liveness) - 1) == 0) {
        rest = message + sizeof(liveness) - 1;
        v->liveness = true;
    }
    if (rest != NULL) {
        size_t len = strcspn(rest, ":");
        if (len >= EXPLORE_CHECK_MAX) len = EXPLORE_CHECK_MAX - 1;
        memcpy(v->check, rest, len);
        v->check[len] = '\0';
        return;
    }
    snprintf(v->check, sizeof(v->check), "harness");
    for (size_t k = 0; k < sizeof(known_messages) / sizeof(known_messages[0]); k++) {
        if (strstr(message, known_messages[k].contains) != NULL) {
            snprintf(v->check, sizeof(v->check), "%s", known_messages[k].check);
            return;
        }
    }
}

/* Copies the rest of the line at `from` (at most n bytes of it) into dst of dst_size. */
static void copy_line(char *dst, size_t dst_size, const char *from, size_t n)
{
    size_t len = strcspn(from, "\n");
    if (len > n) len = n;
    if (len >= dst_size) len = dst_size - 1;
    memcpy(dst, from, len);
    dst[len] = '\0';
}

/* The crash report lab_crash.c writes: "    at 2.371204s virtual, node 2: abort (signal 6) in
 * the code under test". Takes its time, node and signal; false when there is none. */
static bool crash_report_parse(const char *text, struct explore_verdict *v)
{
    static const char tail[] = " in the code under test";
    const char *end = strstr(text, tail);
    if (end == NULL) return false;
    const char *line = end;
    while (line > text && line[-1] != '\n')
        line--;
    const char *at = strstr(line, "at ");
    const char *colon = strstr(line, ": ");
    if (at == NULL || colon == NULL || colon > end || at > colon) return false;
    v->at_us = (sim_time_us)(strtod(at + 3, NULL) * (double)SIM_US_PER_S + 0.5);
    const char *node = strstr(line, ", node ");
    if (node != NULL && node < colon) v->node = atoi(node + strlen(", node "));
    copy_line(v->site, sizeof(v->site), colon + 2, (size_t)(end - colon - 2));
    copy_line(v->message, sizeof(v->message), colon + 2, SIZE_MAX);
    return true;
}

/* What killed the process, most telling first: an assertion, UBSan's location, ASan's error. */
static void crash_site_parse(const char *text, struct explore_verdict *v)
{
    const char *assertion = strstr(text, "assertion failed: ");
    const char *ubsan = strstr(text, ": runtime error");
    const char *asan = strstr(text, "ERROR: AddressSanitizer: ");
    if (assertion != NULL) {
        copy_line(v->site, sizeof(v->site), assertion, SIZE_MAX);
        copy_line(v->message, sizeof(v->message), assertion, SIZE_MAX);
    } else if (ubsan != NULL) {
        const char *line = ubsan;
        while (line > text && line[-1] != '\n')
            line--;
        copy_line(v->site, sizeof(v->site), line,
                  (size_t)(ubsan - line) + strlen(": runtime error"));
    } else if (asan != NULL) {
        /* "ERROR: AddressSanitizer: heap-use-after-free on address 0x...": up to " on ". */
        const char *kind = asan + strlen("ERROR: ");
        const char *on = strstr(kind, " on ");
        size_t len = strcspn(kind, "\n");
        if (on != NULL && (size_t)(on - kind) < len) len = (size_t)(on - kind);
        copy_line(v->site, sizeof(v->site), kind, len);
    }
}

void explore_classify_crash(const char *how, const char *text, struct explore_verdict *v)
{
    memset(v, 0, sizeof(*v));
    v->failed = true;
    v->node = SIM_NODE_NONE;
    snprintf(v->check, sizeof(v->check), "crash");
    snprintf(v->site, sizeof(v->site), "%s", how != NULL ? how : "the run died");
    snprintf(v->message, sizeof(v->message), "the run's process %s", how != NULL ? how : "died");
    if (text == NULL) return;
    crash_report_parse(text, v);
    crash_site_parse(text, v);
}

bool explore_verdict_same(const struct explore_verdict *want, const struct explore_verdict *got)
{
    return want->failed && got->failed && want->liveness == got->liveness &&
           strcmp(want->check, got->check) == 0 && strcmp(want->site, got->site) == 0;
}

int explore_replay_here(const struct explore_sched *s, struct explore_verdict *v, void *arg)
{
    (void)arg;
    return explore_run(s, NULL, NULL, v);
}

int explore_run(const struct explore_sched *s, FILE *out, const char *replay_cmd,
                struct explore_verdict *v)
{
    struct lab_opts opts = {.out = out, .replay_cmd = replay_cmd, .body_arg = s};
    struct lab_result result;
    memset(v, 0, sizeof(*v));
    int rc = lab_run(explore_target_test(s->target), s->seed, &opts, &result);
    if (rc == SIM_ENOMEM || rc == SIM_EINVAL) return rc;
    v->digest = result.digest;
    v->failed = result.outcome == LAB_FAIL;
    if (!v->failed) return SIM_OK;
    v->at_us = result.fail_at_us;
    v->node = result.fail_node;
    snprintf(v->message, sizeof(v->message), "%s", result.message);
    explore_classify(result.message, v);
    return SIM_OK;
}
