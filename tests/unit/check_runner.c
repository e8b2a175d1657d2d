/* check_runner: the runner and study tools, `labsim list / run / replay / check-determinism /
 * step`, driven as a user drives them: the real binary (LABSIM_BIN, set by `make test`) run as
 * a child process in a scratch directory, with arguments and standard input, its exit status,
 * stdout and stderr checked. Plus, in this process:
 *
 * - the sweep engine and the report (tools/runner.c, tools/run_report.c, compiled in here)
 *   with harness tests that fail on chosen seeds or abort their worker, because every graded
 *   test passes with the reference Raft and the failure paths must still be proven: failing
 *   runs delivered in order, stop-on-fail, a dead worker's report, the failing-seeds file and
 *   JUnit XML with failures;
 * - the session API (lab_session_*): a run stepped one event at a time is the same run as
 *   lab_run (same digest), and an abandoned session is released cleanly.
 *
 * Every run here is short (3A tests, a few seeds), so the suite takes a few seconds.
 */
#define _XOPEN_SOURCE 700 /* posix_openpt and friends, for the progress-line test */

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../tools/run_cpu.c"
#include "../../tools/run_report.c"
#include "../../tools/runner.c"
#include "check_suites.h"
#include "check_util.h"
#include "lab.h"

/* ---------------------------------------------------------------- child processes */

/* Every labsim child runs in a scratch directory (relative paths land there). */
#define tr_labsim(r, dir, ...) cu_labsim((r), &(struct cu_spawn){.cwd = (dir)->path}, __VA_ARGS__)
#define tr_labsim_stdin(r, dir, text, ...)                                                         \
    cu_labsim((r), (&(struct cu_spawn){.cwd = (dir)->path, .input = (text)}), __VA_ARGS__)

/* ---------------------------------------------------------------- output helpers */

/* The last line of s (without its newline) copied into buf. */
static void tr_last_line(const char *s, char *buf, size_t size)
{
    size_t len = strlen(s);
    if (len > 0 && s[len - 1] == '\n') len--;
    size_t start = len;
    while (start > 0 && s[start - 1] != '\n')
        start--;
    snprintf(buf, size, "%.*s", (int)(len - start), s + start);
}

/* The line of s that starts with `prefix`, copied into buf; false when none. */
static bool tr_line_starting(const char *s, const char *prefix, char *buf, size_t size)
{
    size_t plen = strlen(prefix);
    for (const char *p = s; *p != '\0';) {
        const char *end = strchr(p, '\n');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);
        if (len >= plen && strncmp(p, prefix, plen) == 0) {
            snprintf(buf, size, "%.*s", (int)len, p);
            return true;
        }
        p += len + (end != NULL);
    }
    return false;
}

/* A rejected command line: the exit code, nothing on stdout, one line on stderr with prefix. */
static void tr_assert_one_line_error(const struct cu_run *r, int code, const char *prefix)
{
    ck_assert_msg(r->status == code, "exit %d, want %d; stderr: %s", r->status, code, r->err);
    ck_assert_msg(r->out_len == 0, "stdout should be empty, got: %.300s", r->out);
    ck_assert_msg(cu_count(r->err, "\n") == 1 && r->err[r->err_len - 1] == '\n',
                  "want one line on stderr, got: %s", r->err);
    ck_assert_msg(strncmp(r->err, prefix, strlen(prefix)) == 0, "stderr '%s' should start '%s'",
                  r->err, prefix);
}

static void tr_write_file(const char *path, const char *text)
{
    cu_write_file(path, text, strlen(text));
}

/* The digest `labsim replay TEST --seed S` prints, as 16 hex digits. */
static void tr_replay_digest(const struct cu_dir *dir, const char *test, const char *seed,
                             char *hex, size_t size)
{
    struct cu_run r;
    tr_labsim(&r, dir, "replay", test, "--seed", seed);
    ck_assert_msg(r.status == 0, "replay failed: %s%s", r.out, r.err);
    const char *at = strstr(r.out, "digest ");
    ck_assert_ptr_nonnull(at);
    snprintf(hex, size, "%.16s", at + strlen("digest "));
    ck_assert_uint_eq(strspn(hex, "0123456789abcdef"), 16);
    cu_run_free(&r);
}

/* ---------------------------------------------------------------- list */

START_TEST(test_list)
{
    struct cu_dir dir;
    struct cu_run r;
    cu_dir_make(&dir, "runner");
    tr_labsim(&r, &dir, "list");
    ck_assert_int_eq(r.status, 0);
    /* A bare `list` is "all": the graded tests, without part ext's scenarios. */
    size_t graded = 0;
    for (size_t i = 0; i < lab_tests_count(); i++)
        graded += strcmp(lab_test_at(i)->part, LAB_PART_EXT) != 0;
    ck_assert_uint_eq(cu_count(r.out, "\n"), graded);
    for (size_t i = 0; i < lab_tests_count(); i++) {
        const struct lab_test *test = lab_test_at(i);
        if (strcmp(test->part, LAB_PART_EXT) == 0) continue;
        char line[256];
        char name[128];
        /* The name and its padding: TestBasic (5A) is a prefix of TestBasic4A. */
        snprintf(name, sizeof(name), "%s ", test->name);
        ck_assert_msg(tr_line_starting(r.out, name, line, sizeof(line)), "%s missing", test->name);
        char want[256];
        snprintf(want, sizeof(want), " %s ", test->part);
        ck_assert_ptr_nonnull(strstr(line, want));
        ck_assert_ptr_nonnull(strstr(line, test->title));
    }
    cu_run_free(&r);
    tr_labsim(&r, &dir, "list", "3a");
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, "TestInitialElection3A              3A  initial election\n"
                            "TestReElection3A                   3A  election after network "
                            "failure\n"
                            "TestManyElections3A                3A  multiple elections\n");
    cu_run_free(&r);
    tr_labsim(&r, &dir, "list", "TestFigure8*");
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_eq(cu_count(r.out, "\n"), 2);
    cu_run_free(&r);
    /* A comma list selects the union, in catalogue order; empty items select nothing. */
    tr_labsim(&r, &dir, "list", "TestFigure8*,3a,,TestNoSuch");
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_eq(cu_count(r.out, "\n"), 5);
    ck_assert_ptr_nonnull(strstr(r.out, "TestInitialElection3A"));
    ck_assert_ptr_nonnull(strstr(r.out, "TestFigure8Unreliable3C"));
    cu_run_free(&r);
    tr_labsim(&r, &dir, "list", "TestNoSuch");
    tr_assert_one_line_error(&r, 2, "labsim list: no test or part matches 'TestNoSuch'");
    cu_run_free(&r);
    tr_labsim(&r, &dir, "list", ",,");
    tr_assert_one_line_error(&r, 2, "labsim list: no test or part matches ',,'");
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* ---------------------------------------------------------------- run */

/* A labsim copied to another directory (a student's build-mine/) writes its default
 * failing-seeds file beside itself, not into ./build (its replay hints name it too: see
 * config.replay_cmd in the sweep tests). */
START_TEST(test_run_defaults_follow_the_binary)
{
    struct cu_dir dir;
    struct cu_run r;
    char bin_dir[160];
    char bin[192];
    char path[192];
    cu_dir_make(&dir, "runner");
    cu_dir_file(&dir, "build-mine", bin_dir, sizeof(bin_dir));
    char *mkdir_argv[] = {"/bin/mkdir", bin_dir, NULL};
    cu_run(&r, mkdir_argv, NULL);
    ck_assert_int_eq(r.status, 0);
    cu_run_free(&r);
    snprintf(bin, sizeof(bin), "%s/labsim", bin_dir);
    char *cp_argv[] = {"/bin/cp", (char *)cu_labsim_bin(), bin, NULL};
    cu_run(&r, cp_argv, NULL);
    ck_assert_int_eq(r.status, 0);
    cu_run_free(&r);
    char *run_argv[] = {"build-mine/labsim", "run", "TestInitialElection3A", NULL};
    cu_run(&r, run_argv, &(struct cu_spawn){.cwd = dir.path});
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    cu_run_free(&r);
    cu_dir_file(&dir, "build-mine/failing-seeds.txt", path, sizeof(path));
    free(cu_read_file(path, NULL)); /* fails the test when missing */
    cu_dir_file(&dir, "build", path, sizeof(path));
    ck_assert_int_ne(access(path, F_OK), 0);
    cu_dir_remove(&dir);
}
END_TEST

START_TEST(test_run_one_seed_prints_go_lines_and_summary)
{
    struct cu_dir dir;
    struct cu_run r;
    char line[512];
    cu_dir_make(&dir, "runner");
    tr_labsim(&r, &dir, "run", "TestInitialElection3A", "--seed", "3");
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    ck_assert(strncmp(r.out, "Test (3A): initial election ...\n  ... Passed --", 46) == 0);
    ck_assert(tr_line_starting(r.out, "test ", line, sizeof(line)));
    ck_assert_ptr_nonnull(strstr(line, "runs"));
    ck_assert_ptr_nonnull(strstr(line, "failing seeds"));
    ck_assert(tr_line_starting(r.out, "TestInitialElection3A ", line, sizeof(line)));
    ck_assert_int_eq(strncmp(line, "TestInitialElection3A              3A         1      0", 54),
                     0);
    ck_assert(tr_line_starting(r.out, "1 runs, ", line, sizeof(line)));
    ck_assert_ptr_nonnull(strstr(line, "seeds/s, 1 job"));
    tr_last_line(r.out, line, sizeof(line));
    ck_assert_str_eq(line, "1 passed, 0 failed");
    ck_assert_uint_eq(r.err_len, 0); /* stderr is not a terminal: no progress line */
    /* The failing-seeds file is rewritten even when nothing failed (no stale failures). */
    char path[128];
    cu_run_free(&r);
    tr_labsim(&r, &dir, "run", "TestInitialElection3A", "--seed", "3", "--failing-seeds",
              "failing.txt");
    cu_dir_file(&dir, "failing.txt", path, sizeof(path));
    char *text = cu_read_file(path, NULL);
    ck_assert_uint_eq(cu_count(text, "\n"), cu_count(text, "# "));
    free(text);
    cu_run_free(&r);
    /* ...and `run --from-file` takes it back: nothing to re-run. */
    tr_labsim(&r, &dir, "run", "--from-file", "failing.txt");
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    tr_last_line(r.out, line, sizeof(line));
    ck_assert_str_eq(line, "0 passed, 0 failed");
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* The lines of a run's output above the summary table (the 6.824 lines and reports). */
static void tr_head(const char *out, char *buf, size_t size)
{
    const char *table = strstr(out, "test                               part");
    ck_assert_ptr_nonnull(table);
    snprintf(buf, size, "%.*s", (int)(table - out), out);
}

START_TEST(test_run_jobs_output_is_in_job_order)
{
    struct cu_dir dir;
    struct cu_run one;
    struct cu_run two;
    cu_dir_make(&dir, "runner");
    tr_labsim(&one, &dir, "run", "3A");
    tr_labsim(&two, &dir, "run", "3A", "--jobs", "2");
    ck_assert_int_eq(one.status, 0);
    ck_assert_int_eq(two.status, 0);
    char head1[4096];
    char head2[4096];
    tr_head(one.out, head1, sizeof(head1));
    tr_head(two.out, head2, sizeof(head2));
    ck_assert_uint_eq(cu_count(head1, "  ... Passed --"), 3);
    ck_assert_str_eq(head1, head2);
    ck_assert_ptr_nonnull(strstr(two.out, "seeds/s, 2 jobs\n"));
    char line[256];
    tr_last_line(two.out, line, sizeof(line));
    ck_assert_str_eq(line, "3 passed, 0 failed");
    cu_run_free(&one);
    cu_run_free(&two);
    cu_dir_remove(&dir);
}
END_TEST

START_TEST(test_run_sweeps_print_only_the_summary)
{
    struct cu_dir dir;
    struct cu_run r;
    char line[512];
    cu_dir_make(&dir, "runner");
    tr_labsim(&r, &dir, "run", "TestInitialElection3A", "--seed-range", "5..8", "--jobs", "2");
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    ck_assert_ptr_null(strstr(r.out, "Passed --"));
    ck_assert(tr_line_starting(r.out, "TestInitialElection3A ", line, sizeof(line)));
    ck_assert_int_eq(strncmp(line, "TestInitialElection3A              3A         4      0", 54),
                     0);
    tr_last_line(r.out, line, sizeof(line));
    ck_assert_str_eq(line, "4 passed, 0 failed");
    cu_run_free(&r);
    /* --seeds N from --seed S is the same sweep; --verbose prints every run's lines. */
    tr_labsim(&r, &dir, "run", "TestInitialElection3A", "--seed", "5", "--seeds", "4", "--verbose");
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_eq(cu_count(r.out, "  ... Passed --"), 4);
    tr_last_line(r.out, line, sizeof(line));
    ck_assert_str_eq(line, "4 passed, 0 failed");
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* The testcase names of a JUnit file, one per line ("TestX seed N"). */
static void tr_junit_cases(const char *xml, char *buf, size_t size)
{
    buf[0] = '\0';
    for (const char *p = strstr(xml, "name=\"Test"); p != NULL; p = strstr(p + 1, "name=\"Test")) {
        const char *end = strchr(p + 6, '"');
        ck_assert_ptr_nonnull(end);
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, "%.*s\n", (int)(end - p - 6), p + 6);
    }
}

START_TEST(test_run_shards_split_the_sweep)
{
    struct cu_dir dir;
    struct cu_run r;
    char path[3][128];
    char cases[3][2048];
    cu_dir_make(&dir, "runner");
    cu_dir_file(&dir, "all.xml", path[0], sizeof(path[0]));
    cu_dir_file(&dir, "s0.xml", path[1], sizeof(path[1]));
    cu_dir_file(&dir, "s1.xml", path[2], sizeof(path[2]));
    tr_labsim(&r, &dir, "run", "3A", "--seeds", "2", "--junit", path[0]);
    ck_assert_int_eq(r.status, 0);
    cu_run_free(&r);
    for (int s = 0; s < 2; s++) {
        char shard[16];
        snprintf(shard, sizeof(shard), "%d/2", s);
        tr_labsim(&r, &dir, "run", "3A", "--seeds", "2", "--shard", shard, "--junit", path[1 + s]);
        ck_assert_int_eq(r.status, 0);
        char want[64];
        snprintf(want, sizeof(want), "shard %d/2: 3 of 6 runs\n3 passed, 0 failed\n", s);
        ck_assert_msg(strstr(r.out, want) != NULL, "%s", r.out);
        cu_run_free(&r);
    }
    for (int k = 0; k < 3; k++) {
        char *xml = cu_read_file(path[k], NULL);
        ck_assert_ptr_nonnull(strstr(xml, "<?xml version=\"1.0\""));
        ck_assert_ptr_nonnull(strstr(xml, "failures=\"0\""));
        tr_junit_cases(xml, cases[k], sizeof(cases[k]));
        free(xml);
    }
    ck_assert_str_eq(cases[0], "TestInitialElection3A seed 1\nTestInitialElection3A seed 2\n"
                               "TestReElection3A seed 1\nTestReElection3A seed 2\n"
                               "TestManyElections3A seed 1\nTestManyElections3A seed 2\n");
    /* Job k goes to shard k mod 2: the shards are disjoint and cover the sweep. */
    ck_assert_str_eq(cases[1], "TestInitialElection3A seed 1\nTestReElection3A seed 1\n"
                               "TestManyElections3A seed 1\n");
    ck_assert_str_eq(cases[2], "TestInitialElection3A seed 2\nTestReElection3A seed 2\n"
                               "TestManyElections3A seed 2\n");
    cu_dir_remove(&dir);
}
END_TEST

START_TEST(test_run_from_file)
{
    struct cu_dir dir;
    struct cu_run r;
    char path[128];
    char digest[32];
    char line[512];
    cu_dir_make(&dir, "runner");
    tr_replay_digest(&dir, "TestReElection3A", "2", digest, sizeof(digest));
    char text[512];
    snprintf(text, sizeof(text),
             "# a failing-seeds file\n\nTestInitialElection3A 4\nTestReElection3A 2 %s\n", digest);
    cu_dir_file(&dir, "seeds.txt", path, sizeof(path));
    tr_write_file(path, text);
    tr_labsim(&r, &dir, "run", "--from-file", path, "--jobs", "2");
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    ck_assert_uint_eq(cu_count(r.out, "  ... Passed --"), 2);
    ck_assert_ptr_null(strstr(r.out, "NOTE"));
    tr_last_line(r.out, line, sizeof(line));
    ck_assert_str_eq(line, "2 passed, 0 failed");
    cu_run_free(&r);
    /* A recorded digest that the re-run does not reproduce is reported loudly. */
    tr_write_file(path, "TestReElection3A 2 00000000000000ff\n");
    tr_labsim(&r, &dir, "run", "--from-file", path);
    ck_assert_int_eq(r.status, 0);
    snprintf(text, sizeof(text),
             "NOTE: TestReElection3A seed 2 did not reproduce the recorded run: digest %s, "
             "recorded 00000000000000ff",
             digest);
    ck_assert_msg(strstr(r.out, text) != NULL, "%s", r.out);
    cu_run_free(&r);
    /* Bad files: one line naming the file and the line. */
    tr_write_file(path, "TestInitialElection3A 1\nTestNoSuch 3\n");
    tr_labsim(&r, &dir, "run", "--from-file", path);
    snprintf(text, sizeof(text), "labsim run: %s:2: unknown test 'TestNoSuch'", path);
    tr_assert_one_line_error(&r, 2, text);
    cu_run_free(&r);
    tr_write_file(path, "TestInitialElection3A x\n");
    tr_labsim(&r, &dir, "run", "--from-file", path);
    snprintf(text, sizeof(text), "labsim run: %s:1: expected 'TEST SEED [DIGEST]'", path);
    tr_assert_one_line_error(&r, 2, text);
    cu_run_free(&r);
    tr_write_file(path, "TestInitialElection3A 1 xyz\n");
    tr_labsim(&r, &dir, "run", "--from-file", path);
    tr_assert_one_line_error(&r, 2, "labsim run: ");
    cu_run_free(&r);
    tr_labsim(&r, &dir, "run", "--from-file", "/nonexistent/seeds.txt");
    tr_assert_one_line_error(&r, 2, "labsim run: cannot read '/nonexistent/seeds.txt'");
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* On a terminal, a sweep draws a progress line on stderr (runs done, failures, seeds/s) and
 * clears it at the end; stdout is the same as without a terminal. */
START_TEST(test_run_progress_line_on_a_terminal)
{
    struct cu_dir dir;
    cu_dir_make(&dir, "runner");
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    ck_assert_int_ge(master, 0);
    ck_assert_int_eq(grantpt(master), 0);
    ck_assert_int_eq(unlockpt(master), 0);
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    ck_assert_int_ge(slave, 0);
    int out[2];
    ck_assert_int_eq(pipe(out), 0);
    char *argv[] = {(char *)cu_labsim_bin(), "run", "3A", "--seeds", "3", "--jobs", "2", NULL};
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        dup2(slave, STDERR_FILENO);
        close(out[0]);
        close(out[1]);
        close(slave);
        close(master);
        const struct cu_spawn how = {.cwd = dir.path};
        cu_exec(argv, &how);
    }
    close(slave);
    close(out[1]);
    struct cu_run r;
    /* A pty master reads EIO once the child's side is closed: the end of its output. */
    cu_collect(&r, pid, out[0], master, CU_TIMEOUT_S);
    close(out[0]);
    close(master);
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    ck_assert_msg(strstr(r.err, "/9 runs, 0 failed, ") != NULL, "stderr: %s", r.err);
    ck_assert_ptr_nonnull(strstr(r.err, " seeds/s"));
    ck_assert_ptr_nonnull(strstr(r.err, "\r\033[K"));
    ck_assert_str_eq(r.err + r.err_len - 4, "\r\033[K");
    ck_assert_ptr_null(strstr(r.out, "\033"));
    char line[128];
    tr_last_line(r.out, line, sizeof(line));
    ck_assert_str_eq(line, "9 passed, 0 failed");
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* Every malformed command line: exit 2, one line on stderr, nothing run. */
START_TEST(test_run_bad_arguments)
{
    static const char *const cases[][6] = {
        {"3A", "--seeds", "0", NULL},
        {"3A", "--seeds", "x", NULL},
        {"3A", "--seed-range", "5..3", NULL},
        {"3A", "--seed-range", "5", NULL},
        {"3A", "--seed-range", "1..2", "--seeds", "3", NULL},
        {"3A", "--shard", "2/2", NULL},
        {"3A", "--shard", "1", NULL},
        {"3A", "--jobs", "0", NULL},
        {"3A", "--jobs", "100000", NULL},
        {"3A", "--bogus", NULL},
        {"3A", "-j", "2", NULL},
        {"3A", "4A", NULL},
        {"--seed", "1", NULL},
        {"TestNoSuch", NULL},
        {"--from-file", "x.txt", "3A", NULL},
        {"3A", "--junit", "/nonexistent/dir/x.xml", NULL},
    };
    struct cu_dir dir;
    cu_dir_make(&dir, "runner");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cu_run r;
        const char *const *c = cases[i];
        tr_labsim(&r, &dir, "run", c[0], c[1], c[2], c[3], c[4], c[5]);
        tr_assert_one_line_error(&r, 2, "labsim run: ");
        cu_run_free(&r);
    }
    cu_dir_remove(&dir);
}
END_TEST

/* ---------------------------------------------------------------- replay */

START_TEST(test_replay_expect_digest)
{
    struct cu_dir dir;
    struct cu_run r;
    char digest[32];
    char want[256];
    cu_dir_make(&dir, "runner");
    tr_replay_digest(&dir, "TestInitialElection3A", "3", digest, sizeof(digest));
    tr_labsim(&r, &dir, "replay", "TestInitialElection3A", "--seed", "3", "--expect-digest",
              digest);
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    snprintf(want, sizeof(want), "digest matches the expected %s\n", digest);
    ck_assert_ptr_nonnull(strstr(r.out, want));
    cu_run_free(&r);
    tr_labsim(&r, &dir, "replay", "TestInitialElection3A", "--seed", "3", "--expect-digest", "123");
    ck_assert_int_eq(r.status, 1);
    snprintf(want, sizeof(want), "DIGEST MISMATCH: expected 0000000000000123, got %s\n", digest);
    ck_assert_msg(strstr(r.out, want) != NULL, "%s", r.out);
    ck_assert_ptr_nonnull(strstr(r.err, "DIGEST MISMATCH"));
    cu_run_free(&r);
    /* Another seed is another run. */
    tr_labsim(&r, &dir, "replay", "TestInitialElection3A", "--seed", "4", "--expect-digest",
              digest);
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.out, "DIGEST MISMATCH"));
    cu_run_free(&r);
    /* A trace records test, seed and digest: --check-trace replays that run and checks it. */
    char trace[128];
    cu_dir_file(&dir, "t.trace", trace, sizeof(trace));
    tr_labsim(&r, &dir, "replay", "TestInitialElection3A", "--seed", "3", "--trace", trace,
              "--topics", "role,fault");
    ck_assert_int_eq(r.status, 0);
    cu_run_free(&r);
    tr_labsim(&r, &dir, "replay", "--check-trace", trace);
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    snprintf(want, sizeof(want), "digest matches the expected %s\n", digest);
    ck_assert_ptr_nonnull(strstr(r.out, want));
    cu_run_free(&r);
    char *text = cu_read_file(trace, NULL);
    char *line = strstr(text, "# digest ");
    ck_assert_ptr_nonnull(line);
    memcpy(line + strlen("# digest "), "00000000000000ab", 16);
    tr_write_file(trace, text);
    free(text);
    tr_labsim(&r, &dir, "replay", "--check-trace", trace);
    ck_assert_int_eq(r.status, 1);
    snprintf(want, sizeof(want), "DIGEST MISMATCH: expected 00000000000000ab, got %s\n", digest);
    ck_assert_msg(strstr(r.out, want) != NULL, "%s", r.out);
    cu_run_free(&r);
    tr_write_file(trace, "# labsim-trace 1\nE x\n");
    tr_labsim(&r, &dir, "replay", "--check-trace", trace);
    tr_assert_one_line_error(&r, 2, "labsim: ");
    cu_run_free(&r);
    tr_write_file(trace,
                  "# labsim-trace 1\n# title TestNope\n# seed 1\n# digest 0000000000000001\n");
    tr_labsim(&r, &dir, "replay", "--check-trace", trace);
    snprintf(want, sizeof(want), "labsim replay: %s: the header does not name a graded test",
             trace);
    tr_assert_one_line_error(&r, 2, want);
    cu_run_free(&r);
    tr_labsim(&r, &dir, "replay", "--check-trace", "/nonexistent.trace");
    tr_assert_one_line_error(&r, 2, "labsim: /nonexistent.trace: ");
    cu_run_free(&r);
    tr_labsim(&r, &dir, "replay", "TestInitialElection3A", "--check-trace", trace);
    tr_assert_one_line_error(&r, 2, "labsim replay: --check-trace takes");
    cu_run_free(&r);
    tr_labsim(&r, &dir, "replay", "TestInitialElection3A", "--expect-digest", "xyz");
    tr_assert_one_line_error(&r, 2, "labsim replay: --expect-digest needs up to 16 hex digits");
    cu_run_free(&r);
    tr_labsim(&r, &dir, "replay", "TestNoSuch", "--seed", "1");
    tr_assert_one_line_error(&r, 2, "labsim replay: unknown test 'TestNoSuch'");
    cu_run_free(&r);
    tr_labsim(&r, &dir, "replay", "TestInitialElection3A", "--seed", "-1");
    tr_assert_one_line_error(&r, 2, "labsim replay: ");
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* ---------------------------------------------------------------- check-determinism */

START_TEST(test_check_determinism)
{
    struct cu_dir dir;
    struct cu_run r;
    cu_dir_make(&dir, "runner");
    tr_labsim(&r, &dir, "check-determinism", "3A", "--seeds", "2", "--print");
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    ck_assert_uint_eq(cu_count(r.out, "digest Test"), 6);
    ck_assert_ptr_nonnull(strstr(r.out, "digest TestReElection3A 2 "));
    ck_assert_ptr_nonnull(strstr(r.out, "check-determinism: 3 tests x 2 seeds: 6 of 6 (test, "
                                        "seed) pairs ran twice with identical digests\n"));
    ck_assert_ptr_null(strstr(r.out, "NONDETERMINISM"));
    cu_run_free(&r);
    tr_labsim(&r, &dir, "check-determinism", "nosuch");
    tr_assert_one_line_error(&r, 2, "labsim check-determinism: no test or part matches");
    cu_run_free(&r);
    tr_labsim(&r, &dir, "check-determinism", "--seeds", "0");
    tr_assert_one_line_error(&r, 2, "labsim check-determinism: --seeds must be");
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

#define TR_SEED_LAST "18446744073709551615" /* UINT64_MAX */

START_TEST(test_seed_full_uint64_range)
{
    /* Goal (issue 11, defect 2): run, replay and check-determinism all take every uint64 seed,
     * the last one too; only a --seeds count that goes past it is refused, naming --seed. */
    struct cu_dir dir;
    struct cu_run r;
    cu_dir_make(&dir, "runner");
    tr_labsim(&r, &dir, "run", "TestInitialElection3A", "--seed", TR_SEED_LAST);
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "1 passed, 0 failed"));
    cu_run_free(&r);
    tr_labsim(&r, &dir, "run", "TestInitialElection3A", "--seed-range",
              TR_SEED_LAST ".." TR_SEED_LAST);
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    cu_run_free(&r);
    tr_labsim(&r, &dir, "replay", "TestInitialElection3A", "--seed", TR_SEED_LAST);
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "TestInitialElection3A seed " TR_SEED_LAST ": PASS"));
    cu_run_free(&r);
    tr_labsim(&r, &dir, "check-determinism", "TestInitialElection3A", "--seed", TR_SEED_LAST,
              "--print");
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "digest TestInitialElection3A " TR_SEED_LAST " "));
    ck_assert_ptr_nonnull(strstr(r.out, "1 of 1 (test, seed) pairs"));
    cu_run_free(&r);
    /* Two seeds from the last one would wrap to 0: refused in one line that says why. */
    tr_labsim(&r, &dir, "run", "3A", "--seed", TR_SEED_LAST, "--seeds", "2");
    tr_assert_one_line_error(&r, 2, "labsim run: --seed " TR_SEED_LAST " with --seeds 2");
    cu_run_free(&r);
    tr_labsim(&r, &dir, "check-determinism", "3A", "--seed", TR_SEED_LAST, "--seeds", "2");
    tr_assert_one_line_error(&r, 2,
                             "labsim check-determinism: --seed " TR_SEED_LAST " with --seeds 2");
    cu_run_free(&r);
    /* One past the last seed is not a number: refused by the parser, as before. */
    tr_labsim(&r, &dir, "run", "3A", "--seed", "18446744073709551616");
    tr_assert_one_line_error(&r, 2, "labsim run: flag --seed needs an unsigned integer");
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

START_TEST(test_output_paths_checked_up_front)
{
    /* Goal (issue 11, defect 8): an output file that cannot be written fails before the run,
     * with exit 2 and one line naming the path and the reason: replay --trace, run
     * --failing-seeds (as run --junit already did). A writable path is not left behind. */
    struct cu_dir dir;
    struct cu_run r;
    char want[256];
    char path[160];
    cu_dir_make(&dir, "runner");
    tr_labsim(&r, &dir, "replay", "TestInitialElection3A", "--seed", "1", "--trace", dir.path);
    tr_assert_one_line_error(&r, 2, "labsim replay: --trace: cannot write");
    snprintf(want, sizeof(want), "'%s': %s\n", dir.path, strerror(EISDIR));
    ck_assert_msg(strstr(r.err, want) != NULL, "stderr: %s", r.err);
    cu_run_free(&r);
    tr_labsim(&r, &dir, "run", "TestInitialElection3A", "--failing-seeds", "/nonexistent/x");
    tr_assert_one_line_error(&r, 2, "labsim run: --failing-seeds: cannot write");
    snprintf(want, sizeof(want), "'/nonexistent/x': %s\n", strerror(ENOENT));
    ck_assert_msg(strstr(r.err, want) != NULL, "stderr: %s", r.err);
    cu_run_free(&r);
    tr_labsim(&r, &dir, "run", "TestInitialElection3A", "--failing-seeds", dir.path);
    tr_assert_one_line_error(&r, 2, "labsim run: --failing-seeds: cannot write");
    cu_run_free(&r);
    /* A replay refused for its arguments leaves no trace file behind; a good one writes it. */
    cu_dir_file(&dir, "t.trace", path, sizeof(path));
    tr_labsim(&r, &dir, "replay", "TestNoSuch", "--seed", "1", "--trace", path);
    tr_assert_one_line_error(&r, 2, "labsim replay: unknown test");
    ck_assert_int_eq(access(path, F_OK), -1);
    cu_run_free(&r);
    tr_labsim(&r, &dir, "replay", "TestInitialElection3A", "--seed", "1", "--trace", path);
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    ck_assert_int_eq(access(path, R_OK), 0);
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

START_TEST(test_bench_arguments)
{
    /* Goal (issue 11, defect 7): bench fails up front (seconds, not the 45 s of the whole
     * bench) with exit 2 and one line on a --data directory it cannot read; --help prints the
     * usage; --data without a value says so. */
    struct cu_dir dir;
    struct cu_run r;
    cu_dir_make(&dir, "runner");
    cu_labsim(&r, (&(struct cu_spawn){.cwd = dir.path, .timeout_s = 10}), "bench", "--data",
              "/nonexistent");
    tr_assert_one_line_error(&r, 2, "labsim bench: --data /nonexistent: cannot read");
    ck_assert_ptr_nonnull(strstr(r.err, strerror(ENOENT)));
    cu_run_free(&r);
    tr_labsim(&r, &dir, "bench", "--help");
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "usage: labsim bench [--data PORCUPINE_DIR]"));
    ck_assert_uint_eq(r.err_len, 0);
    cu_run_free(&r);
    tr_labsim(&r, &dir, "bench", "--data");
    tr_assert_one_line_error(&r, 2, "labsim bench: flag --data needs a value");
    cu_run_free(&r);
    tr_labsim(&r, &dir, "bench", "extra");
    tr_assert_one_line_error(&r, 2, "labsim bench: unexpected argument 'extra'");
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* The sentence that starts at `at` (up to ". ", ".\n", a table cell's '|' or a blank line),
 * into buf. */
static void tr_sentence(const char *at, char *buf, size_t size)
{
    size_t len = 0;
    while (at[len] != '\0' && at[len] != '|' && strncmp(at + len, "\n\n", 2) != 0 &&
           !(at[len] == '.' && (at[len + 1] == ' ' || at[len + 1] == '\n')))
        len++;
    snprintf(buf, size, "%.*s", (int)len, at);
}

START_TEST(test_readme_sanitize_compiler)
{
    /* Goal (issue 11, defect 9): what the README says `make sanitize` builds with is what the
     * Makefile does: its recipe passes no CC, so it uses $(CC), and a README sentence about
     * `make sanitize` that names a compiler must say $(CC). */
    const char *root = getenv("LABSIM_ROOT") != NULL ? getenv("LABSIM_ROOT") : ".";
    char path[1024];
    snprintf(path, sizeof(path), "%s/Makefile", root);
    char *makefile = cu_read_file(path, NULL);
    snprintf(path, sizeof(path), "%s/README.md", root);
    char *readme = cu_read_file(path, NULL);
    const char *recipe = strstr(makefile, "\nsanitize:");
    ck_assert_ptr_nonnull(recipe);
    const char *recipe_end = strstr(recipe, "\n\n");
    ck_assert_ptr_nonnull(recipe_end);
    const char *cc = strstr(recipe, "CC=");
    ck_assert_msg(cc == NULL || cc > recipe_end, "the sanitize recipe now sets CC: update this");
    size_t sentences = 0;
    for (const char *at = strstr(readme, "`make sanitize`"); at != NULL;
         at = strstr(at + 1, "`make sanitize`")) {
        char sentence[512];
        tr_sentence(at, sentence, sizeof(sentence));
        bool names_compiler = strstr(sentence, "clang") != NULL || strstr(sentence, "gcc") != NULL;
        if (!names_compiler) continue;
        sentences++;
        ck_assert_msg(strstr(sentence, "$(CC)") != NULL,
                      "README: '%s' names a compiler, but make sanitize uses $(CC)", sentence);
    }
    ck_assert_uint_ge(sentences, 1); /* the README does say what sanitize builds with */
    free(makefile);
    free(readme);
}
END_TEST

/* ---------------------------------------------------------------- the sweep engine */

/* Harness tests with chosen failures (every graded test passes with the reference Raft). */
static void body_pass(struct lab_ctx *ctx)
{
    lab_begin(ctx, "always passes");
    sim_sleep_us(lab_sim(ctx), SIM_MS(10) * lab_seed(ctx));
    lab_passed(ctx, 0.1, "1 2 3 0");
}

static void body_fail_odd(struct lab_ctx *ctx)
{
    lab_begin(ctx, "fails on odd seeds");
    sim_sleep_us(lab_sim(ctx), SIM_MS(5));
    if (lab_seed(ctx) % 2 == 1) lab_fatalf(ctx, 2, "value <%d> & \"quoted\"", (int)lab_seed(ctx));
    lab_passed(ctx, 0.1, "1 2 3 0");
}

static void body_abort_3(struct lab_ctx *ctx)
{
    lab_begin(ctx, "an internal invariant breaks on seed 3");
    sim_sleep_us(lab_sim(ctx), SIM_MS(5));
    SIM_ASSERT(lab_sim(ctx), 1, lab_seed(ctx) != 3);
    lab_passed(ctx, 0.1, "1 2 3 0");
}

/* Spins without an event: only a CPU-time limit ends it. */
static void body_spin(struct lab_ctx *ctx)
{
    lab_begin(ctx, "never returns");
    volatile uint64_t spins = 0;
    for (;;)
        spins++;
}

/* Fails with the text its body argument points at. */
static void body_says_arg(struct lab_ctx *ctx)
{
    const char *said = lab_body_arg(ctx);
    lab_begin(ctx, "says its argument");
    lab_fatalf(ctx, SIM_NODE_NONE, "argument: %s", said != NULL ? said : "(none)");
}

static const struct lab_test test_pass = {"TestHarnessPass", "3A", "passes", body_pass};
static const struct lab_test test_spin = {"TestHarnessSpin", "3A", "spins", body_spin};
static const struct lab_test test_says_arg = {"TestHarnessSaysArg", "3A", "says", body_says_arg};
static const struct lab_test test_fail_odd = {"TestHarnessFailOdd", "3A", "odd", body_fail_odd};
static const struct lab_test test_abort = {"TestHarnessAbort", "3A", "abort", body_abort_3};

#define SEEN_MAX 64

/* What a delivery callback saw. */
struct seen {
    size_t count;
    size_t job[SEEN_MAX];
    enum lab_outcome outcome[SEEN_MAX];
    bool died[SEEN_MAX];
    uint64_t digest[SEEN_MAX];
    char text[SEEN_MAX][512];
};

static void seen_deliver(const struct runner_result *result, void *arg)
{
    struct seen *seen = arg;
    ck_assert_uint_lt(seen->count, SEEN_MAX);
    size_t k = seen->count++;
    seen->job[k] = result->job;
    seen->outcome[k] = result->outcome;
    seen->died[k] = result->worker_died;
    seen->digest[k] = result->digest;
    ck_assert_uint_eq(strlen(result->text), result->text_len);
    snprintf(seen->text[k], sizeof(seen->text[k]), "%s", result->text);
}

START_TEST(test_sweep_workers_deliver_in_job_order)
{
    struct runner_job jobs[12];
    for (int i = 0; i < 12; i++)
        jobs[i] = (struct runner_job){i % 2 == 0 ? &test_pass : &test_fail_odd, 1 + i / 2};
    struct seen local = {0};
    struct seen forked = {0};
    struct runner_config config = {.workers = 1, .capture_passed = true};
    struct runner_stats stats;
    ck_assert_int_eq(runner_sweep(jobs, 12, &config, seen_deliver, &local, &stats), 0);
    config.workers = 3;
    ck_assert_int_eq(runner_sweep(jobs, 12, &config, seen_deliver, &forked, &stats), 0);
    ck_assert_uint_eq(stats.delivered, 12);
    ck_assert_uint_eq(stats.failed, 3); /* seeds 1, 3, 5 of the failing test */
    ck_assert_uint_eq(stats.not_started, 0);
    for (size_t k = 0; k < 12; k++) {
        ck_assert_uint_eq(forked.job[k], k);
        bool fails = k % 2 == 1 && (1 + k / 2) % 2 == 1;
        ck_assert_int_eq(forked.outcome[k], fails ? LAB_FAIL : LAB_PASS);
        /* Where a run ran changes nothing about it. */
        ck_assert_uint_eq(forked.digest[k], local.digest[k]);
        ck_assert_str_eq(forked.text[k], local.text[k]);
    }
    ck_assert_str_eq(forked.text[1],
                     "Test (3A): fails on odd seeds ...\n"
                     "--- FAIL: TestHarnessFailOdd (seed 1)\n"
                     "    at 0.005s virtual, node 2: value <1> & \"quoted\"\n"
                     "    replay: build/labsim replay TestHarnessFailOdd --seed 1\n");
    ck_assert_ptr_nonnull(strstr(forked.text[0], "  ... Passed --"));
}
END_TEST

START_TEST(test_sweep_passed_output_dropped_unless_asked)
{
    struct runner_job jobs[4] = {
        {&test_pass, 1}, {&test_fail_odd, 1}, {&test_pass, 2}, {&test_fail_odd, 2}};
    struct seen seen = {0};
    struct runner_config config = {.workers = 2, .capture_passed = false};
    ck_assert_int_eq(runner_sweep(jobs, 4, &config, seen_deliver, &seen, NULL), 0);
    ck_assert_uint_eq(seen.count, 4);
    ck_assert_str_eq(seen.text[0], "");
    ck_assert_ptr_nonnull(strstr(seen.text[1], "--- FAIL: TestHarnessFailOdd (seed 1)"));
    ck_assert_str_eq(seen.text[3], "");
}
END_TEST

START_TEST(test_sweep_dead_worker_fails_its_job_only)
{
    struct runner_job jobs[5];
    for (int i = 0; i < 5; i++)
        jobs[i] = (struct runner_job){&test_abort, (uint64_t)i + 1};
    struct seen seen = {0};
    struct runner_config config = {.workers = 2, .replay_cmd = "./labsim"};
    struct runner_stats stats;
    /* The assertion message of the dying worker goes to stderr: keep the test log clean. */
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    FILE *null = fopen("/dev/null", "w");
    ck_assert_ptr_nonnull(null);
    dup2(fileno(null), STDERR_FILENO);
    int rc = runner_sweep(jobs, 5, &config, seen_deliver, &seen, &stats);
    dup2(saved, STDERR_FILENO);
    close(saved);
    fclose(null);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(stats.delivered, 5);
    ck_assert_uint_eq(stats.failed, 1);
    for (size_t k = 0; k < 5; k++) {
        ck_assert_uint_eq(seen.job[k], k);
        ck_assert_int_eq(seen.died[k], k == 2);
        ck_assert_int_eq(seen.outcome[k], k == 2 ? LAB_FAIL : LAB_PASS);
    }
    ck_assert_str_eq(seen.text[2], "--- FAIL: TestHarnessAbort (seed 3)\n"
                                   "    worker process killed by signal 6 before reporting (its "
                                   "message is on stderr above)\n"
                                   "    replay: ./labsim replay TestHarnessAbort --seed 3\n");
}
END_TEST

/* The explorer's shrinker replays candidates that may crash or hang: one job in a forked worker
 * (isolate), its stderr captured into the report, a CPU-time limit, and its body argument. */
START_TEST(test_sweep_isolated_job_crash_hang_and_arg)
{
    struct runner_job abort_job = {&test_abort, 3};
    struct runner_config config = {
        .workers = 1, .isolate = true, .capture_stderr = true, .replay_cmd = "./labsim"};
    struct seen seen = {0};
    struct runner_stats stats;
    /* Nothing reaches our stderr: the worker's is a scratch file. */
    ck_assert_int_eq(runner_sweep(&abort_job, 1, &config, seen_deliver, &seen, &stats), 0);
    ck_assert_uint_eq(stats.delivered, 1);
    ck_assert(seen.died[0]);
    ck_assert_int_eq(seen.outcome[0], LAB_FAIL);
    const char *text = seen.text[0];
    ck_assert_msg(strncmp(text,
                          "--- FAIL: TestHarnessAbort (seed 3)\n"
                          "    worker process killed by signal 6 before reporting (its stderr "
                          "follows)\n"
                          "    replay: ./labsim replay TestHarnessAbort --seed 3\n",
                          150) == 0,
                  "%s", text);
    ck_assert_msg(strstr(text, "labsim: assertion failed: lab_seed(ctx) != 3 (") != NULL, "%s",
                  text);
    ck_assert_msg(strstr(text, "--- CRASH: TestHarnessAbort (seed 3)") != NULL, "%s", text);
    /* A hang is killed after the limit and says so. */
    struct runner_job spin_job = {&test_spin, 1};
    config.job_cpu_s = 1;
    memset(&seen, 0, sizeof(seen));
    ck_assert_int_eq(runner_sweep(&spin_job, 1, &config, seen_deliver, &seen, &stats), 0);
    ck_assert(seen.died[0]);
    ck_assert_msg(strstr(seen.text[0], "worker process used over 1 s of CPU before reporting") !=
                      NULL,
                  "%s", seen.text[0]);
    /* The body argument reaches the forked worker, and a passing job after a limit is fine. */
    struct runner_job arg_jobs[2] = {{&test_says_arg, 1}, {&test_pass, 1}};
    config.body_arg = "forty-two";
    memset(&seen, 0, sizeof(seen));
    ck_assert_int_eq(runner_sweep(arg_jobs, 2, &config, seen_deliver, &seen, &stats), 0);
    ck_assert(!seen.died[0]);
    ck_assert_msg(strstr(seen.text[0], "argument: forty-two") != NULL, "%s", seen.text[0]);
    ck_assert_int_eq(seen.outcome[1], LAB_PASS);
}
END_TEST

START_TEST(test_sweep_stop_on_fail)
{
    struct runner_job jobs[20];
    for (int i = 0; i < 20; i++)
        jobs[i] = (struct runner_job){i == 1 ? &test_fail_odd : &test_pass, i == 1 ? 1u : i + 1u};
    struct runner_config config = {.workers = 1, .stop_on_fail = true};
    struct runner_stats stats;
    struct seen seen = {0};
    ck_assert_int_eq(runner_sweep(jobs, 20, &config, seen_deliver, &seen, &stats), 0);
    ck_assert_uint_eq(stats.delivered, 2);
    ck_assert_uint_eq(stats.failed, 1);
    ck_assert_uint_eq(stats.not_started, 18);
    /* With workers, runs already started finish and are delivered in order; no new one starts.
     * How many passing runs a fast worker completes before the failure reaches the dispatcher
     * depends on process scheduling, so only the order and the accounting are asserted. */
    struct seen forked = {0};
    config.workers = 2;
    ck_assert_int_eq(runner_sweep(jobs, 20, &config, seen_deliver, &forked, &stats), 0);
    ck_assert_uint_eq(stats.failed, 1);
    ck_assert_uint_ge(stats.delivered, 2);
    ck_assert_uint_eq(stats.delivered + stats.not_started, 20);
    for (size_t k = 0; k < forked.count; k++)
        ck_assert_uint_eq(forked.job[k], k);
}
END_TEST

/* ---------------------------------------------------------------- the report */

START_TEST(test_report_table_failing_file_and_junit)
{
    struct runner_job jobs[4] = {
        {&test_fail_odd, 1}, {&test_fail_odd, 2}, {&test_fail_odd, 3}, {&test_pass, 1}};
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    ck_assert_ptr_nonnull(out);
    struct run_report *report = run_report_new(out, false, NULL, true);
    ck_assert_ptr_nonnull(report);
    struct runner_config config = {.workers = 2};
    struct runner_stats stats;
    ck_assert_int_eq(runner_sweep(jobs, 4, &config, run_report_deliver, report, &stats), 0);
    run_report_summary(report, &stats, 2, "context line");
    fclose(out);
    /* Failing runs' reports in order, no Passed lines, the table, the closing line. */
    const char *first = strstr(text, "--- FAIL: TestHarnessFailOdd (seed 1)");
    const char *second = strstr(text, "--- FAIL: TestHarnessFailOdd (seed 3)");
    ck_assert(first != NULL && second != NULL && first < second);
    ck_assert_ptr_null(strstr(text, "Passed"));
    char line[512];
    ck_assert(tr_line_starting(text, "TestHarnessFailOdd ", line, sizeof(line)));
    ck_assert_int_eq(strncmp(line, "TestHarnessFailOdd                 3A         3      2", 54),
                     0);
    ck_assert_str_eq(line + strlen(line) - 5, "  1 3");
    ck_assert(tr_line_starting(text, "TestHarnessPass ", line, sizeof(line)));
    ck_assert_ptr_nonnull(strstr(text, "\ncontext line\n2 passed, 2 failed\n"));
    free(text);

    char dir[] = "/tmp/labsim-report-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/failing.txt", dir);
    ck_assert_int_eq(run_report_write_failing(report, path), 0);
    char *failing = cu_read_file(path, NULL);
    ck_assert_uint_eq(cu_count(failing, "\nTestHarnessFailOdd 1 "), 1);
    ck_assert_uint_eq(cu_count(failing, "\nTestHarnessFailOdd 3 "), 1);
    ck_assert_uint_eq(cu_count(failing, "\n"), 4); /* two comments, two failures */
    free(failing);
    ck_assert_int_eq(run_report_write_failing(report, "/nonexistent/dir/f.txt"), -1);

    snprintf(path, sizeof(path), "%s/junit.xml", dir);
    FILE *xml = fopen(path, "w");
    ck_assert_ptr_nonnull(xml);
    ck_assert_int_eq(run_report_write_junit(report, xml), 0);
    fclose(xml);
    char *junit = cu_read_file(path, NULL);
    ck_assert_ptr_nonnull(strstr(junit, "<testsuite name=\"labsim\" tests=\"4\" failures=\"2\""));
    ck_assert_uint_eq(cu_count(junit, "<testcase "), 4);
    ck_assert_uint_eq(cu_count(junit, "<failure "), 2);
    ck_assert_ptr_nonnull(strstr(junit, "<failure message=\"TestHarnessFailOdd seed 3 failed\">"));
    ck_assert_ptr_nonnull(strstr(junit, "value &lt;3&gt; &amp; &quot;quoted&quot;"));
    ck_assert_ptr_nonnull(strstr(junit, "name=\"TestHarnessPass seed 1\" time="));
    free(junit);
    run_report_free(report);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

/* ---------------------------------------------------------------- sessions */

START_TEST(test_session_stepped_run_is_the_same_run)
{
    const struct lab_test *test = lab_test_find("TestInitialElection3A");
    struct lab_result whole;
    ck_assert_int_eq(lab_run(test, 5, NULL, &whole), 0);
    struct lab_session *session = NULL;
    ck_assert_int_eq(lab_session_start(test, 5, NULL, &session), 0);
    ck_assert_ptr_eq(lab_session_test(session), test);
    /* No inspector until the harness has built its config (inside the body). */
    ck_assert_int_eq(lab_session_inspect(session, 0, stdout), SIM_EINVAL);
    uint64_t steps = 0;
    while (!lab_session_over(session)) {
        lab_session_step(session);
        steps++;
        ck_assert_uint_eq(sim_events_run(lab_session_sim(session)), steps);
        if (steps == 200) {
            char *text = NULL;
            size_t len = 0;
            FILE *mem = open_memstream(&text, &len);
            ck_assert_int_eq(lab_session_inspect(session, 1, mem), 0);
            ck_assert_int_eq(lab_session_inspect(session, 3, mem), SIM_EINVAL);
            fclose(mem);
            ck_assert_msg(strncmp(text, "node 1: ", 8) == 0, "%s", text);
            ck_assert_ptr_nonnull(strstr(text, "  log: snapshot through 0"));
            ck_assert_ptr_nonnull(strstr(text, "  commit "));
            free(text);
        }
    }
    ck_assert(lab_session_over(session));
    ck_assert(!lab_session_step(session));
    struct lab_result stepped;
    ck_assert_int_eq(lab_session_finish(session, &stepped), 0);
    ck_assert_int_eq(stepped.outcome, LAB_PASS);
    ck_assert_uint_eq(stepped.digest, whole.digest);
    ck_assert_uint_eq(stepped.events, whole.events);
    ck_assert_uint_eq(stepped.virtual_us, whole.virtual_us);
    ck_assert_uint_eq(steps, whole.events);
}
END_TEST

static bool after_one_second(struct sim *sim, void *arg)
{
    (void)arg;
    return sim_now_us(sim) >= SIM_S(1);
}

START_TEST(test_session_abandoned)
{
    struct lab_session *session = NULL;
    ck_assert_int_eq(lab_session_start(NULL, 1, NULL, &session), SIM_EINVAL);
    ck_assert_ptr_null(session);
    ck_assert_int_eq(lab_session_start(lab_test_find("TestReElection3A"), 1, NULL, &session), 0);
    ck_assert(lab_session_run(session, after_one_second, NULL));
    ck_assert_uint_ge(sim_now_us(lab_session_sim(session)), SIM_S(1));
    ck_assert(!lab_session_over(session));
    struct lab_result result;
    ck_assert_int_eq(lab_session_finish(session, &result), SIM_ESTOPPED);
    ck_assert_uint_ge(result.virtual_us, SIM_S(1));
}
END_TEST

/* ---------------------------------------------------------------- step */

START_TEST(test_step_election_inspect_and_time)
{
    struct cu_dir dir;
    struct cu_run r;
    cu_dir_make(&dir, "runner");
    tr_labsim_stdin(&r, &dir, "s 2\ns\ne\np 1\np\nb fault\nt 2.5\nq\nnever read\n", "step",
                    "TestReElection3A", "--seed", "1");
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    ck_assert_msg(r.err_len == 0, "%s", r.err);
    const char *hello = "step: TestReElection3A seed 1 (h for help)\n";
    ck_assert(strncmp(r.out, hello, strlen(hello)) == 0);
    ck_assert_ptr_nonnull(strstr(r.out, " s virtual, 2 events\n"));
    ck_assert_ptr_nonnull(strstr(r.out, " s virtual, 3 events\n"));
    /* Events print as they happen, the election stops the run, nodes print their state. */
    ck_assert_ptr_nonnull(strstr(r.out, "   0.000000 n0   raft.role term=0 role=follower\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "   0.353978 n1   raft.role term=1 role=leader\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "\n-- at 0.353978 s virtual, "));
    ck_assert_ptr_nonnull(strstr(r.out, " events: node 1 became leader of term 1\n"
                                        "node 1: leader, term 1, voted for 1, connected\n"
                                        "  log: snapshot through 0 (term 0), last index 0: (no "
                                        "entries)\n"
                                        "  commit 0, applied 0 (tester saw 0)\n"
                                        "  next: 1 1 1  match: 0 0 0\n"));
    ck_assert_uint_eq(cu_count(r.out, "node 0: follower, term 1, voted for 1, connected\n"), 1);
    ck_assert_uint_eq(cu_count(r.out, "node 2: follower"), 1);
    ck_assert_ptr_nonnull(strstr(r.out, "   0.539000 n1   cfg.disconnect\n"
                                        "-- at 0.539000 s virtual, "));
    ck_assert_ptr_nonnull(strstr(r.out, " events: cfg.disconnect on node 1\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "\n-- at 2.500000 s virtual, "));
    ck_assert_ptr_null(strstr(r.out, "2.6"));
    char line[256];
    tr_last_line(r.out, line, sizeof(line));
    ck_assert_int_eq(strncmp(line, "-- left at 2.500000 s virtual after ", 36), 0);
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* Stepped to its end (input ends: the run is left, so step it out with a far time), a run is
 * the run replay makes: same digest. */
START_TEST(test_step_to_the_end_is_the_replayed_run)
{
    struct cu_dir dir;
    struct cu_run r;
    char digest[32];
    char want[128];
    cu_dir_make(&dir, "runner");
    tr_replay_digest(&dir, "TestBasicAgree3B", "2", digest, sizeof(digest));
    /* The second commit is node 1's: by then the entry has reached it (messages take time);
     * two events later it has applied it. */
    tr_labsim_stdin(&r, &dir, "e\nc\nc\ns 2\np 1\ns 7\nt 250\np 0\n", "step", "TestBasicAgree3B",
                    "--seed", "2", "--topics", "role,commit");
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, " events: raft.commit on node 0\n"));
    /* What the tester saw applied shows in 3A-3C too, not only with the 3D applier. */
    ck_assert_ptr_nonnull(strstr(r.out, "node 1: follower, term 1, voted for 0, connected\n"
                                        "  log: snapshot through 0 (term 0), last index 1: 1@t1\n"
                                        "  commit 1, applied 1 (tester saw 1)\n"));
    ck_assert_ptr_nonnull(strstr(r.out, "  ... Passed --"));
    /* --topics role,commit: no network or harness events printed. */
    ck_assert_ptr_null(strstr(r.out, "cfg."));
    ck_assert_ptr_null(strstr(r.out, "rpc."));
    snprintf(want, sizeof(want), ", digest %s\n", digest);
    char line[256];
    tr_last_line(r.out, line, sizeof(line));
    ck_assert_msg(strncmp(line, "-- run over: PASS at ", 21) == 0, "%s", line);
    ck_assert_msg(strstr(r.out, want) != NULL, "%s", line);
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* A time earlier than now cannot be reached: step says so (stderr) and the run stays where it
 * is, instead of printing the current position as if it had gone there. */
START_TEST(test_step_time_cannot_go_back)
{
    struct cu_dir dir;
    struct cu_run r;
    cu_dir_make(&dir, "runner");
    tr_labsim_stdin(&r, &dir, "t 2\nt 1\nq\n", "step", "TestReElection3A", "--seed", "1");
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    ck_assert_ptr_nonnull(
        strstr(r.err, "step: cannot go back to 1.000000 s: the run is at 2.000000 s virtual\n"));
    ck_assert_uint_eq(cu_count(r.out, "-- at 2.000000 s virtual, "), 1);
    char line[256];
    tr_last_line(r.out, line, sizeof(line));
    ck_assert_int_eq(strncmp(line, "-- left at 2.000000 s virtual after ", 36), 0);
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

START_TEST(test_step_bad_input)
{
    struct cu_dir dir;
    struct cu_run r;
    cu_dir_make(&dir, "runner");
    tr_labsim_stdin(&r, &dir, "p\nzz\ns x\ns 0\nt abc\nb nosuch\ns 1 2\ns 20\np 7\np x\n", "step",
                    "TestInitialElection3A");
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    ck_assert_str_eq(r.err, "step: nothing to inspect yet (no servers built)\n"
                            "step: unknown command 'zz' (h for help)\n"
                            "step: s needs a count between 1 and 1000000000, got 'x'\n"
                            "step: s needs a count between 1 and 1000000000, got '0'\n"
                            "step: t needs a virtual time in seconds, e.g. t 2.5\n"
                            "step: b needs a topic (h lists them), got 'nosuch'\n"
                            "step: too many arguments to 's' (h for help)\n"
                            "step: no node '7' to inspect (yet)\n"
                            "step: no node 'x' to inspect (yet)\n");
    ck_assert_ptr_nonnull(strstr(r.out, "\n-- at "));
    cu_run_free(&r);
    tr_labsim(&r, &dir, "step");
    tr_assert_one_line_error(&r, 2, "labsim step: missing TEST");
    cu_run_free(&r);
    tr_labsim(&r, &dir, "step", "TestNoSuch", "--seed", "1");
    tr_assert_one_line_error(&r, 2, "labsim step: unknown test 'TestNoSuch'");
    cu_run_free(&r);
    tr_labsim(&r, &dir, "step", "TestInitialElection3A", "--topics", "role,bogus");
    tr_assert_one_line_error(&r, 2, "labsim step: ");
    cu_run_free(&r);
    tr_labsim(&r, &dir, "step", "TestInitialElection3A", "--seed");
    tr_assert_one_line_error(&r, 2, "labsim step: flag --seed needs a value");
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* ---------------------------------------------------------------- suite */

START_TEST(test_cpu_reference_covers_the_catalogue)
{
    /* Goal: every graded test has a reference CPU time (else a slow student test could never
     * be flagged), and every entry names a graded test (no stale rows). */
    for (size_t i = 0; i < lab_tests_count(); i++) {
        const char *name = lab_test_at(i)->name;
        ck_assert_msg(run_cpu_ref_us(name) > 0, "no reference CPU time for %s", name);
    }
    for (unsigned i = 0; i < run_cpu_refs_count(); i++)
        ck_assert_msg(lab_test_find(run_cpu_ref_name(i)) != NULL, "stale entry %s",
                      run_cpu_ref_name(i));
    ck_assert_uint_eq(run_cpu_refs_count(), lab_tests_count());
}
END_TEST

START_TEST(test_cpu_warning_rule)
{
    /* Goal: a warning needs both the factor and the floor, and never fires without a
     * reference. */
    ck_assert(!run_cpu_far_above(5000000, 0));
    ck_assert(!run_cpu_far_above(10000 * RUN_CPU_FACTOR, 10000)); /* exactly the factor */
    ck_assert(!run_cpu_far_above(100000, 1000));                  /* 100x, but 0.1 s */
    ck_assert(run_cpu_far_above(RUN_CPU_FLOOR_US + 1000, 1000));
    ck_assert(!run_cpu_far_above(900000, 100000)); /* 9x */
    ck_assert(run_cpu_far_above(1000001, 100000));
}
END_TEST

Suite *runner_suite(void)
{
    Suite *s = suite_create("runner");
    TCase *cli = tcase_create("cli");
    tcase_set_timeout(cli, 120);
    tcase_add_test(cli, test_list);
    tcase_add_test(cli, test_run_one_seed_prints_go_lines_and_summary);
    tcase_add_test(cli, test_run_jobs_output_is_in_job_order);
    tcase_add_test(cli, test_run_sweeps_print_only_the_summary);
    tcase_add_test(cli, test_run_shards_split_the_sweep);
    tcase_add_test(cli, test_run_from_file);
    tcase_add_test(cli, test_run_progress_line_on_a_terminal);
    tcase_add_test(cli, test_run_bad_arguments);
    tcase_add_test(cli, test_replay_expect_digest);
    tcase_add_test(cli, test_check_determinism);
    tcase_add_test(cli, test_seed_full_uint64_range);
    tcase_add_test(cli, test_output_paths_checked_up_front);
    tcase_add_test(cli, test_bench_arguments);
    tcase_add_test(cli, test_readme_sanitize_compiler);
    tcase_add_test(cli, test_step_election_inspect_and_time);
    tcase_add_test(cli, test_step_to_the_end_is_the_replayed_run);
    tcase_add_test(cli, test_step_bad_input);
    tcase_add_test(cli, test_run_defaults_follow_the_binary);
    tcase_add_test(cli, test_step_time_cannot_go_back);
    suite_add_tcase(s, cli);
    TCase *engine = tcase_create("engine");
    tcase_set_timeout(engine, 60);
    tcase_add_test(engine, test_cpu_reference_covers_the_catalogue);
    tcase_add_test(engine, test_cpu_warning_rule);
    tcase_add_test(engine, test_sweep_workers_deliver_in_job_order);
    tcase_add_test(engine, test_sweep_passed_output_dropped_unless_asked);
    tcase_add_test(engine, test_sweep_dead_worker_fails_its_job_only);
    tcase_add_test(engine, test_sweep_stop_on_fail);
    tcase_add_test(engine, test_sweep_isolated_job_crash_hang_and_arg);
    tcase_add_test(engine, test_report_table_failing_file_and_junit);
    tcase_add_test(engine, test_session_stepped_run_is_the_same_run);
    tcase_add_test(engine, test_session_abandoned);
    suite_add_tcase(s, engine);
    return s;
}
