/* check_explore: the explorer (tests/explore/, tools/cmd_explore.c).
 *  - schedules: every drawn schedule is in bounds and its file parses back to the same text;
 *    over many seeds the swarm gives calm runs and storms, and every fault kind is on in some
 *    runs and off in others; bad files get one-line errors naming the line;
 *  - runs: a seed's run and the run of its schedule file are the same run (digest); each fault
 *    kind happens and has its effect, seen in the run's traced events (a one-way cut passes
 *    messages one way only, a duplicate runs a handler twice, ...); clock drift scales a node's
 *    timers and nobody else's;
 *  - the checker flags fabricated bad states, one per check, naming check and node;
 *  - end to end: a Raft with a planted bug (votes granted without the up-to-date check), built
 *    in a scratch directory, is caught by `labsim explore`; `labsim shrink` reduces the failing
 *    schedule to at most a fifth of its faults (or at most 3) and the shrunk schedule replays
 *    to the same check; the CLI's bad input gives exit status 3 and one line.
 */
#include <check.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "check_util.h"
#include "explore_int.h"
#include "labrpc.h"
#include "mr_cfg.h"

#define EX_SEEDS 300
#define EX_BUILD_TIMEOUT_S 900
#define EX_RUN_TIMEOUT_S 600

/* ---------------------------------------------------------------- schedules */

static char *sched_text(const struct explore_sched *s, size_t *len)
{
    char *text = NULL;
    FILE *out = open_memstream(&text, len);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(explore_sched_write(s, out), 0);
    ck_assert_int_eq(fclose(out), 0);
    return text;
}

START_TEST(test_explore_sched_round_trip)
{
    char msg[EXPLORE_MSG_MAX];
    struct explore_sched s;
    struct explore_sched back;
    for (uint64_t seed = 1; seed <= EX_SEEDS; seed++) {
        explore_sched_draw(&s, (enum explore_target)(seed % 3), seed); /* raft, kvraft, mr */
        ck_assert_msg(explore_sched_validate(&s, msg, sizeof(msg)) == 0, "seed %" PRIu64 ": %s",
                      seed, msg);
        size_t len = 0;
        size_t len2 = 0;
        char *text = sched_text(&s, &len);
        ck_assert_msg(explore_sched_parse(text, len, &back, msg, sizeof(msg)) == 0, "%s", msg);
        char *text2 = sched_text(&back, &len2);
        ck_assert_str_eq(text, text2);
        ck_assert_uint_eq(back.faults_count, s.faults_count);
        ck_assert_uint_eq(back.seed, seed);
        free(text);
        free(text2);
    }
}
END_TEST

START_TEST(test_explore_swarm_calm_and_storm)
{
    struct explore_sched s;
    int calm = 0;
    int storm = 0;
    int on[EXPLORE_FAULT_KINDS] = {0};
    for (uint64_t seed = 1; seed <= EX_SEEDS; seed++) {
        bool kind_on[EXPLORE_FAULT_KINDS] = {false};
        explore_sched_draw(&s, EXPLORE_RAFT, seed);
        calm += s.faults_count <= 2;
        storm += s.faults_count >= 20;
        for (size_t k = 0; k < s.faults_count; k++)
            kind_on[s.faults[k].kind] = true;
        for (int k = 0; k < EXPLORE_FAULT_KINDS; k++)
            on[k] += kind_on[k];
    }
    /* Both kinds of run are common, not corner cases of the draw. */
    ck_assert_int_ge(calm, EX_SEEDS / 20);
    ck_assert_int_ge(storm, EX_SEEDS / 20);
    ck_assert_int_eq(on[EXPLORE_STALL], 0); /* the mr target's (test_explore_mr_swarm) */
    for (int k = 0; k < EXPLORE_FAULT_KINDS; k++) {
        if (k == EXPLORE_STALL) continue;
        ck_assert_msg(on[k] > EX_SEEDS / 10, "%s is on in only %d runs",
                      explore_fault_name((enum explore_fault_kind)k), on[k]);
        ck_assert_msg(on[k] < EX_SEEDS - EX_SEEDS / 10, "%s is on in %d runs of %d",
                      explore_fault_name((enum explore_fault_kind)k), on[k], EX_SEEDS);
    }
}
END_TEST

START_TEST(test_explore_mr_swarm)
{
    /* Goal: the mr target's draw: only its fault kinds, each on in some runs and off in others,
     * crashes and stalls on workers only, and stalls both shorter and longer than the
     * coordinator's 10 s re-issue timeout (the long ones run a task twice). */
    static const enum explore_fault_kind kinds[] = {EXPLORE_CRASH, EXPLORE_STALL, EXPLORE_DROP,
                                                    EXPLORE_DUP,   EXPLORE_DELAY, EXPLORE_REORDER};
    struct explore_sched s;
    int on[EXPLORE_FAULT_KINDS] = {0};
    int stalls_long = 0;
    int stalls_short = 0;
    for (uint64_t seed = 1; seed <= EX_SEEDS; seed++) {
        bool kind_on[EXPLORE_FAULT_KINDS] = {false};
        explore_sched_draw(&s, EXPLORE_MR, seed);
        ck_assert(s.ops >= 1 && s.ops <= EXPLORE_MR_INPUTS_MAX);
        for (size_t k = 0; k < s.faults_count; k++) {
            const struct explore_fault *f = &s.faults[k];
            kind_on[f->kind] = true;
            if (f->kind == EXPLORE_CRASH || f->kind == EXPLORE_STALL)
                ck_assert(f->node >= 1 && f->node < s.servers);
            stalls_long += f->kind == EXPLORE_STALL && f->for_ms > 10000;
            stalls_short += f->kind == EXPLORE_STALL && f->for_ms < 10000;
        }
        for (int k = 0; k < EXPLORE_FAULT_KINDS; k++)
            on[k] += kind_on[k];
    }
    int mr_on = 0;
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        ck_assert_msg(on[kinds[k]] > EX_SEEDS / 10, "%s is on in only %d runs",
                      explore_fault_name(kinds[k]), on[kinds[k]]);
        ck_assert_msg(on[kinds[k]] < EX_SEEDS - EX_SEEDS / 10, "%s is on in %d runs",
                      explore_fault_name(kinds[k]), on[kinds[k]]);
        mr_on += on[kinds[k]];
    }
    int all_on = 0;
    for (int k = 0; k < EXPLORE_FAULT_KINDS; k++)
        all_on += on[k];
    ck_assert_int_eq(all_on, mr_on); /* no other kind is ever drawn */
    ck_assert_int_gt(stalls_long, EX_SEEDS / 10);
    ck_assert_int_gt(stalls_short, EX_SEEDS / 10);
}
END_TEST

struct bad_case {
    const char *text;
    const char *want; /* a substring of the message */
};

static const char ok_head[] = "labsim-schedule 1\ntarget raft\nseed 1\n";

START_TEST(test_explore_sched_bad_files)
{
    static const struct bad_case cases[] = {
        {"", "line 0: empty schedule"},
        {"target raft\n", "line 1: expected 'labsim-schedule 1' first"},
        {"labsim-schedule 2\n", "line 1: unsupported version '2'"},
        {"labsim-schedule 1\nseed 1\n", "no 'target' line"},
        {"labsim-schedule 1\ntarget raft\n", "no 'seed' line"},
        {"labsim-schedule 1\ntarget paxos\n", "line 2: unknown target 'paxos'"},
        {"labsim-schedule 1\ntarget raft\nseed x\n", "line 3: seed needs a number"},
        {"labsim-schedule 1\ntarget raft\nseed 1\nservers 9\n",
         "line 4: servers needs a number in 3..7"},
        {"labsim-schedule 1\ntarget raft\nseed 1\nseed 2\n", "line 4: seed given twice"},
        {"labsim-schedule 1\ntarget raft\nseed 1\ncolour red\n", "line 4: unknown key 'colour'"},
        {"labsim-schedule 1\ntarget raft\nseed 1\nfault 10 10 meteor\n",
         "line 4: unknown fault kind 'meteor'"},
        {"labsim-schedule 1\ntarget raft\nseed 1\nfault 10 10 crash\n", "line 4: missing node="},
        {"labsim-schedule 1\ntarget raft\nseed 1\nfault 10 10 crash node=1 node=2\n",
         "line 4: unexpected 'node=2'"},
        {"labsim-schedule 1\ntarget raft\nseed 1\nfault 10 10 partition a=0,0\n",
         "line 4: a= needs server ids"},
        {"labsim-schedule 1\ntarget raft\nseed 1\nfault 10 0 drop\n", "line 4: AT_MS and FOR_MS"},
        {"labsim-schedule 1\ntarget raft\nseed 1\nfault 10 10 crash-new-leader\n",
         "line 4: missing after-ms="},
        {"labsim-schedule 1\ntarget raft\nseed 1\nfault 10 10 crash-new-leader after-ms=9000\n",
         "line 4: after-ms= needs a number in 0..5000"},
        {"labsim-schedule 1\ntarget raft\nseed 1\nfault 10 10 crash-leader node=1\n",
         "line 4: unexpected 'node=1'"},
        {"labsim-schedule 1\ntarget raft\nseed 1\nfault 10 10 crash node=5\n",
         "fault 1 (crash): node= out of range"},
        {"labsim-schedule 1\ntarget raft\nseed 1\nfault 10 10 partition a=0,1,2\n",
         "needs servers on both sides"},
        {"labsim-schedule 1\ntarget raft\nseed 1\nfault 10 10 oneway a=0 b=0,1\n",
         "a= and b= overlap"},
        {"labsim-schedule 1\ntarget raft\nseed 1\nfault 10 10 bridge a=0 b=1,2\n",
         "needs a server in neither"},
        {"labsim-schedule 1\ntarget raft\nseed 1\nfault 10 10 drift node=0 ppm=60000\n",
         "ppm= needs a number"},
        {"labsim-schedule 1\ntarget raft\nseed 1\nfault 30000 10 drop\n",
         "starts at or after run-ms"},
        {"labsim-schedule 1\ntarget raft\nseed 1\nfault 1 2 drop x x x x x x x\n",
         "too many words"},
        {"labsim-schedule 1\ntarget raft\nseed 1\nfault 10 10 stall node=1\n",
         "stall is a fault of the mr target"},
        {"labsim-schedule 1\ntarget raft\nseed 1\napp indexer\n",
         "app is a parameter of the mr target"},
        {"labsim-schedule 1\ntarget mr\nseed 1\napp grep\n", "line 4: unknown app 'grep'"},
        {"labsim-schedule 1\ntarget mr\nseed 1\nops 9\n", "ops (mr: input files) must be 1..8"},
        {"labsim-schedule 1\ntarget mr\nseed 1\ninterval-ms 50\n", "must be 1..10"},
        {"labsim-schedule 1\ntarget mr\nseed 1\nfault 10 10 crash node=0\n",
         "node= must be a worker, 1..2"},
        {"labsim-schedule 1\ntarget mr\nseed 1\nfault 10 10 stall node=3\n",
         "node= must be a worker, 1..2"},
        {"labsim-schedule 1\ntarget mr\nseed 1\nfault 10 10 crash-leader\n",
         "not a fault of the mr target"},
    };
    char msg[EXPLORE_MSG_MAX];
    struct explore_sched s;
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        int rc = explore_sched_parse(cases[k].text, strlen(cases[k].text), &s, msg, sizeof(msg));
        ck_assert_msg(rc == -1, "case %zu parsed", k);
        ck_assert_msg(strstr(msg, cases[k].want) != NULL, "case %zu: '%s' lacks '%s'", k, msg,
                      cases[k].want);
        ck_assert_msg(strncmp(msg, "line ", 5) == 0, "case %zu: '%s' names no line", k, msg);
        ck_assert_ptr_null(strchr(msg, '\n'));
    }
    /* A long line, a NUL byte, and one more fault than the bound. */
    char line[EXPLORE_LINE_MAX + 64];
    memset(line, 'x', sizeof(line));
    memcpy(line, ok_head, sizeof(ok_head) - 1);
    ck_assert_int_eq(explore_sched_parse(line, sizeof(line), &s, msg, sizeof(msg)), -1);
    ck_assert_ptr_nonnull(strstr(msg, "line 4: longer than"));
    ck_assert_int_eq(explore_sched_parse("labsim-schedule 1\n\0", 19, &s, msg, sizeof(msg)), -1);
    ck_assert_ptr_nonnull(strstr(msg, "line 2: contains a NUL byte"));
    size_t cap = 64u * (EXPLORE_FAULTS_MAX + 2);
    char *many = malloc(cap);
    ck_assert_ptr_nonnull(many);
    size_t len = (size_t)snprintf(many, cap, "%s", ok_head);
    for (unsigned k = 0; k <= EXPLORE_FAULTS_MAX; k++)
        len += (size_t)snprintf(many + len, cap - len, "fault 1 1 drop\n");
    ck_assert_int_eq(explore_sched_parse(many, len, &s, msg, sizeof(msg)), -1);
    ck_assert_ptr_nonnull(strstr(msg, "more than 256 faults"));
    free(many);
}
END_TEST

/* ---------------------------------------------------------------- runs */

START_TEST(test_explore_seed_equals_schedule)
{
    static const struct {
        enum explore_target target;
        uint64_t seed;
    } runs[] = {{EXPLORE_RAFT, 1}, {EXPLORE_RAFT, 5}, {EXPLORE_KVRAFT, 2}, {EXPLORE_MR, 2}};
    for (size_t k = 0; k < sizeof(runs) / sizeof(runs[0]); k++) {
        struct lab_result from_seed;
        struct explore_sched s;
        struct explore_sched parsed;
        struct explore_verdict v;
        char msg[EXPLORE_MSG_MAX];
        size_t len = 0;
        ck_assert_int_eq(
            lab_run(explore_target_test(runs[k].target), runs[k].seed, NULL, &from_seed), SIM_OK);
        explore_sched_draw(&s, runs[k].target, runs[k].seed);
        char *text = sched_text(&s, &len);
        ck_assert_int_eq(explore_sched_parse(text, len, &parsed, msg, sizeof(msg)), 0);
        free(text);
        ck_assert_int_eq(explore_run(&parsed, NULL, NULL, &v), SIM_OK);
        ck_assert_msg(v.digest == from_seed.digest,
                      "run %zu: seed digest %016" PRIx64 ", file %016" PRIx64, k, from_seed.digest,
                      v.digest);
        ck_assert(!v.failed);
        ck_assert_int_eq(from_seed.outcome, LAB_PASS);
    }
}
END_TEST

/* Traced network events of one run, counted by (kind, caller node, server) inside the fault's
 * window [from_us, to_us) and before it. */
struct ex_counts {
    sim_time_us from_us;
    sim_time_us to_us;
    uint64_t reply_in[EXPLORE_SERVERS_MAX][EXPLORE_SERVERS_MAX]; /* [caller][server] */
    uint64_t cut_in[EXPLORE_SERVERS_MAX][EXPLORE_SERVERS_MAX];
    uint64_t drops_in;
    uint64_t drops_before;
    uint64_t dups_in;
    uint64_t dups_before;
    uint64_t held_in;
    uint64_t crashes_in[EXPLORE_SERVERS_MAX];
    uint64_t starts_after[EXPLORE_SERVERS_MAX];
    sim_time_us sent_us[1u << 16]; /* by call id (mod) */
    sim_time_us latency_in_max_us;
    sim_time_us latency_before_max_us;
    int32_t drift_in_max_ppm[EXPLORE_SERVERS_MAX];  /* sim_node_drift_ppm seen in the window */
    int32_t drift_out_max_ppm[EXPLORE_SERVERS_MAX]; /* ... and outside it */
};

static void ex_count_net(struct ex_counts *c, const struct sim_trace_rec *rec, bool in, bool before)
{
    const char *name = rec->kind->name;
    int node = rec->node;
    int server = (int)rec->v[1];
    bool pair =
        node >= 0 && node < EXPLORE_SERVERS_MAX && server >= 0 && server < EXPLORE_SERVERS_MAX;
    if (strcmp(name, "rpc.send") == 0) c->sent_us[rec->v[0] & 0xffff] = rec->at_us;
    if (strcmp(name, "rpc.reply") == 0 && in && pair) c->reply_in[node][server]++;
    if (strcmp(name, "rpc.reply") == 0 && in && rec->v[3] > 0) c->held_in++;
    if (strcmp(name, "rpc.drop_reply") == 0 && in && pair && rec->v[2] == 1)
        c->cut_in[node][server]++;
    bool drop = strcmp(name, "rpc.drop_req") == 0 ||
                (strcmp(name, "rpc.drop_reply") == 0 && rec->v[2] == 0);
    c->drops_in += drop && in;
    c->drops_before += drop && before;
    if (strcmp(name, "rpc.deliver") == 0) {
        c->dups_in += rec->v[3] == 1 && in;
        c->dups_before += rec->v[3] == 1 && before;
        sim_time_us latency_us = rec->at_us - c->sent_us[rec->v[0] & 0xffff];
        if (in && rec->v[3] == 0 && latency_us > c->latency_in_max_us)
            c->latency_in_max_us = latency_us;
        if (before && latency_us > c->latency_before_max_us) c->latency_before_max_us = latency_us;
    }
}

static void ex_count(struct sim *sim, const struct sim_trace_rec *rec, void *arg)
{
    struct ex_counts *c = arg;
    /* Messages already on their way when the fault began settle first. */
    bool in = rec->at_us >= c->from_us + SIM_MS(300) && rec->at_us < c->to_us;
    bool before = rec->at_us < c->from_us;
    bool node_ok = rec->node >= 0 && rec->node < EXPLORE_SERVERS_MAX;
    bool window = rec->at_us >= c->from_us && rec->at_us < c->to_us;
    if (strcmp(rec->kind->name, "cfg.crash") == 0 && window && node_ok) c->crashes_in[rec->node]++;
    if (strcmp(rec->kind->name, "cfg.start") == 0 && rec->at_us >= c->to_us && node_ok)
        c->starts_after[rec->node]++;
    ex_count_net(c, rec, in, before);
    /* The fault's own begin and end events are traced just before they take effect. */
    bool outside = rec->at_us < c->from_us || rec->at_us > c->to_us;
    for (int i = 0; i < EXPLORE_SERVERS_MAX && (window || outside); i++) {
        int32_t *max = window ? &c->drift_in_max_ppm[i] : &c->drift_out_max_ppm[i];
        if (sim_node_drift_ppm(sim, i) > *max) *max = sim_node_drift_ppm(sim, i);
    }
}

/* Runs a 3-server Raft schedule with `fault` over [2 s, 8 s) of a 10 s run, counting events. */
static void ex_run_fault(const char *fault, struct ex_counts *c)
{
    char text[512];
    char msg[EXPLORE_MSG_MAX];
    struct explore_sched s;
    int len =
        snprintf(text, sizeof(text),
                 "labsim-schedule 1\ntarget raft\nseed 3\nservers 3\nops 150\ninterval-ms 50\n"
                 "run-ms 10000\nfault 2000 6000 %s\n",
                 fault);
    ck_assert_msg(explore_sched_parse(text, (size_t)len, &s, msg, sizeof(msg)) == 0, "%s", msg);
    memset(c, 0, sizeof(*c));
    c->from_us = SIM_MS(2000);
    c->to_us = SIM_MS(8000);
    struct lab_opts opts = {.body_arg = &s};
    struct lab_session *session = NULL;
    ck_assert_int_eq(lab_session_start(&explore_raft_test, s.seed, &opts, &session), SIM_OK);
    sim_trace_set_stream(lab_session_sim(session), SIM_TOPICS_ALL, ex_count, c);
    lab_session_run(session, NULL, NULL);
    struct lab_result result;
    ck_assert_int_eq(lab_session_finish(session, &result), SIM_OK);
    ck_assert_msg(result.outcome == LAB_PASS, "%s: %s", fault, result.message);
}

START_TEST(test_explore_fault_oneway_and_partitions)
{
    struct ex_counts *c = calloc(1, sizeof(*c));
    ck_assert_ptr_nonnull(c);
    /* One way: nothing from 0 reaches 1 or 2 (no reply to 0's calls, the others' calls to 0
     * have their replies cut), while their requests still reach 0's handlers (the cut replies
     * were answered by a handler that ran). Whoever leads, the others call 0. */
    ex_run_fault("oneway a=0 b=1,2", c);
    ck_assert_uint_eq(c->reply_in[0][1] + c->reply_in[0][2], 0);
    ck_assert_uint_eq(c->reply_in[1][0] + c->reply_in[2][0], 0);
    ck_assert_uint_gt(c->cut_in[1][0] + c->cut_in[2][0], 0);
    ck_assert_uint_eq(c->cut_in[0][1] + c->cut_in[0][2], 0);
    ck_assert_uint_gt(c->reply_in[1][2] + c->reply_in[2][1], 0);
    /* A full partition: 0 alone, 1 and 2 still talk. */
    ex_run_fault("partition a=0", c);
    ck_assert_uint_eq(c->reply_in[0][1] + c->reply_in[1][0] + c->reply_in[0][2] + c->reply_in[2][0],
                      0);
    ck_assert_uint_gt(c->reply_in[1][2] + c->reply_in[2][1], 0);
    /* A bridge: 0 and 1 cannot talk, 2 talks to both. */
    ex_run_fault("bridge a=0 b=1", c);
    ck_assert_uint_eq(c->reply_in[0][1] + c->reply_in[1][0], 0);
    ck_assert_uint_gt(c->reply_in[2][0] + c->reply_in[0][2], 0);
    ck_assert_uint_gt(c->reply_in[2][1] + c->reply_in[1][2], 0);
    free(c);
}
END_TEST

START_TEST(test_explore_fault_network_and_crash)
{
    struct ex_counts *c = calloc(1, sizeof(*c));
    ck_assert_ptr_nonnull(c);
    ex_run_fault("drop", c);
    ck_assert_uint_eq(c->drops_before, 0);
    ck_assert_uint_gt(c->drops_in, 0);
    /* Duplication: handlers run a second time (deliveries marked dup). */
    ex_run_fault("dup permille=500", c);
    ck_assert_uint_eq(c->dups_before, 0);
    ck_assert_uint_gt(c->dups_in, 0);
    ex_run_fault("reorder", c);
    ck_assert_uint_gt(c->held_in, 0);
    ex_run_fault("delay permille=1000 max-ms=3000", c);
    ck_assert_uint_lt(c->latency_before_max_us, SIM_MS(100));
    ck_assert_uint_gt(c->latency_in_max_us, SIM_MS(1000));
    /* Drift: node 1's clock runs 4% fast exactly while the fault lasts, nobody else's. */
    ex_run_fault("drift node=1 ppm=40000", c);
    ck_assert_int_eq(c->drift_in_max_ppm[1], 40000);
    ck_assert_int_eq(c->drift_out_max_ppm[1], 0);
    ck_assert_int_eq(c->drift_in_max_ppm[0] + c->drift_in_max_ppm[2], 0);
    ex_run_fault("crash node=1", c);
    ck_assert_uint_eq(c->crashes_in[0] + c->crashes_in[2], 0);
    ck_assert_uint_eq(c->crashes_in[1], 1);
    ck_assert_uint_eq(c->starts_after[1], 1);
    ck_assert_uint_eq(c->starts_after[0] + c->starts_after[2], 0);
    free(c);
}
END_TEST

static uint64_t ex_crashes(const struct ex_counts *c, int *last)
{
    uint64_t total = 0;
    for (int i = 0; i < 3; i++) {
        total += c->crashes_in[i];
        if (c->crashes_in[i] > 0) *last = i;
    }
    return total;
}

/* The leader-aimed faults pick their server when they act, from the run's state. */
START_TEST(test_explore_fault_leader_aimed)
{
    struct ex_counts *c = calloc(1, sizeof(*c));
    ck_assert_ptr_nonnull(c);
    int node = -1;
    /* crash-leader: one server (the leader then) down for the fault, restarted after. */
    ex_run_fault("crash-leader", c);
    ck_assert_uint_eq(ex_crashes(c, &node), 1);
    ck_assert_uint_eq(c->starts_after[node], 1);
    /* isolate-leader: one server talks to nobody, the other two to each other; none crashes. */
    ex_run_fault("isolate-leader", c);
    ck_assert_uint_eq(ex_crashes(c, &node), 0);
    int alone = 0;
    for (int i = 0; i < 3; i++) {
        int j = (i + 1) % 3;
        int k = (i + 2) % 3;
        uint64_t with_i =
            c->reply_in[i][j] + c->reply_in[j][i] + c->reply_in[i][k] + c->reply_in[k][i];
        alone += with_i == 0 && c->reply_in[j][k] + c->reply_in[k][j] > 0;
    }
    ck_assert_int_eq(alone, 1);
    /* crash-new-leader waits for a leader of a later term: alone it has none to strike; after
     * crash-leader it strikes the one the other two elect, so two servers are down. */
    ex_run_fault("crash-new-leader after-ms=0", c);
    ck_assert_uint_eq(ex_crashes(c, &node), 0);
    ex_run_fault("crash-leader\nfault 2000 6000 crash-new-leader after-ms=100", c);
    ck_assert_uint_eq(ex_crashes(c, &node), 2);
    free(c);
}
END_TEST

struct drift_probe {
    sim_time_us fired_us;
};

static void drift_fire(struct sim *sim, void *arg)
{
    struct drift_probe *p = arg;
    p->fired_us = sim_now_us(sim);
}

START_TEST(test_explore_drift_scales_node_timers)
{
    struct sim *sim = sim_new(1);
    struct drift_probe fast = {0};
    struct drift_probe slow = {0};
    struct drift_probe plain = {0};
    struct drift_probe none = {0};
    ck_assert_int_eq(sim_node_set_drift_ppm(sim, 1, 50000), SIM_OK);
    ck_assert_int_eq(sim_node_set_drift_ppm(sim, 2, -50000), SIM_OK);
    ck_assert_int_eq(sim_node_set_drift_ppm(sim, 3, SIM_DRIFT_PPM_MAX + 1), SIM_EINVAL);
    ck_assert_int_eq(sim_node_set_drift_ppm(sim, SIM_DRIFT_NODES_MAX, 1), SIM_EINVAL);
    int node = sim_node_swap(sim, 1);
    sim_after(sim, 1050000, drift_fire, &fast);
    sim_node_swap(sim, 2);
    sim_after(sim, 950000, drift_fire, &slow);
    sim_node_swap(sim, 0);
    sim_after(sim, 1000000, drift_fire, &plain);
    sim_node_swap(sim, SIM_NODE_NONE);
    sim_after(sim, 1000000, drift_fire, &none);
    sim_node_swap(sim, node);
    /* A fast clock never turns a delay into none: a 1 us poll would spin at one instant
     * (the explorer's first sweep found that livelock). */
    struct drift_probe tick = {0};
    sim_node_swap(sim, 1);
    sim_after(sim, 1, drift_fire, &tick);
    sim_node_swap(sim, node);
    sim_run_until(sim, NULL, NULL, SIM_S(5));
    ck_assert_uint_eq(tick.fired_us, 1);
    ck_assert_uint_eq(fast.fired_us, 1000000);
    ck_assert_uint_eq(slow.fired_us, 1000000);
    ck_assert_uint_eq(plain.fired_us, 1000000);
    ck_assert_uint_eq(none.fired_us, 1000000);
    sim_free(sim);
}
END_TEST

START_TEST(test_explore_rpc_delay_ext_bounds)
{
    struct sim *sim = sim_new(1);
    struct rpc_net *net = rpc_net_new(sim);
    ck_assert_int_eq(rpc_net_set_delay_ext(net, 1001, 10), RPC_ERANGE);
    ck_assert_int_eq(rpc_net_set_delay_ext(net, 10, 0), RPC_ERANGE);
    ck_assert_int_eq(rpc_net_set_delay_ext(net, 10, RPC_DELAY_EXT_MS_MAX + 1), RPC_ERANGE);
    ck_assert_int_eq(rpc_net_set_delay_ext(net, 10, RPC_DELAY_EXT_MS_MAX), RPC_OK);
    ck_assert_int_eq(rpc_net_set_delay_ext(net, 0, 0), RPC_OK); /* off */
    rpc_net_free(net);
    sim_free(sim);
}
END_TEST

/* ---------------------------------------------------------------- the checker */

/* A fabricated cluster: each server's state set by hand. */
struct fake_server {
    bool up;
    bool leader;
    struct raft_inspect in;
    uint64_t terms[8]; /* [index] */
    int instance;      /* identity; changes on a "restart" */
};

struct fake_cluster {
    struct explore_cluster cl;
    struct fake_server servers[3];
    struct explore_checker checker;
};

/* Identity of server i's instance: a distinct non-NULL value per (server, restart). */
static const void *fake_instance(const struct explore_cluster *cl, int i)
{
    const struct fake_cluster *f = (const struct fake_cluster *)cl;
    const char *base = (const char *)f->servers;
    return f->servers[i].up ? base + 16 * i + f->servers[i].instance : NULL;
}

static bool fake_leader(const struct explore_cluster *cl, int i, uint64_t *term)
{
    const struct fake_cluster *f = (const struct fake_cluster *)cl;
    *term = f->servers[i].in.term;
    return f->servers[i].leader;
}

static void fake_inspect(const struct explore_cluster *cl, int i, struct raft_inspect *out)
{
    *out = ((const struct fake_cluster *)cl)->servers[i].in;
}

static uint64_t fake_term_at(const struct explore_cluster *cl, int i, uint64_t index)
{
    const struct fake_server *s = &((const struct fake_cluster *)cl)->servers[i];
    return index <= s->in.last_index && index < 8 ? s->terms[index] : 0;
}

static const struct explore_view fake_view = {fake_instance, fake_leader, fake_inspect,
                                              fake_term_at};

/* Sets server i's log to `terms` (terms[0] unused) and its current term and commit index. */
static void fake_set(struct fake_cluster *f, int i, const uint64_t *terms, uint64_t last,
                     uint64_t term, uint64_t commit)
{
    struct fake_server *s = &f->servers[i];
    s->up = true;
    memcpy(s->terms, terms, sizeof(s->terms));
    s->in.last_index = last;
    s->in.term = term;
    s->in.commit_index = commit;
    s->in.last_applied = commit;
}

enum fake_scenario {
    FAKE_TWO_LEADERS,
    FAKE_LOG_MISMATCH,
    FAKE_COMMIT_CONFLICT,
    FAKE_INCOMPLETE_LEADER,
    FAKE_APPLIED_BACK,
    FAKE_HEALTHY,
};

static void fake_scenario(struct fake_cluster *f, enum fake_scenario which)
{
    static const uint64_t a[8] = {0, 1, 1, 2, 2};
    static const uint64_t b[8] = {0, 1, 2, 2, 2};
    fake_set(f, 0, a, 4, 2, 2);
    fake_set(f, 1, a, 4, 2, 2);
    fake_set(f, 2, a, 2, 2, 2);
    f->servers[0].leader = true;
    explore_checker_step(&f->checker);
    if (which == FAKE_TWO_LEADERS) f->servers[1].leader = true;
    if (which == FAKE_LOG_MISMATCH) {
        fake_set(f, 2, b, 4, 2, 0);
        f->servers[2].in.last_applied = 2;
    }
    if (which == FAKE_COMMIT_CONFLICT) {
        fake_set(f, 2, b, 4, 2, 3); /* a restarted server 2 */
        f->servers[2].instance++;
    }
    if (which == FAKE_INCOMPLETE_LEADER) {
        fake_set(f, 2, a, 1, 3, 1); /* a restarted server 2 leads term 3 holding 1 of 4 */
        f->servers[2].instance++;
        f->servers[2].leader = true;
    }
    if (which == FAKE_APPLIED_BACK) f->servers[1].in.last_applied = 1;
    explore_checker_step(&f->checker);
}

static void fake_body(struct lab_ctx *ctx)
{
    const enum fake_scenario *which = lab_body_arg(ctx);
    struct fake_cluster *f = lab_alloc(ctx, sizeof(*f));
    ck_assert_ptr_nonnull(f);
    f->cl = (struct explore_cluster){.view = &fake_view, .ctx = ctx, .sim = lab_sim(ctx), .n = 3};
    explore_checker_init(&f->checker, &f->cl);
    fake_scenario(f, *which);
}

static const struct lab_test fake_test = {"explore-fake", "explore", "fabricated states",
                                          fake_body};

START_TEST(test_explore_checker_flags_fabricated)
{
    static const struct {
        enum fake_scenario which;
        const char *want;
        int node;
    } cases[] = {
        {FAKE_TWO_LEADERS, "SAFETY election-safety: term 2 has two leaders, servers 0 and 1", 1},
        {FAKE_LOG_MISMATCH, "SAFETY log-matching: servers 2 and 0 both hold index 3", 2},
        {FAKE_COMMIT_CONFLICT, "SAFETY state-machine-safety: index 2 committed with term 1", 2},
        {FAKE_INCOMPLETE_LEADER,
         "SAFETY leader-completeness: server 2 leads term 3 without committed entry 2", 2},
        {FAKE_APPLIED_BACK, "SAFETY apply-order: server 1's lastApplied went back from 2 to 1", 1},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct lab_opts opts = {.body_arg = &cases[k].which};
        struct lab_result r;
        ck_assert_int_eq(lab_run(&fake_test, 1, &opts, &r), SIM_OK);
        ck_assert_msg(r.outcome == LAB_FAIL, "case %zu passed", k);
        ck_assert_msg(strncmp(r.message, cases[k].want, strlen(cases[k].want)) == 0,
                      "case %zu: '%s'", k, r.message);
        ck_assert_int_eq(r.fail_node, cases[k].node);
        struct explore_verdict v;
        explore_classify(r.message, &v);
        ck_assert(!v.liveness);
    }
    enum fake_scenario healthy = FAKE_HEALTHY;
    struct lab_opts opts = {.body_arg = &healthy};
    struct lab_result r;
    ck_assert_int_eq(lab_run(&fake_test, 1, &opts, &r), SIM_OK);
    ck_assert_msg(r.outcome == LAB_PASS, "healthy: '%s'", r.message);
}
END_TEST

/* ---------------------------------------------------------------- the mr target's check */

#define PLANT_NODE 2
#define PLANT_CHUNK_BYTES 256u
#define PLANT_CHUNK_US SIM_MS(1)
#define PLANT_KILL_US (SIM_MS(2) + SIM_US_PER_MS / 2) /* after 2 chunks, before the third */

struct mr_plant {
    bool in_place; /* writes mr-out-0 itself; else a temporary it would rename */
    char *text;    /* mr-out-0's bytes, from a calm job */
    size_t len;
    int write_rc;
};

static void plant_kill(struct sim *sim, void *arg)
{
    (void)arg;
    sim_fs_node_down(sim, PLANT_NODE); /* kill -9 of the writing process */
}

/* A worker process on PLANT_NODE re-running reduce task 0 with writes that take virtual time. */
static void plant_writer(struct sim *sim, void *arg)
{
    struct mr_plant *p = arg;
    int fd = -1;
    const char *name = p->in_place ? "mr-out-0" : "mr-tmp-planted-0";
    if (sim_fs_create(sim, PLANT_NODE, name, &fd) != SIM_FS_OK) return;
    p->write_rc = sim_fs_write(sim, PLANT_NODE, fd, p->text, p->len);
}

/* A calm wc job on one input, then a worker that writes mr-out-0 again (in place, or under a
 * temporary name) and is killed in the middle; then the mr target's output check. Fails
 * "SAFETY output-final" when the check sees the damage. */
static void mr_plant_body(struct lab_ctx *ctx)
{
    struct mr_plant *p = (struct mr_plant *)lab_body_arg(ctx);
    struct sim *sim = lab_sim(ctx);
    struct mr_cfg *cfg = mr_cfg_make(ctx);
    char why[LAB_MSG_MAX / 2];
    mr_cfg_use_inputs(cfg, 1);
    const struct mr_lines *want = mr_cfg_sequential(cfg, "wc");
    struct mr_proc *coordinator = mr_cfg_start_coordinator(cfg, SIM_S(60));
    mr_cfg_start_worker(cfg, 1, "wc", SIM_S(60));
    mr_cfg_wait(cfg, coordinator);
    mr_cfg_wait_all(cfg);
    if (!mr_cfg_outputs_match(cfg, want, why, sizeof(why)))
        lab_fatalf(ctx, SIM_NODE_NONE, "harness: the calm job's output is wrong: %s", why);
    if (sim_fs_read(sim, SIM_NODE_NONE, "mr-out-0", &p->text, &p->len) != SIM_FS_OK ||
        p->len <= 3 * PLANT_CHUNK_BYTES)
        lab_fatalf(ctx, SIM_NODE_NONE, "harness: mr-out-0 is missing or short");
    SIM_ASSERT(sim, SIM_NODE_NONE,
               sim_fs_set_write_pace(sim, PLANT_CHUNK_BYTES, PLANT_CHUNK_US) == SIM_FS_OK);
    sim_fs_node_up(sim, PLANT_NODE);
    sim_after(sim, PLANT_KILL_US, plant_kill, NULL);
    lab_go(ctx, "planted-writer", plant_writer, p);
    sim_sleep_us(sim, SIM_MS(10));
    size_t size = 0;
    const char *name = p->in_place ? "mr-out-0" : "mr-tmp-planted-0";
    if (sim_fs_size(sim, name, &size) != SIM_FS_OK || size != 2 * PLANT_CHUNK_BYTES)
        lab_fatalf(ctx, SIM_NODE_NONE, "harness: %s holds %zu bytes, want the 2 chunks written",
                   name, size);
    if (!mr_cfg_outputs_match(cfg, want, why, sizeof(why)))
        lab_fatalf(ctx, SIM_NODE_NONE,
                   "SAFETY output-final: after a killed worker, the sorted mr-out-* lines differ "
                   "from mrsequential's at %s",
                   why);
}

static const struct lab_test mr_plant_test = {"explore-mr-plant", "explore",
                                              "a killed worker's file in place", mr_plant_body};

START_TEST(test_explore_mr_killed_in_place_caught)
{
    /* Goal: the mr target's output check catches, by construction, a final file a killed worker
     * was writing in place: with writes paced in chunks (the file-system hook the target turns
     * on), a kill between two chunks leaves exactly the chunks written (a partial mr-out-0),
     * and the check fails "SAFETY output-final" naming a wrong line. The same kill of a worker
     * writing a temporary name (the atomic rename's first half) leaves the outputs correct and
     * the check passes, so it is the in-place write that is caught. */
    for (int in_place = 0; in_place <= 1; in_place++) {
        struct mr_plant p = {.in_place = in_place != 0};
        struct lab_opts opts = {.body_arg = &p};
        struct lab_result res;
        struct explore_verdict v;
        ck_assert_int_eq(lab_run(&mr_plant_test, 1, &opts, &res), SIM_OK);
        ck_assert_int_eq(p.write_rc, SIM_FS_EDOWN);
        free(p.text);
        if (!in_place) {
            ck_assert_msg(res.outcome == LAB_PASS, "temporary name: %s", res.message);
            continue;
        }
        ck_assert_int_eq(res.outcome, LAB_FAIL);
        explore_classify(res.message, &v);
        ck_assert_str_eq(v.check, "output-final");
        ck_assert_msg(strstr(res.message, "differ from mrsequential's at line") != NULL, "%s",
                      res.message);
    }
}
END_TEST

START_TEST(test_explore_classify)
{
    struct explore_verdict v;
    explore_classify("LIVENESS no-leader: nobody", &v);
    ck_assert(v.liveness);
    ck_assert_str_eq(v.check, "no-leader");
    explore_classify("apply error: server 2 apply out of order 7", &v);
    ck_assert(!v.liveness);
    ck_assert_str_eq(v.check, "apply-order");
    explore_classify("apply error: commit index=3 server=1 5 != server=2 6", &v);
    ck_assert_str_eq(v.check, "state-machine-safety");
    explore_classify("history is not linearizable", &v);
    ck_assert_str_eq(v.check, "linearizability");
    explore_classify("something else", &v);
    ck_assert_str_eq(v.check, "harness");
}
END_TEST

/* What a dead process left: the crash's site is its identity, without time or addresses. */
START_TEST(test_explore_classify_crash)
{
    static const char assertion[] =
        "some debug output\n"
        "labsim: assertion failed: index > rf->last_applied (raft/apply.c:42)\n"
        "    seed 1005, at 9.876543s virtual, node 2\n"
        "    replay: build/labsim replay --schedule <its schedule file>\n"
        "--- CRASH: explore-kvraft (seed 1005)\n"
        "    at 9.876543s virtual, node 2: abort (signal 6) in the code under test\n"
        "    replay: build/labsim replay --schedule <its schedule file>\n";
    struct explore_verdict v;
    struct explore_verdict w;
    explore_classify_crash("killed by signal 6", assertion, &v);
    ck_assert(v.failed);
    ck_assert(!v.liveness);
    ck_assert_str_eq(v.check, "crash");
    ck_assert_str_eq(v.site, "assertion failed: index > rf->last_applied (raft/apply.c:42)");
    ck_assert_str_eq(v.message, "assertion failed: index > rf->last_applied (raft/apply.c:42)");
    ck_assert_uint_eq(v.at_us, 9876543);
    ck_assert_int_eq(v.node, 2);
    /* The same assertion sooner, elsewhere: the same failure. Another line, or a check's
     * failure: not. */
    explore_classify_crash("killed by signal 6",
                           "labsim: assertion failed: index > rf->last_applied (raft/apply.c:42)\n"
                           "    at 1.000000s virtual, node 0: abort (signal 6) in the code under "
                           "test\n",
                           &w);
    ck_assert(explore_verdict_same(&v, &w));
    ck_assert_uint_eq(w.at_us, 1000000);
    explore_classify_crash("killed by signal 6",
                           "labsim: assertion failed: index > rf->last_applied (raft/apply.c:43)\n",
                           &w);
    ck_assert(!explore_verdict_same(&v, &w));
    ck_assert_uint_eq(w.at_us, 0);
    explore_classify("SAFETY crash: index > rf->last_applied", &w);
    w.failed = true;
    ck_assert(!explore_verdict_same(&v, &w));
    /* A signal without an assertion, sanitizers, a hang, nothing left at all. */
    explore_classify_crash("killed by signal 11",
                           "    at 0.5s virtual, node 1: segmentation fault (signal 11) in the "
                           "code under test\n",
                           &w);
    ck_assert_str_eq(w.site, "segmentation fault (signal 11)");
    ck_assert_int_eq(w.node, 1);
    explore_classify_crash("killed by signal 6",
                           "==9==ERROR: AddressSanitizer: heap-use-after-free on address 0x6020 at "
                           "pc 0x55\n",
                           &w);
    ck_assert_str_eq(w.site, "AddressSanitizer: heap-use-after-free");
    explore_classify_crash("killed by signal 6",
                           "raft/log.c:77:12: runtime error: index 9 out of bounds for type "
                           "'uint64_t [8]'\n",
                           &w);
    ck_assert_str_eq(w.site, "raft/log.c:77:12: runtime error");
    explore_classify_crash("used over 120 s of CPU", "", &w);
    ck_assert_str_eq(w.site, "used over 120 s of CPU");
    explore_classify_crash(NULL, NULL, &w);
    ck_assert_str_eq(w.check, "crash");
    ck_assert_str_eq(w.site, "the run died");
}
END_TEST

/* ---------------------------------------------------------------- end to end */

/* Whether raft/NAME belongs to our Raft implementation (what RAFT_IMPL names, and raft_int.h)
 * rather than to the provided files every Raft is linked with. */
static bool ex_raft_impl_file(const char *name)
{
    static const char *const provided[] = {"persister.c", "persister_ext.c", "trace_api.c",
                                           "wal.c",       "wal_sim_disk.c",  "wal_persister.c"};
    size_t len = strlen(name);
    if (strcmp(name, "raft_int.h") == 0) return true;
    if (len < 3 || strcmp(name + len - 2, ".c") != 0) return false;
    for (size_t k = 0; k < sizeof(provided) / sizeof(provided[0]); k++)
        if (strcmp(name, provided[k]) == 0) return false;
    return true;
}

/* Our Raft's files (every implementation file of raft/, listed in name order), copied into d
 * with `good`, which must occur exactly once in them, replaced by `bad`. The space-separated
 * paths of the .c files go into impl. */
static void ex_plant_bug(const struct cu_dir *d, const char *good, const char *bad, char *impl,
                         size_t size)
{
    const char *root = getenv("LABSIM_ROOT") != NULL ? getenv("LABSIM_ROOT") : ".";
    char dir[600];
    snprintf(dir, sizeof(dir), "%s/raft", root);
    struct dirent **names = NULL;
    int count = scandir(dir, &names, NULL, alphasort);
    ck_assert_msg(count > 0, "cannot list %s", dir);
    size_t used = 0;
    int planted = 0;
    impl[0] = '\0';
    for (int k = 0; k < count; k++) {
        const char *name = names[k]->d_name;
        if (ex_raft_impl_file(name)) {
            char src[1024];
            char dst[700];
            size_t len = 0;
            snprintf(src, sizeof(src), "%s/%s", dir, name);
            char *text = cu_read_file(src, &len);
            char *at = strstr(text, good);
            if (at != NULL) {
                char *fixed = malloc(len + strlen(bad) + 1);
                ck_assert_ptr_nonnull(fixed);
                size_t head = (size_t)(at - text);
                size_t tail_at = head + strlen(good);
                len = (size_t)snprintf(fixed, len + strlen(bad) + 1, "%.*s%s%s", (int)head, text,
                                       bad, text + tail_at);
                free(text);
                text = fixed;
                planted++;
            }
            cu_dir_file(d, name, dst, sizeof(dst));
            cu_write_file(dst, text, len);
            free(text);
            if (strcmp(name + strlen(name) - 2, ".c") == 0)
                used +=
                    (size_t)snprintf(impl + used, size - used, "%s%s", used > 0 ? " " : "", dst);
        }
        free(names[k]);
    }
    free(names);
    ck_assert_msg(planted == 1, "'%s' was found %d times in raft/", good, planted);
}

static size_t ex_file_faults(const char *path)
{
    size_t len = 0;
    char *text = cu_read_file(path, &len);
    size_t count = cu_count(text, "\nfault ");
    free(text);
    return count;
}

START_TEST(test_explore_planted_bug_caught_and_shrunk)
{
    struct cu_dir d;
    char impl[4096];
    char bin[600];
    char sched[600];
    char shrunk[600];
    struct cu_run r;
    cu_dir_make(&d, "explore");
    /* A candidate whose last term differs from ours always gets the vote (the up-to-date check
     * of section 5.4.1 dropped). */
    ex_plant_bug(&d, "if (last_term != my_last_term) return last_term > my_last_term;",
                 "if (last_term != my_last_term) return true; /* planted */", impl, sizeof(impl));
    cu_build_labsim(cu_shared_build(), impl, bin, sizeof(bin), EX_BUILD_TIMEOUT_S);
    cu_dir_file(&d, "fail.sched", sched, sizeof(sched));
    cu_dir_file(&d, "fail.sched.shrunk", shrunk, sizeof(shrunk));
    struct cu_spawn how = {.cwd = d.path, .timeout_s = EX_RUN_TIMEOUT_S};
    char *explore[] = {bin, "explore",        "raft",           "--seeds", "300", "--jobs",
                       "2", "--stop-on-fail", "--schedule-out", sched,     NULL};
    cu_run(&r, explore, &how);
    ck_assert_msg(r.status == 1, "explore status %d: %s%s", r.status, r.out, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "SAFETY "));
    ck_assert_ptr_nonnull(strstr(r.out, "| replay: "));
    cu_run_free(&r);
    size_t before = ex_file_faults(sched);
    char *shrink[] = {bin, "shrink", sched, NULL};
    cu_run(&r, shrink, &how);
    ck_assert_msg(r.status == 0, "shrink status %d: %s%s", r.status, r.out, r.err);
    const char *fails = strstr(r.out, "fails SAFETY ");
    ck_assert_ptr_nonnull(fails);
    char check[EXPLORE_CHECK_MAX + 16];
    ck_assert_int_eq(sscanf(fails, "fails SAFETY %40s", check), 1);
    cu_run_free(&r);
    size_t after = ex_file_faults(shrunk);
    ck_assert_msg(after <= 3 || after * 5 <= before, "shrunk %zu -> %zu faults", before, after);
    char *replay[] = {bin, "replay", "--schedule", shrunk, NULL};
    cu_run(&r, replay, &how);
    ck_assert_int_eq(r.status, 1);
    char want[EXPLORE_CHECK_MAX + 32];
    snprintf(want, sizeof(want), "SAFETY %s ", check);
    ck_assert_msg(strstr(r.out, want) != NULL, "replay of the shrunk schedule: %s", r.out);
    cu_run_free(&r);
    cu_dir_remove(&d);
}
END_TEST

/* The code under test crashes: a Raft that asserts that no RequestVote comes from more than two
 * terms ahead (a server cut off for a few elections sends one when it comes back). The sweep
 * reports the crash and goes on; the shrinker replays each candidate in a child process, keeps
 * those that die at the same assertion, and shrinks the schedule like any other; the shrunk
 * schedule's replay dies there again with the usual report and replay line. */
START_TEST(test_explore_planted_crash_shrunk)
{
    static const char good[] = "    if (a.term > rf->current_term) raft_become_follower";
    static const char bad[] = "    RAFT_ASSERT(rf, a.term < rf->current_term + 3); /* planted */\n"
                              "    if (a.term > rf->current_term) raft_become_follower";
    static const char site[] = "assertion failed: a.term < rf->current_term + 3 (";
    struct cu_dir d;
    char impl[4096];
    char bin[600];
    char sched[600];
    char shrunk[600];
    struct cu_run r;
    cu_dir_make(&d, "explore-crash");
    ex_plant_bug(&d, good, bad, impl, sizeof(impl));
    cu_build_labsim(cu_shared_build(), impl, bin, sizeof(bin), EX_BUILD_TIMEOUT_S);
    cu_dir_file(&d, "crash.sched", sched, sizeof(sched));
    cu_dir_file(&d, "crash.sched.shrunk", shrunk, sizeof(shrunk));
    struct cu_spawn how = {.cwd = d.path, .timeout_s = EX_RUN_TIMEOUT_S};
    /* One worker: the sweep forks it all the same, so the crash is a reported failure. */
    char *explore[] = {
        bin, "explore", "raft", "--seeds", "300", "--stop-on-fail", "--schedule-out", sched, NULL};
    cu_run(&r, explore, &how);
    ck_assert_msg(r.status == 1, "explore status %d: %s%s", r.status, r.out, r.err);
    ck_assert_msg(strstr(r.out, "SAFETY crash seed ") != NULL, "%s", r.out);
    ck_assert_msg(strstr(r.out, "explore raft: ") != NULL, "the sweep did not finish: %s", r.out);
    ck_assert_ptr_nonnull(strstr(r.err, site));
    cu_run_free(&r);
    size_t before = ex_file_faults(sched);
    char *shrink[] = {bin, "shrink", sched, NULL};
    cu_run(&r, shrink, &how);
    ck_assert_msg(r.status == 0, "shrink status %d: %s%s", r.status, r.out, r.err);
    char want[256];
    snprintf(want, sizeof(want), "fails SAFETY crash (%s", site);
    ck_assert_msg(strstr(r.out, want) != NULL, "%s", r.out);
    /* The children's reports went to their captured stderr, not ours. */
    ck_assert_ptr_null(strstr(r.err, site));
    cu_run_free(&r);
    size_t after = ex_file_faults(shrunk);
    ck_assert_msg(after < before, "shrunk %zu -> %zu faults", before, after);
    ck_assert_msg(after <= 3 || after * 5 <= before, "shrunk %zu -> %zu faults", before, after);
    char *replay[] = {bin, "replay", "--schedule", shrunk, NULL};
    cu_run(&r, replay, &how);
    ck_assert_int_eq(r.status, 128 + 6); /* SIGABRT, in this process, as gdb would see it */
    ck_assert_ptr_nonnull(strstr(r.err, site));
    ck_assert_ptr_nonnull(strstr(r.err, "--- CRASH: explore-raft (seed "));
    char line[700];
    snprintf(line, sizeof(line), "    replay: %s replay --schedule ", bin);
    ck_assert_msg(cu_count(r.err, line) == 2, "%s", r.err); /* the assertion's, the report's */
    cu_run_free(&r);
    cu_dir_remove(&d);
}
END_TEST

START_TEST(test_explore_cli_bad_input)
{
    struct cu_run r;
    cu_labsim(&r, NULL, "explore", "paxos");
    ck_assert_int_eq(r.status, 3);
    ck_assert_str_eq(r.err, "labsim explore: unknown target 'paxos' (raft, kvraft or mr)\n");
    cu_run_free(&r);
    cu_labsim(&r, NULL, "explore", "raft", "--seeds", "0");
    ck_assert_int_eq(r.status, 3);
    cu_run_free(&r);
    cu_labsim(&r, NULL, "replay", "--schedule", "/nonexistent/s");
    ck_assert_int_eq(r.status, 3);
    ck_assert_uint_eq(cu_count(r.err, "\n"), 1);
    cu_run_free(&r);
    cu_labsim(&r, NULL, "shrink", "/nonexistent/s", "--out", "/tmp/labsim-explore-never");
    ck_assert_int_eq(r.status, 3);
    cu_run_free(&r);
    cu_labsim(&r, NULL, "explore", "raft", "--seeds", "2");
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "explore raft: 2 runs, 0 failures"));
    cu_run_free(&r);
    /* One passing seed: its schedule is written, and replays clean. */
    struct cu_dir d;
    char path[600];
    cu_dir_make(&d, "explore-cli");
    cu_dir_file(&d, "s3.sched", path, sizeof(path));
    cu_labsim(&r, NULL, "explore", "kvraft", "--seed", "3", "--schedule-out", path);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "schedule of seed 3 written to"));
    cu_run_free(&r);
    cu_labsim(&r, NULL, "replay", "--schedule", path);
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, ": kvraft passed, seed 3"));
    cu_run_free(&r);
    cu_write_file(path, "labsim-schedule 1\ntarget raft\nseed 1\nservers 2\n", 47);
    cu_labsim(&r, NULL, "replay", "--schedule", path);
    ck_assert_int_eq(r.status, 3);
    ck_assert_ptr_nonnull(strstr(r.err, "line 4: servers needs a number in 3..7, got '2'"));
    ck_assert_uint_eq(cu_count(r.err, "\n"), 1);
    cu_run_free(&r);
    cu_dir_remove(&d);
}
END_TEST

Suite *explore_suite(void)
{
    Suite *s = suite_create("explore");
    TCase *sched = tcase_create("schedules");
    tcase_add_test(sched, test_explore_sched_round_trip);
    tcase_add_test(sched, test_explore_swarm_calm_and_storm);
    tcase_add_test(sched, test_explore_mr_swarm);
    tcase_add_test(sched, test_explore_sched_bad_files);
    tcase_set_timeout(sched, 30);
    suite_add_tcase(s, sched);
    TCase *runs = tcase_create("runs");
    tcase_add_test(runs, test_explore_seed_equals_schedule);
    tcase_add_test(runs, test_explore_fault_oneway_and_partitions);
    tcase_add_test(runs, test_explore_fault_network_and_crash);
    tcase_add_test(runs, test_explore_fault_leader_aimed);
    tcase_add_test(runs, test_explore_drift_scales_node_timers);
    tcase_add_test(runs, test_explore_rpc_delay_ext_bounds);
    tcase_add_test(runs, test_explore_checker_flags_fabricated);
    tcase_add_test(runs, test_explore_classify);
    tcase_add_test(runs, test_explore_classify_crash);
    tcase_add_test(runs, test_explore_mr_killed_in_place_caught);
    tcase_set_timeout(runs, 120);
    suite_add_tcase(s, runs);
    TCase *e2e = tcase_create("end to end");
    tcase_add_test(e2e, test_explore_planted_bug_caught_and_shrunk);
    tcase_add_test(e2e, test_explore_planted_crash_shrunk);
    tcase_add_test(e2e, test_explore_cli_bad_input);
    tcase_set_timeout(e2e, EX_BUILD_TIMEOUT_S + 3 * EX_RUN_TIMEOUT_S);
    suite_add_tcase(s, e2e);
    return s;
}
