/* lab_kv: the KV suites' shared checks (see lab_kv.h). The check is deterministic (a step
 * budget, no clock), so the second run that builds the result for the HTML page of an ILLEGAL
 * history reaches the same verdict as the first, which skips that costly result.
 */
#include "lab_kv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
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

int lab_kv_history_verdict(struct lab_ctx *ctx, const char *test_name, struct lin_kv_op *ops,
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
    if (verdict == LIN_ILLEGAL) write_visualization(ctx, test_name, res, markers, markers_count);
    lin_result_free(res);
    return verdict;
}

void lab_kv_check_history(struct lab_ctx *ctx, const char *test_name, struct lin_kv_op *ops,
                          size_t count, uint64_t steps_max, const struct lin_marker *markers,
                          size_t markers_count)
{
    int verdict =
        lab_kv_history_verdict(ctx, test_name, ops, count, steps_max, markers, markers_count);
    if (verdict == LIN_ILLEGAL) lab_fatalf(ctx, SIM_NODE_NONE, "history is not linearizable");
    if (verdict == LIN_UNKNOWN) {
        char why[160];
        snprintf(why, sizeof(why),
                 "linearizability check of %zu operations ran out of its budget (%" PRIu64
                 " steps); history not proven linearizable",
                 count, steps_max);
        lab_set_unknown(ctx, why);
    }
}

/* The canonical decimal at *pp ("0" or no leading zero, at most 9 digits) into *out, moving *pp
 * past it; false when the digit run there is not one. */
static bool number_at(const char **pp, long *out)
{
    const char *p = *pp;
    size_t n = 0;
    long v = 0;
    while (p[n] >= '0' && p[n] <= '9') {
        if (n == 9) return false;
        v = v * 10 + (p[n] - '0');
        n++;
    }
    if (n == 0 || (n > 1 && p[0] == '0')) return false;
    *pp = p + n;
    *out = v;
    return true;
}

/* Whether "x <c> <j> y" (canonical decimals) starts at p; its numbers into *c and *j. */
static bool element_at(const char *p, long *c, long *j)
{
    if (p[0] != 'x' || p[1] != ' ') return false;
    p += 2;
    if (!number_at(&p, c) || p[0] != ' ') return false;
    p++;
    if (!number_at(&p, j)) return false;
    return p[0] == ' ' && p[1] == 'y';
}

/* Go's checks for element j, in Go's order, given its first offset (if seen > 0) and number of
 * occurrences; writes the failure into msg and returns false, or returns true. */
static bool element_ok(int clnt, int j, const char *v, const size_t *first, const uint32_t *seen,
                       char *msg, size_t msg_size)
{
    char wanted[64];
    snprintf(wanted, sizeof(wanted), "x %d %d y", clnt, j);
    if (seen[j] == 0) {
        snprintf(msg, msg_size, "%d missing element %s in Append result %s", clnt, wanted, v);
        return false;
    }
    if (seen[j] > 1) { /* LastIndex != Index */
        snprintf(msg, msg_size, "duplicate element %s in Append result", wanted);
        return false;
    }
    if (j > 0 && first[j] <= first[j - 1]) {
        snprintf(msg, msg_size, "wrong order for element %s in Append result", wanted);
        return false;
    }
    return true;
}

/* Go searches v for every element (strings.Index, LastIndex): O(count x len(v)). Every
 * occurrence of "x <clnt> <j> y" starts at an 'x' and reads as that element there, so one pass
 * over the 'x's of v finds each element's first offset and number of occurrences, and the
 * checks below give Go's verdict and message in O(len(v)). */
void lab_kv_check_clnt_appends(struct lab_ctx *ctx, int clnt, const char *v, int count)
{
    if (count <= 0) return;
    size_t *first = calloc((size_t)count, sizeof(*first));
    uint32_t *seen = calloc((size_t)count, sizeof(*seen));
    if (first == NULL || seen == NULL) {
        free(first);
        free(seen);
        lab_fatalf(ctx, SIM_NODE_NONE, "out of memory checking appends");
        return;
    }
    for (const char *p = strchr(v, 'x'); p != NULL; p = strchr(p + 1, 'x')) {
        long c = 0;
        long j = 0;
        if (!element_at(p, &c, &j) || c != clnt || j >= count) continue;
        if (seen[j]++ == 0) first[j] = (size_t)(p - v);
    }
    char msg[LAB_MSG_MAX];
    bool ok = true;
    for (int j = 0; ok && j < count; j++)
        ok = element_ok(clnt, j, v, first, seen, msg, sizeof(msg));
    free(first);
    free(seen);
    if (!ok) lab_fatalf(ctx, SIM_NODE_NONE, "%s", msg);
}
