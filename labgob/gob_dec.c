/* labgob decoder API: finding a requested field in the current record (skipping the fields
 * the caller does not ask for), storing typed values, entering and leaving records and
 * arrays, and the generic look-ahead used by dump tools and the fuzzer.
 *
 * A field the message does not hold leaves the destination alone: that is what makes a reused
 * non-zero destination keep a stale value, which labgob warns about (gob_dec_warn.c). Caller
 * misuse is the sticky GOB_EMISUSE / GOB_EORDER, like bad input, never an abort.
 */
#include <string.h>

#include "gob_int.h"

void gob_dec_init(struct gob_dec *d, const uint8_t *buf, size_t len)
{
    memset(d, 0, sizeof(*d));
    d->buf = buf;
    d->len = len;
    if (buf == NULL && len > 0) {
        d->len = 0;
        gob_dec_fail(d, GOB_EMISUSE, 0);
        return;
    }
    if (len == 0) return; /* the empty message: every field absent */
    struct gob_header h;
    if (gob_header_parse(buf, len, &h) != GOB_OK) {
        gob_dec_fail(d, GOB_EHEADER, 0); /* not a whole v2 message: refuse all of it */
        return;
    }
    GOB_ASSERT(h.header_len < len || h.body_len == 0);
    d->pos = h.header_len; /* the body; the sizes are for the model, not the decoder */
}

int gob_dec_err(const struct gob_dec *d)
{
    return d->err;
}

size_t gob_dec_pos(const struct gob_dec *d)
{
    return d->pos;
}

int gob_dec_finish(struct gob_dec *d)
{
    if (d->err != GOB_OK) return d->err;
    if (d->depth != 0) {
        gob_dec_fail(d, GOB_EMISUSE, d->pos); /* a record or array was not closed */
        return d->err;
    }
    /* Unknown trailing fields are skipped, as gob ignores fields the receiver lacks; anything
     * that is not a well-formed field is an error. Each round consumes at least two bytes. */
    size_t rounds_max = d->len - d->pos + 1;
    for (size_t round = 0; round < rounds_max; round++) {
        if (!gob_dec_peek_key(d)) return d->err;
        if (d->peek_end) return GOB_OK;
        d->peek_valid = false;
        if (!gob_dec_skip_value(d, (enum gob_type)d->peek_type)) return d->err;
    }
    GOB_ASSERT(false); /* unreachable: the input would have ended */
    return d->err;
}

/* Looks for `field` of `type` in the current record. True when it is there: its key is then
 * consumed and the caller reads the value. False when it is absent or on error. */
static bool dec_find(struct gob_dec *d, uint32_t field, enum gob_type type)
{
    if (d->err != GOB_OK) return false;
    struct gob_dec_frame *f = &d->frames[d->depth];
    if (f->is_array || field == 0) {
        gob_dec_fail(d, GOB_EMISUSE, d->pos);
        return false;
    }
    if (field <= f->field_asked) {
        gob_dec_fail(d, GOB_EORDER, d->pos);
        return false;
    }
    f->field_asked = field;
    /* Each skipped field takes at least two bytes, so this bounds the loop. */
    size_t rounds_max = d->len - d->pos + 1;
    for (size_t round = 0; round < rounds_max; round++) {
        if (!gob_dec_peek_key(d) || d->peek_end || d->peek_field > field)
            return false; /* error, or absent (the peeked key stays for a later field) */
        if (d->peek_field == field && d->peek_type != (uint8_t)type) {
            gob_dec_fail(d, GOB_EWRONGTYPE, d->pos);
            return false;
        }
        d->peek_valid = false;
        if (d->peek_field == field) return true;
        if (!gob_dec_skip_value(d, (enum gob_type)d->peek_type))
            return false; /* a field the caller does not know */
    }
    GOB_ASSERT(false);
    return false;
}

void gob_get_uint(struct gob_dec *d, uint32_t field, uint64_t *out)
{
    if (d->err == GOB_OK && *out != 0) gob_dec_note_nondefault(d, field);
    uint64_t v = 0;
    const uint8_t *p = NULL;
    if (dec_find(d, field, GOB_UINT) && gob_dec_read_scalar(d, GOB_UINT, &v, &p)) *out = v;
}

void gob_get_int(struct gob_dec *d, uint32_t field, int64_t *out)
{
    if (d->err == GOB_OK && *out != 0) gob_dec_note_nondefault(d, field);
    uint64_t v = 0;
    const uint8_t *p = NULL;
    if (dec_find(d, field, GOB_INT) && gob_dec_read_scalar(d, GOB_INT, &v, &p))
        *out = gob_zigzag_decode(v);
}

void gob_get_bool(struct gob_dec *d, uint32_t field, bool *out)
{
    if (d->err == GOB_OK && *out) gob_dec_note_nondefault(d, field);
    uint64_t v = 0;
    const uint8_t *p = NULL;
    if (dec_find(d, field, GOB_BOOL) && gob_dec_read_scalar(d, GOB_BOOL, &v, &p)) *out = v == 1;
}

void gob_get_bytes(struct gob_dec *d, uint32_t field, const uint8_t **p, size_t *n)
{
    if (d->err == GOB_OK && (*p != NULL || *n != 0)) gob_dec_note_nondefault(d, field);
    uint64_t v = 0;
    const uint8_t *view = NULL;
    if (dec_find(d, field, GOB_BYTES) && gob_dec_read_scalar(d, GOB_BYTES, &v, &view)) {
        *p = view;
        *n = (size_t)v;
    }
}

void gob_get_iface(struct gob_dec *d, uint32_t field, const uint8_t **p, size_t *n)
{
    gob_get_bytes(d, field, p, n); /* an interface travels as the bytes of its message */
}

/* A malloc'd NUL-terminated copy of n bytes; GOB_EBADVALUE when they hold a NUL (the C
 * string would silently be shorter than what was sent). */
static char *dec_str_copy(struct gob_dec *d, const uint8_t *p, size_t n, size_t at)
{
    if (n > 0 && memchr(p, 0, n) != NULL) {
        gob_dec_fail(d, GOB_EBADVALUE, at);
        return NULL;
    }
    char *s = malloc(n + 1);
    if (s == NULL) {
        gob_dec_fail(d, GOB_ENOMEM, at);
        return NULL;
    }
    if (n > 0) memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

void gob_get_str(struct gob_dec *d, uint32_t field, char **out)
{
    if (d->err == GOB_OK && *out != NULL) gob_dec_note_nondefault(d, field);
    uint64_t n = 0;
    const uint8_t *view = NULL;
    if (dec_find(d, field, GOB_BYTES)) {
        size_t at = d->pos;
        if (!gob_dec_read_scalar(d, GOB_BYTES, &n, &view)) return;
        char *s = dec_str_copy(d, view, (size_t)n, at);
        if (s != NULL) *out = s;
        return;
    }
    if (d->err == GOB_OK && *out == NULL) {
        *out = dec_str_copy(d, NULL, 0, d->pos); /* absent: "" rather than NULL */
    }
}

bool gob_get_record_begin(struct gob_dec *d, uint32_t field)
{
    if (!dec_find(d, field, GOB_RECORD)) return false;
    return gob_dec_push(d, false, GOB_RECORD, 0, d->pos);
}

void gob_get_record_end(struct gob_dec *d)
{
    if (d->err != GOB_OK) return;
    if (d->depth == 0 || d->frames[d->depth].is_array) {
        gob_dec_fail(d, GOB_EMISUSE, d->pos);
        return;
    }
    gob_dec_unwind_to(d, d->depth - 1); /* skips the fields not read */
}

/* Reads an array header whose key or element slot was consumed, checks the element type,
 * and enters the array when it is not empty. Returns the count (0 on error). */
static uint64_t dec_array_enter(struct gob_dec *d, enum gob_type elem_type)
{
    size_t at = d->pos;
    uint8_t wire_type = 0;
    uint64_t count = 0;
    if (!gob_dec_read_array_head(d, &wire_type, &count)) return 0;
    if (wire_type != (uint8_t)elem_type) {
        gob_dec_fail(d, GOB_EWRONGTYPE, at);
        return 0;
    }
    if (count == 0 || !gob_dec_push(d, true, wire_type, count, at)) return 0;
    return count;
}

uint64_t gob_get_array_begin(struct gob_dec *d, uint32_t field, enum gob_type elem_type)
{
    if (d->err != GOB_OK) return 0;
    if (!gob_type_valid((uint64_t)elem_type)) {
        gob_dec_fail(d, GOB_EMISUSE, d->pos);
        return 0;
    }
    if (!dec_find(d, field, GOB_ARRAY)) return 0;
    return dec_array_enter(d, elem_type);
}

void gob_get_array_end(struct gob_dec *d)
{
    if (d->err != GOB_OK) return;
    if (d->depth == 0 || !d->frames[d->depth].is_array) {
        gob_dec_fail(d, GOB_EMISUSE, d->pos);
        return;
    }
    gob_dec_unwind_to(d, d->depth - 1); /* skips elements not read */
}

/* Checks that an element of `type` is next in the current array and counts it. */
static bool dec_elem(struct gob_dec *d, enum gob_type type)
{
    if (d->err != GOB_OK) return false;
    struct gob_dec_frame *f = &d->frames[d->depth];
    if (!f->is_array || f->elems_left == 0 || f->elem_type != (uint8_t)type) {
        gob_dec_fail(d, GOB_EMISUSE, d->pos);
        return false;
    }
    GOB_ASSERT(d->depth > 0);
    f->elems_left--;
    return true;
}

void gob_get_elem_uint(struct gob_dec *d, uint64_t *out)
{
    uint64_t v = 0;
    const uint8_t *p = NULL;
    if (dec_elem(d, GOB_UINT) && gob_dec_read_scalar(d, GOB_UINT, &v, &p)) *out = v;
}

void gob_get_elem_int(struct gob_dec *d, int64_t *out)
{
    uint64_t v = 0;
    const uint8_t *p = NULL;
    if (dec_elem(d, GOB_INT) && gob_dec_read_scalar(d, GOB_INT, &v, &p))
        *out = gob_zigzag_decode(v);
}

void gob_get_elem_bool(struct gob_dec *d, bool *out)
{
    uint64_t v = 0;
    const uint8_t *p = NULL;
    if (dec_elem(d, GOB_BOOL) && gob_dec_read_scalar(d, GOB_BOOL, &v, &p)) *out = v == 1;
}

void gob_get_elem_bytes(struct gob_dec *d, const uint8_t **p, size_t *n)
{
    uint64_t v = 0;
    const uint8_t *view = NULL;
    if (dec_elem(d, GOB_BYTES) && gob_dec_read_scalar(d, GOB_BYTES, &v, &view)) {
        *p = view;
        *n = (size_t)v;
    }
}

void gob_get_elem_iface(struct gob_dec *d, const uint8_t **p, size_t *n)
{
    gob_get_elem_bytes(d, p, n);
}

void gob_get_elem_record_begin(struct gob_dec *d)
{
    if (dec_elem(d, GOB_RECORD)) gob_dec_push(d, false, GOB_RECORD, 0, d->pos);
}

uint64_t gob_get_elem_array_begin(struct gob_dec *d, enum gob_type elem_type)
{
    if (!dec_elem(d, GOB_ARRAY)) return 0;
    return dec_array_enter(d, elem_type);
}

/* The element type of the array header at pos, read ahead without consuming it. */
static bool dec_look_elem_type(struct gob_dec *d, enum gob_type *elem_type)
{
    uint64_t type = 0;
    size_t used = 0;
    if (!gob_dec_look_uvarint(d, &type, &used)) return false;
    if (!gob_type_valid(type)) {
        gob_dec_fail(d, GOB_EBADKEY, d->pos);
        return false;
    }
    *elem_type = (enum gob_type)type;
    return true;
}

bool gob_dec_next(struct gob_dec *d, uint32_t *field, enum gob_type *type, enum gob_type *elem_type)
{
    if (d->err != GOB_OK) return false;
    struct gob_dec_frame *f = &d->frames[d->depth];
    if (f->is_array) {
        if (f->elems_left == 0) return false;
        *field = 0;
        *type = (enum gob_type)f->elem_type;
    } else {
        if (!gob_dec_peek_key(d) || d->peek_end) return false;
        *field = d->peek_field;
        *type = (enum gob_type)d->peek_type;
    }
    *elem_type = *type;
    if (*type == GOB_ARRAY) return dec_look_elem_type(d, elem_type);
    return true;
}
