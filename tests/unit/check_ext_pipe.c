/* check_ext_pipe: RAFT_OPT_PIPELINE (raft/pipeline.c).
 *
 *   scenario  TestPipelineStreamExt passes (every command of a stream over a slow network
 *             commits within one round trip) and its twin passes (without the option some
 *             command waits longer), on a handful of seeds, in-process through lab_run.
 *   reorder   graded Raft tests with reordering, duplication-free loss and long delays pass with
 *             the option on (TestFigure8Unreliable3C, TestReliableChurn3C on two seeds), and a
 *             run with it on is as deterministic as one without.
 *   unit      the progress-state rules on a hand-made leader: off means the lab's rules; a
 *             send in replicate advances nextIndex at once, within the window; a stale
 *             rejection changes nothing; a real one, or the loss of the latest request, goes
 *             back to probe without ever putting nextIndex at or below matchIndex.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"
#include "raft_int.h"
#include "sim.h"

/* ---------------------------------------------------------------- scenario */

static void run_expect_pass(const char *name, uint64_t seed, const char *raft_opts)
{
    const struct lab_test *test = lab_test_find(name);
    ck_assert_ptr_nonnull(test);
    struct lab_opts opts = {.raft_opts = raft_opts};
    struct lab_result res;
    ck_assert_int_eq(lab_run(test, seed, &opts, &res), 0);
    ck_assert_msg(res.outcome == LAB_PASS, "%s seed %llu (--raft-opts %s): %s", name,
                  (unsigned long long)seed, raft_opts != NULL ? raft_opts : "", res.message);
}

START_TEST(test_pipe_scenario_pair)
{
    for (uint64_t seed = 1; seed <= 4; seed++) {
        run_expect_pass("TestPipelineStreamExt", seed, NULL);
        run_expect_pass("TestPipelineStreamTwinExt", seed, NULL);
    }
}
END_TEST

/* The scenario sets its own options: a run's --raft-opts pipeline does not turn the twin's on. */
START_TEST(test_pipe_twin_ignores_run_opts)
{
    run_expect_pass("TestPipelineStreamTwinExt", 1, "pipeline");
}
END_TEST

/* ---------------------------------------------------------------- reorder */

START_TEST(test_pipe_reordering_tests_pass)
{
    for (uint64_t seed = 1; seed <= 2; seed++) {
        run_expect_pass("TestFigure8Unreliable3C", seed, "pipeline");
        run_expect_pass("TestReliableChurn3C", seed, "pipeline");
    }
}
END_TEST

START_TEST(test_pipe_same_seed_same_digest)
{
    const struct lab_test *test = lab_test_find("TestPipelineStreamExt");
    ck_assert_ptr_nonnull(test);
    struct lab_result a;
    struct lab_result b;
    ck_assert_int_eq(lab_run(test, 7, NULL, &a), 0);
    ck_assert_int_eq(lab_run(test, 7, NULL, &b), 0);
    ck_assert_uint_eq(a.digest, b.digest);
}
END_TEST

/* ---------------------------------------------------------------- unit */

/* A leader of term 3 with peers 0-2 (me = 0), log 1..10 of term 3, inside a sim for the
 * traces and assertions. */
struct pipe_fixture {
    struct sim *sim;
    struct raft *rf;
};

static void fixture_make(struct pipe_fixture *f, bool on)
{
    f->sim = sim_new(1);
    ck_assert_ptr_nonnull(f->sim);
    f->rf = calloc(1, sizeof(*f->rf));
    ck_assert_ptr_nonnull(f->rf);
    struct raft *rf = f->rf;
    rf->sim = f->sim;
    rf->peers_count = 3;
    rf->me = 0;
    rf->opts.flags = on ? RAFT_OPT_PIPELINE : 0;
    rf->current_term = 3;
    rf->voted_for = 0;
    rf->role = RAFT_LEADER;
    rf->transfer_target = -1; /* as raft_make leaves them: no transfer, every peer a voter */
    raft_member_init(rf);
    raft_log_init(&rf->log);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(raft_log_append(&rf->log, 3, NULL, 0), RAFT_OK);
    for (int i = 0; i < 3; i++)
        rf->next_index[i] = 11;
    raft_pipe_reset(rf);
}

static void fixture_free(struct pipe_fixture *f)
{
    raft_log_close(&f->rf->log);
    free(f->rf);
    sim_free(f->sim);
}

START_TEST(test_pipe_off_keeps_lab_rules)
{
    struct pipe_fixture f;
    fixture_make(&f, false);
    struct raft *rf = f.rf;
    rf->next_index[1] = 5;
    rf->match_index[1] = 4;
    rf->inflight_index[1] = 4;
    ck_assert(raft_pipe_may_send(rf, 1));
    rf->inflight_index[1] = 10;
    ck_assert(!raft_pipe_may_send(rf, 1)); /* one AppendEntries beyond matchIndex at a time */
    raft_pipe_sent(rf, 1, 4, 6);
    raft_pipe_matched(rf, 1);
    ck_assert_uint_eq(rf->next_index[1], 5); /* no optimistic advance */
    ck_assert_uint_eq(rf->pipe_inflight[1], 0);
    ck_assert(!raft_pipe_reject_stale(rf, 1, 4)); /* the current probe */
    ck_assert(raft_pipe_reject_stale(rf, 1, 6));
    raft_pipe_lost(rf, 1);
    ck_assert_uint_eq(rf->next_index[1], 5);
    fixture_free(&f);
}
END_TEST

START_TEST(test_pipe_replicate_advances_within_window)
{
    struct pipe_fixture f;
    fixture_make(&f, true);
    struct raft *rf = f.rf;
    ck_assert_int_eq(rf->pipe_state[1], RAFT_PIPE_PROBE);
    rf->match_index[1] = 4;
    rf->next_index[1] = 5;
    raft_pipe_matched(rf, 1);
    ck_assert_int_eq(rf->pipe_state[1], RAFT_PIPE_REPLICATE);
    ck_assert(raft_pipe_may_send(rf, 1));
    raft_pipe_sent(rf, 1, 4, 2); /* entries 5, 6 */
    ck_assert_uint_eq(rf->next_index[1], 7);
    for (uint32_t k = 1; k < RAFT_PIPELINE_WINDOW; k++) {
        ck_assert(raft_pipe_may_send(rf, 1));
        raft_pipe_sent(rf, 1, rf->next_index[1] - 1, 0);
    }
    ck_assert_uint_eq(rf->pipe_inflight[1], RAFT_PIPELINE_WINDOW);
    ck_assert(!raft_pipe_may_send(rf, 1)); /* window full */
    raft_pipe_done(rf, 1, 3);
    ck_assert(raft_pipe_may_send(rf, 1));
    raft_pipe_done(rf, 1, 2); /* an older term's call is not counted */
    ck_assert_uint_eq(rf->pipe_inflight[1], RAFT_PIPELINE_WINDOW - 1);
    rf->next_index[1] = 11;
    ck_assert(!raft_pipe_may_send(rf, 1)); /* nothing new to send */
    raft_check_invariants(rf);
    fixture_free(&f);
}
END_TEST

START_TEST(test_pipe_stale_and_real_rejections)
{
    struct pipe_fixture f;
    fixture_make(&f, true);
    struct raft *rf = f.rf;
    rf->match_index[1] = 6;
    rf->next_index[1] = 11;
    raft_pipe_matched(rf, 1);
    /* A rejection at or below matchIndex was overtaken by a success: nothing changes. */
    ck_assert(raft_pipe_reject_stale(rf, 1, 6));
    ck_assert(raft_pipe_reject_stale(rf, 1, 3));
    ck_assert_int_eq(rf->pipe_state[1], RAFT_PIPE_REPLICATE);
    ck_assert_uint_eq(rf->next_index[1], 11);
    /* One beyond it is real: back to probe (the caller then backs nextIndex up). */
    ck_assert(!raft_pipe_reject_stale(rf, 1, 8));
    ck_assert_int_eq(rf->pipe_state[1], RAFT_PIPE_PROBE);
    /* In probe only the reply to the probe at nextIndex - 1 counts. */
    rf->next_index[1] = 8;
    ck_assert(raft_pipe_reject_stale(rf, 1, 9));
    ck_assert(!raft_pipe_reject_stale(rf, 1, 7));
    ck_assert(raft_pipe_reject_stale(rf, 1, 5)); /* at or below matchIndex: stale */
    fixture_free(&f);
}
END_TEST

START_TEST(test_pipe_loss_restarts_from_match)
{
    struct pipe_fixture f;
    fixture_make(&f, true);
    struct raft *rf = f.rf;
    rf->match_index[2] = 3;
    rf->next_index[2] = 4;
    raft_pipe_matched(rf, 2);
    raft_pipe_sent(rf, 2, 3, 7);
    ck_assert_uint_eq(rf->next_index[2], 11);
    raft_pipe_lost(rf, 2);
    ck_assert_int_eq(rf->pipe_state[2], RAFT_PIPE_PROBE);
    ck_assert_uint_eq(rf->next_index[2], 4);
    ck_assert_uint_gt(rf->next_index[2], rf->match_index[2]);
    raft_check_invariants(rf);
    fixture_free(&f);
}
END_TEST

Suite *ext_pipe_suite(void)
{
    Suite *s = suite_create("ext_pipe");
    TCase *scenario = tcase_create("scenario");
    tcase_set_timeout(scenario, 120);
    tcase_add_test(scenario, test_pipe_scenario_pair);
    tcase_add_test(scenario, test_pipe_twin_ignores_run_opts);
    suite_add_tcase(s, scenario);
    TCase *reorder = tcase_create("reorder");
    tcase_set_timeout(reorder, 300);
    tcase_add_test(reorder, test_pipe_reordering_tests_pass);
    tcase_add_test(reorder, test_pipe_same_seed_same_digest);
    suite_add_tcase(s, reorder);
    TCase *unit = tcase_create("unit");
    tcase_add_test(unit, test_pipe_off_keeps_lab_rules);
    tcase_add_test(unit, test_pipe_replicate_advances_within_window);
    tcase_add_test(unit, test_pipe_stale_and_real_rejections);
    tcase_add_test(unit, test_pipe_loss_restarts_from_match);
    suite_add_tcase(s, unit);
    return s;
}
