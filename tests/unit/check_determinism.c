/* check_determinism: the determinism contract (DESIGN.md section 3) checked across builds.
 *
 * `labsim check-determinism all --seeds 1 --print` runs every graded test twice per seed in one
 * process (and fails on its own when the two runs differ); its output lists one digest per
 * (test, seed). Here that output must be identical for the -O2 build (LABSIM_BIN) and an -O0
 * build of the same code (LABSIM_O0_BIN), both set by `make test`: optimisation must not change
 * a single traced event. `make sanitize` sets LABSIM_SKIP_O0=1 (it has no -O0 twin), and only
 * that cross-build comparison is skipped then, with a note. Finally, two seeds must be two
 * different runs: every test's digest on seed 2 differs from its digest on seed 1.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_suites.h"
#include "check_util.h"
#include "lab.h"

#define DET_OUT_MAX (1u << 20)
#define DET_TIMEOUT_S 600 /* one check-determinism run over every graded test */

/* Runs `BIN check-determinism all --seed S --seeds 1 --print`; returns its stdout (malloc'd)
 * after checking that it exited 0. */
static char *det_print(const char *bin, unsigned seed)
{
    char seed_arg[16];
    snprintf(seed_arg, sizeof(seed_arg), "%u", seed);
    char *argv[] = {(char *)bin, "check-determinism", "all", "--seed", seed_arg, "--seeds",
                    "1",         "--print",           NULL};
    const struct cu_spawn how = {.timeout_s = DET_TIMEOUT_S};
    struct cu_run r;
    cu_run(&r, argv, &how);
    ck_assert_msg(r.out_len < DET_OUT_MAX, "%s check-determinism printed %zu bytes", bin,
                  r.out_len);
    ck_assert_msg(r.status == 0, "%s check-determinism all --seed %u failed (%d):\n%s%s", bin, seed,
                  r.status, r.out, r.err);
    char *out = r.out;
    free(r.err);
    return out;
}

/* The digest printed for `test` in a --print output ("digest TEST SEED HEX"). */
static void det_digest_of(const char *out, const char *test, char *hex, size_t size)
{
    char key[128];
    snprintf(key, sizeof(key), "digest %s ", test);
    const char *line = strstr(out, key);
    ck_assert_msg(line != NULL, "no digest line for %s", test);
    const char *space = strchr(line + strlen(key), ' ');
    ck_assert_ptr_nonnull(space);
    snprintf(hex, size, "%.16s", space + 1);
    ck_assert_uint_eq(strspn(hex, "0123456789abcdef"), 16);
}

/* Compares two outputs line by line: the number of differing lines (a missing line counts),
 * and the first difference described in `first`. */
static size_t det_diff(const char *a, const char *b, char *first, size_t size)
{
    size_t differ = 0;
    while (*a != '\0' || *b != '\0') {
        size_t la = strcspn(a, "\n");
        size_t lb = strcspn(b, "\n");
        if (la != lb || strncmp(a, b, la) != 0) {
            if (differ == 0)
                snprintf(first, size, "'%.*s' vs '%.*s'", (int)(la < 100 ? la : 100), a,
                         (int)(lb < 100 ? lb : 100), b);
            differ++;
        }
        a += la + (a[la] == '\n');
        b += lb + (b[lb] == '\n');
    }
    return differ;
}

/* The tests "all" names: every graded test, not the scenarios of part ext. */
static bool det_in_all(const struct lab_test *test)
{
    return strcmp(test->part, LAB_PART_EXT) != 0;
}

START_TEST(test_determinism_across_builds_and_seeds)
{
    char *o2 = det_print(cu_bin("LABSIM_BIN"), 1);
    /* One digest line per graded test, and the tool's own twice-per-seed check passed. */
    size_t lines = 0;
    for (const char *p = strstr(o2, "digest Test"); p != NULL; p = strstr(p + 1, "digest Test"))
        lines++;
    size_t in_all = 0;
    for (size_t i = 0; i < lab_tests_count(); i++)
        in_all += det_in_all(lab_test_at(i)) ? 1 : 0;
    ck_assert_uint_eq(lines, in_all);
    ck_assert_ptr_null(strstr(o2, "NONDETERMINISM"));

    const char *skip = getenv("LABSIM_SKIP_O0");
    if (skip != NULL && strcmp(skip, "1") == 0) {
        printf("note: LABSIM_SKIP_O0=1: the -O2 / -O0 digest comparison is skipped\n");
    } else {
        char *o0 = det_print(cu_bin("LABSIM_O0_BIN"), 1);
        char first[256] = "";
        size_t differ = det_diff(o2, o0, first, sizeof(first));
        /* Check caps the message size: name the first difference and count the rest. */
        ck_assert_msg(differ == 0,
                      "-O2 and -O0 builds disagree on %zu lines (stale -O0 build? rebuild both); "
                      "first: %s",
                      differ, first);
        free(o0);
    }

    char *seed2 = det_print(cu_bin("LABSIM_BIN"), 2);
    for (size_t i = 0; i < lab_tests_count(); i++) {
        if (!det_in_all(lab_test_at(i))) continue;
        const char *name = lab_test_at(i)->name;
        char a[32];
        char b[32];
        det_digest_of(o2, name, a, sizeof(a));
        det_digest_of(seed2, name, b, sizeof(b));
        ck_assert_msg(strcmp(a, b) != 0, "%s: seeds 1 and 2 gave the same digest %s", name, a);
    }
    free(seed2);
    free(o2);
}
END_TEST

Suite *determinism_suite(void)
{
    Suite *s = suite_create("determinism");
    TCase *tc = tcase_create("builds");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_determinism_across_builds_and_seeds);
    suite_add_tcase(s, tc);
    return s;
}
