/* sim: the deterministic simulation kernel.
 *
 * One `struct sim` owns a run: the virtual clock (microseconds), the event queue ordered by
 * (due time, insertion sequence), the seed and its named PRNG streams, the tasks (coroutines
 * that let test bodies and clerks block like Go goroutines) and the trace with its rolling
 * XXH3-64 digest. Nothing here knows about Raft. Two sims in one process never share state.
 *
 * Invariants:
 *  1. Virtual time never goes backwards; an event runs at exactly its due time.
 *  2. Events with equal due times run in the order they were scheduled (FIFO).
 *  3. Only one task or event callback runs at a time; a task runs until it blocks.
 *  4. All randomness comes from streams derived from (seed, stream name).
 */
#ifndef SIM_H
#define SIM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t sim_time_us;

#define SIM_US_PER_MS 1000ull
#define SIM_US_PER_S 1000000ull
#define SIM_MS(ms) ((sim_time_us)(ms)*SIM_US_PER_MS)
#define SIM_S(s) ((sim_time_us)(s)*SIM_US_PER_S)

/* Node id used for events that belong to no node (the harness, the network itself). */
#define SIM_NODE_NONE (-1)

/* Hard bounds (TigerStyle: put a limit on everything). */
#define SIM_EVENTS_MAX (1u << 22) /* pending events at once */
#define SIM_TASKS_MAX 256u        /* live tasks at once */
#define SIM_TASK_STACK_SIZE (256u * 1024u)
#define SIM_TRACE_FIELDS_MAX 6u
#define SIM_TRACE_TEXT_MAX 64u /* bytes of free text kept per traced event */

struct sim;
struct sim_task;
struct sim_fs;

/* ---------------------------------------------------------------- errors */

#define SIM_ERRNO_MAP(X)                                                                           \
    X(SIM_OK, 0, "success")                                                                        \
    X(SIM_ENOMEM, -1, "out of memory")                                                             \
    X(SIM_ELIMIT, -2, "a bounded queue or table is full")                                          \
    X(SIM_ETIMEDOUT, -3, "virtual-time limit reached")                                             \
    X(SIM_ESTOPPED, -4, "the simulation was stopped")                                              \
    X(SIM_EIO, -5, "input/output error")                                                           \
    X(SIM_EINVAL, -6, "invalid argument")                                                          \
    X(SIM_ENAME, -7, "bad node name (1-15 letters, digits or / . _ - : starting with a letter)")

enum sim_err {
#define SIM_ERR_ENUM(name, value, text) name = value,
    SIM_ERRNO_MAP(SIM_ERR_ENUM)
#undef SIM_ERR_ENUM
};

/* Returns a static, never-NULL description of a SIM_* code. */
const char *sim_strerror(int err);

/* ---------------------------------------------------------------- lifecycle */

/* Allocates a sim seeded with `seed`. Returns NULL on allocation failure. The caller owns it
 * and frees it with sim_free, which also releases every task still parked (their stacks are
 * freed without running them further). */
struct sim *sim_new(uint64_t seed);
void sim_free(struct sim *sim);

uint64_t sim_seed(const struct sim *sim);

/* The current virtual time. */
sim_time_us sim_now_us(const struct sim *sim);

/* Sets the text printed after "replay:" when an assertion or a test fails (the exact command
 * that reruns this run). The string is copied. */
void sim_set_replay_hint(struct sim *sim, const char *hint);
const char *sim_replay_hint(const struct sim *sim);

/* The node the running code acts for (its "node context"), for crash reports: an event runs in
 * the context of the code that scheduled it, a task in the one it was spawned in, and labrpc runs
 * a handler as its server and a reply callback as its caller. The harness sets it around the
 * calls that make a node (raft_make, a server's start), so a node's timers carry its id. Between
 * events it is SIM_NODE_NONE. It decides nothing and is not part of the digest. */
int sim_node_current(const struct sim *sim);
/* Sets the node context of the running code; returns the previous one, to restore. */
int sim_node_swap(struct sim *sim, int node);

/* ---------------------------------------------------------------- node names */

/* To the kernel a node is a number. A harness may give the nodes it builds names people read
 * ("g101/2" for server 2 of group 101, "ctl/0", "coord"); the study tools then show the name
 * where they showed the number. Names are labels only: they decide nothing, are not part of the
 * digest, and go into a trace file's header (sim_trace_write), not into its events. Node ids
 * 0 .. SIM_NODE_NAMES_MAX - 1 can be named; the harness's SIM_NODE_NONE is always "test". */
#define SIM_NODE_NAMES_MAX 64u /* node ids that can carry a name */
#define SIM_NODE_NAME_MAX 16u  /* bytes of a name, NUL included */

/* True when `name` is a valid node name: 1 .. SIM_NODE_NAME_MAX - 1 bytes of letters, digits
 * and / . _ - :, starting with a letter, and not "test" (the harness's column). */
bool sim_node_name_valid(const char *name);

/* Names node `node` (a later call renames it; NULL removes the name). Returns SIM_OK,
 * SIM_EINVAL when node is not in 0 .. SIM_NODE_NAMES_MAX - 1, or SIM_ENAME when the name is not
 * valid; on an error nothing changes. */
int sim_node_name_set(struct sim *sim, int node, const char *name);

/* The name of node `node`, or NULL when it has none (or cannot have one). Borrowed from the sim
 * until the node is renamed or the sim is freed. */
const char *sim_node_name(const struct sim *sim, int node);

/* Clock drift, an explorer extension (off by default: a new sim has no drift, and then nothing
 * changes). A node whose clock runs `rate_ppm` parts per million fast (negative: slow) sees its
 * timers fire early (late): every delay given to sim_after while the node context is `node`
 * lasts delay * 1e6 / (1e6 + rate_ppm) of virtual time, rounded down. This covers the node's
 * election and heartbeat timers and its sleeps, and also the network hops it schedules, as a
 * machine whose clock is off would measure all of them with that clock. Bounded by
 * SIM_DRIFT_PPM_MAX either way; nodes outside [0, SIM_DRIFT_NODES_MAX) never drift.
 * Returns SIM_OK or SIM_EINVAL (node or rate out of range; nothing changes). */
#define SIM_DRIFT_NODES_MAX 64
#define SIM_DRIFT_PPM_MAX 100000 /* +-10% */
int sim_node_set_drift_ppm(struct sim *sim, int node, int32_t rate_ppm);
/* The node's drift, 0 when none or out of range. */
int32_t sim_node_drift_ppm(const struct sim *sim, int node);

/* ---------------------------------------------------------------- events and timers */

typedef void (*sim_event_cb)(struct sim *sim, void *arg);

/* A handle to a scheduled event; 0 is never a valid handle. */
typedef uint64_t sim_timer_id;

/* Schedules cb(sim, arg) to run `delay_us` from now. Returns the handle, which stays valid for
 * sim_timer_cancel until the event has run. Asserts when SIM_EVENTS_MAX events are pending. */
sim_timer_id sim_after(struct sim *sim, sim_time_us delay_us, sim_event_cb cb, void *arg);

/* Cancels a pending event. Returns true when it was pending (and now will not run), false when
 * it already ran, was cancelled, or the id is 0. */
bool sim_timer_cancel(struct sim *sim, sim_timer_id id);

/* Number of events that are scheduled and not cancelled. */
size_t sim_pending(const struct sim *sim);

/* Total events run since sim_new (for benchmarks and the study tools). */
uint64_t sim_events_run(const struct sim *sim);

/* ---------------------------------------------------------------- running */

typedef bool (*sim_pred_fn)(struct sim *sim, void *arg);

/* Runs the single next event, advancing the clock to its due time. Returns false when no
 * event is pending or the sim was stopped. */
bool sim_step(struct sim *sim);

/* Runs events until pred(sim, arg) is true (checked before each event and after the last),
 * the virtual clock would pass `deadline_us` (absolute), no event is left, or sim_stop is
 * called. Returns true only when the predicate held. When the deadline is what stopped it,
 * the clock is left at `deadline_us`. pred may be NULL (run to the deadline). Must not be
 * called from inside a task. */
bool sim_run_until(struct sim *sim, sim_pred_fn pred, void *arg, sim_time_us deadline_us);

/* The real-time driver's only door (net/net_loop.c runs the same Raft and KV code as
 * processes over TCP; the simulation never calls this). Advances the clock to `now_us` (never
 * backwards: an earlier `now_us` leaves it where it is), then runs, at that time, the events
 * due by then, at most `events_max` (> 0) of them, in (due time, sequence) order; an event
 * due earlier than `now_us` runs late, at `now_us`, as a timer of a busy real process does.
 * Returns the number run. Must not be called from inside a task. */
size_t sim_run_due(struct sim *sim, sim_time_us now_us, size_t events_max);
/* The due time of the earliest pending event; false when none is pending (the driver sleeps
 * until then). */
bool sim_next_due(const struct sim *sim, sim_time_us *due_us);

/* Installs a function called after every event (and after every task slice). The graded
 * harness uses it to check safety properties continuously. NULL removes it. */
void sim_set_event_hook(struct sim *sim, sim_event_cb hook, void *arg);

/* Asks the running sim_run_until / sim_step loop to return after the current event. Sticky:
 * a stopped sim runs no more events. Used to end a run on a test failure. */
void sim_stop(struct sim *sim);
bool sim_stopped(const struct sim *sim);

/* ---------------------------------------------------------------- PRNG streams */

/* A PRNG stream (xoshiro256**). Derived from (sim seed, name), so components draw
 * independently: adding a draw to one stream never reshuffles another. Plain value type. */
struct sim_rand {
    uint64_t s[4];
};

/* Initialises `r` from the sim's seed and the stream name. */
void sim_rand_init(struct sim_rand *r, const struct sim *sim, const char *name);
/* Same, with an integer suffix (e.g. "raft.timer", node 3). */
void sim_rand_init_n(struct sim_rand *r, const struct sim *sim, const char *name, int64_t n);
/* Seeds directly from a 64-bit value (kernel tests and tools only). */
void sim_rand_seed(struct sim_rand *r, uint64_t seed);

uint64_t sim_rand_u64(struct sim_rand *r);
/* Uniform in [0, n) without modulo bias; n must be > 0. */
uint64_t sim_rand_below(struct sim_rand *r, uint64_t n);
/* Uniform in [lo, hi]; lo <= hi. */
int64_t sim_rand_range(struct sim_rand *r, int64_t lo, int64_t hi);
/* True with probability num/den. */
bool sim_rand_chance(struct sim_rand *r, uint64_t num, uint64_t den);
/* Fisher-Yates shuffle of n ints. */
void sim_rand_shuffle_int(struct sim_rand *r, int *v, size_t n);

/* Go's nrand(): a uniform 62-bit draw, [0, 2^62), from a stream the kernel owns ("sim.nrand"),
 * for code that must name itself uniquely without a harness handing names out (a kvraft clerk
 * makes its client id this way). Its draws move no other stream. Two draws of one run collide
 * with probability about k^2 / 2^63 for k draws: never, in practice. */
uint64_t sim_nrand(struct sim *sim);

/* ---------------------------------------------------------------- tasks */

/* Tasks are coroutines on their own stacks, scheduled by the event queue. They let test
 * bodies and clerks be written as straight-line blocking code. Servers stay event-driven.
 *
 * A task runs until it blocks in one of the sim_task_* / sim_sleep_us / sim_cond_* calls
 * below; those may only be called from inside a task. */
typedef void (*sim_task_fn)(struct sim *sim, void *arg);

/* Creates a task that starts running fn(sim, arg) as an event at the current time. `name` is
 * copied (for traces and assertion messages). Returns NULL on allocation failure or when
 * SIM_TASKS_MAX tasks are alive. The task frees itself when fn returns. */
struct sim_task *sim_task_spawn(struct sim *sim, const char *name, sim_task_fn fn, void *arg);

/* The task currently running, or NULL when an event callback (not a task) is running. */
struct sim_task *sim_task_current(const struct sim *sim);
const char *sim_task_name(const struct sim_task *task);
size_t sim_tasks_alive(const struct sim *sim);

/* Blocks the current task for `delay_us` of virtual time. A zero delay still yields, as Go's
 * time.Sleep(0) does: every event already due at this instant runs before the task goes on. */
void sim_sleep_us(struct sim *sim, sim_time_us delay_us);

/* Blocks the current task until sim_task_wake(task) or until `timeout_us` has passed
 * (SIM_TIMEOUT_NEVER to wait forever). Returns true when woken, false on timeout. */
#define SIM_TIMEOUT_NEVER UINT64_MAX
bool sim_task_park(struct sim *sim, sim_time_us timeout_us);

/* Makes a parked task runnable (it resumes as a new event at the current time). Waking a task
 * that is not parked is a no-op returning false. Callable from events and tasks. */
bool sim_task_wake(struct sim *sim, struct sim_task *task);

/* Ends the current task at once, without returning to its function (like Go's
 * runtime.Goexit after t.Fatalf). Its stack is released; memory it allocated is not. */
_Noreturn void sim_task_exit(struct sim *sim);

/* A condition: a set of waiting tasks. Broadcast wakes them all. Caller-allocated; no
 * teardown needed beyond no task waiting on it. */
#define SIM_COND_WAITERS_MAX SIM_TASKS_MAX
struct sim_cond {
    struct sim_task *waiters[SIM_COND_WAITERS_MAX];
    uint32_t waiters_count;
};
void sim_cond_init(struct sim_cond *cond);
/* Parks the current task on cond until broadcast or timeout. Returns true when woken. */
bool sim_cond_wait(struct sim *sim, struct sim_cond *cond, sim_time_us timeout_us);
void sim_cond_broadcast(struct sim *sim, struct sim_cond *cond);

/* Blocks the current task until pred(sim, arg) holds, re-checking it every `poll_us` of virtual
 * time, for at most `limit_us`. Returns true when the predicate held. */
bool sim_wait_until(struct sim *sim, sim_pred_fn pred, void *arg, sim_time_us poll_us,
                    sim_time_us limit_us);

/* ---------------------------------------------------------------- trace */

/* Topics: bits of a filter mask. The kernel knows them only as names. */
#define SIM_TOPIC_MAP(X)                                                                           \
    X(SIM_TOPIC_KERNEL, 0, "kernel")                                                               \
    X(SIM_TOPIC_NET, 1, "net")                                                                     \
    X(SIM_TOPIC_TIMER, 2, "timer")                                                                 \
    X(SIM_TOPIC_ROLE, 3, "role")                                                                   \
    X(SIM_TOPIC_VOTE, 4, "vote")                                                                   \
    X(SIM_TOPIC_LOG, 5, "log")                                                                     \
    X(SIM_TOPIC_COMMIT, 6, "commit")                                                               \
    X(SIM_TOPIC_APPLY, 7, "apply")                                                                 \
    X(SIM_TOPIC_PERSIST, 8, "persist")                                                             \
    X(SIM_TOPIC_SNAP, 9, "snap")                                                                   \
    X(SIM_TOPIC_FAULT, 10, "fault")                                                                \
    X(SIM_TOPIC_CLIENT, 11, "client")                                                              \
    X(SIM_TOPIC_TEST, 12, "test")

enum sim_topic {
#define SIM_TOPIC_ENUM(name, bit, text) name = bit,
    SIM_TOPIC_MAP(SIM_TOPIC_ENUM)
#undef SIM_TOPIC_ENUM
        SIM_TOPIC_COUNT
};
#define SIM_TOPIC_BIT(t) (1u << (t))
#define SIM_TOPICS_ALL ((1u << SIM_TOPIC_COUNT) - 1u)

const char *sim_topic_name(enum sim_topic topic);
/* Parses a topic name; returns -1 when unknown. */
int sim_topic_parse(const char *name);

/* A kind of traced event: a stable numeric id (part of the digest, so never reuse one), a
 * dotted name, its topic and the names of its integer fields. Kinds are static const tables
 * owned by the module that emits them. Id ranges: kernel 1-99 (file system 20-29), labrpc
 * 100-199, raft 200-299, kvraft 300-399, harness 400-499, lin 500-599, mr 600-649, the lab 1
 * harness 650-699. */
struct sim_trace_kind {
    uint16_t id;
    enum sim_topic topic;
    const char *name;
    const char *fields[SIM_TRACE_FIELDS_MAX]; /* NULL-terminated when fewer */
};

/* One recorded event. */
struct sim_trace_rec {
    sim_time_us at_us;
    int32_t node;
    const struct sim_trace_kind *kind;
    int64_t v[SIM_TRACE_FIELDS_MAX];
    char text[SIM_TRACE_TEXT_MAX]; /* NUL-terminated, may be empty */
};

/* Emits a traced event. The canonical encoding (time, node, kind id, the kind's fields, text)
 * is always folded into the digest; the record is kept only when recording is on and the
 * kind's topic passes the filter. `text` may be NULL. Unused trailing values must be 0. */
void sim_trace(struct sim *sim, int node, const struct sim_trace_kind *kind, const int64_t *v,
               const char *text);

/* Convenience forms with up to 4 values. */
void sim_trace4(struct sim *sim, int node, const struct sim_trace_kind *kind, int64_t a, int64_t b,
                int64_t c, int64_t d);
void sim_tracef(struct sim *sim, int node, const struct sim_trace_kind *kind, int64_t a, int64_t b,
                const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* Starts keeping records whose topic bit is in `topic_mask` (0 stops). Records are bounded by
 * `records_max`; past it recording stops and sim_trace_truncated says so. */
void sim_trace_record(struct sim *sim, uint32_t topic_mask, size_t records_max);
bool sim_trace_recording(const struct sim *sim, enum sim_topic topic);
size_t sim_trace_count(const struct sim *sim);
const struct sim_trace_rec *sim_trace_at(const struct sim *sim, size_t i);
bool sim_trace_truncated(const struct sim *sim);

/* Registers a callback invoked for each kept record as it is recorded (the step tool uses it).
 * NULL removes it. */
typedef void (*sim_trace_cb)(struct sim *sim, const struct sim_trace_rec *rec, void *arg);
void sim_trace_set_listener(struct sim *sim, sim_trace_cb cb, void *arg);

/* Passes every traced event whose topic is in `topic_mask` to cb as it is traced, whether or
 * not it is recorded, and keeps nothing for it: a run can be compared with a trace file in
 * bounded memory (labsim replay --check-trace). NULL cb stops. The digest is unaffected. */
void sim_trace_set_stream(struct sim *sim, uint32_t topic_mask, sim_trace_cb cb, void *arg);

/* The rolling digest of every event traced so far. */
uint64_t sim_digest(const struct sim *sim);
/* Total events traced (recorded or not). */
uint64_t sim_trace_events(const struct sim *sim);

/* Writes the kept records to `path` in the labsim text trace format, version 2 (see
 * sim_trace.c). `title` (the test name), the digest and the node ids go in the header, a digest
 * of the file's bytes in its last line. Returns SIM_OK or SIM_EIO. */
int sim_trace_write(const struct sim *sim, const char *path, const char *title);

/* ---------------------------------------------------------------- file system */

/* A simulated file system owned by the sim (lab 1's shared working directory): one flat
 * namespace of names (any printable ASCII without spaces, so "../pg-grimm.txt" is a name like
 * any other), contents in memory, created on first use and freed with the sim. It behaves like
 * a POSIX directory seen by processes on one machine:
 *  - Every write is visible to every node at once (the page cache): a process that dies
 *    mid-way leaves exactly the bytes it wrote, so only a rename publishes a file whole.
 *  - A descriptor names the file, not the name: writes after a rename or remove still go to
 *    that file, and a removed file's bytes live until its last descriptor is closed.
 *  - sim_fs_rename replaces the target atomically: a reader sees the old file or the new one.
 *  - sim_fs_node_down is a process exit: the node's descriptors are closed and its later calls
 *    fail with SIM_FS_EDOWN until sim_fs_node_up (a new process on that node).
 *  - Listing is in byte order of the names, whatever the order of creation.
 * Every operation that changes the file system is traced (topic "persist") and so part of the
 * digest. Names, sizes, files and descriptors are bounded; past a bound a call fails with its
 * code and changes nothing. */
#define SIM_FS_NAME_MAX 128u                 /* bytes of a name, NUL included */
#define SIM_FS_FILES_MAX 4096u               /* names at once */
#define SIM_FS_FDS_MAX 256u                  /* open descriptors at once, all nodes */
#define SIM_FS_FILE_BYTES_MAX (64u << 20)    /* one file */
#define SIM_FS_BYTES_MAX (UINT64_C(1) << 30) /* all files together */
#define SIM_FS_NODES_MAX 64                  /* node ids 0 .. SIM_FS_NODES_MAX - 1 */

#define SIM_FS_ERRNO_MAP(X)                                                                        \
    X(SIM_FS_OK, 0, "success")                                                                     \
    X(SIM_FS_ENOMEM, -1, "out of memory")                                                          \
    X(SIM_FS_ENOENT, -2, "no such file")                                                           \
    X(SIM_FS_ENAME, -3, "bad file name (empty, too long, or not printable ASCII)")                 \
    X(SIM_FS_EFILES, -4, "too many files")                                                         \
    X(SIM_FS_ESPACE, -5, "file or file-system size limit reached")                                 \
    X(SIM_FS_EBADF, -6, "bad file descriptor")                                                     \
    X(SIM_FS_EFDS, -7, "too many open files")                                                      \
    X(SIM_FS_EDOWN, -8, "the calling node's process has exited")                                   \
    X(SIM_FS_EINVAL, -9, "invalid argument")                                                       \
    X(SIM_FS_EIO, -10, "cannot write the real file")

enum sim_fs_err {
#define SIM_FS_ERR_ENUM(name, value, text) name = value,
    SIM_FS_ERRNO_MAP(SIM_FS_ERR_ENUM)
#undef SIM_FS_ERR_ENUM
};

/* Returns a static, never-NULL description of a SIM_FS_* code. */
const char *sim_fs_strerror(int err);

/* Opens `name` for writing on behalf of `node`: sim_fs_create empties the file (creating it
 * when missing), sim_fs_append keeps it and writes at its end. On SIM_FS_OK *fd is the
 * descriptor (>= 0), owned by the node until sim_fs_close or sim_fs_node_down. */
int sim_fs_create(struct sim *sim, int node, const char *name, int *fd);
int sim_fs_append(struct sim *sim, int node, const char *name, int *fd);
/* Appends `len` bytes to the descriptor's file, all or nothing. */
int sim_fs_write(struct sim *sim, int node, int fd, const void *data, size_t len);
int sim_fs_close(struct sim *sim, int node, int fd);
/* create + write + close: NOT atomic (a reader may see the file empty), like os.WriteFile. */
int sim_fs_write_file(struct sim *sim, int node, const char *name, const void *data, size_t len);

/* Reads the whole file into a malloc'd buffer with a NUL after the last byte (so text can be
 * used as a string); the caller frees *data. */
int sim_fs_read(struct sim *sim, int node, const char *name, char **data, size_t *len);
/* The size of `name`, or SIM_FS_ENOENT. Reads nothing, traces nothing. */
int sim_fs_size(const struct sim *sim, const char *name, size_t *len);
bool sim_fs_exists(const struct sim *sim, const char *name);

/* Renames `from` to `to` atomically, replacing `to` when it exists. */
int sim_fs_rename(struct sim *sim, int node, const char *from, const char *to);
int sim_fs_remove(struct sim *sim, int node, const char *name);

/* Listing: the number of names and the i-th name in byte order (NULL when i >= count). The
 * name is borrowed until the next call that creates, renames or removes a file. */
size_t sim_fs_count(const struct sim *sim);
const char *sim_fs_name_at(const struct sim *sim, size_t i);

/* Process exit on `node`: closes its descriptors (the bytes written stay) and makes its later
 * calls fail with SIM_FS_EDOWN. sim_fs_node_up lets a new process on the node use the file
 * system again. Node ids outside [0, SIM_FS_NODES_MAX) are never down. */
void sim_fs_node_down(struct sim *sim, int node);
void sim_fs_node_up(struct sim *sim, int node);
/* Open descriptors of `node` (any node when node is SIM_NODE_NONE). */
size_t sim_fs_open_count(const struct sim *sim, int node);

/* Fault injection into the processes that use the file system (the explorer's mr target); both
 * are off by default, so a run that never sets them is unchanged, digest included.
 *  - A gate is called before every call a node (not SIM_NODE_NONE) makes from inside a sim task,
 *    and before every chunk of a paced write; it may block the calling task (sim_sleep_us,
 *    sim_cond_wait): a process stopped (SIGSTOP) at its next file step. NULL removes it.
 *  - A write pace spreads every write a node makes from a task over virtual time: chunk_bytes
 *    at a time, each after chunk_us, so a process that dies in the middle leaves exactly the
 *    chunks written so far (the write then fails with the process's error, having written a
 *    prefix: the one exception to "all or nothing"). chunk_bytes 0 turns it off.
 * Both return SIM_FS_OK, SIM_FS_ENOMEM (creating the file system) or SIM_FS_EINVAL (chunk_us 0
 * with chunk_bytes > 0). */
typedef void (*sim_fs_gate_fn)(struct sim *sim, int node, void *arg);
int sim_fs_set_gate(struct sim *sim, sim_fs_gate_fn gate, void *arg);
int sim_fs_set_write_pace(struct sim *sim, size_t chunk_bytes, sim_time_us chunk_us);

/* For a user after a run (never called during one): writes every file whose name contains no
 * '/' into the existing real directory `dir`, under the same name. SIM_FS_OK or SIM_FS_EIO. */
int sim_fs_dump(const struct sim *sim, const char *dir);

/* ---------------------------------------------------------------- assertions */

/* Prints "assertion failed: <expr>" with file:line, seed, virtual time, node, the current
 * task, the replay hint, and aborts. Never compiled out. */
#define SIM_ASSERT(sim, node, cond)                                                                \
    do {                                                                                           \
        if (!(cond)) sim_assert_fail((sim), (node), #cond, __FILE__, __LINE__, NULL);              \
    } while (0)

/* Same with a printf-style explanation. */
#define SIM_ASSERTF(sim, node, cond, ...)                                                          \
    do {                                                                                           \
        if (!(cond)) sim_assert_failf((sim), (node), #cond, __FILE__, __LINE__, __VA_ARGS__);      \
    } while (0)

_Noreturn void sim_assert_fail(const struct sim *sim, int node, const char *expr, const char *file,
                               int line, const char *msg);
_Noreturn void sim_assert_failf(const struct sim *sim, int node, const char *expr, const char *file,
                                int line, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#endif /* SIM_H */
