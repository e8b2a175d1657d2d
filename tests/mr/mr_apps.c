/* mr_apps: the lab's MapReduce applications (Go's src/mrapps) as C functions, with their
 * timing in virtual time. Each function's arg is the calling process (struct mr_proc), which
 * gives the app its pid, its node for the file system, its random stream and its crash.
 *
 *  wc          map: every maximal run of letters is a word, emitted as (word, "1"); reduce: the
 *              number of values.
 *  indexer     map: (word, document) once per distinct word; reduce: "<n> <sorted docs,>".
 *  mtiming     map: nparallel("map") (below), emits ("times-<pid>", start "%.1f" seconds) and
 *              ("parallel-<pid>", count); reduce: the sorted values joined by " ".
 *  rtiming     map: ("a".."j", "1"); reduce: nparallel("reduce") as a decimal.
 *  jobcount    map: writes "mr-worker-jobcount-<pid>-<n>", sleeps 2000 + U[0, 3000) ms, emits
 *              ("a", "x"); reduce: the number of files named "mr-worker-jobcount*".
 *  early_exit  map: (filename, "1"); reduce: sleeps 3 s when the key contains "sherlock" or
 *              "tom", then the number of values.
 *  crash       at the start of every map and reduce call: with probability 330/1000 the
 *              process exits, with 330/1000 it sleeps U[0, 10000) ms; map emits ("a", name),
 *              ("b", len(name)), ("c", len(contents)), ("d", "xyzzy"); reduce: sorted values
 *              joined by " ".
 *  nocrash     crash without the crashes and sleeps (mrsequential's reference for crash).
 * nparallel(phase): write "mr-worker-<phase>-<pid>", count the files "mr-worker-<phase>-<n>"
 * whose pid n is alive, sleep 1 s, remove the file, return the count.
 *
 * Deviations, both invisible to the tests: a letter is an ASCII letter (Go's unicode.IsLetter;
 * the inputs are pure ASCII, which the mr unit suite checks), and the crash app's randomness
 * comes from the process's seeded stream instead of crypto/rand. A file-system error, which
 * panics in Go, crashes the process here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mr_cfg.h"

#define APP_SLEEP_NPARALLEL_US SIM_S(1)
#define APP_SLEEP_EARLY_EXIT_US SIM_S(3)
#define APP_NAME_MAX 96u

static struct sim *app_sim(const struct mr_proc *proc)
{
    return mr_cfg_sim(proc->cfg);
}

/* ---------------------------------------------------------------- helpers */

static bool is_letter(char c)
{
    /* (c | 0x20) folds upper case onto lower case and leaves no other byte in 'a'..'z'. */
    unsigned char lower = (unsigned char)c | 0x20u;
    return lower >= 'a' && lower <= 'z';
}

/* The next word of contents[*at .. len): true with [*start, *at) the word. */
static bool next_word(const char *contents, size_t len, size_t *at, size_t *start)
{
    size_t i = *at;
    while (i < len && !is_letter(contents[i]))
        i++;
    *start = i;
    while (i < len && is_letter(contents[i]))
        i++;
    *at = i;
    return i > *start;
}

static char *str_printf_int(long long v)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%lld", v);
    char *s = malloc((size_t)n + 1);
    if (s != NULL) memcpy(s, buf, (size_t)n + 1);
    return s;
}

static int str_ptr_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The values sorted (sort.Strings) and joined with `sep`; malloc'd, NULL when out of memory. */
static char *join_sorted(char *const *values, size_t count, const char *sep)
{
    char **sorted = malloc((count > 0 ? count : 1) * sizeof(*sorted));
    if (sorted == NULL) return NULL;
    size_t len = 1;
    for (size_t i = 0; i < count; i++) {
        sorted[i] = values[i];
        len += strlen(values[i]) + strlen(sep);
    }
    qsort(sorted, count, sizeof(*sorted), str_ptr_cmp);
    char *out = malloc(len);
    if (out != NULL) {
        size_t at = 0;
        for (size_t i = 0; i < count; i++) {
            size_t n = strlen(sorted[i]);
            if (i > 0) {
                memcpy(out + at, sep, strlen(sep));
                at += strlen(sep);
            }
            memcpy(out + at, sorted[i], n);
            at += n;
        }
        out[at] = '\0';
    }
    free(sorted);
    return out;
}

static int add_str(struct mr_kvs *out, const char *key, const char *value)
{
    return mr_kvs_add(out, key, strlen(key), value, strlen(value));
}

/* ---------------------------------------------------------------- wc */

static int wc_map(void *arg, const char *filename, const char *contents, size_t len,
                  struct mr_kvs *out)
{
    (void)arg;
    (void)filename;
    size_t at = 0;
    size_t start = 0;
    while (next_word(contents, len, &at, &start)) {
        int rc = mr_kvs_add(out, contents + start, at - start, "1", 1);
        if (rc != MR_OK) return rc;
    }
    return MR_OK;
}

static char *count_reduce(void *arg, const char *key, char *const *values, size_t count)
{
    (void)arg;
    (void)key;
    (void)values;
    return str_printf_int((long long)count);
}

/* ---------------------------------------------------------------- indexer */

/* A slot of indexer_map's set of words (open addressing; p NULL when empty). */
struct word_slot {
    const char *p;
    size_t len;
};

/* Adds the word to the set; true when it was not there yet. */
static bool word_set_add(struct word_slot *set, size_t mask, const char *p, size_t len)
{
    for (size_t i = mr_ihash(p, len) & mask;; i = (i + 1) & mask) { /* never full: see caller */
        if (set[i].p == NULL) {
            set[i] = (struct word_slot){p, len};
            return true;
        }
        if (set[i].len == len && memcmp(set[i].p, p, len) == 0) return false;
    }
}

/* Go's map[string]bool of the document's words: each distinct word is emitted once, in the
 * order of its first occurrence (Go's map order is random; the reduce sorts, so no output can
 * tell). */
static int indexer_map(void *arg, const char *document, const char *contents, size_t len,
                       struct mr_kvs *out)
{
    (void)arg;
    size_t words = 0;
    size_t at = 0;
    size_t start = 0;
    while (next_word(contents, len, &at, &start))
        words++;
    size_t cap = 16;
    while (cap < 2 * words)
        cap *= 2;
    struct word_slot *set = calloc(cap, sizeof(*set));
    if (set == NULL) return MR_ENOMEM;
    int rc = MR_OK;
    at = 0;
    while (rc == MR_OK && next_word(contents, len, &at, &start))
        if (word_set_add(set, cap - 1, contents + start, at - start))
            rc = mr_kvs_add(out, contents + start, at - start, document, strlen(document));
    free(set);
    return rc;
}

static char *indexer_reduce(void *arg, const char *key, char *const *values, size_t count)
{
    (void)arg;
    (void)key;
    char *docs = join_sorted(values, count, ",");
    if (docs == NULL) return NULL;
    size_t len = strlen(docs) + 32;
    char *out = malloc(len);
    if (out != NULL) snprintf(out, len, "%zu %s", count, docs);
    free(docs);
    return out;
}

/* ---------------------------------------------------------------- mtiming, rtiming */

/* Go's Sscanf(name, "mr-worker-<phase>-%d", &pid) == 1. */
static bool parse_worker_file(const char *name, const char *phase, int *pid)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "mr-worker-%s-", phase);
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) != 0) return false;
    const char *p = name + n;
    bool negative = *p == '-';
    if (*p == '-' || *p == '+') p++;
    if (*p < '0' || *p > '9') return false;
    long v = 0;
    for (; *p >= '0' && *p <= '9' && v < 1000000000L; p++)
        v = v * 10 + (*p - '0');
    *pid = (int)(negative ? -v : v);
    return true;
}

static int nparallel(struct mr_proc *proc, const char *phase)
{
    struct sim *sim = app_sim(proc);
    char mine[APP_NAME_MAX];
    snprintf(mine, sizeof(mine), "mr-worker-%s-%d", phase, proc->pid);
    if (sim_fs_write_file(sim, proc->node, mine, "x", 1) != SIM_FS_OK)
        mr_proc_crash(proc, "nparallel: cannot write its file");
    int alive = 0;
    for (size_t i = 0; i < sim_fs_count(sim); i++) {
        int pid = 0;
        if (parse_worker_file(sim_fs_name_at(sim, i), phase, &pid) &&
            mr_cfg_pid_alive(proc->cfg, pid))
            alive++;
    }
    sim_sleep_us(sim, APP_SLEEP_NPARALLEL_US);
    if (sim_fs_remove(sim, proc->node, mine) != SIM_FS_OK)
        mr_proc_crash(proc, "nparallel: cannot remove its file");
    return alive;
}

static int mtiming_map(void *arg, const char *filename, const char *contents, size_t len,
                       struct mr_kvs *out)
{
    struct mr_proc *proc = arg;
    (void)filename;
    (void)contents;
    (void)len;
    double ts = (double)sim_now_us(app_sim(proc)) / (double)SIM_US_PER_S;
    int n = nparallel(proc, "map");
    char key[APP_NAME_MAX];
    char value[APP_NAME_MAX];
    snprintf(key, sizeof(key), "times-%d", proc->pid);
    snprintf(value, sizeof(value), "%.1f", ts);
    int rc = add_str(out, key, value);
    snprintf(key, sizeof(key), "parallel-%d", proc->pid);
    snprintf(value, sizeof(value), "%d", n);
    return rc == MR_OK ? add_str(out, key, value) : rc;
}

static char *sorted_join_reduce(void *arg, const char *key, char *const *values, size_t count)
{
    (void)arg;
    (void)key;
    return join_sorted(values, count, " ");
}

static int rtiming_map(void *arg, const char *filename, const char *contents, size_t len,
                       struct mr_kvs *out)
{
    (void)arg;
    (void)filename;
    (void)contents;
    (void)len;
    static const char *const keys[] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
    int rc = MR_OK;
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) && rc == MR_OK; i++)
        rc = add_str(out, keys[i], "1");
    return rc;
}

static char *rtiming_reduce(void *arg, const char *key, char *const *values, size_t count)
{
    (void)key;
    (void)values;
    (void)count;
    return str_printf_int(nparallel(arg, "reduce"));
}

/* ---------------------------------------------------------------- jobcount */

static int jobcount_map(void *arg, const char *filename, const char *contents, size_t len,
                        struct mr_kvs *out)
{
    struct mr_proc *proc = arg;
    (void)filename;
    (void)contents;
    (void)len;
    char name[APP_NAME_MAX];
    snprintf(name, sizeof(name), "mr-worker-jobcount-%d-%u", proc->pid, proc->jobcount_next);
    proc->jobcount_next++;
    if (sim_fs_write_file(app_sim(proc), proc->node, name, "x", 1) != SIM_FS_OK)
        mr_proc_crash(proc, "jobcount: cannot write its file");
    sim_sleep_us(app_sim(proc), SIM_MS(2000 + sim_rand_below(&proc->rand, 3000)));
    return add_str(out, "a", "x");
}

static char *jobcount_reduce(void *arg, const char *key, char *const *values, size_t count)
{
    struct mr_proc *proc = arg;
    struct sim *sim = app_sim(proc);
    (void)key;
    (void)values;
    (void)count;
    long long invocations = 0;
    for (size_t i = 0; i < sim_fs_count(sim); i++)
        if (strncmp(sim_fs_name_at(sim, i), "mr-worker-jobcount", 18) == 0) invocations++;
    return str_printf_int(invocations);
}

/* ---------------------------------------------------------------- early_exit */

static int early_exit_map(void *arg, const char *filename, const char *contents, size_t len,
                          struct mr_kvs *out)
{
    (void)arg;
    (void)contents;
    (void)len;
    return add_str(out, filename, "1");
}

static char *early_exit_reduce(void *arg, const char *key, char *const *values, size_t count)
{
    struct mr_proc *proc = arg;
    (void)values;
    if (strstr(key, "sherlock") != NULL || strstr(key, "tom") != NULL)
        sim_sleep_us(app_sim(proc), APP_SLEEP_EARLY_EXIT_US);
    return str_printf_int((long long)count);
}

/* ---------------------------------------------------------------- crash, nocrash */

static void maybe_crash(struct mr_proc *proc)
{
    uint64_t r = sim_rand_below(&proc->rand, 1000);
    if (r < 330) mr_proc_crash(proc, "crash app: os.Exit(1)");
    if (r < 660) sim_sleep_us(app_sim(proc), SIM_MS(sim_rand_below(&proc->rand, 10 * 1000)));
}

static int nocrash_map(void *arg, const char *filename, const char *contents, size_t len,
                       struct mr_kvs *out)
{
    (void)arg;
    (void)contents;
    char num[32];
    int rc = add_str(out, "a", filename);
    snprintf(num, sizeof(num), "%zu", strlen(filename));
    if (rc == MR_OK) rc = add_str(out, "b", num);
    snprintf(num, sizeof(num), "%zu", len);
    if (rc == MR_OK) rc = add_str(out, "c", num);
    if (rc == MR_OK) rc = add_str(out, "d", "xyzzy");
    return rc;
}

static int crash_map(void *arg, const char *filename, const char *contents, size_t len,
                     struct mr_kvs *out)
{
    maybe_crash(arg);
    return nocrash_map(arg, filename, contents, len, out);
}

static char *crash_reduce(void *arg, const char *key, char *const *values, size_t count)
{
    maybe_crash(arg);
    return sorted_join_reduce(arg, key, values, count);
}

/* ---------------------------------------------------------------- the table */

static const struct mr_app mr_apps[] = {
    {"wc", wc_map, count_reduce, NULL},
    {"indexer", indexer_map, indexer_reduce, NULL},
    {"mtiming", mtiming_map, sorted_join_reduce, NULL},
    {"rtiming", rtiming_map, rtiming_reduce, NULL},
    {"jobcount", jobcount_map, jobcount_reduce, NULL},
    {"early_exit", early_exit_map, early_exit_reduce, NULL},
    {"crash", crash_map, crash_reduce, NULL},
    {"nocrash", nocrash_map, sorted_join_reduce, NULL},
};

const struct mr_app *mr_app_find(const char *name)
{
    for (size_t i = 0; i < sizeof(mr_apps) / sizeof(mr_apps[0]); i++)
        if (name != NULL && strcmp(mr_apps[i].name, name) == 0) return &mr_apps[i];
    return NULL;
}
