/* trace_check: a recorded trace compared with its replay (see trace_check.h).
 *
 * Invariants:
 *  1. compared counts the replay's events matched with the file's, in order; once `done` is
 *     set (a difference, a problem in the file, or the end of a recording that stopped early)
 *     the file is not read again until trace_check_finish.
 *  2. The first difference wins: msg is written once.
 */
#include "trace_check.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_EVENT_MAX 320u /* one event described: time, node, kind, 6 values, text */

struct trace_check {
    const char *path;
    struct trace_file *tf;
    uint64_t compared; /* replay events matched with the file's */
    bool done;         /* compare no more (see invariant 1) */
    bool differs;      /* msg holds the first difference */
    char msg[TRACE_CHECK_MSG_MAX];
};

int trace_check_open(const char *path, struct trace_check **out, struct trace_file_error *err)
{
    struct trace_check *check = calloc(1, sizeof(*check));
    *out = NULL;
    if (check == NULL) {
        snprintf(err->msg, sizeof(err->msg), "out of memory");
        err->line = 0;
        return TRACE_FILE_ENOMEM;
    }
    int rc = trace_file_open(path, &check->tf, err);
    if (rc != TRACE_FILE_OK) {
        free(check);
        return rc;
    }
    check->path = path;
    *out = check;
    return TRACE_FILE_OK;
}

bool trace_check_header(const struct trace_check *check, const char **title, uint64_t *seed,
                        uint64_t *digest)
{
    *title = check->tf->title;
    *seed = check->tf->seed;
    *digest = check->tf->digest;
    return check->tf->has_seed && check->tf->has_digest;
}

/* "12.345678 s, node 2, raft.role term=1 role=2 'text'" */
static void describe(char *buf, size_t size, uint64_t at_us, int32_t node, const char *kind,
                     int fields, const int64_t *v, const char *text)
{
    size_t used = 0;
    int n =
        snprintf(buf, size, "%" PRIu64 ".%06" PRIu64 " s, node %d, %s",
                 at_us / (uint64_t)SIM_US_PER_S, at_us % (uint64_t)SIM_US_PER_S, (int)node, kind);
    used = n > 0 && (size_t)n < size ? (size_t)n : size - 1;
    for (int k = 0; k < fields && used + 1 < size; k++) {
        n = snprintf(buf + used, size - used, " %" PRId64, v[k]);
        used += n > 0 && (size_t)n < size - used ? (size_t)n : size - used - 1;
    }
    if (text[0] != '\0' && used + 1 < size) snprintf(buf + used, size - used, " '%.63s'", text);
}

static void describe_rec(char *buf, size_t size, const struct sim_trace_rec *rec)
{
    int fields = 0;
    while (fields < (int)SIM_TRACE_FIELDS_MAX && rec->kind->fields[fields] != NULL)
        fields++;
    describe(buf, size, rec->at_us, rec->node, rec->kind->name, fields, rec->v, rec->text);
}

static void describe_ev(char *buf, size_t size, const struct trace_file *tf,
                        const struct trace_file_event *ev)
{
    const struct trace_file_kind *kind = trace_file_event_kind(tf, ev);
    describe(buf, size, ev->at_us, ev->node, kind->name, kind->fields_count, ev->v, ev->text);
}

/* Whether a file event is the replay's event. */
static bool event_same(const struct trace_file *tf, const struct trace_file_event *ev,
                       const struct sim_trace_rec *rec)
{
    const struct trace_file_kind *kind = trace_file_event_kind(tf, ev);
    if (ev->at_us != rec->at_us || ev->node != rec->node) return false;
    if (kind->id != rec->kind->id || strcmp(kind->name, rec->kind->name) != 0) return false;
    for (int k = 0; k < (int)SIM_TRACE_FIELDS_MAX; k++) {
        bool field = k < kind->fields_count;
        if (field != (rec->kind->fields[k] != NULL)) return false;
        if (field && ev->v[k] != rec->v[k]) return false;
        if (!field) break;
    }
    return strcmp(ev->text, rec->text) == 0;
}

static void check_differs(struct trace_check *check, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Keeps the first difference (invariant 2) and stops comparing. */
static void check_differs(struct trace_check *check, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(check->msg, sizeof(check->msg), fmt, ap);
    va_end(ap);
    check->differs = true;
    check->done = true;
}

static void check_file_error(struct trace_check *check, const struct trace_file_error *err)
{
    snprintf(check->msg, sizeof(check->msg), "%s:%" PRIu64 ": %s", check->path, err->line,
             err->msg);
    check->differs = true;
    check->done = true;
}

static void check_event(struct sim *sim, const struct sim_trace_rec *rec, void *arg)
{
    struct trace_check *check = arg;
    struct trace_file_event ev;
    struct trace_file_error err = {0, ""};
    char mine[CHECK_EVENT_MAX];
    char theirs[CHECK_EVENT_MAX];
    (void)sim;
    if (check->done) return;
    if (check->compared == check->tf->events_count && check->tf->truncated) {
        check->done = true; /* the recording stopped here; the replay goes on unrecorded */
        return;
    }
    int rc = trace_file_next(check->tf, &ev, &err);
    describe_rec(theirs, sizeof(theirs), rec);
    if (rc < 0) {
        check_file_error(check, &err);
    } else if (rc == 0) {
        check_differs(check, "event %" PRIu64 ": the file has no more events, the replay has %s",
                      check->compared, theirs);
    } else if (!event_same(check->tf, &ev, rec)) {
        describe_ev(mine, sizeof(mine), check->tf, &ev);
        check_differs(check, "event %" PRIu64 " differs: the file has %s, the replay has %s",
                      check->compared, mine, theirs);
    } else {
        check->compared++;
    }
}

void trace_check_attach(struct trace_check *check, struct sim *sim)
{
    uint32_t topics = 0;
    for (size_t i = 0; i < check->tf->kinds_count; i++)
        topics |= SIM_TOPIC_BIT(check->tf->kinds[i].topic);
    sim_trace_set_stream(sim, topics, check_event, check);
}

/* The rest of the file: no event the replay did not have, then its end checks. */
static void check_rest(struct trace_check *check)
{
    struct trace_file_event ev;
    struct trace_file_error err = {0, ""};
    char mine[CHECK_EVENT_MAX];
    int rc = trace_file_next(check->tf, &ev, &err);
    if (rc < 0) {
        check_file_error(check, &err);
    } else if (rc == 1) {
        describe_ev(mine, sizeof(mine), check->tf, &ev);
        check_differs(check, "event %" PRIu64 ": the file has %s, the replay has no more events",
                      check->compared, mine);
    }
}

bool trace_check_finish(struct trace_check *check, char *msg, size_t msg_size, char *summary,
                        size_t summary_size)
{
    if (!check->differs) check_rest(check);
    snprintf(summary, summary_size, "%" PRIu64 " of %" PRIu64 " events compared%s", check->compared,
             check->tf->events_count,
             check->tf->version >= 2 ? ", end digest checked" : " (version 1: no end digest)");
    if (!check->differs) return true;
    snprintf(msg, msg_size, "%s", check->msg);
    return false;
}

void trace_check_close(struct trace_check *check)
{
    if (check == NULL) return;
    trace_file_close(check->tf);
    free(check);
}
