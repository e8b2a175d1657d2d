/* check_mr: the lab 1 (MapReduce) suite's own tests.
 *
 *  - data: the embedded inputs are the lab's (names in glob order, byte sizes, pure ASCII), and
 *    mrsequential over them gives the word counts the texts have (figures computed outside
 *    labsim with `tr -cs A-Za-z '\n'`, which splits words as Go's unicode.IsLetter does on
 *    ASCII), and ihash puts rtiming's keys in the lab's buckets;
 *  - processes: the time limits kill as `timeout` does;
 *  - graded: every lab 1 test passes on a handful of seeds, and a second run of each (test,
 *    seed) has the same digest (replay is the same run);
 *  - outside: a labsim built with `make MR_IMPL=...` from a copy of mr/ (as a student builds
 *    theirs) passes part 1; and the mutants of tests/mutants/ applied to such copies: a
 *    coordinator that never hands a task out again fails TestCrash1 within 50 seeds; a worker
 *    that writes final names in place (no rename) does so in its trace and, as in Go, passes
 *    (no lab 1 test can catch it; see the patch's header and README.md), while the explorer's
 *    mr target (labsim explore mr) catches it within 50 seeds.
 * LABSIM_ROOT names the repository (make test sets it); each build takes a minute or so.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "check_util.h"
#include "lab.h"
#include "mr_cfg.h"

#define MR_BUILD_TIMEOUT_S 900
#define MR_RUN_TIMEOUT_S 600
#define MR_IMPL_MAX 2048
#define MR_GRADED_SEEDS 3

static const char *mr_root(void)
{
    const char *root = getenv("LABSIM_ROOT");
    return root != NULL ? root : ".";
}

/* ---------------------------------------------------------------- data */

START_TEST(test_mr_inputs_are_the_labs)
{
    /* Goal: the eight inputs are the handout's files: names as the shell's ../pg*txt glob
     * gives them, in that order, with the byte sizes of lab-tests 1.1, and pure ASCII (which
     * the apps' ASCII letter test relies on). */
    static const char *const names[MR_INPUTS_COUNT] = {
        "../pg-being_ernest.txt",    "../pg-dorian_gray.txt",      "../pg-frankenstein.txt",
        "../pg-grimm.txt",           "../pg-huckleberry_finn.txt", "../pg-metamorphosis.txt",
        "../pg-sherlock_holmes.txt", "../pg-tom_sawyer.txt"};
    static const uint64_t sizes[MR_INPUTS_COUNT] = {138885, 453168, 441033, 540174,
                                                    594262, 139054, 581863, 412665};
    for (size_t i = 0; i < MR_INPUTS_COUNT; i++) {
        const struct mr_input *in = mr_input_at(i);
        ck_assert_str_eq(in->name, names[i]);
        ck_assert_uint_eq(*in->size, sizes[i]);
        for (uint64_t b = 0; b < *in->size; b++)
            ck_assert_msg((unsigned char)in->data[b] < 0x80, "%s: byte %llu is not ASCII", in->name,
                          (unsigned long long)b);
    }
    ck_assert_ptr_null(mr_input_at(MR_INPUTS_COUNT));
}
END_TEST

/* The count of `key` in the reference lines ("key count"), or -1. */
static long mr_count_of(const struct mr_lines *l, const char *key)
{
    size_t n = strlen(key);
    for (size_t i = 0; i < l->count; i++)
        if (strncmp(l->lines[i], key, n) == 0 && l->lines[i][n] == ' ')
            return strtol(l->lines[i] + n + 1, NULL, 10);
    return -1;
}

/* A graded-test body that checks mrsequential's output and fails with what it saw. */
static void mr_body_sequential(struct lab_ctx *ctx)
{
    struct mr_cfg *cfg = mr_cfg_make(ctx);
    const struct mr_lines *wc = mr_cfg_sequential(cfg, "wc");
    long total = 0;
    for (size_t i = 0; i < wc->count; i++)
        total += strtol(strchr(wc->lines[i], ' ') + 1, NULL, 10);
    if (wc->count != 22107 || total != 623948 || mr_count_of(wc, "the") != 29748 ||
        mr_count_of(wc, "Gutenberg") != 666)
        lab_fatalf(ctx, SIM_NODE_NONE, "wc: %zu distinct words, %ld in all, the=%ld", wc->count,
                   total, mr_count_of(wc, "the"));
    const struct mr_lines *indexer = mr_cfg_sequential(cfg, "indexer");
    long pairs = 0;
    for (size_t i = 0; i < indexer->count; i++)
        pairs += strtol(strchr(indexer->lines[i], ' ') + 1, NULL, 10);
    if (indexer->count != 22107 || pairs != 52580)
        lab_fatalf(ctx, SIM_NODE_NONE, "indexer: %zu words, %ld (word, document) pairs",
                   indexer->count, pairs);
    const struct mr_lines *crash = mr_cfg_sequential(cfg, "nocrash");
    if (crash->count != 4 || strcmp(crash->lines[1], "b 15 20 21 22 22 23 25 26") != 0 ||
        strcmp(crash->lines[3], "d xyzzy xyzzy xyzzy xyzzy xyzzy xyzzy xyzzy xyzzy") != 0)
        lab_fatalf(ctx, SIM_NODE_NONE, "nocrash: %zu lines, second '%s'", crash->count,
                   crash->count > 1 ? crash->lines[1] : "");
}

START_TEST(test_mr_sequential_counts)
{
    /* Goal: mrsequential's references hold the texts' own figures: 623,948 words, 22,107
     * distinct, "the" 29,748 times, "Gutenberg" 666 times; 52,580 (word, document) pairs;
     * the crash reference's filename lengths and the eight xyzzy. Seed 1. */
    static const struct lab_test test = {"MrSequential", "1", "mrsequential", mr_body_sequential};
    struct lab_result result;
    ck_assert_int_eq(lab_run(&test, 1, NULL, &result), 0);
    ck_assert_msg(result.outcome == LAB_PASS, "%s", result.message);
}
END_TEST

START_TEST(test_mr_ihash_buckets)
{
    /* Goal: ihash is Go's (FNV-1a & 0x7fffffff): rtiming's keys land in the lab's buckets
     * (a 2, b 9, c 0, d 5, e 6, f 3, g 4, h 3, i 4, j 1), so buckets 7 and 8 stay empty. */
    static const int buckets[10] = {2, 9, 0, 5, 6, 3, 4, 3, 4, 1};
    for (int i = 0; i < 10; i++) {
        char key[2] = {(char)('a' + i), '\0'};
        ck_assert_int_eq((int)(mr_ihash(key, 1) % 10), buckets[i]);
    }
    ck_assert_uint_eq(mr_ihash("", 0), 0x811c9dc5u & 0x7fffffffu);
}
END_TEST

/* ---------------------------------------------------------------- processes */

/* A body that kills a worker by its time limit while it sleeps in a jobcount map, and checks
 * what test-mr.sh's `timeout` would leave: the process counts as ended at once, its pid is
 * dead, and when its task wakes up it can change nothing (no intermediate file appears); then
 * the coordinator is killed by its own limit. */
static void mr_body_kill(struct lab_ctx *ctx)
{
    struct mr_cfg *cfg = mr_cfg_make(ctx);
    struct sim *sim = lab_sim(ctx);
    struct mr_proc *coordinator = mr_cfg_start_coordinator(cfg, SIM_S(30));
    sim_sleep_us(sim, SIM_S(1));
    struct mr_proc *worker = mr_cfg_start_worker(cfg, 1, "jobcount", SIM_S(1));
    mr_cfg_wait(cfg, worker);
    if (worker->end != MR_PROC_KILLED || sim_now_us(sim) != SIM_S(2))
        lab_fatalf(ctx, 1, "worker ended as %d at %llu us", (int)worker->end,
                   (unsigned long long)sim_now_us(sim));
    if (mr_cfg_pid_alive(cfg, worker->pid) || worker->task_done)
        lab_fatalf(ctx, 1, "killed worker: pid alive or task already done");
    if (!sim_fs_exists(sim, "mr-worker-jobcount-1001-0"))
        lab_fatalf(ctx, 1, "the map did not start before the kill");
    sim_sleep_us(sim, SIM_S(10)); /* the jobcount sleep (2-5 s) ends: the zombie goes on */
    if (!worker->task_done) lab_fatalf(ctx, 1, "the killed worker's task never ended");
    for (int y = 0; y < MR_N_REDUCE; y++) {
        char name[32];
        snprintf(name, sizeof(name), "mr-0-%d", y);
        if (sim_fs_exists(sim, name)) lab_fatalf(ctx, 1, "a killed worker wrote %s", name);
    }
    mr_cfg_wait(cfg, coordinator);
    if (coordinator->end != MR_PROC_KILLED || sim_now_us(sim) != SIM_S(30))
        lab_fatalf(ctx, 0, "coordinator ended as %d at %llu us", (int)coordinator->end,
                   (unsigned long long)sim_now_us(sim));
}

START_TEST(test_mr_time_limit_kills)
{
    /* Goal: the process limits of test-mr.sh (timeout 45s / 120s) act as a kill: the killed
     * process ends at its limit exactly, and a killed worker's late steps have no effect. */
    static const struct lab_test test = {"MrKill", "1", "process limits", mr_body_kill};
    struct lab_result result;
    ck_assert_int_eq(lab_run(&test, 1, NULL, &result), 0);
    ck_assert_msg(result.outcome == LAB_PASS, "%s", result.message);
}
END_TEST

/* ---------------------------------------------------------------- graded */

START_TEST(test_mr_graded_seeds_replay)
{
    /* Goal: each lab 1 test passes on seeds 1..3, and running it again gives the same digest
     * (a replay is the same run, event for event). */
    size_t ran = 0;
    for (size_t i = 0; i < lab_tests_count(); i++) {
        const struct lab_test *test = lab_test_at(i);
        if (strcmp(test->part, "1") != 0) continue;
        for (uint64_t seed = 1; seed <= MR_GRADED_SEEDS; seed++) {
            struct lab_result first;
            struct lab_result again;
            ck_assert_int_eq(lab_run(test, seed, NULL, &first), 0);
            ck_assert_msg(first.outcome == LAB_PASS, "%s seed %llu: %s", test->name,
                          (unsigned long long)seed, first.message);
            ck_assert_int_eq(lab_run(test, seed, NULL, &again), 0);
            ck_assert_msg(first.digest == again.digest, "%s seed %llu: digests %016llx, %016llx",
                          test->name, (unsigned long long)seed, (unsigned long long)first.digest,
                          (unsigned long long)again.digest);
            ck_assert_uint_eq(first.virtual_us, again.virtual_us);
            ran++;
        }
    }
    ck_assert_uint_eq(ran, 7 * MR_GRADED_SEEDS);
}
END_TEST

/* ---------------------------------------------------------------- outside files */

/* Copies mr/ into d/mr, applies tests/mutants/<mutant> when not NULL (patch -p1 in d), and
 * lists the copy's .c files in impl. */
static void mr_copy(const struct cu_dir *d, const char *mutant, char *impl, size_t impl_size)
{
    char src[512];
    char dst[512];
    snprintf(src, sizeof(src), "%s/mr", mr_root());
    cu_dir_file(d, "mr", dst, sizeof(dst));
    char *cp_argv[] = {"/bin/cp", "-r", src, dst, NULL};
    struct cu_run r;
    cu_run(&r, cp_argv, NULL);
    ck_assert_msg(r.status == 0, "cp: %s", r.err);
    cu_run_free(&r);
    if (mutant != NULL) {
        char patch_path[600];
        snprintf(patch_path, sizeof(patch_path), "%s/tests/mutants/%s", mr_root(), mutant);
        char *text = cu_read_file(patch_path, NULL);
        char *patch_argv[] = {"/usr/bin/patch", "-p1", "--forward", "--batch", NULL};
        struct cu_spawn how = {.cwd = d->path, .input = text};
        cu_run(&r, patch_argv, &how);
        ck_assert_msg(r.status == 0, "patch %s failed (%d): %s%s", mutant, r.status, r.out, r.err);
        cu_run_free(&r);
        free(text);
    }
    DIR *dir = opendir(dst);
    ck_assert_msg(dir != NULL, "cannot open %s", dst);
    impl[0] = '\0';
    for (struct dirent *e = readdir(dir); e != NULL; e = readdir(dir)) {
        size_t len = strlen(e->d_name);
        if (len < 3 || strcmp(e->d_name + len - 2, ".c") != 0) continue;
        size_t used = strlen(impl);
        int w =
            snprintf(impl + used, impl_size - used, "%s%s/%s", used > 0 ? " " : "", dst, e->d_name);
        ck_assert(w > 0 && (size_t)w < impl_size - used);
    }
    closedir(dir);
    ck_assert_msg(impl[0] != '\0', "no .c file in the copy of mr/");
}

/* Builds d/build/labsim against the (possibly patched) copy; its path into bin. */
static void mr_build(const struct cu_dir *d, const char *mutant, char *bin, size_t bin_size)
{
    static char impl[MR_IMPL_MAX];
    mr_copy(d, mutant, impl, sizeof(impl));
    char build[512];
    char build_arg[600];
    char impl_arg[MR_IMPL_MAX + 16];
    cu_dir_file(d, "build", build, sizeof(build));
    snprintf(build_arg, sizeof(build_arg), "BUILD=%s", build);
    snprintf(impl_arg, sizeof(impl_arg), "MR_IMPL=%s", impl);
    snprintf(bin, bin_size, "%s/labsim", build);
    char *argv[] = {"/usr/bin/make", "-s",      "-j2",    "-C", (char *)mr_root(),
                    build_arg,       "OPT=-O1", impl_arg, bin,  NULL};
    /* The parent make's jobserver and flags must not leak into this one. */
    static const char *const env[] = {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", NULL};
    struct cu_spawn how = {.env = env, .timeout_s = MR_BUILD_TIMEOUT_S};
    struct cu_run r;
    cu_run(&r, argv, &how);
    ck_assert_msg(r.status == 0, "building labsim with MR_IMPL failed (%d): %s", r.status, r.err);
    cu_run_free(&r);
}

/* Runs `bin ARGS...` (NULL-terminated, at most 10) into r. */
static void mr_run(struct cu_run *r, const char *bin, const char *const *args)
{
    char *argv[12];
    size_t n = 0;
    argv[n++] = (char *)bin;
    for (; args[n - 1] != NULL && n < 11; n++)
        argv[n] = (char *)args[n - 1];
    argv[n] = NULL;
    struct cu_spawn how = {.timeout_s = MR_RUN_TIMEOUT_S};
    cu_run(r, argv, &how);
}

START_TEST(test_mr_outside_files_pass)
{
    /* Goal: the suite builds against a coordinator and worker given as outside files (a copy
     * of ours, `make MR_IMPL=...` as in the README) and that build passes part 1. */
    struct cu_dir d;
    cu_dir_make(&d, "mr-outside");
    char bin[600];
    mr_build(&d, NULL, bin, sizeof(bin));
    static const char *const args[] = {"run", "1", "--seeds", "2", "--jobs", "2", NULL};
    struct cu_run r;
    mr_run(&r, bin, args);
    ck_assert_msg(r.status == 0, "exit %d; stdout: %s; stderr: %s", r.status, r.out, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "14 passed, 0 failed"));
    cu_run_free(&r);
    cu_dir_remove(&d);
}
END_TEST

START_TEST(test_mr_mutant_no_reissue_fails)
{
    /* Goal: a coordinator that never hands a task out again (tests/mutants/mr-no-reissue.patch)
     * fails TestCrash1, with the lab's message, within 50 seeds. */
    struct cu_dir d;
    cu_dir_make(&d, "mr-no-reissue");
    char bin[600];
    mr_build(&d, "mr-no-reissue.patch", bin, sizeof(bin));
    static const char *const args[] = {"run",    "TestCrash1", "--seeds",        "50",
                                       "--jobs", "2",          "--stop-on-fail", NULL};
    struct cu_run r;
    mr_run(&r, bin, args);
    ck_assert_msg(r.status == 1, "exit %d; stdout: %s; stderr: %s", r.status, r.out, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "--- FAIL: TestCrash1 (seed "));
    ck_assert_ptr_nonnull(strstr(r.out, "crash output is not the same as mr-correct-crash.txt"));
    cu_run_free(&r);
    cu_dir_remove(&d);
}
END_TEST

START_TEST(test_mr_mutant_no_atomic_rename_is_in_place)
{
    /* Goal: the no-rename mutant (tests/mutants/mr-no-atomic-rename.patch) applies and does
     * what it says (workers open mr-out-* themselves, no rename), and, as in Go, the lab 1
     * tests cannot tell: 50 seeds of TestCrash1 pass. A change in that verdict means a test
     * started to catch it, which the patch's header and README.md should then say. The
     * explorer can tell (issue 12's "fails some test within 50 seeds"): labsim explore mr
     * fails an output check within 50 seeds, where a worker stalled past the re-issue timeout
     * and its task's second copy write the same final file. */
    struct cu_dir d;
    cu_dir_make(&d, "mr-no-rename");
    char bin[600];
    mr_build(&d, "mr-no-atomic-rename.patch", bin, sizeof(bin));
    char trace[600];
    cu_dir_file(&d, "crash.trace", trace, sizeof(trace));
    const char *replay_args[] = {"replay", "TestCrash1", "--seed", "1", "--trace", trace, NULL};
    struct cu_run r;
    mr_run(&r, bin, replay_args);
    ck_assert_msg(r.status == 0, "exit %d; stdout: %s; stderr: %s", r.status, r.out, r.err);
    cu_run_free(&r);
    char *text = cu_read_file(trace, NULL);
    ck_assert_msg(strstr(text, "\tmr-out-") != NULL, "no worker opened mr-out-* in place");
    ck_assert_ptr_null(strstr(text, ">mr-out-")); /* no rename onto a final name */
    free(text);
    static const char *const args[] = {"run", "TestCrash1", "--seeds", "50", "--jobs", "2", NULL};
    mr_run(&r, bin, args);
    ck_assert_msg(r.status == 0, "exit %d; stdout: %s", r.status, r.out);
    ck_assert_ptr_nonnull(strstr(r.out, "50 passed, 0 failed"));
    cu_run_free(&r);
    static const char *const explore_args[] = {"explore", "mr", "--seeds",        "50",
                                               "--jobs",  "2",  "--stop-on-fail", NULL};
    mr_run(&r, bin, explore_args);
    ck_assert_msg(r.status == 1, "explore exit %d; stdout: %s", r.status, r.out);
    ck_assert_msg(strstr(r.out, "SAFETY output-") != NULL, "explore: %s", r.out);
    cu_run_free(&r);
    cu_dir_remove(&d);
}
END_TEST

Suite *mr_suite(void)
{
    Suite *s = suite_create("mr");
    TCase *tc = tcase_create("data");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_mr_inputs_are_the_labs);
    tcase_add_test(tc, test_mr_sequential_counts);
    tcase_add_test(tc, test_mr_ihash_buckets);
    suite_add_tcase(s, tc);
    tc = tcase_create("processes");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_mr_time_limit_kills);
    suite_add_tcase(s, tc);
    tc = tcase_create("graded");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_mr_graded_seeds_replay);
    suite_add_tcase(s, tc);
    tc = tcase_create("outside");
    tcase_set_timeout(tc, MR_BUILD_TIMEOUT_S + 3 * MR_RUN_TIMEOUT_S);
    tcase_add_test(tc, test_mr_outside_files_pass);
    tcase_add_test(tc, test_mr_mutant_no_reissue_fails);
    tcase_add_test(tc, test_mr_mutant_no_atomic_rename_is_in_place);
    suite_add_tcase(s, tc);
    return s;
}
