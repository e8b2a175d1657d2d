/* check_ext_member: membership change and learners (raft/membership.c, raft_ext.h section
 * "membership and learners") and their scenario pairs (tests/raftext/ext_member.c).
 *
 * The pairs run in-process through lab_run on a few seeds: the on-test must pass and its twin
 * must pass too, which means it saw the failure (it says so in a "twin:" line). The unit cases
 * are small bodies of their own over the same tester (tests/raftext/ext_member_cfg.h), each
 * checking one edge of the mechanism and failing its run with a message when it does not hold.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "check_util.h"
#include "ext_member_cfg.h"
#include "lab.h"
#include "lab_persist.h"

#define PAIR_SEEDS 3
#define OUTPUT_MAX (1u << 16)

static const char *const pair_names[] = {
    "TestMemberPartitionExt",
    "TestMemberPartitionTwinExt",
    "TestMemberLearnerExt",
    "TestMemberLearnerTwinExt",
};

static void run_body(const struct lab_test *test, uint64_t seed, struct lab_result *result,
                     char **text)
{
    size_t len = 0;
    *text = NULL;
    FILE *stream = open_memstream(text, &len);
    ck_assert_ptr_nonnull(stream);
    struct lab_opts opts = {.out = stream};
    ck_assert_int_eq(lab_run(test, seed, &opts, result), 0);
    fclose(stream);
}

static void expect_pass(const struct lab_test *test, uint64_t seed)
{
    struct lab_result result;
    char *text = NULL;
    run_body(test, seed, &result, &text);
    ck_assert_msg(result.outcome == LAB_PASS, "%s seed %" PRIu64 ": %s\n%s", test->name, seed,
                  result.message, text);
    if (strstr(test->name, "Twin") != NULL)
        ck_assert_msg(strstr(text, "  twin: ") != NULL, "%s: no twin line\n%s", test->name, text);
    free(text);
}

START_TEST(test_ext_member_pairs)
{
    size_t t = (size_t)_i / PAIR_SEEDS;
    uint64_t seed = 1 + (uint64_t)_i % PAIR_SEEDS;
    const struct lab_test *test = lab_test_find(pair_names[t]);
    ck_assert_ptr_nonnull(test);
    ck_assert_str_eq(test->part, LAB_PART_EXT);
    expect_pass(test, seed);
}
END_TEST

/* ---------------------------------------------------------------- unit bodies */

#define EXPECT(ctx, cond, ...)                                                                     \
    do {                                                                                           \
        if (!(cond)) lab_fatalf((ctx), SIM_NODE_NONE, __VA_ARGS__);                                \
    } while (0)

/* Refusals: not the leader, before the leader's term committed, a second change while one is
 * pending, several servers at once, a lagging learner, an impossible server. */
static void body_refusals(struct lab_ctx *ctx)
{
    struct raft_cfg *cfg = ext_member_cfg_make(ctx, 4, 0x7u, "membership", false);
    raft_cfg_begin(cfg, "membership refusals");
    int leader = ext_member_wait_leader(cfg, 0x7u, 0, SIM_S(5));
    EXPECT(ctx, leader >= 0, "no leader");
    struct raft *rf = raft_cfg_raft(cfg, leader);
    struct raft *follower = raft_cfg_raft(cfg, (leader + 1) % 3);
    int rc = raft_member_add_learner(follower, 3, NULL);
    EXPECT(ctx, rc == RAFT_ENOTLEADER, "follower: %s", raft_strerror(rc));
    rc = raft_member_add_learner(rf, 3, NULL);
    EXPECT(ctx, rc == RAFT_ENOTREADY, "before a commit of its term: %s", raft_strerror(rc));
    raft_cfg_one_int(cfg, 7, 3, true);
    /* Server 3 is no member yet: nobody contacts it and it never campaigns. */
    sim_sleep_us(lab_sim(ctx), SIM_S(2));
    struct raft_inspect outsider;
    raft_inspect(raft_cfg_raft(cfg, 3), &outsider);
    EXPECT(ctx, outsider.term == 0 && outsider.role == RAFT_FOLLOWER && outsider.last_index == 0,
           "non-member 3 at term %" PRIu64 ", role %d", outsider.term, (int)outsider.role);
    rc = raft_member_promote(rf, 3, NULL);
    EXPECT(ctx, rc == RAFT_ESERVER, "promote a non-learner: %s", raft_strerror(rc));
    struct raft_config two = {.voters = 0xfu};
    rc = raft_member_change(rf, &two, NULL);
    EXPECT(ctx, rc == RAFT_ELAGGING, "voter straight away: %s", raft_strerror(rc));
    two = (struct raft_config){.voters = 0x3u, .learners = 0x8u};
    rc = raft_member_change(rf, &two, NULL);
    EXPECT(ctx, rc == RAFT_EMULTI, "two servers at once: %s", raft_strerror(rc));
    rc = raft_member_add_learner(rf, RAFT_PEERS_MAX, NULL);
    EXPECT(ctx, rc == RAFT_ESERVER, "server out of range: %s", raft_strerror(rc));
    uint64_t index = 0;
    rc = raft_member_add_learner(rf, 3, &index);
    EXPECT(ctx, rc == 0 && index > 0, "add learner: %s", raft_strerror(rc));
    struct raft_config cur;
    uint64_t cur_index = 0;
    raft_member_config(rf, &cur, &cur_index);
    EXPECT(ctx, cur.learners == 0x8u && cur_index == index, "not in effect on append");
    rc = raft_member_remove(rf, 1, NULL);
    EXPECT(ctx, rc == RAFT_ECHANGE_PENDING, "second change: %s", raft_strerror(rc));
    raft_cfg_one_int(cfg, 8, 3, true);
    struct raft_member_progress progress;
    EXPECT(ctx, raft_member_progress(rf, 3, &progress) == 0 && progress.caught_up,
           "learner 3 not reported caught up (match %" PRIu64 " of %" PRIu64 ")",
           progress.match_index, progress.last_index);
    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

/* Without the option: every call refuses, the configuration is every peer. */
static void body_off(struct lab_ctx *ctx)
{
    struct raft_cfg *cfg = ext_member_cfg_make(ctx, 3, 0, "", false);
    raft_cfg_begin(cfg, "membership calls without the option");
    int leader = raft_cfg_check_one_leader(cfg);
    raft_cfg_one_int(cfg, 5, 3, true);
    struct raft *rf = raft_cfg_raft(cfg, leader);
    struct raft_config cur;
    uint64_t cur_index = 9;
    raft_member_config(rf, &cur, &cur_index);
    EXPECT(ctx, cur.voters == 0x7u && cur.learners == 0 && cur_index == 0, "config not all peers");
    int rc = raft_member_remove(rf, (leader + 1) % 3, NULL);
    EXPECT(ctx, rc == RAFT_EOPTION, "remove without the option: %s", raft_strerror(rc));
    struct raft_member_progress progress;
    rc = raft_member_progress(rf, 0, &progress);
    EXPECT(ctx, rc == RAFT_EOPTION, "progress without the option: %s", raft_strerror(rc));
    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

/* The configuration survives compaction and restarts (Raft's own persisted state) and reaches
 * a server that catches up by InstallSnapshot. */
static void body_snapshot(struct lab_ctx *ctx)
{
    struct raft_cfg *cfg = ext_member_cfg_make(ctx, 5, 0x7u, "membership", true);
    raft_cfg_begin(cfg, "configurations in snapshots");
    int64_t cmd = 100;
    raft_cfg_one_int(cfg, cmd++, 3, true);
    EXPECT(ctx, ext_member_step(cfg, 0xfu, EXT_MEMBER_ADD_LEARNER, 3, &cmd, SIM_S(10)) == 0,
           "add learner 3");
    int rc = -1;
    for (int k = 0; k < 50 && rc != 0; k++)
        rc = ext_member_step(cfg, 0xfu, EXT_MEMBER_PROMOTE, 3, &cmd, SIM_S(10));
    EXPECT(ctx, rc == 0, "promote 3: %s", raft_strerror(rc));
    raft_cfg_disconnect(cfg, 4);
    EXPECT(ctx, ext_member_step(cfg, 0xfu, EXT_MEMBER_ADD_LEARNER, 4, &cmd, SIM_S(10)) == 0,
           "add learner 4");
    for (int k = 0; k < 30; k++) /* several snapshots: the change entries are compacted away */
        raft_cfg_one_int(cfg, cmd++, 4, true);
    for (int i = 0; i < 4; i++) {
        raft_cfg_start1(cfg, i, RAFT_CFG_APPLIER_SNAP);
        raft_cfg_connect(cfg, i);
        struct raft_config cur;
        raft_member_config(raft_cfg_raft(cfg, i), &cur, NULL);
        EXPECT(ctx, cur.voters == 0xfu && cur.learners == 0x10u,
               "server %d restarted with voters %#x learners %#x", i, cur.voters, cur.learners);
    }
    raft_cfg_connect(cfg, 4); /* far behind: InstallSnapshot */
    raft_cfg_one_int(cfg, cmd++, 5, true);
    struct raft_config got;
    raft_member_config(raft_cfg_raft(cfg, 4), &got, NULL);
    EXPECT(ctx, got.voters == 0xfu && got.learners == 0x10u,
           "learner 4 has voters %#x learners %#x", got.voters, got.learners);
    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

/* An uncommitted configuration entry that a new leader overwrites is undone. */
static void body_rollback(struct lab_ctx *ctx)
{
    struct raft_cfg *cfg = ext_member_cfg_make(ctx, 4, 0x7u, "membership", false);
    raft_cfg_begin(cfg, "a truncated configuration entry rolls back");
    raft_cfg_one_int(cfg, 1, 3, true);
    int leader = ext_member_wait_leader(cfg, 0x7u, 0, SIM_S(5));
    EXPECT(ctx, leader >= 0, "no leader");
    int a = (leader + 1) % 3;
    int b = (leader + 2) % 3;
    raft_cfg_disconnect(cfg, a);
    raft_cfg_disconnect(cfg, b);
    int rc = raft_member_add_learner(raft_cfg_raft(cfg, leader), 3, NULL);
    EXPECT(ctx, rc == 0, "add learner alone: %s", raft_strerror(rc));
    raft_cfg_disconnect(cfg, leader);
    raft_cfg_connect(cfg, a);
    raft_cfg_connect(cfg, b);
    raft_cfg_one_int(cfg, 2, 2, true);
    raft_cfg_connect(cfg, leader);
    raft_cfg_one_int(cfg, 3, 3, true);
    struct raft_config cur;
    raft_member_config(raft_cfg_raft(cfg, leader), &cur, NULL);
    EXPECT(ctx, cur.voters == 0x7u && cur.learners == 0, "old leader kept learners %#x",
           cur.learners);
    raft_cfg_end(cfg);
    raft_cfg_cleanup(cfg);
}

static const struct lab_test unit_tests[] = {
    {"TestMemberRefusalsUnit", LAB_PART_EXT, "membership refusals", body_refusals},
    {"TestMemberOffUnit", LAB_PART_EXT, "membership calls without the option", body_off},
    {"TestMemberSnapshotUnit", LAB_PART_EXT, "configurations in snapshots", body_snapshot},
    {"TestMemberRollbackUnit", LAB_PART_EXT, "a truncated configuration entry rolls back",
     body_rollback},
};

START_TEST(test_ext_member_units)
{
    size_t t = (size_t)_i / PAIR_SEEDS;
    expect_pass(&unit_tests[t], 1 + (uint64_t)_i % PAIR_SEEDS);
}
END_TEST

START_TEST(test_ext_member_words)
{
    unsigned opts = 0;
    char err[320];
    ck_assert_int_eq(lab_raft_opts_parse("member-unsafe", &opts, err, sizeof(err)), 0);
    ck_assert_uint_eq(opts, RAFT_OPT_MEMBERSHIP | RAFT_OPT_MEMBER_UNSAFE);
    ck_assert_int_eq(lab_raft_opts_parse("membership", &opts, err, sizeof(err)), 0);
    ck_assert_uint_eq(opts, RAFT_OPT_MEMBERSHIP);
    ck_assert_int_eq(lab_raft_opts_parse("all", &opts, err, sizeof(err)), 0);
    ck_assert_uint_eq(opts & RAFT_OPT_MEMBER_UNSAFE, 0); /* UNSAFE is never in all */
    ck_assert_int_eq(lab_raft_opts_parse("members", &opts, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "membership"));
    /* Every error has its own text. */
    const int codes[] = {RAFT_EOPTION,  RAFT_ENOTLEADER, RAFT_ECHANGE_PENDING, RAFT_ENOTREADY,
                         RAFT_ELAGGING, RAFT_EMULTI,     RAFT_ESERVER};
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        ck_assert_str_ne(raft_strerror(codes[i]), "unknown raft error");
        for (size_t j = 0; j < i; j++)
            ck_assert_str_ne(raft_strerror(codes[i]), raft_strerror(codes[j]));
    }
}
END_TEST

/* The study tools show configurations: log and step print the sets, step's m stops at a
 * change, and the HTML page draws a diamond per change. */
START_TEST(test_ext_member_tools)
{
    struct cu_dir dir;
    struct cu_run r;
    char trace[512];
    char page[512];
    cu_dir_make(&dir, "ext_member");
    cu_dir_file(&dir, "t.trace", trace, sizeof(trace));
    cu_dir_file(&dir, "t.html", page, sizeof(page));
    cu_labsim(&r, NULL, "replay", "TestMemberLearnerExt", "--seed", "1", "--trace", trace);
    ck_assert_msg(r.status == 0, "%s", r.err);
    cu_run_free(&r);
    cu_labsim(&r, NULL, "log", trace, "--flat");
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "raft.config index=0 voters={0,1,2} learners={}"));
    ck_assert_ptr_nonnull(strstr(r.out, "voters={0,1,2} learners={3}"));
    ck_assert_ptr_nonnull(strstr(r.out, "voters={0,1,2,3} learners={}"));
    cu_run_free(&r);
    struct cu_spawn how = {.input = "m\nm\nm\nm\nm\nq\n"};
    cu_labsim(&r, &how, "step", "TestMemberLearnerExt", "--seed", "1", "--topics", "role");
    ck_assert_ptr_nonnull(strstr(r.out, "raft.config on node"));
    ck_assert_ptr_nonnull(strstr(r.out, "learners={3}"));
    cu_run_free(&r);
    cu_labsim(&r, NULL, "export", trace, "--format", "html", "-o", page);
    ck_assert_int_eq(r.status, 0);
    cu_run_free(&r);
    char *html = cu_read_file(page, NULL);
    ck_assert_ptr_nonnull(strstr(html, "\"raft.config\""));
    ck_assert_ptr_nonnull(strstr(html, "polygon.config"));
    ck_assert_ptr_nonnull(strstr(html, "span.learner"));
    free(html);
    /* Drawn: a diamond per change, and server 3's bars as a learner's while it was one. */
    cu_chromium();
    cu_chromium_render(&r, &dir, page, NULL);
    ck_assert_ptr_null(strstr(r.out, "data-configs=\"0\""));
    ck_assert_ptr_nonnull(strstr(r.out, "data-configs=\""));
    ck_assert_ptr_nonnull(strstr(r.out, "class=\"config t-role\""));
    ck_assert_ptr_nonnull(strstr(r.out, " learner\""));
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

Suite *ext_member_suite(void)
{
    Suite *s = suite_create("ext_member");
    TCase *pairs = tcase_create("pairs");
    tcase_set_timeout(pairs, 120);
    tcase_add_loop_test(pairs, test_ext_member_pairs, 0,
                        (int)(PAIR_SEEDS * sizeof(pair_names) / sizeof(pair_names[0])));
    suite_add_tcase(s, pairs);
    TCase *units = tcase_create("units");
    tcase_set_timeout(units, 120);
    tcase_add_loop_test(units, test_ext_member_units, 0,
                        (int)(PAIR_SEEDS * sizeof(unit_tests) / sizeof(unit_tests[0])));
    tcase_add_test(units, test_ext_member_words);
    tcase_add_test(units, test_ext_member_tools);
    suite_add_tcase(s, units);
    return s;
}
