/* Unit tests of the linearizability checker (src/lin_*): the search on hand-made histories,
 * random histories compared with a brute-force reference and with the unpruned search (among
 * them append-heavy one-key ones, for the KV model's lookahead), TestUnreliableOneKey4A-shaped
 * histories decided within a small step budget, memory that grows linearly with the history
 * and a byte budget that ends a hopeless search in UNKNOWN, every history of
 * tests/data/porcupine (the repository's copy of porcupine-data) against the verdict its
 * README lists (kv-nopartition's c50 included, checked per key), the two parsers on good and
 * malformed input, the `labsim check` CLI (exit codes, budgets, one-line errors), and the
 * HTML page rendered in headless Chromium.
 *
 * The data directory is $LABSIM_ROOT/tests/data/porcupine (LABSIM_ROOT defaults to the
 * current directory); tests that need it fail, not skip, when it is missing. Random tests use
 * their own splitmix64 generator; each states its seeds (the loop index). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_suites.h"
#include "check_util.h"
#include "lin.h"

#define T_OPS_MAX 96
#define T_BRUTE_OPS_MAX 9

/* ---------------------------------------------------------------- helpers */

static uint64_t t_rand(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t t_below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(t_rand(s) % n);
}

/* The repository's copy of porcupine-data; fails the test when it is missing. */
static const char *t_data_dir(void)
{
    static char dir[1024];
    const char *root = getenv("LABSIM_ROOT");
    snprintf(dir, sizeof(dir), "%s/tests/data/porcupine", root != NULL ? root : ".");
    char readme[1100];
    snprintf(readme, sizeof(readme), "%s/README.md", dir);
    ck_assert_msg(access(readme, R_OK) == 0,
                  "Porcupine test data is missing: %s not found (run from the repository root, "
                  "or set LABSIM_ROOT to it, as `make test` does)",
                  readme);
    return dir;
}

static struct lin_history *t_read(enum lin_format format, const char *rel)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/%s", t_data_dir(), rel);
    struct lin_history *h = NULL;
    struct lin_parse_error err;
    int rc = lin_history_read_file(format, path, &h, &err);
    ck_assert_msg(rc == 0, "%s:%zu: %s", path, err.line, err.message);
    return h;
}

/* Whether op a must precede op b in every linearization. */
static bool t_before(const struct lin_op *a, const struct lin_op *b)
{
    return a->return_us < b->call_us;
}

/* The ops of partition p, as lin_check hands them to the model (in checked-op order), and
 * for each its checked-op index. Returns the count. */
static size_t t_part_ops(const struct lin_op *ops, size_t n, const struct lin_result *res, size_t p,
                         struct lin_op *part_ops, size_t *global)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (lin_result_op_part(res, i) != p) continue;
        part_ops[k] = ops[i];
        global[k++] = i;
    }
    return k;
}

/* Whether the model rejects checked op `op` after `state`: its output is illegal there, or
 * its viable lookahead rejects the state it would leave. */
static bool t_rejected(const struct lin_model *m, void *ctx, uint64_t state, size_t local)
{
    uint64_t next = 0;
    int rc = m->step(ctx, state, local, &next);
    ck_assert_int_ge(rc, 0);
    return rc == 0 || (m->viable != NULL && !m->viable(ctx, next, local));
}

/* Checks what a result claims: per partition, the order is a real-time-respecting sequence
 * the model accepts, complete when OK; on ILLEGAL the failing op is outside the prefix and
 * rejected after it (by the model's step or by its lookahead). Each partition gets its own
 * model context, built from its ops as the checker builds it. */
static void t_assert_result_valid(const struct lin_model *m, const struct lin_op *ops, size_t n,
                                  const struct lin_result *res)
{
    bool *seen = calloc(n + 1, sizeof(*seen));
    struct lin_op *part_ops = calloc(n + 1, sizeof(*part_ops));
    size_t *global = calloc(n + 1, sizeof(*global));
    size_t *local = calloc(n + 1, sizeof(*local));
    ck_assert(seen != NULL && part_ops != NULL && global != NULL && local != NULL);
    for (size_t p = 0; p < lin_result_parts_count(res); p++) {
        size_t count = t_part_ops(ops, n, res, p, part_ops, global);
        for (size_t k = 0; k < count; k++)
            local[global[k]] = k;
        void *ctx = NULL;
        ck_assert_int_eq(m->ctx_new(part_ops, count, &ctx), 0);
        const uint32_t *order = NULL;
        size_t len = lin_result_part_order(res, p, &order);
        uint64_t state = m->init(ctx);
        for (size_t j = 0; j < len; j++) {
            size_t k = order[j];
            ck_assert_uint_lt(k, n);
            ck_assert(!seen[k]);
            ck_assert_uint_eq(lin_result_op_part(res, k), p);
            /* Nothing still pending may have returned before k was called. */
            for (size_t q = 0; q < n; q++) {
                if (!seen[q] && q != k && lin_result_op_part(res, q) == p)
                    ck_assert_msg(!t_before(&ops[q], &ops[k]), "op %zu placed before %zu", k, q);
            }
            seen[k] = true;
            uint64_t next = 0;
            ck_assert_int_eq(m->step(ctx, state, local[k], &next), 1);
            state = next;
        }
        enum lin_verdict v = lin_result_part_verdict(res, p);
        if (v == LIN_OK) ck_assert_uint_eq(len, lin_result_part_ops_count(res, p));
        int64_t fail = lin_result_part_failing_op(res, p);
        ck_assert(v == LIN_ILLEGAL ? fail >= 0 : fail == -1);
        if (fail >= 0) {
            ck_assert(!seen[fail]);
            ck_assert_uint_eq(lin_result_op_part(res, (size_t)fail), p);
            ck_assert(t_rejected(m, ctx, state, local[fail]));
        }
        m->ctx_free(ctx);
    }
    free(seen);
    free(part_ops);
    free(global);
    free(local);
}

/* ---------------------------------------------------------------- brute force reference */

/* Whether some order of all ops, respecting real time, is accepted by the model (one state for
 * the whole history: give it an unpartitioned model). Iterative depth-first search. */
static bool t_brute(const struct lin_model *m, const struct lin_op *ops, size_t n)
{
    ck_assert_uint_le(n, T_BRUTE_OPS_MAX);
    void *ctx = NULL;
    ck_assert_int_eq(m->ctx_new(ops, n, &ctx), 0);
    uint64_t states[T_BRUTE_OPS_MAX + 1];
    size_t choice[T_BRUTE_OPS_MAX + 1];
    size_t picked[T_BRUTE_OPS_MAX + 1];
    bool used[T_BRUTE_OPS_MAX] = {false};
    size_t depth = 0;
    states[0] = m->init(ctx);
    choice[0] = 0;
    bool found = n == 0;
    while (!found) {
        size_t i = choice[depth]++;
        if (i >= n) {
            if (depth == 0) break;
            used[picked[--depth]] = false;
            continue;
        }
        bool ok = !used[i];
        for (size_t q = 0; ok && q < n; q++)
            ok = used[q] || q == i || !t_before(&ops[q], &ops[i]);
        uint64_t next = 0;
        if (!ok || m->step(ctx, states[depth], i, &next) != 1) continue;
        used[i] = true;
        picked[depth++] = i;
        states[depth] = next;
        choice[depth] = 0;
        found = depth == n;
    }
    m->ctx_free(ctx);
    return found;
}

/* ---------------------------------------------------------------- register histories */

struct t_reg {
    struct lin_op ops[T_OPS_MAX];
    struct lin_register_input in[T_OPS_MAX];
    struct lin_register_output out[T_OPS_MAX];
    size_t n;
};

static void t_reg_add(struct t_reg *h, int client, int64_t call, int64_t ret, bool write,
                      int64_t value)
{
    ck_assert_uint_lt(h->n, T_OPS_MAX);
    size_t i = h->n++;
    h->in[i] = (struct lin_register_input){write, write ? value : 0};
    h->out[i] = (struct lin_register_output){write ? 0 : value};
    h->ops[i] = (struct lin_op){client, call, ret, &h->in[i], &h->out[i]};
}

START_TEST(test_lin_register_stale_read)
{
    /* Goal: a read that saw the write, followed by a read that did not, is ILLEGAL; the result
     * names the second read and the prefix before it. */
    struct t_reg h = {.n = 0};
    t_reg_add(&h, 0, 0, 10, true, 1); /* op 0: write(1) over [0, 10] */
    t_reg_add(&h, 1, 2, 5, false, 1); /* op 1: read -> 1, concurrent with the write */
    t_reg_add(&h, 1, 6, 8, false, 0); /* op 2: read -> 0 after seeing 1 */
    struct lin_result *res = NULL;
    ck_assert_int_eq(lin_check(&lin_model_register, h.ops, h.n, NULL, 0, &res), LIN_ILLEGAL);
    ck_assert_int_eq(lin_result_verdict(res), LIN_ILLEGAL);
    ck_assert_uint_eq(lin_result_parts_count(res), 1);
    ck_assert_str_eq(lin_result_part_name(res, 0), "all");
    const uint32_t *order = NULL;
    ck_assert_uint_eq(lin_result_part_order(res, 0, &order), 2);
    ck_assert_uint_eq(order[0], 0);
    ck_assert_uint_eq(order[1], 1);
    ck_assert_int_eq(lin_result_part_failing_op(res, 0), 2);
    ck_assert_str_eq(lin_result_op_text(res, 2), "read() -> 0");
    ck_assert_str_eq(lin_result_state_text(res, 0, -1), "0");
    ck_assert_str_eq(lin_result_state_text(res, 0, 1), "1");
    t_assert_result_valid(&lin_model_register, h.ops, h.n, res);
    lin_result_free(res);

    /* The same reads in the other order are fine: 0 before the write, 1 after it. */
    h.out[1].value = 0;
    h.out[2].value = 1;
    ck_assert_int_eq(lin_check(&lin_model_register, h.ops, h.n, NULL, 0, &res), LIN_OK);
    ck_assert_uint_eq(lin_result_part_order(res, 0, &order), 3);
    ck_assert_uint_eq(order[0], 1);
    ck_assert_uint_eq(order[1], 0);
    ck_assert_uint_eq(order[2], 2);
    ck_assert_str_eq(lin_result_state_text(res, 0, 2), "1");
    t_assert_result_valid(&lin_model_register, h.ops, h.n, res);
    lin_result_free(res);
}
END_TEST

START_TEST(test_lin_register_touching_is_concurrent)
{
    /* Goal: an operation called at the instant another returns counts as concurrent with it
     * (as in Porcupine); one instant later it must follow. */
    struct t_reg h = {.n = 0};
    t_reg_add(&h, 0, 0, 5, true, 1);
    t_reg_add(&h, 1, 5, 6, false, 0); /* called when the write returns: may precede it */
    ck_assert_int_eq(lin_check(&lin_model_register, h.ops, h.n, NULL, 0, NULL), LIN_OK);
    h.ops[1].call_us = 6;
    h.ops[1].return_us = 7;
    ck_assert_int_eq(lin_check(&lin_model_register, h.ops, h.n, NULL, 0, NULL), LIN_ILLEGAL);
}
END_TEST

START_TEST(test_lin_empty_and_bad_arguments)
{
    /* Goal: an empty history is OK with no partitions; bad arguments are errors, never a
     * verdict or a crash. */
    struct lin_result *res = NULL;
    ck_assert_int_eq(lin_check(&lin_model_kv, NULL, 0, NULL, 0, &res), LIN_OK);
    ck_assert_uint_eq(lin_result_parts_count(res), 0);
    ck_assert_uint_eq(lin_result_ops_count(res), 0);
    lin_result_free(res);
    lin_result_free(NULL);

    struct t_reg h = {.n = 0};
    t_reg_add(&h, 0, 10, 5, true, 1); /* returns before it is called */
    ck_assert_int_eq(lin_check(&lin_model_register, h.ops, h.n, NULL, 0, NULL), LIN_EINVAL);
    ck_assert_int_eq(lin_check(NULL, h.ops, h.n, NULL, 0, NULL), LIN_EINVAL);
    ck_assert_int_eq(lin_check(&lin_model_register, NULL, 1, NULL, 0, NULL), LIN_EINVAL);
    h.ops[0].input = NULL;
    h.ops[0].return_us = 20;
    ck_assert_int_eq(lin_check(&lin_model_register, h.ops, h.n, NULL, 0, NULL), LIN_EINVAL);

    struct lin_kv_op kv = {0, 0, 1, LIN_KV_GET, NULL, "", ""};
    ck_assert_int_eq(lin_check_kv(&kv, 1, NULL, NULL), LIN_EINVAL);
    kv.key = "k";
    kv.kind = (enum lin_kv_kind)7;
    ck_assert_int_eq(lin_check_kv(&kv, 1, NULL, NULL), LIN_EINVAL);
    kv.kind = LIN_KV_GET;
    kv.output = NULL;
    ck_assert_int_eq(lin_check_kv(&kv, 1, NULL, NULL), LIN_EINVAL);
    kv.output = "";
    ck_assert_int_eq(lin_check_kv(&kv, 1, NULL, NULL), LIN_OK);

    ck_assert_str_eq(lin_verdict_name(LIN_OK), "OK");
    ck_assert_str_eq(lin_verdict_name(LIN_ILLEGAL), "ILLEGAL");
    ck_assert_str_eq(lin_verdict_name(LIN_UNKNOWN), "UNKNOWN");
    ck_assert_str_eq(lin_strerror(0), "success");
    ck_assert_str_eq(lin_strerror(LIN_ENOMEM), "out of memory");
    ck_assert_str_eq(lin_strerror(LIN_EPARSE), "malformed history");
    ck_assert_str_eq(lin_strerror(-999), "unknown error");
}
END_TEST

START_TEST(test_lin_events_form)
{
    /* Goal: the event form gives the same operations and verdicts as the operation form, and
     * an unmatched, repeated or missing id is an error. */
    struct lin_register_input w1 = {true, 1};
    struct lin_register_input rd = {false, 0};
    struct lin_register_output none = {0};
    struct lin_register_output got1 = {1};
    struct lin_register_output got0 = {0};
    /* write(1) || read -> 1, then read -> 0: ILLEGAL (as in test_lin_register_stale_read). */
    struct lin_event ev[] = {
        {0, LIN_EVENT_CALL, 0, &w1},     {1, LIN_EVENT_CALL, 1, &rd},
        {1, LIN_EVENT_RETURN, 1, &got1}, {1, LIN_EVENT_CALL, 2, &rd},
        {1, LIN_EVENT_RETURN, 2, &got0}, {0, LIN_EVENT_RETURN, 0, &none},
    };
    struct lin_op *ops = NULL;
    size_t n = 0;
    ck_assert_int_eq(lin_events_to_ops(ev, 6, &ops, &n), 0);
    ck_assert_uint_eq(n, 3);
    ck_assert_int_eq(ops[0].call_us, 0);
    ck_assert_int_eq(ops[0].return_us, 5);
    ck_assert_int_eq(ops[2].call_us, 3);
    ck_assert_ptr_eq(ops[2].output, &got0);
    free(ops);
    ck_assert_int_eq(lin_check_events(&lin_model_register, ev, 6, NULL, 0, NULL), LIN_ILLEGAL);
    ev[2].value = &got0;
    ev[4].value = &got1;
    ck_assert_int_eq(lin_check_events(&lin_model_register, ev, 6, NULL, 0, NULL), LIN_OK);

    ev[5].id = 1; /* op 1 returned twice, op 0 never */
    ck_assert_int_eq(lin_events_to_ops(ev, 6, &ops, &n), LIN_EINVAL);
    ev[5].id = 0;
    ck_assert_int_eq(lin_events_to_ops(ev, 5, &ops, &n), LIN_EINVAL); /* odd count */
    ev[1].kind = LIN_EVENT_RETURN;                                    /* a return before its call */
    ck_assert_int_eq(lin_check_events(&lin_model_register, ev, 6, NULL, 0, NULL), LIN_EINVAL);
}
END_TEST

/* ---------------------------------------------------------------- random histories */

/* Random histories: per client sequential operations with random overlaps; outputs computed
 * by applying the operations at random instants inside their intervals, then, half the time,
 * one output corrupted. Times come from a small range so that ties happen. */
struct t_gen {
    struct lin_op ops[T_OPS_MAX];
    int64_t point[T_OPS_MAX]; /* linearization instant * T_OPS_MAX + index */
    size_t n;
    struct lin_register_input reg_in[T_OPS_MAX];
    struct lin_register_output reg_out[T_OPS_MAX];
    struct lin_etcd_input etcd_in[T_OPS_MAX];
    struct lin_etcd_output etcd_out[T_OPS_MAX];
    struct lin_kv_input kv_in[T_OPS_MAX];
    struct lin_kv_output kv_out[T_OPS_MAX];
    char kv_val[T_OPS_MAX][64];
    char kv_arg[T_OPS_MAX][4];
};

static void t_gen_times(struct t_gen *g, uint64_t *seed, size_t n)
{
    uint32_t clients = 1 + t_below(seed, 4);
    int64_t free_at[4] = {0, 0, 0, 0};
    g->n = n;
    for (size_t i = 0; i < n; i++) {
        int c = (int)t_below(seed, clients);
        int64_t call = free_at[c] + t_below(seed, 3);
        int64_t ret = call + t_below(seed, 6);
        free_at[c] = ret + 1;
        int64_t at = call + t_below(seed, (uint32_t)(ret - call + 1));
        g->ops[i] = (struct lin_op){c, call, ret, NULL, NULL};
        g->point[i] = at * T_OPS_MAX + (int64_t)i;
    }
}

/* Like t_gen_times on a coarser grid, where a client may call at the very instant its
 * previous operation returned: many more operations touch (call = another's return), which
 * the checker counts as concurrent, so the tie rules get exercised. */
static void t_gen_times_tight(struct t_gen *g, uint64_t *seed, size_t n)
{
    uint32_t clients = 2 + t_below(seed, 3);
    int64_t free_at[4] = {0, 0, 0, 0};
    g->n = n;
    for (size_t i = 0; i < n; i++) {
        int c = (int)t_below(seed, clients);
        int64_t call = free_at[c] + t_below(seed, 2);
        int64_t ret = call + t_below(seed, 4);
        free_at[c] = ret;
        int64_t at = call + t_below(seed, (uint32_t)(ret - call + 1));
        g->ops[i] = (struct lin_op){c, call, ret, NULL, NULL};
        g->point[i] = at * T_OPS_MAX + (int64_t)i;
    }
}

/* Indices of the ops sorted by their linearization instant (insertion sort: n is small). */
static void t_gen_order(const struct t_gen *g, size_t *order)
{
    for (size_t i = 0; i < g->n; i++) {
        size_t j = i;
        for (; j > 0 && g->point[order[j - 1]] > g->point[i]; j--)
            order[j] = order[j - 1];
        order[j] = i;
    }
}

static void t_gen_register(struct t_gen *g, uint64_t *seed, size_t n)
{
    t_gen_times(g, seed, n);
    size_t order[T_OPS_MAX];
    t_gen_order(g, order);
    int64_t value = 0;
    for (size_t j = 0; j < n; j++) {
        size_t i = order[j];
        bool write = t_below(seed, 2) == 0;
        g->reg_in[i] = (struct lin_register_input){write, t_below(seed, 3)};
        value = write ? g->reg_in[i].value : value;
        g->reg_out[i].value = value;
        g->ops[i].input = &g->reg_in[i];
        g->ops[i].output = &g->reg_out[i];
    }
    if (t_below(seed, 2) == 0) g->reg_out[t_below(seed, (uint32_t)n)].value = t_below(seed, 3);
}

/* One etcd op at its linearization point: applies it to *reg (0 = nil, else value + 1).
 * One op in eight has an unknown outcome (it returns at the end of the history and takes
 * effect or not), one in eight of the reads and writes definitely fails. */
static void t_gen_etcd_op(struct t_gen *g, uint64_t *seed, size_t i, int32_t *reg)
{
    struct lin_etcd_input *in = &g->etcd_in[i];
    struct lin_etcd_output *out = &g->etcd_out[i];
    *in = (struct lin_etcd_input){(enum lin_etcd_kind)t_below(seed, 3), (int32_t)t_below(seed, 3),
                                  (int32_t)t_below(seed, 3)};
    *out = (struct lin_etcd_output){false, true, *reg != 0, *reg != 0 ? *reg - 1 : 0};
    uint32_t fate = t_below(seed, 8);
    bool coin = t_below(seed, 2) == 0;
    int32_t after = *reg;
    if (in->kind == LIN_ETCD_CAS) {
        bool matched = *reg == in->arg1 + 1;
        out->ok = matched;
        after = matched && (fate != 0 || coin) ? in->arg2 + 1 : *reg;
    } else if (in->kind == LIN_ETCD_WRITE) {
        out->ok = fate != 1;
        after = fate == 1 || (fate == 0 && coin) ? *reg : in->arg1 + 1;
    } else {
        out->ok = fate != 1;
    }
    *reg = after;
    if (fate == 0) {
        out->unknown = true;
        g->ops[i].return_us = 1000; /* open until the end, as the parser makes it */
    }
    g->ops[i].input = in;
    g->ops[i].output = out;
}

static void t_gen_etcd(struct t_gen *g, uint64_t *seed, size_t n)
{
    t_gen_times(g, seed, n);
    size_t order[T_OPS_MAX];
    t_gen_order(g, order);
    int32_t reg = 0;
    for (size_t j = 0; j < n; j++)
        t_gen_etcd_op(g, seed, order[j], &reg);
    if (t_below(seed, 2) == 0) {
        struct lin_etcd_output *o = &g->etcd_out[t_below(seed, (uint32_t)n)];
        o->exists = !o->exists;
        o->ok = !o->ok;
    }
}

static void t_gen_kv(struct t_gen *g, uint64_t *seed, size_t n, uint32_t keys)
{
    static const char *const keynames[] = {"a", "b", "c"};
    static const char *const vals[] = {"x", "y", "xy", ""};
    char state[3][64] = {"", "", ""};
    t_gen_times(g, seed, n);
    size_t order[T_OPS_MAX];
    t_gen_order(g, order);
    for (size_t j = 0; j < n; j++) {
        size_t i = order[j];
        uint32_t k = t_below(seed, keys);
        enum lin_kv_kind kind = (enum lin_kv_kind)t_below(seed, 3);
        const char *v = vals[t_below(seed, 4)];
        if (kind == LIN_KV_PUT)
            snprintf(state[k], sizeof(state[k]), "%s", v);
        else if (kind == LIN_KV_APPEND && strlen(state[k]) + strlen(v) < sizeof(state[k]))
            strcat(state[k], v);
        snprintf(g->kv_val[i], sizeof(g->kv_val[i]), "%s", state[k]);
        g->kv_in[i] = (struct lin_kv_input){kind, keynames[k], v};
        g->kv_out[i] = (struct lin_kv_output){g->kv_val[i]};
        g->ops[i].input = &g->kv_in[i];
        g->ops[i].output = &g->kv_out[i];
    }
    if (t_below(seed, 2) == 0) {
        size_t i = t_below(seed, (uint32_t)n);
        g->kv_in[i].kind = LIN_KV_GET;
        snprintf(g->kv_val[i], sizeof(g->kv_val[i]), "%s", vals[t_below(seed, 3)]);
    }
}

/* Corrupts s (a get's output) in one of four ways: drops a byte, swaps two neighbours,
 * inserts one of the history's letters, or cuts it to a shorter prefix. The result may still
 * be linearizable: the brute force decides. */
static void t_corrupt_value(char *s, size_t size, uint64_t *seed, size_t letters)
{
    size_t len = strlen(s);
    uint32_t how = t_below(seed, 4);
    size_t at = len > 0 ? t_below(seed, (uint32_t)len) : 0;
    if (how == 0 && len > 0) {
        memmove(s + at, s + at + 1, len - at);
    } else if (how == 1 && len > 1) {
        at = at + 1 < len ? at : at - 1;
        char c = s[at];
        s[at] = s[at + 1];
        s[at + 1] = c;
    } else if (how == 2 && len + 1 < size) {
        memmove(s + at + 1, s + at, len - at + 1);
        s[at] = (char)('A' + t_below(seed, (uint32_t)letters));
    } else if (len > 0) {
        s[t_below(seed, (uint32_t)len)] = '\0';
    }
}

/* Append-heavy histories on one key, TestUnreliableOneKey4A in small: mostly appends of a
 * letter of their own ('A' + index; now and then an ambiguous "", "a" or "ab"), one op in five
 * a get and, depending on the history, no puts, one op in ten or one in five. Half the time
 * one get's output is corrupted (t_corrupt_value). On these histories the KV model's lookahead
 * (a get that must follow a write bounds the state the write leaves) decides most steps. */
static void t_gen_appends(struct t_gen *g, uint64_t *seed, size_t n)
{
    static const char *const odd[] = {"", "a", "ab"};
    char state[64] = "";
    size_t gets[T_OPS_MAX];
    size_t gets_count = 0;
    uint32_t puts = t_below(seed, 3); /* puts per ten ops: 0, 1 or 2 */
    t_gen_times_tight(g, seed, n);
    size_t order[T_OPS_MAX];
    t_gen_order(g, order);
    for (size_t j = 0; j < n; j++) {
        size_t i = order[j];
        uint32_t r = t_below(seed, 10);
        enum lin_kv_kind kind = r < 2 ? LIN_KV_GET : r < 2 + puts ? LIN_KV_PUT : LIN_KV_APPEND;
        if (t_below(seed, 5) == 0)
            snprintf(g->kv_arg[i], sizeof(g->kv_arg[i]), "%s", odd[t_below(seed, 3)]);
        else
            snprintf(g->kv_arg[i], sizeof(g->kv_arg[i]), "%c", (char)('A' + i % 26));
        if (kind == LIN_KV_PUT)
            snprintf(state, sizeof(state), "%s", g->kv_arg[i]);
        else if (kind == LIN_KV_APPEND && strlen(state) + strlen(g->kv_arg[i]) < sizeof(state))
            strcat(state, g->kv_arg[i]);
        if (kind == LIN_KV_GET) gets[gets_count++] = i;
        snprintf(g->kv_val[i], sizeof(g->kv_val[i]), "%s", state);
        g->kv_in[i] = (struct lin_kv_input){kind, "k", g->kv_arg[i]};
        g->kv_out[i] = (struct lin_kv_output){g->kv_val[i]};
        g->ops[i].input = &g->kv_in[i];
        g->ops[i].output = &g->kv_out[i];
    }
    if (gets_count > 0 && t_below(seed, 2) == 0) {
        size_t i = gets[t_below(seed, (uint32_t)gets_count)];
        t_corrupt_value(g->kv_val[i], sizeof(g->kv_val[i]), seed, n < 26 ? n : 26);
    }
}

/* Checks g with `m` in every mode and compares with `expect` (brute force verdict). */
static void t_check_modes(const struct lin_model *m, const struct t_gen *g, bool expect,
                          uint64_t seed)
{
    const unsigned modes[] = {0,
                              LIN_CHECK_NO_PRUNING,
                              LIN_CHECK_ALL_PARTITIONS,
                              LIN_CHECK_ALL_PARTITIONS | LIN_CHECK_NO_PRUNING,
                              LIN_CHECK_NO_COMPOSE,
                              LIN_CHECK_NO_COMPOSE | LIN_CHECK_NO_PRUNING};
    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        struct lin_result *res = NULL;
        int v = lin_check(m, g->ops, g->n, NULL, modes[i], &res);
        ck_assert_msg(v == (expect ? LIN_OK : LIN_ILLEGAL),
                      "seed %llu model %s mode %u: got %d, brute force says %s",
                      (unsigned long long)seed, m->name, modes[i], v, expect ? "OK" : "ILLEGAL");
        t_assert_result_valid(m, g->ops, g->n, res);
        lin_result_free(res);
    }
}

START_TEST(test_lin_random_vs_brute_force)
{
    /* Goal: on small random histories of the three models the checker (pruned or not, first
     * ILLEGAL or all partitions) agrees with exhaustive enumeration, and its result orders are
     * valid. Seeds: _i * 3 + {0, 1, 2}. */
    static struct t_gen g;
    uint64_t seed = (uint64_t)_i * 3;
    uint64_t s = seed;
    t_gen_register(&g, &s, 2 + t_below(&s, T_BRUTE_OPS_MAX - 1));
    t_check_modes(&lin_model_register, &g, t_brute(&lin_model_register, g.ops, g.n), seed);
    s = ++seed;
    t_gen_etcd(&g, &s, 2 + t_below(&s, T_BRUTE_OPS_MAX - 1));
    t_check_modes(&lin_model_etcd, &g, t_brute(&lin_model_etcd, g.ops, g.n), seed);
    s = ++seed;
    t_gen_kv(&g, &s, 2 + t_below(&s, T_BRUTE_OPS_MAX - 1), 1 + t_below(&s, 2));
    bool expect = t_brute(&lin_model_kv_nopartition, g.ops, g.n);
    t_check_modes(&lin_model_kv, &g, expect, seed);
    t_check_modes(&lin_model_kv_nopartition, &g, expect, seed);
}
END_TEST

START_TEST(test_lin_random_pruning_agrees)
{
    /* Goal: on larger random histories (too big for brute force) the pruned search agrees
     * with the plain Wing & Gong + Lowe search, and the partitioned KV model agrees with the
     * one-map model. Seed: _i. */
    static struct t_gen g;
    uint64_t s = (uint64_t)_i;
    struct lin_budget budget = {2000000, NULL, NULL, 0};
    size_t n = 20 + t_below(&s, 40);
    if (_i % 2 == 0)
        t_gen_etcd(&g, &s, n);
    else
        t_gen_kv(&g, &s, n, 1 + t_below(&s, 3));
    const struct lin_model *m = _i % 2 == 0 ? &lin_model_etcd : &lin_model_kv;
    int pruned = lin_check(m, g.ops, g.n, &budget, LIN_CHECK_ALL_PARTITIONS, NULL);
    int plain =
        lin_check(m, g.ops, g.n, &budget, LIN_CHECK_ALL_PARTITIONS | LIN_CHECK_NO_PRUNING, NULL);
    ck_assert_int_ge(pruned, 0);
    ck_assert_int_ne(pruned, LIN_UNKNOWN); /* small enough to decide */
    if (plain != LIN_UNKNOWN)
        ck_assert_msg(pruned == plain, "seed %d: pruned %d, plain %d", _i, pruned, plain);
    if (_i % 2 == 1 && g.n <= 30) {
        int whole =
            lin_check(&lin_model_kv_nopartition, g.ops, g.n, &budget, LIN_CHECK_NO_COMPOSE, NULL);
        if (whole != LIN_UNKNOWN) ck_assert_int_eq(whole, pruned);
        int composed = lin_check(&lin_model_kv_nopartition, g.ops, g.n, &budget, 0, NULL);
        ck_assert_int_eq(composed, pruned);
    }
}
END_TEST

#define T_APPENDS_PER_LOOP 100 /* seeds per loop iteration: a fork per seed is slow under ASan */

START_TEST(test_lin_random_appends_vs_brute_force)
{
    /* Goal: on small append-heavy one-key histories with few gets and some puts, and touching
     * intervals, the KV model's lookahead (pruned modes) and the plain search agree with
     * exhaustive enumeration, and the results are valid. A wrong lookahead rule (a put
     * overlooked, a tie counted as an order) makes this fail. Seeds: 7000000 + _i * 100 + k,
     * k < 100 (the failure message names it). */
    static struct t_gen g;
    for (uint64_t k = 0; k < T_APPENDS_PER_LOOP; k++) {
        uint64_t seed = 7000000u + (uint64_t)_i * T_APPENDS_PER_LOOP + k;
        uint64_t s = seed;
        t_gen_appends(&g, &s, 3 + t_below(&s, T_BRUTE_OPS_MAX - 2));
        bool expect = t_brute(&lin_model_kv_nopartition, g.ops, g.n);
        t_check_modes(&lin_model_kv, &g, expect, seed);
    }
}
END_TEST

START_TEST(test_lin_random_appends_pruning_agrees)
{
    /* Goal: on medium append-heavy one-key histories (too big for brute force) the pruned
     * search, lookahead included, agrees with the plain Wing & Gong + Lowe search, decides
     * whenever the plain one does, and always decides when there is no put (with puts the
     * appends before a put may still have to be tried in every order: the lookahead cannot
     * see through a put that might come between). Seeds: 8000000 + _i * 20 + k, k < 20. */
    static struct t_gen g;
    struct lin_budget budget = {2000000, NULL, NULL, 0};
    for (int k = 0; k < 20; k++) {
        int seed = 8000000 + _i * 20 + k;
        uint64_t s = (uint64_t)seed;
        t_gen_appends(&g, &s, 10 + t_below(&s, 11));
        bool has_put = false;
        for (size_t i = 0; i < g.n; i++)
            has_put = has_put || g.kv_in[i].kind == LIN_KV_PUT;
        struct lin_result *res = NULL;
        int pruned = lin_check(&lin_model_kv, g.ops, g.n, &budget, 0, &res);
        int plain = lin_check(&lin_model_kv, g.ops, g.n, &budget, LIN_CHECK_NO_PRUNING, NULL);
        ck_assert_int_ge(pruned, 0);
        ck_assert_int_ge(plain, 0);
        if (!has_put || plain != LIN_UNKNOWN)
            ck_assert_msg(pruned != LIN_UNKNOWN, "seed %d: pruned search undecided", seed);
        if (plain != LIN_UNKNOWN)
            ck_assert_msg(pruned == plain, "seed %d: pruned %d, plain %d", seed, pruned, plain);
        t_assert_result_valid(&lin_model_kv, g.ops, g.n, res);
        lin_result_free(res);
    }
}
END_TEST

/* ---------------------------------------------------------------- KV specifics */

START_TEST(test_lin_kv_interface)
{
    /* Goal: lin_check_kv as the kvraft harness calls it: partitions by key, equal strings
     * built by different puts and appends compare equal, the first ILLEGAL key stops the check
     * unless all partitions are asked for, and the result names the keys. */
    struct lin_kv_op ops[] = {
        {0, 0, 10, LIN_KV_PUT, "a", "xy", ""},      {1, 0, 10, LIN_KV_PUT, "a", "x", ""},
        {1, 11, 12, LIN_KV_APPEND, "a", "y", ""},   {2, 13, 14, LIN_KV_GET, "a", "", "xy"},
        {0, 20, 21, LIN_KV_APPEND, "b", "q", ""},   {0, 22, 23, LIN_KV_GET, "b", "", "q"},
        {2, 30, 31, LIN_KV_GET, "missing", "", ""},
    };
    size_t n = sizeof(ops) / sizeof(ops[0]);
    struct lin_result *res = NULL;
    ck_assert_int_eq(lin_check_kv(ops, n, NULL, &res), LIN_OK);
    ck_assert_uint_eq(lin_result_parts_count(res), 3);
    ck_assert_str_eq(lin_result_part_name(res, 0), "key \"a\"");
    ck_assert_str_eq(lin_result_part_name(res, 2), "key \"missing\"");
    ck_assert_uint_eq(lin_result_part_ops_count(res, 0), 4);
    ck_assert_str_eq(lin_result_op_text(res, 2), "append(\"a\", \"y\")");
    ck_assert_str_eq(lin_result_state_text(res, 0, 3), "\"xy\"");
    lin_result_free(res);

    /* Key b reads a value never written; key a reads a stale one. */
    ops[5].output = "qq";
    ops[3].output = "x";
    ck_assert_int_eq(lin_check_kv(ops, n, NULL, &res), LIN_ILLEGAL);
    ck_assert_int_eq(lin_result_part_verdict(res, 0), LIN_ILLEGAL);
    ck_assert_int_eq(lin_result_part_verdict(res, 1), LIN_UNKNOWN); /* not checked */
    ck_assert_int_eq(lin_result_part_failing_op(res, 0), 3);
    lin_result_free(res);
    struct lin_kv_input in[8];
    struct lin_kv_output out[8];
    struct lin_op lops[8];
    for (size_t i = 0; i < n; i++) {
        in[i] = (struct lin_kv_input){ops[i].kind, ops[i].key, ops[i].value};
        out[i] = (struct lin_kv_output){ops[i].output};
        lops[i] = (struct lin_op){ops[i].client, ops[i].call_us, ops[i].return_us, &in[i], &out[i]};
    }
    ck_assert_int_eq(lin_check(&lin_model_kv, lops, n, NULL, LIN_CHECK_ALL_PARTITIONS, &res),
                     LIN_ILLEGAL);
    ck_assert_int_eq(lin_result_part_verdict(res, 0), LIN_ILLEGAL);
    ck_assert_int_eq(lin_result_part_verdict(res, 1), LIN_ILLEGAL);
    ck_assert_int_eq(lin_result_part_verdict(res, 2), LIN_OK);
    t_assert_result_valid(&lin_model_kv, lops, n, res);
    lin_result_free(res);
}
END_TEST

START_TEST(test_lin_kv_many_keys)
{
    /* Goal: a history with 50,000 keys (two ops each) is checked one key at a time with
     * bounded memory, and a stale read on the last key is still found. */
    enum { KEYS = 50000 };
    struct lin_kv_op *ops = calloc(2 * KEYS, sizeof(*ops));
    char(*keys)[12] = calloc(KEYS, sizeof(*keys));
    ck_assert_ptr_nonnull(ops);
    ck_assert_ptr_nonnull(keys);
    for (int k = 0; k < KEYS; k++) {
        snprintf(keys[k], sizeof(keys[k]), "%d", k);
        ops[2 * k] = (struct lin_kv_op){k % 7, 10 * k, 10 * k + 3, LIN_KV_PUT, keys[k], "v", ""};
        ops[2 * k + 1] =
            (struct lin_kv_op){k % 5, 10 * k + 4, 10 * k + 6, LIN_KV_GET, keys[k], "", "v"};
    }
    struct lin_result *res = NULL;
    ck_assert_int_eq(lin_check_kv(ops, 2 * KEYS, NULL, &res), LIN_OK);
    ck_assert_uint_eq(lin_result_parts_count(res), KEYS);
    lin_result_free(res);
    ops[2 * KEYS - 1].output = "";
    ck_assert_int_eq(lin_check_kv(ops, 2 * KEYS, NULL, &res), LIN_ILLEGAL);
    ck_assert_int_eq(lin_result_part_verdict(res, KEYS - 1), LIN_ILLEGAL);
    ck_assert_int_eq(lin_result_part_failing_op(res, KEYS - 1), 2 * KEYS - 1);
    lin_result_free(res);
    free(ops);
    free(keys);
}
END_TEST

/* ---------------------------------------------------------------- TestUnreliableOneKey4A */

#define T_ONE_KEY_CLIENTS 5
#define T_ONE_KEY_APPENDS 10
#define T_ONE_KEY_OPS (2 + T_ONE_KEY_CLIENTS * T_ONE_KEY_APPENDS)
#define T_ONE_KEY_STEPS 5000 /* a modest budget: these histories take a few hundred steps */

struct t_one_key {
    struct lin_kv_op ops[T_ONE_KEY_OPS];
    char vals[T_ONE_KEY_OPS][32]; /* room for two ints as gcc -O1 counts them */
    char final[(T_ONE_KEY_OPS + 1) * 16];
    int64_t point[T_ONE_KEY_OPS];  /* linearization instant * T_ONE_KEY_OPS + index */
    size_t seq[T_ONE_KEY_OPS + 1]; /* the appends in the order the final get reads them */
    size_t seq_len;
};

/* The appends of h in linearization-point order (insertion sort), into h->seq. */
static void t_one_key_order(struct t_one_key *h)
{
    h->seq_len = 0;
    for (size_t i = 1; i + 1 < T_ONE_KEY_OPS; i++) {
        size_t j = h->seq_len++;
        for (; j > 0 && h->point[h->seq[j - 1]] > h->point[i]; j--)
            h->seq[j] = h->seq[j - 1];
        h->seq[j] = i;
    }
}

/* Corrupts the order the get reads: 1 drops an append, 2 swaps two consecutive appends of
 * one client (ordered in real time), 3 reads one append twice. Each makes the history
 * ILLEGAL: every append precedes the get and no put can come between. */
static void t_one_key_corrupt(struct t_one_key *h, uint64_t *seed, int corrupt)
{
    size_t k = t_below(seed, (uint32_t)h->seq_len);
    if (corrupt == 1) {
        memmove(&h->seq[k], &h->seq[k + 1], (h->seq_len - k - 1) * sizeof(h->seq[0]));
        h->seq_len--;
    } else if (corrupt == 2) {
        size_t first = 1 + t_below(seed, T_ONE_KEY_CLIENTS) * T_ONE_KEY_APPENDS +
                       t_below(seed, T_ONE_KEY_APPENDS - 1);
        size_t a = 0;
        size_t b = 0;
        for (size_t j = 0; j < h->seq_len; j++) {
            a = h->seq[j] == first ? j : a;
            b = h->seq[j] == first + 1 ? j : b;
        }
        h->seq[a] = first + 1;
        h->seq[b] = first;
    } else if (corrupt == 3) {
        memmove(&h->seq[k + 1], &h->seq[k], (h->seq_len - k) * sizeof(h->seq[0]));
        h->seq_len++;
        h->seq[k] = h->seq[t_below(seed, (uint32_t)h->seq_len)];
    }
}

/* TestUnreliableOneKey4A's history: put(k, "") returns before 5 clients start; each does 10
 * appends "x c n y" back to back with latencies of 50 to 450 us (an unreliable network), so
 * up to 5 appends overlap in ever-changing combinations; then one get, called after all of
 * them returned, reads the appends in the order of random instants inside their intervals
 * (corrupted as t_one_key_corrupt says when corrupt != 0). */
static void t_one_key_make(struct t_one_key *h, uint64_t *seed, int corrupt)
{
    h->ops[0] = (struct lin_kv_op){0, 0, 10, LIN_KV_PUT, "k", "", ""};
    int64_t end_us = 10;
    for (int c = 0; c < T_ONE_KEY_CLIENTS; c++) {
        int64_t free_us = 20 + c;
        for (int n = 0; n < T_ONE_KEY_APPENDS; n++) {
            size_t i = 1 + (size_t)c * T_ONE_KEY_APPENDS + (size_t)n;
            int64_t call = free_us + t_below(seed, 30);
            int64_t ret = call + 50 + t_below(seed, 400);
            free_us = ret + 1;
            end_us = ret > end_us ? ret : end_us;
            snprintf(h->vals[i], sizeof(h->vals[i]), "x %d %d y", c, n);
            h->ops[i] = (struct lin_kv_op){1 + c, call, ret, LIN_KV_APPEND, "k", h->vals[i], ""};
            int64_t at = call + t_below(seed, (uint32_t)(ret - call + 1));
            h->point[i] = at * T_ONE_KEY_OPS + (int64_t)i;
        }
    }
    t_one_key_order(h);
    t_one_key_corrupt(h, seed, corrupt);
    size_t len = 0;
    for (size_t j = 0; j < h->seq_len; j++) {
        size_t piece = strlen(h->vals[h->seq[j]]);
        ck_assert_uint_lt(len + piece, sizeof(h->final));
        memcpy(h->final + len, h->vals[h->seq[j]], piece);
        len += piece;
    }
    h->final[len] = '\0';
    h->ops[T_ONE_KEY_OPS - 1] =
        (struct lin_kv_op){0, end_us + 5, end_us + 15, LIN_KV_GET, "k", "", h->final};
}

/* Checks one TestUnreliableOneKey4A-shaped history (see t_one_key_make). */
static void t_one_key_check(uint64_t seed, int corrupt)
{
    static struct t_one_key h;
    uint64_t s = seed;
    t_one_key_make(&h, &s, corrupt);
    struct lin_budget budget = {T_ONE_KEY_STEPS, NULL, NULL, 0};
    int want = corrupt == 0 ? LIN_OK : LIN_ILLEGAL;
    int got = lin_check_kv(h.ops, T_ONE_KEY_OPS, &budget, NULL);
    ck_assert_msg(got == want, "seed %llu corruption %d: got %s", (unsigned long long)seed, corrupt,
                  lin_verdict_name((enum lin_verdict)got));
    struct lin_op ops[T_ONE_KEY_OPS];
    struct lin_kv_input in[T_ONE_KEY_OPS];
    struct lin_kv_output out[T_ONE_KEY_OPS];
    for (size_t i = 0; i < T_ONE_KEY_OPS; i++) {
        const struct lin_kv_op *o = &h.ops[i];
        in[i] = (struct lin_kv_input){o->kind, o->key, o->value};
        out[i] = (struct lin_kv_output){o->output};
        ops[i] = (struct lin_op){o->client, o->call_us, o->return_us, &in[i], &out[i]};
    }
    struct lin_result *res = NULL;
    ck_assert_int_eq(lin_check(&lin_model_kv, ops, T_ONE_KEY_OPS, &budget, 0, &res), want);
    ck_assert_uint_lt(lin_result_steps(res), T_ONE_KEY_STEPS);
    t_assert_result_valid(&lin_model_kv, ops, T_ONE_KEY_OPS, res);
    if (corrupt != 0) {
        /* The explanation names the append the get contradicts: legal in the state before it,
         * ruled out by the lookahead, and the printout says so. */
        char text[8192];
        FILE *f = fmemopen(text, sizeof(text), "w");
        ck_assert_ptr_nonnull(f);
        lin_result_print(res, f);
        fclose(f);
        text[sizeof(text) - 1] = '\0';
        ck_assert_ptr_nonnull(strstr(text, "cannot be linearized next: "));
        int64_t fail = lin_result_part_failing_op(res, 0);
        ck_assert_int_eq(h.ops[fail].kind, LIN_KV_APPEND);
        ck_assert_ptr_nonnull(strstr(text, "contradicted by an operation that must follow it"));
    }
    lin_result_free(res);
}

START_TEST(test_lin_kv_one_key_appends)
{
    /* Goal: TestUnreliableOneKey4A's history shape (1 put, 5 clients x 10 overlapping
     * appends, a final get: only that get orders the appends) is decided within a modest step
     * budget through lin_check_kv, as the kvraft harness calls it: OK as recorded, ILLEGAL
     * with an append missing, two of one client's appends swapped, or one read twice; the
     * result is valid. Seed: 9000000 + _i, with each corruption. */
    for (int corrupt = 0; corrupt < 4; corrupt++)
        t_one_key_check(9000000u + (uint64_t)_i, corrupt);
}
END_TEST

/* ---------------------------------------------------------------- budgets */

static bool t_stop_after(void *arg)
{
    int *calls = arg;
    return ++*calls >= 2;
}

START_TEST(test_lin_budget)
{
    /* Goal: a step budget gives UNKNOWN, deterministically (same steps on every run), never a
     * pass; should_stop is polled and also gives UNKNOWN; with no budget the same history is
     * decided. Uses etcd_002 (OK, about a million steps without pruning). */
    struct lin_history *h = t_read(LIN_FORMAT_ETCD, "jepsen/etcd_002.log");
    size_t n = 0;
    const struct lin_op *ops = lin_history_ops(h, &n);
    struct lin_budget budget = {5000, NULL, NULL, 0};
    struct lin_result *a = NULL;
    struct lin_result *b = NULL;
    ck_assert_int_eq(lin_check(&lin_model_etcd, ops, n, &budget, 0, &a), LIN_UNKNOWN);
    ck_assert_int_eq(lin_check(&lin_model_etcd, ops, n, &budget, 0, &b), LIN_UNKNOWN);
    ck_assert_uint_ge(lin_result_steps(a), 5000);
    ck_assert_uint_lt(lin_result_steps(a), 5000 + n);
    ck_assert_uint_eq(lin_result_steps(a), lin_result_steps(b));
    const uint32_t *oa = NULL;
    const uint32_t *ob = NULL;
    size_t la = lin_result_part_order(a, 0, &oa);
    ck_assert_uint_eq(la, lin_result_part_order(b, 0, &ob));
    ck_assert_mem_eq(oa, ob, la * sizeof(*oa));
    t_assert_result_valid(&lin_model_etcd, ops, n, a);
    lin_result_free(a);
    lin_result_free(b);

    int calls = 0;
    struct lin_budget stop = {0, t_stop_after, &calls, 0};
    ck_assert_int_eq(lin_check(&lin_model_etcd, ops, n, &stop, LIN_CHECK_NO_PRUNING, NULL),
                     LIN_UNKNOWN);
    ck_assert_int_eq(calls, 2);
    ck_assert_int_eq(lin_check(&lin_model_etcd, ops, n, NULL, 0, NULL), LIN_OK);
    lin_history_free(h);
}
END_TEST

/* A one-key put history of n operations from `clients` clients: op i is client i % clients's,
 * called at i and returning at i + clients (so each overlaps the clients - 1 before and after
 * it), and puts "v<i>"; OK. The caller frees *ops and *vals. */
static struct lin_op *t_gen_puts(size_t n, int clients, struct lin_kv_input **in,
                                 struct lin_kv_output **out, char **vals)
{
    struct lin_op *ops = calloc(n, sizeof(*ops));
    *in = calloc(n, sizeof(**in));
    *out = calloc(n, sizeof(**out));
    *vals = calloc(n, 12);
    ck_assert(ops != NULL && *in != NULL && *out != NULL && *vals != NULL);
    for (size_t i = 0; i < n; i++) {
        char *v = *vals + 12 * i;
        snprintf(v, 12, "v%zu", i);
        (*in)[i] = (struct lin_kv_input){LIN_KV_PUT, "k", v};
        (*out)[i] = (struct lin_kv_output){""};
        ops[i] = (struct lin_op){(int)(i % (size_t)clients), (int64_t)i,
                                 (int64_t)(i + (size_t)clients), &(*in)[i], &(*out)[i]};
    }
    return ops;
}

#define T_LINEAR_OPS 20000
#define T_LINEAR_BYTES_PER_OP 400 /* what one op may cost the search; 1 client: ~330 */

START_TEST(test_lin_memory_linear)
{
    /* Goal (issue 11, defect 1): the search's memory grows linearly with the history. On 20k
     * one-key puts (from 1 and from 8 overlapping clients) the bytes the search holds at its
     * peak (lin_result_bytes_peak: arrays, cache, model context) stay under
     * T_LINEAR_BYTES_PER_OP per operation. Before, each cache record held a bitset over the
     * whole history: about 7 KB per operation at 20k, and growing with n. */
    const int clients[] = {1, 8};
    for (size_t k = 0; k < sizeof(clients) / sizeof(clients[0]); k++) {
        struct lin_kv_input *in = NULL;
        struct lin_kv_output *out = NULL;
        char *vals = NULL;
        struct lin_op *ops = t_gen_puts(T_LINEAR_OPS, clients[k], &in, &out, &vals);
        struct lin_result *res = NULL;
        ck_assert_int_eq(lin_check(&lin_model_kv, ops, T_LINEAR_OPS, NULL, 0, &res), LIN_OK);
        uint64_t per_op = lin_result_bytes_peak(res) / T_LINEAR_OPS;
        ck_assert_msg(per_op > 0 && per_op < T_LINEAR_BYTES_PER_OP, "%d clients: %llu bytes per op",
                      clients[k], (unsigned long long)per_op);
        ck_assert_int_eq(lin_result_stop(res), LIN_STOP_NONE);
        lin_result_free(res);
        free(ops);
        free(in);
        free(out);
        free(vals);
    }
}
END_TEST

/* 24 appends and a get, all concurrent, the get reading what no order gives: the search must
 * try every order of the appends (each a distinct state), which no budget affords. */
static void t_write_hopeless(const char *path)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    for (int i = 0; i < 24; i++)
        fprintf(f, "{:process %d, :type :invoke, :f :append, :key \"k\", :value \"%c\"}\n", i,
                'A' + i);
    fputs("{:process 24, :type :invoke, :f :get, :key \"k\", :value nil}\n", f);
    for (int i = 0; i < 24; i++)
        fprintf(f, "{:process %d, :type :ok, :f :append, :key \"k\", :value \"%c\"}\n", i, 'A' + i);
    fputs("{:process 24, :type :ok, :f :get, :key \"k\", :value \"x\"}\n", f);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_lin_memory_budget)
{
    /* Goal (issue 11, defect 1): a byte budget ends a hopeless search in UNKNOWN (stop
     * "memory"), within the budget, deterministically (the same steps twice), and never in
     * ILLEGAL; lin_check says LIN_STOP_NONE when nothing stopped it. */
    struct cu_dir d;
    char path[160];
    cu_dir_make(&d, "linmem");
    t_write_hopeless(cu_dir_file(&d, "hopeless.txt", path, sizeof(path)));
    struct lin_history *h = NULL;
    struct lin_parse_error err;
    ck_assert_int_eq(lin_history_read_file(LIN_FORMAT_KV, path, &h, &err), 0);
    size_t n = 0;
    const struct lin_op *ops = lin_history_ops(h, &n);
    struct lin_budget budget = {0, NULL, NULL, 4u << 20};
    uint64_t steps[2];
    for (int run = 0; run < 2; run++) {
        struct lin_result *res = NULL;
        ck_assert_int_eq(lin_check(&lin_model_kv, ops, n, &budget, 0, &res), LIN_UNKNOWN);
        ck_assert_int_eq(lin_result_stop(res), LIN_STOP_MEMORY);
        ck_assert_uint_le(lin_result_bytes_peak(res), budget.bytes_max);
        ck_assert_uint_gt(lin_result_bytes_peak(res), budget.bytes_max / 2);
        steps[run] = lin_result_steps(res);
        lin_result_free(res);
    }
    ck_assert_uint_eq(steps[0], steps[1]);
    struct lin_budget few = {1000, NULL, NULL, 4u << 20};
    struct lin_result *res = NULL;
    ck_assert_int_eq(lin_check(&lin_model_kv, ops, n, &few, 0, &res), LIN_UNKNOWN);
    ck_assert_int_eq(lin_result_stop(res), LIN_STOP_STEPS);
    lin_result_free(res);
    lin_history_free(h);
    cu_dir_remove(&d);
}
END_TEST

START_TEST(test_lin_cli_budget_exits)
{
    /* Goal (issue 11, defect 1 and the exit-code split): through the CLI, a hopeless history
     * ends in UNKNOWN, exit 2, with the budget that ran out named (--memory, then --steps);
     * a file over the size limit is a resource limit, exit 4 with one line, not bad input;
     * --help documents the defaults and codes. Before, there was no --memory and an
     * out-of-memory check exited 3, the bad-input code. */
    struct cu_dir d;
    struct cu_run r;
    char hopeless[160];
    char big[160];
    cu_dir_make(&d, "linbudget");
    t_write_hopeless(cu_dir_file(&d, "hopeless.txt", hopeless, sizeof(hopeless)));
    cu_labsim(&r, NULL, "check", "--model", "kv", hopeless, "--memory", "4", "--steps", "0");
    ck_assert_msg(r.status == 2, "status %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, ": UNKNOWN ("));
    ck_assert_ptr_nonnull(strstr(r.out, "budget ran out: memory (--memory)"));
    cu_run_free(&r);
    cu_labsim(&r, NULL, "check", "--model", "kv", hopeless, "--steps", "20000");
    ck_assert_msg(r.status == 2, "status %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, "budget ran out: steps (--steps)"));
    cu_run_free(&r);
    /* A sparse file one byte over the limit: valid or not, the checker will not read it. */
    int fd = open(cu_dir_file(&d, "big.txt", big, sizeof(big)), O_WRONLY | O_CREAT, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)LIN_FILE_SIZE_MAX + 1), 0);
    ck_assert_int_eq(close(fd), 0);
    cu_labsim(&r, NULL, "check", "--model", "kv", big);
    ck_assert_msg(r.status == 4, "status %d: %s", r.status, r.err);
    ck_assert_uint_eq(cu_count(r.err, "\n"), 1);
    ck_assert_ptr_nonnull(strstr(r.err, "file too large"));
    cu_run_free(&r);
    cu_labsim(&r, NULL, "check", "--help");
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "--memory MB (default 512"));
    ck_assert_ptr_nonnull(strstr(r.out, "4 resource limit"));
    cu_run_free(&r);
    cu_dir_remove(&d);
}
END_TEST

/* ---------------------------------------------------------------- porcupine-data */

/* The README's list of etcd files that are linearizable (095 is empty, so also OK). */
static bool t_etcd_expect_ok(int i)
{
    static const int ok[] = {2,  5,  7,  18, 25, 31, 38, 45, 48, 49,  51,  53,
                             56, 67, 75, 76, 80, 87, 92, 95, 98, 100, 101, 102};
    for (size_t k = 0; k < sizeof(ok) / sizeof(ok[0]); k++) {
        if (ok[k] == i) return true;
    }
    return false;
}

START_TEST(test_lin_data_etcd)
{
    /* Goal: jepsen/etcd_<_i>.log gets the verdict the README lists, with and without the
     * pruning, and the result's linearization or longest prefix is valid. */
    char rel[64];
    snprintf(rel, sizeof(rel), "jepsen/etcd_%03d.log", _i);
    struct lin_history *h = t_read(LIN_FORMAT_ETCD, rel);
    size_t n = 0;
    const struct lin_op *ops = lin_history_ops(h, &n);
    int want = t_etcd_expect_ok(_i) ? LIN_OK : LIN_ILLEGAL;
    if (_i == 95)
        ck_assert_uint_eq(n, 0);
    else
        ck_assert_uint_ge(n, 73);
    struct lin_result *res = NULL;
    int got = lin_check(&lin_model_etcd, ops, n, NULL, 0, &res);
    ck_assert_msg(got == want, "%s: got %s, README says %s", rel,
                  lin_verdict_name((enum lin_verdict)got),
                  lin_verdict_name((enum lin_verdict)want));
    t_assert_result_valid(&lin_model_etcd, ops, n, res);
    lin_result_free(res);
    ck_assert_int_eq(lin_check(&lin_model_etcd, ops, n, NULL, LIN_CHECK_NO_PRUNING, NULL), want);
    lin_history_free(h);
}
END_TEST

struct t_kv_file {
    const char *rel;
    size_t ops;
    int verdict;
};

static const struct t_kv_file t_kv_files[] = {
    {"kv/c01-ok.txt", 58, LIN_OK},   {"kv/c01-bad.txt", 38, LIN_ILLEGAL},
    {"kv/c10-ok.txt", 337, LIN_OK},  {"kv/c10-bad.txt", 405, LIN_ILLEGAL},
    {"kv/c50-ok.txt", 1712, LIN_OK}, {"kv/c50-bad.txt", 2024, LIN_ILLEGAL},
};

#define T_DATA_KV_STEPS 20000000u /* c50-ok per key takes 1.4M; one search: UNKNOWN at 100M */

START_TEST(test_lin_data_kv)
{
    /* Goal: kv/<file _i> gets the README's verdict with the partitioned KV model and with the
     * one-map model checked per key (locality; c50 was UNKNOWN before, Porcupine gives no
     * answer in 60 s), with valid results, within a step budget; c01 and c10 also with the
     * one-map model as one search (LIN_CHECK_NO_COMPOSE). */
    const struct t_kv_file *f = &t_kv_files[_i];
    struct lin_history *h = t_read(LIN_FORMAT_KV, f->rel);
    size_t n = 0;
    const struct lin_op *ops = lin_history_ops(h, &n);
    ck_assert_uint_eq(n, f->ops);
    struct lin_result *res = NULL;
    ck_assert_int_eq(lin_check(&lin_model_kv, ops, n, NULL, 0, &res), f->verdict);
    t_assert_result_valid(&lin_model_kv, ops, n, res);
    lin_result_free(res);
    struct lin_budget budget = {T_DATA_KV_STEPS, NULL, NULL, 0};
    ck_assert_int_eq(lin_check(&lin_model_kv_nopartition, ops, n, &budget, 0, &res), f->verdict);
    t_assert_result_valid(&lin_model_kv_nopartition, ops, n, res);
    lin_result_free(res);
    if (_i < 4) {
        int whole = lin_check(&lin_model_kv_nopartition, ops, n, NULL, LIN_CHECK_NO_COMPOSE, NULL);
        ck_assert_int_eq(whole, f->verdict);
    }
    lin_history_free(h);
}
END_TEST

/* Checks every partition of a kv file and compares the per-key verdicts with `want`, a string
 * of one letter per key "0".."9" (O, I or U). */
static void t_kv_per_key(const char *rel, const char *want, uint64_t steps_max)
{
    struct lin_history *h = t_read(LIN_FORMAT_KV, rel);
    size_t n = 0;
    const struct lin_op *ops = lin_history_ops(h, &n);
    struct lin_budget budget = {steps_max, NULL, NULL, 0};
    struct lin_result *res = NULL;
    ck_assert_int_eq(lin_check(&lin_model_kv, ops, n, &budget, LIN_CHECK_ALL_PARTITIONS, &res),
                     LIN_ILLEGAL);
    char got[11] = "----------";
    for (size_t p = 0; p < lin_result_parts_count(res); p++) {
        const char *name = lin_result_part_name(res, p); /* key "7" */
        ck_assert_uint_eq(strlen(name), 7);
        got[name[5] - '0'] = "OIU"[lin_result_part_verdict(res, p)];
    }
    ck_assert_msg(strcmp(got, want) == 0, "%s per key: got %s, want %s", rel, got, want);
    t_assert_result_valid(&lin_model_kv, ops, n, res);
    lin_result_free(res);
    lin_history_free(h);
}

START_TEST(test_lin_data_kv_per_key)
{
    /* Goal: the per-key verdicts the README gives: in c01-bad only key 7 is ILLEGAL (keys 8
     * and 9 never occur); in c10-bad keys 4 and 8 are OK and all others ILLEGAL. */
    t_kv_per_key("kv/c01-bad.txt", "OOOOOOOI--", 0);
    t_kv_per_key("kv/c10-bad.txt", "IIIIOIIIOI", 0);
}
END_TEST

/* ---------------------------------------------------------------- parsers */

struct t_bad {
    enum lin_format format;
    const char *text;
    size_t line;
    const char *message; /* a substring of the expected message */
};

#define ETCD_L "INFO  jepsen.util - "

static const struct t_bad t_bad_inputs[] = {
    {LIN_FORMAT_ETCD, ETCD_L "0 :invoke :read nil\nGARBAGE\n", 2, "expected a line starting"},
    {LIN_FORMAT_ETCD, ETCD_L "0 :ok :read nil\n", 1, "process 0 has no open operation"},
    {LIN_FORMAT_ETCD, ETCD_L "0 :invoke :read nil\n" ETCD_L "0 :invoke :read nil\n", 2,
     "invokes while its operation from line 1 is open"},
    {LIN_FORMAT_ETCD, ETCD_L "0 :invoke :write nil\n", 1, ":write takes an integer"},
    {LIN_FORMAT_ETCD, ETCD_L "0 :invoke :write 99999999999\n", 1, "out of range"},
    {LIN_FORMAT_ETCD, ETCD_L "0 :invoke :cas [1 2\n", 1, "expected ']'"},
    {LIN_FORMAT_ETCD, ETCD_L "0 :invoke :cas [12]\n", 1, "space between"},
    {LIN_FORMAT_ETCD, ETCD_L "0 :invoke :read nil x\n", 1, "unexpected text after the value"},
    {LIN_FORMAT_ETCD, ETCD_L "0 :invoke :read nil\n" ETCD_L "0 :ok :write 1\n", 2,
     "does not match the operation invoked on line 1"},
    {LIN_FORMAT_ETCD, ETCD_L "0 :invoke :write 4\n" ETCD_L "0 :ok :write 3\n", 2,
     "returns the value it was invoked with"},
    {LIN_FORMAT_ETCD, ETCD_L "0 :invoke :cas [1 2]\n" ETCD_L "0 :ok :cas [1 3]\n", 2,
     "returns the [from to]"},
    {LIN_FORMAT_ETCD, ETCD_L "0 :invoke :read nil\n" ETCD_L "0 :ok :read :timed-out\n", 2,
     ":timed-out on an :ok line"},
    {LIN_FORMAT_ETCD, ETCD_L "-1 :invoke :read nil\n", 1, "process number out of range"},
    {LIN_FORMAT_ETCD, ETCD_L "p :invoke :read nil\n", 1, "expected a process number"},
    {LIN_FORMAT_ETCD, ETCD_L "0 :call :read nil\n", 1, "expected :invoke, :ok, :fail or :info"},
    {LIN_FORMAT_ETCD, ETCD_L "0 :invoke :delete nil\n", 1, "expected :read, :write or :cas"},
    {LIN_FORMAT_ETCD, "\n\n" ETCD_L "0 :invoke :read n\0l\n", 3, "NUL byte"},
    {LIN_FORMAT_KV, "{:process 0, :type :invoke, :f :get, :value nil}\n", 1, "missing field :key"},
    {LIN_FORMAT_KV, "{:process 0, :type :fail, :f :get, :key \"1\", :value nil}\n", 1,
     "expected :type :invoke or :ok"},
    {LIN_FORMAT_KV, "{:process 0, :type :invoke, :f :get, :key \"1, :value nil}\n", 1,
     "unterminated string"},
    {LIN_FORMAT_KV, "{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n\n", 1,
     "never returns"},
    {LIN_FORMAT_KV, "{:process 0, :process 1, :type :invoke}\n", 1, "appears twice"},
    {LIN_FORMAT_KV, "{:process 0, :type :invoke, :f :get, :key \"1\", :value nil} x\n", 1,
     "unexpected text after '}'"},
    {LIN_FORMAT_KV,
     "{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n"
     "{:process 0, :type :ok, :f :get, :key \"2\", :value \"\"}\n",
     2, "does not match the :f and :key invoked on line 1"},
    {LIN_FORMAT_KV, "{:process 0, :type :invoke, :f :put, :key \"1\", :value nil}\n", 1,
     "needs a string :value"},
    {LIN_FORMAT_KV, "{:process 0, :type :invoke, :f :get, :key \"\\q\", :value nil}\n", 1,
     "unsupported escape"},
    {LIN_FORMAT_KV, "[:process 0]\n", 1, "expected '{'"},
    {LIN_FORMAT_KV, "{:process x, :type :invoke}\n", 1, "expected a process number"},
};

START_TEST(test_lin_parse_errors)
{
    /* Goal: each malformed input _i is rejected with LIN_EPARSE, the right line and a message
     * that says what is wrong; nothing is returned. */
    const struct t_bad *b = &t_bad_inputs[_i];
    size_t len = strlen(b->text);
    if (strstr(b->message, "NUL") != NULL)
        len += strlen(b->text + len + 1) + 1; /* the text goes on after its NUL */
    struct lin_history *h = NULL;
    struct lin_parse_error err;
    int rc = lin_history_parse(b->format, b->text, len, "bad.txt", &h, &err);
    ck_assert_int_eq(rc, LIN_EPARSE);
    ck_assert_ptr_null(h);
    ck_assert_str_eq(err.file, "bad.txt");
    ck_assert_msg(err.line == b->line && strstr(err.message, b->message) != NULL,
                  "input %d: got line %zu '%s', want line %zu '%s'", _i, err.line, err.message,
                  b->line, b->message);
}
END_TEST

START_TEST(test_lin_parse_good)
{
    /* Goal: both formats parse their variants: tabs or spaces, CRLF, blank lines, escapes,
     * fields in any order; etcd :info keeps an operation open until the end of the log,
     * :fail :read :timed-out closes it as unknown, :fail :cas is a definite failure. */
    const char *etcd =
        ETCD_L "3\t:invoke\t:write\t4\r\n"
               "\n" ETCD_L "1   :invoke :cas    [1 2]\n" ETCD_L "2 :invoke :read nil\n" ETCD_L
               "1 :fail :cas [1 2]\n" ETCD_L "3 :info :write :timed-out\n" ETCD_L
               "2 :fail :read :timed-out\n" ETCD_L "5 :invoke :read nil\n" ETCD_L "5 :ok :read -7";
    struct lin_history *h = NULL;
    struct lin_parse_error err;
    ck_assert_int_eq(lin_history_parse(LIN_FORMAT_ETCD, etcd, strlen(etcd), "e", &h, &err), 0);
    size_t n = 0;
    const struct lin_op *ops = lin_history_ops(h, &n);
    ck_assert_uint_eq(n, 4);
    const struct lin_etcd_output *o0 = ops[0].output; /* the write: open until the end */
    ck_assert(o0->unknown);
    ck_assert_int_eq(ops[0].return_us, 7);
    const struct lin_etcd_input *i1 = ops[1].input;
    const struct lin_etcd_output *o1 = ops[1].output;
    ck_assert_int_eq(i1->kind, LIN_ETCD_CAS);
    ck_assert_int_eq(i1->arg2, 2);
    ck_assert(!o1->ok && !o1->unknown);
    ck_assert(((const struct lin_etcd_output *)ops[2].output)->unknown);
    const struct lin_etcd_output *o3 = ops[3].output;
    ck_assert(o3->exists && o3->value == -7 && o3->ok);
    ck_assert_int_eq(ops[3].client, 5);
    lin_history_free(h);

    const char *kv =
        "{:type :invoke, :process 7, :f :append, :key \"k\\\"1\", :value \"a\\\\b\\n\"}\n"
        "{:process 7, :type :ok, :f :append, :key \"k\\\"1\", :value \"a\\\\b\\n\"}\r\n"
        "\n{:process 2 :type :invoke :f :get :key \"k\\\"1\" :value nil}\n"
        "{:process 2, :type :ok, :f :get, :key \"k\\\"1\", :value nil}\n";
    ck_assert_int_eq(lin_history_parse(LIN_FORMAT_KV, kv, strlen(kv), "k", &h, &err), 0);
    ops = lin_history_ops(h, &n);
    ck_assert_uint_eq(n, 2);
    const struct lin_kv_input *in0 = ops[0].input;
    ck_assert_str_eq(in0->key, "k\"1");
    ck_assert_str_eq(in0->value, "a\\b\n");
    ck_assert_int_eq(ops[0].client, 7);
    ck_assert_int_eq(ops[1].call_us, 2);
    ck_assert_str_eq(((const struct lin_kv_output *)ops[1].output)->value, "");
    lin_history_free(h);
    ck_assert_int_eq(lin_history_parse(LIN_FORMAT_KV, "", 0, "empty", &h, &err), 0);
    lin_history_free(h);
    ck_assert_int_eq(lin_history_read_file(LIN_FORMAT_KV, "/nonexistent/x", &h, &err), LIN_EIO);
    ck_assert_ptr_nonnull(strstr(err.message, "cannot open"));
}
END_TEST

START_TEST(test_lin_cli)
{
    /* Goal: `labsim check` exits 0 / 1 / 2 / 3 for OK / ILLEGAL / UNKNOWN / bad input, prints
     * the verdict with the time, and reports a malformed file in one line naming file, line
     * and problem. */
    struct cu_dir d;
    struct cu_run r;
    char etcd_ok[1200];
    char etcd_bad[1200];
    char kv_ok[1200];
    char bad[128];
    char html[128];
    cu_dir_make(&d, "lin");
    snprintf(etcd_ok, sizeof(etcd_ok), "%s/jepsen/etcd_002.log", t_data_dir());
    snprintf(etcd_bad, sizeof(etcd_bad), "%s/jepsen/etcd_000.log", t_data_dir());
    snprintf(kv_ok, sizeof(kv_ok), "%s/kv/c50-ok.txt", t_data_dir());
    snprintf(bad, sizeof(bad), "%s/bad.txt", d.path);
    snprintf(html, sizeof(html), "%s/out.html", d.path);
    FILE *f = fopen(bad, "w");
    ck_assert_ptr_nonnull(f);
    fputs("{:process 0, :type :invoke, :f :get, :key \"1\", :value nil}\n{:process 0, :oops}\n", f);
    fclose(f);
    char *const ok_argv[] = {
        (char *)cu_labsim_bin(), "check", "--model", "etcd", etcd_ok, "--html", html, NULL};
    cu_run(&r, ok_argv, NULL);
    ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
    ck_assert_ptr_nonnull(strstr(r.out, ": OK ("));
    ck_assert_ptr_nonnull(strstr(r.out, " ms"));
    ck_assert_int_eq(access(html, R_OK), 0);
    cu_run_free(&r);
    char *const bad_argv[] = {(char *)cu_labsim_bin(), "check", "--model", "etcd", etcd_bad, NULL};
    cu_run(&r, bad_argv, NULL);
    ck_assert_int_eq(r.status, 1);
    ck_assert_ptr_nonnull(strstr(r.out, ": ILLEGAL ("));
    ck_assert_ptr_nonnull(strstr(r.out, "cannot be linearized next"));
    cu_run_free(&r);
    char *const unk_argv[] = {
        (char *)cu_labsim_bin(), "check", "--model", "kv", kv_ok, "--steps", "1000", NULL};
    cu_run(&r, unk_argv, NULL);
    ck_assert_int_eq(r.status, 2);
    ck_assert_ptr_nonnull(strstr(r.out, ": UNKNOWN ("));
    cu_run_free(&r);
    char *const malformed_argv[] = {(char *)cu_labsim_bin(), "check", "--model", "kv", bad, NULL};
    cu_run(&r, malformed_argv, NULL);
    ck_assert_int_eq(r.status, 3);
    ck_assert_uint_eq(cu_count(r.err, "\n"), 1);
    char want[200];
    snprintf(want, sizeof(want), "%s:2: ", bad);
    ck_assert_msg(strstr(r.err, want) != NULL, "stderr: %s", r.err);
    cu_run_free(&r);
    char *const usage_argv[] = {(char *)cu_labsim_bin(), "check", "--model", "nosuch", bad, NULL};
    cu_run(&r, usage_argv, NULL);
    ck_assert_int_eq(r.status, 3);
    cu_run_free(&r);
    cu_dir_remove(&d);
}
END_TEST

/* A rejected `labsim check`: exit 3 and one line on stderr that contains `want`. */
static void t_check_rejects(const struct cu_run *r, const char *want)
{
    ck_assert_msg(r->status == 3, "exit %d, want 3; stderr: %s", r->status, r->err);
    ck_assert_msg(cu_count(r->err, "\n") == 1 && r->err[r->err_len - 1] == '\n',
                  "want one line on stderr, got: %s", r->err);
    ck_assert_msg(strncmp(r->err, "labsim check: ", 14) == 0, "stderr: %s", r->err);
    ck_assert_msg(strstr(r->err, want) != NULL, "stderr '%s' should say '%s'", r->err, want);
}

START_TEST(test_lin_cli_strict_flags)
{
    /* Goal (issue 11, defect 6): `check` parses flags as strictly as the other commands: a
     * repeated flag, a fractional or too-large --steps are refused in one line, exit 3. */
    struct cu_run r;
    char ok[1200];
    snprintf(ok, sizeof(ok), "%s/jepsen/etcd_002.log", t_data_dir());
    cu_labsim(&r, NULL, "check", "--model", "etcd", "--model", "kv", ok);
    t_check_rejects(&r, "flag --model given twice");
    cu_run_free(&r);
    cu_labsim(&r, NULL, "check", "--model", "etcd", ok, "--steps", "1.5");
    t_check_rejects(&r, "flag --steps needs an unsigned integer, got '1.5'");
    cu_run_free(&r);
    cu_labsim(&r, NULL, "check", "--model", "etcd", ok, "--steps", "18446744073709551616");
    t_check_rejects(&r, "flag --steps needs an unsigned integer");
    cu_run_free(&r);
    cu_labsim(&r, NULL, "check", "--model", "etcd", ok, "--bogus");
    t_check_rejects(&r, "unknown flag '--bogus'");
    cu_run_free(&r);
    cu_labsim(&r, NULL, "check", "--model", "etcd", ok, ok);
    t_check_rejects(&r, "unexpected argument");
    cu_run_free(&r);
    /* The largest --steps is a budget, not an error; -h is the help. */
    cu_labsim(&r, NULL, "check", "--model", "etcd", ok, "--steps", "18446744073709551615");
    ck_assert_msg(r.status == 0, "status %d: %s", r.status, r.err);
    cu_run_free(&r);
    cu_labsim(&r, NULL, "check", "-h");
    ck_assert_int_eq(r.status, 0);
    ck_assert_ptr_nonnull(strstr(r.out, "usage: labsim check"));
    cu_run_free(&r);
}
END_TEST

START_TEST(test_lin_cli_says_why_io_failed)
{
    /* Goal (issue 11, defect 5): an unwritable --html or an unreadable history names the path
     * and the operating system's reason, not "input/output error". */
    struct cu_dir d;
    struct cu_run r;
    char ok[1200];
    char want[300];
    cu_dir_make(&d, "lin");
    snprintf(ok, sizeof(ok), "%s/jepsen/etcd_002.log", t_data_dir());
    cu_labsim(&r, NULL, "check", "--model", "etcd", ok, "--html", d.path);
    snprintf(want, sizeof(want), "cannot write %s: %s", d.path, strerror(EISDIR));
    t_check_rejects(&r, want);
    cu_run_free(&r);
    cu_labsim(&r, NULL, "check", "--model", "etcd", ok, "--html", "/nonexistent/x");
    snprintf(want, sizeof(want), "cannot write /nonexistent/x: %s", strerror(ENOENT));
    t_check_rejects(&r, want);
    cu_run_free(&r);
    cu_labsim(&r, NULL, "check", "--model", "etcd", ok, "--html", "");
    t_check_rejects(&r, "flag --html needs a non-empty value");
    cu_run_free(&r);
    cu_labsim(&r, NULL, "check", "--model", "kv", d.path);
    snprintf(want, sizeof(want), "%s: cannot read: %s", d.path, strerror(EISDIR));
    t_check_rejects(&r, want);
    cu_run_free(&r);
    cu_labsim(&r, NULL, "check", "--model", "kv", "/nonexistent/x");
    snprintf(want, sizeof(want), "/nonexistent/x: cannot open: %s", strerror(ENOENT));
    t_check_rejects(&r, want);
    cu_run_free(&r);
    cu_dir_remove(&d);
}
END_TEST

/* ---------------------------------------------------------------- HTML in Chromium */

/* The <svg> element the page's script drew, cut out of a DOM dump (the caller frees it). */
static char *t_svg(const char *dom)
{
    const char *start = strstr(dom, "<svg");
    ck_assert_msg(start != NULL, "no <svg> in the DOM: %.3000s", dom);
    const char *end = strstr(start, "</svg>");
    ck_assert_ptr_nonnull(end);
    size_t len = (size_t)(end - start);
    char *svg = malloc(len + 1);
    ck_assert_ptr_nonnull(svg);
    memcpy(svg, start, len);
    svg[len] = '\0';
    return svg;
}

static void t_html_history(struct lin_kv_op *ops, size_t *n, bool stale)
{
    static const char *const vals[] = {"x0", "x1", "x2", "x3"};
    static char outs[16][16];
    size_t k = 0;
    for (int round = 0; round < 4; round++) {
        for (int c = 0; c < 4; c++) {
            int64_t t = round * 100 + c * 7;
            const char *key = c % 2 == 0 ? "a" : "b";
            if (c < 2) {
                ops[k++] = (struct lin_kv_op){c, t, t + 40, LIN_KV_APPEND, key, vals[round], ""};
                continue;
            }
            /* Clients 2 and 3 read after the round's append returned: the appends so far. */
            outs[k][0] = '\0';
            for (int i = 0; i <= round; i++)
                strcat(outs[k], vals[i]);
            ops[k] = (struct lin_kv_op){c, t + 50, t + 60, LIN_KV_GET, key, "", outs[k]};
            k++;
        }
    }
    if (stale) ops[10].output = "x0"; /* round 2, client 2, key a: should be x0x1x2 */
    *n = k;
}

START_TEST(test_lin_html_chromium)
{
    /* Goal: the HTML of one OK and one ILLEGAL history renders offline in headless Chromium:
     * the screenshot is far from blank (compared with an empty page's), the script drew one
     * bar per operation, and on ILLEGAL the failing bar, its note and the fault markers. */
    struct cu_dir d;
    struct cu_run r;
    struct lin_kv_op ops[16];
    size_t n = 0;
    char page[2][128];
    char shot[2][128];
    char blank[128];
    char blank_shot[128];
    cu_chromium();
    cu_dir_make(&d, "lin");
    const struct lin_marker markers[] = {
        {120, 2, "partition"}, {250, -1, "crash </script>"}, {310, 1, "restart"}};
    for (int i = 0; i < 2; i++) {
        t_html_history(ops, &n, i == 1);
        struct lin_result *res = NULL;
        ck_assert_int_eq(lin_check_kv(ops, n, NULL, &res), i == 0 ? LIN_OK : LIN_ILLEGAL);
        snprintf(page[i], sizeof(page[i]), "%s/page%d.html", d.path, i);
        snprintf(shot[i], sizeof(shot[i]), "%s/page%d.png", d.path, i);
        ck_assert_int_eq(lin_html_write(res, markers, i == 1 ? 3 : 0, page[i]), 0);
        lin_result_free(res);
    }
    snprintf(blank, sizeof(blank), "%s/blank.html", d.path);
    snprintf(blank_shot, sizeof(blank_shot), "%s/blank.png", d.path);
    FILE *f = fopen(blank, "w");
    ck_assert_ptr_nonnull(f);
    fputs("<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body></body></html>\n", f);
    fclose(f);
    cu_chromium_render(&r, &d, blank, blank_shot);
    cu_run_free(&r);
    size_t blank_size = cu_png_size(blank_shot);
    for (int i = 0; i < 2; i++) {
        cu_chromium_render(&r, &d, page[i], shot[i]);
        cu_run_free(&r);
        size_t size = cu_png_size(shot[i]);
        ck_assert_msg(size > 4 * blank_size && size > blank_size + 10000,
                      "%s looks blank: %zu bytes, an empty page %zu", shot[i], size, blank_size);
        cu_chromium_render(&r, &d, page[i], NULL);
        ck_assert_msg(strstr(r.out, "data-bars=\"16\"") != NULL, "no 16 bars: %.3000s", r.out);
        char *svg = t_svg(r.out);
        ck_assert_uint_eq(cu_count(svg, "<rect class=\"op "), 16);
        ck_assert_uint_eq(cu_count(svg, "class=\"op ILLEGAL fail\""), (i == 1 ? 1 : 0));
        ck_assert_uint_eq(cu_count(svg, "cannot linearize; state before"), (i == 1 ? 1 : 0));
        ck_assert_uint_eq(cu_count(svg, " class=\"marker\""), (i == 1 ? 3 : 0));
        ck_assert_uint_eq(cu_count(svg, "crash &lt;/script&gt;"), (i == 1 ? 1 : 0));
        /* The linearization path: one point per operation of the selected partition. */
        ck_assert_uint_ge(cu_count(svg, "<circle"), 2);
        free(svg);
        cu_run_free(&r);
    }
    cu_dir_remove(&d);
}
END_TEST

/* ---------------------------------------------------------------- suite */

Suite *lin_suite(void)
{
    Suite *s = suite_create("lin");
    TCase *tc = tcase_create("search");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_lin_register_stale_read);
    tcase_add_test(tc, test_lin_register_touching_is_concurrent);
    tcase_add_test(tc, test_lin_empty_and_bad_arguments);
    tcase_add_test(tc, test_lin_events_form);
    tcase_add_test(tc, test_lin_kv_interface);
    tcase_add_test(tc, test_lin_kv_many_keys);
    tcase_add_test(tc, test_lin_budget);
    tcase_add_test(tc, test_lin_memory_linear);
    tcase_add_test(tc, test_lin_memory_budget);
    tcase_add_loop_test(tc, test_lin_kv_one_key_appends, 0, 20);
    suite_add_tcase(s, tc);

    tc = tcase_create("random");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_lin_random_vs_brute_force, 0, 400);
    tcase_add_loop_test(tc, test_lin_random_pruning_agrees, 0, 80);
    tcase_add_loop_test(tc, test_lin_random_appends_vs_brute_force, 0, 40);
    tcase_add_loop_test(tc, test_lin_random_appends_pruning_agrees, 0, 20);
    suite_add_tcase(s, tc);

    tc = tcase_create("data");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_lin_data_etcd, 0, 103);
    tcase_add_loop_test(tc, test_lin_data_kv, 0, 6);
    tcase_add_test(tc, test_lin_data_kv_per_key);
    suite_add_tcase(s, tc);

    tc = tcase_create("parse");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_lin_parse_errors, 0,
                        (int)(sizeof(t_bad_inputs) / sizeof(t_bad_inputs[0])));
    tcase_add_test(tc, test_lin_parse_good);
    suite_add_tcase(s, tc);

    tc = tcase_create("tools");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_lin_cli);
    tcase_add_test(tc, test_lin_cli_strict_flags);
    tcase_add_test(tc, test_lin_cli_says_why_io_failed);
    tcase_add_test(tc, test_lin_cli_budget_exits);
    tcase_add_test(tc, test_lin_html_chromium);
    suite_add_tcase(s, tc);
    return s;
}
