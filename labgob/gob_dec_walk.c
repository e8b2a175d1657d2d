/* labgob decoder cursor: reading keys, array headers and scalar values, entering and leaving
 * records and arrays, and skipping whatever the caller does not ask for.
 *
 * Skipping never recurses: a nested record or array is entered by pushing a frame on the
 * decoder's own stack (at most GOB_DEPTH_MAX deep) and the skip loop steps until the stack is
 * back at the depth it started from. Every step either consumes input or pops a frame, so the
 * loop is bounded by the bytes left (see unwind_steps_max).
 */
#include <string.h>

#include "gob_int.h"

bool gob_dec_peek_key(struct gob_dec *d)
{
    if (d->err != GOB_OK) return false;
    struct gob_dec_frame *f = &d->frames[d->depth];
    GOB_ASSERT(!f->is_array);
    if (d->peek_valid) return true;
    size_t at = d->pos;
    if (at == d->len && d->depth == 0) {
        d->peek_valid = true; /* the top level ends with the input */
        d->peek_end = true;
        return true;
    }
    uint64_t key = 0;
    if (!gob_dec_read_uvarint(d, &key))
        return false; /* includes a nested record cut off before its end key */
    if (key == 0) {
        if (d->depth == 0) {
            gob_dec_fail(d, GOB_EBADKEY, at); /* the top level has no end marker */
            return false;
        }
        d->peek_valid = true;
        d->peek_end = true;
        return true;
    }
    uint64_t type = key & GOB_TYPE_MASK;
    uint64_t delta = key >> GOB_TYPE_BITS;
    if (delta == 0 || !gob_type_valid(type) || key > GOB_KEY_MAX ||
        delta > (uint64_t)(UINT32_MAX - f->field_last)) {
        gob_dec_fail(d, GOB_EBADKEY, at);
        return false;
    }
    f->field_last += (uint32_t)delta;
    d->peek_field = f->field_last;
    d->peek_type = (uint8_t)type;
    d->peek_valid = true;
    d->peek_end = false;
    return true;
}

bool gob_dec_push(struct gob_dec *d, bool is_array, uint8_t elem_type, uint64_t count, size_t at)
{
    if (d->err != GOB_OK) return false;
    GOB_ASSERT(!d->peek_valid); /* the parent's key was consumed before its value */
    if (d->depth >= GOB_DEPTH_MAX) {
        gob_dec_fail(d, GOB_EDEPTH, at);
        return false;
    }
    if (is_array) GOB_ASSERT(count > 0 && count <= d->len - d->pos);
    d->depth++;
    struct gob_dec_frame *f = &d->frames[d->depth];
    memset(f, 0, sizeof(*f));
    f->is_array = is_array ? 1u : 0u;
    f->elem_type = elem_type;
    f->elems_left = is_array ? count : 0;
    return true;
}

static void dec_pop(struct gob_dec *d)
{
    GOB_ASSERT(d->depth > 0);
    d->depth--;
    d->peek_valid = false;
    d->peek_end = false;
}

bool gob_dec_read_array_head(struct gob_dec *d, uint8_t *elem_type, uint64_t *count)
{
    size_t at = d->pos;
    uint64_t type = 0;
    if (!gob_dec_read_uvarint(d, &type)) return false;
    if (!gob_type_valid(type)) {
        gob_dec_fail(d, GOB_EBADKEY, at);
        return false;
    }
    at = d->pos;
    if (!gob_dec_read_uvarint(d, count)) return false;
    /* Every element takes at least one byte, so a larger count cannot be real; this also
     * bounds every loop over the elements by the input size. */
    if (*count > d->len - d->pos) {
        gob_dec_fail(d, GOB_ETOOBIG, at);
        return false;
    }
    *elem_type = (uint8_t)type;
    return true;
}

bool gob_dec_read_scalar(struct gob_dec *d, enum gob_type type, uint64_t *v, const uint8_t **p)
{
    GOB_ASSERT(type == GOB_UINT || type == GOB_INT || type == GOB_BOOL || type == GOB_BYTES);
    size_t at = d->pos;
    if (!gob_dec_read_uvarint(d, v)) return false;
    if (type == GOB_BOOL && *v > 1) {
        gob_dec_fail(d, GOB_EBADVALUE, at);
        return false;
    }
    if (type == GOB_BYTES) {
        if (*v > d->len - d->pos) {
            gob_dec_fail(d, GOB_ETOOBIG, at);
            return false;
        }
        *p = d->buf + d->pos;
        d->pos += (size_t)*v;
    }
    return true;
}

/* Reads the value of `type` whose key (or element slot) was just consumed: a scalar is read
 * whole, a record or a non-empty array is entered (a frame is pushed). */
static bool dec_begin_value(struct gob_dec *d, enum gob_type type)
{
    uint64_t v = 0;
    const uint8_t *p = NULL;
    uint8_t elem_type = 0;
    switch (type) {
    case GOB_RECORD:
        return gob_dec_push(d, false, GOB_RECORD, 0, d->pos);
    case GOB_ARRAY: {
        size_t at = d->pos;
        if (!gob_dec_read_array_head(d, &elem_type, &v)) return false;
        return v == 0 || gob_dec_push(d, true, elem_type, v, at);
    }
    default:
        return gob_dec_read_scalar(d, type, &v, &p);
    }
}

/* One step of a skip at the innermost frame: the next element or field is read (or entered),
 * or the frame ends and is popped. */
static bool dec_step(struct gob_dec *d)
{
    GOB_ASSERT(d->depth > 0);
    struct gob_dec_frame *f = &d->frames[d->depth];
    if (f->is_array) {
        if (f->elems_left == 0) {
            dec_pop(d);
            return true;
        }
        f->elems_left--;
        return dec_begin_value(d, (enum gob_type)f->elem_type);
    }
    if (!gob_dec_peek_key(d)) return false;
    bool end = d->peek_end;
    d->peek_valid = false;
    if (end) {
        dec_pop(d);
        return true;
    }
    return dec_begin_value(d, (enum gob_type)d->peek_type);
}

/* Steps that consume nothing are pops of arrays (each array header took >= 2 bytes) and
 * entries into record elements (each record's end key takes 1 byte), so at most three steps
 * per byte left plus one pop per frame already open. */
static uint64_t unwind_steps_max(const struct gob_dec *d)
{
    return 3u * (uint64_t)(d->len - d->pos) + 2u * (uint64_t)GOB_DEPTH_MAX + 4u;
}

bool gob_dec_unwind_to(struct gob_dec *d, uint32_t target)
{
    GOB_ASSERT(target < d->depth);
    uint64_t steps_max = unwind_steps_max(d);
    for (uint64_t steps = 0; d->depth > target; steps++) {
        GOB_ASSERT(steps < steps_max);
        if (!dec_step(d)) return false;
    }
    GOB_ASSERT(d->depth == target);
    return d->err == GOB_OK;
}

bool gob_dec_skip_value(struct gob_dec *d, enum gob_type type)
{
    GOB_ASSERT(!d->peek_valid);
    uint32_t depth = d->depth;
    if (!dec_begin_value(d, type)) return false;
    if (d->depth > depth) return gob_dec_unwind_to(d, depth);
    return true;
}
