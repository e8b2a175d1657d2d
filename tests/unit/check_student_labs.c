/* check_student_labs: the student's starting point for the labs other than Raft (check_student.c
 * covers raft), added to the "student" suite:
 *  - `labsim init LAB DIR` for mr, kvsrv, kvraft, shardctrler and shardkv writes each of the
 *    lab's files byte for byte as its skeleton in tools/skel/ (LAB_FILE.c), and prints the
 *    make line that grades them; `init --help` lists every lab with its files and variable;
 *  - a lab of two files is written whole or not at all: one existing file stops both;
 *  - the skeletons, built into one labsim (MR_IMPL, KVSRV_IMPL, KVRAFT_IMPL, SHARDCTRLER_IMPL
 *    and SHARDKV_IMPL at once, as a student's files from outside the repository), fail two
 *    short tests of each lab the lab's way: its own messages, exit 1, no crash, within the
 *    tests' virtual-time limits.
 * The end-to-end tests share one scratch build directory (an unchecked fixture makes it) and
 * one set of skeletons in it, so the first test builds and the others find make has nothing
 * to do. LABSIM_ROOT names the repository.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check_suites.h"
#include "check_util.h"

#define SL_BUILD_TIMEOUT_S 900
#define SL_RUN_TIMEOUT_S 300
#define SL_PATH_MAX 600
#define SL_FILES_MAX 2

/* A lab's files as init writes them, and the short tests its skeleton must fail. */
struct sl_lab {
    const char *name;                    /* labsim init NAME */
    const char *impl_var;                /* the make variable that grades the files */
    const char *files[SL_FILES_MAX];     /* written as DIR/file, from tools/skel/NAME_file */
    const char *tests;                   /* a glob over two short tests */
    const char *fail_says[SL_FILES_MAX]; /* a lab message each failing test prints */
};

static const struct sl_lab sl_labs[] = {
    {"mr",
     "MR_IMPL",
     {"coordinator.c", "worker.c"},
     "Test[IJ]*1", /* TestIndexer1, TestJobCount1 */
     {"--- FAIL: TestIndexer1 (seed 1)\n"
      "    at 1.000s virtual: indexer output is not the same as mr-correct-indexer.txt",
      "--- FAIL: TestJobCount1 (seed 1)\n"
      "    at 1.000s virtual: map jobs ran incorrect number of times"}},
    {"kvsrv",
     "KVSRV_IMPL",
     {"server.c", "client.c"},
     "Test[BC]*2", /* TestBasic2, TestConcurrent2 */
     {"--- FAIL: TestBasic2 (seed 1)\n    at 0.000s virtual: error: old ",
      "--- FAIL: TestConcurrent2 (seed 1)\n    at 0.000s virtual: error: old "}},
    {"kvraft",
     "KVRAFT_IMPL",
     {"server.c", "client.c"},
     "Test[BS]*4A", /* TestBasic4A, TestSpeed4A */
     {"--- FAIL: TestBasic4A (seed 1)\n    at 0.000s virtual: get wrong value",
      "--- FAIL: TestSpeed4A (seed 1)\n    at 0.000s virtual: 0 missing element"}},
    {"shardctrler",
     "SHARDCTRLER_IMPL",
     {"server.c", "client.c"},
     "Test[BM][au][sl][it]?", /* TestBasic, TestMulti (and no other test of any lab) */
     {"--- FAIL: TestBasic (seed 1)\n    at 0.000s virtual: wanted 1 groups, got 0",
      "--- FAIL: TestMulti (seed 1)\n    at 0.000s virtual: wanted 2 groups, got 0"}},
    {"shardkv",
     "SHARDKV_IMPL",
     {"server.c", "client.c"},
     "Test[RS]*5A", /* TestRejection5A, TestStaticShards5A */
     {"--- FAIL: TestStaticShards5A (seed 1)\n    at 0.000s virtual: Get(0): expected:",
      "--- FAIL: TestRejection5A (seed 1)\n    at 0.000s virtual: Get(0): expected:"}},
};
#define SL_LABS_COUNT (sizeof(sl_labs) / sizeof(sl_labs[0]))

/* The scratch directory of the "end to end" case: the skeletons in src/LAB, the build in build
 * ("" when making it failed; each test then fails saying so). */
static char sl_scratch[256];

static void sl_scratch_make(void)
{
    cu_scratch_make(sl_scratch, sizeof(sl_scratch), "labs");
}

static void sl_scratch_remove(void)
{
    cu_scratch_remove(sl_scratch);
}

static bool sl_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* `labsim init LAB dir` (dir relative to cwd) into r. */
static void sl_init(struct cu_run *r, const char *cwd, const struct sl_lab *lab, const char *dir)
{
    char *argv[] = {(char *)cu_labsim_bin(), "init", (char *)lab->name, (char *)dir, NULL};
    struct cu_spawn how = {.cwd = cwd};
    cu_run(r, argv, &how);
}

static char *sl_read_skel(const struct sl_lab *lab, const char *file)
{
    const char *root = getenv("LABSIM_ROOT");
    char path[SL_PATH_MAX];
    snprintf(path, sizeof(path), "%s/tools/skel/%s_%s", root != NULL ? root : ".", lab->name, file);
    return cu_read_file(path, NULL);
}

/* "VAR=DIR/file1 DIR/file2" for lab's files in dir, into buf. */
static void sl_impl_list(const struct sl_lab *lab, const char *dir, char *buf, size_t size)
{
    int n = snprintf(buf, size, "%s=%s/%s %s/%s", lab->impl_var, dir, lab->files[0], dir,
                     lab->files[1]);
    ck_assert(n > 0 && (size_t)n < size);
}

/* ---------------------------------------------------------------- init */

START_TEST(test_student_labs_init_writes_the_skeletons)
{
    /* Goal: for each lab, init writes each file exactly as its skeleton in tools/skel/ and
     * prints the make line that grades the files it wrote (the lab's variable, both files). */
    struct cu_dir d;
    cu_dir_make(&d, "init-labs");
    for (size_t i = 0; i < SL_LABS_COUNT; i++) {
        const struct sl_lab *lab = &sl_labs[i];
        struct cu_run r;
        sl_init(&r, d.path, lab, lab->name);
        ck_assert_msg(r.status == 0, "%s: exit %d: %s", lab->name, r.status, r.err);
        char dir[SL_PATH_MAX];
        snprintf(dir, sizeof(dir), "%s/%s", d.path, lab->name);
        for (size_t f = 0; f < SL_FILES_MAX; f++) {
            char path[SL_PATH_MAX + 32];
            snprintf(path, sizeof(path), "%s/%s", dir, lab->files[f]);
            char *written = cu_read_file(path, NULL);
            char *skel = sl_read_skel(lab, lab->files[f]);
            ck_assert_msg(strcmp(written, skel) == 0, "%s: %s is not tools/skel/%s_%s as it is",
                          lab->name, path, lab->name, lab->files[f]);
            free(written);
            free(skel);
        }
        char list[2 * SL_PATH_MAX];
        sl_impl_list(lab, dir, list, sizeof(list));
        char *eq = strchr(list, '=');
        char make_line[sizeof(list) + 64];
        snprintf(make_line, sizeof(make_line), "make grade %.*s=\"%s\" BUILD=", (int)(eq - list),
                 list, eq + 1);
        ck_assert_msg(strstr(r.out, make_line) != NULL, "no '%s' in:\n%s", make_line, r.out);
        cu_run_free(&r);
    }
    cu_dir_remove(&d);
}
END_TEST

START_TEST(test_student_labs_init_help_lists_every_lab)
{
    /* Goal: `init --help` names every lab the project grades with its files and variable. */
    struct cu_run r;
    cu_labsim(&r, NULL, "init", "--help");
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    for (size_t i = 0; i < SL_LABS_COUNT; i++) {
        const struct sl_lab *lab = &sl_labs[i];
        char want[256];
        snprintf(want, sizeof(want), "writes %s %s (%s)\n", lab->files[0], lab->files[1],
                 lab->impl_var);
        ck_assert_msg(strstr(r.out, want) != NULL, "no '%s' in:\n%s", want, r.out);
    }
    ck_assert_ptr_nonnull(strstr(r.out, "writes raft.c (RAFT_IMPL)\n"));
    cu_run_free(&r);
}
END_TEST

START_TEST(test_student_labs_init_writes_all_or_nothing)
{
    /* Goal: when one file of a two-file lab exists, init stops before writing any (exit 1,
     * one line), so a student's work is never half replaced. */
    struct cu_dir d;
    cu_dir_make(&d, "init-half");
    char path[SL_PATH_MAX];
    cu_write_file(cu_dir_file(&d, "client.c", path, sizeof(path)), "my clerk\n", 9);
    struct cu_run r;
    sl_init(&r, d.path, &sl_labs[1], ".");
    ck_assert_msg(r.status == 1 && strstr(r.err, "client.c' exists; not overwritten") != NULL,
                  "%d: %s", r.status, r.err);
    ck_assert_uint_eq(cu_count(r.err, "\n"), 1);
    cu_run_free(&r);
    ck_assert_msg(!sl_exists(cu_dir_file(&d, "server.c", path, sizeof(path))),
                  "server.c was written although client.c stopped init");
    char *kept = cu_read_file(cu_dir_file(&d, "client.c", path, sizeof(path)), NULL);
    ck_assert_str_eq(kept, "my clerk\n");
    free(kept);
    cu_dir_remove(&d);
}
END_TEST

/* ---------------------------------------------------------------- end to end */

/* Writes the labs' skeletons into the scratch directory (once: later calls find them)
 * and builds one labsim against all of them, as a student would; its path into bin. */
static void sl_build(char *bin, size_t bin_size)
{
    ck_assert_msg(sl_scratch[0] != '\0', "no scratch directory (mkdtemp failed)");
    static char lists[SL_LABS_COUNT][2 * SL_PATH_MAX];
    const char *vars[SL_LABS_COUNT + 1];
    for (size_t i = 0; i < SL_LABS_COUNT; i++) {
        const struct sl_lab *lab = &sl_labs[i];
        char dir[SL_PATH_MAX];
        snprintf(dir, sizeof(dir), "%s/%s", sl_scratch, lab->name);
        if (!sl_exists(dir)) {
            struct cu_run r;
            sl_init(&r, sl_scratch, lab, lab->name);
            ck_assert_msg(r.status == 0, "init %s: exit %d: %s", lab->name, r.status, r.err);
            cu_run_free(&r);
        }
        sl_impl_list(lab, dir, lists[i], sizeof(lists[i]));
        vars[i] = lists[i];
    }
    vars[SL_LABS_COUNT] = NULL;
    cu_build_labsim_vars(cu_shared_build(), vars, bin, bin_size, SL_BUILD_TIMEOUT_S);
}

/* The skeleton of lab `i` fails its two short tests cleanly, with the lab's messages. */
static void sl_skeleton_fails(size_t i)
{
    const struct sl_lab *lab = &sl_labs[i];
    char bin[SL_PATH_MAX];
    sl_build(bin, sizeof(bin));
    struct cu_dir d;
    cu_dir_make(&d, "labs-run");
    struct cu_run r;
    char *argv[] = {bin, "run", (char *)lab->tests, "--jobs", "2", NULL};
    struct cu_spawn how = {.cwd = d.path, .timeout_s = SL_RUN_TIMEOUT_S};
    cu_run(&r, argv, &how);
    ck_assert_msg(r.status == 1, "%s: exit %d; stdout: %s; stderr: %s", lab->name, r.status, r.out,
                  r.err);
    cu_assert_no_crash(&r);
    for (size_t t = 0; t < SL_FILES_MAX; t++)
        ck_assert_msg(strstr(r.out, lab->fail_says[t]) != NULL, "%s: no '%s' in:\n%s", lab->name,
                      lab->fail_says[t], r.out);
    ck_assert_msg(strstr(r.out, "0 passed, 2 failed") != NULL, "%s: %s", lab->name, r.out);
    cu_run_free(&r);
    cu_dir_remove(&d);
}

START_TEST(test_student_labs_skeletons_fail_cleanly)
{
    /* Goal: from init's files, built as outside files, each lab's skeleton runs its tests and
     * fails them the lab's way (exit 1, the test's own message, no crash). */
    sl_skeleton_fails((size_t)_i);
}
END_TEST

void student_labs_tcases_add(Suite *s)
{
    TCase *quick = tcase_create("labs quick");
    tcase_add_test(quick, test_student_labs_init_writes_the_skeletons);
    tcase_add_test(quick, test_student_labs_init_help_lists_every_lab);
    tcase_add_test(quick, test_student_labs_init_writes_all_or_nothing);
    suite_add_tcase(s, quick);
    TCase *e2e = tcase_create("labs end to end");
    tcase_add_unchecked_fixture(e2e, sl_scratch_make, sl_scratch_remove);
    tcase_set_timeout(e2e, SL_BUILD_TIMEOUT_S + SL_RUN_TIMEOUT_S);
    tcase_add_loop_test(e2e, test_student_labs_skeletons_fail_cleanly, 0, (int)SL_LABS_COUNT);
    suite_add_tcase(s, e2e);
}
