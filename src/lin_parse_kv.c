/* lin_parse_kv.c: the parser for Porcupine's key/value logs (tests/data/porcupine/kv/c*.txt).
 *
 * A line is a small EDN map, e.g.
 *   {:process 3, :type :invoke, :f :append, :key "7", :value "x 3 1 y"}
 * with exactly the fields :process (integer), :type (:invoke or :ok), :f (:get, :put or
 * :append), :key (string) and :value (string or nil), in any order; commas are whitespace, as
 * in EDN. An :ok pairs with the open invocation of the same process and must name the same
 * :f and :key; a get's :ok carries the value read (nil reads as ""). Every invocation must
 * return before the end of the file. Times are event numbers (one per line).
 *
 * Strings accept the escapes \" \\ \n \t and \r. Anything else is an error naming the line.
 *
 * Invariants: the open map holds exactly the processes with an unreturned invocation; every
 * returned operation has both times set.
 */
#include <stdlib.h>
#include <string.h>

#include "lin_int.h"

#define KV_CLOSED (UINT32_MAX - 1) /* open-map value of a process with nothing open */

enum kv_field { F_PROCESS, F_TYPE, F_F, F_KEY, F_VALUE, F_COUNT };

struct kv_line {
    bool seen[F_COUNT];
    int32_t process;
    bool is_invoke;
    enum lin_kv_kind f;
    const char *key;   /* arena copies */
    const char *value; /* NULL for nil */
};

struct kv_op {
    struct lin_kv_input *in;
    struct lin_kv_output *out;
    int32_t process;
    int64_t call_seq;
    int64_t return_seq; /* -1 while open */
    size_t line;
};

struct kv_parser {
    struct lin_lex lx;
    struct lin_history *h;
    struct lin_parse_error *err;
    struct kv_op *ops;
    size_t ops_count;
    size_t ops_cap;
    struct lin_map open; /* process -> index into ops */
    int64_t seq;
    char *buf; /* unescaped string being read */
    size_t buf_cap;
};

static int kv_fail(struct kv_parser *p, const char *what)
{
    lin_parse_error_set(p->err, p->lx.line_no, "%s", what);
    return LIN_EPARSE;
}

static int kv_buf_push(struct kv_parser *p, size_t len, char ch)
{
    if (len == p->buf_cap) {
        size_t cap = p->buf_cap ? p->buf_cap * 2 : 128u;
        char *nb = realloc(p->buf, cap);
        if (nb == NULL) return LIN_ENOMEM;
        p->buf = nb;
        p->buf_cap = cap;
    }
    p->buf[len] = ch;
    return 0;
}

static int kv_unescape(struct kv_parser *p, char ch, char *out)
{
    static const char from[] = "\"\\ntr";
    static const char to[] = "\"\\\n\t\r";
    const char *at = ch != '\0' ? strchr(from, ch) : NULL;
    if (at == NULL) return kv_fail(p, "unsupported escape in a string");
    *out = to[at - from];
    return 0;
}

/* Reads a "..." string at the cursor into the arena. */
static int kv_lex_string(struct kv_parser *p, const char **out)
{
    struct lin_lex *lx = &p->lx;
    LIN_ASSERT(lx->at < lx->cur_len && lx->cur[lx->at] == '"');
    lx->at++;
    size_t len = 0;
    while (lx->at < lx->cur_len && lx->cur[lx->at] != '"') {
        char ch = lx->cur[lx->at++];
        if (ch == '\\') {
            if (lx->at >= lx->cur_len) break;
            if (kv_unescape(p, lx->cur[lx->at++], &ch) != 0) return LIN_EPARSE;
        }
        if (kv_buf_push(p, len++, ch) != 0) return LIN_ENOMEM;
    }
    if (lx->at >= lx->cur_len) return kv_fail(p, "unterminated string");
    lx->at++; /* the closing quote */
    if (memchr(p->buf ? p->buf : "", '\0', len) != NULL) return kv_fail(p, "NUL byte in a string");
    *out = lin_arena_strndup(&p->h->arena, p->buf ? p->buf : "", len);
    return *out != NULL ? 0 : LIN_ENOMEM;
}

/* Reads `:word` at the cursor and returns its index in `words` (NULL-terminated). */
static int kv_lex_keyword(struct kv_parser *p, const char *const *words, const char *what,
                          size_t *index_out)
{
    const char *tok = NULL;
    size_t len = lin_lex_token(&p->lx, ",}", &tok);
    for (size_t i = 0; words[i] != NULL; i++) {
        if (len == strlen(words[i]) && memcmp(tok, words[i], len) == 0) {
            *index_out = i;
            return 0;
        }
    }
    lin_parse_error_set(p->err, p->lx.line_no, "expected %s", what);
    return LIN_EPARSE;
}

static int kv_lex_field_value(struct kv_parser *p, enum kv_field f, struct kv_line *l)
{
    static const char *const types[] = {":invoke", ":ok", NULL};
    static const char *const fs[] = {":get", ":put", ":append", NULL};
    struct lin_lex *lx = &p->lx;
    size_t i = 0;
    int64_t v = 0;
    int rc = 0;
    bool quote = lx->at < lx->cur_len && lx->cur[lx->at] == '"';
    switch (f) {
    case F_PROCESS:
        rc = lin_lex_int(lx, 0, INT32_MAX, &v);
        l->process = (int32_t)v;
        return rc == 0 ? 0 : kv_fail(p, "expected a process number (0 to 2^31-1)");
    case F_TYPE:
        rc = kv_lex_keyword(p, types, ":type :invoke or :ok", &i);
        l->is_invoke = i == 0;
        return rc;
    case F_F:
        rc = kv_lex_keyword(p, fs, ":f :get, :put or :append", &i);
        l->f = (enum lin_kv_kind)i;
        return rc;
    case F_KEY:
        return quote ? kv_lex_string(p, &l->key) : kv_fail(p, "expected a string :key");
    case F_VALUE:
        if (quote) return kv_lex_string(p, &l->value);
        l->value = NULL;
        return lin_lex_eat(lx, "nil") ? 0 : kv_fail(p, "expected a string or nil :value");
    case F_COUNT:
        break;
    }
    LIN_ASSERT(!"kv_lex_field_value: bad field");
    return LIN_EPARSE;
}

/* Skips EDN whitespace (spaces, tabs and commas). */
static void kv_skip(struct lin_lex *lx)
{
    while (lx->at < lx->cur_len &&
           (lx->cur[lx->at] == ' ' || lx->cur[lx->at] == '\t' || lx->cur[lx->at] == ','))
        lx->at++;
}

static int kv_lex_fields(struct kv_parser *p, struct kv_line *l)
{
    static const char *const names[] = {":process", ":type", ":f", ":key", ":value", NULL};
    struct lin_lex *lx = &p->lx;
    for (size_t fields = 0; fields <= F_COUNT; fields++) {
        kv_skip(lx);
        if (lin_lex_eat(lx, "}")) break;
        size_t f = 0;
        int rc = kv_lex_keyword(p, names, "a field (:process, :type, :f, :key, :value) or '}'", &f);
        if (rc != 0) return rc;
        if (l->seen[f]) return kv_fail(p, "a field appears twice");
        l->seen[f] = true;
        kv_skip(lx);
        rc = kv_lex_field_value(p, (enum kv_field)f, l);
        if (rc != 0) return rc;
        if (!lin_lex_at_end(lx) && lx->cur[lx->at] != ',' && lx->cur[lx->at] != '}' &&
            lin_lex_skip_space(lx) == 0)
            return kv_fail(p, "expected ',' or '}' after a field");
    }
    for (size_t f = 0; f < F_COUNT; f++) {
        if (!l->seen[f]) {
            lin_parse_error_set(p->err, lx->line_no, "missing field %s", names[f]);
            return LIN_EPARSE;
        }
    }
    return 0;
}

/* Lexes the current line into *l; *blank is set for an empty line. */
static int kv_lex_line(struct kv_parser *p, struct kv_line *l, bool *blank)
{
    struct lin_lex *lx = &p->lx;
    if (lin_lex_line_has_nul(lx)) return kv_fail(p, "NUL byte in line (not a text file?)");
    lin_lex_skip_space(lx);
    *blank = lin_lex_at_end(lx);
    if (*blank) return 0;
    if (!lin_lex_eat(lx, "{")) return kv_fail(p, "expected '{' at the start of the line");
    int rc = kv_lex_fields(p, l);
    if (rc != 0) return rc;
    if (lx->at == 0 || lx->cur[lx->at - 1] != '}')
        return kv_fail(p, "expected '}' after the fields");
    lin_lex_skip_space(lx);
    return lin_lex_at_end(lx) ? 0 : kv_fail(p, "unexpected text after '}'");
}

static uint32_t kv_open_op(const struct kv_parser *p, int32_t process)
{
    uint32_t i = lin_map_get(&p->open, (uint64_t)process);
    return i == KV_CLOSED ? LIN_MAP_EMPTY : i;
}

static int kv_invoke(struct kv_parser *p, const struct kv_line *l)
{
    uint32_t open = kv_open_op(p, l->process);
    if (open != LIN_MAP_EMPTY) {
        lin_parse_error_set(p->err, p->lx.line_no,
                            "process %d invokes while its operation from line %zu is open",
                            (int)l->process, p->ops[open].line);
        return LIN_EPARSE;
    }
    if (l->f != LIN_KV_GET && l->value == NULL)
        return kv_fail(p, "a put or append needs a string :value");
    if (p->ops_count >= LIN_OPS_MAX) return lin_parse_limit(p->err, p->lx.line_no);
    if (p->ops_count == p->ops_cap) {
        size_t cap = p->ops_cap ? p->ops_cap * 2 : 256u;
        struct kv_op *ops = realloc(p->ops, cap * sizeof(*ops));
        if (ops == NULL) return LIN_ENOMEM;
        p->ops = ops;
        p->ops_cap = cap;
    }
    struct kv_op *op = &p->ops[p->ops_count];
    op->in = lin_arena_alloc(&p->h->arena, sizeof(*op->in));
    op->out = lin_arena_alloc(&p->h->arena, sizeof(*op->out));
    if (op->in == NULL || op->out == NULL) return LIN_ENOMEM;
    *op->in = (struct lin_kv_input){l->f, l->key, l->f == LIN_KV_GET ? "" : l->value};
    op->out->value = "";
    op->process = l->process;
    op->call_seq = p->seq++;
    op->return_seq = -1;
    op->line = p->lx.line_no;
    if (lin_map_put(&p->open, (uint64_t)l->process, (uint32_t)p->ops_count) != 0) return LIN_ENOMEM;
    p->ops_count++;
    return 0;
}

static int kv_return(struct kv_parser *p, const struct kv_line *l)
{
    uint32_t open = kv_open_op(p, l->process);
    if (open == LIN_MAP_EMPTY) {
        lin_parse_error_set(p->err, p->lx.line_no, "process %d has no open operation",
                            (int)l->process);
        return LIN_EPARSE;
    }
    struct kv_op *op = &p->ops[open];
    if (op->in->kind != l->f || strcmp(op->in->key, l->key) != 0) {
        lin_parse_error_set(p->err, p->lx.line_no,
                            "the :ok does not match the :f and :key invoked on line %zu", op->line);
        return LIN_EPARSE;
    }
    if (l->f == LIN_KV_GET && l->value != NULL) op->out->value = l->value;
    op->return_seq = p->seq++;
    return lin_map_put(&p->open, (uint64_t)l->process, KV_CLOSED) != 0 ? LIN_ENOMEM : 0;
}

static int kv_finish(struct kv_parser *p)
{
    struct lin_history *h = p->h;
    for (size_t i = 0; i < p->ops_count; i++) {
        if (p->ops[i].return_seq < 0) {
            lin_parse_error_set(p->err, p->ops[i].line,
                                "the operation invoked here by process %d never returns",
                                (int)p->ops[i].process);
            return LIN_EPARSE;
        }
    }
    h->ops = malloc((p->ops_count ? p->ops_count : 1) * sizeof(*h->ops));
    if (h->ops == NULL) return LIN_ENOMEM;
    for (size_t i = 0; i < p->ops_count; i++) {
        const struct kv_op *op = &p->ops[i];
        h->ops[i] = (struct lin_op){op->process, op->call_seq, op->return_seq, op->in, op->out};
    }
    h->ops_count = p->ops_count;
    return 0;
}

int lin_parse_kv(const char *text, size_t text_size, struct lin_history *h,
                 struct lin_parse_error *err)
{
    struct kv_parser p = {.h = h, .err = err};
    lin_lex_init(&p.lx, text, text_size);
    lin_map_init(&p.open);
    int rc = 0;
    while (rc == 0 && lin_lex_next_line(&p.lx)) {
        struct kv_line l = {0};
        bool blank = false;
        rc = kv_lex_line(&p, &l, &blank);
        if (rc != 0 || blank) continue;
        rc = l.is_invoke ? kv_invoke(&p, &l) : kv_return(&p, &l);
    }
    if (rc == 0) rc = kv_finish(&p);
    if (rc == LIN_ENOMEM) lin_parse_error_set(err, p.lx.line_no, "out of memory");
    free(p.ops);
    free(p.buf);
    lin_map_close(&p.open);
    return rc;
}
