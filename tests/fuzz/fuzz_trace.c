/* libFuzzer target for the trace-file reader of `labsim log`, `step` and `export` (make
 * fuzz-trace), built with clang from tools/trace_file.c and the kernel files it needs.
 *
 * An input is a trace file, optionally followed by a NUL and up to four NUL-separated option
 * values: --topics, --nodes, --from and --to (seconds), parsed as the tools parse them and
 * checked against the trace. A version 2 file whose last line is "# end 0000000000000000" gets
 * the right digest written there first, so mutated bodies can reach the end of a file that
 * checks out (real digests in the seeds keep the mismatch path in play too).
 *
 * The file is read as the tools read it: trace_file_open, then trace_file_next to the end, each
 * event fed to the rpc-link matcher, the role spans and the filter. Every call either fails with
 * a one-line message of printable text naming a line of the input (or line 0), or keeps the
 * invariants of trace_file.h: times never decrease, kind and node indexes are in range, values past
 * a kind's fields are 0, the text is NUL-terminated, links point back to earlier events, spans do
 * not end before they begin, and a clean end has handed out exactly the events the header
 * announced. Any violated expectation aborts, which libFuzzer reports as a crash.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "trace_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_TRACE_MAX (1u << 20) /* bytes of trace text kept from an input */
#define FUZZ_OPTIONS 4            /* --topics, --nodes, --from, --to */
#define FUZZ_END_ZERO "# end 0000000000000000\n"

static void fuzz_expect(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_trace: expectation failed: %s\n", what);
        abort();
    }
}

/* ---------------------------------------------------------------- the file */

/* The trace goes through a real file, because the tools open traces by path (and a version 1
 * trace is read twice, so it must be seekable). One scratch file, rewritten for each input. */
static char fuzz_path[256];
static int fuzz_fd = -1;

static void fuzz_file_remove(void)
{
    if (fuzz_path[0] != '\0') unlink(fuzz_path);
}

static void fuzz_file_write(const char *text, size_t len)
{
    if (fuzz_fd < 0) {
        const char *dir = getenv("TMPDIR");
        snprintf(fuzz_path, sizeof(fuzz_path), "%s/labsim-fuzz-trace-XXXXXX",
                 dir != NULL && dir[0] != '\0' ? dir : "/tmp");
        fuzz_fd = mkstemp(fuzz_path);
        fuzz_expect(fuzz_fd >= 0, "mkstemp");
        atexit(fuzz_file_remove);
    }
    /* Written first and then cut to length: a file truncated to 0 and rewritten is flushed to
     * disk on close by ext4 (its replace-by-truncate heuristic), which costs more than a run. */
    fuzz_expect(len == 0 || pwrite(fuzz_fd, text, len, 0) == (ssize_t)len, "pwrite");
    fuzz_expect(ftruncate(fuzz_fd, (off_t)len) == 0, "ftruncate");
}

/* Writes the digest of everything before a final "# end 0000000000000000" line into it. */
static void fuzz_fix_end(char *text, size_t len)
{
    size_t end_len = strlen(FUZZ_END_ZERO);
    if (len < end_len || memcmp(text + len - end_len, FUZZ_END_ZERO, end_len) != 0) return;
    size_t at = len - end_len;
    if (at > 0 && text[at - 1] != '\n') return;
    char hex[17];
    snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)XXH3_64bits(text, at));
    memcpy(text + at + strlen("# end "), hex, 16);
}

/* ---------------------------------------------------------------- checks */

static size_t fuzz_lines(const char *text, size_t len)
{
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    return lines;
}

/* A refusal: one line of text, naming a line that exists (or the line after the last). */
static void fuzz_expect_error(int rc, const struct trace_file_error *err, size_t lines)
{
    bool terminated = memchr(err->msg, '\0', sizeof(err->msg)) != NULL;
    bool printable = terminated && err->msg[0] != '\0';
    for (size_t i = 0; printable && err->msg[i] != '\0'; i++)
        printable = err->msg[i] >= 0x20 && err->msg[i] < 0x7f;
    if (terminated && !printable)
        fprintf(stderr, "fuzz_trace: the error of line %llu: %s\n", (unsigned long long)err->line,
                err->msg);
    fuzz_expect(rc < 0, "an error code is negative");
    fuzz_expect(strcmp(trace_file_strerror(rc), "unknown trace_file error") != 0,
                "an error code is a TRACE_FILE_* one");
    fuzz_expect(terminated, "the message is terminated");
    fuzz_expect(err->msg[0] != '\0', "the message says something");
    fuzz_expect(printable, "the message is one line of printable text");
    fuzz_expect(err->line <= lines + 1, "the message names a line of the input");
}

/* What trace_file.h promises of an open trace before its first event. */
static void fuzz_expect_header(const struct trace_file *tf)
{
    fuzz_expect(tf->version == 1 || tf->version == 2, "version 1 or 2");
    fuzz_expect(memchr(tf->title, '\0', sizeof(tf->title)) != NULL, "the title is terminated");
    fuzz_expect(tf->kinds_count <= TRACE_FILE_KINDS_MAX, "kinds within bounds");
    fuzz_expect(tf->nodes_count <= TRACE_FILE_NODES_MAX, "nodes within bounds");
    for (size_t i = 0; i < tf->kinds_count; i++) {
        const struct trace_file_kind *kind = &tf->kinds[i];
        fuzz_expect(tf->kind_by_id[kind->id] == i + 1, "kind_by_id finds each kind");
        fuzz_expect(kind->fields_count >= 0 && kind->fields_count <= (int)SIM_TRACE_FIELDS_MAX,
                    "a kind's fields within bounds");
        if (kind->cls == TRACE_FILE_ROLE)
            fuzz_expect(kind->term_field >= 0 && kind->role_field >= 0, "a role kind has both");
        if (kind->cls >= TRACE_FILE_RPC_SEND && kind->cls <= TRACE_FILE_RPC_FAIL)
            fuzz_expect(kind->call_field >= 0, "an rpc kind has its call field");
    }
    for (size_t i = 0; i < tf->nodes_count; i++) {
        fuzz_expect(tf->nodes[i] >= -1 && tf->nodes[i] <= TRACE_FILE_NODE_ID_MAX, "node ids");
        fuzz_expect(i == 0 || tf->nodes[i - 1] < tf->nodes[i], "nodes ascending");
        fuzz_expect(memchr(tf->node_names[i], '\0', SIM_NODE_NAME_MAX) != NULL,
                    "node names are terminated");
    }
}

static void fuzz_expect_event(const struct trace_file *tf, const struct trace_file_event *ev,
                              uint64_t last_at_us)
{
    fuzz_expect(ev->kind < tf->kinds_count, "the kind index is in range");
    fuzz_expect(ev->node_index < tf->nodes_count, "the node index is in range");
    fuzz_expect(tf->nodes[ev->node_index] == ev->node, "the node index points at the node");
    fuzz_expect(ev->at_us >= last_at_us, "times never decrease");
    fuzz_expect(ev->at_us <= TRACE_FILE_TIME_MAX_US, "times below 2^53");
    fuzz_expect(memchr(ev->text, '\0', sizeof(ev->text)) != NULL, "the text is terminated");
    const struct trace_file_kind *kind = trace_file_event_kind(tf, ev);
    for (int i = kind->fields_count; i < (int)SIM_TRACE_FIELDS_MAX; i++)
        fuzz_expect(ev->v[i] == 0, "values past the kind's fields are 0");
    char label[SIM_NODE_NAME_MAX + 16];
    trace_file_node_label(tf, ev->node, "n", label, sizeof(label));
    fuzz_expect(label[0] != '\0', "every node has a label");
}

/* ---------------------------------------------------------------- the walk */

/* What one walk keeps; the call slots are big (64 Ki), so only the ones used are cleared. */
struct fuzz_walk {
    struct trace_file_calls calls;
    struct trace_file_spans spans;
    uint32_t used[4096]; /* call slots touched, to clear after the walk */
    size_t used_count;
    bool used_overflow; /* more than fit: clear them all */
};

static void fuzz_walk_clear(struct fuzz_walk *w)
{
    if (w->used_overflow) {
        memset(&w->calls, 0, sizeof(w->calls));
    } else {
        for (size_t i = 0; i < w->used_count; i++)
            memset(&w->calls.slots[w->used[i]], 0, sizeof(w->calls.slots[0]));
    }
    memset(&w->spans, 0, sizeof(w->spans));
    w->used_count = 0;
    w->used_overflow = false;
}

/* Feeds event `index` to the link matcher and the spans, as `labsim export` does. */
static void fuzz_walk_feed(struct fuzz_walk *w, const struct trace_file *tf,
                           const struct trace_file_event *ev, uint64_t index)
{
    const struct trace_file_kind *kind = trace_file_event_kind(tf, ev);
    if (kind->call_field >= 0) {
        if (w->used_count < sizeof(w->used) / sizeof(w->used[0]))
            w->used[w->used_count++] =
                (uint32_t)((uint64_t)ev->v[kind->call_field] % TRACE_FILE_CALLS_MAX);
        else
            w->used_overflow = true;
    }
    struct trace_file_ref self = {index, ev->at_us, ev->node, ev->node_index, (size_t)index};
    struct trace_file_ref from;
    enum trace_file_link_type type;
    if (trace_file_calls_feed(&w->calls, tf, ev, &self, &from, &type)) {
        fuzz_expect(from.index < index, "a link comes from an earlier event");
        fuzz_expect(from.at_us <= ev->at_us, "a link does not go back in time");
        fuzz_expect(type <= TRACE_FILE_LINK_LOST, "a known link type");
    }
    struct trace_file_span closed;
    if (trace_file_spans_feed(&w->spans, tf, ev, index, &closed)) {
        fuzz_expect(closed.begin_us <= closed.end_us, "a span ends after it begins");
        fuzz_expect(closed.node_index == ev->node_index, "a span closes on its own node");
        trace_file_role_name(closed.role);
    }
}

/* Reads the trace at fuzz_path to its end or its first problem. */
static void fuzz_read(struct trace_file_filter *filter, bool filter_ok, size_t lines)
{
    static struct fuzz_walk walk;
    struct trace_file *tf = NULL;
    struct trace_file_error err;
    memset(&err, 0, sizeof(err));
    int rc = trace_file_open(fuzz_path, &tf, &err);
    if (rc != TRACE_FILE_OK) {
        fuzz_expect(tf == NULL, "a failed open returns no trace");
        fuzz_expect_error(rc, &err, lines);
        return;
    }
    fuzz_expect_header(tf);
    if (filter_ok) {
        rc = trace_file_filter_check(filter, tf, &err);
        filter_ok = rc == TRACE_FILE_OK;
        if (!filter_ok) fuzz_expect_error(rc, &err, 0);
    }
    struct trace_file_event ev;
    uint64_t index = 0;
    uint64_t last_at_us = 0;
    while ((rc = trace_file_next(tf, &ev, &err)) == 1) {
        fuzz_expect(index <= lines, "no more events than lines");
        fuzz_expect_event(tf, &ev, last_at_us);
        fuzz_walk_feed(&walk, tf, &ev, index);
        if (filter_ok) trace_file_filter_match(filter, tf, &ev);
        last_at_us = ev.at_us;
        index++;
        fuzz_expect(tf->events_read == index, "events_read counts the events handed out");
    }
    if (rc == 0) {
        fuzz_expect(index == tf->events_count, "a clean end had every announced event");
        for (size_t i = 0; i < tf->nodes_count; i++) {
            struct trace_file_span closed;
            if (trace_file_spans_end(&walk.spans, i, last_at_us, &closed))
                fuzz_expect(closed.end_us >= closed.begin_us, "a last span ends after it begins");
        }
    } else {
        fuzz_expect_error(rc, &err, lines);
    }
    fuzz_walk_clear(&walk);
    trace_file_close(tf);
}

/* ---------------------------------------------------------------- options */

/* Applies the option values after the trace (NUL-separated). Returns false when one was
 * refused (with a checked one-line error): the tools stop there. */
static bool fuzz_options(struct trace_file_filter *filter, const char *opts, size_t len)
{
    char value[FUZZ_OPTIONS][256];
    size_t count = 0;
    size_t at = 0;
    trace_file_filter_init(filter);
    while (at < len && count < FUZZ_OPTIONS) {
        const char *nul = memchr(opts + at, '\0', len - at);
        size_t n = (size_t)((nul != NULL ? nul : opts + len) - (opts + at));
        snprintf(value[count++], sizeof(value[0]), "%.*s", (int)n, opts + at);
        at += n + 1;
    }
    struct trace_file_error err;
    memset(&err, 0, sizeof(err));
    int rc = TRACE_FILE_OK;
    if (count > 0) rc = trace_file_filter_topics(filter, value[0], &err);
    if (count > 1 && rc == TRACE_FILE_OK) rc = trace_file_filter_nodes(filter, value[1], &err);
    if (count > 2 && rc == TRACE_FILE_OK)
        rc = trace_file_parse_seconds(value[2], &filter->from_us, &err);
    if (count > 3 && rc == TRACE_FILE_OK)
        rc = trace_file_parse_seconds(value[3], &filter->to_us, &err);
    if (rc != TRACE_FILE_OK) {
        fuzz_expect_error(rc, &err, 0);
        fuzz_expect(err.line == 0, "an option's error names no line");
    }
    return rc == TRACE_FILE_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char text[FUZZ_TRACE_MAX];
    static struct trace_file_filter filter; /* 4 KB of node flags */
    const uint8_t *nul = memchr(data, '\0', size);
    size_t len = nul != NULL ? (size_t)(nul - data) : size;
    if (len > sizeof(text)) len = sizeof(text);
    memcpy(text, data, len);
    fuzz_fix_end(text, len);
    fuzz_file_write(text, len);
    bool filter_ok = true;
    if (nul != NULL)
        filter_ok = fuzz_options(&filter, (const char *)nul + 1, size - (size_t)(nul - data) - 1);
    else
        trace_file_filter_init(&filter);
    fuzz_read(&filter, filter_ok, fuzz_lines(text, len));
    return 0;
}
