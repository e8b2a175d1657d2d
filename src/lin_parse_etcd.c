/* lin_parse_etcd.c: the parser for Jepsen etcd logs (tests/data/porcupine/jepsen/etcd_*.log).
 *
 * A line is `INFO  jepsen.util - <proc> <type> <f> <value>` with fields separated by tabs or
 * spaces; type is :invoke, :ok, :fail or :info; f is :read, :write or :cas; value is nil, an
 * integer, [from to] or :timed-out. A return pairs with the open invocation of the same
 * process. Outcomes:
 *  - :ok closes the operation with its result;
 *  - :fail with :timed-out closes it with an unknown result; any other :fail is a definite
 *    failure (cas: the compare did not match; read/write: no effect);
 *  - :info leaves it open (the process crashed; Jepsen never reuses its number), and at the
 *    end of the log every open operation returns with an unknown result, in call order.
 * Anything else is an error naming the line. Times are event numbers: each call and each
 * return (including the ones added at the end) takes the next number.
 *
 * Invariants: an operation's output is filled exactly once, when it returns; the open map
 * holds exactly the processes with an operation that has not returned.
 */
#include <stdlib.h>
#include <string.h>

#include "lin_int.h"

enum etcd_type { ETCD_INVOKE, ETCD_OK, ETCD_FAIL, ETCD_INFO };
enum etcd_value_kind { VAL_NIL, VAL_INT, VAL_PAIR, VAL_TIMEOUT };

struct etcd_line {
    int32_t proc;
    enum etcd_type type;
    enum lin_etcd_kind f;
    enum etcd_value_kind value_kind;
    int32_t a;
    int32_t b;
};

struct etcd_op {
    struct lin_etcd_input *in;
    struct lin_etcd_output *out;
    int32_t proc;
    int64_t call_seq;
    int64_t return_seq; /* -1 while open */
    size_t line;
};

struct etcd_parser {
    struct lin_lex lx;
    struct lin_history *h;
    struct lin_parse_error *err;
    struct etcd_op *ops;
    size_t ops_count;
    size_t ops_cap;
    struct lin_map open; /* proc -> index into ops */
    int64_t seq;
};

#define ETCD_CLOSED (UINT32_MAX - 1) /* open-map value of a process with nothing open */

/* The index of proc's open operation, or LIN_MAP_EMPTY. */
static uint32_t etcd_open_op(const struct etcd_parser *p, int32_t proc)
{
    uint32_t i = lin_map_get(&p->open, (uint64_t)proc);
    return i == ETCD_CLOSED ? LIN_MAP_EMPTY : i;
}

static int etcd_fail(struct etcd_parser *p, const char *what)
{
    lin_parse_error_set(p->err, p->lx.line_no, "%s", what);
    return LIN_EPARSE;
}

/* Matches `word` exactly as the next token. */
static bool etcd_token_is(const char *tok, size_t len, const char *word)
{
    return len == strlen(word) && memcmp(tok, word, len) == 0;
}

static int etcd_lex_int32(struct etcd_parser *p, int32_t *out, const char *what)
{
    int64_t v = 0;
    int rc = lin_lex_int(&p->lx, INT32_MIN, INT32_MAX, &v);
    if (rc == LIN_ELIMIT) {
        lin_parse_error_set(p->err, p->lx.line_no, "%s out of range", what);
        return LIN_EPARSE;
    }
    if (rc != 0) {
        lin_parse_error_set(p->err, p->lx.line_no, "expected %s", what);
        return LIN_EPARSE;
    }
    *out = (int32_t)v;
    return 0;
}

static int etcd_lex_value(struct etcd_parser *p, struct etcd_line *l)
{
    struct lin_lex *lx = &p->lx;
    if (lin_lex_eat(lx, "nil")) {
        l->value_kind = VAL_NIL;
    } else if (lin_lex_eat(lx, ":timed-out")) {
        l->value_kind = VAL_TIMEOUT;
    } else if (lin_lex_eat(lx, "[")) {
        l->value_kind = VAL_PAIR;
        lin_lex_skip_space(lx);
        if (etcd_lex_int32(p, &l->a, "cas expected value") != 0) return LIN_EPARSE;
        if (lin_lex_skip_space(lx) == 0)
            return etcd_fail(p, "expected a space between the two cas values");
        if (etcd_lex_int32(p, &l->b, "cas new value") != 0) return LIN_EPARSE;
        lin_lex_skip_space(lx);
        if (!lin_lex_eat(lx, "]")) return etcd_fail(p, "expected ']' after the cas values");
    } else {
        l->value_kind = VAL_INT;
        if (etcd_lex_int32(p, &l->a, "a value (nil, an integer, [a b] or :timed-out)") != 0)
            return LIN_EPARSE;
    }
    lin_lex_skip_space(lx);
    if (!lin_lex_at_end(lx)) return etcd_fail(p, "unexpected text after the value");
    return 0;
}

static int etcd_lex_type_f(struct etcd_parser *p, struct etcd_line *l)
{
    static const char *const types[] = {":invoke", ":ok", ":fail", ":info"};
    static const char *const fs[] = {":read", ":write", ":cas"};
    const char *tok = NULL;
    size_t len = lin_lex_token(&p->lx, "", &tok);
    size_t i = 0;
    while (i < 4 && !etcd_token_is(tok, len, types[i]))
        i++;
    if (i == 4) return etcd_fail(p, "expected :invoke, :ok, :fail or :info");
    l->type = (enum etcd_type)i;
    if (lin_lex_skip_space(&p->lx) == 0) return etcd_fail(p, "expected a space after the type");
    len = lin_lex_token(&p->lx, "", &tok);
    for (i = 0; i < 3 && !etcd_token_is(tok, len, fs[i]); i++)
        continue;
    if (i == 3) return etcd_fail(p, "expected :read, :write or :cas");
    l->f = (enum lin_etcd_kind)i;
    if (lin_lex_skip_space(&p->lx) == 0)
        return etcd_fail(p, "expected a space after the operation");
    return 0;
}

/* Lexes the current line into *l; *blank is set for an empty line. */
static int etcd_lex_line(struct etcd_parser *p, struct etcd_line *l, bool *blank)
{
    struct lin_lex *lx = &p->lx;
    if (lin_lex_line_has_nul(lx)) return etcd_fail(p, "NUL byte in line (not a text file?)");
    lin_lex_skip_space(lx);
    *blank = lin_lex_at_end(lx);
    if (*blank) return 0;
    static const char *const lead[] = {"INFO", "jepsen.util", "-"};
    for (size_t i = 0; i < 3; i++) {
        if (!lin_lex_eat(lx, lead[i]) || lin_lex_skip_space(lx) == 0)
            return etcd_fail(p, "expected a line starting 'INFO  jepsen.util - <process>'");
    }
    int64_t proc = 0;
    int rc = lin_lex_int(lx, 0, INT32_MAX, &proc);
    if (rc != 0)
        return etcd_fail(p, rc == LIN_ELIMIT ? "process number out of range"
                                             : "expected a process number");
    l->proc = (int32_t)proc;
    if (lin_lex_skip_space(lx) == 0)
        return etcd_fail(p, "expected a space after the process number");
    rc = etcd_lex_type_f(p, l);
    return rc != 0 ? rc : etcd_lex_value(p, l);
}

static int etcd_invoke(struct etcd_parser *p, const struct etcd_line *l)
{
    static const enum etcd_value_kind want[] = {VAL_NIL, VAL_INT, VAL_PAIR};
    if (l->value_kind != want[l->f])
        return etcd_fail(p, l->f == LIN_ETCD_READ    ? "an :invoke :read takes nil"
                            : l->f == LIN_ETCD_WRITE ? "an :invoke :write takes an integer"
                                                     : "an :invoke :cas takes [from to]");
    uint32_t open = etcd_open_op(p, l->proc);
    if (open != LIN_MAP_EMPTY) {
        lin_parse_error_set(p->err, p->lx.line_no,
                            "process %d invokes while its operation from line %zu is open",
                            (int)l->proc, p->ops[open].line);
        return LIN_EPARSE;
    }
    if (p->ops_count >= LIN_OPS_MAX) return lin_parse_limit(p->err, p->lx.line_no);
    if (p->ops_count == p->ops_cap) {
        size_t cap = p->ops_cap ? p->ops_cap * 2 : 256u;
        struct etcd_op *ops = realloc(p->ops, cap * sizeof(*ops));
        if (ops == NULL) return LIN_ENOMEM;
        p->ops = ops;
        p->ops_cap = cap;
    }
    struct etcd_op *op = &p->ops[p->ops_count];
    op->in = lin_arena_alloc(&p->h->arena, sizeof(*op->in));
    op->out = lin_arena_alloc(&p->h->arena, sizeof(*op->out));
    if (op->in == NULL || op->out == NULL) return LIN_ENOMEM;
    *op->in = (struct lin_etcd_input){l->f, l->a, l->f == LIN_ETCD_CAS ? l->b : 0};
    op->proc = l->proc;
    op->call_seq = p->seq++;
    op->return_seq = -1;
    op->line = p->lx.line_no;
    if (lin_map_put(&p->open, (uint64_t)l->proc, (uint32_t)p->ops_count) != 0) return LIN_ENOMEM;
    p->ops_count++;
    return 0;
}

/* Checks that a return line's value fits its operation; fills the outcome. */
static int etcd_outcome(struct etcd_parser *p, const struct etcd_line *l, struct etcd_op *op)
{
    struct lin_etcd_output *out = op->out;
    if (l->value_kind == VAL_TIMEOUT) {
        out->unknown = l->type == ETCD_FAIL; /* an :ok cannot time out */
        return l->type == ETCD_FAIL ? 0 : etcd_fail(p, ":timed-out on an :ok line");
    }
    out->ok = l->type == ETCD_OK;
    if (l->f == LIN_ETCD_READ) {
        if (l->value_kind != VAL_NIL && l->value_kind != VAL_INT)
            return etcd_fail(p, "a :read returns nil or an integer");
        out->exists = l->value_kind == VAL_INT;
        out->value = out->exists ? l->a : 0;
        return 0;
    }
    if (l->f == LIN_ETCD_WRITE) {
        if (l->value_kind != VAL_INT || l->a != op->in->arg1)
            return etcd_fail(p, "a :write returns the value it was invoked with");
        return 0;
    }
    if (l->value_kind != VAL_PAIR || l->a != op->in->arg1 || l->b != op->in->arg2)
        return etcd_fail(p, "a :cas returns the [from to] it was invoked with");
    return 0;
}

static int etcd_return(struct etcd_parser *p, const struct etcd_line *l)
{
    uint32_t open = etcd_open_op(p, l->proc);
    if (open == LIN_MAP_EMPTY) {
        lin_parse_error_set(p->err, p->lx.line_no, "process %d has no open operation",
                            (int)l->proc);
        return LIN_EPARSE;
    }
    struct etcd_op *op = &p->ops[open];
    if (op->in->kind != l->f) {
        lin_parse_error_set(p->err, p->lx.line_no,
                            "the return does not match the operation invoked on line %zu",
                            op->line);
        return LIN_EPARSE;
    }
    if (l->type == ETCD_INFO) return 0; /* indeterminate: stays open until the end of the log */
    int rc = etcd_outcome(p, l, op);
    if (rc != 0) return rc;
    op->return_seq = p->seq++;
    /* The map has no delete (LIN_MAP_EMPTY marks a free slot), so mark the process closed. */
    return lin_map_put(&p->open, (uint64_t)l->proc, ETCD_CLOSED) != 0 ? LIN_ENOMEM : 0;
}

/* Closes every open operation with an unknown result and builds the history's ops. */
static int etcd_finish(struct etcd_parser *p)
{
    struct lin_history *h = p->h;
    h->ops = malloc((p->ops_count ? p->ops_count : 1) * sizeof(*h->ops));
    if (h->ops == NULL) return LIN_ENOMEM;
    for (size_t i = 0; i < p->ops_count; i++) {
        struct etcd_op *op = &p->ops[i];
        if (op->return_seq < 0) {
            op->out->unknown = true;
            op->return_seq = p->seq++;
        }
        h->ops[i] = (struct lin_op){op->proc, op->call_seq, op->return_seq, op->in, op->out};
    }
    h->ops_count = p->ops_count;
    return 0;
}

int lin_parse_etcd(const char *text, size_t text_size, struct lin_history *h,
                   struct lin_parse_error *err)
{
    struct etcd_parser p = {.h = h, .err = err};
    lin_lex_init(&p.lx, text, text_size);
    lin_map_init(&p.open);
    int rc = 0;
    while (rc == 0 && lin_lex_next_line(&p.lx)) {
        struct etcd_line l = {0};
        bool blank = false;
        rc = etcd_lex_line(&p, &l, &blank);
        if (rc != 0 || blank) continue;
        rc = l.type == ETCD_INVOKE ? etcd_invoke(&p, &l) : etcd_return(&p, &l);
    }
    if (rc == 0) rc = etcd_finish(&p);
    if (rc == LIN_ENOMEM) lin_parse_error_set(err, p.lx.line_no, "out of memory");
    free(p.ops);
    lin_map_close(&p.open);
    return rc;
}
