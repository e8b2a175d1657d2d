/* export: what `labsim export` renders from a trace, shared by its two output formats
 * (cmd_export.c writes Chrome / Perfetto trace-event JSON, export_html.c a self-contained HTML
 * timeline). The model is the trace seen through the filter: the events kept, the message links
 * whose two ends are both kept, and the role spans of the shown nodes clipped to the window.
 */
#ifndef TOOLS_EXPORT_H
#define TOOLS_EXPORT_H

#include <stdio.h>

#include "trace_file.h"

struct export_model {
    const struct trace_file *tf;
    const struct trace_file_filter *filter;
    bool *keep;         /* per event of tf: shown */
    size_t *kept_index; /* per event of tf: its index among the kept events */
    size_t kept_count;
    struct trace_file_link *links; /* links between kept events, by from then to */
    size_t links_count;
    struct trace_file_span *spans; /* spans of shown nodes, clipped to [begin_us, end_us] */
    size_t spans_count;
    uint64_t begin_us; /* the window shown */
    uint64_t end_us;
};

/* Builds the model of `tf` through `filter` (both must outlive it). Returns TRACE_FILE_OK or
 * TRACE_FILE_ENOMEM. Release with export_model_close, also after a failure. */
int export_model_init(struct export_model *model, const struct trace_file *tf,
                      const struct trace_file_filter *filter);
void export_model_close(struct export_model *model);

/* True when the node of trace node index `node_index` is shown. */
bool export_model_node_shown(const struct export_model *model, size_t node_index);

/* Writes `s` as a JSON string literal. Bytes that are not printable ASCII, and the HTML
 * specials < > &, become \u00XX escapes, so the output is valid JSON whatever the bytes, and
 * can sit inside an HTML <script> element. */
void export_json_string(FILE *out, const char *s);

/* Writes an int64 as a JSON number when a JavaScript double holds it exactly, else as a
 * string of its digits. */
void export_json_int(FILE *out, int64_t value);

/* Writes the model as a self-contained HTML page (inline CSS and JS, no fetches). */
void export_html(FILE *out, const struct export_model *model);

#endif /* TOOLS_EXPORT_H */
