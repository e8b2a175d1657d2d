/* lin_result.c: the result of a check and how it is described.
 *
 * Owns struct lin_result: built once by lin_check from the finished searches, then read-only.
 * It copies everything it needs (op times and clients, orders) and turns every operation and
 * every state on a partition's linearization or longest prefix into text, by replaying that
 * order through the model, so that a result outlives the history it came from and the HTML
 * writer needs no model. Also owns the small shared helpers: verdict names, lin_strerror, the
 * bounded text builder and the assertion handler.
 *
 * Invariants: parts[p].states has order_len + 1 entries; every op's part < parts_count;
 * fail_op >= 0 only for an ILLEGAL partition.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lin_int.h"

#define PRINT_PREFIX_TAIL 5u /* prefix steps shown before the failing point */

_Noreturn void lin_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "lin: assertion failed: %s (%s:%d)\n", expr, file, line);
    fflush(stderr);
    abort();
}

const char *lin_verdict_name(enum lin_verdict v)
{
    switch (v) {
    case LIN_OK:
        return "OK";
    case LIN_ILLEGAL:
        return "ILLEGAL";
    case LIN_UNKNOWN:
        return "UNKNOWN";
    }
    return "?";
}

const char *lin_stop_name(enum lin_stop stop)
{
    switch (stop) {
    case LIN_STOP_NONE:
        return "none";
    case LIN_STOP_STEPS:
        return "steps";
    case LIN_STOP_MEMORY:
        return "memory";
    case LIN_STOP_CALLBACK:
        return "callback";
    }
    return "?";
}

const char *lin_strerror(int err)
{
    if (err == 0) return "success";
    switch (err) {
#define LIN_ERR_CASE(name, value, text)                                                            \
    case value:                                                                                    \
        return text;
        LIN_ERRNO_MAP(LIN_ERR_CASE)
#undef LIN_ERR_CASE
    }
    return err > 0 ? "not an error (a verdict)" : "unknown error";
}

/* ---------------------------------------------------------------- text */

void lin_text_init(struct lin_text *t, char *buf, size_t size)
{
    LIN_ASSERT(buf != NULL && size > 0);
    t->buf = buf;
    t->size = size;
    t->len = 0;
    t->truncated = false;
    buf[0] = '\0';
}

void lin_text_add(struct lin_text *t, const char *s, size_t n)
{
    if (t->truncated) return;
    if (t->len + n < t->size) {
        memcpy(t->buf + t->len, s, n);
        t->len += n;
        t->buf[t->len] = '\0';
        return;
    }
    /* Keep what fits and end with "..." so a cut is visible. */
    t->truncated = true;
    size_t room = t->size - 1 - t->len;
    size_t keep = room >= 3 ? room - 3 : 0;
    keep = keep < n ? keep : n;
    memcpy(t->buf + t->len, s, keep);
    t->len += keep;
    for (size_t i = 0; i < 3 && t->len + 1 < t->size; i++)
        t->buf[t->len++] = '.';
    t->buf[t->len] = '\0';
}

void lin_text_addf(struct lin_text *t, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0) return;
    size_t len = (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1;
    lin_text_add(t, tmp, len);
}

void lin_text_quote(struct lin_text *t, const char *s, size_t n, size_t quote_max)
{
    static const char hex[] = "0123456789abcdef";
    lin_text_add(t, "\"", 1);
    size_t shown = n < quote_max ? n : quote_max;
    for (size_t i = 0; i < shown && !t->truncated; i++) {
        unsigned char ch = (unsigned char)s[i];
        char esc[4] = {'\\', (char)ch, 0, 0};
        if (ch == '"' || ch == '\\') {
            lin_text_add(t, esc, 2);
        } else if (ch == '\n') {
            lin_text_add(t, "\\n", 2);
        } else if (ch < 0x20 || ch >= 0x7f) {
            esc[1] = 'x';
            esc[2] = hex[ch >> 4];
            esc[3] = hex[ch & 15u];
            lin_text_add(t, esc, 4);
        } else {
            lin_text_add(t, (const char *)&s[i], 1);
        }
    }
    if (shown < n) lin_text_add(t, "...", 3);
    lin_text_add(t, "\"", 1);
}

/* ---------------------------------------------------------------- building */

static const char *result_state_text(struct lin_result *res, const struct lin_model *model,
                                     void *ctx, uint64_t state)
{
    char buf[LIN_DESC_STATE_MAX];
    buf[0] = '\0';
    if (model->describe_state != NULL)
        model->describe_state(ctx, state, buf, sizeof(buf));
    else
        snprintf(buf, sizeof(buf), "%#llx", (unsigned long long)state);
    buf[sizeof(buf) - 1] = '\0';
    return lin_arena_strndup(&res->arena, buf, strlen(buf));
}

/* Copies the partition's order and replays it to describe the states along it. */
static int result_part_order(struct lin_result *res, const struct lin_model *model,
                             const struct lin_part_outcome *po, struct lin_result_part *rp)
{
    const uint32_t *order = NULL;
    uint32_t len = lin_search_order(po->search, &order);
    void *ctx = lin_search_ctx(po->search);
    rp->order_len = len;
    rp->order = lin_arena_alloc(&res->arena, ((size_t)len + 1) * sizeof(*rp->order));
    rp->states = lin_arena_alloc(&res->arena, ((size_t)len + 1) * sizeof(*rp->states));
    if (rp->order == NULL || rp->states == NULL) return LIN_ENOMEM;
    uint64_t state = model->init(ctx);
    rp->states[0] = result_state_text(res, model, ctx, state);
    for (uint32_t i = 0; i < len; i++) {
        LIN_ASSERT(order[i] < po->ops_count);
        rp->order[i] = po->ops_idx[order[i]];
        uint64_t next = state;
        int rc = model->step(ctx, state, order[i], &next);
        if (rc < 0) return rc;
        LIN_ASSERT(rc == 1); /* the search accepted this step; models are deterministic */
        state = next;
        rp->states[i + 1] = result_state_text(res, model, ctx, state);
    }
    for (uint32_t i = 0; i <= len; i++) {
        if (rp->states[i] == NULL) return LIN_ENOMEM;
    }
    uint32_t fail = lin_search_failing_op(po->search);
    if (fail == UINT32_MAX) return 0;
    uint64_t next = state;
    int rc = model->step(ctx, state, fail, &next);
    rp->fail_lookahead = rc == 1; /* legal, so only a viable lookahead can have refused it */
    LIN_ASSERT(!rp->fail_lookahead || model->viable != NULL);
    return rc < 0 ? rc : 0;
}

/* Describes the partition's ops and names the partition. */
static int result_part_texts(struct lin_result *res, const struct lin_model *model, size_t p,
                             const struct lin_part_outcome *po)
{
    char buf[LIN_DESC_OP_MAX];
    for (uint32_t i = 0; i < po->ops_count; i++) {
        size_t g = po->ops_idx[i];
        LIN_ASSERT(g < res->ops_count);
        const struct lin_op *op = &po->ops[i];
        buf[0] = '\0';
        if (model->describe_op != NULL) model->describe_op(op, buf, sizeof(buf));
        buf[sizeof(buf) - 1] = '\0';
        res->ops[g] = (struct lin_result_op){op->client, op->call_us, op->return_us, (uint32_t)p,
                                             lin_arena_strndup(&res->arena, buf, strlen(buf))};
        if (res->ops[g].text == NULL) return LIN_ENOMEM;
    }
    snprintf(buf, sizeof(buf), "all");
    /* A model split only by components is one partition when LIN_CHECK_NO_COMPOSE: "all". */
    bool split = model->partition != NULL || res->parts_count > 1;
    if (split && model->describe_partition != NULL && po->ops_count > 0)
        model->describe_partition(&po->ops[0], buf, sizeof(buf));
    buf[sizeof(buf) - 1] = '\0';
    res->parts[p].name = lin_arena_strndup(&res->arena, buf, strlen(buf));
    return res->parts[p].name != NULL ? 0 : LIN_ENOMEM;
}

int lin_result_new(const struct lin_model *model, size_t ops_count, size_t parts_count,
                   struct lin_result **res_out)
{
    LIN_ASSERT(model != NULL);
    struct lin_result *res = calloc(1, sizeof(*res));
    if (res == NULL) return LIN_ENOMEM;
    res->verdict = LIN_UNKNOWN;
    res->ops_count = ops_count;
    res->parts_count = parts_count;
    const char *name = model->name != NULL ? model->name : "?";
    res->model_name = lin_arena_strndup(&res->arena, name, strlen(name));
    res->ops = lin_arena_alloc(&res->arena, (ops_count + 1) * sizeof(*res->ops));
    res->parts = lin_arena_alloc(&res->arena, (parts_count + 1) * sizeof(*res->parts));
    if (res->model_name == NULL || res->ops == NULL || res->parts == NULL) {
        lin_result_free(res);
        return LIN_ENOMEM;
    }
    *res_out = res;
    return 0;
}

int lin_result_set_part(struct lin_result *res, const struct lin_model *model, size_t p,
                        const struct lin_part_outcome *po)
{
    LIN_ASSERT(p < res->parts_count);
    LIN_ASSERT(po->search != NULL);
    struct lin_result_part *rp = &res->parts[p];
    enum lin_search_status st = lin_search_status(po->search);
    rp->verdict = st == LIN_SEARCH_OK        ? LIN_OK
                  : st == LIN_SEARCH_ILLEGAL ? LIN_ILLEGAL
                                             : LIN_UNKNOWN;
    rp->ops_count = po->ops_count;
    rp->steps = po->steps;
    uint32_t fail = lin_search_failing_op(po->search);
    LIN_ASSERT(fail == UINT32_MAX || fail < po->ops_count);
    rp->fail_op = fail == UINT32_MAX ? -1 : (int64_t)po->ops_idx[fail];
    int rc = result_part_order(res, model, po, rp);
    return rc != 0 ? rc : result_part_texts(res, model, p, po);
}

void lin_result_finish(struct lin_result *res, enum lin_verdict verdict, uint64_t steps)
{
    res->verdict = verdict;
    res->steps = steps;
}

void lin_result_free(struct lin_result *res)
{
    if (res == NULL) return;
    lin_arena_free(&res->arena);
    free(res);
}

/* ---------------------------------------------------------------- reading */

enum lin_verdict lin_result_verdict(const struct lin_result *res)
{
    return res->verdict;
}

uint64_t lin_result_steps(const struct lin_result *res)
{
    return res->steps;
}

enum lin_stop lin_result_stop(const struct lin_result *res)
{
    return res->stop;
}

uint64_t lin_result_bytes_peak(const struct lin_result *res)
{
    return res->bytes_peak;
}

size_t lin_result_ops_count(const struct lin_result *res)
{
    return res->ops_count;
}

size_t lin_result_parts_count(const struct lin_result *res)
{
    return res->parts_count;
}

enum lin_verdict lin_result_part_verdict(const struct lin_result *res, size_t part)
{
    LIN_ASSERT(part < res->parts_count);
    return res->parts[part].verdict;
}

const char *lin_result_part_name(const struct lin_result *res, size_t part)
{
    LIN_ASSERT(part < res->parts_count);
    return res->parts[part].name;
}

size_t lin_result_part_ops_count(const struct lin_result *res, size_t part)
{
    LIN_ASSERT(part < res->parts_count);
    return res->parts[part].ops_count;
}

size_t lin_result_part_order(const struct lin_result *res, size_t part, const uint32_t **order_out)
{
    LIN_ASSERT(part < res->parts_count);
    *order_out = res->parts[part].order;
    return res->parts[part].order_len;
}

int64_t lin_result_part_failing_op(const struct lin_result *res, size_t part)
{
    LIN_ASSERT(part < res->parts_count);
    return res->parts[part].fail_op;
}

size_t lin_result_op_part(const struct lin_result *res, size_t op)
{
    LIN_ASSERT(op < res->ops_count);
    return res->ops[op].part;
}

const char *lin_result_op_text(const struct lin_result *res, size_t op)
{
    LIN_ASSERT(op < res->ops_count);
    return res->ops[op].text;
}

const char *lin_result_state_text(const struct lin_result *res, size_t part, int64_t i)
{
    LIN_ASSERT(part < res->parts_count);
    LIN_ASSERT(i >= -1 && i < (int64_t)res->parts[part].order_len);
    return res->parts[part].states[i + 1];
}

/* ---------------------------------------------------------------- printing */

static void print_op(const struct lin_result *res, FILE *out, const char *lead, size_t op)
{
    const struct lin_result_op *o = &res->ops[op];
    fprintf(out, "%sop %zu, client %d, [%lld, %lld]: %s\n", lead, op, o->client,
            (long long)o->call_us, (long long)o->return_us, o->text);
}

static void print_illegal_part(const struct lin_result *res, FILE *out, size_t p)
{
    const struct lin_result_part *rp = &res->parts[p];
    fprintf(out, "partition %s: ILLEGAL; longest linearizable prefix: %u of %u operations\n",
            rp->name, rp->order_len, rp->ops_count);
    uint32_t from = rp->order_len > PRINT_PREFIX_TAIL ? rp->order_len - PRINT_PREFIX_TAIL : 0;
    if (from > 0) fprintf(out, "  ... %u earlier steps\n", from);
    for (uint32_t i = from; i < rp->order_len; i++) {
        print_op(res, out, "  step: ", rp->order[i]);
        fprintf(out, "        state after: %s\n", rp->states[i + 1]);
    }
    if (rp->fail_op >= 0) {
        fprintf(out, "  state before the failure: %s\n", rp->states[rp->order_len]);
        print_op(res, out, "  cannot be linearized next: ", (size_t)rp->fail_op);
        if (rp->fail_lookahead)
            fprintf(out, "  (legal there, but the state it would leave is contradicted by an "
                         "operation that must follow it, e.g. a later get)\n");
    }
}

void lin_result_print(const struct lin_result *res, FILE *out)
{
    size_t counts[3] = {0, 0, 0};
    for (size_t p = 0; p < res->parts_count; p++)
        counts[res->parts[p].verdict]++;
    fprintf(out,
            "%s: %zu operations, %zu partitions (%zu OK, %zu ILLEGAL, %zu unknown), "
            "%llu steps%s%s\n",
            lin_verdict_name(res->verdict), res->ops_count, res->parts_count, counts[LIN_OK],
            counts[LIN_ILLEGAL], counts[LIN_UNKNOWN], (unsigned long long)res->steps,
            res->stop != LIN_STOP_NONE ? ", stopped by the budget: " : "",
            res->stop != LIN_STOP_NONE ? lin_stop_name(res->stop) : "");
    for (size_t p = 0; p < res->parts_count; p++) {
        if (res->parts[p].verdict == LIN_ILLEGAL) print_illegal_part(res, out, p);
    }
}
