/* explore_run: one explorer run as a graded-harness run. The two targets are lab_tests outside
 * the graded registry whose body takes its schedule from opts->body_arg (a replay, a shrinking
 * step) or draws it from the run's seed (a sweep), copies it into memory the run owns and hands
 * it to the target's body. So `labsim explore` sweeps go through the same runner, worker
 * processes and failure reports as `labsim run`.
 */
#include <inttypes.h>
#include <stdio.h>
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
