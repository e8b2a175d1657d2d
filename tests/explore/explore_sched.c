/* explore_sched: schedules of the explorer: their bounds and the schedule file (write and
 * parse). It needs nothing of the simulation, so the fuzz target links it alone.
 *
 * The file is small, line-oriented text; '#' starts a comment, blank lines are ignored:
 *
 *   labsim-schedule 1
 *   target raft
 *   seed 42
 *   servers 5
 *   clients 1
 *   ops 200
 *   interval-ms 50
 *   snapshot 1
 *   maxraftstate -1
 *   run-ms 30000
 *   liveness-ms 10000
 *   fault 1200 3000 crash node=2
 *   fault 7000 1500 oneway a=0 b=1,2
 *   fault 9000 2000 drift node=3 ppm=50000
 *
 * A fault line is "fault AT_MS FOR_MS KIND key=value...": crash node=N, partition a=SET,
 * oneway a=SET b=SET, bridge a=SET b=SET, drop, dup permille=P, delay permille=P max-ms=M,
 * reorder, drift node=N ppm=R, crash-leader, isolate-leader (these two pick their server when
 * they begin: the leader of the highest term then), crash-new-leader after-ms=D (the first
 * leader of a later term, crashed D ms after it is seen leading). SET is a comma-separated list of
 * server ids.
 *
 * The mr target (explore_mr.c) reads the same keys its own way: servers counts its processes
 * (the coordinator is node 0, workers are nodes 1 .. servers-1), ops is the number of inputs,
 * interval-ms the time each 4 KB of a file write takes, "app wc" or "app indexer" the
 * application (written for mr only); its faults are crash node=N (a worker killed, a new one
 * started on its node when the fault ends), stall node=N (a worker stopped at its next file step
 * until the fault ends), drop, dup, delay and reorder.
 *
 * Parser invariants: it reads only the `len` bytes it is given, allocates nothing, bounds every
 * line (EXPLORE_LINE_MAX), count (EXPLORE_FAULTS_MAX) and number, and answers anything else with
 * "line N: problem". The written file parses back to the same struct (a test proves it).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "explore.h"

#define SCHED_VERSION 1
#define SCHED_TOKENS_MAX 8u

static const char *const fault_names[EXPLORE_FAULT_KINDS] = {
#define EXPLORE_FAULT_NAME(name, text) text,
    EXPLORE_FAULT_MAP(EXPLORE_FAULT_NAME)
#undef EXPLORE_FAULT_NAME
};

const char *explore_fault_name(enum explore_fault_kind kind)
{
    return (unsigned)kind < EXPLORE_FAULT_KINDS ? fault_names[kind] : "?";
}

bool explore_target_parse(const char *name, enum explore_target *target)
{
    if (strcmp(name, "raft") == 0) {
        *target = EXPLORE_RAFT;
        return true;
    }
    if (strcmp(name, "kvraft") == 0) {
        *target = EXPLORE_KVRAFT;
        return true;
    }
    if (strcmp(name, "mr") == 0) {
        *target = EXPLORE_MR;
        return true;
    }
    return false;
}

const char *explore_target_name(enum explore_target target)
{
    if (target == EXPLORE_MR) return "mr";
    return target == EXPLORE_RAFT ? "raft" : "kvraft";
}

static const char *const mr_app_names[] = {"wc", "indexer"};

uint64_t explore_sched_fault_ms(const struct explore_sched *s)
{
    uint64_t total = 0;
    for (size_t k = 0; k < s->faults_count; k++)
        total += s->faults[k].for_ms;
    return total;
}

/* ---------------------------------------------------------------- bounds */

static int fail(char *msg, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *msg, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, size, fmt, ap);
    va_end(ap);
    return -1;
}

static int validate_masks(const struct explore_fault *f, uint32_t all, char *msg, size_t size)
{
    if (f->a == 0 || (f->a & ~all) != 0) return fail(msg, size, "a= must name servers of this run");
    if (f->kind == EXPLORE_PARTITION) {
        if (f->a == all) return fail(msg, size, "a partition needs servers on both sides");
        return 0;
    }
    if (f->b == 0 || (f->b & ~all) != 0) return fail(msg, size, "b= must name servers of this run");
    if ((f->a & f->b) != 0) return fail(msg, size, "a= and b= overlap");
    if (f->kind == EXPLORE_BRIDGE && (f->a | f->b) == all)
        return fail(msg, size, "a bridge needs a server in neither a= nor b=");
    return 0;
}

/* Which faults a target takes: the mr target only crash and stall, which name a worker (never
 * the coordinator, node 0), and the network's drop, dup, delay and reorder; the others every
 * kind but stall. The kinds' own parameters are checked alike for all (validate_fault). */
static int validate_target_kind(const struct explore_sched *s, const struct explore_fault *f,
                                char *msg, size_t size)
{
    if (s->target != EXPLORE_MR) {
        if (f->kind == EXPLORE_STALL) return fail(msg, size, "stall is a fault of the mr target");
        return 0;
    }
    bool on_worker = f->kind == EXPLORE_CRASH || f->kind == EXPLORE_STALL;
    bool network = f->kind == EXPLORE_DROP || f->kind == EXPLORE_DUP || f->kind == EXPLORE_DELAY ||
                   f->kind == EXPLORE_REORDER;
    if (!on_worker && !network) return fail(msg, size, "not a fault of the mr target");
    if (on_worker && (f->node < 1 || f->node >= s->servers))
        return fail(msg, size, "node= must be a worker, 1..%d", s->servers - 1);
    return 0;
}

static int validate_fault(const struct explore_sched *s, const struct explore_fault *f, char *msg,
                          size_t size)
{
    uint32_t all = (1u << s->servers) - 1u;
    if ((unsigned)f->kind >= EXPLORE_FAULT_KINDS) return fail(msg, size, "unknown fault kind");
    if (f->at_ms >= s->run_ms) return fail(msg, size, "starts at or after run-ms");
    if (f->for_ms == 0 || f->for_ms > s->run_ms)
        return fail(msg, size, "lasts 0 ms or past run-ms");
    if (validate_target_kind(s, f, msg, size) != 0) return -1;
    switch (f->kind) {
    case EXPLORE_CRASH:
    case EXPLORE_DRIFT:
        if (f->node < 0 || f->node >= s->servers) return fail(msg, size, "node= out of range");
        if (f->kind == EXPLORE_DRIFT && (f->value == 0 || f->value < -EXPLORE_DRIFT_PPM_MAX ||
                                         f->value > EXPLORE_DRIFT_PPM_MAX))
            return fail(msg, size, "ppm= must be non-zero within +-%d", EXPLORE_DRIFT_PPM_MAX);
        return 0;
    case EXPLORE_PARTITION:
    case EXPLORE_ONEWAY:
    case EXPLORE_BRIDGE:
        return validate_masks(f, all, msg, size);
    case EXPLORE_DUP:
    case EXPLORE_DELAY:
        if (f->value < 1 || f->value > EXPLORE_PERMILLE_MAX)
            return fail(msg, size, "permille= must be 1..%d", EXPLORE_PERMILLE_MAX);
        if (f->kind == EXPLORE_DELAY && (f->max_ms < 1 || f->max_ms > EXPLORE_DELAY_MS_MAX))
            return fail(msg, size, "max-ms= must be 1..%d", EXPLORE_DELAY_MS_MAX);
        return 0;
    case EXPLORE_CRASH_NEW_LEADER:
        if (f->value < 0 || f->value > EXPLORE_LEAD_MS_MAX)
            return fail(msg, size, "after-ms= must be 0..%d", EXPLORE_LEAD_MS_MAX);
        return 0;
    default:
        return 0;
    }
}

static int validate_params(const struct explore_sched *s, char *msg, size_t size)
{
    if (s->servers < EXPLORE_SERVERS_MIN || s->servers > EXPLORE_SERVERS_MAX)
        return fail(msg, size, "servers must be %d..%d", EXPLORE_SERVERS_MIN, EXPLORE_SERVERS_MAX);
    if (s->clients < 1 || s->clients > EXPLORE_CLIENTS_MAX)
        return fail(msg, size, "clients must be 1..%d", EXPLORE_CLIENTS_MAX);
    if (s->ops < 1 || s->ops > EXPLORE_OPS_MAX)
        return fail(msg, size, "ops must be 1..%d", EXPLORE_OPS_MAX);
    if (s->interval_ms < 1 || s->interval_ms > EXPLORE_INTERVAL_MS_MAX)
        return fail(msg, size, "interval-ms must be 1..%u", EXPLORE_INTERVAL_MS_MAX);
    if (s->maxraftstate != -1 &&
        (s->maxraftstate < 1 || s->maxraftstate > EXPLORE_MAXRAFTSTATE_MAX))
        return fail(msg, size, "maxraftstate must be -1 or 1..%d", EXPLORE_MAXRAFTSTATE_MAX);
    if (s->run_ms < 1000 || s->run_ms > EXPLORE_RUN_MS_MAX)
        return fail(msg, size, "run-ms must be 1000..%u", EXPLORE_RUN_MS_MAX);
    if (s->liveness_ms < 1000 || s->liveness_ms > EXPLORE_LIVENESS_MS_MAX)
        return fail(msg, size, "liveness-ms must be 1000..%u", EXPLORE_LIVENESS_MS_MAX);
    if (s->faults_count > EXPLORE_FAULTS_MAX)
        return fail(msg, size, "more than %u faults", EXPLORE_FAULTS_MAX);
    return 0;
}

/* What the mr target reads of the parameters (validate_params has checked the common bounds). */
static int validate_mr_params(const struct explore_sched *s, char *msg, size_t size)
{
    if (s->target != EXPLORE_MR) {
        if (s->app != EXPLORE_MR_WC) return fail(msg, size, "app is a parameter of the mr target");
        return 0;
    }
    if ((unsigned)s->app > EXPLORE_MR_INDEXER) return fail(msg, size, "unknown app");
    if (s->ops > EXPLORE_MR_INPUTS_MAX)
        return fail(msg, size, "ops (mr: input files) must be 1..%d", EXPLORE_MR_INPUTS_MAX);
    if (s->interval_ms > EXPLORE_MR_PACE_MS_MAX)
        return fail(msg, size, "interval-ms (mr: ms per 4 KB written) must be 1..%u",
                    EXPLORE_MR_PACE_MS_MAX);
    return 0;
}

int explore_sched_validate(const struct explore_sched *s, char *msg, size_t msg_size)
{
    if (s->target != EXPLORE_RAFT && s->target != EXPLORE_KVRAFT && s->target != EXPLORE_MR)
        return fail(msg, msg_size, "unknown target");
    if (validate_params(s, msg, msg_size) != 0) return -1;
    if (validate_mr_params(s, msg, msg_size) != 0) return -1;
    for (size_t k = 0; k < s->faults_count; k++) {
        char why[EXPLORE_MSG_MAX];
        if (validate_fault(s, &s->faults[k], why, sizeof(why)) != 0)
            return fail(msg, msg_size, "fault %zu (%s): %s", k + 1,
                        explore_fault_name(s->faults[k].kind), why);
    }
    return 0;
}

/* ---------------------------------------------------------------- writing */

static void write_set(FILE *out, const char *key, uint32_t mask)
{
    bool first = true;
    fprintf(out, " %s=", key);
    for (int i = 0; i < EXPLORE_SERVERS_MAX; i++) {
        if ((mask & (1u << i)) == 0) continue;
        fprintf(out, first ? "%d" : ",%d", i);
        first = false;
    }
}

static void write_fault(FILE *out, const struct explore_fault *f)
{
    fprintf(out, "fault %" PRIu32 " %" PRIu32 " %s", f->at_ms, f->for_ms,
            explore_fault_name(f->kind));
    switch (f->kind) {
    case EXPLORE_CRASH:
    case EXPLORE_STALL:
        fprintf(out, " node=%d", f->node);
        break;
    case EXPLORE_PARTITION:
        write_set(out, "a", f->a);
        break;
    case EXPLORE_ONEWAY:
    case EXPLORE_BRIDGE:
        write_set(out, "a", f->a);
        write_set(out, "b", f->b);
        break;
    case EXPLORE_DUP:
        fprintf(out, " permille=%" PRId32, f->value);
        break;
    case EXPLORE_DELAY:
        fprintf(out, " permille=%" PRId32 " max-ms=%" PRIu32, f->value, f->max_ms);
        break;
    case EXPLORE_DRIFT:
        fprintf(out, " node=%d ppm=%" PRId32, f->node, f->value);
        break;
    case EXPLORE_CRASH_NEW_LEADER:
        fprintf(out, " after-ms=%" PRId32, f->value);
        break;
    default:
        break;
    }
    fputc('\n', out);
}

int explore_sched_write(const struct explore_sched *s, FILE *out)
{
    fprintf(out, "labsim-schedule %d\n", SCHED_VERSION);
    fprintf(out, "# faults: %zu, fault-ms: %" PRIu64 "; run it: labsim replay --schedule FILE\n",
            s->faults_count, explore_sched_fault_ms(s));
    fprintf(out, "target %s\nseed %" PRIu64 "\nservers %d\nclients %d\nops %d\n",
            explore_target_name(s->target), s->seed, s->servers, s->clients, s->ops);
    fprintf(out, "interval-ms %" PRIu32 "\nsnapshot %d\nmaxraftstate %" PRId32 "\n", s->interval_ms,
            s->snapshot ? 1 : 0, s->maxraftstate);
    fprintf(out, "run-ms %" PRIu32 "\nliveness-ms %" PRIu32 "\n", s->run_ms, s->liveness_ms);
    if (s->target == EXPLORE_MR && (unsigned)s->app <= EXPLORE_MR_INDEXER)
        fprintf(out, "app %s\n", mr_app_names[s->app]);
    for (size_t k = 0; k < s->faults_count; k++)
        write_fault(out, &s->faults[k]);
    return ferror(out) ? -1 : 0;
}

int explore_sched_save(const struct explore_sched *s, const char *path)
{
    FILE *out = fopen(path, "w");
    if (out == NULL) return -1;
    int rc = explore_sched_write(s, out);
    if (fclose(out) != 0) rc = -1;
    return rc;
}

/* ---------------------------------------------------------------- parsing */

/* A whole signed decimal number within [lo, hi]. */
static bool parse_i64(const char *text, int64_t lo, int64_t hi, int64_t *out)
{
    char *end = NULL;
    if (text[0] == '\0' || text[0] == '+' || text[0] == ' ') return false;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi) return false;
    *out = v;
    return true;
}

/* "0,2,4" -> mask; false on anything else (empty, repeated, out of range). */
static bool parse_set(const char *text, uint32_t *mask)
{
    *mask = 0;
    const char *p = text;
    for (int k = 0; k < EXPLORE_SERVERS_MAX; k++) {
        if (*p < '0' || *p >= '0' + EXPLORE_SERVERS_MAX) return false;
        uint32_t bit = 1u << (*p - '0');
        if ((*mask & bit) != 0) return false;
        *mask |= bit;
        p++;
        if (*p == '\0') return true;
        if (*p != ',') return false;
        p++;
    }
    return false;
}

struct parse_line {
    char buf[EXPLORE_LINE_MAX];
    char *tok[SCHED_TOKENS_MAX];
    size_t count;
};

/* Splits on spaces and tabs; false when there are too many tokens. */
static bool tokenize(struct parse_line *l)
{
    l->count = 0;
    char *p = l->buf;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            *p++ = '\0';
        if (*p == '\0') return true;
        if (l->count == SCHED_TOKENS_MAX) return false;
        l->tok[l->count++] = p;
        while (*p != '\0' && *p != ' ' && *p != '\t')
            p++;
    }
}

/* The value of "key=value" options of a fault line; NULL when absent. Sets *bad on an option
 * that is not key=value or is repeated. */
static const char *fault_opt(const struct parse_line *l, const char *key, uint32_t *used)
{
    size_t key_len = strlen(key);
    for (size_t k = 4; k < l->count; k++) {
        if (strncmp(l->tok[k], key, key_len) == 0 && l->tok[k][key_len] == '=') {
            *used |= 1u << k;
            return l->tok[k] + key_len + 1;
        }
    }
    return NULL;
}

static int opt_i64(const struct parse_line *l, const char *key, int64_t lo, int64_t hi,
                   int64_t *out, uint32_t *used, char *msg, size_t size)
{
    const char *v = fault_opt(l, key, used);
    if (v == NULL) return fail(msg, size, "missing %s=", key);
    if (!parse_i64(v, lo, hi, out))
        return fail(msg, size, "%s= needs a number in %" PRId64 "..%" PRId64 ", got '%.32s'", key,
                    lo, hi, v);
    return 0;
}

static int opt_set(const struct parse_line *l, const char *key, uint32_t *mask, uint32_t *used,
                   char *msg, size_t size)
{
    const char *v = fault_opt(l, key, used);
    if (v == NULL) return fail(msg, size, "missing %s=", key);
    if (!parse_set(v, mask))
        return fail(msg, size, "%s= needs server ids like 0,2,4 (each 0..%d once), got '%.32s'",
                    key, EXPLORE_SERVERS_MAX - 1, v);
    return 0;
}

static int parse_fault_opts(const struct parse_line *l, struct explore_fault *f, uint32_t *used,
                            char *msg, size_t size)
{
    int64_t v = 0;
    int rc = 0;
    if (f->kind == EXPLORE_CRASH || f->kind == EXPLORE_DRIFT || f->kind == EXPLORE_STALL) {
        rc = opt_i64(l, "node", 0, EXPLORE_SERVERS_MAX - 1, &v, used, msg, size);
        f->node = (int)v;
    }
    if (rc == 0 && f->kind == EXPLORE_DRIFT) {
        rc = opt_i64(l, "ppm", -EXPLORE_DRIFT_PPM_MAX, EXPLORE_DRIFT_PPM_MAX, &v, used, msg, size);
        f->value = (int32_t)v;
    }
    if (rc == 0 &&
        (f->kind == EXPLORE_PARTITION || f->kind == EXPLORE_ONEWAY || f->kind == EXPLORE_BRIDGE))
        rc = opt_set(l, "a", &f->a, used, msg, size);
    if (rc == 0 && (f->kind == EXPLORE_ONEWAY || f->kind == EXPLORE_BRIDGE))
        rc = opt_set(l, "b", &f->b, used, msg, size);
    if (rc == 0 && (f->kind == EXPLORE_DUP || f->kind == EXPLORE_DELAY)) {
        rc = opt_i64(l, "permille", 1, EXPLORE_PERMILLE_MAX, &v, used, msg, size);
        f->value = (int32_t)v;
    }
    if (rc == 0 && f->kind == EXPLORE_DELAY) {
        rc = opt_i64(l, "max-ms", 1, EXPLORE_DELAY_MS_MAX, &v, used, msg, size);
        f->max_ms = (uint32_t)v;
    }
    if (rc == 0 && f->kind == EXPLORE_CRASH_NEW_LEADER) {
        rc = opt_i64(l, "after-ms", 0, EXPLORE_LEAD_MS_MAX, &v, used, msg, size);
        f->value = (int32_t)v;
    }
    return rc;
}

static int parse_fault(const struct parse_line *l, struct explore_sched *s, char *msg, size_t size)
{
    int64_t at = 0;
    int64_t len = 0;
    if (s->faults_count == EXPLORE_FAULTS_MAX)
        return fail(msg, size, "more than %u faults", EXPLORE_FAULTS_MAX);
    if (l->count < 4) return fail(msg, size, "a fault needs AT_MS FOR_MS KIND");
    if (!parse_i64(l->tok[1], 0, EXPLORE_RUN_MS_MAX, &at) ||
        !parse_i64(l->tok[2], 1, EXPLORE_RUN_MS_MAX, &len))
        return fail(msg, size, "AT_MS and FOR_MS must be numbers of ms within %u",
                    EXPLORE_RUN_MS_MAX);
    struct explore_fault *f = &s->faults[s->faults_count];
    *f = (struct explore_fault){.at_ms = (uint32_t)at, .for_ms = (uint32_t)len};
    f->kind = EXPLORE_FAULT_KINDS;
    for (int k = 0; k < EXPLORE_FAULT_KINDS; k++) {
        if (strcmp(l->tok[3], fault_names[k]) == 0) f->kind = (enum explore_fault_kind)k;
    }
    if (f->kind == EXPLORE_FAULT_KINDS)
        return fail(msg, size, "unknown fault kind '%.32s'", l->tok[3]);
    uint32_t used = 0;
    if (parse_fault_opts(l, f, &used, msg, size) != 0) return -1;
    for (size_t k = 4; k < l->count; k++) {
        if ((used & (1u << k)) == 0)
            return fail(msg, size, "unexpected '%.32s' for a %s fault", l->tok[k], l->tok[3]);
    }
    s->faults_count++;
    return 0;
}

struct param {
    const char *key;
    int64_t lo;
    int64_t hi;
};

static const struct param params[] = {
    {"seed", 0, INT64_MAX},
    {"servers", EXPLORE_SERVERS_MIN, EXPLORE_SERVERS_MAX},
    {"clients", 1, EXPLORE_CLIENTS_MAX},
    {"ops", 1, EXPLORE_OPS_MAX},
    {"interval-ms", 1, EXPLORE_INTERVAL_MS_MAX},
    {"snapshot", 0, 1},
    {"maxraftstate", -1, EXPLORE_MAXRAFTSTATE_MAX},
    {"run-ms", 1000, EXPLORE_RUN_MS_MAX},
    {"liveness-ms", 1000, EXPLORE_LIVENESS_MS_MAX},
};
#define PARAMS_COUNT (sizeof(params) / sizeof(params[0]))

static void param_store(struct explore_sched *s, size_t which, int64_t v)
{
    switch (which) {
    case 0:
        s->seed = (uint64_t)v;
        break;
    case 1:
        s->servers = (int)v;
        break;
    case 2:
        s->clients = (int)v;
        break;
    case 3:
        s->ops = (int)v;
        break;
    case 4:
        s->interval_ms = (uint32_t)v;
        break;
    case 5:
        s->snapshot = v != 0;
        break;
    case 6:
        s->maxraftstate = (int32_t)v;
        break;
    case 7:
        s->run_ms = (uint32_t)v;
        break;
    default:
        s->liveness_ms = (uint32_t)v;
        break;
    }
}

/* "app wc" / "app indexer" (the mr target's application). */
static int parse_app(const struct parse_line *l, struct explore_sched *s, uint32_t *seen, char *msg,
                     size_t size)
{
    const uint32_t app_bit = 1u << (PARAMS_COUNT + 1);
    if ((*seen & app_bit) != 0) return fail(msg, size, "app given twice");
    for (size_t k = 0; k < sizeof(mr_app_names) / sizeof(mr_app_names[0]); k++) {
        if (strcmp(l->tok[1], mr_app_names[k]) != 0) continue;
        s->app = (enum explore_mr_app)k;
        *seen |= app_bit;
        return 0;
    }
    return fail(msg, size, "unknown app '%.32s' (wc or indexer)", l->tok[1]);
}

/* One "key value" line; *seen tracks keys given (bit 0..PARAMS_COUNT-1, then target, app). */
static int parse_param(const struct parse_line *l, struct explore_sched *s, uint32_t *seen,
                       char *msg, size_t size)
{
    const uint32_t target_bit = 1u << PARAMS_COUNT;
    if (l->count != 2) return fail(msg, size, "'%.32s' takes exactly one value", l->tok[0]);
    if (strcmp(l->tok[0], "app") == 0) return parse_app(l, s, seen, msg, size);
    if (strcmp(l->tok[0], "target") == 0) {
        if ((*seen & target_bit) != 0) return fail(msg, size, "target given twice");
        if (!explore_target_parse(l->tok[1], &s->target))
            return fail(msg, size, "unknown target '%.32s' (raft, kvraft or mr)", l->tok[1]);
        *seen |= target_bit;
        return 0;
    }
    for (size_t k = 0; k < PARAMS_COUNT; k++) {
        int64_t v = 0;
        if (strcmp(l->tok[0], params[k].key) != 0) continue;
        if ((*seen & (1u << k)) != 0) return fail(msg, size, "%s given twice", params[k].key);
        if (!parse_i64(l->tok[1], params[k].lo, params[k].hi, &v))
            return fail(msg, size, "%s needs a number in %" PRId64 "..%" PRId64 ", got '%.32s'",
                        params[k].key, params[k].lo, params[k].hi, l->tok[1]);
        param_store(s, k, v);
        *seen |= 1u << k;
        return 0;
    }
    return fail(msg, size, "unknown key '%.32s'", l->tok[0]);
}

static void sched_defaults(struct explore_sched *s)
{
    memset(s, 0, sizeof(*s));
    s->servers = 3;
    s->clients = 1;
    s->ops = 100;
    s->interval_ms = 50;
    s->maxraftstate = -1;
    s->run_ms = 20000;
    s->liveness_ms = EXPLORE_LIVENESS_MS_DEFAULT;
}

/* The mr target's own defaults for what its file leaves out (the target may come last): all
 * eight inputs, 2 ms per 4 KB written, the liveness bound its draw uses. `seen` bits follow
 * params[]: 3 ops, 4 interval-ms, 8 liveness-ms. */
static void mr_defaults(struct explore_sched *s, uint32_t seen)
{
    if (s->target != EXPLORE_MR) return;
    if ((seen & (1u << 3)) == 0) s->ops = EXPLORE_MR_INPUTS_MAX;
    if ((seen & (1u << 4)) == 0) s->interval_ms = 2;
    if ((seen & (1u << 8)) == 0) s->liveness_ms = EXPLORE_MR_LIVENESS_MS;
}

/* One line (comment stripped, tokenized): the version line first, then parameters and faults. */
static int parse_one(struct parse_line *l, bool *versioned, uint32_t *seen, struct explore_sched *s,
                     char *msg, size_t size)
{
    char *hash = strchr(l->buf, '#');
    if (hash != NULL) *hash = '\0';
    if (!tokenize(l)) return fail(msg, size, "too many words (at most %u)", SCHED_TOKENS_MAX);
    if (l->count == 0) return 0;
    if (!*versioned) {
        if (l->count != 2 || strcmp(l->tok[0], "labsim-schedule") != 0)
            return fail(msg, size, "expected 'labsim-schedule %d' first", SCHED_VERSION);
        if (strcmp(l->tok[1], "1") != 0)
            return fail(msg, size, "unsupported version '%.16s' (this labsim reads %d)", l->tok[1],
                        SCHED_VERSION);
        *versioned = true;
        return 0;
    }
    if (strcmp(l->tok[0], "fault") == 0) return parse_fault(l, s, msg, size);
    return parse_param(l, s, seen, msg, size);
}

int explore_sched_parse(const char *text, size_t len, struct explore_sched *s, char *msg,
                        size_t msg_size)
{
    char why[EXPLORE_MSG_MAX];
    struct parse_line line;
    bool versioned = false;
    uint32_t seen = 0;
    size_t line_no = 0;
    sched_defaults(s);
    for (size_t pos = 0; pos < len;) {
        size_t end = pos;
        while (end < len && text[end] != '\n')
            end++;
        line_no++;
        size_t n = end - pos;
        if (n > 0 && text[end - 1] == '\r') n--;
        if (n >= sizeof(line.buf))
            return fail(msg, msg_size, "line %zu: longer than %u bytes", line_no,
                        EXPLORE_LINE_MAX - 1);
        if (memchr(text + pos, '\0', n) != NULL)
            return fail(msg, msg_size, "line %zu: contains a NUL byte", line_no);
        memcpy(line.buf, text + pos, n);
        line.buf[n] = '\0';
        if (parse_one(&line, &versioned, &seen, s, why, sizeof(why)) != 0)
            return fail(msg, msg_size, "line %zu: %s", line_no, why);
        pos = end + 1;
    }
    if (!versioned)
        return fail(msg, msg_size, "line %zu: empty schedule (no 'labsim-schedule 1')", line_no);
    if ((seen & (1u << PARAMS_COUNT)) == 0)
        return fail(msg, msg_size, "line %zu: no 'target' line", line_no);
    if ((seen & 1u) == 0) return fail(msg, msg_size, "line %zu: no 'seed' line", line_no);
    mr_defaults(s, seen);
    if (explore_sched_validate(s, why, sizeof(why)) != 0)
        return fail(msg, msg_size, "line %zu: %s", line_no, why);
    return 0;
}

int explore_sched_load(const char *path, struct explore_sched *s, char *msg, size_t msg_size)
{
    const size_t cap = EXPLORE_FILE_BYTES_MAX;
    FILE *in = fopen(path, "rb");
    if (in == NULL) return fail(msg, msg_size, "%s: cannot open: %s", path, strerror(errno));
    char *buf = malloc(cap + 1);
    if (buf == NULL) {
        fclose(in);
        return fail(msg, msg_size, "%s: out of memory", path);
    }
    size_t len = fread(buf, 1, cap + 1, in);
    bool bad = ferror(in) != 0;
    fclose(in);
    int rc = 0;
    char why[EXPLORE_MSG_MAX];
    if (bad)
        rc = fail(msg, msg_size, "%s: read error", path);
    else if (len > cap)
        rc = fail(msg, msg_size, "%s: larger than %u bytes", path, EXPLORE_FILE_BYTES_MAX);
    else if (explore_sched_parse(buf, len, s, why, sizeof(why)) != 0)
        rc = fail(msg, msg_size, "%s: %s", path, why);
    free(buf);
    return rc;
}
