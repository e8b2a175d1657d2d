/* cmd_export: `labsim export FILE --format perfetto|html [-o OUT]`, a trace turned into a
 * picture: Chrome / Perfetto trace-event JSON (open it in ui.perfetto.dev or chrome://tracing)
 * or a self-contained HTML timeline (export_html.c). Also owns the export model both formats
 * draw from, and the JSON helpers.
 *
 * Perfetto layout: one process per node (pid = node + 2, so the harness is pid 1, sorted first)
 * with two tracks: "events" (every event: rpc events as 1 us slices so flow arrows can bind to
 * them, the rest as instants, faults as process-wide or global instants) and "role" (one slice
 * per role held, named by the role, with the term in its args). Each request (send -> deliver)
 * and reply (deliver -> reply, or -> drop_reply) is a flow: an "s" event right after its source
 * slice and an "f" event with binding point "e" right after its target slice, both at the same
 * timestamps as those slices, so each flow binds to its own slice even when several share a
 * microsecond.
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

/* ---------------------------------------------------------------- the model */

bool export_model_node_shown(const struct export_model *model, size_t node_index)
{
    SIM_ASSERT(NULL, SIM_NODE_NONE, node_index < model->tf->nodes_count);
    return trace_file_filter_node(model->filter, model->tf->nodes[node_index]);
}

/* Keeps the spans of shown nodes whose role kind passes the topics, clipped to the window. */
static void model_clip_spans(struct export_model *model)
{
    size_t n = 0;
    for (size_t i = 0; i < model->spans_count; i++) {
        struct trace_file_span span = model->spans[i];
        const struct trace_file_event *ev = &model->tf->events[span.event];
        enum sim_topic topic = trace_file_event_kind(model->tf, ev)->topic;
        if ((model->filter->topic_mask & SIM_TOPIC_BIT(topic)) == 0 ||
            !export_model_node_shown(model, span.node_index))
            continue;
        if (span.end_us < model->begin_us || span.begin_us > model->end_us) continue;
        span.begin_us = span.begin_us > model->begin_us ? span.begin_us : model->begin_us;
        span.end_us = span.end_us < model->end_us ? span.end_us : model->end_us;
        model->spans[n++] = span;
    }
    model->spans_count = n;
}

int export_model_init(struct export_model *model, const struct trace_file *tf,
                      const struct trace_file_filter *filter)
{
    size_t count = tf->events_count;
    uint64_t last_us = count > 0 ? tf->events[count - 1].at_us : 0;
    memset(model, 0, sizeof(*model));
    model->tf = tf;
    model->filter = filter;
    model->keep = calloc(count > 0 ? count : 1, sizeof(*model->keep));
    model->kept_index = calloc(count > 0 ? count : 1, sizeof(*model->kept_index));
    if (model->keep == NULL || model->kept_index == NULL) return TRACE_FILE_ENOMEM;
    for (size_t i = 0; i < count; i++) {
        model->keep[i] = trace_file_filter_match(filter, tf, &tf->events[i]);
        model->kept_index[i] = model->kept_count;
        model->kept_count += model->keep[i];
    }
    model->begin_us = filter->from_us;
    model->end_us = filter->to_us != UINT64_MAX ? filter->to_us : last_us;
    if (model->end_us < model->begin_us) model->end_us = model->begin_us;
    if (trace_file_links(tf, &model->links, &model->links_count) != TRACE_FILE_OK)
        return TRACE_FILE_ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < model->links_count; i++) {
        if (model->keep[model->links[i].from] && model->keep[model->links[i].to])
            model->links[n++] = model->links[i];
    }
    SIM_ASSERT(NULL, SIM_NODE_NONE, model->kept_count <= count);
    SIM_ASSERT(NULL, SIM_NODE_NONE, n <= model->links_count);
    model->links_count = n;
    if (trace_file_spans(tf, last_us, &model->spans, &model->spans_count) != TRACE_FILE_OK)
        return TRACE_FILE_ENOMEM;
    model_clip_spans(model);
    return TRACE_FILE_OK;
}

void export_model_close(struct export_model *model)
{
    free(model->keep);
    free(model->kept_index);
    free(model->links);
    free(model->spans);
    memset(model, 0, sizeof(*model));
}

/* ---------------------------------------------------------------- Perfetto JSON */

struct perfetto_writer {
    FILE *out;
    const struct export_model *model;
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
    const struct trace_file *tf = w->model->tf;
    char name[32];
    for (size_t i = 0; i < tf->nodes_count; i++) {
        int32_t node = tf->nodes[i];
        if (!export_model_node_shown(w->model, i)) continue;
        if (node == SIM_NODE_NONE)
            snprintf(name, sizeof(name), "test (harness)");
        else
            snprintf(name, sizeof(name), "node %d", (int)node);
        perfetto_meta_name(w, node, 1, "process_name", name);
        perfetto_entry(w, "M", node, 1);
        fprintf(w->out, ",\"name\":\"process_sort_index\",\"args\":{\"sort_index\":%zu}}", i);
        perfetto_meta_name(w, node, 1, "thread_name", "events");
        perfetto_meta_name(w, node, 2, "thread_name", "role");
    }
}

static void perfetto_spans(struct perfetto_writer *w)
{
    char name[32];
    for (size_t i = 0; i < w->model->spans_count; i++) {
        const struct trace_file_span *span = &w->model->spans[i];
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
}

/* The name, category and args of an event entry, closing it. */
static void perfetto_event_body(struct perfetto_writer *w, const struct trace_file_event *ev)
{
    const struct trace_file_kind *kind = trace_file_event_kind(w->model->tf, ev);
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

static void perfetto_event(struct perfetto_writer *w, const struct trace_file_event *ev)
{
    const struct trace_file_kind *kind = trace_file_event_kind(w->model->tf, ev);
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

static void perfetto_flow(struct perfetto_writer *w, size_t link, bool start)
{
    const struct trace_file_link *l = &w->model->links[link];
    const struct trace_file_event *ev = &w->model->tf->events[start ? l->from : l->to];
    perfetto_entry(w, start ? "s" : "f", ev->node, 1);
    fprintf(w->out, ",\"ts\":%llu,\"id\":%zu,\"cat\":\"rpc\",\"name\":\"%s\"%s}",
            (unsigned long long)ev->at_us, link + 1, link_name(l->type),
            start ? "" : ",\"bp\":\"e\"");
}

/* Events in order, each followed by the flows that start and end on it. */
static int perfetto_events(struct perfetto_writer *w)
{
    const struct export_model *m = w->model;
    size_t count = m->tf->events_count;
    size_t *link_to = malloc((count > 0 ? count : 1) * sizeof(*link_to));
    size_t next_from = 0;
    if (link_to == NULL) return TRACE_FILE_ENOMEM;
    for (size_t i = 0; i < count; i++)
        link_to[i] = SIZE_MAX;
    for (size_t l = 0; l < m->links_count; l++) {
        /* An event ends at most one link: each delivery or reply answers one send. */
        SIM_ASSERT(NULL, SIM_NODE_NONE, link_to[m->links[l].to] == SIZE_MAX);
        link_to[m->links[l].to] = l;
    }
    for (size_t i = 0; i < count; i++) {
        if (!m->keep[i]) continue;
        perfetto_event(w, &m->tf->events[i]);
        if (link_to[i] != SIZE_MAX) perfetto_flow(w, link_to[i], false);
        while (next_from < m->links_count && m->links[next_from].from < i)
            next_from++;
        for (size_t l = next_from; l < m->links_count && m->links[l].from == i; l++)
            perfetto_flow(w, l, true);
    }
    free(link_to);
    return TRACE_FILE_OK;
}

static int export_perfetto(FILE *out, const struct export_model *model)
{
    const struct trace_file *tf = model->tf;
    struct perfetto_writer w = {out, model, 0};
    fputs("{\"displayTimeUnit\":\"ms\",\"otherData\":{\"title\":", out);
    export_json_string(out, tf->title);
    fprintf(out, ",\"seed\":\"%llu\",\"digest\":\"%016llx\",\"truncated\":%s},",
            (unsigned long long)tf->seed, (unsigned long long)tf->digest,
            tf->truncated ? "true" : "false");
    fputs("\"traceEvents\":[", out);
    perfetto_tracks(&w);
    perfetto_spans(&w);
    int rc = perfetto_events(&w);
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

/* Writes the model; returns the exit code. */
static int export_write(const struct export_opts *opts, const struct export_model *model)
{
    char path[EXPORT_PATH_MAX];
    bool to_stdout = false;
    FILE *out = export_open(opts, path, sizeof(path), &to_stdout);
    if (out == NULL) return 2;
    int rc = TRACE_FILE_OK;
    if (opts->format == EXPORT_PERFETTO)
        rc = export_perfetto(out, model);
    else
        export_html(out, model);
    bool write_ok = fflush(out) == 0 && !ferror(out);
    if (!to_stdout && fclose(out) != 0) write_ok = false;
    if (rc != TRACE_FILE_OK || !write_ok) {
        fprintf(stderr, "labsim export: error writing %s: %s\n", to_stdout ? "stdout" : path,
                rc != TRACE_FILE_OK ? trace_file_strerror(rc) : strerror(errno));
        return 1;
    }
    if (!to_stdout)
        printf("labsim export: wrote %s (%zu events, %zu messages)\n", path, model->kept_count,
               model->links_count);
    if (opts->format == EXPORT_HTML && model->kept_count > EXPORT_HTML_EVENTS_HEAVY)
        fprintf(stderr,
                "labsim export: note: %zu events make a slow page; --from/--to, --nodes or "
                "--topics keep fewer\n",
                model->kept_count);
    return 0;
}

int cmd_export(const struct labsim_cli *cli, int argc, char **argv)
{
    (void)cli;
    struct export_opts *opts = calloc(1, sizeof(*opts));
    struct export_model model;
    struct trace_file *tf = NULL;
    int rc = 2;
    memset(&model, 0, sizeof(model));
    if (opts == NULL) {
        fprintf(stderr, "labsim export: out of memory\n");
        return 2;
    }
    rc = export_parse_args(argc, argv, opts);
    if (rc >= 0) goto out_free;
    rc = 2;
    if (trace_opts_load(opts->path, &opts->filter, "export", &tf) != TRACE_FILE_OK) goto out_free;
    if (export_model_init(&model, tf, &opts->filter) != TRACE_FILE_OK) {
        fprintf(stderr, "labsim export: out of memory\n");
        goto out_free;
    }
    rc = export_write(opts, &model);
out_free:
    export_model_close(&model);
    trace_file_free(tf);
    free(opts);
    return rc;
}
