/* check_lab5: the lab 5 Check suite (shardctrler and shardkv).
 *
 * - unit: the controller's rebalancing (even, deterministic, fewest moves; a Move is kept until
 *   the next Join or Leave), key2shard as the lab defines it, and a shard's store and
 *   duplicate table surviving the codec a move and a snapshot use, and the cached snapshot
 *   encoder giving the plain one's bytes after every kind of change.
 * - graded: every lab 5 graded test through lab_run on GRADED_SEEDS seeds, asserting LAB_PASS
 *   (the failure message is in the assertion), per test a replay of one seed that must
 *   reproduce its digest, event count and virtual time, and the seeds that found bugs.
 * - outside: the suites built, as a student's would be, from a copy of our shardctrler/ and
 *   shardkv/ given as outside files (make SHARDCTRLER_IMPL=... SHARDKV_IMPL=...), run on one
 *   seed of each part. LABSIM_ROOT names the repository (make test sets it).
 * The mutants of tests/mutants/ are swept by `make mutants`, not here: each needs its own
 * build and up to 50 seeds of several tests, minutes on this machine.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "check_util.h"
#include "lab.h"
#include "sc_int.h"
#include "skv_int.h"

#define GRADED_SEEDS 2
#define OUTSIDE_TIMEOUT_S 900

/* The lab 5 tests, in catalogue order: the controller's, then shardkv's. */
static const struct lab_test *lab5_test(int i)
{
    if (i < (int)lab_sc_tests_count) return &lab_sc_tests[i];
    return &lab_skv_tests[i - (int)lab_sc_tests_count];
}

static int lab5_tests_count(void)
{
    return (int)(lab_sc_tests_count + lab_skv_tests_count);
}

/* ---------------------------------------------------------------- unit */

static int shards_on(const struct sc_config *c, int gid)
{
    int n = 0;
    for (int s = 0; s < SC_NSHARDS; s++)
        n += c->shards[s] == gid;
    return n;
}

static struct sc_group group(int gid)
{
    struct sc_group g;
    memset(&g, 0, sizeof(g));
    g.gid = gid;
    g.servers_count = 1;
    snprintf(g.servers[0], sizeof(g.servers[0]), "s%d", gid);
    return g;
}

START_TEST(test_lab5_rebalance)
{
    /* Goal: Joins spread the shards evenly and move only what must move; a Leave hands the
     * leaver's shards to the others without touching theirs. */
    struct sc_config c;
    struct sc_config before;
    sc_config_init(&c);
    for (int gid = 1; gid <= 4; gid++) {
        struct sc_group g = group(gid);
        before = c;
        ck_assert_int_eq(sc_config_join(&c, &g, 1), SC_OK);
        ck_assert_int_eq(c.num, gid);
        int moved = 0;
        for (int s = 0; s < SC_NSHARDS; s++) {
            if (before.shards[s] != c.shards[s]) moved++;
            if (gid > 1 && before.shards[s] != c.shards[s]) ck_assert_int_eq(c.shards[s], gid);
        }
        ck_assert_int_eq(moved, shards_on(&c, gid)); /* only onto the new group */
        ck_assert_int_eq(shards_on(&c, gid), SC_NSHARDS / gid);
    }
    before = c;
    const int leaving = 2;
    sc_config_leave(&c, &leaving, 1);
    ck_assert_int_eq(c.groups_count, 3);
    ck_assert_int_eq(shards_on(&c, 2), 0);
    for (int s = 0; s < SC_NSHARDS; s++) {
        if (before.shards[s] != 2) ck_assert_int_eq(c.shards[s], before.shards[s]);
    }
    for (int gid = 1; gid <= 4; gid++) {
        if (gid != 2) ck_assert(shards_on(&c, gid) >= 3 && shards_on(&c, gid) <= 4);
    }
}
END_TEST

START_TEST(test_lab5_rebalance_deterministic_and_move)
{
    /* Goal: the same ops give the same config whatever the order of a Join's groups; a Move
     * sticks until the next rebalance. */
    struct sc_group a[3] = {group(7), group(3), group(5)};
    struct sc_group b[3] = {group(5), group(7), group(3)};
    struct sc_config x;
    struct sc_config y;
    sc_config_init(&x);
    sc_config_init(&y);
    ck_assert_int_eq(sc_config_join(&x, a, 3), SC_OK);
    ck_assert_int_eq(sc_config_join(&y, b, 3), SC_OK);
    ck_assert_mem_eq(&x, &y, sizeof(x));
    ck_assert_int_eq(x.groups[0].gid, 3); /* sorted by gid */
    sc_config_move(&x, 0, 7);
    ck_assert_int_eq(x.shards[0], 7);
    ck_assert_int_eq(x.num, 2);
}
END_TEST

START_TEST(test_lab5_key2shard)
{
    /* Goal: key2shard is the lab's: first byte mod NShards, 0 for "". */
    ck_assert_int_eq(skv_key2shard(""), 0);
    ck_assert_int_eq(skv_key2shard("0"), 8);
    ck_assert_int_eq(skv_key2shard("9"), 7);
    ck_assert_int_eq(skv_key2shard("10"), 9);
    ck_assert_int_eq(skv_key2shard("29"), 0);
}
END_TEST

START_TEST(test_lab5_shard_codec)
{
    /* Goal: a shard's keys and duplicate table come back whole from a pull reply and from a
     * snapshot; a truncated snapshot is an error, not a crash. */
    struct skv_shard sh;
    struct skv_shard back;
    struct gob_enc e;
    enum skv_reply_err err = SKV_REPLY_WRONG_LEADER;
    memset(&sh, 0, sizeof(sh));
    memset(&back, 0, sizeof(back));
    gob_enc_init(&e);
    ck_assert_int_eq(skv_shard_write(&sh, (const uint8_t *)"k1", 2, (const uint8_t *)"a", 1, 0),
                     SKV_OK);
    ck_assert_int_eq(skv_shard_write(&sh, (const uint8_t *)"k1", 2, (const uint8_t *)"b", 1, 1),
                     SKV_OK);
    ck_assert_int_eq(skv_shard_write(&sh, (const uint8_t *)"k0", 2, (const uint8_t *)"z", 1, 0),
                     SKV_OK);
    ck_assert_int_eq(skv_shard_record(&sh, 1001, 7), SKV_OK);
    ck_assert_int_eq(skv_pull_reply_encode(&e, SKV_REPLY_OK, &sh), SKV_OK);
    ck_assert_int_eq(skv_pull_reply_decode(gob_enc_bytes(&e), gob_enc_len(&e), &err, &back),
                     SKV_OK);
    ck_assert_int_eq(err, SKV_REPLY_OK);
    ck_assert_uint_eq(back.entries_count, 2);
    ck_assert_str_eq(back.entries[0].key, "k0");
    ck_assert_str_eq(back.entries[1].value, "ab");
    ck_assert_uint_eq(skv_shard_seq(&back, 1001), 7);
    skv_shard_clear(&back);

    struct skv_shard shards[SC_NSHARDS];
    struct skv_shard got[SC_NSHARDS];
    struct sc_config cur;
    struct sc_config prev;
    uint64_t index = 0;
    memset(shards, 0, sizeof(shards));
    memset(got, 0, sizeof(got));
    shards[3] = sh;
    shards[3].state = SKV_SENDING;
    sc_config_init(&cur);
    sc_config_init(&prev);
    cur.num = 4;
    ck_assert_int_eq(skv_snapshot_encode(&e, 42, &cur, &prev, shards), SKV_OK);
    ck_assert_int_eq(
        skv_snapshot_decode(gob_enc_bytes(&e), gob_enc_len(&e), &index, &cur, &prev, got), SKV_OK);
    ck_assert_uint_eq(index, 42);
    ck_assert_int_eq(cur.num, 4);
    ck_assert_int_eq(got[3].state, SKV_SENDING);
    ck_assert_uint_eq(got[3].entries_count, 2);
    ck_assert_uint_eq(skv_shard_seq(&got[3], 1001), 7);
    for (int s = 0; s < SC_NSHARDS; s++)
        skv_shard_clear(&got[s]);
    ck_assert_int_eq(
        skv_snapshot_decode(gob_enc_bytes(&e), gob_enc_len(&e) - 3, &index, &cur, &prev, got),
        SKV_EDECODE);
    for (int s = 0; s < SC_NSHARDS; s++)
        skv_shard_clear(&got[s]);
    skv_shard_clear(&sh);
    gob_enc_free(&e);
}
END_TEST

/* A small deterministic generator for the cache test (splitmix64). */
static uint64_t test_next(uint64_t *state)
{
    uint64_t x = (*state += UINT64_C(0x9e3779b97f4a7c15));
    x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

/* One random change to the shards or the configurations, as the server makes them (the
 * epoch bumped with every configuration change). */
static void snapshot_change(uint64_t r, struct skv_shard *shards, struct sc_config *cur,
                            struct sc_config *prev, uint64_t *epoch)
{
    struct skv_shard *sh = &shards[r % SC_NSHARDS];
    char key[4] = {'k', (char)('0' + (r >> 8) % 7), 0, 0};
    const uint8_t *value = (const uint8_t *)"xyz";
    switch ((r >> 16) % 8) {
    case 0:
    case 1:
    case 2: /* Put or Append */
        ck_assert_int_eq(skv_shard_write(sh, (const uint8_t *)key, 2, value, 1 + (r >> 24) % 3,
                                         (r >> 20) % 2 == 0),
                         SKV_OK);
        break;
    case 3:
        ck_assert_int_eq(skv_shard_record(sh, 1 + (r >> 24) % 13, r >> 40), SKV_OK);
        break;
    case 4:
        sh->state = (enum skv_shard_state)((r >> 24) % SKV_SHARD_STATES_COUNT);
        break;
    case 5:
        skv_shard_clear(sh);
        break;
    case 6: { /* an INSERT: the shard replaced by pulled data */
        struct skv_shard in;
        memset(&in, 0, sizeof(in));
        ck_assert_int_eq(skv_shard_write(&in, (const uint8_t *)"p", 1, value, 2, false), SKV_OK);
        in.state = sh->state;
        skv_shard_clear(sh);
        *sh = in;
        break;
    }
    default:
        *prev = *cur;
        cur->num++;
        cur->shards[(r >> 24) % SC_NSHARDS] = 100 + (int)((r >> 28) % 3);
        if (cur->groups_count < 3) {
            cur->groups[cur->groups_count] = group(100 + cur->groups_count);
            cur->groups_count++;
        }
        (*epoch)++;
        break;
    }
}

START_TEST(test_lab5_snapshot_cache)
{
    /* Goal: the cached snapshot encoder gives skv_snapshot_encode's bytes after every change
     * a server makes: writes, appends, session records, state changes, a shard cleared or
     * replaced by an inserted one, configuration changes. A change the cache missed would put
     * a stale shard or configuration and differ here. */
    struct skv_shard shards[SC_NSHARDS];
    struct sc_config cur;
    struct sc_config prev;
    struct skv_snap_cache cache;
    struct gob_enc plain;
    struct gob_enc cached;
    uint64_t epoch = 1;
    uint64_t rng = 5;
    memset(shards, 0, sizeof(shards));
    sc_config_init(&cur);
    sc_config_init(&prev);
    skv_snap_cache_init(&cache);
    gob_enc_init(&plain);
    gob_enc_init(&cached);
    for (int step = 0; step < 3000; step++) {
        if (step % 3 != 0) snapshot_change(test_next(&rng), shards, &cur, &prev, &epoch);
        ck_assert_int_eq(skv_snapshot_encode(&plain, (uint64_t)step, &cur, &prev, shards), SKV_OK);
        ck_assert_int_eq(
            skv_snapshot_encode_cached(&cached, &cache, (uint64_t)step, &cur, &prev, epoch, shards),
            SKV_OK);
        ck_assert_msg(gob_enc_len(&cached) == gob_enc_len(&plain), "step %d", step);
        ck_assert_mem_eq(gob_enc_bytes(&cached), gob_enc_bytes(&plain), gob_enc_len(&plain));
    }
    for (int s = 0; s < SC_NSHARDS; s++)
        skv_shard_clear(&shards[s]);
    skv_snap_cache_free(&cache);
    gob_enc_free(&cached);
    gob_enc_free(&plain);
}
END_TEST

/* ---------------------------------------------------------------- graded */

START_TEST(test_lab5_graded)
{
    /* Goal: every lab 5 test passes on its first seeds. */
    const struct lab_test *test = lab5_test(_i / GRADED_SEEDS);
    uint64_t seed = (uint64_t)(_i % GRADED_SEEDS) + 1;
    struct lab_result r;
    ck_assert_int_eq(lab_run(test, seed, NULL, &r), 0);
    ck_assert_msg(r.outcome == LAB_PASS, "%s seed %" PRIu64 ": outcome %d at %.3fs: %s", test->name,
                  seed, (int)r.outcome, (double)r.fail_at_us / 1e6, r.message);
}
END_TEST

START_TEST(test_lab5_replay_digest)
{
    /* Goal: a replay of (test, seed) is the same run: digest, events and virtual time. */
    const struct lab_test *test = lab5_test(_i);
    struct lab_result a;
    struct lab_result b;
    ck_assert_int_eq(lab_run(test, 5, NULL, &a), 0);
    ck_assert_int_eq(lab_run(test, 5, NULL, &b), 0);
    ck_assert_msg(a.digest == b.digest, "%s: digests %016" PRIx64 " != %016" PRIx64, test->name,
                  a.digest, b.digest);
    ck_assert_uint_eq(a.events, b.events);
    ck_assert_uint_eq(a.virtual_us, b.virtual_us);
}
END_TEST

START_TEST(test_lab5_restarted_group_commits_old_entries)
{
    /* Goal: a group restarted while it held SENDING shards, and owning none, still applies the
     * DELETEs already in its log and takes the next configuration. Before the leader's
     * per-term NOOP, Raft never committed those earlier-term entries (no client op reaches a
     * group without shards) and TestConcurrent3_5B seed 93 hit the 300 s cap. */
    const struct lab_test *test = lab_test_find("TestConcurrent3_5B");
    struct lab_result r;
    ck_assert_ptr_nonnull(test);
    ck_assert_int_eq(lab_run(test, 93, NULL, &r), 0);
    ck_assert_msg(r.outcome == LAB_PASS, "seed 93: %s", r.message);
}
END_TEST

/* ---------------------------------------------------------------- outside files */

static const char *root(void)
{
    const char *r = getenv("LABSIM_ROOT");
    return r != NULL ? r : ".";
}

/* Copies ROOT/module into d/module; appends its .c files to impl. */
static void copy_module(const struct cu_dir *d, const char *module, char *impl, size_t impl_size)
{
    char src[512];
    char dst[512];
    snprintf(src, sizeof(src), "%s/%s", root(), module);
    cu_dir_file(d, module, dst, sizeof(dst));
    char *argv[] = {"/bin/cp", "-r", src, dst, NULL};
    struct cu_run r;
    cu_run(&r, argv, NULL);
    ck_assert_msg(r.status == 0, "cp failed: %s", r.err);
    cu_run_free(&r);
    char pattern[600];
    snprintf(pattern, sizeof(pattern), "ls %s/*.c", dst);
    char *ls_argv[] = {"/bin/sh", "-c", pattern, NULL};
    cu_run(&r, ls_argv, NULL);
    ck_assert_int_eq(r.status, 0);
    for (char *p = r.out; *p != 0; p++) {
        if (*p == '\n') *p = ' ';
    }
    size_t used = strlen(impl);
    ck_assert(used + r.out_len + 1 < impl_size);
    memcpy(impl + used, r.out, r.out_len + 1);
    cu_run_free(&r);
}

START_TEST(test_lab5_outside_files)
{
    /* Goal: the suites build against a shardctrler and a shardkv given as outside files (here
     * a copy of ours), and pass. */
    struct cu_dir d;
    static char sc_impl[4096];
    static char skv_impl[4096];
    sc_impl[0] = 0;
    skv_impl[0] = 0;
    cu_dir_make(&d, "lab5-outside");
    copy_module(&d, "shardctrler", sc_impl, sizeof(sc_impl));
    copy_module(&d, "shardkv", skv_impl, sizeof(skv_impl));
    char build[512];
    char build_arg[600];
    char bin[600];
    char sc_arg[4200];
    char skv_arg[4200];
    cu_dir_file(&d, "build", build, sizeof(build));
    snprintf(build_arg, sizeof(build_arg), "BUILD=%s", build);
    snprintf(bin, sizeof(bin), "%s/labsim", build);
    snprintf(sc_arg, sizeof(sc_arg), "SHARDCTRLER_IMPL=%s", sc_impl);
    snprintf(skv_arg, sizeof(skv_arg), "SHARDKV_IMPL=%s", skv_impl);
    char *argv[] = {"/usr/bin/make", "-s",    "-j2", "-C", (char *)root(), build_arg, "OPT=-O1",
                    sc_arg,          skv_arg, bin,   NULL};
    static const char *const env[] = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", NULL};
    struct cu_spawn how = {.env = env, .timeout_s = OUTSIDE_TIMEOUT_S};
    struct cu_run r;
    cu_run(&r, argv, &how);
    ck_assert_msg(r.status == 0, "building with outside files failed (%d): %s", r.status, r.err);
    cu_run_free(&r);
    static const char *const parts[] = {"5A", "5B", "5C"};
    for (size_t k = 0; k < 3; k++) {
        char *run_argv[] = {bin, "run", (char *)parts[k], "--jobs", "2", NULL};
        cu_run(&r, run_argv, &how);
        ck_assert_msg(r.status == 0, "part %s with outside files: exit %d: %s", parts[k], r.status,
                      r.out);
        ck_assert_ptr_nonnull(strstr(r.out, "0 failed"));
        cu_run_free(&r);
    }
    cu_dir_remove(&d);
}
END_TEST

Suite *lab5_suite(void)
{
    Suite *s = suite_create("lab5");
    TCase *unit = tcase_create("unit");
    tcase_add_test(unit, test_lab5_rebalance);
    tcase_add_test(unit, test_lab5_rebalance_deterministic_and_move);
    tcase_add_test(unit, test_lab5_key2shard);
    tcase_add_test(unit, test_lab5_shard_codec);
    tcase_add_test(unit, test_lab5_snapshot_cache);
    suite_add_tcase(s, unit);

    TCase *graded = tcase_create("graded");
    tcase_set_timeout(graded, 120);
    tcase_add_loop_test(graded, test_lab5_graded, 0, lab5_tests_count() * GRADED_SEEDS);
    tcase_add_loop_test(graded, test_lab5_replay_digest, 0, lab5_tests_count());
    tcase_add_test(graded, test_lab5_restarted_group_commits_old_entries);
    suite_add_tcase(s, graded);

    TCase *outside = tcase_create("outside");
    tcase_set_timeout(outside, OUTSIDE_TIMEOUT_S * 2);
    tcase_add_test(outside, test_lab5_outside_files);
    suite_add_tcase(s, outside);
    return s;
}
