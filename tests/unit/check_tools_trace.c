/* check_tools_trace: the trace-reading study tools, `labsim log` and `labsim export`, driven as
 * a user drives them: the real binary (path in LABSIM_BIN, set by `make test`) run as a child
 * process with arguments, its exit status, stdout and stderr checked.
 *
 * The traces are made here with the kernel API (sim_trace_record, sim_trace4 / sim_tracef,
 * sim_trace_write) from a scripted run of three nodes: kinds named like labrpc's and Raft's
 * (rpc.send / rpc.deliver / rpc.reply / rpc.drop_reply / rpc.fail, raft.role, raft.append,
 * raft.commit), a harness fault and a kind no tool knows. The HTML timeline is rendered in
 * headless Chromium (a screenshot compared with one of an empty page, and a DOM dump counting
 * the lanes and arrows the page's script drew); that test fails when Chromium is missing.
 */
#define _XOPEN_SOURCE 700 /* posix_openpt and friends, for the terminal-colour test */

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "check_suites.h"
#include "check_util.h"
#include "sim.h"

#define TT_ARGS_MAX 32
#define TT_WIDTH 100     /* --width used by the column tests */
#define TT_TIME_WIDTH 11 /* "    12.345 " before the columns */

/* ---------------------------------------------------------------- the scripted run */

static const struct sim_trace_kind kind_begin = {400, SIM_TOPIC_TEST, "test.begin", {NULL}};
static const struct sim_trace_kind kind_crash = {
    450, SIM_TOPIC_FAULT, "test.crash", {"node", NULL}};
static const struct sim_trace_kind kind_send = {
    100, SIM_TOPIC_NET, "rpc.send", {"call", "server", "bytes", NULL}};
static const struct sim_trace_kind kind_deliver = {
    101, SIM_TOPIC_NET, "rpc.deliver", {"call", "server", "count", "dup", NULL}};
static const struct sim_trace_kind kind_drop_reply = {
    103, SIM_TOPIC_NET, "rpc.drop_reply", {"call", "server", "cut", NULL}};
static const struct sim_trace_kind kind_fail = {
    104, SIM_TOPIC_NET, "rpc.fail", {"call", "server", "reason", NULL}};
static const struct sim_trace_kind kind_reply = {
    105, SIM_TOPIC_NET, "rpc.reply", {"call", "server", "bytes", "held_us", NULL}};
static const struct sim_trace_kind kind_role = {
    200, SIM_TOPIC_ROLE, "raft.role", {"term", "role", NULL}};
static const struct sim_trace_kind kind_append = {
    205, SIM_TOPIC_LOG, "raft.append", {"index", "term", NULL}};
static const struct sim_trace_kind kind_commit = {
    207, SIM_TOPIC_COMMIT, "raft.commit", {"index", "term", NULL}};
static const struct sim_trace_kind kind_widget = {
    777, SIM_TOPIC_CLIENT, "zz.widget", {"a", "b", "c", "d", "e", "f"}};

/* What the demo run contains, for the checks. */
#define DEMO_EVENTS 30
#define DEMO_LANES 4       /* test, 0, 1, 2 */
#define DEMO_LINKS 10      /* 5 requests delivered, 4 replies, 1 lost reply */
#define DEMO_ROLES 6       /* role changes, each the start of a role span */
#define DEMO_RPC_EVENTS 17 /* 6 sends, 5 deliveries, 4 replies, 1 lost reply, 1 failure */

/* One RPC that is delivered and answered: send at now, deliver and reply later. */
static void demo_call(struct sim *sim, int from, int to, int call, const char *method, bool lost)
{
    sim_tracef(sim, from, &kind_send, call, to, "%s", method);
    sim_sleep_us(sim, SIM_MS(4));
    int64_t deliver[SIM_TRACE_FIELDS_MAX] = {call, to, call, 0, 0, 0};
    sim_trace(sim, to, &kind_deliver, deliver, method);
    sim_sleep_us(sim, SIM_MS(3));
    if (lost) {
        int64_t v[SIM_TRACE_FIELDS_MAX] = {call, to, 0, 0, 0, 0};
        sim_trace(sim, from, &kind_drop_reply, v, "reply dropped");
    } else {
        int64_t v[SIM_TRACE_FIELDS_MAX] = {call, to, 40, 0, 0, 0};
        sim_trace(sim, from, &kind_reply, v, method);
    }
}

/* The script: an election won by node 1 (one vote reply lost), one replicated entry, a crash
 * of node 2, a failed call to it, an event of an unknown kind, and a new election. */
static void demo_script(struct sim *sim, void *arg)
{
    (void)arg;
    sim_tracef(sim, SIM_NODE_NONE, &kind_begin, 0, 0, "TestDemo3A");
    for (int n = 0; n < 3; n++)
        sim_trace4(sim, n, &kind_role, 0, 0, 0, 0);
    sim_sleep_us(sim, SIM_MS(150));
    sim_trace4(sim, 1, &kind_role, 1, 1, 0, 0);
    demo_call(sim, 1, 0, 1, "Raft.RequestVote", false);
    demo_call(sim, 1, 2, 2, "Raft.RequestVote", true);
    sim_trace4(sim, 1, &kind_role, 1, 2, 0, 0);
    sim_sleep_us(sim, SIM_MS(30));
    sim_trace4(sim, 1, &kind_append, 1, 1, 0, 0);
    demo_call(sim, 1, 0, 3, "Raft.AppendEntries", false);
    sim_trace4(sim, 0, &kind_append, 1, 1, 0, 0);
    demo_call(sim, 1, 2, 4, "Raft.AppendEntries", false);
    sim_trace4(sim, 2, &kind_append, 1, 1, 0, 0);
    sim_trace4(sim, 1, &kind_commit, 1, 1, 0, 0);
    sim_sleep_us(sim, SIM_MS(200));
    sim_tracef(sim, SIM_NODE_NONE, &kind_crash, 2, 0, "crash 2");
    sim_tracef(sim, 1, &kind_send, 5, 2, "%s", "Raft.AppendEntries");
    sim_sleep_us(sim, SIM_MS(50));
    sim_tracef(sim, 1, &kind_fail, 5, 2, "server dead");
    sim_sleep_us(sim, SIM_MS(100));
    int64_t w[SIM_TRACE_FIELDS_MAX] = {1, -2, 3, 4, 5, INT64_MAX};
    sim_trace(sim, 0, &kind_widget, w, "a\tb\\c\nd");
    sim_sleep_us(sim, SIM_MS(600));
    sim_trace4(sim, 0, &kind_role, 2, 1, 0, 0);
    demo_call(sim, 0, 1, 6, "Raft.RequestVote", false);
}

/* Runs the demo (seed 7) and writes its trace to `path`. */
static void demo_write(const char *path)
{
    struct sim *sim = sim_new(7);
    ck_assert_ptr_nonnull(sim);
    sim_trace_record(sim, SIM_TOPICS_ALL, 1000);
    ck_assert_ptr_nonnull(sim_task_spawn(sim, "demo", demo_script, NULL));
    sim_run_until(sim, NULL, NULL, SIM_S(5));
    ck_assert_uint_eq(sim_trace_count(sim), DEMO_EVENTS);
    ck_assert_int_eq(sim_trace_write(sim, path, "TestDemo3A"), SIM_OK);
    sim_free(sim);
}

/* The environment of the plain runs: no colour hints, no width from the caller's terminal. */
static const char *const tt_env_plain[] = {"COLUMNS", "NO_COLOR", NULL};

static const struct cu_spawn tt_plain = {.env = tt_env_plain};

#define tt_labsim_run(r, ...) cu_labsim((r), &tt_plain, __VA_ARGS__)

/* ---------------------------------------------------------------- output helpers */

static size_t tt_lines(const char *s)
{
    return cu_count(s, "\n");
}

/* Copies line `index` (0-based) of s into buf; false when there are fewer lines. */
static bool tt_line(const char *s, size_t index, char *buf, size_t size)
{
    for (size_t i = 0; i < index; i++) {
        s = strchr(s, '\n');
        if (s == NULL) return false;
        s++;
    }
    const char *end = strchr(s, '\n');
    size_t len = end != NULL ? (size_t)(end - s) : strlen(s);
    if (len == 0 && end == NULL) return false;
    snprintf(buf, size, "%.*s", (int)len, s);
    return true;
}

/* Copies the line at *p into buf and moves *p to the next one; false at the end. */
static bool tt_next_line(const char **p, char *buf, size_t size)
{
    if (**p == '\0') return false;
    const char *end = strchr(*p, '\n');
    size_t len = end != NULL ? (size_t)(end - *p) : strlen(*p);
    snprintf(buf, size, "%.*s", (int)len, *p);
    *p += len + (end != NULL);
    return true;
}

/* The line of s that contains `needle`, copied into buf; false when none. */
static bool tt_line_with(const char *s, const char *needle, char *buf, size_t size)
{
    const char *hit = strstr(s, needle);
    if (hit == NULL) return false;
    const char *start = hit;
    while (start > s && start[-1] != '\n')
        start--;
    const char *end = strchr(hit, '\n');
    size_t len = end != NULL ? (size_t)(end - start) : strlen(start);
    snprintf(buf, size, "%.*s", (int)len, start);
    return true;
}

/* A failed run: the given exit code, nothing on stdout, exactly one line on stderr that starts
 * with `prefix`. */
static void tt_assert_one_line_error(const struct cu_run *r, int code, const char *prefix)
{
    ck_assert_msg(r->status == code, "exit %d, want %d; stderr: %s", r->status, code, r->err);
    ck_assert_msg(r->out_len == 0, "stdout should be empty, got: %.200s", r->out);
    ck_assert_msg(tt_lines(r->err) == 1 && r->err[r->err_len - 1] == '\n',
                  "want one line on stderr, got: %s", r->err);
    ck_assert_msg(strncmp(r->err, prefix, strlen(prefix)) == 0, "stderr '%s' should start '%s'",
                  r->err, prefix);
}

/* ---------------------------------------------------------------- a JSON syntax check */

/* Skips a JSON string starting at *p (at its quote); false when malformed. */
static bool json_string(const char **p, const char *end)
{
    const char *s = *p + 1;
    while (s < end && *s != '"') {
        unsigned char ch = (unsigned char)*s;
        if (ch < 0x20) return false;
        if (ch == '\\') {
            s++;
            if (s >= end) return false;
            if (*s == 'u') {
                for (int i = 1; i <= 4; i++) {
                    if (s + i >= end || strchr("0123456789abcdefABCDEF", s[i]) == NULL)
                        return false;
                }
                s += 4;
            } else if (strchr("\"\\/bfnrt", *s) == NULL) {
                return false;
            }
        }
        s++;
    }
    if (s >= end) return false;
    *p = s + 1;
    return true;
}

static bool json_digits(const char **p, const char *end)
{
    const char *start = *p;
    while (*p < end && **p >= '0' && **p <= '9')
        (*p)++;
    return *p > start;
}

/* Skips a JSON number, true, false or null. */
static bool json_scalar(const char **p, const char *end)
{
    static const char *const words[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t len = strlen(words[i]);
        if ((size_t)(end - *p) >= len && memcmp(*p, words[i], len) == 0) {
            *p += len;
            return true;
        }
    }
    if (*p < end && **p == '-') (*p)++;
    if (*p < end && **p == '0')
        (*p)++;
    else if (!json_digits(p, end))
        return false;
    if (*p < end && **p == '.' && (++*p, !json_digits(p, end))) return false;
    if (*p < end && (**p == 'e' || **p == 'E')) {
        (*p)++;
        if (*p < end && (**p == '+' || **p == '-')) (*p)++;
        return json_digits(p, end);
    }
    return true;
}

enum json_state { J_VALUE, J_VALUE_OR_CLOSE, J_KEY, J_KEY_OR_CLOSE, J_COLON, J_AFTER };

/* Checks that [s, s+len) is one JSON value. Iterative, with an explicit stack. Returns NULL
 * when valid, else where it went wrong. */
static const char *json_check(const char *s, size_t len)
{
    char stack[64];
    size_t depth = 0;
    enum json_state state = J_VALUE;
    const char *p = s;
    const char *end = s + len;
    for (;;) {
        while (p < end && strchr(" \t\r\n", *p) != NULL && *p != '\0')
            p++;
        if (state == J_AFTER && depth == 0) return p == end ? NULL : p;
        if (p >= end) return p;
        char ch = *p;
        bool ok = true;
        if (state == J_VALUE || state == J_VALUE_OR_CLOSE) {
            if (ch == ']' && state == J_VALUE_OR_CLOSE) {
                depth--, p++, state = J_AFTER;
            } else if ((ch == '{' || ch == '[') && depth < sizeof(stack)) {
                stack[depth++] = ch, p++;
                state = ch == '{' ? J_KEY_OR_CLOSE : J_VALUE_OR_CLOSE;
            } else {
                ok = ch == '"' ? json_string(&p, end) : json_scalar(&p, end);
                state = J_AFTER;
            }
        } else if (state == J_KEY || state == J_KEY_OR_CLOSE) {
            if (ch == '}' && state == J_KEY_OR_CLOSE)
                depth--, p++, state = J_AFTER;
            else
                ok = ch == '"' && json_string(&p, end), state = J_COLON;
        } else if (state == J_COLON) {
            ok = ch == ':', p++, state = J_VALUE;
        } else if (ch == ',') {
            p++, state = stack[depth - 1] == '{' ? J_KEY : J_VALUE;
        } else {
            ok = ch == (stack[depth - 1] == '{' ? '}' : ']');
            depth--, p++;
        }
        if (!ok) return p;
    }
}

static void tt_assert_json(const char *s, size_t len)
{
    const char *bad = json_check(s, len);
    ck_assert_msg(bad == NULL, "invalid JSON at byte %td: '%.40s'", bad - s, bad);
}

/* ---------------------------------------------------------------- log: layout */

/* The line holding `needle` has it at column `column` (0 = test) and, when `time` is not
 * NULL, starts with that time. */
static void tt_assert_cell(const char *out, const char *needle, int column, int column_width,
                           const char *time)
{
    char line[1024];
    ck_assert_msg(tt_line_with(out, needle, line, sizeof(line)), "no line with '%s' in:\n%s",
                  needle, out);
    size_t at = (size_t)(strstr(line, needle) - line);
    ck_assert_msg(at == (size_t)(TT_TIME_WIDTH + column * column_width),
                  "'%s' at offset %zu, want column %d at %d: '%s'", needle, at, column,
                  TT_TIME_WIDTH + column * column_width, line);
    if (time != NULL)
        ck_assert_msg(strncmp(line, time, strlen(time)) == 0, "line '%s' should start '%s'", line,
                      time);
}

START_TEST(test_tools_trace_log_columns)
{
    /* Goal: by default each event sits in its node's column (test first, then 0, 1, 2), at a
     * fixed width derived from --width or COLUMNS, word-wrapped inside it, time at the left. */
    struct cu_dir dir;
    char trace[128];
    char line[1024];
    struct cu_run r;
    cu_dir_make(&dir, "tools-trace");
    demo_write(cu_dir_file(&dir, "demo.trace", trace, sizeof(trace)));
    tt_labsim_run(&r, "log", trace, "--width", "100");
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_uint_eq(r.err_len, 0);
    ck_assert(strchr(r.out, '\x1b') == NULL); /* piped: no colour */
    /* The header: title, then the column names at their offsets. */
    int width = (TT_WIDTH - TT_TIME_WIDTH) / DEMO_LANES;
    ck_assert(tt_line(r.out, 0, line, sizeof(line)));
    ck_assert_str_eq(line, "TestDemo3A  seed 7  30 events");
    ck_assert(tt_line(r.out, 1, line, sizeof(line)));
    ck_assert_str_eq(line, "  time (s) test                  node 0                node 1"
                           "                node 2");
    /* Events in their columns, with their times. */
    tt_assert_cell(r.out, "test.begin TestDemo3A", 0, width, "     0.000 ");
    tt_assert_cell(r.out, "rpc.deliver call=1", 1, width, "     0.154 ");
    tt_assert_cell(r.out, "rpc.deliver call=2", 3, width, "     0.161 ");
    tt_assert_cell(r.out, "rpc.fail call=5", 2, width, "     0.458 ");
    tt_assert_cell(r.out, "zz.widget a=1", 1, width, "     0.558 ");
    /* A cell wider than its column goes on under it, without a time. */
    tt_assert_cell(r.out, "role=leader", 2, width, "           ");
    for (const char *p = r.out; tt_next_line(&p, line, sizeof(line));)
        ck_assert_msg(strlen(line) <= TT_WIDTH, "a line is wider than 100: '%s'", line);
    cu_run_free(&r);
    /* COLUMNS sets the width when --width is not given. */
    const char *const env_wide[] = {"COLUMNS=160", "NO_COLOR", NULL};
    const struct cu_spawn wide = {.env = env_wide};
    cu_labsim(&r, &wide, "log", trace);
    ck_assert_int_eq(r.status, 0);
    tt_assert_cell(r.out, "rpc.deliver call=2", 3, (160 - TT_TIME_WIDTH) / DEMO_LANES, NULL);
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

START_TEST(test_tools_trace_log_flat)
{
    /* Goal: --flat prints exactly one line per event: time, node, kind, field=value..., text,
     * with role values named and text escaped the way the file escapes it. */
    struct cu_dir dir;
    char trace[128];
    char line[1024];
    struct cu_run r;
    struct cu_run columns;
    struct cu_run plain;
    cu_dir_make(&dir, "tools-trace");
    demo_write(cu_dir_file(&dir, "demo.trace", trace, sizeof(trace)));
    tt_labsim_run(&r, "log", "--flat", trace);
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_uint_eq(tt_lines(r.out), DEMO_EVENTS);
    ck_assert(tt_line(r.out, 0, line, sizeof(line)));
    ck_assert_str_eq(line, "     0.000 test test.begin TestDemo3A");
    ck_assert(tt_line(r.out, 1, line, sizeof(line)));
    ck_assert_str_eq(line, "     0.000 0    raft.role term=0 role=follower");
    ck_assert(tt_line_with(r.out, "role=leader", line, sizeof(line)));
    ck_assert_str_eq(line, "     0.164 1    raft.role term=1 role=leader");
    ck_assert(tt_line_with(r.out, "rpc.fail", line, sizeof(line)));
    ck_assert_str_eq(line, "     0.458 1    rpc.fail call=5 server=2 reason=0 server dead");
    ck_assert(tt_line_with(r.out, "zz.widget", line, sizeof(line)));
    ck_assert_str_eq(line, "     0.558 0    zz.widget a=1 b=-2 c=3 d=4 e=5 "
                           "f=9223372036854775807 a\\tb\\\\c\\nd");
    /* --columns is the default layout: the same bytes with and without it. */
    tt_labsim_run(&columns, "log", trace, "--columns");
    tt_labsim_run(&plain, "log", trace);
    ck_assert_int_eq(columns.status, 0);
    ck_assert_str_eq(columns.out, plain.out);
    cu_run_free(&columns);
    cu_run_free(&plain);
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* Each line of a --flat output has a time within [from, to] ms and a node in `nodes`. */
static size_t tt_flat_check(const char *out, long from_ms, long to_ms, const char *nodes)
{
    char line[1024];
    size_t n = 0;
    for (const char *p = out; tt_next_line(&p, line, sizeof(line)); n++) {
        long s = 0;
        long ms = 0;
        char node[16];
        ck_assert_msg(sscanf(line, "%ld.%ld %15s", &s, &ms, node) == 3, "bad line '%s'", line);
        ck_assert_msg(s * 1000 + ms >= from_ms && s * 1000 + ms <= to_ms, "out of window: %s",
                      line);
        char want[20];
        snprintf(want, sizeof(want), ",%s,", node);
        ck_assert_msg(strstr(nodes, want) != NULL, "node %s not asked for: %s", node, line);
    }
    return n;
}

START_TEST(test_tools_trace_log_filters)
{
    /* Goal: --topics, --nodes and --from/--to keep exactly the matching events, alone and
     * combined, in both layouts; --nodes also chooses the columns. */
    struct cu_dir dir;
    char trace[128];
    char line[1024];
    struct cu_run r;
    cu_dir_make(&dir, "tools-trace");
    demo_write(cu_dir_file(&dir, "demo.trace", trace, sizeof(trace)));
    tt_labsim_run(&r, "log", trace, "--flat", "--topics", "role");
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_eq(tt_lines(r.out), DEMO_ROLES);
    ck_assert_uint_eq(cu_count(r.out, " raft.role term="), DEMO_ROLES);
    cu_run_free(&r);
    tt_labsim_run(&r, "log", trace, "--flat", "--topics=net,fault");
    ck_assert_uint_eq(tt_lines(r.out), DEMO_RPC_EVENTS + 1);
    cu_run_free(&r);
    /* test: begin, crash; node 0: 2 roles, 2 deliveries, append, widget, send, reply. */
    tt_labsim_run(&r, "log", trace, "--flat", "--nodes", "0,test");
    ck_assert_uint_eq(tt_flat_check(r.out, 0, 100000, ",test,0,"), 10);
    cu_run_free(&r);
    /* 150..200 ms: the first election and the first append. */
    tt_labsim_run(&r, "log", trace, "--flat", "--from", "0.15", "--to", "0.2");
    ck_assert_uint_eq(tt_flat_check(r.out, 150, 200, ",test,0,1,2,"), 11);
    cu_run_free(&r);
    tt_labsim_run(&r, "log", trace, "--flat", "--from", "0.15", "--to", "0.2", "--nodes", "1",
                  "--topics", "net");
    ck_assert_uint_eq(tt_flat_check(r.out, 150, 200, ",1,"), 5); /* 3 sends, reply, lost */
    cu_run_free(&r);
    /* Columns follow --nodes. */
    tt_labsim_run(&r, "log", trace, "--nodes", "2,1", "--width", "60");
    ck_assert(tt_line(r.out, 1, line, sizeof(line)));
    ck_assert_str_eq(line, "  time (s) node 1                  node 2");
    tt_assert_cell(r.out, "rpc.deliver call=2", 1, (60 - TT_TIME_WIDTH) / 2, "     0.161 ");
    ck_assert(strstr(r.out, "test.begin") == NULL);
    cu_run_free(&r);
    /* An empty window is not an error. */
    tt_labsim_run(&r, "log", trace, "--from", "0.3", "--to", "0.4");
    ck_assert_int_eq(r.status, 0);
    ck_assert(strstr(r.out, "(no events match)\n") != NULL);
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* ---------------------------------------------------------------- log: arguments, colour */

struct tt_bad_args {
    const char *args[6]; /* after "log"; "@" stands for the demo trace's path */
    const char *why;
};

static const struct tt_bad_args tt_log_bad[] = {
    {{NULL}, "no file"},
    {{"@", "@"}, "two files"},
    {{"@", "--bogus"}, "unknown flag"},
    {{"@", "-x"}, "unknown short flag"},
    {{"@", "--topics", "nosuch"}, "unknown topic"},
    {{"@", "--topics", "net,,role"}, "empty topic"},
    {{"@", "--topics"}, "missing value"},
    {{"@", "--nodes", "x"}, "bad node"},
    {{"@", "--nodes", "7"}, "node not in the trace"},
    {{"@", "--nodes", "-2"}, "node out of range"},
    {{"@", "--from", "2", "--to", "1"}, "empty window"},
    {{"@", "--from", "-1"}, "negative time"},
    {{"@", "--from", "1.2345678"}, "more than microseconds"},
    {{"@", "--to", "1e3"}, "exponent"},
    {{"@", "--from", "99999999999999999999"}, "huge time"},
    {{"@", "--from", "1\n2"}, "a newline in a time (shown as '?', the error stays one line)"},
    {{"@", "--topics", "net,,\nrole"}, "a newline in a list with an empty item"},
    {{"@", "--width", "5"}, "too narrow"},
    {{"@", "--width", "wide"}, "not a number"},
    {{"@", "--flat", "--columns"}, "two layouts"},
    {{"@", "--plain", "--color"}, "colour and no colour"},
    {{"@", "--flat=yes"}, "value for a switch"},
};

START_TEST(test_tools_trace_log_bad_args)
{
    /* Goal: every bad argument gets one line on stderr naming the problem, nothing on stdout
     * and exit status 2, before any output. Loop index: the case. */
    const struct tt_bad_args *c = &tt_log_bad[_i];
    struct cu_dir dir;
    char trace[128];
    char *argv[TT_ARGS_MAX];
    struct cu_run r;
    int argc = 0;
    cu_dir_make(&dir, "tools-trace");
    demo_write(cu_dir_file(&dir, "demo.trace", trace, sizeof(trace)));
    argv[argc++] = (char *)cu_labsim_bin();
    argv[argc++] = "log";
    for (size_t i = 0; i < 6 && c->args[i] != NULL; i++)
        argv[argc++] = strcmp(c->args[i], "@") == 0 ? trace : (char *)c->args[i];
    argv[argc] = NULL;
    cu_run(&r, argv, &tt_plain);
    ck_assert_msg(r.status == 2, "case '%s': exit %d, stderr: %s", c->why, r.status, r.err);
    tt_assert_one_line_error(&r, 2, "labsim log: ");
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

START_TEST(test_tools_trace_unknown_command)
{
    /* Goal: an unknown subcommand and --help behave: exit 2 with one line, or the usage. */
    struct cu_run r;
    tt_labsim_run(&r, "nosuch");
    tt_assert_one_line_error(&r, 2, "labsim: unknown command 'nosuch'");
    cu_run_free(&r);
    tt_labsim_run(&r, "log", "--help");
    ck_assert_int_eq(r.status, 0);
    ck_assert(strstr(r.out, "usage: labsim log FILE") != NULL);
    cu_run_free(&r);
    tt_labsim_run(&r, "export", "-h");
    ck_assert_int_eq(r.status, 0);
    ck_assert(strstr(r.out, "usage: labsim export FILE") != NULL);
    cu_run_free(&r);
}
END_TEST

START_TEST(test_tools_trace_help_spellings)
{
    /* Goal (issue 11, defect 8): -h, --help and help print the command list (exit 0); help
     * COMMAND is that command's --help; help with an unknown command is an error (exit 2). */
    static const char *const spellings[] = {"-h", "--help", "help"};
    struct cu_run r;
    for (size_t i = 0; i < sizeof(spellings) / sizeof(spellings[0]); i++) {
        tt_labsim_run(&r, spellings[i]);
        ck_assert_msg(r.status == 0, "%s: exit %d: %s", spellings[i], r.status, r.err);
        ck_assert_msg(strstr(r.out, "usage: labsim <command>") != NULL, "%s: %s", spellings[i],
                      r.out);
        ck_assert_ptr_nonnull(strstr(r.out, "  check-determinism "));
        ck_assert_uint_eq(r.err_len, 0);
        cu_run_free(&r);
    }
    tt_labsim_run(&r, "help", "bogus");
    tt_assert_one_line_error(&r, 2, "labsim: unknown command 'bogus'");
    cu_run_free(&r);
    tt_labsim_run(&r, "help", "log");
    ck_assert_int_eq(r.status, 0);
    ck_assert(strstr(r.out, "usage: labsim log FILE") != NULL);
    cu_run_free(&r);
    tt_labsim_run(&r, "help", "log", "export");
    tt_assert_one_line_error(&r, 2, "labsim: help takes at most one command");
    cu_run_free(&r);
}
END_TEST

/* Runs argv with its stdout on a new pseudo-terminal `columns` wide (stderr on a pipe). */
static void tt_run_pty(struct cu_run *r, char *const argv[], const char *const env[],
                       unsigned short columns)
{
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    int err_pipe[2];
    struct winsize size = {24, columns, 0, 0};
    ck_assert_msg(master >= 0, "posix_openpt: %s", strerror(errno));
    ck_assert_int_eq(grantpt(master), 0);
    ck_assert_int_eq(unlockpt(master), 0);
    ck_assert_int_eq(ioctl(master, TIOCSWINSZ, &size), 0);
    char slave_path[128];
    snprintf(slave_path, sizeof(slave_path), "%s", ptsname(master));
    ck_assert_int_eq(pipe(err_pipe), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setsid();
        int slave = open(slave_path, O_RDWR);
        close(master);
        if (slave < 0) _exit(126);
        dup2(slave, STDOUT_FILENO);
        dup2(err_pipe[1], STDERR_FILENO);
        const struct cu_spawn how = {.env = env};
        cu_exec(argv, &how);
    }
    close(err_pipe[1]);
    /* A pty master reads EIO once the child's side is closed: the end of its output. */
    cu_collect(r, pid, master, err_pipe[0], CU_TIMEOUT_S);
    close(master);
    close(err_pipe[0]);
}

START_TEST(test_tools_trace_log_color)
{
    /* Goal: topic colours (ANSI escapes) appear on a terminal, unless NO_COLOR is set or
     * --plain is given; never in a pipe unless --color forces them. On a terminal the columns
     * take its width. */
    struct cu_dir dir;
    char trace[128];
    struct cu_run r;
    cu_dir_make(&dir, "tools-trace");
    demo_write(cu_dir_file(&dir, "demo.trace", trace, sizeof(trace)));
    tt_labsim_run(&r, "log", trace, "--flat", "--topics", "role", "--color");
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_eq(cu_count(r.out, "\x1b[1;35mraft.role"), DEMO_ROLES);
    ck_assert_uint_eq(cu_count(r.out, "\x1b[0m\n"), DEMO_ROLES);
    cu_run_free(&r);
    tt_labsim_run(&r, "log", trace);
    ck_assert(strchr(r.out, '\x1b') == NULL);
    cu_run_free(&r);
    char *argv[] = {(char *)cu_labsim_bin(), "log", trace, NULL};
    char *argv_plain[] = {(char *)cu_labsim_bin(), "log", trace, "--plain", NULL};
    const char *const env_no_color[] = {"COLUMNS", "NO_COLOR=1", NULL};
    tt_run_pty(&r, argv, tt_env_plain, 100);
    ck_assert_int_eq(r.status, 0);
    ck_assert_msg(strstr(r.out, "\x1b[1;35mraft.role") != NULL, "no colour on a terminal: %s",
                  r.out);
    cu_run_free(&r);
    tt_run_pty(&r, argv, env_no_color, 100);
    ck_assert_int_eq(r.status, 0);
    ck_assert(strstr(r.out, "raft.role") != NULL);
    ck_assert(strchr(r.out, '\x1b') == NULL);
    cu_run_free(&r);
    /* --plain on a terminal 120 wide: no colour, and the columns fill the terminal. */
    tt_run_pty(&r, argv_plain, tt_env_plain, 120);
    ck_assert_int_eq(r.status, 0);
    ck_assert(strstr(r.out, "raft.role") != NULL);
    ck_assert(strchr(r.out, '\x1b') == NULL);
    tt_assert_cell(r.out, "rpc.deliver call=2", 3, (120 - TT_TIME_WIDTH) / DEMO_LANES, NULL);
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* ---------------------------------------------------------------- export: Perfetto */

/* Counts the lines of a trace-event JSON that contain all of the given fragments. */
static size_t tt_count_lines_with(const char *json, const char *a, const char *b)
{
    char line[2048];
    size_t n = 0;
    for (const char *p = json; tt_next_line(&p, line, sizeof(line));)
        n += strstr(line, a) != NULL && (b == NULL || strstr(line, b) != NULL);
    return n;
}

static int tt_long_cmp(const void *a, const void *b)
{
    long x = *(const long *)a;
    long y = *(const long *)b;
    return (x > y) - (x < y);
}

/* Every flow start ("s") has exactly one end ("f", binding to its enclosing slice) with the
 * same id, and the other way round. Returns the number of flows. */
static size_t tt_check_flows(const char *json)
{
    char line[2048];
    size_t lines = tt_lines(json) + 1;
    long *starts = calloc(lines, sizeof(*starts));
    long *ends = calloc(lines, sizeof(*ends));
    size_t starts_count = 0;
    size_t ends_count = 0;
    ck_assert(starts != NULL && ends != NULL);
    for (const char *p = json; tt_next_line(&p, line, sizeof(line));) {
        bool start = strstr(line, "\"ph\":\"s\"") != NULL;
        bool end = strstr(line, "\"ph\":\"f\"") != NULL;
        const char *id = strstr(line, "\"id\":");
        if (!start && !end) continue;
        ck_assert_msg(id != NULL, "flow without an id: %s", line);
        if (end)
            ck_assert_msg(strstr(line, "\"bp\":\"e\"") != NULL, "flow end not bound: %s", line);
        if (start)
            starts[starts_count++] = strtol(id + 5, NULL, 10);
        else
            ends[ends_count++] = strtol(id + 5, NULL, 10);
    }
    ck_assert_uint_eq(starts_count, ends_count);
    qsort(starts, starts_count, sizeof(*starts), tt_long_cmp);
    qsort(ends, ends_count, sizeof(*ends), tt_long_cmp);
    for (size_t i = 0; i < starts_count; i++) {
        ck_assert_msg(starts[i] == ends[i], "flow %ld has no single end", starts[i]);
        if (i > 0) ck_assert_msg(starts[i] != starts[i - 1], "flow id %ld used twice", starts[i]);
    }
    free(starts);
    free(ends);
    return starts_count;
}

START_TEST(test_tools_trace_export_perfetto)
{
    /* Goal: --format perfetto writes valid trace-event JSON: a named track (process) per node,
     * role changes as "X" slices on a role thread, RPC events as "X" slices joined by "s"/"f"
     * flows (request and reply), other events as "i" instants (faults global), big values as
     * strings, text JSON-escaped. -o writes the same to a file; filters drop flows. */
    struct cu_dir dir;
    char trace[128];
    char out_path[128];
    struct cu_run r;
    struct cu_run to_file;
    cu_dir_make(&dir, "tools-trace");
    demo_write(cu_dir_file(&dir, "demo.trace", trace, sizeof(trace)));
    tt_labsim_run(&r, "export", trace, "--format", "perfetto");
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_uint_eq(r.err_len, 0);
    tt_assert_json(r.out, r.out_len);
    ck_assert(strncmp(r.out, "{\"displayTimeUnit\":\"ms\"", 23) == 0);
    ck_assert(strstr(r.out, "\"traceEvents\":[") != NULL);
    /* Tracks: one process per node, named, each with an events and a role thread. */
    ck_assert_uint_eq(tt_count_lines_with(r.out, "\"process_name\"", NULL), DEMO_LANES);
    ck_assert_uint_eq(tt_count_lines_with(r.out, "\"pid\":1,", "\"test (harness)\""), 1);
    ck_assert_uint_eq(tt_count_lines_with(r.out, "\"pid\":4,", "{\"name\":\"node 2\"}"), 1);
    ck_assert_uint_eq(tt_count_lines_with(r.out, "\"thread_name\"", "\"role\""), DEMO_LANES);
    /* Slices, instants and flows. */
    ck_assert_uint_eq(tt_count_lines_with(r.out, "\"ph\":\"X\"", "\"cat\":\"role\""), DEMO_ROLES);
    ck_assert_uint_eq(tt_count_lines_with(r.out, "\"ph\":\"X\"", "\"name\":\"leader\""), 1);
    ck_assert_uint_eq(tt_count_lines_with(r.out, "\"ph\":\"X\"", "\"cat\":\"net\""),
                      DEMO_RPC_EVENTS);
    ck_assert_uint_eq(tt_count_lines_with(r.out, "\"ph\":\"i\"", NULL),
                      DEMO_EVENTS - DEMO_RPC_EVENTS);
    ck_assert_uint_eq(tt_check_flows(r.out), DEMO_LINKS);
    ck_assert_uint_eq(tt_count_lines_with(r.out, "\"ph\":\"s\"", "\"name\":\"lost reply\""), 1);
    ck_assert_uint_eq(tt_count_lines_with(r.out, "\"test.crash\"", "\"s\":\"g\""), 1);
    ck_assert(strstr(r.out, "\"f\":\"9223372036854775807\",\"text\":\"a\\u0009b\\\\c\\u000ad\"") !=
              NULL);
    /* -o: the same JSON in a file, and a line saying so. */
    tt_labsim_run(&to_file, "export", trace, "--format=perfetto", "-o",
                  cu_dir_file(&dir, "demo.json", out_path, sizeof(out_path)));
    ck_assert_int_eq(to_file.status, 0);
    ck_assert(strstr(to_file.out, "wrote ") != NULL);
    char *file = cu_read_file(out_path, NULL);
    ck_assert_str_eq(file, r.out);
    free(file);
    cu_run_free(&to_file);
    cu_run_free(&r);
    /* Only nodes 0 and 1: the calls between them (1, 3, 6) keep their two flows each. */
    tt_labsim_run(&r, "export", trace, "--format", "perfetto", "--nodes", "0,1");
    tt_assert_json(r.out, r.out_len);
    ck_assert_uint_eq(tt_check_flows(r.out), 6);
    ck_assert_uint_eq(tt_count_lines_with(r.out, "\"process_name\"", NULL), 2);
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* ---------------------------------------------------------------- export: HTML */

/* The JSON embedded in an exported page. */
static void tt_assert_html_data(const char *html, const char *title)
{
    const char *open = "<script type=\"application/json\" id=\"trace-data\">\n";
    const char *data = strstr(html, open);
    ck_assert_ptr_nonnull(data);
    data += strlen(open);
    const char *end = strstr(data, "</script>");
    ck_assert_ptr_nonnull(end);
    tt_assert_json(data, (size_t)(end - data));
    ck_assert(strstr(data, title) != NULL);
}

/* A page that fetches nothing: no external scripts, styles, images, imports or requests. */
static void tt_assert_self_contained(const char *html)
{
    static const char *const banned[] = {
        "<link",  " src=",   "@import", "fetch(",   "XMLHttpRequest",
        "https:", "<iframe", "<img",    "WebSocket"};
    for (size_t i = 0; i < sizeof(banned) / sizeof(banned[0]); i++)
        ck_assert_msg(strstr(html, banned[i]) == NULL, "the page has '%s'", banned[i]);
    /* CSS/SVG url() only points inside the page (the arrowhead markers). */
    ck_assert_uint_eq(cu_count(html, "url("), cu_count(html, "url(#"));
    /* The only URL is the SVG namespace name, which is never fetched. */
    ck_assert_uint_eq(cu_count(html, "http:"), cu_count(html, "http://www.w3.org/2000/svg"));
}

START_TEST(test_tools_trace_export_html)
{
    /* Goal: --format html writes one self-contained page next to the trace (FILE.html) or to
     * -o, with inline CSS and script and the trace embedded as valid JSON. */
    struct cu_dir dir;
    char trace[128];
    char html_path[160];
    char other[128];
    struct cu_run r;
    cu_dir_make(&dir, "tools-trace");
    demo_write(cu_dir_file(&dir, "demo.trace", trace, sizeof(trace)));
    tt_labsim_run(&r, "export", trace, "--format", "html");
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    snprintf(html_path, sizeof(html_path), "%s.html", trace);
    char want[256];
    snprintf(want, sizeof(want), "labsim export: wrote %s (30 events, 10 messages)\n", html_path);
    ck_assert_str_eq(r.out, want);
    cu_run_free(&r);
    char *html = cu_read_file(html_path, NULL);
    ck_assert(strncmp(html, "<!DOCTYPE html>\n", 16) == 0);
    ck_assert(strstr(html, "<title>labsim: TestDemo3A</title>") != NULL);
    ck_assert(strstr(html, "<style>") != NULL);
    ck_assert(strstr(html, "</script>\n</body>\n</html>\n") != NULL);
    tt_assert_self_contained(html);
    tt_assert_html_data(html, "\"TestDemo3A\"");
    /* -o - writes the same page to stdout. */
    tt_labsim_run(&r, "export", trace, "--format", "html", "-o", "-");
    ck_assert_int_eq(r.status, 0);
    ck_assert_str_eq(r.out, html);
    cu_run_free(&r);
    free(html);
    tt_labsim_run(&r, "export", trace, "--format", "html", "--output",
                  cu_dir_file(&dir, "other.html", other, sizeof(other)));
    ck_assert_int_eq(r.status, 0);
    ck_assert_int_eq(access(other, R_OK), 0);
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* ---------------------------------------------------------------- export: HTML in Chromium */

/* What the page's script drew into the timeline <svg>, from a DOM dump. */
static void tt_assert_drawn(const char *dom, int lanes, int arrows, int spans)
{
    char want[160];
    snprintf(want, sizeof(want), "data-lanes=\"%d\" data-arrows=\"%d\" data-spans=\"%d\"", lanes,
             arrows, spans);
    ck_assert_msg(strstr(dom, want) != NULL, "the script did not draw %s:\n%.3000s", want, dom);
    const char *svg = strstr(dom, "<svg id=\"timeline\"");
    ck_assert_ptr_nonnull(svg);
    const char *end = strstr(svg, "</svg>");
    ck_assert_ptr_nonnull(end);
    size_t len = (size_t)(end - svg);
    char *timeline = malloc(len + 1);
    ck_assert_ptr_nonnull(timeline);
    memcpy(timeline, svg, len);
    timeline[len] = '\0';
    ck_assert_uint_eq(cu_count(timeline, "<g class=\"lane\""), (size_t)lanes);
    ck_assert_uint_eq(cu_count(timeline, "class=\"arrow a-"), (size_t)arrows);
    ck_assert_uint_eq(cu_count(timeline, "class=\"span role-"), (size_t)spans);
    free(timeline);
}

START_TEST(test_tools_trace_export_html_chromium)
{
    /* Goal: the exported page renders offline in headless Chromium: its screenshot is far
     * from blank (compared with an empty page's at the same size), and its script drew one
     * lane per node, one arrow per message and one bar per role span. */
    struct cu_dir dir;
    char trace[128];
    char page[160];
    char blank[128];
    char shot[128];
    char blank_shot[128];
    struct cu_run r;
    cu_chromium();
    cu_dir_make(&dir, "tools-trace");
    demo_write(cu_dir_file(&dir, "demo.trace", trace, sizeof(trace)));
    tt_labsim_run(&r, "export", trace, "--format", "html");
    ck_assert_int_eq(r.status, 0);
    cu_run_free(&r);
    snprintf(page, sizeof(page), "%s.html", trace);
    const char *empty = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head>"
                        "<body></body></html>\n";
    cu_write_file(cu_dir_file(&dir, "blank.html", blank, sizeof(blank)), empty, strlen(empty));
    cu_chromium_render(&r, &dir, page, cu_dir_file(&dir, "page.png", shot, sizeof(shot)));
    cu_run_free(&r);
    cu_chromium_render(&r, &dir, blank,
                       cu_dir_file(&dir, "blank.png", blank_shot, sizeof(blank_shot)));
    cu_run_free(&r);
    size_t page_size = cu_png_size(shot);
    size_t blank_size = cu_png_size(blank_shot);
    ck_assert_msg(page_size > 4 * blank_size && page_size > blank_size + 10000,
                  "the page's screenshot (%zu bytes) is hardly bigger than a blank one (%zu)",
                  page_size, blank_size);
    cu_chromium_render(&r, &dir, page, NULL);
    tt_assert_drawn(r.out, DEMO_LANES, DEMO_LINKS, DEMO_ROLES);
    ck_assert(strstr(r.out, "data-faults=\"1\"") != NULL);
    cu_run_free(&r);
    /* Filtered: nodes 0 and 1 in the first 0.3 s: two lanes, calls 1 and 3 (4 arrows), and
     * the four role spans of those nodes that begin before 0.3 s. */
    tt_labsim_run(&r, "export", trace, "--format", "html", "--nodes", "0,1", "--to", "0.3", "-o",
                  page);
    ck_assert_int_eq(r.status, 0);
    cu_run_free(&r);
    cu_chromium_render(&r, &dir, page, NULL);
    tt_assert_drawn(r.out, 2, 4, 4);
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* ---------------------------------------------------------------- malformed trace files */

/* A small valid trace; the corrupt variants change one thing in it. Lines:
 *  1-5 header, 6-7 kinds, 8-10 events. */
#define TT_BASE_HEAD "# labsim-trace 1\n# title TestBase\n# seed 1\n# digest 0123456789abcdef\n"
#define TT_BASE_KINDS "K 100 net rpc.send call server bytes\nK 200 role raft.role term role\n"
#define TT_BASE_E8 "E 10 0 100 1 1 8\tRaft.RequestVote\n"
#define TT_BASE_E9 "E 20 1 200 1 2\t\n"
#define TT_BASE_E10 "E 30 -1 200 1 0\tok\n"
#define TT_BASE_COUNT "# events 3 recorded 3\n"
#define TT_BASE TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS TT_BASE_E8 TT_BASE_E9 TT_BASE_E10

struct tt_corrupt {
    const char *why;
    const char *text; /* NULL: built by tt_corrupt_text */
    size_t len;       /* 0: strlen(text) */
    int line;         /* the line the message must name */
    const char *says; /* part of the message */
};

static const struct tt_corrupt tt_corrupts[] = {
    {"empty file", "", 0, 1, "empty file"},
    {"not a trace", "hello\n", 0, 1, "not a labsim trace"},
    {"later version", "# labsim-trace 3\n", 0, 1, "unsupported trace format version '3'"},
    {"unknown kind id",
     TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS "E 10 0 101 1 1 8\tx\n" TT_BASE_E9 TT_BASE_E10, 0, 8,
     "unknown kind id '101'"},
    {"bad escape",
     TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS TT_BASE_E8 TT_BASE_E9 "E 30 -1 200 1 0\tok\\q\n", 0,
     10, "bad escape"},
    {"escape at the end",
     TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS TT_BASE_E8 TT_BASE_E9 "E 30 -1 200 1 0\tok\\\n", 0,
     10, "bad escape"},
    {"overlong line", NULL, 0, 10, "line longer than 1024 bytes"},
    {"huge time",
     TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS
     "E 99999999999999999999999 0 100 1 1 8\tx\n" TT_BASE_E9 TT_BASE_E10,
     0, 8, "time '99999999999999999999999' is not"},
    {"time past 2^53",
     TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS
     "E 9007199254740992 0 100 1 1 8\tx\n" TT_BASE_E9 TT_BASE_E10,
     0, 8, "below 2^53"},
    {"negative time",
     TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS "E -10 0 100 1 1 8\tx\n" TT_BASE_E9 TT_BASE_E10, 0, 8,
     "time '-10'"},
    {"node out of range",
     TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS TT_BASE_E8 "E 20 99999 200 1 2\t\n" TT_BASE_E10, 0, 9,
     "node '99999' is not a node id"},
    {"node below -1",
     TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS TT_BASE_E8 "E 20 -2 200 1 2\t\n" TT_BASE_E10, 0, 9,
     "node '-2'"},
    {"missing value",
     TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS TT_BASE_E8 "E 20 1 200 1\t\n" TT_BASE_E10, 0, 9,
     "'raft.role' takes 2 integer values"},
    {"extra value",
     TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS TT_BASE_E8 "E 20 1 200 1 2 3\t\n" TT_BASE_E10, 0, 9,
     "takes 2 integer values"},
    {"value overflow",
     TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS
     "E 10 0 100 1 1 9223372036854775808\tx\n" TT_BASE_E9 TT_BASE_E10,
     0, 8, "takes 3 integer values"},
    {"value not a number",
     TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS "E 10 0 100 1 one 8\tx\n" TT_BASE_E9 TT_BASE_E10, 0,
     8, "takes 3 integer values"},
    {"time backwards",
     TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS TT_BASE_E8 TT_BASE_E9 "E 5 -1 200 1 0\tok\n", 0, 10,
     "time goes backwards"},
    {"no TAB", TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS TT_BASE_E8 "E 20 1 200 1 2\n" TT_BASE_E10,
     0, 9, "no TAB"},
    {"cut mid-line",
     TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS TT_BASE_E8 TT_BASE_E9 "E 30 -1 200 1 0\to", 0, 10,
     "no newline"},
    {"NUL byte",
     TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS TT_BASE_E8 "E 20 1 200 1 2\tx\0y\n" TT_BASE_E10,
     sizeof(TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS TT_BASE_E8
            "E 20 1 200 1 2\tx\0y\n" TT_BASE_E10) -
         1,
     9, "NUL byte"},
    {"fewer events than the header says",
     TT_BASE_HEAD "# events 4 recorded 4\n" TT_BASE_KINDS TT_BASE_E8 TT_BASE_E9 TT_BASE_E10, 0, 10,
     "the header says 4 events were recorded, the file has 3"},
    {"kind declared twice",
     TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS
     "K 100 net rpc.other call\n" TT_BASE_E8 TT_BASE_E9 TT_BASE_E10,
     0, 8, "kind id 100 declared twice"},
    {"kind id too big", TT_BASE_HEAD TT_BASE_COUNT "K 65536 net rpc.send call server bytes\n", 0, 6,
     "kind id '65536'"},
    {"unknown topic", TT_BASE_HEAD TT_BASE_COUNT "K 100 netz rpc.send call server bytes\n", 0, 6,
     "unknown topic 'netz'"},
    {"seven fields", TT_BASE_HEAD TT_BASE_COUNT "K 300 log x.y a b c d e f g\n", 0, 6,
     "more than 6 fields"},
    {"text too long", NULL, 0, 10, "text longer than 63 bytes"},
    {"garbage line",
     TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS
     "\x7f\x45LF\x01\x02\n" TT_BASE_E8 TT_BASE_E9 TT_BASE_E10,
     0, 8, "unknown line"},
    {"empty line", TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS "\n" TT_BASE_E8 TT_BASE_E9 TT_BASE_E10,
     0, 8, "unknown line"},
    {"header after records", TT_BASE "# seed 2\n", 0, 11, "header line after the K/E records"},
    {"bad digest", "# labsim-trace 1\n# digest 0123xyz\n", 0, 2, "digest is not 16 hex digits"},
    {"bad seed", "# labsim-trace 1\n# seed -1\n", 0, 2, "seed is not a number"},
    {"bad events line", "# labsim-trace 1\n# events 3 stored 3\n", 0, 2, "malformed events line"},
    {"two spaces",
     TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS "E 10  0 100 1 1 8\tx\n" TT_BASE_E9 TT_BASE_E10, 0, 8,
     "node '' is not"},
    {"CRLF line ends", "# labsim-trace 1\r\n", 0, 1, "CRLF"},
};

/* The variants too long to spell out. Returns a malloc'd text. */
static char *tt_corrupt_text(const struct tt_corrupt *c, size_t *len)
{
    char *text = malloc(8192);
    ck_assert_ptr_nonnull(text);
    const char *base = TT_BASE_HEAD TT_BASE_COUNT TT_BASE_KINDS TT_BASE_E8 TT_BASE_E9;
    size_t text_len = (size_t)(strcmp(c->why, "overlong line") == 0 ? 2000 : 64);
    int n = snprintf(text, 8192, "%sE 30 -1 200 1 0\t%0*d\n", base, (int)text_len, 0);
    ck_assert(n > 0 && n < 8192);
    *len = (size_t)n;
    return text;
}

START_TEST(test_tools_trace_corrupt_files)
{
    /* Goal: each malformed trace gets exit 2 and one line "labsim: FILE:LINE: problem" from
     * both tools, naming the right line, and no output. Loop index: the variant. */
    const struct tt_corrupt *c = &tt_corrupts[_i];
    struct cu_dir dir;
    char path[128];
    char prefix[200];
    struct cu_run r;
    size_t len = c->len != 0 ? c->len : c->text != NULL ? strlen(c->text) : 0;
    char *built = c->text == NULL ? tt_corrupt_text(c, &len) : NULL;
    cu_dir_make(&dir, "tools-trace");
    cu_write_file(cu_dir_file(&dir, "bad.trace", path, sizeof(path)),
                  built != NULL ? built : c->text, len);
    free(built);
    snprintf(prefix, sizeof(prefix), "labsim: %s:%d: ", path, c->line);
    for (int tool = 0; tool < 2; tool++) {
        if (tool == 0)
            tt_labsim_run(&r, "log", path);
        else
            tt_labsim_run(&r, "export", path, "--format", "html");
        ck_assert_msg(r.status == 2, "%s: exit %d, stderr: %s", c->why, r.status, r.err);
        tt_assert_one_line_error(&r, 2, prefix);
        ck_assert_msg(strstr(r.err, c->says) != NULL, "%s: '%s' does not say '%s'", c->why, r.err,
                      c->says);
        cu_run_free(&r);
    }
    char html[160];
    snprintf(html, sizeof(html), "%s.html", path);
    ck_assert_msg(access(html, F_OK) != 0, "a failed export must not leave %s", html);
    cu_dir_remove(&dir);
}
END_TEST

START_TEST(test_tools_trace_base_valid)
{
    /* Goal: the base text the corrupt variants start from is itself valid (so each variant
     * fails for its own reason); a missing file and a directory are one-line errors too. */
    struct cu_dir dir;
    char path[128];
    char prefix[200];
    struct cu_run r;
    cu_dir_make(&dir, "tools-trace");
    cu_write_file(cu_dir_file(&dir, "base.trace", path, sizeof(path)), TT_BASE, strlen(TT_BASE));
    tt_labsim_run(&r, "log", path, "--flat");
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_str_eq(r.out, "     0.000 0    rpc.send call=1 server=1 bytes=8 Raft.RequestVote\n"
                            "     0.000 1    raft.role term=1 role=leader\n"
                            "     0.000 test raft.role term=1 role=follower ok\n");
    cu_run_free(&r);
    tt_labsim_run(&r, "log", cu_dir_file(&dir, "nosuch.trace", path, sizeof(path)));
    snprintf(prefix, sizeof(prefix), "labsim: %s: No such file or directory", path);
    tt_assert_one_line_error(&r, 2, prefix);
    cu_run_free(&r);
    tt_labsim_run(&r, "export", dir.path, "--format", "perfetto");
    snprintf(prefix, sizeof(prefix), "labsim: %s: ", dir.path);
    tt_assert_one_line_error(&r, 2, prefix);
    cu_run_free(&r);
    tt_labsim_run(&r, "export", path, "--format", "svg");
    tt_assert_one_line_error(&r, 2, "labsim export: --format is perfetto or html");
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* ---------------------------------------------------------------- volume and limits */

#define BIG_EVENTS 20000
#define BIG_NODES 5

static const struct sim_trace_kind *const big_kinds[] = {
    &kind_send,   &kind_deliver, &kind_reply, &kind_drop_reply, &kind_fail,  &kind_role,
    &kind_append, &kind_commit,  &kind_crash, &kind_widget,     &kind_begin,
};

/* Random events of every kind on 5 nodes and the harness, from the "tt.big" stream. */
static void big_script(struct sim *sim, void *arg)
{
    struct sim_rand *rand = arg;
    size_t kinds = sizeof(big_kinds) / sizeof(big_kinds[0]);
    for (int i = 0; i < BIG_EVENTS; i++) {
        sim_sleep_us(sim, sim_rand_below(rand, 2000));
        int node = (int)sim_rand_range(rand, -1, BIG_NODES - 1);
        const struct sim_trace_kind *kind = big_kinds[sim_rand_below(rand, kinds)];
        int64_t v[SIM_TRACE_FIELDS_MAX] = {0};
        for (int k = 0; k < (int)SIM_TRACE_FIELDS_MAX && kind->fields[k] != NULL; k++)
            v[k] = sim_rand_range(rand, -3, 40);
        sim_trace(sim, node, kind, v, sim_rand_chance(rand, 1, 2) ? "Raft.AppendEntries" : "");
    }
}

START_TEST(test_tools_trace_big)
{
    /* Goal (seed 11): a long random trace of every kind, with calls that match, half match or
     * do not match at all, goes through both tools whole: one flat line per event, valid JSON,
     * every flow paired, a page whose embedded data is valid JSON. */
    struct cu_dir dir;
    char trace[128];
    char html[160];
    struct cu_run r;
    struct sim_rand rand;
    cu_dir_make(&dir, "tools-trace");
    struct sim *sim = sim_new(11);
    sim_rand_init(&rand, sim, "tt.big");
    sim_trace_record(sim, SIM_TOPICS_ALL, BIG_EVENTS);
    ck_assert_ptr_nonnull(sim_task_spawn(sim, "big", big_script, &rand));
    sim_run_until(sim, NULL, NULL, SIM_S(100));
    ck_assert_uint_eq(sim_trace_count(sim), BIG_EVENTS);
    ck_assert_int_eq(
        sim_trace_write(sim, cu_dir_file(&dir, "big.trace", trace, sizeof(trace)), "TestBig"),
        SIM_OK);
    sim_free(sim);
    tt_labsim_run(&r, "log", trace, "--flat");
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_eq(tt_lines(r.out), BIG_EVENTS);
    cu_run_free(&r);
    tt_labsim_run(&r, "log", trace, "--width", "200");
    ck_assert_int_eq(r.status, 0);
    ck_assert_uint_ge(tt_lines(r.out), BIG_EVENTS + 3);
    cu_run_free(&r);
    tt_labsim_run(&r, "export", trace, "--format", "perfetto");
    ck_assert_int_eq(r.status, 0);
    tt_assert_json(r.out, r.out_len);
    ck_assert_uint_gt(tt_check_flows(r.out), 0);
    cu_run_free(&r);
    tt_labsim_run(&r, "export", trace, "--format", "html", "-o",
                  cu_dir_file(&dir, "big.html", html, sizeof(html)));
    ck_assert_int_eq(r.status, 0);
    cu_run_free(&r);
    char *page = cu_read_file(html, NULL);
    tt_assert_html_data(page, "\"TestBig\"");
    free(page);
    cu_dir_remove(&dir);
}
END_TEST

START_TEST(test_tools_trace_limits)
{
    /* Goal: a trace with more distinct nodes than the tools take is refused with one line
     * naming the line of the first node too many; the largest node id and 64 nodes load. */
    struct cu_dir dir;
    char path[128];
    char prefix[200];
    struct cu_run r;
    char *text = malloc(1 << 16);
    ck_assert_ptr_nonnull(text);
    size_t len = (size_t)snprintf(text, 1 << 16, "# labsim-trace 1\nK 1 kernel k.x\n");
    for (int node = 0; node < 65; node++)
        len += (size_t)snprintf(text + len, (1 << 16) - len, "E %d %d 1\t\n", node,
                                node == 63 ? 4095 : node);
    cu_dir_make(&dir, "tools-trace");
    cu_write_file(cu_dir_file(&dir, "many.trace", path, sizeof(path)), text, len);
    tt_labsim_run(&r, "log", path, "--flat");
    snprintf(prefix, sizeof(prefix), "labsim: %s:67: more than 64 distinct nodes", path);
    tt_assert_one_line_error(&r, 2, prefix);
    cu_run_free(&r);
    /* Without the last line: 64 nodes, fine, and node 4095 is among them. */
    char *last = strrchr(text, 'E');
    cu_write_file(path, text, (size_t)(last - text));
    tt_labsim_run(&r, "log", path, "--flat", "--nodes", "4095");
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
    ck_assert_str_eq(r.out, "     0.000 4095 k.x\n");
    cu_run_free(&r);
    free(text);
    cu_dir_remove(&dir);
}
END_TEST

/* ---------------------------------------------------------------- version 2: the format */

/* XXH3-64 of the file's bytes before its last line, which must be "# end HEX". */
static void tt_assert_end_digest(const char *text, size_t len)
{
    ck_assert(len > 0 && text[len - 1] == '\n');
    const char *last = text + len - 1;
    while (last > text && last[-1] != '\n')
        last--;
    char want[40];
    snprintf(want, sizeof(want), "# end %016llx\n",
             (unsigned long long)XXH3_64bits(text, (size_t)(last - text)));
    ck_assert_msg(strcmp(last, want) == 0, "last line '%s', want '%s'", last, want);
}

START_TEST(test_tools_trace_v2_format)
{
    /* Goal: sim_trace_write writes version 2: the node ids in the header (so tools lay out
     * columns before the first event) and an end line holding XXH3-64 of every byte before
     * it; the run's digest in the header is the run's, unchanged by the format. */
    struct cu_dir dir;
    char trace[128];
    size_t len = 0;
    cu_dir_make(&dir, "tools-trace");
    demo_write(cu_dir_file(&dir, "demo.trace", trace, sizeof(trace)));
    char *text = cu_read_file(trace, &len);
    ck_assert(strncmp(text, "# labsim-trace 2\n# title TestDemo3A\n# seed 7\n", 45) == 0);
    ck_assert_ptr_nonnull(strstr(text, "\n# events 30 recorded 30\n# nodes -1 0 1 2\nK "));
    tt_assert_end_digest(text, len);
    free(text);
    cu_dir_remove(&dir);
}
END_TEST

/* ---------------------------------------------------------------- bounded memory (defect 3) */

#define TT_HUGE_EVENTS 400000 /* the old tools kept 128 bytes per event: 64 MB of array */
#define TT_RSS_MAX_KB (40 * 1024)

/* Writes a long trace of rpc calls (sent, then delivered) and appends on 5 nodes, in format
 * `version` (1 or 2), with its end line computed as sim_trace_write does. */
static void tt_huge_write(const char *path, int version)
{
    FILE *f = fopen(path, "w");
    XXH3_state_t *hash = XXH3_createState();
    char line[256];
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(hash);
    XXH3_64bits_reset(hash);
    for (long i = -1; i < TT_HUGE_EVENTS; i++) {
        int n = 0;
        int node = (int)(i % 5);
        if (i < 0)
            n = snprintf(line, sizeof(line),
                         "# labsim-trace %d\n# title TestHuge\n# events %d recorded %d\n%s"
                         "K 100 net rpc.send call server bytes\n"
                         "K 101 net rpc.deliver call server count dup\n"
                         "K 205 log raft.append index term\n",
                         version, TT_HUGE_EVENTS, TT_HUGE_EVENTS,
                         version == 2 ? "# nodes 0 1 2 3 4\n" : "");
        else if (i % 3 == 0)
            n = snprintf(line, sizeof(line), "E %ld %d 100 %ld %d 512\tRaft.AppendEntries\n",
                         i * 37, node, i, (node + 1) % 5);
        else if (i % 3 == 1)
            n = snprintf(line, sizeof(line), "E %ld %d 101 %ld %d 1 0\tRaft.AppendEntries\n",
                         i * 37, node, i - 1, node);
        else
            n = snprintf(line, sizeof(line), "E %ld %d 205 %ld 7\tentry\n", i * 37, node, i);
        ck_assert(n > 0 && (size_t)n < sizeof(line));
        XXH3_64bits_update(hash, line, (size_t)n);
        ck_assert_uint_eq(fwrite(line, 1, (size_t)n, f), (size_t)n);
    }
    if (version == 2) fprintf(f, "# end %016llx\n", (unsigned long long)XXH3_64bits_digest(hash));
    XXH3_freeState(hash);
    ck_assert_int_eq(fclose(f), 0);
}

/* A child's peak memory (wait4) also counts what it had before its exec: the forked test
 * process, which grows with the outputs it collects. Under the sanitizers that alone is far
 * above the limit (quarantined buffers), so before each measured run a trivial one (`labsim
 * list`) measures what the test process lends its children; the limit is checked only while
 * that is under half of it, as it is in the normal build (a few MB). Returns that baseline. */
static long tt_peak_baseline_kb(void)
{
    struct cu_run r;
    tt_labsim_run(&r, "list");
    ck_assert_int_eq(r.status, 0);
    long baseline_kb = r.maxrss_kb;
    cu_run_free(&r);
    return baseline_kb;
}

static void tt_assert_small(const struct cu_run *r, long baseline_kb, const char *what)
{
    ck_assert_msg(r->status == 0, "%s: exit %d: %s", what, r->status, r->err);
    ck_assert_msg(r->maxrss_kb > 0, "%s: no peak memory measured", what);
    if (baseline_kb >= TT_RSS_MAX_KB / 2) {
        fprintf(stderr, "%s: peak not checked: a trivial run measures %ld KiB here\n", what,
                baseline_kb);
        return;
    }
    ck_assert_msg(r->maxrss_kb < TT_RSS_MAX_KB,
                  "%s: peak memory %ld KiB for a trace of %d events (limit %d KiB)", what,
                  r->maxrss_kb, TT_HUGE_EVENTS, TT_RSS_MAX_KB);
}

START_TEST(test_tools_trace_memory_bounded)
{
    /* Goal (issue 11, defect 3): log and export read a trace in one pass with bounded memory,
     * so their peak memory does not grow with the trace: 400,000 events (64 MB of events in
     * memory for the old loader) stay under 40 MB, in both formats (version 1 is read twice,
     * still one event at a time), whether every event is printed or none. */
    struct cu_dir dir;
    char v1[128];
    char v2[128];
    char html[128];
    struct cu_run r;
    long baseline_kb = 0;
    cu_dir_make(&dir, "tools-trace");
    tt_huge_write(cu_dir_file(&dir, "huge1.trace", v1, sizeof(v1)), 1);
    tt_huge_write(cu_dir_file(&dir, "huge2.trace", v2, sizeof(v2)), 2);
    baseline_kb = tt_peak_baseline_kb();
    tt_labsim_run(&r, "log", v2, "--flat");
    tt_assert_small(&r, baseline_kb, "log --flat (version 2)");
    ck_assert_uint_eq(tt_lines(r.out), TT_HUGE_EVENTS);
    cu_run_free(&r);
    baseline_kb = tt_peak_baseline_kb();
    tt_labsim_run(&r, "log", v1, "--flat", "--nodes", "4", "--topics", "log");
    tt_assert_small(&r, baseline_kb, "log --flat (version 1)");
    ck_assert_uint_eq(tt_lines(r.out), TT_HUGE_EVENTS / 15);
    cu_run_free(&r);
    baseline_kb = tt_peak_baseline_kb();
    tt_labsim_run(&r, "log", v2, "--topics", "fault");
    tt_assert_small(&r, baseline_kb, "log in columns");
    cu_run_free(&r);
    baseline_kb = tt_peak_baseline_kb();
    tt_labsim_run(&r, "export", v2, "--format", "perfetto", "--topics", "role");
    tt_assert_small(&r, baseline_kb, "export --format perfetto");
    cu_run_free(&r);
    baseline_kb = tt_peak_baseline_kb();
    tt_labsim_run(&r, "export", v1, "--format", "html", "--from", "14.7", "-o",
                  cu_dir_file(&dir, "huge.html", html, sizeof(html)));
    tt_assert_small(&r, baseline_kb, "export --format html");
    /* 14.7 s is event 397298 (37 us apart): 2702 events, and 900 deliveries whose send is
     * among them. */
    ck_assert_msg(strstr(r.out, "(2702 events, 900 messages)") != NULL, "%s", r.out);
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* ---------------------------------------------------------------- a checked body (defect 4) */

/* The byte offsets of the E lines of a trace text; returns their count. */
static size_t tt_event_lines(const char *text, size_t *at, size_t max)
{
    size_t n = 0;
    for (const char *p = text; *p != '\0'; p = strchr(p, '\n') + 1) {
        if (p[0] == 'E' && p[1] == ' ' && n < max) at[n++] = (size_t)(p - text);
        if (strchr(p, '\n') == NULL) break;
    }
    return n;
}

/* Changes one byte of event line `index` (0-based), keeping it well-formed: the last digit of
 * its last value, else of its time. Returns the event's index it changed (the first event at
 * or after `index` with a value). */
static size_t tt_flip_event(char *text, const size_t *at, size_t count, size_t index)
{
    for (size_t e = index; e < count; e++) {
        char *line = text + at[e];
        char *tab = strchr(line, '\t');
        int spaces = 0;
        for (char *p = line; p < tab; p++)
            spaces += *p == ' ';
        if (spaces < 4) continue; /* E t node kind: no value to change */
        char *digit = tab - 1;
        ck_assert(*digit >= '0' && *digit <= '9');
        *digit = (char)('0' + ((*digit - '0') ^ 1));
        return e;
    }
    ck_abort_msg("no event with a value at or after %zu", index);
    return 0;
}

/* `labsim replay --check-trace path`: exit 1 and a TRACE MISMATCH line containing `says`. */
static void tt_assert_mismatch(const char *path, const char *says)
{
    struct cu_run r;
    tt_labsim_run(&r, "replay", "--check-trace", path);
    ck_assert_msg(r.status == 1, "exit %d for %s, want 1: %s%s", r.status, says, r.out, r.err);
    const char *line = strstr(r.out, "TRACE MISMATCH: ");
    ck_assert_msg(line != NULL, "no TRACE MISMATCH in: %s", r.out);
    ck_assert_msg(strstr(line, says) != NULL, "'%s' does not say '%s'", line, says);
    ck_assert_ptr_nonnull(strstr(r.err, "labsim replay: TRACE MISMATCH: "));
    cu_run_free(&r);
}

/* The version 1 form of a version 2 trace (no nodes line, no end line) still checks event by
 * event: as it is, and with its last event changed. */
static void tt_check_v1(const char *text, const char *path)
{
    struct cu_run r;
    size_t at[4096];
    size_t n = 0;
    char *v1 = malloc(strlen(text) + 1);
    ck_assert_ptr_nonnull(v1);
    for (const char *p = text; *p != '\0';) {
        const char *next = strchr(p, '\n') + 1;
        if (strncmp(p, "# nodes", 7) != 0 && strncmp(p, "# end ", 6) != 0) {
            memcpy(v1 + n, p, (size_t)(next - p));
            n += (size_t)(next - p);
        }
        p = next;
    }
    v1[n] = '\0';
    ck_assert(strncmp(v1, "# labsim-trace 2\n", 17) == 0);
    v1[15] = '1';
    cu_write_file(path, v1, n);
    tt_labsim_run(&r, "replay", "--check-trace", path);
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "events compared (version 1: no end digest)\n"));
    cu_run_free(&r);
    size_t count = tt_event_lines(v1, at, sizeof(at) / sizeof(at[0]));
    size_t e = tt_flip_event(v1, at, count, count - 1);
    char want[64];
    snprintf(want, sizeof(want), "event %zu differs: ", e);
    cu_write_file(path, v1, n);
    tt_assert_mismatch(path, want);
    free(v1);
}

START_TEST(test_tools_trace_check_body)
{
    /* Goal (issue 11, defect 4): replay --check-trace compares the body with the replay, event
     * by event: a byte changed in the first, a middle or the last event is named (index,
     * virtual time, node, kind), and a body appended after the end line, duplicated, or
     * extended 70 times with a consistent header and end digest is refused, each with exit 1;
     * the untouched trace passes, and so does its version 1 form, whose events are compared
     * the same way. */
    struct cu_dir dir;
    char trace[128];
    char bad[128];
    char want[160];
    size_t at[4096];
    size_t len = 0;
    struct cu_run r;
    cu_dir_make(&dir, "tools-trace");
    cu_dir_file(&dir, "t.trace", trace, sizeof(trace));
    cu_dir_file(&dir, "bad.trace", bad, sizeof(bad));
    tt_labsim_run(&r, "replay", "TestInitialElection3A", "--seed", "3", "--trace", trace);
    ck_assert_int_eq(r.status, 0);
    cu_run_free(&r);
    tt_labsim_run(&r, "replay", "--check-trace", trace);
    ck_assert_msg(r.status == 0, "%s%s", r.out, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "trace matches the replay: "));
    cu_run_free(&r);
    char *text = cu_read_file(trace, &len);
    size_t count = tt_event_lines(text, at, sizeof(at) / sizeof(at[0]));
    ck_assert_uint_gt(count, 20);
    ck_assert_uint_lt(count, sizeof(at) / sizeof(at[0]));
    size_t starts[3] = {0, count / 2, count - 1};
    for (size_t i = 0; i < 3; i++) {
        char *copy = strdup(text);
        ck_assert_ptr_nonnull(copy);
        size_t e = tt_flip_event(copy, at, count, starts[i]);
        unsigned long long t_us = strtoull(copy + at[e] + 2, NULL, 10);
        cu_write_file(bad, copy, len);
        snprintf(want, sizeof(want), "event %zu differs: the file has %llu.%06llu s, node ", e,
                 t_us / 1000000, t_us % 1000000);
        tt_assert_mismatch(bad, want);
        free(copy);
    }
    /* A body appended after the end line, and the body twice before it. */
    const char *end = strstr(text, "\n# end ") + 1;
    size_t body_len = (size_t)(end - (text + at[0]));
    char *longer = malloc(len + 71 * body_len + 64);
    ck_assert_ptr_nonnull(longer);
    memcpy(longer, text, len);
    memcpy(longer + len, text + at[0], body_len);
    cu_write_file(bad, longer, len + body_len);
    tt_assert_mismatch(bad, "line after the '# end' line");
    size_t head_len = (size_t)(end - text);
    memcpy(longer + head_len, text + at[0], body_len);
    memcpy(longer + head_len + body_len, end, len - head_len);
    cu_write_file(bad, longer, len + body_len);
    tt_assert_mismatch(bad, "");
    /* 70 more copies of the last event (same time, so well-ordered), with the header's count
     * and the end digest made to match: only the comparison with the replay can tell. */
    char *count_line = strstr(text, "# events ");
    unsigned long long traced = 0;
    unsigned long long recorded = 0;
    ck_assert_int_eq(sscanf(count_line, "# events %llu recorded %llu", &traced, &recorded), 2);
    size_t n = (size_t)(count_line - text);
    memcpy(longer, text, n);
    n += (size_t)sprintf(longer + n, "# events %llu recorded %llu\n", traced, recorded + 70);
    const char *after_count = strchr(count_line, '\n') + 1;
    memcpy(longer + n, after_count, (size_t)(end - after_count));
    n += (size_t)(end - after_count);
    size_t last_len = (size_t)(end - (text + at[count - 1]));
    for (int k = 0; k < 70; k++, n += last_len)
        memcpy(longer + n, text + at[count - 1], last_len);
    n += (size_t)sprintf(longer + n, "# end %016llx\n", (unsigned long long)XXH3_64bits(longer, n));
    cu_write_file(bad, longer, n);
    snprintf(want, sizeof(want), "event %zu: the file has ", count);
    tt_assert_mismatch(bad, want);
    tt_check_v1(text, bad);
    free(longer);
    free(text);
    cu_dir_remove(&dir);
}
END_TEST

START_TEST(test_tools_trace_body_streamed)
{
    /* Goal (issue 11, defect 4, for log and export): a version 2 trace whose body was changed
     * after it was written is printed as far as it reads, then refused: every event on stdout,
     * one line naming the end digest mismatch on stderr, exit 2; export removes its output file
     * so no picture stands for it. */
    struct cu_dir dir;
    char trace[128];
    char html[128];
    size_t at[64];
    size_t len = 0;
    struct cu_run r;
    char prefix[200];
    cu_dir_make(&dir, "tools-trace");
    demo_write(cu_dir_file(&dir, "demo.trace", trace, sizeof(trace)));
    char *text = cu_read_file(trace, &len);
    size_t count = tt_event_lines(text, at, sizeof(at) / sizeof(at[0]));
    ck_assert_uint_eq(count, DEMO_EVENTS);
    tt_flip_event(text, at, count, DEMO_EVENTS / 2);
    cu_write_file(trace, text, len);
    size_t end_line = cu_count(text, "\n"); /* the end line is the last */
    free(text);
    snprintf(prefix, sizeof(prefix), "labsim: %s:%zu: the file's bytes do not match its end digest",
             trace, end_line);
    tt_labsim_run(&r, "log", trace, "--flat");
    ck_assert_msg(r.status == 2, "exit %d: %s", r.status, r.err);
    ck_assert_uint_eq(tt_lines(r.out), DEMO_EVENTS);
    ck_assert_msg(tt_lines(r.err) == 1 && strncmp(r.err, prefix, strlen(prefix)) == 0,
                  "stderr '%s' should be one line starting '%s'", r.err, prefix);
    cu_run_free(&r);
    tt_labsim_run(&r, "export", trace, "--format", "html", "-o",
                  cu_dir_file(&dir, "demo.html", html, sizeof(html)));
    tt_assert_one_line_error(&r, 2, prefix);
    ck_assert_msg(access(html, F_OK) != 0, "a refused export must not leave %s", html);
    cu_run_free(&r);
    /* On stdout the JSON is closed properly over what was read. */
    tt_labsim_run(&r, "export", trace, "--format", "perfetto");
    ck_assert_int_eq(r.status, 2);
    tt_assert_json(r.out, r.out_len);
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* Version 2 variants of the base trace: the header lists nodes, the end line closes it. */
#define TT_V2_HEAD "# labsim-trace 2\n# title TestBase\n# events 3 recorded 3\n# nodes -1 0 1\n"

struct tt_v2_bad {
    const char *why;
    const char *text;
    size_t printed; /* events printed by log --flat before the problem */
    int line;
    const char *says;
};

static const struct tt_v2_bad tt_v2_bads[] = {
    {"no end line", TT_V2_HEAD TT_BASE_KINDS TT_BASE_E8 TT_BASE_E9 TT_BASE_E10, 3, 9,
     "no '# end' line: the file is cut short"},
    {"wrong end digest",
     TT_V2_HEAD TT_BASE_KINDS TT_BASE_E8 TT_BASE_E9 TT_BASE_E10 "# end 0123456789abcdef\n", 3, 10,
     "do not match its end digest (0123456789abcdef, computed "},
    {"malformed end line", TT_V2_HEAD TT_BASE_KINDS TT_BASE_E8 TT_BASE_E9 TT_BASE_E10 "# end x\n",
     3, 10, "malformed end line"},
    {"bad third event", TT_V2_HEAD TT_BASE_KINDS TT_BASE_E8 TT_BASE_E9 "E 30 -1 200 1\tok\n", 2, 9,
     "'raft.role' takes 2 integer values"},
    {"node not in the header", TT_V2_HEAD TT_BASE_KINDS TT_BASE_E8 "E 20 2 200 1 2\t\n" TT_BASE_E10,
     1, 8, "node 2 is not in the header's nodes line"},
    {"kind after an event",
     TT_V2_HEAD TT_BASE_KINDS TT_BASE_E8 "K 300 log x.y a\n" TT_BASE_E9 TT_BASE_E10, 1, 8,
     "kind line after the first event"},
    {"no nodes line",
     "# labsim-trace 2\n# events 3 recorded 3\n" TT_BASE_KINDS TT_BASE_E8 TT_BASE_E9 TT_BASE_E10, 0,
     3, "no '# nodes' line"},
    {"no events line", "# labsim-trace 2\n# nodes 0\n" TT_BASE_KINDS, 0, 3, "no '# events' line"},
    {"nodes out of order", "# labsim-trace 2\n# nodes 1 0\n", 0, 2, "not in ascending order"},
    {"more events than the header says",
     "# labsim-trace 2\n# events 2 recorded 2\n# nodes -1 0 1\n" TT_BASE_KINDS TT_BASE_E8 TT_BASE_E9
         TT_BASE_E10,
     2, 8, "more events than the 2 the header says were recorded"},
};

START_TEST(test_tools_trace_v2_bad_files)
{
    /* Goal: a version 2 trace is checked as it streams: each problem is named with its line,
     * after the events before it were printed (log --flat), exit 2. Loop index: the variant. */
    const struct tt_v2_bad *c = &tt_v2_bads[_i];
    struct cu_dir dir;
    char path[128];
    char prefix[200];
    struct cu_run r;
    cu_dir_make(&dir, "tools-trace");
    cu_write_file(cu_dir_file(&dir, "bad.trace", path, sizeof(path)), c->text, strlen(c->text));
    snprintf(prefix, sizeof(prefix), "labsim: %s:%d: ", path, c->line);
    tt_labsim_run(&r, "log", path, "--flat");
    ck_assert_msg(r.status == 2, "%s: exit %d, stderr: %s", c->why, r.status, r.err);
    ck_assert_msg(tt_lines(r.out) == c->printed, "%s: printed %zu events, want %zu", c->why,
                  tt_lines(r.out), c->printed);
    ck_assert_msg(tt_lines(r.err) == 1 && strncmp(r.err, prefix, strlen(prefix)) == 0,
                  "%s: stderr '%s' should be one line starting '%s'", c->why, r.err, prefix);
    ck_assert_msg(strstr(r.err, c->says) != NULL, "%s: '%s' does not say '%s'", c->why, r.err,
                  c->says);
    cu_run_free(&r);
    cu_dir_remove(&dir);
}
END_TEST

/* ---------------------------------------------------------------- the suite */

Suite *tools_trace_suite(void)
{
    Suite *s = suite_create("tools_trace");
    TCase *tc = tcase_create("log");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_tools_trace_log_columns);
    tcase_add_test(tc, test_tools_trace_log_flat);
    tcase_add_test(tc, test_tools_trace_log_filters);
    tcase_add_loop_test(tc, test_tools_trace_log_bad_args, 0,
                        (int)(sizeof(tt_log_bad) / sizeof(tt_log_bad[0])));
    tcase_add_test(tc, test_tools_trace_unknown_command);
    tcase_add_test(tc, test_tools_trace_help_spellings);
    tcase_add_test(tc, test_tools_trace_log_color);
    suite_add_tcase(s, tc);
    tc = tcase_create("export");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_tools_trace_export_perfetto);
    tcase_add_test(tc, test_tools_trace_export_html);
    suite_add_tcase(s, tc);
    tc = tcase_create("chromium");
    tcase_set_timeout(tc, 4 * CU_CHROMIUM_TIMEOUT_S);
    tcase_add_test(tc, test_tools_trace_export_html_chromium);
    suite_add_tcase(s, tc);
    tc = tcase_create("bad_files");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_tools_trace_base_valid);
    tcase_add_loop_test(tc, test_tools_trace_corrupt_files, 0,
                        (int)(sizeof(tt_corrupts) / sizeof(tt_corrupts[0])));
    tcase_add_test(tc, test_tools_trace_limits);
    tcase_add_loop_test(tc, test_tools_trace_v2_bad_files, 0,
                        (int)(sizeof(tt_v2_bads) / sizeof(tt_v2_bads[0])));
    suite_add_tcase(s, tc);
    tc = tcase_create("checked_body");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_tools_trace_v2_format);
    tcase_add_test(tc, test_tools_trace_check_body);
    tcase_add_test(tc, test_tools_trace_body_streamed);
    suite_add_tcase(s, tc);
    tc = tcase_create("volume");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_tools_trace_big);
    suite_add_tcase(s, tc);
    tc = tcase_create("memory");
    tcase_set_timeout(tc, 300); /* a dozen runs over 17 MB traces; slow under the sanitizers */
    tcase_add_test(tc, test_tools_trace_memory_bounded);
    suite_add_tcase(s, tc);
    return s;
}
