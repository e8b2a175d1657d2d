/* lin: the linearizability checker (a Porcupine-class checker written for labsim).
 *
 * A history is a set of operations, each with a client, a call time, a return time, an input
 * and an output. It is linearizable for a model when every operation can be given one instant
 * between its call and its return such that applying the operations in that order to the
 * model, from its initial state, reproduces every output. The checker answers OK, ILLEGAL or,
 * when the budget ran out first, UNKNOWN: it never reports a pass it did not prove.
 *
 * How: the model may split the history into independent partitions (the KV model: one per
 * key; a model whose state is a product of independent objects may declare them as components
 * and be checked per object, by locality); each partition is searched with Wing & Gong's
 * backtracking over the time-ordered call/return entries, pruned with Lowe's cache of (set of
 * linearized operations, state), whose records grow with the concurrency, not the length, of
 * the history. The
 * partitions are searched round-robin with growing step slices, so one hard partition cannot
 * hide an easy ILLEGAL one. On ILLEGAL the result holds, per partition, the longest
 * linearizable prefix found and the operation that cannot be placed after it.
 *
 * Determinism: nothing here reads a clock. The budget is a step count, a byte count (the
 * checker's own) and an optional should_stop callback (the CLI implements --timeout with it);
 * with steps and bytes only, the same history gives the same verdict and the same result on
 * every run of the same build.
 *
 * Ownership in short: inputs are borrowed for the duration of a call; every object returned
 * through an `_out` pointer is the caller's and has a matching *_free function.
 */
#ifndef LIN_H
#define LIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---------------------------------------------------------------- limits */

#define LIN_OPS_MAX (1u << 22)         /* operations in one history */
#define LIN_DESC_OP_MAX 256u           /* bytes of an operation description, with its NUL */
#define LIN_DESC_STATE_MAX 1024u       /* bytes of a state description, with its NUL */
#define LIN_FILE_SIZE_MAX (256u << 20) /* bytes of a history file */
#define LIN_PARSE_MSG_MAX 160u         /* bytes of a parse error message, with its NUL */

/* ---------------------------------------------------------------- verdicts and errors */

enum lin_verdict { LIN_OK = 0, LIN_ILLEGAL = 1, LIN_UNKNOWN = 2 };

/* Errors are negative; functions that give a verdict return it (>= 0) or one of these. */
#define LIN_ERRNO_MAP(X)                                                                           \
    X(LIN_ENOMEM, -1, "out of memory")                                                             \
    X(LIN_EINVAL, -2, "invalid argument")                                                          \
    X(LIN_EIO, -3, "input/output error")                                                           \
    X(LIN_EPARSE, -4, "malformed history")                                                         \
    X(LIN_ELIMIT, -5, "history exceeds a checker limit")

enum lin_err {
#define LIN_ERR_ENUM(name, value, text) name = value,
    LIN_ERRNO_MAP(LIN_ERR_ENUM)
#undef LIN_ERR_ENUM
};

/* "OK", "ILLEGAL", "UNKNOWN"; "?" for anything else. Static, never NULL. */
const char *lin_verdict_name(enum lin_verdict v);

/* A static, never-NULL description of a LIN_E* code ("success" for 0). */
const char *lin_strerror(int err);

/* ---------------------------------------------------------------- histories */

/* One operation. input and output point to model-specific records (struct lin_kv_input ...);
 * both are borrowed: they must stay valid for the call they are passed to. Times are in any
 * unit that increases (virtual microseconds in simulation runs, event numbers in files). An
 * operation returning at the same instant another is called counts as concurrent with it. */
struct lin_op {
    int client;
    int64_t call_us;
    int64_t return_us; /* >= call_us */
    const void *input;
    const void *output;
};

/* The other form of a history: a stream of call and return events; a return names its call
 * by `id`. value is the input of a call and the output of a return (borrowed). */
enum lin_event_kind { LIN_EVENT_CALL = 0, LIN_EVENT_RETURN = 1 };
struct lin_event {
    int client;
    enum lin_event_kind kind;
    uint32_t id;
    const void *value;
};

/* Converts an event stream to operations; an event's position is its time. The ids are
 * 0 .. events_count/2 - 1, each called once and then returned once. On success *ops_out (the
 * caller's, free() it) holds the operations in call order and points into the events' values.
 * Returns 0, LIN_EINVAL for an unmatched or repeated id, LIN_ELIMIT, or LIN_ENOMEM. */
int lin_events_to_ops(const struct lin_event *events, size_t events_count, struct lin_op **ops_out,
                      size_t *ops_count_out);

/* ---------------------------------------------------------------- models */

/* A model: a sequential specification the history is checked against. States are 64-bit
 * words whose meaning is the model's (a value, or an id into tables the model keeps in its
 * per-check context). The checker calls ctx_new once per partition with that partition's
 * operations and then refers to an operation by its index in that array.
 *
 * - partition: optional (NULL = one partition). Writes for each operation the number of its
 *   partition (dense, 0-based) to part_of_op and the count to *parts_count_out. Returns 0 or
 *   a LIN_E* error.
 * - describe_partition: optional; names the partition (or component) holding `op` (e.g.
 *   "key \"7\"").
 * - ctx_new / ctx_free: the per-partition context (tables, interned values). Returns 0 or
 *   a LIN_E* error; LIN_EINVAL when an operation's input or output is malformed.
 * - init: the initial state.
 * - step: applies operation op_index to `state`. Returns 1 when the operation's output is
 *   legal there (*next_out is the state after it), 0 when it is not, or a LIN_E* error. It
 *   must be a function of (state, operation): results are described by replaying steps.
 * - fingerprint / equal: optional (NULL = the word itself / word equality). A state's
 *   fingerprint must be equal for equal states; equal must be exact.
 * - read_only: optional (NULL = none is). True when operation op_index leaves the state
 *   unchanged in *every* state where it is legal (a get; a cas that definitely failed). The
 *   search commits to such an operation as soon as it is legal, without trying alternatives;
 *   a wrong "true" makes the checker unsound, so say false when unsure.
 * - viable: optional (NULL = always). False when operation op_index, linearized next so that
 *   it leaves `state` (the state after it, as step gave it), can be part of no linearization
 *   of the whole history: a lookahead the model derives from the operations after it (the KV
 *   model: a later get must read an extension of that state). The search uses it unless
 *   LIN_CHECK_NO_PRUNING is given, treating a step it rejects like an illegal one; it must be
 *   a function of (state, operation), and a wrong "false" makes the checker unsound.
 * - describe_op / describe_state: human-readable text, truncated to buf_size (always
 *   NUL-terminated).
 * - ctx_bytes: optional (NULL = not counted); the bytes the context holds now, counted
 *   against the budget's bytes_max with the search's own (its tables grow as it runs).
 * - components: optional, used only without `partition`: the model's state is a product of
 *   independent objects (the map of kv-nopartition: one string per key) and operation i
 *   touches only object part_of_op[i]; same contract as partition. Linearizability is local
 *   (Herlihy & Wing: a history is linearizable iff its restriction to every object is), so
 *   the checker checks each object's operations on their own, still through this model (its
 *   states stay whole products), unless LIN_CHECK_NO_COMPOSE is given.
 */
struct lin_model {
    const char *name;
    int (*partition)(const struct lin_op *ops, size_t ops_count, uint32_t *part_of_op,
                     size_t *parts_count_out);
    void (*describe_partition)(const struct lin_op *op, char *buf, size_t buf_size);
    int (*ctx_new)(const struct lin_op *ops, size_t ops_count, void **ctx_out);
    void (*ctx_free)(void *ctx);
    uint64_t (*init)(void *ctx);
    int (*step)(void *ctx, uint64_t state, size_t op_index, uint64_t *next_out);
    uint64_t (*fingerprint)(void *ctx, uint64_t state);
    bool (*equal)(void *ctx, uint64_t a, uint64_t b);
    bool (*read_only)(void *ctx, size_t op_index);
    bool (*viable)(void *ctx, uint64_t state, size_t op_index);
    void (*describe_op)(const struct lin_op *op, char *buf, size_t buf_size);
    void (*describe_state)(void *ctx, uint64_t state, char *buf, size_t buf_size);
    size_t (*ctx_bytes)(void *ctx);
    int (*components)(const struct lin_op *ops, size_t ops_count, uint32_t *part_of_op,
                      size_t *parts_count_out);
};

/* The 6.824 key/value service: get / put / append on string keys, partitioned by key. A key
 * never written reads as "". Inputs are struct lin_kv_input, outputs struct lin_kv_output.
 * LIN_KV_APPEND_OLD is Porcupine's op 3, lab 2's Append: it appends and returns the value the
 * key held just before (its output), so it is legal only where that was the state. */
enum lin_kv_kind { LIN_KV_GET = 0, LIN_KV_PUT = 1, LIN_KV_APPEND = 2, LIN_KV_APPEND_OLD = 3 };
struct lin_kv_input {
    enum lin_kv_kind kind;
    const char *key;
    const char *value; /* put/append argument; ignored for get */
};
struct lin_kv_output {
    const char *value; /* get and append-old result; ignored for put/append */
};
extern const struct lin_model lin_model_kv;
/* The same service checked as one state (a map of every key): much slower, for comparison. */
extern const struct lin_model lin_model_kv_nopartition;

/* A single integer register (read / write), initially 0. Inputs struct lin_register_input,
 * outputs struct lin_register_output (the value a read returned; ignored for writes). */
struct lin_register_input {
    bool is_write;
    int64_t value; /* the value written */
};
struct lin_register_output {
    int64_t value;
};
extern const struct lin_model lin_model_register;

/* The Jepsen etcd register: read / write / compare-and-set on one register that starts
 * absent (nil). An outcome may be unknown (a timed-out request): then the operation may or
 * may not have taken effect and any output is accepted. */
enum lin_etcd_kind { LIN_ETCD_READ = 0, LIN_ETCD_WRITE = 1, LIN_ETCD_CAS = 2 };
struct lin_etcd_input {
    enum lin_etcd_kind kind;
    int32_t arg1; /* write: the value; cas: the expected value */
    int32_t arg2; /* cas: the new value */
};
struct lin_etcd_output {
    bool unknown;  /* outcome unknown: any result is legal */
    bool ok;       /* cas: the swap happened; read/write: false = definitely failed, no effect */
    bool exists;   /* read: the register held a value (false = nil) */
    int32_t value; /* read: that value */
};
extern const struct lin_model lin_model_etcd;

/* ---------------------------------------------------------------- checking */

/* The budget of one check. steps_max bounds the total search steps over all partitions
 * (0 = unlimited; a step tries one operation in one configuration; the total may overshoot by
 * less than the largest partition's operation count); should_stop is polled every few
 * thousand steps (NULL = never); bytes_max bounds the bytes the searches hold at once, by the
 * checker's own count (0 = unlimited; their arrays, caches and the model contexts that count
 * themselves; not the history or the result, which grow linearly with the operations). The
 * caches stop at the limit; the models' tables may pass it by what a few thousand steps add.
 * Any of them ending the search early gives LIN_UNKNOWN, unless a partition was already found
 * ILLEGAL; lin_result_stop says which. With steps and bytes only, the verdict is
 * deterministic. */
struct lin_budget {
    uint64_t steps_max;
    bool (*should_stop)(void *arg);
    void *stop_arg;
    uint64_t bytes_max;
};

/* What `labsim check` spends by default: every check ends in a verdict or UNKNOWN within about
 * a minute on this class of machine and well under 1 GB (see the README's check section). */
#define LIN_STEPS_DEFAULT 100000000ull
#define LIN_BYTES_DEFAULT (512ull << 20)

/* Why a check ended without deciding every partition it had to (lin_result_stop). */
enum lin_stop {
    LIN_STOP_NONE = 0,     /* it did not stop early */
    LIN_STOP_STEPS = 1,    /* steps_max */
    LIN_STOP_MEMORY = 2,   /* bytes_max */
    LIN_STOP_CALLBACK = 3, /* should_stop (the CLI's --timeout) */
};

/* "none", "steps", "memory", "callback"; "?" otherwise. Static, never NULL. */
const char *lin_stop_name(enum lin_stop stop);

/* The result of a check: verdict, per-partition outcome, linearizations, longest prefixes and
 * the descriptions of operations and states needed to explain them. Opaque. */
struct lin_result;

/* Flags of lin_check. */
#define LIN_CHECK_ALL_PARTITIONS 1u /* go on after the first ILLEGAL partition */
#define LIN_CHECK_NO_PRUNING 2u     /* plain Wing & Gong + Lowe search (tests compare the two) */
#define LIN_CHECK_NO_COMPOSE 4u     /* ignore the model's components: one search over it all */

/* Checks `ops` against `model`. budget may be NULL (unlimited). By default the check stops at
 * the first ILLEGAL partition (the others stay unchecked: UNKNOWN in the result). Returns the
 * verdict (>= 0) or a negative LIN_E* error. If result_out != NULL and the return is >= 0,
 * *result_out receives the result (the caller's; free with lin_result_free). The operations
 * and what they point to are only borrowed during the call. */
int lin_check(const struct lin_model *model, const struct lin_op *ops, size_t ops_count,
              const struct lin_budget *budget, unsigned flags, struct lin_result **result_out);

/* The same for an event history (see lin_events_to_ops). */
int lin_check_events(const struct lin_model *model, const struct lin_event *events,
                     size_t events_count, const struct lin_budget *budget, unsigned flags,
                     struct lin_result **result_out);

/* One operation of a KV history as the kvraft harness records it. */
struct lin_kv_op {
    int client;        /* client id */
    int64_t call_us;   /* when the call was made: virtual microseconds in runs */
    int64_t return_us; /* return time */
    enum lin_kv_kind kind;
    const char *key;    /* borrowed for the duration of lin_check_kv */
    const char *value;  /* put/append argument; "" for get */
    const char *output; /* get and append-old result; "" for put/append */
};

/* Checks with the KV model partitioned by key, stopping at the first ILLEGAL key. Returns the
 * verdict (>= 0) or a negative error (LIN_EINVAL for a NULL string, a bad kind or
 * return_us < call_us). *result_out (if result_out != NULL) receives a result for
 * lin_html_write; free with lin_result_free. The ops are copied. */
int lin_check_kv(const struct lin_kv_op *ops, size_t ops_count, const struct lin_budget *budget,
                 struct lin_result **result_out);

/* Frees a result; NULL is a no-op. */
void lin_result_free(struct lin_result *res);

/* ---------------------------------------------------------------- reading a result */

enum lin_verdict lin_result_verdict(const struct lin_result *res);
/* Search steps spent over all partitions. */
uint64_t lin_result_steps(const struct lin_result *res);
/* Why the check stopped early (LIN_STOP_NONE when it did not). */
enum lin_stop lin_result_stop(const struct lin_result *res);
/* The most bytes the searches held at once (the quantity bytes_max bounds). */
uint64_t lin_result_bytes_peak(const struct lin_result *res);
size_t lin_result_ops_count(const struct lin_result *res);
size_t lin_result_parts_count(const struct lin_result *res);
/* A partition's verdict: LIN_UNKNOWN when its search did not finish (budget, or the check
 * stopped at another partition's ILLEGAL). */
enum lin_verdict lin_result_part_verdict(const struct lin_result *res, size_t part);
/* The partition's name (e.g. "key \"7\""; "all" without a partition function). */
const char *lin_result_part_name(const struct lin_result *res, size_t part);
size_t lin_result_part_ops_count(const struct lin_result *res, size_t part);
/* The linearization (OK) or the longest linearizable prefix found (otherwise), as indices
 * into the checked operations; the array belongs to the result. Returns its length. */
size_t lin_result_part_order(const struct lin_result *res, size_t part, const uint32_t **order_out);
/* On ILLEGAL: the index of the operation that cannot be linearized after that prefix (the
 * model rejects its output there, or its viable lookahead rejects the state it would leave);
 * otherwise -1. */
int64_t lin_result_part_failing_op(const struct lin_result *res, size_t part);
/* The partition of operation `op` (an index into the checked operations). */
size_t lin_result_op_part(const struct lin_result *res, size_t op);
/* The text of operation `op` and of the state after the i-th operation of a partition's
 * order (i == -1: the initial state). Strings belong to the result. */
const char *lin_result_op_text(const struct lin_result *res, size_t op);
const char *lin_result_state_text(const struct lin_result *res, size_t part, int64_t i);

/* Prints a few lines explaining the result: the verdict and, per ILLEGAL partition, where it
 * fails (the operation, the state before it and the last steps of the longest prefix). */
void lin_result_print(const struct lin_result *res, FILE *out);

/* ---------------------------------------------------------------- visualization */

/* A fault from a simulation run, drawn on the timeline. node < 0: the whole cluster. */
struct lin_marker {
    int64_t at_us;
    int node;
    const char *label;
};

/* Writes a self-contained HTML page (no network fetches) showing the result: one row per
 * client, each operation a bar from call to return, a partition selector, the linearization
 * (or longest prefix) drawn through the bars, the failing operation highlighted with the
 * states around it, and the markers. Returns 0, LIN_EINVAL or LIN_EIO; on LIN_EIO errno is
 * the failing fopen's, write's or fclose's (e.g. EISDIR, ENOENT). */
int lin_html_write(const struct lin_result *res, const struct lin_marker *markers,
                   size_t markers_count, const char *path);

/* ---------------------------------------------------------------- history files */

/* The two file formats of Porcupine's test data (see tests/data/porcupine/README.md). */
enum lin_format {
    LIN_FORMAT_KV = 0,  /* {:process P, :type :invoke, :f :get, :key "K", :value nil} */
    LIN_FORMAT_ETCD = 1 /* INFO  jepsen.util - P :invoke :cas [1 2] */
};

/* Where a parser gave up: the file name given to it (borrowed), the 1-based line (0 = the
 * file as a whole) and the problem. */
struct lin_parse_error {
    const char *file;
    size_t line;
    char message[LIN_PARSE_MSG_MAX];
};

/* A parsed history: operations whose inputs and outputs (lin_kv_* or lin_etcd_* records)
 * belong to it. Times are event numbers (one per call or return line). */
struct lin_history;

/* Parses `text` (text_size bytes, any content) in `format`. On success *history_out is the
 * caller's (lin_history_free). On LIN_EPARSE, LIN_ELIMIT or LIN_ENOMEM *err (if not NULL)
 * says where and what. file_name is used in messages only. */
int lin_history_parse(enum lin_format format, const char *text, size_t text_size,
                      const char *file_name, struct lin_history **history_out,
                      struct lin_parse_error *err);

/* Reads and parses a file; LIN_EIO (with *err filled) when it cannot be read. */
int lin_history_read_file(enum lin_format format, const char *path,
                          struct lin_history **history_out, struct lin_parse_error *err);

/* The operations (in call order); the array belongs to the history. */
const struct lin_op *lin_history_ops(const struct lin_history *history, size_t *ops_count_out);

/* Frees a history; NULL is a no-op. */
void lin_history_free(struct lin_history *history);

#endif /* LIN_H */
