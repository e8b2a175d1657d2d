/* cmd_list: `labsim list [PATTERN]`: every graded test in catalogue order with its part and its
 * one-line description, optionally only those PATTERN selects (as `labsim run` selects).
 * Exit status: 0, or 2 on bad arguments or a pattern that selects nothing. */
#include <stdio.h>

#include "args.h"
#include "cmds.h"
#include "lab.h"
#include "runner.h"

int cmd_list(const struct labsim_cli *cli, int argc, char **argv)
{
    (void)cli;
    bool help = false;
    const struct args_flag flags[] = {{"help", ARGS_BOOL, &help, NULL}};
    const char *positional[1];
    size_t positional_count = 0;
    char err[ARGS_ERR_MAX];
    if (args_parse(argc, argv, flags, 1, positional, 1, &positional_count, err, sizeof(err)) != 0) {
        fprintf(stderr, "labsim list: %s\n", err);
        return 2;
    }
    if (help) {
        printf("usage: labsim list [PATTERN]\n"
               "  PATTERN  a test name, a part (1, 2, 3A .. 3D, 4A, 4B, 5A .. 5C), a glob, all, or "
               "a comma-separated list\n"
               "           (default)\n");
        return 0;
    }
    const char *pattern = positional_count > 0 ? positional[0] : "all";
    size_t shown = 0;
    for (size_t i = 0; i < lab_tests_count(); i++) {
        const struct lab_test *test = lab_test_at(i);
        if (!runner_selects(test, pattern)) continue;
        printf("%-34s %-3s %s\n", test->name, test->part, test->title);
        shown++;
    }
    if (shown == 0) {
        fprintf(stderr, "labsim list: no test or part matches '%s'\n", pattern);
        return 2;
    }
    return 0;
}
