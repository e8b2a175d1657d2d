/* lin_history.c: histories and their entries.
 *
 * Owns: the arena allocator that backs parsed histories and results; the conversion of an
 * event stream to operations; the time-ordered call/return entries a search walks; and the
 * struct lin_history wrapper around the two file parsers (reading the file, dispatching on the
 * format, freeing).
 *
 * Invariants: entries are a total order (time, call-before-return, operation index), so the
 * same operations always give the same entries; every call entry's match is a later return.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lin_int.h"

/* ---------------------------------------------------------------- arena */

#define ARENA_BLOCK_SIZE (64u * 1024u)

struct lin_arena_block {
    struct lin_arena_block *next;
    size_t used;
    size_t cap;
    _Alignas(8) unsigned char data[];
};

void *lin_arena_alloc(struct lin_arena *arena, size_t size)
{
    LIN_ASSERT(arena != NULL);
    size_t rounded = (size + 7u) & ~(size_t)7u;
    if (rounded < size) return NULL;
    struct lin_arena_block *b = arena->head;
    if (b == NULL || b->cap - b->used < rounded) {
        /* Big requests get a block of their own so small ones keep filling the current one. */
        size_t cap = rounded > ARENA_BLOCK_SIZE / 4 ? rounded : ARENA_BLOCK_SIZE;
        struct lin_arena_block *nb = malloc(sizeof(*nb) + cap);
        if (nb == NULL) return NULL;
        nb->used = 0;
        nb->cap = cap;
        if (b != NULL && rounded > ARENA_BLOCK_SIZE / 4) {
            nb->next = b->next; /* keep the partly used block in front */
            b->next = nb;
        } else {
            nb->next = b;
            arena->head = nb;
        }
        b = nb;
    }
    void *p = b->data + b->used;
    b->used += rounded;
    LIN_ASSERT(b->used <= b->cap);
    memset(p, 0, rounded);
    return p;
}

char *lin_arena_strndup(struct lin_arena *arena, const char *s, size_t size)
{
    if (size == SIZE_MAX) return NULL;
    char *p = lin_arena_alloc(arena, size + 1);
    if (p == NULL) return NULL;
    if (size > 0) memcpy(p, s, size);
    p[size] = '\0';
    return p;
}

void lin_arena_free(struct lin_arena *arena)
{
    struct lin_arena_block *b = arena->head;
    while (b != NULL) {
        struct lin_arena_block *next = b->next;
        free(b);
        b = next;
    }
    arena->head = NULL;
}

/* ---------------------------------------------------------------- entries */

struct entry_key {
    int64_t time;
    uint32_t op;
    uint32_t is_return;
};

static int entry_key_cmp(const void *pa, const void *pb)
{
    const struct entry_key *a = pa;
    const struct entry_key *b = pb;
    if (a->time != b->time) return a->time < b->time ? -1 : 1;
    if (a->is_return != b->is_return) return a->is_return < b->is_return ? -1 : 1;
    if (a->op != b->op) return a->op < b->op ? -1 : 1;
    return 0;
}

int lin_entries_build(const struct lin_op *ops, uint32_t ops_count, uint32_t *entry_op,
                      uint32_t *entry_match)
{
    LIN_ASSERT(ops_count <= LIN_OPS_MAX);
    size_t n2 = (size_t)ops_count * 2;
    struct entry_key *keys = malloc((n2 ? n2 : 1) * sizeof(*keys));
    uint32_t *call_pos = malloc((ops_count ? ops_count : 1) * sizeof(*call_pos));
    if (keys == NULL || call_pos == NULL) {
        free(keys);
        free(call_pos);
        return LIN_ENOMEM;
    }
    for (uint32_t i = 0; i < ops_count; i++) {
        LIN_ASSERT(ops[i].call_us <= ops[i].return_us);
        keys[2 * (size_t)i] = (struct entry_key){ops[i].call_us, i, 0};
        keys[2 * (size_t)i + 1] = (struct entry_key){ops[i].return_us, i, 1};
    }
    qsort(keys, n2, sizeof(*keys), entry_key_cmp);
    for (size_t i = 0; i < n2; i++) {
        entry_op[i] = keys[i].op;
        entry_match[i] = LIN_ENTRY_RETURN;
        if (keys[i].is_return == 0) {
            call_pos[keys[i].op] = (uint32_t)i;
        } else {
            /* The call sorts first: same time puts calls first, and call <= return. */
            entry_match[call_pos[keys[i].op]] = (uint32_t)i;
        }
    }
    for (size_t i = 0; i < n2; i++) {
        if (entry_match[i] != LIN_ENTRY_RETURN) LIN_ASSERT(entry_match[i] > i);
    }
    free(keys);
    free(call_pos);
    return 0;
}

/* ---------------------------------------------------------------- events */

/* Validates the stream and records, per id, the positions of its call and return. */
static int events_index(const struct lin_event *events, size_t events_count, size_t *call_at,
                        size_t *ret_at, size_t ids_max)
{
    for (size_t i = 0; i < ids_max; i++) {
        call_at[i] = SIZE_MAX;
        ret_at[i] = SIZE_MAX;
    }
    for (size_t i = 0; i < events_count; i++) {
        uint32_t id = events[i].id;
        if (id >= ids_max) return LIN_EINVAL; /* more ids than calls: something is unmatched */
        if (events[i].kind == LIN_EVENT_CALL) {
            if (call_at[id] != SIZE_MAX) return LIN_EINVAL;
            call_at[id] = i;
        } else if (events[i].kind == LIN_EVENT_RETURN) {
            if (call_at[id] == SIZE_MAX || ret_at[id] != SIZE_MAX) return LIN_EINVAL;
            ret_at[id] = i;
        } else {
            return LIN_EINVAL;
        }
    }
    for (size_t i = 0; i < ids_max; i++) {
        if (call_at[i] == SIZE_MAX || ret_at[i] == SIZE_MAX) return LIN_EINVAL;
    }
    return 0;
}

static int call_at_cmp(const void *pa, const void *pb)
{
    const struct lin_op *a = pa;
    const struct lin_op *b = pb;
    return (a->call_us > b->call_us) - (a->call_us < b->call_us);
}

int lin_events_to_ops(const struct lin_event *events, size_t events_count, struct lin_op **ops_out,
                      size_t *ops_count_out)
{
    if (ops_out == NULL || ops_count_out == NULL || (events == NULL && events_count > 0))
        return LIN_EINVAL;
    if (events_count % 2 != 0) return LIN_EINVAL;
    size_t n = events_count / 2;
    if (n > LIN_OPS_MAX) return LIN_ELIMIT;
    size_t *call_at = malloc((n ? n : 1) * sizeof(*call_at));
    size_t *ret_at = malloc((n ? n : 1) * sizeof(*ret_at));
    struct lin_op *ops = malloc((n ? n : 1) * sizeof(*ops));
    int rc = LIN_ENOMEM;
    if (call_at == NULL || ret_at == NULL || ops == NULL) goto err_free;
    rc = events_index(events, events_count, call_at, ret_at, n);
    if (rc != 0) goto err_free;
    for (size_t i = 0; i < n; i++) {
        const struct lin_event *c = &events[call_at[i]];
        ops[i] = (struct lin_op){c->client, (int64_t)call_at[i], (int64_t)ret_at[i], c->value,
                                 events[ret_at[i]].value};
    }
    /* Call positions are distinct, so this order is total. */
    qsort(ops, n, sizeof(*ops), call_at_cmp);
    free(call_at);
    free(ret_at);
    *ops_out = ops;
    *ops_count_out = n;
    return 0;
err_free:
    free(call_at);
    free(ret_at);
    free(ops);
    return rc;
}

/* ---------------------------------------------------------------- histories */

void lin_parse_error_set(struct lin_parse_error *err, size_t line, const char *fmt, ...)
{
    if (err == NULL) return;
    err->line = line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
}

int lin_parse_limit(struct lin_parse_error *err, size_t line)
{
    lin_parse_error_set(err, line, "more than %u operations, the checker's limit",
                        (unsigned)LIN_OPS_MAX);
    return LIN_ELIMIT;
}

int lin_history_parse(enum lin_format format, const char *text, size_t text_size,
                      const char *file_name, struct lin_history **history_out,
                      struct lin_parse_error *err)
{
    if (err != NULL) {
        err->file = file_name != NULL ? file_name : "(input)";
        err->line = 0;
        err->message[0] = '\0';
    }
    if (history_out == NULL || (text == NULL && text_size > 0)) {
        lin_parse_error_set(err, 0, "invalid arguments");
        return LIN_EINVAL;
    }
    struct lin_history *h = calloc(1, sizeof(*h));
    if (h == NULL) {
        lin_parse_error_set(err, 0, "out of memory");
        return LIN_ENOMEM;
    }
    int rc;
    if (format == LIN_FORMAT_KV) {
        rc = lin_parse_kv(text, text_size, h, err);
    } else if (format == LIN_FORMAT_ETCD) {
        rc = lin_parse_etcd(text, text_size, h, err);
    } else {
        lin_parse_error_set(err, 0, "unknown history format %d", (int)format);
        rc = LIN_EINVAL;
    }
    if (rc != 0) {
        lin_history_free(h);
        return rc;
    }
    *history_out = h;
    return 0;
}

/* Reads a whole file (at most LIN_FILE_SIZE_MAX bytes) into a malloc'd buffer. */
static int file_slurp(const char *path, char **buf_out, size_t *size_out,
                      struct lin_parse_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        lin_parse_error_set(err, 0, "cannot open: %s", strerror(errno));
        return LIN_EIO;
    }
    size_t cap = 1u << 16;
    size_t size = 0;
    char *buf = malloc(cap);
    int rc = LIN_ENOMEM;
    while (buf != NULL) {
        size_t got = fread(buf + size, 1, cap - size, f);
        size += got;
        if (got == 0 || size < cap) break;
        rc = LIN_ELIMIT;
        if (cap >= LIN_FILE_SIZE_MAX) goto err_close;
        rc = LIN_ENOMEM;
        char *nb = realloc(buf, cap * 2);
        if (nb == NULL) goto err_close;
        buf = nb;
        cap *= 2;
    }
    if (buf == NULL) goto err_close;
    if (ferror(f)) {
        /* Say why (a directory reads EISDIR), not only that the read failed. */
        lin_parse_error_set(err, 0, "cannot read: %s", strerror(errno));
        fclose(f);
        free(buf);
        return LIN_EIO;
    }
    fclose(f);
    *buf_out = buf;
    *size_out = size;
    return 0;
err_close:
    fclose(f);
    free(buf);
    lin_parse_error_set(err, 0, "%s", rc == LIN_ELIMIT ? "file too large" : lin_strerror(rc));
    return rc;
}

int lin_history_read_file(enum lin_format format, const char *path,
                          struct lin_history **history_out, struct lin_parse_error *err)
{
    if (err != NULL) {
        err->file = path != NULL ? path : "(null)";
        err->line = 0;
        err->message[0] = '\0';
    }
    if (path == NULL || history_out == NULL) {
        lin_parse_error_set(err, 0, "invalid arguments");
        return LIN_EINVAL;
    }
    char *buf = NULL;
    size_t size = 0;
    int rc = file_slurp(path, &buf, &size, err);
    if (rc != 0) return rc;
    rc = lin_history_parse(format, buf, size, path, history_out, err);
    free(buf);
    return rc;
}

const struct lin_op *lin_history_ops(const struct lin_history *history, size_t *ops_count_out)
{
    LIN_ASSERT(history != NULL);
    if (ops_count_out != NULL) *ops_count_out = history->ops_count;
    return history->ops;
}

void lin_history_free(struct lin_history *history)
{
    if (history == NULL) return;
    free(history->ops);
    lin_arena_free(&history->arena);
    free(history);
}
