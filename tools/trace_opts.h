/* trace_opts: the options every trace-reading tool shares (`labsim log`, `labsim export`):
 * --topics, --nodes, --from and --to turned into a trace_file_filter, and the open of the trace
 * FILE checked against that filter, with errors reported the same way by each tool.
 */
#ifndef TOOLS_TRACE_OPTS_H
#define TOOLS_TRACE_OPTS_H

#include "trace_file.h"

/* The filter options as args_parse fills them (ARGS_STR); NULL: not given. */
struct trace_opts {
    const char *topics;
    const char *nodes;
    const char *from;
    const char *to;
};

/* Sets *filter to everything, then narrows it by the options. Returns TRACE_FILE_OK, or
 * TRACE_FILE_EINVAL after printing "labsim TOOL: --FLAG: problem" on stderr. */
int trace_opts_filter(const struct trace_opts *opts, const char *tool,
                      struct trace_file_filter *filter);

/* Opens the trace at path into *tf (its header and kinds read; the caller reads the events and
 * closes it with trace_file_close) and checks filter against it (the window is not empty, every
 * node asked for is in the trace). Returns TRACE_FILE_OK, or an error code after reporting on
 * stderr, with *tf NULL. */
int trace_opts_open(const char *path, struct trace_file_filter *filter, const char *tool,
                    struct trace_file **tf);

#endif /* TOOLS_TRACE_OPTS_H */
