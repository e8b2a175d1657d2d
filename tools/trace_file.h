/* trace_file: reading a labsim text trace (the format written by sim_trace_write, described in
 * src/sim_trace.c) one event at a time, in bounded memory, for the study tools (log, export,
 * replay --check-trace).
 *
 * trace_file_open reads the header and the kind lines; trace_file_next then hands out the
 * events in file order, and its last call checks the whole file: the event count the header
 * announced and, in version 2, the end line's digest of every byte before it. So a tool prints
 * as it reads, and learns that the body was cut short, extended or altered only at the end.
 * Node names ("# name ID NAME" lines after the nodes line, written for the nodes a harness
 * named with sim_node_name_set) are read into node_names; a file without them, or a version 1
 * file, has unnamed nodes, which the tools show by number.
 * Version 1 traces (no nodes line, no end line) are still read: they are scanned once in full
 * at open, to check every line and collect the node ids the header does not list, and then
 * read again; so they must be regular files, and their events cannot be checked for changed
 * digits (use replay --check-trace, which compares every event with a replay).
 *
 * The parser trusts nothing in the file: every line, number, id and escape is bounds-checked,
 * and the first problem stops the read with its line number and a one-line description. Kinds
 * are kept as the file declares them, so traces with kinds the tools have never heard of read
 * and render generically. A few kinds are recognised by NAME (never by id) for special
 * renderings: the rpc.* call kinds of labrpc (matched into request/reply links by their "call"
 * field) and role-change kinds (raft.role, with "term" and "role" fields), which become role
 * spans.
 *
 * Invariants of an open trace:
 *  1. Events come in file order and their times never decrease.
 *  2. Every event's kind index is < kinds_count, and it carries exactly that kind's number
 *     of values (the rest are 0); its text is NUL-terminated and shorter than
 *     SIM_TRACE_TEXT_MAX.
 *  3. nodes[] holds each node id that appears, ascending (-1, the harness, first), known before
 *     the first event, and every event's node_index points into it.
 *  4. Memory does not grow with the file: a fixed-size struct plus one line buffer.
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
#define TRACE_FILE_VERSION 2u                     /* written by sim_trace_write; 1 still read */
#define TRACE_FILE_CALLS_MAX (1u << 16)           /* calls whose rpc events are matched at once */
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

struct trace_file_reader; /* the open file and the parser's state (trace_file.c) */

struct trace_file {
    char title[TRACE_FILE_TITLE_MAX]; /* "-" when the file has none */
    unsigned version;                 /* 1 or 2 */
    uint64_t seed;
    uint64_t digest;
    bool has_seed;
    bool has_digest;
    bool truncated;         /* the header says recording stopped early */
    uint64_t events_traced; /* from the header: events traced in the run, recorded or not */
    uint64_t events_count;  /* events in the file: the header's count (version 1: counted) */
    uint64_t events_read;   /* events trace_file_next has handed out */
    struct trace_file_kind kinds[TRACE_FILE_KINDS_MAX];
    size_t kinds_count;
    int32_t nodes[TRACE_FILE_NODES_MAX];
    size_t nodes_count;
    char node_names[TRACE_FILE_NODES_MAX][SIM_NODE_NAME_MAX]; /* per node index; "" = unnamed */
    uint16_t kind_by_id[UINT16_MAX + 1]; /* kind id -> index + 1; 0 = not declared */
    struct trace_file_reader *reader;
};

/* Opens the trace at `path` and reads its header and kinds. On success returns TRACE_FILE_OK
 * and *out is a trace the caller reads with trace_file_next and closes with trace_file_close.
 * On failure returns a TRACE_FILE_* error, *out is NULL and `err` says what and where (line 0
 * when the file could not be opened or read). */
int trace_file_open(const char *path, struct trace_file **out, struct trace_file_error *err);

/* Reads the next event into *ev. Returns 1 with an event; 0 at the end of the file, once the
 * whole file checked out (event count, end digest); or a TRACE_FILE_* error with `err` set,
 * after which the trace only needs closing. */
int trace_file_next(struct trace_file *tf, struct trace_file_event *ev,
                    struct trace_file_error *err);

void trace_file_close(struct trace_file *tf);

/* The kind of an event. */
const struct trace_file_kind *trace_file_event_kind(const struct trace_file *tf,
                                                    const struct trace_file_event *ev);

/* The name of the node at index `node_index` of nodes[], or NULL when it has none. */
const char *trace_file_node_name(const struct trace_file *tf, size_t node_index);

/* How the tools show a node: its name, else "test" for the harness, else `number_prefix`
 * followed by its id ("node 3", "n3", "3"). Returns buf. */
const char *trace_file_node_label(const struct trace_file *tf, int32_t node,
                                  const char *number_prefix, char *buf, size_t size);

/* "follower", "candidate", "leader" for Raft's role values, else NULL. */
const char *trace_file_role_name(int64_t role);
/* The name of a coded field value of a kind (raft.prevote_deny's reason, raft.transfer_abandoned's
 * why: raft/prevote.c and raft/transfer.c), else NULL. */
const char *trace_file_value_name(const char *kind, const char *field, int64_t value);

/* raft.config's voters and learners are bit sets of peers (raft/membership.c): writes "{0,1,2}"
 * to buf and returns it for those fields of that kind, else returns NULL. */
const char *trace_file_member_set(const char *kind, const char *field, int64_t bits, char *buf,
                                  size_t size);

/* ---------------------------------------------------------------- analysis */

/* A message arrow between two events: a request (send -> deliver), a reply (deliver ->
 * reply) or a lost reply (deliver -> drop_reply). */
enum trace_file_link_type {
    TRACE_FILE_LINK_REQUEST = 0,
    TRACE_FILE_LINK_REPLY = 1,
    TRACE_FILE_LINK_LOST = 2,
};

/* An event as the analysis remembers it: where it is, and the caller's tag (e.g. its index
 * among the events a tool shows, or SIZE_MAX when it shows none). */
struct trace_file_ref {
    uint64_t index; /* in file order, from 0 */
    uint64_t at_us;
    int32_t node;
    uint16_t node_index;
    size_t tag;
};

struct trace_file_call {
    bool used;
    bool has_send;
    bool has_deliver;
    int64_t call;
    struct trace_file_ref send;    /* the latest send of the call */
    struct trace_file_ref deliver; /* the first delivery after that send */
};

/* The rpc events of each call matched into links as the events stream by. Each delivery links
 * back to the latest send of its call; each reply or lost reply links back to the first
 * delivery after that send. Calls with missing halves (a send never delivered, a trace cut
 * short) simply have fewer links. Bounded: a call is remembered in slot call mod
 * TRACE_FILE_CALLS_MAX, so an rpc event whose call was pushed out by a call
 * TRACE_FILE_CALLS_MAX ids later (labrpc numbers calls in order) gets no link. */
struct trace_file_calls {
    struct trace_file_call slots[TRACE_FILE_CALLS_MAX];
};

/* Feeds one event (`self` says where it is). Returns true when it ends a link, with the link's
 * source in *from and its type in *type. Events must be fed in file order. */
bool trace_file_calls_feed(struct trace_file_calls *calls, const struct trace_file *tf,
                           const struct trace_file_event *ev, const struct trace_file_ref *self,
                           struct trace_file_ref *from, enum trace_file_link_type *type);

/* A stretch of time during which a node held one role in one term. */
struct trace_file_span {
    int32_t node;
    uint16_t node_index;
    uint16_t kind; /* of the role-change event that began it */
    uint64_t begin_us;
    uint64_t end_us; /* the next role change of the node, or the end of the trace */
    int64_t term;
    int64_t role;
    uint64_t event; /* index of the role-change event that began it */
};

/* The open role span of each node, as the events stream by. */
struct trace_file_spans {
    bool open[TRACE_FILE_NODES_MAX];
    struct trace_file_span span[TRACE_FILE_NODES_MAX];
};

/* Feeds event `index`. Returns true when it is a role change that ends an earlier span of its
 * node, copied into *closed (end_us = this event's time). */
bool trace_file_spans_feed(struct trace_file_spans *spans, const struct trace_file *tf,
                           const struct trace_file_event *ev, uint64_t index,
                           struct trace_file_span *closed);

/* Ends node index `node_index`'s open span at `end_us` (or at its start, if later). Returns
 * true with the span in *closed when there was one. */
bool trace_file_spans_end(struct trace_file_spans *spans, size_t node_index, uint64_t end_us,
                          struct trace_file_span *closed);

/* ---------------------------------------------------------------- filters */

#define TRACE_FILE_FILTER_NAMES_MAX 64u /* node names in one --nodes list */

/* Which events a tool shows: topics, nodes and a virtual-time window [from_us, to_us]. Nodes
 * asked for by name are kept in names[] until trace_file_filter_check finds them in a trace. */
struct trace_file_filter {
    uint32_t topic_mask;
    bool nodes_all;
    bool node_on[TRACE_FILE_NODE_ID_MAX + 2]; /* index node + 1 */
    char names[TRACE_FILE_FILTER_NAMES_MAX][SIM_NODE_NAME_MAX];
    size_t names_count;
    uint64_t from_us;
    uint64_t to_us;
};

/* Everything: all topics, all nodes, all time. */
void trace_file_filter_init(struct trace_file_filter *filter);

/* Option parsers. Each returns TRACE_FILE_OK, or TRACE_FILE_EINVAL with err->msg set (line 0).
 * topics: comma-separated names of SIM_TOPIC_MAP ("net,role").
 * nodes:  comma-separated node ids or names; "test" or -1 is the harness ("0,2,test",
 *         "g101/2,ctl/0").
 * seconds: a non-negative decimal number of virtual seconds, at most 6 decimals ("1.25"). */
int trace_file_filter_topics(struct trace_file_filter *filter, const char *list,
                             struct trace_file_error *err);
int trace_file_filter_nodes(struct trace_file_filter *filter, const char *list,
                            struct trace_file_error *err);
int trace_file_parse_seconds(const char *text, uint64_t *us, struct trace_file_error *err);

/* Checks the filter against an open trace: the window is not empty and every node asked for
 * appears in the trace; nodes asked for by name become their ids. */
int trace_file_filter_check(struct trace_file_filter *filter, const struct trace_file *tf,
                            struct trace_file_error *err);

bool trace_file_filter_node(const struct trace_file_filter *filter, int32_t node);
bool trace_file_filter_match(const struct trace_file_filter *filter, const struct trace_file *tf,
                             const struct trace_file_event *ev);

/* Prints an error the way every tool does: "labsim: PATH:LINE: msg" (or "labsim: PATH: msg"
 * when line is 0) on stderr. */
void trace_file_error_print(const char *path, const struct trace_file_error *err);

#endif /* TOOLS_TRACE_FILE_H */
