/* check_ckmain: the runner of the Check suites itself (check_main.c), run again from a test as
 * `make test` runs it, on a probe case that exists only when LABSIM_CKMAIN_PROBE is set.
 *
 * - same: with two workers the output is byte for byte what one runner prints, passing or
 *   failing, and so is the exit status; the last line is Check's summary over all suites.
 * - crash: a worker killed under a suite is reported by name on a line of its own, counted as
 *   an error, and the run still ends with the summary and fails.
 * - bound: a worker still running past its bound (shrunk here with CK_TIMEOUT_MULTIPLIER; the
 *   probe hangs in process, CK_FORK=no) is killed and reported, so the run never hangs.
 * - jobs: a bad CK_JOBS is refused with one line and exit status 2.
 * The probe case ("ckmain_probe": three checks) passes, fails its second check, kills its worker
 * at its second check, or sleeps there, as LABSIM_CKMAIN_PROBE says (pass, fail, kill, hang).
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check_suites.h"
#include "check_util.h"

#define CKMAIN_PROBE_CHECKS 3
#define CKMAIN_HANG_S 60 /* how long the hanging probe sleeps: far past its shrunk bound */
#define CKMAIN_RUN_TIMEOUT_S 90

/* ---------------------------------------------------------------- the probe */

START_TEST(test_ckmain_probe)
{
    const char *mode = getenv("LABSIM_CKMAIN_PROBE");
    ck_assert_ptr_nonnull(mode);
    if (_i != 1) return;
    if (strcmp(mode, "fail") == 0) ck_assert_msg(0, "the probe fails here");
    if (strcmp(mode, "kill") == 0) kill(getppid(), SIGKILL); /* the worker: fork mode */
    for (int s = 0; strcmp(mode, "hang") == 0 && s < CKMAIN_HANG_S; s++)
        sleep(1);
}
END_TEST

/* ---------------------------------------------------------------- running check_main */

/* Runs this very check_main on the probe with LABSIM_CKMAIN_PROBE=mode and CK_JOBS=jobs, plus
 * `extra` (NULL-terminated "NAME=value" settings). The caller's suite and log selections are
 * cleared, so the run is `make test`'s. */
static void ckmain_run(struct cu_run *r, const char *mode, const char *jobs,
                       const char *const *extra)
{
    static char self[512];
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    ck_assert_msg(len > 0 && (size_t)len < sizeof(self) - 1, "cannot find check_main itself");
    self[len] = '\0';
    char probe[64];
    char jobs_set[64];
    snprintf(probe, sizeof(probe), "LABSIM_CKMAIN_PROBE=%s", mode);
    snprintf(jobs_set, sizeof(jobs_set), "CK_JOBS=%s", jobs);
    const char *env[16] = {"CK_RUN_SUITE",
                           "CK_XML_LOG_FILE_NAME",
                           "CK_TAP_LOG_FILE_NAME",
                           "CK_FORK",
                           "CK_TIMEOUT_MULTIPLIER",
                           "CK_RUN_CASE=ckmain_probe",
                           probe,
                           jobs_set};
    size_t n = 8;
    for (size_t i = 0; extra != NULL && extra[i] != NULL && n < 15; i++)
        env[n++] = extra[i];
    env[n] = NULL;
    char *argv[] = {self, NULL};
    struct cu_spawn how = {.env = env, .timeout_s = CKMAIN_RUN_TIMEOUT_S};
    cu_run(r, argv, &how);
}

/* The last line of the output (without its newline) into buf. */
static const char *ckmain_last_line(const struct cu_run *r, char *buf, size_t size)
{
    size_t end = r->out_len;
    if (end > 0 && r->out[end - 1] == '\n') end--;
    size_t begin = end;
    while (begin > 0 && r->out[begin - 1] != '\n')
        begin--;
    snprintf(buf, size, "%.*s", (int)(end - begin), r->out + begin);
    return buf;
}

/* ---------------------------------------------------------------- tests */

/* Goal: two workers print exactly what one runner prints, for a passing and a failing probe.
 * Method: run both ways and compare stdout, exit status and the summary line. */
START_TEST(test_ckmain_same_as_one_runner)
{
    static const char *const modes[] = {"pass", "fail"};
    static const char *const summaries[] = {"100%: Checks: 3, Failures: 0, Errors: 0",
                                            "66%: Checks: 3, Failures: 1, Errors: 0"};
    const char *mode = modes[_i];
    struct cu_run one;
    struct cu_run two;
    char last[128];
    ckmain_run(&one, mode, "1", NULL);
    ckmain_run(&two, mode, "2", NULL);
    ck_assert_int_eq(one.status, _i == 0 ? 0 : 1);
    ck_assert_int_eq(two.status, one.status);
    ck_assert_msg(strcmp(one.out, two.out) == 0, "one runner:\n%s\ntwo workers:\n%s", one.out,
                  two.out);
    ck_assert_str_eq(ckmain_last_line(&two, last, sizeof(last)), summaries[_i]);
    ck_assert_ptr_nonnull(strstr(two.out, "Running suite ckmain\n"));
    if (_i == 1) ck_assert_ptr_nonnull(strstr(two.out, ":F:ckmain_probe:test_ckmain_probe:1: "));
    cu_run_free(&one);
    cu_run_free(&two);
}
END_TEST

/* Goal: a worker that dies is a failure with a clear line, not a hang or a lost suite. */
START_TEST(test_ckmain_worker_crash_reported)
{
    struct cu_run r;
    char last[128];
    ckmain_run(&r, "kill", "2", NULL);
    ck_assert_msg(r.status == 1, "status %d: %s%s", r.status, r.out, r.err);
    ck_assert_ptr_nonnull(
        strstr(r.out, "check_main: suite ckmain: the worker was killed by signal 9 (Killed); "
                      "counted as one check with an error"));
    ck_assert_ptr_nonnull(strstr(r.out, ":P:ckmain_probe:test_ckmain_probe:0: Passed\n"));
    ck_assert_str_eq(ckmain_last_line(&r, last, sizeof(last)),
                     "0%: Checks: 1, Failures: 0, Errors: 1");
    cu_run_free(&r);
}
END_TEST

/* Goal: the wait for a worker is bounded: one that hangs outside Check's test timeouts (here in
 * process, CK_FORK=no) is killed at its bound (3600 s x 0.001) and reported. */
START_TEST(test_ckmain_worker_bounded)
{
    static const char *const extra[] = {"CK_FORK=no", "CK_TIMEOUT_MULTIPLIER=0.001", NULL};
    struct cu_run r;
    char last[128];
    struct timespec t0;
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ckmain_run(&r, "hang", "2", extra);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ck_assert_msg(r.status == 1, "status %d: %s%s", r.status, r.out, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "check_main: suite ckmain: still running after 3.6 s"));
    ck_assert_str_eq(ckmain_last_line(&r, last, sizeof(last)),
                     "0%: Checks: 1, Failures: 0, Errors: 1");
    ck_assert_int_lt(t1.tv_sec - t0.tv_sec, CKMAIN_HANG_S / 2);
    cu_run_free(&r);
}
END_TEST

/* Goal: a bad worker count is refused with one line on stderr and exit status 2. */
START_TEST(test_ckmain_bad_jobs_refused)
{
    static const char *const bad[] = {"0", "x", "65", "2x", "-1", "1\n2"};
    struct cu_run r;
    ckmain_run(&r, "pass", bad[_i], NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.out, "");
    ck_assert_ptr_nonnull(strstr(r.err, "check_main: CK_JOBS='"));
    ck_assert_uint_eq(cu_count(r.err, "\n"), 1);
    cu_run_free(&r);
}
END_TEST

Suite *ckmain_suite(void)
{
    Suite *s = suite_create("ckmain");
    TCase *tc = tcase_create("main");
    tcase_set_timeout(tc, 2 * CKMAIN_RUN_TIMEOUT_S + 10);
    tcase_add_loop_test(tc, test_ckmain_same_as_one_runner, 0, 2);
    tcase_add_test(tc, test_ckmain_worker_crash_reported);
    tcase_add_test(tc, test_ckmain_worker_bounded);
    tcase_add_loop_test(tc, test_ckmain_bad_jobs_refused, 0, 6);
    suite_add_tcase(s, tc);
    /* Only in the runs above: a plain `make test` has no probe. */
    if (getenv("LABSIM_CKMAIN_PROBE") != NULL) {
        tc = tcase_create("ckmain_probe");
        tcase_add_loop_test(tc, test_ckmain_probe, 0, CKMAIN_PROBE_CHECKS);
        suite_add_tcase(s, tc);
    }
    return s;
}
