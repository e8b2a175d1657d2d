/* check_raft: the graded Raft suite under Check, and unit tests of the runner core (lab.c) and
 * the Raft tester (raft_cfg*.c).
 *
 * - graded: every test of lab_raft_tests on seeds 1, 2 and 3 must pass; the assertion text
 *   carries the failure report (message and replay command).
 * - determinism: per test, one seed twice gives the same digest, event count and virtual time;
 *   another seed gives another digest.
 * - runner: the failure report's exact shape, lab_fatalf ending its task, failures from event
 *   callbacks, first failure wins, the virtual cap, deadlock detection, the Passed line, the
 *   registry, trace writing.
 * - tester: the applier checks and one()/checkOneLeader failures fire with the Go messages
 *   (a check that cannot fail proves nothing).
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_suites.h"
#include "lab.h"
#include "raft_cfg_int.h"

#define GRADED_SEEDS 3
#define OUTPUT_MAX (1u << 16)

/* One run with its printed output captured. */
struct captured {
    struct lab_result result;
    int rc;
    char *text; /* malloc'd output */
};

static void run_captured(const struct lab_test *test, uint64_t seed, struct lab_opts opts,
                         struct captured *out)
{
    size_t len = 0;
    out->text = NULL;
    FILE *stream = open_memstream(&out->text, &len);
    ck_assert_ptr_nonnull(stream);
    opts.out = stream;
    out->rc = lab_run(test, seed, &opts, &out->result);
    fclose(stream);
}

/* ---------------------------------------------------------------- graded */

START_TEST(test_raft_graded_passes)
{
    /* _i enumerates (test, seed): each Raft test on seeds 1..GRADED_SEEDS. */
    size_t t = (size_t)_i / GRADED_SEEDS;
    uint64_t seed = 1 + (uint64_t)_i % GRADED_SEEDS;
    ck_assert_uint_lt(t, lab_raft_tests_count);
    const struct lab_test *test = &lab_raft_tests[t];
    struct captured run;
    run_captured(test, seed, (struct lab_opts){0}, &run);
    ck_assert_int_eq(run.rc, 0);
    ck_assert_msg(run.result.outcome == LAB_PASS, "%s seed %" PRIu64 " failed: %s\n%s", test->name,
                  seed, run.result.message, run.text);
    /* The first line is Go's begin() line with the catalogue title; one Passed line. */
    char begin[256];
    snprintf(begin, sizeof(begin), "Test (%s): %s ...\n", test->part, test->title);
    ck_assert_msg(strncmp(run.text, begin, strlen(begin)) == 0, "%s: output starts '%.80s'",
                  test->name, run.text);
    ck_assert_uint_eq(run.result.passed_lines, 1);
    ck_assert_ptr_nonnull(strstr(run.text, "  ... Passed --  "));
    free(run.text);
}
END_TEST

/* ---------------------------------------------------------------- determinism */

START_TEST(test_raft_same_seed_same_digest)
{
    const struct lab_test *test = &lab_raft_tests[_i];
    struct lab_result a;
    struct lab_result b;
    struct lab_result c;
    ck_assert_int_eq(lab_run(test, 11, NULL, &a), 0);
    ck_assert_int_eq(lab_run(test, 11, NULL, &b), 0);
    ck_assert_int_eq(lab_run(test, 12, NULL, &c), 0);
    ck_assert_msg(a.digest == b.digest, "%s seed 11: digests %016" PRIx64 " != %016" PRIx64,
                  test->name, a.digest, b.digest);
    ck_assert_uint_eq(a.events, b.events);
    ck_assert_uint_eq(a.virtual_us, b.virtual_us);
    ck_assert_int_eq(a.outcome, b.outcome);
    ck_assert_msg(a.digest != c.digest, "%s: seeds 11 and 12 give the same digest", test->name);
}
END_TEST

/* ---------------------------------------------------------------- runner core */

/* A failure from inside a task after 1.5 s of virtual time, on node 3. */
static void body_fail_in_task(struct lab_ctx *ctx)
{
    sim_sleep_us(lab_sim(ctx), SIM_MS(1500));
    lab_fatalf(ctx, 3, "committed values do not match: index %d, %d, %d", 212, 88, 91);
    /* Not reached: lab_fatalf ends the task like t.Fatalf. */
    lab_fatalf(ctx, 1, "lab_fatalf returned to its task");
}

static const struct lab_test test_fail_in_task = {"TestHarnessFail", "3A", "harness failure",
                                                  body_fail_in_task};

START_TEST(test_lab_failure_report_shape)
{
    struct captured run;
    run_captured(&test_fail_in_task, 1234567, (struct lab_opts){0}, &run);
    ck_assert_int_eq(run.rc, 0);
    ck_assert_str_eq(run.text,
                     "--- FAIL: TestHarnessFail (seed 1234567)\n"
                     "    at 1.500s virtual, node 3: committed values do not match: index 212, "
                     "88, 91\n"
                     "    replay: build/labsim replay TestHarnessFail --seed 1234567\n");
    ck_assert_int_eq(run.result.outcome, LAB_FAIL);
    ck_assert_int_eq(run.result.fail_node, 3);
    ck_assert_uint_eq(run.result.fail_at_us, SIM_MS(1500));
    ck_assert_uint_eq(run.result.seed, 1234567);
    ck_assert_str_eq(run.result.message, "committed values do not match: index 212, 88, 91");
    free(run.text);
}
END_TEST

static void body_fail_no_node(struct lab_ctx *ctx)
{
    lab_fatalf(ctx, SIM_NODE_NONE, "expected one leader, got none");
}

static const struct lab_test test_fail_no_node = {"TestHarnessNoNode", "3A", "no node",
                                                  body_fail_no_node};

START_TEST(test_lab_failure_without_node_and_custom_replay)
{
    struct captured run;
    run_captured(&test_fail_no_node, 7, (struct lab_opts){.replay_cmd = "./labsim"}, &run);
    ck_assert_str_eq(run.text, "--- FAIL: TestHarnessNoNode (seed 7)\n"
                               "    at 0.000s virtual: expected one leader, got none\n"
                               "    replay: ./labsim replay TestHarnessNoNode --seed 7\n");
    ck_assert_int_eq(run.result.fail_node, SIM_NODE_NONE);
    free(run.text);
}
END_TEST

static void fail_from_event(struct sim *sim, void *arg)
{
    struct lab_ctx *ctx = arg;
    (void)sim;
    lab_fatalf(ctx, 2, "apply error: from an event");
    lab_failf(ctx, 0, "a later failure must not replace the first");
}

static void body_fail_in_event(struct lab_ctx *ctx)
{
    sim_after(lab_sim(ctx), SIM_MS(250), fail_from_event, ctx);
    sim_sleep_us(lab_sim(ctx), SIM_S(10));
    lab_fatalf(ctx, 1, "the body ran on after the sim was stopped");
}

static const struct lab_test test_fail_in_event = {"TestHarnessEvent", "3B", "event failure",
                                                   body_fail_in_event};

START_TEST(test_lab_failure_from_event_first_wins)
{
    struct lab_result result;
    ck_assert_int_eq(lab_run(&test_fail_in_event, 5, NULL, &result), 0);
    ck_assert_int_eq(result.outcome, LAB_FAIL);
    ck_assert_str_eq(result.message, "apply error: from an event");
    ck_assert_int_eq(result.fail_node, 2);
    ck_assert_uint_eq(result.fail_at_us, SIM_MS(250));
    /* The run stopped at the failure: the body's 10 s sleep never finished. */
    ck_assert_uint_eq(result.virtual_us, SIM_MS(250));
}
END_TEST

static void body_sleep_past_cap(struct lab_ctx *ctx)
{
    sim_sleep_us(lab_sim(ctx), SIM_S(400));
}

static void body_block_forever(struct lab_ctx *ctx)
{
    sim_sleep_us(lab_sim(ctx), SIM_S(2));
    sim_task_park(lab_sim(ctx), SIM_TIMEOUT_NEVER);
}

static const struct lab_test test_past_cap = {"TestHarnessCap", "3C", "cap", body_sleep_past_cap};
static const struct lab_test test_blocked = {"TestHarnessBlocked", "3C", "blocked",
                                             body_block_forever};

START_TEST(test_lab_virtual_cap_and_deadlock)
{
    struct lab_result result;
    ck_assert_int_eq(lab_run(&test_past_cap, 1, NULL, &result), 0);
    ck_assert_int_eq(result.outcome, LAB_FAIL);
    ck_assert_str_eq(result.message, "test did not finish within the 300 s virtual cap");
    ck_assert_uint_eq(result.fail_at_us, SIM_S(300));

    ck_assert_int_eq(lab_run(&test_blocked, 1, NULL, &result), 0);
    ck_assert_int_eq(result.outcome, LAB_FAIL);
    ck_assert_str_eq(result.message,
                     "test blocked forever: no pending events and the test has not returned");
    ck_assert_uint_eq(result.fail_at_us, SIM_S(2));
}
END_TEST

static void body_passed_line(struct lab_ctx *ctx)
{
    lab_begin(ctx, "initial election");
    sim_sleep_us(lab_sim(ctx), SIM_MS(3600));
    lab_passed(ctx, 3.6, "3   54   14100    0");
    /* A failed test prints no Passed line (Go's end() checks t.Failed()). */
    lab_failf(ctx, SIM_NODE_NONE, "failed after passing");
    lab_passed(ctx, 3.6, "3   54   14100    0");
}

static const struct lab_test test_passed_line = {"TestHarnessPassed", "3A", "initial election",
                                                 body_passed_line};

START_TEST(test_lab_begin_and_passed_lines)
{
    struct captured run;
    run_captured(&test_passed_line, 1, (struct lab_opts){0}, &run);
    ck_assert_ptr_nonnull(strstr(run.text, "Test (3A): initial election ...\n"
                                           "  ... Passed --   3.6  3   54   14100    0\n"
                                           "--- FAIL: TestHarnessPassed (seed 1)\n"));
    ck_assert_uint_eq(run.result.passed_lines, 1);
    free(run.text);
}
END_TEST

START_TEST(test_lab_registry)
{
    size_t count = lab_tests_count();
    ck_assert_uint_eq(count, lab_mr_tests_count + lab_kvsrv_tests_count + lab_raft_tests_count +
                                 lab_kv_tests_count + lab_sc_tests_count + lab_skv_tests_count +
                                 lab_ext_tests_count);
    ck_assert_uint_eq(lab_raft_tests_count, 28);
    for (size_t i = 0; i < count; i++) {
        ck_assert_ptr_eq(lab_test_find(lab_test_at(i)->name), lab_test_at(i));
        ck_assert(lab_test_at(i)->fn != NULL);
    }
    ck_assert_ptr_null(lab_test_at(count));
    ck_assert_str_eq(lab_test_at(0)->name, "TestWc1"); /* course order: lab 1 first */
    ck_assert_str_eq(lab_test_at(lab_mr_tests_count + lab_kvsrv_tests_count)->name,
                     "TestInitialElection3A");
    ck_assert_str_eq(lab_test_find("TestFigure8Unreliable3C")->part, "3C");
    ck_assert_str_eq(lab_test_find("TestSnapshotInit3D")->title,
                     "snapshot initialization after crash");
    ck_assert_ptr_null(lab_test_find("TestNoSuchThing"));
    ck_assert_ptr_null(lab_test_find(""));
    ck_assert_ptr_null(lab_test_find(NULL));
}
END_TEST

START_TEST(test_lab_trace_written)
{
    char dir[] = "/tmp/labsim-check-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/trace.txt", dir);
    struct lab_opts opts = {.trace_path = path, .trace_topics = SIM_TOPICS_ALL};
    struct lab_result result;
    ck_assert_int_eq(lab_run(lab_test_find("TestInitialElection3A"), 1, &opts, &result), 0);
    FILE *f = fopen(path, "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    ck_assert_int_gt(ftell(f), 0);
    fclose(f);
    unlink(path);
    rmdir(dir);

    /* An unwritable path is reported, and the run itself still completes. */
    opts.trace_path = "/nonexistent-dir/trace.txt";
    ck_assert_int_eq(lab_run(lab_test_find("TestInitialElection3A"), 1, &opts, &result), SIM_EIO);
    ck_assert_int_eq(result.outcome, LAB_PASS);
}
END_TEST

/* ---------------------------------------------------------------- tester checks */

/* Builds a 3-server config, then crashes everyone so the test can feed the appliers by hand. */
static struct raft_cfg *cfg_all_crashed(struct lab_ctx *ctx, bool snapshot)
{
    struct raft_cfg *cfg = raft_cfg_make(ctx, 3, false, snapshot);
    for (int i = 0; i < 3; i++)
        raft_cfg_crash1(cfg, i);
    return cfg;
}

/* Feeds an int command to the apply callback of instance k (the k-th ever made). */
static void feed(struct raft_cfg *cfg, size_t k, uint64_t index, int64_t v)
{
    struct gob_enc e;
    gob_enc_init(&e);
    struct raft_cfg_value cmd = raft_cfg_int(v);
    raft_cfg_cmd_encode(&cmd, &e);
    struct raft_apply_msg msg = {.command_valid = true,
                                 .command = gob_enc_bytes(&e),
                                 .command_len = gob_enc_len(&e),
                                 .command_index = index};
    raft_cfg_apply(cfg->instances[k], &msg);
    gob_enc_free(&e);
}

static void body_apply_mismatch(struct lab_ctx *ctx)
{
    struct raft_cfg *cfg = cfg_all_crashed(ctx, false);
    feed(cfg, 0, 1, 5);
    feed(cfg, 1, 1, 5);
    ck_assert(!lab_failed(ctx));
    ck_assert_int_eq(raft_cfg_n_committed(cfg, 1, NULL), 2);
    feed(cfg, 2, 1, 6);
    raft_cfg_cleanup(cfg);
}

static void body_apply_gap(struct lab_ctx *ctx)
{
    struct raft_cfg *cfg = cfg_all_crashed(ctx, false);
    feed(cfg, 0, 1, 5);
    feed(cfg, 0, 3, 7);
    raft_cfg_cleanup(cfg);
}

static void body_apply_snap_order(struct lab_ctx *ctx)
{
    struct raft_cfg *cfg = cfg_all_crashed(ctx, true);
    feed(cfg, 1, 1, 5);
    feed(cfg, 1, 1, 5);
    raft_cfg_cleanup(cfg);
}

static void body_apply_garbage(struct lab_ctx *ctx)
{
    struct raft_cfg *cfg = cfg_all_crashed(ctx, false);
    static const uint8_t junk[] = {0xff, 0xff, 0xff};
    struct raft_apply_msg msg = {
        .command_valid = true, .command = junk, .command_len = sizeof(junk), .command_index = 1};
    raft_cfg_apply(cfg->instances[0], &msg);
    raft_cfg_cleanup(cfg);
}

static void body_snapshot_mismatch(struct lab_ctx *ctx)
{
    struct raft_cfg *cfg = cfg_all_crashed(ctx, true);
    struct gob_enc e;
    gob_enc_init(&e);
    gob_put_uint(&e, 1, 9);
    gob_put_array_begin(&e, 2, GOB_RECORD, 10);
    for (int j = 0; j < 10; j++) {
        gob_put_record_begin(&e, 0);
        gob_put_uint(&e, 1, j == 0 ? 0 : 1);
        gob_put_int(&e, 2, j);
        gob_put_record_end(&e);
    }
    gob_put_array_end(&e);
    ck_assert_int_eq(gob_enc_finish(&e), GOB_OK);
    struct raft_apply_msg msg = {.snapshot_valid = true,
                                 .snapshot = gob_enc_bytes(&e),
                                 .snapshot_len = gob_enc_len(&e),
                                 .snapshot_index = 9};
    raft_cfg_apply(cfg->instances[2], &msg);
    ck_assert(!lab_failed(ctx));
    ck_assert_int_eq(cfg->last_applied[2], 9);
    ck_assert_int_eq(raft_cfg_n_committed(cfg, 9, NULL), 1);
    msg.snapshot_index = 8;
    raft_cfg_apply(cfg->instances[2], &msg);
    gob_enc_free(&e);
    raft_cfg_cleanup(cfg);
}

static void body_one_fails(struct lab_ctx *ctx)
{
    struct raft_cfg *cfg = cfg_all_crashed(ctx, false);
    raft_cfg_one_int(cfg, 5, 3, true);
    raft_cfg_cleanup(cfg);
}

static void body_no_leader(struct lab_ctx *ctx)
{
    struct raft_cfg *cfg = cfg_all_crashed(ctx, false);
    raft_cfg_check_one_leader(cfg);
    raft_cfg_cleanup(cfg);
}

/* The continuous election-safety check: after a real election the hook has recorded the
 * leader of its term; a forged record naming another server for that term must make the next
 * hook call fail with Go's wording. */
static void body_two_leaders(struct lab_ctx *ctx)
{
    struct raft_cfg *cfg = raft_cfg_make(ctx, 3, false, false);
    int leader = raft_cfg_check_one_leader(cfg);
    uint64_t term = 0;
    ck_assert(raft_cfg_get_state(cfg, leader, &term));
    size_t k = 0;
    while (k < cfg->terms_count && cfg->terms[k].term != term)
        k++;
    ck_assert_uint_lt(k, cfg->terms_count);
    ck_assert_int_eq(cfg->terms[k].leader, leader);
    cfg->terms[k].leader = (leader + 1) % 3;
    cfg->seen_leader_rf[leader] = NULL;
    raft_cfg_event_hook(lab_sim(ctx), cfg);
    raft_cfg_cleanup(cfg);
}

struct expect_failure {
    struct lab_test test;
    const char *message;
    int node;
    sim_time_us at_us_min;
    sim_time_us at_us_max;
};

static const struct expect_failure tester_failures[] = {
    {{"TestApplyMismatch", "3B", "t", body_apply_mismatch},
     "apply error: commit index=1 server=2 6 != server=1 5",
     2,
     0,
     SIM_MS(1)},
    {{"TestApplyGap", "3B", "t", body_apply_gap},
     "apply error: server 0 apply out of order 3",
     0,
     0,
     SIM_MS(1)},
    {{"TestApplySnapOrder", "3D", "t", body_apply_snap_order},
     "apply error: server 1 apply out of order, expected index 2, got 1",
     1,
     0,
     SIM_MS(1)},
    {{"TestApplyGarbage", "3B", "t", body_apply_garbage},
     "apply error: server 0 applied a command at index 1 that is not one the tester submitted "
     "(not a labgob v2 message: missing or malformed header, or its length does not match)",
     0,
     0,
     SIM_MS(1)},
    {{"TestSnapMismatch", "3D", "t", body_snapshot_mismatch},
     "apply error: server 2 snapshot doesn't match m.SnapshotIndex",
     2,
     0,
     SIM_MS(1)},
    {{"TestOneFails", "3B", "t", body_one_fails},
     "one(5) failed to reach agreement",
     SIM_NODE_NONE,
     SIM_S(10),
     SIM_S(10) + SIM_MS(50)},
    {{"TestNoLeader", "3A", "t", body_no_leader},
     "expected one leader, got none",
     SIM_NODE_NONE,
     SIM_MS(4500),
     SIM_MS(5500)},
    {{"TestTwoLeaders", "3A", "t", body_two_leaders}, NULL, -2, SIM_MS(450), SIM_S(6)},
};

START_TEST(test_raft_cfg_checks_fail)
{
    const struct expect_failure *want = &tester_failures[_i];
    struct lab_result result;
    ck_assert_int_eq(lab_run(&want->test, 3, NULL, &result), 0);
    ck_assert_msg(result.outcome == LAB_FAIL, "%s passed", want->test.name);
    if (want->message != NULL) {
        ck_assert_str_eq(result.message, want->message);
        ck_assert_int_eq(result.fail_node, want->node);
    } else {
        /* The leader and term depend on the run: check the shape. */
        ck_assert_ptr_nonnull(strstr(result.message, " has 2 (>1) leaders"));
        ck_assert_int_ge(result.fail_node, 0);
    }
    ck_assert_uint_ge(result.fail_at_us, want->at_us_min);
    ck_assert_uint_le(result.fail_at_us, want->at_us_max);
}
END_TEST

START_TEST(test_raft_cfg_values)
{
    struct gob_enc e;
    struct raft_cfg_value v;
    static const uint8_t text[] = "hello";
    struct raft_cfg_value s = raft_cfg_str(text, 5);
    struct raft_cfg_value n = raft_cfg_int(-42);
    char buf[64];
    gob_enc_init(&e);
    raft_cfg_cmd_encode(&s, &e);
    ck_assert_int_eq(raft_cfg_cmd_decode(gob_enc_bytes(&e), gob_enc_len(&e), &v), GOB_OK);
    ck_assert(raft_cfg_value_equal(&v, &s));
    ck_assert(!raft_cfg_value_equal(&v, &n));
    gob_enc_reset(&e);
    raft_cfg_cmd_encode(&n, &e);
    ck_assert_int_eq(raft_cfg_cmd_decode(gob_enc_bytes(&e), gob_enc_len(&e), &v), GOB_OK);
    ck_assert(raft_cfg_value_equal(&v, &n));
    raft_cfg_value_format(&v, buf, sizeof(buf));
    ck_assert_str_eq(buf, "-42");
    gob_enc_free(&e);
    /* Int 0 is the empty message, as gob leaves zero values out. */
    ck_assert_int_eq(raft_cfg_cmd_decode(NULL, 0, &v), GOB_OK);
    ck_assert_int_eq(v.kind, RAFT_CFG_INT);
    ck_assert_int_eq(v.num, 0);
}
END_TEST

Suite *raft_suite(void)
{
    Suite *s = suite_create("raft");

    TCase *graded = tcase_create("graded");
    tcase_set_timeout(graded, 120);
    tcase_add_loop_test(graded, test_raft_graded_passes, 0,
                        (int)(lab_raft_tests_count * GRADED_SEEDS));
    suite_add_tcase(s, graded);

    TCase *determinism = tcase_create("determinism");
    tcase_set_timeout(determinism, 120);
    tcase_add_loop_test(determinism, test_raft_same_seed_same_digest, 0, (int)lab_raft_tests_count);
    suite_add_tcase(s, determinism);

    TCase *runner = tcase_create("runner");
    tcase_set_timeout(runner, 60);
    tcase_add_test(runner, test_lab_failure_report_shape);
    tcase_add_test(runner, test_lab_failure_without_node_and_custom_replay);
    tcase_add_test(runner, test_lab_failure_from_event_first_wins);
    tcase_add_test(runner, test_lab_virtual_cap_and_deadlock);
    tcase_add_test(runner, test_lab_begin_and_passed_lines);
    tcase_add_test(runner, test_lab_registry);
    tcase_add_test(runner, test_lab_trace_written);
    suite_add_tcase(s, runner);

    TCase *tester = tcase_create("tester");
    tcase_set_timeout(tester, 60);
    tcase_add_loop_test(tester, test_raft_cfg_checks_fail, 0,
                        (int)(sizeof(tester_failures) / sizeof(tester_failures[0])));
    tcase_add_test(tester, test_raft_cfg_values);
    suite_add_tcase(s, tester);
    return s;
}
