/* mr_out: what test-mr.sh does with files: `sort mr-out* | grep .`, `cat mr-out*`, and
 * mrsequential (every input through the map function, all pairs sorted by key, the reduce
 * function once per key, "key result" lines) followed by `sort mr-out-0`.
 *
 * Lines are compared in byte order on both sides (LC_ALL=C sort); Go's test sorts both sides
 * with the same locale, so equality is the same question. mrsequential sorts its pairs with
 * Go's unstable sort.Sort; here equal keys are grouped with their values in input order
 * (mr_kvs_group), which no application can tell apart (each sorts or counts its values).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mr_cfg.h"

#define MR_OUT_PREFIX "mr-out"
#define MR_LINES_MAX (UINT32_C(1) << 22)

void mr_lines_free(struct mr_lines *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->lines[i]);
    free(l->lines);
    memset(l, 0, sizeof(*l));
}

static void lines_add(struct mr_cfg *cfg, struct mr_lines *l, const char *p, size_t n)
{
    if (l->count == MR_LINES_MAX)
        lab_fatalf(mr_cfg_ctx(cfg), SIM_NODE_NONE, "more than %u output lines", MR_LINES_MAX);
    if (l->count == l->cap) {
        size_t cap = l->cap == 0 ? 1024 : l->cap * 2;
        char **grown = realloc(l->lines, cap * sizeof(*grown));
        if (grown == NULL) lab_fatalf(mr_cfg_ctx(cfg), SIM_NODE_NONE, "out of memory for lines");
        l->lines = grown;
        l->cap = cap;
    }
    char *line = malloc(n + 1);
    if (line == NULL) lab_fatalf(mr_cfg_ctx(cfg), SIM_NODE_NONE, "out of memory for a line");
    memcpy(line, p, n);
    line[n] = '\0';
    l->lines[l->count++] = line;
}

/* Splits text into lines ("\n"-separated; a last line without "\n" counts). */
static void lines_split(struct mr_cfg *cfg, struct mr_lines *l, const char *text, size_t len,
                        bool keep_empty)
{
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && text[i] != '\n') continue;
        if (i == len && start == len) break; /* text ended with "\n" (or is empty) */
        if (i > start || keep_empty) lines_add(cfg, l, text + start, i - start);
        start = i + 1;
    }
}

static int line_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void lines_sort(struct mr_lines *l)
{
    if (l->count > 1) qsort(l->lines, l->count, sizeof(l->lines[0]), line_cmp);
}

bool mr_lines_equal(const struct mr_lines *a, const struct mr_lines *b, size_t *first_diff)
{
    size_t n = a->count < b->count ? a->count : b->count;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(a->lines[i], b->lines[i]) != 0) {
            if (first_diff != NULL) *first_diff = i;
            return false;
        }
    }
    if (first_diff != NULL) *first_diff = n;
    return a->count == b->count;
}

/* Every mr-out* file's lines, in name order (the shell's glob order). */
static void outputs_collect(struct mr_cfg *cfg, struct mr_lines *out, bool keep_empty)
{
    struct sim *sim = mr_cfg_sim(cfg);
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < sim_fs_count(sim); i++) {
        const char *name = sim_fs_name_at(sim, i);
        if (strncmp(name, MR_OUT_PREFIX, strlen(MR_OUT_PREFIX)) != 0) continue;
        char *text = NULL;
        size_t len = 0;
        int rc = sim_fs_read(sim, SIM_NODE_NONE, name, &text, &len);
        if (rc != SIM_FS_OK)
            lab_fatalf(mr_cfg_ctx(cfg), SIM_NODE_NONE, "cannot read %s: %s", name,
                       sim_fs_strerror(rc));
        lines_split(cfg, out, text, len, keep_empty);
        free(text);
    }
}

void mr_cfg_outputs(struct mr_cfg *cfg, struct mr_lines *out)
{
    outputs_collect(cfg, out, false);
    lines_sort(out);
}

void mr_cfg_outputs_raw(struct mr_cfg *cfg, struct mr_lines *out)
{
    outputs_collect(cfg, out, true);
}

bool mr_cfg_outputs_match(struct mr_cfg *cfg, const struct mr_lines *want, char *why,
                          size_t why_size)
{
    struct mr_lines got;
    size_t at = 0;
    mr_cfg_outputs(cfg, &got);
    bool same = mr_lines_equal(&got, want, &at);
    if (!same)
        snprintf(why, why_size, "line %zu: got \"%.60s\", want \"%.60s\" (%zu lines, want %zu)",
                 at + 1, at < got.count ? got.lines[at] : "(end)",
                 at < want->count ? want->lines[at] : "(end)", got.count, want->count);
    mr_lines_free(&got);
    return same;
}

/* ---------------------------------------------------------------- mrsequential */

/* Reduces each group into a "key result" line. */
static void seq_reduce(struct mr_cfg *cfg, const struct mr_app *app, void *arg,
                       const struct mr_kvs *kvs, const struct mr_groups *g, struct mr_lines *out)
{
    char **values = malloc((kvs->count > 0 ? kvs->count : 1) * sizeof(*values));
    if (values == NULL) lab_fatalf(mr_cfg_ctx(cfg), SIM_NODE_NONE, "out of memory (mrsequential)");
    for (uint32_t k = 0; k < g->count; k++) {
        uint32_t from = g->starts[k];
        uint32_t to = g->starts[k + 1];
        for (uint32_t j = from; j < to; j++)
            values[j - from] = kvs->items[g->order[j]].value;
        const char *key = mr_group_key(kvs, g, k);
        char *result = app->reduce(arg, key, values, to - from);
        if (result == NULL) lab_fatalf(mr_cfg_ctx(cfg), SIM_NODE_NONE, "out of memory (reduce)");
        size_t key_len = strlen(key);
        size_t result_len = strlen(result);
        char *line = malloc(key_len + result_len + 2);
        if (line == NULL) lab_fatalf(mr_cfg_ctx(cfg), SIM_NODE_NONE, "out of memory (a line)");
        memcpy(line, key, key_len);
        line[key_len] = ' ';
        memcpy(line + key_len + 1, result, result_len + 1);
        /* `sort mr-out-0` sees lines: a result holding "\n" would split, as in the shell. */
        lines_split(cfg, out, line, key_len + result_len + 1, true);
        free(line);
        free(result);
    }
    free(values);
}

const struct mr_lines *mr_cfg_sequential(struct mr_cfg *cfg, const char *app_name)
{
    struct mr_lines *out = mr_cfg_want(cfg);
    mr_lines_free(out);
    const struct mr_app *app = mr_app_find(app_name);
    if (app == NULL) lab_fatalf(mr_cfg_ctx(cfg), SIM_NODE_NONE, "unknown application %s", app_name);
    /* mrsequential is a process of its own: the apps it runs (wc, indexer, nocrash) use no
     * process state, but get a valid one. */
    struct mr_proc seq = {.cfg = cfg, .node = SIM_NODE_NONE, .pid = 0};
    struct mr_kvs kvs;
    mr_kvs_init(&kvs);
    for (size_t i = 0; i < mr_cfg_inputs_count(cfg); i++) {
        const struct mr_input *in = mr_input_at(i);
        if (app->map(&seq, in->name, in->data, (size_t)*in->size, &kvs) != MR_OK)
            lab_fatalf(mr_cfg_ctx(cfg), SIM_NODE_NONE, "out of memory (mrsequential map)");
    }
    struct mr_groups groups;
    if (mr_kvs_group(&kvs, &groups) != MR_OK)
        lab_fatalf(mr_cfg_ctx(cfg), SIM_NODE_NONE, "out of memory (mrsequential)");
    seq_reduce(cfg, app, &seq, &kvs, &groups, out);
    mr_groups_free(&groups);
    mr_kvs_free(&kvs);
    lines_sort(out);
    return out;
}
