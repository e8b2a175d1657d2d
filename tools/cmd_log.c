/* cmd_log: `labsim log FILE`, a trace read as one column per node, like dslogs but built from
 * the structured trace instead of printf lines.
 *
 * Columns: the harness ("test", node -1) first, then nodes in ascending order, each headed by
 * its name when the trace names it ("g101/2"), else "node N" (--flat prints the name or the
 * number the same way); each event is printed in its node's column, word-wrapped at the column
 * width, with its virtual time in seconds at the left. Colours by topic go to a terminal only
 * (isatty, NO_COLOR unset or empty); --plain never colours, --color always does (for `less -R`).
 * --flat prints one line per event instead: time node kind field=value... text.
 *
 * The trace is read as it is printed, one event at a time, so memory stays bounded whatever
 * its size and `labsim log FILE | head` stops early. A problem in the body (a malformed line,
 * fewer or more events than the header says, a version 2 file whose bytes do not match its end
 * digest) is found where it is, so the events before it are already printed: the error line
 * follows them on stderr and the exit code is 2.
 *
 * Exit codes: 0 printed, 2 bad arguments or an unreadable / malformed trace (also after its
 * valid part was printed), 1 write error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "args.h"
#include "cmds.h"
#include "trace_file.h"
#include "trace_opts.h"

#define LOG_WIDTH_DEFAULT 100
#define LOG_WIDTH_MIN 20
#define LOG_WIDTH_MAX 1000
#define LOG_TIME_WIDTH 11 /* "999999.999 " */
#define LOG_COLUMN_MIN 16 /* narrower columns would wrap every word */
#define LOG_CELL_MAX 1536 /* a name, 6 fields and 63 escaped text bytes fit */

enum log_color { LOG_COLOR_AUTO, LOG_COLOR_NEVER, LOG_COLOR_ALWAYS };

struct log_opts {
    const char *path;
    bool flat;
    enum log_color color;
    int width; /* 0: from COLUMNS, the terminal or LOG_WIDTH_DEFAULT */
    struct trace_file_filter filter;
};

/* ANSI SGR parameters per topic. */
static const char *const log_topic_sgr[SIM_TOPIC_COUNT] = {
    [SIM_TOPIC_KERNEL] = "2",    [SIM_TOPIC_NET] = "34",     [SIM_TOPIC_TIMER] = "33",
    [SIM_TOPIC_ROLE] = "1;35",   [SIM_TOPIC_VOTE] = "36",    [SIM_TOPIC_LOG] = "32",
    [SIM_TOPIC_COMMIT] = "1;32", [SIM_TOPIC_APPLY] = "1;36", [SIM_TOPIC_PERSIST] = "2;37",
    [SIM_TOPIC_SNAP] = "35",     [SIM_TOPIC_FAULT] = "1;31", [SIM_TOPIC_CLIENT] = "1;34",
    [SIM_TOPIC_TEST] = "1",
};
_Static_assert(SIM_TOPIC_COUNT == 13, "every topic has a colour in log_topic_sgr");

static void log_usage(FILE *out)
{
    fprintf(out,
            "usage: labsim log FILE [--columns | --flat] [--topics a,b] [--nodes 0,2,test]\n"
            "                       [--from SECONDS] [--to SECONDS] [--width N]\n"
            "                       [--plain | --color]\n"
            "Prints a trace written by a traced run (labsim-trace format), one column per node\n"
            "(the harness 'test' first), times in virtual seconds.\n"
            "  --columns      one column per node (the default)\n"
            "  --flat         one line per event: time node kind field=value... text\n"
            "  --topics LIST  only these topics (kernel,net,timer,role,vote,log,commit,apply,\n"
            "                 persist,snap,fault,client,test)\n"
            "  --nodes LIST   only these nodes (ids or names, and 'test' for the harness)\n"
            "  --from S, --to S  only events in this window of virtual seconds\n"
            "  --width N      total line width (default: $COLUMNS, else the terminal's, else\n"
            "                 100)\n"
            "  --plain        never colour; --color: always colour (default: on a terminal,\n"
            "                 unless NO_COLOR is set)\n");
}

static bool log_parse_width(const char *text, int *width)
{
    uint64_t value = 0;
    if (!args_parse_u64(text, &value) || value < LOG_WIDTH_MIN || value > LOG_WIDTH_MAX)
        return false;
    *width = (int)value;
    return true;
}

/* The options of `labsim log` as args_parse fills them. */
struct log_args {
    struct trace_opts filter; /* --topics, --nodes, --from, --to */
    const char *width;
    bool flat;
    bool columns;
    bool plain;
    bool color;
    bool help;
};

static int log_bad(const char *msg)
{
    fprintf(stderr, "labsim log: %s (try 'labsim log --help')\n", msg);
    return 2;
}

/* Turns the parsed strings into opts. Returns 0, or 2 after reporting. */
static int log_apply(const struct log_args *a, struct log_opts *opts)
{
    if (a->flat && a->columns) return log_bad("--flat and --columns cannot be combined");
    if (a->plain && a->color) return log_bad("--plain and --color cannot be combined");
    opts->flat = a->flat;
    opts->color = a->plain ? LOG_COLOR_NEVER : a->color ? LOG_COLOR_ALWAYS : LOG_COLOR_AUTO;
    if (a->width != NULL && !log_parse_width(a->width, &opts->width))
        return log_bad("--width wants a number of characters in 20..1000");
    return trace_opts_filter(&a->filter, "log", &opts->filter) == TRACE_FILE_OK ? 0 : 2;
}

/* Returns -1 to go on, else the exit code (0 after --help). */
static int log_parse_args(int argc, char **argv, struct log_opts *opts)
{
    struct log_args a;
    memset(&a, 0, sizeof(a));
    const struct args_flag flags[] = {
        {"topics", ARGS_STR, &a.filter.topics, NULL}, {"nodes", ARGS_STR, &a.filter.nodes, NULL},
        {"from", ARGS_STR, &a.filter.from, NULL},     {"to", ARGS_STR, &a.filter.to, NULL},
        {"width", ARGS_STR, &a.width, NULL},          {"flat", ARGS_BOOL, &a.flat, NULL},
        {"columns", ARGS_BOOL, &a.columns, NULL},     {"plain", ARGS_BOOL, &a.plain, NULL},
        {"color", ARGS_BOOL, &a.color, NULL},         {"help", ARGS_BOOL, &a.help, NULL},
    };
    const char *positional[1] = {NULL};
    size_t positional_count = 0;
    char err[ARGS_ERR_MAX];
    if (args_parse(argc, argv, flags, sizeof(flags) / sizeof(flags[0]), positional, 1,
                   &positional_count, err, sizeof(err)) != 0)
        return log_bad(err);
    if (a.help) {
        log_usage(stdout);
        return 0;
    }
    if (positional_count == 0) return log_bad("missing trace FILE");
    opts->path = positional[0];
    return log_apply(&a, opts) == 0 ? -1 : 2;
}

/* ---------------------------------------------------------------- formatting */

struct log_buf {
    char s[LOG_CELL_MAX];
    size_t len;
};

static void log_putc(struct log_buf *b, char ch)
{
    if (b->len + 1 < sizeof(b->s)) b->s[b->len++] = ch;
    b->s[b->len] = '\0';
}

static void log_puts(struct log_buf *b, const char *s)
{
    for (; *s != '\0'; s++)
        log_putc(b, *s);
}

/* Appends text with everything a terminal could act on escaped, the way the file escapes. */
static void log_put_text(struct log_buf *b, const char *text)
{
    static const char hex[] = "0123456789abcdef";
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if (*p == '\\' || *p == '\t' || *p == '\n') {
            log_putc(b, '\\');
            log_putc(b, *p == '\\' ? '\\' : *p == '\t' ? 't' : 'n');
        } else if (*p < 0x20 || *p >= 0x7f) {
            log_puts(b, "\\x");
            log_putc(b, hex[*p >> 4]);
            log_putc(b, hex[*p & 15]);
        } else {
            log_putc(b, (char)*p);
        }
    }
}

/* "kind field=value ... text"; role values of role kinds by name. */
static void log_format_event(const struct trace_file *tf, const struct trace_file_event *ev,
                             struct log_buf *b)
{
    const struct trace_file_kind *kind = trace_file_event_kind(tf, ev);
    char num[32];
    b->len = 0;
    b->s[0] = '\0';
    log_puts(b, kind->name);
    for (int k = 0; k < kind->fields_count; k++) {
        const char *role = NULL;
        char set[64];
        if (kind->cls == TRACE_FILE_ROLE && k == kind->role_field)
            role = trace_file_role_name(ev->v[k]);
        else {
            role = trace_file_value_name(kind->name, kind->fields[k], ev->v[k]);
            if (role == NULL)
                role =
                    trace_file_member_set(kind->name, kind->fields[k], ev->v[k], set, sizeof(set));
        }
        snprintf(num, sizeof(num), "%lld", (long long)ev->v[k]);
        log_putc(b, ' ');
        log_puts(b, kind->fields[k]);
        log_putc(b, '=');
        log_puts(b, role != NULL ? role : num);
    }
    if (ev->text[0] != '\0') {
        log_putc(b, ' ');
        log_put_text(b, ev->text);
    }
}

static const char *log_time(uint64_t at_us, char *buf, size_t size)
{
    uint64_t ms = at_us / SIM_US_PER_MS;
    snprintf(buf, size, "%6llu.%03llu", (unsigned long long)(ms / 1000),
             (unsigned long long)(ms % 1000));
    return buf;
}

/* ---------------------------------------------------------------- printing */

struct log_view {
    const struct trace_file *tf;
    const struct log_opts *opts;
    FILE *out;
    bool color;
    int column_of[TRACE_FILE_NODES_MAX]; /* node index -> column, -1 when hidden */
    int columns_count;
    int column_width;
};

/* The total width: --width, else $COLUMNS, else the terminal's width, else 100. */
static int log_width(const struct log_opts *opts, FILE *out)
{
    const char *env_columns = getenv("COLUMNS");
    struct winsize ws;
    int width = opts->width;
    if (width != 0) return width;
    if (env_columns != NULL && log_parse_width(env_columns, &width)) return width;
    memset(&ws, 0, sizeof(ws));
    if (isatty(fileno(out)) && ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 &&
        ws.ws_col >= LOG_WIDTH_MIN)
        return ws.ws_col > LOG_WIDTH_MAX ? LOG_WIDTH_MAX : ws.ws_col;
    return LOG_WIDTH_DEFAULT;
}

static void log_view_init(struct log_view *view, const struct trace_file *tf,
                          const struct log_opts *opts, FILE *out)
{
    const char *no_color = getenv("NO_COLOR");
    int width = log_width(opts, out);
    view->tf = tf;
    view->opts = opts;
    view->out = out;
    view->color =
        opts->color == LOG_COLOR_ALWAYS || (opts->color == LOG_COLOR_AUTO && isatty(fileno(out)) &&
                                            (no_color == NULL || no_color[0] == '\0'));
    view->columns_count = 0;
    for (size_t i = 0; i < tf->nodes_count; i++) {
        bool shown = trace_file_filter_node(&opts->filter, tf->nodes[i]);
        view->column_of[i] = shown ? view->columns_count++ : -1;
    }
    int columns = view->columns_count > 0 ? view->columns_count : 1;
    view->column_width = (width - LOG_TIME_WIDTH) / columns;
    if (view->column_width < LOG_COLUMN_MIN) view->column_width = LOG_COLUMN_MIN;
}

static void log_spaces(FILE *out, int count)
{
    for (int i = 0; i < count; i++)
        fputc(' ', out);
}

static void log_header(const struct log_view *view)
{
    const struct trace_file *tf = view->tf;
    char label[32];
    struct log_buf title;
    title.len = 0;
    title.s[0] = '\0';
    log_put_text(&title, tf->title);
    fprintf(view->out, "%s%s", view->color ? "\x1b[1m" : "", title.s);
    if (tf->has_seed) fprintf(view->out, "  seed %llu", (unsigned long long)tf->seed);
    fprintf(view->out, "  %llu events%s%s\n", (unsigned long long)tf->events_count,
            tf->truncated ? " (truncated)" : "", view->color ? "\x1b[0m" : "");
    fprintf(view->out, "%*s ", LOG_TIME_WIDTH - 1, "time (s)");
    for (size_t i = 0; i < tf->nodes_count; i++) {
        if (view->column_of[i] < 0) continue;
        bool last = view->column_of[i] == view->columns_count - 1;
        const char *text = trace_file_node_label(tf, tf->nodes[i], "node ", label, sizeof(label));
        fprintf(view->out, "%-*s", last ? 0 : view->column_width, text);
    }
    fputc('\n', view->out);
    log_spaces(view->out, LOG_TIME_WIDTH);
    for (int c = 0; c < view->columns_count; c++) {
        for (int k = 0; k < view->column_width - 1; k++)
            fputc('-', view->out);
        if (c + 1 < view->columns_count) fputc(' ', view->out);
    }
    fputc('\n', view->out);
}

/* Prints one cell, word-wrapped to the column's width, on as many lines as it needs. */
static void log_cell(const struct log_view *view, const char *time, int column,
                     enum sim_topic topic, const char *cell)
{
    size_t width = (size_t)view->column_width - 1;
    size_t len = strlen(cell);
    size_t off = 0;
    SIM_ASSERT(NULL, SIM_NODE_NONE, column >= 0);
    SIM_ASSERT(NULL, SIM_NODE_NONE, column < view->columns_count);
    SIM_ASSERT(NULL, SIM_NODE_NONE, width >= LOG_COLUMN_MIN - 1);
    do {
        size_t chunk = len - off < width ? len - off : width;
        size_t skip = 0;
        if (off + chunk < len) {
            size_t cut = chunk;
            while (cut > 0 && cell[off + cut] != ' ')
                cut--;
            if (cut > 0) {
                chunk = cut;
                skip = 1;
            }
        }
        fprintf(view->out, "%*s ", LOG_TIME_WIDTH - 1, off == 0 ? time : "");
        log_spaces(view->out, column * view->column_width);
        if (view->color) fprintf(view->out, "\x1b[%sm", log_topic_sgr[topic]);
        fwrite(cell + off, 1, chunk, view->out);
        fputs(view->color ? "\x1b[0m\n" : "\n", view->out);
        off += chunk + skip;
    } while (off < len);
}

static void log_flat(const struct log_view *view, const struct trace_file_event *ev,
                     const char *time, const struct log_buf *cell)
{
    char node[32];
    const struct trace_file_kind *kind = trace_file_event_kind(view->tf, ev);
    const char *name = trace_file_node_name(view->tf, ev->node_index);
    if (name != NULL)
        snprintf(node, sizeof(node), "%s", name);
    else if (ev->node == SIM_NODE_NONE)
        snprintf(node, sizeof(node), "test");
    else
        snprintf(node, sizeof(node), "%d", (int)ev->node);
    fprintf(view->out, "%s %-4s ", time, node);
    if (view->color)
        fprintf(view->out, "\x1b[%sm%s\x1b[0m\n", log_topic_sgr[kind->topic], cell->s);
    else
        fprintf(view->out, "%s\n", cell->s);
}

/* Prints the events as they are read. Returns 0, or a TRACE_FILE_* error (reported) when the
 * trace turns out malformed part way. Stops early when the output fails (a closed pipe). */
static int log_print(const struct log_view *view, struct trace_file *tf)
{
    struct trace_file_event ev;
    struct trace_file_error err = {0, ""};
    struct log_buf cell;
    char time[32];
    size_t shown = 0;
    int rc = 1;
    if (!view->opts->flat) log_header(view);
    while (!ferror(view->out) && (rc = trace_file_next(tf, &ev, &err)) == 1) {
        if (!trace_file_filter_match(&view->opts->filter, tf, &ev)) continue;
        log_format_event(tf, &ev, &cell);
        log_time(ev.at_us, time, sizeof(time));
        if (view->opts->flat)
            log_flat(view, &ev, time, &cell);
        else
            log_cell(view, time, view->column_of[ev.node_index],
                     trace_file_event_kind(tf, &ev)->topic, cell.s);
        shown++;
    }
    if (rc < 0) {
        fflush(view->out);
        trace_file_error_print(view->opts->path, &err);
        return rc;
    }
    if (!view->opts->flat && shown == 0) fprintf(view->out, "(no events match)\n");
    if (!view->opts->flat && tf->truncated)
        fprintf(view->out, "(recording stopped early: the run traced %llu events)\n",
                (unsigned long long)tf->events_traced);
    return TRACE_FILE_OK;
}

int cmd_log(const struct labsim_cli *cli, int argc, char **argv)
{
    (void)cli;
    struct log_opts *opts = calloc(1, sizeof(*opts));
    struct log_view *view = calloc(1, sizeof(*view));
    struct trace_file *tf = NULL;
    int rc = 2;
    if (opts == NULL || view == NULL) {
        fprintf(stderr, "labsim log: out of memory\n");
        goto out_free;
    }
    rc = log_parse_args(argc, argv, opts);
    if (rc >= 0) goto out_free;
    rc = 2;
    if (trace_opts_open(opts->path, &opts->filter, "log", &tf) != TRACE_FILE_OK) goto out_free;
    log_view_init(view, tf, opts, stdout);
    if (log_print(view, tf) != TRACE_FILE_OK) goto out_free;
    rc = fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
    if (rc != 0) fprintf(stderr, "labsim log: error writing the output\n");
out_free:
    trace_file_close(tf);
    free(view);
    free(opts);
    return rc;
}
