/* check_ext_prevote: pre-vote, check-quorum and leadership transfer (raft/prevote.c,
 * raft/quorum.c, raft/transfer.c) under Check.
 *
 * - pairs: each scenario pair of tests/raftext/ext_prevote.c on seeds 1..PAIR_SEEDS, in
 *   process through lab_run: the on-test passes (the failure is absent) and its twin passes
 *   (the failure showed, and it says so).
 * - edges: small scenarios of this file, each of one edge of the mechanisms: the transfer
 *   call's errors and its refusal of commands, a transfer to a follower that must catch up
 *   first, a one-server cluster electing itself through pre-vote, a leader that keeps a bare
 *   majority keeps leading with check-quorum, and a pre-vote that never changes a voter's term
 *   even when the asker's log is ahead.
 * - off: a graded test run with no option traces none of the mechanisms' kinds, and the same
 *   test with both options does (so the check can fail).
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "check_util.h"
#include "lab.h"
#include "raft_cfg.h"
#include "raft_ext.h"

#define PAIR_SEEDS 4
#define EDGE_SEEDS 3

struct captured {
    struct lab_result result;
    int rc;
    char *text; /* malloc'd output */
};

static void run_captured(const struct lab_test *test, uint64_t seed, struct captured *out)
{
    size_t len = 0;
    out->text = NULL;
    FILE *stream = open_memstream(&out->text, &len);
    ck_assert_ptr_nonnull(stream);
    struct lab_opts opts = {.out = stream};
    out->rc = lab_run(test, seed, &opts, &out->result);
    fclose(stream);
}

static const struct lab_test *ext_test(const char *name)
{
    for (size_t i = 0; i < lab_ext_tests_count; i++)
        if (strcmp(lab_ext_tests[i].name, name) == 0) return &lab_ext_tests[i];
    return NULL;
}

static const char *const pair_names[] = {"TestPreVoteRejoin", "TestCheckQuorum",
                                         "TestLeaderTransfer"};
#define PAIRS_COUNT (sizeof(pair_names) / sizeof(pair_names[0]))

/* ---------------------------------------------------------------- pairs */

START_TEST(test_ext_prevote_pair)
{
    /* _i enumerates (pair, twin or not, seed). */
    size_t pair = (size_t)_i / (2 * PAIR_SEEDS);
    bool twin = ((size_t)_i / PAIR_SEEDS) % 2 == 1;
    uint64_t seed = 1 + (uint64_t)_i % PAIR_SEEDS;
    char name[64];
    snprintf(name, sizeof(name), "%s%sExt", pair_names[pair], twin ? "Twin" : "");
    const struct lab_test *test = ext_test(name);
    ck_assert_msg(test != NULL, "%s is not registered in ext_tests.c", name);
    struct captured run;
    run_captured(test, seed, &run);
    ck_assert_int_eq(run.rc, 0);
    ck_assert_msg(run.result.outcome == LAB_PASS, "%s seed %" PRIu64 " failed: %s\n%s", name, seed,
                  run.result.message, run.text);
    if (twin)
        ck_assert_msg(strstr(run.text, "twin saw the failure") != NULL,
                      "%s seed %" PRIu64 " passed without saying what it saw:\n%s", name, seed,
                      run.text);
    free(run.text);
}
END_TEST

/* ---------------------------------------------------------------- edges */

static struct raft *running(struct raft_cfg *cfg, int i)
{
    struct raft *rf = raft_cfg_raft(cfg, i);
    if (rf == NULL) lab_fatalf(raft_cfg_lab(cfg), i, "server %d is not running", i);
    return rf;
}

static void expect_rc(struct lab_ctx *ctx, int got, int want, const char *what)
{
    if (got != want)
        lab_fatalf(ctx, SIM_NODE_NONE, "%s: got %d (%s), want %d (%s)", what, got,
                   raft_transfer_strerror(got), want, raft_transfer_strerror(want));
}

/* The transfer call's errors, and no command taken while it is under way; an abandoned
 * transfer gives the leader its commands back. */
static void edge_transfer_errors(struct lab_ctx *ctx)
{
    struct raft_cfg *cfg = raft_cfg_make(ctx, 3, false, false);
    raft_cfg_begin(cfg, "transfer errors");
    int leader = raft_cfg_check_one_leader(cfg);
    int other = (leader + 1) % 3;
    int third = (leader + 2) % 3;
    raft_cfg_one_int(cfg, 1, 3, true);
    expect_rc(ctx, raft_transfer_leadership(running(cfg, other), third), RAFT_TRANSFER_ENOTLEADER,
              "transfer from a follower");
    expect_rc(ctx, raft_transfer_leadership(running(cfg, leader), leader), RAFT_TRANSFER_EINVAL,
              "transfer to the leader itself");
    expect_rc(ctx, raft_transfer_leadership(running(cfg, leader), 3), RAFT_TRANSFER_EINVAL,
              "transfer to no such peer");
    expect_rc(ctx, raft_transfer_leadership(running(cfg, leader), -1), RAFT_TRANSFER_EINVAL,
              "transfer to peer -1");
    raft_cfg_disconnect(cfg, other); /* so the transfer cannot complete */
    expect_rc(ctx, raft_transfer_leadership(running(cfg, leader), other), 0, "transfer");
    expect_rc(ctx, raft_transfer_leadership(running(cfg, leader), third), RAFT_TRANSFER_EBUSY,
              "second transfer");
    if (raft_cfg_start_int(cfg, leader, 2, NULL, NULL))
        lab_fatalf(ctx, leader, "the leader took a command during a transfer");
    sim_sleep_us(lab_sim(ctx), RAFT_ELECTION_TIMEOUT_US);
    if (!raft_cfg_start_int(cfg, leader, 3, NULL, NULL))
        lab_fatalf(ctx, leader, "the leader refused a command after the transfer was abandoned");
    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

/* A target that missed entries is brought up to date first, then leads. Pre-vote keeps the
 * cut-off target's term from inflating (without it, its return would depose the leader and
 * end the transfer before it began: the PreVoteRejoin twin). */
static void edge_transfer_catch_up(struct lab_ctx *ctx)
{
    lab_raft_opts_set(ctx, "pre-vote");
    struct raft_cfg *cfg = raft_cfg_make(ctx, 3, false, false);
    struct sim *sim = lab_sim(ctx);
    raft_cfg_begin(cfg, "transfer to a follower that must catch up");
    int leader = raft_cfg_check_one_leader(cfg);
    int target = (leader + 1) % 3;
    raft_cfg_disconnect(cfg, target);
    for (int k = 0; k < 20; k++)
        raft_cfg_one_int(cfg, 100 + k, 2, true);
    raft_cfg_connect(cfg, target);
    expect_rc(ctx, raft_transfer_leadership(running(cfg, leader), target), 0, "transfer");
    sim_time_us until = sim_now_us(sim) + RAFT_ELECTION_TIMEOUT_US;
    while (!raft_cfg_get_state(cfg, target, NULL) && sim_now_us(sim) < until)
        sim_sleep_us(sim, SIM_MS(5));
    if (!raft_cfg_get_state(cfg, target, NULL))
        lab_fatalf(ctx, target, "the lagging target does not lead after the transfer");
    raft_cfg_one_int(cfg, 200, 3, true);
    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

/* One server: pre-vote's majority is itself, so it elects itself at once and takes commands. */
static void edge_prevote_single(struct lab_ctx *ctx)
{
    lab_raft_opts_set(ctx, "pre-vote,check-quorum");
    struct raft_cfg *cfg = raft_cfg_make(ctx, 1, false, false);
    raft_cfg_begin(cfg, "one server with pre-vote and check-quorum");
    raft_cfg_check_one_leader(cfg);
    raft_cfg_one_int(cfg, 7, 1, false);
    sim_sleep_us(lab_sim(ctx), 2 * RAFT_ELECTION_TIMEOUT_US);
    if (!raft_cfg_get_state(cfg, 0, NULL))
        lab_fatalf(ctx, 0, "a one-server cluster stepped down (check-quorum counts itself)");
    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

/* Five servers, two cut off: the leader still hears a majority (itself and two) and must lead
 * on in its term, with pre-vote keeping the cut-off two from raising theirs. */
static void edge_quorum_bare_majority(struct lab_ctx *ctx)
{
    lab_raft_opts_set(ctx, "pre-vote,check-quorum");
    struct raft_cfg *cfg = raft_cfg_make(ctx, 5, false, false);
    raft_cfg_begin(cfg, "check-quorum keeps a leader with a bare majority");
    int leader = raft_cfg_check_one_leader(cfg);
    uint64_t term = 0;
    raft_cfg_get_state(cfg, leader, &term);
    raft_cfg_disconnect(cfg, (leader + 1) % 5);
    raft_cfg_disconnect(cfg, (leader + 2) % 5);
    sim_sleep_us(lab_sim(ctx), 3 * RAFT_ELECTION_TIMEOUT_US);
    uint64_t now_term = 0;
    if (!raft_cfg_get_state(cfg, leader, &now_term) || now_term != term)
        lab_fatalf(ctx, leader, "the leader of term %" PRIu64 " lost its place with a majority",
                   term);
    raft_cfg_one_int(cfg, 5, 3, true);
    raft_cfg_connect(cfg, (leader + 1) % 5);
    raft_cfg_connect(cfg, (leader + 2) % 5);
    raft_cfg_one_int(cfg, 6, 5, true);
    raft_cfg_get_state(cfg, leader, &now_term);
    if (now_term != term) lab_fatalf(ctx, leader, "the rejoining servers changed the term");
    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

/* A follower cut off while the others go on has a shorter log; with pre-vote its asks are
 * refused (log behind, or a leader heard) and no server's term moves while it is away and
 * after it rejoins. */
static void edge_prevote_terms_still(struct lab_ctx *ctx)
{
    lab_raft_opts_set(ctx, "pre-vote");
    struct raft_cfg *cfg = raft_cfg_make(ctx, 3, false, false);
    raft_cfg_begin(cfg, "pre-vote leaves every term as it is");
    int leader = raft_cfg_check_one_leader(cfg);
    int64_t term = raft_cfg_check_terms(cfg);
    int cut = (leader + 2) % 3;
    raft_cfg_disconnect(cfg, cut);
    for (int k = 0; k < 5; k++)
        raft_cfg_one_int(cfg, 300 + k, 2, true);
    sim_sleep_us(lab_sim(ctx), 3 * RAFT_ELECTION_TIMEOUT_US);
    raft_cfg_connect(cfg, cut);
    sim_sleep_us(lab_sim(ctx), RAFT_ELECTION_TIMEOUT_US);
    if (raft_cfg_check_terms(cfg) != term || raft_cfg_check_one_leader(cfg) != leader)
        lab_fatalf(ctx, cut, "a term moved although only pre-votes were asked");
    raft_cfg_one_int(cfg, 400, 3, true);
    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

static const struct lab_test edge_tests[] = {
    {"EdgeTransferErrors", LAB_PART_EXT, "transfer errors", edge_transfer_errors},
    {"EdgeTransferCatchUp", LAB_PART_EXT, "transfer catch-up", edge_transfer_catch_up},
    {"EdgePreVoteSingle", LAB_PART_EXT, "one server", edge_prevote_single},
    {"EdgeQuorumBareMajority", LAB_PART_EXT, "bare majority", edge_quorum_bare_majority},
    {"EdgePreVoteTermsStill", LAB_PART_EXT, "terms still", edge_prevote_terms_still},
};
#define EDGES_COUNT (sizeof(edge_tests) / sizeof(edge_tests[0]))

START_TEST(test_ext_prevote_edge)
{
    const struct lab_test *test = &edge_tests[(size_t)_i / EDGE_SEEDS];
    uint64_t seed = 1 + (uint64_t)_i % EDGE_SEEDS;
    struct captured run;
    run_captured(test, seed, &run);
    ck_assert_int_eq(run.rc, 0);
    ck_assert_msg(run.result.outcome == LAB_PASS, "%s seed %" PRIu64 " failed: %s\n%s", test->name,
                  seed, run.result.message, run.text);
    free(run.text);
}
END_TEST

/* ---------------------------------------------------------------- off means off */

static const char *const ext_kind_names[] = {
    "raft.prevote_request",    "raft.prevote_grant",    "raft.prevote_deny", "raft.vote_ignored",
    "raft.quorum_lost",        "raft.transfer_start",   "raft.timeout_now",  "raft.transfer_done",
    "raft.transfer_abandoned", "raft.transfer_campaign"};

/* How many of the mechanisms' kinds the trace of TestReElection3A (seed 1) names, with these
 * Raft options. */
static int ext_kinds_traced(const char *raft_opts)
{
    struct cu_dir dir;
    char path[256];
    cu_dir_make(&dir, "ext-prevote");
    cu_dir_file(&dir, "run.trace", path, sizeof(path));
    struct lab_opts opts = {
        .trace_path = path, .trace_topics = SIM_TOPICS_ALL, .raft_opts = raft_opts};
    struct lab_result result;
    ck_assert_int_eq(lab_run(lab_test_find("TestReElection3A"), 1, &opts, &result), 0);
    ck_assert_msg(result.outcome == LAB_PASS, "TestReElection3A with '%s': %s",
                  raft_opts != NULL ? raft_opts : "", result.message);
    size_t len = 0;
    char *text = cu_read_file(path, &len);
    ck_assert_ptr_nonnull(text);
    int found = 0;
    for (size_t i = 0; i < sizeof(ext_kind_names) / sizeof(ext_kind_names[0]); i++)
        found += strstr(text, ext_kind_names[i]) != NULL;
    free(text);
    return found;
}

START_TEST(test_ext_prevote_off_means_off)
{
    ck_assert_int_eq(ext_kinds_traced(NULL), 0);
    ck_assert_int_gt(ext_kinds_traced("pre-vote,check-quorum"), 0);
}
END_TEST

Suite *ext_prevote_suite(void)
{
    Suite *s = suite_create("ext_prevote");
    TCase *pairs = tcase_create("pairs");
    tcase_set_timeout(pairs, 120);
    tcase_add_loop_test(pairs, test_ext_prevote_pair, 0, (int)(PAIRS_COUNT * 2 * PAIR_SEEDS));
    suite_add_tcase(s, pairs);
    TCase *edges = tcase_create("edges");
    tcase_set_timeout(edges, 120);
    tcase_add_loop_test(edges, test_ext_prevote_edge, 0, (int)(EDGES_COUNT * EDGE_SEEDS));
    suite_add_tcase(s, edges);
    TCase *off = tcase_create("off");
    tcase_set_timeout(off, 60);
    tcase_add_test(off, test_ext_prevote_off_means_off);
    suite_add_tcase(s, off);
    return s;
}
