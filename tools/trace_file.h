/* trace_file: reading a labsim text trace (the format written by sim_trace_write, described in
 * src/sim_trace.c) into memory, for the study tools (log, export, step).
 *
 * The parser trusts nothing in the file: every line, number, id and escape is bounds-checked,
 * and the first problem stops the load with its line number and a one-line description. A
 * loaded trace is read-only; kinds are kept as the file declares them, so traces with kinds
 * the tools have never heard of load and render generically. A few kinds are recognised by
 * NAME (never by id) for special renderings: the rpc.* call kinds of labrpc (matched into
 * request/reply links by their "call" field) and role-change kinds (raft.role, with "term"
 * and "role" fields), which become role spans.
 *
 * Invariants of a loaded trace:
 *  1. Events are in file order and their times never decrease.
 *  2. Every event's kind index is < kinds_count, and it carries exactly that kind's number
 *     of values (the rest are 0); its text is NUL-terminated and shorter than
 *     SIM_TRACE_TEXT_MAX.
 *  3. nodes[] holds each node id that appears, ascending (-1, the harness, first), and every
 *     event's node_index points into it.
 */
#ifndef TOOLS_TRACE_FILE_H
#define TOOLS_TRACE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim.h"

#define TRACE_FILE_LINE_MAX 1024u                 /* bytes per line, newline excluded */
#define TRACE_FILE_KINDS_MAX 1024u                /* distinct kinds (sim_trace_write's own limit) */
#define TRACE_FILE_EVENTS_MAX (1u << 23)          /* events per file */
#define TRACE_FILE_NODES_MAX 64u                  /* distinct node ids per file */
#define TRACE_FILE_NODE_ID_MAX 4095               /* node ids are -1 .. this */
#define TRACE_FILE_NAME_MAX 64u                   /* bytes of a kind or field name, NUL included */
#define TRACE_FILE_TITLE_MAX 256u                 /* bytes of the title, NUL included */
#define TRACE_FILE_TIME_MAX_US ((1ull << 53) - 1) /* exact as a JSON / JavaScript number */
#define TRACE_FILE_ERROR_MAX 200u

#define TRACE_FILE_ERRNO_MAP(X)                                                                    \
    X(TRACE_FILE_OK, 0, "success")                                                                 \
    X(TRACE_FILE_EIO, -1, "cannot read the file")                                                  \
    X(TRACE_FILE_EFORMAT, -2, "malformed trace file")                                              \
    X(TRACE_FILE_ENOMEM, -3, "out of memory")                                                      \
    X(TRACE_FILE_ELIMIT, -4, "trace exceeds a size limit")                                         \
    X(TRACE_FILE_EINVAL, -5, "invalid argument")

enum trace_file_err {
#define TRACE_FILE_ERR_ENUM(name, value, text) name = value,
    TRACE_FILE_ERRNO_MAP(TRACE_FILE_ERR_ENUM)
#undef TRACE_FILE_ERR_ENUM
};

/* Returns a static, never-NULL description of a TRACE_FILE_* code. */
const char *trace_file_strerror(int err);

/* What a load or an option parse found wrong. `line` is 1-based, 0 when the problem is not on
 * a line (the file cannot be opened, an option is bad). */
struct trace_file_error {
    uint64_t line;
    char msg[TRACE_FILE_ERROR_MAX];
};

/* The special renderings a kind gets, decided from its name and field names. */
enum trace_file_class {
    TRACE_FILE_GENERIC = 0,
    TRACE_FILE_RPC_SEND,       /* rpc.send: a caller sends call `call` to `server` */
    TRACE_FILE_RPC_DELIVER,    /* rpc.deliver: the server's handler receives it */
    TRACE_FILE_RPC_REPLY,      /* rpc.reply: the caller gets the reply */
    TRACE_FILE_RPC_DROP_REPLY, /* rpc.drop_reply: the handler ran, the reply was lost */
    TRACE_FILE_RPC_FAIL,       /* rpc.fail, rpc.drop_req: the call failed before a handler */
    TRACE_FILE_ROLE,           /* *.role with term and role fields: a role change */
};

struct trace_file_kind {
    uint16_t id;
    enum sim_topic topic;
    enum trace_file_class cls;
    int fields_count;
    int call_field; /* index of the "call" field, -1 when absent (rpc kinds) */
    int term_field; /* index of "term", -1 when absent (role kinds) */
    int role_field; /* index of "role", -1 when absent (role kinds) */
    char name[TRACE_FILE_NAME_MAX];
    char fields[SIM_TRACE_FIELDS_MAX][TRACE_FILE_NAME_MAX];
};

struct trace_file_event {
    uint64_t at_us;
    int32_t node;
    uint16_t kind;       /* index into kinds[] */
    uint16_t node_index; /* index into nodes[] */
    int64_t v[SIM_TRACE_FIELDS_MAX];
    char text[SIM_TRACE_TEXT_MAX];
};

struct trace_file {
    char title[TRACE_FILE_TITLE_MAX]; /* "-" when the file has none */
    uint64_t seed;
    uint64_t digest;
    bool has_seed;
    bool has_digest;
    bool truncated;         /* the header says recording stopped early */
    uint64_t events_traced; /* from the header: events traced in the run, recorded or not */
    struct trace_file_kind kinds[TRACE_FILE_KINDS_MAX];
    size_t kinds_count;
    int32_t nodes[TRACE_FILE_NODES_MAX];
    size_t nodes_count;
    struct trace_file_event *events;
    size_t events_count;
    size_t events_cap;
    uint16_t kind_by_id[UINT16_MAX + 1]; /* kind id -> index + 1; 0 = not declared */
};

/* Loads the trace at `path`. On success returns TRACE_FILE_OK and *out is a trace the caller
 * frees with trace_file_free. On failure returns a TRACE_FILE_* error, *out is NULL and `err`
 * says what and where (line 0 when the file could not be opened or read). */
int trace_file_load(const char *path, struct trace_file **out, struct trace_file_error *err);

/* Same from an open stream (not closed here). */
int trace_file_read(FILE *f, struct trace_file **out, struct trace_file_error *err);

void trace_file_free(struct trace_file *tf);

/* The kind of an event. */
const struct trace_file_kind *trace_file_event_kind(const struct trace_file *tf,
                                                    const struct trace_file_event *ev);

/* "follower", "candidate", "leader" for Raft's role values, else NULL. */
const char *trace_file_role_name(int64_t role);

/* ---------------------------------------------------------------- analysis */

/* A message arrow between two events: a request (send -> deliver), a reply (deliver ->
 * reply) or a lost reply (deliver -> drop_reply). */
enum trace_file_link_type {
    TRACE_FILE_LINK_REQUEST = 0,
    TRACE_FILE_LINK_REPLY = 1,
    TRACE_FILE_LINK_LOST = 2,
};

struct trace_file_link {
    size_t from; /* event index; from < to */
    size_t to;
    enum trace_file_link_type type;
};

/* Matches the rpc events of each call id into links, ordered by `from` then `to`. Each
 * delivery links back to the latest send of its call; each reply or lost reply links back to
 * the first delivery after that send. Calls with missing halves (a send never delivered, a
 * trace cut short) simply have fewer links. On success *links (caller frees; NULL when
 * empty) holds *count links. Returns TRACE_FILE_OK or TRACE_FILE_ENOMEM. */
int trace_file_links(const struct trace_file *tf, struct trace_file_link **links, size_t *count);

/* A stretch of time during which a node held one role in one term. */
struct trace_file_span {
    int32_t node;
    uint16_t node_index;
    uint64_t begin_us;
    uint64_t end_us; /* the next role change of the node, or the end of the trace */
    int64_t term;
    int64_t role;
    size_t event; /* index of the role-change event that began it */
};

/* Turns the role-change events into spans, in event order. `end_us` closes the last span of
 * each node (pass the trace's last event time, or the end of a viewed window). On success
 * *spans (caller frees; NULL when empty) holds *count spans. Returns TRACE_FILE_OK or
 * TRACE_FILE_ENOMEM. */
int trace_file_spans(const struct trace_file *tf, uint64_t end_us, struct trace_file_span **spans,
                     size_t *count);

/* ---------------------------------------------------------------- filters */

/* Which events a tool shows: topics, nodes and a virtual-time window [from_us, to_us]. */
struct trace_file_filter {
    uint32_t topic_mask;
    bool nodes_all;
    bool node_on[TRACE_FILE_NODE_ID_MAX + 2]; /* index node + 1 */
    uint64_t from_us;
    uint64_t to_us;
};

/* Everything: all topics, all nodes, all time. */
void trace_file_filter_init(struct trace_file_filter *filter);

/* Option parsers. Each returns TRACE_FILE_OK, or TRACE_FILE_EINVAL with err->msg set (line 0).
 * topics: comma-separated names of SIM_TOPIC_MAP ("net,role").
 * nodes:  comma-separated node ids; "test" or -1 is the harness ("0,2,test").
 * seconds: a non-negative decimal number of virtual seconds, at most 6 decimals ("1.25"). */
int trace_file_filter_topics(struct trace_file_filter *filter, const char *list,
                             struct trace_file_error *err);
int trace_file_filter_nodes(struct trace_file_filter *filter, const char *list,
                            struct trace_file_error *err);
int trace_file_parse_seconds(const char *text, uint64_t *us, struct trace_file_error *err);

/* Checks the filter against a loaded trace: the window is not empty and every node asked for
 * appears in the trace. */
int trace_file_filter_check(const struct trace_file_filter *filter, const struct trace_file *tf,
                            struct trace_file_error *err);

bool trace_file_filter_node(const struct trace_file_filter *filter, int32_t node);
bool trace_file_filter_match(const struct trace_file_filter *filter, const struct trace_file *tf,
                             const struct trace_file_event *ev);

/* Prints an error the way every tool does: "labsim: PATH:LINE: msg" (or "labsim: PATH: msg"
 * when line is 0) on stderr. */
void trace_file_error_print(const char *path, const struct trace_file_error *err);

#endif /* TOOLS_TRACE_FILE_H */
