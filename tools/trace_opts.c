/* trace_opts: the filter options and the checked trace open shared by the trace tools (see
 * trace_opts.h).
 */
#include "trace_opts.h"

#include <stdio.h>

int trace_opts_filter(const struct trace_opts *opts, const char *tool,
                      struct trace_file_filter *filter)
{
    struct trace_file_error err = {0, ""};
    const char *flag = NULL;
    trace_file_filter_init(filter);
    if (opts->topics != NULL && trace_file_filter_topics(filter, opts->topics, &err) != 0)
        flag = "--topics";
    else if (opts->nodes != NULL && trace_file_filter_nodes(filter, opts->nodes, &err) != 0)
        flag = "--nodes";
    else if (opts->from != NULL && trace_file_parse_seconds(opts->from, &filter->from_us, &err))
        flag = "--from";
    else if (opts->to != NULL && trace_file_parse_seconds(opts->to, &filter->to_us, &err))
        flag = "--to";
    if (flag == NULL) return TRACE_FILE_OK;
    fprintf(stderr, "labsim %s: %s: %s\n", tool, flag, err.msg);
    return TRACE_FILE_EINVAL;
}

int trace_opts_open(const char *path, struct trace_file_filter *filter, const char *tool,
                    struct trace_file **tf)
{
    struct trace_file_error err = {0, ""};
    int rc = trace_file_open(path, tf, &err);
    if (rc != TRACE_FILE_OK) {
        trace_file_error_print(path, &err);
        return rc;
    }
    rc = trace_file_filter_check(filter, *tf, &err);
    if (rc == TRACE_FILE_OK) return rc;
    fprintf(stderr, "labsim %s: %s\n", tool, err.msg);
    trace_file_close(*tf);
    *tf = NULL;
    return rc;
}
