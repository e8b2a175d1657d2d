/* lab_kv: the KV suites' shared checks (see lab_kv.h). The check is deterministic (a step
 * budget, no clock), so the second run that builds the result for the HTML page of an ILLEGAL
 * history reaches the same verdict as the first, which skips that costly result.
 */
#include "lab_kv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* mkdir -p for a relative or absolute directory path. Returns 0 or -1. */
static int dir_make(const char *dir)
{
    char path[256];
    size_t len = strlen(dir);
    if (len == 0 || len >= sizeof(path)) return -1;
    memcpy(path, dir, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0') continue;
        char saved = path[i];
        path[i] = '\0';
        if (mkdir(path, 0777) != 0 && errno != EEXIST) return -1;
        path[i] = saved;
    }
    return 0;
}

/* Writes the HTML page of an ILLEGAL result and registers it as the run's artifact. */
static void write_visualization(struct lab_ctx *ctx, const char *test_name,
                                const struct lin_result *res, const struct lin_marker *markers,
                                size_t markers_count)
{
    const struct lab_opts *opts = lab_opts(ctx);
    const char *dir = opts->artifact_dir != NULL ? opts->artifact_dir : LAB_KV_ARTIFACT_DIR;
    char path[256];
    FILE *out = lab_out(ctx);
    snprintf(path, sizeof(path), "%s/%s-%" PRIu64 ".html", dir, test_name, lab_seed(ctx));
    if (dir_make(dir) != 0) {
        if (out != NULL) fprintf(out, "info: failed to create %s for visualization\n", dir);
        return;
    }
    if (lin_html_write(res, markers, markers_count, path) != 0) {
        if (out != NULL) fprintf(out, "info: failed to write history visualization to %s\n", path);
        return;
    }
    if (out != NULL) fprintf(out, "info: wrote history visualization to %s\n", path);
    lab_set_artifact(ctx, path);
}

void lab_kv_check_history(struct lab_ctx *ctx, const char *test_name, struct lin_kv_op *ops,
                          size_t count, uint64_t steps_max, const struct lin_marker *markers,
                          size_t markers_count)
{
    struct lin_budget budget = {.steps_max = steps_max, .should_stop = NULL};
    struct lin_result *res = NULL;
    double t0_ms = lab_wall_ms(ctx);
    int verdict = lin_check_kv(ops, count, &budget, NULL);
    lab_add_lin_check(ctx, lab_wall_ms(ctx) - t0_ms);
    if (verdict == LIN_ILLEGAL) verdict = lin_check_kv(ops, count, &budget, &res);
    free(ops);
    if (verdict < 0) {
        lin_result_free(res);
        lab_fatalf(ctx, SIM_NODE_NONE, "linearizability checker error: %s", lin_strerror(verdict));
    }
    if (verdict == LIN_ILLEGAL) {
        write_visualization(ctx, test_name, res, markers, markers_count);
        lin_result_free(res);
        lab_fatalf(ctx, SIM_NODE_NONE, "history is not linearizable");
    }
    if (verdict == LIN_UNKNOWN) {
        char why[160];
        snprintf(why, sizeof(why),
                 "linearizability check of %zu operations ran out of its budget (%" PRIu64
                 " steps); history not proven linearizable",
                 count, steps_max);
        lab_set_unknown(ctx, why);
    }
}

void lab_kv_check_clnt_appends(struct lab_ctx *ctx, int clnt, const char *v, int count)
{
    char wanted[64];
    const char *lastoff = NULL;
    for (int j = 0; j < count; j++) {
        snprintf(wanted, sizeof(wanted), "x %d %d y", clnt, j);
        const char *off = strstr(v, wanted);
        if (off == NULL)
            lab_fatalf(ctx, SIM_NODE_NONE, "%d missing element %s in Append result %s", clnt,
                       wanted, v);
        if (strstr(off + 1, wanted) != NULL) /* LastIndex != Index */
            lab_fatalf(ctx, SIM_NODE_NONE, "duplicate element %s in Append result", wanted);
        if (lastoff != NULL && off <= lastoff)
            lab_fatalf(ctx, SIM_NODE_NONE, "wrong order for element %s in Append result", wanted);
        lastoff = off;
    }
}
