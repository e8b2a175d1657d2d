/* The one Check runner: adds every suite of check_suites.h and runs them in fork mode.
 *
 * It runs silently with the plain log on stdout, so the per-test lines come first and Check's
 * summary line ("100%: Checks: N, Failures: 0, Errors: 0") is the last line printed. It exits
 * non-zero when any check failed or when none ran (CK_RUN_CASE=nosuch must not pass). */
#include <stdlib.h>

#include "check_suites.h"

int main(void)
{
    SRunner *runner = srunner_create(NULL);
#define CHECK_SUITE_ADD(name) srunner_add_suite(runner, name##_suite());
    CHECK_SUITES(CHECK_SUITE_ADD)
#undef CHECK_SUITE_ADD
    srunner_set_log(runner, "-");
    srunner_run_all(runner, CK_SILENT);
    int failed = srunner_ntests_failed(runner);
    int run = srunner_ntests_run(runner);
    srunner_free(runner);
    return (failed == 0 && run > 0) ? EXIT_SUCCESS : EXIT_FAILURE;
}
