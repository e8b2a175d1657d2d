/* bench_lin.c: times the linearizability checker on every history of tests/data/porcupine.
 *
 * For each row of data_dir/expected.tsv (one per file and model) it parses the file once,
 * then times lin_check alone (no result building; parsing is not timed either, as in the
 * Porcupine figures it is compared with) and prints
 *   bench lin file=<f> model=<m> ops=<n> verdict=<v> ms=<x> porcupine_ms=<y> expected=<e> ratio=<r>
 * where ms is the median of up to BENCH_RUNS runs. Rows that Porcupine could not decide in 60 s
 * (kv-nopartition on c50) get a wall-clock budget of BENCH_UNDECIDED_S and usually print
 * UNKNOWN. A final line gives the totals, the number of verdicts that differ from the expected
 * ones and the worst ratio to Porcupine's time.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bench.h"
#include "lin.h"

#define BENCH_RUNS 5
#define BENCH_SLOW_MS 1000.0 /* rows slower than this are timed 3 times, not 5 */
#define BENCH_UNDECIDED_S 5.0
#define BENCH_LINE_MAX 512

struct bench_row {
    char file[256];
    char model[32];
    char expected[32];
    char porcupine_ms[32];
};

static bool bench_deadline_passed(void *arg)
{
    return bench_wall_ms() >= *(const double *)arg;
}

/* Copies src into dst (size bytes), cutting it if needed. */
static void bench_copy(char *dst, size_t size, const char *src)
{
    size_t len = strlen(src);
    len = len < size - 1 ? len : size - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Splits one TSV line into the fields we use; false for a malformed line. */
static bool bench_parse_row(char *line, struct bench_row *row)
{
    char *fields[9] = {0};
    size_t n = 0;
    for (char *p = line; n < 9; n++) {
        fields[n] = p;
        char *tab = strchr(p, '\t');
        if (tab == NULL) {
            n++;
            break;
        }
        *tab = '\0';
        p = tab + 1;
    }
    if (n < 9) return false;
    fields[8][strcspn(fields[8], "\r\n")] = '\0';
    bench_copy(row->file, sizeof(row->file), fields[0]);
    bench_copy(row->model, sizeof(row->model), fields[1]);
    bench_copy(row->expected, sizeof(row->expected), fields[5]);
    bench_copy(row->porcupine_ms, sizeof(row->porcupine_ms), fields[8]);
    return true;
}

static int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Times lin_check on the history; returns the verdict (or error) and the median ms. */
static int bench_time(const struct lin_model *model, const struct lin_history *h, bool undecided,
                      double *ms_out)
{
    size_t n = 0;
    const struct lin_op *ops = lin_history_ops(h, &n);
    double times[BENCH_RUNS];
    int runs = 0;
    int verdict = 0;
    for (int want = BENCH_RUNS; runs < want; runs++) {
        double deadline = bench_wall_ms() + BENCH_UNDECIDED_S * 1e3;
        struct lin_budget budget = {0, undecided ? bench_deadline_passed : NULL, &deadline, 0};
        double t0 = bench_wall_ms();
        verdict = lin_check(model, ops, n, &budget, 0, NULL);
        times[runs] = bench_wall_ms() - t0;
        if (verdict < 0 || undecided)
            want = runs + 1;
        else if (times[runs] > BENCH_SLOW_MS)
            want = 3;
    }
    qsort(times, (size_t)runs, sizeof(times[0]), bench_cmp_double);
    *ms_out = times[runs / 2];
    return verdict;
}

static const struct lin_model *bench_model(const char *name, enum lin_format *format)
{
    *format = strcmp(name, "etcd") == 0 ? LIN_FORMAT_ETCD : LIN_FORMAT_KV;
    if (strcmp(name, "etcd") == 0) return &lin_model_etcd;
    if (strcmp(name, "kv") == 0) return &lin_model_kv;
    if (strcmp(name, "kv-nopartition") == 0) return &lin_model_kv_nopartition;
    return NULL;
}

struct bench_totals {
    size_t rows;
    size_t mismatches;
    double ms;
    double porcupine_ms; /* over the rows with a Porcupine figure */
    double ms_compared;  /* our time over those same rows */
    double worst_ratio;
    char worst[300];
};

static void bench_row_run(FILE *out, const char *data_dir, const struct bench_row *row,
                          struct bench_totals *t)
{
    enum lin_format format;
    const struct lin_model *model = bench_model(row->model, &format);
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", data_dir, row->file);
    struct lin_history *h = NULL;
    struct lin_parse_error err;
    if (model == NULL || lin_history_read_file(format, path, &h, &err) != 0) {
        fprintf(out, "bench lin file=%s model=%s error=\"%s\"\n", row->file, row->model,
                model == NULL ? "unknown model" : err.message);
        t->mismatches++;
        return;
    }
    bool undecided = row->porcupine_ms[0] == '>';
    double ms = 0;
    int v = bench_time(model, h, undecided, &ms);
    size_t ops = 0;
    lin_history_ops(h, &ops);
    lin_history_free(h);
    const char *vname = v >= 0 ? lin_verdict_name((enum lin_verdict)v) : lin_strerror(v);
    double pms = undecided ? 0 : strtod(row->porcupine_ms, NULL);
    double ratio = pms > 0 ? ms / pms : 0;
    fprintf(out,
            "bench lin file=%s model=%s ops=%zu verdict=%s ms=%.3f porcupine_ms=%s "
            "expected=%s ratio=%.2f\n",
            row->file, row->model, ops, vname, ms, row->porcupine_ms, row->expected, ratio);
    t->rows++;
    t->ms += ms;
    /* A row Porcupine could not decide only counts as a mismatch if we contradict it. */
    if (strcasecmp(vname, row->expected) != 0 && !(undecided && v == LIN_UNKNOWN)) t->mismatches++;
    if (pms > 0) {
        t->porcupine_ms += pms;
        t->ms_compared += ms;
    }
    if (ratio > t->worst_ratio) {
        t->worst_ratio = ratio;
        snprintf(t->worst, sizeof(t->worst), "%s/%s", row->file, row->model);
    }
}

void bench_lin(FILE *out, const char *data_dir)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/expected.tsv", data_dir);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        fprintf(out, "bench lin error=\"cannot open %s\"\n", path);
        return;
    }
    struct bench_totals t = {0};
    char line[BENCH_LINE_MAX];
    bool header = true;
    while (fgets(line, sizeof(line), f) != NULL) {
        struct bench_row row;
        if (header) {
            header = false;
            continue;
        }
        if (line[0] == '\n' || !bench_parse_row(line, &row)) continue;
        bench_row_run(out, data_dir, &row, &t);
        fflush(out);
    }
    fclose(f);
    fprintf(out,
            "bench lin total rows=%zu mismatches=%zu ms=%.3f ms_comparable=%.3f "
            "porcupine_ms=%.3f worst_ratio=%.2f worst=%s\n",
            t.rows, t.mismatches, t.ms, t.ms_compared, t.porcupine_ms, t.worst_ratio, t.worst);
}
