/* worker: the reference MapReduce worker (Go's mr/worker.go), straight-line code in a task.
 *
 * The loop asks the coordinator for a task and runs it, until the coordinator says the job
 * is done or cannot be reached (it exited: Go's failed dial), then returns.
 *  - Map task X: read the input, call the map function, and write the pairs of every reduce
 *    bucket Y (mr_ihash(key) % nReduce) to "mr-X-Y", even when empty.
 *  - Reduce task Y: read "mr-X-Y" for every map task X, group the pairs by key (mr_kvs_group:
 *    keys in order, values in map-task order), call the reduce function once per key and
 *    write "key result\n" lines to "mr-out-Y".
 * Every file is written whole under a temporary name and then renamed, so a final name only
 * ever holds a complete file even when this worker dies (the crash application) or is slow
 * and its task was handed to another worker meanwhile.
 *
 * Intermediate files hold one record per pair: "<key bytes> <key><value bytes> <value>\n"
 * (lengths in decimal), so keys and values may hold any byte.
 *
 * Memory: everything the worker allocates hangs off struct mr_worker (buffers reused from task
 * to task), because an application call may end the process at any point (see mr.h); the
 * harness then frees the worker with mr_worker_free.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mr_int.h"

struct mr_buf {
    char *data;
    size_t len;
    size_t cap;
};

struct mr_worker {
    struct mr_worker_env env;
    struct gob_enc enc;                   /* RPC arguments */
    uint8_t *reply;                       /* the last RPC reply (malloc'd by labrpc) */
    char *input;                          /* a map task's input, or one intermediate file */
    struct mr_kvs kvs;                    /* a map's output, or a reduce's input */
    struct mr_buf out;                    /* a reduce's output file being built */
    struct mr_buf buckets[MR_REDUCE_MAX]; /* a map's intermediate files being built */
    struct mr_groups groups;              /* a reduce's pairs, grouped by key in key order */
    char **values;                        /* the values of one key */
    size_t values_cap;
    char *result;        /* the last reduce result */
    uint64_t tasks_done; /* tasks this worker finished */
};

/* mr module trace kinds 610-619 (the worker's lane). */
static const struct sim_trace_kind kind_task_start = {
    610, SIM_TOPIC_CLIENT, "mr.worker.start", {"kind", "task", NULL}};
static const struct sim_trace_kind kind_task_end = {
    611, SIM_TOPIC_CLIENT, "mr.worker.end", {"kind", "task", "pairs", NULL}};
static const struct sim_trace_kind kind_exit = {
    612, SIM_TOPIC_CLIENT, "mr.worker.exit", {"tasks_done", "reason", NULL}};

enum worker_exit_reason { EXIT_JOB_DONE = 0, EXIT_NO_COORDINATOR = 1, EXIT_ERROR = 2 };

/* ---------------------------------------------------------------- buffers */

static int buf_reserve(struct mr_buf *b, size_t extra)
{
    if (extra <= b->cap - b->len) return MR_OK;
    if (extra > SIM_FS_FILE_BYTES_MAX - b->len) return MR_ELIMIT;
    size_t cap = b->cap < 4096 ? 4096 : b->cap;
    while (cap - b->len < extra)
        cap *= 2;
    char *grown = realloc(b->data, cap);
    if (grown == NULL) return MR_ENOMEM;
    b->data = grown;
    b->cap = cap;
    return MR_OK;
}

static int buf_put(struct mr_buf *b, const char *p, size_t n)
{
    int rc = buf_reserve(b, n);
    if (rc != MR_OK) return rc;
    if (n > 0) memcpy(b->data + b->len, p, n);
    b->len += n;
    return MR_OK;
}

/* Appends "<n> " in decimal. */
static int buf_put_len(struct mr_buf *b, size_t n)
{
    char digits[24];
    size_t at = sizeof(digits);
    digits[--at] = ' ';
    do {
        digits[--at] = (char)('0' + n % 10);
        n /= 10;
    } while (n > 0);
    return buf_put(b, digits + at, sizeof(digits) - at);
}

static int buf_put_record(struct mr_buf *b, const char *key, const char *value)
{
    size_t key_len = strlen(key);
    size_t value_len = strlen(value);
    int rc = buf_put_len(b, key_len);
    if (rc == MR_OK) rc = buf_put(b, key, key_len);
    if (rc == MR_OK) rc = buf_put_len(b, value_len);
    if (rc == MR_OK) rc = buf_put(b, value, value_len);
    if (rc == MR_OK) rc = buf_put(b, "\n", 1);
    return rc;
}

/* ---------------------------------------------------------------- files */

/* Writes `b` to `final_name` through a temporary file and a rename. Returns MR_OK, or
 * MR_EINVAL when the file system refused (this process is down, a limit was reached). */
static int worker_publish(struct mr_worker *w, const struct mr_buf *b, const char *final_name)
{
    struct sim *sim = w->env.sim;
    int node = w->env.node;
    char temp[SIM_FS_NAME_MAX];
    mr_name_temp(temp, sizeof(temp), final_name, node);
    int fd = -1;
    int rc = sim_fs_create(sim, node, temp, &fd);
    if (rc != SIM_FS_OK) return MR_EINVAL;
    rc = sim_fs_write(sim, node, fd, b->data, b->len);
    int rc_close = sim_fs_close(sim, node, fd);
    if (rc != SIM_FS_OK || rc_close != SIM_FS_OK) return MR_EINVAL;
    return sim_fs_rename(sim, node, temp, final_name) == SIM_FS_OK ? MR_OK : MR_EINVAL;
}

/* Parses one decimal length followed by a space at *p (< end); false when malformed. */
static bool parse_len(const char **p, const char *end, size_t *len)
{
    size_t v = 0;
    const char *q = *p;
    size_t digits = 0;
    while (q < end && *q >= '0' && *q <= '9' && digits < 12) {
        v = v * 10 + (size_t)(*q - '0');
        q++;
        digits++;
    }
    if (digits == 0 || q == end || *q != ' ') return false;
    *p = q + 1;
    *len = v;
    return true;
}

/* Appends the records of one intermediate file (w->input, len bytes) to w->kvs. */
static int worker_decode(struct mr_worker *w, size_t len)
{
    const char *p = w->input;
    const char *end = w->input + len;
    while (p < end) {
        size_t key_len = 0;
        size_t value_len = 0;
        if (!parse_len(&p, end, &key_len) || key_len > (size_t)(end - p)) return MR_EDECODE;
        const char *key = p;
        p += key_len;
        if (!parse_len(&p, end, &value_len) || value_len >= (size_t)(end - p)) return MR_EDECODE;
        const char *value = p;
        p += value_len;
        if (*p != '\n') return MR_EDECODE;
        p++;
        int rc = mr_kvs_add(&w->kvs, key, key_len, value, value_len);
        if (rc != MR_OK) return rc;
    }
    return MR_OK;
}

/* ---------------------------------------------------------------- map */

static int worker_map(struct mr_worker *w, const struct mr_task_reply *task)
{
    size_t len = 0;
    free(w->input);
    w->input = NULL;
    if (sim_fs_read(w->env.sim, w->env.node, task->file, &w->input, &len) != SIM_FS_OK)
        return MR_EINVAL; /* Go: log.Fatalf("cannot open %v") */
    mr_kvs_clear(&w->kvs);
    int rc = w->env.app.map(w->env.app.arg, task->file, w->input, len, &w->kvs);
    free(w->input);
    w->input = NULL;
    for (uint32_t y = 0; y < task->n_reduce; y++)
        w->buckets[y].len = 0;
    for (size_t i = 0; i < w->kvs.count && rc == MR_OK; i++) {
        const struct mr_kv *kv = &w->kvs.items[i];
        uint32_t y = mr_ihash(kv->key, strlen(kv->key)) % task->n_reduce;
        rc = buf_put_record(&w->buckets[y], kv->key, kv->value);
    }
    for (uint32_t y = 0; y < task->n_reduce && rc == MR_OK; y++) {
        char name[SIM_FS_NAME_MAX];
        mr_name_intermediate(name, sizeof(name), task->task, y);
        rc = worker_publish(w, &w->buckets[y], name);
    }
    return rc;
}

/* ---------------------------------------------------------------- reduce */

/* Reads every map task's file for bucket `y` into w->kvs. */
static int worker_gather(struct mr_worker *w, const struct mr_task_reply *task)
{
    mr_kvs_clear(&w->kvs);
    for (uint32_t x = 0; x < task->n_map; x++) {
        char name[SIM_FS_NAME_MAX];
        size_t len = 0;
        mr_name_intermediate(name, sizeof(name), x, task->task);
        free(w->input);
        w->input = NULL;
        if (sim_fs_read(w->env.sim, w->env.node, name, &w->input, &len) != SIM_FS_OK)
            return MR_EINVAL;
        int rc = worker_decode(w, len);
        free(w->input);
        w->input = NULL;
        if (rc != MR_OK) return rc;
    }
    return MR_OK;
}

/* Calls reduce on key group `k` of w->groups and appends its line to w->out. */
static int worker_reduce_group(struct mr_worker *w, uint32_t k)
{
    uint32_t from = w->groups.starts[k];
    uint32_t count = w->groups.starts[k + 1] - from;
    if (count > w->values_cap) {
        char **grown = realloc(w->values, count * sizeof(*grown));
        if (grown == NULL) return MR_ENOMEM;
        w->values = grown;
        w->values_cap = count;
    }
    for (uint32_t i = 0; i < count; i++)
        w->values[i] = w->kvs.items[w->groups.order[from + i]].value;
    const char *key = mr_group_key(&w->kvs, &w->groups, k);
    free(w->result);
    w->result = NULL; /* the call may end the process: mr_worker_free must not free it twice */
    w->result = w->env.app.reduce(w->env.app.arg, key, w->values, count);
    if (w->result == NULL) return MR_ENOMEM;
    int rc = buf_put(&w->out, key, strlen(key));
    if (rc == MR_OK) rc = buf_put(&w->out, " ", 1);
    if (rc == MR_OK) rc = buf_put(&w->out, w->result, strlen(w->result));
    if (rc == MR_OK) rc = buf_put(&w->out, "\n", 1);
    return rc;
}

static int worker_reduce(struct mr_worker *w, const struct mr_task_reply *task)
{
    mr_groups_free(&w->groups);
    int rc = worker_gather(w, task);
    if (rc == MR_OK) rc = mr_kvs_group(&w->kvs, &w->groups);
    w->out.len = 0;
    for (uint32_t k = 0; rc == MR_OK && k < w->groups.count; k++)
        rc = worker_reduce_group(w, k);
    mr_groups_free(&w->groups);
    char name[SIM_FS_NAME_MAX];
    mr_name_output(name, sizeof(name), task->task);
    if (rc == MR_OK) rc = worker_publish(w, &w->out, name);
    return rc;
}

/* ---------------------------------------------------------------- the loop */

/* One RPC; false when the coordinator could not be reached. The reply stays in w->reply. */
static bool worker_call(struct mr_worker *w, const char *method, size_t *reply_len)
{
    free(w->reply);
    w->reply = NULL;
    *reply_len = 0;
    return rpc_end_call_wait(w->env.coordinator, method, gob_enc_bytes(&w->enc),
                             gob_enc_len(&w->enc), &w->reply, reply_len);
}

/* Asks for a task. Returns false when the coordinator is gone (or answers nonsense). */
static bool worker_get_task(struct mr_worker *w, struct mr_task_reply *task)
{
    size_t len = 0;
    if (mr_get_task_args_encode(&w->enc, w->env.node) != MR_OK) return false;
    if (!worker_call(w, MR_GET_TASK, &len)) return false;
    return mr_task_reply_decode(w->reply, len, task) == MR_OK;
}

static bool worker_report(struct mr_worker *w, const struct mr_task_reply *task)
{
    size_t len = 0;
    struct mr_done_args a = {.node = w->env.node, .kind = task->kind, .task = task->task};
    if (mr_done_args_encode(&w->enc, &a) != MR_OK) return false;
    return worker_call(w, MR_TASK_DONE, &len);
}

void mr_worker_run(struct mr_worker *w)
{
    struct sim *sim = w->env.sim;
    SIM_ASSERTF(sim, w->env.node, sim_task_current(sim) != NULL, "mr_worker_run outside a task");
    enum worker_exit_reason reason = EXIT_NO_COORDINATOR;
    for (;;) { /* ends when the coordinator says so or is gone; every pass takes virtual time */
        struct mr_task_reply task;
        if (!worker_get_task(w, &task)) break;
        if (task.kind == MR_TASK_EXIT) {
            reason = EXIT_JOB_DONE;
            break;
        }
        if (task.kind == MR_TASK_WAIT) {
            sim_sleep_us(sim, MR_WORKER_WAIT_US);
            continue;
        }
        sim_trace4(sim, w->env.node, &kind_task_start, task.kind, task.task, 0, 0);
        int rc = task.kind == MR_TASK_MAP ? worker_map(w, &task) : worker_reduce(w, &task);
        if (rc != MR_OK) {
            reason = EXIT_ERROR; /* Go's workers log.Fatal on a file error */
            break;
        }
        sim_trace4(sim, w->env.node, &kind_task_end, task.kind, task.task, (int64_t)w->kvs.count,
                   0);
        w->tasks_done++;
        if (!worker_report(w, &task)) break;
    }
    sim_trace4(sim, w->env.node, &kind_exit, (int64_t)w->tasks_done, reason, 0, 0);
}

int mr_worker_new(const struct mr_worker_env *env, struct mr_worker **out)
{
    if (out != NULL) *out = NULL;
    if (env == NULL || out == NULL || env->sim == NULL || env->coordinator == NULL)
        return MR_EINVAL;
    if (env->app.map == NULL || env->app.reduce == NULL) return MR_EINVAL;
    struct mr_worker *w = calloc(1, sizeof(*w));
    if (w == NULL) return MR_ENOMEM;
    w->env = *env;
    gob_enc_init(&w->enc);
    mr_kvs_init(&w->kvs);
    *out = w;
    return MR_OK;
}

void mr_worker_free(struct mr_worker *w)
{
    if (w == NULL) return;
    gob_enc_free(&w->enc);
    free(w->reply);
    free(w->input);
    mr_kvs_free(&w->kvs);
    free(w->out.data);
    for (uint32_t y = 0; y < MR_REDUCE_MAX; y++)
        free(w->buckets[y].data);
    mr_groups_free(&w->groups);
    free(w->values);
    free(w->result);
    free(w);
}
