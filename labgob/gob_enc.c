/* labgob encoder: owns the output buffer and the stack of open records and arrays.
 *
 * Invariants: len <= cap <= GOB_MESSAGE_MAX rounded up to the growth step; depth <=
 * GOB_DEPTH_MAX; frames[0] is the implicit top-level record. The first error sticks: every
 * later call is a no-op and gob_enc_finish reports it. Caller misuse becomes GOB_EMISUSE or
 * GOB_EORDER, never an abort, because a bad encode must fail the one RPC, not the run.
 */
#include <string.h>

#include "gob_int.h"

#define GOB_ENC_CAP_MIN 64u

void gob_enc_init(struct gob_enc *e)
{
    memset(e, 0, sizeof(*e));
}

void gob_enc_free(struct gob_enc *e)
{
    free(e->buf);
    gob_enc_init(e);
}

void gob_enc_reset(struct gob_enc *e)
{
    e->len = 0;
    e->err = GOB_OK;
    e->depth = 0;
    memset(&e->frames[0], 0, sizeof(e->frames[0]));
}

int gob_enc_finish(const struct gob_enc *e)
{
    if (e->err != GOB_OK) return e->err;
    if (e->depth != 0) return GOB_EMISUSE; /* a record or array was left open */
    GOB_ASSERT(e->len <= GOB_MESSAGE_MAX);
    return GOB_OK;
}

const uint8_t *gob_enc_bytes(const struct gob_enc *e)
{
    /* Never NULL, so callers may pass it to memcpy even for an empty message. */
    static const uint8_t empty[1] = {0};
    return e->buf != NULL ? e->buf : empty;
}

size_t gob_enc_len(const struct gob_enc *e)
{
    return e->len;
}

uint8_t *gob_enc_take(struct gob_enc *e, size_t *len)
{
    uint8_t *buf = e->buf;
    *len = e->len;
    if (buf == NULL)
        buf = calloc(1, 1); /* an empty message is still a buffer the caller can free */
    e->buf = NULL;
    e->cap = 0;
    gob_enc_reset(e);
    return buf;
}

static void enc_fail(struct gob_enc *e, int err)
{
    GOB_ASSERT(err != GOB_OK);
    if (e->err == GOB_OK) e->err = err;
}

/* Makes room for n more bytes. Fails with GOB_ENOMEM past GOB_MESSAGE_MAX or on OOM. */
static bool enc_reserve(struct gob_enc *e, size_t n)
{
    if (n > GOB_MESSAGE_MAX - e->len) {
        enc_fail(e, GOB_ENOMEM);
        return false;
    }
    size_t need = e->len + n;
    if (need <= e->cap) return true;
    size_t cap = e->cap < GOB_ENC_CAP_MIN ? GOB_ENC_CAP_MIN : e->cap;
    while (cap < need)
        cap *= 2; /* bounded: need <= GOB_MESSAGE_MAX < SIZE_MAX / 2 */
    uint8_t *buf = realloc(e->buf, cap);
    if (buf == NULL) {
        enc_fail(e, GOB_ENOMEM);
        return false;
    }
    e->buf = buf;
    e->cap = cap;
    return true;
}

static void enc_put_raw(struct gob_enc *e, const void *p, size_t n)
{
    if (n == 0 || !enc_reserve(e, n)) return;
    memcpy(e->buf + e->len, p, n);
    e->len += n;
}

static void enc_put_uvarint(struct gob_enc *e, uint64_t v)
{
    uint8_t tmp[GOB_VARINT_LEN_MAX];
    size_t n = gob_uvarint_put(tmp, v);
    enc_put_raw(e, tmp, n);
}

/* Checks that a field may be put here and writes its key unless the value is zero (then the
 * field is left out). Returns true when the caller should write the value. */
static bool enc_field_key(struct gob_enc *e, uint32_t field, enum gob_type type, bool zero)
{
    if (e->err != GOB_OK) return false;
    struct gob_enc_frame *f = &e->frames[e->depth];
    if (f->is_array || field == 0) {
        enc_fail(e, GOB_EMISUSE); /* fields live in records; elements use gob_put_elem_* */
        return false;
    }
    if (field <= f->field_asked) {
        enc_fail(e, GOB_EORDER);
        return false;
    }
    f->field_asked = field;
    if (zero) return false;
    GOB_ASSERT(field > f->field_last);
    enc_put_uvarint(e, gob_key_make(field - f->field_last, type));
    f->field_last = field;
    return e->err == GOB_OK;
}

/* Checks that an element of `type` may be written in the current array and counts it. */
static bool enc_elem(struct gob_enc *e, enum gob_type type)
{
    if (e->err != GOB_OK) return false;
    struct gob_enc_frame *f = &e->frames[e->depth];
    if (!f->is_array || f->elem_type != (uint8_t)type || f->elems_left == 0) {
        enc_fail(e, GOB_EMISUSE);
        return false;
    }
    f->elems_left--;
    return true;
}

static void enc_push(struct gob_enc *e, bool is_array, enum gob_type elem_type, uint64_t count)
{
    if (e->depth >= GOB_DEPTH_MAX) {
        enc_fail(e, GOB_EDEPTH);
        return;
    }
    e->depth++;
    struct gob_enc_frame *f = &e->frames[e->depth];
    memset(f, 0, sizeof(*f));
    f->is_array = is_array ? 1u : 0u;
    f->elem_type = (uint8_t)elem_type;
    f->elems_left = is_array ? count : 0;
}

void gob_put_uint(struct gob_enc *e, uint32_t field, uint64_t v)
{
    if (enc_field_key(e, field, GOB_UINT, v == 0)) enc_put_uvarint(e, v);
}

void gob_put_int(struct gob_enc *e, uint32_t field, int64_t v)
{
    if (enc_field_key(e, field, GOB_INT, v == 0)) enc_put_uvarint(e, gob_zigzag_encode(v));
}

void gob_put_bool(struct gob_enc *e, uint32_t field, bool v)
{
    if (enc_field_key(e, field, GOB_BOOL, !v)) enc_put_uvarint(e, 1);
}

/* The length check comes before the key so an oversized value writes nothing at all. */
static bool enc_bytes_ok(struct gob_enc *e, const void *p, size_t n)
{
    if (e->err != GOB_OK) return false;
    if (p == NULL && n > 0) {
        enc_fail(e, GOB_EMISUSE);
        return false;
    }
    if (n > GOB_MESSAGE_MAX) {
        enc_fail(e, GOB_ENOMEM);
        return false;
    }
    return true;
}

void gob_put_bytes(struct gob_enc *e, uint32_t field, const void *p, size_t n)
{
    if (!enc_bytes_ok(e, p, n)) return;
    if (enc_field_key(e, field, GOB_BYTES, n == 0)) {
        enc_put_uvarint(e, n);
        enc_put_raw(e, p, n);
    }
}

void gob_put_str(struct gob_enc *e, uint32_t field, const char *s)
{
    gob_put_bytes(e, field, s, s == NULL ? 0 : strlen(s));
}

void gob_put_record_begin(struct gob_enc *e, uint32_t field)
{
    if (e->err != GOB_OK) return;
    if (e->frames[e->depth].is_array) {
        if (field != 0) {
            enc_fail(e, GOB_EMISUSE); /* an element has no field number */
            return;
        }
        if (!enc_elem(e, GOB_RECORD)) return;
    } else if (!enc_field_key(e, field, GOB_RECORD, false)) {
        return; /* records are always written, even empty, as gob does */
    }
    enc_push(e, false, GOB_RECORD, 0);
}

void gob_put_record_end(struct gob_enc *e)
{
    if (e->err != GOB_OK) return;
    if (e->depth == 0 || e->frames[e->depth].is_array) {
        enc_fail(e, GOB_EMISUSE);
        return;
    }
    enc_put_uvarint(e, 0); /* key 0 ends a nested record */
    e->depth--;
}

void gob_put_array_begin(struct gob_enc *e, uint32_t field, enum gob_type elem_type, uint64_t count)
{
    if (e->err != GOB_OK) return;
    if (!gob_type_valid((uint64_t)elem_type)) {
        enc_fail(e, GOB_EMISUSE);
        return;
    }
    if (count > GOB_MESSAGE_MAX) {
        enc_fail(e, GOB_ENOMEM); /* every element takes at least one byte */
        return;
    }
    bool write = false;
    if (e->frames[e->depth].is_array) {
        if (field != 0) {
            enc_fail(e, GOB_EMISUSE);
            return;
        }
        write = enc_elem(e, GOB_ARRAY); /* an element array is written even when empty */
    } else {
        write = enc_field_key(e, field, GOB_ARRAY, count == 0);
    }
    if (e->err != GOB_OK) return;
    if (write) {
        enc_put_uvarint(e, (uint64_t)elem_type);
        enc_put_uvarint(e, count);
    }
    enc_push(e, true, elem_type, count);
}

void gob_put_array_end(struct gob_enc *e)
{
    if (e->err != GOB_OK) return;
    struct gob_enc_frame *f = &e->frames[e->depth];
    if (e->depth == 0 || !f->is_array || f->elems_left != 0) {
        enc_fail(e, GOB_EMISUSE); /* fewer elements than announced would corrupt the stream */
        return;
    }
    e->depth--;
}

void gob_put_elem_uint(struct gob_enc *e, uint64_t v)
{
    if (enc_elem(e, GOB_UINT)) enc_put_uvarint(e, v);
}

void gob_put_elem_int(struct gob_enc *e, int64_t v)
{
    if (enc_elem(e, GOB_INT)) enc_put_uvarint(e, gob_zigzag_encode(v));
}

void gob_put_elem_bool(struct gob_enc *e, bool v)
{
    if (enc_elem(e, GOB_BOOL)) enc_put_uvarint(e, v ? 1u : 0u);
}

void gob_put_elem_bytes(struct gob_enc *e, const void *p, size_t n)
{
    if (enc_bytes_ok(e, p, n) && enc_elem(e, GOB_BYTES)) {
        enc_put_uvarint(e, n);
        enc_put_raw(e, p, n);
    }
}
