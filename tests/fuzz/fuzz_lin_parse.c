/* libFuzzer target for the history parsers and the checker (make fuzz-lin).
 *
 * Each input is parsed by both parsers (the Porcupine kv format and the Jepsen etcd format).
 * A parse either fails with a message and a line inside the input, or gives a history, which
 * is then checked with a small step budget, twice: with the read-only pruning and without it.
 * When both searches decide, they must agree (the pruning must be sound); the result is then
 * printed and written as HTML to /dev/null, so every path a user can reach from a file runs
 * under ASan and UBSan. Any violated expectation aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lin.h"

#define FUZZ_STEPS 400 /* per check: enough to decide most small histories, and fast */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_expect(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_lin_parse: expectation failed: %s\n", what);
        abort();
    }
}

static size_t fuzz_lines(const uint8_t *data, size_t size)
{
    size_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    return lines;
}

static void fuzz_check(const struct lin_model *model, const struct lin_history *h)
{
    size_t n = 0;
    const struct lin_op *ops = lin_history_ops(h, &n);
    struct lin_budget budget = {FUZZ_STEPS, NULL, NULL, 0};
    struct lin_result *res = NULL;
    int pruned = lin_check(model, ops, n, &budget, LIN_CHECK_ALL_PARTITIONS, &res);
    int plain =
        lin_check(model, ops, n, &budget, LIN_CHECK_ALL_PARTITIONS | LIN_CHECK_NO_PRUNING, NULL);
    /* A parsed history is always valid input: only a verdict can come back. */
    fuzz_expect(pruned >= 0 && pruned <= LIN_UNKNOWN, "lin_check gave an error (pruned)");
    fuzz_expect(plain >= 0 && plain <= LIN_UNKNOWN, "lin_check gave an error (plain)");
    if (pruned != LIN_UNKNOWN && plain != LIN_UNKNOWN)
        fuzz_expect(pruned == plain, "pruned and plain searches disagree");
    fuzz_expect(lin_result_verdict(res) == (enum lin_verdict)pruned, "result verdict");
    fuzz_expect(lin_result_ops_count(res) == n, "result op count");
    FILE *null = fopen("/dev/null", "w");
    fuzz_expect(null != NULL, "open /dev/null");
    lin_result_print(res, null);
    fclose(null);
    fuzz_expect(lin_html_write(res, NULL, 0, "/dev/null") == 0, "html to /dev/null");
    lin_result_free(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum lin_format formats[] = {LIN_FORMAT_KV, LIN_FORMAT_ETCD};
    size_t lines = fuzz_lines(data, size);
    for (size_t f = 0; f < 2; f++) {
        struct lin_history *h = NULL;
        struct lin_parse_error err;
        int rc = lin_history_parse(formats[f], (const char *)data, size, "fuzz", &h, &err);
        if (rc != 0) {
            fuzz_expect(rc == LIN_EPARSE, "a parse error other than LIN_EPARSE");
            fuzz_expect(h == NULL, "a history returned with an error");
            fuzz_expect(err.line >= 1 && err.line <= lines, "error line outside the input");
            fuzz_expect(err.message[0] != '\0' && strchr(err.message, '\n') == NULL,
                        "empty or multi-line error message");
            continue;
        }
        if (formats[f] == LIN_FORMAT_KV) {
            fuzz_check(&lin_model_kv, h);
            fuzz_check(&lin_model_kv_nopartition, h);
        } else {
            fuzz_check(&lin_model_etcd, h);
        }
        lin_history_free(h);
    }
    return 0;
}
