/* labgob encoder: owns the output buffer and the stack of open records and arrays, and feeds
 * every put to the gob model (gob_model.c) so the header can carry the message's sizes.
 *
 * Layout of buf: GOB_HEADER_MAX bytes reserved for the header, then the body. The header is
 * only written when the message is read (gob_enc_bytes), right-aligned against the body, so
 * puts never move bytes.
 *
 * Invariants: buf == NULL iff cap == 0, and then len == 0; otherwise GOB_HEADER_MAX <= len <=
 * cap and the body (len - GOB_HEADER_MAX bytes) is at most GOB_MESSAGE_MAX; depth <=
 * GOB_DEPTH_MAX; frames[0] is the implicit top-level record. The first error sticks: every
 * later call is a no-op and gob_enc_finish reports it. Caller misuse becomes GOB_EMISUSE or
 * GOB_EORDER, never an abort, because a bad encode must fail the one RPC, not the run.
 */
#include <string.h>

#include "gob_int.h"

#define GOB_ENC_CAP_MIN 256u

_Static_assert(GOB_ENC_CAP_MIN >= GOB_HEADER_MAX, "the first allocation holds a header");
_Static_assert((uint64_t)GOB_MESSAGE_MAX + GOB_HEADER_MAX < SIZE_MAX / 2,
               "buffer growth must not overflow size_t");

void gob_enc_init(struct gob_enc *e)
{
    memset(e, 0, sizeof(*e));
}

void gob_enc_free(struct gob_enc *e)
{
    free(e->buf);
    gob_enc_init(e);
}

/* A new Go encoder for the model: no type sent yet. The shape table is emptied by its count
 * (only shapes[0 .. shapes_count) are ever read), not cleared: a reset starts every message. */
static void model_reset(struct gob_model *m)
{
    m->desc_bytes = 0;
    m->stream_bytes = 0;
    m->first_type = 0;
    m->first_bytes = 0;
    m->run_count = 0;
    m->run_bytes = 0;
    m->run_desc_bytes = 0;
    m->shapes_count = 0;
    m->shapes_overflow_count = 0;
}

void gob_enc_reset(struct gob_enc *e)
{
    e->len = e->buf != NULL ? GOB_HEADER_MAX : 0;
    e->err = GOB_OK;
    e->depth = 0;
    e->marks = NULL;
    e->marks_cap = 0;
    e->marks_count = 0;
    e->capture = NULL;
    e->model_gen++;
    e->header_n = 0;
    memset(&e->frames[0], 0, sizeof(e->frames[0]));
    model_reset(&e->model);
}

int gob_enc_finish(const struct gob_enc *e)
{
    if (e->err != GOB_OK) return e->err;
    if (e->depth != 0) return GOB_EMISUSE; /* a record or array was left open */
    GOB_ASSERT(gob_enc_body_len(e) <= GOB_MESSAGE_MAX);
    return GOB_OK;
}

size_t gob_enc_body_len(const struct gob_enc *e)
{
    GOB_ASSERT(e->buf == NULL || e->len >= GOB_HEADER_MAX);
    return e->buf != NULL ? e->len - GOB_HEADER_MAX : 0;
}

/* Something was put (even if only zero values, which write no body bytes). */
static bool enc_has_message(const struct gob_enc *e)
{
    return e->buf != NULL && (e->frames[0].model.puts > 0 || gob_enc_body_len(e) > 0);
}

/* The message's header, from the cache when nothing it depends on changed since it was
 * written (callers read gob_enc_bytes and gob_enc_len of the same message, often twice). */
static const uint8_t *enc_header(const struct gob_enc *e, size_t *n)
{
    /* The cache is not part of the encoder's logical state (const). */
    struct gob_enc *cache = (struct gob_enc *)e;
    if (e->header_n == 0 || e->header_gen != e->model_gen || e->header_at_len != e->len) {
        struct gob_header h;
        gob_model_header(e, &h);
        size_t written = gob_header_write(&h, cache->header);
        GOB_ASSERT(written > 0 && written <= GOB_HEADER_MAX);
        cache->header_n = (uint8_t)written;
        cache->header_gen = e->model_gen;
        cache->header_at_len = e->len;
    }
    *n = e->header_n;
    return e->header;
}

const uint8_t *gob_enc_bytes(const struct gob_enc *e)
{
    /* Never NULL, so callers may pass it to memcpy even for an empty message. */
    static const uint8_t empty[1] = {0};
    if (!enc_has_message(e)) return empty;
    size_t n = 0;
    const uint8_t *header = enc_header(e, &n);
    /* The bytes are not part of the encoder's logical state (const): only the reserved
     * space in front of the body is written. */
    uint8_t *at = e->buf + GOB_HEADER_MAX - n;
    memcpy(at, header, n);
    return at;
}

size_t gob_enc_len(const struct gob_enc *e)
{
    if (!enc_has_message(e)) return 0;
    size_t n = 0;
    enc_header(e, &n);
    return n + gob_enc_body_len(e);
}

uint8_t *gob_enc_take(struct gob_enc *e, size_t *len)
{
    size_t n = gob_enc_len(e);
    uint8_t *buf = NULL;
    if (n == 0) {
        buf = calloc(1, 1); /* an empty message is still a buffer the caller can free */
    } else {
        const uint8_t *at = gob_enc_bytes(e);
        buf = e->buf;
        memmove(buf, at, n); /* header and body to the front of the allocation */
        e->buf = NULL;
        e->cap = 0;
    }
    *len = buf != NULL ? n : 0;
    gob_enc_reset(e);
    return buf;
}

void gob_enc_marks(struct gob_enc *e, struct gob_mark *marks, size_t cap)
{
    e->marks = cap > 0 ? marks : NULL;
    e->marks_cap = cap;
    e->marks_count = 0;
}

static size_t enc_size(const struct gob_enc *e, int which)
{
    if (!enc_has_message(e)) return 0;
    struct gob_header h;
    gob_model_header(e, &h);
    uint64_t v = which == 0 ? h.rpc_bytes : which == 1 ? h.stream_bytes : h.iface_bytes;
    return v > (uint64_t)SIZE_MAX ? SIZE_MAX : (size_t)v;
}

size_t gob_enc_size_rpc(const struct gob_enc *e)
{
    return enc_size(e, 0);
}

size_t gob_enc_size_stream(const struct gob_enc *e)
{
    return enc_size(e, 1);
}

size_t gob_enc_size_iface(const struct gob_enc *e)
{
    return enc_size(e, 2);
}

void gob_enc_fail(struct gob_enc *e, int err)
{
    GOB_ASSERT(err != GOB_OK);
    if (e->err == GOB_OK) e->err = err;
}

bool gob_enc_reserve(struct gob_enc *e, size_t n)
{
    size_t body = gob_enc_body_len(e);
    if (n > GOB_MESSAGE_MAX - body) {
        gob_enc_fail(e, GOB_ENOMEM);
        return false;
    }
    size_t need = GOB_HEADER_MAX + body + n;
    if (e->buf != NULL && need <= e->cap) return true;
    size_t cap = e->cap < GOB_ENC_CAP_MIN ? GOB_ENC_CAP_MIN : e->cap;
    while (cap < need)
        cap *= 2; /* bounded: need <= GOB_MESSAGE_MAX + GOB_HEADER_MAX < SIZE_MAX / 2 */
    uint8_t *buf = realloc(e->buf, cap);
    if (buf == NULL) {
        gob_enc_fail(e, GOB_ENOMEM);
        return false;
    }
    if (e->buf == NULL) e->len = GOB_HEADER_MAX; /* the header space comes first */
    e->buf = buf;
    e->cap = cap;
    return true;
}

void gob_enc_put_raw(struct gob_enc *e, const void *p, size_t n)
{
    if (n == 0 || !gob_enc_reserve(e, n)) return;
    memcpy(e->buf + e->len, p, n);
    e->len += n;
}

void gob_enc_put_uvarint(struct gob_enc *e, uint64_t v)
{
    /* Straight into the buffer when a whole varint fits (the common case, every key). */
    if (e->buf != NULL && e->cap - e->len >= GOB_VARINT_LEN_MAX &&
        gob_enc_body_len(e) + GOB_VARINT_LEN_MAX <= GOB_MESSAGE_MAX) {
        e->len += gob_uvarint_put(e->buf + e->len, v);
        return;
    }
    uint8_t tmp[GOB_VARINT_LEN_MAX];
    size_t n = gob_uvarint_put(tmp, v);
    gob_enc_put_raw(e, tmp, n);
}

void gob_enc_model_put(struct gob_enc *e, enum gob_kind kind, bool zero, uint64_t value_bytes,
                       uint64_t shape)
{
    if (e->err != GOB_OK) return;
    /* A message of zero values writes no body, yet has a header: make sure it has room. */
    if (e->buf == NULL && !gob_enc_reserve(e, 0)) return;
    gob_model_put(e, kind, zero, value_bytes, shape);
}

enum gob_slot gob_enc_field_key(struct gob_enc *e, uint32_t field, enum gob_type type, bool zero)
{
    if (e->err != GOB_OK) return GOB_SLOT_FAIL;
    struct gob_enc_frame *f = &e->frames[e->depth];
    if (f->is_array || field == 0) {
        gob_enc_fail(e, GOB_EMISUSE); /* fields live in records; elements use gob_put_elem_* */
        return GOB_SLOT_FAIL;
    }
    if (field <= f->field_asked) {
        gob_enc_fail(e, GOB_EORDER);
        return GOB_SLOT_FAIL;
    }
    f->field_asked = field;
    if (zero) return GOB_SLOT_ZERO;
    GOB_ASSERT(field > f->field_last);
    gob_enc_put_uvarint(e, gob_key_make(field - f->field_last, type));
    f->field_last = field;
    return e->err == GOB_OK ? GOB_SLOT_WRITE : GOB_SLOT_FAIL;
}

bool gob_enc_elem(struct gob_enc *e, enum gob_type type)
{
    if (e->err != GOB_OK) return false;
    struct gob_enc_frame *f = &e->frames[e->depth];
    if (!f->is_array || f->elem_type != (uint8_t)type || f->elems_left == 0) {
        gob_enc_fail(e, GOB_EMISUSE);
        return false;
    }
    f->elems_left--;
    return true;
}

void gob_enc_push(struct gob_enc *e, enum gob_role role, enum gob_type elem_type, uint64_t count)
{
    if (e->depth >= GOB_DEPTH_MAX) {
        gob_enc_fail(e, GOB_EDEPTH);
        return;
    }
    if (e->buf == NULL && !gob_enc_reserve(e, 0)) return; /* an empty array writes nothing */
    bool is_array = role == GOB_ROLE_ARRAY || role == GOB_ROLE_MAP;
    e->depth++;
    struct gob_enc_frame *f = &e->frames[e->depth];
    memset(f, 0, sizeof(*f));
    f->is_array = is_array ? 1u : 0u;
    f->elem_type = (uint8_t)elem_type;
    f->elems_left = is_array ? count : 0;
    gob_model_open(e, role);
}

/* ------------------------------------------------------------ scalars */

/* A scalar field: key and value unless zero, then the model. */
static void put_scalar(struct gob_enc *e, uint32_t field, enum gob_type type, bool zero,
                       uint64_t wire, uint64_t value_bytes)
{
    enum gob_slot slot = gob_enc_field_key(e, field, type, zero);
    if (slot == GOB_SLOT_FAIL) return;
    if (slot == GOB_SLOT_WRITE) gob_enc_put_uvarint(e, wire);
    gob_enc_model_put(e, (enum gob_kind)type, zero, value_bytes, (uint64_t)type);
}

static void put_elem_scalar(struct gob_enc *e, enum gob_type type, uint64_t wire,
                            uint64_t value_bytes)
{
    if (!gob_enc_elem(e, type)) return;
    gob_enc_put_uvarint(e, wire);
    gob_enc_model_put(e, (enum gob_kind)type, wire == 0, value_bytes, (uint64_t)type);
}

void gob_put_uint(struct gob_enc *e, uint32_t field, uint64_t v)
{
    put_scalar(e, field, GOB_UINT, v == 0, v, gob_model_uint_len(v));
}

void gob_put_int(struct gob_enc *e, uint32_t field, int64_t v)
{
    uint64_t z = gob_zigzag_encode(v); /* gob's int is the same zig-zag, as a gob uint */
    put_scalar(e, field, GOB_INT, v == 0, z, gob_model_uint_len(z));
}

void gob_put_bool(struct gob_enc *e, uint32_t field, bool v)
{
    put_scalar(e, field, GOB_BOOL, !v, 1, 1);
}

void gob_put_elem_uint(struct gob_enc *e, uint64_t v)
{
    put_elem_scalar(e, GOB_UINT, v, gob_model_uint_len(v));
}

void gob_put_elem_int(struct gob_enc *e, int64_t v)
{
    uint64_t z = gob_zigzag_encode(v);
    put_elem_scalar(e, GOB_INT, z, gob_model_uint_len(z));
}

void gob_put_elem_bool(struct gob_enc *e, bool v)
{
    put_elem_scalar(e, GOB_BOOL, v ? 1u : 0u, 1);
}

/* ------------------------------------------------------------ bytes */

bool gob_enc_bytes_ok(struct gob_enc *e, const void *p, size_t n)
{
    if (e->err != GOB_OK) return false;
    if (p == NULL && n > 0) {
        gob_enc_fail(e, GOB_EMISUSE);
        return false;
    }
    if (n > GOB_MESSAGE_MAX) {
        gob_enc_fail(e, GOB_ENOMEM);
        return false;
    }
    return true;
}

enum gob_slot gob_enc_bytes_field(struct gob_enc *e, uint32_t field, const void *p, size_t n)
{
    /* The length check comes before the key so an oversized value writes nothing at all. */
    if (!gob_enc_bytes_ok(e, p, n)) return GOB_SLOT_FAIL;
    enum gob_slot slot = gob_enc_field_key(e, field, GOB_BYTES, n == 0);
    if (slot == GOB_SLOT_WRITE) {
        gob_enc_put_uvarint(e, n);
        gob_enc_put_raw(e, p, n);
    }
    return e->err == GOB_OK ? slot : GOB_SLOT_FAIL;
}

bool gob_enc_bytes_elem(struct gob_enc *e, const void *p, size_t n)
{
    if (!gob_enc_bytes_ok(e, p, n) || !gob_enc_elem(e, GOB_BYTES)) return false;
    gob_enc_put_uvarint(e, n);
    gob_enc_put_raw(e, p, n);
    return e->err == GOB_OK;
}

void gob_put_bytes(struct gob_enc *e, uint32_t field, const void *p, size_t n)
{
    if (gob_enc_bytes_field(e, field, p, n) == GOB_SLOT_FAIL) return;
    uint64_t value_bytes = gob_sat_add(gob_model_uint_len(n), n);
    gob_enc_model_put(e, GOB_KIND_BYTES, n == 0, value_bytes, GOB_KIND_BYTES);
}

void gob_put_str(struct gob_enc *e, uint32_t field, const char *s)
{
    gob_put_bytes(e, field, s, s == NULL ? 0 : strlen(s));
}

void gob_put_elem_bytes(struct gob_enc *e, const void *p, size_t n)
{
    if (!gob_enc_bytes_elem(e, p, n)) return;
    uint64_t value_bytes = gob_sat_add(gob_model_uint_len(n), n);
    gob_enc_model_put(e, GOB_KIND_BYTES, n == 0, value_bytes, GOB_KIND_BYTES);
}
