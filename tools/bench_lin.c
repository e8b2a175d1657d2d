/* bench_lin.c: times the linearizability checker on every history of tests/data/porcupine,
 * and measures its time and memory on long generated histories.
 *
 * For each row of data_dir/expected.tsv (one per file and model) it parses the file once,
 * then times lin_check alone (no result building; parsing is not timed either, as in the
 * Porcupine figures it is compared with) under the CLI's default budget and prints
 *   bench lin file=<f> model=<m> ops=<n> verdict=<v> ms=<x> porcupine_ms=<y> expected=<e> ratio=<r>
 * where ms is the median of up to BENCH_RUNS runs (one when the verdict is UNKNOWN). Rows that
 * Porcupine could not decide in 60 s (kv-nopartition on c50) are decided per key (the model's
 * components); "bench lin one-search" rows check them as one search instead, to show why.
 * A total line gives the number of verdicts that differ from the expected ones and the worst
 * ratio to Porcupine's time.
 *
 * "bench lin gen" rows: one-key put histories made by a deterministic generator (1 client, or
 * one client per operation with each operation overlapping its neighbours), 10k to 1M
 * operations, each checked once in a forked child (so that its peak RSS is its own), with a
 * result built as `labsim check` builds it; they print the time, the checker's own peak byte
 * count and the child's peak RSS (history and result included).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "lin.h"

#define BENCH_RUNS 5
#define BENCH_SLOW_MS 1000.0 /* rows slower than this are timed 3 times, not 5 */
#define BENCH_LINE_MAX 512
#define BENCH_GEN_VALUE_MAX 24 /* "v" and the digits of a size_t, with the NUL */
#define BENCH_GEN_OVERLAP 4    /* a many-client op returns this many ticks after its call */

struct bench_row {
    char file[256];
    char model[32];
    char expected[32];
    char porcupine_ms[32];
};

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

/* Times lin_check on the history under the CLI's default budget; returns the verdict (or
 * error) and the median ms. */
static int bench_time(const struct lin_model *model, const struct lin_history *h, unsigned flags,
                      double *ms_out)
{
    size_t n = 0;
    const struct lin_op *ops = lin_history_ops(h, &n);
    double times[BENCH_RUNS];
    int runs = 0;
    int verdict = 0;
    for (int want = BENCH_RUNS; runs < want; runs++) {
        struct lin_budget budget = {LIN_STEPS_DEFAULT, NULL, NULL, LIN_BYTES_DEFAULT};
        double t0 = bench_wall_ms();
        verdict = lin_check(model, ops, n, &budget, flags, NULL);
        times[runs] = bench_wall_ms() - t0;
        if (verdict < 0 || verdict == LIN_UNKNOWN)
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

/* The same history checked as one search (no components), under the default budget. */
static void bench_one_search(FILE *out, const char *file, const struct lin_model *model,
                             const struct lin_history *h)
{
    size_t n = 0;
    const struct lin_op *ops = lin_history_ops(h, &n);
    struct lin_budget budget = {LIN_STEPS_DEFAULT, NULL, NULL, LIN_BYTES_DEFAULT};
    struct lin_result *res = NULL;
    double t0 = bench_wall_ms();
    int v = lin_check(model, ops, n, &budget, LIN_CHECK_NO_COMPOSE, &res);
    double ms = bench_wall_ms() - t0;
    if (v < 0) {
        fprintf(out, "bench lin one-search file=%s model=%s error=\"%s\"\n", file, model->name,
                lin_strerror(v));
        return;
    }
    fprintf(out,
            "bench lin one-search file=%s model=%s ops=%zu verdict=%s stop=%s steps=%llu "
            "checker_mb=%.1f ms=%.3f\n",
            file, model->name, n, lin_verdict_name((enum lin_verdict)v),
            lin_stop_name(lin_result_stop(res)), (unsigned long long)lin_result_steps(res),
            (double)lin_result_bytes_peak(res) / (1 << 20), ms);
    lin_result_free(res);
}

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
    int v = bench_time(model, h, 0, &ms);
    size_t ops = 0;
    lin_history_ops(h, &ops);
    const char *vname = v >= 0 ? lin_verdict_name((enum lin_verdict)v) : lin_strerror(v);
    double pms = undecided ? 0 : strtod(row->porcupine_ms, NULL);
    double ratio = pms > 0 ? ms / pms : 0;
    fprintf(out,
            "bench lin file=%s model=%s ops=%zu verdict=%s ms=%.3f porcupine_ms=%s "
            "expected=%s ratio=%.2f\n",
            row->file, row->model, ops, vname, ms, row->porcupine_ms, row->expected, ratio);
    t->rows++;
    t->ms += ms;
    if (strcasecmp(vname, row->expected) != 0) t->mismatches++;
    if (pms > 0) {
        t->porcupine_ms += pms;
        t->ms_compared += ms;
    }
    if (ratio > t->worst_ratio) {
        t->worst_ratio = ratio;
        snprintf(t->worst, sizeof(t->worst), "%s/%s", row->file, row->model);
    }
    if (model->partition == NULL && model->components != NULL)
        bench_one_search(out, row->file, model, h);
    lin_history_free(h);
}

/* ---------------------------------------------------------------- generated histories */

struct bench_gen {
    const char *name;
    size_t ops;
    bool client_per_op; /* else one client, sequential */
};

/* Builds the history: n puts on key "k" of "v<i>"; one client calling op i at 2i and returning
 * at 2i + 1, or client i calling at i and returning BENCH_GEN_OVERLAP later. OK either way.
 * Returns the ops (they and *mem, which holds what they point to, are the caller's) or NULL. */
static struct lin_op *bench_gen_build(const struct bench_gen *g, void **mem)
{
    size_t n = g->ops;
    struct lin_op *ops = malloc(n * sizeof(*ops));
    char *block = malloc(n * (sizeof(struct lin_kv_input) + BENCH_GEN_VALUE_MAX));
    struct lin_kv_output *empty = malloc(sizeof(*empty));
    if (ops == NULL || block == NULL || empty == NULL) {
        free(ops);
        free(block);
        free(empty);
        return NULL;
    }
    *empty = (struct lin_kv_output){""};
    struct lin_kv_input *in = (struct lin_kv_input *)(void *)block;
    char *vals = block + n * sizeof(*in);
    for (size_t i = 0; i < n; i++) {
        char *v = vals + i * BENCH_GEN_VALUE_MAX;
        snprintf(v, BENCH_GEN_VALUE_MAX, "v%zu", i);
        in[i] = (struct lin_kv_input){LIN_KV_PUT, "k", v};
        int64_t call = g->client_per_op ? (int64_t)i : 2 * (int64_t)i;
        int64_t ret = g->client_per_op ? call + BENCH_GEN_OVERLAP : call + 1;
        ops[i] = (struct lin_op){g->client_per_op ? (int)i : 0, call, ret, &in[i], empty};
    }
    mem[0] = block;
    mem[1] = empty;
    return ops;
}

/* In the forked child: builds, checks with a result, prints the row. */
static void bench_gen_child(FILE *out, const struct bench_gen *g)
{
    void *mem[2] = {NULL, NULL};
    double t0 = bench_wall_ms();
    struct lin_op *ops = bench_gen_build(g, mem);
    double gen_ms = bench_wall_ms() - t0;
    struct lin_budget budget = {LIN_STEPS_DEFAULT, NULL, NULL, LIN_BYTES_DEFAULT};
    struct lin_result *res = NULL;
    t0 = bench_wall_ms();
    int v = ops != NULL ? lin_check(&lin_model_kv, ops, g->ops, &budget, 0, &res) : LIN_ENOMEM;
    double ms = bench_wall_ms() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(out,
            "bench lin gen=%s ops=%zu verdict=%s steps=%llu ms=%.1f gen_ms=%.1f checker_mb=%.1f "
            "rss_mb=%.1f\n",
            g->name, g->ops, v >= 0 ? lin_verdict_name((enum lin_verdict)v) : lin_strerror(v),
            res != NULL ? (unsigned long long)lin_result_steps(res) : 0ull, ms, gen_ms,
            res != NULL ? (double)lin_result_bytes_peak(res) / (1 << 20) : 0.0,
            (double)ru.ru_maxrss / 1024.0);
    fflush(out);
    lin_result_free(res);
    free(ops);
    free(mem[0]);
    free(mem[1]);
}

static void bench_gen_rows(FILE *out)
{
    static const struct bench_gen gens[] = {
        {"one-client", 10000, false},
        {"one-client", 100000, false},
        {"one-client", 1000000, false},
        {"client-per-op", 1000000, true},
    };
    for (size_t i = 0; i < sizeof(gens) / sizeof(gens[0]); i++) {
        fflush(out);
        pid_t pid = fork();
        if (pid == 0) {
            bench_gen_child(out, &gens[i]);
            _exit(0);
        }
        int status = 0;
        if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            fprintf(out, "bench lin gen=%s ops=%zu error=\"child failed\"\n", gens[i].name,
                    gens[i].ops);
    }
}

void bench_lin(FILE *out, const char *data_dir)
{
    bench_gen_rows(out);
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
