/* export: what `labsim export` renders from a trace, shared by its two output formats
 * (cmd_export.c writes Chrome / Perfetto trace-event JSON, export_html.c a self-contained HTML
 * timeline). The trace is walked once, in file order, through the filter: each kept event, each
 * message link whose two ends are both kept (reported right after its later end) and each role
 * span of a shown node, clipped to the window (reported when the node's next role change or the
 * end of the trace closes it), go to the format's sink as they are found. Memory is bounded:
 * the calls still open (trace_file_calls) and one open span per node.
 */
#ifndef TOOLS_EXPORT_H
#define TOOLS_EXPORT_H

#include <stdio.h>

#include "trace_file.h"

/* A message link between two kept events; their tags are their indexes among the kept events. */
struct export_link {
    struct trace_file_ref from;
    struct trace_file_ref to;
    enum trace_file_link_type type;
    size_t id; /* links reported before this one */
};

/* Where the walk reports; each callback gets the sink's `arg`. */
struct export_sink {
    void *arg;
    void (*event)(void *arg, const struct trace_file_event *ev, size_t kept_index);
    void (*link)(void *arg, const struct export_link *link);
    void (*span)(void *arg, const struct trace_file_span *span);
};

struct export_walk {
    struct trace_file *tf;
    const struct trace_file_filter *filter;
    size_t kept_count;  /* events reported */
    size_t links_count; /* links reported */
    size_t spans_count; /* spans reported */
    uint64_t begin_us;  /* the window shown: --from, */
    uint64_t end_us;    /* --to, else the last event's time (known after the walk) */
    struct trace_file_calls *calls;
    struct trace_file_spans spans;
};

/* Prepares a walk of `tf` (just opened) through `filter`; both must outlive it. Returns
 * TRACE_FILE_OK or TRACE_FILE_ENOMEM. Release with export_walk_close, also after a failure. */
int export_walk_init(struct export_walk *walk, struct trace_file *tf,
                     const struct trace_file_filter *filter);
void export_walk_close(struct export_walk *walk);

/* Reads every event and reports to `sink`. Returns TRACE_FILE_OK, or the trace's error with
 * `err` set; what was reported before a problem stays reported. */
int export_walk_run(struct export_walk *walk, const struct export_sink *sink,
                    struct trace_file_error *err);

/* True when the node of trace node index `node_index` is shown. */
bool export_walk_node_shown(const struct export_walk *walk, size_t node_index);

/* Writes `s` as a JSON string literal. Bytes that are not printable ASCII, and the HTML
 * specials < > &, become \u00XX escapes, so the output is valid JSON whatever the bytes, and
 * can sit inside an HTML <script> element. */
void export_json_string(FILE *out, const char *s);

/* Writes an int64 as a JSON number when a JavaScript double holds it exactly, else as a
 * string of its digits. */
void export_json_int(FILE *out, int64_t value);

/* export_html's answer when its scratch files fail (`err` says why); trace errors are <= 0. */
#define EXPORT_ESCRATCH 1

/* Walks the trace into a self-contained HTML page on `out` (inline CSS and JS, no fetches).
 * Returns TRACE_FILE_OK, EXPORT_ESCRATCH, or the trace's error (`err` set); the page is closed
 * properly in every case. */
int export_html(FILE *out, struct export_walk *walk, struct trace_file_error *err);

#endif /* TOOLS_EXPORT_H */
