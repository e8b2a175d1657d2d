/* cmd_export: `labsim export FILE --format perfetto|html [-o OUT]`, a trace turned into a
 * picture: Chrome / Perfetto trace-event JSON (open it in ui.perfetto.dev or chrome://tracing)
 * or a self-contained HTML timeline (export_html.c). Also owns the export model both formats
 * draw from, and the JSON helpers.
 *
 * Perfetto layout: one process per node (pid = node + 2, so the harness is pid 1, sorted first)
 * with two tracks: "events" (every event: rpc events as 1 us slices so flow arrows can bind to
 * them, the rest as instants, faults as process-wide or global instants) and "role" (one slice
 * per role held, named by the role, with the term in its args). Each request (send -> deliver)
 * and reply (deliver -> reply, or -> drop_reply) is a flow, written when its target is read: an
 * "s" event at its source slice's timestamp and track, then an "f" event with binding point "e"
 * right after its target slice. Importers order events by timestamp, so the "s" binds to its
 * source slice; only when several rpc slices of one node share that microsecond may it bind to
 * the last of them. Role slices are written when the next role change of their node (or the
 * end of the trace) closes them.
 *
 * Both formats are written while the trace is read (export.h), in bounded memory. When the
 * trace turns out malformed part way (a bad line, a wrong event count, a version 2 end digest
 * that does not match), the document is closed properly over the events before the problem,
 * the problem is reported in one line and the exit code is 2; an output FILE is then removed,
 * so no picture stands for a corrupt trace, while stdout keeps what was written.
 *
 * Exit codes: 0 written, 2 bad arguments, an unreadable / malformed trace or an unwritable
 * output path, 1 a write error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cmds.h"
#include "export.h"
#include "trace_opts.h"

#define EXPORT_PATH_MAX 4096u
#define EXPORT_JS_INT_MAX ((1ll << 53) - 1)
#define EXPORT_HTML_EVENTS_HEAVY 200000u /* SVG elements a browser still draws briskly */

enum export_format { EXPORT_PERFETTO, EXPORT_HTML };

struct export_opts {
    const char *path;
    const char *out_path; /* NULL: the default for the format; "-": stdout */
    enum export_format format;
    struct trace_file_filter filter;
};

/* ---------------------------------------------------------------- JSON helpers */

void export_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f || *p == '<' || *p == '>' || *p == '&')
            fprintf(out, "\\u%04x", (unsigned)*p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

void export_json_int(FILE *out, int64_t value)
{
    if (value >= -EXPORT_JS_INT_MAX && value <= EXPORT_JS_INT_MAX)
        fprintf(out, "%lld", (long long)value);
    else
        fprintf(out, "\"%lld\"", (long long)value);
}

/* ---------------------------------------------------------------- the walk */

bool export_walk_node_shown(const struct export_walk *walk, size_t node_index)
{
    SIM_ASSERT(NULL, SIM_NODE_NONE, node_index < walk->tf->nodes_count);
    return trace_file_filter_node(walk->filter, walk->tf->nodes[node_index]);
}

int export_walk_init(struct export_walk *walk, struct trace_file *tf,
                     const struct trace_file_filter *filter)
{
    memset(walk, 0, sizeof(*walk));
    walk->tf = tf;
    walk->filter = filter;
    walk->begin_us = filter->from_us;
    walk->end_us = filter->to_us;
    walk->calls = calloc(1, sizeof(*walk->calls));
    return walk->calls != NULL ? TRACE_FILE_OK : TRACE_FILE_ENOMEM;
}

void export_walk_close(struct export_walk *walk)
{
    free(walk->calls);
    memset(walk, 0, sizeof(*walk));
}

/* Reports a closed span when its node is shown, its role kind's topic passes and it overlaps
 * the window, clipped to the window. */
static void walk_span(struct export_walk *walk, const struct export_sink *sink,
                      struct trace_file_span span)
{
    enum sim_topic topic = walk->tf->kinds[span.kind].topic;
    if ((walk->filter->topic_mask & SIM_TOPIC_BIT(topic)) == 0 ||
        !export_walk_node_shown(walk, span.node_index))
        return;
    if (span.end_us < walk->begin_us || span.begin_us > walk->end_us) return;
    span.begin_us = span.begin_us > walk->begin_us ? span.begin_us : walk->begin_us;
    span.end_us = span.end_us < walk->end_us ? span.end_us : walk->end_us;
    SIM_ASSERT(NULL, span.node, span.begin_us <= span.end_us);
    sink->span(sink->arg, &span);
    walk->spans_count++;
}

/* One event: reported when kept, then the link it ends, then the span it closes. */
static void walk_event(struct export_walk *walk, const struct export_sink *sink,
                       const struct trace_file_event *ev, uint64_t index)
{
    bool keep = trace_file_filter_match(walk->filter, walk->tf, ev);
    struct trace_file_ref self = {index, ev->at_us, ev->node, ev->node_index, SIZE_MAX};
    struct export_link link;
    struct trace_file_span closed;
    if (keep) {
        self.tag = walk->kept_count++;
        sink->event(sink->arg, ev, self.tag);
    }
    if (trace_file_calls_feed(walk->calls, walk->tf, ev, &self, &link.from, &link.type) && keep &&
        link.from.tag != SIZE_MAX) {
        SIM_ASSERT(NULL, ev->node, link.from.index < index);
        link.to = self;
        link.id = walk->links_count++;
        sink->link(sink->arg, &link);
    }
    if (trace_file_spans_feed(&walk->spans, walk->tf, ev, index, &closed))
        walk_span(walk, sink, closed);
}

int export_walk_run(struct export_walk *walk, const struct export_sink *sink,
                    struct trace_file_error *err)
{
    struct trace_file_event ev;
    uint64_t index = 0;
    uint64_t last_us = 0;
    int rc = 0;
    while ((rc = trace_file_next(walk->tf, &ev, err)) == 1) {
        walk_event(walk, sink, &ev, index++);
        last_us = ev.at_us;
    }
    if (walk->filter->to_us == UINT64_MAX) walk->end_us = last_us;
    if (walk->end_us < walk->begin_us) walk->end_us = walk->begin_us;
    /* Spans still open end with the trace (or where it stopped making sense). */
    for (size_t n = 0; n < walk->tf->nodes_count; n++) {
        struct trace_file_span closed;
        if (trace_file_spans_end(&walk->spans, n, last_us, &closed)) walk_span(walk, sink, closed);
    }
    SIM_ASSERT(NULL, SIM_NODE_NONE, walk->kept_count <= index);
    return rc;
}

/* ---------------------------------------------------------------- Perfetto JSON */

struct perfetto_writer {
    FILE *out;
    const struct export_walk *walk;
    size_t written; /* entries of traceEvents so far, for the commas */
};

/* Starts one traceEvents entry: separator, then `{"ph":"P","pid":N,"tid":T`. */
static void perfetto_entry(struct perfetto_writer *w, const char *ph, int32_t node, int tid)
{
    fputs(w->written == 0 ? "\n" : ",\n", w->out);
    fprintf(w->out, "{\"ph\":\"%s\",\"pid\":%ld,\"tid\":%d", ph, (long)node + 2, tid);
    w->written++;
}

static void perfetto_meta_name(struct perfetto_writer *w, int32_t node, int tid, const char *meta,
                               const char *name)
{
    perfetto_entry(w, "M", node, tid);
    fprintf(w->out, ",\"name\":\"%s\",\"args\":{\"name\":", meta);
    export_json_string(w->out, name);
    fputs("}}", w->out);
}

static void perfetto_tracks(struct perfetto_writer *w)
{
    const struct trace_file *tf = w->walk->tf;
    char name[32];
    for (size_t i = 0; i < tf->nodes_count; i++) {
        int32_t node = tf->nodes[i];
        if (!export_walk_node_shown(w->walk, i)) continue;
        const char *named = trace_file_node_name(tf, i);
        if (node == SIM_NODE_NONE)
            snprintf(name, sizeof(name), "test (harness)");
        else if (named != NULL)
            snprintf(name, sizeof(name), "%s (node %d)", named, (int)node);
        else
            snprintf(name, sizeof(name), "node %d", (int)node);
        perfetto_meta_name(w, node, 1, "process_name", name);
        perfetto_entry(w, "M", node, 1);
        fprintf(w->out, ",\"name\":\"process_sort_index\",\"args\":{\"sort_index\":%zu}}", i);
        perfetto_meta_name(w, node, 1, "thread_name", "events");
        perfetto_meta_name(w, node, 2, "thread_name", "role");
    }
}

static void perfetto_span(void *arg, const struct trace_file_span *span)
{
    struct perfetto_writer *w = arg;
    char name[32];
    const char *role = trace_file_role_name(span->role);
    if (role == NULL) snprintf(name, sizeof(name), "role %lld", (long long)span->role);
    perfetto_entry(w, "X", span->node, 2);
    fprintf(w->out, ",\"ts\":%llu,\"dur\":%llu,\"cat\":\"role\",\"name\":",
            (unsigned long long)span->begin_us,
            (unsigned long long)(span->end_us - span->begin_us));
    export_json_string(w->out, role != NULL ? role : name);
    fputs(",\"args\":{\"term\":", w->out);
    export_json_int(w->out, span->term);
    fputs(",\"role\":", w->out);
    export_json_int(w->out, span->role);
    fputs("}}", w->out);
}

/* The name, category and args of an event entry, closing it. */
static void perfetto_event_body(struct perfetto_writer *w, const struct trace_file_event *ev)
{
    const struct trace_file_kind *kind = trace_file_event_kind(w->walk->tf, ev);
    fprintf(w->out, ",\"ts\":%llu,\"cat\":\"%s\",\"name\":", (unsigned long long)ev->at_us,
            sim_topic_name(kind->topic));
    export_json_string(w->out, kind->name);
    fputs(",\"args\":{", w->out);
    for (int k = 0; k < kind->fields_count; k++) {
        fputs(k == 0 ? "" : ",", w->out);
        export_json_string(w->out, kind->fields[k]);
        fputc(':', w->out);
        export_json_int(w->out, ev->v[k]);
    }
    if (ev->text[0] != '\0') {
        fputs(kind->fields_count == 0 ? "\"text\":" : ",\"text\":", w->out);
        export_json_string(w->out, ev->text);
    }
    fputs("}}", w->out);
}

static void perfetto_event(void *arg, const struct trace_file_event *ev, size_t kept_index)
{
    struct perfetto_writer *w = arg;
    const struct trace_file_kind *kind = trace_file_event_kind(w->walk->tf, ev);
    (void)kept_index;
    if (kind->cls >= TRACE_FILE_RPC_SEND && kind->cls <= TRACE_FILE_RPC_FAIL) {
        perfetto_entry(w, "X", ev->node, 1);
        fputs(",\"dur\":1", w->out);
    } else {
        perfetto_entry(w, "i", ev->node, 1);
        const char *scope = "t";
        if (kind->topic == SIM_TOPIC_FAULT) scope = ev->node == SIM_NODE_NONE ? "g" : "p";
        fprintf(w->out, ",\"s\":\"%s\"", scope);
    }
    perfetto_event_body(w, ev);
}

static const char *link_name(enum trace_file_link_type type)
{
    return type == TRACE_FILE_LINK_REQUEST ? "request"
           : type == TRACE_FILE_LINK_REPLY ? "reply"
                                           : "lost reply";
}

/* The flow of a link, right after its target's slice: its start, then its end. */
static void perfetto_link(void *arg, const struct export_link *link)
{
    struct perfetto_writer *w = arg;
    for (int start = 1; start >= 0; start--) {
        const struct trace_file_ref *at = start ? &link->from : &link->to;
        perfetto_entry(w, start ? "s" : "f", at->node, 1);
        fprintf(w->out, ",\"ts\":%llu,\"id\":%zu,\"cat\":\"rpc\",\"name\":\"%s\"%s}",
                (unsigned long long)at->at_us, link->id + 1, link_name(link->type),
                start ? "" : ",\"bp\":\"e\"");
    }
}

static int export_perfetto(FILE *out, struct export_walk *walk, struct trace_file_error *err)
{
    const struct trace_file *tf = walk->tf;
    struct perfetto_writer w = {out, walk, 0};
    const struct export_sink sink = {&w, perfetto_event, perfetto_link, perfetto_span};
    fputs("{\"displayTimeUnit\":\"ms\",\"otherData\":{\"title\":", out);
    export_json_string(out, tf->title);
    fprintf(out, ",\"seed\":\"%llu\",\"digest\":\"%016llx\",\"truncated\":%s},",
            (unsigned long long)tf->seed, (unsigned long long)tf->digest,
            tf->truncated ? "true" : "false");
    fputs("\"traceEvents\":[", out);
    perfetto_tracks(&w);
    int rc = export_walk_run(walk, &sink, err);
    fputs("\n]}\n", out);
    return rc;
}

/* ---------------------------------------------------------------- arguments */

static void export_usage(FILE *out)
{
    fprintf(out, "usage: labsim export FILE --format perfetto|html [-o OUT]\n"
                 "                          [--topics a,b] [--nodes 0,2,test] [--from S] [--to S]\n"
                 "Turns a trace (labsim-trace format) into a picture.\n"
                 "  --format perfetto  Chrome / Perfetto trace-event JSON, one process per node,\n"
                 "                     RPCs as flows, roles as slices; open it in ui.perfetto.dev\n"
                 "                     or chrome://tracing. Written to stdout unless -o is given.\n"
                 "  --format html      a self-contained HTML timeline (works offline); written to\n"
                 "                     FILE.html unless -o is given.\n"
                 "  -o, --output OUT   output path ('-' for stdout)\n"
                 "  --topics, --nodes, --from, --to  keep only those events (as in labsim log)\n");
}

static int export_bad(const char *msg)
{
    fprintf(stderr, "labsim export: %s (try 'labsim export --help')\n", msg);
    return 2;
}

/* The options of `labsim export` as args_parse fills them. */
struct export_args {
    const char *format;
    const char *output;
    struct trace_opts filter; /* --topics, --nodes, --from, --to */
    bool help;
};

/* Turns the parsed strings into opts. Returns 0, or 2 after reporting. */
static int export_apply(const struct export_args *a, struct export_opts *opts)
{
    if (a->format != NULL && strcmp(a->format, "perfetto") != 0 && strcmp(a->format, "html") != 0)
        return export_bad("--format is perfetto or html");
    opts->format =
        a->format != NULL && strcmp(a->format, "html") == 0 ? EXPORT_HTML : EXPORT_PERFETTO;
    opts->out_path = a->output;
    return trace_opts_filter(&a->filter, "export", &opts->filter) == TRACE_FILE_OK ? 0 : 2;
}

#define EXPORT_ARGV_MAX 64

/* Returns -1 to go on, else the exit code (0 after --help). -o and -h are spelled the short
 * way too: they are rewritten to --output and --help for args_parse. */
static int export_parse_args(int argc, char **argv, struct export_opts *opts)
{
    struct export_args a;
    char *long_argv[EXPORT_ARGV_MAX];
    char output_flag[] = "--output";
    char help_flag[] = "--help";
    memset(&a, 0, sizeof(a));
    if (argc > EXPORT_ARGV_MAX) return export_bad("too many arguments");
    bool flags_done = false;
    for (int i = 0; i < argc; i++) {
        bool is_value = i > 0 && strcmp(argv[i - 1], "-o") == 0;
        long_argv[i] = argv[i];
        flags_done = flags_done || (i > 0 && strcmp(argv[i], "--") == 0);
        if (i == 0 || flags_done || is_value) continue;
        if (strcmp(argv[i], "-o") == 0)
            long_argv[i] = output_flag;
        else if (strcmp(argv[i], "-h") == 0)
            long_argv[i] = help_flag;
    }
    const struct args_flag flags[] = {
        {"format", ARGS_STR, &a.format, NULL},        {"output", ARGS_STR, &a.output, NULL},
        {"topics", ARGS_STR, &a.filter.topics, NULL}, {"nodes", ARGS_STR, &a.filter.nodes, NULL},
        {"from", ARGS_STR, &a.filter.from, NULL},     {"to", ARGS_STR, &a.filter.to, NULL},
        {"help", ARGS_BOOL, &a.help, NULL},
    };
    const char *positional[1] = {NULL};
    size_t positional_count = 0;
    char err[ARGS_ERR_MAX];
    if (args_parse(argc, long_argv, flags, sizeof(flags) / sizeof(flags[0]), positional, 1,
                   &positional_count, err, sizeof(err)) != 0)
        return export_bad(err);
    if (a.help) {
        export_usage(stdout);
        return 0;
    }
    if (positional_count == 0) return export_bad("missing trace FILE");
    opts->path = positional[0];
    return export_apply(&a, opts) == 0 ? -1 : 2;
}

/* ---------------------------------------------------------------- the command */

/* Opens the output; *to_stdout says whether it is stdout. NULL (reported) on failure. */
static FILE *export_open(const struct export_opts *opts, char *path, size_t path_size,
                         bool *to_stdout)
{
    const char *out_path = opts->out_path;
    if (out_path == NULL && opts->format == EXPORT_PERFETTO) out_path = "-";
    if (out_path == NULL) {
        int n = snprintf(path, path_size, "%s.html", opts->path);
        if (n < 0 || (size_t)n >= path_size) {
            export_bad("trace path too long");
            return NULL;
        }
        out_path = path;
    } else {
        snprintf(path, path_size, "%s", out_path);
    }
    *to_stdout = strcmp(out_path, "-") == 0;
    if (*to_stdout) return stdout;
    FILE *out = fopen(out_path, "w");
    if (out == NULL)
        fprintf(stderr, "labsim export: cannot write %s: %s\n", out_path, strerror(errno));
    return out;
}

/* Walks the trace into the output; returns the exit code. */
static int export_write(const struct export_opts *opts, struct export_walk *walk)
{
    char path[EXPORT_PATH_MAX];
    bool to_stdout = false;
    struct trace_file_error err = {0, ""};
    FILE *out = export_open(opts, path, sizeof(path), &to_stdout);
    if (out == NULL) return 2;
    int rc = opts->format == EXPORT_PERFETTO ? export_perfetto(out, walk, &err)
                                             : export_html(out, walk, &err);
    bool write_ok = fflush(out) == 0 && !ferror(out);
    int write_errno = errno;
    if (!to_stdout && fclose(out) != 0) write_ok = false;
    if (rc != TRACE_FILE_OK && rc != EXPORT_ESCRATCH) {
        /* The trace is at fault: no output file may look like a picture of it. */
        if (!to_stdout) remove(path);
        trace_file_error_print(opts->path, &err);
        return 2;
    }
    if (rc != TRACE_FILE_OK || !write_ok) {
        fprintf(stderr, "labsim export: error writing %s: %s\n", to_stdout ? "stdout" : path,
                rc != TRACE_FILE_OK ? err.msg : strerror(write_errno));
        return 1;
    }
    if (!to_stdout)
        printf("labsim export: wrote %s (%zu events, %zu messages)\n", path, walk->kept_count,
               walk->links_count);
    if (opts->format == EXPORT_HTML && walk->kept_count > EXPORT_HTML_EVENTS_HEAVY)
        fprintf(stderr,
                "labsim export: note: %zu events make a slow page; --from/--to, --nodes or "
                "--topics keep fewer\n",
                walk->kept_count);
    return 0;
}

int cmd_export(const struct labsim_cli *cli, int argc, char **argv)
{
    (void)cli;
    struct export_opts *opts = calloc(1, sizeof(*opts));
    struct export_walk walk;
    struct trace_file *tf = NULL;
    int rc = 2;
    memset(&walk, 0, sizeof(walk));
    if (opts == NULL) {
        fprintf(stderr, "labsim export: out of memory\n");
        return 2;
    }
    rc = export_parse_args(argc, argv, opts);
    if (rc >= 0) goto out_free;
    rc = 2;
    if (trace_opts_open(opts->path, &opts->filter, "export", &tf) != TRACE_FILE_OK) goto out_free;
    if (export_walk_init(&walk, tf, &opts->filter) != TRACE_FILE_OK) {
        fprintf(stderr, "labsim export: out of memory\n");
        goto out_free;
    }
    rc = export_write(opts, &walk);
out_free:
    export_walk_close(&walk);
    trace_file_close(tf);
    free(opts);
    return rc;
}
