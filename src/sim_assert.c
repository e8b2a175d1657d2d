/* sim_assert: the failure path of SIM_ASSERT. Prints everything needed to replay the run
 * (seed, virtual time, node, task, replay command) and aborts. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim_int.h"

static void assert_report(const struct sim *sim, int node, const char *expr, const char *file,
                          int line)
{
    fflush(stdout);
    fprintf(stderr, "labsim: assertion failed: %s (%s:%d)\n", expr, file, line);
    if (sim == NULL) {
        fprintf(stderr, "    (no simulation)\n");
        return;
    }
    fprintf(stderr, "    seed %llu, at %.6fs virtual", (unsigned long long)sim->seed,
            (double)sim->now_us / 1e6);
    if (node != SIM_NODE_NONE) fprintf(stderr, ", node %d", node);
    if (sim->task_current != NULL) fprintf(stderr, ", task %s", sim->task_current->name);
    fprintf(stderr, "\n");
}

static _Noreturn void assert_finish(const struct sim *sim)
{
    if (sim != NULL) fprintf(stderr, "    replay: %s\n", sim->replay_hint);
    fflush(stderr);
    abort();
}

_Noreturn void sim_assert_fail(const struct sim *sim, int node, const char *expr, const char *file,
                               int line, const char *msg)
{
    assert_report(sim, node, expr, file, line);
    if (msg != NULL) fprintf(stderr, "    %s\n", msg);
    assert_finish(sim);
}

_Noreturn void sim_assert_failf(const struct sim *sim, int node, const char *expr, const char *file,
                                int line, const char *fmt, ...)
{
    assert_report(sim, node, expr, file, line);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "    ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    assert_finish(sim);
}
